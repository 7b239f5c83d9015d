/*
 * http_api.c - what every handler of the brand API shares: reading a
 * request (query parameters, the JSON body and its fields, each bounded
 * and checked before anything is written, so a rejected request changes
 * nothing), answering errors ({"error": {"code", "message"}} with the
 * right status, store errors mapped once, for a handler and for the
 * reply callback of its writer op alike), resolving codes of the
 * caller's brand (another brand's code is reported exactly like a
 * missing one), and the JSON of the objects more than one resource
 * shows (a product, a batch, a shipment).
 *
 * Not a handler: it never answers a request on its own, only on behalf
 * of the api_*.c handler that called it, so those may all call it (a
 * handler never calls another handler). May call code, keyring, store,
 * member (the brand settings) and http; never writes to the store.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sigil/api.h"
#include "sigil/app.h"
#include "sigil/code.h"
#include "sigil/epcis.h"
#include "sigil/http.h"
#include "sigil/scan_export.h"
#include "sigil/keyring.h"
#include "sigil/log.h"
#include "sigil/member.h"
#include "sigil/store.h"
#include "sigil/util.h"

/* ---- replies and request parsing ---- */

void
api_fail(struct api_call *a, int status, const char *code, const char *msg)
{
	http_reply_error(a->c, status, code, msg);
}

void
api_reply(struct api_call *a, int status, json_t *o)
{
	http_reply_jsont(a->c, status, o);
}

int
api_parse_id(const char *s, uint64_t max, uint64_t *out)
{
	return sigil_parse_u64(s, max, out) == 0 && *out > 0 ? 0 : -1;
}

const char *
api_query(struct api_call *a, const char *name, char *out, size_t size)
{
	if (http_query(a->c, name, out, size) == NULL ||
	    !sigil_utf8_valid(out, strlen(out)))
		return NULL;
	for (char *p = out; *p; p++)
		if ((unsigned char)*p < 0x20)
			return NULL;
	return out;
}

int
api_body(struct api_call *a)
{
	return http_body_json(a->c, "expected a JSON object in UTF-8",
	    &a->body);
}

int
api_field_str(struct api_call *a, const char *key, size_t max, int required,
    char *out, size_t size)
{
	json_t *v = json_object_get(a->body, key);
	struct sigil_text_err te = { 0 };
	char msg[256];

	out[0] = '\0';
	if (v == NULL || json_is_null(v)) {
		if (!required)
			return 0;
		snprintf(msg, sizeof msg, "field '%s' is required", key);
		api_fail(a, 422, "invalid", msg);
		return -1;
	}
	/* max counts characters (code points): see sigil_text_check. */
	if (!json_is_string(v) || sigil_text_check(json_string_value(v),
	    json_string_length(v), max, 0, &te) != 0 ||
	    json_string_length(v) >= size) {
		if (!json_is_string(v) || te.why == SIGIL_TEXT_OK)
			te.why = json_is_string(v) ? SIGIL_TEXT_LONG : -1;
		sigil_text_explain(key, max, 0, &te, msg, sizeof msg);
		api_fail(a, 422, "invalid", msg);
		return -1;
	}
	strcpy(out, json_string_value(v));
	return 0;
}

int
api_field_uint(struct api_call *a, const char *key, uint64_t lo, uint64_t hi,
    int required, uint64_t *out)
{
	json_t *v = json_object_get(a->body, key);
	char msg[128];

	if (v == NULL && !required)
		return 0;
	if (v == NULL || !json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) < lo ||
	    (uint64_t)json_integer_value(v) > hi) {
		snprintf(msg, sizeof msg, "field '%s' must be an integer from "
		    "%llu to %llu", key, (unsigned long long)lo,
		    (unsigned long long)hi);
		api_fail(a, 422, "invalid", msg);
		return -1;
	}
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

/* What a store error says to the caller: "<before><what><after>". */
static const struct {
	int		err, status;
	const char	*code, *before, *after;
} store_errors[] = {
	{ SIGIL_ENOTFOUND, 404, "not_found", "", " not found" },
	{ SIGIL_EEXIST, 409, "exists", "", " already exists" },
	{ SIGIL_ECONFLICT, 409, "conflict", "", " conflicts with existing "
	    "data" },
	{ SIGIL_ESTATE, 409, "wrong_state", "", " is in the wrong state for "
	    "this" },
	{ SIGIL_EINVAL, 422, "invalid", "invalid ", "" },
	{ SIGIL_EFULL, 422, "limit", "", ": limit reached" },
};

void
api_write_fail(struct http_call *c, int err, const char *what)
{
	char msg[160];

	for (size_t i = 0; i < sizeof store_errors / sizeof store_errors[0];
	    i++) {
		if (store_errors[i].err != err)
			continue;
		snprintf(msg, sizeof msg, "%s%s%s", store_errors[i].before,
		    what, store_errors[i].after);
		http_reply_error(c, store_errors[i].status,
		    store_errors[i].code, msg);
		return;
	}
	log_error("api", "what=\"%s\" err=\"%s\"", what, sigil_strerror(err));
	http_reply_error(c, 503, "unavailable", "storage error; try again");
}

void
api_write_reply(struct http_call *c, int err, const char *what, int status,
    json_t *o)
{
	if (err != 0) {
		json_decref(o);
		api_write_fail(c, err, what);
	} else
		http_reply_jsont(c, status, o);
}

void
api_store_fail(struct api_call *a, int err, const char *what)
{
	api_write_fail(a->c, err, what);
}

int
api_list_add(json_t *arr, json_t *o)
{
	json_array_append_new(arr, o);
	return json_array_size(arr) >= API_LIST_MAX;
}

void
api_reply_list(struct api_call *a, const char *key, json_t *arr, int err)
{
	if (err < 0) {
		json_decref(arr);
		api_store_fail(a, err, key);
		return;
	}
	api_reply(a, 200, json_pack("{s:o}", key, arr));
}

static const char *
time_or_null(int64_t t, char *buf)
{
	return t ? sigil_time_format(t, buf) : NULL;
}

/* "YYYY-MM-DD" of t, or NULL for 0. */
static const char *
date_or_null(int64_t t, char *buf)
{
	if (t == 0)
		return NULL;
	sigil_time_format(t, buf);
	buf[10] = '\0';
	return buf;
}

/* ---- codes ---- */

/*
 * What bulk calls remember between codes: the derived key of the last
 * key id and the last batch found, so 100,000 codes of one batch cost
 * one key derivation and one range lookup, not 100,000 of each.
 */
struct code_cache {
	int		have_key, have_batch;
	struct code_key	key;
	uint32_t	key_brand;
	struct batch	batch;
};

/* api_code_of_brand, remembering in cache (may be NULL). */
static int
code_of_brand_cached(struct api_call *a, const char *text, uint64_t *serial,
    struct batch *batch, struct code_cache *cache)
{
	struct code_cache local = { 0 };
	struct code code;

	if (cache == NULL)
		cache = &local;
	if (text == NULL || strlen(text) > CODE_URL_MAX ||
	    code_parse_any(text, &code, NULL) != 0) {
		api_fail(a, 422, "bad_code", "not a sigil code or code URL");
		return -1;
	}
	if (!cache->have_key || cache->key.id != code.key_id) {
		cache->have_key = keyring_key_get(a->app->keyring, code.key_id,
		    &cache->key, &cache->key_brand) == 0;
		cache->have_batch = 0;
	}
	if (!cache->have_batch || code.serial < cache->batch.first_serial ||
	    code.serial - cache->batch.first_serial >= cache->batch.count)
		cache->have_batch = cache->have_key &&
		    store_batch_find_serial(a->app->store, cache->key_brand,
		    code.serial, &cache->batch) == 0;
	if (!cache->have_key || cache->key_brand != a->brand.id ||
	    code_verify(&cache->key, &code) != 0 || !cache->have_batch ||
	    cache->batch.key_id != code.key_id) {
		api_fail(a, 404, "not_found", "no such code");
		return -1;
	}
	*serial = code.serial;
	*batch = cache->batch;
	return 0;
}

int
api_code_of_brand(struct api_call *a, const char *text, uint64_t *serial,
    struct batch *batch)
{
	return code_of_brand_cached(a, text, serial, batch, NULL);
}

int
api_code_url(struct api_call *a, const struct batch *b, uint64_t serial,
    char *out, size_t size)
{
	struct code_key key;
	struct code code;

	if (keyring_key_get(a->app->keyring, b->key_id, &key, NULL) != 0 ||
	    code_sign(&key, serial, &code) != 0)
		return -1;
	return code_url_compact(a->brand.base_url, &code, out, size) == 0 ?
	    0 : -1;
}

int
api_code_list(struct api_call *a, const char *key, uint64_t **out, size_t *n)
{
	json_t *arr = json_object_get(a->body, key), *v;
	struct code_cache cache = { 0 };
	struct batch b;
	uint64_t *serials;
	size_t i;
	char msg[160];

	if (!json_is_array(arr) || json_array_size(arr) == 0 ||
	    json_array_size(arr) > STORE_AGG_MAX) {
		snprintf(msg, sizeof msg, "field '%s' must be an array of 1 to "
		    "%d codes", key, STORE_AGG_MAX);
		api_fail(a, json_is_array(arr) && json_array_size(arr) >
		    STORE_AGG_MAX ? 413 : 422, "invalid", msg);
		return -1;
	}
	if ((serials = malloc(json_array_size(arr) * sizeof *serials)) ==
	    NULL) {
		api_fail(a, 503, "unavailable", "out of memory");
		return -1;
	}
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v) || code_of_brand_cached(a,
		    json_string_value(v), &serials[i], &b, &cache) != 0) {
			if (!json_is_string(v))
				api_fail(a, 422, "bad_code",
				    "codes must be strings");
			free(serials);
			return -1;
		}
	}
	*out = serials;
	*n = json_array_size(arr);
	return 0;
}

/* ---- paging ---- */

int
api_paging(struct api_call *a, uint64_t *after, size_t *limit, int64_t *since)
{
	char v[64];
	uint64_t n;

	*after = 0;
	*limit = 100;
	if (since != NULL)
		*since = 0;
	if (api_query(a, "after", v, sizeof v) != NULL &&
	    sigil_parse_u64(v, UINT64_MAX, after) != 0) {
		api_fail(a, 400, "bad_query", "after must be an id");
		return -1;
	}
	if (api_query(a, "limit", v, sizeof v) != NULL) {
		if (sigil_parse_u64(v, API_LIST_MAX, &n) != 0 || n == 0) {
			api_fail(a, 400, "bad_query",
			    "limit must be 1 to 1000");
			return -1;
		}
		*limit = (size_t)n;
	}
	if (since != NULL && api_query(a, "since", v, sizeof v) != NULL &&
	    sigil_time_parse(v, since) != 0) {
		api_fail(a, 400, "bad_query", "since must be YYYY-MM-DD or "
		    "ISO-8601 UTC");
		return -1;
	}
	return 0;
}

/* ---- the paged lists' query ---- */

/* Was name sent at all (even empty, too long or not text)? */
int
api_query_present(struct api_call *a, const char *name)
{
	char v[2100];	/* a request target is at most 2048 bytes */

	return http_query(a->c, name, v, sizeof v) != NULL;
}

int
api_query_limit(struct api_call *a, size_t dflt, size_t *limit)
{
	char v[32];
	uint64_t n;

	*limit = dflt;
	if (api_query(a, "limit", v, sizeof v) == NULL) {
		if (api_query_present(a, "limit"))
			goto bad;
		return 0;
	}
	if (sigil_parse_u64(v, API_LIST_MAX, &n) != 0 || n == 0)
		goto bad;
	*limit = (size_t)n;
	return 0;
bad:
	api_fail(a, 422, "invalid", "limit must be a number from 1 to 1000");
	return -1;
}

int
api_query_id(struct api_call *a, const char *name, uint64_t max,
    uint64_t *out)
{
	char v[32], msg[96];

	*out = 0;
	if (api_query(a, name, v, sizeof v) != NULL &&
	    sigil_parse_u64(v, max, out) == 0 && *out != 0)
		return 0;
	if (!api_query_present(a, name))
		return 0;
	snprintf(msg, sizeof msg, "%s must be an id (a whole number from 1)",
	    name);
	api_fail(a, 422, "invalid", msg);
	return -1;
}

int
api_query_arg(struct api_call *a, const char *name, char *out, size_t size)
{
	char whole[2048];

	if (http_query(a->c, name, whole, sizeof whole) == NULL)
		return 0;
	if (strlen(whole) >= size || api_query(a, name, out, size) == NULL) {
		char msg[96];

		snprintf(msg, sizeof msg, "%.32s: too long, or not text",
		    name);
		api_fail(a, 400, "bad_query", msg);
		return -1;
	}
	return 1;
}

int
api_page_back(struct api_call *a, size_t def, size_t max, size_t *limit,
    uint64_t *before)
{
	char v[64], msg[64];
	uint64_t n;
	int got;

	*limit = def;
	*before = 0;
	if ((got = api_query_arg(a, "limit", v, sizeof v)) < 0)
		return -1;
	if (got && (sigil_parse_u64(v, max, &n) != 0 || n == 0)) {
		snprintf(msg, sizeof msg, "limit must be 1 to %zu", max);
		api_fail(a, 400, "bad_query", msg);
		return -1;
	}
	if (got)
		*limit = (size_t)n;
	if ((got = api_query_arg(a, "before", v, sizeof v)) < 0)
		return -1;
	if (got && (sigil_parse_u64(v, UINT64_MAX, before) != 0 ||
	    *before == 0)) {
		api_fail(a, 400, "bad_query", "before must be an id (a "
		    "list's next)");
		return -1;
	}
	return 0;
}

int
api_query_zone(struct api_call *a, int *tz_minutes)
{
	char v[16];
	int got;

	*tz_minutes = 0;
	if ((got = api_query_arg(a, "tz", v, sizeof v)) < 0)
		return -1;
	if (got && scan_export_tz_parse(v, tz_minutes) != 0) {
		api_fail(a, 400, "bad_query", "tz must be a UTC offset: 8, "
		    "-5, +05:30 (hours east of UTC, -12..14)");
		return -1;
	}
	return 0;
}

int
api_query_bound(struct api_call *a, const char *name, int tz_minutes,
    int end, int64_t *out)
{
	char v[64], msg[128];
	int got;

	if ((got = api_query_arg(a, name, v, sizeof v)) <= 0)
		return got;
	if (scan_export_bound(v, tz_minutes, end, out) != 0) {
		snprintf(msg, sizeof msg, "%.16s must be a date (YYYY-MM-DD, "
		    "local in tz) or an ISO-8601 time with Z or an offset",
		    name);
		api_fail(a, 400, "bad_query", msg);
		return -1;
	}
	return 1;
}

/* ---- the JSON of objects several resources show ---- */

json_t *
api_product_json(const struct product *p)
{
	char t[SIGIL_TIME_LEN + 1];

	return json_pack("{s:s,s:s,s:s?,s:i,s:b,s:s}", "sku", p->sku, "name",
	    p->name, "gtin", p->gtin[0] ? p->gtin : NULL, "max_scanners",
	    (int)p->max_scanners, "gs1", p->gs1_form,
	    "created", sigil_time_format(p->created, t));
}

static const char *
batch_state_name(int state)
{
	return state == BATCH_ACTIVE ? "active" : state == BATCH_REVOKED ?
	    "revoked" : "inactive";
}

json_t *
api_batch_json(const struct batch *b)
{
	char t1[SIGIL_TIME_LEN + 1], t2[SIGIL_TIME_LEN + 1],
	    t3[SIGIL_TIME_LEN + 1], t4[SIGIL_TIME_LEN + 1];

	return json_pack("{s:I,s:s,s:s?,s:I,s:I,s:s,s:i,s:s,s:s?,s:s?,s:s?}",
	    "id", (json_int_t)b->id, "sku", b->sku, "lot", b->lot[0] ? b->lot :
	    NULL, "first_serial", (json_int_t)b->first_serial, "count",
	    (json_int_t)b->count, "state", batch_state_name(b->state), "key_id",
	    (int)b->key_id, "created", sigil_time_format(b->created, t1),
	    "activated", time_or_null(b->activated, t2), "revoked",
	    time_or_null(b->revoked, t3), "expires", date_or_null(b->expires,
	    t4));
}

json_t *
api_shipment_json(const struct shipment *s)
{
	char t1[SIGIL_TIME_LEN + 1], t2[SIGIL_TIME_LEN + 1];

	return json_pack("{s:I,s:i,s:s,s:s?,s:I}", "id", (json_int_t)s->id,
	    "distributor", (int)s->distributor, "shipped_at",
	    sigil_time_format(s->shipped_at, t1), "received_at",
	    time_or_null(s->received_at, t2), "codes", (json_int_t)s->codes);
}

int
api_brand_gcp(struct store *st, uint32_t brand_id, char gcp[13])
{
	json_t *o = member_settings_read(st, brand_id, NULL);
	const char *v;
	int rc = SIGIL_ENOTFOUND;

	v = json_string_value(json_object_get(o, API_GCP_KEY));
	if (v != NULL && epcis_gcp_ok(v)) {
		snprintf(gcp, 13, "%s", v);
		rc = 0;
	}
	json_decref(o);
	return rc;
}
