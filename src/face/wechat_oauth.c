/*
 * wechat_oauth.c - WeChat's browser comes back: GET /wx/oauth, and the
 * profile step that sends it out again, GET /wx/userinfo.
 *
 * A scan in WeChat's browser was sent to WeChat's authorize page
 * (http_scan.c) with a state naming the brand, the device cookie it set,
 * the scope and the scan's own path (to, signed with it). WeChat sends
 * the browser here with code and state. In order: the state's signature
 * and expiry; the cookie must be the state's device (a state or a code
 * carried to another browser is refused); the state is spent, once, by
 * a writer op (a replay is refused) before the code is used; the code is
 * exchanged server-side (wechat.c); the identity is bound and the device
 * linked (identity_wechat_op); then the browser goes back (302) to the
 * scan's path, which records the scan and answers it as always, now for
 * a device WeChat identified. Sending it back rather than answering
 * here keeps one scan per consumer scan, keeps the scan's page at the
 * scan's own address (what a consumer shares from WeChat), and keeps
 * the code out of anything shared.
 *
 * When WeChat gives nothing usable (no code: the consumer declined the
 * profile page; an error answer; no answer at all), the browser still
 * goes back to the scan, with a short cookie (sg_wx, ten minutes) that
 * tells the scan not to send it to WeChat again meanwhile: the scan is
 * recorded and answered anonymously, as outside WeChat. A refused state
 * is a 400: nothing was asked of WeChat, nothing is recorded.
 *
 * A handler. May call wechat (state, API), identity, customer, store
 * (reads), scan (the cookie), http, http_write, http_scan (the cookie
 * helpers). Never logs a code, a token or an identifier; never calls
 * another handler.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <jansson.h>
#include <openssl/crypto.h>

#include "sigil/app.h"
#include "sigil/campaign.h"
#include "sigil/customer.h"
#include "sigil/http.h"
#include "sigil/http_scan.h"
#include "sigil/http_write.h"
#include "sigil/identity.h"
#include "sigil/log.h"
#include "sigil/scan.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "sigil/wechat.h"
#include "sigil/wechat_http.h"
#include "sigil/writer.h"

#define TO_MAX	1024

/* A path on this server: "/..." but not "//..." or "/\...", printable. */
static int
to_ok(const char *to)
{
	if (to == NULL || to[0] != '/' || to[1] == '/' || to[1] == '\\')
		return 0;
	for (const char *p = to; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
			return 0;
	return 1;
}

/* The browser back to its scan; anon: not to WeChat again for a while. */
static void
back_to_scan(struct http_call *c, const char *to, int anon)
{
	struct app *app = c->app;
	char header[128];

	if (anon) {
		snprintf(header, sizeof header, "%s=1; Path=/; Max-Age=600; "
		    "HttpOnly; SameSite=Lax%s", HTTP_SCAN_WECHAT_SKIP,
		    app->secure_cookies ? "; Secure" : "");
		http_add_header(c, "Set-Cookie", header);
	}
	http_add_header(c, "Location", to);
	http_add_header(c, "Cache-Control", "no-store");
	http_reply(c, 302, NULL, NULL);
}

/* The callback's state of affairs, from the spend to the link. */
struct back {
	struct http_call	*c;
	char			 to[TO_MAX + 1];
	char			 code[257];
	struct wechat_state	 ws;
	struct wechat_config	 cfg;
	struct wechat_link	 link;
	int			 has_code;
	int			 scope;
};

static void
back_free(struct back *b)
{
	OPENSSL_cleanse(b, sizeof *b);
	free(b);
}

/* The login op's argument with the path behind it (one copy). */
struct link_to {
	struct wechat_link	l;
	char			to[TO_MAX + 1];
};

static void
linked(struct http_call *c, void *arg, int err)
{
	struct link_to *x = arg;
	struct wechat_link *l = &x->l;
	struct app *app = c->app;
	const char *to = x->to;

	if (err != 0) {
		log_warn("wechat_login", "brand=%u err=\"%s\"", l->brand_id,
		    sigil_strerror(err));
		back_to_scan(c, to, 1);
		return;
	}
	app->wechat->logins++;
	log_info("wechat_login", "brand=%u customer=%llu new=%d bound=%d "
	    "merged=%llu switched_from=%llu", l->brand_id,
	    (unsigned long long)l->cu.id, l->created, l->bound,
	    (unsigned long long)l->merged, (unsigned long long)l->from);
	back_to_scan(c, to, 0);
}

static void
oauth_done(const struct wechat_answer *a, void *arg)
{
	struct back *b = arg;
	struct http_call *c = b->c;
	struct app *app = c->app;
	struct link_to *x;
	int err;

	if (a->result != WECHAT_OK) {
		log_warn("wechat_oauth", "brand=%u result=%s errcode=%d "
		    "outcome=anonymous", b->ws.brand_id,
		    wechat_result_name(a->result), a->errcode);
		back_to_scan(c, b->to, 1);
		back_free(b);
		return;
	}
	if ((x = calloc(1, sizeof *x)) == NULL ||
	    (err = identity_wechat_prepare(app, b->ws.brand_id,
	    IDENT_WECHAT_OA, b->cfg.oa.appid, a->openid, a->unionid,
	    b->scope == WECHAT_USERINFO ? a->nickname : NULL,
	    b->scope == WECHAT_USERINFO ? a->avatar : NULL, b->ws.device,
	    &x->l)) != 0) {
		log_warn("wechat_oauth", "brand=%u result=unusable "
		    "outcome=anonymous", b->ws.brand_id);
		free(x);
		back_to_scan(c, b->to, 1);
		back_free(b);
		return;
	}
	x->l.nbonus = campaign_registration_credits(app, b->ws.brand_id,
	    x->l.now, x->l.bonus, STORE_REG_BONUS_MAX, &x->l.bonus_expires);
	snprintf(x->to, sizeof x->to, "%s", b->to);
	back_free(b);
	http_write(c, &identity_wechat_op, x, sizeof *x, linked);
	OPENSSL_cleanse(x, sizeof *x);
	free(x);
}

/* The spend of the state: the first use goes on to WeChat. */
struct spend {
	struct back	*b;
};

static int
spend_run(struct store *st, void *arg)
{
	struct spend *s = arg;

	return store_wechat_state_spend(st, s->b->ws.brand_id,
	    s->b->ws.expires, s->b->ws.nonce, sigil_now_us());
}

static const struct writer_op op_state_spend = { "wechat_state_spend",
	spend_run };

static void
spent(struct http_call *c, void *arg, int err)
{
	struct spend *s = arg;
	struct back *b = s->b;
	struct app *app = c->app;

	if (err == SIGIL_EEXIST) {
		log_warn("wechat_oauth", "brand=%u refused=state_used",
		    b->ws.brand_id);
		http_reply_error(c, 400, "state_used", "this sign-in link was "
		    "used already; scan the code again");
		back_free(b);
		return;
	}
	if (err != 0) {
		back_to_scan(c, b->to, 1);
		back_free(b);
		return;
	}
	if (!b->has_code) {
		log_info("wechat_oauth", "brand=%u result=declined "
		    "outcome=anonymous", b->ws.brand_id);
		back_to_scan(c, b->to, 1);
		back_free(b);
		return;
	}
	b->c = c;
	if (wechat_oauth(app, b->ws.brand_id, &b->cfg.oa, b->code, b->scope,
	    oauth_done, b) != 0) {
		log_warn("wechat_oauth", "brand=%u result=not_started "
		    "outcome=anonymous", b->ws.brand_id);
		back_to_scan(c, b->to, 1);
		back_free(b);
	}
	/* The code is WeChat's to judge from here: ours is wiped. */
}

void
wechat_oauth_back(struct http_call *c)
{
	struct app *app = c->app;
	struct back *b;
	struct spend s;
	char state[WECHAT_STATE_LEN + 2], cookie[64];
	uint64_t device = 0;
	int err;

	if (c->method != EVHTTP_REQ_GET) {
		/* A HEAD (a link checker) must not spend the state. */
		http_reply_error(c, 405, "method_not_allowed", "GET only");
		return;
	}
	if (app->wechat == NULL || (b = calloc(1, sizeof *b)) == NULL) {
		http_reply_error(c, 503, "unavailable", "try again");
		return;
	}
	if (http_query(c, "to", b->to, sizeof b->to) == NULL ||
	    !to_ok(b->to)) {
		http_reply_error(c, 400, "invalid", "'to' must be a path on "
		    "this server");
		back_free(b);
		return;
	}
	if (http_query(c, "state", state, sizeof state) == NULL) {
		http_reply_error(c, 400, "state_invalid", "the sign-in state "
		    "is missing or malformed");
		back_free(b);
		return;
	}
	err = wechat_state_check(app, state, b->to, sigil_now_us(), &b->ws);
	if (err == 0 && (http_cookie(c, SCAN_COOKIE_NAME, cookie,
	    sizeof cookie) != 0 || scan_cookie_check(app->cookie_key, cookie,
	    &device) != 0 || device != b->ws.device))
		err = SIGIL_EFORGED;
	if (err != 0) {
		log_warn("wechat_oauth", "refused=%s", err == SIGIL_ESTATE ?
		    "state_expired" : "state_invalid");
		http_reply_error(c, 400, err == SIGIL_ESTATE ? "state_expired" :
		    "state_invalid", err == SIGIL_ESTATE ? "the sign-in took "
		    "too long; scan the code again" : "the sign-in state is "
		    "not one this server made for this browser");
		back_free(b);
		return;
	}
	if (store_wechat_config_get(app->store, b->ws.brand_id, &b->cfg) != 0 ||
	    b->cfg.oa.appid[0] == '\0') {
		/* The brand dropped WeChat meanwhile: the scan, as ever. */
		back_to_scan(c, b->to, 1);
		back_free(b);
		return;
	}
	b->scope = b->ws.scope;
	b->has_code = http_query(c, "code", b->code, sizeof b->code) != NULL &&
	    b->code[0] != '\0';
	s.b = b;
	http_write(c, &op_state_spend, &s, sizeof s, spent);
}

/* ---- the profile step ---- */

void
wechat_userinfo(struct http_call *c)
{
	struct app *app = c->app;
	struct wechat_config cfg;
	struct customer cu;
	struct brand br;
	char back[TO_MAX + 1], name[STORE_NAME_BYTES + 1], cookie[64];
	char state[WECHAT_STATE_LEN + 1], url[4096];
	uint64_t device;
	int granted;

	if (app->wechat == NULL) {
		http_reply_error(c, 503, "unavailable", "try again");
		return;
	}
	if (http_query(c, "back", back, sizeof back) == NULL || !to_ok(back)) {
		http_reply_error(c, 400, "invalid", "'back' must be a path on "
		    "this server");
		return;
	}
	if (http_cookie(c, SCAN_COOKIE_NAME, cookie, sizeof cookie) != 0 ||
	    scan_cookie_check(app->cookie_key, cookie, &device) != 0) {
		http_reply_error(c, 401, "not_logged_in", "scan a code first");
		return;
	}
	if (http_query(c, "brand", name, sizeof name) != NULL) {
		if (store_brand_find(app->store, name, &br) != 0) {
			http_reply_error(c, 404, "not_found", "no such brand");
			return;
		}
	} else if (customer_first_brand(app, device, &br) != 0) {
		http_reply_error(c, 401, "not_logged_in", "scan a code first");
		return;
	}
	if (customer_of_device(app, br.id, device, &cu) != 0) {
		http_reply_error(c, 401, "not_logged_in", "scan a code first");
		return;
	}
	if (store_wechat_config_get(app->store, br.id, &cfg) != 0 ||
	    cfg.oa.appid[0] == '\0' || !cfg.userinfo) {
		http_reply_error(c, 404, "not_enabled", "the brand does not ask "
		    "for WeChat profiles");
		return;
	}
	if ((granted = wechat_profile_consent(app, br.id, cu.id)) != 1) {
		http_reply_error(c, granted < 0 ? 503 : 403, granted < 0 ?
		    "unavailable" : "consent_needed", granted < 0 ? "try again" :
		    "the customer has not agreed to share a profile");
		return;
	}
	if (wechat_state_make(app, br.id, device, WECHAT_USERINFO, back,
	    state) != 0 || wechat_authorize_url(app, cfg.oa.appid,
	    app->base_url != NULL ? app->base_url : br.base_url, back,
	    WECHAT_USERINFO, state, url, sizeof url) != 0) {
		http_reply_error(c, 503, "unavailable", "try again");
		return;
	}
	app->wechat->redirects++;
	http_add_header(c, "Location", url);
	http_add_header(c, "Cache-Control", "no-store");
	http_reply(c, 302, NULL, NULL);
}
