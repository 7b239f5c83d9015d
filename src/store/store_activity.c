/*
 * store_activity.c - the activity log's entries: their checks, their
 * encoding and the append that gives each its global id (next_activity).
 * The rows' owner is store_customers.c (its walks, moves and the
 * erasure's cuts); this file is the layer under it and store_feedback.c,
 * which both write and read entries, so neither calls the other.
 *
 * Entry (docs/storage.md): brand_id BE32 || activity_id BE64 -> type u8,
 * at i64, customer_id u64, ref u64, points i64, rating u8, text length
 * u16, text.
 *
 * May call: libc, LMDB, util.c, store_env.c. Must never call another
 * family.
 */
#include <string.h>

#include "sigil/store.h"
#include "sigil/util.h"
#include "store_impl.h"

#define ACTIVITY_FIXED_LEN	36	/* the entry before its text */

int
activity_ok(const struct activity *a)
{
	size_t n = strnlen(a->text, sizeof(a->text));

	return a->type >= ACTIVITY_CLAIM && a->type <= ACTIVITY_FEEDBACK &&
	    n < sizeof(a->text) && sigil_text_check(a->text, n,
	    STORE_FEEDBACK_MAX, SIGIL_TEXT_EMPTY_OK | SIGIL_TEXT_MULTILINE,
	    NULL) == 0 &&
	    a->rating >= 0 && a->rating <= 5;
}

/* Appends a (valid) with the next global id; sets a->id. */
int
activity_append(struct store *st, MDB_txn *txn, struct activity *a)
{
	uint8_t kb[12], vb[ACTIVITY_FIXED_LEN + sizeof(a->text)];
	MDB_val k = mval(kb, 12), v;
	size_t n = strlen(a->text);
	int rc;

	if ((rc = rows_global_id(st, txn, "next_activity", &a->id)) != 0)
		return rc;
	sigil_be32_put(kb, a->brand_id);
	sigil_be64_put(kb + 4, a->id);
	vb[0] = (uint8_t)a->type;
	le64_put(vb + 1, (uint64_t)a->at);
	le64_put(vb + 9, a->customer_id);
	le64_put(vb + 17, a->ref);
	le64_put(vb + 25, (uint64_t)a->points);
	vb[33] = (uint8_t)a->rating;
	le16_put(vb + 34, (uint16_t)n);
	memcpy(vb + ACTIVITY_FIXED_LEN, a->text, n);
	v = mval(vb, ACTIVITY_FIXED_LEN + n);
	return mdb_put(txn, st->activity, &k, &v, 0);
}

int
activity_decode(MDB_val k, MDB_val v, struct activity *out)
{
	const uint8_t *p = v.mv_data;
	size_t n;

	if (k.mv_size != 12 || v.mv_size < ACTIVITY_FIXED_LEN)
		return SIGIL_EIO;
	n = le16_get(p + 34);
	if (n >= sizeof(out->text) || v.mv_size != ACTIVITY_FIXED_LEN + n)
		return SIGIL_EIO;
	memset(out, 0, sizeof(*out));
	out->brand_id = sigil_be32_get(k.mv_data);
	out->id = sigil_be64_get((const uint8_t *)k.mv_data + 4);
	out->type = p[0];
	out->at = (int64_t)le64_get(p + 1);
	out->customer_id = le64_get(p + 9);
	out->ref = le64_get(p + 17);
	out->points = (int64_t)le64_get(p + 25);
	out->rating = p[33];
	memcpy(out->text, p + ACTIVITY_FIXED_LEN, n);
	return 0;
}
