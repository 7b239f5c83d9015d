/*
 * api_catalog.c - the brand API's catalog: products (a SKU, a name, a
 * GTIN, how many scanners a genuine item may have) and batches (a run of
 * serials signed with the brand's current key, inactive until
 * activated, revocable). Their print files are api_print.c's.
 *
 * Brand isolation is structural: every lookup takes the brand from the
 * caller, and another brand's batch is reported exactly like a missing
 * one (404). Activating or revoking a batch records a commissioning or
 * decommissioning trace event, in the same writer op as the state.
 *
 * A handler: route_api.c calls it after authentication and the role
 * check. May call http_api.c (the brand API's toolkit), code, keyring,
 * store (reads), http and http_write; never calls another handler file.
 * Never writes to the store on the loop: every write is a writer op
 * (product_add, batch_new, batch_state), answered after the commit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <jansson.h>
#include <openssl/crypto.h>

#include "sigil/api.h"
#include "sigil/audit.h"
#include "sigil/app.h"
#include "sigil/code.h"
#include "sigil/http.h"
#include "sigil/http_write.h"
#include "sigil/keyring.h"
#include "sigil/log.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "sigil/writer.h"

/* ---- products ---- */

static int
product_audit(struct store *st, const void *arg, struct audit_entry *e,
    int after)
{
	const struct product *p = arg;

	(void)st;
	if (after)
		return 0;
	audit_target(e, "product", "%s", p->sku);
	audit_detail_set(e, json_pack("{s:s,s:s?,s:i,s:b}", "name", p->name,
	    "gtin", p->gtin[0] ? p->gtin : NULL, "max_scanners",
	    (int)p->max_scanners, "gs1", p->gs1_form));
	return 0;
}

WRITER_OP_STORE_AUDIT(op_product_add, "product_add", store_product_add,
    product_audit);

static void
product_added(struct http_call *c, void *arg, int err)
{
	api_write_reply(c, err, "product (sku or gtin)", 201,
	    api_product_json(arg));
}

void
api_products_create(struct api_call *a)
{
	struct product p = { 0 };
	char gtin[20];
	uint64_t max = 5;
	json_t *gs1;

	if (api_body(a) != 0 || api_field_str(a, "sku", STORE_NAME_MAX, 1,
	    p.sku, sizeof p.sku) != 0 || api_field_str(a, "name",
	    STORE_TEXT_MAX, 1, p.name, sizeof p.name) != 0 ||
	    api_field_str(a, "gtin", 14, 0, gtin, sizeof gtin) != 0 ||
	    api_field_uint(a, "max_scanners", 1, STORE_SCANNERS_MAX - 1, 0,
	    &max) != 0)
		return;
	if (gtin[0] != '\0') {
		size_t n = strlen(gtin);

		if ((n != 8 && n != 12 && n != 13 && n != 14) ||
		    strspn(gtin, "0123456789") != n) {
			api_fail(a, 422, "invalid",
			    "gtin must be 8, 12, 13 or 14 "
			    "digits");
			return;
		}
		memset(p.gtin, '0', 14 - n);
		memcpy(p.gtin + 14 - n, gtin, n + 1);
		if (!code_gtin_valid(p.gtin)) {
			api_fail(a, 422, "invalid",
			    "gtin check digit is wrong");
			return;
		}
	}
	gs1 = json_object_get(a->body, "gs1");
	if (gs1 != NULL && !json_is_boolean(gs1)) {
		api_fail(a, 422, "invalid",
		    "field 'gs1' must be true or false");
		return;
	}
	p.gs1_form = gs1 != NULL && json_is_true(gs1);
	if (p.gs1_form && p.gtin[0] == '\0') {
		api_fail(a, 422, "invalid",
		    "GS1 Digital Link codes need a gtin");
		return;
	}
	p.brand_id = a->brand.id;
	p.max_scanners = (uint32_t)max;
	http_write(a->c, &op_product_add, &p, sizeof p, product_added);
}

void
api_products_get(struct api_call *a)
{
	struct product p;
	int err;

	if ((err = store_product_get(a->app->store, a->brand.id, a->seg[1],
	    &p)) != 0) {
		api_store_fail(a, err, "product");
		return;
	}
	api_reply(a, 200, api_product_json(&p));
}

/* ---- batches ---- */

static int
batch_of_brand(struct api_call *a, const char *id, struct batch *b)
{
	uint64_t n;

	if (api_parse_id(id, UINT32_MAX, &n) != 0 ||
	    store_batch_get(a->app->store, n, b) != 0 ||
	    b->brand_id != a->brand.id) {
		api_fail(a, 404, "not_found", "batch not found");
		return -1;
	}
	return 0;
}

static int
batch_new_audit(struct store *st, const void *arg, struct audit_entry *e,
    int after)
{
	const struct batch *b = arg;

	(void)st;
	if (!after) {
		audit_detail_set(e, json_pack("{s:s,s:I,s:s?}", "sku", b->sku,
		    "count", (json_int_t)b->count, "lot", b->lot[0] ? b->lot :
		    NULL));
		return 0;
	}
	audit_target(e, "batch", "%llu", (unsigned long long)b->id);
	return 1;
}

WRITER_OP_STORE_AUDIT(op_batch_new, "batch_new", store_batch_new,
    batch_new_audit);

static void
batch_made(struct http_call *c, void *arg, int err)
{
	api_write_reply(c, err, "batch", 201, api_batch_json(arg));
}

void
api_batches_create(struct api_call *a)
{
	struct batch b = { 0 };
	struct product p;
	struct key_meta key;
	char expires[32];
	uint64_t count;
	int err;

	if (api_body(a) != 0 || api_field_str(a, "sku", STORE_NAME_MAX, 1,
	    b.sku, sizeof b.sku) != 0 ||
	    api_field_uint(a, "count", 1, CODE_SERIAL_MAX, 1, &count) != 0 ||
	    api_field_str(a, "lot", STORE_LOT_MAX, 0, b.lot, sizeof b.lot) ||
	    api_field_str(a, "expires", 24, 0, expires, sizeof expires) != 0)
		return;
	if (strspn(b.lot, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-._") != strlen(b.lot)) {
		api_fail(a, 422, "invalid",
		    "lot may hold letters, digits and - . _");
		return;
	}
	if (expires[0] != '\0' && sigil_time_parse(expires, &b.expires) != 0) {
		api_fail(a, 422, "invalid",
		    "expires must be a date YYYY-MM-DD");
		return;
	}
	if (store_product_get(a->app->store, a->brand.id, b.sku, &p) != 0) {
		api_fail(a, 404, "not_found", "product not found");
		return;
	}
	if ((err = store_key_current(a->app->store, a->brand.id, &key)) != 0) {
		api_fail(a, 409, "no_key", "the brand has no valid key");
		return;
	}
	b.brand_id = a->brand.id;
	b.key_id = key.id;
	b.count = count;
	http_write(a->c, &op_batch_new, &b, sizeof b, batch_made);
}

/* A page of batches: limit rows, then one more sets more. */
struct batch_page {
	json_t		*arr;
	size_t		 limit;
	int		 more;
	uint64_t	 last;
	char		 sku[STORE_NAME_BYTES + 2];	/* "" any */
};

static int
batch_list_one(void *arg, const struct batch *b)
{
	struct batch_page *pg = arg;

	if (pg->sku[0] != '\0' && strcmp(pg->sku, b->sku) != 0)
		return 0;
	if (json_array_size(pg->arr) == pg->limit) {
		pg->more = 1;
		return 1;
	}
	json_array_append_new(pg->arr, api_batch_json(b));
	pg->last = b->id;
	return 0;
}

/*
 * Oldest first (?after=), or newest first (?before=, or ?order=newest
 * for the first page), ?sku= one product's only; "next" is the cursor
 * of the next page.
 */
void
api_batches_list(struct api_call *a)
{
	struct batch_page pg = { 0 };
	uint64_t after, before;
	char order[16];
	int newest = 0, err;

	if (api_query_limit(a, API_LIST_MAX, &pg.limit) != 0 ||
	    api_query_id(a, "after", UINT64_MAX, &after) != 0 ||
	    api_query_id(a, "before", UINT64_MAX, &before) != 0)
		return;
	if (http_query(a->c, "order", order, sizeof order) != NULL) {
		if (strcmp(order, "newest") == 0)
			newest = 1;
		else if (strcmp(order, "oldest") != 0) {
			api_fail(a, 422, "invalid",
			    "order must be newest or oldest");
			return;
		}
	}
	if ((after != 0 && (before != 0 || newest)) ||
	    (before != 0 && http_query(a->c, "order", order, sizeof order) &&
	    !newest)) {
		api_fail(a, 422, "invalid", "after pages oldest first, before "
		    "newest first: give one of them");
		return;
	}
	if (api_query(a, "sku", pg.sku, sizeof pg.sku) == NULL) {
		if (api_query_present(a, "sku")) {
			api_fail(a, 422, "invalid", "sku must be a SKU");
			return;
		}
		pg.sku[0] = '\0';
	} else if (strlen(pg.sku) > STORE_NAME_BYTES || pg.sku[0] == '\0') {
		api_fail(a, 422, "invalid", "sku must be a SKU");
		return;
	}
	if (before != 0)
		newest = 1;
	pg.arr = json_array();
	err = store_batch_page(a->app->store, a->brand.id, newest ? before :
	    after, newest, batch_list_one, &pg);
	if (err < 0) {
		json_decref(pg.arr);
		api_store_fail(a, err, "batches");
		return;
	}
	api_reply(a, 200, json_pack("{s:o,s:o}", "batches", pg.arr, "next",
	    pg.more ? json_integer((json_int_t)pg.last) : json_null()));
}

void
api_batches_get(struct api_call *a)
{
	struct batch b;

	if (batch_of_brand(a, a->seg[1], &b) == 0)
		api_reply(a, 200, api_batch_json(&b));
}

/*
 * A batch's new state and its trace event, in this order, then the batch
 * as it is now. The event is best effort, as it always was: its error is
 * logged (on the loop), the state change still answers 200.
 */
struct batch_state_job {
	struct batch	b;		/* in: id, brand_id; out: re-read */
	int		state;
	int		event_err;
};

static int
state_run(struct store *st, void *arg)
{
	struct batch_state_job *x = arg;
	struct trace_event ev = { 0 };
	int err;

	if ((err = store_batch_set_state(st, x->b.id, x->state)) != 0)
		return err;
	ev.type = x->state == BATCH_ACTIVE ? EVENT_COMMISSION :
	    EVENT_DECOMMISSION;
	ev.brand_id = x->b.brand_id;
	ev.at = sigil_now_us();
	ev.batch_id = x->b.id;
	x->event_err = store_event_add(st, &ev);
	store_batch_get(st, x->b.id, &x->b);
	return 0;
}

static const char *
state_word(int state)
{
	return state == BATCH_ACTIVE ? "active" : state == BATCH_REVOKED ?
	    "revoked" : "inactive";
}

/* batch_activate or batch_revoke, with the state before and after. */
static int
state_audit(struct store *st, const void *arg, struct audit_entry *e,
    int after)
{
	const struct batch_state_job *x = arg;
	struct batch b;

	if (after)
		return 0;
	audit_action(e, x->state == BATCH_ACTIVE ? "batch_activate" :
	    "batch_revoke");
	audit_target(e, "batch", "%llu", (unsigned long long)x->b.id);
	if (store_batch_get(st, x->b.id, &b) == 0)
		audit_detail_set(e, json_pack("{s:{s:s,s:s},s:s}", "state",
		    "before", state_word(b.state), "after",
		    state_word(x->state), "sku", b.sku));
	return 0;
}

static const struct writer_op op_batch_state = { "batch_state", state_run,
    state_audit };

static void
batch_changed(struct http_call *c, void *arg, int err)
{
	struct batch_state_job *x = arg;

	if (err != 0) {
		api_write_fail(c, err, "batch");
		return;
	}
	if (x->event_err != 0)
		log_error("api", "event=commission batch=%llu err=\"%s\"",
		    (unsigned long long)x->b.id, sigil_strerror(x->event_err));
	http_reply_jsont(c, 200, api_batch_json(&x->b));
}

static void
batch_change(struct api_call *a, int state)
{
	struct batch_state_job x = { .state = state };

	if (batch_of_brand(a, a->seg[1], &x.b) != 0)
		return;
	http_write(a->c, &op_batch_state, &x, sizeof x, batch_changed);
}

void
api_batches_activate(struct api_call *a)
{
	batch_change(a, BATCH_ACTIVE);
}

void
api_batches_revoke(struct api_call *a)
{
	batch_change(a, BATCH_REVOKED);
}
