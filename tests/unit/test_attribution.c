/*
 * test_attribution.c - scans of unknown codes attributed to a brand
 * (scan_rec.attr_brand): kept in the log beside brand_id 0, counted as
 * COUNTERFEIT or UNVERIFIED for that brand by DIM_BRAND and, once
 * located, DIM_REGION; alerted as ALERT_COUNTERFEIT; never given
 * per-code state; a bot's never counted; a known code's record reads as
 * before.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sigil/store.h"
#include "sigil/util.h"
#include "storefix.h"

#define HOUR_US	(3600LL * 1000000)

static int64_t
total(struct store *st, uint32_t brand, int kind, int dim, uint64_t key,
    int64_t hour)
{
	int64_t v = -1;

	assert_int_equal(store_stat_range(st, brand, kind, dim, key, hour,
	    hour + 1, &v), 0);
	return v;
}

static int
count_alert(void *arg, const struct alert *a)
{
	const struct alert **out = arg;
	static struct alert last;

	last = *a;
	*out = &last;
	return 0;
}

static void
test_attributed(void **state)
{
	char dir[128];
	struct store *st;
	struct scan_rec r[4], back;
	struct code_state cs;
	struct alert_query q = { 0 };
	const struct alert *al = NULL;
	int64_t now = sigil_now_us(), h = now / HOUR_US;
	uint32_t acme, beta;

	(void)state;
	assert_int_equal(storefix_open(dir, sizeof dir, "attr", STORE_CREATE |
	    STORE_NOSYNC, &st), 0);
	acme = add_brand(st, "acme");
	beta = add_brand(st, "beta");
	memset(r, 0, sizeof r);
	for (int i = 0; i < 4; i++) {
		r[i].at = now;
		r[i].device = 100 + (uint64_t)i;
	}
	r[0].verdict = VERDICT_COUNTERFEIT;
	r[0].attr_brand = acme;
	r[1].verdict = VERDICT_UNVERIFIED;
	r[1].attr_brand = acme;
	r[2].verdict = VERDICT_COUNTERFEIT;	/* a bot's */
	r[2].attr_brand = beta;
	r[2].flags = SCAN_BOT;
	r[3].verdict = VERDICT_COUNTERFEIT;	/* names no key */
	assert_int_equal(store_scans_commit(st, r, 4, NULL, NULL), 0);

	/* The log keeps the brand beside brand_id 0. */
	assert_int_equal(store_scan_get(st, r[0].id, &back), 0);
	assert_int_equal(back.brand_id, 0);
	assert_int_equal(back.attr_brand, acme);
	assert_int_equal(back.serial, 0);
	assert_int_equal(store_scan_get(st, r[3].id, &back), 0);
	assert_int_equal(back.brand_id, 0);
	assert_int_equal(back.attr_brand, 0);
	/* No per-code state for serial 0. */
	assert_int_equal(store_code_state(st, acme, 0, &cs), SIGIL_ENOTFOUND);

	/* Counted for acme; beta's bot scan for nobody. */
	assert_int_equal(total(st, acme, STAT_COUNTERFEIT, DIM_BRAND, 0, h), 1);
	assert_int_equal(total(st, acme, STAT_UNVERIFIED, DIM_BRAND, 0, h), 1);
	assert_int_equal(total(st, acme, STAT_SCANS, DIM_BRAND, 0, h), 0);
	assert_int_equal(total(st, beta, STAT_COUNTERFEIT, DIM_BRAND, 0, h), 0);

	/* One counterfeit alert, acme's, for the human scan. */
	q.type = ALERT_COUNTERFEIT;
	assert_int_equal(store_alert_each(st, acme, &q, count_alert, &al), 0);
	assert_non_null(al);
	assert_int_equal(al->scan_id, r[0].id);
	assert_int_equal(al->serial, 0);
	assert_int_equal(al->count, 1);
	assert_true(al->lat == 0 && al->lng == 0);
	al = NULL;
	q.type = 0;
	assert_int_equal(store_alert_each(st, beta, &q, count_alert, &al), 0);
	assert_null(al);

	/* Located: its cell counts it, once. */
	assert_int_equal(store_scan_locate(st, r[0].id, 34.26f, 108.94f, 10,
	    NULL, NULL, &back), 0);
	assert_int_equal(total(st, acme, STAT_COUNTERFEIT, DIM_REGION,
	    store_region_cell(34.26f, 108.94f), h), 1);
	assert_int_equal(store_scan_locate(st, r[0].id, 1, 1, 10, NULL, NULL,
	    NULL), SIGIL_EEXIST);
	assert_int_equal(total(st, acme, STAT_COUNTERFEIT, DIM_BRAND, 0, h), 1);
	assert_int_equal(store_scan_get(st, r[0].id, &back), 0);
	assert_true(back.flags & SCAN_HAS_LOC);
	assert_int_equal(back.attr_brand, acme);
	/* The alert takes the place, without counting the scan again. */
	al = NULL;
	q.type = ALERT_COUNTERFEIT;
	assert_int_equal(store_alert_each(st, acme, &q, count_alert, &al), 0);
	assert_non_null(al);
	assert_int_equal(al->count, 1);
	assert_true(al->lat > 34.2f && al->lat < 34.3f);
	/* A second fake updates the same alert. */
	memset(&r[0], 0, sizeof r[0]);
	r[0].at = now;
	r[0].device = 200;
	r[0].verdict = VERDICT_COUNTERFEIT;
	r[0].attr_brand = acme;
	assert_int_equal(store_scans_commit(st, r, 1, NULL, NULL), 0);
	al = NULL;
	assert_int_equal(store_alert_each(st, acme, &q, count_alert, &al), 0);
	assert_int_equal(al->count, 2);
	assert_int_equal(al->last_scan, r[0].id);
	assert_true(al->lat > 34.2f && al->lat < 34.3f);
	storefix_close(dir, st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_attributed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
