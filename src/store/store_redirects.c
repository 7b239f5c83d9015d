/*
 * store_redirects.c - a brand's redirect rules (redirects, redirect_ids)
 * and each device's last consented location (device_locs).
 *
 * redirects is keyed in the order a scan tries the rules: brand BE32 ‖
 * sku ‖ 0x00 ‖ batch BE64 (0 for a product rule) ‖ priority BE32 ‖ id
 * BE32. A scan of batch b of product s reads two ranges of it in one
 * snapshot (store_redirect_scan): brand ‖ s ‖ 0 ‖ b, then brand ‖ s ‖ 0 ‖
 * 0; a brand without rules costs one cursor seek. A SKU holds no NUL
 * (sigil_text_check), so the 0x00 ends it unambiguously. redirect_ids
 * (brand BE32 ‖ id BE32 -> that key) finds a rule by id for the API; ids
 * come from a per-brand meta counter ("redirect_id/<brand>") and are
 * never reused, so a stale id never names a newer rule.
 *
 * device_locs (brand BE32 ‖ device BE64 -> lat f32, lng f32, at i64)
 * holds the place of each device's latest located scan of the brand:
 * device_loc_put runs inside store_scan_locate's transaction; a rule's
 * region condition reads it with one get. A customer's erasure deletes
 * the rows of the customer's devices (store_erase.c).
 *
 * Owns the tables redirects, redirect_ids, device_locs.
 * May call store_env.c, store_rows.c, store_catalog.c (batch_load),
 * store_trace.c (distributor_exists); it reads the products table for a
 * SKU's existence. Must never judge whether a rule matches (redirect.c
 * does), nor log.
 */
#include <stdio.h>
#include <string.h>

#include <lmdb.h>

#include "sigil/store.h"
#include "sigil/util.h"
#include "store_impl.h"

#define RULE_FIXED_LEN	41
#define RULE_VAL_MAX	(RULE_FIXED_LEN + REDIRECT_HREF_MAX + \
			    STORE_TEXT_BYTES + \
			    REDIRECT_LANGS_MAX * (1 + REDIRECT_TAG_MAX) + \
			    REDIRECT_REGIONS_MAX * 4)
#define RULE_KEY_MAX	(4 + STORE_NAME_BYTES + 1 + 8 + 4 + 4)
#define DEVLOC_LEN	16

/* The scope key of r into p: its length. */
static size_t
rule_key(const struct redirect_rule *r, uint8_t *p)
{
	size_t n = strlen(r->sku);

	sigil_be32_put(p, r->brand_id);
	memcpy(p + 4, r->sku, n);
	p[4 + n] = 0;
	sigil_be64_put(p + 5 + n, r->batch);
	sigil_be32_put(p + 13 + n, r->priority);
	sigil_be32_put(p + 17 + n, r->id);
	return 21 + n;
}

static size_t
rule_encode(const struct redirect_rule *r, uint8_t *p)
{
	size_t hl = strlen(r->href), nl = strlen(r->note), off;

	p[0] = 1;
	p[1] = (uint8_t)r->when;
	p[2] = (uint8_t)(r->wechat != 0);
	p[3] = (uint8_t)r->nlang;
	p[4] = (uint8_t)r->nregion;
	le64_put(p + 5, (uint64_t)r->from);
	le64_put(p + 13, (uint64_t)r->until);
	le64_put(p + 21, (uint64_t)r->created);
	le64_put(p + 29, (uint64_t)r->updated);
	le16_put(p + 37, (uint16_t)hl);
	le16_put(p + 39, (uint16_t)nl);
	off = RULE_FIXED_LEN;
	memcpy(p + off, r->href, hl);
	off += hl;
	memcpy(p + off, r->note, nl);
	off += nl;
	for (size_t i = 0; i < r->nlang; i++) {
		size_t tl = strlen(r->lang[i]);

		p[off++] = (uint8_t)tl;
		memcpy(p + off, r->lang[i], tl);
		off += tl;
	}
	for (size_t i = 0; i < r->nregion; i++, off += 4)
		le32_put(p + off, r->region[i]);
	return off;
}

static int
rule_decode(MDB_val k, MDB_val v, void *out)
{
	const uint8_t *kp = k.mv_data, *p = v.mv_data;
	struct redirect_rule *r = out;
	size_t sl, hl, nl, off;

	if (k.mv_size < 22 || k.mv_size > RULE_KEY_MAX ||
	    v.mv_size < RULE_FIXED_LEN || p[0] != 1)
		return SIGIL_EIO;
	sl = k.mv_size - 21;
	if (kp[4 + sl] != 0)
		return SIGIL_EIO;
	r->brand_id = sigil_be32_get(kp);
	memcpy(r->sku, kp + 4, sl);
	r->sku[sl] = '\0';
	r->batch = sigil_be64_get(kp + 5 + sl);
	r->priority = sigil_be32_get(kp + 13 + sl);
	r->id = sigil_be32_get(kp + 17 + sl);
	r->when = p[1];
	r->wechat = p[2];
	r->nlang = p[3];
	r->nregion = p[4];
	r->from = (int64_t)le64_get(p + 5);
	r->until = (int64_t)le64_get(p + 13);
	r->created = (int64_t)le64_get(p + 21);
	r->updated = (int64_t)le64_get(p + 29);
	hl = le16_get(p + 37);
	nl = le16_get(p + 39);
	if (hl > REDIRECT_HREF_MAX || nl > STORE_TEXT_BYTES ||
	    r->nlang > REDIRECT_LANGS_MAX ||
	    r->nregion > REDIRECT_REGIONS_MAX ||
	    v.mv_size < RULE_FIXED_LEN + hl + nl + 4 * r->nregion)
		return SIGIL_EIO;
	off = RULE_FIXED_LEN;
	memcpy(r->href, p + off, hl);
	r->href[hl] = '\0';
	off += hl;
	memcpy(r->note, p + off, nl);
	r->note[nl] = '\0';
	off += nl;
	for (size_t i = 0; i < r->nlang; i++) {
		size_t tl;

		if (off >= v.mv_size || (tl = p[off]) > REDIRECT_TAG_MAX ||
		    off + 1 + tl > v.mv_size)
			return SIGIL_EIO;
		memcpy(r->lang[i], p + off + 1, tl);
		r->lang[i][tl] = '\0';
		off += 1 + tl;
	}
	if (v.mv_size != off + 4 * r->nregion)
		return SIGIL_EIO;
	for (size_t i = 0; i < r->nregion; i++, off += 4)
		r->region[i] = le32_get(p + off);
	return 0;
}

/* The bounds every stored rule keeps (the domain checks the meaning). */
static int
rule_ok(const struct redirect_rule *r)
{
	const unsigned all = REDIRECT_WHEN_LANG | REDIRECT_WHEN_WECHAT |
	    REDIRECT_WHEN_FROM | REDIRECT_WHEN_UNTIL | REDIRECT_WHEN_REGION;

	if (r == NULL || r->brand_id == 0 ||
	    !text_ok(r->sku, sizeof(r->sku), STORE_NAME_BYTES, 0) ||
	    !text_ok(r->href, sizeof(r->href), REDIRECT_HREF_MAX, 0) ||
	    !text_ok(r->note, sizeof(r->note), STORE_TEXT_BYTES, 1) ||
	    r->priority > REDIRECT_PRIORITY_MAX || (r->when & ~all) ||
	    r->nlang > REDIRECT_LANGS_MAX ||
	    r->nregion > REDIRECT_REGIONS_MAX ||
	    ((r->when & REDIRECT_WHEN_LANG) != 0) != (r->nlang > 0) ||
	    ((r->when & REDIRECT_WHEN_REGION) != 0) != (r->nregion > 0) ||
	    ((r->when & REDIRECT_WHEN_FROM) && (r->when &
	    REDIRECT_WHEN_UNTIL) && r->from >= r->until))
		return 0;
	for (size_t i = 0; i < r->nlang; i++)
		if (!text_ok(r->lang[i], sizeof(r->lang[i]), REDIRECT_TAG_MAX,
		    0))
			return 0;
	return 1;
}

/* The product, batch and distributors r names exist in its brand. */
static int
rule_refs(struct store *st, MDB_txn *txn, const struct redirect_rule *r)
{
	uint8_t kb[4 + STORE_NAME_BYTES];
	size_t n = strlen(r->sku);
	MDB_val k = mval(kb, 4 + n), v;
	struct batch b;
	int rc;

	sigil_be32_put(kb, r->brand_id);
	memcpy(kb + 4, r->sku, n);
	if ((rc = mdb_get(txn, st->products, &k, &v)) != 0)
		return rc == MDB_NOTFOUND ? SIGIL_ENOTFOUND : rc;
	if (r->batch != 0) {
		if ((rc = batch_load(st, txn, r->batch, &b)) != 0)
			return rc == MDB_NOTFOUND ? SIGIL_ENOTFOUND : rc;
		if (b.brand_id != r->brand_id || strcmp(b.sku, r->sku) != 0)
			return SIGIL_ENOTFOUND;
	}
	for (size_t i = 0; i < r->nregion; i++)
		if ((rc = distributor_exists(st, txn, r->brand_id,
		    r->region[i])) != 0)
			return rc == MDB_NOTFOUND ? SIGIL_ENOTFOUND : rc;
	return 0;
}

static int
count_one(MDB_val k, MDB_val v, void *ctx)
{
	(void)k;
	(void)v;
	return ++*(size_t *)ctx >= REDIRECT_SCOPE_MAX ? SIGIL_EFULL : 0;
}

/* Room for one more rule in r's scope (brand, sku, batch). */
static int
scope_room(MDB_txn *txn, MDB_dbi dbi, const struct redirect_rule *r)
{
	uint8_t kb[RULE_KEY_MAX];
	size_t n = 0, plen = rule_key(r, kb) - 8;
	int rc, stop = 0;

	memset(kb + plen, 0, 8);
	rc = rows_walk_txn(txn, dbi, kb, plen + 8, plen, count_one, &n,
	    &stop);
	return stop ? stop : rc;
}

static int
ids_key_get(MDB_txn *txn, struct store *st, uint32_t brand_id,
    uint32_t id, MDB_val *out)
{
	uint8_t ib[8];
	MDB_val k = mval(ib, 8);
	int rc;

	bid_key(ib, brand_id, id);
	if ((rc = mdb_get(txn, st->redirect_ids, &k, out)) != 0)
		return rc;
	return out->mv_size < 22 || out->mv_size > RULE_KEY_MAX ? SIGIL_EIO :
	    0;
}

static int
rule_put(struct store *st, MDB_txn *txn, const struct redirect_rule *r)
{
	uint8_t kb[RULE_KEY_MAX], vb[RULE_VAL_MAX], ib[8];
	MDB_val k = mval(kb, rule_key(r, kb)), v, ik = mval(ib, 8);
	int rc;

	v = mval(vb, rule_encode(r, vb));
	bid_key(ib, r->brand_id, r->id);
	if ((rc = mdb_put(txn, st->redirects, &k, &v, 0)) != 0)
		return rc;
	return mdb_put(txn, st->redirect_ids, &ik, &k, 0);
}

/* What a write does: add (id 0), replace or delete rule r. */
struct rule_arg {
	struct redirect_rule	r;
	int			del;
};

static int
rule_fn(struct store *st, MDB_txn *txn, void *p)
{
	struct rule_arg *a = p;
	struct redirect_rule *r = &a->r, cur;
	uint8_t ck[RULE_KEY_MAX];
	MDB_val k, v;
	char name[32];
	uint64_t id;
	int rc, moved = 1;

	if (r->id == 0) {
		if ((rc = brand_exists(st, txn, r->brand_id)) != 0 ||
		    (rc = rule_refs(st, txn, r)) != 0 ||
		    (rc = scope_room(txn, st->redirects, r)) != 0)
			return rc;
		snprintf(name, sizeof name, "redirect_id/%u", r->brand_id);
		if ((rc = meta_next(st, txn, meta_key(name), 1, UINT32_MAX,
		    &id)) != 0)
			return rc;
		r->id = (uint32_t)id;
		r->created = r->updated = sigil_now_us();
		return rule_put(st, txn, r);
	}
	if ((rc = ids_key_get(txn, st, r->brand_id, r->id, &k)) != 0)
		return rc;
	memcpy(ck, k.mv_data, k.mv_size);
	k = mval(ck, k.mv_size);
	if ((rc = mdb_get(txn, st->redirects, &k, &v)) != 0)
		return rc == MDB_NOTFOUND ? SIGIL_EIO : rc;
	if ((rc = rule_decode(k, v, &cur)) != 0)
		return rc;
	if (a->del) {
		uint8_t ib[8];
		MDB_val ik = mval(ib, 8);

		bid_key(ib, r->brand_id, r->id);
		if ((rc = mdb_del(txn, st->redirects, &k, NULL)) != 0)
			return rc;
		return mdb_del(txn, st->redirect_ids, &ik, NULL);
	}
	if (cur.updated != r->updated)
		return SIGIL_ECONFLICT;
	if ((rc = rule_refs(st, txn, r)) != 0)
		return rc;
	moved = strcmp(cur.sku, r->sku) != 0 || cur.batch != r->batch;
	if (moved && (rc = scope_room(txn, st->redirects, r)) != 0)
		return rc;
	if ((rc = mdb_del(txn, st->redirects, &k, NULL)) != 0)
		return rc;
	r->created = cur.created;
	r->updated = sigil_now_us();
	return rule_put(st, txn, r);
}

int
store_redirect_add(struct store *st, struct redirect_rule *r)
{
	struct rule_arg a;

	if (!rule_ok(r))
		return SIGIL_EINVAL;
	a.r = *r;
	a.r.id = 0;
	a.del = 0;
	return STORE_WRITE_OUT(st, rule_fn, &a, a.r, r);
}

int
store_redirect_update(struct store *st, struct redirect_rule *r)
{
	struct rule_arg a;

	if (!rule_ok(r) || r->id == 0)
		return r != NULL && r->id == 0 ? SIGIL_ENOTFOUND : SIGIL_EINVAL;
	a.r = *r;
	a.del = 0;
	return STORE_WRITE_OUT(st, rule_fn, &a, a.r, r);
}

int
store_redirect_del(struct store *st, uint32_t brand_id, uint32_t id)
{
	struct rule_arg a;

	if (id == 0)
		return SIGIL_ENOTFOUND;
	memset(&a, 0, sizeof a);
	a.r.brand_id = brand_id;
	a.r.id = id;
	a.del = 1;
	return store_write(st, rule_fn, &a);
}

static int
rule_load(struct store *st, MDB_txn *txn, uint32_t brand_id, uint32_t id,
    struct redirect_rule *out)
{
	MDB_val k, v;
	int rc;

	if ((rc = ids_key_get(txn, st, brand_id, id, &k)) != 0 ||
	    (rc = mdb_get(txn, st->redirects, &k, &v)) != 0)
		return rc;
	return rule_decode(k, v, out);
}

int
store_redirect_get(struct store *st, uint32_t brand_id, uint32_t id,
    struct redirect_rule *out)
{
	if (st->redirects_absent)
		return SIGIL_ENOTFOUND;
	return STORE_READ(st, rule_load(st, txn, brand_id, id, out));
}

ROWS_EACH_STEP(rule_each_one, struct redirect_rule, rule_decode)

/* The key prefix of brand's rules of sku (and batch): its length. */
static size_t
scope_prefix(uint8_t *kb, uint32_t brand_id, const char *sku, uint64_t batch,
    int with_batch)
{
	size_t n;

	sigil_be32_put(kb, brand_id);
	if (sku == NULL)
		return 4;
	n = strlen(sku);
	memcpy(kb + 4, sku, n);
	kb[4 + n] = 0;
	if (!with_batch)
		return 5 + n;
	sigil_be64_put(kb + 5 + n, batch);
	return 13 + n;
}

int
store_redirect_each(struct store *st, uint32_t brand_id, const char *sku,
    uint64_t batch, int product_only,
    int (*fn)(void *arg, const struct redirect_rule *r), void *arg)
{
	uint8_t kb[RULE_KEY_MAX];
	size_t plen;

	if (st->redirects_absent || (sku != NULL &&
	    strlen(sku) > STORE_NAME_BYTES))
		return 0;
	plen = scope_prefix(kb, brand_id, sku, batch, batch != 0 ||
	    product_only);
	return rows_each(st, st->redirects, kb, plen, plen, rule_each_one,
	    (any_fn)fn, arg);
}

struct scan_walk {
	struct cb_ctx	 cb;
	uint8_t		 kb[RULE_KEY_MAX];
};

static int
scan_ranges(struct store *st, MDB_txn *txn, struct scan_walk *w,
    uint32_t brand_id, const char *sku, uint64_t batch, int *stop)
{
	size_t plen;
	int rc;

	if (batch != 0) {
		plen = scope_prefix(w->kb, brand_id, sku, batch, 1);
		rc = rows_walk_txn(txn, st->redirects, w->kb, plen, plen,
		    rule_each_one, &w->cb, stop);
		if (rc != 0 || *stop != 0)
			return rc;
	}
	plen = scope_prefix(w->kb, brand_id, sku, 0, 1);
	return rows_walk_txn(txn, st->redirects, w->kb, plen, plen,
	    rule_each_one, &w->cb, stop);
}

int
store_redirect_scan(struct store *st, uint32_t brand_id, const char *sku,
    uint64_t batch, int (*fn)(void *arg, const struct redirect_rule *r),
    void *arg)
{
	struct scan_walk w;
	int rc, stop = 0;

	if (st->redirects_absent || sku == NULL ||
	    strlen(sku) > STORE_NAME_BYTES)
		return 0;
	w.cb.fn = (any_fn)fn;
	w.cb.arg = arg;
	rc = STORE_READ(st, scan_ranges(st, txn, &w, brand_id, sku, batch,
	    &stop));
	return stop ? stop : rc;
}

/* ---- device_locs ---- */

int
device_loc_put(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t device, float lat, float lng, int64_t at)
{
	uint8_t kb[12], vb[DEVLOC_LEN];
	MDB_val k = mval(kb, 12), v = mval(vb, DEVLOC_LEN);

	if (st->redirects_absent || brand_id == 0 || device == 0)
		return 0;
	sigil_be32_put(kb, brand_id);
	sigil_be64_put(kb + 4, device);
	lef32_put(vb, lat);
	lef32_put(vb + 4, lng);
	le64_put(vb + 8, (uint64_t)at);
	return mdb_put(txn, st->device_locs, &k, &v, 0);
}

static int
devloc_decode(MDB_val k, MDB_val v, void *out)
{
	const uint8_t *p = v.mv_data;
	struct device_loc *d = out;

	(void)k;
	if (v.mv_size != DEVLOC_LEN)
		return SIGIL_EIO;
	d->lat = lef32_get(p);
	d->lng = lef32_get(p + 4);
	d->at = (int64_t)le64_get(p + 8);
	return 0;
}

int
store_device_loc_get(struct store *st, uint32_t brand_id, uint64_t device,
    struct device_loc *out)
{
	uint8_t kb[12];

	if (st->redirects_absent)
		return SIGIL_ENOTFOUND;
	sigil_be32_put(kb, brand_id);
	sigil_be64_put(kb + 4, device);
	return STORE_READ(st, rows_load(txn, st->device_locs, kb, 12,
	    devloc_decode, out));
}
