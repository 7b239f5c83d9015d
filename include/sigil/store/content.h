/*
 * sigil/store/content.h - the storage of a brand's landing-page content
 * (src/store/store_content.c): content documents per brand, product or
 * batch and language, and the images they show.
 *
 * The store keeps a document as the bytes it is given (the domain,
 * content.c, checks and writes canonical JSON); it checks only the key
 * and the sizes. Every key starts with the brand id.
 *
 * A part of sigil/store.h, which includes it after the limits and the
 * types it uses: include sigil/store.h, not this.
 */
#ifndef SIGIL_STORE_CONTENT_H
#define SIGIL_STORE_CONTENT_H

#ifndef SIGIL_STORE_H
#error "include sigil/store.h"
#endif

/* ---- content documents ---- */
#define STORE_CONTENT_DOC_MAX	(32 * 1024)	/* bytes of one document */
#define STORE_LANG_MAX		35		/* a BCP 47 tag, bytes */
#define STORE_CONTENT_PER_SUBJECT 32		/* languages of one subject */

enum content_kind {
	CONTENT_BRAND = 1,
	CONTENT_PRODUCT = 2,
	CONTENT_BATCH = 3,
};

/* What a document is about: the brand, one product (sku), one batch. */
struct content_key {
	uint32_t	brand_id;
	int		kind;		/* enum content_kind */
	char		sku[STORE_NAME_BYTES + 1];	/* CONTENT_PRODUCT */
	uint64_t	batch_id;	/* CONTENT_BATCH */
	char		lang[STORE_LANG_MAX + 1];
};

/* One document as stored, for the walks. */
struct content_doc {
	struct content_key key;
	int64_t		updated;
	size_t		len;
	char		text[STORE_CONTENT_DOC_MAX + 1];	/* NUL-terminated */
};

/*
 * Stores doc (len bytes, 1..STORE_CONTENT_DOC_MAX) under k, replacing
 * what was there; sets doc->updated. SIGIL_EINVAL for a bad key (kind,
 * empty sku or lang, batch 0) or size; SIGIL_EFULL when the subject
 * already has STORE_CONTENT_PER_SUBJECT languages and this is a new one.
 */
int store_content_put(struct store *st, struct content_doc *doc);
/* The document under k into out: 0 or SIGIL_ENOTFOUND. */
int store_content_get(struct store *st, const struct content_key *k,
    struct content_doc *out);
/* 0 or SIGIL_ENOTFOUND. */
int store_content_del(struct store *st, const struct content_key *k);
/*
 * Every language of one subject (k's lang is ignored), in byte order of
 * the tags: fn's doc has its key and time, not its text (len 0), and is
 * valid during the call only. Stops on nonzero. Cheap enough for every
 * scan: no document is copied.
 */
int store_content_langs(struct store *st, const struct content_key *k,
    int (*fn)(void *arg, const struct content_doc *doc), void *arg);
/* Every document of brand_id: brand, then products, then batches. */
int store_content_each(struct store *st, uint32_t brand_id,
    int (*fn)(void *arg, const struct content_doc *doc), void *arg);

/* ---- images ---- */
#define STORE_IMAGE_MAX		(2 * 1024 * 1024)	/* bytes of one image */
#define STORE_IMAGE_HASH_LEN	20	/* the id: SHA-256 of the bytes, cut */
/* All of a brand's images together; SIGIL_IMAGES_BRAND_MAX overrides. */
#define STORE_IMAGES_BRAND_MAX	((uint64_t)64 * 1024 * 1024)

struct image_meta {
	uint32_t	brand_id;
	uint8_t		hash[STORE_IMAGE_HASH_LEN];
	int		type;		/* the domain's image type code */
	int64_t		created;
	size_t		bytes;
};

/* A brand's image use: count and total bytes. */
struct image_usage {
	uint64_t	count, bytes, limit;
};

/*
 * Stores an image (data, m->bytes of them, 1..STORE_IMAGE_MAX) unless
 * the brand already has one with this hash (then *existed is 1 and
 * nothing changes; m->created is the stored one's). SIGIL_EFULL when the
 * brand's total would pass its limit (nothing is written), SIGIL_EINVAL
 * for a size out of range.
 */
int store_image_put(struct store *st, struct image_meta *m,
    const uint8_t *data, int *existed);
/*
 * The image of (brand_id, hash): its metadata, and if data is not NULL
 * its bytes copied into *data (malloc'd, the caller frees). 0,
 * SIGIL_ENOTFOUND, SIGIL_ENOMEM.
 */
int store_image_get(struct store *st, uint32_t brand_id,
    const uint8_t hash[STORE_IMAGE_HASH_LEN], struct image_meta *m,
    uint8_t **data);
/* 0 or SIGIL_ENOTFOUND; the brand's total goes down. */
int store_image_del(struct store *st, uint32_t brand_id,
    const uint8_t hash[STORE_IMAGE_HASH_LEN]);
/* Every image of brand_id (metadata only), by hash. */
int store_image_each(struct store *st, uint32_t brand_id,
    int (*fn)(void *arg, const struct image_meta *m), void *arg);
int store_image_usage(struct store *st, uint32_t brand_id,
    struct image_usage *out);

#endif
