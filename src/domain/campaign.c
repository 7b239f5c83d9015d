/*
 * campaign.c - scan-to-earn campaigns: the configuration, its checks and
 * the cache of the parsed rules.
 *
 * A campaign is JSON owned here: the store keeps the text and the usage
 * (points spent, claims, prizes given) and nothing else reads it. It is
 * validated strictly when written (loyalty_campaign_check: unknown keys,
 * types, ranges, dates, odds) and written back in canonical form, so
 * what the store holds always parses. A bare date is a China calendar
 * day (UTC+8), as daily caps count them. A draw prize may carry "cash"
 * and the campaign a "cash" object (issue 22): their format is cash.c's
 * (cash_prize_parse, cash_config_parse), and a cash prize needs the
 * campaign's cash budget.
 *
 * The cache. Every claim and every scan page asks which campaign rewards
 * a code: the brand's campaigns are parsed once into struct
 * campaign_rules and kept, CAMPAIGN_CACHE brands at a time (round robin),
 * until a change drops that brand's set (nothing else writes campaigns).
 * It lives in app->loyalty and is used on the event loop thread only.
 *
 * Changes are one writer op, campaign_save_op (run on the writer thread,
 * it touches only the store and its argument); the cache is dropped
 * after it, on the loop (campaign_saved), before the change is answered.
 * A pause reads the configuration it changes on the writer thread too,
 * so that it never writes back one that a change queued before it has
 * replaced.
 *
 * Owns the campaign configuration format and the cache. May call store,
 * log and util. Never knows about HTTP, never writes to the store on the
 * loop: every write is a writer op.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sigil/app.h"
#include "sigil/audit.h"
#include "sigil/campaign.h"
#include "sigil/cash.h"
#include "sigil/log.h"
#include "sigil/segment.h"
#include "sigil/loyalty_core.h"
#include "sigil/loyalty_util.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "sigil/writer.h"

#define CAMPAIGN_CACHE		64
#define POINTS_MAX		1000000

struct camp_set {
	uint32_t		brand_id;	/* 0: slot unused */
	size_t			n;
	struct campaign_rules	**v;
};

struct campaign_cache {
	struct camp_set	sets[CAMPAIGN_CACHE];
	unsigned	next;
};

/* ---- the configuration ---- */

static int
cfg_fail(char *err, size_t size, const char *msg)
{
	snprintf(err, size, "%s", msg);
	return SIGIL_EINVAL;
}

/*
 * An optional integer field in [lo, hi], into *out when present: 0, or
 * SIGIL_EINVAL with err set to msg when it is not such an integer.
 */
static int
opt_int(json_t *o, const char *key, int64_t lo, int64_t hi, int64_t *out,
    char *err, size_t esize, const char *msg)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL)
		return 0;
	if (!loyalty_int_in(v, lo, hi))
		return cfg_fail(err, esize, msg);
	*out = json_integer_value(v);
	return 0;
}

/* The same for an optional boolean. */
static int
opt_bool(json_t *o, const char *key, int *out, char *err, size_t esize,
    const char *msg)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL)
		return 0;
	if (!json_is_boolean(v))
		return cfg_fail(err, esize, msg);
	*out = json_is_true(v);
	return 0;
}

static int
parse_targets(json_t *o, struct campaign_rules *c, char *err, size_t esize)
{
	json_t *v, *x;
	size_t i;

	if ((v = json_object_get(o, "skus")) != NULL) {
		if (!json_is_array(v) || json_array_size(v) > CAMPAIGN_SKUS_MAX)
			return cfg_fail(err, esize, "'skus' must be an array "
			    "of at most 100 SKUs");
		json_array_foreach(v, i, x) {
			if (!loyalty_name_ok(x, STORE_NAME_MAX, "skus[]", err,
			    esize))
				return SIGIL_EINVAL;
			snprintf(c->skus[c->nskus++], STORE_NAME_BYTES + 1, "%s",
			    json_string_value(x));
		}
	}
	if ((v = json_object_get(o, "batches")) != NULL) {
		if (!json_is_array(v) ||
		    json_array_size(v) > CAMPAIGN_BATCHES_MAX)
			return cfg_fail(err, esize, "'batches' must be an "
			    "array of at most 1000 batch ids");
		json_array_foreach(v, i, x) {
			if (!loyalty_int_in(x, 1, UINT32_MAX))
				return cfg_fail(err, esize, "'batches' holds "
				    "batch ids (positive integers)");
			c->batches[c->nbatches++] =
			    (uint64_t)json_integer_value(x);
		}
	}
	if (c->nskus + c->nbatches == 0)
		return cfg_fail(err, esize, "name at least one product in "
		    "'skus' or one batch in 'batches'");
	return 0;
}

/* "starts" and "ends", rewritten in o as the canonical UTC instants. */
static int
parse_dates(json_t *o, struct campaign_rules *c, char *err, size_t esize)
{
	const char *starts = json_string_value(json_object_get(o, "starts"));
	const char *ends = json_string_value(json_object_get(o, "ends"));
	char ts[SIGIL_TIME_LEN + 1];

	if (sigil_time_parse(starts ? starts : "", &c->starts) != 0 ||
	    sigil_time_parse(ends ? ends : "", &c->ends) != 0)
		return cfg_fail(err, esize, "'starts' and 'ends' must be ISO "
		    "dates (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ)");
	/*
	 * A bare date is a China calendar day (UTC+8), as daily caps count
	 * them: "starts" at 00:00 and "ends" at 24:00 of that day there.
	 * The canonical form written back is the UTC instant.
	 */
	if (strlen(starts) == 10)
		c->starts -= CN_OFFSET_US;
	if (strlen(ends) == 10)
		c->ends += US_PER_DAY - CN_OFFSET_US;
	if (c->ends <= c->starts)
		return cfg_fail(err, esize, "'ends' must be after 'starts'");
	json_object_set_new(o, "starts", json_string(sigil_time_format(
	    c->starts, ts)));
	json_object_set_new(o, "ends", json_string(sigil_time_format(c->ends,
	    ts)));
	return 0;
}

static int
parse_points(json_t *o, struct campaign_rules *c, char *err, size_t esize)
{
	const char *key;
	json_t *v, *x;

	if (!loyalty_int_in(json_object_get(o, "points"), 1, POINTS_MAX))
		return cfg_fail(err, esize, "'points' (per consumer claim) "
		    "must be an integer from 1 to 1000000");
	c->points[CLAIM_CONSUMER] = json_integer_value(json_object_get(o,
	    "points"));
	if ((v = json_object_get(o, "roles")) != NULL) {
		if (!json_is_object(v) || json_object_size(v) == 0)
			return cfg_fail(err, esize, "'roles' must be an object "
			    "of role: points (consumer, retailer, sales)");
		c->points[CLAIM_CONSUMER] = 0;
		json_object_foreach(v, key, x) {
			int r = loyalty_role_parse(key);

			if (r == 0 || !loyalty_int_in(x, 1, POINTS_MAX))
				return cfg_fail(err, esize, "'roles' maps "
				    "consumer, retailer or sales to points "
				    "from 1 to 1000000");
			c->points[r] = json_integer_value(x);
		}
	}
	return 0;
}

static int
parse_draw(json_t *o, struct campaign_rules *c, char *err, size_t esize)
{
	json_t *v, *x;
	size_t i;
	double sum = 0;

	if ((v = json_object_get(o, "draw")) == NULL)
		return 0;
	if (!json_is_array(v) || json_array_size(v) > STORE_PRIZES_MAX)
		return cfg_fail(err, esize, "'draw' must be an array of at "
		    "most 8 prizes");
	json_array_foreach(v, i, x) {
		json_t *odds = json_object_get(x, "odds");
		json_t *cash = json_object_get(x, "cash");

		if (json_is_object(x) && !loyalty_name_ok(json_object_get(x,
		    "name"), 64, "draw[].name", err, esize))
			return SIGIL_EINVAL;
		if (!json_is_object(x) || json_object_size(x) != 3 +
		    (cash != NULL) || !json_is_number(odds) ||
		    !isfinite(json_number_value(odds)) ||
		    json_number_value(odds) < 0 ||
		    json_number_value(odds) > 1 ||
		    !loyalty_int_in(json_object_get(x, "stock"), 0, UINT32_MAX))
			return cfg_fail(err, esize, "each prize is "
			    "{\"name\": 1-64 characters, \"odds\": 0..1, "
			    "\"stock\": count, \"cash\": its amount, if any}");
		if (cash != NULL) {
			if (cash_prize_parse(cash, &c->cash[i], err, esize) != 0)
				return SIGIL_EINVAL;
			c->has_cash = 1;
		}
		snprintf(c->prize[i], sizeof c->prize[i], "%s",
		    json_string_value(json_object_get(x, "name")));
		c->odds[i] = json_number_value(odds);
		c->stock[i] = (uint32_t)json_integer_value(json_object_get(x,
		    "stock"));
		sum += c->odds[i];
	}
	if (sum > 1.0 + 1e-9)
		return cfg_fail(err, esize, "the prizes' odds add up to more "
		    "than 1");
	c->nprizes = (int)json_array_size(v);
	return 0;
}

/* "priority", "mode", "audience": how the campaign stacks (issue 21). */
static int
parse_stacking(json_t *o, struct campaign_rules *c, char *err, size_t esize)
{
	json_t *v = json_object_get(o, "mode");
	int64_t n = 0;
	int rc;

	if ((rc = opt_int(o, "priority", -CAMPAIGN_PRIORITY_MAX,
	    CAMPAIGN_PRIORITY_MAX, &n, err, esize, "'priority' must be an "
	    "integer from -1000000 to 1000000 (higher is judged first)")) != 0)
		return rc;
	c->priority = (int)n;
	if (v != NULL) {
		const char *m = json_string_value(v);

		if (m == NULL || (strcmp(m, "exclusive") != 0 &&
		    strcmp(m, "stackable") != 0))
			return cfg_fail(err, esize, "'mode' must be \"exclusive\" "
			    "(takes a claim alone) or \"stackable\" (adds its "
			    "points to the other stackable ones)");
		c->stackable = strcmp(m, "stackable") == 0;
	}
	n = 0;
	if ((rc = opt_int(o, "audience", 0, UINT32_MAX, &n, err, esize,
	    "'audience' must be a saved segment id (0: everyone)")) != 0)
		return rc;
	c->audience = (uint32_t)n;
	return 0;
}

/* "streak": {"claims": N, "days": D, "points": P}. */
static int
parse_streak(json_t *o, struct campaign_rules *c, char *err, size_t esize)
{
	json_t *v = json_object_get(o, "streak");

	if (v == NULL)
		return 0;
	if (!json_is_object(v) || json_object_size(v) != 3 ||
	    !loyalty_int_in(json_object_get(v, "claims"), 2, 1000) ||
	    !loyalty_int_in(json_object_get(v, "days"), 1, 366) ||
	    !loyalty_int_in(json_object_get(v, "points"), 1, POINTS_MAX))
		return cfg_fail(err, esize, "'streak' is {\"claims\": 2 to "
		    "1000, \"days\": 1 to 366, \"points\": 1 to 1000000}: the "
		    "points with the claims'th claim within days days");
	c->streak_claims = (uint32_t)json_integer_value(json_object_get(v,
	    "claims"));
	c->streak_days = (uint32_t)json_integer_value(json_object_get(v,
	    "days"));
	c->streak_points = json_integer_value(json_object_get(v, "points"));
	return 0;
}

/* "tier_multiplier": {"Gold": 1.5, ...}. */
static int
parse_tiers(json_t *o, struct campaign_rules *c, char *err, size_t esize)
{
	json_t *v = json_object_get(o, "tier_multiplier"), *x;
	const char *key;

	if (v == NULL)
		return 0;
	if (!json_is_object(v) || json_object_size(v) > CAMPAIGN_TIERS_MAX)
		return cfg_fail(err, esize, "'tier_multiplier' must be an object "
		    "of at most 8 tier names: factors");
	json_object_foreach(v, key, x) {
		json_t *name = json_string(key);
		int ok = name != NULL && loyalty_name_ok(name, 32,
		    "tier_multiplier", err, esize);

		json_decref(name);
		if (!ok)
			return SIGIL_EINVAL;
		if (!json_is_number(x) || !isfinite(json_number_value(x)) ||
		    json_number_value(x) < 0.1 || json_number_value(x) > 10)
			return cfg_fail(err, esize, "each 'tier_multiplier' "
			    "factor is a number from 0.1 to 10");
		snprintf(c->tier_name[c->ntiers], sizeof c->tier_name[0], "%s",
		    key);
		c->tier_factor[c->ntiers++] = json_number_value(x);
	}
	return 0;
}

/* The earning rules beyond points per claim (issue 21). */
static int
parse_earning(json_t *o, struct campaign_rules *c, char *err, size_t esize)
{
	static const struct {
		const char	*key;
		size_t		 off;
	} bonus[] = {
		{ "first_scan_bonus", offsetof(struct campaign_rules,
		    first_scan_bonus) },
		{ "registration_bonus", offsetof(struct campaign_rules,
		    registration_bonus) },
		{ "birthday_bonus", offsetof(struct campaign_rules,
		    birthday_bonus) },
		{ "seller_rebate", offsetof(struct campaign_rules,
		    seller_rebate) },
	};
	char msg[96];
	int rc;

	for (size_t i = 0; i < sizeof bonus / sizeof bonus[0]; i++) {
		snprintf(msg, sizeof msg, "'%s' must be 0 (none) to 1000000 "
		    "points", bonus[i].key);
		if ((rc = opt_int(o, bonus[i].key, 0, POINTS_MAX,
		    (int64_t *)((char *)c + bonus[i].off), err, esize,
		    msg)) != 0)
			return rc;
	}
	if ((rc = parse_streak(o, c, err, esize)) != 0)
		return rc;
	return parse_tiers(o, c, err, esize);
}

/* The campaign's "cash" settings, required with a cash prize (issue 22). */
static int
parse_cash(json_t *o, struct campaign_rules *c, char *err, size_t esize)
{
	json_t *v = json_object_get(o, "cash");

	if (v != NULL && cash_config_parse(v, &c->cashcfg, err, esize) != 0)
		return SIGIL_EINVAL;
	if (c->has_cash && c->cashcfg.budget_fen <= 0)
		return cfg_fail(err, esize, "a campaign with a cash prize needs "
		    "'cash': {\"budget_fen\": the cash budget in fen}");
	return 0;
}

/*
 * Parses o (a checked or to-be-checked configuration) into c. On success
 * o's dates are rewritten in canonical form.
 */
static int
camp_parse(json_t *o, struct campaign_rules *c, char *err, size_t esize)
{
	static const char *const keys[] = { "name", "skus", "batches",
	    "starts", "ends", "points", "roles", "daily_cap", "budget",
	    "territory", "require_pin", "draw", "expiry_days", "paused",
	    "priority", "mode", "audience", "first_scan_bonus",
	    "registration_bonus", "birthday_bonus", "streak",
	    "tier_multiplier", "seller_rebate", "cash" };
	const char *key;
	json_t *v;
	size_t i;
	int64_t n;
	int rc;

	memset(c, 0, sizeof *c);
	if (!json_is_object(o))
		return cfg_fail(err, esize, "the configuration must be a JSON "
		    "object");
	json_object_foreach(o, key, v) {
		for (i = 0; i < sizeof keys / sizeof keys[0]; i++)
			if (strcmp(key, keys[i]) == 0)
				break;
		if (i == sizeof keys / sizeof keys[0]) {
			snprintf(err, esize, "unknown field '%.40s'", key);
			return SIGIL_EINVAL;
		}
	}
	if (!loyalty_name_ok(json_object_get(o, "name"), 100, "name", err,
	    esize))
		return SIGIL_EINVAL;
	snprintf(c->name, sizeof c->name, "%s",
	    json_string_value(json_object_get(o, "name")));
	if ((rc = parse_targets(o, c, err, esize)) != 0 ||
	    (rc = parse_dates(o, c, err, esize)) != 0 ||
	    (rc = parse_points(o, c, err, esize)) != 0)
		return rc;
	n = c->daily_cap;
	if ((rc = opt_int(o, "daily_cap", 0, 100000, &n, err, esize,
	    "'daily_cap' must be 0 (none) to 100000 claims per customer per "
	    "day")) != 0)
		return rc;
	c->daily_cap = (uint32_t)n;
	if ((rc = opt_int(o, "budget", 0, LOYALTY_AMOUNT_MAX, &c->budget, err,
	    esize, "'budget' must be 0 (unlimited) to 10^12 points")) != 0)
		return rc;
	n = c->territory;
	if ((rc = opt_int(o, "territory", 1, UINT32_MAX, &n, err, esize,
	    "'territory' must be a distributor id")) != 0)
		return rc;
	c->territory = (uint32_t)n;
	if ((rc = opt_bool(o, "require_pin", &c->require_pin, err, esize,
	    "'require_pin' must be true or false")) != 0 ||
	    (rc = opt_bool(o, "paused", &c->paused, err, esize,
	    "'paused' must be true or false")) != 0)
		return rc;
	n = c->expiry_days;
	if ((rc = opt_int(o, "expiry_days", 0, 3650, &n, err, esize,
	    "'expiry_days' must be 0 (never) to 3650")) != 0)
		return rc;
	c->expiry_days = (uint32_t)n;
	if ((rc = parse_stacking(o, c, err, esize)) != 0 ||
	    (rc = parse_earning(o, c, err, esize)) != 0 ||
	    (rc = parse_draw(o, c, err, esize)) != 0)
		return rc;
	return parse_cash(o, c, err, esize);
}

int
loyalty_campaign_check(const char *json, char **out, char *err,
    size_t errsize)
{
	struct campaign_rules *c;
	json_error_t jerr;
	json_t *o;
	int rc;

	if (json == NULL || strlen(json) > STORE_CAMPAIGN_MAX / 2)
		return cfg_fail(err, errsize, "configuration too large");
	if ((o = json_loads(json, JSON_REJECT_DUPLICATES, &jerr)) == NULL)
		return cfg_fail(err, errsize, "not valid JSON");
	if ((c = malloc(sizeof *c)) == NULL) {
		json_decref(o);
		return SIGIL_ENOMEM;
	}
	rc = camp_parse(o, c, err, errsize);
	free(c);
	if (rc == 0 && (*out = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS |
	    JSON_REAL_PRECISION(15))) ==
	    NULL)
		rc = SIGIL_ENOMEM;
	json_decref(o);
	return rc;
}

json_t *
campaign_json(const struct campaign *cp)
{
	char ts[SIGIL_TIME_LEN + 1], tu[SIGIL_TIME_LEN + 1];
	json_t *cfg = json_loads(cp->config, 0, NULL), *prizes = json_array(),
	    *draw = json_object_get(cfg, "draw"), *p, *o;
	int64_t budget = json_integer_value(json_object_get(cfg, "budget"));
	size_t i, given = 0;

	json_array_foreach(draw, i, p) {
		if (i >= STORE_PRIZES_MAX)
			break;
		given += cp->prizes_given[i];
		json_array_append_new(prizes, json_pack("{s:O,s:O,s:O,s:I}",
		    "name", json_object_get(p, "name"), "odds",
		    json_object_get(p, "odds"), "stock", json_object_get(p,
		    "stock"), "given", (json_int_t)cp->prizes_given[i]));
	}
	o = json_pack("{s:i,s:s,s:s,s:b,s:o,s:{s:I,s:I,s:o,s:I,s:o}}", "id",
	    (int)cp->id, "created", sigil_time_format(cp->created, ts),
	    "updated", sigil_time_format(cp->updated ? cp->updated :
	    cp->created, tu), "active", !json_is_true(json_object_get(cfg,
	    "paused")), "config", cfg ? cfg : json_null(), "results", "claims",
	    (json_int_t)cp->claims, "points", (json_int_t)cp->points_spent,
	    "budget_left", budget > 0 ? json_integer(budget -
	    cp->points_spent) : json_null(), "prizes_given", (json_int_t)given,
	    "prizes", prizes);
	/* how it stacks, defaults shown (an old configuration has none) */
	json_object_set_new(o, "priority", json_integer(json_integer_value(
	    json_object_get(cfg, "priority"))));
	json_object_set_new(o, "mode", json_string(json_is_string(
	    json_object_get(cfg, "mode")) ? json_string_value(json_object_get(
	    cfg, "mode")) : "exclusive"));
	json_object_set_new(o, "audience", json_integer(json_integer_value(
	    json_object_get(cfg, "audience"))));
	return o;
}

/* ---- the cache ---- */

static void
camp_set_clear(struct camp_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof *s);
}

static int
camp_load_one(void *arg, const struct campaign *cp)
{
	struct camp_set *s = arg;
	struct campaign_rules *c, **v;
	char err[160];
	json_t *o;

	if ((o = json_loads(cp->config, 0, NULL)) == NULL)
		return 0;
	if ((c = malloc(sizeof *c)) == NULL ||
	    (v = realloc(s->v, (s->n + 1) * sizeof *v)) == NULL) {
		free(c);
		json_decref(o);
		return 1;
	}
	s->v = v;
	if (camp_parse(o, c, err, sizeof err) != 0) {
		log_warn("campaign_unreadable", "brand=%u id=%u", cp->brand_id,
		    cp->id);
		free(c);
	} else {
		c->id = cp->id;
		s->v[s->n++] = c;
	}
	json_decref(o);
	return 0;
}

static int
camp_order(const void *a, const void *b)
{
	const struct campaign_rules *x = *(struct campaign_rules *const *)a;
	const struct campaign_rules *y = *(struct campaign_rules *const *)b;

	if (x->priority != y->priority)
		return x->priority > y->priority ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static struct camp_set *
camps_of(struct campaign_cache *cc, struct app *app, uint32_t brand_id)
{
	struct camp_set *s;

	for (size_t i = 0; i < CAMPAIGN_CACHE; i++)
		if (cc->sets[i].brand_id == brand_id)
			return &cc->sets[i];
	s = &cc->sets[cc->next++ % CAMPAIGN_CACHE];
	camp_set_clear(s);
	if (store_campaign_each(app->store, brand_id, camp_load_one, s) < 0) {
		camp_set_clear(s);
		return NULL;
	}
	/* the order of the judgement: priority, higher first; then older */
	if (s->n > 1)
		qsort(s->v, s->n, sizeof *s->v, camp_order);
	s->brand_id = brand_id;
	return s;
}

static void
camps_forget(struct campaign_cache *cc, uint32_t brand_id)
{
	for (size_t i = 0; i < CAMPAIGN_CACHE; i++)
		if (cc->sets[i].brand_id == brand_id)
			camp_set_clear(&cc->sets[i]);
}

const struct campaign_rules *const *
campaign_rules_of(struct app *app, uint32_t brand_id, size_t *n)
{
	struct camp_set *s = camps_of(app->loyalty->camps, app, brand_id);

	*n = s ? s->n : 0;
	return s ? (const struct campaign_rules *const *)s->v : NULL;
}

/* The registration bonuses of a login (campaign.h). */
size_t
campaign_registration_credits(struct app *app, uint32_t brand_id,
    int64_t now, struct claim_credit *out, size_t max, int64_t *expires_at)
{
	const struct campaign_rules *const *v;
	size_t n, k = 0;

	*expires_at = 0;
	v = campaign_rules_of(app, brand_id, &n);
	for (size_t i = 0; i < n && k < max; i++) {
		const struct campaign_rules *c = v[i];

		if (c->paused || now < c->starts || now >= c->ends ||
		    c->registration_bonus <= 0 || c->audience != 0)
			continue;
		memset(&out[k], 0, sizeof out[k]);
		out[k].kind = CREDIT_BONUS;
		out[k].bonus = BONUS_REGISTRATION;
		out[k].campaign_id = c->id;
		out[k].points = c->registration_bonus;
		out[k].budget = c->budget;
		if (c->expiry_days != 0 && *expires_at == 0)
			*expires_at = now + (int64_t)c->expiry_days *
			    US_PER_DAY;
		k++;
	}
	return k;
}

/* A pause or resume: the stored configuration with "paused" changed. */
static int
save_pause(struct store *st, struct campaign_save *x)
{
	struct campaign cp;
	json_t *cfg;
	char *text;
	int rc;

	x->stage = CAMPAIGN_READ;
	if ((rc = store_campaign_get(st, x->brand_id, x->id, &cp)) != 0)
		return rc;
	cfg = json_loads(cp.config, 0, NULL);
	store_campaign_clear(&cp);
	x->stage = CAMPAIGN_UNREADABLE;
	if (cfg == NULL)
		return SIGIL_EINVAL;
	json_object_set_new(cfg, "paused", json_boolean(x->paused));
	text = json_dumps(cfg, JSON_COMPACT | JSON_SORT_KEYS |
	    JSON_REAL_PRECISION(15));
	json_decref(cfg);
	x->stage = CAMPAIGN_DUMP;
	if (text == NULL)
		return SIGIL_ENOMEM;
	x->stage = CAMPAIGN_CHECK;
	rc = loyalty_campaign_check(text, &x->canon, x->err, sizeof x->err);
	free(text);
	return rc;
}

/* The writer thread: touches only the store and x. */
static int
save_run(struct store *st, void *arg)
{
	struct campaign_save *x = arg;
	struct campaign cp = { 0 };
	int rc;

	if (x->canon == NULL && (rc = save_pause(st, x)) != 0)
		return rc;
	x->stage = CAMPAIGN_WRITE;
	if (x->id == 0) {
		cp.brand_id = x->brand_id;
		cp.config = x->canon;	/* copied by the store */
		rc = store_campaign_add(st, &cp);
		x->id = cp.id;
	} else
		rc = store_campaign_update(st, x->brand_id, x->id, x->canon);
	if (rc == 0)
		rc = store_campaign_get(st, x->brand_id, x->id, &x->out);
	return rc;
}

/*
 * The audit trail's words for a save: campaign_create, campaign_update
 * (the members that changed), campaign_pause or campaign_resume; the
 * new campaign's id once run made it.
 */
static int
save_audit(struct store *st, const void *arg, struct audit_entry *e,
    int after)
{
	const struct campaign_save *x = arg;
	struct campaign cp;
	json_t *d;

	if (after) {
		if (e->target_id[0] != '\0')
			return 0;
		audit_target(e, "campaign", "%u", x->id);
		return 1;
	}
	if (x->id == 0) {
		audit_action(e, "campaign_create");
		audit_detail_set(e, json_pack("{s:o}", "changes",
		    audit_diff_text(NULL, x->canon)));
		return 0;
	}
	audit_target(e, "campaign", "%u", x->id);
	if (store_campaign_get(st, x->brand_id, x->id, &cp) != 0)
		return 0;
	if (x->canon == NULL) {
		audit_action(e, x->paused ? "campaign_pause" :
		    "campaign_resume");
		d = json_loads(cp.config, 0, NULL);
		audit_detail_set(e, json_pack("{s:{s:{s:b,s:b}}}", "changes",
		    "paused", "before", json_is_true(json_object_get(d,
		    "paused")), "after", x->paused));
		json_decref(d);
	} else {
		audit_action(e, "campaign_update");
		audit_detail_set(e, json_pack("{s:o}", "changes",
		    audit_diff_text(cp.config, x->canon)));
	}
	store_campaign_clear(&cp);
	return 0;
}

const struct writer_op campaign_save_op = { "campaign_save", save_run,
    save_audit };

void
campaign_saved(struct app *app, struct campaign_save *x)
{
	camps_forget(app->loyalty->camps, x->brand_id);
	free(x->canon);
	x->canon = NULL;
}

/* ---- a saved segment in use as an audience (segment.h) ---- */

struct seg_use {
	uint32_t	segment_id;
	uint32_t	campaign_id;
};

static int
seg_use_one(void *arg, const struct campaign *cp)
{
	struct seg_use *u = arg;
	json_t *cfg = json_loads(cp->config, 0, NULL);
	int hit = json_integer_value(json_object_get(cfg, "audience")) ==
	    (json_int_t)u->segment_id;

	json_decref(cfg);
	if (hit)
		u->campaign_id = cp->id;
	return hit;
}

int
campaign_uses_segment(struct store *st, uint32_t brand_id,
    uint32_t segment_id, char *what, size_t size)
{
	struct seg_use u = { segment_id, 0 };
	int rc = store_campaign_each(st, brand_id, seg_use_one, &u);

	if (rc < 0)
		return rc;
	if (u.campaign_id == 0)
		return 0;
	snprintf(what, size, "campaign %u", u.campaign_id);
	return 1;
}

int
campaign_cache_new(struct campaign_cache **out)
{
	/* a segment that is a campaign's audience cannot be deleted */
	if (segment_users_register(campaign_uses_segment) != 0)
		return SIGIL_EFULL;
	return (*out = calloc(1, sizeof **out)) == NULL ? SIGIL_ENOMEM : 0;
}

void
campaign_cache_free(struct campaign_cache *cc)
{
	if (cc == NULL)
		return;
	for (size_t i = 0; i < CAMPAIGN_CACHE; i++)
		camp_set_clear(&cc->sets[i]);
	free(cc);
}
