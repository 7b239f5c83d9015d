/*
 * sigil/store/segments.h - a brand's saved customer segments
 * (src/store/store_segments.c): a name and the criteria, kept as one
 * JSON text segment.c owns ({"name": ..., "criteria": {...}}).
 *
 * segments: brand BE32 || id BE32 -> created i64 LE || updated i64 LE ||
 * the JSON text (at most STORE_SEGMENT_MAX bytes).
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

#endif
