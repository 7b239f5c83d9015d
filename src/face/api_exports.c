/*
 * api_exports.c - GET /api/v1/exports/scans: the brand's scans as a
 * file, CSV (the default) or NDJSON, one line per scan in the order they
 * were logged, with the same lines as `sigil export scans`
 * (scan_export.c), times local to ?tz= with its offset.
 *
 *   ?format=csv|ndjson  ?from= ?to= (dates local in tz, a date "to"
 *   includes its day, or ISO-8601 instants)  ?tz=  ?verdict=  ?sku=
 *   ?lang=en|zh (the CSV header's language; values stay codes)
 *
 * Memory stays flat whatever the log's size: the file is streamed in
 * chunks of SCANS_CHUNK log records, each read in a fresh snapshot
 * (store_scan_after), from the first scan of the range (store_scan_seek
 * finds it by bisection), until the first scan past it. A scan is the
 * brand's when it counts for the brand (attr_brand: its own codes, and
 * forged ones carrying its key id). Operators and admins only (the file
 * holds devices and addresses); every export is logged with its actor,
 * its filters and, at its end, the rows it held.
 *
 * A handler. May call the store (reads), the domain (scan, scan_export),
 * http_api.c and http; never another handler.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "sigil/api.h"
#include "sigil/app.h"
#include "sigil/http.h"
#include "sigil/log.h"
#include "sigil/region.h"
#include "sigil/scan.h"
#include "sigil/scan_export.h"
#include "sigil/session.h"
#include "sigil/store.h"
#include "sigil/util.h"

#define SCANS_CHUNK	2048
#define SCANS_PIECE	16	/* chunks read at most per piece */
#define SKU_CACHE	64
/* A scan is logged at commit, a little after its time: seek earlier. */
#define SEEK_SLACK_US	(60LL * 1000000)

struct scan_export {
	struct app	*app;
	uint32_t	brand_id;
	uint32_t	actor;
	char		brand[STORE_NAME_BYTES + 1];
	char		sku[STORE_NAME_BYTES + 1];	/* "" any */
	int		csv, zh, tz, verdict;		/* verdict -1: any */
	int64_t		from, to;			/* [from, to) */
	uint64_t	after;		/* the last log id read */
	uint64_t	rows;
	int		started, done;
	struct evbuffer	*out;
	uint64_t	batch_id[SKU_CACHE];	/* batch -> its sku matches */
	uint8_t		batch_ok[SKU_CACHE];
	struct region_cache regions;	/* the scans' regions, by id */
};

static int
sku_matches(struct scan_export *x, uint64_t batch_id)
{
	size_t slot = batch_id % SKU_CACHE;
	struct batch b;

	if (batch_id == 0)
		return 0;
	if (x->batch_id[slot] != batch_id) {
		x->batch_id[slot] = batch_id;
		x->batch_ok[slot] = store_batch_get(x->app->store, batch_id,
		    &b) == 0 && b.brand_id == x->brand_id &&
		    strcmp(b.sku, x->sku) == 0;
	}
	return x->batch_ok[slot];
}

static int
export_one(void *arg, const struct scan_rec *r)
{
	struct scan_export *x = arg;
	char id[SCAN_ID_LEN + 1], t[SCAN_EXPORT_TIME_LEN + 1];
	char line[SCAN_EXPORT_LINE_MAX];
	struct scan_export_row row = { r, id, x->brand, t, NULL };
	size_t n;

	x->after = r->id;
	if (r->at >= x->to + SEEK_SLACK_US) {
		x->done = 1;
		return 1;
	}
	if (r->attr_brand != x->brand_id || r->at < x->from ||
	    r->at >= x->to || (x->verdict >= 0 && r->verdict != x->verdict) ||
	    (x->sku[0] != '\0' && !sku_matches(x, r->batch_id)))
		return 0;
	scan_id_format(x->app->cookie_key, r->id, id);
	scan_export_time(r->at, x->tz, t);
	row.region = region_cached(&x->regions, x->app->store, r->region);
	if ((n = scan_export_line(line, sizeof line, &row, x->csv)) > 0) {
		evbuffer_add(x->out, line, n);
		x->rows++;
	}
	return 0;
}

static void
export_end(struct scan_export *x, const char *how)
{
	log_info("scan_export", "brand=%u actor=%s:%u rows=%llu end=%s",
	    x->brand_id, (x->actor & SESSION_TOKEN_BIT) ? "user" : "token",
	    x->actor & ~SESSION_TOKEN_BIT, (unsigned long long)x->rows, how);
	free(x);
}

static int
export_next(struct http_call *c, void *arg, struct evbuffer *out)
{
	struct scan_export *x = arg;
	uint64_t before;
	int err = 0;

	(void)c;
	x->out = out;
	if (!x->started) {
		char head[512];
		size_t n;

		x->started = 1;
		if (x->csv) {
			if (x->zh)
				evbuffer_add(out, "\xef\xbb\xbf", 3);
			if ((n = scan_export_header(head, sizeof head,
			    x->zh)) > 0)
				evbuffer_add(out, head, n);
		}
	}
	/*
	 * Chunk after chunk until this piece holds a line, the range is
	 * done, or SCANS_PIECE chunks were read: an empty piece is asked
	 * for again on the loop's next turn (http.h), so the scans of other
	 * brands never hold the loop for long.
	 */
	for (int i = 0; i < SCANS_PIECE && !x->done &&
	    evbuffer_get_length(out) == 0; i++) {
		before = x->after;
		err = store_scan_after(x->app->store, x->after, SCANS_CHUNK,
		    export_one, x);
		if (err < 0 || x->after == before)
			x->done = 1;
	}
	if (err < 0) {
		export_end(x, "storage_error");
		return 0;
	}
	if (x->done) {
		export_end(x, "complete");
		return 0;
	}
	return 1;
}

static void
export_gone(struct http_call *c, void *arg)
{
	(void)c;
	export_end(arg, "client_gone");
}

static const struct http_stream_ops export_ops = { export_next,
	export_gone };

void
api_exports_scans(struct api_call *a)
{
	struct scan_export *x;
	struct product p;
	char v[STORE_NAME_BYTES + 1], fname[96];
	int got, err;

	if ((x = calloc(1, sizeof *x)) == NULL) {
		api_store_fail(a, SIGIL_ENOMEM, "scans");
		return;
	}
	x->app = a->app;
	x->brand_id = a->brand.id;
	x->actor = a->tok.id;
	snprintf(x->brand, sizeof x->brand, "%s", a->brand.name);
	x->csv = 1;
	x->verdict = -1;
	x->from = 0;
	x->to = INT64_MAX - SEEK_SLACK_US;
	if ((got = api_query_arg(a, "format", v, sizeof v)) < 0)
		goto fail;
	if (got && strcmp(v, "ndjson") == 0)
		x->csv = 0;
	else if (got && strcmp(v, "csv") != 0) {
		api_fail(a, 400, "bad_query", "format must be csv or ndjson");
		goto fail;
	}
	if ((got = api_query_arg(a, "lang", v, sizeof v)) < 0)
		goto fail;
	if (got && strcmp(v, "zh") == 0)
		x->zh = 1;
	else if (got && strcmp(v, "en") != 0) {
		api_fail(a, 400, "bad_query", "lang must be en or zh");
		goto fail;
	}
	if (api_query_zone(a, &x->tz) != 0 ||
	    api_query_bound(a, "from", x->tz, 0, &x->from) < 0 ||
	    api_query_bound(a, "to", x->tz, 1, &x->to) < 0)
		goto fail;
	if (x->from >= x->to) {
		api_fail(a, 400, "bad_query", "from must be before to");
		goto fail;
	}
	if ((got = api_query_arg(a, "verdict", v, sizeof v)) < 0)
		goto fail;
	if (got) {
		for (int i = 0; i < SCAN_VERDICTS && x->verdict < 0; i++)
			if (strcmp(scan_verdict_name(i), v) == 0)
				x->verdict = i;
		if (x->verdict < 0) {
			api_fail(a, 400, "bad_query", "verdict must be genuine, "
			    "suspicious, counterfeit, revoked, inactive or "
			    "unverified");
			goto fail;
		}
	}
	if ((got = api_query_arg(a, "sku", x->sku, sizeof x->sku)) < 0)
		goto fail;
	if (got && (err = store_product_get(a->app->store, a->brand.id,
	    x->sku, &p)) != 0) {
		if (err == SIGIL_ENOTFOUND)
			api_fail(a, 400, "unknown_sku", "no product with this "
			    "sku");
		else
			api_store_fail(a, err, "product");
		goto fail;
	}
	if (x->from > SEEK_SLACK_US && (err = store_scan_seek(a->app->store,
	    x->from - SEEK_SLACK_US, &x->after)) != 0) {
		api_store_fail(a, err, "scans");
		goto fail;
	}
	log_info("scan_export", "brand=%u actor=%s:%u format=%s lang=%s "
	    "tz=%d from=%lld to=%lld verdict=%s sku_filter=%d client=%s",
	    x->brand_id, (x->actor & SESSION_TOKEN_BIT) ? "user" : "token",
	    x->actor & ~SESSION_TOKEN_BIT, x->csv ? "csv" : "ndjson",
	    x->zh ? "zh" : "en", x->tz, (long long)x->from,
	    (long long)x->to, x->verdict < 0 ? "any" :
	    scan_verdict_name(x->verdict), x->sku[0] != '\0',
	    a->c->client_text);
	snprintf(fname, sizeof fname, "attachment; filename=\"scans.%s\"",
	    x->csv ? "csv" : "ndjson");
	http_add_header(a->c, "Content-Disposition", fname);
	http_add_header(a->c, "Cache-Control", "no-store");
	http_stream_start(a->c, 200, x->csv ? "text/csv; charset=utf-8" :
	    "application/x-ndjson", &export_ops, x);
	return;
fail:
	free(x);
}
