/*
 * store_orders.c - redemption orders: how a redeemed item reaches the
 * member (a delivery address, or a pick-up code the member shows in the
 * shop), written by the redemption's own transaction (store_ledger.c's
 * redeem calls order_put), read by the brand's fulfilment list, marked
 * fulfilled by the brand, and emptied of its address by the customer's
 * erasure (store_erase.c calls orders_erase).
 *
 * orders: brand BE32 || REDEEM entry id BE64 -> customer u64, item u32,
 * kind u8, status u8, created i64, fulfilled i64, pick-up code (8
 * bytes, zeros for a delivery), name, phone and address lengths (u8,
 * u8, u16), then the three texts (docs/storage.md). Brand first, so a
 * brand's walk sees its orders only, oldest first.
 *
 * Owns orders. May call: libc, LMDB, util.c, store_env.c. Must never
 * call store_ledger.c or store_erase.c, which call it.
 */
#include <string.h>

#include "sigil/store.h"
#include "sigil/util.h"
#include "store_impl.h"

#define ORDER_FIXED	42

static void
order_key(uint8_t kb[12], uint32_t brand_id, uint64_t id)
{
	sigil_be32_put(kb, brand_id);
	sigil_be64_put(kb + 4, id);
}

static int
order_decode(MDB_val k, MDB_val v, void *out)
{
	struct redeem_order *o = out;
	const uint8_t *p = v.mv_data;
	size_t nn, np, na;

	if (k.mv_size != 12 || v.mv_size < ORDER_FIXED)
		return SIGIL_EIO;
	nn = p[38];
	np = p[39];
	na = le16_get(p + 40);
	if (v.mv_size != ORDER_FIXED + nn + np + na ||
	    nn > sizeof o->name - 1 || np > sizeof o->phone - 1 ||
	    na > sizeof o->address - 1)
		return SIGIL_EIO;
	memset(o, 0, sizeof *o);
	o->brand_id = sigil_be32_get(k.mv_data);
	o->id = sigil_be64_get((const uint8_t *)k.mv_data + 4);
	o->customer_id = le64_get(p);
	o->item_id = le32_get(p + 8);
	o->kind = p[12];
	o->status = p[13];
	o->created = (int64_t)le64_get(p + 14);
	o->fulfilled = (int64_t)le64_get(p + 22);
	memcpy(o->pickup_code, p + 30, ORDER_PICKUP_LEN);
	if (o->pickup_code[0] == '\0')
		memset(o->pickup_code, 0, sizeof o->pickup_code);
	memcpy(o->name, p + ORDER_FIXED, nn);
	memcpy(o->phone, p + ORDER_FIXED + nn, np);
	memcpy(o->address, p + ORDER_FIXED + nn + np, na);
	return 0;
}

static int
order_write(struct store *st, MDB_txn *txn, const struct redeem_order *o)
{
	uint8_t kb[12], vb[ORDER_FIXED + sizeof o->name + sizeof o->phone +
	    sizeof o->address];
	size_t nn = strlen(o->name), np = strlen(o->phone);
	size_t na = strlen(o->address);
	MDB_val k = mval(kb, 12), v = mval(vb, ORDER_FIXED + nn + np + na);

	order_key(kb, o->brand_id, o->id);
	memset(vb, 0, ORDER_FIXED);
	le64_put(vb, o->customer_id);
	le32_put(vb + 8, o->item_id);
	vb[12] = (uint8_t)o->kind;
	vb[13] = (uint8_t)o->status;
	le64_put(vb + 14, (uint64_t)o->created);
	le64_put(vb + 22, (uint64_t)o->fulfilled);
	memcpy(vb + 30, o->pickup_code, strnlen(o->pickup_code,
	    ORDER_PICKUP_LEN));
	vb[38] = (uint8_t)nn;
	vb[39] = (uint8_t)np;
	le16_put(vb + 40, (uint16_t)na);
	memcpy(vb + ORDER_FIXED, o->name, nn);
	memcpy(vb + ORDER_FIXED + nn, o->phone, np);
	memcpy(vb + ORDER_FIXED + nn + np, o->address, na);
	return mdb_put(txn, st->orders, &k, &v, 0);
}

static int
phone_ok(const char *s)
{
	size_t n = strnlen(s, ORDER_PHONE_MAX + 1), digits = 0;

	if (n == 0 || n > ORDER_PHONE_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			digits++;
		else if (s[i] != ' ' && s[i] != '+' && s[i] != '-')
			return 0;
	}
	return digits >= 6;
}

int
order_check(const struct redeem_order *o)
{
	if (o->kind == ORDER_PICKUP)
		return strnlen(o->pickup_code, sizeof o->pickup_code) ==
		    ORDER_PICKUP_LEN && strspn(o->pickup_code, "0123456789") ==
		    ORDER_PICKUP_LEN && o->name[0] == '\0' &&
		    o->phone[0] == '\0' && o->address[0] == '\0' ? 0 :
		    SIGIL_EINVAL;
	if (o->kind != ORDER_DELIVERY || o->pickup_code[0] != '\0' ||
	    !text_ok(o->name, sizeof o->name, ORDER_NAME_MAX, 0) ||
	    !phone_ok(o->phone) ||
	    !text_ok(o->address, sizeof o->address, ORDER_ADDRESS_MAX, 0))
		return SIGIL_EINVAL;
	return 0;
}

int
order_put(struct store *st, MDB_txn *txn, const struct redeem_order *o)
{
	if (st->orders_absent)
		return SIGIL_EDENIED;
	return order_write(st, txn, o);
}

ROWS_EACH_STEP(order_each_one, struct redeem_order, order_decode)

int
store_order_each(struct store *st, uint32_t brand_id,
    int (*fn)(void *arg, const struct redeem_order *o), void *arg)
{
	uint8_t kb[12];

	if (st->orders_absent)
		return 0;
	order_key(kb, brand_id, 0);
	return rows_each(st, st->orders, kb, 12, 4, order_each_one,
	    (any_fn)fn, arg);
}

int
store_order_get(struct store *st, uint32_t brand_id, uint64_t id,
    struct redeem_order *out)
{
	uint8_t kb[12];

	if (st->orders_absent)
		return SIGIL_ENOTFOUND;
	order_key(kb, brand_id, id);
	return rows_get(st, st->orders, kb, 12, order_decode, out);
}

struct fulfil_arg {
	uint32_t		brand_id;
	uint64_t		id;
	int64_t			now;
	struct redeem_order	o;
};

static int
fulfil_fn(struct store *st, MDB_txn *txn, void *p)
{
	struct fulfil_arg *a = p;
	uint8_t kb[12];
	int rc;

	order_key(kb, a->brand_id, a->id);
	if ((rc = rows_load(txn, st->orders, kb, 12, order_decode, &a->o)) ==
	    MDB_NOTFOUND)
		return SIGIL_ENOTFOUND;
	if (rc != 0)
		return rc;
	if (a->o.status == ORDER_FULFILLED)
		return SIGIL_ESTATE;
	a->o.status = ORDER_FULFILLED;
	a->o.fulfilled = a->now;
	return order_write(st, txn, &a->o);
}

int
store_order_fulfil(struct store *st, uint32_t brand_id, uint64_t id,
    int64_t now, struct redeem_order *out)
{
	struct fulfil_arg a = { brand_id, id, now, { 0 } };

	if (st->orders_absent)
		return SIGIL_ENOTFOUND;
	return STORE_WRITE_OUT(st, fulfil_fn, &a, a.o, out);
}

/*
 * Calls fn on each of the brand's orders of customer_id, in id order,
 * with the order decoded and its value (v) as stored; fn rewrites it
 * under the same key (the cursor is set back on it after). Stops at
 * fn's first error.
 */
static int
orders_rewrite(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t customer_id, int (*fn)(struct store *st, MDB_txn *txn,
    MDB_val k, MDB_val v, struct redeem_order *o, void *arg), void *arg)
{
	uint8_t kb[12];
	MDB_val k = mval(kb, 12), v;
	MDB_cursor *cur;
	struct redeem_order o;
	int rc;

	if (st->orders_absent)
		return 0;
	order_key(kb, brand_id, 0);
	if ((rc = mdb_cursor_open(txn, st->orders, &cur)) != 0)
		return rc;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0 &&
	    sigil_be32_get(k.mv_data) == brand_id;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (order_decode(k, v, &o) != 0 || o.customer_id != customer_id)
			continue;
		memcpy(kb, k.mv_data, 12);
		k = mval(kb, 12);
		if ((rc = fn(st, txn, k, v, &o, arg)) != 0)
			break;
		/* the cursor is where it was: the key is the same */
		if ((rc = mdb_cursor_get(cur, &k, &v, MDB_SET)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Zeroes the order's value in place, then writes it without its
 * customer, address, phone and name. */
static int
order_cut(struct store *st, MDB_txn *txn, MDB_val k, MDB_val v,
    struct redeem_order *o, void *arg)
{
	uint8_t zero[ORDER_FIXED + sizeof o->name + sizeof o->phone +
	    sizeof o->address];
	MDB_val z;
	int rc;

	(void)arg;
	memset(zero, 0, sizeof zero);
	z = mval(zero, v.mv_size);
	if ((rc = mdb_put(txn, st->orders, &k, &z, 0)) != 0)
		return rc;
	o->customer_id = 0;
	o->name[0] = o->phone[0] = o->address[0] = '\0';
	return order_write(st, txn, o);
}

/* The customer's orders keep item, kind, times and status; their
 * address, phone and name are zeroed in place, then cut. */
int
orders_erase(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t customer_id)
{
	return orders_rewrite(st, txn, brand_id, customer_id, order_cut,
	    NULL);
}

static int
order_owner(struct store *st, MDB_txn *txn, MDB_val k, MDB_val v,
    struct redeem_order *o, void *arg)
{
	(void)k;
	(void)v;
	o->customer_id = *(const uint64_t *)arg;
	return order_write(st, txn, o);
}

/* The customer's orders made another's (a merge): the customer field
 * only, in place. */
int
orders_move(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t from, uint64_t to)
{
	return orders_rewrite(st, txn, brand_id, from, order_owner, &to);
}
