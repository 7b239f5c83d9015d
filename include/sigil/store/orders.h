/*
 * sigil/store/orders.h - redemption orders (src/store/store_orders.c):
 * how a redeemed item reaches the member, a delivery address or a
 * pick-up code, stored with the redemption (store_redeem_order) in its
 * transaction, and listed for the brand to fulfil.
 *
 * A part of sigil/store.h, which includes it after the limits and the
 * types it uses: include sigil/store.h, not this.
 */
#ifndef SIGIL_STORE_ORDERS_H
#define SIGIL_STORE_ORDERS_H

#ifndef SIGIL_STORE_H
#error "include sigil/store.h"
#endif

enum order_kind { ORDER_DELIVERY = 1, ORDER_PICKUP = 2 };
enum order_status { ORDER_OPEN = 0, ORDER_FULFILLED = 1 };

#define ORDER_NAME_MAX		50	/* characters */
#define ORDER_PHONE_MAX		20
#define ORDER_ADDRESS_MAX	200
#define ORDER_PICKUP_LEN	8	/* digits */

struct redeem_order {
	uint32_t	brand_id;
	uint64_t	id;		/* the REDEEM ledger entry's id */
	uint64_t	customer_id;	/* 0 once the customer was erased */
	uint32_t	item_id;
	int		kind;		/* enum order_kind */
	int		status;		/* enum order_status */
	int64_t		created, fulfilled;	/* fulfilled: 0 while open */
	char		pickup_code[ORDER_PICKUP_LEN + 1];	/* PICKUP */
	/* DELIVERY; emptied by the customer's erasure */
	char		name[ORDER_NAME_MAX * 4 + 1];
	char		phone[ORDER_PHONE_MAX + 1];
	char		address[ORDER_ADDRESS_MAX * 4 + 1];
};

/*
 * store_redeem with its order, in one transaction: order (kind, and the
 * address or the pick-up code) is checked (SIGIL_EINVAL: a kind not
 * known, a delivery without name, phone of digits, spaces, "+" or "-",
 * or address, or with control or bidi characters; a pick-up code not of
 * ORDER_PICKUP_LEN digits) and stored under the REDEEM entry's id. On
 * success *order is the stored row and *entry the REDEEM entry.
 */
int store_redeem_order(struct store *st, uint32_t brand_id,
    uint64_t customer_id, uint32_t item_id, int64_t now,
    struct redeem_order *order, struct ledger_entry *entry);
/* The brand's orders in id order (oldest first). */
int store_order_each(struct store *st, uint32_t brand_id,
    int (*fn)(void *arg, const struct redeem_order *o), void *arg);
int store_order_get(struct store *st, uint32_t brand_id, uint64_t id,
    struct redeem_order *out);
/* Marks an open order fulfilled at now: 0, SIGIL_ENOTFOUND, or
 * SIGIL_ESTATE when it was fulfilled already. */
int store_order_fulfil(struct store *st, uint32_t brand_id, uint64_t id,
    int64_t now, struct redeem_order *out);

#endif
