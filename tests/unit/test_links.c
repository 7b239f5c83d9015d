/*
 * test_links.c - the brand's GS1 links: what a link may be (GS1 Web
 * Vocabulary link types, http(s) targets, BCP 47 languages), the store
 * (add, get, replace, delete, walk; one default per level and per type;
 * brand isolation) and the walk-up serial -> lot -> GTIN -> brand,
 * batch -> product -> brand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "storefix.h"

#include "sigil/links.h"
#include "sigil/store.h"
#include "sigil/util.h"

static void
test_type(void **state)
{
	char out[LINK_TYPE_MAX + 1];

	(void)state;
	assert_true(links_type_ok("gs1:pip", out));
	assert_string_equal(out, "gs1:pip");
	assert_true(links_type_ok("gs1:recipeInfo", NULL));
	assert_true(links_type_ok("gs1:certificationInfo", NULL));
	assert_true(links_type_ok("gs1:registerProduct", NULL));
	assert_true(links_type_ok("gs1:customerSupport", out));
	assert_string_equal(out, "gs1:support");
	assert_false(links_type_ok("pip", NULL));
	assert_false(links_type_ok("gs1:Pip", NULL));
	assert_false(links_type_ok("gs1:defaultLink", NULL));
	assert_false(links_type_ok("gs1:defaultLinkMulti", NULL));
	assert_false(links_type_ok("schema:url", NULL));
	assert_false(links_type_ok("gs1:", NULL));
	assert_false(links_type_ok(NULL, NULL));
}

static void
test_href(void **state)
{
	static const char *const bad[] = {
		"javascript:alert(1)", "data:text/html,x", "ftp://a.example/",
		"tel:+8610", "https://", "https:///x", "https://u@a.example/",
		"https://a.example/a b", "https://a.example/#f",
		"https://a.example:/x", "https://a.example:123456/",
		"https://a.example:8x/", "https://-a.example/",
		"https://a_b.example/", "https://a.example/\"", "//a.example/",
		"https://[::1/", "https://a.example/\x7f", "",
	};
	char out[LINK_HREF_MAX + 1], big[LINK_HREF_MAX + 2];
	const char *why;

	(void)state;
	assert_int_equal(links_href_check("HTTPS://Shop.EXAMPLE:8443/A?b=C",
	    out, sizeof out, &why), 0);
	assert_string_equal(out, "https://shop.example:8443/A?b=C");
	assert_int_equal(links_href_check("http://[2001:db8::1]/x", out,
	    sizeof out, NULL), 0);
	assert_int_equal(links_href_check("https://a.example", out,
	    sizeof out, NULL), 0);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		why = NULL;
		if (links_href_check(bad[i], out, sizeof out, &why) !=
		    SIGIL_EINVAL)
			fail_msg("accepted: %s", bad[i]);
		assert_non_null(why);
	}
	memset(big, 'a', sizeof big - 1);
	memcpy(big, "https://a.example/", 18);
	big[sizeof big - 1] = '\0';
	assert_int_equal(links_href_check(big, out, sizeof out, NULL),
	    SIGIL_EINVAL);
	big[sizeof big - 2] = '\0';
	assert_int_equal(links_href_check(big, out, sizeof out, NULL), 0);
}

static void
test_lang(void **state)
{
	static const char *const good[] = { "en", "zh-CN", "zh-Hans-CN",
	    "de-CH-1996", "es-419", "en-US-x-twain", "x-klingon", "sgn-BE-FR",
	    "i-enochian" };
	static const char *const bad[] = { "", "e", "zh_CN", "en-", "-en",
	    "en--US", "1en", "en-US-x", "toolongtag", "en-x-y-", "zh-CN ",
	    "en-abcdefghi", "aaaaaaaaa-bbbbbbbb-cccccccc-dddddddd" };

	(void)state;
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		if (!links_lang_ok(good[i]))
			fail_msg("refused: %s", good[i]);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (links_lang_ok(bad[i]))
			fail_msg("accepted: %s", bad[i]);
	assert_false(links_lang_ok(NULL));
}

/* ---- the store and the walk-up ---- */

struct fixture {
	char		dir[64];
	struct store	*st;
	uint32_t	a, b;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	struct brand br = { 0 };

	if (f == NULL || storefix_open(f->dir, sizeof f->dir, "links",
	    STORE_CREATE, &f->st) != 0)
		return -1;
	strcpy(br.name, "acme");
	strcpy(br.base_url, "https://acme.example");
	if (store_brand_add(f->st, &br) != 0)
		return -1;
	f->a = br.id;
	strcpy(br.name, "beta");
	if (store_brand_add(f->st, &br) != 0)
		return -1;
	f->b = br.id;
	*state = f;
	return 0;
}

STOREFIX_TEARDOWN(struct fixture)

static uint32_t
add(struct store *st, uint32_t brand, const char *gtin, const char *lot,
    const char *serial, const char *sku, uint64_t batch, const char *type,
    const char *href, int def, int type_def)
{
	struct link *l = calloc(1, sizeof *l);
	uint32_t id;

	assert_non_null(l);
	l->brand_id = brand;
	strcpy(l->gtin, gtin);
	strcpy(l->lot, lot);
	strcpy(l->serial, serial);
	strcpy(l->sku, sku);
	l->batch = batch;
	strcpy(l->link_type, type);
	strcpy(l->href, href);
	strcpy(l->title, "t");
	strcpy(l->hreflang, "zh-CN,en");
	l->is_default = def;
	l->type_default = type_def;
	assert_int_equal(store_link_add(st, l), 0);
	assert_true(l->id > 0 && l->created > 0);
	id = l->id;
	free(l);
	return id;
}

static const char *
pick(struct store *st, uint32_t brand, const struct links_item *it,
    const char *type)
{
	static char href[LINK_HREF_MAX + 1];
	struct link *v = NULL;
	const struct link *l;
	size_t n = 0;

	assert_int_equal(links_of_item(st, brand, it, &v, &n), 0);
	l = links_pick(v, n, it, type);
	snprintf(href, sizeof href, "%s", l != NULL ? l->href : "-");
	free(v);
	return href;
}

static void
test_store_and_walk_up(void **state)
{
	struct fixture *f = *state;
	struct store *st = f->st;
	const char *G = "09506000134352";
	struct links_item it = { G, "L1", "7", "TEA", 3 };
	struct links_item other = { G, "L2", "8", "TEA", 4 };
	struct links_item compact = { "", "", "9", "CMP", 5 };
	struct link *l = calloc(1, sizeof *l);
	uint32_t brand_def, gtin_def, lot_def, ser_def, lot_def2, promo1,
	    promo2;

	assert_non_null(l);
	assert_string_equal(pick(st, f->a, &it, NULL), "-");
	brand_def = add(st, f->a, "", "", "", "", 0, "gs1:pip", "https://b/",
	    1, 0);
	assert_string_equal(pick(st, f->a, &it, NULL), "https://b/");
	assert_string_equal(pick(st, f->a, &compact, NULL), "https://b/");
	assert_string_equal(pick(st, f->b, &it, NULL), "-");	/* isolation */
	gtin_def = add(st, f->a, G, "", "", "", 0, "gs1:pip", "https://g/", 1,
	    0);
	lot_def = add(st, f->a, G, "L1", "", "", 0, "gs1:pip", "https://l1/",
	    1, 0);
	ser_def = add(st, f->a, G, "L1", "7", "", 0, "gs1:registerProduct",
	    "https://s7/", 1, 0);
	assert_string_equal(pick(st, f->a, &it, NULL), "https://s7/");
	assert_string_equal(pick(st, f->a, &other, NULL), "https://g/");
	it.serial = "6";
	assert_string_equal(pick(st, f->a, &it, NULL), "https://l1/");
	it.serial = "7";
	/* a type: the most specific level with that type decides */
	assert_string_equal(pick(st, f->a, &it, "gs1:pip"), "https://l1/");
	assert_string_equal(pick(st, f->a, &it, "gs1:promotion"), "-");
	promo1 = add(st, f->a, G, "", "", "", 0, "gs1:promotion",
	    "https://p1/", 0, 0);
	promo2 = add(st, f->a, G, "", "", "", 0, "gs1:promotion",
	    "https://p2/", 0, 1);
	assert_string_equal(pick(st, f->a, &it, "gs1:promotion"),
	    "https://p2/");
	/* one type, two languages: Accept-Language chooses */
	{
		uint32_t en = add(st, f->a, G, "", "", "", 0, "gs1:recipeInfo",
		    "https://en/", 0, 0);
		uint32_t zh = add(st, f->a, G, "", "", "", 0, "gs1:recipeInfo",
		    "https://zh/", 0, 1);
		struct link *x = calloc(1, sizeof *x);

		assert_non_null(x);
		assert_int_equal(store_link_get(st, f->a, en, x), 0);
		strcpy(x->hreflang, "en");
		assert_int_equal(store_link_put(st, x), 0);
		assert_int_equal(store_link_get(st, f->a, zh, x), 0);
		strcpy(x->hreflang, "zh-CN");
		assert_int_equal(store_link_put(st, x), 0);
		free(x);
		it.accept_language = "en-GB,en;q=0.9";
		assert_string_equal(pick(st, f->a, &it, "gs1:recipeInfo"),
		    "https://en/");
		it.accept_language = "zh-TW";
		assert_string_equal(pick(st, f->a, &it, "gs1:recipeInfo"),
		    "https://zh/");
		it.accept_language = "fr, en;q=0, *;q=0.1";
		assert_string_equal(pick(st, f->a, &it, "gs1:recipeInfo"),
		    "https://zh/");		/* en refused: the type default */
		it.accept_language = "de";
		assert_string_equal(pick(st, f->a, &it, "gs1:recipeInfo"),
		    "https://zh/");
		it.accept_language = NULL;
	}
	/* one default per level: the new one takes the flag */
	lot_def2 = add(st, f->a, G, "L1", "", "", 0, "gs1:pip",
	    "https://l1b/", 1, 0);
	assert_int_equal(store_link_get(st, f->a, lot_def, l), 0);
	assert_false(l->is_default);
	assert_int_equal(store_link_get(st, f->a, gtin_def, l), 0);
	assert_true(l->is_default);	/* another level keeps its own */
	it.serial = "6";
	assert_string_equal(pick(st, f->a, &it, NULL), "https://l1b/");
	/* replace: a type default moves the same way */
	assert_int_equal(store_link_get(st, f->a, promo1, l), 0);
	l->type_default = 1;
	strcpy(l->title, "new title");
	assert_int_equal(store_link_put(st, l), 0);
	assert_int_equal(store_link_get(st, f->a, promo2, l), 0);
	assert_false(l->type_default);
	assert_string_equal(pick(st, f->a, &it, "gs1:promotion"),
	    "https://p1/");
	/* another brand's id is not found, to read, change or delete */
	assert_int_equal(store_link_get(st, f->b, promo1, l), SIGIL_ENOTFOUND);
	assert_int_equal(store_link_get(st, f->a, promo1, l), 0);
	l->brand_id = f->b;
	assert_int_equal(store_link_put(st, l), SIGIL_ENOTFOUND);
	assert_int_equal(store_link_del(st, f->b, promo1), SIGIL_ENOTFOUND);
	/* compact codes: batch, then product, then brand */
	add(st, f->a, "", "", "", "CMP", 0, "gs1:pip", "https://cmp/", 1, 0);
	add(st, f->a, "", "", "", "CMP", 5, "gs1:pip", "https://cmp5/", 1, 0);
	assert_string_equal(pick(st, f->a, &compact, NULL), "https://cmp5/");
	compact.batch = 6;
	assert_string_equal(pick(st, f->a, &compact, NULL), "https://cmp/");
	/* delete walks back up */
	assert_int_equal(store_link_del(st, f->a, lot_def2), 0);
	assert_int_equal(store_link_del(st, f->a, lot_def2), SIGIL_ENOTFOUND);
	assert_string_equal(pick(st, f->a, &it, NULL), "https://g/");
	assert_int_equal(store_link_del(st, f->a, gtin_def), 0);
	assert_string_equal(pick(st, f->a, &it, NULL), "https://b/");
	(void)brand_def;
	(void)ser_def;
	/* bounds: what the store refuses whatever the caller checked */
	memset(l, 0, sizeof *l);
	l->brand_id = f->a;
	strcpy(l->link_type, "gs1:pip");
	strcpy(l->href, "https://x/");
	assert_int_equal(store_link_add(st, l), SIGIL_EINVAL);	/* title */
	strcpy(l->title, "t");
	l->brand_id = 999;
	assert_int_equal(store_link_add(st, l), SIGIL_ENOTFOUND);
	free(l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_type),
		cmocka_unit_test(test_href),
		cmocka_unit_test(test_lang),
		cmocka_unit_test_setup_teardown(test_store_and_walk_up, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
