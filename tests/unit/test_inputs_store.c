/*
 * test_inputs_store.c - the store's side of the December 2026 input
 * review (F18, F22): GTINs belong to one brand, including rows written
 * before they were keyed by brand (fabricated here with LMDB itself, as
 * test_trace_store.c does), and text limits in characters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <lmdb.h>

#include "storefix.h"

#include "sigil/store.h"
#include "sigil/util.h"

static int
add_product(struct store *st, uint32_t brand, const char *sku,
    const char *gtin)
{
	struct product p = { .brand_id = brand, .max_scanners = 5 };

	snprintf(p.sku, sizeof p.sku, "%s", sku);
	snprintf(p.name, sizeof p.name, "%s", "名字");
	snprintf(p.gtin, sizeof p.gtin, "%s", gtin);
	return store_product_add(st, &p);
}

/* A GTIN row as builds before December 2026 wrote it: 14 digits alone. */
static void
legacy_gtin_row(const char *dir, uint32_t brand, const char *sku,
    const char *gtin)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi gt, pr;
	MDB_val k, v;
	uint8_t pk[64];
	char json[200];
	size_t n = strlen(sku);

	sigil_be32_put(pk, brand);
	memcpy(pk + 4, sku, n);
	snprintf(json, sizeof json, "{\"name\":\"old\",\"gtin\":\"%s\","
	    "\"max_scanners\":5,\"gs1_form\":false,\"created\":1}", gtin);
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 64), 0);
	assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "gtins", 0, &gt), 0);
	assert_int_equal(mdb_dbi_open(txn, "products", 0, &pr), 0);
	k.mv_data = (void *)gtin;
	k.mv_size = 14;
	v.mv_data = pk;
	v.mv_size = 4 + n;
	assert_int_equal(mdb_put(txn, gt, &k, &v, 0), 0);
	k = v;
	v.mv_data = json;
	v.mv_size = strlen(json);
	assert_int_equal(mdb_put(txn, pr, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

static void
test_gtin_per_brand(void **state)
{
	char dir[64];
	struct store *st;
	struct product got;
	uint32_t a, b, c;

	(void)state;
	assert_non_null(tmpdir_new(dir, sizeof dir, "inputs"));
	assert_int_equal(store_open(dir, STORE_CREATE | STORE_NOSYNC,
	    &st), 0);
	a = add_brand(st, "acme");
	b = add_brand(st, "beta");
	c = add_brand(st, "gamma");
	store_close(st);
	/* acme's GTIN from before, in the old key form */
	legacy_gtin_row(dir, a, "OLD", "06901234567892");

	assert_int_equal(store_open(dir, STORE_NOSYNC, &st), 0);
	assert_int_equal(store_product_find_gtin(st, a, "06901234567892",
	    &got), 0);
	assert_string_equal(got.sku, "OLD");
	/* the old row still keeps the GTIN unique within acme ... */
	assert_int_equal(add_product(st, a, "NEW", "06901234567892"),
	    SIGIL_EEXIST);
	/* ... and is invisible to the other brands */
	assert_int_equal(store_product_find_gtin(st, b, "06901234567892",
	    &got), SIGIL_ENOTFOUND);
	assert_int_equal(add_product(st, b, "B1", "06901234567892"), 0);
	assert_int_equal(add_product(st, b, "B2", "06901234567892"),
	    SIGIL_EEXIST);
	/* a brand that squats digits first does not block the owner */
	assert_int_equal(add_product(st, b, "SQ", "09506000134352"), 0);
	assert_int_equal(add_product(st, c, "MINE", "09506000134352"), 0);
	assert_int_equal(store_product_find_gtin(st, b, "06901234567892",
	    &got), 0);
	assert_string_equal(got.sku, "B1");
	assert_int_equal(store_product_find_gtin(st, c, "09506000134352",
	    &got), 0);
	assert_string_equal(got.sku, "MINE");
	assert_int_equal(got.brand_id, c);
	store_close(st);
	tmpdir_remove(dir);
}

static void
test_text_chars(void **state)
{
	char dir[64], sku[STORE_NAME_BYTES + 8], name[STORE_TEXT_BYTES + 8];
	struct store *st;
	struct product p = { .max_scanners = 5 }, got;
	struct batch bt = { .count = 3 }, bgot;
	struct key_meta k;
	uint32_t a;

	(void)state;
	assert_non_null(tmpdir_new(dir, sizeof dir, "inputs"));
	assert_int_equal(store_open(dir, STORE_CREATE | STORE_NOSYNC, &st),
	    0);
	a = add_brand(st, "acme");
	/* 64 four-byte characters (256 bytes) in a SKU, 200 in a name */
	sku[0] = name[0] = '\0';
	for (int i = 0; i < 64; i++)
		strcat(sku, "\xf0\x9f\x8d\xb7");
	for (int i = 0; i < 200; i++)
		strcat(name, "\xf0\x9f\x8d\xb7");
	p.brand_id = a;
	strcpy(p.sku, sku);
	strcpy(p.name, name);
	assert_int_equal(store_product_add(st, &p), 0);
	assert_int_equal(store_product_get(st, a, sku, &got), 0);
	assert_string_equal(got.name, name);
	assert_int_equal(store_key_add(st, a, &k), 0);
	bt.brand_id = a;
	bt.key_id = k.id;
	strcpy(bt.sku, sku);
	assert_int_equal(store_batch_new(st, &bt), 0);
	assert_int_equal(store_batch_get(st, bt.id, &bgot), 0);
	assert_string_equal(bgot.sku, sku);
	/* one character more, a bidi override, a C1 control: refused */
	strcpy(p.sku, "X");
	strcat(p.name, "a");
	assert_int_equal(store_product_add(st, &p), SIGIL_EINVAL);
	strcpy(p.name, "a\xe2\x80\xae" "b");
	assert_int_equal(store_product_add(st, &p), SIGIL_EINVAL);
	strcpy(p.name, "a\xc2\x85" "b");
	assert_int_equal(store_product_add(st, &p), SIGIL_EINVAL);
	store_close(st);
	tmpdir_remove(dir);
}

static void
test_text_check(void **state)
{
	struct sigil_text_err e;
	char msg[320];

	(void)state;
	assert_int_equal(sigil_text_ok("葡萄酒", 3, 0, &e), 0);
	assert_int_equal(sigil_text_ok("葡萄酒", 2, 0, &e), SIGIL_EINVAL);
	assert_int_equal(e.why, SIGIL_TEXT_LONG);
	assert_int_equal(sigil_text_ok("", 2, 0, &e), SIGIL_EINVAL);
	assert_int_equal(e.why, SIGIL_TEXT_EMPTY);
	assert_int_equal(sigil_text_ok("", 2, SIGIL_TEXT_EMPTY_OK, &e), 0);
	assert_int_equal(sigil_text_ok("a\nb", 5, 0, &e), SIGIL_EINVAL);
	assert_int_equal(e.why, SIGIL_TEXT_CONTROL);
	assert_int_equal(e.cp, 0x0a);
	assert_int_equal(sigil_text_ok("a\nb", 5, SIGIL_TEXT_MULTILINE, &e), 0);
	assert_int_equal(sigil_text_ok("a\tb", 5, SIGIL_TEXT_MULTILINE, &e),
	    SIGIL_EINVAL);
	assert_int_equal(sigil_text_ok("a\x7f", 5, 0, &e), SIGIL_EINVAL);
	assert_int_equal(sigil_text_ok("\xc2\x9b", 5, 0, &e), SIGIL_EINVAL);
	assert_int_equal(e.cp, 0x9b);
	assert_int_equal(sigil_text_ok("\xe2\x80\xa8", 5, SIGIL_TEXT_MULTILINE,
	    &e), SIGIL_EINVAL);
	static const char *const bidi[] = { "\xd8\x9c", "\xe2\x80\x8e",
	    "\xe2\x80\x8f", "\xe2\x80\xaa", "\xe2\x80\xae", "\xe2\x81\xa6",
	    "\xe2\x81\xa9" };
	for (size_t i = 0; i < sizeof bidi / sizeof bidi[0]; i++) {
		assert_int_equal(sigil_text_ok(bidi[i], 5, 0, &e),
		    SIGIL_EINVAL);
		assert_int_equal(e.why, SIGIL_TEXT_BIDI);
	}
	/* U+200B (zero width space) and U+2070 are ordinary text */
	assert_int_equal(sigil_text_ok("\xe2\x80\x8b\xe2\x81\xb0", 5, 0, &e),
	    0);
	assert_int_equal(sigil_text_ok("\xc0\xaf", 5, 0, &e), SIGIL_EINVAL);
	assert_int_equal(e.why, SIGIL_TEXT_UTF8);
	assert_int_equal(sigil_text_ok("\xed\xa0\x80", 5, 0, &e),
	    SIGIL_EINVAL);
	assert_int_equal(sigil_text_check("a\0b", 3, 5, 0, &e), SIGIL_EINVAL);
	assert_int_equal(e.cp, 0);
	assert_int_equal(sigil_utf8_chars("葡萄a", strlen("葡萄a")), 3);
	sigil_text_ok("x\xe2\x80\xae", 64, 0, &e);
	sigil_text_explain("name", 64, 0, &e, msg, sizeof msg);
	assert_non_null(strstr(msg, "'name' must be 1 to 64 characters"));
	assert_non_null(strstr(msg, "U+202E"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gtin_per_brand),
		cmocka_unit_test(test_text_chars),
		cmocka_unit_test(test_text_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
