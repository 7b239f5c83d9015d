/*
 * sigil/store/ledger.h - the storage of the points ledger and the
 * redemption catalog (src/store/store_ledger.c). The arithmetic over the
 * entries is sigil/ledger.h's (src/store/ledger.c).
 *
 * A part of sigil/store.h, which includes it after the limits and the
 * types it uses: include sigil/store.h, not this.
 */
#ifndef SIGIL_STORE_LEDGER_H
#define SIGIL_STORE_LEDGER_H

#ifndef SIGIL_STORE_H
#error "include sigil/store.h"
#endif

/* ---- ledger: immutable entries; balances are derived ---- */
enum ledger_type {
	LEDGER_EARN = 1, LEDGER_REDEEM = 2, LEDGER_EXPIRE = 3,
	LEDGER_ADJUST = 4,
	/* points 0, ref the customer merged in: from here on its lots and
	 * this customer's are one (ledger.h); written by a merge only */
	LEDGER_MERGE = 5,
};

struct ledger_entry {
	uint64_t	id;		/* global, monotonic */
	uint32_t	brand_id;
	uint64_t	customer_id;
	int		type;		/* enum ledger_type */
	int64_t		points;		/* + earn/adjust up, - redeem/expire */
	int64_t		at;
	int64_t		expires_at;	/* EARN: when unspent points lapse */
	uint64_t	ref;		/* claim id, redemption id, ... */
	uint64_t	origin;		/* 0, or the customer the entry was
					   written for before a merge moved
					   it to customer_id */
};

/* A customer's entries in id order (at most a few thousand). */
int store_ledger_each(struct store *st, uint32_t brand_id,
    uint64_t customer_id,
    int (*fn)(void *arg, const struct ledger_entry *e), void *arg);
/*
 * Appends an entry after first appending, in the same transaction, the
 * EXPIRE entries due at e->at (oldest points first: see ledger.h). For
 * REDEEM (points < 0) SIGIL_EFULL when the balance after expiry is too
 * small. Sets e->id.
 */
int store_ledger_append(struct store *st, struct ledger_entry *e);

/* ---- redemption catalog ---- */
struct reward_item {
	uint32_t	brand_id;
	uint32_t	id;
	char		name[STORE_TEXT_BYTES + 1];
	int64_t		cost;		/* points, > 0 */
	int64_t		stock;		/* remaining; -1 = unlimited */
	int64_t		created;
};
int store_item_add(struct store *st, struct reward_item *it);
int store_item_get(struct store *st, uint32_t brand_id, uint32_t id,
    struct reward_item *out);
int store_item_each(struct store *st, uint32_t brand_id,
    int (*fn)(void *arg, const struct reward_item *it), void *arg);
/*
 * Redeems one item for the customer in one transaction: expires due
 * points, checks the balance (SIGIL_EFULL) and the stock (SIGIL_ESTATE
 * when none left), appends the REDEEM entry, decrements the stock and
 * logs ACTIVITY_REDEEM. *entry is the REDEEM entry.
 */
int store_redeem(struct store *st, uint32_t brand_id, uint64_t customer_id,
    uint32_t item_id, int64_t now, struct ledger_entry *entry);
/*
 * (The REDEEM entry's ref is the item id; the ACTIVITY_REDEEM entry's ref
 * is the REDEEM entry's id. ENOTFOUND for an unknown customer or item,
 * ESTATE for an erased customer.)
 */

#endif
