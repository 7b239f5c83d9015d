/*
 * api_messages.c - the brand API's lifecycle messages: definitions
 * (GET, POST /api/v1/messages; GET, PUT, DELETE /api/v1/messages/{id}),
 * a dry run (POST /api/v1/messages/dry-run with a definition, or
 * /api/v1/messages/{id}/dry-run of a stored one), and delivery status
 * (GET /api/v1/messages/{id}/deliveries, GET /api/v1/outbox) and the
 * brand's message settings (GET, PUT /api/v1/messages/settings), called by
 * route_api.c after authentication and the role check.
 *
 * Definitions are checked on the loop (message_config_parse) and written
 * through the writer (http_write, audited). A dry run walks the audience
 * on a worker (http_job_read), since a brand's customers may be many:
 * counts and a few rendered texts, nothing written, nothing sent.
 *
 * A handler. May call message.c (definitions, planning), store (reads),
 * http, http_write, http_job, http_api.c, log. Never calls another
 * handler file, never writes on the loop, never shows a phone or an
 * openid (deliveries name the customer by id).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sigil/api.h"
#include "sigil/app.h"
#include "sigil/http.h"
#include "sigil/http_job.h"
#include "sigil/http_write.h"
#include "sigil/log.h"
#include "sigil/member.h"
#include "sigil/message.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "sigil/writer.h"

#define MESSAGES_LIST_MAX	1000
#define DELIVERIES_MAX		1000

static const char *const state_names[] = { "queued", "sending", "sent",
	"failed" };
static const char *const kind_names[] = { NULL, "marketing", "service",
	"alert" };

static int
message_id(struct api_call *a, uint32_t *out)
{
	uint64_t n;

	if (sigil_parse_u64(a->seg[1], UINT32_MAX, &n) != 0 || n == 0) {
		api_fail(a, 404, "not_found", "no such message");
		return -1;
	}
	*out = (uint32_t)n;
	return 0;
}

/* A page's "next": its last entry's id when more follow, else null. */
static json_t *
page_next(json_t *arr, int more)
{
	size_t n = json_array_size(arr);

	return more && n > 0 ? json_incref(json_object_get(json_array_get(arr,
	    n - 1), "id")) : json_null();
}

/* The brand's message of the path's segment 1 into d (config malloc'd):
 * 0, or -1 after 404 or the store's error. */
static int
message_of_call(struct api_call *a, struct message_def *d)
{
	uint32_t id;
	int rc;

	if (message_id(a, &id) != 0)
		return -1;
	if ((rc = store_message_get(a->app->store, a->brand.id, id, d)) != 0) {
		api_store_fail(a, rc, "message");
		return -1;
	}
	return 0;
}

/* The body checked into d (config malloc'd) and cfg; -1 after 422. */
static int
body_check(struct api_call *a, struct message_def *d, struct message_cfg *cfg)
{
	char err[300];

	if (api_body(a) != 0)
		return -1;
	memset(d, 0, sizeof *d);
	d->brand_id = a->brand.id;
	if (message_config_parse(a->app->store, a->brand.id, a->body, cfg,
	    &d->config, err, sizeof err) != 0) {
		api_fail(a, 422, "invalid", err);
		return -1;
	}
	return 0;
}

/* A definition on its way to the writer (the ops take the struct
 * message_def at its start), and the store to show it from after. */
struct def_write {
	struct message_def	 d;
	struct store		*st;
};

static void
saved(struct http_call *c, void *arg, int err, int status)
{
	struct def_write *w = arg;
	struct message_def *d = &w->d, got;
	json_t *o;

	free(d->config);
	d->config = NULL;
	if (err != 0) {
		api_write_fail(c, err, "message");
		return;
	}
	if (store_message_get(w->st, d->brand_id, d->id, &got) != 0) {
		api_write_fail(c, SIGIL_EIO, "message");
		return;
	}
	o = message_json(w->st, &got);
	store_message_clear(&got);
	http_reply_jsont(c, status, o);
}

static void
created(struct http_call *c, void *arg, int err)
{
	saved(c, arg, err, 201);
}

static void
updated(struct http_call *c, void *arg, int err)
{
	saved(c, arg, err, 200);
}

void
api_messages_create(struct api_call *a)
{
	struct def_write w;
	struct message_cfg cfg;

	if (body_check(a, &w.d, &cfg) != 0)
		return;
	w.st = a->app->store;
	http_write(a->c, &message_create_op, &w, sizeof w, created);
}

void
api_messages_update(struct api_call *a)
{
	struct def_write w;
	struct message_cfg cfg;
	uint32_t id;

	if (message_id(a, &id) != 0 || body_check(a, &w.d, &cfg) != 0)
		return;
	w.d.id = id;
	w.st = a->app->store;
	http_write(a->c, &message_update_op, &w, sizeof w, updated);
}

static void
deleted(struct http_call *c, void *arg, int err)
{
	struct message_def *d = arg;

	if (err != 0) {
		api_write_fail(c, err, "message");
		return;
	}
	http_reply_jsont(c, 200, json_pack("{s:I,s:b}", "id",
	    (json_int_t)d->id, "deleted", 1));
}

void
api_messages_delete(struct api_call *a)
{
	struct message_def d = { 0 };

	if (message_id(a, &d.id) != 0)
		return;
	d.brand_id = a->brand.id;
	http_write(a->c, &message_delete_op, &d, sizeof d, deleted);
}

void
api_messages_get(struct api_call *a)
{
	struct message_def d;

	if (message_of_call(a, &d) != 0)
		return;
	api_reply(a, 200, message_json(a->app->store, &d));
	store_message_clear(&d);
}

struct list_ctx {
	struct store	*st;
	json_t		*arr;
	size_t		limit;
	uint64_t	after;
	int		more;
};

static int
list_one(void *arg, const struct message_def *d)
{
	struct list_ctx *l = arg;

	if (d->id <= l->after)
		return 0;
	if (json_array_size(l->arr) >= l->limit) {
		l->more = 1;
		return 1;
	}
	return json_array_append_new(l->arr, message_json(l->st, d)) != 0 ?
	    SIGIL_ENOMEM : 0;
}

void
api_messages_list(struct api_call *a)
{
	struct list_ctx l = { a->app->store, NULL, MESSAGES_LIST_MAX, 0, 0 };
	json_t *next;

	if (api_query_limit(a, MESSAGES_LIST_MAX, &l.limit) != 0 ||
	    api_query_id(a, "after", UINT32_MAX, &l.after) != 0)
		return;
	if ((l.arr = json_array()) == NULL || store_message_each(a->app->store,
	    a->brand.id, list_one, &l) < 0) {
		json_decref(l.arr);
		api_fail(a, 503, "unavailable", "could not list messages");
		return;
	}
	next = page_next(l.arr, l.more);
	api_reply(a, 200, json_pack("{s:o,s:o}", "messages", l.arr, "next",
	    next));
}

/* ---- the dry run ---- */

struct dry_job {
	struct http_call	*c;
	struct app		*app;
	struct message_def	 d;	/* config malloc'd */
	struct message_cfg	 cfg;
	int64_t			 now;
	struct message_plan	 plan;
	int			 err;
	int64_t			 took_us;
};

static void
dry_work(void *arg)
{
	struct dry_job *j = arg;
	int64_t t0 = sigil_now_us();

	j->err = message_plan(j->app, &j->d, &j->cfg, j->now, &j->plan, NULL);
	j->took_us = sigil_now_us() - t0;
}

static void
dry_done(void *arg)
{
	struct dry_job *j = arg;
	struct message_plan *p = &j->plan;
	char t[SIGIL_TIME_LEN + 1];
	json_t *pv, *o;

	if (j->err != 0) {
		http_reply_error(j->c, 503, "unavailable", "storage error; try "
		    "again");
		goto out;
	}
	pv = json_array();
	for (size_t i = 0; pv != NULL && i < p->npreview; i++)
		json_array_append_new(pv, json_pack("{s:I,s:s,s:s}", "customer",
		    (json_int_t)p->preview[i].customer_id, "text",
		    p->preview[i].text, "at", sigil_time_format(
		    p->preview[i].next_at, t)));
	o = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:o,s:I}", "audience",
	    (json_int_t)p->audience, "due", (json_int_t)p->due, "consenting",
	    (json_int_t)p->consenting, "capped", (json_int_t)p->capped,
	    "quiet", (json_int_t)p->quiet, "would_send",
	    (json_int_t)p->queued, "preview", pv, "took_ms",
	    (json_int_t)(j->took_us / 1000));
	http_reply_jsont(j->c, 200, o);
out:
	free(j->d.config);
	free(j);
}

static void
dry_start(struct api_call *a, struct dry_job *j)
{
	j->c = a->c;
	j->app = a->app;
	j->now = sigil_now_us();
	if (http_job_read(dry_work, dry_done, j) != 0) {
		free(j->d.config);
		free(j);
		http_add_header(a->c, "Retry-After", "2");
		api_fail(a, 503, "busy", "customers are being counted for other "
		    "requests; try again in a moment");
	}
}

/* POST /messages/dry-run {definition}: the definition as it would run
 * now (a schedule's time and the active flag are not waited for). */
void
api_messages_dry_run_body(struct api_call *a)
{
	struct dry_job *j = calloc(1, sizeof *j);

	if (j == NULL) {
		api_fail(a, 503, "unavailable", "out of memory");
		return;
	}
	if (body_check(a, &j->d, &j->cfg) != 0) {
		free(j);
		return;
	}
	dry_start(a, j);
}

void
api_messages_dry_run(struct api_call *a)
{
	struct dry_job *j;
	uint32_t id;
	int rc;

	if (message_id(a, &id) != 0)
		return;
	if ((j = calloc(1, sizeof *j)) == NULL) {
		api_fail(a, 503, "unavailable", "out of memory");
		return;
	}
	if ((rc = store_message_get(a->app->store, a->brand.id, id,
	    &j->d)) != 0 || (rc = message_config_load(j->d.config,
	    &j->cfg)) != 0) {
		free(j->d.config);
		free(j);
		api_store_fail(a, rc, "message");
		return;
	}
	dry_start(a, j);
}

/* ---- delivery status ---- */

struct rows_ctx {
	json_t		*arr;
	size_t		 limit;
	uint64_t	 before;
	int		 state;		/* -1: any */
	int		 more;
};

static json_t *
row_json(const struct outbox_msg *m)
{
	char t1[SIGIL_TIME_LEN + 1], t2[SIGIL_TIME_LEN + 1];
	char t3[SIGIL_TIME_LEN + 1];
	int state = m->state;

	if (state == OUTBOX_QUEUED && message_in_flight(m->brand_id, m->id))
		state = OUTBOX_SENDING;
	return json_pack("{s:I,s:s,s:I,s:s,s:I,s:s,s:i,s:s,s:o,s:o,s:i}",
	    "id", (json_int_t)m->id, "kind", kind_names[m->kind], "customer",
	    (json_int_t)m->customer_id, "channel", m->channel, "source",
	    (json_int_t)m->source, "state", state_names[state], "attempts",
	    (int)m->attempts, "created", sigil_time_format(m->created, t1),
	    "next_at", m->state == OUTBOX_QUEUED ? json_string(
	    sigil_time_format(m->next_at, t2)) : json_null(), "sent_at",
	    m->sent_at ? json_string(sigil_time_format(m->sent_at, t3)) :
	    json_null(), "last_status", m->last_status);
}

static int
row_one(void *arg, const struct outbox_msg *m)
{
	struct rows_ctx *r = arg;

	if ((r->before != 0 && m->id >= r->before) ||
	    (r->state >= 0 && m->state != r->state) ||
	    m->kind < OUTBOX_MARKETING || m->kind > OUTBOX_ALERT)
		return 0;
	if (json_array_size(r->arr) >= r->limit) {
		r->more = 1;
		return 1;
	}
	return json_array_append_new(r->arr, row_json(m)) != 0 ?
	    SIGIL_ENOMEM : 0;
}

static void
rows_reply(struct api_call *a, uint32_t source, int kind, uint64_t customer)
{
	struct rows_ctx r = { NULL, 100, 0, -1, 0 };
	char s[16];
	json_t *next;
	int has;

	if (api_page_back(a, 100, DELIVERIES_MAX, &r.limit, &r.before) != 0 ||
	    (has = api_query_arg(a, "state", s, sizeof s)) < 0)
		return;
	if (has) {
		for (int i = 0; i < 4; i++)
			if (strcmp(s, state_names[i]) == 0 && i !=
			    OUTBOX_SENDING)
				r.state = i;
		if (r.state < 0) {
			api_fail(a, 422, "invalid", "'state' must be queued, "
			    "sent or failed");
			return;
		}
	}
	if ((r.arr = json_array()) == NULL || store_outbox_each(a->app->store,
	    a->brand.id, source, kind, customer, row_one, &r) < 0) {
		json_decref(r.arr);
		api_fail(a, 503, "unavailable", "could not list deliveries");
		return;
	}
	next = page_next(r.arr, r.more);
	api_reply(a, 200, json_pack("{s:o,s:o}", "deliveries", r.arr, "next",
	    next));
}

void
api_messages_deliveries(struct api_call *a)
{
	struct message_def d;

	if (message_of_call(a, &d) != 0)
		return;
	store_message_clear(&d);
	rows_reply(a, d.id, OUTBOX_MARKETING, 0);
}

/* GET /outbox?kind=&source=&customer=: every kind of row. */
void
api_outbox_list(struct api_call *a)
{
	char k[16];
	uint64_t source = 0, customer = 0;
	int kind = 0, has;

	if ((has = api_query_arg(a, "kind", k, sizeof k)) < 0)
		return;
	if (has) {
		for (int i = 1; i < 4; i++)
			if (strcmp(k, kind_names[i]) == 0)
				kind = i;
		if (kind == 0) {
			api_fail(a, 422, "invalid", "'kind' must be marketing, "
			    "service or alert");
			return;
		}
	}
	if (api_query_id(a, "source", UINT32_MAX, &source) != 0 ||
	    api_query_id(a, "customer", UINT64_MAX, &customer) != 0)
		return;
	rows_reply(a, (uint32_t)source, kind, customer);
}

/* ---- the brand's message settings ---- */

void
api_messages_settings_get(struct api_call *a)
{
	json_t *set = member_settings(a->app, a->brand.id);

	api_reply(a, 200, message_settings_json(set));
	json_decref(set);
}

static void
settings_saved(struct http_call *c, void *arg, int err)
{
	struct message_settings *x = arg;

	if (err != 0) {
		json_decref(x->service_wechat);
		api_write_fail(c, err, "settings");
		return;
	}
	http_reply_jsont(c, 200, json_pack("{s:o}", "service_wechat",
	    x->service_wechat));
}

void
api_messages_settings_put(struct api_call *a)
{
	struct message_settings x = { a->brand.id, NULL };
	char err[300];

	if (api_body(a) != 0)
		return;
	if (message_settings_parse(a->body, &x.service_wechat, err,
	    sizeof err) != 0) {
		api_fail(a, 422, "invalid", err);
		return;
	}
	http_write(a->c, &message_settings_op, &x, sizeof x, settings_saved);
}
