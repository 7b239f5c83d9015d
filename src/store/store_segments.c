/*
 * store_segments.c - a brand's saved customer segments (segments), keyed
 * brand || id (bid_key), one row a segment: created, updated and the
 * JSON text segment.c owns (name and criteria). The store only bounds
 * the text and checks it is JSON; what the criteria mean is segment.c's.
 *
 * Owns the table segments.
 * It may call store_env.c's runner and snapshot and store_rows.c; it
 * must never call the other late tables' files.
 */
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "sigil/store.h"
#include "sigil/util.h"
#include "store_impl.h"

static int
seg_put(struct store *st, MDB_txn *txn, const void *row)
{
	const struct saved_segment *s = row;
	struct json_row r = { s->brand_id, s->id, s->created, s->updated,
	    s->json };

	return json_row_put(txn, st->segments, &r, NULL, 0);
}

/* Decodes with the JSON malloc'd. */
static int
seg_decode(MDB_val k, MDB_val v, void *out)
{
	struct saved_segment *s = out;
	struct json_row r;
	const uint8_t *extra;
	int rc;

	if ((rc = json_row_decode(k, v, 0, STORE_SEGMENT_MAX, &r,
	    &extra)) != 0)
		return rc;
	memset(s, 0, sizeof(*s));
	s->brand_id = r.brand_id;
	s->id = r.id;
	s->created = r.created;
	s->updated = r.updated;
	s->json = r.json;
	return 0;
}

int
store_segment_add(struct store *st, struct saved_segment *s)
{
	struct saved_segment w;

	if (s == NULL || st->segments_absent ||
	    !json_text_ok(s->json, STORE_SEGMENT_MAX))
		return SIGIL_EINVAL;
	w = *s;
	w.created = w.updated = sigil_now_us();
	return rows_add(st, st->segments, seg_put, &w, w.brand_id, &w.id, s,
	    sizeof(w));
}

static int
seg_update_fn(struct store *st, MDB_txn *txn, void *p)
{
	struct saved_segment *s = p;
	uint8_t kb[8];
	MDB_val k = mval(kb, 8), v;
	int rc;

	bid_key(kb, s->brand_id, s->id);
	if ((rc = mdb_get(txn, st->segments, &k, &v)) != 0)
		return rc;
	if (v.mv_size < JSON_ROW_FIXED)
		return SIGIL_EIO;
	s->created = (int64_t)le64_get(v.mv_data);
	return seg_put(st, txn, s);
}

int
store_segment_update(struct store *st, uint32_t brand_id, uint32_t id,
    const char *json)
{
	struct saved_segment w = { 0 };

	if (st->segments_absent || !json_text_ok(json, STORE_SEGMENT_MAX))
		return SIGIL_EINVAL;
	w.brand_id = brand_id;
	w.id = id;
	w.json = (char *)json;
	w.updated = sigil_now_us();
	return store_write(st, seg_update_fn, &w);
}

static int
seg_del_fn(struct store *st, MDB_txn *txn, void *p)
{
	const uint8_t *kb = p;
	MDB_val k = mval(kb, 8);

	return mdb_del(txn, st->segments, &k, NULL);
}

int
store_segment_del(struct store *st, uint32_t brand_id, uint32_t id)
{
	uint8_t kb[8];

	if (st->segments_absent)
		return SIGIL_ENOTFOUND;
	bid_key(kb, brand_id, id);
	return store_write(st, seg_del_fn, kb);
}

int
store_segment_get(struct store *st, uint32_t brand_id, uint32_t id,
    struct saved_segment *out)
{
	if (st->segments_absent)
		return SIGIL_ENOTFOUND;
	return rows_get_bid(st, st->segments, brand_id, id, seg_decode, out);
}

void
store_segment_clear(struct saved_segment *s)
{
	free(s->json);
	s->json = NULL;
}

struct seg_each {
	int	(*fn)(void *arg, const struct saved_segment *s);
	void	*arg;
	int	err;
};

static int
seg_each_step(MDB_val k, MDB_val v, void *p)
{
	struct seg_each *e = p;
	struct saved_segment s;
	int rc;

	if ((rc = seg_decode(k, v, &s)) != 0) {
		e->err = rc;
		return 1;
	}
	rc = e->fn(e->arg, &s);
	store_segment_clear(&s);
	return rc;
}

int
store_segment_each(struct store *st, uint32_t brand_id,
    int (*fn)(void *arg, const struct saved_segment *s), void *arg)
{
	struct seg_each e = { fn, arg, 0 };
	uint8_t kb[8];
	int rc;

	if (st->segments_absent)
		return 0;
	bid_key(kb, brand_id, 0);
	rc = rows_walk(st, st->segments, kb, 8, 4, seg_each_step, &e);
	if (e.err != 0)
		return e.err;
	return rc < 0 ? rc : 0;
}

/*
 * ---- segment_facts: what the segment criteria read per customer ----
 *
 * Keyed brand BE32 || 'D' || device BE64 || kind || value (the scans of
 * a device linked to a customer: written in the scan's transaction,
 * store_scans.c; an anonymous device costs one read there and nothing
 * is kept for it; when it is linked at a login, its scans among the
 * log's latest are gathered then, segfacts_link) or brand BE32
 * || 'C' || customer BE64 || kind || value (a customer's claims:
 * written in the claim's transaction, store_claims.c; moved by a merge,
 * cut by an erasure). The value is at i64 LE || region u32 LE: the
 * latest scan (SEGF_LAST_SCAN), the latest scan with a region
 * (SEGF_LAST_REGION), and the first time a product was scanned or
 * claimed or a campaign paid (SEGF_SKU_SCANNED, SEGF_SKU_CLAIMED,
 * SEGF_CAMPAIGN: only whether matters, so they are written once).
 */
#define SEGF_VAL_LEN	12
/* A device's scans before its login: looked for among the log's latest
 * SEGF_LOOKBACK records of the last SEGF_LOOKBACK_US (segfacts_link). */
#define SEGF_LOOKBACK		4096
#define SEGF_LOOKBACK_US	(24LL * 3600 * 1000000)
#define SEGF_KEY_MAX	(4 + 1 + 8 + 1 + STORE_NAME_BYTES)

static size_t
segf_key(uint8_t *p, uint32_t brand_id, char who, uint64_t id, int kind,
    const void *val, size_t vlen)
{
	sigil_be32_put(p, brand_id);
	p[4] = (uint8_t)who;
	sigil_be64_put(p + 5, id);
	p[13] = (uint8_t)kind;
	if (vlen)
		memcpy(p + 14, val, vlen);
	return 14 + vlen;
}

/* Puts the fact (latest: only when at is later; else only when new). */
static int
segf_put(struct store *st, MDB_txn *txn, const uint8_t *key, size_t klen,
    int64_t at, uint32_t region, int latest)
{
	uint8_t vb[SEGF_VAL_LEN];
	MDB_val k = mval(key, klen), v;
	int rc = mdb_get(txn, st->segment_facts, &k, &v);

	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	if (rc == 0 && (!latest || (v.mv_size == SEGF_VAL_LEN &&
	    (int64_t)le64_get(v.mv_data) > at)))
		return 0;
	le64_put(vb, (uint64_t)at);
	le32_put(vb + 8, region);
	v = mval(vb, SEGF_VAL_LEN);
	return mdb_put(txn, st->segment_facts, &k, &v, 0);
}

/* The facts of one scan of a device, whoever it belongs to. */
static int
segf_scan_put(struct store *st, MDB_txn *txn, const struct scan_rec *r)
{
	uint8_t kb[SEGF_KEY_MAX];
	struct batch b;
	size_t n;
	int rc;

	n = segf_key(kb, r->brand_id, 'D', r->device, SEGF_LAST_SCAN, NULL, 0);
	if ((rc = segf_put(st, txn, kb, n, r->at, r->region, 1)) != 0)
		return rc;
	if (r->region != 0) {
		n = segf_key(kb, r->brand_id, 'D', r->device, SEGF_LAST_REGION,
		    NULL, 0);
		if ((rc = segf_put(st, txn, kb, n, r->at, r->region, 1)) != 0)
			return rc;
	}
	if (r->batch_id == 0)
		return 0;
	rc = batch_load(st, txn, r->batch_id, &b);
	if (rc == MDB_NOTFOUND || rc == SIGIL_ENOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	n = segf_key(kb, r->brand_id, 'D', r->device, SEGF_SKU_SCANNED, b.sku,
	    strlen(b.sku));
	return segf_put(st, txn, kb, n, r->at, 0, 0);
}

/* A scan's device is a customer's (device_links, store_customers.c's
 * table, read here): 1, 0, or an LMDB code. */
static int
device_linked(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t device)
{
	uint8_t kb[12];
	MDB_val k = mval(kb, 12), v;
	int rc;

	sigil_be32_put(kb, brand_id);
	sigil_be64_put(kb + 4, device);
	rc = mdb_get(txn, st->device_links, &k, &v);
	return rc == 0 ? 1 : rc == MDB_NOTFOUND ? 0 : rc;
}

int
segfacts_scan(struct store *st, MDB_txn *txn, const struct scan_rec *r)
{
	int rc;

	if (st->segments_absent || r->brand_id == 0 || r->device == 0 ||
	    (r->flags & SCAN_BOT))
		return 0;
	if ((rc = device_linked(st, txn, r->brand_id, r->device)) != 1)
		return rc;
	return segf_scan_put(st, txn, r);
}

int
segfacts_link(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t device, int64_t now)
{
	struct scan_rec r;
	uint64_t next;
	int rc;

	if (st->segments_absent || device == 0)
		return 0;
	if ((rc = meta_get(st, txn, meta_key("next_scan"), &next)) != 0)
		return rc;
	for (uint64_t id = next ? next - 1 : 0, seen = 0; id > 0 &&
	    seen < SEGF_LOOKBACK; id--, seen++) {
		rc = scan_load(st, txn, id, &r);
		if (rc == MDB_NOTFOUND || rc == SIGIL_ENOTFOUND)
			continue;
		if (rc != 0)
			return rc;
		if (r.at < now - SEGF_LOOKBACK_US)
			break;
		if (r.device != device || r.brand_id != brand_id ||
		    (r.flags & SCAN_BOT))
			continue;
		if ((rc = segf_scan_put(st, txn, &r)) != 0)
			return rc;
	}
	return 0;
}

int
segfacts_claim(struct store *st, MDB_txn *txn, const struct claim *c)
{
	uint8_t kb[SEGF_KEY_MAX], cid[4];
	struct batch b;
	size_t n;
	int rc;

	if (st->segments_absent || c->customer_id == 0)
		return 0;
	if (c->campaign_id != 0) {
		sigil_be32_put(cid, c->campaign_id);
		n = segf_key(kb, c->brand_id, 'C', c->customer_id, SEGF_CAMPAIGN,
		    cid, 4);
		if ((rc = segf_put(st, txn, kb, n, c->at, 0, 0)) != 0)
			return rc;
	}
	rc = batch_find(st, txn, c->brand_id, c->serial, &b);
	if (rc == MDB_NOTFOUND || rc == SIGIL_ENOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	n = segf_key(kb, c->brand_id, 'C', c->customer_id, SEGF_SKU_CLAIMED,
	    b.sku, strlen(b.sku));
	return segf_put(st, txn, kb, n, c->at, 0, 0);
}

/* The keys of one customer's (or device's) facts, for a move or a cut. */
struct segf_keys {
	uint8_t		(*k)[SEGF_KEY_MAX];
	size_t		*len;
	int64_t		*at;
	size_t		n, cap;
};

static int
segf_collect(MDB_txn *txn, MDB_dbi dbi, const uint8_t *prefix,
    struct segf_keys *out)
{
	MDB_cursor *cur;
	MDB_val k = mval(prefix, 13), v;
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = mdb_cursor_open(txn, dbi, &cur)) != 0)
		return rc;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size < 14 || k.mv_size > SEGF_KEY_MAX ||
		    memcmp(k.mv_data, prefix, 13) != 0)
			break;
		if (out->n == out->cap) {
			size_t cap = out->cap ? out->cap * 2 : 16;
			void *a = realloc(out->k, cap * sizeof *out->k);
			void *b = a ? realloc(out->len, cap * sizeof *out->len) :
			    NULL;
			void *c = b ? realloc(out->at, cap * sizeof *out->at) :
			    NULL;

			if (a)
				out->k = a;
			if (b)
				out->len = b;
			if (c)
				out->at = c;
			if (!a || !b || !c) {
				rc = SIGIL_ENOMEM;
				break;
			}
			out->cap = cap;
		}
		memcpy(out->k[out->n], k.mv_data, k.mv_size);
		out->len[out->n] = k.mv_size;
		out->at[out->n] = v.mv_size == SEGF_VAL_LEN ?
		    (int64_t)le64_get(v.mv_data) : 0;
		out->n++;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static void
segf_keys_free(struct segf_keys *s)
{
	free(s->k);
	free(s->len);
	free(s->at);
}

int
segfacts_move(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t from, uint64_t to)
{
	uint8_t pre[SEGF_KEY_MAX];
	struct segf_keys s;
	int rc;

	if (st->segments_absent)
		return 0;
	segf_key(pre, brand_id, 'C', from, 0, NULL, 0);
	if ((rc = segf_collect(txn, st->segment_facts, pre, &s)) != 0) {
		segf_keys_free(&s);
		return rc;
	}
	for (size_t i = 0; i < s.n && rc == 0; i++) {
		MDB_val k = mval(s.k[i], s.len[i]);

		if ((rc = mdb_del(txn, st->segment_facts, &k, NULL)) != 0)
			break;
		sigil_be64_put(s.k[i] + 5, to);
		rc = segf_put(st, txn, s.k[i], s.len[i], s.at[i], 0, 0);
	}
	segf_keys_free(&s);
	return rc;
}

static int
segf_cut(struct store *st, MDB_txn *txn, uint32_t brand_id, char who,
    uint64_t id)
{
	uint8_t pre[SEGF_KEY_MAX];
	struct segf_keys s;
	int rc;

	if (st->segments_absent)
		return 0;
	segf_key(pre, brand_id, who, id, 0, NULL, 0);
	if ((rc = segf_collect(txn, st->segment_facts, pre, &s)) != 0) {
		segf_keys_free(&s);
		return rc;
	}
	for (size_t i = 0; i < s.n && rc == 0; i++) {
		MDB_val k = mval(s.k[i], s.len[i]);

		rc = mdb_del(txn, st->segment_facts, &k, NULL);
	}
	segf_keys_free(&s);
	return rc;
}

int
segfacts_erase(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t customer_id)
{
	return segf_cut(st, txn, brand_id, 'C', customer_id);
}

int
segfacts_erase_device(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t device)
{
	return segf_cut(st, txn, brand_id, 'D', device);
}

/* ---- reads ---- */

struct facts_walk {
	int	(*fn)(void *arg, int kind, const char *val, size_t vlen,
		    int64_t at, uint32_t region);
	void	*arg;
};

static int
facts_step(MDB_val k, MDB_val v, void *p)
{
	const struct facts_walk *w = p;
	const uint8_t *kp = k.mv_data;

	if (k.mv_size < 14 || v.mv_size != SEGF_VAL_LEN)
		return 0;
	return w->fn(w->arg, kp[13], (const char *)kp + 14, k.mv_size - 14,
	    (int64_t)le64_get(v.mv_data), le32_get((const uint8_t *)v.mv_data +
	    8));
}

static int
facts_each(struct store *st, uint32_t brand_id, char who, uint64_t id,
    int (*fn)(void *arg, int kind, const char *val, size_t vlen, int64_t at,
    uint32_t region), void *arg)
{
	uint8_t pre[SEGF_KEY_MAX];
	struct facts_walk w = { fn, arg };
	int rc;

	if (st->segments_absent)
		return 0;
	segf_key(pre, brand_id, who, id, 0, NULL, 0);
	rc = rows_walk(st, st->segment_facts, pre, 13, 13, facts_step, &w);
	return rc < 0 ? rc : 0;
}

int
store_device_facts(struct store *st, uint32_t brand_id, uint64_t device,
    int (*fn)(void *arg, int kind, const char *val, size_t vlen, int64_t at,
    uint32_t region), void *arg)
{
	return facts_each(st, brand_id, 'D', device, fn, arg);
}

int
store_customer_facts(struct store *st, uint32_t brand_id, uint64_t customer,
    int (*fn)(void *arg, int kind, const char *val, size_t vlen, int64_t at,
    uint32_t region), void *arg)
{
	return facts_each(st, brand_id, 'C', customer, fn, arg);
}
