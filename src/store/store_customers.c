/*
 * store_customers.c - customers and what is personal about them:
 * customers (brand || id: phone hash and ciphertext, times),
 * customer_phones (brand || phone hash -> id), device_links (brand ||
 * device -> customer) and customer_devices (brand || customer || device,
 * the reverse), otps (brand || phone hash: the pending one-time code),
 * and the activity log (activity, brand || global id: claims, logins,
 * redemptions, feedback, what webhooks deliver besides scans).
 *
 * A customer is created by its first login (store_customer_by_phone),
 * the phone index and the row in one transaction. A device's scans
 * become the customer's through device_links, nothing in the scan log is
 * rewritten. Erasure (PIPL) keeps the row with erased set and the
 * amounts of claims and ledger, drops the phone index, the ciphertext
 * and the device links, and has store_erase.c cut the rest (the
 * one-time code, activity texts, claims' customer id, precise
 * locations) in the same transaction; a customer once erased is refused
 * wherever it would earn or log in (customer_live).
 *
 * Owns the tables customers, customer_phones, device_links,
 * customer_devices, otps and activity, and the meta counters
 * next_customer and next_activity.
 * It may call store_env.c's runner and snapshot, store_rows.c, and for an
 * erasure store_erase.c (erase_rows) and store_state.c's pending layer
 * (pend_*); it must never call the loyalty files above it
 * (store_claims.c and store_ledger.c call customer_live and
 * activity_event here), and those it calls never call it.
 */
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "sigil/store.h"
#include "sigil/util.h"
#include "store_impl.h"

#define CUSTOMER_FIXED_LEN	57
#define CUSTOMER_MERGE_LEN	16	/* merged_into, merged_at: merged rows */
#define OTP_LEN			64
#define ACTIVITY_FIXED_LEN	36

/* brand BE32 || a 64-bit id: customers, device_links, activity. */
static void
brand64_key(uint8_t *p, uint32_t brand_id, uint64_t id)
{
	sigil_be32_put(p, brand_id);
	sigil_be64_put(p + 4, id);
}

/* brand BE32 || phone hash: customer_phones, otps. */
static void
phone_key(uint8_t *p, uint32_t brand_id, const uint8_t *hash)
{
	sigil_be32_put(p, brand_id);
	memcpy(p + 4, hash, 32);
}

static size_t
customer_encode(const struct customer *c, uint8_t *p)
{
	le64_put(p, (uint64_t)c->created);
	le64_put(p + 8, (uint64_t)c->last_login);
	le64_put(p + 16, (uint64_t)c->erased);
	memcpy(p + 24, c->phone_hash, 32);
	p[56] = (uint8_t)c->phone_ct_len;
	memcpy(p + CUSTOMER_FIXED_LEN, c->phone_ct, c->phone_ct_len);
	if (c->merged_into == 0)
		return CUSTOMER_FIXED_LEN + c->phone_ct_len;
	p += CUSTOMER_FIXED_LEN + c->phone_ct_len;
	le64_put(p, c->merged_into);
	le64_put(p + 8, (uint64_t)c->merged_at);
	return CUSTOMER_FIXED_LEN + c->phone_ct_len + CUSTOMER_MERGE_LEN;
}

static int
customer_decode(MDB_val k, MDB_val v, void *out)
{
	const uint8_t *p = v.mv_data;
	struct customer c = { 0 };

	if (k.mv_size != 12 || v.mv_size < CUSTOMER_FIXED_LEN ||
	    p[56] > STORE_PHONE_CT_MAX ||
	    (v.mv_size != CUSTOMER_FIXED_LEN + (size_t)p[56] &&
	    v.mv_size != CUSTOMER_FIXED_LEN + (size_t)p[56] +
	    CUSTOMER_MERGE_LEN))
		return SIGIL_EIO;
	c.brand_id = sigil_be32_get(k.mv_data);
	c.id = sigil_be64_get((const uint8_t *)k.mv_data + 4);
	c.created = (int64_t)le64_get(p);
	c.last_login = (int64_t)le64_get(p + 8);
	c.erased = (int64_t)le64_get(p + 16);
	memcpy(c.phone_hash, p + 24, 32);
	c.phone_ct_len = p[56];
	memcpy(c.phone_ct, p + CUSTOMER_FIXED_LEN, c.phone_ct_len);
	if (v.mv_size > CUSTOMER_FIXED_LEN + c.phone_ct_len) {
		p += CUSTOMER_FIXED_LEN + c.phone_ct_len;
		c.merged_into = le64_get(p);
		c.merged_at = (int64_t)le64_get(p + 8);
	}
	*(struct customer *)out = c;
	return 0;
}

int
customer_load(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t id, struct customer *out)
{
	uint8_t kb[12];

	brand64_key(kb, brand_id, id);
	return map_err(rows_load(txn, st->customers, kb, 12, customer_decode,
	    out));
}

int
customer_store(struct store *st, MDB_txn *txn, const struct customer *c)
{
	uint8_t kb[12], vb[CUSTOMER_FIXED_LEN + STORE_PHONE_CT_MAX];
	MDB_val k = mval(kb, 12), v;

	brand64_key(kb, c->brand_id, c->id);
	v = mval(vb, customer_encode(c, vb));
	return mdb_put(txn, st->customers, &k, &v, 0);
}

int
customer_live(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t id, struct customer *out)
{
	int rc = customer_load(st, txn, brand_id, id, out);

	if (rc == 0 && (out->erased != 0 || out->merged_into != 0))
		return SIGIL_ESTATE;
	return rc;
}

/* The customer of phone key pk: MDB_NOTFOUND when the phone has none. */
static int
phone_customer(struct store *st, MDB_txn *txn, const uint8_t *pk,
    struct customer *out)
{
	MDB_val k = mval(pk, 36), v;
	int rc = mdb_get(txn, st->customer_phones, &k, &v);

	if (rc != 0)
		return rc;
	if (v.mv_size != 8)
		return SIGIL_EIO;
	return customer_load(st, txn, sigil_be32_get(pk),
	    sigil_be64_get(v.mv_data), out);
}

int
customer_by_phone_txn(struct store *st, MDB_txn *txn, uint32_t brand_id,
    const uint8_t *hash, const uint8_t *ct, size_t ct_len, int64_t now,
    struct customer *out, int *created)
{
	uint8_t pk[36], ib[8];
	MDB_val k = mval(pk, 36), v;
	uint64_t id;
	int rc;

	phone_key(pk, brand_id, hash);
	if ((rc = phone_customer(st, txn, pk, out)) != MDB_NOTFOUND) {
		*created = 0;
		return rc;
	}
	if ((rc = brand_exists(st, txn, brand_id)) != 0 ||
	    (rc = rows_global_id(st, txn, "next_customer", &id)) != 0)
		return rc;
	memset(out, 0, sizeof(*out));
	out->id = id;
	out->brand_id = brand_id;
	memcpy(out->phone_hash, hash, 32);
	memcpy(out->phone_ct, ct, ct_len);
	out->phone_ct_len = ct_len;
	out->created = now;
	*created = 1;
	sigil_be64_put(ib, id);
	v = mval(ib, 8);
	if ((rc = mdb_put(txn, st->customer_phones, &k, &v,
	    MDB_NOOVERWRITE)) != 0)
		return rc;
	return customer_store(st, txn, out);
}

int
customer_phone_find(struct store *st, MDB_txn *txn, uint32_t brand_id,
    const uint8_t *hash, struct customer *out)
{
	uint8_t pk[36];

	phone_key(pk, brand_id, hash);
	return phone_customer(st, txn, pk, out);
}

struct by_phone_arg {
	uint32_t	 brand_id;
	const uint8_t	*hash;
	const uint8_t	*ct;
	size_t		 ct_len;
	int64_t		 now;
	struct customer	 c;
	int		 created;
};

static int
by_phone_fn(struct store *st, MDB_txn *txn, void *p)
{
	struct by_phone_arg *a = p;

	return customer_by_phone_txn(st, txn, a->brand_id, a->hash, a->ct,
	    a->ct_len, a->now, &a->c, &a->created);
}

int
store_customer_by_phone(struct store *st, uint32_t brand_id,
    const uint8_t hash[32], const uint8_t *ct, size_t ct_len,
    struct customer *out, int *created)
{
	struct by_phone_arg a = { brand_id, hash, ct, ct_len, sigil_now_us(),
	    { 0 }, 0 };
	int rc;

	if (hash == NULL || ct == NULL || ct_len == 0 ||
	    ct_len > STORE_PHONE_CT_MAX)
		return SIGIL_EINVAL;
	if ((rc = STORE_WRITE_OUT(st, by_phone_fn, &a, a.c, out)) != 0)
		return rc;
	if (created)
		*created = a.created;
	return 0;
}

int
store_customer_get(struct store *st, uint32_t brand_id, uint64_t id,
    struct customer *out)
{
	uint8_t kb[12];

	brand64_key(kb, brand_id, id);
	return rows_get(st, st->customers, kb, 12, customer_decode, out);
}

static int
resolve_txn(struct store *st, MDB_txn *txn, uint32_t brand_id, uint64_t id,
    struct customer *out)
{
	int rc = customer_load(st, txn, brand_id, id, out);

	for (int i = 0; rc == 0 && out->merged_into != 0; i++)
		rc = i == STORE_MERGE_DEPTH ? SIGIL_EIO :
		    customer_load(st, txn, brand_id, out->merged_into, out);
	return rc;
}

int
store_customer_resolve(struct store *st, uint32_t brand_id, uint64_t id,
    struct customer *out)
{
	if (st->loyalty_absent)
		return SIGIL_ENOTFOUND;
	return STORE_READ(st, resolve_txn(st, txn, brand_id, id, out));
}

int
store_customer_find_phone(struct store *st, uint32_t brand_id,
    const uint8_t hash[32], struct customer *out)
{
	uint8_t pk[36];

	if (st->loyalty_absent || hash == NULL)
		return SIGIL_ENOTFOUND;
	phone_key(pk, brand_id, hash);
	return STORE_READ(st, phone_customer(st, txn, pk, out));
}

ROWS_EACH_STEP(customer_each_one, struct customer, customer_decode)

int
store_customer_each(struct store *st, uint32_t brand_id, uint64_t after,
    int (*fn)(void *arg, const struct customer *c), void *arg)
{
	uint8_t kb[12];

	if (after == UINT64_MAX)
		return 0;
	brand64_key(kb, brand_id, after + 1);
	return rows_each(st, st->customers, kb, 12, 4, customer_each_one,
	    (any_fn)fn, arg);
}

/* device_links brand || device -> customer; customer_devices the reverse. */
static void
link_keys(uint8_t *lk, uint8_t *rk, uint32_t brand_id, uint64_t device,
    uint64_t customer_id)
{
	brand64_key(lk, brand_id, device);
	brand64_key(rk, brand_id, customer_id);
	sigil_be64_put(rk + 12, device);
}

int
device_link_txn(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t device, uint64_t customer_id, int64_t now, uint64_t *from)
{
	uint8_t lk[12], rk[20], cb[8];
	MDB_val k = mval(lk, 12), v;
	struct customer c;
	int rc;

	*from = 0;
	if ((rc = customer_live(st, txn, brand_id, customer_id, &c)) != 0)
		return rc;
	link_keys(lk, rk, brand_id, device, customer_id);
	rc = mdb_get(txn, st->device_links, &k, &v);
	if (rc == 0 && v.mv_size == 8 &&
	    sigil_be64_get(v.mv_data) != customer_id) {
		/* The device changes hands: drop the old reverse entry. */
		*from = sigil_be64_get(v.mv_data);
		link_keys(lk, rk, brand_id, device, *from);
		k = mval(rk, 20);
		if ((rc = mdb_del(txn, st->customer_devices, &k, NULL)) != 0 &&
		    rc != MDB_NOTFOUND)
			return rc;
	} else if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	/* a device new to customers: its recent scans become segment facts
	 * (store_segments.c) */
	if (rc == MDB_NOTFOUND && (rc = segfacts_link(st, txn, brand_id,
	    device, now)) != 0)
		return rc;
	link_keys(lk, rk, brand_id, device, customer_id);
	sigil_be64_put(cb, customer_id);
	k = mval(lk, 12);
	v = mval(cb, 8);
	if ((rc = mdb_put(txn, st->device_links, &k, &v, 0)) != 0)
		return rc;
	k = mval(rk, 20);
	v = mval("", 0);
	if ((rc = mdb_put(txn, st->customer_devices, &k, &v, 0)) != 0)
		return rc;
	c.last_login = now;
	return customer_store(st, txn, &c);
}

int
customer_new(struct store *st, MDB_txn *txn, uint32_t brand_id, int64_t now,
    struct customer *out)
{
	uint64_t id;
	int rc;

	if ((rc = brand_exists(st, txn, brand_id)) != 0 ||
	    (rc = rows_global_id(st, txn, "next_customer", &id)) != 0)
		return rc;
	memset(out, 0, sizeof *out);
	out->id = id;
	out->brand_id = brand_id;
	out->created = now;
	return customer_store(st, txn, out);
}

struct link_arg {
	uint32_t	brand_id;
	uint64_t	device, customer_id;
	int64_t		now;
};

static int
link_fn(struct store *st, MDB_txn *txn, void *p)
{
	struct link_arg *a = p;
	uint64_t from;

	return device_link_txn(st, txn, a->brand_id, a->device,
	    a->customer_id, a->now, &from);
}

int
store_device_link(struct store *st, uint32_t brand_id, uint64_t device,
    uint64_t customer_id, int64_t now)
{
	struct link_arg a = { brand_id, device, customer_id, now };

	if (device == 0)
		return SIGIL_EINVAL;
	return store_write(st, link_fn, &a);
}

static int
u64_decode(MDB_val k, MDB_val v, void *out)
{
	(void)k;
	if (v.mv_size != 8)
		return SIGIL_EIO;
	*(uint64_t *)out = sigil_be64_get(v.mv_data);
	return 0;
}

int
store_device_customer(struct store *st, uint32_t brand_id,
    uint64_t device, uint64_t *customer_id)
{
	uint8_t lk[12];

	brand64_key(lk, brand_id, device);
	return rows_get(st, st->device_links, lk, 12, u64_decode, customer_id);
}

static int
device_each_one(MDB_val k, MDB_val v, void *p)
{
	struct cb_ctx *c = p;

	(void)v;
	if (k.mv_size != 20)
		return SIGIL_EIO;
	return ((int (*)(void *, uint64_t))c->fn)(c->arg,
	    sigil_be64_get((const uint8_t *)k.mv_data + 12));
}

int
store_customer_devices(struct store *st, uint32_t brand_id,
    uint64_t customer_id, int (*fn)(void *arg, uint64_t device), void *arg)
{
	uint8_t rk[20];

	link_keys(rk, rk, brand_id, 0, customer_id);
	return rows_each(st, st->customer_devices, rk, 20, 12, device_each_one,
	    (any_fn)fn, arg);
}

/* ---- what a merge (store_merge.c) does to these tables ---- */

int
customer_phone_set(struct store *st, MDB_txn *txn, struct customer *c,
    const uint8_t *hash, const uint8_t *ct, size_t ct_len)
{
	uint8_t pk[36], ib[8];
	MDB_val k = mval(pk, 36), v = mval(ib, 8);
	int rc;

	if (c->phone_ct_len != 0 || ct_len == 0 || ct_len > STORE_PHONE_CT_MAX)
		return SIGIL_EINVAL;
	phone_key(pk, c->brand_id, hash);
	sigil_be64_put(ib, c->id);
	if ((rc = mdb_put(txn, st->customer_phones, &k, &v,
	    MDB_NOOVERWRITE)) != 0)
		return rc == MDB_KEYEXIST ? SIGIL_ECONFLICT : rc;
	memcpy(c->phone_hash, hash, 32);
	memcpy(c->phone_ct, ct, ct_len);
	c->phone_ct_len = ct_len;
	return customer_store(st, txn, c);
}

int
customer_phone_unbind(struct store *st, MDB_txn *txn,
    const struct customer *c)
{
	uint8_t pk[36];
	MDB_val k = mval(pk, 36);
	int rc;

	phone_key(pk, c->brand_id, c->phone_hash);
	rc = mdb_del(txn, st->customer_phones, &k, NULL);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int
customer_devices_move(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t from, uint64_t to, size_t *moved)
{
	struct u64vec devs = { NULL, 0, 0 };
	uint8_t lk[12], rk[20], cb[8];
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;

	if ((rc = mdb_cursor_open(txn, st->customer_devices, &cur)) != 0)
		return rc;
	link_keys(lk, rk, brand_id, 0, from);
	k = mval(rk, 20);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 20 || memcmp(k.mv_data, rk, 12) != 0)
			break;
		if ((rc = u64vec_push(&devs, sigil_be64_get(
		    (const uint8_t *)k.mv_data + 12))) != 0)
			break;
	}
	mdb_cursor_close(cur);
	if (rc == MDB_NOTFOUND)
		rc = 0;
	for (size_t i = 0; rc == 0 && i < devs.n; i++) {
		link_keys(lk, rk, brand_id, devs.v[i], from);
		k = mval(rk, 20);
		if ((rc = mdb_del(txn, st->customer_devices, &k, NULL)) != 0)
			break;
		link_keys(lk, rk, brand_id, devs.v[i], to);
		k = mval(rk, 20);
		v = mval("", 0);
		if ((rc = mdb_put(txn, st->customer_devices, &k, &v, 0)) != 0)
			break;
		sigil_be64_put(cb, to);
		k = mval(lk, 12);
		v = mval(cb, 8);
		rc = mdb_put(txn, st->device_links, &k, &v, 0);
	}
	*moved = devs.n;
	free(devs.v);
	return rc;
}

int
activity_move(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t from, uint64_t to)
{
	struct u64vec ids = { NULL, 0, 0 };
	uint8_t kb[12], *vb = NULL;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;

	if ((rc = mdb_cursor_open(txn, st->activity, &cur)) != 0)
		return rc;
	brand64_key(kb, brand_id, 0);
	k = mval(kb, 12);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 12 || sigil_be32_get(k.mv_data) != brand_id)
			break;
		if (v.mv_size >= ACTIVITY_FIXED_LEN &&
		    le64_get((const uint8_t *)v.mv_data + 9) == from &&
		    (rc = u64vec_push(&ids, sigil_be64_get(
		    (const uint8_t *)k.mv_data + 4))) != 0)
			break;
	}
	mdb_cursor_close(cur);
	if (rc == MDB_NOTFOUND)
		rc = 0;
	for (size_t i = 0; rc == 0 && i < ids.n; i++) {
		brand64_key(kb, brand_id, ids.v[i]);
		k = mval(kb, 12);
		if ((rc = mdb_get(txn, st->activity, &k, &v)) != 0)
			break;
		/* v points into the map: copy before writing. */
		if ((vb = malloc(v.mv_size)) == NULL) {
			rc = SIGIL_ENOMEM;
			break;
		}
		memcpy(vb, v.mv_data, v.mv_size);
		le64_put(vb + 9, to);
		v = mval(vb, v.mv_size);
		rc = mdb_put(txn, st->activity, &k, &v, 0);
		free(vb);
	}
	free(ids.v);
	return rc;
}

struct erase_arg {
	uint32_t	brand_id;
	uint64_t	id;
	int64_t		now;
	uint8_t		*codes;		/* out: codes erase_rows touched */
	size_t		ncodes;
};

static int
erase_fn(struct store *st, MDB_txn *txn, void *p)
{
	struct erase_arg *a = p;
	uint8_t pk[36], rk[20], lk[12];
	uint64_t *devs = NULL, *nd;
	size_t ndev = 0, cap = 0;
	MDB_cursor *cur;
	MDB_val k, v;
	struct customer c, z;
	int rc;

	if ((rc = customer_live(st, txn, a->brand_id, a->id, &c)) != 0)
		return rc;
	phone_key(pk, a->brand_id, c.phone_hash);
	k = mval(pk, 36);
	if ((rc = mdb_del(txn, st->customer_phones, &k, NULL)) != 0 &&
	    rc != MDB_NOTFOUND)
		return rc;
	if ((rc = mdb_cursor_open(txn, st->customer_devices, &cur)) != 0)
		return rc;
	link_keys(lk, rk, a->brand_id, 0, a->id);
	for (;;) {
		k = mval(rk, 20);
		if ((rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE)) != 0)
			break;
		if (k.mv_size != 20 || memcmp(k.mv_data, rk, 12) != 0)
			break;
		memcpy(lk + 4, (const uint8_t *)k.mv_data + 12, 8);
		if (ndev == cap) {
			cap = cap ? cap * 2 : 8;
			if ((nd = realloc(devs, cap * sizeof(*nd))) == NULL) {
				rc = SIGIL_ENOMEM;
				break;
			}
			devs = nd;
		}
		devs[ndev++] = sigil_be64_get(lk + 4);
		if ((rc = mdb_cursor_del(cur, 0)) != 0)
			break;
		k = mval(lk, 12);
		if ((rc = mdb_del(txn, st->device_links, &k, NULL)) != 0 &&
		    rc != MDB_NOTFOUND)
			break;
		rc = 0;
	}
	mdb_cursor_close(cur);
	if ((rc != 0 && rc != MDB_NOTFOUND) ||
	    (rc = erase_rows(st, txn, a->brand_id, a->id, c.phone_hash, devs,
	    ndev, &a->codes, &a->ncodes)) != 0) {
		free(devs);
		return rc;
	}
	free(devs);
	/* Until store_scrub has run: sigild runs it at start. */
	if ((rc = meta_put(st, txn, meta_key("scrub/pending"), 1)) != 0)
		return rc;
	/*
	 * Zeros over hash and ciphertext at the same length first (LMDB
	 * writes a same-size value in place), then the short row, so the
	 * old bytes are not left in the page's free gap.
	 */
	z = c;
	memset(z.phone_hash, 0, sizeof(z.phone_hash));
	memset(z.phone_ct, 0, sizeof(z.phone_ct));
	if ((rc = customer_store(st, txn, &z)) != 0)
		return rc;
	memset(c.phone_hash, 0, sizeof(c.phone_hash));
	memset(c.phone_ct, 0, sizeof(c.phone_ct));
	c.phone_ct_len = 0;
	c.erased = a->now != 0 ? a->now : 1;
	return customer_store(st, txn, &c);
}

int
store_customer_erase(struct store *st, uint32_t brand_id, uint64_t id,
    int64_t now)
{
	struct erase_arg a = { brand_id, id, now, NULL, 0 };
	int rc;

	if (st->flags & STORE_RDONLY)
		return SIGIL_EDENIED;
	/* Pending code state is changed too: one writer of it at a time. */
	pthread_mutex_lock(&st->state_write_mu);
	if ((rc = pend_ready_locked(st)) == 0 &&
	    (rc = store_write(st, erase_fn, &a)) == 0)
		for (size_t i = 0; i < a.ncodes; i++)
			pend_coarsen(st, a.codes + i * CODE_KEY_LEN);
	else if (rc != 0 && rc != SIGIL_ESTATE && rc != SIGIL_ENOTFOUND)
		pend_invalidate(st);
	pthread_mutex_unlock(&st->state_write_mu);
	free(a.codes);
	return rc;
}

/* ---- one-time codes ---- */

static int
otp_decode(MDB_val k, MDB_val v, void *out)
{
	const uint8_t *p = v.mv_data;
	struct otp_state o;

	(void)k;
	if (v.mv_size != OTP_LEN)
		return SIGIL_EIO;
	memcpy(o.code_hash, p, 32);
	o.expires = (int64_t)le64_get(p + 32);
	o.sent_at = (int64_t)le64_get(p + 40);
	o.tries = le32_get(p + 48);
	o.sent_today = le32_get(p + 52);
	o.day = (int64_t)le64_get(p + 56);
	*(struct otp_state *)out = o;
	return 0;
}

int
store_otp_get(struct store *st, uint32_t brand_id, const uint8_t hash[32],
    struct otp_state *out)
{
	uint8_t kb[36];

	if (hash == NULL)
		return SIGIL_ENOTFOUND;
	phone_key(kb, brand_id, hash);
	return rows_get(st, st->otps, kb, 36, otp_decode, out);
}

int
store_otp_put(struct store *st, uint32_t brand_id, const uint8_t hash[32],
    const struct otp_state *o)
{
	uint8_t kb[36], vb[OTP_LEN];

	if (hash == NULL || o == NULL || brand_id == 0)
		return SIGIL_EINVAL;
	phone_key(kb, brand_id, hash);
	memcpy(vb, o->code_hash, 32);
	le64_put(vb + 32, (uint64_t)o->expires);
	le64_put(vb + 40, (uint64_t)o->sent_at);
	le32_put(vb + 48, o->tries);
	le32_put(vb + 52, o->sent_today);
	le64_put(vb + 56, (uint64_t)o->day);
	return rows_write(st, st->otps, kb, 36, vb, OTP_LEN, brand_id);
}

int
store_otp_del(struct store *st, uint32_t brand_id, const uint8_t hash[32])
{
	uint8_t kb[36];

	if (hash == NULL)
		return SIGIL_EINVAL;
	phone_key(kb, brand_id, hash);
	return rows_write(st, st->otps, kb, 36, NULL, 0, 0);
}

/* ---- activity log ---- */

int
activity_event(struct store *st, MDB_txn *txn, uint32_t brand_id, int type,
    int64_t at, uint64_t customer_id, uint64_t ref, int64_t points)
{
	struct activity *a;
	int rc;

	/* A 2-KiB entry: off the stack of server threads. */
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return SIGIL_ENOMEM;
	a->brand_id = brand_id;
	a->type = type;
	a->at = at;
	a->customer_id = customer_id;
	a->ref = ref;
	a->points = points;
	rc = activity_append(st, txn, a);
	free(a);
	return rc;
}

static int
activity_add_fn(struct store *st, MDB_txn *txn, void *p)
{
	struct activity *a = p;
	int rc;

	if ((rc = brand_exists(st, txn, a->brand_id)) != 0)
		return rc;
	return activity_append(st, txn, a);
}

int
store_activity_add(struct store *st, struct activity *a)
{
	struct activity *w;
	int rc;

	if (a == NULL || !activity_ok(a))
		return SIGIL_EINVAL;
	/* A 2-KiB context: off the stack of server threads. */
	if ((w = malloc(sizeof(*w))) == NULL)
		return SIGIL_ENOMEM;
	*w = *a;
	if (w->at == 0)
		w->at = sigil_now_us();
	rc = STORE_WRITE_OUT(st, activity_add_fn, w, *w, a);
	free(w);
	return rc;
}

struct act_walk {
	struct cb_ctx	c;
	size_t		left;	/* 0 = no limit */
	int		limited, hit_limit;
	struct activity	a;
};

static int
activity_each_one(MDB_val k, MDB_val v, void *p)
{
	struct act_walk *w = p;
	int rc;

	if (w->limited && w->left == 0) {
		w->hit_limit = 1;
		return 1;
	}
	if ((rc = activity_decode(k, v, &w->a)) != 0)
		return rc;
	w->left--;
	return ((int (*)(void *, const struct activity *))w->c.fn)(w->c.arg,
	    &w->a);
}

int
store_activity_each(struct store *st, uint32_t brand_id, uint64_t after,
    size_t limit, int (*fn)(void *arg, const struct activity *a), void *arg)
{
	struct act_walk *w;
	uint8_t kb[12];
	int rc;

	if (after == UINT64_MAX)
		return 0;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return SIGIL_ENOMEM;
	w->c.fn = (any_fn)fn;
	w->c.arg = arg;
	w->left = limit;
	w->limited = limit != 0;
	brand64_key(kb, brand_id, after + 1);
	rc = rows_walk(st, st->activity, kb, 12, 4, activity_each_one, w);
	/* The limit reached is the end of the walk, not a stop by fn. */
	if (w->hit_limit)
		rc = 0;
	free(w);
	return rc;
}

/* ---- the activity log newest first (the brand's feedback inbox) ---- */

struct act_back {
	uint32_t	brand_id;
	uint64_t	before;
	int		type;
	int		(*fn)(void *arg, const struct activity *a);
	void		*arg;
	struct activity	a;
	int		stop;
};

static int
activity_back_walk(struct store *st, MDB_txn *txn, struct act_back *w)
{
	MDB_cursor *cur;
	MDB_val k, v;
	uint8_t kb[12];
	int rc;

	if ((rc = mdb_cursor_open(txn, st->activity, &cur)) != 0)
		return rc;
	/* The first key past the range, then one step back. */
	if (w->before != 0)
		brand64_key(kb, w->brand_id, w->before);
	else
		brand64_key(kb, w->brand_id + 1, 0);
	k = mval(kb, 12);
	if (w->before == 0 && w->brand_id == UINT32_MAX)
		rc = MDB_NOTFOUND;
	else
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	if (rc == MDB_NOTFOUND)
		rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	else if (rc == 0)
		rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
	for (; rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_PREV)) {
		if (k.mv_size != 12 || sigil_be32_get(k.mv_data) !=
		    w->brand_id)
			break;
		if (w->type != 0 && v.mv_size >= 1 &&
		    ((const uint8_t *)v.mv_data)[0] != w->type)
			continue;
		if ((rc = activity_decode(k, v, &w->a)) != 0)
			break;
		if ((w->stop = w->fn(w->arg, &w->a)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int
store_activity_back(struct store *st, uint32_t brand_id, uint64_t before,
    int type, int (*fn)(void *arg, const struct activity *a), void *arg)
{
	struct act_back *w;
	int rc;

	if (before == 1)
		return 0;
	/* A 2-KiB entry: off the stack of server threads. */
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return SIGIL_ENOMEM;
	w->brand_id = brand_id;
	w->before = before;
	w->type = type;
	w->fn = fn;
	w->arg = arg;
	rc = STORE_READ(st, activity_back_walk(st, txn, w));
	if (w->stop)
		rc = w->stop;
	free(w);
	return rc;
}
