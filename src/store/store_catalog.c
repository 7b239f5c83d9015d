/*
 * store_catalog.c - what a brand issues: brands, key metadata, products
 * and batches (serial ranges).
 *
 * Owns the tables brands, brand_names, keys, products, gtins, batches and
 * batch_ranges, their encodings (docs/storage.md) and the meta counters
 * next_brand, next_key, next_batch, next_serial/<brand> and
 * stat/codes_issued. A code is never a row here: a batch is a range of
 * serials, found by the range's last serial (batch_find).
 * May call: libc, jansson, LMDB, util.c and store_env.c (the runners and
 * the meta counters). Every other family reads a brand or a batch
 * through brand_load / batch_load / batch_find (store_impl.h).
 * Must never: call another table family (scans, trace, tokens, loyalty
 * are all above it), or trust its callers' text: every name is checked
 * here (text_ok), whatever the caller checked before.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <lmdb.h>

#include "sigil/code.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "store_impl.h"

/* Packed value sizes; layouts in docs/storage.md. */
#define KEY_REC_LEN		20
#define BATCH_FIXED_LEN		64

/* A name to look up: only bounded, since older data may hold any text. */
static int
lookup_ok(const char *s, size_t max_bytes)
{
	size_t n = s == NULL ? 0 : strnlen(s, max_bytes + 1);

	return n > 0 && n <= max_bytes;
}

/*
 * GS1 mod-10 over 14 digits. The store checks its own invariants rather
 * than trusting callers, and depends on no sigil module but util.
 */
static int
gtin14_ok(const char *g)
{
	int sum = 0;

	if (strnlen(g, 15) != 14)
		return 0;
	for (int i = 0; i < 14; i++)
		if (g[i] < '0' || g[i] > '9')
			return 0;
	for (int i = 0; i < 13; i++)
		sum += (g[i] - '0') * (i % 2 == 0 ? 3 : 1);
	return (10 - sum % 10) % 10 == g[13] - '0';
}

/*
 * Puts j as compact JSON text under k, a new key, and frees j; a NULL j
 * (json_pack refused the values) is SIGIL_EINVAL.
 */
static int
json_put(MDB_txn *txn, MDB_dbi dbi, MDB_val *k, json_t *j)
{
	char *text;
	MDB_val v;
	int rc;

	if (j == NULL)
		return SIGIL_EINVAL;
	text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (text == NULL)
		return SIGIL_ENOMEM;
	v = mval(text, strlen(text));
	rc = mdb_put(txn, dbi, k, &v, MDB_NOOVERWRITE);
	free(text);
	return rc;
}

/* ---- brands ---- */

/*
 * Brands and products are JSON in the file and decoded on every scan, but
 * change rarely. Decoding is a pure function of a record's key and value
 * bytes, so each thread keeps its last decodes (a few slots per table,
 * chosen by key) and reuses one when both are byte-identical: a changed
 * record has changed bytes, so a kept decode cannot go stale. LMDB never
 * stores an empty key, so a zeroed slot matches nothing.
 */
#define MEMO_SLOTS	8
#define MEMO_BYTES	1024

union memo_out {
	struct brand	b;
	struct product	p;
};

struct memo {
	size_t		klen, vlen;
	uint8_t		kv[MEMO_BYTES];
	union memo_out	out;
};

static _Thread_local struct memo brand_memo[MEMO_SLOTS];
static _Thread_local struct memo product_memo[MEMO_SLOTS];

static struct memo *
memo_slot(struct memo *tab, MDB_val k)
{
	const uint8_t *p = k.mv_data;
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < k.mv_size; i++)
		h = (h ^ p[i]) * 16777619u;
	return &tab[h % MEMO_SLOTS];
}

static int
memo_hit(const struct memo *m, MDB_val k, MDB_val v)
{
	return m->klen == k.mv_size && m->vlen == v.mv_size &&
	    memcmp(m->kv, k.mv_data, k.mv_size) == 0 &&
	    memcmp(m->kv + k.mv_size, v.mv_data, v.mv_size) == 0;
}

/*
 * The row under k in dbi, decoded through tab: the kept result when k
 * and its value are the bytes it was decoded from, else a fresh decode,
 * kept when the bytes fit. SIGIL_ENOTFOUND when there is no such row.
 */
static int
memo_get(MDB_txn *txn, MDB_dbi dbi, MDB_val k, struct memo *tab,
    int (*decode)(MDB_val, MDB_val, union memo_out *), union memo_out *out)
{
	struct memo *m = memo_slot(tab, k);
	MDB_val v;
	int rc;

	if ((rc = mdb_get(txn, dbi, &k, &v)) != 0)
		return map_err(rc);
	if (!memo_hit(m, k, v)) {
		m->klen = m->vlen = 0;
		if ((rc = decode(k, v, &m->out)) != 0)
			return rc;
		if (k.mv_size + v.mv_size <= MEMO_BYTES) {
			memcpy(m->kv, k.mv_data, k.mv_size);
			memcpy(m->kv + k.mv_size, v.mv_data, v.mv_size);
			m->klen = k.mv_size;
			m->vlen = v.mv_size;
		}
	}
	*out = m->out;
	return 0;
}

static int
brand_decode(uint32_t id, MDB_val v, struct brand *out)
{
	json_t *j = json_loadb(v.mv_data, v.mv_size, 0, NULL);
	json_t *name, *url, *created;
	struct brand b = { .id = id };
	int rc = SIGIL_EIO;

	if (j == NULL)
		return SIGIL_EIO;
	name = json_object_get(j, "name");
	url = json_object_get(j, "base_url");
	created = json_object_get(j, "created");
	if (!json_is_string(name) || !json_is_string(url) ||
	    !json_is_integer(created) ||
	    json_string_length(name) > STORE_NAME_BYTES ||
	    json_string_length(url) > STORE_URL_MAX)
		goto out;
	memcpy(b.name, json_string_value(name), json_string_length(name));
	memcpy(b.base_url, json_string_value(url), json_string_length(url));
	b.created = json_integer_value(created);
	*out = b;
	rc = 0;
out:
	json_decref(j);
	return rc;
}

static int
brand_decode_kv(MDB_val k, MDB_val v, union memo_out *out)
{
	return brand_decode(sigil_be32_get(k.mv_data), v, &out->b);
}

int
brand_load(struct store *st, MDB_txn *txn, uint32_t id, struct brand *out)
{
	uint8_t kb[4];
	union memo_out o;
	int rc;

	sigil_be32_put(kb, id);
	if ((rc = memo_get(txn, st->brands, mval(kb, 4), brand_memo,
	    brand_decode_kv, &o)) != 0)
		return rc;
	*out = o.b;
	return 0;
}

static int
brand_add_fn(struct store *st, MDB_txn *txn, void *arg)
{
	struct brand *b = arg;
	uint8_t kb[4];
	MDB_val k = mval(kb, 4), nk = mval(b->name, strlen(b->name)), v;
	uint64_t id;
	int rc;

	if ((rc = meta_next(st, txn, meta_key("next_brand"), 1, UINT32_MAX,
	    &id)) != 0)
		return rc;
	sigil_be32_put(kb, (uint32_t)id);
	v = mval(kb, 4);
	if ((rc = mdb_put(txn, st->brand_names, &nk, &v, MDB_NOOVERWRITE)))
		return rc;
	b->id = (uint32_t)id;
	return json_put(txn, st->brands, &k, json_pack("{s:s, s:s, s:I}",
	    "name", b->name, "base_url", b->base_url, "created",
	    (json_int_t)b->created));
}

int
store_brand_add(struct store *st, struct brand *b)
{
	struct brand work;

	if (!text_ok(b->name, sizeof(b->name), STORE_NAME_MAX, 0) ||
	    !text_ok(b->base_url, sizeof(b->base_url), STORE_URL_MAX, 0))
		return SIGIL_EINVAL;
	work = *b;
	work.created = sigil_now_us();
	return STORE_WRITE_OUT(st, brand_add_fn, &work, work, b);
}

int
store_brand_get(struct store *st, uint32_t id, struct brand *out)
{
	return STORE_READ(st, brand_load(st, txn, id, out));
}

static int
brand_by_name(struct store *st, MDB_txn *txn, const char *name,
    struct brand *out)
{
	uint32_t id;
	int rc;

	if ((rc = name_index_get(txn, st->brand_names, name, &id)) != 0)
		return rc;
	return brand_load(st, txn, id, out);
}

int
store_brand_find(struct store *st, const char *name, struct brand *out)
{
	if (!lookup_ok(name, STORE_NAME_BYTES))
		return SIGIL_ENOTFOUND;
	return STORE_READ(st, brand_by_name(st, txn, name, out));
}

static int
brand_each_load(const struct each_ctx *c, MDB_txn *txn, MDB_val k,
    MDB_val v, struct brand *b)
{
	(void)c;
	(void)txn;
	if (k.mv_size != 4)
		return MDB_NOTFOUND;	/* not a brand: the walk ends there */
	return brand_decode(sigil_be32_get(k.mv_data), v, b);
}

EACH_ROW(brand_row, struct brand, brand_each_load, 1)

int
store_brand_each(struct store *st,
    int (*fn)(void *arg, const struct brand *b), void *arg)
{
	struct each_ctx c = { st, 0, (any_fn)fn, arg };

	return store_walk(st, st->brands, WALK_FIRST, mval(NULL, 0),
	    brand_row, &c);
}

/* ---- keys ---- */

static int
key_decode(uint16_t id, MDB_val v, struct key_meta *out)
{
	const uint8_t *p = v.mv_data;

	if (v.mv_size != KEY_REC_LEN)
		return SIGIL_EIO;
	out->id = id;
	out->brand_id = le32_get(p);
	out->created = (int64_t)le64_get(p + 4);
	out->revoked = (int64_t)le64_get(p + 12);
	return 0;
}

static void
key_encode(const struct key_meta *k, uint8_t *p)
{
	le32_put(p, k->brand_id);
	le64_put(p + 4, (uint64_t)k->created);
	le64_put(p + 12, (uint64_t)k->revoked);
}

static int
key_load(struct store *st, MDB_txn *txn, uint16_t id, struct key_meta *out)
{
	uint8_t kb[2] = { (uint8_t)(id >> 8), (uint8_t)id };
	MDB_val k = mval(kb, 2), v;
	int rc;

	if ((rc = mdb_get(txn, st->keys, &k, &v)) != 0)
		return map_err(rc);
	return key_decode(id, v, out);
}

static int
key_add_fn(struct store *st, MDB_txn *txn, void *arg)
{
	struct key_meta *km = arg;
	uint8_t kb[2], vb[KEY_REC_LEN];
	MDB_val k = mval(kb, 2), v = mval(vb, KEY_REC_LEN);
	struct brand b;
	uint64_t id;
	int rc;

	if ((rc = brand_load(st, txn, km->brand_id, &b)) != 0)
		return rc;
	if ((rc = meta_next(st, txn, meta_key("next_key"), 1, CODE_KEY_ID_MAX,
	    &id)) != 0)
		return rc;
	km->id = (uint16_t)id;
	kb[0] = (uint8_t)(id >> 8);
	kb[1] = (uint8_t)id;
	key_encode(km, vb);
	return mdb_put(txn, st->keys, &k, &v, MDB_NOOVERWRITE);
}

int
store_key_add(struct store *st, uint32_t brand_id, struct key_meta *out)
{
	struct key_meta km = { .brand_id = brand_id };

	km.created = sigil_now_us();
	return STORE_WRITE_OUT(st, key_add_fn, &km, km, out);
}

int
store_key_get(struct store *st, uint16_t id, struct key_meta *out)
{
	return STORE_READ(st, key_load(st, txn, id, out));
}

static int
key_each_load(const struct each_ctx *c, MDB_txn *txn, MDB_val k, MDB_val v,
    struct key_meta *km)
{
	const uint8_t *kp = k.mv_data;

	(void)c;
	(void)txn;
	if (k.mv_size != 2)
		return MDB_NOTFOUND;	/* not a key: the walk ends there */
	return key_decode((uint16_t)(kp[0] << 8 | kp[1]), v, km);
}

EACH_ROW(key_row, struct key_meta, key_each_load, row.brand_id == c->brand_id)

/*
 * Walks the keys of brand_id from the newest (highest id) down. There are
 * at most 65535 keys in all, so no per-brand index is kept.
 */
static int
keys_walk(struct store *st, uint32_t brand_id, int newest_first,
    int (*fn)(void *arg, const struct key_meta *k), void *arg)
{
	struct each_ctx c = { st, brand_id, (any_fn)fn, arg };

	return store_walk(st, st->keys, newest_first ? WALK_LAST : WALK_FIRST,
	    mval(NULL, 0), key_row, &c);
}

static int
key_pick_current(void *arg, const struct key_meta *k)
{
	if (k->revoked != 0)
		return 0;
	*(struct key_meta *)arg = *k;
	return 1;
}

int
store_key_current(struct store *st, uint32_t brand_id, struct key_meta *out)
{
	struct key_meta km;
	int rc = keys_walk(st, brand_id, 1, key_pick_current, &km);

	if (rc == 0)
		return SIGIL_ENOTFOUND;
	if (rc < 0)
		return rc;
	*out = km;
	return 0;
}

static int
key_revoke_fn(struct store *st, MDB_txn *txn, void *arg)
{
	struct key_meta *km = arg;
	uint8_t kb[2] = { (uint8_t)(km->id >> 8), (uint8_t)km->id };
	uint8_t vb[KEY_REC_LEN];
	MDB_val k = mval(kb, 2), v = mval(vb, KEY_REC_LEN);
	int64_t when = km->revoked;
	int rc;

	if ((rc = key_load(st, txn, km->id, km)) != 0)
		return rc;
	if (km->revoked != 0)
		return SIGIL_ESTATE;
	km->revoked = when;
	key_encode(km, vb);
	return mdb_put(txn, st->keys, &k, &v, 0);
}

int
store_key_revoke(struct store *st, uint16_t id)
{
	struct key_meta km = { .id = id };

	km.revoked = sigil_now_us();
	return store_write(st, key_revoke_fn, &km);
}

int
store_key_each(struct store *st, uint32_t brand_id,
    int (*fn)(void *arg, const struct key_meta *k), void *arg)
{
	return keys_walk(st, brand_id, 0, fn, arg);
}

/* ---- products ---- */

static int
product_decode(MDB_val k, MDB_val v, struct product *out)
{
	struct product p = { 0 };
	json_t *j, *name, *gtin, *maxs, *gs1, *created;
	size_t skulen = k.mv_size - 4;
	int rc = SIGIL_EIO;

	if (k.mv_size < 5 || skulen > STORE_NAME_BYTES)
		return SIGIL_EIO;
	if ((j = json_loadb(v.mv_data, v.mv_size, 0, NULL)) == NULL)
		return SIGIL_EIO;
	name = json_object_get(j, "name");
	gtin = json_object_get(j, "gtin");
	maxs = json_object_get(j, "max_scanners");
	gs1 = json_object_get(j, "gs1_form");
	created = json_object_get(j, "created");
	if (!json_is_string(name) || !json_is_string(gtin) ||
	    !json_is_integer(maxs) || !json_is_boolean(gs1) ||
	    !json_is_integer(created) ||
	    json_string_length(name) > STORE_TEXT_BYTES ||
	    json_string_length(gtin) > 14)
		goto out;
	p.brand_id = sigil_be32_get(k.mv_data);
	memcpy(p.sku, (const char *)k.mv_data + 4, skulen);
	memcpy(p.name, json_string_value(name), json_string_length(name));
	memcpy(p.gtin, json_string_value(gtin), json_string_length(gtin));
	p.max_scanners = (uint32_t)json_integer_value(maxs);
	p.gs1_form = json_is_true(gs1);
	p.created = json_integer_value(created);
	*out = p;
	rc = 0;
out:
	json_decref(j);
	return rc;
}

static int
product_decode_kv(MDB_val k, MDB_val v, union memo_out *out)
{
	return product_decode(k, v, &out->p);
}

static int
product_load(struct store *st, MDB_txn *txn, uint32_t brand_id,
    const char *sku, struct product *out)
{
	uint8_t kb[4 + STORE_NAME_BYTES];
	size_t n = strlen(sku);
	union memo_out o;
	int rc;

	sigil_be32_put(kb, brand_id);
	memcpy(kb + 4, sku, n);
	if ((rc = memo_get(txn, st->products, mval(kb, 4 + n), product_memo,
	    product_decode_kv, &o)) != 0)
		return rc;
	*out = o.p;
	return 0;
}

/*
 * The product key (brand ‖ sku) of brand_id's product with GTIN gtin14 in
 * pk, or SIGIL_ENOTFOUND. GTINs are per brand: rows are keyed brand_id
 * BE32 ‖ GTIN (18 bytes). Rows written before December 2026 are keyed by
 * the 14 digits alone; such a row counts only for the brand its value
 * names, so another brand learns nothing from it and is not blocked.
 */
static int
gtin_lookup(struct store *st, MDB_txn *txn, uint32_t brand_id,
    const char *gtin14, MDB_val *pk)
{
	uint8_t gb[4 + 14];
	MDB_val gk = mval(gb, sizeof gb);
	int rc;

	sigil_be32_put(gb, brand_id);
	memcpy(gb + 4, gtin14, 14);
	if ((rc = mdb_get(txn, st->gtins, &gk, pk)) != MDB_NOTFOUND)
		return rc == 0 ? 0 : map_err(rc);
	gk = mval(gtin14, 14);
	if ((rc = mdb_get(txn, st->gtins, &gk, pk)) != 0)
		return map_err(rc);
	if (pk->mv_size < 5 || sigil_be32_get(pk->mv_data) != brand_id)
		return SIGIL_ENOTFOUND;
	return 0;
}

static int
product_add_fn(struct store *st, MDB_txn *txn, void *arg)
{
	struct product *p = arg;
	uint8_t kb[4 + STORE_NAME_BYTES];
	size_t n = strlen(p->sku);
	MDB_val k = mval(kb, 4 + n), gk, v;
	struct brand b;
	int rc;

	if ((rc = brand_load(st, txn, p->brand_id, &b)) != 0)
		return rc;
	sigil_be32_put(kb, p->brand_id);
	memcpy(kb + 4, p->sku, n);
	if (p->gtin[0]) {
		uint8_t gb[4 + 14];

		if ((rc = gtin_lookup(st, txn, p->brand_id, p->gtin, &v)) !=
		    SIGIL_ENOTFOUND)
			return rc == 0 ? SIGIL_EEXIST : rc;
		sigil_be32_put(gb, p->brand_id);
		memcpy(gb + 4, p->gtin, 14);
		gk = mval(gb, sizeof gb);
		v = k;
		if ((rc = mdb_put(txn, st->gtins, &gk, &v, MDB_NOOVERWRITE)))
			return rc;
	}
	return json_put(txn, st->products, &k, json_pack(
	    "{s:s, s:s, s:I, s:b, s:I}", "name", p->name, "gtin", p->gtin,
	    "max_scanners", (json_int_t)p->max_scanners, "gs1_form",
	    p->gs1_form != 0, "created", (json_int_t)p->created));
}

int
store_product_add(struct store *st, struct product *p)
{
	struct product work;

	if (!text_ok(p->sku, sizeof(p->sku), STORE_NAME_MAX, 0) ||
	    !text_ok(p->name, sizeof(p->name), STORE_TEXT_MAX, 0) ||
	    (strnlen(p->gtin, sizeof(p->gtin)) != 0 && !gtin14_ok(p->gtin)) ||
	    p->max_scanners == 0 || p->max_scanners > STORE_SCANNERS_MAX)
		return SIGIL_EINVAL;
	work = *p;
	work.created = sigil_now_us();
	return STORE_WRITE_OUT(st, product_add_fn, &work, work, p);
}

int
store_product_get(struct store *st, uint32_t brand_id, const char *sku,
    struct product *out)
{
	if (!lookup_ok(sku, STORE_NAME_BYTES))
		return SIGIL_ENOTFOUND;
	return STORE_READ(st, product_load(st, txn, brand_id, sku, out));
}

/* A products row of the walk's brand; after (the arg) itself is passed. */
static int
product_each_load(const struct each_ctx *c, MDB_txn *txn, MDB_val k,
    MDB_val v, struct product *p)
{
	(void)txn;
	if (k.mv_size < 5 || sigil_be32_get(k.mv_data) != c->brand_id)
		return MDB_NOTFOUND;
	return product_decode(k, v, p);
}

struct product_walk {
	struct each_ctx	 c;
	const char	*after;
};

static int
product_row(void *ctx, MDB_txn *txn, MDB_val k, MDB_val v, int *stop)
{
	const struct product_walk *w = ctx;
	struct product p;
	int rc = product_each_load(&w->c, txn, k, v, &p);

	if (rc == 0 && strcmp(p.sku, w->after) != 0)
		*stop = ((int (*)(void *, const struct product *))w->c.fn)(
		    w->c.arg, &p);
	return rc;
}

int
store_product_each(struct store *st, uint32_t brand_id, const char *after,
    int (*fn)(void *arg, const struct product *p), void *arg)
{
	struct product_walk w = { { st, brand_id, (any_fn)fn, arg },
	    after == NULL ? "" : after };
	uint8_t kb[4 + STORE_NAME_BYTES];
	size_t n = strnlen(w.after, STORE_NAME_BYTES + 1);

	if (n > STORE_NAME_BYTES)
		return SIGIL_EINVAL;
	sigil_be32_put(kb, brand_id);
	memcpy(kb + 4, w.after, n);
	return store_walk(st, st->products, WALK_RANGE, mval(kb, 4 + n),
	    product_row, &w);
}

/* Rewrites the name and max_scanners of an existing product. */
static int
product_update_fn(struct store *st, MDB_txn *txn, void *arg)
{
	struct product *p = arg;
	struct product old;
	uint8_t kb[4 + STORE_NAME_BYTES];
	size_t n = strlen(p->sku);
	MDB_val k = mval(kb, 4 + n), v;
	json_t *j;
	char *text;
	int rc;

	if ((rc = product_load(st, txn, p->brand_id, p->sku, &old)) != 0)
		return rc;
	if (p->name[0] == '\0')
		memcpy(p->name, old.name, sizeof p->name);
	if (p->max_scanners == 0)
		p->max_scanners = old.max_scanners;
	memcpy(p->gtin, old.gtin, sizeof p->gtin);
	p->gs1_form = old.gs1_form;
	p->created = old.created;
	sigil_be32_put(kb, p->brand_id);
	memcpy(kb + 4, p->sku, n);
	if ((j = json_pack("{s:s, s:s, s:I, s:b, s:I}", "name", p->name,
	    "gtin", p->gtin, "max_scanners", (json_int_t)p->max_scanners,
	    "gs1_form", p->gs1_form != 0, "created",
	    (json_int_t)p->created)) == NULL)
		return SIGIL_EINVAL;
	text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (text == NULL)
		return SIGIL_ENOMEM;
	v = mval(text, strlen(text));
	rc = mdb_put(txn, st->products, &k, &v, 0);
	free(text);
	return rc;
}

int
store_product_update(struct store *st, struct product *p)
{
	struct product work;

	if (!lookup_ok(p->sku, STORE_NAME_BYTES) ||
	    (p->name[0] != '\0' &&
	    !text_ok(p->name, sizeof(p->name), STORE_TEXT_MAX, 0)) ||
	    p->max_scanners > STORE_SCANNERS_MAX)
		return SIGIL_EINVAL;
	work = *p;
	return STORE_WRITE_OUT(st, product_update_fn, &work, work, p);
}

static int
gtin_holders(struct store *st, MDB_txn *txn, const char *g, uint32_t *out,
    size_t max, size_t *n)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;

	*n = 0;
	if ((rc = mdb_cursor_open(txn, st->gtins, &cur)) != 0)
		return map_err(rc);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		uint32_t b;
		size_t i;

		/* brand ‖ GTIN, or (before December 2026) the GTIN alone
		 * with brand ‖ sku as its value: see gtin_lookup(). */
		if (k.mv_size == 18 && memcmp((const char *)k.mv_data + 4, g,
		    14) == 0)
			b = sigil_be32_get(k.mv_data);
		else if (k.mv_size == 14 && memcmp(k.mv_data, g, 14) == 0 &&
		    v.mv_size >= 5)
			b = sigil_be32_get(v.mv_data);
		else
			continue;
		for (i = 0; i < *n && i < max; i++)
			if (out[i] == b)
				break;
		if (i < *n && i < max)
			continue;
		if (*n < max)
			out[*n] = b;
		(*n)++;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : map_err(rc);
}

int
store_gtin_holders(struct store *st, const char *gtin14, uint32_t *out,
    size_t max, size_t *n)
{
	*n = 0;
	if (gtin14 == NULL || strnlen(gtin14, 15) != 14)
		return 0;
	return STORE_READ(st, gtin_holders(st, txn, gtin14, out, max, n));
}

static int
product_by_gtin(struct store *st, MDB_txn *txn, uint32_t brand_id,
    const char *gtin14, struct product *out)
{
	MDB_val pk, v;
	int rc;

	if ((rc = gtin_lookup(st, txn, brand_id, gtin14, &pk)) != 0 ||
	    (rc = mdb_get(txn, st->products, &pk, &v)) != 0)
		return rc;
	return product_decode(pk, v, out);
}

int
store_product_find_gtin(struct store *st, uint32_t brand_id,
    const char *gtin14, struct product *out)
{
	if (gtin14 == NULL || strnlen(gtin14, 15) != 14)
		return SIGIL_ENOTFOUND;
	return STORE_READ(st, product_by_gtin(st, txn, brand_id, gtin14, out));
}

/* ---- batches ---- */

static void
batch_encode(const struct batch *b, uint8_t *p, size_t *len)
{
	size_t sl = strlen(b->sku), ll = strlen(b->lot);

	memset(p, 0, BATCH_FIXED_LEN);
	le32_put(p, b->brand_id);
	le16_put(p + 4, b->key_id);
	p[6] = (uint8_t)b->state;
	p[7] = (uint8_t)sl;	/* the SKU's length, high byte in p[9] */
	p[9] = (uint8_t)(sl >> 8);
	p[8] = (uint8_t)ll;
	le64_put(p + 16, b->first_serial);
	le64_put(p + 24, b->count);
	le64_put(p + 32, (uint64_t)b->expires);
	le64_put(p + 40, (uint64_t)b->created);
	le64_put(p + 48, (uint64_t)b->activated);
	le64_put(p + 56, (uint64_t)b->revoked);
	memcpy(p + BATCH_FIXED_LEN, b->sku, sl);
	memcpy(p + BATCH_FIXED_LEN + sl, b->lot, ll);
	*len = BATCH_FIXED_LEN + sl + ll;
}

static int
batch_decode(uint64_t id, MDB_val v, struct batch *out)
{
	const uint8_t *p = v.mv_data;
	struct batch b = { .id = id };
	size_t sl, ll;

	if (v.mv_size < BATCH_FIXED_LEN)
		return SIGIL_EIO;
	sl = (size_t)p[9] << 8 | p[7];
	ll = p[8];
	if (sl > STORE_NAME_BYTES || ll > STORE_LOT_MAX || p[6] > BATCH_REVOKED ||
	    v.mv_size != BATCH_FIXED_LEN + sl + ll)
		return SIGIL_EIO;
	b.brand_id = le32_get(p);
	b.key_id = le16_get(p + 4);
	b.state = p[6];
	b.first_serial = le64_get(p + 16);
	b.count = le64_get(p + 24);
	b.expires = (int64_t)le64_get(p + 32);
	b.created = (int64_t)le64_get(p + 40);
	b.activated = (int64_t)le64_get(p + 48);
	b.revoked = (int64_t)le64_get(p + 56);
	memcpy(b.sku, p + BATCH_FIXED_LEN, sl);
	memcpy(b.lot, p + BATCH_FIXED_LEN + sl, ll);
	*out = b;
	return 0;
}

int
batch_load(struct store *st, MDB_txn *txn, uint64_t id, struct batch *out)
{
	MDB_val v;
	int rc;

	if ((rc = id_get(txn, st->batches, id, &v)) != 0)
		return map_err(rc);
	return batch_decode(id, v, out);
}

static int
batch_put(struct store *st, MDB_txn *txn, const struct batch *b,
    unsigned flags)
{
	uint8_t kb[8], vb[BATCH_FIXED_LEN + STORE_NAME_BYTES + STORE_LOT_MAX];
	MDB_val k = mval(kb, 8), v;
	size_t len;

	sigil_be64_put(kb, b->id);
	batch_encode(b, vb, &len);
	v = mval(vb, len);
	return mdb_put(txn, st->batches, &k, &v, flags);
}

static int
batch_new_fn(struct store *st, MDB_txn *txn, void *arg)
{
	struct batch *b = arg;
	uint8_t sk[12 + 4], rk[12], rv[8];
	MDB_val k, v;
	struct product p;
	struct key_meta km;
	uint64_t id, first;
	int rc;

	if ((rc = product_load(st, txn, b->brand_id, b->sku, &p)) != 0)
		return rc;
	if ((rc = key_load(st, txn, b->key_id, &km)) != 0)
		return rc;
	if (km.brand_id != b->brand_id)
		return SIGIL_EINVAL;
	if (km.revoked != 0)
		return SIGIL_ESTATE;
	/* Batch ids fit 32 bits in the scan log (docs/storage.md). */
	if ((rc = meta_next(st, txn, meta_key("next_batch"), 1, UINT32_MAX,
	    &id)) != 0)
		return rc;
	memcpy(sk, "next_serial/", 12);
	sigil_be32_put(sk + 12, b->brand_id);
	if ((rc = meta_next(st, txn, mval(sk, 16), b->count, CODE_SERIAL_MAX,
	    &first)) != 0)
		return rc;
	b->id = id;
	b->first_serial = first;
	if ((rc = batch_put(st, txn, b, MDB_NOOVERWRITE)) != 0)
		return rc;
	sigil_be32_put(rk, b->brand_id);
	sigil_be64_put(rk + 4, first + b->count - 1);
	sigil_be64_put(rv, id);
	k = mval(rk, 12);
	v = mval(rv, 8);
	if ((rc = mdb_put(txn, st->batch_ranges, &k, &v, MDB_NOOVERWRITE)))
		return rc;
	return meta_add(st, txn, "stat/codes_issued", b->count);
}

int
store_batch_new(struct store *st, struct batch *b)
{
	struct batch work;

	if (!text_ok(b->sku, sizeof(b->sku), STORE_NAME_MAX, 0) ||
	    !text_ok(b->lot, sizeof(b->lot), STORE_LOT_MAX, 1) ||
	    b->count == 0 || b->count > CODE_SERIAL_MAX || b->expires < 0)
		return SIGIL_EINVAL;
	work = *b;
	work.state = BATCH_INACTIVE;
	work.created = sigil_now_us();
	work.activated = work.revoked = 0;
	return STORE_WRITE_OUT(st, batch_new_fn, &work, work, b);
}

int
store_batch_get(struct store *st, uint64_t id, struct batch *out)
{
	return STORE_READ(st, batch_load(st, txn, id, out));
}

int
batch_find(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t serial, struct batch *out)
{
	uint8_t kb[12];
	MDB_val k = mval(kb, 12), v;
	MDB_cursor *cur;
	struct batch b;
	int rc;

	sigil_be32_put(kb, brand_id);
	sigil_be64_put(kb + 4, serial);
	if ((rc = mdb_cursor_open(txn, st->batch_ranges, &cur)) != 0)
		return map_err(rc);
	/* The first range whose last serial is >= serial. */
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	if (rc == 0 && (k.mv_size != 12 || v.mv_size != 8))
		rc = SIGIL_EIO;
	else if (rc == 0 && sigil_be32_get(k.mv_data) != brand_id)
		rc = SIGIL_ENOTFOUND;
	else if (rc == 0)
		rc = batch_load(st, txn, sigil_be64_get(v.mv_data), &b);
	mdb_cursor_close(cur);
	if (rc != 0)
		return map_err(rc);
	if (b.brand_id != brand_id || serial < b.first_serial)
		return SIGIL_ENOTFOUND;
	*out = b;
	return 0;
}

int
store_batch_find_serial(struct store *st, uint32_t brand_id,
    uint64_t serial, struct batch *out)
{
	if (serial == 0 || serial > CODE_SERIAL_MAX)
		return SIGIL_ENOTFOUND;
	return STORE_READ(st, batch_find(st, txn, brand_id, serial, out));
}

struct batch_state_arg {
	uint64_t	id;
	int		state;
	int64_t		now;
};

static int
batch_state_fn(struct store *st, MDB_txn *txn, void *arg)
{
	struct batch_state_arg *a = arg;
	struct batch b;
	int rc;

	if ((rc = batch_load(st, txn, a->id, &b)) != 0)
		return rc;
	if (a->state == BATCH_ACTIVE && b.state == BATCH_INACTIVE)
		b.activated = a->now;
	else if (a->state == BATCH_REVOKED && b.state != BATCH_REVOKED)
		b.revoked = a->now;
	else
		return SIGIL_ESTATE;
	b.state = a->state;
	return batch_put(st, txn, &b, 0);
}

int
store_batch_set_state(struct store *st, uint64_t id, int state)
{
	struct batch_state_arg a = { id, state, sigil_now_us() };

	if (state != BATCH_ACTIVE && state != BATCH_REVOKED)
		return state == BATCH_INACTIVE ? SIGIL_ESTATE : SIGIL_EINVAL;
	return store_write(st, batch_state_fn, &a);
}

/* A batch_ranges row (brand || last serial -> id): the brand's batch. */
static int
batch_each_load(const struct each_ctx *c, MDB_txn *txn, MDB_val k,
    MDB_val v, struct batch *b)
{
	if (k.mv_size != 12 || v.mv_size != 8)
		return SIGIL_EIO;
	if (sigil_be32_get(k.mv_data) != c->brand_id)
		return MDB_NOTFOUND;
	return batch_load(c->st, txn, sigil_be64_get(v.mv_data), b);
}

EACH_ROW(batch_row, struct batch, batch_each_load, 1)

int
store_batch_each(struct store *st, uint32_t brand_id,
    int (*fn)(void *arg, const struct batch *b), void *arg)
{
	struct each_ctx c = { st, brand_id, (any_fn)fn, arg };
	uint8_t kb[12] = { 0 };

	sigil_be32_put(kb, brand_id);
	return store_walk(st, st->batch_ranges, WALK_RANGE, mval(kb, 12),
	    batch_row, &c);
}

/* The walk of store_batch_page: ids past the cursor only. */
struct batch_walk {
	struct each_ctx	 c;
	uint64_t	 cursor;
	int		 newest;
};

static int
batch_page_row(void *ctx, MDB_txn *txn, MDB_val k, MDB_val v, int *stop)
{
	const struct batch_walk *w = ctx;
	struct batch b;
	int rc = batch_each_load(&w->c, txn, k, v, &b);

	if (rc == 0 && (w->cursor == 0 || (w->newest ? b.id < w->cursor :
	    b.id > w->cursor)))
		*stop = ((int (*)(void *, const struct batch *))w->c.fn)(
		    w->c.arg, &b);
	return rc;
}

int
store_batch_page(struct store *st, uint32_t brand_id, uint64_t cursor,
    int newest, int (*fn)(void *arg, const struct batch *b), void *arg)
{
	struct batch_walk w = { { st, brand_id, (any_fn)fn, arg }, cursor,
	    newest };
	uint8_t kb[12];
	struct batch b;
	uint64_t from = newest ? UINT64_MAX : 0;

	/* Seek to the cursor's range when it is one of the brand's. */
	if (cursor != 0 && store_batch_get(st, cursor, &b) == 0 &&
	    b.brand_id == brand_id)
		from = newest ? b.first_serial + b.count - 1 :
		    b.first_serial + b.count;
	sigil_be32_put(kb, brand_id);
	sigil_be64_put(kb + 4, from);
	if (newest)
		return store_walk_before(st, st->batch_ranges, mval(kb, 12),
		    batch_page_row, &w);
	return store_walk(st, st->batch_ranges, WALK_RANGE, mval(kb, 12),
	    batch_page_row, &w);
}
