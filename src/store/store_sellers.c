/*
 * store_sellers.c - the sales channel below the distributors: retail
 * stores ("shops" here, as struct store is the database), the sellers
 * who work in them, and the bindings of codes to sellers (开箱).
 *
 * Owns the tables shops, sellers, bindings and seller_codes and the
 * meta counters next_shop/<brand>. A binding is keyed by its code, so
 * that the claim path finds the seller of a code with one lookup per
 * level of aggregation (store_binding_of_code walks up the parents
 * table, store_custody.c's); seller_codes is the index by seller that
 * the member page, the merge and the erasure walk. The first binding of
 * a code wins (store_binding_add refuses a second one); only the brand
 * moves one (store_binding_move). The seller's bind writes its audit
 * entry in its own transaction, the customer as actor: the brand API's
 * writes get theirs from the writer.
 *
 * May call: libc, LMDB, util.c, store_env.c, store_rows.c, the catalog
 * (a code must be issued), store_trace.c (a store's distributor),
 * store_custody.c (parents) and store_audit.c. store_erase.c and
 * store_merge.c call its sellers_erase and sellers_move, so it must
 * never call store_customers.c (which calls the erasure): whether the
 * customer is live, and has a staff role, is the domain's check
 * (seller.c), made on the writer thread before the write. Must never
 * be called by the files it calls.
 */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include <lmdb.h>

#include "sigil/code.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "store_impl.h"

#define SHOP_FIXED_LEN		20	/* distributor, created, updated */
#define SELLER_LEN		12	/* shop, since */
#define BINDING_LEN		21	/* seller, shop, at, how */
#define SELLER_KEY_LEN		12	/* brand || customer */
#define SCODE_KEY_LEN		20	/* brand || seller || serial */
#define BIND_DEPTH_MAX		1024	/* levels of containers walked up */

/* ---- shops ---- */

static int
shop_decode(MDB_val k, MDB_val v, void *out)
{
	struct shop *s = out;
	const uint8_t *p = v.mv_data;
	char *strs[2] = { s->name, s->city };
	size_t caps[2] = { sizeof s->name, sizeof s->city };

	if (k.mv_size != 8 || v.mv_size < SHOP_FIXED_LEN)
		return SIGIL_EIO;
	memset(s, 0, sizeof *s);
	s->brand_id = sigil_be32_get(k.mv_data);
	s->id = sigil_be32_get((const uint8_t *)k.mv_data + 4);
	s->distributor = le32_get(p);
	s->created = (int64_t)le64_get(p + 4);
	s->updated = (int64_t)le64_get(p + 12);
	if (lstrs_get(p, v.mv_size, SHOP_FIXED_LEN, strs, caps, 2) !=
	    v.mv_size)
		return SIGIL_EIO;
	return 0;
}

static int
shop_put(struct store *st, MDB_txn *txn, const struct shop *s)
{
	const char *strs[2] = { s->name, s->city };
	uint8_t kb[8], vb[SHOP_FIXED_LEN + 4 + sizeof s->name +
	    sizeof s->city];
	MDB_val k = mval(kb, 8), v;

	bid_key(kb, s->brand_id, s->id);
	le32_put(vb, s->distributor);
	le64_put(vb + 4, (uint64_t)s->created);
	le64_put(vb + 12, (uint64_t)s->updated);
	v = mval(vb, lstrs_put(vb, SHOP_FIXED_LEN, strs, 2));
	return mdb_put(txn, st->shops, &k, &v, 0);
}

static int
shop_load(struct store *st, MDB_txn *txn, uint32_t brand_id, uint32_t id,
    struct shop *out)
{
	uint8_t kb[8];

	bid_key(kb, brand_id, id);
	return rows_load(txn, st->shops, kb, 8, shop_decode, out);
}

static int
shop_ok(const struct shop *s)
{
	return text_ok(s->name, sizeof s->name, STORE_TEXT_MAX, 0) &&
	    text_ok(s->city, sizeof s->city, STORE_NAME_MAX, 1) &&
	    s->distributor != 0;
}

static int
shop_add_fn(struct store *st, MDB_txn *txn, void *arg)
{
	struct shop *s = arg;
	uint8_t mk[10 + 4];
	uint64_t id;
	int rc;

	if ((rc = brand_exists(st, txn, s->brand_id)) != 0 ||
	    (rc = distributor_exists(st, txn, s->brand_id, s->distributor)) !=
	    0)
		return rc;
	memcpy(mk, "next_shop/", 10);
	sigil_be32_put(mk + 10, s->brand_id);
	if ((rc = meta_next(st, txn, mval(mk, sizeof mk), 1, STORE_SHOPS_MAX,
	    &id)) != 0)
		return rc;
	s->id = (uint32_t)id;
	return shop_put(st, txn, s);
}

int
store_shop_add(struct store *st, struct shop *s)
{
	struct shop w;

	if (s == NULL || !shop_ok(s))
		return SIGIL_EINVAL;
	if (st->sellers_absent)
		return SIGIL_EDENIED;
	w = *s;
	w.created = w.updated = sigil_now_us();
	return STORE_WRITE_OUT(st, shop_add_fn, &w, w, s);
}

static int
shop_update_fn(struct store *st, MDB_txn *txn, void *arg)
{
	struct shop *s = arg, cur;
	int rc;

	if ((rc = shop_load(st, txn, s->brand_id, s->id, &cur)) != 0 ||
	    (rc = distributor_exists(st, txn, s->brand_id, s->distributor)) !=
	    0)
		return rc;
	s->created = cur.created;
	return shop_put(st, txn, s);
}

int
store_shop_update(struct store *st, struct shop *s)
{
	struct shop w;

	if (s == NULL || !shop_ok(s))
		return SIGIL_EINVAL;
	if (st->sellers_absent)
		return SIGIL_ENOTFOUND;
	w = *s;
	w.updated = sigil_now_us();
	return STORE_WRITE_OUT(st, shop_update_fn, &w, w, s);
}

/* A walk's step that stops (1) at a row naming the shop in ctx. */
static int
seller_in_shop(MDB_val k, MDB_val v, void *ctx)
{
	(void)k;
	return v.mv_size == SELLER_LEN && le32_get(v.mv_data) ==
	    *(const uint32_t *)ctx;
}

static int
binding_in_shop(MDB_val k, MDB_val v, void *ctx)
{
	(void)k;
	return v.mv_size == BINDING_LEN && le32_get((const uint8_t *)
	    v.mv_data + 8) == *(const uint32_t *)ctx;
}

struct shop_del {
	uint32_t	brand_id, id;
};

static int
shop_delete_fn(struct store *st, MDB_txn *txn, void *arg)
{
	struct shop_del *d = arg;
	struct shop cur;
	uint8_t kb[8];
	MDB_val k = mval(kb, 8);
	int rc, stop;

	if ((rc = shop_load(st, txn, d->brand_id, d->id, &cur)) != 0)
		return rc;
	sigil_be32_put(kb, d->brand_id);
	if ((rc = rows_walk_txn(txn, st->sellers, kb, 4, 4, seller_in_shop,
	    &d->id, &stop)) != 0)
		return rc;
	if (stop)
		return SIGIL_ECONFLICT;
	if ((rc = rows_walk_txn(txn, st->bindings, kb, 4, 4, binding_in_shop,
	    &d->id, &stop)) != 0)
		return rc;
	if (stop)
		return SIGIL_ECONFLICT;
	bid_key(kb, d->brand_id, d->id);
	return mdb_del(txn, st->shops, &k, NULL);
}

int
store_shop_delete(struct store *st, uint32_t brand_id, uint32_t id)
{
	struct shop_del d = { brand_id, id };

	if (st->sellers_absent)
		return SIGIL_ENOTFOUND;
	return map_err(store_write(st, shop_delete_fn, &d));
}

int
store_shop_get(struct store *st, uint32_t brand_id, uint32_t id,
    struct shop *out)
{
	uint8_t kb[8];

	if (st->sellers_absent)
		return SIGIL_ENOTFOUND;
	bid_key(kb, brand_id, id);
	return rows_get(st, st->shops, kb, 8, shop_decode, out);
}

ROWS_EACH_STEP(shop_step, struct shop, shop_decode)

int
store_shop_each(struct store *st, uint32_t brand_id,
    int (*fn)(void *arg, const struct shop *s), void *arg)
{
	uint8_t kb[4];

	if (st->sellers_absent)
		return 0;
	sigil_be32_put(kb, brand_id);
	return rows_each(st, st->shops, kb, 4, 4, shop_step, (any_fn)fn, arg);
}

/* ---- sellers ---- */

static void
seller_key(uint8_t *p, uint32_t brand_id, uint64_t customer)
{
	sigil_be32_put(p, brand_id);
	sigil_be64_put(p + 4, customer);
}

static int
seller_decode(MDB_val k, MDB_val v, void *out)
{
	struct seller *s = out;
	const uint8_t *p = v.mv_data;

	if (k.mv_size != SELLER_KEY_LEN || v.mv_size != SELLER_LEN)
		return SIGIL_EIO;
	s->brand_id = sigil_be32_get(k.mv_data);
	s->customer_id = sigil_be64_get((const uint8_t *)k.mv_data + 4);
	s->shop_id = le32_get(p);
	s->since = (int64_t)le64_get(p + 4);
	return 0;
}

static int
seller_load(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t customer, struct seller *out)
{
	uint8_t kb[SELLER_KEY_LEN];

	seller_key(kb, brand_id, customer);
	return rows_load(txn, st->sellers, kb, SELLER_KEY_LEN, seller_decode,
	    out);
}

static int
seller_put(struct store *st, MDB_txn *txn, const struct seller *s)
{
	uint8_t kb[SELLER_KEY_LEN], vb[SELLER_LEN];
	MDB_val k = mval(kb, sizeof kb), v = mval(vb, sizeof vb);

	seller_key(kb, s->brand_id, s->customer_id);
	le32_put(vb, s->shop_id);
	le64_put(vb + 4, (uint64_t)s->since);
	return mdb_put(txn, st->sellers, &k, &v, 0);
}

static int
seller_set_fn(struct store *st, MDB_txn *txn, void *arg)
{
	struct seller *s = arg;
	struct shop sh;
	int rc;

	if ((rc = shop_load(st, txn, s->brand_id, s->shop_id, &sh)) != 0)
		return rc;
	return seller_put(st, txn, s);
}

int
store_seller_set(struct store *st, struct seller *s)
{
	struct seller w;

	if (s == NULL || s->customer_id == 0 || s->shop_id == 0)
		return SIGIL_EINVAL;
	if (st->sellers_absent)
		return SIGIL_EDENIED;
	w = *s;
	w.since = sigil_now_us();
	return STORE_WRITE_OUT(st, seller_set_fn, &w, w, s);
}

int
store_seller_remove(struct store *st, uint32_t brand_id,
    uint64_t customer_id)
{
	uint8_t kb[SELLER_KEY_LEN];

	if (st->sellers_absent)
		return SIGIL_ENOTFOUND;
	seller_key(kb, brand_id, customer_id);
	return map_err(rows_write(st, st->sellers, kb, sizeof kb, NULL, 0, 0));
}

int
store_seller_get(struct store *st, uint32_t brand_id, uint64_t customer_id,
    struct seller *out)
{
	uint8_t kb[SELLER_KEY_LEN];

	if (st->sellers_absent)
		return SIGIL_ENOTFOUND;
	seller_key(kb, brand_id, customer_id);
	return rows_get(st, st->sellers, kb, sizeof kb, seller_decode, out);
}

ROWS_EACH_STEP(seller_step, struct seller, seller_decode)

int
store_seller_each(struct store *st, uint32_t brand_id,
    int (*fn)(void *arg, const struct seller *s), void *arg)
{
	uint8_t kb[4];

	if (st->sellers_absent)
		return 0;
	sigil_be32_put(kb, brand_id);
	return rows_each(st, st->sellers, kb, 4, 4, seller_step, (any_fn)fn,
	    arg);
}

/* ---- bindings ---- */

static int
binding_decode(MDB_val k, MDB_val v, void *out)
{
	struct binding *b = out;
	const uint8_t *kp = k.mv_data, *p = v.mv_data;

	if (k.mv_size != CODE_KEY_LEN || v.mv_size != BINDING_LEN)
		return SIGIL_EIO;
	b->brand_id = sigil_be32_get(kp);
	b->serial = 0;
	for (int i = 4; i < CODE_KEY_LEN; i++)
		b->serial = b->serial << 8 | kp[i];
	b->seller = le64_get(p);
	b->shop_id = le32_get(p + 8);
	b->at = (int64_t)le64_get(p + 12);
	b->how = p[20];
	return 0;
}

static int
binding_load(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t serial, struct binding *out)
{
	uint8_t ck[CODE_KEY_LEN];

	code_key_put(ck, brand_id, serial);
	return rows_load(txn, st->bindings, ck, CODE_KEY_LEN, binding_decode,
	    out);
}

static void
scode_key(uint8_t *p, uint32_t brand_id, uint64_t seller, uint64_t serial)
{
	seller_key(p, brand_id, seller);
	sigil_be64_put(p + SELLER_KEY_LEN, serial);
}

/* The binding's row and, when it has a seller, its index row. */
static int
binding_put(struct store *st, MDB_txn *txn, const struct binding *b)
{
	uint8_t ck[CODE_KEY_LEN], vb[BINDING_LEN], sk[SCODE_KEY_LEN], sv[4];
	MDB_val k = mval(ck, sizeof ck), v = mval(vb, sizeof vb);
	int rc;

	code_key_put(ck, b->brand_id, b->serial);
	le64_put(vb, b->seller);
	le32_put(vb + 8, b->shop_id);
	le64_put(vb + 12, (uint64_t)b->at);
	vb[20] = (uint8_t)b->how;
	if ((rc = mdb_put(txn, st->bindings, &k, &v, 0)) != 0 ||
	    b->seller == 0)
		return rc;
	scode_key(sk, b->brand_id, b->seller, b->serial);
	le32_put(sv, b->shop_id);
	k = mval(sk, sizeof sk);
	v = mval(sv, sizeof sv);
	return mdb_put(txn, st->seller_codes, &k, &v, 0);
}

/* The index row of a binding that changes hands or goes. */
static int
scode_del(struct store *st, MDB_txn *txn, const struct binding *b)
{
	uint8_t sk[SCODE_KEY_LEN];
	MDB_val k = mval(sk, sizeof sk);
	int rc;

	if (b->seller == 0)
		return 0;
	scode_key(sk, b->brand_id, b->seller, b->serial);
	rc = mdb_del(txn, st->seller_codes, &k, NULL);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static int
bind_audit(struct store *st, MDB_txn *txn, const struct binding *b)
{
	struct audit_entry *e;
	int rc;

	/* 2.4 KiB: off the writer's stack. */
	if ((e = calloc(1, sizeof *e)) == NULL)
		return SIGIL_ENOMEM;
	e->brand_id = b->brand_id;
	e->at = b->at;
	e->actor_kind = AUDIT_ACTOR_CUSTOMER;
	snprintf(e->actor, sizeof e->actor, "%llu",
	    (unsigned long long)b->seller);
	snprintf(e->action, sizeof e->action, "seller_bind");
	snprintf(e->target_type, sizeof e->target_type, "code");
	snprintf(e->target_id, sizeof e->target_id, "%llu",
	    (unsigned long long)b->serial);
	snprintf(e->detail, sizeof e->detail, "{\"seller\":%llu,\"store\":%u}",
	    (unsigned long long)b->seller, b->shop_id);
	rc = audit_put(st, txn, e);
	free(e);
	return rc;
}

static int binding_cover(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t serial, struct binding *out);

/* The seller of a binding: a customer assigned to a store. */
static int
binding_seller(struct store *st, MDB_txn *txn, struct binding *b)
{
	struct seller s;
	struct batch bt;
	int rc;

	if ((rc = seller_load(st, txn, b->brand_id, b->seller, &s)) != 0)
		return rc == MDB_NOTFOUND ? SIGIL_EDENIED : rc;
	if ((rc = batch_find(st, txn, b->brand_id, b->serial, &bt)) != 0)
		return rc;
	b->shop_id = s.shop_id;
	return 0;
}

static int
binding_add_fn(struct store *st, MDB_txn *txn, void *arg)
{
	struct binding *b = arg, cur;
	int rc;

	if ((rc = binding_seller(st, txn, b)) != 0)
		return rc;
	/* Bound already, itself or inside a bound case: the first wins. */
	rc = binding_cover(st, txn, b->brand_id, b->serial, &cur);
	if (rc == 0) {
		*b = cur;
		return SIGIL_EEXIST;
	}
	if (rc != MDB_NOTFOUND)
		return rc;
	if ((rc = binding_put(st, txn, b)) != 0)
		return rc;
	return bind_audit(st, txn, b);
}

int
store_binding_add(struct store *st, struct binding *b)
{
	struct binding w;
	int rc;

	if (b == NULL || b->seller == 0 || b->serial == 0 ||
	    b->serial > CODE_SERIAL_MAX)
		return SIGIL_EINVAL;
	if (st->sellers_absent)
		return SIGIL_EDENIED;
	w = *b;
	w.at = sigil_now_us();
	w.how = BINDING_SCAN;
	rc = store_write(st, binding_add_fn, &w);
	/* The binding there is, for the refusal too. */
	if (rc == 0 || rc == SIGIL_EEXIST)
		*b = w;
	return map_err(rc);
}

struct bind_move {
	struct binding	b, prev;
};

static int
binding_move_fn(struct store *st, MDB_txn *txn, void *arg)
{
	struct bind_move *m = arg;
	struct batch bt;
	int rc;

	memset(&m->prev, 0, sizeof m->prev);
	if (m->b.seller != 0 && (rc = binding_seller(st, txn, &m->b)) != 0)
		return rc;
	if (m->b.seller == 0 && (rc = batch_find(st, txn, m->b.brand_id,
	    m->b.serial, &bt)) != 0)
		return rc;
	rc = binding_load(st, txn, m->b.brand_id, m->b.serial, &m->prev);
	if (rc == MDB_NOTFOUND) {
		memset(&m->prev, 0, sizeof m->prev);
		if (m->b.seller == 0)
			return SIGIL_ENOTFOUND;
	} else if (rc != 0)
		return rc;
	else if ((rc = scode_del(st, txn, &m->prev)) != 0)
		return rc;
	if (m->b.seller == 0) {
		uint8_t ck[CODE_KEY_LEN];
		MDB_val k = mval(ck, sizeof ck);

		code_key_put(ck, m->b.brand_id, m->b.serial);
		return mdb_del(txn, st->bindings, &k, NULL);
	}
	return binding_put(st, txn, &m->b);
}

int
store_binding_move(struct store *st, struct binding *b, struct binding *prev)
{
	struct bind_move m;
	int rc;

	if (b == NULL || b->serial == 0 || b->serial > CODE_SERIAL_MAX)
		return SIGIL_EINVAL;
	if (st->sellers_absent)
		return SIGIL_EDENIED;
	memset(&m, 0, sizeof m);
	m.b = *b;
	m.b.at = sigil_now_us();
	m.b.how = BINDING_MOVED;
	if ((rc = map_err(store_write(st, binding_move_fn, &m))) != 0)
		return rc;
	*b = m.b;
	if (prev != NULL)
		*prev = m.prev;
	return 0;
}

int
store_binding_get(struct store *st, uint32_t brand_id, uint64_t serial,
    struct binding *out)
{
	uint8_t ck[CODE_KEY_LEN];

	if (st->sellers_absent || serial == 0 || serial > CODE_SERIAL_MAX)
		return SIGIL_ENOTFOUND;
	code_key_put(ck, brand_id, serial);
	return rows_get(st, st->bindings, ck, CODE_KEY_LEN, binding_decode,
	    out);
}

/* Up the containers from serial to the first binding: txn's codes. */
static int
binding_cover(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t serial, struct binding *out)
{
	int rc;

	for (int depth = 0; depth <= BIND_DEPTH_MAX; depth++) {
		if ((rc = binding_load(st, txn, brand_id, serial, out)) !=
		    MDB_NOTFOUND)
			return rc;
		if (st->trace_absent)
			return MDB_NOTFOUND;
		if ((rc = parent_get(st, txn, brand_id, serial, &serial)) != 0)
			return rc;
	}
	return MDB_NOTFOUND;
}

int
store_binding_of_code(struct store *st, uint32_t brand_id, uint64_t serial,
    struct binding *out)
{
	struct binding b;
	int rc;

	if (st->sellers_absent || serial == 0 || serial > CODE_SERIAL_MAX)
		return SIGIL_ENOTFOUND;
	if ((rc = STORE_READ(st, binding_cover(st, txn, brand_id, serial,
	    &b))) == 0)
		*out = b;
	return rc;
}

ROWS_EACH_STEP(binding_step, struct binding, binding_decode)

int
store_binding_each(struct store *st, uint32_t brand_id,
    int (*fn)(void *arg, const struct binding *b), void *arg)
{
	uint8_t kb[4];

	if (st->sellers_absent)
		return 0;
	sigil_be32_put(kb, brand_id);
	return rows_each(st, st->bindings, kb, 4, 4, binding_step, (any_fn)fn,
	    arg);
}

/* seller_codes' rows: their serials. */
static int
scode_serial(MDB_val k, MDB_val v, void *ctx)
{
	(void)v;
	if (k.mv_size != SCODE_KEY_LEN)
		return SIGIL_EIO;
	return u64vec_push(ctx, sigil_be64_get((const uint8_t *)k.mv_data +
	    SELLER_KEY_LEN));
}

/* The serials bound to seller, in txn. */
static int
scode_collect(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t seller, struct u64vec *out)
{
	uint8_t kb[SCODE_KEY_LEN];
	int rc, stop;

	scode_key(kb, brand_id, seller, 0);
	rc = rows_walk_txn(txn, st->seller_codes, kb, sizeof kb,
	    SELLER_KEY_LEN, scode_serial, out, &stop);
	return rc != 0 ? rc : stop;
}

struct scodes {
	uint32_t	 brand_id;
	uint64_t	 seller;
	int		(*fn)(void *arg, const struct binding *b);
	void		*arg;
};

static int
scodes_txn(struct store *st, MDB_txn *txn, struct scodes *x)
{
	struct u64vec v = { NULL, 0, 0 };
	struct binding b;
	int rc = scode_collect(st, txn, x->brand_id, x->seller, &v);

	for (size_t i = 0; rc == 0 && i < v.n; i++) {
		if ((rc = binding_load(st, txn, x->brand_id, v.v[i], &b)) ==
		    MDB_NOTFOUND) {
			rc = 0;
			continue;
		}
		if (rc == 0 && b.seller == x->seller)
			rc = x->fn(x->arg, &b);
	}
	free(v.v);
	return rc;
}

int
store_seller_codes(struct store *st, uint32_t brand_id, uint64_t seller,
    int (*fn)(void *arg, const struct binding *b), void *arg)
{
	struct scodes x = { brand_id, seller, fn, arg };

	if (st->sellers_absent)
		return 0;
	return STORE_READ(st, scodes_txn(st, txn, &x));
}

/* ---- a customer erased or merged (store_erase.c, store_merge.c) ---- */

/*
 * The bindings of from handed to to (0: to nobody, the store kept),
 * their index rows with them.
 */
static int
bindings_rehome(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t from, uint64_t to)
{
	struct u64vec v = { NULL, 0, 0 };
	struct binding b;
	int rc = scode_collect(st, txn, brand_id, from, &v);

	for (size_t i = 0; rc == 0 && i < v.n; i++) {
		b.brand_id = brand_id;
		b.seller = from;
		b.serial = v.v[i];
		if ((rc = scode_del(st, txn, &b)) != 0)
			break;
		if ((rc = binding_load(st, txn, brand_id, v.v[i], &b)) ==
		    MDB_NOTFOUND) {
			rc = 0;
			continue;
		}
		if (rc != 0 || b.seller != from)
			continue;
		b.seller = to;
		rc = binding_put(st, txn, &b);
	}
	free(v.v);
	return rc;
}

int
sellers_erase(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t id)
{
	uint8_t kb[SELLER_KEY_LEN];
	MDB_val k = mval(kb, sizeof kb);
	int rc;

	if (st->sellers_absent)
		return 0;
	seller_key(kb, brand_id, id);
	if ((rc = mdb_del(txn, st->sellers, &k, NULL)) != 0 &&
	    rc != MDB_NOTFOUND)
		return rc;
	return bindings_rehome(st, txn, brand_id, id, 0);
}

int
sellers_move(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t from, uint64_t to)
{
	struct seller s, t;
	uint8_t kb[SELLER_KEY_LEN];
	MDB_val k = mval(kb, sizeof kb);
	int rc;

	if (st->sellers_absent)
		return 0;
	rc = seller_load(st, txn, brand_id, from, &s);
	if (rc == 0) {
		seller_key(kb, brand_id, from);
		if ((rc = mdb_del(txn, st->sellers, &k, NULL)) != 0)
			return rc;
		/* The survivor's own store, if it has one, wins. */
		rc = seller_load(st, txn, brand_id, to, &t);
		if (rc == MDB_NOTFOUND) {
			s.customer_id = to;
			rc = seller_put(st, txn, &s);
		}
		if (rc != 0)
			return rc;
	} else if (rc != MDB_NOTFOUND)
		return rc;
	return bindings_rehome(st, txn, brand_id, from, to);
}
