/*
 * test_store_payouts.c - cash rewards' storage (store/payouts.h,
 * src/store/store_payouts.c, src/store/store_cash.c): a claim's cash
 * reserved in the claim's transaction and never past the budget (a
 * batch of claims in one store_claims_commit, threads racing), dropped
 * or refused (SIGIL_EFULL) when the budget cannot pay it, the day caps,
 * every settle move allowed and refused, the fen returned exactly once,
 * the due order, store_payout_each's filters, the tallies by state, an
 * erasure and a merge, the out_bill_no.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "storefix.h"

#include "sigil/store.h"
#include "sigil/util.h"
#include "../../src/store/store_impl.h"
#include "barefix.h"

#define HOUR	(3600LL * 1000000)
#define DAY	(24 * HOUR)
#define T0	(1767225600000000LL)	/* 2026-01-01T00:00:00Z */
#define DAY0	((uint32_t)(T0 / DAY))

struct fixture {
	char		 dir[64];
	struct store	*st;
	uint32_t	 brand;
	uint32_t	 camp;
	uint64_t	 cust;
	uint64_t	 serial;	/* the next code to claim */
};

static uint32_t
new_campaign(struct fixture *f)
{
	struct campaign camp = { 0 };

	camp.brand_id = f->brand;
	camp.config = "{}";
	assert_int_equal(store_campaign_add(f->st, &camp), 0);
	return camp.id;
}

static uint64_t
new_customer(struct fixture *f, int n)
{
	uint8_t h[32], ct[20];
	struct customer c;
	int created = -1;

	memset(h, 0, sizeof h);
	h[0] = (uint8_t)n;
	h[1] = (uint8_t)(n >> 8);
	h[31] = 0x5c;
	memset(ct, n, sizeof(ct));
	assert_int_equal(store_customer_by_phone(f->st, f->brand, h, ct,
	    sizeof(ct), &c, &created), 0);
	return c.id;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(storefix_open(f->dir, sizeof f->dir, "payouts",
	    STORE_CREATE | STORE_NOSYNC, &f->st), 0);
	f->brand = add_brand(f->st, "acme");
	f->camp = new_campaign(f);
	f->cust = new_customer(f, 1);
	f->serial = 1;
	*state = f;
	return 0;
}

STOREFIX_TEARDOWN(struct fixture)

/* A claim of the next code by cust with points and fen of cash. */
static struct claim
mkclaim(struct fixture *f, uint64_t cust, int64_t points, int64_t fen,
    int64_t budget, int64_t at)
{
	struct claim c = { 0 };

	c.brand_id = f->brand;
	c.serial = f->serial++;
	c.role = CLAIM_CONSUMER;
	c.customer_id = cust;
	c.campaign_id = f->camp;
	c.points = points;
	c.prize = -1;
	c.at = at;
	c.expires_at = at + 400 * DAY;
	c.cash.fen = fen;
	c.cash.budget_fen = budget;
	c.cash.device = 0xd0d0 + cust;
	c.cash.score = 7;
	strcpy(c.cash.reasons, "new_device");
	strcpy(c.cash.appid, "wx0123456789abcdef");
	snprintf(c.cash.openid, sizeof c.cash.openid, "oOPENID-%llu",
	    (unsigned long long)cust);
	return c;
}

static struct claim_limits
day_of(int64_t at)
{
	struct claim_limits lim = { 0 };

	lim.day_start = at - at % DAY;
	return lim;
}

/* One claim committed: store_claim's result. */
static int
claim1(struct fixture *f, struct claim *c)
{
	struct claim_limits lim = day_of(c->at);

	return store_claim(f->st, c, &lim);
}

/* A claim with cash fen (budget big) made and committed: its id. */
static uint64_t
paid_claim(struct fixture *f, int64_t fen, int held)
{
	struct claim c = mkclaim(f, f->cust, 10, fen, 1000000, T0 + HOUR);

	c.cash.held = held;
	assert_int_equal(claim1(f, &c), 0);
	assert_int_equal(c.cash.fen, fen);
	assert_int_equal(c.cash.dropped, 0);
	return c.id;
}

static struct cash_usage
usage(struct fixture *f, uint32_t camp)
{
	struct cash_usage u;

	assert_int_equal(store_cash_usage(f->st, f->brand, camp, &u), 0);
	return u;
}

/* The EARN entries of a customer with ref: their points, how many. */
struct earn_sum {
	uint64_t	ref;
	int64_t		sum;
	int		n;
};

static int
earn_one(void *arg, const struct ledger_entry *le)
{
	struct earn_sum *s = arg;

	if (le->type == LEDGER_EARN && le->ref == s->ref) {
		s->sum += le->points;
		s->n++;
	}
	return 0;
}

static int64_t
earn_points(struct fixture *f, uint64_t cust, uint64_t ref, int *n)
{
	struct earn_sum s = { ref, 0, 0 };

	assert_int_equal(store_ledger_each(f->st, f->brand, cust, earn_one,
	    &s), 0);
	*n = s.n;
	return s.sum;
}

static struct payout
get(struct fixture *f, uint64_t claim)
{
	struct payout p;

	assert_int_equal(store_payout_get(f->st, f->brand, claim, &p), 0);
	return p;
}

static int
settle(struct fixture *f, uint64_t claim, int from, int to)
{
	struct payout_settle s = { 0 };

	s.brand_id = f->brand;
	s.claim_id = claim;
	s.from = from;
	s.state = to;
	return store_payout_settle(f->st, &s);
}

/* ---- the tests ---- */

static void
test_out_bill_no(void **state)
{
	char no[PAYOUT_OUTNO_MAX + 1];

	(void)state;
	payout_out_bill_no(12, 3456, no);
	assert_string_equal(no, "SG12C3456");
	payout_out_bill_no(UINT32_MAX, 9999999999999999999ULL, no);
	assert_string_equal(no, "SG4294967295C9999999999999999999");
	assert_int_equal(strlen(no), PAYOUT_OUTNO_MAX);
	assert_true(payout_out_bill_no_fits(UINT32_MAX,
	    9999999999999999999ULL));
	assert_false(payout_out_bill_no_fits(UINT32_MAX, UINT64_MAX - 1));
	for (int s = PAYOUT_HELD; s <= PAYOUT_REJECTED; s++)
		assert_int_equal(payout_state_parse(payout_state_name(s)), s);
	assert_null(payout_state_name(0));
	assert_null(payout_state_name(7));
	assert_int_equal(payout_state_parse("PAID"), 0);
	assert_int_equal(payout_state_parse(NULL), 0);
	assert_string_equal(payout_state_name(PAYOUT_PAID), "paid");
}

static void
test_claim_writes_payout(void **state)
{
	struct fixture *f = *state;
	struct claim c = mkclaim(f, f->cust, 10, 188, 10000, T0 + HOUR);
	char no[PAYOUT_OUTNO_MAX + 1];
	struct payout p;
	struct cash_usage u;
	int64_t won;
	int n;

	assert_int_equal(claim1(f, &c), 0);
	assert_true(c.id > 0);
	assert_int_equal(c.cash.fen, 188);
	assert_int_equal(c.cash.refusal, CASH_OK);
	p = get(f, c.id);
	assert_int_equal(p.state, PAYOUT_PENDING);
	assert_int_equal(p.fen, 188);
	assert_int_equal(p.next_at, T0 + HOUR);
	assert_int_equal(p.created, T0 + HOUR);
	assert_int_equal(p.campaign_id, f->camp);
	assert_int_equal(p.customer_id, f->cust);
	assert_int_equal(p.serial, c.serial);
	assert_int_equal(p.device, c.cash.device);
	assert_int_equal(p.score, 7);
	assert_string_equal(p.reasons, "new_device");
	assert_string_equal(p.appid, "wx0123456789abcdef");
	assert_string_equal(p.openid, c.cash.openid);
	payout_out_bill_no(f->brand, c.id, no);
	assert_string_equal(p.out_bill_no, no);
	assert_string_equal(p.bill_no, "");
	u = usage(f, f->camp);
	assert_int_equal(u.reserved_fen, 188);
	assert_int_equal(u.count[PAYOUT_PENDING], 1);
	assert_int_equal(u.fen[PAYOUT_PENDING], 188);
	assert_int_equal(store_cash_day(f->st, f->brand, 0, f->cust, DAY0,
	    &won), 0);
	assert_int_equal(won, 188);
	assert_int_equal(store_cash_day(f->st, f->brand, 1, c.cash.device,
	    DAY0, &won), 0);
	assert_int_equal(won, 188);
	assert_int_equal(store_cash_day(f->st, f->brand, 1, c.cash.device,
	    DAY0 + 1, &won), 0);
	assert_int_equal(won, 0);
	assert_int_equal(store_cash_day(f->st, f->brand, 2, 1, DAY0, &won),
	    SIGIL_EINVAL);
	assert_int_equal(earn_points(f, f->cust, c.id, &n), 10);
	assert_int_equal(n, 1);
	/* a held one: not due, HELD tally */
	c = mkclaim(f, f->cust, 10, 500, 10000, T0 + HOUR);
	c.cash.held = 1;
	assert_int_equal(claim1(f, &c), 0);
	assert_int_equal(get(f, c.id).state, PAYOUT_HELD);
	u = usage(f, f->camp);
	assert_int_equal(u.reserved_fen, 688);
	assert_int_equal(u.count[PAYOUT_HELD], 1);
	/* no cash: no payout */
	c = mkclaim(f, f->cust, 10, 0, 0, T0 + HOUR);
	assert_int_equal(claim1(f, &c), 0);
	assert_int_equal(store_payout_get(f->st, f->brand, c.id, &p),
	    SIGIL_ENOTFOUND);
}

static void
test_cash_only_claim(void **state)
{
	struct fixture *f = *state;
	struct claim c = mkclaim(f, f->cust, 0, 100, 10000, T0 + HOUR);
	struct campaign camp;
	int n;

	assert_int_equal(claim1(f, &c), 0);
	assert_int_equal(earn_points(f, f->cust, c.id, &n), 0);
	assert_int_equal(n, 0);		/* no EARN entry */
	assert_int_equal(get(f, c.id).fen, 100);
	assert_int_equal(store_campaign_get(f->st, f->brand, f->camp, &camp),
	    0);
	assert_int_equal(camp.claims, 1);
	assert_int_equal(camp.points_spent, 0);
	store_campaign_clear(&camp);
	/* neither points nor cash, or bad cash: refused */
	c = mkclaim(f, f->cust, 0, 0, 10000, T0 + HOUR);
	assert_int_equal(claim1(f, &c), SIGIL_EINVAL);
	c = mkclaim(f, f->cust, -1, 100, 10000, T0 + HOUR);
	assert_int_equal(claim1(f, &c), SIGIL_EINVAL);
	c = mkclaim(f, f->cust, 0, 100, 0, T0 + HOUR);	/* no budget */
	assert_int_equal(claim1(f, &c), SIGIL_EINVAL);
	c = mkclaim(f, f->cust, 0, PAYOUT_FEN_MAX + 1, 1LL << 40, T0);
	assert_int_equal(claim1(f, &c), SIGIL_EINVAL);
	c = mkclaim(f, f->cust, 0, 100, 10000, T0);
	c.cash.openid[0] = '\0';			/* no payee */
	assert_int_equal(claim1(f, &c), SIGIL_EINVAL);
	c = mkclaim(f, f->cust, 0, 100, 10000, T0);
	c.cash.score = 101;
	assert_int_equal(claim1(f, &c), SIGIL_EINVAL);
	c = mkclaim(f, f->cust, 0, 100, 10000, T0);
	c.cash.campaign_id = 99;			/* no such campaign */
	assert_int_equal(claim1(f, &c), SIGIL_ENOTFOUND);
	c = mkclaim(f, f->cust, 5, 100, 10000, T0);
	c.campaign_id = 0;				/* no campaign at all */
	assert_int_equal(claim1(f, &c), SIGIL_EINVAL);
	assert_int_equal(usage(f, f->camp).reserved_fen, 100);
}

/*
 * Fifteen claims of 100 fen on a budget of 1,000 in one commit: ten
 * paid; the rest dropped (with points) or refused (without).
 */
static void
test_budget_batch(void **state)
{
	struct fixture *f = *state;
	struct claim c[15];
	struct claim_limits lim[15];
	int res[15], paid = 0, dropped = 0, full = 0;
	struct cash_usage u;

	for (int i = 0; i < 15; i++) {
		c[i] = mkclaim(f, f->cust, i % 2 ? 0 : 5, 100, 1000,
		    T0 + HOUR);
		lim[i] = day_of(T0 + HOUR);
	}
	c[3].cash.fen = 150;	/* uneven amounts: still to the fen */
	assert_int_equal(store_claims_commit(f->st, c, lim, res, 15), 0);
	for (int i = 0; i < 15; i++) {
		if (res[i] == 0 && c[i].cash.fen > 0) {
			paid += (int)c[i].cash.fen;
			assert_int_equal(get(f, c[i].id).fen, c[i].cash.fen);
		} else if (res[i] == 0) {
			assert_int_equal(c[i].cash.dropped, 1);
			assert_int_equal(c[i].cash.refusal, CASH_BUDGET);
			assert_int_equal(c[i].points, 5);
			dropped++;
		} else {
			assert_int_equal(res[i], SIGIL_EFULL);
			assert_int_equal(c[i].cash.refusal, CASH_BUDGET);
			assert_int_equal(c[i].id, 0);	/* left as it was */
			full++;
		}
	}
	/* 100 * 8 + 150 = 950: the ninth 100 would pass 1,000 */
	assert_int_equal(paid, 950);
	assert_int_equal(dropped + full, 6);
	assert_true(full > 0 && dropped > 0);
	u = usage(f, f->camp);
	assert_int_equal(u.reserved_fen, 950);
	assert_int_equal(u.count[PAYOUT_PENDING], 9);
	/* a claim that fits exactly: 50 more */
	c[0] = mkclaim(f, f->cust, 0, 50, 1000, T0 + HOUR);
	assert_int_equal(claim1(f, &c[0]), 0);
	assert_int_equal(usage(f, f->camp).reserved_fen, 1000);
	c[0] = mkclaim(f, f->cust, 0, 1, 1000, T0 + HOUR);
	assert_int_equal(claim1(f, &c[0]), SIGIL_EFULL);
	/* a failure gives room back */
	assert_int_equal(settle(f, c[1].id ? c[1].id : c[2].id,
	    PAYOUT_PENDING, PAYOUT_FAILED), 0);
	c[0] = mkclaim(f, f->cust, 0, 100, 1000, T0 + HOUR);
	assert_int_equal(claim1(f, &c[0]), 0);
	assert_int_equal(usage(f, f->camp).reserved_fen, 1000);
}

/* Threads racing claims on one budget: never a fen past it. */
struct race {
	struct fixture	*f;
	pthread_mutex_t	 mu;
	int		 ok, full;
	int64_t		 fen;
};

static void *
race_main(void *arg)
{
	struct race *r = arg;
	struct claim_limits lim[4];
	struct claim c[4];
	int res[4];

	for (int round = 0; round < 20; round++) {
		pthread_mutex_lock(&r->mu);
		for (int i = 0; i < 4; i++) {
			c[i] = mkclaim(r->f, r->f->cust, 0, 37 + i, 3000,
			    T0 + HOUR);
			lim[i] = day_of(T0 + HOUR);
		}
		pthread_mutex_unlock(&r->mu);
		assert_int_equal(store_claims_commit(r->f->st, c, lim, res, 4),
		    0);
		pthread_mutex_lock(&r->mu);
		for (int i = 0; i < 4; i++) {
			if (res[i] == 0) {
				r->ok++;
				r->fen += c[i].cash.fen;
			} else {
				assert_int_equal(res[i], SIGIL_EFULL);
				r->full++;
			}
		}
		pthread_mutex_unlock(&r->mu);
	}
	return NULL;
}

static void
test_budget_race(void **state)
{
	struct fixture *f = *state;
	struct race r = { f, PTHREAD_MUTEX_INITIALIZER, 0, 0, 0 };
	pthread_t t[4];

	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, race_main, &r), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(r.ok + r.full, 320);
	assert_true(r.fen <= 3000);
	assert_true(r.fen > 3000 - 40);
	assert_int_equal(usage(f, f->camp).reserved_fen, r.fen);
	assert_int_equal(usage(f, f->camp).count[PAYOUT_PENDING],
	    (uint64_t)r.ok);
}

static void
test_caps(void **state)
{
	struct fixture *f = *state;
	uint64_t other = new_customer(f, 2);
	struct claim c, b[3];
	struct claim_limits lim[3];
	int res[3];
	int64_t won;

	c = mkclaim(f, f->cust, 5, 200, 100000, T0 + HOUR);
	c.cash.cap_customer_fen = 300;
	assert_int_equal(claim1(f, &c), 0);
	/* 200 + 200 > 300: refused whole, the refusal copied back */
	c = mkclaim(f, f->cust, 5, 200, 100000, T0 + 2 * HOUR);
	c.cash.cap_customer_fen = 300;
	assert_int_equal(claim1(f, &c), SIGIL_EDENIED);
	assert_int_equal(c.cash.refusal, CASH_CAP_CUSTOMER);
	assert_int_equal(c.id, 0);
	/* 100 fits exactly */
	c = mkclaim(f, f->cust, 5, 100, 100000, T0 + 2 * HOUR);
	c.cash.cap_customer_fen = 300;
	assert_int_equal(claim1(f, &c), 0);
	assert_int_equal(store_cash_day(f->st, f->brand, 0, f->cust, DAY0,
	    &won), 0);
	assert_int_equal(won, 300);
	/* the next China day starts again */
	c = mkclaim(f, f->cust, 5, 200, 100000, T0 + DAY + HOUR);
	c.cash.cap_customer_fen = 300;
	assert_int_equal(claim1(f, &c), 0);
	/* the device cap: another customer on the same device */
	c = mkclaim(f, other, 5, 100, 100000, T0 + 3 * HOUR);
	c.cash.device = 0xd0d0 + f->cust;
	c.cash.cap_device_fen = 350;
	assert_int_equal(claim1(f, &c), SIGIL_EDENIED);
	assert_int_equal(c.cash.refusal, CASH_CAP_DEVICE);
	c.cash.cap_device_fen = 400;
	c.serial = f->serial++;
	assert_int_equal(claim1(f, &c), 0);
	assert_int_equal(c.cash.refusal, CASH_OK);
	/* in one batch: the second sees the first's cash */
	for (int i = 0; i < 3; i++) {
		b[i] = mkclaim(f, other, 5, 150, 100000, T0 + DAY + HOUR);
		b[i].cash.cap_customer_fen = 300;
		lim[i] = day_of(T0 + DAY + HOUR);
	}
	assert_int_equal(store_claims_commit(f->st, b, lim, res, 3), 0);
	assert_int_equal(res[0], 0);
	assert_int_equal(res[1], 0);
	assert_int_equal(res[2], SIGIL_EDENIED);
	assert_int_equal(b[2].cash.refusal, CASH_CAP_CUSTOMER);
	assert_int_equal(b[0].cash.refusal, CASH_OK);
	/* a budget drop comes before the caps: points still paid */
	c = mkclaim(f, other, 5, 150, 10, T0 + DAY + HOUR);
	c.cash.cap_customer_fen = 300;
	assert_int_equal(claim1(f, &c), 0);
	assert_int_equal(c.cash.dropped, 1);
	assert_int_equal(c.cash.refusal, CASH_BUDGET);
}

/* A payout brought to state s by allowed moves; its claim id. */
static uint64_t
payout_in(struct fixture *f, int s)
{
	uint64_t id = paid_claim(f, 100, s == PAYOUT_HELD ||
	    s == PAYOUT_REJECTED);

	switch (s) {
	case PAYOUT_REJECTED:
		assert_int_equal(settle(f, id, PAYOUT_HELD, PAYOUT_REJECTED),
		    0);
		break;
	case PAYOUT_ACCEPTED:
	case PAYOUT_PAID:
	case PAYOUT_FAILED:
		assert_int_equal(settle(f, id, PAYOUT_PENDING, s), 0);
		break;
	}
	assert_int_equal(get(f, id).state, s);
	return id;
}

static int
allowed(int from, int to)
{
	return (from == PAYOUT_HELD && (to == PAYOUT_PENDING ||
	    to == PAYOUT_REJECTED)) ||
	    (from == PAYOUT_PENDING && to >= PAYOUT_PENDING &&
	    to <= PAYOUT_FAILED) ||
	    (from == PAYOUT_ACCEPTED && to >= PAYOUT_ACCEPTED &&
	    to <= PAYOUT_FAILED);
}

static void
test_settle_moves(void **state)
{
	struct fixture *f = *state;

	for (int from = PAYOUT_HELD; from <= PAYOUT_REJECTED; from++)
		for (int to = PAYOUT_HELD; to <= PAYOUT_REJECTED; to++) {
			uint64_t id = payout_in(f, from);
			struct payout before = get(f, id), after;
			struct payout_settle s = { 0 };
			struct cash_usage u0 = usage(f, f->camp), u1;
			int rc;

			s.brand_id = f->brand;
			s.claim_id = id;
			s.from = from;
			s.state = to;
			/* something new, so a same-state move is a move */
			s.attempts = before.attempts + 1;
			rc = store_payout_settle(f->st, &s);
			after = get(f, id);
			u1 = usage(f, f->camp);
			if (allowed(from, to)) {
				assert_int_equal(rc, 0);
				assert_int_equal(after.state, to);
				assert_int_equal(after.attempts, 1);
				assert_int_equal(u1.count[to],
				    u0.count[to] + (from != to));
			} else {
				assert_int_equal(rc, SIGIL_ESTATE);
				assert_memory_equal(&after, &before,
				    sizeof after);
				assert_memory_equal(&u1, &u0, sizeof u1);
			}
			/* the same again, nothing new: a no-op */
			s.from = after.state;
			s.state = after.state;
			s.attempts = 0;
			before = after;
			assert_int_equal(store_payout_settle(f->st, &s), 0);
			after = get(f, id);
			assert_memory_equal(&after, &before, sizeof after);
		}
}

static void
test_settle_fields(void **state)
{
	struct fixture *f = *state;
	uint64_t id = paid_claim(f, 120, 1);
	struct payout_settle s = { 0 };
	struct payout p;

	/* approve: due now, decided_by kept */
	s.brand_id = f->brand;
	s.claim_id = id;
	s.from = PAYOUT_HELD;
	s.state = PAYOUT_PENDING;
	s.decided_by = 42;
	assert_int_equal(store_payout_settle(f->st, &s), 0);
	p = get(f, id);
	assert_int_equal(p.decided_by, 42);
	assert_true(p.next_at > T0);
	/* a retry later */
	memset(&s, 0, sizeof s);
	s.brand_id = f->brand;
	s.claim_id = id;
	s.from = PAYOUT_PENDING;
	s.state = PAYOUT_PENDING;
	s.attempts = 1;
	s.next_at = T0 + 5 * DAY;
	assert_int_equal(store_payout_settle(f->st, &s), 0);
	p = get(f, id);
	assert_int_equal(p.attempts, 1);
	assert_int_equal(p.next_at, T0 + 5 * DAY);
	/* accepted with WeChat's bill and package */
	s.from = PAYOUT_PENDING;
	s.state = PAYOUT_ACCEPTED;
	s.attempts = 0;
	s.next_at = 0;
	strcpy(s.bill_no, "1330000071100999991182020050700019480001");
	strcpy(s.wx_state, "WAIT_USER_CONFIRM");
	strcpy(s.package_info, "affffddafdfafddffda==");
	assert_int_equal(store_payout_settle(f->st, &s), 0);
	p = get(f, id);
	assert_int_equal(p.state, PAYOUT_ACCEPTED);
	assert_int_equal(p.attempts, 1);		/* kept */
	assert_int_equal(p.next_at, T0 + 5 * DAY);	/* kept */
	assert_string_equal(p.bill_no, s.bill_no);
	assert_string_equal(p.wx_state, "WAIT_USER_CONFIRM");
	assert_string_equal(p.package_info, s.package_info);
	/* decided on a state the row left: a conflict, nothing written */
	memset(&s, 0, sizeof s);
	s.brand_id = f->brand;
	s.claim_id = id;
	s.from = PAYOUT_PENDING;
	s.state = PAYOUT_FAILED;
	assert_int_equal(store_payout_settle(f->st, &s), SIGIL_ECONFLICT);
	assert_int_equal(get(f, id).state, PAYOUT_ACCEPTED);
	/* paid: the package goes, paid_at set */
	s.from = PAYOUT_ACCEPTED;
	s.state = PAYOUT_PAID;
	s.paid_at = T0 + 6 * DAY;
	strcpy(s.wx_state, "SUCCESS");
	assert_int_equal(store_payout_settle(f->st, &s), 0);
	p = get(f, id);
	assert_int_equal(p.state, PAYOUT_PAID);
	assert_int_equal(p.paid_at, T0 + 6 * DAY);
	assert_string_equal(p.package_info, "");
	assert_string_equal(p.bill_no,
	    "1330000071100999991182020050700019480001");
	/* the callback after the query: the same, nothing new */
	assert_int_equal(store_payout_settle(f->st, &s), 0);
	/* a different story about a final row: refused */
	strcpy(s.bill_no, "999");
	assert_int_equal(store_payout_settle(f->st, &s), SIGIL_ECONFLICT);
	s.from = PAYOUT_PAID;
	assert_int_equal(store_payout_settle(f->st, &s), SIGIL_ESTATE);
	assert_string_equal(get(f, id).bill_no,
	    "1330000071100999991182020050700019480001");
	/* bad input */
	s.state = 0;
	assert_int_equal(store_payout_settle(f->st, &s), SIGIL_EINVAL);
	s.state = PAYOUT_PAID;
	s.from = 9;
	assert_int_equal(store_payout_settle(f->st, &s), SIGIL_EINVAL);
	s.from = PAYOUT_PAID;
	memset(s.fail_reason, 'x', sizeof s.fail_reason);
	assert_int_equal(store_payout_settle(f->st, &s), SIGIL_EINVAL);
	memset(s.fail_reason, 0, sizeof s.fail_reason);
	strcpy(s.fail_reason, "bad\nline");
	assert_int_equal(store_payout_settle(f->st, &s), SIGIL_EINVAL);
	memset(&s, 0, sizeof s);
	s.brand_id = f->brand;
	s.claim_id = id + 1000;
	s.from = PAYOUT_PENDING;
	s.state = PAYOUT_PAID;
	assert_int_equal(store_payout_settle(f->st, &s), SIGIL_ENOTFOUND);
}

static void
test_refund_once(void **state)
{
	struct fixture *f = *state;
	uint64_t a = paid_claim(f, 300, 0), b = paid_claim(f, 200, 1);
	struct payout_settle s = { 0 };
	struct cash_usage u;

	assert_int_equal(usage(f, f->camp).reserved_fen, 500);
	s.brand_id = f->brand;
	s.claim_id = a;
	s.from = PAYOUT_PENDING;
	s.state = PAYOUT_FAILED;
	strcpy(s.fail_reason, "NOT_ENOUGH");
	assert_int_equal(store_payout_settle(f->st, &s), 0);
	u = usage(f, f->camp);
	assert_int_equal(u.reserved_fen, 200);
	assert_int_equal(u.fen[PAYOUT_FAILED], 300);
	/* twice, the same: once */
	assert_int_equal(store_payout_settle(f->st, &s), 0);
	assert_int_equal(usage(f, f->camp).reserved_fen, 200);
	/* twice, another reason: refused, still once */
	strcpy(s.fail_reason, "TRANSFER_QUOTA_EXCEED");
	assert_int_equal(store_payout_settle(f->st, &s), SIGIL_ECONFLICT);
	s.from = PAYOUT_FAILED;
	assert_int_equal(store_payout_settle(f->st, &s), SIGIL_ESTATE);
	u = usage(f, f->camp);
	assert_int_equal(u.reserved_fen, 200);
	assert_int_equal(u.count[PAYOUT_FAILED], 1);
	assert_string_equal(get(f, a).fail_reason, "NOT_ENOUGH");
	/* and a failed one never comes back */
	assert_int_equal(settle(f, a, PAYOUT_FAILED, PAYOUT_PENDING),
	    SIGIL_ESTATE);
	assert_int_equal(settle(f, a, PAYOUT_FAILED, PAYOUT_PAID),
	    SIGIL_ESTATE);
	/* a rejection, twice */
	assert_int_equal(settle(f, b, PAYOUT_HELD, PAYOUT_REJECTED), 0);
	assert_int_equal(settle(f, b, PAYOUT_HELD, PAYOUT_REJECTED), 0);
	assert_int_equal(settle(f, b, PAYOUT_HELD, PAYOUT_PENDING),
	    SIGIL_ECONFLICT);
	u = usage(f, f->camp);
	assert_int_equal(u.reserved_fen, 0);
	assert_int_equal(u.fen[PAYOUT_REJECTED], 200);
	assert_int_equal(u.count[PAYOUT_REJECTED], 1);
	assert_int_equal(u.count[PAYOUT_HELD], 0);
}

struct seen {
	uint64_t	claim[32];
	int64_t		at[32];
	size_t		n;
	size_t		stop_at;	/* 0: never */
};

static int
seen_one(void *arg, const struct payout *p)
{
	struct seen *s = arg;

	if (s->n < 32) {
		s->claim[s->n] = p->claim_id;
		s->at[s->n] = p->next_at;
	}
	s->n++;
	return s->stop_at != 0 && s->n == s->stop_at ? 77 : 0;
}

static void
retry_at(struct fixture *f, uint64_t id, int state, int64_t at)
{
	struct payout_settle s = { 0 };

	s.brand_id = f->brand;
	s.claim_id = id;
	s.from = state;
	s.state = state;
	s.attempts = 1;
	s.next_at = at;
	assert_int_equal(store_payout_settle(f->st, &s), 0);
}

static void
test_due_order(void **state)
{
	struct fixture *f = *state;
	uint32_t other = add_brand(f->st, "other");
	uint64_t a = paid_claim(f, 10, 0), b = paid_claim(f, 10, 0);
	uint64_t c = paid_claim(f, 10, 0), held = paid_claim(f, 10, 1);
	uint64_t d = payout_in(f, PAYOUT_ACCEPTED), paid;
	uint64_t e = payout_in(f, PAYOUT_PAID);
	struct seen s = { 0 };
	int64_t oldest;
	struct fixture g = *f;

	(void)held;
	(void)e;
	retry_at(f, a, PAYOUT_PENDING, T0 + 30 * HOUR);
	retry_at(f, b, PAYOUT_PENDING, T0 + 10 * HOUR);
	retry_at(f, c, PAYOUT_PENDING, T0 + 50 * HOUR);
	retry_at(f, d, PAYOUT_ACCEPTED, T0 + 20 * HOUR);
	/* another brand's, in between */
	g.brand = other;
	g.camp = new_campaign(&g);
	g.cust = new_customer(&g, 9);
	paid = paid_claim(&g, 10, 0);
	retry_at(&g, paid, PAYOUT_PENDING, T0 + 25 * HOUR);
	f->serial = g.serial;
	assert_int_equal(store_payout_oldest(f->st, &oldest), 0);
	assert_int_equal(oldest, T0 + 10 * HOUR);
	assert_int_equal(store_payout_due(f->st, T0 + 40 * HOUR, 100,
	    seen_one, &s), 0);
	assert_int_equal(s.n, 4);
	assert_int_equal(s.claim[0], b);
	assert_int_equal(s.claim[1], d);
	assert_int_equal(s.claim[2], paid);
	assert_int_equal(s.claim[3], a);
	for (size_t i = 1; i < s.n; i++)
		assert_true(s.at[i - 1] <= s.at[i]);
	/* at most max; a callback's stop value comes back */
	memset(&s, 0, sizeof s);
	assert_int_equal(store_payout_due(f->st, T0 + 100 * HOUR, 2,
	    seen_one, &s), 0);
	assert_int_equal(s.n, 2);
	memset(&s, 0, sizeof s);
	s.stop_at = 1;
	assert_int_equal(store_payout_due(f->st, T0 + 100 * HOUR, 10,
	    seen_one, &s), 77);
	/* nothing due before the first */
	memset(&s, 0, sizeof s);
	assert_int_equal(store_payout_due(f->st, T0 + 9 * HOUR, 10, seen_one,
	    &s), 0);
	assert_int_equal(s.n, 0);
	/* settled ones leave the index */
	assert_int_equal(settle(f, b, PAYOUT_PENDING, PAYOUT_PAID), 0);
	assert_int_equal(settle(f, d, PAYOUT_ACCEPTED, PAYOUT_FAILED), 0);
	assert_int_equal(store_payout_oldest(f->st, &oldest), 0);
	assert_int_equal(oldest, T0 + 25 * HOUR);
	memset(&s, 0, sizeof s);
	assert_int_equal(store_payout_due(f->st, T0 + 100 * HOUR, 10,
	    seen_one, &s), 0);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.claim[0], paid);
	assert_int_equal(s.claim[1], a);
	assert_int_equal(s.claim[2], c);
}

static void
test_each_filters(void **state)
{
	struct fixture *f = *state;
	uint32_t camp2 = new_campaign(f);
	uint64_t other = new_customer(f, 2), ids[6];
	struct payout_filter q = { 0 };
	struct seen s = { 0 };
	struct claim c;

	for (int i = 0; i < 6; i++) {
		c = mkclaim(f, i % 2 ? other : f->cust, 1, 10 + i, 100000,
		    T0 + i * HOUR);
		if (i >= 4)
			c.campaign_id = camp2;
		assert_int_equal(claim1(f, &c), 0);
		ids[i] = c.id;
	}
	assert_int_equal(settle(f, ids[2], PAYOUT_PENDING, PAYOUT_PAID), 0);
	/* everything, newest first */
	assert_int_equal(store_payout_each(f->st, f->brand, NULL, seen_one,
	    &s), 0);
	assert_int_equal(s.n, 6);
	for (int i = 0; i < 6; i++)
		assert_int_equal(s.claim[i], ids[5 - i]);
	/* by campaign */
	memset(&s, 0, sizeof s);
	q.campaign_id = camp2;
	assert_int_equal(store_payout_each(f->st, f->brand, &q, seen_one,
	    &s), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.claim[0], ids[5]);
	/* by state */
	memset(&s, 0, sizeof s);
	memset(&q, 0, sizeof q);
	q.state = PAYOUT_PAID;
	assert_int_equal(store_payout_each(f->st, f->brand, &q, seen_one,
	    &s), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.claim[0], ids[2]);
	/* by customer (the index), newest first */
	memset(&s, 0, sizeof s);
	memset(&q, 0, sizeof q);
	q.customer_id = other;
	assert_int_equal(store_payout_each(f->st, f->brand, &q, seen_one,
	    &s), 0);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.claim[0], ids[5]);
	assert_int_equal(s.claim[1], ids[3]);
	assert_int_equal(s.claim[2], ids[1]);
	/* a customer whose index entries are followed by another's */
	memset(&s, 0, sizeof s);
	q.customer_id = f->cust;
	assert_int_equal(store_payout_each(f->st, f->brand, &q, seen_one,
	    &s), 0);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.claim[0], ids[4]);
	assert_int_equal(s.claim[2], ids[0]);
	q.customer_id = other;
	/* by customer and campaign and time */
	memset(&s, 0, sizeof s);
	q.campaign_id = f->camp;
	q.since = T0 + 2 * HOUR;
	q.until = T0 + 4 * HOUR;
	assert_int_equal(store_payout_each(f->st, f->brand, &q, seen_one,
	    &s), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.claim[0], ids[3]);
	/* by time: [since, until) */
	memset(&s, 0, sizeof s);
	memset(&q, 0, sizeof q);
	q.since = T0 + HOUR;
	q.until = T0 + 3 * HOUR;
	assert_int_equal(store_payout_each(f->st, f->brand, &q, seen_one,
	    &s), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.claim[0], ids[2]);
	assert_int_equal(s.claim[1], ids[1]);
	/* the callback's stop */
	memset(&s, 0, sizeof s);
	s.stop_at = 2;
	assert_int_equal(store_payout_each(f->st, f->brand, NULL, seen_one,
	    &s), 77);
	/* another brand sees none */
	memset(&s, 0, sizeof s);
	assert_int_equal(store_payout_each(f->st, add_brand(f->st, "b2"),
	    NULL, seen_one, &s), 0);
	assert_int_equal(s.n, 0);
}

static void
test_usage_tallies(void **state)
{
	struct fixture *f = *state;
	int64_t fen[PAYOUT_STATES] = { 0 };
	uint64_t count[PAYOUT_STATES] = { 0 };
	struct cash_usage u;

	for (int s = PAYOUT_HELD; s <= PAYOUT_REJECTED; s++)
		for (int i = 0; i < s; i++) {
			(void)payout_in(f, s);
			count[s]++;
			fen[s] += 100;
		}
	u = usage(f, f->camp);
	for (int s = PAYOUT_HELD; s <= PAYOUT_REJECTED; s++) {
		assert_int_equal(u.count[s], count[s]);
		assert_int_equal(u.fen[s], fen[s]);
	}
	assert_int_equal(u.reserved_fen, fen[PAYOUT_HELD] +
	    fen[PAYOUT_PENDING] + fen[PAYOUT_ACCEPTED] + fen[PAYOUT_PAID]);
	u = usage(f, f->camp + 1);
	assert_int_equal(u.reserved_fen, 0);
	assert_int_equal(u.count[PAYOUT_PAID], 0);
}

static void
test_erase(void **state)
{
	struct fixture *f = *state;
	uint64_t held = payout_in(f, PAYOUT_HELD);
	uint64_t pending = payout_in(f, PAYOUT_PENDING);
	uint64_t paid = payout_in(f, PAYOUT_PAID);
	uint64_t failed = payout_in(f, PAYOUT_FAILED);
	struct payout_filter q = { 0 };
	struct seen s = { 0 };
	struct payout p;
	struct cash_usage u;

	assert_int_equal(usage(f, f->camp).reserved_fen, 300);
	assert_int_equal(store_customer_erase(f->st, f->brand, f->cust,
	    T0 + DAY), 0);
	p = get(f, held);
	assert_int_equal(p.state, PAYOUT_REJECTED);
	assert_int_equal(p.customer_id, 0);
	assert_string_equal(p.openid, "");
	assert_int_equal(p.fen, 100);
	p = get(f, paid);
	assert_int_equal(p.state, PAYOUT_PAID);
	assert_int_equal(p.fen, 100);
	assert_int_equal(p.customer_id, 0);
	assert_string_equal(p.openid, "");
	assert_string_equal(get(f, failed).openid, "");
	/* in flight: the openid stays until it settles */
	p = get(f, pending);
	assert_int_equal(p.customer_id, 0);
	assert_string_not_equal(p.openid, "");
	u = usage(f, f->camp);
	assert_int_equal(u.reserved_fen, 200);	/* held's returned */
	assert_int_equal(u.count[PAYOUT_REJECTED], 1);
	assert_int_equal(u.count[PAYOUT_HELD], 0);
	assert_int_equal(settle(f, pending, PAYOUT_PENDING, PAYOUT_PAID), 0);
	assert_string_equal(get(f, pending).openid, "");
	q.customer_id = f->cust;
	assert_int_equal(store_payout_each(f->st, f->brand, &q, seen_one,
	    &s), 0);
	assert_int_equal(s.n, 0);
	/* the whole list still counts them */
	assert_int_equal(store_payout_each(f->st, f->brand, NULL, seen_one,
	    &s), 0);
	assert_int_equal(s.n, 4);
}

static void
test_merge(void **state)
{
	struct fixture *f = *state;
	struct customer bare;
	struct payout_filter q = { 0 };
	struct seen s = { 0 };
	struct claim c;
	uint64_t kept = 0, a, b;
	int64_t won;

	/* gone: a WeChat customer without a phone */
	assert_int_equal(barefix_customer(f->st, f->brand, T0, &bare), 0);
	c = mkclaim(f, bare.id, 0, 120, 100000, T0 + HOUR);
	assert_int_equal(claim1(f, &c), 0);
	a = c.id;
	b = paid_claim(f, 80, 0);
	assert_int_equal(store_customers_merge(f->st, f->brand, f->cust,
	    bare.id, T0 + 2 * HOUR, &kept), 0);
	assert_int_equal(kept, f->cust);
	assert_int_equal(get(f, a).customer_id, f->cust);
	assert_string_equal(get(f, a).openid, c.cash.openid);
	q.customer_id = f->cust;
	assert_int_equal(store_payout_each(f->st, f->brand, &q, seen_one,
	    &s), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.claim[0], b);
	assert_int_equal(s.claim[1], a);
	memset(&s, 0, sizeof s);
	q.customer_id = bare.id;
	assert_int_equal(store_payout_each(f->st, f->brand, &q, seen_one,
	    &s), 0);
	assert_int_equal(s.n, 0);
	/* the day caps count both */
	assert_int_equal(store_cash_day(f->st, f->brand, 0, f->cust, DAY0,
	    &won), 0);
	assert_int_equal(won, 200);
	assert_int_equal(store_cash_day(f->st, f->brand, 0, bare.id, DAY0,
	    &won), 0);
	assert_int_equal(won, 0);
	c = mkclaim(f, f->cust, 0, 150, 100000, T0 + 3 * HOUR);
	c.cash.cap_customer_fen = 300;
	assert_int_equal(claim1(f, &c), SIGIL_EDENIED);
	assert_int_equal(usage(f, f->camp).reserved_fen, 200);
}

static void
test_settings(void **state)
{
	struct fixture *f = *state;
	char *json = NULL;

	assert_int_equal(store_pay_settings_get(f->st, f->brand, &json),
	    SIGIL_ENOTFOUND);
	assert_int_equal(store_pay_settings_put(f->st, f->brand,
	    "{\"mchid\":\"1900000001\"}"), 0);
	assert_int_equal(store_pay_settings_get(f->st, f->brand, &json), 0);
	assert_string_equal(json, "{\"mchid\":\"1900000001\"}");
	free(json);
	assert_int_equal(store_pay_settings_put(f->st, f->brand, "{bad"),
	    SIGIL_EINVAL);
	assert_int_equal(store_pay_settings_put(f->st, 0, "{}"),
	    SIGIL_EINVAL);
	assert_int_equal(store_pay_settings_put(f->st, f->brand + 100, "{}"),
	    SIGIL_ENOTFOUND);
}

/* The tables survive a reopen, and a read-only open reads them. */
static void
test_reopen(void **state)
{
	struct fixture *f = *state;
	uint64_t id = paid_claim(f, 77, 0);
	struct payout p;

	store_close(f->st);
	assert_int_equal(store_open(f->dir, STORE_RDONLY, &f->st), 0);
	assert_int_equal(store_payout_get(f->st, f->brand, id, &p), 0);
	assert_int_equal(p.fen, 77);
	assert_int_equal(usage(f, f->camp).reserved_fen, 77);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		cmocka_unit_test(test_out_bill_no),
		T(test_claim_writes_payout),
		T(test_cash_only_claim),
		T(test_budget_batch),
		T(test_budget_race),
		T(test_caps),
		T(test_settle_moves),
		T(test_settle_fields),
		T(test_refund_once),
		T(test_due_order),
		T(test_each_filters),
		T(test_usage_tallies),
		T(test_erase),
		T(test_merge),
		T(test_settings),
		T(test_reopen),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
