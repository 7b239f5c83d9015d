/*
 * campaign_check.c - a campaign set against the catalog and against the
 * brand's other campaigns, so that it cannot be set up wrong unseen.
 *
 * On a write (campaign_targets_check): every SKU, batch and territory it
 * names must exist (a campaign on a typo rewards nothing, ever), and a
 * campaign requiring a hidden PIN must cover batches whose PIN print
 * file was made. PINs come from `sigil mint --format csv --pin` on the
 * packaging line's machine, which holds the PIN key; the server never
 * makes or serves one (SPEC §8), it only knows that a file was made,
 * from the note the CLI leaves (store/pins.h).
 *
 * On a read (campaign_overlap_json): a claim is judged against the
 * running campaigns in priority order (campaign_rules.c): the first
 * exclusive one that applies takes it alone, stackable ones add up only
 * when no exclusive one applies. So an exclusive campaign judged before
 * another (or any exclusive one, for a stackable one) may take its
 * claims unseen. This says which one overrides it entirely
 * ("overridden_by") or in part ("overlaps"): one with an audience takes
 * only its members' claims, so never all (unless it has the same
 * audience); a stackable one never takes another's. One that is itself
 * wholly overridden takes nothing, so it is named in neither.
 *
 * May call store (reads), campaign.c (the parsed rules) and util. Never
 * writes, never knows about HTTP.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sigil/app.h"
#include "sigil/campaign.h"
#include "sigil/segment.h"
#include "sigil/store.h"
#include "sigil/util.h"

#define PINLESS_MAX	100

static int
refuse(struct campaign_refusal *out, const char *field, const char *code,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
refuse(struct campaign_refusal *out, const char *field, const char *code,
    const char *fmt, ...)
{
	va_list ap;

	snprintf(out->field, sizeof out->field, "%s", field);
	snprintf(out->code, sizeof out->code, "%s", code);
	va_start(ap, fmt);
	vsnprintf(out->msg, sizeof out->msg, fmt, ap);
	va_end(ap);
	return SIGIL_EINVAL;
}

/* Whether some unrevoked batch of sku has a PIN print file. */
struct sku_pins {
	struct store	*st;
	const char	*sku;
	int		 batches, with_pins;
};

static int
sku_pin_batch(void *arg, const struct batch *b)
{
	struct sku_pins *x = arg;
	struct pin_file pf;

	if (strcmp(b->sku, x->sku) != 0 || b->state == BATCH_REVOKED)
		return 0;
	x->batches++;
	if (store_pin_file_get(x->st, b->brand_id, b->id, &pf) == 0)
		x->with_pins++;
	return 0;
}

static int
check_skus(struct store *st, uint32_t brand_id, json_t *skus, int pin,
    struct campaign_refusal *out)
{
	char field[32];
	struct product p;
	json_t *v;
	size_t i;
	int rc;

	json_array_foreach(skus, i, v) {
		const char *sku = json_string_value(v);
		struct sku_pins sp = { st, sku, 0, 0 };

		snprintf(field, sizeof field, "skus[%zu]", i);
		if ((rc = store_product_get(st, brand_id, sku, &p)) ==
		    SIGIL_ENOTFOUND)
			return refuse(out, field, "unknown_product", "'%s': "
			    "there is no product with SKU '%.64s'", field,
			    sku);
		if (rc != 0)
			return rc;
		if (!pin)
			continue;
		if ((rc = store_batch_each(st, brand_id, sku_pin_batch,
		    &sp)) < 0)
			return rc;
		if (sp.with_pins == 0)
			return refuse(out, "require_pin", "no_pin_file",
			    "'require_pin': no batch of '%.64s' has a PIN "
			    "print file; make one on the packaging line with "
			    "`sigil mint --batch ID --format csv --pin`", sku);
	}
	return 0;
}

static int
check_batches(struct store *st, uint32_t brand_id, json_t *batches, int pin,
    struct campaign_refusal *out)
{
	char field[32];
	struct batch b;
	struct pin_file pf;
	json_t *v;
	size_t i;
	int rc;

	json_array_foreach(batches, i, v) {
		uint64_t id = (uint64_t)json_integer_value(v);

		snprintf(field, sizeof field, "batches[%zu]", i);
		rc = store_batch_get(st, id, &b);
		if (rc == SIGIL_ENOTFOUND || (rc == 0 && b.brand_id != brand_id))
			return refuse(out, field, "unknown_batch", "'%s': there "
			    "is no batch %llu", field, (unsigned long long)id);
		if (rc != 0)
			return rc;
		if (b.state == BATCH_REVOKED)
			return refuse(out, field, "unknown_batch", "'%s': batch "
			    "%llu is revoked", field, (unsigned long long)id);
		if (pin && (rc = store_pin_file_get(st, brand_id, id, &pf)) ==
		    SIGIL_ENOTFOUND)
			return refuse(out, "require_pin", "no_pin_file",
			    "'require_pin': batch %llu has no PIN print file; "
			    "make one on the packaging line with `sigil mint "
			    "--batch %llu --format csv --pin`",
			    (unsigned long long)id, (unsigned long long)id);
		if (pin && rc != 0)
			return rc;
	}
	return 0;
}

int
campaign_targets_check(struct store *st, uint32_t brand_id,
    const char *canon, struct campaign_refusal *out)
{
	json_t *o = json_loads(canon, 0, NULL), *terr, *aud;
	struct distributor d;
	int pin, rc;

	if (o == NULL)
		return SIGIL_ENOMEM;
	pin = json_is_true(json_object_get(o, "require_pin"));
	if ((rc = check_skus(st, brand_id, json_object_get(o, "skus"), pin,
	    out)) != 0 || (rc = check_batches(st, brand_id,
	    json_object_get(o, "batches"), pin, out)) != 0)
		goto done;
	if ((aud = json_object_get(o, "audience")) != NULL &&
	    json_integer_value(aud) != 0) {
		struct segment_def *seg = NULL;

		rc = segment_load(st, brand_id, (uint32_t)json_integer_value(aud),
		    &seg);
		segment_def_free(seg);
		if (rc == SIGIL_ENOTFOUND || rc == SIGIL_EINVAL) {
			rc = refuse(out, "audience", "unknown_segment",
			    "'audience': there is no saved segment %lld",
			    (long long)json_integer_value(aud));
			goto done;
		}
		if (rc != 0)
			goto done;
	}
	if ((terr = json_object_get(o, "territory")) != NULL) {
		rc = store_distributor_get(st, brand_id,
		    (uint32_t)json_integer_value(terr), &d);
		if (rc == 0)
			store_distributor_clear(&d);
		else if (rc == SIGIL_ENOTFOUND)
			rc = refuse(out, "territory", "unknown_distributor",
			    "'territory': there is no distributor %lld",
			    (long long)json_integer_value(terr));
	}
done:
	json_decref(o);
	return rc;
}

/* ---- overlaps ---- */

static int
rules_has_sku(const struct campaign_rules *c, const char *sku)
{
	for (size_t i = 0; i < c->nskus; i++)
		if (strcmp(c->skus[i], sku) == 0)
			return 1;
	return 0;
}

static int
rules_has_batch(const struct campaign_rules *c, uint64_t id)
{
	for (size_t i = 0; i < c->nbatches; i++)
		if (c->batches[i] == id)
			return 1;
	return 0;
}

/* Whether e names a batch of sku (and so takes some of sku's claims). */
static int
rules_has_batch_of(struct store *st, const struct campaign_rules *e,
    const char *sku)
{
	struct batch b;

	for (size_t i = 0; i < e->nbatches; i++)
		if (store_batch_get(st, e->batches[i], &b) == 0 &&
		    strcmp(b.sku, sku) == 0)
			return 1;
	return 0;
}

/*
 * How much of c's claims e (tried before c) takes: 0 none, 1 some, 2 all
 * of them, whenever c runs.
 */
static int
rules_shadow(struct store *st, const struct campaign_rules *e,
    const struct campaign_rules *c)
{
	int any = 0, all = 1, roles = 0;
	struct batch b;

	/* a stackable one takes nothing: it adds to the others */
	if (e->stackable || e->paused || e->ends <= c->starts ||
	    c->ends <= e->starts)
		return 0;
	for (int r = 1; r < 4; r++) {
		if (c->points[r] == 0)
			continue;
		if (e->points[r] > 0)
			roles = 1;
		else
			all = 0;
	}
	if (!roles)
		return 0;
	for (size_t i = 0; i < c->nskus; i++) {
		if (rules_has_sku(e, c->skus[i]))
			any = 1;
		else {
			all = 0;
			any |= rules_has_batch_of(st, e, c->skus[i]);
		}
	}
	for (size_t i = 0; i < c->nbatches; i++) {
		int cov = rules_has_batch(e, c->batches[i]) ||
		    (store_batch_get(st, c->batches[i], &b) == 0 &&
		    rules_has_sku(e, b.sku));

		any |= cov;
		all &= cov;
	}
	if (!any)
		return 0;
	if (all && e->starts <= c->starts && e->ends >= c->ends &&
	    (e->territory == 0 || e->territory == c->territory) &&
	    (e->audience == 0 || e->audience == c->audience))
		return 2;
	return 1;
}

/*
 * Whether v[j] is judged before v[i] (v in the judgement's order): an
 * exclusive one before any stackable one, else the earlier in v.
 */
static int
before(const struct campaign_rules *const *v, size_t i, size_t j)
{
	return j != i && (j < i || v[i]->stackable);
}

/*
 * Whether v[i] never takes a claim: an earlier campaign takes all of
 * them. Such a campaign overrides nothing and overlaps nothing. dead[i]
 * remembers the answer (-1: not known yet), so that a list of n
 * campaigns costs n^2 comparisons, not n^3.
 */
static int
rules_dead(struct store *st, const struct campaign_rules *const *v,
    size_t n, size_t i, signed char *dead)
{
	if (dead[i] < 0) {
		dead[i] = 0;
		for (size_t j = 0; j < n && !dead[i]; j++)
			if (before(v, i, j))
				dead[i] = rules_shadow(st, v[j], v[i]) == 2;
	}
	return dead[i];
}

struct pinless {
	struct store	*st;
	const struct campaign_rules *c;
	json_t		*arr;
};

static int
pinless_batch(void *arg, const struct batch *b)
{
	struct pinless *x = arg;
	struct pin_file pf;

	if (b->state == BATCH_REVOKED || !(rules_has_sku(x->c, b->sku) ||
	    rules_has_batch(x->c, b->id)))
		return 0;
	if (store_pin_file_get(x->st, b->brand_id, b->id, &pf) != 0)
		json_array_append_new(x->arr, json_integer((json_int_t)b->id));
	return json_array_size(x->arr) >= PINLESS_MAX;
}

/* What v[k] shares with v[0..k), as campaign_overlap_json says. */
static json_t *
overlap_of(struct app *app, uint32_t brand_id,
    const struct campaign_rules *const *v, size_t n, size_t k,
    signed char *dead)
{
	const struct campaign_rules *c = v[k];
	json_t *o, *overlaps = json_array();
	uint32_t by = 0;

	for (size_t i = 0; i < n; i++) {
		int how;

		if (!before(v, k, i))
			continue;
		how = rules_shadow(app->store, v[i], c);
		if (how == 0 || rules_dead(app->store, v, n, i, dead))
			continue;
		json_array_append_new(overlaps, json_integer(v[i]->id));
		if (how == 2 && by == 0)
			by = v[i]->id;
	}
	o = json_pack("{s:o,s:o}", "overridden_by", by ? json_integer(by) :
	    json_null(), "overlaps", overlaps);
	if (c->require_pin) {
		struct pinless x = { app->store, c, json_array() };

		store_batch_each(app->store, brand_id, pinless_batch, &x);
		json_object_set_new(o, "batches_without_pins", x.arr);
	}
	return o;
}

static signed char *
dead_new(size_t n)
{
	signed char *dead = malloc(n ? n : 1);

	if (dead != NULL)
		memset(dead, -1, n);
	return dead;
}

json_t *
campaign_overlap_json(struct app *app, uint32_t brand_id, uint32_t id)
{
	const struct campaign_rules *const *v;
	signed char *dead;
	json_t *o = NULL;
	size_t n;

	v = campaign_rules_of(app, brand_id, &n);
	for (size_t k = 0; k < n; k++) {
		if (v[k]->id != id)
			continue;
		if ((dead = dead_new(n)) != NULL)
			o = overlap_of(app, brand_id, v, n, k, dead);
		free(dead);
		break;
	}
	return o;
}

void
campaign_overlap_list(struct app *app, uint32_t brand_id, json_t *arr)
{
	const struct campaign_rules *const *v;
	signed char *dead;
	json_t *one, *o;
	size_t n, i;

	v = campaign_rules_of(app, brand_id, &n);
	if (n == 0 || (dead = dead_new(n)) == NULL)
		return;
	json_array_foreach(arr, i, one) {
		json_int_t id = json_integer_value(json_object_get(one, "id"));

		for (size_t k = 0; k < n; k++) {
			if (v[k]->id != id)
				continue;
			if ((o = overlap_of(app, brand_id, v, n, k, dead)) != NULL) {
				json_object_update(one, o);
				json_decref(o);
			}
			break;
		}
	}
	free(dead);
}
