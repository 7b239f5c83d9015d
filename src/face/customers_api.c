/*
 * customers_api.c - the brand API's customer list with its filters and
 * the customer counts: GET /api/v1/customers[?tier=&segment=&role=
 * &gender=&city=&tag=&birth_month=&marketing=] and
 * GET /api/v1/customers/summary (route_api.c's table; loyalty_api.c
 * keeps the phone search and the rest of /customers).
 *
 * A filter is judged per customer (member_classify: the ledger read
 * once), so a page of a filter that matches little could read every
 * customer of the brand. One request looks at most at WALK_BUDGET
 * customers, then answers the page it has (short, even empty) with the
 * `next` cursor to go on from: the loop is never held for long, and no
 * customer is skipped. Erased customers have no segment, tier or role
 * any more: a filtered list leaves them out, as the summary's counts do.
 *
 * The summary counts every customer: about a millisecond per thousand,
 * 20 ms at 20,000, too long for the event loop. The count runs on a
 * worker (http_job_read); it gets the store (its own read transaction),
 * the brand and a copy of the settings, and nothing else of the loop's;
 * it only calls member_classify, which reads the store and does
 * arithmetic (no keyring, no cache). The reply is sent from done(), on
 * the loop. When the workers are all taken: 503 busy.
 *
 * A handler file: may call member (domain), the store (reads), http,
 * http_api.c, http_job and http_loyalty.c; never writes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sigil/api.h"
#include "sigil/app.h"
#include "sigil/customer.h"
#include "sigil/http.h"
#include "sigil/http_job.h"
#include "sigil/loyalty_util.h"
#include "sigil/member.h"
#include "sigil/profile.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "http_loyalty.h"

/* Customers one filtered request looks at (about 1 ms of ledgers). */
#define WALK_BUDGET	1000

static const char *const segments[] = { "champions", "loyal", "new",
	"promising", "at_risk", "hibernating" };
#define NSEGMENTS	(sizeof segments / sizeof segments[0])

static void
fail(struct http_call *c, int status, const char *code, const char *msg)
{
	http_reply_error(c, status, code, msg);
}

/* ---- the list ---- */

struct cust_page {
	struct app	*app;
	json_t		*arr, *settings;
	size_t		limit, seen;
	uint64_t	last;
	int64_t		now;
	int		filtered, full, err;
	const char	*tier, *segment, *role;
	uint32_t	brand_id;
	struct profile_filter pf;	/* profile.c: the profile, consent */
};

static int
page_one(void *arg, const struct customer *cu)
{
	struct cust_page *p = arg;
	struct member_class mc;

	p->last = cu->id;
	/* a merged customer is listed as the one it was merged into */
	if (cu->merged_into != 0)
		return 0;
	if (p->filtered) {
		if (++p->seen > WALK_BUDGET)
			return 1;
		if (cu->erased)
			return 0;
		if (profile_filter_set(&p->pf)) {
			int m = profile_match(p->app, p->brand_id, cu->id,
			    &p->pf);

			if (m < 0) {
				p->err = m;
				return 1;
			}
			if (m == 0)
				return p->seen == WALK_BUDGET;
		}
		if ((p->err = member_classify(p->app->store, p->settings, cu,
		    p->now, &mc)) != 0)
			return 1;
		if ((p->segment && strcmp(p->segment, mc.segment) != 0) ||
		    (p->role && strcmp(p->role, mc.role) != 0) ||
		    (p->tier && strcmp(p->tier, mc.tier) != 0))
			return p->seen == WALK_BUDGET;
	}
	json_array_append_new(p->arr, member_summary(p->app, cu, 0));
	if (json_array_size(p->arr) >= p->limit)
		p->full = 1;
	return p->full || (p->filtered && p->seen == WALK_BUDGET);
}

/*
 * ?gender= (female, male, other), ?city=, ?tag= (1..255 bytes of
 * UTF-8, matched exactly), ?birth_month= (1..12), ?marketing= (granted
 * or none): the profile's and the consent's filters. 0, or -1 after
 * replying 422.
 */
static int
profile_filters(struct api_call *a, struct profile_filter *f, char *gender,
    char *city, char *tag)
{
	char raw[4096];
	uint64_t m;

	memset(f, 0, sizeof *f);
	if (http_query(a->c, "gender", gender, 16) != NULL) {
		if (strcmp(gender, "female") != 0 && strcmp(gender, "male") !=
		    0 && strcmp(gender, "other") != 0) {
			fail(a->c, 422, "invalid", "gender is one of female, "
			    "male, other");
			return -1;
		}
		f->gender = gender;
	}
	if (http_query(a->c, "city", raw, sizeof raw) != NULL ||
	    http_query(a->c, "tag", raw, sizeof raw) != NULL) {
		if (http_query(a->c, "city", raw, sizeof raw) != NULL) {
			if (http_loyalty_query(a->c, "city", city, 256) ==
			    NULL || city[0] == '\0') {
				fail(a->c, 422, "invalid", "city is a city's "
				    "name (UTF-8, 1..255 bytes)");
				return -1;
			}
			f->city = city;
		}
		if (http_query(a->c, "tag", raw, sizeof raw) != NULL) {
			if (http_loyalty_query(a->c, "tag", tag, 256) ==
			    NULL || tag[0] == '\0') {
				fail(a->c, 422, "invalid", "tag is a tag (UTF-8, "
				    "1..255 bytes)");
				return -1;
			}
			f->tag = tag;
		}
	}
	if (http_query(a->c, "birth_month", raw, sizeof raw) != NULL) {
		if (sigil_parse_u64(raw, 12, &m) != 0 || m == 0) {
			fail(a->c, 422, "invalid", "birth_month is 1..12");
			return -1;
		}
		f->birth_month = (int)m;
	}
	if (http_query(a->c, "marketing", raw, sizeof raw) != NULL) {
		if (strcmp(raw, "granted") == 0)
			f->marketing = 1;
		else if (strcmp(raw, "none") == 0)
			f->marketing = -1;
		else {
			fail(a->c, 422, "invalid", "marketing is granted or "
			    "none");
			return -1;
		}
	}
	return 0;
}

static const char *
segment_known(const char *s)
{
	for (size_t i = 0; i < NSEGMENTS; i++)
		if (strcmp(s, segments[i]) == 0)
			return segments[i];
	return NULL;
}

void
customers_api_list(struct api_call *a)
{
	struct cust_page p;
	char q[64], raw[4096], tier[256], gender[16], city[256], tag[256];
	uint64_t after = 0, limit = 100;
	int stopped;
	json_t *o;

	memset(&p, 0, sizeof p);
	if ((http_loyalty_query(a->c, "after", q, sizeof q) != NULL &&
	    sigil_parse_u64(q, UINT64_MAX, &after) != 0) ||
	    (http_loyalty_query(a->c, "limit", q, sizeof q) != NULL &&
	    (sigil_parse_u64(q, LOYALTY_LIST_MAX, &limit) != 0 ||
	    limit == 0))) {
		fail(a->c, 422, "invalid", "after is a customer id, limit "
		    "1..1000");
		return;
	}
	if (http_query(a->c, "tier", raw, sizeof raw) != NULL) {
		if (http_loyalty_query(a->c, "tier", tier, sizeof tier) ==
		    NULL || tier[0] == '\0') {
			fail(a->c, 422, "invalid", "tier is a tier's name "
			    "(UTF-8, 1..255 bytes)");
			return;
		}
		p.tier = tier;
	}
	if (http_query(a->c, "segment", raw, sizeof raw) != NULL) {
		if ((p.segment = segment_known(raw)) == NULL) {
			fail(a->c, 422, "invalid", "segment is one of champions, "
			    "loyal, new, promising, at_risk, hibernating");
			return;
		}
	}
	if (http_query(a->c, "role", raw, sizeof raw) != NULL) {
		if ((p.role = loyalty_role_name(loyalty_role_parse(raw))) ==
		    NULL) {
			fail(a->c, 422, "invalid", "role is one of consumer, "
			    "retailer, sales");
			return;
		}
	}
	if (profile_filters(a, &p.pf, gender, city, tag) != 0)
		return;
	p.app = a->app;
	p.brand_id = a->brand.id;
	p.arr = json_array();
	p.limit = (size_t)limit;
	p.filtered = p.tier || p.segment || p.role || profile_filter_set(&p.pf);
	p.now = sigil_now_us();
	if (p.filtered)
		p.settings = member_settings(a->app, a->brand.id);
	stopped = store_customer_each(a->app->store, a->brand.id, after,
	    page_one, &p);
	json_decref(p.settings);
	if (stopped < 0 || p.err != 0) {
		json_decref(p.arr);
		fail(a->c, 503, "unavailable", "storage error; try again");
		return;
	}
	o = json_pack("{s:o}", "customers", p.arr);
	/* More may follow when the walk stopped early: a full page, or the
	 * budget spent (then after the last customer looked at). */
	json_object_set_new(o, "next", stopped > 0 ? json_integer(
	    (json_int_t)p.last) : json_null());
	http_reply_jsont(a->c, 200, o);
}

/* ---- the summary, on a worker ---- */

struct sum_job {
	struct http_call *c;
	struct store	*st;
	uint32_t	brand_id;
	int64_t		now;
	json_t		*settings;	/* the job's own copy */
	json_t		*o;
	int		err;
};

static void
count_in(json_t *o, const char *group, const char *key)
{
	json_t *g = json_object_get(o, group);

	json_object_set_new(g, key, json_integer(json_integer_value(
	    json_object_get(g, key)) + 1));
}

static void
count_add(json_t *o, const char *key)
{
	json_object_set_new(o, key, json_integer(json_integer_value(
	    json_object_get(o, key)) + 1));
}

static int
sum_one(void *arg, const struct customer *cu)
{
	struct sum_job *j = arg;
	struct member_class mc;

	if (cu->merged_into != 0) {
		count_add(j->o, "merged");
		return 0;
	}
	count_add(j->o, "total");
	if (cu->erased) {
		count_add(j->o, "erased");
		return 0;
	}
	if ((j->err = member_classify(j->st, j->settings, cu, j->now,
	    &mc)) != 0)
		return 1;
	count_in(j->o, "segments", mc.segment);
	count_in(j->o, "tiers", mc.tier);
	count_in(j->o, "roles", mc.role);
	return 0;
}

/* On the worker: nothing of the loop's is touched. */
static void
sum_work(void *arg)
{
	struct sum_job *j = arg;

	if (store_customer_each(j->st, j->brand_id, 0, sum_one, j) < 0 &&
	    j->err == 0)
		j->err = SIGIL_EIO;
}

/* On the loop. */
static void
sum_done(void *arg)
{
	struct sum_job *j = arg;

	if (j->err != 0)
		fail(j->c, 503, "unavailable", "storage error; try again");
	else {
		http_reply_jsont(j->c, 200, j->o);
		j->o = NULL;
	}
	json_decref(j->o);
	json_decref(j->settings);
	free(j);
}

void
customers_api_summary(struct api_call *a)
{
	struct sum_job *j = calloc(1, sizeof *j);
	json_t *tiers, *def = NULL, *t;
	size_t i;

	if (j == NULL) {
		fail(a->c, 503, "unavailable", "out of memory");
		return;
	}
	j->c = a->c;
	j->st = a->app->store;
	j->brand_id = a->brand.id;
	j->now = sigil_now_us();
	j->settings = member_settings(a->app, a->brand.id);
	j->o = json_pack("{s:i,s:i,s:i,s:{},s:{},s:{}}", "total", 0, "erased",
	    0, "merged", 0,
	    "segments", "tiers", "roles");
	/* Every segment and tier appears, with 0 when nobody is in it. */
	for (i = 0; i < NSEGMENTS; i++)
		json_object_set_new(json_object_get(j->o, "segments"),
		    segments[i], json_integer(0));
	tiers = json_object_get(j->settings, "tiers");
	if (!json_is_array(tiers))
		tiers = def = member_tiers_default();
	json_array_foreach(tiers, i, t)
		if (json_is_string(json_object_get(t, "name")))
			json_object_set_new(json_object_get(j->o, "tiers"),
			    json_string_value(json_object_get(t, "name")),
			    json_integer(0));
	json_decref(def);
	if (http_job_read(sum_work, sum_done, j) != 0) {
		json_decref(j->o);
		json_decref(j->settings);
		free(j);
		http_add_header(a->c, "Retry-After", "2");
		fail(a->c, 503, "busy", "customers are being counted for other "
		    "requests; try again in a moment");
	}
}
