/*
 * epcis_query.h - the EPCIS 2.0 REST binding's query parameters as sigil
 * reads them (GET /epcis/events): RFC 3339 times, EQ_bizStep and
 * eventType lists turned into the trace event types they select, and the
 * opaque, tamper-evident nextPageToken.
 *
 * Pure logic in src/domain/epcis_query.c: no store, no HTTP. Every
 * function returns 0 or a negative SIGIL_E* code and sets its outputs
 * on success only.
 */
#ifndef SIGIL_EPCIS_QUERY_H
#define SIGIL_EPCIS_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "sigil/store.h"

/* A set of trace event types: bit (1u << EVENT_*). */
#define EPCIS_TYPE_BIT(t)	(1u << (t))
#define EPCIS_TYPES_ALL	(EPCIS_TYPE_BIT(EVENT_COMMISSION) |		\
	EPCIS_TYPE_BIT(EVENT_AGGREGATE) | EPCIS_TYPE_BIT(EVENT_DISAGGREGATE) |\
	EPCIS_TYPE_BIT(EVENT_SHIP) | EPCIS_TYPE_BIT(EVENT_RECEIVE) |	\
	EPCIS_TYPE_BIT(EVENT_SCAN) | EPCIS_TYPE_BIT(EVENT_DECOMMISSION))

/*
 * An RFC 3339 date-time ("format": "date-time" of the binding's
 * GE_eventTime/LT_eventTime): YYYY-MM-DDTHH:MM:SS, an optional fraction
 * (at most 9 digits, kept to the microsecond, rounded down), and Z or
 * +HH:MM / -HH:MM (at most 23:59). A space where the offset's '+' belongs
 * is read as '+': a query string decodes an unescaped '+' to a space.
 * *out: microseconds since 1970 (negative before). SIGIL_EINVAL for
 * anything else, impossible dates included.
 */
int epcis_time_parse(const char *s, int64_t *out);

/*
 * EQ_bizStep: one value or several separated by '|' (the binding's
 * pipeDelimited style). Each is a CBV 2.0 business step as a bare word
 * ("shipping"), as its CBV URI ("https://ref.gs1.org/cbv/BizStep-
 * shipping") or its EPCIS 1.x URN ("urn:epcglobal:cbv:bizstep:shipping"),
 * or another absolute URI (a private vocabulary, which no sigil event
 * carries). *mask: the types whose bizStep is named (0 when none is).
 * SIGIL_EINVAL for an empty element, a word that is no CBV business
 * step, a CBV URI of an unknown step, or something neither word nor URI.
 */
int epcis_biz_steps(const char *list, unsigned *mask);

/*
 * eventType: '|'-separated ObjectEvent, AggregationEvent,
 * TransactionEvent, TransformationEvent, AssociationEvent, or an
 * extension event type's URI. *mask as above. SIGIL_EINVAL otherwise.
 */
int epcis_event_types(const char *list, unsigned *mask);

/*
 * EQ_action: '|'-separated ADD, OBSERVE, DELETE (nothing else, as the
 * binding says). EQ_disposition: CBV 2.0 dispositions as words, CBV URIs
 * ("https://ref.gs1.org/cbv/Disp-in_transit") or EPCIS 1.x URNs
 * ("urn:epcglobal:cbv:disp:in_transit"), or other absolute URIs.
 * *mask as above; SIGIL_EINVAL otherwise.
 */
int epcis_actions(const char *list, unsigned *mask);
int epcis_dispositions(const char *list, unsigned *mask);

/* Where the next page starts: after these trace event and scan ids. */
struct epcis_cursor {
	uint64_t	last_event, last_scan;
};

/*
 * nextPageToken: base64url (no padding) of a version byte, the cursor
 * and the first 16 bytes of HMAC-SHA-256(key, cursor || bind), where
 * bind is the caller's text naming the brand and the query's filters:
 * a token works only for the query that made it, and any change to it
 * is refused.
 */
#define EPCIS_TOKEN_LEN		44
#define EPCIS_TOKEN_KEY_LEN	32
/* The token key of an installation (STORE_INSTALL_ID_LEN bytes). */
void epcis_token_key(const uint8_t *inst, uint8_t key[EPCIS_TOKEN_KEY_LEN]);
void epcis_token_make(const uint8_t key[EPCIS_TOKEN_KEY_LEN],
    const char *bind, const struct epcis_cursor *c,
    char out[EPCIS_TOKEN_LEN + 1]);
/* SIGIL_EINVAL for a token not made by epcis_token_make(key, bind, ...). */
int epcis_token_read(const uint8_t key[EPCIS_TOKEN_KEY_LEN],
    const char *bind, const char *token, struct epcis_cursor *out);

#endif
