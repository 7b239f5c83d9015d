/*
 * test_geoip.c - the address-to-place lookup (src/ground/geoip.c) over a
 * database this test writes with tests/lib/mkmmdb.pl (Debian's
 * MaxMind::DB::Writer) into a scratch directory, and the name mapping:
 * IPv4 (as v4-mapped addresses) and IPv6 found; an address outside every
 * network, and a record without a country, not found; China's provinces
 * named by their fixed zh-CN and English names from the letter and the
 * numeric ISO 3166-2:CN codes, whatever the database calls them, and
 * by name when it gives no code (DB-IP); Hong
 * Kong, Macao and Taiwan given the province the China map draws; English
 * standing in for a missing zh-CN name; a name with a control character
 * or a code with a stray character dropped, a long name cut at a
 * character, a point off the globe ignored; the per-thread cache telling
 * two databases apart; a missing file and a file that is no database
 * refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "sigil/geoip.h"
#include "sigil/util.h"
#include "tmpdir.h"

static char dir[128];

/* Writes spec (JSON) through mkmmdb.pl into dir/name; 0 on success. */
static int
mkmmdb(const char *name, const char *spec, char *path, size_t size)
{
	char cmd[512], sp[256];
	FILE *f;

	snprintf(path, size, "%s/%s", dir, name);
	snprintf(sp, sizeof sp, "%s/%s.json", dir, name);
	if ((f = fopen(sp, "w")) == NULL)
		return -1;
	fputs(spec, f);
	fclose(f);
	snprintf(cmd, sizeof cmd, "perl tests/lib/mkmmdb.pl '%s' < '%s'",
	    path, sp);
	return system(cmd) == 0 ? 0 : -1;
}

static const char *const SPEC =
    "{\"type\":\"GeoLite2-City\",\"networks\":["
    "[\"203.0.113.0/24\",{\"country\":{\"iso_code\":\"CN\",\"names\":"
    "{\"en\":\"China\",\"zh-CN\":\"中国\"}},\"subdivisions\":[{\"iso_code\":"
    "\"GD\",\"names\":{\"en\":\"Guangdong Sheng\",\"zh-CN\":\"广东\"}}],"
    "\"city\":{\"names\":{\"en\":\"Shenzhen\",\"zh-CN\":\"深圳\"}},"
    "\"location\":{\"latitude\":22.5,\"longitude\":114.0,"
    "\"accuracy_radius\":20}}],"
    "[\"198.51.100.0/24\",{\"country\":{\"iso_code\":\"CN\",\"names\":"
    "{\"en\":\"China\"}},\"subdivisions\":[{\"iso_code\":\"33\",\"names\":"
    "{\"en\":\"Zhejiang\"}}]}],"
    "[\"192.0.2.0/25\",{\"country\":{\"iso_code\":\"HK\",\"names\":"
    "{\"en\":\"Hong Kong\",\"zh-CN\":\"香港\"}}}],"
    "[\"192.0.2.128/25\",{\"country\":{\"iso_code\":\"US\",\"names\":"
    "{\"en\":\"United States\"}},\"subdivisions\":[{\"iso_code\":\"C-A\","
    "\"names\":{\"en\":\"Cali\\u0007fornia\",\"zh-CN\":\"加州\"}}],"
    "\"city\":{\"names\":{\"en\":\"ééééééééééééééééééééééééééééééééééééééééé\"}},"
    "\"location\":{\"latitude\":95.0,\"longitude\":1.0}}],"
    "[\"2001:db8:1::/48\",{\"country\":{\"iso_code\":\"CN\",\"names\":"
    "{\"en\":\"China\"}},\"subdivisions\":[{\"iso_code\":\"SC\","
    "\"names\":{\"en\":\"Sichuan\"}}],\"city\":{\"names\":{\"en\":"
    "\"Chengdu\",\"zh-CN\":\"成都\"}}}],"
    "[\"2001:db8:2::/48\",{\"city\":{\"names\":{\"en\":\"Nowhere\"}}}],"
    "[\"2001:db8:3::/48\",{\"country\":{\"iso_code\":\"cn1\"}}],"
    "[\"2001:db8:4::/48\",{\"country\":{\"iso_code\":\"CN\"},"
    "\"subdivisions\":[{\"iso_code\":\"GDXXXXXXXX\",\"names\":{\"en\":"
    "\"Somewhere\"}}]}]"
    "]}";

static void
addr(const char *s, uint8_t ip[16])
{
	struct in_addr a4;

	memset(ip, 0, 16);
	if (inet_pton(AF_INET, s, &a4) == 1) {
		ip[10] = ip[11] = 0xff;
		memcpy(ip + 12, &a4, 4);
	} else
		assert_int_equal(inet_pton(AF_INET6, s, ip), 1);
}

static int
setup(void **state)
{
	(void)state;
	return tmpdir_new(dir, sizeof dir, "geoip") == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	tmpdir_remove(dir);
	return 0;
}

static void
test_names(void **state)
{
	const struct geoip_province *p;
	struct geoip_place pl;

	(void)state;
	p = geoip_cn_province("GD");
	assert_non_null(p);
	assert_string_equal(p->zh, "广东省");
	assert_string_equal(p->en, "Guangdong");
	assert_ptr_equal(geoip_cn_province("44"), p);
	assert_ptr_equal(geoip_cn_province("gd"), p);
	assert_string_equal(geoip_cn_province("NM")->zh, "内蒙古自治区");
	assert_string_equal(geoip_cn_province("65")->en, "Xinjiang");
	assert_string_equal(geoip_cn_province("MO")->zh, "澳门特别行政区");
	assert_null(geoip_cn_province("ZZ"));
	assert_null(geoip_cn_province("4"));
	assert_null(geoip_cn_province(""));
	assert_null(geoip_cn_province(NULL));

	/* China: the fixed names win over the database's. */
	memset(&pl, 0, sizeof pl);
	strcpy(pl.country, "CN");
	strcpy(pl.province_code, "44");
	strcpy(pl.province_en, "Guangdong Sheng");
	strcpy(pl.country_en, "China");
	geoip_place_names(&pl);
	assert_string_equal(pl.province_code, "GD");
	assert_string_equal(pl.province_zh, "广东省");
	assert_string_equal(pl.province_en, "Guangdong");
	assert_string_equal(pl.country_zh, "China");	/* English stands in */

	/* No code (DB-IP gives names only): found by name. */
	{
		static const struct { const char *en, *zh, *code; } named[] = {
			{ "Guangdong Sheng", "", "GD" },
			{ "Inner Mongolia Autonomous Region", "", "NM" },
			{ "Tibet", "", "XZ" },
			{ "Shaanxi", "", "SN" },
			{ "Shanxi", "", "SX" },
			{ "", "广西", "GX" },
			{ "Nowhere", "广", "" },
			{ "Shanghaiville", "", "" },
		};

		for (size_t i = 0; i < sizeof named / sizeof *named; i++) {
			memset(&pl, 0, sizeof pl);
			strcpy(pl.country, "CN");
			strcpy(pl.province_en, named[i].en);
			strcpy(pl.province_zh, named[i].zh);
			geoip_place_names(&pl);
			assert_string_equal(pl.province_code, named[i].code);
		}
		assert_string_equal(pl.province_en, "Shanghaiville");
	}

	/* Hong Kong as a country: the map's province. */
	memset(&pl, 0, sizeof pl);
	strcpy(pl.country, "HK");
	geoip_place_names(&pl);
	assert_string_equal(pl.province_zh, "香港特别行政区");
	assert_string_equal(pl.province_code, "");
	assert_string_equal(pl.country_en, "HK");	/* the code, at least */

	/* Elsewhere: the database's names, English for zh-CN. */
	memset(&pl, 0, sizeof pl);
	strcpy(pl.country, "US");
	strcpy(pl.province_code, "GD");		/* not China's */
	strcpy(pl.province_en, "Georgia-ish");
	strcpy(pl.city_zh, "某城");
	geoip_place_names(&pl);
	assert_string_equal(pl.province_zh, "Georgia-ish");
	assert_string_equal(pl.city_en, "某城");
	assert_string_equal(pl.province_code, "GD");
}

static void
test_lookup(void **state)
{
	char path[256];
	struct geoip *g;
	struct geoip_place p;
	uint8_t ip[16];

	(void)state;
	assert_int_equal(mkmmdb("a.mmdb", SPEC, path, sizeof path), 0);
	assert_int_equal(geoip_open(path, &g, NULL, 0), 0);
	assert_string_equal(geoip_type(g), "GeoLite2-City");
	assert_true(geoip_built(g) > 1500000000);

	addr("203.0.113.77", ip);
	assert_int_equal(geoip_lookup(g, ip, &p), 1);
	assert_string_equal(p.country, "CN");
	assert_string_equal(p.country_zh, "中国");
	assert_string_equal(p.province_code, "GD");
	assert_string_equal(p.province_zh, "广东省");
	assert_string_equal(p.province_en, "Guangdong");
	assert_string_equal(p.city_en, "Shenzhen");
	assert_string_equal(p.city_zh, "深圳");
	assert_true(p.lat > 22.49 && p.lat < 22.51 && p.lng > 113.99);
	assert_int_equal(p.radius_km, 20);
	/* Again: the same answer (from the thread's cache). */
	memset(&p, 0x55, sizeof p);
	assert_int_equal(geoip_lookup(g, ip, &p), 1);
	assert_string_equal(p.city_zh, "深圳");

	addr("198.51.100.1", ip);
	assert_int_equal(geoip_lookup(g, ip, &p), 1);
	assert_string_equal(p.province_code, "ZJ");	/* from 33 */
	assert_string_equal(p.province_zh, "浙江省");
	assert_string_equal(p.city_en, "");
	assert_true(p.lat == 0 && p.lng == 0);

	addr("192.0.2.5", ip);
	assert_int_equal(geoip_lookup(g, ip, &p), 1);
	assert_string_equal(p.country, "HK");
	assert_string_equal(p.province_en, "Hong Kong");

	/* Hostile values: the code with a '-' dropped, the name with BEL
	 * dropped (zh kept), a long name cut at a character, a latitude
	 * off the globe ignored. */
	addr("192.0.2.200", ip);
	assert_int_equal(geoip_lookup(g, ip, &p), 1);
	assert_string_equal(p.province_code, "");
	assert_string_equal(p.province_zh, "加州");
	assert_string_equal(p.province_en, "加州");
	assert_int_equal(strlen(p.city_en), 62);	/* 31 × 2 bytes */
	assert_true(sigil_utf8_valid(p.city_en, strlen(p.city_en)));
	assert_true(p.lat == 0 && p.lng == 0);

	addr("2001:db8:1::9", ip);
	assert_int_equal(geoip_lookup(g, ip, &p), 1);
	assert_string_equal(p.province_zh, "四川省");
	assert_string_equal(p.city_zh, "成都");

	/* A code longer than ISO 3166-2's three characters: dropped, not
	 * cut (cut, "GDXXXXX" could pass for another code). */
	addr("2001:db8:4::1", ip);
	assert_int_equal(geoip_lookup(g, ip, &p), 1);
	assert_string_equal(p.province_code, "");
	assert_string_equal(p.province_en, "Somewhere");

	/* No country, a malformed country, outside, private, loopback. */
	for (const char *s = "2001:db8:2::1\0" "2001:db8:3::1\0" "233.252.0.1\0"
	    "10.0.0.1\0" "::1\0" "127.0.0.1\0"; *s; s += strlen(s) + 1) {
		addr(s, ip);
		memset(&p, 0x55, sizeof p);
		assert_int_equal(geoip_lookup(g, ip, &p), 0);
		assert_string_equal(p.country, "");
	}
	geoip_close(g);
	geoip_close(NULL);
}

/* Two databases at once: the per-thread cache keeps them apart. */
static void
test_two(void **state)
{
	static const char *const other =
	    "{\"type\":\"DBIP-City-Lite\",\"networks\":["
	    "[\"203.0.113.0/24\",{\"country\":{\"iso_code\":\"CN\"},"
	    "\"subdivisions\":[{\"iso_code\":\"BJ\"}]}]]}";
	char pa[256], pb[256];
	struct geoip *a, *b;
	struct geoip_place p;
	uint8_t ip[16];

	(void)state;
	assert_int_equal(mkmmdb("a2.mmdb", SPEC, pa, sizeof pa), 0);
	assert_int_equal(mkmmdb("b.mmdb", other, pb, sizeof pb), 0);
	assert_int_equal(geoip_open(pa, &a, NULL, 0), 0);
	assert_int_equal(geoip_open(pb, &b, NULL, 0), 0);
	assert_string_equal(geoip_type(b), "DBIP-City-Lite");
	addr("203.0.113.9", ip);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(geoip_lookup(a, ip, &p), 1);
		assert_string_equal(p.province_zh, "广东省");
		assert_int_equal(geoip_lookup(b, ip, &p), 1);
		assert_string_equal(p.province_zh, "北京市");
		assert_string_equal(p.country_en, "CN");
	}
	geoip_close(a);
	geoip_close(b);
}

static void
test_open_errors(void **state)
{
	char path[256], err[128] = "";
	struct geoip *g = NULL;
	FILE *f;

	(void)state;
	snprintf(path, sizeof path, "%s/none.mmdb", dir);
	assert_int_equal(geoip_open(path, &g, err, sizeof err),
	    SIGIL_ENOTFOUND);
	assert_null(g);
	snprintf(path, sizeof path, "%s/junk.mmdb", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	for (int i = 0; i < 200; i++)
		fputs("not a database\n", f);
	fclose(f);
	assert_int_equal(geoip_open(path, &g, err, sizeof err), SIGIL_EINVAL);
	assert_null(g);
	assert_true(strlen(err) > 0 && strstr(err, dir) == NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_two),
		cmocka_unit_test(test_open_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
