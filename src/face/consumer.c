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
 * The answer is the landing page (page.c), a 307 to the brand's redirect
 * rule (redirect.c) for a genuine human scan, or, with Accept:
 * application/json, the JSON of SPEC §4. POST /api/v1/scans/{id}/location
 * attaches a consented location to a scan made by the same device and
 * re-runs the clone checks.
 *
 * Also /.well-known/gs1resolver, /healthz, /metrics (and /debug/faults
 * in fault-injection builds): route.c names every entry point here.
 *
 * A handler. May call code, keyring, lookup, store (reads only), scan,
 * trace (step names), redirect (the scan's rule), content (the
 * brand's content), rewards (the scan's reward, the claimed-by-another
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
#include "sigil/code.h"
#include "sigil/consumer.h"
#include "sigil/content.h"
#include "sigil/fault.h"
#include "sigil/geo.h"
#include "sigil/http.h"
#include "sigil/keyring.h"
#include "sigil/log.h"
#include "sigil/lookup.h"
#include "sigil/page.h"
#include "sigil/redirect.h"
#include "sigil/rewards.h"
#include "sigil/scan.h"
#include "sigil/store.h"
#include "sigil/trace.h"
#include "sigil/util.h"
#include "sigil/writer.h"

/* A scan in flight: the request, what we know of the code, the job. */
struct scan_ctx {
	struct http_call	*call;
	struct writer_job	job;
	int			json;
	int			new_device;
	int			lang;
	int			known;		/* info's brand/batch/product valid */
	struct code_info	info;
};

static int
wants_json(struct http_call *c)
{
	const char *accept = http_header(c, "Accept");

	return accept != NULL && strstr(accept, "application/json") != NULL;
}

static uint64_t
device_of(struct app *app, struct http_call *c, int *fresh)
{
	char value[64];
	uint64_t device = 0;

	*fresh = 0;
	if (http_cookie(c, SCAN_COOKIE_NAME, value, sizeof value) == 0 &&
	    scan_cookie_check(app->cookie_key, value, &device) == 0)
		return device;
	/*
	 * Missing or forged: a new anonymous device. Ids increase with time
	 * (microseconds << 12, and never repeat within this process), so new
	 * devices' rows go in at the end of the per-device tables instead of
	 * splitting pages at random. The cookie's MAC, not the id, is what a
	 * client cannot forge.
	 */
	device = (uint64_t)sigil_now_us() << 12;
	if (device <= app->last_device)
		device = app->last_device + 1;
	app->last_device = device;
	*fresh = 1;
	return device;
}

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

struct trace_ctx {
	struct app	*app;
	json_t		*arr;
};

/* What a consumer may see of the trace: steps, times, distributors. */
static int
trace_one(void *arg, const struct trace_event *ev)
{
	struct trace_ctx *t = arg;
	char ts[SIGIL_TIME_LEN + 1];
	const struct territory *d;
	json_t *o;

	if (ev->type == EVENT_SCAN || ev->type == EVENT_AGGREGATE ||
	    ev->type == EVENT_DISAGGREGATE)
		return 0;
	o = json_pack("{s:s,s:s}", "step", trace_event_name(ev->type), "at",
	    sigil_time_format(ev->at, ts));
	if ((ev->type == EVENT_SHIP || ev->type == EVENT_RECEIVE) &&
	    (d = lookup_territory(t->app, ev->brand_id, ev->distributor)) != NULL)
		json_object_set_new(o, "distributor", json_string(d->name));
	json_array_append_new(t->arr, o);
	return json_array_size(t->arr) >= 50;
}

static json_t *
scan_json(struct app *app, struct scan_ctx *s)
{
	const struct scan_rec *r = &s->job.rec;
	const struct code_state *st = &s->job.state;
	char id[SCAN_ID_LEN + 1], t[SIGIL_TIME_LEN + 1];
	json_t *o = json_object(), *signals = json_array();

	scan_id_format(app->cookie_key, r->id, id);
	json_object_set_new(o, "verdict",
	    json_string(scan_verdict_name(r->verdict)));
	json_object_set_new(o, "first_scan",
	    json_boolean(r->flags & SCAN_FIRST));
	json_object_set_new(o, "scan_count", json_integer(st->scan_count));
	json_object_set_new(o, "first_scanned_at", st->first_at ?
	    json_string(sigil_time_format(st->first_at, t)) : json_null());
	if (s->known) {
		json_object_set_new(o, "serial", json_integer(
		    (json_int_t)r->serial));
		json_object_set_new(o, "brand", json_pack("{s:s}", "name",
		    s->info.brand.name));
		json_object_set_new(o, "product", json_pack("{s:s,s:s,s:s?}",
		    "sku", s->info.product.sku, "name", s->info.product.name, "gtin",
		    s->info.product.gtin[0] ? s->info.product.gtin : NULL));
		json_object_set_new(o, "batch", json_pack(
		    "{s:I,s:s?,s:s?,s:s}", "id", (json_int_t)s->info.batch.id,
		    "lot", s->info.batch.lot[0] ? s->info.batch.lot : NULL, "expires",
		    s->info.batch.expires ? sigil_time_format(s->info.batch.expires, t) :
		    NULL, "state", s->info.batch.state == BATCH_ACTIVE ? "active" :
		    s->info.batch.state == BATCH_REVOKED ? "revoked" : "inactive"));
	} else {
		json_object_set_new(o, "product", json_null());
		json_object_set_new(o, "batch", json_null());
	}
	if (st->flags & SCAN_CLONE_SCANNERS)
		json_array_append_new(signals, json_string("too_many_scanners"));
	if (st->flags & SCAN_CLONE_TRAVEL)
		json_array_append_new(signals, json_string("impossible_travel"));
	if (st->flags & SCAN_CLAIMED_OTHER)
		json_array_append_new(signals,
		    json_string("scanned_after_claim"));
	json_object_set_new(o, "signals", signals);
	json_object_set_new(o, "diversion",
	    json_boolean(r->flags & SCAN_DIVERSION));
	json_object_set_new(o, "bot", json_boolean(r->flags & SCAN_BOT));
	{
		struct trace_ctx tc = { app, json_array() };

		if (s->known)
			store_code_events(app->store, s->info.brand.id, r->serial,
			    trace_one, &tc);
		json_object_set_new(o, "trace", tc.arr);
	}
	json_object_set_new(o, "reward", s->known && !(r->flags & SCAN_BOT) ?
	    loyalty_reward_json(app, s->info.brand.id, s->info.batch.id, s->info.product.sku,
	    r->serial, r->device) : json_null());
	json_object_set_new(o, "scan_id", json_string(id));
	return o;
}

/*
 * Step 3 of a scan's answer (CONTRACT.md): a genuine human scan of a
 * known code, for which a redirect rule of its batch or product holds,
 * is answered 307 to the rule's href, the query passed on but s and
 * linkType. Bots and link previewers get sigil's page (redirect.h).
 */
static int
scan_redirect(struct http_call *c, struct scan_ctx *s)
{
	const struct scan_rec *r = &s->job.rec;
	struct redirect_in in;
	char href[REDIRECT_HREF_MAX + 1], loc[REDIRECT_URL_MAX];

	if (!s->known || r->verdict != VERDICT_GENUINE || (r->flags & SCAN_BOT))
		return 0;
	redirect_in_fill(&in, http_header(c, "Accept-Language"),
	    http_header(c, "User-Agent"), s->new_device ? 0 : r->device, r->at);
	if (redirect_pick(c->app, s->info.brand.id, s->info.product.sku,
	    s->info.batch.id, &in, href, sizeof href) != 0)
		return 0;
	redirect_location(href, evhttp_request_get_uri(c->req), loc, sizeof loc);
	http_add_header(c, "Location", loc);
	http_reply(c, 307, NULL, NULL);
	return 1;
}

static void
scan_done(struct writer_job *job)
{
	struct scan_ctx *s = job->arg;
	struct http_call *c = s->call;
	struct app *app = c->app;
	struct evbuffer *body;
	char id[SCAN_ID_LEN + 1];

	if (job->err != 0) {
		app->scan_errors++;
		http_reply_error(c, 503, "unavailable",
		    "the scan could not be recorded; try again");
		goto out;
	}
	if (job->rec.flags & SCAN_BOT)
		app->bot_scans++;
	else
		app->scans_by_verdict[job->rec.verdict % 5]++;
	if (s->new_device) {
		char cookie[SCAN_COOKIE_LEN + 1], header[160];

		scan_cookie_make(app->cookie_key, job->rec.device, cookie);
		snprintf(header, sizeof header, "%s=%s; Path=/; Max-Age=63072000;"
		    " HttpOnly; SameSite=Lax%s", SCAN_COOKIE_NAME, cookie,
		    app->secure_cookies ? "; Secure" : "");
		http_add_header(c, "Set-Cookie", header);
	}
	http_add_header(c, "Cache-Control", "no-store");
	http_add_header(c, "Vary", "Accept, Accept-Language");
	if (s->json) {
		http_reply_jsont(c, 200, scan_json(app, s));
		goto out;
	}
	if (scan_redirect(c, s))
		goto out;
	if ((body = evbuffer_new()) == NULL) {
		http_reply_error(c, 503, "unavailable", "out of memory");
		goto out;
	}
	{
		struct page_view v = { 0 };
		struct content_view cv = { 0 };

		scan_id_format(app->cookie_key, job->rec.id, id);
		v.verdict = job->rec.verdict;
		v.first_scan = (job->rec.flags & SCAN_FIRST) != 0;
		v.scan_count = job->state.scan_count;
		v.first_at = job->state.first_at;
		v.scan_id = id;
		v.bot = (job->rec.flags & SCAN_BOT) != 0;
		v.diversion = (job->rec.flags & SCAN_DIVERSION) != 0;
		if (s->known) {
			v.brand_name = s->info.brand.name;
			v.product_name = s->info.product.name;
			v.sku = s->info.product.sku;
			v.gtin = s->info.product.gtin[0] ? s->info.product.gtin : NULL;
			v.lot = s->info.batch.lot[0] ? s->info.batch.lot : NULL;
			v.batch_id = s->info.batch.id;
			v.serial = job->rec.serial;
			v.expires = s->info.batch.expires;
			/* The brand's content (page_content.c decides what
			 * each verdict shows of it). */
			if (content_view_load(app, s->info.brand.id,
			    s->info.product.sku, s->info.batch.id,
			    job->rec.serial, http_header(c, "Accept-Language"),
			    NULL, 0, &cv) == 0)
				v.content = &cv.pc;
		}
		page_render(&v, s->lang, body);
		content_view_free(&cv);
	}
	http_add_header(c, "Content-Security-Policy", page_csp(0));
	http_reply(c, 200, "text/html; charset=utf-8", body);
	evbuffer_free(body);
out:
	free(s);
}

/*
 * The public root of this resolver: --base-url, else the address and
 * port this connection reached (the listening address). Never the Host
 * header: the client chooses it, and a shared cache in front would keep
 * an answer whose links point wherever an attacker said.
 */
static void
resolver_root(struct http_call *c, char *out, size_t size)
{
	struct app *app = c->app;
	struct evhttp_connection *evcon = evhttp_request_get_connection(c->req);
	struct bufferevent *bev = evcon ?
	    evhttp_connection_get_bufferevent(evcon) : NULL;
	const char *scheme = app->secure_cookies ? "https" : "http";
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	char ip[INET6_ADDRSTRLEN];
	const uint8_t *a6;

	if (app->base_url != NULL) {
		snprintf(out, size, "%s", app->base_url);
		if (out[0] != '\0' && out[strlen(out) - 1] == '/')
			out[strlen(out) - 1] = '\0';
		return;
	}
	if (bev == NULL || getsockname(bufferevent_getfd(bev),
	    (struct sockaddr *)&ss, &len) != 0) {
		snprintf(out, size, "%s://localhost", scheme);
		return;
	}
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof ip);
		snprintf(out, size, "%s://%s:%d", scheme, ip,
		    ntohs(sin->sin_port));
		return;
	}
	a6 = ((struct sockaddr_in6 *)&ss)->sin6_addr.s6_addr;
	if (IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)a6)) {
		inet_ntop(AF_INET, a6 + 12, ip, sizeof ip);
		snprintf(out, size, "%s://%s:%d", scheme, ip,
		    ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
		return;
	}
	inet_ntop(AF_INET6, a6, ip, sizeof ip);
	snprintf(out, size, "%s://[%s]:%d", scheme, ip,
	    ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
}

/*
 * ?linkType= other than the product page: gs1:traceability answers the
 * trace as JSON, "all" (or linkset) an RFC 9264 linkset of what this
 * resolver offers for the item. Neither is a person scanning: nothing
 * is recorded.
 */
static void
gs1_link_reply(struct http_call *c, struct scan_ctx *s,
    const struct gs1_link *gs1, const struct code *code, int verdict)
{
	struct app *app = c->app;
	char root[300], anchor[600], href[800], tag[CODE_GS1_TAG_LEN + 8];
	json_t *set, *links;

	resolver_root(c, root, sizeof root);
	snprintf(anchor, sizeof anchor, "%s/01/%s%s%s%s%s", root, gs1->gtin,
	    gs1->lot[0] ? "/10/" : "", gs1->lot, gs1->serial[0] ? "/21/" : "",
	    gs1->serial);
	snprintf(tag, sizeof tag, "%s%s", gs1->tag[0] ? "?s=" : "", gs1->tag);
	if (strcmp(gs1->link_type, "gs1:traceability") == 0) {
		struct trace_ctx tc = { app, json_array() };

		if (code == NULL || !s->known) {
			json_decref(tc.arr);
			http_reply_error(c, 404, "not_found", "no such item");
			return;
		}
		store_code_events(app->store, s->info.brand.id, code->serial,
		    trace_one, &tc);
		http_reply_jsont(c, 200, json_pack("{s:s,s:s,s:o}", "anchor",
		    anchor, "verdict", scan_verdict_name(verdict), "trace",
		    tc.arr));
		return;
	}
	if (strcmp(gs1->link_type, "all") != 0 &&
	    strcmp(gs1->link_type, "linkset") != 0) {
		http_reply_error(c, 404, "link_type_unavailable", "this "
		    "resolver offers linkType gs1:pip, gs1:traceability and "
		    "all");
		return;
	}
	links = json_object();
	json_object_set_new(links, "anchor", json_string(anchor));
	snprintf(href, sizeof href, "%s%s%slinkType=gs1:pip", anchor, tag,
	    tag[0] ? "&" : "?");
	set = json_pack("[{s:s,s:s,s:s,s:[s,s]}]", "href", href, "title",
	    "Product information and authenticity check", "type", "text/html",
	    "hreflang", "zh-CN", "en");
	json_object_set(links, "https://gs1.org/voc/pip", set);
	json_object_set_new(links, "https://gs1.org/voc/defaultLink", set);
	snprintf(href, sizeof href, "%s%s%slinkType=gs1:traceability", anchor,
	    tag, tag[0] ? "&" : "?");
	json_object_set_new(links, "https://gs1.org/voc/traceability",
	    json_pack("[{s:s,s:s,s:s}]", "href", href, "title",
	    "Traceability", "type", "application/json"));
	set = json_pack("{s:[o]}", "linkset", links);
	{
		char *text = json_dumps(set, JSON_COMPACT);

		json_decref(set);
		if (text == NULL) {
			http_reply_error(c, 503, "unavailable", "out of memory");
			return;
		}
		http_add_header(c, "Cache-Control", "no-store");
		http_reply_json_type(c, 200, "application/linkset+json", text);
		free(text);
	}
}

void
consumer_scan(struct http_call *c)
{
	struct app *app = c->app;
	struct scan_ctx *s;
	struct code code;
	struct gs1_link gs1;
	struct scan_rec *r;
	const char *raw = evhttp_request_get_uri(c->req);
	const char *purpose;
	int verdict = VERDICT_COUNTERFEIT, parsed = 0, is_gs1 = 0;

	if ((s = calloc(1, sizeof *s)) == NULL) {
		http_reply_error(c, 503, "unavailable", "out of memory");
		return;
	}
	s->call = c;
	s->json = wants_json(c);
	s->lang = page_lang_pick(http_header(c, "Accept-Language"));
	if (c->path[1] == 'S' || c->path[1] == 's') {
		const char *text = c->path + 3;

		parsed = code_compact_decode(text, strlen(text), &code) == 0;
	} else {
		/*
		 * A Digital Link that is not even well-formed (check digit,
		 * qualifier order, lengths) is a bad request, not a scan.
		 */
		is_gs1 = 1;
		if (code_gs1_parse(raw, strlen(raw), &gs1) != 0) {
			free(s);
			http_reply_error(c, 400, "bad_digital_link", "not a valid "
			    "GS1 Digital Link: GTIN check digit, qualifier order "
			    "(22, 10, 21) and value lengths are checked");
			return;
		}
		if (gs1.serial[0] == '\0') {
			free(s);
			http_reply_error(c, 404, "not_serialized", "this Digital "
			    "Link names a product, not one item; scan the code "
			    "on the item");
			return;
		}
		parsed = code_from_gs1(&gs1, &code) == 0;
	}
	if (parsed)
		verdict = lookup_resolve(app, &code, is_gs1 ? &gs1 : NULL,
		    &s->info, &s->known);
	if (is_gs1 && gs1.link_type[0] != '\0' &&
	    strcmp(gs1.link_type, "gs1:pip") != 0 &&
	    strcmp(gs1.link_type, "pip") != 0) {
		gs1_link_reply(c, s, &gs1, parsed ? &code : NULL, verdict);
		free(s);
		return;
	}

	r = &s->job.rec;
	r->at = sigil_now_us();
	r->verdict = (uint8_t)verdict;
	if (s->known) {
		r->brand_id = s->info.brand.id;
		r->batch_id = s->info.batch.id;
		r->serial = code.serial;
	}
	if (is_gs1)
		r->flags |= SCAN_GS1;
	purpose = http_header(c, "Sec-Purpose");
	if (purpose == NULL)
		purpose = http_header(c, "Purpose");
	if (purpose == NULL)
		purpose = http_header(c, "X-Purpose");
	if (purpose == NULL)
		purpose = http_header(c, "X-Moz");
	if (scan_is_bot(c->method == EVHTTP_REQ_HEAD,
	    http_header(c, "User-Agent"), purpose))
		r->flags |= SCAN_BOT;
	r->device = device_of(app, c, &s->new_device);
	if (s->new_device)
		r->flags |= SCAN_ANON;
	memcpy(r->ip, c->client, sizeof r->ip);
	/* A claimed label scanned by someone else is a clone signal (§4). */
	if (s->known && !(r->flags & SCAN_BOT) && loyalty_claimed_by_other(app,
	    s->info.brand.id, r->serial, r->device))
		r->flags |= SCAN_CLAIMED_OTHER;
	s->job.kind = WRITER_SCAN;
	s->job.max_scanners = s->known ? s->info.product.max_scanners : 0;
	submit(c, &s->job, scan_done, s);
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

/* ---- GS1 resolver description (GS1 Resolver standard, §well-known) */

void
consumer_gs1resolver(struct http_call *c)
{
	char root[300];

	resolver_root(c, root, sizeof root);
	http_reply_jsont(c, 200, json_pack("{s:s,s:s,s:[s],s:b,s:[{s:s,s:s}],"
	    "s:[s,s,s],s:s}", "name", "sigil", "resolverRoot", root,
	    "supportedPrimaryKeys", "01", "linkTypeDefaultCanBeLinkset", 0,
	    "supportedLinkType", "namespace", "https://gs1.org/voc/", "prefix",
	    "gs1:", "linkTypes", "gs1:pip", "gs1:traceability", "all",
	    "version", "sigil/1"));
}

/* ---- health and metrics ---- */

void
consumer_healthz(struct http_call *c)
{
	struct app *app = c->app;
	struct brand b;
	int err = store_brand_get(app->store, 1, &b);

	if (err != 0 && err != SIGIL_ENOTFOUND)
		http_reply_error(c, 503, "unhealthy", "storage unreadable");
	else
		http_reply_json(c, 200, "{\"status\":\"ok\"}\n");
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
	for (int v = 0; v < 5; v++)
		evbuffer_add_printf(b, "sigil_scans_total{verdict=\"%s\"} %llu\n",
		    scan_verdict_name(v),
		    (unsigned long long)app->scans_by_verdict[v]);
	evbuffer_add_printf(b, "# TYPE sigil_bot_scans_total counter\n"
	    "sigil_bot_scans_total %llu\n"
	    "# TYPE sigil_scan_errors_total counter\n"
	    "sigil_scan_errors_total %llu\n"
	    "# TYPE sigil_locations_total counter\n"
	    "sigil_locations_total %llu\n",
	    (unsigned long long)app->bot_scans,
	    (unsigned long long)app->scan_errors,
	    (unsigned long long)app->locations);
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
	    "# TYPE sigil_commit_failures_total counter\n"
	    "sigil_commit_failures_total %llu\n", (unsigned long long)cum,
	    ws.latency_sum_s, (unsigned long long)ws.commits,
	    (unsigned long long)ws.failures);
	if (store_usage(app->store, &map, &used) == 0)
		evbuffer_add_printf(b, "# HELP sigil_lmdb_map_bytes LMDB map "
		    "size.\n# TYPE sigil_lmdb_map_bytes gauge\n"
		    "sigil_lmdb_map_bytes %llu\n"
		    "# TYPE sigil_lmdb_used_bytes gauge\n"
		    "sigil_lmdb_used_bytes %llu\n", (unsigned long long)map,
		    (unsigned long long)used);
	store_wal_stats(app->store, &wst);
	if (wst.on)
		evbuffer_add_printf(b, "# HELP sigil_wal_records_total "
		    "Transactions written to the write-ahead log.\n"
		    "# TYPE sigil_wal_records_total counter\n"
		    "sigil_wal_records_total %llu\n"
		    "# TYPE sigil_wal_bytes_total counter\n"
		    "sigil_wal_bytes_total %llu\n"
		    "# HELP sigil_wal_checkpoints_total Checkpoints of data.mdb "
		    "(the log before them is no longer needed).\n"
		    "# TYPE sigil_wal_checkpoints_total counter\n"
		    "sigil_wal_checkpoints_total %llu\n"
		    "# TYPE sigil_wal_checkpoint_failures_total counter\n"
		    "sigil_wal_checkpoint_failures_total %llu\n",
		    (unsigned long long)wst.records,
		    (unsigned long long)wst.bytes,
		    (unsigned long long)wst.checkpoints,
		    (unsigned long long)wst.checkpoint_failures);
	store_state_info(app->store, &si);
	evbuffer_add_printf(b, "# TYPE sigil_writer_pending gauge\n"
	    "sigil_writer_pending %u\n"
	    "# HELP sigil_state_pending_codes Codes whose state is not yet "
	    "merged into code_state.\n"
	    "# TYPE sigil_state_pending_codes gauge\n"
	    "sigil_state_pending_codes %zu\n"
	    "# TYPE sigil_state_merged_codes_total counter\n"
	    "sigil_state_merged_codes_total %llu\n",
	    writer_pending(app->writer), si.pending,
	    (unsigned long long)si.merged);
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
