/*
 * api_pay_settings.c - a brand's WeChat Pay merchant settings and keys
 * over the brand API (issue 22), admins only (route_api.c):
 *
 *   GET /api/v1/payments/settings   the settings, whether each key is
 *                                   set (and the private key's
 *                                   fingerprint), the notify URL
 *   PUT /api/v1/payments/settings   mchid, appid, serial_no, pub_key_id,
 *                                   public_key, scene_id, remark,
 *                                   activity, reward (payout.c checks)
 *   PUT /api/v1/payments/keys       {"private_key": PEM, "apiv3_key":
 *                                   32 characters}: into the keyring
 *
 * The keys never come back: not in an answer, not in a log line, not in
 * the audit trail (which records that they were set, by whom). They go
 * to the keyring file (outside LMDB, like the brands' code keys), not
 * the store: a copy of the database, a backup or an export never holds
 * them. The keyring write rewrites and syncs a file, so it is not done
 * on the loop: the writer thread runs it as an op (one at a time, which
 * keyring_blob_put needs, and http_write wipes the op's copy of the
 * bytes after the reply). A private key is checked before it is kept:
 * it must parse as an RSA key of at least 2048 bits, as WeChat Pay's
 * API certificates are.
 *
 * A handler file: may call payout.c (the settings check), keyring, the
 * store (reads), http, http_api.c, http_write; never another handler.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "sigil/api.h"
#include "sigil/app.h"
#include "sigil/http.h"
#include "sigil/http_write.h"
#include "sigil/keyring.h"
#include "sigil/payout.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "sigil/writer.h"
#include "sigil/wxpay.h"

/* "SHA256:" and wxpay_key_fingerprint's hex: what the brand compares
 * with its own copy (the CLI prints the same hex), never the key. */
static int
key_fingerprint(EVP_PKEY *k, char *out, size_t size)
{
	char hex[65];

	if (wxpay_key_fingerprint(k, hex) != 0)
		return -1;
	snprintf(out, size, "SHA256:%s", hex);
	return 0;
}

/* What the keyring holds for brand_id, as {"private_key": {set,
 * fingerprint, bits}, "apiv3_key": {set}}. */
static json_t *
keys_json(struct keyring *kr, uint32_t brand_id)
{
	char name[WXPAY_BLOB_NAME_MAX + 1], v3name[WXPAY_BLOB_NAME_MAX + 1];
	char fp[80] = "";
	uint8_t *v = NULL;
	size_t len = 0;
	int bits = 0, has_key = 0, has_v3 = 0;
	EVP_PKEY *k;

	wxpay_blob_names(brand_id, name, v3name);
	if (keyring_blob_get(kr, name, &v, &len) == 0) {
		has_key = 1;
		if (wxpay_key_load((const char *)v, len, &k) == 0) {
			bits = EVP_PKEY_get_bits(k);
			if (key_fingerprint(k, fp, sizeof fp) != 0)
				fp[0] = '\0';
			EVP_PKEY_free(k);
		}
		keyring_blob_free(v, len);
	}
	if (keyring_blob_get(kr, v3name, &v, &len) == 0) {
		has_v3 = wxpay_apiv3_key_check(v, len) == 0;
		keyring_blob_free(v, len);
	}
	return json_pack("{s:{s:b,s:s?,s:o},s:{s:b}}", "private_key", "set",
	    has_key, "fingerprint", fp[0] ? fp : NULL, "bits", bits ?
	    json_integer(bits) : json_null(), "apiv3_key", "set", has_v3);
}

/* base_url + /wxpay/notify/{brand}: where WeChat Pay is told to call. */
static json_t *
notify_url(struct app *app, uint32_t brand_id)
{
	char u[512];

	if (app->base_url == NULL)
		return json_null();
	snprintf(u, sizeof u, "%s/wxpay/notify/%u", app->base_url, brand_id);
	return json_string(u);
}

/* ---- GET, PUT payments/settings ---- */

void
api_pay_settings_get(struct api_call *a)
{
	char *text = NULL;
	json_t *set = NULL;
	int rc;

	rc = store_pay_settings_get(a->app->store, a->brand.id, &text);
	if (rc != 0 && rc != SIGIL_ENOTFOUND) {
		api_store_fail(a, rc, "payment settings");
		return;
	}
	if (rc == 0) {
		set = json_loads(text, 0, NULL);
		free(text);
	}
	http_add_header(a->c, "Cache-Control", "no-store");
	api_reply(a, 200, json_pack("{s:o,s:o,s:o}", "settings", set != NULL ?
	    set : json_null(), "keys", keys_json(a->app->keyring,
	    a->brand.id), "notify_url", notify_url(a->app, a->brand.id)));
}

struct settings_put {
	uint32_t	 brand_id;
	char		*json;		/* malloc'd, freed by the reply */
};

static int
settings_put_run(struct store *st, void *arg)
{
	struct settings_put *x = arg;

	return store_pay_settings_put(st, x->brand_id, x->json);
}
static const struct writer_op pay_settings_op = { "pay_settings_put",
	settings_put_run, NULL };

static void
settings_saved(struct http_call *c, void *arg, int err)
{
	struct settings_put *x = arg;
	json_t *o = json_loads(x->json, 0, NULL);

	free(x->json);
	api_write_reply(c, err, "payment settings", 200, json_pack("{s:o}",
	    "settings", o != NULL ? o : json_null()));
}

static int
stop_at_one(void *arg, const struct payout *p)
{
	(void)p;
	*(int *)arg = 1;
	return 1;
}

/*
 * 1 when the stored settings name another merchant than mchid and the
 * brand has a payout WeChat Pay may still be working on (pending or
 * accepted): its queries would go to the new merchant, which knows no
 * such bill, and a "no such bill" would fail a payout that is paying.
 */
static int
merchant_busy(struct store *st, uint32_t brand_id, const char *mchid)
{
	struct payout_filter f = { 0 };
	char *text = NULL;
	json_t *old;
	const char *was;
	int other, any = 0;

	if (store_pay_settings_get(st, brand_id, &text) != 0)
		return 0;
	old = json_loads(text, 0, NULL);
	free(text);
	was = json_string_value(json_object_get(old, "mchid"));
	other = was != NULL && mchid != NULL && strcmp(was, mchid) != 0;
	json_decref(old);
	if (!other)
		return 0;
	f.state = PAYOUT_PENDING;
	store_payout_each(st, brand_id, &f, stop_at_one, &any);
	f.state = PAYOUT_ACCEPTED;
	if (!any)
		store_payout_each(st, brand_id, &f, stop_at_one, &any);
	return any;
}

void
api_pay_settings_put(struct api_call *a)
{
	struct settings_put x = { a->brand.id, NULL };
	json_t *out = NULL;
	char err[256];

	if (api_body(a) != 0)
		return;
	if (payout_settings_check(a->body, &out, err, sizeof err) != 0) {
		api_fail(a, 422, "invalid", err);
		return;
	}
	if (merchant_busy(a->app->store, a->brand.id, json_string_value(
	    json_object_get(out, "mchid")))) {
		json_decref(out);
		api_fail(a, 409, "payouts_in_flight", "payouts are still "
		    "pending or accepted at the current merchant (mchid): let "
		    "them finish (or hold new ones) before changing it");
		return;
	}
	x.json = json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(out);
	if (x.json == NULL) {
		api_fail(a, 503, "unavailable", "out of memory");
		return;
	}
	http_write(a->c, &pay_settings_op, &x, sizeof x, settings_saved);
}

/* ---- PUT payments/keys ---- */

/* On the writer thread: the keyring's own file, outside LMDB. */
struct keys_put {
	struct keyring	*kr;
	uint32_t	 brand_id;
	size_t		 pem_len;	/* 0: not given */
	char		 pem[KEYRING_BLOB_MAX];
	int		 has_v3;
	uint8_t		 v3[WXPAY_APIV3_KEY_LEN];
};

static int
keys_put_run(struct store *st, void *arg)
{
	struct keys_put *x = arg;
	char name[WXPAY_BLOB_NAME_MAX + 1], v3name[WXPAY_BLOB_NAME_MAX + 1];
	int rc = 0;

	(void)st;
	wxpay_blob_names(x->brand_id, name, v3name);
	if (x->pem_len > 0)
		rc = keyring_blob_put(x->kr, name, x->pem, x->pem_len);
	if (rc == 0 && x->has_v3)
		rc = keyring_blob_put(x->kr, v3name, x->v3, sizeof x->v3);
	return rc;
}
static const struct writer_op pay_keys_op = { "pay_keys_put", keys_put_run,
	NULL };

static void
keys_saved(struct http_call *c, void *arg, int err)
{
	struct keys_put *x = arg;
	char id[16], detail[64];

	if (err != 0) {
		api_write_fail(c, err, "payment keys");
		return;
	}
	snprintf(id, sizeof id, "%u", x->brand_id);
	snprintf(detail, sizeof detail, "{\"private_key\":%s,\"apiv3_key\":"
	    "%s}", x->pem_len ? "true" : "false", x->has_v3 ? "true" :
	    "false");
	/* The op committed nothing to LMDB, so the writer recorded no
	 * entry: the trail gets one here (never the bytes). */
	http_audit_note(c, "pay_keys_put", "brand", id, detail);
	http_add_header(c, "Cache-Control", "no-store");
	http_reply_jsont(c, 200, json_pack("{s:o}", "keys",
	    keys_json(((struct app *)c->app)->keyring, x->brand_id)));
}

void
api_pay_keys_put(struct api_call *a)
{
	struct keys_put *x;
	const char *key;
	json_t *v, *pk, *v3;
	EVP_PKEY *k;
	size_t n;

	if (api_body(a) != 0)
		return;
	json_object_foreach(a->body, key, v) {
		if (strcmp(key, "private_key") != 0 &&
		    strcmp(key, "apiv3_key") != 0) {
			api_fail(a, 422, "invalid", "the keys are private_key "
			    "(PEM) and apiv3_key only");
			return;
		}
	}
	pk = json_object_get(a->body, "private_key");
	v3 = json_object_get(a->body, "apiv3_key");
	if (pk == NULL && v3 == NULL) {
		api_fail(a, 422, "invalid", "give private_key (PEM), "
		    "apiv3_key (32 characters), or both");
		return;
	}
	if ((pk != NULL && !json_is_string(pk)) || (v3 != NULL &&
	    !json_is_string(v3))) {
		api_fail(a, 422, "invalid", "private_key and apiv3_key are "
		    "strings");
		return;
	}
	if ((x = calloc(1, sizeof *x)) == NULL) {
		api_fail(a, 503, "unavailable", "out of memory");
		return;
	}
	if (pk != NULL) {
		n = json_string_length(pk);
		if (n == 0 || n >= sizeof x->pem) {
			api_fail(a, 422, "invalid", "private_key must be the "
			    "PEM text of the merchant's API key (apiclient_"
			    "key.pem)");
			goto out;
		}
		memcpy(x->pem, json_string_value(pk), n);
		if (wxpay_key_load(x->pem, n, &k) != 0) {
			api_fail(a, 422, "invalid", "private_key must be an "
			    "unencrypted PEM RSA private key of at least 2048 "
			    "bits (apiclient_key.pem)");
			goto out;
		}
		EVP_PKEY_free(k);
		x->pem_len = n;
	}
	if (v3 != NULL) {
		const char *s = json_string_value(v3);

		if (wxpay_apiv3_key_check(s, json_string_length(v3)) != 0) {
			api_fail(a, 422, "invalid", "apiv3_key must be the 32 "
			    "printable ASCII characters set on the merchant "
			    "platform");
			goto out;
		}
		memcpy(x->v3, s, WXPAY_APIV3_KEY_LEN);
		x->has_v3 = 1;
	}
	x->kr = a->app->keyring;
	x->brand_id = a->brand.id;
	http_write(a->c, &pay_keys_op, x, sizeof *x, keys_saved);
out:
	OPENSSL_cleanse(x, sizeof *x);
	free(x);
	/* The body's copies: jansson's strings, freed by the router. */
	if (pk != NULL)
		OPENSSL_cleanse((char *)json_string_value(pk),
		    json_string_length(pk));
	if (v3 != NULL)
		OPENSSL_cleanse((char *)json_string_value(v3),
		    json_string_length(v3));
}
