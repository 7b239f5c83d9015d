/*
 * test_store.c - the LMDB store: every table, its errors, map growth,
 * read-only access from another process, backup and bytes per scan.
 * Each test works in its own mkdtemp() directory under /tmp.
 */
#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "storefix.h"

#include "sigil/code.h"
#include "sigil/store.h"
#include "sigil/util.h"

/* ---- helpers ---- */

static void
tmpdir_make(char *buf)
{
	assert_non_null(tmpdir_new(buf, 64, "store"));
}

struct fixture {
	char		 dir[64];
	struct store	*st;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	tmpdir_make(f->dir);
	if (store_open(f->dir, STORE_CREATE, &f->st) != 0)
		return -1;
	*state = f;
	return 0;
}

STOREFIX_TEARDOWN(struct fixture)

static void
add_product(struct store *st, uint32_t brand, const char *sku,
    const char *gtin)
{
	struct product p = { .brand_id = brand, .max_scanners = 5 };

	strcpy(p.sku, sku);
	strcpy(p.name, "Green tea 250 g");
	strcpy(p.gtin, gtin);
	assert_int_equal(store_product_add(st, &p), 0);
}

static uint16_t
add_key(struct store *st, uint32_t brand)
{
	struct key_meta k;

	assert_int_equal(store_key_add(st, brand, &k), 0);
	return k.id;
}

static int
new_batch(struct store *st, uint32_t brand, uint16_t key, const char *sku,
    uint64_t count, struct batch *out)
{
	struct batch b = { .brand_id = brand, .key_id = key, .count = count };

	strcpy(b.sku, sku);
	strcpy(b.lot, "L2026");
	*out = b;
	return store_batch_new(st, out);
}

/* A judge that behaves like the real one where the store can tell. */
static void
simple_judge(void *arg, size_t index, struct scan_rec *r,
    struct code_state *s)
{
	int known = 0;

	(void)arg;
	(void)index;
	if (r->flags & SCAN_BOT) {
		s->bot_count++;
		return;
	}
	if (r->flags & SCAN_HAS_LOC) {
		s->last_loc_at = r->at;
		s->last_lat = r->lat;
		s->last_lng = r->lng;
		return;
	}
	if (s->first_at == 0) {
		s->first_at = r->at;
		s->first_scan_id = r->id;
		r->flags |= SCAN_FIRST;
	}
	s->scan_count++;
	for (int i = 0; i < s->n_scanners; i++)
		known |= s->scanners[i] == r->device;
	if (!known && s->n_scanners < STORE_SCANNERS_MAX)
		s->scanners[s->n_scanners++] = r->device;
	r->verdict = VERDICT_GENUINE;
}

static struct scan_rec
mkscan(uint32_t brand, uint64_t serial, uint64_t device, int64_t at)
{
	struct scan_rec r = { .brand_id = brand, .serial = serial,
	    .device = device, .at = at, .batch_id = 1 };

	r.ip[10] = r.ip[11] = 0xff;
	r.ip[12] = 192;
	r.ip[13] = 0;
	r.ip[14] = 2;
	r.ip[15] = (uint8_t)device;
	return r;
}

static uint64_t
file_size(const char *dir)
{
	char path[128];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	assert_int_equal(stat(path, &sb), 0);
	return (uint64_t)sb.st_size;
}

/* ---- open ---- */

static void
test_open_create_reopen(void **state)
{
	char dir[64], path[128];
	struct store *st, *st2;
	struct brand b;

	(void)state;
	tmpdir_make(dir);
	assert_int_equal(store_open(dir, 0, &st), SIGIL_ENOTFOUND);
	assert_int_equal(store_open(dir, STORE_RDONLY, &st), SIGIL_ENOTFOUND);
	assert_int_equal(store_open("/nonexistent/sigil", STORE_CREATE, &st),
	    SIGIL_ENOTFOUND);
	assert_int_equal(store_open(dir, STORE_CREATE | STORE_RDONLY, &st),
	    SIGIL_EINVAL);
	assert_int_equal(store_open(dir, 1 << 9, &st), SIGIL_EINVAL);
	/* A refused open leaves no files behind. */
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	assert_int_not_equal(access(path, F_OK), 0);

	assert_int_equal(store_open(dir, STORE_CREATE, &st), 0);
	add_brand(st, "acme");
	store_close(st);

	assert_int_equal(store_open(dir, STORE_CREATE, &st2), SIGIL_EEXIST);
	assert_int_equal(store_open(dir, 0, &st), 0);
	assert_int_equal(store_brand_find(st, "acme", &b), 0);
	assert_int_equal(b.id, 1);
	assert_int_equal(add_brand(st, "beta"), 2);
	store_close(st);
	tmpdir_remove(dir);
}

static void
test_schema_mismatch(void **state)
{
	char dir[64], cmd[256];
	struct store *st;

	(void)state;
	if (access("/usr/bin/mdb_load", X_OK) != 0)
		skip();
	tmpdir_make(dir);
	assert_int_equal(store_open(dir, STORE_CREATE, &st), 0);
	store_close(st);
	/* Rewrite schema_version as 99 behind the store's back. */
	snprintf(cmd, sizeof(cmd), "printf 'schema_version\\n\\\\63\\\\00"
	    "\\\\00\\\\00\\n' | mdb_load -T -s meta %s", dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(store_open(dir, 0, &st), SIGIL_ESTATE);
	assert_int_equal(store_open(dir, STORE_RDONLY, &st), SIGIL_ESTATE);
	tmpdir_remove(dir);
}

static void
test_initial_map_env(void **state)
{
	char dir[64];
	struct store *st;
	uint64_t map, used;

	(void)state;
	tmpdir_make(dir);
	setenv("SIGIL_STORE_INITIAL_MAP", "12x", 1);
	assert_int_equal(store_open(dir, STORE_CREATE, &st), SIGIL_EINVAL);
	setenv("SIGIL_STORE_INITIAL_MAP", "4096", 1);
	assert_int_equal(store_open(dir, STORE_CREATE, &st), SIGIL_EINVAL);
	setenv("SIGIL_STORE_INITIAL_MAP", "131072", 1);
	assert_int_equal(store_open(dir, STORE_CREATE, &st), 0);
	unsetenv("SIGIL_STORE_INITIAL_MAP");
	assert_int_equal(store_usage(st, &map, &used), 0);
	assert_int_equal(map, 131072);
	assert_true(used > 0 && used <= map);
	store_close(st);
	/* Reopening keeps the size stored in the file, not the default. */
	assert_int_equal(store_open(dir, 0, &st), 0);
	assert_int_equal(store_usage(st, &map, &used), 0);
	assert_int_equal(map, 131072);
	store_close(st);
	tmpdir_remove(dir);
}

/* ---- brands ---- */

static int
collect_brand(void *arg, const struct brand *b)
{
	uint32_t *ids = arg;

	ids[++ids[0]] = b->id;
	return ids[0] == 2 ? 7 : 0;
}

static void
test_brands(void **state)
{
	struct fixture *f = *state;
	struct brand b = { 0 }, got;
	uint32_t ids[8] = { 0 };

	assert_int_equal(add_brand(f->st, "acme"), 1);
	assert_int_equal(add_brand(f->st, "茶叶公司"), 2);
	assert_int_equal(add_brand(f->st, "gamma"), 3);

	strcpy(b.name, "acme");
	strcpy(b.base_url, "HTTPS://OTHER.EXAMPLE");
	assert_int_equal(store_brand_add(f->st, &b), SIGIL_EEXIST);

	assert_int_equal(store_brand_find(f->st, "茶叶公司", &got), 0);
	assert_int_equal(got.id, 2);
	assert_string_equal(got.base_url, "HTTPS://EXAMPLE.COM");
	assert_true(got.created > 0);
	assert_int_equal(store_brand_get(f->st, 3, &got), 0);
	assert_string_equal(got.name, "gamma");
	assert_int_equal(store_brand_get(f->st, 4, &got), SIGIL_ENOTFOUND);
	assert_int_equal(store_brand_find(f->st, "nope", &got),
	    SIGIL_ENOTFOUND);
	assert_int_equal(store_brand_find(f->st, "", &got), SIGIL_ENOTFOUND);

	/* Hostile names change nothing. */
	memset(&b, 0, sizeof(b));
	strcpy(b.base_url, "HTTPS://X.EXAMPLE");
	assert_int_equal(store_brand_add(f->st, &b), SIGIL_EINVAL);
	memset(b.name, 'a', sizeof(b.name));	/* not terminated */
	assert_int_equal(store_brand_add(f->st, &b), SIGIL_EINVAL);
	strcpy(b.name, "bad\nname");
	assert_int_equal(store_brand_add(f->st, &b), SIGIL_EINVAL);
	strcpy(b.name, "del\x7f");
	assert_int_equal(store_brand_add(f->st, &b), SIGIL_EINVAL);
	strcpy(b.name, "\xff\xfe");
	assert_int_equal(store_brand_add(f->st, &b), SIGIL_EINVAL);
	strcpy(b.name, "fine");
	b.base_url[0] = '\0';
	assert_int_equal(store_brand_add(f->st, &b), SIGIL_EINVAL);
	memset(b.name, 'n', STORE_NAME_MAX);
	b.name[STORE_NAME_MAX] = '\0';
	strcpy(b.base_url, "HTTPS://X.EXAMPLE");
	assert_int_equal(store_brand_add(f->st, &b), 0);
	assert_int_equal(b.id, 4);

	/* each: id order, early stop returns fn's value. */
	assert_int_equal(store_brand_each(f->st, collect_brand, ids), 7);
	assert_int_equal(ids[0], 2);
	assert_int_equal(ids[1], 1);
	assert_int_equal(ids[2], 2);
}

/* ---- keys ---- */

static int
collect_key(void *arg, const struct key_meta *k)
{
	uint16_t *ids = arg;

	ids[++ids[0]] = k->id;
	return 0;
}

static void
test_keys(void **state)
{
	struct fixture *f = *state;
	struct key_meta k;
	uint16_t ids[8] = { 0 };
	uint32_t a = add_brand(f->st, "acme"), b = add_brand(f->st, "beta");

	assert_int_equal(store_key_current(f->st, a, &k), SIGIL_ENOTFOUND);
	assert_int_equal(add_key(f->st, a), 1);
	assert_int_equal(add_key(f->st, b), 2);
	assert_int_equal(add_key(f->st, a), 3);
	assert_int_equal(store_key_add(f->st, 99, &k), SIGIL_ENOTFOUND);

	assert_int_equal(store_key_current(f->st, a, &k), 0);
	assert_int_equal(k.id, 3);
	assert_int_equal(k.brand_id, a);
	assert_int_equal(k.revoked, 0);
	assert_int_equal(store_key_revoke(f->st, 3), 0);
	assert_int_equal(store_key_revoke(f->st, 3), SIGIL_ESTATE);
	assert_int_equal(store_key_revoke(f->st, 77), SIGIL_ENOTFOUND);
	assert_int_equal(store_key_get(f->st, 3, &k), 0);
	assert_true(k.revoked >= k.created && k.revoked > 0);
	assert_int_equal(store_key_current(f->st, a, &k), 0);
	assert_int_equal(k.id, 1);
	assert_int_equal(store_key_revoke(f->st, 1), 0);
	assert_int_equal(store_key_current(f->st, a, &k), SIGIL_ENOTFOUND);
	assert_int_equal(store_key_current(f->st, b, &k), 0);
	assert_int_equal(k.id, 2);

	assert_int_equal(store_key_each(f->st, a, collect_key, ids), 0);
	assert_int_equal(ids[0], 2);
	assert_int_equal(ids[1], 1);
	assert_int_equal(ids[2], 3);
	assert_int_equal(store_key_get(f->st, 9, &k), SIGIL_ENOTFOUND);
}

/* ---- products ---- */

static void
test_products(void **state)
{
	struct fixture *f = *state;
	struct product p = { .max_scanners = 5 }, got;
	uint32_t a = add_brand(f->st, "acme"), b = add_brand(f->st, "beta");

	add_product(f->st, a, "TEA-250", "06901234567892");
	add_product(f->st, a, "TEA-500", "");
	add_product(f->st, a, "TEA-1K", "");
	add_product(f->st, b, "TEA-250", "");	/* same sku, other brand */

	p.brand_id = a;
	strcpy(p.sku, "TEA-250");
	strcpy(p.name, "dup");
	assert_int_equal(store_product_add(f->st, &p), SIGIL_EEXIST);
	strcpy(p.sku, "TEA-X");
	strcpy(p.gtin, "06901234567892");
	assert_int_equal(store_product_add(f->st, &p), SIGIL_EEXIST);
	/* GTINs are per brand: b may use the same digits (review F18). */
	p.brand_id = b;
	strcpy(p.sku, "B-TEA");
	assert_int_equal(store_product_add(f->st, &p), 0);
	strcpy(p.sku, "B-TEA2");
	assert_int_equal(store_product_add(f->st, &p), SIGIL_EEXIST);
	strcpy(p.sku, "TEA-X");
	p.brand_id = 42;
	p.gtin[0] = '\0';
	assert_int_equal(store_product_add(f->st, &p), SIGIL_ENOTFOUND);

	p.brand_id = a;
	strcpy(p.gtin, "06901234567893");	/* bad check digit */
	assert_int_equal(store_product_add(f->st, &p), SIGIL_EINVAL);
	strcpy(p.gtin, "0690123456789");	/* 13 digits */
	assert_int_equal(store_product_add(f->st, &p), SIGIL_EINVAL);
	strcpy(p.gtin, "0690123456789A");
	assert_int_equal(store_product_add(f->st, &p), SIGIL_EINVAL);
	p.gtin[0] = '\0';
	p.max_scanners = 0;
	assert_int_equal(store_product_add(f->st, &p), SIGIL_EINVAL);
	p.max_scanners = STORE_SCANNERS_MAX + 1;
	assert_int_equal(store_product_add(f->st, &p), SIGIL_EINVAL);
	p.max_scanners = 3;
	p.name[0] = '\0';
	assert_int_equal(store_product_add(f->st, &p), SIGIL_EINVAL);
	strcpy(p.name, "<script>x</script>");	/* stored verbatim */
	strcpy(p.sku, "a\tb");
	assert_int_equal(store_product_add(f->st, &p), SIGIL_EINVAL);
	strcpy(p.sku, "TEA-X");
	p.gs1_form = 1;
	assert_int_equal(store_product_add(f->st, &p), 0);

	assert_int_equal(store_product_get(f->st, a, "TEA-X", &got), 0);
	assert_string_equal(got.name, "<script>x</script>");
	assert_int_equal(got.max_scanners, 3);
	assert_int_equal(got.gs1_form, 1);
	assert_string_equal(got.gtin, "");
	assert_int_equal(store_product_get(f->st, a, "TEA-250", &got), 0);
	assert_int_equal(got.brand_id, a);
	assert_string_equal(got.gtin, "06901234567892");
	assert_int_equal(got.gs1_form, 0);
	assert_int_equal(store_product_get(f->st, a, "TEA-2", &got),
	    SIGIL_ENOTFOUND);
	assert_int_equal(store_product_get(f->st, 0, "TEA-250", &got),
	    SIGIL_ENOTFOUND);

	memset(&got, 0, sizeof(got));
	assert_int_equal(store_product_find_gtin(f->st, a, "06901234567892",
	    &got), 0);
	assert_string_equal(got.sku, "TEA-250");
	assert_int_equal(got.brand_id, a);
	assert_int_equal(store_product_find_gtin(f->st, b, "06901234567892",
	    &got), 0);
	assert_string_equal(got.sku, "B-TEA");
	assert_int_equal(got.brand_id, b);
	assert_int_equal(store_product_find_gtin(f->st, a, "06901234567885",
	    &got), SIGIL_ENOTFOUND);
	assert_int_equal(store_product_find_gtin(f->st, a, "", &got),
	    SIGIL_ENOTFOUND);
}

/* ---- batches ---- */

static int
collect_batch(void *arg, const struct batch *b)
{
	uint64_t *ids = arg;

	ids[++ids[0]] = b->id;
	return 0;
}

static void
test_batches(void **state)
{
	struct fixture *f = *state;
	struct batch b1, b2, b3, got, bad;
	struct store_stats ss;
	uint64_t ids[8] = { 0 };
	uint32_t a = add_brand(f->st, "acme"), b = add_brand(f->st, "beta");
	uint16_t ka = add_key(f->st, a), kb = add_key(f->st, b);

	add_product(f->st, a, "TEA", "");
	add_product(f->st, b, "RICE", "");

	assert_int_equal(new_batch(f->st, a, ka, "TEA", 100, &b1), 0);
	assert_int_equal(new_batch(f->st, a, ka, "TEA", 50, &b2), 0);
	assert_int_equal(new_batch(f->st, b, kb, "RICE", 10, &b3), 0);
	assert_int_equal(b1.id, 1);
	assert_int_equal(b2.id, 2);
	assert_int_equal(b3.id, 3);
	assert_int_equal(b1.first_serial, 1);
	assert_int_equal(b2.first_serial, 101);
	assert_int_equal(b3.first_serial, 1);	/* per-brand serial space */
	assert_int_equal(b1.state, BATCH_INACTIVE);
	assert_true(b1.created > 0);

	assert_int_equal(store_batch_get(f->st, 2, &got), 0);
	assert_int_equal(got.count, 50);
	assert_int_equal(got.key_id, ka);
	assert_string_equal(got.sku, "TEA");
	assert_string_equal(got.lot, "L2026");
	assert_int_equal(store_batch_get(f->st, 4, &got), SIGIL_ENOTFOUND);

	assert_int_equal(store_batch_find_serial(f->st, a, 1, &got), 0);
	assert_int_equal(got.id, 1);
	assert_int_equal(store_batch_find_serial(f->st, a, 50, &got), 0);
	assert_int_equal(got.id, 1);
	assert_int_equal(store_batch_find_serial(f->st, a, 100, &got), 0);
	assert_int_equal(got.id, 1);
	assert_int_equal(store_batch_find_serial(f->st, a, 101, &got), 0);
	assert_int_equal(got.id, 2);
	assert_int_equal(store_batch_find_serial(f->st, a, 150, &got), 0);
	assert_int_equal(got.id, 2);
	assert_int_equal(store_batch_find_serial(f->st, a, 151, &got),
	    SIGIL_ENOTFOUND);
	assert_int_equal(store_batch_find_serial(f->st, a, 0, &got),
	    SIGIL_ENOTFOUND);
	assert_int_equal(store_batch_find_serial(f->st, a, UINT64_MAX, &got),
	    SIGIL_ENOTFOUND);
	assert_int_equal(store_batch_find_serial(f->st, b, 10, &got), 0);
	assert_int_equal(got.id, 3);
	assert_int_equal(store_batch_find_serial(f->st, b, 11, &got),
	    SIGIL_ENOTFOUND);
	assert_int_equal(store_batch_find_serial(f->st, 3, 1, &got),
	    SIGIL_ENOTFOUND);
	assert_int_equal(store_batch_find_serial(f->st, 0, 1, &got),
	    SIGIL_ENOTFOUND);

	/* Bad requests. */
	assert_int_equal(new_batch(f->st, a, ka, "NOPE", 1, &bad),
	    SIGIL_ENOTFOUND);
	assert_int_equal(new_batch(f->st, a, kb, "TEA", 1, &bad),
	    SIGIL_EINVAL);
	assert_int_equal(new_batch(f->st, a, 99, "TEA", 1, &bad),
	    SIGIL_ENOTFOUND);
	assert_int_equal(new_batch(f->st, a, ka, "TEA", 0, &bad),
	    SIGIL_EINVAL);
	assert_int_equal(new_batch(f->st, a, ka, "TEA", CODE_SERIAL_MAX + 1,
	    &bad), SIGIL_EINVAL);
	bad = (struct batch){ .brand_id = a, .key_id = ka, .count = 1 };
	strcpy(bad.sku, "TEA");
	memset(bad.lot, 'x', STORE_LOT_MAX + 1);
	assert_int_equal(store_batch_new(f->st, &bad), SIGIL_EINVAL);

	/* State machine. */
	assert_int_equal(store_batch_set_state(f->st, 1, BATCH_INACTIVE),
	    SIGIL_ESTATE);
	assert_int_equal(store_batch_set_state(f->st, 1, 7), SIGIL_EINVAL);
	assert_int_equal(store_batch_set_state(f->st, 9, BATCH_ACTIVE),
	    SIGIL_ENOTFOUND);
	assert_int_equal(store_batch_set_state(f->st, 1, BATCH_ACTIVE), 0);
	assert_int_equal(store_batch_set_state(f->st, 1, BATCH_ACTIVE),
	    SIGIL_ESTATE);
	assert_int_equal(store_batch_set_state(f->st, 1, BATCH_INACTIVE),
	    SIGIL_ESTATE);
	assert_int_equal(store_batch_get(f->st, 1, &got), 0);
	assert_int_equal(got.state, BATCH_ACTIVE);
	assert_true(got.activated > 0);
	assert_int_equal(got.revoked, 0);
	assert_int_equal(store_batch_set_state(f->st, 1, BATCH_REVOKED), 0);
	assert_int_equal(store_batch_set_state(f->st, 1, BATCH_REVOKED),
	    SIGIL_ESTATE);
	assert_int_equal(store_batch_set_state(f->st, 1, BATCH_ACTIVE),
	    SIGIL_ESTATE);
	assert_int_equal(store_batch_set_state(f->st, 2, BATCH_REVOKED), 0);
	assert_int_equal(store_batch_get(f->st, 2, &got), 0);
	assert_int_equal(got.state, BATCH_REVOKED);
	assert_int_equal(got.activated, 0);
	assert_true(got.revoked > 0);
	/* The range index still finds a revoked batch. */
	assert_int_equal(store_batch_find_serial(f->st, a, 120, &got), 0);
	assert_int_equal(got.state, BATCH_REVOKED);

	/* A revoked key signs nothing new. */
	assert_int_equal(store_key_revoke(f->st, ka), 0);
	assert_int_equal(new_batch(f->st, a, ka, "TEA", 1, &bad),
	    SIGIL_ESTATE);

	assert_int_equal(store_batch_each(f->st, a, collect_batch, ids), 0);
	assert_int_equal(ids[0], 2);
	assert_int_equal(ids[1], 1);
	assert_int_equal(ids[2], 2);

	assert_int_equal(store_stats(f->st, &ss), 0);
	assert_int_equal(ss.brands, 2);
	assert_int_equal(ss.products, 2);
	assert_int_equal(ss.batches, 3);
	assert_int_equal(ss.codes_issued, 160);
}

static void
test_serial_exhaustion(void **state)
{
	struct fixture *f = *state;
	struct batch b, got;
	uint32_t a = add_brand(f->st, "acme");
	uint16_t k = add_key(f->st, a);

	add_product(f->st, a, "TEA", "");
	assert_int_equal(new_batch(f->st, a, k, "TEA", CODE_SERIAL_MAX - 10,
	    &b), 0);
	assert_int_equal(new_batch(f->st, a, k, "TEA", 11, &b), SIGIL_EFULL);
	assert_int_equal(new_batch(f->st, a, k, "TEA", 10, &b), 0);
	assert_int_equal(b.first_serial, CODE_SERIAL_MAX - 9);
	assert_int_equal(b.id, 2);	/* the refused one consumed no id */
	assert_int_equal(new_batch(f->st, a, k, "TEA", 1, &b), SIGIL_EFULL);
	assert_int_equal(store_batch_find_serial(f->st, a, CODE_SERIAL_MAX,
	    &got), 0);
	assert_int_equal(got.id, 2);
	assert_int_equal(store_batch_find_serial(f->st, a, CODE_SERIAL_MAX - 10,
	    &got), 0);
	assert_int_equal(got.id, 1);
}

/* ---- scans ---- */

struct judge_log {
	size_t		n;
	size_t		index[16];
	uint64_t	ids[16];
	uint32_t	count_before[16];
	int		had_loc[16];
};

static void
logging_judge(void *arg, size_t index, struct scan_rec *r,
    struct code_state *s)
{
	struct judge_log *l = arg;

	if (l->n < 16) {
		l->index[l->n] = index;
		l->ids[l->n] = r->id;
		l->count_before[l->n] = s->scan_count;
		l->had_loc[l->n] = (r->flags & SCAN_HAS_LOC) != 0;
	}
	l->n++;
	simple_judge(NULL, index, r, s);
}

static int
collect_scan(void *arg, const struct scan_rec *r)
{
	uint64_t *ids = arg;

	ids[++ids[0]] = r->id;
	return 0;
}

static void
test_scans_commit(void **state)
{
	struct fixture *f = *state;
	struct scan_rec recs[6], more[2], got;
	struct judge_log log = { 0 };
	struct code_state cs;
	struct store_stats ss;
	uint64_t ids[16] = { 0 };

	recs[0] = mkscan(1, 10, 111, 1000);
	recs[1] = mkscan(1, 10, 222, 2000);
	recs[2] = mkscan(1, 11, 111, 3000);
	recs[3] = mkscan(1, 10, 111, 4000);
	recs[3].flags = SCAN_BOT;
	recs[4] = mkscan(0, 12345, 333, 5000);	/* counterfeit */
	recs[4].verdict = VERDICT_COUNTERFEIT;
	recs[5] = mkscan(1, 10, 333, 6000);
	assert_int_equal(store_scans_commit(f->st, recs, 6, logging_judge,
	    &log), 0);
	for (int i = 0; i < 6; i++)
		assert_int_equal(recs[i].id, i + 1);
	/* judge: in order, never for brand 0, with accumulated state. */
	assert_int_equal(log.n, 5);
	assert_int_equal(log.ids[0], 1);
	assert_int_equal(log.ids[1], 2);
	assert_int_equal(log.ids[2], 3);
	assert_int_equal(log.ids[3], 4);
	assert_int_equal(log.ids[4], 6);
	assert_int_equal(log.index[0], 0);
	assert_int_equal(log.index[3], 3);
	assert_int_equal(log.index[4], 5);	/* positions in the caller's array */
	assert_int_equal(log.count_before[0], 0);
	assert_int_equal(log.count_before[1], 1);
	assert_int_equal(log.count_before[2], 0);
	assert_int_equal(log.count_before[3], 2);
	assert_int_equal(log.count_before[4], 2);	/* the bot did not count */
	assert_true(recs[0].flags & SCAN_FIRST);
	assert_false(recs[1].flags & SCAN_FIRST);
	assert_int_equal(recs[4].verdict, VERDICT_COUNTERFEIT);

	assert_int_equal(store_code_state(f->st, 1, 10, &cs), 0);
	assert_int_equal(cs.scan_count, 3);
	assert_int_equal(cs.bot_count, 1);
	assert_int_equal(cs.first_at, 1000);
	assert_int_equal(cs.first_scan_id, 1);
	assert_int_equal(cs.n_scanners, 3);
	assert_int_equal(cs.scanners[0], 111);
	assert_int_equal(cs.scanners[1], 222);
	assert_int_equal(cs.scanners[2], 333);
	assert_int_equal(store_code_state(f->st, 1, 99, &cs), SIGIL_ENOTFOUND);
	assert_int_equal(store_code_state(f->st, 0, 12345, &cs),
	    SIGIL_ENOTFOUND);

	assert_int_equal(store_scan_get(f->st, 5, &got), 0);
	assert_int_equal(got.brand_id, 0);
	assert_int_equal(got.serial, 12345);
	assert_int_equal(got.device, 333);
	assert_int_equal(got.at, 5000);
	assert_int_equal(got.ip[12], 192);
	assert_int_equal(got.ip[15], 333 & 0xff);
	assert_int_equal(got.batch_id, 1);
	assert_int_equal(store_scan_get(f->st, 7, &got), SIGIL_ENOTFOUND);

	assert_int_equal(store_code_scans(f->st, 1, 10, collect_scan, ids), 0);
	assert_int_equal(ids[0], 4);
	assert_int_equal(ids[1], 1);
	assert_int_equal(ids[2], 2);
	assert_int_equal(ids[3], 4);
	assert_int_equal(ids[4], 6);

	assert_int_equal(store_stats(f->st, &ss), 0);
	assert_int_equal(ss.scans, 6);
	assert_int_equal(ss.bots, 1);
	assert_int_equal(ss.by_verdict[VERDICT_GENUINE], 4);
	assert_int_equal(ss.by_verdict[VERDICT_COUNTERFEIT], 1);
	assert_int_equal(ss.codes_scanned, 2);

	/* Without judge, verdict and flags are stored as given. */
	more[0] = mkscan(1, CODE_SERIAL_MAX, 9, 7000);
	more[0].verdict = VERDICT_INACTIVE;
	more[0].flags = SCAN_GS1;
	assert_int_equal(store_scans_commit(f->st, more, 1, NULL, NULL), 0);
	assert_int_equal(more[0].id, 7);
	assert_int_equal(store_scan_get(f->st, 7, &got), 0);
	assert_int_equal(got.verdict, VERDICT_INACTIVE);
	assert_int_equal(got.flags, SCAN_GS1);
	assert_int_equal(got.serial, CODE_SERIAL_MAX);
	assert_int_equal(store_code_state(f->st, 1, CODE_SERIAL_MAX, &cs), 0);
	assert_int_equal(cs.scan_count, 0);

	/* Rejected commits write nothing, consume no id, leave recs alone. */
	more[0] = mkscan(1, 10, 9, 8000);
	more[1] = mkscan(1, CODE_SERIAL_MAX + 1, 9, 8000);
	assert_int_equal(store_scans_commit(f->st, more, 2, simple_judge,
	    NULL), SIGIL_EINVAL);
	more[1] = mkscan(0, 5, 9, 8000);
	more[1].verdict = 9;
	assert_int_equal(store_scans_commit(f->st, more, 2, simple_judge,
	    NULL), SIGIL_EINVAL);
	assert_int_equal(more[0].id, 0);
	assert_int_equal(more[0].flags, 0);
	more[1].verdict = VERDICT_COUNTERFEIT;
	more[1].batch_id = (uint64_t)UINT32_MAX + 1;
	assert_int_equal(store_scans_commit(f->st, more, 2, simple_judge,
	    NULL), SIGIL_EINVAL);
	assert_int_equal(store_code_state(f->st, 1, 10, &cs), 0);
	assert_int_equal(cs.scan_count, 3);
	assert_int_equal(store_stats(f->st, &ss), 0);
	assert_int_equal(ss.scans, 7);
	more[1].batch_id = 0;
	assert_int_equal(store_scans_commit(f->st, more, 2, simple_judge,
	    NULL), 0);
	assert_int_equal(more[0].id, 8);
	assert_int_equal(more[1].id, 9);
	assert_int_equal(store_scans_commit(f->st, more, 0, NULL, NULL), 0);
}

static void
overflowing_judge(void *arg, size_t index, struct scan_rec *r,
    struct code_state *s)
{
	(void)arg;
	(void)index;
	(void)r;
	s->n_scanners = STORE_SCANNERS_MAX + 1;
}

static void
test_scans_bad_judge(void **state)
{
	struct fixture *f = *state;
	struct scan_rec r = mkscan(1, 1, 1, 1);
	struct store_stats ss;

	assert_int_equal(store_scans_commit(f->st, &r, 1, overflowing_judge,
	    NULL), SIGIL_EINVAL);
	assert_int_equal(store_stats(f->st, &ss), 0);
	assert_int_equal(ss.scans, 0);
}

static void
test_scan_locate(void **state)
{
	struct fixture *f = *state;
	struct scan_rec recs[2], out, got;
	struct judge_log log = { 0 };
	struct code_state cs;

	recs[0] = mkscan(1, 10, 111, 1000);
	recs[1] = mkscan(0, 99, 222, 2000);
	assert_int_equal(store_scans_commit(f->st, recs, 2, simple_judge,
	    NULL), 0);
	assert_int_equal(store_scan_locate(f->st, 1, 31.23f, 121.47f, 30,
	    logging_judge, &log, &out), 0);
	assert_int_equal(log.n, 1);
	assert_int_equal(log.index[0], 0);
	assert_true(log.had_loc[0]);
	assert_true(out.flags & SCAN_HAS_LOC);
	assert_true(out.flags & SCAN_FIRST);	/* the logged flags stay */
	assert_true(fabsf(out.lat - 31.23f) < 1e-6f);
	assert_int_equal(out.accuracy_m, 30);
	assert_int_equal(store_code_state(f->st, 1, 10, &cs), 0);
	assert_int_equal(cs.last_loc_at, 1000);
	assert_true(fabsf(cs.last_lng - 121.47f) < 1e-6f);
	assert_int_equal(cs.scan_count, 1);

	assert_int_equal(store_scan_locate(f->st, 1, 1, 1, 1, logging_judge,
	    &log, &out), SIGIL_EEXIST);
	assert_int_equal(store_scan_locate(f->st, 3, 1, 1, 1, NULL, NULL,
	    &out), SIGIL_ENOTFOUND);
	assert_int_equal(store_scan_locate(f->st, 2, 91, 1, 1, NULL, NULL,
	    &out), SIGIL_EINVAL);
	assert_int_equal(store_scan_locate(f->st, 2, 1, -180.5f, 1, NULL,
	    NULL, &out), SIGIL_EINVAL);
	assert_int_equal(store_scan_locate(f->st, 2, NAN, 1, 1, NULL, NULL,
	    &out), SIGIL_EINVAL);
	assert_int_equal(store_scan_locate(f->st, 2, -33.9f, 18.4f, 5, NULL,
	    NULL, NULL), 0);

	assert_int_equal(store_scan_get(f->st, 1, &got), 0);
	assert_true(got.flags & SCAN_HAS_LOC);
	assert_true(fabsf(got.lng - 121.47f) < 1e-6f);
	assert_int_equal(store_scan_get(f->st, 2, &got), 0);
	assert_true(fabsf(got.lat + 33.9f) < 1e-6f);

	/* A location that came with the scan is stored the same way. */
	recs[0] = mkscan(1, 10, 111, 9000);
	recs[0].flags = SCAN_HAS_LOC;
	recs[0].lat = 95;
	assert_int_equal(store_scans_commit(f->st, recs, 1, simple_judge,
	    NULL), SIGIL_EINVAL);
	recs[0].lat = 22.5f;
	recs[0].lng = 114.1f;
	recs[0].accuracy_m = 12;
	assert_int_equal(store_scans_commit(f->st, recs, 1, simple_judge,
	    NULL), 0);
	assert_int_equal(recs[0].id, 3);
	assert_int_equal(store_scan_get(f->st, 3, &got), 0);
	assert_true(got.flags & SCAN_HAS_LOC);
	assert_true(fabsf(got.lng - 114.1f) < 1e-6f);
	assert_int_equal(got.accuracy_m, 12);
	assert_int_equal(store_scan_locate(f->st, 3, 1, 1, 1, NULL, NULL,
	    NULL), SIGIL_EEXIST);
	/* An unlocated scan reads back with no coordinates. */
	recs[0] = mkscan(1, 10, 111, 9500);
	recs[0].lat = 5;
	assert_int_equal(store_scans_commit(f->st, recs, 1, NULL, NULL), 0);
	assert_int_equal(store_scan_get(f->st, 4, &got), 0);
	assert_false(got.flags & SCAN_HAS_LOC);
	assert_true(got.lat == 0 && got.lng == 0);
}

struct each_check {
	struct store	*st;
	uint64_t	 n, last_id, located;
	int64_t		 min_at;
	uint64_t	 stop_at;
};

static int
each_check(void *arg, const struct scan_rec *r)
{
	struct each_check *c = arg;
	struct brand b;

	assert_true(r->id > c->last_id);
	c->last_id = r->id;
	if (c->n == 0 || r->at < c->min_at)
		c->min_at = r->at;
	c->n++;
	if (r->flags & SCAN_HAS_LOC) {
		assert_int_equal(r->id % 500, 0);
		assert_true(fabsf(r->lat - 10.0f) < 1e-6f);
		c->located++;
	}
	/* A nested read sees the same snapshot and does not deadlock. */
	if (r->id % 997 == 0)
		assert_int_equal(store_brand_get(c->st, 1, &b), 0);
	return c->stop_at && r->id == c->stop_at ? 42 : 0;
}

static void
test_scan_each(void **state)
{
	struct fixture *f = *state;
	struct scan_rec recs[3000];
	struct each_check c = { f->st };

	add_brand(f->st, "acme");
	for (int i = 0; i < 3000; i++)
		recs[i] = mkscan(1, (uint64_t)(i % 50) + 1, (uint64_t)i,
		    (int64_t)i * 10);
	/* One out-of-order clock tick: "at" is only nearly monotonic. */
	recs[2000].at = 5;
	assert_int_equal(store_scans_commit(f->st, recs, 3000, simple_judge,
	    NULL), 0);
	for (uint64_t id = 500; id <= 3000; id += 500)
		assert_int_equal(store_scan_locate(f->st, id, 10, 20, 3, NULL,
		    NULL, NULL), 0);

	assert_int_equal(store_scan_each(f->st, 0, each_check, &c), 0);
	assert_int_equal(c.n, 3000);
	assert_int_equal(c.located, 6);

	memset(&c, 0, sizeof(c));
	c.st = f->st;
	assert_int_equal(store_scan_each(f->st, 15000, each_check, &c), 0);
	assert_int_equal(c.n, 1499);	/* ids 1501..3000 minus the early one */
	assert_int_equal(c.min_at, 15000);
	assert_int_equal(c.located, 3);

	memset(&c, 0, sizeof(c));
	c.st = f->st;
	c.stop_at = 2100;
	assert_int_equal(store_scan_each(f->st, 0, each_check, &c), 42);
	assert_int_equal(c.n, 2100);

	memset(&c, 0, sizeof(c));
	c.st = f->st;
	assert_int_equal(store_scan_each(f->st, INT64_MAX, each_check, &c), 0);
	assert_int_equal(c.n, 0);
}

/* ---- growth, concurrency, other processes ---- */

static void
commit_many(struct store *st, uint64_t total, size_t per_txn, uint32_t codes,
    uint64_t seed)
{
	struct scan_rec *recs = calloc(per_txn, sizeof(*recs));
	uint64_t x = seed, done = 0;

	assert_non_null(recs);
	while (done < total) {
		size_t n = total - done < per_txn ? total - done : per_txn;

		for (size_t i = 0; i < n; i++) {
			uint64_t code, dev;

			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
			code = (x >> 33) % codes + 1;
			/* Each code sees a few devices, like shared packs. */
			dev = code * 0x9e3779b97f4a7c15ULL + (x >> 20) % 3;
			recs[i] = mkscan(1, code, dev,
			    1767225600000000LL + (int64_t)(done + i) * 1000);
			recs[i].batch_id = code / 10000 + 1;
			recs[i].ip[15] = (uint8_t)(x >> 40);
			recs[i].ip[14] = (uint8_t)(x >> 48);
			if ((x >> 10) % 50 == 0)
				recs[i].flags = SCAN_BOT;
		}
		assert_int_equal(store_scans_commit(st, recs, n, simple_judge,
		    NULL), 0);
		done += n;
	}
	free(recs);
}

static void
test_map_growth(void **state)
{
	char dir[64];
	struct store *st;
	struct store_stats ss;
	struct scan_rec r;
	uint64_t map, used;

	(void)state;
	tmpdir_make(dir);
	setenv("SIGIL_STORE_INITIAL_MAP", "65536", 1);
	assert_int_equal(store_open(dir, STORE_CREATE | STORE_NOSYNC, &st), 0);
	unsetenv("SIGIL_STORE_INITIAL_MAP");
	assert_int_equal(store_usage(st, &map, &used), 0);
	assert_int_equal(map, 65536);
	commit_many(st, 200000, 1000, 20000, 1);
	assert_int_equal(store_stats(st, &ss), 0);
	assert_int_equal(ss.scans, 200000);
	assert_int_equal(store_scan_get(st, 1, &r), 0);
	assert_int_equal(store_scan_get(st, 200000, &r), 0);
	assert_int_equal(store_scan_get(st, 200001, &r), SIGIL_ENOTFOUND);
	assert_int_equal(store_usage(st, &map, &used), 0);
	assert_true(map >= 16u << 20);
	assert_true(used <= map);
	/* Doubling from 64 KiB keeps the size a power of two. */
	assert_int_equal(map & (map - 1), 0);
	store_close(st);
	assert_int_equal(store_open(dir, 0, &st), 0);
	assert_int_equal(store_stats(st, &ss), 0);
	assert_int_equal(ss.scans, 200000);
	store_close(st);
	tmpdir_remove(dir);
}

/* cmocka's asserts may not fail off the main thread: count errors. */
struct reader_arg {
	struct store	*st;
	volatile int	*stop;
	uint64_t	 reads, errors;
};

static void *
reader_main(void *p)
{
	struct reader_arg *a = p;
	struct store_stats ss;
	struct scan_rec r;
	uint64_t last = 0;

	while (!*a->stop) {
		/* Snapshots never go backwards. */
		if (store_stats(a->st, &ss) != 0 || ss.scans < last)
			a->errors++;
		last = ss.scans;
		if (ss.scans > 0 && store_scan_get(a->st, ss.scans, &r) != 0)
			a->errors++;
		a->reads++;
	}
	return NULL;
}

static void
test_concurrent_growth(void **state)
{
	char dir[64];
	struct store *st;
	struct reader_arg ra[4];
	pthread_t th[4];
	volatile int stop = 0;
	uint64_t map, used;

	(void)state;
	tmpdir_make(dir);
	setenv("SIGIL_STORE_INITIAL_MAP", "65536", 1);
	assert_int_equal(store_open(dir, STORE_CREATE | STORE_NOSYNC, &st), 0);
	unsetenv("SIGIL_STORE_INITIAL_MAP");
	for (int i = 0; i < 4; i++) {
		ra[i] = (struct reader_arg){ st, &stop, 0, 0 };
		assert_int_equal(pthread_create(&th[i], NULL, reader_main,
		    &ra[i]), 0);
	}
	commit_many(st, 50000, 500, 5000, 7);
	stop = 1;
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_true(ra[i].reads > 0);
		assert_int_equal(ra[i].errors, 0);
	}
	assert_int_equal(store_usage(st, &map, &used), 0);
	assert_true(map > 65536);
	store_close(st);
	tmpdir_remove(dir);
}

static void
test_rdonly_other_process(void **state)
{
	struct fixture *f = *state;
	struct scan_rec recs[10];
	int status;
	pid_t pid;

	add_brand(f->st, "acme");
	for (int i = 0; i < 10; i++)
		recs[i] = mkscan(1, 5, (uint64_t)i, i);
	assert_int_equal(store_scans_commit(f->st, recs, 10, simple_judge,
	    NULL), 0);

	/* LMDB forbids a second env on the same files in one process. */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct store *ro;
		struct store_stats ss;
		struct brand b = { 0 };
		struct code_state cs;
		int ok;

		if (store_open(f->dir, STORE_RDONLY, &ro) != 0)
			_exit(10);
		strcpy(b.name, "x");
		strcpy(b.base_url, "y");
		ok = store_stats(ro, &ss) == 0 && ss.scans == 10 &&
		    ss.brands == 1 && store_code_state(ro, 1, 5, &cs) == 0 &&
		    cs.scan_count == 10 &&
		    store_brand_add(ro, &b) == SIGIL_EDENIED &&
		    store_backup(ro, "/nonexistent-dir") == SIGIL_ENOTFOUND;
		store_close(ro);
		_exit(ok ? 0 : 11);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* The writer carries on after the reader left. */
	assert_int_equal(store_scans_commit(f->st, recs, 1, NULL, NULL), 0);
	assert_int_equal(recs[0].id, 11);
}

static void
test_backup(void **state)
{
	struct fixture *f = *state;
	char dir[64], path[128];
	struct scan_rec recs[100], r;
	struct store *copy;
	struct store_stats ss;
	struct brand b;
	FILE *fp;

	add_brand(f->st, "acme");
	for (int i = 0; i < 100; i++)
		recs[i] = mkscan(1, (uint64_t)i % 7 + 1, (uint64_t)i, i);
	assert_int_equal(store_scans_commit(f->st, recs, 100, simple_judge,
	    NULL), 0);
	assert_int_equal(store_scan_locate(f->st, 50, 1, 2, 3, NULL, NULL,
	    NULL), 0);

	tmpdir_make(dir);
	assert_int_equal(store_backup(f->st, "/nonexistent/x"),
	    SIGIL_ENOTFOUND);
	snprintf(path, sizeof(path), "%s/stray", dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fclose(fp);
	assert_int_equal(store_backup(f->st, dir), SIGIL_EEXIST);
	unlink(path);
	assert_int_equal(store_backup(f->st, dir), 0);
	/* The original keeps working. */
	assert_int_equal(store_scans_commit(f->st, recs, 1, NULL, NULL), 0);

	assert_int_equal(store_open(dir, 0, &copy), 0);
	assert_int_equal(store_stats(copy, &ss), 0);
	assert_int_equal(ss.scans, 100);
	assert_int_equal(ss.codes_scanned, 7);
	assert_int_equal(store_brand_find(copy, "acme", &b), 0);
	assert_int_equal(store_scan_get(copy, 50, &r), 0);
	assert_true(r.flags & SCAN_HAS_LOC);
	/* Ids continue where the original stood at copy time. */
	assert_int_equal(store_scans_commit(copy, recs, 1, NULL, NULL), 0);
	assert_int_equal(recs[0].id, 101);
	store_close(copy);
	tmpdir_remove(dir);
}

static void
test_bytes_per_scan(void **state)
{
	char dir[64];
	struct store *st;
	struct store_stats ss;
	struct timespec t0, t1;
	uint64_t total = getenv("SIGIL_TEST_QUICK") ? 100000 : 1000000;
	uint64_t size, map, used;
	double per, secs;
	size_t left;

	(void)state;
	tmpdir_make(dir);
	assert_int_equal(store_open(dir, STORE_CREATE | STORE_NOSYNC, &st), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* Ten scans per code on average, whatever the count. */
	commit_many(st, total, 10000, (uint32_t)(total / 10), 42);
	/* Every code's state in code_state too, as it would be when idle. */
	do
		assert_int_equal(store_state_merge(st, 0, &left), 0);
	while (left > 0);
	assert_int_equal(store_sync(st), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(store_stats(st, &ss), 0);
	assert_int_equal(ss.scans, total);
	assert_int_equal(store_usage(st, &map, &used), 0);
	size = file_size(dir);
	per = (double)size / (double)total;
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	print_message("store: %llu scans over %llu codes: %.1f bytes/scan "
	    "(file %llu, used %llu), %.0f scans/s\n", (unsigned long long)total,
	    (unsigned long long)ss.codes_scanned, per,
	    (unsigned long long)size, (unsigned long long)used,
	    (double)total / secs);
	store_close(st);
	tmpdir_remove(dir);	/* before the assert: a failure must not leak it */
	assert_true(per <= 160.0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_create_reopen),
		cmocka_unit_test(test_schema_mismatch),
		cmocka_unit_test(test_initial_map_env),
		cmocka_unit_test_setup_teardown(test_brands, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_products, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_serial_exhaustion, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_scans_commit, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_scans_bad_judge, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_scan_locate, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_scan_each, setup, teardown),
		cmocka_unit_test(test_map_growth),
		cmocka_unit_test(test_concurrent_growth),
		cmocka_unit_test_setup_teardown(test_rdonly_other_process, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_backup, setup, teardown),
		cmocka_unit_test(test_bytes_per_scan),
	};

	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
