/*
 * sigil/store/sellers.h - the sales channel below the distributors: a
 * brand's retail stores (each under one distributor), the sellers who
 * work in them (customers of the brand with a staff role), and the
 * bindings of codes to sellers (开箱: a seller scans a case or an item and
 * binds it to their store). In src/store/store_sellers.c.
 *
 * One slice of the storage module's contract: include "sigil/store.h",
 * which includes every slice after what they all share.
 *
 * Tables (docs/storage.md): shops (brand || id -> the store), sellers
 * (brand || customer -> its store), bindings (code key -> seller, store)
 * and seller_codes (brand || seller || serial: a seller's bound codes).
 * A seller is personal data: an erasure drops the seller row and takes
 * the customer out of its bindings (the store stays: the case did go to
 * that store); a merge moves both to the survivor.
 */
#ifndef SIGIL_STORE_SELLERS_H
#define SIGIL_STORE_SELLERS_H

#ifndef SIGIL_STORE_H
#error "include sigil/store.h, not its slices"
#endif

/* ---- stores (called shops here: struct store is the database) ---- */

#define STORE_SHOPS_MAX		100000	/* per brand */

struct shop {
	uint32_t	brand_id;
	uint32_t	id;		/* per brand, 1, 2, ... */
	uint32_t	distributor;	/* trace's distributor it buys from */
	char		name[STORE_TEXT_BYTES + 1];
	char		city[STORE_NAME_BYTES + 1];	/* "" when not given */
	int64_t		created, updated;
};

/*
 * Adds s (name, city, distributor set by the caller) and sets s->id,
 * s->created and s->updated. SIGIL_EINVAL for an empty or oversize name,
 * an oversize city or control characters; SIGIL_ENOTFOUND for an unknown
 * brand or distributor of the brand; SIGIL_EFULL past STORE_SHOPS_MAX.
 */
int store_shop_add(struct store *st, struct shop *s);
/*
 * Replaces name, city and distributor of store (s->brand_id, s->id);
 * created is kept, updated set. *s is the row as stored. Errors as add,
 * SIGIL_ENOTFOUND also for no such store.
 */
int store_shop_update(struct store *st, struct shop *s);
/*
 * Deletes a store: SIGIL_ENOTFOUND, or SIGIL_ECONFLICT while a seller
 * works there or a code is bound to it (nothing is deleted then).
 */
int store_shop_delete(struct store *st, uint32_t brand_id, uint32_t id);
int store_shop_get(struct store *st, uint32_t brand_id, uint32_t id,
    struct shop *out);
/* brand_id's stores in id order. */
int store_shop_each(struct store *st, uint32_t brand_id,
    int (*fn)(void *arg, const struct shop *s), void *arg);

/* ---- sellers ---- */

struct seller {
	uint32_t	brand_id;
	uint64_t	customer_id;
	uint32_t	shop_id;
	int64_t		since;		/* when assigned to this store */
};

/*
 * Assigns customer s->customer_id to store s->shop_id (moving them from
 * another store if they were in one; their bindings stay with the store
 * they were made for); sets s->since. SIGIL_ENOTFOUND for an unknown
 * store of the brand. That the customer is live and has a staff role
 * (retailer or sales) is the caller's check.
 */
int store_seller_set(struct store *st, struct seller *s);
/* Ends the customer's assignment (bindings kept): SIGIL_ENOTFOUND. */
int store_seller_remove(struct store *st, uint32_t brand_id,
    uint64_t customer_id);
int store_seller_get(struct store *st, uint32_t brand_id,
    uint64_t customer_id, struct seller *out);
/* brand_id's sellers in customer id order. */
int store_seller_each(struct store *st, uint32_t brand_id,
    int (*fn)(void *arg, const struct seller *s), void *arg);

/* ---- bindings: a code bound to the seller who opened it ---- */

enum binding_how { BINDING_SCAN = 1, BINDING_MOVED = 2 };

struct binding {
	uint32_t	brand_id;
	uint64_t	serial;		/* the code bound (an item, a case) */
	uint64_t	seller;		/* customer id; 0 once erased */
	uint32_t	shop_id;
	int64_t		at;
	int		how;		/* enum binding_how */
};

/*
 * The seller's bind: binds b->serial (a code issued in one of the
 * brand's batches) to seller b->seller and their store, with an audit
 * entry (actor the customer, action "seller_bind") in the same
 * transaction. The first binding wins: SIGIL_EEXIST when the code is
 * already bound, or packed inside a bound container (a case opened
 * before), *b then that binding (nothing written). A container may be
 * bound after codes inside it were: those keep their own.
 * SIGIL_ENOTFOUND for a code in no batch of the brand, SIGIL_EDENIED
 * when b->seller is not a seller of the brand (no store; that the
 * customer is live is the caller's check). Sets b->shop_id, b->at,
 * b->how.
 */
int store_binding_add(struct store *st, struct binding *b);
/*
 * The brand's move: binds b->serial to seller b->seller (a seller of the
 * brand: SIGIL_EDENIED if not) whether or not it was bound; b->how is
 * BINDING_MOVED. b->seller 0 removes the binding (SIGIL_ENOTFOUND when
 * there is none). *prev (may be NULL) gets the binding before (how 0
 * when none).
 */
int store_binding_move(struct store *st, struct binding *b,
    struct binding *prev);
/* The binding of serial itself: SIGIL_ENOTFOUND when none. */
int store_binding_get(struct store *st, uint32_t brand_id, uint64_t serial,
    struct binding *out);
/*
 * The binding that covers serial: its own, else that of its nearest
 * container (the parents of aggregation, item -> case -> pallet, at most
 * 1024 levels up), all in one snapshot. SIGIL_ENOTFOUND when none.
 */
int store_binding_of_code(struct store *st, uint32_t brand_id,
    uint64_t serial, struct binding *out);
/* brand_id's bindings in serial order. */
int store_binding_each(struct store *st, uint32_t brand_id,
    int (*fn)(void *arg, const struct binding *b), void *arg);
/* The codes bound to seller, in serial order. */
int store_seller_codes(struct store *st, uint32_t brand_id, uint64_t seller,
    int (*fn)(void *arg, const struct binding *b), void *arg);

#endif
