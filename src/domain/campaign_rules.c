/*
 * campaign_rules.c - which campaigns a claim is judged against (the
 * stacking judgement) and what it pays: the credit list (store/claims.h)
 * of base points, stacked points, bonuses and the seller's rebate, each
 * charged by the store to its own campaign's budget in the claim's
 * transaction; and the registration bonus a login pays.
 *
 * The judgement. Every running campaign (not paused, between its dates)
 * that covers the code, rewards the role and whose audience the
 * customer is in, in priority order (higher first; ties: the older
 * first): the first exclusive one takes the claim alone; when none is
 * exclusive, every stackable one adds its points, the first being the
 * claim's main campaign. A configuration written before stacking has no
 * priority and no mode: exclusive at priority 0, so that the oldest
 * running campaign still takes the claim, as it always did.
 *
 * The rules. Base points are the campaign's points for the role, times
 * the customer's tier factor (tier_multiplier), rounded, at least 1.
 * first_scan_bonus: with the customer's first claim at the brand;
 * birthday_bonus: with a claim in the customer's birthday month (the
 * profile's birthday, China time), once a year; streak: with the
 * claims'th claim within days days, once per such window. The store
 * decides whether a bonus is due and pays it at most once per period
 * (store_credits.c), so that concurrent claims cannot pay one twice.
 * seller_rebate: to the seller the code is bound to (seller_of_code).
 *
 * May call the campaign cache (campaign.c), segment (audience), member
 * (the tier), profile (the birthday), seller (the rebate), store reads
 * and util. Never writes, never knows about HTTP.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "sigil/app.h"
#include "sigil/campaign.h"
#include "sigil/loyalty_util.h"
#include "sigil/member.h"
#include "sigil/profile.h"
#include "sigil/store.h"
#include "sigil/segment.h"
#include "sigil/seller.h"
#include "sigil/util.h"

/* Whether c runs at now and covers the batch or sku for role (0: any). */
static int
camp_applies(const struct campaign_rules *c, uint64_t batch_id,
    const char *sku, int role, int64_t now)
{
	if (c->paused || now < c->starts || now >= c->ends ||
	    (role != 0 && c->points[role] <= 0))
		return 0;
	for (size_t i = 0; i < c->nbatches; i++)
		if (c->batches[i] == batch_id)
			return 1;
	for (size_t i = 0; i < c->nskus; i++)
		if (strcmp(c->skus[i], sku) == 0)
			return 1;
	return 0;
}

int
campaign_audience_has(struct app *app, uint32_t brand_id,
    const struct campaign_rules *c, const struct customer *cu, int64_t now)
{
	struct segment_def *d = NULL;
	int rc;

	if (c->audience == 0 || cu == NULL)
		return 1;
	if (segment_load(app->store, brand_id, c->audience, &d) != 0)
		return 0;	/* a segment gone or unreadable: nobody */
	rc = segment_match(app->store, brand_id, d, cu, now);
	segment_def_free(d);
	return rc > 0;
}

size_t
campaign_judge(struct app *app, uint32_t brand_id, uint64_t batch_id,
    const char *sku, int role, int64_t now, const struct customer *cu,
    const struct campaign_rules **out, size_t max)
{
	const struct campaign_rules *const *v;
	size_t n, k = 0;

	v = campaign_rules_of(app, brand_id, &n);
	for (size_t i = 0; i < n; i++) {
		const struct campaign_rules *c = v[i];

		if (!camp_applies(c, batch_id, sku, role, now) ||
		    !campaign_audience_has(app, brand_id, c, cu, now))
			continue;
		if (!c->stackable) {
			out[0] = c;
			return 1;
		}
		if (k < max)
			out[k++] = c;
	}
	return k;
}

const struct campaign_rules *
campaign_find(struct app *app, uint32_t brand_id, uint64_t batch_id,
    const char *sku, int role, int64_t now)
{
	const struct campaign_rules *v[CAMPAIGN_PICK_MAX];

	return campaign_judge(app, brand_id, batch_id, sku, role, now, NULL, v,
	    CAMPAIGN_PICK_MAX) > 0 ? v[0] : NULL;
}

/* ---- the credits ---- */

/* The year and month (1..12) of now in China. */
static void
cn_month(int64_t now, int *year, int *month)
{
	time_t t = (time_t)((now + CN_OFFSET_US) / 1000000);
	struct tm tm;

	gmtime_r(&t, &tm);
	*year = tm.tm_year + 1900;
	*month = tm.tm_mon + 1;
}

/* What the credits of a claim need to know of the customer, once. */
struct who {
	int		tier_known;
	char		tier[32 * 4 + 1];
	int		birthday_known;
	int		birthday_now;	/* the birthday month is this month */
	int		seller_known;
	uint64_t	seller;
};

static const char *
who_tier(struct app *app, const struct customer *cu, int64_t now,
    struct who *w)
{
	struct member_class mc;
	json_t *settings;

	if (!w->tier_known) {
		w->tier_known = 1;
		settings = member_settings(app, cu->brand_id);
		if (member_classify(app->store, settings, cu, now, &mc) == 0)
			snprintf(w->tier, sizeof w->tier, "%s", mc.tier);
		json_decref(settings);
	}
	return w->tier;
}

static int
who_birthday(struct app *app, const struct customer *cu, int64_t now,
    struct who *w)
{
	const char *b;
	json_t *p;
	int y, m;

	if (!w->birthday_known) {
		w->birthday_known = 1;
		cn_month(now, &y, &m);
		p = profile_load(app, cu->brand_id, cu->id);
		b = json_string_value(json_object_get(p, "birthday"));
		w->birthday_now = b != NULL && strlen(b) >= 7 &&
		    atoi(b + 5) == m;
		json_decref(p);
	}
	return w->birthday_now;
}

static uint64_t
who_seller(struct app *app, const struct customer *cu, uint64_t serial,
    struct who *w)
{
	uint32_t store_id = 0;

	if (!w->seller_known) {
		w->seller_known = 1;
		if (seller_of_code(app->store, cu->brand_id, serial, &w->seller,
		    &store_id) != 0 || w->seller == cu->id)
			w->seller = 0;
	}
	return w->seller;
}

/* c's base points for role, times the customer's tier factor. */
static int64_t
base_points(struct app *app, const struct campaign_rules *c, int role,
    const struct customer *cu, int64_t now, struct who *w)
{
	int64_t p = c->points[role];
	const char *tier;

	if (c->ntiers == 0)
		return p;
	tier = who_tier(app, cu, now, w);
	for (size_t i = 0; i < c->ntiers; i++)
		if (strcmp(c->tier_name[i], tier) == 0) {
			int64_t x = (int64_t)llround((double)p *
			    c->tier_factor[i]);

			return x < 1 ? 1 : x;
		}
	return p;
}

static struct claim_credit *
credit_add(struct claim *cl, int kind, const struct campaign_rules *c,
    int64_t points)
{
	struct claim_credit *cr;

	if (cl->ncredits >= CLAIM_CREDITS_MAX || points <= 0)
		return NULL;
	cr = &cl->credits[cl->ncredits++];
	memset(cr, 0, sizeof *cr);
	cr->kind = kind;
	cr->campaign_id = c->id;
	cr->points = points;
	cr->budget = c->budget;
	return cr;
}

void
campaign_credits_make(struct app *app, const struct campaign_rules *const *v,
    size_t n, int role, const struct customer *cu, uint64_t serial,
    int64_t now, struct claim *cl)
{
	struct who w = { 0 };
	struct claim_credit *cr;
	int year, month;

	cl->ncredits = 0;
	/* the points first, then what comes with them while there is room */
	for (size_t i = 0; i < n; i++)
		credit_add(cl, i == 0 ? CREDIT_BASE : CREDIT_STACK, v[i],
		    base_points(app, v[i], role, cu, now, &w));
	if (cl->ncredits > 0)
		cl->points = cl->credits[0].points;
	cn_month(now, &year, &month);
	for (size_t i = 0; i < n; i++) {
		const struct campaign_rules *c = v[i];

		if (role == CLAIM_CONSUMER && c->first_scan_bonus > 0 &&
		    (cr = credit_add(cl, CREDIT_BONUS, c,
		    c->first_scan_bonus)) != NULL)
			cr->bonus = BONUS_FIRST_SCAN;
		if (c->birthday_bonus > 0 && who_birthday(app, cu, now, &w) &&
		    (cr = credit_add(cl, CREDIT_BONUS, c,
		    c->birthday_bonus)) != NULL) {
			cr->bonus = BONUS_BIRTHDAY;
			cr->period = (uint32_t)year;
		}
		if (c->streak_points > 0 && (cr = credit_add(cl, CREDIT_BONUS, c,
		    c->streak_points)) != NULL) {
			cr->bonus = BONUS_STREAK;
			cr->need = c->streak_claims;
			cr->days = c->streak_days;
		}
		if (role == CLAIM_CONSUMER && c->seller_rebate > 0 &&
		    who_seller(app, cu, serial, &w) != 0 &&
		    (cr = credit_add(cl, CREDIT_REBATE, c,
		    c->seller_rebate)) != NULL)
			cr->customer_id = w.seller;
	}
}

const char *
campaign_credit_kind_name(int kind)
{
	switch (kind) {
	case CREDIT_BASE:	return "base";
	case CREDIT_STACK:	return "stack";
	case CREDIT_BONUS:	return "bonus";
	case CREDIT_REBATE:	return "rebate";
	default:		return "unknown";
	}
}

const char *
campaign_bonus_name(int bonus)
{
	switch (bonus) {
	case BONUS_FIRST_SCAN:		return "first_scan";
	case BONUS_REGISTRATION:	return "registration";
	case BONUS_BIRTHDAY:		return "birthday";
	case BONUS_STREAK:		return "streak";
	default:			return "unknown";
	}
}

void
campaign_results_add(struct store *st, uint32_t brand_id, json_t *o)
{
	struct campaign_credits cc;
	json_t *res = json_object_get(o, "results"), *b;
	uint32_t id = (uint32_t)json_integer_value(json_object_get(o, "id"));

	if (!json_is_object(res) ||
	    store_campaign_credits(st, brand_id, id, &cc) != 0)
		return;
	b = json_object();
	for (int k = 1; k <= BONUS_KINDS; k++)
		json_object_set_new(b, campaign_bonus_name(k), json_pack(
		    "{s:I,s:I}", "count", (json_int_t)cc.bonus_count[k],
		    "points", (json_int_t)cc.bonus_points[k]));
	json_object_set_new(res, "bonuses", b);
	json_object_set_new(res, "rebates", json_pack("{s:I,s:I}", "count",
	    (json_int_t)cc.rebate_count, "points",
	    (json_int_t)cc.rebate_points));
}
