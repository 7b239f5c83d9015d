/*
 * test_ratelimit.c - the one rate limiter (src/ground/ratelimit.c): SipHash-2-4
 * against the reference vectors, a bucket's burst and rate, the take-over
 * rule (colliding keys never get more than one key's rate; a slot is
 * handed over full only once it has refilled), client keys (IPv4 by
 * address, IPv6 by /64, the optional /56), the keyed hash differing
 * between tables, and bad arguments.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "sigil/ratelimit.h"
#include "sigil/util.h"

#define S	1000000LL	/* microseconds */
#define T0	(1000 * S)

static void
addr6(const char *s, uint8_t out[16])
{
	assert_int_equal(inet_pton(AF_INET6, s, out), 1);
}

static void
addr4(const char *s, uint8_t out[16])
{
	memset(out, 0, 10);
	out[10] = out[11] = 0xff;
	assert_int_equal(inet_pton(AF_INET, s, out + 12), 1);
}

static void
test_siphash_vectors(void **state)
{
	uint8_t key[16], msg[64];

	(void)state;
	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	/* The reference implementation's vectors (vectors.h, 64-bit). */
	assert_true(ratelimit_siphash(key, msg, 0) == 0x726fdb47dd0e0e31ULL);
	assert_true(ratelimit_siphash(key, msg, 1) == 0x74f839c593dc67fdULL);
	assert_true(ratelimit_siphash(key, msg, 8) == 0x93f5f5799a932462ULL);
	assert_true(ratelimit_siphash(key, msg, 15) == 0xa129ca6149be45e5ULL);
	assert_true(ratelimit_siphash(key, msg, 63) == 0x958a324ceb064572ULL);
}

/* Tries every 100 ms for secs seconds; returns how many were allowed. */
static int
hammer(struct ratelimit *rl, const char *const *keys, int nkeys, int secs)
{
	int ok = 0;

	for (int t = 0; t < secs * 10; t++)
		for (int k = 0; k < nkeys; k++)
			ok += ratelimit_take(rl, keys[k], strlen(keys[k]),
			    T0 + t * S / 10);
	return ok;
}

static void
test_single_key(void **state)
{
	struct ratelimit *rl;
	static const char *const one[] = { "alice" };

	(void)state;
	assert_int_equal(ratelimit_new(1024, RATELIMIT_WAYS, 1.0, 5.0, 0, &rl),
	    0);
	for (int i = 0; i < 5; i++)
		assert_true(ratelimit_take(rl, "k", 1, T0));
	assert_false(ratelimit_take(rl, "k", 1, T0));
	assert_false(ratelimit_peek(rl, "k", 1, T0));
	assert_true(ratelimit_wait_us(rl, "k", 1, T0) == S);
	assert_false(ratelimit_take(rl, "k", 1, T0 + S / 2));
	assert_true(ratelimit_peek(rl, "k", 1, T0 + S));
	assert_true(ratelimit_take(rl, "k", 1, T0 + S));
	/* A clock that goes back refills nothing. */
	assert_false(ratelimit_take(rl, "k", 1, T0));
	ratelimit_reset(rl, "k", 1);
	assert_true(ratelimit_take(rl, "k", 1, T0 + S));
	ratelimit_free(rl);

	/* 100 s at 10 tries a second: the burst plus one a second. */
	assert_int_equal(ratelimit_new(1024, RATELIMIT_WAYS, 1.0, 5.0, 0, &rl),
	    0);
	assert_int_equal(hammer(rl, one, 1, 100), 5 + 99);
	ratelimit_free(rl);
}

/*
 * One set of one way: every key collides. Two keys alternating get one
 * key's count, not two (the old tables handed a full bucket to whichever
 * key took the slot over: 2,000 here).
 */
static void
test_collision_shares(void **state)
{
	struct ratelimit *rl;
	static const char *const one[] = { "alice" };
	static const char *const two[] = { "alice", "mallory" };
	static const char *const nine[] = { "a", "b", "c", "d", "e", "f", "g",
	    "h", "i" };
	int single, pair, many;

	(void)state;
	assert_int_equal(ratelimit_new(1, 1, 1.0, 5.0, 0, &rl), 0);
	single = hammer(rl, one, 1, 100);
	ratelimit_free(rl);
	assert_int_equal(ratelimit_new(1, 1, 1.0, 5.0, 0, &rl), 0);
	pair = hammer(rl, two, 2, 100);
	ratelimit_free(rl);
	printf("one key %d, two colliding keys %d (of 2000 tries)\n", single,
	    pair);
	assert_int_equal(single, 104);
	assert_true(pair <= single);

	/* Nine keys on one set of four ways: at most four buckets' worth. */
	assert_int_equal(ratelimit_new(1, 4, 1.0, 5.0, 0, &rl), 0);
	many = hammer(rl, nine, 9, 100);
	ratelimit_free(rl);
	printf("nine keys on four ways %d (of 9000 tries)\n", many);
	assert_true(many <= 4 * single);
}

/* The slot goes over full only once the old owner's bucket refilled. */
static void
test_takeover_rule(void **state)
{
	struct ratelimit *rl;
	int n = 0;

	(void)state;
	assert_int_equal(ratelimit_new(1, 1, 1.0, 5.0, 0, &rl), 0);
	for (int i = 0; i < 5; i++)
		assert_true(ratelimit_take(rl, "a", 1, T0));
	/* b arrives 2 s later: it inherits a's two tokens, not five. */
	while (ratelimit_take(rl, "b", 1, T0 + 2 * S))
		n++;
	assert_int_equal(n, 2);
	/* a comes back: still the shared, empty level. */
	assert_false(ratelimit_take(rl, "a", 1, T0 + 2 * S));
	/* After burst / rate idle seconds the bucket is full: c gets 5. */
	n = 0;
	while (ratelimit_take(rl, "c", 1, T0 + 7 * S))
		n++;
	assert_int_equal(n, 5);
	ratelimit_free(rl);

	/* With ways, a busy key keeps its bucket while others come and go. */
	assert_int_equal(ratelimit_new(1, 2, 1.0, 5.0, 0, &rl), 0);
	for (int i = 0; i < 5; i++)
		assert_true(ratelimit_take(rl, "a", 1, T0));
	assert_true(ratelimit_take(rl, "b", 1, T0));
	assert_false(ratelimit_take(rl, "a", 1, T0));
	ratelimit_free(rl);
}

static void
test_client_keys(void **state)
{
	struct ratelimit *rl;
	uint8_t a[16], b[16], c[16], ka[RATELIMIT_CLIENT_KEY],
	    kb[RATELIMIT_CLIENT_KEY];
	char text[64];
	int n;

	(void)state;
	/* One /64: the same key; another /64: another key. */
	addr6("2001:db8:1::1", a);
	addr6("2001:db8:1:0:ffff:ffff:ffff:fffe", b);
	ratelimit_client_key(a, 64, ka);
	ratelimit_client_key(b, 64, kb);
	assert_memory_equal(ka, kb, sizeof ka);
	addr6("2001:db8:1:1::1", c);
	ratelimit_client_key(c, 64, kb);
	assert_memory_not_equal(ka, kb, sizeof ka);
	/* IPv4 by address, and never the key of an IPv6 prefix. */
	addr4("127.0.0.1", a);
	addr4("127.0.0.2", b);
	ratelimit_client_key(a, 64, ka);
	ratelimit_client_key(b, 64, kb);
	assert_memory_not_equal(ka, kb, sizeof ka);

	/* 200 addresses of one /64 are one client: 10 burst in all. */
	assert_int_equal(ratelimit_new(65536, RATELIMIT_WAYS, 1.0, 10.0, 0,
	    &rl), 0);
	n = 0;
	for (int i = 1; i <= 200; i++) {
		snprintf(text, sizeof text, "2001:db8:1::%x", i);
		addr6(text, a);
		n += ratelimit_client_take(rl, a, T0);
	}
	assert_int_equal(n, 10);
	/* ... while 200 IPv4 addresses are 200 clients. */
	n = 0;
	for (int i = 1; i <= 200; i++) {
		snprintf(text, sizeof text, "127.0.1.%d", i);
		addr4(text, a);
		n += ratelimit_client_take(rl, a, T0);
	}
	assert_int_equal(n, 200);
	/* Without the /56 flag, 256 /64s of one /56 are 256 clients. */
	n = 0;
	for (int i = 0; i < 256; i++) {
		snprintf(text, sizeof text, "2001:db8:2:%x::1", i);
		addr6(text, a);
		n += ratelimit_client_take(rl, a, T0);
	}
	assert_int_equal(n, 256);
	ratelimit_free(rl);

	/* With it, they share RATELIMIT_V56_FACTOR times one client. */
	assert_int_equal(ratelimit_new(65536, RATELIMIT_WAYS, 1.0, 10.0,
	    RATELIMIT_V6_56, &rl), 0);
	n = 0;
	for (int i = 0; i < 256; i++) {
		snprintf(text, sizeof text, "2001:db8:2:%x::1", i);
		addr6(text, a);
		n += ratelimit_client_take(rl, a, T0);
	}
	assert_int_equal(n, 10 * RATELIMIT_V56_FACTOR);
	addr6("2001:db8:2:1::1", a);
	assert_true(ratelimit_client_wait_us(rl, a, T0) > 0);
	/* IPv4 clients are not affected by the flag. */
	n = 0;
	for (int i = 1; i <= 20; i++) {
		snprintf(text, sizeof text, "127.0.2.%d", i);
		addr4(text, a);
		n += ratelimit_client_take(rl, a, T0);
	}
	assert_int_equal(n, 20);
	ratelimit_free(rl);
}

static void
test_keyed_hash(void **state)
{
	struct ratelimit *r1, *r2;
	int differ = 0;

	(void)state;
	assert_int_equal(ratelimit_new(4096, RATELIMIT_WAYS, 1.0, 5.0, 0, &r1),
	    0);
	assert_int_equal(ratelimit_new(4096, RATELIMIT_WAYS, 1.0, 5.0, 0, &r2),
	    0);
	assert_true(ratelimit_hash(r1, "x", 1) == ratelimit_hash(r1, "x", 1));
	assert_true(ratelimit_hash(r1, "x", 1) != ratelimit_hash(r2, "x", 1));
	/* Which keys share a set differs too: the slot is not predictable. */
	for (int i = 0; i < 64; i++) {
		char k[8];

		snprintf(k, sizeof k, "k%d", i);
		differ += (ratelimit_hash(r1, k, strlen(k)) & 4095) !=
		    (ratelimit_hash(r2, k, strlen(k)) & 4095);
	}
	assert_true(differ > 48);
	ratelimit_free(r1);
	ratelimit_free(r2);
}

static void
test_bad_args(void **state)
{
	struct ratelimit *rl = NULL;

	(void)state;
	assert_int_equal(ratelimit_new(16, 4, 0, 5, 0, &rl), SIGIL_EINVAL);
	assert_int_equal(ratelimit_new(16, 4, -1, 5, 0, &rl), SIGIL_EINVAL);
	assert_int_equal(ratelimit_new(16, 4, 1, 0.5, 0, &rl), SIGIL_EINVAL);
	assert_int_equal(ratelimit_new(0, 4, 1, 5, 0, &rl), SIGIL_EINVAL);
	assert_int_equal(ratelimit_new(16, 0, 1, 5, 0, &rl), SIGIL_EINVAL);
	assert_int_equal(ratelimit_new(16, 17, 1, 5, 0, &rl), SIGIL_EINVAL);
	assert_null(rl);
	ratelimit_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_siphash_vectors),
		cmocka_unit_test(test_single_key),
		cmocka_unit_test(test_collision_shares),
		cmocka_unit_test(test_takeover_rule),
		cmocka_unit_test(test_client_keys),
		cmocka_unit_test(test_keyed_hash),
		cmocka_unit_test(test_bad_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
