/*
 * storefix.h - what the store's unit tests all set up: a store in a
 * scratch directory, a brand in it, and the teardown. Header-only, like
 * tmpdir.h: each test binary is one file.
 */
#ifndef SIGIL_TEST_STOREFIX_H
#define SIGIL_TEST_STOREFIX_H

#include <stdint.h>
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

#endif
