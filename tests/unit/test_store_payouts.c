/*
 * test_store_payouts.c - cash rewards' storage (store/payouts.h,
 * src/store/store_payouts.c, src/store/store_cash.c): a claim's cash
 * reserved in the claim's transaction and never past the budget (a
 * batch of claims in one store_claims_commit, threads racing), dropped
 * or refused (SIGIL_EFULL) when the budget cannot pay it, the day caps,
 * room made again by a failure, the due order, store_payout_each's
 * filters, the tallies by state, an erasure and a merge, the
 * out_bill_no. The settle moves: test_store_payouts_settle.c.
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
#include "payfix.h"

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
	struct earn_sum e;

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
	e = earned(f->st, f->brand, f->cust, c.id);
	assert_int_equal(e.points, 10);
	assert_int_equal(e.n, 1);
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
	struct earn_sum e;

	assert_int_equal(claim1(f, &c), 0);
	e = earned(f->st, f->brand, f->cust, c.id);
	assert_int_equal(e.points, 0);
	assert_int_equal(e.n, 0);	/* no EARN entry */
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
 * A cash prize with a stock of two: the third claim that draws it gets
 * neither the prize nor its cash (with points it stands, without it is
 * refused), and nothing of the budget is reserved for it.
 */
static void
test_prize_stock(void **state)
{
	struct fixture *f = *state;
	struct claim_limits lim = day_of(T0 + HOUR);
	struct claim c;

	lim.nprizes = 1;
	lim.prize_stock[0] = 2;
	for (int i = 0; i < 2; i++) {
		c = mkclaim(f, f->cust, 0, 100, 10000, T0 + HOUR);
		c.prize = 0;
		assert_int_equal(store_claim(f->st, &c, &lim), 0);
		assert_int_equal(c.prize, 0);
		assert_int_equal(c.cash.fen, 100);
	}
	c = mkclaim(f, f->cust, 0, 100, 10000, T0 + HOUR);
	c.prize = 0;
	assert_int_equal(store_claim(f->st, &c, &lim), SIGIL_EFULL);
	c = mkclaim(f, f->cust, 5, 100, 10000, T0 + HOUR);
	c.prize = 0;
	assert_int_equal(store_claim(f->st, &c, &lim), 0);
	assert_int_equal(c.prize, -1);
	assert_int_equal(c.cash.fen, 0);
	assert_int_equal(c.cash.dropped, 1);
	assert_int_equal(usage(f, f->camp).reserved_fen, 200);
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
	uint64_t other = add_customer(f->st, f->brand, 2);
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

/* The payouts due at now (max at most) in s, emptied first; how many. */
static size_t
due(struct fixture *f, int64_t now, size_t max, struct seen *s)
{
	memset(s, 0, sizeof *s);
	assert_int_equal(store_payout_due(f->st, now, max, seen_one, s), 0);
	return s->n;
}

static void
retry_at(struct fixture *f, uint64_t id, int state, int64_t at)
{
	struct payout_settle s = settle_of(f, id, state, state);

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
	g.camp = add_campaign(g.st, g.brand);
	g.cust = add_customer(g.st, g.brand, 9);
	paid = paid_claim(&g, 10, 0);
	retry_at(&g, paid, PAYOUT_PENDING, T0 + 25 * HOUR);
	f->serial = g.serial;
	assert_int_equal(store_payout_oldest(f->st, &oldest), 0);
	assert_int_equal(oldest, T0 + 10 * HOUR);
	assert_int_equal(due(f, T0 + 40 * HOUR, 100, &s), 4);
	assert_int_equal(s.claim[0], b);
	assert_int_equal(s.claim[1], d);
	assert_int_equal(s.claim[2], paid);
	assert_int_equal(s.claim[3], a);
	for (size_t i = 1; i < s.n; i++)
		assert_true(s.at[i - 1] <= s.at[i]);
	/* at most max; a callback's stop value comes back */
	assert_int_equal(due(f, T0 + 100 * HOUR, 2, &s), 2);
	memset(&s, 0, sizeof s);
	s.stop_at = 1;
	assert_int_equal(store_payout_due(f->st, T0 + 100 * HOUR, 10,
	    seen_one, &s), 77);
	/* nothing due before the first */
	assert_int_equal(due(f, T0 + 9 * HOUR, 10, &s), 0);
	/* settled ones leave the index */
	assert_int_equal(settle(f, b, PAYOUT_PENDING, PAYOUT_PAID), 0);
	assert_int_equal(settle(f, d, PAYOUT_ACCEPTED, PAYOUT_FAILED), 0);
	assert_int_equal(store_payout_oldest(f->st, &oldest), 0);
	assert_int_equal(oldest, T0 + 25 * HOUR);
	assert_int_equal(due(f, T0 + 100 * HOUR, 10, &s), 3);
	assert_int_equal(s.claim[0], paid);
	assert_int_equal(s.claim[1], a);
	assert_int_equal(s.claim[2], c);
}

static void
test_each_filters(void **state)
{
	struct fixture *f = *state;
	uint32_t camp2 = add_campaign(f->st, f->brand);
	uint64_t other = add_customer(f->st, f->brand, 2), ids[6];
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
	assert_int_equal(walk(f, NULL, &s), 6);
	for (int i = 0; i < 6; i++)
		assert_int_equal(s.claim[i], ids[5 - i]);
	/* by campaign */
	q.campaign_id = camp2;
	assert_int_equal(walk(f, &q, &s), 2);
	assert_int_equal(s.claim[0], ids[5]);
	/* by state */
	memset(&q, 0, sizeof q);
	q.state = PAYOUT_PAID;
	assert_int_equal(walk(f, &q, &s), 1);
	assert_int_equal(s.claim[0], ids[2]);
	/* by customer (the index), newest first */
	memset(&q, 0, sizeof q);
	q.customer_id = other;
	assert_int_equal(walk(f, &q, &s), 3);
	assert_int_equal(s.claim[0], ids[5]);
	assert_int_equal(s.claim[1], ids[3]);
	assert_int_equal(s.claim[2], ids[1]);
	/* a customer whose index entries are followed by another's */
	q.customer_id = f->cust;
	assert_int_equal(walk(f, &q, &s), 3);
	assert_int_equal(s.claim[0], ids[4]);
	assert_int_equal(s.claim[2], ids[0]);
	q.customer_id = other;
	/* by customer and campaign and time */
	q.campaign_id = f->camp;
	q.since = T0 + 2 * HOUR;
	q.until = T0 + 4 * HOUR;
	assert_int_equal(walk(f, &q, &s), 1);
	assert_int_equal(s.claim[0], ids[3]);
	/* by time: [since, until) */
	memset(&q, 0, sizeof q);
	q.since = T0 + HOUR;
	q.until = T0 + 3 * HOUR;
	assert_int_equal(walk(f, &q, &s), 2);
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
	assert_int_equal(walk(f, &q, &s), 0);
	/* the whole list still counts them */
	assert_int_equal(walk(f, NULL, &s), 4);
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
	assert_int_equal(walk(f, &q, &s), 2);
	assert_int_equal(s.claim[0], b);
	assert_int_equal(s.claim[1], a);
	q.customer_id = bare.id;
	assert_int_equal(walk(f, &q, &s), 0);
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
		T(test_prize_stock),
		T(test_budget_race),
		T(test_caps),
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
