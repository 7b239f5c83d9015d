/*
 * store_cash.c - a claim's cash (claims.h: struct claim_cash) judged and
 * written in the claim's own transaction, the per-day cash caps, and
 * what an erasure and a merge do to payouts (store/payouts.h).
 *
 *   cash_days  brand BE32 || kind u8 (0 customer, 1 device) || id BE64
 *              || China day BE32 -> fen i64: the cash claims won that
 *              day (a payout that later fails still counts: the caps
 *              judge what was won, so a failure cannot be farmed)
 *
 * cash_check (reads only, so that a refusal leaves the batch's
 * transaction as it was) judges the claim's cash against its campaign's
 * reservation as this transaction sees it, earlier claims of the batch
 * included: a budget that cannot pay it whole drops it; a day cap passed
 * refuses the claim. cash_apply then reserves it (the tallies), adds it
 * to the day's totals and writes the payout row, HELD or PENDING due at
 * the claim's time, with its indexes. LMDB has one writer, so no two
 * claims can both see the same budget left: it is never overdrawn.
 *
 * Owns cash_days. May call libc, LMDB, util.c, store_env.c,
 * store_rows.c and store_payouts.c. Called by store_claims.c (the
 * claims' group commit), store_erase.c (payouts_erase) and
 * store_merge.c (payouts_move); must never call them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "sigil/store.h"
#include "sigil/util.h"
#include "store_impl.h"

#define DAYS_KEY_LEN	17

static void
days_key(uint8_t kb[DAYS_KEY_LEN], uint32_t brand_id, int kind, uint64_t id,
    uint32_t day)
{
	sigil_be32_put(kb, brand_id);
	kb[4] = (uint8_t)kind;
	sigil_be64_put(kb + 5, id);
	sigil_be32_put(kb + 13, day);
}

static int
days_get(struct store *st, MDB_txn *txn, const uint8_t *key, int64_t *fen)
{
	uint64_t n = 0;
	int rc = u64_row_get(txn, st->cash_days, mval(key, DAYS_KEY_LEN), &n);

	*fen = (int64_t)n;
	return rc;
}

static int
days_add(struct store *st, MDB_txn *txn, const uint8_t *key, int64_t fen)
{
	uint8_t vb[8];
	MDB_val k = mval(key, DAYS_KEY_LEN), v = mval(vb, 8);
	int64_t n;
	int rc;

	if ((rc = days_get(st, txn, key, &n)) != 0)
		return rc;
	le64_put(vb, (uint64_t)(n > INT64_MAX - fen ? INT64_MAX : n + fen));
	return mdb_put(txn, st->cash_days, &k, &v, 0);
}

int
store_cash_day(struct store *st, uint32_t brand_id, int kind, uint64_t id,
    uint32_t day, int64_t *fen)
{
	uint8_t kb[DAYS_KEY_LEN];
	int64_t n = 0;
	int rc;

	if (kind != 0 && kind != 1)
		return SIGIL_EINVAL;
	if (!st->payouts_absent) {
		days_key(kb, brand_id, kind, id, day);
		if ((rc = STORE_READ(st, days_get(st, txn, kb, &n))) != 0)
			return rc;
	}
	*fen = n;
	return 0;
}

/* ---- the claim's cash ---- */

static uint32_t
cash_campaign(const struct claim *c)
{
	return c->cash.campaign_id != 0 ? c->cash.campaign_id :
	    c->campaign_id;
}

int
cash_valid(const struct claim *c)
{
	const struct claim_cash *k = &c->cash;

	if (k->fen < 0 || k->fen > PAYOUT_FEN_MAX)
		return SIGIL_EINVAL;
	if (k->fen == 0)
		return 0;
	if (k->budget_fen <= 0 || cash_campaign(c) == 0 ||
	    k->cap_customer_fen < 0 || k->cap_device_fen < 0 ||
	    k->score > 100 || (k->held != 0 && k->held != 1) ||
	    !text_ok(k->reasons, sizeof k->reasons, PAYOUT_REASONS_MAX, 1) ||
	    !text_ok(k->appid, sizeof k->appid, PAYOUT_APPID_MAX, 0) ||
	    !text_ok(k->openid, sizeof k->openid, PAYOUT_OPENID_MAX, 0))
		return SIGIL_EINVAL;
	return 0;
}

/* Whether a day cap of kind would pass with fen more on the day. */
static int
cap_passed(struct store *st, MDB_txn *txn, const struct claim *c, int kind,
    uint64_t id, int64_t cap, uint32_t day, int *passed)
{
	uint8_t kb[DAYS_KEY_LEN];
	int64_t won;
	int rc;

	*passed = 0;
	if (cap == 0 || id == 0)
		return 0;
	days_key(kb, c->brand_id, kind, id, day);
	if ((rc = days_get(st, txn, kb, &won)) != 0)
		return rc;
	*passed = won > cap - c->cash.fen;
	return 0;
}

int
cash_check(struct store *st, MDB_txn *txn, struct claim *c, uint32_t day)
{
	struct claim_cash *k = &c->cash;
	uint32_t campaign = cash_campaign(c);
	int64_t reserved;
	int rc, passed;

	k->dropped = 0;
	k->refusal = CASH_OK;
	if (k->fen == 0)
		return 0;
	if (st->payouts_absent)
		return SIGIL_ESTATE;
	if (campaign != c->campaign_id) {
		uint8_t kb[8];
		MDB_val ck = mval(kb, 8), cv;

		bid_key(kb, c->brand_id, campaign);
		if ((rc = mdb_get(txn, st->campaigns, &ck, &cv)) != 0)
			return rc;
	}
	if ((rc = cash_reserved(st, txn, c->brand_id, campaign,
	    &reserved)) != 0)
		return rc;
	if (reserved > k->budget_fen - k->fen) {
		k->fen = 0;
		k->dropped = 1;
		k->refusal = CASH_BUDGET;
		return c->points == 0 ? SIGIL_EFULL : 0;
	}
	if ((rc = cap_passed(st, txn, c, 0, c->customer_id,
	    k->cap_customer_fen, day, &passed)) != 0)
		return rc;
	if (passed) {
		k->refusal = CASH_CAP_CUSTOMER;
		return SIGIL_EDENIED;
	}
	if ((rc = cap_passed(st, txn, c, 1, k->device, k->cap_device_fen, day,
	    &passed)) != 0)
		return rc;
	if (passed) {
		k->refusal = CASH_CAP_DEVICE;
		return SIGIL_EDENIED;
	}
	return 0;
}

int
cash_apply(struct store *st, MDB_txn *txn, const struct claim *c,
    uint32_t day)
{
	const struct claim_cash *k = &c->cash;
	uint8_t kb[DAYS_KEY_LEN];
	struct payout o;
	int rc;

	if (k->fen == 0)
		return 0;
	/* A claim id whose out_bill_no would not fit: never in practice. */
	if (!payout_out_bill_no_fits(c->brand_id, c->id))
		return SIGIL_EFULL;
	memset(&o, 0, sizeof o);
	o.brand_id = c->brand_id;
	o.claim_id = c->id;
	o.campaign_id = cash_campaign(c);
	o.customer_id = c->customer_id;
	o.serial = c->serial;
	o.device = k->device;
	o.fen = k->fen;
	o.state = k->held ? PAYOUT_HELD : PAYOUT_PENDING;
	o.next_at = k->held ? 0 : c->at;
	o.created = o.updated = c->at;
	o.score = k->score;
	memcpy(o.reasons, k->reasons, sizeof o.reasons);
	memcpy(o.appid, k->appid, sizeof o.appid);
	memcpy(o.openid, k->openid, sizeof o.openid);
	if ((rc = payout_tally(st, txn, o.brand_id, o.campaign_id, o.fen, 0,
	    o.state)) != 0 ||
	    (rc = payout_put(st, txn, &o, 0)) != 0 ||
	    (rc = payout_due_set(st, txn, &o, 1)) != 0 ||
	    (rc = payout_cust_set(st, txn, &o, 1)) != 0)
		return rc;
	days_key(kb, c->brand_id, 0, c->customer_id, day);
	if ((rc = days_add(st, txn, kb, k->fen)) != 0)
		return rc;
	if (k->device == 0)
		return 0;
	days_key(kb, c->brand_id, 1, k->device, day);
	return days_add(st, txn, kb, k->fen);
}

/* ---- a customer's payouts: the erasure's cut, the merge's move ---- */

/*
 * For each of from's payouts: the index entry goes; with to != 0 the
 * row becomes to's; with to == 0 (an erasure) the row names nobody, a
 * HELD one is rejected (its fen returned), a final one loses its openid
 * (a PENDING or ACCEPTED one keeps it until it settles: a retry at
 * WeChat Pay must ask for the very same transfer; settle drops it then).
 */
static int
payouts_rewrite(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t from, uint64_t to, int64_t now)
{
	struct u64vec ids = { 0 };
	struct payout old, o;
	int rc;

	if (st->payouts_absent)
		return 0;
	if ((rc = payout_cust_claims(st, txn, brand_id, from, &ids)) != 0)
		goto out;
	for (size_t i = 0; i < ids.n; i++) {
		rc = payout_load(st, txn, brand_id, ids.v[i], &old);
		if (rc == MDB_NOTFOUND)
			continue;
		if (rc != 0 || (rc = payout_cust_set(st, txn, &old, 0)) != 0)
			goto out;
		o = old;
		o.customer_id = to;
		o.updated = now;
		if (to == 0 && o.state == PAYOUT_HELD) {
			o.state = PAYOUT_REJECTED;
			snprintf(o.fail_reason, sizeof o.fail_reason,
			    "customer erased");
		}
		if (to == 0 && (o.state == PAYOUT_PAID ||
		    o.state == PAYOUT_FAILED || o.state == PAYOUT_REJECTED)) {
			o.openid[0] = '\0';
			o.package_info[0] = '\0';
		}
		if ((rc = payout_move(st, txn, &old, &o, to == 0)) != 0 ||
		    (rc = payout_cust_set(st, txn, &o, 1)) != 0)
			goto out;
	}
out:
	free(ids.v);
	return rc;
}

int
payouts_erase(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t customer_id)
{
	return payouts_rewrite(st, txn, brand_id, customer_id, 0,
	    sigil_now_us());
}

/* from's day totals added to to's, from's deleted. */
static int
days_move(struct store *st, MDB_txn *txn, uint32_t brand_id, uint64_t from,
    uint64_t to)
{
	uint8_t kb[DAYS_KEY_LEN], kt[DAYS_KEY_LEN];
	MDB_val k = mval(kb, DAYS_KEY_LEN), v;
	MDB_cursor *cur;
	struct u64vec days = { 0 }, fens = { 0 };
	int rc;

	days_key(kb, brand_id, 0, from, 0);
	if ((rc = mdb_cursor_open(txn, st->cash_days, &cur)) != 0)
		return rc;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != DAYS_KEY_LEN || memcmp(k.mv_data, kb, 13) != 0)
			break;
		if (v.mv_size != 8) {
			rc = SIGIL_EIO;
			break;
		}
		if ((rc = u64vec_push(&days, sigil_be32_get(
		    (const uint8_t *)k.mv_data + 13))) != 0 ||
		    (rc = u64vec_push(&fens, le64_get(v.mv_data))) != 0)
			break;
	}
	mdb_cursor_close(cur);
	if (rc != 0 && rc != MDB_NOTFOUND)
		goto out;
	rc = 0;
	for (size_t i = 0; i < days.n && rc == 0; i++) {
		days_key(kb, brand_id, 0, from, (uint32_t)days.v[i]);
		days_key(kt, brand_id, 0, to, (uint32_t)days.v[i]);
		k = mval(kb, DAYS_KEY_LEN);
		if ((rc = mdb_del(txn, st->cash_days, &k, NULL)) == 0)
			rc = days_add(st, txn, kt, (int64_t)fens.v[i]);
	}
out:
	free(days.v);
	free(fens.v);
	return rc;
}

int
payouts_move(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t from, uint64_t to)
{
	int rc;

	if (to == 0)
		return SIGIL_EINVAL;
	if (st->payouts_absent)
		return 0;
	if ((rc = payouts_rewrite(st, txn, brand_id, from, to,
	    sigil_now_us())) != 0)
		return rc;
	return days_move(st, txn, brand_id, from, to);
}
