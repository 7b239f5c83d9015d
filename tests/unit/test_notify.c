/*
 * test_notify.c - alert notifications' pure parts: SMTP dot-stuffing
 * and line endings (RFC 5321 4.5.2), the RFC 2047 subject (encoded
 * words of at most 75 characters that decode to the subject and never
 * cut a UTF-8 sequence; no header injection), addresses, the --smtp
 * URL, DingTalk's 加签 signature against values computed independently
 * (Python's hmac, base64 and urllib.parse.quote_plus, as DingTalk's
 * documentation shows), digest due times and the composed words.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "sigil/notify.h"
#include "sigil/store.h"
#include "sigil/util.h"

static void
stuffed(const char *in, const char *want)
{
	size_t len;
	char *out = notify_smtp_dot_stuff(in, &len);

	assert_non_null(out);
	assert_string_equal(out, want);
	assert_int_equal(len, strlen(want));
	free(out);
}

static void
test_dot_stuff(void **state)
{
	(void)state;
	stuffed("", "");
	stuffed("a", "a\r\n");
	stuffed(".", "..\r\n");
	stuffed("a\n.\nb", "a\r\n..\r\nb\r\n");
	stuffed(".hidden\n..two\nmid.dle\n", "..hidden\r\n...two\r\nmid.dle\r\n");
	stuffed("crlf\r\n.x\r\n", "crlf\r\n..x\r\n");
	stuffed("bare\rcr\n", "bare\r\ncr\r\n");
	/* a lone "." line can never end DATA early */
	stuffed("x\r\n.\r\ny", "x\r\n..\r\ny\r\n");
}

/* Decodes "=?UTF-8?B?...?=" words separated by CRLF SP into out. */
static void
decode_words(const char *h, char *out, size_t *outlen)
{
	size_t o = 0;

	while (*h) {
		const char *end;
		unsigned char buf[128];
		int n, pad = 0;
		size_t wl;

		assert_memory_equal(h, "=?UTF-8?B?", 10);
		end = strstr(h + 10, "?=");
		assert_non_null(end);
		wl = (size_t)(end + 2 - h);
		assert_true(wl <= 75);
		n = EVP_DecodeBlock(buf, (const unsigned char *)h + 10,
		    (int)(end - h - 10));
		assert_true(n >= 0);
		if (end - h - 10 >= 2 && end[-1] == '=')
			pad++;
		if (end - h - 10 >= 2 && end[-2] == '=')
			pad++;
		n -= pad;
		/* a word starts on a character, not inside one */
		assert_true((buf[0] & 0xC0) != 0x80);
		memcpy(out + o, buf, (size_t)n);
		o += (size_t)n;
		h = end + 2;
		if (*h) {
			assert_memory_equal(h, "\r\n ", 3);
			h += 3;
		}
	}
	out[o] = '\0';
	*outlen = o;
}

static void
test_subject(void **state)
{
	const char *zh = "[sigil] 假码扫描 告警 / counterfeit scans alert: "
	    "某某食品有限公司 — 一个很长的品牌名称用来折行";
	char dec[1024], *s;
	size_t n;

	(void)state;
	s = notify_smtp_subject("Plain ASCII subject");
	assert_string_equal(s, "Plain ASCII subject");
	free(s);
	s = notify_smtp_subject("测试通知 / Test notification");
	assert_string_equal(s, "=?UTF-8?B?5rWL6K+V6YCa55+lIC8gVGVzdCBub3RpZml"
	    "jYXRpb24=?=");
	free(s);
	s = notify_smtp_subject(zh);
	assert_non_null(strstr(s, "\r\n "));	/* folded: several words */
	decode_words(s, dec, &n);
	assert_int_equal(n, strlen(zh));
	assert_string_equal(dec, zh);
	free(s);
	/* CR LF in a subject is encoded, never a header break */
	s = notify_smtp_subject("hi\r\nBcc: victim@example.com");
	for (char *p = strstr(s, "\r\n"); p != NULL; p = strstr(p + 2,
	    "\r\n"))
		assert_int_equal(p[2], ' ');
	decode_words(s, dec, &n);
	assert_string_equal(dec, "hi\r\nBcc: victim@example.com");
	free(s);
}

static void
test_addr(void **state)
{
	(void)state;
	assert_true(notify_addr_ok("sec@acme.example"));
	assert_true(notify_addr_ok("first.last+tag@sub.acme.cn"));
	assert_false(notify_addr_ok("no-at.example"));
	assert_false(notify_addr_ok("@acme.example"));
	assert_false(notify_addr_ok("a@"));
	assert_false(notify_addr_ok("a@b@c"));
	assert_false(notify_addr_ok("a b@c.d"));
	assert_false(notify_addr_ok("a@c.d\r\nBcc: x@y"));
	assert_false(notify_addr_ok("<a@c.d>"));
	assert_false(notify_addr_ok("a,b@c.d"));
	assert_false(notify_addr_ok("用户@例子.中国"));	/* ASCII only */
	assert_false(notify_addr_ok("a@.d"));
}

static void
test_url(void **state)
{
	struct notify_smtp_config c;

	(void)state;
	assert_int_equal(notify_smtp_url("smtp://mail.acme.cn", &c), 0);
	assert_string_equal(c.host, "mail.acme.cn");
	assert_int_equal(c.port, 25);
	assert_int_equal(c.tls, 0);
	assert_int_equal(c.starttls, 0);
	assert_int_equal(notify_smtp_url("smtps://127.0.0.1:2465", &c), 0);
	assert_int_equal(c.port, 2465);
	assert_int_equal(c.tls, 1);
	assert_int_equal(notify_smtp_url("smtp://[::1]:587?starttls=require",
	    &c), 0);
	assert_string_equal(c.host, "::1");
	assert_int_equal(c.port, 587);
	assert_int_equal(c.starttls, 1);
	assert_int_equal(notify_smtp_url("http://x", &c), SIGIL_EINVAL);
	assert_int_equal(notify_smtp_url("smtp://", &c), SIGIL_EINVAL);
	assert_int_equal(notify_smtp_url("smtp://u:p@host", &c), SIGIL_EINVAL);
	assert_int_equal(notify_smtp_url("smtp://host:0", &c), SIGIL_EINVAL);
	assert_int_equal(notify_smtp_url("smtp://host:99999", &c),
	    SIGIL_EINVAL);
	assert_int_equal(notify_smtp_url("smtps://h?starttls=require", &c),
	    SIGIL_EINVAL);
	assert_int_equal(notify_smtp_url("smtp://h?x=1", &c), SIGIL_EINVAL);
}

static void
test_dingtalk_sign(void **state)
{
	char out[NOTIFY_DING_SIGN_MAX + 1];

	(void)state;
	/* DingTalk's documented example secret, at 2020-01-01T00:00:00Z. */
	assert_int_equal(notify_dingtalk_sign("this is secret", 1577836800000LL,
	    out), 0);
	assert_string_equal(out,
	    "fFV9t5lBS7KH4%2B5B0JjR99ab%2BAJkXFauQXycgTkS%2Ftc%3D");
	assert_int_equal(notify_dingtalk_sign("SEC0123456789abcdef0123456789"
	    "abcdef0123456789abcdef0123456789abcdef", 1796679718123LL, out), 0);
	assert_string_equal(out,
	    "rLQbAzS8NmoI9JVmzgnwxj7GnrgSAT3iKJn3as8UGXE%3D");
	assert_int_equal(notify_dingtalk_sign("x", -1, out), SIGIL_EINVAL);
}

static void
test_due(void **state)
{
	struct notify_rule r;
	const int64_t H = 3600LL * 1000000, M = 60LL * 1000000;
	/* 2026-12-07T21:43:00Z */
	const int64_t t = 1796679780LL * 1000000;

	(void)state;
	memset(&r, 0, sizeof r);
	r.mode = NOTIFY_IMMEDIATE;
	assert_true(notify_next_due(&r, t) == t);
	r.mode = NOTIFY_HOURLY;
	assert_true(notify_next_due(&r, t) == t - 43 * M + H);
	assert_true(notify_next_due(&r, t - 43 * M) == t - 43 * M + H);
	/* daily at 09:00 in UTC+8 = 01:00Z: the next one is tomorrow's */
	r.mode = NOTIFY_DAILY;
	r.daily_at = 9 * 60;
	r.tz_min = 480;
	assert_true(notify_next_due(&r, t) == t - 21 * H - 43 * M + 25 * H);
	/* daily at 23:30 UTC: later today */
	r.daily_at = 23 * 60 + 30;
	r.tz_min = 0;
	assert_true(notify_next_due(&r, t) == t + 1 * H + 47 * M);
	/* UTC-5, 18:00 local = 23:00Z: later today too */
	r.daily_at = 18 * 60;
	r.tz_min = -300;
	assert_true(notify_next_due(&r, t) == t + 1 * H + 17 * M);
}

static void
test_compose(void **state)
{
	struct notify_rule r;
	struct alert a[3];
	struct notify_text t;

	(void)state;
	memset(&r, 0, sizeof r);
	memset(a, 0, sizeof a);
	snprintf(r.name, sizeof r.name, "安全组");
	for (int i = 0; i < 3; i++) {
		a[i].id = 41 + (uint64_t)i;
		a[i].type = i == 2 ? ALERT_DIVERSION : ALERT_COUNTERFEIT;
		a[i].count = 2;
		a[i].at = a[i].last_at = 1796679780LL * 1000000;
		a[i].distance_km = 120;
	}
	assert_int_equal(notify_compose(&r, a, 1, 0, "acme", &t), 0);
	assert_non_null(strstr(t.subject, "假码扫描"));
	assert_non_null(strstr(t.subject, "counterfeit"));
	assert_non_null(strstr(t.text, "#41"));
	assert_non_null(strstr(t.markdown, "安全组"));
	notify_text_clear(&t);
	assert_int_equal(notify_compose(&r, a, 3, 5, "acme", &t), 0);
	assert_non_null(strstr(t.subject, "8"));
	assert_non_null(strstr(t.text, "#41"));
	assert_non_null(strstr(t.text, "#43"));
	assert_non_null(strstr(t.text, "窜货"));
	assert_non_null(strstr(t.text, "and 5 more"));
	notify_text_clear(&t);
	assert_int_equal(notify_compose(&r, a, 0, 0, "acme", &t), SIGIL_EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dot_stuff),
		cmocka_unit_test(test_subject),
		cmocka_unit_test(test_addr),
		cmocka_unit_test(test_url),
		cmocka_unit_test(test_dingtalk_sign),
		cmocka_unit_test(test_due),
		cmocka_unit_test(test_compose),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
