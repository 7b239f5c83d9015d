/*
 * campaign.h - scan-to-earn campaigns (domain layer): the configuration
 * checked strictly and parsed into the rules a claim is judged by, the
 * per-brand cache of the running ones, and their JSON for the brand API.
 * The store keeps the configuration text and the usage counts; changes
 * are a writer op (writer.h).
 */
#ifndef SIGIL_CAMPAIGN_H
#define SIGIL_CAMPAIGN_H

#include <stddef.h>
#include <stdint.h>

#include "sigil/cash.h"
#include "sigil/store.h"

struct app;
struct campaign_cache;
struct customer;
struct json_t;
struct writer_op;

#define CAMPAIGN_SKUS_MAX	100
#define CAMPAIGN_BATCHES_MAX	1000
#define CAMPAIGN_TIERS_MAX	8
#define CAMPAIGN_PRIORITY_MAX	1000000

/* A campaign configuration, parsed. */
struct campaign_rules {
	uint32_t	id;
	char		name[401];
	int		paused;
	int64_t		starts, ends;
	int64_t		points[4];		/* by enum claim_role, 0 = not */
	uint32_t	daily_cap;
	int64_t		budget;
	uint32_t	territory;		/* distributor id, 0 = anywhere */
	int		require_pin;
	uint32_t	expiry_days;
	int		nprizes;
	char		prize[STORE_PRIZES_MAX][257];
	double		odds[STORE_PRIZES_MAX];
	uint32_t	stock[STORE_PRIZES_MAX];
	size_t		nskus, nbatches;
	char		skus[CAMPAIGN_SKUS_MAX][STORE_NAME_BYTES + 1];
	uint64_t	batches[CAMPAIGN_BATCHES_MAX];
	/* Stacking (issue 21): judged in priority order, higher first, ties
	 * older first; an old configuration is exclusive at priority 0. */
	int		priority;
	int		stackable;		/* "mode": 0 exclusive */
	uint32_t	audience;		/* saved segment id, 0 everyone */
	/* Earning rules, each 0 = none: points paid once per customer
	 * (first claim at the brand; a login that made the customer), once
	 * a year (first claim in the birthday month), once per streak (the
	 * streak_claims'th claim within streak_days days). */
	int64_t		first_scan_bonus, registration_bonus, birthday_bonus;
	uint32_t	streak_claims, streak_days;
	int64_t		streak_points;
	/* Base points times tier_factor for a customer of tier_name. */
	size_t		ntiers;
	char		tier_name[CAMPAIGN_TIERS_MAX][32 * 4 + 1];
	double		tier_factor[CAMPAIGN_TIERS_MAX];
	int64_t		seller_rebate;		/* to the code's bound seller */
	/* Cash (issue 22): each draw prize's amount (CASH_NONE: no cash),
	 * the campaign's "cash" settings, and whether any prize pays. */
	struct cash_prize cash[STORE_PRIZES_MAX];
	struct cash_config cashcfg;
	int		has_cash;
};

/*
 * Validates a campaign configuration strictly (unknown keys, types,
 * ranges, dates, odds summing above 1, the cash of prizes and the
 * campaign's cash settings: cash.h) and returns it re-serialised in
 * canonical form (malloc'd) in *out. On SIGIL_EINVAL, err says why.
 */
int loyalty_campaign_check(const char *json, char **out, char *err,
    size_t errsize);

/*
 * A change of a campaign, one writer op (campaign_save_op): canon, a
 * checked configuration (loyalty_campaign_check's), written as campaign
 * id of brand_id, or as a new one when id is 0 (id is set then); or,
 * with canon NULL, a pause or resume: the stored configuration with
 * "paused" set to paused, checked again (into canon) and written back,
 * read and written on the writer thread so that a change queued just
 * before is not lost. The row is then read back into out. run: 0, or
 * the error of the step stage names (ENOTFOUND for a campaign that is
 * not there; a check's EINVAL with err set).
 *
 * campaign_saved, on the loop after the op whatever it returned, drops
 * the brand's cached campaigns and frees canon; the caller clears out
 * (store_campaign_clear).
 */
enum campaign_stage {
	CAMPAIGN_WRITE,		/* the write and the read back; 0 also
				   when the op did not run */
	CAMPAIGN_READ,		/* a pause: reading the campaign */
	CAMPAIGN_UNREADABLE,	/* a pause: its configuration is no JSON */
	CAMPAIGN_DUMP,		/* serialising the configuration (ENOMEM) */
	CAMPAIGN_CHECK,		/* loyalty_campaign_check */
};
struct campaign_save {
	uint32_t	brand_id;
	uint32_t	id;
	char		*canon;		/* malloc'd */
	int		paused;		/* with canon NULL */
	int		stage;		/* enum campaign_stage, after run */
	char		err[320];	/* CAMPAIGN_CHECK's EINVAL */
	struct campaign	out;
};
extern const struct writer_op campaign_save_op;
void campaign_saved(struct app *app, struct campaign_save *x);

/* A stored campaign as the brand API shows it (configuration, results). */
struct json_t *campaign_json(const struct campaign *cp);

/*
 * The brand's readable campaigns, parsed, in the order a claim is judged
 * against them: priority, higher first; ties: the older (lower id)
 * first. *n of them; NULL when none or unreadable. Valid until the next
 * campaign_saved of that brand: copy what must outlive the event.
 */
const struct campaign_rules *const *campaign_rules_of(struct app *app,
    uint32_t brand_id, size_t *n);

/* ---- campaign_rules.c: the stacking judgement and the credits ---- */

#define CAMPAIGN_PICK_MAX	CLAIM_CREDITS_MAX

/*
 * The campaigns a claim of the batch or sku for role (0: any) by cu at
 * now is judged against, into out (at most max), in order: every
 * running one that covers the code, rewards the role and has cu in its
 * audience (cu NULL: audiences are not asked), by priority; the first
 * exclusive one alone, else every stackable one (out[0] the main one).
 * Returns how many (0: none applies). Valid as campaign_rules_of's.
 */
size_t campaign_judge(struct app *app, uint32_t brand_id, uint64_t batch_id,
    const char *sku, int role, int64_t now, const struct customer *cu,
    const struct campaign_rules **out, size_t max);
/* The main campaign of campaign_judge without a customer, or NULL. */
const struct campaign_rules *campaign_find(struct app *app,
    uint32_t brand_id, uint64_t batch_id, const char *sku, int role,
    int64_t now);
/* 1 when cu is in c's audience (none: everyone; cu NULL: 1). */
int campaign_audience_has(struct app *app, uint32_t brand_id,
    const struct campaign_rules *c, const struct customer *cu, int64_t now);
/*
 * The credit list of cl (a claim of serial for role by cu, made by
 * reward_claim_make under v[0]) for the judged campaigns v[0..n): base
 * points of v[0] (CREDIT_BASE) and of each other (CREDIT_STACK), each
 * times cu's tier factor; then, while there is room
 * (CLAIM_CREDITS_MAX), each campaign's first-scan, birthday and streak
 * bonuses and the seller rebate. cl->points becomes v[0]'s base points.
 * The store judges which bonuses are due and which budgets can pay.
 */
void campaign_credits_make(struct app *app,
    const struct campaign_rules *const *v, size_t n, int role,
    const struct customer *cu, uint64_t serial, int64_t now,
    struct claim *cl);
/*
 * The registration bonuses of the brand's running campaigns without an
 * audience (BONUS_REGISTRATION credits, at most max) for a login that
 * makes a customer at now, and when their points expire (the first
 * campaign's expiry_days; 0 never). Returns how many.
 */
size_t campaign_registration_credits(struct app *app, uint32_t brand_id,
    int64_t now, struct claim_credit *out, size_t max, int64_t *expires_at);
/*
 * o, a campaign_json object, gains under "results" what its bonuses and
 * rebates paid: "bonuses": {first_scan|registration|birthday|streak:
 * {count, points}}, "rebates": {count, points}.
 */
void campaign_results_add(struct store *st, uint32_t brand_id,
    struct json_t *o);
/*
 * segment.h's check of a saved segment in use: 1 when a campaign of the
 * brand (paused or ended ones too) has it as its audience, what set to
 * "campaign N"; 0; <0 a store error. campaign_cache_new registers it.
 */
int campaign_uses_segment(struct store *st, uint32_t brand_id,
    uint32_t segment_id, char *what, size_t size);
/* "base", "stack", "bonus", "rebate"; "first_scan", "registration",
 * "birthday", "streak". */
const char *campaign_credit_kind_name(int kind);
const char *campaign_bonus_name(int bonus);

/* ---- campaign_check.c: a campaign against the catalog and the others */

/*
 * Checks that what canon (a loyalty_campaign_check'd configuration)
 * names exists for brand_id: each of 'skus' a product, each of
 * 'batches' a batch of the brand not revoked, 'territory' a
 * distributor; and, with 'require_pin', that a PIN print file was made
 * (store/pins.h) for each batch named and for at least one batch of each
 * SKU named. 0, or SIGIL_EINVAL with field (as "skus[2]"), code (an API
 * error code: unknown_product, unknown_batch, unknown_distributor,
 * no_pin_file) and msg set; or a storage error.
 */
struct campaign_refusal {
	char	field[32];
	char	code[32];
	char	msg[320];
};
int campaign_targets_check(struct store *st, uint32_t brand_id,
    const char *canon, struct campaign_refusal *out);

/*
 * What campaign id shares with the exclusive ones judged before it
 * (campaign_judge: any exclusive one for a stackable one), as JSON:
 * "overridden_by", the id of one that takes every claim this one would
 * reward while it runs (null if none); "overlaps", the ones that take
 * some of them (one itself wholly overridden takes none); and, when it
 * requires a PIN, "batches_without_pins", the batches it covers that no
 * PIN print file was made for. NULL when id is not readable.
 */
struct json_t *campaign_overlap_json(struct app *app, uint32_t brand_id,
    uint32_t id);
/* The same for every campaign object (with its "id") in the array arr,
 * added to each; n campaigns cost n^2 comparisons. */
void campaign_overlap_list(struct app *app, uint32_t brand_id,
    struct json_t *arr);

/* The cache app->loyalty holds (loyalty_core.c makes and frees it). */
int campaign_cache_new(struct campaign_cache **out);
void campaign_cache_free(struct campaign_cache *cc);

#endif
