/*
 * test_content.c - the brand's content: image typing and ids, language
 * tags and choice, button hrefs, document checks (with a real store for
 * the image references), the content and image tables, and the page
 * blocks each verdict shows (the real web/landing.html; SIGIL_WEB_DIR
 * overrides "web").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <event2/buffer.h>
#include <jansson.h>

#include "sigil/app.h"
#include "sigil/content.h"
#include "sigil/page.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "storefix.h"

static const uint8_t png_head[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a,
    '\n', 0, 0, 0, 13 };

/* ---- images ---- */

static void
test_sniff(void **state)
{
	static const uint8_t jpeg[] = { 0xff, 0xd8, 0xff, 0xe0 };
	static const char svg[] = "<svg xmlns=\"http://www.w3.org/2000/svg\">"
	    "<script>alert(1)</script></svg>";

	(void)state;
	assert_int_equal(content_image_sniff(png_head, sizeof png_head),
	    IMAGE_PNG);
	assert_int_equal(content_image_sniff(png_head, 7), 0);
	assert_int_equal(content_image_sniff(jpeg, sizeof jpeg), IMAGE_JPEG);
	assert_int_equal(content_image_sniff((const uint8_t *)"GIF89a", 6),
	    IMAGE_GIF);
	assert_int_equal(content_image_sniff((const uint8_t *)"GIF87a", 6),
	    IMAGE_GIF);
	assert_int_equal(content_image_sniff((const uint8_t *)"GIF88a", 6), 0);
	assert_int_equal(content_image_sniff((const uint8_t *)
	    "RIFF\x10\0\0\0WEBPVP8 ", 16), IMAGE_WEBP);
	assert_int_equal(content_image_sniff((const uint8_t *)
	    "RIFF\x10\0\0\0WAVEfmt ", 16), 0);
	assert_int_equal(content_image_sniff((const uint8_t *)svg,
	    strlen(svg)), 0);
	assert_int_equal(content_image_sniff((const uint8_t *)"<html>", 6), 0);
	assert_int_equal(content_image_sniff(NULL, 0), 0);

	assert_int_equal(content_image_type_of("image/png"), IMAGE_PNG);
	assert_int_equal(content_image_type_of("IMAGE/JPEG; q=1"), IMAGE_JPEG);
	assert_int_equal(content_image_type_of(" image/webp"), IMAGE_WEBP);
	assert_int_equal(content_image_type_of("image/svg+xml"), 0);
	assert_int_equal(content_image_type_of("image/pngx"), 0);
	assert_int_equal(content_image_type_of("image/pn"), 0);
	assert_int_equal(content_image_type_of("text/html"), 0);
	assert_int_equal(content_image_type_of(NULL), 0);
	assert_string_equal(content_image_mime(IMAGE_GIF), "image/gif");
	assert_null(content_image_mime(0));
	assert_null(content_image_mime(5));
}

static void
test_image_id(void **state)
{
	uint8_t hash[STORE_IMAGE_HASH_LEN], back[STORE_IMAGE_HASH_LEN];
	char id[CONTENT_IMAGE_ID_LEN + 1], bad[CONTENT_IMAGE_ID_LEN + 2];
	uint32_t brand;

	(void)state;
	content_image_hash(png_head, sizeof png_head, hash);
	content_image_id(0x01020304, hash, id);
	assert_int_equal(strlen(id), CONTENT_IMAGE_ID_LEN);
	assert_memory_equal(id, "01020304", 8);
	assert_int_equal(content_image_id_parse(id, &brand, back), 0);
	assert_int_equal(brand, 0x01020304);
	assert_memory_equal(hash, back, sizeof hash);
	/* One spelling: upper case, other lengths, non-hex, brand 0. */
	snprintf(bad, sizeof bad, "%s", id);
	bad[10] = bad[10] >= 'a' ? bad[10] - 32 : 'A';
	assert_int_equal(content_image_id_parse(bad, &brand, back),
	    SIGIL_EINVAL);
	snprintf(bad, sizeof bad, "%s0", id);
	assert_int_equal(content_image_id_parse(bad, &brand, back),
	    SIGIL_EINVAL);
	assert_int_equal(content_image_id_parse(id + 1, &brand, back),
	    SIGIL_EINVAL);
	snprintf(bad, sizeof bad, "%s", id);
	bad[20] = 'g';
	assert_int_equal(content_image_id_parse(bad, &brand, back),
	    SIGIL_EINVAL);
	snprintf(bad, sizeof bad, "00000000%s", id + 8);
	assert_int_equal(content_image_id_parse(bad, &brand, back),
	    SIGIL_EINVAL);
	assert_int_equal(content_image_id_parse(NULL, &brand, back),
	    SIGIL_EINVAL);
}

/* ---- languages ---- */

static void
test_lang_norm(void **state)
{
	char out[STORE_LANG_MAX + 1];
	static const char *const bad[] = { "", "e", "engl", "-en", "en-",
	    "en--US", "en_US", "zh-CN-", "x-klingon", "i-navajo", "en-abcdefghi",
	    "中文", "en US", "1a", "en-US\n",
	    "aa-bbbbbbbb-cccccccc-dddddddd-eeeeee", NULL };

	(void)state;
	assert_int_equal(content_lang_norm("zh-cn", out), 0);
	assert_string_equal(out, "zh-CN");
	assert_int_equal(content_lang_norm("EN", out), 0);
	assert_string_equal(out, "en");
	assert_int_equal(content_lang_norm("zh-hant-tw", out), 0);
	assert_string_equal(out, "zh-Hant-TW");
	assert_int_equal(content_lang_norm("es-419", out), 0);
	assert_string_equal(out, "es-419");
	assert_int_equal(content_lang_norm("yue", out), 0);
	assert_string_equal(out, "yue");
	for (int i = 0; bad[i] != NULL; i++)
		assert_int_equal(content_lang_norm(bad[i], out), SIGIL_EINVAL);
	assert_int_equal(content_lang_norm(NULL, out), SIGIL_EINVAL);
}

static void
test_lang_choose(void **state)
{
	const char *const all[] = { "en", "ja", "zh-CN", "zh-Hant-TW" };
	const char *const en_only[] = { "fr", "en-GB" };
	const char *const other[] = { "fr", "de" };

	(void)state;
	/* Exact, by q, ties by order. */
	assert_int_equal(content_lang_choose("ja", all, 4), 1);
	assert_int_equal(content_lang_choose("en;q=0.5, ja;q=0.8", all, 4), 1);
	assert_int_equal(content_lang_choose("ja, en", all, 4), 1);
	assert_int_equal(content_lang_choose("EN-us,en;q=0.9", all, 4), 0);
	/* RFC 4647 lookup: zh-Hant-TW-x... falls back by subtags. */
	assert_int_equal(content_lang_choose("zh-Hant-TW-u-nu", all, 4), 3);
	assert_int_equal(content_lang_choose("zh-Hant", all, 4), 3);
	/* A language asks for any of its regions: zh matches zh-CN. */
	assert_int_equal(content_lang_choose("zh", all, 4), 2);
	assert_int_equal(content_lang_choose("zh-SG", all, 4), 2);
	/* No match: zh-CN, then en, then the first tag. */
	assert_int_equal(content_lang_choose("fr-FR", all, 4), 2);
	assert_int_equal(content_lang_choose(NULL, all, 4), 2);
	assert_int_equal(content_lang_choose("", all, 4), 2);
	assert_int_equal(content_lang_choose("*", all, 4), 2);
	assert_int_equal(content_lang_choose(NULL, en_only, 2), 1);
	assert_int_equal(content_lang_choose("de", other, 2), 1);
	assert_int_equal(content_lang_choose("it", other, 2), 0);
	/* q=0 refuses: zh-CN refused, English next. */
	assert_int_equal(content_lang_choose("zh-CN;q=0, ko", all, 4), 0);
	assert_int_equal(content_lang_choose("ja;q=0", all, 4), 2);
	/* Malformed ranges are skipped, not guessed at. */
	assert_int_equal(content_lang_choose("ja;q=2, en", all, 4), 0);
	assert_int_equal(content_lang_choose(";;;,,,ja", all, 4), 1);
	assert_int_equal(content_lang_choose("en", all, 0), -1);
}

static void
test_lang_choose_bounds(void **state)
{
	const char *const tags[] = { "en", "ja" };
	char h[4096];
	size_t n = 0;

	(void)state;
	/* ja past the 1024th byte is not read. */
	while (n < 1100)
		n += (size_t)snprintf(h + n, sizeof h - n, "fr;q=0.1,");
	snprintf(h + n, sizeof h - n, "ja");
	assert_int_equal(content_lang_choose(h, tags, 2), 0);
	/* Nor is the 33rd range. */
	n = 0;
	for (int i = 0; i < 32; i++)
		n += (size_t)snprintf(h + n, sizeof h - n, "de,");
	snprintf(h + n, sizeof h - n, "ja");
	assert_int_equal(content_lang_choose(h, tags, 2), 0);
}

/* ---- hrefs ---- */

static void
test_href(void **state)
{
	char out[CONTENT_HREF_MAX + 1], long_href[400];
	int kind;
	static const char *const bad[] = { "javascript:alert(1)",
	    "JAVASCRIPT:alert(1)", " javascript:alert(1)", "java\tscript:x",
	    "data:text/html,<script>alert(1)</script>", "vbscript:msgbox",
	    "//evil.example/", "/relative", "relative", "https://",
	    "https:///path", "https://a.example/\"onmouseover=x",
	    "https://a.example/'x", "https://a.example/<b>",
	    "https://a.example/\\x", "https://a b.example/",
	    "https://user@evil.example/", "https://a.example/\x7f",
	    "https://a.example/\xe4\xb8\xad", "ftp://a.example/", "mailto:a@b",
	    "tel:", "tel:12", "tel:+86 400", "tel:abc", "tel:1;ext=2",
	    "link:gs1:nope", "link:gs1:", "link:pip", "link:gs1:PIP",
	    "file:///etc/passwd", "", NULL };

	(void)state;
	assert_int_equal(content_href_check("https://a.example/p?x=1&y=2", out,
	    sizeof out, &kind), 0);
	assert_int_equal(kind, HREF_WEB);
	assert_string_equal(out, "https://a.example/p?x=1&y=2");
	assert_int_equal(content_href_check("HTTP://a.example", out,
	    sizeof out, &kind), 0);
	assert_string_equal(out, "http://a.example");
	assert_int_equal(content_href_check("https://a.example/x@y", out,
	    sizeof out, &kind), 0);
	assert_int_equal(content_href_check("TEL:+86-400-800", out,
	    sizeof out, &kind), 0);
	assert_int_equal(kind, HREF_TEL);
	assert_string_equal(out, "tel:+86-400-800");
	assert_int_equal(content_href_check("link:gs1:promotion", out,
	    sizeof out, &kind), 0);
	assert_int_equal(kind, HREF_LINK);
	assert_int_equal(content_href_check("link:gs1:customerSupport", out,
	    sizeof out, &kind), 0);
	for (int i = 0; bad[i] != NULL; i++)
		assert_int_equal(content_href_check(bad[i], out, sizeof out,
		    &kind), SIGIL_EINVAL);
	memset(long_href, 'a', sizeof long_href);
	memcpy(long_href, "https://", 8);
	long_href[CONTENT_HREF_MAX + 1] = '\0';
	assert_int_equal(content_href_check(long_href, out, sizeof out,
	    &kind), SIGIL_EINVAL);
	long_href[CONTENT_HREF_MAX] = '\0';
	assert_int_equal(content_href_check(long_href, out, sizeof out,
	    &kind), 0);
	/* Ampersands count five bytes each: the page's size is bounded. */
	memset(long_href + 8, '&', 100);
	assert_int_equal(content_href_check(long_href, out, sizeof out,
	    &kind), SIGIL_EINVAL);
}

/* ---- documents and the tables (a real store) ---- */

struct fx {
	char		dir[64];
	struct store	*st;
	char		img[CONTENT_IMAGE_ID_LEN + 1];
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	struct image_meta m = { 0 };

	if (f == NULL || tmpdir_new(f->dir, sizeof f->dir, "content") == NULL)
		return -1;
	if (store_open(f->dir, STORE_CREATE, &f->st) != 0)
		return -1;
	m.brand_id = 1;
	m.type = IMAGE_PNG;
	m.bytes = sizeof png_head;
	content_image_hash(png_head, sizeof png_head, m.hash);
	if (store_image_put(f->st, &m, png_head, NULL) != 0)
		return -1;
	content_image_id(1, m.hash, f->img);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	storefix_close(f->dir, f->st);
	free(f);
	return 0;
}

/* content_doc_check of the JSON text j for kind: 0 and *text, or err. */
static int
check_doc(struct fx *f, uint32_t brand, int kind, const char *j, char **text)
{
	char why[256];
	size_t len;
	json_t *o = json_loads(j, 0, NULL);
	int rc;

	assert_non_null(o);
	rc = content_doc_check(f->st, brand, kind, o, text, &len, why,
	    sizeof why);
	json_decref(o);
	if (rc == 0)
		assert_int_equal(strlen(*text), len);
	else
		assert_true(why[0] != '\0' && strchr(why, '"') == NULL);
	return rc;
}

static void
test_doc_check(void **state)
{
	struct fx *f = *state;
	char j[1024], *text = NULL;
	static const char *const bad_product[] = {
		"{}", "{\"extra\": 1}", "{\"title\": \"\"}", "{\"title\": 1}",
		"{\"title\": \"a\\nb\"}", "{\"story\": \"a\\rb\"}",
		"{\"images\": \"x\"}", "{\"images\": [\"nope\"]}",
		"{\"buttons\": {}}", "{\"buttons\": [\"x\"]}",
		"{\"buttons\": [{\"label\": \"x\"}]}",
		"{\"buttons\": [{\"href\": \"https://a.example\"}]}",
		"{\"buttons\": [{\"label\": \"x\", \"href\": \"javascript:x\"}]}",
		"{\"buttons\": [{\"label\": \"x\", \"href\": \"https://a.example\","
		    " \"style\": \"x\"}]}",
		"{\"buttons\": [{\"label\": 1, \"href\": \"https://a.example\"}]}",
		"{\"display_name\": \"x\"}",
		"{\"<script>\": 1}", NULL };
	static const char *const bad_brand[] = {
		"{\"title\": \"x\"}", "{\"logo\": \"x\"}",
		"{\"support_phone\": \"12\"}", "{\"support_phone\": \"+86 x\"}",
		"{\"support_url\": \"javascript:alert(1)\"}",
		"{\"support_url\": \"tel:12345\"}",
		"{\"display_name\": \"0123456789012345678901234567890123456789x\"}",
		NULL };

	for (int i = 0; bad_product[i] != NULL; i++)
		assert_int_equal(check_doc(f, 1, CONTENT_PRODUCT, bad_product[i],
		    &text), SIGIL_EINVAL);
	for (int i = 0; bad_brand[i] != NULL; i++)
		assert_int_equal(check_doc(f, 1, CONTENT_BRAND, bad_brand[i],
		    &text), SIGIL_EINVAL);
	/* Another brand's image is no image. */
	snprintf(j, sizeof j, "{\"logo\": \"%s\"}", f->img);
	assert_int_equal(check_doc(f, 2, CONTENT_BRAND, j, &text),
	    SIGIL_EINVAL);
	assert_int_equal(check_doc(f, 1, CONTENT_BRAND, j, &text), 0);
	free(text);
	/* Canonical: sorted keys, hrefs' schemes lower-cased. */
	snprintf(j, sizeof j, "{\"title\": \"<b>T</b>\", \"images\": [\"%s\"], "
	    "\"buttons\": [{\"href\": \"HTTPS://a.example\", \"label\": \"L\"}],"
	    " \"story\": \"one\\n\\ntwo\"}", f->img);
	assert_int_equal(check_doc(f, 1, CONTENT_PRODUCT, j, &text), 0);
	snprintf(j, sizeof j, "{\"buttons\":[{\"href\":\"https://a.example\","
	    "\"label\":\"L\"}],\"images\":[\"%s\"],\"story\":\"one\\n\\ntwo\","
	    "\"title\":\"<b>T</b>\"}", f->img);
	assert_string_equal(text, j);
	free(text);
}

static int
count_doc(void *arg, const struct content_doc *d)
{
	(void)d;
	(*(int *)arg)++;
	return 0;
}

static void
test_store_content(void **state)
{
	struct fx *f = *state;
	struct content_doc *d = calloc(1, sizeof *d), *got = calloc(1,
	    sizeof *got);
	int n;

	d->key.brand_id = 1;
	d->key.kind = CONTENT_PRODUCT;
	snprintf(d->key.sku, sizeof d->key.sku, "A");
	snprintf(d->key.lang, sizeof d->key.lang, "en");
	snprintf(d->text, sizeof d->text, "{\"title\":\"a\"}");
	d->len = strlen(d->text);
	assert_int_equal(store_content_put(f->st, d), 0);
	snprintf(d->key.lang, sizeof d->key.lang, "zh-CN");
	assert_int_equal(store_content_put(f->st, d), 0);
	/* Product "AB" is not product "A"; nor brand 2's "A". */
	snprintf(d->key.sku, sizeof d->key.sku, "AB");
	assert_int_equal(store_content_put(f->st, d), 0);
	d->key.brand_id = 2;
	snprintf(d->key.sku, sizeof d->key.sku, "A");
	assert_int_equal(store_content_put(f->st, d), 0);
	d->key.brand_id = 1;
	n = 0;
	assert_int_equal(store_content_langs(f->st, &d->key, count_doc, &n), 0);
	assert_int_equal(n, 2);
	n = 0;
	assert_int_equal(store_content_each(f->st, 1, count_doc, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(store_content_get(f->st, &d->key, got), 0);
	assert_string_equal(got->key.sku, "A");
	assert_string_equal(got->key.lang, "zh-CN");
	assert_string_equal(got->text, "{\"title\":\"a\"}");
	assert_int_equal(store_content_del(f->st, &d->key), 0);
	assert_int_equal(store_content_del(f->st, &d->key), SIGIL_ENOTFOUND);
	assert_int_equal(store_content_get(f->st, &d->key, got),
	    SIGIL_ENOTFOUND);
	/* Bad keys and sizes. */
	d->key.kind = 9;
	assert_int_equal(store_content_put(f->st, d), SIGIL_EINVAL);
	d->key.kind = CONTENT_BATCH;
	d->key.batch_id = 0;
	assert_int_equal(store_content_put(f->st, d), SIGIL_EINVAL);
	d->key.batch_id = 7;
	d->len = 0;
	assert_int_equal(store_content_put(f->st, d), SIGIL_EINVAL);
	d->len = STORE_CONTENT_DOC_MAX + 1;
	assert_int_equal(store_content_put(f->st, d), SIGIL_EINVAL);
	/* At most STORE_CONTENT_PER_SUBJECT languages of one subject. */
	d->len = 2;
	for (int i = 0; i < STORE_CONTENT_PER_SUBJECT; i++) {
		snprintf(d->key.lang, sizeof d->key.lang, "x%c%c", 'a' + i / 26,
		    'a' + i % 26);
		assert_int_equal(store_content_put(f->st, d), 0);
	}
	snprintf(d->key.lang, sizeof d->key.lang, "zzz");
	assert_int_equal(store_content_put(f->st, d), SIGIL_EFULL);
	snprintf(d->key.lang, sizeof d->key.lang, "xaa");
	assert_int_equal(store_content_put(f->st, d), 0);
	free(d);
	free(got);
}

static void
test_store_images(void **state)
{
	struct fx *f = *state;
	struct image_meta m = { 0 }, got;
	struct image_usage u;
	uint8_t *data = NULL, *big = calloc(1, STORE_IMAGE_MAX + 1);
	int existed = -1;

	assert_int_equal(store_image_usage(f->st, 1, &u), 0);
	assert_int_equal(u.count, 1);
	assert_int_equal(u.bytes, sizeof png_head);
	m.brand_id = 1;
	m.type = IMAGE_PNG;
	m.bytes = sizeof png_head;
	content_image_hash(png_head, sizeof png_head, m.hash);
	assert_int_equal(store_image_put(f->st, &m, png_head, &existed), 0);
	assert_int_equal(existed, 1);
	assert_int_equal(store_image_usage(f->st, 1, &u), 0);
	assert_int_equal(u.count, 1);
	assert_int_equal(store_image_get(f->st, 1, m.hash, &got, &data), 0);
	assert_int_equal(got.bytes, sizeof png_head);
	assert_memory_equal(data, png_head, sizeof png_head);
	free(data);
	assert_int_equal(store_image_get(f->st, 2, m.hash, &got, &data),
	    SIGIL_ENOTFOUND);
	m.bytes = STORE_IMAGE_MAX + 1;
	assert_int_equal(store_image_put(f->st, &m, big, NULL), SIGIL_EINVAL);
	m.bytes = 0;
	assert_int_equal(store_image_put(f->st, &m, big, NULL), SIGIL_EINVAL);
	/* The brand's total (lowered here from 64 MiB): two full images
	 * fit, the third is refused and nothing of it is kept. */
	setenv("SIGIL_IMAGES_BRAND_MAX", "5000000", 1);
	for (int i = 0; i < 3; i++) {
		big[0] = (uint8_t)i;
		m.bytes = STORE_IMAGE_MAX;
		content_image_hash(big, m.bytes, m.hash);
		assert_int_equal(store_image_put(f->st, &m, big, NULL),
		    i < 2 ? 0 : SIGIL_EFULL);
	}
	unsetenv("SIGIL_IMAGES_BRAND_MAX");
	assert_int_equal(store_image_usage(f->st, 1, &u), 0);
	assert_int_equal(u.count, 3);
	assert_int_equal(u.bytes, 2 * STORE_IMAGE_MAX + sizeof png_head);
	assert_int_equal(store_image_del(f->st, 1, m.hash), SIGIL_ENOTFOUND);
	big[0] = 0;
	content_image_hash(big, STORE_IMAGE_MAX, m.hash);
	assert_int_equal(store_image_del(f->st, 1, m.hash), 0);
	assert_int_equal(store_image_del(f->st, 1, m.hash), SIGIL_ENOTFOUND);
	assert_int_equal(store_image_usage(f->st, 2, &u), 0);
	assert_int_equal(u.count, 0);
	free(big);
}

/* ---- one scan's view ---- */

static void
put_raw(struct store *st, int kind, const char *sku, uint64_t batch,
    const char *lang, const char *json)
{
	struct content_doc *d = calloc(1, sizeof *d);

	d->key.brand_id = 1;
	d->key.kind = kind;
	snprintf(d->key.sku, sizeof d->key.sku, "%s", sku ? sku : "");
	d->key.batch_id = batch;
	snprintf(d->key.lang, sizeof d->key.lang, "%s", lang);
	d->len = strlen(json);
	memcpy(d->text, json, d->len);
	assert_int_equal(store_content_put(st, d), 0);
	free(d);
}

static const char *resolved_href;

static int
fake_links(struct app *app, uint32_t brand_id, const char *sku,
    uint64_t batch_id, uint64_t serial, const char *link_type, char *href,
    size_t size)
{
	(void)app;
	(void)brand_id;
	(void)sku;
	(void)batch_id;
	(void)serial;
	if (resolved_href == NULL || strcmp(link_type, "gs1:promotion") != 0)
		return -1;
	snprintf(href, size, "%s", resolved_href);
	return 0;
}

static void
test_view(void **state)
{
	struct fx *f = *state;
	struct app app = { 0 };
	struct content_view *v = calloc(1, sizeof *v);
	json_t *draft;

	app.store = f->st;
	put_raw(f->st, CONTENT_BRAND, NULL, 0, "en",
	    "{\"display_name\":\"Acme\",\"support_url\":\"https://a.example\"}");
	put_raw(f->st, CONTENT_BRAND, NULL, 0, "zh-CN",
	    "{\"display_name\":\"阿克米\"}");
	/* Stored past the checks (an older sigil, a restored backup): the
	 * view checks hrefs again and drops what is not http(s) or tel:. */
	put_raw(f->st, CONTENT_PRODUCT, "P", 0, "en", "{\"title\":\"T\","
	    "\"story\":\"S\",\"buttons\":[{\"label\":\"a\",\"href\":"
	    "\"javascript:alert(1)\"},{\"label\":\"b\",\"href\":"
	    "\"https://shop.example/\"},{\"label\":\"c\",\"href\":"
	    "\"link:gs1:promotion\"}]}");
	put_raw(f->st, CONTENT_BATCH, "P", 7, "en", "{\"title\":\"Batch T\"}");
	put_raw(f->st, CONTENT_BATCH, "P", 7, "ja", "{\"title\":\"バッチ\"}");

	/* English: the brand's en; the batch's title over the product's,
	 * the product's story; the javascript: button dropped, the link
	 * button left out while no resolver is set. */
	content_link_resolver_set(NULL);
	assert_int_equal(content_view_load(&app, 1, "P", 7, 0, "en", NULL, 0,
	    v), 0);
	assert_string_equal(v->pc.display_name, "Acme");
	assert_string_equal(v->pc.brand_lang, "en");
	assert_string_equal(v->pc.title, "Batch T");
	assert_string_equal(v->pc.story, "S");
	assert_int_equal(v->pc.nbuttons, 1);
	assert_string_equal(v->pc.buttons[0].href, "https://shop.example/");
	assert_int_equal(v->pc.nsteps, 0);
	content_view_free(v);

	/* A resolver: its href is checked like any other. */
	content_link_resolver_set(fake_links);
	resolved_href = "https://promo.example/cny";
	assert_int_equal(content_view_load(&app, 1, "P", 7, 0, "en", NULL, 0,
	    v), 0);
	assert_int_equal(v->pc.nbuttons, 2);
	assert_string_equal(v->pc.buttons[1].href, "https://promo.example/cny");
	assert_string_equal(v->pc.buttons[1].label, "c");
	content_view_free(v);
	resolved_href = "javascript:alert(1)";
	assert_int_equal(content_view_load(&app, 1, "P", 7, 0, "en", NULL, 0,
	    v), 0);
	assert_int_equal(v->pc.nbuttons, 1);
	content_view_free(v);
	content_link_resolver_set(NULL);

	/* Japanese: only the batch has it; the product has no ja, so only
	 * the batch's title. Chinese brand by default. */
	assert_int_equal(content_view_load(&app, 1, "P", 7, 0, "ja", NULL, 0,
	    v), 0);
	assert_string_equal(v->pc.title, "バッチ");
	assert_null(v->pc.story);
	assert_string_equal(v->pc.display_name, "阿克米");
	content_view_free(v);
	/* Another batch of the product: the product's own title. */
	assert_int_equal(content_view_load(&app, 1, "P", 8, 0, "en", NULL, 0,
	    v), 0);
	assert_string_equal(v->pc.title, "T");
	content_view_free(v);
	/* Written again: the new document, not a kept copy. */
	put_raw(f->st, CONTENT_PRODUCT, "P", 0, "en", "{\"title\":\"T2\"}");
	assert_int_equal(content_view_load(&app, 1, "P", 8, 0, "en", NULL, 0,
	    v), 0);
	assert_string_equal(v->pc.title, "T2");
	assert_null(v->pc.story);
	content_view_free(v);
	/* Another brand sees nothing of it. */
	assert_int_equal(content_view_load(&app, 2, "P", 7, 0, "en", NULL, 0,
	    v), 0);
	assert_null(v->pc.display_name);
	assert_null(v->pc.title);
	content_view_free(v);
	/* A preview's draft replaces the product's document; sample trace. */
	draft = json_pack("{s:s}", "story", "Draft");
	assert_int_equal(content_view_load(&app, 1, "P", 0, 1, "en", draft, 1,
	    v), 0);
	assert_string_equal(v->pc.story, "Draft");
	assert_null(v->pc.title);
	assert_int_equal(v->pc.nsteps, 4);
	assert_int_equal(v->pc.steps[3].kind, PAGE_STEP_RECEIVED);
	content_view_free(v);
	json_decref(draft);
	free(v);
}

/* ---- the page blocks ---- */

static char *
render(const struct page_view *v, int lang)
{
	struct evbuffer *b = evbuffer_new();
	size_t n;
	char *s;

	assert_int_equal(page_render(v, lang, b), 0);
	n = evbuffer_get_length(b);
	s = malloc(n + 1);
	evbuffer_copyout(b, s, n);
	s[n] = '\0';
	evbuffer_free(b);
	return s;
}

static void
test_page_blocks(void **state)
{
	const char *web = getenv("SIGIL_WEB_DIR");
	struct page_content c = { 0 };
	struct page_view v = { 0 };
	char *html;

	(void)state;
	assert_int_equal(page_init(web ? web : "web"), 0);
	c.display_name = "Acme <b>";
	c.logo = "0000000100000000000000000000000000000000000000aa";
	c.support_phone = "+86 400-800";
	c.support_url = "https://acme.example/help?a=1&b=2";
	c.title = "T <script>window.x=1</script>";
	c.story = "one\nline\n\n\ntwo <i>";
	c.lang = "en";
	c.images[0] = c.logo;
	c.nimages = 1;
	c.buttons[0].label = "<img src=x onerror=alert(1)>";
	c.buttons[0].href = "https://shop.example/?q=\"x";
	c.nbuttons = 1;
	c.steps[0].kind = PAGE_STEP_MADE;
	c.steps[0].at = INT64_C(1795420862000000);
	c.steps[1].kind = PAGE_STEP_SHIPPED;
	c.steps[1].at = INT64_C(1795420862000000);
	c.steps[1].distributor = "D & Co";
	c.nsteps = 2;
	v.verdict = VERDICT_GENUINE;
	v.content = &c;
	html = render(&v, PAGE_LANG_ZH);
	assert_non_null(strstr(html, "<span id=\"brand-name\">Acme &lt;b&gt;"));
	assert_non_null(strstr(html, "T &lt;script&gt;window.x=1"));
	assert_null(strstr(html, "<script>window"));
	assert_non_null(strstr(html, "<p>one<br>line</p><p>two &lt;i&gt;</p>"));
	assert_non_null(strstr(html, "&lt;img src=x onerror=alert(1)&gt;"));
	assert_non_null(strstr(html, "href=\"https://shop.example/?q=&quot;x\""));
	assert_non_null(strstr(html, "id=\"story\" lang=\"en\""));
	assert_non_null(strstr(html, "src=\"/i/0000000100000000"));
	assert_non_null(strstr(html, "<li><b>生产</b> <time datetime="
	    "\"2026-11-23T08:01:02"));
	assert_non_null(strstr(html, "2026-11-23 16:01"));
	assert_non_null(strstr(html, "D &amp; Co"));
	assert_non_null(strstr(html, "href=\"tel:+86400800\""));
	assert_non_null(strstr(html, "acme.example/help?a=1&amp;b=2"));
	/* The verdict comes first. */
	assert_true(strstr(html, "id=\"verdict\"") < strstr(html,
	    "id=\"brand\""));
	free(html);

	/* Any other verdict: no logo, story, images or buttons; the name,
	 * the trace and support stay. */
	for (int verdict = VERDICT_SUSPICIOUS; verdict <= VERDICT_INACTIVE;
	    verdict++) {
		v.verdict = verdict;
		html = render(&v, PAGE_LANG_EN);
		assert_null(strstr(html, "id=\"story\""));
		assert_null(strstr(html, "/i/"));
		assert_null(strstr(html, "shop.example"));
		assert_non_null(strstr(html, "id=\"brand-name\""));
		assert_non_null(strstr(html, "id=\"support\""));
		assert_non_null(strstr(html, "Shipped to distributor"));
		assert_non_null(strstr(html, "2026-11-23 08:01 UTC"));
		free(html);
	}
	/* The CSP allows the template's script by hash only. */
	assert_non_null(strstr(page_csp(0), "script-src 'sha256-"));
	assert_null(strstr(strstr(page_csp(0), "script-src"),
	    "unsafe-inline"));
	assert_non_null(strstr(page_csp(0), "img-src 'self'"));
	assert_non_null(strstr(page_csp(0), "frame-ancestors 'none'"));
	assert_non_null(strstr(page_csp(1), "frame-ancestors 'self'"));
	/* Preview: no script at all. */
	v.verdict = VERDICT_GENUINE;
	v.preview = 1;
	html = render(&v, PAGE_LANG_EN);
	assert_null(strstr(html, "<script>"));
	free(html);
	page_fini();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sniff),
		cmocka_unit_test(test_image_id),
		cmocka_unit_test(test_lang_norm),
		cmocka_unit_test(test_lang_choose),
		cmocka_unit_test(test_lang_choose_bounds),
		cmocka_unit_test(test_href),
		cmocka_unit_test_setup_teardown(test_doc_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_content, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_store_images, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_view, setup, teardown),
		cmocka_unit_test(test_page_blocks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
