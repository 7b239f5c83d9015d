/*
 * fuzz_time.c - libFuzzer target for sigil_time_parse(), which reads the
 * from=/to= bounds of the brand API's scan queries and CLI arguments.
 *
 * The accepted forms are exactly "YYYY-MM-DD", "YYYY-MM-DDTHH:MM:SSZ" and
 * "YYYY-MM-DDTHH:MM:SS.mmmZ" (UTC, 1970..9999). Properties checked:
 * - anything accepted is one of those shapes, digit for digit: no signs,
 *   no spaces, tabs or newlines that sscanf's %d would quietly skip, so
 *   one instant has one spelling in logs and caches;
 * - it round-trips: sigil_time_format() of the result gives back the
 *   input (with ".000Z" or "T00:00:00.000Z" filled in for shorter forms);
 * - the result is in range and a whole number of milliseconds;
 * - anything rejected leaves *out untouched.
 *
 *	clang -fsanitize=fuzzer,address,undefined -Iinclude \
 *	    fuzz/fuzz_time.c src/ground/util.c -lcrypto -o /tmp/fz && \
 *	    /tmp/fz -max_total_time=20 fuzz/corpus/time
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sigil/util.h"

/* 1 when s has the shape of pattern, 'D' standing for any ASCII digit. */
static int
shaped(const char *s, const char *pattern)
{
	size_t n = strlen(pattern);

	if (strlen(s) != n)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (pattern[i] == 'D') {
			if (s[i] < '0' || s[i] > '9')
				return 0;
		} else if (s[i] != pattern[i])
			return 0;
	}
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int64_t sentinel = INT64_MIN + 12345;
	char s[32], back[SIGIL_TIME_LEN + 1], want[SIGIL_TIME_LEN + 1];
	int64_t t = sentinel;

	if (size >= sizeof(s))
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (sigil_time_parse(s, &t) != 0) {
		if (t != sentinel)
			abort();
		return 0;
	}
	if (t < 0 || t > INT64_C(253402300799999000) || t % 1000 != 0)
		abort();
	if (shaped(s, "DDDD-DD-DD")) {
		memcpy(want, s, 10);
		memcpy(want + 10, "T00:00:00.000Z", 15);
	} else if (shaped(s, "DDDD-DD-DDTDD:DD:DDZ")) {
		memcpy(want, s, 19);
		memcpy(want + 19, ".000Z", 6);
	} else if (shaped(s, "DDDD-DD-DDTDD:DD:DD.DDDZ"))
		memcpy(want, s, SIGIL_TIME_LEN + 1);
	else
		abort();	/* accepted something of another shape */
	sigil_time_format(t, back);
	if (strcmp(back, want) != 0)
		abort();
	return 0;
}
