/*
 * sigil/store/counters.h - the dashboard counters, kept by the writer in
 * the transactions that change what they count (src/store/store_counters.c).
 *
 * A part of sigil/store.h, which includes it after the limits and the
 * types it uses: include sigil/store.h, not this.
 */
#ifndef SIGIL_STORE_COUNTERS_H
#define SIGIL_STORE_COUNTERS_H

#ifndef SIGIL_STORE_H
#error "include sigil/store.h"
#endif

/* ---- dashboard counters, kept by the writer (no log scans) ---- */
enum stat_kind {
	STAT_SCANS = 1,		/* human scans of known codes */
	STAT_FIRST = 2,		/* first scans */
	STAT_SUSPICIOUS = 3,
	STAT_COUNTERFEIT = 4,	/* brand known from the key id only */
	STAT_SCANNERS = 5,	/* distinct devices (first scan that day) */
	STAT_CLAIMS = 6,
	STAT_POINTS = 7,
	STAT_DIVERSION = 8,
	STAT_REDEMPTIONS = 9,
	STAT_UNVERIFIED = 10,	/* brand known from the GTIN only */
};

enum stat_dim {
	DIM_BRAND = 0,		/* key 0 */
	DIM_PRODUCT = 1,	/* key: 64-bit hash of the SKU */
	DIM_BATCH = 2,		/* key: batch id */
	DIM_CAMPAIGN = 3,	/* key: campaign id */
	DIM_REGION = 4,		/* key: 1-degree cell, (lat+90)*360+(lng+180) */
	DIM_PROVINCE = 5,	/* key: region id of the address's province */
	DIM_CITY = 6,		/* key: region id of the address's city */
};

/*
 * Counter buckets are hours (hour index since the epoch); a day is 24 of
 * them. store_stat_add adds delta to (brand, kind, dim, key, hour) in its
 * own transaction; store_scans_commit and store_claim update the scan and
 * claim counters in theirs.
 */
int store_stat_add(struct store *st, uint32_t brand_id, int kind, int dim,
    uint64_t key, int64_t hour, int64_t delta);
/* Sums per hour over [from_hour, to_hour) into out[to_hour - from_hour]. */
int store_stat_range(struct store *st, uint32_t brand_id, int kind, int dim,
    uint64_t key, int64_t from_hour, int64_t to_hour, int64_t *out);
/* Every key of (brand, kind, dim) with its total over the range. */
int store_stat_keys(struct store *st, uint32_t brand_id, int kind, int dim,
    int64_t from_hour, int64_t to_hour,
    int (*fn)(void *arg, uint64_t key, int64_t total), void *arg);
/*
 * Hours are 0..2^32-1 (EINVAL otherwise, and for an unknown kind or dim).
 * Counters saturate instead of overflowing. What the writers count:
 * store_scans_commit, per human scan of a known brand (bots and brand 0
 * skipped) at the scan's hour: SCANS, FIRST (SCAN_FIRST) and SUSPICIOUS
 * (verdict) by DIM_BRAND, DIM_PRODUCT and DIM_BATCH; SCANNERS by
 * DIM_BRAND for a device's first scan of the (UTC) day; SCANS by
 * DIM_REGION and DIVERSION by DIM_BRAND and DIM_REGION when located.
 * store_scan_locate: SCANS by DIM_REGION, DIVERSION when it adds the
 * flag. A human scan of an unknown code attributed to a brand
 * (scan_rec.attr_brand, brand_id 0): COUNTERFEIT or UNVERIFIED (its
 * verdict) by DIM_BRAND at commit, and by DIM_REGION at commit or
 * locate, whichever gives it its place. store_claim: CLAIMS and POINTS by DIM_BRAND and DIM_CAMPAIGN.
 * store_redeem: REDEMPTIONS by DIM_BRAND.
 * The region of a scan's address (scan_rec.region), when it has one and
 * the scan has no consented location (GPS wins, and is counted by
 * DIM_REGION): SCANS and SUSPICIOUS (known codes), COUNTERFEIT or
 * UNVERIFIED (attributed ones) by DIM_PROVINCE (key region_province) and
 * DIM_CITY (key region) at commit; store_scan_locate takes them back
 * when a location arrives for such a scan.
 *
 * Added: the DIM_PRODUCT key of a SKU (64-bit FNV-1a of its bytes) and
 * the DIM_REGION key of a point (1-degree cell, the poles and the
 * antimeridian folded into the last row and column).
 */
uint64_t store_sku_hash(const char *sku);
uint64_t store_region_cell(float lat, float lng);

#endif
