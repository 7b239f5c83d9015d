/*
 * api_content.c - the brand's landing-page content over the brand API,
 * and the public image URL:
 *
 *   GET    /api/v1/content                          what exists
 *   GET|PUT|DELETE /api/v1/content/brand/{lang}
 *   GET|PUT|DELETE /api/v1/content/products/{sku}/{lang}
 *   GET|PUT|DELETE /api/v1/content/batches/{id}/{lang}
 *   GET|POST /api/v1/images, DELETE /api/v1/images/{id}
 *   POST   /api/v1/preview                          the page, recording nothing
 *   GET    /i/{id}                                  public
 *
 * route_api.c calls these after authentication and the role check
 * (admin to change, read to look). A document is checked by content.c
 * and stored canonical through the writer; a product or batch of
 * another brand is 404, as if it did not exist. An image is refused
 * before anything is stored when its declared type is not PNG, JPEG,
 * WebP or GIF (SVG never: it can carry script), when its bytes are not
 * that type (415), when it is over 2 MiB (413: a body over the brand
 * API's limit is refused by the connection guard before it is read) or
 * would take the brand over its total (409). /i/{id} answers with the
 * stored type, a content-hash ETag, a year's immutable caching, nosniff
 * and a policy under which nothing in it can run.
 *
 * A handler. May call content.c, page.c, lookup (code facts for the
 * preview), store (reads), http, http_write, http_api.c and log. Never
 * writes to the store on the loop; never calls another handler.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <jansson.h>

#include "sigil/api.h"
#include "sigil/audit.h"
#include "sigil/app.h"
#include "sigil/content.h"
#include "sigil/http.h"
#include "sigil/http_write.h"
#include "sigil/log.h"
#include "sigil/page.h"
#include "sigil/scan.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "sigil/writer.h"

#define PREVIEW_SERIAL	123456

/* ---- documents ---- */

/*
 * The document key of a content/... path: 0, or -1 after replying (404
 * for a product or batch that is not the caller's, 422 for a bad tag).
 */
static int
content_key_of(struct api_call *a, struct content_key *k)
{
	const char *kind = a->seg[1], *lang;
	uint64_t id;

	memset(k, 0, sizeof *k);
	k->brand_id = a->brand.id;
	if (strcmp(kind, "brand") == 0 && a->nseg == 3) {
		k->kind = CONTENT_BRAND;
		lang = a->seg[2];
	} else if (strcmp(kind, "products") == 0 && a->nseg == 4) {
		struct product p;

		k->kind = CONTENT_PRODUCT;
		if (strlen(a->seg[2]) > STORE_NAME_BYTES ||
		    store_product_get(a->app->store, a->brand.id, a->seg[2],
		    &p) != 0) {
			api_fail(a, 404, "not_found", "no such product");
			return -1;
		}
		snprintf(k->sku, sizeof k->sku, "%s", p.sku);
		lang = a->seg[3];
	} else if (strcmp(kind, "batches") == 0 && a->nseg == 4) {
		struct batch b;

		k->kind = CONTENT_BATCH;
		if (api_parse_id(a->seg[2], UINT64_MAX, &id) != 0 ||
		    store_batch_get(a->app->store, id, &b) != 0 ||
		    b.brand_id != a->brand.id) {
			api_fail(a, 404, "not_found", "no such batch");
			return -1;
		}
		k->batch_id = id;
		lang = a->seg[3];
	} else {
		api_fail(a, 404, "not_found", "no such resource");
		return -1;
	}
	if (content_lang_norm(lang, k->lang) != 0) {
		api_fail(a, 422, "invalid", "the language must be a BCP 47 tag "
		    "such as zh-CN or en (a 2-3 letter language, then "
		    "subtags of 1 to 8 letters or digits)");
		return -1;
	}
	return 0;
}

static json_t *
doc_json(const struct content_doc *d)
{
	char t[SIGIL_TIME_LEN + 1];
	json_t *o = json_pack("{s:s,s:s,s:s}", "kind",
	    content_kind_name(d->key.kind), "lang", d->key.lang, "updated",
	    sigil_time_format(d->updated, t));

	if (o == NULL)
		return NULL;
	if (d->key.kind == CONTENT_PRODUCT)
		json_object_set_new(o, "sku", json_string(d->key.sku));
	else if (d->key.kind == CONTENT_BATCH)
		json_object_set_new(o, "batch", json_integer(
		    (json_int_t)d->key.batch_id));
	json_object_set_new(o, "content", json_loadb(d->text, d->len, 0,
	    NULL));
	return o;
}

/*
 * The document's place (brand/zh, product/W1/zh, batch/5/en): a put's
 * argument is a content_doc, which starts with its key, as a delete's is.
 */
static int
content_audit(struct store *st, const void *arg, struct audit_entry *e,
    int after)
{
	const struct content_key *k = arg;

	(void)st;
	if (after)
		return 0;
	if (k->kind == CONTENT_PRODUCT)
		audit_target(e, "content", "product/%s/%s", k->sku, k->lang);
	else if (k->kind == CONTENT_BATCH)
		audit_target(e, "content", "batch/%llu/%s",
		    (unsigned long long)k->batch_id, k->lang);
	else
		audit_target(e, "content", "brand/%s", k->lang);
	return 0;
}

WRITER_OP_STORE_AUDIT(op_content_put, "content_put", store_content_put,
    content_audit);

static void
content_stored(struct http_call *c, void *arg, int err)
{
	struct content_doc *d = arg;

	if (err == 0)
		log_info("content_put", "brand=%u kind=%d lang=%s bytes=%zu",
		    d->key.brand_id, d->key.kind, d->key.lang, d->len);
	if (err == SIGIL_EFULL) {
		http_reply_error(c, 409, "limit", "at most 32 languages per "
		    "brand, product or batch");
		return;
	}
	api_write_reply(c, err, "content", 200, err == 0 ? doc_json(d) :
	    NULL);
}

void
api_content_put(struct api_call *a)
{
	struct content_doc *d;
	char why[256], *text;
	size_t len;
	int rc;

	if ((d = calloc(1, sizeof *d)) == NULL) {
		api_fail(a, 503, "unavailable", "out of memory");
		return;
	}
	if (content_key_of(a, &d->key) != 0 || api_body(a) != 0)
		goto out;
	rc = content_doc_check(a->app->store, a->brand.id,
	    d->key.kind == CONTENT_BRAND ? CONTENT_BRAND : CONTENT_PRODUCT,
	    a->body, &text, &len, why, sizeof why);
	if (rc != 0) {
		api_fail(a, rc == SIGIL_EINVAL ? 422 : 503, rc == SIGIL_EINVAL ?
		    "invalid" : "unavailable", rc == SIGIL_EINVAL ? why :
		    "out of memory");
		goto out;
	}
	memcpy(d->text, text, len);
	d->text[len] = '\0';
	d->len = len;
	free(text);
	http_write(a->c, &op_content_put, d, sizeof *d, content_stored);
out:
	free(d);
}

void
api_content_get(struct api_call *a)
{
	struct content_key k;
	struct content_doc *d;
	int rc;

	if (content_key_of(a, &k) != 0)
		return;
	if ((d = malloc(sizeof *d)) == NULL) {
		api_fail(a, 503, "unavailable", "out of memory");
		return;
	}
	if ((rc = store_content_get(a->app->store, &k, d)) != 0)
		api_store_fail(a, rc, "content in this language");
	else
		api_reply(a, 200, doc_json(d));
	free(d);
}

WRITER_OP_STORE_AUDIT(op_content_del, "content_del", store_content_del,
    content_audit);

static void
content_deleted(struct http_call *c, void *arg, int err)
{
	struct content_key *k = arg;

	api_write_reply(c, err, "content in this language", 200, json_pack(
	    "{s:s,s:s,s:b}", "kind", content_kind_name(k->kind), "lang",
	    k->lang, "deleted", 1));
}

void
api_content_delete(struct api_call *a)
{
	struct content_key k;

	if (content_key_of(a, &k) != 0)
		return;
	http_write(a->c, &op_content_del, &k, sizeof k, content_deleted);
}

static int
list_one(void *arg, const struct content_doc *d)
{
	json_t *o = doc_json(d);

	json_object_del(o, "content");
	return api_list_add(arg, o);
}

void
api_content_list(struct api_call *a)
{
	json_t *arr = json_array();
	int rc = store_content_each(a->app->store, a->brand.id, list_one, arr);

	api_reply_list(a, "content", arr, rc);
}

/* ---- images ---- */

struct image_job {
	struct image_meta	m;
	uint8_t			*data;
	int			existed;
};

static int
image_put_run(struct store *st, void *arg)
{
	struct image_job *x = arg;

	return store_image_put(st, &x->m, x->data, &x->existed);
}

/* The image by its hash's first 8 bytes, as hex. */
static void
image_target(struct audit_entry *e, const uint8_t *hash)
{
	char hex[17];

	for (int i = 0; i < 8; i++)
		snprintf(hex + 2 * i, 3, "%02x", hash[i]);
	audit_target(e, "image", "%s", hex);
}

static int
image_put_audit(struct store *st, const void *arg, struct audit_entry *e,
    int after)
{
	const struct image_job *x = arg;

	(void)st;
	if (!after) {
		image_target(e, x->m.hash);
		audit_detail_set(e, json_pack("{s:I}", "bytes",
		    (json_int_t)x->m.bytes));
	}
	return 0;
}

static const struct writer_op op_image_put = { "image_put", image_put_run,
    image_put_audit };

static json_t *
image_json(const struct image_meta *m)
{
	char id[CONTENT_IMAGE_ID_LEN + 1], url[CONTENT_IMAGE_ID_LEN + 4];
	char t[SIGIL_TIME_LEN + 1];

	content_image_id(m->brand_id, m->hash, id);
	snprintf(url, sizeof url, "/i/%s", id);
	return json_pack("{s:s,s:s,s:s,s:I,s:s}", "id", id, "url", url, "type",
	    content_image_mime(m->type), "bytes", (json_int_t)m->bytes,
	    "created", sigil_time_format(m->created, t));
}

static void
image_stored(struct http_call *c, void *arg, int err)
{
	struct image_job *x = arg;

	free(x->data);
	x->data = NULL;
	if (err == SIGIL_EFULL) {
		http_reply_error(c, 409, "images_full", "the brand's images "
		    "would pass their total limit; delete some first");
		return;
	}
	if (err == 0)
		log_info("image_put", "brand=%u bytes=%zu existed=%d",
		    x->m.brand_id, x->m.bytes, x->existed);
	api_write_reply(c, err, "image", x->existed ? 200 : 201,
	    err == 0 ? image_json(&x->m) : NULL);
}

void
api_images_create(struct api_call *a)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(a->c->req);
	size_t n = evbuffer_get_length(in);
	struct image_job x;
	int declared, sniffed;
	uint8_t head[16];

	/* The size first: a body this large was never worth reading. */
	if (http_body_too_large(a->c) || n > STORE_IMAGE_MAX) {
		api_fail(a, 413, "too_large", "an image may have at most "
		    "2 MiB (2097152 bytes)");
		return;
	}
	declared = content_image_type_of(http_header(a->c, "Content-Type"));
	if (declared == 0) {
		api_fail(a, 415, "unsupported_type", "Content-Type must be "
		    "image/png, image/jpeg, image/webp or image/gif (SVG is "
		    "never accepted)");
		return;
	}
	if (n == 0) {
		api_fail(a, 422, "invalid", "the body is empty: send the "
		    "image's bytes");
		return;
	}
	sniffed = content_image_sniff(head, evbuffer_copyout(in, head,
	    sizeof head) < 0 ? 0 : n < sizeof head ? n : sizeof head);
	if (sniffed != declared) {
		api_fail(a, 415, "type_mismatch", "the bytes are not the "
		    "declared image type (checked by their magic numbers)");
		return;
	}
	memset(&x, 0, sizeof x);
	if ((x.data = malloc(n)) == NULL) {
		api_fail(a, 503, "unavailable", "out of memory");
		return;
	}
	evbuffer_copyout(in, x.data, n);
	x.m.brand_id = a->brand.id;
	x.m.type = declared;
	x.m.bytes = n;
	content_image_hash(x.data, n, x.m.hash);
	http_write(a->c, &op_image_put, &x, sizeof x, image_stored);
}

static int
image_list_one(void *arg, const struct image_meta *m)
{
	return api_list_add(arg, image_json(m));
}

void
api_images_list(struct api_call *a)
{
	struct image_usage u;
	json_t *arr = json_array();
	int rc = store_image_each(a->app->store, a->brand.id, image_list_one,
	    arr);

	if (rc < 0 || (rc = store_image_usage(a->app->store, a->brand.id,
	    &u)) != 0) {
		json_decref(arr);
		api_store_fail(a, rc, "images");
		return;
	}
	api_reply(a, 200, json_pack("{s:o,s:{s:I,s:I,s:I}}", "images", arr,
	    "usage", "count", (json_int_t)u.count, "bytes",
	    (json_int_t)u.bytes, "limit", (json_int_t)u.limit));
}

struct image_del_job {
	uint32_t	brand_id;
	uint8_t		hash[STORE_IMAGE_HASH_LEN];
};

static int
image_del_run(struct store *st, void *arg)
{
	struct image_del_job *x = arg;

	return store_image_del(st, x->brand_id, x->hash);
}

static int
image_del_audit(struct store *st, const void *arg, struct audit_entry *e,
    int after)
{
	const struct image_del_job *x = arg;

	(void)st;
	if (!after)
		image_target(e, x->hash);
	return 0;
}

static const struct writer_op op_image_del = { "image_del", image_del_run,
    image_del_audit };

static void
image_deleted(struct http_call *c, void *arg, int err)
{
	struct image_del_job *x = arg;
	char id[CONTENT_IMAGE_ID_LEN + 1];

	content_image_id(x->brand_id, x->hash, id);
	api_write_reply(c, err, "image", 200, json_pack("{s:s,s:b}", "id", id,
	    "deleted", 1));
}

/* Does a document of the brand name the image id (arg)? */
static int
names_image(void *arg, const struct content_doc *d)
{
	return strstr(d->text, arg) != NULL;
}

void
api_images_delete(struct api_call *a)
{
	struct image_del_job x;
	uint32_t brand;
	int rc;

	if (content_image_id_parse(a->seg[1], &brand, x.hash) != 0 ||
	    brand != a->brand.id) {
		api_fail(a, 404, "not_found", "no such image");
		return;
	}
	x.brand_id = brand;
	if ((rc = store_content_each(a->app->store, brand, names_image,
	    a->seg[1])) != 0) {
		if (rc > 0)
			api_fail(a, 409, "in_use", "content still shows this "
			    "image: remove it from the documents first");
		else
			api_store_fail(a, rc, "content");
		return;
	}
	http_write(a->c, &op_image_del, &x, sizeof x, image_deleted);
}

/* ---- GET /i/{id} ---- */

static void
image_bytes_free(const void *data, size_t len, void *arg)
{
	(void)len;
	(void)arg;
	free((void *)data);
}

void
content_image_serve(struct http_call *c)
{
	struct app *app = c->app;
	const char *id = c->path + strlen("/i/"), *inm;
	char etag[CONTENT_IMAGE_ID_LEN + 3];
	uint8_t hash[STORE_IMAGE_HASH_LEN], *data = NULL;
	struct image_meta m;
	struct evbuffer *b;
	uint32_t brand;
	int rc;

	if (content_image_id_parse(id, &brand, hash) != 0 ||
	    (rc = store_image_get(app->store, brand, hash, &m, NULL)) ==
	    SIGIL_ENOTFOUND) {
		http_reply_error(c, 404, "not_found", "no such image");
		return;
	}
	if (rc != 0) {
		http_reply_error(c, 503, "unavailable", "storage error");
		return;
	}
	snprintf(etag, sizeof etag, "\"%s\"", id);
	http_add_header(c, "ETag", etag);
	http_add_header(c, "Cache-Control", "public, max-age=31536000, "
	    "immutable");
	/* http_reply adds X-Content-Type-Options: nosniff. */
	http_add_header(c, "Content-Security-Policy", "default-src 'none'; "
	    "sandbox");
	inm = http_header(c, "If-None-Match");
	if (inm != NULL && (strstr(inm, etag) != NULL || strcmp(inm, "*") ==
	    0)) {
		http_reply(c, 304, NULL, NULL);
		return;
	}
	if ((rc = store_image_get(app->store, brand, hash, &m, &data)) != 0 ||
	    (b = evbuffer_new()) == NULL) {
		free(data);
		http_reply_error(c, 503, "unavailable", "storage error");
		return;
	}
	evbuffer_add_reference(b, data, m.bytes, image_bytes_free, NULL);
	http_reply(c, 200, content_image_mime(m.type), b);
	evbuffer_free(b);
}

/* ---- POST /api/v1/preview ---- */

static int
verdict_of(const char *name)
{
	for (int v = VERDICT_GENUINE; v <= VERDICT_INACTIVE; v++)
		if (strcmp(scan_verdict_name(v), name) == 0)
			return v;
	return -1;
}

/*
 * The landing page as a consumer would see it for a code of the product
 * (and batch), with a sample serial and trace and, if given, a draft of
 * the product's content: nothing is recorded or stored. Sent with the
 * page's own policy, framing allowed to this origin only (the
 * dashboard's editor), and the template's script left out.
 */
void
api_preview(struct api_call *a)
{
	char sku[STORE_NAME_BYTES + 1], lang[STORE_LANG_MAX + 1] = "";
	char verdict[16] = "genuine", why[256], *text = NULL;
	struct content_view *cv = NULL;
	struct page_view v = { 0 };
	struct product p;
	struct batch b;
	struct evbuffer *body;
	const char *accept;
	json_t *draft = NULL, *jl;
	uint64_t batch_id = 0;
	size_t len;
	int rc;

	memset(&b, 0, sizeof b);
	if (api_body(a) != 0 ||
	    api_field_str(a, "sku", STORE_NAME_MAX, 1, sku, sizeof sku) != 0 ||
	    api_field_uint(a, "batch", 1, UINT64_MAX >> 1, 0, &batch_id) != 0 ||
	    api_field_str(a, "verdict", 12, 0, verdict, sizeof verdict) != 0)
		return;
	if (verdict[0] == '\0')
		snprintf(verdict, sizeof verdict, "genuine");
	if ((v.verdict = verdict_of(verdict)) < 0) {
		api_fail(a, 422, "invalid", "field 'verdict' must be one of "
		    "genuine, suspicious, counterfeit, revoked, inactive");
		return;
	}
	jl = json_object_get(a->body, "lang");
	if (jl != NULL && (!json_is_string(jl) ||
	    content_lang_norm(json_string_value(jl), lang) != 0)) {
		api_fail(a, 422, "invalid", "field 'lang' must be a BCP 47 "
		    "tag such as zh-CN or en");
		return;
	}
	if (store_product_get(a->app->store, a->brand.id, sku, &p) != 0) {
		api_fail(a, 404, "not_found", "no such product");
		return;
	}
	if (batch_id != 0 && (store_batch_get(a->app->store, batch_id,
	    &b) != 0 || b.brand_id != a->brand.id ||
	    strcmp(b.sku, p.sku) != 0)) {
		api_fail(a, 404, "not_found", "no such batch of this product");
		return;
	}
	if (json_object_get(a->body, "content") != NULL) {
		rc = content_doc_check(a->app->store, a->brand.id,
		    CONTENT_PRODUCT, json_object_get(a->body, "content"),
		    &text, &len, why, sizeof why);
		if (rc != 0) {
			api_fail(a, rc == SIGIL_EINVAL ? 422 : 503,
			    rc == SIGIL_EINVAL ? "invalid" : "unavailable",
			    rc == SIGIL_EINVAL ? why : "out of memory");
			return;
		}
		draft = json_loadb(text, len, 0, NULL);
		free(text);
	}
	accept = lang[0] ? lang : http_header(a->c, "Accept-Language");
	if ((cv = malloc(sizeof *cv)) == NULL || (body = evbuffer_new()) ==
	    NULL) {
		free(cv);
		json_decref(draft);
		api_fail(a, 503, "unavailable", "out of memory");
		return;
	}
	content_view_load(a->app, a->brand.id, p.sku, batch_id,
	    PREVIEW_SERIAL, accept, draft, 1, cv);
	v.first_scan = 1;
	v.scan_count = 1;
	v.brand_name = a->brand.name;
	v.product_name = p.name;
	v.sku = p.sku;
	v.gtin = p.gtin[0] ? p.gtin : NULL;
	v.batch_id = batch_id;
	v.lot = b.lot[0] ? b.lot : NULL;
	v.expires = b.expires;
	v.serial = PREVIEW_SERIAL;
	v.bot = 1;		/* no location button */
	v.preview = 1;
	v.content = &cv->pc;
	rc = page_render(&v, page_lang_pick(accept), body);
	content_view_free(cv);
	free(cv);
	json_decref(draft);
	if (rc != 0) {
		evbuffer_free(body);
		api_fail(a, 503, "unavailable", "could not render the page");
		return;
	}
	http_add_header(a->c, "Cache-Control", "no-store");
	http_add_header(a->c, "Content-Security-Policy", page_csp(1));
	http_reply(a->c, 200, "text/html; charset=utf-8", body);
	evbuffer_free(body);
}
