/*
 * store_trace.c - the trace log: distributors and the EPCIS event log.
 *
 * Owns the tables distributors, events, brand_events, code_events and
 * batch_events, their encodings, and the meta counters
 * next_distributor/<brand> and next_event. Events are append-only,
 * numbered in one sequence, and indexed by brand, code and batch so that
 * a brand's feed or a code's history never walks another brand's rows.
 * (Alerts, which were here, are store_alerts.c's.)
 * May call: libc, LMDB, util.c, store_env.c and store_catalog.c (an
 * event's brand and batch must exist). store_custody.c appends its
 * events here (event_append).
 * Must never: call those two back, or any family above the catalog.
 *
 * Traceability lives in tables added after schema 1 without touching
 * any existing encoding: a read-write open creates them, a read-only
 * open of an older store reads them as empty (trace_absent).
 */
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "sigil/code.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "store_impl.h"

/* Packed value sizes; layouts in docs/storage.md. */
#define DIST_FIXED_LEN		10
#define DIST_GLN_LEN		13
#define EVENT_FIXED_LEN		53

/* ---- distributors ---- */

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
	size_t nl, tl, gl;

	if (k.mv_size != 8 || v.mv_size < DIST_FIXED_LEN)
		return SIGIL_EIO;
	/*
	 * p[8]: bit 0 territory present, bits 1-6 the name length >> 8,
	 * bit 7 a GLN (13 digits) before the name.
	 */
	gl = (p[8] & 0x80) ? DIST_GLN_LEN : 0;
	nl = (size_t)((p[8] >> 1) & 0x3f) << 8 | p[9];
	if (nl == 0 || nl > STORE_TEXT_BYTES ||
	    v.mv_size < DIST_FIXED_LEN + gl + nl)
		return SIGIL_EIO;
	tl = v.mv_size - DIST_FIXED_LEN - gl - nl;
	if (((p[8] & 1) == 0 && tl != 0) || tl > STORE_GEOJSON_MAX)
		return SIGIL_EIO;
	d.brand_id = sigil_be32_get(k.mv_data);
	d.id = sigil_be32_get((const uint8_t *)k.mv_data + 4);
	d.created = (int64_t)le64_get(p);
	memcpy(d.gln, p + DIST_FIXED_LEN, gl);
	memcpy(d.name, p + DIST_FIXED_LEN + gl, nl);
	if (with_territory && (p[8] & 1)) {
		if ((d.territory = malloc(tl + 1)) == NULL)
			return SIGIL_ENOMEM;
		memcpy(d.territory, p + DIST_FIXED_LEN + gl + nl, tl);
		d.territory[tl] = '\0';
	}
	*out = d;
	return 0;
}

struct dist_arg {
	struct distributor	d;
	size_t			tlen;
};

/* Writes a->d under its key: the packed value (layout in docs/storage.md). */
static int
distributor_put(struct store *st, MDB_txn *txn, struct dist_arg *a,
    unsigned flags)
{
	uint8_t kb[8], *p;
	size_t nl = strlen(a->d.name), gl = a->d.gln[0] ? DIST_GLN_LEN : 0;
	MDB_val k = mval(kb, 8), v;
	int rc;

	bid_key(kb, a->d.brand_id, a->d.id);
	v = mval(NULL, DIST_FIXED_LEN + gl + nl + a->tlen);
	if ((rc = mdb_put(txn, st->distributors, &k, &v, flags |
	    MDB_RESERVE)) != 0)
		return rc;
	p = v.mv_data;
	le64_put(p, (uint64_t)a->d.created);
	p[8] = (uint8_t)((a->d.territory != NULL) | (nl >> 8) << 1 |
	    (gl ? 0x80 : 0));
	p[9] = (uint8_t)nl;
	memcpy(p + DIST_FIXED_LEN, a->d.gln, gl);
	memcpy(p + DIST_FIXED_LEN + gl, a->d.name, nl);
	if (a->tlen)
		memcpy(p + DIST_FIXED_LEN + gl + nl, a->d.territory, a->tlen);
	return 0;
}

static int
distributor_add_fn(struct store *st, MDB_txn *txn, void *arg)
{
	struct dist_arg *a = arg;
	uint8_t sk[17 + 4];
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
	return distributor_put(st, txn, a, MDB_NOOVERWRITE);
}

/* The fields named (STORE_DIST_*, all for an add) are as the store
 * takes them; *tlen the territory's length. */
static int
dist_fields_ok(const struct distributor *d, unsigned fields, size_t *tlen)
{
	if ((fields & STORE_DIST_NAME) &&
	    !text_ok(d->name, sizeof(d->name), STORE_TEXT_MAX, 0))
		return 0;
	if ((fields & STORE_DIST_GLN) && d->gln[0] != '\0') {
		if (strnlen(d->gln, sizeof d->gln) != DIST_GLN_LEN)
			return 0;
		for (size_t i = 0; i < DIST_GLN_LEN; i++)
			if (d->gln[i] < '0' || d->gln[i] > '9')
				return 0;
	}
	*tlen = 0;
	return !(fields & STORE_DIST_TERRITORY) || d->territory == NULL ||
	    (*tlen = strnlen(d->territory, STORE_GEOJSON_MAX + 1)) <=
	    STORE_GEOJSON_MAX;
}

struct dist_update {
	struct dist_arg	a;
	unsigned	fields;
	struct distributor out;		/* as it is now, without territory */
};

static int
distributor_load(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint32_t id, int territory, struct distributor *out);

static int
distributor_update_fn(struct store *st, MDB_txn *txn, void *arg)
{
	struct dist_update *u = arg;
	struct distributor cur;
	struct dist_arg w;
	int rc;

	if ((rc = distributor_load(st, txn, u->a.d.brand_id, u->a.d.id, 1,
	    &cur)) != 0)
		return rc;
	w.d = cur;
	if (u->fields & STORE_DIST_NAME)
		memcpy(w.d.name, u->a.d.name, sizeof w.d.name);
	if (u->fields & STORE_DIST_GLN)
		memcpy(w.d.gln, u->a.d.gln, sizeof w.d.gln);
	if (u->fields & STORE_DIST_TERRITORY)
		w.d.territory = u->a.d.territory;
	w.tlen = w.d.territory != NULL ? strlen(w.d.territory) : 0;
	rc = distributor_put(st, txn, &w, 0);
	u->out = w.d;
	u->out.territory = NULL;
	free(cur.territory);
	return rc;
}

int
store_distributor_update(struct store *st, struct distributor *d,
    unsigned fields)
{
	struct dist_update u;

	memset(&u, 0, sizeof u);
	if (d == NULL || fields == 0 || !dist_fields_ok(d, fields, &u.a.tlen))
		return SIGIL_EINVAL;
	if (st->trace_absent)
		return SIGIL_ENOTFOUND;
	u.a.d = *d;
	u.fields = fields;
	return STORE_WRITE_OUT(st, distributor_update_fn, &u, u.out, d);
}

int
store_distributor_add(struct store *st, struct distributor *d)
{
	struct dist_arg a;

	if (d == NULL || !dist_fields_ok(d, STORE_DIST_NAME | STORE_DIST_GLN |
	    STORE_DIST_TERRITORY, &a.tlen))
		return SIGIL_EINVAL;
	a.d = *d;
	a.d.created = sigil_now_us();
	return STORE_WRITE_OUT(st, distributor_add_fn, &a, a.d, d);
}

int
distributor_exists(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint32_t id)
{
	uint8_t kb[8];
	MDB_val k = mval(kb, 8), v;

	bid_key(kb, brand_id, id);
	return mdb_get(txn, st->distributors, &k, &v);
}

/* One distributor, with its territory or (territory 0) its name alone. */
static int
distributor_load(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint32_t id, int territory, struct distributor *out)
{
	uint8_t kb[8];
	MDB_val k = mval(kb, 8), v;
	int rc;

	bid_key(kb, brand_id, id);
	if ((rc = mdb_get(txn, st->distributors, &k, &v)) != 0)
		return rc;
	return distributor_decode(k, v, territory, out);
}

int
store_distributor_get(struct store *st, uint32_t brand_id, uint32_t id,
    struct distributor *out)
{
	if (st->trace_absent)
		return SIGIL_ENOTFOUND;
	return STORE_READ(st, distributor_load(st, txn, brand_id, id, 1,
	    out));
}

void
store_distributor_clear(struct distributor *d)
{
	if (d == NULL)
		return;
	free(d->territory);
	d->territory = NULL;
}

/* A distributor of the walk's brand, without its territory. */
static int
dist_each_load(const struct each_ctx *c, MDB_txn *txn, MDB_val k, MDB_val v,
    struct distributor *d)
{
	(void)txn;
	if (k.mv_size != 8)
		return SIGIL_EIO;
	if (sigil_be32_get(k.mv_data) != c->brand_id)
		return MDB_NOTFOUND;
	return distributor_decode(k, v, 0, d);
}

EACH_ROW(dist_row, struct distributor, dist_each_load, 1)

/* The brand's distributors from id first on, in id order. */
static int
distributor_walk(struct store *st, uint32_t brand_id, uint32_t first,
    int (*fn)(void *arg, const struct distributor *d), void *arg)
{
	struct each_ctx c = { st, brand_id, (any_fn)fn, arg };
	uint8_t kb[8];

	if (st->trace_absent)
		return 0;
	bid_key(kb, brand_id, first);
	return store_walk(st, st->distributors, WALK_RANGE, mval(kb, 8),
	    dist_row, &c);
}

int
store_distributor_each(struct store *st, uint32_t brand_id,
    int (*fn)(void *arg, const struct distributor *d), void *arg)
{
	return distributor_walk(st, brand_id, 0, fn, arg);
}

int
store_distributor_page(struct store *st, uint32_t brand_id, uint32_t after,
    int (*fn)(void *arg, const struct distributor *d), void *arg)
{
	if (after == UINT32_MAX)
		return 0;
	return distributor_walk(st, brand_id, after + 1, fn, arg);
}

int
store_distributor_name(struct store *st, uint32_t brand_id, uint32_t id,
    struct distributor *out)
{
	if (st->trace_absent)
		return SIGIL_ENOTFOUND;
	return STORE_READ(st, distributor_load(st, txn, brand_id, id, 0,
	    out));
}

/*
 * A brand's feed: the ids its index (brand_events: keys
 * brand_id BE32 || id BE64) holds after `after`, in id order. item loads
 * one and hands it to the caller's callback as a walk's row would (0, an
 * error, *stop), or sets skip when the caller's filter leaves it out;
 * at most limit ids that were not skipped are handed on (0: no limit).
 */
struct feed {
	uint32_t	 brand_id;
	size_t		 limit, seen;
	int		 skip;
	int		(*item)(struct feed *f, MDB_txn *txn, uint64_t id,
			    int *stop);
};

/* ---- a brand's feeds: the index of the event log ---- */

/* A brand's index of its log (brand_id BE32 || id BE64 -> empty). */
static int
feed_index(MDB_txn *txn, MDB_dbi index, uint32_t brand_id, uint64_t id)
{
	uint8_t bk[12];
	MDB_val k = mval(bk, 12), v = mval("", 0);

	sigil_be32_put(bk, brand_id);
	sigil_be64_put(bk + 4, id);
	return mdb_put(txn, index, &k, &v, 0);
}

static int
feed_row(void *ctx, MDB_txn *txn, MDB_val k, MDB_val v, int *stop)
{
	struct feed *f = ctx;
	int rc;

	(void)v;
	if (k.mv_size != 12)
		return SIGIL_EIO;
	if (sigil_be32_get(k.mv_data) != f->brand_id ||
	    (f->limit && f->seen == f->limit))
		return MDB_NOTFOUND;
	f->skip = 0;
	if ((rc = f->item(f, txn, sigil_be64_get((const uint8_t *)k.mv_data +
	    4), stop)) != 0 || f->skip)
		return rc;
	f->seen++;
	return 0;
}

static int
feed_walk(struct store *st, MDB_dbi index, uint32_t brand_id,
    uint64_t after, size_t limit, struct feed *f)
{
	uint8_t kb[12];

	sigil_be32_put(kb, brand_id);
	sigil_be64_put(kb + 4, after + 1);
	f->brand_id = brand_id;
	f->limit = limit;
	f->seen = 0;
	return store_walk(st, index, WALK_RANGE, mval(kb, 12), feed_row, f);
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
int
event_append(struct store *st, MDB_txn *txn, struct trace_event *ev)
{
	uint8_t idb[8], bk[8], *p;
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
	if ((rc = feed_index(txn, st->brand_events, ev->brand_id, id)) != 0)
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

int
event_load(struct store *st, MDB_txn *txn, uint64_t id,
    struct trace_event *ev, struct u64vec *buf)
{
	MDB_val v;
	int rc;

	if ((rc = id_get(txn, st->events, id, &v)) != 0)
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
	return STORE_WRITE_OUT(st, event_add_fn, &work, work, ev);
}

/*
 * Was serial ever the parent of an AGGREGATE event? Its code_events
 * entries, each event's fixed head only (type, brand, parent): an
 * aggregation's children are never decoded, so asking this for each of
 * 100,000 children stays linear.
 */
static int
was_parent_txn(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t serial, int *out)
{
	uint8_t ck[CODE_KEY_LEN];
	struct u64vec ids = { 0 };
	const uint8_t *p;
	MDB_val v;
	int rc;

	*out = 0;
	code_key_put(ck, brand_id, serial);
	rc = dups_collect(txn, st->code_events, mval(ck, CODE_KEY_LEN), &ids);
	if (rc == MDB_NOTFOUND)
		rc = 0;
	for (size_t i = 0; rc == 0 && i < ids.n && !*out; i++) {
		if ((rc = id_get(txn, st->events, ids.v[i], &v)) != 0) {
			rc = rc == MDB_NOTFOUND ? SIGIL_EIO : rc;
			break;
		}
		if (v.mv_size < EVENT_FIXED_LEN) {
			rc = SIGIL_EIO;
			break;
		}
		p = v.mv_data;
		*out = p[0] == EVENT_AGGREGATE && le32_get(p + 1) == brand_id &&
		    le64_get(p + 13) == serial;
	}
	free(ids.v);
	return rc;
}

int
store_code_was_parent(struct store *st, uint32_t brand_id, uint64_t serial)
{
	int yes = 0, rc;

	if (st->trace_absent)
		return 0;
	rc = STORE_READ(st, was_parent_txn(st, txn, brand_id, serial, &yes));
	return rc < 0 ? rc : yes;
}

struct event_feed {
	struct feed	 f;		/* first: item gets it back */
	struct store	*st;
	int64_t		 from, to;
	int		 type;
	struct u64vec	 buf;
	int		(*fn)(void *arg, const struct trace_event *ev);
	void		*arg;
};

static int
event_item(struct feed *f, MDB_txn *txn, uint64_t id, int *stop)
{
	struct event_feed *e = (struct event_feed *)f;
	struct trace_event ev;
	int rc;

	if ((rc = event_load(e->st, txn, id, &ev, &e->buf)) != 0)
		return rc;
	if ((e->type && ev.type != e->type) || (e->from && ev.at < e->from) ||
	    (e->to && ev.at >= e->to)) {
		f->skip = 1;
		return 0;
	}
	*stop = e->fn(e->arg, &ev);
	return 0;
}

int
store_event_each(struct store *st, uint32_t brand_id, uint64_t after,
    int64_t from, int64_t to, int type, size_t limit,
    int (*fn)(void *arg, const struct trace_event *ev), void *arg)
{
	struct event_feed e = { { .item = event_item }, st, from, to, type,
	    { 0 }, fn, arg };
	int rc;

	if (st->trace_absent || after == UINT64_MAX)
		return 0;
	rc = feed_walk(st, st->brand_events, brand_id, after, limit, &e.f);
	free(e.buf.v);
	return rc;
}
