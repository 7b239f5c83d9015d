/*
 * fuzz_accept_language.c - libFuzzer target for page_lang_pick().
 *
 * The Accept-Language header is client-controlled and parsed on every
 * scan. The input becomes a NUL-terminated header; the parser must stay
 * inside its 1024-byte bound, never crash, and always answer zh or en.
 * The same bytes are also fed to page_escape(), whose output must hold no
 * raw markup characters and be valid UTF-8.
 *
 *	clang -fsanitize=fuzzer,address,undefined -Iinclude \
 *	    fuzz/fuzz_accept_language.c src/domain/page.c src/ground/util.c \
 *	    -levent -lcrypto -o /tmp/fz && /tmp/fz -max_total_time=20
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "sigil/page.h"

static void
check_escaped(const unsigned char *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned c = p[i];
		size_t len = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;

		if (c == '<' || c == '>' || c == '"' || c == '\'' ||
		    (c >= 0x80 && c < 0xc2) || c > 0xf4 || i + len > n)
			abort();
		for (size_t k = 1; k < len; k++)
			if ((p[i + k] & 0xc0) != 0x80)
				abort();
		i += len;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	struct evbuffer *b;
	int lang;

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	lang = page_lang_pick(s);
	if (lang != PAGE_LANG_ZH && lang != PAGE_LANG_EN)
		abort();
	if ((b = evbuffer_new()) != NULL) {
		if (page_escape(b, s) != 0)
			abort();
		check_escaped(evbuffer_pullup(b, -1), evbuffer_get_length(b));
		evbuffer_free(b);
	}
	free(s);
	return 0;
}
