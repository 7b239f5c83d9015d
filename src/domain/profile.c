/*
 * profile.c - the customer's profile: the fields the brand enabled
 * (privacy settings), checked, sealed and kept only with a current
 * profile consent; and the customer list's filters over it.
 *
 * The profile is one JSON object, sealed whole (loyalty_seal: AES-256-GCM
 * under the "phone-enc" key, the brand id as associated data): name,
 * gender ("female", "male", "other"), birthday ("YYYY-MM-DD"), city,
 * store (texts of 1..50 characters) and tags (up to 10 of 1..20
 * characters). A filter opens each customer's profile in turn, so it
 * reads as many seals as customers it looks at (the list bounds that).
 *
 * May call store (reads; its op's run writes), customer (the seal),
 * consent, util. Never knows HTTP, never logs a profile's value.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "sigil/app.h"
#include "sigil/consent.h"
#include "sigil/customer.h"
#include "sigil/loyalty_core.h"
#include "sigil/profile.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "sigil/writer.h"

static const char *const field_names[] = { "name", "gender", "birthday",
	"city", "store", "tags" };
#define NFIELDS	6

static unsigned
field_bit(const char *name)
{
	for (unsigned i = 0; i < NFIELDS; i++)
		if (strcmp(name, field_names[i]) == 0)
			return 1u << i;
	return 0;
}

/* ---- settings ---- */

static unsigned
fields_of(const json_t *settings)
{
	const json_t *v;
	unsigned mask = 0;
	size_t i;

	json_array_foreach(json_object_get(settings, "profile_fields"), i, v)
		if (json_is_string(v))
			mask |= field_bit(json_string_value(v));
	return mask;
}

static json_t *
fields_json(unsigned mask)
{
	json_t *arr = json_array();

	for (unsigned i = 0; i < NFIELDS; i++)
		if (mask & (1u << i))
			json_array_append_new(arr, json_string(field_names[i]));
	return arr;
}

json_t *
privacy_settings_json(struct app *app, uint32_t brand_id)
{
	char *text = NULL;
	json_t *s = NULL;
	unsigned mask = 0;

	if (store_privacy_settings_get(app->store, brand_id, &text) == 0 &&
	    text != NULL && (s = json_loads(text, 0, NULL)) != NULL)
		mask = fields_of(s);
	free(text);
	json_decref(s);
	return json_pack("{s:o}", "profile_fields", fields_json(mask));
}

unsigned
profile_fields_enabled(struct app *app, uint32_t brand_id)
{
	json_t *s = privacy_settings_json(app, brand_id);
	unsigned mask = fields_of(s);

	json_decref(s);
	return mask;
}

int
privacy_settings_parse(const json_t *body, char **out, char *msg, size_t size)
{
	const json_t *arr = json_object_get(body, "profile_fields"), *v;
	unsigned mask = 0, bit;
	const char *k;
	json_t *keep;
	size_t i;

	*out = NULL;
	json_object_foreach((json_t *)body, k, v)
		if (strcmp(k, "profile_fields") != 0) {
			snprintf(msg, size, "unknown field '%.40s': the privacy "
			    "settings hold 'profile_fields' only", k);
			return SIGIL_EINVAL;
		}
	if (!json_is_array(arr)) {
		snprintf(msg, size, "'profile_fields' must be an array of "
		    "name, gender, birthday, city, store, tags");
		return SIGIL_EINVAL;
	}
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v) || (bit = field_bit(json_string_value(
		    v))) == 0 || (mask & bit) != 0) {
			snprintf(msg, size, "'profile_fields' may hold name, "
			    "gender, birthday, city, store and tags, each once");
			return SIGIL_EINVAL;
		}
		mask |= bit;
	}
	keep = json_pack("{s:o}", "profile_fields", fields_json(mask));
	*out = keep ? json_dumps(keep, JSON_COMPACT) : NULL;
	json_decref(keep);
	if (*out == NULL) {
		snprintf(msg, size, "out of memory");
		return SIGIL_ENOMEM;
	}
	return 0;
}

/* ---- the profile ---- */

static int
date_ok(const char *s)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
		30, 31 };
	int y, m, d, n = 0;

	if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) !=
	    3 || n != 10 || s[4] != '-' || s[7] != '-' ||
	    strspn(s, "0123456789-") != 10)
		return 0;
	if (y < 1900 || y > 2100 || m < 1 || m > 12 || d < 1 ||
	    d > mdays[m - 1])
		return 0;
	if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) ||
	    y % 400 == 0))
		return 0;
	return 1;
}

static int
text_field(const json_t *v, const char *name, size_t max, char *msg,
    size_t size)
{
	struct sigil_text_err e;

	if (!json_is_string(v)) {
		snprintf(msg, size, "'%s' must be a string or null", name);
		return SIGIL_EINVAL;
	}
	if (sigil_text_ok(json_string_value(v), max, 0, &e) != 0) {
		sigil_text_explain(name, max, 0, &e, msg, size);
		return SIGIL_EINVAL;
	}
	return 0;
}

static int
tags_field(const json_t *v, char *msg, size_t size)
{
	const json_t *t, *u;
	size_t i, j;

	if (!json_is_array(v) || json_array_size(v) > PROFILE_TAGS_MAX) {
		snprintf(msg, size, "'tags' must be an array of at most %d "
		    "tags", PROFILE_TAGS_MAX);
		return SIGIL_EINVAL;
	}
	json_array_foreach(v, i, t) {
		if (text_field(t, "tags[]", PROFILE_TAG_MAX, msg, size) != 0)
			return SIGIL_EINVAL;
		json_array_foreach(v, j, u)
			if (j < i && json_equal(t, u)) {
				snprintf(msg, size, "'tags' holds a tag twice");
				return SIGIL_EINVAL;
			}
	}
	return 0;
}

int
profile_parse(const json_t *body, unsigned enabled, json_t **out, char *msg,
    size_t size)
{
	const char *k, *g;
	json_t *v, *p;
	unsigned bit;
	int rc = 0;

	*out = NULL;
	if (!json_is_object(body)) {
		snprintf(msg, size, "the profile must be a JSON object");
		return SIGIL_EINVAL;
	}
	p = json_object();
	json_object_foreach((json_t *)body, k, v) {
		if ((bit = field_bit(k)) == 0) {
			snprintf(msg, size, "unknown field '%.40s': a profile "
			    "holds name, gender, birthday, city, store, tags", k);
			rc = SIGIL_EINVAL;
			break;
		}
		if (!(enabled & bit)) {
			snprintf(msg, size, "the brand does not collect '%s'",
			    k);
			rc = SIGIL_EDENIED;
			break;
		}
		if (json_is_null(v))
			continue;
		switch (bit) {
		case PF_GENDER:
			g = json_string_value(v);
			if (g == NULL || (strcmp(g, "female") != 0 &&
			    strcmp(g, "male") != 0 && strcmp(g, "other") != 0)) {
				snprintf(msg, size, "'gender' is one of female, "
				    "male, other (or null)");
				rc = SIGIL_EINVAL;
			}
			break;
		case PF_BIRTHDAY:
			if (!json_is_string(v) || !date_ok(json_string_value(
			    v))) {
				snprintf(msg, size, "'birthday' is a date "
				    "YYYY-MM-DD (1900-2100) or null");
				rc = SIGIL_EINVAL;
			}
			break;
		case PF_TAGS:
			rc = tags_field(v, msg, size);
			if (rc == 0 && json_array_size(v) == 0)
				continue;
			break;
		default:
			rc = text_field(v, k, PROFILE_TEXT_MAX, msg, size);
		}
		if (rc != 0)
			break;
		json_object_set(p, k, v);
	}
	if (rc != 0) {
		json_decref(p);
		return rc;
	}
	*out = p;
	return 0;
}

json_t *
profile_load(struct app *app, uint32_t brand_id, uint64_t customer_id)
{
	uint8_t buf[PROFILE_SEALED_MAX];
	char text[PROFILE_SEALED_MAX];
	size_t len;
	json_t *p;
	int rc = store_profile_get(app->store, brand_id, customer_id, buf,
	    sizeof buf, &len);

	if (rc == SIGIL_ENOTFOUND)
		return json_object();
	if (rc != 0 || loyalty_open(app->loyalty->enc_key, brand_id, buf, len,
	    text, sizeof text) != 0)
		return NULL;
	p = json_loads(text, 0, NULL);
	OPENSSL_cleanse(text, sizeof text);
	if (!json_is_object(p)) {
		json_decref(p);
		return NULL;
	}
	return p;
}

int
profile_seal(struct app *app, uint32_t brand_id, uint64_t customer_id,
    const json_t *profile, struct profile_write *w)
{
	char *text;
	int rc;

	w->brand_id = brand_id;
	w->customer_id = customer_id;
	w->len = 0;
	if (json_object_size(profile) == 0)
		return 0;
	if ((text = json_dumps(profile, JSON_COMPACT)) == NULL)
		return SIGIL_ENOMEM;
	rc = strlen(text) + 28 > sizeof w->sealed ? SIGIL_EINVAL :
	    loyalty_seal(app->loyalty->enc_key, brand_id, text, w->sealed,
	    sizeof w->sealed, &w->len);
	OPENSSL_cleanse(text, strlen(text));
	free(text);
	return rc;
}

static int
profile_run(struct store *st, void *arg)
{
	struct profile_write *w = arg;
	struct customer cu;
	int rc;

	if ((rc = store_customer_get(st, w->brand_id, w->customer_id, &cu)) !=
	    0)
		return rc;
	/* erased, or merged into another since the call was made */
	if (cu.erased || cu.merged_into)
		return SIGIL_ESTATE;
	return store_profile_put(st, w->brand_id, w->customer_id, w->sealed,
	    w->len);
}

const struct writer_op profile_put_op = { "profile_put", profile_run };

/* ---- filters ---- */

int
profile_filter_set(const struct profile_filter *f)
{
	return f->gender || f->city || f->tag || f->birth_month ||
	    f->marketing;
}

int
profile_match(struct app *app, uint32_t brand_id, uint64_t customer_id,
    const struct profile_filter *f)
{
	const char *s;
	json_t *p, *t;
	size_t i;
	int ok = 1, g;

	if (f->marketing) {
		if ((g = consent_granted(app, brand_id, customer_id,
		    CONSENT_MARKETING)) < 0)
			return g;
		if (g != (f->marketing > 0))
			return 0;
	}
	if (!f->gender && !f->city && !f->tag && !f->birth_month)
		return 1;
	if ((p = profile_load(app, brand_id, customer_id)) == NULL)
		return 0;	/* unreadable: matches no filter */
	if (f->gender && ((s = json_string_value(json_object_get(p,
	    "gender"))) == NULL || strcmp(s, f->gender) != 0))
		ok = 0;
	if (ok && f->city && ((s = json_string_value(json_object_get(p,
	    "city"))) == NULL || strcmp(s, f->city) != 0))
		ok = 0;
	if (ok && f->birth_month && ((s = json_string_value(json_object_get(p,
	    "birthday"))) == NULL || atoi(s + 5) != f->birth_month))
		ok = 0;
	if (ok && f->tag) {
		ok = 0;
		json_array_foreach(json_object_get(p, "tags"), i, t)
			if ((s = json_string_value(t)) != NULL &&
			    strcmp(s, f->tag) == 0)
				ok = 1;
	}
	json_decref(p);
	return ok;
}
