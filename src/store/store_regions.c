/*
 * store_regions.c - the places scans come from: a dictionary of regions
 * (country, province, city with their zh-CN and English names), so that
 * a scan record carries a 4-byte region id instead of its names.
 *
 * A region is one level of a path: a country, a province in it, a city
 * in that (or in the country, when the database names no province). Its
 * row names its parent, so a city's full path is at most three reads.
 * region_keys finds a path's id by its identity (level, country code,
 * province code or name, city name) and also holds the id of the
 * province level above, which is what the dashboard's by-province
 * counters are keyed by: the scan commit resolves a place with one read.
 *
 * The dictionary holds place names from the operator's database and
 * nothing about anyone: it is global (no brand in its keys), read by
 * every brand's stats, and never erased. Which region a scan had is
 * kept on the scan's log record (store_scanlog.c), so it outlives the
 * scan's address and precise location when retention cuts those.
 *
 * Owns the tables regions and region_keys and meta next_region. Called
 * by store_scans.c (region_resolve in the scan's transaction) and the
 * readers; calls only store_env.c and the inline helpers.
 */
#include <string.h>

#include <lmdb.h>

#include "sigil/geoip.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "store_impl.h"

#define REGION_HEAD	15	/* level, parent, lat, lng, radius */
#define REGION_KEY_MAX	(4 + 2 * (GEOIP_NAME_MAX + 1) + 1)
#define REGION_VAL_MAX	(REGION_HEAD + 3 * (1 + GEOIP_NAME_MAX))

enum { LEVEL_COUNTRY = 1, LEVEL_PROVINCE = 2, LEVEL_CITY = 3 };

/* level ‖ country ‖ 0 ‖ province ‖ 0 ‖ city: the identity of a path. */
static size_t
region_key(uint8_t *k, int level, const struct geoip_place *p)
{
	const char *prov = p->province_code[0] ? p->province_code :
	    p->province_en;
	size_t n = 0, l;

	k[n++] = (uint8_t)level;
	memcpy(k + n, p->country, 2);
	n += 2;
	k[n++] = 0;
	if (level >= LEVEL_PROVINCE) {
		l = strlen(prov);
		memcpy(k + n, prov, l);
		n += l;
	}
	k[n++] = 0;
	if (level == LEVEL_CITY) {
		l = strlen(p->city_en);
		memcpy(k + n, p->city_en, l);
		n += l;
	}
	return n;
}

static size_t
put_str(uint8_t *p, const char *s)
{
	size_t n = strlen(s);

	if (n > GEOIP_NAME_MAX)
		n = GEOIP_NAME_MAX;
	p[0] = (uint8_t)n;
	memcpy(p + 1, s, n);
	return 1 + n;
}

static size_t
region_encode(uint8_t *v, int level, uint32_t parent,
    const struct geoip_place *p)
{
	size_t n = REGION_HEAD;

	v[0] = (uint8_t)level;
	le32_put(v + 1, parent);
	lef32_put(v + 5, level == LEVEL_CITY ? p->lat : 0);
	lef32_put(v + 9, level == LEVEL_CITY ? p->lng : 0);
	le16_put(v + 13, level == LEVEL_CITY ? p->radius_km : 0);
	if (level == LEVEL_COUNTRY) {
		n += put_str(v + n, p->country);
		n += put_str(v + n, p->country_en);
		n += put_str(v + n, p->country_zh);
	} else if (level == LEVEL_PROVINCE) {
		n += put_str(v + n, p->province_code);
		n += put_str(v + n, p->province_en);
		n += put_str(v + n, p->province_zh);
	} else {
		n += put_str(v + n, "");
		n += put_str(v + n, p->city_en);
		n += put_str(v + n, p->city_zh);
	}
	return n;
}

static int
get_str(const uint8_t **p, const uint8_t *end, char *dst, size_t size)
{
	size_t n;

	if (*p >= end || (n = **p) > (size_t)(end - *p - 1) || n >= size)
		return SIGIL_EIO;
	memcpy(dst, *p + 1, n);
	dst[n] = '\0';
	*p += 1 + n;
	return 0;
}

/* One level's row into *out (which keeps the other levels'), or
 * MDB_NOTFOUND. */
static int
region_row(struct store *st, MDB_txn *txn, uint32_t id, int *level,
    uint32_t *parent, struct store_region *out)
{
	uint8_t kb[4];
	const uint8_t *p, *end;
	char scratch[GEOIP_NAME_MAX + 1], *code = scratch, *en, *zh;
	size_t code_size = sizeof scratch;
	MDB_val k = mval(kb, 4), v;
	int rc;

	if (st->regions_absent)
		return MDB_NOTFOUND;
	sigil_be32_put(kb, id);
	if ((rc = mdb_get(txn, st->regions, &k, &v)) != 0)
		return rc;
	if (v.mv_size < REGION_HEAD)
		return SIGIL_EIO;
	p = v.mv_data;
	end = p + v.mv_size;
	*level = p[0];
	*parent = le32_get(p + 1);
	if (*level == LEVEL_COUNTRY) {
		code = out->place.country;
		code_size = sizeof out->place.country;
		en = out->place.country_en;
		zh = out->place.country_zh;
		out->country_id = id;
	} else if (*level == LEVEL_PROVINCE) {
		code = out->place.province_code;
		code_size = sizeof out->place.province_code;
		en = out->place.province_en;
		zh = out->place.province_zh;
		out->province_id = id;
	} else if (*level == LEVEL_CITY) {
		en = out->place.city_en;
		zh = out->place.city_zh;
		out->place.lat = lef32_get(p + 5);
		out->place.lng = lef32_get(p + 9);
		out->place.radius_km = le16_get(p + 13);
	} else
		return SIGIL_EIO;
	p += REGION_HEAD;
	/* Every name buffer of a place has GEOIP_NAME_MAX + 1 bytes. */
	if ((rc = get_str(&p, end, code, code_size)) != 0 ||
	    (rc = get_str(&p, end, en, GEOIP_NAME_MAX + 1)) != 0 ||
	    (rc = get_str(&p, end, zh, GEOIP_NAME_MAX + 1)) != 0)
		return rc;
	return 0;
}

int
region_load(struct store *st, MDB_txn *txn, uint32_t id,
    struct store_region *out)
{
	struct store_region r;
	uint32_t at = id, parent;
	int level, rc;

	memset(&r, 0, sizeof r);
	r.id = id;
	for (int depth = 0; depth < 3 && at != 0; depth++) {
		if ((rc = region_row(st, txn, at, &level, &parent, &r)) != 0)
			return rc == MDB_NOTFOUND && depth > 0 ? SIGIL_EIO : rc;
		if (depth == 0)
			r.level = level;
		at = parent;
	}
	if (at != 0)
		return SIGIL_EIO;
	/* The province a by-province count names: the country's own row
	 * when the database named no province. */
	if (r.province_id == 0)
		r.province_id = r.country_id;
	*out = r;
	return 0;
}

int
store_region_get(struct store *st, uint32_t id, struct store_region *out)
{
	if (id == 0)
		return SIGIL_ENOTFOUND;
	return STORE_READ(st, region_load(st, txn, id, out));
}

/* The id of one level of p's path, made if new. */
static int
level_id(struct store *st, MDB_txn *txn, int level, uint32_t parent,
    uint32_t province, const struct geoip_place *p, uint32_t *id,
    uint32_t *prov_out)
{
	uint8_t kb[REGION_KEY_MAX], vb[REGION_VAL_MAX], ib[4], pb[8];
	MDB_val k = mval(kb, region_key(kb, level, p)), v;
	uint64_t next;
	int rc;

	if ((rc = mdb_get(txn, st->region_keys, &k, &v)) == 0) {
		if (v.mv_size != 8)
			return SIGIL_EIO;
		*id = sigil_be32_get(v.mv_data);
		*prov_out = sigil_be32_get((const uint8_t *)v.mv_data + 4);
		return 0;
	}
	if (rc != MDB_NOTFOUND)
		return rc;
	if ((rc = meta_next(st, txn, meta_key("next_region"), 1, UINT32_MAX,
	    &next)) != 0)
		return rc;
	*id = (uint32_t)next;
	*prov_out = level == LEVEL_CITY ? province : *id;
	sigil_be32_put(ib, *id);
	v = mval(vb, region_encode(vb, level, parent, p));
	{
		MDB_val ik = mval(ib, 4);

		if ((rc = mdb_put(txn, st->regions, &ik, &v,
		    MDB_NOOVERWRITE)) != 0)
			return rc;
	}
	sigil_be32_put(pb, *id);
	sigil_be32_put(pb + 4, *prov_out);
	v = mval(pb, 8);
	return mdb_put(txn, st->region_keys, &k, &v, MDB_NOOVERWRITE);
}

int
region_resolve(struct store *st, MDB_txn *txn, const struct geoip_place *p,
    uint32_t *region, uint32_t *province)
{
	uint8_t kb[REGION_KEY_MAX];
	uint32_t country, prov, id, pv;
	int has_prov = p->province_code[0] || p->province_en[0];
	MDB_val k, v;
	int rc, top;

	if (st->regions_absent || strlen(p->country) != 2)
		return SIGIL_EINVAL;
	top = p->city_en[0] ? LEVEL_CITY : has_prov ? LEVEL_PROVINCE :
	    LEVEL_COUNTRY;
	/* The common case: the path is known, one read. */
	k = mval(kb, region_key(kb, top, p));
	if ((rc = mdb_get(txn, st->region_keys, &k, &v)) == 0 &&
	    v.mv_size == 8) {
		*region = sigil_be32_get(v.mv_data);
		*province = sigil_be32_get((const uint8_t *)v.mv_data + 4);
		return 0;
	}
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	if ((rc = level_id(st, txn, LEVEL_COUNTRY, 0, 0, p, &country,
	    &pv)) != 0)
		return rc;
	prov = country;
	if (has_prov && (rc = level_id(st, txn, LEVEL_PROVINCE, country, 0,
	    p, &prov, &pv)) != 0)
		return rc;
	id = prov;
	if (top == LEVEL_CITY && (rc = level_id(st, txn, LEVEL_CITY, prov,
	    prov, p, &id, &pv)) != 0)
		return rc;
	*region = id;
	*province = prov;
	return 0;
}
