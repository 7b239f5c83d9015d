/*
 * lookup.h - what a code is, without recording anything: the key, the
 * signature, the batch, the product and the verdicts that need no
 * history (counterfeit, revoked, inactive); and the distributor
 * territories scans and campaigns are judged against, parsed once.
 * Shared by the consumer scan path, the reward claim and the brand API.
 */
#ifndef SIGIL_LOOKUP_H
#define SIGIL_LOOKUP_H

#include <stdint.h>

#include "sigil/app.h"
#include "sigil/code.h"
#include "sigil/store.h"

struct geo_area;

/* A code as a scan sees it. */
struct code_info {
	int		verdict;	/* enum scan_verdict, no history */
	uint64_t	serial;
	struct brand	brand;
	struct batch	batch;
	struct product	product;
};

/*
 * Everything about a parsed code that needs no history: returns the
 * verdict (VERDICT_COUNTERFEIT, _REVOKED, _INACTIVE or _GENUINE) and
 * sets *known when the key verified and the brand, batch and product
 * were found (they are then filled in out; serial and verdict too).
 * gs1, when not NULL, must name the product's GTIN (and lot, if set).
 */
int lookup_resolve(struct app *app, const struct code *code,
    const struct gs1_link *gs1, struct code_info *out, int *known);

/*
 * The brand whose key key_id is (a forged tag still names one): the
 * brand a counterfeit scan of it counts for; 0 when the key id is not
 * in the keyring or its brand is gone.
 */
uint32_t lookup_key_brand(struct app *app, uint16_t key_id);

/*
 * Resolves a code, a compact code URL or a Digital Link like GET /S/ does
 * (key, signature, batch, product; revoked/inactive): 0 with *out set
 * when the code's key verifies (out->verdict genuine, revoked or
 * inactive), SIGIL_EINVAL when it does not parse, SIGIL_ENOTFOUND when
 * it is counterfeit.
 */
int lookup_code(struct app *app, const char *text, struct code_info *out);

/* A distributor's territory, parsed once and kept until it is edited
 * (the loop's cache: call from the loop thread only). */
struct territory {
	uint32_t	brand_id, distributor;
	struct geo_area	*area;		/* NULL: none or unusable */
	char		name[STORE_TEXT_BYTES + 1];
};

/* The territory of (brand_id, distributor), or NULL if no such one. */
const struct territory *lookup_territory(struct app *app, uint32_t brand_id,
    uint32_t distributor);

/* Drops (brand_id, distributor) from the cache: it was edited, the next
 * lookup reads it again. */
void lookup_territory_forget(uint32_t brand_id, uint32_t distributor);

/* Frees the territory cache at shutdown. */
void lookup_fini(void);

#endif
