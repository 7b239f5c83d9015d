/*
 * sigil/store/trace.h - traceability: distributors, aggregation,
 * shipments and the EPCIS event log. In src/store/store_trace.c
 * (distributors, events) and store_custody.c (aggregation,
 * shipments, a code's events).
 *
 * One slice of the storage module's contract: include "sigil/store.h",
 * which includes every slice after what they all share (struct store,
 * the text limits, the error conventions of its opening comment).
 */
#ifndef SIGIL_STORE_TRACE_H
#define SIGIL_STORE_TRACE_H

#ifndef SIGIL_STORE_H
#error "include sigil/store.h, not its slices"
#endif

/* ---- distributors and their sales territories ---- */
#define STORE_GEOJSON_MAX	(1024 * 1024)	/* territory text bound */

struct distributor {
	uint32_t	brand_id;
	uint32_t	id;		/* per brand, 1, 2, ... */
	char		name[STORE_TEXT_BYTES + 1];
	int64_t		created;
	char		*territory;	/* GeoJSON text, malloc'd, may be NULL */
	char		gln[14];	/* GLN, 13 digits, or "" for none */
};

/*
 * Adds d (territory copied; validated by the caller); sets d->id (per
 * brand, from 1) and d->created. d->gln is "" or 13 digits (the caller
 * checks the check digit). SIGIL_EINVAL for an empty or oversize name
 * or control characters in it, a gln not of 13 digits, or a territory
 * longer than STORE_GEOJSON_MAX; SIGIL_ENOTFOUND for an unknown brand.
 */
int store_distributor_add(struct store *st, struct distributor *d);
/*
 * Changes the fields named (STORE_DIST_*) of distributor (d->brand_id,
 * d->id) to d's, in one transaction; the others and created are kept.
 * d->territory NULL with STORE_DIST_TERRITORY removes it. On success *d
 * is the distributor as stored, without its territory (d->territory
 * NULL: the caller keeps its own pointer to free). SIGIL_EINVAL as for
 * add, or no field; SIGIL_ENOTFOUND: no such distributor of the brand.
 */
#define STORE_DIST_NAME		1u
#define STORE_DIST_GLN		2u
#define STORE_DIST_TERRITORY	4u
int store_distributor_update(struct store *st, struct distributor *d,
    unsigned fields);
/* *out->territory is malloc'd: free it with store_distributor_clear(). */
int store_distributor_get(struct store *st, uint32_t brand_id, uint32_t id,
    struct distributor *out);
void store_distributor_clear(struct distributor *d);
/* Without territories (d->territory is NULL in the callback). */
int store_distributor_each(struct store *st, uint32_t brand_id,
    int (*fn)(void *arg, const struct distributor *d), void *arg);
/* The same from the first id after after (ids in order). */
int store_distributor_page(struct store *st, uint32_t brand_id,
    uint32_t after, int (*fn)(void *arg, const struct distributor *d),
    void *arg);
/* One distributor without its territory (nothing to clear). */
int store_distributor_name(struct store *st, uint32_t brand_id, uint32_t id,
    struct distributor *out);

/* ---- trace: aggregation, shipments, and the EPCIS event log ---- */
#define STORE_AGG_MAX		100000	/* children in one call */

enum trace_event_type {
	EVENT_COMMISSION = 1,	/* batch activated: ObjectEvent ADD */
	EVENT_AGGREGATE = 2,	/* AggregationEvent ADD */
	EVENT_DISAGGREGATE = 3,	/* AggregationEvent DELETE (unpack) */
	EVENT_SHIP = 4,		/* ObjectEvent OBSERVE, shipping */
	EVENT_RECEIVE = 5,	/* ObjectEvent OBSERVE, receiving */
	EVENT_SCAN = 6,		/* consumer scan: ObjectEvent OBSERVE */
	EVENT_DECOMMISSION = 7,	/* batch revoked: ObjectEvent DELETE */
};

/*
 * One traceability event. serials holds the codes the event names (the
 * children of an aggregation, what a shipment covered, ...); for
 * COMMISSION/DECOMMISSION it is empty and batch_id names the range.
 */
struct trace_event {
	uint64_t	id;		/* monotonic, assigned by the store */
	int		type;		/* enum trace_event_type */
	uint32_t	brand_id;
	int64_t		at;
	uint64_t	parent;		/* AGGREGATE/DISAGGREGATE: parent serial */
	uint64_t	batch_id;	/* COMMISSION/DECOMMISSION */
	uint32_t	distributor;	/* SHIP/RECEIVE */
	uint64_t	shipment;	/* SHIP/RECEIVE */
	uint64_t	scan_id;	/* SCAN */
	size_t		n;
	uint64_t	*serials;	/* malloc'd by readers; n entries */
};

/*
 * Packs children (n of them, 1..STORE_AGG_MAX, all serials of brand_id's
 * issued batches, none equal to parent, no duplicates) into parent, in
 * one transaction, and appends an AGGREGATE event. SIGIL_ECONFLICT when
 * any child already has a parent (nothing is written); SIGIL_EINVAL for
 * a cycle (parent is inside one of the children), a duplicate child or
 * a child equal to parent, SIGIL_ENOTFOUND when a serial (parent
 * included) belongs to no batch of the brand, SIGIL_EFULL when parent is
 * nested more than 1024 levels deep. *event_id (may be NULL) set on
 * success; the event lists the children in serial order.
 */
int store_aggregate(struct store *st, uint32_t brand_id, uint64_t parent,
    const uint64_t *children, size_t n, uint64_t *event_id);
/*
 * Unpacks: removes children (or, with n == 0, every child) from parent
 * and appends a DISAGGREGATE event. SIGIL_ENOTFOUND if one of them is not
 * inside parent (or, with n == 0, parent holds nothing); SIGIL_EINVAL for
 * a duplicate or n above STORE_AGG_MAX.
 */
int store_disaggregate(struct store *st, uint32_t brand_id, uint64_t parent,
    const uint64_t *children, size_t n, uint64_t *event_id);
/* The direct parent of serial (SIGIL_ENOTFOUND when none). */
int store_parent(struct store *st, uint32_t brand_id, uint64_t serial,
    uint64_t *parent);
/* Direct children of parent in serial order. */
int store_children_each(struct store *st, uint32_t brand_id, uint64_t parent,
    int (*fn)(void *arg, uint64_t child), void *arg);

struct shipment {
	uint64_t	id;		/* global, 1, 2, ... */
	uint32_t	brand_id;
	uint32_t	distributor;
	int64_t		shipped_at, received_at;	/* received 0 until then */
	uint64_t	codes;		/* codes covered, descendants included */
};

/*
 * Ships codes (n, 1..STORE_AGG_MAX roots) to distributor: every root and,
 * recursively, everything packed inside it (bounded by STORE_SHIP_MAX
 * codes in all: SIGIL_EFULL beyond) is marked shipped with this shipment
 * (a later shipment of the same code replaces the mark), and one SHIP
 * event is appended naming the roots. Shipping a code activates it even
 * if its batch is inactive (SPEC §2). Sets *out (may be NULL).
 * SIGIL_ENOTFOUND for an unknown distributor of the brand or a root in no
 * batch of the brand, SIGIL_EINVAL for a duplicate root; nothing is
 * written then. A root packed inside another root is counted once.
 */
#define STORE_SHIP_MAX		10000000
int store_ship(struct store *st, uint32_t brand_id, uint32_t distributor,
    const uint64_t *codes, size_t n, struct shipment *out);
int store_shipment_get(struct store *st, uint64_t id, struct shipment *out);
/*
 * brand_id's shipments newest first, from the last id below before (0:
 * from the newest); fn returns nonzero to stop (the walk returns it).
 * Shipment ids are global: the walk passes over other brands' rows, at
 * most budget rows in all (0: no bound); when the bound ends it,
 * *stopped_at (may be NULL) is the last id looked at (a `before` to go
 * on from), else 0.
 */
int store_shipment_each_before(struct store *st, uint32_t brand_id,
    uint64_t before, size_t budget, uint64_t *stopped_at,
    int (*fn)(void *arg, const struct shipment *s), void *arg);
/* Marks the shipment received (SIGIL_ESTATE if already) + RECEIVE event. */
int store_shipment_receive(struct store *st, uint64_t id, struct shipment *out);
/* The shipment that last covered serial; SIGIL_ENOTFOUND if never shipped. */
int store_code_shipment(struct store *st, uint32_t brand_id, uint64_t serial,
    struct shipment *out);

/*
 * Appends an event (activation, scans) and sets ev->id, and ev->at to now
 * when it was 0. COMMISSION/DECOMMISSION need a batch_id of the brand.
 * SIGIL_EINVAL for a bad type, serial, batch of another brand or n above
 * STORE_AGG_MAX; SIGIL_ENOTFOUND for an unknown brand or batch.
 */
int store_event_add(struct store *st, struct trace_event *ev);
/*
 * Events of brand_id with id > after and from <= at < to (0 = open), of
 * the given type (0 = any), in id order, at most limit of them (0 = no
 * limit). The callback's event (serials included) is valid only during
 * the call.
 */
int store_event_each(struct store *st, uint32_t brand_id, uint64_t after,
    int64_t from, int64_t to, int type, size_t limit,
    int (*fn)(void *arg, const struct trace_event *ev), void *arg);
/*
 * 1 when serial has been the parent of an AGGREGATE event (a case or a
 * pallet: EPCIS names it by SSCC when its brand has a GS1 company
 * prefix), 0 when never, or a negative SIGIL_E* code.
 */
int store_code_was_parent(struct store *st, uint32_t brand_id,
    uint64_t serial);
/*
 * Events that name serial (as parent, child, shipped root), the
 * COMMISSION/DECOMMISSION events of its batch, and the SHIP/RECEIVE
 * events of the codes it is packed inside (a shipment names its roots
 * only), in id order. Ancestors are those of now, not of the event's time.
 */
int store_code_events(struct store *st, uint32_t brand_id, uint64_t serial,
    int (*fn)(void *arg, const struct trace_event *ev), void *arg);

#endif
