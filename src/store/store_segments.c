/*
 * store_segments.c - a brand's saved customer segments (segments), keyed
 * brand || id (bid_key), one row a segment: created, updated and the
 * JSON text segment.c owns (name and criteria). The store only bounds
 * the text and checks it is JSON; what the criteria mean is segment.c's.
 *
 * Owns the table segments.
 * It may call store_env.c's runner and snapshot and store_rows.c; it
 * must never call the other late tables' files.
 */
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "sigil/store.h"
#include "sigil/util.h"
#include "store_impl.h"

#define SEG_FIXED_LEN	16

static int
seg_put(struct store *st, MDB_txn *txn, const void *row)
{
	const struct saved_segment *s = row;
	size_t n = strlen(s->json);
	uint8_t kb[8], *vb = malloc(SEG_FIXED_LEN + n);
	MDB_val k = mval(kb, 8), v;
	int rc;

	if (vb == NULL)
		return SIGIL_ENOMEM;
	bid_key(kb, s->brand_id, s->id);
	le64_put(vb, (uint64_t)s->created);
	le64_put(vb + 8, (uint64_t)s->updated);
	memcpy(vb + SEG_FIXED_LEN, s->json, n);
	v = mval(vb, SEG_FIXED_LEN + n);
	rc = mdb_put(txn, st->segments, &k, &v, 0);
	free(vb);
	return rc;
}

/* Decodes with the JSON malloc'd. */
static int
seg_decode(MDB_val k, MDB_val v, void *out)
{
	const uint8_t *p = v.mv_data;
	struct saved_segment s = { 0 };
	size_t n;

	if (k.mv_size != 8 || v.mv_size < SEG_FIXED_LEN ||
	    (n = v.mv_size - SEG_FIXED_LEN) > STORE_SEGMENT_MAX)
		return SIGIL_EIO;
	s.brand_id = sigil_be32_get(k.mv_data);
	s.id = sigil_be32_get((const uint8_t *)k.mv_data + 4);
	s.created = (int64_t)le64_get(p);
	s.updated = (int64_t)le64_get(p + 8);
	if ((s.json = malloc(n + 1)) == NULL)
		return SIGIL_ENOMEM;
	memcpy(s.json, p + SEG_FIXED_LEN, n);
	s.json[n] = '\0';
	*(struct saved_segment *)out = s;
	return 0;
}

int
store_segment_add(struct store *st, struct saved_segment *s)
{
	struct saved_segment w;

	if (s == NULL || st->segments_absent ||
	    !json_text_ok(s->json, STORE_SEGMENT_MAX))
		return SIGIL_EINVAL;
	w = *s;
	w.created = w.updated = sigil_now_us();
	return rows_add(st, st->segments, seg_put, &w, w.brand_id, &w.id, s,
	    sizeof(w));
}

static int
seg_update_fn(struct store *st, MDB_txn *txn, void *p)
{
	struct saved_segment *s = p;
	uint8_t kb[8];
	MDB_val k = mval(kb, 8), v;
	int rc;

	bid_key(kb, s->brand_id, s->id);
	if ((rc = mdb_get(txn, st->segments, &k, &v)) != 0)
		return rc;
	if (v.mv_size < SEG_FIXED_LEN)
		return SIGIL_EIO;
	s->created = (int64_t)le64_get(v.mv_data);
	return seg_put(st, txn, s);
}

int
store_segment_update(struct store *st, uint32_t brand_id, uint32_t id,
    const char *json)
{
	struct saved_segment w = { 0 };

	if (st->segments_absent || !json_text_ok(json, STORE_SEGMENT_MAX))
		return SIGIL_EINVAL;
	w.brand_id = brand_id;
	w.id = id;
	w.json = (char *)json;
	w.updated = sigil_now_us();
	return store_write(st, seg_update_fn, &w);
}

static int
seg_del_fn(struct store *st, MDB_txn *txn, void *p)
{
	const uint8_t *kb = p;
	MDB_val k = mval(kb, 8);

	return mdb_del(txn, st->segments, &k, NULL);
}

int
store_segment_del(struct store *st, uint32_t brand_id, uint32_t id)
{
	uint8_t kb[8];

	if (st->segments_absent)
		return SIGIL_ENOTFOUND;
	bid_key(kb, brand_id, id);
	return store_write(st, seg_del_fn, kb);
}

int
store_segment_get(struct store *st, uint32_t brand_id, uint32_t id,
    struct saved_segment *out)
{
	if (st->segments_absent)
		return SIGIL_ENOTFOUND;
	return rows_get_bid(st, st->segments, brand_id, id, seg_decode, out);
}

void
store_segment_clear(struct saved_segment *s)
{
	free(s->json);
	s->json = NULL;
}

struct seg_each {
	int	(*fn)(void *arg, const struct saved_segment *s);
	void	*arg;
	int	err;
};

static int
seg_each_step(MDB_val k, MDB_val v, void *p)
{
	struct seg_each *e = p;
	struct saved_segment s;
	int rc;

	if ((rc = seg_decode(k, v, &s)) != 0) {
		e->err = rc;
		return 1;
	}
	rc = e->fn(e->arg, &s);
	store_segment_clear(&s);
	return rc;
}

int
store_segment_each(struct store *st, uint32_t brand_id,
    int (*fn)(void *arg, const struct saved_segment *s), void *arg)
{
	struct seg_each e = { fn, arg, 0 };
	uint8_t kb[8];
	int rc;

	if (st->segments_absent)
		return 0;
	bid_key(kb, brand_id, 0);
	rc = rows_walk(st, st->segments, kb, 8, 4, seg_each_step, &e);
	if (e.err != 0)
		return e.err;
	return rc < 0 ? rc : 0;
}
