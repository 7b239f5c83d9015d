/*
 * store.c - every byte sigil keeps, in one LMDB environment.
 *
 * Owns the environment, its named databases and their encodings (the byte
 * layouts are in docs/storage.md; the comments here say why, not what).
 * It may call libc, pthreads, LMDB, jansson and util.c; it must never call
 * another sigil module, log anything, or hand out a pointer into the map:
 * every value is decoded into caller memory before its transaction ends.
 *
 * Writes. Every write function is a closure run by store_write(): begin a
 * write transaction, run the closure, commit. A closure never changes
 * caller memory; it fills a context that is copied out only after the
 * commit succeeded, because a commit that fails with MDB_MAP_FULL is
 * retried from scratch after the map has doubled. Doubling calls
 * mdb_env_set_mapsize(), which LMDB allows only while no transaction of
 * this process is active: every transaction is therefore bracketed by a
 * shared hold on grow_lock and growth takes it exclusively. The lock
 * prefers writers, so a growth is not starved by a stream of readers.
 *
 * Reads. Each thread keeps one read transaction per store (a pthread key
 * whose destructor frees the reader slot when the thread exits); a read
 * call renews it, copies what it needs and resets it. The environment is
 * opened MDB_NOTLS so that reader slots belong to transactions, not
 * threads. A read nested inside another (a callback of *_each calling
 * store_brand_get) reuses the active snapshot instead of taking a second
 * one. store_scan_each walks the append-only log in chunks, releasing its
 * snapshot between chunks: an export of millions of scans then neither
 * pins old pages (which would bloat the file) nor blocks map growth.
 *
 * Another process (the sigil CLI next to a running sigild) may grow the
 * map; LMDB then reports MDB_MAP_RESIZED at begin and we adopt the new
 * size under the exclusive lock and begin again.
 *
 * Counters for store_stats live in the meta database and are updated in
 * the transaction that changes what they count, so stats never scan.
 *
 * Traceability (tokens, distributors, aggregation, shipments, the event
 * log, alerts) lives in tables added after schema 1 without touching any
 * existing encoding: a read-write open creates them, a read-only open of
 * an older store reads them as empty (trace_absent). Each multi-code
 * operation validates everything before its first write, so a refusal is
 * clean even before the abort, and bulk writes go in key order so LMDB
 * can append instead of search.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <lmdb.h>

#include "sigil/code.h"
#include "sigil/fault.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "store_impl.h"

/* Packed value sizes; layouts in docs/storage.md. */
#define DIST_FIXED_LEN		10
#define SHIPMENT_LEN		40
#define EVENT_FIXED_LEN		53
#define ALERT_REC_LEN		45
#define TRACE_DEPTH_MAX		1024	/* nesting levels walked upwards */

/* ---- shared helpers for the tables added with traceability ---- */

static int
sorted_has(const uint64_t *s, size_t n, uint64_t v)
{
	return bsearch(&v, s, n, sizeof(*s), u64_cmp) != NULL;
}

/*
 * A sorted copy of serials (n >= 1), or SIGIL_EINVAL for a duplicate, a
 * zero or a serial above CODE_SERIAL_MAX. The caller frees *out.
 */
static int
serials_sorted(const uint64_t *in, size_t n, uint64_t **out)
{
	uint64_t *s;

	if (in == NULL)
		return SIGIL_EINVAL;
	if ((s = malloc(n * sizeof(*s))) == NULL)
		return SIGIL_ENOMEM;
	memcpy(s, in, n * sizeof(*s));
	qsort(s, n, sizeof(*s), u64_cmp);
	for (size_t i = 0; i < n; i++)
		if (s[i] == 0 || s[i] > CODE_SERIAL_MAX ||
		    (i > 0 && s[i] == s[i - 1])) {
			free(s);
			return SIGIL_EINVAL;
		}
	*out = s;
	return 0;
}

/*
 * Is serial issued in one of brand_id's batches? The last range found is
 * kept in *r, so a sorted list of serials from a few batches costs a few
 * lookups rather than one per serial.
 */
struct range_cache {
	uint64_t	first, last;
};

static int
serial_issued(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t serial, struct range_cache *r)
{
	struct batch b;
	int rc;

	if (serial == 0 || serial > CODE_SERIAL_MAX)
		return SIGIL_ENOTFOUND;
	if (r->first != 0 && serial >= r->first && serial <= r->last)
		return 0;
	if ((rc = batch_find(st, txn, brand_id, serial, &b)) != 0)
		return rc;
	r->first = b.first_serial;
	r->last = b.first_serial + b.count - 1;
	return 0;
}

/* ---- distributors ---- */

static void
dist_key(uint8_t *kb, uint32_t brand_id, uint32_t id)
{
	sigil_be32_put(kb, brand_id);
	sigil_be32_put(kb + 4, id);
}

/*
 * Binary rather than JSON: the territory is up to 1 MiB of GeoJSON text
 * and is stored as it came, without being parsed and re-serialised.
 */
static int
distributor_decode(MDB_val k, MDB_val v, int with_territory,
    struct distributor *out)
{
	const uint8_t *p = v.mv_data;
	struct distributor d = { 0 };
	size_t nl, tl;

	if (k.mv_size != 8 || v.mv_size < DIST_FIXED_LEN)
		return SIGIL_EIO;
	/* p[8]: bit 0 territory present, bits 1-7 the name length >> 8 */
	nl = (size_t)(p[8] >> 1) << 8 | p[9];
	if (nl == 0 || nl > STORE_TEXT_BYTES ||
	    v.mv_size < DIST_FIXED_LEN + nl)
		return SIGIL_EIO;
	tl = v.mv_size - DIST_FIXED_LEN - nl;
	if (((p[8] & 1) == 0 && tl != 0) || tl > STORE_GEOJSON_MAX)
		return SIGIL_EIO;
	d.brand_id = sigil_be32_get(k.mv_data);
	d.id = sigil_be32_get((const uint8_t *)k.mv_data + 4);
	d.created = (int64_t)le64_get(p);
	memcpy(d.name, p + DIST_FIXED_LEN, nl);
	if (with_territory && (p[8] & 1)) {
		if ((d.territory = malloc(tl + 1)) == NULL)
			return SIGIL_ENOMEM;
		memcpy(d.territory, p + DIST_FIXED_LEN + nl, tl);
		d.territory[tl] = '\0';
	}
	*out = d;
	return 0;
}

struct dist_arg {
	struct distributor	d;
	size_t			tlen;
};

static int
distributor_add_fn(struct store *st, MDB_txn *txn, void *arg)
{
	struct dist_arg *a = arg;
	uint8_t sk[17 + 4], kb[8], *p;
	size_t nl = strlen(a->d.name);
	MDB_val k = mval(kb, 8), v;
	struct brand b;
	uint64_t id;
	int rc;

	if ((rc = brand_load(st, txn, a->d.brand_id, &b)) != 0)
		return rc;
	memcpy(sk, "next_distributor/", 17);
	sigil_be32_put(sk + 17, a->d.brand_id);
	if ((rc = meta_next(st, txn, mval(sk, sizeof(sk)), 1, UINT32_MAX,
	    &id)) != 0)
		return rc;
	a->d.id = (uint32_t)id;
	dist_key(kb, a->d.brand_id, a->d.id);
	v = mval(NULL, DIST_FIXED_LEN + nl + a->tlen);
	if ((rc = mdb_put(txn, st->distributors, &k, &v,
	    MDB_NOOVERWRITE | MDB_RESERVE)) != 0)
		return rc;
	p = v.mv_data;
	le64_put(p, (uint64_t)a->d.created);
	p[8] = (uint8_t)((a->d.territory != NULL) | (nl >> 8) << 1);
	p[9] = (uint8_t)nl;
	memcpy(p + DIST_FIXED_LEN, a->d.name, nl);
	if (a->tlen)
		memcpy(p + DIST_FIXED_LEN + nl, a->d.territory, a->tlen);
	return 0;
}

int
store_distributor_add(struct store *st, struct distributor *d)
{
	struct dist_arg a;
	int rc;

	if (d == NULL || !text_ok(d->name, sizeof(d->name), STORE_TEXT_MAX, 0))
		return SIGIL_EINVAL;
	a.d = *d;
	a.tlen = 0;
	if (d->territory != NULL &&
	    (a.tlen = strnlen(d->territory, STORE_GEOJSON_MAX + 1)) >
	    STORE_GEOJSON_MAX)
		return SIGIL_EINVAL;
	a.d.created = sigil_now_us();
	if ((rc = store_write(st, distributor_add_fn, &a)) != 0)
		return rc;
	d->id = a.d.id;
	d->created = a.d.created;
	return 0;
}

static int
distributor_exists(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint32_t id)
{
	uint8_t kb[8];
	MDB_val k = mval(kb, 8), v;

	dist_key(kb, brand_id, id);
	return mdb_get(txn, st->distributors, &k, &v);
}

int
store_distributor_get(struct store *st, uint32_t brand_id, uint32_t id,
    struct distributor *out)
{
	uint8_t kb[8];
	MDB_val k = mval(kb, 8), v;
	MDB_txn *txn;
	int rc;

	if (st->trace_absent)
		return SIGIL_ENOTFOUND;
	dist_key(kb, brand_id, id);
	if ((rc = read_begin(st, &txn)) != 0)
		return rc;
	rc = mdb_get(txn, st->distributors, &k, &v);
	if (rc == 0)
		rc = distributor_decode(k, v, 1, out);
	read_end(st);
	return map_err(rc);
}

void
store_distributor_clear(struct distributor *d)
{
	if (d == NULL)
		return;
	free(d->territory);
	d->territory = NULL;
}

int
store_distributor_each(struct store *st, uint32_t brand_id,
    int (*fn)(void *arg, const struct distributor *d), void *arg)
{
	uint8_t kb[8];
	MDB_cursor *cur;
	MDB_txn *txn;
	MDB_val k = mval(kb, 8), v;
	struct distributor d;
	int rc, stop = 0;

	if (st->trace_absent)
		return 0;
	dist_key(kb, brand_id, 0);
	if ((rc = read_begin(st, &txn)) != 0)
		return rc;
	if ((rc = mdb_cursor_open(txn, st->distributors, &cur)) != 0)
		goto out;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 8) {
			rc = SIGIL_EIO;
			break;
		}
		if (sigil_be32_get(k.mv_data) != brand_id) {
			rc = MDB_NOTFOUND;
			break;
		}
		if ((rc = distributor_decode(k, v, 0, &d)) != 0 ||
		    (stop = fn(arg, &d)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	if (rc == MDB_NOTFOUND)
		rc = 0;
out:
	read_end(st);
	return stop ? stop : map_err(rc);
}

/* ---- the event log ---- */

static int
event_index_code(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t serial, const uint8_t *idb)
{
	uint8_t ck[CODE_KEY_LEN];
	MDB_val k = mval(ck, CODE_KEY_LEN), v = mval(idb, 8);

	code_key_put(ck, brand_id, serial);
	return mdb_put(txn, st->code_events, &k, &v, 0);
}

/*
 * Appends ev (its at, type and fields already checked) and its indexes;
 * sets ev->id. Codes are indexed by what the event names: an aggregation
 * by its parent and children, a shipment or receipt by its roots only (a
 * pallet's millions of descendants are found through their ancestors),
 * a commission by its batch.
 */
static int
event_append(struct store *st, MDB_txn *txn, struct trace_event *ev)
{
	uint8_t idb[8], bk[12], *p;
	MDB_val k = mval(idb, 8), v;
	uint64_t id;
	int rc;

	if ((rc = meta_next(st, txn, meta_key("next_event"), 1,
	    UINT64_MAX - 1, &id)) != 0)
		return rc;
	sigil_be64_put(idb, id);
	v = mval(NULL, EVENT_FIXED_LEN + 5 * ev->n);
	if ((rc = mdb_put(txn, st->events, &k, &v,
	    MDB_APPEND | MDB_RESERVE)) != 0)
		return rc;
	p = v.mv_data;
	p[0] = (uint8_t)ev->type;
	le32_put(p + 1, ev->brand_id);
	le64_put(p + 5, (uint64_t)ev->at);
	le64_put(p + 13, ev->parent);
	le64_put(p + 21, ev->batch_id);
	le32_put(p + 29, ev->distributor);
	le64_put(p + 33, ev->shipment);
	le64_put(p + 41, ev->scan_id);
	le32_put(p + 49, (uint32_t)ev->n);
	for (size_t i = 0; i < ev->n; i++) {
		uint64_t s = ev->serials[i];

		for (int j = 4; j >= 0; j--, s >>= 8)
			p[EVENT_FIXED_LEN + 5 * i + (size_t)j] = (uint8_t)s;
	}
	sigil_be32_put(bk, ev->brand_id);
	sigil_be64_put(bk + 4, id);
	k = mval(bk, 12);
	v = mval("", 0);
	if ((rc = mdb_put(txn, st->brand_events, &k, &v, 0)) != 0)
		return rc;
	if (ev->type == EVENT_COMMISSION || ev->type == EVENT_DECOMMISSION) {
		sigil_be64_put(bk, ev->batch_id);
		k = mval(bk, 8);
		v = mval(idb, 8);
		if ((rc = mdb_put(txn, st->batch_events, &k, &v, 0)) != 0)
			return rc;
	} else {
		if ((ev->type == EVENT_AGGREGATE ||
		    ev->type == EVENT_DISAGGREGATE) &&
		    (rc = event_index_code(st, txn, ev->brand_id, ev->parent,
		    idb)) != 0)
			return rc;
		if ((rc = codes_put(txn, st->code_events, ev->brand_id,
		    ev->serials, ev->n, mval(idb, 8))) != 0)
			return rc;
	}
	ev->id = id;
	return 0;
}

/* Decodes an event; its serials go into buf (reused between calls). */
static int
event_decode(uint64_t id, MDB_val v, struct trace_event *ev,
    struct u64vec *buf)
{
	const uint8_t *p = v.mv_data;
	struct trace_event e = { .id = id };
	int rc;

	if (v.mv_size < EVENT_FIXED_LEN)
		return SIGIL_EIO;
	e.n = le32_get(p + 49);
	if (v.mv_size != EVENT_FIXED_LEN + 5 * e.n || p[0] < EVENT_COMMISSION ||
	    p[0] > EVENT_DECOMMISSION)
		return SIGIL_EIO;
	if ((rc = u64vec_reserve(buf, e.n)) != 0)
		return rc;
	e.type = p[0];
	e.brand_id = le32_get(p + 1);
	e.at = (int64_t)le64_get(p + 5);
	e.parent = le64_get(p + 13);
	e.batch_id = le64_get(p + 21);
	e.distributor = le32_get(p + 29);
	e.shipment = le64_get(p + 33);
	e.scan_id = le64_get(p + 41);
	for (size_t i = 0; i < e.n; i++) {
		const uint8_t *s = p + EVENT_FIXED_LEN + 5 * i;
		uint64_t x = 0;

		for (int j = 0; j < 5; j++)
			x = x << 8 | s[j];
		buf->v[i] = x;
	}
	e.serials = e.n ? buf->v : NULL;
	*ev = e;
	return 0;
}

static int
event_load(struct store *st, MDB_txn *txn, uint64_t id,
    struct trace_event *ev, struct u64vec *buf)
{
	uint8_t kb[8];
	MDB_val k = mval(kb, 8), v;
	int rc;

	sigil_be64_put(kb, id);
	if ((rc = mdb_get(txn, st->events, &k, &v)) != 0)
		return rc == MDB_NOTFOUND ? SIGIL_EIO : rc;
	return event_decode(id, v, ev, buf);
}

static int
event_add_fn(struct store *st, MDB_txn *txn, void *arg)
{
	struct trace_event *ev = arg;
	struct brand br;
	struct batch b;
	int rc;

	if ((rc = brand_load(st, txn, ev->brand_id, &br)) != 0)
		return rc;
	if (ev->batch_id != 0) {
		if ((rc = batch_load(st, txn, ev->batch_id, &b)) != 0)
			return rc;
		if (b.brand_id != ev->brand_id)
			return SIGIL_EINVAL;
	}
	return event_append(st, txn, ev);
}

int
store_event_add(struct store *st, struct trace_event *ev)
{
	struct trace_event work;
	int rc;

	if (ev == NULL || ev->type < EVENT_COMMISSION ||
	    ev->type > EVENT_DECOMMISSION || ev->n > STORE_AGG_MAX ||
	    (ev->n > 0 && ev->serials == NULL) ||
	    ev->parent > CODE_SERIAL_MAX || ev->at < 0 ||
	    ((ev->type == EVENT_COMMISSION ||
	    ev->type == EVENT_DECOMMISSION) && ev->batch_id == 0))
		return SIGIL_EINVAL;
	for (size_t i = 0; i < ev->n; i++)
		if (ev->serials[i] == 0 || ev->serials[i] > CODE_SERIAL_MAX)
			return SIGIL_EINVAL;
	work = *ev;
	if (work.at == 0)
		work.at = sigil_now_us();
	if ((rc = store_write(st, event_add_fn, &work)) != 0)
		return rc;
	ev->id = work.id;
	ev->at = work.at;
	return 0;
}

int
store_event_each(struct store *st, uint32_t brand_id, uint64_t after,
    int64_t from, int64_t to, int type, size_t limit,
    int (*fn)(void *arg, const struct trace_event *ev), void *arg)
{
	struct u64vec buf = { 0 };
	struct trace_event ev;
	uint8_t kb[12];
	MDB_cursor *cur;
	MDB_txn *txn;
	MDB_val k = mval(kb, 12), v;
	size_t seen = 0;
	int rc, stop = 0;

	if (st->trace_absent || after == UINT64_MAX)
		return 0;
	sigil_be32_put(kb, brand_id);
	sigil_be64_put(kb + 4, after + 1);
	if ((rc = read_begin(st, &txn)) != 0)
		return rc;
	if ((rc = mdb_cursor_open(txn, st->brand_events, &cur)) != 0)
		goto out;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 12) {
			rc = SIGIL_EIO;
			break;
		}
		if (sigil_be32_get(k.mv_data) != brand_id ||
		    (limit && seen == limit)) {
			rc = MDB_NOTFOUND;
			break;
		}
		if ((rc = event_load(st, txn,
		    sigil_be64_get((const uint8_t *)k.mv_data + 4), &ev,
		    &buf)) != 0)
			break;
		if ((type && ev.type != type) || (from && ev.at < from) ||
		    (to && ev.at >= to))
			continue;
		seen++;
		if ((stop = fn(arg, &ev)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	if (rc == MDB_NOTFOUND)
		rc = 0;
out:
	read_end(st);
	free(buf.v);
	return stop ? stop : map_err(rc);
}

/* ---- aggregation ---- */

/* The direct parent: 0, MDB_NOTFOUND or an error. */
static int
parent_get(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t serial, uint64_t *out)
{
	uint8_t ck[CODE_KEY_LEN];
	MDB_val k = mval(ck, CODE_KEY_LEN), v;
	int rc;

	code_key_put(ck, brand_id, serial);
	if ((rc = mdb_get(txn, st->parents, &k, &v)) != 0)
		return rc;
	if (v.mv_size != 8)
		return SIGIL_EIO;
	*out = sigil_be64_get(v.mv_data);
	return 0;
}

struct agg_arg {
	uint32_t	 brand_id;
	uint64_t	 parent;
	const uint64_t	*children;	/* sorted, unique, in range */
	size_t		 n;
	int64_t		 now;
	uint64_t	 event_id;
	struct u64vec	 all;		/* disaggregate with n == 0 */
};

/*
 * Every check runs before the first write, so a refused aggregation
 * leaves nothing behind even before the abort. Children arrive sorted:
 * the batch ranges are then found once per batch, and the children
 * table receives its duplicates in key order.
 */
static int
aggregate_fn(struct store *st, MDB_txn *txn, void *arg)
{
	struct agg_arg *a = arg;
	struct range_cache rcache = { 0, 0 };
	struct trace_event ev = { 0 };
	uint8_t pk[CODE_KEY_LEN], pb[8], cb[8];
	MDB_cursor *cur;
	MDB_val k, v;
	uint64_t up;
	unsigned flags = 0;
	int rc;

	if ((rc = serial_issued(st, txn, a->brand_id, a->parent,
	    &rcache)) != 0)
		return rc;
	for (size_t i = 0; i < a->n; i++)
		if ((rc = serial_issued(st, txn, a->brand_id, a->children[i],
		    &rcache)) != 0)
			return rc;
	for (size_t i = 0; i < a->n; i++) {
		rc = parent_get(st, txn, a->brand_id, a->children[i], &up);
		if (rc == 0)
			return SIGIL_ECONFLICT;
		if (rc != MDB_NOTFOUND)
			return rc;
	}
	/* parent inside one of the children would make a cycle. */
	up = a->parent;
	for (int depth = 0;; depth++) {
		if ((rc = parent_get(st, txn, a->brand_id, up, &up)) ==
		    MDB_NOTFOUND)
			break;
		if (rc != 0)
			return rc;
		if (sorted_has(a->children, a->n, up))
			return SIGIL_EINVAL;
		if (depth == TRACE_DEPTH_MAX)
			return SIGIL_EFULL;
	}

	sigil_be64_put(pb, a->parent);
	if ((rc = codes_put(txn, st->parents, a->brand_id, a->children, a->n,
	    mval(pb, 8))) != 0)
		return rc;
	/* New children after the existing ones go in with APPENDDUP. */
	code_key_put(pk, a->brand_id, a->parent);
	k = mval(pk, CODE_KEY_LEN);
	if ((rc = mdb_cursor_open(txn, st->children, &cur)) != 0)
		return rc;
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY);
	if (rc == 0)
		rc = mdb_cursor_get(cur, &k, &v, MDB_LAST_DUP);
	if (rc == 0 && v.mv_size != 8)
		rc = SIGIL_EIO;
	if (rc == 0 || rc == MDB_NOTFOUND) {
		flags = rc == MDB_NOTFOUND ||
		    sigil_be64_get(v.mv_data) < a->children[0] ?
		    MDB_APPENDDUP : 0;
		rc = 0;
	}
	for (size_t i = 0; i < a->n && rc == 0; i++) {
		sigil_be64_put(cb, a->children[i]);
		k = mval(pk, CODE_KEY_LEN);
		v = mval(cb, 8);
		rc = mdb_cursor_put(cur, &k, &v, flags);
	}
	mdb_cursor_close(cur);
	if (rc != 0)
		return rc;
	ev.type = EVENT_AGGREGATE;
	ev.brand_id = a->brand_id;
	ev.at = a->now;
	ev.parent = a->parent;
	ev.n = a->n;
	ev.serials = (uint64_t *)a->children;
	if ((rc = event_append(st, txn, &ev)) != 0)
		return rc;
	a->event_id = ev.id;
	return 0;
}

int
store_aggregate(struct store *st, uint32_t brand_id, uint64_t parent,
    const uint64_t *children, size_t n, uint64_t *event_id)
{
	struct agg_arg a = { brand_id, parent, NULL, n, sigil_now_us(), 0,
	    { 0 } };
	uint64_t *sorted;
	int rc;

	if (n == 0 || n > STORE_AGG_MAX || children == NULL)
		return SIGIL_EINVAL;
	if (parent == 0 || parent > CODE_SERIAL_MAX)
		return SIGIL_ENOTFOUND;
	for (size_t i = 0; i < n; i++)
		if (children[i] == 0 || children[i] > CODE_SERIAL_MAX)
			return SIGIL_ENOTFOUND;
	if ((rc = serials_sorted(children, n, &sorted)) != 0)
		return rc;
	if (sorted_has(sorted, n, parent)) {
		free(sorted);
		return SIGIL_EINVAL;
	}
	a.children = sorted;
	rc = store_write(st, aggregate_fn, &a);
	free(sorted);
	if (rc == 0 && event_id)
		*event_id = a.event_id;
	return rc;
}

static int
disaggregate_fn(struct store *st, MDB_txn *txn, void *arg)
{
	struct agg_arg *a = arg;
	struct trace_event ev = { 0 };
	uint8_t ck[CODE_KEY_LEN], pk[CODE_KEY_LEN], cb[8];
	const uint64_t *list = a->children;
	size_t n = a->n;
	MDB_val k, v;
	uint64_t up;
	int rc;

	code_key_put(pk, a->brand_id, a->parent);
	k = mval(pk, CODE_KEY_LEN);
	if (n == 0) {
		a->all.n = 0;
		if ((rc = dups_collect(txn, st->children, k, &a->all)) != 0)
			return rc;
		if (a->all.n == 0)
			return SIGIL_ENOTFOUND;
		if ((rc = mdb_del(txn, st->children, &k, NULL)) != 0)
			return rc;
		list = a->all.v;
		n = a->all.n;
	}
	for (size_t i = 0; i < n; i++) {
		rc = parent_get(st, txn, a->brand_id, list[i], &up);
		if (rc == MDB_NOTFOUND || (rc == 0 && up != a->parent))
			return SIGIL_ENOTFOUND;
		if (rc != 0)
			return rc;
		code_key_put(ck, a->brand_id, list[i]);
		k = mval(ck, CODE_KEY_LEN);
		if ((rc = mdb_del(txn, st->parents, &k, NULL)) != 0)
			return rc;
		if (a->n == 0)
			continue;
		sigil_be64_put(cb, list[i]);
		k = mval(pk, CODE_KEY_LEN);
		v = mval(cb, 8);
		if ((rc = mdb_del(txn, st->children, &k, &v)) != 0)
			return rc;
	}
	ev.type = EVENT_DISAGGREGATE;
	ev.brand_id = a->brand_id;
	ev.at = a->now;
	ev.parent = a->parent;
	ev.n = n;
	ev.serials = (uint64_t *)list;
	if ((rc = event_append(st, txn, &ev)) != 0)
		return rc;
	a->event_id = ev.id;
	return 0;
}

int
store_disaggregate(struct store *st, uint32_t brand_id, uint64_t parent,
    const uint64_t *children, size_t n, uint64_t *event_id)
{
	struct agg_arg a = { brand_id, parent, NULL, n, sigil_now_us(), 0,
	    { 0 } };
	uint64_t *sorted = NULL;
	int rc;

	if (n > STORE_AGG_MAX)
		return SIGIL_EINVAL;
	if (parent == 0 || parent > CODE_SERIAL_MAX)
		return SIGIL_ENOTFOUND;
	if (n > 0) {
		for (size_t i = 0; i < n && children; i++)
			if (children[i] == 0 || children[i] > CODE_SERIAL_MAX)
				return SIGIL_ENOTFOUND;
		if ((rc = serials_sorted(children, n, &sorted)) != 0)
			return rc;
	}
	a.children = sorted;
	rc = store_write(st, disaggregate_fn, &a);
	free(sorted);
	free(a.all.v);
	if (rc == 0 && event_id)
		*event_id = a.event_id;
	return rc;
}

int
store_parent(struct store *st, uint32_t brand_id, uint64_t serial,
    uint64_t *parent)
{
	MDB_txn *txn;
	uint64_t p;
	int rc;

	if (st->trace_absent || serial > CODE_SERIAL_MAX)
		return SIGIL_ENOTFOUND;
	if ((rc = read_begin(st, &txn)) != 0)
		return rc;
	rc = parent_get(st, txn, brand_id, serial, &p);
	read_end(st);
	if (rc == 0)
		*parent = p;
	return map_err(rc);
}

int
store_children_each(struct store *st, uint32_t brand_id, uint64_t parent,
    int (*fn)(void *arg, uint64_t child), void *arg)
{
	uint8_t pk[CODE_KEY_LEN];
	MDB_cursor *cur;
	MDB_txn *txn;
	MDB_val k = mval(pk, CODE_KEY_LEN), v;
	int rc, stop = 0;

	if (st->trace_absent || parent > CODE_SERIAL_MAX)
		return 0;
	code_key_put(pk, brand_id, parent);
	if ((rc = read_begin(st, &txn)) != 0)
		return rc;
	if ((rc = mdb_cursor_open(txn, st->children, &cur)) != 0)
		goto out;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_DUP)) {
		if (v.mv_size != 8) {
			rc = SIGIL_EIO;
			break;
		}
		if ((stop = fn(arg, sigil_be64_get(v.mv_data))) != 0)
			break;
	}
	mdb_cursor_close(cur);
	if (rc == MDB_NOTFOUND)
		rc = 0;
out:
	read_end(st);
	return stop ? stop : map_err(rc);
}

/* ---- shipments ---- */

static void
shipment_encode(const struct shipment *s, uint64_t ship_event, uint8_t *p)
{
	le32_put(p, s->brand_id);
	le32_put(p + 4, s->distributor);
	le64_put(p + 8, (uint64_t)s->shipped_at);
	le64_put(p + 16, (uint64_t)s->received_at);
	le64_put(p + 24, s->codes);
	le64_put(p + 32, ship_event);
}

static int
shipment_load(struct store *st, MDB_txn *txn, uint64_t id,
    struct shipment *out, uint64_t *ship_event)
{
	uint8_t kb[8];
	MDB_val k = mval(kb, 8), v;
	const uint8_t *p;
	int rc;

	sigil_be64_put(kb, id);
	if ((rc = mdb_get(txn, st->shipments, &k, &v)) != 0)
		return map_err(rc);
	if (v.mv_size != SHIPMENT_LEN)
		return SIGIL_EIO;
	p = v.mv_data;
	out->id = id;
	out->brand_id = le32_get(p);
	out->distributor = le32_get(p + 4);
	out->shipped_at = (int64_t)le64_get(p + 8);
	out->received_at = (int64_t)le64_get(p + 16);
	out->codes = le64_get(p + 24);
	if (ship_event)
		*ship_event = le64_get(p + 32);
	return 0;
}

struct ship_arg {
	uint32_t	 brand_id, distributor;
	const uint64_t	*roots;		/* sorted, unique, in range */
	size_t		 n;
	int64_t		 now;
	struct u64vec	 todo;		/* codes still to mark */
	struct shipment	 out;
};

/*
 * Marks every root and everything packed inside it, depth first with an
 * explicit stack (nesting depth is up to the brand). A root packed inside
 * another root is covered by that one and not walked twice, so codes
 * counts each code once.
 */
static int
ship_fn(struct store *st, MDB_txn *txn, void *arg)
{
	struct ship_arg *a = arg;
	struct range_cache rcache = { 0, 0 };
	struct trace_event ev = { 0 };
	uint8_t ck[CODE_KEY_LEN], idb[8], vb[SHIPMENT_LEN];
	MDB_cursor *cur;
	MDB_val k, v;
	uint64_t id, codes = 0, up;
	int rc;

	if ((rc = distributor_exists(st, txn, a->brand_id,
	    a->distributor)) != 0)
		return rc;
	for (size_t i = 0; i < a->n; i++)
		if ((rc = serial_issued(st, txn, a->brand_id, a->roots[i],
		    &rcache)) != 0)
			return rc;
	a->todo.n = 0;
	for (size_t i = 0; i < a->n; i++) {
		int covered = 0;

		up = a->roots[i];
		for (int depth = 0; depth < TRACE_DEPTH_MAX && !covered;
		    depth++) {
			if ((rc = parent_get(st, txn, a->brand_id, up, &up)) ==
			    MDB_NOTFOUND)
				break;
			if (rc != 0)
				return rc;
			covered = sorted_has(a->roots, a->n, up);
		}
		if (!covered && (rc = u64vec_push(&a->todo, a->roots[i])) != 0)
			return rc;
	}
	if ((rc = meta_next(st, txn, meta_key("next_shipment"), 1,
	    UINT64_MAX - 1, &id)) != 0)
		return rc;
	sigil_be64_put(idb, id);
	if ((rc = mdb_cursor_open(txn, st->children, &cur)) != 0)
		return rc;
	while (a->todo.n > 0) {
		uint64_t s = a->todo.v[--a->todo.n];

		code_key_put(ck, a->brand_id, s);
		k = mval(ck, CODE_KEY_LEN);
		v = mval(idb, 8);
		if ((rc = mdb_put(txn, st->shipped, &k, &v, 0)) != 0)
			goto out;
		codes++;
		for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY); rc == 0;
		    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_DUP)) {
			if (v.mv_size != 8) {
				rc = SIGIL_EIO;
				goto out;
			}
			if (codes + a->todo.n >= STORE_SHIP_MAX) {
				rc = SIGIL_EFULL;
				goto out;
			}
			if ((rc = u64vec_push(&a->todo,
			    sigil_be64_get(v.mv_data))) != 0)
				goto out;
		}
		if (rc != MDB_NOTFOUND)
			goto out;
	}
	ev.type = EVENT_SHIP;
	ev.brand_id = a->brand_id;
	ev.at = a->now;
	ev.distributor = a->distributor;
	ev.shipment = id;
	ev.n = a->n;
	ev.serials = (uint64_t *)a->roots;
	if ((rc = event_append(st, txn, &ev)) != 0)
		goto out;
	a->out.id = id;
	a->out.brand_id = a->brand_id;
	a->out.distributor = a->distributor;
	a->out.shipped_at = a->now;
	a->out.received_at = 0;
	a->out.codes = codes;
	shipment_encode(&a->out, ev.id, vb);
	k = mval(idb, 8);
	v = mval(vb, SHIPMENT_LEN);
	rc = mdb_put(txn, st->shipments, &k, &v, MDB_APPEND);
out:
	mdb_cursor_close(cur);
	return rc;
}

int
store_ship(struct store *st, uint32_t brand_id, uint32_t distributor,
    const uint64_t *codes, size_t n, struct shipment *out)
{
	struct ship_arg a = { brand_id, distributor, NULL, n, sigil_now_us(),
	    { 0 }, { 0 } };
	uint64_t *sorted;
	int rc;

	if (n == 0 || n > STORE_AGG_MAX || codes == NULL)
		return SIGIL_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (codes[i] == 0 || codes[i] > CODE_SERIAL_MAX)
			return SIGIL_ENOTFOUND;
	if ((rc = serials_sorted(codes, n, &sorted)) != 0)
		return rc;
	a.roots = sorted;
	rc = store_write(st, ship_fn, &a);
	free(sorted);
	free(a.todo.v);
	if (rc == 0 && out)
		*out = a.out;
	return rc;
}

int
store_shipment_get(struct store *st, uint64_t id, struct shipment *out)
{
	MDB_txn *txn;
	int rc;

	if (st->trace_absent)
		return SIGIL_ENOTFOUND;
	if ((rc = read_begin(st, &txn)) != 0)
		return rc;
	rc = shipment_load(st, txn, id, out, NULL);
	read_end(st);
	return rc;
}

struct receive_arg {
	uint64_t	id;
	int64_t		now;
	struct u64vec	roots;
	struct shipment	out;
};

/* The RECEIVE event names the shipment's roots, like its SHIP event. */
static int
receive_fn(struct store *st, MDB_txn *txn, void *arg)
{
	struct receive_arg *a = arg;
	struct trace_event ship, ev = { 0 };
	struct shipment s;
	uint8_t kb[8], vb[SHIPMENT_LEN];
	MDB_val k = mval(kb, 8), v = mval(vb, SHIPMENT_LEN);
	uint64_t ship_event;
	int rc;

	if ((rc = shipment_load(st, txn, a->id, &s, &ship_event)) != 0)
		return rc;
	if (s.received_at != 0)
		return SIGIL_ESTATE;
	if ((rc = event_load(st, txn, ship_event, &ship, &a->roots)) != 0)
		return rc;
	ev.type = EVENT_RECEIVE;
	ev.brand_id = s.brand_id;
	ev.at = a->now;
	ev.distributor = s.distributor;
	ev.shipment = s.id;
	ev.n = ship.n;
	ev.serials = ship.serials;
	if ((rc = event_append(st, txn, &ev)) != 0)
		return rc;
	s.received_at = a->now;
	sigil_be64_put(kb, s.id);
	shipment_encode(&s, ship_event, vb);
	if ((rc = mdb_put(txn, st->shipments, &k, &v, 0)) != 0)
		return rc;
	a->out = s;
	return 0;
}

int
store_shipment_receive(struct store *st, uint64_t id, struct shipment *out)
{
	struct receive_arg a = { id, sigil_now_us(), { 0 }, { 0 } };
	int rc;

	rc = store_write(st, receive_fn, &a);
	free(a.roots.v);
	if (rc == 0 && out)
		*out = a.out;
	return rc;
}

int
store_code_shipment(struct store *st, uint32_t brand_id, uint64_t serial,
    struct shipment *out)
{
	uint8_t ck[CODE_KEY_LEN];
	MDB_val k = mval(ck, CODE_KEY_LEN), v;
	MDB_txn *txn;
	int rc;

	if (st->trace_absent || serial > CODE_SERIAL_MAX)
		return SIGIL_ENOTFOUND;
	code_key_put(ck, brand_id, serial);
	if ((rc = read_begin(st, &txn)) != 0)
		return rc;
	rc = mdb_get(txn, st->shipped, &k, &v);
	if (rc == 0 && v.mv_size != 8)
		rc = SIGIL_EIO;
	if (rc == 0)
		rc = shipment_load(st, txn, sigil_be64_get(v.mv_data), out,
		    NULL);
	read_end(st);
	return map_err(rc);
}

/* ---- a code's history ---- */

/*
 * Collected ids are tagged in bit 0 (after shifting): 1 for an id found
 * only through an ancestor, whose event is reported only when it is a
 * SHIP or RECEIVE (an item travels with its case, but the case's other
 * history is the case's).
 */
static int
code_events_collect(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t serial, struct u64vec *ids)
{
	uint8_t ck[CODE_KEY_LEN], bk[8];
	struct u64vec found = { 0 };
	struct batch b;
	uint64_t up = serial;
	int rc;

	code_key_put(ck, brand_id, serial);
	if ((rc = dups_collect(txn, st->code_events, mval(ck, CODE_KEY_LEN),
	    &found)) != 0)
		goto out;
	rc = batch_find(st, txn, brand_id, serial, &b);
	if (rc == 0) {
		sigil_be64_put(bk, b.id);
		rc = dups_collect(txn, st->batch_events, mval(bk, 8), &found);
	} else if (rc == SIGIL_ENOTFOUND)
		rc = 0;
	if (rc != 0)
		goto out;
	for (size_t i = 0; i < found.n; i++)
		if ((rc = u64vec_push(ids, found.v[i] << 1)) != 0)
			goto out;
	for (int depth = 0; depth < TRACE_DEPTH_MAX; depth++) {
		if ((rc = parent_get(st, txn, brand_id, up, &up)) ==
		    MDB_NOTFOUND) {
			rc = 0;
			break;
		}
		if (rc != 0)
			goto out;
		found.n = 0;
		code_key_put(ck, brand_id, up);
		if ((rc = dups_collect(txn, st->code_events,
		    mval(ck, CODE_KEY_LEN), &found)) != 0)
			goto out;
		for (size_t i = 0; i < found.n; i++)
			if ((rc = u64vec_push(ids, found.v[i] << 1 | 1)) != 0)
				goto out;
	}
out:
	free(found.v);
	return rc;
}

int
store_code_events(struct store *st, uint32_t brand_id, uint64_t serial,
    int (*fn)(void *arg, const struct trace_event *ev), void *arg)
{
	struct u64vec ids = { 0 }, buf = { 0 };
	struct trace_event ev;
	MDB_txn *txn;
	int rc, stop = 0;

	if (st->trace_absent || serial == 0 || serial > CODE_SERIAL_MAX)
		return 0;
	if ((rc = read_begin(st, &txn)) != 0)
		return rc;
	if ((rc = code_events_collect(st, txn, brand_id, serial, &ids)) != 0)
		goto out;
	/* Sorted, an own id (tag 0) comes just before the same id seen
	 * through an ancestor (tag 1), which is then skipped. */
	if (ids.n > 1)
		qsort(ids.v, ids.n, sizeof(*ids.v), u64_cmp);
	for (size_t i = 0; i < ids.n; i++) {
		uint64_t id = ids.v[i] >> 1;
		int via_ancestor = ids.v[i] & 1;

		if (i > 0 && ids.v[i - 1] >> 1 == id)
			continue;
		if ((rc = event_load(st, txn, id, &ev, &buf)) != 0)
			break;
		if (via_ancestor && ev.type != EVENT_SHIP &&
		    ev.type != EVENT_RECEIVE)
			continue;
		if ((stop = fn(arg, &ev)) != 0)
			break;
	}
out:
	read_end(st);
	free(ids.v);
	free(buf.v);
	return stop ? stop : map_err(rc);
}

/* ---- alerts ---- */

static int
alert_append(struct store *st, MDB_txn *txn, const struct alert *al)
{
	uint8_t idb[8], bk[12], vb[ALERT_REC_LEN];
	MDB_val k = mval(idb, 8), v = mval(vb, ALERT_REC_LEN);
	uint64_t id;
	int rc;

	if ((rc = meta_next(st, txn, meta_key("next_alert"), 1,
	    UINT64_MAX - 1, &id)) != 0)
		return rc;
	sigil_be64_put(idb, id);
	le32_put(vb, al->brand_id);
	vb[4] = (uint8_t)al->type;
	le64_put(vb + 5, (uint64_t)al->at);
	le64_put(vb + 13, al->serial);
	le64_put(vb + 21, al->scan_id);
	le32_put(vb + 29, al->distributor);
	lef32_put(vb + 33, al->distance_km);
	lef32_put(vb + 37, al->lat);
	lef32_put(vb + 41, al->lng);
	if ((rc = mdb_put(txn, st->alerts, &k, &v, MDB_APPEND)) != 0)
		return rc;
	sigil_be32_put(bk, al->brand_id);
	sigil_be64_put(bk + 4, id);
	k = mval(bk, 12);
	v = mval("", 0);
	return mdb_put(txn, st->brand_alerts, &k, &v, 0);
}

static int
alert_decode(uint64_t id, MDB_val v, struct alert *out)
{
	const uint8_t *p = v.mv_data;
	struct alert a = { .id = id };

	if (v.mv_size != ALERT_REC_LEN || p[4] < ALERT_CLONE_SCANNERS ||
	    p[4] > ALERT_DIVERSION)
		return SIGIL_EIO;
	a.brand_id = le32_get(p);
	a.type = p[4];
	a.at = (int64_t)le64_get(p + 5);
	a.serial = le64_get(p + 13);
	a.scan_id = le64_get(p + 21);
	a.distributor = le32_get(p + 29);
	a.distance_km = lef32_get(p + 33);
	a.lat = lef32_get(p + 37);
	a.lng = lef32_get(p + 41);
	*out = a;
	return 0;
}

/* One alert per evidence flag in flags, for the judged scan r. */
int
scan_alerts(struct store *st, MDB_txn *txn, const struct scan_rec *r,
    unsigned flags, int64_t at)
{
	static const struct {
		unsigned	flag;
		int		type;
	} kinds[] = {
		{ SCAN_CLONE_SCANNERS, ALERT_CLONE_SCANNERS },
		{ SCAN_CLONE_TRAVEL, ALERT_CLONE_TRAVEL },
		{ SCAN_DIVERSION, ALERT_DIVERSION },
	};
	int rc;

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		struct alert al = { 0 };

		if (!(flags & kinds[i].flag))
			continue;
		al.brand_id = r->brand_id;
		al.type = kinds[i].type;
		al.at = at;
		al.serial = r->serial;
		al.scan_id = r->id;
		if (kinds[i].type == ALERT_DIVERSION) {
			al.distributor = r->distributor;
			al.distance_km = r->diversion_km;
		}
		if (r->flags & SCAN_HAS_LOC) {
			al.lat = r->lat;
			al.lng = r->lng;
		}
		if ((rc = alert_append(st, txn, &al)) != 0)
			return rc;
	}
	return 0;
}

int
store_alert_each(struct store *st, uint32_t brand_id, uint64_t after,
    int type, int64_t since, size_t limit,
    int (*fn)(void *arg, const struct alert *a), void *arg)
{
	uint8_t kb[12], ib[8];
	MDB_cursor *cur;
	MDB_txn *txn;
	MDB_val k = mval(kb, 12), v, ik = mval(ib, 8), iv;
	struct alert al;
	size_t seen = 0;
	int rc, stop = 0;

	if (st->trace_absent || after == UINT64_MAX)
		return 0;
	sigil_be32_put(kb, brand_id);
	sigil_be64_put(kb + 4, after + 1);
	if ((rc = read_begin(st, &txn)) != 0)
		return rc;
	if ((rc = mdb_cursor_open(txn, st->brand_alerts, &cur)) != 0)
		goto out;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 12) {
			rc = SIGIL_EIO;
			break;
		}
		if (sigil_be32_get(k.mv_data) != brand_id ||
		    (limit && seen == limit)) {
			rc = MDB_NOTFOUND;
			break;
		}
		memcpy(ib, (const uint8_t *)k.mv_data + 4, 8);
		if ((rc = mdb_get(txn, st->alerts, &ik, &iv)) != 0) {
			rc = rc == MDB_NOTFOUND ? SIGIL_EIO : rc;
			break;
		}
		if ((rc = alert_decode(sigil_be64_get(ib), iv, &al)) != 0)
			break;
		if ((type && al.type != type) || al.at < since)
			continue;
		seen++;
		if ((stop = fn(arg, &al)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	if (rc == MDB_NOTFOUND)
		rc = 0;
out:
	read_end(st);
	return stop ? stop : map_err(rc);
}
