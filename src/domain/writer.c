/*
 * writer.c - the single writer: group commit, and every other store
 * write in queue order, off the event loops.
 *
 * LMDB allows one write transaction at a time and a durable commit costs
 * an fsync (a millisecond or more), so committing each scan on its own
 * would cap sigild at a few hundred scans a second. Instead the event
 * loop queues jobs here; one thread takes everything queued (up to
 * WRITER_BATCH_MAX), commits it in a single transaction with one sync,
 * and hands the batch back. While it syncs, new jobs pile up for the next
 * batch, so the batch size grows with the load by itself: no timer, no
 * added latency when idle.
 *
 * A job's done() runs on the thread of the event loop it came from
 * (job->base; the writer activates that loop's event, the bases were
 * made thread-aware with evthread_use_pthreads), so HTTP code never runs
 * on this thread and this thread never touches a request. A request is
 * answered only from done(), that is after its commit returned: an
 * acknowledged scan is on disk. One loop today; writer_loop_add lets
 * more share the writer, each answered on its own.
 *
 * LMDB syncs twice per commit: the data pages, then the meta page that
 * makes them current. sigild opens the store with MDB_NOMETASYNC and
 * holds each round's answers until the next round's commit, whose data
 * sync also flushes the held meta page; when no round follows, an
 * explicit sync releases them. Under load that is one sync per round;
 * the answer still never goes out before its scan is on disk.
 *
 * Reward claims (WRITER_CLAIM) ride the same rounds: after the round's
 * scans (so a claim whose scan came in the same round finds it), all its
 * claims go through one store_claims_commit, which checks and applies
 * them in queue order inside one transaction; each job's err is its own
 * result (409/422/429 material) and a refused claim writes nothing. A
 * claim is held and answered exactly like a scan, so with deferred sync
 * a 201 still goes out only once its claim is durable.
 *
 * Every other write is an op job (WRITER_OP, a struct writer_op from the
 * code that needs it): run() calls the store's public write functions,
 * each its own transaction. An op job of a brand's change carries its
 * audit entry (job->audit), armed around run so that the first
 * transaction run commits records it too (store/audit.h). Ops are not
 * group-committed; a run of ops is a round of its own. Order: jobs take
 * effect in the order they were queued, but for one exception that
 * group commit makes: in a run of scan, claim and location jobs with no
 * op between them the scans commit first, then the claims, then the
 * locations. An op never passes
 * a job queued before it, nor is it passed by one queued after it. With
 * deferred sync a round of ops ends with one explicit sync, which makes
 * it durable together with the held round before it, and both are
 * answered then.
 *
 * If a commit fails, every job of that batch gets the error (the handler
 * answers 503) and nothing of the batch is written; the next batch tries
 * again, so a transient I/O fault needs no restart.
 *
 * Per-code state reaches code_state in the background (store_state.c):
 * scan rounds merge a chunk of it as they commit, and when no job has
 * come for WRITER_IDLE_MS the thread merges the rest in chunks of
 * WRITER_IDLE_CHUNK codes, looking at the queue between chunks, so a
 * quiet server keeps little state pending and a scan that arrives waits
 * at most for one chunk.
 *
 * Owns the queue, the thread, the registered loops with their finished
 * jobs, the rounds held for a deferred sync and the counters /metrics
 * reads. May call the store, scan (the judgement), libevent
 * (event_active, to wake a loop) and log. Never runs a done() callback
 * or touches a request on this thread; never writes from a loop's
 * thread (the loops it serves are marked for loop_guard.c).
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "sigil/audit.h"
#include "sigil/log.h"
#include "sigil/loop_guard.h"
#include "sigil/role.h"
#include "sigil/scan.h"
#include "sigil/util.h"
#include "sigil/writer.h"

/* An event loop results go back to, and its finished jobs. */
struct writer_loop {
	struct writer	*w;
	struct event_base *base;
	struct event	*ev;		/* activated when head is not empty */
	struct writer_job *head, **tail;	/* guarded by w->lock */
};

struct op_count {
	const struct writer_op *op;
	uint64_t	jobs, errors;
	double		seconds;
};

struct writer {
	struct store	*store;
	pthread_t	thread;
	pthread_mutex_t	lock;
	pthread_cond_t	wake;
	struct writer_job *head, **tail;	/* queued, guarded by lock */
	unsigned	queued, pending;	/* guarded by lock */
	int		stopping, started;
	int		deferred;	/* store opened STORE_NOMETASYNC */
	struct writer_loop loops[WRITER_LOOPS_MAX];	/* guarded by lock */
	unsigned	nloops;
	struct op_count	ops[WRITER_OPS_MAX];	/* guarded by lock */
	size_t		nops;
	struct writer_stats stats;		/* written by the thread */
};

#define WRITER_IDLE_MS		20
#define WRITER_IDLE_CHUNK	1024

struct commit_ctx {
	struct writer_job	**jobs;
};

static void
judge_batch(void *arg, size_t index, struct scan_rec *rec,
    struct code_state *state)
{
	struct commit_ctx *ctx = arg;
	struct writer_job *job = ctx->jobs[index];

	scan_judge(rec, state, job->max_scanners, 1);
	job->state = *state;
}

static void
judge_locate(void *arg, size_t index, struct scan_rec *rec,
    struct code_state *state)
{
	struct writer_job *job = arg;

	(void)index;
	rec->flags |= job->add_flags;
	rec->distributor = job->distributor;
	rec->diversion_km = job->diversion_km;
	scan_judge(rec, state, job->max_scanners, 0);
	job->state = *state;
}

static double
elapsed_s(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (double)(b.tv_sec - a->tv_sec) +
	    (double)(b.tv_nsec - a->tv_nsec) / 1e9;
}

static void
stats_note(struct writer *w, size_t n, double secs, int err)
{
	size_t b = 0;
	double lim = 0.25e-3;
	int i = 0;

	while (b < 12 && ((size_t)1 << b) < n)
		b++;
	w->stats.batch_hist[b]++;
	while (i < 11 && secs > lim) {
		lim *= 2;
		i++;
	}
	w->stats.latency_hist[i]++;
	w->stats.latency_sum_s += secs;
	w->stats.commits++;
	w->stats.jobs += n;
	if (err)
		w->stats.failures++;
}

/* Commits the scan jobs of list (n of them) in one transaction; 1 if so. */
static int
commit_scans(struct writer *w, struct writer_job **jobs, size_t n,
    struct scan_rec *recs)
{
	struct commit_ctx ctx = { jobs };
	struct timespec t0;
	size_t i;
	int err;

	for (i = 0; i < n; i++)
		recs[i] = jobs[i]->rec;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	err = store_scans_commit(w->store, recs, n, judge_batch, &ctx);
	stats_note(w, n, elapsed_s(&t0), err);
	if (err != 0)
		log_error("commit", "scans=%zu err=\"%s\"", n,
		    sigil_strerror(err));
	for (i = 0; i < n; i++) {
		jobs[i]->err = err;
		if (err == 0)
			jobs[i]->rec = recs[i];
	}
	return err == 0;
}

/*
 * Commits the claim jobs (n of them) in one transaction. 1 when it wrote
 * something: a batch of refusals commits an empty transaction, which
 * LMDB does not sync, so it cannot release the held round.
 */
static int
commit_claims(struct writer *w, struct writer_job **jobs, size_t n,
    struct claim *claims, struct claim_limits *limits, int *results)
{
	struct timespec t0;
	size_t i;
	int err, wrote = 0;

	for (i = 0; i < n; i++) {
		claims[i] = jobs[i]->claim;
		limits[i] = jobs[i]->claim_limits;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	err = store_claims_commit(w->store, claims, limits, results, n);
	stats_note(w, n, elapsed_s(&t0), err);
	if (err != 0)
		log_error("commit", "claims=%zu err=\"%s\"", n,
		    sigil_strerror(err));
	for (i = 0; i < n; i++) {
		jobs[i]->err = err != 0 ? err : results[i];
		if (jobs[i]->err == 0) {
			jobs[i]->claim = claims[i];
			wrote = 1;
		} else	/* why its cash refused it (store/claims.h) */
			jobs[i]->claim.cash.refusal = claims[i].cash.refusal;
	}
	return wrote;
}

/* 1 when a transaction was committed. */
static int
commit_locate(struct writer *w, struct writer_job *job)
{
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	job->err = store_scan_locate(w->store, job->locate_id, job->lat,
	    job->lng, job->accuracy_m, judge_locate, job, &job->rec);
	stats_note(w, 1, elapsed_s(&t0), job->err != 0 &&
	    job->err != SIGIL_ENOTFOUND && job->err != SIGIL_EEXIST);
	return job->err == 0;
}

/* Counts one run of op (under the lock: writer_op_stats reads it). */
static void
op_note(struct writer *w, const struct writer_op *op, double secs, int err)
{
	size_t i;

	pthread_mutex_lock(&w->lock);
	for (i = 0; i < w->nops && w->ops[i].op != op; i++)
		;
	if (i == w->nops && w->nops < WRITER_OPS_MAX)
		w->ops[w->nops++].op = op;
	if (i < w->nops) {
		w->ops[i].jobs++;
		w->ops[i].errors += err != 0;
		w->ops[i].seconds += secs;
	}
	pthread_mutex_unlock(&w->lock);
}

/*
 * The audit entry of an op job, before run: its action, the op's own
 * description, and a last check that the detail holds nothing the trail
 * must not (audit.c); then armed, so run's first commit carries it.
 */
static void
audit_arm(struct writer *w, struct writer_job *job)
{
	struct audit_entry *e = job->audit;

	snprintf(e->action, sizeof e->action, "%s", job->op->name);
	e->seq = 0;
	e->at = 0;
	e->outcome = 0;
	if (job->op->audit != NULL)
		job->op->audit(w->store, job->op_arg, e, 0);
	if (!audit_detail_safe(e->detail))
		e->detail[0] = '\0';
	store_audit_arm(w->store, e);
}

/*
 * After run. The entry was recorded when a transaction of run committed:
 * the op may then add what run made (a new id); a failure after that
 * commit marks the entry with the error. A run that committed nothing
 * changed nothing (a refusal answered in its argument, a state set to
 * what it was) and is not recorded. One log line per recorded change,
 * with its actor.
 */
static void
audit_finish(struct writer *w, struct writer_job *job)
{
	struct audit_entry *e = job->audit;
	char who[AUDIT_ACTOR_MAX + 16];
	int rc = 0;

	if (!store_audit_disarm(w->store, e))
		return;
	if (job->err != 0) {
		e->outcome = job->err;
		rc = store_audit_update(w->store, e);
	} else if (job->op->audit != NULL &&
	    job->op->audit(w->store, job->op_arg, e, 1)) {
		if (!audit_detail_safe(e->detail))
			e->detail[0] = '\0';
		rc = store_audit_update(w->store, e);
	}
	if (rc != 0)
		log_error("audit", "brand=%u action=%s seq=%llu err=\"%s\"",
		    e->brand_id, e->action, (unsigned long long)e->seq,
		    sigil_strerror(rc));
	audit_actor_text(e, who, sizeof who);
	log_info("change", "brand=%u actor=%s role=%s action=%s target=%s%s%s "
	    "ip=%s outcome=%s seq=%llu", e->brand_id, who, role_name(e->role),
	    e->action, e->target_type[0] ? e->target_type : "-",
	    e->target_type[0] ? ":" : "", e->target_id,
	    e->ip[0] ? e->ip : "-", job->err ? sigil_strerror(job->err) : "ok",
	    (unsigned long long)e->seq);
}

/* Runs a round of op jobs, one after the other, each its own commit. */
static void
run_ops(struct writer *w, struct writer_job *list)
{
	struct writer_job *job;
	struct timespec t0;

	for (job = list; job != NULL; job = job->next) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (job->audit != NULL)
			audit_arm(w, job);
		job->err = job->op->run(w->store, job->op_arg);
		if (job->audit != NULL)
			audit_finish(w, job);
		op_note(w, job->op, elapsed_s(&t0), job->err);
	}
}

/*
 * Takes the next round off the queue (w->lock held, queue not empty): a
 * run of op jobs, or a run of the other kinds up to the first op; at
 * most WRITER_BATCH_MAX either way.
 */
static struct writer_job *
round_take(struct writer *w)
{
	struct writer_job *list = w->head, *job = list;
	int ops = list->kind == WRITER_OP;
	unsigned n = 1;

	while (n < WRITER_BATCH_MAX && job->next != NULL &&
	    (job->next->kind == WRITER_OP) == ops) {
		job = job->next;
		n++;
	}
	w->head = job->next;
	if (w->head == NULL)
		w->tail = &w->head;
	job->next = NULL;
	w->queued -= n;
	return list;
}

/* The registered loop of base, or NULL (w->lock held). */
static struct writer_loop *
loop_find(struct writer *w, struct event_base *base)
{
	for (unsigned i = 0; i < w->nloops; i++)
		if (w->loops[i].base == base)
			return &w->loops[i];
	return NULL;
}

/*
 * Waits (w->lock held) for a job for up to WRITER_IDLE_MS; 1 when the
 * time ran out.
 */
static int
idle_wait(struct writer *w)
{
	return sigil_cond_wait_ms(&w->wake, &w->lock, WRITER_IDLE_MS);
}

/* Hands a finished list back, each job to the loop it came from. */
static void
hand_back(struct writer *w, struct writer_job *list)
{
	struct writer_job *job, *next;
	struct writer_loop *l;
	unsigned woken = 0;

	pthread_mutex_lock(&w->lock);
	for (job = list; job != NULL; job = next) {
		next = job->next;
		job->next = NULL;
		l = loop_find(w, job->base);	/* writer_submit checked it */
		*l->tail = job;
		l->tail = &job->next;
		woken |= 1u << (l - w->loops);
	}
	pthread_mutex_unlock(&w->lock);
	for (unsigned i = 0; woken != 0; i++, woken >>= 1)
		if (woken & 1)
			event_active(w->loops[i].ev, EV_READ, 0);
}

/*
 * With deferred sync the held list's last commit has its data on disk
 * but maybe not its meta page. Forcing a sync makes it durable; if that
 * fails nobody can say whether it is, so its jobs answer 503.
 */
static void
release_held(struct writer *w, struct writer_job *held, int synced)
{
	int err = 0;

	if (held == NULL)
		return;
	if (!synced && (err = store_sync(w->store)) != 0) {
		log_error("sync", "err=\"%s\"", sigil_strerror(err));
		for (struct writer_job *job = held; job; job = job->next)
			if (job->err == 0)
				job->err = err;
	}
	hand_back(w, held);
}

static void *
writer_main(void *arg)
{
	struct writer *w = arg;
	struct writer_job **jobs, *list, *job, *held = NULL;
	struct scan_rec *recs;
	struct claim *claims;
	struct claim_limits *limits;
	int *results;
	size_t n, left;
	int committed, merge = 0, idle = 0;

	jobs = calloc(WRITER_BATCH_MAX, sizeof *jobs);
	recs = calloc(WRITER_BATCH_MAX, sizeof *recs);
	claims = calloc(WRITER_BATCH_MAX, sizeof *claims);
	limits = calloc(WRITER_BATCH_MAX, sizeof *limits);
	results = calloc(WRITER_BATCH_MAX, sizeof *results);
	if (jobs == NULL || recs == NULL || claims == NULL || limits == NULL ||
	    results == NULL) {
		log_error("writer", "err=\"out of memory\"");
		abort();
	}
	for (;;) {
		pthread_mutex_lock(&w->lock);
		while (w->head == NULL && !w->stopping && held == NULL &&
		    !idle) {
			if (!merge) {
				pthread_cond_wait(&w->wake, &w->lock);
				continue;
			}
			idle = idle_wait(w) && w->head == NULL;
		}
		if (w->head == NULL) {
			int stopping = w->stopping;

			pthread_mutex_unlock(&w->lock);
			if (held != NULL) {
				/* Idle with commits held: sync them now. */
				release_held(w, held, 0);
				held = NULL;
				continue;
			}
			if (stopping)
				break;		/* all answered */
			if (store_state_merge(w->store, WRITER_IDLE_CHUNK,
			    &left) != 0) {
				left = 1;	/* try again after a pause */
				idle = 0;
			}
			merge = left > 0;
			idle &= merge;
			continue;
		}
		idle = 0;
		merge = 1;
		list = round_take(w);
		pthread_mutex_unlock(&w->lock);

		if (list->kind == WRITER_OP) {
			run_ops(w, list);
			if (!w->deferred) {
				hand_back(w, list);
				continue;
			}
			/*
			 * Deferred sync: whether an op wrote anything is
			 * not known here (a refusal commits nothing), so
			 * one explicit sync makes the ops durable, and the
			 * held round before them too; all are answered.
			 */
			if (held != NULL) {
				for (job = held; job->next != NULL;
				    job = job->next)
					;
				job->next = list;
				list = held;
				held = NULL;
			}
			release_held(w, list, 0);
			continue;
		}
		n = 0;
		committed = 0;
		for (job = list; job != NULL; job = job->next)
			if (job->kind == WRITER_SCAN)
				jobs[n++] = job;
		if (n > 0)
			committed |= commit_scans(w, jobs, n, recs);
		n = 0;
		for (job = list; job != NULL; job = job->next)
			if (job->kind == WRITER_CLAIM)
				jobs[n++] = job;
		if (n > 0)
			committed |= commit_claims(w, jobs, n, claims, limits,
			    results);
		for (job = list; job != NULL; job = job->next)
			if (job->kind == WRITER_LOCATE)
				committed |= commit_locate(w, job);

		if (!w->deferred) {
			hand_back(w, list);
			continue;
		}
		/*
		 * Deferred sync: this round's commit flushed the held
		 * round's meta page with its own data sync, so the held
		 * jobs are durable now; this round waits for the next
		 * commit or for an idle sync.
		 */
		release_held(w, held, committed);
		held = list;
	}
	free(results);
	free(limits);
	free(claims);
	free(recs);
	free(jobs);
	return NULL;
}

/* Event-loop side: answer everything the writer has finished for l. */
static void
writer_deliver(evutil_socket_t fd, short what, void *arg)
{
	struct writer_loop *l = arg;
	struct writer *w = l->w;
	struct writer_job *list, *job, *next;
	unsigned n = 0;

	(void)fd;
	(void)what;
	pthread_mutex_lock(&w->lock);
	list = l->head;
	l->head = NULL;
	l->tail = &l->head;
	pthread_mutex_unlock(&w->lock);
	for (job = list; job != NULL; job = next) {
		next = job->next;
		job->next = NULL;
		n++;
		job->done(job);
	}
	pthread_mutex_lock(&w->lock);
	w->pending -= n;
	pthread_mutex_unlock(&w->lock);
}

/*
 * The writer runs as SCHED_BATCH: waking it (one job queued) does not
 * preempt the event loop, so on a busy core it runs when the loop has
 * nothing left to read or at the next tick, and takes everything queued
 * by then. As SCHED_OTHER it preempted the loop at every submit and
 * committed rounds of two or three scans. An idle loop sleeps in
 * epoll_wait, so an idle server still commits a lone scan at once.
 */
static void
batch_policy(pthread_t t)
{
#ifdef SCHED_BATCH
	struct sched_param sp = { 0 };

	if (pthread_setschedparam(t, SCHED_BATCH, &sp) != 0)
		log_info("writer", "msg=\"SCHED_BATCH refused; rounds may be small\"");
#else
	(void)t;
#endif
}

int
writer_start(struct store *st, struct event_base *base, int deferred,
    struct writer **out)
{
	struct writer *w;

	if ((w = calloc(1, sizeof *w)) == NULL)
		return SIGIL_ENOMEM;
	w->store = st;
	w->deferred = deferred;
	w->tail = &w->head;
	pthread_mutex_init(&w->lock, NULL);
	sigil_cond_init(&w->wake);
	if (writer_loop_add(w, base) != 0)
		goto fail;
	if (pthread_create(&w->thread, NULL, writer_main, w) != 0)
		goto fail;
	w->started = 1;
	batch_policy(w->thread);
	*out = w;
	return 0;
fail:
	writer_free(w);
	return SIGIL_ENOMEM;
}

int
writer_loop_add(struct writer *w, struct event_base *base)
{
	struct writer_loop *l;
	int rc = 0;

	pthread_mutex_lock(&w->lock);
	if (loop_find(w, base) != NULL)
		goto out;
	if (w->nloops == WRITER_LOOPS_MAX) {
		rc = SIGIL_EFULL;
		goto out;
	}
	l = &w->loops[w->nloops];
	l->w = w;
	l->base = base;
	l->tail = &l->head;
	if ((l->ev = event_new(base, -1, 0, writer_deliver, l)) == NULL) {
		rc = SIGIL_ENOMEM;
		goto out;
	}
	w->nloops++;
out:
	pthread_mutex_unlock(&w->lock);
	if (rc == 0)
		loop_guard_mark(1);
	return rc;
}

int
writer_submit(struct writer *w, struct writer_job *job)
{
	if (job->kind == WRITER_OP && (job->op == NULL ||
	    job->op->run == NULL))
		return SIGIL_EINVAL;
	pthread_mutex_lock(&w->lock);
	if (job->base == NULL)
		job->base = w->loops[0].base;
	else if (loop_find(w, job->base) == NULL) {
		pthread_mutex_unlock(&w->lock);
		return SIGIL_EINVAL;
	}
	if (w->stopping || w->queued >= WRITER_QUEUE_MAX) {
		pthread_mutex_unlock(&w->lock);
		return SIGIL_EBUSY;
	}
	job->next = NULL;
	job->err = 0;
	*w->tail = job;
	w->tail = &job->next;
	w->queued++;
	w->pending++;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	return 0;
}

unsigned
writer_pending(struct writer *w)
{
	unsigned n;

	pthread_mutex_lock(&w->lock);
	n = w->pending;
	pthread_mutex_unlock(&w->lock);
	return n;
}

void
writer_drain(struct writer *w)
{
	pthread_mutex_lock(&w->lock);
	w->stopping = 1;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
}

void
writer_free(struct writer *w)
{
	if (w == NULL)
		return;
	writer_drain(w);
	if (w->started)
		pthread_join(w->thread, NULL);
	for (unsigned i = 0; i < w->nloops; i++)
		event_free(w->loops[i].ev);
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
	free(w);
	loop_guard_mark(0);
}

void
writer_stats(struct writer *w, struct writer_stats *out)
{
	*out = w->stats;
}

size_t
writer_op_stats(struct writer *w, struct writer_op_stat *out, size_t max)
{
	size_t i;

	pthread_mutex_lock(&w->lock);
	for (i = 0; i < w->nops && i < max; i++) {
		out[i].name = w->ops[i].op->name;
		out[i].jobs = w->ops[i].jobs;
		out[i].errors = w->ops[i].errors;
		out[i].seconds = w->ops[i].seconds;
	}
	pthread_mutex_unlock(&w->lock);
	return i;
}
