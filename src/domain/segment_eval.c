/*
 * segment_eval.c - the facts a segment's claim and scan criteria need,
 * gathered per customer before the customers are judged (segment.c):
 * one walk over the brand's claims (the SKU of each claimed code from
 * its batch, the campaign that paid), one over the scan log (the scans
 * of the brand's codes by devices linked to a customer: the latest
 * scan, its region, the SKUs scanned). Only what the criteria ask for
 * is walked; segment_match's evaluation keeps only its one customer
 * (its devices are looked up first, so other devices cost a map miss).
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

/* ---- facts by customer ---- */

const struct seg_fact *
seg_facts_find(const struct seg_eval *ev, uint64_t customer)
{
	size_t i;

	if (ev->fcap == 0)
		return NULL;
	for (i = slot_of(customer, ev->fcap); ev->facts[i].customer != 0;
	    i = (i + 1) & (ev->fcap - 1))
		if (ev->facts[i].customer == customer)
			return &ev->facts[i];
	return NULL;
}

static struct seg_fact *
fact_get(struct seg_eval *ev, uint64_t customer)
{
	size_t i;

	if ((ev->fn + 1) * 2 > ev->fcap) {
		size_t cap = ev->fcap ? ev->fcap * 2 : 1024;
		struct seg_fact *f = calloc(cap, sizeof *f), *old = ev->facts;
		size_t ocap = ev->fcap;

		if (f == NULL)
			return NULL;
		ev->facts = f;
		ev->fcap = cap;
		for (i = 0; i < ocap; i++) {
			size_t j;

			if (old[i].customer == 0)
				continue;
			for (j = slot_of(old[i].customer, cap);
			    f[j].customer != 0; j = (j + 1) & (cap - 1))
				;
			f[j] = old[i];
		}
		free(old);
	}
	for (i = slot_of(customer, ev->fcap); ev->facts[i].customer != 0;
	    i = (i + 1) & (ev->fcap - 1))
		if (ev->facts[i].customer == customer)
			return &ev->facts[i];
	ev->facts[i].customer = customer;
	ev->fn++;
	return &ev->facts[i];
}

/* ---- claims ---- */

static int
claim_one(void *arg, const struct claim *c)
{
	struct seg_eval *ev = arg;
	const struct segment_def *d = ev->d;
	struct seg_fact *f;
	unsigned flags = 0;
	size_t i;
	int rc;

	if (c->customer_id == 0 || (ev->only && c->customer_id != ev->only))
		return 0;
	if (d->claimed.n) {
		if (ev->last_batch.id == 0 || c->serial <
		    ev->last_batch.first_serial || c->serial >=
		    ev->last_batch.first_serial + ev->last_batch.count) {
			rc = store_batch_find_serial(ev->st, ev->brand_id,
			    c->serial, &ev->last_batch);
			if (rc == SIGIL_ENOTFOUND)
				memset(&ev->last_batch, 0,
				    sizeof ev->last_batch);
			else if (rc != 0) {
				ev->err = rc < 0 ? rc : SIGIL_EIO;
				return 1;
			}
		}
		if (ev->last_batch.id != 0 && seg_texts_has(&d->claimed,
		    ev->last_batch.sku))
			flags |= FACT_CLAIMED;
	}
	for (i = 0; i < d->ncampaigns; i++)
		if (c->campaign_id == d->campaigns[i])
			flags |= FACT_CAMPAIGN;
	if (flags == 0)
		return 0;
	if ((f = fact_get(ev, c->customer_id)) == NULL) {
		ev->err = SIGIL_ENOMEM;
		return 1;
	}
	f->flags |= flags;
	return 0;
}

/* ---- scans ---- */

/* 1 when batch's SKU is one of d->scanned, 0 not, <0 an error. */
static int
batch_scanned(struct seg_eval *ev, uint64_t batch_id)
{
	struct batch b;
	uint64_t v;
	int rc, m;

	if (batch_id == 0)
		return 0;
	if (map_get(&ev->batches, batch_id, &v))
		return (int)v - 1;
	rc = store_batch_get(ev->st, batch_id, &b);
	if (rc != 0 && rc != SIGIL_ENOTFOUND)
		return rc < 0 ? rc : SIGIL_EIO;
	m = rc == 0 && seg_texts_has(&ev->d->scanned, b.sku);
	if ((rc = map_put(&ev->batches, batch_id, (uint64_t)m + 1)) != 0)
		return rc;
	return m;
}

static int
scan_one(void *arg, const struct scan_rec *r)
{
	struct seg_eval *ev = arg;
	struct seg_fact *f;
	uint64_t v, cust = 0;
	int rc;

	if (r->brand_id != ev->brand_id || (r->flags & SCAN_BOT) ||
	    r->device == 0)
		return 0;
	if (!map_get(&ev->devices, r->device, &v)) {
		if (ev->only)
			return 0;	/* not one of its devices */
		rc = store_device_customer(ev->st, ev->brand_id, r->device,
		    &cust);
		if (rc != 0 && rc != SIGIL_ENOTFOUND) {
			ev->err = rc < 0 ? rc : SIGIL_EIO;
			return 1;
		}
		v = rc == 0 ? cust + 1 : 1;
		if ((rc = map_put(&ev->devices, r->device, v)) != 0) {
			ev->err = rc;
			return 1;
		}
	}
	if (v <= 1)
		return 0;
	if ((f = fact_get(ev, v - 1)) == NULL) {
		ev->err = SIGIL_ENOMEM;
		return 1;
	}
	if (r->at > f->last_scan)
		f->last_scan = r->at;
	if (r->region != 0 && r->at >= f->region_at) {
		f->region = r->region;
		f->region_at = r->at;
	}
	if (ev->d->scanned.n && !(f->flags & FACT_SCANNED)) {
		if ((rc = batch_scanned(ev, r->batch_id)) < 0) {
			ev->err = rc;
			return 1;
		}
		if (rc == 1)
			f->flags |= FACT_SCANNED;
	}
	return 0;
}

static int
device_mine(void *arg, uint64_t device)
{
	struct seg_eval *ev = arg;

	return map_put(&ev->devices, device, ev->only + 1) != 0;
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
    const struct segment_def *d, int64_t now, uint64_t only)
{
	unsigned uses = segment_uses(d);
	int rc = 0;

	memset(ev, 0, sizeof *ev);
	ev->st = st;
	ev->brand_id = brand_id;
	ev->d = d;
	ev->now = now;
	ev->only = only;
	if (uses & (SEG_USES_CLASS | SEG_USES_POINTS)) {
		ev->settings = member_settings_read(st, brand_id, &rc);
		if (rc != 0)
			goto fail;
	}
	if (uses & SEG_USES_CLAIMS) {
		rc = store_brand_claims(st, brand_id, claim_one, ev);
		if (ev->err != 0)
			rc = ev->err;
		if (rc < 0)
			goto fail;
	}
	if (uses & SEG_USES_SCANS) {
		if (only != 0) {
			rc = store_customer_devices(st, brand_id, only,
			    device_mine, ev);
			if (rc < 0 && rc != SIGIL_ENOTFOUND)
				goto fail;
		}
		if (only == 0 || ev->devices.n > 0) {
			rc = store_scan_each(st, 0, scan_one, ev);
			if (ev->err != 0)
				rc = ev->err;
			if (rc < 0)
				goto fail;
		}
	}
	return 0;
fail:
	seg_eval_close(ev);
	return rc;
}

void
seg_eval_close(struct seg_eval *ev)
{
	json_decref(ev->settings);
	ev->settings = NULL;
	free(ev->facts);
	ev->facts = NULL;
	ev->fcap = ev->fn = 0;
	map_free(&ev->devices);
	map_free(&ev->batches);
	map_free(&ev->regions);
}
