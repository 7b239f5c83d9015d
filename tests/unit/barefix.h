/*
 * barefix.h - a customer without a phone, as a WeChat login makes one,
 * written straight through the store's internals (customer_new) by the
 * unit tests that need one. Header-only, like storefix.h; include it
 * after store_impl.h.
 */
#ifndef SIGIL_TEST_BAREFIX_H
#define SIGIL_TEST_BAREFIX_H

#include <stdint.h>

#include "sigil/store.h"
#include "../../src/store/store_impl.h"

struct barefix {
	uint32_t	brand_id;
	int64_t		now;
	struct customer	c;
};

static inline int
barefix_fn(struct store *st, MDB_txn *txn, void *p)
{
	struct barefix *b = p;

	return customer_new(st, txn, b->brand_id, b->now, &b->c);
}

/* A phoneless customer of brand created at now into *out: 0, or the
 * write's error. */
static inline int
barefix_customer(struct store *st, uint32_t brand, int64_t now,
    struct customer *out)
{
	struct barefix b = { brand, now, { 0 } };

	return STORE_WRITE_OUT(st, barefix_fn, &b, b.c, out);
}

#endif
