/*
 * fuzz_gs1.c - libFuzzer target for code_gs1_parse() and code_from_gs1(),
 * which read GS1 Digital Link paths straight from the request line.
 *
 * Properties checked on every accepted input:
 * - the primary key is one the syntax dictionary names, and for 01 the
 *   GTIN is 14 digits with a right check digit (for others it is empty);
 * - every qualifier value is 1..20 characters of AI set 82 (235: 28),
 *   NUL-terminated, and the key's value passes code_ai_check();
 * - the s= tag is empty or 20 canonical Crockford characters;
 * - a link that yields a code rebuilds, through code_url_gs1(), into a URL
 *   that parses back to the same GTIN, lot, serial and tag.
 *
 *	clang -fsanitize=fuzzer,address,undefined -Iinclude \
 *	    fuzz/fuzz_gs1.c src/ground/code.c src/ground/gs1_ai.c \\
 *	    src/ground/util.c -lcrypto -o /tmp/fz && \
 *	    /tmp/fz -max_total_time=20 -dict=fuzz/gs1.dict fuzz/corpus/gs1
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sigil/code.h"
#include "sigil/util.h"

static const char ai82[] = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOP"
    "QRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";

static void
check_value(const char *v, size_t cap, size_t max)
{
	size_t n = strnlen(v, cap);

	if (n == cap || n > max || strspn(v, ai82) != n)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gs1_link l, back;
	struct code c;
	char url[CODE_URL_MAX + 1];
	const char *path;
	size_t n;

	memset(&l, 0, sizeof(l));
	if (code_gs1_parse((const char *)data, size, &l) != 0)
		return 0;
	if (code_ai_qualifiers(l.key_ai) == NULL)
		abort();
	if (strcmp(l.key_ai, "01") == 0 ? !code_gtin_valid(l.gtin) ||
	    strcmp(l.key, l.gtin) != 0 : l.gtin[0] != '\0' ||
	    code_ai_check(l.key_ai, l.key, NULL) != 0)
		abort();
	check_value(l.cpv, sizeof(l.cpv), 20);
	check_value(l.lot, sizeof(l.lot), 20);
	check_value(l.serial, sizeof(l.serial), 20);
	check_value(l.tpx, sizeof(l.tpx), 28);
	check_value(l.qual, sizeof(l.qual), 25);
	n = strnlen(l.tag, sizeof(l.tag));
	if (n != 0 && (n != CODE_GS1_TAG_LEN ||
	    strspn(l.tag, "0123456789ABCDEFGHJKMNPQRSTVWXYZ") != n))
		abort();
	if (strnlen(l.link_type, sizeof(l.link_type)) == sizeof(l.link_type))
		abort();
	if (code_from_gs1(&l, &c) != 0)
		return 0;
	if (c.version != CODE_VERSION || c.serial == 0 ||
	    c.serial > CODE_SERIAL_MAX)
		abort();
	if (code_url_gs1("https://id.example.com", l.gtin, l.lot, &c, url,
	    sizeof(url)) != 0)
		abort();
	path = url + strlen("https://id.example.com");
	if (code_gs1_parse(path, strlen(path), &back) != 0 ||
	    strcmp(back.gtin, l.gtin) != 0 || strcmp(back.lot, l.lot) != 0 ||
	    strcmp(back.serial, l.serial) != 0 || strcmp(back.tag, l.tag) != 0)
		abort();
	return 0;
}
