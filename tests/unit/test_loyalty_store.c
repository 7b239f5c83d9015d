/*
 * test_loyalty_store.c - the late tables (src/store/store_customers.c,
 * store_claims.c, store_ledger.c, store_users.c, store_webhooks.c,
 * store_counters.c): customers and erasure, OTPs, campaigns, claims
 * (concurrency, budget, daily cap, prizes, batches), PIN failures, the
 * ledger with expiry, redemption, settings, the activity log, webhooks,
 * dashboard users and sessions, and the dashboard counters kept by
 * claims, scan commits and locates. Each test works in its own mkdtemp()
 * directory.
 */
#include <ftw.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "storefix.h"

#include "sigil/ledger.h"
#include "sigil/store.h"
#include "sigil/util.h"

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
	struct brand b = { 0 };

	assert_non_null(f);
	strcpy(f->dir, "/tmp/sigil-loyalty-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(store_open(f->dir, STORE_CREATE | STORE_NOSYNC,
	    &f->st), 0);
	strcpy(b.name, "acme");
	strcpy(b.base_url, "https://acme.example");
	assert_int_equal(store_brand_add(f->st, &b), 0);
	f->brand = b.id;
	strcpy(b.name, "other");
	assert_int_equal(store_brand_add(f->st, &b), 0);
	f->other = b.id;
	*state = f;
	return 0;
}

STOREFIX_TEARDOWN(struct fixture)

static void
phone(uint8_t *hash, int n)
{
	memset(hash, 0, 32);
	hash[0] = (uint8_t)n;
	hash[31] = 0xaa;
}

static uint64_t
new_customer(struct fixture *f, int n)
{
	uint8_t h[32], ct[20];
	struct customer c;
	int created = -1;

	phone(h, n);
	memset(ct, n, sizeof(ct));
	assert_int_equal(store_customer_by_phone(f->st, f->brand, h, ct,
	    sizeof(ct), &c, &created), 0);
	assert_int_equal(created, 1);
	return c.id;
}

static int
count_dev(void *arg, uint64_t device)
{
	(void)device;
	++*(int *)arg;
	return 0;
}

static int
count_cust(void *arg, const struct customer *c)
{
	(void)c;
	++*(int *)arg;
	return 0;
}

static void
test_customers(void **state)
{
	struct fixture *f = *state;
	uint8_t h[32], ct[STORE_PHONE_CT_MAX + 1];
	struct customer c, c2;
	uint64_t cust, id;
	int created, n;

	phone(h, 1);
	memset(ct, 7, sizeof(ct));
	assert_int_equal(store_customer_by_phone(f->st, f->brand, h, ct, 0,
	    &c, &created), SIGIL_EINVAL);
	assert_int_equal(store_customer_by_phone(f->st, f->brand, h, ct,
	    STORE_PHONE_CT_MAX + 1, &c, &created), SIGIL_EINVAL);
	assert_int_equal(store_customer_by_phone(f->st, 999, h, ct, 10, &c,
	    &created), SIGIL_ENOTFOUND);
	assert_int_equal(store_customer_by_phone(f->st, f->brand, h, ct, 10,
	    &c, &created), 0);
	assert_int_equal(created, 1);
	assert_int_equal(c.phone_ct_len, 10);
	assert_true(c.created > 0);
	/* The same phone again: the same customer, not created. */
	assert_int_equal(store_customer_by_phone(f->st, f->brand, h, ct, 10,
	    &c2, &created), 0);
	assert_int_equal(created, 0);
	assert_int_equal(c2.id, c.id);
	/* Another brand keeps its own customers. */
	assert_int_equal(store_customer_find_phone(f->st, f->other, h, &c2),
	    SIGIL_ENOTFOUND);
	assert_int_equal(store_customer_by_phone(f->st, f->other, h, ct, 10,
	    &c2, &created), 0);
	assert_int_equal(created, 1);
	assert_true(c2.id != c.id);
	assert_int_equal(store_customer_get(f->st, f->brand, c2.id, &c2),
	    SIGIL_ENOTFOUND);
	cust = c.id;
	assert_int_equal(store_customer_find_phone(f->st, f->brand, h, &c2),
	    0);
	assert_int_equal(c2.id, cust);
	assert_memory_equal(c2.phone_ct, ct, 10);

	/* Devices. */
	assert_int_equal(store_device_link(f->st, f->brand, 0, cust, T0),
	    SIGIL_EINVAL);
	assert_int_equal(store_device_link(f->st, f->brand, 11, 12345, T0),
	    SIGIL_ENOTFOUND);
	assert_int_equal(store_device_link(f->st, f->brand, 11, cust, T0), 0);
	assert_int_equal(store_device_link(f->st, f->brand, 12, cust, T0 + 5),
	    0);
	assert_int_equal(store_device_customer(f->st, f->brand, 11, &id), 0);
	assert_int_equal(id, cust);
	assert_int_equal(store_device_customer(f->st, f->other, 11, &id),
	    SIGIL_ENOTFOUND);
	assert_int_equal(store_customer_get(f->st, f->brand, cust, &c), 0);
	assert_int_equal(c.last_login, T0 + 5);
	n = 0;
	assert_int_equal(store_customer_devices(f->st, f->brand, cust,
	    count_dev, &n), 0);
	assert_int_equal(n, 2);
	/* Device 12 moves to another customer: the old link goes. */
	id = new_customer(f, 2);
	assert_int_equal(store_device_link(f->st, f->brand, 12, id, T0), 0);
	n = 0;
	assert_int_equal(store_customer_devices(f->st, f->brand, cust,
	    count_dev, &n), 0);
	assert_int_equal(n, 1);
	n = 0;
	assert_int_equal(store_customer_each(f->st, f->brand, 0, count_cust,
	    &n), 0);
	assert_int_equal(n, 2);
	n = 0;
	assert_int_equal(store_customer_each(f->st, f->brand, cust,
	    count_cust, &n), 0);
	assert_int_equal(n, 1);
}

static void
test_erasure(void **state)
{
	struct fixture *f = *state;
	struct claim cl = { 0 };
	struct customer c;
	uint8_t h[32];
	uint64_t cust = new_customer(f, 5), id;
	int n = 0;

	assert_int_equal(store_device_link(f->st, f->brand, 77, cust, T0), 0);
	cl.brand_id = f->brand;
	cl.serial = 9;
	cl.role = CLAIM_CONSUMER;
	cl.customer_id = cust;
	cl.points = 30;
	cl.prize = -1;
	cl.at = T0;
	assert_int_equal(store_claim(f->st, &cl, NULL), 0);

	assert_int_equal(store_customer_erase(f->st, f->brand, 999, T0),
	    SIGIL_ENOTFOUND);
	assert_int_equal(store_customer_erase(f->st, f->brand, cust, T0 + 1),
	    0);
	assert_int_equal(store_customer_erase(f->st, f->brand, cust, T0 + 2),
	    SIGIL_ESTATE);
	phone(h, 5);
	assert_int_equal(store_customer_find_phone(f->st, f->brand, h, &c),
	    SIGIL_ENOTFOUND);
	assert_int_equal(store_device_customer(f->st, f->brand, 77, &id),
	    SIGIL_ENOTFOUND);
	assert_int_equal(store_customer_devices(f->st, f->brand, cust,
	    count_dev, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_customer_get(f->st, f->brand, cust, &c), 0);
	assert_int_equal(c.erased, T0 + 1);
	assert_int_equal(c.phone_ct_len, 0);
	for (int i = 0; i < 32; i++)
		assert_int_equal(c.phone_hash[i], 0);
	/* Claims and ledger amounts stay; the claim names nobody. */
	assert_int_equal(store_claim_get(f->st, f->brand, 9, CLAIM_CONSUMER,
	    &cl), 0);
	assert_int_equal(cl.customer_id, 0);
	assert_int_equal(cl.points, 30);
	cl.customer_id = cust;
	/* After the scrub the hash is in no byte of data.mdb. */
	{
		struct store_scrub_stats ss;
		char path[128];
		FILE *fp;
		uint8_t *buf = malloc(1 << 24);
		size_t got;

		assert_non_null(buf);
		assert_int_equal(store_scrub(f->st, &ss), 0);
		assert_int_equal(store_scrub_pending(f->st), 0);
		snprintf(path, sizeof(path), "%s/data.mdb", f->dir);
		assert_non_null(fp = fopen(path, "rb"));
		got = fread(buf, 1, 1 << 24, fp);
		fclose(fp);
		assert_true(got > 0);
		assert_null(memmem(buf, got, h, 32));
		free(buf);
	}
	/* An erased customer cannot log in or earn again. */
	assert_int_equal(store_device_link(f->st, f->brand, 78, cust, T0),
	    SIGIL_ESTATE);
	cl.serial = 10;
	assert_int_equal(store_claim(f->st, &cl, NULL), SIGIL_ESTATE);
	/* The same phone now makes a new customer. */
	id = new_customer(f, 5);
	assert_true(id != cust);
}

static void
test_otp(void **state)
{
	struct fixture *f = *state;
	struct otp_state o = { 0 }, g;
	uint8_t h[32];

	phone(h, 3);
	assert_int_equal(store_otp_get(f->st, f->brand, h, &g),
	    SIGIL_ENOTFOUND);
	memset(o.code_hash, 0x5c, 32);
	o.expires = T0 + 300;
	o.sent_at = T0;
	o.tries = 2;
	o.sent_today = 3;
	o.day = 20454;
	assert_int_equal(store_otp_put(f->st, 999, h, &o), SIGIL_ENOTFOUND);
	assert_int_equal(store_otp_put(f->st, f->brand, h, &o), 0);
	assert_int_equal(store_otp_get(f->st, f->brand, h, &g), 0);
	assert_memory_equal(&g.code_hash, o.code_hash, 32);
	assert_int_equal(g.expires, o.expires);
	assert_int_equal(g.sent_at, o.sent_at);
	assert_int_equal(g.tries, 2);
	assert_int_equal(g.sent_today, 3);
	assert_int_equal(g.day, 20454);
	assert_int_equal(store_otp_get(f->st, f->other, h, &g),
	    SIGIL_ENOTFOUND);
	o.tries = 5;
	assert_int_equal(store_otp_put(f->st, f->brand, h, &o), 0);
	assert_int_equal(store_otp_get(f->st, f->brand, h, &g), 0);
	assert_int_equal(g.tries, 5);
	assert_int_equal(store_otp_del(f->st, f->brand, h), 0);
	assert_int_equal(store_otp_get(f->st, f->brand, h, &g),
	    SIGIL_ENOTFOUND);
	assert_int_equal(store_otp_del(f->st, f->brand, h), SIGIL_ENOTFOUND);
}

static void
test_pin(void **state)
{
	struct fixture *f = *state;
	struct pin_fails n = { 99, 99, 99 };
	struct code_note note = { 0 };

	assert_int_equal(store_pin_fails(f->st, f->brand, 5, 7, 100, &n), 0);
	assert_true(n.code == 0 && n.mine == 0 && n.today == 0);
	for (uint32_t i = 1; i <= STORE_PIN_TRIES; i++) {
		assert_int_equal(store_pin_fail(f->st, f->brand, 5, 7, 100, &n),
		    0);
		assert_true(n.code == i && n.mine == i && n.today == i);
	}
	/* Customer 8 on code 5: his own count is 1, the code's 6. */
	assert_int_equal(store_pin_fail(f->st, f->brand, 5, 8, 100, &n), 0);
	assert_true(n.code == STORE_PIN_TRIES + 1 && n.mine == 1 &&
	    n.today == 1);
	/* Customer 7 on code 6 the same day: a new code, the same day. */
	assert_int_equal(store_pin_fail(f->st, f->brand, 6, 7, 100, &n), 0);
	assert_true(n.code == 1 && n.mine == 1 &&
	    n.today == STORE_PIN_TRIES + 1);
	/* The next day starts again; customer 0 reads the code's only. */
	assert_int_equal(store_pin_fails(f->st, f->brand, 5, 7, 101, &n), 0);
	assert_true(n.code == STORE_PIN_TRIES + 1 &&
	    n.mine == STORE_PIN_TRIES && n.today == 0);
	assert_int_equal(store_pin_fails(f->st, f->brand, 5, 0, 0, &n), 0);
	assert_true(n.code == STORE_PIN_TRIES + 1 && n.mine == 0);
	/* Another brand is untouched. */
	assert_int_equal(store_pin_fails(f->st, f->other, 5, 7, 100, &n), 0);
	assert_true(n.code == 0 && n.mine == 0 && n.today == 0);
	/* Unlock: code 5's counts (its own and per customer) go; the day's
	 * and code 6's stay. A note without a reason is refused. */
	note.at = 1;
	assert_int_equal(store_pin_unlock(f->st, f->brand, 5, &note),
	    SIGIL_EINVAL);
	snprintf(note.reason, sizeof note.reason, "buyer called");
	assert_int_equal(store_pin_unlock(f->st, f->brand, 5, &note), 0);
	assert_int_equal(note.count, STORE_PIN_TRIES + 1);
	assert_int_equal(store_pin_fails(f->st, f->brand, 5, 7, 100, &n), 0);
	assert_true(n.code == 0 && n.mine == 0 &&
	    n.today == STORE_PIN_TRIES + 1);
	assert_int_equal(store_pin_fails(f->st, f->brand, 6, 7, 100, &n), 0);
	assert_true(n.code == 1 && n.mine == 1);
	assert_int_equal(store_pin_fail(f->st, f->brand, 0, 7, 1, &n),
	    SIGIL_EINVAL);
	assert_int_equal(store_pin_fail(f->st, f->brand, UINT64_MAX, 7, 1, &n),
	    SIGIL_EINVAL);
	assert_int_equal(store_pin_fail(f->st, f->brand, 5, 0, 1, &n),
	    SIGIL_EINVAL);
}

static int
count_campaign(void *arg, const struct campaign *c)
{
	assert_non_null(c->config);
	++*(int *)arg;
	return 0;
}

static void
test_campaigns(void **state)
{
	struct fixture *f = *state;
	struct campaign c = { 0 }, g;
	int n = 0;

	c.brand_id = f->brand;
	c.config = "{not json";
	assert_int_equal(store_campaign_add(f->st, &c), SIGIL_EINVAL);
	c.config = NULL;
	assert_int_equal(store_campaign_add(f->st, &c), SIGIL_EINVAL);
	c.config = "{\"points\": 10}";
	c.brand_id = 999;
	assert_int_equal(store_campaign_add(f->st, &c), SIGIL_ENOTFOUND);
	c.brand_id = f->brand;
	assert_int_equal(store_campaign_add(f->st, &c), 0);
	assert_int_equal(c.id, 1);
	assert_int_equal(store_campaign_add(f->st, &c), 0);
	assert_int_equal(c.id, 2);
	c.brand_id = f->other;
	assert_int_equal(store_campaign_add(f->st, &c), 0);
	assert_int_equal(c.id, 1);	/* per brand */
	assert_int_equal(store_campaign_get(f->st, f->brand, 1, &g), 0);
	assert_string_equal(g.config, "{\"points\": 10}");
	assert_int_equal(g.claims, 0);
	store_campaign_clear(&g);
	assert_null(g.config);
	assert_int_equal(store_campaign_update(f->st, f->brand, 1,
	    "{\"points\": 20}"), 0);
	assert_int_equal(store_campaign_update(f->st, f->brand, 9,
	    "{\"points\": 20}"), SIGIL_ENOTFOUND);
	assert_int_equal(store_campaign_update(f->st, f->brand, 1, "[1,"),
	    SIGIL_EINVAL);
	assert_int_equal(store_campaign_get(f->st, f->brand, 1, &g), 0);
	assert_string_equal(g.config, "{\"points\": 20}");
	assert_true(g.updated >= g.created);
	store_campaign_clear(&g);
	assert_int_equal(store_campaign_get(f->st, f->brand, 3, &g),
	    SIGIL_ENOTFOUND);
	assert_int_equal(store_campaign_each(f->st, f->brand, count_campaign,
	    &n), 0);
	assert_int_equal(n, 2);
}

static struct claim
mkclaim(uint32_t brand, uint64_t serial, int role, uint64_t cust,
    uint32_t campaign, int64_t points)
{
	struct claim c = { 0 };

	c.brand_id = brand;
	c.serial = serial;
	c.role = role;
	c.customer_id = cust;
	c.campaign_id = campaign;
	c.points = points;
	c.prize = -1;
	c.at = T0 + 10 * HOUR;
	c.expires_at = T0 + 400 * DAY;
	return c;
}

static int
count_claim(void *arg, const struct claim *c)
{
	(void)c;
	++*(int *)arg;
	return 0;
}

struct ledger_list {
	struct ledger_entry	v[64];
	size_t			n;
};

static int
collect_ledger(void *arg, const struct ledger_entry *e)
{
	struct ledger_list *l = arg;

	if (l->n < 64)
		l->v[l->n++] = *e;
	return 0;
}

static void
test_claims(void **state)
{
	struct fixture *f = *state;
	struct campaign camp = { 0 };
	struct claim_limits lim = { 0 };
	struct ledger_list l = { .n = 0 };
	struct claim c, g;
	uint64_t cust = new_customer(f, 1);
	int n = 0;
	int64_t series[24];

	camp.brand_id = f->brand;
	camp.config = "{}";
	assert_int_equal(store_campaign_add(f->st, &camp), 0);

	/* Malformed. */
	c = mkclaim(f->brand, 1, 0, cust, camp.id, 10);
	assert_int_equal(store_claim(f->st, &c, &lim), SIGIL_EINVAL);
	c = mkclaim(f->brand, 1, CLAIM_CONSUMER, cust, camp.id, 0);
	assert_int_equal(store_claim(f->st, &c, &lim), SIGIL_EINVAL);
	c = mkclaim(f->brand, 0, CLAIM_CONSUMER, cust, camp.id, 5);
	assert_int_equal(store_claim(f->st, &c, &lim), SIGIL_EINVAL);
	c = mkclaim(f->brand, 1, CLAIM_CONSUMER, 0, camp.id, 5);
	assert_int_equal(store_claim(f->st, &c, &lim), SIGIL_EINVAL);
	c = mkclaim(f->brand, 1, CLAIM_CONSUMER, cust, camp.id, 5);
	c.prize = 0;	/* no prizes in lim */
	assert_int_equal(store_claim(f->st, &c, &lim), SIGIL_EINVAL);
	c = mkclaim(f->brand, 1, CLAIM_CONSUMER, cust, 77, 5);
	assert_int_equal(store_claim(f->st, &c, &lim), SIGIL_ENOTFOUND);
	c = mkclaim(f->brand, 1, CLAIM_CONSUMER, 4242, camp.id, 5);
	assert_int_equal(store_claim(f->st, &c, &lim), SIGIL_ENOTFOUND);

	/* One per code per role, ever. */
	c = mkclaim(f->brand, 1, CLAIM_CONSUMER, cust, camp.id, 5);
	assert_int_equal(store_claim(f->st, &c, &lim), 0);
	assert_true(c.id > 0);
	g = mkclaim(f->brand, 1, CLAIM_CONSUMER, cust, camp.id, 5);
	assert_int_equal(store_claim(f->st, &g, &lim), SIGIL_ECONFLICT);
	g = mkclaim(f->brand, 1, CLAIM_RETAILER, cust, camp.id, 7);
	assert_int_equal(store_claim(f->st, &g, &lim), 0);
	assert_int_equal(store_claim_get(f->st, f->brand, 1, CLAIM_CONSUMER,
	    &g), 0);
	assert_int_equal(g.id, c.id);
	assert_int_equal(g.points, 5);
	assert_int_equal(g.customer_id, cust);
	assert_int_equal(g.campaign_id, camp.id);
	assert_int_equal(g.prize, -1);
	assert_int_equal(g.expires_at, T0 + 400 * DAY);
	assert_int_equal(store_claim_get(f->st, f->brand, 1, CLAIM_SALES, &g),
	    SIGIL_ENOTFOUND);
	assert_int_equal(store_claim_get(f->st, f->other, 1, CLAIM_CONSUMER,
	    &g), SIGIL_ENOTFOUND);
	assert_int_equal(store_code_claims(f->st, f->brand, 1, count_claim,
	    &n), 0);
	assert_int_equal(n, 2);

	/* EARN entries, usage and counters. */
	assert_int_equal(store_ledger_each(f->st, f->brand, cust,
	    collect_ledger, &l), 0);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.v[0].type, LEDGER_EARN);
	assert_int_equal(l.v[0].points, 5);
	assert_int_equal(l.v[0].ref, c.id);
	assert_int_equal(l.v[0].expires_at, T0 + 400 * DAY);
	assert_int_equal(store_campaign_get(f->st, f->brand, camp.id, &camp),
	    0);
	assert_int_equal(camp.claims, 2);
	assert_int_equal(camp.points_spent, 12);
	store_campaign_clear(&camp);
	assert_int_equal(store_stat_range(f->st, f->brand, STAT_CLAIMS,
	    DIM_BRAND, 0, T0 / HOUR, T0 / HOUR + 24, series), 0);
	assert_int_equal(series[10], 2);
	assert_int_equal(series[9], 0);
	assert_int_equal(store_stat_range(f->st, f->brand, STAT_POINTS,
	    DIM_CAMPAIGN, 1, T0 / HOUR, T0 / HOUR + 24, series), 0);
	assert_int_equal(series[10], 12);

	/* Daily cap of 2 from T0's day on. */
	lim.daily_cap = 2;
	lim.day_start = T0;
	c = mkclaim(f->brand, 2, CLAIM_CONSUMER, cust, camp.id, 1);
	assert_int_equal(store_claim(f->st, &c, &lim), 0);
	c = mkclaim(f->brand, 3, CLAIM_CONSUMER, cust, camp.id, 1);
	assert_int_equal(store_claim(f->st, &c, &lim), 0);
	c = mkclaim(f->brand, 7, CLAIM_CONSUMER, cust, camp.id, 1);
	assert_int_equal(store_claim(f->st, &c, &lim), SIGIL_EDENIED);
	/* A refused claim left nothing behind. */
	assert_int_equal(store_claim_get(f->st, f->brand, 7, CLAIM_CONSUMER,
	    &g), SIGIL_ENOTFOUND);
	/* Another customer has a cap of their own. */
	c.customer_id = new_customer(f, 2);
	assert_int_equal(store_claim(f->st, &c, &lim), 0);
	/* Tomorrow the count starts again. */
	lim.day_start = T0 + DAY;
	c = mkclaim(f->brand, 8, CLAIM_CONSUMER, cust, camp.id, 1);
	c.at = T0 + DAY + HOUR;
	assert_int_equal(store_claim(f->st, &c, &lim), 0);

	/* Prizes: stock 1 of prize 0; the second draw is dropped. */
	memset(&lim, 0, sizeof(lim));
	lim.nprizes = 2;
	lim.prize_stock[0] = 1;
	lim.prize_stock[1] = 5;
	c = mkclaim(f->brand, 4, CLAIM_CONSUMER, cust, camp.id, 1);
	c.prize = 0;
	assert_int_equal(store_claim(f->st, &c, &lim), 0);
	assert_int_equal(c.prize, 0);
	c = mkclaim(f->brand, 5, CLAIM_CONSUMER, cust, camp.id, 1);
	c.prize = 0;
	assert_int_equal(store_claim(f->st, &c, &lim), 0);
	assert_int_equal(c.prize, -1);
	assert_int_equal(store_claim_get(f->st, f->brand, 5, CLAIM_CONSUMER,
	    &g), 0);
	assert_int_equal(g.prize, -1);
	c = mkclaim(f->brand, 6, CLAIM_CONSUMER, cust, camp.id, 1);
	c.prize = 1;
	assert_int_equal(store_claim(f->st, &c, &lim), 0);
	assert_int_equal(c.prize, 1);
	assert_int_equal(store_campaign_get(f->st, f->brand, camp.id, &camp),
	    0);
	assert_int_equal(camp.prizes_given[0], 1);
	assert_int_equal(camp.prizes_given[1], 1);
	store_campaign_clear(&camp);
}

struct race {
	struct store	*st;
	uint32_t	 brand;
	uint64_t	 cust;
	uint64_t	 serial;
	int		 budget;	/* nonzero: budget run */
	int		 won, lost, other;
	pthread_mutex_t	 mu;
};

static void *
race_main(void *p)
{
	struct race *r = p;
	struct claim_limits lim = { 0 };

	lim.budget = 100;
	for (int i = 0; i < (r->budget ? 125 : 1); i++) {
		struct claim c;
		uint64_t serial;
		int rc;

		/* A race run: one code for all; a budget run: a code each. */
		pthread_mutex_lock(&r->mu);
		serial = r->budget ? ++r->serial : r->serial;
		pthread_mutex_unlock(&r->mu);
		c = mkclaim(r->brand, serial, CLAIM_CONSUMER, r->cust, 1, 1);
		rc = store_claim(r->st, &c, r->budget ? &lim : NULL);
		pthread_mutex_lock(&r->mu);
		if (rc == 0)
			r->won++;
		else if (rc == (r->budget ? SIGIL_EFULL : SIGIL_ECONFLICT))
			r->lost++;
		else
			r->other++;
		pthread_mutex_unlock(&r->mu);
	}
	return NULL;
}

static void
run_race(struct race *r, int nthreads)
{
	pthread_t t[8];

	pthread_mutex_init(&r->mu, NULL);
	for (int i = 0; i < nthreads; i++)
		assert_int_equal(pthread_create(&t[i], NULL, race_main, r), 0);
	for (int i = 0; i < nthreads; i++)
		pthread_join(t[i], NULL);
	pthread_mutex_destroy(&r->mu);
}

static void
test_claim_race(void **state)
{
	struct fixture *f = *state;
	struct campaign camp = { 0 };
	struct race r;

	camp.brand_id = f->brand;
	camp.config = "{}";
	assert_int_equal(store_campaign_add(f->st, &camp), 0);
	for (int round = 0; round < 20; round++) {
		memset(&r, 0, sizeof(r));
		r.st = f->st;
		r.brand = f->brand;
		r.cust = new_customer(f, 100 + round);
		r.serial = 1000 + (uint64_t)round;
		run_race(&r, 8);
		assert_int_equal(r.won, 1);
		assert_int_equal(r.lost, 7);
		assert_int_equal(r.other, 0);
	}
}

static void
test_claim_budget(void **state)
{
	struct fixture *f = *state;
	struct campaign camp = { 0 };
	struct race r;
	int64_t pts[1];

	camp.brand_id = f->brand;
	camp.config = "{}";
	assert_int_equal(store_campaign_add(f->st, &camp), 0);
	memset(&r, 0, sizeof(r));
	r.st = f->st;
	r.brand = f->brand;
	r.cust = new_customer(f, 9);
	r.budget = 1;
	/* 8 threads x 125 = 1,000 claims of 1 point against 100. */
	run_race(&r, 8);
	assert_int_equal(r.won, 100);
	assert_int_equal(r.lost, 900);
	assert_int_equal(r.other, 0);
	assert_int_equal(store_campaign_get(f->st, f->brand, camp.id, &camp),
	    0);
	assert_int_equal(camp.points_spent, 100);
	assert_int_equal(camp.claims, 100);
	store_campaign_clear(&camp);
	assert_int_equal(store_stat_range(f->st, f->brand, STAT_POINTS,
	    DIM_BRAND, 0, T0 / HOUR + 10, T0 / HOUR + 11, pts), 0);
	assert_int_equal(pts[0], 100);
}

/*
 * store_claims_commit: one transaction, claims applied in order, each
 * refusal clean and local, later claims seeing earlier ones.
 */
static void
test_claims_batch(void **state)
{
	struct fixture *f = *state;
	struct campaign camp = { 0 }, camp2 = { 0 };
	struct claim_limits lim[12], capped = { 0 };
	struct claim c[12], g;
	struct ledger_list l = { .n = 0 };
	uint64_t c1 = new_customer(f, 1), c2 = new_customer(f, 2);
	int res[12], want[12];
	int64_t series[1];

	camp.brand_id = camp2.brand_id = f->brand;
	camp.config = camp2.config = "{}";
	assert_int_equal(store_campaign_add(f->st, &camp), 0);
	assert_int_equal(store_campaign_add(f->st, &camp2), 0);
	memset(lim, 0, sizeof(lim));
	for (int i = 0; i < 7; i++)
		lim[i].budget = 100;	/* camp: 100 points in all */
	capped.daily_cap = 1;
	capped.day_start = T0;
	capped.nprizes = 1;
	capped.prize_stock[0] = 1;
	for (int i = 7; i < 12; i++)
		lim[i] = capped;

	c[0] = mkclaim(f->brand, 10, CLAIM_CONSUMER, c1, camp.id, 40);
	want[0] = 0;
	/* The same code and role again, in the same batch. */
	c[1] = mkclaim(f->brand, 10, CLAIM_CONSUMER, c2, camp.id, 40);
	want[1] = SIGIL_ECONFLICT;
	c[2] = mkclaim(f->brand, 10, CLAIM_RETAILER, c1, camp.id, 30);
	want[2] = 0;
	/* Exactly at the budget: 40 + 30 + 30 = 100. */
	c[3] = mkclaim(f->brand, 11, CLAIM_CONSUMER, c2, camp.id, 30);
	want[3] = 0;
	/* One point over it. */
	c[4] = mkclaim(f->brand, 12, CLAIM_CONSUMER, c2, camp.id, 1);
	want[4] = SIGIL_EFULL;
	c[5] = mkclaim(f->brand, 13, CLAIM_CONSUMER, c2, camp.id, 0);
	want[5] = SIGIL_EINVAL;
	c[6] = mkclaim(f->brand, 13, CLAIM_CONSUMER, 4242, camp.id, 5);
	want[6] = SIGIL_ENOTFOUND;
	/* The refused claim of serial 12 left no key behind. */
	c[7] = mkclaim(f->brand, 12, CLAIM_CONSUMER, c1, camp2.id, 5);
	want[7] = 0;
	/* c2's daily cap of 1 under camp2's limits. */
	c[8] = mkclaim(f->brand, 14, CLAIM_CONSUMER, c2, camp2.id, 5);
	want[8] = 0;
	c[9] = mkclaim(f->brand, 15, CLAIM_CONSUMER, c2, camp2.id, 5);
	want[9] = SIGIL_EDENIED;
	/* Prize stock of 1, drawn twice in one batch (c1 is capped too). */
	c[10] = mkclaim(f->brand, 16, CLAIM_CONSUMER, new_customer(f, 3),
	    camp2.id, 5);
	c[10].prize = 0;
	want[10] = 0;
	c[11] = mkclaim(f->brand, 17, CLAIM_CONSUMER, new_customer(f, 4),
	    camp2.id, 5);
	c[11].prize = 0;
	want[11] = 0;

	memset(res, 0x55, sizeof(res));
	assert_int_equal(store_claims_commit(f->st, c, lim, res, 12), 0);
	for (int i = 0; i < 12; i++) {
		assert_int_equal(res[i], want[i]);
		if (want[i] != 0)
			assert_int_equal(c[i].id, 0);	/* left as it was */
	}
	/* Ids in batch order. */
	assert_true(c[0].id > 0);
	assert_true(c[2].id > c[0].id && c[3].id > c[2].id);
	assert_true(c[7].id > c[3].id && c[8].id > c[7].id);
	assert_int_equal(c[10].prize, 0);
	assert_int_equal(c[11].prize, -1);

	assert_int_equal(store_claim_get(f->st, f->brand, 10, CLAIM_CONSUMER,
	    &g), 0);
	assert_int_equal(g.customer_id, c1);
	assert_int_equal(g.id, c[0].id);
	assert_int_equal(store_claim_get(f->st, f->brand, 12, CLAIM_CONSUMER,
	    &g), 0);
	assert_int_equal(g.campaign_id, camp2.id);
	assert_int_equal(store_claim_get(f->st, f->brand, 13, CLAIM_CONSUMER,
	    &g), SIGIL_ENOTFOUND);
	assert_int_equal(store_claim_get(f->st, f->brand, 15, CLAIM_CONSUMER,
	    &g), SIGIL_ENOTFOUND);
	assert_int_equal(store_campaign_get(f->st, f->brand, camp.id, &camp),
	    0);
	assert_int_equal(camp.points_spent, 100);
	assert_int_equal(camp.claims, 3);
	store_campaign_clear(&camp);
	assert_int_equal(store_campaign_get(f->st, f->brand, camp2.id,
	    &camp2), 0);
	assert_int_equal(camp2.claims, 4);
	assert_int_equal(camp2.prizes_given[0], 1);
	store_campaign_clear(&camp2);
	/* c2 earned 30 (claim 3) and 5 (claim 8), nothing for refusals. */
	assert_int_equal(store_ledger_each(f->st, f->brand, c2,
	    collect_ledger, &l), 0);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.v[0].points, 30);
	assert_int_equal(l.v[0].ref, c[3].id);
	assert_int_equal(l.v[1].points, 5);
	assert_int_equal(l.v[1].ref, c[8].id);
	/* Counters: 7 claims, 120 points at 10:00. */
	assert_int_equal(store_stat_range(f->st, f->brand, STAT_CLAIMS,
	    DIM_BRAND, 0, T0 / HOUR + 10, T0 / HOUR + 11, series), 0);
	assert_int_equal(series[0], 7);
	assert_int_equal(store_stat_range(f->st, f->brand, STAT_POINTS,
	    DIM_BRAND, 0, T0 / HOUR + 10, T0 / HOUR + 11, series), 0);
	assert_int_equal(series[0], 120);

	/* Across transactions too; and store_claim is the batch of one. */
	g = mkclaim(f->brand, 10, CLAIM_CONSUMER, c2, camp.id, 1);
	assert_int_equal(store_claims_commit(f->st, &g, NULL, res, 1), 0);
	assert_int_equal(res[0], SIGIL_ECONFLICT);
	assert_int_equal(store_claim(f->st, &g, NULL), SIGIL_ECONFLICT);

	/* Hostile calls. */
	assert_int_equal(store_claims_commit(f->st, NULL, NULL, res, 1),
	    SIGIL_EINVAL);
	assert_int_equal(store_claims_commit(f->st, &g, NULL, NULL, 1),
	    SIGIL_EINVAL);
	assert_int_equal(store_claims_commit(f->st, &g, NULL, res, 0), 0);
	/* A prize index beyond the claim's own limits. */
	g = mkclaim(f->brand, 30, CLAIM_CONSUMER, c1, camp.id, 1);
	g.prize = 1;
	assert_int_equal(store_claims_commit(f->st, &g, &capped, res, 1), 0);
	assert_int_equal(res[0], SIGIL_EINVAL);

	/*
	 * A transaction that cannot commit (a read-only store) fails the
	 * whole batch: the error is returned and is every claim's result,
	 * and no claim of the batch is written.
	 */
	store_close(f->st);
	assert_int_equal(store_open(f->dir, STORE_RDONLY, &f->st), 0);
	c[0] = mkclaim(f->brand, 40, CLAIM_CONSUMER, c1, camp.id, 1);
	c[1] = mkclaim(f->brand, 41, CLAIM_CONSUMER, c2, camp.id, 1);
	res[0] = res[1] = 12345;
	assert_int_not_equal(store_claims_commit(f->st, c, NULL, res, 2), 0);
	assert_int_not_equal(res[0], 0);
	assert_int_equal(res[0], res[1]);
	assert_int_equal(c[0].id, 0);
	assert_int_equal(store_claim_get(f->st, f->brand, 40, CLAIM_CONSUMER,
	    &g), SIGIL_ENOTFOUND);
}

static void
test_ledger_expiry(void **state)
{
	struct fixture *f = *state;
	struct ledger_list l = { .n = 0 };
	struct ledger_entry e = { 0 };
	uint64_t cust = new_customer(f, 1);
	struct claim c;
	int64_t bal;

	/* Lot A: 100 lapsing at day 30; lot B: 50 lapsing at day 60. */
	c = mkclaim(f->brand, 1, CLAIM_CONSUMER, cust, 0, 100);
	c.at = T0 + DAY;
	c.expires_at = T0 + 30 * DAY;
	assert_int_equal(store_claim(f->st, &c, NULL), 0);
	c = mkclaim(f->brand, 2, CLAIM_CONSUMER, cust, 0, 50);
	c.at = T0 + 2 * DAY;
	c.expires_at = T0 + 60 * DAY;
	assert_int_equal(store_claim(f->st, &c, NULL), 0);

	/* Redeem 120 at day 10: all of A, 20 of B. */
	e.brand_id = f->brand;
	e.customer_id = cust;
	e.type = LEDGER_REDEEM;
	e.points = -200;
	e.at = T0 + 10 * DAY;
	assert_int_equal(store_ledger_append(f->st, &e), SIGIL_EFULL);
	e.points = -120;
	assert_int_equal(store_ledger_append(f->st, &e), 0);
	assert_true(e.id > 0);
	e.points = 5;
	assert_int_equal(store_ledger_append(f->st, &e), SIGIL_EINVAL);
	/* An EXPIRE naming no lot is refused. */
	e.type = LEDGER_EXPIRE;
	e.points = -1;
	e.ref = 9999;
	assert_int_equal(store_ledger_append(f->st, &e), SIGIL_EINVAL);

	/* At day 61 B's 30 left lapse: the adjust first writes EXPIRE. */
	e.type = LEDGER_ADJUST;
	e.points = 7;
	e.ref = 0;
	e.at = T0 + 61 * DAY;
	assert_int_equal(store_ledger_append(f->st, &e), 0);
	assert_int_equal(store_ledger_each(f->st, f->brand, cust,
	    collect_ledger, &l), 0);
	assert_int_equal(l.n, 5);
	assert_int_equal(l.v[3].type, LEDGER_EXPIRE);
	assert_int_equal(l.v[3].points, -30);
	assert_int_equal(l.v[3].ref, l.v[1].id);
	assert_int_equal(l.v[4].type, LEDGER_ADJUST);
	/* No EXPIRE for A: it was spent before it lapsed. */
	assert_int_equal(ledger_balance(l.v, l.n, T0 + 61 * DAY, &bal), 0);
	assert_int_equal(bal, 7);
	/* Appending again expires nothing new (idempotent). */
	e.at = T0 + 62 * DAY;
	assert_int_equal(store_ledger_append(f->st, &e), 0);
	l.n = 0;
	assert_int_equal(store_ledger_each(f->st, f->brand, cust,
	    collect_ledger, &l), 0);
	assert_int_equal(l.n, 6);
	assert_int_equal(l.v[5].type, LEDGER_ADJUST);
	e.customer_id = 4242;
	assert_int_equal(store_ledger_append(f->st, &e), SIGIL_ENOTFOUND);
}

static int
count_item(void *arg, const struct reward_item *it)
{
	(void)it;
	++*(int *)arg;
	return 0;
}

static void
test_redeem(void **state)
{
	struct fixture *f = *state;
	struct reward_item it = { 0 }, g;
	struct ledger_entry e;
	uint64_t cust = new_customer(f, 1);
	struct claim c;
	int64_t n1[1];
	int n = 0;

	it.brand_id = f->brand;
	strcpy(it.name, "Mug");
	it.cost = 0;
	assert_int_equal(store_item_add(f->st, &it), SIGIL_EINVAL);
	it.cost = 40;
	it.stock = -2;
	assert_int_equal(store_item_add(f->st, &it), SIGIL_EINVAL);
	it.stock = 1;
	strcpy(it.name, "bad\nname");
	assert_int_equal(store_item_add(f->st, &it), SIGIL_EINVAL);
	strcpy(it.name, "Mug");
	assert_int_equal(store_item_add(f->st, &it), 0);
	assert_int_equal(it.id, 1);
	strcpy(it.name, "Poster");
	it.stock = -1;
	it.cost = 10;
	assert_int_equal(store_item_add(f->st, &it), 0);
	assert_int_equal(store_item_each(f->st, f->brand, count_item, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_item_get(f->st, f->brand, 1, &g), 0);
	assert_string_equal(g.name, "Mug");
	assert_int_equal(g.stock, 1);

	/* 30 points: too few for the mug. */
	c = mkclaim(f->brand, 1, CLAIM_CONSUMER, cust, 0, 30);
	assert_int_equal(store_claim(f->st, &c, NULL), 0);
	assert_int_equal(store_redeem(f->st, f->brand, cust, 1, T0 + DAY, &e),
	    SIGIL_EFULL);
	c = mkclaim(f->brand, 2, CLAIM_CONSUMER, cust, 0, 60);
	assert_int_equal(store_claim(f->st, &c, NULL), 0);
	assert_int_equal(store_redeem(f->st, f->brand, cust, 1, T0 + DAY, &e),
	    0);
	assert_int_equal(e.type, LEDGER_REDEEM);
	assert_int_equal(e.points, -40);
	assert_int_equal(e.ref, 1);
	assert_int_equal(store_item_get(f->st, f->brand, 1, &g), 0);
	assert_int_equal(g.stock, 0);
	/* 50 left, but no mug left. */
	assert_int_equal(store_redeem(f->st, f->brand, cust, 1, T0 + DAY, &e),
	    SIGIL_ESTATE);
	/* Unlimited stock stays unlimited. */
	assert_int_equal(store_redeem(f->st, f->brand, cust, 2, T0 + DAY, &e),
	    0);
	assert_int_equal(store_item_get(f->st, f->brand, 2, &g), 0);
	assert_int_equal(g.stock, -1);
	assert_int_equal(store_redeem(f->st, f->brand, cust, 9, T0 + DAY, &e),
	    SIGIL_ENOTFOUND);
	assert_int_equal(store_redeem(f->st, f->brand, 4242, 2, T0 + DAY, &e),
	    SIGIL_ENOTFOUND);
	assert_int_equal(store_stat_range(f->st, f->brand, STAT_REDEMPTIONS,
	    DIM_BRAND, 0, (T0 + DAY) / HOUR, (T0 + DAY) / HOUR + 1, n1), 0);
	assert_int_equal(n1[0], 2);
}

static void
test_settings(void **state)
{
	struct fixture *f = *state;
	char *s = NULL;

	assert_int_equal(store_brand_settings_get(f->st, f->brand, &s),
	    SIGIL_ENOTFOUND);
	assert_int_equal(store_brand_settings_put(f->st, f->brand, "{x"),
	    SIGIL_EINVAL);
	assert_int_equal(store_brand_settings_put(f->st, 999, "{}"),
	    SIGIL_ENOTFOUND);
	assert_int_equal(store_brand_settings_put(f->st, f->brand,
	    "{\"expiry_days\": 365}"), 0);
	assert_int_equal(store_brand_settings_get(f->st, f->brand, &s), 0);
	assert_string_equal(s, "{\"expiry_days\": 365}");
	free(s);
}

struct act_list {
	uint64_t	ids[64];
	int		types[64];
	size_t		n;
};

static int
collect_act(void *arg, const struct activity *a)
{
	struct act_list *l = arg;

	l->ids[l->n] = a->id;
	l->types[l->n++] = a->type;
	return 0;
}

static int
stop_at_two(void *arg, const struct activity *a)
{
	(void)a;
	return ++*(int *)arg == 2 ? 42 : 0;
}

static void
test_activity(void **state)
{
	struct fixture *f = *state;
	struct activity a = { 0 };
	struct act_list l = { .n = 0 };
	uint64_t first;
	int n = 0;

	a.brand_id = f->brand;
	a.type = 0;
	assert_int_equal(store_activity_add(f->st, &a), SIGIL_EINVAL);
	a.type = ACTIVITY_FEEDBACK;
	a.rating = 6;
	assert_int_equal(store_activity_add(f->st, &a), SIGIL_EINVAL);
	a.rating = 4;
	strcpy(a.text, "bad \x01 byte");
	assert_int_equal(store_activity_add(f->st, &a), SIGIL_EINVAL);
	strcpy(a.text, "bad \xc3\x28 utf8");
	assert_int_equal(store_activity_add(f->st, &a), SIGIL_EINVAL);
	strcpy(a.text, "\xe5\xa5\xbd\xe5\x96\x9d\nline two");
	a.brand_id = 999;
	assert_int_equal(store_activity_add(f->st, &a), SIGIL_ENOTFOUND);
	a.brand_id = f->brand;
	for (int i = 0; i < 10; i++) {
		a.at = 0;
		assert_int_equal(store_activity_add(f->st, &a), 0);
		assert_true(a.at > 0);
	}
	a.brand_id = f->other;
	assert_int_equal(store_activity_add(f->st, &a), 0);
	/* Paging: 4 at a time after a cursor. */
	assert_int_equal(store_activity_each(f->st, f->brand, 0, 4,
	    collect_act, &l), 0);
	assert_int_equal(l.n, 4);
	first = l.ids[0];
	assert_int_equal(store_activity_each(f->st, f->brand, l.ids[3], 4,
	    collect_act, &l), 0);
	assert_int_equal(l.n, 8);
	assert_int_equal(store_activity_each(f->st, f->brand, l.ids[7], 4,
	    collect_act, &l), 0);
	assert_int_equal(l.n, 10);	/* only 2 were left, other brand not */
	for (size_t i = 1; i < l.n; i++)
		assert_true(l.ids[i] > l.ids[i - 1]);
	assert_int_equal(l.types[0], ACTIVITY_FEEDBACK);
	l.n = 0;
	assert_int_equal(store_activity_each(f->st, f->brand, first, 0,
	    collect_act, &l), 0);
	assert_int_equal(l.n, 9);
	assert_int_equal(store_activity_each(f->st, f->brand, 0, 0,
	    stop_at_two, &n), 42);
}

static int
collect_hook(void *arg, const struct webhook *w)
{
	((int *)arg)[w->brand_id]++;
	return 0;
}

static void
test_webhooks(void **state)
{
	struct fixture *f = *state;
	struct webhook w = { 0 }, g;
	int per_brand[8] = { 0 };

	w.brand_id = f->brand;
	strcpy(w.url, "https://crm.example/hook");
	w.events = 0;
	assert_int_equal(store_webhook_add(f->st, &w), SIGIL_EINVAL);
	w.events = 64;
	assert_int_equal(store_webhook_add(f->st, &w), SIGIL_EINVAL);
	w.events = HOOK_SCAN | HOOK_CLAIM;
	w.secret_ct_len = STORE_PHONE_CT_MAX + 1;
	assert_int_equal(store_webhook_add(f->st, &w), SIGIL_EINVAL);
	w.secret_ct_len = 44;
	memset(w.secret_ct, 0x3c, 44);
	w.active = 1;
	assert_int_equal(store_webhook_add(f->st, &w), 0);
	assert_int_equal(w.id, 1);
	w.brand_id = f->other;
	assert_int_equal(store_webhook_add(f->st, &w), 0);
	assert_int_equal(store_webhook_each(f->st, collect_hook, per_brand),
	    0);
	assert_int_equal(per_brand[f->brand], 1);
	assert_int_equal(per_brand[f->other], 1);

	assert_int_equal(store_webhook_get(f->st, f->brand, 1, &g), 0);
	assert_string_equal(g.url, "https://crm.example/hook");
	assert_int_equal(g.secret_ct_len, 44);
	assert_memory_equal(g.secret_ct, w.secret_ct, 44);
	assert_int_equal(g.scan_cursor, 0);
	g.scan_cursor = 1234;
	g.activity_cursor = 77;
	g.attempts = 3;
	g.next_try = T0 + 60;
	g.last_status = -1;
	g.delivered = 999;
	/* Progress writes only the delivery fields. */
	strcpy(g.url, "https://evil.example/");
	g.events = HOOK_CUSTOMER;
	assert_int_equal(store_webhook_progress(f->st, &g), 0);
	assert_int_equal(store_webhook_get(f->st, f->brand, 1, &g), 0);
	assert_int_equal(g.scan_cursor, 1234);
	assert_int_equal(g.activity_cursor, 77);
	assert_int_equal(g.attempts, 3);
	assert_int_equal(g.next_try, T0 + 60);
	assert_int_equal(g.last_status, -1);
	assert_int_equal(g.delivered, 999);
	assert_string_equal(g.url, "https://crm.example/hook");
	assert_int_equal(g.events, HOOK_SCAN | HOOK_CLAIM);
	g.id = 9;
	assert_int_equal(store_webhook_progress(f->st, &g), SIGIL_ENOTFOUND);
	assert_int_equal(store_webhook_set_active(f->st, f->brand, 1, 0), 0);
	assert_int_equal(store_webhook_get(f->st, f->brand, 1, &g), 0);
	assert_int_equal(g.active, 0);
	assert_int_equal(g.scan_cursor, 1234);
	assert_int_equal(store_webhook_del(f->st, f->brand, 1), 0);
	assert_int_equal(store_webhook_get(f->st, f->brand, 1, &g),
	    SIGIL_ENOTFOUND);
	assert_int_equal(store_webhook_del(f->st, f->brand, 1),
	    SIGIL_ENOTFOUND);
}

static int
count_user(void *arg, const struct user *u)
{
	(void)u;
	++*(int *)arg;
	return 0;
}

static void
test_users_sessions(void **state)
{
	struct fixture *f = *state;
	struct user u = { 0 }, g, v = { 0 };
	struct session s = { 0 }, gs;
	uint64_t removed = 0;
	int n = 0;

	u.brand_id = f->brand;
	u.role = ROLE_ADMIN;
	strcpy(u.email, "no-at-sign");
	assert_int_equal(store_user_add(f->st, &u), SIGIL_EINVAL);
	strcpy(u.email, "a b@x.example");
	assert_int_equal(store_user_add(f->st, &u), SIGIL_EINVAL);
	strcpy(u.email, "Alice@Acme.Example");
	u.role = 9;
	assert_int_equal(store_user_add(f->st, &u), SIGIL_EINVAL);
	u.role = ROLE_ADMIN;
	u.brand_id = 999;
	assert_int_equal(store_user_add(f->st, &u), SIGIL_ENOTFOUND);
	u.brand_id = f->brand;
	memset(u.salt, 1, 16);
	memset(u.hash, 2, 32);
	assert_int_equal(store_user_add(f->st, &u), 0);
	assert_string_equal(u.email, "alice@acme.example");
	assert_true(u.id > 0);
	/* Unique whatever the case. */
	v = u;
	strcpy(v.email, "ALICE@acme.example");
	assert_int_equal(store_user_add(f->st, &v), SIGIL_EEXIST);
	strcpy(v.email, "bob@acme.example");
	v.role = ROLE_ANALYST;
	assert_int_equal(store_user_add(f->st, &v), 0);
	assert_int_equal(store_user_find(f->st, "ALICE@ACME.example", &g), 0);
	assert_int_equal(g.id, u.id);
	assert_memory_equal(g.hash, u.hash, 32);
	assert_int_equal(store_user_find(f->st, "carol@acme.example", &g),
	    SIGIL_ENOTFOUND);
	assert_int_equal(store_user_get(f->st, v.id, &g), 0);
	assert_string_equal(g.email, "bob@acme.example");
	/* Update: the role and the hash, and an email change keeps the
	 * index; disabled is store_user_set_disabled's alone. */
	g.role = ROLE_OPERATOR;
	memset(g.hash, 0x5a, 32);
	g.disabled = 1;
	strcpy(g.email, "alice@acme.example");
	assert_int_equal(store_user_update(f->st, &g), SIGIL_EEXIST);
	strcpy(g.email, "Robert@acme.example");
	assert_int_equal(store_user_update(f->st, &g), 0);
	assert_int_equal(store_user_find(f->st, "bob@acme.example", &g),
	    SIGIL_ENOTFOUND);
	assert_int_equal(store_user_find(f->st, "robert@acme.example", &g),
	    0);
	assert_int_equal(g.role, ROLE_OPERATOR);
	assert_int_equal(g.hash[31], 0x5a);
	assert_int_equal(g.disabled, 0);
	assert_int_equal(store_user_each(f->st, f->brand, count_user, &n), 0);
	assert_int_equal(n, 2);

	/* Sessions. */
	memset(s.id_hash, 0x11, 32);
	memset(s.csrf, 0x22, 32);
	s.user_id = u.id;
	s.created = sigil_now_us();
	s.expires = s.created - 1;
	assert_int_equal(store_session_put(f->st, &s), SIGIL_EINVAL);
	s.expires = s.created + 3600LL * 1000000;
	s.user_id = 4242;
	assert_int_equal(store_session_put(f->st, &s), SIGIL_ENOTFOUND);
	s.user_id = u.id;
	assert_int_equal(store_session_put(f->st, &s), 0);
	assert_int_equal(store_session_get(f->st, s.id_hash, &gs), 0);
	assert_int_equal(gs.user_id, u.id);
	assert_memory_equal(gs.csrf, s.csrf, 32);
	assert_int_equal(gs.expires, s.expires);
	/* An expired session reads as not found. */
	memset(s.id_hash, 0x33, 32);
	s.created = 1000;
	s.expires = 2000;
	assert_int_equal(store_session_put(f->st, &s), 0);
	assert_int_equal(store_session_get(f->st, s.id_hash, &gs),
	    SIGIL_ENOTFOUND);
	assert_int_equal(store_session_purge(f->st, sigil_now_us(), &removed),
	    0);
	assert_int_equal(removed, 1);
	memset(s.id_hash, 0x11, 32);
	assert_int_equal(store_session_del(f->st, s.id_hash), 0);
	assert_int_equal(store_session_get(f->st, s.id_hash, &gs),
	    SIGIL_ENOTFOUND);
	assert_int_equal(store_session_del(f->st, s.id_hash),
	    SIGIL_ENOTFOUND);
}

struct key_list {
	uint64_t	keys[16];
	int64_t		totals[16];
	size_t		n;
};

static int
collect_keys(void *arg, uint64_t key, int64_t total)
{
	struct key_list *l = arg;

	l->keys[l->n] = key;
	l->totals[l->n++] = total;
	return 0;
}

static void
test_counters(void **state)
{
	struct fixture *f = *state;
	struct key_list l = { .n = 0 };
	int64_t out[5];

	assert_int_equal(store_stat_add(f->st, f->brand, 0, DIM_BRAND, 0, 1,
	    1), SIGIL_EINVAL);
	assert_int_equal(store_stat_add(f->st, f->brand, STAT_SCANS, 9, 0, 1,
	    1), SIGIL_EINVAL);
	assert_int_equal(store_stat_add(f->st, f->brand, STAT_SCANS,
	    DIM_BRAND, 0, -1, 1), SIGIL_EINVAL);
	assert_int_equal(store_stat_range(f->st, f->brand, STAT_SCANS,
	    DIM_BRAND, 0, 10, 5, out), SIGIL_EINVAL);
	assert_int_equal(store_stat_add(f->st, f->brand, STAT_SCANS,
	    DIM_BATCH, 7, 100, 3), 0);
	assert_int_equal(store_stat_add(f->st, f->brand, STAT_SCANS,
	    DIM_BATCH, 7, 100, 2), 0);
	assert_int_equal(store_stat_add(f->st, f->brand, STAT_SCANS,
	    DIM_BATCH, 7, 103, 1), 0);
	assert_int_equal(store_stat_add(f->st, f->brand, STAT_SCANS,
	    DIM_BATCH, 7, 99, 50), 0);	/* before the range */
	assert_int_equal(store_stat_add(f->st, f->brand, STAT_SCANS,
	    DIM_BATCH, 8, 101, 4), 0);
	assert_int_equal(store_stat_add(f->st, f->brand, STAT_SCANS,
	    DIM_BATCH, 9, 200, 4), 0);	/* after it */
	assert_int_equal(store_stat_add(f->st, f->brand, STAT_FIRST,
	    DIM_BATCH, 7, 100, 11), 0);	/* another kind */
	assert_int_equal(store_stat_add(f->st, f->other, STAT_SCANS,
	    DIM_BATCH, 7, 100, 13), 0);	/* another brand */
	assert_int_equal(store_stat_add(f->st, f->brand, STAT_SCANS,
	    DIM_BATCH, UINT64_MAX, 102, 6), 0);
	assert_int_equal(store_stat_range(f->st, f->brand, STAT_SCANS,
	    DIM_BATCH, 7, 100, 105, out), 0);
	assert_int_equal(out[0], 5);
	assert_int_equal(out[1], 0);
	assert_int_equal(out[3], 1);
	assert_int_equal(out[4], 0);
	assert_int_equal(store_stat_keys(f->st, f->brand, STAT_SCANS,
	    DIM_BATCH, 100, 105, collect_keys, &l), 0);
	assert_int_equal(l.n, 3);
	assert_int_equal(l.keys[0], 7);
	assert_int_equal(l.totals[0], 6);
	assert_int_equal(l.keys[1], 8);
	assert_int_equal(l.totals[1], 4);
	assert_int_equal(l.keys[2], UINT64_MAX);
	assert_int_equal(l.totals[2], 6);
	/* Saturation instead of overflow. */
	assert_int_equal(store_stat_add(f->st, f->brand, STAT_POINTS,
	    DIM_BRAND, 0, 1, INT64_MAX), 0);
	assert_int_equal(store_stat_add(f->st, f->brand, STAT_POINTS,
	    DIM_BRAND, 0, 1, 5), 0);
	assert_int_equal(store_stat_range(f->st, f->brand, STAT_POINTS,
	    DIM_BRAND, 0, 1, 2, out), 0);
	assert_int_equal(out[0], INT64_MAX);
}

static void
judge_first(void *arg, size_t index, struct scan_rec *rec,
    struct code_state *cs)
{
	(void)arg;
	(void)index;
	if (cs->first_at == 0) {
		cs->first_at = rec->at;
		rec->flags |= SCAN_FIRST;
	}
	cs->scan_count++;
	if (rec->serial == 13)
		rec->verdict = VERDICT_SUSPICIOUS;
}

static void
judge_divert(void *arg, size_t index, struct scan_rec *rec,
    struct code_state *cs)
{
	(void)arg;
	(void)index;
	(void)cs;
	rec->flags |= SCAN_DIVERSION;
}

static void
test_scan_counters(void **state)
{
	struct fixture *f = *state;
	struct product p = { 0 };
	struct key_meta k;
	struct batch b = { 0 };
	struct scan_rec r[6];
	int64_t h = (T0 + 5 * HOUR) / HOUR, out[1];
	uint64_t cell = store_region_cell(31.2f, 121.5f);

	assert_int_equal(store_key_add(f->st, f->brand, &k), 0);
	p.brand_id = f->brand;
	strcpy(p.sku, "TEA-1");
	strcpy(p.name, "Tea");
	p.max_scanners = 5;
	assert_int_equal(store_product_add(f->st, &p), 0);
	b.brand_id = f->brand;
	b.key_id = k.id;
	strcpy(b.sku, "TEA-1");
	b.count = 100;
	assert_int_equal(store_batch_new(f->st, &b), 0);

	memset(r, 0, sizeof(r));
	for (int i = 0; i < 6; i++) {
		r[i].at = T0 + 5 * HOUR + i;
		r[i].brand_id = f->brand;
		r[i].batch_id = b.id;
		r[i].serial = 12;
		r[i].device = 500;
	}
	r[1].serial = 13;		/* suspicious */
	r[1].device = 501;
	r[2].flags = SCAN_BOT;		/* not counted */
	r[2].device = 502;
	r[3].brand_id = 0;		/* counterfeit: not counted */
	r[3].device = 503;
	r[4].at = T0 + DAY + 5 * HOUR;	/* device 500 again, next day */
	r[5].flags = SCAN_HAS_LOC;	/* located at commit */
	r[5].lat = 31.2f;
	r[5].lng = 121.5f;
	assert_int_equal(store_scans_commit(f->st, r, 6, judge_first, NULL),
	    0);

#define AT(kind, dim, key, hour, want) do {				\
	assert_int_equal(store_stat_range(f->st, f->brand, kind, dim, key, \
	    hour, (hour) + 1, out), 0);					\
	assert_int_equal(out[0], want);					\
} while (0)
	AT(STAT_SCANS, DIM_BRAND, 0, h, 3);
	AT(STAT_SCANS, DIM_BATCH, b.id, h, 3);
	AT(STAT_SCANS, DIM_PRODUCT, store_sku_hash("TEA-1"), h, 3);
	AT(STAT_SCANS, DIM_BRAND, 0, h + 24, 1);
	AT(STAT_FIRST, DIM_BRAND, 0, h, 2);	/* serials 12 and 13 */
	AT(STAT_SUSPICIOUS, DIM_BRAND, 0, h, 1);
	AT(STAT_SUSPICIOUS, DIM_BATCH, b.id, h, 1);
	AT(STAT_SCANNERS, DIM_BRAND, 0, h, 2);	/* 500 and 501 */
	AT(STAT_SCANNERS, DIM_BRAND, 0, h + 24, 1);	/* 500 again */
	AT(STAT_SCANS, DIM_REGION, cell, h, 1);
	AT(STAT_DIVERSION, DIM_BRAND, 0, h, 0);
	assert_int_equal(store_stat_range(f->st, 0, STAT_SCANS, DIM_BRAND, 0,
	    h, h + 1, out), 0);
	assert_int_equal(out[0], 0);

	/* A later consented location of scan 1 with a diversion. */
	assert_int_equal(store_scan_locate(f->st, r[0].id, 31.7f, 121.1f, 20,
	    judge_divert, NULL, NULL), 0);
	AT(STAT_SCANS, DIM_REGION, cell, h, 2);
	AT(STAT_DIVERSION, DIM_BRAND, 0, h, 1);
	AT(STAT_DIVERSION, DIM_REGION, cell, h, 1);
	/* Locating a bot's scan counts nothing. */
	assert_int_equal(store_scan_locate(f->st, r[2].id, 31.7f, 121.1f, 20,
	    judge_divert, NULL, NULL), 0);
	AT(STAT_SCANS, DIM_REGION, cell, h, 2);
	AT(STAT_DIVERSION, DIM_BRAND, 0, h, 1);
#undef AT
	assert_int_equal(store_region_cell(-90, -180), 0);
	assert_int_equal(store_region_cell(90, 180), 179 * 360 + 359);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_customers),
		T(test_erasure),
		T(test_otp),
		T(test_pin),
		T(test_campaigns),
		T(test_claims),
		T(test_claim_race),
		T(test_claim_budget),
		T(test_claims_batch),
		T(test_ledger_expiry),
		T(test_redeem),
		T(test_settings),
		T(test_activity),
		T(test_webhooks),
		T(test_users_sessions),
		T(test_counters),
		T(test_scan_counters),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
