/*
 * test_loyalty.c - the loyalty domain's pure parts: phone normalisation
 * and masking (hostile input included) and AES-GCM sealing of phones
 * (tamper, wrong brand, wrong key, truncation) of customer.c, strict
 * campaign validation (every rule, canonical dates) of campaign.c, and
 * RFM segments at their boundaries of member.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sigil/campaign.h"
#include "sigil/customer.h"
#include "sigil/member.h"
#include "sigil/store.h"
#include "sigil/util.h"

#define DAY	(86400LL * 1000000)

static void
test_phone_normalise(void **state)
{
	static const struct { const char *in, *out; } good[] = {
		{ "13812341234", "8613812341234" },
		{ "+86 138-1234-1234", "8613812341234" },
		{ "008613812341234", "8613812341234" },
		{ "8613812341234", "8613812341234" },
		{ "+44 (20) 7946 0958", "442079460958" },
		{ "123456", "123456" },
		{ "123456789012345", "123456789012345" },
	};
	static const char *const bad[] = {
		"", "+", "12345", "1234567890123456", "138123412a4",
		"138\n12341234", "0123456", "+-", "138 1234 1234 ; drop",
		"１３８１２３４１２３４", "13812341234\xff",
		"1111111111111111111111111111111111111111111",
	};
	char out[LOYALTY_PHONE_MAX + 1];

	(void)state;
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		assert_int_equal(loyalty_phone_normalise(good[i].in, out), 0);
		assert_string_equal(out, good[i].out);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(loyalty_phone_normalise(bad[i], out),
		    SIGIL_EINVAL);
	assert_int_equal(loyalty_phone_normalise(NULL, out), SIGIL_EINVAL);
}

static void
test_phone_mask(void **state)
{
	char out[32];

	(void)state;
	loyalty_phone_mask("8613812341234", out, sizeof out);
	assert_string_equal(out, "138****1234");
	loyalty_phone_mask("442079460958", out, sizeof out);
	assert_string_equal(out, "+4420****0958");
	loyalty_phone_mask("123456", out, sizeof out);
	assert_string_equal(out, "+****56");
	/* Never more than 8 of the digits shown. */
	loyalty_phone_mask("123456789012345", out, sizeof out);
	assert_string_equal(out, "+1234****2345");
}

static void
test_seal(void **state)
{
	uint8_t key[32], other[32], ct[STORE_PHONE_CT_MAX], ct2[STORE_PHONE_CT_MAX];
	size_t n, n2;
	char text[32];

	(void)state;
	memset(key, 7, sizeof key);
	memset(other, 8, sizeof other);
	assert_int_equal(loyalty_seal(key, 3, "8613812341234", ct, sizeof ct,
	    &n), 0);
	assert_int_equal(n, 13 + 28);
	assert_null(memmem(ct, n, "8613812341234", 13));
	assert_int_equal(loyalty_open(key, 3, ct, n, text, sizeof text), 0);
	assert_string_equal(text, "8613812341234");
	/* Random nonce: the same phone seals differently each time. */
	assert_int_equal(loyalty_seal(key, 3, "8613812341234", ct2,
	    sizeof ct2, &n2), 0);
	assert_int_equal(n2, n);
	assert_memory_not_equal(ct, ct2, n);
	/* Another brand, another key, a flipped bit anywhere, truncation. */
	assert_int_equal(loyalty_open(key, 4, ct, n, text, sizeof text),
	    SIGIL_EFORGED);
	assert_int_equal(loyalty_open(other, 3, ct, n, text, sizeof text),
	    SIGIL_EFORGED);
	for (size_t i = 0; i < n; i++) {
		ct[i] ^= 0x01;
		assert_int_equal(loyalty_open(key, 3, ct, n, text,
		    sizeof text), SIGIL_EFORGED);
		ct[i] ^= 0x01;
	}
	for (size_t k = 0; k < n; k++)
		assert_int_equal(loyalty_open(key, 3, ct, k, text,
		    sizeof text), SIGIL_EFORGED);
	/* Output too small is refused, never overrun. */
	assert_int_equal(loyalty_open(key, 3, ct, n, text, 13), SIGIL_EFORGED);
	assert_int_equal(loyalty_seal(key, 3, "8613812341234", ct, 40, &n2),
	    SIGIL_EINVAL);
}

static const char *
check(const char *json, char **canon)
{
	static char err[200];
	char *out = NULL;
	int rc = loyalty_campaign_check(json, &out, err, sizeof err);

	if (rc == 0) {
		if (canon != NULL)
			*canon = out;
		else
			free(out);
		return NULL;
	}
	assert_int_equal(rc, SIGIL_EINVAL);
	assert_null(out);
	return err;
}

#define BASE	"\"name\":\"Spring\",\"starts\":\"2026-01-01\"," \
		"\"ends\":\"2026-12-31\",\"points\":10"

/* Issue 21: how a campaign stacks and its earning rules, checked strictly. */
static void
test_campaign_stacking(void **state)
{
	static const struct { const char *json, *why; } bad[] = {
		{ "{" BASE ",\"skus\":[\"A\"],\"mode\":\"both\"}", "'mode'" },
		{ "{" BASE ",\"skus\":[\"A\"],\"mode\":true}", "'mode'" },
		{ "{" BASE ",\"skus\":[\"A\"],\"priority\":1000001}",
		  "'priority'" },
		{ "{" BASE ",\"skus\":[\"A\"],\"priority\":0.5}",
		  "'priority'" },
		{ "{" BASE ",\"skus\":[\"A\"],\"audience\":-3}", "'audience'" },
		{ "{" BASE ",\"skus\":[\"A\"],\"first_scan_bonus\":-1}",
		  "'first_scan_bonus'" },
		{ "{" BASE ",\"skus\":[\"A\"],\"registration_bonus\":2e6}",
		  "'registration_bonus'" },
		{ "{" BASE ",\"skus\":[\"A\"],\"birthday_bonus\":null}",
		  "'birthday_bonus'" },
		{ "{" BASE ",\"skus\":[\"A\"],\"seller_rebate\":1000001}",
		  "'seller_rebate'" },
		{ "{" BASE ",\"skus\":[\"A\"],\"streak\":{\"claims\":1,"
		  "\"days\":7,\"points\":5}}", "'streak'" },
		{ "{" BASE ",\"skus\":[\"A\"],\"streak\":{\"claims\":3,"
		  "\"days\":367,\"points\":5}}", "'streak'" },
		{ "{" BASE ",\"skus\":[\"A\"],\"streak\":{\"claims\":3,"
		  "\"days\":7}}", "'streak'" },
		{ "{" BASE ",\"skus\":[\"A\"],\"streak\":[3,7,5]}", "'streak'" },
		{ "{" BASE ",\"skus\":[\"A\"],\"tier_multiplier\":"
		  "{\"Gold\":11}}", "factor" },
		{ "{" BASE ",\"skus\":[\"A\"],\"tier_multiplier\":"
		  "{\"Gold\":0.05}}", "factor" },
		{ "{" BASE ",\"skus\":[\"A\"],\"tier_multiplier\":"
		  "{\"a\":1,\"b\":1,\"c\":1,\"d\":1,\"e\":1,\"f\":1,"
		  "\"g\":1,\"h\":1,\"i\":1}}", "at most 8" },
		{ "{" BASE ",\"skus\":[\"A\"],\"tier_multiplier\":"
		  "{\"\\u0007\":2}}", "tier_multiplier" },
	};
	char *canon = NULL;
	const char *why;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		why = check(bad[i].json, NULL);
		if (why == NULL || strstr(why, bad[i].why) == NULL)
			fail_msg("case %zu (%s): got '%s'", i, bad[i].json,
			    why ? why : "(accepted)");
	}
	assert_null(check("{" BASE ",\"skus\":[\"A\"],\"priority\":-5,"
	    "\"mode\":\"stackable\",\"audience\":4,\"first_scan_bonus\":1,"
	    "\"registration_bonus\":1000000,\"birthday_bonus\":0,"
	    "\"seller_rebate\":3,\"streak\":{\"claims\":2,\"days\":366,"
	    "\"points\":1},\"tier_multiplier\":{\"金 Gold\":1.5,"
	    "\"Silver\":0.5}}", &canon));
	assert_non_null(strstr(canon, "\"mode\":\"stackable\""));
	assert_non_null(strstr(canon, "\"tier_multiplier\":{\"Silver\":0.5,"
	    "\"金 Gold\":1.5}"));
	free(canon);
	/* an old configuration: neither priority nor mode, still fine */
	assert_null(check("{" BASE ",\"skus\":[\"A\"]}", &canon));
	assert_null(strstr(canon, "mode"));
	free(canon);
}

static void
test_campaign_check(void **state)
{
	static const struct { const char *json, *why; } bad[] = {
		{ "[]", "object" },
		{ "{" BASE "}", "skus" },
		{ "{" BASE ",\"skus\":[]}", "skus" },
		{ "{" BASE ",\"skus\":[\"A\"],\"colour\":1}", "unknown" },
		{ "{" BASE ",\"skus\":[\"A\"],\"skus\":[\"B\"]}", "JSON" },
		{ "{\"name\":\"\",\"skus\":[\"A\"],\"starts\":\"2026-01-01\","
		  "\"ends\":\"2026-12-31\",\"points\":10}", "name" },
		{ "{\"name\":\"a\\u0007\",\"skus\":[\"A\"],\"starts\":"
		  "\"2026-01-01\",\"ends\":\"2026-12-31\",\"points\":10}",
		  "name" },
		{ "{\"name\":\"x\",\"skus\":[\"A\"],\"starts\":\"2026-02-30\","
		  "\"ends\":\"2026-12-31\",\"points\":10}", "ISO" },
		{ "{\"name\":\"x\",\"skus\":[\"A\"],\"starts\":\"2026-12-31\","
		  "\"ends\":\"2026-01-01\",\"points\":10}", "after" },
		{ "{\"name\":\"x\",\"skus\":[\"A\"],\"starts\":\"2026-01-01\","
		  "\"ends\":\"2026-12-31\",\"points\":0}", "points" },
		{ "{\"name\":\"x\",\"skus\":[\"A\"],\"starts\":\"2026-01-01\","
		  "\"ends\":\"2026-12-31\",\"points\":1000001}", "points" },
		{ "{\"name\":\"x\",\"skus\":[\"A\"],\"starts\":\"2026-01-01\","
		  "\"ends\":\"2026-12-31\",\"points\":1.5}", "points" },
		{ "{" BASE ",\"skus\":[\"A\"],\"roles\":{\"boss\":5}}", "roles" },
		{ "{" BASE ",\"skus\":[\"A\"],\"roles\":{}}", "roles" },
		{ "{" BASE ",\"skus\":[\"A\"],\"roles\":{\"sales\":-1}}",
		  "roles" },
		{ "{" BASE ",\"batches\":[0]}", "batch" },
		{ "{" BASE ",\"batches\":[\"1\"]}", "batch" },
		{ "{" BASE ",\"skus\":[\"A\"],\"budget\":-1}", "budget" },
		{ "{" BASE ",\"skus\":[\"A\"],\"daily_cap\":1e3}", "daily_cap" },
		{ "{" BASE ",\"skus\":[\"A\"],\"require_pin\":1}", "require_pin" },
		{ "{" BASE ",\"skus\":[\"A\"],\"territory\":0}", "territory" },
		{ "{" BASE ",\"skus\":[\"A\"],\"expiry_days\":4000}", "expiry" },
		{ "{" BASE ",\"skus\":[\"A\"],\"draw\":[{\"name\":\"a\","
		  "\"odds\":0.6,\"stock\":1},{\"name\":\"b\",\"odds\":0.5,"
		  "\"stock\":1}]}", "more than 1" },
		{ "{" BASE ",\"skus\":[\"A\"],\"draw\":[{\"name\":\"a\","
		  "\"odds\":-0.1,\"stock\":1}]}", "prize" },
		{ "{" BASE ",\"skus\":[\"A\"],\"draw\":[{\"name\":\"a\","
		  "\"odds\":0.1,\"stock\":1,\"x\":1}]}", "prize" },
		{ "{" BASE ",\"skus\":[\"A\"],\"draw\":[{\"name\":\"a\","
		  "\"odds\":0.1}]}", "prize" },
		{ "not json", "JSON" },
	};
	char *canon = NULL, big[STORE_CAMPAIGN_MAX];
	const char *why;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		why = check(bad[i].json, NULL);
		if (why == NULL || strstr(why, bad[i].why) == NULL)
			fail_msg("case %zu (%s): got '%s'", i, bad[i].json,
			    why ? why : "(accepted)");
	}
	assert_null(check("{" BASE ",\"skus\":[\"A\"],\"batches\":[3],"
	    "\"roles\":{\"consumer\":10,\"retailer\":5},\"budget\":100,"
	    "\"daily_cap\":3,\"require_pin\":true,\"territory\":2,"
	    "\"expiry_days\":365,\"paused\":false,\"draw\":[{\"name\":\"Cup\","
	    "\"odds\":0.5,\"stock\":10},{\"name\":\"Car\",\"odds\":0.5,"
	    "\"stock\":0}]}", &canon));
	/*
	 * Canonical: sorted keys, dates in the one long form; a bare date
	 * is a China day, so "ends": "2026-12-31" is 24:00 there (F28).
	 */
	assert_non_null(strstr(canon, "\"ends\":\"2026-12-31T16:00:00.000Z\""));
	assert_true(strstr(canon, "\"batches\"") < strstr(canon, "\"name\""));
	assert_null(check(canon, NULL));	/* a fixed point */
	free(canon);
	/* 101 SKUs, oversize text. */
	{
		size_t n = (size_t)snprintf(big, sizeof big, "{" BASE
		    ",\"skus\":[");

		for (int i = 0; i < 101; i++)
			n += (size_t)snprintf(big + n, sizeof big - n, "%s\"S%d\"",
			    i ? "," : "", i);
		snprintf(big + n, sizeof big - n, "]}");
		assert_non_null(check(big, NULL));
		memset(big, ' ', sizeof big - 1);
		big[sizeof big - 1] = '\0';
		big[0] = '{';
		assert_non_null(check(big, NULL));
	}
	assert_non_null(check(NULL, NULL));
}

static struct ledger_entry
earn(int64_t at, int64_t pts)
{
	struct ledger_entry e = { 0 };

	e.type = LEDGER_EARN;
	e.at = at;
	e.points = pts;
	return e;
}

static void
test_segment(void **state)
{
	int64_t now = 1000 * DAY;
	struct ledger_entry e[12];

	(void)state;
	assert_string_equal(loyalty_segment(NULL, 0, now - 5 * DAY, now),
	    "new");
	assert_string_equal(loyalty_segment(NULL, 0, now - 60 * DAY, now),
	    "hibernating");
	for (int i = 0; i < 12; i++)
		e[i] = earn(now - (40 - i) * DAY, 10);
	assert_string_equal(loyalty_segment(e, 12, 0, now), "champions");
	assert_string_equal(loyalty_segment(e, 4, 0, now), "loyal");
	e[0] = earn(now - 2 * DAY, 10);
	assert_string_equal(loyalty_segment(e, 1, 0, now), "new");
	e[0] = earn(now - 60 * DAY, 10);
	assert_string_equal(loyalty_segment(e, 1, 0, now), "promising");
	e[0] = earn(now - 150 * DAY, 10);
	e[1] = earn(now - 120 * DAY, 10);
	assert_string_equal(loyalty_segment(e, 2, 0, now), "at_risk");
	assert_string_equal(loyalty_segment(e, 1, 0, now), "hibernating");
	/* One big spender within 30 days is a champion by points. */
	e[0] = earn(now - 100 * DAY, 10);
	e[1] = earn(now - 3 * DAY, 2500);
	assert_string_equal(loyalty_segment(e, 2, 0, now), "champions");
	/* Points older than 12 months do not count. */
	e[0] = earn(now - 400 * DAY, 5000);
	e[1] = earn(now - 20 * DAY, 10);
	assert_string_equal(loyalty_segment(e, 2, 0, now), "promising");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_phone_normalise),
		cmocka_unit_test(test_phone_mask),
		cmocka_unit_test(test_seal),
		cmocka_unit_test(test_campaign_check),
		cmocka_unit_test(test_campaign_stacking),
		cmocka_unit_test(test_segment),
	};

	return cmocka_run_group_tests_name("loyalty", tests, NULL, NULL);
}
