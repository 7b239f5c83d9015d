/*
 * test_ledger.c - ledger arithmetic: balances with oldest-first
 * consumption, lapsed lots, due EXPIRE entries and their idempotence,
 * debts, the rolling 12-month tier measure, the lot a spend takes most
 * from (a redemption's campaign), and malformed ledgers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "sigil/ledger.h"
#include "sigil/util.h"

#define DAY	(86400LL * 1000000)

static struct ledger_entry
ent(uint64_t id, int type, int64_t points, int64_t at, int64_t expires_at,
    uint64_t ref)
{
	struct ledger_entry e = { 0 };

	e.id = id;
	e.brand_id = 7;
	e.customer_id = 42;
	e.type = type;
	e.points = points;
	e.at = at;
	e.expires_at = expires_at;
	e.ref = ref;
	return e;
}

static int64_t
balance(const struct ledger_entry *e, size_t n, int64_t now)
{
	int64_t b = -999;

	assert_int_equal(ledger_balance(e, n, now, &b), 0);
	return b;
}

static void
test_empty(void **state)
{
	struct ledger_entry *due = (void *)1;
	size_t n = 9;
	int64_t x = -1;

	(void)state;
	assert_int_equal(balance(NULL, 0, 0), 0);
	assert_int_equal(ledger_due_expiries(NULL, 0, 100, &due, &n), 0);
	assert_null(due);
	assert_int_equal(n, 0);
	assert_int_equal(ledger_earned_12m(NULL, 0, 100, &x), 0);
	assert_int_equal(x, 0);
}

static void
test_earn_and_lapse(void **state)
{
	struct ledger_entry e[2];

	(void)state;
	e[0] = ent(1, LEDGER_EARN, 100, 10 * DAY, 40 * DAY, 0);
	e[1] = ent(2, LEDGER_EARN, 50, 20 * DAY, 0, 0);	/* never lapses */
	assert_int_equal(balance(e, 2, 20 * DAY), 150);
	/* The first lot stops counting at its expires_at exactly. */
	assert_int_equal(balance(e, 2, 40 * DAY - 1), 150);
	assert_int_equal(balance(e, 2, 40 * DAY), 50);
	assert_int_equal(balance(e, 2, 4000 * DAY), 50);
}

static void
test_redeem_oldest_first(void **state)
{
	struct ledger_entry e[4], *due;
	size_t n;

	(void)state;
	e[0] = ent(1, LEDGER_EARN, 100, 1 * DAY, 30 * DAY, 0);
	e[1] = ent(2, LEDGER_EARN, 100, 2 * DAY, 60 * DAY, 0);
	/* 150 spent: all of lot 1 and half of lot 2. */
	e[2] = ent(3, LEDGER_REDEEM, -150, 3 * DAY, 0, 9);
	assert_int_equal(balance(e, 3, 3 * DAY), 50);
	/* Lot 1 lapsing takes nothing: it was spent. */
	assert_int_equal(balance(e, 3, 30 * DAY), 50);
	assert_int_equal(ledger_due_expiries(e, 3, 30 * DAY, &due, &n), 0);
	assert_int_equal(n, 0);
	assert_null(due);
	/* At day 60 the remaining 50 of lot 2 lapse. */
	assert_int_equal(ledger_due_expiries(e, 3, 60 * DAY, &due, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(due[0].type, LEDGER_EXPIRE);
	assert_int_equal(due[0].points, -50);
	assert_int_equal(due[0].ref, 2);
	assert_int_equal(due[0].at, 60 * DAY);
	assert_int_equal(due[0].customer_id, 42);
	assert_int_equal(due[0].brand_id, 7);
	assert_int_equal(due[0].id, 0);
	e[3] = due[0];
	e[3].id = 4;
	free(due);
	assert_int_equal(balance(e, 4, 60 * DAY), 0);
	/* Idempotent: nothing more is due. */
	assert_int_equal(ledger_due_expiries(e, 4, 90 * DAY, &due, &n), 0);
	assert_int_equal(n, 0);
}

static void
test_redeem_skips_lapsed(void **state)
{
	struct ledger_entry e[3];

	(void)state;
	e[0] = ent(1, LEDGER_EARN, 100, 1 * DAY, 10 * DAY, 0);
	e[1] = ent(2, LEDGER_EARN, 100, 5 * DAY, 50 * DAY, 0);
	/* At day 20 lot 1 has lapsed (EXPIRE not yet written): the
	 * redemption must come out of lot 2, not the dead lot. */
	e[2] = ent(3, LEDGER_REDEEM, -60, 20 * DAY, 0, 0);
	assert_int_equal(balance(e, 3, 20 * DAY), 40);
	/* Before day 10 both lots count, but lot 2 paid for the redemption. */
	assert_int_equal(balance(e, 3, 9 * DAY), 140);
}

static void
test_due_order_and_several(void **state)
{
	struct ledger_entry e[6], *due;
	size_t n;

	(void)state;
	e[0] = ent(1, LEDGER_EARN, 10, 1 * DAY, 5 * DAY, 0);
	e[1] = ent(2, LEDGER_EARN, 20, 2 * DAY, 6 * DAY, 0);
	e[2] = ent(3, LEDGER_EARN, 30, 3 * DAY, 100 * DAY, 0);
	e[3] = ent(4, LEDGER_REDEEM, -15, 4 * DAY, 0, 0);	/* 10 + 5 */
	assert_int_equal(ledger_due_expiries(e, 4, 5 * DAY, &due, &n), 0);
	assert_int_equal(n, 0);		/* lot 1 spent already */
	assert_int_equal(ledger_due_expiries(e, 4, 7 * DAY, &due, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(due[0].ref, 2);
	assert_int_equal(due[0].points, -15);
	e[4] = due[0];
	e[4].id = 5;
	free(due);
	assert_int_equal(balance(e, 5, 7 * DAY), 30);
	e[5] = ent(6, LEDGER_REDEEM, -30, 8 * DAY, 0, 0);
	assert_int_equal(balance(e, 6, 8 * DAY), 0);
	assert_int_equal(ledger_due_expiries(e, 6, 200 * DAY, &due, &n), 0);
	assert_int_equal(n, 0);
}

static void
test_adjust_and_debt(void **state)
{
	struct ledger_entry e[4];

	(void)state;
	e[0] = ent(1, LEDGER_EARN, 10, 1 * DAY, 0, 0);
	e[1] = ent(2, LEDGER_ADJUST, -25, 2 * DAY, 0, 0);
	assert_int_equal(balance(e, 2, 2 * DAY), -15);
	/* A later lot pays the debt first. */
	e[2] = ent(3, LEDGER_EARN, 20, 3 * DAY, 10 * DAY, 0);
	assert_int_equal(balance(e, 3, 3 * DAY), 5);
	/* What is left of lot 3 (5) lapses at day 10. */
	assert_int_equal(balance(e, 3, 10 * DAY), 0);
	e[3] = ent(4, LEDGER_ADJUST, 7, 11 * DAY, 0, 0);
	assert_int_equal(balance(e, 4, 11 * DAY), 7);
}

static void
test_earned_12m(void **state)
{
	struct ledger_entry e[5];
	int64_t now = 1000 * DAY, x;

	(void)state;
	e[0] = ent(1, LEDGER_EARN, 1, now - LEDGER_YEAR_US, 0, 0);	/* out */
	e[1] = ent(2, LEDGER_EARN, 10, now - LEDGER_YEAR_US + 1, 0, 0);
	e[2] = ent(3, LEDGER_REDEEM, -5, now - DAY, 0, 0);
	e[3] = ent(4, LEDGER_EARN, 100, now, 0, 0);
	e[4] = ent(5, LEDGER_ADJUST, 1000, now - DAY, 0, 0);	/* not earned */
	assert_int_equal(ledger_earned_12m(e, 5, now, &x), 0);
	assert_int_equal(x, 110);
	/* One microsecond earlier: the entry at now is in the future, the
	 * one a year back is inside the window. */
	assert_int_equal(ledger_earned_12m(e, 5, now - 1, &x), 0);
	assert_int_equal(x, 11);
	/* Extreme now does not overflow the window arithmetic. */
	assert_int_equal(ledger_earned_12m(e, 5, INT64_MIN, &x), 0);
	assert_int_equal(x, 0);
}

static void
test_malformed(void **state)
{
	struct ledger_entry e[3], *due = NULL;
	size_t n = 0;
	int64_t x = 77;

	(void)state;
	e[0] = ent(1, LEDGER_EARN, 0, DAY, 0, 0);
	assert_int_equal(ledger_balance(e, 1, DAY, &x), SIGIL_EINVAL);
	assert_int_equal(x, 77);	/* untouched on failure */
	e[0] = ent(1, LEDGER_EARN, -5, DAY, 0, 0);
	assert_int_equal(ledger_balance(e, 1, DAY, &x), SIGIL_EINVAL);
	assert_int_equal(ledger_earned_12m(e, 1, DAY, &x), SIGIL_EINVAL);
	e[0] = ent(1, LEDGER_REDEEM, 5, DAY, 0, 0);
	assert_int_equal(ledger_balance(e, 1, DAY, &x), SIGIL_EINVAL);
	e[0] = ent(1, 99, 5, DAY, 0, 0);
	assert_int_equal(ledger_balance(e, 1, DAY, &x), SIGIL_EINVAL);
	e[0] = ent(1, LEDGER_ADJUST, INT64_MIN, DAY, 0, 0);
	assert_int_equal(ledger_balance(e, 1, DAY, &x), SIGIL_EINVAL);

	/* EXPIRE naming no lot, an unexpired lot, or more than it holds. */
	e[0] = ent(1, LEDGER_EARN, 10, DAY, 5 * DAY, 0);
	e[1] = ent(2, LEDGER_EXPIRE, -10, 5 * DAY, 0, 99);
	assert_int_equal(ledger_balance(e, 2, 6 * DAY, &x), SIGIL_EINVAL);
	e[1] = ent(2, LEDGER_EXPIRE, -10, 4 * DAY, 0, 1);
	assert_int_equal(ledger_balance(e, 2, 6 * DAY, &x), SIGIL_EINVAL);
	e[1] = ent(2, LEDGER_EXPIRE, -11, 5 * DAY, 0, 1);
	assert_int_equal(ledger_due_expiries(e, 2, 6 * DAY, &due, &n),
	    SIGIL_EINVAL);
	assert_null(due);
	e[1] = ent(2, LEDGER_EXPIRE, -10, 5 * DAY, 0, 1);
	assert_int_equal(ledger_balance(e, 2, 6 * DAY, &x), 0);
	assert_int_equal(x, 0);
	/* A lot that never lapses cannot be expired. */
	e[0] = ent(1, LEDGER_EARN, 10, DAY, 0, 0);
	assert_int_equal(ledger_balance(e, 2, 6 * DAY, &x), SIGIL_EINVAL);

	/* Overflowing sums. */
	e[0] = ent(1, LEDGER_EARN, INT64_MAX, DAY, 0, 0);
	e[1] = ent(2, LEDGER_EARN, 1, DAY, 0, 0);
	assert_int_equal(ledger_balance(e, 2, DAY, &x), SIGIL_EINVAL);
	assert_int_equal(ledger_earned_12m(e, 2, DAY, &x), SIGIL_EINVAL);
	e[0] = ent(1, LEDGER_ADJUST, -INT64_MAX, DAY, 0, 0);
	e[1] = ent(2, LEDGER_REDEEM, -2, DAY, 0, 0);
	assert_int_equal(ledger_balance(e, 2, DAY, &x), SIGIL_EINVAL);
}

/* Many lots, random spending: the balance equals a brute-force sum. */
/* Which lot a spend takes most from: oldest first, as consume() does. */
static void
test_spend_lot(void **state)
{
	struct ledger_entry e[5];
	uint64_t lot = 99;

	(void)state;
	assert_int_equal(ledger_spend_lot(NULL, 0, 10, DAY, &lot), 0);
	assert_int_equal(lot, 0);
	assert_int_equal(ledger_spend_lot(NULL, 0, 0, DAY, &lot), SIGIL_EINVAL);
	e[0] = ent(1, LEDGER_EARN, 100, 1 * DAY, 30 * DAY, 0);
	e[1] = ent(2, LEDGER_EARN, 300, 2 * DAY, 0, 0);
	/* 50: all from lot 1, the oldest. */
	assert_int_equal(ledger_spend_lot(e, 2, 50, 3 * DAY, &lot), 0);
	assert_int_equal(lot, 1);
	/* 250: 100 from lot 1, 150 from lot 2: lot 2 gives most. */
	assert_int_equal(ledger_spend_lot(e, 2, 250, 3 * DAY, &lot), 0);
	assert_int_equal(lot, 2);
	/* 200: 100 and 100, a tie: the oldest. */
	assert_int_equal(ledger_spend_lot(e, 2, 200, 3 * DAY, &lot), 0);
	assert_int_equal(lot, 1);
	/* Lot 1 lapsed at day 30: everything from lot 2. */
	assert_int_equal(ledger_spend_lot(e, 2, 50, 31 * DAY, &lot), 0);
	assert_int_equal(lot, 2);
	/* After a redemption spent lot 1, lot 2 pays. */
	e[2] = ent(3, LEDGER_REDEEM, -100, 3 * DAY, 0, 9);
	assert_int_equal(ledger_spend_lot(e, 3, 10, 4 * DAY, &lot), 0);
	assert_int_equal(lot, 2);
	/* An adjustment is a lot too (it names no campaign: the caller
	 * finds none for it). */
	e[3] = ent(4, LEDGER_REDEEM, -300, 4 * DAY, 0, 9);
	e[4] = ent(5, LEDGER_ADJUST, 40, 5 * DAY, 0, 0);
	assert_int_equal(ledger_spend_lot(e, 5, 10, 6 * DAY, &lot), 0);
	assert_int_equal(lot, 5);
	/* Nothing left: no lot. */
	assert_int_equal(ledger_spend_lot(e, 4, 10, 6 * DAY, &lot), 0);
	assert_int_equal(lot, 0);
	/* A malformed ledger is refused. */
	e[0].points = -1;
	assert_int_equal(ledger_spend_lot(e, 2, 10, DAY, &lot), SIGIL_EINVAL);
}

static void
test_many_lots(void **state)
{
	enum { N = 2000 };
	struct ledger_entry *e = calloc(N, sizeof(*e)), *due;
	uint64_t x = 12345;
	int64_t now = 0, model = 0, b;
	size_t n = 0, nd;

	(void)state;
	assert_non_null(e);
	/* Lots never lapse here, so the model is a plain sum. */
	for (size_t i = 0; i < N; i++) {
		x = x * 6364136223846793005ULL + 1;
		now += DAY / 24;
		if ((x >> 33) % 3 != 0 || model < 10) {
			e[n] = ent(n + 1, LEDGER_EARN, (int64_t)(x >> 40) % 50
			    + 1, now, 0, 0);
			model += e[n].points;
		} else {
			int64_t spend = (int64_t)(x >> 40) % model + 1;

			e[n] = ent(n + 1, LEDGER_REDEEM, -spend, now, 0, 0);
			model -= spend;
		}
		n++;
		assert_int_equal(balance(e, n, now), model);
	}
	assert_int_equal(ledger_due_expiries(e, n, now, &due, &nd), 0);
	assert_int_equal(nd, 0);
	assert_int_equal(ledger_balance(e, n, now, &b), 0);
	assert_true(b >= 0);
	free(e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_earn_and_lapse),
		cmocka_unit_test(test_redeem_oldest_first),
		cmocka_unit_test(test_redeem_skips_lapsed),
		cmocka_unit_test(test_due_order_and_several),
		cmocka_unit_test(test_adjust_and_debt),
		cmocka_unit_test(test_spend_lot),
		cmocka_unit_test(test_earned_12m),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_many_lots),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
