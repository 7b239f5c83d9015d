/*
 * api_orders.c - the brand API's redemption orders: the list a brand
 * fulfils from (GET /api/v1/orders, newest first, ?status=open or
 * fulfilled) and the mark that one went out (POST
 * /api/v1/orders/{id}/fulfil). An order is made by the member's
 * redemption (loyalty_member.c), in its transaction; its JSON is
 * member.c's.
 *
 * The list is paged newest first: ?limit= (1..1000, 1000 when absent),
 * ?before= (the previous page's next), ?status=.
 *
 * The list holds delivery names, phones and addresses, which the brand
 * needs to ship: operators and admins only, like the other tasks that
 * act on a customer's goods.
 *
 * A handler. May call the store (reads), member (the JSON), http and
 * http_write; never calls another handler file.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sigil/api.h"
#include "sigil/audit.h"
#include "sigil/app.h"
#include "sigil/http.h"
#include "sigil/http_write.h"
#include "sigil/member.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "sigil/writer.h"

/*
 * The newest limit + 1 orders below before (status filtered) in a ring:
 * the store hands them oldest first.
 */
struct order_list {
	int			 status;	/* -1: any */
	uint64_t		 before;	/* 0: none */
	struct redeem_order	*ring;
	size_t			 cap, n;	/* n: seen in total */
};

static int
order_one(void *arg, const struct redeem_order *o)
{
	struct order_list *l = arg;

	if ((l->status >= 0 && o->status != l->status) ||
	    (l->before && o->id >= l->before))
		return 0;
	l->ring[l->n++ % l->cap] = *o;
	return 0;
}

void
api_orders_list(struct api_call *a)
{
	struct order_list l = { -1, 0, NULL, 0, 0 };
	char status[16];
	size_t limit, shown;
	json_t *arr;
	int got, err;

	if (api_page_back(a, API_LIST_MAX, API_LIST_MAX, &limit,
	    &l.before) != 0 ||
	    (got = api_query_arg(a, "status", status, sizeof status)) < 0)
		return;
	if (got) {
		if (strcmp(status, "open") == 0)
			l.status = ORDER_OPEN;
		else if (strcmp(status, "fulfilled") == 0)
			l.status = ORDER_FULFILLED;
		else {
			api_fail(a, 400, "bad_query", "status must be open or "
			    "fulfilled");
			return;
		}
	}
	l.cap = limit + 1;
	if ((l.ring = calloc(l.cap, sizeof *l.ring)) == NULL) {
		api_store_fail(a, SIGIL_ENOMEM, "orders");
		return;
	}
	err = store_order_each(a->app->store, a->brand.id, order_one, &l);
	if (err < 0) {
		free(l.ring);
		api_store_fail(a, err, "orders");
		return;
	}
	arr = json_array();
	shown = l.n < limit ? l.n : limit;
	/* Newest first: back from the last one put in the ring. */
	for (size_t i = 0; i < shown; i++)
		json_array_append_new(arr, member_order_json(a->app,
		    &l.ring[(l.n - 1 - i) % l.cap], 1));
	api_reply(a, 200, json_pack("{s:o,s:o}", "orders", arr, "next",
	    l.n > limit ? json_integer((json_int_t)l.ring[(l.n - shown) %
	    l.cap].id) : json_null()));
	free(l.ring);
}

struct fulfil_job {
	uint32_t		brand_id;
	uint64_t		id;
	struct redeem_order	o;
	struct app		*app;
};

static int
fulfil_run(struct store *st, void *arg)
{
	struct fulfil_job *x = arg;

	return store_order_fulfil(st, x->brand_id, x->id, sigil_now_us(),
	    &x->o);
}

static int
fulfil_audit(struct store *st, const void *arg, struct audit_entry *e,
    int after)
{
	const struct fulfil_job *x = arg;

	(void)st;
	if (!after)
		audit_target(e, "order", "%llu", (unsigned long long)x->id);
	return 0;
}

static const struct writer_op op_order_fulfil = { "order_fulfil",
    fulfil_run, fulfil_audit };

static void
fulfilled(struct http_call *c, void *arg, int err)
{
	struct fulfil_job *x = arg;

	if (err == SIGIL_ESTATE)
		http_reply_error(c, 409, "already_fulfilled",
		    "this order was fulfilled already");
	else
		api_write_reply(c, err, "order", 200, err == 0 ?
		    member_order_json(x->app, &x->o, 1) : NULL);
}

void
api_orders_fulfil(struct api_call *a)
{
	struct fulfil_job x = { 0 };

	if (api_parse_id(a->seg[1], UINT64_MAX, &x.id) != 0) {
		api_fail(a, 404, "not_found", "no such order");
		return;
	}
	x.brand_id = a->brand.id;
	x.app = a->app;
	http_write(a->c, &op_order_fulfil, &x, sizeof x, fulfilled);
}
