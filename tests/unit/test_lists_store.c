/*
 * test_lists_store.c - the store's paged walks behind the brand API's
 * lists: a brand's products in SKU byte order from a cursor, a product's
 * change, its batches oldest or newest first from a batch id, its
 * distributors after an id, its shipments newest first before an id;
 * each sees only its own brand's rows, however the brands' rows
 * interleave. Each test works in its own directory under /tmp.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "storefix.h"

#include "sigil/store.h"
#include "sigil/util.h"

struct fixture {
	char		 dir[64];
	struct store	*st;
	uint32_t	 a, b;		/* two brands */
	uint16_t	 ka, kb;
};

static int
setup(void **state)
{
	static struct fixture f;
	struct key_meta k;

	memset(&f, 0, sizeof f);
	if (storefix_open(f.dir, sizeof f.dir, "lists", STORE_CREATE |
	    STORE_NOSYNC, &f.st) != 0)
		return -1;
	f.a = add_brand(f.st, "acme");
	f.b = add_brand(f.st, "beta");
	assert_int_equal(store_key_add(f.st, f.a, &k), 0);
	f.ka = k.id;
	assert_int_equal(store_key_add(f.st, f.b, &k), 0);
	f.kb = k.id;
	*state = &f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	storefix_close(f->dir, f->st);
	return 0;
}

static void
product(struct store *st, uint32_t brand, const char *sku, const char *name)
{
	struct product p = { .brand_id = brand, .max_scanners = 5 };

	snprintf(p.sku, sizeof p.sku, "%s", sku);
	snprintf(p.name, sizeof p.name, "%s", name);
	assert_int_equal(store_product_add(st, &p), 0);
}

/* Up to 16 SKUs (or ids) a walk gave, and a stop after `stop` rows. */
struct seen {
	char		sku[16][STORE_NAME_BYTES + 1];
	uint64_t	id[16];
	size_t		n, stop;
};

static int
seen_product(void *arg, const struct product *p)
{
	struct seen *s = arg;

	if (s->n < 16)
		snprintf(s->sku[s->n], sizeof s->sku[0], "%s", p->sku);
	s->n++;
	return s->stop && s->n == s->stop;
}

static void
test_products(void **state)
{
	struct fixture *f = *state;
	struct seen s = { 0 };
	struct product p = { 0 };

	/* Interleaved brands; byte order puts upper case before lower. */
	product(f->st, f->a, "b", "bee");
	product(f->st, f->b, "A2", "other");
	product(f->st, f->a, "B", "Bee");
	product(f->st, f->a, "A", "Ay");
	product(f->st, f->b, "Z", "other");
	product(f->st, f->a, "AB", "Ay bee");
	assert_int_equal(store_product_each(f->st, f->a, NULL, seen_product,
	    &s), 0);
	assert_int_equal(s.n, 4);
	assert_string_equal(s.sku[0], "A");
	assert_string_equal(s.sku[1], "AB");
	assert_string_equal(s.sku[2], "B");
	assert_string_equal(s.sku[3], "b");
	/* After a SKU (itself passed), and after one that is no product. */
	memset(&s, 0, sizeof s);
	assert_int_equal(store_product_each(f->st, f->a, "AB", seen_product,
	    &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.sku[0], "B");
	memset(&s, 0, sizeof s);
	assert_int_equal(store_product_each(f->st, f->a, "AA", seen_product,
	    &s), 0);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.sku[0], "AB");
	/* A stop is the walk's answer. */
	memset(&s, 0, sizeof s);
	s.stop = 2;
	assert_int_equal(store_product_each(f->st, f->a, "", seen_product,
	    &s), 1);
	assert_int_equal(s.n, 2);
	/* The other brand sees its own only. */
	memset(&s, 0, sizeof s);
	assert_int_equal(store_product_each(f->st, f->b, NULL, seen_product,
	    &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.sku[0], "A2");

	/* A change keeps what it does not name. */
	p.brand_id = f->a;
	strcpy(p.sku, "B");
	p.max_scanners = 9;
	assert_int_equal(store_product_update(f->st, &p), 0);
	assert_string_equal(p.name, "Bee");
	assert_int_equal(p.max_scanners, 9);
	memset(&p, 0, sizeof p);
	assert_int_equal(store_product_get(f->st, f->a, "B", &p), 0);
	assert_string_equal(p.name, "Bee");
	assert_int_equal(p.max_scanners, 9);
	p.max_scanners = 0;
	strcpy(p.name, "Bee two");
	assert_int_equal(store_product_update(f->st, &p), 0);
	assert_int_equal(store_product_get(f->st, f->a, "B", &p), 0);
	assert_string_equal(p.name, "Bee two");
	assert_int_equal(p.max_scanners, 9);
	/* Another brand's SKU, a missing one, bad values: nothing changes. */
	p.brand_id = f->b;
	assert_int_equal(store_product_update(f->st, &p), SIGIL_ENOTFOUND);
	p.brand_id = f->a;
	strcpy(p.sku, "NOPE");
	assert_int_equal(store_product_update(f->st, &p), SIGIL_ENOTFOUND);
	strcpy(p.sku, "B");
	p.max_scanners = STORE_SCANNERS_MAX + 1;
	assert_int_equal(store_product_update(f->st, &p), SIGIL_EINVAL);
	p.max_scanners = 0;
	strcpy(p.name, "a\001b");
	assert_int_equal(store_product_update(f->st, &p), SIGIL_EINVAL);
	assert_int_equal(store_product_get(f->st, f->a, "B", &p), 0);
	assert_string_equal(p.name, "Bee two");
}

static int
seen_batch(void *arg, const struct batch *b)
{
	struct seen *s = arg;

	if (s->n < 16)
		s->id[s->n] = b->id;
	s->n++;
	return s->stop && s->n == s->stop;
}

static uint64_t
batch(struct fixture *f, uint32_t brand)
{
	struct batch b = { .brand_id = brand, .count = 3 };

	b.key_id = brand == f->a ? f->ka : f->kb;
	strcpy(b.sku, "S");
	assert_int_equal(store_batch_new(f->st, &b), 0);
	return b.id;
}

static void
test_batches(void **state)
{
	struct fixture *f = *state;
	struct seen s = { 0 };
	uint64_t a[5], b[2];

	product(f->st, f->a, "S", "s");
	product(f->st, f->b, "S", "s");
	a[0] = batch(f, f->a);
	b[0] = batch(f, f->b);
	a[1] = batch(f, f->a);
	a[2] = batch(f, f->a);
	b[1] = batch(f, f->b);
	a[3] = batch(f, f->a);
	a[4] = batch(f, f->a);
	/* Oldest first, all, then from a cursor. */
	assert_int_equal(store_batch_page(f->st, f->a, 0, 0, seen_batch, &s), 0);
	assert_int_equal(s.n, 5);
	assert_memory_equal(s.id, a, sizeof a);
	memset(&s, 0, sizeof s);
	assert_int_equal(store_batch_page(f->st, f->a, a[2], 0, seen_batch, &s),
	    0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.id[0], a[3]);
	/* Newest first, all, then before a cursor. */
	memset(&s, 0, sizeof s);
	assert_int_equal(store_batch_page(f->st, f->a, 0, 1, seen_batch, &s), 0);
	assert_int_equal(s.n, 5);
	assert_int_equal(s.id[0], a[4]);
	assert_int_equal(s.id[4], a[0]);
	memset(&s, 0, sizeof s);
	assert_int_equal(store_batch_page(f->st, f->a, a[2], 1, seen_batch, &s),
	    0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.id[0], a[1]);
	assert_int_equal(s.id[1], a[0]);
	/* A cursor of the other brand's: still only this brand's rows. */
	memset(&s, 0, sizeof s);
	assert_int_equal(store_batch_page(f->st, f->a, b[1], 1, seen_batch, &s),
	    0);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.id[0], a[2]);
	memset(&s, 0, sizeof s);
	assert_int_equal(store_batch_page(f->st, f->b, 0, 1, seen_batch, &s), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.id[0], b[1]);
	/* The last brand's newest, walking down from the table's end. */
	memset(&s, 0, sizeof s);
	s.stop = 1;
	assert_int_equal(store_batch_page(f->st, f->b, 0, 1, seen_batch, &s), 1);
	assert_int_equal(s.id[0], b[1]);
}

static int
seen_dist(void *arg, const struct distributor *d)
{
	struct seen *s = arg;

	if (s->n < 16)
		s->id[s->n] = d->id;
	s->n++;
	return 0;
}

static int
seen_ship(void *arg, const struct shipment *sh)
{
	struct seen *s = arg;

	if (s->n < 16)
		s->id[s->n] = sh->id;
	s->n++;
	return s->stop && s->n == s->stop;
}

static void
test_distributors_shipments(void **state)
{
	struct fixture *f = *state;
	struct seen s = { 0 };
	struct distributor d;
	struct shipment sh;
	uint64_t ids[6], serial;
	uint32_t da[3], db;

	for (int i = 0; i < 3; i++) {
		memset(&d, 0, sizeof d);
		d.brand_id = f->a;
		snprintf(d.name, sizeof d.name, "D%d", i);
		assert_int_equal(store_distributor_add(f->st, &d), 0);
		da[i] = d.id;
	}
	memset(&d, 0, sizeof d);
	d.brand_id = f->b;
	strcpy(d.name, "B0");
	assert_int_equal(store_distributor_add(f->st, &d), 0);
	db = d.id;
	assert_int_equal(store_distributor_page(f->st, f->a, da[0], seen_dist,
	    &s), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.id[0], da[1]);
	memset(&s, 0, sizeof s);
	assert_int_equal(store_distributor_page(f->st, f->a, UINT32_MAX,
	    seen_dist, &s), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(store_distributor_name(f->st, f->a, da[2], &d), 0);
	assert_string_equal(d.name, "D2");
	assert_null(d.territory);
	assert_int_equal(store_distributor_name(f->st, f->a, 99, &d),
	    SIGIL_ENOTFOUND);

	/* Shipments of both brands, interleaved. */
	product(f->st, f->a, "S", "s");
	product(f->st, f->b, "S", "s");
	batch(f, f->a);
	batch(f, f->b);
	for (int i = 0; i < 6; i++) {
		uint32_t brand = i % 3 == 1 ? f->b : f->a;
		struct batch bb;

		memset(&s, 0, sizeof s);
		assert_int_equal(store_batch_page(f->st, brand, 0, 0, seen_batch,
		    &s), 0);
		assert_int_equal(store_batch_get(f->st, s.id[0], &bb), 0);
		serial = bb.first_serial + (uint64_t)(i % 3);
		assert_int_equal(store_ship(f->st, brand, brand == f->a ? da[0] :
		    db, &serial, 1, &sh), 0);
		ids[i] = sh.id;
	}
	memset(&s, 0, sizeof s);
	assert_int_equal(store_shipment_each_before(f->st, f->a, 0, 0, NULL,
	    seen_ship, &s), 0);
	assert_int_equal(s.n, 4);
	assert_int_equal(s.id[0], ids[5]);
	assert_int_equal(s.id[1], ids[3]);
	assert_int_equal(s.id[2], ids[2]);
	assert_int_equal(s.id[3], ids[0]);
	memset(&s, 0, sizeof s);
	assert_int_equal(store_shipment_each_before(f->st, f->a, ids[3], 0,
	    NULL, seen_ship, &s), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.id[0], ids[2]);
	memset(&s, 0, sizeof s);
	s.stop = 1;
	assert_int_equal(store_shipment_each_before(f->st, f->b, 0, 0, NULL,
	    seen_ship, &s), 1);
	assert_int_equal(s.id[0], ids[4]);
	/* A bound of 2 rows: brand b's walk stops at ids[4] after one of
	 * its own and one of a's, and says where. */
	{
		uint64_t at = 99;

		memset(&s, 0, sizeof s);
		assert_int_equal(store_shipment_each_before(f->st, f->b, 0, 2,
		    &at, seen_ship, &s), 0);
		assert_int_equal(s.n, 1);
		assert_int_equal(at, ids[4]);
		memset(&s, 0, sizeof s);
		assert_int_equal(store_shipment_each_before(f->st, f->b, at, 0,
		    &at, seen_ship, &s), 0);
		assert_int_equal(s.n, 1);
		assert_int_equal(s.id[0], ids[1]);
		assert_int_equal(at, 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_products, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_distributors_shipments,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
