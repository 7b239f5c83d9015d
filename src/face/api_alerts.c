/*
 * api_alerts.c - the brand's alert inbox: what the scans raised on its
 * codes (clones, diversion; the type list is open, a name per type in
 * store_alerts.c), newest first, one alert per code and signal, each
 * with its status (new, acknowledged, resolved: who and when), the names
 * a person reads (product, lot, distributor) and the code's lookup.
 *
 *   GET   /api/v1/alerts                 the inbox (before/after paging)
 *   GET   /api/v1/alerts/{id}            one alert
 *   PATCH /api/v1/alerts/{id}            {"status"}: acknowledge, resolve
 *   POST  /api/v1/alerts/{id}/actions    {"action", "reason"}: clear the
 *                                        code's false flag, revoke the
 *                                        code alone, or revoke its batch;
 *                                        the alert resolved
 *
 * A handler: route_api.c calls it after authentication and the role
 * check. May call http_api.c, store (reads), http and http_write; never
 * another handler file. Every write is a writer op (alert_status,
 * alert_action), answered after the commit.
 */
#include <math.h>
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
#include "sigil/log.h"
#include "sigil/region.h"
#include "sigil/session.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "sigil/writer.h"

static double
round6(float v)
{
	return round((double)v * 1e6) / 1e6;
}

/* Who set a status: an API token, a dashboard user, or null (the server). */
static json_t *
alert_actor(uint32_t id)
{
	if (id == 0)
		return json_null();
	if (id & SESSION_TOKEN_BIT)
		return json_pack("{s:I}", "user",
		    (json_int_t)(id & ~SESSION_TOKEN_BIT));
	return json_pack("{s:I}", "token", (json_int_t)id);
}

/* The lookup page's address for url: /admin/#/lookup?code=<url, escaped>. */
static json_t *
lookup_link(const char *url)
{
	static const char hex[] = "0123456789ABCDEF";
	char out[3 * CODE_URL_MAX + 32];
	size_t n = (size_t)snprintf(out, sizeof out, "/admin/#/lookup?code=");

	for (const unsigned char *p = (const unsigned char *)url; *p &&
	    n + 4 < sizeof out; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p)) {
			out[n++] = (char)*p;
			continue;
		}
		out[n++] = '%';
		out[n++] = hex[*p >> 4];
		out[n++] = hex[*p & 15];
	}
	out[n] = '\0';
	return json_string(out);
}

/* The region of a scan's address, or null. */
static json_t *
scan_region(struct api_call *a, uint64_t scan_id)
{
	struct scan_rec r;
	json_t *reg;

	if (scan_id == 0 || store_scan_get(a->app->store, scan_id, &r) != 0)
		return json_null();
	reg = region_json(a->app->store, r.region);
	return reg ? reg : json_null();
}

/*
 * The evidence's places: the region of the first and of the latest scan
 * that raised the alert (from their addresses: low-confidence, shown,
 * never what raised it).
 */
static void
alert_regions(struct api_call *a, const struct alert *al, json_t *o)
{
	json_object_set_new(o, "region", scan_region(a, al->scan_id));
	json_object_set_new(o, "last_region", al->last_scan == al->scan_id ?
	    json_deep_copy(json_object_get(o, "region")) :
	    scan_region(a, al->last_scan));
}

/* The names of an alert: read once per batch while a page is built. */
struct alert_names {
	struct batch	b;
	struct product	p;
	int		have_b, have_p;
};

static json_t *
alert_json(struct api_call *a, const struct alert *al,
    struct alert_names *nm)
{
	char t[SIGIL_TIME_LEN + 1], url[CODE_URL_MAX];
	const char *type = store_alert_type_name(al->type);
	json_t *o;

	o = json_pack("{s:I,s:s,s:s,s:s,s:I,s:I,s:I,s:s,s:i}",
	    "id", (json_int_t)al->id, "type", type ? type : "unknown",
	    "status", store_alert_status_name(al->status),
	    "at", sigil_time_format(al->at, t),
	    "serial", (json_int_t)al->serial, "scan", (json_int_t)al->scan_id,
	    "last_scan", (json_int_t)al->last_scan,
	    "last_seen", sigil_time_format(al->last_at, t),
	    "count", (int)al->count);
	json_object_set_new(o, "status_by", alert_actor(al->status_by));
	json_object_set_new(o, "status_at", al->status_at ?
	    json_string(sigil_time_format(al->status_at, t)) : json_null());
	if (al->type == ALERT_RATING_DROP) {
		/* A product's alert (issue 21): named by its latest rating's
		 * scan; no code of its own. */
		struct scan_rec r;
		struct batch b;
		struct product p;

		if (store_scan_get(a->app->store, al->last_scan, &r) == 0 &&
		    r.brand_id == a->brand.id && store_batch_get(a->app->store,
		    r.batch_id, &b) == 0 && store_product_get(a->app->store,
		    a->brand.id, b.sku, &p) == 0)
			json_object_set_new(o, "product", json_pack("{s:s,s:s}",
			    "sku", p.sku, "name", p.name));
		alert_regions(a, al, o);
		return o;
	}
	if (!nm->have_b || al->serial < nm->b.first_serial ||
	    al->serial >= nm->b.first_serial + nm->b.count) {
		nm->have_b = store_batch_find_serial(a->app->store,
		    a->brand.id, al->serial, &nm->b) == 0;
		nm->have_p = nm->have_b && store_product_get(a->app->store,
		    a->brand.id, nm->b.sku, &nm->p) == 0;
	}
	if (nm->have_b) {
		json_object_set_new(o, "batch", json_pack("{s:I,s:s,s:s}",
		    "id", (json_int_t)nm->b.id, "lot", nm->b.lot, "state",
		    nm->b.state == BATCH_REVOKED ? "revoked" :
		    nm->b.state == BATCH_ACTIVE ? "active" : "inactive"));
		if (api_code_url(a, &nm->b, al->serial, url, sizeof url) == 0) {
			json_object_set_new(o, "url", json_string(url));
			json_object_set_new(o, "lookup", lookup_link(url));
		}
	}
	if (nm->have_p)
		json_object_set_new(o, "product", json_pack("{s:s,s:s}",
		    "sku", nm->p.sku, "name", nm->p.name));
	if (al->type == ALERT_DIVERSION) {
		struct distributor d;

		json_object_set_new(o, "distributor",
		    json_integer(al->distributor));
		if (store_distributor_get(a->app->store, a->brand.id,
		    al->distributor, &d) == 0) {
			json_object_set_new(o, "distributor_name",
			    json_string(d.name));
			store_distributor_clear(&d);
		}
		json_object_set_new(o, "distance_km",
		    json_real(round(al->distance_km * 10) / 10));
	}
	if (al->lat != 0 || al->lng != 0)
		json_object_set_new(o, "location", json_pack("{s:f,s:f}",
		    "lat", round6(al->lat), "lng", round6(al->lng)));
	alert_regions(a, al, o);
	return o;
}

#define EVIDENCE_SCANS_MAX	1000	/* a code's scans read for its places */
#define EVIDENCE_SCANS_LIST	100	/* ... for each alert of a list */
#define EVIDENCE_AREAS_MAX	32

struct area_count {
	size_t		max;		/* scans to read */
	uint32_t	first_region[EVIDENCE_AREAS_MAX];
	uint32_t	scans[EVIDENCE_AREAS_MAX];
	size_t		n, read, unplaced;
};

static int
area_one(void *arg, const struct scan_rec *r)
{
	struct area_count *c = arg;
	size_t i;

	if (++c->read > c->max)
		return 1;
	if (r->flags & SCAN_BOT)
		return 0;
	if (r->region == 0) {
		c->unplaced++;
		return 0;
	}
	for (i = 0; i < c->n && c->first_region[i] != r->region; i++)
		;
	if (i == c->n) {
		if (c->n == EVIDENCE_AREAS_MAX) {
			c->unplaced++;
			return 0;
		}
		c->first_region[c->n] = r->region;
		c->scans[c->n++] = 0;
	}
	c->scans[i]++;
	return 0;
}

/*
 * The evidence of one code's alert, by place: the provinces its human
 * scans came from (by address; low-confidence), from its first max
 * scans.
 */
static void
code_provinces(struct api_call *a, const struct alert *al, json_t *o,
    size_t max)
{
	struct area_count c;
	json_t *arr = json_array(), *seen = json_object();
	char key[16];

	memset(&c, 0, sizeof c);
	c.max = max;
	store_code_scans(a->app->store, a->brand.id, al->serial, area_one, &c);
	for (size_t i = 0; i < c.n; i++) {
		struct store_region reg;
		json_t *row, *r;

		if (store_region_get(a->app->store, c.first_region[i],
		    &reg) != 0)
			continue;
		snprintf(key, sizeof key, "%u", reg.province_id);
		if ((row = json_object_get(seen, key)) != NULL) {
			json_object_set_new(row, "scans", json_integer(
			    json_integer_value(json_object_get(row, "scans")) +
			    c.scans[i]));
			continue;
		}
		if ((r = region_json(a->app->store, reg.province_id)) == NULL)
			continue;
		row = json_pack("{s:o,s:I}", "region", r, "scans",
		    (json_int_t)c.scans[i]);
		json_object_set(seen, key, row);
		json_array_append_new(arr, row);
	}
	json_decref(seen);
	json_object_set_new(o, "scan_provinces", arr);
	json_object_set_new(o, "scans_unplaced", json_integer(
	    (json_int_t)c.unplaced));
}

/* ---- GET /api/v1/alerts ---- */

struct alert_buf {
	struct alert	*v;
	size_t		 n, cap;
};

static int
alert_keep(void *arg, const struct alert *al)
{
	struct alert_buf *b = arg;

	if (b->n == b->cap)
		return 1;
	b->v[b->n++] = *al;
	return 0;
}

/* status=new,acknowledged: a mask, or -1 after replying 400. */
static int
status_mask(struct api_call *a, unsigned *out)
{
	char v[64], *save = NULL, *s;
	int st;

	*out = 0;
	if (api_query(a, "status", v, sizeof v) == NULL)
		return 0;
	for (s = strtok_r(v, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
		if ((st = store_alert_status_parse(s)) < 0) {
			api_fail(a, 400, "bad_query", "status must be new, "
			    "acknowledged or resolved (comma-separated)");
			return -1;
		}
		*out |= 1u << st;
	}
	return 0;
}

void
api_alerts_list(struct api_call *a)
{
	struct alert_query q = { 0 };
	struct alert_buf buf = { NULL, 0, 0 };
	struct alert_names nm = { .have_b = 0 };
	char v[64];
	json_t *arr;
	int err;

	if (api_paging(a, &q.after, &q.limit, &q.since) != 0 ||
	    status_mask(a, &q.statuses) != 0)
		return;
	q.oldest_first = api_query(a, "after", v, sizeof v) != NULL;
	if (api_query(a, "before", v, sizeof v) != NULL) {
		if (q.oldest_first || sigil_parse_u64(v, UINT64_MAX,
		    &q.before) != 0 || q.before == 0) {
			api_fail(a, 400, "bad_query", "before must be an id, "
			    "and not with after");
			return;
		}
	}
	if (api_query(a, "type", v, sizeof v) != NULL &&
	    (q.type = store_alert_type_parse(v)) == 0) {
		api_fail(a, 400, "bad_query", "type must be an alert type "
		    "(too_many_scanners, impossible_travel, diversion, "
		    "counterfeit...)");
		return;
	}
	/* One more than a page: next is null when nothing follows. */
	if ((buf.v = calloc(q.limit + 1, sizeof *buf.v)) == NULL) {
		api_store_fail(a, SIGIL_ENOMEM, "alerts");
		return;
	}
	buf.cap = q.limit + 1;
	q.limit++;
	err = store_alert_each(a->app->store, a->brand.id, &q, alert_keep,
	    &buf);
	if (err < 0) {
		free(buf.v);
		api_store_fail(a, err, "alerts");
		return;
	}
	arr = json_array();
	for (size_t i = 0; i < buf.n && i + 1 < q.limit; i++) {
		json_t *o = alert_json(a, &buf.v[i], &nm);

		if (buf.v[i].serial != 0)
			code_provinces(a, &buf.v[i], o, EVIDENCE_SCANS_LIST);
		json_array_append_new(arr, o);
	}
	/* next: the cursor of the next page (after= or before= it). */
	api_reply(a, 200, json_pack("{s:o,s:o}", "alerts", arr, "next",
	    buf.n == q.limit ? json_integer((json_int_t)buf.v[buf.n - 2].id)
	    : json_null()));
	free(buf.v);
}

static int
alert_of_call(struct api_call *a, struct alert *out)
{
	uint64_t id;
	int err;

	if (api_parse_id(a->seg[1], UINT64_MAX - 1, &id) != 0) {
		api_fail(a, 404, "not_found", "no such alert");
		return -1;
	}
	if ((err = store_alert_get(a->app->store, a->brand.id, id,
	    out)) != 0) {
		api_store_fail(a, err, "alert");
		return -1;
	}
	return 0;
}

void
api_alerts_get(struct api_call *a)
{
	struct alert al;
	struct alert_names nm = { .have_b = 0 };
	json_t *o;

	if (alert_of_call(a, &al) != 0)
		return;
	o = alert_json(a, &al, &nm);
	if (al.serial != 0)
		code_provinces(a, &al, o, EVIDENCE_SCANS_MAX);
	api_reply(a, 200, o);
}

/* ---- PATCH /api/v1/alerts/{id} and POST .../actions ---- */

enum alert_action {
	ACTION_STATUS, ACTION_CLEAR, ACTION_REVOKE_CODE, ACTION_REVOKE_BATCH
};

struct alert_job {
	uint32_t		brand_id;
	uint64_t		id;
	int			action;		/* enum alert_action */
	int			status;		/* ACTION_STATUS */
	uint32_t		actor;
	int64_t			at;
	uint64_t		serial, batch_id;
	struct code_note	note;		/* ACTION_CLEAR */
	struct alert		res;
};

static int
alert_job_run(struct store *st, void *arg)
{
	struct alert_job *x = arg;
	struct trace_event ev = { 0 };
	int err;

	if (x->action == ACTION_CLEAR) {
		if ((err = store_code_clear(st, x->brand_id, x->serial,
		    &x->note)) != 0)
			return err;
		/* Both clone signals' evidence is gone, not only this one's. */
		store_alert_code_status(st, x->brand_id, x->serial,
		    x->res.type == ALERT_CLONE_SCANNERS ? ALERT_CLONE_TRAVEL :
		    ALERT_CLONE_SCANNERS, ALERT_RESOLVED, x->actor, x->at);
	}
	if (x->action == ACTION_REVOKE_CODE) {
		struct code_revocation r = { .at = x->at, .by = x->actor };

		snprintf(r.reason, sizeof r.reason, "%s", x->note.reason);
		if ((err = store_code_revoke(st, x->brand_id, x->serial,
		    &r)) != 0)
			return err;
	}
	if (x->action == ACTION_REVOKE_BATCH) {
		if ((err = store_batch_set_state(st, x->batch_id,
		    BATCH_REVOKED)) != 0)
			return err;
		ev.type = EVENT_DECOMMISSION;
		ev.brand_id = x->brand_id;
		ev.at = x->at;
		ev.batch_id = x->batch_id;
		if (store_event_add(st, &ev) != 0)
			x->note.count = 1;	/* the event failed: logged */
	}
	return store_alert_set_status(st, x->brand_id, x->id, x->status,
	    x->actor, x->at, &x->res);
}

/*
 * The audit trail's words: alert_status (the status before and after),
 * or alert_clear, alert_revoke_code, alert_revoke_batch; the alert is
 * the target. No free text (a reason may name a person).
 */
static int
alert_job_audit(struct store *st, const void *arg, struct audit_entry *e,
    int after)
{
	const struct alert_job *x = arg;
	static const char *const names[] = { "alert_status", "alert_clear",
	    "alert_revoke_code", "alert_revoke_batch" };
	struct alert al;
	json_t *d;

	if (after)
		return 0;
	if (x->action >= 0 && x->action < 4)
		audit_action(e, names[x->action]);
	audit_target(e, "alert", "%llu", (unsigned long long)x->id);
	if (store_alert_get(st, x->brand_id, x->id, &al) != 0)
		return 0;
	d = json_pack("{s:s,s:{s:s,s:s}}", "type",
	    store_alert_type_name(al.type), "status", "before",
	    store_alert_status_name(al.status), "after",
	    store_alert_status_name(x->status));
	if (x->action == ACTION_REVOKE_BATCH)
		json_object_set_new(d, "batch",
		    json_integer((json_int_t)x->batch_id));
	if (x->action == ACTION_REVOKE_CODE || x->action == ACTION_CLEAR)
		json_object_set_new(d, "serial",
		    json_integer((json_int_t)x->serial));
	audit_detail_set(e, d);
	return 0;
}

static const struct writer_op op_alert_status = { "alert_status",
    alert_job_run, alert_job_audit };
static const struct writer_op op_alert_action = { "alert_action",
    alert_job_run, alert_job_audit };

static void
alert_job_done(struct http_call *c, void *arg, int err)
{
	static const char *names[] = { "status", "clear", "revoke_code",
	    "revoke_batch" };
	struct alert_job *x = arg;
	char t[SIGIL_TIME_LEN + 1], who[32];

	if (err != 0) {
		api_write_fail(c, err, x->action == ACTION_REVOKE_BATCH ?
		    "batch" : x->action == ACTION_REVOKE_CODE ? "code" : "alert");
		return;
	}
	if (x->action == ACTION_REVOKE_BATCH && x->note.count)
		log_error("api", "event=decommission batch=%llu",
		    (unsigned long long)x->batch_id);
	http_actor_text(c, who, sizeof who);
	log_info("alert_action", "brand=%u alert=%llu action=%s status=%s "
	    "%s", x->brand_id, (unsigned long long)x->id,
	    names[x->action], store_alert_status_name(x->status), who);
	http_reply_jsont(c, 200, json_pack("{s:I,s:s,s:s,s:o,s:s}", "id",
	    (json_int_t)x->res.id, "action", names[x->action], "status",
	    store_alert_status_name(x->res.status), "status_by",
	    alert_actor(x->res.status_by), "status_at",
	    sigil_time_format(x->res.status_at, t)));
}

void
api_alerts_patch(struct api_call *a)
{
	struct alert_job x = { 0 };
	char status[32];

	if (alert_of_call(a, &x.res) != 0 || api_body(a) != 0 ||
	    api_field_str(a, "status", sizeof status - 1, 1, status,
	    sizeof status) != 0)
		return;
	if ((x.status = store_alert_status_parse(status)) < 0) {
		api_fail(a, 422, "invalid", "field 'status' must be new, "
		    "acknowledged or resolved");
		return;
	}
	x.brand_id = a->brand.id;
	x.id = x.res.id;
	x.action = ACTION_STATUS;
	x.actor = a->tok.id;
	x.at = sigil_now_us();
	http_write(a->c, &op_alert_status, &x, sizeof x, alert_job_done);
}

void
api_alerts_action(struct api_call *a)
{
	struct alert_job x = { 0 };
	struct batch b;
	char action[32];

	if (alert_of_call(a, &x.res) != 0 || api_body(a) != 0 ||
	    api_field_str(a, "action", sizeof action - 1, 1, action,
	    sizeof action) != 0 || api_field_str(a, "reason", STORE_TEXT_MAX,
	    1, x.note.reason, sizeof x.note.reason) != 0)
		return;
	if (strcmp(action, "clear") == 0)
		x.action = ACTION_CLEAR;
	else if (strcmp(action, "revoke_code") == 0)
		x.action = ACTION_REVOKE_CODE;
	else if (strcmp(action, "revoke_batch") == 0)
		x.action = ACTION_REVOKE_BATCH;
	else {
		api_fail(a, 422, "invalid", "field 'action' must be clear, "
		    "revoke_code or revoke_batch");
		return;
	}
	if (strspn(x.note.reason, " ") == strlen(x.note.reason)) {
		api_fail(a, 422, "invalid", "field 'reason' must say why");
		return;
	}
	if (x.res.type == ALERT_COUNTERFEIT) {
		api_fail(a, 422, "invalid", "a counterfeit alert names no code "
		    "of yours (forged codes have none): acknowledge or resolve "
		    "it instead");
		return;
	}
	if (x.action == ACTION_CLEAR && x.res.type == ALERT_DIVERSION) {
		api_fail(a, 422, "invalid", "a diversion is no clone flag to "
		    "clear: resolve the alert instead");
		return;
	}
	if (store_batch_find_serial(a->app->store, a->brand.id, x.res.serial,
	    &b) != 0) {
		api_fail(a, 404, "not_found", "the alert's code has no batch");
		return;
	}
	if (x.action == ACTION_REVOKE_BATCH && b.state == BATCH_REVOKED) {
		api_fail(a, 409, "conflict", "the batch is already revoked");
		return;
	}
	if (x.action == ACTION_REVOKE_CODE && (b.state == BATCH_REVOKED ||
	    store_code_revoked(a->app->store, a->brand.id, x.res.serial,
	    NULL) == 0)) {
		api_fail(a, 409, "conflict", "the code is already revoked");
		return;
	}
	x.brand_id = a->brand.id;
	x.id = x.res.id;
	x.serial = x.res.serial;
	x.batch_id = b.id;
	x.status = ALERT_RESOLVED;
	x.actor = a->tok.id;
	x.at = sigil_now_us();
	x.note.kind = NOTE_CLEAR;
	x.note.at = x.at;
	x.note.token_id = a->tok.id;
	x.note.by_user = (a->tok.id & SESSION_TOKEN_BIT) != 0;
	http_write(a->c, &op_alert_action, &x, sizeof x, alert_job_done);
}
