/*
 * store_payouts.c - the payout outbox of cash rewards (issue 22,
 * store/payouts.h): one row per claim with cash, its two indexes, each
 * campaign's cash tallies, the settle moves the dispatcher and the brand
 * make, and the brands' WeChat Pay settings.
 *
 *   payouts      brand BE32 || claim BE64 -> the row (payout_encode)
 *   payout_due   next_at BE64 (sign bit flipped) || brand BE32 || claim
 *                BE64 -> 1 byte, for each PENDING or ACCEPTED row: the
 *                dispatcher reads what is due, every brand, in time order
 *   payout_cust  brand BE32 || customer BE64 || claim BE64 -> 1 byte: a
 *                customer's payouts (the member page, erasure, merge)
 *   cash_usage   brand BE32 || campaign BE32 -> per state 1..6 a count
 *                u64 and the fen i64: what the budget has reserved is the
 *                fen of HELD, PENDING, ACCEPTED and PAID
 *   pay_settings brand BE32 -> the JSON payout.c owns
 *
 * Every change of a row's state moves its count and fen from the old
 * state's tally to the new one's in the same transaction (payout_move),
 * so the tallies are the rows' sum, and a FAILED or REJECTED row's fen
 * leaves the reservation exactly when the row becomes final: a final row
 * is never moved again, so its fen is returned once.
 *
 * Owns payouts, payout_due, payout_cust, cash_usage and pay_settings.
 * May call libc, LMDB, util.c, store_env.c and store_rows.c. Must never
 * call the files that call it (store_cash.c, store_erase.c,
 * store_merge.c, store_claims.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "sigil/store.h"
#include "sigil/util.h"
#include "store_impl.h"

#define PO_FIXED	85	/* bytes before the strings */
#define PO_STRS		7
#define PAY_SETTINGS_MAX	(16 * 1024)

static const char *const state_names[PAYOUT_STATES] = {
	NULL, "held", "pending", "accepted", "paid", "failed", "rejected",
};

const char *
payout_state_name(int state)
{
	return state >= PAYOUT_HELD && state <= PAYOUT_REJECTED ?
	    state_names[state] : NULL;
}

int
payout_state_parse(const char *name)
{
	for (int s = PAYOUT_HELD; name != NULL && s <= PAYOUT_REJECTED; s++)
		if (strcmp(name, state_names[s]) == 0)
			return s;
	return 0;
}

void
payout_out_bill_no(uint32_t brand_id, uint64_t claim_id,
    char out[PAYOUT_OUTNO_MAX + 1])
{
	/* At most 29 digits fit: cash_apply refuses a claim past that. */
	snprintf(out, PAYOUT_OUTNO_MAX + 1, "SG%luC%llu",
	    (unsigned long)brand_id, (unsigned long long)claim_id);
}

int
payout_out_bill_no_fits(uint32_t brand_id, uint64_t claim_id)
{
	char buf[48];

	return snprintf(buf, sizeof buf, "SG%luC%llu",
	    (unsigned long)brand_id, (unsigned long long)claim_id) <=
	    PAYOUT_OUTNO_MAX;
}

/* ---- rows ---- */

static void
po_key(uint8_t kb[PAYOUT_KEY_LEN], uint32_t brand_id, uint64_t claim_id)
{
	sigil_be32_put(kb, brand_id);
	sigil_be64_put(kb + 4, claim_id);
}

static void
due_key(uint8_t kb[PAYOUT_IDX_LEN], int64_t at, uint32_t brand_id,
    uint64_t claim_id)
{
	sigil_be64_put(kb, (uint64_t)at ^ (1ULL << 63));
	sigil_be32_put(kb + 8, brand_id);
	sigil_be64_put(kb + 12, claim_id);
}

static void
cust_key(uint8_t kb[PAYOUT_IDX_LEN], uint32_t brand_id, uint64_t customer,
    uint64_t claim_id)
{
	sigil_be32_put(kb, brand_id);
	sigil_be64_put(kb + 4, customer);
	sigil_be64_put(kb + 12, claim_id);
}

static int
due_state(int state)
{
	return state == PAYOUT_PENDING || state == PAYOUT_ACCEPTED;
}

static int
final_state(int state)
{
	return state == PAYOUT_PAID || state == PAYOUT_FAILED ||
	    state == PAYOUT_REJECTED;
}

int
payout_decode(MDB_val k, MDB_val v, void *out)
{
	const uint8_t *p = v.mv_data;
	struct payout o;
	char *s[PO_STRS];
	size_t caps[PO_STRS];

	if (k.mv_size != PAYOUT_KEY_LEN || v.mv_size < PO_FIXED)
		return SIGIL_EIO;
	memset(&o, 0, sizeof o);
	o.brand_id = sigil_be32_get(k.mv_data);
	o.claim_id = sigil_be64_get((const uint8_t *)k.mv_data + 4);
	o.campaign_id = le32_get(p);
	o.customer_id = le64_get(p + 4);
	o.serial = le64_get(p + 12);
	o.device = le64_get(p + 20);
	o.fen = (int64_t)le64_get(p + 28);
	o.state = p[36];
	o.attempts = le32_get(p + 37);
	o.next_at = (int64_t)le64_get(p + 41);
	o.created = (int64_t)le64_get(p + 49);
	o.updated = (int64_t)le64_get(p + 57);
	o.paid_at = (int64_t)le64_get(p + 65);
	o.score = le32_get(p + 73);
	o.decided_by = le64_get(p + 77);
	s[0] = o.reasons;	caps[0] = sizeof o.reasons;
	s[1] = o.appid;		caps[1] = sizeof o.appid;
	s[2] = o.openid;	caps[2] = sizeof o.openid;
	s[3] = o.bill_no;	caps[3] = sizeof o.bill_no;
	s[4] = o.wx_state;	caps[4] = sizeof o.wx_state;
	s[5] = o.fail_reason;	caps[5] = sizeof o.fail_reason;
	s[6] = o.package_info;	caps[6] = sizeof o.package_info;
	if (lstrs_get(p, v.mv_size, PO_FIXED, s, caps, PO_STRS) != v.mv_size ||
	    payout_state_name(o.state) == NULL)
		return SIGIL_EIO;
	payout_out_bill_no(o.brand_id, o.claim_id, o.out_bill_no);
	*(struct payout *)out = o;
	return 0;
}

/* The row's bytes (at most PAYOUT_ROW_MAX); returns their length. */
static size_t
payout_encode(const struct payout *o, uint8_t *p)
{
	const char *s[PO_STRS] = { o->reasons, o->appid, o->openid,
	    o->bill_no, o->wx_state, o->fail_reason, o->package_info };

	le32_put(p, o->campaign_id);
	le64_put(p + 4, o->customer_id);
	le64_put(p + 12, o->serial);
	le64_put(p + 20, o->device);
	le64_put(p + 28, (uint64_t)o->fen);
	p[36] = (uint8_t)o->state;
	le32_put(p + 37, o->attempts);
	le64_put(p + 41, (uint64_t)o->next_at);
	le64_put(p + 49, (uint64_t)o->created);
	le64_put(p + 57, (uint64_t)o->updated);
	le64_put(p + 65, (uint64_t)o->paid_at);
	le32_put(p + 73, o->score);
	le64_put(p + 77, o->decided_by);
	return lstrs_put(p, PO_FIXED, s, PO_STRS);
}

int
payout_load(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t claim_id, struct payout *out)
{
	uint8_t kb[PAYOUT_KEY_LEN];

	po_key(kb, brand_id, claim_id);
	return rows_load(txn, st->payouts, kb, PAYOUT_KEY_LEN, payout_decode,
	    out);
}

/* One index entry put (add) or deleted (a missing one is no error). */
static int
idx_set(MDB_txn *txn, MDB_dbi dbi, const uint8_t *key, int add)
{
	uint8_t one = 1;
	MDB_val k = mval(key, PAYOUT_IDX_LEN), v = mval(&one, 1);
	int rc;

	if (add)
		return mdb_put(txn, dbi, &k, &v, 0);
	rc = mdb_del(txn, dbi, &k, NULL);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int
payout_due_set(struct store *st, MDB_txn *txn, const struct payout *o,
    int add)
{
	uint8_t kb[PAYOUT_IDX_LEN];

	if (!due_state(o->state))
		return 0;
	due_key(kb, o->next_at, o->brand_id, o->claim_id);
	return idx_set(txn, st->payout_due, kb, add);
}

int
payout_cust_set(struct store *st, MDB_txn *txn, const struct payout *o,
    int add)
{
	uint8_t kb[PAYOUT_IDX_LEN];

	if (o->customer_id == 0)
		return 0;
	cust_key(kb, o->brand_id, o->customer_id, o->claim_id);
	return idx_set(txn, st->payout_cust, kb, add);
}

int
payout_put(struct store *st, MDB_txn *txn, const struct payout *o,
    int zero_first)
{
	uint8_t kb[PAYOUT_KEY_LEN], vb[PAYOUT_ROW_MAX];
	MDB_val k = mval(kb, PAYOUT_KEY_LEN), v;
	int rc;

	po_key(kb, o->brand_id, o->claim_id);
	/* An erasure's rewrite: the old bytes zeroed before they shrink. */
	if (zero_first && (rc = mdb_get(txn, st->payouts, &k, &v)) == 0) {
		uint8_t *z = calloc(1, v.mv_size);

		if (z == NULL)
			return SIGIL_ENOMEM;
		v = mval(z, v.mv_size);
		rc = mdb_put(txn, st->payouts, &k, &v, 0);
		free(z);
		if (rc != 0)
			return rc;
	}
	v = mval(vb, payout_encode(o, vb));
	return mdb_put(txn, st->payouts, &k, &v, 0);
}

/* ---- each campaign's cash: the tallies by state ---- */

#define USAGE_VAL_LEN	(16 * (PAYOUT_STATES - 1))

static int
usage_load(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint32_t campaign_id, struct cash_usage *u)
{
	uint8_t kb[8];
	MDB_val k = mval(kb, 8), v;
	const uint8_t *p;
	int rc;

	memset(u, 0, sizeof *u);
	bid_key(kb, brand_id, campaign_id);
	if ((rc = mdb_get(txn, st->cash_usage, &k, &v)) == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (v.mv_size != USAGE_VAL_LEN)
		return SIGIL_EIO;
	p = v.mv_data;
	for (int s = PAYOUT_HELD; s <= PAYOUT_REJECTED; s++) {
		u->count[s] = le64_get(p + 16 * (s - 1));
		u->fen[s] = (int64_t)le64_get(p + 16 * (s - 1) + 8);
		if (s != PAYOUT_FAILED && s != PAYOUT_REJECTED)
			u->reserved_fen += u->fen[s];
	}
	return 0;
}

int
cash_reserved(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint32_t campaign_id, int64_t *out)
{
	struct cash_usage u;
	int rc = usage_load(st, txn, brand_id, campaign_id, &u);

	if (rc == 0)
		*out = u.reserved_fen;
	return rc;
}

/*
 * fen moved from state from's tally to state to's (from 0: a new row,
 * to 0: a row gone) of the campaign's row.
 */
int
payout_tally(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint32_t campaign_id, int64_t fen, int from, int to)
{
	uint8_t kb[8], vb[USAGE_VAL_LEN];
	MDB_val k = mval(kb, 8), v = mval(vb, USAGE_VAL_LEN);
	struct cash_usage u;
	int rc;

	if ((rc = usage_load(st, txn, brand_id, campaign_id, &u)) != 0)
		return rc;
	if (from != 0) {
		if (u.count[from] == 0 || u.fen[from] < fen)
			return SIGIL_EIO;	/* the tallies lost a row */
		u.count[from]--;
		u.fen[from] -= fen;
	}
	if (to != 0) {
		u.count[to]++;
		u.fen[to] += fen;
	}
	for (int s = PAYOUT_HELD; s <= PAYOUT_REJECTED; s++) {
		le64_put(vb + 16 * (s - 1), u.count[s]);
		le64_put(vb + 16 * (s - 1) + 8, (uint64_t)u.fen[s]);
	}
	bid_key(kb, brand_id, campaign_id);
	return mdb_put(txn, st->cash_usage, &k, &v, 0);
}

int
store_cash_usage(struct store *st, uint32_t brand_id, uint32_t campaign_id,
    struct cash_usage *out)
{
	struct cash_usage u;
	int rc;

	if (st->payouts_absent) {
		memset(out, 0, sizeof *out);
		return 0;
	}
	if ((rc = STORE_READ(st, usage_load(st, txn, brand_id, campaign_id,
	    &u))) == 0)
		*out = u;
	return rc;
}

/*
 * Row o (as read) moved to state to: its due entry and its tallies
 * follow, and the row is written. The caller has set every other field.
 */
int
payout_move(struct store *st, MDB_txn *txn, const struct payout *old,
    struct payout *o, int zero_first)
{
	int rc;

	if ((rc = payout_due_set(st, txn, old, 0)) != 0)
		return rc;
	if (old->state != o->state && (rc = payout_tally(st, txn,
	    o->brand_id, o->campaign_id, o->fen, old->state, o->state)) != 0)
		return rc;
	if ((rc = payout_put(st, txn, o, zero_first)) != 0)
		return rc;
	return payout_due_set(st, txn, o, 1);
}

/* ---- reads ---- */

int
store_payout_get(struct store *st, uint32_t brand_id, uint64_t claim_id,
    struct payout *out)
{
	struct payout o;
	int rc;

	if (st->payouts_absent)
		return SIGIL_ENOTFOUND;
	if ((rc = STORE_READ(st, payout_load(st, txn, brand_id, claim_id,
	    &o))) == 0)
		*out = o;
	return rc;
}

struct due_ctx {
	struct store	*st;
	int64_t		 now;
	size_t		 max, seen;
	int		(*fn)(void *arg, const struct payout *p);
	void		*arg;
	int64_t		 oldest;	/* store_payout_oldest: the first */
};

static int
due_walk(MDB_txn *txn, struct due_ctx *c, int *stop)
{
	MDB_val k, v;
	MDB_cursor *cur;
	struct payout o;
	const uint8_t *kp;
	int rc;

	*stop = 0;
	if ((rc = mdb_cursor_open(txn, c->st->payout_due, &cur)) != 0)
		return rc;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	    rc == 0 && c->seen < c->max;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		int64_t at;

		if (k.mv_size != PAYOUT_IDX_LEN) {
			rc = SIGIL_EIO;
			break;
		}
		kp = k.mv_data;
		at = (int64_t)(sigil_be64_get(kp) ^ (1ULL << 63));
		if (c->fn == NULL) {
			c->oldest = at;
			break;
		}
		if (at > c->now)
			break;
		rc = payout_load(c->st, txn, sigil_be32_get(kp + 8),
		    sigil_be64_get(kp + 12), &o);
		if (rc == MDB_NOTFOUND)
			continue;
		if (rc != 0)
			break;
		c->seen++;
		if ((*stop = c->fn(c->arg, &o)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int
store_payout_due(struct store *st, int64_t now, size_t max,
    int (*fn)(void *arg, const struct payout *p), void *arg)
{
	struct due_ctx c = { st, now, max, 0, fn, arg, 0 };
	int rc, stop = 0;

	if (st->payouts_absent || fn == NULL)
		return 0;
	rc = STORE_READ(st, due_walk(txn, &c, &stop));
	return stop ? stop : rc;
}

int
store_payout_oldest(struct store *st, int64_t *out)
{
	struct due_ctx c = { st, 0, 1, 0, NULL, NULL, 0 };
	int rc, stop = 0;

	*out = 0;
	if (st->payouts_absent)
		return 0;
	if ((rc = STORE_READ(st, due_walk(txn, &c, &stop))) == 0)
		*out = c.oldest;
	return rc;
}

/* ---- settle ---- */

static int
move_allowed(int from, int to)
{
	switch (from) {
	case PAYOUT_HELD:
		return to == PAYOUT_PENDING || to == PAYOUT_REJECTED;
	case PAYOUT_PENDING:
		return to == PAYOUT_PENDING || to == PAYOUT_ACCEPTED ||
		    to == PAYOUT_PAID || to == PAYOUT_FAILED;
	case PAYOUT_ACCEPTED:
		return to == PAYOUT_ACCEPTED || to == PAYOUT_PAID ||
		    to == PAYOUT_FAILED;
	}
	return 0;
}

/* Whether s would change anything of row o but its state. */
static int
settle_news(const struct payout *o, const struct payout_settle *s)
{
	return (s->attempts != 0 && s->attempts != o->attempts) ||
	    (s->next_at != 0 && s->next_at != o->next_at) ||
	    (s->paid_at != 0 && s->paid_at != o->paid_at) ||
	    (s->bill_no[0] && strcmp(s->bill_no, o->bill_no) != 0) ||
	    (s->wx_state[0] && strcmp(s->wx_state, o->wx_state) != 0) ||
	    (s->fail_reason[0] &&
	    strcmp(s->fail_reason, o->fail_reason) != 0) ||
	    (s->package_info[0] &&
	    strcmp(s->package_info, o->package_info) != 0) ||
	    (s->decided_by != 0 && s->decided_by != o->decided_by);
}

struct settle_arg {
	struct payout_settle	s;
	int64_t			now;
};

static int
settle_fn(struct store *st, MDB_txn *txn, void *p)
{
	const struct settle_arg *a = p;
	const struct payout_settle *s = &a->s;
	struct payout old, o;
	int rc;

	if ((rc = payout_load(st, txn, s->brand_id, s->claim_id, &old)) != 0)
		return rc;
	/* A repeat (a second callback, a retried op): nothing to do. */
	if (old.state == s->state && !settle_news(&old, s))
		return 0;
	if (old.state != s->from)
		return SIGIL_ECONFLICT;
	if (!move_allowed(old.state, s->state))
		return SIGIL_ESTATE;
	o = old;
	o.state = s->state;
	if (s->attempts != 0)
		o.attempts = s->attempts;
	if (s->next_at != 0)
		o.next_at = s->next_at;
	else if (old.state == PAYOUT_HELD && o.state == PAYOUT_PENDING)
		o.next_at = a->now;	/* approved: due now */
	if (s->paid_at != 0)
		o.paid_at = s->paid_at;
	else if (o.state == PAYOUT_PAID && o.paid_at == 0)
		o.paid_at = a->now;
	if (s->bill_no[0])
		memcpy(o.bill_no, s->bill_no, sizeof o.bill_no);
	if (s->wx_state[0])
		memcpy(o.wx_state, s->wx_state, sizeof o.wx_state);
	if (s->fail_reason[0])
		memcpy(o.fail_reason, s->fail_reason, sizeof o.fail_reason);
	if (s->package_info[0])
		memcpy(o.package_info, s->package_info,
		    sizeof o.package_info);
	if (s->decided_by != 0)
		o.decided_by = s->decided_by;
	/* A final row drops the package; an erased payee, the openid. */
	if (final_state(o.state)) {
		o.package_info[0] = '\0';
		if (o.customer_id == 0)
			o.openid[0] = '\0';
	}
	o.updated = a->now;
	return payout_move(st, txn, &old, &o, final_state(o.state) &&
	    o.customer_id == 0);
}

/* Whether s's text fields are NUL-terminated, printable and bounded. */
static int
settle_text_ok(const struct payout_settle *s)
{
	return text_ok(s->bill_no, sizeof s->bill_no, PAYOUT_BILLNO_MAX, 1) &&
	    text_ok(s->wx_state, sizeof s->wx_state, sizeof s->wx_state - 1,
	    1) &&
	    text_ok(s->fail_reason, sizeof s->fail_reason, PAYOUT_FAIL_MAX,
	    1) &&
	    text_ok(s->package_info, sizeof s->package_info,
	    PAYOUT_PACKAGE_MAX, 1);
}

int
store_payout_settle(struct store *st, const struct payout_settle *s)
{
	struct settle_arg a;

	if (s == NULL || payout_state_name(s->state) == NULL ||
	    payout_state_name(s->from) == NULL || s->next_at < 0 ||
	    s->paid_at < 0 || !settle_text_ok(s))
		return SIGIL_EINVAL;
	if (st->payouts_absent)
		return SIGIL_ENOTFOUND;
	a.s = *s;
	a.now = sigil_now_us();
	return store_write(st, settle_fn, &a);
}

/* ---- the brand's list ---- */

struct each_arg {
	struct store			*st;
	uint32_t			 brand_id;
	const struct payout_filter	*f;
	int				(*fn)(void *arg, const struct payout *p);
	void				*arg;
};

static int
each_keep(const struct payout_filter *f, const struct payout *o)
{
	return (f->campaign_id == 0 || o->campaign_id == f->campaign_id) &&
	    (f->state == 0 || o->state == f->state) &&
	    (f->customer_id == 0 || o->customer_id == f->customer_id) &&
	    (f->since == 0 || o->created >= f->since) &&
	    (f->until == 0 || o->created < f->until);
}

/* The brand's rows from the last backwards. */
static int
each_walk(MDB_txn *txn, struct each_arg *a, int *stop)
{
	uint8_t kb[PAYOUT_KEY_LEN];
	MDB_val k = mval(kb, PAYOUT_KEY_LEN), v;
	MDB_cursor *cur;
	struct payout o;
	int rc;

	*stop = 0;
	if ((rc = mdb_cursor_open(txn, a->st->payouts, &cur)) != 0)
		return rc;
	if (a->brand_id == UINT32_MAX) {
		rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	} else {
		po_key(kb, a->brand_id + 1, 0);
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		rc = rc == 0 ? mdb_cursor_get(cur, &k, &v, MDB_PREV) :
		    rc == MDB_NOTFOUND ? mdb_cursor_get(cur, &k, &v, MDB_LAST) :
		    rc;
	}
	for (; rc == 0 && k.mv_size == PAYOUT_KEY_LEN &&
	    sigil_be32_get(k.mv_data) == a->brand_id;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_PREV)) {
		if ((rc = payout_decode(k, v, &o)) != 0)
			break;
		if (each_keep(a->f, &o) &&
		    (*stop = a->fn(a->arg, &o)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int
payout_cust_claims(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t customer_id, struct u64vec *ids)
{
	uint8_t kb[PAYOUT_IDX_LEN];
	MDB_val k = mval(kb, PAYOUT_IDX_LEN), v;
	MDB_cursor *cur;
	int rc;

	cust_key(kb, brand_id, customer_id, 0);
	if ((rc = mdb_cursor_open(txn, st->payout_cust, &cur)) != 0)
		return rc;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != PAYOUT_IDX_LEN ||
		    memcmp(k.mv_data, kb, 12) != 0)
			break;
		if ((rc = u64vec_push(ids, sigil_be64_get(
		    (const uint8_t *)k.mv_data + 12))) != 0)
			break;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* A customer's rows through payout_cust, newest first. */
static int
each_cust(MDB_txn *txn, struct each_arg *a, int *stop)
{
	struct u64vec ids = { 0 };
	struct payout o;
	int rc;

	*stop = 0;
	if ((rc = payout_cust_claims(a->st, txn, a->brand_id,
	    a->f->customer_id, &ids)) != 0)
		goto out;
	for (size_t i = ids.n; i-- > 0;) {
		rc = payout_load(a->st, txn, a->brand_id, ids.v[i], &o);
		if (rc == MDB_NOTFOUND)
			continue;
		if (rc != 0)
			break;
		if (each_keep(a->f, &o) && (*stop = a->fn(a->arg, &o)) != 0)
			break;
	}
	rc = rc == MDB_NOTFOUND ? 0 : rc;
out:
	free(ids.v);
	return rc;
}

int
store_payout_each(struct store *st, uint32_t brand_id,
    const struct payout_filter *f,
    int (*fn)(void *arg, const struct payout *p), void *arg)
{
	static const struct payout_filter any = { 0 };
	struct each_arg a = { st, brand_id, f != NULL ? f : &any, fn, arg };
	int rc, stop = 0;

	if (fn == NULL)
		return SIGIL_EINVAL;
	if (st->payouts_absent)
		return 0;
	if (a.f->customer_id != 0)
		rc = STORE_READ(st, each_cust(txn, &a, &stop));
	else
		rc = STORE_READ(st, each_walk(txn, &a, &stop));
	return stop ? stop : rc;
}

/* ---- payment settings ---- */

int
store_pay_settings_get(struct store *st, uint32_t brand_id, char **json)
{
	if (st->payouts_absent)
		return SIGIL_ENOTFOUND;
	return rows_text_get(st, st->pay_settings, brand_id, json);
}

int
store_pay_settings_put(struct store *st, uint32_t brand_id,
    const char *json)
{
	return rows_text_put(st, st->pay_settings, brand_id, json,
	    PAY_SETTINGS_MAX);
}
