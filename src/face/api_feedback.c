/*
 * api_feedback.c - GET /api/v1/feedback: the brand's feedback inbox,
 * what consumers rated and wrote after a scan (POST /api/v1/feedback,
 * kept in the activity log as ACTIVITY_FEEDBACK), newest first.
 *
 *   ?limit= (1..1000, 100) ?before= (an id: the previous page's next)
 *   ?rating=1..5 ?sku= ?since= ?until= (dates local in ?tz=, an until
 *   date includes its day, or ISO-8601 instants) ?tz=
 *
 * Each entry names the scan (its check id), the code (its URL, which
 * the dashboard's lookup takes), the product and lot, and the customer
 * when the device had logged in. A customer's erasure cuts the text and
 * the scan out of the entry (store_erase.c): the rating and the time
 * stay, text, scan and url are null. Every role may read it.
 *
 * A handler. May call the store (reads), scan (ids), http_api.c and
 * http; never another handler.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sigil/api.h"
#include "sigil/app.h"
#include "sigil/code.h"
#include "sigil/http.h"
#include "sigil/scan.h"
#include "sigil/store.h"
#include "sigil/util.h"

#define FEEDBACK_PAGE	100

struct fb_query {
	struct api_call	*a;
	int		rating;		/* 0 any */
	char		sku[STORE_NAME_BYTES + 1];	/* "" any */
	int64_t		since, until;	/* [since, until) */
	size_t		want;		/* limit + 1 */
	json_t		*arr;
	uint64_t	last_id;	/* of the limit-th entry */
	int		more;
	/* The last batch and product read: feedback comes in runs. */
	struct batch	b;
	struct product	p;
	int		have_b, have_p;
};

static void
fb_names(struct fb_query *q, uint64_t batch_id)
{
	struct api_call *a = q->a;

	if (q->have_b && q->b.id == batch_id)
		return;
	q->have_b = store_batch_get(a->app->store, batch_id, &q->b) == 0 &&
	    q->b.brand_id == a->brand.id;
	q->have_p = q->have_b && store_product_get(a->app->store,
	    a->brand.id, q->b.sku, &q->p) == 0;
}

static int
fb_one(void *arg, const struct activity *act)
{
	struct fb_query *q = arg;
	struct api_call *a = q->a;
	struct scan_rec r;
	struct customer cu;
	char t[SIGIL_TIME_LEN + 1], check[SCAN_CHECK_LEN + 1];
	char url[CODE_URL_MAX];
	int have_scan, erased = 0;
	json_t *o;

	if (act->at < q->since)
		return 1;	/* newest first: nothing older is wanted */
	if (act->at >= q->until || (q->rating && act->rating != q->rating))
		return 0;
	have_scan = act->ref != 0 && store_scan_get(a->app->store, act->ref,
	    &r) == 0 && r.brand_id == a->brand.id;
	if (have_scan)
		fb_names(q, r.batch_id);
	if (q->sku[0] != '\0' && (!have_scan || !q->have_b ||
	    strcmp(q->b.sku, q->sku) != 0))
		return 0;
	if (json_array_size(q->arr) + 1 == q->want) {
		q->more = 1;
		return 1;
	}
	if (act->customer_id != 0 && store_customer_get(a->app->store,
	    a->brand.id, act->customer_id, &cu) == 0)
		erased = cu.erased != 0;
	o = json_pack("{s:I,s:i,s:s,s:s}", "id", (json_int_t)act->id,
	    "rating", act->rating, "created", sigil_time_format(act->at, t),
	    "text", act->text);
	if (erased)
		json_object_set_new(o, "text", json_null());
	json_object_set_new(o, "customer", act->customer_id ?
	    json_integer((json_int_t)act->customer_id) : json_null());
	if (have_scan) {
		scan_check_format(r.id, check);
		json_object_set_new(o, "scan", json_string(check));
		json_object_set_new(o, "serial",
		    json_integer((json_int_t)r.serial));
	} else {
		json_object_set_new(o, "scan", json_null());
		json_object_set_new(o, "serial", json_null());
	}
	json_object_set_new(o, "url", have_scan && q->have_b &&
	    api_code_url(a, &q->b, r.serial, url, sizeof url) == 0 ?
	    json_string(url) : json_null());
	json_object_set_new(o, "sku", have_scan && q->have_b ?
	    json_string(q->b.sku) : json_null());
	json_object_set_new(o, "product_name", have_scan && q->have_p ?
	    json_string(q->p.name) : json_null());
	json_object_set_new(o, "lot", have_scan && q->have_b ?
	    json_string(q->b.lot) : json_null());
	json_array_append_new(q->arr, o);
	q->last_id = act->id;
	return 0;
}

void
api_feedback_list(struct api_call *a)
{
	struct fb_query *q;
	struct product p;
	uint64_t before, n;
	size_t limit;
	char v[16];
	int tz, got, err;

	if (api_page_back(a, FEEDBACK_PAGE, API_LIST_MAX, &limit,
	    &before) != 0 || api_query_zone(a, &tz) != 0)
		return;
	if ((q = calloc(1, sizeof *q)) == NULL) {
		api_store_fail(a, SIGIL_ENOMEM, "feedback");
		return;
	}
	q->a = a;
	q->since = INT64_MIN;
	q->until = INT64_MAX;
	q->want = limit + 1;
	if ((got = api_query_arg(a, "rating", v, sizeof v)) < 0)
		goto out;
	if (got) {
		if (sigil_parse_u64(v, 5, &n) != 0 || n == 0) {
			api_fail(a, 400, "bad_query", "rating must be 1 to 5");
			goto out;
		}
		q->rating = (int)n;
	}
	if ((got = api_query_arg(a, "sku", q->sku, sizeof q->sku)) < 0)
		goto out;
	if (got && (err = store_product_get(a->app->store, a->brand.id,
	    q->sku, &p)) != 0) {
		if (err == SIGIL_ENOTFOUND)
			api_fail(a, 400, "unknown_sku", "no product with this "
			    "sku");
		else
			api_store_fail(a, err, "product");
		goto out;
	}
	if (api_query_bound(a, "since", tz, 0, &q->since) < 0 ||
	    api_query_bound(a, "until", tz, 1, &q->until) < 0)
		goto out;
	if (q->since >= q->until) {
		api_fail(a, 400, "bad_query", "since must be before until");
		goto out;
	}
	q->arr = json_array();
	err = store_activity_back(a->app->store, a->brand.id, before,
	    ACTIVITY_FEEDBACK, fb_one, q);
	if (err < 0) {
		json_decref(q->arr);
		api_store_fail(a, err, "feedback");
		goto out;
	}
	api_reply(a, 200, json_pack("{s:o,s:o}", "feedback", q->arr, "next",
	    q->more ? json_integer((json_int_t)q->last_id) : json_null()));
out:
	free(q);
}
