/*
 * sigil/store/segments.h - a brand's saved customer segments
 * (src/store/store_segments.c): a name and the criteria, kept as one
 * JSON text segment.c owns ({"name": ..., "criteria": {...}}).
 *
 * segments: brand BE32 || id BE32 -> created i64 LE || updated i64 LE ||
 * the JSON text (at most STORE_SEGMENT_MAX bytes).
 *
 * segment_facts: brand BE32 || 'D' || device BE64 || kind || value, or
 * brand BE32 || 'C' || customer BE64 || kind || value -> at i64 LE ||
 * region u32 LE (below).
 *
 * A part of sigil/store.h, which includes it after the limits and the
 * types it uses: include sigil/store.h, not this.
 */
#ifndef SIGIL_STORE_SEGMENTS_H
#define SIGIL_STORE_SEGMENTS_H

#ifndef SIGIL_STORE_H
#error "include sigil/store.h"
#endif

#define STORE_SEGMENT_MAX	(64 * 1024)	/* JSON text bound */

struct saved_segment {
	uint32_t	brand_id;
	uint32_t	id;		/* per brand, 1, 2, ... */
	char		*json;		/* malloc'd: store_segment_clear */
	int64_t		created, updated;
};

/* Adds (json copied) and sets s->id, s->created, s->updated. */
int store_segment_add(struct store *st, struct saved_segment *s);
/* Replaces the JSON (SIGIL_ENOTFOUND when there is no such segment). */
int store_segment_update(struct store *st, uint32_t brand_id, uint32_t id,
    const char *json);
/* SIGIL_ENOTFOUND when there is none. */
int store_segment_del(struct store *st, uint32_t brand_id, uint32_t id);
/* out->json malloc'd: store_segment_clear() frees it. */
int store_segment_get(struct store *st, uint32_t brand_id, uint32_t id,
    struct saved_segment *out);
void store_segment_clear(struct saved_segment *s);
/* In id order; json freed by the store after each callback. */
int store_segment_each(struct store *st, uint32_t brand_id,
    int (*fn)(void *arg, const struct saved_segment *s), void *arg);

/*
 * What the segment criteria read of a customer's scans and claims
 * (segment_facts; store_segments.c writes them in the scans' and the
 * claims' own transactions). Per device: the latest scan (at, its
 * region), the latest scan with a region, each product scanned. Per
 * customer: each product claimed, each campaign of a claim. fn gets
 * kind, the value (a SKU, or a campaign id BE32; none for the two scan
 * kinds), at and region; non-zero stops. 0 or a store error.
 */
enum segf_kind { SEGF_LAST_SCAN = 1, SEGF_LAST_REGION = 2,
    SEGF_SKU_SCANNED = 3, SEGF_SKU_CLAIMED = 4, SEGF_CAMPAIGN = 5 };
int store_device_facts(struct store *st, uint32_t brand_id, uint64_t device,
    int (*fn)(void *arg, int kind, const char *val, size_t vlen, int64_t at,
    uint32_t region), void *arg);
int store_customer_facts(struct store *st, uint32_t brand_id,
    uint64_t customer, int (*fn)(void *arg, int kind, const char *val,
    size_t vlen, int64_t at, uint32_t region), void *arg);

#endif
