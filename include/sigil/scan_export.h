/*
 * scan_export.h - one scan as a line of an export, CSV or NDJSON, the
 * same for `sigil export scans` (tools/verify.c, the whole log) and the
 * brand API's GET /api/v1/exports/scans (api_exports.c, one brand's
 * scans, streamed); and the local time and date bounds of an export in
 * a time zone given as a UTC offset. Pure: formats into the caller's
 * buffer, never does I/O.
 */
#ifndef SIGIL_SCAN_EXPORT_H
#define SIGIL_SCAN_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "sigil/store.h"

#define SCAN_EXPORT_LINE_MAX	1024	/* one line, either format */
#define SCAN_EXPORT_TIME_LEN	29	/* 2026-12-07T14:05:00.123+08:00 */

/* What a line shows besides the scan itself, formatted by the caller. */
struct scan_export_row {
	const struct scan_rec	*r;
	const char		*scan_id;	/* the public id, or the log's */
	const char		*brand;		/* the brand's name, "" none */
	const char		*time;		/* scan_export_time(), or UTC */
	/* The region of the scan's address (region_cached), NULL none. */
	const struct store_region *region;
};

/*
 * The CSV header line (with its line break), its column names in
 * English (zh 0: the machine names, as the NDJSON keys) or Chinese.
 * Returns its length (< size) or 0 if size is too small.
 */
size_t scan_export_header(char *buf, size_t size, int zh);
/*
 * One scan as a CSV line (RFC 4180 quoting where needed, a cell a
 * spreadsheet would run as a formula gets a leading ') or an NDJSON
 * object, each ending in "\n". Values are machine-readable whatever
 * the header's language: verdict codes, true/false. Returns the length
 * (< size), or 0 if it does not fit (size SCAN_EXPORT_LINE_MAX always
 * does).
 */
size_t scan_export_line(char *buf, size_t size,
    const struct scan_export_row *row, int csv);

/*
 * A UTC offset "8", "+8", "-5", "+05:30", "-03:00", "0": minutes east
 * of UTC, -12:00..+14:00. 0 with *minutes, or SIGIL_EINVAL.
 */
int scan_export_tz_parse(const char *s, int *minutes);
/* t (microseconds, UTC) as local ISO-8601 time with the offset:
 * "2026-12-07T14:05:00.123+08:00" ("Z" for offset 0). Returns out. */
char *scan_export_time(int64_t t, int tz_minutes,
    char out[SCAN_EXPORT_TIME_LEN + 1]);
/*
 * A bound: a date "YYYY-MM-DD" is local midnight in the zone (end 1: the
 * midnight after it, so a date "to" includes its day); an ISO-8601 /
 * RFC 3339 instant with Z or an offset is taken as it is. 0 with *out
 * (microseconds), or SIGIL_EINVAL.
 */
int scan_export_bound(const char *s, int tz_minutes, int end, int64_t *out);

#endif
