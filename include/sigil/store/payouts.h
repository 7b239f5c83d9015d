/*
 * sigil/store/payouts.h - cash rewards (issue 22): each campaign's cash
 * budget in fen, the payouts a claim's cash prize makes, the payout
 * outbox the dispatcher (src/domain/payout.c) drives through WeChat
 * Pay, the per-day cash caps, and the brands' payment settings
 * (src/store/store_payouts.c).
 *
 * Money invariants, all kept inside single write transactions:
 *   - a campaign's reserved_fen (every payout not failed or rejected)
 *     never passes the budget the claim carried (claim_cash.budget_fen);
 *     the reservation is made in the claim's own transaction;
 *   - one payout per claim, keyed by the claim; its out_bill_no (the
 *     idempotency key at WeChat Pay) is derived from the claim alone, so
 *     every retry of it, by any process, asks for the same transfer;
 *   - a payout that fails for good (or a held one the brand rejects)
 *     returns its amount to the budget in the transaction that records
 *     the failure, exactly once (a settled row never changes state again).
 *
 * A part of sigil/store.h, which includes it after the limits and the
 * types it uses: include sigil/store.h, not this.
 */
#ifndef SIGIL_STORE_PAYOUTS_H
#define SIGIL_STORE_PAYOUTS_H

#ifndef SIGIL_STORE_H
#error "include sigil/store.h"
#endif

#define PAYOUT_FEN_MAX		20000000	/* 200,000 yuan: a bound per payout */
#define PAYOUT_APPID_MAX	32
#define PAYOUT_OPENID_MAX	128
#define PAYOUT_REASONS_MAX	95	/* bytes: "new_identity,fast,..." */
#define PAYOUT_BILLNO_MAX	64	/* WeChat's transfer_bill_no */
#define PAYOUT_OUTNO_MAX	32	/* our out_bill_no */
#define PAYOUT_FAIL_MAX		63	/* WeChat's fail_reason or ours */
#define PAYOUT_PACKAGE_MAX	511	/* package_info for the user's confirm */

/*
 * States. HELD waits for the brand (approve: PENDING; reject:
 * REJECTED). PENDING is due to be sent (or re-sent: a timeout or 5xx
 * leaves it PENDING with attempts + 1 and a later next_at). ACCEPTED:
 * WeChat Pay took the bill (ACCEPTED, PROCESSING, WAIT_USER_CONFIRM,
 * TRANSFERING): due again only to be queried. PAID: SUCCESS. FAILED:
 * failed for good (FAIL, CANCELLED, a refusal that no retry can mend,
 * or retries given up); REJECTED: the brand said no. FAILED and
 * REJECTED returned their amount to the budget when they were set.
 */
enum payout_state {
	PAYOUT_HELD = 1,
	PAYOUT_PENDING = 2,
	PAYOUT_ACCEPTED = 3,
	PAYOUT_PAID = 4,
	PAYOUT_FAILED = 5,
	PAYOUT_REJECTED = 6,
};
#define PAYOUT_STATES	7	/* index 1..6 of the tallies below */

/*
 * The cash part of a claim (struct claim's cash member, claims.h): set
 * by the claim path before the writer commits it.
 */
enum cash_refusal { CASH_OK = 0, CASH_CAP_CUSTOMER = 1, CASH_CAP_DEVICE = 2,
    CASH_BUDGET = 3 };
struct claim_cash {
	int64_t		fen;		/* in: drawn amount, 0 = no cash;
					   out: 0 when dropped (budget) */
	int64_t		budget_fen;	/* in: the campaign's cash budget */
	uint32_t	campaign_id;	/* in: whose budget (0 = the claim's) */
	/* in: caps in fen per China day (claim_limits.day_start), 0 none */
	int64_t		cap_customer_fen, cap_device_fen;
	uint64_t	device;		/* in: the claiming device */
	int		held;		/* in: 1 = wait for the brand */
	uint32_t	score;		/* in: abuse score, 0..100 */
	char		reasons[PAYOUT_REASONS_MAX + 1];	/* in */
	char		appid[PAYOUT_APPID_MAX + 1];		/* in: payee */
	char		openid[PAYOUT_OPENID_MAX + 1];		/* in */
	int		dropped;	/* out: budget could not pay it */
	int		refusal;	/* out: enum cash_refusal, also set on
					   a refused claim (see claims.h) */
};

struct payout {
	uint32_t	brand_id;
	uint64_t	claim_id;	/* the key, with brand_id */
	uint32_t	campaign_id;
	uint64_t	customer_id;
	uint64_t	serial;		/* the code claimed */
	uint64_t	device;
	int64_t		fen;
	int		state;		/* enum payout_state */
	uint32_t	attempts;	/* sends or queries that got no answer */
	int64_t		next_at;	/* PENDING, ACCEPTED: when due */
	int64_t		created, updated;
	int64_t		paid_at;	/* PAID: WeChat's update time, else 0 */
	uint32_t	score;
	char		reasons[PAYOUT_REASONS_MAX + 1];
	char		appid[PAYOUT_APPID_MAX + 1];
	char		openid[PAYOUT_OPENID_MAX + 1];	/* "" after erasure */
	char		out_bill_no[PAYOUT_OUTNO_MAX + 1];	/* derived */
	char		bill_no[PAYOUT_BILLNO_MAX + 1];	/* WeChat's, "" until
							   known */
	char		wx_state[24];	/* WeChat's last state word, "" none */
	char		fail_reason[PAYOUT_FAIL_MAX + 1];
	char		package_info[PAYOUT_PACKAGE_MAX + 1];	/* for the
					   consumer's confirm; "" none */
	uint64_t	decided_by;	/* HELD -> PENDING/REJECTED: user id */
};

/*
 * The out_bill_no of a claim: "SG" brand "C" claim in decimal, e.g.
 * "SG12C3456" (letters and digits only, at most 32: WeChat's rule).
 */
void payout_out_bill_no(uint32_t brand_id, uint64_t claim_id,
    char out[PAYOUT_OUTNO_MAX + 1]);
/* "held", "pending", "accepted", "paid", "failed", "rejected"; NULL. */
const char *payout_state_name(int state);
/* The state of a name above, 0 for none. */
int payout_state_parse(const char *name);

/* One payout. SIGIL_ENOTFOUND. */
int store_payout_get(struct store *st, uint32_t brand_id, uint64_t claim_id,
    struct payout *out);

/*
 * PENDING and ACCEPTED rows due at now (next_at <= now), every brand, in
 * next_at order, at most max: fn sees each, non-zero stops.
 */
int store_payout_due(struct store *st, int64_t now, size_t max,
    int (*fn)(void *arg, const struct payout *p), void *arg);
/* The earliest next_at of a due-able row, 0 when none (lag gauge). */
int store_payout_oldest(struct store *st, int64_t *out);

/*
 * What the dispatcher or the brand settled for one payout (a writer op's
 * argument). Allowed moves (anything else: SIGIL_ESTATE, nothing
 * written; the same state again with nothing new: 0, nothing written):
 *   HELD -> PENDING (approve, decided_by), REJECTED (reject)
 *   PENDING -> PENDING (a retry: attempts, next_at), ACCEPTED, PAID,
 *     FAILED
 *   ACCEPTED -> ACCEPTED (next query: next_at, wx_state, attempts),
 *     PAID, FAILED
 * FAILED and REJECTED return fen to the campaign's cash budget in the
 * same transaction. Fields left empty ("" or 0) keep the row's value.
 */
struct payout_settle {
	uint32_t	brand_id;
	uint64_t	claim_id;
	int		from;		/* the state the decision was made on:
					   SIGIL_ECONFLICT if the row moved */
	int		state;
	uint32_t	attempts;
	int64_t		next_at;
	int64_t		paid_at;
	char		bill_no[PAYOUT_BILLNO_MAX + 1];
	char		wx_state[24];
	char		fail_reason[PAYOUT_FAIL_MAX + 1];
	char		package_info[PAYOUT_PACKAGE_MAX + 1];
	uint64_t	decided_by;
};
int store_payout_settle(struct store *st, const struct payout_settle *s);

/* Which payouts store_payout_each shows (each 0 / "" = any). */
struct payout_filter {
	uint32_t	campaign_id;
	int		state;
	uint64_t	customer_id;
	int64_t		since, until;	/* created in [since, until) */
};
/* The brand's payouts newest first (by claim id), filtered. */
int store_payout_each(struct store *st, uint32_t brand_id,
    const struct payout_filter *f,
    int (*fn)(void *arg, const struct payout *p), void *arg);

/* A campaign's cash, as the dashboard shows it. */
struct cash_usage {
	int64_t		reserved_fen;	/* every payout not FAILED/REJECTED */
	uint64_t	count[PAYOUT_STATES];	/* by state */
	int64_t		fen[PAYOUT_STATES];	/* by state */
};
int store_cash_usage(struct store *st, uint32_t brand_id,
    uint32_t campaign_id, struct cash_usage *out);

/* Cash a customer (kind 0) or a device (kind 1) was given on day. */
int store_cash_day(struct store *st, uint32_t brand_id, int kind,
    uint64_t id, uint32_t day, int64_t *fen);

/*
 * The brand's WeChat Pay settings, JSON owned by payout.c (mchid, appid,
 * serial, platform public key id and PEM, scene, ...; never a private
 * key: those live in the keyring). malloc'd; ENOTFOUND if never set.
 */
int store_pay_settings_get(struct store *st, uint32_t brand_id, char **json);
int store_pay_settings_put(struct store *st, uint32_t brand_id,
    const char *json);

#endif
