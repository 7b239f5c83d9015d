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

#include "sigil/store.h"

struct app;
struct campaign_cache;
struct json_t;
struct writer_op;

#define CAMPAIGN_SKUS_MAX	100
#define CAMPAIGN_BATCHES_MAX	1000

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
};

/*
 * Validates a campaign configuration strictly (unknown keys, types,
 * ranges, dates, odds summing above 1) and returns it re-serialised in
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
 * The running campaign (not paused, between its dates) that rewards the
 * batch or sku for role (0: any role), or NULL. Valid until the next
 * campaign_saved of that brand: copy what must outlive the event.
 */
const struct campaign_rules *campaign_find(struct app *app,
    uint32_t brand_id, uint64_t batch_id, const char *sku, int role,
    int64_t now);

/*
 * The brand's readable campaigns, parsed, in the order campaign_find
 * tries them (id order: the oldest running one wins), *n of them; NULL
 * when none or unreadable. Valid as campaign_find's result is.
 */
const struct campaign_rules *const *campaign_rules_of(struct app *app,
    uint32_t brand_id, size_t *n);

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
 * What campaign id shares with the ones campaign_find tries before it,
 * as JSON: "overridden_by", the id of an earlier campaign that takes
 * every claim this one would reward while it runs (null if none);
 * "overlaps", the earlier ones that take some of them (an earlier one
 * itself wholly overridden takes none); and, when it
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
