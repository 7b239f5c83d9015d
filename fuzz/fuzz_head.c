/*
 * fuzz_head.c - libFuzzer target for the connection guard's head parser
 * (conn_head_parser_line, src/face/http_conn.c), which reads the raw request
 * head of every connection before evhttp does: bytes from strangers.
 *
 * The input is split at LF (a preceding CR is dropped, as the guard's
 * EVBUFFER_EOL_CRLF search does) and fed line by line. Beyond "no crash,
 * no sanitizer report, no leak" it checks:
 * - a refusal is final: every later line, even an end of head, is -1;
 * - a complete head has at most one Content-Length, made of digits only
 *   (checked against the input lines themselves), never both
 *   Content-Length and Transfer-Encoding, and bounded copies.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../src/face/http_conn.h"

static int
names_field(const char *line, size_t n, const char *name)
{
	size_t k = strlen(name);

	return n > k && line[k] == ':' && strncasecmp(line, name, k) == 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conn_head_parser p;
	const char *s = (const char *)data, *end = s + size;
	int rc = 0, refused = 0, cls = 0, tes = 0;

	memset(&p, 0, sizeof p);
	conn_head_parser_reset(&p);
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t n = nl != NULL ? (size_t)(nl - s) : (size_t)(end - s);

		if (n > 0 && s[n - 1] == '\r')
			n--;
		if (p.lines > 0 && p.done == 0) {
			cls += names_field(s, n, "Content-Length");
			tes += names_field(s, n, "Transfer-Encoding");
		}
		rc = conn_head_parser_line(&p, s, n);
		if (refused && rc != -1)
			abort();	/* a refusal must stick */
		if (rc == -1)
			refused = 1;
		if (rc == 1)
			break;
		s = nl != NULL ? nl + 1 : end;
	}
	if (rc == 1) {
		if (cls > 1 || (cls > 0 && tes > 0))
			abort();
		if (p.n_cl > 1 || (p.n_cl > 0 && p.n_te > 0))
			abort();
		if (p.n_cl == 1 && p.cl < 0)
			abort();
		if ((p.target && strlen(p.target) > 4096) ||
		    (p.auth && strlen(p.auth) > 256) ||
		    (p.cookie && strlen(p.cookie) > 4096))
			abort();
	}
	conn_head_parser_reset(&p);
	return 0;
}
