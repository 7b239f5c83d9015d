/*
 * test_merge.c - two customers made one (src/store/store_merge.c) and
 * the merged ledger's arithmetic (src/store/ledger.c): every
 * customer-keyed table moved, both histories kept, the balance the sum
 * of the two, lots expiring as they would have; the rule (the phone's
 * customer survives, two phones conflict); the phone bound at login to a
 * customer without one (store_phone_login); two merges racing; erasure
 * after a merge. A customer without a phone is made the way the WeChat
 * login makes one (customer_new, in a write transaction: white-box, so
 * this file includes store_impl.h).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "storefix.h"

#include "sigil/ledger.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "../../src/store/store_impl.h"
#include "barefix.h"

#define HOUR	(3600LL * 1000000)
#define DAY	(24 * HOUR)
#define T0	(1767225600000000LL)	/* 2026-01-01T00:00:00Z */

struct fixture {
	char		 dir[64];
	struct store	*st;
	uint32_t	 brand, other;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct reward_item it = { 0 };

	assert_non_null(f);
	assert_int_equal(storefix_open(f->dir, sizeof f->dir, "merge",
	    STORE_CREATE | STORE_NOSYNC, &f->st), 0);
	f->brand = add_brand(f->st, "acme");
	f->other = add_brand(f->st, "other");
	it.brand_id = f->brand;
	strcpy(it.name, "cup");
	it.cost = 20;
	it.stock = -1;
	assert_int_equal(store_item_add(f->st, &it), 0);
	*state = f;
	return 0;
}

STOREFIX_TEARDOWN(struct fixture)

static void
phone(uint8_t *hash, int n)
{
	memset(hash, 0, 32);
	hash[0] = (uint8_t)n;
	hash[1] = (uint8_t)(n >> 8);
	hash[31] = 0x5a;
}

static uint64_t
phone_customer(struct fixture *f, int n)
{
	uint8_t h[32], ct[24];
	struct customer c;
	int created = -1;

	phone(h, n);
	memset(ct, n, sizeof ct);
	assert_int_equal(store_customer_by_phone(f->st, f->brand, h, ct,
	    sizeof ct, &c, &created), 0);
	assert_int_equal(created, 1);
	return c.id;
}

struct bind {
	uint32_t		brand_id;
	uint64_t		customer;
	struct ident_bind	b;
};

static int
bind_fn(struct store *st, MDB_txn *txn, void *p)
{
	struct bind *x = p;

	return ident_put(st, txn, x->brand_id, x->customer, &x->b, T0);
}

/* A WeChat identity (kind, app, hash bytes n) bound to cust. */
static void
identity(struct fixture *f, uint64_t cust, int kind, const char *app, int n)
{
	struct bind *x = calloc(1, sizeof *x);

	assert_non_null(x);
	x->brand_id = f->brand;
	x->customer = cust;
	x->b.kind = kind;
	memset(x->b.hash, n, 32);
	snprintf(x->b.app, sizeof x->b.app, "%s", app);
	memset(x->b.ct, n, 40);
	x->b.ct_len = 40;
	assert_int_equal(store_write(f->st, bind_fn, x), 0);
	free(x);
}

/* A customer without a phone, as a WeChat login makes one. */
static uint64_t
wechat_customer(struct fixture *f, int64_t at)
{
	struct customer out;

	assert_int_equal(barefix_customer(f->st, f->brand, at, &out), 0);
	assert_int_equal(out.phone_ct_len, 0);
	return out.id;
}

static void
claim(struct fixture *f, uint64_t cust, uint64_t serial, int64_t points,
    int64_t at, int64_t expires, const struct claim_limits *lim, int want)
{
	struct claim cl = { 0 };

	cl.brand_id = f->brand;
	cl.serial = serial;
	cl.role = CLAIM_CONSUMER;
	cl.customer_id = cust;
	cl.points = points;
	cl.prize = -1;
	cl.at = at;
	cl.expires_at = expires;
	assert_int_equal(store_claim(f->st, &cl, lim), want);
}

struct ledger {
	struct ledger_entry	e[64];
	size_t			n;
};

static int
ledger_one(void *arg, const struct ledger_entry *e)
{
	struct ledger *l = arg;

	assert_true(l->n < 64);
	l->e[l->n++] = *e;
	return 0;
}

static void
ledger_of(struct fixture *f, uint64_t cust, struct ledger *l)
{
	l->n = 0;
	assert_int_equal(store_ledger_each(f->st, f->brand, cust, ledger_one,
	    l), 0);
}

static int64_t
balance(struct fixture *f, uint64_t cust, int64_t at)
{
	struct ledger l;
	int64_t b;

	ledger_of(f, cust, &l);
	assert_int_equal(ledger_balance(l.e, l.n, at, &b), 0);
	return b;
}

struct acts {
	struct activity	a[16];
	size_t		n;
	uint64_t	cust;
};

static int
act_one(void *arg, const struct activity *a)
{
	struct acts *x = arg;

	if (a->customer_id == x->cust && x->n < 16)
		x->a[x->n++] = *a;
	return 0;
}

static int
count_dev(void *arg, uint64_t device)
{
	(void)device;
	++*(int *)arg;
	return 0;
}

struct audits {
	struct audit_entry	e;
	int			n;
};

static int
audit_one(void *arg, const struct audit_entry *e)
{
	struct audits *x = arg;

	if (strcmp(e->action, "customer_merge") == 0) {
		x->e = *e;
		x->n++;
	}
	return 0;
}

#define CONSENT_MARKETING_BIT	2	/* consent.h's CONSENT_MARKETING */

static void
consent(struct fixture *f, uint64_t cust, int64_t at, unsigned grant,
    unsigned withdraw)
{
	struct consent_record r = { 0 };

	r.brand_id = f->brand;
	r.customer_id = cust;
	r.at = at;
	r.grant = grant;
	r.withdraw = withdraw;
	r.channel = 1;
	r.lang = 1;
	assert_int_equal(store_consent_record(f->st, &r), 0);
}

static int
consent_count(void *arg, const struct consent_entry *e)
{
	(void)e;
	++*(int *)arg;
	return 0;
}

/* The arithmetic alone: two pools, a spend in one, then joined. */
static void
test_ledger_pools(void **state)
{
	/*
	 * B (customer 2) earned first; A (customer 1) earned later and
	 * spent 80. Replayed as one pool, A's spend would take B's older
	 * lot and A's EXPIRE would then leave points behind: pools keep
	 * each customer's replay as it was.
	 */
	/* id, brand, customer, type, points, at, expires_at, ref, origin */
	struct ledger_entry e[6] = {
		{ 1, 1, 2, LEDGER_EARN, 50, T0, 0, 0, 0 },
		{ 2, 1, 1, LEDGER_EARN, 100, T0 + 1, T0 + DAY, 0, 0 },
		{ 3, 1, 1, LEDGER_REDEEM, -80, T0 + 2, 0, 0, 0 },
		{ 4, 1, 1, LEDGER_EXPIRE, -20, T0 + DAY, 0, 2, 0 },
		{ 5, 1, 1, LEDGER_MERGE, 0, T0 + 2 * DAY, 0, 2, 0 },
		{ 6, 1, 1, LEDGER_REDEEM, -30, T0 + 3 * DAY, 0, 0, 0 },
	};
	int64_t b;
	struct ledger_entry *due;
	size_t ndue;

	(void)state;
	/* e[0] moved from customer 2: origin 2, customer 1 */
	e[0].customer_id = 1;
	e[0].origin = 2;
	assert_int_equal(ledger_balance(e, 5, T0 + 2 * DAY, &b), 0);
	assert_int_equal(b, 50);
	assert_int_equal(ledger_due_expiries(e, 5, T0 + 2 * DAY, &due,
	    &ndue), 0);
	assert_int_equal(ndue, 0);
	free(due);
	/* after the join, a spend takes the merged lot */
	assert_int_equal(ledger_balance(e, 6, T0 + 3 * DAY, &b), 0);
	assert_int_equal(b, 20);
	/* a debt in one pool is not paid by another pool's lot */
	{
		struct ledger_entry d[4] = {
			{ 1, 1, 1, LEDGER_ADJUST, -10, T0, 0, 0, 0 },
			{ 2, 1, 1, LEDGER_EARN, 5, T0 + 1, 0, 0, 3 },
			{ 3, 1, 1, LEDGER_EARN, 7, T0 + 2, 0, 0, 0 },
			{ 4, 1, 1, LEDGER_MERGE, 0, T0 + 3, 0, 3, 0 },
		};

		assert_int_equal(ledger_balance(d, 3, T0 + 3, &b), 0);
		assert_int_equal(b, 2);		/* -10 + 7, and 5 */
		assert_int_equal(ledger_balance(d, 4, T0 + 3, &b), 0);
		assert_int_equal(b, 2);
	}
	/* a MERGE entry with points, or naming its own pool, is corrupt */
	e[4].points = 1;
	assert_int_equal(ledger_balance(e, 5, T0, &b), SIGIL_EINVAL);
	e[4].points = 0;
	e[4].ref = 1;
	assert_int_equal(ledger_balance(e, 5, T0, &b), SIGIL_EINVAL);
}

/* Everything gone had becomes keep's; gone is refused from then on. */
static void
test_merge_moves(void **state)
{
	struct fixture *f = *state;
	struct claim_limits lim = { 0 };
	struct redeem_order o = { 0 }, got;
	struct ledger_entry red;
	struct customer c;
	struct pin_fails pf;
	struct ledger l;
	struct acts acts = { .cust = 0 };
	struct audits au = { .n = 0 };
	uint64_t p = phone_customer(f, 1), w = wechat_customer(f, T0 - DAY);
	uint64_t kept = 0, id;
	int64_t t1 = T0 + HOUR * 20, bp, bw;
	uint8_t h[32];
	int n;

	lim.daily_cap = 3;
	lim.day_start = T0;
	/* p: 100 points for ten days; w: 50 for two days, 20 spent */
	claim(f, p, 1, 100, T0 + HOUR, T0 + 10 * DAY, &lim, 0);
	claim(f, w, 2, 50, T0 + 2 * HOUR, T0 + 2 * DAY, &lim, 0);
	claim(f, w, 3, 5, T0 + 3 * HOUR, T0 + 2 * DAY, &lim, 0);
	o.kind = ORDER_PICKUP;
	strcpy(o.pickup_code, "12345678");
	assert_int_equal(store_redeem_order(f->st, f->brand, w, 1,
	    T0 + 4 * HOUR, &o, &red), 0);
	assert_int_equal(store_device_link(f->st, f->brand, 77, w, T0), 0);
	assert_int_equal(store_device_link(f->st, f->brand, 78, p, T0), 0);
	assert_int_equal(store_pin_fail(f->st, f->brand, 9, w, 100, &pf), 0);
	assert_int_equal(store_pin_fail(f->st, f->brand, 9, p, 100, &pf), 0);
	consent(f, p, T0, 1 | CONSENT_MARKETING_BIT, 0);
	consent(f, p, T0 + 1, 0, CONSENT_MARKETING_BIT);
	consent(f, w, T0 + 2, CONSENT_MARKETING_BIT, 0);
	bp = balance(f, p, t1);
	bw = balance(f, w, t1);
	assert_int_equal(bp, 100);
	assert_int_equal(bw, 35);

	assert_int_equal(store_customers_merge(f->st, f->brand, w, p, t1,
	    &kept), 0);
	/* the phone's customer survives */
	assert_int_equal(kept, p);
	assert_int_equal(store_customer_get(f->st, f->brand, w, &c), 0);
	assert_int_equal(c.merged_into, p);
	assert_int_equal(c.merged_at, t1);
	assert_int_equal(store_customer_resolve(f->st, f->brand, w, &c), 0);
	assert_int_equal(c.id, p);
	assert_int_equal(c.created, T0 - DAY);	/* the older of the two */
	phone(h, 1);
	assert_int_equal(store_customer_find_phone(f->st, f->brand, h, &c), 0);
	assert_int_equal(c.id, p);

	/* ledger: both histories, ids kept, w's marked, one MERGE entry */
	ledger_of(f, w, &l);
	assert_int_equal(l.n, 0);
	ledger_of(f, p, &l);
	assert_int_equal(l.n, 5);	/* 1 + (2 earns, 1 redeem) + MERGE */
	n = 0;
	for (size_t i = 0; i < l.n; i++) {
		assert_int_equal(l.e[i].customer_id, p);
		if (i > 0)
			assert_true(l.e[i].id > l.e[i - 1].id);
		if (l.e[i].origin == w)
			n++;
	}
	assert_int_equal(n, 3);
	assert_int_equal(l.e[4].type, LEDGER_MERGE);
	assert_int_equal(l.e[4].ref, w);
	assert_int_equal(l.e[4].at, t1);
	assert_int_equal(balance(f, p, t1), bp + bw);
	/* w's lot still lapses at its own time: 35 go two days in */
	assert_int_equal(balance(f, p, T0 + 2 * DAY), 100);

	/* claims, orders, devices, counts, activity */
	{
		struct claim cl;

		assert_int_equal(store_claim_get(f->st, f->brand, 2,
		    CLAIM_CONSUMER, &cl), 0);
		assert_int_equal(cl.customer_id, p);
	}
	assert_int_equal(store_order_get(f->st, f->brand, red.id, &got), 0);
	assert_int_equal(got.customer_id, p);
	assert_int_equal(store_device_customer(f->st, f->brand, 77, &id), 0);
	assert_int_equal(id, p);
	n = 0;
	assert_int_equal(store_customer_devices(f->st, f->brand, p, count_dev,
	    &n), 0);
	assert_int_equal(n, 2);
	n = 0;
	assert_int_equal(store_customer_devices(f->st, f->brand, w, count_dev,
	    &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_pin_fails(f->st, f->brand, 9, p, 100, &pf), 0);
	assert_int_equal(pf.mine, 2);
	assert_int_equal(pf.today, 2);
	assert_int_equal(pf.code, 2);
	assert_int_equal(store_pin_fails(f->st, f->brand, 9, w, 100, &pf), 0);
	assert_int_equal(pf.mine, 0);
	/* consents: w's history is p's now, w's latest choice holds */
	{
		struct consent_entry ce;
		int m = 0;

		assert_int_equal(store_consent_latest(f->st, f->brand, p,
		    CONSENT_MARKETING_BIT, &ce), 0);
		assert_int_equal(ce.action, CONSENT_GRANT);
		assert_int_equal(store_consent_each(f->st, f->brand, w,
		    consent_count, &m), 0);
		assert_int_equal(m, 0);
		assert_int_equal(store_consent_each(f->st, f->brand, p,
		    consent_count, &m), 0);
		assert_int_equal(m, 4);
	}
	/* the daily cap counts both customers' claims of the day: 3 */
	claim(f, p, 4, 1, T0 + 21 * HOUR, 0, &lim, SIGIL_EDENIED);
	acts.cust = p;
	assert_int_equal(store_activity_each(f->st, f->brand, 0, 0, act_one,
	    &acts), 0);
	n = 0;
	for (size_t i = 0; i < acts.n; i++)
		if (acts.a[i].type == ACTIVITY_MERGE) {
			assert_int_equal(acts.a[i].ref, w);
			assert_int_equal(acts.a[i].points, bw);
			n++;
		}
	assert_int_equal(n, 1);
	assert_int_equal(acts.n, 5);	/* 3 claims, 1 redemption, merge */
	acts.cust = w;
	acts.n = 0;
	assert_int_equal(store_activity_each(f->st, f->brand, 0, 0, act_one,
	    &acts), 0);
	assert_int_equal(acts.n, 0);
	assert_int_equal(store_audit_each(f->st, f->brand, 0, audit_one, &au),
	    0);
	assert_int_equal(au.n, 1);
	assert_int_equal(au.e.actor_kind, AUDIT_ACTOR_CUSTOMER);
	assert_string_equal(au.e.actor, "1");
	assert_non_null(strstr(au.e.detail, "\"gone\":2"));

	/* gone is refused like an erased customer */
	claim(f, w, 5, 1, t1, 0, NULL, SIGIL_ESTATE);
	assert_int_equal(store_device_link(f->st, f->brand, 79, w, t1),
	    SIGIL_ESTATE);
	red.brand_id = f->brand;
	assert_int_equal(store_redeem(f->st, f->brand, w, 1, t1, &red),
	    SIGIL_ESTATE);
	assert_int_equal(store_customers_merge(f->st, f->brand, p, w, t1,
	    &kept), SIGIL_ESTATE);
	assert_int_equal(store_customer_erase(f->st, f->brand, w, t1),
	    SIGIL_ESTATE);
	/* keep earns and spends on, over both customers' lots */
	claim(f, p, 6, 10, T0 + DAY + HOUR, 0, NULL, 0);
	assert_int_equal(store_redeem(f->st, f->brand, p, 1, T0 + DAY + 2 *
	    HOUR, &red), 0);
	assert_int_equal(balance(f, p, T0 + DAY + 2 * HOUR), bp + bw + 10 -
	    20);
	/* the other brand saw nothing */
	assert_int_equal(store_customer_resolve(f->st, f->other, w, &c),
	    SIGIL_ENOTFOUND);
}

static void
test_merge_rule(void **state)
{
	struct fixture *f = *state;
	uint64_t p1 = phone_customer(f, 1), p2 = phone_customer(f, 2);
	uint64_t w1 = wechat_customer(f, T0), w2 = wechat_customer(f, T0);
	uint64_t kept = 0;
	struct customer c;

	claim(f, p1, 1, 10, T0, 0, NULL, 0);
	claim(f, p2, 2, 20, T0, 0, NULL, 0);
	/* two phones: two people; nothing changes */
	assert_int_equal(store_customers_merge(f->st, f->brand, p1, p2, T0,
	    &kept), SIGIL_ECONFLICT);
	assert_int_equal(balance(f, p1, T0), 10);
	assert_int_equal(balance(f, p2, T0), 20);
	assert_int_equal(store_customer_get(f->st, f->brand, p2, &c), 0);
	assert_int_equal(c.merged_into, 0);
	assert_int_equal(store_customers_merge(f->st, f->brand, p1, p1, T0,
	    &kept), SIGIL_EINVAL);
	assert_int_equal(store_customers_merge(f->st, f->brand, p1, 999, T0,
	    &kept), SIGIL_ENOTFOUND);
	assert_int_equal(store_customers_merge(f->st, f->other, p1, w1, T0,
	    &kept), SIGIL_ENOTFOUND);
	/* two without a phone: the older survives, whichever is named first */
	assert_int_equal(store_customers_merge(f->st, f->brand, w2, w1, T0,
	    &kept), 0);
	assert_int_equal(kept, w1);
	/* a phone without points into a WeChat customer with none */
	assert_int_equal(store_customers_merge(f->st, f->brand, w1, p2, T0,
	    &kept), 0);
	assert_int_equal(kept, p2);
	/* chains resolve: w2 -> w1 -> p2 */
	assert_int_equal(store_customer_resolve(f->st, f->brand, w2, &c), 0);
	assert_int_equal(c.id, p2);
	/* an erased customer cannot be merged */
	assert_int_equal(store_customer_erase(f->st, f->brand, p1, T0), 0);
	w1 = wechat_customer(f, T0);
	assert_int_equal(store_customers_merge(f->st, f->brand, w1, p1, T0,
	    &kept), SIGIL_ESTATE);
}

/* Identities move; two openids of one app refuse the merge, unwritten. */
static void
test_merge_identities(void **state)
{
	struct fixture *f = *state;
	uint64_t p = phone_customer(f, 1), w1 = wechat_customer(f, T0);
	uint64_t w2 = wechat_customer(f, T0), kept, id;
	uint8_t h[32];
	struct customer c;
	struct ledger l;

	identity(f, p, IDENT_WECHAT_MP, "wxaaaaaaaaaaaaaaaa", 1);
	identity(f, w1, IDENT_WECHAT_MP, "wxaaaaaaaaaaaaaaaa", 2);
	identity(f, w2, IDENT_WECHAT_OA, "wxbbbbbbbbbbbbbbbb", 3);
	claim(f, w1, 1, 10, T0, 0, NULL, 0);
	assert_int_equal(store_customers_merge(f->st, f->brand, w1, p, T0 + 1,
	    &kept), SIGIL_ECONFLICT);
	assert_int_equal(store_customer_get(f->st, f->brand, w1, &c), 0);
	assert_int_equal(c.merged_into, 0);
	ledger_of(f, w1, &l);
	assert_int_equal(l.n, 1);
	ledger_of(f, p, &l);
	assert_int_equal(l.n, 0);
	memset(h, 2, 32);
	assert_int_equal(store_ident_find(f->st, f->brand, IDENT_WECHAT_MP, h,
	    &id), 0);
	assert_int_equal(id, w1);
	/* another app's openid: moved with the rest */
	assert_int_equal(store_customers_merge(f->st, f->brand, w2, p, T0 + 2,
	    &kept), 0);
	assert_int_equal(kept, p);
	memset(h, 3, 32);
	assert_int_equal(store_ident_find(f->st, f->brand, IDENT_WECHAT_OA, h,
	    &id), 0);
	assert_int_equal(id, p);
}

/* A login on a WeChat customer's device: bound, merged, or as before. */
static void
test_phone_login(void **state)
{
	struct fixture *f = *state;
	uint64_t w = wechat_customer(f, T0), w2 = wechat_customer(f, T0);
	uint64_t p = phone_customer(f, 3), id;
	uint8_t h[32], ct[24];
	struct phone_login pl;
	struct customer c;

	memset(ct, 9, sizeof ct);
	assert_int_equal(store_device_link(f->st, f->brand, 70, w, T0), 0);
	assert_int_equal(store_device_link(f->st, f->brand, 71, w2, T0), 0);
	claim(f, w2, 1, 40, T0, 0, NULL, 0);
	claim(f, p, 2, 60, T0, 0, NULL, 0);
	/* a new phone on w's device: bound to w */
	phone(h, 4);
	assert_int_equal(store_phone_login(f->st, f->brand, 70, h, ct,
	    sizeof ct, T0 + 1, &pl), 0);
	assert_int_equal(pl.cu.id, w);
	assert_int_equal(pl.bound, 1);
	assert_int_equal(pl.created, 0);
	assert_int_equal(pl.merged, 0);
	assert_int_equal(pl.cu.phone_ct_len, sizeof ct);
	assert_int_equal(store_customer_find_phone(f->st, f->brand, h, &c), 0);
	assert_int_equal(c.id, w);
	/* p's phone on w2's device: one customer, both ledgers */
	phone(h, 3);
	assert_int_equal(store_phone_login(f->st, f->brand, 71, h, ct,
	    sizeof ct, T0 + 2, &pl), 0);
	assert_int_equal(pl.cu.id, p);
	assert_int_equal(pl.merged, w2);
	assert_int_equal(pl.bound, 0);
	assert_int_equal(balance(f, p, T0 + 2), 100);
	assert_int_equal(store_device_customer(f->st, f->brand, 71, &id), 0);
	assert_int_equal(id, p);
	/* a phone customer's device with another phone: switched, no merge */
	phone(h, 4);
	assert_int_equal(store_phone_login(f->st, f->brand, 71, h, ct,
	    sizeof ct, T0 + 3, &pl), 0);
	assert_int_equal(pl.cu.id, w);
	assert_int_equal(pl.merged, 0);
	assert_int_equal(store_device_customer(f->st, f->brand, 71, &id), 0);
	assert_int_equal(id, w);
	assert_int_equal(balance(f, p, T0 + 3), 100);
	/* a fresh device and a new phone: a new customer */
	phone(h, 5);
	assert_int_equal(store_phone_login(f->st, f->brand, 72, h, ct,
	    sizeof ct, T0 + 4, &pl), 0);
	assert_int_equal(pl.created, 1);
	assert_int_equal(store_phone_login(f->st, f->brand, 72, h, ct, 0,
	    T0 + 4, &pl), SIGIL_EINVAL);
}

/* Merges racing on one customer: exactly one wins, points once. */
struct racer {
	struct fixture	*f;
	uint64_t	 a, b, kept;
	int		 rc;
	pthread_barrier_t *go;
};

static void *
race_one(void *p)
{
	struct racer *r = p;

	pthread_barrier_wait(r->go);
	r->rc = store_customers_merge(r->f->st, r->f->brand, r->a, r->b,
	    T0 + DAY, &r->kept);
	return NULL;
}

static void
test_merge_race(void **state)
{
	struct fixture *f = *state;

	for (int round = 0; round < 20; round++) {
		pthread_barrier_t go;
		pthread_t t[2];
		struct racer r[2];
		uint64_t w = wechat_customer(f, T0);
		uint64_t p1 = phone_customer(f, 100 + 2 * round);
		uint64_t p2 = phone_customer(f, 101 + 2 * round);
		struct customer c;
		int wins = 0;

		claim(f, w, 1000 + round, 7, T0, 0, NULL, 0);
		claim(f, p1, 2000 + round, 11, T0, 0, NULL, 0);
		claim(f, p2, 3000 + round, 13, T0, 0, NULL, 0);
		pthread_barrier_init(&go, NULL, 2);
		r[0] = (struct racer){ f, w, p1, 0, -1, &go };
		r[1] = (struct racer){ f, p2, w, 0, -1, &go };
		for (int i = 0; i < 2; i++)
			assert_int_equal(pthread_create(&t[i], NULL, race_one,
			    &r[i]), 0);
		for (int i = 0; i < 2; i++)
			pthread_join(t[i], NULL);
		pthread_barrier_destroy(&go);
		for (int i = 0; i < 2; i++) {
			if (r[i].rc == 0)
				wins++;
			else
				assert_int_equal(r[i].rc, SIGIL_ESTATE);
		}
		assert_int_equal(wins, 1);
		assert_int_equal(store_customer_get(f->st, f->brand, w, &c), 0);
		assert_int_equal(c.merged_into, r[0].rc == 0 ? p1 : p2);
		/* w's 7 points are in exactly one place */
		assert_int_equal(balance(f, p1, T0 + DAY) +
		    balance(f, p2, T0 + DAY) + balance(f, w, T0 + DAY),
		    7 + 11 + 13);
		assert_int_equal(balance(f, w, T0 + DAY), 0);
	}
}

/* A claim by the customer that goes, racing its merge. */
struct claimer {
	struct fixture	*f;
	uint64_t	 cust, serial;
	int		 rc;
	pthread_barrier_t *go;
};

static void *
claim_one(void *p)
{
	struct claimer *c = p;
	struct claim cl = { 0 };

	cl.brand_id = c->f->brand;
	cl.serial = c->serial;
	cl.role = CLAIM_CONSUMER;
	cl.customer_id = c->cust;
	cl.points = 5;
	cl.prize = -1;
	cl.at = T0 + HOUR;
	pthread_barrier_wait(c->go);
	c->rc = store_claim(c->f->st, &cl, NULL);
	return NULL;
}

static void
test_merge_claim_race(void **state)
{
	struct fixture *f = *state;

	for (int round = 0; round < 20; round++) {
		pthread_barrier_t go;
		pthread_t t[2];
		struct racer r;
		struct claimer c;
		uint64_t w = wechat_customer(f, T0);
		uint64_t p = phone_customer(f, 300 + round);
		struct claim got;

		claim(f, w, 5000 + round, 7, T0, 0, NULL, 0);
		pthread_barrier_init(&go, NULL, 2);
		r = (struct racer){ f, w, p, 0, -1, &go };
		c = (struct claimer){ f, w, 6000 + round, -1, &go };
		assert_int_equal(pthread_create(&t[0], NULL, race_one, &r), 0);
		assert_int_equal(pthread_create(&t[1], NULL, claim_one, &c), 0);
		pthread_join(t[0], NULL);
		pthread_join(t[1], NULL);
		pthread_barrier_destroy(&go);
		assert_int_equal(r.rc, 0);
		/* before the merge: moved with it; after: refused, no trace */
		assert_true(c.rc == 0 || c.rc == SIGIL_ESTATE);
		assert_int_equal(balance(f, p, T0 + DAY),
		    7 + (c.rc == 0 ? 5 : 0));
		assert_int_equal(balance(f, w, T0 + DAY), 0);
		assert_int_equal(store_claim_get(f->st, f->brand, 6000 + round,
		    CLAIM_CONSUMER, &got), c.rc == 0 ? 0 : SIGIL_ENOTFOUND);
		if (c.rc == 0)
			assert_int_equal(got.customer_id, p);
	}
}

/* Erasing the survivor erases what the merge brought it. */
static void
test_erase_after_merge(void **state)
{
	struct fixture *f = *state;
	uint64_t w = wechat_customer(f, T0), p = phone_customer(f, 6), kept;
	struct store_scrub_stats ss;
	struct customer c;
	struct claim cl;
	uint8_t h[32];
	uint64_t id;
	int n = 0;

	assert_int_equal(store_device_link(f->st, f->brand, 90, w, T0), 0);
	claim(f, w, 1, 30, T0, 0, NULL, 0);
	assert_int_equal(store_customers_merge(f->st, f->brand, p, w, T0 + 1,
	    &kept), 0);
	assert_int_equal(store_customer_erase(f->st, f->brand, p, T0 + 2), 0);
	phone(h, 6);
	assert_int_equal(store_customer_find_phone(f->st, f->brand, h, &c),
	    SIGIL_ENOTFOUND);
	assert_int_equal(store_device_customer(f->st, f->brand, 90, &id),
	    SIGIL_ENOTFOUND);
	assert_int_equal(store_customer_devices(f->st, f->brand, p, count_dev,
	    &n), 0);
	assert_int_equal(n, 0);
	/* the claim that came with the merge names nobody now */
	assert_int_equal(store_claim_get(f->st, f->brand, 1, CLAIM_CONSUMER,
	    &cl), 0);
	assert_int_equal(cl.customer_id, 0);
	assert_int_equal(cl.points, 30);
	/* the gone id still leads to the survivor, which is erased */
	assert_int_equal(store_customer_resolve(f->st, f->brand, w, &c), 0);
	assert_int_equal(c.id, p);
	assert_true(c.erased != 0);
	assert_int_equal(store_customer_erase(f->st, f->brand, w, T0 + 3),
	    SIGIL_ESTATE);
	/* and after the scrub the phone hash is in no byte of data.mdb */
	{
		char path[128];
		FILE *fp;
		uint8_t *buf = malloc(1 << 24);
		size_t got;

		assert_non_null(buf);
		assert_int_equal(store_scrub(f->st, &ss), 0);
		snprintf(path, sizeof path, "%s/data.mdb", f->dir);
		assert_non_null(fp = fopen(path, "rb"));
		got = fread(buf, 1, 1 << 24, fp);
		fclose(fp);
		assert_true(got > 0);
		assert_null(memmem(buf, got, h, 32));
		free(buf);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ledger_pools),
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_merge_moves),
		T(test_merge_rule),
		T(test_merge_identities),
		T(test_phone_login),
		T(test_merge_race),
		T(test_merge_claim_race),
		T(test_erase_after_merge),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
