/*
 * test_redirect.c - redirect rules' pure logic (src/domain/redirect.c):
 * which conditions hold for a scan (each alone, all together, the region
 * callback called only when the rest hold), the Accept-Language pick,
 * BCP 47 well-formedness and basic filtering (RFC 5646 §2.1, RFC 4647
 * §3.3.1), the WeChat token, hrefs (http/https only, no user info, no
 * control characters, at most 2000 bytes), RFC 3339 times with offsets,
 * and the Location a redirect sends (the query passed on without s and
 * linkType).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sigil/redirect.h"
#include "sigil/store.h"
#include "sigil/util.h"

#define T0	1796083200000000LL	/* 2026-12-01T00:00:00Z */
#define HOUR	3600000000LL

struct region_probe {
	uint32_t	inside;		/* the one distributor the device is in */
	int		calls;
};

static int
region_probe(void *arg, uint32_t distributor)
{
	struct region_probe *p = arg;

	p->calls++;
	return distributor == p->inside;
}

static struct redirect_in
scan_in(const char *lang, int wechat, int64_t now)
{
	struct redirect_in in;

	memset(&in, 0, sizeof in);
	snprintf(in.lang, sizeof in.lang, "%s", lang);
	in.in_wechat = wechat;
	in.now = now;
	in.device = 42;
	return in;
}

static void
test_holds_each_condition(void **state)
{
	struct redirect_rule r;
	struct redirect_in in = scan_in("en-us", 1, T0);
	struct region_probe p = { 3, 0 };

	(void)state;
	memset(&r, 0, sizeof r);
	assert_true(redirect_holds(&r, &in, region_probe, &p));
	assert_int_equal(p.calls, 0);

	r.when = REDIRECT_WHEN_LANG;
	r.nlang = 2;
	strcpy(r.lang[0], "fr");
	strcpy(r.lang[1], "en");
	assert_true(redirect_holds(&r, &in, NULL, NULL));
	strcpy(r.lang[1], "de");
	assert_false(redirect_holds(&r, &in, NULL, NULL));
	in.lang[0] = '\0';
	strcpy(r.lang[1], "en");
	assert_false(redirect_holds(&r, &in, NULL, NULL));	/* unknown */

	memset(&r, 0, sizeof r);
	in = scan_in("", 1, T0);
	r.when = REDIRECT_WHEN_WECHAT;
	r.wechat = 1;
	assert_true(redirect_holds(&r, &in, NULL, NULL));
	r.wechat = 0;
	assert_false(redirect_holds(&r, &in, NULL, NULL));
	in.in_wechat = 0;
	assert_true(redirect_holds(&r, &in, NULL, NULL));

	/* from <= now < until, either alone */
	memset(&r, 0, sizeof r);
	r.when = REDIRECT_WHEN_FROM | REDIRECT_WHEN_UNTIL;
	r.from = T0;
	r.until = T0 + HOUR;
	in.now = T0;
	assert_true(redirect_holds(&r, &in, NULL, NULL));
	in.now = T0 - 1;
	assert_false(redirect_holds(&r, &in, NULL, NULL));
	in.now = T0 + HOUR - 1;
	assert_true(redirect_holds(&r, &in, NULL, NULL));
	in.now = T0 + HOUR;
	assert_false(redirect_holds(&r, &in, NULL, NULL));
	r.when = REDIRECT_WHEN_UNTIL;
	in.now = 0;
	assert_true(redirect_holds(&r, &in, NULL, NULL));
	r.when = REDIRECT_WHEN_FROM;
	in.now = INT64_MAX;
	assert_true(redirect_holds(&r, &in, NULL, NULL));

	/* region: any of the distributors; no callback, no region */
	memset(&r, 0, sizeof r);
	r.when = REDIRECT_WHEN_REGION;
	r.nregion = 2;
	r.region[0] = 1;
	r.region[1] = 3;
	p.calls = 0;
	assert_true(redirect_holds(&r, &in, region_probe, &p));
	assert_int_equal(p.calls, 2);
	p.inside = 7;
	assert_false(redirect_holds(&r, &in, region_probe, &p));
	assert_false(redirect_holds(&r, &in, NULL, NULL));
}

static void
test_holds_all_and_region_last(void **state)
{
	struct redirect_rule r;
	struct redirect_in in = scan_in("zh-cn", 1, T0);
	struct region_probe p = { 5, 0 };

	(void)state;
	memset(&r, 0, sizeof r);
	r.when = REDIRECT_WHEN_LANG | REDIRECT_WHEN_WECHAT |
	    REDIRECT_WHEN_FROM | REDIRECT_WHEN_UNTIL | REDIRECT_WHEN_REGION;
	r.nlang = 1;
	strcpy(r.lang[0], "zh");
	r.wechat = 1;
	r.from = T0 - HOUR;
	r.until = T0 + HOUR;
	r.nregion = 1;
	r.region[0] = 5;
	assert_true(redirect_holds(&r, &in, region_probe, &p));
	assert_int_equal(p.calls, 1);
	/* any other condition failing: the region is never asked */
	p.calls = 0;
	in.in_wechat = 0;
	assert_false(redirect_holds(&r, &in, region_probe, &p));
	in.in_wechat = 1;
	in.now = T0 + HOUR;
	assert_false(redirect_holds(&r, &in, region_probe, &p));
	in.now = T0;
	strcpy(in.lang, "en");
	assert_false(redirect_holds(&r, &in, region_probe, &p));
	assert_int_equal(p.calls, 0);
	strcpy(in.lang, "zh-hant-tw");
	p.inside = 6;
	assert_false(redirect_holds(&r, &in, region_probe, &p));
	assert_int_equal(p.calls, 1);
}

static void
test_lang_pick(void **state)
{
	char out[REDIRECT_TAG_MAX + 1];

	(void)state;
	assert_int_equal(redirect_lang_pick("en-US,en;q=0.9", out, sizeof out),
	    0);
	assert_string_equal(out, "en-us");
	assert_int_equal(redirect_lang_pick("fr;q=0.5, en;q=0.9, *;q=1", out,
	    sizeof out), 0);
	assert_string_equal(out, "en");
	assert_int_equal(redirect_lang_pick("zh-CN, en", out, sizeof out), 0);
	assert_string_equal(out, "zh-cn");		/* first of equals */
	assert_int_equal(redirect_lang_pick(" de ; q=0.3 ,it;q=0.300", out,
	    sizeof out), 0);
	assert_string_equal(out, "de");
	assert_int_equal(redirect_lang_pick("ja;q=0, ko;q=0.001", out,
	    sizeof out), 0);
	assert_string_equal(out, "ko");
	assert_int_equal(redirect_lang_pick("en;q=1.0", out, sizeof out), 0);
	assert_int_equal(redirect_lang_pick(NULL, out, sizeof out),
	    SIGIL_ENOTFOUND);
	assert_int_equal(redirect_lang_pick("", out, sizeof out),
	    SIGIL_ENOTFOUND);
	assert_int_equal(redirect_lang_pick("*", out, sizeof out),
	    SIGIL_ENOTFOUND);
	assert_int_equal(redirect_lang_pick("en;q=0", out, sizeof out),
	    SIGIL_ENOTFOUND);
	assert_int_equal(redirect_lang_pick("en;q=2", out, sizeof out),
	    SIGIL_ENOTFOUND);
	assert_int_equal(redirect_lang_pick("e n, <script>", out, sizeof out),
	    SIGIL_ENOTFOUND);
	assert_int_equal(redirect_lang_pick("-en, en--us", out, sizeof out),
	    SIGIL_ENOTFOUND);
}

static void
test_lang_tag(void **state)
{
	static const char *good[][2] = {
		{ "en", "en" }, { "EN", "en" }, { "zh-cn", "zh-CN" },
		{ "zh-hant-tw", "zh-Hant-TW" }, { "sr-Latn-RS", "sr-Latn-RS" },
		{ "es-419", "es-419" }, { "de-CH-1901", "de-CH-1901" },
		{ "zh-yue-HK", "zh-yue-HK" }, { "x-whatever", "x-whatever" },
		{ "en-US-x-twain", "en-US-x-twain" }, { "haw", "haw" },
		{ "en-a-bbb-x-a-ccc", "en-a-bbb-x-a-ccc" },
		{ "sl-rozaj-biske", "sl-rozaj-biske" },
	};
	static const char *bad[] = {
		"", "e", "en-", "-en", "en--us", "english!", "en_US",
		"123", "en-a", "en-x", "x", "en-US-a-b", "toolongtag",
		"zh-\xe4\xb8\xad", "en US", "abcdefghi",
		"en-abcdefghijklmnopqrstuvwxyz0123456789",
	};
	char out[REDIRECT_TAG_MAX + 1];

	(void)state;
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		assert_int_equal(redirect_lang_tag(good[i][0], out, sizeof out),
		    0);
		assert_string_equal(out, good[i][1]);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(redirect_lang_tag(bad[i], out, sizeof out),
		    SIGIL_EINVAL);
	assert_int_equal(redirect_lang_tag("en", out, 2), SIGIL_EINVAL);

	assert_true(redirect_lang_matches("zh", "zh-cn"));
	assert_true(redirect_lang_matches("zh-CN", "zh-cn"));
	assert_true(redirect_lang_matches("en", "en"));
	assert_false(redirect_lang_matches("zh-CN", "zh"));
	assert_false(redirect_lang_matches("zh-CN", "zh-hans-cn"));
	assert_false(redirect_lang_matches("e", "en"));
	assert_false(redirect_lang_matches("en", "eng"));
	assert_false(redirect_lang_matches("", "en"));
}

static void
test_wechat(void **state)
{
	(void)state;
	assert_true(redirect_ua_wechat("Mozilla/5.0 (iPhone) Mobile/15E148 "
	    "MicroMessenger/8.0.40(0x18002831) NetType/WIFI Language/zh_CN"));
	assert_true(redirect_ua_wechat("Mozilla/5.0 (Linux; Android 13) "
	    "micromessenger/8.0.38"));
	assert_false(redirect_ua_wechat("Mozilla/5.0 (iPhone) Version/17.0 "
	    "Mobile/15E148 Safari/604.1"));
	assert_false(redirect_ua_wechat(NULL));
	assert_false(redirect_ua_wechat(""));
}

static void
test_href(void **state)
{
	static const char *bad[] = {
		"", "javascript:alert(1)", "JAVASCRIPT:alert(1)",
		"data:text/html,x", "ftp://a.example/", "/relative", "//a.example/",
		"a.example/x", "https://", "https:///x", "https://user:pw@a.example/",
		"https://a.example@b.example/", "https://a.example/\x01",
		"https://a.example/a b", "https://a.example/\x7f",
		"https://a.example/\xc3\xa9", "https://a.example\\@b.example/",
		"https://a.example/%zz", "https://a.example/%4", "https://-a.example/",
		"https://a.example:0/", "https://a.example:65536/",
		"https://a.example:/", "https://a.example/<x>", "https://a.example/\"",
		"https://a.example/{x}", "https://[zz::1]/", "https://a_b.example/",
		"http:/a.example", "mailto:a@b.example", "tel:+8610",
	};
	static const char *good[][2] = {
		{ "https://brand.example/cny", "https://brand.example/cny" },
		{ "HTTPS://Brand.EXAMPLE/CNY?a=B#Top",
		    "https://brand.example/CNY?a=B#Top" },
		{ "http://brand.example", "http://brand.example" },
		{ "https://brand.example:8443/p?q=%E4%B8%AD&x=1",
		    "https://brand.example:8443/p?q=%E4%B8%AD&x=1" },
		{ "https://[2001:db8::1]/x", "https://[2001:db8::1]/x" },
		{ "https://a.example/p?next=https://b.example/@x",
		    "https://a.example/p?next=https://b.example/@x" },
		{ "https://a.example?x=1", "https://a.example?x=1" },
	};
	char out[REDIRECT_HREF_MAX + 1], big[REDIRECT_HREF_MAX + 2];
	const char *why;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		why = NULL;
		if (redirect_href_check(bad[i], out, sizeof out, &why) !=
		    SIGIL_EINVAL)
			fail_msg("accepted: %s", bad[i]);
		assert_non_null(why);
	}
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		assert_int_equal(redirect_href_check(good[i][0], out, sizeof out,
		    &why), 0);
		assert_string_equal(out, good[i][1]);
	}
	/* 2000 bytes pass, 2001 do not */
	strcpy(big, "https://a.example/");
	memset(big + 18, 'a', REDIRECT_HREF_MAX - 18);
	big[REDIRECT_HREF_MAX] = '\0';
	assert_int_equal(redirect_href_check(big, out, sizeof out, &why), 0);
	big[REDIRECT_HREF_MAX] = 'a';
	big[REDIRECT_HREF_MAX + 1] = '\0';
	assert_int_equal(redirect_href_check(big, out, sizeof out, &why),
	    SIGIL_EINVAL);
}

static void
test_time(void **state)
{
	int64_t t;

	(void)state;
	assert_int_equal(redirect_time_parse("2026-12-01T00:00:00Z", &t), 0);
	assert_int_equal(t, T0);
	assert_int_equal(redirect_time_parse("2026-12-01T08:00:00+08:00", &t),
	    0);
	assert_int_equal(t, T0);
	assert_int_equal(redirect_time_parse("2026-11-30t19:30:00-04:30", &t),
	    0);
	assert_int_equal(t, T0);
	assert_int_equal(redirect_time_parse("2026-12-01T00:00:00.5z", &t), 0);
	assert_int_equal(t, T0 + 500000);
	assert_int_equal(redirect_time_parse("2026-12-01T00:00:00.1234567Z",
	    &t), 0);
	assert_int_equal(t, T0 + 123456);
	assert_int_equal(redirect_time_parse("2024-02-29T00:00:00Z", &t), 0);
	static const char *bad[] = {
		"2026-12-01", "2026-12-01T00:00:00", "2026-12-01 00:00:00Z",
		"2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z",
		"2026-12-32T00:00:00Z", "2026-12-01T24:00:00Z",
		"2026-12-01T00:60:00Z", "2026-12-01T00:00:60Z",
		"2026-12-01T00:00:00.Z", "2026-12-01T00:00:00+8:00",
		"2026-12-01T00:00:00+08", "2026-12-01T00:00:00+24:00",
		"2026-12-01T00:00:00Zjunk", "1969-12-31T23:59:59Z",
		"1970-01-01T00:00:00+00:01", "+2026-12-01T00:00:00Z", "",
		"2026-1a-01T00:00:00Z",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (redirect_time_parse(bad[i], &t) != SIGIL_EINVAL)
			fail_msg("accepted: %s", bad[i]);
	assert_int_equal(redirect_time_parse(NULL, &t), SIGIL_EINVAL);
}

static void
test_location(void **state)
{
	char out[REDIRECT_URL_MAX];
	static const char *cases[][3] = {
		{ "https://b.example/p", "/S/CODE", "https://b.example/p" },
		{ "https://b.example/p", "/S/CODE?utm=1",
		    "https://b.example/p?utm=1" },
		{ "https://b.example/p?a=1#f", "/S/CODE?utm=1&x",
		    "https://b.example/p?a=1&utm=1&x#f" },
		{ "https://b.example/p", "/01/1/21/2?s=TAG&linkType=gs1:pip",
		    "https://b.example/p" },
		{ "https://b.example/p", "/01/1/21/2?linkType=x&17=261231&s=T",
		    "https://b.example/p?17=261231" },
		{ "https://b.example/p", "/S/C?ss=1&s&S=2&linktype=3",
		    "https://b.example/p?ss=1&S=2&linktype=3" },
		{ "https://b.example/p", "/S/C?a=<b>&c=d%20e&&",
		    "https://b.example/p?c=d%20e" },
		{ "https://b.example/p#", "/S/C?a=1", "https://b.example/p?a=1#" },
		{ "https://b.example/p", NULL, "https://b.example/p" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_int_equal(redirect_location(cases[i][0], cases[i][1], out,
		    sizeof out), 0);
		assert_string_equal(out, cases[i][2]);
	}
	/* too long for out: the href alone */
	assert_int_equal(redirect_location("https://b.example/p",
	    "/S/C?aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=1", out, 32), SIGIL_EFULL);
	assert_string_equal(out, "https://b.example/p");
}

static void
test_in_fill(void **state)
{
	struct redirect_in in;

	(void)state;
	redirect_in_fill(&in, "en-GB,en;q=0.8", "Mozilla/5.0 MicroMessenger/8",
	    7, T0);
	assert_string_equal(in.lang, "en-gb");
	assert_true(in.in_wechat);
	assert_int_equal(in.device, 7);
	assert_int_equal(in.now, T0);
	assert_false(in.located);
	redirect_in_fill(&in, NULL, NULL, 0, T0);
	assert_string_equal(in.lang, "");
	assert_false(in.in_wechat);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_holds_each_condition),
		cmocka_unit_test(test_holds_all_and_region_last),
		cmocka_unit_test(test_lang_pick),
		cmocka_unit_test(test_lang_tag),
		cmocka_unit_test(test_wechat),
		cmocka_unit_test(test_href),
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_location),
		cmocka_unit_test(test_in_fill),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
