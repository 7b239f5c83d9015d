/*
 * api_stats.c - GET /api/v1/stats/{overview|products|batches|campaigns|
 * regions|provinces|cities}: the statistics behind the dashboard's
 * charts, as JSON (provinces and cities: by the region of the scans'
 * addresses, low-confidence, for scans without a consented location).
 *
 * stats.c computes (the range, the brand's series, the per-key tables
 * and their cache); this file reads the query, names the rows (a SKU's
 * product name, a batch's lot, a campaign's name and budget) and
 * replies. Nothing here reads the scan log: a request costs the same
 * over ten scans or ten million.
 *
 * A handler: route_api.c calls it after authentication. May call stats,
 * store (reads), http and http_api.c; never calls another handler file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sigil/api.h"
#include "sigil/app.h"
#include "sigil/http.h"
#include "sigil/region.h"
#include "sigil/stats.h"
#include "sigil/store.h"
#include "sigil/util.h"

#define STATS_ROWS_MAX		1000
#define STATS_REGIONS_MAX	5000

/* Reads the range from the query: 0, or -1 after replying 400. */
static int
range_of(struct http_call *c, struct stats_range *r)
{
	char b[40], tz[40], from[40], to[40];
	int rc;

	rc = stats_range_parse(http_query(c, "bucket", b, sizeof b),
	    http_query(c, "tz", tz, sizeof tz), http_query(c, "from", from,
	    sizeof from), http_query(c, "to", to, sizeof to), sigil_now_us(),
	    r);
	if (rc == SIGIL_EFULL) {
		http_reply_error(c, 400, "bad_range", "from must be before to; "
		    "at most 400 days by day or 31 days by hour");
		return -1;
	}
	if (rc != 0) {
		http_reply_error(c, 400, "bad_query", "from/to are YYYY-MM-DD "
		    "(a local date) or RFC 3339 times with Z or an offset, bucket is hour or day, tz is -12 to 14 "
		    "hours");
		return -1;
	}
	return 0;
}

static json_t *
range_json(const struct stats_range *r)
{
	char f[SIGIL_TIME_LEN + 1], t[SIGIL_TIME_LEN + 1];

	return json_pack("{s:s,s:s,s:s,s:i}", "from", sigil_time_format(
	    r->from_hour * STATS_HOUR_US, f), "to", sigil_time_format(
	    r->to_hour * STATS_HOUR_US, t), "bucket", r->bucket_hours == 1 ?
	    "hour" : "day", "tz", r->tz);
}

static const char *const overview_names[] = {
	"scans", "scanners", "first_scans", "suspicious", "counterfeit",
	"diversion", "claims", "points", "redemptions", "unverified",
};
static const int overview_kinds[] = {
	STAT_SCANS, STAT_SCANNERS, STAT_FIRST, STAT_SUSPICIOUS,
	STAT_COUNTERFEIT, STAT_DIVERSION, STAT_CLAIMS, STAT_POINTS,
	STAT_REDEMPTIONS, STAT_UNVERIFIED,
};
#define NKINDS (sizeof overview_kinds / sizeof overview_kinds[0])

/*
 * The series and totals of one range into o: 0, or the store's error.
 */
static int
overview_fill(struct app *app, uint32_t brand_id,
    const struct stats_range *r, json_t *o)
{
	size_t nb = stats_buckets(r);
	int64_t *v = malloc(NKINDS * nb * sizeof *v), total;
	json_t *series, *totals;
	char t[SIGIL_TIME_LEN + 1];
	int err = v == NULL ? SIGIL_ENOMEM : stats_series(app->store,
	    brand_id, overview_kinds, NKINDS, r, v);

	if (err != 0) {
		free(v);
		return err;
	}
	series = json_array();
	totals = json_object();
	for (size_t b = 0; b < nb; b++)
		json_array_append_new(series, json_pack("{s:s}", "t",
		    sigil_time_format((r->from_hour + (int64_t)b *
		    r->bucket_hours) * STATS_HOUR_US, t)));
	for (size_t k = 0; k < NKINDS; k++) {
		total = 0;
		for (size_t b = 0; b < nb; b++) {
			total += v[k * nb + b];
			json_object_set_new(json_array_get(series, b),
			    overview_names[k], json_integer(v[k * nb + b]));
		}
		json_object_set_new(totals, overview_names[k],
		    json_integer(total));
	}
	free(v);
	json_object_set_new(o, "series", series);
	json_object_set_new(o, "totals", totals);
	return 0;
}

/*
 * ?compare=previous: the period of the same length just before r
 * (stats_range_previous). 0, 1 when compare is absent, or -1 after 400.
 */
static int
previous_of(struct http_call *c, const struct stats_range *r,
    struct stats_range *p)
{
	char v[2049];	/* a URI's whole length: too long is never absent */

	if (http_query(c, "compare", v, sizeof v) == NULL)
		return 1;
	if (strcmp(v, "previous") != 0) {
		http_reply_error(c, 400, "bad_query", "compare must be "
		    "previous");
		return -1;
	}
	if (stats_range_previous(r, p) != 0) {
		http_reply_error(c, 400, "bad_range", "the previous period "
		    "would start before 1970");
		return -1;
	}
	return 0;
}

static void
stats_overview(struct http_call *c, struct app *app, uint32_t brand_id,
    const struct stats_range *r)
{
	struct stats_range pr;
	char f[SIGIL_TIME_LEN + 1], t[SIGIL_TIME_LEN + 1];
	int want = previous_of(c, r, &pr), err;
	json_t *o, *prev = NULL;

	if (want < 0)
		return;
	o = range_json(r);
	err = overview_fill(app, brand_id, r, o);
	if (err == 0 && want == 0) {
		prev = json_pack("{s:s,s:s}", "from", sigil_time_format(
		    pr.from_hour * STATS_HOUR_US, f), "to", sigil_time_format(
		    pr.to_hour * STATS_HOUR_US, t));
		err = overview_fill(app, brand_id, &pr, prev);
		json_object_set_new(o, "previous", prev);
	}
	if (err != 0) {
		json_decref(o);
		if (err == SIGIL_ENOMEM)
			http_reply_error(c, 503, "unavailable",
			    "out of memory");
		else
			http_reply_error(c, 503, "unavailable", "storage "
			    "error; try again");
		return;
	}
	http_reply_jsont(c, 200, o);
}

struct sku_names {
	struct app	*app;
	json_t		*by_hash;	/* "hash" -> {sku, name} */
};

static int
sku_name_one(void *arg, const struct batch *b)
{
	struct sku_names *s = arg;
	struct product p;
	char key[24];

	snprintf(key, sizeof key, "%llu",
	    (unsigned long long)store_sku_hash(b->sku));
	if (json_object_get(s->by_hash, key) != NULL)
		return 0;
	if (store_product_get(s->app->store, b->brand_id, b->sku, &p) != 0)
		snprintf(p.name, sizeof p.name, "%s", b->sku);
	json_object_set_new(s->by_hash, key, json_pack("{s:s,s:s}", "sku",
	    b->sku, "name", p.name));
	return 0;
}

/* What a row's key names, by dimension. */
static void
row_names(struct app *app, uint32_t brand_id, int dim,
    const struct sku_names *names, const struct stats_row *row, json_t *e)
{
	char v[24];

	if (dim == DIM_PRODUCT) {
		json_t *nm;

		snprintf(v, sizeof v, "%llu", (unsigned long long)row->key);
		nm = json_object_get(names->by_hash, v);
		json_object_set(e, "sku", nm ? json_object_get(nm, "sku") :
		    json_null());
		json_object_set(e, "name", nm ? json_object_get(nm, "name") :
		    json_null());
	} else if (dim == DIM_BATCH) {
		struct batch b;

		json_object_set_new(e, "batch",
		    json_integer((json_int_t)row->key));
		if (store_batch_get(app->store, row->key, &b) == 0 &&
		    b.brand_id == brand_id) {
			json_object_set_new(e, "sku", json_string(b.sku));
			json_object_set_new(e, "lot", json_string(b.lot));
			json_object_set_new(e, "count",
			    json_integer((json_int_t)b.count));
		}
	} else if (dim == DIM_CAMPAIGN) {
		struct campaign cp;

		json_object_set_new(e, "campaign",
		    json_integer((json_int_t)row->key));
		if (row->key <= UINT32_MAX && store_campaign_get(app->store,
		    brand_id, (uint32_t)row->key, &cp) == 0) {
			json_t *cfg = json_loads(cp.config, 0, NULL);

			json_object_set(e, "name", json_is_string(
			    json_object_get(cfg, "name")) ?
			    json_object_get(cfg, "name") : json_null());
			json_object_set_new(e, "budget_used",
			    json_integer(cp.points_spent));
			json_object_set_new(e, "claims_total",
			    json_integer((json_int_t)cp.claims));
			json_decref(cfg);
			store_campaign_clear(&cp);
		}
	} else if (dim == DIM_PROVINCE || dim == DIM_CITY) {
		json_t *reg = row->key <= UINT32_MAX ? region_json(app->store,
		    (uint32_t)row->key) : NULL;

		json_object_set_new(e, "region", reg ? reg : json_null());
	} else {
		/* The cell's south-west corner, 1 degree square. */
		json_object_set_new(e, "lat", json_integer(
		    (json_int_t)(row->key / 360) - 90));
		json_object_set_new(e, "lng", json_integer(
		    (json_int_t)(row->key % 360) - 180));
	}
}

static void
stats_keys(struct http_call *c, struct app *app, uint32_t brand_id,
    const struct stats_range *r, const char *what)
{
	static const int product_kinds[] = { STAT_SCANS, STAT_FIRST,
	    STAT_SUSPICIOUS, STAT_CLAIMS };
	static const int campaign_kinds[] = { STAT_CLAIMS, STAT_POINTS,
	    STAT_REDEMPTIONS };
	static const int region_kinds[] = { STAT_SCANS, STAT_DIVERSION,
	    STAT_SUSPICIOUS, STAT_COUNTERFEIT };
	static const char *const product_cols[] = { "scans", "first_scans",
	    "suspicious", "claims" };
	static const char *const campaign_cols[] = { "claims", "points",
	    "redemptions" };
	static const char *const region_cols[] = { "scans", "diversion",
	    "suspicious", "counterfeit" };
	static const int area_kinds[] = { STAT_SCANS, STAT_SUSPICIOUS,
	    STAT_COUNTERFEIT, STAT_UNVERIFIED };
	static const char *const area_cols[] = { "scans", "suspicious",
	    "counterfeit", "unverified" };
	struct sku_names names = { app, NULL };
	const int *kinds;
	const char *const *cols;
	struct stats_row *rows = NULL;
	size_t nrows = 0, limit = STATS_ROWS_MAX;
	char v[24];
	uint64_t n;
	int nkinds, dim;
	json_t *arr, *o;

	if (strcmp(what, "products") == 0 || strcmp(what, "batches") == 0) {
		dim = what[0] == 'p' ? DIM_PRODUCT : DIM_BATCH;
		kinds = product_kinds;
		cols = product_cols;
		nkinds = 4;
	} else if (strcmp(what, "campaigns") == 0) {
		dim = DIM_CAMPAIGN;
		kinds = campaign_kinds;
		cols = campaign_cols;
		nkinds = 3;
	} else if (strcmp(what, "provinces") == 0 ||
	    strcmp(what, "cities") == 0) {
		dim = what[0] == 'p' ? DIM_PROVINCE : DIM_CITY;
		kinds = area_kinds;
		cols = area_cols;
		nkinds = 4;
		limit = STATS_REGIONS_MAX;
	} else {
		dim = DIM_REGION;
		kinds = region_kinds;
		cols = region_cols;
		nkinds = 4;
		limit = STATS_REGIONS_MAX;
	}
	if (http_query(c, "limit", v, sizeof v) != NULL) {
		if (sigil_parse_u64(v, limit, &n) != 0 || n == 0) {
			http_reply_error(c, 400, "bad_query", "limit must be "
			    "1 to 1000 (5000 for regions, provinces and "
			    "cities)");
			return;
		}
		limit = (size_t)n;
	}
	if (stats_table(app->store, brand_id, dim, kinds, nkinds, r, &rows,
	    &nrows) != 0) {
		http_reply_error(c, 503, "unavailable", "storage error; try "
		    "again");
		return;
	}
	if (dim == DIM_PRODUCT) {
		names.by_hash = json_object();
		store_batch_each(app->store, brand_id, sku_name_one, &names);
	}
	arr = json_array();
	for (size_t i = 0; i < nrows && i < limit; i++) {
		json_t *e = json_object();

		row_names(app, brand_id, dim, &names, &rows[i], e);
		for (int k = 0; k < nkinds; k++)
			json_object_set_new(e, cols[k],
			    json_integer(rows[i].v[k]));
		json_array_append_new(arr, e);
	}
	json_decref(names.by_hash);
	o = range_json(r);
	json_object_set_new(o, what, arr);
	json_object_set_new(o, "total_rows", json_integer((json_int_t)nrows));
	if (dim == DIM_PROVINCE || dim == DIM_CITY || dim == DIM_REGION)
		/* Whether addresses are placed at all (--geoip). */
		json_object_set_new(o, "geoip", json_string(app->geoip ? "on" :
		    "off"));
	free(rows);
	http_reply_jsont(c, 200, o);
}

void
api_stats_get(struct api_call *a)
{
	const char *what = a->seg[1];
	struct stats_range r;

	if (strcmp(what, "overview") != 0 && strcmp(what, "products") != 0 &&
	    strcmp(what, "batches") != 0 && strcmp(what, "campaigns") != 0 &&
	    strcmp(what, "regions") != 0 && strcmp(what, "provinces") != 0 &&
	    strcmp(what, "cities") != 0) {
		api_fail(a, 404, "not_found", "no such resource");
		return;
	}
	if (range_of(a->c, &r) != 0)
		return;
	if (what[0] == 'o')
		stats_overview(a->c, a->app, a->brand.id, &r);
	else
		stats_keys(a->c, a->app, a->brand.id, &r, what);
}
