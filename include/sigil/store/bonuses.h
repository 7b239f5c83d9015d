/*
 * sigil/store/bonuses.h - the bonuses campaigns paid, once per
 * (campaign, customer, bonus, period), and each campaign's totals of
 * bonuses and seller rebates paid (src/store/store_bonuses.c). The
 * credits themselves ride on a claim (claims.h: struct claim_credit).
 *
 * A part of sigil/store.h, which includes it after the limits and the
 * types it uses: include sigil/store.h, not this.
 */
#ifndef SIGIL_STORE_BONUSES_H
#define SIGIL_STORE_BONUSES_H

#ifndef SIGIL_STORE_H
#error "include sigil/store.h"
#endif

/* A campaign's bonuses (by enum bonus_kind, index 0 unused) and rebates. */
struct campaign_credits {
	uint64_t	bonus_count[BONUS_KINDS + 1];
	int64_t		bonus_points[BONUS_KINDS + 1];
	uint64_t	rebate_count;
	int64_t		rebate_points;
};
int store_campaign_credits(struct store *st, uint32_t brand_id,
    uint32_t campaign_id, struct campaign_credits *out);

/* One bonus paid to a customer. */
struct bonus_row {
	uint32_t	brand_id;
	uint64_t	customer_id;
	uint32_t	campaign_id;
	int		bonus;		/* enum bonus_kind */
	uint32_t	period;		/* 0, the year, the China day */
	int64_t		at;
	int64_t		points;
	uint64_t	ref;		/* the claim id; 0 for a registration */
};
/* A customer's bonuses, in (campaign, bonus, period) order. */
int store_bonuses_of(struct store *st, uint32_t brand_id,
    uint64_t customer_id, int (*fn)(void *arg, const struct bonus_row *b),
    void *arg);

/*
 * Bonuses paid outside a claim (CREDIT_BONUS credits, e.g.
 * BONUS_REGISTRATION with period 0), to a live customer, in one write
 * transaction: each as store_claims_commit pays a credit (its campaign's
 * budget, once per period, else dropped). SIGIL_ENOTFOUND / ESTATE for
 * a customer not there or erased. at 0 = now.
 */
int store_bonus_pay(struct store *st, uint32_t brand_id,
    uint64_t customer_id, struct claim_credit *cr, size_t n, int64_t at,
    int64_t expires_at);

/* The registration bonuses a login carries (customers.h, idents.h). */
#define STORE_REG_BONUS_MAX	4

#endif
