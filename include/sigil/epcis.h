/*
 * epcis.h - trace events rendered as GS1 EPCIS 2.0 JSON-LD.
 *
 * epcis.c turns one struct trace_event from the store into one EPCIS 2.0
 * event object, and wraps a list of them in an EPCISDocument (exports) or
 * an EPCISQueryDocument (GET /api/v1/epcis/events). It never touches the
 * store itself: every identifier it needs (a code's URI, a batch's
 * class-level URI and size) comes from callbacks in struct epcis_ctx, so
 * the caller decides between GS1 Digital Link and compact URLs.
 *
 * Every function returns 0 or a negative SIGIL_E* code (sigil/util.h) and
 * sets its output parameter on success only.
 */
#ifndef SIGIL_EPCIS_H
#define SIGIL_EPCIS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "sigil/store.h"

/* The JSON-LD context every document names (EPCIS 2.0 §10 / JSON schema). */
#define EPCIS_CONTEXT	"https://ref.gs1.org/standards/epcis/epcis-context.jsonld"
#define EPCIS_SCHEMA_VERSION	"2.0"
/* Longest identifier URI a callback may produce, NUL included. */
#define EPCIS_URI_MAX	512

struct epcis_ctx {
	/*
	 * The brand's base URL, e.g. "https://acme.example" (a trailing
	 * slash is ignored). Names the brand as readPoint/source and roots
	 * the distributor and shipment URIs:
	 *   <base>/api/v1/distributors/<d>, <base>/api/v1/shipments/<id>.
	 */
	const char	*base_url;
	/*
	 * Writes the instance-level URI of code (brand_id, serial) into buf
	 * (cap bytes, NUL-terminated): "https://host/01/<gtin>/21/<serial>"
	 * for products with a GTIN, "https://host/S/<CODE>" otherwise.
	 * Returns 0 or a negative SIGIL_E* code, which the renderer passes
	 * on. Required.
	 */
	int		(*code_uri)(void *arg, uint32_t brand_id,
			    uint64_t serial, char *buf, size_t cap);
	/*
	 * Writes the class-level URI of batch_id (e.g.
	 * "https://host/01/<gtin>/10/<lot>") into buf and its number of
	 * codes into *count. Used for COMMISSION and DECOMMISSION, which
	 * name a whole batch in a quantityList. Required for those types.
	 */
	int		(*batch_class)(void *arg, uint32_t brand_id,
			    uint64_t batch_id, char *buf, size_t cap,
			    uint64_t *count);
	void		*arg;		/* passed to both callbacks */
};

/*
 * Renders ev as one EPCIS 2.0 event:
 *   COMMISSION    ObjectEvent ADD, commissioning, active, quantityList
 *   AGGREGATE     AggregationEvent ADD, packing, in_progress
 *   DISAGGREGATE  AggregationEvent DELETE, unpacking (no children = all)
 *   SHIP          ObjectEvent OBSERVE, shipping, in_transit, epcList of
 *                 the roots, destinationList + bizTransactionList (desadv)
 *   RECEIVE       ObjectEvent OBSERVE, receiving, in_progress
 *   SCAN          ObjectEvent OBSERVE, inspecting, active
 *   DECOMMISSION  ObjectEvent DELETE, decommissioning, inactive
 * eventTime is ev->at in UTC with millisecond precision and
 * eventTimeZoneOffset "+00:00". eventID is "urn:uuid:<v8 UUID>" derived
 * from SHA-256 of (brand_id, ev->id): the same event always gets the same
 * ID, so re-exports deduplicate in the receiving repository.
 *
 * The event carries no @context of its own; wrap it with epcis_document().
 * *out is a new reference owned by the caller. SIGIL_EINVAL for a NULL
 * argument, an unknown type, a time outside years 1970..9999, an
 * AGGREGATE or SHIP without serials, a missing callback or base URL, or a
 * callback that produces something that is not an absolute URI;
 * SIGIL_ENOMEM; or whatever a callback returned.
 */
int epcis_event_json(const struct epcis_ctx *ctx, const struct trace_event *ev,
    json_t **out);

enum epcis_doc_kind {
	EPCIS_DOC_CAPTURE = 1,	/* EPCISDocument: files, capture interface */
	EPCIS_DOC_QUERY = 2,	/* EPCISQueryDocument: query results */
};

/*
 * Wraps events (a JSON array of rendered events) in a document of the
 * given kind with @context, schemaVersion "2.0" and creationDate created
 * (microseconds since the epoch). A query document names the query
 * "SimpleEventQuery". Pagination stays outside the document: the HTTP
 * layer sends the next page as a `Link: <...>; rel="next"` header, as the
 * EPCIS 2.0 REST binding does, so the body validates unchanged.
 *
 * Takes ownership of events in every case (it is released on failure), so
 * callers can write epcis_document(kind, json_array(), t, &doc).
 * SIGIL_EINVAL for a bad kind, a non-array, or a bad time; SIGIL_ENOMEM.
 */
int epcis_document(int kind, json_t *events, int64_t created, json_t **out);

/*
 * Writes the deterministic eventID of event id of brand_id into buf
 * ("urn:uuid:" + 36 characters + NUL: EPCIS_EVENT_ID_LEN + 1 bytes).
 * Exposed so an API can look an event up by its EPCIS ID.
 */
#define EPCIS_EVENT_ID_LEN	45
void epcis_event_id(uint32_t brand_id, uint64_t id,
    char buf[EPCIS_EVENT_ID_LEN + 1]);

#endif
