/*
 * test_epcis_store.c - what EPCIS needs of the store: the installation id
 * (made once by a writer's open, kept across opens, never made by a
 * read-only open, given to an older store at its first read-write open,
 * different in every store), a distributor's GLN (kept, and refused when
 * it is not 13 digits), and store_code_was_parent (cases and pallets,
 * after unpacking too; never an item, another brand's code, or a code
 * named only as a child).
 *
 * The older-store fixture deletes the meta key with LMDB itself, as
 * test_trace_store.c's legacy fixture drops tables: the storage module
 * stays the only source that includes lmdb.h.
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

struct fixture {
	char		 dir[64];
	struct store	*st;
	uint32_t	 brand, other;
};

static uint32_t
brand_with_batch(struct store *st, const char *name)
{
	struct brand b = { 0 };
	struct product p = { .max_scanners = 5 };
	struct key_meta k;
	struct batch bt = { .count = 100 };

	strcpy(b.name, name);
	strcpy(b.base_url, "https://example.com");
	assert_int_equal(store_brand_add(st, &b), 0);
	p.brand_id = b.id;
	strcpy(p.sku, "TEA");
	strcpy(p.name, "Tea");
	assert_int_equal(store_product_add(st, &p), 0);
	assert_int_equal(store_key_add(st, b.id, &k), 0);
	bt.brand_id = b.id;
	bt.key_id = k.id;
	strcpy(bt.sku, "TEA");
	assert_int_equal(store_batch_new(st, &bt), 0);	/* serials 1..100 */
	return b.id;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	if (f == NULL || storefix_open(f->dir, sizeof f->dir, "epcis",
	    STORE_CREATE | STORE_NOSYNC, &f->st) != 0)
		return -1;
	f->brand = brand_with_batch(f->st, "acme");
	f->other = brand_with_batch(f->st, "beta");
	*state = f;
	return 0;
}

STOREFIX_TEARDOWN(struct fixture)

/* Makes the store in dir look like one from before installation ids. */
static void
forget_installation(const char *dir)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = { 15, (void *)"installation_id" };

	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 64), 0);
	assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
	assert_int_equal(mdb_del(txn, dbi, &k, NULL), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

static void
test_installation_id(void **state)
{
	struct fixture *f = *state;
	uint8_t a[STORE_INSTALL_ID_LEN], b[STORE_INSTALL_ID_LEN];
	uint8_t zero[STORE_INSTALL_ID_LEN] = { 0 };
	char dir2[64];
	struct store *st2;

	assert_int_equal(store_installation_id(f->st, a), 0);
	assert_memory_not_equal(a, zero, sizeof a);
	assert_int_equal(store_installation_id(NULL, b), SIGIL_ENOTFOUND);

	/* Kept: a read-write and a read-only open read the same id. */
	store_close(f->st);
	assert_int_equal(store_open(f->dir, STORE_RDONLY, &f->st), 0);
	assert_int_equal(store_installation_id(f->st, b), 0);
	assert_memory_equal(a, b, sizeof a);
	store_close(f->st);
	assert_int_equal(store_open(f->dir, STORE_NOSYNC, &f->st), 0);
	assert_int_equal(store_installation_id(f->st, b), 0);
	assert_memory_equal(a, b, sizeof a);

	/* Another store: another id. */
	assert_non_null(tmpdir_new(dir2, sizeof dir2, "epcis2"));
	assert_int_equal(store_open(dir2, STORE_CREATE | STORE_NOSYNC, &st2),
	    0);
	assert_int_equal(store_installation_id(st2, b), 0);
	assert_memory_not_equal(a, b, sizeof a);
	store_close(st2);
	tmpdir_remove(dir2);

	/* An older store: read-only opens make none, a writer's open does. */
	store_close(f->st);
	forget_installation(f->dir);
	assert_int_equal(store_open(f->dir, STORE_RDONLY, &f->st), 0);
	assert_int_equal(store_installation_id(f->st, b), SIGIL_ENOTFOUND);
	store_close(f->st);
	assert_int_equal(store_open(f->dir, STORE_RDONLY, &f->st), 0);
	assert_int_equal(store_installation_id(f->st, b), SIGIL_ENOTFOUND);
	store_close(f->st);
	assert_int_equal(store_open(f->dir, STORE_NOSYNC, &f->st), 0);
	assert_int_equal(store_installation_id(f->st, a), 0);
	assert_memory_not_equal(a, zero, sizeof a);
	store_close(f->st);
	assert_int_equal(store_open(f->dir, STORE_RDONLY, &f->st), 0);
	assert_int_equal(store_installation_id(f->st, b), 0);
	assert_memory_equal(a, b, sizeof a);
}

static void
test_distributor_gln(void **state)
{
	struct fixture *f = *state;
	struct distributor d = { .brand_id = f->brand }, got;
	static const char *const bad[] = {
		"952012345678", "95201234567", "952012345678a",
		"9520123 56788",
	};

	strcpy(d.name, "Hangzhou Co");
	d.territory = "{\"type\":\"Polygon\"}";
	strcpy(d.gln, "9520123456788");
	assert_int_equal(store_distributor_add(f->st, &d), 0);
	assert_int_equal(store_distributor_get(f->st, f->brand, d.id, &got),
	    0);
	assert_string_equal(got.gln, "9520123456788");
	assert_string_equal(got.name, "Hangzhou Co");
	assert_string_equal(got.territory, "{\"type\":\"Polygon\"}");
	store_distributor_clear(&got);
	/* Without: "" (and the row is the format every older row has). */
	memset(d.gln, 0, sizeof d.gln);
	d.territory = NULL;
	assert_int_equal(store_distributor_add(f->st, &d), 0);
	assert_int_equal(store_distributor_get(f->st, f->brand, d.id, &got),
	    0);
	assert_string_equal(got.gln, "");
	assert_null(got.territory);
	store_distributor_clear(&got);
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		snprintf(d.gln, sizeof d.gln, "%s", bad[i]);
		assert_int_equal(store_distributor_add(f->st, &d),
		    SIGIL_EINVAL);
	}
	/* A long name beside a GLN: both read back whole. */
	memset(d.name, 'n', 200);
	d.name[200] = '\0';
	strcpy(d.gln, "0614141000005");
	assert_int_equal(store_distributor_add(f->st, &d), 0);
	assert_int_equal(store_distributor_get(f->st, f->brand, d.id, &got),
	    0);
	assert_string_equal(got.gln, "0614141000005");
	assert_int_equal(strlen(got.name), 200);
	store_distributor_clear(&got);
}

static void
test_was_parent(void **state)
{
	struct fixture *f = *state;
	uint64_t case_kids[] = { 2, 3, 4 }, pallet_kids[] = { 1 }, ev;

	assert_int_equal(store_code_was_parent(f->st, f->brand, 1), 0);
	assert_int_equal(store_aggregate(f->st, f->brand, 1, case_kids, 3,
	    &ev), 0);
	assert_int_equal(store_aggregate(f->st, f->brand, 50, pallet_kids, 1,
	    &ev), 0);
	assert_int_equal(store_code_was_parent(f->st, f->brand, 1), 1);
	assert_int_equal(store_code_was_parent(f->st, f->brand, 50), 1);
	assert_int_equal(store_code_was_parent(f->st, f->brand, 2), 0);
	assert_int_equal(store_code_was_parent(f->st, f->brand, 99), 0);
	assert_int_equal(store_code_was_parent(f->st, f->other, 1), 0);
	/* Unpacked: still a case (its SSCC does not change). */
	assert_int_equal(store_disaggregate(f->st, f->brand, 1, NULL, 0, &ev),
	    0);
	assert_int_equal(store_code_was_parent(f->st, f->brand, 1), 1);
	assert_int_equal(store_code_was_parent(f->st, f->brand, 3), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_installation_id, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_distributor_gln, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_was_parent, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
