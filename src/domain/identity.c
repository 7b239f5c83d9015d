/*
 * identity.c - a customer's WeChat identity.
 *
 * Personal data, kept like the phone (customer.c): an openid or unionid
 * is looked up by HMAC-SHA256 under the keyring secret "ident-hash" of
 * the app id, a zero byte and the identifier (the app id is empty for a
 * unionid, one across the brand's official account and mini-program), and
 * kept only as AES-256-GCM ciphertext under "ident-enc" with the brand
 * id as associated data: the identifier, and apart from it (so that a
 * withdrawal of "profile" consent drops it alone, store_consent.c) the
 * nickname and avatar URL when the customer let the brand have them. It
 * is shown masked (oAbC****wXyZ) everywhere but the PIPL export, and never
 * reaches the server log (log lines carry customer ids).
 *
 * A WeChat login is one writer op (identity_wechat_op over
 * store_wechat_link): found by unionid, then openid; else the device's
 * customer takes the identity when it holds none of that app; else a new
 * customer without a phone. Hashing and sealing happen before, on the
 * loop, which alone holds the keys.
 *
 * The payee of a cash prize (issue 22, identity_payee) is the openid of
 * the appid the brand's merchant transfers under, opened here, the one
 * place that holds the key; it goes to the store only in the payout row
 * that WeChat Pay needs it for.
 *
 * Owns the identity rules. May call store, util, jansson and OpenSSL,
 * and read app->wechat's keys. Never knows about HTTP, never writes to
 * the store on the loop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sigil/app.h"
#include "sigil/consent.h"
#include "sigil/identity.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "sigil/wechat.h"
#include "sigil/writer.h"

void
identity_hash(struct app *app, const char *appid, const char *value,
    uint8_t out[32])
{
	uint8_t buf[STORE_WX_APPID_MAX + 1 + IDENT_ID_MAX + 1];
	size_t al = strnlen(appid, STORE_WX_APPID_MAX);
	size_t vl = strnlen(value, IDENT_ID_MAX);
	unsigned int len = 32;

	memcpy(buf, appid, al);
	buf[al] = 0;
	memcpy(buf + al + 1, value, vl);
	if (HMAC(EVP_sha256(), app->wechat->hash_key, 32, buf, al + 1 + vl,
	    out, &len) == NULL)
		memset(out, 0, 32);
	OPENSSL_cleanse(buf, sizeof buf);
}

void
identity_mask(const char *v, char *out, size_t size)
{
	size_t n = strlen(v);

	if (n <= 8)
		snprintf(out, size, "****");
	else
		snprintf(out, size, "%.4s****%s", v, v + n - 4);
}

const char *
identity_kind_name(int kind)
{
	switch (kind) {
	case IDENT_WECHAT_OA:		return "wechat_oa";
	case IDENT_WECHAT_MP:		return "wechat_mp";
	case IDENT_WECHAT_UNION:	return "wechat_union";
	}
	return "unknown";
}

/* Seals json o's text for brand_id into out (size bytes): *len. */
static int
seal(struct app *app, uint32_t brand_id, json_t *o, uint8_t *out,
    size_t size, size_t *len)
{
	uint8_t aad[4];
	char *text = json_dumps(o, JSON_COMPACT);
	size_t n;
	int err;

	if (text == NULL)
		return SIGIL_ENOMEM;
	n = strlen(text);
	if (n + SIGIL_SEAL_OVERHEAD > size) {
		OPENSSL_cleanse(text, n);
		free(text);
		return SIGIL_EINVAL;
	}
	sigil_be32_put(aad, brand_id);
	err = sigil_seal(app->wechat->enc_key, aad, 4, (const uint8_t *)text,
	    n, out);
	if (err == 0)
		*len = n + SIGIL_SEAL_OVERHEAD;
	OPENSSL_cleanse(text, n);
	free(text);
	return err;
}

/* What seal made, opened and parsed: a new reference or NULL. */
static json_t *
unseal(struct app *app, uint32_t brand_id, const uint8_t *in, size_t len)
{
	uint8_t aad[4], buf[STORE_IDENT_PROF_MAX];
	json_t *v = NULL;

	if (len <= SIGIL_SEAL_OVERHEAD || len > sizeof buf)
		return NULL;
	sigil_be32_put(aad, brand_id);
	if (sigil_open(app->wechat->enc_key, aad, 4, in, len, buf) == 0)
		v = json_loadb((const char *)buf, len - SIGIL_SEAL_OVERHEAD, 0,
		    NULL);
	OPENSSL_cleanse(buf, sizeof buf);
	return v;
}

/* An identifier WeChat gives: printable ASCII, 1 to IDENT_ID_MAX bytes. */
static int
id_ok(const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;

	if (n == 0 || n > IDENT_ID_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] > '~')
			return 0;
	return 1;
}

static int
bind_one(struct app *app, uint32_t brand_id, int kind, const char *appid,
    const char *id, const char *nickname, const char *avatar,
    struct ident_bind *b)
{
	json_t *o;
	int err;

	memset(b, 0, sizeof *b);
	b->kind = kind;
	snprintf(b->app, sizeof b->app, "%s", appid);
	identity_hash(app, appid, id, b->hash);
	if ((o = json_pack("{s:s}", "id", id)) == NULL)
		return SIGIL_ENOMEM;
	err = seal(app, brand_id, o, b->ct, sizeof b->ct, &b->ct_len);
	json_decref(o);
	if (err != 0 || ((nickname == NULL || nickname[0] == '\0') &&
	    (avatar == NULL || avatar[0] == '\0')))
		return err;
	/* The profile apart, so that a withdrawal can drop it alone. */
	if ((o = json_object()) == NULL)
		return SIGIL_ENOMEM;
	if (nickname != NULL && nickname[0] != '\0')
		json_object_set_new(o, "nickname", json_string(nickname));
	if (avatar != NULL && avatar[0] != '\0')
		json_object_set_new(o, "avatar", json_string(avatar));
	b->update = 1;
	err = seal(app, brand_id, o, b->prof, sizeof b->prof, &b->prof_len);
	json_decref(o);
	return err;
}

int
identity_wechat_prepare(struct app *app, uint32_t brand_id, int kind,
    const char *appid, const char *openid, const char *unionid,
    const char *nickname, const char *avatar, uint64_t device,
    struct wechat_link *out)
{
	int err, n = 0;

	if ((kind != IDENT_WECHAT_OA && kind != IDENT_WECHAT_MP) ||
	    !id_ok(openid) || (unionid != NULL && unionid[0] != '\0' &&
	    !id_ok(unionid)) || strlen(appid) > STORE_WX_APPID_MAX ||
	    (nickname != NULL && strlen(nickname) > IDENT_NICK_MAX) ||
	    (avatar != NULL && strlen(avatar) > IDENT_AVATAR_MAX))
		return SIGIL_EINVAL;
	memset(out, 0, sizeof *out);
	out->brand_id = brand_id;
	out->device = device;
	out->now = sigil_now_us();
	if (unionid != NULL && unionid[0] != '\0') {
		if ((err = bind_one(app, brand_id, IDENT_WECHAT_UNION, "",
		    unionid, NULL, NULL, &out->ids[n])) != 0)
			goto fail;
		n++;
	}
	if ((err = bind_one(app, brand_id, kind, appid, openid, nickname,
	    avatar, &out->ids[n])) != 0)
		goto fail;
	out->n = n + 1;
	return 0;
fail:
	OPENSSL_cleanse(out, sizeof *out);
	return err;
}

/*
 * The customer a login will land on, as far as a read can tell: the
 * unionid's or openid's, else the device's. 0 when none yet.
 */
static uint64_t
landing_customer(struct store *st, const struct wechat_link *l)
{
	uint64_t id;

	for (int n = 0; n < l->n; n++)
		if (store_ident_find(st, l->brand_id, l->ids[n].kind,
		    l->ids[n].hash, &id) == 0)
			return id;
	if (l->device != 0 && store_device_customer(st, l->brand_id,
	    l->device, &id) == 0)
		return id;
	return 0;
}

/*
 * On the writer thread, so nothing writes between this read and the
 * login's transaction: a profile (nickname, avatar) is kept only when
 * the customer's latest "profile" entry is a grant at this moment (a
 * withdrawal that landed while WeChat was asked wins).
 */
static int
login_run(struct store *st, void *arg)
{
	struct wechat_link *l = arg;
	struct consent_entry e;
	uint64_t id;
	int profile = 0;

	for (int n = 0; n < l->n; n++)
		profile |= l->ids[n].prof_len > 0;
	if (profile && ((id = landing_customer(st, l)) == 0 ||
	    store_consent_latest(st, l->brand_id, id, CONSENT_PROFILE,
	    &e) != 0 || e.action != CONSENT_GRANT))
		for (int n = 0; n < l->n; n++) {
			OPENSSL_cleanse(l->ids[n].prof, sizeof l->ids[n].prof);
			l->ids[n].prof_len = 0;
			l->ids[n].update = 0;
		}
	return store_wechat_link(st, l);
}

const struct writer_op identity_wechat_op = { "wechat_login", login_run };

/* ---- the payee of a cash prize (issue 22) ---- */

struct payee_ctx {
	struct app	*app;
	const char	*appid;
	char		*out;
	size_t		 size;
	int64_t		 bound;
	int		 found;
};

static int
payee_one(void *arg, const struct ident *i)
{
	struct payee_ctx *p = arg;
	const char *id;
	json_t *v;

	if ((i->kind != IDENT_WECHAT_OA && i->kind != IDENT_WECHAT_MP) ||
	    strcmp(i->app, p->appid) != 0)
		return 0;
	v = unseal(p->app, i->brand_id, i->ct, i->ct_len);
	if ((id = json_string_value(json_object_get(v, "id"))) != NULL &&
	    strlen(id) < p->size) {
		snprintf(p->out, p->size, "%s", id);
		p->bound = i->at;
		p->found = 1;
	}
	json_decref(v);
	return p->found;
}

/* The appid the brand's transfers are made under; "" when none. */
static void
pay_appid(struct store *st, uint32_t brand_id, char out[PAYOUT_APPID_MAX + 1])
{
	struct wechat_config wc;
	const char *a;
	char *text;
	json_t *o;

	out[0] = '\0';
	if (store_pay_settings_get(st, brand_id, &text) == 0) {
		o = json_loads(text, 0, NULL);
		free(text);
		a = json_string_value(json_object_get(o, "appid"));
		if (a != NULL && strlen(a) <= PAYOUT_APPID_MAX)
			snprintf(out, PAYOUT_APPID_MAX + 1, "%s", a);
		json_decref(o);
		if (out[0] != '\0')
			return;
	}
	if (store_wechat_config_get(st, brand_id, &wc) == 0)
		snprintf(out, PAYOUT_APPID_MAX + 1, "%s", wc.oa.appid[0] ?
		    wc.oa.appid : wc.mp.appid);
}

int
identity_payee(struct app *app, uint32_t brand_id, uint64_t customer_id,
    char appid[PAYOUT_APPID_MAX + 1], char openid[PAYOUT_OPENID_MAX + 1],
    int64_t *bound)
{
	struct payee_ctx p = { app, appid, openid, PAYOUT_OPENID_MAX + 1, 0,
	    0 };
	int rc;

	pay_appid(app->store, brand_id, appid);
	if (app->wechat == NULL || appid[0] == '\0')
		return SIGIL_ENOTFOUND;
	if ((rc = store_idents_of(app->store, brand_id, customer_id, payee_one,
	    &p)) < 0)
		return rc;
	if (!p.found)
		return SIGIL_ENOTFOUND;
	*bound = p.bound;
	return 0;
}

/* ---- the customer's identities, shown ---- */

struct list_ctx {
	struct app	*app;
	json_t		*arr;
	int		 full;
};

static int
list_one(void *arg, const struct ident *i)
{
	struct list_ctx *l = arg;
	char t[SIGIL_TIME_LEN + 1], masked[24];
	json_t *o, *v, *p;
	const char *id;

	o = json_pack("{s:s,s:s,s:s}", "kind", identity_kind_name(i->kind),
	    "app", i->app, "bound_at", sigil_time_format(i->at, t));
	v = unseal(l->app, i->brand_id, i->ct, i->ct_len);
	if ((id = json_string_value(json_object_get(v, "id"))) == NULL) {
		json_object_set_new(o, "masked", json_string("unreadable"));
	} else {
		identity_mask(id, masked, sizeof masked);
		json_object_set_new(o, "masked", json_string(masked));
		if (l->full)
			json_object_set_new(o, "id", json_string(id));
	}
	json_decref(v);
	if (i->prof_len > 0 && (p = unseal(l->app, i->brand_id, i->prof,
	    i->prof_len)) != NULL) {
		if (json_is_string(json_object_get(p, "nickname")))
			json_object_set(o, "nickname", json_object_get(p,
			    "nickname"));
		if (json_is_string(json_object_get(p, "avatar")))
			json_object_set(o, "avatar", json_object_get(p,
			    "avatar"));
		json_decref(p);
	}
	json_array_append_new(l->arr, o);
	return 0;
}

json_t *
identity_json(struct app *app, uint32_t brand_id, uint64_t customer_id,
    int full)
{
	struct list_ctx l = { app, json_array(), full };

	if (app->wechat != NULL)
		store_idents_of(app->store, brand_id, customer_id, list_one,
		    &l);
	return l.arr;
}
