/*
 * test_cash.c - cash prizes (src/domain/cash.c, cash_guard.c): the
 * configuration checked strictly (alone and inside a campaign), the
 * draws of every distribution against their exact chances with a fixed
 * seed (chi-square over whole fen, Kolmogorov-Smirnov over a wide range,
 * and the same statistic refusing a wrong distribution, so the test can
 * fail), never outside the range; the network velocity, the cool-down,
 * each reason of the score and the hold.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <jansson.h>

#include "sigil/campaign.h"
#include "sigil/cash.h"
#include "sigil/util.h"

#define SEED	20261208
#define DRAWS	200000
#define HOUR	(3600LL * 1000000)
#define T0	(1765000000LL * 1000000 - (1765000000LL * 1000000) % HOUR)

/* text parsed as a prize (p) or else a configuration (c): the parser's
 * result, and a refusal always says why. */
static int
parse(const char *text, struct cash_prize *p, struct cash_config *c)
{
	char err[200] = "";
	json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
	int rc;

	assert_non_null(v);
	rc = p != NULL ? cash_prize_parse(v, p, err, sizeof err) :
	    cash_config_parse(v, c, err, sizeof err);
	json_decref(v);
	if (rc != 0)
		assert_true(err[0] != '\0');
	return rc;
}

static int
prize(const char *text, struct cash_prize *p)
{
	return parse(text, p, NULL);
}

static int
config(const char *text, struct cash_config *c)
{
	return parse(text, NULL, c);
}

/* Each of the n texts in bad refused as a prize (as_prize) or else as
 * a configuration. */
static void
all_refused(const char *const *bad, size_t n, int as_prize)
{
	struct cash_prize p;
	struct cash_config c;

	for (size_t i = 0; i < n; i++) {
		if (parse(bad[i], as_prize ? &p : NULL, &c) != SIGIL_EINVAL)
			fail_msg("accepted %s", bad[i]);
	}
}

static void
test_prize_parse(void **state)
{
	static const char *const bad[] = {
		"{\"fixed\": 0}", "{\"fixed\": 9}", "{\"fixed\": 20000001}",
		"{\"fixed\": 10.5}", "{\"fixed\": 100, \"min\": 10}",
		"{\"min\": 50, \"max\": 40, \"distribution\": \"uniform\"}",
		"{\"min\": 9, \"max\": 90, \"distribution\": \"uniform\"}",
		"{\"min\": 10, \"max\": 20000001, \"distribution\": "
		"\"uniform\"}",
		"{\"min\": 10, \"max\": 90, \"distribution\": \"poisson\"}",
		"{\"min\": 10, \"max\": 90}",
		"{\"min\": 10, \"max\": 90, \"distribution\": \"uniform\", "
		"\"mode\": 30}",
		"{\"min\": 10, \"max\": 90, \"distribution\": \"triangular\"}",
		"{\"min\": 10, \"max\": 90, \"distribution\": \"triangular\", "
		"\"mode\": 91}",
		"{\"min\": 10, \"max\": 90, \"distribution\": \"normal\", "
		"\"mean\": 9, \"sd\": 20}",
		"{\"min\": 10, \"max\": 90, \"distribution\": \"normal\", "
		"\"mean\": 50, \"sd\": 0}",
		"{\"min\": 10, \"max\": 90, \"distribution\": \"normal\", "
		"\"mean\": 50, \"sd\": 81}",
		"{\"min\": 10, \"max\": 90, \"distribution\": \"normal\", "
		"\"mean\": 50}",
		"{\"x\": 1}", "[1]", "100",
	};
	struct cash_prize p;

	(void)state;
	all_refused(bad, sizeof bad / sizeof bad[0], 1);
	assert_int_equal(prize("{\"fixed\": 888}", &p), 0);
	assert_int_equal(p.dist, CASH_FIXED);
	assert_true(p.min == 888 && p.max == 888);
	assert_int_equal(prize("{\"min\": 30, \"max\": 20000000, "
	    "\"distribution\": \"uniform\"}", &p), 0);
	assert_int_equal(p.dist, CASH_UNIFORM);
	assert_int_equal(prize("{\"min\": 30, \"max\": 300, \"distribution\": "
	    "\"triangular\", \"mode\": 30}", &p), 0);
	assert_true(p.dist == CASH_TRIANGULAR && p.mode == 30);
	assert_int_equal(prize("{\"min\": 30, \"max\": 300, \"distribution\": "
	    "\"normal\", \"mean\": 100, \"sd\": 270}", &p), 0);
	assert_true(p.dist == CASH_NORMAL && p.mean == 100 && p.sd == 270);
}

static void
test_config_parse(void **state)
{
	static const char *const bad[] = {
		"{}", "{\"budget_fen\": 0}", "{\"budget_fen\": 100, \"x\": 1}",
		"{\"budget_fen\": 100, \"hold_above_fen\": 20000001}",
		"{\"budget_fen\": 100, \"hold_score\": 101}",
		"{\"budget_fen\": 100, \"cooldown_hours\": -1}",
		"{\"budget_fen\": 100, \"network_per_hour\": 1.5}",
		"{\"budget_fen\": 100, \"remark\": \"\"}",
		"{\"budget_fen\": 100, \"remark\": \"0123456789012345678901234"
		"56789012\"}", "{\"budget_fen\": 1000000000001}", "[]",
	};
	struct cash_config c;

	(void)state;
	all_refused(bad, sizeof bad / sizeof bad[0], 0);
	assert_int_equal(config("{\"budget_fen\": 30000, \"hold_above_fen\": "
	    "5000, \"customer_day_fen\": 1000, \"device_day_fen\": 2000, "
	    "\"network_per_hour\": 50, \"cooldown_hours\": 24, \"hold_score\": "
	    "60, \"remark\": \"扫码领红包\", \"activity\": \"春节活动\"}", &c),
	    0);
	assert_true(c.budget_fen == 30000 && c.hold_above_fen == 5000 &&
	    c.customer_day_fen == 1000 && c.device_day_fen == 2000 &&
	    c.network_per_hour == 50 && c.cooldown_hours == 24 &&
	    c.hold_score == 60);
	assert_string_equal(c.remark, "扫码领红包");
	assert_string_equal(c.activity, "春节活动");
}

/* A campaign: the draw's cash and the budget it needs, end to end. */
static void
test_campaign_cash(void **state)
{
	const char *base = "{\"name\": \"c\", \"skus\": [\"W1\"], \"starts\": "
	    "\"2026-01-01\", \"ends\": \"2026-12-31\", \"points\": 1, ";
	char text[1024], err[320], *out = NULL;

	(void)state;
	snprintf(text, sizeof text, "%s\"draw\": [{\"name\": \"red\", \"odds\":"
	    " 0.5, \"stock\": 100, \"cash\": {\"fixed\": 100}}]}", base);
	assert_int_equal(loyalty_campaign_check(text, &out, err, sizeof err),
	    SIGIL_EINVAL);
	assert_non_null(strstr(err, "budget_fen"));
	snprintf(text, sizeof text, "%s\"draw\": [{\"name\": \"red\", \"odds\":"
	    " 0.5, \"stock\": 100, \"cash\": {\"fixed\": 100}}], \"cash\": "
	    "{\"budget_fen\": 30000}}", base);
	assert_int_equal(loyalty_campaign_check(text, &out, err, sizeof err),
	    0);
	assert_non_null(strstr(out, "\"budget_fen\":30000"));
	free(out);
	snprintf(text, sizeof text, "%s\"draw\": [{\"name\": \"red\", \"odds\":"
	    " 0.5, \"stock\": 100, \"cash\": {\"fixed\": 100}, \"x\": 1}], "
	    "\"cash\": {\"budget_fen\": 30000}}", base);
	assert_int_equal(loyalty_campaign_check(text, &out, err, sizeof err),
	    SIGIL_EINVAL);
	snprintf(text, sizeof text, "%s\"draw\": [{\"name\": \"red\", \"odds\":"
	    " 0.5, \"stock\": 100, \"cash\": {\"min\": 9, \"max\": 8, "
	    "\"distribution\": \"uniform\"}}], \"cash\": {\"budget_fen\": "
	    "30000}}", base);
	assert_int_equal(loyalty_campaign_check(text, &out, err, sizeof err),
	    SIGIL_EINVAL);
	snprintf(text, sizeof text, "%s\"cash\": {\"budget_fen\": 30000, "
	    "\"bogus\": 1}}", base);
	assert_int_equal(loyalty_campaign_check(text, &out, err, sizeof err),
	    SIGIL_EINVAL);
	assert_non_null(strstr(err, "bogus"));
}

/* Chi-square of n draws' counts against p's chances over [min, max],
 * bins merged until each expects at least 10; *df its freedom. */
static double
chi_square(const struct cash_prize *truth, const struct cash_prize *p,
    struct cash_rng *r, int n, int *df)
{
	int64_t w = truth->max - truth->min + 1;
	long *count = calloc((size_t)w, sizeof *count);
	double chi = 0, exp = 0, obs = 0;

	assert_non_null(count);
	for (int i = 0; i < n; i++) {
		int64_t v = cash_prize_draw(truth, r);

		assert_true(v >= truth->min && v <= truth->max);
		count[v - truth->min]++;
	}
	*df = -1;
	for (int64_t k = 0; k < w; k++) {
		exp += cash_prize_p(p, truth->min + k) * n;
		obs += (double)count[k];
		if (exp >= 10 || k == w - 1) {
			if (exp > 0)
				chi += (obs - exp) * (obs - exp) / exp;
			else if (obs > 0)
				chi += 1e9;	/* drawn where p says never */
			(*df)++;
			exp = obs = 0;
		}
	}
	free(count);
	return chi;
}

/* The chi-square quantile at 0.999 (Wilson-Hilferty), df >= 1. */
static double
chi_limit(int df)
{
	double z = 3.090, k = (double)df;
	double t = 1 - 2 / (9 * k) + z * sqrt(2 / (9 * k));

	return k * t * t * t;
}

static void
test_draws_follow(void **state)
{
	static const char *const prizes[] = {
		"{\"min\": 100, \"max\": 160, \"distribution\": \"uniform\"}",
		"{\"min\": 100, \"max\": 160, \"distribution\": \"triangular\", "
		"\"mode\": 110}",
		"{\"min\": 100, \"max\": 160, \"distribution\": \"triangular\", "
		"\"mode\": 160}",
		"{\"min\": 100, \"max\": 160, \"distribution\": \"normal\", "
		"\"mean\": 120, \"sd\": 15}",
		"{\"min\": 100, \"max\": 160, \"distribution\": \"normal\", "
		"\"mean\": 100, \"sd\": 60}",
		"{\"fixed\": 888}",
	};
	struct cash_prize p, wrong;
	struct cash_rng r;
	double sum;
	int df;

	(void)state;
	cash_rng_seed(&r, SEED);
	for (size_t i = 0; i < sizeof prizes / sizeof prizes[0]; i++) {
		assert_int_equal(prize(prizes[i], &p), 0);
		sum = 0;
		for (int64_t k = p.min - 5; k <= p.max + 5; k++)
			sum += cash_prize_p(&p, k);
		assert_true(fabs(sum - 1) < 1e-9);
		assert_true(cash_prize_p(&p, p.min - 1) == 0 &&
		    cash_prize_p(&p, p.max + 1) == 0);
		double chi = chi_square(&p, &p, &r, DRAWS, &df);
		if (df > 0 && chi > chi_limit(df))
			fail_msg("%s: chi-square %.1f over %d df", prizes[i], chi,
			    df);
	}
	/* the statistic has power: uniform draws are not triangular ones */
	assert_int_equal(prize(prizes[0], &p), 0);
	assert_int_equal(prize(prizes[1], &wrong), 0);
	assert_true(chi_square(&p, &wrong, &r, 20000, &df) > chi_limit(df));
	assert_int_equal(prize(prizes[3], &wrong), 0);
	assert_true(chi_square(&p, &wrong, &r, 20000, &df) > chi_limit(df));
}

/* Kolmogorov-Smirnov over a wide range, where bins per fen are many. */
static void
test_draws_ks(void **state)
{
	static const char *const prizes[] = {
		"{\"min\": 30, \"max\": 20000, \"distribution\": \"uniform\"}",
		"{\"min\": 30, \"max\": 20000, \"distribution\": \"triangular\", "
		"\"mode\": 500}",
		"{\"min\": 30, \"max\": 20000, \"distribution\": \"normal\", "
		"\"mean\": 3000, \"sd\": 2500}",
	};
	enum { N = 50000 };
	struct cash_prize p;
	struct cash_rng r;

	(void)state;
	cash_rng_seed(&r, SEED + 1);
	for (size_t i = 0; i < sizeof prizes / sizeof prizes[0]; i++) {
		int64_t w;
		long *count;
		double cdf = 0, emp = 0, d = 0;

		assert_int_equal(prize(prizes[i], &p), 0);
		w = p.max - p.min + 1;
		count = calloc((size_t)w, sizeof *count);
		assert_non_null(count);
		for (int k = 0; k < N; k++) {
			int64_t v = cash_prize_draw(&p, &r);

			assert_true(v >= p.min && v <= p.max);
			count[v - p.min]++;
		}
		for (int64_t k = 0; k < w; k++) {
			cdf += cash_prize_p(&p, p.min + k);
			emp += (double)count[k] / N;
			if (fabs(cdf - emp) > d)
				d = fabs(cdf - emp);
		}
		free(count);
		/* 1.95 / sqrt(n): the 0.001 level (conservative when
		 * discrete) */
		if (d > 1.95 / sqrt(N))
			fail_msg("%s: KS distance %.4f", prizes[i], d);
	}
}

static void
test_rng_seeded(void **state)
{
	struct cash_rng a, b;
	uint64_t x[4];

	(void)state;
	cash_rng_seed(&a, 7);
	cash_rng_seed(&b, 7);
	for (int i = 0; i < 4; i++) {
		x[i] = cash_rng_next(&a);
		assert_true(x[i] == cash_rng_next(&b));
	}
	cash_rng_seed(&b, 8);
	assert_true(cash_rng_next(&b) != x[0]);
	assert_int_equal(cash_rng_fresh(&a), 0);
	assert_int_equal(cash_rng_fresh(&b), 0);
	assert_true(cash_rng_next(&a) != cash_rng_next(&b));
}

static void
addr(const char *s, uint8_t out[16])
{
	if (strchr(s, ':') != NULL) {
		assert_int_equal(inet_pton(AF_INET6, s, out), 1);
		return;
	}
	memset(out, 0, 10);
	out[10] = out[11] = 0xff;
	assert_int_equal(inet_pton(AF_INET, s, out + 12), 1);
}

static void
test_network(void **state)
{
	uint8_t a[16], b[16], c6[16], d6[16];
	uint32_t n;
	int64_t wait;

	(void)state;
	cash_guard_reset();
	addr("10.0.0.1", a);
	addr("10.0.0.2", b);
	addr("2001:db8:1:2::1", c6);
	addr("2001:db8:1:2:ffff::9", d6);
	for (uint32_t i = 1; i <= 5; i++) {
		assert_true(cash_guard_network(1, 1, a, 5, T0 + 10, &n) == 0);
		assert_int_equal(n, i);
	}
	wait = cash_guard_network(1, 1, a, 5, T0 + 600 * 1000000LL, &n);
	assert_true(wait == HOUR - 600 * 1000000LL);
	assert_int_equal(n, 5);
	/* another address, campaign or brand counts apart */
	assert_true(cash_guard_network(1, 1, b, 5, T0 + 20, &n) == 0 && n == 1);
	assert_true(cash_guard_network(1, 2, a, 5, T0 + 20, &n) == 0 && n == 1);
	assert_true(cash_guard_network(2, 1, a, 5, T0 + 20, &n) == 0 && n == 1);
	/* one IPv6 /64 is one network */
	assert_true(cash_guard_network(1, 1, c6, 2, T0, &n) == 0);
	assert_true(cash_guard_network(1, 1, d6, 2, T0, &n) == 0 && n == 2);
	assert_true(cash_guard_network(1, 1, c6, 2, T0, &n) > 0);
	/* the next hour starts again */
	assert_true(cash_guard_network(1, 1, a, 5, T0 + HOUR, &n) == 0 &&
	    n == 1);
	/* no limit: counted, never refused */
	for (int i = 0; i < 100; i++)
		assert_true(cash_guard_network(1, 9, a, 0, T0, &n) == 0);
	assert_int_equal(n, 100);
}

/* Many networks over the table's size: no count lost to a newcomer. */
static void
test_network_flood(void **state)
{
	uint8_t a[16], x[16];
	uint32_t n;

	(void)state;
	cash_guard_reset();
	addr("10.9.9.9", a);
	for (int i = 0; i < 3; i++)
		assert_true(cash_guard_network(1, 1, a, 3, T0, &n) == 0);
	for (uint32_t i = 0; i < 100000; i++) {
		addr("172.16.0.0", x);
		sigil_be32_put(x + 12, 0xac100000u + i);
		cash_guard_network(1, 1, x, 3, T0, &n);
	}
	assert_true(cash_guard_network(1, 1, a, 3, T0, &n) > 0);
}

static void
test_cooldown(void **state)
{
	(void)state;
	assert_true(cash_cooldown_wait(0, T0, T0, T0) == 0);
	assert_true(cash_cooldown_wait(24, T0, 0, T0 + HOUR) == 23 * HOUR);
	assert_true(cash_cooldown_wait(24, T0 - 48 * HOUR, T0, T0 + HOUR) ==
	    23 * HOUR);
	assert_true(cash_cooldown_wait(24, T0 - 48 * HOUR, T0 - 25 * HOUR,
	    T0) == 0);
}

static struct cash_facts
facts(uint64_t customer, uint64_t device, int64_t now)
{
	struct cash_facts f;

	memset(&f, 0, sizeof f);
	f.brand_id = 1;
	f.customer_id = customer;
	f.device = device;
	f.now = now;
	f.scan_at = now - 60 * 1000000LL;
	return f;
}

static void
test_score(void **state)
{
	char why[PAYOUT_REASONS_MAX + 1];
	struct cash_config cc = { 0 };
	struct cash_facts f;

	(void)state;
	cash_guard_reset();
	f = facts(1, 100, T0);
	assert_int_equal(cash_score(&f, why), 0);
	assert_string_equal(why, "");
	f.scan_at = T0 - 1000000;
	assert_int_equal(cash_score(&f, why), CASH_SCORE_FAST);
	assert_string_equal(why, "fast");
	f = facts(1, 100, T0);
	f.fresh_device = 1;
	f.pin_fails = 2;
	assert_int_equal(cash_score(&f, why), CASH_SCORE_NEW_DEVICE +
	    CASH_SCORE_PIN_TRIES);
	assert_string_equal(why, "new_device,pin_tries");
	f = facts(1, 100, T0);
	f.network_limit = 10;
	f.network_count = 6;
	assert_int_equal(cash_score(&f, why), CASH_SCORE_NETWORK_BUSY);
	f.network_limit = 0;
	f.network_count = CASH_NETWORK_BUSY;
	assert_int_equal(cash_score(&f, why), 0);
	/* a third customer on one device within a day */
	f = facts(2, 100, T0);
	assert_int_equal(cash_score(&f, why), 0);
	f = facts(3, 100, T0 + 1000);
	assert_int_equal(cash_score(&f, why), CASH_SCORE_SHARED_DEVICE);
	assert_string_equal(why, "shared_device");
	f = facts(3, 100, T0 + 48 * HOUR);	/* the others a day gone */
	assert_int_equal(cash_score(&f, why), 0);
	/* Beijing, then Shanghai (1,070 km) an hour later: travel; a day
	 * later: not */
	f = facts(7, 700, T0);
	f.located = 1;
	f.lat = 39.90f;
	f.lng = 116.40f;
	assert_int_equal(cash_score(&f, why), 0);
	f.now = T0 + HOUR;
	f.scan_at = f.now - 60 * 1000000LL;
	f.lat = 31.23f;
	f.lng = 121.47f;
	assert_int_equal(cash_score(&f, why), CASH_SCORE_TRAVEL);
	assert_string_equal(why, "travel");
	f.now = T0 + 26 * HOUR;
	f.scan_at = f.now - 60 * 1000000LL;
	f.lat = 39.90f;
	f.lng = 116.40f;
	assert_int_equal(cash_score(&f, why), 0);
	/* every reason at once: 130, scored 100 */
	f = facts(10, 200, T0);
	cash_score(&f, why);
	f = facts(11, 200, T0);
	cash_score(&f, why);
	f = facts(12, 200, T0);
	f.located = 1;
	f.lat = 39.90f;
	f.lng = 116.40f;
	cash_score(&f, why);
	f.now = T0 + HOUR;
	f.scan_at = f.now - 1;
	f.lat = 31.23f;
	f.lng = 121.47f;
	f.fresh_device = 1;
	f.pin_fails = 1;
	f.network_limit = 2;
	f.network_count = 2;
	assert_int_equal(cash_score(&f, why), 100);
	assert_string_equal(why, "new_device,shared_device,network_busy,"
	    "pin_tries,travel,fast");
	/* the hold */
	cc.hold_score = 40;
	cc.hold_above_fen = 500;
	assert_false(cash_hold(&cc, 39, 500));
	assert_true(cash_hold(&cc, 40, 1));
	assert_true(cash_hold(&cc, 0, 501));
	cc.hold_score = 0;
	cc.hold_above_fen = 0;
	assert_false(cash_hold(&cc, 100, 20000000));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prize_parse),
		cmocka_unit_test(test_config_parse),
		cmocka_unit_test(test_campaign_cash),
		cmocka_unit_test(test_draws_follow),
		cmocka_unit_test(test_draws_ks),
		cmocka_unit_test(test_rng_seeded),
		cmocka_unit_test(test_network),
		cmocka_unit_test(test_network_flood),
		cmocka_unit_test(test_cooldown),
		cmocka_unit_test(test_score),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
