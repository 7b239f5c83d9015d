/*
 * seller.h - channel and seller attribution (domain layer,
 * src/domain/seller.c): who a code was sold by, a seller's bind of a
 * case or item to their store (开箱), their assignment to a store, and
 * the per-store and per-seller results. The tables are
 * sigil/store/sellers.h's.
 *
 * A seller is a customer of the brand with a staff role (member.h's
 * member_role: retailer or sales) assigned to one of the brand's stores;
 * a store sits under a distributor (sigil/store/trace.h), so the channel
 * is a tree: distributor > store > seller.
 */
#ifndef SIGIL_SELLER_H
#define SIGIL_SELLER_H

#include <stddef.h>
#include <stdint.h>

#include "sigil/store.h"

struct json_t;
struct writer_op;

/*
 * The seller a code is bound to: the binding of the code itself, else
 * of its nearest container (aggregation: item -> case -> pallet). 0
 * with *seller (customer id) and *store_id set; SIGIL_ENOTFOUND if
 * none, or when the nearest binding's seller is no longer a seller of
 * the brand (erased, or taken off their store): a rebate then goes to
 * nobody. Reads st only (the calling thread's snapshot): safe on the
 * event loop, a worker or the writer thread.
 */
int seller_of_code(struct store *st, uint32_t brand_id, uint64_t serial,
    uint64_t *seller, uint32_t *store_id);

/*
 * The staff role (enum claim_role: CLAIM_RETAILER, CLAIM_SALES) the
 * brand's settings in st give customer_id, or 0.
 */
int seller_staff_role(struct store *st, uint32_t brand_id,
    uint64_t customer_id);

/*
 * The seller's bind, a writer op (seller_bind_op, its argument a
 * struct seller_bind): customer_id binds serial to their store. run: 0
 * with out set; SIGIL_EEXIST when the code was already bound, itself or
 * as part of a bound container (out is that binding: first binding
 * wins; already says it is this seller's own); SIGIL_EDENIED when the customer has no staff role or
 * no store; SIGIL_ESTATE for an erased or merged customer;
 * SIGIL_ENOTFOUND for a code in no batch of the brand. Audited with the
 * customer as actor (action seller_bind), in the binding's transaction.
 */
struct seller_bind {
	uint32_t	brand_id;
	uint64_t	serial;
	uint64_t	customer_id;
	struct binding	out;
	int		already;	/* out: bound before, to this seller */
};
extern const struct writer_op seller_bind_op;

/*
 * The brand's assignment of a customer to a store, a writer op
 * (seller_assign_op on a struct seller_assign): role, when not 0 (a
 * CLAIM_RETAILER or CLAIM_SALES), is registered first (member.h's
 * member_role_op); the customer must then hold a staff role
 * (SIGIL_EDENIED), be live (SIGIL_ESTATE) and the store exist
 * (SIGIL_ENOTFOUND). out is the seller as stored.
 */
struct seller_assign {
	uint32_t	brand_id;
	uint64_t	customer_id;
	uint32_t	shop_id;
	int		role;
	struct seller	out;
};
extern const struct writer_op seller_assign_op;

/*
 * The channel's results, one row per (store, seller) that has bindings
 * (seller 0: bindings whose seller was erased): the codes bound, the
 * codes they cover (each code counted under its nearest binding), the
 * human scans of those codes, their consumer claims, and the rebates
 * the seller's ledger holds for those claims (EARN entries whose ref is
 * the claim, paid to the seller, not the claimant).
 */
struct channel_row {
	uint32_t	shop_id;
	uint64_t	seller;
	uint64_t	bound, codes, scans, claims;
	uint64_t	rebates;
	int64_t		rebate_points;
};
struct channel_results {
	struct channel_row	*v;	/* malloc'd: seller_results_free */
	size_t			n;
	int			truncated;	/* over SELLER_RESULTS_CODES */
};
#define SELLER_RESULTS_CODES	2000000	/* codes walked at most */
/*
 * The results of brand_id, rows in (store, seller) order; seller, when
 * not 0, restricts them to that seller. Reads st only (a worker may
 * call it). 0, a store error or SIGIL_ENOMEM.
 */
int seller_results(struct store *st, uint32_t brand_id, uint64_t seller,
    struct channel_results *out);
void seller_results_free(struct channel_results *r);

/*
 * A customer's part in the channel for their PIPL export (privacy.c):
 * {"store", "since"} of their assignment (store null when none) and
 * "bound", the codes bound to them ({serial, store, at, how}); null when
 * they have neither. New reference.
 */
struct json_t *seller_export(struct store *st, uint32_t brand_id,
    uint64_t customer_id);

/* JSON of the store rows (new references). */
struct json_t *seller_shop_json(const struct shop *s);
struct json_t *seller_binding_json(const struct binding *b);

#endif
