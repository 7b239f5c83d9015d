/*
 * loyalty_consent.c - the consumer's privacy endpoints: the brand's
 * notice (GET /api/v1/privacy/notice?brand=|code=&lang=), the member's
 * consents (GET and POST /api/v1/me/consents) and profile (GET and PUT
 * /api/v1/me/profile).
 *
 * The notice is public (a page shows it before anyone logs in). The
 * rest needs the device's login (http_loyalty_session). A consent
 * record names the notice version it answers: when the brand has a
 * notice, any other version is refused (409 notice_changed, with the
 * current one), so nobody agrees to a text they were not shown. A
 * profile is stored only with a current profile consent, which the
 * write's own transaction checks again (403 consent_required, nothing
 * stored); withdrawing that consent deletes the profile in the same
 * transaction. Every write is a writer op (http_write).
 *
 * A handler. May call consent, profile, content (the brand's name),
 * lookup, store (reads), http, http_write and http_loyalty.c. Never
 * logs a profile's value.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "sigil/app.h"
#include "sigil/code.h"
#include "sigil/consent.h"
#include "sigil/customer.h"
#include "sigil/http.h"
#include "sigil/http_write.h"
#include "sigil/log.h"
#include "sigil/lookup.h"
#include "sigil/loyalty.h"
#include "sigil/page.h"
#include "sigil/profile.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "sigil/writer.h"
#include "http_loyalty.h"

/* ?lang= when given (zh, zh-CN, en), else the Accept-Language's. */
static int
lang_of(struct http_call *c)
{
	char q[16];
	int l;

	if (http_loyalty_query(c, "lang", q, sizeof q) != NULL &&
	    (l = consent_lang_parse(q)) != 0)
		return l;
	return page_lang_pick(http_header(c, "Accept-Language")) ==
	    PAGE_LANG_EN ? CONSENT_LANG_EN : CONSENT_LANG_ZH;
}

void
loyalty_privacy_notice(struct http_call *c)
{
	struct app *app = c->app;
	char name[STORE_NAME_BYTES + 1], code[CODE_URL_MAX + 1];
	struct code_info info;
	struct brand b;
	json_t *o, *s;

	if (http_loyalty_query(c, "code", code, sizeof code) != NULL) {
		if (lookup_code(app, code, &info) != 0) {
			http_reply_error(c, 404, "unknown_code", "this code was "
			    "not issued by any brand here");
			return;
		}
		b = info.brand;
	} else if (http_loyalty_query(c, "brand", name, sizeof name) !=
	    NULL) {
		if (store_brand_find(app->store, name, &b) != 0) {
			http_reply_error(c, 404, "unknown_brand", "no such "
			    "brand");
			return;
		}
	} else {
		http_reply_error(c, 422, "invalid", "name the brand: ?brand= "
		    "or ?code=");
		return;
	}
	s = privacy_settings_json(app, b.id);
	o = consent_notice_for(app, b.id, lang_of(c));
	http_add_header(c, "Cache-Control", "no-store");
	http_reply_jsont(c, 200, json_pack("{s:s,s:o,s:O}", "brand", b.name,
	    "notice", o ? o : json_null(), "profile_fields",
	    json_object_get(s, "profile_fields")));
	json_decref(s);
}

/* ---- consents ---- */

static void
consents_reply(struct http_call *c, const struct brand *b,
    const struct customer *cu, int status)
{
	struct app *app = c->app;
	json_t *cur = consent_current(app, b->id, cu->id);
	json_t *hist = consent_history(app, b->id, cu->id);
	json_t *n = consent_notice_for(app, b->id, lang_of(c));

	if (cur == NULL || hist == NULL) {
		json_decref(cur);
		json_decref(hist);
		json_decref(n);
		http_reply_error(c, 503, "unavailable", "storage error; try "
		    "again");
		return;
	}
	http_add_header(c, "Cache-Control", "no-store");
	http_reply_jsont(c, status, json_pack("{s:s,s:I,s:o,s:o,s:o}",
	    "brand", b->name, "customer", (json_int_t)cu->id, "current", cur,
	    "history", hist, "notice", n ? n : json_null()));
}

void
loyalty_me_consents(struct http_call *c)
{
	struct customer cu;
	struct brand b;

	if (http_loyalty_session(c, &b, &cu) != 0)
		return;
	consents_reply(c, &b, &cu, 200);
}

/* A record on its way, and what the reply needs. */
struct record_job {
	struct consent_record	r;
	struct brand		b;
	struct customer		cu;
};

static void
recorded(struct http_call *c, void *arg, int err)
{
	struct record_job *x = arg;

	if (http_loyalty_busy(c, err))
		return;
	if (err == SIGIL_ESTATE || err == SIGIL_ENOTFOUND) {
		http_loyalty_login_required(c);
		return;
	}
	if (err != 0) {
		log_error("consent", "brand=%u customer=%llu err=%s",
		    x->r.brand_id, (unsigned long long)x->r.customer_id,
		    sigil_strerror(err));
		http_reply_error(c, 503, "unavailable", "storage error; try "
		    "again");
		return;
	}
	log_info("consent", "brand=%u customer=%llu grant=%u withdraw=%u "
	    "notice=%u", x->r.brand_id, (unsigned long long)x->r.customer_id,
	    x->r.grant, x->r.withdraw, x->r.notice_version);
	consents_reply(c, &x->b, &x->cu, 201);
}

void
loyalty_me_consents_post(struct http_call *c)
{
	struct record_job x;
	json_t *body, *ch;
	int channel;

	memset(&x, 0, sizeof x);
	if (http_loyalty_session(c, &x.b, &x.cu) != 0)
		return;
	if ((body = http_loyalty_body(c)) == NULL)
		return;
	if (consent_purposes_parse(json_object_get(body, "grant"),
	    &x.r.grant) != 0 || consent_purposes_parse(json_object_get(body,
	    "withdraw"), &x.r.withdraw) != 0 || (x.r.grant | x.r.withdraw) ==
	    0 || (x.r.grant & x.r.withdraw) != 0) {
		json_decref(body);
		http_reply_error(c, 422, "invalid", "'grant' and 'withdraw' "
		    "are arrays of \"service\", \"marketing\", \"profile\": "
		    "at least one purpose, none in both");
		return;
	}
	ch = json_object_get(body, "channel");
	channel = ch == NULL ? CONSENT_CH_MEMBER :
	    consent_channel_parse(json_string_value(ch));
	if (channel == 0) {
		json_decref(body);
		http_reply_error(c, 422, "invalid", "'channel' is one of page, "
		    "member, sms_login, wechat, miniprogram");
		return;
	}
	/* A withdrawal needs no notice: it is as easy as the consent. */
	if (x.r.grant != 0 && http_loyalty_notice_ack(c, x.b.id,
	    json_object_get(body, "notice_version"), &x.r.notice_version) !=
	    0) {
		json_decref(body);
		return;
	}
	if (x.r.grant == 0) {
		int64_t cur = consent_notice_current(c->app, x.b.id);

		x.r.notice_version = cur > 0 ? (uint32_t)cur : 0;
	}
	json_decref(body);
	x.r.brand_id = x.b.id;
	x.r.customer_id = x.cu.id;
	x.r.at = sigil_now_us();
	x.r.channel = (uint8_t)channel;
	x.r.lang = (uint8_t)lang_of(c);
	http_write(c, &consent_record_op, &x, sizeof x, recorded);
}

/* ---- profile ---- */

static void
profile_reply(struct http_call *c, const struct brand *b,
    const struct customer *cu, int status)
{
	struct app *app = c->app;
	json_t *p = profile_load(app, b->id, cu->id);
	json_t *s = privacy_settings_json(app, b->id);
	int g = consent_granted(app, b->id, cu->id, CONSENT_PROFILE);

	if (p == NULL || g < 0) {
		json_decref(p);
		json_decref(s);
		http_reply_error(c, 503, "unavailable", "storage error; try "
		    "again");
		return;
	}
	http_add_header(c, "Cache-Control", "no-store");
	http_reply_jsont(c, status, json_pack("{s:s,s:o,s:O,s:b}", "brand",
	    b->name, "profile", p, "fields", json_object_get(s,
	    "profile_fields"), "consent", g));
	json_decref(s);
}

void
loyalty_me_profile(struct http_call *c)
{
	struct customer cu;
	struct brand b;

	if (http_loyalty_session(c, &b, &cu) != 0)
		return;
	profile_reply(c, &b, &cu, 200);
}

struct profile_job {
	struct profile_write	w;
	struct brand		b;
	struct customer		cu;
};

/* The 403 of a profile sent without current 'profile' consent. */
static void
consent_required(struct http_call *c)
{
	http_reply_error(c, 403, "consent_required", "the profile is kept "
	    "only with your consent to 'profile' (POST /api/v1/me/consents)");
}

static void
profile_stored(struct http_call *c, void *arg, int err)
{
	struct profile_job *x = arg;

	if (http_loyalty_busy(c, err))
		return;
	if (err == SIGIL_EDENIED) {
		consent_required(c);
		return;
	}
	if (err == SIGIL_ESTATE || err == SIGIL_ENOTFOUND) {
		http_loyalty_login_required(c);
		return;
	}
	if (err != 0) {
		http_reply_error(c, 503, "unavailable", "storage error; try "
		    "again");
		return;
	}
	log_info("profile", "brand=%u customer=%llu stored=%d", x->w.brand_id,
	    (unsigned long long)x->w.customer_id, x->w.len > 0);
	profile_reply(c, &x->b, &x->cu, 200);
}

void
loyalty_me_profile_put(struct http_call *c)
{
	struct profile_job *x;
	json_t *body, *p = NULL;
	char msg[256];
	int rc;

	if ((x = calloc(1, sizeof *x)) == NULL) {
		http_reply_error(c, 503, "unavailable", "out of memory");
		return;
	}
	if (http_loyalty_session(c, &x->b, &x->cu) != 0 ||
	    (body = http_loyalty_body(c)) == NULL) {
		free(x);
		return;
	}
	rc = profile_parse(body, profile_fields_enabled(c->app, x->b.id), &p,
	    msg, sizeof msg);
	json_decref(body);
	if (rc != 0) {
		free(x);
		http_reply_error(c, 422, rc == SIGIL_EDENIED ? "field_disabled"
		    : "invalid", msg);
		return;
	}
	/* Refused here too, before sealing: the op checks it again. */
	if (json_object_size(p) > 0 && consent_granted(c->app, x->b.id,
	    x->cu.id, CONSENT_PROFILE) != 1) {
		json_decref(p);
		free(x);
		consent_required(c);
		return;
	}
	rc = profile_seal(c->app, x->b.id, x->cu.id, p, &x->w);
	json_decref(p);
	if (rc != 0) {
		free(x);
		http_reply_error(c, rc == SIGIL_EINVAL ? 422 : 503, rc ==
		    SIGIL_EINVAL ? "invalid" : "unavailable", rc ==
		    SIGIL_EINVAL ? "the profile is too long" : "try again");
		return;
	}
	http_write(c, &profile_put_op, x, sizeof *x, profile_stored);
	OPENSSL_cleanse(x, sizeof *x);
	free(x);
}
