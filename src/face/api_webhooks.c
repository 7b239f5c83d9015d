/*
 * api_webhooks.c - the brand API's webhook endpoints: POST, GET and
 * DELETE /api/v1/webhooks[/{id}], called by route_api.c after
 * authentication and the role check (admin).
 *
 * Creation makes the subscription on the loop (webhook_prepare: the
 * cursors at the logs' ends, the sealed secret) and stores it through
 * the writer (http_write); the 201 with the secret, shown this once,
 * goes out after the commit. Deletion is a writer op too. Reads show the
 * delivery fields the dispatcher has settled but not yet written
 * (webhook_progress_overlay), so an answer the receiver gave is never
 * hidden by the write that records it.
 *
 * A handler. May call webhook.c and webhook_dispatch.c, egress (the
 * target policy), store (reads), http, http_write and http_api.c, log.
 * Never calls another handler file; never writes to the store on the
 * loop; never shows a secret twice or puts one in the log.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "sigil/api.h"
#include "sigil/audit.h"
#include "sigil/app.h"
#include "sigil/egress.h"
#include "sigil/http.h"
#include "sigil/http_write.h"
#include "sigil/log.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "sigil/webhook.h"
#include "sigil/writer.h"

#define WEBHOOK_LIST_MAX	1000

/* A subscription on its way to the store: what the 201 shows. */
struct create_job {
	struct webhook	w;
	char		secret[WEBHOOK_SECRET_LEN + 1];
};

static int
create_run(struct store *st, void *arg)
{
	struct create_job *x = arg;

	return store_webhook_add(st, &x->w);
}

/* The id a create made; never the URL (it may hold a credential) nor the
 * secret. */
static int
create_audit(struct store *st, const void *arg, struct audit_entry *e,
    int after)
{
	const struct create_job *x = arg;

	(void)st;
	if (!after)
		return 0;
	audit_target(e, "webhook", "%u", x->w.id);
	return 1;
}

static const struct writer_op op_webhook_add = { "webhook_add", create_run,
    create_audit };

static void
create_failed(struct http_call *c, uint32_t brand_id, int rc)
{
	log_error("webhook_new", "brand=%u err=%s", brand_id,
	    sigil_strerror(rc));
	http_reply_error(c, rc == SIGIL_EINVAL ? 422 : 500,
	    rc == SIGIL_EINVAL ? "invalid" : "internal",
	    rc == SIGIL_EINVAL ? "subscription refused" :
	    "could not create the subscription");
}

static void
created(struct http_call *c, void *arg, int err)
{
	struct create_job *x = arg;
	json_t *o;

	if (err == SIGIL_EBUSY) {
		http_reply_error(c, 503, "unavailable",
		    "the server is busy or shutting down; try again");
		return;
	}
	if (err != 0) {
		create_failed(c, x->w.brand_id, err);
		return;
	}
	log_info("webhook_new", "brand=%u id=%u events=%d", x->w.brand_id,
	    x->w.id, x->w.events);
	if ((o = webhook_json(&x->w)) == NULL) {
		http_reply_error(c, 500, "internal", "out of memory");
		return;
	}
	json_object_set_new(o, "secret", json_string(x->secret));
	http_reply_jsont(c, 201, o);
}

void
api_webhooks_create(struct api_call *a)
{
	struct http_call *c = a->c;
	uint32_t brand_id = a->brand.id;
	json_t *url, *events, *v;
	struct create_job x;
	const char *why;
	size_t i;
	int mask = 0, bit, rc;

	if (api_body(a) != 0)
		return;
	url = json_object_get(a->body, "url");
	events = json_object_get(a->body, "events");
	if (!json_is_string(url)) {
		http_reply_error(c, 422, "invalid", "field 'url' must be an "
		    "http:// or https:// URL of at most 256 printable ASCII "
		    "characters, without user info or fragment");
		return;
	}
	if ((rc = webhook_target_check(egress_policy(a->app->egress),
	    json_string_value(url), &why)) != 0) {
		http_reply_error(c, 422, rc == SIGIL_EDENIED ? "refused_target" :
		    "invalid", why);
		return;
	}
	if (!json_is_array(events) || json_array_size(events) == 0 ||
	    json_array_size(events) > 3) {
		http_reply_error(c, 422, "invalid", "field 'events' must be a "
		    "non-empty array of \"scan\", \"claim\", \"customer\"");
		return;
	}
	json_array_foreach(events, i, v) {
		if (!json_is_string(v) ||
		    (bit = webhook_event_bit(json_string_value(v))) == 0 ||
		    (mask & bit) != 0) {
			http_reply_error(c, 422, "invalid", "field 'events' may "
			    "hold \"scan\", \"claim\" and \"customer\", each "
			    "once");
			return;
		}
		mask |= bit;
	}
	if ((rc = webhook_prepare(a->app->store, a->app->keyring, brand_id,
	    json_string_value(url), mask, &x.w, x.secret)) != 0) {
		create_failed(c, brand_id, rc);
		return;
	}
	http_write(c, &op_webhook_add, &x, sizeof x, created);
	OPENSSL_cleanse(&x, sizeof x);
}

struct list_ctx {
	uint32_t	brand_id;
	json_t		*arr;
	uint64_t	after;		/* ids above this one */
	size_t		limit;
	int		more;		/* one more was there after the page */
};

/* The store's rows are brand || id: one brand's in id order. */
static int
list_one(void *arg, const struct webhook *w)
{
	struct list_ctx *l = arg;

	struct webhook shown;

	if (w->brand_id != l->brand_id || w->id <= l->after)
		return 0;
	if (json_array_size(l->arr) >= l->limit) {
		l->more = 1;
		return 1;
	}
	shown = *w;
	webhook_progress_overlay(&shown);
	if (json_array_append_new(l->arr, webhook_json(&shown)) != 0)
		return SIGIL_ENOMEM;
	return 0;
}

/*
 * GET /api/v1/webhooks: oldest first, ?limit= 1-1000 [1000] and ?after=
 * (an id: the page after it); "next" is the last id shown when there is
 * more, else null.
 */
void
api_webhooks_list(struct api_call *a)
{
	struct list_ctx l = { a->brand.id, NULL, 0, WEBHOOK_LIST_MAX, 0 };
	json_t *next;
	int rc;

	if (api_query_limit(a, WEBHOOK_LIST_MAX, &l.limit) != 0 ||
	    api_query_id(a, "after", UINT32_MAX, &l.after) != 0)
		return;
	if ((l.arr = json_array()) == NULL || (rc = store_webhook_each(
	    a->app->store, list_one, &l)) < 0) {
		json_decref(l.arr);
		http_reply_error(a->c, 500, "internal", "could not list "
		    "webhooks");
		return;
	}
	next = l.more && json_array_size(l.arr) > 0 ? json_incref(
	    json_object_get(json_array_get(l.arr, json_array_size(l.arr) -
	    1), "id")) : json_null();
	http_reply_jsont(a->c, 200, json_pack("{s:o,s:o}", "webhooks", l.arr,
	    "next", next));
}

void
api_webhooks_get(struct api_call *a)
{
	struct http_call *c = a->c;
	uint32_t brand_id = a->brand.id;
	const char *id = a->seg[1];
	struct webhook w;
	uint64_t n;
	json_t *o;
	int rc;

	if (sigil_parse_u64(id, UINT32_MAX, &n) != 0 || n == 0 ||
	    (rc = store_webhook_get(a->app->store, brand_id, (uint32_t)n,
	    &w)) == SIGIL_ENOTFOUND) {
		http_reply_error(c, 404, "not_found", "no such webhook");
		return;
	}
	if (rc == 0 && w.brand_id != brand_id) {
		http_reply_error(c, 404, "not_found", "no such webhook");
		return;
	}
	if (rc == 0)
		webhook_progress_overlay(&w);
	if (rc != 0 || (o = webhook_json(&w)) == NULL) {
		http_reply_error(c, 500, "internal", "could not read the "
		    "webhook");
		return;
	}
	http_reply_jsont(c, 200, o);
}

struct delete_job {
	uint32_t	brand_id, id;
};

static int
delete_run(struct store *st, void *arg)
{
	struct delete_job *x = arg;

	return store_webhook_del(st, x->brand_id, x->id);
}

static int
delete_audit(struct store *st, const void *arg, struct audit_entry *e,
    int after)
{
	const struct delete_job *x = arg;

	(void)st;
	if (!after)
		audit_target(e, "webhook", "%u", x->id);
	return 0;
}

static const struct writer_op op_webhook_del = { "webhook_del", delete_run,
    delete_audit };

static void
deleted(struct http_call *c, void *arg, int err)
{
	struct delete_job *x = arg;

	if (err == SIGIL_ENOTFOUND) {
		http_reply_error(c, 404, "not_found", "no such webhook");
		return;
	}
	if (err != 0) {
		http_reply_error(c, 500, "internal", "could not delete the "
		    "webhook");
		return;
	}
	log_info("webhook_del", "brand=%u id=%u", x->brand_id, x->id);
	http_reply_jsont(c, 200, json_pack("{s:I,s:b}", "id",
	    (json_int_t)x->id, "deleted", 1));
}

void
api_webhooks_delete(struct api_call *a)
{
	struct delete_job x = { a->brand.id, 0 };
	uint64_t n;

	if (sigil_parse_u64(a->seg[1], UINT32_MAX, &n) != 0 || n == 0) {
		http_reply_error(a->c, 404, "not_found", "no such webhook");
		return;
	}
	x.id = (uint32_t)n;
	http_write(a->c, &op_webhook_del, &x, sizeof x, deleted);
}
