/*
 * api_notify.c - the brand API's alert notification endpoints, called by
 * route_api.c after authentication and the role check (admin):
 *
 *   GET    /api/v1/notify/rules            the brand's rules
 *   POST   /api/v1/notify/rules            a new rule (201)
 *   GET    /api/v1/notify/rules/{id}
 *   PUT    /api/v1/notify/rules/{id}       settings (absent keys kept)
 *   DELETE /api/v1/notify/rules/{id}
 *   POST   /api/v1/notify/rules/{id}/digest  the pending digest now
 *   POST   /api/v1/notify/test {"rule": id}  a test message on each of
 *          the rule's channels, sent at once (not through the outbox);
 *          the answer says what each channel answered
 *
 * Rules are checked on the loop (notify_rule_parse: the robot URLs
 * against the egress policy, the DingTalk secret sealed) and stored
 * through the writer. Never shows or logs a secret or a robot URL's key
 * in the log.
 *
 * A handler. May call notify.c, channel_smtp.c, channel_robot.c,
 * notify_scan.c, store (reads), http, http_write, http_api.c, log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "sigil/api.h"
#include "sigil/app.h"
#include "sigil/audit.h"
#include "sigil/egress.h"
#include "sigil/http.h"
#include "sigil/http_write.h"
#include "sigil/log.h"
#include "sigil/notify.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "sigil/writer.h"

struct rule_job {
	struct notify_rule	r;
	int			keep_secret;
	int			del;
};

static int
rule_add_run(struct store *st, void *arg)
{
	return store_notify_rule_add(st, &((struct rule_job *)arg)->r);
}

static int
rule_put_run(struct store *st, void *arg)
{
	struct rule_job *x = arg;

	if (x->del)
		return store_notify_rule_del(st, x->r.brand_id, x->r.id);
	return store_notify_rule_update(st, &x->r, x->keep_secret);
}

static int
rule_audit(struct store *st, const void *arg, struct audit_entry *e,
    int after)
{
	const struct rule_job *x = arg;

	(void)st;
	if (after && x->r.id != 0) {
		audit_target(e, "notify_rule", "%u", x->r.id);
		return 1;
	}
	if (!after && x->r.id != 0)
		audit_target(e, "notify_rule", "%u", x->r.id);
	return 0;
}

static const struct writer_op op_rule_add = { "notify_rule_add",
    rule_add_run, rule_audit };
static const struct writer_op op_rule_put = { "notify_rule_update",
    rule_put_run, rule_audit };
static const struct writer_op op_rule_del = { "notify_rule_delete",
    rule_put_run, rule_audit };

static void
rule_written(struct http_call *c, void *arg, int err)
{
	struct rule_job *x = arg;

	if (err == SIGIL_ENOTFOUND) {
		http_reply_error(c, 404, "not_found", "no such rule");
		return;
	}
	if (x->del && err == 0) {
		http_reply_jsont(c, 200, json_pack("{s:I,s:b}", "id",
		    (json_int_t)x->r.id, "deleted", 1));
		return;
	}
	api_write_reply(c, err, "notify rule", x->keep_secret == 2 ? 201 : 200,
	    notify_rule_json(&x->r));
}

/* The rule in a->seg[2], of this brand: 0, or -1 after a 404. */
static int
rule_of(struct api_call *a, struct notify_rule *r)
{
	uint64_t id;
	int rc;

	if (a->nseg < 3 || api_parse_id(a->seg[2], UINT32_MAX, &id) != 0 ||
	    (rc = store_notify_rule_get(a->app->store, a->brand.id,
	    (uint32_t)id, r)) == SIGIL_ENOTFOUND) {
		api_fail(a, 404, "not_found", "no such rule");
		return -1;
	}
	if (rc != 0) {
		api_store_fail(a, rc, "notify rule");
		return -1;
	}
	return 0;
}

static void
parse_failed(struct api_call *a, int rc, const char *err)
{
	api_fail(a, 422, rc == SIGIL_EDENIED ? "refused_target" : "invalid",
	    err);
}

void
api_notify_rules_create(struct api_call *a)
{
	struct rule_job x;
	char err[400];
	int given, rc;

	if (api_body(a) != 0)
		return;
	memset(&x, 0, sizeof x);
	x.r.brand_id = a->brand.id;
	if ((rc = notify_rule_parse(a->body, NULL, egress_policy(
	    a->app->egress), a->app->keyring, &x.r, &given, err,
	    sizeof err)) != 0) {
		parse_failed(a, rc, err);
		return;
	}
	/* From now on: the alerts already there are not news. */
	if ((rc = store_notify_alert_last(a->app->store, a->brand.id,
	    &x.r.cursor)) != 0) {
		api_store_fail(a, rc, "alerts");
		return;
	}
	x.keep_secret = 2;	/* marks a create for the reply */
	http_write(a->c, &op_rule_add, &x, sizeof x, rule_written);
	OPENSSL_cleanse(&x, sizeof x);
}

struct list_ctx {
	json_t	*arr;
};

static int
list_one(void *arg, const struct notify_rule *r)
{
	return api_list_add(((struct list_ctx *)arg)->arr, notify_rule_json(r));
}

void
api_notify_rules_list(struct api_call *a)
{
	struct list_ctx l = { json_array() };
	int rc;

	if (l.arr == NULL) {
		api_fail(a, 500, "internal", "out of memory");
		return;
	}
	rc = store_notify_rule_each(a->app->store, a->brand.id, list_one, &l);
	api_reply_list(a, "rules", l.arr, rc < 0 ? rc : 0);
}

/* The rule's outbox rows (OUTBOX_ALERT, source = rule id): counts by
 * state and the newest few. */
struct rows_ctx {
	uint64_t	counts[4];
	json_t		*recent;
};

#define RECENT_MAX	10

static int
row_one(void *arg, const struct outbox_msg *m)
{
	static const char *const states[] = { "queued", "sending", "sent",
	    "failed" };
	struct rows_ctx *x = arg;
	char t1[SIGIL_TIME_LEN + 1], t2[SIGIL_TIME_LEN + 1];

	if (m->state < 0 || m->state > 3)
		return 0;
	x->counts[m->state]++;
	if (json_array_size(x->recent) < RECENT_MAX)
		json_array_append_new(x->recent, json_pack("{s:I,s:s,s:s,s:i,"
		    "s:i,s:s,s:s?}", "id", (json_int_t)m->id, "channel",
		    m->channel, "state", states[m->state], "attempts",
		    (int)m->attempts, "last_status", m->last_status,
		    "created", sigil_time_format(m->created, t1), "sent_at",
		    m->sent_at ? sigil_time_format(m->sent_at, t2) : NULL));
	return 0;
}

void
api_notify_rules_get(struct api_call *a)
{
	struct notify_rule r;
	struct rows_ctx x = { { 0 }, NULL };
	json_t *o;
	int rc;

	if (rule_of(a, &r) != 0)
		return;
	if ((o = notify_rule_json(&r)) == NULL ||
	    (x.recent = json_array()) == NULL) {
		json_decref(o);
		api_fail(a, 500, "internal", "out of memory");
		return;
	}
	if ((rc = store_outbox_each(a->app->store, a->brand.id, r.id,
	    OUTBOX_ALERT, 0, row_one, &x)) < 0) {
		json_decref(o);
		json_decref(x.recent);
		api_store_fail(a, rc, "outbox");
		return;
	}
	json_object_set_new(o, "deliveries", json_pack("{s:I,s:I,s:I,s:o}",
	    "queued", (json_int_t)(x.counts[0] + x.counts[1]),
	    "sent", (json_int_t)x.counts[2], "failed", (json_int_t)x.counts[3],
	    "recent", x.recent));
	api_reply(a, 200, o);
}

void
api_notify_rules_update(struct api_call *a)
{
	struct notify_rule cur;
	struct rule_job x;
	char err[400];
	int given, rc;

	if (rule_of(a, &cur) != 0 || api_body(a) != 0)
		return;
	memset(&x, 0, sizeof x);
	x.r.brand_id = a->brand.id;
	if ((rc = notify_rule_parse(a->body, &cur, egress_policy(
	    a->app->egress), a->app->keyring, &x.r, &given, err,
	    sizeof err)) != 0) {
		parse_failed(a, rc, err);
		return;
	}
	x.keep_secret = !given;
	http_write(a->c, &op_rule_put, &x, sizeof x, rule_written);
	OPENSSL_cleanse(&x, sizeof x);
}

void
api_notify_rules_delete(struct api_call *a)
{
	struct rule_job x;
	uint64_t id;

	if (api_parse_id(a->seg[2], UINT32_MAX, &id) != 0) {
		api_fail(a, 404, "not_found", "no such rule");
		return;
	}
	memset(&x, 0, sizeof x);
	x.r.brand_id = a->brand.id;
	x.r.id = (uint32_t)id;
	x.del = 1;
	http_write(a->c, &op_rule_del, &x, sizeof x, rule_written);
}

/* ---- the test ---- */

struct test_call {
	struct http_call	*c;
	json_t			*results;
	int			pending;
	int			started;	/* all sends are out */
};

struct test_one {
	struct test_call	*t;
	const char		*channel;
};

static void
test_finish(struct test_call *t)
{
	if (!t->started || t->pending > 0)
		return;
	http_reply_jsont(t->c, 200, json_pack("{s:o}", "results", t->results));
	free(t);
}

static void
test_done(void *arg, int ok, int retry, int status, const char *detail)
{
	struct test_one *o = arg;
	struct test_call *t = o->t;

	json_array_append_new(t->results, json_pack("{s:s,s:b,s:b,s:i,s:s}",
	    "channel", o->channel, "ok", ok, "retry", !ok && retry, "status",
	    status, "detail", detail != NULL ? detail : ""));
	free(o);
	t->pending--;
	test_finish(t);
}

static void
test_refused(struct test_call *t, const char *channel, const char *detail)
{
	json_array_append_new(t->results, json_pack("{s:s,s:b,s:b,s:i,s:s}",
	    "channel", channel, "ok", 0, "retry", 0, "status", -1, "detail",
	    detail));
}

static void
test_send(struct api_call *a, struct test_call *t, const struct notify_rule *r,
    const char *channel, const char *payload)
{
	struct test_one *o = calloc(1, sizeof *o);
	int rc;

	if (o == NULL) {
		test_refused(t, channel, "out of memory");
		return;
	}
	o->t = t;
	o->channel = channel;
	t->pending++;
	if (strcmp(channel, "smtp") == 0)
		rc = notify_smtp_send(a->app, payload, test_done, o);
	else if (strcmp(channel, "wecom") == 0)
		rc = notify_wecom_send(a->app, r->brand_id, payload, test_done,
		    o);
	else
		rc = notify_dingtalk_send(a->app, r->brand_id, payload,
		    test_done, o);
	if (rc != 0) {
		t->pending--;
		free(o);
		test_refused(t, channel, rc == SIGIL_ESTATE ? "no SMTP server "
		    "is configured (sigild --smtp)" : sigil_strerror(rc));
	}
}

void
api_notify_test(struct api_call *a)
{
	struct notify_rule r;
	struct test_call *t;
	json_t *v, *to;
	char *emails, *tok, *save = NULL, *s;
	uint64_t id;
	const char *title = "[sigil] 测试通知 / Test notification";
	const char *body = "这是一条测试通知,告警会这样送达。\nThis is a test "
	    "notification: alerts arrive like this.\n";

	if (api_body(a) != 0)
		return;
	v = json_object_get(a->body, "rule");
	if (!json_is_integer(v) || json_integer_value(v) <= 0 ||
	    json_integer_value(v) > UINT32_MAX || json_object_size(a->body) !=
	    1) {
		api_fail(a, 422, "invalid", "the body must be {\"rule\": id}");
		return;
	}
	id = (uint64_t)json_integer_value(v);
	if (store_notify_rule_get(a->app->store, a->brand.id, (uint32_t)id,
	    &r) != 0) {
		api_fail(a, 404, "not_found", "no such rule");
		return;
	}
	if ((t = calloc(1, sizeof *t)) == NULL || (t->results = json_array())
	    == NULL) {
		free(t);
		api_fail(a, 500, "internal", "out of memory");
		return;
	}
	t->c = a->c;
	if (r.emails[0] != '\0') {
		to = json_array();
		if ((emails = strdup(r.emails)) != NULL) {
			for (tok = strtok_r(emails, ",", &save); tok != NULL;
			    tok = strtok_r(NULL, ",", &save))
				json_array_append_new(to, json_string(tok));
			free(emails);
		}
		s = json_dumps(v = json_pack("{s:o,s:s,s:s}", "to", to,
		    "subject", title, "text", body), JSON_COMPACT);
		json_decref(v);
		if (s != NULL)
			test_send(a, t, &r, "smtp", s);
		free(s);
	}
	s = json_dumps(v = json_pack("{s:I,s:s,s:s}", "rule", (json_int_t)id,
	    "title", title, "markdown", "### 测试通知 / Test notification\n"
	    "这是一条测试通知,告警会这样送达。\nThis is a test "
	    "notification: alerts arrive like this."), JSON_COMPACT);
	json_decref(v);
	if (s != NULL && r.wecom_url[0] != '\0')
		test_send(a, t, &r, "wecom", s);
	if (s != NULL && r.dingtalk_url[0] != '\0')
		test_send(a, t, &r, "dingtalk", s);
	free(s);
	log_info("notify_test", "brand=%u rule=%u", a->brand.id, r.id);
	t->started = 1;
	test_finish(t);
}

void
api_notify_rules_digest(struct api_call *a)
{
	struct notify_rule r;
	int rc;

	if (rule_of(a, &r) != 0)
		return;
	if (r.mode == NOTIFY_IMMEDIATE) {
		api_fail(a, 409, "not_digest", "this rule sends each alert at "
		    "once; it has no digest");
		return;
	}
	if ((rc = notify_digest_now(r.brand_id, r.id)) != 0) {
		api_store_fail(a, rc == SIGIL_ESTATE ? SIGIL_EBUSY : rc,
		    "notify digest");
		return;
	}
	api_reply(a, 202, json_pack("{s:I,s:b}", "id", (json_int_t)r.id,
	    "digest_requested", 1));
}
