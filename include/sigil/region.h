/*
 * region.h - a scan's region as the API, the alerts and the exports show
 * it (src/domain/region.c): the country, province and city of the
 * client address (store/regions.h), always marked low-confidence and
 * with its source, because an address is a guess at a place.
 */
#ifndef SIGIL_REGION_H
#define SIGIL_REGION_H

#include <stdint.h>

#include <jansson.h>

#include "sigil/store.h"

/*
 * {"source": "ip", "confidence": "low", "country": "CN",
 *  "country_name": {"zh-CN", "en"}, "province_code", "province":
 *  {"zh-CN", "en"}, "city": {"zh-CN", "en"}} (province and city null
 * when the database named none); NULL for id 0 or a region the store
 * cannot read. The caller owns the result.
 */
json_t *region_json(struct store *st, uint32_t id);
json_t *region_json_of(const struct store_region *r);

/*
 * The last regions read, for a walk over many scans (an export): a
 * scan's region costs a lookup in this array, not up to three reads.
 */
#define REGION_CACHE_SLOTS	64
struct region_cache {
	struct store_region	slot[REGION_CACHE_SLOTS];
	int			used[REGION_CACHE_SLOTS];
};
/* The region of id, or NULL (id 0, or unreadable). Valid until the
 * next call with the same cache. */
const struct store_region *region_cached(struct region_cache *c,
    struct store *st, uint32_t id);

#endif
