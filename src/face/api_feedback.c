/*
 * api_feedback.c - the brand's feedback inbox: what consumers rated,
 * wrote or reported after a scan (POST /api/v1/feedback,
 * loyalty_feedback.c), and the brand's answer to it.
 *
 *   GET  /api/v1/feedback           newest first, paged (?limit= 1..1000,
 *        100; ?before= the previous page's next), filtered by ?rating=
 *        1..5 ?sku= ?batch= (id) ?status= open|replied|closed ?kind=
 *        rating|fake ?since= ?until= (dates local in ?tz=, an until date
 *        includes its day, or ISO-8601 instants)
 *   GET  /api/v1/feedback/{id}      one entry
 *   POST /api/v1/feedback/{id}/reply {text}: stored and sent to the
 *        customer's message channel in one transaction (replied)
 *   POST /api/v1/feedback/{id}/close
 *   GET  /api/v1/feedback/{id}/photo  a fake report's photo, with its
 *        own image type, nosniff, a sandbox CSP and no caching
 *   GET/PUT /api/v1/feedback/settings {min_ratings, drop}: the
 *        rating-drop alert's thresholds
 *
 * Each entry names the scan (its check id), the code (its URL, which
 * the dashboard's lookup takes), the product and lot, and the customer
 * when the device had logged in. A customer's erasure cuts the text,
 * where, reply, photo and the scan out of the entry (store_erase.c):
 * the kind, rating, status and time stay; text, scan, url and the
 * product's names are null. Entries from before issue 21 (the activity
 * log only) read as open ratings.
 *
 * A handler. May call the store (reads), scan (ids), http_api.c, http
 * and http_write; never another handler.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <jansson.h>

#include "sigil/api.h"
#include "sigil/app.h"
#include "sigil/code.h"
#include "sigil/http.h"
#include "sigil/http_write.h"
#include "sigil/log.h"
#include "sigil/scan.h"
#include "sigil/session.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "sigil/writer.h"

#define FEEDBACK_PAGE	100

static const char *const status_names[] = {
	[FEEDBACK_OPEN] = "open", [FEEDBACK_REPLIED] = "replied",
	[FEEDBACK_CLOSED] = "closed",
};

/* The last batch and product read: feedback comes in runs. */
struct fb_names {
	struct api_call	*a;
	struct batch	b;
	struct product	p;
	int		have_b, have_p;
	/* Of the entry in hand: */
	int		have_scan;
	struct scan_rec	r;
};

static void
names_batch(struct fb_names *nm, uint64_t batch_id)
{
	struct api_call *a = nm->a;

	if (nm->have_b && nm->b.id == batch_id)
		return;
	nm->have_b = store_batch_get(a->app->store, batch_id, &nm->b) == 0 &&
	    nm->b.brand_id == a->brand.id;
	nm->have_p = nm->have_b && store_product_get(a->app->store,
	    a->brand.id, nm->b.sku, &nm->p) == 0;
}

/* What f shows of its product: its scan's batch (none once erased). */
static void
names_of(struct fb_names *nm, const struct feedback *f)
{
	struct api_call *a = nm->a;

	nm->have_scan = f->scan_id != 0 && store_scan_get(a->app->store,
	    f->scan_id, &nm->r) == 0 && (nm->r.brand_id == a->brand.id ||
	    (nm->r.brand_id == 0 && f->kind == FEEDBACK_FAKE));
	if (nm->have_scan && nm->r.brand_id != 0)
		names_batch(nm, nm->r.batch_id);
}

/* Does f's product (as shown) pass the sku and batch filters? */
static int
names_pass(const struct fb_names *nm, const char *sku, uint64_t batch)
{
	int known = nm->have_scan && nm->r.brand_id != 0 && nm->have_b;

	if (sku[0] != '\0' && (!known || strcmp(nm->b.sku, sku) != 0))
		return 0;
	return batch == 0 || (known && nm->b.id == batch);
}

static json_t *
actor_json(uint32_t id)
{
	if (id == 0)
		return json_null();
	if (id & SESSION_TOKEN_BIT)
		return json_pack("{s:I}", "user",
		    (json_int_t)(id & ~SESSION_TOKEN_BIT));
	return json_pack("{s:I}", "token", (json_int_t)id);
}

static json_t *
time_json(int64_t t)
{
	char buf[SIGIL_TIME_LEN + 1];

	return t != 0 ? json_string(sigil_time_format(t, buf)) : json_null();
}

/* The entry f, names as names_of found them. */
static json_t *
fb_json(struct fb_names *nm, const struct feedback *f)
{
	struct api_call *a = nm->a;
	struct customer cu;
	char check[SCAN_CHECK_LEN + 1], url[CODE_URL_MAX], photo[64];
	int erased = 0, known = nm->have_scan && nm->r.brand_id != 0 &&
	    nm->have_b;
	json_t *o;

	if (f->customer_id != 0 && store_customer_get(a->app->store,
	    a->brand.id, f->customer_id, &cu) == 0)
		erased = cu.erased != 0;
	o = json_pack("{s:I,s:s,s:s,s:i,s:o,s:s}", "id", (json_int_t)f->id,
	    "kind", f->kind == FEEDBACK_FAKE ? "fake" : "rating", "status",
	    status_names[f->status], "rating", f->rating, "created",
	    time_json(f->at), "text", f->text);
	if (erased)
		json_object_set_new(o, "text", json_null());
	json_object_set_new(o, "where", f->kind != FEEDBACK_FAKE ? json_null() :
	    json_string(erased ? "" : f->where));
	json_object_set_new(o, "customer", f->customer_id ?
	    json_integer((json_int_t)f->customer_id) : json_null());
	if (nm->have_scan) {
		scan_check_format(nm->r.id, check);
		json_object_set_new(o, "scan", json_string(check));
		json_object_set_new(o, "serial", nm->r.brand_id != 0 ?
		    json_integer((json_int_t)nm->r.serial) : json_null());
	} else {
		json_object_set_new(o, "scan", json_null());
		json_object_set_new(o, "serial", json_null());
	}
	json_object_set_new(o, "url", known && api_code_url(a, &nm->b,
	    nm->r.serial, url, sizeof url) == 0 ? json_string(url) :
	    json_null());
	json_object_set_new(o, "sku", known ? json_string(nm->b.sku) :
	    json_null());
	json_object_set_new(o, "batch", known ?
	    json_integer((json_int_t)nm->b.id) : json_null());
	json_object_set_new(o, "product_name", known && nm->have_p ?
	    json_string(nm->p.name) : json_null());
	json_object_set_new(o, "lot", known ? json_string(nm->b.lot) :
	    json_null());
	json_object_set_new(o, "reply", f->status == FEEDBACK_REPLIED ||
	    f->reply[0] != '\0' ? json_string(f->reply) : json_null());
	json_object_set_new(o, "replied_at", time_json(f->replied_at));
	json_object_set_new(o, "replied_by", actor_json(f->replied_by));
	json_object_set_new(o, "closed_at", time_json(f->closed_at));
	snprintf(photo, sizeof photo, "/api/v1/feedback/%llu/photo",
	    (unsigned long long)f->id);
	json_object_set_new(o, "photo", f->photo != FEEDBACK_PHOTO_NONE ?
	    json_string(photo) : json_null());
	return o;
}

/* ---- the list ---- */

struct fb_query {
	struct fb_names	nm;
	int		rating;		/* 0 any */
	int		status;		/* -1 any */
	int		kind;		/* 0 any */
	char		sku[STORE_NAME_BYTES + 1];	/* "" any */
	uint64_t	batch;		/* 0 any */
	int64_t		since, until;	/* [since, until) */
	size_t		want;		/* limit + 1 */
	json_t		*arr;
	uint64_t	last_id;	/* of the limit-th entry */
	int		more;
};

static int
fb_one(void *arg, const struct feedback *f)
{
	struct fb_query *q = arg;

	if (f->at < q->since)
		return 1;	/* newest first: nothing older is wanted */
	if (f->at >= q->until || (q->rating && f->rating != q->rating) ||
	    (q->status >= 0 && f->status != q->status) ||
	    (q->kind && f->kind != q->kind))
		return 0;
	names_of(&q->nm, f);
	if (!names_pass(&q->nm, q->sku, q->batch))
		return 0;
	if (json_array_size(q->arr) + 1 == q->want) {
		q->more = 1;
		return 1;
	}
	json_array_append_new(q->arr, fb_json(&q->nm, f));
	q->last_id = f->id;
	return 0;
}

/* ?name= one of names[0..n): its index, -1 absent; -2 after 400. */
static int
query_enum(struct api_call *a, const char *name, const char *const *names,
    int n, const char *help)
{
	char v[32];
	int got;

	if ((got = api_query_arg(a, name, v, sizeof v)) < 0)
		return -2;
	if (!got)
		return -1;
	for (int i = 0; i < n; i++)
		if (names[i] != NULL && strcmp(v, names[i]) == 0)
			return i;
	api_fail(a, 400, "bad_query", help);
	return -2;
}

void
api_feedback_list(struct api_call *a)
{
	static const char *const kinds[] = { NULL, "rating", "fake" };
	struct fb_query *q;
	struct product p;
	struct batch b;
	uint64_t before, n;
	size_t limit;
	char v[24];
	int tz, got, err;

	if (api_page_back(a, FEEDBACK_PAGE, API_LIST_MAX, &limit,
	    &before) != 0 || api_query_zone(a, &tz) != 0)
		return;
	if ((q = calloc(1, sizeof *q)) == NULL) {
		api_store_fail(a, SIGIL_ENOMEM, "feedback");
		return;
	}
	q->nm.a = a;
	q->since = INT64_MIN;
	q->until = INT64_MAX;
	q->want = limit + 1;
	if ((got = api_query_arg(a, "rating", v, sizeof v)) < 0)
		goto out;
	if (got) {
		if (sigil_parse_u64(v, 5, &n) != 0 || n == 0) {
			api_fail(a, 400, "bad_query", "rating must be 1 to 5");
			goto out;
		}
		q->rating = (int)n;
	}
	if ((q->status = query_enum(a, "status", status_names, 3, "status "
	    "must be open, replied or closed")) == -2 ||
	    (q->kind = query_enum(a, "kind", kinds, 3, "kind must be rating "
	    "or fake")) == -2)
		goto out;
	if (q->kind < 0)
		q->kind = 0;
	if ((got = api_query_arg(a, "sku", q->sku, sizeof q->sku)) < 0)
		goto out;
	if (got && (err = store_product_get(a->app->store, a->brand.id,
	    q->sku, &p)) != 0) {
		if (err == SIGIL_ENOTFOUND)
			api_fail(a, 400, "unknown_sku", "no product with this "
			    "sku");
		else
			api_store_fail(a, err, "product");
		goto out;
	}
	if ((got = api_query_arg(a, "batch", v, sizeof v)) < 0)
		goto out;
	if (got) {
		if (sigil_parse_u64(v, UINT64_MAX - 1, &q->batch) != 0 ||
		    q->batch == 0) {
			api_fail(a, 400, "bad_query", "batch must be a batch id");
			goto out;
		}
		if (store_batch_get(a->app->store, q->batch, &b) != 0 ||
		    b.brand_id != a->brand.id) {
			api_fail(a, 400, "unknown_batch", "no batch with this "
			    "id");
			goto out;
		}
	}
	if (api_query_bound(a, "since", tz, 0, &q->since) < 0 ||
	    api_query_bound(a, "until", tz, 1, &q->until) < 0)
		goto out;
	if (q->since >= q->until) {
		api_fail(a, 400, "bad_query", "since must be before until");
		goto out;
	}
	q->arr = json_array();
	err = store_feedback_back(a->app->store, a->brand.id, before, fb_one,
	    q);
	if (err < 0) {
		json_decref(q->arr);
		api_store_fail(a, err, "feedback");
		goto out;
	}
	api_reply(a, 200, json_pack("{s:o,s:o}", "feedback", q->arr, "next",
	    q->more ? json_integer((json_int_t)q->last_id) : json_null()));
out:
	free(q);
}

/* ---- one entry ---- */

/* The brand's feedback of the path's segment 1: 0, or -1 after 404. */
static int
feedback_of_call(struct api_call *a, struct feedback *out)
{
	uint64_t id;
	int err;

	if (api_parse_id(a->seg[1], UINT64_MAX - 1, &id) != 0) {
		api_fail(a, 404, "not_found", "no such feedback");
		return -1;
	}
	if ((err = store_feedback_get(a->app->store, a->brand.id, id,
	    out)) != 0) {
		api_store_fail(a, err, "feedback");
		return -1;
	}
	return 0;
}

void
api_feedback_get(struct api_call *a)
{
	struct fb_names nm = { .a = a };
	struct feedback *f;

	if ((f = malloc(sizeof *f)) == NULL) {
		api_store_fail(a, SIGIL_ENOMEM, "feedback");
		return;
	}
	if (feedback_of_call(a, f) == 0) {
		names_of(&nm, f);
		api_reply(a, 200, fb_json(&nm, f));
	}
	free(f);
}

/* ---- reply and close ---- */

WRITER_OP_STORE(op_feedback_reply, "feedback_reply", store_feedback_reply);
WRITER_OP_STORE(op_feedback_close, "feedback_close", store_feedback_reply);

static void
replied(struct http_call *c, void *arg, int err)
{
	struct feedback_reply *r = arg;
	const struct feedback *f = &r->row;

	if (err == SIGIL_ESTATE) {
		http_reply_error(c, 409, "closed", "the feedback is closed");
		return;
	}
	if (err == SIGIL_EINVAL) {
		http_reply_error(c, 422, "invalid", "the reply could not be "
		    "stored as given");
		return;
	}
	if (err == 0)
		log_info("feedback", "event=%s brand=%u id=%llu delivered=%d",
		    r->close ? "close" : "reply", r->brand_id,
		    (unsigned long long)r->id, r->delivered);
	api_write_reply(c, err, "feedback", 200, json_pack(
	    "{s:I,s:s,s:o,s:o,s:o,s:b}", "id", (json_int_t)r->id, "status",
	    status_names[f->status], "reply", f->status == FEEDBACK_REPLIED ||
	    f->reply[0] ? json_string(f->reply) : json_null(), "replied_at",
	    time_json(f->replied_at), "closed_at", time_json(f->closed_at),
	    "delivered", r->delivered));
}

static void
reply_or_close(struct api_call *a, int close)
{
	struct fb_names nm = { .a = a };
	struct feedback_reply *r;
	struct feedback *f;

	r = calloc(1, sizeof *r);
	f = malloc(sizeof *f);
	if (r == NULL || f == NULL) {
		api_store_fail(a, SIGIL_ENOMEM, "feedback");
		goto out;
	}
	if (feedback_of_call(a, f) != 0)
		goto out;
	if (!close && (api_body(a) != 0 || api_field_str(a, "text",
	    FEEDBACK_REPLY_MAX, 1, r->text, sizeof r->text) != 0))
		goto out;
	if (!close && strspn(r->text, " ") == strlen(r->text)) {
		api_fail(a, 422, "invalid", "field 'text' must say something");
		goto out;
	}
	if (f->status == FEEDBACK_CLOSED) {
		api_fail(a, 409, "closed", "the feedback is closed");
		goto out;
	}
	/* A legacy entry gets the product its scan names, as shown. */
	names_of(&nm, f);
	if (nm.have_scan && nm.r.brand_id != 0 && nm.have_b) {
		r->batch_id = nm.b.id;
		snprintf(r->sku, sizeof r->sku, "%s", nm.b.sku);
	}
	r->brand_id = a->brand.id;
	r->id = f->id;
	r->actor = a->tok.id;
	r->at = sigil_now_us();
	r->close = close;
	http_write(a->c, close ? &op_feedback_close : &op_feedback_reply, r,
	    sizeof *r, replied);
out:
	free(f);
	free(r);
}

void
api_feedback_reply(struct api_call *a)
{
	reply_or_close(a, 0);
}

void
api_feedback_close(struct api_call *a)
{
	reply_or_close(a, 1);
}

/* ---- the photo ---- */

void
api_feedback_photo(struct api_call *a)
{
	struct evbuffer *b;
	uint8_t *bytes = NULL;
	uint64_t id;
	size_t len;
	int type, err;

	if (api_parse_id(a->seg[1], UINT64_MAX - 1, &id) != 0) {
		api_fail(a, 404, "not_found", "no such photo");
		return;
	}
	if ((err = store_feedback_photo(a->app->store, a->brand.id, id, &type,
	    &bytes, &len)) != 0) {
		if (err == SIGIL_ENOTFOUND)
			api_fail(a, 404, "not_found", "no such photo");
		else
			api_store_fail(a, err, "photo");
		return;
	}
	if ((b = evbuffer_new()) == NULL || evbuffer_add(b, bytes, len) != 0) {
		if (b != NULL)
			evbuffer_free(b);
		free(bytes);
		api_store_fail(a, SIGIL_ENOMEM, "photo");
		return;
	}
	free(bytes);
	/* A consumer's upload: never cached, never run (http_reply adds
	 * nosniff). */
	http_add_header(a->c, "Cache-Control", "private, no-store");
	http_add_header(a->c, "Content-Security-Policy", "default-src 'none'; "
	    "sandbox");
	http_add_header(a->c, "Content-Disposition", "inline");
	http_reply(a->c, 200, type == FEEDBACK_PHOTO_PNG ? "image/png" :
	    "image/jpeg", b);
	evbuffer_free(b);
}

/* ---- the rating-drop thresholds ---- */

static json_t *
settings_json(const struct feedback_settings *s)
{
	return json_pack("{s:i,s:f}", "min_ratings", (int)s->min_ratings,
	    "drop", s->drop_tenths / 10.0);
}

void
api_feedback_settings_get(struct api_call *a)
{
	struct feedback_settings s;
	int err;

	if ((err = store_feedback_settings_get(a->app->store, a->brand.id,
	    &s)) != 0) {
		api_store_fail(a, err, "settings");
		return;
	}
	api_reply(a, 200, settings_json(&s));
}

struct settings_job {
	uint32_t		brand_id;
	struct feedback_settings s;
};

static int
settings_run(struct store *st, void *arg)
{
	struct settings_job *x = arg;

	return store_feedback_settings_put(st, x->brand_id, &x->s);
}
static const struct writer_op op_feedback_settings = {
	"feedback_settings", settings_run, NULL
};

static void
settings_put(struct http_call *c, void *arg, int err)
{
	struct settings_job *x = arg;

	api_write_reply(c, err, "settings", 200, settings_json(&x->s));
}

void
api_feedback_settings_put(struct api_call *a)
{
	struct settings_job x = { 0 };
	json_t *drop;
	double d;
	uint64_t n;

	if (api_body(a) != 0 || api_field_uint(a, "min_ratings", 1, 10000, 1,
	    &n) != 0)
		return;
	drop = json_object_get(a->body, "drop");
	d = json_number_value(drop);
	if (!json_is_number(drop) || d < 0.1 - 1e-9 || d > 4 + 1e-9 ||
	    json_object_size(a->body) != 2) {
		api_fail(a, 422, "invalid", "expected {\"min_ratings\": "
		    "1..10000, \"drop\": 0.1..4 (points)}");
		return;
	}
	x.brand_id = a->brand.id;
	x.s.min_ratings = (uint32_t)n;
	x.s.drop_tenths = (uint32_t)(d * 10 + 0.5);
	http_write(a->c, &op_feedback_settings, &x, sizeof x, settings_put);
}
