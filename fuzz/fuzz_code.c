/*
 * fuzz_code.c - libFuzzer target for code_compact_decode() and
 * code_parse_any(), the two entry points for codes typed, pasted or
 * scanned by strangers.
 *
 * Beyond "no crash, no sanitizer report" it checks properties:
 * - a decoded code re-encodes to the input's canonical spelling (hyphens
 *   gone, upper case, O->0, I/L->1), so two spellings never name two codes;
 * - whatever decodes carries version 1 and a serial in 1..CODE_SERIAL_MAX;
 * - a code re-signed with a fixed key verifies, and the fuzzed tag verifies
 *   only if it equals the real one;
 * - anything code_parse_any() accepts survives a trip through the URL
 *   builders and back.
 *
 *	clang -fsanitize=fuzzer,address,undefined -Iinclude \
 *	    fuzz/fuzz_code.c src/ground/code.c src/ground/util.c -lcrypto -o /tmp/fz && \
 *	    /tmp/fz -max_total_time=20 fuzz/corpus/code
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sigil/code.h"
#include "sigil/util.h"

static struct code_key fuzz_key;

static void
key_init(void)
{
	static int ready;
	uint8_t root[CODE_KEY_BYTES];

	if (ready)
		return;
	for (int i = 0; i < CODE_KEY_BYTES; i++)
		root[i] = (uint8_t)i;
	if (code_key_derive(1, root, &fuzz_key) != 0)
		abort();
	ready = 1;
}

/* Field by field: struct padding is not part of a code. */
static int
code_same(const struct code *a, const struct code *b)
{
	return a->version == b->version && a->key_id == b->key_id &&
	    a->serial == b->serial &&
	    memcmp(a->tag, b->tag, CODE_TAG_BYTES) == 0;
}

static char
canonical(char ch)
{
	if (ch >= 'a' && ch <= 'z')
		ch = (char)(ch - 'a' + 'A');
	if (ch == 'O')
		return '0';
	if (ch == 'I' || ch == 'L')
		return '1';
	return ch;
}

static void
check_code(const struct code *c)
{
	struct code again, mine;
	char enc[CODE_COMPACT_LEN + 1];
	int v;

	if (c->version != CODE_VERSION || c->serial == 0 ||
	    c->serial > CODE_SERIAL_MAX)
		abort();
	if (code_compact_encode(c, enc) != 0 || strlen(enc) != CODE_COMPACT_LEN)
		abort();
	if (code_compact_decode(enc, CODE_COMPACT_LEN, &again) != 0 ||
	    !code_same(&again, c))
		abort();
	if (code_sign(&fuzz_key, c->serial, &mine) != 0 ||
	    code_verify(&fuzz_key, &mine) != 0)
		abort();
	v = code_verify(&fuzz_key, c);
	if (c->key_id != fuzz_key.id) {
		if (v != SIGIL_EFORGED)
			abort();
	} else if ((v == 0) != (memcmp(c->tag, mine.tag,
	    CODE_TAG_BYTES) == 0))
		abort();
}

static void
fuzz_compact(const char *s, size_t n)
{
	struct code c;
	char enc[CODE_COMPACT_LEN + 1];
	size_t j = 0;

	memset(&c, 0, sizeof(c));
	if (code_compact_decode(s, n, &c) != 0)
		return;
	check_code(&c);
	if (code_compact_encode(&c, enc) != 0)
		abort();
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '-')
			continue;
		if (j >= CODE_COMPACT_LEN || canonical(s[i]) != enc[j++])
			abort();
	}
	if (j != CODE_COMPACT_LEN)
		abort();
}

static void
fuzz_any(const char *s)
{
	struct code c, again;
	struct gs1_link l;
	char url[CODE_URL_MAX + 1];

	if (code_parse_any(s, &c, &l) != 0)
		return;
	check_code(&c);
	if (l.gtin[0] == '\0') {
		if (code_url_compact("https://example.com", &c, url,
		    sizeof(url)) != 0)
			abort();
	} else if (code_url_gs1("https://example.com", l.gtin, l.lot, &c, url,
	    sizeof(url)) != 0)
		abort();
	if (code_parse_any(url, &again, NULL) != 0 || !code_same(&again, &c))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	key_init();
	fuzz_compact((const char *)data, size);
	if (size > 4096)
		return 0;
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	fuzz_any(s);
	free(s);
	return 0;
}
