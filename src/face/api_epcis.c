/*
 * api_epcis.c - the brand's trace as GS1 EPCIS 2.0 events: sigil's own
 * GET /api/v1/epcis/events, the REST binding's GET /epcis/events with the
 * standard query parameters, and the brand's GS1 company prefix
 * (GET/POST /api/v1/epcis/settings).
 *
 * epcis.c renders the events and documents; epcis_query.c reads the
 * binding's parameters and makes the paging token. This file names the
 * codes (a GTIN item's Digital Link, a compact code's URL, an
 * aggregation parent's SSCC when the brand has a company prefix; scheme
 * and host in lower case, whatever the printed base URL), the
 * distributors' GLNs, walks the store (trace events, then consumer scans
 * as bizStep inspecting) and answers with the binding's headers
 * (GS1-EPCIS-Version, GS1-CBV-Version, Link rel="next") and, at
 * /epcis/events, its RFC 7807 errors (application/problem+json,
 * "epcisException:QueryParameterException").
 *
 * A handler: route_api.c calls it after authentication (and the role
 * check). May call http_api.c, epcis, epcis_query, store (reads), http,
 * http_write and member (the brand settings' key it keeps); never another handler file. Its one write (the
 * company prefix) is a writer op.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "sigil/api.h"
#include "sigil/audit.h"
#include "sigil/app.h"
#include "sigil/epcis.h"
#include "sigil/epcis_query.h"
#include "sigil/http.h"
#include "sigil/http_write.h"
#include "sigil/member.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "sigil/writer.h"

#define PER_PAGE_DEFAULT	30	/* the binding's default */
#define PER_PAGE_MAX		API_LIST_MAX
#define PARAM_MAX		1024	/* one parameter value, bytes */

/* ---- identifiers ---- */

/*
 * Identifiers for EPCIS: the code's GS1 Digital Link URI (without the
 * tag: it names the item, it does not prove it) when the product has a
 * GTIN, the compact code URL otherwise; an aggregation parent's SSCC
 * when the brand has a company prefix and the serial fits; a batch by
 * its GTIN and lot, or by its API URL. One batch and product, one
 * parent answer and one distributor are remembered between calls.
 */
struct epcis_ids {
	struct api_call	*a;
	struct batch	batch;
	struct product	product;
	int		have;
	char		gcp[13];	/* "" when the brand has none */
	uint64_t	parent_serial;
	int		parent_is;	/* for parent_serial: -1 unknown */
	uint32_t	dist_id;	/* 0: none remembered */
	char		dist_gln[14];
	uint8_t		inst[STORE_INSTALL_ID_LEN];
	char		base[STORE_URL_MAX + 1];	/* lower-case host */
};

/*
 * Scheme and host in lower case (RFC 3986 §6.2.2.1: they are case-
 * insensitive, and an identifier is compared as a string): a brand may
 * print HTTPS://ACME.EXAMPLE for a smaller QR code, but its EPCIS
 * identifiers are https://acme.example/... The path keeps its case.
 */
static void
lower_authority(char *url)
{
	char *p = strstr(url, "://");

	if (p == NULL)
		return;
	for (char *q = url; q < p; q++)
		if (*q >= 'A' && *q <= 'Z')
			*q = (char)(*q - 'A' + 'a');
	for (p += 3; *p && *p != '/' && *p != '?' && *p != '#'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
}

static int
epcis_batch(struct epcis_ids *ids, uint32_t brand_id, uint64_t serial)
{
	struct api_call *a = ids->a;

	if (ids->have && serial >= ids->batch.first_serial &&
	    serial - ids->batch.first_serial < ids->batch.count)
		return 0;
	ids->have = store_batch_find_serial(a->app->store, brand_id, serial,
	    &ids->batch) == 0 && store_product_get(a->app->store, brand_id,
	    ids->batch.sku, &ids->product) == 0;
	return ids->have ? 0 : SIGIL_ENOTFOUND;
}

/* 0 with buf set to serial's SSCC URI, or 1 when it has none. */
static int
epcis_sscc_uri(struct epcis_ids *ids, uint32_t brand_id, uint64_t serial,
    char *buf, size_t cap)
{
	char sscc[19];
	int r;

	if (ids->gcp[0] == '\0' || epcis_sscc(ids->gcp, serial, sscc) != 0)
		return 1;
	if (ids->parent_is < 0 || ids->parent_serial != serial) {
		if ((r = store_code_was_parent(ids->a->app->store, brand_id,
		    serial)) < 0)
			return r;
		ids->parent_serial = serial;
		ids->parent_is = r;
	}
	if (!ids->parent_is)
		return 1;
	snprintf(buf, cap, EPCIS_GS1_DL "/00/%s", sscc);
	return 0;
}

static int
epcis_code_uri(void *arg, uint32_t brand_id, uint64_t serial, char *buf,
    size_t cap)
{
	struct epcis_ids *ids = arg;
	int err;

	if ((err = epcis_sscc_uri(ids, brand_id, serial, buf, cap)) <= 0)
		return err;
	if ((err = epcis_batch(ids, brand_id, serial)) != 0)
		return err;
	if (ids->product.gtin[0] != '\0') {
		snprintf(buf, cap, "%s/01/%s/21/%llu", ids->base,
		    ids->product.gtin, (unsigned long long)serial);
		return 0;
	}
	if (api_code_url(ids->a, &ids->batch, serial, buf, cap) != 0)
		return SIGIL_EINVAL;
	lower_authority(buf);
	return 0;
}

static int
epcis_batch_class(void *arg, uint32_t brand_id, uint64_t batch_id, char *buf,
    size_t cap, uint64_t *count)
{
	struct epcis_ids *ids = arg;
	struct batch b;
	struct product p;

	if (store_batch_get(ids->a->app->store, batch_id, &b) != 0 ||
	    b.brand_id != brand_id || store_product_get(ids->a->app->store,
	    brand_id, b.sku, &p) != 0)
		return SIGIL_ENOTFOUND;
	if (p.gtin[0] != '\0' && b.lot[0] != '\0')
		snprintf(buf, cap, "%s/01/%s/10/%s", ids->base, p.gtin,
		    b.lot);
	else
		snprintf(buf, cap, "%s/api/v1/batches/%llu", ids->base,
		    (unsigned long long)b.id);
	*count = b.count;
	return 0;
}

static int
epcis_distributor_gln(void *arg, uint32_t brand_id, uint32_t distributor,
    char gln[14])
{
	struct epcis_ids *ids = arg;
	struct distributor d;

	if (ids->dist_id != distributor) {
		if (store_distributor_get(ids->a->app->store, brand_id,
		    distributor, &d) != 0)
			return SIGIL_ENOTFOUND;
		memcpy(ids->dist_gln, d.gln, sizeof d.gln);
		store_distributor_clear(&d);
		ids->dist_id = distributor;
	}
	if (ids->dist_gln[0] == '\0')
		return SIGIL_ENOTFOUND;
	memcpy(gln, ids->dist_gln, 14);
	return 0;
}

/* Sets up ids and ctx for a's brand: 0, or SIGIL_ENOTFOUND (no id). */
static int
epcis_setup(struct api_call *a, struct epcis_ids *ids, struct epcis_ctx *ctx)
{
	memset(ids, 0, sizeof *ids);
	ids->a = a;
	ids->parent_is = -1;
	if (store_installation_id(a->app->store, ids->inst) != 0)
		return SIGIL_ENOTFOUND;
	if (api_brand_gcp(a->app->store, a->brand.id, ids->gcp) != 0)
		ids->gcp[0] = '\0';
	snprintf(ids->base, sizeof ids->base, "%s", a->brand.base_url);
	lower_authority(ids->base);
	memset(ctx, 0, sizeof *ctx);
	ctx->base_url = ids->base;
	ctx->code_uri = epcis_code_uri;
	ctx->batch_class = epcis_batch_class;
	ctx->distributor_gln = epcis_distributor_gln;
	ctx->arg = ids;
	ctx->installation = ids->inst;
	return 0;
}

/* The binding's version headers, on every EPCIS answer. */
static void
epcis_headers(struct http_call *c)
{
	http_add_header(c, "GS1-EPCIS-Version", EPCIS_VERSION_HEADER);
	http_add_header(c, "GS1-CBV-Version", CBV_VERSION_HEADER);
}

/* ---- GET /api/v1/epcis/events ---- */

struct epcis_page {
	struct api_call	*a;
	struct epcis_ctx ctx;
	json_t		*events;
	uint64_t	last_event, last_scan;
	int64_t		from, to;
	size_t		limit, n_scans, n;
	unsigned	mask;		/* REST: the types asked for */
	int		more;		/* REST: a further event exists */
	int		err;
};

static int
epcis_one(void *arg, const struct trace_event *ev)
{
	struct epcis_page *pg = arg;
	json_t *o;

	if ((pg->err = epcis_event_json(&pg->ctx, ev, &o)) != 0)
		return 1;
	json_array_append_new(pg->events, o);
	pg->last_event = ev->id;
	return 0;
}

/* A consumer scan as a SCAN trace event (ids apart from trace ids). */
static void
scan_event(const struct scan_rec *r, uint64_t *serial, struct trace_event *ev)
{
	memset(ev, 0, sizeof *ev);
	*serial = r->serial;
	ev->id = r->id | UINT64_C(1) << 63;
	ev->type = EVENT_SCAN;
	ev->brand_id = r->brand_id;
	ev->at = r->at;
	ev->scan_id = r->id;
	ev->n = 1;
	ev->serials = serial;
}

/* Consumer scans come from the scan log, as SCAN events. */
static int
epcis_scan(void *arg, const struct scan_rec *r)
{
	struct epcis_page *pg = arg;
	struct trace_event ev;
	uint64_t serial;
	json_t *o;

	if (pg->to != 0 && r->at >= pg->to)
		return 1;
	if (r->id <= pg->last_scan || r->brand_id != pg->a->brand.id ||
	    (r->flags & SCAN_BOT))
		return 0;
	if (pg->n_scans >= pg->limit)
		return 1;
	scan_event(r, &serial, &ev);
	if ((pg->err = epcis_event_json(&pg->ctx, &ev, &o)) != 0)
		return 1;
	json_array_append_new(pg->events, o);
	pg->last_scan = r->id;
	pg->n_scans++;
	return 0;
}

static const struct {
	const char	*step;
	int		type;
} epcis_steps[] = {
	{ "commissioning", EVENT_COMMISSION }, { "packing", EVENT_AGGREGATE },
	{ "unpacking", EVENT_DISAGGREGATE }, { "shipping", EVENT_SHIP },
	{ "receiving", EVENT_RECEIVE }, { "inspecting", EVENT_SCAN },
	{ "decommissioning", EVENT_DECOMMISSION },
};

/*
 * GET /api/v1/epcis/events?bizStep=&from=&to=&limit=&after=&after_scan=
 * An EPCISQueryDocument; the next page is in a Link header (rel="next").
 * Trace events come first, then consumer scans (bizStep inspecting);
 * each stream pages by its own cursor.
 */
void
api_epcis_events(struct api_call *a)
{
	struct epcis_ids ids;
	struct epcis_page pg = { 0 };
	char v[64], step[32] = "", f[32] = "", t[32] = "", link[512];
	int64_t from = 0;
	int type = 0, err;
	size_t n_events;
	json_t *doc;

	if (api_paging(a, &pg.last_event, &pg.limit, NULL) != 0)
		return;
	if (api_query(a, "after_scan", v, sizeof v) != NULL &&
	    sigil_parse_u64(v, UINT64_MAX, &pg.last_scan) != 0) {
		api_fail(a, 400, "bad_query", "after_scan must be an id");
		return;
	}
	if ((api_query(a, "from", f, sizeof f) != NULL &&
	    sigil_time_parse(f, &from) != 0) ||
	    (api_query(a, "to", t, sizeof t) != NULL &&
	    sigil_time_parse(t, &pg.to) != 0)) {
		api_fail(a, 400, "bad_query",
		    "from and to must be YYYY-MM-DD or "
		    "ISO-8601 UTC");
		return;
	}
	if (api_query(a, "bizStep", step, sizeof step) != NULL) {
		for (size_t i = 0; i < sizeof epcis_steps /
		    sizeof epcis_steps[0]; i++)
			if (strcmp(step, epcis_steps[i].step) == 0)
				type = epcis_steps[i].type;
		if (type == 0) {
			api_fail(a, 400, "bad_query", "bizStep must be one of "
			    "commissioning, packing, unpacking, shipping, "
			    "receiving, inspecting, decommissioning");
			return;
		}
	}
	pg.a = a;
	if (epcis_setup(a, &ids, &pg.ctx) != 0) {
		api_fail(a, 503, "unavailable", "the store has no installation "
		    "id yet (opened read-only)");
		return;
	}
	pg.events = json_array();
	err = 0;
	if (type != EVENT_SCAN)
		err = store_event_each(a->app->store, a->brand.id,
		    pg.last_event, from, pg.to, type, pg.limit, epcis_one, &pg);
	n_events = json_array_size(pg.events);
	if (err >= 0 && pg.err == 0 && (type == 0 || type == EVENT_SCAN) &&
	    n_events < pg.limit) {
		pg.limit -= n_events;
		err = store_scan_each(a->app->store, from, epcis_scan, &pg);
		pg.limit += n_events;
	}
	if (err < 0 || pg.err != 0) {
		json_decref(pg.events);
		api_store_fail(a, err < 0 ? err : pg.err, "events");
		return;
	}
	epcis_headers(a->c);
	if (json_array_size(pg.events) >= pg.limit) {
		/* from/to/bizStep passed the checks above: URL-safe. */
		snprintf(link, sizeof link, "</api/v1/epcis/events?limit=%zu&"
		    "after=%llu&after_scan=%llu%s%s%s%s%s%s>; rel=\"next\"",
		    pg.limit, (unsigned long long)pg.last_event,
		    (unsigned long long)pg.last_scan, step[0] ? "&bizStep=" :
		    "", step, f[0] ? "&from=" : "", f, t[0] ? "&to=" : "", t);
		http_add_header(a->c, "Link", link);
	}
	if ((err = epcis_document(EPCIS_DOC_QUERY, pg.events,
	    sigil_now_us(), &doc)) != 0) {
		api_store_fail(a, err, "events");
		return;
	}
	http_reply_jsont(a->c, 200, doc);
}

/* ---- GET /epcis/events: the REST binding ---- */

/* An RFC 7807 answer of the binding: {type, title, status, detail}. */
static void
epcis_problem(struct http_call *c, int status, const char *type,
    const char *title, const char *detail)
{
	json_t *o = json_pack("{s:s,s:s,s:i,s:s}", "type", type, "title",
	    title, "status", status, "detail", detail);
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	epcis_headers(c);
	http_reply_json_type(c, status, "application/problem+json",
	    text ? text : "{}");
	free(text);
}

static void
bad_param(struct api_call *a, const char *fmt, const char *name)
{
	char detail[256];

	snprintf(detail, sizeof detail, fmt, name);
	epcis_problem(a->c, 400, "epcisException:QueryParameterException",
	    "Invalid query parameter", detail);
}

/* The parameters /epcis/events understands, in Link order. */
enum {
	P_STEP, P_TYPE, P_ACTION, P_DISP, P_GE, P_LT, P_GE_REC, P_LT_REC,
	P_PER, P_TOKEN, P_N
};
static const char *const param_names[P_N] = {
	"EQ_bizStep", "eventType", "EQ_action", "EQ_disposition",
	"GE_eventTime", "LT_eventTime", "GE_recordTime", "LT_recordTime",
	"perPage", "nextPageToken",
};

/* The list parameters: each selects a set of trace event types. */
static const struct {
	int		 p;
	int		(*parse)(const char *list, unsigned *mask);
	const char	*help;
} mask_params[] = {
	{ P_STEP, epcis_biz_steps, "%s: each value (separated by |) must be "
	    "a CBV business step (e.g. shipping, or https://ref.gs1.org/cbv/"
	    "BizStep-shipping) or another absolute URI" },
	{ P_TYPE, epcis_event_types, "%s: each value (separated by |) must "
	    "be ObjectEvent, AggregationEvent, TransactionEvent, "
	    "TransformationEvent, AssociationEvent or a URI" },
	{ P_ACTION, epcis_actions, "%s: each value (separated by |) must be "
	    "ADD, OBSERVE or DELETE" },
	{ P_DISP, epcis_dispositions, "%s: each value (separated by |) must "
	    "be a CBV disposition (e.g. in_transit, or https://ref.gs1.org/"
	    "cbv/Disp-in_transit) or another absolute URI" },
};

static int
param_index(const char *name)
{
	if (strcmp(name, "EQ_eventType") == 0)	/* an alias of eventType */
		return P_TYPE;
	for (int i = 0; i < P_N; i++)
		if (strcmp(name, param_names[i]) == 0)
			return i;
	return -1;
}

/* Percent-encodes s (all but RFC 3986 unreserved) onto out. */
static void
url_append(char *out, size_t cap, const char *s)
{
	size_t n = strlen(out);

	for (; *s && n + 4 < cap; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("-._~", c))
			out[n++] = (char)c;
		else
			n += (size_t)snprintf(out + n, cap - n, "%%%02X", c);
	}
	out[n] = '\0';
}

/* A REST page: trace events, then scans, perPage in all and one more. */
static int
rest_one(void *arg, const struct trace_event *ev)
{
	struct epcis_page *pg = arg;
	json_t *o;

	if (!(pg->mask & EPCIS_TYPE_BIT(ev->type)))
		return 0;
	if (pg->n == pg->limit) {
		pg->more = 1;
		return 1;
	}
	if ((pg->err = epcis_event_json(&pg->ctx, ev, &o)) != 0)
		return 1;
	json_array_append_new(pg->events, o);
	pg->n++;
	pg->last_event = ev->id;
	return 0;
}

static int
rest_scan(void *arg, const struct scan_rec *r)
{
	struct epcis_page *pg = arg;
	struct trace_event ev;
	uint64_t serial;
	json_t *o;

	/* The log is in id order; times may trail ids by a commit's wait. */
	if (pg->to != 0 && r->at >= pg->to + INT64_C(60000000))
		return 1;
	if (r->id <= pg->last_scan || r->brand_id != pg->a->brand.id ||
	    (r->flags & SCAN_BOT) || (pg->from != 0 && r->at < pg->from) ||
	    (pg->to != 0 && r->at >= pg->to))
		return 0;
	if (pg->n == pg->limit) {
		pg->more = 1;
		return 1;
	}
	scan_event(r, &serial, &ev);
	if ((pg->err = epcis_event_json(&pg->ctx, &ev, &o)) != 0)
		return 1;
	json_array_append_new(pg->events, o);
	pg->n++;
	pg->last_scan = r->id;
	return 0;
}

/*
 * -1, 0 or 1 as version a (dotted decimal, "2.0.0") is below, equal to
 * or above b; missing parts count as 0. -2 when a is no such version.
 */
static int
version_cmp(const char *a, const char *b)
{
	while (*a || *b) {
		uint64_t x = 0, y = 0;
		int digits = 0;

		for (; *a >= '0' && *a <= '9' && digits < 9; a++, digits++)
			x = x * 10 + (uint64_t)(*a - '0');
		if ((digits == 0 && *a) || (*a && *a != '.'))
			return -2;
		for (; *b >= '0' && *b <= '9'; b++)
			y = y * 10 + (uint64_t)(*b - '0');
		if (x != y)
			return x < y ? -1 : 1;
		if (*a == '.' && *++a == '\0')
			return -2;
		if (*b == '.')
			b++;
	}
	return 0;
}

/*
 * The binding's content negotiation: JSON must be acceptable, and the
 * GS1-EPCIS-Min/Max and GS1-CBV-Min/Max a client sends must admit 2.0.0.
 * 0, or -1 after answering 406 NotAcceptableException.
 */
static int
rest_negotiate(struct api_call *a)
{
	static const struct {
		const char	*header;
		int		 max;
	} bounds[] = {
		{ "GS1-EPCIS-Min", 0 }, { "GS1-EPCIS-Max", 1 },
		{ "GS1-CBV-Min", 0 }, { "GS1-CBV-Max", 1 },
	};
	const char *accept = http_header(a->c, "Accept"), *v;
	char detail[160];

	if (accept != NULL && !strstr(accept, "json") &&
	    !strstr(accept, "*/*") && !strstr(accept, "application/*")) {
		epcis_problem(a->c, 406, "epcisException:NotAcceptableException",
		    "Not acceptable", "this repository answers in JSON-LD "
		    "(application/json or application/ld+json)");
		return -1;
	}
	for (size_t i = 0; i < sizeof bounds / sizeof bounds[0]; i++) {
		int c;

		if ((v = http_header(a->c, bounds[i].header)) == NULL)
			continue;
		c = version_cmp(v, EPCIS_VERSION_HEADER);
		if (c == -2 || (bounds[i].max ? c < 0 : c > 0)) {
			snprintf(detail, sizeof detail, "%s: this repository "
			    "speaks EPCIS 2.0.0 and CBV 2.0.0 only",
			    bounds[i].header);
			epcis_problem(a->c, 406,
			    "epcisException:NotAcceptableException",
			    "Not acceptable", detail);
			return -1;
		}
	}
	return 0;
}

/* Reads the query string into val[P_N]: 0, or -1 after answering 400. */
static int
rest_params(struct api_call *a, char val[P_N][PARAM_MAX], int *given)
{
	struct evkeyvalq q;
	struct evkeyval *kv;
	int rc = 0, i;

	memset(given, 0, P_N * sizeof *given);
	if (a->c->query == NULL || a->c->query[0] == '\0')
		return 0;
	memset(&q, 0, sizeof q);
	if (evhttp_parse_query_str(a->c->query, &q) != 0) {
		bad_param(a, "%s", "the query string is malformed");
		return -1;
	}
	for (kv = q.tqh_first; kv != NULL; kv = kv->next.tqe_next) {
		if ((i = param_index(kv->key)) < 0) {
			rc = -1;
			bad_param(a, "parameter '%.64s' is not supported by "
			    "this repository (see docs/api.md)",
			    sigil_utf8_valid(kv->key, strlen(kv->key)) ?
			    kv->key : "?");
			break;
		}
		if (given[i]) {
			rc = -1;
			bad_param(a, "parameter %s is given twice",
			    param_names[i]);
			break;
		}
		if (kv->value[0] == '\0' || strlen(kv->value) >= PARAM_MAX ||
		    !sigil_utf8_valid(kv->value, strlen(kv->value))) {
			rc = -1;
			bad_param(a, "parameter %s needs a value (at most 1023 "
			    "bytes of UTF-8)", param_names[i]);
			break;
		}
		given[i] = 1;
		strcpy(val[i], kv->value);
	}
	evhttp_clear_headers(&q);
	return rc;
}

/*
 * GET /epcis/events?EQ_bizStep=&eventType=&EQ_action=&EQ_disposition=
 * &GE_eventTime=&LT_eventTime=&GE_recordTime=&LT_recordTime=&perPage=
 * &nextPageToken= (EPCIS 2.0 REST binding). Trace events in
 * id order, then consumer scans; perPage (1..1000, 30) in all; a Link
 * header with rel="next" while more remain; the token is bound to the
 * brand and the filters (epcis_query.h).
 */
void
api_epcis_rest(struct api_call *a)
{
	char val[P_N][PARAM_MAX];
	struct epcis_ids ids;
	struct epcis_page pg = { 0 };
	struct epcis_cursor cur = { 0, 0 };
	uint8_t key[EPCIS_TOKEN_KEY_LEN];
	char bind[P_N * (PARAM_MAX + 4) + 32], token[EPCIS_TOKEN_LEN + 1];
	char link[P_N * PARAM_MAX * 3 + 64];
	int given[P_N], err = 0, empty = 0, single = 0, has_from = 0;
	int has_to = 0;
	int64_t from = 0, to = 0;
	uint64_t per = PER_PAGE_DEFAULT;
	size_t n;
	json_t *doc;

	if (rest_negotiate(a) != 0 || rest_params(a, val, given) != 0)
		return;
	pg.mask = EPCIS_TYPES_ALL;
	for (size_t i = 0; i < sizeof mask_params / sizeof mask_params[0];
	    i++) {
		unsigned m;

		if (!given[mask_params[i].p])
			continue;
		if (mask_params[i].parse(val[mask_params[i].p], &m) != 0) {
			bad_param(a, mask_params[i].help,
			    param_names[mask_params[i].p]);
			return;
		}
		pg.mask &= m;
	}
	/* recordTime is eventTime (epcis.h): both bound the same time. */
	for (int i = P_GE; i <= P_LT_REC; i++) {
		int64_t t;

		if (!given[i])
			continue;
		if (epcis_time_parse(val[i], &t) != 0) {
			bad_param(a, "%s must be an RFC 3339 date-time with an "
			    "offset, e.g. 2026-11-23T08:00:00.000Z or "
			    "2026-11-23T16:00:00+08:00", param_names[i]);
			return;
		}
		if (i == P_GE || i == P_GE_REC) {
			if (!has_from || t > from)
				from = t;
			has_from = 1;
		} else {
			if (!has_to || t < to)
				to = t;
			has_to = 1;
		}
	}
	if (given[P_PER] && (sigil_parse_u64(val[P_PER], PER_PAGE_MAX,
	    &per) != 0 || per == 0)) {
		bad_param(a, "%s must be a whole number from 1 to 1000",
		    "perPage");
		return;
	}
	pg.a = a;
	if (epcis_setup(a, &ids, &pg.ctx) != 0) {
		epcis_problem(a->c, 503, "epcisException:ImplementationException",
		    "Unavailable", "the store has no installation id yet");
		return;
	}
	/* The filters as given, so that a token serves only its own query. */
	n = (size_t)snprintf(bind, sizeof bind, "v1|%u", (unsigned)a->brand.id);
	for (int i = 0; i < P_PER; i++)
		n += (size_t)snprintf(bind + n, sizeof bind - n, "|%d:%s",
		    given[i], given[i] ? val[i] : "");
	epcis_token_key(ids.inst, key);
	if (given[P_TOKEN] && epcis_token_read(key, bind, val[P_TOKEN],
	    &cur) != 0) {
		bad_param(a, "%s is not one this query's answers gave (the "
		    "other parameters must stay as they were)",
		    "nextPageToken");
		return;
	}
	/* Open bounds are 0 in the store: a bound at or before 1970. */
	if (has_to && to <= 0)
		empty = 1;
	pg.to = has_to ? to : 0;
	pg.from = from < 0 ? 0 : from;
	if (has_from && pg.from == 0)
		pg.from = 1;
	if (has_from && has_to && from >= to)
		empty = 1;
	pg.limit = (size_t)per;
	pg.last_event = cur.last_event;
	pg.last_scan = cur.last_scan;
	pg.events = json_array();
	for (int t = EVENT_COMMISSION; t <= EVENT_DECOMMISSION; t++)
		if (pg.mask == EPCIS_TYPE_BIT(t))
			single = t;
	if (!empty && (pg.mask & ~EPCIS_TYPE_BIT(EVENT_SCAN)))
		err = store_event_each(a->app->store, a->brand.id,
		    cur.last_event, pg.from, pg.to, single, 0, rest_one, &pg);
	if (!empty && err >= 0 && pg.err == 0 && !pg.more &&
	    (pg.mask & EPCIS_TYPE_BIT(EVENT_SCAN)))
		err = cur.last_scan ? store_scan_after(a->app->store,
		    cur.last_scan, SIZE_MAX, rest_scan, &pg) :
		    store_scan_each(a->app->store, pg.from, rest_scan, &pg);
	if (err < 0 || pg.err != 0) {
		json_decref(pg.events);
		epcis_problem(a->c, 503, "epcisException:ImplementationException",
		    "Unavailable", "the events could not be read");
		return;
	}
	epcis_headers(a->c);
	if (pg.more) {
		cur.last_event = pg.last_event;
		cur.last_scan = pg.last_scan;
		epcis_token_make(key, bind, &cur, token);
		snprintf(link, sizeof link, "</epcis/events?perPage=%llu",
		    (unsigned long long)per);
		for (int i = 0; i < P_PER; i++) {
			if (!given[i])
				continue;
			snprintf(link + strlen(link), sizeof link - strlen(link),
			    "&%s=", param_names[i]);
			url_append(link, sizeof link, val[i]);
		}
		snprintf(link + strlen(link), sizeof link - strlen(link),
		    "&nextPageToken=%s>; rel=\"next\"", token);
		http_add_header(a->c, "Link", link);
	}
	if ((err = epcis_document(EPCIS_DOC_QUERY, pg.events,
	    sigil_now_us(), &doc)) != 0) {
		epcis_problem(a->c, 503, "epcisException:ImplementationException",
		    "Unavailable", "the answer could not be made");
		return;
	}
	http_reply_jsont(a->c, 200, doc);
}

/* ---- the brand's GS1 company prefix ---- */

static json_t *
settings_json(struct store *st, uint32_t brand_id)
{
	char gcp[13];

	if (api_brand_gcp(st, brand_id, gcp) == 0)
		return json_pack("{s:s}", API_GCP_KEY, gcp);
	return json_pack("{s:n}", API_GCP_KEY);
}

void
api_epcis_settings_get(struct api_call *a)
{
	api_reply(a, 200, settings_json(a->app->store, a->brand.id));
}

struct gcp_job {
	uint32_t	brand_id;
	char		gcp[13];	/* "" clears it */
};

/* The writer: reads the settings, changes the one key, writes them. */
static int
gcp_run(struct store *st, void *arg)
{
	struct gcp_job *x = arg;

	return member_settings_key_set(st, x->brand_id, API_GCP_KEY,
	    x->gcp[0] ? json_string(x->gcp) : NULL);
}

/* The company prefix before and after (a public number, not a secret). */
static int
gcp_audit(struct store *st, const void *arg, struct audit_entry *e,
    int after)
{
	const struct gcp_job *x = arg;
	char gcp[13];

	if (after)
		return 0;
	audit_target(e, "settings", API_GCP_KEY);
	audit_detail_set(e, json_pack("{s:{s:s?,s:s?}}", API_GCP_KEY, "before",
	    api_brand_gcp(st, x->brand_id, gcp) == 0 ? gcp : NULL, "after",
	    x->gcp[0] ? x->gcp : NULL));
	return 0;
}

static const struct writer_op op_gcp = { "epcis_gcp", gcp_run, gcp_audit };

static void
gcp_written(struct http_call *c, void *arg, int err)
{
	struct gcp_job *x = arg;

	api_write_reply(c, err, "settings", 200, x->gcp[0] ?
	    json_pack("{s:s}", API_GCP_KEY, x->gcp) :
	    json_pack("{s:n}", API_GCP_KEY));
}

/*
 * POST /api/v1/epcis/settings {"gs1_company_prefix": "0614141"} (6 to
 * 12 digits) or null to remove it.
 */
void
api_epcis_settings_set(struct api_call *a)
{
	struct gcp_job x = { .brand_id = a->brand.id };
	json_t *v;

	if (api_body(a) != 0)
		return;
	v = json_object_get(a->body, API_GCP_KEY);
	if (v == NULL || json_object_size(a->body) != 1 ||
	    !(json_is_null(v) || (json_is_string(v) &&
	    epcis_gcp_ok(json_string_value(v))))) {
		api_fail(a, 422, "invalid", "body must hold one field, "
		    "'gs1_company_prefix': a string of 6 to 12 digits, or "
		    "null");
		return;
	}
	if (json_is_string(v))
		snprintf(x.gcp, sizeof x.gcp, "%s", json_string_value(v));
	http_write(a->c, &op_gcp, &x, sizeof x, gcp_written);
}
