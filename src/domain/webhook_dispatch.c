/*
 * webhook_dispatch.c - CRM webhooks: delivery (webhook.c makes the
 * subscriptions, the batches and their signatures).
 *
 * The dispatcher runs on sigild's event loop: a timer every
 * WEBHOOK_TICK_MS copies the subscriptions, and for each that is due
 * (next_try passed, no request in flight, no progress being written)
 * collects up to WEBHOOK_BATCH_MAX events after its cursors and POSTs
 * them through egress (http, or https with the system trust store and
 * host name checks; every address checked against --webhook-allow). The
 * answer moves the cursors or schedules a retry with exponential backoff
 * and jitter; either way one store_webhook_progress write records it.
 * Cursors move only after the receiver answered 2xx, so every event is
 * delivered at least once.
 *
 * The loop only reads: the progress write is a writer op (writer.h),
 * and until it is done the subscription is not ticked (its row is older
 * than what was settled) and webhook_progress_overlay shows the brand
 * API the settled fields instead of the row's. Scans the subscription
 * does not want (other brands, bots) are skipped in memory and the skip
 * is only written out with the next delivery or every
 * WEBHOOK_SKIP_SAVE_S, so an idle subscription costs no writes.
 *
 * Owns the dispatcher: its timer, its copy of the subscriptions, the
 * requests in flight and the settled progress not yet written. May call
 * webhook.c's functions, store (reads), writer, keyring, egress and log.
 * Never writes to the store from the loop, never blocks it on the
 * network.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <openssl/crypto.h>

#include "sigil/app.h"
#include "sigil/egress.h"
#include "sigil/log.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "sigil/webhook.h"
#include "sigil/writer.h"

#define WEBHOOK_SKIP_SAVE_S	30

/*
 * One per subscription seen, kept for the process lifetime (there is no
 * deletion). Held by pointer, so a request's callback argument stays
 * valid while the array grows.
 */
struct slot {
	struct webhook_dispatcher *d;
	uint32_t	brand_id, id;
	uint64_t	scan_seen, activity_seen;	/* skipped in memory */
	int64_t		seen_saved;
	struct webhook	w;		/* as sent: progress writes this */
	struct webhook_batch batch;
	struct egress_req *req;		/* the POST in flight or NULL */
	int		inflight;
	/*
	 * The delivery fields settled last, while the writer has them: the
	 * tick waits for the write (the store's row is older until then)
	 * and the brand API shows these instead of the row's.
	 */
	int		saving;
	struct webhook	saved;
	struct writer_job save;
};

struct webhook_dispatcher {
	struct app	*app;
	struct event	*tick;
	struct slot	**slots;
	size_t		n, cap;
	struct webhook	*subs;		/* this tick's copy */
	size_t		nsubs, subs_cap;
};

/*
 * The process's running dispatcher (sigild starts one), so that the
 * brand API's reads can show delivery progress still in the writer.
 */
static struct webhook_dispatcher *running;

WRITER_OP_STORE(op_webhook_progress, "webhook_progress",
    store_webhook_progress);

static void
progress_saved(struct writer_job *job)
{
	struct slot *s = job->arg;

	s->saving = 0;
	if (job->err != 0)
		log_error("webhook_progress", "brand=%u id=%u err=%s",
		    s->brand_id, s->id, sigil_strerror(job->err));
}

/*
 * Has the writer record w's delivery fields (cursors, attempts, next
 * try, last status, count). If the writer refuses (shutting down), the
 * progress is lost and its events are delivered again after the
 * restart: at least once, as the cursors promise.
 */
static void
slot_save(struct slot *s, const struct webhook *w)
{
	struct app *app = s->d->app;
	int rc;

	s->saved = *w;
	memset(&s->save, 0, sizeof s->save);
	s->save.kind = WRITER_OP;
	s->save.op = &op_webhook_progress;
	s->save.op_arg = &s->saved;
	s->save.base = app->base;
	s->save.done = progress_saved;
	s->save.arg = s;
	if ((rc = writer_submit(app->writer, &s->save)) != 0) {
		log_error("webhook_progress", "brand=%u id=%u err=%s",
		    w->brand_id, w->id, sigil_strerror(rc));
		return;
	}
	s->saving = 1;
}

/* w's delivery fields as last settled, when they are not stored yet. */
void
webhook_progress_overlay(struct webhook *w)
{
	struct webhook_dispatcher *d = running;
	const struct webhook *p;

	for (size_t i = 0; d != NULL && i < d->n; i++) {
		if (!d->slots[i]->saving || d->slots[i]->brand_id !=
		    w->brand_id || d->slots[i]->id != w->id)
			continue;
		p = &d->slots[i]->saved;
		w->scan_cursor = p->scan_cursor;
		w->activity_cursor = p->activity_cursor;
		w->attempts = p->attempts;
		w->next_try = p->next_try;
		w->last_status = p->last_status;
		w->delivered = p->delivered;
		return;
	}
}

/*
 * arr (n elements of size bytes used, room for *cap) with room for one
 * more: arr itself, or a copy twice as large; NULL when out of memory
 * (arr is kept).
 */
static void *
room_for_one(void *arr, size_t *cap, size_t n, size_t size)
{
	size_t more;

	if (n < *cap)
		return arr;
	more = *cap ? *cap * 2 : 16;
	if ((arr = realloc(arr, more * size)) != NULL)
		*cap = more;
	return arr;
}

static struct slot *
slot_find(struct webhook_dispatcher *d, const struct webhook *w)
{
	struct slot *s, **grown;

	for (size_t i = 0; i < d->n; i++)
		if (d->slots[i]->brand_id == w->brand_id &&
		    d->slots[i]->id == w->id)
			return d->slots[i];
	if ((grown = room_for_one(d->slots, &d->cap, d->n,
	    sizeof *grown)) == NULL)
		return NULL;
	d->slots = grown;
	if ((s = calloc(1, sizeof *s)) == NULL)
		return NULL;
	s->d = d;
	s->brand_id = w->brand_id;
	s->id = w->id;
	s->seen_saved = sigil_now_us();
	d->slots[d->n++] = s;
	return s;
}

static void
slot_settle(struct slot *s, int result, int status)
{
	struct webhook *w = &s->w;
	int64_t now = sigil_now_us();
	uint32_t jitter = 0;

	s->inflight = 0;
	s->req = NULL;
	/* Kept for the log; the API shows only delivered or failed. */
	w->last_status = status > 0 ? status : -1;
	if (result == EGRESS_OK) {
		w->scan_cursor = s->batch.scan_cursor;
		w->activity_cursor = s->batch.activity_cursor;
		w->delivered += s->batch.n;
		w->attempts = 0;
		w->next_try = 0;
		if (s->scan_seen < w->scan_cursor)
			s->scan_seen = w->scan_cursor;
		if (s->activity_seen < w->activity_cursor)
			s->activity_seen = w->activity_cursor;
		s->seen_saved = now;
	} else {
		if (w->attempts < UINT32_MAX)
			w->attempts++;
		(void)sigil_random(&jitter, sizeof jitter);
		w->next_try = now + webhook_backoff_us(w->attempts, jitter);
	}
	slot_save(s, w);
	log_info("webhook_delivery", "brand=%u id=%u result=%s status=%d "
	    "events=%zu first=%s attempts=%u", w->brand_id, w->id,
	    egress_result_name(result), status, s->batch.n, s->batch.first_id,
	    w->attempts);
	webhook_batch_clear(&s->batch);
}

static void
delivery_done(int result, int status, void *arg)
{
	struct slot *s = arg;

	if (s->inflight)
		slot_settle(s, result, status);
}

/*
 * Sends s->batch to s->w.url through egress (resolve once, check every
 * address against --webhook-allow, connect by address); settles the
 * slot at once when it cannot.
 */
static void
slot_send(struct slot *s)
{
	struct webhook_dispatcher *d = s->d;
	struct webhook_url u;
	struct webhook_signed sh;
	char delivery[32 + WEBHOOK_ID_MAX];
	int64_t now_s = sigil_now_us() / 1000000;

	snprintf(delivery, sizeof delivery, "%u-%s", s->w.id,
	    s->batch.first_id);
	if (webhook_url_parse(s->w.url, &u) != 0 ||
	    webhook_sign_headers(d->app->keyring, &s->w, now_s, s->batch.body,
	    s->batch.len, delivery, &sh) != 0) {
		s->inflight = 1;
		slot_settle(s, EGRESS_NO_ANSWER, -1);
		return;
	}
	s->inflight = 1;
	if (egress_post(d->app->egress, u.tls, u.host, u.port, u.path, sh.headers,
	    s->batch.body, s->batch.len, WEBHOOK_TIMEOUT_S, delivery_done, s,
	    &s->req) != 0)
		slot_settle(s, EGRESS_NO_ANSWER, -1);
}

static int
copy_sub(void *arg, const struct webhook *w)
{
	struct webhook_dispatcher *d = arg;
	struct webhook *grown;

	if ((grown = room_for_one(d->subs, &d->subs_cap, d->nsubs,
	    sizeof *grown)) == NULL)
		return SIGIL_ENOMEM;
	d->subs = grown;
	d->subs[d->nsubs++] = *w;
	return 0;
}

static void
sub_tick(struct webhook_dispatcher *d, const struct webhook *w, int64_t now)
{
	struct slot *s;
	struct webhook at;
	int rc;

	if (!w->active || (s = slot_find(d, w)) == NULL || s->inflight ||
	    s->saving || w->next_try > now)
		return;
	/* Start past what was already skipped in memory. */
	at = *w;
	if (at.scan_cursor < s->scan_seen)
		at.scan_cursor = s->scan_seen;
	if (at.activity_cursor < s->activity_seen)
		at.activity_cursor = s->activity_seen;
	webhook_batch_clear(&s->batch);
	if ((rc = webhook_batch_collect(d->app->store, d->app->cookie_key, &at,
	    WEBHOOK_BATCH_MAX, &s->batch)) != 0) {
		log_error("webhook_collect", "brand=%u id=%u err=%s",
		    w->brand_id, w->id, sigil_strerror(rc));
		return;
	}
	if (s->batch.n == 0) {
		s->scan_seen = s->batch.scan_cursor;
		s->activity_seen = s->batch.activity_cursor;
		/* An idle subscription writes its skips out rarely. */
		if ((s->scan_seen != w->scan_cursor ||
		    s->activity_seen != w->activity_cursor) &&
		    now - s->seen_saved >= (int64_t)WEBHOOK_SKIP_SAVE_S *
		    1000000) {
			at.scan_cursor = s->scan_seen;
			at.activity_cursor = s->activity_seen;
			s->seen_saved = now;
			slot_save(s, &at);
		}
		webhook_batch_clear(&s->batch);
		return;
	}
	s->w = *w;
	slot_send(s);
}

static void
tick(evutil_socket_t fd, short what, void *arg)
{
	struct webhook_dispatcher *d = arg;
	struct timeval tv = { 0, WEBHOOK_TICK_MS * 1000 };
	int64_t now = sigil_now_us();
	int rc;

	(void)fd;
	(void)what;
	d->nsubs = 0;
	if ((rc = store_webhook_each(d->app->store, copy_sub, d)) < 0)
		log_error("webhook_list", "err=%s", sigil_strerror(rc));
	for (size_t i = 0; i < d->nsubs; i++)
		sub_tick(d, &d->subs[i], now);
	evtimer_add(d->tick, &tv);
}

void
webhook_dispatcher_free(struct webhook_dispatcher *d)
{
	if (d == NULL)
		return;
	if (d->tick != NULL)
		event_free(d->tick);
	for (size_t i = 0; i < d->n; i++) {
		/* Frees a request in flight without calling it back: its
		 * events were not acknowledged and go out again later. */
		egress_cancel(d->slots[i]->req);
		webhook_batch_clear(&d->slots[i]->batch);
		free(d->slots[i]);
	}
	free(d->slots);
	free(d->subs);
	if (running == d)
		running = NULL;
	free(d);
}

int
webhook_dispatcher_start(struct app *app, struct webhook_dispatcher **out)
{
	struct webhook_dispatcher *d;
	struct timeval tv = { 0, WEBHOOK_TICK_MS * 1000 };
	int rc;

	/* Created now, so the first delivery never rewrites the keyring
	 * from inside the loop. */
	if ((rc = webhook_seal_ready(app->keyring)) != 0)
		return rc;
	rc = SIGIL_ENOMEM;
	if ((d = calloc(1, sizeof *d)) == NULL)
		return SIGIL_ENOMEM;
	d->app = app;
	if ((d->tick = evtimer_new(app->base, tick, d)) == NULL ||
	    evtimer_add(d->tick, &tv) != 0)
		goto fail;
	running = d;
	*out = d;
	return 0;
fail:
	webhook_dispatcher_free(d);
	return rc;
}

