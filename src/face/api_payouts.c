/*
 * api_payouts.c - the brand API of cash rewards (issue 22): the payouts
 * the claims' cash prizes made, the hold queue, each campaign's cash,
 * the daily statement and reconciliation:
 *
 *   GET  /api/v1/payouts                 ?campaign=&state=&customer=&date=
 *                                        &limit=&before= (newest first)
 *   GET  /api/v1/payouts/{claim_id}
 *   POST /api/v1/payouts/{claim_id}/approve   HELD -> PENDING (admin)
 *   POST /api/v1/payouts/{claim_id}/reject    HELD -> REJECTED (admin),
 *                                        its amount back in the budget
 *   GET  /api/v1/campaigns/{id}/cash     budget, reserved, by state
 *   GET  /api/v1/payouts/cash            the same for every cash campaign
 *   GET  /api/v1/payouts/statement       ?date=&campaign=[&format=csv]
 *   GET  /api/v1/payouts/statement.csv   the same as a file
 *   POST /api/v1/payouts/reconcile       ?date= : payout_recon.c's walk
 *
 * Approve and reject are payout.c's settle op (payout_settle_op) through
 * http_write, so the writer checks the row is still HELD in the
 * transaction that moves it (a decision on a row that moved meanwhile
 * is 409, never applied twice; the store answers a repeat of the same
 * move as done) and the audit trail records the caller.
 *
 * The statement is a China day (UTC+8: the day WeChat Pay's bills and
 * the cash caps count in) of one campaign's payouts, or every
 * campaign's, by creation time. The reconciliation's answer waits for
 * its walk (a query per bill at WeChat Pay, a few at once). Its CSV has the columns of WeChat Pay's
 * transfer bill (商户单号, 微信转账单号, 转账金额(元), 状态, ...; see
 * docs/payments.md), the bill numbers prefixed with ` as WeChat's own
 * bill files do so that a spreadsheet keeps every digit, then ours. It
 * is built on a worker (http_job_read): a busy day's payouts are many.
 *
 * An openid is never shown whole: the first and last four characters.
 *
 * A handler file: may call payout.c (the settle op, the kick, the
 * reconciliation), the store (reads), http, http_api.c, http_write and
 * http_job; never another handler, never a write on the loop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <jansson.h>

#include "sigil/api.h"
#include "sigil/app.h"
#include "sigil/audit.h"
#include "sigil/http.h"
#include "sigil/http_job.h"
#include "sigil/http_write.h"
#include "sigil/loyalty_util.h"
#include "sigil/payout.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "sigil/writer.h"

#define PAYOUTS_LIST_MAX	1000
#define STATEMENT_MAX		100000	/* rows of one day's statement */
#define CHINA_OFFSET_S		(8 * 3600)

/* "o1AB****wxYZ": an openid as the API and the files show it. */
static void
openid_mask(const char *id, char out[16])
{
	size_t n = strlen(id);

	if (n == 0)
		out[0] = '\0';
	else if (n <= 8)
		snprintf(out, 16, "****");
	else
		snprintf(out, 16, "%.4s****%s", id, id + n - 4);
}

/* fen as yuan with two decimals: "12.34". */
static void
yuan(int64_t fen, char out[32])
{
	snprintf(out, 32, "%s%lld.%02lld", fen < 0 ? "-" : "",
	    (long long)(fen < 0 ? -fen : fen) / 100,
	    (long long)(fen < 0 ? -fen : fen) % 100);
}

/* us as China time "2026-01-31 09:05:00", as WeChat's bills write it;
 * "" for 0. */
static void
china_time(int64_t us, char out[24])
{
	time_t t = (time_t)(us / 1000000) + CHINA_OFFSET_S;
	struct tm tm;

	if (us <= 0 || gmtime_r(&t, &tm) == NULL ||
	    strftime(out, 24, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		out[0] = '\0';
}

static json_t *
time_or_null(int64_t us)
{
	char t[SIGIL_TIME_LEN + 1];

	return us > 0 ? json_string(sigil_time_format(us, t)) : json_null();
}

/* The reasons "a,b,c" as ["a","b","c"]. */
static json_t *
reasons_json(const char *s)
{
	json_t *arr = json_array();
	char one[PAYOUT_REASONS_MAX + 1];
	const char *p = s, *e;

	while (arr != NULL && *p != '\0') {
		e = strchr(p, ',');
		if (e == NULL)
			e = p + strlen(p);
		if (e > p && (size_t)(e - p) < sizeof one) {
			memcpy(one, p, (size_t)(e - p));
			one[e - p] = '\0';
			json_array_append_new(arr, json_string(one));
		}
		p = *e == ',' ? e + 1 : e;
	}
	return arr;
}

static json_t *
payout_json(const struct payout *p)
{
	char oid[16], y[32];

	openid_mask(p->openid, oid);
	yuan(p->fen, y);
	return json_pack("{s:I,s:i,s:I,s:I,s:I,s:s,s:s,s:s?,s:i,s:i,s:o,"
	    "s:s,s:s?,s:s?,s:s?,s:s,s:o,s:o,s:o,s:o,s:o}",
	    "claim_id", (json_int_t)p->claim_id, "campaign_id",
	    (int)p->campaign_id, "customer_id", (json_int_t)p->customer_id,
	    "serial", (json_int_t)p->serial, "fen", (json_int_t)p->fen,
	    "yuan", y, "state", payout_state_name(p->state) ?
	    payout_state_name(p->state) : "unknown", "wx_state",
	    p->wx_state[0] ? p->wx_state : NULL, "attempts",
	    (int)p->attempts, "score", (int)p->score, "reasons",
	    reasons_json(p->reasons), "out_bill_no", p->out_bill_no,
	    "bill_no", p->bill_no[0] ? p->bill_no : NULL, "fail_reason",
	    p->fail_reason[0] ? p->fail_reason : NULL, "openid",
	    oid[0] ? oid : NULL, "appid", p->appid, "created",
	    time_or_null(p->created), "updated", time_or_null(p->updated),
	    "paid_at", time_or_null(p->paid_at), "next_at",
	    p->state == PAYOUT_PENDING || p->state == PAYOUT_ACCEPTED ?
	    time_or_null(p->next_at) : json_null(), "decided_by",
	    p->decided_by ? json_integer((json_int_t)p->decided_by) :
	    json_null());
}

/* ---- the filters the list and the statement share ---- */

/*
 * ?date=YYYY-MM-DD as the China day [since, until): 1, 0 when absent,
 * -1 after replying 400.
 */
static int
query_day(struct api_call *a, int64_t *since, int64_t *until)
{
	int got;

	if ((got = api_query_bound(a, "date", 8 * 60, 0, since)) <= 0)
		return got;
	if (api_query_bound(a, "date", 8 * 60, 1, until) < 0)
		return -1;
	if (*until <= *since) {
		api_fail(a, 400, "bad_query", "date must be a day, "
		    "YYYY-MM-DD");
		return -1;
	}
	return 1;
}

/* ?campaign= ?state= ?customer= ?date= into f: 0, or -1 after 400. */
static int
query_filter(struct api_call *a, struct payout_filter *f)
{
	uint64_t campaign = 0;
	char s[16];
	int has;

	memset(f, 0, sizeof *f);
	if (api_query_id(a, "campaign", UINT32_MAX, &campaign) != 0 ||
	    api_query_id(a, "customer", UINT64_MAX, &f->customer_id) != 0)
		return -1;
	f->campaign_id = (uint32_t)campaign;
	if ((has = api_query_arg(a, "state", s, sizeof s)) < 0)
		return -1;
	if (has && (f->state = payout_state_parse(s)) == 0) {
		api_fail(a, 400, "bad_query", "state must be held, pending, "
		    "accepted, paid, failed or rejected");
		return -1;
	}
	return query_day(a, &f->since, &f->until) < 0 ? -1 : 0;
}

/* ---- GET payouts ---- */

struct list_ctx {
	json_t		*arr;
	size_t		 limit;
	uint64_t	 before;
	int		 more;
};

static int
list_one(void *arg, const struct payout *p)
{
	struct list_ctx *l = arg;

	if (l->before != 0 && p->claim_id >= l->before)
		return 0;
	if (json_array_size(l->arr) >= l->limit) {
		l->more = 1;
		return 1;
	}
	return json_array_append_new(l->arr, payout_json(p)) != 0 ?
	    SIGIL_ENOMEM : 0;
}

void
api_payouts_list(struct api_call *a)
{
	struct list_ctx l = { NULL, 100, 0, 0 };
	struct payout_filter f;
	size_t n;
	json_t *next;
	int rc;

	if (api_page_back(a, 100, PAYOUTS_LIST_MAX, &l.limit, &l.before) !=
	    0 || query_filter(a, &f) != 0)
		return;
	if ((l.arr = json_array()) == NULL || (rc = store_payout_each(
	    a->app->store, a->brand.id, &f, list_one, &l)) < 0) {
		json_decref(l.arr);
		api_fail(a, 503, "unavailable", "could not list payouts");
		return;
	}
	n = json_array_size(l.arr);
	next = l.more && n > 0 ? json_incref(json_object_get(
	    json_array_get(l.arr, n - 1), "claim_id")) : json_null();
	http_add_header(a->c, "Cache-Control", "no-store");
	api_reply(a, 200, json_pack("{s:o,s:o}", "payouts", l.arr, "next",
	    next));
}

/* ---- GET payouts/{claim_id} ---- */

/* The brand's payout of segment 1: 0, or -1 after 404 / 503. */
static int
payout_of_call(struct api_call *a, struct payout *p)
{
	uint64_t id;
	int rc;

	if (api_parse_id(a->seg[1], UINT64_MAX, &id) != 0) {
		api_fail(a, 404, "not_found", "no such payout");
		return -1;
	}
	if ((rc = store_payout_get(a->app->store, a->brand.id, id, p)) != 0) {
		api_store_fail(a, rc, "payout");
		return -1;
	}
	return 0;
}

void
api_payouts_get(struct api_call *a)
{
	struct payout p;

	if (payout_of_call(a, &p) != 0)
		return;
	http_add_header(a->c, "Cache-Control", "no-store");
	api_reply(a, 200, payout_json(&p));
}

/* ---- POST payouts/{claim_id}/approve and /reject ---- */

/* The decision on its way to the writer, and the store to answer from. */
struct decide {
	struct payout_settle	 s;
	struct store		*st;
};

static void
decided(struct http_call *c, void *arg, int err)
{
	struct decide *d = arg;
	struct payout p;

	if (err == SIGIL_ESTATE || err == SIGIL_ECONFLICT) {
		http_reply_error(c, 409, "not_held", "this payout is no longer "
		    "held: it was decided already");
		return;
	}
	if (err != 0) {
		api_write_fail(c, err, "payout");
		return;
	}
	if (store_payout_get(d->st, d->s.brand_id, d->s.claim_id, &p) != 0) {
		api_write_fail(c, SIGIL_EIO, "payout");
		return;
	}
	/* An approved payout is due now: the dispatcher need not wait for
	 * its next tick. */
	if (p.state == PAYOUT_PENDING)
		payout_kick(c->app);
	http_reply_jsont(c, 200, payout_json(&p));
}

static void
decide(struct api_call *a, int to)
{
	struct decide d;
	struct payout p;
	const char *key;
	json_t *v;

	if (payout_of_call(a, &p) != 0)
		return;
	memset(&d, 0, sizeof d);
	/* A body is optional: {"reason": "..."} on a reject, none else. */
	if (evbuffer_get_length(evhttp_request_get_input_buffer(a->c->req)) >
	    0) {
		if (api_body(a) != 0)
			return;
		json_object_foreach(a->body, key, v) {
			if (strcmp(key, "reason") != 0 || to !=
			    PAYOUT_REJECTED) {
				api_fail(a, 422, "invalid", to ==
				    PAYOUT_REJECTED ? "a reject takes only "
				    "\"reason\"" : "an approve takes no body");
				return;
			}
		}
		if (api_field_str(a, "reason", PAYOUT_FAIL_MAX, 0,
		    d.s.fail_reason, sizeof d.s.fail_reason) != 0)
			return;
	}
	if (p.state != PAYOUT_HELD) {
		api_fail(a, 409, "not_held", "only a held payout can be "
		    "approved or rejected");
		return;
	}
	d.s.brand_id = a->brand.id;
	d.s.claim_id = p.claim_id;
	d.s.from = PAYOUT_HELD;
	d.s.state = to;
	if (to == PAYOUT_REJECTED && d.s.fail_reason[0] == '\0')
		snprintf(d.s.fail_reason, sizeof d.s.fail_reason,
		    "rejected by the brand");
	/* The dashboard user who decided; a token's decision is named by
	 * the audit trail alone. */
	d.s.decided_by = a->c->who.kind == AUDIT_ACTOR_USER ? a->c->who.id :
	    0;
	d.st = a->app->store;
	http_write(a->c, &payout_settle_op, &d, sizeof d, decided);
}

void
api_payouts_approve(struct api_call *a)
{
	decide(a, PAYOUT_PENDING);
}

void
api_payouts_reject(struct api_call *a)
{
	decide(a, PAYOUT_REJECTED);
}

/* ---- GET campaigns/{id}/cash ---- */

/* The campaign's "cash": {"budget_fen"} as its configuration says (0:
 * no cash), and its name. */
static int64_t
config_budget(const char *config, char *name, size_t size)
{
	json_t *o = json_loads(config != NULL ? config : "", 0, NULL);
	json_t *b = json_object_get(json_object_get(o, "cash"),
	    "budget_fen");
	int64_t fen = json_is_integer(b) ? json_integer_value(b) : 0;

	snprintf(name, size, "%s", json_string_value(json_object_get(o,
	    "name")) ? json_string_value(json_object_get(o, "name")) : "");
	json_decref(o);
	return fen;
}

static json_t *
api_cash_json(struct store *st, uint32_t brand_id, const struct campaign *cp)
{
	struct cash_usage u;
	char name[256];
	int64_t budget = config_budget(cp->config, name, sizeof name);
	json_t *states;

	if (store_cash_usage(st, brand_id, cp->id, &u) != 0)
		memset(&u, 0, sizeof u);
	if ((states = json_object()) == NULL)
		return NULL;
	for (int s = PAYOUT_HELD; s < PAYOUT_STATES; s++)
		json_object_set_new(states, payout_state_name(s), json_pack(
		    "{s:I,s:I}", "count", (json_int_t)u.count[s], "fen",
		    (json_int_t)u.fen[s]));
	return json_pack("{s:i,s:s,s:I,s:I,s:I,s:o}", "campaign_id",
	    (int)cp->id, "name", name, "budget_fen", (json_int_t)budget,
	    "reserved_fen", (json_int_t)u.reserved_fen, "remaining_fen",
	    (json_int_t)(budget > u.reserved_fen ? budget - u.reserved_fen :
	    0), "states", states);
}

void
api_campaign_cash(struct api_call *a)
{
	struct campaign cp;
	uint64_t id;
	json_t *o;
	int rc;

	if (api_parse_id(a->seg[1], UINT32_MAX, &id) != 0) {
		api_fail(a, 404, "not_found", "campaign not found");
		return;
	}
	if ((rc = store_campaign_get(a->app->store, a->brand.id,
	    (uint32_t)id, &cp)) != 0) {
		api_store_fail(a, rc, "campaign");
		return;
	}
	o = api_cash_json(a->app->store, a->brand.id, &cp);
	store_campaign_clear(&cp);
	http_add_header(a->c, "Cache-Control", "no-store");
	api_reply(a, 200, o);
}

struct cash_all {
	struct store	*st;
	uint32_t	 brand_id;
	json_t		*arr;
};

static int
cash_one(void *arg, const struct campaign *cp)
{
	struct cash_all *c = arg;
	json_t *o = api_cash_json(c->st, c->brand_id, cp);

	/* Only the campaigns that pay cash, or once did. */
	if (json_integer_value(json_object_get(o, "budget_fen")) > 0 ||
	    json_integer_value(json_object_get(o, "reserved_fen")) > 0)
		return api_list_add(c->arr, o);
	json_decref(o);
	return 0;
}

/* GET payouts/cash: every cash campaign's, for the dashboard. */
void
api_payouts_cash(struct api_call *a)
{
	struct cash_all c = { a->app->store, a->brand.id, json_array() };
	int rc = store_campaign_each(a->app->store, a->brand.id, cash_one,
	    &c);

	http_add_header(a->c, "Cache-Control", "no-store");
	api_reply_list(a, "campaigns", c.arr, rc < 0 ? rc : 0);
}

/* ---- GET payouts/statement (JSON or CSV) ---- */

struct statement {
	struct http_call	*c;
	struct store		*st;
	uint32_t		 brand_id;
	struct payout_filter	 f;
	char			 date[11];
	int			 csv, zh;
	int			 err, truncated;
	size_t			 n;
	struct payout		*v;
	size_t			 cap;
};

static int
statement_one(void *arg, const struct payout *p)
{
	struct statement *s = arg;
	struct payout *nv;

	if (s->n == STATEMENT_MAX) {
		s->truncated = 1;
		return 1;
	}
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		if ((nv = realloc(s->v, s->cap * sizeof *nv)) == NULL)
			return SIGIL_ENOMEM;
		s->v = nv;
	}
	s->v[s->n++] = *p;
	return 0;
}

static void
statement_work(void *arg)
{
	struct statement *s = arg;
	int rc = store_payout_each(s->st, s->brand_id, &s->f, statement_one,
	    s);

	s->err = rc < 0 ? rc : 0;
}

/* The statement's columns: WeChat Pay's transfer bill first, then ours. */
#define STATEMENT_COLS	12
static const char *const statement_head[2][STATEMENT_COLS] = {
	{ "out_bill_no", "transfer_bill_no", "transfer_amount_yuan", "state",
	    "openid", "create_time", "update_time", "fail_reason",
	    "sigil_state", "claim_id", "campaign_id", "customer_id" },
	{ "商户单号", "微信转账单号", "转账金额(元)", "状态",
	    "收款用户OpenID", "创建时间", "更新时间", "失败原因",
	    "本地状态", "领取编号", "活动编号", "会员编号" },
};

/* A bill number as WeChat's bill files write it: ` before the digits. */
static void
csv_billno(struct evbuffer *b, const char *no)
{
	char v[PAYOUT_BILLNO_MAX + 2];

	if (no[0] == '\0')
		http_csv_cell(b, "", 0);
	else {
		snprintf(v, sizeof v, "`%s", no);
		http_csv_cell(b, v, 0);
	}
}

static void
statement_csv(struct statement *s)
{
	struct evbuffer *b = evbuffer_new();
	char y[32], t1[24], t2[24], oid[16], n1[24], n2[24], n3[24];
	char name[64];

	if (b == NULL) {
		http_reply_error(s->c, 503, "unavailable", "out of memory");
		return;
	}
	evbuffer_add(b, "\xef\xbb\xbf", 3);
	for (int i = 0; i < STATEMENT_COLS; i++)
		http_csv_cell(b, statement_head[s->zh][i],
		    i == STATEMENT_COLS - 1);
	for (size_t i = 0; i < s->n; i++) {
		const struct payout *p = &s->v[i];

		yuan(p->fen, y);
		china_time(p->created, t1);
		china_time(p->paid_at ? p->paid_at : p->updated, t2);
		openid_mask(p->openid, oid);
		snprintf(n1, sizeof n1, "%llu", (unsigned long long)p->claim_id);
		snprintf(n2, sizeof n2, "%u", p->campaign_id);
		snprintf(n3, sizeof n3, "%llu",
		    (unsigned long long)p->customer_id);
		csv_billno(b, p->out_bill_no);
		csv_billno(b, p->bill_no);
		http_csv_cell(b, y, 0);
		http_csv_cell(b, p->wx_state, 0);
		http_csv_cell(b, oid, 0);
		http_csv_cell(b, t1, 0);
		http_csv_cell(b, t2, 0);
		http_csv_cell(b, p->fail_reason, 0);
		http_csv_cell(b, payout_state_name(p->state), 0);
		http_csv_cell(b, n1, 0);
		http_csv_cell(b, n2, 0);
		http_csv_cell(b, n3, 1);
	}
	if (s->f.campaign_id != 0)
		snprintf(name, sizeof name, "attachment; filename=\"payouts-"
		    "%.10s-c%u.csv\"", s->date, s->f.campaign_id);
	else
		snprintf(name, sizeof name, "attachment; filename=\"payouts-"
		    "%.10s.csv\"", s->date);
	http_add_header(s->c, "Content-Disposition", name);
	http_add_header(s->c, "Cache-Control", "no-store");
	http_reply(s->c, 200, "text/csv; charset=utf-8", b);
	evbuffer_free(b);
}

static void
statement_json(struct statement *s)
{
	int64_t count[PAYOUT_STATES] = { 0 }, fen[PAYOUT_STATES] = { 0 };
	int64_t total = 0;
	json_t *rows = json_array(), *by = json_object();

	for (size_t i = 0; i < s->n; i++) {
		const struct payout *p = &s->v[i];

		json_array_append_new(rows, payout_json(p));
		total += p->fen;
		if (p->state > 0 && p->state < PAYOUT_STATES) {
			count[p->state]++;
			fen[p->state] += p->fen;
		}
	}
	for (int st = PAYOUT_HELD; st < PAYOUT_STATES; st++)
		json_object_set_new(by, payout_state_name(st), json_pack(
		    "{s:I,s:I}", "count", (json_int_t)count[st], "fen",
		    (json_int_t)fen[st]));
	http_add_header(s->c, "Cache-Control", "no-store");
	http_reply_jsont(s->c, 200, json_pack("{s:s,s:o,s:s,s:I,s:I,s:o,s:b,"
	    "s:o}", "date", s->date, "campaign_id", s->f.campaign_id ?
	    json_integer(s->f.campaign_id) : json_null(), "zone", "+08:00",
	    "count", (json_int_t)s->n, "total_fen", (json_int_t)total,
	    "states", by, "truncated", s->truncated, "payouts", rows));
}

static void
statement_done(void *arg)
{
	struct statement *s = arg;

	if (s->err != 0)
		api_write_fail(s->c, s->err, "statement");
	else if (s->csv)
		statement_csv(s);
	else
		statement_json(s);
	free(s->v);
	free(s);
}

static void
statement_start(struct api_call *a, int csv)
{
	struct statement *s;
	char fmt[8] = "", lang[8] = "";
	int has;

	if ((s = calloc(1, sizeof *s)) == NULL) {
		api_fail(a, 503, "unavailable", "out of memory");
		return;
	}
	if (query_filter(a, &s->f) != 0 ||
	    api_query_arg(a, "format", fmt, sizeof fmt) < 0 ||
	    api_query_arg(a, "lang", lang, sizeof lang) < 0 ||
	    (has = api_query_arg(a, "date", s->date, sizeof s->date)) < 0)
		goto out;
	if (!has) {
		api_fail(a, 400, "bad_query", "date is required: the China "
		    "day (YYYY-MM-DD) the statement covers");
		goto out;
	}
	if (strlen(s->date) != 10) {
		api_fail(a, 400, "bad_query", "date must be a day, YYYY-MM-DD");
		goto out;
	}
	if (fmt[0] != '\0' && strcmp(fmt, "csv") != 0 &&
	    strcmp(fmt, "json") != 0) {
		api_fail(a, 400, "bad_query", "format must be csv or json");
		goto out;
	}
	if (lang[0] != '\0' && strcmp(lang, "en") != 0 &&
	    strcmp(lang, "zh") != 0) {
		api_fail(a, 400, "bad_query", "lang must be en or zh");
		goto out;
	}
	if (s->f.campaign_id != 0) {
		struct campaign cp;
		int rc;

		if ((rc = store_campaign_get(a->app->store, a->brand.id,
		    s->f.campaign_id, &cp)) != 0) {
			api_store_fail(a, rc, "campaign");
			goto out;
		}
		store_campaign_clear(&cp);
	}
	s->c = a->c;
	s->st = a->app->store;
	s->brand_id = a->brand.id;
	s->csv = csv || strcmp(fmt, "csv") == 0;
	/* WeChat's bill is Chinese: so is the file unless asked for en. */
	s->zh = strcmp(lang, "en") != 0;
	if (http_job_read(statement_work, statement_done, s) != 0) {
		http_add_header(a->c, "Retry-After", "2");
		api_fail(a, 503, "busy", "other long reads are running; try "
		    "again in a moment");
		goto out;
	}
	return;
out:
	free(s);
}

void
api_payouts_statement(struct api_call *a)
{
	statement_start(a, 0);
}

void
api_payouts_statement_csv(struct api_call *a)
{
	statement_start(a, 1);
}

/* ---- POST payouts/reconcile?date= ---- */

static void
reconciled(void *arg, int err, const struct payout_recon *r)
{
	struct http_call *c = arg;
	char day[16];
	json_t *list;

	if (err != 0) {
		api_write_fail(c, err, "reconciliation");
		return;
	}
	list = json_array();
	for (size_t i = 0; i < r->nlist && i < PAYOUT_RECON_LIST_MAX; i++)
		json_array_append_new(list, json_pack("{s:I,s:s,s:s,s:s}",
		    "claim_id", (json_int_t)r->list[i].claim_id, "what",
		    r->list[i].what, "ours", r->list[i].ours, "theirs",
		    r->list[i].theirs));
	snprintf(day, sizeof day, "%lld", (long long)r->day);
	http_add_header(c, "Cache-Control", "no-store");
	http_reply_jsont(c, 200, json_pack("{s:I,s:i,s:i,s:i,s:i,s:i,s:o}",
	    "day", (json_int_t)r->day, "checked", (int)r->checked, "matched",
	    (int)r->matched, "behind", (int)r->behind, "mismatched",
	    (int)r->mismatched, "errors", (int)r->errors, "mismatches",
	    list));
}

/*
 * The reply waits for the walk (one query per bill sent that day, a few
 * at once): the caller learns what matched. Its mismatches are alerts
 * too, so nothing is lost to a caller that gave up waiting.
 */
void
api_payouts_reconcile(struct api_call *a)
{
	int64_t since, until;
	char t[SIGIL_TIME_LEN + 1];
	int got, rc;

	if ((got = query_day(a, &since, &until)) < 0)
		return;
	if (got == 0) {
		api_fail(a, 400, "bad_query", "date is required: the China "
		    "day (YYYY-MM-DD) to reconcile");
		return;
	}
	if (since > sigil_now_us()) {
		api_fail(a, 422, "invalid", "that day has not begun yet");
		return;
	}
	rc = payout_reconcile_start(a->app, a->brand.id, loyalty_day(since),
	    reconciled, a->c);
	if (rc == SIGIL_EBUSY) {
		http_add_header(a->c, "Retry-After", "5");
		api_fail(a, 409, "running", "a reconciliation of this brand is "
		    "running; its mismatches become alerts");
	} else if (rc == SIGIL_ENOTFOUND)
		api_fail(a, 409, "no_settings", "set the payment settings "
		    "first (PUT /api/v1/payments/settings)");
	else if (rc != 0)
		api_store_fail(a, rc, "reconciliation");
	else
		http_audit_note(a->c, "payout_reconcile", "day",
		    sigil_time_format(since, t), "");
}
