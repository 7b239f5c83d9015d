/*
 * test_util.c - the shared pieces of src/ground/util.c that more than one
 * module leans on: sealing (AES-256-GCM, nonce || ciphertext || tag) as
 * the customers' phone numbers and the webhook secrets use it. A round
 * trip, a fresh nonce every time, and every way an opening must fail:
 * another key, another aad, any byte changed, too short.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sigil/util.h"

static const uint8_t key[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
static const uint8_t aad[4] = { 0, 0, 0, 7 };
static const char text[] = "8613800138000";

static void
test_seal_round_trip(void **state)
{
	uint8_t a[64], b[64], plain[64];
	size_t n = strlen(text);

	(void)state;
	assert_int_equal(sigil_seal(key, aad, sizeof aad,
	    (const uint8_t *)text, n, a), 0);
	assert_int_equal(sigil_seal(key, aad, sizeof aad,
	    (const uint8_t *)text, n, b), 0);
	assert_memory_not_equal(a, b, 12);	/* fresh nonce */
	assert_memory_not_equal(a + 12, text, n);
	assert_int_equal(sigil_open(key, aad, sizeof aad, a,
	    n + SIGIL_SEAL_OVERHEAD, plain), 0);
	assert_memory_equal(plain, text, n);
	/* Empty text: just nonce and tag, still authenticated. */
	assert_int_equal(sigil_seal(key, aad, sizeof aad, NULL, 0, a), 0);
	assert_int_equal(sigil_open(key, aad, sizeof aad, a,
	    SIGIL_SEAL_OVERHEAD, plain), 0);
}

static void
test_open_refuses(void **state)
{
	uint8_t ct[64], plain[64], other[32];
	uint8_t aad2[4] = { 0, 0, 0, 8 };
	size_t n = strlen(text), len = n + SIGIL_SEAL_OVERHEAD;

	(void)state;
	assert_int_equal(sigil_seal(key, aad, sizeof aad,
	    (const uint8_t *)text, n, ct), 0);
	memcpy(other, key, 32);
	other[31] ^= 1;
	assert_int_equal(sigil_open(other, aad, sizeof aad, ct, len, plain),
	    SIGIL_EFORGED);
	assert_int_equal(sigil_open(key, aad2, sizeof aad2, ct, len, plain),
	    SIGIL_EFORGED);
	for (size_t i = 0; i < len; i++) {
		ct[i] ^= 0x40;
		assert_int_equal(sigil_open(key, aad, sizeof aad, ct, len,
		    plain), SIGIL_EFORGED);
		ct[i] ^= 0x40;
	}
	assert_int_equal(sigil_open(key, aad, sizeof aad, ct, len - 1, plain),
	    SIGIL_EFORGED);
	assert_int_equal(sigil_open(key, aad, sizeof aad, ct,
	    SIGIL_SEAL_OVERHEAD - 1, plain), SIGIL_EFORGED);
	assert_int_equal(sigil_open(key, aad, sizeof aad, ct, len, plain), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seal_round_trip),
		cmocka_unit_test(test_open_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
