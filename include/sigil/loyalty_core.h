/*
 * loyalty_core.h - what every loyalty module shares (domain layer): the
 * programme's process state (app->loyalty) and its start-up, China days,
 * the claim role names and the JSON field checks of the configuration
 * parsers. The modules themselves: customer.h (identity), otp.h (phone
 * login codes), campaign.h, rewards.h (claims and PINs), member.h
 * (ledger, tiers, segments), privacy.h (export, erasure); the HTTP side
 * is loyalty.h.
 */
#ifndef SIGIL_LOYALTY_CORE_H
#define SIGIL_LOYALTY_CORE_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

struct app;
struct campaign_cache;
struct json_t;
struct ratelimit;
struct webhook_url;

/* Days are China days (UTC+8): daily caps, OTP and PIN counts, bare
 * campaign dates. (accounts.c spells these the same way.) */
#define US_PER_S		1000000LL
#define US_PER_DAY		(86400LL * US_PER_S)
#define CN_OFFSET_US		(8 * 3600LL * US_PER_S)

/* The most entries one list reply holds (campaigns, customers, items). */
#define LOYALTY_LIST_MAX	1000
/* 10^12: the bound of budgets, item costs and stocks, tier thresholds. */
#define LOYALTY_AMOUNT_MAX	1000000000000LL

/* The China day number of now, and the UTC instant that day began. */
int64_t loyalty_day(int64_t now);
int64_t loyalty_day_start(int64_t now);

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
 * The state, app->loyalty. Set once by loyalty_init and read-only after
 * that, except the rate buckets (taken by the endpoints) and the
 * campaign cache (campaign.c's); all of it is used on the event loop
 * thread only, so nothing here needs a lock.
 */
struct loyalty {
	uint8_t		hash_key[32];	/* keyring "phone-hash": lookups */
	uint8_t		enc_key[32];	/* keyring "phone-enc": phones kept */
	char		outbox[PATH_MAX];	/* demo SMS gateway (otp.c) */
	struct webhook_url *sms;	/* --sms-webhook, or NULL: demo */
	char		sms_secret[LOYALTY_SMS_SECRET_MAX + 1];
	int64_t		otp_ttl_us;
	/* per client: code sends, code guesses, wrong PINs; per brand:
	 * code sends; per actor of the brand API: phone searches */
	struct ratelimit *send, *guess, *pin, *brand_send, *phone_search;
	struct campaign_cache *camps;
	char		*member_html;	/* web/member.html, served as is */
	size_t		member_len;
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

/* ---- claim roles: 1 consumer, 2 retailer, 3 sales (enum claim_role) */

/* The role named s, or 0 when s (which may be NULL) names none. */
int loyalty_role_parse(const char *s);
/* "consumer", "retailer" or "sales"; NULL for anything else. */
const char *loyalty_role_name(int role);

/* ---- JSON field checks of the configuration parsers ---- */

/* 1 when v is an integer in [lo, hi]. */
int loyalty_int_in(struct json_t *v, int64_t lo, int64_t hi);
/*
 * 1 when v is a name of 1 to max characters (sigil_text_check: code
 * points, no control or bidi control characters). When it is not and
 * err is given, err says so, naming field.
 */
int loyalty_name_ok(struct json_t *v, size_t max, const char *field,
    char *err, size_t esize);

#endif
