/*
 * test_outbox_store.c - the message outbox in a real store: rows added
 * (checked), due in next_at order per brand and only when due, settled
 * (sent rows never due again, retries due again later), listed newest
 * first, counted for the frequency cap, moved by a merge and cut by an
 * erasure; the service enqueue in another transaction (so this file
 * includes store_impl.h).
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

#define T0	(1767225600000000LL)	/* 2026-01-01T00:00:00Z */
#define S	1000000LL

struct fixture {
	char		 dir[64];
	struct store	*st;
	uint32_t	 brand, other;
	uint64_t	 a, b;		/* customers of brand */
};

static uint64_t
customer(struct store *st, uint32_t brand, uint8_t seed)
{
	struct customer c;
	uint8_t h[32], ct[20];
	int created;

	memset(h, seed, sizeof h);
	memset(ct, seed, sizeof ct);
	assert_int_equal(store_customer_by_phone(st, brand, h, ct, sizeof ct,
	    &c, &created), 0);
	return c.id;
}

/* A customer without a phone, as a WeChat login makes one. */
static uint64_t
bare_customer(struct store *st, uint32_t brand)
{
	struct customer out;

	assert_int_equal(barefix_customer(st, brand, T0, &out), 0);
	return out.id;
}

struct service {
	uint32_t	brand_id;
	uint64_t	customer;
	const char	*text;
};

static int
service_fn(struct store *st, MDB_txn *txn, void *p)
{
	struct service *a = p;

	return message_service_enqueue(st, txn, a->brand_id, a->customer,
	    a->text);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(storefix_open(f->dir, sizeof f->dir, "outbox",
	    STORE_CREATE | STORE_NOSYNC, &f->st), 0);
	f->brand = add_brand(f->st, "acme");
	f->other = add_brand(f->st, "other");
	f->a = customer(f->st, f->brand, 1);
	f->b = bare_customer(f->st, f->brand);
	*state = f;
	return 0;
}

STOREFIX_TEARDOWN(struct fixture)

static uint64_t
add(struct fixture *f, uint32_t brand, uint64_t cust, int64_t created,
    int64_t next_at, const char *text)
{
	struct outbox_msg m = { 0 };
	char payload[128];

	snprintf(payload, sizeof payload, "{\"text\":\"%s\"}", text);
	m.brand_id = brand;
	m.kind = OUTBOX_MARKETING;
	m.customer_id = cust;
	strcpy(m.channel, "sms");
	m.source = 7;
	m.payload = payload;
	m.created = created;
	m.next_at = next_at;
	assert_int_equal(store_outbox_add(f->st, &m), 0);
	assert_int_not_equal(m.id, 0);
	assert_int_equal(m.state, OUTBOX_QUEUED);
	return m.id;
}

struct seen {
	uint64_t	id[16];
	uint32_t	brand[16];
	size_t		n;
};

static int
collect(void *arg, const struct outbox_msg *m)
{
	struct seen *s = arg;

	if (s->n < 16) {
		s->id[s->n] = m->id;
		s->brand[s->n] = m->brand_id;
	}
	s->n++;
	return 0;
}

static void
test_add_checks(void **state)
{
	struct fixture *f = *state;
	struct outbox_msg m = { 0 };

	m.brand_id = f->brand;
	m.kind = OUTBOX_MARKETING;
	m.customer_id = f->a;
	strcpy(m.channel, "sms");
	m.payload = "{\"text\":\"x\"";		/* not JSON */
	assert_int_equal(store_outbox_add(f->st, &m), SIGIL_EINVAL);
	m.payload = "{\"text\":\"x\"}";
	strcpy(m.channel, "SMS!");
	assert_int_equal(store_outbox_add(f->st, &m), SIGIL_EINVAL);
	strcpy(m.channel, "sms");
	m.kind = 9;
	assert_int_equal(store_outbox_add(f->st, &m), SIGIL_EINVAL);
	m.kind = OUTBOX_MARKETING;
	m.customer_id = 0;			/* only alerts have none */
	assert_int_equal(store_outbox_add(f->st, &m), SIGIL_EINVAL);
	m.kind = OUTBOX_ALERT;
	m.brand_id = 999;
	assert_int_equal(store_outbox_add(f->st, &m), SIGIL_ENOTFOUND);
	m.brand_id = f->brand;
	assert_int_equal(store_outbox_add(f->st, &m), 0);
	assert_int_equal(m.id, 1);
}

static void
test_due_and_settle(void **state)
{
	struct fixture *f = *state;
	struct seen s = { 0 };
	struct outbox_settle st = { 0 };
	struct outbox_msg got;
	uint64_t late, early, other, counts[4];
	int64_t oldest;

	late = add(f, f->brand, f->a, T0, T0 + 100 * S, "late");
	early = add(f, f->brand, f->b, T0, T0 + 10 * S, "early");
	other = add(f, f->other, customer(f->st, f->other, 3), T0, T0 + 50 * S,
	    "other");
	assert_int_equal(store_outbox_oldest(f->st, &oldest), 0);
	assert_int_equal(oldest, T0 + 10 * S);

	/* Nothing is due before its time. */
	assert_int_equal(store_outbox_due(f->st, T0, 100, collect, &s), 0);
	assert_int_equal(s.n, 0);
	/* Each brand's due rows in next_at order. */
	assert_int_equal(store_outbox_due(f->st, T0 + 60 * S, 100, collect,
	    &s), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.id[0], early);
	assert_int_equal(s.id[1], other);
	s.n = 0;
	assert_int_equal(store_outbox_due(f->st, T0 + 200 * S, 100, collect,
	    &s), 0);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.id[0], early);
	assert_int_equal(s.id[1], late);
	assert_int_equal(s.id[2], other);

	/* Sent: never due again. A retry: due again at its new time. */
	st.brand_id = f->brand;
	st.id = early;
	st.state = OUTBOX_SENT;
	st.sent_at = T0 + 11 * S;
	st.last_status = 200;
	assert_int_equal(store_outbox_settle(f->st, &st), 0);
	st.id = late;
	st.state = OUTBOX_QUEUED;
	st.attempts = 1;
	st.next_at = T0 + 300 * S;
	st.last_status = 503;
	assert_int_equal(store_outbox_settle(f->st, &st), 0);
	s.n = 0;
	assert_int_equal(store_outbox_due(f->st, T0 + 200 * S, 100, collect,
	    &s), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.id[0], other);
	s.n = 0;
	assert_int_equal(store_outbox_due(f->st, T0 + 300 * S, 100, collect,
	    &s), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.id[0], late);

	/* A settled row is not settled again (a late answer). */
	st.id = early;
	st.state = OUTBOX_FAILED;
	assert_int_equal(store_outbox_settle(f->st, &st), 0);
	assert_int_equal(store_outbox_get(f->st, f->brand, early, &got), 0);
	assert_int_equal(got.state, OUTBOX_SENT);
	assert_int_equal(got.sent_at, T0 + 11 * S);
	assert_int_equal(got.last_status, 200);
	assert_string_equal(got.payload, "{\"text\":\"early\"}");
	assert_string_equal(got.channel, "sms");
	outbox_msg_clear(&got);
	assert_int_equal(store_outbox_get(f->st, f->brand, late, &got), 0);
	assert_int_equal(got.attempts, 1);
	assert_int_equal(got.last_status, 503);
	outbox_msg_clear(&got);
	/* Another brand's row is not found under this brand. */
	assert_int_equal(store_outbox_get(f->st, f->brand, other, &got),
	    SIGIL_ENOTFOUND);
	assert_int_equal(store_outbox_tally(f->st, f->brand, 7, counts), 0);
	assert_int_equal(counts[OUTBOX_QUEUED], 1);
	assert_int_equal(counts[OUTBOX_SENT], 1);

	/* Newest first, filtered by customer. */
	s.n = 0;
	assert_int_equal(store_outbox_each(f->st, f->brand, 0, 0, 0, collect,
	    &s), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.id[0], early);
	assert_int_equal(s.id[1], late);
	s.n = 0;
	assert_int_equal(store_outbox_each(f->st, f->brand, 0, 0, f->a,
	    collect, &s), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.id[0], late);
}

static void
test_cap_merge_erase(void **state)
{
	struct fixture *f = *state;
	struct seen s = { 0 };
	uint32_t n;
	uint64_t kept, gone, id;
	struct outbox_msg got;

	add(f, f->brand, f->a, T0, T0, "1");
	add(f, f->brand, f->a, T0 + 10 * S, T0, "2");
	add(f, f->brand, f->b, T0 + 20 * S, T0, "3");
	assert_int_equal(store_outbox_count_since(f->st, f->brand, f->a,
	    OUTBOX_MARKETING, T0 + 5 * S, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_outbox_count_since(f->st, f->brand, f->a, 0, 0,
	    &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_outbox_count_since(f->st, f->brand, f->a,
	    OUTBOX_SERVICE, 0, &n), 0);
	assert_int_equal(n, 0);

	/* A merge: the survivor's count holds both customers' messages. */
	assert_int_equal(store_customers_merge(f->st, f->brand, f->a, f->b,
	    T0 + 30 * S, &kept), 0);
	gone = kept == f->a ? f->b : f->a;
	assert_int_equal(store_outbox_count_since(f->st, f->brand, kept, 0, 0,
	    &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(store_outbox_count_since(f->st, f->brand, gone, 0, 0,
	    &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_outbox_each(f->st, f->brand, 0, 0, kept, collect,
	    &s), 0);
	assert_int_equal(s.n, 3);
	id = s.id[0];

	/* An erasure: the rows are gone, and no longer due. */
	assert_int_equal(store_customer_erase(f->st, f->brand, kept,
	    T0 + 40 * S), 0);
	assert_int_equal(store_outbox_get(f->st, f->brand, id, &got),
	    SIGIL_ENOTFOUND);
	s.n = 0;
	assert_int_equal(store_outbox_due(f->st, T0 + 100 * S, 100, collect,
	    &s), 0);
	assert_int_equal(s.n, 0);
	s.n = 0;
	assert_int_equal(store_outbox_each(f->st, f->brand, 0, 0, 0, collect,
	    &s), 0);
	assert_int_equal(s.n, 0);
}

static void
test_service(void **state)
{
	struct fixture *f = *state;
	struct service a = { f->brand, f->a, "谢谢您的反馈" };
	struct seen s = { 0 };
	struct outbox_msg got;

	assert_int_equal(store_write(f->st, service_fn, &a), 0);
	a.text = "bad\001text";
	assert_int_equal(store_write(f->st, service_fn, &a), SIGIL_EINVAL);
	assert_int_equal(store_outbox_each(f->st, f->brand, 0, OUTBOX_SERVICE,
	    0, collect, &s), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(store_outbox_get(f->st, f->brand, s.id[0], &got), 0);
	assert_string_equal(got.channel, "auto");
	assert_int_equal(got.customer_id, f->a);
	assert_string_equal(got.payload, "{\"text\":\"谢谢您的反馈\"}");
	outbox_msg_clear(&got);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_add_checks, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_due_and_settle, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_cap_merge_erase, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_service, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
