/*
 * api_history.c - GET /api/v1/customers/{id}/history: what one customer
 * did, for the dashboard's customer page: the scans of the customer's
 * devices, the customer's claims, redemption orders and ledger, each
 * newest first and paged on its own.
 *
 *   ?limit= (1..200, 20)  ?section=scans|claims|orders|ledger
 *   ?before= (with section: the id that section's next_* gave)
 *
 * Without section every section's first page comes, with next_scans,
 * next_claims, next_orders and next_ledger (null when nothing follows);
 * with it, that section alone. How each is found:
 *   scans   the log backwards (store_scan_back), the brand's scans from
 *           the customer's devices (an erased customer has none). At most
 *           SCAN_BUDGET log records are read per request: a page may
 *           then hold fewer scans than limit while next_scans goes on
 *           (the page says so with "scan_budget_spent": true);
 *   claims  the brand's claims walked for the customer's (there is no
 *           index by customer), sorted by id;
 *   orders  the brand's orders for the customer (delivery address and
 *           pick-up code for operators and admins only, as GET orders);
 *   ledger  the customer's entries (member_ledger_load), a redemption
 *           with its item's name.
 * Every role may read it.
 *
 * A handler. May call the store (reads), member (JSON of orders and
 * ledger entries), scan, role, http_api.c and http; never another
 * handler.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sigil/api.h"
#include "sigil/app.h"
#include "sigil/code.h"
#include "sigil/http.h"
#include "sigil/member.h"
#include "sigil/role.h"
#include "sigil/scan.h"
#include "sigil/store.h"
#include "sigil/util.h"

#define HIST_PAGE	20
#define HIST_MAX	200
#define SCAN_BUDGET	200000
#define DEVICES_MAX	256

struct hist {
	struct api_call	*a;
	uint64_t	customer;
	size_t		limit;
	uint64_t	before;		/* 0: from the newest */
	/* names, as read last */
	struct batch	b;
	struct product	p;
	int		have_b, have_p;
	/* scans */
	uint64_t	dev[DEVICES_MAX];
	size_t		ndev;
	json_t		*arr;
	uint64_t	last_id;
	int		more;
};

static void
names(struct hist *h, uint64_t batch_id)
{
	if (h->have_b && h->b.id == batch_id)
		return;
	h->have_b = batch_id != 0 && store_batch_get(h->a->app->store,
	    batch_id, &h->b) == 0 && h->b.brand_id == h->a->brand.id;
	h->have_p = h->have_b && store_product_get(h->a->app->store,
	    h->a->brand.id, h->b.sku, &h->p) == 0;
}

/* sku, product_name, lot and code of serial (in batch_id, 0: find it). */
static void
code_names(struct hist *h, json_t *o, uint64_t batch_id, uint64_t serial)
{
	char url[CODE_URL_MAX];

	if (batch_id == 0) {
		if (h->have_b && serial >= h->b.first_serial &&
		    serial < h->b.first_serial + h->b.count)
			batch_id = h->b.id;
		else if (store_batch_find_serial(h->a->app->store,
		    h->a->brand.id, serial, &h->b) == 0) {
			h->have_b = 1;
			h->have_p = store_product_get(h->a->app->store,
			    h->a->brand.id, h->b.sku, &h->p) == 0;
			batch_id = h->b.id;
		}
	}
	names(h, batch_id);
	json_object_set_new(o, "sku", h->have_b ? json_string(h->b.sku) :
	    json_null());
	json_object_set_new(o, "product_name", h->have_p ?
	    json_string(h->p.name) : json_null());
	json_object_set_new(o, "lot", h->have_b ? json_string(h->b.lot) :
	    json_null());
	json_object_set_new(o, "url", h->have_b && api_code_url(h->a, &h->b,
	    serial, url, sizeof url) == 0 ? json_string(url) : json_null());
}

/* ---- scans ---- */

static int
dev_one(void *arg, uint64_t device)
{
	struct hist *h = arg;

	if (h->ndev < DEVICES_MAX)
		h->dev[h->ndev++] = device;
	return 0;
}

static int
scan_keep(void *arg, const struct scan_rec *r)
{
	struct hist *h = arg;

	if (r->brand_id != h->a->brand.id)
		return 0;
	for (size_t i = 0; i < h->ndev; i++)
		if (h->dev[i] == r->device)
			return 1;
	return 0;
}

static int
scan_one(void *arg, const struct scan_rec *r)
{
	struct hist *h = arg;
	char t[SIGIL_TIME_LEN + 1], check[SCAN_CHECK_LEN + 1];
	json_t *o;

	if (json_array_size(h->arr) == h->limit) {
		h->more = 1;
		return 1;
	}
	scan_check_format(r->id, check);
	o = json_pack("{s:I,s:s,s:s,s:s,s:I,s:b,s:b}", "id",
	    (json_int_t)r->id, "check_id", check, "at",
	    sigil_time_format(r->at, t), "verdict",
	    scan_verdict_name(r->verdict), "serial", (json_int_t)r->serial,
	    "first_scan", (r->flags & SCAN_FIRST) != 0, "diversion",
	    (r->flags & SCAN_DIVERSION) != 0);
	code_names(h, o, r->batch_id, r->serial);
	json_object_set_new(o, "location", (r->flags & SCAN_HAS_LOC) ?
	    json_pack("{s:f,s:f}", "lat", round((double)r->lat * 1e4) / 1e4,
	    "lng", round((double)r->lng * 1e4) / 1e4) : json_null());
	json_array_append_new(h->arr, o);
	h->last_id = r->id;
	return 0;
}

static int
section_scans(struct hist *h, json_t *out)
{
	uint64_t last = 0;
	int err = 0, spent = 0;

	h->arr = json_array();
	h->more = 0;
	h->ndev = 0;
	err = store_customer_devices(h->a->app->store, h->a->brand.id,
	    h->customer, dev_one, h);
	if (err >= 0 && h->ndev > 0) {
		err = store_scan_back(h->a->app->store, h->before,
		    SCAN_BUDGET, scan_keep, scan_one, h, &last);
		if (err > 0)
			err = 0;
		/* The budget ran out before the page was full. */
		if (!h->more && last != 0 && err == 0) {
			spent = 1;
			h->more = 1;
			h->last_id = last;
		}
	}
	if (err < 0) {
		json_decref(h->arr);
		return err;
	}
	json_object_set_new(out, "scans", h->arr);
	json_object_set_new(out, "next_scans", h->more ?
	    json_integer((json_int_t)h->last_id) : json_null());
	if (spent)
		json_object_set_new(out, "scan_budget_spent", json_true());
	return 0;
}

/* ---- claims ---- */

struct claim_vec {
	uint64_t	customer;
	struct claim	*v;
	size_t		n, cap;
	int		oom;
};

static int
claim_one(void *arg, const struct claim *c)
{
	struct claim_vec *cv = arg;
	struct claim *nv;

	if (c->customer_id != cv->customer)
		return 0;
	if (cv->n == cv->cap) {
		size_t cap = cv->cap ? cv->cap * 2 : 64;

		if ((nv = realloc(cv->v, cap * sizeof *nv)) == NULL) {
			cv->oom = 1;
			return 1;
		}
		cv->v = nv;
		cv->cap = cap;
	}
	cv->v[cv->n++] = *c;
	return 0;
}

static int
claim_newer(const void *x, const void *y)
{
	const struct claim *a = x, *b = y;

	return a->id < b->id ? 1 : a->id > b->id ? -1 : 0;
}

static const char *
claim_role_name(int role)
{
	return role == CLAIM_RETAILER ? "retailer" : role == CLAIM_SALES ?
	    "sales" : "consumer";
}

static int
section_claims(struct hist *h, json_t *out)
{
	struct claim_vec cv = { h->customer, NULL, 0, 0, 0 };
	char t[SIGIL_TIME_LEN + 1], te[SIGIL_TIME_LEN + 1];
	json_t *arr = json_array(), *o;
	uint64_t last = 0;
	size_t i;
	int err, more = 0;

	err = store_brand_claims(h->a->app->store, h->a->brand.id, claim_one,
	    &cv);
	if (cv.oom)
		err = SIGIL_ENOMEM;
	if (err < 0) {
		free(cv.v);
		json_decref(arr);
		return err;
	}
	if (cv.n > 1)
		qsort(cv.v, cv.n, sizeof *cv.v, claim_newer);
	for (i = 0; i < cv.n; i++) {
		const struct claim *c = &cv.v[i];

		if (h->before && c->id >= h->before)
			continue;
		if (json_array_size(arr) == h->limit) {
			more = 1;
			break;
		}
		o = json_pack("{s:I,s:s,s:I,s:s,s:I,s:s?}", "id",
		    (json_int_t)c->id, "at", sigil_time_format(c->at, t),
		    "serial", (json_int_t)c->serial, "role",
		    claim_role_name(c->role), "points", (json_int_t)c->points,
		    "expires_at", c->expires_at ?
		    sigil_time_format(c->expires_at, te) : NULL);
		json_object_set_new(o, "campaign", c->campaign_id ?
		    json_integer(c->campaign_id) : json_null());
		json_object_set_new(o, "prize", c->prize >= 0 ?
		    json_integer(c->prize) : json_null());
		code_names(h, o, 0, c->serial);
		json_array_append_new(arr, o);
		last = c->id;
	}
	free(cv.v);
	json_object_set_new(out, "claims", arr);
	json_object_set_new(out, "next_claims", more ?
	    json_integer((json_int_t)last) : json_null());
	return 0;
}

/* ---- orders ---- */

struct order_vec {
	uint64_t		customer;
	struct redeem_order	*v;
	size_t			n, cap;
	int			oom;
};

static int
order_one(void *arg, const struct redeem_order *o)
{
	struct order_vec *ov = arg;
	struct redeem_order *nv;

	if (o->customer_id != ov->customer)
		return 0;
	if (ov->n == ov->cap) {
		size_t cap = ov->cap ? ov->cap * 2 : 16;

		if ((nv = realloc(ov->v, cap * sizeof *nv)) == NULL) {
			ov->oom = 1;
			return 1;
		}
		ov->v = nv;
		ov->cap = cap;
	}
	ov->v[ov->n++] = *o;
	return 0;
}

static int
section_orders(struct hist *h, json_t *out)
{
	struct order_vec ov = { h->customer, NULL, 0, 0, 0 };
	int full = role_may(h->a->tok.role, ROLE_NEED_OPERATE), more = 0;
	json_t *arr = json_array(), *o;
	uint64_t last = 0;
	int err;

	err = store_order_each(h->a->app->store, h->a->brand.id, order_one,
	    &ov);
	if (ov.oom)
		err = SIGIL_ENOMEM;
	if (err < 0) {
		free(ov.v);
		json_decref(arr);
		return err;
	}
	/* Oldest first from the store: read backwards. */
	for (size_t i = ov.n; i-- > 0;) {
		if (h->before && ov.v[i].id >= h->before)
			continue;
		if (json_array_size(arr) == h->limit) {
			more = 1;
			break;
		}
		o = member_order_json(h->a->app, &ov.v[i], 1);
		if (!full) {
			json_object_del(o, "delivery");
			json_object_del(o, "pickup_code");
		}
		json_array_append_new(arr, o);
		last = ov.v[i].id;
	}
	free(ov.v);
	json_object_set_new(out, "orders", arr);
	json_object_set_new(out, "next_orders", more ?
	    json_integer((json_int_t)last) : json_null());
	return 0;
}

/* ---- ledger ---- */

static int
section_ledger(struct hist *h, json_t *out)
{
	struct ledger_buf lb = { 0 };
	struct reward_item it;
	json_t *arr = json_array(), *o;
	uint64_t last = 0;
	int err, more = 0;

	if ((err = member_ledger_load(h->a->app, h->a->brand.id, h->customer,
	    &lb)) != 0) {
		json_decref(arr);
		return err;
	}
	for (size_t i = lb.n; i-- > 0;) {
		const struct ledger_entry *e = &lb.v[i];

		if (h->before && e->id >= h->before)
			continue;
		if (json_array_size(arr) == h->limit) {
			more = 1;
			break;
		}
		o = member_ledger_json(e);
		if (e->type == LEDGER_REDEEM && store_item_get(h->a->app->store,
		    h->a->brand.id, (uint32_t)e->ref, &it) == 0)
			json_object_set_new(o, "item_name",
			    json_string(it.name));
		json_array_append_new(arr, o);
		last = e->id;
	}
	free(lb.v);
	json_object_set_new(out, "ledger", arr);
	json_object_set_new(out, "next_ledger", more ?
	    json_integer((json_int_t)last) : json_null());
	return 0;
}

/* ---- the request ---- */

static const struct {
	const char	*name;
	int		(*fn)(struct hist *h, json_t *out);
} sections[] = {
	{ "scans", section_scans }, { "claims", section_claims },
	{ "orders", section_orders }, { "ledger", section_ledger },
};
#define NSECTIONS	(sizeof sections / sizeof sections[0])

void
api_customer_history(struct api_call *a)
{
	struct hist *h;
	struct customer cu;
	char v[16];
	json_t *out;
	int got, which = -1, err = 0;

	if ((h = calloc(1, sizeof *h)) == NULL) {
		api_store_fail(a, SIGIL_ENOMEM, "history");
		return;
	}
	h->a = a;
	if (api_parse_id(a->seg[1], UINT64_MAX, &h->customer) != 0 ||
	    store_customer_resolve(a->app->store, a->brand.id, h->customer,
	    &cu) != 0) {
		api_fail(a, 404, "not_found", "customer not found");
		goto out;
	}
	h->customer = cu.id;
	if (api_page_back(a, HIST_PAGE, HIST_MAX, &h->limit, &h->before) != 0 ||
	    (got = api_query_arg(a, "section", v, sizeof v)) < 0)
		goto out;
	for (size_t i = 0; got && i < NSECTIONS; i++)
		if (strcmp(v, sections[i].name) == 0)
			which = (int)i;
	if (got && which < 0) {
		api_fail(a, 400, "bad_query", "section must be scans, claims, "
		    "orders or ledger");
		goto out;
	}
	if (h->before && which < 0) {
		api_fail(a, 400, "bad_query", "before needs a section: "
		    "?section=scans&before=...");
		goto out;
	}
	out = json_pack("{s:I}", "customer", (json_int_t)h->customer);
	for (size_t i = 0; i < NSECTIONS && err == 0; i++)
		if (which < 0 || which == (int)i)
			err = sections[i].fn(h, out);
	if (err != 0) {
		json_decref(out);
		api_store_fail(a, err, "history");
		goto out;
	}
	api_reply(a, 200, out);
out:
	free(h);
}
