/*
 * message_plan.c - who a run of a message reaches, and what each gets.
 *
 * For each member of the audience, in customer id order: does the
 * trigger hold for them now (and not already for this occasion: the
 * mark)? Have they granted marketing consent (consent_granted: the
 * ledger's latest entry, nothing cached)? Are they under the frequency
 * cap (their marketing rows of the last per_days days, whatever the
 * definition)? Then a row is queued with the text rendered for them,
 * due now or, inside quiet hours, when they end: deferred, not dropped.
 * A dry run counts and renders the first few; a real run (on the writer
 * thread, message_sched.c) collects the rows and marks for
 * store_message_run, which writes them in one transaction.
 *
 * Quiet hours are read in the customer's zone: China's (UTC+8), unless
 * the region of their latest located scan (segment facts of their
 * devices) is in another country: then the brand's zone, the
 * definition's quiet_hours.zone.
 *
 * Owns nothing past a call. May call store (reads), consent, member
 * (ledger, tier), profile (birthday, name), ledger.h, util. Reads only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sigil/app.h"
#include "sigil/consent.h"
#include "sigil/ledger.h"
#include "sigil/loyalty_util.h"
#include "sigil/member.h"
#include "sigil/message.h"
#include "sigil/profile.h"
#include "sigil/store.h"
#include "sigil/util.h"

#include "message_impl.h"

#define ZONE_US		CN_OFFSET_US
#define MINUTE_US	(60 * US_PER_S)

struct plan_ctx {
	struct app		*app;
	const struct message_def *d;
	const struct message_cfg *cfg;
	int64_t			 now;
	struct message_plan	*plan;
	struct message_run	*run;
	size_t			 rows_cap, marks_cap;
	struct brand		 brand;
	json_t			*settings;	/* tiers, when needed */
	int			 err;
};

void
message_run_clear(struct message_run *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->rows[i].payload);
	free(r->rows);
	free(r->marks);
	r->rows = NULL;
	r->marks = NULL;
	r->n = r->nm = 0;
}

/* When a message planned at now may go: now, or quiet hours' end. */
int64_t
message_quiet_until(const struct message_cfg *c, int64_t now, int zone_min)
{
	int64_t zone_us = (int64_t)zone_min * MINUTE_US;
	int64_t local = now + zone_us, day = local - local % US_PER_DAY;
	int m = (int)((local - day) / MINUTE_US), in;
	int64_t end;

	if (!c->quiet)
		return now;
	in = c->quiet_from < c->quiet_to ? m >= c->quiet_from &&
	    m < c->quiet_to : m >= c->quiet_from || m < c->quiet_to;
	if (!in)
		return now;
	end = day + c->quiet_to * MINUTE_US;
	if (end <= local)
		end += US_PER_DAY;
	return end - zone_us;
}

/* ---- the customer's zone ---- */

struct zone_find {
	struct store	*st;
	uint32_t	 brand_id;
	int64_t		 at;
	uint32_t	 region;
	int		 err;
};

static int
zone_fact(void *arg, int kind, const char *val, size_t vlen, int64_t at,
    uint32_t region)
{
	struct zone_find *z = arg;

	(void)val;
	(void)vlen;
	if (kind == SEGF_LAST_REGION && region != 0 && at >= z->at) {
		z->at = at;
		z->region = region;
	}
	return 0;
}

static int
zone_device(void *arg, uint64_t device)
{
	struct zone_find *z = arg;
	int rc = store_device_facts(z->st, z->brand_id, device, zone_fact, z);

	if (rc < 0) {
		z->err = rc;
		return 1;
	}
	return 0;
}

/*
 * The zone quiet hours are read in for cu: China's, unless the region
 * of their latest scan with a region (over every device they logged in
 * on: segment facts) is in another country; then the brand's (cfg).
 */
static int
customer_zone(struct plan_ctx *x, const struct customer *cu, int *out)
{
	struct zone_find z = { x->app->store, cu->brand_id, 0, 0, 0 };
	struct store_region r;
	int rc;

	*out = (int)(ZONE_US / MINUTE_US);
	if ((rc = store_customer_devices(x->app->store, cu->brand_id, cu->id,
	    zone_device, &z)) < 0)
		return rc;
	if (z.err != 0)
		return z.err;
	if (z.region == 0)
		return 0;
	if ((rc = store_region_get(x->app->store, z.region, &r)) != 0)
		return rc == SIGIL_ENOTFOUND ? 0 : rc;
	if (r.place.country[0] != '\0' && strcmp(r.place.country, "CN") != 0)
		*out = x->cfg->zone_min;
	return 0;
}

/* The text with its placeholders filled in (out: cap bytes). */
static void
render(const char *text, const char *const vals[5], char *out, size_t cap)
{
	static const char *const names[] = { "{name}", "{points}", "{tier}",
		"{expiring}", "{brand}" };
	size_t o = 0;

	for (const char *p = text; *p != '\0' && o + 1 < cap; ) {
		int hit = -1;

		for (int i = 0; *p == '{' && i < 5; i++)
			if (strncmp(p, names[i], strlen(names[i])) == 0)
				hit = i;
		if (hit < 0) {
			out[o++] = *p++;
			continue;
		}
		o += (size_t)snprintf(out + o, cap - o, "%s", vals[hit]);
		if (o >= cap)
			o = cap - 1;
		p += strlen(names[hit]);
	}
	out[o] = '\0';
}

static int
uses(const struct message_cfg *c, const char *ph)
{
	return strstr(c->text, ph) != NULL;
}

/* What the trigger says for cu: 1 due (with the occasion's *mark), 0
 * not, < 0 an error. */
static int
trigger_due(struct plan_ctx *x, const struct customer *cu,
    const struct ledger_buf *lb, const char *tier, json_t *profile,
    int64_t *mark, int64_t *expiring)
{
	const struct message_cfg *c = x->cfg;
	int64_t now = x->now, had;
	int rc;

	*mark = 0;
	switch (c->trigger) {
	case TRIG_NONE:
		return 1;
	case TRIG_BIRTHDAY: {
		const char *b = json_string_value(json_object_get(profile,
		    "birthday"));
		char today[SIGIL_TIME_LEN + 1];

		sigil_time_format(now + ZONE_US, today);
		if (b == NULL || strlen(b) != 10 || strncmp(b + 5, today + 5,
		    5) != 0)
			return 0;
		*mark = atoi(today);		/* the year */
		break;
	}
	case TRIG_POINTS_EXPIRING: {
		struct ledger_entry *ex = NULL;
		size_t nex = 0;
		int64_t first = 0, sum = 0;

		if ((rc = ledger_due_expiries(lb->v, lb->n, now + c->days *
		    US_PER_DAY, &ex, &nex)) != 0)
			return rc;
		for (size_t i = 0; i < nex; i++) {
			if (ex[i].at <= now)
				continue;	/* lapsed already */
			sum += -ex[i].points;
			if (first == 0 || ex[i].at < first)
				first = ex[i].at;
		}
		free(ex);
		if (sum <= 0)
			return 0;
		*expiring = sum;
		*mark = first;
		break;
	}
	case TRIG_NO_SCAN: {
		int64_t last = 0;

		/* The latest claim (its EARN entry), else joining. */
		for (size_t i = 0; i < lb->n; i++)
			if (lb->v[i].type == LEDGER_EARN && lb->v[i].at > last)
				last = lb->v[i].at;
		if (last == 0)
			last = cu->created;
		if (now - last < c->days * US_PER_DAY)
			return 0;
		*mark = last;
		break;
	}
	case TRIG_TIER_REACHED:
		if (strcmp(tier, c->tier) != 0)
			return 0;
		*mark = 1;
		break;
	}
	rc = store_message_mark(x->app->store, x->d->brand_id, x->d->id,
	    cu->id, &had);
	if (rc == 0 && had == *mark)
		return 0;			/* this occasion had it */
	if (rc != 0 && rc != SIGIL_ENOTFOUND)
		return rc;
	return 1;
}

static char *
payload_of(const struct message_cfg *c, uint32_t message_id,
    const char *text)
{
	json_t *o = json_pack("{s:s}", "text", text);
	char *s;

	if (o == NULL)
		return NULL;
	if (c->template_id[0] != '\0') {
		json_object_set_new(o, "template_id", json_string(
		    c->template_id));
		json_object_set_new(o, "field", json_string(c->field));
		if (c->page[0] != '\0')
			json_object_set_new(o, "page", json_string(c->page));
	}
	if (c->hook != 0)
		json_object_set_new(o, "subscription", json_integer(c->hook));
	json_object_set_new(o, "message", json_integer(message_id));
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

static int
queue_row(struct plan_ctx *x, const struct customer *cu, const char *text,
    int64_t next_at, int64_t mark)
{
	struct message_run *r = x->run;
	struct outbox_msg *m;
	void *grown;

	if (r->n == x->rows_cap) {
		size_t more = x->rows_cap ? x->rows_cap * 2 : 64;

		if ((grown = realloc(r->rows, more * sizeof *r->rows)) == NULL)
			return SIGIL_ENOMEM;
		r->rows = grown;
		x->rows_cap = more;
	}
	m = &r->rows[r->n];
	memset(m, 0, sizeof *m);
	m->brand_id = x->d->brand_id;
	m->kind = OUTBOX_MARKETING;
	m->customer_id = cu->id;
	snprintf(m->channel, sizeof m->channel, "%s", x->cfg->channel);
	m->source = x->d->id;
	m->created = x->now;
	m->next_at = next_at;
	if ((m->payload = payload_of(x->cfg, x->d->id, text)) == NULL)
		return SIGIL_ENOMEM;
	r->n++;
	if (x->cfg->trigger == TRIG_NONE)
		return 0;
	if (r->nm == x->marks_cap) {
		size_t more = x->marks_cap ? x->marks_cap * 2 : 64;

		if ((grown = realloc(r->marks, more * sizeof *r->marks)) ==
		    NULL)
			return SIGIL_ENOMEM;
		r->marks = grown;
		x->marks_cap = more;
	}
	r->marks[r->nm].customer_id = cu->id;
	r->marks[r->nm].value = mark;
	r->nm++;
	return 0;
}

static int
judge(void *arg, const struct customer *cu)
{
	struct plan_ctx *x = arg;
	const struct message_cfg *c = x->cfg;
	struct message_plan *p = x->plan;
	struct ledger_buf lb = { 0 };
	struct member_class mc;
	json_t *profile = NULL;
	char points[24], expiring_s[24], name[PROFILE_TEXT_MAX * 4 + 1];
	char text[sizeof p->preview[0].text];
	const char *vals[5];
	int64_t mark = 0, expiring = 0, next_at, balance = 0;
	uint32_t n;
	int rc, zone = 8 * 60;

	p->audience++;
	mc.tier[0] = '\0';
	if (uses(c, "{points}") || c->trigger == TRIG_POINTS_EXPIRING ||
	    c->trigger == TRIG_NO_SCAN) {
		if ((rc = member_ledger_load(x->app, cu->brand_id, cu->id,
		    &lb)) != 0)
			goto out;
		balance = member_balance_of(lb.v, lb.n, x->now);
	}
	if ((uses(c, "{tier}") || c->trigger == TRIG_TIER_REACHED) &&
	    (rc = member_classify(x->app->store, x->settings, cu, x->now,
	    &mc)) != 0)
		goto out;
	if ((uses(c, "{name}") || c->trigger == TRIG_BIRTHDAY) &&
	    (profile = profile_load(x->app, cu->brand_id, cu->id)) == NULL) {
		rc = 0;				/* unreadable: no birthday */
		goto out;
	}
	if ((rc = trigger_due(x, cu, &lb, mc.tier, profile, &mark,
	    &expiring)) <= 0)
		goto out;
	p->due++;
	if ((rc = consent_granted(x->app, cu->brand_id, cu->id,
	    CONSENT_MARKETING)) != 1)
		goto out;
	p->consenting++;
	if (c->cap_max != 0) {
		if ((rc = store_outbox_count_since(x->app->store, cu->brand_id,
		    cu->id, OUTBOX_MARKETING, x->now - (int64_t)c->cap_days *
		    US_PER_DAY, &n)) != 0)
			goto out;
		if (n >= c->cap_max) {
			p->capped++;
			rc = 0;
			goto out;
		}
	}
	if (c->quiet && (rc = customer_zone(x, cu, &zone)) != 0)
		goto out;
	next_at = message_quiet_until(c, x->now, zone);
	if (next_at != x->now)
		p->quiet++;
	snprintf(points, sizeof points, "%lld", (long long)balance);
	snprintf(expiring_s, sizeof expiring_s, "%lld", (long long)expiring);
	snprintf(name, sizeof name, "%s", json_string_value(json_object_get(
	    profile, "name")) != NULL ? json_string_value(json_object_get(
	    profile, "name")) : "会员");
	vals[0] = name;
	vals[1] = points;
	vals[2] = mc.tier;
	vals[3] = expiring_s;
	vals[4] = x->brand.name;
	render(c->text, vals, text, sizeof text);
	p->queued++;
	if (p->npreview < MESSAGE_PREVIEW_MAX) {
		p->preview[p->npreview].customer_id = cu->id;
		p->preview[p->npreview].next_at = next_at;
		memcpy(p->preview[p->npreview].text, text, sizeof text);
		p->npreview++;
	}
	rc = x->run != NULL ? queue_row(x, cu, text, next_at, mark) : 0;
out:
	/* Not due, no consent, capped: the next customer; an error (< 0)
	 * ends the walk. */
	json_decref(profile);
	free(lb.v);
	if (rc < 0) {
		x->err = rc;
		return 1;
	}
	return 0;
}

int
message_plan(struct app *app, const struct message_def *d,
    const struct message_cfg *cfg, int64_t now, struct message_plan *plan,
    struct message_run *run)
{
	struct plan_ctx x;
	int rc;

	memset(plan, 0, sizeof *plan);
	memset(&x, 0, sizeof x);
	x.app = app;
	x.d = d;
	x.cfg = cfg;
	x.now = now;
	x.plan = plan;
	x.run = run;
	if (run != NULL) {
		memset(run, 0, sizeof *run);
		run->brand_id = d->brand_id;
		run->id = d->id;
		run->at = now;
		run->expect_updated = d->updated;
	}
	if ((rc = store_brand_get(app->store, d->brand_id, &x.brand)) != 0)
		return rc;
	if ((x.settings = member_settings_read(app->store, d->brand_id,
	    NULL)) == NULL)
		return SIGIL_ENOMEM;
	rc = message_audience_each(app->store, d->brand_id, cfg->audience, now,
	    judge, &x);
	json_decref(x.settings);
	if (rc == 0 || rc == 1)
		rc = x.err;
	else if (rc > 0)
		rc = SIGIL_EIO;
	if (rc != 0 && run != NULL)
		message_run_clear(run);
	return rc;
}
