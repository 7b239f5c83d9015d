/*
 * notify_scan.c - finds the new alerts for each notification rule and
 * hands what is due to the messages outbox; registers the smtp, wecom
 * and dingtalk channels with the dispatcher (message_dispatch.c).
 *
 * A timer on sigild's loop every NOTIFY_TICK_MS copies the active rules
 * and, for each with no delivery being written, reads the brand's
 * alerts whose ids are past the rule's cursor (a cursor over the alerts
 * table's ids, like a webhook's over the scan log: the scan path writes
 * nothing for it). Alerts of types the rule does not want are skipped
 * in memory. What is due becomes one writer op (store_notify_deliver):
 * the cursor moves and the messages enter the outbox (OUTBOX_ALERT,
 * source = the rule id) in one transaction, so an alert is handed over
 * exactly once and then delivered at least once by the dispatcher.
 *
 * Immediate rules: one message per new alert per channel (at most
 * NOTIFY_BATCH_MAX alerts a tick; the rest next tick). Digest rules: at
 * their due time (notify_next_due after the last delivery, or when asked
 * through notify_digest_now), one message per channel listing the new
 * alerts (NOTIFY_DIGEST_MAX listed, the rest counted); nothing new,
 * nothing sent and nothing written.
 *
 * An alert raised again on the same code (a later counterfeit scan of
 * the brand, a clone's code scanned again, a resolved alert seen anew)
 * updates its row without a new id: a second walk, every
 * NOTIFY_RESCAN_US for immediate rules and at each digest, finds the
 * alerts older than the cursor that are still new and were seen again
 * since the rule's watermark (seen_at, the latest last_at it has walked,
 * kept with each delivery), and tells of them again. An acknowledged
 * alert is not told again until it is resolved and raised anew.
 *
 * May call notify.c, the channels, store (reads), writer, message.h's
 * registration, log. Never writes from the loop.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>

#include "sigil/app.h"
#include "sigil/log.h"
#include "sigil/message.h"
#include "sigil/notify.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "sigil/writer.h"

#define NOTIFY_WALK_MAX		5000	/* alerts examined per rule per tick */
#define NOTIFY_CHANNELS		3
#define NOTIFY_RESCAN_US	(10LL * 1000000)	/* seen-again walks */

struct slot {
	struct notify	*n;
	uint32_t	brand_id, id;
	uint64_t	seen;		/* skipped in memory past the cursor */
	int64_t		seen_at;	/* seen-again watermark, in memory */
	int64_t		rescanned;	/* when the seen-again walk last ran */
	int64_t		checked;	/* digest: due times looked at */
	int		force;		/* a digest asked for now */
	int		busy;		/* a delivery in the writer */
	struct writer_job job;
	struct notify_delivery del;
	struct outbox_msg msgs[NOTIFY_BATCH_MAX * NOTIFY_CHANNELS];
};

struct notify {
	struct app	*app;
	struct event	*tick;
	struct slot	**slots;
	size_t		nslots, cap;
	struct notify_rule *rules;	/* this tick's copy */
	size_t		nrules, rules_cap;
};

static struct notify *running;

WRITER_OP_STORE(op_notify_deliver, "notify_deliver", store_notify_deliver);

static void
slot_clear(struct slot *s)
{
	for (size_t i = 0; i < s->del.n; i++)
		free(s->msgs[i].payload);
	memset(s->msgs, 0, sizeof s->msgs);
	memset(&s->del, 0, sizeof s->del);
}

static void
delivered(struct writer_job *job)
{
	struct slot *s = job->arg;

	s->busy = 0;
	if (job->err != 0)
		log_error("notify_deliver", "brand=%u rule=%u err=%s",
		    s->brand_id, s->id, sigil_strerror(job->err));
	else if (!s->del.gone && s->del.n > 0)
		log_info("notify_queued", "brand=%u rule=%u messages=%zu "
		    "cursor=%llu", s->brand_id, s->id, s->del.n,
		    (unsigned long long)s->del.cursor);
	slot_clear(s);
}

static struct slot *
slot_of(struct notify *n, const struct notify_rule *r)
{
	struct slot *s, **grown;

	for (size_t i = 0; i < n->nslots; i++)
		if (n->slots[i]->brand_id == r->brand_id &&
		    n->slots[i]->id == r->id)
			return n->slots[i];
	if (n->nslots == n->cap) {
		size_t cap = n->cap ? n->cap * 2 : 16;

		if ((grown = realloc(n->slots, cap * sizeof *grown)) == NULL)
			return NULL;
		n->slots = grown;
		n->cap = cap;
	}
	if ((s = calloc(1, sizeof *s)) == NULL)
		return NULL;
	s->n = n;
	s->brand_id = r->brand_id;
	s->id = r->id;
	n->slots[n->nslots++] = s;
	return s;
}

/* ---- what is new ---- */

struct found {
	uint32_t	types;
	size_t		max;		/* listed at most */
	struct alert	*a;
	size_t		n, more;
	uint64_t	last;		/* the last id examined */
};

/*
 * Alerts seen again: older than the cursor (announced before, or of a
 * type skipped), first seen by the last walk (at <= watermark), seen
 * again since (last_at > watermark) and still new (a brand that
 * acknowledged one is not told again until it is resolved and raised
 * anew).
 */
struct again {
	struct found	*f;
	uint64_t	cursor;
	int64_t		watermark, high;
	int		digest;
};

static int
again_one(void *arg, const struct alert *a)
{
	struct again *g = arg;
	struct found *f = g->f;

	if (a->last_at > g->high)
		g->high = a->last_at;
	if (a->id > g->cursor || a->at > g->watermark || a->type <= 0 ||
	    a->type >= 32 || !(f->types & 1u << a->type))
		return 0;
	if (f->n < f->max)
		f->a[f->n++] = *a;
	else if (g->digest)
		f->more++;
	return 0;
}

static int
found_one(void *arg, const struct alert *a)
{
	struct found *f = arg;

	f->last = a->id;
	if (a->type <= 0 || a->type >= 32 || !(f->types & 1u << a->type))
		return 0;
	if (f->n < f->max)
		f->a[f->n++] = *a;
	else
		f->more++;
	return 0;
}

/* Adds one message of rule r on channel with payload (stolen). */
static void
add_msg(struct slot *s, const struct notify_rule *r, const char *channel,
    char *payload)
{
	struct outbox_msg *m;

	if (payload == NULL)
		return;
	m = &s->msgs[s->del.n++];
	memset(m, 0, sizeof *m);
	m->brand_id = r->brand_id;
	m->kind = OUTBOX_ALERT;
	snprintf(m->channel, sizeof m->channel, "%s", channel);
	m->source = r->id;
	m->payload = payload;
}

static char *
dump(json_t *o)
{
	char *s = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	return s;
}

/* The messages of one notification (a[0..n-1], more not listed). */
static int
compose(struct slot *s, const struct notify_rule *r, const struct alert *a,
    size_t n, size_t more, const char *brand)
{
	struct notify_text t;
	json_t *to;
	char *list, *tok, *save = NULL;
	int rc;

	if ((rc = notify_compose(r, a, n, more, brand, &t)) != 0)
		return rc;
	if (r->emails[0] != '\0' && notify_smtp_ready()) {
		to = json_array();
		if ((list = strdup(r->emails)) != NULL) {
			for (tok = strtok_r(list, ",", &save); tok != NULL;
			    tok = strtok_r(NULL, ",", &save))
				json_array_append_new(to, json_string(tok));
			free(list);
		}
		add_msg(s, r, "smtp", dump(json_pack("{s:o,s:s,s:s}", "to", to,
		    "subject", t.subject, "text", t.text)));
	}
	if (r->wecom_url[0] != '\0')
		add_msg(s, r, "wecom", dump(json_pack("{s:I,s:s,s:s}", "rule",
		    (json_int_t)r->id, "title", t.subject, "markdown",
		    t.markdown)));
	if (r->dingtalk_url[0] != '\0')
		add_msg(s, r, "dingtalk", dump(json_pack("{s:I,s:s,s:s}",
		    "rule", (json_int_t)r->id, "title", t.subject, "markdown",
		    t.markdown)));
	notify_text_clear(&t);
	return 0;
}

static void
submit(struct notify *n, struct slot *s, const struct notify_rule *r,
    uint64_t cursor, int64_t last_sent, int64_t seen_at)
{
	int rc;

	s->del.brand_id = r->brand_id;
	s->del.rule_id = r->id;
	s->del.cursor = cursor;
	s->del.last_sent = last_sent;
	s->del.seen_at = seen_at;
	s->del.msgs = s->msgs;
	memset(&s->job, 0, sizeof s->job);
	s->job.kind = WRITER_OP;
	s->job.op = &op_notify_deliver;
	s->job.op_arg = &s->del;
	s->job.base = n->app->base;
	s->job.done = delivered;
	s->job.arg = s;
	if ((rc = writer_submit(n->app->writer, &s->job)) != 0) {
		log_error("notify_deliver", "brand=%u rule=%u err=%s",
		    r->brand_id, r->id, sigil_strerror(rc));
		slot_clear(s);
		return;
	}
	s->busy = 1;
}

static void
rule_tick(struct notify *n, const struct notify_rule *r, int64_t now)
{
	struct alert_query q = { 0 };
	struct alert list[NOTIFY_DIGEST_MAX];
	struct found f = { 0 };
	struct brand b;
	struct slot *s;
	int digest = r->mode != NOTIFY_IMMEDIATE, rc;

	if ((s = slot_of(n, r)) == NULL || s->busy)
		return;
	if (digest && !s->force && now < notify_next_due(r,
	    r->last_sent > s->checked ? r->last_sent : s->checked))
		return;
	q.oldest_first = 1;
	q.after = r->cursor > s->seen ? r->cursor : s->seen;
	/* Immediate: the next NOTIFY_BATCH_MAX alerts at most (the walk
	 * cannot stop early: store_alert_each takes a stop as an error). */
	q.limit = digest ? NOTIFY_WALK_MAX : NOTIFY_BATCH_MAX;
	f.types = r->types;
	f.a = list;
	f.max = digest ? NOTIFY_DIGEST_MAX : NOTIFY_BATCH_MAX;
	f.last = q.after;
	if ((rc = store_alert_each(n->app->store, r->brand_id, &q, found_one,
	    &f)) < 0) {
		log_error("notify_scan", "brand=%u rule=%u err=%s", r->brand_id,
		    r->id, sigil_strerror(rc));
		return;
	}
	s->force = 0;
	if (s->seen_at < r->seen_at)
		s->seen_at = r->seen_at;
	if (digest || now - s->rescanned >= NOTIFY_RESCAN_US) {
		struct again g = { &f, q.after, s->seen_at, s->seen_at,
		    digest };
		struct alert_query q2 = { 0 };

		q2.since = s->seen_at + 1;
		q2.statuses = 1u << ALERT_NEW;
		if ((rc = store_alert_each(n->app->store, r->brand_id, &q2,
		    again_one, &g)) < 0) {
			log_error("notify_scan", "brand=%u rule=%u err=%s",
			    r->brand_id, r->id, sigil_strerror(rc));
			return;
		}
		s->rescanned = now;
		s->seen_at = g.high;
	}
	if (f.n == 0) {
		s->seen = f.last;	/* nothing for this rule: no write */
		s->checked = now;
		return;
	}
	if (store_brand_get(n->app->store, r->brand_id, &b) != 0)
		snprintf(b.name, sizeof b.name, "#%u", r->brand_id);
	if (digest)
		rc = compose(s, r, f.a, f.n, f.more, b.name);
	else
		for (size_t i = 0; i < f.n && (rc = compose(s, r, &f.a[i], 1, 0,
		    b.name)) == 0; i++)
			;
	if (rc != 0) {
		slot_clear(s);
		return;
	}
	s->checked = now;
	/* Nothing to send on (no SMTP server for an e-mail-only rule): the
	 * cursor still moves, so the alerts are not announced later. */
	submit(n, s, r, f.last, digest ? now : 0, s->seen_at);
}

static int
copy_rule(void *arg, const struct notify_rule *r)
{
	struct notify *n = arg;
	struct notify_rule *grown;

	if (!r->active)
		return 0;
	if (n->nrules == n->rules_cap) {
		size_t cap = n->rules_cap ? n->rules_cap * 2 : 16;

		if ((grown = realloc(n->rules, cap * sizeof *grown)) == NULL)
			return SIGIL_ENOMEM;
		n->rules = grown;
		n->rules_cap = cap;
	}
	n->rules[n->nrules++] = *r;
	return 0;
}

static void
tick(evutil_socket_t fd, short what, void *arg)
{
	struct notify *n = arg;
	int64_t now = sigil_now_us();
	int rc;

	(void)fd;
	(void)what;
	n->nrules = 0;
	if ((rc = store_notify_rule_each(n->app->store, 0, copy_rule, n)) < 0)
		log_error("notify_scan", "err=%s", sigil_strerror(rc));
	for (size_t i = 0; i < n->nrules; i++)
		rule_tick(n, &n->rules[i], now);
}

int
notify_digest_now(uint32_t brand_id, uint32_t rule_id)
{
	struct notify_rule r = { .brand_id = brand_id, .id = rule_id };
	struct slot *s;

	if (running == NULL || (s = slot_of(running, &r)) == NULL)
		return SIGIL_ESTATE;
	s->force = 1;
	return 0;
}

int
notify_start(struct app *app, struct notify **out)
{
	struct timeval tv = { NOTIFY_TICK_MS / 1000,
	    (NOTIFY_TICK_MS % 1000) * 1000 };
	struct notify *n;
	int rc;

	if ((rc = notify_seal_ready(app->keyring)) != 0)
		return rc;
	if ((n = calloc(1, sizeof *n)) == NULL)
		return SIGIL_ENOMEM;
	n->app = app;
	if ((n->tick = event_new(app->base, -1, EV_PERSIST, tick, n)) == NULL ||
	    evtimer_add(n->tick, &tv) != 0) {
		notify_free(n);
		return SIGIL_ENOMEM;
	}
	running = n;
	*out = n;
	return 0;
}

void
notify_free(struct notify *n)
{
	if (n == NULL)
		return;
	if (running == n)
		running = NULL;
	if (n->tick != NULL)
		event_free(n->tick);
	for (size_t i = 0; i < n->nslots; i++) {
		slot_clear(n->slots[i]);
		free(n->slots[i]);
	}
	free(n->slots);
	free(n->rules);
	free(n);
}

/* ---- the channels ---- */

/* A refusal for good (no server, no rule): answered at once. */
static int
refuse(int rc, channel_done_fn done, void *arg, const char *word)
{
	if (rc == SIGIL_ENOMEM)
		return rc;	/* the dispatcher retries */
	done(arg, 0, 0, 0, word);
	return 0;
}

static int
smtp_send(struct app *app, const struct outbox_msg *m, channel_done_fn done,
    void *arg)
{
	int rc = notify_smtp_send(app, m->payload, done, arg);

	return rc == 0 ? 0 : refuse(rc, done, arg, rc == SIGIL_ESTATE ?
	    "no_smtp_server" : "bad_payload");
}

static int
wecom_send(struct app *app, const struct outbox_msg *m, channel_done_fn done,
    void *arg)
{
	int rc = notify_wecom_send(app, m->brand_id, m->payload, done, arg);

	return rc == 0 ? 0 : refuse(rc, done, arg, rc == SIGIL_ENOTFOUND ?
	    "no_rule_or_robot" : "bad_payload");
}

static int
dingtalk_send(struct app *app, const struct outbox_msg *m,
    channel_done_fn done, void *arg)
{
	int rc = notify_dingtalk_send(app, m->brand_id, m->payload, done, arg);

	return rc == 0 ? 0 : refuse(rc, done, arg, rc == SIGIL_ENOTFOUND ?
	    "no_rule_or_robot" : "bad_payload");
}

static const struct channel_ops channel_smtp = { "smtp", smtp_send };
static const struct channel_ops channel_wecom = { "wecom", wecom_send };
static const struct channel_ops channel_dingtalk = { "dingtalk",
    dingtalk_send };

int
notify_channels_register(void)
{
	int rc;

	if ((rc = message_channel_register(&channel_smtp)) != 0 ||
	    (rc = message_channel_register(&channel_wecom)) != 0 ||
	    (rc = message_channel_register(&channel_dingtalk)) != 0)
		return rc;
	return 0;
}
