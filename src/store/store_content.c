/*
 * store_content.c - a brand's landing-page content: documents per brand,
 * product or batch and language (content), and the images they show
 * (images).
 *
 * content: brand BE32 || kind u8 || subject || lang -> updated LE64 ||
 * the document's bytes. The subject is nothing for the brand, the SKU
 * and a NUL for a product, the batch id BE64 for a batch; the language
 * tag is last, so one subject's languages are one key range. The store
 * does not read the documents: content.c checks them and writes
 * canonical JSON.
 *
 * images: brand BE32 || hash (20 bytes of SHA-256 of the bytes) -> type
 * u8 || created LE64 || the bytes (at most 2 MiB: LMDB keeps them in
 * overflow pages). The key brand BE32 alone holds the brand's usage,
 * count LE64 || bytes LE64, written in the same transaction as every
 * image put or delete, so the per-brand limit is checked against a
 * total that cannot drift. The same bytes uploaded twice are one image.
 *
 * Owns the tables content and images. May call store_env.c's runner,
 * snapshot and walks, and util.c; never another family's file.
 */
#include <string.h>

#include <lmdb.h>

#include "sigil/store.h"
#include "sigil/util.h"
#include "store_impl.h"

#define CONTENT_KEY_MAX	(4 + 1 + STORE_NAME_BYTES + 1 + STORE_LANG_MAX)
#define IMAGE_KEY_LEN	(4 + STORE_IMAGE_HASH_LEN)
#define IMAGE_HEAD_LEN	9
#define USAGE_LEN	16

/* ---- content documents ---- */

/* The key without its language: brand || kind || subject. 0 if bad. */
static size_t
subject_key(const struct content_key *k, uint8_t *p)
{
	size_t n = 5, sl;

	sigil_be32_put(p, k->brand_id);
	p[4] = (uint8_t)k->kind;
	switch (k->kind) {
	case CONTENT_BRAND:
		return n;
	case CONTENT_PRODUCT:
		sl = strnlen(k->sku, sizeof k->sku);
		if (sl == 0 || sl > STORE_NAME_BYTES)
			return 0;
		memcpy(p + n, k->sku, sl);
		p[n + sl] = 0;
		return n + sl + 1;
	case CONTENT_BATCH:
		if (k->batch_id == 0)
			return 0;
		sigil_be64_put(p + n, k->batch_id);
		return n + 8;
	}
	return 0;
}

/* The whole key; 0 if bad. */
static size_t
content_key_put(const struct content_key *k, uint8_t *p)
{
	size_t n = subject_key(k, p), ll = strnlen(k->lang, sizeof k->lang);

	if (n == 0 || ll == 0 || ll > STORE_LANG_MAX ||
	    memchr(k->lang, 0, ll) != NULL)
		return 0;
	memcpy(p + n, k->lang, ll);
	return n + ll;
}

/* A stored row back into doc (its key parsed against the subject's). */
static int
content_decode(MDB_val k, MDB_val v, size_t subject_len,
    const uint8_t *kb, int keys_only, struct content_doc *doc)
{
	const uint8_t *p = k.mv_data;
	size_t ll = k.mv_size - subject_len;

	if (v.mv_size < 8 || v.mv_size - 8 > STORE_CONTENT_DOC_MAX ||
	    ll == 0 || ll > STORE_LANG_MAX)
		return SIGIL_EIO;
	memset(&doc->key, 0, sizeof doc->key);
	doc->key.brand_id = sigil_be32_get(p);
	doc->key.kind = p[4];
	if (p[4] == CONTENT_PRODUCT)
		memcpy(doc->key.sku, kb + 5, subject_len - 6);
	else if (p[4] == CONTENT_BATCH)
		doc->key.batch_id = sigil_be64_get(kb + 5);
	memcpy(doc->key.lang, p + subject_len, ll);
	doc->updated = (int64_t)le64_get(v.mv_data);
	doc->len = v.mv_size - 8;
	if (keys_only)
		doc->len = 0;
	memcpy(doc->text, (const uint8_t *)v.mv_data + 8, doc->len);
	doc->text[doc->len] = '\0';
	return 0;
}

struct put_arg {
	const struct content_doc *doc;
	int64_t		updated;
};

/* Languages already stored under the subject prefix p[0..n). */
static int
langs_count(MDB_txn *txn, MDB_dbi dbi, const uint8_t *p, size_t n,
    size_t *out)
{
	MDB_cursor *cur;
	MDB_val k = mval(p, n), v;
	int rc;

	*out = 0;
	if ((rc = mdb_cursor_open(txn, dbi, &cur)) != 0)
		return rc;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size <= n || memcmp(k.mv_data, p, n) != 0)
			break;
		/* A product "A" must not count product "A\0..." rows: the
		 * NUL ends the SKU, so the prefix is exact. */
		(*out)++;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND || rc == 0 ? 0 : rc;
}

static int
content_put_fn(struct store *st, MDB_txn *txn, void *arg)
{
	struct put_arg *a = arg;
	uint8_t kb[CONTENT_KEY_MAX], vb[8 + STORE_CONTENT_DOC_MAX];
	size_t kn = content_key_put(&a->doc->key, kb);
	size_t sn = subject_key(&a->doc->key, kb), langs;
	MDB_val k = mval(kb, kn), v;
	int rc;

	rc = mdb_get(txn, st->content, &k, &v);
	if (rc == MDB_NOTFOUND) {
		if ((rc = langs_count(txn, st->content, kb, sn, &langs)) != 0)
			return rc;
		if (langs >= STORE_CONTENT_PER_SUBJECT)
			return SIGIL_EFULL;
	} else if (rc != 0) {
		return rc;
	}
	le64_put(vb, (uint64_t)a->updated);
	memcpy(vb + 8, a->doc->text, a->doc->len);
	v = mval(vb, 8 + a->doc->len);
	return mdb_put(txn, st->content, &k, &v, 0);
}

int
store_content_put(struct store *st, struct content_doc *doc)
{
	uint8_t kb[CONTENT_KEY_MAX];
	struct put_arg a = { doc, sigil_now_us() };
	int rc;

	if (doc == NULL || content_key_put(&doc->key, kb) == 0 ||
	    doc->len == 0 || doc->len > STORE_CONTENT_DOC_MAX)
		return SIGIL_EINVAL;
	if (st->flags & STORE_RDONLY)
		return SIGIL_EDENIED;
	if ((rc = store_write(st, content_put_fn, &a)) == 0)
		doc->updated = a.updated;
	return rc;
}

static int
content_get_in(struct store *st, MDB_txn *txn, const struct content_key *k,
    struct content_doc *out)
{
	uint8_t kb[CONTENT_KEY_MAX];
	size_t kn = content_key_put(k, kb), sn = subject_key(k, kb);
	MDB_val key = mval(kb, kn), v;
	int rc;

	if ((rc = mdb_get(txn, st->content, &key, &v)) != 0)
		return rc;
	return content_decode(key, v, sn, kb, 0, out);
}

int
store_content_get(struct store *st, const struct content_key *k,
    struct content_doc *out)
{
	uint8_t kb[CONTENT_KEY_MAX];

	if (k == NULL || content_key_put(k, kb) == 0 || st->content_absent)
		return SIGIL_ENOTFOUND;
	return STORE_READ(st, content_get_in(st, txn, k, out));
}

static int
content_del_fn(struct store *st, MDB_txn *txn, void *arg)
{
	uint8_t kb[CONTENT_KEY_MAX];
	MDB_val k = mval(kb, content_key_put(arg, kb));

	return mdb_del(txn, st->content, &k, NULL);
}

int
store_content_del(struct store *st, const struct content_key *k)
{
	uint8_t kb[CONTENT_KEY_MAX];

	if (k == NULL || content_key_put(k, kb) == 0)
		return SIGIL_ENOTFOUND;
	if (st->flags & STORE_RDONLY)
		return SIGIL_EDENIED;
	return store_write(st, content_del_fn, (void *)k);
}

/* A walk over keys starting with prefix[0..n). */
struct content_walk {
	const uint8_t	*prefix;
	size_t		 n;
	int		 whole_brand;	/* subjects vary: parse each key */
	int		 keys_only;	/* the languages: no text copied */
	int		(*fn)(void *arg, const struct content_doc *doc);
	void		*arg;
	struct content_doc doc;
};

/* Where the language starts in a key of this brand; 0 if malformed. */
static size_t
key_subject_len(MDB_val k)
{
	const uint8_t *p = k.mv_data, *nul;

	if (k.mv_size < 6)
		return 0;
	switch (p[4]) {
	case CONTENT_BRAND:
		return 5;
	case CONTENT_PRODUCT:
		nul = memchr(p + 5, 0, k.mv_size - 5);
		return nul != NULL && nul > p + 5 ? (size_t)(nul - p) + 1 : 0;
	case CONTENT_BATCH:
		return k.mv_size > 13 ? 13 : 0;
	}
	return 0;
}

static int
content_row(void *ctx, MDB_txn *txn, MDB_val k, MDB_val v, int *stop)
{
	struct content_walk *w = ctx;
	size_t sn;
	int rc;

	(void)txn;
	if (k.mv_size <= w->n || memcmp(k.mv_data, w->prefix, w->n) != 0)
		return MDB_NOTFOUND;
	sn = w->whole_brand ? key_subject_len(k) : w->n;
	if (sn == 0 || sn >= k.mv_size)
		return SIGIL_EIO;
	if ((rc = content_decode(k, v, sn, k.mv_data, w->keys_only,
	    &w->doc)) != 0)
		return rc;
	*stop = w->fn(w->arg, &w->doc);
	return 0;
}

static int
content_walk_run(struct store *st, struct content_walk *w)
{
	int rc;

	rc = store_walk(st, st->content, WALK_RANGE, mval(w->prefix, w->n),
	    content_row, w);
	return rc;
}

int
store_content_langs(struct store *st, const struct content_key *k,
    int (*fn)(void *arg, const struct content_doc *doc), void *arg)
{
	uint8_t kb[CONTENT_KEY_MAX];
	struct content_walk *w;
	size_t n;
	int rc;

	if (k == NULL || (n = subject_key(k, kb)) == 0 || st->content_absent)
		return 0;
	if ((w = malloc(sizeof *w)) == NULL)
		return SIGIL_ENOMEM;
	w->prefix = kb;
	w->n = n;
	w->whole_brand = 0;
	w->keys_only = 1;
	w->fn = fn;
	w->arg = arg;
	rc = content_walk_run(st, w);
	free(w);
	return rc;
}

int
store_content_each(struct store *st, uint32_t brand_id,
    int (*fn)(void *arg, const struct content_doc *doc), void *arg)
{
	uint8_t kb[4];
	struct content_walk *w;
	int rc;

	if (st->content_absent)
		return 0;
	if ((w = malloc(sizeof *w)) == NULL)
		return SIGIL_ENOMEM;
	sigil_be32_put(kb, brand_id);
	w->prefix = kb;
	w->n = 4;
	w->whole_brand = 1;
	w->keys_only = 0;
	w->fn = fn;
	w->arg = arg;
	rc = content_walk_run(st, w);
	free(w);
	return rc;
}

/* ---- images ---- */

static uint64_t
images_limit(void)
{
	return (uint64_t)env_size("SIGIL_IMAGES_BRAND_MAX",
	    (size_t)STORE_IMAGES_BRAND_MAX, 1, (size_t)1 << 40);
}

static int
usage_load(struct store *st, MDB_txn *txn, uint32_t brand_id,
    struct image_usage *u)
{
	uint8_t kb[4];
	MDB_val k = mval(kb, 4), v;
	int rc;

	sigil_be32_put(kb, brand_id);
	memset(u, 0, sizeof *u);
	u->limit = images_limit();
	if ((rc = mdb_get(txn, st->images, &k, &v)) == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (v.mv_size != USAGE_LEN)
		return SIGIL_EIO;
	u->count = le64_get(v.mv_data);
	u->bytes = le64_get((const uint8_t *)v.mv_data + 8);
	return 0;
}

static int
usage_store(struct store *st, MDB_txn *txn, uint32_t brand_id,
    const struct image_usage *u)
{
	uint8_t kb[4], vb[USAGE_LEN];
	MDB_val k = mval(kb, 4), v = mval(vb, USAGE_LEN);

	sigil_be32_put(kb, brand_id);
	if (u->count == 0)
		return mdb_del(txn, st->images, &k, NULL) == MDB_NOTFOUND ? 0 :
		    SIGIL_EIO;
	le64_put(vb, u->count);
	le64_put(vb + 8, u->bytes);
	return mdb_put(txn, st->images, &k, &v, 0);
}

static int
image_meta_decode(MDB_val k, MDB_val v, struct image_meta *m)
{
	const uint8_t *p = v.mv_data;

	if (k.mv_size != IMAGE_KEY_LEN || v.mv_size <= IMAGE_HEAD_LEN ||
	    v.mv_size - IMAGE_HEAD_LEN > STORE_IMAGE_MAX)
		return SIGIL_EIO;
	m->brand_id = sigil_be32_get(k.mv_data);
	memcpy(m->hash, (const uint8_t *)k.mv_data + 4, STORE_IMAGE_HASH_LEN);
	m->type = p[0];
	m->created = (int64_t)le64_get(p + 1);
	m->bytes = v.mv_size - IMAGE_HEAD_LEN;
	return 0;
}

struct image_put_arg {
	const struct image_meta	*m;
	const uint8_t		*data;
	int64_t			 created;
	int			 existed;
};

static int
image_put_fn(struct store *st, MDB_txn *txn, void *arg)
{
	struct image_put_arg *a = arg;
	const struct image_meta *m = a->m;
	uint8_t kb[IMAGE_KEY_LEN];
	MDB_val k = mval(kb, IMAGE_KEY_LEN), v;
	struct image_meta old;
	struct image_usage u;
	int rc;

	a->existed = 0;
	sigil_be32_put(kb, m->brand_id);
	memcpy(kb + 4, m->hash, STORE_IMAGE_HASH_LEN);
	rc = mdb_get(txn, st->images, &k, &v);
	if (rc == 0) {
		if ((rc = image_meta_decode(k, v, &old)) != 0)
			return rc;
		a->existed = 1;
		a->created = old.created;
		return 0;
	}
	if (rc != MDB_NOTFOUND)
		return rc;
	if ((rc = usage_load(st, txn, m->brand_id, &u)) != 0)
		return rc;
	if (u.bytes + m->bytes > u.limit)
		return SIGIL_EFULL;
	u.count++;
	u.bytes += m->bytes;
	v.mv_size = IMAGE_HEAD_LEN + m->bytes;
	if ((rc = mdb_put(txn, st->images, &k, &v, MDB_RESERVE)) != 0)
		return rc;
	((uint8_t *)v.mv_data)[0] = (uint8_t)m->type;
	le64_put((uint8_t *)v.mv_data + 1, (uint64_t)a->created);
	memcpy((uint8_t *)v.mv_data + IMAGE_HEAD_LEN, a->data, m->bytes);
	return usage_store(st, txn, m->brand_id, &u);
}

int
store_image_put(struct store *st, struct image_meta *m, const uint8_t *data,
    int *existed)
{
	struct image_put_arg a = { m, data, 0, 0 };
	int rc;

	if (m == NULL || data == NULL || m->bytes == 0 ||
	    m->bytes > STORE_IMAGE_MAX || m->type <= 0 || m->type > 255)
		return SIGIL_EINVAL;
	if (st->flags & STORE_RDONLY)
		return SIGIL_EDENIED;
	a.created = sigil_now_us();
	if ((rc = store_write(st, image_put_fn, &a)) != 0)
		return rc;
	m->created = a.created;
	if (existed != NULL)
		*existed = a.existed;
	return 0;
}

static int
image_get_in(struct store *st, MDB_txn *txn, const uint8_t *kb,
    struct image_meta *m, uint8_t **data)
{
	MDB_val k = mval(kb, IMAGE_KEY_LEN), v;
	int rc;

	if ((rc = mdb_get(txn, st->images, &k, &v)) != 0)
		return rc;
	if ((rc = image_meta_decode(k, v, m)) != 0)
		return rc;
	if (data == NULL)
		return 0;
	if ((*data = malloc(m->bytes)) == NULL)
		return SIGIL_ENOMEM;
	memcpy(*data, (const uint8_t *)v.mv_data + IMAGE_HEAD_LEN, m->bytes);
	return 0;
}

int
store_image_get(struct store *st, uint32_t brand_id,
    const uint8_t hash[STORE_IMAGE_HASH_LEN], struct image_meta *m,
    uint8_t **data)
{
	uint8_t kb[IMAGE_KEY_LEN];

	sigil_be32_put(kb, brand_id);
	memcpy(kb + 4, hash, STORE_IMAGE_HASH_LEN);
	if (data != NULL)
		*data = NULL;
	if (st->content_absent)
		return SIGIL_ENOTFOUND;
	return STORE_READ(st, image_get_in(st, txn, kb, m, data));
}

struct image_del_arg {
	uint32_t	brand_id;
	uint8_t		hash[STORE_IMAGE_HASH_LEN];
};

static int
image_del_fn(struct store *st, MDB_txn *txn, void *arg)
{
	struct image_del_arg *a = arg;
	uint8_t kb[IMAGE_KEY_LEN];
	MDB_val k = mval(kb, IMAGE_KEY_LEN), v;
	struct image_meta m;
	struct image_usage u;
	int rc;

	sigil_be32_put(kb, a->brand_id);
	memcpy(kb + 4, a->hash, STORE_IMAGE_HASH_LEN);
	if ((rc = mdb_get(txn, st->images, &k, &v)) != 0 ||
	    (rc = image_meta_decode(k, v, &m)) != 0 ||
	    (rc = usage_load(st, txn, a->brand_id, &u)) != 0)
		return rc;
	if ((rc = mdb_del(txn, st->images, &k, NULL)) != 0)
		return rc;
	u.count = u.count > 0 ? u.count - 1 : 0;
	u.bytes = u.bytes > m.bytes ? u.bytes - m.bytes : 0;
	return usage_store(st, txn, a->brand_id, &u);
}

int
store_image_del(struct store *st, uint32_t brand_id,
    const uint8_t hash[STORE_IMAGE_HASH_LEN])
{
	struct image_del_arg a;

	if (st->flags & STORE_RDONLY)
		return SIGIL_EDENIED;
	a.brand_id = brand_id;
	memcpy(a.hash, hash, STORE_IMAGE_HASH_LEN);
	return store_write(st, image_del_fn, &a);
}

struct image_walk {
	uint8_t		 prefix[4];
	int		(*fn)(void *arg, const struct image_meta *m);
	void		*arg;
};

static int
image_row(void *ctx, MDB_txn *txn, MDB_val k, MDB_val v, int *stop)
{
	struct image_walk *w = ctx;
	struct image_meta m;
	int rc;

	(void)txn;
	if (k.mv_size < 4 || memcmp(k.mv_data, w->prefix, 4) != 0)
		return MDB_NOTFOUND;
	if (k.mv_size == 4)
		return 0;	/* the usage row */
	if ((rc = image_meta_decode(k, v, &m)) != 0)
		return rc;
	*stop = w->fn(w->arg, &m);
	return 0;
}

int
store_image_each(struct store *st, uint32_t brand_id,
    int (*fn)(void *arg, const struct image_meta *m), void *arg)
{
	struct image_walk w;

	if (st->content_absent)
		return 0;
	sigil_be32_put(w.prefix, brand_id);
	w.fn = fn;
	w.arg = arg;
	return store_walk(st, st->images, WALK_RANGE, mval(w.prefix, 4),
	    image_row, &w);
}

int
store_image_usage(struct store *st, uint32_t brand_id,
    struct image_usage *out)
{
	if (st->content_absent) {
		memset(out, 0, sizeof *out);
		out->limit = images_limit();
		return 0;
	}
	return STORE_READ(st, usage_load(st, txn, brand_id, out));
}
