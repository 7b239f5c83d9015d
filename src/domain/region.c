/*
 * region.c - a scan's region for people to read: the names of the
 * region id on a scan record (store/regions.h) in zh-CN and English, as
 * one JSON shape that the stats, the alerts, the code lookup and the
 * exports share.
 *
 * Every region says where it came from ("source": "ip") and how far to
 * trust it ("confidence": "low"): a client address is placed by the
 * operator's database (src/ground/geoip.c), a mobile gateway can be a
 * province away from the phone, and nothing in sigil judges a scan by
 * it (scan.c's clone and diversion rules read consented locations and
 * networks only).
 *
 * The region's id is not shown: ids are global (store_regions.c), so
 * their numbers would tell one brand how many places other brands'
 * scans have come from. A brand names a region by its codes and names.
 *
 * Domain layer: calls the store (reads) and jansson; never writes.
 */
#include <string.h>

#include "sigil/region.h"

static json_t *
names(const char *zh, const char *en)
{
	if (en[0] == '\0' && zh[0] == '\0')
		return json_null();
	return json_pack("{s:s,s:s}", "zh-CN", zh[0] ? zh : en, "en",
	    en[0] ? en : zh);
}

json_t *
region_json_of(const struct store_region *r)
{
	const struct geoip_place *p = &r->place;
	json_t *o = json_pack("{s:s,s:s,s:s,s:o}", "source", "ip",
	    "confidence", "low", "country", p->country, "country_name",
	    names(p->country_zh, p->country_en));

	if (o == NULL)
		return NULL;
	if (r->province_id != r->country_id) {
		json_object_set_new(o, "province_code",
		    p->province_code[0] ? json_string(p->province_code) :
		    json_null());
		json_object_set_new(o, "province",
		    names(p->province_zh, p->province_en));
	} else {
		json_object_set_new(o, "province_code", json_null());
		json_object_set_new(o, "province", json_null());
	}
	json_object_set_new(o, "city", r->level == 3 ?
	    names(p->city_zh, p->city_en) : json_null());
	return o;
}

json_t *
region_json(struct store *st, uint32_t id)
{
	struct store_region r;

	if (id == 0 || store_region_get(st, id, &r) != 0)
		return NULL;
	return region_json_of(&r);
}

const struct store_region *
region_cached(struct region_cache *c, struct store *st, uint32_t id)
{
	size_t i = id % REGION_CACHE_SLOTS;

	if (id == 0)
		return NULL;
	if (c->used[i] && c->slot[i].id == id)
		return &c->slot[i];
	c->used[i] = 0;
	if (store_region_get(st, id, &c->slot[i]) != 0)
		return NULL;
	c->used[i] = 1;
	return &c->slot[i];
}
