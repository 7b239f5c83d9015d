/*
 * test_orders_store.c - redemption orders in a real store: written with
 * the redemption in its transaction (or neither), checked, listed per
 * brand, fulfilled once, and emptied of the address by an erasure.
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

#include "sigil/store.h"
#include "sigil/util.h"

#define DAY	(24 * 3600LL * 1000000)
#define T0	(1767225600000000LL)	/* 2026-01-01T00:00:00Z */

struct fixture {
	char		 dir[64];
	struct store	*st;
	uint32_t	 brand, other;
	uint64_t	 cust;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct reward_item it = { 0 };
	struct customer c;
	struct claim cl = { 0 };
	uint8_t h[32] = { 7 }, ct[20] = { 7 };
	int created;

	assert_non_null(f);
	assert_int_equal(storefix_open(f->dir, sizeof f->dir, "orders",
	    STORE_CREATE | STORE_NOSYNC, &f->st), 0);
	f->brand = add_brand(f->st, "acme");
	f->other = add_brand(f->st, "other");
	assert_int_equal(store_customer_by_phone(f->st, f->brand, h, ct,
	    sizeof ct, &c, &created), 0);
	f->cust = c.id;
	it.brand_id = f->brand;
	strcpy(it.name, "品鉴杯");
	it.cost = 10;
	it.stock = -1;
	assert_int_equal(store_item_add(f->st, &it), 0);
	cl.brand_id = f->brand;
	cl.serial = 1;
	cl.role = CLAIM_CONSUMER;
	cl.customer_id = f->cust;
	cl.points = 100;
	cl.prize = -1;
	cl.at = T0;
	cl.expires_at = T0 + 400 * DAY;
	assert_int_equal(store_claim(f->st, &cl, NULL), 0);
	*state = f;
	return 0;
}

STOREFIX_TEARDOWN(struct fixture)

static int
collect(void *arg, const struct redeem_order *o)
{
	struct redeem_order *v = arg;

	for (int i = 0; i < 8; i++)
		if (v[i].id == 0) {
			v[i] = *o;
			break;
		}
	return 0;
}

static struct redeem_order
delivery(const char *name, const char *phone, const char *addr)
{
	struct redeem_order o = { 0 };

	o.kind = ORDER_DELIVERY;
	snprintf(o.name, sizeof o.name, "%s", name);
	snprintf(o.phone, sizeof o.phone, "%s", phone);
	snprintf(o.address, sizeof o.address, "%s", addr);
	return o;
}

static void
test_orders(void **state)
{
	struct fixture *f = *state;
	struct redeem_order o, bad, got, all[8];
	struct ledger_entry e;
	int64_t now = T0 + DAY;

	/* Refused before anything is spent. */
	bad = delivery("", "13800138000", "杭州");
	assert_int_equal(store_redeem_order(f->st, f->brand, f->cust, 1, now,
	    &bad, &e), SIGIL_EINVAL);
	bad = delivery("张三", "1380013800a", "杭州");
	assert_int_equal(store_redeem_order(f->st, f->brand, f->cust, 1, now,
	    &bad, &e), SIGIL_EINVAL);
	bad = delivery("张三", "13800138000", "杭州\xe2\x80\xae");
	assert_int_equal(store_redeem_order(f->st, f->brand, f->cust, 1, now,
	    &bad, &e), SIGIL_EINVAL);
	memset(&bad, 0, sizeof bad);
	bad.kind = ORDER_PICKUP;
	strcpy(bad.pickup_code, "1234");
	assert_int_equal(store_redeem_order(f->st, f->brand, f->cust, 1, now,
	    &bad, &e), SIGIL_EINVAL);
	memset(all, 0, sizeof all);
	assert_int_equal(store_order_each(f->st, f->brand, collect, all), 0);
	assert_true(all[0].id == 0);

	o = delivery("张三", "+86 138-0013-8000", "浙江省杭州市西湖区文三路 1 号");
	assert_int_equal(store_redeem_order(f->st, f->brand, f->cust, 1, now,
	    &o, &e), 0);
	assert_true(o.id == e.id && o.status == ORDER_OPEN);
	memset(&bad, 0, sizeof bad);
	bad.kind = ORDER_PICKUP;
	strcpy(bad.pickup_code, "00123456");
	assert_int_equal(store_redeem_order(f->st, f->brand, f->cust, 1, now,
	    &bad, &e), 0);
	/* A redemption without an order writes none. */
	assert_int_equal(store_redeem(f->st, f->brand, f->cust, 1, now, &e), 0);

	memset(all, 0, sizeof all);
	assert_int_equal(store_order_each(f->st, f->brand, collect, all), 0);
	assert_true(all[0].id == o.id && all[1].id == bad.id && all[2].id == 0);
	assert_string_equal(all[0].address, "浙江省杭州市西湖区文三路 1 号");
	assert_string_equal(all[1].pickup_code, "00123456");
	assert_int_equal(all[1].kind, ORDER_PICKUP);
	memset(all, 0, sizeof all);
	assert_int_equal(store_order_each(f->st, f->other, collect, all), 0);
	assert_true(all[0].id == 0);	/* another brand sees none */
	assert_int_equal(store_order_get(f->st, f->other, o.id, &got),
	    SIGIL_ENOTFOUND);

	assert_int_equal(store_order_fulfil(f->st, f->brand, o.id, now + 1,
	    &got), 0);
	assert_int_equal(got.status, ORDER_FULFILLED);
	assert_true(got.fulfilled == now + 1);
	assert_int_equal(store_order_fulfil(f->st, f->brand, o.id, now + 2,
	    &got), SIGIL_ESTATE);
	assert_int_equal(store_order_fulfil(f->st, f->other, o.id, now + 2,
	    &got), SIGIL_ENOTFOUND);

	/* Erasure: the order stays, its address and customer go. */
	assert_int_equal(store_customer_erase(f->st, f->brand, f->cust,
	    now + 3), 0);
	assert_int_equal(store_order_get(f->st, f->brand, o.id, &got), 0);
	assert_true(got.customer_id == 0);
	assert_string_equal(got.name, "");
	assert_string_equal(got.phone, "");
	assert_string_equal(got.address, "");
	assert_int_equal(got.status, ORDER_FULFILLED);
	assert_int_equal(store_order_get(f->st, f->brand, bad.id, &got), 0);
	assert_string_equal(got.pickup_code, "00123456");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_orders, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
