/*
 * store_outbox.c - the message outbox: one row per message to send,
 * added in the transaction that decided to send it (outbox_put, for the
 * other store files; store_outbox_add in a transaction of its own), read
 * by the dispatcher when due, and settled (sent, retried later, failed)
 * by the dispatcher's writer op.
 *
 *   outbox       brand BE32 || id BE64 -> kind u8, state u8, attempts
 *                u32, customer u64, source u32, next_at i64, created
 *                i64, sent_at i64, last_status i32, channel (u8 length
 *                and bytes), payload (u32 length and bytes)
 *   outbox_due   brand BE32 || next_at BE64 (sign bit flipped) || id
 *                BE64 -> 1 byte: the queued rows in the order they
 *                fall due, so the dispatcher reads only what is due
 *   outbox_cust  brand BE32 || customer BE64 || id BE64 -> created i64,
 *                kind u8: a customer's messages, for the frequency cap,
 *                the erasure's cut and the merge's move
 *
 * Brand first in every key. A message to a customer is personal data:
 * an erasure cuts the customer's rows from all three tables
 * (outbox_erase, called by store_erase.c), a merge makes them the
 * survivor's (outbox_move, in store_merge.c's list).
 *
 * Owns outbox, outbox_due, outbox_cust. May call libc, LMDB, jansson
 * (through json_text_ok), util.c, store_env.c and store_rows.c. Must
 * never call the files that call it (store_erase.c, store_merge.c,
 * store_messages.c).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sigil/store.h"
#include "sigil/util.h"
#include "store_impl.h"

#define OB_FIXED	46	/* bytes before the channel */
#define OB_KEY		12
#define OB_IDX_KEY	20

void
outbox_msg_clear(struct outbox_msg *m)
{
	free(m->payload);
	m->payload = NULL;
}

static void
ob_key(uint8_t kb[OB_KEY], uint32_t brand_id, uint64_t id)
{
	sigil_be32_put(kb, brand_id);
	sigil_be64_put(kb + 4, id);
}

static void
due_key(uint8_t kb[OB_IDX_KEY], uint32_t brand_id, int64_t at, uint64_t id)
{
	sigil_be32_put(kb, brand_id);
	sigil_be64_put(kb + 4, (uint64_t)at ^ (1ULL << 63));
	sigil_be64_put(kb + 12, id);
}

static void
cust_key(uint8_t kb[OB_IDX_KEY], uint32_t brand_id, uint64_t customer,
    uint64_t id)
{
	sigil_be32_put(kb, brand_id);
	sigil_be64_put(kb + 4, customer);
	sigil_be64_put(kb + 12, id);
}

/* Decodes a row, the payload into a malloc'd string (SIGIL_ENOMEM). */
static int
ob_decode(MDB_val k, MDB_val v, struct outbox_msg *o)
{
	const uint8_t *p = v.mv_data;
	size_t cl, pl;

	if (k.mv_size != OB_KEY || v.mv_size < OB_FIXED + 1 + 4)
		return SIGIL_EIO;
	cl = p[OB_FIXED];
	if (cl > OUTBOX_CHANNEL_MAX || v.mv_size < OB_FIXED + 1 + cl + 4)
		return SIGIL_EIO;
	pl = le32_get(p + OB_FIXED + 1 + cl);
	if (v.mv_size != OB_FIXED + 1 + cl + 4 + pl)
		return SIGIL_EIO;
	memset(o, 0, sizeof *o);
	o->brand_id = sigil_be32_get(k.mv_data);
	o->id = sigil_be64_get((const uint8_t *)k.mv_data + 4);
	o->kind = p[0];
	o->state = p[1];
	o->attempts = le32_get(p + 2);
	o->customer_id = le64_get(p + 6);
	o->source = le32_get(p + 14);
	o->next_at = (int64_t)le64_get(p + 18);
	o->created = (int64_t)le64_get(p + 26);
	o->sent_at = (int64_t)le64_get(p + 34);
	o->last_status = (int)le32_get(p + 42);
	memcpy(o->channel, p + OB_FIXED + 1, cl);
	o->channel[cl] = '\0';
	if ((o->payload = malloc(pl + 1)) == NULL)
		return SIGIL_ENOMEM;
	memcpy(o->payload, p + OB_FIXED + 1 + cl + 4, pl);
	o->payload[pl] = '\0';
	return 0;
}

static int
ob_decode_copy(MDB_val k, MDB_val v, void *out)
{
	return ob_decode(k, v, out);
}

/*
 * Writes o's row (payload of pl bytes) and, when queued, its due entry.
 * The caller has removed an older due entry.
 */
static int
ob_write(struct store *st, MDB_txn *txn, const struct outbox_msg *o,
    const char *payload, size_t pl)
{
	uint8_t kb[OB_KEY], dk[OB_IDX_KEY], one = 1, *vb;
	size_t cl = strlen(o->channel), len = OB_FIXED + 1 + cl + 4 + pl;
	MDB_val k = mval(kb, OB_KEY), v;
	int rc;

	if ((vb = malloc(len)) == NULL)
		return SIGIL_ENOMEM;
	vb[0] = (uint8_t)o->kind;
	vb[1] = (uint8_t)o->state;
	le32_put(vb + 2, o->attempts);
	le64_put(vb + 6, o->customer_id);
	le32_put(vb + 14, o->source);
	le64_put(vb + 18, (uint64_t)o->next_at);
	le64_put(vb + 26, (uint64_t)o->created);
	le64_put(vb + 34, (uint64_t)o->sent_at);
	le32_put(vb + 42, (uint32_t)o->last_status);
	vb[OB_FIXED] = (uint8_t)cl;
	memcpy(vb + OB_FIXED + 1, o->channel, cl);
	le32_put(vb + OB_FIXED + 1 + cl, (uint32_t)pl);
	memcpy(vb + OB_FIXED + 1 + cl + 4, payload, pl);
	ob_key(kb, o->brand_id, o->id);
	v = mval(vb, len);
	rc = mdb_put(txn, st->outbox, &k, &v, 0);
	free(vb);
	if (rc != 0 || o->state != OUTBOX_QUEUED)
		return rc;
	due_key(dk, o->brand_id, o->next_at, o->id);
	k = mval(dk, OB_IDX_KEY);
	v = mval(&one, 1);
	return mdb_put(txn, st->outbox_due, &k, &v, 0);
}

static int
due_del(struct store *st, MDB_txn *txn, const struct outbox_msg *o)
{
	uint8_t dk[OB_IDX_KEY];
	MDB_val k = mval(dk, OB_IDX_KEY);
	int rc;

	if (o->state != OUTBOX_QUEUED)
		return 0;
	due_key(dk, o->brand_id, o->next_at, o->id);
	rc = mdb_del(txn, st->outbox_due, &k, NULL);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static int
cust_put(struct store *st, MDB_txn *txn, const struct outbox_msg *o)
{
	uint8_t kb[OB_IDX_KEY], vb[9];
	MDB_val k = mval(kb, OB_IDX_KEY), v = mval(vb, 9);

	cust_key(kb, o->brand_id, o->customer_id, o->id);
	le64_put(vb, (uint64_t)o->created);
	vb[8] = (uint8_t)o->kind;
	return mdb_put(txn, st->outbox_cust, &k, &v, 0);
}

static int
channel_ok(const char *s)
{
	size_t n = strnlen(s, OUTBOX_CHANNEL_MAX + 1);

	if (n == 0 || n > OUTBOX_CHANNEL_MAX)
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

int
outbox_put(struct store *st, MDB_txn *txn, struct outbox_msg *m)
{
	struct outbox_msg o;
	int rc;

	if (st->messages_absent)
		return SIGIL_EDENIED;
	if (m->kind < OUTBOX_MARKETING || m->kind > OUTBOX_ALERT ||
	    (m->kind != OUTBOX_ALERT && m->customer_id == 0) ||
	    !channel_ok(m->channel) ||
	    !json_text_ok(m->payload, OUTBOX_PAYLOAD_MAX))
		return SIGIL_EINVAL;
	if ((rc = brand_exists(st, txn, m->brand_id)) != 0)
		return rc;
	o = *m;
	if ((rc = rows_global_id(st, txn, "next_outbox", &o.id)) != 0)
		return rc;
	o.state = OUTBOX_QUEUED;
	o.attempts = 0;
	o.sent_at = 0;
	o.last_status = 0;
	if (o.created == 0)
		o.created = sigil_now_us();
	if (o.next_at == 0)
		o.next_at = o.created;
	if ((rc = ob_write(st, txn, &o, o.payload, strlen(o.payload))) != 0 ||
	    (o.customer_id != 0 && (rc = cust_put(st, txn, &o)) != 0))
		return rc;
	m->id = o.id;
	m->state = o.state;
	m->attempts = 0;
	m->created = o.created;
	m->next_at = o.next_at;
	m->sent_at = 0;
	m->last_status = 0;
	return 0;
}

struct add_arg {
	struct outbox_msg	m;	/* the payload stays the caller's */
};

static int
add_fn(struct store *st, MDB_txn *txn, void *p)
{
	struct add_arg *a = p;

	return outbox_put(st, txn, &a->m);
}

int
store_outbox_add(struct store *st, struct outbox_msg *m)
{
	struct add_arg a = { *m };
	int rc;

	if (a.m.created == 0)
		a.m.created = sigil_now_us();
	if ((rc = STORE_WRITE_OUT(st, add_fn, &a, a.m, NULL)) != 0)
		return rc;
	/* The closure's copy was set on its last (committed) run. */
	m->id = a.m.id;
	m->state = a.m.state;
	m->attempts = 0;
	m->created = a.m.created;
	m->next_at = a.m.next_at;
	m->sent_at = 0;
	m->last_status = 0;
	return 0;
}

int
store_outbox_get(struct store *st, uint32_t brand_id, uint64_t id,
    struct outbox_msg *out)
{
	uint8_t kb[OB_KEY];

	if (st->messages_absent)
		return SIGIL_ENOTFOUND;
	ob_key(kb, brand_id, id);
	return rows_get(st, st->outbox, kb, OB_KEY, ob_decode_copy, out);
}

/* ---- the dispatcher's reads ---- */

struct due_ctx {
	struct store	*st;
	int64_t		 now;
	size_t		 max, seen;
	int		(*fn)(void *arg, const struct outbox_msg *m);
	void		*arg;
};

static int
due_walk(MDB_txn *txn, struct due_ctx *c, int *stop)
{
	uint8_t kb[OB_IDX_KEY], rk[OB_KEY];
	MDB_val k = mval(kb, OB_IDX_KEY), v, rkv, rv;
	MDB_cursor *cur;
	struct outbox_msg o;
	uint32_t brand;
	int rc;

	*stop = 0;
	if ((rc = mdb_cursor_open(txn, c->st->outbox_due, &cur)) != 0)
		return rc;
	rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	while (rc == 0 && c->seen < c->max) {
		if (k.mv_size != OB_IDX_KEY) {
			rc = SIGIL_EIO;
			break;
		}
		brand = sigil_be32_get(k.mv_data);
		if ((int64_t)(sigil_be64_get((const uint8_t *)k.mv_data + 4) ^
		    (1ULL << 63)) > c->now) {
			/* The rest of this brand is not due: the next brand. */
			if (brand == UINT32_MAX)
				break;
			memset(kb, 0, sizeof kb);
			sigil_be32_put(kb, brand + 1);
			k = mval(kb, OB_IDX_KEY);
			rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
			continue;
		}
		ob_key(rk, brand, sigil_be64_get((const uint8_t *)k.mv_data +
		    12));
		rkv = mval(rk, OB_KEY);
		if ((rc = mdb_get(txn, c->st->outbox, &rkv, &rv)) == 0 &&
		    (rc = ob_decode(rkv, rv, &o)) == 0) {
			c->seen++;
			*stop = c->fn(c->arg, &o);
			outbox_msg_clear(&o);
			if (*stop != 0)
				break;
		} else if (rc != MDB_NOTFOUND) {
			break;
		}
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int
store_outbox_due(struct store *st, int64_t now, size_t max,
    int (*fn)(void *arg, const struct outbox_msg *m), void *arg)
{
	struct due_ctx c = { st, now, max, 0, fn, arg };
	int rc, stop = 0;

	if (st->messages_absent)
		return 0;
	rc = STORE_READ(st, due_walk(txn, &c, &stop));
	return stop ? stop : rc;
}

static int
oldest_walk(MDB_txn *txn, struct store *st, int64_t *out)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int64_t at;
	int rc;

	*out = 0;
	if ((rc = mdb_cursor_open(txn, st->outbox_due, &cur)) != 0)
		return rc;
	/* The first row of each brand is its oldest. */
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0; ) {
		uint8_t kb[OB_IDX_KEY] = { 0 };
		uint32_t brand;

		if (k.mv_size != OB_IDX_KEY) {
			rc = SIGIL_EIO;
			break;
		}
		brand = sigil_be32_get(k.mv_data);
		at = (int64_t)(sigil_be64_get((const uint8_t *)k.mv_data + 4) ^
		    (1ULL << 63));
		if (*out == 0 || at < *out)
			*out = at;
		if (brand == UINT32_MAX)
			break;
		sigil_be32_put(kb, brand + 1);
		k = mval(kb, OB_IDX_KEY);
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int
store_outbox_oldest(struct store *st, int64_t *out)
{
	int64_t at = 0;
	int rc;

	if (st->messages_absent) {
		*out = 0;
		return 0;
	}
	if ((rc = STORE_READ(st, oldest_walk(txn, st, &at))) == 0)
		*out = at;
	return rc;
}

struct settle_arg {
	struct outbox_settle s;
};

static int
settle_fn(struct store *st, MDB_txn *txn, void *p)
{
	const struct outbox_settle *s = &((struct settle_arg *)p)->s;
	uint8_t kb[OB_KEY];
	MDB_val k = mval(kb, OB_KEY), v;
	struct outbox_msg o;
	char *payload;
	size_t pl;
	int rc;

	ob_key(kb, s->brand_id, s->id);
	if ((rc = mdb_get(txn, st->outbox, &k, &v)) == MDB_NOTFOUND)
		return 0;
	if (rc != 0 || (rc = ob_decode(k, v, &o)) != 0)
		return rc;
	if (o.state != OUTBOX_QUEUED) {
		outbox_msg_clear(&o);
		return 0;
	}
	if ((rc = due_del(st, txn, &o)) != 0)
		goto out;
	o.state = s->state;
	o.attempts = s->attempts;
	o.next_at = s->next_at;
	o.sent_at = s->sent_at;
	o.last_status = s->last_status;
	payload = o.payload;
	pl = strlen(payload);
	rc = ob_write(st, txn, &o, payload, pl);
out:
	outbox_msg_clear(&o);
	return rc;
}

int
store_outbox_settle(struct store *st, const struct outbox_settle *s)
{
	struct settle_arg a = { *s };

	if (st->messages_absent)
		return SIGIL_ENOTFOUND;
	if (s->state != OUTBOX_QUEUED && s->state != OUTBOX_SENT &&
	    s->state != OUTBOX_FAILED)
		return SIGIL_EINVAL;
	return store_write(st, settle_fn, &a);
}

/* ---- the brand's reads ---- */

struct each_arg {
	uint32_t	 source;
	int		 kind;
	uint64_t	 customer_id;
	int		(*fn)(void *arg, const struct outbox_msg *m);
	void		*arg;
};

static int
each_walk(MDB_txn *txn, struct store *st, uint32_t brand_id,
    struct each_arg *a, int *stop)
{
	uint8_t kb[OB_KEY];
	MDB_val k = mval(kb, OB_KEY), v;
	MDB_cursor *cur;
	struct outbox_msg o;
	int rc;

	*stop = 0;
	if ((rc = mdb_cursor_open(txn, st->outbox, &cur)) != 0)
		return rc;
	/* Newest first: from the last row of the brand backwards. */
	if (brand_id == UINT32_MAX) {
		rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	} else {
		ob_key(kb, brand_id + 1, 0);
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		rc = rc == 0 ? mdb_cursor_get(cur, &k, &v, MDB_PREV) :
		    rc == MDB_NOTFOUND ? mdb_cursor_get(cur, &k, &v, MDB_LAST) :
		    rc;
	}
	for (; rc == 0 && k.mv_size == OB_KEY &&
	    sigil_be32_get(k.mv_data) == brand_id;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_PREV)) {
		if ((rc = ob_decode(k, v, &o)) != 0)
			break;
		if ((a->source && o.source != a->source) ||
		    (a->kind && o.kind != a->kind) ||
		    (a->customer_id && o.customer_id != a->customer_id)) {
			outbox_msg_clear(&o);
			continue;
		}
		*stop = a->fn(a->arg, &o);
		outbox_msg_clear(&o);
		if (*stop != 0)
			break;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int
store_outbox_each(struct store *st, uint32_t brand_id, uint32_t source,
    int kind, uint64_t customer_id,
    int (*fn)(void *arg, const struct outbox_msg *m), void *arg)
{
	struct each_arg a = { source, kind, customer_id, fn, arg };
	int rc, stop = 0;

	if (st->messages_absent)
		return 0;
	rc = STORE_READ(st, each_walk(txn, st, brand_id, &a, &stop));
	return stop ? stop : rc;
}

static int
tally_one(void *arg, const struct outbox_msg *m)
{
	uint64_t *counts = arg;

	if (m->state >= 0 && m->state < 4)
		counts[m->state]++;
	return 0;
}

int
store_outbox_tally(struct store *st, uint32_t brand_id, uint32_t source,
    uint64_t counts[4])
{
	memset(counts, 0, 4 * sizeof counts[0]);
	return store_outbox_each(st, brand_id, source, 0, 0, tally_one, counts);
}

/*
 * The walk over the customer's outbox_cust entries, in key order, up to
 * the first entry of another size: step(k, v, ctx) returns 0 to go on;
 * a negative code ends the walk and is returned.
 */
struct cust_walk {
	step_fn	 step;
	void	*ctx;
};

static int
cust_walk_step(MDB_val k, MDB_val v, void *p)
{
	const struct cust_walk *w = p;

	if (k.mv_size != OB_IDX_KEY)
		return 1;
	return w->step(k, v, w->ctx);
}

static int
cust_walk(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t customer_id, step_fn step, void *ctx)
{
	struct cust_walk w = { step, ctx };
	uint8_t kb[OB_IDX_KEY];
	int rc, stop;

	cust_key(kb, brand_id, customer_id, 0);
	rc = rows_walk_txn(txn, st->outbox_cust, kb, OB_IDX_KEY, 12,
	    cust_walk_step, &w, &stop);
	return rc != 0 ? rc : stop < 0 ? stop : 0;
}

struct count_since {
	int		 kind;
	int64_t		 since;
	uint32_t	 n;
};

static int
count_step(MDB_val k, MDB_val v, void *p)
{
	struct count_since *c = p;

	(void)k;
	if (v.mv_size == 9 && (c->kind == 0 ||
	    ((const uint8_t *)v.mv_data)[8] == c->kind) &&
	    (int64_t)le64_get(v.mv_data) >= c->since)
		c->n++;
	return 0;
}

int
outbox_count_since(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t customer_id, int kind, int64_t since, uint32_t *out)
{
	struct count_since c = { kind, since, 0 };
	int rc;

	*out = 0;
	if (st->messages_absent)
		return 0;
	if ((rc = cust_walk(st, txn, brand_id, customer_id, count_step,
	    &c)) != 0)
		return rc;
	*out = c.n;
	return 0;
}

int
store_outbox_count_since(struct store *st, uint32_t brand_id,
    uint64_t customer_id, int kind, int64_t since, uint32_t *out)
{
	uint32_t n = 0;
	int rc;

	rc = STORE_READ(st, outbox_count_since(st, txn, brand_id, customer_id,
	    kind, since, &n));
	if (rc == 0)
		*out = n;
	return rc;
}

/* ---- a customer's rows: the erasure's cut, the merge's move ---- */

static int
cust_id_step(MDB_val k, MDB_val v, void *p)
{
	(void)v;
	return u64vec_push(p, sigil_be64_get((const uint8_t *)k.mv_data + 12));
}

/* The ids of the customer's rows, from outbox_cust. */
static int
cust_ids(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t customer_id, struct u64vec *ids)
{
	return cust_walk(st, txn, brand_id, customer_id, cust_id_step, ids);
}

/*
 * For each of from's rows: the row, its due entry and its index entry
 * are deleted (the payload zeroed first, like every erased value); with
 * to != 0 the row is written again as to's.
 */
static int
outbox_rewrite(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t from, uint64_t to)
{
	struct u64vec ids = { 0 };
	uint8_t kb[OB_KEY], ck[OB_IDX_KEY];
	MDB_val k, v, z;
	struct outbox_msg o;
	uint8_t *zero;
	int rc;

	if (st->messages_absent)
		return 0;
	if ((rc = cust_ids(st, txn, brand_id, from, &ids)) != 0)
		goto out;
	for (size_t i = 0; i < ids.n; i++) {
		ob_key(kb, brand_id, ids.v[i]);
		k = mval(kb, OB_KEY);
		cust_key(ck, brand_id, from, ids.v[i]);
		z = mval(ck, OB_IDX_KEY);
		if ((rc = mdb_del(txn, st->outbox_cust, &z, NULL)) != 0)
			goto out;
		if ((rc = mdb_get(txn, st->outbox, &k, &v)) == MDB_NOTFOUND)
			continue;
		if (rc != 0 || (rc = ob_decode(k, v, &o)) != 0)
			goto out;
		if ((rc = due_del(st, txn, &o)) != 0)
			goto next;
		if (to == 0) {
			if ((zero = calloc(1, v.mv_size)) == NULL) {
				rc = SIGIL_ENOMEM;
				goto next;
			}
			z = mval(zero, v.mv_size);
			rc = mdb_put(txn, st->outbox, &k, &z, 0);
			free(zero);
			if (rc == 0)
				rc = mdb_del(txn, st->outbox, &k, NULL);
		} else {
			o.customer_id = to;
			if ((rc = ob_write(st, txn, &o, o.payload,
			    strlen(o.payload))) == 0)
				rc = cust_put(st, txn, &o);
		}
next:
		outbox_msg_clear(&o);
		if (rc != 0)
			goto out;
	}
out:
	free(ids.v);
	return rc;
}

int
outbox_erase(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t customer_id)
{
	return outbox_rewrite(st, txn, brand_id, customer_id, 0);
}

int
outbox_move(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t from, uint64_t to)
{
	if (to == 0)
		return SIGIL_EINVAL;
	return outbox_rewrite(st, txn, brand_id, from, to);
}

int
message_service_enqueue(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t customer_id, const char *text)
{
	struct outbox_msg m = { 0 };
	json_t *o;
	int rc;

	if (text == NULL || !text_ok(text, OUTBOX_PAYLOAD_MAX / 2,
	    OUTBOX_PAYLOAD_MAX / 8, 0))
		return SIGIL_EINVAL;
	if ((o = json_pack("{s:s}", "text", text)) == NULL ||
	    (m.payload = json_dumps(o, JSON_COMPACT)) == NULL) {
		json_decref(o);
		return SIGIL_ENOMEM;
	}
	json_decref(o);
	m.brand_id = brand_id;
	m.kind = OUTBOX_SERVICE;
	m.customer_id = customer_id;
	strcpy(m.channel, "auto");
	rc = outbox_put(st, txn, &m);
	free(m.payload);
	return rc;
}
