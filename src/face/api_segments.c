/*
 * api_segments.c - the brand API's customer segments (segment.h):
 *   POST /api/v1/segments/count           {criteria} -> {count, took_ms}
 *   GET  /api/v1/segments                 the saved segments
 *   POST /api/v1/segments                 {name, criteria} -> 201
 *   GET  /api/v1/segments/{id}            with its count now
 *   PUT  /api/v1/segments/{id}            {name, criteria}
 *   DELETE /api/v1/segments/{id}          {id, deleted}; 409 segment_in_use
 *   GET  /api/v1/segments/{id}/customers.csv  the members, streamed
 *
 * A count judges every customer of the brand (segment.c: a ledger read,
 * maybe a consent row and a profile seal each, and the brand's claims
 * and scan log once when the criteria ask for them): too long for the
 * event loop, so it runs on a worker (http_job_read), as the customer
 * summary does (customers_api.c). The worker gets the store (its own
 * read transaction), the parsed criteria and the brand, nothing else of
 * the loop's; the reply goes out from done(), on the loop. The export's
 * member list is made the same way, then streamed 256 rows a turn from
 * the loop (the rows as the customer export has them, plus the columns
 * of what the criteria use).
 *
 * A handler file: may call segment, member, consent, profile,
 * customer (masking), the store (reads), http, http_write, http_job and
 * http_api.c. Writes go through the writer (http_write).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <jansson.h>

#include "sigil/api.h"
#include "sigil/app.h"
#include "sigil/audit.h"
#include "sigil/consent.h"
#include "sigil/http.h"
#include "sigil/http_job.h"
#include "sigil/http_write.h"
#include "sigil/log.h"
#include "sigil/member.h"
#include "sigil/profile.h"
#include "sigil/scan_export.h"
#include "sigil/segment.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "sigil/writer.h"

static void
busy(struct http_call *c)
{
	http_add_header(c, "Retry-After", "2");
	http_reply_error(c, 503, "busy", "customers are being counted for "
	    "other requests; try again in a moment");
}

/* ---- a count on a worker ---- */

struct count_job {
	struct http_call	*c;
	struct store		*st;
	uint32_t		brand_id;
	struct segment_def	*d;
	int64_t			now, t0;
	uint64_t		count;
	int			err;
	json_t			*seg;	/* GET /segments/{id}: the segment */
};

static int
count_one(void *arg, const struct customer *cu)
{
	(void)cu;
	((struct count_job *)arg)->count++;
	return 0;
}

static void
count_work(void *arg)
{
	struct count_job *j = arg;

	j->err = segment_each(j->st, j->brand_id, j->d, j->now, count_one, j);
}

static void
count_done(void *arg)
{
	struct count_job *j = arg;
	json_int_t took = (json_int_t)((sigil_now_us() - j->t0) / 1000);

	if (j->err != 0) {
		log_error("segments", "brand=%u count err=\"%s\"", j->brand_id,
		    sigil_strerror(j->err));
		http_reply_error(j->c, 503, "unavailable", "storage error; "
		    "try again");
	} else if (j->seg != NULL) {
		json_object_set_new(j->seg, "count", json_integer(
		    (json_int_t)j->count));
		json_object_set_new(j->seg, "took_ms", json_integer(took));
		http_reply_jsont(j->c, 200, j->seg);
		j->seg = NULL;
	} else
		http_reply_jsont(j->c, 200, json_pack("{s:I,s:I}", "count",
		    (json_int_t)j->count, "took_ms", took));
	json_decref(j->seg);
	segment_def_free(j->d);
	free(j);
}

/* Counts d (taken) for c; seg (taken, may be NULL) gets the count. */
static void
count_start(struct api_call *a, struct segment_def *d, json_t *seg)
{
	struct count_job *j = calloc(1, sizeof *j);

	if (j == NULL) {
		segment_def_free(d);
		json_decref(seg);
		api_fail(a, 503, "unavailable", "out of memory");
		return;
	}
	j->c = a->c;
	j->st = a->app->store;
	j->brand_id = a->brand.id;
	j->d = d;
	j->seg = seg;
	j->now = j->t0 = sigil_now_us();
	if (http_job_read(count_work, count_done, j) != 0) {
		segment_def_free(d);
		json_decref(seg);
		free(j);
		busy(a->c);
	}
}

/* POST /segments/count: the body is the criteria themselves, or
 * {"criteria": {...}}. */
static void
segments_count(struct api_call *a)
{
	struct segment_def *d;
	const json_t *crit;
	char err[512];
	int rc;

	if (api_body(a) != 0)
		return;
	crit = a->body;
	if (json_object_size(a->body) == 1 && json_is_object(json_object_get(
	    a->body, "criteria")))
		crit = json_object_get(a->body, "criteria");
	if ((rc = segment_parse(crit, &d, err, sizeof err)) != 0) {
		if (rc == SIGIL_EINVAL)
			api_fail(a, 422, "invalid", err);
		else
			api_fail(a, 503, "unavailable", "out of memory");
		return;
	}
	count_start(a, d, NULL);
}

/* ---- saved segments ---- */

/* A write's argument: in, and what the reply shows. */
struct seg_job {
	struct saved_segment	s;	/* s.json malloc'd by the handler */
	char			what[64];
	int			is_update;
};

static int
create_run(struct store *st, void *arg)
{
	struct seg_job *x = arg;

	return store_segment_add(st, &x->s);
}

static int
update_run(struct store *st, void *arg)
{
	struct seg_job *x = arg;
	struct saved_segment g;
	int rc;

	if ((rc = store_segment_update(st, x->s.brand_id, x->s.id,
	    x->s.json)) != 0)
		return rc;
	if (store_segment_get(st, x->s.brand_id, x->s.id, &g) == 0) {
		x->s.created = g.created;
		x->s.updated = g.updated;
		store_segment_clear(&g);
	}
	return 0;
}

static int
delete_run(struct store *st, void *arg)
{
	struct seg_job *x = arg;
	struct saved_segment g;
	int rc;

	if ((rc = store_segment_get(st, x->s.brand_id, x->s.id, &g)) != 0)
		return rc;
	store_segment_clear(&g);
	if ((rc = segment_in_use(st, x->s.brand_id, x->s.id, x->what,
	    sizeof x->what)) != 0)
		return rc > 0 ? SIGIL_ECONFLICT : rc;
	return store_segment_del(st, x->s.brand_id, x->s.id);
}

static int
seg_audit(struct store *st, const void *arg, struct audit_entry *e,
    int after)
{
	const struct seg_job *x = arg;

	(void)st;
	audit_target(e, "segment", "%u", x->s.id);
	return after;
}

static const struct writer_op op_segment_create = { "segment_create",
    create_run, seg_audit };
static const struct writer_op op_segment_update = { "segment_update",
    update_run, seg_audit };
static const struct writer_op op_segment_delete = { "segment_delete",
    delete_run, seg_audit };

static void
written(struct http_call *c, void *arg, int err)
{
	struct seg_job *x = arg;

	if (err == 0)
		http_reply_jsont(c, x->is_update ? 200 : 201,
		    segment_json(&x->s));
	else
		api_write_fail(c, err, "segment");
	free(x->s.json);
}

static void
deleted(struct http_call *c, void *arg, int err)
{
	struct seg_job *x = arg;
	char msg[160];

	if (err == SIGIL_ECONFLICT) {
		snprintf(msg, sizeof msg, "the segment is the audience of %s: "
		    "change that first", x->what[0] ? x->what : "a campaign or "
		    "message");
		http_reply_error(c, 409, "segment_in_use", msg);
	} else if (err != 0)
		api_write_fail(c, err, "segment");
	else
		http_reply_jsont(c, 200, json_pack("{s:I,s:b}", "id",
		    (json_int_t)x->s.id, "deleted", 1));
}

/* The body checked into x (json malloc'd): 0, or -1 after replying. */
static int
body_into(struct api_call *a, struct seg_job *x)
{
	char err[512];
	int rc;

	memset(x, 0, sizeof *x);
	if (api_body(a) != 0)
		return -1;
	if ((rc = segment_body_parse(a->body, &x->s.json, err,
	    sizeof err)) != 0) {
		if (rc == SIGIL_EINVAL)
			api_fail(a, 422, "invalid", err);
		else
			api_fail(a, 503, "unavailable", "out of memory");
		return -1;
	}
	x->s.brand_id = a->brand.id;
	return 0;
}

void
api_segments_create(struct api_call *a)
{
	struct seg_job x;

	if (a->nseg == 2 && strcmp(a->seg[1], "count") == 0) {
		segments_count(a);
		return;
	}
	if (body_into(a, &x) != 0)
		return;
	http_write(a->c, &op_segment_create, &x, sizeof x, written);
}

static int
segment_id(struct api_call *a, uint32_t *id)
{
	uint64_t v;

	if (api_parse_id(a->seg[1], UINT32_MAX, &v) != 0) {
		api_fail(a, 404, "not_found", "no such segment");
		return -1;
	}
	*id = (uint32_t)v;
	return 0;
}

void
api_segments_update(struct api_call *a)
{
	struct seg_job x;
	uint32_t id;

	if (segment_id(a, &id) != 0 || body_into(a, &x) != 0)
		return;
	x.s.id = id;
	x.is_update = 1;
	http_write(a->c, &op_segment_update, &x, sizeof x, written);
}

void
api_segments_delete(struct api_call *a)
{
	struct seg_job x;
	uint32_t id;

	if (segment_id(a, &id) != 0)
		return;
	memset(&x, 0, sizeof x);
	x.s.brand_id = a->brand.id;
	x.s.id = id;
	http_write(a->c, &op_segment_delete, &x, sizeof x, deleted);
}

static int
list_one(void *arg, const struct saved_segment *s)
{
	return api_list_add(arg, segment_json(s));
}

void
api_segments_list(struct api_call *a)
{
	json_t *arr = json_array();
	int rc = store_segment_each(a->app->store, a->brand.id, list_one, arr);

	api_reply_list(a, "segments", arr, rc < 0 ? rc : 0);
}

void
api_segments_get(struct api_call *a)
{
	struct saved_segment s;
	struct segment_def *d;
	uint32_t id;
	int rc;

	if (segment_id(a, &id) != 0)
		return;
	if ((rc = store_segment_get(a->app->store, a->brand.id, id, &s)) !=
	    0) {
		api_store_fail(a, rc, "segment");
		return;
	}
	if ((rc = segment_load(a->app->store, a->brand.id, id, &d)) != 0) {
		store_segment_clear(&s);
		api_store_fail(a, rc, "segment");
		return;
	}
	count_start(a, d, segment_json(&s));
	store_segment_clear(&s);
}

/* ---- the members as CSV ---- */

#define CSV_ROWS	256

struct seg_csv {
	struct http_call	*c;
	struct app		*app;
	uint32_t		brand_id;
	struct segment_def	*d;
	int64_t			now;
	struct segment_member	*m;
	size_t			n, next;
	unsigned		uses;
	int			err, ready, gone, started;
	int			zh, has_tz, tz;
};

/* A word (a column name, a role, a segment...) in the file's language. */
static const char *
csv_word(const struct seg_csv *x, const char *v)
{
	return x->zh ? http_csv_zh(v) : v;
}

/* A time of the file: UTC as stored, or in the ?tz= zone. */
static const char *
csv_time(const struct seg_csv *x, int64_t t, char *buf)
{
	if (t == 0)
		return "";
	return x->has_tz ? scan_export_time(t, x->tz, buf) :
	    sigil_time_format(t, buf);
}

/* "铜 Bronze" in a Chinese file: the half before the space. */
static const char *
csv_tier(const struct seg_csv *x, const char *v, char *buf, size_t size)
{
	const char *sp;

	if (!x->zh || v == NULL || (unsigned char)v[0] < 0x80 ||
	    (sp = strchr(v, ' ')) == NULL || (size_t)(sp - v) >= size)
		return v;
	snprintf(buf, size, "%.*s", (int)(sp - v), v);
	return buf;
}

static void
csv_free(struct seg_csv *x)
{
	segment_def_free(x->d);
	free(x->m);
	free(x);
}

static void
csv_head(struct seg_csv *x, struct evbuffer *out)
{
	http_csv_customer_head(out, x->zh, 0);
	if (x->uses & SEG_USES_CONSENT)
		http_csv_cell(out, csv_word(x, "marketing"), 0);
	if (x->uses & SEG_USES_PROFILE) {
		http_csv_cell(out, csv_word(x, "gender"), 0);
		http_csv_cell(out, csv_word(x, "birthday"), 0);
		http_csv_cell(out, csv_word(x, "city"), 0);
		http_csv_cell(out, csv_word(x, "tags"), 0);
	}
	if (x->uses & SEG_USES_SCANS) {
		http_csv_cell(out, csv_word(x, "last_scan"), 0);
		http_csv_cell(out, csv_word(x, "scan_country"), 0);
		http_csv_cell(out, csv_word(x, "scan_province"), 0);
		http_csv_cell(out, csv_word(x, "scan_city"), 0);
	}
	http_csv_cell(out, csv_word(x, "matched_at"), 1);
}

static void
csv_row(struct seg_csv *x, const struct segment_member *m,
    struct evbuffer *out)
{
	struct customer cu;
	struct store_region r;
	char num[32], t[SCAN_EXPORT_TIME_LEN + 1], w[STORE_NAME_BYTES + 1];
	int64_t at;
	json_t *sum, *v, *p;

	if (store_customer_get(x->app->store, x->brand_id, m->id, &cu) != 0)
		return;
	sum = member_summary(x->app, &cu, 0);
	for (size_t i = 0; i < HTTP_CSV_CUSTOMER_COLS; i++) {
		v = json_object_get(sum, http_csv_customer_cols[i]);
		if (json_is_integer(v)) {
			snprintf(num, sizeof num, "%lld",
			    (long long)json_integer_value(v));
			http_csv_cell(out, num, 0);
		} else if (i >= 8 && json_is_string(v) && sigil_time_parse(
		    json_string_value(v), &at) == 0)
			http_csv_cell(out, csv_time(x, at, t), 0);
		else if (i == 3)
			http_csv_cell(out, csv_tier(x, json_string_value(v), w,
			    sizeof w), 0);
		else
			http_csv_cell(out, csv_word(x, i == 2 && v == NULL ?
			    "consumer" : json_string_value(v)), 0);
	}
	json_decref(sum);
	if (x->uses & SEG_USES_CONSENT)
		http_csv_cell(out, consent_granted(x->app, x->brand_id, m->id,
		    CONSENT_MARKETING) == 1 ? csv_word(x, "granted") : "", 0);
	if (x->uses & SEG_USES_PROFILE) {
		char tags[PROFILE_TAGS_MAX * (PROFILE_TAG_MAX * 4 + 1) + 1] =
		    "";
		size_t i;

		p = profile_load(x->app, x->brand_id, m->id);
		http_csv_cell(out, csv_word(x, json_string_value(
		    json_object_get(p, "gender"))), 0);
		http_csv_cell(out, json_string_value(json_object_get(p,
		    "birthday")), 0);
		http_csv_cell(out, json_string_value(json_object_get(p,
		    "city")), 0);
		json_array_foreach(json_object_get(p, "tags"), i, v) {
			if (i)
				strncat(tags, ";", sizeof tags - strlen(tags) -
				    1);
			strncat(tags, json_string_value(v) ?
			    json_string_value(v) : "", sizeof tags -
			    strlen(tags) - 1);
		}
		http_csv_cell(out, tags, 0);
		json_decref(p);
	}
	if (x->uses & SEG_USES_SCANS) {
		memset(&r, 0, sizeof r);
		if (m->region != 0)
			(void)store_region_get(x->app->store, m->region, &r);
		http_csv_cell(out, csv_time(x, m->last_scan, t), 0);
		http_csv_cell(out, r.place.country, 0);
		http_csv_cell(out, r.place.province_zh[0] ? r.place.province_zh :
		    r.place.province_en, 0);
		http_csv_cell(out, r.place.city_zh[0] ? r.place.city_zh :
		    r.place.city_en, 0);
	}
	http_csv_cell(out, csv_time(x, x->now, t), 1);
}

static int
csv_next(struct http_call *c, void *arg, struct evbuffer *out)
{
	struct seg_csv *x = arg;
	size_t end;

	(void)c;
	if (!x->ready)
		return HTTP_STREAM_WAIT;
	if (!x->started) {
		csv_head(x, out);
		x->started = 1;
	}
	for (end = x->next + CSV_ROWS; x->next < x->n && x->next < end;
	    x->next++)
		csv_row(x, &x->m[x->next], out);
	if (x->next < x->n)
		return 1;
	csv_free(x);
	return 0;
}

static void
csv_gone(struct http_call *c, void *arg)
{
	struct seg_csv *x = arg;

	(void)c;
	if (x->ready)
		csv_free(x);
	else
		x->gone = 1;	/* the worker's done() frees it */
}

static const struct http_stream_ops csv_ops = { csv_next, csv_gone };

static void
csv_work(void *arg)
{
	struct seg_csv *x = arg;

	x->err = segment_members(x->app->store, x->brand_id, x->d, x->now,
	    &x->m, &x->n);
}

/* On the loop: the list is made; the stream goes on (or was dropped). */
static void
csv_done(void *arg)
{
	struct seg_csv *x = arg;

	if (x->gone) {
		csv_free(x);
		return;
	}
	if (x->err != 0) {
		/* the header is out: end the file with what there is (none) */
		log_error("segments", "brand=%u export err=\"%s\"",
		    x->brand_id, sigil_strerror(x->err));
		free(x->m);
		x->m = NULL;
		x->n = 0;
	}
	x->ready = 1;
	http_stream_wake(x->c);
}

void
api_segments_export(struct api_call *a)
{
	struct seg_csv *x;
	char q[64];
	uint32_t id;
	int rc, zh = 0, has_tz = 0, tz = 0;

	if (segment_id(a, &id) != 0)
		return;
	if (http_query(a->c, "lang", q, sizeof q) != NULL) {
		zh = strcmp(q, "zh") == 0;
		if (!zh && strcmp(q, "en") != 0) {
			api_fail(a, 400, "bad_query", "lang must be en or zh");
			return;
		}
	}
	if (http_query(a->c, "tz", q, sizeof q) != NULL) {
		has_tz = 1;
		if (scan_export_tz_parse(q, &tz) != 0) {
			api_fail(a, 400, "bad_query", "tz must be a UTC offset: "
			    "8, -5, +05:30 (-12..14)");
			return;
		}
	}
	if ((x = calloc(1, sizeof *x)) == NULL) {
		api_fail(a, 503, "unavailable", "out of memory");
		return;
	}
	x->zh = zh;
	x->has_tz = has_tz;
	x->tz = tz;
	if ((rc = segment_load(a->app->store, a->brand.id, id, &x->d)) != 0) {
		free(x);
		api_store_fail(a, rc, "segment");
		return;
	}
	x->c = a->c;
	x->app = a->app;
	x->brand_id = a->brand.id;
	x->now = sigil_now_us();
	x->uses = segment_uses(x->d);
	if (http_job_read(csv_work, csv_done, x) != 0) {
		csv_free(x);
		busy(a->c);
		return;
	}
	{
		char tid[16];

		snprintf(tid, sizeof tid, "%u", id);
		http_audit_note(a->c, "segment_export", "segment", tid, NULL);
	}
	http_add_header(a->c, "Content-Disposition",
	    "attachment; filename=\"segment-customers.csv\"");
	http_add_header(a->c, "Cache-Control", "no-store");
	http_stream_start(a->c, 200, "text/csv; charset=utf-8", &csv_ops, x);
}
