/*
 * epcis.c - trace events as GS1 EPCIS 2.0 JSON-LD.
 *
 * Owns nothing and keeps no state: it maps one struct trace_event to one
 * EPCIS event object and wraps lists of them in documents. It may call
 * jansson, OpenSSL's SHA-256, util.c and the callbacks in struct
 * epcis_ctx; it must never open the store (the caller already holds the
 * events and knows how its codes are spelled).
 *
 * Choices the standard leaves open, and why:
 * - Identifiers are whatever URI the caller's code_uri gives (GS1 Digital
 *   Link for GTIN products, the compact /S/ URL otherwise). EPCIS 2.0
 *   accepts any absolute URI as an EPC; each one is checked here so that
 *   a bad base URL fails the render instead of producing a document a
 *   trading partner's repository would reject.
 * - eventID is a UUID version 8 (RFC 9562 §5.8, the name-based SHA-256
 *   example) of (installation, brand, store event id): the installation
 *   id (store.h) is 16 random bytes made once per store, so two
 *   installations holding the same events give them different ids, and
 *   one gives an event the same id in every answer, across restarts.
 *   The "ni:///sha-256;..." form is reserved by EPCIS 2.0 for the
 *   canonical event hash, which is defined over the normalised event
 *   content; calling our own digest that would mislead a partner that
 *   recomputes it.
 * - SCAN maps to bizStep "inspecting": CBV 2.0 has no consumer-scan step,
 *   and "inspecting" ("reviewing objects to address potential physical or
 *   documentation defects") is what a consumer checking authenticity does.
 *   "retail_selling" would assert a sale we cannot see, and "other" says
 *   nothing. The disposition stays "active": the code remains in commerce.
 *   No readPoint is given: the scan's place is the consumer's consented
 *   geolocation, which is not shared with trading partners.
 * - Brand-side steps (commission, packing, shipping, decommission) take
 *   the brand's base URL as readPoint; RECEIVE takes the distributor's URI
 *   as readPoint and bizLocation, since that is where the goods now are.
 * - Times are UTC ("Z") with eventTimeZoneOffset "+00:00": the store keeps
 *   no local zone for an event, and the offset must still be present.
 * - recordTime equals eventTime: sigil is its own capturing application
 *   and records each event in the transaction that makes it happen, so
 *   the store keeps one time for both (epcis.h).
 * - With a GLN, a distributor's place is "https://id.gs1.org/414/<gln>"
 *   (distributor_place says why); with a brand's GS1 company prefix the
 *   caller names aggregation parents by SSCC, "https://id.gs1.org/00/..."
 *   (epcis_sscc): GS1's canonical Digital Link domain, so partners can
 *   compare identifiers as strings.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/sha.h>

#include "sigil/epcis.h"
#include "sigil/util.h"

/* 9999-12-31T23:59:59.999Z: the last instant a 4-digit year can spell. */
#define EPCIS_TIME_MAX	INT64_C(253402300799999999)

struct mapping {
	const char	*type, *action, *biz_step, *disposition;
};

static const struct mapping *
mapping_of(int type)
{
	static const struct mapping map[] = {
		[EVENT_COMMISSION] = { "ObjectEvent", "ADD",
		    "commissioning", "active" },
		[EVENT_AGGREGATE] = { "AggregationEvent", "ADD",
		    "packing", "in_progress" },
		[EVENT_DISAGGREGATE] = { "AggregationEvent", "DELETE",
		    "unpacking", "in_progress" },
		[EVENT_SHIP] = { "ObjectEvent", "OBSERVE",
		    "shipping", "in_transit" },
		[EVENT_RECEIVE] = { "ObjectEvent", "OBSERVE",
		    "receiving", "in_progress" },
		[EVENT_SCAN] = { "ObjectEvent", "OBSERVE",
		    "inspecting", "active" },
		[EVENT_DECOMMISSION] = { "ObjectEvent", "DELETE",
		    "decommissioning", "inactive" },
	};

	if (type < EVENT_COMMISSION || type > EVENT_DECOMMISSION)
		return NULL;
	return &map[type];
}

static int
hex_digit(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

/*
 * An absolute URI as RFC 3986 spells it: a scheme, a colon, and at least
 * one more character, all printable ASCII other than the characters RFC
 * 3986 never allows unescaped. Also the rule the validator applies to
 * JSON schema "format": "uri".
 */
static int
uri_ok(const char *s)
{
	const char *p = s;

	if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
		return 0;
	while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
	    (*p >= '0' && *p <= '9') || *p == '+' || *p == '-' || *p == '.')
		p++;
	if (*p++ != ':' || *p == '\0')
		return 0;
	for (; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c <= 0x20 || c >= 0x7f || strchr("\"<>\\^`{|}", c))
			return 0;
		if (c == '%' && !(hex_digit(p[1]) && hex_digit(p[2])))
			return 0;
	}
	return 1;
}

/*
 * Judges what a URI callback returned: its own error passes through;
 * otherwise buf must hold a NUL-terminated absolute URI within cap bytes.
 */
static int
uri_checked(int err, const char *buf, size_t cap)
{
	if (err)
		return err;
	if (!memchr(buf, '\0', cap) || !uri_ok(buf))
		return SIGIL_EINVAL;
	return 0;
}

/* base_url + suffix, with a trailing slash of the base dropped. */
static int
uri_join(const char *base, const char *fmt_suffix, uint64_t id, char *buf,
    size_t cap)
{
	size_t n = strlen(base);
	int w;

	while (n > 0 && base[n - 1] == '/')
		n--;
	w = snprintf(buf, cap, "%.*s%s%llu", (int)n, base, fmt_suffix,
	    (unsigned long long)id);
	if (w < 0 || (size_t)w >= cap)
		return SIGIL_EINVAL;
	return uri_checked(0, buf, cap);
}

void
epcis_event_id(const uint8_t *inst, uint32_t brand_id, uint64_t id,
    char buf[EPCIS_EVENT_ID_LEN + 1])
{
	static const char label[] = "sigil/epcis/event/v2";
	uint8_t in[sizeof label + STORE_INSTALL_ID_LEN + 12];
	uint8_t md[SHA256_DIGEST_LENGTH];
	uint8_t *p = in + sizeof label;
	char hex[33];

	memcpy(in, label, sizeof label);
	if (inst != NULL)
		memcpy(p, inst, STORE_INSTALL_ID_LEN);
	else
		memset(p, 0, STORE_INSTALL_ID_LEN);
	p += STORE_INSTALL_ID_LEN;
	sigil_be32_put(p, brand_id);
	sigil_be64_put(p + 4, id);
	SHA256(in, sizeof in, md);
	md[6] = (uint8_t)((md[6] & 0x0f) | 0x80);	/* version 8 */
	md[8] = (uint8_t)((md[8] & 0x3f) | 0x80);	/* variant 10 */
	sigil_hex_encode(md, 16, hex);
	snprintf(buf, EPCIS_EVENT_ID_LEN + 1,
	    "urn:uuid:%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12,
	    hex + 16, hex + 20);
}

/* ---- GS1 keys ---- */

static int
digits_ok(const char *s, size_t n)
{
	if (s == NULL || strlen(s) != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/*
 * GS1 General Specifications §7.9.1: from the right, the digits before
 * the check digit weigh 3, 1, 3, ...; the check digit brings the sum to
 * a multiple of 10.
 */
int
epcis_gs1_check_ok(const char *s, size_t n)
{
	unsigned sum = 0;

	if (n < 2 || !digits_ok(s, n))
		return 0;
	for (size_t i = 0; i + 1 < n; i++)
		sum += (unsigned)(s[n - 2 - i] - '0') * (i % 2 == 0 ? 3 : 1);
	return (10 - sum % 10) % 10 == (unsigned)(s[n - 1] - '0');
}

int
epcis_gln_ok(const char *s)
{
	return epcis_gs1_check_ok(s, 13);
}

int
epcis_gcp_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return n >= 6 && n <= 12 && digits_ok(s, n);
}

int
epcis_sscc(const char *gcp, uint64_t serial, char out[19])
{
	char buf[19];
	size_t g, room;
	uint64_t lim = 1;
	unsigned sum = 0;

	if (!epcis_gcp_ok(gcp) || serial == 0)
		return SIGIL_EINVAL;
	g = strlen(gcp);
	room = 17 - g;		/* extension digit + serial reference */
	for (size_t i = 0; i < room; i++)
		lim *= 10;
	if (serial >= lim)
		return SIGIL_EINVAL;
	/* AI 00: extension digit, company prefix, serial reference, check. */
	snprintf(buf, sizeof buf, "%0*llu", (int)room,
	    (unsigned long long)serial);
	memmove(buf + 1 + g, buf + 1, room - 1);
	memcpy(buf + 1, gcp, g);
	for (size_t i = 0; i < 17; i++)
		sum += (unsigned)(buf[16 - i] - '0') * (i % 2 == 0 ? 3 : 1);
	buf[17] = (char)('0' + (10 - sum % 10) % 10);
	buf[18] = '\0';
	memcpy(out, buf, sizeof buf);
	return 0;
}

/* Sets obj[key] to a new string; 0 or SIGIL_ENOMEM. */
static int
set_str(json_t *obj, const char *key, const char *val)
{
	return json_object_set_new(obj, key, json_string(val)) ?
	    SIGIL_ENOMEM : 0;
}

/* Sets obj[key] to val, whose reference passes to obj even on failure. */
static int
set_new(json_t *obj, const char *key, json_t *val)
{
	return json_object_set_new(obj, key, val) ? SIGIL_ENOMEM : 0;
}

/* {"id": uri}, the shape of readPoint and bizLocation. */
static int
set_place(json_t *obj, const char *key, const char *uri)
{
	json_t *place = json_object();

	if (!place || set_str(place, "id", uri)) {
		json_decref(place);
		return SIGIL_ENOMEM;
	}
	return set_new(obj, key, place);
}

/* list_key: [{"type": type, value_key: uri}], sourceList/destinationList. */
static int
set_party(json_t *obj, const char *list_key, const char *type,
    const char *value_key, const char *uri)
{
	json_t *list = json_array(), *item = json_object();

	if (!list || !item || set_str(item, "type", type) ||
	    set_str(item, value_key, uri) || json_array_append(list, item)) {
		json_decref(item);
		json_decref(list);
		return SIGIL_ENOMEM;
	}
	json_decref(item);
	return set_new(obj, list_key, list);
}

/* An array of the URIs of ev's serials, under key. */
static int
set_codes(const struct epcis_ctx *ctx, const struct trace_event *ev,
    json_t *obj, const char *key)
{
	char uri[EPCIS_URI_MAX];
	json_t *list = json_array();
	int err = 0;

	if (!list)
		return SIGIL_ENOMEM;
	for (size_t i = 0; i < ev->n; i++) {
		uri[0] = '\0';
		err = uri_checked(ctx->code_uri(ctx->arg, ev->brand_id,
		    ev->serials[i], uri, sizeof uri), uri, sizeof uri);
		if (err)
			goto fail;
		if (json_array_append_new(list, json_string(uri))) {
			err = SIGIL_ENOMEM;
			goto fail;
		}
	}
	return set_new(obj, key, list);
fail:
	json_decref(list);
	return err;
}

/* quantityList [{epcClass, quantity}] naming ev's whole batch. */
static int
set_batch(const struct epcis_ctx *ctx, const struct trace_event *ev,
    json_t *obj)
{
	char uri[EPCIS_URI_MAX];
	uint64_t count = 0;
	json_t *list, *item;
	int err;

	uri[0] = '\0';
	err = uri_checked(ctx->batch_class(ctx->arg, ev->brand_id,
	    ev->batch_id, uri, sizeof uri, &count), uri, sizeof uri);
	if (err)
		return err;
	/* A JSON number beyond 2^53 loses digits in most readers. */
	if (count > (UINT64_C(1) << 53))
		return SIGIL_EINVAL;
	list = json_array();
	item = json_object();
	if (!list || !item || set_str(item, "epcClass", uri) ||
	    set_new(item, "quantity", json_integer((json_int_t)count)) ||
	    json_array_append(list, item)) {
		json_decref(item);
		json_decref(list);
		return SIGIL_ENOMEM;
	}
	json_decref(item);
	return set_new(obj, "quantityList", list);
}

/* Appends {"type": type, value_key: uri} to the array obj[list_key]. */
static int
add_party(json_t *obj, const char *list_key, const char *type,
    const char *value_key, const char *uri)
{
	json_t *list = json_object_get(obj, list_key), *item = json_object();

	if (!json_is_array(list) || !item || set_str(item, "type", type) ||
	    set_str(item, value_key, uri)) {
		json_decref(item);
		return SIGIL_ENOMEM;
	}
	return json_array_append_new(list, item) ? SIGIL_ENOMEM : 0;
}

/*
 * The distributor's location as a GS1 Digital Link URI on GS1's
 * canonical domain, "https://id.gs1.org/414/<gln>", when it has a GLN
 * (place empty otherwise). Digital Link rather than the EPC URN
 * urn:epc:id:sgln:<prefix>.<location>.0: the URN needs the GLN split at
 * the end of its company prefix, whose length only GS1's prefix tables
 * know, while the Digital Link carries the GLN whole. EPCIS 2.0 takes
 * either form (§8.2), and sigil names its items by Digital Link too.
 */
static int
distributor_place(const struct epcis_ctx *ctx, const struct trace_event *ev,
    char *place, size_t cap)
{
	char gln[14];
	int err;

	place[0] = '\0';
	if (!ctx->distributor_gln)
		return 0;
	memset(gln, 0, sizeof gln);
	err = ctx->distributor_gln(ctx->arg, ev->brand_id, ev->distributor,
	    gln);
	if (err == SIGIL_ENOTFOUND)
		return 0;
	if (err)
		return err;
	if (gln[13] != '\0' || !epcis_gln_ok(gln))
		return SIGIL_EINVAL;
	snprintf(place, cap, EPCIS_GS1_DL "/414/%s", gln);
	return 1;
}

/* The what/where/why of ev beyond the fields every event shares. */
static int
event_body(const struct epcis_ctx *ctx, const struct trace_event *ev,
    json_t *obj)
{
	char uri[EPCIS_URI_MAX], party[EPCIS_URI_MAX], place[EPCIS_URI_MAX];
	json_t *txs, *tx;
	int err;

	switch (ev->type) {
	case EVENT_COMMISSION:
	case EVENT_DECOMMISSION:
		if (!ctx->batch_class)
			return SIGIL_EINVAL;
		if ((err = set_batch(ctx, ev, obj)))
			return err;
		return set_place(obj, "readPoint", ctx->base_url);
	case EVENT_AGGREGATE:
	case EVENT_DISAGGREGATE:
		if (ev->type == EVENT_AGGREGATE && ev->n == 0)
			return SIGIL_EINVAL;
		uri[0] = '\0';
		err = uri_checked(ctx->code_uri(ctx->arg, ev->brand_id,
		    ev->parent, uri, sizeof uri), uri, sizeof uri);
		if (err || (err = set_str(obj, "parentID", uri)))
			return err;
		/* DELETE with no children unpacks them all (EPCIS 2.0 §7.4.3). */
		if ((err = set_codes(ctx, ev, obj, "childEPCs")))
			return err;
		return set_place(obj, "readPoint", ctx->base_url);
	case EVENT_SHIP:
	case EVENT_RECEIVE:
		if (ev->type == EVENT_SHIP && ev->n == 0)
			return SIGIL_EINVAL;
		if ((err = set_codes(ctx, ev, obj, "epcList")))
			return err;
		if ((err = uri_join(ctx->base_url, "/api/v1/distributors/",
		    ev->distributor, party, sizeof party)) ||
		    (err = uri_join(ctx->base_url, "/api/v1/shipments/",
		    ev->shipment, uri, sizeof uri)))
			return err;
		if ((err = distributor_place(ctx, ev, place, sizeof place)) < 0)
			return err;
		if (ev->type == EVENT_SHIP) {
			if ((err = set_place(obj, "readPoint", ctx->base_url)) ||
			    (err = set_party(obj, "sourceList", "owning_party",
			    "source", ctx->base_url)) ||
			    (err = set_party(obj, "destinationList",
			    "owning_party", "destination", party)) ||
			    (place[0] && (err = add_party(obj,
			    "destinationList", "location", "destination",
			    place))))
				return err;
		} else if ((err = set_place(obj, "readPoint", place[0] ? place :
		    party)) || (err = set_place(obj, "bizLocation", place[0] ?
		    place : party))) {
			return err;
		}
		/* desadv: the despatch advice the shipment stands for. */
		txs = json_array();
		tx = json_object();
		if (!txs || !tx || set_str(tx, "type", "desadv") ||
		    set_str(tx, "bizTransaction", uri) ||
		    json_array_append(txs, tx)) {
			json_decref(tx);
			json_decref(txs);
			return SIGIL_ENOMEM;
		}
		json_decref(tx);
		return set_new(obj, "bizTransactionList", txs);
	case EVENT_SCAN:
		return set_codes(ctx, ev, obj, "epcList");
	}
	return SIGIL_EINVAL;
}

int
epcis_event_json(const struct epcis_ctx *ctx, const struct trace_event *ev,
    json_t **out)
{
	const struct mapping *m;
	char when[SIGIL_TIME_LEN + 1], id[EPCIS_EVENT_ID_LEN + 1];
	json_t *obj;
	int err;

	if (!ctx || !ev || !out || !ctx->code_uri || !ctx->base_url ||
	    !ctx->installation ||
	    !uri_ok(ctx->base_url) || strlen(ctx->base_url) >= EPCIS_URI_MAX)
		return SIGIL_EINVAL;
	if (!(m = mapping_of(ev->type)) || ev->at < 0 ||
	    ev->at > EPCIS_TIME_MAX || (ev->n > 0 && !ev->serials))
		return SIGIL_EINVAL;
	if (!(obj = json_object()))
		return SIGIL_ENOMEM;
	sigil_time_format(ev->at, when);
	epcis_event_id(ctx->installation, ev->brand_id, ev->id, id);
	if ((err = set_str(obj, "type", m->type)) ||
	    (err = set_str(obj, "eventID", id)) ||
	    (err = set_str(obj, "eventTime", when)) ||
	    (err = set_str(obj, "recordTime", when)) ||
	    (err = set_str(obj, "eventTimeZoneOffset", "+00:00")) ||
	    (err = set_str(obj, "action", m->action)) ||
	    (err = set_str(obj, "bizStep", m->biz_step)) ||
	    (err = set_str(obj, "disposition", m->disposition)) ||
	    (err = event_body(ctx, ev, obj)))
		goto fail;
	*out = obj;
	return 0;
fail:
	json_decref(obj);
	return err;
}

int
epcis_document(int kind, json_t *events, int64_t created, json_t **out)
{
	char when[SIGIL_TIME_LEN + 1];
	json_t *doc = NULL, *ctx = NULL, *body = NULL, *results = NULL,
	    *inner = NULL;
	int err = SIGIL_ENOMEM;

	if ((kind != EPCIS_DOC_CAPTURE && kind != EPCIS_DOC_QUERY) ||
	    !json_is_array(events) || created < 0 ||
	    created > EPCIS_TIME_MAX || !out) {
		err = SIGIL_EINVAL;
		goto fail;
	}
	sigil_time_format(created, when);
	if (!(doc = json_object()) || !(ctx = json_array()) ||
	    json_array_append_new(ctx, json_string(EPCIS_CONTEXT)))
		goto fail;
	err = set_new(doc, "@context", ctx);
	ctx = NULL;
	if (err || (err = set_str(doc, "type", kind == EPCIS_DOC_QUERY ?
	    "EPCISQueryDocument" : "EPCISDocument")) ||
	    (err = set_str(doc, "schemaVersion", EPCIS_SCHEMA_VERSION)) ||
	    (err = set_str(doc, "creationDate", when)))
		goto fail;
	err = SIGIL_ENOMEM;
	if (!(body = json_object()))
		goto fail;
	if (kind == EPCIS_DOC_CAPTURE) {
		err = set_new(body, "eventList", events);
		events = NULL;
	} else {
		if (!(results = json_object()) || !(inner = json_object()))
			goto fail;
		err = set_new(inner, "eventList", events);
		events = NULL;
		if (err || (err = set_str(results, "queryName",
		    "SimpleEventQuery")))
			goto fail;
		err = set_new(results, "resultsBody", inner);
		inner = NULL;
		if (err)
			goto fail;
		err = set_new(body, "queryResults", results);
		results = NULL;
	}
	if (err)
		goto fail;
	err = set_new(doc, "epcisBody", body);
	body = NULL;
	if (err)
		goto fail;
	*out = doc;
	return 0;
fail:
	json_decref(inner);
	json_decref(results);
	json_decref(body);
	json_decref(ctx);
	json_decref(doc);
	json_decref(events);
	return err;
}
