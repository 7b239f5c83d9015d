/*
 * segment_eval.c - what the criteria use (segment_uses), and what a
 * segment's claim and scan criteria read of one customer: its segment
 * facts (store/segments.h), its own (products and campaigns claimed)
 * and its devices' (the latest scan, the latest scan's region, the
 * products scanned), gathered into a struct seg_fact; the region's
 * names matched against the criteria, once per region (a small map).
 *
 * May call store (reads), member (settings), util.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sigil/member.h"
#include "sigil/segment.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "segment_impl.h"

/* ---- what the criteria use ---- */

unsigned
segment_uses(const struct segment_def *d)
{
	unsigned u = 0;

	if (d->tier.n || d->rfm || d->roles)
		u |= SEG_USES_CLASS;
	if (d->has & (SEGD_PMIN | SEGD_PMAX))
		u |= SEG_USES_POINTS;
	if (d->consent)
		u |= SEG_USES_CONSENT;
	if (d->genders || d->months || d->tags.n || d->city.n)
		u |= SEG_USES_PROFILE;
	if (d->claimed.n || d->ncampaigns)
		u |= SEG_USES_CLAIMS;
	if (d->scanned.n || (d->has & (SEGD_AFTER | SEGD_BEFORE)) ||
	    d->province.n || d->city.n || d->country.n)
		u |= SEG_USES_SCANS;
	return u;
}

int
seg_texts_has(const struct seg_texts *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return 1;
	return 0;
}

/* ---- a map of uint64 to uint64 (keys never 0) ---- */

static size_t
slot_of(uint64_t k, size_t cap)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	return (size_t)k & (cap - 1);
}

static int
map_get(const struct seg_map *m, uint64_t k, uint64_t *v)
{
	size_t i;

	if (m->cap == 0)
		return 0;
	for (i = slot_of(k, m->cap); m->keys[i] != 0; i = (i + 1) &
	    (m->cap - 1))
		if (m->keys[i] == k) {
			*v = m->vals[i];
			return 1;
		}
	return 0;
}

static int
map_put(struct seg_map *m, uint64_t k, uint64_t v)
{
	size_t i;

	if ((m->n + 1) * 2 > m->cap) {
		struct seg_map g = { 0 };

		g.cap = m->cap ? m->cap * 2 : 256;
		if ((g.keys = calloc(g.cap, sizeof *g.keys)) == NULL ||
		    (g.vals = calloc(g.cap, sizeof *g.vals)) == NULL) {
			free(g.keys);
			return SIGIL_ENOMEM;
		}
		for (i = 0; i < m->cap; i++)
			if (m->keys[i] != 0)
				map_put(&g, m->keys[i], m->vals[i]);
		free(m->keys);
		free(m->vals);
		*m = g;
	}
	for (i = slot_of(k, m->cap); m->keys[i] != 0 && m->keys[i] != k;
	    i = (i + 1) & (m->cap - 1))
		;
	if (m->keys[i] == 0)
		m->n++;
	m->keys[i] = k;
	m->vals[i] = v;
	return 0;
}

static void
map_free(struct seg_map *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof *m);
}

/* ---- facts by customer, from segment_facts ---- */

struct fact_read {
	struct seg_eval		*ev;
	struct seg_fact		*f;
};

static int
fact_one(void *arg, int kind, const char *val, size_t vlen, int64_t at,
    uint32_t region)
{
	struct fact_read *x = arg;
	const struct segment_def *d = x->ev->d;
	struct seg_fact *f = x->f;
	char sku[STORE_NAME_BYTES + 1];
	uint32_t id;

	switch (kind) {
	case SEGF_LAST_SCAN:
		if (at > f->last_scan)
			f->last_scan = at;
		break;
	case SEGF_LAST_REGION:
		if (region != 0 && at >= f->region_at) {
			f->region = region;
			f->region_at = at;
		}
		break;
	case SEGF_SKU_SCANNED:
	case SEGF_SKU_CLAIMED:
		if (vlen > STORE_NAME_BYTES)
			break;
		memcpy(sku, val, vlen);
		sku[vlen] = '\0';
		if (kind == SEGF_SKU_SCANNED && seg_texts_has(&d->scanned, sku))
			f->flags |= FACT_SCANNED;
		if (kind == SEGF_SKU_CLAIMED && seg_texts_has(&d->claimed, sku))
			f->flags |= FACT_CLAIMED;
		break;
	case SEGF_CAMPAIGN:
		if (vlen != 4)
			break;
		id = sigil_be32_get((const uint8_t *)val);
		for (size_t i = 0; i < d->ncampaigns; i++)
			if (d->campaigns[i] == id)
				f->flags |= FACT_CAMPAIGN;
		break;
	}
	return 0;
}

struct dev_list {
	uint64_t	v[SEG_DEVICES_MAX];
	size_t		n;
};

static int
dev_one(void *arg, uint64_t device)
{
	struct dev_list *l = arg;

	if (l->n < SEG_DEVICES_MAX)
		l->v[l->n++] = device;
	return l->n == SEG_DEVICES_MAX;
}

int
seg_fact_of(struct seg_eval *ev, uint64_t customer, struct seg_fact *out)
{
	unsigned uses = segment_uses(ev->d);
	struct fact_read x = { ev, out };
	struct dev_list devs;
	int rc;

	memset(out, 0, sizeof *out);
	out->customer = customer;
	if (uses & SEG_USES_CLAIMS) {
		rc = store_customer_facts(ev->st, ev->brand_id, customer,
		    fact_one, &x);
		if (rc < 0)
			return rc;
	}
	if (uses & SEG_USES_SCANS) {
		devs.n = 0;
		rc = store_customer_devices(ev->st, ev->brand_id, customer,
		    dev_one, &devs);
		if (rc < 0 && rc != SIGIL_ENOTFOUND)
			return rc;
		for (size_t i = 0; i < devs.n; i++)
			if ((rc = store_device_facts(ev->st, ev->brand_id,
			    devs.v[i], fact_one, &x)) < 0)
				return rc;
	}
	return 0;
}

/* ---- regions ---- */

/*
 * A Chinese province as people write it: "浙江" for the region's
 * "浙江省", "内蒙古" for "内蒙古自治区" (the name less its kind).
 */
static int
province_short(const struct seg_texts *l, const char *zh)
{
	static const char *const kinds[] = { "省", "市", "自治区",
		"壮族自治区", "回族自治区", "维吾尔自治区",
		"特别行政区" };
	size_t n;

	for (size_t i = 0; i < l->n; i++) {
		n = strlen(l->v[i]);
		if (n < 6 || strncmp(zh, l->v[i], n) != 0)
			continue;
		for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
			if (strcmp(zh + n, kinds[k]) == 0)
				return 1;
	}
	return 0;
}

static int
texts_any(const struct seg_texts *l, const char *a, const char *b,
    const char *c)
{
	return (a && *a && seg_texts_has(l, a)) || (b && *b &&
	    seg_texts_has(l, b)) || (c && *c && seg_texts_has(l, c));
}

int
seg_region_bits(struct seg_eval *ev, uint32_t region, unsigned *out)
{
	const struct segment_def *d = ev->d;
	struct store_region r;
	uint64_t v;
	unsigned bits = 0;
	int rc;

	if (map_get(&ev->regions, region, &v)) {
		*out = (unsigned)(v - 1);
		return 0;
	}
	rc = store_region_get(ev->st, region, &r);
	if (rc != 0 && rc != SIGIL_ENOTFOUND)
		return rc < 0 ? rc : SIGIL_EIO;
	if (rc == 0) {
		if (texts_any(&d->province, r.place.province_zh,
		    r.place.province_en, r.place.province_code) ||
		    province_short(&d->province, r.place.province_zh))
			bits |= REGION_PROVINCE;
		if (texts_any(&d->city, r.place.city_zh, r.place.city_en,
		    NULL))
			bits |= REGION_CITY;
		if (texts_any(&d->country, r.place.country, r.place.country_zh,
		    r.place.country_en))
			bits |= REGION_COUNTRY;
	}
	if ((rc = map_put(&ev->regions, region, (uint64_t)bits + 1)) != 0)
		return rc;
	*out = bits;
	return 0;
}

/* ---- the evaluation ---- */

int
seg_eval_open(struct seg_eval *ev, struct store *st, uint32_t brand_id,
    const struct segment_def *d, int64_t now)
{
	unsigned uses = segment_uses(d);
	int rc = 0;

	memset(ev, 0, sizeof *ev);
	ev->st = st;
	ev->brand_id = brand_id;
	ev->d = d;
	ev->now = now;
	if (uses & (SEG_USES_CLASS | SEG_USES_POINTS)) {
		ev->settings = member_settings_read(st, brand_id, &rc);
		if (rc != 0) {
			seg_eval_close(ev);
			return rc;
		}
	}
	return 0;
}

void
seg_eval_close(struct seg_eval *ev)
{
	json_decref(ev->settings);
	ev->settings = NULL;
	map_free(&ev->regions);
}
