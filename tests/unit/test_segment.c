/*
 * test_segment.c - customer segments (src/domain/segment.c,
 * segment_eval.c, src/store/store_segments.c): the criteria checked
 * strictly, every criterion judged against customers made in a real
 * store (ledger through claims, consents, a sealed profile, a staff
 * role, a campaign claimed), segment_each and segment_match agreeing,
 * erased customers never members, saved segments kept and loaded; the
 * claim facts (segment_facts) moved by a merge, cut by an erasure, and
 * made again from the claims when a store without them is opened;
 * segment_match's time for a customer with 100 ledger entries. White-box
 * where it makes a customer without a phone (customer_new) and empties
 * the facts, so it includes store_impl.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "storefix.h"

#include "sigil/consent.h"
#include "sigil/customer.h"
#include "sigil/segment.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "../../src/store/store_impl.h"
#include "barefix.h"

#define DAY	(24LL * 3600 * 1000000)

static const uint8_t key[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };

struct fixture {
	char		 dir[64];
	struct store	*st;
	uint32_t	 brand, camp;
	uint64_t	 c[5];		/* c[1..4] */
	int		 extra;		/* customers besides c[1..4] */
	int64_t		 now;
};

static uint64_t
customer(struct fixture *f, int n)
{
	uint8_t h[32], ct[24];
	struct customer c;
	int created = -1;

	memset(h, 0, sizeof h);
	h[0] = (uint8_t)n;
	h[31] = 0x5b;
	memset(ct, n, sizeof ct);
	assert_int_equal(store_customer_by_phone(f->st, f->brand, h, ct,
	    sizeof ct, &c, &created), 0);
	return c.id;
}

static void
claim(struct fixture *f, uint64_t cust, uint64_t serial, int64_t points,
    uint32_t camp)
{
	struct claim cl = { 0 };

	cl.brand_id = f->brand;
	cl.serial = serial;
	cl.role = CLAIM_CONSUMER;
	cl.customer_id = cust;
	cl.campaign_id = camp;
	cl.points = points;
	cl.prize = -1;
	cl.at = f->now - DAY;
	cl.expires_at = f->now + 300 * DAY;
	assert_int_equal(store_claim(f->st, &cl, NULL), 0);
}

static void
grant(struct fixture *f, uint64_t cust, unsigned purposes)
{
	struct consent_record r = { 0 };

	r.brand_id = f->brand;
	r.customer_id = cust;
	r.at = f->now - 2 * DAY;
	r.grant = purposes;
	r.channel = 1;
	r.lang = 1;
	assert_int_equal(store_consent_record(f->st, &r), 0);
}

static void
profile(struct fixture *f, uint64_t cust, const char *json)
{
	uint8_t sealed[PROFILE_SEALED_MAX];
	size_t len;

	assert_int_equal(loyalty_seal(key, f->brand, json, sealed,
	    sizeof sealed, &len), 0);
	assert_int_equal(store_profile_put(f->st, f->brand, cust, sealed,
	    len), 0);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct campaign cp = { 0 };
	char settings[128];

	assert_non_null(f);
	assert_int_equal(storefix_open(f->dir, sizeof f->dir, "segment",
	    STORE_CREATE | STORE_NOSYNC, &f->st), 0);
	f->brand = add_brand(f->st, "acme");
	f->now = sigil_now_us();
	segment_init(key);
	cp.brand_id = f->brand;
	cp.config = "{}";
	assert_int_equal(store_campaign_add(f->st, &cp), 0);
	f->camp = cp.id;
	for (int i = 1; i <= 4; i++)
		f->c[i] = customer(f, i);
	/* 1: Silver, marketing, a profile; 2: 100 points; 3: erased;
	 * 4: Gold, a retailer */
	claim(f, f->c[1], 11, 600, f->camp);
	claim(f, f->c[2], 12, 100, 0);
	claim(f, f->c[3], 13, 700, 0);
	claim(f, f->c[4], 14, 2500, 0);
	grant(f, f->c[1], CONSENT_MARKETING | CONSENT_PROFILE);
	grant(f, f->c[2], CONSENT_SERVICE);
	profile(f, f->c[1], "{\"gender\":\"female\",\"birthday\":"
	    "\"1990-05-03\",\"tags\":[\"vip\"],\"city\":\"上海\"}");
	assert_int_equal(store_customer_erase(f->st, f->brand, f->c[3],
	    f->now), 0);
	snprintf(settings, sizeof settings, "{\"staff\":{\"%llu\":"
	    "\"retailer\"}}", (unsigned long long)f->c[4]);
	assert_int_equal(store_brand_settings_put(f->st, f->brand, settings),
	    0);
	*state = f;
	return 0;
}

STOREFIX_TEARDOWN(struct fixture)

static int
parse(const char *text, char *err, size_t size)
{
	json_t *j = json_loads(text, 0, NULL);
	struct segment_def *d = NULL;
	int rc;

	assert_non_null(j);
	rc = segment_parse(j, &d, err, size);
	if (rc == 0)
		assert_non_null(d);
	else
		assert_null(d);
	segment_def_free(d);
	json_decref(j);
	return rc;
}

static void
test_parse(void **state)
{
	static const char *const good[] = { "{}",
	    "{\"tier\":[\"金 Gold\"],\"segment\":[\"loyal\",\"new\"]}",
	    "{\"points_min\":0,\"points_max\":10}",
	    "{\"consent\":[\"marketing\"],\"role\":[\"sales\"]}",
	    "{\"birth_month\":[1,12],\"gender\":[\"other\"]}",
	    "{\"last_scan_after\":\"2026-01-01\",\"last_scan_before\":"
	    "\"2026-02-01T08:00:00+08:00\"}",
	    "{\"campaigns_claimed\":[1],\"products_claimed\":[\"TEA-1\"],"
	    "\"products_scanned\":[\"TEA-1\"],\"province\":[\"浙江\"],"
	    "\"city\":[\"杭州\"],\"country\":[\"CN\"],\"tags_any\":[\"a\"]}" };
	static const char *const bad[] = { "[]", "{\"colour\":[\"red\"]}",
	    "{\"tier\":\"Gold\"}", "{\"tier\":[]}", "{\"tier\":[1]}",
	    "{\"tier\":[\"\"]}", "{\"tier\":[\"a\",\"a\"]}",
	    "{\"segment\":[\"whales\"]}", "{\"gender\":[\"f\"]}",
	    "{\"birth_month\":[13]}", "{\"birth_month\":[0]}",
	    "{\"birth_month\":[3,3]}", "{\"points_min\":-1}",
	    "{\"points_min\":1.5}", "{\"points_min\":9,\"points_max\":8}",
	    "{\"last_scan_after\":\"2026-13-01\"}",
	    "{\"last_scan_after\":\"yesterday\"}",
	    "{\"last_scan_after\":\"2026-02-01\",\"last_scan_before\":"
	    "\"2026-01-01\"}", "{\"consent\":[\"spam\"]}",
	    "{\"consent\":[\"marketing\",\"marketing\"]}",
	    "{\"role\":[\"boss\"]}", "{\"campaigns_claimed\":[0]}",
	    "{\"campaigns_claimed\":[\"1\"]}", "{\"tier\":[\"a\\u0007\"]}" };
	char err[300];

	(void)state;
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		assert_int_equal(parse(good[i], err, sizeof err), 0);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		assert_int_equal(parse(bad[i], err, sizeof err), SIGIL_EINVAL);
		assert_true(strlen(err) > 10);
	}
}

struct members {
	uint64_t	id[8];
	size_t		n;
};

static int
collect(void *arg, const struct customer *cu)
{
	struct members *m = arg;

	if (m->n < 8)
		m->id[m->n] = cu->id;
	m->n++;
	return 0;
}

/* The members of criteria, as a bit set of fixture indexes 1..4; each
 * customer's segment_match must agree with segment_each. */
static unsigned
members(struct fixture *f, const char *text)
{
	json_t *j = json_loads(text, 0, NULL);
	struct segment_def *d;
	struct members m = { { 0 }, 0 };
	unsigned bits = 0, mbits = 0;
	char err[256];

	assert_non_null(j);
	assert_int_equal(segment_parse(j, &d, err, sizeof err), 0);
	json_decref(j);
	assert_int_equal(segment_each(f->st, f->brand, d, f->now, collect,
	    &m), 0);
	for (size_t i = 0; i < m.n; i++)
		for (int k = 1; k <= 4; k++)
			if (m.id[i] == f->c[k])
				bits |= 1u << k;
	for (int k = 1; k <= 4; k++) {
		struct customer cu;
		int r;

		assert_int_equal(store_customer_get(f->st, f->brand, f->c[k],
		    &cu), 0);
		r = segment_match(f->st, f->brand, d, &cu, f->now);
		assert_true(r == 0 || r == 1);
		if (r)
			mbits |= 1u << k;
	}
	assert_int_equal(bits, mbits);
	if (f->extra == 0)
		assert_int_equal(m.n, __builtin_popcount(bits));
	else
		assert_true(m.n >= (size_t)__builtin_popcount(bits));
	segment_def_free(d);
	return bits;
}

#define B(k)	(1u << (k))

static void
test_criteria(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(members(f, "{}"), B(1) | B(2) | B(4));
	assert_int_equal(members(f, "{\"tier\":[\"银 Silver\"]}"), B(1));
	assert_int_equal(members(f, "{\"tier\":[\"铜 Bronze\",\"金 Gold\"]}"),
	    B(2) | B(4));
	assert_int_equal(members(f, "{\"points_min\":500}"), B(1) | B(4));
	assert_int_equal(members(f, "{\"points_min\":100,\"points_max\":600}"),
	    B(1) | B(2));
	assert_int_equal(members(f, "{\"points_max\":99}"), 0);
	assert_int_equal(members(f, "{\"segment\":[\"new\"]}"),
	    B(1) | B(2));
	assert_int_equal(members(f, "{\"segment\":[\"champions\"]}"),
	    B(4));
	assert_int_equal(members(f, "{\"segment\":[\"hibernating\"]}"), 0);
	assert_int_equal(members(f, "{\"consent\":[\"marketing\"]}"), B(1));
	assert_int_equal(members(f, "{\"consent\":[\"marketing\","
	    "\"service\"]}"), B(1) | B(2));
	assert_int_equal(members(f, "{\"gender\":[\"female\"]}"), B(1));
	assert_int_equal(members(f, "{\"gender\":[\"male\"]}"), 0);
	assert_int_equal(members(f, "{\"birth_month\":[5,6]}"), B(1));
	assert_int_equal(members(f, "{\"birth_month\":[4]}"), 0);
	assert_int_equal(members(f, "{\"tags_any\":[\"x\",\"vip\"]}"), B(1));
	assert_int_equal(members(f, "{\"city\":[\"上海\"]}"), B(1));
	assert_int_equal(members(f, "{\"role\":[\"retailer\"]}"), B(4));
	assert_int_equal(members(f, "{\"role\":[\"consumer\"]}"), B(1) | B(2));
	assert_int_equal(members(f, "{\"role\":[\"consumer\"],"
	    "\"points_min\":500}"), B(1));
	{
		char q[64];

		snprintf(q, sizeof q, "{\"campaigns_claimed\":[%u]}",
		    f->camp);
		assert_int_equal(members(f, q), B(1));
	}
	assert_int_equal(members(f, "{\"campaigns_claimed\":[99]}"), 0);
	/* no scans in this store: nobody scanned after or before */
	assert_int_equal(members(f, "{\"last_scan_after\":\"2000-01-01\"}"),
	    0);
	assert_int_equal(members(f, "{\"products_claimed\":[\"TEA\"]}"), 0);
}

static void
test_saved(void **state)
{
	struct fixture *f = *state;
	struct saved_segment s = { 0 }, g;
	struct segment_def *d;
	json_t *body = json_loads("{\"name\":\"银卡 VIP\",\"criteria\":"
	    "{\"tier\":[\"银 Silver\"]}}", 0, NULL), *o;
	char *json, err[256];
	struct members m = { { 0 }, 0 };

	assert_int_equal(segment_body_parse(body, &json, err, sizeof err), 0);
	s.brand_id = f->brand;
	s.json = json;
	assert_int_equal(store_segment_add(f->st, &s), 0);
	assert_int_equal(s.id, 1);
	free(json);
	assert_int_equal(segment_load(f->st, f->brand, 1, &d), 0);
	assert_int_equal(segment_each(f->st, f->brand, d, f->now, collect,
	    &m), 0);
	assert_int_equal(m.n, 1);
	assert_int_equal(m.id[0], f->c[1]);
	segment_def_free(d);
	assert_int_equal(segment_load(f->st, f->brand + 1, 1, &d),
	    SIGIL_ENOTFOUND);
	assert_int_equal(segment_load(f->st, f->brand, 2, &d),
	    SIGIL_ENOTFOUND);
	assert_int_equal(store_segment_get(f->st, f->brand, 1, &g), 0);
	o = segment_json(&g);
	assert_string_equal(json_string_value(json_object_get(o, "name")),
	    "银卡 VIP");
	json_decref(o);
	store_segment_clear(&g);
	assert_int_equal(store_segment_del(f->st, f->brand, 1), 0);
	assert_int_equal(store_segment_del(f->st, f->brand, 1),
	    SIGIL_ENOTFOUND);
	json_decref(body);
	body = json_loads("{\"name\":\"\",\"criteria\":{}}", 0, NULL);
	assert_int_equal(segment_body_parse(body, &json, err, sizeof err),
	    SIGIL_EINVAL);
	json_decref(body);
	body = json_loads("{\"name\":\"x\"}", 0, NULL);
	assert_int_equal(segment_body_parse(body, &json, err, sizeof err),
	    SIGIL_EINVAL);
	json_decref(body);
}

static int
members_of(struct fixture *f, const char *text)
{
	return (int)members(f, text);
}

static int
facts_drop(struct store *st, MDB_txn *txn, void *p)
{
	MDB_val k = meta_key("segfacts/through");

	(void)p;
	if (mdb_drop(txn, st->segment_facts, 0) != 0)
		return SIGIL_EIO;
	return mdb_del(txn, st->meta, &k, NULL);
}

/* A customer merged away takes its claims' facts to the survivor; an
 * erasure cuts them; a store without them gets them back at open. */
static void
test_facts(void **state)
{
	struct fixture *f = *state;
	struct customer out;
	uint64_t kept = 0;
	char q[64];

	f->extra = 1;
	snprintf(q, sizeof q, "{\"campaigns_claimed\":[%u]}", f->camp);
	assert_int_equal(barefix_customer(f->st, f->brand, f->now, &out), 0);
	claim(f, out.id, 21, 50, f->camp);
	assert_int_equal(members_of(f, q), B(1));	/* out.id not in 1..4 */
	/* the bare customer goes into customer 2 (who has a phone) */
	assert_int_equal(store_customers_merge(f->st, f->brand, f->c[2],
	    out.id, f->now, &kept), 0);
	assert_int_equal(kept, f->c[2]);
	assert_int_equal(members_of(f, q), B(1) | B(2));
	/* a store without the facts: made again at open */
	assert_int_equal(store_write(f->st, facts_drop, NULL), 0);
	assert_int_equal(members_of(f, q), 0);
	store_close(f->st);
	assert_int_equal(store_open(f->dir, STORE_NOSYNC, &f->st), 0);
	assert_int_equal(members_of(f, q), B(1) | B(2));
	assert_int_equal(store_customer_erase(f->st, f->brand, f->c[1],
	    f->now), 0);
	assert_int_equal(members_of(f, q), B(2));
}

/* segment_match for a customer with 100 ledger entries, every kind of
 * criterion at once: a handful of small reads. */
static void
test_match_time(void **state)
{
	struct fixture *f = *state;
	json_t *j;
	struct segment_def *d;
	struct customer cu;
	char err[256], q[512];
	int64_t t0, took;
	int r = 0;

	for (int i = 0; i < 99; i++)
		claim(f, f->c[1], 100 + (uint64_t)i, 10, f->camp);
	snprintf(q, sizeof q, "{\"tier\":[\"银 Silver\",\"金 Gold\"],"
	    "\"points_min\":1000,\"consent\":[\"marketing\"],"
	    "\"gender\":[\"female\"],\"campaigns_claimed\":[%u],"
	    "\"birth_month\":[5],\"role\":[\"consumer\"],"
	    "\"segment\":[\"new\",\"loyal\",\"champions\"],"
	    "\"city\":[\"上海\"]}", f->camp);
	j = json_loads(q, 0, NULL);
	assert_int_equal(segment_parse(j, &d, err, sizeof err), 0);
	json_decref(j);
	assert_int_equal(store_customer_get(f->st, f->brand, f->c[1], &cu), 0);
	t0 = sigil_now_us();
	for (int i = 0; i < 100; i++)
		r = segment_match(f->st, f->brand, d, &cu, f->now);
	took = (sigil_now_us() - t0) / 100;
	assert_int_equal(r, 1);		/* every criterion judged */
	printf("# segment_match, 100 ledger entries, every criterion: "
	    "%lld us\n", (long long)took);
	assert_true(took < 5000);
	segment_def_free(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test_setup_teardown(test_criteria, setup, teardown),
		cmocka_unit_test_setup_teardown(test_saved, setup, teardown),
		cmocka_unit_test_setup_teardown(test_facts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_match_time, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
