/*
 * api_codes.c - the brand API on one code and on what the scans raised:
 * the whole story of a code (its batch and product, packing, shipment,
 * scans, first scan and clone signals, PIN lock, notes, trace events
 * and loyalty claims), the two corrections a brand may make to a code
 * with a reason kept in its notes (clear a clone flag it found false,
 * lift a PIN lock). The alerts are api_alerts.c's.
 *
 * A handler: route_api.c calls it after authentication and the role
 * check. May call http_api.c, trace (step names), scan (verdict names),
 * store (reads), http and http_write; never calls another handler file.
 * Never writes to the store on the loop: every write is a writer op
 * (code_clear, code_pin_unlock), answered after the commit. A clear
 * resolves the code's clone alerts too.
 */
#include <math.h>
#include <stdio.h>
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
#include "sigil/scan.h"
#include "sigil/session.h"
#include "sigil/store.h"
#include "sigil/trace.h"
#include "sigil/util.h"
#include "sigil/writer.h"

/* Coordinates are stored as float: print the digits that mean something. */
static double
round6(float v)
{
	return round((double)v * 1e6) / 1e6;
}

/* ---- code lookup: the whole story of one code ---- */

/* The code's scans; first_scan is the code's first scan now (store.h). */
struct scan_list {
	json_t		*arr;
	uint64_t	 first;
	struct store	*store;
	struct region_cache regions;	/* the scans' regions, by id */
};

static int
lookup_scan(void *arg, const struct scan_rec *r)
{
	struct scan_list *sl = arg;
	json_t *arr = sl->arr, *o;
	char t[SIGIL_TIME_LEN + 1], dev[17], check[SCAN_CHECK_LEN + 1];
	uint8_t b[8];

	scan_check_format(r->id, check);
	sigil_be64_put(b, r->device);
	sigil_hex_encode(b, 8, dev);
	o = json_pack("{s:I,s:s,s:s,s:s,s:b,s:b,s:s,s:b,s:b}", "scan",
	    (json_int_t)r->id, "check_id", check, "at", sigil_time_format(r->at, t), "verdict",
	    scan_verdict_name(r->verdict), "bot", (r->flags & SCAN_BOT) != 0,
	    "first_scan", r->id == sl->first, "device", dev,
	    "anonymous", (r->flags & SCAN_ANON) != 0,
	    "diversion", (r->flags & SCAN_DIVERSION) != 0);
	if (r->flags & SCAN_HAS_LOC)
		json_object_set_new(o, "location", json_pack("{s:f,s:f,s:i}",
		    "lat", round6(r->lat), "lng", round6(r->lng), "accuracy_m",
		    (int)r->accuracy_m));
	if (r->region != 0) {
		const struct store_region *reg = region_cached(&sl->regions,
		    sl->store, r->region);
		json_t *rj = reg ? region_json_of(reg) : NULL;

		if (rj != NULL)
			json_object_set_new(o, "region", rj);
	}
	return api_list_add(arr, o);
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
	if (id & SESSION_TOKEN_BIT)
		return json_pack("{s:I}", "user",
		    (json_int_t)(id & ~SESSION_TOKEN_BIT));
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
	return api_list_add(arr, o);
}

/*
 * POST /api/v1/codes/{code}/clear and /pin-unlock, {"reason": "..."}:
 * the brand undoes a clone flag it found false, or lifts a code's PIN
 * lock. The reason and the actor stay in the code's notes. A clear reads
 * the code's state again in the same op, for the answer.
 */
struct correct_job {
	uint32_t		brand_id;
	uint64_t		serial;
	struct code_note	note;	/* in: kind, reason, actor; out */
	struct code_state	cs;	/* NOTE_CLEAR: the state after */
};

static int
correct_run(struct store *st, void *arg)
{
	struct correct_job *x = arg;
	int rc;

	if (x->note.kind != NOTE_CLEAR)
		return store_pin_unlock(st, x->brand_id, x->serial, &x->note);
	if ((rc = store_code_clear(st, x->brand_id, x->serial,
	    &x->note)) != 0)
		return rc;
	/* The evidence is gone: so is what the alerts said (best effort). */
	store_alert_code_status(st, x->brand_id, x->serial,
	    ALERT_CLONE_SCANNERS, ALERT_RESOLVED, x->note.token_id, x->note.at);
	store_alert_code_status(st, x->brand_id, x->serial,
	    ALERT_CLONE_TRAVEL, ALERT_RESOLVED, x->note.token_id, x->note.at);
	if (store_code_state(st, x->brand_id, x->serial, &x->cs) != 0)
		memset(&x->cs, 0, sizeof x->cs);
	return 0;
}

static int
correct_audit(struct store *st, const void *arg, struct audit_entry *e,
    int after)
{
	const struct correct_job *x = arg;

	(void)st;
	if (after)
		return 0;
	audit_target(e, "code", "%llu", (unsigned long long)x->serial);
	return 0;
}

static const struct writer_op op_clear = { "code_clear", correct_run,
    correct_audit };
static const struct writer_op op_unlock = { "code_pin_unlock", correct_run,
    correct_audit };

static void
code_corrected(struct http_call *c, void *arg, int rc)
{
	struct correct_job *x = arg;
	int clear = x->note.kind == NOTE_CLEAR;
	char who[32];

	if (rc != 0) {
		http_reply_error(c, rc == SIGIL_EINVAL ? 422 : 503,
		    rc == SIGIL_EINVAL ? "invalid" : "unavailable",
		    sigil_strerror(rc));
		return;
	}
	http_actor_text(c, who, sizeof who);
	log_info(clear ? "code_clear" : "code_pin_unlock",
	    "brand=%u serial=%llu %s", x->brand_id,
	    (unsigned long long)x->serial, who);
	if (clear)
		http_reply_jsont(c, 200, json_pack("{s:I,s:b,s:o,s:I}",
		    "serial", (json_int_t)x->serial, "suspicious",
		    (x->cs.flags & (SCAN_CLONE_SCANNERS |
		    SCAN_CLONE_TRAVEL)) != 0, "signals", code_signals(&x->cs),
		    "cleared_through", (json_int_t)x->note.through));
	else
		http_reply_jsont(c, 200, json_pack("{s:I,s:b,s:i}", "serial",
		    (json_int_t)x->serial, "locked", 0, "wrong_pins_lifted",
		    (int)x->note.count));
}

static void
code_correct(struct api_call *a, int kind)
{
	struct correct_job x = { 0 };
	struct batch b;

	if (api_code_of_brand(a, a->seg[1], &x.serial, &b) != 0 ||
	    api_body(a) != 0 || api_field_str(a, "reason", STORE_TEXT_MAX, 1,
	    x.note.reason, sizeof x.note.reason) != 0)
		return;
	if (strspn(x.note.reason, " ") == strlen(x.note.reason)) {
		api_fail(a, 422, "invalid", "field 'reason' must say why");
		return;
	}
	x.brand_id = a->brand.id;
	x.note.kind = kind;
	x.note.at = sigil_now_us();
	x.note.token_id = a->tok.id;
	x.note.by_user = (a->tok.id & SESSION_TOKEN_BIT) != 0;
	http_write(a->c, kind == NOTE_CLEAR ? &op_clear : &op_unlock,
	    &x, sizeof x, code_corrected);
}

void
api_codes_clear(struct api_call *a)
{
	code_correct(a, NOTE_CLEAR);
}

void
api_codes_pin_unlock(struct api_call *a)
{
	code_correct(a, NOTE_PIN_UNLOCK);
}

static int
lookup_event(void *arg, const struct trace_event *ev)
{
	json_t *arr = arg, *o;
	char t[SIGIL_TIME_LEN + 1];

	o = json_pack("{s:I,s:s,s:s}", "event", (json_int_t)ev->id, "step",
	    trace_event_name(ev->type), "at", sigil_time_format(ev->at, t));
	if (ev->type == EVENT_AGGREGATE || ev->type == EVENT_DISAGGREGATE) {
		json_object_set_new(o, "parent", json_integer(
		    (json_int_t)ev->parent));
		json_object_set_new(o, "children", json_integer(
		    (json_int_t)ev->n));
	}
	if (ev->type == EVENT_SHIP || ev->type == EVENT_RECEIVE) {
		json_object_set_new(o, "shipment", json_integer(
		    (json_int_t)ev->shipment));
		json_object_set_new(o, "distributor", json_integer(
		    (json_int_t)ev->distributor));
	}
	if (ev->batch_id)
		json_object_set_new(o, "batch", json_integer(
		    (json_int_t)ev->batch_id));
	return api_list_add(arr, o);
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

/* The direct children: how many, and the first CODES_CONTENTS_MAX. */
#define CODES_CONTENTS_MAX	100
struct child_count {
	uint64_t	n;
	uint64_t	first[CODES_CONTENTS_MAX];
};

static int
count_child(void *arg, uint64_t child)
{
	struct child_count *k = arg;

	if (k->n < CODES_CONTENTS_MAX)
		k->first[k->n] = child;
	k->n++;
	return 0;
}

/* {serial, url} of one of the brand's codes (url null if unsignable). */
static json_t *
code_ref(struct api_call *a, uint64_t serial)
{
	char url[CODE_URL_MAX];
	struct batch b;

	return json_pack("{s:I,s:o}", "serial", (json_int_t)serial, "url",
	    store_batch_find_serial(a->app->store, a->brand.id, serial, &b) ==
	    0 && api_code_url(a, &b, serial, url, sizeof url) == 0 ?
	    json_string(url) : json_null());
}

/* The distributor's name on each shipping and receiving event. */
static void
events_name(struct api_call *a, json_t *events)
{
	struct distributor d;
	size_t i;
	json_t *e, *id;

	json_array_foreach(events, i, e) {
		if ((id = json_object_get(e, "distributor")) == NULL)
			continue;
		json_object_set_new(e, "distributor_name",
		    store_distributor_name(a->app->store, a->brand.id,
		    (uint32_t)json_integer_value(id), &d) == 0 ?
		    json_string(d.name) : json_null());
	}
}

void
api_codes_get(struct api_call *a)
{
	struct batch b;
	struct product p;
	struct shipment s;
	struct code_state cs;
	struct distributor d;
	struct child_count kids = { 0 };
	char url[CODE_URL_MAX], t[SIGIL_TIME_LEN + 1];
	uint64_t serial, up, cur;
	json_t *o, *parents, *containers, *contents, *scans, *events;
	int depth;
	struct scan_rec check_scan;
	uint64_t check_id = 0;

	/* A check id a consumer read out names its scan's code. */
	if (scan_check_parse(a->seg[1], &check_id) == 0) {
		if (store_scan_get(a->app->store, check_id, &check_scan) != 0 ||
		    check_scan.brand_id != a->brand.id ||
		    store_batch_get(a->app->store, check_scan.batch_id, &b) !=
		    0) {
			api_fail(a, 404, "not_found", "no such check id");
			return;
		}
		serial = check_scan.serial;
	} else if (api_code_of_brand(a, a->seg[1], &serial, &b) != 0)
		return;
	o = json_object();
	if (check_id != 0)
		json_object_set_new(o, "check", json_pack("{s:s,s:I,s:s,s:s}",
		    "check_id", a->seg[1], "scan", (json_int_t)check_id, "at",
		    sigil_time_format(check_scan.at, t), "verdict",
		    scan_verdict_name(check_scan.verdict)));
	json_object_set_new(o, "serial", json_integer((json_int_t)serial));
	if (api_code_url(a, &b, serial, url, sizeof url) == 0)
		json_object_set_new(o, "url", json_string(url));
	json_object_set_new(o, "batch", api_batch_json(&b));
	if (store_product_get(a->app->store, a->brand.id, b.sku, &p) == 0)
		json_object_set_new(o, "product", api_product_json(&p));
	parents = json_array();
	containers = json_array();
	for (cur = serial, depth = 0; depth < 16 && store_parent(a->app->store,
	    a->brand.id, cur, &up) == 0; depth++, cur = up) {
		json_array_append_new(parents, json_integer((json_int_t)up));
		json_array_append_new(containers, code_ref(a, up));
	}
	json_object_set_new(o, "parents", parents);
	json_object_set_new(o, "containers", containers);
	store_children_each(a->app->store, a->brand.id, serial, count_child,
	    &kids);
	json_object_set_new(o, "children", json_integer((json_int_t)kids.n));
	contents = json_array();
	for (uint64_t i = 0; i < kids.n && i < CODES_CONTENTS_MAX; i++)
		json_array_append_new(contents, code_ref(a, kids.first[i]));
	json_object_set_new(o, "contents", contents);
	if (store_code_shipment(a->app->store, a->brand.id, serial, &s) == 0) {
		json_t *so = api_shipment_json(&s);

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
		struct scan_list sl = { json_array(), cs.first_scan_id,
		    a->app->store };

		store_code_scans(a->app->store, a->brand.id, serial,
		    lookup_scan, &sl);
		scans = sl.arr;
	}
	json_object_set_new(o, "scans", scans);
	{
		struct code_revocation rv;

		json_object_set_new(o, "revoked", store_code_revoked(
		    a->app->store, a->brand.id, serial, &rv) == 0 ?
		    json_pack("{s:s,s:o,s:s}", "at", sigil_time_format(rv.at,
		    t), "by", note_actor(rv.by), "reason", rv.reason) :
		    json_null());
	}
	{
		json_t *notes = json_array();

		store_code_notes(a->app->store, a->brand.id, serial,
		    lookup_note, notes);
		json_object_set_new(o, "notes", notes);
	}
	events = json_array();
	store_code_events(a->app->store, a->brand.id, serial, lookup_event,
	    events);
	events_name(a, events);
	json_object_set_new(o, "events", events);
	{
		json_t *claims = json_array();

		store_code_claims(a->app->store, a->brand.id, serial,
		    lookup_claim, claims);
		json_object_set_new(o, "claims", claims);
	}
	api_reply(a, 200, o);
}
