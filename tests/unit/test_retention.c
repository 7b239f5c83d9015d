/*
 * test_retention.c - a brand's retention in the store
 * (src/store/store_retention.c): addresses cut to /24 and /48, the
 * brand's old scans reduced a bounded chunk at a time and nothing else
 * (newer scans, other brands, verdicts and flags stay), the code's last
 * place dropped, a step that never passes what code_state has merged,
 * and a second pass that finds nothing to do.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "storefix.h"

#include "sigil/scan.h"
#include "sigil/store.h"
#include "sigil/util.h"

#define T0	1767225600000000LL	/* 2026-01-01T00:00:00Z */
#define HOUR	3600000000LL
#define SCANS	24

static void
v4(uint8_t ip[16], int a, int b, int c, int d)
{
	memset(ip, 0, 16);
	ip[10] = ip[11] = 0xff;
	ip[12] = (uint8_t)a;
	ip[13] = (uint8_t)b;
	ip[14] = (uint8_t)c;
	ip[15] = (uint8_t)d;
}

static void
test_ip_truncate(void **state)
{
	uint8_t ip[16], want[16];
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0xab, 0xcd,
	    0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x12, 0x34 };

	(void)state;
	v4(ip, 198, 51, 100, 77);
	assert_false(store_ip_truncated(ip));
	store_ip_truncate(ip);
	v4(want, 198, 51, 100, 0);
	assert_memory_equal(ip, want, 16);
	assert_true(store_ip_truncated(ip));
	/* IPv6: the first 48 bits stay, the other 80 are zero. */
	memcpy(ip, v6, 16);
	assert_false(store_ip_truncated(ip));
	store_ip_truncate(ip);
	memset(want, 0, 16);
	memcpy(want, v6, 6);
	assert_memory_equal(ip, want, 16);
	assert_true(store_ip_truncated(ip));
	/* An address not known (all zero) is already as short as it gets. */
	memset(ip, 0, 16);
	assert_true(store_ip_truncated(ip));
	/* ::1 is IPv6, not v4-mapped: cut to ::. */
	ip[15] = 1;
	store_ip_truncate(ip);
	memset(want, 0, 16);
	assert_memory_equal(ip, want, 16);
}

static void
judge(void *arg, size_t index, struct scan_rec *r, struct code_state *s)
{
	(void)arg;
	(void)index;
	scan_judge(r, s, 8, 1);
}

static void
judge_loc(void *arg, size_t index, struct scan_rec *r, struct code_state *s)
{
	(void)arg;
	(void)index;
	scan_judge(r, s, 8, 0);
}

/*
 * SCANS scans an hour apart, alternately of brand a (serials 1..4) and
 * brand b, from full addresses; every third one located.
 */
static void
fill(struct store *st, uint32_t a, uint32_t b, struct scan_rec *out)
{
	for (int i = 0; i < SCANS; i++) {
		struct scan_rec r = { 0 };

		r.at = T0 + i * HOUR;
		r.brand_id = i % 2 ? b : a;
		r.serial = 1 + (uint64_t)(i / 2 % 4);
		r.batch_id = 1;
		r.device = 5000 + (uint64_t)i;
		r.verdict = VERDICT_GENUINE;
		if (i % 4 == 2) {
			r.ip[0] = 0x20;
			r.ip[1] = 0x01;
			r.ip[2] = 0x0d;
			r.ip[3] = 0xb8;
			r.ip[4] = 0xab;
			r.ip[15] = (uint8_t)(i + 1);
		} else
			v4(r.ip, 198, 51, 100, i + 1);
		assert_int_equal(store_scans_commit(st, &r, 1, judge, NULL), 0);
		if (i % 3 == 0)
			assert_int_equal(store_scan_locate(st, r.id,
			    30.0f + (float)i / 100, 120.0f + (float)i / 100,
			    10, judge_loc, NULL, NULL), 0);
		assert_int_equal(store_scan_get(st, r.id, &out[i]), 0);
	}
}

static void
test_step(void **state)
{
	char dir[64];
	struct store *st;
	struct scan_rec before[SCANS], r;
	struct store_retention_step s;
	struct code_state cs;
	uint32_t a, b;
	int64_t cutoff = T0 + 12 * HOUR;	/* scans 0..11 are old */
	uint64_t reduced = 0, cursor = 0;
	size_t left = 1;
	int steps = 0;

	(void)state;
	assert_int_equal(storefix_open(dir, sizeof dir, "retention",
	    STORE_CREATE, &st), 0);
	a = add_brand(st, "acme");
	b = add_brand(st, "beta");
	fill(st, a, b, before);

	/* Nothing merged yet: the step stops before the first scan. */
	assert_int_equal(store_retention_step(st, a, cutoff, 5, &s), 0);
	assert_true(s.blocked);
	assert_false(s.done);
	assert_int_equal(s.reduced, 0);
	assert_int_equal(s.examined, 0);
	assert_int_equal(store_scan_get(st, before[0].id, &r), 0);
	assert_memory_equal(r.ip, before[0].ip, 16);

	while (left > 0)
		assert_int_equal(store_state_merge(st, 0, &left), 0);
	assert_int_equal(store_code_state(st, a, 1, &cs), 0);
	assert_int_not_equal(cs.last_loc_at, 0);

	/* Chunks of 5 records and the rest of a page until done. */
	do {
		assert_int_equal(store_retention_step(st, a, cutoff, 5, &s), 0);
		assert_true(s.examined <= 5 + 4096 / 48);
		assert_false(s.blocked);
		reduced += s.reduced;
		steps++;
		assert_true(steps < 10);
	} while (!s.done);
	assert_int_equal(reduced, 6);		/* brand a's scans 0..11 */
	assert_int_equal(s.backlog, 0);
	assert_int_equal(store_retention_cursor(st, a, &cursor), 0);
	assert_int_equal(cursor, before[11].id);

	for (int i = 0; i < SCANS; i++) {
		uint8_t cut[16];

		assert_int_equal(store_scan_get(st, before[i].id, &r), 0);
		/* What the brand counts on never moves. */
		assert_int_equal(r.at, before[i].at);
		assert_int_equal(r.verdict, before[i].verdict);
		assert_int_equal(r.device, before[i].device);
		assert_int_equal(r.serial, before[i].serial);
		assert_int_equal(r.flags & ~SCAN_HAS_LOC,
		    before[i].flags & ~SCAN_HAS_LOC);
		if (r.brand_id != a || i >= 12) {
			/* Newer, or another brand's: as it was. */
			assert_memory_equal(r.ip, before[i].ip, 16);
			assert_int_equal(r.flags, before[i].flags);
			if (before[i].flags & SCAN_HAS_LOC)
				assert_true(r.lat == before[i].lat &&
				    r.lng == before[i].lng);
			continue;
		}
		memcpy(cut, before[i].ip, 16);
		store_ip_truncate(cut);
		assert_memory_equal(r.ip, cut, 16);
		assert_false(r.flags & SCAN_HAS_LOC);
		assert_true(r.lat == 0 && r.lng == 0);
	}
	/*
	 * Serial 1 of brand a was last located by scan 0 (old): its place
	 * is gone. Serial 3's last place is scan 12's (new): kept. Brand
	 * b's serial 2 (scan 3, located) keeps its place. Read from the
	 * pending entries, then (reopened) from code_state's rows.
	 */
	for (int pass = 0; pass < 2; pass++) {
		assert_int_equal(store_code_state(st, a, 1, &cs), 0);
		assert_int_equal(cs.last_loc_at, 0);
		assert_true(cs.last_lat == 0 && cs.last_lng == 0);
		assert_int_equal(cs.scan_count, 3);
		assert_int_equal(store_code_state(st, a, 3, &cs), 0);
		assert_int_equal(cs.last_loc_at, before[12].at);
		assert_int_equal(store_code_state(st, b, 2, &cs), 0);
		assert_int_equal(cs.last_loc_at, before[3].at);
		store_close(st);
		assert_int_equal(store_open(dir, 0, &st), 0);
	}

	/* A second pass has nothing to do. */
	assert_int_equal(store_retention_step(st, a, cutoff, 5, &s), 0);
	assert_true(s.done);
	assert_int_equal(s.reduced, 0);
	assert_int_equal(s.examined, 0);
	/* The scrub the step asked for, a chunk at a time. */
	assert_true(store_scrub_pending(st));
	{
		struct store_scrub_run sr;
		int rc, n = 0;

		assert_int_equal(store_scrub_begin(st, &sr), 0);
		while ((rc = store_scrub_step(st, &sr)) == 1)
			assert_true(++n < 1000);
		assert_int_equal(rc, 0);
		assert_true(sr.stats.chunks >= 1);
		assert_true(sr.stats.pages >= 2);
	}
	assert_false(store_scrub_pending(st));
	assert_int_equal(store_scrub(st, NULL), 0);

	/* A reduced location cannot be stored again. */
	assert_int_equal(store_scan_locate(st, before[0].id, 1.0f, 1.0f, 5,
	    judge_loc, NULL, NULL), SIGIL_EEXIST);
	/* Bad arguments. */
	assert_int_equal(store_retention_step(st, a, cutoff, 0, &s),
	    SIGIL_EINVAL);
	storefix_close(dir, st);
}

/*
 * Scans that count for no brand (brand id 0 in the log) are brand 0's
 * to reduce; a forged tag attributed to a brand is that brand's.
 */
static void
test_unbranded(void **state)
{
	char dir[64];
	struct store *st;
	struct scan_rec r[3], got;
	struct store_retention_step s;
	uint32_t a;
	size_t left = 1;

	(void)state;
	assert_int_equal(storefix_open(dir, sizeof dir, "retention0",
	    STORE_CREATE, &st), 0);
	a = add_brand(st, "acme");
	for (int i = 0; i < 3; i++) {
		memset(&r[i], 0, sizeof r[i]);
		r[i].at = T0 + i * HOUR;
		r[i].serial = 77;
		r[i].device = 9000 + (uint64_t)i;
		r[i].verdict = VERDICT_COUNTERFEIT;
		v4(r[i].ip, 192, 0, 2, 10 + i);
	}
	r[1].attr_brand = a;	/* a forged tag naming acme */
	r[2].brand_id = a;	/* acme's own code, not yet old */
	r[2].at = T0 + 48 * HOUR;
	r[2].verdict = VERDICT_GENUINE;
	assert_int_equal(store_scans_commit(st, r, 3, judge, NULL), 0);
	while (left > 0)
		assert_int_equal(store_state_merge(st, 0, &left), 0);

	assert_int_equal(store_retention_step(st, 0, T0 + 24 * HOUR, 100, &s),
	    0);
	assert_true(s.done);
	assert_int_equal(s.examined, 2);
	assert_int_equal(s.reduced, 1);
	assert_int_equal(store_scan_get(st, r[0].id, &got), 0);
	assert_int_equal(got.ip[15], 0);
	assert_int_equal(store_scan_get(st, r[1].id, &got), 0);
	assert_int_equal(got.ip[15], 11);	/* acme's: not brand 0's */

	assert_int_equal(store_retention_step(st, a, T0 + 24 * HOUR, 100, &s),
	    0);
	assert_int_equal(s.reduced, 1);
	assert_int_equal(store_scan_get(st, r[1].id, &got), 0);
	assert_int_equal(got.ip[15], 0);
	assert_int_equal(got.attr_brand, a);
	assert_int_equal(got.verdict, VERDICT_COUNTERFEIT);
	assert_int_equal(store_scan_get(st, r[2].id, &got), 0);
	assert_int_equal(got.ip[15], 12);	/* newer than the cutoff */
	storefix_close(dir, st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ip_truncate),
		cmocka_unit_test(test_step),
		cmocka_unit_test(test_unbranded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
