/*
 * test_store_payouts_settle.c - store_payout_settle's state machine
 * (store/payouts.h): every move allowed and refused, a repeat a no-op, a
 * decision on a state the row left a conflict, the fields a settle
 * keeps and sets, and a FAILED or REJECTED payout's fen returned to the
 * budget exactly once.
 */
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

/* Whether store/payouts.h allows the move from -> to. */
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
			struct payout_settle s = settle_of(f, id, from, to);
			struct cash_usage u0 = usage(f, f->camp), u1;
			int rc;

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
	struct payout_settle s;
	struct payout p;

	/* approve: due now, decided_by kept */
	s = settle_of(f, id, PAYOUT_HELD, PAYOUT_PENDING);
	s.decided_by = 42;
	assert_int_equal(store_payout_settle(f->st, &s), 0);
	p = get(f, id);
	assert_int_equal(p.decided_by, 42);
	assert_true(p.next_at > T0);
	/* a retry later */
	s = settle_of(f, id, PAYOUT_PENDING, PAYOUT_PENDING);
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
	s = settle_of(f, id, PAYOUT_PENDING, PAYOUT_FAILED);
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
	s = settle_of(f, id + 1000, PAYOUT_PENDING, PAYOUT_PAID);
	assert_int_equal(store_payout_settle(f->st, &s), SIGIL_ENOTFOUND);
}

static void
test_refund_once(void **state)
{
	struct fixture *f = *state;
	uint64_t a = paid_claim(f, 300, 0), b = paid_claim(f, 200, 1);
	struct payout_settle s;
	struct cash_usage u;

	assert_int_equal(usage(f, f->camp).reserved_fen, 500);
	s = settle_of(f, a, PAYOUT_PENDING, PAYOUT_FAILED);
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_settle_moves),
		T(test_settle_fields),
		T(test_refund_once),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
