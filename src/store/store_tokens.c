/*
 * store_tokens.c - brand API tokens: only a SHA-256 of each token is
 * kept, never the token.
 *
 * Owns the tables tokens (hash -> record) and token_ids (id -> hash) and
 * the meta counter next_token. Tokens are few (a handful per brand), so a
 * brand's tokens are found by walking token_ids, without an index. The
 * tables came after schema 1: a read-only open of an older store reads
 * them as empty (trace_absent).
 * May call: libc, LMDB, util.c, store_env.c and store_catalog.c
 * (brand_load: a token names a brand that exists).
 * Must never: call the families above the catalog, or store a token's
 * bytes (the hash is computed by the caller, who alone sees the token).
 */
#include <string.h>

#include <lmdb.h>

#include "sigil/store.h"
#include "sigil/util.h"
#include "store_impl.h"

#define TOKEN_REC_LEN		25	/* before December 2026 */
#define TOKEN_REC_LEN2		37	/* + expires i64, user_id u32 */

static void
token_encode(const struct token *t, uint8_t *p)
{
	le32_put(p, t->id);
	le32_put(p + 4, t->brand_id);
	p[8] = (uint8_t)t->role;
	le64_put(p + 9, (uint64_t)t->created);
	le64_put(p + 17, (uint64_t)t->revoked);
	le64_put(p + 25, (uint64_t)t->expires);
	le32_put(p + 33, t->user_id);
}

static int
token_decode(MDB_val v, struct token *out)
{
	const uint8_t *p = v.mv_data;

	if ((v.mv_size != TOKEN_REC_LEN && v.mv_size != TOKEN_REC_LEN2) ||
	    p[8] < ROLE_ADMIN || p[8] > ROLE_ANALYST)
		return SIGIL_EIO;
	out->expires = 0;
	out->user_id = 0;
	if (v.mv_size == TOKEN_REC_LEN2) {
		out->expires = (int64_t)le64_get(p + 25);
		out->user_id = le32_get(p + 33);
	}
	out->id = le32_get(p);
	out->brand_id = le32_get(p + 4);
	out->role = p[8];
	out->created = (int64_t)le64_get(p + 9);
	out->revoked = (int64_t)le64_get(p + 17);
	return 0;
}

static int
token_load(struct store *st, MDB_txn *txn, const uint8_t *hash,
    struct token *out)
{
	MDB_val k = mval(hash, 32), v;
	int rc;

	if ((rc = mdb_get(txn, st->tokens, &k, &v)) != 0)
		return map_err(rc);
	return token_decode(v, out);
}

struct token_arg {
	const uint8_t	*hash;
	struct token	 t;
};

static int
token_add_fn(struct store *st, MDB_txn *txn, void *arg)
{
	struct token_arg *a = arg;
	uint8_t kb[4], vb[TOKEN_REC_LEN2];
	MDB_val k = mval(a->hash, 32), v = mval(vb, TOKEN_REC_LEN2);
	struct brand b;
	uint64_t id;
	int rc;

	if ((rc = brand_load(st, txn, a->t.brand_id, &b)) != 0)
		return rc;
	if ((rc = meta_next(st, txn, meta_key("next_token"), 1, UINT32_MAX,
	    &id)) != 0)
		return rc;
	a->t.id = (uint32_t)id;
	token_encode(&a->t, vb);
	if ((rc = mdb_put(txn, st->tokens, &k, &v, MDB_NOOVERWRITE)) != 0)
		return rc;
	sigil_be32_put(kb, a->t.id);
	k = mval(kb, 4);
	v = mval(a->hash, 32);
	return mdb_put(txn, st->token_ids, &k, &v, MDB_NOOVERWRITE);
}

int
store_token_add(struct store *st, const uint8_t hash[32], struct token *t)
{
	struct token_arg a;

	if (hash == NULL || t == NULL || t->role < ROLE_ADMIN ||
	    t->role > ROLE_ANALYST)
		return SIGIL_EINVAL;
	a.hash = hash;
	a.t = *t;
	a.t.created = sigil_now_us();
	a.t.revoked = 0;
	return STORE_WRITE_OUT(st, token_add_fn, &a, a.t, t);
}

int
store_token_find(struct store *st, const uint8_t hash[32],
    struct token *out)
{
	if (hash == NULL || st->trace_absent)
		return SIGIL_ENOTFOUND;
	return STORE_READ(st, token_load(st, txn, hash, out));
}

struct token_revoke_arg {
	uint32_t	id;
	int64_t		now;
};

/* The token with this id, and its hash (the key of its tokens row). */
static int
token_by_id(struct store *st, MDB_txn *txn, uint32_t id, uint8_t *hash,
    struct token *out)
{
	uint8_t kb[4];
	MDB_val k = mval(kb, 4), v;
	int rc;

	sigil_be32_put(kb, id);
	if ((rc = mdb_get(txn, st->token_ids, &k, &v)) != 0)
		return rc;
	if (v.mv_size != 32)
		return SIGIL_EIO;
	memcpy(hash, v.mv_data, 32);
	return token_load(st, txn, hash, out);
}

static int
token_revoke_fn(struct store *st, MDB_txn *txn, void *arg)
{
	struct token_revoke_arg *a = arg;
	uint8_t hash[32], vb[TOKEN_REC_LEN2];
	MDB_val k = mval(hash, 32), v = mval(vb, TOKEN_REC_LEN2);
	struct token t;
	int rc;

	if ((rc = token_by_id(st, txn, a->id, hash, &t)) != 0)
		return rc;
	if (t.id != a->id)
		return SIGIL_EIO;
	if (t.revoked != 0)
		return SIGIL_ESTATE;
	t.revoked = a->now;
	token_encode(&t, vb);
	return mdb_put(txn, st->tokens, &k, &v, 0);
}

int
store_token_revoke(struct store *st, uint32_t id)
{
	struct token_revoke_arg a = { id, sigil_now_us() };

	return store_write(st, token_revoke_fn, &a);
}

int
store_token_get(struct store *st, uint32_t id, struct token *out)
{
	uint8_t hash[32];

	if (st->trace_absent)
		return SIGIL_ENOTFOUND;
	return STORE_READ(st, token_by_id(st, txn, id, hash, out));
}

/* A token_ids row (id -> hash): the token it names. */
static int
token_each_load(const struct each_ctx *c, MDB_txn *txn, MDB_val k,
    MDB_val v, struct token *t)
{
	if (k.mv_size != 4 || v.mv_size != 32)
		return SIGIL_EIO;
	return token_load(c->st, txn, v.mv_data, t);
}

EACH_ROW(token_row, struct token, token_each_load,
    row.brand_id == c->brand_id)

/* Tokens are few (a handful per brand): no per-brand index. */
int
store_token_each(struct store *st, uint32_t brand_id,
    int (*fn)(void *arg, const struct token *t), void *arg)
{
	struct each_ctx c = { st, brand_id, (any_fn)fn, arg };

	if (st->trace_absent)
		return 0;
	return store_walk(st, st->token_ids, WALK_FIRST, mval(NULL, 0),
	    token_row, &c);
}
