/*
 * test_scan_export.c - a scan as an export's line (scan_export.c), the
 * one formatter `sigil export scans` and GET /api/v1/exports/scans
 * share: the CSV columns and their quoting (a formula gets a leading ',
 * a comma or quote gets quotes), NDJSON keys, the location only when
 * there is one; the header in English or Chinese; UTC offsets parsed
 * ("8", "+05:30", "-12"; not "15", "+5:3", "8h") and times written with
 * them; a date bound is local midnight in the zone (end: the next one),
 * an instant is never moved; a line that does not fit is refused; the
 * region columns (country, province and city in English and zh-CN, the
 * source) filled by level and empty without a region.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sigil/scan_export.h"
#include "sigil/util.h"

static struct scan_rec
rec(void)
{
	struct scan_rec r;

	memset(&r, 0, sizeof r);
	r.id = 7;
	r.serial = 12;
	r.batch_id = 3;
	r.device = 0x27fa9d28f27a8a81ULL;
	r.ip[10] = r.ip[11] = 0xff;
	r.ip[12] = 10;
	r.ip[15] = 9;
	r.verdict = VERDICT_SUSPICIOUS;
	r.flags = SCAN_FIRST;
	return r;
}

static void
test_csv(void **state)
{
	struct scan_rec r = rec();
	struct scan_export_row row = { &r, "ID7", "acme",
	    "2026-12-07T22:05:00.123+08:00" };
	char buf[SCAN_EXPORT_LINE_MAX];

	(void)state;
	assert_true(scan_export_line(buf, sizeof buf, &row, 1) > 0);
	assert_string_equal(buf, "ID7,acme,12,3,2026-12-07T22:05:00.123+08:00,"
	    "suspicious,false,true,27fa9d28f27a8a81,10.0.0.9,,,,false,,,,,,\n");
	r.flags |= SCAN_HAS_LOC | SCAN_DIVERSION | SCAN_BOT;
	r.lat = 30.25f;
	r.lng = 120.5f;
	r.accuracy_m = 40;
	row.brand = "=cmd,\"x\"";
	assert_true(scan_export_line(buf, sizeof buf, &row, 1) > 0);
	assert_string_equal(buf, "ID7,\"'=cmd,\"\"x\"\"\",12,3,"
	    "2026-12-07T22:05:00.123+08:00,suspicious,true,true,"
	    "27fa9d28f27a8a81,10.0.0.9,30.250000,120.500000,40,true,,,,,,\n");
	row.brand = "@plain";
	assert_true(scan_export_line(buf, sizeof buf, &row, 1) > 0);
	assert_non_null(strstr(buf, ",'@plain,"));
	/* Too small a buffer: refused, never cut. */
	assert_int_equal(scan_export_line(buf, 20, &row, 1), 0);
}

/* The region columns: code, English and zh-CN names, the source. */
static struct store_region
region(int level)
{
	struct store_region g;

	memset(&g, 0, sizeof g);
	g.id = level == 3 ? 3 : 2;
	g.country_id = 1;
	g.province_id = level >= 2 ? 2 : 1;
	g.level = level;
	strcpy(g.place.country, "CN");
	strcpy(g.place.province_en, "Guangdong");
	strcpy(g.place.province_zh, "广东省");
	strcpy(g.place.city_en, "Shenzhen, \"Nanshan\"");
	strcpy(g.place.city_zh, "深圳");
	return g;
}

static void
test_region(void **state)
{
	struct scan_rec r = rec();
	struct store_region city = region(3), prov = region(2),
	    country = region(1);
	struct scan_export_row row = { &r, "ID7", "acme", "T", &city };
	char buf[SCAN_EXPORT_LINE_MAX];

	(void)state;
	assert_true(scan_export_line(buf, sizeof buf, &row, 1) > 0);
	assert_non_null(strstr(buf, ",false,CN,Guangdong,"
	    "\"Shenzhen, \"\"Nanshan\"\"\",广东省,深圳,ip\n"));
	row.region = &prov;
	assert_true(scan_export_line(buf, sizeof buf, &row, 1) > 0);
	assert_non_null(strstr(buf, ",false,CN,Guangdong,,广东省,,ip\n"));
	row.region = &country;
	assert_true(scan_export_line(buf, sizeof buf, &row, 1) > 0);
	assert_non_null(strstr(buf, ",false,CN,,,,,ip\n"));
	row.region = &city;
	assert_true(scan_export_line(buf, sizeof buf, &row, 0) > 0);
	assert_non_null(strstr(buf, "\"diversion\":false,\"country\":\"CN\","
	    "\"province\":\"Guangdong\",\"province_zh\":\"广东省\","
	    "\"city\":\"Shenzhen, \\\"Nanshan\\\"\",\"city_zh\":\"深圳\","
	    "\"region_source\":\"ip\"}\n"));
	row.region = &country;
	assert_true(scan_export_line(buf, sizeof buf, &row, 0) > 0);
	assert_null(strstr(buf, "province"));
}

static void
test_ndjson(void **state)
{
	struct scan_rec r = rec();
	struct scan_export_row row = { &r, "ID7", "acme",
	    "2026-12-07T14:05:00.123Z" };
	char buf[SCAN_EXPORT_LINE_MAX];
	size_t n;

	(void)state;
	n = scan_export_line(buf, sizeof buf, &row, 0);
	assert_true(n > 0 && buf[n - 1] == '\n');
	assert_string_equal(buf, "{\"scan_id\":\"ID7\",\"brand\":\"acme\","
	    "\"serial\":12,\"batch\":3,\"time\":\"2026-12-07T14:05:00.123Z\","
	    "\"verdict\":\"suspicious\",\"bot\":false,\"first_scan\":true,"
	    "\"device\":\"27fa9d28f27a8a81\",\"ip\":\"10.0.0.9\","
	    "\"diversion\":false}\n");
	r.flags |= SCAN_HAS_LOC;
	r.accuracy_m = 5;
	n = scan_export_line(buf, sizeof buf, &row, 0);
	assert_non_null(strstr(buf, "\"lat\":"));
	assert_non_null(strstr(buf, "\"accuracy_m\":5,\"diversion\":false}"));
	assert_int_equal(scan_export_line(buf, 40, &row, 0), 0);
}

static void
test_header(void **state)
{
	char buf[512];

	(void)state;
	assert_true(scan_export_header(buf, sizeof buf, 0) > 0);
	assert_string_equal(buf, "scan_id,brand,serial,batch,time,verdict,bot,"
	    "first_scan,device,ip,lat,lng,accuracy_m,diversion,country,"
	    "province,city,province_zh,city_zh,region_source\n");
	assert_true(scan_export_header(buf, sizeof buf, 1) > 0);
	assert_true(strncmp(buf, "扫码编号,品牌,序列号,批次,时间,结果,", 46) == 0);
	assert_int_equal(scan_export_header(buf, 10, 0), 0);
}

static void
test_zones(void **state)
{
	static const struct { const char *s; int m; } good[] = {
		{ "8", 480 }, { "+8", 480 }, { "08", 480 }, { "-5", -300 },
		{ "+05:30", 330 }, { "-03:30", -210 }, { "0", 0 },
		{ "14", 840 }, { "-12", -720 }, { "+14:00", 840 },
	};
	static const char *const bad[] = { "", "15", "-13", "+14:01", "+5:3",
	    "8h", "+", "--8", "8:00", "+05:60", "123", "+05:30x", " 8" };
	char t[SCAN_EXPORT_TIME_LEN + 1];
	int64_t us;
	int m;

	(void)state;
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		assert_int_equal(scan_export_tz_parse(good[i].s, &m), 0);
		assert_int_equal(m, good[i].m);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(scan_export_tz_parse(bad[i], &m), SIGIL_EINVAL);
	assert_int_equal(sigil_time_parse_rfc3339("2026-12-07T20:05:00.123Z",
	    &us), 0);
	assert_string_equal(scan_export_time(us, 480, t),
	    "2026-12-08T04:05:00.123+08:00");
	assert_string_equal(scan_export_time(us, -330, t),
	    "2026-12-07T14:35:00.123-05:30");
	assert_string_equal(scan_export_time(us, 0, t),
	    "2026-12-07T20:05:00.123Z");
}

static void
test_bounds(void **state)
{
	int64_t a, b;

	(void)state;
	/* A date is local midnight: in UTC+8, 16:00 the day before. */
	assert_int_equal(scan_export_bound("2026-12-07", 480, 0, &a), 0);
	assert_int_equal(sigil_time_parse_rfc3339("2026-12-06T16:00:00Z", &b),
	    0);
	assert_true(a == b);
	/* end: the midnight after the day. */
	assert_int_equal(scan_export_bound("2026-12-07", 480, 1, &a), 0);
	assert_true(a == b + 86400LL * 1000000);
	/* An instant is never moved by the zone. */
	assert_int_equal(scan_export_bound("2026-12-07T10:00:00+08:00", -300,
	    1, &a), 0);
	assert_int_equal(sigil_time_parse_rfc3339("2026-12-07T02:00:00Z", &b),
	    0);
	assert_true(a == b);
	assert_int_equal(scan_export_bound("2026-02-30", 0, 0, &a),
	    SIGIL_EINVAL);
	assert_int_equal(scan_export_bound("2026-12-07T10:00:00", 0, 0, &a),
	    SIGIL_EINVAL);
	assert_int_equal(scan_export_bound("yesterday", 0, 0, &a),
	    SIGIL_EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csv),
		cmocka_unit_test(test_ndjson),
		cmocka_unit_test(test_region),
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_zones),
		cmocka_unit_test(test_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
