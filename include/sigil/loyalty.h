/*
 * loyalty.h - customers and scan-to-earn over HTTP (SPEC §6): phone login
 * by one-time code, campaigns, claims with the hidden PIN, the ledger,
 * tiers and RFM segments, the redemption catalog, feedback, and PIPL
 * export and erasure. Storage is store.h's; this is the policy.
 */
#ifndef SIGIL_LOYALTY_H
#define SIGIL_LOYALTY_H

#include <stddef.h>
#include <stdint.h>

#include "sigil/store.h"

struct app;
struct http_call;
struct json_t;

/* ---- start-up ---- */

#define LOYALTY_SMS_SECRET_MAX	256

struct loyalty_config {
	const char	*data_dir;	/* DATA/otp-outbox.log lives here */
	const char	*web_dir;	/* member.html */
	const char	*sms_webhook;	/* http(s)://host:port/path, or NULL:
					   demo; checked with
					   webhook_target_check first */
	const char	*sms_secret;	/* HMAC key for the gateway requests,
					   needed with sms_webhook */
	unsigned	otp_ttl_s;	/* 0: 300 (tests shorten it) */
	unsigned	otp_per_hour;	/* codes sent per brand per hour; 0: 1000 */
	int		rate_flags;	/* RATELIMIT_V6_56 or 0 */
};

/*
 * Loads the "phone-hash" and "phone-enc" secrets (created on first use),
 * the member page and the notifier; sets app->loyalty. Call once before
 * serving. 0, SIGIL_EINVAL (bad SMS gateway URL or no secret),
 * SIGIL_ENOTFOUND (no member.html), SIGIL_EIO, SIGIL_ENOMEM. The gateway
 * is reached through app->egress, which must be set before serving.
 */
int loyalty_init(struct app *app, const struct loyalty_config *cfg);
void loyalty_fini(struct app *app);

/* ---- consumer endpoints (the device cookie is the session) ---- */
void loyalty_otp(struct http_call *c);		/* POST /api/v1/customers/otp */
void loyalty_verify(struct http_call *c);	/* POST /api/v1/customers/verify */
void loyalty_claim(struct http_call *c);	/* POST /api/v1/claims */
void loyalty_me(struct http_call *c);		/* GET /api/v1/me */
void loyalty_me_ledger(struct http_call *c);	/* GET /api/v1/me/ledger */
void loyalty_redeem(struct http_call *c);	/* POST /api/v1/redemptions */
void loyalty_catalog(struct http_call *c);	/* GET /api/v1/catalog */
void loyalty_feedback(struct http_call *c);	/* POST /api/v1/feedback */
void loyalty_reward(struct http_call *c);	/* GET /api/v1/reward?scan= */
void loyalty_member_page(struct http_call *c);	/* GET /member */

/*
 * What the scan JSON says under "reward" for this code and device: the
 * campaign that applies (points per role, PIN needed), which roles have
 * claimed, and whether the device is logged in. A new jansson object.
 */
struct json_t *loyalty_reward_json(struct app *app, uint32_t brand_id,
    uint64_t batch_id, const char *sku, uint64_t serial, uint64_t device);

/*
 * 1 when a consumer has claimed (brand_id, serial) and device is not one
 * of that customer's devices: a scan after another customer claimed is a
 * clone signal (SPEC §4). Reads only; 0 on any error.
 */
int loyalty_claimed_by_other(struct app *app, uint32_t brand_id,
    uint64_t serial, uint64_t device);

/* ---- brand API: /api/v1/campaigns, customers, catalog/items, settings */
struct loyalty_api {
	struct http_call	*c;
	struct app		*app;
	uint32_t		brand_id;
	int			role;		/* enum token_role */
	int			method;		/* enum evhttp_cmd_type */
	char			**seg;		/* path segments after /api/v1/ */
	int			nseg;
	uint32_t		actor;		/* token id, or 1<<31 | user id */
};

/* 1 when the path is one of ours (a reply was sent), 0 otherwise. */
int loyalty_api_route(struct loyalty_api *a);

/* ---- pure helpers (unit-tested) ---- */
#define LOYALTY_PHONE_MAX	15	/* digits, E.164 without '+' */

/*
 * Normalises a phone number: blanks, '-', '(' and ')' dropped, an optional
 * leading '+' or "00"; 11 digits starting with 1 are mainland mobiles and
 * get 86 in front. 6 to 15 digits result, else SIGIL_EINVAL.
 */
int loyalty_phone_normalise(const char *in, char out[LOYALTY_PHONE_MAX + 1]);
/* "138****1234" for 86 numbers, "+44 79****1234"-style otherwise. */
void loyalty_phone_mask(const char *normalised, char *out, size_t size);

/*
 * AES-256-GCM with a random 12-byte nonce, brand_id as associated data:
 * out = nonce || ciphertext || tag (len + 28 bytes, at most size).
 */
int loyalty_seal(const uint8_t key[32], uint32_t brand_id, const char *text,
    uint8_t *out, size_t size, size_t *out_len);
/* Opens what loyalty_seal made into text (size bytes). SIGIL_EFORGED. */
int loyalty_open(const uint8_t key[32], uint32_t brand_id, const uint8_t *in,
    size_t len, char *text, size_t size);

/*
 * Validates a campaign configuration strictly (unknown keys, types,
 * ranges, dates, odds summing above 1) and returns it re-serialised in
 * canonical form (malloc'd) in *out. On SIGIL_EINVAL, err says why.
 */
int loyalty_campaign_check(const char *json, char **out, char *err,
    size_t errsize);

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

#endif
