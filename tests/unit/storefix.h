/*
 * storefix.h - what the store's unit tests all set up: a store in a
 * scratch directory, a brand, campaigns and customers in it, the
 * teardown, the points a customer earned and the alert feed read back.
 * Header-only, like tmpdir.h: each test binary is one file.
 */
#ifndef SIGIL_TEST_STOREFIX_H
#define SIGIL_TEST_STOREFIX_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sigil/store.h"
#include "tmpdir.h"

/* A new store under /tmp/sigil-<what>-XXXXXX (dir): 0, or -1. */
static inline int
storefix_open(char *dir, size_t size, const char *what, int flags,
    struct store **st)
{
	if (tmpdir_new(dir, size, what) == NULL)
		return -1;
	return store_open(dir, flags, st) == 0 ? 0 : -1;
}

/* Closes st (may be NULL) and removes dir with everything in it. */
static inline void
storefix_close(const char *dir, struct store *st)
{
	if (st != NULL)
		store_close(st);
	tmpdir_remove(dir);
}

/*
 * The cmocka teardown for a fixture (type, allocated with calloc) whose
 * dir and st came from storefix_open: closes and removes the store,
 * frees the fixture.
 */
#define STOREFIX_TEARDOWN(type)						\
static int								\
teardown(void **state)							\
{									\
	type *f = *state;						\
									\
	storefix_close(f->dir, f->st);					\
	free(f);							\
	return 0;							\
}

/* A brand named name (base URL HTTPS://EXAMPLE.COM); its id. */
static inline uint32_t
add_brand(struct store *st, const char *name)
{
	struct brand b = { 0 };

	strcpy(b.name, name);
	strcpy(b.base_url, "HTTPS://EXAMPLE.COM");
	assert_int_equal(store_brand_add(st, &b), 0);
	return b.id;
}

/* A campaign of brand with an empty config; its id. */
static inline uint32_t
add_campaign(struct store *st, uint32_t brand)
{
	struct campaign camp = { 0 };

	camp.brand_id = brand;
	camp.config = "{}";
	assert_int_equal(store_campaign_add(st, &camp), 0);
	return camp.id;
}

/* Customer n of brand, found or made by a phone hash made of n; its id. */
static inline uint64_t
add_customer(struct store *st, uint32_t brand, int n)
{
	uint8_t h[32], ct[20];
	struct customer c;
	int created = -1;

	memset(h, 0, sizeof h);
	h[0] = (uint8_t)n;
	h[1] = (uint8_t)(n >> 8);
	h[31] = 0x5c;
	memset(ct, n, sizeof(ct));
	assert_int_equal(store_customer_by_phone(st, brand, h, ct,
	    sizeof(ct), &c, &created), 0);
	return c.id;
}

/* The sum of a customer's EARN entries with ref (0: any ref). */
struct earn_sum {
	uint64_t	ref;
	int64_t		points;
	int		n;
};

static inline int
earn_one(void *arg, const struct ledger_entry *e)
{
	struct earn_sum *s = arg;

	if (e->type == LEDGER_EARN && (s->ref == 0 || e->ref == s->ref)) {
		s->points += e->points;
		s->n++;
	}
	return 0;
}

static inline struct earn_sum
earned(struct store *st, uint32_t brand, uint64_t cust, uint64_t ref)
{
	struct earn_sum s = { ref, 0, 0 };

	assert_int_equal(store_ledger_each(st, brand, cust, earn_one, &s), 0);
	return s;
}

/* Alerts as store_alert_each gives them: the first 16, and how many. */
struct alertlist {
	struct alert	a[16];
	size_t		n;
};

static inline int
collect_alert(void *arg, const struct alert *a)
{
	struct alertlist *l = arg;

	if (l->n < 16)
		l->a[l->n] = *a;
	l->n++;
	return 0;
}

/* The alerts of brand q picks, in store_alert_each's order, in l
 * (emptied first); how many. */
static inline size_t
alerts_of(struct store *st, uint32_t brand, const struct alert_query *q,
    struct alertlist *l)
{
	l->n = 0;
	assert_int_equal(store_alert_each(st, brand, q, collect_alert, l), 0);
	return l->n;
}

/* The feed a machine follows: ids > after, oldest first. */
static inline int
alerts_after(struct store *st, uint32_t brand, uint64_t after, int type,
    int64_t since, size_t limit, struct alertlist *l)
{
	struct alert_query q = { .oldest_first = 1, .after = after,
	    .type = type, .since = since, .limit = limit };

	return store_alert_each(st, brand, &q, collect_alert, l);
}

#endif
