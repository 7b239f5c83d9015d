/*
 * test_regions_store.c - the regions dictionary and a scan's region in
 * the store (store_regions.c, store_scanlog.c, store_counters.c): a scan
 * committed with a place gets a region id, its path (city, province,
 * country) read back with its names; a second scan from the same place
 * reuses the id, a city of the same province shares the province; a
 * place without a province or city is the country; a scan without a
 * place keeps the 48-byte record, one with it 52 bytes, and every reader
 * (get, each, after, back, seek, a code's scans) reads both; the
 * by-province and by-city counters count human scans without a location
 * (not bots), counterfeit ones for the brand they name, and a location
 * arriving later takes the scan back out of them (GPS wins); a reopened
 * store keeps the dictionary.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sigil/store.h"
#include "sigil/util.h"
#include "storefix.h"

#define HOUR_US	(3600LL * 1000000)

static struct geoip_place
place(const char *cc, const char *code, const char *prov_zh,
    const char *city)
{
	struct geoip_place p;

	memset(&p, 0, sizeof p);
	strcpy(p.country, cc);
	strcpy(p.country_en, cc);
	strcpy(p.country_zh, cc);
	strcpy(p.province_code, code);
	strcpy(p.province_en, code);
	strcpy(p.province_zh, prov_zh);
	strcpy(p.city_en, city);
	strcpy(p.city_zh, city);
	if (city[0]) {
		p.lat = 22.5f;
		p.lng = 114.0f;
		p.radius_km = 20;
	}
	return p;
}

static int64_t
total(struct store *st, uint32_t brand, int kind, int dim, uint64_t key,
    int64_t hour)
{
	int64_t v = -1;

	assert_int_equal(store_stat_range(st, brand, kind, dim, key, hour,
	    hour + 1, &v), 0);
	return v;
}

struct seen {
	uint64_t	ids[32];
	uint32_t	regions[32];
	size_t		n;
};

static int
see(void *arg, const struct scan_rec *r)
{
	struct seen *s = arg;

	if (s->n < 32) {
		s->ids[s->n] = r->id;
		s->regions[s->n] = r->region;
	}
	s->n++;
	return 0;
}

static void
test_regions(void **state)
{
	char dir[128];
	struct store *st;
	struct geoip_place sz = place("CN", "GD", "广东省", "Shenzhen"),
	    gz = place("CN", "GD", "广东省", "Guangzhou"),
	    sh = place("CN", "SH", "上海市", ""),
	    us = place("US", "", "", "");
	struct scan_rec r[6], back;
	struct store_region reg;
	struct seen s;
	int64_t now = sigil_now_us(), h = now / HOUR_US;
	uint64_t after;
	uint32_t acme;

	(void)state;
	assert_int_equal(storefix_open(dir, sizeof dir, "regions",
	    STORE_CREATE | STORE_NOSYNC, &st), 0);
	acme = add_brand(st, "acme");
	memset(r, 0, sizeof r);
	for (int i = 0; i < 6; i++) {
		r[i].at = now;
		r[i].brand_id = acme;
		r[i].serial = 1 + (uint64_t)i;
		r[i].device = 10 + (uint64_t)i;
	}
	r[0].place = &sz;
	r[1].place = &sz;
	r[2].place = &gz;
	r[3].place = &sh;
	r[4].place = &us;
	r[4].flags = SCAN_BOT;
	/* r[5]: no place */
	assert_int_equal(store_scans_commit(st, r, 6, NULL, NULL), 0);
	assert_true(r[0].region != 0);
	assert_int_equal(r[1].region, r[0].region);
	assert_true(r[2].region != r[0].region);
	assert_int_equal(r[2].region_province, r[0].region_province);
	assert_true(r[3].region != 0 && r[4].region != 0);
	assert_int_equal(r[5].region, 0);
	assert_null(r[0].place);

	/* The path with its names. */
	assert_int_equal(store_region_get(st, r[0].region, &reg), 0);
	assert_int_equal(reg.level, 3);
	assert_int_equal(reg.id, r[0].region);
	assert_int_equal(reg.province_id, r[0].region_province);
	assert_string_equal(reg.place.country, "CN");
	assert_string_equal(reg.place.province_code, "GD");
	assert_string_equal(reg.place.province_zh, "广东省");
	assert_string_equal(reg.place.city_en, "Shenzhen");
	assert_true(reg.place.lat > 22.4f && reg.place.radius_km == 20);
	assert_int_equal(store_region_get(st, reg.province_id, &reg), 0);
	assert_int_equal(reg.level, 2);
	assert_string_equal(reg.place.city_en, "");
	assert_int_equal(store_region_get(st, r[3].region, &reg), 0);
	assert_int_equal(reg.level, 2);		/* Shanghai: no city */
	assert_int_equal(reg.id, r[3].region_province);
	assert_int_equal(store_region_get(st, r[4].region, &reg), 0);
	assert_int_equal(reg.level, 1);		/* a country alone */
	assert_int_equal(reg.province_id, reg.country_id);
	assert_string_equal(reg.place.country, "US");
	assert_int_equal(store_region_get(st, 0, &reg), SIGIL_ENOTFOUND);
	assert_int_equal(store_region_get(st, 999, &reg), SIGIL_ENOTFOUND);

	/* Every reader reads both record forms. */
	assert_int_equal(store_scan_get(st, r[0].id, &back), 0);
	assert_int_equal(back.region, r[0].region);
	assert_int_equal(store_scan_get(st, r[5].id, &back), 0);
	assert_int_equal(back.region, 0);
	memset(&s, 0, sizeof s);
	assert_int_equal(store_scan_each(st, 0, see, &s), 0);
	assert_int_equal(s.n, 6);
	assert_int_equal(s.regions[2], r[2].region);
	memset(&s, 0, sizeof s);
	assert_int_equal(store_scan_after(st, r[1].id, 10, see, &s), 0);
	assert_int_equal(s.n, 4);
	assert_int_equal(s.regions[0], r[2].region);
	memset(&s, 0, sizeof s);
	assert_int_equal(store_scan_back(st, 0, 100, NULL, see, &s, &after),
	    0);
	assert_int_equal(s.n, 6);
	assert_int_equal(s.regions[5], r[0].region);
	assert_int_equal(store_scan_seek(st, now, &after), 0);
	assert_int_equal(after, r[0].id - 1);
	memset(&s, 0, sizeof s);
	assert_int_equal(store_code_scans(st, acme, 3, see, &s), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.regions[0], r[2].region);

	/* Counters: human scans without a location; not the bot. */
	assert_int_equal(total(st, acme, STAT_SCANS, DIM_PROVINCE,
	    r[0].region_province, h), 3);
	assert_int_equal(total(st, acme, STAT_SCANS, DIM_CITY, r[0].region,
	    h), 2);
	assert_int_equal(total(st, acme, STAT_SCANS, DIM_CITY, r[2].region,
	    h), 1);
	assert_int_equal(total(st, acme, STAT_SCANS, DIM_PROVINCE,
	    r[3].region, h), 1);
	assert_int_equal(total(st, acme, STAT_SCANS, DIM_PROVINCE,
	    r[4].region, h), 0);

	/* A location wins: the scan leaves its address's province. */
	assert_int_equal(store_scan_locate(st, r[1].id, 39.9f, 116.4f, 10,
	    NULL, NULL, &back), 0);
	assert_int_equal(back.region, r[1].region);	/* still recorded */
	assert_int_equal(total(st, acme, STAT_SCANS, DIM_PROVINCE,
	    r[0].region_province, h), 2);
	assert_int_equal(total(st, acme, STAT_SCANS, DIM_CITY, r[0].region,
	    h), 1);
	assert_int_equal(total(st, acme, STAT_SCANS, DIM_REGION,
	    store_region_cell(39.9f, 116.4f), h), 1);

	/* A scan located at commit never counted by its address. */
	memset(r, 0, sizeof r);
	r[0].at = now;
	r[0].brand_id = acme;
	r[0].serial = 9;
	r[0].place = &sh;
	r[0].flags = SCAN_HAS_LOC;
	r[0].lat = 31.2f;
	r[0].lng = 121.4f;
	/* A counterfeit one counts for the brand its tag names. */
	r[1].at = now;
	r[1].verdict = VERDICT_COUNTERFEIT;
	r[1].attr_brand = acme;
	r[1].place = &sh;
	assert_int_equal(store_scans_commit(st, r, 2, NULL, NULL), 0);
	assert_int_equal(r[0].region, r[1].region);
	assert_int_equal(total(st, acme, STAT_SCANS, DIM_PROVINCE,
	    r[0].region, h), 1);
	assert_int_equal(total(st, acme, STAT_COUNTERFEIT, DIM_PROVINCE,
	    r[1].region, h), 1);
	assert_int_equal(store_scan_get(st, r[1].id, &back), 0);
	assert_int_equal(back.region, r[1].region);
	assert_int_equal(back.attr_brand, acme);

	/* Reopened: the dictionary is kept, the same place the same id. */
	store_close(st);
	assert_int_equal(store_open(dir, STORE_NOSYNC, &st), 0);
	memset(r, 0, sizeof r);
	r[0].at = now;
	r[0].brand_id = acme;
	r[0].serial = 10;
	r[0].place = &gz;
	assert_int_equal(store_scans_commit(st, r, 1, NULL, NULL), 0);
	assert_int_equal(store_region_get(st, r[0].region, &reg), 0);
	assert_string_equal(reg.place.city_en, "Guangzhou");
	assert_int_equal(total(st, acme, STAT_SCANS, DIM_CITY, r[0].region,
	    h), 2);
	storefix_close(dir, st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_regions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
