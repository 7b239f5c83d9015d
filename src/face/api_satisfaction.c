/*
 * api_satisfaction.c - GET /api/v1/stats/satisfaction: how satisfied the
 * brand's consumers are, from their ratings (POST /api/v1/feedback).
 *
 *   ?sku= ?batch= (id) narrow it to a product or a batch;
 *   ?interval= day (default) | week (weeks start on Monday);
 *   ?since= ?until= (dates local in ?tz=, or instants; default the last
 *   90 days), ?tz= minutes or hours east of UTC.
 *
 * Answers the count, the average rating, the distribution, the NPS-style
 * score (the share of 5s minus the share of 1s to 3s, in percent: a 5
 * is a promoter, a 4 passive, 1 to 3 detractors, as the Net Promoter
 * Score's 10/9 against 0..6 maps onto five stars), the same per day or
 * week (every bucket of the range, empty ones with count 0 and average
 * null), per product and per batch, and the fake reports of the range.
 *
 * A rating's product is the one its row keeps (the batch of the scan
 * when it was given, which an erasure does not cut); an entry from
 * before issue 21 has its scan's. The walk reads the feedback newest
 * first and stops at since: the cost is the range's feedback.
 *
 * A handler. May call the store (reads), http_api.c and http; never
 * another handler.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sigil/api.h"
#include "sigil/app.h"
#include "sigil/store.h"
#include "sigil/util.h"

#define SAT_DEFAULT_DAYS	90
#define SAT_BUCKETS_MAX		800	/* days (about two years) */
#define SAT_GROUPS_MAX		500	/* products, batches shown */
#define DAY_S			86400

struct tally {
	uint64_t	n[6];		/* [1..5] */
};

struct group {
	char		sku[STORE_NAME_BYTES + 1];
	uint64_t	batch;
	struct tally	t;
};

struct sat {
	struct api_call	*a;
	char		sku[STORE_NAME_BYTES + 1];
	uint64_t	batch;
	int		week, tz;
	int64_t		since, until;
	int64_t		first_bucket;	/* day index */
	size_t		nbuckets;
	struct tally	all, *buckets;
	struct group	*skus, *batches;
	size_t		nskus, nbatches;
	uint64_t	fakes;
	/* the last scan's batch, for entries from before issue 21 */
	struct batch	b;
	int		have_b;
};

static uint64_t
tally_count(const struct tally *t)
{
	return t->n[1] + t->n[2] + t->n[3] + t->n[4] + t->n[5];
}

/* {count, average, nps, ...} of t into o. */
static json_t *
tally_json(const struct tally *t, json_t *o)
{
	uint64_t n = tally_count(t), sum = 0;

	for (int i = 1; i <= 5; i++)
		sum += (uint64_t)i * t->n[i];
	json_object_set_new(o, "count", json_integer((json_int_t)n));
	json_object_set_new(o, "average", n ? json_real((double)(sum * 100 /
	    n + (sum * 100 % n * 2 >= n)) / 100) : json_null());
	json_object_set_new(o, "nps", n ? json_real((double)(((int64_t)
	    t->n[5] - (int64_t)(t->n[1] + t->n[2] + t->n[3])) * 1000 /
	    (int64_t)n) / 10) : json_null());
	return o;
}

/* The local day index of the instant at (us) in zone tz (minutes). */
static int64_t
day_of(int64_t at, int tz)
{
	int64_t x = at / 1000000 + (int64_t)tz * 60;

	return x >= 0 ? x / DAY_S : -((-x + DAY_S - 1) / DAY_S);
}

/* The bucket start (a day index) of day d: itself, or its Monday. */
static int64_t
bucket_of(const struct sat *s, int64_t d)
{
	/* 1970-01-01 was a Thursday: day 0 + 4 is a Monday's index 0. */
	return s->week ? d - (((d + 3) % 7) + 7) % 7 : d;
}

static struct group *
group_find(struct group **v, size_t *n, const char *sku, uint64_t batch)
{
	for (size_t i = 0; i < *n; i++)
		if ((*v)[i].batch == batch && strcmp((*v)[i].sku, sku) == 0)
			return &(*v)[i];
	if (*n == SAT_GROUPS_MAX)
		return NULL;
	memset(&(*v)[*n], 0, sizeof **v);
	snprintf((*v)[*n].sku, sizeof (*v)[*n].sku, "%s", sku);
	(*v)[*n].batch = batch;
	return &(*v)[(*n)++];
}

static int
sat_one(void *arg, const struct feedback *f)
{
	struct sat *s = arg;
	const char *sku = f->sku;
	uint64_t batch = f->batch_id;
	struct scan_rec r;
	struct group *g;
	int64_t bk;

	if (f->at < s->since)
		return 1;
	if (f->at >= s->until)
		return 0;
	if (f->legacy) {
		/* Before issue 21: the product of the scan, if still known. */
		sku = "";
		batch = 0;
		if (f->scan_id != 0 && store_scan_get(s->a->app->store,
		    f->scan_id, &r) == 0 && r.brand_id == s->a->brand.id) {
			if (!s->have_b || s->b.id != r.batch_id)
				s->have_b = store_batch_get(s->a->app->store,
				    r.batch_id, &s->b) == 0;
			if (s->have_b) {
				sku = s->b.sku;
				batch = s->b.id;
			}
		}
	}
	if ((s->sku[0] != '\0' && strcmp(sku, s->sku) != 0) ||
	    (s->batch != 0 && batch != s->batch))
		return 0;
	if (f->kind == FEEDBACK_FAKE) {
		s->fakes++;
		return 0;
	}
	if (f->rating < 1 || f->rating > 5)
		return 0;
	s->all.n[f->rating]++;
	bk = (bucket_of(s, day_of(f->at, s->tz)) - s->first_bucket) /
	    (s->week ? 7 : 1);
	if (bk >= 0 && (size_t)bk < s->nbuckets)
		s->buckets[bk].n[f->rating]++;
	if (sku[0] != '\0' && (g = group_find(&s->skus, &s->nskus, sku, 0)) !=
	    NULL)
		g->t.n[f->rating]++;
	if (batch != 0 && (g = group_find(&s->batches, &s->nbatches, sku,
	    batch)) != NULL)
		g->t.n[f->rating]++;
	return 0;
}

static json_t *
groups_json(struct sat *s, const struct group *v, size_t n, int batches)
{
	json_t *arr = json_array();
	struct product p;
	struct batch b;

	for (size_t i = 0; i < n; i++) {
		json_t *o = json_pack("{s:s}", "sku", v[i].sku);

		if (batches) {
			json_object_set_new(o, "batch",
			    json_integer((json_int_t)v[i].batch));
			json_object_set_new(o, "lot", store_batch_get(
			    s->a->app->store, v[i].batch, &b) == 0 ?
			    json_string(b.lot) : json_null());
		} else {
			json_object_set_new(o, "product_name",
			    store_product_get(s->a->app->store, s->a->brand.id,
			    v[i].sku, &p) == 0 ? json_string(p.name) :
			    json_null());
		}
		json_array_append_new(arr, tally_json(&v[i].t, o));
	}
	return arr;
}

/* The query into s: 0, or -1 after replying 400. */
static int
sat_query(struct api_call *a, struct sat *s)
{
	struct product p;
	struct batch b;
	char v[24];
	int got, err;
	int64_t now = sigil_now_us();

	if (api_query_zone(a, &s->tz) != 0)
		return -1;
	if ((got = api_query_arg(a, "interval", v, sizeof v)) < 0)
		return -1;
	if (got && strcmp(v, "day") != 0 && strcmp(v, "week") != 0) {
		api_fail(a, 400, "bad_query", "interval must be day or week");
		return -1;
	}
	s->week = got && strcmp(v, "week") == 0;
	if ((got = api_query_arg(a, "sku", s->sku, sizeof s->sku)) < 0)
		return -1;
	if (got && (err = store_product_get(a->app->store, a->brand.id,
	    s->sku, &p)) != 0) {
		if (err == SIGIL_ENOTFOUND)
			api_fail(a, 400, "unknown_sku", "no product with this "
			    "sku");
		else
			api_store_fail(a, err, "product");
		return -1;
	}
	if ((got = api_query_arg(a, "batch", v, sizeof v)) < 0)
		return -1;
	if (got && (sigil_parse_u64(v, UINT64_MAX - 1, &s->batch) != 0 ||
	    s->batch == 0)) {
		api_fail(a, 400, "bad_query", "batch must be a batch id");
		return -1;
	}
	if (got && (store_batch_get(a->app->store, s->batch, &b) != 0 ||
	    b.brand_id != a->brand.id)) {
		api_fail(a, 400, "unknown_batch", "no batch with this id");
		return -1;
	}
	s->since = INT64_MIN;
	s->until = INT64_MAX;
	if (api_query_bound(a, "since", s->tz, 0, &s->since) < 0 ||
	    api_query_bound(a, "until", s->tz, 1, &s->until) < 0)
		return -1;
	if (s->until == INT64_MAX)
		s->until = now + 1;
	if (s->since == INT64_MIN)
		s->since = s->until - (int64_t)SAT_DEFAULT_DAYS * DAY_S *
		    1000000;
	if (s->since >= s->until) {
		api_fail(a, 400, "bad_query", "since must be before until");
		return -1;
	}
	s->first_bucket = bucket_of(s, day_of(s->since, s->tz));
	s->nbuckets = (size_t)((bucket_of(s, day_of(s->until - 1, s->tz)) -
	    s->first_bucket) / (s->week ? 7 : 1) + 1);
	if (s->nbuckets > SAT_BUCKETS_MAX) {
		api_fail(a, 400, "bad_query", "the range is longer than 800 "
		    "days");
		return -1;
	}
	return 0;
}

void
api_stats_satisfaction(struct api_call *a)
{
	struct sat *s;
	json_t *o, *series, *dist;
	char t[SIGIL_TIME_LEN + 1], day[11];
	int err;

	if ((s = calloc(1, sizeof *s)) == NULL) {
		api_store_fail(a, SIGIL_ENOMEM, "satisfaction");
		return;
	}
	s->a = a;
	if (sat_query(a, s) != 0)
		goto out;
	s->buckets = calloc(s->nbuckets, sizeof *s->buckets);
	s->skus = calloc(SAT_GROUPS_MAX, sizeof *s->skus);
	s->batches = calloc(SAT_GROUPS_MAX, sizeof *s->batches);
	if (s->buckets == NULL || s->skus == NULL || s->batches == NULL) {
		api_store_fail(a, SIGIL_ENOMEM, "satisfaction");
		goto out;
	}
	if ((err = store_feedback_back(a->app->store, a->brand.id, 0, sat_one,
	    s)) < 0) {
		api_store_fail(a, err, "feedback");
		goto out;
	}
	o = tally_json(&s->all, json_object());
	dist = json_object();
	for (int i = 1; i <= 5; i++) {
		char k[2] = { (char)('0' + i), '\0' };

		json_object_set_new(dist, k, json_integer(
		    (json_int_t)s->all.n[i]));
	}
	json_object_set_new(o, "ratings", dist);
	json_object_set_new(o, "promoters", json_integer(
	    (json_int_t)s->all.n[5]));
	json_object_set_new(o, "passives", json_integer(
	    (json_int_t)s->all.n[4]));
	json_object_set_new(o, "detractors", json_integer((json_int_t)(
	    s->all.n[1] + s->all.n[2] + s->all.n[3])));
	json_object_set_new(o, "fakes", json_integer((json_int_t)s->fakes));
	json_object_set_new(o, "interval", json_string(s->week ? "week" :
	    "day"));
	json_object_set_new(o, "since", json_string(sigil_time_format(
	    s->since, t)));
	json_object_set_new(o, "until", json_string(sigil_time_format(
	    s->until, t)));
	json_object_set_new(o, "sku", s->sku[0] ? json_string(s->sku) :
	    json_null());
	json_object_set_new(o, "batch", s->batch ?
	    json_integer((json_int_t)s->batch) : json_null());
	series = json_array();
	for (size_t i = 0; i < s->nbuckets; i++) {
		int64_t d = s->first_bucket + (int64_t)i * (s->week ? 7 : 1);

		/* The bucket's local date: its day index as a UTC date. */
		memcpy(day, sigil_time_format(d * DAY_S * 1000000, t), 10);
		day[10] = '\0';
		json_array_append_new(series, tally_json(&s->buckets[i],
		    json_pack("{s:s}", "start", day)));
	}
	json_object_set_new(o, "series", series);
	json_object_set_new(o, "by_sku", groups_json(s, s->skus, s->nskus, 0));
	json_object_set_new(o, "by_batch", groups_json(s, s->batches,
	    s->nbatches, 1));
	api_reply(a, 200, o);
out:
	free(s->buckets);
	free(s->skus);
	free(s->batches);
	free(s);
}
