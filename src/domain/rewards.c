/*
 * rewards.c - what a code's reward is and who may claim it.
 *
 * A claim is decided in two steps. First what needs no history, here
 * and in the claim endpoint (src/face/loyalty_claim.c): the caller is
 * logged in, this device scanned this code, a running campaign rewards
 * it for the role, the hidden PIN is right (with its locks: see
 * rewards.h), the scan is inside the campaign's territory; the prize is
 * drawn. Then the store, in the writer's transaction, enforces what
 * needs history and could race: one claim per code per role, the
 * budget, the daily cap, the prize stock (store_claims_commit).
 *
 * The same campaign rules drive the "reward" part of the scan page
 * (loyalty_reward_json), and a code claimed by one customer and then
 * scanned by a phone that is none of hers is a clone signal
 * (loyalty_claimed_by_other), which the consumer scan path records.
 *
 * A PIN try goes through the writer (reward_pin_op): its locks are
 * judged there against the counts as they stand after every try queued
 * before it, and a wrong one is counted there, so that tries sent at
 * once cannot get past the locks together.
 *
 * Owns these rules. May call store (reads; the wrong-PIN count on the
 * writer thread), campaign, member, lookup (territories), geo, keyring,
 * code (the PIN), log and util. Never knows about HTTP, never writes to
 * the store on the loop: every write is a writer op's.
 */
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "sigil/app.h"
#include "sigil/campaign.h"
#include "sigil/cash.h"
#include "sigil/code.h"
#include "sigil/geo.h"
#include "sigil/keyring.h"
#include "sigil/log.h"
#include "sigil/lookup.h"
#include "sigil/loyalty_util.h"
#include "sigil/member.h"
#include "sigil/rewards.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "sigil/writer.h"

/* ---- what the consumer scan page shows ---- */

struct claimed_ctx {
	json_t		*roles;
	uint64_t	consumer;	/* customer id of the consumer claim */
};

static int
claimed_one(void *arg, const struct claim *cl)
{
	struct claimed_ctx *x = arg;

	if (cl->role > 0 && cl->role < 4)
		json_array_append_new(x->roles, json_string(
		    loyalty_role_name(cl->role)));
	if (cl->role == CLAIM_CONSUMER)
		x->consumer = cl->customer_id;
	return 0;
}

json_t *
loyalty_reward_json(struct app *app, uint32_t brand_id, uint64_t batch_id,
    const char *sku, uint64_t serial, uint64_t device)
{
	const struct campaign_rules *camp = campaign_find(app, brand_id,
	    batch_id, sku, 0, sigil_now_us());
	struct claimed_ctx x = { NULL, 0 };
	json_t *o, *roles;
	uint64_t cid = 0;
	struct pin_fails pf = { 0 };
	int64_t now = sigil_now_us();
	char ts[SIGIL_TIME_LEN + 1];

	if (camp == NULL)
		return json_null();
	roles = json_object();
	for (int r = 1; r < 4; r++)
		if (camp->points[r] > 0)
			json_object_set_new(roles, loyalty_role_name(r),
			    json_integer(camp->points[r]));
	x.roles = json_array();
	store_code_claims(app->store, brand_id, serial, claimed_one, &x);
	if (camp->require_pin) {
		if (device == 0 || store_device_customer(app->store, brand_id,
		    device, &cid) != 0)
			cid = 0;
		store_pin_fails(app->store, brand_id, serial, cid,
		    (uint32_t)loyalty_day(now), &pf);
	}
	/* locked: no PIN can be tried here now (the code's or this one's). */
	o = json_pack("{s:i,s:s,s:I,s:o,s:b,s:b,s:s,s:o}", "campaign",
	    (int)camp->id, "name", camp->name, "points",
	    (json_int_t)camp->points[CLAIM_CONSUMER], "roles", roles,
	    "require_pin", camp->require_pin, "locked",
	    reward_pin_lock(&pf) != REWARD_OK, "ends",
	    sigil_time_format(camp->ends, ts),
	    "claimed", x.roles);
	if (camp->has_cash) {
		int64_t lo, hi;

		/* "扫码领红包": the page says what a red packet may hold */
		cash_range(camp, &lo, &hi);
		json_object_set_new(o, "cash", json_pack("{s:I,s:I}", "min_fen",
		    (json_int_t)lo, "max_fen", (json_int_t)hi));
	}
	if (device != 0 && store_device_customer(app->store, brand_id, device,
	    &cid) == 0) {
		json_object_set_new(o, "logged_in", json_true());
		json_object_set_new(o, "balance", json_integer(
		    member_balance(app, brand_id, cid)));
	} else
		json_object_set_new(o, "logged_in", json_false());
	return o;
}

int
loyalty_claimed_by_other(struct app *app, uint32_t brand_id, uint64_t serial,
    uint64_t device)
{
	struct claim cl;
	uint64_t cid;

	if (store_claim_get(app->store, brand_id, serial, CLAIM_CONSUMER, &cl)
	    != 0)
		return 0;
	return store_device_customer(app->store, brand_id, device, &cid) != 0 ||
	    cid != cl.customer_id;
}

/* ---- the rules of a claim ---- */

struct scanned_by {
	uint64_t		device;
	struct reward_scan	*out;
};

static int
scanned_one(void *arg, const struct scan_rec *r)
{
	struct scanned_by *s = arg;

	if (r->device != s->device || (r->flags & SCAN_BOT))
		return 0;
	s->out->found = 1;
	s->out->at = r->at;
	s->out->anon = (r->flags & SCAN_ANON) != 0;
	if (r->flags & SCAN_HAS_LOC) {
		s->out->located = 1;
		s->out->lat = r->lat;
		s->out->lng = r->lng;
	}
	return 0;
}

void
reward_scanned_by(struct app *app, uint32_t brand_id, uint64_t serial,
    uint64_t device, struct reward_scan *out)
{
	struct scanned_by s = { device, out };

	memset(out, 0, sizeof *out);
	store_code_scans(app->store, brand_id, serial, scanned_one, &s);
}

int
reward_where(struct app *app, uint32_t brand_id,
    const struct campaign_rules *camp, const struct reward_scan *scan)
{
	const struct territory *t;

	if (camp->territory == 0)
		return REWARD_OK;
	t = lookup_territory(app, brand_id, camp->territory);
	if (!scan->located)
		return REWARD_UNLOCATED;
	if (t == NULL || t->area == NULL ||
	    !geo_area_contains(t->area, scan->lat, scan->lng))
		return REWARD_OUTSIDE;
	return REWARD_OK;
}

int
reward_pin_lock(const struct pin_fails *pf)
{
	if (pf->code >= STORE_PIN_CODE_TRIES)
		return REWARD_PIN_CODE_LOCKED;
	if (pf->mine >= STORE_PIN_TRIES)
		return REWARD_PIN_MINE_LOCKED;
	if (pf->today >= STORE_PIN_DAY_TRIES)
		return REWARD_PIN_DAY_LOCKED;
	return REWARD_OK;
}

uint32_t
reward_pin_tries_left(const struct pin_fails *pf)
{
	uint32_t mine = pf->mine < STORE_PIN_TRIES ?
	    STORE_PIN_TRIES - pf->mine : 0;
	uint32_t today = pf->today < STORE_PIN_DAY_TRIES ?
	    STORE_PIN_DAY_TRIES - pf->today : 0;
	uint32_t code = pf->code < STORE_PIN_CODE_TRIES ?
	    STORE_PIN_CODE_TRIES - pf->code : 0;

	return mine < today ? (mine < code ? mine : code) :
	    (today < code ? today : code);
}

int
reward_pin_check(struct app *app, const struct code_info *info,
    const char *pin)
{
	struct code_key key;
	int err;

	if (keyring_key_get(app->keyring, info->batch.key_id, &key, NULL) != 0)
		return SIGIL_ENOTFOUND;
	err = code_pin_check(&key, info->serial, pin);
	OPENSSL_cleanse(&key, sizeof key);
	return err != 0 ? SIGIL_EFORGED : 0;
}

/* The writer thread: the counts as they are now, then the try. */
static int
pin_run(struct store *st, void *arg)
{
	struct reward_pin_try *x = arg;
	int err;

	memset(&x->pf, 0, sizeof x->pf);
	if (store_pin_fails(st, x->brand_id, x->serial, x->customer_id, x->day,
	    &x->pf) == 0 && (x->lock = reward_pin_lock(&x->pf)) != REWARD_OK)
		return 0;
	x->lock = REWARD_OK;
	if (x->right)
		return 0;
	if ((err = store_pin_fail(st, x->brand_id, x->serial, x->customer_id,
	    x->day, &x->pf)) != 0)
		return err;
	x->counted = 1;
	return 0;
}

const struct writer_op reward_pin_op = { "pin_try", pin_run };

void
reward_pin_tried(const struct reward_pin_try *x)
{
	if (x->counted)
		log_info("pin_wrong", "brand=%u serial=%llu customer=%llu "
		    "mine=%u today=%u code=%u", x->brand_id,
		    (unsigned long long)x->serial,
		    (unsigned long long)x->customer_id, x->pf.mine,
		    x->pf.today, x->pf.code);
}

/* Uniform in [0, 1) from 53 random bits. */
static int
draw_uniform(double *out)
{
	uint64_t r;

	if (sigil_random(&r, sizeof r) != 0)
		return SIGIL_ECRYPTO;
	*out = (double)(r >> 11) / 9007199254740992.0;
	return 0;
}

int
reward_claim_make(const struct campaign_rules *camp,
    const struct code_info *info, int role, uint64_t customer_id,
    int64_t now, struct claim *cl, struct claim_limits *lim)
{
	memset(cl, 0, sizeof *cl);
	memset(lim, 0, sizeof *lim);
	cl->brand_id = info->brand.id;
	cl->serial = info->serial;
	cl->role = role;
	cl->customer_id = customer_id;
	cl->campaign_id = camp->id;
	cl->points = camp->points[role];
	cl->prize = -1;
	cl->at = now;
	cl->expires_at = camp->expiry_days ? now +
	    (int64_t)camp->expiry_days * US_PER_DAY : 0;
	if (camp->nprizes > 0) {
		double u, acc = 0;

		if (draw_uniform(&u) != 0)
			return SIGIL_ECRYPTO;
		for (int i = 0; i < camp->nprizes; i++) {
			acc += camp->odds[i];
			if (u < acc) {
				cl->prize = i;
				break;
			}
		}
	}
	lim->budget = camp->budget;
	lim->daily_cap = camp->daily_cap;
	lim->day_start = loyalty_day_start(now);
	lim->nprizes = camp->nprizes;
	memcpy(lim->prize_stock, camp->stock, sizeof lim->prize_stock);
	return 0;
}
