/*
 * api_lists.c - the brand API's paged lists of what a brand set up:
 * GET /api/v1/products (SKU order, ?q= search), GET /api/v1/shipments
 * (newest first, ?distributor= and ?status= filters), and a product's
 * change, PATCH /api/v1/products/{sku} (its name and max_scanners).
 *
 * A page is at most ?limit= rows (1-1000, default 100) and says where
 * the next one starts ("next": the cursor to send back, null on the
 * last page), so no list stops silently at a fixed size. A query the
 * server cannot read (a bad limit, cursor, filter or search text) is a
 * 422 `invalid` that names the parameter.
 *
 * A handler: route_api.c calls it after authentication and the role
 * check. May call http_api.c, store (reads), http and http_write; never
 * calls another handler file. The one write (product_update) is a
 * writer op, answered after the commit.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "sigil/api.h"
#include "sigil/audit.h"
#include "sigil/app.h"
#include "sigil/http.h"
#include "sigil/http_write.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "sigil/writer.h"

#define SEARCH_MAX	200	/* ?q= bytes */
/*
 * Rows one request looks at before it answers the page it has (with the
 * cursor to go on from), so a search or filter that matches little never
 * holds the event loop for long: a page may then be short, even empty,
 * with a next.
 */
#define WALK_BUDGET	20000

/* A page being filled: rows up to limit, then one more means "more". */
struct page {
	json_t		*arr;
	size_t		 limit;
	int		 more;
	/* products */
	const char	*q;
	char		 last_sku[STORE_NAME_BYTES + 1];
	size_t		 seen;
	/* shipments */
	uint32_t	 distributor;
	int		 status;	/* 0 any, 1 open, 2 received */
	uint64_t	 last_id;
};

/* Is needle inside hay, ASCII letters compared without case? */
static int
contains_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay != '\0'; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return 1;
	return n == 0;
}

/* ---- GET /api/v1/products ---- */

static int
product_row(void *arg, const struct product *p)
{
	struct page *pg = arg;

	if (pg->q[0] == '\0' || contains_ci(p->sku, pg->q) ||
	    contains_ci(p->name, pg->q)) {
		if (json_array_size(pg->arr) == pg->limit) {
			pg->more = 1;
			return 1;
		}
		json_array_append_new(pg->arr, api_product_json(p));
		snprintf(pg->last_sku, sizeof pg->last_sku, "%s", p->sku);
	}
	if (++pg->seen >= WALK_BUDGET) {
		/* Go on after this one, matched or not. */
		pg->more = 1;
		snprintf(pg->last_sku, sizeof pg->last_sku, "%s", p->sku);
		return 1;
	}
	return 0;
}

void
api_products_list(struct api_call *a)
{
	struct page pg = { 0 };
	char after[STORE_NAME_BYTES + 2], q[SEARCH_MAX + 2];
	int err;

	if (api_query_limit(a, 100, &pg.limit) != 0)
		return;
	if (api_query(a, "after", after, sizeof after) == NULL) {
		if (api_query_present(a, "after")) {
			api_fail(a, 422, "invalid", "after must be a SKU (the "
			    "next of the previous page)");
			return;
		}
		after[0] = '\0';
	} else if (strlen(after) > STORE_NAME_BYTES) {
		api_fail(a, 422, "invalid", "after must be a SKU (the next "
		    "of the previous page)");
		return;
	}
	if (api_query(a, "q", q, sizeof q) == NULL) {
		if (api_query_present(a, "q")) {
			api_fail(a, 422, "invalid", "q must be text of at most "
			    "200 bytes");
			return;
		}
		q[0] = '\0';
	} else if (strlen(q) > SEARCH_MAX) {
		api_fail(a, 422, "invalid", "q must be text of at most 200 "
		    "bytes");
		return;
	}
	pg.q = q;
	pg.arr = json_array();
	err = store_product_each(a->app->store, a->brand.id, after,
	    product_row, &pg);
	if (err < 0) {
		json_decref(pg.arr);
		api_store_fail(a, err, "products");
		return;
	}
	api_reply(a, 200, json_pack("{s:o,s:o}", "products", pg.arr, "next",
	    pg.more ? json_string(pg.last_sku) : json_null()));
}

/* ---- PATCH /api/v1/products/{sku} ---- */

/* The audit trail: the product, and what changed (name, max_scanners). */
static int
product_update_audit(struct store *st, const void *arg,
    struct audit_entry *e, int after)
{
	const struct product *p = arg;
	struct product was;
	json_t *b, *n;

	if (after)
		return 0;
	audit_target(e, "product", "%s", p->sku);
	if (store_product_get(st, p->brand_id, p->sku, &was) != 0)
		return 0;
	/* An empty name or a 0 max_scanners is left as it was. */
	b = json_object();
	n = json_object();
	if (p->name[0] != '\0') {
		json_object_set_new(b, "name", json_string(was.name));
		json_object_set_new(n, "name", json_string(p->name));
	}
	if (p->max_scanners != 0) {
		json_object_set_new(b, "max_scanners",
		    json_integer(was.max_scanners));
		json_object_set_new(n, "max_scanners",
		    json_integer(p->max_scanners));
	}
	audit_detail_set(e, json_pack("{s:o}", "changes", audit_diff(b, n)));
	json_decref(b);
	json_decref(n);
	return 0;
}

WRITER_OP_STORE_AUDIT(op_product_update, "product_update",
    store_product_update, product_update_audit);

static void
product_updated(struct http_call *c, void *arg, int err)
{
	api_write_reply(c, err, "product", 200, api_product_json(arg));
}

void
api_products_patch(struct api_call *a)
{
	struct product p = { 0 }, old;
	uint64_t max = 0;
	const char *key;
	json_t *v;
	int err;

	if ((err = store_product_get(a->app->store, a->brand.id, a->seg[1],
	    &old)) != 0) {
		api_store_fail(a, err, "product");
		return;
	}
	if (api_body(a) != 0)
		return;
	json_object_foreach(a->body, key, v) {
		if (strcmp(key, "name") != 0 && strcmp(key, "max_scanners") !=
		    0) {
			api_fail(a, 422, "invalid", "only name and max_scanners "
			    "may change (a product's sku, gtin and code form "
			    "are printed on its codes)");
			return;
		}
	}
	if (json_object_size(a->body) == 0) {
		api_fail(a, 422, "invalid", "give name or max_scanners");
		return;
	}
	if (api_field_str(a, "name", STORE_TEXT_MAX, 0, p.name,
	    sizeof p.name) != 0 || api_field_uint(a, "max_scanners", 1,
	    STORE_SCANNERS_MAX - 1, 0, &max) != 0)
		return;
	if (json_object_get(a->body, "name") != NULL && p.name[0] == '\0') {
		api_fail(a, 422, "invalid", "field 'name' must not be empty");
		return;
	}
	snprintf(p.sku, sizeof p.sku, "%s", old.sku);
	p.brand_id = a->brand.id;
	p.max_scanners = (uint32_t)max;
	http_write(a->c, &op_product_update, &p, sizeof p, product_updated);
}

/* ---- GET /api/v1/shipments ---- */

static int
shipment_row(void *arg, const struct shipment *s)
{
	struct page *pg = arg;

	if ((pg->distributor != 0 && s->distributor != pg->distributor) ||
	    (pg->status == 1 && s->received_at != 0) ||
	    (pg->status == 2 && s->received_at == 0))
		return 0;
	if (json_array_size(pg->arr) == pg->limit) {
		pg->more = 1;
		return 1;
	}
	json_array_append_new(pg->arr, api_shipment_json(s));
	pg->last_id = s->id;
	return 0;
}

void
api_shipments_list(struct api_call *a)
{
	struct page pg = { 0 };
	uint64_t before, dist, stopped;
	char status[16];
	size_t i;
	int err;

	if (api_query_limit(a, 100, &pg.limit) != 0 ||
	    api_query_id(a, "before", UINT64_MAX, &before) != 0 ||
	    api_query_id(a, "distributor", UINT32_MAX, &dist) != 0)
		return;
	if (api_query(a, "status", status, sizeof status) != NULL &&
	    strcmp(status, "open") == 0)
		pg.status = 1;
	else if (api_query(a, "status", status, sizeof status) != NULL &&
	    strcmp(status, "received") == 0)
		pg.status = 2;
	else if (api_query_present(a, "status")) {
		api_fail(a, 422, "invalid", "status must be open or received");
		return;
	}
	pg.distributor = (uint32_t)dist;
	pg.arr = json_array();
	err = store_shipment_each_before(a->app->store, a->brand.id, before,
	    WALK_BUDGET, &stopped, shipment_row, &pg);
	if (err < 0) {
		json_decref(pg.arr);
		api_store_fail(a, err, "shipments");
		return;
	}
	/* Names after the walk: a page names a few distributors. */
	for (i = 0; i < json_array_size(pg.arr); i++) {
		json_t *o = json_array_get(pg.arr, i);
		struct distributor d;
		uint32_t id = (uint32_t)json_integer_value(json_object_get(o,
		    "distributor"));

		json_object_set_new(o, "distributor_name",
		    store_distributor_name(a->app->store, a->brand.id, id,
		    &d) == 0 ? json_string(d.name) : json_null());
	}
	if (!pg.more && stopped != 0) {
		pg.more = 1;
		pg.last_id = stopped;
	}
	api_reply(a, 200, json_pack("{s:o,s:o}", "shipments", pg.arr, "next",
	    pg.more ? json_integer((json_int_t)pg.last_id) : json_null()));
}
