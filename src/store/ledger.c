/*
 * ledger.c - balances, expiry and tier points derived from immutable
 * ledger entries (the model is in include/sigil/ledger.h).
 *
 * Owns no state and calls nothing but libc: store_ledger.c and
 * store_claims.c run these inside their write transactions (to append
 * due EXPIRE entries before a new entry and to refuse a redemption the
 * balance cannot cover), and member.c runs them on what
 * store_ledger_each returned, so both sides agree by construction. A
 * customer has at most a few thousand entries; one pass with a lot
 * array costs microseconds, so nothing is cached.
 *
 * Every function replays the entries from the start into lots
 * (remaining points and lapse time per EARN or positive ADJUST). The
 * replay never trusts the input: a wrong sign, an EXPIRE naming no lot or
 * taking more than its lot holds, and any int64 overflow are EINVAL,
 * since a corrupt ledger must not turn into free points.
 */
#include <stdlib.h>

#include "sigil/ledger.h"
#include "sigil/util.h"

struct lot {
	uint64_t	id;
	int64_t		left;
	int64_t		expires_at;	/* 0 = never */
	uint64_t	pool;		/* see ledger.h: merged ledgers */
	const struct ledger_entry *src;
};

/* Consumption no lot of the pool covered. */
struct debt {
	uint64_t	pool;
	int64_t		amount;
};

struct replay {
	struct lot	*lots;
	size_t		 n;
	struct debt	*debts;		/* one per pool seen */
	size_t		 ndebts;
};

static uint64_t
pool_of(const struct ledger_entry *e)
{
	return e->origin != 0 ? e->origin : e->customer_id;
}

/* The pool's debt (room for one per entry was made by replay()). */
static struct debt *
debt_of(struct replay *r, uint64_t pool)
{
	for (size_t i = 0; i < r->ndebts; i++)
		if (r->debts[i].pool == pool)
			return &r->debts[i];
	r->debts[r->ndebts].pool = pool;
	r->debts[r->ndebts].amount = 0;
	return &r->debts[r->ndebts++];
}

static int
total_debt(const struct replay *r, int64_t *out)
{
	int64_t sum = 0;

	for (size_t i = 0; i < r->ndebts; i++)
		if (__builtin_add_overflow(sum, r->debts[i].amount, &sum))
			return SIGIL_EINVAL;
	*out = sum;
	return 0;
}

static int
valid_at(const struct lot *l, int64_t t)
{
	return l->expires_at == 0 || l->expires_at > t;
}

static int
sign_ok(const struct ledger_entry *e)
{
	switch (e->type) {
	case LEDGER_EARN:	return e->points > 0;
	case LEDGER_REDEEM:	/* fallthrough */
	case LEDGER_EXPIRE:	return e->points < 0 && e->points != INT64_MIN;
	case LEDGER_ADJUST:	return e->points != 0 && e->points != INT64_MIN;
	case LEDGER_MERGE:	return e->points == 0 && e->ref != 0 &&
				    e->ref != pool_of(e);
	}
	return 0;
}

/* A new lot pays its pool's debt first. */
static int
lot_add(struct replay *r, const struct ledger_entry *e)
{
	struct lot *l = &r->lots[r->n++];
	struct debt *d = debt_of(r, pool_of(e));
	int64_t pay = e->points < d->amount ? e->points : d->amount;

	l->id = e->id;
	l->left = e->points - pay;
	l->expires_at = e->expires_at;
	l->pool = pool_of(e);
	l->src = e;
	d->amount -= pay;
	return 0;
}

/* Spends amount (> 0) from the pool's lots valid at t, oldest first. */
static int
consume(struct replay *r, int64_t amount, int64_t t, uint64_t pool)
{
	struct debt *d;

	for (size_t i = 0; i < r->n && amount > 0; i++) {
		struct lot *l = &r->lots[i];
		int64_t take;

		if (l->left == 0 || l->pool != pool || !valid_at(l, t))
			continue;
		take = l->left < amount ? l->left : amount;
		l->left -= take;
		amount -= take;
	}
	d = debt_of(r, pool);
	if (amount > 0 && __builtin_add_overflow(d->amount, amount,
	    &d->amount))
		return SIGIL_EINVAL;
	return 0;
}

/* A MERGE entry: the pool of the customer merged in joins the entry's. */
static int
join(struct replay *r, const struct ledger_entry *e)
{
	uint64_t to = pool_of(e);
	struct debt *from = debt_of(r, e->ref), *d = debt_of(r, to);

	/* debt_of may have added the second: from stays valid (no realloc). */
	for (size_t i = 0; i < r->n; i++)
		if (r->lots[i].pool == e->ref)
			r->lots[i].pool = to;
	if (__builtin_add_overflow(d->amount, from->amount, &d->amount))
		return SIGIL_EINVAL;
	from->amount = 0;
	return 0;
}

static int
expire(struct replay *r, const struct ledger_entry *e)
{
	for (size_t i = 0; i < r->n; i++) {
		struct lot *l = &r->lots[i];

		if (l->id != e->ref)
			continue;
		if (l->expires_at == 0 || l->expires_at > e->at ||
		    -e->points > l->left)
			return SIGIL_EINVAL;
		l->left += e->points;
		return 0;
	}
	return SIGIL_EINVAL;
}

/* Replays e[0..n) into r (r->lots malloc'd; free it). */
static int
replay(const struct ledger_entry *e, size_t n, struct replay *r)
{
	int rc = 0;

	r->n = 0;
	r->ndebts = 0;
	r->lots = calloc(n ? n : 1, sizeof(*r->lots));
	/* A pool per entry at most, and two more for a MERGE's. */
	r->debts = calloc(n + 2, sizeof(*r->debts));
	if (r->lots == NULL || r->debts == NULL) {
		free(r->lots);
		free(r->debts);
		return SIGIL_ENOMEM;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (!sign_ok(&e[i]))
			rc = SIGIL_EINVAL;
		else if (e[i].type == LEDGER_MERGE)
			rc = join(r, &e[i]);
		else if (e[i].points > 0)
			rc = lot_add(r, &e[i]);
		else if (e[i].type == LEDGER_EXPIRE)
			rc = expire(r, &e[i]);
		else
			rc = consume(r, -e[i].points, e[i].at, pool_of(&e[i]));
	}
	if (rc != 0) {
		free(r->lots);
		free(r->debts);
		r->lots = NULL;
		r->debts = NULL;
	}
	return rc;
}

int
ledger_balance(const struct ledger_entry *e, size_t n, int64_t now,
    int64_t *balance)
{
	struct replay r;
	int64_t sum = 0, debt = 0;
	int rc;

	if ((rc = replay(e, n, &r)) != 0)
		return rc;
	for (size_t i = 0; i < r.n; i++)
		if (valid_at(&r.lots[i], now) &&
		    __builtin_add_overflow(sum, r.lots[i].left, &sum)) {
			rc = SIGIL_EINVAL;
			break;
		}
	if (rc == 0)
		rc = total_debt(&r, &debt);
	free(r.lots);
	free(r.debts);
	if (rc == 0 && __builtin_sub_overflow(sum, debt, balance))
		rc = SIGIL_EINVAL;
	return rc;
}

int
ledger_due_expiries(const struct ledger_entry *e, size_t n, int64_t now,
    struct ledger_entry **out, size_t *nout)
{
	struct ledger_entry *due = NULL;
	struct replay r;
	size_t k = 0;
	int rc;

	if ((rc = replay(e, n, &r)) != 0)
		return rc;
	for (size_t i = 0; i < r.n; i++) {
		const struct lot *l = &r.lots[i];
		struct ledger_entry x = { 0 };

		if (l->left == 0 || valid_at(l, now))
			continue;
		if (due == NULL && (due = calloc(r.n, sizeof(*due))) == NULL) {
			free(r.lots);
			free(r.debts);
			return SIGIL_ENOMEM;
		}
		x.brand_id = l->src->brand_id;
		x.customer_id = l->src->customer_id;
		x.type = LEDGER_EXPIRE;
		x.points = -l->left;
		x.at = l->expires_at;
		x.ref = l->id;
		due[k++] = x;
	}
	free(r.lots);
	free(r.debts);
	*out = due;
	*nout = k;
	return 0;
}

int
ledger_spend_lot(const struct ledger_entry *e, size_t n, int64_t amount,
    int64_t t, uint64_t *lot)
{
	struct replay r;
	int64_t best = 0;
	int rc;

	*lot = 0;
	if (amount <= 0)
		return SIGIL_EINVAL;
	if ((rc = replay(e, n, &r)) != 0)
		return rc;
	/* As consume() takes it, minus the taking: only who gives most. */
	for (size_t i = 0; i < r.n && amount > 0; i++) {
		const struct lot *l = &r.lots[i];
		int64_t take;

		if (l->left == 0 || !valid_at(l, t))
			continue;
		take = l->left < amount ? l->left : amount;
		amount -= take;
		if (take > best) {
			best = take;
			*lot = l->id;
		}
	}
	free(r.lots);
	free(r.debts);
	return 0;
}

int
ledger_earned_12m(const struct ledger_entry *e, size_t n, int64_t now,
    int64_t *earned)
{
	int64_t sum = 0, from;

	if (__builtin_sub_overflow(now, LEDGER_YEAR_US, &from))
		from = INT64_MIN;
	for (size_t i = 0; i < n; i++) {
		if (!sign_ok(&e[i]))
			return SIGIL_EINVAL;
		if (e[i].type != LEDGER_EARN || e[i].at <= from ||
		    e[i].at > now)
			continue;
		if (__builtin_add_overflow(sum, e[i].points, &sum))
			return SIGIL_EINVAL;
	}
	*earned = sum;
	return 0;
}
