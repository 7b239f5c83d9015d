/*
 * writer.h - the single writer: every store write sigild makes while
 * serving goes through one thread, so that the event loops only read.
 * Scans, locations and reward claims are group-committed (many per LMDB
 * transaction, one durable sync); every other write is an op job: a
 * declared operation the thread runs in queue order. Each result goes
 * back to the event loop the job came from. See src/domain/writer.c.
 */
#ifndef SIGIL_WRITER_H
#define SIGIL_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "sigil/store.h"

struct event_base;
struct writer;

enum writer_kind { WRITER_SCAN, WRITER_LOCATE, WRITER_CLAIM, WRITER_OP };

/*
 * A declared store write, the "rest" beside scans, locations and claims:
 * product_add, batch_state, webhook_progress... Each is one static const
 * descriptor next to the code that needs it:
 *
 *	static int
 *	product_add_run(struct store *st, void *arg)
 *	{
 *		return store_product_add(st, arg);
 *	}
 *	static const struct writer_op op_product_add = {
 *		"product_add", product_add_run
 *	};
 *
 * A descriptor rather than an enum and a table in writer.c: the argument
 * types belong to the domain and face code that submits them, and an
 * enum would make the storage layer include every one of them (a layer
 * looking up); a new write lands beside its handler without touching
 * this file. The descriptor's address is the op's identity (per-op
 * counters are keyed by it), its name is for logs, /metrics and the
 * audit trail's action (so name it for what it does: product_create,
 * shipment_receive).
 *
 * run executes on the writer thread with the job's op_arg, which is its
 * input and output. It calls the store's public write functions (each
 * commits its own transaction with the store's own sync) and returns 0
 * or a SIGIL_E* code, which becomes job->err. It must touch nothing but
 * st and op_arg: no libevent, no HTTP call, no cache or counter the loop
 * owns (do that in done(), on the loop, after the write).
 *
 * audit, optional, describes the change for the audit trail (an op
 * submitted with an audit entry, see writer_job.audit): called on the
 * writer thread before run with after = 0, to set the entry's target
 * and its detail (audit.h: audit_target, audit_detail_set), reading
 * the store for the "before" side if it likes (nothing else writes
 * meanwhile); and after a successful run with after = 1, when arg holds
 * run's outputs (a create's new id), returning 1 when it changed the
 * entry (which is then rewritten) and 0 when not. It must not write.
 */
struct writer_op {
	const char	*name;
	int		(*run)(struct store *st, void *arg);
	int		(*audit)(struct store *st, const void *arg,
			    struct audit_entry *e, int after);
};

/*
 * The common op, one store write on the argument as it is:
 *
 *	WRITER_OP_STORE(op_product_add, "product_add", store_product_add);
 *
 * declares the static descriptor op_product_add and its run, which
 * returns store_product_add(st, arg): the job's op_arg must be what the
 * store function takes (void * converts silently, so the submitter's
 * http_write or writer_submit line is where the type is chosen).
 */
#define WRITER_OP_STORE(op, opname, store_fn)				\
	static int							\
	op##_run(struct store *st, void *arg)				\
	{								\
		return store_fn(st, arg);				\
	}								\
	static const struct writer_op op = { opname, op##_run }

/* The same with an audit hook (see writer_op.audit). */
#define WRITER_OP_STORE_AUDIT(op, opname, store_fn, audit_fn)		\
	static int							\
	op##_run(struct store *st, void *arg)				\
	{								\
		return store_fn(st, arg);				\
	}								\
	static const struct writer_op op = { opname, op##_run, audit_fn }

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
	const struct writer_op *op;	/* OP: what to run */
	void		*op_arg;	/* OP: run's argument, in and out */
	/*
	 * OP: NULL, or the audit entry of a brand's change (actor, role,
	 * brand, ip filled in by the submitter; owned by it like the job).
	 * The writer sets its action to op->name, lets op->audit describe
	 * it, and records it in the first transaction run commits, so the
	 * change and its entry commit together; a run that fails before
	 * committing, or commits nothing (a refusal it answers in op_arg),
	 * records nothing. On return the entry holds what was stored (seq).
	 * The brand API and the dashboard submit every write with one
	 * (http_write.c); consumers and sigild's own bookkeeping never.
	 */
	struct audit_entry *audit;
	/*
	 * The loop done() runs on: the submitter's own base, or NULL for
	 * the one writer_start() was given (writer_submit fills it in).
	 */
	struct event_base *base;
	/*
	 * 0 or SIGIL_E*, set before done(). CLAIM: store_claims_commit's
	 * result for this claim (ECONFLICT, EFULL, EDENIED, ...) or the
	 * batch's commit/sync error. OP: run's result, or the sync's error
	 * when the store defers syncs (nothing can say then whether the
	 * write is on disk).
	 */
	int		err;
	struct code_state state;	/* the code's state after this job */
	void		(*done)(struct writer_job *job);
	void		*arg;
	struct writer_job *next;
};

#define WRITER_BATCH_MAX	4096	/* jobs per transaction */
#define WRITER_QUEUE_MAX	65536	/* beyond this, submit says EBUSY */
#define WRITER_LOOPS_MAX	16	/* event loops results go back to */
#define WRITER_OPS_MAX		64	/* ops with counters of their own */

/*
 * Starts the writer thread, handing results back to base (it must have
 * pthread support enabled). deferred says the store was opened
 * STORE_NOMETASYNC: a round of commits is then answered after the next
 * round's commit (whose data sync makes it durable) or, when no work
 * follows, after an explicit sync. The calling thread is taken to be
 * base's loop thread: it is marked for the loop guard (loop_guard.h).
 */
int writer_start(struct store *st, struct event_base *base, int deferred,
    struct writer **out);

/*
 * Registers another event loop (the calling thread runs it, and is
 * marked for the loop guard): jobs whose base is this one are answered
 * there. Before the first such job. 0, SIGIL_EFULL past
 * WRITER_LOOPS_MAX, SIGIL_ENOMEM.
 */
int writer_loop_add(struct writer *w, struct event_base *base);

/*
 * Queues job. 0, SIGIL_EBUSY when the queue is full or stopping,
 * SIGIL_EINVAL for a base that is not registered or an OP job without
 * an op. Nothing is queued on error and done() is not called.
 */
int writer_submit(struct writer *w, struct writer_job *job);

/* Jobs queued or in a commit, not yet handed back. */
unsigned writer_pending(struct writer *w);

/*
 * Stops taking jobs, commits everything already queued, delivers their
 * done() callbacks through the event loops (which must keep running
 * until writer_pending() is 0), and then joins the thread on
 * writer_free(), which also clears the calling thread's loop mark.
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

/*
 * Per-op counters (op jobs stay out of writer_stats, which counts group
 * commits): jobs run, those whose run returned an error, and the time
 * spent in run. Copies up to max entries, in order of first use, into
 * out and returns how many.
 */
struct writer_op_stat {
	const char	*name;
	uint64_t	jobs, errors;
	double		seconds;
};
size_t writer_op_stats(struct writer *w, struct writer_op_stat *out,
    size_t max);

#endif
