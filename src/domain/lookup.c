/*
 * lookup.c - what a code is, without recording anything, and the
 * distributor territories scans and campaigns are judged against.
 *
 * Owns: the resolution of a parsed code to its key, batch, product and
 * no-history verdict (lookup_resolve, lookup_code); the territory cache.
 * May call: code, keyring, geo, store (reads only).
 * Never: writes to the store, or knows about HTTP.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sigil/code.h"
#include "sigil/geo.h"
#include "sigil/keyring.h"
#include "sigil/lookup.h"
#include "sigil/scan.h"
#include "sigil/store.h"
#include "sigil/util.h"

int
lookup_resolve(struct app *app, const struct code *code,
    const struct gs1_link *gs1, struct code_info *out, int *known)
{
	struct code_key key;
	struct key_meta meta;
	struct shipment shipment;
	uint32_t brand_id;

	*known = 0;
	if (keyring_key_get(app->keyring, code->key_id, &key, &brand_id) != 0 ||
	    code_verify(&key, code) != 0 ||
	    store_key_get(app->store, code->key_id, &meta) != 0 ||
	    store_batch_find_serial(app->store, brand_id, code->serial,
	    &out->batch) != 0 || out->batch.key_id != code->key_id ||
	    store_brand_get(app->store, brand_id, &out->brand) != 0 ||
	    store_product_get(app->store, brand_id, out->batch.sku,
	    &out->product) != 0)
		return VERDICT_COUNTERFEIT;
	if (gs1 != NULL && (strcmp(gs1->gtin, out->product.gtin) != 0 ||
	    (gs1->lot[0] != '\0' && strcmp(gs1->lot, out->batch.lot) != 0)))
		return VERDICT_COUNTERFEIT;
	*known = 1;
	out->serial = code->serial;
	if (meta.revoked != 0 || out->batch.state == BATCH_REVOKED ||
	    store_code_revoked(app->store, brand_id, code->serial, NULL) == 0)
		out->verdict = VERDICT_REVOKED;
	else if (out->batch.state != BATCH_ACTIVE && store_code_shipment(
	    app->store, brand_id, code->serial, &shipment) != 0)
		out->verdict = VERDICT_INACTIVE;	/* shipping activates (§2) */
	else
		out->verdict = VERDICT_GENUINE;
	return out->verdict;
}

uint32_t
lookup_key_brand(struct app *app, uint16_t key_id)
{
	struct code_key key;
	struct brand b;
	uint32_t brand_id;

	if (keyring_key_get(app->keyring, key_id, &key, &brand_id) != 0 ||
	    store_brand_get(app->store, brand_id, &b) != 0)
		return 0;
	return brand_id;
}

int
lookup_code(struct app *app, const char *text, struct code_info *out)
{
	struct code_info *info;
	struct code code;
	struct gs1_link gs1;
	int known, err = SIGIL_ENOTFOUND;

	if (code_parse_any(text, &code, &gs1) != 0)
		return SIGIL_EINVAL;
	if ((info = calloc(1, sizeof *info)) == NULL)
		return SIGIL_ENOMEM;
	(void)lookup_resolve(app, &code, gs1.gtin[0] ? &gs1 : NULL, info,
	    &known);
	if (known) {
		*out = *info;
		err = 0;
	}
	free(info);
	return err;
}

/*
 * ---- territories: parsed once, kept until the distributor is edited
 * (lookup_territory_forget, called on the loop once the edit committed)
 * ----
 */

#define TERRITORY_CACHE	256

static struct territory territories[TERRITORY_CACHE];

const struct territory *
lookup_territory(struct app *app, uint32_t brand_id, uint32_t distributor)
{
	struct territory *t = &territories[(brand_id * 31u + distributor) %
	    TERRITORY_CACHE];
	struct distributor d;

	if (t->brand_id == brand_id && t->distributor == distributor)
		return t;
	if (store_distributor_get(app->store, brand_id, distributor, &d) != 0)
		return NULL;
	geo_area_free(t->area);
	t->area = NULL;
	t->brand_id = brand_id;
	t->distributor = distributor;
	snprintf(t->name, sizeof t->name, "%s", d.name);
	if (d.territory != NULL)
		geo_area_parse(d.territory, strlen(d.territory), &t->area, NULL,
		    0);
	store_distributor_clear(&d);
	return t;
}

void
lookup_territory_forget(uint32_t brand_id, uint32_t distributor)
{
	struct territory *t = &territories[(brand_id * 31u + distributor) %
	    TERRITORY_CACHE];

	if (t->brand_id == brand_id && t->distributor == distributor) {
		geo_area_free(t->area);
		t->area = NULL;
		t->brand_id = 0;
		t->distributor = 0;
	}
}

void
lookup_fini(void)
{
	for (size_t i = 0; i < TERRITORY_CACHE; i++) {
		geo_area_free(territories[i].area);
		territories[i].area = NULL;
		territories[i].brand_id = 0;
	}
}
