/*
 * writer.h - the single writer: every scan, location and reward claim
 * goes through one thread that commits many of them per LMDB transaction (group commit)
 * with a durable sync, then hands the results back to the event loop.
 */
#ifndef SIGIL_WRITER_H
#define SIGIL_WRITER_H

#include <stdint.h>

#include "sigil/store.h"

struct event_base;
struct writer;

enum writer_kind { WRITER_SCAN, WRITER_LOCATE, WRITER_CLAIM };

/*
 * One unit of work, owned by the submitter; the writer borrows it from
 * writer_submit() until done() runs on the event loop thread.
 */
struct writer_job {
	int		kind;
	uint32_t	max_scanners;
	struct scan_rec	rec;		/* SCAN: in and out; LOCATE: out */
	uint64_t	locate_id;	/* LOCATE: the scan to locate */
	float		lat, lng;
	uint16_t	accuracy_m;
	uint16_t	add_flags;	/* LOCATE: e.g. SCAN_DIVERSION */
	uint32_t	distributor;	/* LOCATE: for the diversion alert */
	float		diversion_km;
	struct claim	claim;		/* CLAIM: in, and out when err is 0 */
	struct claim_limits claim_limits;	/* CLAIM */
	/*
	 * 0 or SIGIL_E*, set before done(). CLAIM: store_claims_commit's
	 * result for this claim (ECONFLICT, EFULL, EDENIED, ...) or the
	 * batch's commit/sync error.
	 */
	int		err;
	struct code_state state;	/* the code's state after this job */
	void		(*done)(struct writer_job *job);
	void		*arg;
	struct writer_job *next;
};

#define WRITER_BATCH_MAX	4096	/* jobs per transaction */
#define WRITER_QUEUE_MAX	65536	/* beyond this, submit says EBUSY */

/*
 * Starts the writer thread. base must have pthread support enabled.
 * deferred says the store was opened STORE_NOMETASYNC: a round of commits
 * is then answered after the next round's commit (whose data sync makes
 * it durable) or, when no work follows, after an explicit sync.
 */
int writer_start(struct store *st, struct event_base *base, int deferred,
    struct writer **out);

/* Queues job. 0, or SIGIL_EBUSY when the queue is full or stopping. */
int writer_submit(struct writer *w, struct writer_job *job);

/* Jobs queued or in a commit, not yet handed back. */
unsigned writer_pending(struct writer *w);

/*
 * Stops taking jobs, commits everything already queued, delivers their
 * done() callbacks through the event loop (which must keep running until
 * writer_pending() is 0), and then joins the thread on writer_free().
 */
void writer_drain(struct writer *w);
void writer_free(struct writer *w);

/* Counters for /metrics (read without locks; approximate is fine). */
struct writer_stats {
	uint64_t	commits, jobs, failures;
	uint64_t	batch_hist[13];		/* sizes <=1,2,4,..,4096 */
	uint64_t	latency_hist[12];	/* ms <=0.25,0.5,1,..,256,+Inf */
	double		latency_sum_s;
};
void writer_stats(struct writer *w, struct writer_stats *out);

#endif
