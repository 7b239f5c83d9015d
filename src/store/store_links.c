/*
 * store_links.c - the brand's GS1 links (links), keyed brand || id
 * (bid_key), one row a link.
 *
 * A row: flags u8 (1 default of its level, 2 default of its type),
 * batch LE64, created LE64, then nine strings, each LE16 length and
 * bytes: gtin, lot, serial, sku, link_type, href, title, hreflang,
 * context, media_type (docs/storage.md). A brand's links are few (at
 * most LINK_PER_BRAND_MAX) and read together: the resolver walks one
 * brand's rows in key order and keeps the ones of the item's levels
 * (links.c), so there is no secondary index to keep in step.
 *
 * "One default per level" and "one default per link type and level"
 * are kept here, in the transaction that sets a new default: the
 * previous holder loses the flag, so no reader ever sees two.
 *
 * Owns the table links. May call store_env.c's runner and snapshot and
 * store_rows.c; must never read another table (the brand's existence
 * aside, through rows_new_id).
 */
#include <string.h>

#include <lmdb.h>

#include "sigil/store.h"
#include "sigil/util.h"
#include "store_impl.h"

#define LINK_FIXED	17
#define LINK_STRINGS	10
#define LINK_ROW_MAX	(LINK_FIXED + LINK_STRINGS * 2 + sizeof(struct link))

#define F_DEFAULT	1
#define F_TYPE_DEFAULT	2

/* The string fields in row order, and their capacities. */
#define LINK_FIELDS(l)	{ (l)->gtin, (l)->lot, (l)->serial, (l)->sku,	\
	(l)->link_type, (l)->href, (l)->title, (l)->hreflang, (l)->context, \
	(l)->media_type }
#define LINK_CAPS(l)	{ sizeof (l)->gtin, sizeof (l)->lot,		\
	sizeof (l)->serial, sizeof (l)->sku, sizeof (l)->link_type,	\
	sizeof (l)->href, sizeof (l)->title, sizeof (l)->hreflang,	\
	sizeof (l)->context, sizeof (l)->media_type }

static int
link_bounds_ok(const struct link *l)
{
	const char *f[] = LINK_FIELDS(l);
	size_t caps[] = LINK_CAPS(l);

	for (int i = 0; i < LINK_STRINGS; i++)
		if (strnlen(f[i], caps[i]) == caps[i])
			return 0;
	return l->brand_id != 0 && l->link_type[0] != '\0' &&
	    l->href[0] != '\0' && l->title[0] != '\0';
}

static size_t
link_encode(const struct link *l, uint8_t *p)
{
	const char *f[] = LINK_FIELDS(l);

	p[0] = (uint8_t)((l->is_default ? F_DEFAULT : 0) |
	    (l->type_default ? F_TYPE_DEFAULT : 0));
	le64_put(p + 1, l->batch);
	le64_put(p + 9, (uint64_t)l->created);
	return lstrs_put(p, LINK_FIXED, f, LINK_STRINGS);
}

static int
link_decode(MDB_val k, MDB_val v, void *out)
{
	const uint8_t *p = v.mv_data;
	struct link *l = out;
	char *f[] = LINK_FIELDS(l);
	size_t caps[] = LINK_CAPS(l), n = LINK_FIXED;

	if (k.mv_size != 8 || v.mv_size < LINK_FIXED)
		return SIGIL_EIO;
	memset(l, 0, sizeof *l);
	l->brand_id = sigil_be32_get(k.mv_data);
	l->id = sigil_be32_get((const uint8_t *)k.mv_data + 4);
	l->is_default = (p[0] & F_DEFAULT) != 0;
	l->type_default = (p[0] & F_TYPE_DEFAULT) != 0;
	l->batch = le64_get(p + 1);
	l->created = (int64_t)le64_get(p + 9);
	n = lstrs_get(p, v.mv_size, n, f, caps, LINK_STRINGS);
	return n != 0 && n == v.mv_size ? 0 : SIGIL_EIO;
}

static int
link_put(struct store *st, MDB_txn *txn, const void *row)
{
	const struct link *l = row;
	static __thread uint8_t vb[LINK_ROW_MAX];
	uint8_t kb[8];
	MDB_val k = mval(kb, 8), v;

	bid_key(kb, l->brand_id, l->id);
	v = mval(vb, link_encode(l, vb));
	return mdb_put(txn, st->links, &k, &v, 0);
}

static int
same_level(const struct link *a, const struct link *b)
{
	return strcmp(a->gtin, b->gtin) == 0 && strcmp(a->lot, b->lot) == 0 &&
	    strcmp(a->serial, b->serial) == 0 && strcmp(a->sku, b->sku) == 0 &&
	    a->batch == b->batch;
}

/*
 * Before l is written in txn: counts the brand's other links into
 * *count, and takes the default flags l claims from the links that had
 * them.
 */
static int
link_settle(struct store *st, MDB_txn *txn, const struct link *l,
    size_t *count)
{
	static __thread struct link cur;
	uint8_t kb[8];
	MDB_cursor *c;
	MDB_val k = mval(kb, 8), v;
	int rc;

	*count = 0;
	bid_key(kb, l->brand_id, 0);
	if ((rc = mdb_cursor_open(txn, st->links, &c)) != 0)
		return rc;
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	for (; rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		int change = 0;

		if (k.mv_size != 8 || sigil_be32_get(k.mv_data) != l->brand_id)
			break;
		if ((rc = link_decode(k, v, &cur)) != 0)
			break;
		if (cur.id == l->id)
			continue;
		(*count)++;
		if (!same_level(&cur, l))
			continue;
		if (l->is_default && cur.is_default) {
			cur.is_default = 0;
			change = 1;
		}
		if (l->type_default && cur.type_default &&
		    strcmp(cur.link_type, l->link_type) == 0) {
			cur.type_default = 0;
			change = 1;
		}
		if (change && (rc = link_put(st, txn, &cur)) != 0)
			break;
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* rows_add's put: the id is set, the brand exists. */
static int
link_add_put(struct store *st, MDB_txn *txn, const void *row)
{
	const struct link *l = row;
	size_t count;
	int rc;

	if ((rc = link_settle(st, txn, l, &count)) != 0)
		return rc;
	if (count >= LINK_PER_BRAND_MAX)
		return SIGIL_EFULL;
	return link_put(st, txn, l);
}

int
store_link_add(struct store *st, struct link *l)
{
	static __thread struct link work;

	if (l == NULL || !link_bounds_ok(l))
		return SIGIL_EINVAL;
	if (st->links_absent)
		return SIGIL_EDENIED;
	work = *l;
	work.created = sigil_now_us();
	return rows_add(st, st->links, link_add_put, &work, work.brand_id,
	    &work.id, l, sizeof work);
}

static int
link_put_fn(struct store *st, MDB_txn *txn, void *p)
{
	struct link *l = p;
	static __thread struct link old;
	uint8_t kb[8];
	size_t count;
	int rc;

	bid_key(kb, l->brand_id, l->id);
	if ((rc = rows_load(txn, st->links, kb, 8, link_decode, &old)) != 0)
		return rc;
	l->created = old.created;
	if ((rc = link_settle(st, txn, l, &count)) != 0)
		return rc;
	return link_put(st, txn, l);
}

int
store_link_put(struct store *st, const struct link *l)
{
	static __thread struct link work;

	if (l == NULL || !link_bounds_ok(l) || l->id == 0)
		return SIGIL_EINVAL;
	if (st->links_absent)
		return SIGIL_ENOTFOUND;
	work = *l;
	return store_write(st, link_put_fn, &work);
}

int
store_link_get(struct store *st, uint32_t brand_id, uint32_t id,
    struct link *out)
{
	uint8_t kb[8];

	if (st->links_absent)
		return SIGIL_ENOTFOUND;
	bid_key(kb, brand_id, id);
	return STORE_READ(st, rows_load(txn, st->links, kb, 8, link_decode,
	    out));
}

struct del_arg {
	uint32_t	brand_id, id;
};

static int
link_del_fn(struct store *st, MDB_txn *txn, void *p)
{
	struct del_arg *a = p;
	uint8_t kb[8];
	MDB_val k = mval(kb, 8);

	bid_key(kb, a->brand_id, a->id);
	return mdb_del(txn, st->links, &k, NULL);
}

int
store_link_del(struct store *st, uint32_t brand_id, uint32_t id)
{
	struct del_arg a = { brand_id, id };

	if (st->links_absent)
		return SIGIL_ENOTFOUND;
	return store_write(st, link_del_fn, &a);
}

/* Rows are large: the decoded one lives in the walk's context. */
struct each_arg {
	int		(*fn)(void *arg, const struct link *l);
	void		*arg;
	struct link	row;
};

static int
link_each_one(MDB_val k, MDB_val v, void *p)
{
	struct each_arg *a = p;
	int rc = link_decode(k, v, &a->row);

	return rc != 0 ? rc : a->fn(a->arg, &a->row);
}

int
store_link_each(struct store *st, uint32_t brand_id,
    int (*fn)(void *arg, const struct link *l), void *arg)
{
	static __thread struct each_arg a;
	struct each_arg saved;
	uint8_t kb[8];
	int rc;

	if (st->links_absent)
		return 0;
	bid_key(kb, brand_id, 0);
	/* Reentrant enough for a callback that walks again. */
	saved = a;
	a.fn = fn;
	a.arg = arg;
	rc = rows_walk(st, st->links, kb, 8, 4, link_each_one, &a);
	a = saved;
	return rc < 0 ? rc : 0;
}
