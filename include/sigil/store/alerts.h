/*
 * sigil/store/alerts.h - alerts: what the scans raised on a code (clone
 * and diversion evidence), one per code and signal, and what the brand
 * did about it (new, acknowledged, resolved; who and when). In
 * src/store/store_alerts.c. Included by sigil/store.h.
 */
#ifndef SIGIL_STORE_ALERTS_H
#define SIGIL_STORE_ALERTS_H

#include <stddef.h>
#include <stdint.h>

struct store;

/*
 * The signals. The list is open: a type is a byte in the record and a
 * name in the API (store_alert_type_name); a new signal is a value here
 * and a row in store_alerts.c's name table, nothing else.
 */
enum alert_type {
	ALERT_CLONE_SCANNERS = 1,
	ALERT_CLONE_TRAVEL = 2,
	ALERT_DIVERSION = 3,
	/*
	 * Human scans of forged codes whose tag names the brand's key id
	 * (scan_rec.attr_brand): serial 0, so one alert per brand, its
	 * count the fakes scanned and its place the latest one a consumer
	 * shared from the counterfeit page.
	 */
	ALERT_COUNTERFEIT = 4,
	/*
	 * A product's ratings fell (store_feedback.c): its last 7 days'
	 * average at least the brand's drop below the 30 days' before. One
	 * per product (the feedback_alerts table names it): serial 0, scan
	 * the latest rating's scan (its batch names the product).
	 */
	ALERT_RATING_DROP = 5,
	/*
	 * A cash payout WeChat Pay's records contradict (issue 22, the
	 * payout reconciliation and callbacks, src/domain/payout_recon.c):
	 * one per claimed code (serial), raised by
	 * store_alert_payout_mismatch; scan 0.
	 */
	ALERT_PAYOUT_MISMATCH = 6,
};
#define ALERT_TYPE_MAX	255

enum alert_status {
	ALERT_NEW = 0,
	ALERT_ACKNOWLEDGED = 1,
	ALERT_RESOLVED = 2,
};

struct alert {
	uint64_t	id;		/* monotonic, in order of first sight */
	uint32_t	brand_id;
	int		type;		/* enum alert_type */
	int64_t		at;		/* first seen */
	uint64_t	serial;
	uint64_t	scan_id;	/* the first scan that raised it */
	uint32_t	distributor;	/* DIVERSION (the latest) */
	float		distance_km;	/* DIVERSION: outside the territory by */
	float		lat, lng;	/* the latest located scan's; 0, 0: none */
	uint32_t	count;		/* scans that raised it, >= 1 */
	int64_t		last_at;	/* last seen */
	uint64_t	last_scan;
	int		status;		/* enum alert_status */
	uint32_t	status_by;	/* token id, or SESSION_TOKEN_BIT | user;
					   0: the server (a resolved alert
					   raised again is new again) */
	int64_t		status_at;	/* 0 while never changed */
	uint64_t	loc_scan;	/* the scan lat, lng came from */
};

/* The type's API name ("too_many_scanners"...), NULL if it has none. */
const char *store_alert_type_name(int type);
/* The type named name, or 0. */
int store_alert_type_parse(const char *name);
/* "new", "acknowledged", "resolved"; NULL for anything else. */
const char *store_alert_status_name(int status);
/* The status named name, or -1. */
int store_alert_status_parse(const char *name);

/*
 * Alerts are written by store_scans_commit and store_scan_locate in the
 * same transaction as the scan (scan_alerts in store_impl.h): one per
 * judged scan whose rec->flags carry SCAN_CLONE_SCANNERS,
 * SCAN_CLONE_TRAVEL or SCAN_DIVERSION (one per flag). A signal on a code
 * that already has an alert of that type updates it (count, last_at,
 * last_scan, location, distributor and distance) instead of adding one;
 * a resolved alert raised again is new again (status_by 0). A diversion
 * alert takes its distributor and distance from rec->distributor and
 * rec->diversion_km, which the caller fills before the commit; at
 * locate time, judge fills them, and only flags judge adds there raise
 * alerts. A human counterfeit scan attributed to a brand raises (or
 * updates) the brand's ALERT_COUNTERFEIT at commit; its place, shared
 * later, moves the alert's location without counting the scan again.
 */

/*
 * Raises the brand's payout_mismatch alert on the claimed code serial at
 * at, or counts it again (count, last seen; resolved: new again), in its
 * own transaction. 0 or a store error.
 */
int store_alert_payout_mismatch(struct store *st, uint32_t brand_id,
    uint64_t serial, int64_t at);

/*
 * Which alerts store_alert_each walks: oldest_first gives ids > after in
 * ascending order (a feed a machine follows); else ids < before (0: no
 * bound) newest first (the brand's inbox). type 0 is any; statuses a mask of
 * 1 << enum alert_status (0: any); since: last_at >= since. At most limit
 * (0: no limit).
 */
struct alert_query {
	int		oldest_first;
	uint64_t	after, before;
	int		type;
	unsigned	statuses;
	int64_t		since;
	size_t		limit;
};
int store_alert_each(struct store *st, uint32_t brand_id,
    const struct alert_query *q,
    int (*fn)(void *arg, const struct alert *a), void *arg);

/* The brand's alert id: 0, SIGIL_ENOTFOUND (another brand's too). */
int store_alert_get(struct store *st, uint32_t brand_id, uint64_t id,
    struct alert *out);

/*
 * Sets the status of the brand's alert id, by actor (a token id, or
 * SESSION_TOKEN_BIT | user id), at time at; *out gets the alert after.
 * SIGIL_ENOTFOUND for another brand's or no alert, SIGIL_EINVAL for a
 * status out of range.
 */
int store_alert_set_status(struct store *st, uint32_t brand_id, uint64_t id,
    int status, uint32_t actor, int64_t at, struct alert *out);

/*
 * The same for the code's alert of type (the one alert_codes names), and
 * only if its status differs: 0, SIGIL_ENOTFOUND when the code has no
 * such alert (or only one from before alert_codes).
 */
int store_alert_code_status(struct store *st, uint32_t brand_id,
    uint64_t serial, int type, int status, uint32_t actor, int64_t at);

#endif
