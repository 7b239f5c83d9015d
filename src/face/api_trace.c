/*
 * api_trace.c - the brand API's supply chain: aggregation (packing codes
 * into a parent and unpacking them), distributors and their territories
 * (GeoJSON, checked before it is stored), shipments to a distributor and
 * their receipt.
 *
 * Every code named is resolved against the caller's brand first
 * (http_api.c), so a request naming another brand's code changes
 * nothing and learns nothing (404).
 *
 * The trace as EPCIS 2.0 events is api_epcis.c's.
 *
 * A handler: route_api.c calls it after authentication and the role
 * check. May call http_api.c, epcis, geo, store (reads), http and
 * http_write; never calls another handler file. Never writes to the
 * store on the loop: every write is a writer op (aggregate, disaggregate,
 * distributor_add, distributor_update, ship, shipment_receive), answered
 * after the commit (an edited distributor's cached territory is then
 * forgotten: lookup_territory_forget);
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
#include "sigil/audit.h"
#include "sigil/epcis.h"
#include "sigil/geo.h"
#include "sigil/http.h"
#include "sigil/http_write.h"
#include "sigil/lookup.h"
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

static int
pack_audit(struct store *st, const void *arg, struct audit_entry *e,
    int after)
{
	const struct pack_job *x = arg;

	(void)st;
	if (after)
		return 0;
	audit_target(e, "code", "%llu", (unsigned long long)x->parent);
	audit_detail_set(e, json_pack("{s:I}", "children", (json_int_t)x->n));
	return 0;
}

static const struct writer_op op_aggregate = { "aggregate", pack_run,
    pack_audit };
static const struct writer_op op_disaggregate = { "disaggregate", pack_run,
    pack_audit };

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
	char text[CODE_URL_MAX + 1], gcp[13], sscc[19];
	struct batch b;
	json_t *arr;

	if (api_body(a) != 0 || api_field_str(a, "parent", CODE_URL_MAX, 1,
	    text, sizeof text) != 0 ||
	    api_code_of_brand(a, text, &x.parent, &b) != 0)
		return;
	/* With a company prefix, every parent must have an SSCC (epcis.h). */
	if (!unpack && api_brand_gcp(a->app->store, a->brand.id, gcp) == 0 &&
	    epcis_sscc(gcp, x.parent, sscc) != 0) {
		api_fail(a, 422, "sscc_range", "the parent's serial does not "
		    "fit the serial reference of an SSCC under the brand's GS1 "
		    "company prefix (17 digits less the prefix's)");
		return;
	}
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

	if (d->gln[0] != '\0')
		json_object_set_new(o, "gln", json_string(d->gln));

	if (with_territory && d->territory != NULL)
		json_object_set_new(o, "territory", json_loads(d->territory,
		    0, NULL));
	return o;
}

static int
distributor_audit(struct store *st, const void *arg, struct audit_entry *e,
    int after)
{
	const struct distributor *d = arg;

	(void)st;
	if (!after)
		return 0;
	audit_target(e, "distributor", "%u", d->id);
	audit_detail_set(e, json_pack("{s:s}", "name", d->name));
	return 1;
}

WRITER_OP_STORE_AUDIT(op_distributor_add, "distributor_add",
    store_distributor_add, distributor_audit);

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
	json_t *terr, *gln;
	char err_text[160];

	if (api_body(a) != 0 ||
	    api_field_str(a, "name", STORE_TEXT_MAX, 1, d.name, sizeof d.name))
		return;
	gln = json_object_get(a->body, "gln");
	if (gln != NULL && !json_is_null(gln)) {
		if (!json_is_string(gln) || !epcis_gln_ok(json_string_value(
		    gln))) {
			api_fail(a, 422, "bad_gln", "field 'gln' must be a GLN: "
			    "13 digits with a correct GS1 check digit");
			return;
		}
		snprintf(d.gln, sizeof d.gln, "%s", json_string_value(gln));
	}
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

/* ---- PATCH /api/v1/distributors/{id} ---- */

/* The op's argument: what to set, and the distributor as it was. */
struct dist_edit {
	struct distributor	d;	/* d.territory malloc'd or NULL */
	unsigned		fields;
	char			*territory;	/* freed by the reply */
};

static int
dist_edit_run(struct store *st, void *arg)
{
	struct dist_edit *x = arg;

	return store_distributor_update(st, &x->d, x->fields);
}

/* Before the change: the distributor, and what changes (name, gln;
 * the territory as changed or not, not its megabyte of text). */
static int
dist_edit_audit(struct store *st, const void *arg, struct audit_entry *e,
    int after)
{
	const struct dist_edit *x = arg;
	struct distributor was;
	json_t *b, *n;

	if (after)
		return 0;
	audit_target(e, "distributor", "%u", x->d.id);
	if (store_distributor_name(st, x->d.brand_id, x->d.id, &was) != 0)
		return 0;
	b = json_object();
	n = json_object();
	if (x->fields & STORE_DIST_NAME) {
		json_object_set_new(b, "name", json_string(was.name));
		json_object_set_new(n, "name", json_string(x->d.name));
	}
	if (x->fields & STORE_DIST_GLN) {
		json_object_set_new(b, "gln", was.gln[0] ?
		    json_string(was.gln) : json_null());
		json_object_set_new(n, "gln", x->d.gln[0] ?
		    json_string(x->d.gln) : json_null());
	}
	audit_detail_set(e, json_pack("{s:o,s:b}", "changes", audit_diff(b, n),
	    "territory_changed", (x->fields & STORE_DIST_TERRITORY) != 0));
	json_decref(b);
	json_decref(n);
	return 0;
}

static const struct writer_op op_distributor_update = { "distributor_update",
    dist_edit_run, dist_edit_audit };

static void
distributor_updated(struct http_call *c, void *arg, int err)
{
	struct dist_edit *x = arg;

	/* Scans from now on are judged against the new territory. */
	if (err == 0)
		lookup_territory_forget(x->d.brand_id, x->d.id);
	api_write_reply(c, err, "distributor", 200, distributor_json(&x->d,
	    0));
	free(x->territory);
}

void
api_distributors_patch(struct api_call *a)
{
	struct dist_edit x;
	struct distributor cur;
	struct geo_area *area = NULL;
	const char *key;
	json_t *v;
	char err_text[160];
	uint64_t id;

	memset(&x, 0, sizeof x);
	if (api_parse_id(a->seg[1], UINT32_MAX, &id) != 0 || id == 0 ||
	    store_distributor_name(a->app->store, a->brand.id, (uint32_t)id,
	    &cur) != 0) {
		api_fail(a, 404, "not_found", "distributor not found");
		return;
	}
	if (api_body(a) != 0)
		return;
	json_object_foreach(a->body, key, v) {
		if (strcmp(key, "name") != 0 && strcmp(key, "territory") != 0 &&
		    strcmp(key, "gln") != 0) {
			api_fail(a, 422, "invalid", "only name, territory and "
			    "gln may change");
			return;
		}
	}
	if (json_object_size(a->body) == 0) {
		api_fail(a, 422, "invalid", "give name, territory or gln");
		return;
	}
	if ((v = json_object_get(a->body, "name")) != NULL) {
		if (api_field_str(a, "name", STORE_TEXT_MAX, 1, x.d.name,
		    sizeof x.d.name) != 0)
			return;
		x.fields |= STORE_DIST_NAME;
	}
	if ((v = json_object_get(a->body, "gln")) != NULL) {
		if (!json_is_null(v) && (!json_is_string(v) ||
		    !epcis_gln_ok(json_string_value(v)))) {
			api_fail(a, 422, "bad_gln", "field 'gln' must be a GLN: "
			    "13 digits with a correct GS1 check digit, or null");
			return;
		}
		if (json_is_string(v))
			snprintf(x.d.gln, sizeof x.d.gln, "%s",
			    json_string_value(v));
		x.fields |= STORE_DIST_GLN;
	}
	if ((v = json_object_get(a->body, "territory")) != NULL) {
		if (!json_is_object(v)) {
			api_fail(a, 422, "bad_territory",
			    "field 'territory' (a GeoJSON Polygon "
			    "or MultiPolygon) is required");
			return;
		}
		if ((x.territory = json_dumps(v, JSON_COMPACT)) == NULL) {
			api_fail(a, 503, "unavailable", "out of memory");
			return;
		}
		if (strlen(x.territory) > STORE_GEOJSON_MAX ||
		    geo_area_parse(x.territory, strlen(x.territory), &area,
		    err_text, sizeof err_text) != 0) {
			if (strlen(x.territory) > STORE_GEOJSON_MAX)
				snprintf(err_text, sizeof err_text, "territory "
				    "larger than %d bytes", STORE_GEOJSON_MAX);
			free(x.territory);
			api_fail(a, 422, "bad_territory", err_text);
			return;
		}
		geo_area_free(area);
		x.d.territory = x.territory;
		x.fields |= STORE_DIST_TERRITORY;
	}
	x.d.brand_id = a->brand.id;
	x.d.id = (uint32_t)id;
	http_write(a->c, &op_distributor_update, &x, sizeof x,
	    distributor_updated);
}

struct distributor_page {
	json_t		*arr;
	size_t		 limit;
	int		 more;
	uint32_t	 last;
};

static int
distributor_list_one(void *arg, const struct distributor *d)
{
	struct distributor_page *pg = arg;

	if (json_array_size(pg->arr) == pg->limit) {
		pg->more = 1;
		return 1;
	}
	json_array_append_new(pg->arr, distributor_json(d, 0));
	pg->last = d->id;
	return 0;
}

/* In id order, ?after= the next of the previous page. */
void
api_distributors_list(struct api_call *a)
{
	struct distributor_page pg = { 0 };
	uint64_t after;
	int err;

	if (api_query_limit(a, API_LIST_MAX, &pg.limit) != 0 ||
	    api_query_id(a, "after", UINT32_MAX, &after) != 0)
		return;
	pg.arr = json_array();
	err = store_distributor_page(a->app->store, a->brand.id,
	    (uint32_t)after, distributor_list_one, &pg);
	if (err < 0) {
		json_decref(pg.arr);
		api_store_fail(a, err, "distributors");
		return;
	}
	api_reply(a, 200, json_pack("{s:o,s:o}", "distributors", pg.arr,
	    "next", pg.more ? json_integer(pg.last) : json_null()));
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

static int
ship_audit(struct store *st, const void *arg, struct audit_entry *e,
    int after)
{
	const struct ship_job *x = arg;

	(void)st;
	if (!after) {
		if (x->receive)
			audit_target(e, "shipment", "%llu",
			    (unsigned long long)x->s.id);
		else
			audit_detail_set(e, json_pack("{s:i,s:I}",
			    "distributor", (int)x->distributor, "codes",
			    (json_int_t)x->n));
		return 0;
	}
	if (x->receive)
		return 0;
	audit_target(e, "shipment", "%llu", (unsigned long long)x->s.id);
	return 1;
}

static const struct writer_op op_ship = { "ship", ship_run, ship_audit };
static const struct writer_op op_receive = { "shipment_receive", ship_run,
    ship_audit };

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
