/*
 * loyalty_api.c - the loyalty part of the brand API: /api/v1/campaigns,
 * /customers (list, phone search, summary, PIPL export and erasure,
 * staff roles), /catalog/items and /settings (tiers).
 *
 * api.c authenticates the token or dashboard session, then hands the
 * paths it does not route itself to loyalty_api_route(), which takes
 * them by their first segment (tests/server/api_doc.py reads those
 * names out of this file). Reading is for every role; changes are for
 * admin tokens only, and so are exports and erasures.
 *
 * GET /api/v1/customers?phone= is a membership oracle: with the 7 digits
 * a masked list shows, 10,000 guesses would unmask a number. So it takes
 * the full number (loyalty_phone_normalise refuses '*'), is limited to
 * 20 an hour per actor (API token or dashboard user) for every role, and
 * every search is logged with the actor and a keyed hash of the number,
 * never the digits.
 *
 * Every change is a writer op, ended with http_write: campaign_save_op
 * (campaign.c, whose cache is dropped from the reply), privacy_erase_op
 * (the erasure and its scrub), member_role_op and member_tiers_op (the
 * brand settings, read and written back by the op), and item_add here.
 * The replies read nothing of the router's struct loyalty_api (on its
 * stack, gone by then): what they need is in the op's argument.
 *
 * Owns these handlers. May call the domain (campaign, member, customer,
 * privacy), the store (reads), ratelimit (the phone-search bucket of
 * app->loyalty), http, http_write and http_loyalty.c. Never calls
 * another handler; renders no HTML; never writes to the store on the
 * loop: every write is a writer op.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <jansson.h>

#include "sigil/app.h"
#include "sigil/audit.h"
#include "sigil/campaign.h"
#include "sigil/customer.h"
#include "sigil/http.h"
#include "sigil/http_write.h"
#include "sigil/log.h"
#include "sigil/loyalty.h"
#include "sigil/loyalty_core.h"
#include "sigil/loyalty_util.h"
#include "sigil/member.h"
#include "sigil/privacy.h"
#include "sigil/ratelimit.h"
#include "sigil/scan_export.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "sigil/writer.h"
#include "http_loyalty.h"

static void
api_fail(struct loyalty_api *a, int status, const char *code,
    const char *msg)
{
	http_reply_error(a->c, status, code, msg);
}

/* A store error on a row the path names: 404 when absent, else 503. */
static void
api_fail_row(struct loyalty_api *a, int rc, const char *msg)
{
	api_fail(a, rc == SIGIL_ENOTFOUND ? 404 : 503, rc == SIGIL_ENOTFOUND ?
	    "not_found" : "unavailable", msg);
}

static int
api_admin(struct loyalty_api *a, const char *msg)
{
	if (a->role == ROLE_ADMIN)
		return 0;
	api_fail(a, 403, "forbidden", msg);
	return -1;
}

static int
api_body(struct loyalty_api *a, json_t **out)
{
	/* An unreadable body has the message of one that is no object. */
	return http_body_json(a->c, "expected a JSON object (no duplicate "
	    "keys)", out);
}

static int
api_id(struct loyalty_api *a, const char *s, uint64_t max, uint64_t *out)
{
	if (sigil_parse_u64(s, max, out) == 0 && *out > 0)
		return 0;
	api_fail(a, 404, "not_found", "no such resource");
	return -1;
}

/* Sends {name: arr} with status 200. */
static void
api_list(struct loyalty_api *a, const char *name, json_t *arr)
{
	http_reply_jsont(a->c, 200, json_pack("{s:o}", name, arr));
}

/* ---- campaigns ---- */

struct campaign_list {
	struct store	*st;
	json_t		*arr;
};

static int
campaign_list_one(void *arg, const struct campaign *cp)
{
	struct campaign_list *l = arg;
	json_t *o = campaign_json(cp);

	campaign_results_add(l->st, cp->brand_id, o);
	json_array_append_new(l->arr, o);
	return json_array_size(l->arr) >= LOYALTY_LIST_MAX;
}

/* o, a campaign's JSON, with what it shares with earlier campaigns. */
static json_t *
campaign_shown(struct app *app, uint32_t brand_id, json_t *o)
{
	json_t *ov = campaign_overlap_json(app, brand_id, (uint32_t)
	    json_integer_value(json_object_get(o, "id")));

	campaign_results_add(app->store, brand_id, o);

	if (ov != NULL) {
		json_object_update(o, ov);
		json_decref(ov);
	}
	return o;
}

/*
 * The reply to a failed change: stage and rc say where and what (the
 * messages of the steps the handler once took one after the other).
 */
static void
campaign_failed(struct http_call *c, int stage, int rc, const char *err)
{
	switch (stage) {
	case CAMPAIGN_READ:
		http_reply_error(c, rc == SIGIL_ENOTFOUND ? 404 : 503,
		    rc == SIGIL_ENOTFOUND ? "not_found" : "unavailable",
		    "campaign not found");
		break;
	case CAMPAIGN_UNREADABLE:
		http_reply_error(c, 503, "unavailable", "unreadable campaign");
		break;
	case CAMPAIGN_DUMP:
		http_reply_error(c, 503, "unavailable", "out of memory");
		break;
	case CAMPAIGN_CHECK:
		http_reply_error(c, 422, "invalid", rc == SIGIL_EINVAL ? err :
		    "could not check the configuration");
		break;
	default:
		if (rc == SIGIL_ENOTFOUND)
			http_reply_error(c, 404, "not_found",
			    "campaign not found");
		else
			http_reply_error(c, 503, "unavailable",
			    "storage error; try again");
	}
}

/* A change of a campaign, and whether it makes one (201). */
struct campaign_job {
	struct campaign_save	s;
	int			created;
};

static void
campaign_written(struct http_call *c, void *arg, int err)
{
	struct campaign_job *x = arg;

	campaign_saved(c->app, &x->s);
	if (http_loyalty_busy(c, err))
		return;
	if (err != 0)
		campaign_failed(c, x->s.stage, err, x->s.err);
	else
		http_reply_jsont(c, x->created ? 201 : 200, campaign_shown(
		    c->app, x->s.brand_id, campaign_json(&x->s.out)));
	store_campaign_clear(&x->s.out);
}

/* A new configuration (id 0: a new campaign), checked, then written. */
static void
campaign_write(struct loyalty_api *a, uint32_t id, json_t *cfg)
{
	struct campaign_job x = { { 0 } };
	struct campaign_refusal ref;
	char *text = json_dumps(cfg, JSON_COMPACT | JSON_SORT_KEYS);
	int rc;

	if (text == NULL) {
		campaign_failed(a->c, CAMPAIGN_DUMP, SIGIL_ENOMEM, NULL);
		return;
	}
	rc = loyalty_campaign_check(text, &x.s.canon, x.s.err,
	    sizeof x.s.err);
	free(text);
	if (rc != 0) {
		campaign_failed(a->c, CAMPAIGN_CHECK, rc, x.s.err);
		return;
	}
	if ((rc = campaign_targets_check(a->app->store, a->brand_id,
	    x.s.canon, &ref)) != 0) {
		free(x.s.canon);
		if (rc == SIGIL_EINVAL)
			http_reply_jsont(a->c, 422, json_pack(
			    "{s:{s:s,s:s,s:s}}", "error", "code", ref.code,
			    "message", ref.msg, "field", ref.field));
		else
			http_reply_error(a->c, 503, "unavailable",
			    "storage error; try again");
		return;
	}
	x.s.brand_id = a->brand_id;
	x.s.id = id;
	x.created = id == 0;
	http_write(a->c, &campaign_save_op, &x, sizeof x, campaign_written);
}

/*
 * POST /campaigns/{id}/pause and /resume: the configuration, "paused"
 * set, read and written back by the op.
 */
static void
campaign_pause(struct loyalty_api *a, uint32_t id, int paused)
{
	struct campaign_job x = { { 0 } };

	x.s.brand_id = a->brand_id;
	x.s.id = id;
	x.s.paused = paused;
	http_write(a->c, &campaign_save_op, &x, sizeof x, campaign_written);
}

static void
campaigns(struct loyalty_api *a)
{
	struct campaign cp;
	uint64_t id = 0;
	json_t *body = NULL;
	int rc;

	if (a->nseg >= 2 && api_id(a, a->seg[1], UINT32_MAX, &id) != 0)
		return;
	if (a->method == EVHTTP_REQ_GET && a->nseg == 1) {
		json_t *arr = json_array();
		struct campaign_list l = { a->app->store, arr };

		store_campaign_each(a->app->store, a->brand_id,
		    campaign_list_one, &l);
		campaign_overlap_list(a->app, a->brand_id, arr);
		api_list(a, "campaigns", arr);
		return;
	}
	if (a->method == EVHTTP_REQ_GET && a->nseg == 2) {
		if ((rc = store_campaign_get(a->app->store, a->brand_id,
		    (uint32_t)id, &cp)) != 0) {
			api_fail_row(a, rc, "campaign not found");
			return;
		}
		http_reply_jsont(a->c, 200, campaign_shown(a->app,
		    a->brand_id, campaign_json(&cp)));
		store_campaign_clear(&cp);
		return;
	}
	if (a->method != EVHTTP_REQ_POST || a->nseg == 2 || a->nseg > 3) {
		api_fail(a, 405, "method_not_allowed", "method not allowed "
		    "here");
		return;
	}
	if (api_admin(a, "only an admin token may change campaigns") != 0)
		return;
	if (a->nseg == 3 && strcmp(a->seg[2], "update") != 0 &&
	    strcmp(a->seg[2], "pause") != 0 && strcmp(a->seg[2], "resume") !=
	    0) {
		api_fail(a, 404, "not_found", "no such resource");
		return;
	}
	if (a->nseg == 1 || strcmp(a->seg[2], "update") == 0) {
		if (api_body(a, &body) != 0)
			return;
		campaign_write(a, (uint32_t)id, body);
		json_decref(body);
		return;
	}
	campaign_pause(a, (uint32_t)id, a->seg[2][0] == 'p');
}

/* ---- customers ---- */

/* The number appears as the first 6 bytes of its keyed hash (the key is
 * the keyring's; the log alone cannot be reversed), never as digits. */
static void
phone_search_log(struct loyalty_api *a, const char *phone, int found)
{
	uint8_t phash[32];
	char hex[13];

	customer_phone_hash(a->app, phone, phash);
	sigil_hex_encode(phash, 6, hex);
	log_info("phone_search", "brand=%u actor=%s:%u role=%s phone_hash=%s "
	    "result=%s client=%s", a->brand_id, (a->actor & 0x80000000u) ?
	    "user" : "token", a->actor & 0x7fffffffu, a->role == ROLE_ADMIN ?
	    "admin" : a->role == ROLE_OPERATOR ? "operator" : "analyst", hex,
	    found < 0 ? "rate_limited" : found ? "found" : "none",
	    a->c->client_text);
}

/* GET /customers?phone=: at most one, not erased. */
static void
customer_search(struct loyalty_api *a, const char *q)
{
	struct app *app = a->app;
	struct ratelimit *rl = app->loyalty->phone_search;
	struct customer cu;
	char phone[LOYALTY_PHONE_MAX + 1];
	uint8_t phash[32];
	int64_t now = sigil_now_us();
	json_t *arr;
	int found;

	if (loyalty_phone_normalise(q, phone) != 0) {
		api_fail(a, 422, "bad_phone", "not a phone number");
		return;
	}
	if (!ratelimit_take(rl, &a->actor, sizeof a->actor, now)) {
		phone_search_log(a, phone, -1);
		http_loyalty_too_many(a->c, ratelimit_wait_us(rl, &a->actor,
		    sizeof a->actor, now), "rate_limited", "too many phone "
		    "searches; at most 20 an hour per user or token");
		return;
	}
	arr = json_array();
	customer_phone_hash(app, phone, phash);
	found = store_customer_find_phone(app->store, a->brand_id, phash,
	    &cu) == 0 && cu.erased == 0;
	if (found)
		json_array_append_new(arr, member_summary(app, &cu, 0));
	phone_search_log(a, phone, found);
	api_list(a, "customers", arr);
}

static void
customer_erased(struct http_call *c, void *arg, int err)
{
	struct privacy_erase *x = arg;

	if (http_loyalty_busy(c, err))
		return;
	if (err == SIGIL_ESTATE) {
		http_reply_error(c, 409, "already_erased",
		    "this customer was already erased");
		return;
	}
	if (err != 0) {
		http_reply_error(c, 503, "unavailable",
		    "storage error; try again");
		return;
	}
	{
		char who[32];

		http_actor_text(c, who, sizeof who);
		privacy_erased(x, who);
	}
	http_reply_jsont(c, 200, json_pack("{s:I,s:b,s:b}", "id",
	    (json_int_t)x->customer_id, "erased", 1, "scrubbed",
	    x->scrubbed));
}

/* POST /customers/{id}/erase */
static void
customer_erase(struct loyalty_api *a, const struct customer *cu)
{
	struct privacy_erase x;

	privacy_erase_prepare(a->app, cu, &x);
	http_write(a->c, &privacy_erase_op, &x, sizeof x, customer_erased);
}

static void
customer_role_set(struct http_call *c, void *arg, int err)
{
	struct member_role *x = arg;

	if (http_loyalty_busy(c, err))
		return;
	if (err == SIGIL_ESTATE)
		http_reply_error(c, 422, "invalid", "customer erased");
	else if (err == SIGIL_EFULL)
		http_reply_error(c, 422, "limit",
		    "at most 10000 retailers and sales reps per brand");
	else if (err != 0)
		http_reply_error(c, 503, "unavailable",
		    "storage error; try again");
	else
		http_reply_jsont(c, 200, json_pack("{s:I,s:s}", "id",
		    (json_int_t)x->customer_id, "role",
		    loyalty_role_name(x->role)));
}

/* POST /customers/{id}/role */
static void
customer_role(struct loyalty_api *a, const struct customer *cu)
{
	struct member_role x = { a->brand_id, cu->id, 0 };
	json_t *body;

	if (api_body(a, &body) != 0)
		return;
	x.role = loyalty_role_parse(json_string_value(json_object_get(body,
	    "role")));
	json_decref(body);
	if (x.role == 0 || cu->erased) {
		api_fail(a, 422, "invalid", cu->erased ? "customer erased" :
		    "expected {\"role\": consumer|retailer|sales}");
		return;
	}
	http_write(a->c, &member_role_op, &x, sizeof x, customer_role_set);
}

/*
 * GET /customers/export.csv: every customer as the list shows them
 * (phone masked), streamed 256 at a time in id order, with a header
 * line; UTF-8 with a BOM so that spreadsheet programs read the tier
 * names right. Cells are quoted (RFC 4180), and a cell a spreadsheet
 * would run as a formula (=, +, -, @ first) gets a leading '.
 * ?lang=zh gives Chinese column names and role and segment words (a
 * default tier name, "铜 Bronze", its Chinese half); ?tz= (a UTC
 * offset, 8 or +05:30) gives the times local with that offset. Without
 * either the file is as it always was, for machines: English codes and
 * UTC times.
 */
struct cust_csv {
	struct app	*app;
	uint32_t	brand_id;
	uint64_t	after;
	int		started, done;
	struct evbuffer	*out;
	size_t		rows;
	int		zh, has_tz, tz;
};


/* A cell's text as the file's language and zone want it; buf if new. */
static const char *
cust_csv_value(const struct cust_csv *x, size_t col, const char *v,
    char *buf, size_t size)
{
	int64_t t;

	if (v == NULL || v[0] == '\0')
		return v;
	if (x->has_tz && col >= 8 && sigil_time_parse(v, &t) == 0 &&
	    size > SCAN_EXPORT_TIME_LEN)
		return scan_export_time(t, x->tz, buf);
	if (!x->zh)
		return v;
	if (col == 2 || col == 4)
		return http_csv_zh(v);
	/* "铜 Bronze": the half before the space, when it is not ASCII. */
	if (col == 3 && (unsigned char)v[0] >= 0x80 && strchr(v, ' ') &&
	    (size_t)(strchr(v, ' ') - v) < size) {
		snprintf(buf, size, "%.*s", (int)(strchr(v, ' ') - v), v);
		return buf;
	}
	return v;
}

static int
cust_csv_one(void *arg, const struct customer *cu)
{
	struct cust_csv *x = arg;
	json_t *sum, *v;
	char num[24], buf[STORE_NAME_BYTES + 1];

	if (cu->merged_into != 0) {
		x->after = cu->id;
		return 0;
	}
	sum = member_summary(x->app, cu, 0);

	for (size_t i = 0; i < HTTP_CSV_CUSTOMER_COLS; i++) {
		v = json_object_get(sum, http_csv_customer_cols[i]);
		if (json_is_integer(v)) {
			snprintf(num, sizeof num, "%lld",
			    (long long)json_integer_value(v));
			http_csv_cell(x->out, num,
			    i + 1 == HTTP_CSV_CUSTOMER_COLS);
		} else
			http_csv_cell(x->out, cust_csv_value(x, i, i == 2 &&
			    v == NULL && !cu->erased ? "consumer" :
			    json_string_value(v), buf, sizeof buf),
			    i + 1 == HTTP_CSV_CUSTOMER_COLS);
	}
	json_decref(sum);
	x->after = cu->id;
	return ++x->rows >= 256;
}

static int
cust_csv_next(struct http_call *c, void *arg, struct evbuffer *out)
{
	struct cust_csv *x = arg;

	(void)c;
	if (!x->started) {
		http_csv_customer_head(out, x->zh, 1);
		x->started = 1;
	}
	x->out = out;
	x->rows = 0;
	if (store_customer_each(x->app->store, x->brand_id, x->after,
	    cust_csv_one, x) < 0 || x->rows < 256) {
		free(x);
		return 0;
	}
	return 1;
}

static const struct http_stream_ops cust_csv_ops = { cust_csv_next,
    http_csv_gone };

static void
customer_csv(struct loyalty_api *a)
{
	struct cust_csv *x = calloc(1, sizeof *x);
	char q[2048];

	if (x == NULL) {
		api_fail(a, 503, "unavailable", "out of memory");
		return;
	}
	if (http_query(a->c, "lang", q, sizeof q) != NULL) {
		x->zh = strcmp(q, "zh") == 0;
		if (!x->zh && strcmp(q, "en") != 0) {
			free(x);
			api_fail(a, 400, "bad_query", "lang must be en or zh");
			return;
		}
	}
	if (http_query(a->c, "tz", q, sizeof q) != NULL) {
		x->has_tz = 1;
		if (scan_export_tz_parse(q, &x->tz) != 0) {
			free(x);
			api_fail(a, 400, "bad_query", "tz must be a UTC offset: "
			    "8, -5, +05:30 (-12..14)");
			return;
		}
	}
	x->app = a->app;
	x->brand_id = a->brand_id;
	{
		char who[32];

		http_actor_text(a->c, who, sizeof who);
		log_info("customers_export", "brand=%u %s", a->brand_id, who);
		http_audit_note(a->c, "customers_export", "", "", NULL);
	}
	http_add_header(a->c, "Content-Disposition",
	    "attachment; filename=\"customers.csv\"");
	http_add_header(a->c, "Cache-Control", "no-store");
	http_stream_start(a->c, 200, "text/csv; charset=utf-8", &cust_csv_ops,
	    x);
}

static void
customers(struct loyalty_api *a)
{
	struct customer cu;
	char q[64];
	uint64_t id = 0;
	int rc;

	if (a->nseg == 1) {
		if (a->method != EVHTTP_REQ_GET)
			api_fail(a, 405, "method_not_allowed", "GET only");
		else if (http_loyalty_query(a->c, "phone", q, sizeof q) != NULL)
			customer_search(a, q);
		else
			api_fail(a, 422, "bad_phone", "not a phone number");
		return;
	}
	if (a->nseg == 2 && a->method == EVHTTP_REQ_GET &&
	    strcmp(a->seg[1], "export.csv") == 0) {
		customer_csv(a);
		return;
	}
	if (api_id(a, a->seg[1], UINT64_MAX, &id) != 0)
		return;
	/* a merged customer's id names the one it was merged into */
	if ((rc = store_customer_resolve(a->app->store, a->brand_id, id,
	    &cu)) != 0) {
		api_fail_row(a, rc, "customer not found");
		return;
	}
	if (a->nseg == 2 && a->method == EVHTTP_REQ_GET) {
		http_reply_jsont(a->c, 200, json_pack("{s:o}", "customer",
		    member_summary(a->app, &cu, 1)));
		return;
	}
	if (a->nseg != 3) {
		api_fail(a, 404, "not_found", "no such resource");
		return;
	}
	if (api_admin(a, "only an admin token may do this") != 0)
		return;
	if (strcmp(a->seg[2], "export") == 0 && a->method == EVHTTP_REQ_GET) {
		char who[32], tid[24];
		json_t *o;

		http_actor_text(a->c, who, sizeof who);
		o = privacy_export(a->app, &cu, who);
		snprintf(tid, sizeof tid, "%llu", (unsigned long long)cu.id);
		http_audit_note(a->c, "customer_export", "customer", tid,
		    NULL);

		http_add_header(a->c, "Cache-Control", "no-store");
		http_reply_jsont(a->c, 200, json_pack("{s:o}", "customer", o));
		return;
	}
	if (a->method != EVHTTP_REQ_POST)
		api_fail(a, 405, "method_not_allowed", "POST only");
	else if (strcmp(a->seg[2], "erase") == 0)
		customer_erase(a, &cu);
	else if (strcmp(a->seg[2], "role") == 0)
		customer_role(a, &cu);
	else
		api_fail(a, 404, "not_found", "no such resource");
}

/* ---- catalog items, settings ---- */

static int
item_audit(struct store *st, const void *arg, struct audit_entry *e,
    int after)
{
	const struct reward_item *it = arg;

	(void)st;
	if (!after) {
		audit_detail_set(e, json_pack("{s:s,s:I,s:I}", "name", it->name,
		    "cost", (json_int_t)it->cost, "stock",
		    (json_int_t)it->stock));
		return 0;
	}
	audit_target(e, "item", "%u", it->id);
	return 1;
}

WRITER_OP_STORE_AUDIT(op_item_add, "item_add", store_item_add, item_audit);

static void
item_added(struct http_call *c, void *arg, int err)
{
	if (http_loyalty_busy(c, err))
		return;
	if (err != 0)
		http_reply_error(c, err == SIGIL_EINVAL ? 422 : 503,
		    err == SIGIL_EINVAL ? "invalid" : "unavailable",
		    "the item could not be added");
	else
		http_reply_jsont(c, 201, member_item_json(arg));
}

static void
catalog_items(struct loyalty_api *a)
{
	struct reward_item it;
	json_t *body;
	char msg[256];
	int rc;

	if (a->nseg != 2) {
		api_fail(a, 404, "not_found", "no such resource");
		return;
	}
	if (a->method == EVHTTP_REQ_GET) {
		json_t *arr = json_array();

		store_item_each(a->app->store, a->brand_id, member_item_append,
		    arr);
		api_list(a, "items", arr);
		return;
	}
	if (a->method != EVHTTP_REQ_POST) {
		api_fail(a, 405, "method_not_allowed", "GET or POST");
		return;
	}
	if (api_admin(a, "only an admin token may add items") != 0 ||
	    api_body(a, &body) != 0)
		return;
	rc = member_item_parse(body, a->brand_id, &it, msg, sizeof msg);
	json_decref(body);
	if (rc != 0) {
		api_fail(a, 422, "invalid", msg);
		return;
	}
	http_write(a->c, &op_item_add, &it, sizeof it, item_added);
}

/* Sends {"tiers": tiers} (stolen), the default tiers when NULL. */
static void
tiers_reply(struct http_call *c, json_t *tiers)
{
	http_reply_jsont(c, 200, json_pack("{s:o}", "tiers", tiers ? tiers :
	    member_tiers_default()));
}

static void
tiers_set(struct http_call *c, void *arg, int err)
{
	struct member_tiers *x = arg;
	json_t *tiers = err == 0 ? json_loads(x->tiers, 0, NULL) : NULL;

	free(x->tiers);
	if (http_loyalty_busy(c, err))
		return;
	if (err != 0 || tiers == NULL)
		http_reply_error(c, 503, "unavailable", "storage error");
	else
		tiers_reply(c, tiers);
}

static void
settings(struct loyalty_api *a)
{
	struct member_tiers x = { a->brand_id, NULL };
	json_t *s, *body;
	char msg[256];
	int rc;

	if (a->method != EVHTTP_REQ_GET && a->method != EVHTTP_REQ_POST) {
		api_fail(a, 405, "method_not_allowed", "GET or POST");
		return;
	}
	if (a->method == EVHTTP_REQ_GET) {
		s = member_settings(a->app, a->brand_id);
		tiers_reply(a->c, json_incref(json_object_get(s, "tiers")));
		json_decref(s);
		return;
	}
	if (api_admin(a, "only an admin token may change settings") != 0 ||
	    api_body(a, &body) != 0)
		return;
	rc = member_tiers_check(body, &x.tiers, msg, sizeof msg);
	json_decref(body);
	if (rc == SIGIL_EINVAL)
		api_fail(a, 422, "invalid", msg);
	else if (rc != 0)
		api_fail(a, 503, "unavailable", "storage error");
	else
		http_write(a->c, &member_tiers_op, &x, sizeof x, tiers_set);
}

int
loyalty_api_route(struct loyalty_api *a)
{
	const char *s = a->nseg > 0 ? a->seg[0] : "";
	char q[2048];

	if (a->method == EVHTTP_REQ_HEAD)
		a->method = EVHTTP_REQ_GET;
	if (strcmp(s, "campaigns") == 0 && a->nseg == 3 &&
	    strcmp(a->seg[2], "cash") == 0)
		return 0;	/* route_api.c's table: api_payouts.c */
	else if (strcmp(s, "campaigns") == 0)
		campaigns(a);
	else if (strcmp(s, "customers") == 0 && a->nseg == 3 &&
	    strcmp(a->seg[2], "history") == 0)
		return 0;	/* route_api.c's table: api_history.c */
	else if (strcmp(s, "customers") == 0 && a->nseg == 3 &&
	    (strcmp(a->seg[2], "consents") == 0 ||
	    strcmp(a->seg[2], "profile") == 0))
		return 0;	/* route_api.c's table: api_privacy.c */
	else if (strcmp(s, "customers") == 0 && ((a->nseg == 2 &&
	    strcmp(a->seg[1], "summary") == 0) || (a->nseg == 1 &&
	    a->method == EVHTTP_REQ_GET && http_query(a->c, "phone", q,
	    sizeof q) == NULL)))
		return 0;	/* route_api.c's table: customers_api.c */
	else if (strcmp(s, "customers") == 0)
		customers(a);
	else if (strcmp(s, "catalog") == 0 && a->nseg >= 2 &&
	    strcmp(a->seg[1], "items") == 0)
		catalog_items(a);
	else if (strcmp(s, "settings") == 0 && a->nseg == 1)
		settings(a);
	else
		return 0;
	return 1;
}
