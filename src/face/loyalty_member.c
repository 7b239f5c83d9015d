/*
 * loyalty_member.c - a member's endpoints: GET /api/v1/me and
 * /api/v1/me/ledger, GET /api/v1/catalog, POST /api/v1/redemptions,
 * GET /api/v1/reward?scan= (the reward preview of
 * the scan page) and GET /member (the page that shows all of it).
 *
 * The session is the device cookie: the customer it is logged in as at
 * the brand named by ?brand= or ?code=, or else at the first brand it is
 * logged in to. Balances, tiers and segments are member.c's, the reward
 * preview rewards.c's. A redemption is one store transaction
 * (store_redeem checks the balance and the stock), a writer op
 * (http_write) answered after its commit; feedback is
 * loyalty_feedback.c's. The member page is static HTML read at start-up: it escapes
 * what it shows itself.
 *
 * Owns these handlers. May call the domain (member, rewards, customer,
 * lookup, scan ids), the store (reads), http, http_write and
 * http_loyalty.c. Never calls another handler, never writes to the
 * store on the loop: every write is a writer op.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <jansson.h>

#include "sigil/app.h"
#include "sigil/code.h"
#include "sigil/content.h"
#include "sigil/customer.h"
#include "sigil/http.h"
#include "sigil/http_write.h"
#include "sigil/lookup.h"
#include "sigil/loyalty.h"
#include "sigil/loyalty_core.h"
#include "sigil/loyalty_util.h"
#include "sigil/member.h"
#include "sigil/rewards.h"
#include "sigil/scan.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "sigil/writer.h"
#include "http_loyalty.h"

#define LEDGER_SHOWN		200

/* Sends {"brand": {"name", "display_name"?}, key: o} (o stolen). */
static void
reply_brand(struct http_call *c, const struct brand *b, const char *key,
    json_t *o)
{
	char shown[STORE_TEXT_BYTES + 1];

	http_reply_jsont(c, 200, json_pack("{s:{s:s,s:s?},s:o}", "brand",
	    "name", b->name, "display_name", content_display_name(c->app,
	    b->id, http_header(c, "Accept-Language"), shown, sizeof shown) ==
	    0 ? shown : NULL, key, o));
}

void
loyalty_me(struct http_call *c)
{
	struct customer cu;
	struct brand b;
	json_t *o;

	if (http_loyalty_session(c, &b, &cu) != 0)
		return;
	o = member_summary(c->app, &cu, 1);
	http_add_header(c, "Cache-Control", "no-store");
	reply_brand(c, &b, "customer", o);
}

void
loyalty_me_ledger(struct http_call *c)
{
	struct app *app = c->app;
	struct customer cu;
	struct ledger_buf lb;
	struct brand b;
	json_t *arr;

	if (http_loyalty_session(c, &b, &cu) != 0)
		return;
	if (member_ledger_load(app, b.id, cu.id, &lb) != 0) {
		http_reply_error(c, 503, "unavailable", "try again");
		return;
	}
	arr = json_array();
	for (size_t i = lb.n; i > 0 && lb.n - i < LEDGER_SHOWN; i--)
		json_array_append_new(arr, member_ledger_json(&lb.v[i - 1]));
	http_add_header(c, "Cache-Control", "no-store");
	http_reply_jsont(c, 200, json_pack("{s:I,s:o}", "balance",
	    (json_int_t)member_balance_of(lb.v, lb.n, sigil_now_us()),
	    "entries", arr));
	free(lb.v);
}

struct my_orders {
	struct app	*app;
	uint64_t	 customer_id;
	json_t		*arr;
};

static int
my_order(void *arg, const struct redeem_order *o)
{
	struct my_orders *m = arg;

	/* Oldest first from the store: the newest LEDGER_SHOWN are kept. */
	if (o->customer_id != m->customer_id)
		return 0;
	json_array_insert_new(m->arr, 0, member_order_json(m->app, o, 0));
	if (json_array_size(m->arr) > LEDGER_SHOWN)
		json_array_remove(m->arr, json_array_size(m->arr) - 1);
	return 0;
}

void
loyalty_me_orders(struct http_call *c)
{
	struct customer cu;
	struct brand b;
	struct my_orders m;

	if (http_loyalty_session(c, &b, &cu) != 0)
		return;
	m.app = c->app;
	m.customer_id = cu.id;
	m.arr = json_array();
	store_order_each(m.app->store, b.id, my_order, &m);
	http_add_header(c, "Cache-Control", "no-store");
	reply_brand(c, &b, "orders", m.arr);
}

void
loyalty_catalog(struct http_call *c)
{
	struct app *app = c->app;
	char name[STORE_NAME_BYTES + 1], code[CODE_URL_MAX + 1];
	struct code_info info;
	struct customer cu;
	struct brand b;
	json_t *arr;

	if (http_loyalty_query(c, "code", code, sizeof code) != NULL) {
		if (lookup_code(app, code, &info) != 0) {
			http_reply_error(c, 404, "unknown_code", "no such code");
			return;
		}
		b = info.brand;
	} else if (http_loyalty_query(c, "brand", name, sizeof name) != NULL) {
		if (store_brand_find(app->store, name, &b) != 0) {
			http_reply_error(c, 404, "unknown_brand", "no such brand");
			return;
		}
	} else if (http_loyalty_session_of(c, &b, &cu) != 0) {
		http_reply_error(c, 422, "invalid", "name the brand (?brand=) "
		    "or a code (?code=), or log in");
		return;
	}
	arr = json_array();
	store_item_each(app->store, b.id, member_item_append, arr);
	reply_brand(c, &b, "items", arr);
}

static const struct loyalty_refusal redeem_refusals[] = {
	{ SIGIL_ENOTFOUND, 404, 0, "not_found", "no such item" },
	{ SIGIL_EFULL, 422, 0, "insufficient_points",
	    "not enough points for this item" },
	{ SIGIL_ESTATE, 409, 0, "out_of_stock", "this item is out of stock" },
	{ 0, 503, 0, "unavailable", "try again" },
	{ 0 }
};

/* A redemption: store_redeem's arguments, its order, and its entry. */
struct redeem_job {
	uint32_t		brand_id, item_id;
	uint64_t		customer_id;
	int64_t			now;
	struct ledger_entry	e;
	int			has_order;
	struct redeem_order	order;
};

static int
redeem_run(struct store *st, void *arg)
{
	struct redeem_job *x = arg;

	if (x->has_order)
		return store_redeem_order(st, x->brand_id, x->customer_id,
		    x->item_id, x->now, &x->order, &x->e);
	return store_redeem(st, x->brand_id, x->customer_id, x->item_id,
	    x->now, &x->e);
}

/*
 * The order a redemption body asks for: {"delivery": {"name", "phone",
 * "address"}} or {"pickup": true}, or neither (no order, as before).
 * 0 (*has set when there is one), or -1 after replying 422.
 */
static int
order_parse(struct http_call *c, json_t *body, struct redeem_order *o,
    int *has)
{
	json_t *d = json_object_get(body, "delivery");
	json_t *p = json_object_get(body, "pickup");
	const char *name, *phone, *addr;
	uint64_t r;

	*has = 0;
	memset(o, 0, sizeof *o);
	if (d == NULL && (p == NULL || json_is_false(p)))
		return 0;
	if (d != NULL && p != NULL && !json_is_false(p))
		goto bad;
	if (d == NULL) {
		if (!json_is_true(p) || sigil_random(&r, sizeof r) != 0)
			goto bad;
		o->kind = ORDER_PICKUP;
		snprintf(o->pickup_code, sizeof o->pickup_code, "%08llu",
		    (unsigned long long)(r % 100000000ULL));
		*has = 1;
		return 0;
	}
	name = json_string_value(json_object_get(d, "name"));
	phone = json_string_value(json_object_get(d, "phone"));
	addr = json_string_value(json_object_get(d, "address"));
	if (!json_is_object(d) || json_object_size(d) != 3 || name == NULL ||
	    phone == NULL || addr == NULL || strlen(name) >= sizeof o->name ||
	    strlen(phone) >= sizeof o->phone ||
	    strlen(addr) >= sizeof o->address)
		goto bad;
	o->kind = ORDER_DELIVERY;
	snprintf(o->name, sizeof o->name, "%s", name);
	snprintf(o->phone, sizeof o->phone, "%s", phone);
	snprintf(o->address, sizeof o->address, "%s", addr);
	*has = 1;
	return 0;
bad:
	http_reply_error(c, 422, "invalid", "expected \"delivery\": "
	    "{\"name\": 1-50 characters, \"phone\": 6-20 digits, "
	    "\"address\": 1-200 characters} or \"pickup\": true, not both");
	return -1;
}

static const struct writer_op op_redeem = { "redeem", redeem_run };

static void
redeemed(struct http_call *c, void *arg, int err)
{
	struct redeem_job *x = arg;

	json_t *o;

	if (err == SIGIL_EINVAL) {
		http_reply_error(c, 422, "invalid", "the delivery name, phone "
		    "or address has characters it may not hold");
		return;
	}
	if (http_loyalty_busy(c, err) ||
	    http_loyalty_refuse(c, err, 0, redeem_refusals))
		return;
	o = json_pack("{s:o,s:I}", "redemption", member_ledger_json(&x->e),
	    "balance", (json_int_t)member_balance(c->app, x->brand_id,
	    x->customer_id));
	if (x->has_order)
		json_object_set_new(o, "order", member_order_json(c->app,
		    &x->order, 0));
	http_reply_jsont(c, 201, o);
}

void
loyalty_redeem(struct http_call *c)
{
	struct redeem_job x = { 0 };
	struct customer cu;
	struct brand b;
	json_t *body, *item;

	if (http_loyalty_session(c, &b, &cu) != 0)
		return;
	if ((body = http_loyalty_body(c)) == NULL)
		return;
	item = json_object_get(body, "item");
	if (!loyalty_int_in(item, 1, UINT32_MAX)) {
		json_decref(body);
		http_reply_error(c, 422, "invalid", "expected {\"item\": a "
		    "catalog item id}");
		return;
	}
	if (order_parse(c, body, &x.order, &x.has_order) != 0) {
		json_decref(body);
		return;
	}
	x.brand_id = b.id;
	x.customer_id = cu.id;
	x.item_id = (uint32_t)json_integer_value(item);
	x.now = sigil_now_us();
	json_decref(body);
	http_write(c, &op_redeem, &x, sizeof x, redeemed);
}

void
loyalty_reward(struct http_call *c)
{
	struct app *app = c->app;
	struct scan_rec rec;
	struct batch batch;
	char sid[SCAN_ID_LEN + 1];
	uint64_t id, device = 0;

	if (http_loyalty_query(c, "scan", sid, sizeof sid) == NULL ||
	    scan_id_parse(app->cookie_key, sid, &id) != 0 ||
	    store_scan_get(app->store, id, &rec) != 0 || rec.brand_id == 0 ||
	    store_batch_get(app->store, rec.batch_id, &batch) != 0) {
		http_reply_error(c, 404, "not_found", "no such scan");
		return;
	}
	/* Only the scanning device learns its login state and balance. */
	if (http_loyalty_device(app, c, &device) != 0 || device != rec.device)
		device = 0;
	http_add_header(c, "Cache-Control", "no-store");
	http_reply_jsont(c, 200, json_pack("{s:o}", "reward",
	    loyalty_reward_json(app, rec.brand_id, batch.id, batch.sku,
	    rec.serial, device)));
}

void
loyalty_member_page(struct http_call *c)
{
	struct loyalty *ly = ((struct app *)c->app)->loyalty;
	struct evbuffer *b = evbuffer_new();

	if (b == NULL || evbuffer_add(b, ly->member_html, ly->member_len) !=
	    0) {
		if (b != NULL)
			evbuffer_free(b);
		http_reply_error(c, 503, "unavailable", "out of memory");
		return;
	}
	http_add_header(c, "Cache-Control", "no-store");
	http_add_header(c, "Content-Security-Policy", "default-src 'none'; "
	    "style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
	    "connect-src 'self'; img-src data:; base-uri 'none'; "
	    "form-action 'self'; frame-ancestors 'none'");
	http_reply(c, 200, "text/html; charset=utf-8", b);
	evbuffer_free(b);
}
