/*
 * test_redirects_store.c - the redirect rules' tables
 * (src/store/store_redirects.c): rules read back in the order a scan
 * tries them (the batch's, then the product's, by priority and id), the
 * references checked inside the write (product, batch of that product,
 * distributors, brand), ids never reused, a change made from a stale
 * copy refused, a rule moved between scopes, the 100-rule limit, brand
 * isolation, a reopen; and each device's last location, written with a
 * scan's location.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sigil/store.h"
#include "sigil/util.h"
#include "storefix.h"

struct fixture {
	char		 dir[64];
	struct store	*st;
	uint32_t	 brand, other, dist;
	uint64_t	 b1, b2, bx;	/* TEA's two batches, COFFEE's one */
};

static uint64_t
add_batch(struct store *st, uint32_t brand, uint16_t key, const char *sku)
{
	struct batch b = { .brand_id = brand, .count = 10, .key_id = key };

	strcpy(b.sku, sku);
	assert_int_equal(store_batch_new(st, &b), 0);
	return b.id;
}

static void
add_product(struct store *st, uint32_t brand, const char *sku)
{
	struct product p = { .brand_id = brand, .max_scanners = 5 };

	strcpy(p.sku, sku);
	strcpy(p.name, sku);
	assert_int_equal(store_product_add(st, &p), 0);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct distributor d = { 0 };
	struct key_meta k;

	if (f == NULL || storefix_open(f->dir, sizeof f->dir, "redirects",
	    STORE_CREATE | STORE_NOSYNC, &f->st) != 0)
		return -1;
	f->brand = add_brand(f->st, "acme");
	f->other = add_brand(f->st, "beta");
	add_product(f->st, f->brand, "TEA");
	add_product(f->st, f->brand, "COFFEE");
	add_product(f->st, f->other, "TEA");
	assert_int_equal(store_key_add(f->st, f->brand, &k), 0);
	f->b1 = add_batch(f->st, f->brand, k.id, "TEA");
	f->b2 = add_batch(f->st, f->brand, k.id, "TEA");
	f->bx = add_batch(f->st, f->brand, k.id, "COFFEE");
	d.brand_id = f->brand;
	strcpy(d.name, "Zhejiang");
	assert_int_equal(store_distributor_add(f->st, &d), 0);
	f->dist = d.id;
	*state = f;
	return 0;
}

STOREFIX_TEARDOWN(struct fixture)

static struct redirect_rule *
rule(uint32_t brand, const char *sku, uint64_t batch, uint32_t prio,
    const char *href)
{
	static struct redirect_rule r;

	memset(&r, 0, sizeof r);
	r.brand_id = brand;
	snprintf(r.sku, sizeof r.sku, "%s", sku);
	r.batch = batch;
	r.priority = prio;
	snprintf(r.href, sizeof r.href, "%s", href);
	return &r;
}

struct seen {
	char	 hrefs[256][64];
	size_t	 n;
	size_t	 stop_at;
};

static int
collect(void *arg, const struct redirect_rule *r)
{
	struct seen *s = arg;

	snprintf(s->hrefs[s->n++], sizeof s->hrefs[0], "%.63s", r->href);
	return s->n == s->stop_at ? 7 : 0;
}

static uint32_t
add(struct fixture *f, const char *sku, uint64_t batch, uint32_t prio,
    const char *href)
{
	struct redirect_rule *r = rule(f->brand, sku, batch, prio, href);

	assert_int_equal(store_redirect_add(f->st, r), 0);
	assert_true(r->id > 0);
	assert_true(r->created > 0 && r->updated == r->created);
	return r->id;
}

static void
test_scan_order(void **state)
{
	struct fixture *f = *state;
	struct seen s = { .n = 0 };

	add(f, "TEA", 0, 20, "p20");
	add(f, "TEA", 0, 10, "p10a");
	add(f, "TEA", 0, 10, "p10b");
	add(f, "TEA", f->b1, 500, "b1-500");
	add(f, "TEA", f->b1, 1, "b1-1");
	add(f, "TEA", f->b2, 0, "b2-0");
	add(f, "COFFEE", 0, 0, "coffee");
	add(f, "COFFEE", f->bx, 0, "coffee-batch");

	assert_int_equal(store_redirect_scan(f->st, f->brand, "TEA", f->b1,
	    collect, &s), 0);
	assert_int_equal(s.n, 5);
	assert_string_equal(s.hrefs[0], "b1-1");
	assert_string_equal(s.hrefs[1], "b1-500");
	assert_string_equal(s.hrefs[2], "p10a");
	assert_string_equal(s.hrefs[3], "p10b");
	assert_string_equal(s.hrefs[4], "p20");

	/* the callback's value ends the walk and is returned */
	memset(&s, 0, sizeof s);
	s.stop_at = 2;
	assert_int_equal(store_redirect_scan(f->st, f->brand, "TEA", f->b1,
	    collect, &s), 7);
	assert_int_equal(s.n, 2);
	memset(&s, 0, sizeof s);
	s.stop_at = 3;
	assert_int_equal(store_redirect_scan(f->st, f->brand, "TEA", f->b2,
	    collect, &s), 7);
	assert_string_equal(s.hrefs[0], "b2-0");
	assert_string_equal(s.hrefs[2], "p10b");

	/* a product without rules, a brand without rules, a SKU prefix */
	memset(&s, 0, sizeof s);
	assert_int_equal(store_redirect_scan(f->st, f->brand, "TE", 0,
	    collect, &s), 0);
	assert_int_equal(store_redirect_scan(f->st, f->other, "TEA", f->b1,
	    collect, &s), 0);
	assert_int_equal(s.n, 0);

	/* listings: all, a product's, a product's own, a batch's */
	assert_int_equal(store_redirect_each(f->st, f->brand, NULL, 0, 0,
	    collect, &s), 0);
	assert_int_equal(s.n, 8);
	assert_string_equal(s.hrefs[0], "coffee");
	memset(&s, 0, sizeof s);
	assert_int_equal(store_redirect_each(f->st, f->brand, "TEA", 0, 0,
	    collect, &s), 0);
	assert_int_equal(s.n, 6);
	memset(&s, 0, sizeof s);
	assert_int_equal(store_redirect_each(f->st, f->brand, "TEA", 0, 1,
	    collect, &s), 0);
	assert_int_equal(s.n, 3);
	memset(&s, 0, sizeof s);
	assert_int_equal(store_redirect_each(f->st, f->brand, "TEA", f->b2, 0,
	    collect, &s), 0);
	assert_int_equal(s.n, 1);
	memset(&s, 0, sizeof s);
	assert_int_equal(store_redirect_each(f->st, f->other, NULL, 0, 0,
	    collect, &s), 0);
	assert_int_equal(s.n, 0);
}

static void
test_refs_and_bounds(void **state)
{
	struct fixture *f = *state;
	struct redirect_rule *r;
	struct seen s = { .n = 0 };

	assert_int_equal(store_redirect_add(f->st, rule(f->brand, "NOPE", 0, 0,
	    "h")), SIGIL_ENOTFOUND);
	assert_int_equal(store_redirect_add(f->st, rule(f->brand, "COFFEE",
	    f->b1, 0, "h")), SIGIL_ENOTFOUND);	/* batch of another sku */
	assert_int_equal(store_redirect_add(f->st, rule(f->brand, "TEA", 999, 0,
	    "h")), SIGIL_ENOTFOUND);
	assert_int_equal(store_redirect_add(f->st, rule(f->other, "TEA", f->b1,
	    0, "h")), SIGIL_ENOTFOUND);	/* another brand's batch */
	assert_int_equal(store_redirect_add(f->st, rule(99, "TEA", 0, 0, "h")),
	    SIGIL_ENOTFOUND);
	r = rule(f->brand, "TEA", 0, 0, "h");
	r->when = REDIRECT_WHEN_REGION;
	r->nregion = 1;
	r->region[0] = f->dist + 1;
	assert_int_equal(store_redirect_add(f->st, r), SIGIL_ENOTFOUND);
	r = rule(f->other, "TEA", 0, 0, "h");
	r->when = REDIRECT_WHEN_REGION;
	r->nregion = 1;
	r->region[0] = f->dist;		/* acme's distributor */
	assert_int_equal(store_redirect_add(f->st, r), SIGIL_ENOTFOUND);

	assert_int_equal(store_redirect_add(f->st, rule(f->brand, "TEA", 0, 0,
	    "")), SIGIL_EINVAL);
	assert_int_equal(store_redirect_add(f->st, rule(f->brand, "", 0, 0,
	    "h")), SIGIL_EINVAL);
	assert_int_equal(store_redirect_add(f->st, rule(f->brand, "TEA", 0,
	    REDIRECT_PRIORITY_MAX + 1, "h")), SIGIL_EINVAL);
	r = rule(f->brand, "TEA", 0, 0, "h\x01");
	assert_int_equal(store_redirect_add(f->st, r), SIGIL_EINVAL);
	r = rule(f->brand, "TEA", 0, 0, "h");
	r->when = REDIRECT_WHEN_LANG;	/* without tags */
	assert_int_equal(store_redirect_add(f->st, r), SIGIL_EINVAL);
	r = rule(f->brand, "TEA", 0, 0, "h");
	r->when = REDIRECT_WHEN_FROM | REDIRECT_WHEN_UNTIL;
	r->from = r->until = 5;
	assert_int_equal(store_redirect_add(f->st, r), SIGIL_EINVAL);
	r = rule(f->brand, "TEA", 0, 0, "h");
	r->when = 1u << 7;
	assert_int_equal(store_redirect_add(f->st, r), SIGIL_EINVAL);
	assert_int_equal(store_redirect_each(f->st, f->brand, NULL, 0, 0,
	    collect, &s), 0);
	assert_int_equal(s.n, 0);

	/* 100 a scope; the product's and another batch's apart */
	for (uint32_t i = 0; i < REDIRECT_SCOPE_MAX; i++)
		add(f, "TEA", f->b1, i, "many");
	assert_int_equal(store_redirect_add(f->st, rule(f->brand, "TEA", f->b1,
	    0, "h")), SIGIL_EFULL);
	add(f, "TEA", 0, 0, "product");
	add(f, "TEA", f->b2, 0, "other batch");
}

static void
test_round_trip_update_delete(void **state)
{
	struct fixture *f = *state;
	struct redirect_rule r, got, stale;
	struct seen s = { .n = 0 };
	uint32_t id, id2;

	memset(&r, 0, sizeof r);
	r.brand_id = f->brand;
	strcpy(r.sku, "TEA");
	r.batch = f->b1;
	r.priority = 42;
	strcpy(r.href, "https://brand.example/cny?a=1#f");
	r.when = REDIRECT_WHEN_LANG | REDIRECT_WHEN_WECHAT |
	    REDIRECT_WHEN_FROM | REDIRECT_WHEN_UNTIL | REDIRECT_WHEN_REGION;
	r.nlang = 2;
	strcpy(r.lang[0], "en");
	strcpy(r.lang[1], "zh-Hant-TW");
	r.wechat = 1;
	r.from = 1000;
	r.until = 2000;
	r.nregion = 1;
	r.region[0] = f->dist;
	strcpy(r.note, "春节 promotion");
	assert_int_equal(store_redirect_add(f->st, &r), 0);
	id = r.id;
	assert_int_equal(store_redirect_get(f->st, f->brand, id, &got), 0);
	assert_string_equal(got.href, r.href);
	assert_string_equal(got.sku, "TEA");
	assert_int_equal(got.batch, f->b1);
	assert_int_equal(got.priority, 42);
	assert_int_equal(got.when, r.when);
	assert_int_equal(got.wechat, 1);
	assert_int_equal(got.from, 1000);
	assert_int_equal(got.until, 2000);
	assert_int_equal(got.nlang, 2);
	assert_string_equal(got.lang[1], "zh-Hant-TW");
	assert_int_equal(got.nregion, 1);
	assert_int_equal(got.region[0], f->dist);
	assert_string_equal(got.note, "春节 promotion");
	assert_int_equal(store_redirect_get(f->st, f->other, id, &got),
	    SIGIL_ENOTFOUND);
	assert_int_equal(store_redirect_del(f->st, f->other, id),
	    SIGIL_ENOTFOUND);

	/* moved to the product, then a change from the stale copy */
	stale = got;
	got.batch = 0;
	got.priority = 1;
	assert_int_equal(store_redirect_update(f->st, &got), 0);
	assert_true(got.updated > stale.updated);
	assert_int_equal(got.created, stale.created);
	assert_int_equal(store_redirect_scan(f->st, f->brand, "TEA", f->b1,
	    collect, &s), 0);
	assert_int_equal(s.n, 1);	/* one row: the old key is gone */
	stale.priority = 9;
	assert_int_equal(store_redirect_update(f->st, &stale),
	    SIGIL_ECONFLICT);
	stale.brand_id = f->other;
	stale.updated = got.updated;
	assert_int_equal(store_redirect_update(f->st, &stale),
	    SIGIL_ENOTFOUND);
	got.sku[0] = 'X';
	assert_int_equal(store_redirect_update(f->st, &got), SIGIL_ENOTFOUND);

	/* deleted; the next id is new even after the last was deleted */
	assert_int_equal(store_redirect_del(f->st, f->brand, id), 0);
	assert_int_equal(store_redirect_get(f->st, f->brand, id, &got),
	    SIGIL_ENOTFOUND);
	assert_int_equal(store_redirect_del(f->st, f->brand, id),
	    SIGIL_ENOTFOUND);
	id2 = add(f, "TEA", 0, 0, "again");
	assert_true(id2 > id);
	memset(&s, 0, sizeof s);
	assert_int_equal(store_redirect_scan(f->st, f->brand, "TEA", 0,
	    collect, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.hrefs[0], "again");

	/* a reopen reads the same */
	store_close(f->st);
	assert_int_equal(store_open(f->dir, 0, &f->st), 0);
	assert_int_equal(store_redirect_get(f->st, f->brand, id2, &got), 0);
	assert_string_equal(got.href, "again");
}

static void
judge(void *arg, size_t index, struct scan_rec *rec, struct code_state *s)
{
	(void)arg;
	(void)index;
	(void)s;
	rec->verdict = VERDICT_GENUINE;
}

static void
test_device_loc(void **state)
{
	struct fixture *f = *state;
	struct scan_rec recs[2];
	struct device_loc d;

	memset(recs, 0, sizeof recs);
	for (int i = 0; i < 2; i++) {
		recs[i].at = sigil_now_us();
		recs[i].brand_id = f->brand;
		recs[i].batch_id = f->b1;
		recs[i].serial = 1 + (uint64_t)i;
		recs[i].device = 77;
	}
	assert_int_equal(store_scans_commit(f->st, recs, 2, judge, NULL), 0);
	assert_int_equal(store_device_loc_get(f->st, f->brand, 77, &d),
	    SIGIL_ENOTFOUND);
	assert_int_equal(store_scan_locate(f->st, recs[0].id, 30.25f, 120.5f,
	    10, NULL, NULL, NULL), 0);
	assert_int_equal(store_device_loc_get(f->st, f->brand, 77, &d), 0);
	assert_true(d.lat == 30.25f && d.lng == 120.5f && d.at > 0);
	assert_int_equal(store_scan_locate(f->st, recs[1].id, 39.875f, 116.5f,
	    10, NULL, NULL, NULL), 0);
	assert_int_equal(store_device_loc_get(f->st, f->brand, 77, &d), 0);
	assert_true(d.lat == 39.875f && d.lng == 116.5f);
	assert_int_equal(store_device_loc_get(f->st, f->other, 77, &d),
	    SIGIL_ENOTFOUND);
	assert_int_equal(store_device_loc_get(f->st, f->brand, 78, &d),
	    SIGIL_ENOTFOUND);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_scan_order, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_refs_and_bounds, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_round_trip_update_delete,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_device_loc, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
