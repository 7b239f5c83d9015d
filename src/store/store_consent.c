/*
 * store_consent.c - the brand's privacy notices and settings, the
 * consent ledger and the customers' profiles (sigil/store/consent.h has
 * the tables' layout; docs/storage.md too).
 *
 * The ledger is append-only: entries are added, never changed. A merge
 * moves a customer's entries under the kept customer with their seq (so
 * both histories read in the order they happened), an erasure keeps them
 * (proof of what the customer agreed to, naming nobody but by the
 * customer id) and deletes the profile. The profile is written only when
 * the customer's latest profile entry, read in the same transaction, is
 * a grant; a profile withdrawal deletes it in the withdrawal's
 * transaction.
 *
 * Owns notices, consents, profiles and the meta counter next_consent.
 * May call libc, LMDB, util.c, store_env.c and store_rows.c only:
 * store_erase.c (under store_customers.c) and the merge call its
 * consent_move, profile_move and profile_erase. Whether the customer is
 * live is its callers' check (writer ops, serialised with erasures).
 */
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "sigil/store.h"
#include "sigil/util.h"
#include "store_impl.h"

#define CONSENT_KEY_LEN		20
#define CONSENT_VAL_LEN		22
#define PROFILE_KEY_LEN		12

static void
cust_key(uint8_t *p, uint32_t brand_id, uint64_t customer_id)
{
	sigil_be32_put(p, brand_id);
	sigil_be64_put(p + 4, customer_id);
}

/* ---- notices and settings ---- */

static int
notice_load(MDB_val k, MDB_val v, uint32_t *version, int64_t *at,
    char **json)
{
	if (k.mv_size != 8 || v.mv_size < 8)
		return SIGIL_EIO;
	*version = sigil_be32_get((const uint8_t *)k.mv_data + 4);
	*at = (int64_t)le64_get(v.mv_data);
	if ((*json = malloc(v.mv_size - 8 + 1)) == NULL)
		return SIGIL_ENOMEM;
	memcpy(*json, (const uint8_t *)v.mv_data + 8, v.mv_size - 8);
	(*json)[v.mv_size - 8] = '\0';
	return 0;
}

struct notice_add {
	uint32_t	brand_id, version;
	int64_t		at;
	const char	*json;
};

static int
notice_add_fn(struct store *st, MDB_txn *txn, void *p)
{
	struct notice_add *a = p;
	uint8_t kb[8], *vb;
	size_t n = strlen(a->json);
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;

	if ((rc = brand_exists(st, txn, a->brand_id)) != 0)
		return rc;
	/* The brand's last key: the one before brand + 1's first. */
	a->version = 1;
	bid_key(kb, a->brand_id, UINT32_MAX);
	if ((rc = mdb_cursor_open(txn, st->notices, &cur)) != 0)
		return rc;
	k = mval(kb, 8);
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	if (rc == 0 && k.mv_size == 8 && memcmp(k.mv_data, kb, 8) == 0)
		rc = SIGIL_EFULL;
	else {
		rc = mdb_cursor_get(cur, &k, &v, rc == 0 ? MDB_PREV : MDB_LAST);
		if (rc == 0 && k.mv_size == 8 &&
		    sigil_be32_get(k.mv_data) == a->brand_id)
			a->version = sigil_be32_get((const uint8_t *)k.mv_data +
			    4) + 1;
		rc = rc == MDB_NOTFOUND ? 0 : rc;
	}
	mdb_cursor_close(cur);
	if (rc != 0)
		return rc;
	if ((vb = malloc(8 + n)) == NULL)
		return SIGIL_ENOMEM;
	le64_put(vb, (uint64_t)a->at);
	memcpy(vb + 8, a->json, n);
	bid_key(kb, a->brand_id, a->version);
	k = mval(kb, 8);
	v = mval(vb, 8 + n);
	rc = mdb_put(txn, st->notices, &k, &v, 0);
	free(vb);
	return rc;
}

int
store_notice_add(struct store *st, uint32_t brand_id, int64_t at,
    const char *json, uint32_t *version)
{
	struct notice_add a = { brand_id, 0, at, json };

	if (st->consent_absent)
		return SIGIL_EDENIED;
	if (json == NULL || !json_text_ok(json, NOTICE_JSON_MAX))
		return SIGIL_EINVAL;
	return STORE_WRITE_OUT(st, notice_add_fn, &a, a.version, version);
}

struct notice_find {
	uint32_t	want;
	uint32_t	version;
	int64_t		at;
	char		*json;
	int		err;
};

static int
notice_find_one(MDB_val k, MDB_val v, void *p)
{
	struct notice_find *f = p;
	uint32_t ver;
	int64_t at;
	char *json;

	if (k.mv_size == 8 && sigil_be32_get((const uint8_t *)k.mv_data +
	    4) == 0)
		return 0;	/* the settings row */
	if ((f->err = notice_load(k, v, &ver, &at, &json)) != 0)
		return 1;
	if (f->want != 0 && ver != f->want) {
		free(json);
		return 0;
	}
	free(f->json);
	f->json = json;
	f->version = ver;
	f->at = at;
	return f->want != 0;
}

int
store_notice_get(struct store *st, uint32_t brand_id, uint32_t version,
    uint32_t *version_out, int64_t *at, char **json)
{
	struct notice_find f = { version, 0, 0, NULL, 0 };
	uint8_t kb[8];
	int rc;

	*json = NULL;
	if (st->consent_absent)
		return SIGIL_ENOTFOUND;
	bid_key(kb, brand_id, version);
	rc = rows_walk(st, st->notices, kb, 8, 4, notice_find_one, &f);
	if (rc < 0 || f.err != 0) {
		free(f.json);
		return f.err != 0 ? f.err : map_err(rc);
	}
	if (f.json == NULL)
		return SIGIL_ENOTFOUND;
	*json = f.json;
	*version_out = f.version;
	*at = f.at;
	return 0;
}

struct notice_each {
	int	(*fn)(void *, uint32_t, int64_t, const char *);
	void	*arg;
	int	err;
};

static int
notice_each_one(MDB_val k, MDB_val v, void *p)
{
	struct notice_each *e = p;
	uint32_t ver;
	int64_t at;
	char *json;
	int rc;

	if (k.mv_size == 8 && sigil_be32_get((const uint8_t *)k.mv_data +
	    4) == 0)
		return 0;
	if ((e->err = notice_load(k, v, &ver, &at, &json)) != 0)
		return 1;
	rc = e->fn(e->arg, ver, at, json);
	free(json);
	return rc;
}

int
store_notice_each(struct store *st, uint32_t brand_id,
    int (*fn)(void *arg, uint32_t version, int64_t at, const char *json),
    void *arg)
{
	struct notice_each e = { fn, arg, 0 };
	uint8_t kb[8];
	int rc;

	if (st->consent_absent)
		return 0;
	bid_key(kb, brand_id, 1);
	rc = rows_walk(st, st->notices, kb, 8, 4, notice_each_one, &e);
	return e.err != 0 ? e.err : rc;
}

int
store_privacy_settings_put(struct store *st, uint32_t brand_id,
    const char *json)
{
	uint8_t kb[8], *vb;
	size_t n;
	int rc;

	if (st->consent_absent)
		return SIGIL_EDENIED;
	bid_key(kb, brand_id, 0);
	if (json == NULL)
		return rows_write(st, st->notices, kb, 8, NULL, 0, brand_id);
	if (!json_text_ok(json, PRIVACY_SETTINGS_MAX))
		return SIGIL_EINVAL;
	n = strlen(json);
	if ((vb = malloc(8 + n)) == NULL)
		return SIGIL_ENOMEM;
	le64_put(vb, 0);
	memcpy(vb + 8, json, n);
	rc = rows_write(st, st->notices, kb, 8, vb, 8 + n, brand_id);
	free(vb);
	return rc;
}

static int
settings_load(MDB_txn *txn, MDB_dbi dbi, const uint8_t *kb, char **json)
{
	MDB_val k = mval(kb, 8), v;
	int rc = mdb_get(txn, dbi, &k, &v);
	uint32_t ver;
	int64_t at;

	if (rc != 0)
		return rc;
	return notice_load(k, v, &ver, &at, json);
}

int
store_privacy_settings_get(struct store *st, uint32_t brand_id, char **json)
{
	uint8_t kb[8];
	int rc;

	*json = NULL;
	if (st->consent_absent)
		return 0;
	bid_key(kb, brand_id, 0);
	rc = STORE_READ(st, settings_load(txn, st->notices, kb, json));
	return rc == SIGIL_ENOTFOUND ? 0 : rc;
}

/* ---- the consent ledger ---- */

static int
consent_decode(MDB_val k, MDB_val v, void *out)
{
	struct consent_entry *e = out;
	const uint8_t *p = v.mv_data;

	if (k.mv_size != CONSENT_KEY_LEN || v.mv_size != CONSENT_VAL_LEN)
		return SIGIL_EIO;
	e->brand_id = sigil_be32_get(k.mv_data);
	e->customer_id = sigil_be64_get((const uint8_t *)k.mv_data + 4);
	e->seq = sigil_be64_get((const uint8_t *)k.mv_data + 12);
	e->at = (int64_t)le64_get(p);
	e->notice_version = le32_get(p + 8);
	e->purpose = p[12];
	e->action = p[13];
	e->channel = p[14];
	e->lang = p[15];
	return 0;
}

static int
consent_put(struct store *st, MDB_txn *txn, const struct consent_entry *e)
{
	uint8_t kb[CONSENT_KEY_LEN], vb[CONSENT_VAL_LEN];
	MDB_val k = mval(kb, sizeof kb), v = mval(vb, sizeof vb);

	cust_key(kb, e->brand_id, e->customer_id);
	sigil_be64_put(kb + 12, e->seq);
	memset(vb, 0, sizeof vb);
	le64_put(vb, (uint64_t)e->at);
	le32_put(vb + 8, e->notice_version);
	vb[12] = e->purpose;
	vb[13] = e->action;
	vb[14] = e->channel;
	vb[15] = e->lang;
	return mdb_put(txn, st->consents, &k, &v, 0);
}

static int
profile_del(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t customer_id)
{
	uint8_t kb[PROFILE_KEY_LEN];
	MDB_val k = mval(kb, sizeof kb);
	int rc;

	cust_key(kb, brand_id, customer_id);
	rc = mdb_del(txn, st->profiles, &k, NULL);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

#define PURPOSE_BITS	3

static int
record_fn(struct store *st, MDB_txn *txn, void *p)
{
	struct consent_record *r = p;
	struct consent_entry e;
	int rc, pass;

	r->n = 0;
	memset(&e, 0, sizeof e);
	e.brand_id = r->brand_id;
	e.customer_id = r->customer_id;
	e.at = r->at;
	e.notice_version = r->notice_version;
	e.channel = r->channel;
	e.lang = r->lang;
	for (pass = 0; pass < 2; pass++) {
		unsigned set = pass == 0 ? r->grant : r->withdraw;

		for (unsigned b = 0; b < PURPOSE_BITS; b++) {
			if (!(set & (1u << b)))
				continue;
			e.purpose = (uint8_t)(1u << b);
			e.action = pass == 0 ? CONSENT_GRANT : CONSENT_WITHDRAW;
			if ((rc = rows_global_id(st, txn, "next_consent",
			    &e.seq)) != 0 || (rc = consent_put(st, txn,
			    &e)) != 0)
				return rc;
			r->n++;
		}
	}
	if ((r->withdraw & 4u) && (rc = ident_profile_erase(st, txn,
	    r->brand_id, r->customer_id)) != 0)
		return rc;	/* the WeChat nickname and avatar too */
	if (r->withdraw & 4u)
		return profile_del(st, txn, r->brand_id, r->customer_id);
	return 0;
}

int
store_consent_record(struct store *st, struct consent_record *r)
{
	if (st->consent_absent)
		return SIGIL_EDENIED;
	if ((r->grant | r->withdraw) == 0 || (r->grant & r->withdraw) != 0 ||
	    ((r->grant | r->withdraw) & ~7u) != 0 || r->customer_id == 0)
		return SIGIL_EINVAL;
	return STORE_WRITE_OUT(st, record_fn, r, r->n, &r->n);
}

struct latest {
	unsigned		purpose;
	int			found, err;
	struct consent_entry	e;
};

static int
latest_one(MDB_val k, MDB_val v, void *p)
{
	struct latest *l = p;
	struct consent_entry e;

	if ((l->err = consent_decode(k, v, &e)) != 0)
		return 1;
	if (e.purpose == l->purpose) {
		l->e = e;
		l->found = 1;
	}
	return 0;
}

/* In txn: the latest entry of purpose, found or not. */
static int
latest_txn(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t customer_id, struct latest *l)
{
	uint8_t kb[12];
	int stop, rc;

	cust_key(kb, brand_id, customer_id);
	rc = rows_walk_txn(txn, st->consents, kb, 12, 12, latest_one, l,
	    &stop);
	return l->err != 0 ? l->err : rc;
}

int
store_consent_latest(struct store *st, uint32_t brand_id,
    uint64_t customer_id, unsigned purpose, struct consent_entry *out)
{
	struct latest l;
	int rc;

	memset(&l, 0, sizeof l);
	l.purpose = purpose;
	if (st->consent_absent)
		return SIGIL_ENOTFOUND;
	if ((rc = STORE_READ(st, latest_txn(st, txn, brand_id, customer_id,
	    &l))) != 0)
		return rc;
	if (!l.found)
		return SIGIL_ENOTFOUND;
	*out = l.e;
	return 0;
}

ROWS_EACH_STEP(consent_each_one, struct consent_entry, consent_decode)

int
store_consent_each(struct store *st, uint32_t brand_id, uint64_t customer_id,
    int (*fn)(void *arg, const struct consent_entry *e), void *arg)
{
	uint8_t kb[12];

	if (st->consent_absent)
		return 0;
	cust_key(kb, brand_id, customer_id);
	return rows_each(st, st->consents, kb, customer_id ? 12 : 4,
	    customer_id ? 12 : 4, consent_each_one, (any_fn)fn, arg);
}

int
store_consent_from(struct store *st, uint32_t brand_id, uint64_t customer_id,
    uint64_t seq, int (*fn)(void *arg, const struct consent_entry *e),
    void *arg)
{
	uint8_t kb[CONSENT_KEY_LEN];

	if (st->consent_absent)
		return 0;
	cust_key(kb, brand_id, customer_id);
	sigil_be64_put(kb + 12, seq);
	return rows_each(st, st->consents, kb, sizeof kb, 4, consent_each_one,
	    (any_fn)fn, arg);
}

/* ---- profiles ---- */

struct profile_put {
	uint32_t	brand_id;
	uint64_t	customer_id;
	const uint8_t	*sealed;
	size_t		len;
};

static int
profile_put_fn(struct store *st, MDB_txn *txn, void *p)
{
	struct profile_put *a = p;
	struct latest l;
	uint8_t kb[PROFILE_KEY_LEN];
	MDB_val k = mval(kb, sizeof kb), v = mval(a->sealed, a->len);
	int rc;

	if (a->len == 0)
		return profile_del(st, txn, a->brand_id, a->customer_id);
	memset(&l, 0, sizeof l);
	l.purpose = 4;
	if ((rc = latest_txn(st, txn, a->brand_id, a->customer_id, &l)) != 0)
		return rc;
	if (!l.found || l.e.action != CONSENT_GRANT)
		return SIGIL_EDENIED;
	cust_key(kb, a->brand_id, a->customer_id);
	return mdb_put(txn, st->profiles, &k, &v, 0);
}

int
store_profile_put(struct store *st, uint32_t brand_id, uint64_t customer_id,
    const uint8_t *sealed, size_t len)
{
	struct profile_put a = { brand_id, customer_id, sealed, len };

	if (st->consent_absent)
		return SIGIL_EDENIED;
	if (len > PROFILE_SEALED_MAX || (len > 0 && sealed == NULL))
		return SIGIL_EINVAL;
	return store_write(st, profile_put_fn, &a);
}

static int
profile_load(MDB_txn *txn, MDB_dbi dbi, const uint8_t *kb, uint8_t *buf,
    size_t size, size_t *len)
{
	MDB_val k = mval(kb, PROFILE_KEY_LEN), v;
	int rc = mdb_get(txn, dbi, &k, &v);

	if (rc != 0)
		return rc;
	if (v.mv_size > size)
		return SIGIL_EIO;
	memcpy(buf, v.mv_data, v.mv_size);
	*len = v.mv_size;
	return 0;
}

int
store_profile_get(struct store *st, uint32_t brand_id, uint64_t customer_id,
    uint8_t *buf, size_t size, size_t *len)
{
	uint8_t kb[PROFILE_KEY_LEN];

	if (st->consent_absent)
		return SIGIL_ENOTFOUND;
	cust_key(kb, brand_id, customer_id);
	return STORE_READ(st, profile_load(txn, st->profiles, kb, buf, size,
	    len));
}

/* ---- merge and erasure ---- */

int
consent_move(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t from, uint64_t to)
{
	uint8_t kb[12];
	MDB_cursor *cur;
	MDB_val k, v;
	struct consent_entry e;
	int rc;

	if (st->consent_absent || from == to)
		return 0;
	cust_key(kb, brand_id, from);
	if ((rc = mdb_cursor_open(txn, st->consents, &cur)) != 0)
		return rc;
	for (;;) {
		k = mval(kb, 12);
		if ((rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE)) != 0)
			break;
		if (k.mv_size != CONSENT_KEY_LEN ||
		    memcmp(k.mv_data, kb, 12) != 0)
			break;
		if ((rc = consent_decode(k, v, &e)) != 0 ||
		    (rc = mdb_cursor_del(cur, 0)) != 0)
			break;
		e.customer_id = to;
		if ((rc = consent_put(st, txn, &e)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int
profile_move(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t from, uint64_t to)
{
	uint8_t kf[PROFILE_KEY_LEN], kt[PROFILE_KEY_LEN], *copy;
	MDB_val k = mval(kf, sizeof kf), v, k2 = mval(kt, sizeof kt), v2;
	int rc;

	if (st->consent_absent || from == to)
		return 0;
	cust_key(kf, brand_id, from);
	cust_key(kt, brand_id, to);
	if ((rc = mdb_get(txn, st->profiles, &k, &v)) != 0)
		return rc == MDB_NOTFOUND ? 0 : rc;
	/* The kept customer's own profile, when it has one, stays. */
	if ((rc = mdb_get(txn, st->profiles, &k2, &v2)) == MDB_NOTFOUND) {
		if ((copy = malloc(v.mv_size)) == NULL)
			return SIGIL_ENOMEM;
		memcpy(copy, v.mv_data, v.mv_size);
		v2 = mval(copy, v.mv_size);
		rc = mdb_put(txn, st->profiles, &k2, &v2, 0);
		free(copy);
	}
	if (rc != 0)
		return rc;
	return mdb_del(txn, st->profiles, &k, NULL);
}

int
profile_erase(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t customer_id)
{
	if (st->consent_absent)
		return 0;
	return profile_del(st, txn, brand_id, customer_id);
}
