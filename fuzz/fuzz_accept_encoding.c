/*
 * fuzz_accept_encoding.c - libFuzzer target for dashboard_accepts_gzip().
 *
 * The Accept-Encoding header is client-controlled and parsed for every
 * dashboard file. The input becomes a NUL-terminated header; the parser
 * must never read past it or crash, and always answer 0 or 1. A header
 * that names no gzip, x-gzip or * at all must answer 0, and prefixing
 * "gzip;q=0, " to any header without such a coding must still answer 0.
 *
 *	clang -fsanitize=fuzzer,address,undefined -Iinclude \
 *	    fuzz/fuzz_accept_encoding.c build/fuzz/libsigil.a ... (fuzz/run.sh)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sigil/dashboard.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), *t;
	int r;

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	r = dashboard_accepts_gzip(s);
	if (r != 0 && r != 1)
		abort();
	if (strcasestr(s, "gzip") == NULL && strchr(s, '*') == NULL) {
		if (r != 0)
			abort();
		if ((t = malloc(size + 12)) != NULL) {
			memcpy(t, "gzip;q=0, ", 10);
			memcpy(t + 10, s, size + 1);
			if (dashboard_accepts_gzip(t) != 0)
				abort();
			free(t);
		}
	}
	free(s);
	return 0;
}
