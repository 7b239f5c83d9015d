/*
 * store/retention.h - a brand's retention: scans older than the brand's
 * period lose the precise part of their personal data (store_retention.c,
 * docs/storage.md "Retention").
 */
#ifndef SIGIL_STORE_RETENTION_H
#define SIGIL_STORE_RETENTION_H

#include <stdint.h>

/*
 * ip truncated in place to its network: an IPv4 (or v4-mapped) address
 * to its /24, an IPv6 address to its /48. What is left can no longer
 * name one subscriber line; a scan keeps it (and its region) for the
 * brand's statistics.
 */
void store_ip_truncate(uint8_t ip[16]);
/* 1 when ip is already no more than its /24 (v4) or /48 (v6). */
int store_ip_truncated(const uint8_t ip[16]);

/* What one store_retention_step did. */
struct store_retention_step {
	uint64_t	examined;	/* log records looked at */
	uint64_t	reduced;	/* the brand's scans whose IP was cut */
	uint64_t	unlocated;	/* of those, precise locations dropped */
	uint64_t	cursor;		/* the brand's cursor afterwards */
	uint64_t	backlog;	/* log records older than cutoff left */
	int		done;		/* 1: nothing older than cutoff left */
	int		blocked;	/* 1: stopped at scans not yet merged */
};

/*
 * One bounded step of brand_id's retention (brand_id 0: the scans that
 * count for no brand, forged tags naming none): the log from the brand's
 * cursor (meta retention/<brand>: every scan of the brand up to it has
 * been reduced) on, max records and the rest of the last one's leaf page
 * (so no page copy keeps a due scan's full address), up to the first
 * one at or after
 * cutoff (microseconds) and never past what code_state has merged (so a
 * replay never reads a cut address: blocked then says so, and
 * store_state_merge moves that point on). Each of the brand's scans (its own,
 * or a forged code attributed to it) gets its IP truncated in the log
 * record (same size, in place); a stored location loses its coordinates
 * and accuracy (scan_locs keeps its time and verdict flags, marked
 * reduced), and so do the code's last place in code_state and in its
 * pending entries, the brand's alerts whose place came from the scan,
 * and the device's last place (device_locs) when it is as old. One write
 * transaction; it also sets scrub/pending when it changed anything, so
 * the freed bytes are zeroed by store_scrub (now, or at sigild's next
 * start). 0, SIGIL_EINVAL (max 0) or a SIGIL_E* code; *out on success.
 */
int store_retention_step(struct store *st, uint32_t brand_id,
    int64_t cutoff, unsigned max, struct store_retention_step *out);

/* The brand's cursor (0: nothing reduced yet). */
int store_retention_cursor(struct store *st, uint32_t brand_id,
    uint64_t *out);

#endif
