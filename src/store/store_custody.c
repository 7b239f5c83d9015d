/*
 * store_custody.c - the chain of custody: what is packed inside what,
 * where it was shipped, and a code's history through both.
 *
 * Owns the tables parents, children, shipments and shipped, and the meta
 * counter next_shipment. Aggregation keeps both directions (a child's
 * parent, a parent's children as sorted duplicates); a shipment marks
 * every code it covers, descendants included, in shipped. Each
 * multi-code operation validates everything before its first write, so
 * a refusal is clean even before the abort, and bulk writes go in key
 * order so LMDB can append instead of search.
 * May call: libc, LMDB, util.c, store_env.c, store_catalog.c (a serial
 * must be issued in one of the brand's batches) and store_trace.c
 * (every aggregation, shipment and receipt appends an event; a
 * shipment names a distributor).
 * Must never: be called by store_trace.c or the catalog (it is above
 * both), or walk a hierarchy deeper than TRACE_DEPTH_MAX levels.
 */
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "sigil/code.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "store_impl.h"

#define SHIPMENT_LEN		40
#define TRACE_DEPTH_MAX		1024	/* nesting levels walked upwards */

/* ---- the serials a call names ---- */

static int
sorted_has(const uint64_t *s, size_t n, uint64_t v)
{
	return bsearch(&v, s, n, sizeof(*s), u64_cmp) != NULL;
}

/*
 * A sorted copy of serials (n >= 1; the caller frees *out):
 * SIGIL_ENOTFOUND for a serial no batch can hold (0, or above
 * CODE_SERIAL_MAX), SIGIL_EINVAL for none at all or a duplicate.
 */
static int
serials_sorted(const uint64_t *in, size_t n, uint64_t **out)
{
	uint64_t *s;

	if (in == NULL)
		return SIGIL_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (in[i] == 0 || in[i] > CODE_SERIAL_MAX)
			return SIGIL_ENOTFOUND;
	if ((s = malloc(n * sizeof(*s))) == NULL)
		return SIGIL_ENOMEM;
	memcpy(s, in, n * sizeof(*s));
	qsort(s, n, sizeof(*s), u64_cmp);
	for (size_t i = 1; i < n; i++)
		if (s[i] == s[i - 1]) {
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

/* ---- aggregation ---- */

/*
 * The id a code's row holds in a code-keyed table (parents: the parent's
 * serial; shipped: the shipment): 0, MDB_NOTFOUND or an error.
 */
static int
code_row_id(MDB_txn *txn, MDB_dbi dbi, uint32_t brand_id, uint64_t serial,
    uint64_t *out)
{
	uint8_t ck[CODE_KEY_LEN];
	MDB_val k = mval(ck, CODE_KEY_LEN), v;
	int rc;

	code_key_put(ck, brand_id, serial);
	if ((rc = mdb_get(txn, dbi, &k, &v)) != 0)
		return rc;
	if (v.mv_size != 8)
		return SIGIL_EIO;
	*out = sigil_be64_get(v.mv_data);
	return 0;
}

/* The direct parent: 0, MDB_NOTFOUND or an error. */
int
parent_get(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t serial, uint64_t *out)
{
	return code_row_id(txn, st->parents, brand_id, serial, out);
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

/* The event of an aggregation or its undoing, naming list; a->event_id. */
static int
agg_event(struct store *st, MDB_txn *txn, struct agg_arg *a, int type,
    const uint64_t *list, size_t n)
{
	struct trace_event ev = { .type = type, .brand_id = a->brand_id,
	    .at = a->now, .parent = a->parent, .n = n,
	    .serials = (uint64_t *)list };
	int rc;

	if ((rc = event_append(st, txn, &ev)) != 0)
		return rc;
	a->event_id = ev.id;
	return 0;
}

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
	return agg_event(st, txn, a, EVENT_AGGREGATE, a->children, a->n);
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
	if ((rc = serials_sorted(children, n, &sorted)) != 0)
		return rc;
	if (sorted_has(sorted, n, parent)) {
		free(sorted);
		return SIGIL_EINVAL;
	}
	a.children = sorted;
	rc = STORE_WRITE_OUT(st, aggregate_fn, &a, a.event_id, event_id);
	free(sorted);
	return rc;
}

static int
disaggregate_fn(struct store *st, MDB_txn *txn, void *arg)
{
	struct agg_arg *a = arg;
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
	return agg_event(st, txn, a, EVENT_DISAGGREGATE, list, n);
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
	if (n > 0 && (rc = serials_sorted(children, n, &sorted)) != 0)
		return rc;
	a.children = sorted;
	rc = STORE_WRITE_OUT(st, disaggregate_fn, &a, a.event_id, event_id);
	free(sorted);
	free(a.all.v);
	return rc;
}

int
store_parent(struct store *st, uint32_t brand_id, uint64_t serial,
    uint64_t *parent)
{
	uint64_t p;
	int rc;

	if (st->trace_absent || serial > CODE_SERIAL_MAX)
		return SIGIL_ENOTFOUND;
	if ((rc = STORE_READ(st, parent_get(st, txn, brand_id, serial,
	    &p))) == 0)
		*parent = p;
	return rc;
}

struct child_walk {
	int	(*fn)(void *arg, uint64_t child);
	void	*arg;
};

static int
child_row(void *ctx, MDB_txn *txn, MDB_val k, MDB_val v, int *stop)
{
	struct child_walk *w = ctx;

	(void)txn;
	(void)k;
	if (v.mv_size != 8)
		return SIGIL_EIO;
	*stop = w->fn(w->arg, sigil_be64_get(v.mv_data));
	return 0;
}

int
store_children_each(struct store *st, uint32_t brand_id, uint64_t parent,
    int (*fn)(void *arg, uint64_t child), void *arg)
{
	struct child_walk w = { fn, arg };
	uint8_t pk[CODE_KEY_LEN];

	if (st->trace_absent || parent > CODE_SERIAL_MAX)
		return 0;
	code_key_put(pk, brand_id, parent);
	return store_walk(st, st->children, WALK_DUPS, mval(pk, CODE_KEY_LEN),
	    child_row, &w);
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
	const uint8_t *p;
	MDB_val v;
	int rc;

	if ((rc = id_get(txn, st->shipments, id, &v)) != 0)
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
	if ((rc = serials_sorted(codes, n, &sorted)) != 0)
		return rc;
	a.roots = sorted;
	rc = STORE_WRITE_OUT(st, ship_fn, &a, a.out, out);
	free(sorted);
	free(a.todo.v);
	return rc;
}

int
store_shipment_get(struct store *st, uint64_t id, struct shipment *out)
{
	if (st->trace_absent)
		return SIGIL_ENOTFOUND;
	return STORE_READ(st, shipment_load(st, txn, id, out, NULL));
}

/* The walk of store_shipment_each_before: the brand's rows only. */
struct ship_walk {
	struct each_ctx	 c;
	size_t		 budget, seen;
	uint64_t	*stopped_at;
};

static int
shipment_back_row(void *ctx, MDB_txn *txn, MDB_val k, MDB_val v, int *stop)
{
	struct ship_walk *w = ctx;
	struct shipment s;
	int rc;

	(void)v;
	if (k.mv_size != 8)
		return SIGIL_EIO;
	if ((rc = shipment_load(w->c.st, txn, sigil_be64_get(k.mv_data), &s,
	    NULL)) != 0)
		return rc;
	if (s.brand_id == w->c.brand_id)
		*stop = ((int (*)(void *, const struct shipment *))w->c.fn)(
		    w->c.arg, &s);
	if (*stop == 0 && w->budget != 0 && ++w->seen >= w->budget) {
		*w->stopped_at = s.id;
		*stop = 1;
	}
	return 0;
}

int
store_shipment_each_before(struct store *st, uint32_t brand_id,
    uint64_t before, size_t budget, uint64_t *stopped_at,
    int (*fn)(void *arg, const struct shipment *s), void *arg)
{
	uint64_t dummy;
	struct ship_walk w = { { st, brand_id, (any_fn)fn, arg }, budget, 0,
	    stopped_at != NULL ? stopped_at : &dummy };
	uint8_t kb[8];
	int rc;

	*w.stopped_at = 0;
	if (st->trace_absent)
		return 0;
	sigil_be64_put(kb, before == 0 ? UINT64_MAX : before);
	rc = store_walk_before(st, st->shipments, mval(kb, 8),
	    shipment_back_row, &w);
	return *w.stopped_at != 0 && rc == 1 ? 0 : rc;
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

	rc = STORE_WRITE_OUT(st, receive_fn, &a, a.out, out);
	free(a.roots.v);
	return rc;
}

static int
code_shipment_load(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t serial, struct shipment *out)
{
	uint64_t id;
	int rc;

	if ((rc = code_row_id(txn, st->shipped, brand_id, serial, &id)) != 0)
		return rc;
	return shipment_load(st, txn, id, out, NULL);
}

int
store_code_shipment(struct store *st, uint32_t brand_id, uint64_t serial,
    struct shipment *out)
{
	if (st->trace_absent || serial > CODE_SERIAL_MAX)
		return SIGIL_ENOTFOUND;
	return STORE_READ(st, code_shipment_load(st, txn, brand_id, serial,
	    out));
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

/* A code's events in id order, to fn until it returns nonzero (*stop). */
static int
code_events_walk(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t serial, struct u64vec *ids, struct u64vec *buf,
    int (*fn)(void *arg, const struct trace_event *ev), void *arg,
    int *stop)
{
	struct trace_event ev;
	int rc;

	if ((rc = code_events_collect(st, txn, brand_id, serial, ids)) != 0)
		return rc;
	/* Sorted, an own id (tag 0) comes just before the same id seen
	 * through an ancestor (tag 1), which is then skipped. */
	if (ids->n > 1)
		qsort(ids->v, ids->n, sizeof(*ids->v), u64_cmp);
	for (size_t i = 0; i < ids->n; i++) {
		uint64_t id = ids->v[i] >> 1;
		int via_ancestor = ids->v[i] & 1;

		if (i > 0 && ids->v[i - 1] >> 1 == id)
			continue;
		if ((rc = event_load(st, txn, id, &ev, buf)) != 0)
			return rc;
		if (via_ancestor && ev.type != EVENT_SHIP &&
		    ev.type != EVENT_RECEIVE)
			continue;
		if ((*stop = fn(arg, &ev)) != 0)
			break;
	}
	return 0;
}

int
store_code_events(struct store *st, uint32_t brand_id, uint64_t serial,
    int (*fn)(void *arg, const struct trace_event *ev), void *arg)
{
	struct u64vec ids = { 0 }, buf = { 0 };
	int rc, stop = 0;

	if (st->trace_absent || serial == 0 || serial > CODE_SERIAL_MAX)
		return 0;
	rc = STORE_READ(st, code_events_walk(st, txn, brand_id, serial, &ids,
	    &buf, fn, arg, &stop));
	free(ids.v);
	free(buf.v);
	return stop ? stop : rc;
}
