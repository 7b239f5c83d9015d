/*
 * fuzz_query.c - libFuzzer target for query strings: libevent's
 * evhttp_parse_query_str(), which the server uses on the raw query of
 * every request, and our own query handling inside code_gs1_parse(),
 * reached by appending the input to a valid Digital Link path
 * ("/01/09506000134352/21/1?" + input), so the path part always passes
 * and every run lands in the s= / linkType= / unknown-parameter code.
 *
 * Properties checked:
 * - every key/value pair libevent hands back is a NUL-terminated string;
 * - a link that parses keeps the path's GTIN and serial whatever the
 *   query says (a query can never rewrite the identity of the item);
 * - the s= tag is empty or 20 canonical Crockford characters, linkType
 *   fits its buffer;
 * - parsing is a pure function: the same input parses the same way twice.
 *
 *	(fuzz/run.sh builds it; it links src/ground/code.c, src/ground/util.c, libevent)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "sigil/code.h"
#include "sigil/util.h"

#define PREFIX		"/01/09506000134352/21/1?"
#define QUERY_MAX	4096

static void
fuzz_libevent(const char *q)
{
	struct evkeyvalq kv;
	struct evkeyval *e;
	size_t total = 0;

	TAILQ_INIT(&kv);
	if (evhttp_parse_query_str(q, &kv) == 0) {
		TAILQ_FOREACH(e, &kv, next) {
			if (e->key == NULL || e->value == NULL)
				abort();
			total += strlen(e->key) + strlen(e->value);
		}
		/* Decoding only shrinks: %XX becomes one byte. */
		if (total > strlen(q))
			abort();
	}
	evhttp_clear_headers(&kv);
}

static void
fuzz_gs1_query(const uint8_t *data, size_t size)
{
	struct gs1_link l, again;
	char *path;
	size_t n = strlen(PREFIX) + size, t;
	int rc;

	if ((path = malloc(n)) == NULL)
		return;
	memcpy(path, PREFIX, strlen(PREFIX));
	memcpy(path + strlen(PREFIX), data, size);
	memset(&l, 0, sizeof(l));
	rc = code_gs1_parse(path, n, &l);
	memset(&again, 0, sizeof(again));
	if (code_gs1_parse(path, n, &again) != rc ||
	    (rc == 0 && memcmp(&l, &again, sizeof(l)) != 0))
		abort();
	if (rc == 0) {
		if (strcmp(l.gtin, "09506000134352") != 0 ||
		    strcmp(l.serial, "1") != 0 || l.lot[0] != '\0' ||
		    l.cpv[0] != '\0')
			abort();
		t = strnlen(l.tag, sizeof(l.tag));
		if (t != 0 && (t != CODE_GS1_TAG_LEN ||
		    strspn(l.tag, "0123456789ABCDEFGHJKMNPQRSTVWXYZ") != t))
			abort();
		if (strnlen(l.link_type, sizeof(l.link_type)) ==
		    sizeof(l.link_type))
			abort();
	} else if (rc != SIGIL_EINVAL)
		abort();
	free(path);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *q;

	if (size > QUERY_MAX)
		return 0;
	if ((q = malloc(size + 1)) == NULL)
		return 0;
	memcpy(q, data, size);
	q[size] = '\0';
	fuzz_libevent(q);
	free(q);
	fuzz_gs1_query(data, size);
	return 0;
}
