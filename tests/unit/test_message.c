/*
 * test_message.c - lifecycle message definitions (message.c) and quiet
 * hours (message_plan.c): what a definition may say, derived from
 * docs/api.md's table field by field, its canonical JSON read back the
 * same, and when a message planned at a time may go.
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

#include "sigil/message.h"
#include "sigil/util.h"
#include "../../src/domain/message_impl.h"

#define MIN	(60 * 1000000LL)
#define HOUR	(60 * MIN)
/* 2026-12-07T14:00:00Z: 22:00 in China, 06:00 at -08:00. */
#define T22	(1796652000LL * 1000000)

static int
parse(const char *text, struct message_cfg *c, char **json)
{
	char err[300];
	json_t *j = json_loads(text, 0, NULL);
	int rc;

	assert_non_null(j);
	*json = NULL;
	rc = message_config_parse(NULL, 1, j, c, json, err, sizeof err);
	json_decref(j);
	return rc;
}

static void
test_good(void **state)
{
	struct message_cfg c, back;
	char *json;

	(void)state;
	assert_int_equal(parse("{\"name\": \"春节\", \"channel\": \"sms\", "
	    "\"text\": \"{name}您好 {brand} {points}\", \"schedule\": {\"at\": "
	    "\"2027-02-06T09:00:00+08:00\"}, \"cap\": {\"per_days\": 7, "
	    "\"max\": 1}, \"quiet_hours\": {\"from\": \"21:00\", \"to\": "
	    "\"09:00\"}}", &c, &json), 0);
	assert_int_equal(c.trigger, TRIG_NONE);
	assert_true(c.at == 1801875600LL * 1000000);
	assert_int_equal(c.cap_days, 7);
	assert_int_equal(c.cap_max, 1);
	assert_int_equal(c.quiet_from, 21 * 60);
	assert_int_equal(c.quiet_to, 9 * 60);
	assert_int_equal(c.zone_min, 8 * 60);
	assert_int_equal(c.active, 1);
	assert_int_equal(c.audience, 0);
	/* The canonical JSON reads back the same. */
	assert_int_equal(message_config_load(json, &back), 0);
	assert_memory_equal(&c, &back, sizeof c);
	free(json);

	assert_int_equal(parse("{\"name\": \"x\", \"channel\": \"auto\", "
	    "\"text\": \"{expiring}\", \"trigger\": {\"points_expiring\": 7}, "
	    "\"wechat\": {\"template_id\": \"T-1_a\"}, \"active\": false, "
	    "\"quiet_hours\": {\"from\": \"22:00\", \"to\": \"07:30\", "
	    "\"zone\": \"-08:00\"}}", &c, &json), 0);
	assert_int_equal(c.trigger, TRIG_POINTS_EXPIRING);
	assert_int_equal(c.days, 7);
	assert_string_equal(c.field, "thing1");
	assert_int_equal(c.active, 0);
	assert_int_equal(c.zone_min, -8 * 60);
	free(json);
}

static void
test_bad(void **state)
{
	static const char *const bad[] = {
		"[]",
		"{\"name\": \"x\", \"channel\": \"sms\", \"text\": \"t\"}",
		"{\"name\": \"x\", \"channel\": \"sms\", \"text\": \"{nick}\", "
		    "\"trigger\": {\"birthday\": true}}",
		"{\"name\": \"x\", \"channel\": \"sms\", \"text\": \"{name\", "
		    "\"trigger\": {\"birthday\": true}}",
		"{\"name\": \"x\", \"channel\": \"fax\", \"text\": \"t\", "
		    "\"trigger\": {\"birthday\": true}}",
		"{\"name\": \"x\", \"channel\": \"sms\", \"text\": \"t\", "
		    "\"trigger\": {\"birthday\": false}}",
		"{\"name\": \"x\", \"channel\": \"sms\", \"text\": \"t\", "
		    "\"trigger\": {\"no_scan\": 366}}",
		"{\"name\": \"x\", \"channel\": \"sms\", \"text\": \"t\", "
		    "\"trigger\": {\"no_scan\": 5, \"birthday\": true}}",
		"{\"name\": \"x\", \"channel\": \"sms\", \"text\": \"t\", "
		    "\"trigger\": {\"birthday\": true}, \"schedule\": {\"at\": "
		    "\"2027-01-01T00:00:00Z\"}}",
		"{\"name\": \"x\", \"channel\": \"sms\", \"text\": \"t\", "
		    "\"schedule\": {\"at\": \"2027-13-01T00:00:00Z\"}}",
		"{\"name\": \"x\", \"channel\": \"sms\", \"text\": \"t\", "
		    "\"trigger\": {\"birthday\": true}, \"cap\": {\"per_days\": "
		    "0, \"max\": 1}}",
		"{\"name\": \"x\", \"channel\": \"sms\", \"text\": \"t\", "
		    "\"trigger\": {\"birthday\": true}, \"quiet_hours\": {\"from\":"
		    " \"21:00\", \"to\": \"09:00\", \"zone\": \"+08:10\"}}",
		"{\"name\": \"x\", \"channel\": \"sms\", \"text\": \"t\", "
		    "\"trigger\": {\"birthday\": true}, \"quiet_hours\": {\"from\":"
		    " \"21:00\", \"to\": \"09:00\", \"zone\": \"+15:00\"}}",
		"{\"name\": \"x\", \"channel\": \"wechat_subscribe\", \"text\": "
		    "\"t\", \"trigger\": {\"birthday\": true}, \"wechat\": "
		    "{\"template_id\": \"a b\"}}",
		"{\"name\": \"x\", \"channel\": \"webhook\", \"text\": \"t\", "
		    "\"trigger\": {\"birthday\": true}}",
		"{\"name\": \"x\", \"channel\": \"sms\", \"text\": \"t\", "
		    "\"trigger\": {\"birthday\": true}, \"audience\": 1.5}",
	};
	struct message_cfg c;
	char *json;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(parse(bad[i], &c, &json), SIGIL_EINVAL);
		assert_null(json);
	}
}

static void
test_quiet(void **state)
{
	struct message_cfg c = { 0 };

	(void)state;
	/* No quiet hours: now. */
	assert_true(message_quiet_until(&c, T22, 480) == T22);
	c.quiet = 1;
	c.quiet_from = 21 * 60;
	c.quiet_to = 9 * 60;
	/* 22:00 in China: to 09:00 the next morning, 11 hours on. */
	assert_true(message_quiet_until(&c, T22, 480) == T22 + 11 * HOUR);
	/* 06:00 at -08:00: still inside (wraps midnight), to 09:00. */
	assert_true(message_quiet_until(&c, T22, -480) == T22 + 3 * HOUR);
	/* 14:00 in UTC: outside. */
	assert_true(message_quiet_until(&c, T22, 0) == T22);
	/* A window that does not wrap: 12:00-14:00, from 13:30 to 14:00. */
	c.quiet_from = 12 * 60;
	c.quiet_to = 14 * 60;
	assert_true(message_quiet_until(&c, T22 - 30 * MIN, 0) ==
	    T22);
	/* Its end itself is outside. */
	assert_true(message_quiet_until(&c, T22, 0) == T22);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_quiet),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
