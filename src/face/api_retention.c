/*
 * api_retention.c - the brand's retention period over the API:
 *   GET  /api/v1/privacy/retention       the period, how far it got, runs
 *   PUT  /api/v1/privacy/retention       {"days": 0..RETENTION_DAYS_MAX}
 *   POST /api/v1/privacy/retention/run   the job for this brand, now
 *
 * A handler: reads through retention.h and the store, writes through the
 * writer (retention_set_op), starts a run through retention_run_now. The
 * run's chunks are writer ops queued from the loop, so POST answers 202
 * at once and GET (or /metrics) shows when it finished.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <jansson.h>

#include "sigil/api.h"
#include "sigil/app.h"
#include "sigil/http.h"
#include "sigil/http_write.h"
#include "sigil/retention.h"
#include "sigil/store.h"
#include "sigil/util.h"

static json_t *
time_json(int64_t t)
{
	char buf[SIGIL_TIME_LEN + 1];

	return t ? json_string(sigil_time_format(t, buf)) : json_null();
}

/* The run now or last under way, if it covered brand_id. */
static json_t *
run_json(struct app *app, uint32_t brand_id)
{
	struct retention_stats rs;

	retention_stats(app->retention, &rs);
	if (rs.last_start == 0 || (rs.run_brand != 0 &&
	    rs.run_brand != brand_id))
		return json_null();
	return json_pack("{s:b,s:o,s:o,s:I,s:f,s:b,s:o}",
	    "running", rs.running,
	    "started", time_json(rs.last_start),
	    "finished", rs.running ? json_null() : time_json(rs.last_end),
	    "reduced", (json_int_t)(rs.running ? 0 : rs.last_reduced),
	    "seconds", rs.running ? 0.0 : rs.last_seconds,
	    "scrubbed", !rs.running && rs.last_scrubbed,
	    "error", rs.running || rs.last_err == 0 ? json_null() :
	    json_string(sigil_strerror(rs.last_err)));
}

static json_t *
retention_json(struct app *app, uint32_t brand_id, unsigned days)
{
	struct scan_rec r;
	uint64_t cursor = 0;
	int64_t through = 0;

	if (store_retention_cursor(app->store, brand_id, &cursor) == 0 &&
	    cursor != 0 && store_scan_get(app->store, cursor, &r) == 0)
		through = r.at;
	return json_pack("{s:i,s:i,s:i,s:o,s:o}", "days", (int)days,
	    "min", 1, "max", RETENTION_DAYS_MAX,
	    "reduced_through", time_json(through),
	    "last_run", run_json(app, brand_id));
}

void
api_retention_get(struct api_call *a)
{
	unsigned days = 0;
	int err;

	if ((err = retention_days(a->app->store, a->brand.id, &days)) != 0) {
		api_store_fail(a, err, "settings");
		return;
	}
	api_reply(a, 200, retention_json(a->app, a->brand.id, days));
}

static void
set_written(struct http_call *c, void *arg, int err)
{
	struct retention_set *x = arg;

	api_write_reply(c, err, "settings", 200,
	    err ? NULL : retention_json(c->app, x->brand_id, x->days));
}

void
api_retention_put(struct api_call *a)
{
	struct retention_set x = { .brand_id = a->brand.id };
	json_t *v;

	if (api_body(a) != 0)
		return;
	v = json_object_get(a->body, "days");
	if (v == NULL || json_object_size(a->body) != 1 ||
	    !json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > RETENTION_DAYS_MAX) {
		char msg[160];

		snprintf(msg, sizeof msg, "body must hold one field, 'days': "
		    "an integer, 0 (keep for ever) or 1 to %d",
		    RETENTION_DAYS_MAX);
		api_fail(a, 422, "invalid", msg);
		return;
	}
	x.days = (unsigned)json_integer_value(v);
	http_write(a->c, &retention_set_op, &x, sizeof x, set_written);
}

void
api_retention_run(struct api_call *a)
{
	unsigned days = 0;
	int err;

	if ((err = retention_days(a->app->store, a->brand.id, &days)) != 0) {
		api_store_fail(a, err, "settings");
		return;
	}
	if (days == 0) {
		api_fail(a, 409, "no_retention", "the brand keeps its scans "
		    "for ever: set a retention period first (PUT "
		    "/api/v1/privacy/retention)");
		return;
	}
	if ((err = retention_run_now(a->app->retention, a->brand.id)) ==
	    SIGIL_EBUSY) {
		api_fail(a, 409, "running", "a retention run is under way; "
		    "try again when it has finished");
		return;
	}
	if (err != 0) {
		api_store_fail(a, err, "retention");
		return;
	}
	api_reply(a, 202, retention_json(a->app, a->brand.id, days));
}
