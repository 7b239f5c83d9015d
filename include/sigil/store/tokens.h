/*
 * sigil/store/tokens.h - brand API tokens (only a SHA-256 of the token
 * is stored). In src/store/store_tokens.c.
 *
 * One slice of the storage module's contract: include "sigil/store.h",
 * which includes every slice after what they all share (struct store,
 * the text limits, the error conventions of its opening comment).
 */
#ifndef SIGIL_STORE_TOKENS_H
#define SIGIL_STORE_TOKENS_H

#ifndef SIGIL_STORE_H
#error "include sigil/store.h, not its slices"
#endif

/* ---- brand API tokens (only a SHA-256 of the token is stored) ---- */
enum token_role {
	ROLE_ADMIN = 1,		/* everything */
	ROLE_OPERATOR = 2,	/* batches, aggregations, shipments */
	ROLE_ANALYST = 3,	/* read only */
};

struct token {
	uint32_t	id;		/* 1, 2, ... global */
	uint32_t	brand_id;
	int		role;		/* enum token_role */
	int64_t		created;
	int64_t		revoked;	/* 0 while valid */
	int64_t		expires;	/* 0 = never; refused from then on */
	uint32_t	user_id;	/* dashboard user who made it, 0 = CLI
					   or another token */
};

/*
 * Records a token whose SHA-256 is hash, with t->brand_id, role, expires
 * and user_id as given; sets t->id and t->created.
 * SIGIL_EINVAL for a role outside enum token_role, SIGIL_ENOTFOUND for an
 * unknown brand, SIGIL_EEXIST for a hash already recorded.
 */
int store_token_add(struct store *st, const uint8_t hash[32], struct token *t);
/* The token with this hash (revoked ones too; callers check). */
int store_token_find(struct store *st, const uint8_t hash[32],
    struct token *out);
/* SIGIL_ENOTFOUND, or SIGIL_ESTATE if already revoked. */
int store_token_revoke(struct store *st, uint32_t id);
/* The token with this id (any brand: callers check), or ENOTFOUND. */
int store_token_get(struct store *st, uint32_t id, struct token *out);
/* The brand's tokens in id order, revoked ones included. */
int store_token_each(struct store *st, uint32_t brand_id,
    int (*fn)(void *arg, const struct token *t), void *arg);

#endif
