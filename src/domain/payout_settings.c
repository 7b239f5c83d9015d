/*
 * payout_settings.c - a brand's WeChat Pay settings: the JSON the brand
 * API stores (store_pay_settings_put) and the dispatcher reads.
 *
 * Every field is checked the way WeChat Pay will read it, so a setting
 * that could only fail at the first transfer is refused when it is
 * saved: the merchant id is digits, the appid "wx" and 16 hex digits,
 * the certificate serial hex, the public key an RSA key of at least
 * 2048 bits with the id WeChat Pay gave it, the remark and the report
 * infos within WeChat's 32 characters. Unknown fields are refused, so a
 * misspelt one is never silently ignored.
 *
 * Owns nothing. May call store (reads), util, log, OpenSSL (parsing
 * the public key). Never sees a private key.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "sigil/app.h"
#include "sigil/payout.h"
#include "sigil/store.h"
#include "sigil/util.h"

#define DEFAULT_SCENE		"1000"
#define DEFAULT_REMARK		"红包"
#define DEFAULT_ACTIVITY	"扫码领红包"
#define DEFAULT_REWARD		"扫码抽奖现金红包"

/* 1 when s is 1..max characters of class: 'd' digits, 'h' hex, 'a'
 * letters, digits and '_'. */
static int
chars_ok(const char *s, size_t max, int class)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (class == 'd' ? !(ch >= '0' && ch <= '9') :
		    class == 'h' ? sigil_hex_digit(ch) < 0 :
		    !((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= 'A' && ch <= 'Z') || ch == '_'))
			return 0;
	}
	return 1;
}

static int
appid_ok(const char *s)
{
	return strlen(s) == 18 && s[0] == 'w' && s[1] == 'x' &&
	    chars_ok(s + 2, 16, 'h');
}

/* 1 when pem is an RSA public key of at least 2048 bits. */
static int
pubkey_ok(const char *pem)
{
	BIO *bio = BIO_new_mem_buf(pem, (int)strlen(pem));
	EVP_PKEY *k = NULL;
	int ok = 0;

	if (bio != NULL && (k = PEM_read_bio_PUBKEY(bio, NULL, NULL,
	    NULL)) != NULL)
		ok = EVP_PKEY_base_id(k) == EVP_PKEY_RSA &&
		    EVP_PKEY_bits(k) >= 2048;
	EVP_PKEY_free(k);
	BIO_free(bio);
	return ok;
}

/* The text field name of in, or def when absent (NULL: required). */
static const char *
text_of(json_t *in, const char *name, const char *def, char *err,
    size_t esize)
{
	json_t *v = json_object_get(in, name);

	if (v == NULL || json_is_null(v)) {
		if (def == NULL)
			snprintf(err, esize, "'%s' is required", name);
		return def;
	}
	if (!json_is_string(v)) {
		snprintf(err, esize, "'%s' must be a string", name);
		return NULL;
	}
	return json_string_value(v);
}

int
payout_settings_check(json_t *in, json_t **out, char *err, size_t esize)
{
	static const char *const known[] = { "mchid", "appid", "serial_no",
	    "pub_key_id", "public_key", "scene_id", "remark", "activity",
	    "reward" };
	static const char *const defaults[] = { NULL, NULL, NULL, NULL, NULL,
	    DEFAULT_SCENE, DEFAULT_REMARK, DEFAULT_ACTIVITY, DEFAULT_REWARD };
	const char *v[9], *k;
	struct sigil_text_err te;
	json_t *val, *o;
	size_t i, n = sizeof known / sizeof known[0];

	if (out != NULL)
		*out = NULL;
	if (!json_is_object(in)) {
		snprintf(err, esize, "the settings must be a JSON object");
		return SIGIL_EINVAL;
	}
	json_object_foreach(in, k, val) {
		for (i = 0; i < n && strcmp(k, known[i]) != 0; i++)
			;
		if (i == n) {
			snprintf(err, esize, "unknown field '%.40s'", k);
			return SIGIL_EINVAL;
		}
	}
	for (i = 0; i < n; i++)
		if ((v[i] = text_of(in, known[i], defaults[i], err, esize)) ==
		    NULL)
			return SIGIL_EINVAL;
	if (!chars_ok(v[0], PAYOUT_MCHID_MAX, 'd')) {
		snprintf(err, esize, "'mchid' must be the merchant id: digits");
		return SIGIL_EINVAL;
	}
	if (!appid_ok(v[1])) {
		snprintf(err, esize, "'appid' must be a WeChat AppID: \"wx\" "
		    "and 16 hex digits");
		return SIGIL_EINVAL;
	}
	if (!chars_ok(v[2], PAYOUT_SERIAL_MAX, 'h')) {
		snprintf(err, esize, "'serial_no' must be the merchant API "
		    "certificate's serial number: hex digits");
		return SIGIL_EINVAL;
	}
	if (strncmp(v[3], "PUB_KEY_ID_", 11) != 0 ||
	    !chars_ok(v[3], PAYOUT_PUBKEY_ID_MAX, 'a')) {
		snprintf(err, esize, "'pub_key_id' must be the WeChat Pay "
		    "public key's id: PUB_KEY_ID_ and letters or digits");
		return SIGIL_EINVAL;
	}
	if (strlen(v[4]) > PAYOUT_PEM_MAX || !pubkey_ok(v[4])) {
		snprintf(err, esize, "'public_key' must be the WeChat Pay "
		    "public key in PEM (-----BEGIN PUBLIC KEY-----), RSA 2048 "
		    "bits or more");
		return SIGIL_EINVAL;
	}
	if (!chars_ok(v[5], PAYOUT_SCENE_MAX, 'd')) {
		snprintf(err, esize, "'scene_id' must be a transfer scene id: "
		    "digits (1000 for cash marketing)");
		return SIGIL_EINVAL;
	}
	for (i = 6; i < n; i++)
		if (sigil_text_ok(v[i], i == 6 ? PAYOUT_REMARK_MAX :
		    PAYOUT_ACTIVITY_MAX, 0, &te) != 0) {
			sigil_text_explain(known[i], i == 6 ?
			    PAYOUT_REMARK_MAX : PAYOUT_ACTIVITY_MAX, 0, &te,
			    err, esize);
			return SIGIL_EINVAL;
		}
	if (out == NULL)
		return 0;
	if ((o = json_object()) == NULL)
		return SIGIL_ENOMEM;
	for (i = 0; i < n; i++)
		if (json_object_set_new(o, known[i], json_string(v[i])) != 0) {
			json_decref(o);
			return SIGIL_ENOMEM;
		}
	*out = o;
	return 0;
}

int
payout_settings_load(struct app *app, uint32_t brand_id,
    struct payout_settings *out)
{
	char *text = NULL, err[160];
	json_t *in, *o = NULL;
	int rc;

	if ((rc = store_pay_settings_get(app->store, brand_id, &text)) != 0)
		return rc;
	in = json_loads(text, 0, NULL);
	free(text);
	rc = payout_settings_check(in, &o, err, sizeof err);
	json_decref(in);
	if (rc != 0)
		return SIGIL_EINVAL;
	memset(out, 0, sizeof *out);
#define COPY(f)	snprintf(out->f, sizeof out->f, "%s",		\
	    json_string_value(json_object_get(o, #f)))
	COPY(mchid);
	COPY(appid);
	COPY(serial_no);
	COPY(pub_key_id);
	COPY(public_key);
	COPY(scene_id);
	COPY(remark);
	COPY(activity);
	COPY(reward);
#undef COPY
	json_decref(o);
	return 0;
}
