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

/*
 * The JSON-LD context every document names: the versioned 2.0.0 one, so
 * a reader resolves the terms of the standard sigil was written against
 * (EPCIS 2.0 §10 / JSON schema). The versions sent in the
 * GS1-EPCIS-Version and GS1-CBV-Version headers of every EPCIS answer
 * (REST binding, openapi.yaml components/headers).
 */
#define EPCIS_CONTEXT	\
	"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
#define EPCIS_SCHEMA_VERSION	"2.0"
#define EPCIS_VERSION_HEADER	"2.0.0"
#define CBV_VERSION_HEADER	"2.0.0"
/* GS1's canonical Digital Link domain, for GLNs and SSCCs. */
#define EPCIS_GS1_DL	"https://id.gs1.org"
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
	/*
	 * The distributor's GLN (13 digits, NUL-terminated) into gln, or
	 * SIGIL_ENOTFOUND when it has none. Optional (NULL: none has one).
	 * With a GLN, SHIP adds a destination of type location and RECEIVE
	 * takes it as readPoint and bizLocation, as
	 * "https://id.gs1.org/414/<gln>"; the check digit is verified.
	 */
	int		(*distributor_gln)(void *arg, uint32_t brand_id,
			    uint32_t distributor, char gln[14]);
	void		*arg;		/* passed to the callbacks */
	/*
	 * The installation id (STORE_INSTALL_ID_LEN bytes, store.h):
	 * every eventID is derived from it. Required.
	 */
	const uint8_t	*installation;
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
 * eventTimeZoneOffset "+00:00". recordTime is the same instant: sigil
 * records every event itself, in the transaction that makes it happen
 * (a scan, a packing, a shipment), so the moment it happened and the
 * moment it was recorded are one; the store keeps one time. eventID is
 * "urn:uuid:<v8 UUID>" derived from SHA-256 of (installation, brand_id,
 * ev->id): the same event always gets the same ID, so re-exports
 * deduplicate in the receiving repository, and two installations never
 * give two events one ID.
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
 * Writes the deterministic eventID of event id of brand_id in the
 * installation inst (STORE_INSTALL_ID_LEN bytes) into buf ("urn:uuid:" +
 * 36 characters + NUL: EPCIS_EVENT_ID_LEN + 1 bytes). Exposed so an API
 * can look an event up by its EPCIS ID.
 */
#define EPCIS_EVENT_ID_LEN	45
void epcis_event_id(const uint8_t *inst, uint32_t brand_id, uint64_t id,
    char buf[EPCIS_EVENT_ID_LEN + 1]);

/* ---- GS1 keys for logistic units and locations (epcis.c) ---- */

/* 1 when s is n digits whose last is the GS1 mod-10 check digit. */
int epcis_gs1_check_ok(const char *s, size_t n);
/* 1 when s is a GLN: 13 digits with a correct check digit. */
int epcis_gln_ok(const char *s);
/* 1 when s is a GS1 company prefix: 6 to 12 digits. */
int epcis_gcp_ok(const char *s);
/*
 * The SSCC (AI 00, 18 digits + NUL) of serial under company prefix gcp:
 * extension digit and serial reference together are the 17 - len(gcp)
 * digits of serial, zero-padded (so the extension digit is serial's
 * leading digit when it needs all of them), then the check digit.
 * 0, or SIGIL_EINVAL for a bad prefix or a serial of 0 or one that does
 * not fit in 17 - len(gcp) digits.
 */
int epcis_sscc(const char *gcp, uint64_t serial, char out[19]);

#endif
