/*
 * loyalty_core.c - the loyalty programme's state and start-up (SPEC §6).
 *
 * The programme, by module (domain: the rules; face: the HTTP side):
 *   loyalty_util.c   China days, claim roles, JSON field checks
 *   customer.c       a customer's identity: phones normalised, sealed,
 *                    hashed and masked; the device that is the session
 *   otp.c            phone login by one-time code, and its outbox or
 *                    SMS gateway
 *   campaign.c       campaign configurations: strict checks, the
 *                    per-brand cache the claims read
 *   rewards.c        claims and PINs: what a code's reward is, who may
 *                    claim it
 *   member.c         a member's standing: ledger, balance, tier,
 *                    segment, the brand settings (tiers, staff roles),
 *                    catalog items
 *   privacy.c        PIPL export and erasure
 *   src/face/loyalty_*.c, http_loyalty.c   the consumer endpoints and
 *                    the brand API, and the helpers they share
 *
 * Identity. A phone is first the anonymous device of its signed sg_d
 * cookie. Phone login (one-time code) links that device to a customer of
 * the brand whose code was scanned; from then on the device cookie IS the
 * session (store_device_link), and the device's earlier scans belong to
 * the customer through that link. No second cookie to steal or forget.
 *
 * Money. The store, not these modules, enforces one claim per code per
 * role, the budget, the daily cap and prize stock, because LMDB
 * serialises writers and a check made before the write could race.
 * What is decided first is what needs no history (rewards.c).
 *
 * Writes. The loop only reads: every store write of these modules is a
 * writer op (writer.h) that the endpoints hand over with http_write, or
 * a claim job; the decisions, the buckets, the caches, the SMS and the
 * logs stay on the loop, before the op or in its reply. A limit the
 * store counts (a phone's codes, wrong guesses, wrong PINs) is checked
 * again by the op itself, so requests sent at once cannot pass it
 * together.
 *
 * Limits (src/ground/ratelimit.c; clients per IPv4 address or IPv6 /64),
 * made here and taken by the endpoints: code sends 5 then 1 a minute per
 * client, and per brand --otp-per-hour (burst and hourly rate) so SMS
 * pumping from many networks is bounded too; OTP guesses and wrong PINs
 * 20 then 1 every 3 s per client; phone searches of the brand API
 * PHONE_SEARCH_PER_HOUR per actor.
 *
 * Owns struct loyalty (app->loyalty): made by loyalty_init, freed by
 * loyalty_fini; everything runs on the event loop thread (the writer
 * ops touch only the store and their argument), so the caches and rate
 * buckets need no locks. May call keyring, ratelimit, webhook (URL
 * parsing), campaign.c (its cache) and util. Never knows about HTTP,
 * never writes to the store.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "sigil/app.h"
#include "sigil/campaign.h"
#include "sigil/keyring.h"
#include "sigil/loyalty_core.h"
#include "sigil/segment.h"
#include "sigil/loyalty_util.h"
#include "sigil/ratelimit.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "sigil/webhook.h"

#define OTP_TTL_DEFAULT		300
#define IP_SETS			4096	/* x RATELIMIT_WAYS clients */
#define MEMBER_PAGE_MAX		(64 * 1024)

#define SEND_BURST		5
#define SEND_PER_S		(1.0 / 60)
#define GUESS_BURST		20
#define GUESS_PER_S		(1.0 / 3)
#define OTP_BRAND_HOUR_DEFAULT	1000
#define PHONE_SEARCH_PER_HOUR	20

static int
member_load(struct loyalty *ly, const char *web_dir)
{
	char path[PATH_MAX];
	struct stat sb;
	ssize_t n;
	int fd, err = SIGIL_EIO;

	if (snprintf(path, sizeof path, "%s/member.html", web_dir) >=
	    (int)sizeof path)
		return SIGIL_EINVAL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? SIGIL_ENOTFOUND : SIGIL_EIO;
	if (fstat(fd, &sb) != 0 || sb.st_size <= 0 || sb.st_size >
	    MEMBER_PAGE_MAX)
		goto out;
	if ((ly->member_html = malloc((size_t)sb.st_size)) == NULL) {
		err = SIGIL_ENOMEM;
		goto out;
	}
	n = read(fd, ly->member_html, (size_t)sb.st_size);
	if (n != sb.st_size) {
		free(ly->member_html);
		ly->member_html = NULL;
		goto out;
	}
	ly->member_len = (size_t)n;
	err = 0;
out:
	close(fd);
	return err;
}

/* What loyalty_init may have made, freed (calloc'd ly: NULLs are fine). */
static void
state_free(struct loyalty *ly)
{
	free(ly->sms);
	ratelimit_free(ly->send);
	ratelimit_free(ly->guess);
	ratelimit_free(ly->pin);
	ratelimit_free(ly->brand_send);
	ratelimit_free(ly->phone_search);
	campaign_cache_free(ly->camps);
	free(ly->member_html);
	OPENSSL_cleanse(ly, sizeof *ly);
	free(ly);
}

int
loyalty_init(struct app *app, const struct loyalty_config *cfg)
{
	struct loyalty *ly;
	int err;

	if ((ly = calloc(1, sizeof *ly)) == NULL)
		return SIGIL_ENOMEM;
	ly->otp_ttl_us = (cfg->otp_ttl_s ? cfg->otp_ttl_s : OTP_TTL_DEFAULT) *
	    US_PER_S;
	if (snprintf(ly->outbox, sizeof ly->outbox, "%s/otp-outbox.log",
	    cfg->data_dir) >= (int)sizeof ly->outbox) {
		err = SIGIL_EINVAL;
		goto fail;
	}
	if (cfg->sms_webhook != NULL) {
		err = SIGIL_EINVAL;
		if (cfg->sms_secret == NULL ||
		    strlen(cfg->sms_secret) > LOYALTY_SMS_SECRET_MAX)
			goto fail;
		if ((ly->sms = malloc(sizeof *ly->sms)) == NULL) {
			err = SIGIL_ENOMEM;
			goto fail;
		}
		if (webhook_url_parse(cfg->sms_webhook, ly->sms) != 0)
			goto fail;
		snprintf(ly->sms_secret, sizeof ly->sms_secret, "%s",
		    cfg->sms_secret);
	}
	if ((err = ratelimit_new(IP_SETS, RATELIMIT_WAYS, SEND_PER_S,
	    SEND_BURST, cfg->rate_flags, &ly->send)) != 0 ||
	    (err = ratelimit_new(IP_SETS, RATELIMIT_WAYS, GUESS_PER_S,
	    GUESS_BURST, cfg->rate_flags, &ly->guess)) != 0 ||
	    (err = ratelimit_new(IP_SETS, RATELIMIT_WAYS, GUESS_PER_S,
	    GUESS_BURST, cfg->rate_flags, &ly->pin)) != 0 ||
	    (err = ratelimit_new(256, RATELIMIT_WAYS, (cfg->otp_per_hour ?
	    cfg->otp_per_hour : OTP_BRAND_HOUR_DEFAULT) / 3600.0,
	    cfg->otp_per_hour ? cfg->otp_per_hour : OTP_BRAND_HOUR_DEFAULT, 0,
	    &ly->brand_send)) != 0 ||
	    (err = ratelimit_new(1024, RATELIMIT_WAYS, PHONE_SEARCH_PER_HOUR /
	    3600.0, PHONE_SEARCH_PER_HOUR, 0, &ly->phone_search)) != 0)
		goto fail;
	if ((err = campaign_cache_new(&ly->camps)) != 0 ||
	    (err = keyring_secret(app->keyring, "phone-hash", 1,
	    ly->hash_key)) != 0 ||
	    (err = keyring_secret(app->keyring, "phone-enc", 1,
	    ly->enc_key)) != 0 ||
	    (err = member_load(ly, cfg->web_dir)) != 0)
		goto fail;
	segment_init(ly->enc_key);	/* segment.c's profile criteria */
	app->loyalty = ly;
	return 0;
fail:
	state_free(ly);
	return err;
}

void
loyalty_fini(struct app *app)
{
	if (app->loyalty == NULL)
		return;
	state_free(app->loyalty);
	app->loyalty = NULL;
}
