/*
 * api_sellers.c - the brand API of the sales channel below the
 * distributors:
 *
 *   GET/POST /api/v1/stores, GET/PATCH/DELETE /api/v1/stores/{id}
 *   GET/POST /api/v1/stores/{id}/sellers,
 *   DELETE /api/v1/stores/{id}/sellers/{customer}
 *   GET /api/v1/channel/tree      distributor > store > seller
 *   GET /api/v1/channel/results   scans, claims, rebates per store/seller
 *   GET /api/v1/bindings?code=    the binding that covers a code
 *   POST /api/v1/bindings/move    the brand moves (or drops) a binding
 *   GET /api/v1/exports/channel.csv  the results as a file
 *
 * Every write is a writer op through http_write, so the audit trail
 * gets it with the caller as actor. The results walk every binding and
 * the codes packed under each: they run on a worker (http_job_read),
 * like the customer summary, and are answered from the loop.
 *
 * A handler file: may call the domain (seller, member, customer), the
 * store (reads), http, http_api.c, http_write and http_job; never
 * another handler.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <jansson.h>

#include "sigil/api.h"
#include "sigil/app.h"
#include "sigil/audit.h"
#include "sigil/customer.h"
#include "sigil/http.h"
#include "sigil/http_job.h"
#include "sigil/http_write.h"
#include "sigil/loyalty_util.h"
#include "sigil/member.h"
#include "sigil/seller.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "sigil/writer.h"

/* ---- stores ---- */

/* The store named by segment s of the caller's brand: 0, or -1 after
 * replying 404. */
static int
shop_of_brand(struct api_call *a, const char *s, struct shop *out)
{
	uint64_t id;

	if (api_parse_id(s, UINT32_MAX, &id) != 0 ||
	    store_shop_get(a->app->store, a->brand.id, (uint32_t)id, out) !=
	    0) {
		api_fail(a, 404, "not_found", "store not found");
		return -1;
	}
	return 0;
}

/* name, city, distributor of the body into s (required on a create):
 * 0, or -1 after replying 422. */
static int
shop_fields(struct api_call *a, struct shop *s, int create)
{
	const char *key;
	json_t *v;
	uint64_t d = s->distributor;
	struct distributor dist;

	json_object_foreach(a->body, key, v) {
		if (strcmp(key, "name") != 0 && strcmp(key, "city") != 0 &&
		    strcmp(key, "distributor") != 0) {
			api_fail(a, 422, "invalid", "a store has name, city and "
			    "distributor only");
			return -1;
		}
	}
	if (!create && json_object_size(a->body) == 0) {
		api_fail(a, 422, "invalid", "give name, city or distributor");
		return -1;
	}
	if ((create || json_object_get(a->body, "name") != NULL) &&
	    api_field_str(a, "name", STORE_TEXT_MAX, 1, s->name,
	    sizeof s->name) != 0)
		return -1;
	if (json_object_get(a->body, "city") != NULL &&
	    json_is_null(json_object_get(a->body, "city")))
		s->city[0] = '\0';
	else if ((create || json_object_get(a->body, "city") != NULL) &&
	    api_field_str(a, "city", STORE_NAME_MAX, 0, s->city,
	    sizeof s->city) != 0)
		return -1;
	if (api_field_uint(a, "distributor", 1, UINT32_MAX, create, &d) != 0)
		return -1;
	if (store_distributor_name(a->app->store, a->brand.id, (uint32_t)d,
	    &dist) != 0) {
		api_fail(a, 422, "unknown_distributor", "field 'distributor' "
		    "must be one of the brand's distributors");
		return -1;
	}
	s->distributor = (uint32_t)d;
	return 0;
}

static int
shop_audit(struct store *st, const void *arg, struct audit_entry *e,
    int after)
{
	const struct shop *s = arg;

	(void)st;
	if (!after)
		return 0;
	audit_target(e, "store", "%u", s->id);
	audit_detail_set(e, json_pack("{s:s,s:s,s:i}", "name", s->name, "city",
	    s->city, "distributor", (int)s->distributor));
	return 1;
}

WRITER_OP_STORE_AUDIT(op_shop_add, "store_create", store_shop_add,
    shop_audit);
WRITER_OP_STORE_AUDIT(op_shop_update, "store_update", store_shop_update,
    shop_audit);

static void
shop_added(struct http_call *c, void *arg, int err)
{
	api_write_reply(c, err, "store", 201, seller_shop_json(arg));
}

static void
shop_updated(struct http_call *c, void *arg, int err)
{
	api_write_reply(c, err, "store", 200, seller_shop_json(arg));
}

void
api_stores_create(struct api_call *a)
{
	struct shop s = { 0 };

	if (api_body(a) != 0 || shop_fields(a, &s, 1) != 0)
		return;
	s.brand_id = a->brand.id;
	http_write(a->c, &op_shop_add, &s, sizeof s, shop_added);
}

void
api_stores_patch(struct api_call *a)
{
	struct shop s;

	if (shop_of_brand(a, a->seg[1], &s) != 0 || api_body(a) != 0 ||
	    shop_fields(a, &s, 0) != 0)
		return;
	http_write(a->c, &op_shop_update, &s, sizeof s, shop_updated);
}

static int
shop_append(void *arg, const struct shop *s)
{
	return api_list_add(arg, seller_shop_json(s));
}

void
api_stores_list(struct api_call *a)
{
	json_t *arr = json_array();

	api_reply_list(a, "stores", arr, store_shop_each(a->app->store,
	    a->brand.id, shop_append, arr));
}

void
api_stores_get(struct api_call *a)
{
	struct shop s;

	if (shop_of_brand(a, a->seg[1], &s) == 0)
		api_reply(a, 200, seller_shop_json(&s));
}

struct shop_ref {
	uint32_t	brand_id, id;
};

static int
shop_delete_run(struct store *st, void *arg)
{
	const struct shop_ref *x = arg;

	return store_shop_delete(st, x->brand_id, x->id);
}

static int
shop_delete_audit(struct store *st, const void *arg, struct audit_entry *e,
    int after)
{
	const struct shop_ref *x = arg;
	struct shop s;

	if (after)
		return 0;
	audit_target(e, "store", "%u", x->id);
	if (store_shop_get(st, x->brand_id, x->id, &s) == 0)
		audit_detail_set(e, json_pack("{s:s}", "name", s.name));
	return 0;
}

static const struct writer_op op_shop_delete = { "store_delete",
    shop_delete_run, shop_delete_audit };

static void
shop_deleted(struct http_call *c, void *arg, int err)
{
	(void)arg;
	if (err == SIGIL_ECONFLICT)
		http_reply_error(c, 409, "store_in_use", "the store still has "
		    "sellers or bound codes: take the sellers off it and move "
		    "its bindings first");
	else if (err != 0)
		api_write_fail(c, err, "store");
	else
		http_reply_jsont(c, 200, json_pack("{s:b}", "deleted", 1));
}

void
api_stores_delete(struct api_call *a)
{
	struct shop s;
	struct shop_ref x;

	if (shop_of_brand(a, a->seg[1], &s) != 0)
		return;
	x.brand_id = a->brand.id;
	x.id = s.id;
	http_write(a->c, &op_shop_delete, &x, sizeof x, shop_deleted);
}

/* ---- sellers ---- */

static json_t *
seller_json(struct app *app, const struct seller *s)
{
	struct customer cu;
	char masked[32] = "", since[SIGIL_TIME_LEN + 1];
	int role = seller_staff_role(app->store, s->brand_id, s->customer_id);

	if (store_customer_get(app->store, s->brand_id, s->customer_id, &cu) ==
	    0 && cu.erased == 0 && cu.phone_ct_len != 0)
		customer_masked(app, &cu, masked, sizeof masked);
	return json_pack("{s:I,s:s?,s:s?,s:i,s:s}", "customer_id",
	    (json_int_t)s->customer_id, "phone", masked[0] ? masked : NULL,
	    "role", role ? loyalty_role_name(role) : NULL, "store",
	    (int)s->shop_id, "since", sigil_time_format(s->since, since));
}

struct seller_list {
	struct app	*app;
	uint32_t	 shop;		/* 0: all */
	json_t		*arr;
};

static int
seller_append(void *arg, const struct seller *s)
{
	struct seller_list *l = arg;

	if (l->shop != 0 && s->shop_id != l->shop)
		return 0;
	return api_list_add(l->arr, seller_json(l->app, s));
}

void
api_store_sellers(struct api_call *a)
{
	struct shop s;
	struct seller_list l;

	if (shop_of_brand(a, a->seg[1], &s) != 0)
		return;
	l.app = a->app;
	l.shop = s.id;
	l.arr = json_array();
	api_reply_list(a, "sellers", l.arr, store_seller_each(a->app->store,
	    a->brand.id, seller_append, &l));
}

static int
assign_audit(struct store *st, const void *arg, struct audit_entry *e,
    int after)
{
	const struct seller_assign *x = arg;

	(void)st;
	if (after)
		return 0;
	audit_target(e, "seller", "%llu", (unsigned long long)x->customer_id);
	audit_detail_set(e, json_pack("{s:i,s:s?}", "store", (int)x->shop_id,
	    "role", x->role ? loyalty_role_name(x->role) : NULL));
	return 0;
}

/* The seller op with the API's audit hook (the domain's op has none). */
static int
assign_run(struct store *st, void *arg)
{
	return seller_assign_op.run(st, arg);
}

static const struct writer_op op_seller_assign = { "seller_assign",
    assign_run, assign_audit };

struct assigned {
	struct seller_assign	x;
	struct app		*app;
};

static void
seller_assigned(struct http_call *c, void *arg, int err)
{
	struct assigned *y = arg;

	if (err == SIGIL_EDENIED)
		http_reply_error(c, 422, "not_staff", "the customer has no "
		    "staff role: give \"role\": \"retailer\" or \"sales\"");
	else if (err == SIGIL_ESTATE)
		http_reply_error(c, 409, "customer_gone", "the customer was "
		    "erased or merged into another");
	else if (err == SIGIL_ENOTFOUND)
		http_reply_error(c, 404, "not_found", "customer or store not "
		    "found");
	else if (err != 0)
		api_write_fail(c, err, "seller");
	else
		http_reply_jsont(c, 201, seller_json(y->app, &y->x.out));
}

void
api_store_seller_add(struct api_call *a)
{
	struct shop s;
	struct assigned y;
	struct customer cu;
	json_t *r;
	uint64_t cid = 0;

	memset(&y, 0, sizeof y);
	if (shop_of_brand(a, a->seg[1], &s) != 0 || api_body(a) != 0 ||
	    api_field_uint(a, "customer_id", 1, UINT64_MAX >> 1, 1, &cid) != 0)
		return;
	r = json_object_get(a->body, "role");
	if (r != NULL && (!json_is_string(r) || ((y.x.role =
	    loyalty_role_parse(json_string_value(r))) != CLAIM_RETAILER &&
	    y.x.role != CLAIM_SALES))) {
		api_fail(a, 422, "invalid", "field 'role' must be \"retailer\" "
		    "or \"sales\"");
		return;
	}
	if (store_customer_get(a->app->store, a->brand.id, cid, &cu) != 0) {
		api_fail(a, 404, "not_found", "customer not found");
		return;
	}
	y.x.brand_id = a->brand.id;
	y.x.customer_id = cid;
	y.x.shop_id = s.id;
	y.app = a->app;
	http_write(a->c, &op_seller_assign, &y, sizeof y, seller_assigned);
}

struct seller_ref {
	uint32_t	brand_id;
	uint64_t	customer_id;
};

static int
seller_remove_run(struct store *st, void *arg)
{
	const struct seller_ref *x = arg;

	return store_seller_remove(st, x->brand_id, x->customer_id);
}

static int
seller_remove_audit(struct store *st, const void *arg, struct audit_entry *e,
    int after)
{
	const struct seller_ref *x = arg;

	(void)st;
	if (!after)
		audit_target(e, "seller", "%llu",
		    (unsigned long long)x->customer_id);
	return 0;
}

static const struct writer_op op_seller_remove = { "seller_remove",
    seller_remove_run, seller_remove_audit };

static void
seller_removed(struct http_call *c, void *arg, int err)
{
	(void)arg;
	if (err != 0)
		api_write_fail(c, err, "seller");
	else
		http_reply_jsont(c, 200, json_pack("{s:b}", "removed", 1));
}

void
api_store_seller_remove(struct api_call *a)
{
	struct shop s;
	struct seller cur;
	struct seller_ref x;
	uint64_t cid;

	if (shop_of_brand(a, a->seg[1], &s) != 0)
		return;
	if (api_parse_id(a->seg[3], UINT64_MAX >> 1, &cid) != 0 ||
	    store_seller_get(a->app->store, a->brand.id, cid, &cur) != 0 ||
	    cur.shop_id != s.id) {
		api_fail(a, 404, "not_found", "no such seller in this store");
		return;
	}
	x.brand_id = a->brand.id;
	x.customer_id = cid;
	http_write(a->c, &op_seller_remove, &x, sizeof x, seller_removed);
}

/* ---- the tree ---- */

struct tree {
	struct api_call	*a;
	json_t		*dists;		/* array of distributors */
	json_t		*by_shop;	/* "id" -> store object */
	int		 err;
};

static int
tree_dist(void *arg, const struct distributor *d)
{
	struct tree *t = arg;

	json_array_append_new(t->dists, json_pack("{s:i,s:s,s:[]}", "id",
	    (int)d->id, "name", d->name, "stores"));
	return 0;
}

static json_t *
dist_node(struct tree *t, uint32_t id)
{
	for (size_t i = 0; i < json_array_size(t->dists); i++) {
		json_t *d = json_array_get(t->dists, i);

		if (json_integer_value(json_object_get(d, "id")) == id)
			return d;
	}
	return NULL;
}

static int
tree_shop(void *arg, const struct shop *s)
{
	struct tree *t = arg;
	json_t *d = dist_node(t, s->distributor), *o;
	char k[16];

	if (d == NULL)
		return 0;
	o = seller_shop_json(s);
	json_object_set_new(o, "sellers", json_array());
	json_array_append(json_object_get(d, "stores"), o);
	snprintf(k, sizeof k, "%u", s->id);
	json_object_set_new(t->by_shop, k, o);
	return 0;
}

static int
tree_seller(void *arg, const struct seller *s)
{
	struct tree *t = arg;
	char k[16];
	json_t *o;

	snprintf(k, sizeof k, "%u", s->shop_id);
	if ((o = json_object_get(t->by_shop, k)) != NULL)
		json_array_append_new(json_object_get(o, "sellers"),
		    seller_json(t->a->app, s));
	return 0;
}

void
api_channel_tree(struct api_call *a)
{
	struct store *st = a->app->store;
	struct tree t = { a, json_array(), json_object(), 0 };
	int rc;

	if ((rc = store_distributor_each(st, a->brand.id, tree_dist, &t)) ==
	    0 && (rc = store_shop_each(st, a->brand.id, tree_shop, &t)) == 0)
		rc = store_seller_each(st, a->brand.id, tree_seller, &t);
	json_decref(t.by_shop);
	api_reply_list(a, "distributors", t.dists, rc);
}

/* ---- bindings ---- */

void
api_bindings_get(struct api_call *a)
{
	struct binding b;
	struct batch batch;
	uint64_t serial;
	char code[512];
	json_t *o;
	int rc;

	if ((rc = api_query_arg(a, "code", code, sizeof code)) < 0)
		return;
	if (rc == 0 || code[0] == '\0') {
		api_fail(a, 422, "invalid", "give ?code= (the code or its URL)");
		return;
	}
	if (api_code_of_brand(a, code, &serial, &batch) != 0)
		return;
	rc = store_binding_of_code(a->app->store, a->brand.id, serial, &b);
	if (rc != 0 && rc != SIGIL_ENOTFOUND) {
		api_store_fail(a, rc, "binding");
		return;
	}
	o = json_pack("{s:I,s:o}", "serial", (json_int_t)serial, "binding",
	    rc == 0 ? seller_binding_json(&b) : json_null());
	if (rc == 0)
		json_object_set_new(o, "inherited", json_boolean(b.serial !=
		    serial));
	api_reply(a, 200, o);
}

struct bind_move {
	struct binding	b, prev;
	uint64_t	seller;
};

static int
move_run(struct store *st, void *arg)
{
	struct bind_move *x = arg;

	return store_binding_move(st, &x->b, &x->prev);
}

static int
move_audit(struct store *st, const void *arg, struct audit_entry *e,
    int after)
{
	const struct bind_move *x = arg;

	(void)st;
	if (!after) {
		audit_target(e, "code", "%llu", (unsigned long long)x->b.serial);
		return 0;
	}
	audit_detail_set(e, json_pack("{s:{s:I,s:i},s:{s:I,s:i}}", "before",
	    "seller", (json_int_t)x->prev.seller, "store",
	    (int)x->prev.shop_id, "after", "seller", (json_int_t)x->b.seller,
	    "store", (int)x->b.shop_id));
	return 1;
}

static const struct writer_op op_binding_move = { "binding_move", move_run,
    move_audit };

static void
moved(struct http_call *c, void *arg, int err)
{
	struct bind_move *x = arg;

	if (err == SIGIL_EDENIED)
		http_reply_error(c, 422, "not_seller", "field 'seller' must be "
		    "a customer assigned to one of the brand's stores");
	else if (err != 0)
		api_write_fail(c, err, "binding");
	else
		http_reply_jsont(c, 200, json_pack("{s:o,s:o}", "binding",
		    x->b.seller ? seller_binding_json(&x->b) : json_null(),
		    "before", x->prev.how ? seller_binding_json(&x->prev) :
		    json_null()));
}

void
api_bindings_move(struct api_call *a)
{
	struct bind_move x;
	struct batch batch;
	json_t *s;
	const char *key;
	json_t *v;
	char code[512];

	memset(&x, 0, sizeof x);
	if (api_body(a) != 0)
		return;
	json_object_foreach(a->body, key, v) {
		if (strcmp(key, "code") != 0 && strcmp(key, "seller") != 0) {
			api_fail(a, 422, "invalid", "expected {\"code\", "
			    "\"seller\": a seller's customer id, or null to "
			    "unbind}");
			return;
		}
	}
	s = json_object_get(a->body, "seller");
	if (s == NULL || (!json_is_null(s) && (!json_is_integer(s) ||
	    json_integer_value(s) < 1))) {
		api_fail(a, 422, "invalid", "field 'seller' must be a seller's "
		    "customer id, or null to unbind");
		return;
	}
	if (api_field_str(a, "code", sizeof code - 1, 1, code, sizeof code) !=
	    0 || api_code_of_brand(a, code, &x.b.serial, &batch) != 0)
		return;
	x.b.brand_id = a->brand.id;
	x.b.seller = json_is_null(s) ? 0 : (uint64_t)json_integer_value(s);
	http_write(a->c, &op_binding_move, &x, sizeof x, moved);
}

/* ---- results: GET channel/results, GET exports/channel.csv ---- */

struct results_job {
	struct http_call	*c;
	struct store		*st;
	uint32_t		 brand_id;
	int			 csv, zh;
	int			 err;
	struct channel_results	 r;
	json_t			*o;
};

static void
results_work(void *arg)
{
	struct results_job *j = arg;
	json_t *rows = json_array(), *shops = json_object();
	json_t *sellers = json_object();
	struct shop s;
	struct distributor d;
	const char *key;
	json_t *v;
	char k[24];

	if ((j->err = seller_results(j->st, j->brand_id, 0, &j->r)) != 0) {
		json_decref(rows);
		json_decref(shops);
		json_decref(sellers);
		return;
	}
	for (size_t i = 0; i < j->r.n; i++) {
		const struct channel_row *w = &j->r.v[i];
		json_t *row, *t;
		int role = w->seller ? seller_staff_role(j->st, j->brand_id,
		    w->seller) : 0;

		if (store_shop_get(j->st, j->brand_id, w->shop_id, &s) != 0) {
			memset(&s, 0, sizeof s);
			s.id = w->shop_id;
		}
		if (store_distributor_name(j->st, j->brand_id, s.distributor,
		    &d) != 0)
			d.name[0] = '\0';
		row = json_pack("{s:i,s:s,s:s,s:i,s:s,s:o,s:s?,s:I,s:I,s:I,"
		    "s:I,s:I,s:I}", "store", (int)w->shop_id, "store_name",
		    s.name, "city", s.city, "distributor", (int)s.distributor,
		    "distributor_name", d.name, "seller", w->seller ?
		    json_integer((json_int_t)w->seller) : json_null(), "role",
		    role ? loyalty_role_name(role) : NULL, "bound",
		    (json_int_t)w->bound, "codes", (json_int_t)w->codes, "scans",
		    (json_int_t)w->scans, "claims", (json_int_t)w->claims,
		    "rebates", (json_int_t)w->rebates, "rebate_points",
		    (json_int_t)w->rebate_points);
		json_array_append(rows, row);
		/* per store and per seller: the sums of their rows */
		snprintf(k, sizeof k, "%u", w->shop_id);
		if ((t = json_object_get(shops, k)) == NULL) {
			t = json_pack("{s:i,s:s,s:i,s:s,s:I,s:I,s:I,s:I,s:I,"
			    "s:I}", "store", (int)w->shop_id, "store_name",
			    s.name, "distributor", (int)s.distributor,
			    "distributor_name", d.name, "bound", 0LL, "codes",
			    0LL, "scans", 0LL, "claims", 0LL, "rebates", 0LL,
			    "rebate_points", 0LL);
			json_object_set_new(shops, k, t);
		}
		for (int pass = 0; pass < 2; pass++) {
			static const char *const f[] = { "bound", "codes",
			    "scans", "claims", "rebates", "rebate_points" };

			if (pass == 1) {
				if (w->seller == 0)
					break;
				snprintf(k, sizeof k, "%llu",
				    (unsigned long long)w->seller);
				if ((t = json_object_get(sellers, k)) == NULL) {
					t = json_deep_copy(row);
					json_object_set_new(sellers, k, t);
					break;
				}
			}
			for (size_t n = 0; n < 6; n++)
				json_object_set_new(t, f[n], json_integer(
				    json_integer_value(json_object_get(t,
				    f[n])) + json_integer_value(
				    json_object_get(row, f[n]))));
		}
		json_decref(row);
	}
	j->o = json_pack("{s:o,s:[],s:[],s:b}", "rows", rows, "stores",
	    "sellers", "truncated", j->r.truncated);
	json_object_foreach(shops, key, v)
		json_array_append(json_object_get(j->o, "stores"), v);
	json_object_foreach(sellers, key, v)
		json_array_append(json_object_get(j->o, "sellers"), v);
	json_decref(shops);
	json_decref(sellers);
}

static const char *const csv_head[2][13] = {
	{ "distributor_id", "distributor", "store_id", "store", "city",
	    "seller_id", "role", "codes_bound", "codes", "scans", "claims",
	    "rebates", "rebate_points" },
	{ "经销商编号", "经销商", "门店编号", "门店", "城市", "导购编号",
	    "身份", "开箱绑定数", "覆盖码数", "扫码次数", "领取次数",
	    "返利笔数", "返利积分" },
};

static void
results_csv(struct http_call *c, json_t *o, int zh)
{
	struct evbuffer *b = evbuffer_new();
	json_t *rows = json_object_get(o, "rows"), *r;
	size_t i;

	if (b == NULL) {
		http_reply_error(c, 503, "unavailable", "out of memory");
		return;
	}
	for (int n = 0; n < 13; n++)
		http_csv_cell(b, csv_head[zh][n], n == 12);
	json_array_foreach(rows, i, r) {
		static const char *const f[] = { "distributor",
		    "distributor_name", "store", "store_name", "city", "seller",
		    "role", "bound", "codes", "scans", "claims", "rebates",
		    "rebate_points" };
		char num[32];

		for (int n = 0; n < 13; n++) {
			json_t *v = json_object_get(r, f[n]);

			if (json_is_integer(v)) {
				snprintf(num, sizeof num, "%lld",
				    (long long)json_integer_value(v));
				http_csv_cell(b, num, n == 12);
			} else
				http_csv_cell(b, json_string_value(v), n == 12);
		}
	}
	http_add_header(c, "Content-Disposition",
	    "attachment; filename=\"channel.csv\"");
	http_add_header(c, "Cache-Control", "no-store");
	http_reply(c, 200, "text/csv; charset=utf-8", b);
	evbuffer_free(b);
}

static void
results_done(void *arg)
{
	struct results_job *j = arg;

	if (j->err != 0 || j->o == NULL)
		api_write_fail(j->c, j->err ? j->err : SIGIL_ENOMEM,
		    "channel results");
	else if (j->csv)
		results_csv(j->c, j->o, j->zh);
	else {
		http_add_header(j->c, "Cache-Control", "no-store");
		http_reply_jsont(j->c, 200, j->o);
		j->o = NULL;
	}
	json_decref(j->o);
	seller_results_free(&j->r);
	free(j);
}

static void
results_start(struct api_call *a, int csv)
{
	struct results_job *j;
	char lang[8] = "";

	if (csv && api_query_arg(a, "lang", lang, sizeof lang) < 0)
		return;
	if (lang[0] != '\0' && strcmp(lang, "en") != 0 &&
	    strcmp(lang, "zh") != 0) {
		api_fail(a, 400, "bad_query", "lang must be en or zh");
		return;
	}
	if ((j = calloc(1, sizeof *j)) == NULL) {
		api_fail(a, 503, "unavailable", "out of memory");
		return;
	}
	j->c = a->c;
	j->st = a->app->store;
	j->brand_id = a->brand.id;
	j->csv = csv;
	j->zh = strcmp(lang, "zh") == 0;
	if (http_job_read(results_work, results_done, j) != 0) {
		free(j);
		http_add_header(a->c, "Retry-After", "2");
		api_fail(a, 503, "busy", "other long reads are running; try "
		    "again in a moment");
	}
}

void
api_channel_results(struct api_call *a)
{
	results_start(a, 0);
}

void
api_exports_channel(struct api_call *a)
{
	results_start(a, 1);
}
