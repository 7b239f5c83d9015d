/*
 * loyalty_core.h - the loyalty programme's process state (domain layer):
 * struct loyalty (app->loyalty) and its start-up. The modules: customer.h
 * (identity), otp.h (phone login codes), campaign.h, rewards.h (claims
 * and PINs), member.h (ledger, tiers, segments), privacy.h (export,
 * erasure), loyalty_util.h (what they all use); the HTTP side is
 * loyalty.h.
 */
#ifndef SIGIL_LOYALTY_CORE_H
#define SIGIL_LOYALTY_CORE_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

struct app;
struct campaign_cache;
struct ratelimit;
struct webhook_url;

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

#endif
