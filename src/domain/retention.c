/*
 * retention.c - a brand's retention period and the daily job that
 * applies it (PIPL: personal data kept no longer than its purpose needs).
 *
 * The period is a number of days in the brand's settings (RETENTION_KEY
 * in brand_settings; 0 or absent keeps for ever). Once a scan is older,
 * its IP address is cut to the network and its precise location to
 * nothing but the region (store_retention.c says what each table
 * keeps); then the freed pages and the write-ahead log are scrubbed as
 * after an erasure (store_scrub), so the old bytes leave the files too.
 *
 * The job runs inside the writer without holding scans up: a run is a
 * chain of writer ops, each one bounded chunk of one brand's log
 * (RETENTION_CHUNK records, one write transaction); the chunk's done()
 * on the loop queues the next one, so every scan that arrived meanwhile
 * is committed between two chunks (RETENTION_CHUNK records and the rest
 * of the last one's leaf page). After the last brand, the scrub, as
 * after an erasure, when the run changed anything (and on every daily
 * run with a period): store_scrub_begin, then one op per chunk of pages
 * (store_scrub_step), scans again committed between two; a reader older
 * than the scrub makes it wait SCRUB_PAUSE_MS on the loop's timer, not
 * in the writer. The loop's timer starts a run over every
 * brand RETENTION_FIRST_S after sigild starts and every 24 hours after
 * (first over the scans no brand's period covers, brand id 0 in the log,
 * when sigild runs with --unbranded-retention DAYS);
 * POST /api/v1/privacy/retention/run starts one for a brand now. One
 * run at a time. The cutoff is fixed when a brand's turn comes, from
 * sigil_now_us (which the fault build's SIGIL_TEST_CLOCK_SHIFT moves).
 *
 * Owns the scheduler (timer, the run's state, the counters /metrics
 * and the API read) and retention_set_op. May call the store, writer,
 * audit, log, util and member (the brand settings' key it keeps). Never writes from the loop (every write is an
 * op's) and never logs a scan's address or place.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>

#include "sigil/app.h"
#include "sigil/audit.h"
#include "sigil/log.h"
#include "sigil/member.h"
#include "sigil/retention.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "sigil/writer.h"

#define RETENTION_CHUNK		1024	/* log records per write transaction */
#define RETENTION_MERGE_CHUNK	1024	/* codes merged when blocked */
#define RETENTION_BLOCKED_MAX	1000	/* merges in a row without a step */
#define RETENTION_FIRST_S	30	/* the first run after start */
#define RETENTION_EVERY_S	86400
#define RETENTION_RETRY_S	60	/* the daily run found one under way */
#define SCRUB_PAUSE_MS		10	/* a reader older than the scrub: wait */
#define SCRUB_TRIES_MAX		500
#define DAY_US			(86400LL * 1000000)

/* ---- the setting ---- */

int
retention_days(struct store *st, uint32_t brand_id, unsigned *out)
{
	json_t *o, *v;
	int err;

	o = member_settings_read(st, brand_id, &err);
	v = json_object_get(o, RETENTION_KEY);
	*out = json_is_integer(v) && json_integer_value(v) > 0 &&
	    json_integer_value(v) <= RETENTION_DAYS_MAX ?
	    (unsigned)json_integer_value(v) : 0;
	json_decref(o);
	return err;
}

/* The writer: reads the settings, changes the one key, writes them. */
static int
set_run(struct store *st, void *arg)
{
	struct retention_set *x = arg;

	return member_settings_key_set(st, x->brand_id, RETENTION_KEY,
	    x->days > 0 ? json_integer(x->days) : NULL);
}

static int
set_audit(struct store *st, const void *arg, struct audit_entry *e,
    int after)
{
	const struct retention_set *x = arg;
	unsigned before = 0;

	if (after)
		return 0;
	retention_days(st, x->brand_id, &before);
	audit_target(e, "settings", RETENTION_KEY);
	audit_detail_set(e, json_pack("{s:{s:i,s:i}}", RETENTION_KEY,
	    "before", (int)before, "after", (int)x->days));
	return 0;
}

const struct writer_op retention_set_op = { "retention_set", set_run,
    set_audit };

/* ---- the job ---- */

struct step_job {
	uint32_t	brand_id;
	int64_t		cutoff;
	struct store_retention_step res;
	struct store_scrub_run sr;	/* the scrub, kept across its ops */
	int		more, busy;	/* its step: more to do, old reader */
};

struct retention {
	struct app	*app;
	struct event	*tick;
	unsigned	 unbranded;	/* days, for brand id 0; 0: kept */
	pthread_mutex_t	 mu;		/* stats, read by other loops */
	struct retention_stats stats;
	/* the run, on the loop */
	uint32_t	*brands;	/* the run's brands, in id order */
	size_t		 nbrands, next;
	unsigned	 blocked;	/* steps in a row that only merged */
	unsigned	 periods;	/* brands of the run with a period */
	uint64_t	 run_reduced, run_unlocated;
	struct timespec	 t0;
	struct step_job	 step;
	struct writer_job job;
	struct event	*retry;		/* the scrub waits for an old reader */
	unsigned	 tries;
};

/*
 * One chunk. When it stopped at scans code_state has not merged yet (a
 * quiet writer merges only after work came), a chunk of that merge too,
 * as the writer does when idle, so the next step can go on.
 */
static int
step_run(struct store *st, void *arg)
{
	struct step_job *s = arg;
	int rc;

	rc = store_retention_step(st, s->brand_id, s->cutoff,
	    RETENTION_CHUNK, &s->res);
	if (rc == 0 && s->res.blocked)
		rc = store_state_merge(st, RETENTION_MERGE_CHUNK, NULL);
	return rc;
}

static const struct writer_op op_step = { "retention_step", step_run, NULL };

/*
 * As after an erasure, the freed pages and the log's copies zeroed, but
 * a chunk of pages per op (store_scrub_step), so scans commit between.
 */
static int
scrub_begin_run(struct store *st, void *arg)
{
	struct step_job *s = arg;

	return store_scrub_begin(st, &s->sr);
}

static int
scrub_step_run(struct store *st, void *arg)
{
	struct step_job *s = arg;
	int rc = store_scrub_step(st, &s->sr);

	s->more = rc == 1;
	s->busy = rc == SIGIL_EBUSY;
	return rc == 1 || rc == SIGIL_EBUSY ? 0 : rc;
}

static const struct writer_op op_scrub_begin = { "retention_scrub",
    scrub_begin_run, NULL };
static const struct writer_op op_scrub_step = { "retention_scrub_step",
    scrub_step_run, NULL };

static void step_done(struct writer_job *job);

static int
submit(struct retention *r, const struct writer_op *op)
{
	memset(&r->job, 0, sizeof r->job);
	r->job.kind = WRITER_OP;
	r->job.op = op;
	r->job.op_arg = &r->step;
	r->job.base = r->app->base;
	r->job.done = step_done;
	r->job.arg = r;
	return writer_submit(r->app->writer, &r->job);
}

static void
run_end(struct retention *r, int err, int scrubbed)
{
	struct timespec t1;
	double secs;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - r->t0.tv_sec) +
	    (double)(t1.tv_nsec - r->t0.tv_nsec) / 1e9;
	pthread_mutex_lock(&r->mu);
	r->stats.running = 0;
	r->stats.runs++;
	if (err != 0)
		r->stats.errors++;
	r->stats.last_end = sigil_now_us();
	r->stats.last_seconds = secs;
	r->stats.last_reduced = r->run_reduced;
	r->stats.last_err = err;
	r->stats.last_scrubbed = scrubbed;
	pthread_mutex_unlock(&r->mu);
	log_info("retention", "brand=%u brands=%zu reduced=%llu "
	    "unlocated=%llu scrubbed=%d ms=%.0f result=%s",
	    r->stats.run_brand, r->nbrands,
	    (unsigned long long)r->run_reduced,
	    (unsigned long long)r->run_unlocated, scrubbed, secs * 1000,
	    err ? sigil_strerror(err) : "ok");
	free(r->brands);
	r->brands = NULL;
	r->nbrands = r->next = 0;
}

/*
 * The next brand's first chunk, or the scrub after the last one; the
 * run ends when nothing is left to submit.
 */
static void
run_next(struct retention *r)
{
	int rc;

	while (r->next < r->nbrands) {
		unsigned days = 0;
		uint32_t b = r->brands[r->next++];

		if (b == 0)
			days = r->unbranded;
		else if (retention_days(r->app->store, b, &days) != 0)
			continue;
		if (days == 0)
			continue;
		r->periods++;
		memset(&r->step, 0, sizeof r->step);
		r->blocked = 0;
		r->step.brand_id = b;
		r->step.cutoff = sigil_now_us() - (int64_t)days * DAY_US;
		if ((rc = submit(r, &op_step)) != 0)
			run_end(r, rc, 0);
		return;
	}
	/*
	 * The scrub: after a change, or one still pending, and on every
	 * daily run with a period somewhere (LMDB's reused page buffers
	 * can write old bytes into the free gaps of later pages: at most
	 * a day, then).
	 */
	if (r->run_reduced == 0 && r->run_unlocated == 0 &&
	    !store_scrub_pending(r->app->store) &&
	    !(r->stats.run_brand == 0 && r->periods > 0)) {
		run_end(r, 0, 0);
		return;
	}
	memset(&r->step, 0, sizeof r->step);
	r->tries = 0;
	if ((rc = submit(r, &op_scrub_begin)) != 0)
		run_end(r, rc, 0);
}

/* The scrub's next chunk, after a pause when a reader was older. */
static void
scrub_retry(evutil_socket_t fd, short what, void *arg)
{
	struct retention *r = arg;
	int rc;

	(void)fd;
	(void)what;
	if ((rc = submit(r, &op_scrub_step)) != 0)
		run_end(r, rc, 0);
}

static void
step_done(struct writer_job *job)
{
	struct retention *r = job->arg;
	int rc;

	if (job->op == &op_scrub_begin || job->op == &op_scrub_step) {
		const struct timeval pause = { 0, SCRUB_PAUSE_MS * 1000 };

		if (job->err != 0)
			run_end(r, job->err, 0);
		else if (job->op == &op_scrub_step && r->step.busy) {
			/* As store_scrub: 10 ms apart, 5 s at most. */
			if (++r->tries >= SCRUB_TRIES_MAX)
				run_end(r, SIGIL_EBUSY, 0);
			else
				evtimer_add(r->retry, &pause);
		} else if (job->op == &op_scrub_begin || r->step.more) {
			if ((rc = submit(r, &op_scrub_step)) != 0)
				run_end(r, rc, 0);
		} else
			run_end(r, 0, 1);
		return;
	}
	if (job->err != 0) {
		log_error("retention", "brand=%u err=\"%s\"", r->step.brand_id,
		    sigil_strerror(job->err));
		run_end(r, job->err, 0);
		return;
	}
	r->run_reduced += r->step.res.reduced;
	r->run_unlocated += r->step.res.unlocated;
	pthread_mutex_lock(&r->mu);
	r->stats.chunks++;
	r->stats.reduced += r->step.res.reduced;
	r->stats.unlocated += r->step.res.unlocated;
	r->stats.backlog = r->step.res.backlog;
	pthread_mutex_unlock(&r->mu);
	r->blocked = r->step.res.examined > 0 ? 0 : r->blocked +
	    r->step.res.blocked;
	if (!r->step.res.done && (r->step.res.examined > 0 ||
	    (r->step.res.blocked && r->blocked < RETENTION_BLOCKED_MAX))) {
		/* The same brand's next chunk, behind what came meanwhile. */
		memset(&r->step.res, 0, sizeof r->step.res);
		if ((rc = submit(r, &op_step)) != 0)
			run_end(r, rc, 0);
		return;
	}
	run_next(r);
}

static int
brand_add(void *arg, const struct brand *b)
{
	struct retention *r = arg;
	uint32_t *n;

	if ((n = realloc(r->brands, (r->nbrands + 1) * sizeof *n)) == NULL)
		return SIGIL_ENOMEM;
	r->brands = n;
	r->brands[r->nbrands++] = b->id;
	return 0;
}

int
retention_run_now(struct retention *r, uint32_t brand_id)
{
	int rc;

	if (r->stats.running)
		return SIGIL_EBUSY;
	r->nbrands = r->next = 0;
	r->periods = 0;
	r->run_reduced = r->run_unlocated = 0;
	if (brand_id != 0)
		rc = brand_add(r, &(struct brand){ .id = brand_id });
	else if ((rc = brand_add(r, &(struct brand){ .id = 0 })) == 0)
		rc = store_brand_each(r->app->store, brand_add, r);
	if (rc != 0) {
		free(r->brands);
		r->brands = NULL;
		r->nbrands = 0;
		return rc < 0 ? rc : SIGIL_EIO;
	}
	clock_gettime(CLOCK_MONOTONIC, &r->t0);
	pthread_mutex_lock(&r->mu);
	r->stats.running = 1;
	r->stats.run_brand = brand_id;
	r->stats.last_start = sigil_now_us();
	r->stats.backlog = 0;
	pthread_mutex_unlock(&r->mu);
	run_next(r);
	return 0;
}

static void
tick(evutil_socket_t fd, short what, void *arg)
{
	struct retention *r = arg;
	struct timeval tv = { RETENTION_EVERY_S, 0 };
	int rc;

	(void)fd;
	(void)what;
	/* A brand's run now under way: the daily one comes once it ends. */
	if ((rc = retention_run_now(r, 0)) == SIGIL_EBUSY)
		tv.tv_sec = RETENTION_RETRY_S;
	else if (rc != 0)
		log_error("retention", "err=\"%s\"", sigil_strerror(rc));
	evtimer_add(r->tick, &tv);
}

int
retention_start(struct app *app, unsigned unbranded_days,
    struct retention **out)
{
	struct retention *r;
	struct timeval tv = { RETENTION_FIRST_S, 0 };

	if ((r = calloc(1, sizeof *r)) == NULL)
		return SIGIL_ENOMEM;
	r->app = app;
	r->unbranded = unbranded_days;
	pthread_mutex_init(&r->mu, NULL);
	if ((r->tick = evtimer_new(app->base, tick, r)) == NULL ||
	    (r->retry = evtimer_new(app->base, scrub_retry, r)) == NULL ||
	    evtimer_add(r->tick, &tv) != 0) {
		retention_free(r);
		return SIGIL_ENOMEM;
	}
	*out = r;
	return 0;
}

void
retention_stats(struct retention *r, struct retention_stats *out)
{
	if (r == NULL) {
		memset(out, 0, sizeof *out);
		return;
	}
	pthread_mutex_lock(&r->mu);
	*out = r->stats;
	pthread_mutex_unlock(&r->mu);
}

void
retention_free(struct retention *r)
{
	if (r == NULL)
		return;
	if (r->tick != NULL)
		event_free(r->tick);
	if (r->retry != NULL)
		event_free(r->retry);
	pthread_mutex_destroy(&r->mu);
	free(r->brands);
	free(r);
}
