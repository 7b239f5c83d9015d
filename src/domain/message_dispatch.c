/*
 * message_dispatch.c - the outbox's delivery, and the channel table.
 *
 * The dispatcher runs on sigild's event loop like webhook_dispatch.c: a
 * timer every MESSAGE_TICK_MS reads the due outbox rows (store_outbox_due:
 * queued, next_at passed) and hands each that is not already in flight
 * to its channel, at most MESSAGE_INFLIGHT_MAX at once. The channel
 * answers once (ok; or not, with or without a retry) and the answer is
 * settled: sent, failed, or queued again at webhook_backoff_us after its
 * attempts (failed for good after MESSAGE_ATTEMPTS_MAX). Every state
 * change is a writer op (store_outbox_settle); the row stays "in flight"
 * in memory until the writer has recorded it, so the next tick never
 * picks it up twice.
 *
 * A marketing row is sent only if the customer's latest marketing
 * consent is still a grant when it goes (consent_granted: a read), so a
 * withdrawal after the run, while the row waited for quiet hours' end
 * or a retry, holds: the row fails ("no_consent").
 *
 * At least once, and no more than that: a row is marked sent only after
 * the channel said so. After a kill -9 the rows that were in flight (sent
 * or being sent, not yet recorded) are due again and go out again; every
 * other row was either recorded as sent (never sent again) or never
 * left. Nothing is written before a send, so an idle outbox costs no
 * writes and a busy one one write per message.
 *
 * Owns the channel table, the dispatcher's timer, its flights and the
 * delivery counters. May call store (reads), consent, writer, webhook.h's
 * backoff, log and util. Never writes to the store from the loop, never
 * blocks the loop (channels send through egress).
 */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "sigil/app.h"
#include "sigil/consent.h"
#include "sigil/log.h"
#include "sigil/message.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "sigil/webhook.h"
#include "sigil/writer.h"

#include "channel_impl.h"

/* ---- the channel table ---- */

struct channel_slot {
	const struct channel_ops *ops;
	uint64_t	queued, sent, failed, retried;
};

static struct channel_slot channels[MESSAGE_CHANNELS_MAX];
static size_t nchannels;
/* Rows whose channel is not registered count here. */
static struct channel_slot unknown_channel;

int
message_channel_register(const struct channel_ops *ops)
{
	if (ops == NULL || ops->name == NULL || ops->name[0] == '\0' ||
	    strlen(ops->name) > OUTBOX_CHANNEL_MAX || ops->send == NULL)
		return SIGIL_EINVAL;
	if (message_channel_find(ops->name) != NULL)
		return SIGIL_EEXIST;
	if (nchannels == MESSAGE_CHANNELS_MAX)
		return SIGIL_EFULL;
	channels[nchannels++].ops = ops;
	return 0;
}

static struct channel_slot *
slot_of(const char *name)
{
	for (size_t i = 0; i < nchannels; i++)
		if (strcmp(channels[i].ops->name, name) == 0)
			return &channels[i];
	return NULL;
}

const struct channel_ops *
message_channel_find(const char *name)
{
	struct channel_slot *s = slot_of(name);

	return s != NULL ? s->ops : NULL;
}

/* ---- the dispatcher ---- */

struct flight {
	struct message_dispatcher *d;	/* NULL once the dispatcher is gone */
	struct outbox_msg m;		/* payload: a copy */
	struct channel_slot *slot;
	int		sending;	/* the channel has it */
	struct outbox_settle s;
	struct writer_job job;
};

struct message_dispatcher {
	struct app	*app;
	struct event	*tick;
	struct flight	*flights[MESSAGE_INFLIGHT_MAX];
	size_t		nflights;
};

static struct message_dispatcher *running;

WRITER_OP_STORE(op_message_settle, "message_settle", store_outbox_settle);

static void
flight_free(struct flight *f)
{
	outbox_msg_clear(&f->m);
	free(f);
}

static void
flight_drop(struct message_dispatcher *d, struct flight *f)
{
	for (size_t i = 0; i < d->nflights; i++)
		if (d->flights[i] == f) {
			d->flights[i] = d->flights[--d->nflights];
			break;
		}
	flight_free(f);
}

int
message_in_flight(uint32_t brand_id, uint64_t id)
{
	struct message_dispatcher *d = running;

	for (size_t i = 0; d != NULL && i < d->nflights; i++)
		if (d->flights[i]->m.brand_id == brand_id &&
		    d->flights[i]->m.id == id)
			return 1;
	return 0;
}

static void
settled(struct writer_job *job)
{
	struct flight *f = job->arg;

	if (job->err != 0)
		log_error("message_settle", "brand=%u id=%llu err=%s",
		    f->m.brand_id, (unsigned long long)f->m.id,
		    sigil_strerror(job->err));
	if (f->d == NULL)
		flight_free(f);
	else
		flight_drop(f->d, f);
}

/*
 * The channel's answer: the row's next state, recorded by the writer.
 * If the writer refuses (shutting down), the row stays queued and goes
 * out again after the restart: at least once.
 */
static void
channel_done(void *arg, int ok, int retry, int status, const char *detail)
{
	struct flight *f = arg;
	struct outbox_settle *s = &f->s;
	int64_t now = sigil_now_us();
	uint32_t jitter = 0;
	int rc;

	if (!f->sending)
		return;
	f->sending = 0;
	if (f->d == NULL) {
		flight_free(f);
		return;
	}
	memset(s, 0, sizeof *s);
	s->brand_id = f->m.brand_id;
	s->id = f->m.id;
	s->last_status = status;
	s->attempts = f->m.attempts;
	if (ok) {
		s->state = OUTBOX_SENT;
		s->sent_at = now;
		f->slot->sent++;
	} else {
		if (s->attempts < UINT32_MAX)
			s->attempts++;
		if (retry && s->attempts < MESSAGE_ATTEMPTS_MAX) {
			(void)sigil_random(&jitter, sizeof jitter);
			s->state = OUTBOX_QUEUED;
			s->next_at = now + webhook_backoff_us(s->attempts,
			    jitter);
			f->slot->retried++;
		} else {
			s->state = OUTBOX_FAILED;
			f->slot->failed++;
		}
	}
	log_info("message_delivery", "brand=%u id=%llu channel=%s kind=%d "
	    "result=%s status=%d detail=%s attempts=%u", f->m.brand_id,
	    (unsigned long long)f->m.id, f->m.channel, f->m.kind,
	    ok ? "sent" : s->state == OUTBOX_QUEUED ? "retry" : "failed",
	    status, detail != NULL ? detail : "-", s->attempts);
	memset(&f->job, 0, sizeof f->job);
	f->job.kind = WRITER_OP;
	f->job.op = &op_message_settle;
	f->job.op_arg = s;
	f->job.base = f->d->app->base;
	f->job.done = settled;
	f->job.arg = f;
	if ((rc = writer_submit(f->d->app->writer, &f->job)) != 0) {
		log_error("message_settle", "brand=%u id=%llu err=%s",
		    f->m.brand_id, (unsigned long long)f->m.id,
		    sigil_strerror(rc));
		flight_drop(f->d, f);
	}
}

static int
take_due(void *arg, const struct outbox_msg *m)
{
	struct message_dispatcher *d = arg;
	struct flight *f;
	const struct channel_ops *ops;

	if (d->nflights == MESSAGE_INFLIGHT_MAX)
		return 1;
	if (message_in_flight(m->brand_id, m->id))
		return 0;
	if ((f = calloc(1, sizeof *f)) == NULL)
		return SIGIL_ENOMEM;
	f->d = d;
	f->m = *m;
	if ((f->m.payload = strdup(m->payload)) == NULL) {
		free(f);
		return SIGIL_ENOMEM;
	}
	d->flights[d->nflights++] = f;
	f->slot = slot_of(m->channel);
	if (f->slot == NULL)
		f->slot = &unknown_channel;
	if (m->attempts == 0)
		f->slot->queued++;
	f->sending = 1;
	/* A withdrawal after the run (a deferred row) holds: asked again. */
	if (m->kind == OUTBOX_MARKETING && consent_granted(d->app, m->brand_id,
	    m->customer_id, CONSENT_MARKETING) != 1) {
		channel_done(f, 0, 0, 0, "no_consent");
		return 0;
	}
	if ((ops = f->slot->ops) == NULL) {
		channel_done(f, 0, 0, 0, "unknown_channel");
		return 0;
	}
	if (ops->send(d->app, &f->m, channel_done, f) != 0)
		channel_done(f, 0, 1, 0, "send_failed");
	return 0;
}

static void
tick(evutil_socket_t fd, short what, void *arg)
{
	struct message_dispatcher *d = arg;
	struct timeval tv = { 0, MESSAGE_TICK_MS * 1000 };
	int rc;

	(void)fd;
	(void)what;
	if (d->nflights < MESSAGE_INFLIGHT_MAX &&
	    (rc = store_outbox_due(d->app->store, sigil_now_us(),
	    MESSAGE_INFLIGHT_MAX * 2, take_due, d)) < 0)
		log_error("message_due", "err=%s", sigil_strerror(rc));
	evtimer_add(d->tick, &tv);
}

void
message_dispatcher_free(struct message_dispatcher *d)
{
	if (d == NULL)
		return;
	if (d->tick != NULL)
		event_free(d->tick);
	/*
	 * A flight with its channel keeps its memory until the channel
	 * answers (egress_free drops the request without an answer, so
	 * that is a small leak at exit, never a use after free); one with
	 * the writer is answered before this runs.
	 */
	for (size_t i = 0; i < d->nflights; i++) {
		d->flights[i]->d = NULL;
		if (!d->flights[i]->sending)
			flight_free(d->flights[i]);
	}
	if (running == d)
		running = NULL;
	free(d);
}

int
message_dispatcher_start(struct app *app, struct message_dispatcher **out)
{
	struct message_dispatcher *d;
	struct timeval tv = { 0, MESSAGE_TICK_MS * 1000 };

	if ((d = calloc(1, sizeof *d)) == NULL)
		return SIGIL_ENOMEM;
	d->app = app;
	if ((d->tick = evtimer_new(app->base, tick, d)) == NULL ||
	    evtimer_add(d->tick, &tv) != 0) {
		message_dispatcher_free(d);
		return SIGIL_ENOMEM;
	}
	running = d;
	*out = d;
	return 0;
}

static void
counter(struct evbuffer *b, const char *what, const char *help, size_t off)
{
	evbuffer_add_printf(b, "# HELP sigil_messages_%s_total %s\n"
	    "# TYPE sigil_messages_%s_total counter\n", what, help, what);
	for (size_t i = 0; i < nchannels; i++)
		evbuffer_add_printf(b, "sigil_messages_%s_total{channel=\"%s\"} "
		    "%llu\n", what, channels[i].ops->name, (unsigned long long)
		    *(const uint64_t *)((const char *)&channels[i] + off));
	evbuffer_add_printf(b, "sigil_messages_%s_total{channel=\"unknown\"} "
	    "%llu\n", what, (unsigned long long)
	    *(const uint64_t *)((const char *)&unknown_channel + off));
}

void
message_metrics(struct app *app, struct evbuffer *b)
{
	int64_t oldest = 0, now = sigil_now_us();
	double lag = 0;

	counter(b, "queued", "Outbox messages taken up for their first try, "
	    "by channel.", offsetof(struct channel_slot, queued));
	counter(b, "sent", "Outbox messages the channel accepted, by channel.",
	    offsetof(struct channel_slot, sent));
	counter(b, "failed", "Outbox messages failed for good, by channel.",
	    offsetof(struct channel_slot, failed));
	counter(b, "retried", "Outbox message tries that failed and were "
	    "scheduled again, by channel.",
	    offsetof(struct channel_slot, retried));
	if (store_outbox_oldest(app->store, &oldest) == 0 && oldest != 0 &&
	    oldest < now)
		lag = (double)(now - oldest) / 1e6;
	evbuffer_add_printf(b, "# HELP sigil_messages_lag_seconds How long "
	    "the oldest due outbox message has waited.\n"
	    "# TYPE sigil_messages_lag_seconds gauge\n"
	    "sigil_messages_lag_seconds %.3f\n", lag);
}

int
message_channels_builtin(void)
{
	static const struct channel_ops *const builtin[] = {
		&channel_sms, &channel_wechat_template,
		&channel_wechat_subscribe, &channel_auto, &channel_hook,
	};
	int rc;

	for (size_t i = 0; i < sizeof builtin / sizeof builtin[0]; i++)
		if ((rc = message_channel_register(builtin[i])) != 0)
			return rc;
	return 0;
}
