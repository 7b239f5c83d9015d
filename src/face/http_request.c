/*
 * http_request.c - what a handler reads of a request and adds to its
 * answer that needs nothing of the server: headers, cookies and the
 * query string (the body and the path, which know the route's limits,
 * stay in http.c).
 *
 * May call: libevent's http parsing and libc.
 */
#include <string.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "sigil/http.h"
#include "sigil/util.h"

const char *
http_header(struct http_call *c, const char *name)
{
	return evhttp_find_header(evhttp_request_get_input_headers(c->req),
	    name);
}

void
http_add_header(struct http_call *c, const char *name, const char *value)
{
	evhttp_add_header(evhttp_request_get_output_headers(c->req), name,
	    value);
}

int
http_cookie_in(const char *h, const char *name, char *out, size_t size)
{
	const char *p;
	size_t nlen = strlen(name);

	if (h == NULL || strlen(h) > 4096)
		return SIGIL_ENOTFOUND;
	for (p = h; *p != '\0';) {
		while (*p == ' ' || *p == ';')
			p++;
		if (strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
			const char *v = p + nlen + 1;
			size_t vlen = strcspn(v, ";");

			while (vlen > 0 && v[vlen - 1] == ' ')
				vlen--;
			if (vlen >= size)
				return SIGIL_ENOTFOUND;
			memcpy(out, v, vlen);
			out[vlen] = '\0';
			return 0;
		}
		p += strcspn(p, ";");
	}
	return SIGIL_ENOTFOUND;
}

int
http_cookie(struct http_call *c, const char *name, char *out, size_t size)
{
	return http_cookie_in(http_header(c, "Cookie"), name, out, size);
}

const char *
http_query(struct http_call *c, const char *name, char *out, size_t size)
{
	struct evkeyvalq q;
	const char *v, *r = NULL;

	if (c->query == NULL)
		return NULL;
	memset(&q, 0, sizeof q);
	if (evhttp_parse_query_str(c->query, &q) != 0)
		return NULL;
	if ((v = evhttp_find_header(&q, name)) != NULL && strlen(v) < size) {
		strcpy(out, v);
		r = out;
	}
	evhttp_clear_headers(&q);
	return r;
}
