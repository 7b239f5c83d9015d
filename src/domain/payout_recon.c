/*
 * payout_recon.c - reconciliation: a brand's payouts of one China day
 * asked after at WeChat Pay, one by one, and compared with our rows; a
 * contradiction raises the brand's payout_mismatch alert.
 *
 * For every payout created that day that may have reached WeChat Pay
 * (not HELD, not REJECTED), the bill is queried by its out_bill_no
 * (payout_send.c: signed, the answer verified) and set against the row
 * as it is when the answer comes (read again then, so that a row the
 * dispatcher or a callback settled meanwhile is judged as it now is):
 *   matched   WeChat Pay agrees: SUCCESS for PAID, FAIL or CANCELLED (or
 *             no bill at all) for FAILED, a bill in progress for
 *             ACCEPTED, no bill for a PENDING row not yet sent;
 *   behind    WeChat Pay is further along than the row (PENDING with a
 *             bill, ACCEPTED with a final bill): the dispatcher, which
 *             has those rows due, catches up by itself;
 *   mismatch  anything else: a PAID row whose bill did not succeed (or
 *             does not exist), a FAILED row whose bill is paying or
 *             paid (its amount went back to the budget: the budget is
 *             overspent by it), an amount or bill number that differs.
 * An answer that does not verify is an error, never a verdict.
 *
 * Runs on demand (payout_reconcile_start, the brand API) and daily at
 * 01:00 China time for the day before (payout_recon_daily, from the
 * dispatcher's tick). A day's rows are read once into a small array
 * (the fields compared, no openid), then asked after RECON_INFLIGHT at
 * a time, so a day of many payouts never floods WeChat Pay's
 * rate limit or the loop.
 *
 * Owns the running reconciliations and their counters. May call
 * payout_send.c, payout_settings.c, store (reads), writer (the alert),
 * loyalty_util (China days), log, util.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "sigil/app.h"
#include "sigil/log.h"
#include "sigil/loyalty_util.h"
#include "sigil/payout.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "sigil/writer.h"

#include "payout_impl.h"

#define RECON_INFLIGHT		4
#define RECON_HOUR_CN		1	/* the daily run: 01:00 China time */

/* What a reconciliation keeps of a row: its key. */
struct recon_row {
	uint64_t	claim_id;
	char		out_bill_no[PAYOUT_OUTNO_MAX + 1];
};

struct recon {
	struct app	*app;
	payout_recon_done done;
	void		*arg;
	struct recon_row *rows;
	size_t		 n, cap, next, inflight;
	size_t		 alerts;	/* alert writes not yet done */
	struct payout_recon r;
	struct recon	*next_running;
};

static struct recon *running;
static int64_t daily_done;	/* the China day whose run was started */
static uint64_t n_runs, n_checked, n_mismatched;

/* ---- the alert ---- */

struct mismatch_job {
	struct writer_job job;
	struct recon	*x;		/* waits for it, or NULL */
	uint32_t	brand_id;
	uint64_t	serial;
	int64_t		at;
};

static int
mismatch_run(struct store *st, void *arg)
{
	struct mismatch_job *m = arg;

	return store_alert_payout_mismatch(st, m->brand_id, m->serial, m->at);
}

static const struct writer_op op_payout_mismatch = { "payout_mismatch",
	mismatch_run };

static void maybe_end(struct recon *x);

static void
mismatch_done(struct writer_job *job)
{
	struct mismatch_job *m = job->arg;
	struct recon *x = m->x;

	if (job->err != 0)
		log_error("payout_mismatch", "brand=%u serial=%llu err=%s",
		    m->brand_id, (unsigned long long)m->serial,
		    sigil_strerror(job->err));
	free(m);
	if (x != NULL) {
		x->alerts--;
		maybe_end(x);
	}
}

/* The alert for p; x, when not NULL, ends only once it is written. */
static void
raise_alert(struct app *app, struct recon *x, const struct payout *p,
    const char *what, const char *theirs)
{
	struct mismatch_job *m;

	log_warn("payout_mismatch", "brand=%u claim=%llu out_bill_no=%s "
	    "what=%s ours=%s theirs=%s fen=%lld", p->brand_id,
	    (unsigned long long)p->claim_id, p->out_bill_no, what,
	    payout_state_name(p->state), theirs[0] ? theirs : "-",
	    (long long)p->fen);
	n_mismatched++;
	if ((m = calloc(1, sizeof *m)) == NULL)
		return;
	m->brand_id = p->brand_id;
	m->serial = p->serial;
	m->at = sigil_now_us();
	m->job.kind = WRITER_OP;
	m->job.op = &op_payout_mismatch;
	m->job.op_arg = m;
	m->job.base = app->base;
	m->job.done = mismatch_done;
	m->job.arg = m;
	m->x = x;
	if (writer_submit(app->writer, &m->job) != 0) {
		log_error("payout_mismatch", "brand=%u serial=%llu err=busy",
		    p->brand_id, (unsigned long long)p->serial);
		free(m);
		return;
	}
	if (x != NULL)
		x->alerts++;
}

void
payout_mismatch_raise(struct app *app, const struct payout *p,
    const char *what, const char *theirs)
{
	raise_alert(app, NULL, p, what, theirs);
}

/* ---- one reconciliation ---- */

static void
recon_end(struct recon *x)
{
	struct recon **pp;

	for (pp = &running; *pp != NULL; pp = &(*pp)->next_running)
		if (*pp == x) {
			*pp = x->next_running;
			break;
		}
	log_info("payout_recon", "brand=%u day=%lld checked=%u matched=%u "
	    "behind=%u mismatched=%u errors=%u", x->r.brand_id,
	    (long long)x->r.day, x->r.checked, x->r.matched, x->r.behind,
	    x->r.mismatched, x->r.errors);
	n_runs++;
	if (x->done != NULL)
		x->done(x->arg, 0, &x->r);
	free(x->rows);
	free(x);
}

static void
listed(struct recon *x, const struct payout *p, const char *what,
    const char *theirs)
{
	struct payout_mismatch *m;

	x->r.mismatched++;
	raise_alert(x->app, x, p, what, theirs);
	if (x->r.nlist == PAYOUT_RECON_LIST_MAX)
		return;
	m = &x->r.list[x->r.nlist++];
	m->claim_id = p->claim_id;
	snprintf(m->what, sizeof m->what, "%s", what);
	snprintf(m->ours, sizeof m->ours, "%s", payout_state_name(p->state));
	snprintf(m->theirs, sizeof m->theirs, "%s", theirs);
}

/* Judges the verified bill a against the row p as it is now. */
static void
judge(struct recon *x, const struct payout *p, const struct payout_answer *a)
{
	if (a->outcome == PAYOUT_OUT_NOT_FOUND) {
		if (p->state == PAYOUT_PAID || p->state == PAYOUT_ACCEPTED)
			listed(x, p, "unknown_at_wechat", "NOT_FOUND");
		else
			x->r.matched++;
		return;
	}
	if (strcmp(a->out_bill_no, p->out_bill_no) != 0) {
		listed(x, p, "out_bill_no", a->wx_state);
		return;
	}
	if (a->fen >= 0 && a->fen != p->fen) {
		listed(x, p, "amount", a->wx_state);
		return;
	}
	if (p->bill_no[0] && a->bill_no[0] && strcmp(p->bill_no,
	    a->bill_no) != 0) {
		listed(x, p, "bill_no", a->wx_state);
		return;
	}
	switch (p->state) {
	case PAYOUT_PENDING:
		x->r.behind++;
		return;
	case PAYOUT_ACCEPTED:
		if (a->state == PAYOUT_ACCEPTED)
			x->r.matched++;
		else
			x->r.behind++;
		return;
	default:
		/* PAID, FAILED: final, WeChat Pay must say the same. */
		if (a->state == p->state)
			x->r.matched++;
		else
			listed(x, p, "state", a->wx_state);
		return;
	}
}

static void pump(struct recon *x);

struct ask {
	struct recon	*x;
	uint64_t	 claim_id;
};

static void
asked(void *arg, const struct payout_answer *a)
{
	struct ask *q = arg;
	struct recon *x = q->x;
	struct payout p;
	int rc;

	x->inflight--;
	x->r.checked++;
	n_checked++;
	if (a->outcome != PAYOUT_OUT_BILL &&
	    a->outcome != PAYOUT_OUT_NOT_FOUND)
		x->r.errors++;
	else if ((rc = store_payout_get(x->app->store, x->r.brand_id,
	    q->claim_id, &p)) != 0)
		x->r.errors++;
	else
		judge(x, &p, a);
	free(q);
	pump(x);
}

/* Asks after the next rows, up to RECON_INFLIGHT; ends when all are in. */
static void
pump(struct recon *x)
{
	struct ask *q;

	while (x->inflight < RECON_INFLIGHT && x->next < x->n) {
		const struct recon_row *row = &x->rows[x->next++];

		if ((q = calloc(1, sizeof *q)) == NULL) {
			x->r.errors++;
			continue;
		}
		q->x = x;
		q->claim_id = row->claim_id;
		x->inflight++;
		if (payout_send_query(x->app, x->r.brand_id, row->out_bill_no,
		    asked, q) != 0) {
			x->inflight--;
			x->r.errors++;
			free(q);
		}
	}
	maybe_end(x);
}

/* Ends x once every row is judged and every alert written: the caller
 * then finds the alerts its answer names. */
static void
maybe_end(struct recon *x)
{
	if (x->inflight == 0 && x->next == x->n && x->alerts == 0)
		recon_end(x);
}

static int
take_row(void *arg, const struct payout *p)
{
	struct recon *x = arg;
	struct recon_row *grown;

	if (p->state == PAYOUT_HELD || p->state == PAYOUT_REJECTED)
		return 0;
	if (x->n == x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 64;

		if ((grown = realloc(x->rows, cap * sizeof *grown)) == NULL)
			return SIGIL_ENOMEM;
		x->rows = grown;
		x->cap = cap;
	}
	x->rows[x->n].claim_id = p->claim_id;
	memcpy(x->rows[x->n].out_bill_no, p->out_bill_no,
	    sizeof x->rows[x->n].out_bill_no);
	x->n++;
	return 0;
}

static void
begin(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	pump(arg);
}

int
payout_reconcile_start(struct app *app, uint32_t brand_id, int64_t day,
    payout_recon_done done, void *arg)
{
	const struct timeval zero = { 0, 0 };
	struct payout_settings set;
	struct payout_filter f = { 0 };
	struct recon *x;
	int rc;

	for (x = running; x != NULL; x = x->next_running)
		if (x->r.brand_id == brand_id)
			return SIGIL_EBUSY;
	if ((rc = payout_settings_load(app, brand_id, &set)) != 0)
		return rc == SIGIL_EINVAL ? SIGIL_ENOTFOUND : rc;
	if ((x = calloc(1, sizeof *x)) == NULL)
		return SIGIL_ENOMEM;
	x->app = app;
	x->done = done;
	x->arg = arg;
	x->r.brand_id = brand_id;
	x->r.day = day;
	f.since = day * US_PER_DAY - CN_OFFSET_US;
	f.until = f.since + US_PER_DAY;
	if ((rc = store_payout_each(app->store, brand_id, &f, take_row,
	    x)) < 0) {
		free(x->rows);
		free(x);
		return rc;
	}
	/* done is never called from inside this call: the first asks
	 * leave on the loop's next turn. */
	if (event_base_once(app->base, -1, EV_TIMEOUT, begin, x, &zero) != 0) {
		free(x->rows);
		free(x);
		return SIGIL_ENOMEM;
	}
	x->next_running = running;
	running = x;
	return 0;
}

/* ---- daily ---- */

static int
daily_brand(void *arg, const struct brand *b)
{
	struct app *app = arg;
	int rc;

	rc = payout_reconcile_start(app, b->id, daily_done - 1, NULL, NULL);
	if (rc != 0 && rc != SIGIL_ENOTFOUND)
		log_error("payout_recon", "brand=%u day=%lld err=%s", b->id,
		    (long long)(daily_done - 1), sigil_strerror(rc));
	return 0;
}

void
payout_recon_daily(struct app *app)
{
	int64_t now = sigil_now_us(), today = loyalty_day(now);

	if (today <= daily_done || now < loyalty_day_start(now) +
	    RECON_HOUR_CN * 3600 * US_PER_S)
		return;
	daily_done = today;
	(void)store_brand_each(app->store, daily_brand, app);
}

void
payout_recon_metrics(struct evbuffer *b)
{
	evbuffer_add_printf(b,
	    "# HELP sigil_payouts_reconciliations_total Reconciliations run "
	    "(daily and on demand).\n"
	    "# TYPE sigil_payouts_reconciliations_total counter\n"
	    "sigil_payouts_reconciliations_total %llu\n"
	    "# HELP sigil_payouts_reconciled_total Payouts asked after at "
	    "WeChat Pay by reconciliations.\n"
	    "# TYPE sigil_payouts_reconciled_total counter\n"
	    "sigil_payouts_reconciled_total %llu\n"
	    "# HELP sigil_payouts_mismatches_total Payouts WeChat Pay's "
	    "records contradicted (payout_mismatch alerts raised).\n"
	    "# TYPE sigil_payouts_mismatches_total counter\n"
	    "sigil_payouts_mismatches_total %llu\n",
	    (unsigned long long)n_runs, (unsigned long long)n_checked,
	    (unsigned long long)n_mismatched);
}
