/*
 * store_users.c - dashboard users (users, keyed by a global id, and
 * user_emails, the lower-cased email to that id) and their sessions
 * (sessions, keyed by the SHA-256 of the cookie value).
 *
 * An email names one user: the index changes in the same transaction
 * as the user. A disabled user is found by id only, so it cannot log
 * in, and disabling or removing a user deletes its sessions in the same
 * transaction; sessions carry their own expiry and are read as absent
 * past it, purged in bulk by store_session_purge. There is no per-user
 * index of sessions: they are few, a walk of all of them is cheap.
 *
 * Owns the tables users, user_emails and sessions, and the meta counter
 * next_user.
 * It may call store_env.c's runner and snapshot and store_rows.c; it must
 * never call the other late tables' files. Password hashing and the
 * login rules belong to the callers (loginguard.c, dashboard.c, the
 * CLI): here are bytes.
 */
#include <string.h>

#include <lmdb.h>

#include "sigil/store.h"
#include "sigil/util.h"
#include "store_impl.h"

#define USER_FIXED_LEN		74
#define SESSION_LEN		52

static int
email_norm(const char *in, char *out)
{
	size_t n;

	if (in == NULL || !text_ok(in, STORE_NAME_MAX * 2 + 1,
	    STORE_NAME_MAX * 2, 0))
		return SIGIL_EINVAL;
	n = strlen(in);
	for (size_t i = 0; i < n; i++) {
		char c = in[i];

		if (c == ' ')
			return SIGIL_EINVAL;
		out[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	out[n] = '\0';
	return strchr(out, '@') ? 0 : SIGIL_EINVAL;
}

static int
user_decode(MDB_val k, MDB_val v, void *out)
{
	const uint8_t *p = v.mv_data;
	struct user u = { 0 };
	size_t n;

	if (k.mv_size != 4 || v.mv_size < USER_FIXED_LEN ||
	    (n = p[73]) > STORE_NAME_MAX * 2 || v.mv_size != USER_FIXED_LEN + n)
		return SIGIL_EIO;
	u.id = sigil_be32_get(k.mv_data);
	u.brand_id = le32_get(p);
	u.role = p[4] & 0x7f;	/* bit 7: disabled (December 2026) */
	u.disabled = p[4] >> 7;
	memcpy(u.salt, p + 5, 16);
	memcpy(u.hash, p + 21, 32);
	/* @53..@64: the lockout of before December 2026, unused. */
	u.created = (int64_t)le64_get(p + 65);
	memcpy(u.email, p + USER_FIXED_LEN, n);
	*(struct user *)out = u;
	return 0;
}

static int
user_put(struct store *st, MDB_txn *txn, const struct user *u)
{
	uint8_t kb[4], vb[USER_FIXED_LEN + STORE_NAME_MAX * 2];
	size_t n = strlen(u->email);
	MDB_val k = mval(kb, 4), v = mval(vb, USER_FIXED_LEN + n);

	sigil_be32_put(kb, u->id);
	le32_put(vb, u->brand_id);
	vb[4] = (uint8_t)(u->role | (u->disabled ? 0x80 : 0));
	memcpy(vb + 5, u->salt, 16);
	memcpy(vb + 21, u->hash, 32);
	memset(vb + 53, 0, 12);	/* the old lockout's bytes */
	le64_put(vb + 65, (uint64_t)u->created);
	vb[73] = (uint8_t)n;
	memcpy(vb + USER_FIXED_LEN, u->email, n);
	return mdb_put(txn, st->users, &k, &v, 0);
}

static int
user_add_fn(struct store *st, MDB_txn *txn, void *p)
{
	struct user *u = p;
	uint8_t ib[4];
	MDB_val k = mval(u->email, strlen(u->email)), v = mval(ib, 4);
	uint64_t id;
	int rc;

	if ((rc = brand_exists(st, txn, u->brand_id)) != 0 ||
	    (rc = meta_next(st, txn, meta_key("next_user"), 1, UINT32_MAX,
	    &id)) != 0)
		return rc;
	u->id = (uint32_t)id;
	sigil_be32_put(ib, u->id);
	if ((rc = mdb_put(txn, st->user_emails, &k, &v, MDB_NOOVERWRITE)))
		return rc;
	return user_put(st, txn, u);
}

/* *w = *u with the email normalised; EINVAL for a bad role or email. */
static int
user_norm(const struct user *u, struct user *w)
{
	if (u == NULL || u->role < ROLE_ADMIN || u->role > ROLE_ANALYST)
		return SIGIL_EINVAL;
	*w = *u;
	return email_norm(u->email, w->email);
}

int
store_user_add(struct store *st, struct user *u)
{
	struct user w;
	int rc;

	if ((rc = user_norm(u, &w)) != 0)
		return rc;
	w.created = sigil_now_us();
	return STORE_WRITE_OUT(st, user_add_fn, &w, w, u);
}

int
store_user_get(struct store *st, uint32_t id, struct user *out)
{
	uint8_t kb[4];

	sigil_be32_put(kb, id);
	return rows_get(st, st->users, kb, 4, user_decode, out);
}

/* The user of a normalised email; a disabled one is not found. */
static int
user_by_email(struct store *st, MDB_txn *txn, const char *email,
    struct user *out)
{
	uint8_t kb[4];
	uint32_t id;
	int rc;

	if ((rc = name_index_get(txn, st->user_emails, email, &id)) != 0)
		return rc;
	sigil_be32_put(kb, id);
	rc = rows_load(txn, st->users, kb, 4, user_decode, out);
	if (rc == MDB_NOTFOUND)
		return SIGIL_EIO;
	/* A disabled user cannot log in: found by id only. */
	if (rc == 0 && out->disabled)
		return MDB_NOTFOUND;
	return rc;
}

int
store_user_find(struct store *st, const char *email, struct user *out)
{
	char norm[STORE_NAME_MAX * 2 + 1];

	if (st->loyalty_absent || email_norm(email, norm) != 0)
		return SIGIL_ENOTFOUND;
	return STORE_READ(st, user_by_email(st, txn, norm, out));
}

static int
user_update_fn(struct store *st, MDB_txn *txn, void *p)
{
	struct user *u = p;
	uint8_t kb[4];
	struct user cur;
	int rc;

	sigil_be32_put(kb, u->id);
	if ((rc = rows_load(txn, st->users, kb, 4, user_decode, &cur)) != 0)
		return rc;
	if (strcmp(cur.email, u->email) != 0) {
		MDB_val ok = mval(cur.email, strlen(cur.email));
		MDB_val nk = mval(u->email, strlen(u->email));
		MDB_val v = mval(kb, 4);

		if ((rc = mdb_put(txn, st->user_emails, &nk, &v,
		    MDB_NOOVERWRITE)) != 0 ||
		    (rc = mdb_del(txn, st->user_emails, &ok, NULL)) != 0)
			return rc;
	}
	u->created = cur.created;
	/* Only store_user_set_disabled changes it: no stale copy can. */
	u->disabled = cur.disabled;
	if ((rc = brand_exists(st, txn, u->brand_id)) != 0)
		return rc;
	return user_put(st, txn, u);
}

/*
 * Sessions to delete in one pass over all of them (no per-user index:
 * sessions are few): pick says which, removed counts them.
 */
struct drop_arg {
	int		(*pick)(MDB_val k, MDB_val v,
			    const struct drop_arg *a);
	uint32_t	 user_id;	/* a user's sessions, ... */
	const uint8_t	*keep;		/* ... but this one (or NULL) */
	int64_t		 now;		/* or those expired at now */
	uint64_t	 removed;
};

static int
user_session(MDB_val k, MDB_val v, const struct drop_arg *a)
{
	return v.mv_size >= 4 && le32_get(v.mv_data) == a->user_id &&
	    !(a->keep != NULL && k.mv_size == 32 &&
	    memcmp(k.mv_data, a->keep, 32) == 0);
}

static int
expired_session(MDB_val k, MDB_val v, const struct drop_arg *a)
{
	(void)k;
	return v.mv_size != SESSION_LEN ||
	    (int64_t)le64_get((const uint8_t *)v.mv_data + 44) <= a->now;
}

static int
sessions_drop_fn(struct store *st, MDB_txn *txn, void *p)
{
	struct drop_arg *a = p;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;

	a->removed = 0;
	if ((rc = mdb_cursor_open(txn, st->sessions, &cur)) != 0)
		return rc;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (!a->pick(k, v, a))
			continue;
		if ((rc = mdb_cursor_del(cur, 0)) != 0)
			break;
		a->removed++;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

struct user_flag_arg {
	uint32_t	id;
	int		disabled;	/* -1: remove the user */
};

static int
user_flag_fn(struct store *st, MDB_txn *txn, void *p)
{
	struct user_flag_arg *a = p;
	struct drop_arg drop = { user_session, a->id, NULL, 0, 0 };
	uint8_t kb[4];
	MDB_val k = mval(kb, 4), ek;
	struct user cur;
	int rc;

	sigil_be32_put(kb, a->id);
	if ((rc = rows_load(txn, st->users, kb, 4, user_decode, &cur)) != 0)
		return rc;
	/* Disabling or removing ends the sessions for good, in this txn. */
	if (a->disabled != 0 && (rc = sessions_drop_fn(st, txn, &drop)) != 0)
		return rc;
	if (a->disabled >= 0) {
		cur.disabled = a->disabled;
		return user_put(st, txn, &cur);
	}
	ek = mval(cur.email, strlen(cur.email));
	if ((rc = mdb_del(txn, st->user_emails, &ek, NULL)) != 0 &&
	    rc != MDB_NOTFOUND)
		return rc;
	return mdb_del(txn, st->users, &k, NULL);
}

int
store_user_set_disabled(struct store *st, uint32_t id, int disabled)
{
	struct user_flag_arg a = { id, disabled != 0 };

	if (st->loyalty_absent)
		return SIGIL_ENOTFOUND;
	return store_write(st, user_flag_fn, &a);
}

int
store_session_del_user(struct store *st, uint32_t user_id,
    const uint8_t keep[32])
{
	struct drop_arg a = { user_session, user_id, keep, 0, 0 };

	if (st->loyalty_absent)
		return 0;
	return store_write(st, sessions_drop_fn, &a);
}

int
store_user_del(struct store *st, uint32_t id)
{
	struct user_flag_arg a = { id, -1 };

	if (st->loyalty_absent)
		return SIGIL_ENOTFOUND;
	return store_write(st, user_flag_fn, &a);
}

int
store_user_update(struct store *st, const struct user *u)
{
	struct user w;
	int rc;

	if ((rc = user_norm(u, &w)) != 0)
		return rc;
	return store_write(st, user_update_fn, &w);
}

struct user_walk {
	struct cb_ctx	c;
	uint32_t	brand_id;
};

static int
user_each_one(MDB_val k, MDB_val v, void *p)
{
	struct user_walk *w = p;
	struct user u;
	int rc;

	if ((rc = user_decode(k, v, &u)) != 0)
		return rc;
	if (u.brand_id != w->brand_id)
		return 0;
	return ((int (*)(void *, const struct user *))w->c.fn)(w->c.arg, &u);
}

int
store_user_each(struct store *st, uint32_t brand_id,
    int (*fn)(void *arg, const struct user *u), void *arg)
{
	struct user_walk w = { { (any_fn)fn, arg }, brand_id };
	uint8_t kb[1] = { 0 };

	return rows_walk(st, st->users, kb, 1, 0, user_each_one, &w);
}

/* ---- sessions ---- */

static int
session_decode(MDB_val k, MDB_val v, void *out)
{
	const uint8_t *p = v.mv_data;
	struct session s;

	if (k.mv_size != 32 || v.mv_size != SESSION_LEN)
		return SIGIL_EIO;
	memcpy(s.id_hash, k.mv_data, 32);
	s.user_id = le32_get(p);
	memcpy(s.csrf, p + 4, 32);
	s.created = (int64_t)le64_get(p + 36);
	s.expires = (int64_t)le64_get(p + 44);
	*(struct session *)out = s;
	return 0;
}

static int
session_put_fn(struct store *st, MDB_txn *txn, void *p)
{
	const struct session *s = p;
	uint8_t kb[4], vb[SESSION_LEN];
	MDB_val k = mval(kb, 4), v;
	int rc;

	sigil_be32_put(kb, s->user_id);
	if ((rc = mdb_get(txn, st->users, &k, &v)) != 0)
		return rc;
	le32_put(vb, s->user_id);
	memcpy(vb + 4, s->csrf, 32);
	le64_put(vb + 36, (uint64_t)s->created);
	le64_put(vb + 44, (uint64_t)s->expires);
	k = mval(s->id_hash, 32);
	v = mval(vb, SESSION_LEN);
	return mdb_put(txn, st->sessions, &k, &v, 0);
}

int
store_session_put(struct store *st, const struct session *s)
{
	struct session w;

	if (s == NULL || s->expires <= s->created)
		return SIGIL_EINVAL;
	w = *s;
	return store_write(st, session_put_fn, &w);
}

int
store_session_get(struct store *st, const uint8_t id_hash[32],
    struct session *out)
{
	struct session s;
	int rc;

	if (id_hash == NULL)
		return SIGIL_ENOTFOUND;
	if ((rc = rows_get(st, st->sessions, id_hash, 32, session_decode,
	    &s)) != 0)
		return rc;
	if (s.expires <= sigil_now_us())
		return SIGIL_ENOTFOUND;
	*out = s;
	return 0;
}

int
store_session_del(struct store *st, const uint8_t id_hash[32])
{
	if (id_hash == NULL)
		return SIGIL_EINVAL;
	return rows_write(st, st->sessions, id_hash, 32, NULL, 0, 0);
}

int
store_session_purge(struct store *st, int64_t now, uint64_t *removed)
{
	struct drop_arg a = { expired_session, 0, NULL, now, 0 };

	return STORE_WRITE_OUT(st, sessions_drop_fn, &a, a.removed, removed);
}
