/*
 * api_trace.c - the brand API's supply chain: aggregation (packing codes
 * into a parent and unpacking them), distributors and their territories
 * (GeoJSON, checked before it is stored), shipments to a distributor and
 * their receipt, and the whole trace as EPCIS 2.0 events (epcis.c makes
 * the documents; consumer scans join them as bizStep inspecting).
 *
 * Every code named is resolved against the caller's brand first
 * (http_api.c), so a request naming another brand's code changes
 * nothing and learns nothing (404).
 *
 * A handler: route_api.c calls it after authentication and the role
 * check. May call http_api.c, epcis, geo, store (reads), http and
 * http_write; never calls another handler file. Never writes to the
 * store on the loop: every write is a writer op (aggregate, disaggregate,
 * distributor_add, ship, shipment_receive), answered after the commit;
 * the codes named are resolved and the territory parsed before, on the
 * loop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sigil/api.h"
#include "sigil/app.h"
#include "sigil/code.h"
#include "sigil/epcis.h"
#include "sigil/geo.h"
#include "sigil/http.h"
#include "sigil/http_write.h"
#include "sigil/scan.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "sigil/writer.h"

/* ---- aggregation ---- */

/* Packing or unpacking; children is malloc'd, freed by the reply. */
struct pack_job {
	uint32_t	brand_id;
	int		unpack;
	uint64_t	parent, *children, event;
	size_t		n;
};

static int
pack_run(struct store *st, void *arg)
{
	struct pack_job *x = arg;

	if (x->unpack)
		return store_disaggregate(st, x->brand_id, x->parent,
		    x->children, x->n, &x->event);
	return store_aggregate(st, x->brand_id, x->parent, x->children, x->n,
	    &x->event);
}

static const struct writer_op op_aggregate = { "aggregate", pack_run };
static const struct writer_op op_disaggregate = { "disaggregate", pack_run };

static void
packed(struct http_call *c, void *arg, int err)
{
	struct pack_job *x = arg;

	free(x->children);
	if (err == SIGIL_ECONFLICT) {
		http_reply_error(c, 409, "already_packed", "a child is already "
		    "inside another parent; unpack it first");
		return;
	}
	if (err == SIGIL_EINVAL && !x->unpack) {
		http_reply_error(c, 422, "invalid",
		    "children must be distinct, must not "
		    "include the parent, and must not contain it");
		return;
	}
	if (err != 0) {
		api_write_fail(c, err, x->unpack ? "child inside this parent" :
		    "code");
		return;
	}
	http_reply_jsont(c, x->unpack ? 200 : 201, json_pack("{s:I,s:I,s:I}",
	    "parent", (json_int_t)x->parent, "children", (json_int_t)x->n,
	    "event_id", (json_int_t)x->event));
}

static void
aggregations_create(struct api_call *a, int unpack)
{
	struct pack_job x = { .brand_id = a->brand.id, .unpack = unpack };
	char text[CODE_URL_MAX + 1];
	struct batch b;
	json_t *arr;

	if (api_body(a) != 0 || api_field_str(a, "parent", CODE_URL_MAX, 1,
	    text, sizeof text) != 0 ||
	    api_code_of_brand(a, text, &x.parent, &b) != 0)
		return;
	arr = json_object_get(a->body, "children");
	if (!(unpack && arr == NULL) && api_code_list(a, "children",
	    &x.children, &x.n) != 0)
		return;
	http_write(a->c, unpack ? &op_disaggregate : &op_aggregate, &x,
	    sizeof x, packed);
}

void
api_aggregations_pack(struct api_call *a)
{
	aggregations_create(a, 0);
}

void
api_aggregations_unpack(struct api_call *a)
{
	aggregations_create(a, 1);
}

/* ---- distributors ---- */

static json_t *
distributor_json(const struct distributor *d, int with_territory)
{
	char t[SIGIL_TIME_LEN + 1];
	json_t *o = json_pack("{s:i,s:s,s:s}", "id", (int)d->id, "name",
	    d->name, "created", sigil_time_format(d->created, t));

	if (with_territory && d->territory != NULL)
		json_object_set_new(o, "territory", json_loads(d->territory,
		    0, NULL));
	return o;
}

WRITER_OP_STORE(op_distributor_add, "distributor_add",
    store_distributor_add);

/* arg is the struct distributor added; its territory is freed here. */
static void
distributor_added(struct http_call *c, void *arg, int err)
{
	struct distributor *d = arg;

	api_write_reply(c, err, "distributor", 201, distributor_json(d, 0));
	free(d->territory);
}

void
api_distributors_create(struct api_call *a)
{
	struct distributor d = { 0 };
	struct geo_area *area = NULL;
	json_t *terr;
	char err_text[160];

	if (api_body(a) != 0 ||
	    api_field_str(a, "name", STORE_TEXT_MAX, 1, d.name, sizeof d.name))
		return;
	terr = json_object_get(a->body, "territory");
	if (!json_is_object(terr)) {
		api_fail(a, 422, "bad_territory",
		    "field 'territory' (a GeoJSON Polygon "
		    "or MultiPolygon) is required");
		return;
	}
	if ((d.territory = json_dumps(terr, JSON_COMPACT)) == NULL) {
		api_fail(a, 503, "unavailable", "out of memory");
		return;
	}
	if (strlen(d.territory) > STORE_GEOJSON_MAX ||
	    geo_area_parse(d.territory, strlen(d.territory), &area, err_text,
	    sizeof err_text) != 0) {
		if (strlen(d.territory) > STORE_GEOJSON_MAX)
			snprintf(err_text, sizeof err_text, "territory larger "
			    "than %d bytes", STORE_GEOJSON_MAX);
		free(d.territory);
		api_fail(a, 422, "bad_territory", err_text);
		return;
	}
	geo_area_free(area);
	d.brand_id = a->brand.id;
	http_write(a->c, &op_distributor_add, &d, sizeof d, distributor_added);
}

static int
distributor_of_brand(struct api_call *a, const char *id,
    struct distributor *d)
{
	uint64_t n;

	if (api_parse_id(id, UINT32_MAX, &n) != 0 ||
	    store_distributor_get(a->app->store, a->brand.id, (uint32_t)n,
	    d) != 0) {
		api_fail(a, 404, "not_found", "distributor not found");
		return -1;
	}
	return 0;
}

void
api_distributors_get(struct api_call *a)
{
	struct distributor d;

	if (distributor_of_brand(a, a->seg[1], &d) != 0)
		return;
	api_reply(a, 200, distributor_json(&d, 1));
	store_distributor_clear(&d);
}

static int
distributor_list_one(void *arg, const struct distributor *d)
{
	return api_list_add(arg, distributor_json(d, 0));
}

void
api_distributors_list(struct api_call *a)
{
	json_t *arr = json_array();

	api_reply_list(a, "distributors", arr, store_distributor_each(
	    a->app->store, a->brand.id, distributor_list_one, arr));
}

/* ---- shipments ---- */

/* A shipment on its way, or one received; codes is freed by the reply. */
struct ship_job {
	uint32_t	brand_id, distributor;
	uint64_t	*codes;
	size_t		n;
	int		receive;	/* 1: receipt (200), 0: shipping */
	struct shipment	s;
};

static int
ship_run(struct store *st, void *arg)
{
	struct ship_job *x = arg;

	if (x->receive)
		return store_shipment_receive(st, x->s.id, &x->s);
	return store_ship(st, x->brand_id, x->distributor, x->codes, x->n,
	    &x->s);
}

static const struct writer_op op_ship = { "ship", ship_run };
static const struct writer_op op_receive = { "shipment_receive", ship_run };

static void
shipment_written(struct http_call *c, void *arg, int err)
{
	struct ship_job *x = arg;

	free(x->codes);
	api_write_reply(c, err, "shipment", x->receive ? 200 : 201,
	    api_shipment_json(&x->s));
}

void
api_shipments_create(struct api_call *a)
{
	struct ship_job x = { .brand_id = a->brand.id };
	struct distributor d;
	uint64_t dist;

	if (api_body(a) != 0 ||
	    api_field_uint(a, "distributor", 1, UINT32_MAX, 1, &dist) != 0)
		return;
	if (store_distributor_get(a->app->store, a->brand.id, (uint32_t)dist,
	    &d) != 0) {
		api_fail(a, 404, "not_found", "distributor not found");
		return;
	}
	store_distributor_clear(&d);
	if (api_code_list(a, "codes", &x.codes, &x.n) != 0)
		return;
	x.distributor = (uint32_t)dist;
	http_write(a->c, &op_ship, &x, sizeof x, shipment_written);
}

static int
shipment_of_brand(struct api_call *a, const char *id, struct shipment *s)
{
	uint64_t n;

	if (api_parse_id(id, UINT64_MAX, &n) != 0 ||
	    store_shipment_get(a->app->store, n, s) != 0 ||
	    s->brand_id != a->brand.id) {
		api_fail(a, 404, "not_found", "shipment not found");
		return -1;
	}
	return 0;
}

void
api_shipments_get(struct api_call *a)
{
	struct shipment s;

	if (shipment_of_brand(a, a->seg[1], &s) == 0)
		api_reply(a, 200, api_shipment_json(&s));
}

void
api_shipments_receive(struct api_call *a)
{
	struct ship_job x = { .brand_id = a->brand.id, .receive = 1 };

	if (shipment_of_brand(a, a->seg[1], &x.s) != 0)
		return;
	http_write(a->c, &op_receive, &x, sizeof x, shipment_written);
}

/* ---- EPCIS 2.0 events ---- */

/*
 * Identifiers for EPCIS: the code's GS1 Digital Link URI (without the
 * tag: it names the item, it does not prove it) when the product has a
 * GTIN, the compact code URL otherwise; a batch is named by its GTIN and
 * lot, or by its API URL. One batch and product are remembered between
 * calls, since events name runs of codes of the same batch.
 */
struct epcis_ids {
	struct api_call	*a;
	struct batch	batch;
	struct product	product;
	int		have;
};

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

static int
epcis_code_uri(void *arg, uint32_t brand_id, uint64_t serial, char *buf,
    size_t cap)
{
	struct epcis_ids *ids = arg;
	int err;

	if ((err = epcis_batch(ids, brand_id, serial)) != 0)
		return err;
	if (ids->product.gtin[0] != '\0') {
		snprintf(buf, cap, "%s/01/%s/21/%llu", ids->a->brand.base_url,
		    ids->product.gtin, (unsigned long long)serial);
		return 0;
	}
	return api_code_url(ids->a, &ids->batch, serial, buf, cap) == 0 ? 0 :
	    SIGIL_EINVAL;
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
		snprintf(buf, cap, "%s/01/%s/10/%s", ids->a->brand.base_url,
		    p.gtin, b.lot);
	else
		snprintf(buf, cap, "%s/api/v1/batches/%llu",
		    ids->a->brand.base_url, (unsigned long long)b.id);
	*count = b.count;
	return 0;
}

struct epcis_page {
	struct api_call	*a;
	struct epcis_ctx ctx;
	json_t		*events;
	uint64_t	last_event, last_scan;
	int64_t		to;
	size_t		limit, n_scans;
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

/* Consumer scans come from the scan log, as SCAN events. */
static int
epcis_scan(void *arg, const struct scan_rec *r)
{
	struct epcis_page *pg = arg;
	struct trace_event ev = { 0 };
	uint64_t serial = r->serial;
	json_t *o;

	if (pg->to != 0 && r->at >= pg->to)
		return 1;
	if (r->id <= pg->last_scan || r->brand_id != pg->a->brand.id ||
	    (r->flags & SCAN_BOT))
		return 0;
	if (pg->n_scans >= pg->limit)
		return 1;
	ev.id = r->id | UINT64_C(1) << 63;	/* apart from trace event ids */
	ev.type = EVENT_SCAN;
	ev.brand_id = r->brand_id;
	ev.at = r->at;
	ev.scan_id = r->id;
	ev.n = 1;
	ev.serials = &serial;
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
	struct epcis_ids ids = { a, { 0 }, { 0 }, 0 };
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
	pg.ctx.base_url = a->brand.base_url;
	pg.ctx.code_uri = epcis_code_uri;
	pg.ctx.batch_class = epcis_batch_class;
	pg.ctx.arg = &ids;
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
