/*
 * test_http_conn.c - the framing rules of the connection guard's head
 * parser (src/face/http_conn.c, conn_head_parser_*): what a front proxy could
 * read differently is refused, what RFC 9112 allows passes, and the
 * request-target, Authorization and Cookie come out bounded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/face/http_conn.h"

/* Feeds the lines of head (separated by "\n", no CR) to a fresh parser;
 * the last result. */
static int
feed(struct conn_head_parser *p, const char *head)
{
	int rc = 0;

	memset(p, 0, sizeof *p);
	conn_head_parser_reset(p);
	for (const char *s = head; rc == 0;) {
		const char *nl = strchr(s, '\n');
		size_t n = nl != NULL ? (size_t)(nl - s) : strlen(s);

		rc = conn_head_parser_line(p, s, n);
		if (nl == NULL)
			break;
		s = nl + 1;
	}
	return rc;
}

static void
refused(const char *head, const char *why)
{
	struct conn_head_parser p;

	assert_int_equal(feed(&p, head), -1);
	assert_string_equal(p.refused, why);
	/* Refused for good: even an end of head does not complete it. */
	assert_int_equal(conn_head_parser_line(&p, "", 0), -1);
	conn_head_parser_reset(&p);
}

static void
test_complete(void **state)
{
	struct conn_head_parser p;

	(void)state;
	assert_int_equal(feed(&p, "\n\nPOST /api/v1/claims?x=1 HTTP/1.1\n"
	    "Host: a\nContent-Length:  17 \nAuthorization: Bearer sgt_x\n"
	    "Cookie: sg_s=ab; sg_d=cd\n\n"), 1);
	assert_string_equal(p.target, "/api/v1/claims?x=1");
	assert_string_equal(p.auth, "Bearer sgt_x");
	assert_string_equal(p.cookie, "sg_s=ab; sg_d=cd");
	assert_int_equal(p.cl, 17);
	assert_int_equal(p.chunked, 0);
	assert_null(p.refused);
	conn_head_parser_reset(&p);
	assert_null(p.target);
	assert_int_equal(p.cl, -1);

	assert_int_equal(feed(&p, "POST / HTTP/1.1\nHost: a\n"
	    "Transfer-Encoding: Chunked\n\n"), 1);
	assert_int_equal(p.chunked, 1);
	assert_int_equal(p.cl, -1);
	conn_head_parser_reset(&p);

	/* Lines before the empty one: more wanted. */
	assert_int_equal(feed(&p, "GET / HTTP/1.1\nHost: a"), 0);
	conn_head_parser_reset(&p);
}

static void
test_content_length(void **state)
{
	(void)state;
	refused("POST / HTTP/1.1\nContent-Length: 0\nContent-Length: 54\n\n",
	    "content_length");
	refused("POST / HTTP/1.1\nContent-Length: 2\nContent-Length: 2\n\n",
	    "content_length");
	refused("POST / HTTP/1.1\nContent-Length: +2\n\n", "content_length");
	refused("POST / HTTP/1.1\nContent-Length: -1\n\n", "content_length");
	refused("POST / HTTP/1.1\nContent-Length: 0x2\n\n", "content_length");
	refused("POST / HTTP/1.1\nContent-Length: 1 2\n\n", "content_length");
	refused("POST / HTTP/1.1\nContent-Length: 1,1\n\n", "content_length");
	refused("POST / HTTP/1.1\nContent-Length:\n\n", "content_length");
	refused("POST / HTTP/1.1\nContent-Length: 1234567890123456789\n\n",
	    "content_length");
	refused("POST / HTTP/1.1\nContent-Length: 5\n"
	    "Transfer-Encoding: chunked\n\n",
	    "content_length_with_transfer_encoding");
	refused("POST / HTTP/1.1\nTransfer-Encoding: chunked\n"
	    "content-length: 5\n\n", "content_length_with_transfer_encoding");
}

static void
test_fields(void **state)
{
	(void)state;
	refused("POST / HTTP/1.1\nTransfer-Encoding : chunked\n\n",
	    "field_name");
	refused("GET / HTTP/1.1\nHost\t: a\n\n", "field_name");
	refused("GET / HTTP/1.1\nX-A: a\n b\n\n", "obs_fold");
	refused("GET / HTTP/1.1\nX-A: a\n\tb\n\n", "obs_fold");
	refused("GET / HTTP/1.1\n: a\n\n", "field_no_name");
	refused("GET / HTTP/1.1\nno colon here\n\n", "field_no_name");
	refused("GET / HTTP/1.1\nHost: a\nhost: b\n\n", "host");
	refused("POST / HTTP/1.1\nTransfer-Encoding: chunked\n"
	    "Transfer-Encoding: chunked\n\n", "transfer_encoding");
	refused("GET / HTTP/1.1\nX-A: a\rb\n\n", "control_in_head");
	refused("GET /\r HTTP/1.1\n\n", "control_in_head");
}

static void
test_nul(void **state)
{
	struct conn_head_parser p;
	static const char line[] = "X-A: a\0b";

	(void)state;
	memset(&p, 0, sizeof p);
	conn_head_parser_reset(&p);
	assert_int_equal(conn_head_parser_line(&p, "GET / HTTP/1.1", 14), 0);
	assert_int_equal(conn_head_parser_line(&p, line, sizeof line - 1), -1);
	assert_string_equal(p.refused, "control_in_head");
	conn_head_parser_reset(&p);
}

static void
test_bounded(void **state)
{
	struct conn_head_parser p;
	char *head = malloc(20000);

	(void)state;
	strcpy(head, "GET /");
	memset(head + 5, 'a', 9000);
	strcpy(head + 9005, " HTTP/1.1\nCookie: ");
	memset(head + strlen(head), 'c', 6000);
	strcpy(head + 9005 + 18 + 6000, "\n\n");
	assert_int_equal(feed(&p, head), 1);
	assert_true(strlen(p.target) <= 4096);
	assert_true(strlen(p.cookie) <= 4096);
	conn_head_parser_reset(&p);
	free(head);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_complete),
		cmocka_unit_test(test_content_length),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_nul),
		cmocka_unit_test(test_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
