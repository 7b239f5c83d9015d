/*
 * payout_impl.h - what the payout files share and nothing outside them
 * (and the callback's handler, src/face/wxpay_notify.c) may include:
 * one call to WeChat Pay and what its answer came to (payout_send.c),
 * the mismatch alert (payout_recon.c), the counters (payout.c).
 *
 * Calls only go down this list, never back (scripts/layers.py refuses a
 * circle): payout.c -> payout_recon.c -> payout_send.c ->
 * payout_settings.c. So payout_send.c and payout_recon.c count nothing
 * of payout.c's; they hand back what happened and payout.c counts it.
 */
#ifndef SIGIL_PAYOUT_IMPL_H
#define SIGIL_PAYOUT_IMPL_H

#include <stdint.h>

#include "sigil/payout.h"
#include "sigil/store.h"

struct app;
struct evbuffer;

/* What one call came to. */
enum payout_outcome {
	/* A verified answer carrying a bill: the fields below are set. */
	PAYOUT_OUT_BILL = 1,
	/* No answer, a 5xx or 429, a busy or "not enough funds" code, an
	 * answer whose signature does not verify, a missing key: nothing
	 * is known, ask again later. */
	PAYOUT_OUT_RETRY,
	/* A verified refusal that no retry of the same request mends
	 * (PARAM_ERROR, INVALID_REQUEST, NO_AUTH, ...): code says which. */
	PAYOUT_OUT_REFUSED,
	/* A verified "no such bill" (404 NOT_FOUND) to a query. */
	PAYOUT_OUT_NOT_FOUND,
};

struct payout_answer {
	int		outcome;	/* enum payout_outcome */
	int		status;		/* HTTP status, -1 without an answer */
	int		verified;	/* the answer's signature held */
	/* WeChat's error code, or why: "bad_signature" (signed, and it does
	 * not verify), "unsigned", an egress result's name, ... */
	char		code[48];
	/* PAYOUT_OUT_BILL: */
	int		state;		/* enum payout_state it maps to */
	char		wx_state[24];
	char		out_bill_no[PAYOUT_OUTNO_MAX + 1];
	char		bill_no[PAYOUT_BILLNO_MAX + 1];
	int64_t		fen;		/* -1 when the answer has none (create) */
	char		fail_reason[PAYOUT_FAIL_MAX + 1];
	char		package_info[PAYOUT_PACKAGE_MAX + 1];
	int64_t		update_time;	/* us, 0 when none */
};

typedef void (*payout_answer_fn)(void *arg, const struct payout_answer *a);

/*
 * Sets the WeChat Pay API's base URL (--wxpay-api): 0, SIGIL_EINVAL.
 * Called once, before any call.
 */
int payout_api_set(const char *url);

/*
 * The transfer for p (PENDING) asked for: POST transfer-bills with p's
 * out_bill_no, signed with the brand's merchant key. done is called
 * exactly once, on the loop, never from inside this call. 0 or
 * SIGIL_ENOMEM (done not called).
 */
int payout_send_create(struct app *app, const struct payout *p,
    payout_answer_fn done, void *arg);
/* The bill out_bill_no of brand_id asked after (GET by out-bill-no). */
int payout_send_query(struct app *app, uint32_t brand_id,
    const char *out_bill_no, payout_answer_fn done, void *arg);

/*
 * The brand's merchant (APIv3) key for callbacks into key: 0,
 * SIGIL_ENOTFOUND. The caller cleanses it.
 */
int payout_apiv3_key(struct app *app, uint32_t brand_id, uint8_t key[32]);

/* Counters the dispatcher keeps and the callback adds to (payout.c). */
void payout_count_settled(int state);	/* PAID or FAILED reached */
void payout_count_bad_signature(void);	/* an answer or callback refused */
void payout_count_callback(void);	/* a verified callback recorded */

/*
 * Raises the brand's payout_mismatch alert on p's code (payout_recon.c):
 * what ("state", "amount", "bill_no", "unknown_at_wechat") was found on
 * a verified answer or callback that contradicts p. Fire and forget
 * (a writer op); logged.
 */
void payout_mismatch_raise(struct app *app, const struct payout *p,
    const char *what, const char *theirs);

/*
 * Once a day, at 01:00 China time, reconciles the day before for every
 * brand with payment settings (payout_recon.c): called by the
 * dispatcher's tick, cheap when there is nothing to do.
 */
void payout_recon_daily(struct app *app);
/* The reconciliation's counters for /metrics. */
void payout_recon_metrics(struct evbuffer *b);

/* The claim id in an out_bill_no of brand_id (payout_out_bill_no's form):
 * 0, or SIGIL_EINVAL when it is not one of ours. */
int payout_out_bill_parse(const char *s, uint32_t brand_id,
    uint64_t *claim_id);

#endif
