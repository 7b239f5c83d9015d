/*
 * consumer.c - what a phone talks to.
 *
 * GET /S/{code} (or /s/, or a GS1 Digital Link path) is the moment the
 * product exists for. The handler decodes and verifies the code against
 * the keyring, finds its batch by range lookup, decides the verdicts that
 * need no history (counterfeit, revoked, inactive), reads or issues the
 * signed device cookie, and queues the scan for the writer. The answer is
 * sent from scan_done(), after the commit: the judgement that needs the
 * code's history (first scan, count, clone signals) is made inside the
 * writer's transaction by scan_judge(), so two simultaneous scans of one
 * code can never both be "first".
 *
 * The answer is the landing page (page.c) or, with Accept:
 * application/json, the JSON of SPEC §4. POST /api/v1/scans/{id}/location
 * attaches a consented location to a scan made by the same device and
 * re-runs the clone checks.
 *
 * Also / (a short page saying what this server is, linking the
 * dashboard), /.well-known/gs1resolver, /healthz, /metrics (and
 * /debug/faults in fault-injection builds): route.c names every entry point here.
 *
 * A handler. May call code, keyring, lookup, store (reads only), scan,
 * trace (step names), rewards (the scan's reward, the claimed-by-another
 * signal), page, writer, http. Never writes to the store directly:
 * every write goes through the writer. Never calls another handler.
 */
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <jansson.h>

#include "sigil/app.h"
#include "sigil/wechat.h"
#include "sigil/code.h"
#include "sigil/consumer.h"
#include "sigil/fault.h"
#include "sigil/geo.h"
#include "sigil/http.h"
#include "sigil/http_scan.h"
#include "sigil/keyring.h"
#include "sigil/log.h"
#include "sigil/message.h"
#include "sigil/lookup.h"
#include "sigil/page.h"
#include "sigil/payout.h"
#include "sigil/retention.h"
#include "sigil/rewards.h"
#include "sigil/scan.h"
#include "sigil/store.h"
#include "sigil/trace.h"
#include "sigil/util.h"
#include "sigil/writer.h"

/*
 * Queues job for the writer, done(job) to answer c after the commit. If
 * the writer refuses (busy, shutting down), ctx (the job's owner) is
 * freed and c answered 503 at once.
 */
static void
submit(struct http_call *c, struct writer_job *job,
    void (*done)(struct writer_job *), void *ctx)
{
	struct app *app = c->app;

	job->done = done;
	job->arg = ctx;
	if (writer_submit(app->writer, job) != 0) {
		free(ctx);
		http_reply_error(c, 503, "unavailable",
		    "the server is busy or shutting down; try again");
	}
}

/*
 * Diversion (防窜货): the item was shipped to a distributor and the
 * consented location lies outside that distributor's territory.
 */
static void
diversion_check(struct app *app, const struct scan_rec *rec, double lat,
    double lng, struct writer_job *job)
{
	const struct territory *t;
	struct shipment s;
	double km;

	if (rec->brand_id == 0 || store_code_shipment(app->store,
	    rec->brand_id, rec->serial, &s) != 0 ||
	    (t = lookup_territory(app, rec->brand_id, s.distributor)) == NULL ||
	    t->area == NULL)
		return;
	job->distributor = s.distributor;
	if (geo_area_contains(t->area, lat, lng))
		return;
	km = geo_area_distance_km(t->area, lat, lng);
	job->add_flags |= SCAN_DIVERSION;
	job->diversion_km = km > 0 ? (float)km : 0;
}

void
consumer_scan(struct http_call *c)
{
	struct app *app = c->app;
	struct scan_ctx *s = http_scan_new(c);
	const char *text = c->path + 3;
	struct code code;
	int verdict = VERDICT_COUNTERFEIT;

	if (s == NULL)
		return;
	/* ?linkType= asks for one of the item's links, as on a Digital Link. */
	if (http_query(c, "linkType", s->link_type, sizeof s->link_type) ==
	    NULL)
		s->link_type[0] = '\0';
	if (code_compact_decode(text, strlen(text), &code) == 0) {
		verdict = lookup_resolve(app, &code, NULL, &s->info, &s->known);
		if (!s->known)
			s->key_brand = lookup_key_brand(app, code.key_id);
	}
	http_scan_submit(s, s->known ? &code : NULL, verdict, 0);
}

/* ---- POST /api/v1/scans/{id}/location ---- */

struct locate_ctx {
	struct http_call	*call;
	struct writer_job	job;
};

static void
locate_done(struct writer_job *job)
{
	struct locate_ctx *l = job->arg;
	struct http_call *c = l->call;
	struct app *app = c->app;
	json_t *o, *signals;

	if (job->err == SIGIL_ENOTFOUND)
		http_reply_error(c, 404, "not_found", "no such scan");
	else if (job->err == SIGIL_EEXIST)
		http_reply_error(c, 409, "already_located",
		    "this scan already has a location");
	else if (job->err != 0)
		http_reply_error(c, 503, "unavailable",
		    "the location could not be recorded; try again");
	else {
		app->locations++;
		signals = json_array();
		if (job->state.flags & SCAN_CLONE_SCANNERS)
			json_array_append_new(signals,
			    json_string("too_many_scanners"));
		if (job->state.flags & SCAN_CLONE_TRAVEL)
			json_array_append_new(signals,
			    json_string("impossible_travel"));
		o = json_pack("{s:s,s:b,s:o}", "verdict",
		    scan_verdict_name(job->rec.verdict), "diversion",
		    (job->rec.flags & SCAN_DIVERSION) != 0, "signals", signals);
		if (job->rec.flags & SCAN_DIVERSION) {
			const struct territory *t = lookup_territory(app,
			    job->rec.brand_id, job->distributor);

			json_object_set_new(o, "distributor", json_pack(
			    "{s:i,s:s}", "id", (int)job->distributor, "name",
			    t != NULL ? t->name : ""));
			json_object_set_new(o, "distance_km",
			    json_real(round(job->diversion_km * 10) / 10));
		}
		http_reply_jsont(c, 200, o);
	}
	free(l);
}

static int
number_in(json_t *o, const char *key, double lo, double hi, int required,
    double *out)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL)
		return required ? SIGIL_EINVAL : 0;
	if (!json_is_number(v))
		return SIGIL_EINVAL;
	*out = json_number_value(v);
	if (!isfinite(*out) || *out < lo || *out > hi)
		return SIGIL_EINVAL;
	return 0;
}

void
consumer_location(struct http_call *c)
{
	struct app *app = c->app;
	const char *p = c->path + strlen("/api/v1/scans/");
	const char *tail = strchr(p, '/');
	char idtext[SCAN_ID_LEN + 1], *body = NULL, cookie[64];
	struct scan_rec rec;
	struct batch batch;
	struct product product;
	struct locate_ctx *l;
	json_error_t jerr;
	json_t *o = NULL;
	double lat = 0, lng = 0, acc = 0;
	uint64_t id, device;
	size_t len;

	if (http_body_too_large(c)) {
		http_reply_error(c, 413, "too_large", "body too large");
		return;
	}
	if (tail == NULL || strcmp(tail, "/location") != 0 ||
	    (size_t)(tail - p) != SCAN_ID_LEN) {
		http_reply_error(c, 404, "not_found", "no such resource");
		return;
	}
	memcpy(idtext, p, SCAN_ID_LEN);
	idtext[SCAN_ID_LEN] = '\0';
	if (scan_id_parse(app->cookie_key, idtext, &id) != 0 ||
	    store_scan_get(app->store, id, &rec) != 0) {
		http_reply_error(c, 404, "not_found", "no such scan");
		return;
	}
	if (http_cookie(c, SCAN_COOKIE_NAME, cookie, sizeof cookie) != 0 ||
	    scan_cookie_check(app->cookie_key, cookie, &device) != 0 ||
	    device != rec.device) {
		http_reply_error(c, 403, "forbidden",
		    "only the device that scanned may add its location");
		return;
	}
	if ((body = http_body_text(c, &len)) == NULL ||
	    (o = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr)) ==
	    NULL || !json_is_object(o) ||
	    number_in(o, "lat", -90, 90, 1, &lat) != 0 ||
	    number_in(o, "lng", -180, 180, 1, &lng) != 0 ||
	    number_in(o, "accuracy", 0, 100000, 0, &acc) != 0) {
		free(body);
		json_decref(o);
		http_reply_error(c, 400, "bad_request", "expected JSON "
		    "{\"lat\": -90..90, \"lng\": -180..180, \"accuracy\": "
		    "metres 0..100000}");
		return;
	}
	free(body);
	json_decref(o);
	if ((l = calloc(1, sizeof *l)) == NULL) {
		http_reply_error(c, 503, "unavailable", "out of memory");
		return;
	}
	l->call = c;
	l->job.kind = WRITER_LOCATE;
	l->job.locate_id = id;
	l->job.lat = (float)lat;
	l->job.lng = (float)lng;
	l->job.accuracy_m = (uint16_t)(acc > 65535 ? 65535 : acc);
	l->job.max_scanners = 5;
	if (rec.brand_id != 0 && store_batch_get(app->store, rec.batch_id,
	    &batch) == 0 && store_product_get(app->store, rec.brand_id,
	    batch.sku, &product) == 0)
		l->job.max_scanners = product.max_scanners;
	diversion_check(app, &rec, lat, lng, &l->job);
	submit(c, &l->job, locate_done, l);
}

/* ---- health and metrics ---- */

/* GET /: someone who opens the server's address (a newcomer after `make
 * run`, or a curious consumer) learns what it is and where the dashboard
 * is, in both languages, rather than a JSON 404. */
static const char home_html[] =
    "<!doctype html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
    "<meta name=\"viewport\" content=\"width=device-width,"
    "initial-scale=1\"><title>sigil</title><style>"
    "body{font:16px/1.5 system-ui,sans-serif;max-width:36em;"
    "margin:2em auto;padding:0 1em;color:#222}"
    "a.btn{display:inline-block;padding:.5em 1em;background:#1a5fb4;"
    "color:#fff;border-radius:4px;text-decoration:none}"
    "p.en{color:#555}</style></head><body>\n"
    "<h1>sigil 一物一码</h1>\n"
    "<p>这是一台 sigil 服务器：每件商品一个签名二维码。消费者扫码即可"
    "验证真伪、领取积分；品牌团队在管理后台管理商品、批次、活动与数据。</p>\n"
    "<p class=\"en\" lang=\"en\">This is a sigil server: one signed QR "
    "code per item. Consumers scan to check it is genuine and to earn "
    "rewards; brand teams run products, batches, campaigns and reports "
    "from the dashboard.</p>\n"
    "<p><a class=\"btn\" href=\"/admin/\">管理后台 · Dashboard</a></p>\n"
    "<p class=\"en\" lang=\"en\">Scan a code on a product to check it. "
    "Health: <a href=\"/healthz\">/healthz</a>.</p>\n"
    "</body></html>\n";

void
consumer_home(struct http_call *c)
{
	struct evbuffer *b = evbuffer_new();

	if (b == NULL || evbuffer_add(b, home_html, sizeof home_html - 1)) {
		if (b != NULL)
			evbuffer_free(b);
		http_reply_error(c, 503, "unavailable", "out of memory");
		return;
	}
	http_reply(c, 200, "text/html; charset=utf-8", b);
	evbuffer_free(b);
}

void
consumer_healthz(struct http_call *c)
{
	struct app *app = c->app;
	struct brand b;
	int err = store_brand_get(app->store, 1, &b);

	if (err != 0 && err != SIGIL_ENOTFOUND)
		http_reply_error(c, 503, "unhealthy", "storage unreadable");
	else if (app->geoip != NULL)
		http_reply_json(c, 200, "{\"status\":\"ok\",\"geoip\":\"on\"}\n");
	else
		http_reply_json(c, 200, "{\"status\":\"ok\",\"geoip\":\"off\"}\n");
}

/* The retention job (retention.c): its runs, what they reduced, what is left. */
static void
retention_metrics(struct app *app, struct evbuffer *b)
{
	struct retention_stats rs;

	retention_stats(app->retention, &rs);
	evbuffer_add_printf(b, "# HELP sigil_retention_runs_total Retention "
	    "runs finished (daily, and POST /api/v1/privacy/retention/run).\n"
	    "# TYPE sigil_retention_runs_total counter\n"
	    "sigil_retention_runs_total %llu\n"
	    "# HELP sigil_retention_errors_total Retention runs that stopped "
	    "on an error.\n"
	    "# TYPE sigil_retention_errors_total counter\n"
	    "sigil_retention_errors_total %llu\n"
	    "# HELP sigil_retention_chunks_total Retention chunks run, one "
	    "write transaction of at most 1,024 log records each.\n"
	    "# TYPE sigil_retention_chunks_total counter\n"
	    "sigil_retention_chunks_total %llu\n"
	    "# HELP sigil_retention_running 1 while a retention run is under "
	    "way.\n"
	    "# TYPE sigil_retention_running gauge\n"
	    "sigil_retention_running %d\n"
	    "# HELP sigil_retention_last_run_timestamp_seconds When the last "
	    "retention run finished (0: none since start).\n"
	    "# TYPE sigil_retention_last_run_timestamp_seconds gauge\n"
	    "sigil_retention_last_run_timestamp_seconds %.3f\n"
	    "# HELP sigil_retention_last_run_duration_seconds How long the "
	    "last retention run took, scrub included.\n"
	    "# TYPE sigil_retention_last_run_duration_seconds gauge\n"
	    "sigil_retention_last_run_duration_seconds %.6f\n"
	    "# HELP sigil_retention_last_run_scans_reduced Scans the last "
	    "retention run reduced.\n"
	    "# TYPE sigil_retention_last_run_scans_reduced gauge\n"
	    "sigil_retention_last_run_scans_reduced %llu\n"
	    "# HELP sigil_retention_scans_reduced_total Scans whose IP was cut "
	    "to its network and precise location dropped, past their brand's "
	    "period.\n"
	    "# TYPE sigil_retention_scans_reduced_total counter\n"
	    "sigil_retention_scans_reduced_total %llu\n"
	    "# HELP sigil_retention_locations_reduced_total Of those, scans "
	    "whose precise location was dropped.\n"
	    "# TYPE sigil_retention_locations_reduced_total counter\n"
	    "sigil_retention_locations_reduced_total %llu\n"
	    "# HELP sigil_retention_backlog Scan log records past the current "
	    "brand's cutoff not yet reduced, as of the last chunk.\n"
	    "# TYPE sigil_retention_backlog gauge\n"
	    "sigil_retention_backlog %llu\n",
	    (unsigned long long)rs.runs, (unsigned long long)rs.errors,
	    (unsigned long long)rs.chunks,
	    rs.running, rs.last_end == 0 ? 0.0 : (double)rs.last_end / 1e6,
	    rs.last_seconds, (unsigned long long)rs.last_reduced,
	    (unsigned long long)rs.reduced, (unsigned long long)rs.unlocated,
	    (unsigned long long)rs.backlog);
}

void
consumer_metrics(struct http_call *c)
{
	struct app *app = c->app;
	struct evbuffer *b = evbuffer_new();
	struct writer_stats ws;
	struct store_wal_stats wst;
	struct store_state_info si;
	uint64_t map = 0, used = 0, cum = 0;
	double lim;

	if (b == NULL) {
		http_reply_error(c, 503, "unavailable", "out of memory");
		return;
	}
	http_metrics(app->http, b);
	evbuffer_add_printf(b, "# HELP sigil_scans_total Human scans "
	    "answered, by verdict.\n# TYPE sigil_scans_total counter\n");
	for (int v = 0; v < SCAN_VERDICTS; v++)
		evbuffer_add_printf(b, "sigil_scans_total{verdict=\"%s\"} %llu\n",
		    scan_verdict_name(v),
		    (unsigned long long)app->scans_by_verdict[v]);
	evbuffer_add_printf(b, "# HELP sigil_bot_scans_total Scans by "
	    "link-preview bots and crawlers (not human scans).\n"
	    "# TYPE sigil_bot_scans_total counter\n"
	    "sigil_bot_scans_total %llu\n"
	    "# HELP sigil_scan_errors_total Scans that could not be recorded "
	    "(answered 503).\n"
	    "# TYPE sigil_scan_errors_total counter\n"
	    "sigil_scan_errors_total %llu\n"
	    "# HELP sigil_locations_total Consented scan locations stored.\n"
	    "# TYPE sigil_locations_total counter\n"
	    "sigil_locations_total %llu\n",
	    (unsigned long long)app->bot_scans,
	    (unsigned long long)app->scan_errors,
	    (unsigned long long)app->locations);
	if (app->wechat != NULL)
		evbuffer_add_printf(b, "# HELP sigil_wechat_redirects_total "
		    "Scans sent to WeChat's authorize page.\n"
		    "# TYPE sigil_wechat_redirects_total counter\n"
		    "sigil_wechat_redirects_total %llu\n"
		    "# HELP sigil_wechat_logins_total WeChat logins made (web "
		    "and mini-program).\n"
		    "# TYPE sigil_wechat_logins_total counter\n"
		    "sigil_wechat_logins_total %llu\n"
		    "# HELP sigil_wechat_errors_total Calls to WeChat's API "
		    "that gave no identity (an error code or no answer).\n"
		    "# TYPE sigil_wechat_errors_total counter\n"
		    "sigil_wechat_errors_total %llu\n"
		    "# HELP sigil_wechat_refreshed_total Expired access tokens "
		    "refreshed.\n"
		    "# TYPE sigil_wechat_refreshed_total counter\n"
		    "sigil_wechat_refreshed_total %llu\n",
		    (unsigned long long)app->wechat->redirects,
		    (unsigned long long)app->wechat->logins,
		    (unsigned long long)app->wechat->errors,
		    (unsigned long long)app->wechat->refreshed);
	writer_stats(app->writer, &ws);
	evbuffer_add_printf(b, "# HELP sigil_commit_batch_size Jobs per "
	    "write transaction.\n# TYPE sigil_commit_batch_size histogram\n");
	for (int i = 0; i < 13; i++) {
		cum += ws.batch_hist[i];
		evbuffer_add_printf(b, "sigil_commit_batch_size_bucket{le=\"%d\"}"
		    " %llu\n", 1 << i, (unsigned long long)cum);
	}
	evbuffer_add_printf(b, "sigil_commit_batch_size_bucket{le=\"+Inf\"} "
	    "%llu\nsigil_commit_batch_size_sum %llu\n"
	    "sigil_commit_batch_size_count %llu\n",
	    (unsigned long long)cum, (unsigned long long)ws.jobs,
	    (unsigned long long)ws.commits);
	evbuffer_add_printf(b, "# HELP sigil_commit_seconds Write "
	    "transaction latency, durable sync included.\n"
	    "# TYPE sigil_commit_seconds histogram\n");
	cum = 0;
	lim = 0.25e-3;
	for (int i = 0; i < 11; i++, lim *= 2) {
		cum += ws.latency_hist[i];
		evbuffer_add_printf(b, "sigil_commit_seconds_bucket{le=\"%g\"} "
		    "%llu\n", lim, (unsigned long long)cum);
	}
	cum += ws.latency_hist[11];
	evbuffer_add_printf(b, "sigil_commit_seconds_bucket{le=\"+Inf\"} %llu\n"
	    "sigil_commit_seconds_sum %.6f\nsigil_commit_seconds_count %llu\n"
	    "# HELP sigil_commit_failures_total Writer rounds whose LMDB "
	    "commit failed (answered 503).\n"
	    "# TYPE sigil_commit_failures_total counter\n"
	    "sigil_commit_failures_total %llu\n", (unsigned long long)cum,
	    ws.latency_sum_s, (unsigned long long)ws.commits,
	    (unsigned long long)ws.failures);
	if (store_usage(app->store, &map, &used) == 0)
		evbuffer_add_printf(b, "# HELP sigil_lmdb_map_bytes LMDB map "
		    "size.\n# TYPE sigil_lmdb_map_bytes gauge\n"
		    "sigil_lmdb_map_bytes %llu\n"
		    "# HELP sigil_lmdb_used_bytes Bytes of the LMDB map in "
		    "use.\n"
		    "# TYPE sigil_lmdb_used_bytes gauge\n"
		    "sigil_lmdb_used_bytes %llu\n", (unsigned long long)map,
		    (unsigned long long)used);
	store_wal_stats(app->store, &wst);
	if (wst.on)
		evbuffer_add_printf(b, "# HELP sigil_wal_records_total "
		    "Transactions written to the write-ahead log.\n"
		    "# TYPE sigil_wal_records_total counter\n"
		    "sigil_wal_records_total %llu\n"
		    "# HELP sigil_wal_bytes_total Bytes appended to the "
		    "write-ahead log.\n"
		    "# TYPE sigil_wal_bytes_total counter\n"
		    "sigil_wal_bytes_total %llu\n"
		    "# HELP sigil_wal_checkpoints_total Checkpoints of data.mdb "
		    "(the log before them is no longer needed).\n"
		    "# TYPE sigil_wal_checkpoints_total counter\n"
		    "sigil_wal_checkpoints_total %llu\n"
		    "# HELP sigil_wal_checkpoint_failures_total Write-ahead "
		    "log checkpoints that failed.\n"
		    "# TYPE sigil_wal_checkpoint_failures_total counter\n"
		    "sigil_wal_checkpoint_failures_total %llu\n",
		    (unsigned long long)wst.records,
		    (unsigned long long)wst.bytes,
		    (unsigned long long)wst.checkpoints,
		    (unsigned long long)wst.checkpoint_failures);
	store_state_info(app->store, &si);
	evbuffer_add_printf(b, "# HELP sigil_writer_pending Write requests "
	    "queued for the writer thread.\n"
	    "# TYPE sigil_writer_pending gauge\n"
	    "sigil_writer_pending %u\n"
	    "# HELP sigil_state_pending_codes Codes whose state is not yet "
	    "merged into code_state.\n"
	    "# TYPE sigil_state_pending_codes gauge\n"
	    "sigil_state_pending_codes %zu\n"
	    "# HELP sigil_state_merged_codes_total Code states merged from the "
	    "scan log into the state table.\n"
	    "# TYPE sigil_state_merged_codes_total counter\n"
	    "sigil_state_merged_codes_total %llu\n",
	    writer_pending(app->writer), si.pending,
	    (unsigned long long)si.merged);
	evbuffer_add_printf(b, "# HELP sigil_geoip_enabled 1 when a --geoip "
	    "database gives scans a region, 0 when the feature is off.\n"
	    "# TYPE sigil_geoip_enabled gauge\n"
	    "sigil_geoip_enabled %d\n"
	    "# HELP sigil_scans_placed_total Scans the --geoip database gave "
	    "a region (low-confidence).\n"
	    "# TYPE sigil_scans_placed_total counter\n"
	    "sigil_scans_placed_total %llu\n", app->geoip != NULL,
	    (unsigned long long)app->scans_placed);
	retention_metrics(app, b);
	message_metrics(app, b);
	payout_metrics(app, b);
	http_reply(c, 200, "text/plain; version=0.0.4; charset=utf-8", b);
	evbuffer_free(b);
}

#ifdef SIGIL_FAULT_INJECTION
/*
 * Test builds only (make FAULT=1): POST /debug/faults arms fault points
 * with a fault.h spec as the body; GET (and POST) answer every point's
 * counts, so a black-box test can break a running server and see it heal.
 */
void
consumer_faults(struct http_call *c)
{
	struct fault_count fc[FAULT_POINTS_MAX];
	json_t *doc;
	size_t n, len;
	char *spec;

	if (c->method == EVHTTP_REQ_POST) {
		spec = http_body_text(c, &len);
		if (spec == NULL || fault_arm(spec) != 0) {
			free(spec);
			http_reply_error(c, 400, "bad_fault_spec",
			    "expected name:N or name:pP, comma-separated");
			return;
		}
		free(spec);
	}
	if ((doc = json_object()) == NULL) {
		http_reply_error(c, 503, "unavailable", "out of memory");
		return;
	}
	n = fault_counts(fc, FAULT_POINTS_MAX);
	for (size_t i = 0; i < n; i++)
		json_object_set_new(doc, fc[i].point, json_pack("{s:I,s:I,s:I,"
		    "s:f}", "checked", (json_int_t)fc[i].checked, "injected",
		    (json_int_t)fc[i].injected, "remaining",
		    (json_int_t)fc[i].remaining, "probability",
		    fc[i].probability));
	http_reply_jsont(c, 200, doc);
}
#endif
