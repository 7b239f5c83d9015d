/*
 * api.c - the brand API: what a brand's systems and its dashboard use.
 *
 * Every request carries "Authorization: Bearer sgt_..."; the token's
 * SHA-256 is looked up in the store (the token itself is never stored or
 * logged), and from then on the request is scoped to the token's brand.
 * Brand isolation is structural: every lookup takes the brand id from
 * the token, and an object of another brand is reported exactly like a
 * missing one (404), so a token cannot even learn that it exists.
 *
 * Roles: admin may do everything; operator may create and change
 * batches, aggregations and shipments; analyst only reads. Each token
 * has its own rate limit (token bucket, --api-rate-limit per second).
 *
 * Errors are always {"error": {"code", "message"}} with the right status.
 * Request bodies are JSON objects, parsed with duplicate keys refused;
 * every field is bounded and checked before anything is written, so a
 * rejected request changes nothing. Writes go straight to the store
 * (each is one LMDB transaction); only scans use the group-commit writer.
 *
 * May call code, keyring, store, geo, epcis, scan and http; never
 * renders HTML (the dashboard escapes what it shows).
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "sigil/accounts.h"
#include "sigil/api.h"
#include "sigil/api_webhooks.h"
#include "sigil/code.h"
#include "sigil/consumer.h"
#include "sigil/dashboard.h"
#include "sigil/epcis.h"
#include "sigil/geo.h"
#include "sigil/http.h"
#include "sigil/keyring.h"
#include "sigil/log.h"
#include "sigil/loyalty.h"
#include "sigil/ratelimit.h"
#include "sigil/scan.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "sigil/webhook.h"

#define API_SEGS_MAX	8
#define API_LIST_MAX	1000
#define TOKEN_SETS	1024	/* x RATELIMIT_WAYS tokens and sessions */

enum api_need { NEED_READ, NEED_OPERATE, NEED_ADMIN };

struct api_call {
	struct http_call	*c;
	struct app		*app;
	struct token		tok;
	struct brand		brand;
	char			buf[1024];
	char			*seg[API_SEGS_MAX];
	int			nseg;
	json_t			*body;
};

struct api_route {
	int		method;
	const char	*pattern;	/* "batches/ * /activate", '*' any */
	int		need;
	void		(*fn)(struct api_call *a);
};

/* Per token (or dashboard session user), made on first use. */
static struct ratelimit *token_rl;
static unsigned token_rl_rate;

/* ---- tokens ---- */

static const char b32[] = "0123456789abcdefghjkmnpqrstvwxyz";

int
api_token_new(struct store *st, uint32_t brand_id, int role,
    char out[API_TOKEN_LEN + 1], struct token *t)
{
	return api_token_new_ex(st, brand_id, role, 0, 0, out, t);
}

int
api_token_new_ex(struct store *st, uint32_t brand_id, int role,
    int64_t expires, uint32_t user_id, char out[API_TOKEN_LEN + 1],
    struct token *t)
{
	uint8_t raw[32], hash[32];
	char text[API_TOKEN_LEN + 1];
	struct token tok = { 0 };
	unsigned acc = 0;
	int bits = 0, n = 4, err;

	if (role < ROLE_ADMIN || role > ROLE_ANALYST)
		return SIGIL_EINVAL;
	if ((err = sigil_random(raw, sizeof raw)) != 0)
		return err;
	memcpy(text, API_TOKEN_PREFIX, 4);
	for (size_t i = 0; i < sizeof raw; i++) {
		acc = acc << 8 | raw[i];
		bits += 8;
		while (bits >= 5) {
			text[n++] = b32[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0)
		text[n++] = b32[(acc << (5 - bits)) & 31];
	text[n] = '\0';
	SHA256((const unsigned char *)text, (size_t)n, hash);
	tok.brand_id = brand_id;
	tok.role = role;
	tok.expires = expires;
	tok.user_id = user_id;
	if ((err = store_token_add(st, hash, &tok)) != 0)
		return err;
	memcpy(out, text, (size_t)n + 1);
	*t = tok;
	return 0;
}

int
api_role_parse(const char *s)
{
	if (s == NULL)
		return 0;
	if (strcmp(s, "admin") == 0)
		return ROLE_ADMIN;
	if (strcmp(s, "operator") == 0)
		return ROLE_OPERATOR;
	if (strcmp(s, "analyst") == 0)
		return ROLE_ANALYST;
	return 0;
}

const char *
api_role_name(int role)
{
	switch (role) {
	case ROLE_ADMIN:	return "admin";
	case ROLE_OPERATOR:	return "operator";
	case ROLE_ANALYST:	return "analyst";
	}
	return "none";
}

static int
token_rate_allow(uint32_t id, unsigned rate)
{
	if (rate == 0)
		return 1;
	if (token_rl == NULL || token_rl_rate != rate) {
		ratelimit_free(token_rl);
		token_rl = NULL;
		if (ratelimit_new(TOKEN_SETS, RATELIMIT_WAYS, rate, 2.0 * rate,
		    0, &token_rl) != 0)
			return 0;
		token_rl_rate = rate;
	}
	return ratelimit_take(token_rl, &id, sizeof id, sigil_now_us());
}

/* ---- small helpers ---- */

static void
fail(struct api_call *a, int status, const char *code, const char *msg)
{
	http_reply_error(a->c, status, code, msg);
}

static void
reply(struct api_call *a, int status, json_t *o)
{
	http_reply_jsont(a->c, status, o);
}

static int
parse_id(const char *s, uint64_t max, uint64_t *out)
{
	return sigil_parse_u64(s, max, out) == 0 && *out > 0 ? 0 : -1;
}

/*
 * The query parameter name, copied into out, or NULL. Values are
 * percent-decoded and must be valid UTF-8 without control bytes.
 */
static const char *
query_param(struct api_call *a, const char *name, char *out, size_t size)
{
	struct evkeyvalq q;
	const char *v;
	const char *result = NULL;

	if (a->c->query == NULL)
		return NULL;
	memset(&q, 0, sizeof q);
	if (evhttp_parse_query_str(a->c->query, &q) != 0)
		return NULL;
	if ((v = evhttp_find_header(&q, name)) != NULL && strlen(v) < size &&
	    http_utf8_valid(v, strlen(v))) {
		strcpy(out, v);
		result = out;
		for (char *p = out; *p; p++)
			if ((unsigned char)*p < 0x20)
				result = NULL;
	}
	evhttp_clear_headers(&q);
	return result;
}

/* Parses the request body as a JSON object into a->body, or replies. */
static int
body_object(struct api_call *a)
{
	json_error_t jerr;
	size_t len;
	char *text;

	if (http_body_too_large(a->c)) {
		fail(a, 413, "too_large", "request body too large");
		return -1;
	}
	if ((text = http_body_text(a->c, &len)) == NULL) {
		fail(a, 400, "bad_json", "expected a JSON object in UTF-8");
		return -1;
	}
	if (sigil_json_values(text, len) > SIGIL_JSON_VALUES_MAX) {
		free(text);
		fail(a, 413, "too_large", "more than 400000 JSON values in "
		    "the body");
		return -1;
	}
	a->body = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	free(text);
	if (a->body == NULL || !json_is_object(a->body)) {
		fail(a, 400, "bad_json", "expected a JSON object (no duplicate "
		    "keys)");
		return -1;
	}
	return 0;
}

/* A string field: 0 ok (out may be "" when optional and absent), -1 replied. */
static int
field_str(struct api_call *a, const char *key, size_t max, int required,
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
		fail(a, 422, "invalid", msg);
		return -1;
	}
	/* max counts characters (code points): see sigil_text_check. */
	if (!json_is_string(v) || sigil_text_check(json_string_value(v),
	    json_string_length(v), max, 0, &te) != 0 ||
	    json_string_length(v) >= size) {
		if (!json_is_string(v) || te.why == SIGIL_TEXT_OK)
			te.why = json_is_string(v) ? SIGIL_TEXT_LONG : -1;
		sigil_text_explain(key, max, 0, &te, msg, sizeof msg);
		fail(a, 422, "invalid", msg);
		return -1;
	}
	strcpy(out, json_string_value(v));
	return 0;
}

static int
field_uint(struct api_call *a, const char *key, uint64_t lo, uint64_t hi,
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
		fail(a, 422, "invalid", msg);
		return -1;
	}
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

static void
store_fail(struct api_call *a, int err, const char *what)
{
	char msg[160];

	switch (err) {
	case SIGIL_ENOTFOUND:
		snprintf(msg, sizeof msg, "%s not found", what);
		fail(a, 404, "not_found", msg);
		return;
	case SIGIL_EEXIST:
		snprintf(msg, sizeof msg, "%s already exists", what);
		fail(a, 409, "exists", msg);
		return;
	case SIGIL_ECONFLICT:
		snprintf(msg, sizeof msg, "%s conflicts with existing data",
		    what);
		fail(a, 409, "conflict", msg);
		return;
	case SIGIL_ESTATE:
		snprintf(msg, sizeof msg, "%s is in the wrong state for this",
		    what);
		fail(a, 409, "wrong_state", msg);
		return;
	case SIGIL_EINVAL:
		snprintf(msg, sizeof msg, "invalid %s", what);
		fail(a, 422, "invalid", msg);
		return;
	case SIGIL_EFULL:
		snprintf(msg, sizeof msg, "%s: limit reached", what);
		fail(a, 422, "limit", msg);
		return;
	}
	log_error("api", "what=\"%s\" err=\"%s\"", what, sigil_strerror(err));
	fail(a, 503, "unavailable", "storage error; try again");
}

static const char *
time_or_null(int64_t t, char *buf)
{
	return t ? sigil_time_format(t, buf) : NULL;
}

/* Coordinates are stored as float: print the digits that mean something. */
static double
round6(float v)
{
	return round((double)v * 1e6) / 1e6;
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

/*
 * Resolves a code (compact, URL or Digital Link) of the caller's brand:
 * 0 and *serial and *batch, or -1 after replying (malformed 422, anything
 * else, another brand's code included, 404). cache may be NULL.
 */
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
		fail(a, 422, "bad_code", "not a sigil code or code URL");
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
		fail(a, 404, "not_found", "no such code");
		return -1;
	}
	*serial = code.serial;
	*batch = cache->batch;
	return 0;
}

static int
code_of_brand(struct api_call *a, const char *text, uint64_t *serial,
    struct batch *batch)
{
	return code_of_brand_cached(a, text, serial, batch, NULL);
}

/* The compact URL of serial (signed again with its batch's key). */
static int
code_url(struct api_call *a, const struct batch *b, uint64_t serial,
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

/* A list of codes in field key: each resolved; -1 after replying. */
static int
code_list(struct api_call *a, const char *key, uint64_t **out, size_t *n)
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
		fail(a, json_is_array(arr) && json_array_size(arr) >
		    STORE_AGG_MAX ? 413 : 422, "invalid", msg);
		return -1;
	}
	if ((serials = malloc(json_array_size(arr) * sizeof *serials)) ==
	    NULL) {
		fail(a, 503, "unavailable", "out of memory");
		return -1;
	}
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v) || code_of_brand_cached(a,
		    json_string_value(v), &serials[i], &b, &cache) != 0) {
			if (!json_is_string(v))
				fail(a, 422, "bad_code", "codes must be strings");
			free(serials);
			return -1;
		}
	}
	*out = serials;
	*n = json_array_size(arr);
	return 0;
}

/* ---- products ---- */

static json_t *
product_json(const struct product *p)
{
	char t[SIGIL_TIME_LEN + 1];

	return json_pack("{s:s,s:s,s:s?,s:i,s:b,s:s}", "sku", p->sku, "name",
	    p->name, "gtin", p->gtin[0] ? p->gtin : NULL, "max_scanners",
	    (int)p->max_scanners, "gs1", p->gs1_form,
	    "created", sigil_time_format(p->created, t));
}

static void
products_create(struct api_call *a)
{
	struct product p = { 0 };
	char gtin[20];
	uint64_t max = 5;
	json_t *gs1;
	int err;

	if (body_object(a) != 0 ||
	    field_str(a, "sku", STORE_NAME_MAX, 1, p.sku, sizeof p.sku) != 0 ||
	    field_str(a, "name", STORE_TEXT_MAX, 1, p.name, sizeof p.name) ||
	    field_str(a, "gtin", 14, 0, gtin, sizeof gtin) != 0 ||
	    field_uint(a, "max_scanners", 1, STORE_SCANNERS_MAX - 1, 0, &max))
		return;
	if (gtin[0] != '\0') {
		size_t n = strlen(gtin);

		if ((n != 8 && n != 12 && n != 13 && n != 14) ||
		    strspn(gtin, "0123456789") != n) {
			fail(a, 422, "invalid", "gtin must be 8, 12, 13 or 14 "
			    "digits");
			return;
		}
		memset(p.gtin, '0', 14 - n);
		memcpy(p.gtin + 14 - n, gtin, n + 1);
		if (!code_gtin_valid(p.gtin)) {
			fail(a, 422, "invalid", "gtin check digit is wrong");
			return;
		}
	}
	gs1 = json_object_get(a->body, "gs1");
	if (gs1 != NULL && !json_is_boolean(gs1)) {
		fail(a, 422, "invalid", "field 'gs1' must be true or false");
		return;
	}
	p.gs1_form = gs1 != NULL && json_is_true(gs1);
	if (p.gs1_form && p.gtin[0] == '\0') {
		fail(a, 422, "invalid", "GS1 Digital Link codes need a gtin");
		return;
	}
	p.brand_id = a->brand.id;
	p.max_scanners = (uint32_t)max;
	if ((err = store_product_add(a->app->store, &p)) != 0) {
		store_fail(a, err, "product (sku or gtin)");
		return;
	}
	reply(a, 201, product_json(&p));
}

static void
products_get(struct api_call *a)
{
	struct product p;
	int err;

	if ((err = store_product_get(a->app->store, a->brand.id, a->seg[1],
	    &p)) != 0) {
		store_fail(a, err, "product");
		return;
	}
	reply(a, 200, product_json(&p));
}

/* ---- batches ---- */

static const char *
batch_state_name(int state)
{
	return state == BATCH_ACTIVE ? "active" : state == BATCH_REVOKED ?
	    "revoked" : "inactive";
}

static json_t *
batch_json(const struct batch *b)
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

static int
batch_of_brand(struct api_call *a, const char *id, struct batch *b)
{
	uint64_t n;

	if (parse_id(id, UINT32_MAX, &n) != 0 ||
	    store_batch_get(a->app->store, n, b) != 0 ||
	    b->brand_id != a->brand.id) {
		fail(a, 404, "not_found", "batch not found");
		return -1;
	}
	return 0;
}

static void
batches_create(struct api_call *a)
{
	struct batch b = { 0 };
	struct product p;
	struct key_meta key;
	char expires[32];
	uint64_t count;
	int err;

	if (body_object(a) != 0 ||
	    field_str(a, "sku", STORE_NAME_MAX, 1, b.sku, sizeof b.sku) != 0 ||
	    field_uint(a, "count", 1, CODE_SERIAL_MAX, 1, &count) != 0 ||
	    field_str(a, "lot", STORE_LOT_MAX, 0, b.lot, sizeof b.lot) != 0 ||
	    field_str(a, "expires", 24, 0, expires, sizeof expires) != 0)
		return;
	if (strspn(b.lot, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-._") != strlen(b.lot)) {
		fail(a, 422, "invalid", "lot may hold letters, digits and - . _");
		return;
	}
	if (expires[0] != '\0' && sigil_time_parse(expires, &b.expires) != 0) {
		fail(a, 422, "invalid", "expires must be a date YYYY-MM-DD");
		return;
	}
	if (store_product_get(a->app->store, a->brand.id, b.sku, &p) != 0) {
		fail(a, 404, "not_found", "product not found");
		return;
	}
	if ((err = store_key_current(a->app->store, a->brand.id, &key)) != 0) {
		fail(a, 409, "no_key", "the brand has no valid key");
		return;
	}
	b.brand_id = a->brand.id;
	b.key_id = key.id;
	b.count = count;
	if ((err = store_batch_new(a->app->store, &b)) != 0) {
		store_fail(a, err, "batch");
		return;
	}
	reply(a, 201, batch_json(&b));
}

static int
batch_list_one(void *arg, const struct batch *b)
{
	json_array_append_new(arg, batch_json(b));
	return json_array_size(arg) >= API_LIST_MAX;
}

static void
batches_list(struct api_call *a)
{
	json_t *arr = json_array();
	int err = store_batch_each(a->app->store, a->brand.id, batch_list_one,
	    arr);

	if (err < 0) {
		json_decref(arr);
		store_fail(a, err, "batches");
		return;
	}
	reply(a, 200, json_pack("{s:o}", "batches", arr));
}

static void
batches_get(struct api_call *a)
{
	struct batch b;

	if (batch_of_brand(a, a->seg[1], &b) == 0)
		reply(a, 200, batch_json(&b));
}

static void
batch_change(struct api_call *a, int state)
{
	struct trace_event ev = { 0 };
	struct batch b;
	int err;

	if (batch_of_brand(a, a->seg[1], &b) != 0)
		return;
	if ((err = store_batch_set_state(a->app->store, b.id, state)) != 0) {
		store_fail(a, err, "batch");
		return;
	}
	ev.type = state == BATCH_ACTIVE ? EVENT_COMMISSION :
	    EVENT_DECOMMISSION;
	ev.brand_id = a->brand.id;
	ev.at = sigil_now_us();
	ev.batch_id = b.id;
	if ((err = store_event_add(a->app->store, &ev)) != 0)
		log_error("api", "event=commission batch=%llu err=\"%s\"",
		    (unsigned long long)b.id, sigil_strerror(err));
	store_batch_get(a->app->store, b.id, &b);
	reply(a, 200, batch_json(&b));
}

static void
batches_activate(struct api_call *a)
{
	batch_change(a, BATCH_ACTIVE);
}

static void
batches_revoke(struct api_call *a)
{
	batch_change(a, BATCH_REVOKED);
}

/*
 * GET /api/v1/batches/{id}/codes.csv: the print file, streamed. Hidden
 * PINs are never served over the API (SPEC §8): a PIN print file is made
 * offline with `sigil mint --pin` on the packaging line's machine.
 */
struct print_stream {
	struct batch	batch;
	struct product	product;
	struct code_key	key;
	char		base[STORE_URL_MAX + 1];
	uint64_t	next, end;
	int		header;
};

static int
print_next(struct http_call *c, void *arg, struct evbuffer *out)
{
	struct print_stream *p = arg;
	char url[CODE_URL_MAX];
	struct code code;

	(void)c;
	if (p->header) {
		evbuffer_add_printf(out, "serial,url\n");
		p->header = 0;
	}
	for (int i = 0; i < 4096 && p->next < p->end; i++, p->next++) {
		if (code_sign(&p->key, p->next, &code) != 0)
			break;
		if (p->product.gs1_form)
			code_url_gs1(p->base, p->product.gtin, p->batch.lot,
			    &code, url, sizeof url);
		else
			code_url_compact(p->base, &code, url, sizeof url);
		evbuffer_add_printf(out, "%llu,%s\n",
		    (unsigned long long)p->next, url);
	}
	if (p->next < p->end)
		return 1;
	OPENSSL_cleanse(&p->key, sizeof p->key);
	free(p);
	return 0;
}

static void
print_gone(struct http_call *c, void *arg)
{
	struct print_stream *p = arg;

	(void)c;
	OPENSSL_cleanse(&p->key, sizeof p->key);
	free(p);
}

static const struct http_stream_ops print_ops = { print_next, print_gone };

static void
batches_print(struct api_call *a)
{
	struct print_stream *p;
	char disp[96];

	if (strcmp(a->seg[2], "codes.csv") != 0) {
		fail(a, 404, "not_found", "no such resource");
		return;
	}
	if ((p = calloc(1, sizeof *p)) == NULL) {
		fail(a, 503, "unavailable", "out of memory");
		return;
	}
	if (batch_of_brand(a, a->seg[1], &p->batch) != 0 ||
	    store_product_get(a->app->store, a->brand.id, p->batch.sku,
	    &p->product) != 0 || keyring_key_get(a->app->keyring,
	    p->batch.key_id, &p->key, NULL) != 0) {
		if (p->batch.id != 0 && p->batch.brand_id == a->brand.id)
			fail(a, 503, "unavailable", "batch key or product "
			    "missing");
		free(p);
		return;
	}
	snprintf(p->base, sizeof p->base, "%s", a->brand.base_url);
	p->next = p->batch.first_serial;
	p->end = p->batch.first_serial + p->batch.count;
	p->header = 1;
	snprintf(disp, sizeof disp, "attachment; filename=\"batch-%llu.csv\"",
	    (unsigned long long)p->batch.id);
	http_add_header(a->c, "Content-Disposition", disp);
	http_add_header(a->c, "Cache-Control", "no-store");
	log_info("print_file", "brand=%u batch=%llu token=%u codes=%llu",
	    a->brand.id, (unsigned long long)p->batch.id, a->tok.id,
	    (unsigned long long)p->batch.count);
	http_stream_start(a->c, 200, "text/csv; charset=utf-8", &print_ops, p);
}

/* ---- aggregation ---- */

static void
aggregations_create(struct api_call *a, int unpack)
{
	char text[CODE_URL_MAX + 1];
	struct batch b;
	uint64_t parent, *children = NULL, event = 0;
	size_t n = 0;
	json_t *arr;
	int err;

	if (body_object(a) != 0 ||
	    field_str(a, "parent", CODE_URL_MAX, 1, text, sizeof text) != 0 ||
	    code_of_brand(a, text, &parent, &b) != 0)
		return;
	arr = json_object_get(a->body, "children");
	if (!(unpack && arr == NULL) && code_list(a, "children", &children,
	    &n) != 0)
		return;
	if (unpack)
		err = store_disaggregate(a->app->store, a->brand.id, parent,
		    children, n, &event);
	else
		err = store_aggregate(a->app->store, a->brand.id, parent,
		    children, n, &event);
	free(children);
	if (err == SIGIL_ECONFLICT) {
		fail(a, 409, "already_packed", "a child is already inside "
		    "another parent; unpack it first");
		return;
	}
	if (err == SIGIL_EINVAL && !unpack) {
		fail(a, 422, "invalid", "children must be distinct, must not "
		    "include the parent, and must not contain it");
		return;
	}
	if (err != 0) {
		store_fail(a, err, unpack ? "child inside this parent" :
		    "code");
		return;
	}
	reply(a, unpack ? 200 : 201, json_pack("{s:I,s:I,s:I}", "parent",
	    (json_int_t)parent, "children", (json_int_t)n, "event_id",
	    (json_int_t)event));
}

static void
aggregations_pack(struct api_call *a)
{
	aggregations_create(a, 0);
}

static void
aggregations_unpack(struct api_call *a)
{
	aggregations_create(a, 1);
}

/* ---- distributors ---- */

static json_t *
distributor_json(const struct distributor *d, int with_territory)
{
	char t[SIGIL_TIME_LEN + 1];
	json_t *o = json_pack("{s:i,s:s,s:s}", "id", (int)d->id, "name",
	    d->name, "created", sigil_time_format(d->created, t));

	if (with_territory && d->territory != NULL)
		json_object_set_new(o, "territory", json_loads(d->territory,
		    0, NULL));
	return o;
}

static void
distributors_create(struct api_call *a)
{
	struct distributor d = { 0 };
	struct geo_area *area = NULL;
	json_t *terr;
	char err_text[160];
	int err;

	if (body_object(a) != 0 ||
	    field_str(a, "name", STORE_TEXT_MAX, 1, d.name, sizeof d.name))
		return;
	terr = json_object_get(a->body, "territory");
	if (!json_is_object(terr)) {
		fail(a, 422, "bad_territory", "field 'territory' (a GeoJSON Polygon "
		    "or MultiPolygon) is required");
		return;
	}
	if ((d.territory = json_dumps(terr, JSON_COMPACT)) == NULL) {
		fail(a, 503, "unavailable", "out of memory");
		return;
	}
	if (strlen(d.territory) > STORE_GEOJSON_MAX ||
	    geo_area_parse(d.territory, strlen(d.territory), &area, err_text,
	    sizeof err_text) != 0) {
		if (strlen(d.territory) > STORE_GEOJSON_MAX)
			snprintf(err_text, sizeof err_text, "territory larger "
			    "than %d bytes", STORE_GEOJSON_MAX);
		free(d.territory);
		fail(a, 422, "bad_territory", err_text);
		return;
	}
	geo_area_free(area);
	d.brand_id = a->brand.id;
	err = store_distributor_add(a->app->store, &d);
	if (err != 0) {
		free(d.territory);
		store_fail(a, err, "distributor");
		return;
	}
	reply(a, 201, distributor_json(&d, 0));
	free(d.territory);
}

static int
distributor_of_brand(struct api_call *a, const char *id,
    struct distributor *d)
{
	uint64_t n;

	if (parse_id(id, UINT32_MAX, &n) != 0 ||
	    store_distributor_get(a->app->store, a->brand.id, (uint32_t)n,
	    d) != 0) {
		fail(a, 404, "not_found", "distributor not found");
		return -1;
	}
	return 0;
}

static void
distributors_get(struct api_call *a)
{
	struct distributor d;

	if (distributor_of_brand(a, a->seg[1], &d) != 0)
		return;
	reply(a, 200, distributor_json(&d, 1));
	store_distributor_clear(&d);
}

static int
distributor_list_one(void *arg, const struct distributor *d)
{
	json_array_append_new(arg, distributor_json(d, 0));
	return json_array_size(arg) >= API_LIST_MAX;
}

static void
distributors_list(struct api_call *a)
{
	json_t *arr = json_array();
	int err = store_distributor_each(a->app->store, a->brand.id,
	    distributor_list_one, arr);

	if (err < 0) {
		json_decref(arr);
		store_fail(a, err, "distributors");
		return;
	}
	reply(a, 200, json_pack("{s:o}", "distributors", arr));
}

/* ---- shipments ---- */

static json_t *
shipment_json(const struct shipment *s)
{
	char t1[SIGIL_TIME_LEN + 1], t2[SIGIL_TIME_LEN + 1];

	return json_pack("{s:I,s:i,s:s,s:s?,s:I}", "id", (json_int_t)s->id,
	    "distributor", (int)s->distributor, "shipped_at",
	    sigil_time_format(s->shipped_at, t1), "received_at",
	    time_or_null(s->received_at, t2), "codes", (json_int_t)s->codes);
}

static void
shipments_create(struct api_call *a)
{
	struct distributor d;
	struct shipment s;
	uint64_t dist, *codes = NULL;
	size_t n;
	int err;

	if (body_object(a) != 0 ||
	    field_uint(a, "distributor", 1, UINT32_MAX, 1, &dist) != 0)
		return;
	if (store_distributor_get(a->app->store, a->brand.id, (uint32_t)dist,
	    &d) != 0) {
		fail(a, 404, "not_found", "distributor not found");
		return;
	}
	store_distributor_clear(&d);
	if (code_list(a, "codes", &codes, &n) != 0)
		return;
	err = store_ship(a->app->store, a->brand.id, (uint32_t)dist, codes, n,
	    &s);
	free(codes);
	if (err != 0) {
		store_fail(a, err, "shipment");
		return;
	}
	reply(a, 201, shipment_json(&s));
}

static int
shipment_of_brand(struct api_call *a, const char *id, struct shipment *s)
{
	uint64_t n;

	if (parse_id(id, UINT64_MAX, &n) != 0 ||
	    store_shipment_get(a->app->store, n, s) != 0 ||
	    s->brand_id != a->brand.id) {
		fail(a, 404, "not_found", "shipment not found");
		return -1;
	}
	return 0;
}

static void
shipments_get(struct api_call *a)
{
	struct shipment s;

	if (shipment_of_brand(a, a->seg[1], &s) == 0)
		reply(a, 200, shipment_json(&s));
}

static void
shipments_receive(struct api_call *a)
{
	struct shipment s;
	int err;

	if (shipment_of_brand(a, a->seg[1], &s) != 0)
		return;
	if ((err = store_shipment_receive(a->app->store, s.id, &s)) != 0) {
		store_fail(a, err, "shipment");
		return;
	}
	reply(a, 200, shipment_json(&s));
}

/* ---- code lookup: the whole story of one code ---- */

const char *
api_event_name(int type)
{
	switch (type) {
	case EVENT_COMMISSION:		return "commissioning";
	case EVENT_AGGREGATE:		return "packing";
	case EVENT_DISAGGREGATE:	return "unpacking";
	case EVENT_SHIP:		return "shipping";
	case EVENT_RECEIVE:		return "receiving";
	case EVENT_SCAN:		return "scan";
	case EVENT_DECOMMISSION:	return "decommissioning";
	}
	return "unknown";
}

/* The code's scans; first_scan is the code's first scan now (store.h). */
struct scan_list {
	json_t		*arr;
	uint64_t	 first;
};

static int
lookup_scan(void *arg, const struct scan_rec *r)
{
	struct scan_list *sl = arg;
	json_t *arr = sl->arr, *o;
	char t[SIGIL_TIME_LEN + 1], dev[17];
	uint8_t b[8];

	sigil_be64_put(b, r->device);
	sigil_hex_encode(b, 8, dev);
	o = json_pack("{s:I,s:s,s:s,s:b,s:b,s:s,s:b,s:b}", "scan",
	    (json_int_t)r->id, "at", sigil_time_format(r->at, t), "verdict",
	    scan_verdict_name(r->verdict), "bot", (r->flags & SCAN_BOT) != 0,
	    "first_scan", r->id == sl->first, "device", dev,
	    "anonymous", (r->flags & SCAN_ANON) != 0,
	    "diversion", (r->flags & SCAN_DIVERSION) != 0);
	if (r->flags & SCAN_HAS_LOC)
		json_object_set_new(o, "location", json_pack("{s:f,s:f,s:i}",
		    "lat", round6(r->lat), "lng", round6(r->lng), "accuracy_m",
		    (int)r->accuracy_m));
	json_array_append_new(arr, o);
	return json_array_size(arr) >= API_LIST_MAX;
}

static json_t *
code_signals(const struct code_state *cs)
{
	json_t *a = json_array();

	if (cs->flags & SCAN_CLONE_SCANNERS)
		json_array_append_new(a, json_string("too_many_scanners"));
	if (cs->flags & SCAN_CLONE_TRAVEL)
		json_array_append_new(a, json_string("impossible_travel"));
	if (cs->flags & SCAN_CLAIMED_OTHER)
		json_array_append_new(a, json_string("scanned_after_claim"));
	return a;
}

/* A note's actor: an API token id, or a dashboard user id. */
static json_t *
note_actor(uint32_t id)
{
	if (id & 0x80000000u)
		return json_pack("{s:I}", "user", (json_int_t)(id & 0x7fffffffu));
	return json_pack("{s:I}", "token", (json_int_t)id);
}

static int
lookup_note(void *arg, const struct code_note *n)
{
	json_t *arr = arg;
	char t[SIGIL_TIME_LEN + 1];
	json_t *o = json_pack("{s:s,s:s,s:o,s:s}", "action",
	    n->kind == NOTE_CLEAR ? "clear" : "pin_unlock", "at",
	    sigil_time_format(n->at, t), "by", note_actor(n->token_id),
	    "reason", n->reason);

	if (n->kind == NOTE_CLEAR)
		json_object_set_new(o, "cleared_through",
		    json_integer((json_int_t)n->through));
	else
		json_object_set_new(o, "wrong_pins",
		    json_integer((json_int_t)n->count));
	json_array_append_new(arr, o);
	return json_array_size(arr) >= API_LIST_MAX;
}

/*
 * POST /api/v1/codes/{code}/clear and /pin-unlock, {"reason": "..."}:
 * the brand undoes a clone flag it found false, or lifts a code's PIN
 * lock. The reason and the actor stay in the code's notes.
 */
static void
code_correct(struct api_call *a, int kind)
{
	struct code_note note = { 0 };
	struct code_state cs;
	struct batch b;
	uint64_t serial;
	int rc;

	if (code_of_brand(a, a->seg[1], &serial, &b) != 0 ||
	    body_object(a) != 0 || field_str(a, "reason", STORE_TEXT_MAX, 1,
	    note.reason, sizeof note.reason) != 0)
		return;
	if (strspn(note.reason, " ") == strlen(note.reason)) {
		fail(a, 422, "invalid", "field 'reason' must say why");
		return;
	}
	note.at = sigil_now_us();
	note.token_id = a->tok.id;
	note.by_user = (a->tok.id & 0x80000000u) != 0;
	rc = kind == NOTE_CLEAR ?
	    store_code_clear(a->app->store, a->brand.id, serial, &note) :
	    store_pin_unlock(a->app->store, a->brand.id, serial, &note);
	if (rc != 0) {
		fail(a, rc == SIGIL_EINVAL ? 422 : 503, rc == SIGIL_EINVAL ?
		    "invalid" : "unavailable", sigil_strerror(rc));
		return;
	}
	log_info(kind == NOTE_CLEAR ? "code_clear" : "code_pin_unlock",
	    "brand=%u serial=%llu by=%u", a->brand.id,
	    (unsigned long long)serial, a->tok.id);
	if (kind == NOTE_CLEAR) {
		if (store_code_state(a->app->store, a->brand.id, serial,
		    &cs) != 0)
			memset(&cs, 0, sizeof cs);
		reply(a, 200, json_pack("{s:I,s:b,s:o,s:I}", "serial",
		    (json_int_t)serial, "suspicious", (cs.flags &
		    (SCAN_CLONE_SCANNERS | SCAN_CLONE_TRAVEL)) != 0, "signals",
		    code_signals(&cs), "cleared_through",
		    (json_int_t)note.through));
	} else
		reply(a, 200, json_pack("{s:I,s:b,s:i}", "serial",
		    (json_int_t)serial, "locked", 0, "wrong_pins_lifted",
		    (int)note.count));
}

static void
codes_clear(struct api_call *a)
{
	code_correct(a, NOTE_CLEAR);
}

static void
codes_pin_unlock(struct api_call *a)
{
	code_correct(a, NOTE_PIN_UNLOCK);
}

static int
lookup_event(void *arg, const struct trace_event *ev)
{
	json_t *arr = arg, *o;
	char t[SIGIL_TIME_LEN + 1];

	o = json_pack("{s:I,s:s,s:s}", "event", (json_int_t)ev->id, "step",
	    api_event_name(ev->type), "at", sigil_time_format(ev->at, t));
	if (ev->type == EVENT_AGGREGATE || ev->type == EVENT_DISAGGREGATE)
		json_object_set_new(o, "parent", json_integer(
		    (json_int_t)ev->parent));
	if (ev->type == EVENT_SHIP || ev->type == EVENT_RECEIVE) {
		json_object_set_new(o, "shipment", json_integer(
		    (json_int_t)ev->shipment));
		json_object_set_new(o, "distributor", json_integer(
		    (json_int_t)ev->distributor));
	}
	if (ev->batch_id)
		json_object_set_new(o, "batch", json_integer(
		    (json_int_t)ev->batch_id));
	json_array_append_new(arr, o);
	return json_array_size(arr) >= API_LIST_MAX;
}

static int
lookup_claim(void *arg, const struct claim *cl)
{
	static const char *roles[] = { "", "consumer", "retailer", "sales" };
	char t[SIGIL_TIME_LEN + 1];

	/* customer 0: the claimant was erased (null). */
	json_array_append_new(arg, json_pack("{s:I,s:s,s:o,s:i,s:I,s:s}",
	    "claim", (json_int_t)cl->id, "role", cl->role >= 1 && cl->role <= 3 ?
	    roles[cl->role] : "unknown", "customer", cl->customer_id ?
	    json_integer((json_int_t)cl->customer_id) : json_null(),
	    "campaign", (int)cl->campaign_id, "points", (json_int_t)cl->points,
	    "at", sigil_time_format(cl->at, t)));
	return 0;
}

struct child_count {
	uint64_t	n;
};

static int
count_child(void *arg, uint64_t child)
{
	(void)child;
	((struct child_count *)arg)->n++;
	return 0;
}

static void
codes_get(struct api_call *a)
{
	struct batch b;
	struct product p;
	struct shipment s;
	struct code_state cs;
	struct distributor d;
	struct child_count kids = { 0 };
	char url[CODE_URL_MAX], t[SIGIL_TIME_LEN + 1];
	uint64_t serial, up, cur;
	json_t *o, *parents, *scans, *events;
	int depth;

	if (code_of_brand(a, a->seg[1], &serial, &b) != 0)
		return;
	o = json_object();
	json_object_set_new(o, "serial", json_integer((json_int_t)serial));
	if (code_url(a, &b, serial, url, sizeof url) == 0)
		json_object_set_new(o, "url", json_string(url));
	json_object_set_new(o, "batch", batch_json(&b));
	if (store_product_get(a->app->store, a->brand.id, b.sku, &p) == 0)
		json_object_set_new(o, "product", product_json(&p));
	parents = json_array();
	for (cur = serial, depth = 0; depth < 16 && store_parent(a->app->store,
	    a->brand.id, cur, &up) == 0; depth++, cur = up)
		json_array_append_new(parents, json_integer((json_int_t)up));
	json_object_set_new(o, "parents", parents);
	store_children_each(a->app->store, a->brand.id, serial, count_child,
	    &kids);
	json_object_set_new(o, "children", json_integer((json_int_t)kids.n));
	if (store_code_shipment(a->app->store, a->brand.id, serial, &s) == 0) {
		json_t *so = shipment_json(&s);

		if (store_distributor_get(a->app->store, a->brand.id,
		    s.distributor, &d) == 0) {
			json_object_set_new(so, "distributor_name",
			    json_string(d.name));
			store_distributor_clear(&d);
		}
		json_object_set_new(o, "shipment", so);
	} else
		json_object_set_new(o, "shipment", json_null());
	if (store_code_state(a->app->store, a->brand.id, serial, &cs) != 0)
		memset(&cs, 0, sizeof cs);
	json_object_set_new(o, "scan_count", json_integer(cs.scan_count));
	json_object_set_new(o, "first_scan", cs.first_scan_id ?
	    json_integer((json_int_t)cs.first_scan_id) : json_null());
	json_object_set_new(o, "first_scanned_at", cs.first_at ?
	    json_string(sigil_time_format(cs.first_at, t)) : json_null());
	json_object_set_new(o, "suspicious", json_boolean(cs.flags &
	    (SCAN_CLONE_SCANNERS | SCAN_CLONE_TRAVEL)));
	json_object_set_new(o, "signals", code_signals(&cs));
	{
		struct pin_fails pf = { 0 };

		store_pin_fails(a->app->store, a->brand.id, serial, 0, 0, &pf);
		json_object_set_new(o, "pin", json_pack("{s:i,s:b}",
		    "wrong", (int)pf.code, "locked",
		    pf.code >= STORE_PIN_CODE_TRIES));
	}
	{
		struct scan_list sl = { json_array(), cs.first_scan_id };

		store_code_scans(a->app->store, a->brand.id, serial,
		    lookup_scan, &sl);
		scans = sl.arr;
	}
	json_object_set_new(o, "scans", scans);
	{
		json_t *notes = json_array();

		store_code_notes(a->app->store, a->brand.id, serial,
		    lookup_note, notes);
		json_object_set_new(o, "notes", notes);
	}
	events = json_array();
	store_code_events(a->app->store, a->brand.id, serial, lookup_event,
	    events);
	json_object_set_new(o, "events", events);
	{
		json_t *claims = json_array();

		store_code_claims(a->app->store, a->brand.id, serial,
		    lookup_claim, claims);
		json_object_set_new(o, "claims", claims);
	}
	reply(a, 200, o);
}

/* ---- alerts ---- */

static const char *
alert_type_name(int type)
{
	switch (type) {
	case ALERT_CLONE_SCANNERS:	return "too_many_scanners";
	case ALERT_CLONE_TRAVEL:	return "impossible_travel";
	case ALERT_DIVERSION:		return "diversion";
	}
	return "unknown";
}

struct alert_page {
	json_t		*arr;
	uint64_t	last;
};

static int
alert_one(void *arg, const struct alert *al)
{
	struct alert_page *pg = arg;
	char t[SIGIL_TIME_LEN + 1];
	json_t *o;

	o = json_pack("{s:I,s:s,s:s,s:I,s:I}", "id", (json_int_t)al->id,
	    "type", alert_type_name(al->type), "at",
	    sigil_time_format(al->at, t), "serial", (json_int_t)al->serial,
	    "scan", (json_int_t)al->scan_id);
	if (al->type == ALERT_DIVERSION) {
		json_object_set_new(o, "distributor",
		    json_integer(al->distributor));
		json_object_set_new(o, "distance_km",
		    json_real(round(al->distance_km * 10) / 10));
	}
	if (al->lat != 0 || al->lng != 0)
		json_object_set_new(o, "location", json_pack("{s:f,s:f}",
		    "lat", round6(al->lat), "lng", round6(al->lng)));
	json_array_append_new(pg->arr, o);
	pg->last = al->id;
	return 0;
}

static int
paging(struct api_call *a, uint64_t *after, size_t *limit, int64_t *since)
{
	char v[64];
	uint64_t n;

	*after = 0;
	*limit = 100;
	if (since != NULL)
		*since = 0;
	if (query_param(a, "after", v, sizeof v) != NULL &&
	    sigil_parse_u64(v, UINT64_MAX, after) != 0) {
		fail(a, 400, "bad_query", "after must be an id");
		return -1;
	}
	if (query_param(a, "limit", v, sizeof v) != NULL) {
		if (sigil_parse_u64(v, API_LIST_MAX, &n) != 0 || n == 0) {
			fail(a, 400, "bad_query", "limit must be 1 to 1000");
			return -1;
		}
		*limit = (size_t)n;
	}
	if (since != NULL && query_param(a, "since", v, sizeof v) != NULL &&
	    sigil_time_parse(v, since) != 0) {
		fail(a, 400, "bad_query", "since must be YYYY-MM-DD or "
		    "ISO-8601 UTC");
		return -1;
	}
	return 0;
}

static void
alerts_list(struct api_call *a)
{
	struct alert_page pg = { NULL, 0 };
	char v[32];
	uint64_t after;
	size_t limit;
	int64_t since;
	int type = 0, err;

	if (paging(a, &after, &limit, &since) != 0)
		return;
	if (query_param(a, "type", v, sizeof v) != NULL) {
		for (type = ALERT_CLONE_SCANNERS; type <= ALERT_DIVERSION; type++)
			if (strcmp(v, alert_type_name(type)) == 0)
				break;
		if (type > ALERT_DIVERSION) {
			fail(a, 400, "bad_query", "type must be "
			    "too_many_scanners, impossible_travel or diversion");
			return;
		}
	}
	pg.arr = json_array();
	err = store_alert_each(a->app->store, a->brand.id, after, type, since,
	    limit, alert_one, &pg);
	if (err < 0) {
		json_decref(pg.arr);
		store_fail(a, err, "alerts");
		return;
	}
	reply(a, 200, json_pack("{s:o,s:o}", "alerts", pg.arr, "next",
	    json_array_size(pg.arr) == limit ? json_integer((json_int_t)pg.last)
	    : json_null()));
}

/* ---- EPCIS 2.0 events ---- */

/*
 * Identifiers for EPCIS: the code's GS1 Digital Link URI (without the
 * tag: it names the item, it does not prove it) when the product has a
 * GTIN, the compact code URL otherwise; a batch is named by its GTIN and
 * lot, or by its API URL. One batch and product are remembered between
 * calls, since events name runs of codes of the same batch.
 */
struct epcis_ids {
	struct api_call	*a;
	struct batch	batch;
	struct product	product;
	int		have;
};

static int
epcis_batch(struct epcis_ids *ids, uint32_t brand_id, uint64_t serial)
{
	struct api_call *a = ids->a;

	if (ids->have && serial >= ids->batch.first_serial &&
	    serial - ids->batch.first_serial < ids->batch.count)
		return 0;
	ids->have = store_batch_find_serial(a->app->store, brand_id, serial,
	    &ids->batch) == 0 && store_product_get(a->app->store, brand_id,
	    ids->batch.sku, &ids->product) == 0;
	return ids->have ? 0 : SIGIL_ENOTFOUND;
}

static int
epcis_code_uri(void *arg, uint32_t brand_id, uint64_t serial, char *buf,
    size_t cap)
{
	struct epcis_ids *ids = arg;
	int err;

	if ((err = epcis_batch(ids, brand_id, serial)) != 0)
		return err;
	if (ids->product.gtin[0] != '\0') {
		snprintf(buf, cap, "%s/01/%s/21/%llu", ids->a->brand.base_url,
		    ids->product.gtin, (unsigned long long)serial);
		return 0;
	}
	return code_url(ids->a, &ids->batch, serial, buf, cap) == 0 ? 0 :
	    SIGIL_EINVAL;
}

static int
epcis_batch_class(void *arg, uint32_t brand_id, uint64_t batch_id, char *buf,
    size_t cap, uint64_t *count)
{
	struct epcis_ids *ids = arg;
	struct batch b;
	struct product p;

	if (store_batch_get(ids->a->app->store, batch_id, &b) != 0 ||
	    b.brand_id != brand_id || store_product_get(ids->a->app->store,
	    brand_id, b.sku, &p) != 0)
		return SIGIL_ENOTFOUND;
	if (p.gtin[0] != '\0' && b.lot[0] != '\0')
		snprintf(buf, cap, "%s/01/%s/10/%s", ids->a->brand.base_url,
		    p.gtin, b.lot);
	else
		snprintf(buf, cap, "%s/api/v1/batches/%llu",
		    ids->a->brand.base_url, (unsigned long long)b.id);
	*count = b.count;
	return 0;
}

struct epcis_page {
	struct api_call	*a;
	struct epcis_ctx ctx;
	json_t		*events;
	uint64_t	last_event, last_scan;
	int64_t		to;
	size_t		limit, n_scans;
	int		err;
};

static int
epcis_one(void *arg, const struct trace_event *ev)
{
	struct epcis_page *pg = arg;
	json_t *o;

	if ((pg->err = epcis_event_json(&pg->ctx, ev, &o)) != 0)
		return 1;
	json_array_append_new(pg->events, o);
	pg->last_event = ev->id;
	return 0;
}

/* Consumer scans come from the scan log, as SCAN events. */
static int
epcis_scan(void *arg, const struct scan_rec *r)
{
	struct epcis_page *pg = arg;
	struct trace_event ev = { 0 };
	uint64_t serial = r->serial;
	json_t *o;

	if (pg->to != 0 && r->at >= pg->to)
		return 1;
	if (r->id <= pg->last_scan || r->brand_id != pg->a->brand.id ||
	    (r->flags & SCAN_BOT))
		return 0;
	if (pg->n_scans >= pg->limit)
		return 1;
	ev.id = r->id | UINT64_C(1) << 63;	/* apart from trace event ids */
	ev.type = EVENT_SCAN;
	ev.brand_id = r->brand_id;
	ev.at = r->at;
	ev.scan_id = r->id;
	ev.n = 1;
	ev.serials = &serial;
	if ((pg->err = epcis_event_json(&pg->ctx, &ev, &o)) != 0)
		return 1;
	json_array_append_new(pg->events, o);
	pg->last_scan = r->id;
	pg->n_scans++;
	return 0;
}

static const struct {
	const char	*step;
	int		type;
} epcis_steps[] = {
	{ "commissioning", EVENT_COMMISSION }, { "packing", EVENT_AGGREGATE },
	{ "unpacking", EVENT_DISAGGREGATE }, { "shipping", EVENT_SHIP },
	{ "receiving", EVENT_RECEIVE }, { "inspecting", EVENT_SCAN },
	{ "decommissioning", EVENT_DECOMMISSION },
};

/*
 * GET /api/v1/epcis/events?bizStep=&from=&to=&limit=&after=&after_scan=
 * An EPCISQueryDocument; the next page is in a Link header (rel="next").
 * Trace events come first, then consumer scans (bizStep inspecting);
 * each stream pages by its own cursor.
 */
static void
epcis_events(struct api_call *a)
{
	struct epcis_ids ids = { a, { 0 }, { 0 }, 0 };
	struct epcis_page pg = { 0 };
	char v[64], step[32] = "", f[32] = "", t[32] = "", link[512];
	int64_t from = 0;
	int type = 0, err;
	size_t n_events;
	json_t *doc;

	if (paging(a, &pg.last_event, &pg.limit, NULL) != 0)
		return;
	if (query_param(a, "after_scan", v, sizeof v) != NULL &&
	    sigil_parse_u64(v, UINT64_MAX, &pg.last_scan) != 0) {
		fail(a, 400, "bad_query", "after_scan must be an id");
		return;
	}
	if ((query_param(a, "from", f, sizeof f) != NULL &&
	    sigil_time_parse(f, &from) != 0) ||
	    (query_param(a, "to", t, sizeof t) != NULL &&
	    sigil_time_parse(t, &pg.to) != 0)) {
		fail(a, 400, "bad_query", "from and to must be YYYY-MM-DD or "
		    "ISO-8601 UTC");
		return;
	}
	if (query_param(a, "bizStep", step, sizeof step) != NULL) {
		for (size_t i = 0; i < sizeof epcis_steps /
		    sizeof epcis_steps[0]; i++)
			if (strcmp(step, epcis_steps[i].step) == 0)
				type = epcis_steps[i].type;
		if (type == 0) {
			fail(a, 400, "bad_query", "bizStep must be one of "
			    "commissioning, packing, unpacking, shipping, "
			    "receiving, inspecting, decommissioning");
			return;
		}
	}
	pg.a = a;
	pg.ctx.base_url = a->brand.base_url;
	pg.ctx.code_uri = epcis_code_uri;
	pg.ctx.batch_class = epcis_batch_class;
	pg.ctx.arg = &ids;
	pg.events = json_array();
	err = 0;
	if (type != EVENT_SCAN)
		err = store_event_each(a->app->store, a->brand.id,
		    pg.last_event, from, pg.to, type, pg.limit, epcis_one, &pg);
	n_events = json_array_size(pg.events);
	if (err >= 0 && pg.err == 0 && (type == 0 || type == EVENT_SCAN) &&
	    n_events < pg.limit) {
		pg.limit -= n_events;
		err = store_scan_each(a->app->store, from, epcis_scan, &pg);
		pg.limit += n_events;
	}
	if (err < 0 || pg.err != 0) {
		json_decref(pg.events);
		store_fail(a, err < 0 ? err : pg.err, "events");
		return;
	}
	if (json_array_size(pg.events) >= pg.limit) {
		/* from/to/bizStep passed the checks above: URL-safe. */
		snprintf(link, sizeof link, "</api/v1/epcis/events?limit=%zu&"
		    "after=%llu&after_scan=%llu%s%s%s%s%s%s>; rel=\"next\"",
		    pg.limit, (unsigned long long)pg.last_event,
		    (unsigned long long)pg.last_scan, step[0] ? "&bizStep=" :
		    "", step, f[0] ? "&from=" : "", f, t[0] ? "&to=" : "", t);
		http_add_header(a->c, "Link", link);
	}
	if ((err = epcis_document(EPCIS_DOC_QUERY, pg.events,
	    sigil_now_us(), &doc)) != 0) {
		store_fail(a, err, "events");
		return;
	}
	http_reply_jsont(a->c, 200, doc);
}

/* ---- tokens (admin): accounts.c, with users ---- */

/* ---- dashboard statistics (dashboard.c does the work) ---- */

static void
stats_get(struct api_call *a)
{
	dashboard_stats(a->c, a->app, a->brand.id, a->seg[1]);
}

/* ---- webhooks (webhook.c does the work) ---- */

static void
webhooks_create(struct api_call *a)
{
	if (body_object(a) != 0)
		return;
	webhook_api_create(a->c, a->app, a->brand.id, a->body);
}

static void
webhooks_list(struct api_call *a)
{
	webhook_api_list(a->c, a->app, a->brand.id);
}

static void
webhooks_get(struct api_call *a)
{
	webhook_api_get(a->c, a->app, a->brand.id, a->seg[1]);
}

static void
webhooks_delete(struct api_call *a)
{
	webhook_api_delete(a->c, a->app, a->brand.id, a->seg[1]);
}

/* ---- routing ---- */

static const struct api_route api_routes[] = {
	{ EVHTTP_REQ_GET, "products/*", NEED_READ, products_get },
	{ EVHTTP_REQ_POST, "products", NEED_ADMIN, products_create },
	{ EVHTTP_REQ_GET, "batches", NEED_READ, batches_list },
	{ EVHTTP_REQ_POST, "batches", NEED_OPERATE, batches_create },
	{ EVHTTP_REQ_GET, "batches/*", NEED_READ, batches_get },
	{ EVHTTP_REQ_POST, "batches/*/activate", NEED_OPERATE,
	    batches_activate },
	{ EVHTTP_REQ_POST, "batches/*/revoke", NEED_OPERATE, batches_revoke },
	{ EVHTTP_REQ_GET, "batches/*/*", NEED_OPERATE, batches_print },
	{ EVHTTP_REQ_POST, "aggregations", NEED_OPERATE, aggregations_pack },
	{ EVHTTP_REQ_POST, "aggregations/unpack", NEED_OPERATE,
	    aggregations_unpack },
	{ EVHTTP_REQ_GET, "distributors", NEED_READ, distributors_list },
	{ EVHTTP_REQ_POST, "distributors", NEED_ADMIN, distributors_create },
	{ EVHTTP_REQ_GET, "distributors/*", NEED_READ, distributors_get },
	{ EVHTTP_REQ_POST, "shipments", NEED_OPERATE, shipments_create },
	{ EVHTTP_REQ_GET, "shipments/*", NEED_READ, shipments_get },
	{ EVHTTP_REQ_POST, "shipments/*/receive", NEED_OPERATE,
	    shipments_receive },
	{ EVHTTP_REQ_GET, "codes/*", NEED_READ, codes_get },
	{ EVHTTP_REQ_POST, "codes/*/clear", NEED_OPERATE, codes_clear },
	{ EVHTTP_REQ_POST, "codes/*/pin-unlock", NEED_OPERATE,
	    codes_pin_unlock },
	{ EVHTTP_REQ_GET, "alerts", NEED_READ, alerts_list },
	{ EVHTTP_REQ_GET, "epcis/events", NEED_READ, epcis_events },
	{ EVHTTP_REQ_GET, "webhooks", NEED_ADMIN, webhooks_list },
	{ EVHTTP_REQ_POST, "webhooks", NEED_ADMIN, webhooks_create },
	{ EVHTTP_REQ_GET, "webhooks/*", NEED_ADMIN, webhooks_get },
	{ EVHTTP_REQ_DELETE, "webhooks/*", NEED_ADMIN, webhooks_delete },
	{ EVHTTP_REQ_GET, "stats/*", NEED_READ, stats_get },
};

static int
route_match(const struct api_route *r, struct api_call *a)
{
	char pat[64], *save = NULL, *tok;
	int i = 0;

	snprintf(pat, sizeof pat, "%s", r->pattern);
	for (tok = strtok_r(pat, "/", &save); tok != NULL;
	    tok = strtok_r(NULL, "/", &save), i++) {
		if (i >= a->nseg)
			return 0;
		if (strcmp(tok, "*") != 0 && strcmp(tok, a->seg[i]) != 0)
			return 0;
	}
	return i == a->nseg;
}

/* The token named by "Bearer sgt_...", live; 0 or an error. */
static int
bearer_token(struct app *app, const char *h, struct token *tok)
{
	uint8_t hash[32];
	size_t n;

	if (h == NULL || strncmp(h, "Bearer ", 7) != 0)
		return SIGIL_EDENIED;
	h += 7;
	n = strlen(h);
	if (n != API_TOKEN_LEN || strncmp(h, API_TOKEN_PREFIX, 4) != 0)
		return SIGIL_EDENIED;
	SHA256((const unsigned char *)h, n, hash);
	if (store_token_find(app->store, hash, tok) != 0 || tok->revoked != 0 ||
	    (tok->expires != 0 && tok->expires <= sigil_now_us()))
		return SIGIL_EDENIED;
	return 0;
}

int
api_head_auth(void *arg, const char *authorization, const char *cookie)
{
	struct app *app = arg;
	struct token tok;

	if (authorization != NULL)
		return bearer_token(app, authorization, &tok) == 0;
	return cookie != NULL && dashboard_session_live(app, cookie);
}

static int
authenticate(struct api_call *a)
{
	const char *h = http_header(a->c, "Authorization");

	/* The dashboard: a session cookie, and a CSRF token for changes. */
	if (h == NULL) {
		switch (dashboard_session_auth(a->c, a->app, a->c->method !=
		    EVHTTP_REQ_GET && a->c->method != EVHTTP_REQ_HEAD,
		    &a->tok)) {
		case 0:
			if (store_brand_get(a->app->store, a->tok.brand_id,
			    &a->brand) != 0)
				goto deny;
			return 0;
		case SIGIL_EFORGED:
			fail(a, 403, "csrf", "missing or wrong X-CSRF-Token");
			return -1;
		}
		goto deny;
	}
	if (bearer_token(a->app, h, &a->tok) != 0 ||
	    store_brand_get(a->app->store, a->tok.brand_id, &a->brand) != 0)
		goto deny;
	return 0;
deny:
	http_add_header(a->c, "WWW-Authenticate", "Bearer realm=\"sigil\"");
	fail(a, 401, "unauthorized", "a valid bearer token is required");
	return -1;
}

static int
allowed(const struct token *t, int need)
{
	switch (need) {
	case NEED_READ:
		return 1;
	case NEED_OPERATE:
		return t->role == ROLE_ADMIN || t->role == ROLE_OPERATOR;
	}
	return t->role == ROLE_ADMIN;
}

void
api_handle(struct http_call *c)
{
	struct api_call a = { 0 };
	const char *rest = c->path + strlen("/api/v1/");
	const struct api_route *r = NULL;
	int method = c->method == EVHTTP_REQ_HEAD ? EVHTTP_REQ_GET : c->method;
	int path_known = 0;
	char *save = NULL, *tok;

	a.c = c;
	a.app = c->app;
	if (authenticate(&a) != 0)
		return;
	if (!token_rate_allow(a.tok.id, a.app->api_rate_limit)) {
		fail(&a, 429, "rate_limited", "too many requests for this "
		    "token");
		return;
	}
	if (strlen(rest) >= sizeof a.buf) {
		fail(&a, 404, "not_found", "no such resource");
		return;
	}
	strcpy(a.buf, rest);
	for (tok = strtok_r(a.buf, "/", &save); tok != NULL;
	    tok = strtok_r(NULL, "/", &save)) {
		if (a.nseg == API_SEGS_MAX) {
			fail(&a, 404, "not_found", "no such resource");
			return;
		}
		a.seg[a.nseg++] = tok;
	}
	{
		/* Users and tokens: accounts.c's. */
		struct accounts_call ac = { c, a.app, a.brand.id, &a.tok,
		    method, a.seg, a.nseg };

		if (accounts_api_route(&ac))
			return;
	}
	{
		/* Campaigns, customers, catalog, settings: loyalty.c's. */
		struct loyalty_api la = { c, a.app, a.brand.id, a.tok.role,
		    method, a.seg, a.nseg, a.tok.id };

		if (loyalty_api_route(&la))
			return;
	}
	for (size_t i = 0; i < sizeof api_routes / sizeof api_routes[0]; i++) {
		if (!route_match(&api_routes[i], &a))
			continue;
		path_known = 1;
		if (api_routes[i].method == method) {
			r = &api_routes[i];
			break;
		}
	}
	if (r == NULL) {
		if (path_known)
			fail(&a, 405, "method_not_allowed",
			    "method not allowed here");
		else
			fail(&a, 404, "not_found", "no such resource");
		return;
	}
	if (!allowed(&a.tok, r->need)) {
		fail(&a, 403, "forbidden", "this token's role may not do this");
		return;
	}
	r->fn(&a);
	json_decref(a.body);
}
