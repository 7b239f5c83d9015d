/*
 * wechat_api.c - the brand's WeChat applications over the brand API
 * (GET and PUT /api/v1/wechat, admin) and the mini-program's login
 * (POST /api/v1/wechat/session, a consumer endpoint).
 *
 * The configuration holds AppSecrets: a PUT seals them (wechat.c) before
 * the writer sees them; a GET shows only whether one is set; the audit
 * entry (http_write's, generic) names the change and never its body; no
 * log line carries one.
 *
 * The mini-program posts its app id and the code of wx.login(); the app
 * id names the brand (an app id is one brand's). The code is exchanged at
 * WeChat (jscode2session), the customer found or made by unionid or
 * openid (identity_wechat_op), and the answer is the session: the device
 * cookie's value, also set as a cookie, which the mini-program sends as
 * "Cookie: sg_d=..." from then on (/api/v1/me, claims, ...). WeChat's
 * session_key is never read, kept or returned.
 *
 * Handlers. May call wechat, identity, customer, store (reads), scan
 * (cookies), http, http_api, http_write. Never calls another handler.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <jansson.h>
#include <openssl/crypto.h>

#include "sigil/api.h"
#include "sigil/app.h"
#include "sigil/campaign.h"
#include "sigil/customer.h"
#include "sigil/http.h"
#include "sigil/http_write.h"
#include "sigil/identity.h"
#include "sigil/log.h"
#include "sigil/scan.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "sigil/wechat.h"
#include "sigil/wechat_http.h"
#include "sigil/writer.h"

/* ---- the configuration ---- */

void
api_wechat_get(struct api_call *a)
{
	if (a->app->wechat == NULL) {
		api_fail(a, 503, "unavailable", "WeChat is not set up here");
		return;
	}
	api_reply(a, 200, wechat_config_json(a->app, a->brand.id));
}

static int
config_run(struct store *st, void *arg)
{
	return store_wechat_config_put(st, arg);
}

static const struct writer_op op_wechat_config = { "wechat_config_set",
	config_run };

static void
config_written(struct http_call *c, void *arg, int err)
{
	struct wechat_config *cfg = arg;

	if (err == SIGIL_EEXIST) {
		http_reply_error(c, 409, "appid_taken", "this AppID is another "
		    "brand's");
		return;
	}
	if (err != 0) {
		api_write_fail(c, err, "wechat configuration");
		return;
	}
	http_reply_jsont(c, 200, wechat_config_json(c->app, cfg->brand_id));
}

void
api_wechat_put(struct api_call *a)
{
	struct wechat_config cfg;
	const char *why;

	if (a->app->wechat == NULL) {
		api_fail(a, 503, "unavailable", "WeChat is not set up here");
		return;
	}
	if (api_body(a) != 0)
		return;
	if (wechat_config_read(a->app, a->brand.id, a->body, &cfg,
	    &why) != 0) {
		api_fail(a, 422, "invalid", why);
		return;
	}
	http_write(a->c, &op_wechat_config, &cfg, sizeof cfg, config_written);
	OPENSSL_cleanse(&cfg, sizeof cfg);
}

/* ---- the mini-program's login ---- */

struct mp_login {
	struct http_call	*c;
	uint32_t		 brand_id;
	uint64_t		 device;
	int			 fresh;
	char			 appid[STORE_WX_APPID_MAX + 1];
};

static void
session_linked(struct http_call *c, void *arg, int err)
{
	struct wechat_link *l = arg;
	struct app *app = c->app;
	char cookie[SCAN_COOKIE_LEN + 1], header[160];
	json_t *cu;

	if (err == SIGIL_EBUSY || err == SIGIL_ENOMEM) {
		http_reply_error(c, 503, "unavailable", "try again");
		return;
	}
	if (err != 0) {
		log_warn("wechat_login", "brand=%u channel=miniprogram err=\"%s\"",
		    l->brand_id, sigil_strerror(err));
		http_reply_error(c, err == SIGIL_ESTATE ? 403 : 503,
		    err == SIGIL_ESTATE ? "erased" : "unavailable",
		    err == SIGIL_ESTATE ? "this customer's data was erased" :
		    "try again");
		return;
	}
	app->wechat->logins++;
	log_info("wechat_login", "brand=%u channel=miniprogram customer=%llu "
	    "new=%d bound=%d merged=%llu", l->brand_id,
	    (unsigned long long)l->cu.id, l->created, l->bound,
	    (unsigned long long)l->merged);
	scan_cookie_make(app->cookie_key, l->device, cookie);
	snprintf(header, sizeof header, "%s=%s; Path=/; Max-Age=63072000; "
	    "HttpOnly; SameSite=Lax%s", SCAN_COOKIE_NAME, cookie,
	    app->secure_cookies ? "; Secure" : "");
	http_add_header(c, "Set-Cookie", header);
	cu = json_pack("{s:I,s:n,s:o,s:b}", "id", (json_int_t)l->cu.id,
	    "phone", "identities", identity_json(app, l->brand_id, l->cu.id, 0),
	    "created", l->created);
	if (l->cu.phone_ct_len > 0) {
		char masked[32];

		customer_masked(app, &l->cu, masked, sizeof masked);
		json_object_set_new(cu, "phone", json_string(masked));
	}
	http_reply_jsont(c, 200, json_pack("{s:s,s:o}", "session", cookie,
	    "customer", cu));
}

static void
jscode_done(const struct wechat_answer *a, void *arg)
{
	struct mp_login *s = arg;
	struct http_call *c = s->c;
	struct wechat_link l;
	int status = 502;
	const char *code = "wechat_refused", *msg = "WeChat refused the login";

	if (a->result == WECHAT_OK) {
		if (identity_wechat_prepare(c->app, s->brand_id, IDENT_WECHAT_MP,
		    s->appid, a->openid, a->unionid, NULL, NULL, s->device,
		    &l) == 0) {
			l.nbonus = campaign_registration_credits(c->app,
			    s->brand_id, l.now, l.bonus, STORE_REG_BONUS_MAX,
			    &l.bonus_expires);
			free(s);
			http_write(c, &identity_wechat_op, &l, sizeof l,
			    session_linked);
			OPENSSL_cleanse(&l, sizeof l);
			return;
		}
		a = NULL;
	}
	if (a == NULL) {
		status = 502;
		code = "wechat_unusable";
		msg = "WeChat's answer could not be used";
	} else if (a->result == WECHAT_BAD_CODE) {
		status = 401;
		code = "code_invalid";
		msg = "the login code is invalid or was used; call wx.login() "
		    "again";
	} else if (a->result == WECHAT_RATE_LIMIT) {
		status = 429;
		code = "rate_limited";
		msg = "WeChat limits logins; try again in a minute";
		http_add_header(c, "Retry-After", "60");
	} else if (a->result == WECHAT_BUSY || a->result == WECHAT_NO_ANSWER) {
		status = 503;
		code = "wechat_unavailable";
		msg = "WeChat did not answer; try again";
	} else if (a->result == WECHAT_BAD_APP) {
		code = "wechat_config";
		msg = "the brand's AppID or AppSecret is not accepted by WeChat";
	}
	log_warn("wechat_login", "brand=%u channel=miniprogram result=%s "
	    "errcode=%d", s->brand_id, a != NULL ?
	    wechat_result_name(a->result) : "unusable", a != NULL ?
	    a->errcode : 0);
	free(s);
	http_reply_error(c, status, code, msg);
}

void
wechat_session(struct http_call *c)
{
	struct app *app = c->app;
	struct wechat_config cfg;
	struct mp_login *s;
	const char *type, *appid, *code;
	char cookie[64];
	json_t *j;
	int kind;
	uint32_t brand_id;

	if (app->wechat == NULL) {
		http_reply_error(c, 503, "unavailable", "WeChat is not set up "
		    "here");
		return;
	}
	type = http_header(c, "Content-Type");
	if (type == NULL || strncmp(type, "application/json", 16) != 0) {
		http_reply_error(c, 415, "unsupported_media_type",
		    "send Content-Type: application/json");
		return;
	}
	if (http_body_json(c, "the body must be a JSON object {appid, code}",
	    &j) != 0)
		return;
	appid = json_string_value(json_object_get(j, "appid"));
	code = json_string_value(json_object_get(j, "code"));
	if (appid == NULL || code == NULL || code[0] == '\0' ||
	    strlen(code) > 256 || strlen(appid) > STORE_WX_APPID_MAX) {
		json_decref(j);
		http_reply_error(c, 422, "invalid", "'appid' and 'code' (the "
		    "code of wx.login()) are needed");
		return;
	}
	if (store_wechat_appid(app->store, appid, &brand_id, &kind) != 0 ||
	    kind != IDENT_WECHAT_MP ||
	    store_wechat_config_get(app->store, brand_id, &cfg) != 0) {
		json_decref(j);
		http_reply_error(c, 404, "unknown_app", "no brand here has this "
		    "mini-program");
		return;
	}
	if ((s = calloc(1, sizeof *s)) == NULL) {
		json_decref(j);
		http_reply_error(c, 503, "unavailable", "try again");
		return;
	}
	s->c = c;
	s->brand_id = brand_id;
	snprintf(s->appid, sizeof s->appid, "%s", cfg.mp.appid);
	if (http_cookie(c, SCAN_COOKIE_NAME, cookie, sizeof cookie) != 0 ||
	    scan_cookie_check(app->cookie_key, cookie, &s->device) != 0) {
		s->fresh = 1;
		while (s->device == 0)
			if (sigil_random(&s->device, sizeof s->device) != 0)
				break;
	}
	if (s->device == 0 || wechat_jscode(app, brand_id, &cfg.mp, code,
	    jscode_done, s) != 0) {
		json_decref(j);
		free(s);
		OPENSSL_cleanse(&cfg, sizeof cfg);
		http_reply_error(c, 503, "unavailable", "try again");
		return;
	}
	json_decref(j);
	OPENSSL_cleanse(&cfg, sizeof cfg);
}
