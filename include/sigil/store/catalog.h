/*
 * sigil/store/catalog.h - the catalog: brands, key metadata, products
 * and batches (contiguous serial ranges). In src/store/store_catalog.c.
 *
 * One slice of the storage module's contract: include "sigil/store.h",
 * which includes every slice after what they all share (struct store,
 * the text limits, the error conventions of its opening comment).
 */
#ifndef SIGIL_STORE_CATALOG_H
#define SIGIL_STORE_CATALOG_H

#ifndef SIGIL_STORE_H
#error "include sigil/store.h, not its slices"
#endif

/* ---- brands ---- */
struct brand {
	uint32_t	id;		/* 1, 2, ... */
	char		name[STORE_NAME_BYTES + 1];
	char		base_url[STORE_URL_MAX + 1];
	int64_t		created;	/* microseconds since epoch */
};

/*
 * Adds a brand (name unique) and sets b->id, b->created. SIGIL_EINVAL for
 * an empty or oversize name or base_url, control characters or invalid
 * UTF-8; SIGIL_EEXIST for a name in use.
 */
int store_brand_add(struct store *st, struct brand *b);
int store_brand_get(struct store *st, uint32_t id, struct brand *out);
int store_brand_find(struct store *st, const char *name, struct brand *out);
/* Calls fn for each brand in id order; stops early if fn returns nonzero. */
int store_brand_each(struct store *st,
    int (*fn)(void *arg, const struct brand *b), void *arg);

/* ---- key metadata (secret bytes live in the keyring, never here) ---- */
struct key_meta {
	uint16_t	id;		/* global across brands, 1..65535 */
	uint32_t	brand_id;
	int64_t		created;
	int64_t		revoked;	/* 0 while valid */
};

/*
 * Allocates the next key id for brand_id, records it, sets *out.
 * SIGIL_ENOTFOUND for an unknown brand, SIGIL_EFULL after key 65535.
 */
int store_key_add(struct store *st, uint32_t brand_id, struct key_meta *out);
int store_key_get(struct store *st, uint16_t id, struct key_meta *out);
/* The newest unrevoked key of the brand, SIGIL_ENOTFOUND if none. */
int store_key_current(struct store *st, uint32_t brand_id,
    struct key_meta *out);
/* SIGIL_ENOTFOUND, or SIGIL_ESTATE if already revoked. */
int store_key_revoke(struct store *st, uint16_t id);
int store_key_each(struct store *st, uint32_t brand_id,
    int (*fn)(void *arg, const struct key_meta *k), void *arg);

/* ---- products ---- */
struct product {
	uint32_t	brand_id;
	char		sku[STORE_NAME_BYTES + 1];
	char		name[STORE_TEXT_BYTES + 1];
	char		gtin[15];	/* "" or 14 digits */
	uint32_t	max_scanners;	/* clone threshold, default 5 */
	int		gs1_form;	/* mint Digital Link URLs */
	int64_t		created;
};

/*
 * SIGIL_EEXIST when (brand, sku) or (brand, GTIN) is already used (a GTIN
 * is unique within a brand only: another brand's use of the same digits is
 * neither visible nor blocking; scans resolve by the code's key, not by
 * GTIN);
 * SIGIL_ENOTFOUND for an unknown brand; SIGIL_EINVAL for an empty or
 * oversize sku or name, control characters, a GTIN that is not 14 digits
 * with a good check digit, or max_scanners outside 1..STORE_SCANNERS_MAX
 * (more distinct scanners than the state keeps could never be detected).
 */
int store_product_add(struct store *st, struct product *p);
int store_product_get(struct store *st, uint32_t brand_id, const char *sku,
    struct product *out);
/*
 * brand_id's products in SKU byte order, from the first SKU after after
 * ("" or NULL: from the first); fn returns nonzero to stop (the walk
 * returns it). SIGIL_EINVAL for an after longer than a SKU.
 */
int store_product_each(struct store *st, uint32_t brand_id, const char *after,
    int (*fn)(void *arg, const struct product *p), void *arg);
/*
 * Changes p->brand_id's product p->sku: its name (unless p->name is "")
 * and max_scanners (unless 0); its GTIN and code form never change (the
 * codes are printed). p is filled with the product as stored.
 * SIGIL_ENOTFOUND for an unknown product; SIGIL_EINVAL for a bad name or
 * max_scanners above STORE_SCANNERS_MAX.
 */
int store_product_update(struct store *st, struct product *p);
/*
 * The brands holding GTIN gtin14 (a product of theirs has it), at most
 * max of them in out, *n how many were found (it may exceed max). Walks
 * the gtins table: one row per product with a GTIN. 0 or an error.
 */
int store_gtin_holders(struct store *st, const char *gtin14, uint32_t *out,
    size_t max, size_t *n);
/* brand_id's product with GTIN gtin14, or SIGIL_ENOTFOUND. */
int store_product_find_gtin(struct store *st, uint32_t brand_id,
    const char *gtin14, struct product *out);

/* ---- batches: contiguous serial ranges ---- */
enum batch_state {
	BATCH_INACTIVE = 0,
	BATCH_ACTIVE = 1,
	BATCH_REVOKED = 2,
};

struct batch {
	uint64_t	id;		/* 1, 2, ... global */
	uint32_t	brand_id;
	uint16_t	key_id;		/* key that signs this batch's codes */
	char		sku[STORE_NAME_BYTES + 1];
	char		lot[STORE_LOT_MAX + 1];
	uint64_t	first_serial;	/* per-brand serial space, from 1 */
	uint64_t	count;
	int64_t		expires;	/* 0 = none */
	int		state;		/* enum batch_state */
	int64_t		created, activated, revoked;
};

/*
 * Registers a batch of b->count serials for b->brand_id / b->sku (which
 * must exist) signed by b->key_id: allocates the next free serial range
 * and id, sets b->id, b->first_serial, b->created, b->state = INACTIVE.
 * SIGIL_EFULL if the brand's serial space would pass CODE_SERIAL_MAX
 * (or after 2^32-1 batches). SIGIL_EINVAL for count 0 or above
 * CODE_SERIAL_MAX, a bad sku or lot, or a key of another brand;
 * SIGIL_ENOTFOUND for an unknown product or key; SIGIL_ESTATE for a
 * revoked key.
 */
int store_batch_new(struct store *st, struct batch *b);
int store_batch_get(struct store *st, uint64_t id, struct batch *out);
/* The batch holding serial of brand_id: a range lookup, no per-code rows. */
int store_batch_find_serial(struct store *st, uint32_t brand_id,
    uint64_t serial, struct batch *out);
/*
 * INACTIVE -> ACTIVE, INACTIVE|ACTIVE -> REVOKED; anything else
 * SIGIL_ESTATE. Sets activated/revoked times.
 */
int store_batch_set_state(struct store *st, uint64_t id, int state);
/* The brand's batches in serial (= id) order. */
int store_batch_each(struct store *st, uint32_t brand_id,
    int (*fn)(void *arg, const struct batch *b), void *arg);
/*
 * One page of them: oldest first after the batch id cursor, or (newest)
 * newest first before it; cursor 0 starts at the first (or the last).
 */
int store_batch_page(struct store *st, uint32_t brand_id, uint64_t cursor,
    int newest, int (*fn)(void *arg, const struct batch *b), void *arg);

#endif
