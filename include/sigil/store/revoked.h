/*
 * sigil/store/revoked.h - single codes a brand revoked (one cloned or
 * diverted bottle, without its 999 genuine siblings): every later scan
 * of the code answers revoked (lookup.c), as a revoked batch's codes do.
 * In src/store/store_revoked.c. Included by sigil/store.h.
 */
#ifndef SIGIL_STORE_REVOKED_H
#define SIGIL_STORE_REVOKED_H

#include <stdint.h>

struct store;

struct code_revocation {
	int64_t		at;
	uint32_t	by;		/* token id, or SESSION_TOKEN_BIT | user */
	char		reason[STORE_TEXT_BYTES + 1];
};

/*
 * Revokes serial of brand_id (the caller checked that the brand has
 * it): 0, SIGIL_EEXIST when it already is, SIGIL_EINVAL for an empty or
 * too long reason, or a storage error.
 */
int store_code_revoke(struct store *st, uint32_t brand_id, uint64_t serial,
    const struct code_revocation *r);

/* 0 with *out (may be NULL) when revoked, else SIGIL_ENOTFOUND. */
int store_code_revoked(struct store *st, uint32_t brand_id, uint64_t serial,
    struct code_revocation *out);

#endif
