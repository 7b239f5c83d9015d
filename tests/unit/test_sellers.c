/*
 * test_sellers.c - the sales channel in a real store: stores under a
 * distributor, sellers in them, a case bound by its seller (first
 * binding wins), the seller of an item found through its case
 * (seller_of_code), the brand's move, and what an erasure and a merge
 * do to a seller and their bindings. A customer without a phone (the
 * merge's gone one) is made the way the WeChat login makes one
 * (customer_new in a write transaction: white-box, so this file
 * includes store_impl.h, as test_merge.c does).
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

#include "sigil/seller.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "../../src/store/store_impl.h"
#include "barefix.h"

struct fixture {
	char		 dir[64];
	struct store	*st;
	uint32_t	 brand, other, dist, shop, shop2;
	uint64_t	 first;		/* the batch's first serial: the case */
	uint64_t	 alice, bob, carol;	/* customers */
};

static uint64_t
customer(struct store *st, uint32_t brand, uint8_t tag)
{
	struct customer c;
	uint8_t h[32] = { tag }, ct[20] = { tag };
	int created;

	assert_int_equal(store_customer_by_phone(st, brand, h, ct, sizeof ct,
	    &c, &created), 0);
	return c.id;
}

static uint32_t
shop(struct store *st, uint32_t brand, uint32_t dist, const char *name)
{
	struct shop s = { .brand_id = brand, .distributor = dist };

	strcpy(s.name, name);
	strcpy(s.city, "上海");
	assert_int_equal(store_shop_add(st, &s), 0);
	return s.id;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	struct product p = { .max_scanners = 5 };
	struct distributor d = { 0 };
	struct key_meta k;
	struct batch b = { .count = 10 };
	struct seller s = { 0 };
	uint64_t items[4];

	assert_non_null(f);
	assert_int_equal(storefix_open(f->dir, sizeof f->dir, "sellers",
	    STORE_CREATE | STORE_NOSYNC, &f->st), 0);
	f->brand = add_brand(f->st, "acme");
	f->other = add_brand(f->st, "other");
	p.brand_id = f->brand;
	strcpy(p.sku, "TEA-250");
	strcpy(p.name, "Green tea");
	assert_int_equal(store_product_add(f->st, &p), 0);
	assert_int_equal(store_key_add(f->st, f->brand, &k), 0);
	b.brand_id = f->brand;
	b.key_id = k.id;
	strcpy(b.sku, "TEA-250");
	strcpy(b.lot, "L1");
	assert_int_equal(store_batch_new(f->st, &b), 0);
	f->first = b.first_serial;
	for (int i = 0; i < 4; i++)
		items[i] = f->first + 1 + (uint64_t)i;
	assert_int_equal(store_aggregate(f->st, f->brand, f->first, items, 4,
	    NULL), 0);
	d.brand_id = f->brand;
	strcpy(d.name, "East");
	assert_int_equal(store_distributor_add(f->st, &d), 0);
	f->dist = d.id;
	f->shop = shop(f->st, f->brand, f->dist, "Nanjing Road");
	f->shop2 = shop(f->st, f->brand, f->dist, "Huaihai Road");
	f->alice = customer(f->st, f->brand, 1);
	f->bob = customer(f->st, f->brand, 2);
	f->carol = customer(f->st, f->brand, 3);
	s.brand_id = f->brand;
	s.customer_id = f->alice;
	s.shop_id = f->shop;
	assert_int_equal(store_seller_set(f->st, &s), 0);
	s.customer_id = f->bob;
	s.shop_id = f->shop2;
	assert_int_equal(store_seller_set(f->st, &s), 0);
	*state = f;
	return 0;
}

STOREFIX_TEARDOWN(struct fixture)

static int
bind(struct fixture *f, uint64_t serial, uint64_t seller, struct binding *b)
{
	memset(b, 0, sizeof *b);
	b->brand_id = f->brand;
	b->serial = serial;
	b->seller = seller;
	return store_binding_add(f->st, b);
}

static void
test_shops(void **state)
{
	struct fixture *f = *state;
	struct shop s = { .brand_id = f->brand, .distributor = 99 };
	struct shop got;

	strcpy(s.name, "Nowhere");
	assert_int_equal(store_shop_add(f->st, &s), SIGIL_ENOTFOUND);
	s.distributor = f->dist;
	s.name[0] = '\0';
	assert_int_equal(store_shop_add(f->st, &s), SIGIL_EINVAL);
	strcpy(s.name, "bad\x01name");
	assert_int_equal(store_shop_add(f->st, &s), SIGIL_EINVAL);
	assert_int_equal(store_shop_get(f->st, f->brand, f->shop, &got), 0);
	assert_string_equal(got.name, "Nanjing Road");
	assert_string_equal(got.city, "上海");
	assert_int_equal(got.distributor, f->dist);
	/* another brand's id is nothing */
	assert_int_equal(store_shop_get(f->st, f->other, f->shop, &got),
	    SIGIL_ENOTFOUND);
	/* a store with a seller is not deleted */
	assert_int_equal(store_shop_delete(f->st, f->brand, f->shop),
	    SIGIL_ECONFLICT);
	strcpy(got.name, "Nanjing Road East");
	assert_int_equal(store_shop_update(f->st, &got), 0);
	assert_int_equal(store_shop_get(f->st, f->brand, f->shop, &got), 0);
	assert_string_equal(got.name, "Nanjing Road East");
	s.id = 0;
	strcpy(s.name, "Empty");
	assert_int_equal(store_shop_add(f->st, &s), 0);
	assert_int_equal(store_shop_delete(f->st, f->brand, s.id), 0);
	assert_int_equal(store_shop_get(f->st, f->brand, s.id, &got),
	    SIGIL_ENOTFOUND);
}

static void
test_bind_and_attribute(void **state)
{
	struct fixture *f = *state;
	struct binding b;
	uint64_t seller = 0;
	uint32_t sid = 0;

	/* nobody bound anything yet */
	assert_int_equal(seller_of_code(f->st, f->brand, f->first + 2,
	    &seller, &sid), SIGIL_ENOTFOUND);
	/* not a seller; not a code of the brand */
	assert_int_equal(bind(f, f->first, f->carol, &b), SIGIL_EDENIED);
	assert_int_equal(bind(f, f->first + 1000, f->alice, &b),
	    SIGIL_ENOTFOUND);
	/* bob binds one loose item before anyone opens its case */
	assert_int_equal(bind(f, f->first + 4, f->bob, &b), 0);
	/* alice opens the case */
	assert_int_equal(bind(f, f->first, f->alice, &b), 0);
	assert_int_equal(b.shop_id, f->shop);
	assert_int_equal(b.how, BINDING_SCAN);
	/* an item in it is hers; an item outside it nobody's */
	assert_int_equal(seller_of_code(f->st, f->brand, f->first + 3,
	    &seller, &sid), 0);
	assert_int_equal(seller, f->alice);
	assert_int_equal(sid, f->shop);
	assert_int_equal(seller_of_code(f->st, f->brand, f->first + 7,
	    &seller, &sid), SIGIL_ENOTFOUND);
	/* first binding wins: bob cannot take the case, b is alice's */
	assert_int_equal(bind(f, f->first, f->bob, &b), SIGIL_EEXIST);
	assert_int_equal(b.seller, f->alice);
	/* nor an item inside it */
	assert_int_equal(bind(f, f->first + 2, f->bob, &b), SIGIL_EEXIST);
	assert_int_equal(b.seller, f->alice);
	assert_int_equal(b.serial, f->first);
	/* the item bob bound first: the nearest binding is his */
	assert_int_equal(seller_of_code(f->st, f->brand, f->first + 4,
	    &seller, &sid), 0);
	assert_int_equal(seller, f->bob);
	assert_int_equal(sid, f->shop2);
	/* the other brand sees none of it */
	assert_int_equal(seller_of_code(f->st, f->other, f->first + 3,
	    &seller, &sid), SIGIL_ENOTFOUND);
	/* a store with bindings is not deleted, even with no seller */
	assert_int_equal(store_seller_remove(f->st, f->brand, f->bob), 0);
	assert_int_equal(store_shop_delete(f->st, f->brand, f->shop2),
	    SIGIL_ECONFLICT);
	/* bob taken off his store: his binding pays nobody */
	assert_int_equal(seller_of_code(f->st, f->brand, f->first + 4,
	    &seller, &sid), SIGIL_ENOTFOUND);
}

static void
test_move(void **state)
{
	struct fixture *f = *state;
	struct binding b, prev;
	uint64_t seller = 0;
	uint32_t sid = 0;

	assert_int_equal(bind(f, f->first, f->alice, &b), 0);
	b.seller = f->bob;
	assert_int_equal(store_binding_move(f->st, &b, &prev), 0);
	assert_int_equal(prev.seller, f->alice);
	assert_int_equal(b.how, BINDING_MOVED);
	assert_int_equal(seller_of_code(f->st, f->brand, f->first + 1,
	    &seller, &sid), 0);
	assert_int_equal(seller, f->bob);
	assert_int_equal(sid, f->shop2);
	/* moved to someone who is no seller: refused, nothing changed */
	b.seller = f->carol;
	assert_int_equal(store_binding_move(f->st, &b, NULL), SIGIL_EDENIED);
	/* removed */
	b.seller = 0;
	assert_int_equal(store_binding_move(f->st, &b, &prev), 0);
	assert_int_equal(prev.seller, f->bob);
	assert_int_equal(store_binding_get(f->st, f->brand, f->first, &b),
	    SIGIL_ENOTFOUND);
	b.seller = 0;
	b.serial = f->first;
	assert_int_equal(store_binding_move(f->st, &b, NULL),
	    SIGIL_ENOTFOUND);
}

static int
count_codes(void *arg, const struct binding *b)
{
	(void)b;
	++*(int *)arg;
	return 0;
}

static void
test_erase(void **state)
{
	struct fixture *f = *state;
	struct binding b;
	struct seller s;
	uint64_t seller = 0;
	uint32_t sid = 0;
	int n = 0;

	assert_int_equal(bind(f, f->first, f->alice, &b), 0);
	assert_int_equal(bind(f, f->first + 9, f->alice, &b), 0);
	assert_int_equal(store_seller_codes(f->st, f->brand, f->alice,
	    count_codes, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_customer_erase(f->st, f->brand, f->alice, 0),
	    0);
	assert_int_equal(store_seller_get(f->st, f->brand, f->alice, &s),
	    SIGIL_ENOTFOUND);
	n = 0;
	assert_int_equal(store_seller_codes(f->st, f->brand, f->alice,
	    count_codes, &n), 0);
	assert_int_equal(n, 0);
	/* the case stays bound to the store, to no one */
	assert_int_equal(store_binding_get(f->st, f->brand, f->first, &b), 0);
	assert_int_equal(b.seller, 0);
	assert_int_equal(b.shop_id, f->shop);
	assert_int_equal(seller_of_code(f->st, f->brand, f->first + 1,
	    &seller, &sid), SIGIL_ENOTFOUND);
}

static void
test_merge(void **state)
{
	struct fixture *f = *state;
	struct customer wx;
	struct seller s = { 0 };
	struct binding bd;
	uint64_t seller = 0, kept = 0;
	uint32_t sid = 0;
	int n = 0;

	/* a seller known by WeChat only, with a store and a bound case */
	assert_int_equal(barefix_customer(f->st, f->brand, sigil_now_us(),
	    &wx), 0);
	s.brand_id = f->brand;
	s.customer_id = wx.id;
	s.shop_id = f->shop2;
	assert_int_equal(store_seller_set(f->st, &s), 0);
	assert_int_equal(bind(f, f->first, wx.id, &bd), 0);
	/* carol's phone logs in on that WeChat: carol's customer survives */
	assert_int_equal(store_customers_merge(f->st, f->brand, wx.id,
	    f->carol, 0, &kept), 0);
	assert_int_equal(kept, f->carol);
	assert_int_equal(store_seller_get(f->st, f->brand, f->carol, &s), 0);
	assert_int_equal(s.shop_id, f->shop2);
	assert_int_equal(store_seller_get(f->st, f->brand, wx.id, &s),
	    SIGIL_ENOTFOUND);
	assert_int_equal(seller_of_code(f->st, f->brand, f->first + 2,
	    &seller, &sid), 0);
	assert_int_equal(seller, f->carol);
	assert_int_equal(sid, f->shop2);
	assert_int_equal(store_seller_codes(f->st, f->brand, f->carol,
	    count_codes, &n), 0);
	assert_int_equal(n, 1);
	n = 0;
	assert_int_equal(store_seller_codes(f->st, f->brand, wx.id,
	    count_codes, &n), 0);
	assert_int_equal(n, 0);
	/* alice (a seller of her own store) keeps hers when one merges in */
	assert_int_equal(barefix_customer(f->st, f->brand, sigil_now_us(),
	    &wx), 0);
	s.customer_id = wx.id;
	s.shop_id = f->shop2;
	assert_int_equal(store_seller_set(f->st, &s), 0);
	assert_int_equal(store_customers_merge(f->st, f->brand, wx.id,
	    f->alice, 0, &kept), 0);
	assert_int_equal(store_seller_get(f->st, f->brand, f->alice, &s), 0);
	assert_int_equal(s.shop_id, f->shop);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_shops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bind_and_attribute, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_move, setup, teardown),
		cmocka_unit_test_setup_teardown(test_erase, setup, teardown),
		cmocka_unit_test_setup_teardown(test_merge, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
