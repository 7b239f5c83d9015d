/*
 * api_audit.c - the audit trail over the brand API (admin only):
 *
 *   GET /api/v1/audit              newest first, filtered, paged
 *   GET /api/v1/audit/export.csv   the same filters, streamed as CSV
 *
 * Filters: ?actor=user:3 (or a kind alone: user, token, cli, system),
 * ?action=campaign_save, ?since= and ?until= (YYYY-MM-DD, a UTC day, or
 * an RFC 3339 instant; until is inclusive), ?before=<seq> (the page
 * below that entry), ?limit=1..1000 (100). A page reads at most
 * AUDIT_SCAN_MAX entries of the brand; next is where the following page
 * starts (before=next), null when nothing older is left.
 *
 * Reads only; the entries are written by the writer (writer.c) and the
 * CLI. May call http_api.c's toolkit, the store and audit.h's names.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <jansson.h>

#include "sigil/api.h"
#include "sigil/app.h"
#include "sigil/http.h"
#include "sigil/http_write.h"
#include "sigil/log.h"
#include "sigil/role.h"
#include "sigil/scan_export.h"
#include "sigil/store.h"
#include "sigil/util.h"

#define AUDIT_SCAN_MAX	50000	/* entries one page may look at */
#define AUDIT_CHUNK	256	/* entries per piece of the CSV */

struct audit_filter {
	int		kind;		/* 0 any */
	char		actor[AUDIT_ACTOR_MAX];	/* "" any id of kind */
	char		action[AUDIT_ACTION_MAX];
	int64_t		since, until;	/* 0: open */
};

/* One walk: entries kept into keep (up to want), and where it stopped. */
struct audit_walk {
	const struct audit_filter *f;
	struct audit_entry *keep;
	size_t		n, want, scanned, scan_max;
	uint64_t	last;		/* seq of the last entry looked at */
	int		ended;		/* older than since: nothing follows */
};

static int
walk_entry(void *arg, const struct audit_entry *e)
{
	struct audit_walk *w = arg;
	const struct audit_filter *f = w->f;

	if (w->n == w->want || w->scanned == w->scan_max)
		return 1;
	w->scanned++;
	w->last = e->seq;
	if (f->since != 0 && e->at < f->since) {
		w->ended = 1;
		return 1;
	}
	if ((f->until != 0 && e->at > f->until) ||
	    (f->kind != 0 && e->actor_kind != f->kind) ||
	    (f->actor[0] != '\0' && strcmp(e->actor, f->actor) != 0) ||
	    (f->action[0] != '\0' && strcmp(e->action, f->action) != 0))
		return 0;
	w->keep[w->n++] = *e;
	return 0;
}

/*
 * Walks from before; 0, or a store error (< 0). *more: whether entries
 * may follow w->last.
 */
static int
walk(struct store *st, uint32_t brand_id, uint64_t before,
    struct audit_walk *w, int *more)
{
	int rc = store_audit_each(st, brand_id, before, walk_entry, w);

	if (rc < 0)
		return rc;
	*more = rc > 0 && !w->ended && w->last > 1;
	return 0;
}

/*
 * A bound: a UTC day (since: its start; until: its last microsecond, as
 * until is inclusive) or an instant: scan_export_bound's rule at tz 0.
 */
static int
time_bound(const char *v, int end, int64_t *out)
{
	if (scan_export_bound(v, 0, end, out) != 0)
		return -1;
	if (end && strlen(v) == 10)
		*out -= 1;
	return 0;
}

/* The filters and paging: 0, or -1 after replying 400. */
static int
audit_query(struct api_call *a, struct audit_filter *f, uint64_t *before,
    size_t *limit)
{
	char v[128], *colon;

	memset(f, 0, sizeof *f);
	if (api_page_back(a, 100, API_LIST_MAX, limit, before) != 0)
		return -1;
	if (api_query(a, "actor", v, sizeof v) != NULL) {
		if ((colon = strchr(v, ':')) != NULL)
			*colon = '\0';
		if ((f->kind = audit_actor_kind_parse(v)) == 0 ||
		    (colon != NULL && (colon[1] == '\0' ||
		    strlen(colon + 1) >= sizeof f->actor))) {
			api_fail(a, 400, "bad_query", "actor must be user:ID, "
			    "token:ID, cli:NAME, customer:ID, system, or a "
			    "kind alone");
			return -1;
		}
		if (colon != NULL)
			snprintf(f->actor, sizeof f->actor, "%s", colon + 1);
	}
	if (api_query(a, "action", v, sizeof v) != NULL) {
		if (v[0] == '\0' || strlen(v) >= sizeof f->action) {
			api_fail(a, 400, "bad_query", "action must be an "
			    "action's name, e.g. campaign_save");
			return -1;
		}
		snprintf(f->action, sizeof f->action, "%s", v);
	}
	if (api_query(a, "since", v, sizeof v) != NULL &&
	    time_bound(v, 0, &f->since) != 0) {
		api_fail(a, 400, "bad_query", "since must be YYYY-MM-DD or "
		    "an RFC 3339 date-time");
		return -1;
	}
	if (api_query(a, "until", v, sizeof v) != NULL &&
	    time_bound(v, 1, &f->until) != 0) {
		api_fail(a, 400, "bad_query", "until must be YYYY-MM-DD or "
		    "an RFC 3339 date-time");
		return -1;
	}
	if (f->since != 0 && f->until != 0 && f->until < f->since) {
		api_fail(a, 400, "bad_query", "until is before since");
		return -1;
	}
	return 0;
}

static json_t *
entry_json(const struct audit_entry *e)
{
	char t[SIGIL_TIME_LEN + 1];
	json_t *detail = NULL;

	if (e->detail[0] != '\0')
		detail = json_loads(e->detail, 0, NULL);
	return json_pack("{s:I,s:s,s:{s:s,s:s},s:s?,s:s,s:o,s:o,s:s?,s:s}",
	    "seq", (json_int_t)e->seq,
	    "at", sigil_time_format(e->at, t),
	    "actor", "kind", audit_actor_kind_name(e->actor_kind), "id",
	    e->actor,
	    "role", e->role != 0 ? role_name(e->role) : NULL,
	    "action", e->action,
	    "target", e->target_type[0] != '\0' ? json_pack("{s:s,s:s}",
	    "type", e->target_type, "id", e->target_id) : json_null(),
	    "detail", detail != NULL ? detail : json_null(),
	    "ip", e->ip[0] != '\0' ? e->ip : NULL,
	    "outcome", e->outcome == 0 ? "ok" : sigil_strerror(e->outcome));
}

void
api_audit_list(struct api_call *a)
{
	struct audit_filter f;
	struct audit_walk w = { 0 };
	uint64_t before;
	size_t limit;
	json_t *arr;
	int more, err;

	if (audit_query(a, &f, &before, &limit) != 0)
		return;
	if ((w.keep = calloc(limit, sizeof *w.keep)) == NULL) {
		api_store_fail(a, SIGIL_ENOMEM, "audit");
		return;
	}
	w.f = &f;
	w.want = limit;
	w.scan_max = AUDIT_SCAN_MAX;
	if ((err = walk(a->app->store, a->brand.id, before, &w, &more)) != 0) {
		free(w.keep);
		api_store_fail(a, err, "audit");
		return;
	}
	arr = json_array();
	for (size_t i = 0; i < w.n; i++)
		json_array_append_new(arr, entry_json(&w.keep[i]));
	api_reply(a, 200, json_pack("{s:o,s:o}", "entries", arr, "next",
	    more ? json_integer((json_int_t)w.last) : json_null()));
	free(w.keep);
}

/* ---- the CSV ---- */

static const char *const csv_head[] = { "seq", "time", "actor_kind",
    "actor", "role", "action", "target_type", "target_id", "ip", "outcome",
    "detail" };
#define CSV_NCOLS	(sizeof csv_head / sizeof csv_head[0])

struct audit_csv {
	struct app		*app;
	uint32_t		brand_id;
	struct audit_filter	f;
	uint64_t		before;
	int			started, more;
	struct audit_entry	chunk[AUDIT_CHUNK];
};

static int
csv_next(struct http_call *c, void *arg, struct evbuffer *out)
{
	struct audit_csv *x = arg;
	struct audit_walk w = { 0 };
	char seq[24], t[SIGIL_TIME_LEN + 1];
	int more;

	(void)c;
	if (!x->started) {
		x->started = 1;
		for (size_t i = 0; i < CSV_NCOLS; i++)
			http_csv_cell(out, csv_head[i], i + 1 == CSV_NCOLS);
		return 1;
	}
	/*
	 * A piece holds at least one row (http.h: next appends a byte
	 * whenever it returns 1), so walk on past entries the filters skip.
	 */
	do {
		memset(&w, 0, sizeof w);
		w.f = &x->f;
		w.keep = x->chunk;
		w.want = AUDIT_CHUNK;
		w.scan_max = AUDIT_CHUNK * 16;
		if (walk(x->app->store, x->brand_id, x->before, &w,
		    &more) != 0) {
			log_error("audit_export", "brand=%u err=\"read "
			    "failed\"", x->brand_id);
			more = 0;	/* the CSV ends short; the log says why */
		}
		if (w.last != 0)
			x->before = w.last;
	} while (w.n == 0 && more && w.last > 1);
	for (size_t i = 0; i < w.n; i++) {
		const struct audit_entry *e = &x->chunk[i];

		snprintf(seq, sizeof seq, "%llu", (unsigned long long)e->seq);
		http_csv_cell(out, seq, 0);
		http_csv_cell(out, sigil_time_format(e->at, t), 0);
		http_csv_cell(out, audit_actor_kind_name(e->actor_kind), 0);
		http_csv_cell(out, e->actor, 0);
		http_csv_cell(out, e->role != 0 ? role_name(e->role) : "", 0);
		http_csv_cell(out, e->action, 0);
		http_csv_cell(out, e->target_type, 0);
		http_csv_cell(out, e->target_id, 0);
		http_csv_cell(out, e->ip, 0);
		http_csv_cell(out, e->outcome == 0 ? "ok" :
		    sigil_strerror(e->outcome), 0);
		http_csv_cell(out, e->detail, 1);
	}
	if (more && w.n > 0 && w.last > 1)
		return 1;
	free(x);
	return 0;
}

static const struct http_stream_ops csv_ops = { csv_next, http_csv_gone };

void
api_audit_export(struct api_call *a)
{
	struct audit_csv *x;
	size_t limit;
	char who[32];

	if (strcmp(a->seg[1], "export.csv") != 0) {
		api_fail(a, 404, "not_found", "no such resource");
		return;
	}
	if ((x = calloc(1, sizeof *x)) == NULL) {
		api_fail(a, 503, "unavailable", "out of memory");
		return;
	}
	if (audit_query(a, &x->f, &x->before, &limit) != 0) {
		free(x);
		return;
	}
	x->app = a->app;
	x->brand_id = a->brand.id;
	http_actor_text(a->c, who, sizeof who);
	log_info("audit_export", "brand=%u %s", a->brand.id, who);
	http_add_header(a->c, "Content-Disposition",
	    "attachment; filename=\"audit.csv\"");
	http_add_header(a->c, "Cache-Control", "no-store");
	http_stream_start(a->c, 200, "text/csv; charset=utf-8", &csv_ops, x);
}
