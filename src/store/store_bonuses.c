/*
 * store_bonuses.c - the bonuses table: the bonuses campaigns paid, once
 * per (campaign, customer, bonus, period), and each campaign's totals of
 * bonuses and seller rebates paid. store_credits.c pays them (in a
 * claim's transaction or a login's) and notes them here.
 *
 * brand BE32 || customer BE64 || campaign BE32 || bonus u8 || period
 * BE32 -> at LE64, points LE64, ref LE64 (the claim id; 0 for a
 * registration). Customer 0 is no customer: those rows are the
 * campaign's totals, bonus u8 being the bonus kind (1..4) or
 * BONUS_TOTAL_REBATE, period 0 -> count LE64, points LE64. A customer's rows
 * are moved by a merge (bonuses_move) and cut by an erasure
 * (bonuses_move to 0).
 *
 * Owns the bonuses table. Calls nothing of the other storage files (so
 * that the erasure, below store_customers.c, may call it).
 */
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "sigil/store.h"
#include "sigil/util.h"
#include "store_impl.h"

#define BONUS_KEY_LEN	21
#define BONUS_VAL_LEN	24
#define TOTAL_VAL_LEN	16

static void
bonus_key(uint8_t *p, uint32_t brand_id, uint64_t customer_id,
    uint32_t campaign_id, int bonus, uint32_t period)
{
	sigil_be32_put(p, brand_id);
	sigil_be64_put(p + 4, customer_id);
	sigil_be32_put(p + 12, campaign_id);
	p[16] = (uint8_t)bonus;
	sigil_be32_put(p + 17, period);
}

/* Whether a bonus row of (brand, customer, campaign, bonus) lies in
 * periods [from, to]. */
int
bonus_paid(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t customer_id, uint32_t campaign_id, int bonus, uint32_t from,
    uint32_t to, int *paid)
{
	uint8_t kb[BONUS_KEY_LEN];
	MDB_val k = mval(kb, BONUS_KEY_LEN), v;
	MDB_cursor *cur;
	int rc;

	*paid = 0;
	bonus_key(kb, brand_id, customer_id, campaign_id, bonus, from);
	if ((rc = mdb_cursor_open(txn, st->bonuses, &cur)) != 0)
		return rc;
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	if (rc == 0 && k.mv_size == BONUS_KEY_LEN &&
	    memcmp(k.mv_data, kb, 17) == 0 &&
	    sigil_be32_get((const uint8_t *)k.mv_data + 17) <= to)
		*paid = 1;
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* The campaign's totals of a bonus kind or of rebates, one more. */
int
bonus_total_add(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint32_t campaign_id, int what, int64_t points)
{
	uint8_t kb[BONUS_KEY_LEN], vb[TOTAL_VAL_LEN];
	MDB_val k = mval(kb, BONUS_KEY_LEN), v;
	uint64_t n = 0;
	int64_t sum = 0;
	int rc;

	bonus_key(kb, brand_id, 0, campaign_id, what, 0);
	rc = mdb_get(txn, st->bonuses, &k, &v);
	if (rc == 0 && v.mv_size == TOTAL_VAL_LEN) {
		n = le64_get(v.mv_data);
		sum = (int64_t)le64_get((const uint8_t *)v.mv_data + 8);
	} else if (rc == 0)
		return SIGIL_EIO;
	else if (rc != MDB_NOTFOUND)
		return rc;
	le64_put(vb, n + 1);
	le64_put(vb + 8, (uint64_t)(sum + points));
	v = mval(vb, TOTAL_VAL_LEN);
	return mdb_put(txn, st->bonuses, &k, &v, 0);
}

/* The row that says a bonus was paid, and the campaign's totals. */
int
bonus_note(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t customer_id, const struct claim_credit *cr, int64_t at,
    uint64_t ref)
{
	uint8_t kb[BONUS_KEY_LEN], vb[BONUS_VAL_LEN];
	MDB_val k = mval(kb, BONUS_KEY_LEN), v = mval(vb, BONUS_VAL_LEN);
	int rc;

	bonus_key(kb, brand_id, customer_id, cr->campaign_id, cr->bonus,
	    cr->period);
	le64_put(vb, (uint64_t)at);
	le64_put(vb + 8, (uint64_t)cr->points);
	le64_put(vb + 16, ref);
	if ((rc = mdb_put(txn, st->bonuses, &k, &v, 0)) != 0)
		return rc;
	return bonus_total_add(st, txn, brand_id, cr->campaign_id, cr->bonus,
	    cr->points);
}

/* ---- reads ---- */

static int
totals_read(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint32_t campaign_id, struct campaign_credits *out)
{
	uint8_t kb[BONUS_KEY_LEN];
	MDB_val k = mval(kb, BONUS_KEY_LEN), v;
	int rc;

	for (int what = 1; what <= BONUS_TOTAL_REBATE; what++) {
		uint64_t *n;
		int64_t *pts;

		if (what <= BONUS_KINDS) {
			n = &out->bonus_count[what];
			pts = &out->bonus_points[what];
		} else if (what == BONUS_TOTAL_REBATE) {
			n = &out->rebate_count;
			pts = &out->rebate_points;
		} else
			continue;
		bonus_key(kb, brand_id, 0, campaign_id, what, 0);
		rc = mdb_get(txn, st->bonuses, &k, &v);
		if (rc == MDB_NOTFOUND)
			continue;
		if (rc != 0)
			return rc;
		if (v.mv_size != TOTAL_VAL_LEN)
			return SIGIL_EIO;
		*n = le64_get(v.mv_data);
		*pts = (int64_t)le64_get((const uint8_t *)v.mv_data + 8);
	}
	return 0;
}

int
store_campaign_credits(struct store *st, uint32_t brand_id,
    uint32_t campaign_id, struct campaign_credits *out)
{
	memset(out, 0, sizeof *out);
	if (st->bonuses_absent)
		return 0;
	return STORE_READ(st, totals_read(st, txn, brand_id, campaign_id,
	    out));
}

struct bonus_walk {
	uint32_t	brand_id;
	uint64_t	customer_id;
	int		(*fn)(void *, const struct bonus_row *);
	void		*arg;
};

static int
bonus_each_one(MDB_val k, MDB_val v, void *p)
{
	struct bonus_walk *w = p;
	const uint8_t *kp = k.mv_data, *vp = v.mv_data;
	struct bonus_row b;

	if (k.mv_size != BONUS_KEY_LEN || v.mv_size != BONUS_VAL_LEN)
		return SIGIL_EIO;
	b.brand_id = w->brand_id;
	b.customer_id = w->customer_id;
	b.campaign_id = sigil_be32_get(kp + 12);
	b.bonus = kp[16];
	b.period = sigil_be32_get(kp + 17);
	b.at = (int64_t)le64_get(vp);
	b.points = (int64_t)le64_get(vp + 8);
	b.ref = le64_get(vp + 16);
	return w->fn(w->arg, &b);
}

int
store_bonuses_of(struct store *st, uint32_t brand_id, uint64_t customer_id,
    int (*fn)(void *arg, const struct bonus_row *b), void *arg)
{
	struct bonus_walk w = { brand_id, customer_id, fn, arg };
	uint8_t kb[12];
	int rc, stop = 0;

	if (st->bonuses_absent || customer_id == 0)
		return 0;
	sigil_be32_put(kb, brand_id);
	sigil_be64_put(kb + 4, customer_id);
	rc = STORE_READ(st, rows_walk_txn(txn, st->bonuses, kb, 12, 12,
	    bonus_each_one, &w, &stop));
	return stop ? stop : rc;
}

/* ---- a merge and an erasure ---- */

/* The keys of one customer's rows, copied (a cursor cannot outlive a put). */
static int
bonus_keys(MDB_txn *txn, MDB_dbi dbi, uint32_t brand_id, uint64_t customer,
    uint8_t **out, size_t *n)
{
	uint8_t pre[12], *nb;
	MDB_val k, v;
	MDB_cursor *cur;
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	sigil_be32_put(pre, brand_id);
	sigil_be64_put(pre + 4, customer);
	k = mval(pre, 12);
	if ((rc = mdb_cursor_open(txn, dbi, &cur)) != 0)
		return rc;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != BONUS_KEY_LEN || memcmp(k.mv_data, pre,
		    12) != 0)
			break;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			if ((nb = realloc(*out, cap * (BONUS_KEY_LEN +
			    BONUS_VAL_LEN))) == NULL) {
				rc = SIGIL_ENOMEM;
				break;
			}
			*out = nb;
		}
		memcpy(*out + *n * (BONUS_KEY_LEN + BONUS_VAL_LEN), k.mv_data,
		    BONUS_KEY_LEN);
		memcpy(*out + *n * (BONUS_KEY_LEN + BONUS_VAL_LEN) +
		    BONUS_KEY_LEN, v.mv_data, v.mv_size < BONUS_VAL_LEN ?
		    v.mv_size : BONUS_VAL_LEN);
		(*n)++;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/*
 * from's bonus rows made to's (a bonus to already had in that period
 * stays to's, from's is dropped: the merged customer has had it once),
 * or with to 0 cut (an erasure).
 */
int
bonuses_move(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t from, uint64_t to)
{
	uint8_t *rows = NULL;
	size_t n = 0;
	MDB_val k, v;
	int rc;

	if (st->bonuses_absent || from == 0)
		return 0;
	if ((rc = bonus_keys(txn, st->bonuses, brand_id, from, &rows,
	    &n)) != 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		uint8_t *kp = rows + i * (BONUS_KEY_LEN + BONUS_VAL_LEN);

		k = mval(kp, BONUS_KEY_LEN);
		if ((rc = mdb_del(txn, st->bonuses, &k, NULL)) != 0)
			goto out;
		if (to == 0)
			continue;
		sigil_be64_put(kp + 4, to);
		v = mval(kp + BONUS_KEY_LEN, BONUS_VAL_LEN);
		rc = mdb_put(txn, st->bonuses, &k, &v, MDB_NOOVERWRITE);
		if (rc != 0 && rc != MDB_KEYEXIST)
			goto out;
		rc = 0;
	}
out:
	if (rows != NULL)
		memset(rows, 0, n * (BONUS_KEY_LEN + BONUS_VAL_LEN));
	free(rows);
	return rc;
}
