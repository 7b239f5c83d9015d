/*
 * test_static_gzip.c - dashboard_accepts_gzip: which Accept-Encoding
 * values get the dashboard's precompressed files (RFC 9110 12.5.3).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "sigil/dashboard.h"

static void
accepts(void **state)
{
	(void)state;
	assert_int_equal(dashboard_accepts_gzip("gzip"), 1);
	assert_int_equal(dashboard_accepts_gzip("gzip, deflate, br"), 1);
	assert_int_equal(dashboard_accepts_gzip("br;q=1.0, GZIP;q=0.5"), 1);
	assert_int_equal(dashboard_accepts_gzip("deflate,x-gzip"), 1);
	assert_int_equal(dashboard_accepts_gzip("*"), 1);
	assert_int_equal(dashboard_accepts_gzip("identity, *;q=0.1"), 1);
	assert_int_equal(dashboard_accepts_gzip("  gzip ; q=0.001"), 1);
}

static void
refuses(void **state)
{
	(void)state;
	assert_int_equal(dashboard_accepts_gzip(NULL), 0);
	assert_int_equal(dashboard_accepts_gzip(""), 0);
	assert_int_equal(dashboard_accepts_gzip("identity"), 0);
	assert_int_equal(dashboard_accepts_gzip("br, deflate"), 0);
	assert_int_equal(dashboard_accepts_gzip("gzip;q=0"), 0);
	assert_int_equal(dashboard_accepts_gzip("gzip;q=0.000"), 0);
	assert_int_equal(dashboard_accepts_gzip("*, gzip;q=0"), 0);
	assert_int_equal(dashboard_accepts_gzip("*;q=0"), 0);
	assert_int_equal(dashboard_accepts_gzip("gzipx, xgzip"), 0);
	assert_int_equal(dashboard_accepts_gzip(",,,"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(accepts),
		cmocka_unit_test(refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
