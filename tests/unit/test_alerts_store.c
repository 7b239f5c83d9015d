/*
 * test_alerts_store.c - the brand's alert inbox in the store (one alert
 * per code and signal, newest first, status with who and when, a code's
 * alert found through alert_codes), single codes revoked, and the PIN
 * print files noted per batch. Each test works in its own scratch store.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "storefix.h"

#include "sigil/code.h"
#include "sigil/store.h"
#include "sigil/util.h"

struct fixture {
	char		 dir[64];
	struct store	*st;
	uint32_t	 brand, other;
	uint16_t	 key;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct product p = { .max_scanners = 5 };
	struct key_meta k;

	if (f == NULL || storefix_open(f->dir, sizeof f->dir, "alerts",
	    STORE_CREATE | STORE_NOSYNC, &f->st) != 0)
		return -1;
	f->brand = add_brand(f->st, "Acme Tea");
	f->other = add_brand(f->st, "Other Tea");
	p.brand_id = f->brand;
	strcpy(p.sku, "TEA-250");
	strcpy(p.name, "Green tea 250 g");
	assert_int_equal(store_product_add(f->st, &p), 0);
	assert_int_equal(store_key_add(f->st, f->brand, &k), 0);
	f->key = k.id;
	*state = f;
	return 0;
}

STOREFIX_TEARDOWN(struct fixture)

static struct batch
new_batch(struct fixture *f, uint32_t brand, uint64_t count)
{
	struct batch b = { .brand_id = brand, .count = count, .key_id = f->key };

	strcpy(b.sku, "TEA-250");
	strcpy(b.lot, "L1");
	assert_int_equal(store_batch_new(f->st, &b), 0);
	return b;
}

/* device 1: a clone (too many scanners); anything else clean. */
static void
flag_judge(void *arg, size_t index, struct scan_rec *r,
    struct code_state *s)
{
	(void)arg;
	(void)index;
	s->scan_count++;
	r->verdict = VERDICT_GENUINE;
	if (r->device == 1)
		r->flags |= SCAN_CLONE_SCANNERS;
}

static struct scan_rec
mkscan(uint32_t brand, uint64_t serial, uint64_t device, int64_t at)
{
	struct scan_rec r = { .brand_id = brand, .serial = serial,
	    .device = device, .at = at, .batch_id = 1 };

	return r;
}

/*
 * One alert per code and signal: a second clone scan of serial 1 updates
 * its alert (count, last seen, latest scan); the inbox is newest first
 * and pages with before; a resolved alert raised again is new again.
 */
static void
test_alerts_inbox(void **state)
{
	struct fixture *f = *state;
	struct scan_rec r;
	struct alertlist l = { .n = 0 };
	struct alert_query q = { .limit = 2 };
	struct alert a;
	uint64_t first;

	new_batch(f, f->brand, 10);
	for (uint64_t serial = 1; serial <= 3; serial++) {
		r = mkscan(f->brand, serial, 1, (int64_t)serial * 1000);
		assert_int_equal(store_scans_commit(f->st, &r, 1, flag_judge,
		    NULL), 0);
	}
	r = mkscan(f->brand, 1, 1, 9000);
	assert_int_equal(store_scans_commit(f->st, &r, 1, flag_judge, NULL),
	    0);
	assert_int_equal(alerts_of(f->st, f->brand, &q, &l), 2);
	assert_int_equal(l.a[0].serial, 3);
	assert_int_equal(l.a[1].serial, 2);
	q.before = l.a[1].id;
	assert_int_equal(alerts_of(f->st, f->brand, &q, &l), 1);
	assert_int_equal(l.a[0].serial, 1);
	assert_int_equal(l.a[0].count, 2);
	assert_int_equal(l.a[0].at, 1000);
	assert_int_equal(l.a[0].last_at, 9000);
	assert_int_equal(l.a[0].last_scan, r.id);
	assert_int_equal(l.a[0].status, ALERT_NEW);
	first = l.a[0].id;

	/* Status: who and when; not through another brand. */
	assert_int_equal(store_alert_set_status(f->st, f->other, first,
	    ALERT_RESOLVED, 7, 9500, &a), SIGIL_ENOTFOUND);
	assert_int_equal(store_alert_set_status(f->st, f->brand, first, 9,
	    7, 9500, &a), SIGIL_EINVAL);
	assert_int_equal(store_alert_set_status(f->st, f->brand, first,
	    ALERT_RESOLVED, 7, 9500, &a), 0);
	assert_int_equal(a.status_by, 7);
	assert_int_equal(a.status_at, 9500);
	q = (struct alert_query){ .statuses = 1u << ALERT_NEW };
	assert_int_equal(alerts_of(f->st, f->brand, &q, &l), 2);

	/* Raised again: the same alert, new again, by the server. */
	r = mkscan(f->brand, 1, 1, 10000);
	assert_int_equal(store_scans_commit(f->st, &r, 1, flag_judge, NULL),
	    0);
	assert_int_equal(store_alert_get(f->st, f->brand, first, &a), 0);
	assert_int_equal(a.count, 3);
	assert_int_equal(a.status, ALERT_NEW);
	assert_int_equal(a.status_by, 0);
	assert_int_equal(store_alert_get(f->st, f->other, first, &a),
	    SIGIL_ENOTFOUND);
	assert_string_equal(store_alert_type_name(ALERT_DIVERSION),
	    "diversion");
	assert_int_equal(store_alert_type_parse("impossible_travel"),
	    ALERT_CLONE_TRAVEL);
	assert_int_equal(store_alert_type_parse("nope"), 0);
	assert_int_equal(store_alert_status_parse("acknowledged"),
	    ALERT_ACKNOWLEDGED);
	assert_int_equal(store_alert_status_parse("open"), -1);
}

/*
 * A payout mismatch (issue 22): one alert per claimed code, counted again
 * when seen again, new again once resolved; its own type beside a clone
 * alert on the same code; never another brand's.
 */
static void
test_payout_mismatch(void **state)
{
	struct fixture *f = *state;
	struct alertlist l = { .n = 0 };
	struct alert_query q = { .type = ALERT_PAYOUT_MISMATCH };
	struct scan_rec r;
	struct alert a;

	new_batch(f, f->brand, 10);
	r = mkscan(f->brand, 4, 1, 1000);
	assert_int_equal(store_scans_commit(f->st, &r, 1, flag_judge, NULL),
	    0);
	assert_int_equal(store_alert_payout_mismatch(f->st, f->brand, 4, 2000),
	    0);
	assert_int_equal(store_alert_payout_mismatch(f->st, f->brand, 4, 3000),
	    0);
	assert_int_equal(store_alert_payout_mismatch(f->st, f->brand, 5, 3500),
	    0);
	assert_int_equal(alerts_of(f->st, f->brand, &q, &l), 2);
	assert_int_equal(l.a[1].serial, 4);
	assert_int_equal(l.a[1].count, 2);
	assert_int_equal(l.a[1].at, 2000);
	assert_int_equal(l.a[1].last_at, 3000);
	assert_int_equal(l.a[1].scan_id, 0);
	assert_string_equal(store_alert_type_name(l.a[1].type),
	    "payout_mismatch");
	assert_int_equal(store_alert_type_parse("payout_mismatch"),
	    ALERT_PAYOUT_MISMATCH);
	assert_int_equal(store_alert_set_status(f->st, f->brand, l.a[1].id,
	    ALERT_RESOLVED, 7, 3600, &a), 0);
	assert_int_equal(store_alert_payout_mismatch(f->st, f->brand, 4, 4000),
	    0);
	assert_int_equal(store_alert_get(f->st, f->brand, l.a[1].id, &a), 0);
	assert_int_equal(a.count, 3);
	assert_int_equal(a.status, ALERT_NEW);
	/* The clone alert of serial 4 is its own. */
	q.type = ALERT_CLONE_SCANNERS;
	assert_int_equal(alerts_of(f->st, f->brand, &q, &l), 1);
	assert_int_equal(l.a[0].count, 1);
	q.type = 0;
	assert_int_equal(alerts_of(f->st, f->other, &q, &l), 0);
}

/* PIN print files: noted per brand and batch, counted, never another's. */
static void
test_pin_files(void **state)
{
	struct fixture *f = *state;
	struct batch b = new_batch(f, f->brand, 10);
	struct pin_file pf;

	assert_int_equal(store_pin_file_get(f->st, f->brand, b.id, &pf),
	    SIGIL_ENOTFOUND);
	assert_int_equal(store_pin_file_note(f->st, f->brand, b.id, 0, 100),
	    SIGIL_EINVAL);
	assert_int_equal(store_pin_file_note(f->st, f->brand, b.id, 10, 100),
	    0);
	assert_int_equal(store_pin_file_note(f->st, f->brand, b.id, 4, 200),
	    0);
	assert_int_equal(store_pin_file_get(f->st, f->brand, b.id, &pf), 0);
	assert_int_equal(pf.first_at, 100);
	assert_int_equal(pf.last_at, 200);
	assert_int_equal(pf.files, 2);
	assert_int_equal(pf.codes, 4);
	assert_int_equal(store_pin_file_get(f->st, f->other, b.id, &pf),
	    SIGIL_ENOTFOUND);
}

/* One code revoked, its neighbour not; by the code's alert, a status. */
static void
test_code_revoked(void **state)
{
	struct fixture *f = *state;
	struct code_revocation r = { .at = 500, .by = 9 }, got;
	struct scan_rec rec;
	struct alert a;
	struct alertlist l = { .n = 0 };

	new_batch(f, f->brand, 10);
	assert_int_equal(store_code_revoke(f->st, f->brand, 4, &r),
	    SIGIL_EINVAL);
	strcpy(r.reason, "cloned label");
	assert_int_equal(store_code_revoke(f->st, f->brand, 4, &r), 0);
	assert_int_equal(store_code_revoke(f->st, f->brand, 4, &r),
	    SIGIL_EEXIST);
	assert_int_equal(store_code_revoked(f->st, f->brand, 4, &got), 0);
	assert_int_equal(got.at, 500);
	assert_int_equal(got.by, 9);
	assert_string_equal(got.reason, "cloned label");
	assert_int_equal(store_code_revoked(f->st, f->brand, 5, NULL),
	    SIGIL_ENOTFOUND);
	assert_int_equal(store_code_revoked(f->st, f->other, 4, NULL),
	    SIGIL_ENOTFOUND);

	assert_int_equal(store_alert_code_status(f->st, f->brand, 1,
	    ALERT_CLONE_SCANNERS, ALERT_RESOLVED, 3, 700), SIGIL_ENOTFOUND);
	rec = mkscan(f->brand, 1, 1, 600);
	assert_int_equal(store_scans_commit(f->st, &rec, 1, flag_judge, NULL),
	    0);
	assert_int_equal(alerts_after(f->st, f->brand, 0, 0, 0, 0, &l), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(store_alert_code_status(f->st, f->other, 1,
	    ALERT_CLONE_SCANNERS, ALERT_RESOLVED, 3, 700), SIGIL_ENOTFOUND);
	assert_int_equal(store_alert_code_status(f->st, f->brand, 1,
	    ALERT_CLONE_SCANNERS, ALERT_RESOLVED, 3, 700), 0);
	assert_int_equal(store_alert_get(f->st, f->brand, l.a[0].id, &a), 0);
	assert_int_equal(a.status, ALERT_RESOLVED);
	assert_int_equal(a.status_by, 3);
	assert_int_equal(a.status_at, 700);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_alerts_inbox, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_payout_mismatch, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_pin_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_code_revoked, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
