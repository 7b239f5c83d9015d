/*
 * fuzz_cookie.c - libFuzzer target for scan_cookie_check() and
 * scan_id_parse(), which read the sg_d device cookie and the public scan
 * id in /api/v1/scans/<id>/location: both arrive verbatim from strangers.
 *
 * The input becomes a NUL-terminated string (bytes after an embedded NUL
 * are then ignored, as they would be in a C string from a header). Beyond
 * "no crash, no sanitizer report" it checks properties under a fixed key:
 * - a value accepted by either parser re-formats, through the matching
 *   maker, to exactly the input in lower case: one device or scan has one
 *   spelling, so a MAC can never be replayed under a second spelling;
 * - an accepted value never carries id 0 (the "no device" sentinel);
 * - a freshly made cookie/id for an input-derived number parses back to
 *   that number, and a single-character change to it is rejected.
 * The last property keeps the fuzzer honest: random bytes almost never
 * carry a valid MAC, so the accept path is exercised explicitly.
 *
 *	clang -fsanitize=fuzzer,address,undefined -Iinclude \
 *	    fuzz/fuzz_cookie.c src/domain/scan.c src/ground/util.c -lcrypto -lm \
 *	    -o /tmp/fz && /tmp/fz -max_total_time=20 fuzz/corpus/cookie
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sigil/scan.h"
#include "sigil/util.h"

static const uint8_t fuzz_key[32] = {
	0x73, 0x69, 0x67, 0x69, 0x6c, 0x2d, 0x66, 0x75,
	0x7a, 0x7a, 0x2d, 0x63, 0x6f, 0x6f, 0x6b, 0x69,
	0x65, 0x2d, 0x6b, 0x65, 0x79, 0x2d, 0x30, 0x31,
	0x02, 0x03, 0x05, 0x07, 0x0b, 0x0d, 0x11, 0x13,
};

/* s equals made, ignoring the case of s's hex digits. */
static int
same_lower(const char *s, const char *made)
{
	size_t n = strlen(made);

	if (strlen(s) != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (tolower((unsigned char)s[i]) != made[i])
			return 0;
	return 1;
}

static void
check_parsers(const char *s)
{
	char made[SCAN_COOKIE_LEN + SCAN_ID_LEN + 2];
	uint64_t v = 0;

	if (scan_cookie_check(fuzz_key, s, &v) == 0) {
		if (v == 0)
			abort();
		scan_cookie_make(fuzz_key, v, made);
		if (!same_lower(s, made))
			abort();
	}
	v = 0;
	if (scan_id_parse(fuzz_key, s, &v) == 0) {
		if (v == 0)
			abort();
		scan_id_format(fuzz_key, v, made);
		if (!same_lower(s, made))
			abort();
	}
}

/*
 * A single-character change to a valid value must be rejected. One flip
 * per run, placed by the input: each check costs an HMAC, and OpenSSL 3's
 * one-shot HMAC() is slow enough that flipping every position would cut
 * the run rate a hundredfold.
 */
static void
check_flip(char *good, size_t len, int cookie, uint64_t want, uint8_t pos,
    uint8_t with)
{
	uint64_t got = 0;
	size_t i = pos % len;
	int rc;

	rc = cookie ? scan_cookie_check(fuzz_key, good, &got) :
	    scan_id_parse(fuzz_key, good, &got);
	if (rc != 0 || got != want)
		abort();
	if (with == 0 || tolower(with) == tolower((unsigned char)good[i]))
		return;
	good[i] = (char)with;
	rc = cookie ? scan_cookie_check(fuzz_key, good, &got) :
	    scan_id_parse(fuzz_key, good, &got);
	if (rc != SIGIL_EFORGED)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char buf[SCAN_COOKIE_LEN + SCAN_ID_LEN + 2], *s;
	uint64_t v = 0;

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	check_parsers(s);
	free(s);

	/* The accept path, for an id taken from the input's first bytes. */
	for (size_t i = 0; i < size && i < 8; i++)
		v = v << 8 | data[i];
	if (v == 0)
		return 0;
	scan_cookie_make(fuzz_key, v, buf);
	if (strlen(buf) != SCAN_COOKIE_LEN)
		abort();
	check_flip(buf, SCAN_COOKIE_LEN, 1, v, size > 8 ? data[8] : 0,
	    size > 9 ? data[9] : 'x');
	scan_id_format(fuzz_key, v, buf);
	if (strlen(buf) != SCAN_ID_LEN)
		abort();
	check_flip(buf, SCAN_ID_LEN, 0, v, size > 10 ? data[10] : 0,
	    size > 11 ? data[11] : 'x');
	return 0;
}
