/*
 * sigil/store/claims.h - the storage of campaigns, claims, hidden-PIN
 * failures and the brands' loyalty settings (src/store/store_claims.c).
 *
 * A part of sigil/store.h, which includes it after the limits and the
 * types it uses: include sigil/store.h, not this.
 */
#ifndef SIGIL_STORE_CLAIMS_H
#define SIGIL_STORE_CLAIMS_H

#ifndef SIGIL_STORE_H
#error "include sigil/store.h"
#endif

/* ---- campaigns: configuration is JSON owned by loyalty.c ---- */
#define STORE_CAMPAIGN_MAX	(64 * 1024)	/* JSON text bound */
#define STORE_PRIZES_MAX	8

struct campaign {
	uint32_t	brand_id;
	uint32_t	id;		/* per brand, 1, 2, ... */
	char		*config;	/* JSON text, malloc'd */
	int64_t		created, updated;
	/* Usage, kept by store_claim in the claim's transaction: */
	int64_t		points_spent;
	uint64_t	claims;
	uint32_t	prizes_given[STORE_PRIZES_MAX];
};

/* Adds (c->config copied) and sets c->id, c->created. */
int store_campaign_add(struct store *st, struct campaign *c);
/* Replaces the configuration (usage untouched). */
int store_campaign_update(struct store *st, uint32_t brand_id, uint32_t id,
    const char *config);
/* out->config is malloc'd: store_campaign_clear() frees it. */
int store_campaign_get(struct store *st, uint32_t brand_id, uint32_t id,
    struct campaign *out);
void store_campaign_clear(struct campaign *c);
/* With configs (freed by the store after each callback). */
int store_campaign_each(struct store *st, uint32_t brand_id,
    int (*fn)(void *arg, const struct campaign *c), void *arg);

/* ---- claims: one per code per role, ever ---- */
enum claim_role { CLAIM_CONSUMER = 1, CLAIM_RETAILER = 2, CLAIM_SALES = 3 };

/*
 * A claim's credit list: what one claim pays, and to whom, each credit
 * from its own campaign's budget (issue 21: stacked campaigns, bonuses,
 * seller rebates). Each credit is one EARN ledger entry (ref = the
 * claim's id) for its customer, charged to its campaign's usage in the
 * claim's own transaction. A credit that its campaign's budget cannot
 * pay whole, a bonus already paid in its period (or whose condition does
 * not hold), or a credit to a customer who is not there or erased is
 * dropped (dropped = 1: nothing written), never overdrawn.
 */
#define CLAIM_CREDITS_MAX 8
enum credit_kind { CREDIT_BASE = 1, CREDIT_STACK, CREDIT_BONUS,
		   CREDIT_REBATE };
/* CREDIT_BONUS's rule (credit.bonus): what makes it due, and its period. */
enum bonus_kind { BONUS_FIRST_SCAN = 1, BONUS_REGISTRATION, BONUS_BIRTHDAY,
		  BONUS_STREAK };
#define BONUS_KINDS 4

struct claim_credit {
	uint64_t	customer_id;	/* 0 = the claim's customer; else e.g.
					   a seller */
	uint32_t	campaign_id;	/* whose budget pays it */
	int64_t		points;		/* > 0 */
	int		kind;		/* enum credit_kind */
	int		dropped;	/* out: budget spent (or bonus not due),
					   nothing written */
	/* in: the campaign's budget (total points, 0 = unlimited) */
	int64_t		budget;
	/*
	 * CREDIT_BONUS only: bonus (enum bonus_kind) and its period. Paid at
	 * most once per (campaign, customer, bonus, period), by a row of the
	 * bonuses table written in the same transaction:
	 * BONUS_FIRST_SCAN: period 0; due only when the customer never
	 * claimed at this brand before this claim.
	 * BONUS_BIRTHDAY: period = the year (the caller judged the month).
	 * BONUS_STREAK: due when this claim is at least the need'th claim of
	 * the customer within the last days days (China days, this one
	 * included) and no streak bonus of this campaign was paid to the
	 * customer in those days; period is set by the store (the day).
	 * BONUS_REGISTRATION: store_bonus_pay's (a login), not a claim's.
	 */
	int		bonus;
	uint32_t	period;
	uint32_t	days, need;	/* BONUS_STREAK */
};

struct claim {
	uint64_t	id;		/* assigned */
	uint32_t	brand_id;
	uint64_t	serial;
	int		role;		/* enum claim_role */
	uint64_t	customer_id;
	uint32_t	campaign_id;
	int64_t		points;		/* > 0 */
	int		prize;		/* index into the draw, -1 none */
	int64_t		at;
	int64_t		expires_at;	/* when these points expire */
	/*
	 * The credit list (not stored with the claim; 0 = the old single
	 * credit: points to the customer from campaign_id under the limits'
	 * budget). With credits, the store ignores lim->budget, judges each
	 * credit in order, and sets campaign_id to the campaign of the first
	 * CREDIT_BASE or CREDIT_STACK credit paid and points to the sum paid
	 * to the claim's customer; when no BASE or STACK credit can be paid
	 * the claim is refused (SIGIL_EFULL). The prize is the drawn one of
	 * the caller's campaign_id, dropped when that one's base credit is.
	 */
	size_t		ncredits;
	struct claim_credit credits[CLAIM_CREDITS_MAX];
	/*
	 * Cash (issue 22, store/payouts.h): with cash.fen > 0 the claim
	 * reserves cash.fen of its campaign's cash budget and writes its
	 * payout (HELD when cash.held, else PENDING, due now) in the same
	 * transaction. A budget that cannot pay it drops the cash
	 * (cash.dropped, cash.fen 0, refusal CASH_BUDGET), and refuses the
	 * claim with SIGIL_EFULL when the claim pays no points either. A day
	 * cap passed refuses the claim with SIGIL_EDENIED and cash.refusal
	 * CASH_CAP_CUSTOMER or CASH_CAP_DEVICE, which store_claims_commit
	 * copies back into the caller's claim even though it was refused.
	 * A claim with cash may have points 0 (no EARN entry then).
	 */
	struct claim_cash cash;
};

struct claim_limits {
	int64_t		budget;		/* total points, 0 = unlimited */
	uint32_t	daily_cap;	/* claims per customer per day, 0 = none */
	int64_t		day_start;	/* start of "today" for the cap */
	int		nprizes;
	uint32_t	prize_stock[STORE_PRIZES_MAX];	/* total to give */
};

/*
 * The claim, atomically, in one write transaction (LMDB serialises
 * writers, so of many simultaneous claims of one code and role exactly
 * one can win): refuses with SIGIL_ECONFLICT when (brand, serial, role)
 * was ever claimed, SIGIL_EFULL when the campaign's points_spent +
 * points would pass the budget, SIGIL_EDENIED when the customer already
 * made daily_cap claims since day_start. A drawn prize whose stock is
 * used up is dropped (c->prize set to -1), never overdrawn. Writes the
 * claim, an EARN ledger entry, the campaign's usage, the customer's day
 * count and an activity entry (ACTIVITY_CLAIM). Sets c->id.
 */
int store_claim(struct store *st, struct claim *c,
    const struct claim_limits *lim);
/*
 * store_claim details: c->at 0 means now; lim may be NULL (no limits).
 * SIGIL_EINVAL for a role outside enum claim_role, serial 0 or above
 * CODE_SERIAL_MAX, points <= 0, customer 0, or a prize outside
 * -1..nprizes-1; SIGIL_ENOTFOUND for an unknown customer or campaign
 * (campaign_id 0 = none: no usage is kept); SIGIL_ESTATE for an erased
 * customer. A prize is dropped once prizes_given reaches prize_stock.
 * The day count is keyed by the UTC day index of day_start. Before the
 * EARN entry, EXPIRE entries due at c->at are appended (see ledger.h).
 */
/*
 * Group commit of claims (sigild's writer thread): ONE write transaction
 * applying claims[0..n-1] in order, each with exactly store_claim's
 * checks and writes under limits[i] (limits may be NULL: no limits for
 * any). Every check of a claim (validity, customer, campaign, conflict,
 * budget, daily cap) runs before its first write, so a refused claim
 * writes nothing and the transaction goes on; later claims see earlier
 * ones (the same code and role twice: the second gets SIGIL_ECONFLICT;
 * the budget and prize stock are consumed in order). results[i] gets 0
 * or store_claim's refusal (SIGIL_EINVAL, ENOTFOUND, ESTATE, ECONFLICT,
 * EFULL, EDENIED); accepted claims are updated like store_claim's (id,
 * at, dropped prize), refused ones left as they were. Returns 0 when
 * the transaction committed (or had nothing to write). An I/O, memory
 * or map error aborts the whole transaction, nothing of the batch is
 * written, the error is returned AND stored in every results[i], so a
 * caller may read results alone. SIGIL_EINVAL if claims or results is
 * NULL (results untouched); n = 0 does nothing.
 */
int store_claims_commit(struct store *st, struct claim *claims,
    const struct claim_limits *limits, int *results, size_t n);
/* The claim of (brand, serial, role), SIGIL_ENOTFOUND if none. */
int store_claim_get(struct store *st, uint32_t brand_id, uint64_t serial,
    int role, struct claim *out);
/* Every claim of one code (roles in order). */
int store_code_claims(struct store *st, uint32_t brand_id, uint64_t serial,
    int (*fn)(void *arg, const struct claim *c), void *arg);

/* Every claim of the brand, in code order, in one snapshot (a customer's
 * claims are found by walking them: there is no index by customer). */
int store_brand_claims(struct store *st, uint32_t brand_id,
    int (*fn)(void *arg, const struct claim *c), void *arg);
/*
 * Wrong hidden PINs, counted three ways in pin_fails: per (code,
 * customer), per customer per (China) day, and per code. A customer is
 * blocked on a code after STORE_PIN_TRIES wrong PINs there and on every
 * code after STORE_PIN_DAY_TRIES in a day; the code itself locks only
 * after STORE_PIN_CODE_TRIES (from any customers), until the brand lifts
 * it (store_pin_unlock).
 */
#define STORE_PIN_TRIES		5
#define STORE_PIN_DAY_TRIES	30
#define STORE_PIN_CODE_TRIES	50
struct pin_fails {
	uint32_t	code;		/* on this code, anyone's */
	uint32_t	mine;		/* on this code, this customer's */
	uint32_t	today;		/* this customer's, any code, today */
};
/* Counts one wrong PIN in all three; *out gets the new counts. */
int store_pin_fail(struct store *st, uint32_t brand_id, uint64_t serial,
    uint64_t customer_id, uint32_t day, struct pin_fails *out);
/* The counts now (customer_id 0: only the code's). */
int store_pin_fails(struct store *st, uint32_t brand_id, uint64_t serial,
    uint64_t customer_id, uint32_t day, struct pin_fails *out);
/*
 * Lifts a code's PIN lock: its per-code count and every customer's count
 * on it go to zero; note (kind NOTE_PIN_UNLOCK, count set to the per-code
 * count lifted) is written in the same transaction.
 */
int store_pin_unlock(struct store *st, uint32_t brand_id, uint64_t serial,
    struct code_note *note);

/* ---- brand settings (tiers, point expiry, ...): JSON owned by loyalty.c */
int store_brand_settings_get(struct store *st, uint32_t brand_id,
    char **json);			/* malloc'd; ENOTFOUND if never set */
int store_brand_settings_put(struct store *st, uint32_t brand_id,
    const char *json);

#endif
