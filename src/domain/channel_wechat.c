/*
 * channel_wechat.c - the "wechat_template" and "wechat_subscribe"
 * channels, and "auto".
 *
 * WeChat's published server API (developers.weixin.qq.com), through
 * --wechat-api (egress: resolved once, the address policy, https
 * verified):
 *   GET  /cgi-bin/token?grant_type=client_credential&appid&secret
 *        -> {access_token, expires_in}: the app's own credential, kept
 *        here in memory until five minutes before it expires; one
 *        fetch per app at a time (a new one may end the old one), the
 *        sends that wait for it queue behind it.
 *   POST /cgi-bin/message/template/send?access_token (the official
 *        account): {touser, template_id, miniprogram?: {appid,
 *        pagepath}, data: {FIELD: {value: text}}}
 *   POST /cgi-bin/message/subscribe/send?access_token (the mini
 *        program): {touser, template_id, page?, data: {FIELD: {value:
 *        text}}, miniprogram_state: "formal", lang: "zh_CN"}
 * Each answers HTTP 200 with {errcode, errmsg}: 0 sent; 40001 (invalid
 * credential) and 42001 (expired) drop the token and try once more with
 * a new one, then retry later; -1 (busy), 45009 and 45011 (quotas)
 * retry later; anything else (40003 invalid openid, 40037 invalid
 * template, 43004 not following, 43101 the user refused: a subscription
 * is spent or was never given, 47003 bad data) fails for good.
 *
 * touser is the customer's openid of the brand's app (official account
 * for template messages, mini program for subscribe messages), unsealed
 * from their identities when sent (identity_json); a customer without
 * one fails for good ("no_openid"), as does a brand without the app.
 *
 * "auto" picks, per row: a template message when the row carries a
 * template (a service message, a reply, carries the brand's service
 * template when one is set: message.h's settings) and the customer has
 * an official-account openid, else a subscribe message when a
 * mini-program openid, else SMS.
 *
 * Owns the token cache. May call wechat.h (the apps and their secrets),
 * identity.h, store (reads), egress, log, util. Never logs a token, an
 * openid or a text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "sigil/app.h"
#include "sigil/egress.h"
#include "sigil/identity.h"
#include "sigil/member.h"
#include "sigil/message.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "sigil/wechat.h"

#include "channel_impl.h"

#define TOKENS_MAX	32
#define TOKEN_LEN	600
#define TOKEN_EARLY_US	(300LL * 1000000)

struct wx_req;

struct wx_token {
	uint32_t	brand_id;
	char		appid[STORE_WX_APPID_MAX + 1];
	char		value[TOKEN_LEN];	/* "" when none */
	int64_t		until;
	int		fetching;
	struct wx_req	*waiting;
};

static struct wx_token tokens[TOKENS_MAX];

struct wx_req {
	struct app	*app;
	channel_done_fn	 done;
	void		*arg;
	uint32_t	 brand_id;
	int		 subscribe;	/* else template */
	char		 appid[STORE_WX_APPID_MAX + 1];
	char		 secret[WECHAT_SECRET_MAX + 1];
	char		*body;		/* the message's JSON */
	int		 renewed;	/* a new token was tried */
	struct wx_token	*tok;
	struct wx_req	*next;
};

static void
req_end(struct wx_req *r, int ok, int retry, int status, const char *detail)
{
	channel_done_fn done = r->done;
	void *arg = r->arg;

	if (r->body != NULL) {
		OPENSSL_cleanse(r->body, strlen(r->body));
		free(r->body);
	}
	OPENSSL_cleanse(r->secret, sizeof r->secret);
	free(r);
	done(arg, ok, retry, status, detail);
}

static struct wx_token *
token_slot(uint32_t brand_id, const char *appid)
{
	struct wx_token *free_slot = NULL;

	for (int i = 0; i < TOKENS_MAX; i++) {
		if (tokens[i].brand_id == brand_id &&
		    strcmp(tokens[i].appid, appid) == 0)
			return &tokens[i];
		if (free_slot == NULL && !tokens[i].fetching &&
		    tokens[i].until < sigil_now_us())
			free_slot = &tokens[i];
	}
	if (free_slot != NULL) {
		memset(free_slot, 0, sizeof *free_slot);
		free_slot->brand_id = brand_id;
		snprintf(free_slot->appid, sizeof free_slot->appid, "%s", appid);
	}
	return free_slot;
}

static void token_get(struct wx_req *r);

static void
sent(int result, int status, const char *body, size_t len, void *arg)
{
	struct wx_req *r = arg;
	json_t *o = NULL;
	json_int_t ec;
	char detail[32];

	if (result != EGRESS_OK) {
		req_end(r, 0, channel_http_retry(result, status), status,
		    egress_result_name(result));
		return;
	}
	if ((o = json_loadb(body, len, 0, NULL)) == NULL ||
	    !json_is_integer(json_object_get(o, "errcode"))) {
		json_decref(o);
		req_end(r, 0, 1, status, "bad_answer");
		return;
	}
	ec = json_integer_value(json_object_get(o, "errcode"));
	json_decref(o);
	snprintf(detail, sizeof detail, "errcode_%lld", (long long)ec);
	if (ec == 0) {
		req_end(r, 1, 0, 0, "ok");
	} else if (ec == 40001 || ec == 42001) {
		/* Our credential is stale: a new one, once. */
		if (r->tok != NULL && strcmp(r->tok->appid, r->appid) == 0) {
			r->tok->value[0] = '\0';
			r->tok->until = 0;
		}
		if (r->renewed) {
			req_end(r, 0, 1, (int)ec, detail);
			return;
		}
		r->renewed = 1;
		token_get(r);
	} else {
		req_end(r, 0, ec == -1 || ec == 45009 || ec == 45011,
		    (int)ec, detail);
	}
}

static void
post(struct wx_req *r, const char *token)
{
	struct wechat *w = r->app->wechat;
	char path[WECHAT_URL_MAX + TOKEN_LEN + 64];
	int n;

	n = snprintf(path, sizeof path, "%s/cgi-bin/message/%s/send?"
	    "access_token=%s", w->api_prefix, r->subscribe ? "subscribe" :
	    "template", token);
	if (n < 0 || (size_t)n >= sizeof path || egress_post_answer(
	    r->app->egress, w->api_tls, w->api_host, w->api_port, path, NULL,
	    r->body, strlen(r->body), MESSAGE_TIMEOUT_S, sent, r, NULL) != 0)
		req_end(r, 0, 1, 0, "send_failed");
	OPENSSL_cleanse(path, sizeof path);
}

/* The token fetch answered: every send waiting for it goes on. */
static void
token_answer(int result, int status, const char *body, size_t len,
    void *arg)
{
	struct wx_token *t = arg;
	struct wx_req *r, *next;
	json_t *o = NULL;
	const char *v;
	json_int_t ec = 0, ttl;
	char detail[32];

	t->fetching = 0;
	if (result == EGRESS_OK && (o = json_loadb(body, len, 0, NULL)) !=
	    NULL && (v = json_string_value(json_object_get(o,
	    "access_token"))) != NULL && strlen(v) > 0 &&
	    strlen(v) < sizeof t->value) {
		ttl = json_integer_value(json_object_get(o, "expires_in"));
		snprintf(t->value, sizeof t->value, "%s", v);
		t->until = sigil_now_us() + (ttl > 0 ? ttl : 7200) * 1000000LL -
		    TOKEN_EARLY_US;
	} else if (o != NULL) {
		ec = json_integer_value(json_object_get(o, "errcode"));
	}
	json_decref(o);
	r = t->waiting;
	t->waiting = NULL;
	snprintf(detail, sizeof detail, "token_errcode_%lld", (long long)ec);
	for (; r != NULL; r = next) {
		next = r->next;
		if (t->value[0] != '\0')
			post(r, t->value);
		else if (result != EGRESS_OK)
			req_end(r, 0, channel_http_retry(result, status),
			    status, egress_result_name(result));
		else
			/* 40013, 40125, 40164: the brand must fix its app;
			 * -1 busy: later. */
			req_end(r, 0, ec == -1, (int)ec, detail);
	}
}

static void
token_get(struct wx_req *r)
{
	struct wechat *w = r->app->wechat;
	struct wx_token *t = token_slot(r->brand_id, r->appid);
	char path[WECHAT_URL_MAX + 256];
	int n;

	if ((r->tok = t) == NULL) {
		req_end(r, 0, 1, 0, "token_cache_full");
		return;
	}
	if (t->value[0] != '\0' && t->until > sigil_now_us()) {
		post(r, t->value);
		return;
	}
	r->next = t->waiting;
	t->waiting = r;
	if (t->fetching)
		return;
	t->value[0] = '\0';
	/* Both checked when configured (wechat.c): "wx" and hex, and 32
	 * letters and digits: nothing to escape. */
	n = snprintf(path, sizeof path, "%s/cgi-bin/token?grant_type="
	    "client_credential&appid=%s&secret=%s", w->api_prefix, r->appid,
	    r->secret);
	t->fetching = 1;
	if (n < 0 || (size_t)n >= sizeof path || egress_get(r->app->egress,
	    w->api_tls, w->api_host, w->api_port, path, MESSAGE_TIMEOUT_S,
	    token_answer, t, NULL) != 0)
		token_answer(EGRESS_NO_ANSWER, -1, "", 0, t);
	OPENSSL_cleanse(path, sizeof path);
}

/* The customer's openid of kind for appid into out: 0 or ENOTFOUND. */
static int
openid_of(struct app *app, const struct customer *cu, int kind,
    const char *appid, char *out, size_t size)
{
	json_t *arr = identity_json(app, cu->brand_id, cu->id, 1), *i;
	const char *want = kind == IDENT_WECHAT_OA ? "wechat_oa" : "wechat_mp";
	const char *id;
	size_t k;
	int rc = SIGIL_ENOTFOUND;

	json_array_foreach(arr, k, i) {
		id = json_string_value(json_object_get(i, "id"));
		if (id != NULL && strcmp(json_string_value(json_object_get(i,
		    "kind")), want) == 0 && strcmp(json_string_value(
		    json_object_get(i, "app")), appid) == 0 && strlen(id) < size) {
			memcpy(out, id, strlen(id) + 1);
			rc = 0;
			break;
		}
	}
	json_decref(arr);
	return rc;
}

/* The body WeChat takes, for the row's payload and the customer. */
static char *
body_of(const struct outbox_msg *m, int subscribe, const char *openid,
    const char *mp_appid)
{
	json_t *p = json_loads(m->payload, 0, NULL), *o = NULL;
	const char *text, *tpl, *field, *page;
	char *s = NULL;

	text = json_string_value(json_object_get(p, "text"));
	tpl = json_string_value(json_object_get(p, "template_id"));
	field = json_string_value(json_object_get(p, "field"));
	page = json_string_value(json_object_get(p, "page"));
	if (text == NULL || tpl == NULL || field == NULL)
		goto out;
	o = json_pack("{s:s,s:s,s:{s:{s:s}}}", "touser", openid,
	    "template_id", tpl, "data", field, "value", text);
	if (o == NULL)
		goto out;
	if (subscribe) {
		if (page != NULL)
			json_object_set_new(o, "page", json_string(page));
		json_object_set_new(o, "miniprogram_state",
		    json_string("formal"));
		json_object_set_new(o, "lang", json_string("zh_CN"));
	} else if (page != NULL && mp_appid[0] != '\0') {
		json_object_set_new(o, "miniprogram", json_pack("{s:s,s:s}",
		    "appid", mp_appid, "pagepath", page));
	}
	s = json_dumps(o, JSON_COMPACT);
out:
	json_decref(p);
	json_decref(o);
	return s;
}

static int
wx_send(struct app *app, const struct outbox_msg *m, int subscribe,
    channel_done_fn done, void *arg)
{
	struct wechat_config cfg;
	const struct wechat_app *wa;
	struct customer cu;
	struct wx_req *r;
	char openid[256];

	if (app->wechat == NULL || store_wechat_config_get(app->store,
	    m->brand_id, &cfg) != 0 || (wa = subscribe ? &cfg.mp :
	    &cfg.oa)->appid[0] == '\0') {
		done(arg, 0, 0, 0, "no_wechat_app");
		return 0;
	}
	if (channel_customer(app, m, &cu) != 0 || openid_of(app, &cu,
	    subscribe ? IDENT_WECHAT_MP : IDENT_WECHAT_OA, wa->appid, openid,
	    sizeof openid) != 0) {
		done(arg, 0, 0, 0, "no_openid");
		return 0;
	}
	if ((r = calloc(1, sizeof *r)) == NULL)
		return SIGIL_ENOMEM;
	r->app = app;
	r->done = done;
	r->arg = arg;
	r->brand_id = m->brand_id;
	r->subscribe = subscribe;
	snprintf(r->appid, sizeof r->appid, "%s", wa->appid);
	if (wechat_secret(app, m->brand_id, wa, r->secret) != 0) {
		OPENSSL_cleanse(openid, sizeof openid);
		req_end(r, 0, 0, 0, "no_secret");
		return 0;
	}
	r->body = body_of(m, subscribe, openid, cfg.mp.appid);
	OPENSSL_cleanse(openid, sizeof openid);
	if (r->body == NULL) {
		req_end(r, 0, 0, 0, "bad_payload");
		return 0;
	}
	token_get(r);
	return 0;
}

static int
template_send(struct app *app, const struct outbox_msg *m,
    channel_done_fn done, void *arg)
{
	return wx_send(app, m, 0, done, arg);
}

static int
subscribe_send(struct app *app, const struct outbox_msg *m,
    channel_done_fn done, void *arg)
{
	return wx_send(app, m, 1, done, arg);
}

/* Whether the customer has an openid of the brand's app of kind. */
static int
has_openid(struct app *app, const struct outbox_msg *m, int kind)
{
	struct wechat_config cfg;
	const struct wechat_app *wa;
	struct customer cu;
	char openid[256];
	int rc;

	if (app->wechat == NULL || store_wechat_config_get(app->store,
	    m->brand_id, &cfg) != 0)
		return 0;
	wa = kind == IDENT_WECHAT_OA ? &cfg.oa : &cfg.mp;
	if (wa->appid[0] == '\0' || channel_customer(app, m, &cu) != 0)
		return 0;
	rc = openid_of(app, &cu, kind, wa->appid, openid, sizeof openid);
	OPENSSL_cleanse(openid, sizeof openid);
	return rc == 0;
}

/*
 * m's payload with the brand's service template (message.h's settings)
 * when it carries no template of its own: a new string, or NULL when
 * there is nothing to add.
 */
static char *
with_service_template(struct app *app, const struct outbox_msg *m)
{
	json_t *p = json_loads(m->payload, 0, NULL), *set, *w;
	char *s = NULL;

	if (p == NULL || json_is_string(json_object_get(p, "template_id"))) {
		json_decref(p);
		return NULL;
	}
	set = member_settings_read(app->store, m->brand_id, NULL);
	w = json_object_get(set, MESSAGE_SETTINGS_KEY);
	if (json_is_string(json_object_get(w, "template_id")) &&
	    json_is_string(json_object_get(w, "field"))) {
		json_object_update(p, w);
		s = json_dumps(p, JSON_COMPACT);
	}
	json_decref(set);
	json_decref(p);
	return s;
}

static int
auto_send(struct app *app, const struct outbox_msg *m, channel_done_fn done,
    void *arg)
{
	struct outbox_msg own = *m;
	char *svc = with_service_template(app, m);
	json_t *p;
	int tpl, rc;

	if (svc != NULL)
		own.payload = svc;
	p = json_loads(own.payload, 0, NULL);
	tpl = json_is_string(json_object_get(p, "template_id"));
	json_decref(p);
	/* Each send copies what it needs before it returns. */
	if (tpl && has_openid(app, &own, IDENT_WECHAT_OA))
		rc = template_send(app, &own, done, arg);
	else if (tpl && has_openid(app, &own, IDENT_WECHAT_MP))
		rc = subscribe_send(app, &own, done, arg);
	else
		rc = channel_sms.send(app, m, done, arg);
	free(svc);
	return rc;
}

const struct channel_ops channel_wechat_template = { "wechat_template",
	template_send };
const struct channel_ops channel_wechat_subscribe = { "wechat_subscribe",
	subscribe_send };
const struct channel_ops channel_auto = { "auto", auto_send };
