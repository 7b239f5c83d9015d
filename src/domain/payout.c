/*
 * payout.c - the payout dispatcher: drives the payout outbox
 * (store/payouts.h) through WeChat Pay's merchant transfer API.
 *
 * Like message_dispatch.c it runs on sigild's event loop: a timer every
 * PAYOUT_TICK_MS (and a kick after each claim with cash) reads the due
 * rows (store_payout_due: PENDING or ACCEPTED, next_at passed) and takes
 * each that is not already in flight, at most PAYOUT_INFLIGHT_MAX at
 * once. A PENDING row is sent (transfer-bills create, payout_send.c);
 * an ACCEPTED one is asked after (query by out_bill_no). What the
 * verified answer says is settled by one writer op (payout_settle_op):
 *   a bill: ACCEPTED (WeChat took it: ACCEPTED, PROCESSING,
 *     WAIT_USER_CONFIRM, TRANSFERING; asked again in PAYOUT_QUERY_S,
 *     after its first hour in PAYOUT_QUERY_LATE_S),
 *     PAID (SUCCESS), FAILED (FAIL, CANCELLED: the store returns the
 *     amount to the budget in the same transaction);
 *   nothing known (no answer, a 5xx, a busy code, an answer whose
 *     signature does not verify): the row stays as it was, attempts + 1,
 *     due again after 1 s, 2 s, 4 s ... capped at PAYOUT_BACKOFF_MAX_S.
 *     A PENDING row is sent again with the same out_bill_no, which
 *     WeChat Pay takes as the same request: one bill, however many
 *     tries;
 *   a verified refusal (PARAM_ERROR, INVALID_REQUEST, NO_AUTH, ...):
 *     before anything is failed, the bill is asked after by its
 *     out_bill_no. An earlier try that got no answer may have made it
 *     (then the bill is settled as it stands); only a verified
 *     NOT_FOUND fails the row and returns its amount.
 * A PENDING row created more than PAYOUT_GIVE_UP_S ago is not sent any
 * more: it is asked after, and fails (returning its amount) once WeChat
 * Pay says no such bill exists. So the budget is only ever refunded for
 * a payout WeChat Pay has confirmed it will not pay: a failure that
 * could still pay is never assumed.
 *
 * The row stays in flight in memory until its settle is recorded, so
 * the next tick never takes it twice; after a kill -9 the rows in
 * flight are simply due again, and a create sent again is the same
 * bill. Nothing is written before a call, so an idle outbox costs no
 * writes.
 *
 * Owns the dispatcher (timer, flights), the payout counters and the
 * settle op. May call payout_send.c, payout_recon.c, store (reads),
 * writer, audit, log, util. Never writes to the store from the loop.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <jansson.h>

#include "sigil/app.h"
#include "sigil/audit.h"
#include "sigil/log.h"
#include "sigil/payout.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "sigil/writer.h"

#include "payout_impl.h"

enum step {
	STEP_CREATE = 1,	/* PENDING: transfer-bills */
	STEP_QUERY,		/* ACCEPTED: how is it going? */
	STEP_CONFIRM,		/* PENDING about to fail: is there a bill? */
};

struct flight {
	struct payout_dispatcher *d;	/* NULL once the dispatcher is gone */
	struct payout	p;		/* the row as taken */
	int		step;
	int		calling;	/* payout_send has it */
	char		why[PAYOUT_FAIL_MAX + 1];	/* CONFIRM: the refusal */
	struct payout_settle s;
	struct writer_job job;
};

struct payout_dispatcher {
	struct app	*app;
	struct event	*tick;
	struct flight	*flights[PAYOUT_INFLIGHT_MAX];
	size_t		nflights;
};

static struct payout_dispatcher *running;

/* The counters (/metrics). */
static uint64_t n_sent, n_paid, n_failed, n_retried, n_bad_sig;
static uint64_t n_callbacks, n_queried;

void
payout_count_settled(int state)
{
	if (state == PAYOUT_PAID)
		n_paid++;
	else if (state == PAYOUT_FAILED)
		n_failed++;
}

void
payout_count_bad_signature(void)
{
	n_bad_sig++;
}

void
payout_count_callback(void)
{
	n_callbacks++;
}

/* ---- the settle op ---- */

static int
settle_run(struct store *st, void *arg)
{
	return store_payout_settle(st, arg);
}

/* The brand's approve or reject, for the audit trail. */
static int
settle_audit(struct store *st, const void *arg, struct audit_entry *e,
    int after)
{
	const struct payout_settle *s = arg;
	const char *from = payout_state_name(s->from);
	const char *to = payout_state_name(s->state);

	(void)st;
	if (after)
		return 0;
	audit_target(e, "payout", "%llu", (unsigned long long)s->claim_id);
	audit_detail_set(e, json_pack("{s:s,s:s}", "from", from ? from : "",
	    "to", to ? to : ""));
	return 0;
}

const struct writer_op payout_settle_op = { "payout_settle", settle_run,
	settle_audit };

/* ---- the dispatcher ---- */

static void
flight_drop(struct flight *f)
{
	struct payout_dispatcher *d = f->d;

	for (size_t i = 0; d != NULL && i < d->nflights; i++)
		if (d->flights[i] == f) {
			d->flights[i] = d->flights[--d->nflights];
			break;
		}
	free(f);
}

static int
in_flight(struct payout_dispatcher *d, uint32_t brand_id, uint64_t claim_id)
{
	for (size_t i = 0; i < d->nflights; i++)
		if (d->flights[i]->p.brand_id == brand_id &&
		    d->flights[i]->p.claim_id == claim_id)
			return 1;
	return 0;
}

/* 1 s, 2 s, 4 s ... PAYOUT_BACKOFF_MAX_S, plus up to a quarter of
 * jitter so that a recovering WeChat Pay is not met by every row at
 * once. */
static int64_t
backoff_us(uint32_t attempts)
{
	uint32_t jitter = 0;

	(void)sigil_random(&jitter, sizeof jitter);
	return sigil_backoff_us(attempts, PAYOUT_BACKOFF_MAX_S, jitter);
}

static void
settled(struct writer_job *job)
{
	struct flight *f = job->arg;

	if (job->err == 0)
		payout_count_settled(f->s.state != f->p.state ? f->s.state : 0);
	else if (job->err != SIGIL_ECONFLICT)
		log_error("payout_settle", "brand=%u claim=%llu err=%s",
		    f->p.brand_id, (unsigned long long)f->p.claim_id,
		    sigil_strerror(job->err));
	/* ECONFLICT: the callback (or the brand) moved it meanwhile. */
	flight_drop(f);
}

/* Records f->s (filled in by the caller) through the writer. */
static void
settle(struct flight *f, const char *result)
{
	int rc;

	f->s.brand_id = f->p.brand_id;
	f->s.claim_id = f->p.claim_id;
	f->s.from = f->p.state;
	log_info("payout", "brand=%u claim=%llu out_bill_no=%s step=%s "
	    "result=%s state=%s wx_state=%s attempts=%u", f->p.brand_id,
	    (unsigned long long)f->p.claim_id, f->p.out_bill_no,
	    f->step == STEP_CREATE ? "create" : f->step == STEP_QUERY ?
	    "query" : "confirm", result, payout_state_name(f->s.state),
	    f->s.wx_state[0] ? f->s.wx_state : "-", f->s.attempts);
	memset(&f->job, 0, sizeof f->job);
	f->job.kind = WRITER_OP;
	f->job.op = &payout_settle_op;
	f->job.op_arg = &f->s;
	f->job.base = f->d->app->base;
	f->job.done = settled;
	f->job.arg = f;
	if ((rc = writer_submit(f->d->app->writer, &f->job)) != 0) {
		/* Shutting down or full: the row is due again later. */
		log_error("payout_settle", "brand=%u claim=%llu err=%s",
		    f->p.brand_id, (unsigned long long)f->p.claim_id,
		    sigil_strerror(rc));
		flight_drop(f);
	}
}

/* Nothing known: the same state, due again after the back-off. */
static void
retry(struct flight *f, const char *why)
{
	memset(&f->s, 0, sizeof f->s);
	f->s.state = f->p.state;
	f->s.attempts = f->p.attempts < UINT32_MAX ? f->p.attempts + 1 :
	    UINT32_MAX;
	f->s.next_at = sigil_now_us() + backoff_us(f->s.attempts);
	n_retried++;
	settle(f, why);
}

static void
fail(struct flight *f, const char *why)
{
	memset(&f->s, 0, sizeof f->s);
	f->s.state = PAYOUT_FAILED;
	f->s.attempts = f->p.attempts;
	snprintf(f->s.fail_reason, sizeof f->s.fail_reason, "%s", why);
	settle(f, why);
}

/*
 * When an accepted bill is asked after again: every PAYOUT_QUERY_S in
 * its first hour (the callback usually comes first), then every
 * PAYOUT_QUERY_LATE_S: a payee may take a day to confirm, and a brand
 * with thousands waiting must not spend WeChat Pay's rate limit on them.
 */
static int64_t
query_after_us(const struct payout *p, int64_t now)
{
	return (now - p->created < 3600 * 1000000LL ? PAYOUT_QUERY_S :
	    PAYOUT_QUERY_LATE_S) * 1000000LL;
}

/* A verified bill: settled as it stands, unless it contradicts the row. */
static void
bill(struct flight *f, const struct payout_answer *a)
{
	struct payout *p = &f->p;
	int64_t now = sigil_now_us();

	if (strcmp(a->out_bill_no, p->out_bill_no) != 0 ||
	    (a->fen >= 0 && a->fen != p->fen) ||
	    (p->bill_no[0] && a->bill_no[0] &&
	    strcmp(p->bill_no, a->bill_no) != 0)) {
		payout_mismatch_raise(f->d->app, p, strcmp(a->out_bill_no,
		    p->out_bill_no) != 0 ? "out_bill_no" : a->fen >= 0 &&
		    a->fen != p->fen ? "amount" : "bill_no", a->wx_state);
		retry(f, "mismatch");
		return;
	}
	memset(&f->s, 0, sizeof f->s);
	f->s.state = a->state;
	f->s.attempts = p->attempts;
	snprintf(f->s.bill_no, sizeof f->s.bill_no, "%s", a->bill_no);
	snprintf(f->s.wx_state, sizeof f->s.wx_state, "%s", a->wx_state);
	snprintf(f->s.package_info, sizeof f->s.package_info, "%s",
	    a->package_info);
	if (a->state == PAYOUT_ACCEPTED)
		f->s.next_at = now + query_after_us(p, now);
	else if (a->state == PAYOUT_PAID)
		f->s.paid_at = a->update_time > 0 ? a->update_time : now;
	else if (a->state == PAYOUT_FAILED)
		snprintf(f->s.fail_reason, sizeof f->s.fail_reason, "%s",
		    a->fail_reason[0] ? a->fail_reason : a->wx_state);
	settle(f, "bill");
}

static void
answered(void *arg, const struct payout_answer *a)
{
	struct flight *f = arg;
	int rc;

	f->calling = 0;
	if (f->d == NULL) {
		free(f);
		return;
	}
	if (a->status > 0 && !a->verified) {
		if (strcmp(a->code, "bad_signature") == 0)
			n_bad_sig++;
		log_warn("payout_answer", "brand=%u claim=%llu status=%d "
		    "code=%s msg=\"answer not verified: not believed\"",
		    f->p.brand_id, (unsigned long long)f->p.claim_id,
		    a->status, a->code);
	}
	switch (a->outcome) {
	case PAYOUT_OUT_BILL:
		bill(f, a);
		return;
	case PAYOUT_OUT_REFUSED:
		if (f->step == STEP_CREATE) {
			/* Before failing: did an earlier try make it? */
			f->step = STEP_CONFIRM;
			snprintf(f->why, sizeof f->why, "%s", a->code);
			f->calling = 1;
			if ((rc = payout_send_query(f->d->app, f->p.brand_id,
			    f->p.out_bill_no, answered, f)) != 0) {
				f->calling = 0;
				retry(f, sigil_strerror(rc));
			}
			return;
		}
		retry(f, a->code);
		return;
	case PAYOUT_OUT_NOT_FOUND:
		if (f->step == STEP_CONFIRM) {
			fail(f, f->why);
			return;
		}
		if (f->step == STEP_QUERY)
			/* We hold an accepted bill WeChat Pay does not know. */
			payout_mismatch_raise(f->d->app, &f->p,
			    "unknown_at_wechat", "NOT_FOUND");
		retry(f, "not_found");
		return;
	default:
		retry(f, a->code[0] ? a->code : "no_answer");
		return;
	}
}

static int
take_due(void *arg, const struct payout *p)
{
	struct payout_dispatcher *d = arg;
	struct flight *f;
	int rc;

	if (d->nflights == PAYOUT_INFLIGHT_MAX)
		return 1;
	if (in_flight(d, p->brand_id, p->claim_id))
		return 0;
	if ((f = calloc(1, sizeof *f)) == NULL)
		return SIGIL_ENOMEM;
	f->d = d;
	f->p = *p;
	d->flights[d->nflights++] = f;
	f->calling = 1;
	if (p->state == PAYOUT_ACCEPTED) {
		f->step = STEP_QUERY;
		n_queried++;
		rc = payout_send_query(d->app, p->brand_id, p->out_bill_no,
		    answered, f);
	} else if (sigil_now_us() - p->created >
	    PAYOUT_GIVE_UP_S * 1000000LL) {
		/* Tried long enough: fails once WeChat has no bill. */
		f->step = STEP_CONFIRM;
		snprintf(f->why, sizeof f->why, "gave_up");
		rc = payout_send_query(d->app, p->brand_id, p->out_bill_no,
		    answered, f);
	} else {
		f->step = STEP_CREATE;
		n_sent++;
		rc = payout_send_create(d->app, p, answered, f);
	}
	if (rc != 0) {
		f->calling = 0;
		retry(f, sigil_strerror(rc));
	}
	return 0;
}

static void
tick(evutil_socket_t fd, short what, void *arg)
{
	struct payout_dispatcher *d = arg;
	struct timeval tv = { PAYOUT_TICK_MS / 1000,
	    (PAYOUT_TICK_MS % 1000) * 1000 };
	int rc;

	(void)fd;
	(void)what;
	if (d->nflights < PAYOUT_INFLIGHT_MAX &&
	    (rc = store_payout_due(d->app->store, sigil_now_us(),
	    PAYOUT_INFLIGHT_MAX * 2, take_due, d)) < 0)
		log_error("payout_due", "err=%s", sigil_strerror(rc));
	payout_recon_daily(d->app);
	evtimer_add(d->tick, &tv);
}

void
payout_kick(struct app *app)
{
	struct payout_dispatcher *d = running;

	if (d != NULL && d->app == app)
		event_active(d->tick, EV_TIMEOUT, 0);
}

void
payout_dispatcher_free(struct payout_dispatcher *d)
{
	if (d == NULL)
		return;
	if (d->tick != NULL)
		event_free(d->tick);
	/*
	 * A flight with payout_send keeps its memory until it answers
	 * (egress_free drops the request without an answer: a small leak
	 * at exit, never a use after free); one with the writer is
	 * answered before this runs.
	 */
	for (size_t i = 0; i < d->nflights; i++) {
		d->flights[i]->d = NULL;
		if (!d->flights[i]->calling)
			free(d->flights[i]);
	}
	if (running == d)
		running = NULL;
	free(d);
}

int
payout_dispatcher_start(struct app *app, const char *api_url,
    struct payout_dispatcher **out)
{
	struct payout_dispatcher *d;
	struct timeval tv = { 0, 0 };
	int rc;

	if ((rc = payout_api_set(api_url != NULL ? api_url :
	    PAYOUT_API_DEFAULT)) != 0)
		return rc;
	if ((d = calloc(1, sizeof *d)) == NULL)
		return SIGIL_ENOMEM;
	d->app = app;
	if ((d->tick = evtimer_new(app->base, tick, d)) == NULL ||
	    evtimer_add(d->tick, &tv) != 0) {
		payout_dispatcher_free(d);
		return SIGIL_ENOMEM;
	}
	running = d;
	*out = d;
	return 0;
}

/* ---- metrics ---- */

static int
count_due(void *arg, const struct payout *p)
{
	(void)p;
	(*(uint64_t *)arg)++;
	return 0;
}

void
payout_metrics(struct app *app, struct evbuffer *b)
{
	int64_t oldest = 0, now = sigil_now_us();
	uint64_t pending = 0;
	double lag = 0;

	evbuffer_add_printf(b,
	    "# HELP sigil_payouts_sent_total Transfer requests sent to WeChat "
	    "Pay (first tries and retries).\n"
	    "# TYPE sigil_payouts_sent_total counter\n"
	    "sigil_payouts_sent_total %llu\n"
	    "# HELP sigil_payouts_paid_total Payouts recorded as paid.\n"
	    "# TYPE sigil_payouts_paid_total counter\n"
	    "sigil_payouts_paid_total %llu\n"
	    "# HELP sigil_payouts_failed_total Payouts failed for good (their "
	    "amount returned to the budget).\n"
	    "# TYPE sigil_payouts_failed_total counter\n"
	    "sigil_payouts_failed_total %llu\n"
	    "# HELP sigil_payouts_retried_total Calls that told nothing and "
	    "were scheduled again.\n"
	    "# TYPE sigil_payouts_retried_total counter\n"
	    "sigil_payouts_retried_total %llu\n"
	    "# HELP sigil_payouts_queried_total Queries of accepted bills.\n"
	    "# TYPE sigil_payouts_queried_total counter\n"
	    "sigil_payouts_queried_total %llu\n"
	    "# HELP sigil_payouts_callbacks_total Verified WeChat Pay "
	    "callbacks recorded.\n"
	    "# TYPE sigil_payouts_callbacks_total counter\n"
	    "sigil_payouts_callbacks_total %llu\n"
	    "# HELP sigil_payouts_bad_signatures_total WeChat Pay answers and "
	    "callbacks refused: their signature did not verify.\n"
	    "# TYPE sigil_payouts_bad_signatures_total counter\n"
	    "sigil_payouts_bad_signatures_total %llu\n",
	    (unsigned long long)n_sent, (unsigned long long)n_paid,
	    (unsigned long long)n_failed, (unsigned long long)n_retried,
	    (unsigned long long)n_queried, (unsigned long long)n_callbacks,
	    (unsigned long long)n_bad_sig);
	(void)store_payout_due(app->store, INT64_MAX, 1000000, count_due,
	    &pending);
	if (store_payout_oldest(app->store, &oldest) == 0 && oldest != 0 &&
	    oldest < now)
		lag = (double)(now - oldest) / 1e6;
	evbuffer_add_printf(b, "# HELP sigil_payouts_pending Payouts not yet "
	    "final (pending or accepted).\n"
	    "# TYPE sigil_payouts_pending gauge\n"
	    "sigil_payouts_pending %llu\n"
	    "# HELP sigil_payouts_lag_seconds How long the oldest due payout "
	    "has waited.\n"
	    "# TYPE sigil_payouts_lag_seconds gauge\n"
	    "sigil_payouts_lag_seconds %.3f\n", (unsigned long long)pending,
	    lag);
	payout_recon_metrics(b);
}
