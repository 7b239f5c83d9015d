/*
 * http_scan.c - one scan, recorded and answered: what the compact scan
 * (consumer.c) and the GS1 resolver (resolver.c) share, so that neither
 * handler calls the other.
 *
 * The record is queued for the writer; the answer is sent from
 * scan_done(), after the commit: the judgement that needs the code's
 * history (first scan, count, clone signals) is made inside the writer's
 * transaction by scan_judge(), so two simultaneous scans of one code can
 * never both be "first". Only then is the consumer sent anywhere: the
 * scan's JSON, sigil's page, or a 307 to the brand's link (the order is
 * in http_scan.h). Genuineness comes first: a verdict other than genuine
 * is always sigil's own page, whatever links the brand has set, with the
 * brand's gs1:support link when it has one.
 *
 * A helper of handlers (a face file named http*.c). May call code,
 * lookup, links, redirect (the scan's rule), content (the brand's
 * content), store (reads), scan, trace (step names), rewards, page,
 * writer, http. Never writes to the store directly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <jansson.h>

#include "sigil/app.h"
#include "sigil/campaign.h"
#include "sigil/content.h"
#include "sigil/geoip.h"
#include "sigil/customer.h"
#include "sigil/http.h"
#include "sigil/http_scan.h"
#include "sigil/links.h"
#include "sigil/page.h"
#include "sigil/redirect.h"
#include "sigil/rewards.h"
#include "sigil/scan.h"
#include "sigil/store.h"
#include "sigil/trace.h"
#include "sigil/util.h"
#include "sigil/wechat.h"

static int
wants_json(struct http_call *c)
{
	const char *accept = http_header(c, "Accept");

	return accept != NULL && strstr(accept, "application/json") != NULL;
}

struct scan_ctx *
http_scan_new(struct http_call *c)
{
	struct scan_ctx *s = calloc(1, sizeof *s);

	if (s == NULL) {
		http_reply_error(c, 503, "unavailable", "out of memory");
		return NULL;
	}
	s->call = c;
	s->json = wants_json(c);
	s->lang = page_lang_pick(http_header(c, "Accept-Language"));
	return s;
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

json_t *
http_scan_trace(struct app *app, uint32_t brand_id, uint64_t serial)
{
	struct trace_ctx tc = { app, json_array() };

	store_code_events(app->store, brand_id, serial, trace_one, &tc);
	return tc.arr;
}

static json_t *
scan_json(struct app *app, struct scan_ctx *s)
{
	const struct scan_rec *r = &s->job.rec;
	const struct code_state *st = &s->job.state;
	char id[SCAN_ID_LEN + 1], t[SIGIL_TIME_LEN + 1];
	char check[SCAN_CHECK_LEN + 1];
	json_t *o = json_object(), *signals = json_array();

	scan_id_format(app->cookie_key, r->id, id);
	scan_check_format(r->id, check);
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
		char shown[STORE_TEXT_BYTES + 1];

		json_object_set_new(o, "brand", json_pack("{s:s,s:s?}", "name",
		    s->info.brand.name, "display_name", content_display_name(
		    app, s->info.brand.id, http_header(s->call,
		    "Accept-Language"), shown, sizeof shown) == 0 ? shown :
		    NULL));
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
	json_object_set_new(o, "trace", s->known ? http_scan_trace(app,
	    s->info.brand.id, r->serial) : json_array());
	json_object_set_new(o, "reward", s->known && !(r->flags & SCAN_BOT) ?
	    loyalty_reward_json(app, s->info.brand.id, s->info.batch.id, s->info.product.sku,
	    r->serial, r->device) : json_null());
	json_object_set_new(o, "scan_id", json_string(id));
	json_object_set_new(o, "check_id", json_string(check));
	return o;
}

void
http_scan_redirect(struct http_call *c, const char *href)
{
	char loc[REDIRECT_URL_MAX];

	/* Too long to pass the query on: href alone (redirect.h). */
	(void)redirect_location(href, evhttp_request_get_uri(c->req), loc,
	    sizeof loc);
	http_add_header(c, "Location", loc);
	http_reply(c, 307, NULL, NULL);
}

/* The item's links as the walk-up sees them (links.h). */
static void
item_of(const struct scan_ctx *s, struct links_item *it, char serial[24])
{
	memset(it, 0, sizeof *it);
	if (s->known) {
		snprintf(serial, 24, "%llu", (unsigned long long)s->job.rec.serial);
		it->gtin = s->info.product.gtin;
		it->lot = s->info.batch.lot;
		it->serial = serial;
		it->sku = s->info.product.sku;
		it->batch = s->info.batch.id;
	} else if (s->held) {
		it->gtin = s->held_product.gtin;
		it->sku = s->held_product.sku;
	}
	it->accept_language = http_header(s->call, "Accept-Language");
}

/*
 * Where the code was first checked, when that scan's place was shared
 * (page.c rounds it to 0.1 degree): a later scanner far from it learns
 * the code has been read elsewhere. One read of the first scan, on
 * repeat scans only.
 */
static void
first_place(struct app *app, const struct writer_job *job,
    struct page_view *v)
{
	struct scan_rec first;

	if ((job->rec.flags & SCAN_FIRST) || job->state.first_scan_id == 0 ||
	    job->state.first_scan_id == job->rec.id ||
	    store_scan_get(app->store, job->state.first_scan_id, &first) != 0 ||
	    !(first.flags & SCAN_HAS_LOC))
		return;
	v->has_first_place = 1;
	v->first_lat = first.lat;
	v->first_lng = first.lng;
}

/*
 * The page, for any verdict: the product as far as it is known, and for
 * a verdict other than genuine the brand's support link (support, a
 * link of links, or NULL).
 */
static void
page_answer(struct http_call *c, struct scan_ctx *s, const struct link *sup)
{
	struct app *app = c->app;
	struct writer_job *job = &s->job;
	struct evbuffer *body = evbuffer_new();
	char id[SCAN_ID_LEN + 1], check[SCAN_CHECK_LEN + 1];
	char shown[STORE_TEXT_BYTES + 1];
	struct page_view v = { 0 };
	struct content_view cv = { 0 };
	const struct campaign_rules *rules;

	if (body == NULL) {
		http_reply_error(c, 503, "unavailable", "out of memory");
		return;
	}
	scan_id_format(app->cookie_key, job->rec.id, id);
	v.verdict = job->rec.verdict;
	v.first_scan = (job->rec.flags & SCAN_FIRST) != 0;
	v.scan_count = job->state.scan_count;
	v.first_at = job->state.first_at;
	first_place(app, job, &v);
	v.scan_id = id;
	scan_check_format(job->rec.id, check);
	v.check_id = check;
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
		/* page.c shows the reward card only where a verdict allows. */
		rules = campaign_find(app, s->info.brand.id, s->info.batch.id,
		    s->info.product.sku, 0, sigil_now_us());
		v.reward = rules != NULL;
		v.cash = rules != NULL && rules->has_cash;
		/* The brand's content (page_content.c decides what each
		 * verdict shows of it). */
		if (content_view_load(app, s->info.brand.id,
		    s->info.product.sku, s->info.batch.id, job->rec.serial,
		    http_header(c, "Accept-Language"), NULL, 0, &cv) == 0)
			v.content = &cv.pc;
	} else if (s->held && job->rec.verdict == VERDICT_UNVERIFIED) {
		/* The product the link claims; nothing about the item. */
		v.brand_name = content_display_name(app, s->held_brand.id,
		    http_header(c, "Accept-Language"), shown, sizeof shown) ==
		    0 ? shown : s->held_brand.name;
		v.product_name = s->held_product.name;
		v.gtin = s->held_product.gtin;
	}
	if (sup != NULL) {
		v.support_url = sup->href;
		v.support_title = sup->title;
	}
	page_render(&v, s->lang, body);
	content_view_free(&cv);
	http_add_header(c, "Content-Security-Policy", page_csp(0));
	http_reply(c, 200, "text/html; charset=utf-8", body);
	evbuffer_free(body);
}

/*
 * Step 3 (CONTRACT.md): a genuine human scan of a known code, for which
 * a redirect rule of its batch or product holds, is answered 307 to the
 * rule's href, the query passed on but s and linkType. Bots and link
 * previewers get sigil's page (redirect.h). 1 when answered.
 */
static int
rule_redirect(struct http_call *c, struct scan_ctx *s)
{
	const struct scan_rec *r = &s->job.rec;
	struct redirect_in in;
	char href[REDIRECT_HREF_MAX + 1];

	if (!s->known || r->verdict != VERDICT_GENUINE || (r->flags & SCAN_BOT))
		return 0;
	redirect_in_fill(&in, http_header(c, "Accept-Language"),
	    http_header(c, "User-Agent"), s->new_device ? 0 : r->device, r->at);
	if (redirect_pick(c->app, s->info.brand.id, s->info.product.sku,
	    s->info.batch.id, &in, href, sizeof href) != 0)
		return 0;
	http_scan_redirect(c, href);
	return 1;
}

static void
scan_answer(struct http_call *c, struct scan_ctx *s)
{
	struct app *app = c->app;
	struct links_item it;
	struct link *links = NULL;
	const struct link *to = NULL;
	uint32_t brand = s->known ? s->info.brand.id : s->held ?
	    s->held_brand.id : 0;
	char serial[24];
	size_t n = 0;

	if (s->json) {
		http_reply_jsont(c, 200, scan_json(app, s));
		return;
	}
	item_of(s, &it, serial);
	if (brand != 0 && links_of_item(app->store, brand, &it, &links,
	    &n) != 0)
		n = 0;
	if (s->job.rec.verdict != VERDICT_GENUINE) {
		page_answer(c, s, links_pick(links, n, &it, "gs1:support"));
		free(links);
		return;
	}
	if (s->link_type[0] != '\0')
		to = links_pick(links, n, &it, s->link_type);
	if (to == NULL && rule_redirect(c, s)) {
		free(links);
		return;
	}
	/* Without a page of the brand's, gs1:pip is sigil's own page. */
	if (to == NULL && strcmp(s->link_type, "gs1:pip") != 0)
		to = links_pick(links, n, &it, NULL);
	if (to != NULL)
		http_scan_redirect(c, to->href);
	else
		page_answer(c, s, NULL);
	free(links);
}

static void
scan_done(struct writer_job *job)
{
	struct scan_ctx *s = job->arg;
	struct http_call *c = s->call;
	struct app *app = c->app;

	if (job->err != 0) {
		app->scan_errors++;
		http_reply_error(c, 503, "unavailable",
		    "the scan could not be recorded; try again");
		goto out;
	}
	if (job->rec.region != 0)
		app->scans_placed++;
	if (job->rec.flags & SCAN_BOT)
		app->bot_scans++;
	else
		app->scans_by_verdict[job->rec.verdict % SCAN_VERDICTS]++;
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
	scan_answer(c, s);
out:
	free(s);
}

/* Whether the customer of device holds an openid of the official account. */
struct has_oa {
	const char	*appid;
	int		 found;
};

static int
has_oa_one(void *arg, const struct ident *i)
{
	struct has_oa *h = arg;

	if (i->kind == IDENT_WECHAT_OA && strcmp(i->app, h->appid) == 0)
		h->found = 1;
	return h->found;
}

/*
 * The detour through WeChat's authorisation (http_scan.h): 1 when the
 * scan was answered 302 to WeChat (nothing recorded), 0 to go on.
 */
static int
wechat_detour(struct http_call *c, struct scan_ctx *s)
{
	struct app *app = c->app;
	const struct scan_rec *r = &s->job.rec;
	struct wechat_config cfg;
	struct customer cu;
	struct has_oa h;
	char skip[8], state[WECHAT_STATE_LEN + 1], url[4096];
	char cookie[SCAN_COOKIE_LEN + 1], header[160];
	const char *to = evhttp_request_get_uri(c->req);

	for (const char *p = to; p != NULL && *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
			return 0;	/* /wx/oauth takes printable ASCII only */
	if (app->wechat == NULL || s->json || !s->known ||
	    (r->flags & SCAN_BOT) || c->method != EVHTTP_REQ_GET ||
	    !wechat_user_agent(http_header(c, "User-Agent")) ||
	    http_cookie(c, HTTP_SCAN_WECHAT_SKIP, skip, sizeof skip) == 0 ||
	    to == NULL || to[0] != '/' || to[1] == '/' || strlen(to) > 1024 ||
	    store_wechat_config_get(app->store, s->info.brand.id, &cfg) != 0 ||
	    cfg.oa.appid[0] == '\0')
		return 0;
	if (!s->new_device && customer_of_device(app, s->info.brand.id,
	    r->device, &cu) == 0) {
		h.appid = cfg.oa.appid;
		h.found = 0;
		store_idents_of(app->store, s->info.brand.id, cu.id,
		    has_oa_one, &h);
		if (h.found)
			return 0;
	}
	if (wechat_state_make(app, s->info.brand.id, r->device, WECHAT_BASE,
	    to, state) != 0 || wechat_authorize_url(app, cfg.oa.appid,
	    app->base_url != NULL ? app->base_url : s->info.brand.base_url, to,
	    WECHAT_BASE, state, url, sizeof url) != 0)
		return 0;
	if (s->new_device) {
		scan_cookie_make(app->cookie_key, r->device, cookie);
		snprintf(header, sizeof header, "%s=%s; Path=/; Max-Age=63072000;"
		    " HttpOnly; SameSite=Lax%s", SCAN_COOKIE_NAME, cookie,
		    app->secure_cookies ? "; Secure" : "");
		http_add_header(c, "Set-Cookie", header);
	}
	app->wechat->redirects++;
	http_add_header(c, "Location", url);
	http_add_header(c, "Cache-Control", "no-store");
	http_reply(c, 302, NULL, NULL);
	free(s);
	return 1;
}

void
http_scan_submit(struct scan_ctx *s, const struct code *code, int verdict,
    int is_gs1)
{
	struct http_call *c = s->call;
	struct app *app = c->app;
	struct scan_rec *r = &s->job.rec;
	const char *purpose;

	r->at = sigil_now_us();
	r->verdict = (uint8_t)verdict;
	if (s->known && code != NULL) {
		r->brand_id = s->info.brand.id;
		r->batch_id = s->info.batch.id;
		r->serial = code->serial;
	} else if (verdict == VERDICT_COUNTERFEIT)
		r->attr_brand = s->key_brand;
	else if (verdict == VERDICT_UNVERIFIED && s->held)
		r->attr_brand = s->held_brand.id;
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
	/* The address's region: a guess, low-confidence (geoip.h). */
	if (app->geoip != NULL && geoip_lookup(app->geoip, r->ip, &s->place))
		r->place = &s->place;
	/* A claimed label scanned by someone else is a clone signal (§4). */
	if (s->known && !(r->flags & SCAN_BOT) && loyalty_claimed_by_other(app,
	    s->info.brand.id, r->serial, r->device))
		r->flags |= SCAN_CLAIMED_OTHER;
	if (wechat_detour(c, s))
		return;
	s->job.kind = WRITER_SCAN;
	s->job.max_scanners = s->known ? s->info.product.max_scanners : 0;
	s->job.done = scan_done;
	s->job.arg = s;
	if (writer_submit(app->writer, &s->job) != 0) {
		free(s);
		http_reply_error(c, 503, "unavailable",
		    "the server is busy or shutting down; try again");
	}
}
