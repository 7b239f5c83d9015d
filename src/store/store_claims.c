/*
 * store_claims.c - campaigns (campaigns, brand || id: the JSON
 * configuration loyalty.c owns) and their usage (campaign_usage: points
 * spent, claims, prizes given), claims (claims, code key || role: one
 * claim per code and role, ever) and the customers' daily claim counts
 * (claim_days), the hidden-PIN failure counts (pin_fails), and the
 * brands' loyalty settings (brand_settings, JSON too).
 *
 * One claim per (brand, serial, role), ever: the check and the write are
 * in one write transaction and LMDB has one writer, so of many
 * simultaneous claims exactly one finds the key absent. The same
 * transaction checks the campaign's budget and the customer's daily cap,
 * draws down prize stock, appends the EARN entry, the activity entry and
 * the counters, so a refused claim leaves no trace and an accepted one is
 * never half-written. sigild commits claims in groups (store_claims_commit,
 * one transaction and one sync for a whole writer round): each claim is
 * split into claim_check (reads only, so a refusal needs no rollback and
 * the batch goes on) and claim_apply (whose errors abort the batch).
 *
 * Owns the tables campaigns, campaign_usage, claims, claim_days,
 * pin_fails and brand_settings, and the meta counter next_claim.
 * It may call store_env.c's runner and snapshot, store_rows.c,
 * store_customers.c (customer_live, activity_event), store_ledger.c
 * (ledger_settle, ledger_put), store_counters.c (stats_add, stats_flush),
 * store_cash.c (a claim's cash: cash_valid, cash_check, cash_apply) and
 * store_notes.c (a PIN unlock is a correction: correction_init,
 * correction_fn). It is the top of the late tables: none of those may
 * ever call it back. Its group commit, store_claims_commit, has one
 * caller: the writer (src/domain/writer.c), once a round.
 */
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "sigil/code.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "store_impl.h"

#define CLAIM_KEY_LEN		(CODE_KEY_LEN + 1)
#define CLAIM_REC_LEN		45

/* ---- campaigns ---- */

/* struct usage is store_impl.h's struct campaign_usage_row, read and
 * written by store_credits.c's campaign_usage_get/put. */
#define usage	campaign_usage_row

static int
campaign_put(struct store *st, MDB_txn *txn, const void *row)
{
	const struct campaign *c = row;
	struct json_row r = { c->brand_id, c->id, c->created, c->updated,
	    c->config };

	return json_row_put(txn, st->campaigns, &r, NULL, 0);
}

/* Decodes with the config malloc'd and the usage from its own table. */
static int
campaign_decode(struct store *st, MDB_txn *txn, MDB_val k, MDB_val v,
    struct campaign *out)
{
	struct campaign c = { 0 };
	struct json_row r;
	const uint8_t *extra;
	struct usage u;
	int rc;

	if ((rc = json_row_decode(k, v, 0, STORE_CAMPAIGN_MAX, &r,
	    &extra)) != 0)
		return rc;
	if ((rc = campaign_usage_get(st, txn, k.mv_data, &u)) != 0) {
		free(r.json);
		return rc;
	}
	c.brand_id = r.brand_id;
	c.id = r.id;
	c.created = r.created;
	c.updated = r.updated;
	c.config = r.json;
	c.points_spent = u.points_spent;
	c.claims = u.claims;
	memcpy(c.prizes_given, u.prizes_given, sizeof(c.prizes_given));
	*out = c;
	return 0;
}

static int
campaign_load(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint32_t id, struct campaign *out)
{
	uint8_t kb[8];
	MDB_val k = mval(kb, 8), v;
	int rc;

	bid_key(kb, brand_id, id);
	if ((rc = mdb_get(txn, st->campaigns, &k, &v)) != 0)
		return rc;
	return campaign_decode(st, txn, k, v, out);
}

int
store_campaign_add(struct store *st, struct campaign *c)
{
	struct campaign w;

	if (c == NULL || !json_text_ok(c->config, STORE_CAMPAIGN_MAX))
		return SIGIL_EINVAL;
	w = *c;
	w.created = w.updated = sigil_now_us();
	return rows_add(st, st->campaigns, campaign_put, &w, w.brand_id, &w.id,
	    c, sizeof(w));
}

static int
campaign_update_fn(struct store *st, MDB_txn *txn, void *p)
{
	struct campaign *c = p;
	uint8_t kb[8];
	MDB_val k = mval(kb, 8), v;
	int rc;

	bid_key(kb, c->brand_id, c->id);
	if ((rc = mdb_get(txn, st->campaigns, &k, &v)) != 0)
		return rc;
	if (v.mv_size < JSON_ROW_FIXED)
		return SIGIL_EIO;
	c->created = (int64_t)le64_get(v.mv_data);
	return campaign_put(st, txn, c);
}

int
store_campaign_update(struct store *st, uint32_t brand_id, uint32_t id,
    const char *config)
{
	struct campaign w = { 0 };

	if (!json_text_ok(config, STORE_CAMPAIGN_MAX))
		return SIGIL_EINVAL;
	w.brand_id = brand_id;
	w.id = id;
	w.config = (char *)config;
	w.updated = sigil_now_us();
	return store_write(st, campaign_update_fn, &w);
}

int
store_campaign_get(struct store *st, uint32_t brand_id, uint32_t id,
    struct campaign *out)
{
	if (st->loyalty_absent)
		return SIGIL_ENOTFOUND;
	return STORE_READ(st, campaign_load(st, txn, brand_id, id, out));
}

void
store_campaign_clear(struct campaign *c)
{
	if (c == NULL)
		return;
	free(c->config);
	c->config = NULL;
}

struct campaign_walk {
	struct store	*st;
	MDB_txn		*txn;
	struct cb_ctx	 c;
};

static int
campaign_each_one(MDB_val k, MDB_val v, void *p)
{
	struct campaign_walk *w = p;
	struct campaign c;
	int rc;

	if ((rc = campaign_decode(w->st, w->txn, k, v, &c)) != 0)
		return rc;
	rc = ((int (*)(void *, const struct campaign *))w->c.fn)(w->c.arg,
	    &c);
	store_campaign_clear(&c);
	return rc;
}

/* campaign_decode reads the usage in the walk's own snapshot. */
static int
campaigns_walk(MDB_txn *txn, struct campaign_walk *w, uint32_t brand_id,
    int *stop)
{
	uint8_t kb[8];

	w->txn = txn;
	bid_key(kb, brand_id, 0);
	return rows_walk_txn(txn, w->st->campaigns, kb, 8, 4,
	    campaign_each_one, w, stop);
}

int
store_campaign_each(struct store *st, uint32_t brand_id,
    int (*fn)(void *arg, const struct campaign *c), void *arg)
{
	struct campaign_walk w = { st, NULL, { (any_fn)fn, arg } };
	int rc, stop = 0;

	if (st->loyalty_absent)
		return 0;
	rc = STORE_READ(st, campaigns_walk(txn, &w, brand_id, &stop));
	return stop ? stop : rc;
}

/* ---- claims ---- */

static void
claim_key(uint8_t *p, uint32_t brand_id, uint64_t serial, int role)
{
	code_key_put(p, brand_id, serial);
	p[CODE_KEY_LEN] = (uint8_t)role;
}

int
claim_decode(MDB_val k, MDB_val v, void *out)
{
	const uint8_t *p = v.mv_data, *kp = k.mv_data;
	struct claim c = { 0 };

	if (k.mv_size != CLAIM_KEY_LEN || v.mv_size != CLAIM_REC_LEN ||
	    kp[CODE_KEY_LEN] < CLAIM_CONSUMER || kp[CODE_KEY_LEN] > CLAIM_SALES)
		return SIGIL_EIO;
	c.brand_id = sigil_be32_get(kp);
	for (int i = 4; i < CODE_KEY_LEN; i++)
		c.serial = c.serial << 8 | kp[i];
	c.role = kp[CODE_KEY_LEN];
	c.id = le64_get(p);
	c.customer_id = le64_get(p + 8);
	c.campaign_id = le32_get(p + 16);
	c.points = (int64_t)le64_get(p + 20);
	c.prize = (int8_t)p[28];
	c.at = (int64_t)le64_get(p + 29);
	c.expires_at = (int64_t)le64_get(p + 37);
	*(struct claim *)out = c;
	return 0;
}

/*
 * A batch of claims in one transaction. work holds the working copies
 * (the caller's claims with at filled in, reset on every run because a
 * run may be retried after map growth) and results what each claim got;
 * both are copied out only after the commit.
 */
struct claims_arg {
	const struct claim		*in;
	struct claim			*work;
	const struct claim_limits	*lim;	/* n of them, or NULL */
	const int			*valid;	/* 0 or SIGIL_EINVAL per claim */
	int				*results;
	size_t				 n;
	struct stat_acc			 acc;
};

/*
 * What a claim needs to know before its first write, gathered by
 * claim_check and consumed by claim_apply.
 */
struct claim_plan {
	uint8_t		uk[8];		/* campaign usage key */
	uint8_t		dk[16];		/* customer day-count key */
	struct usage	u;
	int64_t		spent;
	uint32_t	today;
};

/*
 * The business checks of one claim, reads only: 0 when it may be
 * written, a refusal (SIGIL_ECONFLICT, EFULL, EDENIED, ENOTFOUND,
 * ESTATE) or an I/O error. Because nothing is written here, a refusal
 * leaves the transaction exactly as it was and the batch goes on.
 */
static int
claim_check(struct store *st, MDB_txn *txn, struct claim *c,
    const struct claim_limits *lim, struct claim_plan *p)
{
	uint8_t ck[CLAIM_KEY_LEN];
	MDB_val k = mval(ck, CLAIM_KEY_LEN), v;
	struct customer cu;
	int rc;

	p->today = 0;
	if ((rc = customer_live(st, txn, c->brand_id, c->customer_id,
	    &cu)) != 0)
		return rc;
	bid_key(p->uk, c->brand_id, c->campaign_id);
	if (c->campaign_id != 0) {
		MDB_val ck2 = mval(p->uk, 8), cv;

		if ((rc = mdb_get(txn, st->campaigns, &ck2, &cv)) != 0)
			return map_err(rc);
	}
	claim_key(ck, c->brand_id, c->serial, c->role);
	if ((rc = mdb_get(txn, st->claims, &k, &v)) == 0)
		return SIGIL_ECONFLICT;
	if (rc != MDB_NOTFOUND)
		return map_err(rc);
	if ((rc = campaign_usage_get(st, txn, p->uk, &p->u)) != 0)
		return map_err(rc);
	if (c->ncredits == 0 &&
	    (__builtin_add_overflow(p->u.points_spent, c->points, &p->spent) ||
	    (lim->budget > 0 && p->spent > lim->budget)))
		return SIGIL_EFULL;
	sigil_be32_put(p->dk, c->brand_id);
	sigil_be64_put(p->dk + 4, c->customer_id);
	sigil_be32_put(p->dk + 12, (uint32_t)floor_div(lim->day_start,
	    DAY_US));
	k = mval(p->dk, 16);
	rc = mdb_get(txn, st->claim_days, &k, &v);
	if (rc == 0 && v.mv_size == 4)
		p->today = le32_get(v.mv_data);
	else if (rc == 0)
		return SIGIL_EIO;
	else if (rc != MDB_NOTFOUND)
		return map_err(rc);
	if (lim->daily_cap != 0 && p->today >= lim->daily_cap)
		return SIGIL_EDENIED;
	/* the credits: each from its campaign's budget (store_bonuses.c) */
	if (c->ncredits != 0 && !st->bonuses_absent &&
	    (rc = credits_check(st, txn, c, (uint32_t)floor_div(
	    lim->day_start, DAY_US))) != 0)
		return rc == SIGIL_EFULL ? rc : map_err(rc);
	/* the cash, last: it needs the points the credits left (store_cash.c) */
	if ((rc = cash_check(st, txn, c, (uint32_t)floor_div(lim->day_start,
	    DAY_US))) != 0)
		return rc == SIGIL_EFULL || rc == SIGIL_EDENIED ? rc :
		    map_err(rc);
	/*
	 * A cash prize whose stock is given out pays no cash either:
	 * claim_apply drops the prize, and the money is the prize's.
	 */
	if (c->cash.fen > 0 && c->prize >= 0 &&
	    p->u.prizes_given[c->prize] >= lim->prize_stock[c->prize]) {
		c->cash.fen = 0;
		c->cash.dropped = 1;
		c->cash.refusal = CASH_BUDGET;
		if (c->points == 0)
			return SIGIL_EFULL;
	}
	return 0;
}

/* A refusal that claim_check may give; anything else fails the batch. */
static int
claim_refusal(int rc)
{
	return rc == SIGIL_ECONFLICT || rc == SIGIL_EFULL ||
	    rc == SIGIL_EDENIED || rc == SIGIL_ENOTFOUND ||
	    rc == SIGIL_ESTATE;
}

/* The rest of a claim with credits: its credits, activity and counts. */
static int
claim_credits_apply(struct store *st, MDB_txn *txn, const struct claim *c,
    struct stat_acc *acc)
{
	uint32_t h = 0;
	int rc;

	if (!stats_hour(c->at, &h))
		h = 0;
	if ((rc = credits_apply(st, txn, c, acc, h)) != 0 ||
	    (rc = activity_event(st, txn, c->brand_id, ACTIVITY_CLAIM, c->at,
	    c->customer_id, c->id, c->points)) != 0 || h == 0)
		return rc;
	return stats_add(st, txn, acc, c->brand_id, STAT_CLAIMS, DIM_BRAND,
	    0, h, 1);
}

/*
 * The writes of one checked claim. Any error here leaves the
 * transaction half-written, so the caller aborts the whole batch.
 */
static int
claim_apply(struct store *st, MDB_txn *txn, struct claim *c,
    const struct claim_limits *lim, struct claim_plan *p,
    struct stat_acc *acc)
{
	uint8_t ck[CLAIM_KEY_LEN], vb[CLAIM_REC_LEN], cb[4];
	MDB_val k, v;
	struct ledger_entry earn = { 0 };
	struct ledger_entries all = { 0 };
	uint64_t id;
	uint32_t h;
	int rc;

	if (c->prize >= 0) {
		if (p->u.prizes_given[c->prize] >= lim->prize_stock[c->prize])
			c->prize = -1;
		else
			p->u.prizes_given[c->prize]++;
	}
	if ((rc = rows_global_id(st, txn, "next_claim", &id)) != 0)
		return rc;
	c->id = id;
	le64_put(vb, id);
	le64_put(vb + 8, c->customer_id);
	le32_put(vb + 16, c->campaign_id);
	le64_put(vb + 20, (uint64_t)c->points);
	vb[28] = (uint8_t)(int8_t)c->prize;
	le64_put(vb + 29, (uint64_t)c->at);
	le64_put(vb + 37, (uint64_t)c->expires_at);
	claim_key(ck, c->brand_id, c->serial, c->role);
	k = mval(ck, CLAIM_KEY_LEN);
	v = mval(vb, CLAIM_REC_LEN);
	if ((rc = mdb_put(txn, st->claims, &k, &v, MDB_NOOVERWRITE)) != 0)
		return rc;
	/* the cash: reserved, the day's totals, the payout (store_cash.c) */
	if ((rc = cash_apply(st, txn, c, (uint32_t)floor_div(lim->day_start,
	    DAY_US))) != 0)
		return rc;
	/* segment criteria: the product and campaign claimed */
	if ((rc = segfacts_claim(st, txn, c)) != 0)
		return rc;
	if (c->ncredits != 0) {
		/* the prize of the caller's campaign (its usage as read) */
		if (c->prize >= 0 && c->campaign_id != 0 &&
		    (rc = campaign_usage_put(st, txn, p->uk, &p->u)) != 0)
			return rc;
	} else if (c->campaign_id != 0) {
		p->u.points_spent = p->spent;
		p->u.claims++;
		if ((rc = campaign_usage_put(st, txn, p->uk, &p->u)) != 0)
			return rc;
	}
	le32_put(cb, p->today + 1);
	k = mval(p->dk, 16);
	v = mval(cb, 4);
	if ((rc = mdb_put(txn, st->claim_days, &k, &v, 0)) != 0)
		return rc;

	if (c->ncredits != 0)
		return claim_credits_apply(st, txn, c, acc);
	/* A cash-only claim earns no points: no EARN entry. */
	if (c->points == 0)
		goto counted;
	earn.brand_id = c->brand_id;
	earn.customer_id = c->customer_id;
	earn.type = LEDGER_EARN;
	earn.points = c->points;
	earn.at = c->at;
	earn.expires_at = c->expires_at;
	earn.ref = id;
	rc = ledger_settle(st, txn, c->brand_id, c->customer_id, c->at, &all,
	    NULL);
	if (rc == 0)
		rc = ledger_put(st, txn, &earn, NULL);
	if (rc == 0)
		rc = ledger_earn_campaign(st, txn, &earn, c->campaign_id);
	free(all.v);
	if (rc != 0)
		return rc;
counted:
	if ((rc = activity_event(st, txn, c->brand_id, ACTIVITY_CLAIM, c->at,
	    c->customer_id, id, c->points)) != 0 || !stats_hour(c->at, &h))
		return rc;
	if ((rc = stats_add(st, txn, acc, c->brand_id, STAT_CLAIMS,
	    DIM_BRAND, 0, h, 1)) != 0 ||
	    (rc = stats_add(st, txn, acc, c->brand_id, STAT_POINTS,
	    DIM_BRAND, 0, h, c->points)) != 0)
		return rc;
	if (c->campaign_id != 0 &&
	    ((rc = stats_add(st, txn, acc, c->brand_id, STAT_CLAIMS,
	    DIM_CAMPAIGN, c->campaign_id, h, 1)) != 0 ||
	    (rc = stats_add(st, txn, acc, c->brand_id, STAT_POINTS,
	    DIM_CAMPAIGN, c->campaign_id, h, c->points)) != 0))
		return rc;
	return 0;
}

static int
claims_fn(struct store *st, MDB_txn *txn, void *arg)
{
	static const struct claim_limits none = { 0 };
	struct claims_arg *a = arg;
	struct claim_plan plan;
	const struct claim_limits *lim;
	int rc;

	/* A retried run starts again from the caller's claims. */
	memcpy(a->work, a->in, a->n * sizeof(*a->work));
	memset(&a->acc, 0, sizeof(a->acc));
	for (size_t i = 0; i < a->n; i++) {
		if ((a->results[i] = a->valid[i]) != 0)
			continue;
		lim = a->lim != NULL ? &a->lim[i] : &none;
		memset(&plan, 0, sizeof(plan));
		rc = claim_check(st, txn, &a->work[i], lim, &plan);
		if (rc != 0 && claim_refusal(rc)) {
			a->results[i] = rc;
			continue;
		}
		if (rc != 0 || (rc = claim_apply(st, txn, &a->work[i], lim,
		    &plan, &a->acc)) != 0)
			return rc;
	}
	return stats_flush(st, txn, &a->acc);
}

/* SIGIL_EINVAL when store_claim's contract refuses c under lim (points
 * may be 0 for a claim with cash: claims.h). */
static int
claim_valid(const struct claim *c, const struct claim_limits *lim)
{
	if (c->role < CLAIM_CONSUMER || c->role > CLAIM_SALES ||
	    c->serial == 0 || c->serial > CODE_SERIAL_MAX || c->points < 0 ||
	    (c->points == 0 && c->cash.fen <= 0) ||
	    c->customer_id == 0 || lim->nprizes < 0 ||
	    lim->nprizes > STORE_PRIZES_MAX || c->prize < -1 ||
	    c->prize >= lim->nprizes || lim->budget < 0 ||
	    c->ncredits > CLAIM_CREDITS_MAX)
		return SIGIL_EINVAL;
	return cash_valid(c);
}

int
store_claims_commit(struct store *st, struct claim *claims,
    const struct claim_limits *limits, int *results, size_t n)
{
	static const struct claim_limits none = { 0 };
	struct claims_arg *a;
	int *valid = NULL, *res = NULL, rc = SIGIL_ENOMEM;
	struct claim *in = NULL, *work = NULL;
	size_t i, nvalid = 0;

	if (n == 0)
		return 0;
	if (claims == NULL || results == NULL)
		return SIGIL_EINVAL;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		goto fail;
	a->lim = limits;
	a->n = n;
	if ((a->in = in = calloc(n, sizeof(*in))) == NULL ||
	    (a->work = work = calloc(n, sizeof(*work))) == NULL ||
	    (a->valid = valid = calloc(n, sizeof(*valid))) == NULL ||
	    (a->results = res = calloc(n, sizeof(*res))) == NULL)
		goto cleanup;
	for (i = 0; i < n; i++) {
		in[i] = claims[i];
		if (in[i].at == 0)
			in[i].at = sigil_now_us();
		valid[i] = claim_valid(&in[i], limits != NULL ? &limits[i] :
		    &none);
		if (valid[i] == 0)
			nvalid++;
	}
	/* Nothing to write: answer without taking the writer lock. */
	if (nvalid == 0) {
		memcpy(results, valid, n * sizeof(*results));
		rc = 0;
		goto cleanup;
	}
	rc = store_write(st, claims_fn, a);
	if (rc == 0)
		for (i = 0; i < n; i++) {
			results[i] = res[i];
			if (res[i] == 0)
				claims[i] = work[i];
			else	/* why the cash refused it (claims.h) */
				claims[i].cash.refusal = work[i].cash.refusal;
		}
cleanup:
	free(res);
	free(valid);
	free(work);
	free(in);
	free(a);
fail:
	if (rc != 0)
		for (i = 0; i < n; i++)
			results[i] = rc;
	return rc;
}

int
store_claim(struct store *st, struct claim *c,
    const struct claim_limits *lim)
{
	int result, rc;

	if (c == NULL)
		return SIGIL_EINVAL;
	if ((rc = store_claims_commit(st, c, lim, &result, 1)) != 0)
		return rc;
	return result;
}

int
store_claim_get(struct store *st, uint32_t brand_id, uint64_t serial,
    int role, struct claim *out)
{
	uint8_t kb[CLAIM_KEY_LEN];

	if (serial > CODE_SERIAL_MAX || role < CLAIM_CONSUMER ||
	    role > CLAIM_SALES)
		return SIGIL_ENOTFOUND;
	claim_key(kb, brand_id, serial, role);
	return rows_get(st, st->claims, kb, CLAIM_KEY_LEN, claim_decode, out);
}

ROWS_EACH_STEP(claim_each_one, struct claim, claim_decode)

int
store_code_claims(struct store *st, uint32_t brand_id, uint64_t serial,
    int (*fn)(void *arg, const struct claim *c), void *arg)
{
	uint8_t kb[CLAIM_KEY_LEN];

	if (serial > CODE_SERIAL_MAX)
		return 0;
	claim_key(kb, brand_id, serial, 0);
	return rows_each(st, st->claims, kb, CLAIM_KEY_LEN, CODE_KEY_LEN,
	    claim_each_one, (any_fn)fn, arg);
}

int
store_brand_claims(struct store *st, uint32_t brand_id,
    int (*fn)(void *arg, const struct claim *c), void *arg)
{
	uint8_t kb[CLAIM_KEY_LEN];

	claim_key(kb, brand_id, 0, 0);
	return rows_each(st, st->claims, kb, CLAIM_KEY_LEN, 4,
	    claim_each_one, (any_fn)fn, arg);
}

/* ---- hidden PIN failures ---- */

/*
 * pin_fails holds three kinds of row, told apart by key length: the code
 * key (9 bytes) for the code's count, code key || customer BE64 (17) for
 * one customer's on the code, brand BE32 || customer BE64 || day BE32
 * (16) for one customer's on one China day. Values are u32 LE.
 */
struct pin_arg {
	uint8_t		code[CODE_KEY_LEN];
	uint8_t		mine[CODE_KEY_LEN + 8];
	uint8_t		day[16];
	int		customer;	/* mine and day are keys */
	struct pin_fails out;
};

static void
pin_keys(struct pin_arg *a, uint32_t brand_id, uint64_t serial,
    uint64_t customer_id, uint32_t day)
{
	code_key_put(a->code, brand_id, serial);
	memcpy(a->mine, a->code, CODE_KEY_LEN);
	sigil_be64_put(a->mine + CODE_KEY_LEN, customer_id);
	sigil_be32_put(a->day, brand_id);
	sigil_be64_put(a->day + 4, customer_id);
	sigil_be32_put(a->day + 12, day);
	a->customer = customer_id != 0;
}

/* Reads one count (0 if absent) and, with add, adds one. */
static int
pin_count(struct store *st, MDB_txn *txn, const uint8_t *key, size_t klen,
    int add, uint32_t *out)
{
	uint8_t vb[4];
	MDB_val k = mval(key, klen), v;
	uint32_t n = 0;
	int rc = mdb_get(txn, st->pin_fails, &k, &v);

	if (rc == 0 && v.mv_size == 4)
		n = le32_get(v.mv_data);
	else if (rc == 0)
		return SIGIL_EIO;
	else if (rc != MDB_NOTFOUND)
		return rc;
	if (add) {
		if (n < UINT32_MAX)
			n++;
		le32_put(vb, n);
		v = mval(vb, 4);
		if ((rc = mdb_put(txn, st->pin_fails, &k, &v, 0)) != 0)
			return rc;
	}
	*out = n;
	return 0;
}

/* a's counts into a->out (the customer's with one), each one up with add. */
static int
pin_counts(struct store *st, MDB_txn *txn, struct pin_arg *a, int add)
{
	int rc = pin_count(st, txn, a->code, CODE_KEY_LEN, add, &a->out.code);

	if (rc == 0 && a->customer)
		rc = pin_count(st, txn, a->mine, sizeof a->mine, add,
		    &a->out.mine);
	if (rc == 0 && a->customer)
		rc = pin_count(st, txn, a->day, sizeof a->day, add,
		    &a->out.today);
	return rc;
}

static int
pin_fail_fn(struct store *st, MDB_txn *txn, void *p)
{
	return pin_counts(st, txn, p, 1);
}

int
store_pin_fail(struct store *st, uint32_t brand_id, uint64_t serial,
    uint64_t customer_id, uint32_t day, struct pin_fails *out)
{
	struct pin_arg a;

	if (serial == 0 || serial > CODE_SERIAL_MAX || customer_id == 0)
		return SIGIL_EINVAL;
	memset(&a, 0, sizeof a);
	pin_keys(&a, brand_id, serial, customer_id, day);
	return STORE_WRITE_OUT(st, pin_fail_fn, &a, a.out, out);
}

int
store_pin_fails(struct store *st, uint32_t brand_id, uint64_t serial,
    uint64_t customer_id, uint32_t day, struct pin_fails *out)
{
	struct pin_arg a;
	int rc;

	if (serial == 0 || serial > CODE_SERIAL_MAX)
		return SIGIL_EINVAL;
	memset(&a, 0, sizeof a);
	pin_keys(&a, brand_id, serial, customer_id, day);
	if (!st->loyalty_absent &&
	    (rc = STORE_READ(st, pin_counts(st, txn, &a, 0))) != 0)
		return rc;
	*out = a.out;
	return 0;
}

/* The code's count and every customer's count on it, to zero. */
static int
pin_unlock_change(struct store *st, MDB_txn *txn, struct correction *c)
{
	MDB_val k = mval(c->ck, CODE_KEY_LEN), v;
	MDB_cursor *cur;
	int rc;

	if ((rc = pin_count(st, txn, c->ck, CODE_KEY_LEN, 0,
	    &c->note->count)) != 0)
		return rc;
	if ((rc = mdb_cursor_open(txn, st->pin_fails, &cur)) != 0)
		return rc;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size < CODE_KEY_LEN ||
		    memcmp(k.mv_data, c->ck, CODE_KEY_LEN) != 0)
			break;
		if ((k.mv_size == CODE_KEY_LEN ||
		    k.mv_size == CODE_KEY_LEN + 8) &&
		    (rc = mdb_cursor_del(cur, 0)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int
store_pin_unlock(struct store *st, uint32_t brand_id, uint64_t serial,
    struct code_note *note)
{
	struct correction c;
	int rc;

	if ((rc = correction_init(&c, brand_id, serial, note,
	    pin_unlock_change)) != 0)
		return rc;
	note->kind = NOTE_PIN_UNLOCK;
	note->through = 0;
	return store_write(st, correction_fn, &c);
}

/* ---- a merge: one customer's claims and counts made another's ---- */

/* Adds the u32 count under from's key kf to to's key kt, deletes kf. */
static int
count_move(MDB_txn *txn, MDB_dbi dbi, const uint8_t *kf, const uint8_t *kt,
    size_t klen)
{
	MDB_val k = mval(kf, klen), v;
	uint32_t n, m = 0;
	uint8_t vb[4];
	int rc;

	if ((rc = mdb_get(txn, dbi, &k, &v)) != 0)
		return rc;
	if (v.mv_size != 4)
		return SIGIL_EIO;
	n = le32_get(v.mv_data);
	if ((rc = mdb_del(txn, dbi, &k, NULL)) != 0)
		return rc;
	k = mval(kt, klen);
	if ((rc = mdb_get(txn, dbi, &k, &v)) == 0 && v.mv_size == 4)
		m = le32_get(v.mv_data);
	else if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	le32_put(vb, n > UINT32_MAX - m ? UINT32_MAX : n + m);
	v = mval(vb, 4);
	return mdb_put(txn, dbi, &k, &v, 0);
}

/* The keys of dbi from prefix (plen bytes) on that keep says to take. */
static int
keys_take(MDB_txn *txn, MDB_dbi dbi, const uint8_t *prefix, size_t plen,
    int (*keep)(MDB_val k, MDB_val v, uint64_t from), uint64_t from,
    uint8_t **out, size_t *n, size_t width)
{
	MDB_cursor *cur;
	MDB_val k = mval(prefix, plen), v;
	uint8_t *nb;
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = mdb_cursor_open(txn, dbi, &cur)) != 0)
		return rc;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0)
			break;
		if (k.mv_size > width || !keep(k, v, from))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			if ((nb = realloc(*out, cap * (width + 1))) == NULL) {
				rc = SIGIL_ENOMEM;
				break;
			}
			*out = nb;
		}
		/* a length byte, then the key */
		(*out)[*n * (width + 1)] = (uint8_t)k.mv_size;
		memcpy(*out + *n * (width + 1) + 1, k.mv_data, k.mv_size);
		(*n)++;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static int
claim_of(MDB_val k, MDB_val v, uint64_t from)
{
	return k.mv_size == CLAIM_KEY_LEN && v.mv_size >= 16 &&
	    le64_get((const uint8_t *)v.mv_data + 8) == from;
}

/* pin_fails: code key || customer (17), brand || customer || day (16). */
static int
pin_of(MDB_val k, MDB_val v, uint64_t from)
{
	const uint8_t *p = k.mv_data;

	(void)v;
	return (k.mv_size == CODE_KEY_LEN + 8 &&
	    sigil_be64_get(p + CODE_KEY_LEN) == from) ||
	    (k.mv_size == 16 && sigil_be64_get(p + 4) == from);
}

static int
any_row(MDB_val k, MDB_val v, uint64_t from)
{
	(void)k;
	(void)v;
	(void)from;
	return 1;
}

int
claims_move(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t from, uint64_t to, size_t *claims)
{
	uint8_t pre[12], *keys = NULL, kt[CODE_KEY_LEN + 8], vb[64];
	size_t n = 0;
	MDB_val k, v;
	int rc;

	/* claims: the customer field, in place */
	sigil_be32_put(pre, brand_id);
	if ((rc = keys_take(txn, st->claims, pre, 4, claim_of, from, &keys,
	    &n, CLAIM_KEY_LEN)) != 0)
		goto out;
	*claims = n;
	for (size_t i = 0; i < n; i++) {
		k = mval(keys + i * (CLAIM_KEY_LEN + 1) + 1, CLAIM_KEY_LEN);
		if ((rc = mdb_get(txn, st->claims, &k, &v)) != 0)
			goto out;
		if (v.mv_size > sizeof vb || v.mv_size < 16) {
			rc = SIGIL_EIO;
			goto out;
		}
		memcpy(vb, v.mv_data, v.mv_size);
		le64_put(vb + 8, to);
		v = mval(vb, v.mv_size);
		if ((rc = mdb_put(txn, st->claims, &k, &v, 0)) != 0)
			goto out;
	}
	free(keys);
	keys = NULL;
	/* claim_days: brand || customer || day, the counts added up */
	sigil_be64_put(pre + 4, from);
	if ((rc = keys_take(txn, st->claim_days, pre, 12, any_row, from,
	    &keys, &n, 16)) != 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *kf = keys + i * 17 + 1;

		if (kf[-1] != 16)
			continue;
		memcpy(kt, kf, 16);
		sigil_be64_put(kt + 4, to);
		if ((rc = count_move(txn, st->claim_days, kf, kt, 16)) != 0)
			goto out;
	}
	free(keys);
	keys = NULL;
	/* pin_fails: per code and per day, the counts added up */
	if ((rc = keys_take(txn, st->pin_fails, pre, 4, pin_of, from, &keys,
	    &n, CODE_KEY_LEN + 8)) != 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *kf = keys + i * (CODE_KEY_LEN + 9) + 1;
		size_t len = kf[-1];

		memcpy(kt, kf, len);
		sigil_be64_put(kt + (len == 16 ? 4 : CODE_KEY_LEN), to);
		if ((rc = count_move(txn, st->pin_fails, kf, kt, len)) != 0)
			goto out;
	}
out:
	free(keys);
	return rc;
}

/* ---- brand settings ---- */

int
store_brand_settings_get(struct store *st, uint32_t brand_id, char **json)
{
	return rows_text_get(st, st->brand_settings, brand_id, json);
}

int
store_brand_settings_put(struct store *st, uint32_t brand_id,
    const char *json)
{
	return rows_text_put(st, st->brand_settings, brand_id, json,
	    STORE_CAMPAIGN_MAX);
}
