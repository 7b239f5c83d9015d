/*
 * wechat.h - WeChat's official-account web authorisation and mini-program
 * login (domain layer, src/domain/wechat.c): the brand's applications
 * (app ids, sealed AppSecrets), the signed single-use OAuth state, the
 * calls to WeChat's API (through egress.h) and what each answer means.
 * The HTTP side is src/face/wechat_oauth.c and src/face/wechat_api.c.
 * docs/wechat.md says what was tested against the stand-in and what only
 * against WeChat's documentation.
 */
#ifndef SIGIL_WECHAT_H
#define SIGIL_WECHAT_H

#include <stddef.h>
#include <stdint.h>

#include "sigil/identity.h"
#include "sigil/store.h"

struct app;
struct json_t;

#define WECHAT_URL_MAX		256
#define WECHAT_SECRET_MAX	64
#define WECHAT_STATE_LEN	92	/* hex digits (WeChat allows 128) */
#define WECHAT_STATE_TTL_S	600

enum wechat_scope { WECHAT_BASE = 1, WECHAT_USERINFO = 2 };

/* The process state, app->wechat: keys and the operator's base URLs. */
struct wechat {
	uint8_t		hash_key[32];	/* "ident-hash": identities' lookups */
	uint8_t		enc_key[32];	/* "ident-enc": identities kept */
	uint8_t		secret_key[32];	/* "wechat-enc": AppSecrets kept */
	uint8_t		state_key[32];	/* "wechat-state": OAuth states */
	char		open[WECHAT_URL_MAX + 1];	/* --wechat-open */
	int		api_tls, api_port;	/* --wechat-api, parsed */
	char		api_host[WECHAT_URL_MAX + 1];
	char		api_prefix[WECHAT_URL_MAX + 1];	/* path, no '/' last */
	/* counters for /metrics */
	uint64_t	redirects, logins, errors, refreshed;
};

/*
 * Loads the keyring secrets (made on first use) and the base URLs (NULL:
 * https://api.weixin.qq.com and https://open.weixin.qq.com); sets
 * app->wechat. 0, SIGIL_EINVAL (a URL that is not http(s)://host[:port]
 * [/path]), SIGIL_ENOMEM, the keyring's errors.
 */
int wechat_init(struct app *app, const char *api, const char *open);
void wechat_fini(struct app *app);

/* ---- the brand's applications ---- */

/*
 * The brand's configuration as GET /api/v1/wechat shows it: never a
 * secret, only whether one is set. A new reference.
 */
struct json_t *wechat_config_json(struct app *app, uint32_t brand_id);

/*
 * Reads a PUT body ({oa: {appid, secret, userinfo}, mp: {appid,
 * secret}}, either null to remove) over the brand's current
 * configuration into out, the secrets sealed (a secret left out keeps
 * the one set for the same app id). 0, or SIGIL_EINVAL with *why.
 */
int wechat_config_read(struct app *app, uint32_t brand_id,
    const struct json_t *body, struct wechat_config *out, const char **why);

/* The AppSecret of a (sealed in the configuration): 0 or SIGIL_EFORGED. */
int wechat_secret(struct app *app, uint32_t brand_id,
    const struct wechat_app *a, char out[WECHAT_SECRET_MAX + 1]);

/* ---- the OAuth state: signed, expiring, single-use ---- */

/*
 * A state for brand_id, device, scope and the path the consumer goes
 * back to (to, signed with it), WECHAT_STATE_TTL_S from now, with a
 * random nonce. out: WECHAT_STATE_LEN hex digits and a NUL.
 * 0 or SIGIL_ECRYPTO (no randomness).
 */
int wechat_state_make(struct app *app, uint32_t brand_id, uint64_t device,
    int scope, const char *to, char out[WECHAT_STATE_LEN + 1]);

struct wechat_state {
	uint32_t	brand_id;
	uint64_t	device;
	int		scope;
	int64_t		expires;	/* microseconds */
	uint8_t		nonce[8];
};
/*
 * Checks state's signature over its fields and to, and its expiry at
 * now: 0 and *out, SIGIL_EFORGED (malformed or altered), SIGIL_ESTATE
 * (expired). Its single use is store_wechat_state_spend's.
 */
int wechat_state_check(struct app *app, const char *state, const char *to,
    int64_t now, struct wechat_state *out);

/*
 * The authorize URL the consumer's browser is sent to (302): the
 * official account's appid, redirect_uri (base URL /wx/oauth?to=...),
 * response_type=code, scope, state and #wechat_redirect. 0 or
 * SIGIL_EFULL.
 */
int wechat_authorize_url(struct app *app, const char *appid,
    const char *base, const char *to, int scope, const char *state,
    char *out, size_t size);

/* Whether a User-Agent is WeChat's built-in browser (MicroMessenger). */
int wechat_user_agent(const char *ua);

/*
 * Whether the customer may be asked for a WeChat profile (nickname,
 * avatar): current "profile" consent. 1, 0, or <0 a store error.
 */
int wechat_profile_consent(struct app *app, uint32_t brand_id,
    uint64_t customer_id);

/* ---- WeChat's API ---- */

/* How a call ended, each with its outcome (docs/wechat.md). */
enum wechat_result {
	WECHAT_OK = 0,
	WECHAT_BAD_CODE,	/* 40029 invalid code, 40163 code used */
	WECHAT_RATE_LIMIT,	/* 45011 */
	WECHAT_BUSY,		/* -1 */
	WECHAT_BAD_APP,		/* 40013 invalid appid, 40125 appsecret */
	WECHAT_TOKEN_EXPIRED,	/* 42001, 42002, 40001, 40030 */
	WECHAT_REFUSED,		/* any other errcode */
	WECHAT_NO_ANSWER,	/* no answer, a non-2xx, not JSON */
};
const char *wechat_result_name(int result);

struct wechat_answer {
	int		result;
	int		errcode;	/* WeChat's, 0 when none */
	char		openid[IDENT_ID_MAX + 1];
	char		unionid[IDENT_ID_MAX + 1];
	char		nickname[IDENT_NICK_MAX + 1];
	char		avatar[IDENT_AVATAR_MAX + 1];
	int		refreshed;	/* the access token was refreshed */
};

typedef void (*wechat_done_fn)(const struct wechat_answer *a, void *arg);

/*
 * The official account's code exchanged (/sns/oauth2/access_token) and,
 * for WECHAT_USERINFO, the profile fetched (/sns/userinfo; an expired
 * access token is refreshed with /sns/oauth2/refresh_token and the call
 * made once more). done is called once, never from inside, with what was
 * had: openid (and unionid) even when the profile could not be. Tokens
 * never leave this file. 0, or SIGIL_EINVAL / SIGIL_ENOMEM (done is then
 * not called).
 */
int wechat_oauth(struct app *app, uint32_t brand_id,
    const struct wechat_app *oa, const char *code, int scope,
    wechat_done_fn done, void *arg);

/* The mini-program's login code exchanged (/sns/jscode2session); the
 * session_key is dropped unread. As wechat_oauth. */
int wechat_jscode(struct app *app, uint32_t brand_id,
    const struct wechat_app *mp, const char *code, wechat_done_fn done,
    void *arg);

#endif
