/*
 * test_trace_store.c - the store's tables for API tokens, distributors,
 * aggregation, shipments, the EPCIS event log and alerts, and opening a
 * store made before those tables existed. Each test works in its own
 * mkdtemp() directory under /tmp.
 *
 * The legacy-store fixture drops the new sub-databases with LMDB itself:
 * the storage module (src/store/) stays the only source that includes
 * lmdb.h, but a test needs some way to fabricate the older on-disk
 * layout.
 */
#include <ftw.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "storefix.h"
#include <lmdb.h>

#include "sigil/code.h"
#include "sigil/store.h"
#include "sigil/util.h"

/* ---- helpers ---- */

static void
tmpdir_make(char *buf)
{
	assert_non_null(tmpdir_new(buf, 64, "trace"));
}

struct fixture {
	char		 dir[64];
	struct store	*st;
	uint32_t	 brand, other;
	uint16_t	 key, other_key;
};

static uint16_t
add_key_product(struct store *st, uint32_t brand)
{
	struct product p = { .brand_id = brand, .max_scanners = 5 };
	struct key_meta k;

	strcpy(p.sku, "TEA-250");
	strcpy(p.name, "Green tea 250 g");
	assert_int_equal(store_product_add(st, &p), 0);
	assert_int_equal(store_key_add(st, brand, &k), 0);
	return k.id;
}

static struct batch
new_batch(struct fixture *f, uint32_t brand, uint64_t count)
{
	struct batch b = { .brand_id = brand, .count = count };

	b.key_id = brand == f->brand ? f->key : f->other_key;
	strcpy(b.sku, "TEA-250");
	strcpy(b.lot, "L1");
	assert_int_equal(store_batch_new(f->st, &b), 0);
	return b;
}

static int
setup_map(void **state, const char *initial_map)
{
	struct fixture *f = calloc(1, sizeof(*f));
	int rc;

	if (f == NULL)
		return -1;
	tmpdir_make(f->dir);
	if (initial_map)
		setenv("SIGIL_STORE_INITIAL_MAP", initial_map, 1);
	rc = store_open(f->dir, STORE_CREATE | STORE_NOSYNC, &f->st);
	unsetenv("SIGIL_STORE_INITIAL_MAP");
	if (rc != 0)
		return -1;
	f->brand = add_brand(f->st, "Acme Tea");
	f->other = add_brand(f->st, "Other Tea");
	f->key = add_key_product(f->st, f->brand);
	f->other_key = add_key_product(f->st, f->other);
	*state = f;
	return 0;
}

static int
setup(void **state)
{
	return setup_map(state, NULL);
}

/* A 64 KiB map: every test using it also exercises growth and retry. */
static int
setup_small(void **state)
{
	return setup_map(state, "65536");
}

STOREFIX_TEARDOWN(struct fixture)

static uint32_t
add_distributor(struct store *st, uint32_t brand, const char *name)
{
	struct distributor d = { .brand_id = brand };

	strcpy(d.name, name);
	assert_int_equal(store_distributor_add(st, &d), 0);
	return d.id;
}

static int64_t
ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (int64_t)(t1.tv_sec - t0->tv_sec) * 1000 +
	    (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Collectors for the *_each callbacks. */
struct u64list {
	uint64_t	v[1024];
	size_t		n;
	size_t		stop_at;	/* return 7 after this many; 0 never */
};

static int
collect_child(void *arg, uint64_t child)
{
	struct u64list *l = arg;

	if (l->n < 1024)
		l->v[l->n] = child;
	l->n++;
	return l->stop_at && l->n == l->stop_at ? 7 : 0;
}

struct evlist {
	struct {
		uint64_t	id;
		int		type;
		int64_t		at;
		uint64_t	parent, batch_id, shipment, first;
		size_t		n;
	}		e[64];
	size_t		n;
	size_t		stop_at;
};

static int
collect_event(void *arg, const struct trace_event *ev)
{
	struct evlist *l = arg;

	if (l->n < 64) {
		l->e[l->n].id = ev->id;
		l->e[l->n].type = ev->type;
		l->e[l->n].at = ev->at;
		l->e[l->n].parent = ev->parent;
		l->e[l->n].batch_id = ev->batch_id;
		l->e[l->n].shipment = ev->shipment;
		l->e[l->n].n = ev->n;
		l->e[l->n].first = ev->n ? ev->serials[0] : 0;
	}
	l->n++;
	return l->stop_at && l->n == l->stop_at ? 9 : 0;
}

/* ---- tokens ---- */

struct toklist {
	struct token	t[8];
	size_t		n;
};

static int
collect_token(void *arg, const struct token *t)
{
	struct toklist *l = arg;

	if (l->n < 8)
		l->t[l->n] = *t;
	l->n++;
	return 0;
}

static void
test_tokens(void **state)
{
	struct fixture *f = *state;
	uint8_t h1[32], h2[32], h3[32], unknown[32];
	struct token t = { .brand_id = f->brand, .role = ROLE_OPERATOR };
	struct token t2 = { .brand_id = f->other, .role = ROLE_ADMIN };
	struct token t3 = { .brand_id = f->brand, .role = ROLE_ANALYST };
	struct token bad, got;
	struct toklist l = { 0 };
	int64_t before = sigil_now_us();

	memset(h1, 0x11, 32);
	memset(h2, 0x22, 32);
	memset(h3, 0x33, 32);
	memset(unknown, 0x44, 32);
	assert_int_equal(store_token_add(f->st, h1, &t), 0);
	assert_int_equal(t.id, 1);
	assert_true(t.created >= before);
	assert_int_equal(t.revoked, 0);
	assert_int_equal(store_token_add(f->st, h2, &t2), 0);
	assert_int_equal(t2.id, 2);
	assert_int_equal(store_token_add(f->st, h3, &t3), 0);
	assert_int_equal(t3.id, 3);

	/* The same hash twice, bad roles, unknown brand. */
	bad = t;
	assert_int_equal(store_token_add(f->st, h1, &bad), SIGIL_EEXIST);
	bad.role = 0;
	assert_int_equal(store_token_add(f->st, unknown, &bad), SIGIL_EINVAL);
	bad.role = 4;
	assert_int_equal(store_token_add(f->st, unknown, &bad), SIGIL_EINVAL);
	bad.role = ROLE_ADMIN;
	bad.brand_id = 99;
	assert_int_equal(store_token_add(f->st, unknown, &bad),
	    SIGIL_ENOTFOUND);
	assert_int_equal(store_token_add(f->st, NULL, &bad), SIGIL_EINVAL);
	/* A refused add consumes no id. */
	bad.brand_id = f->brand;
	assert_int_equal(store_token_add(f->st, unknown, &bad), 0);
	assert_int_equal(bad.id, 4);

	assert_int_equal(store_token_find(f->st, h2, &got), 0);
	assert_int_equal(got.id, 2);
	assert_int_equal(got.brand_id, f->other);
	assert_int_equal(got.role, ROLE_ADMIN);
	assert_int_equal(got.created, t2.created);
	memset(unknown, 0x55, 32);
	assert_int_equal(store_token_find(f->st, unknown, &got),
	    SIGIL_ENOTFOUND);

	assert_int_equal(store_token_revoke(f->st, 1), 0);
	assert_int_equal(store_token_revoke(f->st, 1), SIGIL_ESTATE);
	assert_int_equal(store_token_revoke(f->st, 77), SIGIL_ENOTFOUND);
	assert_int_equal(store_token_find(f->st, h1, &got), 0);
	assert_true(got.revoked >= t.created);
	assert_int_equal(got.role, ROLE_OPERATOR);

	/* Per brand, id order, revoked ones included. */
	assert_int_equal(store_token_each(f->st, f->brand, collect_token, &l),
	    0);
	assert_int_equal(l.n, 3);
	assert_int_equal(l.t[0].id, 1);
	assert_true(l.t[0].revoked != 0);
	assert_int_equal(l.t[1].id, 3);
	assert_int_equal(l.t[1].role, ROLE_ANALYST);
	assert_int_equal(l.t[2].id, 4);
	l.n = 0;
	assert_int_equal(store_token_each(f->st, f->other, collect_token, &l),
	    0);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.t[0].id, 2);
	l.n = 0;
	assert_int_equal(store_token_each(f->st, 42, collect_token, &l), 0);
	assert_int_equal(l.n, 0);
}

/* ---- distributors ---- */

struct distlist {
	uint32_t	id[8];
	int		territory_null;
	size_t		n;
};

static int
collect_dist(void *arg, const struct distributor *d)
{
	struct distlist *l = arg;

	if (l->n < 8)
		l->id[l->n] = d->id;
	l->territory_null &= d->territory == NULL;
	l->n++;
	return 0;
}

static void
test_distributors(void **state)
{
	struct fixture *f = *state;
	struct distributor d = { .brand_id = f->brand }, got;
	struct distlist l = { .territory_null = 1 };
	char *big = malloc(STORE_GEOJSON_MAX + 2);
	size_t head;

	assert_non_null(big);
	/* A territory of exactly STORE_GEOJSON_MAX bytes: an overflow value. */
	head = (size_t)sprintf(big, "{\"type\":\"Polygon\",\"coordinates\":[[");
	memset(big + head, ' ', STORE_GEOJSON_MAX - head - 3);
	memcpy(big + STORE_GEOJSON_MAX - 3, "]]}", 4);
	assert_int_equal(strlen(big), STORE_GEOJSON_MAX);

	strcpy(d.name, "Shanghai East Trading");
	d.territory = big;
	assert_int_equal(store_distributor_add(f->st, &d), 0);
	assert_int_equal(d.id, 1);
	assert_true(d.created > 0);
	assert_ptr_equal(d.territory, big);	/* copied, not taken */

	memset(&got, 0, sizeof(got));
	assert_int_equal(store_distributor_get(f->st, f->brand, 1, &got), 0);
	assert_string_equal(got.name, "Shanghai East Trading");
	assert_int_equal(got.brand_id, f->brand);
	assert_int_equal(got.created, d.created);
	assert_non_null(got.territory);
	assert_int_equal(strlen(got.territory), STORE_GEOJSON_MAX);
	assert_memory_equal(got.territory, big, STORE_GEOJSON_MAX);
	store_distributor_clear(&got);
	assert_null(got.territory);
	store_distributor_clear(&got);	/* twice is harmless */

	/* No territory; an empty one is kept as empty, not NULL. */
	d.territory = NULL;
	strcpy(d.name, "Beijing North");
	assert_int_equal(store_distributor_add(f->st, &d), 0);
	assert_int_equal(d.id, 2);
	d.territory = "";
	strcpy(d.name, "Nowhere Ltd");
	assert_int_equal(store_distributor_add(f->st, &d), 0);
	assert_int_equal(d.id, 3);
	assert_int_equal(store_distributor_get(f->st, f->brand, 2, &got), 0);
	assert_null(got.territory);
	assert_int_equal(store_distributor_get(f->st, f->brand, 3, &got), 0);
	assert_non_null(got.territory);
	assert_string_equal(got.territory, "");
	store_distributor_clear(&got);

	/* Ids are per brand. */
	assert_int_equal(add_distributor(f->st, f->other, "Other's one"), 1);
	assert_int_equal(store_distributor_get(f->st, f->other, 2, &got),
	    SIGIL_ENOTFOUND);
	assert_int_equal(store_distributor_get(f->st, 99, 1, &got),
	    SIGIL_ENOTFOUND);

	/* Bounds. */
	d.territory = NULL;
	d.name[0] = '\0';
	assert_int_equal(store_distributor_add(f->st, &d), SIGIL_EINVAL);
	strcpy(d.name, "tab\there");
	assert_int_equal(store_distributor_add(f->st, &d), SIGIL_EINVAL);
	memset(d.name, 'x', STORE_TEXT_MAX);
	d.name[STORE_TEXT_MAX] = '\0';
	assert_int_equal(store_distributor_add(f->st, &d), 0);
	assert_int_equal(store_distributor_get(f->st, f->brand, d.id, &got),
	    0);
	assert_int_equal(strlen(got.name), STORE_TEXT_MAX);
	strcpy(d.name, "Too big");
	big[STORE_GEOJSON_MAX] = ' ';
	big[STORE_GEOJSON_MAX + 1] = '\0';
	d.territory = big;
	assert_int_equal(store_distributor_add(f->st, &d), SIGIL_EINVAL);
	d.territory = NULL;
	d.brand_id = 99;
	assert_int_equal(store_distributor_add(f->st, &d), SIGIL_ENOTFOUND);
	assert_int_equal(store_distributor_add(f->st, NULL), SIGIL_EINVAL);

	assert_int_equal(store_distributor_each(f->st, f->brand, collect_dist,
	    &l), 0);
	assert_int_equal(l.n, 4);
	assert_true(l.territory_null);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(l.id[i], i + 1);
	l.n = 0;
	assert_int_equal(store_distributor_each(f->st, f->other, collect_dist,
	    &l), 0);
	assert_int_equal(l.n, 1);
	free(big);
}

/* An edit changes the fields named, in place; the rest is kept. */
static void
test_distributor_update(void **state)
{
	struct fixture *f = *state;
	const char *t1 = "{\"type\":\"Polygon\",\"coordinates\":[[[0,0],"
	    "[1,0],[1,1],[0,0]]]}";
	const char *t2 = "{\"type\":\"Polygon\",\"coordinates\":[[[5,5],"
	    "[6,5],[6,6],[5,5]]]}";
	struct distributor d = { .brand_id = f->brand }, u, got;

	strcpy(d.name, "Hangzhou Co");
	strcpy(d.gln, "9506000134352");
	d.territory = (char *)t1;
	assert_int_equal(store_distributor_add(f->st, &d), 0);

	/* The name alone: territory, GLN and created kept. */
	memset(&u, 0, sizeof u);
	u.brand_id = f->brand;
	u.id = d.id;
	strcpy(u.name, "Beijing Co");
	assert_int_equal(store_distributor_update(f->st, &u, STORE_DIST_NAME),
	    0);
	assert_string_equal(u.name, "Beijing Co");
	assert_null(u.territory);
	assert_int_equal(store_distributor_get(f->st, f->brand, d.id, &got), 0);
	assert_string_equal(got.name, "Beijing Co");
	assert_string_equal(got.gln, "9506000134352");
	assert_string_equal(got.territory, t1);
	assert_true(got.created == d.created);
	store_distributor_clear(&got);

	/* The territory and the GLN (cleared); the name kept. */
	memset(&u, 0, sizeof u);
	u.brand_id = f->brand;
	u.id = d.id;
	u.territory = (char *)t2;
	assert_int_equal(store_distributor_update(f->st, &u,
	    STORE_DIST_TERRITORY | STORE_DIST_GLN), 0);
	assert_int_equal(store_distributor_get(f->st, f->brand, d.id, &got), 0);
	assert_string_equal(got.name, "Beijing Co");
	assert_string_equal(got.gln, "");
	assert_string_equal(got.territory, t2);
	store_distributor_clear(&got);

	/* Refused: nothing named, a bad name or GLN, another brand's id, an
	 * unknown id; nothing changes. */
	memset(&u, 0, sizeof u);
	u.brand_id = f->brand;
	u.id = d.id;
	assert_int_equal(store_distributor_update(f->st, &u, 0), SIGIL_EINVAL);
	assert_int_equal(store_distributor_update(f->st, &u, STORE_DIST_NAME),
	    SIGIL_EINVAL);
	strcpy(u.gln, "12345");
	assert_int_equal(store_distributor_update(f->st, &u, STORE_DIST_GLN),
	    SIGIL_EINVAL);
	strcpy(u.name, "Thief");
	u.brand_id = f->other;
	assert_int_equal(store_distributor_update(f->st, &u, STORE_DIST_NAME),
	    SIGIL_ENOTFOUND);
	u.brand_id = f->brand;
	u.id = 999;
	assert_int_equal(store_distributor_update(f->st, &u, STORE_DIST_NAME),
	    SIGIL_ENOTFOUND);
	assert_int_equal(store_distributor_update(f->st, NULL,
	    STORE_DIST_NAME), SIGIL_EINVAL);
	assert_int_equal(store_distributor_get(f->st, f->brand, d.id, &got), 0);
	assert_string_equal(got.name, "Beijing Co");
	assert_string_equal(got.territory, t2);
	store_distributor_clear(&got);
}

/* ---- aggregation ---- */

static size_t
event_count(struct store *st, uint32_t brand, int type)
{
	struct evlist l = { .n = 0 };

	assert_int_equal(store_event_each(st, brand, 0, 0, 0, type, 0,
	    collect_event, &l), 0);
	return l.n;
}

static void
test_aggregate(void **state)
{
	struct fixture *f = *state;
	struct batch b = new_batch(f, f->brand, 100);	/* serials 1..100 */
	uint64_t kids[12], ev, p;
	struct u64list l = { .n = 0 };
	struct evlist el = { .n = 0 };

	new_batch(f, f->other, 500);	/* the other brand's 1..500 */
	assert_int_equal(b.first_serial, 1);
	for (int i = 0; i < 12; i++)
		kids[i] = (uint64_t)(13 - i);	/* 13..2, unsorted */
	assert_int_equal(store_aggregate(f->st, f->brand, 1, kids, 12, &ev),
	    0);
	assert_true(ev > 0);
	assert_int_equal(store_parent(f->st, f->brand, 5, &p), 0);
	assert_int_equal(p, 1);
	assert_int_equal(store_parent(f->st, f->brand, 1, &p),
	    SIGIL_ENOTFOUND);
	assert_int_equal(store_parent(f->st, f->other, 5, &p),
	    SIGIL_ENOTFOUND);
	assert_int_equal(store_children_each(f->st, f->brand, 1,
	    collect_child, &l), 0);
	assert_int_equal(l.n, 12);
	for (size_t i = 0; i < 12; i++)
		assert_int_equal(l.v[i], i + 2);	/* serial order */
	l.n = 0;
	l.stop_at = 3;
	assert_int_equal(store_children_each(f->st, f->brand, 1,
	    collect_child, &l), 7);
	assert_int_equal(l.n, 3);
	assert_int_equal(store_event_each(f->st, f->brand, 0, 0, 0, 0, 0,
	    collect_event, &el), 0);
	assert_int_equal(el.n, 1);
	assert_int_equal(el.e[0].id, ev);
	assert_int_equal(el.e[0].type, EVENT_AGGREGATE);
	assert_int_equal(el.e[0].parent, 1);
	assert_int_equal(el.e[0].n, 12);
	assert_int_equal(el.e[0].first, 2);

	/* A child that already has a parent: 409, and nothing written. */
	kids[0] = 15;
	kids[1] = 5;
	assert_int_equal(store_aggregate(f->st, f->brand, 14, kids, 2, &ev),
	    SIGIL_ECONFLICT);
	assert_int_equal(store_parent(f->st, f->brand, 15, &p),
	    SIGIL_ENOTFOUND);
	l.n = 0;
	l.stop_at = 0;
	assert_int_equal(store_children_each(f->st, f->brand, 14,
	    collect_child, &l), 0);
	assert_int_equal(l.n, 0);
	assert_int_equal(event_count(f->st, f->brand, 0), 1);

	/* Cycles: 1 holds 2, so 2 cannot hold 1; nor can 5 hold 20 once 20
	 * holds 1 (5 is inside 1 inside 20). */
	kids[0] = 1;
	assert_int_equal(store_aggregate(f->st, f->brand, 2, kids, 1, &ev),
	    SIGIL_EINVAL);
	assert_int_equal(store_aggregate(f->st, f->brand, 20, kids, 1, &ev),
	    0);
	kids[0] = 20;
	assert_int_equal(store_aggregate(f->st, f->brand, 5, kids, 1, &ev),
	    SIGIL_EINVAL);
	assert_int_equal(store_parent(f->st, f->brand, 20, &p),
	    SIGIL_ENOTFOUND);

	/* Unknown serials, the other brand's range, bad lists. */
	kids[0] = 101;
	assert_int_equal(store_aggregate(f->st, f->brand, 30, kids, 1, &ev),
	    SIGIL_ENOTFOUND);
	kids[0] = 31;
	assert_int_equal(store_aggregate(f->st, f->brand, 400, kids, 1, &ev),
	    SIGIL_ENOTFOUND);
	assert_int_equal(store_aggregate(f->st, 99, 30, kids, 1, &ev),
	    SIGIL_ENOTFOUND);
	kids[0] = 0;
	assert_int_equal(store_aggregate(f->st, f->brand, 30, kids, 1, &ev),
	    SIGIL_ENOTFOUND);
	kids[0] = CODE_SERIAL_MAX + 1;
	assert_int_equal(store_aggregate(f->st, f->brand, 30, kids, 1, &ev),
	    SIGIL_ENOTFOUND);
	kids[0] = 31;
	kids[1] = 31;
	assert_int_equal(store_aggregate(f->st, f->brand, 30, kids, 2, &ev),
	    SIGIL_EINVAL);
	kids[1] = 30;
	assert_int_equal(store_aggregate(f->st, f->brand, 30, kids, 2, &ev),
	    SIGIL_EINVAL);
	assert_int_equal(store_aggregate(f->st, f->brand, 30, kids, 0, &ev),
	    SIGIL_EINVAL);
	assert_int_equal(store_aggregate(f->st, f->brand, 30, kids,
	    STORE_AGG_MAX + 1, &ev), SIGIL_EINVAL);
	assert_int_equal(store_aggregate(f->st, f->brand, 30, NULL, 1, &ev),
	    SIGIL_EINVAL);
	assert_int_equal(event_count(f->st, f->brand, 0), 2);
	/* The other brand's serial 31 is its own code. */
	kids[0] = 31;
	assert_int_equal(store_aggregate(f->st, f->other, 30, kids, 1, NULL),
	    0);
	assert_int_equal(store_parent(f->st, f->brand, 31, &p),
	    SIGIL_ENOTFOUND);

	/* Unpack part, then the rest. */
	kids[0] = 4;
	kids[1] = 3;
	assert_int_equal(store_disaggregate(f->st, f->brand, 1, kids, 2, &ev),
	    0);
	assert_int_equal(store_parent(f->st, f->brand, 3, &p),
	    SIGIL_ENOTFOUND);
	assert_int_equal(store_parent(f->st, f->brand, 5, &p), 0);
	l.n = 0;
	assert_int_equal(store_children_each(f->st, f->brand, 1,
	    collect_child, &l), 0);
	assert_int_equal(l.n, 10);
	assert_int_equal(l.v[0], 2);
	assert_int_equal(l.v[1], 5);
	/* 3 is no longer inside; 1 is inside 20, not 2; nothing changes. */
	kids[0] = 5;
	kids[1] = 3;
	assert_int_equal(store_disaggregate(f->st, f->brand, 1, kids, 2, &ev),
	    SIGIL_ENOTFOUND);
	assert_int_equal(store_parent(f->st, f->brand, 5, &p), 0);
	kids[0] = 1;
	assert_int_equal(store_disaggregate(f->st, f->brand, 2, kids, 1, &ev),
	    SIGIL_ENOTFOUND);
	kids[1] = 5;
	kids[2] = 5;
	assert_int_equal(store_disaggregate(f->st, f->brand, 1, kids + 1, 2,
	    &ev), SIGIL_EINVAL);	/* 5 twice */
	assert_int_equal(store_disaggregate(f->st, f->brand, 1, NULL, 0, &ev),
	    0);
	l.n = 0;
	assert_int_equal(store_children_each(f->st, f->brand, 1,
	    collect_child, &l), 0);
	assert_int_equal(l.n, 0);
	assert_int_equal(store_parent(f->st, f->brand, 13, &p),
	    SIGIL_ENOTFOUND);
	assert_int_equal(store_disaggregate(f->st, f->brand, 1, NULL, 0, &ev),
	    SIGIL_ENOTFOUND);
	el.n = 0;
	assert_int_equal(store_event_each(f->st, f->brand, 0, 0, 0,
	    EVENT_DISAGGREGATE, 0, collect_event, &el), 0);
	assert_int_equal(el.n, 2);
	assert_int_equal(el.e[0].n, 2);
	assert_int_equal(el.e[0].first, 3);
	assert_int_equal(el.e[1].n, 10);
	assert_int_equal(el.e[1].id, ev);
	/* Unpacked codes can be packed again. */
	kids[0] = 3;
	assert_int_equal(store_aggregate(f->st, f->brand, 40, kids, 1, &ev),
	    0);
}

static int
count_child(void *arg, uint64_t child)
{
	uint64_t *n = arg;

	(*n)++;
	(void)child;
	return 0;
}

static void
test_aggregate_100k(void **state)
{
	struct fixture *f = *state;
	size_t n = STORE_AGG_MAX;
	uint64_t *kids = malloc(n * sizeof(*kids)), ev, p, count = 0;
	struct evlist el = { .n = 0 };
	struct timespec t0;
	int64_t ms, limit = 2000;

#if defined(__SANITIZE_ADDRESS__)
	limit = 10000;
#endif
	assert_non_null(kids);
	new_batch(f, f->brand, n + 1);
	/* Children 2..100001 in a scrambled order. */
	for (size_t i = 0; i < n; i++)
		kids[i] = 2 + (i * 7919) % n;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(store_aggregate(f->st, f->brand, 1, kids, n, &ev), 0);
	ms = ms_since(&t0);
	print_message("aggregate of %zu children: %lld ms\n", n,
	    (long long)ms);
	/*
	 * The time bound is for release builds on an ordinary machine;
	 * under valgrind (SIGIL_TEST_QUICK) only correctness is checked.
	 */
	if (getenv("SIGIL_TEST_QUICK") == NULL && ms >= limit) {
		free(kids);
		fail_msg("aggregate took %lld ms (limit %lld)", (long long)ms,
		    (long long)limit);
	}

	assert_int_equal(store_parent(f->st, f->brand, n + 1, &p), 0);
	assert_int_equal(p, 1);
	assert_int_equal(store_children_each(f->st, f->brand, 1, count_child,
	    &count), 0);
	assert_int_equal(count, n);
	assert_int_equal(store_code_events(f->st, f->brand, 77777,
	    collect_event, &el), 0);
	assert_int_equal(el.n, 1);
	assert_int_equal(el.e[0].n, n);
	assert_int_equal(el.e[0].first, 2);

	/* 100,000 children of which only the last is packed elsewhere: a
	 * conflict, and none of the others gains a parent. */
	new_batch(f, f->brand, n + 1);	/* serials n+2 .. 2n+2 */
	for (size_t i = 0; i < n - 1; i++)
		kids[i] = n + 3 + i;
	kids[n - 1] = 2;
	assert_int_equal(store_aggregate(f->st, f->brand, n + 2, kids, n, &ev),
	    SIGIL_ECONFLICT);
	assert_int_equal(store_parent(f->st, f->brand, n + 3, &p),
	    SIGIL_ENOTFOUND);
	assert_int_equal(store_parent(f->st, f->brand, 2, &p), 0);
	assert_int_equal(p, 1);
	el.n = 0;
	assert_int_equal(store_event_each(f->st, f->brand, 0, 0, 0, 0, 0,
	    collect_event, &el), 0);
	assert_int_equal(el.n, 1);	/* still the one aggregation */

	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(store_disaggregate(f->st, f->brand, 1, NULL, 0, &ev),
	    0);
	print_message("disaggregate of %zu children: %lld ms\n", n,
	    (long long)ms_since(&t0));
	count = 0;
	assert_int_equal(store_children_each(f->st, f->brand, 1, count_child,
	    &count), 0);
	assert_int_equal(count, 0);
	free(kids);
}

/* ---- shipments ---- */

/* Pallet 1 holds cases 2..41, case c holds 12 items. */
static void
build_pallet(struct fixture *f)
{
	uint64_t kids[40];

	new_batch(f, f->brand, 1000);
	for (uint64_t c = 0; c < 40; c++) {
		uint64_t items[12];

		for (uint64_t i = 0; i < 12; i++)
			items[i] = 42 + c * 12 + i;
		assert_int_equal(store_aggregate(f->st, f->brand, 2 + c, items,
		    12, NULL), 0);
		kids[c] = 2 + c;
	}
	assert_int_equal(store_aggregate(f->st, f->brand, 1, kids, 40, NULL),
	    0);
}

static void
test_ship(void **state)
{
	struct fixture *f = *state;
	struct shipment s, s2, got;
	uint32_t dist = add_distributor(f->st, f->brand, "East");
	uint64_t root = 1, roots[3];
	int64_t before = sigil_now_us();

	build_pallet(f);
	assert_int_equal(store_code_shipment(f->st, f->brand, 100, &got),
	    SIGIL_ENOTFOUND);
	/* Unknown distributor or root: nothing is written. */
	assert_int_equal(store_ship(f->st, f->brand, dist + 1, &root, 1, &s),
	    SIGIL_ENOTFOUND);
	assert_int_equal(store_ship(f->st, f->other, dist, &root, 1, &s),
	    SIGIL_ENOTFOUND);
	roots[0] = 1;
	roots[1] = 5000;
	assert_int_equal(store_ship(f->st, f->brand, dist, roots, 2, &s),
	    SIGIL_ENOTFOUND);
	assert_int_equal(store_code_shipment(f->st, f->brand, 1, &got),
	    SIGIL_ENOTFOUND);
	roots[1] = 1;
	assert_int_equal(store_ship(f->st, f->brand, dist, roots, 2, &s),
	    SIGIL_EINVAL);
	assert_int_equal(store_ship(f->st, f->brand, dist, roots, 0, &s),
	    SIGIL_EINVAL);
	assert_int_equal(store_ship(f->st, f->brand, dist, roots,
	    STORE_AGG_MAX + 1, &s), SIGIL_EINVAL);
	assert_int_equal(event_count(f->st, f->brand, EVENT_SHIP), 0);

	assert_int_equal(store_ship(f->st, f->brand, dist, &root, 1, &s), 0);
	assert_int_equal(s.id, 1);
	assert_int_equal(s.codes, 1 + 40 + 480);
	assert_int_equal(s.distributor, dist);
	assert_int_equal(s.brand_id, f->brand);
	assert_true(s.shipped_at >= before);
	assert_int_equal(s.received_at, 0);
	for (uint64_t serial = 1; serial <= 521; serial++) {
		assert_int_equal(store_code_shipment(f->st, f->brand, serial,
		    &got), 0);
		assert_int_equal(got.id, s.id);
	}
	assert_int_equal(store_code_shipment(f->st, f->brand, 522, &got),
	    SIGIL_ENOTFOUND);
	assert_int_equal(store_code_shipment(f->st, f->other, 1, &got),
	    SIGIL_ENOTFOUND);

	assert_int_equal(store_shipment_receive(f->st, s.id, &got), 0);
	assert_true(got.received_at >= s.shipped_at);
	assert_int_equal(got.codes, s.codes);
	assert_int_equal(store_shipment_receive(f->st, s.id, &got),
	    SIGIL_ESTATE);
	assert_int_equal(store_shipment_receive(f->st, 99, &got),
	    SIGIL_ENOTFOUND);
	assert_int_equal(store_shipment_get(f->st, s.id, &got), 0);
	assert_true(got.received_at != 0);
	assert_int_equal(store_shipment_get(f->st, 99, &got), SIGIL_ENOTFOUND);

	/* Case 3 moves on alone; a root inside another root counts once. */
	roots[0] = 3;
	roots[1] = 42 + 12;	/* first item of case 3 */
	assert_int_equal(store_ship(f->st, f->brand, dist, roots, 2, &s2), 0);
	assert_int_equal(s2.id, 2);
	assert_int_equal(s2.codes, 13);
	assert_int_equal(store_code_shipment(f->st, f->brand, 3, &got), 0);
	assert_int_equal(got.id, 2);
	assert_int_equal(store_code_shipment(f->st, f->brand, 42 + 23, &got),
	    0);
	assert_int_equal(got.id, 2);
	assert_int_equal(store_code_shipment(f->st, f->brand, 42 + 24, &got),
	    0);
	assert_int_equal(got.id, 1);
	assert_int_equal(store_code_shipment(f->st, f->brand, 2, &got), 0);
	assert_int_equal(got.id, 1);
	/* An unpacked loose code ships alone. */
	root = 900;
	assert_int_equal(store_ship(f->st, f->brand, dist, &root, 1, &s2), 0);
	assert_int_equal(s2.codes, 1);
}

static void
test_code_events(void **state)
{
	struct fixture *f = *state;
	struct trace_event ev = { .type = EVENT_COMMISSION };
	struct evlist l = { .n = 0 };
	struct shipment s;
	uint32_t dist = add_distributor(f->st, f->brand, "East");
	uint64_t root = 1;

	build_pallet(f);	/* batch 1, aggregation events 1..41 */
	ev.brand_id = f->brand;
	ev.batch_id = 1;
	assert_int_equal(store_event_add(f->st, &ev), 0);
	assert_int_equal(ev.id, 42);
	assert_int_equal(store_ship(f->st, f->brand, dist, &root, 1, &s), 0);
	assert_int_equal(store_shipment_receive(f->st, s.id, NULL), 0);

	/* Item 42 (case 2): its own aggregation, the batch's commission,
	 * and the pallet's shipment and receipt; not the pallet's own
	 * aggregation (event 41), which names case 2, not the item. */
	assert_int_equal(store_code_events(f->st, f->brand, 42,
	    collect_event, &l), 0);
	assert_int_equal(l.n, 4);
	assert_int_equal(l.e[0].type, EVENT_AGGREGATE);
	assert_int_equal(l.e[0].id, 1);
	assert_int_equal(l.e[0].parent, 2);
	assert_int_equal(l.e[1].type, EVENT_COMMISSION);
	assert_int_equal(l.e[1].batch_id, 1);
	assert_int_equal(l.e[2].type, EVENT_SHIP);
	assert_int_equal(l.e[2].shipment, s.id);
	assert_int_equal(l.e[2].n, 1);
	assert_int_equal(l.e[2].first, 1);
	assert_int_equal(l.e[3].type, EVENT_RECEIVE);
	assert_int_equal(l.e[3].shipment, s.id);
	assert_true(l.e[2].id < l.e[3].id);

	/* Case 2: packed into the pallet (event 41) and holding items
	 * (event 1), plus the rest. */
	l.n = 0;
	assert_int_equal(store_code_events(f->st, f->brand, 2, collect_event,
	    &l), 0);
	assert_int_equal(l.n, 5);
	assert_int_equal(l.e[0].id, 1);
	assert_int_equal(l.e[2].id, 42);
	assert_int_equal(l.e[1].id, 41);
	/* The pallet itself: its aggregation, commission, ship, receive. */
	l.n = 0;
	l.stop_at = 2;
	assert_int_equal(store_code_events(f->st, f->brand, 1, collect_event,
	    &l), 9);
	assert_int_equal(l.n, 2);
	/* A code never issued, another brand. */
	l.n = 0;
	l.stop_at = 0;
	assert_int_equal(store_code_events(f->st, f->brand, 5000,
	    collect_event, &l), 0);
	assert_int_equal(store_code_events(f->st, f->other, 42,
	    collect_event, &l), 0);
	assert_int_equal(l.n, 0);
}

/* ---- the event log ---- */

static void
test_events_each(void **state)
{
	struct fixture *f = *state;
	struct trace_event ev = { 0 };
	struct evlist l = { .n = 0 };
	uint64_t serials[2] = { 5, 6 };
	struct batch b = new_batch(f, f->brand, 10);
	struct batch ob = new_batch(f, f->other, 10);

	/* Validation. */
	ev.brand_id = f->brand;
	ev.type = 0;
	assert_int_equal(store_event_add(f->st, &ev), SIGIL_EINVAL);
	ev.type = EVENT_DECOMMISSION + 1;
	assert_int_equal(store_event_add(f->st, &ev), SIGIL_EINVAL);
	ev.type = EVENT_COMMISSION;	/* without a batch */
	assert_int_equal(store_event_add(f->st, &ev), SIGIL_EINVAL);
	ev.batch_id = ob.id;		/* another brand's batch */
	assert_int_equal(store_event_add(f->st, &ev), SIGIL_EINVAL);
	ev.batch_id = 999;
	assert_int_equal(store_event_add(f->st, &ev), SIGIL_ENOTFOUND);
	ev.type = EVENT_SCAN;
	ev.batch_id = 0;
	ev.n = 1;
	ev.serials = NULL;
	assert_int_equal(store_event_add(f->st, &ev), SIGIL_EINVAL);
	ev.serials = serials;
	serials[0] = 0;
	assert_int_equal(store_event_add(f->st, &ev), SIGIL_EINVAL);
	serials[0] = 5;
	ev.brand_id = 99;
	assert_int_equal(store_event_add(f->st, &ev), SIGIL_ENOTFOUND);
	ev.brand_id = f->brand;
	ev.at = -1;
	assert_int_equal(store_event_add(f->st, &ev), SIGIL_EINVAL);
	assert_int_equal(event_count(f->st, f->brand, 0), 0);

	/* Ten events at t = 1000, 2000, ... alternating SCAN / COMMISSION,
	 * with one of the other brand's in between. */
	for (int i = 0; i < 10; i++) {
		struct trace_event e = { .brand_id = f->brand };

		e.at = (i + 1) * 1000;
		if (i % 2 == 0) {
			e.type = EVENT_SCAN;
			e.scan_id = (uint64_t)i;
			e.n = 2;
			e.serials = serials;
		} else {
			e.type = EVENT_COMMISSION;
			e.batch_id = b.id;
		}
		assert_int_equal(store_event_add(f->st, &e), 0);
		assert_int_equal(e.id, (uint64_t)(2 * i + 1));
		e.brand_id = f->other;
		e.type = EVENT_SCAN;
		e.batch_id = 0;
		e.n = 0;
		assert_int_equal(store_event_add(f->st, &e), 0);
	}
	/* at == 0 means now. */
	ev.type = EVENT_SCAN;
	ev.at = 0;
	ev.n = 0;
	assert_int_equal(store_event_add(f->st, &ev), 0);
	assert_true(ev.at > 1000000);

	assert_int_equal(event_count(f->st, f->brand, 0), 11);
	assert_int_equal(event_count(f->st, f->other, 0), 10);
	assert_int_equal(event_count(f->st, f->brand, EVENT_COMMISSION), 5);
	assert_int_equal(event_count(f->st, f->brand, EVENT_SHIP), 0);
	assert_int_equal(event_count(f->st, 99, 0), 0);

	/* Paging: after + limit, in id order. */
	assert_int_equal(store_event_each(f->st, f->brand, 0, 0, 0, 0, 4,
	    collect_event, &l), 0);
	assert_int_equal(l.n, 4);
	assert_int_equal(l.e[0].id, 1);
	assert_int_equal(l.e[3].id, 7);
	assert_int_equal(l.e[0].n, 2);
	assert_int_equal(l.e[0].first, 5);
	l.n = 0;
	assert_int_equal(store_event_each(f->st, f->brand, 7, 0, 0, 0, 4,
	    collect_event, &l), 0);
	assert_int_equal(l.n, 4);
	assert_int_equal(l.e[0].id, 9);
	assert_int_equal(l.e[3].id, 15);
	l.n = 0;
	assert_int_equal(store_event_each(f->st, f->brand, 15, 0, 0, 0, 4,
	    collect_event, &l), 0);
	assert_int_equal(l.n, 3);
	assert_int_equal(l.e[2].id, ev.id);
	l.n = 0;
	assert_int_equal(store_event_each(f->st, f->brand, ev.id, 0, 0, 0, 4,
	    collect_event, &l), 0);
	assert_int_equal(l.n, 0);
	assert_int_equal(store_event_each(f->st, f->brand, UINT64_MAX, 0, 0,
	    0, 0, collect_event, &l), 0);
	assert_int_equal(l.n, 0);

	/* Time window [3000, 7000) and type with limit. */
	assert_int_equal(store_event_each(f->st, f->brand, 0, 3000, 7000, 0,
	    0, collect_event, &l), 0);
	assert_int_equal(l.n, 4);
	assert_int_equal(l.e[0].at, 3000);
	assert_int_equal(l.e[3].at, 6000);
	l.n = 0;
	assert_int_equal(store_event_each(f->st, f->brand, 0, 3000, 0,
	    EVENT_COMMISSION, 2, collect_event, &l), 0);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.e[0].at, 4000);
	assert_int_equal(l.e[1].at, 6000);
	assert_int_equal(l.e[0].batch_id, b.id);
	/* The callback stops the walk. */
	l.n = 0;
	l.stop_at = 3;
	assert_int_equal(store_event_each(f->st, f->brand, 0, 0, 0, 0, 0,
	    collect_event, &l), 9);
	assert_int_equal(l.n, 3);

	/* A SCAN event names its code; COMMISSION reaches codes by batch. */
	l.n = 0;
	l.stop_at = 0;
	assert_int_equal(store_code_events(f->st, f->brand, 5, collect_event,
	    &l), 0);
	assert_int_equal(l.n, 10);
	l.n = 0;
	assert_int_equal(store_code_events(f->st, f->brand, 7, collect_event,
	    &l), 0);
	assert_int_equal(l.n, 5);
	assert_int_equal(l.e[0].type, EVENT_COMMISSION);
}

/* ---- alerts ---- */

/* device 1: clone (scanners); 2: travel + diversion; else clean. */
static void
flag_judge(void *arg, size_t index, struct scan_rec *r,
    struct code_state *s)
{
	(void)arg;
	(void)index;
	s->scan_count++;
	r->verdict = VERDICT_GENUINE;
	if (r->device == 1)
		r->flags |= SCAN_CLONE_SCANNERS;
	if (r->device == 2) {
		r->flags |= SCAN_CLONE_TRAVEL | SCAN_DIVERSION;
		r->distributor = 3;
		r->diversion_km = 12.5f;
	}
}

/* At locate time: a diversion, known only once the location is. */
static void
locate_judge(void *arg, size_t index, struct scan_rec *r,
    struct code_state *s)
{
	(void)arg;
	(void)index;
	s->last_loc_at = r->at;
	s->last_lat = r->lat;
	s->last_lng = r->lng;
	if (r->lat > 40) {
		r->flags |= SCAN_DIVERSION;
		r->distributor = 8;
		r->diversion_km = 321.0f;
	}
}

static struct scan_rec
mkscan(uint32_t brand, uint64_t serial, uint64_t device, int64_t at)
{
	struct scan_rec r = { .brand_id = brand, .serial = serial,
	    .device = device, .at = at, .batch_id = 1 };

	return r;
}

static int
flags_of(void *arg, const struct scan_rec *r)
{
	uint16_t *flags = arg;

	if (r->id == 2)
		*flags = r->flags;
	return 0;
}

static void
test_alerts(void **state)
{
	struct fixture *f = *state;
	struct scan_rec recs[5], out, got;
	struct alertlist l = { .n = 0 };
	uint16_t flags = 0;

	new_batch(f, f->brand, 10);
	recs[0] = mkscan(f->brand, 1, 1, 1000);	/* clone */
	recs[1] = mkscan(f->brand, 2, 3, 2000);	/* clean, located later */
	recs[2] = mkscan(f->brand, 3, 2, 3000);	/* travel + diversion */
	recs[3] = mkscan(0, 4, 2, 4000);	/* counterfeit: never judged */
	recs[3].flags = SCAN_CLONE_SCANNERS;
	recs[4] = mkscan(f->other, 5, 1, 5000);	/* other brand's clone */
	recs[4].flags = SCAN_HAS_LOC;
	recs[4].lat = 10;
	recs[4].lng = 20;
	assert_int_equal(store_scans_commit(f->st, recs, 5, flag_judge, NULL),
	    0);

	assert_int_equal(alerts_after(f->st, f->brand, 0, 0, 0, 0, &l), 0);
	assert_int_equal(l.n, 3);
	assert_int_equal(l.a[0].type, ALERT_CLONE_SCANNERS);
	assert_int_equal(l.a[0].scan_id, recs[0].id);
	assert_int_equal(l.a[0].serial, 1);
	assert_int_equal(l.a[0].at, 1000);
	assert_int_equal(l.a[1].type, ALERT_CLONE_TRAVEL);
	assert_int_equal(l.a[1].scan_id, recs[2].id);
	assert_int_equal(l.a[2].type, ALERT_DIVERSION);
	assert_int_equal(l.a[2].distributor, 3);
	assert_true(fabsf(l.a[2].distance_km - 12.5f) < 1e-6f);
	assert_true(l.a[0].id < l.a[1].id && l.a[1].id < l.a[2].id);
	l.n = 0;
	assert_int_equal(alerts_after(f->st, f->other, 0, 0, 0, 0, &l), 0);
	assert_int_equal(l.n, 1);
	assert_true(fabsf(l.a[0].lat - 10) < 1e-6f);
	assert_true(fabsf(l.a[0].lng - 20) < 1e-6f);
	l.n = 0;
	assert_int_equal(alerts_after(f->st, 0, 0, 0, 0, 0, &l), 0);
	assert_int_equal(l.n, 0);

	/* Located scan 2 turns out diverted: an alert, and the flag is kept
	 * with the location. Scan 1's clone flag is not alerted again. */
	assert_int_equal(store_scan_locate(f->st, recs[1].id, 48.85f, 2.35f,
	    20, locate_judge, NULL, &out), 0);
	assert_true(out.flags & SCAN_DIVERSION);
	assert_int_equal(store_scan_locate(f->st, recs[0].id, 10, 10, 20,
	    locate_judge, NULL, &out), 0);
	assert_true(out.flags & SCAN_CLONE_SCANNERS);
	assert_false(out.flags & SCAN_DIVERSION);
	l.n = 0;
	assert_int_equal(alerts_after(f->st, f->brand, 0, 0, 0, 0, &l), 0);
	assert_int_equal(l.n, 4);
	assert_int_equal(l.a[3].type, ALERT_DIVERSION);
	assert_int_equal(l.a[3].scan_id, recs[1].id);
	assert_int_equal(l.a[3].distributor, 8);
	assert_true(fabsf(l.a[3].distance_km - 321.0f) < 1e-3f);
	assert_true(fabsf(l.a[3].lat - 48.85f) < 1e-5f);
	assert_true(l.a[3].at > 5000);	/* when located */

	assert_int_equal(store_scan_get(f->st, recs[1].id, &got), 0);
	assert_true(got.flags & SCAN_DIVERSION);
	assert_true(got.flags & SCAN_HAS_LOC);
	assert_int_equal(store_scan_get(f->st, recs[0].id, &got), 0);
	assert_false(got.flags & SCAN_DIVERSION);
	assert_int_equal(store_scan_each(f->st, 0, flags_of, &flags), 0);
	assert_true(flags & SCAN_DIVERSION);
	flags = 0;
	assert_int_equal(store_code_scans(f->st, f->brand, 2, flags_of,
	    &flags), 0);
	assert_true(flags & SCAN_DIVERSION);

	/* Filters: type, since, after, limit. */
	l.n = 0;
	assert_int_equal(alerts_after(f->st, f->brand, 0, ALERT_DIVERSION, 0,
	    0, &l), 0);
	assert_int_equal(l.n, 2);
	l.n = 0;
	assert_int_equal(alerts_after(f->st, f->brand, 0, 0, 2000, 0, &l), 0);
	assert_int_equal(l.n, 3);
	assert_int_equal(l.a[0].type, ALERT_CLONE_TRAVEL);
	l.n = 0;
	assert_int_equal(alerts_after(f->st, f->brand, 0, 0, 0, 2, &l), 0);
	assert_int_equal(l.n, 2);
	l.n = 0;
	assert_int_equal(alerts_after(f->st, f->brand, l.a[1].id, 0, 0, 0,
	    &l), 0);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.a[0].type, ALERT_DIVERSION);
	assert_int_equal(l.a[1].scan_id, recs[1].id);
}

/* A failed commit (bad verdict from the judge) leaves no alert. */
static void
bad_judge(void *arg, size_t index, struct scan_rec *r, struct code_state *s)
{
	flag_judge(arg, index, r, s);
	if (index == 1)
		r->verdict = 9;
}

static void
test_alerts_rollback(void **state)
{
	struct fixture *f = *state;
	struct scan_rec recs[2];
	struct alertlist l = { .n = 0 };

	recs[0] = mkscan(f->brand, 1, 1, 1000);
	recs[1] = mkscan(f->brand, 2, 2, 2000);
	assert_int_equal(store_scans_commit(f->st, recs, 2, bad_judge, NULL),
	    SIGIL_EINVAL);
	assert_int_equal(alerts_after(f->st, f->brand, 0, 0, 0, 0, &l), 0);
	assert_int_equal(l.n, 0);
}

/* ---- stores from before these tables, read-only access ---- */

static const char *const trace_tables[] = {
	"tokens", "token_ids", "distributors", "parents", "children",
	"shipments", "shipped", "events", "brand_events", "code_events",
	"batch_events", "alerts", "brand_alerts",
};

static void
drop_trace_tables(const char *dir)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;

	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 32), 0);
	assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	for (size_t i = 0; i < sizeof(trace_tables) / sizeof(*trace_tables);
	    i++) {
		assert_int_equal(mdb_dbi_open(txn, trace_tables[i], 0, &dbi),
		    0);
		assert_int_equal(mdb_drop(txn, dbi, 1), 0);
	}
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

static void
test_legacy_store(void **state)
{
	struct fixture *f = *state;
	struct store *ro, *rw;
	struct scan_rec r = mkscan(f->brand, 1, 1, 1000), got;
	struct shipment s;
	struct distributor d;
	struct token t = { .brand_id = 1, .role = ROLE_ADMIN };
	struct evlist l = { .n = 0 };
	struct alertlist al = { .n = 0 };
	uint8_t hash[32] = { 1 };
	uint64_t p, root = 1;

	new_batch(f, f->brand, 10);
	assert_int_equal(store_scans_commit(f->st, &r, 1, NULL, NULL), 0);
	store_close(f->st);
	f->st = NULL;
	drop_trace_tables(f->dir);

	/* Read-only: the old data reads, the new tables are empty. */
	assert_int_equal(store_open(f->dir, STORE_RDONLY, &ro), 0);
	assert_int_equal(store_scan_get(ro, 1, &got), 0);
	assert_int_equal(got.serial, 1);
	assert_int_equal(store_token_find(ro, hash, &t), SIGIL_ENOTFOUND);
	assert_int_equal(store_token_each(ro, 1, collect_token, &l), 0);
	assert_int_equal(store_distributor_get(ro, 1, 1, &d), SIGIL_ENOTFOUND);
	assert_int_equal(store_parent(ro, 1, 1, &p), SIGIL_ENOTFOUND);
	assert_int_equal(store_children_each(ro, 1, 1, collect_child, &l), 0);
	assert_int_equal(store_code_shipment(ro, 1, 1, &s), SIGIL_ENOTFOUND);
	assert_int_equal(store_shipment_get(ro, 1, &s), SIGIL_ENOTFOUND);
	assert_int_equal(store_event_each(ro, 1, 0, 0, 0, 0, 0, collect_event,
	    &l), 0);
	assert_int_equal(store_code_events(ro, 1, 1, collect_event, &l), 0);
	assert_int_equal(alerts_after(ro, 1, 0, 0, 0, 0, &al), 0);
	assert_int_equal(l.n, 0);
	assert_int_equal(al.n, 0);
	assert_int_equal(store_token_add(ro, hash, &t), SIGIL_EDENIED);
	assert_int_equal(store_ship(ro, 1, 1, &root, 1, &s), SIGIL_EDENIED);
	store_close(ro);

	/* Read-write creates them; then everything works, also read-only. */
	assert_int_equal(store_open(f->dir, 0, &rw), 0);
	assert_int_equal(store_token_add(rw, hash, &t), 0);
	assert_int_equal(store_open(f->dir, STORE_RDONLY, &ro), 0);
	assert_int_equal(store_token_find(ro, hash, &t), 0);
	assert_int_equal(t.brand_id, 1);
	store_close(ro);
	f->st = rw;
}

/* Locations from before the flags byte still read. */
static void
test_locate_without_flags(void **state)
{
	struct fixture *f = *state;
	struct scan_rec r = mkscan(f->brand, 1, 5, 1000), got;

	assert_int_equal(store_scans_commit(f->st, &r, 1, flag_judge, NULL),
	    0);
	assert_int_equal(store_scan_locate(f->st, r.id, 1, 2, 3, locate_judge,
	    NULL, NULL), 0);
	assert_int_equal(store_scan_get(f->st, r.id, &got), 0);
	assert_true(got.flags & SCAN_HAS_LOC);
	assert_false(got.flags & (SCAN_DIVERSION | SCAN_CLONE_TRAVEL));
	assert_int_equal(store_scan_locate(f->st, r.id, 1, 2, 3, locate_judge,
	    NULL, NULL), SIGIL_EEXIST);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tokens, setup, teardown),
		cmocka_unit_test_setup_teardown(test_distributor_update, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_distributors, setup_small,
		    teardown),
		cmocka_unit_test_setup_teardown(test_aggregate, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_aggregate_100k, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ship, setup_small,
		    teardown),
		cmocka_unit_test_setup_teardown(test_code_events, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_events_each, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_alerts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alerts_rollback, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_legacy_store, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_locate_without_flags,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
