/*
 * resolver.c - the GS1-Conformant Resolver: GS1 Digital Link paths
 * (/01/..., and every other primary key's) and /.well-known/gs1resolver.
 *
 * A request is answered in this order:
 *   - OPTIONS: 204 with the methods; every answer carries CORS headers
 *     (any origin, Link and Location exposed) so a web page may resolve;
 *   - a path or query that is not a well-formed Digital Link (code.c:
 *     check digits, qualifier order, every data attribute in the query
 *     checked against its AI): 400, nothing recorded;
 *   - a well-formed key sigil holds no item for (another primary key, or
 *     a GTIN no brand here has): 404, nothing recorded;
 *   - linkType=all or linkset, or Accept: application/linkset+json: the
 *     RFC 9264 linkset of the item, nothing recorded;
 *   - an item (a serial): the scan is recorded, then answered as
 *     http_scan.h says (the code's page, or a 307 to the brand's link
 *     when the verdict is genuine). A serial with s= that does not
 *     verify is counterfeit; a serial without s= is "unverified";
 *   - a GTIN or GTIN + lot ("walk up"): the requested link type, else
 *     the default link, by 307; else sigil's own product view (no
 *     verdict, nothing recorded: there is no item to judge).
 * Every answer about a held GTIN carries Link: <...>; rel="linkset".
 *
 * Its own URLs (resolverRoot, anchors, hrefs) start with --base-url or
 * the listening address, never the request's Host, with scheme and host
 * in lower case whatever case --base-url has (upper case makes smaller
 * QR codes; the linkset schema wants https?://).
 *
 * A handler. May call code, lookup, links, store (reads), http,
 * http_scan. Never writes; never calls another handler.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <jansson.h>

#include "sigil/app.h"
#include "sigil/content.h"
#include "sigil/code.h"
#include "sigil/http.h"
#include "sigil/http_scan.h"
#include "sigil/links.h"
#include "sigil/lookup.h"
#include "sigil/page.h"
#include "sigil/resolver.h"
#include "sigil/scan.h"
#include "sigil/store.h"
#include "sigil/util.h"

#define GS1_VOC		"https://gs1.org/voc/"
#define LINKSET_CONTEXT	"https://ref.gs1.org/standards/resolver/linkset-context"
#define ROOT_MAX	300
#define ANCHOR_MAX	700
#define HOLDERS_MAX	4

/* OPTIONS: 1 when answered (204 with what is allowed). */
static int
options(struct http_call *c)
{
	if (c->method != EVHTTP_REQ_OPTIONS)
		return 0;
	http_add_header(c, "Allow", "GET, HEAD, OPTIONS");
	http_add_header(c, "Access-Control-Max-Age", "86400");
	http_reply(c, 204, NULL, NULL);
	return 1;
}

static void
lower_scheme_host(char *url)
{
	char *p = strstr(url, "://");

	if (p == NULL)
		return;
	for (char *q = url; q < p; q++)
		if (*q >= 'A' && *q <= 'Z')
			*q = (char)(*q - 'A' + 'a');
	for (char *q = p + 3; *q != '\0' && *q != '/'; q++)
		if (*q >= 'A' && *q <= 'Z')
			*q = (char)(*q - 'A' + 'a');
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
		lower_scheme_host(out);
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
	lower_scheme_host(out);
}

/* "/ai/value", the value percent-encoded but for unreserved bytes. */
static void
path_put(struct evbuffer *b, const char *ai, const char *v)
{
	if (v[0] == '\0')
		return;
	evbuffer_add_printf(b, "/%s/", ai);
	for (; *v != '\0'; v++) {
		unsigned char ch = (unsigned char)*v;

		if ((ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= 'a' && ch <= 'z') || ch == '-' || ch == '.' ||
		    ch == '_')
			evbuffer_add(b, v, 1);
		else
			evbuffer_add_printf(b, "%%%02X", ch);
	}
}

/* The canonical URI of what gs1 names, under this resolver's root. */
static void
anchor_of(struct http_call *c, const struct gs1_link *gs1, char *out,
    size_t size)
{
	struct evbuffer *b = evbuffer_new();
	char root[ROOT_MAX];
	size_t n;

	resolver_root(c, root, sizeof root);
	out[0] = '\0';
	if (b == NULL)
		return;
	evbuffer_add_printf(b, "%s/01/%s", root, gs1->gtin);
	path_put(b, "22", gs1->cpv);
	path_put(b, "10", gs1->lot);
	path_put(b, "21", gs1->serial);
	path_put(b, "235", gs1->tpx);
	n = evbuffer_get_length(b);
	if (n >= size)
		n = size - 1;
	evbuffer_copyout(b, out, n);
	out[n] = '\0';
	evbuffer_free(b);
}

static int
accepts(struct http_call *c, const char *type)
{
	const char *a = http_header(c, "Accept");

	return a != NULL && strstr(a, type) != NULL;
}

/* What the resolver knows of one request. */
struct req {
	struct gs1_link		gs1;
	struct scan_ctx		*s;	/* the scan, if it comes to one */
	struct code		code;
	int			verdict;
	uint32_t		brand;	/* 0: several brands hold the GTIN */
	const char		*name;	/* the product's, for itemDescription */
	struct links_item	item;
	struct link		*links;	/* the brand's, for item */
	size_t			nlinks;
	char			anchor[ANCHOR_MAX];
	char			tagq[CODE_GS1_TAG_LEN + 4];	/* "?s=TAG" */
};

/* {href, title[, type][, hreflang]}: a link object of the schema. */
static json_t *
link_object(const struct link *l, int full)
{
	json_t *o = json_pack("{s:s,s:s}", "href", l->href, "title", l->title);
	char langs[sizeof l->hreflang], *save = NULL, *tok;

	if (!full)
		return o;
	if (l->media_type[0] != '\0')
		json_object_set_new(o, "type", json_string(l->media_type));
	if (l->hreflang[0] != '\0') {
		json_t *a = json_array();

		snprintf(langs, sizeof langs, "%s", l->hreflang);
		for (tok = strtok_r(langs, ",", &save); tok != NULL;
		    tok = strtok_r(NULL, ",", &save))
			json_array_append_new(a, json_string(tok));
		json_object_set_new(o, "hreflang", a);
	}
	return o;
}

/* One of sigil's own links, as a struct link for the same code paths. */
static void
own_link(struct link *l, const char *href, const char *title,
    const char *type, const char *type_name)
{
	memset(l, 0, sizeof *l);
	snprintf(l->href, sizeof l->href, "%s", href);
	snprintf(l->title, sizeof l->title, "%s", title);
	snprintf(l->media_type, sizeof l->media_type, "%s", type);
	snprintf(l->link_type, sizeof l->link_type, "%s", type_name);
	snprintf(l->hreflang, sizeof l->hreflang, "zh-CN,en");
}

/*
 * The linkset (RFC 9264, GS1 linkset schema): anchor, itemDescription,
 * per link type the brand's links of the most specific level that has
 * that type, sigil's own page (gs1:pip) and trace (gs1:traceability,
 * only for a code that verified) where the brand has none, and
 * defaultLink with href and title only. Every href answers: brand links
 * are http(s) targets; sigil's are this resolver's, which answer 200 or
 * redirect for a held GTIN.
 */
static void
linkset_reply(struct http_call *c, struct req *q)
{
	struct link own;
	json_t *set = json_object(), *doc;
	const struct link *def;
	char href[ANCHOR_MAX + 64], desc[STORE_TEXT_BYTES + 64], *text;

	json_object_set_new(set, "anchor", json_string(q->anchor));
	if (q->name != NULL)
		snprintf(desc, sizeof desc, "%s", q->name);
	else
		snprintf(desc, sizeof desc, "GTIN %s", q->gs1.gtin);
	json_object_set_new(set, "itemDescription", json_string(desc));
	json_object_set_new(set, "description", json_string(desc));
	for (size_t i = 0; i < q->nlinks; i++) {
		const struct link *l = &q->links[i];
		char key[sizeof GS1_VOC + LINK_TYPE_MAX];
		json_t *arr;

		/* The most specific level of each type wins (walk-up). */
		if (links_pick(q->links, q->nlinks, &q->item, l->link_type) ==
		    NULL || links_level(l, &q->item) != links_level(links_pick(
		    q->links, q->nlinks, &q->item, l->link_type), &q->item))
			continue;
		snprintf(key, sizeof key, GS1_VOC "%s", l->link_type + 4);
		if ((arr = json_object_get(set, key)) == NULL) {
			arr = json_array();
			json_object_set_new(set, key, arr);
		}
		json_array_append_new(arr, link_object(l, 1));
	}
	snprintf(href, sizeof href, "%s%s%slinkType=gs1:pip", q->anchor,
	    q->tagq, q->tagq[0] ? "&" : "?");
	own_link(&own, href, q->gs1.serial[0] ? "Product information and "
	    "authenticity check" : "Product information", "text/html",
	    "gs1:pip");
	if (json_object_get(set, GS1_VOC "pip") == NULL)
		json_object_set_new(set, GS1_VOC "pip", json_pack("[o]",
		    link_object(&own, 1)));
	def = links_pick(q->links, q->nlinks, &q->item, NULL);
	json_object_set_new(set, GS1_VOC "defaultLink", json_pack("[o]",
	    link_object(def != NULL ? def : &own, 0)));
	if (q->s != NULL && q->s->known &&
	    json_object_get(set, GS1_VOC "traceability") == NULL) {
		snprintf(href, sizeof href, "%s%s&linkType=gs1:traceability",
		    q->anchor, q->tagq);
		own_link(&own, href, "Traceability", "application/json",
		    "gs1:traceability");
		own.hreflang[0] = '\0';
		json_object_set_new(set, GS1_VOC "traceability", json_pack(
		    "[o]", link_object(&own, 1)));
	}
	doc = json_pack("{s:[o]}", "linkset", set);
	text = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	if (text == NULL) {
		http_reply_error(c, 503, "unavailable", "out of memory");
		return;
	}
	http_add_header(c, "Link", "<" LINKSET_CONTEXT ">; rel=\"http://www.w3."
	    "org/ns/json-ld#context\"; type=\"application/ld+json\"");
	http_add_header(c, "Cache-Control", "no-store");
	http_add_header(c, "Vary", "Accept");
	http_reply_json_type(c, 200, "application/linkset+json", text);
	free(text);
}

/* GTIN or GTIN + lot: the requested or default link, else the product. */
static void
product_reply(struct http_call *c, struct req *q)
{
	const struct link *to = NULL;
	struct evbuffer *body;
	struct page_view v = { 0 };
	char shown[STORE_TEXT_BYTES + 1];

	if (q->gs1.link_type[0] != '\0')
		to = links_pick(q->links, q->nlinks, &q->item,
		    q->gs1.link_type);
	/* Without a page of the brand's, gs1:pip is sigil's product view
	 * (the linkset offers it so). */
	if (to == NULL && strcmp(q->gs1.link_type, "gs1:pip") != 0)
		to = links_pick(q->links, q->nlinks, &q->item, NULL);
	http_add_header(c, "Cache-Control", "no-store");
	if (to != NULL) {
		http_scan_redirect(c, to->href);
		return;
	}
	if ((body = evbuffer_new()) == NULL) {
		http_reply_error(c, 503, "unavailable", "out of memory");
		return;
	}
	v.verdict = PAGE_VIEW_PRODUCT;
	v.bot = 1;	/* no scan, so no location to share */
	if (q->brand != 0) {
		v.brand_name = content_display_name(c->app,
		    q->s->held_brand.id, http_header(c, "Accept-Language"),
		    shown, sizeof shown) == 0 ? shown : q->s->held_brand.name;
		v.product_name = q->s->held_product.name;
	}
	v.gtin = q->gs1.gtin;
	v.lot = q->gs1.lot[0] ? q->gs1.lot : NULL;
	page_render(&v, q->s->lang, body);
	http_add_header(c, "Vary", "Accept, Accept-Language");
	http_add_header(c, "Content-Security-Policy", page_csp(0));
	http_reply(c, 200, "text/html; charset=utf-8", body);
	evbuffer_free(body);
}

/*
 * Who holds the GTIN: the verified code's brand, else the one brand with
 * a product of that GTIN (q->brand 0 when several do). 0, or -1 when no
 * brand here holds it.
 */
static int
holder(struct app *app, struct req *q)
{
	struct scan_ctx *s = q->s;
	uint32_t brands[HOLDERS_MAX];
	size_t n = 0;

	if (s->known) {
		q->brand = s->info.brand.id;
		q->name = s->info.product.name;
		return 0;
	}
	if (store_gtin_holders(app->store, q->gs1.gtin, brands, HOLDERS_MAX,
	    &n) != 0 || n == 0)
		return -1;
	if (n == 1 && store_brand_get(app->store, brands[0],
	    &s->held_brand) == 0 && store_product_find_gtin(app->store,
	    brands[0], q->gs1.gtin, &s->held_product) == 0) {
		s->held = 1;
		q->brand = brands[0];
		q->name = s->held_product.name;
	}
	return 0;
}

static void
resolve(struct http_call *c, struct req *q)
{
	struct app *app = c->app;
	struct scan_ctx *s = q->s;
	const char *why = NULL, *raw = evhttp_request_get_uri(c->req);
	char link[ANCHOR_MAX + 100];

	if (code_gs1_parse_why(raw, strlen(raw), &q->gs1, &why) != 0) {
		http_reply_error(c, 400, "bad_digital_link", why);
		return;
	}
	if (strcmp(q->gs1.key_ai, "01") != 0) {
		http_reply_error(c, 404, "not_found", "this resolver holds "
		    "items by GTIN (01) only; this identifier is well-formed "
		    "but not held here");
		return;
	}
	snprintf(s->link_type, sizeof s->link_type, "%s", q->gs1.link_type);
	q->verdict = VERDICT_COUNTERFEIT;
	if (q->gs1.serial[0] != '\0' && q->gs1.tag[0] != '\0' &&
	    code_from_gs1(&q->gs1, &q->code) == 0) {
		q->verdict = lookup_resolve(app, &q->code, &q->gs1, &s->info,
		    &s->known);
		if (!s->known)
			s->key_brand = lookup_key_brand(app, q->code.key_id);
	}
	if (holder(app, q) != 0) {
		http_reply_error(c, 404, "not_found", "no product here has "
		    "this GTIN");
		return;
	}
	anchor_of(c, &q->gs1, q->anchor, sizeof q->anchor);
	if (q->gs1.tag[0] != '\0')
		snprintf(q->tagq, sizeof q->tagq, "?s=%s", q->gs1.tag);
	q->item.gtin = q->gs1.gtin;
	q->item.lot = q->gs1.lot;
	q->item.serial = q->gs1.serial;
	q->item.accept_language = http_header(c, "Accept-Language");
	if (s->known) {
		q->item.sku = s->info.product.sku;
		q->item.batch = s->info.batch.id;
	} else if (s->held)
		q->item.sku = s->held_product.sku;
	if (q->brand != 0 && links_of_item(app->store, q->brand, &q->item,
	    &q->links, &q->nlinks) != 0) {
		http_reply_error(c, 503, "unavailable", "storage error; try "
		    "again");
		return;
	}
	if (strcmp(q->gs1.link_type, "all") == 0 ||
	    strcmp(q->gs1.link_type, "linkset") == 0 ||
	    accepts(c, "application/linkset+json")) {
		linkset_reply(c, q);
		return;
	}
	snprintf(link, sizeof link, "<%s?linkType=linkset>; rel=\"linkset\"; "
	    "type=\"application/linkset+json\"", q->anchor);
	http_add_header(c, "Link", link);
	/* sigil's own trace of a code that verified: data, not a visit. */
	if (strcmp(q->gs1.link_type, "gs1:traceability") == 0 &&
	    links_pick(q->links, q->nlinks, &q->item, "gs1:traceability") ==
	    NULL && q->gs1.serial[0] != '\0') {
		if (!s->known) {
			http_reply_error(c, 404, "not_found", "a trace is kept "
			    "for codes that verify (with their s=)");
			return;
		}
		http_add_header(c, "Cache-Control", "no-store");
		http_reply_jsont(c, 200, json_pack("{s:s,s:s,s:o}", "anchor",
		    q->anchor, "verdict", scan_verdict_name(q->verdict), "trace",
		    http_scan_trace(app, s->info.brand.id, q->code.serial)));
		return;
	}
	if (q->gs1.serial[0] != '\0' || q->gs1.tpx[0] != '\0') {
		/* An item: a scan, recorded before anything is answered. */
		if (!s->known && q->gs1.tag[0] == '\0')
			q->verdict = VERDICT_UNVERIFIED;
		q->s = NULL;
		http_scan_submit(s, s->known ? &q->code : NULL, q->verdict, 1);
		return;
	}
	if (accepts(c, "application/json")) {
		linkset_reply(c, q);
		return;
	}
	product_reply(c, q);
}

void
resolver_scan(struct http_call *c)
{
	struct req *q;

	if (options(c))
		return;
	if ((q = calloc(1, sizeof *q)) == NULL) {
		http_reply_error(c, 503, "unavailable", "out of memory");
		return;
	}
	if ((q->s = http_scan_new(c)) != NULL)
		resolve(c, q);
	free(q->s);
	free(q->links);
	free(q);
}

/* ---- /.well-known/gs1resolver (GS1-Conformant Resolver 1.2, §3) ---- */

void
resolver_description(struct http_call *c)
{
	char root[ROOT_MAX];

	if (options(c))
		return;
	resolver_root(c, root, sizeof root);
	http_add_header(c, "Cache-Control", "public, max-age=3600");
	http_reply_jsont(c, 200, json_pack("{s:s,s:s,s:[s],s:[{s:s,s:s}],"
	    "s:b,s:s,s:{s:s}}", "name", "sigil", "resolverRoot", root,
	    "supportedPrimaryKeys", "01", "supportedLinkType", "namespace",
	    GS1_VOC, "prefix", "gs1:", "linkTypeDefaultCanBeLinkset", 0,
	    "jsonLdContextLocation", LINKSET_CONTEXT, "contact", "fn",
	    "sigil"));
}
