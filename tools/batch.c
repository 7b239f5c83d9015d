/*
 * batch.c - `sigil product add` and `sigil batch new|activate|revoke|
 * list|show`: what a brand makes and the batches of codes printed for it.
 *
 * A batch is a range of serials of one product, signed by the brand's
 * newest key at the time it is made; it is born inactive and scans of
 * its codes say so until `batch activate`. Activating and revoking a
 * batch each record the EPCIS commissioning or decommissioning event.
 *
 * Owns: the checks of a product (SKU, name, GTIN and its check digit)
 * and of a lot (GS1 AI 82 characters, so a GS1 Digital Link can carry
 * it).
 * May call: cli.c, the store (products, batches, keys, trace events) and
 * code.h (the GTIN check digit).
 * Must never: write codes (no per-code rows; `sigil mint` prints them) or
 * reuse a serial (the store hands out each brand's serials in order).
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "sigil/code.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "cli.h"

/* ---- products ---- */

int
cmd_product_add(struct opts *o)
{
	struct store *st;
	struct brand b;
	struct product p = { 0 };
	uint64_t max = 5;
	int rc, ret = EXIT_USAGE;

	if (cli_check_text("brand", o->brand, STORE_NAME_MAX) ||
	    cli_check_text("sku", o->sku, STORE_NAME_MAX) ||
	    cli_check_text("name", o->name, STORE_TEXT_MAX))
		return EXIT_USAGE;
	if (o->max_scanners != NULL &&
	    cli_parse_num("max-scanners", o->max_scanners,
	    STORE_SCANNERS_MAX - 1, &max))
		return EXIT_USAGE;
	if (o->gtin != NULL) {
		size_t n = strlen(o->gtin);

		if ((n != 8 && n != 12 && n != 13 && n != 14) ||
		    strspn(o->gtin, "0123456789") != n)
			return cli_fail(EXIT_USAGE,
			    "--gtin must be 8, 12, 13 or 14 digits");
		memset(p.gtin, '0', 14 - n);
		memcpy(p.gtin + 14 - n, o->gtin, n + 1);
		if (!code_gtin_valid(p.gtin))
			return cli_fail(EXIT_USAGE,
			    "--gtin %s has a wrong check digit", o->gtin);
	}
	if (o->gs1 && o->gtin == NULL)
		return cli_fail(EXIT_USAGE, "--gs1 needs --gtin");
	if (cli_open_brand(o, 0, &st, &b))
		return EXIT_USAGE;
	p.brand_id = b.id;
	snprintf(p.sku, sizeof(p.sku), "%s", o->sku);
	snprintf(p.name, sizeof(p.name), "%s", o->name);
	p.max_scanners = (uint32_t)max;
	p.gs1_form = o->gs1;
	cli_audit_arm(st, b.id, "product_add", "product", p.sku,
	    json_pack("{s:s,s:s?}", "name", p.name, "gtin", p.gtin[0] ? p.gtin :
	    NULL));
	rc = store_product_add(st, &p);
	cli_audit_done(st, rc, NULL);
	if (rc != 0) {
		if (rc == SIGIL_EEXIST)
			cli_fail(EXIT_USAGE, "product '%s' or GTIN already exists",
			    o->sku);
		else
			cli_fail(EXIT_USAGE, "cannot add product: %s",
			    sigil_strerror(rc));
		goto out;
	}
	printf("product '%s' of brand '%s'%s%s%s\n", p.sku, b.name,
	    p.gtin[0] ? ", GTIN " : "", p.gtin, p.gs1_form ?
	    " (GS1 Digital Link codes)" : "");
	ret = EXIT_OK;
out:
	store_close(st);
	return ret;
}

/* ---- batches ---- */

static int
get_batch(struct store *st, const char *arg, struct batch *b)
{
	uint64_t id;
	int rc;

	if (cli_parse_num("batch", arg, UINT64_MAX, &id))
		return EXIT_USAGE;
	rc = store_batch_get(st, id, b);
	if (rc == SIGIL_ENOTFOUND)
		return cli_fail(EXIT_USAGE, "no batch %llu",
		    (unsigned long long)id);
	if (rc != 0)
		return cli_fail(EXIT_USAGE, "cannot read batch: %s",
		    sigil_strerror(rc));
	return 0;
}


/* GS1 AI 82 characters (the set allowed in AI 10, batch/lot). */
static int
gs1_safe(const char *s)
{
	for (; *s; s++)
		if (!strchr("!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_"
		    "abcdefghijklmnopqrstuvwxyz", *s))
			return 0;
	return 1;
}

static json_t *
batch_json(const struct batch *b)
{
	char t[4][SIGIL_TIME_LEN + 1];

	return json_pack("{s:I, s:I, s:I, s:s, s:s, s:I, s:I, s:I, s:s, s:s, "
	    "s:o, s:o, s:o}",
	    "id", (json_int_t)b->id, "brand_id", (json_int_t)b->brand_id,
	    "key_id", (json_int_t)b->key_id, "sku", b->sku, "lot", b->lot,
	    "first_serial", (json_int_t)b->first_serial,
	    "last_serial", (json_int_t)(b->first_serial + b->count - 1),
	    "count", (json_int_t)b->count, "state", cli_state_name(b->state),
	    "created", cli_time(b->created, t[0]),
	    "expires", b->expires ? json_string(cli_time(b->expires, t[1])) :
	    json_null(),
	    "activated", b->activated ?
	    json_string(cli_time(b->activated, t[2])) : json_null(),
	    "revoked", b->revoked ? json_string(cli_time(b->revoked, t[3])) :
	    json_null());
}

int
cmd_batch_new(struct opts *o)
{
	struct store *st;
	struct brand br;
	struct product p;
	struct key_meta km;
	struct batch b = { 0 };
	uint64_t count;
	int64_t expires = 0;
	int rc, ret = EXIT_USAGE;

	if (cli_require(o->brand, "brand") || cli_require(o->sku, "sku") ||
	    cli_parse_num("count", o->count, CODE_SERIAL_MAX, &count))
		return EXIT_USAGE;
	if (o->lot != NULL && (strlen(o->lot) == 0 ||
	    strlen(o->lot) > STORE_LOT_MAX || !gs1_safe(o->lot)))
		return cli_fail(EXIT_USAGE, "--lot must be 1 to %d GS1 "
		    "characters (letters, digits, -._ and similar)",
		    STORE_LOT_MAX);
	if (o->expires != NULL && sigil_time_parse(o->expires, &expires) != 0)
		return cli_fail(EXIT_USAGE,
		    "--expires '%.40s' is not a date (YYYY-MM-DD)", o->expires);
	if (cli_open_brand(o, 0, &st, &br))
		return EXIT_USAGE;
	rc = store_product_get(st, br.id, o->sku, &p);
	if (rc != 0) {
		cli_fail(EXIT_USAGE, "brand '%s' has no product '%.64s'",
		    br.name, o->sku);
		goto out;
	}
	if ((rc = store_key_current(st, br.id, &km)) != 0) {
		cli_fail(EXIT_USAGE, "brand '%s' has no valid key (run 'sigil "
		    "key new')", br.name);
		goto out;
	}
	b.brand_id = br.id;
	b.key_id = km.id;
	snprintf(b.sku, sizeof(b.sku), "%s", p.sku);
	if (o->lot != NULL)
		snprintf(b.lot, sizeof(b.lot), "%s", o->lot);
	b.count = count;
	b.expires = expires;
	cli_audit_arm(st, br.id, "batch_new", "batch", NULL,
	    json_pack("{s:s,s:I,s:s?}", "sku", b.sku, "count",
	    (json_int_t)b.count, "lot", b.lot[0] ? b.lot : NULL));
	rc = store_batch_new(st, &b);
	{
		char tid[24];

		snprintf(tid, sizeof tid, "%llu", (unsigned long long)b.id);
		cli_audit_done(st, rc, rc == 0 ? tid : NULL);
	}
	if (rc != 0) {
		cli_fail(EXIT_USAGE, rc == SIGIL_EFULL ?
		    "brand '%s' has fewer than %llu serials left" :
		    "cannot create batch for '%s' (%llu codes)", br.name,
		    (unsigned long long)count);
		goto out;
	}
	if (o->json)
		printf("{\"id\": %llu, \"first_serial\": %llu, \"count\": %llu}\n",
		    (unsigned long long)b.id,
		    (unsigned long long)b.first_serial,
		    (unsigned long long)b.count);
	else
		printf("%llu\n", (unsigned long long)b.id);
	ret = EXIT_OK;
out:
	store_close(st);
	return ret;
}

static int
batch_set(struct opts *o, int state)
{
	struct store *st;
	struct batch b;
	int rc, ret = EXIT_USAGE;

	if (cli_require(o->batch, "batch") || cli_store_open(o, 0, &st))
		return EXIT_USAGE;
	if (get_batch(st, o->batch, &b))
		goto out;
	{
		char tid[24];

		snprintf(tid, sizeof tid, "%llu", (unsigned long long)b.id);
		cli_audit_arm(st, b.brand_id, state == BATCH_ACTIVE ?
		    "batch_activate" : "batch_revoke", "batch", tid,
		    json_pack("{s:{s:s,s:s}}", "state", "before",
		    cli_state_name(b.state), "after", cli_state_name(state)));
	}
	rc = store_batch_set_state(st, b.id, state);
	cli_audit_done(st, rc, NULL);
	if (rc != 0) {
		if (rc == SIGIL_ESTATE)
			cli_fail(EXIT_USAGE, "batch %llu is %s",
			    (unsigned long long)b.id, cli_state_name(b.state));
		else
			cli_fail(EXIT_USAGE, "cannot change batch: %s",
			    sigil_strerror(rc));
		goto out;
	}
	{
		/* The EPCIS commissioning/decommissioning event. */
		struct trace_event ev = { 0 };

		ev.type = state == BATCH_ACTIVE ? EVENT_COMMISSION :
		    EVENT_DECOMMISSION;
		ev.brand_id = b.brand_id;
		ev.at = sigil_now_us();
		ev.batch_id = b.id;
		if ((rc = store_event_add(st, &ev)) != 0)
			cli_fail(EXIT_USAGE, "batch %llu changed, but its "
			    "trace event was not recorded: %s",
			    (unsigned long long)b.id, sigil_strerror(rc));
	}
	printf("batch %llu %s (%llu codes)\n", (unsigned long long)b.id,
	    cli_state_name(state), (unsigned long long)b.count);
	ret = EXIT_OK;
out:
	store_close(st);
	return ret;
}

int cmd_batch_activate(struct opts *o) { return batch_set(o, BATCH_ACTIVE); }
int cmd_batch_revoke(struct opts *o) { return batch_set(o, BATCH_REVOKED); }

static int
print_batch(void *arg, const struct batch *b)
{
	json_t *arr = arg;
	char t[SIGIL_TIME_LEN + 1];

	if (arr != NULL)
		json_array_append_new(arr, batch_json(b));
	else
		printf("%-6llu %-16s %-12s %-14llu %-12llu %-9s %s\n",
		    (unsigned long long)b->id, b->sku, b->lot[0] ? b->lot : "-",
		    (unsigned long long)b->first_serial,
		    (unsigned long long)b->count, cli_state_name(b->state),
		    cli_time(b->created, t));
	return 0;
}

static int
batch_rows(struct store *st, const struct brand *b, json_t *arr)
{
	if (arr == NULL)
		printf("%-6s %-16s %-12s %-14s %-12s %-9s %s\n", "ID", "SKU",
		    "LOT", "FIRST SERIAL", "COUNT", "STATE", "CREATED");
	return store_batch_each(st, b->id, print_batch, arr);
}

int
cmd_batch_list(struct opts *o)
{
	return cli_list(o, 1, "batches", batch_rows);
}

int
cmd_batch_show(struct opts *o)
{
	struct store *st;
	struct batch b;
	struct brand br;
	char t[4][SIGIL_TIME_LEN + 1];

	if (cli_require(o->batch, "batch") || cli_store_open(o, STORE_RDONLY, &st))
		return EXIT_USAGE;
	if (get_batch(st, o->batch, &b)) {
		store_close(st);
		return EXIT_USAGE;
	}
	if (store_brand_get(st, b.brand_id, &br) != 0)
		snprintf(br.name, sizeof(br.name), "#%u", (unsigned)b.brand_id);
	store_close(st);
	if (o->json) {
		json_t *j = batch_json(&b);

		json_object_set_new(j, "brand", json_string(br.name));
		return cli_emit_json(j);
	}
	printf("batch      %llu\nbrand      %s\nproduct    %s\nlot        %s\n"
	    "key        %u\nserials    %llu..%llu (%llu codes)\nstate      %s\n"
	    "created    %s\nexpires    %s\nactivated  %s\nrevoked    %s\n",
	    (unsigned long long)b.id, br.name, b.sku, b.lot[0] ? b.lot : "-",
	    (unsigned)b.key_id, (unsigned long long)b.first_serial,
	    (unsigned long long)(b.first_serial + b.count - 1),
	    (unsigned long long)b.count, cli_state_name(b.state),
	    cli_time(b.created, t[0]), cli_time(b.expires, t[1]),
	    cli_time(b.activated, t[2]), cli_time(b.revoked, t[3]));
	return EXIT_OK;
}

