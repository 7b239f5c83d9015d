/*
 * fuzz_path.c - libFuzzer target for http_path_decode() and
 * sigil_utf8_valid(), which turn every request line's path into the
 * NUL-terminated, valid-UTF-8 string the router and handlers trust.
 *
 * Properties checked:
 * - sigil_utf8_valid() agrees with an independent decoder written from
 *   the RFC 3629 table (no overlongs, no surrogates, nothing above
 *   U+10FFFF, no NUL) on the raw input;
 * - the decoder never writes past its output size, which is fuzzed too
 *   (taken from the first input byte), and the output lives in a heap
 *   block of exactly that size so ASan sees any overrun;
 * - on success the output is NUL-terminated, holds no NUL, no raw byte
 *   the decoder must refuse, is valid UTF-8 and matches a reference
 *   percent-decoding of the input; on failure it is because the reference
 *   also fails (bad escape, %00, control byte, bad UTF-8, too long).
 *
 *	clang -fsanitize=fuzzer,address,undefined -Iinclude \
 *	    fuzz/fuzz_path.c build/fuzz/libsigil.a -levent ... -o /tmp/fz
 *	(fuzz/run.sh links it; http.c needs libevent and OpenSSL)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sigil/http.h"
#include "sigil/util.h"

/* RFC 3629 section 4, spelled out as byte ranges; 1 when valid. */
static int
ref_utf8(const unsigned char *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char b = p[i];
		unsigned char lo = 0x80, hi = 0xbf;
		size_t more;

		if (b == 0x00)
			return 0;
		if (b <= 0x7f) {
			i++;
			continue;
		}
		if (b >= 0xc2 && b <= 0xdf)
			more = 1;
		else if (b == 0xe0) {
			more = 2;
			lo = 0xa0;
		} else if ((b >= 0xe1 && b <= 0xec) || b == 0xee || b == 0xef)
			more = 2;
		else if (b == 0xed) {
			more = 2;
			hi = 0x9f;
		} else if (b == 0xf0) {
			more = 3;
			lo = 0x90;
		} else if (b >= 0xf1 && b <= 0xf3)
			more = 3;
		else if (b == 0xf4) {
			more = 3;
			hi = 0x8f;
		} else
			return 0;
		if (n - i <= more)
			return 0;
		if (p[i + 1] < lo || p[i + 1] > hi)
			return 0;
		for (size_t k = 2; k <= more; k++)
			if (p[i + k] < 0x80 || p[i + k] > 0xbf)
				return 0;
		i += more + 1;
	}
	return 1;
}

static int
ref_hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Reference percent-decoding into out (at least len + 1 bytes): length
 * on success, -1 when the path must be refused whatever the buffer. */
static long
ref_decode(const unsigned char *in, size_t len, unsigned char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		int c = in[i];

		if (c == '%') {
			if (len - i < 3 || ref_hex(in[i + 1]) < 0 ||
			    ref_hex(in[i + 2]) < 0)
				return -1;
			c = ref_hex(in[i + 1]) << 4 | ref_hex(in[i + 2]);
			if (c == 0)
				return -1;
			i += 2;
		} else if (c <= 0x20 || c == 0x7f)
			return -1;
		out[o++] = (unsigned char)c;
	}
	return ref_utf8(out, o) ? (long)o : -1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *want = NULL;
	char *out = NULL;
	size_t cap;
	long n;
	int rc;

	if ((sigil_utf8_valid((const char *)data, size) != 0) !=
	    ref_utf8(data, size))
		abort();
	if (size < 1)
		return 0;
	/* Output sizes 1..256, so "too long" is reached often. */
	cap = (size_t)data[0] + 1;
	data++;
	size--;
	if ((out = malloc(cap)) == NULL || (want = malloc(size + 1)) == NULL)
		goto cleanup;
	n = ref_decode(data, size, want);
	rc = http_path_decode((const char *)data, size, out, cap);
	if (rc == 0) {
		size_t got = strnlen(out, cap);

		if (got == cap || n < 0 || (size_t)n != got ||
		    memcmp(out, want, got) != 0 ||
		    !sigil_utf8_valid(out, got))
			abort();
	} else if (rc != SIGIL_EINVAL || (n >= 0 && (size_t)n + 1 <= cap))
		abort();
cleanup:
	free(want);
	free(out);
	return 0;
}
