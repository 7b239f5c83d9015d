/*
 * api_links.c - the brand API's GS1 links: POST and GET /api/v1/links,
 * GET, PATCH and DELETE /api/v1/links/{id}, called by route_api.c after
 * authentication and the role check (reads: any role; changes: admin).
 *
 * A link's level is one of: brand (no level field), a GTIN of the brand
 * (and a lot, and a serial), or a product SKU of the brand (and one of
 * its batches). Its link type is a GS1 Web Vocabulary one (links.c), its
 * href http(s) only, its languages BCP 47. Each bad field gets its own
 * 422 naming it; nothing is written. Writes go through the writer
 * (http_write) and are answered after the commit. Another brand's link is
 * a 404, as a missing one.
 *
 * A handler. May call links.c, code.c (GTIN check digits), store
 * (reads), http, http_write and http_api.c. Never calls another handler.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sigil/api.h"
#include "sigil/audit.h"
#include "sigil/app.h"
#include "sigil/code.h"
#include "sigil/http.h"
#include "sigil/http_write.h"
#include "sigil/links.h"
#include "sigil/log.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "sigil/writer.h"

static json_t *
str_or_null(const char *s)
{
	return s[0] != '\0' ? json_string(s) : json_null();
}

static json_t *
link_json(const struct link *l)
{
	char t[SIGIL_TIME_LEN + 1], langs[sizeof l->hreflang];
	json_t *o = json_object(), *hl = json_array();
	char *save = NULL, *tok;

	snprintf(langs, sizeof langs, "%s", l->hreflang);
	for (tok = strtok_r(langs, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save))
		json_array_append_new(hl, json_string(tok));
	json_object_set_new(o, "id", json_integer(l->id));
	json_object_set_new(o, "gtin", str_or_null(l->gtin));
	json_object_set_new(o, "lot", str_or_null(l->lot));
	json_object_set_new(o, "serial", str_or_null(l->serial));
	json_object_set_new(o, "sku", str_or_null(l->sku));
	json_object_set_new(o, "batch", l->batch ? json_integer(
	    (json_int_t)l->batch) : json_null());
	json_object_set_new(o, "link_type", json_string(l->link_type));
	json_object_set_new(o, "href", json_string(l->href));
	json_object_set_new(o, "title", json_string(l->title));
	json_object_set_new(o, "hreflang", hl);
	json_object_set_new(o, "context", str_or_null(l->context));
	json_object_set_new(o, "media_type", str_or_null(l->media_type));
	json_object_set_new(o, "default", json_boolean(l->is_default));
	json_object_set_new(o, "type_default", json_boolean(l->type_default));
	json_object_set_new(o, "created", json_string(sigil_time_format(
	    l->created, t)));
	return o;
}

static const char *const fields[] = { "gtin", "lot", "serial", "sku",
    "batch", "link_type", "href", "title", "hreflang", "context",
    "media_type", "default", "type_default" };

/* 1 when key is absent from the body (a PATCH keeps the stored value). */
static int
absent(struct api_call *a, const char *key)
{
	return json_object_get(a->body, key) == NULL;
}

/* A nullable string field: null or "" clears it. 0, or -1 replied. */
static int
opt_str(struct api_call *a, const char *key, size_t max_chars, char *out,
    size_t size)
{
	json_t *v = json_object_get(a->body, key);

	if (v == NULL)
		return 0;
	if (json_is_null(v) || (json_is_string(v) &&
	    json_string_length(v) == 0)) {
		out[0] = '\0';
		return 0;
	}
	return api_field_str(a, key, max_chars, 1, out, size);
}

static int
fail(struct api_call *a, const char *code, const char *msg)
{
	api_fail(a, 422, code, msg);
	return -1;
}

/* A media type: type "/" subtype, RFC 6838 restricted names. */
static int
media_type_ok(const char *s)
{
	int slash = 0;
	size_t run = 0;

	for (; *s != '\0'; s++) {
		char ch = *s;

		if (ch == '/') {
			if (slash++ || run == 0)
				return 0;
			run = 0;
			continue;
		}
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || strchr("!#$&-^_.+", ch)))
			return 0;
		run++;
	}
	return slash == 1 && run > 0;
}

/*
 * Applies the body's fields to *l (a new link, or the stored one for a
 * PATCH) and checks the result: 0, or -1 after replying 422.
 */
static int
link_from_body(struct api_call *a, struct link *l)
{
	struct store *st = a->app->store;
	const char *key, *why;
	json_t *v;
	char buf[LINK_HREF_MAX + 1];

	json_object_foreach(a->body, key, v) {
		size_t i;

		for (i = 0; i < sizeof fields / sizeof fields[0]; i++)
			if (strcmp(key, fields[i]) == 0)
				break;
		if (i == sizeof fields / sizeof fields[0]) {
			snprintf(buf, sizeof buf, "unknown field '%.64s'", key);
			return fail(a, "invalid", buf);
		}
	}
	if (!absent(a, "gtin")) {
		v = json_object_get(a->body, "gtin");
		l->gtin[0] = '\0';
		if (!json_is_null(v)) {
			size_t n = json_is_string(v) ? json_string_length(v) :
			    0;

			if (n != 8 && n != 12 && n != 13 && n != 14)
				return fail(a, "bad_gtin", "field 'gtin' must "
				    "be a GTIN-8, -12, -13 or -14 string");
			memset(l->gtin, '0', 14 - n);
			memcpy(l->gtin + 14 - n, json_string_value(v), n + 1);
			if (!code_gtin_valid(l->gtin))
				return fail(a, "bad_gtin", "field 'gtin': "
				    "digits only, with a correct check digit");
		}
	}
	if (opt_str(a, "lot", 20, l->lot, sizeof l->lot) != 0 ||
	    opt_str(a, "serial", 20, l->serial, sizeof l->serial) != 0 ||
	    opt_str(a, "sku", STORE_NAME_MAX, l->sku, sizeof l->sku) != 0 ||
	    opt_str(a, "title", LINK_TITLE_MAX, l->title, sizeof l->title) !=
	    0 || opt_str(a, "context", LINK_TITLE_MAX, l->context,
	    sizeof l->context) != 0 || opt_str(a, "media_type",
	    LINK_MEDIA_MAX, l->media_type, sizeof l->media_type) != 0)
		return -1;
	for (const char *p = l->lot; *p; p++)
		if (!code_ai82((unsigned char)*p))
			return fail(a, "invalid", "field 'lot' holds a "
			    "character outside GS1 AI set 82");
	for (const char *p = l->serial; *p; p++)
		if (!code_ai82((unsigned char)*p))
			return fail(a, "invalid", "field 'serial' holds a "
			    "character outside GS1 AI set 82");
	if (!absent(a, "batch")) {
		v = json_object_get(a->body, "batch");
		if (json_is_null(v))
			l->batch = 0;
		else if (!json_is_integer(v) || json_integer_value(v) < 1)
			return fail(a, "invalid", "field 'batch' must be a "
			    "batch id");
		else
			l->batch = (uint64_t)json_integer_value(v);
	}
	if (!absent(a, "link_type")) {
		v = json_object_get(a->body, "link_type");
		if (!json_is_string(v) || json_string_length(v) >
		    LINK_TYPE_MAX || !links_type_ok(json_string_value(v),
		    l->link_type))
			return fail(a, "bad_link_type", "field 'link_type' "
			    "must be a GS1 Web Vocabulary link type with the "
			    "gs1: prefix, e.g. gs1:pip, gs1:promotion");
	}
	if (!absent(a, "href")) {
		v = json_object_get(a->body, "href");
		if (!json_is_string(v) || links_href_check(json_string_value(
		    v), l->href, sizeof l->href, &why) != 0)
			return fail(a, "bad_href", json_is_string(v) ? why :
			    "field 'href' must be a string");
	}
	if (!absent(a, "hreflang")) {
		size_t i, n = 0;
		json_t *e;

		v = json_object_get(a->body, "hreflang");
		l->hreflang[0] = '\0';
		if (!json_is_null(v) && (!json_is_array(v) ||
		    json_array_size(v) > LINK_LANGS_MAX))
			return fail(a, "bad_hreflang", "field 'hreflang' must "
			    "be an array of at most 8 BCP 47 language tags");
		json_array_foreach(v, i, e) {
			if (!json_is_string(e) ||
			    !links_lang_ok(json_string_value(e)))
				return fail(a, "bad_hreflang", "field "
				    "'hreflang': each entry must be a BCP 47 "
				    "language tag, e.g. zh-CN, en");
			n += (size_t)snprintf(l->hreflang + n,
			    sizeof l->hreflang - n, "%s%s", n ? "," : "",
			    json_string_value(e));
		}
	}
	if (!absent(a, "default")) {
		v = json_object_get(a->body, "default");
		if (!json_is_boolean(v))
			return fail(a, "invalid", "field 'default' must be "
			    "true or false");
		l->is_default = json_is_true(v);
	}
	if (!absent(a, "type_default")) {
		v = json_object_get(a->body, "type_default");
		if (!json_is_boolean(v))
			return fail(a, "invalid", "field 'type_default' must "
			    "be true or false");
		l->type_default = json_is_true(v);
	}

	/* The whole link, as it would be stored. */
	if (l->link_type[0] == '\0')
		return fail(a, "bad_link_type", "field 'link_type' is "
		    "required");
	if (l->href[0] == '\0')
		return fail(a, "bad_href", "field 'href' is required");
	if (l->title[0] == '\0')
		return fail(a, "invalid", "field 'title' is required (1 to "
		    "200 characters)");
	if (l->media_type[0] != '\0' && !media_type_ok(l->media_type))
		return fail(a, "invalid", "field 'media_type' must be a media "
		    "type such as text/html");
	if (l->gtin[0] != '\0' && l->sku[0] != '\0')
		return fail(a, "invalid", "a link is at GTIN level (gtin, "
		    "lot, serial) or at product level (sku, batch), not both");
	if ((l->lot[0] != '\0' || l->serial[0] != '\0') && l->gtin[0] == '\0')
		return fail(a, "invalid", "fields 'lot' and 'serial' need "
		    "'gtin'");
	if (l->batch != 0 && l->sku[0] == '\0')
		return fail(a, "invalid", "field 'batch' needs 'sku'");
	if (l->gtin[0] != '\0') {
		struct product p;

		if (store_product_find_gtin(st, a->brand.id, l->gtin, &p) != 0)
			return fail(a, "unknown_gtin", "no product of this "
			    "brand has this GTIN");
	}
	if (l->sku[0] != '\0') {
		struct product p;
		struct batch b;

		if (store_product_get(st, a->brand.id, l->sku, &p) != 0)
			return fail(a, "unknown_sku", "no product of this "
			    "brand has this SKU");
		if (l->batch != 0 && (store_batch_get(st, l->batch, &b) != 0 ||
		    b.brand_id != a->brand.id || strcmp(b.sku, l->sku) != 0))
			return fail(a, "unknown_batch", "no batch of this "
			    "product has this id");
	}
	return 0;
}

static int
add_run(struct store *st, void *arg)
{
	return store_link_add(st, arg);
}

/* The link's id (a create's once made); its href and title are public. */
static int
link_audit(struct store *st, const void *arg, struct audit_entry *e,
    int after)
{
	const struct link *l = arg;

	(void)st;
	if (!after) {
		if (l->id != 0)
			audit_target(e, "link", "%u", l->id);
		return 0;
	}
	if (e->target_id[0] != '\0')
		return 0;
	audit_target(e, "link", "%u", l->id);
	return 1;
}

static const struct writer_op op_link_add = { "link_add", add_run,
    link_audit };

static void
added(struct http_call *c, void *arg, int err)
{
	struct link *l = arg;

	if (err == 0)
		log_info("link_new", "brand=%u id=%u type=%s", l->brand_id,
		    l->id, l->link_type);
	api_write_reply(c, err, "link", 201, err == 0 ? link_json(l) : NULL);
}

void
api_links_create(struct api_call *a)
{
	struct link *l;

	if (api_body(a) != 0)
		return;
	if ((l = calloc(1, sizeof *l)) == NULL) {
		api_fail(a, 503, "unavailable", "out of memory");
		return;
	}
	l->brand_id = a->brand.id;
	if (link_from_body(a, l) == 0)
		http_write(a->c, &op_link_add, l, sizeof *l, added);
	free(l);
}

struct list_ctx {
	json_t		*arr;
	const char	*gtin, *lot, *serial, *sku;
	uint64_t	batch;
	int		has_batch;
};

static int
list_one(void *arg, const struct link *l)
{
	struct list_ctx *x = arg;

	if ((x->gtin && strcmp(x->gtin, l->gtin) != 0) ||
	    (x->lot && strcmp(x->lot, l->lot) != 0) ||
	    (x->serial && strcmp(x->serial, l->serial) != 0) ||
	    (x->sku && strcmp(x->sku, l->sku) != 0) ||
	    (x->has_batch && x->batch != l->batch))
		return 0;
	return api_list_add(x->arr, link_json(l));
}

void
api_links_list(struct api_call *a)
{
	char gtin[16], g14[15], lot[64], serial[64], sku[STORE_NAME_BYTES + 1],
	    batch[24];
	struct list_ctx x = { json_array(), NULL, NULL, NULL, NULL, 0, 0 };

	if (api_query(a, "gtin", gtin, sizeof gtin) != NULL) {
		size_t n = strlen(gtin);

		if (n > 14 || (n != 8 && n != 12 && n != 13 && n != 14)) {
			json_decref(x.arr);
			api_fail(a, 400, "bad_gtin", "gtin= must be a GTIN");
			return;
		}
		memset(g14, '0', 14 - n);
		memcpy(g14 + 14 - n, gtin, n + 1);
		x.gtin = g14;
	}
	x.lot = api_query(a, "lot", lot, sizeof lot);
	x.serial = api_query(a, "serial", serial, sizeof serial);
	x.sku = api_query(a, "sku", sku, sizeof sku);
	if (api_query(a, "batch", batch, sizeof batch) != NULL) {
		if (sigil_parse_u64(batch, UINT64_MAX, &x.batch) != 0) {
			json_decref(x.arr);
			api_fail(a, 400, "invalid", "batch= must be a batch id");
			return;
		}
		x.has_batch = 1;
	}
	api_reply_list(a, "links", x.arr, store_link_each(a->app->store,
	    a->brand.id, list_one, &x));
}

/* The caller's link named by the path: 0 with *l, or -1 replied 404. */
static int
link_of_path(struct api_call *a, struct link *l)
{
	uint64_t id;
	int rc;

	if (api_parse_id(a->seg[1], UINT32_MAX, &id) != 0 ||
	    (rc = store_link_get(a->app->store, a->brand.id, (uint32_t)id,
	    l)) == SIGIL_ENOTFOUND) {
		api_fail(a, 404, "not_found", "no such link");
		return -1;
	}
	if (rc != 0) {
		api_store_fail(a, rc, "link");
		return -1;
	}
	return 0;
}

void
api_links_get(struct api_call *a)
{
	struct link *l = calloc(1, sizeof *l);

	if (l == NULL) {
		api_fail(a, 503, "unavailable", "out of memory");
		return;
	}
	if (link_of_path(a, l) == 0)
		api_reply(a, 200, link_json(l));
	free(l);
}

static int
put_run(struct store *st, void *arg)
{
	return store_link_put(st, arg);
}

static const struct writer_op op_link_put = { "link_put", put_run,
    link_audit };

static void
patched(struct http_call *c, void *arg, int err)
{
	api_write_reply(c, err, "link", 200, err == 0 ? link_json(arg) : NULL);
}

void
api_links_patch(struct api_call *a)
{
	struct link *l;

	if (api_body(a) != 0)
		return;
	if ((l = calloc(1, sizeof *l)) == NULL) {
		api_fail(a, 503, "unavailable", "out of memory");
		return;
	}
	if (link_of_path(a, l) == 0 && link_from_body(a, l) == 0)
		http_write(a->c, &op_link_put, l, sizeof *l, patched);
	free(l);
}

struct del_job {
	uint32_t	brand_id, id;
};

static int
del_run(struct store *st, void *arg)
{
	struct del_job *x = arg;

	return store_link_del(st, x->brand_id, x->id);
}

static int
link_del_audit(struct store *st, const void *arg, struct audit_entry *e,
    int after)
{
	const struct del_job *x = arg;

	(void)st;
	if (!after)
		audit_target(e, "link", "%u", x->id);
	return 0;
}

static const struct writer_op op_link_del = { "link_del", del_run,
    link_del_audit };

static void
deleted(struct http_call *c, void *arg, int err)
{
	struct del_job *x = arg;

	if (err == SIGIL_ENOTFOUND) {
		http_reply_error(c, 404, "not_found", "no such link");
		return;
	}
	api_write_reply(c, err, "link", 200, err == 0 ? json_pack("{s:I,s:b}",
	    "id", (json_int_t)x->id, "deleted", 1) : NULL);
}

void
api_links_delete(struct api_call *a)
{
	struct del_job x = { a->brand.id, 0 };
	uint64_t id;

	if (api_parse_id(a->seg[1], UINT32_MAX, &id) != 0) {
		api_fail(a, 404, "not_found", "no such link");
		return;
	}
	x.id = (uint32_t)id;
	http_write(a->c, &op_link_del, &x, sizeof x, deleted);
}
