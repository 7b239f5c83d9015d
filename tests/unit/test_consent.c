/*
 * test_consent.c - the consent ledger, notices and profiles in a real
 * store (store_consent.c), and the profile's checks (profile.c): notice
 * versions per brand; entries appended in order and the latest per
 * purpose deciding; a profile refused without a current profile grant,
 * deleted by the withdrawal and by an erasure, which keeps the ledger;
 * an export's resumable walk; each profile field's bounds.
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
#include "sigil/profile.h"
#include "sigil/store.h"
#include "sigil/util.h"

#define T0	(1767225600000000LL)	/* 2026-01-01T00:00:00Z */

struct fixture {
	char		 dir[64];
	struct store	*st;
	uint32_t	 brand, other;
	uint64_t	 a, b;		/* two customers of brand */
};

static uint64_t
customer(struct store *st, uint32_t brand, uint8_t tag)
{
	uint8_t h[32], ct[20];
	struct customer c;
	int created;

	memset(h, tag, sizeof h);
	memset(ct, tag, sizeof ct);
	assert_int_equal(store_customer_by_phone(st, brand, h, ct, sizeof ct,
	    &c, &created), 0);
	return c.id;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(storefix_open(f->dir, sizeof f->dir, "consent",
	    STORE_CREATE | STORE_NOSYNC, &f->st), 0);
	f->brand = add_brand(f->st, "acme");
	f->other = add_brand(f->st, "other");
	f->a = customer(f->st, f->brand, 1);
	f->b = customer(f->st, f->brand, 2);
	*state = f;
	return 0;
}

STOREFIX_TEARDOWN(struct fixture)

static void
record(struct fixture *f, uint64_t cust, unsigned grant, unsigned withdraw,
    int64_t at, int expect)
{
	struct consent_record r = { f->brand, cust, at, 1, grant, withdraw,
		CONSENT_CH_MEMBER, CONSENT_LANG_ZH, 0 };

	assert_int_equal(store_consent_record(f->st, &r), expect);
}

static int
latest(struct fixture *f, uint64_t cust, unsigned purpose)
{
	struct consent_entry e;
	int rc = store_consent_latest(f->st, f->brand, cust, purpose, &e);

	if (rc == SIGIL_ENOTFOUND)
		return 0;
	assert_int_equal(rc, 0);
	return e.action == CONSENT_GRANT ? 1 : -1;
}

static void
test_notices(void **state)
{
	struct fixture *f = *state;
	uint32_t v;
	int64_t at;
	char *json;

	assert_int_equal(store_notice_get(f->st, f->brand, 0, &v, &at, &json),
	    SIGIL_ENOTFOUND);
	assert_int_equal(store_notice_add(f->st, f->brand, T0,
	    "{\"zh-CN\":\"一\",\"en\":\"one\"}", &v), 0);
	assert_int_equal(v, 1);
	/* The settings row (version 0) is no notice and moves nothing. */
	assert_int_equal(store_privacy_settings_put(f->st, f->brand,
	    "{\"profile_fields\":[\"name\"]}"), 0);
	assert_int_equal(store_notice_add(f->st, f->brand, T0 + 1,
	    "{\"zh-CN\":\"二\",\"en\":\"two\"}", &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(store_notice_add(f->st, f->other, T0,
	    "{\"zh-CN\":\"x\",\"en\":\"x\"}", &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(store_notice_get(f->st, f->brand, 0, &v, &at, &json),
	    0);
	assert_int_equal(v, 2);
	assert_true(at == T0 + 1);
	assert_string_equal(json, "{\"zh-CN\":\"二\",\"en\":\"two\"}");
	free(json);
	assert_int_equal(store_notice_get(f->st, f->brand, 1, &v, &at, &json),
	    0);
	assert_string_equal(json, "{\"zh-CN\":\"一\",\"en\":\"one\"}");
	free(json);
	assert_int_equal(store_notice_add(f->st, f->brand, T0, "{not json",
	    &v), SIGIL_EINVAL);
	assert_int_equal(store_notice_add(f->st, 99, T0, "{}", &v),
	    SIGIL_ENOTFOUND);
	assert_int_equal(store_privacy_settings_get(f->st, f->brand, &json), 0);
	assert_string_equal(json, "{\"profile_fields\":[\"name\"]}");
	free(json);
	assert_int_equal(store_privacy_settings_get(f->st, f->other, &json), 0);
	assert_null(json);
}

static int
collect(void *arg, const struct consent_entry *e)
{
	struct consent_entry *v = arg;
	size_t i = 0;

	while (v[i].seq != 0)
		i++;
	v[i] = *e;
	return i + 1 == 3;	/* stops after three (a resumed walk's piece) */
}

static void
test_ledger(void **state)
{
	struct fixture *f = *state;
	struct consent_entry got[8];
	uint64_t last;

	assert_int_equal(latest(f, f->a, CONSENT_MARKETING), 0);
	record(f, f->a, CONSENT_SERVICE | CONSENT_MARKETING, 0, T0, 0);
	record(f, f->b, CONSENT_SERVICE, 0, T0 + 1, 0);
	assert_int_equal(latest(f, f->a, CONSENT_MARKETING), 1);
	record(f, f->a, 0, CONSENT_MARKETING, T0 + 2, 0);
	assert_int_equal(latest(f, f->a, CONSENT_MARKETING), -1);
	assert_int_equal(latest(f, f->a, CONSENT_SERVICE), 1);
	assert_int_equal(latest(f, f->b, CONSENT_MARKETING), 0);
	/* Refused: nothing, the same purpose both ways, an unknown bit. */
	record(f, f->a, 0, 0, T0, SIGIL_EINVAL);
	record(f, f->a, CONSENT_PROFILE, CONSENT_PROFILE, T0, SIGIL_EINVAL);
	record(f, f->a, 8, 0, T0, SIGIL_EINVAL);
	/* The brand's walk: customer a's three entries in order, then b's. */
	memset(got, 0, sizeof got);
	assert_int_equal(store_consent_each(f->st, f->brand, 0, collect, got),
	    1);
	assert_true(got[0].customer_id == f->a && got[0].purpose ==
	    CONSENT_SERVICE && got[0].action == CONSENT_GRANT);
	assert_true(got[1].purpose == CONSENT_MARKETING && got[1].action ==
	    CONSENT_GRANT && got[1].seq > got[0].seq);
	assert_true(got[2].purpose == CONSENT_MARKETING && got[2].action ==
	    CONSENT_WITHDRAW && got[2].at == T0 + 2 &&
	    got[2].channel == CONSENT_CH_MEMBER && got[2].lang ==
	    CONSENT_LANG_ZH && got[2].notice_version == 1);
	/* ... resumed after the third: b's entry. */
	last = got[2].seq;
	memset(got, 0, sizeof got);
	assert_int_equal(store_consent_from(f->st, f->brand, f->a, last + 1,
	    collect, got), 0);
	assert_true(got[0].customer_id == f->b && got[1].seq == 0);
	memset(got, 0, sizeof got);
	assert_int_equal(store_consent_each(f->st, f->other, 0, collect, got),
	    0);
	assert_true(got[0].seq == 0);
}

static void
test_profile_store(void **state)
{
	struct fixture *f = *state;
	const uint8_t sealed[40] = { 1, 2, 3 };
	uint8_t buf[PROFILE_SEALED_MAX], marked[64];
	size_t len;

	assert_int_equal(store_profile_put(f->st, f->brand, f->a, sealed,
	    sizeof sealed), SIGIL_EDENIED);
	assert_int_equal(store_profile_get(f->st, f->brand, f->a, buf,
	    sizeof buf, &len), SIGIL_ENOTFOUND);
	record(f, f->a, CONSENT_SERVICE | CONSENT_PROFILE, 0, T0, 0);
	assert_int_equal(store_profile_put(f->st, f->brand, f->a, sealed,
	    sizeof sealed), 0);
	assert_int_equal(store_profile_get(f->st, f->brand, f->a, buf,
	    sizeof buf, &len), 0);
	assert_true(len == sizeof sealed && memcmp(buf, sealed, len) == 0);
	/* Another brand's same customer id holds nothing. */
	assert_int_equal(store_profile_get(f->st, f->other, f->a, buf,
	    sizeof buf, &len), SIGIL_ENOTFOUND);
	/* The withdrawal deletes it, and a put is refused again. */
	record(f, f->a, 0, CONSENT_PROFILE, T0 + 1, 0);
	assert_int_equal(store_profile_get(f->st, f->brand, f->a, buf,
	    sizeof buf, &len), SIGIL_ENOTFOUND);
	assert_int_equal(store_profile_put(f->st, f->brand, f->a, sealed,
	    sizeof sealed), SIGIL_EDENIED);
	/* Granted again, stored; then the erasure takes it, not the ledger. */
	record(f, f->a, CONSENT_PROFILE, 0, T0 + 2, 0);
	memset(marked, 0x5a, sizeof marked);
	memcpy(marked, "SIGIL-PROFILE-BYTES", 19);
	assert_int_equal(store_profile_put(f->st, f->brand, f->a, marked,
	    sizeof marked), 0);
	assert_int_equal(store_customer_erase(f->st, f->brand, f->a, T0 + 3),
	    0);
	assert_int_equal(store_profile_get(f->st, f->brand, f->a, buf,
	    sizeof buf, &len), SIGIL_ENOTFOUND);
	/* After the scrub the sealed bytes are in no byte of data.mdb. */
	{
		struct store_scrub_stats ss;
		char path[128];
		FILE *fp;
		uint8_t *file = malloc(1 << 24);
		size_t got;

		assert_non_null(file);
		assert_int_equal(store_scrub(f->st, &ss), 0);
		snprintf(path, sizeof path, "%s/data.mdb", f->dir);
		assert_non_null(fp = fopen(path, "rb"));
		got = fread(file, 1, 1 << 24, fp);
		fclose(fp);
		assert_true(got > 0);
		assert_null(memmem(file, got, marked, sizeof marked));
		free(file);
	}
	assert_int_equal(latest(f, f->a, CONSENT_PROFILE), 1);
	assert_int_equal(latest(f, f->a, CONSENT_SERVICE), 1);
}

static void
expect_profile(const char *body, unsigned enabled, int rc, const char *out)
{
	json_t *b = json_loads(body, 0, NULL), *p = NULL;
	char msg[256], *text;

	assert_non_null(b);
	assert_int_equal(profile_parse(b, enabled, &p, msg, sizeof msg), rc);
	if (rc == 0) {
		text = json_dumps(p, JSON_COMPACT | JSON_SORT_KEYS);
		assert_string_equal(text, out);
		free(text);
	} else
		assert_true(strlen(msg) > 10);
	json_decref(p);
	json_decref(b);
}

static void
test_profile_parse(void **state)
{
	(void)state;
	expect_profile("{\"name\":\"王五\",\"gender\":\"female\","
	    "\"birthday\":\"2000-02-29\",\"city\":\"杭州\",\"tags\":[\"茶\"]}",
	    PF_ALL, 0, "{\"birthday\":\"2000-02-29\",\"city\":\"杭州\","
	    "\"gender\":\"female\",\"name\":\"王五\",\"tags\":[\"茶\"]}");
	expect_profile("{\"name\":null,\"tags\":[]}", PF_ALL, 0, "{}");
	expect_profile("{\"store\":\"西湖店\"}", PF_NAME, SIGIL_EDENIED, NULL);
	expect_profile("{\"nick\":\"x\"}", PF_ALL, SIGIL_EINVAL, NULL);
	expect_profile("{\"gender\":\"F\"}", PF_ALL, SIGIL_EINVAL, NULL);
	expect_profile("{\"birthday\":\"1900-02-29\"}", PF_ALL, SIGIL_EINVAL,
	    NULL);
	expect_profile("{\"birthday\":\"1999-13-01\"}", PF_ALL, SIGIL_EINVAL,
	    NULL);
	expect_profile("{\"birthday\":\"1999-1-01x\"}", PF_ALL, SIGIL_EINVAL,
	    NULL);
	expect_profile("{\"birthday\":\"1899-12-31\"}", PF_ALL, SIGIL_EINVAL,
	    NULL);
	expect_profile("{\"name\":\"\"}", PF_ALL, SIGIL_EINVAL, NULL);
	expect_profile("{\"name\":\"a\\u202eb\"}", PF_ALL, SIGIL_EINVAL, NULL);
	expect_profile("{\"city\":5}", PF_ALL, SIGIL_EINVAL, NULL);
	expect_profile("{\"tags\":[\"a\",\"a\"]}", PF_ALL, SIGIL_EINVAL, NULL);
	expect_profile("{\"tags\":\"a\"}", PF_ALL, SIGIL_EINVAL, NULL);
	expect_profile("{\"tags\":[\"123456789012345678901\"]}", PF_ALL,
	    SIGIL_EINVAL, NULL);
	expect_profile("[1]", PF_ALL, SIGIL_EINVAL, NULL);
}

static void
test_names(void **state)
{
	unsigned bits;
	json_t *a;

	(void)state;
	assert_int_equal(consent_purpose_parse("marketing"), CONSENT_MARKETING);
	assert_int_equal(consent_purpose_parse("Marketing"), 0);
	assert_string_equal(consent_purpose_name(CONSENT_PROFILE), "profile");
	assert_int_equal(consent_channel_parse("miniprogram"),
	    CONSENT_CH_MINIPROGRAM);
	assert_int_equal(consent_channel_parse("fax"), 0);
	assert_int_equal(consent_lang_parse("zh-Hans-CN"), CONSENT_LANG_ZH);
	assert_int_equal(consent_lang_parse("en-GB"), CONSENT_LANG_EN);
	assert_int_equal(consent_lang_parse("enx"), 0);
	a = json_loads("[\"service\",\"profile\"]", 0, NULL);
	assert_int_equal(consent_purposes_parse(a, &bits), 0);
	assert_int_equal(bits, CONSENT_SERVICE | CONSENT_PROFILE);
	json_decref(a);
	a = json_loads("[\"service\",\"service\"]", 0, NULL);
	assert_int_equal(consent_purposes_parse(a, &bits), SIGIL_EINVAL);
	json_decref(a);
	a = json_loads("{\"x\":1}", 0, NULL);
	assert_int_equal(consent_purposes_parse(a, &bits), SIGIL_EINVAL);
	json_decref(a);
	assert_int_equal(consent_purposes_parse(NULL, &bits), 0);
	assert_int_equal(bits, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_notices, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ledger, setup, teardown),
		cmocka_unit_test_setup_teardown(test_profile_store, setup,
		    teardown),
		cmocka_unit_test(test_profile_parse),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
