/*
 * payout.h - cash payouts through WeChat Pay's merchant transfer API
 * (issue 22): the dispatcher that drives the payout outbox
 * (store/payouts.h), the callback's settle, the daily reconciliation,
 * the brand's payment settings. In src/domain/payout.c (dispatcher,
 * metrics, the settle op), payout_send.c (one signed call to WeChat Pay
 * and what its answer means), payout_recon.c (reconciliation, the
 * mismatch alert) and payout_settings.c (the settings JSON).
 * See docs/payments.md.
 */
#ifndef SIGIL_PAYOUT_H
#define SIGIL_PAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include "sigil/store.h"

struct app;
struct evbuffer;
struct json_t;
struct writer_op;

#define PAYOUT_API_DEFAULT	"https://api.mch.weixin.qq.com"
#define PAYOUT_TICK_MS		1000	/* the dispatcher's look at due rows */
#define PAYOUT_INFLIGHT_MAX	16	/* calls to WeChat Pay at once */
#define PAYOUT_TIMEOUT_S	10	/* per call, once connected */
#define PAYOUT_BACKOFF_MAX_S	600	/* retries: 1 s, 2 s, 4 s ... 10 min */
#define PAYOUT_GIVE_UP_S	(24 * 3600)	/* a PENDING row older: FAILED */
#define PAYOUT_QUERY_S		60	/* an ACCEPTED row is asked again */
#define PAYOUT_QUERY_LATE_S	600	/* ... after its first hour */
#define PAYOUT_NOTIFY_BODY_MAX	8192	/* the callback's body limit */

/* ---- the dispatcher (payout.c) ---- */

struct payout_dispatcher;

/*
 * Starts the dispatcher on app->base (after the writer and egress):
 * api_url is --wxpay-api (NULL: PAYOUT_API_DEFAULT), already checked
 * against the egress policy by the caller. Also arms the daily
 * reconciliation. 0, SIGIL_EINVAL (api_url does not parse),
 * SIGIL_ENOMEM.
 */
int payout_dispatcher_start(struct app *app, const char *api_url,
    struct payout_dispatcher **out);
/* Stops it: calls in flight are dropped (their rows are due again). */
void payout_dispatcher_free(struct payout_dispatcher *d);

/*
 * Looks at the due payouts on the loop's next turn instead of at the
 * next tick: after a claim with cash committed, after an approve. On
 * the loop thread; nothing when no dispatcher runs.
 */
void payout_kick(struct app *app);

/*
 * The writer op that settles one payout: its op_arg is a struct
 * payout_settle (store/payouts.h), run through store_payout_settle (so
 * SIGIL_ESTATE for a move not allowed, SIGIL_ECONFLICT when the row is
 * no longer in settle.from). With an audit entry (the brand's approve
 * and reject, http_write) the target is the payout ("payout",
 * "CLAIM_ID") and the detail the move. Call payout_kick after an
 * approve so the payout leaves now.
 */
extern const struct writer_op payout_settle_op;

/* The payout metrics (sigil_payouts_*) for /metrics. */
void payout_metrics(struct app *app, struct evbuffer *b);

/* ---- the callback (payout_notice.c; the route: wxpay_notify.c) ---- */

/* A callback as received: the Wechatpay-* headers (NULL when absent)
 * and the body. */
struct payout_notice_in {
	const char	*serial, *timestamp, *nonce, *signature;
	const char	*body;
	size_t		 len;
};

/* What a callback comes to, and how the route answers WeChat Pay. */
enum payout_notice {
	/* Record *settle through payout_settle_op, then answer 204 (or
	 * 500 when the write failed, so that WeChat Pay sends it again). */
	PAYOUT_NOTICE_SETTLE = 1,
	/* Nothing to record: a repeat, another event type, a bill not
	 * ours, or a contradiction (alerted): answer 204. */
	PAYOUT_NOTICE_DONE,
	/* The signature does not verify (or names another key, or is
	 * older than five minutes): believed in nothing, answer 401. */
	PAYOUT_NOTICE_FORGED,
	/* Malformed: answer 400. */
	PAYOUT_NOTICE_BAD,
	/* It cannot be read now (no settings, no APIv3 key, a resource
	 * our key does not open, a store error): answer 500, WeChat Pay
	 * sends it again later. */
	PAYOUT_NOTICE_LATER,
};

/*
 * Judges a callback for brand_id: verifies it with the brand's WeChat
 * Pay public key (Wechatpay-Serial must be its pub_key_id), opens the
 * resource with the APIv3 key, finds the payout by out_bill_no and
 * decides. Returns an enum payout_notice, with *settle filled in for
 * PAYOUT_NOTICE_SETTLE and *why a word for the log and the answer.
 * On the loop; reads only.
 */
int payout_notice(struct app *app, uint32_t brand_id,
    const struct payout_notice_in *in, struct payout_settle *settle,
    const char **why);
/* After payout_settle_op recorded a callback's settle (err 0): counts
 * it. */
void payout_notice_recorded(const struct payout_settle *settle);

/* ---- the brand's payment settings (payout_settings.c) ---- */

#define PAYOUT_MCHID_MAX	32
#define PAYOUT_SERIAL_MAX	64
#define PAYOUT_PUBKEY_ID_MAX	64
#define PAYOUT_PEM_MAX		4096
#define PAYOUT_SCENE_MAX	16
#define PAYOUT_REMARK_MAX	32	/* characters: WeChat's bound */
#define PAYOUT_ACTIVITY_MAX	32	/* characters of a report info */

/*
 * The settings as stored (a JSON object, store_pay_settings_put):
 *   "mchid"       the merchant id (digits)
 *   "appid"       the app the payees' openids belong to ("wx" + 16)
 *   "serial_no"   the serial of the merchant's API certificate (hex):
 *                 names the key requests are signed with
 *   "pub_key_id"  the WeChat Pay public key's id ("PUB_KEY_ID_..."):
 *                 answers and callbacks must carry it as Wechatpay-Serial
 *   "public_key"  that public key, PEM (RSA)
 *   "scene_id"    transfer_scene_id, default "1000" (现金营销)
 *   "remark"      transfer_remark (the payee sees it), default "红包"
 *   "activity"    the 活动名称 report info, default "扫码领红包"
 *   "reward"      the 奖励说明 report info, default "扫码抽奖现金红包"
 * No private key: the merchant's key and the APIv3 key live in the
 * keyring ("wxpay-key/<brand>", "wxpay-v3/<brand>").
 */
struct payout_settings {
	char	mchid[PAYOUT_MCHID_MAX + 1];
	char	appid[PAYOUT_APPID_MAX + 1];
	char	serial_no[PAYOUT_SERIAL_MAX + 1];
	char	pub_key_id[PAYOUT_PUBKEY_ID_MAX + 1];
	char	public_key[PAYOUT_PEM_MAX + 1];
	char	scene_id[PAYOUT_SCENE_MAX + 1];
	char	remark[PAYOUT_REMARK_MAX * 4 + 1];	/* UTF-8 */
	char	activity[PAYOUT_ACTIVITY_MAX * 4 + 1];
	char	reward[PAYOUT_ACTIVITY_MAX * 4 + 1];
};

/*
 * Checks settings as the brand API takes them (a JSON object): 0 and,
 * when out is not NULL, *out a new object with exactly the fields
 * above, defaults filled in (what to store); SIGIL_EINVAL with err
 * naming the field and what is wrong (English, for the API's message).
 * The public key must parse as an RSA key of at least 2048 bits.
 */
int payout_settings_check(struct json_t *in, struct json_t **out,
    char *err, size_t esize);
/* The brand's stored settings into *out: 0, SIGIL_ENOTFOUND (none set),
 * SIGIL_EINVAL (stored but no longer valid), a store error. */
int payout_settings_load(struct app *app, uint32_t brand_id,
    struct payout_settings *out);

/* ---- reconciliation (payout_recon.c) ---- */

#define PAYOUT_RECON_LIST_MAX	32	/* mismatches listed in a result */

struct payout_mismatch {
	uint64_t	claim_id;
	char		what[32];	/* "state", "amount", "bill_no",
					   "unknown_at_wechat" */
	char		ours[24], theirs[24];	/* the state words */
};

struct payout_recon {
	uint32_t	brand_id;
	int64_t		day;		/* China day number (loyalty_day) */
	unsigned	checked;	/* payouts looked at */
	unsigned	matched;	/* WeChat agrees */
	unsigned	behind;		/* WeChat is further along than we
					   are: the dispatcher catches up */
	unsigned	mismatched;	/* raised an alert */
	unsigned	errors;		/* no verified answer */
	size_t		nlist;
	struct payout_mismatch list[PAYOUT_RECON_LIST_MAX];
};

typedef void (*payout_recon_done)(void *arg, int err,
    const struct payout_recon *r);

/*
 * Reconciles brand_id's payouts created on China day `day` against
 * WeChat Pay: every one that was sent is queried by its out_bill_no and
 * state, amount and bill number compared; a contradiction raises (or
 * counts again) the brand's payout_mismatch alert on the claimed code.
 * done is called once on the loop with the result (err 0), never from
 * inside this call. 0; SIGIL_ENOTFOUND (no payment settings),
 * SIGIL_EBUSY (this brand's reconciliation is running), SIGIL_ENOMEM.
 * The dispatcher also runs it every day at 01:00 China time for the
 * day before, for every brand with settings.
 */
int payout_reconcile_start(struct app *app, uint32_t brand_id, int64_t day,
    payout_recon_done done, void *arg);

#endif
