/*
 * test_epcis_query.c - the EPCIS 2.0 REST binding's parameters as
 * epcis_query.c reads them: RFC 3339 times (offsets, fractions, the '+'
 * a query string turns into a space, impossible dates), EQ_bizStep in
 * its three spellings and pipe lists, eventType, and the paging token
 * (round trip, every single-bit change refused, bound to its query and
 * its installation).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sigil/epcis_query.h"
#include "sigil/util.h"

#define B(t)	EPCIS_TYPE_BIT(t)

static void
test_time(void **state)
{
	static const struct {
		const char	*s;
		int64_t		 us;
	} good[] = {
		{ "1970-01-01T00:00:00Z", 0 },
		{ "2026-11-23T08:01:02.345Z", INT64_C(1795420862345000) },
		{ "2026-11-23T16:01:02.345+08:00", INT64_C(1795420862345000) },
		{ "2026-11-23T16:01:02.345 08:00", INT64_C(1795420862345000) },
		{ "2026-11-23T03:01:02.345-05:00", INT64_C(1795420862345000) },
		{ "2026-11-23t08:01:02.345z", INT64_C(1795420862345000) },
		{ "2026-11-23T08:01:02.3456789Z", INT64_C(1795420862345678) },
		{ "2026-11-23T08:01:02.3Z", INT64_C(1795420862300000) },
		{ "2024-02-29T00:00:00Z", INT64_C(1709164800000000) },
		{ "2000-02-29T00:00:00Z", INT64_C(951782400000000) },
		{ "1969-12-31T23:59:59Z", -1000000 },
	};
	static const char *const bad[] = {
		"", "2026-11-23", "2026-11-23T08:01:02", "2026-11-23T08:01Z",
		"2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z",
		"1900-02-29T00:00:00Z", "2026-04-31T00:00:00Z",
		"2026-11-23T24:00:00Z", "2026-11-23T08:60:00Z",
		"2026-11-23T08:00:61Z", "2026-11-23T08:00:00.Z",
		"2026-11-23T08:00:00.1234567890Z", "2026-11-23T08:00:00+0800",
		"2026-11-23T08:00:00+24:00", "2026-11-23T08:00:00+08:60",
		"2026-11-23T08:00:00UTC", "2026-11-23 08:00:00Z",
		"2026-11-23T08:00:00Zjunk", "+2026-11-23T08:00:00Z",
		"2026-11-23T08:00:00+08:00:00",
	};
	int64_t t;

	(void)state;
	for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
		t = 42;
		assert_int_equal(epcis_time_parse(good[i].s, &t), 0);
		assert_int_equal(t, good[i].us);
	}
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		t = 42;
		assert_int_equal(epcis_time_parse(bad[i], &t), SIGIL_EINVAL);
		assert_int_equal(t, 42);
	}
	assert_int_equal(epcis_time_parse(NULL, &t), SIGIL_EINVAL);
}

static void
test_biz_steps(void **state)
{
	unsigned m = 99;

	(void)state;
	assert_int_equal(epcis_biz_steps("shipping", &m), 0);
	assert_int_equal(m, B(EVENT_SHIP));
	assert_int_equal(epcis_biz_steps(
	    "https://ref.gs1.org/cbv/BizStep-receiving", &m), 0);
	assert_int_equal(m, B(EVENT_RECEIVE));
	assert_int_equal(epcis_biz_steps("urn:epcglobal:cbv:bizstep:packing",
	    &m), 0);
	assert_int_equal(m, B(EVENT_AGGREGATE));
	assert_int_equal(epcis_biz_steps("commissioning|inspecting|"
	    "decommissioning|unpacking", &m), 0);
	assert_int_equal(m, B(EVENT_COMMISSION) | B(EVENT_SCAN) |
	    B(EVENT_DECOMMISSION) | B(EVENT_DISAGGREGATE));
	/* Real CBV steps sigil never uses, and private URIs: no events. */
	assert_int_equal(epcis_biz_steps("retail_selling|void_shipping", &m),
	    0);
	assert_int_equal(m, 0);
	assert_int_equal(epcis_biz_steps("https://example.com/steps/blend",
	    &m), 0);
	assert_int_equal(m, 0);
	m = 99;
	assert_int_equal(epcis_biz_steps("dancing", &m), SIGIL_EINVAL);
	assert_int_equal(epcis_biz_steps("Shipping", &m), SIGIL_EINVAL);
	assert_int_equal(epcis_biz_steps(
	    "https://ref.gs1.org/cbv/BizStep-dancing", &m), SIGIL_EINVAL);
	assert_int_equal(epcis_biz_steps("urn:epcglobal:cbv:bizstep:", &m),
	    SIGIL_EINVAL);
	assert_int_equal(epcis_biz_steps("shipping|", &m), SIGIL_EINVAL);
	assert_int_equal(epcis_biz_steps("|shipping", &m), SIGIL_EINVAL);
	assert_int_equal(epcis_biz_steps("", &m), SIGIL_EINVAL);
	assert_int_equal(epcis_biz_steps("ship ping", &m), SIGIL_EINVAL);
	assert_int_equal(epcis_biz_steps("https://a.example/x y", &m),
	    SIGIL_EINVAL);
	assert_int_equal(epcis_biz_steps(NULL, &m), SIGIL_EINVAL);
	assert_int_equal(m, 99);
}

static void
test_event_types(void **state)
{
	unsigned m = 99;

	(void)state;
	assert_int_equal(epcis_event_types("AggregationEvent", &m), 0);
	assert_int_equal(m, B(EVENT_AGGREGATE) | B(EVENT_DISAGGREGATE));
	assert_int_equal(epcis_event_types("ObjectEvent|AggregationEvent", &m),
	    0);
	assert_int_equal(m, EPCIS_TYPES_ALL);
	assert_int_equal(epcis_event_types("TransactionEvent|"
	    "TransformationEvent|AssociationEvent|https://x.example/E", &m),
	    0);
	assert_int_equal(m, 0);
	m = 99;
	assert_int_equal(epcis_event_types("objectEvent", &m), SIGIL_EINVAL);
	assert_int_equal(epcis_event_types("ObjectEvent||", &m), SIGIL_EINVAL);
	assert_int_equal(epcis_event_types("Scan", &m), SIGIL_EINVAL);
	assert_int_equal(m, 99);
}

static void
test_actions_dispositions(void **state)
{
	unsigned m = 99;

	(void)state;
	assert_int_equal(epcis_actions("ADD", &m), 0);
	assert_int_equal(m, B(EVENT_COMMISSION) | B(EVENT_AGGREGATE));
	assert_int_equal(epcis_actions("OBSERVE|DELETE", &m), 0);
	assert_int_equal(m, B(EVENT_SHIP) | B(EVENT_RECEIVE) | B(EVENT_SCAN) |
	    B(EVENT_DISAGGREGATE) | B(EVENT_DECOMMISSION));
	m = 99;
	/* The binding: anything else SHALL raise QueryParameterException. */
	assert_int_equal(epcis_actions("add", &m), SIGIL_EINVAL);
	assert_int_equal(epcis_actions("ADD|", &m), SIGIL_EINVAL);
	assert_int_equal(epcis_actions("https://x.example/ADD", &m),
	    SIGIL_EINVAL);
	assert_int_equal(m, 99);
	assert_int_equal(epcis_dispositions("in_transit", &m), 0);
	assert_int_equal(m, B(EVENT_SHIP));
	assert_int_equal(epcis_dispositions(
	    "https://ref.gs1.org/cbv/Disp-inactive|urn:epcglobal:cbv:disp:active",
	    &m), 0);
	assert_int_equal(m, B(EVENT_DECOMMISSION) | B(EVENT_COMMISSION) |
	    B(EVENT_SCAN));
	assert_int_equal(epcis_dispositions("in_progress", &m), 0);
	assert_int_equal(m, B(EVENT_AGGREGATE) | B(EVENT_DISAGGREGATE) |
	    B(EVENT_RECEIVE));
	assert_int_equal(epcis_dispositions("recalled|https://x.example/d",
	    &m), 0);
	assert_int_equal(m, 0);
	m = 99;
	assert_int_equal(epcis_dispositions("sold", &m), SIGIL_EINVAL);
	assert_int_equal(epcis_dispositions(
	    "https://ref.gs1.org/cbv/Disp-sold", &m), SIGIL_EINVAL);
	assert_int_equal(epcis_dispositions("urn:epcglobal:cbv:disp:", &m),
	    SIGIL_EINVAL);
	assert_int_equal(m, 99);
}

static void
test_token(void **state)
{
	static const uint8_t inst[STORE_INSTALL_ID_LEN] = { 1, 2, 3 };
	static const uint8_t inst2[STORE_INSTALL_ID_LEN] = { 1, 2, 4 };
	uint8_t key[EPCIS_TOKEN_KEY_LEN], key2[EPCIS_TOKEN_KEY_LEN];
	struct epcis_cursor c = { 12345, UINT64_C(1) << 40 }, out;
	char tok[EPCIS_TOKEN_LEN + 1], t2[EPCIS_TOKEN_LEN + 1];
	static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmno"
	    "pqrstuvwxyz0123456789-_";

	(void)state;
	epcis_token_key(inst, key);
	epcis_token_key(inst2, key2);
	assert_memory_not_equal(key, key2, sizeof key);
	epcis_token_make(key, "q1", &c, tok);
	assert_int_equal(strlen(tok), EPCIS_TOKEN_LEN);
	assert_int_equal(strspn(tok, alpha), EPCIS_TOKEN_LEN);
	memset(&out, 0, sizeof out);
	assert_int_equal(epcis_token_read(key, "q1", tok, &out), 0);
	assert_true(out.last_event == c.last_event &&
	    out.last_scan == c.last_scan);
	/* Another query, another installation: refused. */
	assert_int_equal(epcis_token_read(key, "q2", tok, &out), SIGIL_EINVAL);
	assert_int_equal(epcis_token_read(key2, "q1", tok, &out),
	    SIGIL_EINVAL);
	/* Every character changed to every other: refused. */
	for (size_t i = 0; i < EPCIS_TOKEN_LEN; i++)
		for (size_t j = 0; j < sizeof alpha - 1; j++) {
			if (alpha[j] == tok[i])
				continue;
			memcpy(t2, tok, sizeof t2);
			t2[i] = alpha[j];
			assert_int_equal(epcis_token_read(key, "q1", t2, &out),
			    SIGIL_EINVAL);
		}
	memcpy(t2, tok, sizeof t2);
	t2[EPCIS_TOKEN_LEN - 1] = '\0';
	assert_int_equal(epcis_token_read(key, "q1", t2, &out), SIGIL_EINVAL);
	assert_int_equal(epcis_token_read(key, "q1", "", &out), SIGIL_EINVAL);
	assert_int_equal(epcis_token_read(key, "q1", NULL, &out),
	    SIGIL_EINVAL);
	t2[EPCIS_TOKEN_LEN - 1] = '=';
	assert_int_equal(epcis_token_read(key, "q1", t2, &out), SIGIL_EINVAL);
	/* The same cursor and query give the same token (stable links). */
	epcis_token_make(key, "q1", &c, t2);
	assert_string_equal(tok, t2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_biz_steps),
		cmocka_unit_test(test_event_types),
		cmocka_unit_test(test_actions_dispositions),
		cmocka_unit_test(test_token),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
