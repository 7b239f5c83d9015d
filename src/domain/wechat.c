/*
 * wechat.c - WeChat's official-account web authorisation and the
 * mini-program login, as WeChat's published API describes them.
 *
 * The web flow: a scan in WeChat's browser is sent (302) to
 * {open}/connect/oauth2/authorize with the official account's appid, a
 * redirect_uri back to /wx/oauth (carrying the scan's path), scope
 * snsapi_base (silent) or snsapi_userinfo (a consent page WeChat shows),
 * and a state. WeChat sends the browser back with code and state; the
 * code is exchanged here, server to server, at
 * {api}/sns/oauth2/access_token (appid, secret, code,
 * grant_type=authorization_code) for openid, unionid when the account
 * is bound to an open platform, and an access token, which is only
 * used, for snsapi_userinfo, at {api}/sns/userinfo (access_token,
 * openid, lang) and refreshed once at {api}/sns/oauth2/refresh_token
 * (appid, grant_type=refresh_token, refresh_token) when WeChat says it
 * expired (42001). Tokens live in this file's flow and are zeroed with
 * it: never stored, logged or shown. The mini-program's code goes to
 * {api}/sns/jscode2session (appid, secret, js_code,
 * grant_type=authorization_code); its session_key is never read.
 *
 * The state is WECHAT_STATE_LEN hex digits (WeChat passes back up to 128
 * of [a-zA-Z0-9]): version, scope, brand, device, expiry, a random nonce
 * and an HMAC-SHA256 (keyring secret "wechat-state", 16 bytes kept) over
 * them and the path the consumer goes back to. It is bound to the
 * device cookie (the callback's cookie must be the state's device: a
 * state lifted from another browser is refused) and spent once
 * (store_wechat_state_spend, a writer op, before the code is used).
 *
 * Every answer maps to one result (enum wechat_result, docs/wechat.md):
 * WeChat's errcode when it sent one, WECHAT_NO_ANSWER when nothing
 * usable came back. Callers decide the outcome; a scan is recorded and
 * answered whatever the result.
 *
 * Owns the brand's WeChat configuration rules, the state, the API
 * calls. May call egress (outbound HTTP, through the operator's
 * --webhook-allow policy), webhook (URL parsing), keyring, store
 * (reads), identity, util, jansson, OpenSSL. Never logs a secret, a
 * token, a code or an identifier; never writes to the store.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sigil/app.h"
#include "sigil/egress.h"
#include "sigil/identity.h"
#include "sigil/keyring.h"
#include "sigil/log.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "sigil/webhook.h"
#include "sigil/wechat.h"

#define API_DEFAULT	"https://api.weixin.qq.com"
#define OPEN_DEFAULT	"https://open.weixin.qq.com"
#define STATE_BYTES	46	/* 30 signed + 16 of the MAC */
#define CALL_TIMEOUT_S	5

/* ---- start-up ---- */

int
wechat_init(struct app *app, const char *api, const char *open)
{
	struct webhook_url u;
	struct wechat *w;
	int err;

	if ((w = calloc(1, sizeof *w)) == NULL)
		return SIGIL_ENOMEM;
	if (api == NULL)
		api = API_DEFAULT;
	if (open == NULL)
		open = OPEN_DEFAULT;
	err = SIGIL_EINVAL;
	if (webhook_url_parse(api, &u) != 0 || strlen(open) >= sizeof w->open ||
	    (strncmp(open, "https://", 8) != 0 &&
	    strncmp(open, "http://", 7) != 0) || strchr(open, '?') != NULL ||
	    strlen(u.path) >= sizeof w->api_prefix)
		goto fail;
	w->api_tls = u.tls;
	w->api_port = u.port;
	snprintf(w->api_host, sizeof w->api_host, "%s", u.host);
	snprintf(w->api_prefix, sizeof w->api_prefix, "%s",
	    strcmp(u.path, "/") == 0 ? "" : u.path);
	snprintf(w->open, sizeof w->open, "%s", open);
	if (w->open[strlen(w->open) - 1] == '/')
		w->open[strlen(w->open) - 1] = '\0';
	if ((err = keyring_secret(app->keyring, "ident-hash", 1,
	    w->hash_key)) != 0 || (err = keyring_secret(app->keyring,
	    "ident-enc", 1, w->enc_key)) != 0 ||
	    (err = keyring_secret(app->keyring, "wechat-enc", 1,
	    w->secret_key)) != 0 || (err = keyring_secret(app->keyring,
	    "wechat-state", 1, w->state_key)) != 0)
		goto fail;
	app->wechat = w;
	return 0;
fail:
	OPENSSL_cleanse(w, sizeof *w);
	free(w);
	return err;
}

void
wechat_fini(struct app *app)
{
	if (app->wechat == NULL)
		return;
	OPENSSL_cleanse(app->wechat, sizeof *app->wechat);
	free(app->wechat);
	app->wechat = NULL;
}

int
wechat_user_agent(const char *ua)
{
	return ua != NULL && strstr(ua, "MicroMessenger") != NULL;
}

/* ---- the brand's applications ---- */

static json_t *
app_json(const struct wechat_app *a)
{
	if (a->appid[0] == '\0')
		return json_null();
	return json_pack("{s:s,s:b}", "appid", a->appid, "secret_set",
	    a->secret_ct_len > 0);
}

json_t *
wechat_config_json(struct app *app, uint32_t brand_id)
{
	struct wechat_config c;
	char t[SIGIL_TIME_LEN + 1];
	json_t *o, *oa;

	if (store_wechat_config_get(app->store, brand_id, &c) != 0)
		return json_pack("{s:n,s:n,s:n}", "oa", "mp", "updated");
	oa = app_json(&c.oa);
	if (json_is_object(oa))
		json_object_set_new(oa, "userinfo", json_boolean(c.userinfo));
	o = json_pack("{s:o,s:o,s:s}", "oa", oa, "mp", app_json(&c.mp),
	    "updated", sigil_time_format(c.updated, t));
	return o;
}

/* WeChat's app ids: "wx" and 16 hex digits. */
static int
appid_ok(const char *s)
{
	if (strlen(s) != 18 || s[0] != 'w' || s[1] != 'x')
		return 0;
	for (int i = 2; i < 18; i++)
		if (sigil_hex_digit(s[i]) < 0)
			return 0;
	return 1;
}

/* An AppSecret: 32 letters and digits. */
static int
secret_ok(const char *s)
{
	size_t n = strlen(s);

	if (n != 32)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z')))
			return 0;
	return 1;
}

static int
secret_seal(struct app *app, uint32_t brand_id, const char *secret,
    struct wechat_app *a)
{
	uint8_t aad[4];
	size_t n = strlen(secret);

	sigil_be32_put(aad, brand_id);
	if (n + SIGIL_SEAL_OVERHEAD > sizeof a->secret_ct)
		return SIGIL_EINVAL;
	if (sigil_seal(app->wechat->secret_key, aad, 4, (const uint8_t *)secret,
	    n, a->secret_ct) != 0)
		return SIGIL_ECRYPTO;
	a->secret_ct_len = n + SIGIL_SEAL_OVERHEAD;
	return 0;
}

/* One app of the body (obj) over the current one (cur) into out. */
static int
app_read(struct app *app, uint32_t brand_id, const json_t *obj,
    const struct wechat_app *cur, struct wechat_app *out, const char *name,
    const char **why)
{
	static char msg[160];
	const char *appid, *secret, *k;
	json_t *v, *kv;

	memset(out, 0, sizeof *out);
	if (obj == NULL || json_is_null(obj))
		return 0;
	snprintf(msg, sizeof msg, "'%s' must be null or {appid, secret}",
	    name);
	*why = msg;
	if (!json_is_object(obj))
		return SIGIL_EINVAL;
	json_object_foreach((json_t *)obj, k, kv)
		if (strcmp(k, "appid") != 0 && strcmp(k, "secret") != 0 &&
		    (strcmp(name, "oa") != 0 || strcmp(k, "userinfo") != 0))
			return SIGIL_EINVAL;
	appid = json_string_value(json_object_get(obj, "appid"));
	if (appid == NULL || !appid_ok(appid)) {
		snprintf(msg, sizeof msg, "'%s.appid' must be a WeChat AppID: "
		    "wx and 16 hex digits", name);
		return SIGIL_EINVAL;
	}
	snprintf(out->appid, sizeof out->appid, "%s", appid);
	v = json_object_get(obj, "secret");
	if (v == NULL || json_is_null(v)) {
		if (strcmp(cur->appid, appid) != 0 || cur->secret_ct_len == 0) {
			snprintf(msg, sizeof msg, "'%s.secret' is needed with "
			    "a new appid", name);
			return SIGIL_EINVAL;
		}
		memcpy(out->secret_ct, cur->secret_ct, cur->secret_ct_len);
		out->secret_ct_len = cur->secret_ct_len;
		return 0;
	}
	if ((secret = json_string_value(v)) == NULL || !secret_ok(secret)) {
		snprintf(msg, sizeof msg, "'%s.secret' must be the AppSecret: "
		    "32 letters and digits", name);
		return SIGIL_EINVAL;
	}
	return secret_seal(app, brand_id, secret, out);
}

int
wechat_config_read(struct app *app, uint32_t brand_id, const json_t *body,
    struct wechat_config *out, const char **why)
{
	struct wechat_config cur;
	const char *k;
	json_t *v, *ui;
	int err;

	*why = "the body must be {oa: {appid, secret, userinfo}, mp: {appid, "
	    "secret}}";
	if (!json_is_object(body))
		return SIGIL_EINVAL;
	json_object_foreach((json_t *)body, k, v)
		if (strcmp(k, "oa") != 0 && strcmp(k, "mp") != 0)
			return SIGIL_EINVAL;
	if (store_wechat_config_get(app->store, brand_id, &cur) != 0)
		memset(&cur, 0, sizeof cur);
	memset(out, 0, sizeof *out);
	out->brand_id = brand_id;
	out->updated = sigil_now_us();
	if ((err = app_read(app, brand_id, json_object_get(body, "oa"),
	    &cur.oa, &out->oa, "oa", why)) != 0 ||
	    (err = app_read(app, brand_id, json_object_get(body, "mp"),
	    &cur.mp, &out->mp, "mp", why)) != 0)
		goto fail;
	ui = json_object_get(json_object_get(body, "oa"), "userinfo");
	if (ui != NULL && !json_is_boolean(ui)) {
		*why = "'oa.userinfo' must be true or false";
		err = SIGIL_EINVAL;
		goto fail;
	}
	out->userinfo = json_is_true(ui);
	if (out->oa.appid[0] != '\0' &&
	    strcmp(out->oa.appid, out->mp.appid) == 0) {
		*why = "the official account and the mini-program have "
		    "different AppIDs";
		err = SIGIL_EINVAL;
		goto fail;
	}
	OPENSSL_cleanse(&cur, sizeof cur);
	return 0;
fail:
	OPENSSL_cleanse(&cur, sizeof cur);
	OPENSSL_cleanse(out, sizeof *out);
	return err;
}

int
wechat_secret(struct app *app, uint32_t brand_id, const struct wechat_app *a,
    char out[WECHAT_SECRET_MAX + 1])
{
	uint8_t aad[4];
	size_t n;

	out[0] = '\0';
	if (a->secret_ct_len <= SIGIL_SEAL_OVERHEAD ||
	    (n = a->secret_ct_len - SIGIL_SEAL_OVERHEAD) > WECHAT_SECRET_MAX)
		return SIGIL_EFORGED;
	sigil_be32_put(aad, brand_id);
	if (sigil_open(app->wechat->secret_key, aad, 4, a->secret_ct,
	    a->secret_ct_len, (uint8_t *)out) != 0)
		return SIGIL_EFORGED;
	out[n] = '\0';
	return 0;
}

/*
 * The profile consent gate. consent.h (issue 20's consent part) says
 * whether the customer's latest "profile" entry is a grant; until that
 * part is built into this tree, no consent can be had, so no profile is
 * ever asked for.
 */
#if __has_include("sigil/consent.h")
#include "sigil/consent.h"
int
wechat_profile_consent(struct app *app, uint32_t brand_id,
    uint64_t customer_id)
{
	return consent_granted(app, brand_id, customer_id, CONSENT_PROFILE);
}
#else
int
wechat_profile_consent(struct app *app, uint32_t brand_id,
    uint64_t customer_id)
{
	(void)app;
	(void)brand_id;
	(void)customer_id;
	return 0;
}
#endif

/* ---- the state ---- */

static void
state_mac(struct app *app, const uint8_t *fields, const char *to,
    uint8_t out[16])
{
	uint8_t buf[30 + 2048], full[32];
	size_t n = strnlen(to, 2048);
	unsigned int len = 32;

	memcpy(buf, fields, 30);
	memcpy(buf + 30, to, n);
	if (HMAC(EVP_sha256(), app->wechat->state_key, 32, buf, 30 + n, full,
	    &len) == NULL)
		memset(full, 0xff, sizeof full);	/* matches nothing made */
	memcpy(out, full, 16);
}

int
wechat_state_make(struct app *app, uint32_t brand_id, uint64_t device,
    int scope, const char *to, char out[WECHAT_STATE_LEN + 1])
{
	uint8_t b[STATE_BYTES];
	int64_t exp = sigil_now_us() + (int64_t)WECHAT_STATE_TTL_S * 1000000;

	b[0] = 1;
	b[1] = (uint8_t)scope;
	sigil_be32_put(b + 2, brand_id);
	sigil_be64_put(b + 6, device);
	sigil_be64_put(b + 14, (uint64_t)exp);
	if (sigil_random(b + 22, 8) != 0)
		return SIGIL_ECRYPTO;
	state_mac(app, b, to, b + 30);
	sigil_hex_encode(b, STATE_BYTES, out);
	return 0;
}

int
wechat_state_check(struct app *app, const char *state, const char *to,
    int64_t now, struct wechat_state *out)
{
	uint8_t b[STATE_BYTES], mac[16];

	if (state == NULL || strlen(state) != WECHAT_STATE_LEN ||
	    sigil_hex_decode(state, STATE_BYTES, b) != 0 || b[0] != 1)
		return SIGIL_EFORGED;
	state_mac(app, b, to, mac);
	if (CRYPTO_memcmp(mac, b + 30, 16) != 0 ||
	    (b[1] != WECHAT_BASE && b[1] != WECHAT_USERINFO))
		return SIGIL_EFORGED;
	out->scope = b[1];
	out->brand_id = sigil_be32_get(b + 2);
	out->device = sigil_be64_get(b + 6);
	out->expires = (int64_t)sigil_be64_get(b + 14);
	memcpy(out->nonce, b + 22, 8);
	if (now >= out->expires)
		return SIGIL_ESTATE;
	return 0;
}

/* Percent-encoding of everything but RFC 3986's unreserved characters. */
static int
url_encode(const char *in, char *out, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *in != '\0'; in++) {
		unsigned char ch = (unsigned char)*in;

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' ||
		    ch == '_' || ch == '~') {
			if (o + 1 >= size)
				return SIGIL_EFULL;
			out[o++] = (char)ch;
		} else {
			if (o + 3 >= size)
				return SIGIL_EFULL;
			out[o++] = '%';
			out[o++] = hex[ch >> 4];
			out[o++] = hex[ch & 15];
		}
	}
	out[o] = '\0';
	return 0;
}

int
wechat_authorize_url(struct app *app, const char *appid, const char *base,
    const char *to, int scope, const char *state, char *out, size_t size)
{
	char back[2048], redirect[1024], enc_to[1024];
	size_t bl = strlen(base);
	int n;

	while (bl > 0 && base[bl - 1] == '/')
		bl--;
	if (url_encode(to, enc_to, sizeof enc_to) != 0)
		return SIGIL_EFULL;
	n = snprintf(redirect, sizeof redirect, "%.*s/wx/oauth?to=%s",
	    (int)bl, base, enc_to);
	if (n < 0 || (size_t)n >= sizeof redirect ||
	    url_encode(redirect, back, sizeof back) != 0)
		return SIGIL_EFULL;
	n = snprintf(out, size, "%s/connect/oauth2/authorize?appid=%s"
	    "&redirect_uri=%s&response_type=code&scope=%s&state=%s"
	    "#wechat_redirect", app->wechat->open, appid, back,
	    scope == WECHAT_USERINFO ? "snsapi_userinfo" : "snsapi_base",
	    state);
	return n < 0 || (size_t)n >= size ? SIGIL_EFULL : 0;
}

/* ---- WeChat's API ---- */

const char *
wechat_result_name(int result)
{
	switch (result) {
	case WECHAT_OK:			return "ok";
	case WECHAT_BAD_CODE:		return "bad_code";
	case WECHAT_RATE_LIMIT:		return "rate_limit";
	case WECHAT_BUSY:		return "busy";
	case WECHAT_BAD_APP:		return "bad_app";
	case WECHAT_TOKEN_EXPIRED:	return "token_expired";
	case WECHAT_REFUSED:		return "refused";
	case WECHAT_NO_ANSWER:		return "no_answer";
	}
	return "unknown";
}

static int
errcode_result(int errcode)
{
	switch (errcode) {
	case 0:		return WECHAT_OK;
	case 40029:
	case 40163:	return WECHAT_BAD_CODE;
	case 45011:	return WECHAT_RATE_LIMIT;
	case -1:	return WECHAT_BUSY;
	case 40013:
	case 40125:	return WECHAT_BAD_APP;
	case 42001:
	case 42002:
	case 40001:
	case 40030:	return WECHAT_TOKEN_EXPIRED;
	}
	return WECHAT_REFUSED;
}

enum flow_step { STEP_CODE, STEP_USERINFO, STEP_REFRESH, STEP_JSCODE };

/* One exchange in flight: its secrets and tokens die with it. */
struct flow {
	struct app		*app;
	uint32_t		 brand_id;
	int			 scope;
	enum flow_step		 step;
	char			 appid[STORE_WX_APPID_MAX + 1];
	char			 secret[WECHAT_SECRET_MAX + 1];
	char			 access[600], refresh[600];
	struct wechat_answer	 a;
	wechat_done_fn		 done;
	void			*arg;
};

static void
flow_end(struct flow *f)
{
	wechat_done_fn done = f->done;
	void *arg = f->arg;
	struct wechat_answer a = f->a;

	if (a.result != WECHAT_OK)
		f->app->wechat->errors++;
	OPENSSL_cleanse(f, sizeof *f);
	free(f);
	done(&a, arg);
	OPENSSL_cleanse(&a, sizeof a);
}

static void answered(int result, int status, const char *body, size_t len,
    void *arg);

/* GET {api}{path}?query for f's current step. */
static int
flow_get(struct flow *f, const char *path, const char *query)
{
	struct wechat *w = f->app->wechat;
	char url[2048];
	int n, err;

	n = snprintf(url, sizeof url, "%s%s?%s", w->api_prefix, path, query);
	if (n < 0 || (size_t)n >= sizeof url)
		return SIGIL_EINVAL;
	err = egress_get(f->app->egress, w->api_tls, w->api_host, w->api_port,
	    url, CALL_TIMEOUT_S, answered, f, NULL);
	OPENSSL_cleanse(url, sizeof url);
	return err;
}

static void
copy_str(json_t *o, const char *key, char *out, size_t size)
{
	const char *s = json_string_value(json_object_get(o, key));

	out[0] = '\0';
	if (s != NULL && strlen(s) < size)
		memcpy(out, s, strlen(s) + 1);
}

/* The next call of a flow, or its end. */
static void
flow_next(struct flow *f, const char *path, const char *fmt1,
    const char *v1, const char *v2)
{
	char query[1600], e1[700], e2[700];
	int n;

	if (url_encode(v1, e1, sizeof e1) != 0 ||
	    url_encode(v2, e2, sizeof e2) != 0 ||
	    (n = snprintf(query, sizeof query, fmt1, e1, e2)) < 0 ||
	    (size_t)n >= sizeof query || flow_get(f, path, query) != 0) {
		f->a.result = WECHAT_NO_ANSWER;
		OPENSSL_cleanse(query, sizeof query);
		flow_end(f);
		return;
	}
	OPENSSL_cleanse(query, sizeof query);
	OPENSSL_cleanse(e1, sizeof e1);
	OPENSSL_cleanse(e2, sizeof e2);
}

static void
userinfo_call(struct flow *f)
{
	f->step = STEP_USERINFO;
	flow_next(f, "/sns/userinfo", "access_token=%s&openid=%s&lang=zh_CN",
	    f->access, f->a.openid);
}

static void
refresh_call(struct flow *f)
{
	char fmt[128];

	f->step = STEP_REFRESH;
	/* appid is ours (checked hex), not a consumer's: as it is. */
	snprintf(fmt, sizeof fmt, "appid=%s&grant_type=refresh_token"
	    "&refresh_token=%%s%%s", f->appid);
	flow_next(f, "/sns/oauth2/refresh_token", fmt, f->refresh, "");
}

static void
answered(int result, int status, const char *body, size_t len, void *arg)
{
	struct flow *f = arg;
	json_t *o = NULL;
	json_int_t ec = 0;

	(void)status;
	if (result == EGRESS_OK)
		o = json_loadb(body, len, 0, NULL);
	if (!json_is_object(o)) {
		log_warn("wechat", "brand=%u step=%d result=no_answer egress=%s "
		    "status=%d", f->brand_id, (int)f->step,
		    egress_result_name(result), status);
		json_decref(o);
		/* The profile is a bonus: the openid had stays had. */
		if (f->step == STEP_USERINFO || f->step == STEP_REFRESH)
			f->a.result = WECHAT_OK;
		else
			f->a.result = WECHAT_NO_ANSWER;
		flow_end(f);
		return;
	}
	if (json_is_integer(json_object_get(o, "errcode")))
		ec = json_integer_value(json_object_get(o, "errcode"));
	if (ec != 0) {
		f->a.errcode = (int)ec;
		log_warn("wechat", "brand=%u step=%d errcode=%d result=%s",
		    f->brand_id, (int)f->step, (int)ec,
		    wechat_result_name(errcode_result((int)ec)));
		json_decref(o);
		if (f->step == STEP_USERINFO && errcode_result((int)ec) ==
		    WECHAT_TOKEN_EXPIRED && !f->a.refreshed &&
		    f->refresh[0] != '\0') {
			refresh_call(f);
			return;
		}
		f->a.result = f->step == STEP_USERINFO ||
		    f->step == STEP_REFRESH ? WECHAT_OK : errcode_result((int)ec);
		flow_end(f);
		return;
	}
	switch (f->step) {
	case STEP_CODE:
	case STEP_JSCODE:
		copy_str(o, "openid", f->a.openid, sizeof f->a.openid);
		copy_str(o, "unionid", f->a.unionid, sizeof f->a.unionid);
		copy_str(o, "access_token", f->access, sizeof f->access);
		copy_str(o, "refresh_token", f->refresh, sizeof f->refresh);
		json_decref(o);
		if (f->a.openid[0] == '\0') {
			f->a.result = WECHAT_NO_ANSWER;
			break;
		}
		f->a.result = WECHAT_OK;
		if (f->step == STEP_CODE && f->scope == WECHAT_USERINFO &&
		    f->access[0] != '\0') {
			userinfo_call(f);
			return;
		}
		break;
	case STEP_REFRESH:
		copy_str(o, "access_token", f->access, sizeof f->access);
		json_decref(o);
		f->a.refreshed = 1;
		f->app->wechat->refreshed++;
		if (f->access[0] != '\0') {
			userinfo_call(f);
			return;
		}
		break;
	case STEP_USERINFO:
		copy_str(o, "nickname", f->a.nickname, sizeof f->a.nickname);
		copy_str(o, "headimgurl", f->a.avatar, sizeof f->a.avatar);
		if (f->a.unionid[0] == '\0')
			copy_str(o, "unionid", f->a.unionid,
			    sizeof f->a.unionid);
		json_decref(o);
		break;
	}
	flow_end(f);
}

static struct flow *
flow_new(struct app *app, uint32_t brand_id, const struct wechat_app *wa,
    wechat_done_fn done, void *arg)
{
	struct flow *f;

	if (app->wechat == NULL || app->egress == NULL || wa->appid[0] == '\0')
		return NULL;
	if ((f = calloc(1, sizeof *f)) == NULL)
		return NULL;
	f->app = app;
	f->brand_id = brand_id;
	f->done = done;
	f->arg = arg;
	snprintf(f->appid, sizeof f->appid, "%s", wa->appid);
	if (wechat_secret(app, brand_id, wa, f->secret) != 0) {
		OPENSSL_cleanse(f, sizeof *f);
		free(f);
		return NULL;
	}
	return f;
}

/* The first call; its failure to start ends the flow without done. */
static int
flow_start(struct flow *f, const char *path, const char *code_param,
    const char *code)
{
	char query[1200], enc[600], fmt[200];
	int n, err = SIGIL_EINVAL;

	if (code == NULL || code[0] == '\0' || strlen(code) > 256 ||
	    url_encode(code, enc, sizeof enc) != 0)
		goto out;
	snprintf(fmt, sizeof fmt, "appid=%%s&secret=%%s&%s=%%s"
	    "&grant_type=authorization_code", code_param);
	n = snprintf(query, sizeof query, fmt, f->appid, f->secret, enc);
	if (n < 0 || (size_t)n >= sizeof query)
		goto out;
	err = flow_get(f, path, query);
out:
	OPENSSL_cleanse(query, sizeof query);
	OPENSSL_cleanse(f->secret, sizeof f->secret);
	if (err != 0) {
		OPENSSL_cleanse(f, sizeof *f);
		free(f);
	}
	return err;
}

int
wechat_oauth(struct app *app, uint32_t brand_id, const struct wechat_app *oa,
    const char *code, int scope, wechat_done_fn done, void *arg)
{
	struct flow *f = flow_new(app, brand_id, oa, done, arg);

	if (f == NULL)
		return SIGIL_EINVAL;
	f->scope = scope;
	f->step = STEP_CODE;
	return flow_start(f, "/sns/oauth2/access_token", "code", code);
}

int
wechat_jscode(struct app *app, uint32_t brand_id, const struct wechat_app *mp,
    const char *code, wechat_done_fn done, void *arg)
{
	struct flow *f = flow_new(app, brand_id, mp, done, arg);

	if (f == NULL)
		return SIGIL_EINVAL;
	f->step = STEP_JSCODE;
	return flow_start(f, "/sns/jscode2session", "js_code", code);
}
