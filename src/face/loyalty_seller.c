/*
 * loyalty_seller.c - a seller's own endpoints, on the consumer side:
 *
 *   POST /api/v1/seller/bind {code}  开箱: bind a case or item this phone
 *                                    scanned to the seller's store
 *   GET /api/v1/me/seller            the seller's store, bound codes and
 *                                    rebates (?code=: that code's binding;
 *                                    ?brief=1: store and code only, for
 *                                    the scan page)
 *
 * The session is the device cookie, as for a claim: the customer the
 * device is logged in as at the code's brand. The full view's counts
 * run on a worker (http_job_read); the brief one is answered at once. A seller is a customer
 * with a staff role and a store (seller.h). The bind is a writer op
 * (seller_bind_op), which checks the role and the store again on the
 * writer thread and writes the binding and its audit entry in one
 * transaction; the first binding of a code wins.
 *
 * The member page (web/member.html) shows these to a seller, and offers
 * the bind when it is opened with ?code= after a scan.
 *
 * Owns these handlers. May call the domain (seller, customer, lookup,
 * rewards for the scan check, member), the store (reads), http,
 * http_write, http_job and http_loyalty.c. Never calls another handler, never
 * writes to the store on the loop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sigil/app.h"
#include "sigil/code.h"
#include "sigil/customer.h"
#include "sigil/http.h"
#include "sigil/http_job.h"
#include "sigil/http_write.h"
#include "sigil/lookup.h"
#include "sigil/loyalty.h"
#include "sigil/loyalty_util.h"
#include "sigil/rewards.h"
#include "sigil/scan.h"
#include "sigil/seller.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "sigil/writer.h"
#include "http_loyalty.h"

#define BOUND_SHOWN	50	/* newest bound codes on the member page */

static json_t *
shop_brief(struct app *app, uint32_t brand_id, uint32_t id)
{
	struct shop s;
	struct distributor d;

	if (store_shop_get(app->store, brand_id, id, &s) != 0)
		return json_null();
	if (store_distributor_name(app->store, brand_id, s.distributor, &d) !=
	    0)
		d.name[0] = '\0';
	return json_pack("{s:i,s:s,s:s,s:s}", "id", (int)s.id, "name", s.name,
	    "city", s.city, "distributor", d.name);
}

/* ---- POST /api/v1/seller/bind ---- */

static void
bound(struct http_call *c, void *arg, int err)
{
	struct seller_bind *x = arg;
	json_t *o;

	if (http_loyalty_busy(c, err))
		return;
	switch (err) {
	case 0:
	case SIGIL_EEXIST:
		if (err != 0 && !x->already) {
			http_reply_error(c, 409, "already_bound", "this code is "
			    "already bound to another seller; the brand can "
			    "move it");
			return;
		}
		o = json_pack("{s:o,s:o,s:b}", "binding",
		    seller_binding_json(&x->out), "store", shop_brief(c->app,
		    x->brand_id, x->out.shop_id), "already", err != 0);
		http_reply_jsont(c, err == 0 ? 201 : 200, o);
		return;
	case SIGIL_EDENIED:
		http_reply_error(c, 403, "not_seller", "only a seller the brand "
		    "assigned to a store can bind codes");
		return;
	case SIGIL_ESTATE:
		http_loyalty_login_required(c);
		return;
	case SIGIL_ENOTFOUND:
		http_reply_error(c, 404, "unknown_code", "this code was not "
		    "issued here");
		return;
	}
	http_reply_error(c, 503, "unavailable", "the binding could not be "
	    "recorded; try again");
}

void
loyalty_seller_bind(struct http_call *c)
{
	struct app *app = c->app;
	struct code_info info;
	struct customer cu;
	struct reward_scan sb;
	struct seller_bind x;
	struct seller s;
	const char *code;
	uint64_t device;
	json_t *body;
	int err;

	if ((body = http_loyalty_body(c)) == NULL)
		return;
	code = json_string_value(json_object_get(body, "code"));
	if (code == NULL || json_object_size(body) != 1) {
		json_decref(body);
		http_reply_error(c, 422, "invalid", "expected {\"code\": the "
		    "scanned code or its URL}");
		return;
	}
	err = strlen(code) > CODE_URL_MAX ? SIGIL_EINVAL :
	    lookup_code(app, code, &info);
	json_decref(body);
	if (err == SIGIL_EINVAL) {
		http_reply_error(c, 422, "bad_code", "not a sigil code or code "
		    "URL");
		return;
	}
	if (err != 0 || info.verdict == VERDICT_COUNTERFEIT) {
		http_reply_error(c, 404, "unknown_code", "this code was not "
		    "issued here");
		return;
	}
	if (info.verdict == VERDICT_REVOKED) {
		http_reply_error(c, 403, "code_not_active", "this code is "
		    "revoked");
		return;
	}
	if (http_loyalty_device(app, c, &device) != 0 ||
	    customer_of_device(app, info.brand.id, device, &cu) != 0) {
		http_loyalty_login_required(c);
		return;
	}
	if (seller_staff_role(app->store, info.brand.id, cu.id) == 0 ||
	    store_seller_get(app->store, info.brand.id, cu.id, &s) != 0) {
		http_reply_error(c, 403, "not_seller", "only a seller the brand "
		    "assigned to a store can bind codes");
		return;
	}
	reward_scanned_by(app, info.brand.id, info.serial, device, &sb);
	if (!sb.found) {
		http_reply_error(c, 403, "scan_first", "scan the code with this "
		    "phone before binding it");
		return;
	}
	memset(&x, 0, sizeof x);
	x.brand_id = info.brand.id;
	x.serial = info.serial;
	x.customer_id = cu.id;
	http_write(c, &seller_bind_op, &x, sizeof x, bound);
}

/* ---- GET /api/v1/me/seller ---- */

struct bound_list {
	json_t	*arr;
	size_t	 n;
};

static int
bound_one(void *arg, const struct binding *b)
{
	struct bound_list *l = arg;

	/* serial order from the store: keep the newest BOUND_SHOWN */
	l->n++;
	json_array_append_new(l->arr, seller_binding_json(b));
	if (json_array_size(l->arr) > BOUND_SHOWN) {
		size_t oldest = 0;
		const char *t0 = NULL;

		for (size_t i = 0; i < json_array_size(l->arr); i++) {
			const char *t = json_string_value(json_object_get(
			    json_array_get(l->arr, i), "at"));

			if (t0 == NULL || (t != NULL && strcmp(t, t0) < 0)) {
				t0 = t;
				oldest = i;
			}
		}
		json_array_remove(l->arr, oldest);
	}
	return 0;
}

/* ?code= on the member page: that code's binding as this seller sees it. */
static json_t *
code_view(struct http_call *c, uint32_t brand_id, uint64_t me)
{
	struct app *app = c->app;
	char code[CODE_URL_MAX + 1];
	struct code_info info;
	struct binding b;
	uint64_t device;
	struct reward_scan sb = { 0 };
	int rc;

	if (http_loyalty_query(c, "code", code, sizeof code) == NULL ||
	    lookup_code(app, code, &info) != 0 || info.brand.id != brand_id)
		return json_null();
	if (http_loyalty_device(app, c, &device) == 0)
		reward_scanned_by(app, brand_id, info.serial, device, &sb);
	rc = store_binding_of_code(app->store, brand_id, info.serial, &b);
	return json_pack("{s:I,s:b,s:s,s:b}", "serial",
	    (json_int_t)info.serial, "scanned", sb.found, "bound", rc != 0 ?
	    "none" : b.seller == me ? "mine" : "other", "can_bind",
	    rc != 0 && sb.found && info.verdict != VERDICT_REVOKED);
}

/*
 * The full view's counts walk every code under the seller's bindings
 * (seller_results): a worker's job (http_job_read), like the brand's
 * channel results; the loop builds the rest and answers.
 */
struct me_job {
	struct http_call	*c;
	struct store		*st;
	uint32_t		 brand_id;
	uint64_t		 seller;
	json_t			*o;	/* {"seller": {...}, "code"} */
	int			 err;
};

static void
me_work(void *arg)
{
	struct me_job *j = arg;
	struct channel_results r;
	struct bound_list l = { NULL, 0 };
	json_t *more;
	int64_t points = 0;
	uint64_t codes = 0, scans = 0, claims = 0, rebates = 0;

	if ((j->err = seller_results(j->st, j->brand_id, j->seller, &r)) != 0)
		return;
	for (size_t i = 0; i < r.n; i++) {
		codes += r.v[i].codes;
		scans += r.v[i].scans;
		claims += r.v[i].claims;
		rebates += r.v[i].rebates;
		points += r.v[i].rebate_points;
	}
	seller_results_free(&r);
	l.arr = json_array();
	j->err = store_seller_codes(j->st, j->brand_id, j->seller, bound_one,
	    &l);
	more = json_pack("{s:I,s:o,s:{s:I,s:I,s:I,s:I,s:I}}", "bound_count",
	    (json_int_t)l.n, "bound", l.arr, "results", "codes",
	    (json_int_t)codes, "scans", (json_int_t)scans, "claims",
	    (json_int_t)claims, "rebates", (json_int_t)rebates,
	    "rebate_points", (json_int_t)points);
	if (more == NULL || json_object_update(json_object_get(j->o,
	    "seller"), more) != 0)
		j->err = SIGIL_ENOMEM;
	json_decref(more);
}

static void
me_done(void *arg)
{
	struct me_job *j = arg;

	if (j->err != 0)
		http_reply_error(j->c, 503, "unavailable", "try again");
	else {
		http_reply_jsont(j->c, 200, j->o);
		j->o = NULL;
	}
	json_decref(j->o);
	free(j);
}

void
loyalty_me_seller(struct http_call *c)
{
	struct app *app = c->app;
	struct customer cu;
	struct brand b;
	struct seller s;
	struct me_job *j;
	json_t *o;
	char brief[4];
	int role, is_brief = http_loyalty_query(c, "brief", brief,
	    sizeof brief) != NULL;

	/* The scan page asks on every view: nobody logged in is no seller
	 * there (a 200, not a 401 in every consumer's console). */
	if (is_brief && http_loyalty_session_of(c, &b, &cu) != 0) {
		http_add_header(c, "Cache-Control", "no-store");
		http_reply_jsont(c, 200, json_pack("{s:n}", "seller"));
		return;
	}
	if (!is_brief && http_loyalty_session(c, &b, &cu) != 0)
		return;
	http_add_header(c, "Cache-Control", "no-store");
	role = seller_staff_role(app->store, b.id, cu.id);
	if (role == 0 || store_seller_get(app->store, b.id, cu.id, &s) != 0) {
		http_reply_jsont(c, 200, json_pack("{s:n}", "seller"));
		return;
	}
	o = json_pack("{s:{s:s,s:o},s:o}", "seller", "role",
	    loyalty_role_name(role), "store", shop_brief(app, b.id, s.shop_id),
	    "code", code_view(c, b.id, cu.id));
	/* the scan page's question: is this a seller, may they bind it */
	if (is_brief) {
		http_reply_jsont(c, 200, o);
		return;
	}
	if ((j = calloc(1, sizeof *j)) == NULL) {
		json_decref(o);
		http_reply_error(c, 503, "unavailable", "out of memory");
		return;
	}
	j->c = c;
	j->st = app->store;
	j->brand_id = b.id;
	j->seller = cu.id;
	j->o = o;
	if (http_job_read(me_work, me_done, j) != 0) {
		json_decref(o);
		free(j);
		http_add_header(c, "Retry-After", "2");
		http_reply_error(c, 503, "busy", "the server is busy; try again "
		    "in a moment");
	}
}
