/*
 * sigil/store/regions.h - the regions scans come from: a dictionary of
 * places (country, province, city; zh-CN and English names) that scan
 * records name by id (src/store/store_regions.c, docs/storage.md).
 *
 * One slice of the storage module's contract: include "sigil/store.h".
 */
#ifndef SIGIL_STORE_REGIONS_H
#define SIGIL_STORE_REGIONS_H

#ifndef SIGIL_STORE_H
#error "include sigil/store.h, not its slices"
#endif

#include "sigil/geoip.h"

/*
 * A region: the place (names along its path; lat/lng/radius_km of a
 * city, from the database that first named it) and the ids of its
 * levels. province_id is what the by-province counters use: the
 * province's id, or the country's when the database named no province.
 */
struct store_region {
	uint32_t		id;		/* the most precise level */
	uint32_t		province_id, country_id;
	int			level;		/* 1 country, 2 province, 3 city */
	struct geoip_place	place;
};

/*
 * The region of id (a scan_rec.region, a DIM_PROVINCE or DIM_CITY key)
 * with its whole path. 0 and *out, SIGIL_ENOTFOUND (no such id, or 0),
 * SIGIL_EIO (a damaged row).
 */
int store_region_get(struct store *st, uint32_t id, struct store_region *out);

#endif
