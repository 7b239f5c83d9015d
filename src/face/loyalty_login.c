/*
 * loyalty_login.c - phone login over HTTP: POST /api/v1/customers/otp
 * sends a one-time code, POST /api/v1/customers/verify checks it and
 * makes the device cookie the customer's session (a new cookie when the
 * phone has none yet).
 *
 * The brand is the one whose code was scanned ("code", looked up) or
 * one named ("brand"). The rules (limits, the code's life, the outbox or
 * SMS gateway) are otp.c's, the customer and the session customer.c's:
 * this file parses, asks them and replies. A phone or a code never
 * reaches a reply unmasked, nor the log.
 *
 * Both end in a writer op (http_write): the code stored (otp_send_op;
 * the SMS goes out from the reply, once it is), or the guess checked and
 * the login made (customer_login_op, with the consents it carries
 * recorded by the same job: login_consent_op); the answer follows the
 * commit. While the brand has a privacy notice both must acknowledge
 * its current version (consent.h, http_loyalty_notice_ack).
 *
 * Owns the two handlers. May call the domain (otp, customer, lookup,
 * scan for the cookie), http, http_write and http_loyalty.c. Never calls
 * another handler, never writes to the store on the loop: every write is
 * a writer op.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "sigil/app.h"
#include "sigil/campaign.h"
#include "sigil/code.h"
#include "sigil/consent.h"
#include "sigil/customer.h"
#include "sigil/http.h"
#include "sigil/http_write.h"
#include "sigil/log.h"
#include "sigil/lookup.h"
#include "sigil/loyalty.h"
#include "sigil/loyalty_core.h"
#include "sigil/loyalty_util.h"
#include "sigil/otp.h"
#include "sigil/page.h"
#include "sigil/scan.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "sigil/writer.h"
#include "http_loyalty.h"

/*
 * The brand a login is about: from "code" (a code or code URL the device
 * scanned) or "brand" (a name). 0, or -1 after replying.
 */
static int
brand_of(struct http_call *c, const char *code, const char *name,
    struct brand *b)
{
	struct app *app = c->app;
	struct code_info info;

	if (code != NULL) {
		int err = strlen(code) > CODE_URL_MAX ? SIGIL_EINVAL :
		    lookup_code(app, code, &info);

		if (err == SIGIL_EINVAL) {
			http_reply_error(c, 422, "bad_code",
			    "not a sigil code or code URL");
			return -1;
		}
		if (err != 0) {
			http_reply_error(c, 404, "unknown_code",
			    "this code was not issued by any brand here");
			return -1;
		}
		*b = info.brand;
		return 0;
	}
	if (name != NULL && strlen(name) <= STORE_NAME_BYTES &&
	    store_brand_find(app->store, name, b) == 0)
		return 0;
	http_reply_error(c, name ? 404 : 422, name ? "unknown_brand" :
	    "invalid", name ? "no such brand" : "send the scanned 'code' "
	    "(or a 'brand' name)");
	return -1;
}

/* A login request: the phone, its hash and the brand; who asks. */
struct login {
	char			phone[LOYALTY_PHONE_MAX + 1];
	uint8_t			phash[32];
	struct brand		b;
	struct otp_client	who;
};

/*
 * The JSON body of a login request, its phone and brand (by code or
 * name) read into l: the body (the caller decrefs it), or NULL after
 * replying.
 */
static json_t *
login_start(struct http_call *c, struct login *l)
{
	json_t *body;

	l->who.addr = c->client;
	l->who.text = c->client_text;
	if ((body = http_loyalty_body(c)) == NULL)
		return NULL;
	if (loyalty_phone_normalise(json_string_value(json_object_get(body,
	    "phone")), l->phone) != 0) {
		json_decref(body);
		http_reply_error(c, 422, "bad_phone", "'phone' must be a phone "
		    "number of 6 to 15 digits (+86 optional)");
		return NULL;
	}
	if (brand_of(c, json_string_value(json_object_get(body, "code")),
	    json_string_value(json_object_get(body, "brand")), &l->b) != 0) {
		json_decref(body);
		return NULL;
	}
	customer_phone_hash(c->app, l->phone, l->phash);
	return body;
}

/* The refusals of both endpoints (otp.c's results; OTP_WRONG aside). */
static const struct loyalty_refusal refusals[] = {
	{ OTP_TOO_SOON, 429, 1, "otp_too_soon",
	    "a code was sent less than a minute ago" },
	{ OTP_DAILY_LIMIT, 429, 1, "otp_daily_limit",
	    "too many codes for this phone today" },
	{ OTP_SEND_LIMIT, 429, 1, "rate_limited",
	    "too many codes requested from this address" },
	{ OTP_BRAND_LIMIT, 429, 1, "rate_limited",
	    "too many codes sent for this brand this hour; try again later" },
	{ OTP_NO_RANDOM, 503, 0, "unavailable", "no randomness" },
	{ OTP_SEND_FAILED, 503, 0, "unavailable",
	    "the code could not be sent; try again" },
	{ OTP_GUESS_LIMIT, 429, 1, "rate_limited",
	    "too many attempts from this address" },
	{ OTP_NONE, 401, 0, "otp_invalid",
	    "no code is pending for this phone; request one" },
	{ OTP_LOCKED, 429, 1, "otp_locked",
	    "too many wrong codes; request a new one" },
	{ OTP_EXPIRED, 401, 0, "otp_expired",
	    "the code has expired; request a new one" },
	{ 0, 503, 0, "unavailable", "try again" },
	{ 0 }
};

/* A code on its way: the send, and the phone for the notifier. */
struct send_job {
	struct otp_send	s;
	char		phone[LOYALTY_PHONE_MAX + 1];
};

static void
otp_sent(struct http_call *c, void *arg, int err)
{
	struct app *app = c->app;
	struct send_job *x = arg;
	char masked[32];

	if (http_loyalty_busy(c, err))
		return;
	otp_send_finish(app, &x->s, x->phone, err);
	if (http_loyalty_refuse(c, x->s.out.result, x->s.out.retry_us,
	    refusals))
		return;
	loyalty_phone_mask(x->phone, masked, sizeof masked);
	http_reply_jsont(c, 202, json_pack("{s:b,s:s,s:I}", "sent", 1, "phone",
	    masked, "expires_in", (json_int_t)(app->loyalty->otp_ttl_us /
	    US_PER_S)));
}

void
loyalty_otp(struct http_call *c)
{
	struct send_job x;
	struct login l;
	json_t *body;

	uint32_t version;

	if ((body = login_start(c, &l)) == NULL)
		return;
	/* The notice was shown before the phone was asked for. */
	if (http_loyalty_notice_ack(c, l.b.id, json_object_get(body,
	    "notice_version"), &version) != 0) {
		json_decref(body);
		OPENSSL_cleanse(&l, sizeof l);
		return;
	}
	json_decref(body);
	otp_send_prepare(c->app, l.b.id, l.phash, &l.who, sigil_now_us(),
	    &x.s);
	if (http_loyalty_refuse(c, x.s.out.result, x.s.out.retry_us,
	    refusals)) {
		OPENSSL_cleanse(&x, sizeof x);
		return;
	}
	memcpy(x.phone, l.phone, sizeof x.phone);
	http_write(c, &otp_send_op, &x, sizeof x, otp_sent);
	OPENSSL_cleanse(&x, sizeof x);
}

/* Sets the cookie of a device new to this phone (the session from now). */
static void
cookie_set(struct http_call *c, uint64_t device)
{
	struct app *app = c->app;
	char cookie[SCAN_COOKIE_LEN + 1], header[160];

	scan_cookie_make(app->cookie_key, device, cookie);
	snprintf(header, sizeof header, "%s=%s; Path=/; Max-Age=63072000; "
	    "HttpOnly; SameSite=Lax%s", SCAN_COOKIE_NAME, cookie,
	    app->secure_cookies ? "; Secure" : "");
	http_add_header(c, "Set-Cookie", header);
}

/*
 * A login on its way: the op's argument, and what the answer shows. The
 * consent (service, and what was ticked) is recorded by the same op once
 * the login succeeded: consent_err is its result.
 */
struct verify_job {
	struct customer_login	l;
	char			phone[LOYALTY_PHONE_MAX + 1];
	int			fresh;		/* device new: set its cookie */
	struct consent_record	consent;
	int			consent_err;
};

static int
login_consent_run(struct store *st, void *arg)
{
	struct verify_job *x = arg;
	int err = customer_login_op.run(st, &x->l);

	if (err != 0 || x->l.guess.out.result != OTP_OK || x->l.cu.id == 0 ||
	    x->consent.grant == 0)
		return err;
	x->consent.customer_id = x->l.cu.id;
	x->consent_err = store_consent_record(st, &x->consent);
	return 0;
}

static const struct writer_op login_consent_op = { "customer_login",
    login_consent_run };

static void
verified(struct http_call *c, void *arg, int err)
{
	struct verify_job *x = arg;
	const struct otp_outcome *out = &x->l.guess.out;
	uint32_t brand_id = x->l.guess.brand_id;
	char masked[32];
	int64_t bonus = 0;

	if (http_loyalty_busy(c, err))
		return;
	if (err == 0 && out->result == OTP_WRONG) {
		http_reply_jsont(c, 401, json_pack("{s:{s:s,s:s,s:i}}", "error",
		    "code", "otp_wrong", "message", "wrong code", "tries_left",
		    (int)out->tries_left));
		return;
	}
	if (err == 0 && http_loyalty_refuse(c, out->result, out->retry_us,
	    refusals))
		return;
	if (err == SIGIL_ECONFLICT) {
		http_reply_error(c, 409, "merge_conflict", "this phone's "
		    "account is already linked to another WeChat account of "
		    "this app: nothing was merged");
		return;
	}
	if (err != 0) {
		log_error("login", "brand=%u err=\"%s\"", brand_id,
		    sigil_strerror(err));
		http_reply_error(c, 503, "unavailable", "try again");
		return;
	}
	if (x->l.device == 0) {
		http_reply_error(c, 503, "unavailable", "no randomness");
		return;
	}
	if (x->fresh)
		cookie_set(c, x->l.device);
	log_info("login", "brand=%u customer=%llu new=%d bound=%d merged=%llu "
	    "consent=%u", brand_id, (unsigned long long)x->l.cu.id,
	    x->l.created, x->l.bound, (unsigned long long)x->l.merged,
	    x->consent_err == 0 ? x->consent.grant : 0);
	if (x->consent_err != 0)
		log_error("consent", "brand=%u customer=%llu err=%s", brand_id,
		    (unsigned long long)x->l.cu.id,
		    sigil_strerror(x->consent_err));
	loyalty_phone_mask(x->phone, masked, sizeof masked);
	for (size_t i = 0; i < x->l.nbonus; i++)
		if (!x->l.bonus[i].dropped)
			bonus += x->l.bonus[i].points;
	http_reply_jsont(c, 200, json_pack("{s:{s:I,s:s},s:b,s:b,s:o,s:I}",
	    "customer", "id", (json_int_t)x->l.cu.id, "phone", masked,
	    "created", x->l.created, "bound", x->l.bound, "merged",
	    x->l.merged ? json_integer((json_int_t)x->l.merged) :
	    json_null(), "registration_bonus", (json_int_t)bonus));
}

/*
 * The device the login makes the session: the cookie's, or a new one
 * (*fresh set). 0 when none could be drawn: the login then makes the
 * customer, links nothing and answers 503, as it always did.
 */
static uint64_t
login_device(struct http_call *c, int *fresh)
{
	uint64_t device;

	*fresh = 0;
	if (http_loyalty_device(c->app, c, &device) == 0)
		return device;
	*fresh = 1;
	device = 0;
	while (device == 0)
		if (sigil_random(&device, sizeof device) != 0)
			return 0;
	return device;
}

/*
 * What a verify agrees to: the notice version it acknowledges (checked
 * as the OTP request's), "service" always (the login is the service
 * asked for) and the purposes in "grant" the consumer ticked; "channel"
 * page or member (default sms_login). 0, or -1 after replying.
 */
static int
verify_consent(struct http_call *c, uint32_t brand_id, json_t *body,
    struct consent_record *r)
{
	json_t *ch = json_object_get(body, "channel");
	const char *lang = json_string_value(json_object_get(body, "lang"));

	if (consent_purposes_parse(json_object_get(body, "grant"),
	    &r->grant) != 0) {
		http_reply_error(c, 422, "invalid", "'grant' is an array of "
		    "\"service\", \"marketing\", \"profile\"");
		return -1;
	}
	r->channel = ch == NULL ? CONSENT_CH_SMS_LOGIN :
	    (uint8_t)consent_channel_parse(json_string_value(ch));
	if (r->channel == 0) {
		http_reply_error(c, 422, "invalid", "'channel' is one of page, "
		    "member, sms_login, wechat, miniprogram");
		return -1;
	}
	if (http_loyalty_notice_ack(c, brand_id, json_object_get(body,
	    "notice_version"), &r->notice_version) != 0)
		return -1;
	r->grant |= CONSENT_SERVICE;
	r->brand_id = brand_id;
	r->at = sigil_now_us();
	r->lang = (uint8_t)(consent_lang_parse(lang) ? consent_lang_parse(lang)
	    : page_lang_pick(http_header(c, "Accept-Language")) ==
	    PAGE_LANG_EN ? CONSENT_LANG_EN : CONSENT_LANG_ZH);
	return 0;
}

void
loyalty_verify(struct http_call *c)
{
	struct app *app = c->app;
	struct verify_job x;
	struct login l;
	const char *otp;
	int err;
	json_t *body;

	if ((body = login_start(c, &l)) == NULL)
		return;
	memset(&x, 0, sizeof x);
	if (verify_consent(c, l.b.id, body, &x.consent) != 0) {
		json_decref(body);
		return;
	}
	otp = json_string_value(json_object_get(body, "otp"));
	if (otp == NULL || strlen(otp) != OTP_DIGITS ||
	    strspn(otp, "0123456789") != OTP_DIGITS) {
		json_decref(body);
		http_reply_error(c, 422, "invalid", "'otp' must be the 6-digit "
		    "code");
		return;
	}
	otp_guess_prepare(app, l.b.id, l.phash, otp, &l.who, sigil_now_us(),
	    &x.l.guess);
	json_decref(body);
	if (http_loyalty_refuse(c, x.l.guess.out.result,
	    x.l.guess.out.retry_us, refusals))
		return;
	x.l.nbonus = campaign_registration_credits(app, l.b.id, sigil_now_us(),
	    x.l.bonus, STORE_REG_BONUS_MAX, &x.l.bonus_expires);
	if ((err = customer_login_prepare(app, l.b.id, l.phone, &x.l)) != 0) {
		log_error("login", "brand=%u err=\"%s\"", l.b.id,
		    sigil_strerror(err));
		http_reply_error(c, 503, "unavailable", "try again");
		return;
	}
	x.l.device = login_device(c, &x.fresh);
	memcpy(x.phone, l.phone, sizeof x.phone);
	http_write(c, &login_consent_op, &x, sizeof x, verified);
	OPENSSL_cleanse(&x, sizeof x);
}
