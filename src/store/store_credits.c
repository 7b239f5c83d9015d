/*
 * store_credits.c - a claim's credit list (claims.h: struct
 * claim_credit) judged and written in the claim's own transaction, a
 * bonus paid outside a claim (a registration: store_bonus_pay), and the
 * campaigns' usage rows they charge (campaign_usage, whose table
 * store_claims.c owns).
 *
 * A claim with credits pays each credit from its own campaign's budget:
 * credits_check (reads only, so that a refusal leaves the batch's
 * transaction as it was) judges them in order against the campaigns'
 * usage as this transaction sees it (earlier claims of the batch
 * included) plus the credits before it in the same claim, and marks the
 * ones that cannot be paid dropped; credits_apply then writes the others:
 * an EARN ledger entry each (ref = the claim id), noted to its campaign
 * (ledger_earn_campaign), the campaign's usage, the bonus row and the
 * totals (store_bonuses.c). LMDB has one writer, so no two claims can
 * both see the same budget left: a budget is never overdrawn, whatever
 * the concurrency.
 *
 * Owns no table of its own. May call store_bonuses.c, store_customers.c
 * (customer_live), store_ledger.c (ledger_settle, ledger_put,
 * ledger_earn_campaign) and store_counters.c (stats_add). Called by
 * store_claims.c (the claims' group commit and a campaign's usage).
 */
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "sigil/store.h"
#include "sigil/util.h"
#include "store_impl.h"

#define USAGE_LEN		(16 + 4 * STORE_PRIZES_MAX)

int
campaign_usage_get(struct store *st, MDB_txn *txn, const uint8_t *key,
    struct campaign_usage_row *u)
{
	MDB_val k = mval(key, 8), v;
	const uint8_t *p;
	int rc = mdb_get(txn, st->campaign_usage, &k, &v);

	memset(u, 0, sizeof(*u));
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (v.mv_size != USAGE_LEN)
		return SIGIL_EIO;
	p = v.mv_data;
	u->points_spent = (int64_t)le64_get(p);
	u->claims = le64_get(p + 8);
	for (int i = 0; i < STORE_PRIZES_MAX; i++)
		u->prizes_given[i] = le32_get(p + 16 + 4 * i);
	return 0;
}

int
campaign_usage_put(struct store *st, MDB_txn *txn, const uint8_t *key,
    const struct campaign_usage_row *u)
{
	uint8_t vb[USAGE_LEN];
	MDB_val k = mval(key, 8), v = mval(vb, USAGE_LEN);

	le64_put(vb, (uint64_t)u->points_spent);
	le64_put(vb + 8, u->claims);
	for (int i = 0; i < STORE_PRIZES_MAX; i++)
		le32_put(vb + 16 + 4 * i, u->prizes_given[i]);
	return mdb_put(txn, st->campaign_usage, &k, &v, 0);
}

/* Whose a credit is: the claim's customer when it names none. */
static uint64_t
credit_owner(const struct claim *c, const struct claim_credit *cr)
{
	return cr->customer_id != 0 ? cr->customer_id : c->customer_id;
}

/*
 * The customer's claims on China days [from, to] (claim_days), and
 * whether they have any claim row at all (from > to: only that).
 */
static int
claims_between(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t customer_id, uint32_t from, uint32_t to, uint64_t *n,
    int *any)
{
	uint8_t kb[16];
	MDB_val k = mval(kb, 16), v;
	MDB_cursor *cur;
	int rc;

	*n = 0;
	*any = 0;
	sigil_be32_put(kb, brand_id);
	sigil_be64_put(kb + 4, customer_id);
	sigil_be32_put(kb + 12, from > to ? 0 : from);
	if ((rc = mdb_cursor_open(txn, st->claim_days, &cur)) != 0)
		return rc;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 16 || memcmp(k.mv_data, kb, 12) != 0)
			break;
		*any = 1;
		if (from > to ||
		    sigil_be32_get((const uint8_t *)k.mv_data + 12) > to)
			break;
		if (v.mv_size == 4)
			*n += le32_get(v.mv_data);
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/*
 * Whether bonus credit cr of claim c is due (its condition holds and it
 * was not paid in its period): 1 due, 0 not, < 0 an error. today is the
 * claim's China day index. Sets cr->period for a streak.
 */
static int
bonus_due(struct store *st, MDB_txn *txn, const struct claim *c,
    struct claim_credit *cr, uint32_t today)
{
	uint64_t who = credit_owner(c, cr), n;
	uint32_t from = today, to = today;
	int rc, paid, any;

	switch (cr->bonus) {
	case BONUS_FIRST_SCAN:
		if ((rc = claims_between(st, txn, c->brand_id, who, 1, 0, &n,
		    &any)) != 0)
			return rc;
		if (any)
			return 0;
		cr->period = from = to = 0;
		break;
	case BONUS_BIRTHDAY:
		from = to = cr->period;
		break;
	case BONUS_STREAK:
		if (cr->days == 0 || cr->need == 0)
			return 0;
		from = cr->days - 1 > today ? 0 : today - (cr->days - 1);
		if ((rc = claims_between(st, txn, c->brand_id, who, from,
		    today, &n, &any)) != 0)
			return rc;
		if (n + 1 < cr->need)
			return 0;
		cr->period = today;
		break;
	default:
		return 0;
	}
	if ((rc = bonus_paid(st, txn, c->brand_id, who, cr->campaign_id,
	    cr->bonus, from, to, &paid)) != 0)
		return rc;
	return !paid;
}

/* Two bonus credits of one claim that one bonus row would both pay. */
static int
bonus_same(const struct claim *c, const struct claim_credit *a,
    const struct claim_credit *b)
{
	return a->kind == CREDIT_BONUS && b->kind == CREDIT_BONUS &&
	    a->bonus == b->bonus && a->campaign_id == b->campaign_id &&
	    credit_owner(c, a) == credit_owner(c, b) &&
	    (a->bonus == BONUS_STREAK || a->period == b->period);
}

int
credits_check(struct store *st, MDB_txn *txn, struct claim *c,
    uint32_t today)
{
	struct { uint32_t id; int64_t spent; } sp[CLAIM_CREDITS_MAX];
	struct campaign_usage_row u;
	struct customer cu;
	size_t i, j, nsp = 0;
	uint32_t orig = c->campaign_id;
	int64_t mine = 0, total;
	int rc, main = -1;

	if (c->ncredits > CLAIM_CREDITS_MAX)
		return SIGIL_EINVAL;
	for (i = 0; i < c->ncredits; i++) {
		struct claim_credit *cr = &c->credits[i];
		uint8_t uk[8];
		MDB_val k = mval(uk, 8), v;

		cr->dropped = 1;
		if (cr->points <= 0 || cr->budget < 0 ||
		    cr->kind < CREDIT_BASE || cr->kind > CREDIT_REBATE)
			continue;
		if (cr->customer_id != 0 && cr->customer_id != c->customer_id) {
			rc = customer_live(st, txn, c->brand_id,
			    cr->customer_id, &cu);
			if (rc == SIGIL_ENOTFOUND || rc == SIGIL_ESTATE)
				continue;
			if (rc != 0)
				return rc;
		}
		/* a credit of a campaign that is not there is not paid */
		bid_key(uk, c->brand_id, cr->campaign_id);
		if (cr->campaign_id != 0 &&
		    (rc = mdb_get(txn, st->campaigns, &k, &v)) != 0) {
			if (rc == MDB_NOTFOUND)
				continue;
			return rc;
		}
		if (cr->kind == CREDIT_BONUS) {
			for (j = 0; j < i; j++)
				if (!c->credits[j].dropped &&
				    bonus_same(c, &c->credits[j], cr))
					break;
			if (j < i)
				continue;
			if ((rc = bonus_due(st, txn, c, cr, today)) < 0)
				return rc;
			if (rc == 0)
				continue;
		}
		/* the budget, as this claim's credits before leave it */
		for (j = 0; j < nsp && sp[j].id != cr->campaign_id; j++)
			;
		if (j == nsp) {
			if ((rc = campaign_usage_get(st, txn, uk, &u)) != 0)
				return rc;
			sp[nsp].id = cr->campaign_id;
			sp[nsp++].spent = u.points_spent;
		}
		if (__builtin_add_overflow(sp[j].spent, cr->points, &total) ||
		    (cr->budget > 0 && cr->campaign_id != 0 &&
		    total > cr->budget))
			continue;
		sp[j].spent = total;
		cr->dropped = 0;
		if (main < 0 && (cr->kind == CREDIT_BASE ||
		    cr->kind == CREDIT_STACK))
			main = (int)i;
		if (credit_owner(c, cr) == c->customer_id)
			mine += cr->points;
	}
	if (main < 0 || mine <= 0)
		return SIGIL_EFULL;
	c->campaign_id = c->credits[main].campaign_id;
	c->points = mine;
	/* the prize is the caller's campaign's: gone when its credit is */
	if (c->prize >= 0 && c->campaign_id != orig)
		c->prize = -1;
	return 0;
}

/* One paid credit: the EARN entry, its campaign, the usage, the notes. */
static int
credit_write(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t who, const struct claim_credit *cr, int64_t at,
    int64_t expires_at, uint64_t ref, int claims)
{
	struct ledger_entry earn = { 0 };
	struct ledger_entries all = { 0 };
	struct campaign_usage_row u;
	uint8_t uk[8];
	int rc;

	earn.brand_id = brand_id;
	earn.customer_id = who;
	earn.type = LEDGER_EARN;
	earn.points = cr->points;
	earn.at = at;
	earn.expires_at = expires_at;
	earn.ref = ref;
	rc = ledger_settle(st, txn, brand_id, who, at, &all, NULL);
	free(all.v);
	if (rc != 0 || (rc = ledger_put(st, txn, &earn, NULL)) != 0 ||
	    (rc = ledger_earn_campaign(st, txn, &earn, cr->campaign_id)) != 0)
		return rc;
	if (cr->campaign_id != 0) {
		bid_key(uk, brand_id, cr->campaign_id);
		if ((rc = campaign_usage_get(st, txn, uk, &u)) != 0)
			return rc;
		u.points_spent += cr->points;
		u.claims += (uint64_t)claims;
		if ((rc = campaign_usage_put(st, txn, uk, &u)) != 0)
			return rc;
	}
	if (cr->kind == CREDIT_BONUS)
		return bonus_note(st, txn, brand_id, who, cr, at, ref);
	if (cr->kind == CREDIT_REBATE && cr->campaign_id != 0)
		return bonus_total_add(st, txn, brand_id, cr->campaign_id,
		    BONUS_TOTAL_REBATE, cr->points);
	return 0;
}

int
credits_apply(struct store *st, MDB_txn *txn, const struct claim *c,
    struct stat_acc *acc, uint32_t hour)
{
	int rc;

	for (size_t i = 0; i < c->ncredits; i++) {
		const struct claim_credit *cr = &c->credits[i];
		int counts = cr->kind == CREDIT_BASE || cr->kind == CREDIT_STACK;

		if (cr->dropped)
			continue;
		if ((rc = credit_write(st, txn, c->brand_id, credit_owner(c, cr),
		    cr, c->at, c->expires_at, c->id, counts)) != 0)
			return rc;
		if (hour == 0)
			continue;
		if ((rc = stats_add(st, txn, acc, c->brand_id, STAT_POINTS,
		    DIM_BRAND, 0, hour, cr->points)) != 0)
			return rc;
		if (cr->campaign_id != 0 &&
		    ((counts && (rc = stats_add(st, txn, acc, c->brand_id,
		    STAT_CLAIMS, DIM_CAMPAIGN, cr->campaign_id, hour, 1)) != 0) ||
		    (rc = stats_add(st, txn, acc, c->brand_id, STAT_POINTS,
		    DIM_CAMPAIGN, cr->campaign_id, hour, cr->points)) != 0))
			return rc;
	}
	return 0;
}

/* ---- a bonus outside a claim (a registration) ---- */

int
bonus_pay(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t customer_id, struct claim_credit *cr, int64_t at,
    int64_t expires_at)
{
	struct campaign_usage_row u;
	uint8_t uk[8];
	MDB_val k = mval(uk, 8), v;
	int64_t total;
	int rc, paid;

	cr->dropped = 1;
	if (st->bonuses_absent || cr->kind != CREDIT_BONUS ||
	    cr->campaign_id == 0 || cr->points <= 0 || cr->budget < 0)
		return 0;
	bid_key(uk, brand_id, cr->campaign_id);
	if ((rc = mdb_get(txn, st->campaigns, &k, &v)) == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if ((rc = bonus_paid(st, txn, brand_id, customer_id, cr->campaign_id,
	    cr->bonus, cr->period, cr->period, &paid)) != 0 || paid)
		return rc;
	if ((rc = campaign_usage_get(st, txn, uk, &u)) != 0)
		return rc;
	if (__builtin_add_overflow(u.points_spent, cr->points, &total) ||
	    (cr->budget > 0 && total > cr->budget))
		return 0;
	cr->dropped = 0;
	return credit_write(st, txn, brand_id, customer_id, cr, at, expires_at,
	    0, 0);
}

struct bonus_pay_arg {
	uint32_t		 brand_id;
	uint64_t		 customer_id;
	struct claim_credit	*cr;
	size_t			 n;
	int64_t			 at, expires_at;
};

static int
bonus_pay_fn(struct store *st, MDB_txn *txn, void *p)
{
	struct bonus_pay_arg *a = p;
	struct customer cu;
	int rc;

	if ((rc = customer_live(st, txn, a->brand_id, a->customer_id,
	    &cu)) != 0)
		return rc;
	for (size_t i = 0; i < a->n; i++)
		if ((rc = bonus_pay(st, txn, a->brand_id, a->customer_id,
		    &a->cr[i], a->at, a->expires_at)) != 0)
			return rc;
	return 0;
}

int
store_bonus_pay(struct store *st, uint32_t brand_id, uint64_t customer_id,
    struct claim_credit *cr, size_t n, int64_t at, int64_t expires_at)
{
	struct bonus_pay_arg a = { brand_id, customer_id, cr, n, at,
	    expires_at };

	if (cr == NULL || n == 0)
		return n == 0 ? 0 : SIGIL_EINVAL;
	if (a.at == 0)
		a.at = sigil_now_us();
	return store_write(st, bonus_pay_fn, &a);
}

