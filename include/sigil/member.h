/*
 * member.h - a customer's standing in a brand's programme (domain
 * layer): the ledger as loaded, the balance, the 12-month points, the
 * RFM segment and the tier; the brand settings that hold the tiers and
 * the staff roles (retailer, sales), changed by writer ops (writer.h);
 * the redemption catalog's items. The arithmetic of the ledger itself is
 * ledger.h's.
 */
#ifndef SIGIL_MEMBER_H
#define SIGIL_MEMBER_H

#include <stddef.h>
#include <stdint.h>

#include "sigil/store.h"

struct app;
struct json_t;
struct writer_op;

/* ---- the ledger ---- */

struct ledger_buf {
	struct ledger_entry	*v;	/* malloc'd: the caller frees it */
	size_t			n, cap;
	int			oom;
};

/*
 * The customer's entries in id order, into b (b->v NULL and n 0 when
 * there are none). 0, or a store error / SIGIL_ENOMEM (b empty then).
 */
int member_ledger_load(struct app *app, uint32_t brand_id,
    uint64_t customer_id, struct ledger_buf *b);
/* The balance of entries at now (0 if they do not add up). */
int64_t member_balance_of(const struct ledger_entry *e, size_t n,
    int64_t now);
/* The customer's balance now (0 on any error). */
int64_t member_balance(struct app *app, uint32_t brand_id,
    uint64_t customer_id);
/* A ledger entry as the API shows it. */
struct json_t *member_ledger_json(const struct ledger_entry *e);

/*
 * The RFM segment of a customer from the ledger (entries in id order):
 * recency of the last earn, claims and points in the last 12 months.
 * "champions" (earned within 30 days, 10+ claims or 2000+ points),
 * "loyal" (within 90 days, 4+ claims), "new" (first earn within 30 days,
 * or none yet and created within 30 days), "promising" (within 90
 * days), "at_risk" (within 180 days, 2+ claims), else "hibernating".
 */
const char *loyalty_segment(const struct ledger_entry *e, size_t n,
    int64_t created, int64_t now);

/*
 * Balance, tier, 12-month points, segment, claims, staff role and dates
 * of a customer, the phone masked; full adds the number of devices.
 */
struct json_t *member_summary(struct app *app, const struct customer *cu,
    int full);

/*
 * What the customer lists filter and count by, as member_summary has
 * it: segment, tier (under settings, member_settings's), staff role
 * ("consumer" when none) and 12-month points, at now. Reads only the
 * store (st's read transaction of the calling thread) and settings, so
 * a worker thread may call it. 0 or a store error / SIGIL_ENOMEM.
 */
struct member_class {
	const char	*segment;	/* static */
	const char	*role;		/* static */
	int64_t		points_12m;
	int64_t		balance;	/* points spendable at now */
	char		tier[32 * 4 + 1];
};
int member_classify(struct store *st, struct json_t *settings,
    const struct customer *cu, int64_t now, struct member_class *out);

/* ---- brand settings: tiers and staff roles ---- */

/* The brand's settings object (a new reference; {} when none). */
struct json_t *member_settings(struct app *app, uint32_t brand_id);
/*
 * The same from st: {} also when the text does not parse; *err (when
 * not NULL) 0, or the store's error other than none.
 */
struct json_t *member_settings_read(struct store *st, uint32_t brand_id,
    int *err);
/*
 * Inside a writer op: the settings read, key set to value (a reference
 * stolen) or, value NULL, removed, and written back, for the settings
 * other modules keep beside the tiers (the GS1 company prefix, the
 * retention period). 0, a store error or SIGIL_ENOMEM.
 */
int member_settings_key_set(struct store *st, uint32_t brand_id,
    const char *key, struct json_t *value);
/* The tiers a brand has until it sets its own (a new reference). */
struct json_t *member_tiers_default(void);
/*
 * Checks body ({"tiers": [{name, min}...]}: 1 to 8 tiers, the first at
 * 0, ascending) into *tiers, the tiers' JSON text (malloc'd), for
 * member_tiers_op. 0, SIGIL_EINVAL with msg set, SIGIL_ENOMEM.
 */
int member_tiers_check(struct json_t *body, char **tiers, char *msg,
    size_t msize);
/* The writer op that sets a brand's tiers (the rest of its settings
 * kept). run: 0 or a store error; the caller frees tiers after it. */
struct member_tiers {
	uint32_t	brand_id;
	char		*tiers;
};
extern const struct writer_op member_tiers_op;

/*
 * The staff role (enum claim_role) the brand's stored settings give
 * customer_id, or 0.
 */
int member_role(struct app *app, uint32_t brand_id, uint64_t customer_id);
/*
 * The writer op that registers customer_id as retailer or sales
 * (CLAIM_CONSUMER: drops the registration). run: 0, SIGIL_ESTATE for an
 * erased customer, SIGIL_EFULL past 10,000 staff per brand, store
 * errors.
 */
struct member_role {
	uint32_t	brand_id;
	uint64_t	customer_id;
	int		role;
};
extern const struct writer_op member_role_op;
/* Erasure, on the writer thread: drops customer_id's staff role, if
 * any. */
int member_role_forget(struct store *st, uint32_t brand_id,
    uint64_t customer_id);

/* ---- the redemption catalog ---- */

/* An item as the API shows it (stock null: unlimited). */
struct json_t *member_item_json(const struct reward_item *it);
/*
 * store_item_each callback: appends the item's JSON to the array arg;
 * stops at LOYALTY_LIST_MAX items.
 */
int member_item_append(void *arg, const struct reward_item *it);
/*
 * A new item of brand_id from body ({"name", "cost", "stock"}), checked,
 * into *it. SIGIL_EINVAL with msg set.
 */
int member_item_parse(struct json_t *body, uint32_t brand_id,
    struct reward_item *it, char *msg, size_t msize);

/*
 * A redemption order as JSON: id, item, item_name, kind ("delivery" or
 * "pickup"), status ("open" or "fulfilled"), created, fulfilled, and
 * pickup_code or delivery {name, phone, address} (null once erased);
 * full adds the customer id (the brand's fulfilment list). New
 * reference.
 */
struct redeem_order;
struct json_t *member_order_json(struct app *app,
    const struct redeem_order *o, int full);

#endif
