/*
 * store_idents.c - customers' WeChat identities: identities (brand ||
 * kind || hash -> customer BE64), the index a WeChat login finds its
 * customer by, and customer_idents (brand || customer || kind || hash ->
 * at LE64, app id, sealed value), what the customer's view shows.
 *
 * The hash is HMAC-SHA256 under the keyring secret "ident-hash" of the
 * app id, a zero byte and the openid (the app id is empty for a unionid,
 * which is one across the brand's apps); the value is AES-256-GCM under
 * "ident-enc" with the brand id as associated data: the openid or
 * unionid and, once the customer let the brand have them, nickname and
 * avatar URL. Both are made by the domain (identity.c); nothing here
 * sees an identifier in the clear. The app id (a brand's configuration,
 * not personal) is kept in the clear so that "does this customer have an
 * openid of this app" needs no key.
 *
 * Lookup is one get; the customer's identities are a prefix walk. A
 * merge moves a customer's rows to another (ident_move, for
 * store_merge.c: two openids of one app are never merged, a conflict),
 * an erasure deletes them (ident_erase, for store_erase.c), both inside
 * the caller's transaction.
 *
 * Owns the tables identities and customer_idents. May call store_env.c's
 * snapshot and walks and store_rows.c; must never call the customer
 * files (store_wechat.c, above it, calls both).
 */
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "sigil/store.h"
#include "sigil/util.h"
#include "store_impl.h"

#define IDENT_KEY_LEN	37	/* brand 4 || kind 1 || hash 32 */
#define CIDENT_KEY_LEN	45	/* brand 4 || customer 8 || kind 1 || hash */
#define CIDENT_FIXED	13	/* at 8, app len 1, ct len 2, profile len 2 */

static void
ident_key(uint8_t *p, uint32_t brand_id, int kind, const uint8_t *hash)
{
	sigil_be32_put(p, brand_id);
	p[4] = (uint8_t)kind;
	memcpy(p + 5, hash, 32);
}

static void
cident_key(uint8_t *p, uint32_t brand_id, uint64_t customer_id, int kind,
    const uint8_t *hash)
{
	sigil_be32_put(p, brand_id);
	sigil_be64_put(p + 4, customer_id);
	p[12] = (uint8_t)kind;
	if (hash != NULL)
		memcpy(p + 13, hash, 32);
}

static int
cident_decode(MDB_val k, MDB_val v, void *out)
{
	const uint8_t *kp = k.mv_data, *p = v.mv_data;
	struct ident *i = out;
	size_t al, cl, pl;

	if (k.mv_size != CIDENT_KEY_LEN || v.mv_size < CIDENT_FIXED)
		return SIGIL_EIO;
	al = p[8];
	if (al > STORE_WX_APPID_MAX || v.mv_size < CIDENT_FIXED + al)
		return SIGIL_EIO;
	cl = le16_get(p + 9 + al);
	if (cl > STORE_IDENT_CT_MAX || v.mv_size < CIDENT_FIXED + al + cl)
		return SIGIL_EIO;
	pl = le16_get(p + 11 + al + cl);
	if (pl > STORE_IDENT_PROF_MAX ||
	    v.mv_size != CIDENT_FIXED + al + cl + pl)
		return SIGIL_EIO;
	memset(i, 0, sizeof *i);
	i->brand_id = sigil_be32_get(kp);
	i->customer_id = sigil_be64_get(kp + 4);
	i->kind = kp[12];
	memcpy(i->hash, kp + 13, 32);
	i->at = (int64_t)le64_get(p);
	memcpy(i->app, p + 9, al);
	i->app[al] = '\0';
	memcpy(i->ct, p + 11 + al, cl);
	i->ct_len = cl;
	memcpy(i->prof, p + 13 + al + cl, pl);
	i->prof_len = pl;
	return 0;
}

int
ident_lookup(struct store *st, MDB_txn *txn, uint32_t brand_id, int kind,
    const uint8_t *hash, uint64_t *customer_id)
{
	uint8_t kb[IDENT_KEY_LEN];
	MDB_val k = mval(kb, sizeof kb), v;
	int rc;

	ident_key(kb, brand_id, kind, hash);
	if ((rc = mdb_get(txn, st->identities, &k, &v)) != 0)
		return rc;
	if (v.mv_size != 8)
		return SIGIL_EIO;
	*customer_id = sigil_be64_get(v.mv_data);
	return 0;
}

int
store_ident_find(struct store *st, uint32_t brand_id, int kind,
    const uint8_t hash[32], uint64_t *customer_id)
{
	if (st->idents_absent)
		return SIGIL_ENOTFOUND;
	return STORE_READ(st, ident_lookup(st, txn, brand_id, kind, hash,
	    customer_id));
}

/* The first row of the customer's kind, by a range seek. */
struct has_app {
	const char	*app;
	int		 found;
};

static int
has_app_step(MDB_val k, MDB_val v, void *p)
{
	struct has_app *h = p;
	struct ident i;
	int rc;

	if ((rc = cident_decode(k, v, &i)) != 0)
		return rc;
	if (strcmp(i.app, h->app) == 0) {
		h->found = 1;
		return 1;
	}
	return 0;
}

int
ident_has_app(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t customer_id, int kind, const char *app)
{
	uint8_t kb[CIDENT_KEY_LEN];
	struct has_app h = { app, 0 };
	int stop = 0, rc;

	cident_key(kb, brand_id, customer_id, kind, NULL);
	rc = rows_walk_txn(txn, st->customer_idents, kb, 13, 13, has_app_step,
	    &h, &stop);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	if (stop != 0 && stop != 1)
		return stop;
	return h.found;
}

/* A customer_idents row written (b's profile as it is). */
static int
cident_put(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t customer_id, const struct ident_bind *b, int64_t at)
{
	uint8_t kb[CIDENT_KEY_LEN];
	uint8_t vb[CIDENT_FIXED + STORE_WX_APPID_MAX + STORE_IDENT_CT_MAX +
	    STORE_IDENT_PROF_MAX];
	size_t al = strlen(b->app), off;
	MDB_val k, v;

	cident_key(kb, brand_id, customer_id, b->kind, b->hash);
	le64_put(vb, (uint64_t)at);
	vb[8] = (uint8_t)al;
	memcpy(vb + 9, b->app, al);
	le16_put(vb + 9 + al, (uint16_t)b->ct_len);
	memcpy(vb + 11 + al, b->ct, b->ct_len);
	off = 11 + al + b->ct_len;
	le16_put(vb + off, (uint16_t)b->prof_len);
	memcpy(vb + off + 2, b->prof, b->prof_len);
	k = mval(kb, sizeof kb);
	v = mval(vb, off + 2 + b->prof_len);
	(void)st;
	return mdb_put(txn, st->customer_idents, &k, &v, 0);
}

/* The bind of a row as it is (a move, a profile dropped). */
static void
bind_of(const struct ident *i, struct ident_bind *b)
{
	memset(b, 0, sizeof *b);
	b->kind = i->kind;
	memcpy(b->hash, i->hash, 32);
	memcpy(b->app, i->app, sizeof b->app);
	memcpy(b->ct, i->ct, i->ct_len);
	b->ct_len = i->ct_len;
	memcpy(b->prof, i->prof, i->prof_len);
	b->prof_len = i->prof_len;
}

int
ident_put(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t customer_id, const struct ident_bind *b, int64_t at)
{
	uint8_t ik[IDENT_KEY_LEN], cb[8], kb[CIDENT_KEY_LEN];
	struct ident old;
	struct ident_bind nb;
	MDB_val k, v;
	int rc;

	if (strlen(b->app) > STORE_WX_APPID_MAX ||
	    b->ct_len > STORE_IDENT_CT_MAX ||
	    b->prof_len > STORE_IDENT_PROF_MAX ||
	    b->kind < IDENT_WECHAT_OA || b->kind > IDENT_WECHAT_UNION)
		return SIGIL_EINVAL;
	ident_key(ik, brand_id, b->kind, b->hash);
	sigil_be64_put(cb, customer_id);
	k = mval(ik, sizeof ik);
	v = mval(cb, 8);
	if ((rc = mdb_put(txn, st->identities, &k, &v, 0)) != 0)
		return rc;
	if (b->update)
		return cident_put(st, txn, brand_id, customer_id, b, at);
	/* No profile with this answer: the one kept stays. */
	cident_key(kb, brand_id, customer_id, b->kind, b->hash);
	rc = rows_load(txn, st->customer_idents, kb, sizeof kb, cident_decode,
	    &old);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	nb = *b;
	if (rc == 0) {
		memcpy(nb.prof, old.prof, old.prof_len);
		nb.prof_len = old.prof_len;
	}
	return cident_put(st, txn, brand_id, customer_id, &nb, at);
}

ROWS_EACH_STEP(ident_each_one, struct ident, cident_decode)

int
store_idents_of(struct store *st, uint32_t brand_id, uint64_t customer_id,
    int (*fn)(void *arg, const struct ident *i), void *arg)
{
	uint8_t kb[CIDENT_KEY_LEN];

	if (st->idents_absent)
		return 0;
	cident_key(kb, brand_id, customer_id, 0, NULL);
	return rows_each(st, st->customer_idents, kb, 12, 12, ident_each_one,
	    (any_fn)fn, arg);
}

/* The customer's rows, collected before any is changed. */
struct ident_list {
	struct ident	*v;
	size_t		 n, cap;
};

static int
collect_step(MDB_val k, MDB_val v, void *p)
{
	struct ident_list *l = p;
	struct ident *nv;
	int rc;

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 4;
		if ((nv = realloc(l->v, l->cap * sizeof *nv)) == NULL)
			return SIGIL_ENOMEM;
		l->v = nv;
	}
	if ((rc = cident_decode(k, v, &l->v[l->n])) != 0)
		return rc;
	l->n++;
	return 0;
}

/* The customer's rows into l (empty first): 0 or an error. */
static int
idents_collect(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t customer_id, struct ident_list *l)
{
	uint8_t kb[CIDENT_KEY_LEN];
	int rc, stop = 0;

	cident_key(kb, brand_id, customer_id, 0, NULL);
	rc = rows_walk_txn(txn, st->customer_idents, kb, 12, 12, collect_step,
	    l, &stop);
	return rc == 0 || rc == MDB_NOTFOUND ? stop : rc;
}

/* Frees what idents_collect gathered, its sealed values zeroed first. */
static void
idents_drop(struct ident_list *l)
{
	if (l->v != NULL) {
		memset(l->v, 0, l->cap * sizeof *l->v);
		free(l->v);
	}
}

/*
 * Every row of the customer in customer_idents, in txn: deleted, and
 * (to != 0) rewritten under to with the index pointing at to;
 * SIGIL_ECONFLICT when to already holds an identity of that kind and
 * app (two openids of one app are two WeChat users).
 */
static int
idents_shift(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t from, uint64_t to)
{
	uint8_t kb[CIDENT_KEY_LEN], ik[IDENT_KEY_LEN];
	struct ident_list l = { NULL, 0, 0 };
	struct ident_bind b;
	MDB_val k;
	int rc, has;

	rc = idents_collect(st, txn, brand_id, from, &l);
	for (size_t n = 0; rc == 0 && n < l.n; n++) {
		const struct ident *i = &l.v[n];

		if (to != 0 && (has = ident_has_app(st, txn, brand_id, to,
		    i->kind, i->app)) != 0) {
			rc = has < 0 ? has : SIGIL_ECONFLICT;
			break;
		}
		cident_key(kb, brand_id, from, i->kind, i->hash);
		k = mval(kb, sizeof kb);
		if ((rc = mdb_del(txn, st->customer_idents, &k, NULL)) != 0)
			break;
		if (to == 0) {
			ident_key(ik, brand_id, i->kind, i->hash);
			k = mval(ik, sizeof ik);
			if ((rc = mdb_del(txn, st->identities, &k, NULL)) ==
			    MDB_NOTFOUND)
				rc = 0;
			continue;
		}
		bind_of(i, &b);
		b.update = 1;
		rc = ident_put(st, txn, brand_id, to, &b, i->at);
	}
	idents_drop(&l);
	return rc;
}

int
ident_move(struct store *st, MDB_txn *txn, uint32_t brand_id, uint64_t from,
    uint64_t to)
{
	if (from == to || to == 0)
		return SIGIL_EINVAL;
	return idents_shift(st, txn, brand_id, from, to);
}

int
ident_erase(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t customer_id)
{
	return idents_shift(st, txn, brand_id, customer_id, 0);
}

int
ident_conflict(struct store *st, MDB_txn *txn, uint32_t brand_id, uint64_t a,
    uint64_t b)
{
	struct ident_list l = { NULL, 0, 0 };
	int rc, has = 0;

	rc = idents_collect(st, txn, brand_id, a, &l);
	for (size_t n = 0; rc == 0 && has == 0 && n < l.n; n++)
		if ((has = ident_has_app(st, txn, brand_id, b, l.v[n].kind,
		    l.v[n].app)) < 0)
			rc = has;
	idents_drop(&l);
	return rc != 0 ? rc : has;
}

int
ident_profile_erase(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t customer_id)
{
	struct ident_list l = { NULL, 0, 0 };
	struct ident_bind b;
	int rc;

	if (st->idents_absent)
		return 0;
	rc = idents_collect(st, txn, brand_id, customer_id, &l);
	for (size_t n = 0; rc == 0 && n < l.n; n++) {
		if (l.v[n].prof_len == 0)
			continue;
		/* Zeros over the profile at the same length first (written
		 * in place), then the row without it. */
		bind_of(&l.v[n], &b);
		memset(b.prof, 0, b.prof_len);
		if ((rc = cident_put(st, txn, brand_id, customer_id, &b,
		    l.v[n].at)) != 0)
			break;
		b.prof_len = 0;
		rc = cident_put(st, txn, brand_id, customer_id, &b, l.v[n].at);
	}
	idents_drop(&l);
	return rc;
}
