/*
 * test_stats_range.c - a stats request's range (stats_range_parse): time
 * zones handled once. A date is a local day of tz (its midnight tz hours
 * before UTC's; a date "to" includes its day); an instant with Z or an
 * offset is never moved by tz; by day the range widens to whole local
 * days; times without a zone, bad zones and bad buckets are refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sigil/stats.h"
#include "sigil/util.h"

#define H	STATS_HOUR_US

/* Hours since the epoch of a UTC time. */
static int64_t
hour_of(const char *utc)
{
	int64_t t;

	assert_int_equal(sigil_time_parse_rfc3339(utc, &t), 0);
	return t / H;
}

static int64_t
now_at(const char *utc)
{
	int64_t t;

	assert_int_equal(sigil_time_parse_rfc3339(utc, &t), 0);
	return t;
}

static void
test_instants_never_move(void **state)
{
	static const char *const zones[] = { "0", "8", "-5", "14", "-12",
	    "+8" };
	int64_t now = now_at("2026-12-07T05:30:00Z");
	struct stats_range r;

	(void)state;
	for (size_t i = 0; i < sizeof zones / sizeof zones[0]; i++) {
		assert_int_equal(stats_range_parse("hour", zones[i],
		    "2026-12-05T02:00:00Z", "2026-12-07T02:00:00Z", now, &r),
		    0);
		assert_int_equal(r.from_hour, hour_of("2026-12-05T02:00:00Z"));
		assert_int_equal(r.to_hour, hour_of("2026-12-07T02:00:00Z"));
		assert_int_equal(stats_buckets(&r), 48);
	}
	/* An offset is the same instant. */
	assert_int_equal(stats_range_parse("hour", "8",
	    "2026-12-05T10:00:00+08:00", "2026-12-07T02:00:00.000Z", now, &r),
	    0);
	assert_int_equal(r.from_hour, hour_of("2026-12-05T02:00:00Z"));
	/* A part hour rounds down to its hour. */
	assert_int_equal(stats_range_parse("hour", "8",
	    "2026-12-05T02:59:59Z", "2026-12-05T05:00:00Z", now, &r), 0);
	assert_int_equal(r.from_hour, hour_of("2026-12-05T02:00:00Z"));
}

static void
test_dates_are_local_days(void **state)
{
	int64_t now = now_at("2026-12-07T05:30:00Z");
	struct stats_range r;

	(void)state;
	/* By day in UTC+8: 12-05 00:00 local is 12-04 16:00 UTC; the "to"
	 * date includes 12-07. */
	assert_int_equal(stats_range_parse("day", "8", "2026-12-05",
	    "2026-12-07", now, &r), 0);
	assert_int_equal(r.from_hour, hour_of("2026-12-04T16:00:00Z"));
	assert_int_equal(r.to_hour, hour_of("2026-12-07T16:00:00Z"));
	assert_int_equal(stats_buckets(&r), 3);
	/* By hour the same dates are the same local days, in hours. */
	assert_int_equal(stats_range_parse("hour", "8", "2026-12-07",
	    "2026-12-07", now, &r), 0);
	assert_int_equal(r.from_hour, hour_of("2026-12-06T16:00:00Z"));
	assert_int_equal(stats_buckets(&r), 24);
	/* West of UTC. */
	assert_int_equal(stats_range_parse("day", "-5", "2026-12-05",
	    "2026-12-05", now, &r), 0);
	assert_int_equal(r.from_hour, hour_of("2026-12-05T05:00:00Z"));
	assert_int_equal(r.to_hour, hour_of("2026-12-06T05:00:00Z"));
	/* Instants by day: widened to the local days they fall in. */
	assert_int_equal(stats_range_parse("day", "8", "2026-12-05T02:00:00Z",
	    "2026-12-05T03:00:00Z", now, &r), 0);
	assert_int_equal(r.from_hour, hour_of("2026-12-04T16:00:00Z"));
	assert_int_equal(r.to_hour, hour_of("2026-12-05T16:00:00Z"));
}

static void
test_defaults(void **state)
{
	int64_t now = now_at("2026-12-07T05:30:00Z");
	struct stats_range r;

	(void)state;
	/* By hour: the last 48 hours, up to the end of this one. */
	assert_int_equal(stats_range_parse("hour", "8", NULL, NULL, now, &r),
	    0);
	assert_int_equal(r.to_hour, hour_of("2026-12-07T06:00:00Z"));
	assert_int_equal(stats_buckets(&r), 48);
	/* By day in UTC+8 it is already 13:30 on 12-07: 30 local days to
	 * the end of it. */
	assert_int_equal(stats_range_parse(NULL, "8", NULL, NULL, now, &r), 0);
	assert_int_equal(r.to_hour, hour_of("2026-12-07T16:00:00Z"));
	assert_int_equal(stats_buckets(&r), 30);
	assert_int_equal(r.bucket_hours, 24);
}

static void
test_refused(void **state)
{
	int64_t now = now_at("2026-12-07T05:30:00Z");
	struct stats_range r;

	(void)state;
	/* No zone, a bad offset, a space, a bad date. */
	assert_int_equal(stats_range_parse("hour", "8", "2026-12-05T02:00:00",
	    NULL, now, &r), SIGIL_EINVAL);
	assert_int_equal(stats_range_parse("hour", "8",
	    "2026-12-05T02:00:00+8", NULL, now, &r), SIGIL_EINVAL);
	assert_int_equal(stats_range_parse("hour", "8", "2026-12-05 02:00:00Z",
	    NULL, now, &r), SIGIL_EINVAL);
	assert_int_equal(stats_range_parse("day", "8", "2026-02-30", NULL, now,
	    &r), SIGIL_EINVAL);
	assert_int_equal(stats_range_parse("day", "0", NULL, "2026-12-7", now,
	    &r), SIGIL_EINVAL);
	/* Zones and buckets. */
	assert_int_equal(stats_range_parse("day", "15", NULL, NULL, now, &r),
	    SIGIL_EINVAL);
	assert_int_equal(stats_range_parse("day", "-13", NULL, NULL, now, &r),
	    SIGIL_EINVAL);
	assert_int_equal(stats_range_parse("day", "8.5", NULL, NULL, now, &r),
	    SIGIL_EINVAL);
	assert_int_equal(stats_range_parse("week", "0", NULL, NULL, now, &r),
	    SIGIL_EINVAL);
	/* Ranges: backwards, too long. */
	assert_int_equal(stats_range_parse("hour", "0", "2026-12-07T02:00:00Z",
	    "2026-12-05T02:00:00Z", now, &r), SIGIL_EFULL);
	assert_int_equal(stats_range_parse("hour", "0", "2026-10-01T00:00:00Z",
	    "2026-12-05T00:00:00Z", now, &r), SIGIL_EFULL);
	assert_int_equal(stats_range_parse("day", "0", "2024-01-01",
	    "2026-12-05", now, &r), SIGIL_EFULL);
}

/* The period before: as long, ending where r starts, on the same edges. */
static void
test_previous(void **state)
{
	int64_t now = now_at("2026-12-07T05:30:00Z");
	struct stats_range r, p;

	(void)state;
	/* 7 local days in UTC+8: the 7 before, from local midnight. */
	assert_int_equal(stats_range_parse("day", "8", "2026-12-01",
	    "2026-12-07", now, &r), 0);
	assert_int_equal(stats_range_previous(&r, &p), 0);
	assert_int_equal(p.to_hour, r.from_hour);
	assert_int_equal(p.from_hour, hour_of("2026-11-23T16:00:00Z"));
	assert_int_equal(p.to_hour, hour_of("2026-11-30T16:00:00Z"));
	assert_int_equal(stats_buckets(&p), 7);
	assert_int_equal(p.bucket_hours, 24);
	assert_int_equal(p.tz, 8);
	/* 24 hours of instants: the 24 before, tz moving nothing. */
	assert_int_equal(stats_range_parse("hour", "-5",
	    "2026-12-06T06:00:00Z", "2026-12-07T06:00:00Z", now, &r), 0);
	assert_int_equal(stats_range_previous(&r, &p), 0);
	assert_int_equal(p.from_hour, hour_of("2026-12-05T06:00:00Z"));
	assert_int_equal(p.to_hour, hour_of("2026-12-06T06:00:00Z"));
	assert_int_equal(stats_buckets(&p), 24);
	/* Before 1970: refused. */
	assert_int_equal(stats_range_parse("day", "0", "1970-01-02",
	    "1970-01-05", now, &r), 0);
	assert_int_equal(stats_range_previous(&r, &p), SIGIL_EFULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_instants_never_move),
		cmocka_unit_test(test_dates_are_local_days),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_previous),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
