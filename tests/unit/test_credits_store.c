/*
 * test_credits_store.c - a claim's credit list (claims.h: struct
 * claim_credit) through store_claims_commit, and the bonuses table
 * (src/store/store_bonuses.c): each credit one EARN entry charged to its
 * own campaign's budget, dropped (never overdrawn) when the budget cannot
 * pay it; bonuses once per period; threads racing never overdraw; the
 * totals; a registration bonus; a merge and an erasure of bonus rows.
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

struct fixture {
	char		 dir[64];
	struct store	*st;
	uint32_t	 brand;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(storefix_open(f->dir, sizeof f->dir, "credits",
	    STORE_CREATE | STORE_NOSYNC, &f->st), 0);
	f->brand = add_brand(f->st, "acme");
	*state = f;
	return 0;
}

STOREFIX_TEARDOWN(struct fixture)

static struct claim
mkclaim(uint32_t brand, uint64_t serial, uint64_t cust, uint32_t campaign,
    int64_t points, int64_t at)
{
	struct claim c = { 0 };

	c.brand_id = brand;
	c.serial = serial;
	c.role = CLAIM_CONSUMER;
	c.customer_id = cust;
	c.campaign_id = campaign;
	c.points = points;
	c.prize = -1;
	c.at = at;
	c.expires_at = at + 400 * DAY;
	return c;
}

static void
credit(struct claim *c, int kind, uint32_t campaign, int64_t points,
    int64_t budget, uint64_t customer)
{
	struct claim_credit *cr = &c->credits[c->ncredits++];

	memset(cr, 0, sizeof *cr);
	cr->kind = kind;
	cr->campaign_id = campaign;
	cr->points = points;
	cr->budget = budget;
	cr->customer_id = customer;
}

static struct claim_limits
day_of(int64_t at)
{
	struct claim_limits lim = { 0 };

	lim.day_start = at - at % DAY;
	return lim;
}

static int64_t
spent(struct fixture *f, uint32_t id, uint64_t *claims)
{
	struct campaign c;
	int64_t p;

	assert_int_equal(store_campaign_get(f->st, f->brand, id, &c), 0);
	p = c.points_spent;
	if (claims != NULL)
		*claims = c.claims;
	store_campaign_clear(&c);
	return p;
}

static void
test_stack_and_rebate(void **state)
{
	struct fixture *f = *state;
	uint32_t a = add_campaign(f->st, f->brand);
	uint32_t b = add_campaign(f->st, f->brand);
	uint64_t cust = add_customer(f->st, f->brand, 1);
	uint64_t seller = add_customer(f->st, f->brand, 2);
	int64_t at = T0 + 10 * HOUR;
	struct claim_limits lim = day_of(at);
	struct campaign_credits cc;
	struct earn_sum s;
	struct claim c;
	uint64_t n;

	/* base 10 from a (budget 100), stack 10 from b
	 * (budget 15): all paid but a rebate of 6, which b cannot pay whole */
	c = mkclaim(f->brand, 1, cust, a, 10, at);
	credit(&c, CREDIT_BASE, a, 10, 100, 0);
	credit(&c, CREDIT_STACK, b, 10, 15, 0);
	credit(&c, CREDIT_REBATE, b, 6, 15, seller);
	assert_int_equal(store_claim(f->st, &c, &lim), 0);
	assert_int_equal(c.points, 20);
	assert_int_equal(c.campaign_id, a);
	assert_int_equal(c.credits[0].dropped, 0);
	assert_int_equal(c.credits[1].dropped, 0);
	assert_int_equal(c.credits[2].dropped, 1);
	s = earned(f->st, f->brand, cust, c.id);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.points, 20);
	assert_int_equal(earned(f->st, f->brand, seller, 0).n, 0);
	assert_int_equal(spent(f, a, &n), 10);
	assert_int_equal(n, 1);
	assert_int_equal(spent(f, b, &n), 10);
	assert_int_equal(n, 1);

	/* a rebate b can pay: to the seller's own ledger */
	c = mkclaim(f->brand, 2, cust, a, 10, at);
	credit(&c, CREDIT_BASE, a, 10, 100, 0);
	credit(&c, CREDIT_REBATE, b, 5, 15, seller);
	assert_int_equal(store_claim(f->st, &c, &lim), 0);
	assert_int_equal(c.points, 10);
	s = earned(f->st, f->brand, seller, c.id);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.points, 5);
	assert_int_equal(spent(f, b, &n), 15);
	assert_int_equal(n, 1);		/* a rebate is no claim of b's */
	assert_int_equal(store_campaign_credits(f->st, f->brand, b, &cc), 0);
	assert_int_equal(cc.rebate_count, 1);
	assert_int_equal(cc.rebate_points, 5);

	/* b is spent: its stack credit is dropped, the claim goes on */
	c = mkclaim(f->brand, 3, cust, b, 1, at);
	credit(&c, CREDIT_STACK, b, 1, 15, 0);
	credit(&c, CREDIT_STACK, a, 10, 100, 0);
	assert_int_equal(store_claim(f->st, &c, &lim), 0);
	assert_int_equal(c.credits[0].dropped, 1);
	assert_int_equal(c.campaign_id, a);	/* the first one paid */
	assert_int_equal(c.points, 10);
	assert_int_equal(spent(f, b, NULL), 15);

	/* nothing base or stacked payable: refused, nothing written */
	c = mkclaim(f->brand, 4, cust, b, 1, at);
	credit(&c, CREDIT_BASE, b, 1, 15, 0);
	assert_int_equal(store_claim(f->st, &c, &lim), SIGIL_EFULL);
	assert_int_equal(store_claim_get(f->st, f->brand, 4, CLAIM_CONSUMER,
	    &c), SIGIL_ENOTFOUND);
	/* a rebate alone is not a claim */
	c = mkclaim(f->brand, 4, cust, a, 1, at);
	credit(&c, CREDIT_REBATE, a, 1, 100, seller);
	assert_int_equal(store_claim(f->st, &c, &lim), SIGIL_EFULL);

	/* a seller who is not there: the rebate is dropped */
	c = mkclaim(f->brand, 5, cust, a, 10, at);
	credit(&c, CREDIT_BASE, a, 10, 100, 0);
	credit(&c, CREDIT_REBATE, a, 5, 100, 987654);
	assert_int_equal(store_claim(f->st, &c, &lim), 0);
	assert_int_equal(c.credits[1].dropped, 1);

	/* too many credits */
	c = mkclaim(f->brand, 6, cust, a, 1, at);
	c.ncredits = CLAIM_CREDITS_MAX + 1;
	assert_int_equal(store_claim(f->st, &c, &lim), SIGIL_EINVAL);
	/* the old single credit still works beside */
	c = mkclaim(f->brand, 7, cust, a, 3, at);
	lim.budget = 100;
	assert_int_equal(store_claim(f->st, &c, &lim), 0);
	assert_int_equal(spent(f, a, NULL), 43);
	assert_int_equal(earned(f->st, f->brand, cust, 0).points,
	    20 + 10 + 10 + 10 + 3);
}

static void
test_bonuses(void **state)
{
	struct fixture *f = *state;
	uint32_t a = add_campaign(f->st, f->brand);
	uint64_t cust = add_customer(f->st, f->brand, 1);
	uint64_t old = add_customer(f->st, f->brand, 2);
	int64_t at = T0 + 10 * HOUR;
	struct claim_limits lim = day_of(at);
	struct campaign_credits cc;
	struct claim c;
	int paid[6];

	/* old claimed before: no first-scan bonus for them */
	c = mkclaim(f->brand, 100, old, a, 1, at);
	assert_int_equal(store_claim(f->st, &c, &lim), 0);
	c = mkclaim(f->brand, 101, old, a, 1, at);
	credit(&c, CREDIT_BASE, a, 1, 0, 0);
	credit(&c, CREDIT_BONUS, a, 50, 0, 0);
	c.credits[1].bonus = BONUS_FIRST_SCAN;
	assert_int_equal(store_claim(f->st, &c, &lim), 0);
	assert_int_equal(c.credits[1].dropped, 1);

	/* claims of cust on consecutive days, each with every bonus: the
	 * first-scan bonus once, the birthday one once in 2026, the streak
	 * (3 claims within 7 days) on the third claim, then not again
	 * within 7 days of it */
	for (int i = 0; i < 6; i++) {
		int64_t t = at + i * DAY;

		lim = day_of(t);
		c = mkclaim(f->brand, 200 + (uint64_t)i, cust, a, 2, t);
		credit(&c, CREDIT_BASE, a, 2, 0, 0);
		credit(&c, CREDIT_BONUS, a, 50, 0, 0);
		c.credits[1].bonus = BONUS_FIRST_SCAN;
		credit(&c, CREDIT_BONUS, a, 20, 0, 0);
		c.credits[2].bonus = BONUS_BIRTHDAY;
		c.credits[2].period = 2026;
		credit(&c, CREDIT_BONUS, a, 30, 0, 0);
		c.credits[3].bonus = BONUS_STREAK;
		c.credits[3].need = 3;
		c.credits[3].days = 7;
		/* the same birthday twice in one claim: once */
		credit(&c, CREDIT_BONUS, a, 20, 0, 0);
		c.credits[4].bonus = BONUS_BIRTHDAY;
		c.credits[4].period = 2026;
		assert_int_equal(store_claim(f->st, &c, &lim), 0);
		paid[i] = (int)c.points;
		assert_int_equal(c.credits[4].dropped, 1);
	}
	assert_int_equal(paid[0], 2 + 50 + 20);
	assert_int_equal(paid[1], 2);
	assert_int_equal(paid[2], 2 + 30);
	assert_int_equal(paid[3], 2);
	assert_int_equal(paid[4], 2);
	assert_int_equal(paid[5], 2);
	/* a week after the streak: the streak again on this claim (it and
	 * the two before within 7 days) */
	lim = day_of(at + 9 * DAY);
	c = mkclaim(f->brand, 300, cust, a, 2, at + 9 * DAY);
	credit(&c, CREDIT_BASE, a, 2, 0, 0);
	credit(&c, CREDIT_BONUS, a, 30, 0, 0);
	c.credits[1].bonus = BONUS_STREAK;
	c.credits[1].need = 3;
	c.credits[1].days = 7;
	assert_int_equal(store_claim(f->st, &c, &lim), 0);
	assert_int_equal(c.credits[1].dropped, 0);
	/* the birthday next year pays again */
	lim = day_of(at + 365 * DAY);
	c = mkclaim(f->brand, 301, cust, a, 2, at + 365 * DAY);
	credit(&c, CREDIT_BASE, a, 2, 0, 0);
	credit(&c, CREDIT_BONUS, a, 20, 0, 0);
	c.credits[1].bonus = BONUS_BIRTHDAY;
	c.credits[1].period = 2027;
	assert_int_equal(store_claim(f->st, &c, &lim), 0);
	assert_int_equal(c.credits[1].dropped, 0);

	assert_int_equal(store_campaign_credits(f->st, f->brand, a, &cc), 0);
	assert_int_equal(cc.bonus_count[BONUS_FIRST_SCAN], 1);
	assert_int_equal(cc.bonus_points[BONUS_FIRST_SCAN], 50);
	assert_int_equal(cc.bonus_count[BONUS_BIRTHDAY], 2);
	assert_int_equal(cc.bonus_count[BONUS_STREAK], 2);
	assert_int_equal(cc.bonus_points[BONUS_STREAK], 60);
	assert_int_equal(spent(f, a, NULL),
	    earned(f->st, f->brand, cust, 0).points +
	    earned(f->st, f->brand, old, 0).points);
}

static void
test_registration(void **state)
{
	struct fixture *f = *state;
	uint32_t a = add_campaign(f->st, f->brand);
	uint32_t b = add_campaign(f->st, f->brand);
	uint64_t cust = add_customer(f->st, f->brand, 1);
	struct claim_credit cr[2];
	struct campaign_credits cc;

	memset(cr, 0, sizeof cr);
	cr[0].kind = cr[1].kind = CREDIT_BONUS;
	cr[0].bonus = cr[1].bonus = BONUS_REGISTRATION;
	cr[0].campaign_id = a;
	cr[0].points = 40;
	cr[1].campaign_id = b;
	cr[1].points = 40;
	cr[1].budget = 30;	/* cannot pay it whole */
	assert_int_equal(store_bonus_pay(f->st, f->brand, cust, cr, 2, T0, 0),
	    0);
	assert_int_equal(cr[0].dropped, 0);
	assert_int_equal(cr[1].dropped, 1);
	assert_int_equal(earned(f->st, f->brand, cust, 0).points, 40);
	/* once */
	assert_int_equal(store_bonus_pay(f->st, f->brand, cust, cr, 1, T0, 0),
	    0);
	assert_int_equal(cr[0].dropped, 1);
	assert_int_equal(earned(f->st, f->brand, cust, 0).points, 40);
	assert_int_equal(store_bonus_pay(f->st, f->brand, 4242, cr, 1, T0, 0),
	    SIGIL_ENOTFOUND);
	assert_int_equal(store_campaign_credits(f->st, f->brand, a, &cc), 0);
	assert_int_equal(cc.bonus_count[BONUS_REGISTRATION], 1);
	assert_int_equal(spent(f, a, NULL), 40);
	assert_int_equal(spent(f, b, NULL), 0);
}

static int
count_bonus(void *arg, const struct bonus_row *b)
{
	(void)b;
	++*(int *)arg;
	return 0;
}

static void
test_merge_moves_bonuses(void **state)
{
	struct fixture *f = *state;
	uint32_t a = add_campaign(f->st, f->brand);
	uint64_t keep = add_customer(f->st, f->brand, 1), gone, kept = 0;
	struct customer out;
	struct claim_credit cr = { 0 };
	int n = 0;

	/* gone: a customer without a phone, as a WeChat login makes one */
	assert_int_equal(barefix_customer(f->st, f->brand, T0, &out), 0);
	gone = out.id;
	cr.kind = CREDIT_BONUS;
	cr.bonus = BONUS_REGISTRATION;
	cr.campaign_id = a;
	cr.points = 5;
	assert_int_equal(store_bonus_pay(f->st, f->brand, gone, &cr, 1, T0, 0),
	    0);
	assert_int_equal(cr.dropped, 0);
	assert_int_equal(store_bonus_pay(f->st, f->brand, keep, &cr, 1, T0, 0),
	    0);
	assert_int_equal(cr.dropped, 0);
	assert_int_equal(store_customers_merge(f->st, f->brand, keep, gone,
	    T0 + DAY, &kept), 0);
	assert_int_equal(kept, keep);
	assert_int_equal(store_bonuses_of(f->st, f->brand, gone, count_bonus,
	    &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_bonuses_of(f->st, f->brand, keep, count_bonus,
	    &n), 0);
	assert_int_equal(n, 1);		/* keep's own: once is once */
	/* the erasure cuts them */
	assert_int_equal(store_customer_erase(f->st, f->brand, keep, T0 +
	    2 * DAY), 0);
	n = 0;
	assert_int_equal(store_bonuses_of(f->st, f->brand, keep, count_bonus,
	    &n), 0);
	assert_int_equal(n, 0);
}

/* Threads racing claims, each with a stack credit on a small budget. */
struct race {
	struct store	*st;
	uint32_t	 brand, a, b;
	uint64_t	 cust[8];
	uint64_t	 next;
	pthread_mutex_t	 mu;
	int		 ok, full;
};

static void *
race_main(void *arg)
{
	struct race *r = arg;
	struct claim_limits lim = day_of(T0 + 10 * HOUR);

	for (int i = 0; i < 25; i++) {
		struct claim c;
		uint64_t serial;
		int rc;

		pthread_mutex_lock(&r->mu);
		serial = ++r->next;
		pthread_mutex_unlock(&r->mu);
		c = mkclaim(r->brand, serial, r->cust[serial % 8], r->a, 7,
		    T0 + 10 * HOUR);
		credit(&c, CREDIT_BASE, r->a, 7, 1000, 0);
		credit(&c, CREDIT_STACK, r->b, 11, 500, 0);
		credit(&c, CREDIT_BONUS, r->b, 13, 500, 0);
		c.credits[2].bonus = BONUS_FIRST_SCAN;
		rc = store_claim(r->st, &c, &lim);
		pthread_mutex_lock(&r->mu);
		if (rc == 0)
			r->ok++;
		else if (rc == SIGIL_EFULL)
			r->full++;
		pthread_mutex_unlock(&r->mu);
	}
	return NULL;
}

static void
test_race_budgets(void **state)
{
	struct fixture *f = *state;
	struct race r;
	pthread_t t[8];
	int64_t sum = 0;

	memset(&r, 0, sizeof r);
	r.st = f->st;
	r.brand = f->brand;
	r.a = add_campaign(f->st, f->brand);
	r.b = add_campaign(f->st, f->brand);
	for (int i = 0; i < 8; i++)
		r.cust[i] = add_customer(f->st, f->brand, 10 + i);
	pthread_mutex_init(&r.mu, NULL);
	for (int i = 0; i < 8; i++)
		assert_int_equal(pthread_create(&t[i], NULL, race_main, &r), 0);
	for (int i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	pthread_mutex_destroy(&r.mu);
	/* a pays 7 a claim up to 1000: 142 claims; b what 500 allows */
	assert_int_equal(r.ok, 142);
	assert_int_equal(r.full, 200 - 142);
	assert_true(spent(f, r.a, NULL) <= 1000);
	assert_true(spent(f, r.b, NULL) <= 500);
	assert_true(spent(f, r.b, NULL) > 500 - 13);
	for (int i = 0; i < 8; i++)
		sum += earned(f->st, f->brand, r.cust[i], 0).points;
	assert_int_equal(sum, spent(f, r.a, NULL) + spent(f, r.b, NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_stack_and_rebate),
		T(test_bonuses),
		T(test_registration),
		T(test_merge_moves_bonuses),
		T(test_race_budgets),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
