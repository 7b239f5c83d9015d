/*
 * store_rows.c - the common ground of the late tables' files
 * (store_customers.c, store_claims.c, store_ledger.c, store_users.c,
 * store_webhooks.c, store_counters.c): one row read by key, a walk over
 * a key prefix, the write-closure shape, one row put or deleted as its
 * own write, a new per-brand id, the JSON-configured row (campaigns,
 * segments, message definitions), a brand's JSON text in a one-row-per-
 * brand table (brand and payment settings), and the checks they all
 * make (the brand exists, JSON text is bounded and well-formed).
 *
 * Owns no table: it reads brands (whose rows store_catalog.c writes) and
 * works on whatever table its caller names. It may call store_env.c's
 * snapshot and write runner (store_impl.h), jansson and libc; it must
 * never call the files it serves, nor hold a snapshot past a call.
 *
 * The late tables were added at schema 1 without touching any older
 * encoding: a read-write open creates them, a read-only open of an older
 * store has none of them (loyalty_absent), and reads here see them empty
 * then: no row (SIGIL_ENOTFOUND), a walk over nothing.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <lmdb.h>

#include "sigil/store.h"
#include "sigil/util.h"
#include "store_impl.h"

int
brand_exists(struct store *st, MDB_txn *txn, uint32_t brand_id)
{
	uint8_t kb[4];
	MDB_val k = mval(kb, 4), v;
	int rc;

	sigil_be32_put(kb, brand_id);
	rc = mdb_get(txn, st->brands, &k, &v);
	return rc == MDB_NOTFOUND ? SIGIL_ENOTFOUND : rc;
}

/*
 * A new row's id in a table keyed by bid_key(): brand_id must exist
 * (SIGIL_ENOTFOUND), *out is one past its last id (SIGIL_EFULL).
 */
static int
rows_new_id(struct store *st, MDB_txn *txn, MDB_dbi dbi, uint32_t brand_id,
    uint32_t *out)
{
	uint8_t kb[8];
	MDB_cursor *cur;
	MDB_val k = mval(kb, 8), v;
	uint32_t last = 0;
	int rc;

	if ((rc = brand_exists(st, txn, brand_id)) != 0 ||
	    (rc = mdb_cursor_open(txn, dbi, &cur)) != 0)
		return rc;
	if (brand_id == UINT32_MAX) {
		rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	} else {
		bid_key(kb, brand_id + 1, 0);
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		if (rc == 0)
			rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
		else if (rc == MDB_NOTFOUND)
			rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	}
	if (rc == 0 && k.mv_size == 8 &&
	    sigil_be32_get(k.mv_data) == brand_id)
		last = sigil_be32_get((const uint8_t *)k.mv_data + 4);
	mdb_cursor_close(cur);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	if (last == UINT32_MAX)
		return SIGIL_EFULL;
	*out = last + 1;
	return 0;
}

int
json_text_ok(const char *s, size_t max)
{
	json_t *j;
	size_t n;

	if (s == NULL || (n = strnlen(s, max + 1)) > max || n == 0)
		return 0;
	if ((j = json_loadb(s, n, JSON_DECODE_ANY, NULL)) == NULL)
		return 0;
	json_decref(j);
	return 1;
}

/* ---- JSON-configured rows ---- */

int
json_row_put(MDB_txn *txn, MDB_dbi dbi, const struct json_row *r,
    const uint8_t *extra, size_t extra_len)
{
	size_t fixed = JSON_ROW_FIXED + extra_len, n = strlen(r->json);
	uint8_t kb[8], *vb = malloc(fixed + n);
	MDB_val k = mval(kb, 8), v;
	int rc;

	if (vb == NULL)
		return SIGIL_ENOMEM;
	bid_key(kb, r->brand_id, r->id);
	le64_put(vb, (uint64_t)r->created);
	le64_put(vb + 8, (uint64_t)r->updated);
	if (extra_len > 0)
		memcpy(vb + JSON_ROW_FIXED, extra, extra_len);
	memcpy(vb + fixed, r->json, n);
	v = mval(vb, fixed + n);
	rc = mdb_put(txn, dbi, &k, &v, 0);
	free(vb);
	return rc;
}

int
json_row_decode(MDB_val k, MDB_val v, size_t extra_len, size_t max,
    struct json_row *out, const uint8_t **extra)
{
	const uint8_t *p = v.mv_data;
	size_t fixed = JSON_ROW_FIXED + extra_len, n;
	struct json_row r;

	if (k.mv_size != 8 || v.mv_size < fixed ||
	    (n = v.mv_size - fixed) > max)
		return SIGIL_EIO;
	r.brand_id = sigil_be32_get(k.mv_data);
	r.id = sigil_be32_get((const uint8_t *)k.mv_data + 4);
	r.created = (int64_t)le64_get(p);
	r.updated = (int64_t)le64_get(p + 8);
	if ((r.json = malloc(n + 1)) == NULL)
		return SIGIL_ENOMEM;
	memcpy(r.json, p + fixed, n);
	r.json[n] = '\0';
	*out = r;
	*extra = p + JSON_ROW_FIXED;
	return 0;
}

/* ---- writes ---- */

/* A put or delete of one row in one table, as a write closure. */
struct kv_arg {
	MDB_dbi		 dbi;
	const uint8_t	*key;
	size_t		 klen;
	const uint8_t	*val;		/* NULL: delete */
	size_t		 vlen;
	uint32_t	 brand_id;	/* must exist for a put, 0 = unchecked */
};

static int
kv_fn(struct store *st, MDB_txn *txn, void *p)
{
	struct kv_arg *a = p;
	MDB_val k = mval(a->key, a->klen), v = mval(a->val, a->vlen);
	int rc;

	if (a->val == NULL)
		return mdb_del(txn, a->dbi, &k, NULL);
	if (a->brand_id && (rc = brand_exists(st, txn, a->brand_id)) != 0)
		return rc;
	return mdb_put(txn, a->dbi, &k, &v, 0);
}

int
rows_write(struct store *st, MDB_dbi dbi, const uint8_t *key, size_t klen,
    const uint8_t *val, size_t vlen, uint32_t brand_id)
{
	struct kv_arg a = { dbi, key, klen, val, vlen, brand_id };

	return store_write(st, kv_fn, &a);
}

/* A new row with the next per-brand id, as a write closure. */
struct add_arg {
	MDB_dbi		 dbi;
	put_fn		 put;
	void		*row;
	uint32_t	 brand_id;
	uint32_t	*id;
};

static int
add_fn(struct store *st, MDB_txn *txn, void *p)
{
	struct add_arg *a = p;
	int rc;

	if ((rc = rows_new_id(st, txn, a->dbi, a->brand_id, a->id)) != 0)
		return rc;
	return a->put(st, txn, a->row);
}

int
rows_add(struct store *st, MDB_dbi dbi, put_fn put, void *row,
    uint32_t brand_id, uint32_t *id, void *out, size_t size)
{
	struct add_arg a = { dbi, put, row, brand_id, id };

	return store_write_out(st, add_fn, &a, out, row, size);
}

/* ---- reads ---- */

int
rows_load(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen,
    decode_fn dec, void *out)
{
	MDB_val k = mval(key, klen), v;
	int rc = mdb_get(txn, dbi, &k, &v);

	return rc != 0 ? rc : dec(k, v, out);
}

int
rows_get(struct store *st, MDB_dbi dbi, const void *key, size_t klen,
    decode_fn dec, void *out)
{
	if (st->loyalty_absent)
		return SIGIL_ENOTFOUND;
	return STORE_READ(st, rows_load(txn, dbi, key, klen, dec, out));
}

int
rows_get_bid(struct store *st, MDB_dbi dbi, uint32_t brand_id, uint32_t id,
    decode_fn dec, void *out)
{
	uint8_t kb[8];

	bid_key(kb, brand_id, id);
	return rows_get(st, dbi, kb, 8, dec, out);
}

static int
text_decode(MDB_val k, MDB_val v, void *out)
{
	char *s = malloc(v.mv_size + 1);

	(void)k;
	if (s == NULL)
		return SIGIL_ENOMEM;
	memcpy(s, v.mv_data, v.mv_size);
	s[v.mv_size] = '\0';
	*(char **)out = s;
	return 0;
}

int
rows_text_get(struct store *st, MDB_dbi dbi, uint32_t brand_id, char **json)
{
	uint8_t kb[4];

	sigil_be32_put(kb, brand_id);
	return rows_get(st, dbi, kb, 4, text_decode, json);
}

int
rows_text_put(struct store *st, MDB_dbi dbi, uint32_t brand_id,
    const char *json, size_t max)
{
	uint8_t kb[4];

	if (brand_id == 0 || !json_text_ok(json, max))
		return SIGIL_EINVAL;
	sigil_be32_put(kb, brand_id);
	return rows_write(st, dbi, kb, 4, (const uint8_t *)json, strlen(json),
	    brand_id);
}

int
rows_walk_txn(MDB_txn *txn, MDB_dbi dbi, const uint8_t *start, size_t slen,
    size_t plen, step_fn step, void *ctx, int *stop)
{
	MDB_cursor *cur;
	MDB_val k = mval(start, slen), v;
	int rc;

	*stop = 0;
	if ((rc = mdb_cursor_open(txn, dbi, &cur)) != 0)
		return rc;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size < plen || memcmp(k.mv_data, start, plen) != 0)
			break;
		if ((*stop = step(k, v, ctx)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int
rows_walk(struct store *st, MDB_dbi dbi, const uint8_t *start, size_t slen,
    size_t plen, step_fn step, void *ctx)
{
	int rc, stop = 0;

	if (st->loyalty_absent)
		return 0;
	rc = STORE_READ(st, rows_walk_txn(txn, dbi, start, slen, plen, step,
	    ctx, &stop));
	return stop ? stop : rc;
}

int
rows_each(struct store *st, MDB_dbi dbi, const uint8_t *start, size_t slen,
    size_t plen, step_fn step, any_fn fn, void *arg)
{
	struct cb_ctx c = { fn, arg };

	return rows_walk(st, dbi, start, slen, plen, step, &c);
}
