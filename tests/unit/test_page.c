/*
 * test_page.c - the landing page: every verdict in both languages, hostile
 * and broken values, the template parser's refusals, Accept-Language.
 *
 * Renders the real web/landing.html (SIGIL_WEB_DIR overrides the "web"
 * directory, for running from elsewhere than the repository root).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <event2/buffer.h>

#include "sigil/page.h"
#include "sigil/scan.h"
#include "sigil/store.h"
#include "sigil/util.h"

/* 2026-11-23T08:01:02Z */
#define T_FIRST		INT64_C(1795420862000000)

static const char *
web_dir(void)
{
	const char *d = getenv("SIGIL_WEB_DIR");

	return d != NULL ? d : "web";
}

static char *
buf_string(struct evbuffer *b)
{
	size_t n = evbuffer_get_length(b);
	char *s = malloc(n + 1);

	assert_non_null(s);
	assert_int_equal(evbuffer_copyout(b, s, n), (ev_ssize_t)n);
	s[n] = '\0';
	return s;
}

static char *
render(const struct page_view *v, int lang)
{
	struct evbuffer *b = evbuffer_new();
	char *s;

	assert_non_null(b);
	assert_int_equal(page_render(v, lang, b), 0);
	s = buf_string(b);
	evbuffer_free(b);
	return s;
}

static char *
escape(const char *in)
{
	struct evbuffer *b = evbuffer_new();
	char *s;

	assert_non_null(b);
	assert_int_equal(page_escape(b, in), 0);
	s = buf_string(b);
	evbuffer_free(b);
	return s;
}

/* The text inside <tag ... id="id" ...>TEXT<, or NULL. Caller frees. */
static char *
element_text(const char *html, const char *id)
{
	char needle[64];
	const char *p, *gt, *lt;
	char *t;

	snprintf(needle, sizeof(needle), "id=\"%s\"", id);
	if ((p = strstr(html, needle)) == NULL || (gt = strchr(p, '>')) == NULL ||
	    (lt = strchr(gt, '<')) == NULL)
		return NULL;
	t = strndup(gt + 1, (size_t)(lt - gt - 1));
	assert_non_null(t);
	return t;
}

static void
assert_contains(const char *hay, const char *needle)
{
	if (strstr(hay, needle) == NULL)
		fail_msg("missing: %s", needle);
}

static void
assert_lacks(const char *hay, const char *needle)
{
	if (strstr(hay, needle) != NULL)
		fail_msg("unexpected: %s", needle);
}

static struct page_view
view_full(int verdict)
{
	struct page_view v = {
		.verdict = verdict, .first_scan = 0, .scan_count = 3,
		.first_at = T_FIRST, .has_first_place = 1,
		.first_lat = 31.2304, .first_lng = 121.4737,
		.brand_name = "示例茶业", .product_name = "明前龙井 250g",
		.sku = "LJ-250", .gtin = "06901234567892", .lot = "L2026A",
		.batch_id = 42, .serial = 1234567, .expires = T_FIRST,
		.scan_id = "0000000000001f2a",
	};
	return v;
}

static int
setup(void **state)
{
	(void)state;
	return page_init(web_dir()) == 0 ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	page_fini();
	return 0;
}

/* ---- rendering the real template ---- */

static void
test_verdicts_both_languages(void **state)
{
	static const struct {
		int verdict;
		const char *key, *zh, *en;
	} cases[] = {
		{ VERDICT_GENUINE, "genuine", "正品", "Genuine" },
		{ VERDICT_SUSPICIOUS, "suspicious", "可疑", "Suspicious" },
		{ VERDICT_COUNTERFEIT, "counterfeit", "假冒", "Counterfeit" },
		{ VERDICT_REVOKED, "revoked", "已作废", "Revoked" },
		{ VERDICT_INACTIVE, "inactive", "未激活", "Not activated" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (int lang = PAGE_LANG_ZH; lang <= PAGE_LANG_EN; lang++) {
			struct page_view v = view_full(cases[i].verdict);
			char want[64], *html = render(&v, lang);
			char *title = element_text(html, "verdict");

			assert_non_null(title);
			assert_string_equal(title, lang == PAGE_LANG_ZH ?
			    cases[i].zh : cases[i].en);
			snprintf(want, sizeof(want),
			    "id=\"verdict\" data-verdict=\"%s\"", cases[i].key);
			assert_contains(html, want);
			snprintf(want, sizeof(want),
			    "id=\"banner\" data-verdict=\"%s\"", cases[i].key);
			assert_contains(html, want);
			assert_contains(html, lang == PAGE_LANG_ZH ?
			    "<html lang=\"zh-CN\">" : "<html lang=\"en\">");
			assert_contains(html, "<meta name=\"viewport\" "
			    "content=\"width=device-width,initial-scale=1\">");
			assert_contains(html,
			    "<meta name=\"robots\" content=\"noindex\">");
			/* No campaign: no reward card, and no teaser. */
			assert_lacks(html, "id=\"reward\"");
			/* The banner comes before anything else in <main>. */
			assert_true(strstr(html, "id=\"banner\"") <
			    strstr(html, "id=\"product\""));
			assert_lacks(html, "{{");
			free(title);
			free(html);
		}
	}
}

static void
test_self_contained_and_small(void **state)
{
	struct page_view v = view_full(VERDICT_SUSPICIOUS);
	char name[STORE_TEXT_MAX + 1], brand[STORE_NAME_MAX + 1];
	char *html;

	(void)state;
	/* Worst case: every field at its store limit, all of it escaped. */
	memset(name, '\'', STORE_TEXT_MAX);
	name[STORE_TEXT_MAX] = '\0';
	memset(brand, '"', STORE_NAME_MAX);
	brand[STORE_NAME_MAX] = '\0';
	v.product_name = name;
	v.brand_name = brand;
	v.sku = brand;
	v.lot = "&&&&&&&&&&&&&&&&&&&&";
	v.scan_count = UINT32_MAX;
	v.diversion = 1;
	v.reward = 1;	/* the card and its error texts count too */
	for (int lang = PAGE_LANG_ZH; lang <= PAGE_LANG_EN; lang++) {
		html = render(&v, lang);
		assert_true(strlen(html) < 20 * 1024);
		assert_lacks(html, "http://");
		assert_lacks(html, "https://");
		assert_lacks(html, "<link rel=\"stylesheet");
		assert_contains(html, "<link rel=\"icon\" href=\"data:,\">");
		assert_lacks(html, "<img");
		assert_lacks(html, "<iframe");
		assert_lacks(html, " src=");
		assert_lacks(html, "url(");
		assert_lacks(html, "@import");
		assert_lacks(html, "@font-face");
		free(html);
	}
}

static void
test_hostile_values_are_text(void **state)
{
	struct page_view v = view_full(VERDICT_GENUINE);
	char *html;

	(void)state;
	v.product_name = "<img src=x onerror=alert(1)>";
	v.brand_name = "</h1><script>alert(1)</script>";
	v.sku = "\" onmouseover=\"alert(1)";
	v.lot = "'><svg onload=alert(1)>";
	v.scan_id = "\"><script>x</script>";
	html = render(&v, PAGE_LANG_ZH);
	assert_lacks(html, "<img");
	assert_lacks(html, "<script>alert");
	assert_lacks(html, "<script>x");
	assert_lacks(html, "<svg onload");
	assert_lacks(html, "\" onmouseover");
	assert_contains(html, "&lt;img src=x onerror=alert(1)&gt;");
	assert_contains(html, "&lt;/h1&gt;&lt;script&gt;alert(1)&lt;/script&gt;");
	assert_contains(html, "&quot; onmouseover=&quot;alert(1)");
	assert_contains(html, "&#39;&gt;&lt;svg onload=alert(1)&gt;");
	assert_contains(html, "data-scan=\"&quot;&gt;&lt;script&gt;x");
	free(html);
}

static void
test_invalid_utf8_value_replaced(void **state)
{
	struct page_view v = view_full(VERDICT_GENUINE);
	char *html;

	(void)state;
	v.product_name = "Tea\xff\xc0\xaf\xed\xa0\x80 \xe2\x80\xae" "eniuneg\x01";
	html = render(&v, PAGE_LANG_EN);
	assert_contains(html, "<dd>Tea\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd \xef\xbf\xbd"
	    "eniuneg\xef\xbf\xbd</dd>");
	assert_lacks(html, "\xff");
	assert_lacks(html, "\xe2\x80\xae");
	free(html);
}

static void
test_first_scan_and_repeat(void **state)
{
	struct page_view v = view_full(VERDICT_GENUINE);
	char *html, *info;

	(void)state;
	v.first_scan = 1;
	v.scan_count = 1;
	html = render(&v, PAGE_LANG_ZH);
	info = element_text(html, "scan-info");
	assert_non_null(info);
	assert_string_equal(info, "首次查询：您是第一位查询此码的人");
	free(info);
	free(html);

	v.first_scan = 0;
	v.scan_count = 3;
	html = render(&v, PAGE_LANG_ZH);
	info = element_text(html, "scan-info");
	assert_string_equal(info, "此码已被查询 3 次，首次查询时间 ");
	assert_contains(html, "<time datetime=\"2026-11-23T08:01:02.000Z\">"
	    "2026-11-23 16:01</time>");
	assert_contains(html, "<dd>北纬 31.2°，东经 121.5°</dd>");
	assert_contains(html, "<dd>2026-11-23</dd>");	/* expires */
	assert_contains(html, "<dd>1234567</dd>");
	assert_contains(html, "<dd>42</dd>");
	free(info);
	free(html);

	v.first_lat = -33.8688;
	v.first_lng = -151.2093;
	html = render(&v, PAGE_LANG_EN);
	info = element_text(html, "scan-info");
	assert_string_equal(info, "Checked 3 times, first at ");
	assert_contains(html, "first at <time datetime=\"2026-11-23T08:01:02.000Z\">"
	    "2026-11-23 08:01 UTC</time>");
	assert_contains(html, "<dd>33.9°S, 151.2°W</dd>");
	free(info);
	free(html);

	v.scan_count = 1;
	v.first_at = 0;
	v.has_first_place = 0;
	html = render(&v, PAGE_LANG_EN);
	info = element_text(html, "scan-info");
	assert_string_equal(info, "Checked 1 time");
	assert_lacks(html, "id=\"first\"");
	free(info);
	free(html);
}

/* The check id: Luhn over the decimal scan id, read back with spaces. */
static int
count_of(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

/*
 * Issue 22: the red packet's part (its words, the cash refusals, its
 * script and that script's hash in the <meta>) only on a cash
 * campaign's card, which then leaves out the rating form; a page
 * without cash carries none of it. Both under 20 KB.
 */
static void
test_cash_card(void **state)
{
	char *plain, *cash;

	(void)state;
	for (int lang = PAGE_LANG_ZH; lang <= PAGE_LANG_EN; lang++) {
		struct page_view v = view_full(VERDICT_GENUINE);

		v.reward = 1;
		plain = render(&v, lang);
		v.cash = 1;
		cash = render(&v, lang);
		assert_lacks(plain, "rw-cash");
		assert_lacks(plain, "data-cash");
		assert_lacks(plain, "wechat_required=");
		assert_lacks(plain, "requestMerchantTransfer");
		assert_contains(plain, "id=\"fb\"");
		assert_contains(cash, "id=\"rw-cash\"");
		assert_contains(cash, "id=\"rw-take\" hidden");
		assert_contains(cash, "requestMerchantTransfer");
		assert_contains(cash, lang == PAGE_LANG_ZH ?
		    "|已到账|处理中|待确认收款|未到账，已退回" :
		    "|Paid|Processing|Waiting for you to accept");
		assert_contains(cash, lang == PAGE_LANG_ZH ? "确认收款" :
		    "Accept the money");
		assert_contains(cash, "wechat_required=");
		assert_lacks(cash, "id=\"fb\"");
		/* one hash more in the <meta> of the red packet's page */
		assert_int_equal(count_of(cash, "sha256-"),
		    count_of(plain, "sha256-") + 1);
		assert_true(strlen(plain) < 20 * 1024);
		assert_true(strlen(cash) < 20 * 1024);
		free(plain);
		free(cash);
		/* no reward card: no red packet either */
		v.reward = 0;
		cash = render(&v, lang);
		assert_lacks(cash, "rw-cash");
		free(cash);
	}
}

static void
test_check_id(void **state)
{
	char out[SCAN_CHECK_LEN + 1];
	uint64_t id = 0;

	(void)state;
	scan_check_format(7992739871ULL, out);
	assert_string_equal(out, "7992739871-3");	/* the textbook Luhn */
	assert_int_equal(scan_check_parse("7992 7398 71-3", &id), 0);
	assert_true(id == 7992739871ULL);
	scan_check_format(UINT64_MAX, out);
	assert_int_equal(scan_check_parse(out, &id), 0);
	assert_true(id == UINT64_MAX);
	scan_check_format(1, out);
	assert_string_equal(out, "1-8");
	assert_int_equal(scan_check_parse("7992739871-4", &id),
	    SIGIL_EINVAL);			/* a wrong check digit */
	assert_int_equal(scan_check_parse("7992739817-3", &id),
	    SIGIL_EINVAL);			/* two digits swapped */
	assert_int_equal(scan_check_parse("7992739871", &id), SIGIL_EINVAL);
	assert_int_equal(scan_check_parse("-3", &id), SIGIL_EINVAL);
	assert_int_equal(scan_check_parse("0-0", &id), SIGIL_EINVAL);
	assert_int_equal(scan_check_parse("12-34", &id), SIGIL_EINVAL);
	assert_int_equal(scan_check_parse("1a-8", &id), SIGIL_EINVAL);
	assert_int_equal(scan_check_parse("99999999999999999999-0", &id),
	    SIGIL_EINVAL);			/* past 64 bits */
	assert_int_equal(scan_check_parse(NULL, &id), SIGIL_EINVAL);
}

/* The reward card: only with a campaign, and only where a verdict allows. */
static void
test_reward_card(void **state)
{
	static const struct { int verdict, shown; } cases[] = {
		{ VERDICT_GENUINE, 1 }, { VERDICT_SUSPICIOUS, 1 },
		{ VERDICT_COUNTERFEIT, 0 }, { VERDICT_REVOKED, 0 },
		{ VERDICT_INACTIVE, 0 }, { VERDICT_UNVERIFIED, 0 },
		{ PAGE_VIEW_PRODUCT, 0 },
	};
	char *html;

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		for (int lang = PAGE_LANG_ZH; lang <= PAGE_LANG_EN; lang++) {
			struct page_view v = view_full(cases[i].verdict);

			v.reward = 1;
			html = render(&v, lang);
			if (cases[i].shown) {
				assert_contains(html, "id=\"reward\" hidden");
				assert_contains(html, lang == PAGE_LANG_ZH ?
				    "wrong_pin=暗码错误" : "wrong_pin=Wrong PIN");
				assert_contains(html, lang == PAGE_LANG_ZH ?
				    "暗码错误，还可尝试 {n} 次" :
				    "Wrong PIN: {n} tries left");
			} else
				assert_lacks(html, "id=\"reward\"");
			free(html);
		}
	}
	{
		struct page_view v = view_full(VERDICT_GENUINE);

		v.reward = 1;
		v.bot = 1;
		html = render(&v, PAGE_LANG_ZH);
		assert_lacks(html, "id=\"reward\"");
		free(html);
	}
}

static void
test_counterfeit_without_data(void **state)
{
	struct page_view v = { .verdict = VERDICT_COUNTERFEIT };
	char *html;

	(void)state;
	html = render(&v, PAGE_LANG_ZH);
	assert_lacks(html, "(null)");
	assert_lacks(html, "id=\"product\"");
	assert_lacks(html, "id=\"first\"");
	assert_lacks(html, "id=\"scan-info\"");
	assert_lacks(html, "id=\"share\"");	/* no scan id to post to */
	assert_lacks(html, "<footer>");
	assert_contains(html, "此码不是品牌方签发的");
	free(html);

	/* Impossible coordinates are not shown. */
	v.has_first_place = 1;
	v.first_lat = 91;
	v.first_lng = 0;
	html = render(&v, PAGE_LANG_ZH);
	assert_lacks(html, "id=\"first\"");
	free(html);
}

static void
test_diversion_and_bot(void **state)
{
	struct page_view v = view_full(VERDICT_GENUINE);
	char *html;

	(void)state;
	html = render(&v, PAGE_LANG_ZH);
	assert_contains(html, "id=\"diversion\" role=\"alert\" hidden>");
	assert_contains(html, "id=\"share\" data-scan=\"0000000000001f2a\"");
	free(html);

	v.diversion = 1;
	html = render(&v, PAGE_LANG_EN);
	assert_contains(html, "id=\"diversion\" role=\"alert\">This item was "
	    "found outside");

	/* Fixed strings are escaped too (this one has an apostrophe). */
	assert_contains(html, "data-d-inactive=\"This code has not been "
	    "activated; the item may not have left the brand&#39;s normal");
	free(html);

	v.bot = 1;
	html = render(&v, PAGE_LANG_ZH);
	assert_lacks(html, "id=\"share\"");
	assert_lacks(html, "id=\"location\"");
	assert_contains(html, "id=\"verdict\"");
	free(html);
}

static void
test_render_refuses_bad_view(void **state)
{
	struct page_view v = view_full(VERDICT_GENUINE);
	struct evbuffer *b = evbuffer_new();

	(void)state;
	v.verdict = PAGE_VIEW_PRODUCT + 1;	/* unverified (5), product (6) */
	assert_int_equal(page_render(&v, PAGE_LANG_ZH, b), SIGIL_EINVAL);
	v.verdict = -1;
	assert_int_equal(page_render(&v, PAGE_LANG_ZH, b), SIGIL_EINVAL);
	v.verdict = VERDICT_GENUINE;
	assert_int_equal(page_render(&v, 2, b), SIGIL_EINVAL);
	assert_int_equal(page_render(NULL, PAGE_LANG_ZH, b), SIGIL_EINVAL);
	assert_int_equal(evbuffer_get_length(b), 0);
	page_fini();
	assert_int_equal(page_render(&v, PAGE_LANG_ZH, b), SIGIL_ESTATE);
	assert_int_equal(page_init(web_dir()), 0);
	evbuffer_free(b);
}

/* The unverified verdict and the product view, in both languages, and
 * the brand's support link (escaped, shown only when set). */
static void
test_render_unverified(void **state)
{
	struct page_view v = view_full(VERDICT_UNVERIFIED);
	struct evbuffer *b = evbuffer_new();
	char *html;

	(void)state;
	v.support_url = "https://brand.example/help?a=1&b=\"x";
	assert_int_equal(page_render(&v, PAGE_LANG_EN, b), 0);
	html = buf_string(b);
	assert_non_null(strstr(html, "data-verdict=\"unverified\""));
	assert_non_null(strstr(html, "scan the QR code printed on the item"));
	assert_non_null(strstr(html, "href=\"https://brand.example/help?a=1&amp;"
	    "b=&quot;x\""));
	assert_non_null(strstr(html, "Contact the brand"));
	free(html);
	evbuffer_drain(b, evbuffer_get_length(b));
	v.support_url = NULL;
	assert_int_equal(page_render(&v, PAGE_LANG_ZH, b), 0);
	html = buf_string(b);
	assert_non_null(strstr(html, "未验证"));
	assert_non_null(strstr(html, "扫描商品上印的二维码"));
	assert_null(strstr(html, "id=\"support\""));
	free(html);
	evbuffer_drain(b, evbuffer_get_length(b));
	v.verdict = PAGE_VIEW_PRODUCT;
	assert_int_equal(page_render(&v, PAGE_LANG_EN, b), 0);
	html = buf_string(b);
	assert_non_null(strstr(html, "data-verdict=\"product\""));
	assert_non_null(strstr(html, "names a product, not one item"));
	free(html);
	evbuffer_free(b);
}

/* ---- page_escape ---- */

static void
test_escape(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "", "" },
		{ "plain", "plain" },
		{ "a&b<c>d\"e'f", "a&amp;b&lt;c&gt;d&quot;e&#39;f" },
		{ "&amp;", "&amp;amp;" },
		{ "正品 ✓ 🍵", "正品 ✓ 🍵" },
		{ "tab\there\nline\r", "tab\there\nline\r" },
		{ "\x01\x1b[31m", "\xef\xbf\xbd\xef\xbf\xbd[31m" },
		{ "del\x7f", "del\xef\xbf\xbd" },
		{ "c1\xc2\x85", "c1\xef\xbf\xbd" },
		{ "\xff\xfe", "\xef\xbf\xbd\xef\xbf\xbd" },
		{ "\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd" },		/* overlong '/' */
		{ "\xe0\x80\xbc", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
		{ "\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },	/* surrogate */
		{ "\xf4\x90\x80\x80",
		    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
		{ "cut\xe4\xb8", "cut\xef\xbf\xbd\xef\xbf\xbd" },
		{ "\xe4<", "\xef\xbf\xbd&lt;" },
		{ "rlo\xe2\x80\xaeoverride", "rlo\xef\xbf\xbdoverride" },
		{ "iso\xe2\x81\xa6x", "iso\xef\xbf\xbdx" },
		{ "nonchar\xef\xbf\xbe", "nonchar\xef\xbf\xbd" },
	};
	struct evbuffer *b = evbuffer_new();
	char *s;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		s = escape(cases[i].in);
		if (strcmp(s, cases[i].out) != 0)
			fail_msg("case %zu: got \"%s\"", i, s);
		free(s);
	}
	assert_int_equal(page_escape(b, NULL), 0);
	assert_int_equal(evbuffer_get_length(b), 0);
	evbuffer_free(b);
}

/* ---- page_init refusals ---- */

struct tmpdir {
	char path[64];
};

static void
tmpdir_make(struct tmpdir *t)
{
	snprintf(t->path, sizeof(t->path), "/tmp/sigil-page-XXXXXX");
	assert_non_null(mkdtemp(t->path));
}

static void
tmpdir_write(struct tmpdir *t, const char *text, size_t len)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/landing.html", t->path);
	assert_non_null(f = fopen(path, "wb"));
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void
tmpdir_remove(struct tmpdir *t)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/landing.html", t->path);
	unlink(path);
	assert_int_equal(rmdir(t->path), 0);
}

static int
init_with(const char *text)
{
	struct tmpdir t;
	int err;

	tmpdir_make(&t);
	tmpdir_write(&t, text, strlen(text));
	err = page_init(t.path);
	tmpdir_remove(&t);
	return err;
}

static void
test_init_refuses(void **state)
{
	static const char *const bad[] = {
		"<p>{{nosuch}}</p>",
		"<p>{{Lang}}</p>",
		"<p>{{ lang }}</p>",
		"<p>{{}}</p>",
		"<p>{{lang</p>",
		"<p>{{#diversion}}open",
		"<p>{{/diversion}}",
		"{{#diversion}}{{/bot}}",
		"{{#diversion}}{{#bot}}{{/diversion}}{{/bot}}",
		"{{#a}}{{/a}}",
		"{{#1}}{{#2}}{{#3}}{{#4}}{{#5}}{{#6}}{{#7}}{{#8}}{{#9}}",
		"bad \xff byte",
	};
	struct tmpdir t;
	char *big;
	int err;

	(void)state;
	assert_int_equal(page_init("/nonexistent/sigil/web"), SIGIL_ENOTFOUND);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if ((err = init_with(bad[i])) != SIGIL_EINVAL)
			fail_msg("case %zu: %d", i, err);
	assert_int_equal(init_with("{{#diversion}}{{#bot}}{{#share}}{{#lot}}"
	    "{{#sku}}{{#gtin}}{{#batch}}{{#serial}}x{{/serial}}{{/batch}}"
	    "{{/gtin}}{{/sku}}{{/lot}}{{/share}}{{/bot}}{{/diversion}}"), 0);

	/* 64 KB is the limit, inclusive. */
	big = malloc(64 * 1024 + 1);
	assert_non_null(big);
	memset(big, 'x', 64 * 1024 + 1);
	tmpdir_make(&t);
	tmpdir_write(&t, big, 64 * 1024 + 1);
	assert_int_equal(page_init(t.path), SIGIL_EINVAL);
	tmpdir_write(&t, big, 64 * 1024);
	assert_int_equal(page_init(t.path), 0);
	tmpdir_remove(&t);
	free(big);

	/* A directory where the file should be. */
	tmpdir_make(&t);
	{
		char path[128];

		snprintf(path, sizeof(path), "%s/landing.html", t.path);
		assert_int_equal(mkdir(path, 0700), 0);
		assert_int_equal(page_init(t.path), SIGIL_EINVAL);
		assert_int_equal(rmdir(path), 0);
	}
	tmpdir_remove(&t);

	assert_int_equal(page_init(web_dir()), 0);
}

static void
test_failed_init_keeps_template(void **state)
{
	struct page_view v = view_full(VERDICT_GENUINE);
	char *html;

	(void)state;
	assert_int_equal(init_with("{{bogus}}"), SIGIL_EINVAL);
	html = render(&v, PAGE_LANG_ZH);
	assert_contains(html, "id=\"verdict\"");
	free(html);
}

static void
test_sections(void **state)
{
	struct page_view v = { .verdict = VERDICT_INACTIVE, .sku = "S<1" };
	char *html;

	(void)state;
	assert_int_equal(init_with("[{{#diversion}}D{{/diversion}}"
	    "{{^diversion}}N{{/diversion}}|{{#has_product}}({{#lot}}L{{/lot}}"
	    "{{#sku}}{{sku}}{{/sku}}){{/has_product}}|{{verdict}}:"
	    "{{verdict_title}}|{{#share}}S{{/share}}{{^share}}-{{/share}}]"), 0);
	html = render(&v, PAGE_LANG_EN);
	assert_string_equal(html, "[N|(S&lt;1)|inactive:Not activated|-]");
	free(html);
	v.diversion = 1;
	v.sku = "";
	v.scan_id = "7";
	html = render(&v, PAGE_LANG_ZH);
	assert_string_equal(html, "[D||inactive:未激活|S]");
	free(html);
	assert_int_equal(page_init(web_dir()), 0);
}

/* ---- Accept-Language ---- */

static void
test_lang_pick(void **state)
{
	static const struct {
		const char *header;
		int want;
	} cases[] = {
		{ "en-US,en;q=0.9,zh-CN;q=0.8", PAGE_LANG_EN },
		{ "zh-CN,zh;q=0.9,en;q=0.8", PAGE_LANG_ZH },
		{ "zh-CN;q=0.5,en-GB;q=0.6", PAGE_LANG_EN },
		{ "en;q=0.5,zh;q=0.5", PAGE_LANG_EN },		/* tie: order */
		{ "zh;q=0.5,en;q=0.5", PAGE_LANG_ZH },
		{ "en;q=0.5,zh;q=0.8,en;q=0.8", PAGE_LANG_ZH },
		{ "en", PAGE_LANG_EN },
		{ "EN-us", PAGE_LANG_EN },
		{ "zh-Hant-TW, en;q=0.1", PAGE_LANG_ZH },
		{ "zh-TW;q=0.2, en-US;q=0.3", PAGE_LANG_EN },
		{ "en;q=0", PAGE_LANG_ZH },			/* excluded */
		{ "en;q=0.000,zh;q=0.001", PAGE_LANG_ZH },
		{ "zh;q=0", PAGE_LANG_EN },			/* zh refused */
		{ "zh;q=0,en;q=0", PAGE_LANG_ZH },
		{ "fr-FR,de;q=0.9", PAGE_LANG_ZH },
		{ "fr, en;q=0.1", PAGE_LANG_EN },
		{ "ja,*;q=0.5", PAGE_LANG_ZH },
		{ "en;q=0.3,*", PAGE_LANG_ZH },			/* * covers zh */
		{ "zh;q=0.3,*;q=0.9", PAGE_LANG_EN },
		{ "*", PAGE_LANG_ZH },
		{ "eng", PAGE_LANG_ZH },			/* not "en" */
		{ "english", PAGE_LANG_ZH },
		{ "zhx-CN, en;q=0.2", PAGE_LANG_EN },
		{ "en;q=2", PAGE_LANG_ZH },			/* malformed */
		{ "en;q=1.001", PAGE_LANG_ZH },
		{ "en;q=0.1234", PAGE_LANG_ZH },
		{ "en;q=", PAGE_LANG_ZH },
		{ "en;q=.5", PAGE_LANG_ZH },
		{ "en;q=-1", PAGE_LANG_ZH },
		{ "en; q=0.5 ,zh;q=0.4", PAGE_LANG_EN },
		{ "en;Q=0.9,zh;q=0.8", PAGE_LANG_EN },
		{ "en;q=0.9;level=1,zh;q=0.8", PAGE_LANG_EN },
		{ "en;=1", PAGE_LANG_ZH },
		{ "en-,zh;q=0.1", PAGE_LANG_ZH },
		{ "en-abcdefghi", PAGE_LANG_ZH },		/* subtag > 8 */
		{ "en-US-x-abcdefgh", PAGE_LANG_EN },
		{ "en garbage", PAGE_LANG_ZH },
		{ "\xff\xfe,en", PAGE_LANG_EN },
		{ ",,, ,en", PAGE_LANG_EN },
		{ ";q=1,en", PAGE_LANG_EN },
		{ "en\x01", PAGE_LANG_ZH },
		{ "", PAGE_LANG_ZH },
		{ "   ", PAGE_LANG_ZH },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (page_lang_pick(cases[i].header) != cases[i].want)
			fail_msg("case %zu: \"%s\"", i, cases[i].header);
	assert_int_equal(page_lang_pick(NULL), PAGE_LANG_ZH);
}

static void
test_lang_pick_bounds(void **state)
{
	char *h = malloc(10 * 1024 + 1);
	size_t n = 0;

	(void)state;
	assert_non_null(h);
	/* 10 KB header: en comes after the first 1024 bytes, so unseen. */
	while (n + 6 < 10 * 1024) {
		memcpy(h + n, "fr-FR,", 6);
		n += 6;
	}
	h[n] = '\0';
	memcpy(h + 9 * 1024, "en,", 3);
	assert_int_equal(page_lang_pick(h), PAGE_LANG_ZH);

	/* Within 1024 bytes but after 32 entries: unseen. */
	memset(h, 0, 10 * 1024 + 1);
	for (n = 0; n < 32; n++)
		strcat(h, "fr,");
	strcat(h, "en");
	assert_int_equal(page_lang_pick(h), PAGE_LANG_ZH);
	/* Entry 32 still counts. */
	memset(h, 0, 10 * 1024 + 1);
	for (n = 0; n < 31; n++)
		strcat(h, "fr,");
	strcat(h, "en");
	assert_int_equal(page_lang_pick(h), PAGE_LANG_EN);

	/* An entry cut by the 1024-byte bound is dropped, not guessed. */
	memset(h, ' ', 1022);
	memcpy(h + 1022, "en-US", 6);
	assert_int_equal(page_lang_pick(h), PAGE_LANG_ZH);
	memset(h, ' ', 1021);
	memcpy(h + 1021, ",en,fr", 7);
	assert_int_equal(page_lang_pick(h), PAGE_LANG_EN);

	/* 10 KB with no comma at all. */
	memset(h, 'e', 10 * 1024);
	h[10 * 1024] = '\0';
	assert_int_equal(page_lang_pick(h), PAGE_LANG_ZH);
	free(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verdicts_both_languages),
		cmocka_unit_test(test_self_contained_and_small),
		cmocka_unit_test(test_hostile_values_are_text),
		cmocka_unit_test(test_invalid_utf8_value_replaced),
		cmocka_unit_test(test_first_scan_and_repeat),
		cmocka_unit_test(test_reward_card),
		cmocka_unit_test(test_cash_card),
		cmocka_unit_test(test_check_id),
		cmocka_unit_test(test_counterfeit_without_data),
		cmocka_unit_test(test_diversion_and_bot),
		cmocka_unit_test(test_render_refuses_bad_view),
		cmocka_unit_test(test_render_unverified),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_init_refuses),
		cmocka_unit_test(test_failed_init_keeps_template),
		cmocka_unit_test(test_sections),
		cmocka_unit_test(test_lang_pick),
		cmocka_unit_test(test_lang_pick_bounds),
	};

	return cmocka_run_group_tests_name("page", tests, setup, teardown);
}
