/*
 * fault.h - fault injection for test builds (make FAULT=1).
 *
 * A fault point is a named place where the code pretends that something
 * outside its control failed: fault_hit("commit") in front of
 * mdb_txn_commit() says "this commit fails now". Points are armed at run
 * time, never compiled in one by one:
 *
 *   - from the environment: SIGIL_FAULTS="commit:3,fsync:1" fails the next
 *     3 commits and the next sync; "commit:p0.25" fails each commit with
 *     probability 0.25 (seeded from SIGIL_FAULT_SEED when set);
 *   - on a running sigild: POST /debug/faults with the same spec as the
 *     body (the route exists only in FAULT=1 builds), GET for the counts.
 *
 * Known points (anything else is rejected, so a typo cannot arm nothing):
 *   map_full       store_write(): the transaction ran out of map (grow, retry)
 *   commit         store_write(): mdb_txn_commit() failed, nothing written
 *   fsync          store_write(): the commit reached the file but its sync
 *                  failed, so it is reported as a failed commit (EIO)
 *   alloc_request  http.c dispatch(): the per-request allocation failed
 *   scrub          store_scrub(): the scrub after an erasure fails before
 *                  it starts (scrub/pending stays set; sigild's next start
 *                  runs it)
 *
 * Without SIGIL_FAULT_INJECTION fault_hit() is the constant 0, so a release
 * build carries no fault code at all and no way to arm one.
 */
#ifndef SIGIL_FAULT_H
#define SIGIL_FAULT_H

#include <stddef.h>
#include <stdint.h>

#define FAULT_POINTS_MAX	8

/* What one point has done: armed state and how often it fired. */
struct fault_count {
	const char	*point;		/* static name */
	uint64_t	 checked;	/* fault_hit() calls */
	uint64_t	 injected;	/* calls that returned nonzero */
	uint32_t	 remaining;	/* count mode: failures still armed */
	double		 probability;	/* probability mode, 0 when off */
};

#ifdef SIGIL_FAULT_INJECTION
/*
 * Nonzero when point should fail now (and counts the failure). Thread
 * safe. $SIGIL_FAULTS is read once, before main() (a constructor).
 */
int fault_hit(const char *point);

/*
 * Arms the points named in spec ("name:N" or "name:pP", comma-separated;
 * N = 0 or p0 disarms). Points not named keep their state; "off" disarms
 * all. SIGIL_EINVAL (and nothing changed) for a malformed spec or an
 * unknown point.
 */
int fault_arm(const char *spec);

/* Copies the state of every known point into out; returns how many. */
size_t fault_counts(struct fault_count *out, size_t max);
#else
#define fault_hit(point)	((void)(point), 0)
#endif

#endif
