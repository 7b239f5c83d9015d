/*
 * loyalty_claim.c - POST /api/v1/claims: a logged-in customer claims the
 * reward of a code this phone scanned.
 *
 * The checks that need no history run here, in the order a customer
 * meets them: the code, the login, the staff role, the scan by this
 * device, the running campaign, an earlier claim, the hidden PIN (with
 * its locks and the per-client limit on wrong PINs), the territory; the
 * rules are rewards.c's. The claim itself is then a WRITER_CLAIM job:
 * the writer thread commits a whole round of claims in one transaction
 * (store_claims_commit, which checks each one in order against the
 * budget, the daily cap, the prize stock and the one-claim rule) with
 * one sync, and the request is answered from claim_done() once it is
 * durable. A claim committed on this thread would cost an fsync each
 * and stall every other request meanwhile.
 *
 * A PIN, right or wrong, is tried through the writer first (an op job,
 * reward_pin_op, in the same struct as the claim): the locks are judged
 * again there against the counts every earlier try left, a wrong PIN is
 * counted there, and the claim follows from pin_done, so tries sent at
 * once cannot pass a lock together nor a right PIN slip past a lock a
 * wrong one queued just before it set.
 *
 * Cash (issue 22). On a campaign with a cash prize, before anything is
 * spent: the payee (a customer without a WeChat openid of the brand's
 * pay appid is refused 403 wechat_required, and the code's claim stays
 * unspent), the new-identity cool-down and the network's velocity (429
 * cool_down, network_limit, with Retry-After); then the amount is drawn
 * with the prize, scored (cash_guard.c) and handed to the store in the
 * claim (cl.cash), which reserves it from the budget and writes the
 * payout in the claim's transaction, or refuses a day cap (429
 * cash_cap). After a committed claim with cash the payout dispatcher is
 * kicked, so the money leaves at once rather than on its next tick.
 *
 * Owns the handler and its writer jobs. May call the domain (rewards,
 * campaign, cash, customer, member, lookup), the store (reads and the writer),
 * ratelimit (the PIN bucket of app->loyalty), http and http_loyalty.c.
 * Never calls another handler, never writes to the store on the loop:
 * every write is a writer job.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sigil/app.h"
#include "sigil/campaign.h"
#include "sigil/cash.h"
#include "sigil/code.h"
#include "sigil/customer.h"
#include "sigil/http.h"
#include "sigil/identity.h"
#include "sigil/log.h"
#include "sigil/lookup.h"
#include "sigil/loyalty.h"
#include "sigil/loyalty_core.h"
#include "sigil/loyalty_util.h"
#include "sigil/member.h"
#include "sigil/payout.h"
#include "sigil/ratelimit.h"
#include "sigil/rewards.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "sigil/writer.h"
#include "http_loyalty.h"

/*
 * A claim in flight: the request and what its answer needs, copied out
 * of the campaign cache (which a campaign change may free before the
 * writer answers). With a PIN, job is first the PIN's try (an op job),
 * then the claim; the territory's verdict and the draw's are made before
 * the try and answered after it, in the order the checks always had.
 * Freed by claim_done, or by pin_done when no claim follows.
 */
struct claim_ctx {
	struct http_call	*call;
	struct writer_job	job;
	uint32_t		campaign;
	char			prize[STORE_PRIZES_MAX][257];
	int64_t			now;
	int			where;		/* reward_where's verdict */
	int			drawn;		/* reward_claim_make's result */
	struct claim		cl;
	struct claim_limits	lim;
	struct reward_pin_try	pin;
};

/* The prize names are copied whole, row for row. */
_Static_assert(sizeof ((struct claim_ctx *)0)->prize ==
    sizeof ((struct campaign_rules *)0)->prize, "prize names");

/*
 * The refusals that need no if of their own: rewards.c's (positive) and
 * the store's at commit (SIGIL_E*, negative). Retry-After: the China day
 * ends.
 */
static const struct loyalty_refusal refusals[] = {
	{ REWARD_UNLOCATED, 403, 0, "location_required", "this reward is "
	    "regional: share your location on the scan page first" },
	{ REWARD_OUTSIDE, 403, 0, "outside_region",
	    "this reward is not offered where the code was scanned" },
	{ REWARD_PIN_CODE_LOCKED, 423, 0, "locked", "too many wrong PINs on "
	    "this code: its reward is locked until the brand lifts the lock" },
	{ REWARD_PIN_MINE_LOCKED, 423, 0, "customer_locked",
	    "you entered too many wrong PINs for this code" },
	{ REWARD_PIN_DAY_LOCKED, 423, 1, "customer_locked",
	    "you entered too many wrong PINs today; try again tomorrow" },
	{ SIGIL_ECONFLICT, 409, 0, "already_claimed",
	    "this code's reward for this role was already claimed" },
	{ SIGIL_EFULL, 422, 0, "budget_exhausted",
	    "this campaign's points are all given out" },
	{ SIGIL_EDENIED, 429, 1, "daily_cap",
	    "you reached today's claim limit for this campaign" },
	{ 0 }
};

/* Replies 423 and returns 1 when no more PIN may be tried. */
static int
pin_refused(struct http_call *c, const struct pin_fails *pf, int64_t now)
{
	return http_loyalty_refuse(c, reward_pin_lock(pf),
	    loyalty_day_start(now) + US_PER_DAY - now, refusals);
}

/*
 * The hidden PIN, when the campaign asks for it, up to its try: 0 with
 * *right set (the try then goes through the writer, which judges the
 * locks again and counts a wrong one), or -1 after replying.
 */
static int
pin_checked(struct http_call *c, const struct code_info *info,
    const struct customer *cu, const char *pin, int64_t now, int *right)
{
	struct app *app = c->app;
	struct ratelimit *rl = app->loyalty->pin;
	struct pin_fails pf = { 0 };
	int err;

	if (store_pin_fails(app->store, info->brand.id, info->serial, cu->id,
	    (uint32_t)loyalty_day(now), &pf) == 0 && pin_refused(c, &pf, now))
		return -1;
	if (pin[0] == '\0') {
		http_reply_error(c, 428, "pin_required", "enter the hidden PIN "
		    "under the scratch-off layer");
		return -1;
	}
	/* Wrong PINs only are counted, so a clerk claiming many boxes with
	 * their right PINs is never slowed. */
	if (!ratelimit_client_peek(rl, c->client, now)) {
		http_loyalty_too_many(c, ratelimit_client_wait_us(rl, c->client,
		    now), "rate_limited", "too many PIN attempts from this "
		    "address");
		return -1;
	}
	if ((err = reward_pin_check(app, info, pin)) == SIGIL_ENOTFOUND) {
		http_reply_error(c, 503, "unavailable", "key missing");
		return -1;
	}
	*right = err == 0;
	if (!*right)
		ratelimit_client_take(rl, c->client, now);
	return 0;
}

static void
busy(struct http_call *c)
{
	http_reply_error(c, 503, "unavailable",
	    "the server is busy or shutting down; try again");
}

/*
 * The claim's cash as its answer says: null when it drew none; else the
 * amount, "held" (waits for the brand) or "pending" (on its way), or
 * "dropped" when the budget could not pay it.
 */
static json_t *
cash_json(const struct claim *cl)
{
	const struct claim_cash *k = &cl->cash;

	if (k->dropped)
		return json_pack("{s:i,s:s,s:b,s:b,s:s}", "fen", 0, "state",
		    "dropped", "held", 0, "dropped", 1, "message", "this "
		    "campaign's cash budget is spent: no red packet this time");
	if (k->fen <= 0)
		return json_null();
	return json_pack("{s:I,s:s,s:b,s:b}", "fen", (json_int_t)k->fen,
	    "state", payout_state_name(k->held ? PAYOUT_HELD :
	    PAYOUT_PENDING), "held", k->held, "dropped", 0);
}

/* The credits a claim paid the customer (not a seller's rebate). */
static json_t *
credits_json(const struct claim *cl)
{
	json_t *a = json_array();

	for (size_t i = 0; i < cl->ncredits; i++) {
		const struct claim_credit *cr = &cl->credits[i];

		if (cr->dropped || (cr->customer_id != 0 &&
		    cr->customer_id != cl->customer_id))
			continue;
		json_array_append_new(a, json_pack("{s:i,s:s,s:I,s:s?}",
		    "campaign", (int)cr->campaign_id, "kind",
		    campaign_credit_kind_name(cr->kind), "points",
		    (json_int_t)cr->points, "bonus", cr->kind == CREDIT_BONUS ?
		    campaign_bonus_name(cr->bonus) : NULL));
	}
	return a;
}

static void
claim_done(struct writer_job *job)
{
	struct claim_ctx *x = job->arg;
	struct http_call *c = x->call;
	struct app *app = c->app;
	const struct claim *cl = &job->claim;
	int64_t left = job->claim_limits.day_start + US_PER_DAY -
	    sigil_now_us();

	if (job->err == 0) {
		http_reply_jsont(c, 201, json_pack("{s:I,s:I,s:s,s:i,s:s?,s:I,"
		    "s:o,s:o}", "claim_id", (json_int_t)cl->id, "points",
		    (json_int_t)cl->points, "role", loyalty_role_name(cl->role),
		    "campaign", (int)cl->campaign_id, "prize", cl->prize >= 0 ?
		    x->prize[cl->prize] : NULL, "balance",
		    (json_int_t)member_balance(app, cl->brand_id,
		    cl->customer_id), "credits", credits_json(cl), "cash",
		    cash_json(cl)));
		if (cl->cash.fen > 0) {
			log_info("claim_cash", "brand=%u claim=%llu fen=%lld "
			    "held=%d score=%u reasons=%s", cl->brand_id,
			    (unsigned long long)cl->id, (long long)cl->cash.fen,
			    cl->cash.held, cl->cash.score, cl->cash.reasons);
			payout_kick(app);
		}
	} else if (job->err == SIGIL_EDENIED && (cl->cash.refusal ==
	    CASH_CAP_CUSTOMER || cl->cash.refusal == CASH_CAP_DEVICE))
		http_loyalty_too_many(c, left > 0 ? left : 0, "cash_cap",
		    cl->cash.refusal == CASH_CAP_CUSTOMER ? "you reached "
		    "today's cash limit for this campaign; try again tomorrow" :
		    "this phone reached today's cash limit for this campaign; "
		    "try again tomorrow");
	else if (job->err == SIGIL_EFULL && cl->cash.refusal == CASH_BUDGET)
		http_reply_error(c, 422, "budget_exhausted", "this campaign's "
		    "cash budget is spent");
	else if (!http_loyalty_refuse(c, job->err, left > 0 ? left : 0,
	    refusals)) {
		log_error("claim", "brand=%u err=\"%s\"", cl->brand_id,
		    sigil_strerror(job->err));
		http_reply_error(c, 503, "unavailable", "the claim could not be "
		    "recorded; try again");
	}
	free(x);
}

/*
 * The checks left after the PIN, then the claim handed to the writer:
 * claim_done answers. Frees x when it answers itself.
 */
static void
claim_submit(struct claim_ctx *x)
{
	struct http_call *c = x->call;
	struct app *app = c->app;

	if (http_loyalty_refuse(c, x->where, 0, refusals))
		goto done;
	if (x->drawn != 0) {
		http_reply_error(c, 503, "unavailable", "no randomness");
		goto done;
	}
	memset(&x->job, 0, sizeof x->job);
	x->job.kind = WRITER_CLAIM;
	x->job.claim = x->cl;
	x->job.claim_limits = x->lim;
	x->job.done = claim_done;
	x->job.arg = x;
	if (writer_submit(app->writer, &x->job) == 0)
		return;
	busy(c);
done:
	free(x);
}

/* The PIN's try, judged and counted by the writer: refused, or on. */
static void
pin_done(struct writer_job *job)
{
	struct claim_ctx *x = job->arg;
	struct http_call *c = x->call;
	const struct reward_pin_try *t = &x->pin;

	if (job->err != 0)
		http_reply_error(c, 503, "unavailable", "try again");
	else if (!http_loyalty_refuse(c, t->lock, loyalty_day_start(x->now) +
	    US_PER_DAY - x->now, refusals)) {
		if (t->right) {
			claim_submit(x);
			return;
		}
		reward_pin_tried(t);
		if (!pin_refused(c, &t->pf, x->now))
			http_reply_jsont(c, 403, json_pack("{s:{s:s,s:s,s:i}}",
			    "error", "code", "wrong_pin", "message",
			    "wrong PIN", "tries_left",
			    (int)reward_pin_tries_left(&t->pf)));
	}
	free(x);
}

/*
 * A campaign with cash, before anything is spent: the payee into
 * payee's appid and openid, then the cool-down and the network's
 * velocity (counted here: *net_count, this hour's count). 0, or -1
 * after replying.
 */
static int
cash_gate(struct http_call *c, const struct campaign_rules *camp,
    const struct customer *cu, int64_t now, struct claim_cash *payee,
    uint32_t *net_count)
{
	const struct cash_config *cc = &camp->cashcfg;
	int64_t bound = 0, wait;
	int err;

	memset(payee, 0, sizeof *payee);
	err = identity_payee(c->app, cu->brand_id, cu->id, payee->appid,
	    payee->openid, &bound);
	if (err == SIGIL_ENOTFOUND) {
		http_reply_error(c, 403, "wechat_required", "this reward is a "
		    "WeChat red packet: open the code in WeChat (or log in with "
		    "WeChat) to claim it");
		return -1;
	}
	if (err != 0) {
		busy(c);
		return -1;
	}
	if ((wait = cash_cooldown_wait(cc->cooldown_hours, cu->created, bound,
	    now)) > 0) {
		http_loyalty_too_many(c, wait, "cool_down", "a new account waits "
		    "before it can claim red packets; try again later");
		return -1;
	}
	if ((wait = cash_guard_network(cu->brand_id, camp->id, c->client,
	    cc->network_per_hour, now, net_count)) > 0) {
		http_loyalty_too_many(c, wait, "network_limit", "too many red "
		    "packets were claimed from this network this hour; try "
		    "again later");
		return -1;
	}
	return 0;
}

/*
 * The cash of cl (drawn with its prize under camp): the amount, the
 * payee (gate's), the budget and caps the store checks, the score and
 * the hold; net_count is cash_gate's. 0 or SIGIL_ECRYPTO.
 */
static int
cash_fill(struct app *app, const struct campaign_rules *camp,
    const struct customer *cu, uint64_t device, const struct reward_scan *sb,
    const struct claim_cash *gate, uint32_t net_count, int64_t now,
    struct claim *cl)
{
	const struct cash_config *cc = &camp->cashcfg;
	struct claim_cash *k = &cl->cash;
	struct pin_fails pf = { 0 };
	struct cash_facts f;
	struct cash_rng rng;
	int64_t fen;

	if (cash_rng_fresh(&rng) != 0)
		return SIGIL_ECRYPTO;
	if ((fen = cash_draw(camp, cl->prize, &rng)) <= 0)
		return 0;
	store_pin_fails(app->store, cu->brand_id, cl->serial, cu->id,
	    (uint32_t)loyalty_day(now), &pf);
	memset(&f, 0, sizeof f);
	f.brand_id = cu->brand_id;
	f.customer_id = cu->id;
	f.device = device;
	f.now = now;
	f.scan_at = sb->at;
	f.fresh_device = sb->anon;
	f.located = sb->located;
	f.lat = sb->lat;
	f.lng = sb->lng;
	f.pin_fails = pf.code;
	f.network_count = net_count;
	f.network_limit = cc->network_per_hour;
	*k = *gate;
	k->fen = fen;
	k->budget_fen = cc->budget_fen;
	k->campaign_id = camp->id;
	k->cap_customer_fen = cc->customer_day_fen;
	k->cap_device_fen = cc->device_day_fen;
	k->device = device;
	k->score = cash_score(&f, k->reasons);
	k->held = cash_hold(cc, k->score, fen);
	return 0;
}

/*
 * The code of a claim, resolved: 0 with *info set, or -1 after replying
 * (not a code, not ours, not earning).
 */
static int
claim_code(struct http_call *c, const char *code, struct code_info *info)
{
	int err = strlen(code) > CODE_URL_MAX ? SIGIL_EINVAL :
	    lookup_code(c->app, code, info);

	if (err == SIGIL_EINVAL) {
		http_reply_error(c, 422, "bad_code", "not a sigil code or code "
		    "URL");
		return -1;
	}
	if (err != 0 || info->verdict == VERDICT_COUNTERFEIT) {
		http_reply_error(c, 404, "unknown_code", "this code was not "
		    "issued here");
		return -1;
	}
	if (info->verdict == VERDICT_REVOKED || info->verdict ==
	    VERDICT_INACTIVE) {
		http_reply_error(c, 403, "code_not_active", "this code is "
		    "revoked or not yet activated: it earns nothing");
		return -1;
	}
	return 0;
}

void
loyalty_claim(struct http_call *c)
{
	struct app *app = c->app;
	struct code_info info;
	struct customer cu;
	struct claim prev;
	struct claim_ctx *x;
	struct reward_scan sb;
	struct claim_cash payee;
	uint32_t net_count = 0;
	const struct campaign_rules *camp, *pick[CAMPAIGN_PICK_MAX];
	size_t npick, k;
	int pin_needed = 0;
	const char *code, *pin, *rs;
	char pinbuf[CODE_PIN_DIGITS + 1] = "";
	uint64_t device;
	int64_t now = sigil_now_us();
	int role = CLAIM_CONSUMER, right = 0, err;
	json_t *body;

	if ((body = http_loyalty_body(c)) == NULL)
		return;
	code = json_string_value(json_object_get(body, "code"));
	pin = json_string_value(json_object_get(body, "pin"));
	rs = json_string_value(json_object_get(body, "role"));
	if (pin != NULL && strlen(pin) <= CODE_PIN_DIGITS)
		snprintf(pinbuf, sizeof pinbuf, "%s", pin);
	if (code == NULL || (json_object_get(body, "pin") != NULL &&
	    (pin == NULL || strlen(pin) > CODE_PIN_DIGITS)) ||
	    (json_object_get(body, "role") != NULL &&
	    (role = loyalty_role_parse(rs)) == 0)) {
		json_decref(body);
		http_reply_error(c, 422, "invalid", "expected {\"code\": the "
		    "scanned code, \"pin\": the hidden PIN when asked, \"role\":"
		    " consumer|retailer|sales}");
		return;
	}
	err = claim_code(c, code, &info);
	json_decref(body);
	if (err != 0)
		return;
	if (http_loyalty_device(app, c, &device) != 0 ||
	    customer_of_device(app, info.brand.id, device, &cu) != 0) {
		http_reply_error(c, 401, "login_required", "log in with your "
		    "phone number to claim (POST /api/v1/customers/otp)");
		return;
	}
	if (role != CLAIM_CONSUMER && member_role(app, info.brand.id, cu.id) !=
	    role) {
		http_reply_error(c, 403, "role_not_registered", "the brand has "
		    "not registered this customer for that role");
		return;
	}
	reward_scanned_by(app, info.brand.id, info.serial, device, &sb);
	if (!sb.found) {
		http_reply_error(c, 403, "scan_first", "scan the code with this "
		    "phone before claiming");
		return;
	}
	if ((npick = campaign_judge(app, info.brand.id, info.batch.id,
	    info.product.sku, role, now, &cu, pick, CAMPAIGN_PICK_MAX)) == 0) {
		http_reply_error(c, 422, "no_campaign", "no running campaign "
		    "rewards this code for this role");
		return;
	}
	camp = pick[0];
	for (size_t i = 0; i < npick; i++)
		pin_needed |= pick[i]->require_pin;
	if (store_claim_get(app->store, info.brand.id, info.serial, role,
	    &prev) == 0) {
		http_reply_error(c, 409, "already_claimed", "this code's reward "
		    "for this role was already claimed");
		return;
	}
	if (camp->has_cash && cash_gate(c, camp, &cu, now, &payee,
	    &net_count) != 0)
		return;
	if (pin_needed && pin_checked(c, &info, &cu, pinbuf, now,
	    &right) != 0)
		return;
	if ((x = calloc(1, sizeof *x)) == NULL) {
		http_reply_error(c, 503, "unavailable", "out of memory");
		return;
	}
	x->call = c;
	x->campaign = camp->id;
	memcpy(x->prize, camp->prize, sizeof x->prize);
	x->now = now;
	x->where = reward_where(app, info.brand.id, camp, &sb);
	x->drawn = reward_claim_make(camp, &info, role, cu.id, now, &x->cl,
	    &x->lim);
	/* the stacked ones outside their territory are left out */
	k = 1;
	for (size_t i = 1; i < npick; i++)
		if (reward_where(app, info.brand.id, pick[i], &sb) == REWARD_OK)
			pick[k++] = pick[i];
	npick = k;
	campaign_credits_make(app, pick, npick, role, &cu, info.serial, now,
	    &x->cl);
	if (camp->has_cash && x->drawn == 0)
		x->drawn = cash_fill(app, camp, &cu, device, &sb, &payee,
		    net_count, now, &x->cl);
	if (!pin_needed) {
		claim_submit(x);
		return;
	}
	x->pin.brand_id = info.brand.id;
	x->pin.serial = info.serial;
	x->pin.customer_id = cu.id;
	x->pin.day = (uint32_t)loyalty_day(now);
	x->pin.right = right;
	x->job.kind = WRITER_OP;
	x->job.op = &reward_pin_op;
	x->job.op_arg = &x->pin;
	x->job.done = pin_done;
	x->job.arg = x;
	if (writer_submit(app->writer, &x->job) != 0) {
		free(x);
		busy(c);
	}
}
