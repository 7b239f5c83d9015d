/*
 * payfix.h - what the payout tests share (test_store_payouts.c,
 * test_store_payouts_settle.c): a store with a brand, a campaign and a
 * customer, claims with cash, a payout brought to any state by allowed
 * moves, the due and list walks collected. Header-only, like
 * storefix.h; include it after storefix.h and barefix.h.
 */
#ifndef SIGIL_TEST_PAYFIX_H
#define SIGIL_TEST_PAYFIX_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sigil/store.h"
#include "storefix.h"

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

static inline int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(storefix_open(f->dir, sizeof f->dir, "payouts",
	    STORE_CREATE | STORE_NOSYNC, &f->st), 0);
	f->brand = add_brand(f->st, "acme");
	f->camp = add_campaign(f->st, f->brand);
	f->cust = add_customer(f->st, f->brand, 1);
	f->serial = 1;
	*state = f;
	return 0;
}

STOREFIX_TEARDOWN(struct fixture)

/* A claim of the next code by cust with points and fen of cash. */
static inline struct claim
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

static inline struct claim_limits
day_of(int64_t at)
{
	struct claim_limits lim = { 0 };

	lim.day_start = at - at % DAY;
	return lim;
}

/* One claim committed: store_claim's result. */
static inline int
claim1(struct fixture *f, struct claim *c)
{
	struct claim_limits lim = day_of(c->at);

	return store_claim(f->st, c, &lim);
}

/* A claim with cash fen (budget big) made and committed: its id. */
static inline uint64_t
paid_claim(struct fixture *f, int64_t fen, int held)
{
	struct claim c = mkclaim(f, f->cust, 10, fen, 1000000, T0 + HOUR);

	c.cash.held = held;
	assert_int_equal(claim1(f, &c), 0);
	assert_int_equal(c.cash.fen, fen);
	assert_int_equal(c.cash.dropped, 0);
	return c.id;
}

static inline struct cash_usage
usage(struct fixture *f, uint32_t camp)
{
	struct cash_usage u;

	assert_int_equal(store_cash_usage(f->st, f->brand, camp, &u), 0);
	return u;
}

static inline struct payout
get(struct fixture *f, uint64_t claim)
{
	struct payout p;

	assert_int_equal(store_payout_get(f->st, f->brand, claim, &p), 0);
	return p;
}

/* The move of claim's payout from one state to another, to fill on. */
static inline struct payout_settle
settle_of(struct fixture *f, uint64_t claim, int from, int to)
{
	struct payout_settle s = { 0 };

	s.brand_id = f->brand;
	s.claim_id = claim;
	s.from = from;
	s.state = to;
	return s;
}

static inline int
settle(struct fixture *f, uint64_t claim, int from, int to)
{
	struct payout_settle s = settle_of(f, claim, from, to);

	return store_payout_settle(f->st, &s);
}

/* A payout brought to state s by allowed moves; its claim id. */
static inline uint64_t
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

struct seen {
	uint64_t	claim[32];
	int64_t		at[32];
	size_t		n;
	size_t		stop_at;	/* 0: never */
};

static inline int
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

/* f's brand's payouts that q lets through (NULL: all) collected in s,
 * emptied first; how many. */
static inline size_t
walk(struct fixture *f, const struct payout_filter *q, struct seen *s)
{
	memset(s, 0, sizeof *s);
	assert_int_equal(store_payout_each(f->st, f->brand, q, seen_one, s),
	    0);
	return s->n;
}

#endif
