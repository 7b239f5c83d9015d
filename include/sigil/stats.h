/*
 * stats.h - the dashboard's statistics, computed from the counters the
 * writer keeps per brand, kind, dimension and hour (store_stat_range,
 * store_stat_keys): a time range read in a time zone, the series of a
 * brand's totals over it, and per-key tables (products, batches,
 * campaigns, regions). The brand API serves them (/api/v1/stats/...)
 * and renders them as JSON; nothing here knows HTTP or JSON.
 */
#ifndef SIGIL_STATS_H
#define SIGIL_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "sigil/store.h"

#define STATS_HOUR_US		(3600LL * 1000000)
#define STATS_HOURS_MAX		(400 * 24)	/* a bit over a year */
#define STATS_HOUR_POINTS_MAX	(31 * 24)
#define STATS_COLS_MAX		4

/* [from_hour, to_hour) in UTC hours since the epoch, whole local days
 * when bucket_hours is 24. */
struct stats_range {
	int64_t		from_hour, to_hour;
	int		bucket_hours;		/* 1 or 24 */
	int		tz;			/* hours east of UTC */
};

/*
 * The range of a stats request at now from its parameters (each NULL when
 * absent): bucket "hour" or "day", tz -12..14 hours, from and to dates
 * (YYYY-MM-DD, local days in zone tz; a date "to" includes its day) or
 * RFC 3339 instants with Z or an offset (never moved by tz); by day the
 * range then widens to whole local days. Defaults:
 * the last 30 days by day, or the last 48 hours by hour. 0; SIGIL_EINVAL
 * (a malformed value); SIGIL_EFULL (from not before to, or longer than
 * STATS_HOURS_MAX, or STATS_HOUR_POINTS_MAX by hour).
 */
int stats_range_parse(const char *bucket, const char *tz, const char *from,
    const char *to, int64_t now, struct stats_range *r);

/* The number of buckets of r. */
size_t stats_buckets(const struct stats_range *r);

/*
 * The period of the same length just before r, into *prev: r's edges
 * moved back by its length, so local midnights of r's tz by day and
 * whole hours by hour (the 7 days before the last 7). 0, or SIGIL_EFULL
 * when it would start before 1970.
 */
int stats_range_previous(const struct stats_range *r,
    struct stats_range *prev);

/*
 * The brand's totals (DIM_BRAND) of kinds[0..nkinds) (enum stat_kind)
 * per bucket of r: out[k * stats_buckets(r) + b]. 0, SIGIL_ENOMEM or a
 * storage error.
 */
int stats_series(struct store *st, uint32_t brand_id, const int *kinds,
    int nkinds, const struct stats_range *r, int64_t *out);

/* One key's totals of up to STATS_COLS_MAX kinds. */
struct stats_row {
	uint64_t	key;
	int64_t		v[STATS_COLS_MAX];
};

/*
 * One row per key of dim holding the totals of kinds[0..nkinds) over r,
 * sorted by the first kind's total, largest first (then by key). kinds
 * must be a static array: its address names it in a cache of the closed
 * hours' totals, which only the event loop's thread may use. *rows is
 * malloc'd (the caller frees it). 0, SIGIL_ENOMEM or a storage error.
 */
int stats_table(struct store *st, uint32_t brand_id, int dim,
    const int *kinds, int nkinds, const struct stats_range *r,
    struct stats_row **rows, size_t *nrows);

/*
 * Walks every counter of the last 400 days once, on a thread of its own,
 * so that the counter table's pages are mapped before the first
 * dashboard request instead of during it (over ten million scans a cold
 * process otherwise spends most of a second in page faults on the first
 * stats request). Reads only; never blocks the writer. 0 or SIGIL_EIO
 * (no thread: then nothing is warmed, and nothing else changes).
 */
int stats_prewarm_start(struct store *st);
/* Stops the walk early if it still runs and waits for the thread. */
void stats_prewarm_stop(void);

#endif
