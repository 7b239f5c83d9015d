/*
 * message_sched.c - when lifecycle messages run.
 *
 * A timer on the loop every MESSAGE_SCHED_MS reads the definitions (all
 * brands) and picks one that is due: active, and either a schedule
 * whose time has come and that never ran, or a trigger not run for
 * SIGIL_MESSAGE_TRIGGER_S seconds (default 3600: a birthday, a lapse or
 * an expiring lot is found within the hour; the marks keep each
 * occasion to one message); of those due, the one whose last run is
 * oldest, so that none starves the others. It hands it to the writer as
 * one op: on the
 * writer thread the definition is read again, planned (message_plan.c)
 * and its rows, marks and bookkeeping written in one transaction
 * (store_message_run), so a crash leaves all of a run or none, and the
 * definition's last_run says it ran. One run at a time; a run that
 * fails is not tried again for a minute.
 *
 * Starting it also tells segment.h that messages use segments (a
 * segment a message's audience names cannot be deleted).
 *
 * Owns the scheduler's timer and its one job. May call store (reads on
 * the loop), writer, message_plan.c, log, util. Never writes on the loop.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "sigil/app.h"
#include "sigil/log.h"
#include "sigil/message.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "sigil/writer.h"

#include "message_impl.h"

#define SCHED_RETRY_US	(60LL * 1000000)
#define SCHED_FAILS	16

struct sched_job {
	struct app	*app;
	uint32_t	 brand_id, id;
	int64_t		 now;
	uint64_t	 queued;	/* out */
};

struct message_sched {
	struct app	*app;
	struct event	*tick;
	int64_t		 trigger_every;
	int		 busy;		/* a run is with the writer */
	struct sched_job job;
	struct writer_job wj;
	struct {
		uint32_t	brand_id, id;
		int64_t		until;
	}		 fails[SCHED_FAILS];
	/* this tick's pick */
	int		 found;
	uint32_t	 pick_brand, pick_id;
	int64_t		 pick_last;
	int64_t		 now;
};

static int
run_op(struct store *st, void *arg)
{
	struct sched_job *j = arg;
	struct message_def d;
	struct message_cfg cfg;
	struct message_plan plan;
	struct message_run run;
	int rc;

	if ((rc = store_message_get(st, j->brand_id, j->id, &d)) != 0)
		return rc;
	if ((rc = message_config_load(d.config, &cfg)) == 0 &&
	    (rc = message_plan(j->app, &d, &cfg, j->now, &plan, &run)) == 0) {
		rc = store_message_run(st, &run);
		j->queued = run.n;
		message_run_clear(&run);
	}
	store_message_clear(&d);
	return rc;
}

static const struct writer_op op_message_run = { "message_run", run_op };

static int
failed_lately(struct message_sched *s, uint32_t brand_id, uint32_t id)
{
	for (int i = 0; i < SCHED_FAILS; i++)
		if (s->fails[i].brand_id == brand_id && s->fails[i].id == id &&
		    s->fails[i].until > s->now)
			return 1;
	return 0;
}

static void
ran(struct writer_job *wj)
{
	struct message_sched *s = wj->arg;
	struct sched_job *j = &s->job;
	int slot = 0;

	s->busy = 0;
	if (wj->err == 0) {
		log_info("message_run", "brand=%u message=%u queued=%llu",
		    j->brand_id, j->id, (unsigned long long)j->queued);
		return;
	}
	log_error("message_run", "brand=%u message=%u err=%s", j->brand_id,
	    j->id, sigil_strerror(wj->err));
	for (int i = 1; i < SCHED_FAILS; i++)
		if (s->fails[i].until < s->fails[slot].until)
			slot = i;
	s->fails[slot].brand_id = j->brand_id;
	s->fails[slot].id = j->id;
	s->fails[slot].until = sigil_now_us() + SCHED_RETRY_US;
}

static int
pick(void *arg, const struct message_def *d)
{
	struct message_sched *s = arg;
	struct message_cfg cfg;
	int due;

	if (message_config_load(d->config, &cfg) != 0 || !cfg.active)
		return 0;
	if (cfg.trigger == TRIG_NONE)
		due = d->last_run == 0 && cfg.at <= s->now;
	else
		due = d->last_run == 0 || s->now - d->last_run >=
		    s->trigger_every;
	if (!due || failed_lately(s, d->brand_id, d->id))
		return 0;
	/* The one that waited longest, so none starves the others. */
	if (s->found && d->last_run >= s->pick_last)
		return 0;
	s->found = 1;
	s->pick_brand = d->brand_id;
	s->pick_id = d->id;
	s->pick_last = d->last_run;
	return 0;
}

static void
tick(evutil_socket_t fd, short what, void *arg)
{
	struct message_sched *s = arg;
	struct timeval tv = { MESSAGE_SCHED_MS / 1000,
	    (MESSAGE_SCHED_MS % 1000) * 1000 };
	int rc;

	(void)fd;
	(void)what;
	if (s->busy)
		goto again;
	s->now = sigil_now_us();
	s->found = 0;
	if ((rc = store_message_each(s->app->store, 0, pick, s)) < 0)
		log_error("message_sched", "err=%s", sigil_strerror(rc));
	if (!s->found)
		goto again;
	memset(&s->job, 0, sizeof s->job);
	s->job.app = s->app;
	s->job.brand_id = s->pick_brand;
	s->job.id = s->pick_id;
	s->job.now = s->now;
	memset(&s->wj, 0, sizeof s->wj);
	s->wj.kind = WRITER_OP;
	s->wj.op = &op_message_run;
	s->wj.op_arg = &s->job;
	s->wj.base = s->app->base;
	s->wj.done = ran;
	s->wj.arg = s;
	if ((rc = writer_submit(s->app->writer, &s->wj)) == 0)
		s->busy = 1;
	else
		log_error("message_sched", "err=%s", sigil_strerror(rc));
again:
	evtimer_add(s->tick, &tv);
}

void
message_sched_free(struct message_sched *s)
{
	if (s == NULL)
		return;
	if (s->tick != NULL)
		event_free(s->tick);
	free(s);
}

int
message_sched_start(struct app *app, struct message_sched **out)
{
	struct message_sched *s;
	struct timeval tv = { 0, 100 * 1000 };
	const char *e = getenv("SIGIL_MESSAGE_TRIGGER_S");
	uint64_t every = 3600;

	if (e != NULL && *e != '\0' && (sigil_parse_u64(e, 86400 * 30,
	    &every) != 0 || every == 0))
		return SIGIL_EINVAL;
	/* A segment a message uses cannot be deleted. */
	if (message_segments_hook() != 0)
		return SIGIL_EFULL;
	if ((s = calloc(1, sizeof *s)) == NULL)
		return SIGIL_ENOMEM;
	s->app = app;
	s->trigger_every = (int64_t)every * 1000000;
	if ((s->tick = evtimer_new(app->base, tick, s)) == NULL ||
	    evtimer_add(s->tick, &tv) != 0) {
		message_sched_free(s);
		return SIGIL_ENOMEM;
	}
	*out = s;
	return 0;
}
