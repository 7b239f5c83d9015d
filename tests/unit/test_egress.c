/*
 * test_egress.c - the outbound address policy (every refused range, its
 * edges, embedded IPv4 forms, metadata, --webhook-allow), the host
 * spelling rules (decimal, octal, hex and short IPv4 refused), and
 * egress_post end to end on one event loop: a loopback receiver is
 * refused by default and gets nothing, is reached once allowed, a name
 * from the hosts file is judged by its address, and a cancelled POST
 * never calls back; egress_get the same way, the answer's body handed
 * back with a 2xx or any other status; egress_call (GET or POST) with the
 * answer's status, body and headers. Names the hosts file lacks would go to a DNS server
 * on a closed loopback port: no test traffic leaves the machine.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "sigil/egress.h"
#include "sigil/util.h"

static int
check(const struct egress_policy *p, const char *text)
{
	uint8_t a[16];

	if (strchr(text, ':') != NULL) {
		if (inet_pton(AF_INET6, text, a) != 1)
			fail_msg("bad test address %s", text);
		return egress_addr_check(p, AF_INET6, a);
	}
	if (inet_pton(AF_INET, text, a) != 1)
		fail_msg("bad test address %s", text);
	return egress_addr_check(p, AF_INET, a);
}

static void
test_default_policy(void **state)
{
	static const char *const refused[] = {
		"0.0.0.0", "0.255.255.255", "10.0.0.1", "10.255.255.255",
		"100.64.0.1", "100.127.255.255", "100.100.100.200",
		"127.0.0.1", "127.255.255.254", "169.254.0.1",
		"169.254.169.254", "172.16.0.1", "172.31.255.255",
		"192.0.0.8", "192.0.2.1", "192.88.99.1", "192.168.1.1",
		"198.18.0.1", "198.19.255.255", "198.51.100.7", "203.0.113.9",
		"224.0.0.1", "239.255.255.250", "240.0.0.1",
		"255.255.255.255",
		"::", "::1", "::ffff:127.0.0.1", "::ffff:10.1.2.3",
		"::ffff:169.254.169.254", "::127.0.0.1", "::8.8.8.8",
		"64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b:1::1",
		"2002:7f00:1::1", "2002:a00:1::", "100::1", "2001::1",
		"2001:0:4136:e378::1", "2001:2::1", "2001:db8::1", "3fff::1",
		"fc00::1", "fd00::1", "fd00:ec2::254", "fe80::1", "febf::1",
		"fec0::1", "ff02::1", "ff0e::1", "4000::1", "8000::1",
	};
	static const char *const fine[] = {
		"1.1.1.1", "8.8.8.8", "9.255.255.255", "11.0.0.0",
		"100.63.255.255", "100.128.0.0", "126.255.255.255",
		"128.0.0.1", "169.253.255.255", "169.255.0.0",
		"172.15.255.255", "172.32.0.0", "192.0.1.0", "192.167.255.255",
		"192.169.0.0", "198.17.255.255", "198.20.0.0", "223.255.255.255",
		"2400:cb00::1", "2606:4700::1111", "2a00:1450::1",
		"::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1",
		"2001:200::1",
	};

	(void)state;
	for (size_t i = 0; i < sizeof refused / sizeof *refused; i++)
		if (check(NULL, refused[i]) != SIGIL_EDENIED)
			fail_msg("allowed %s", refused[i]);
	for (size_t i = 0; i < sizeof fine / sizeof *fine; i++)
		if (check(NULL, fine[i]) != 0)
			fail_msg("refused %s", fine[i]);
}

static void
test_allow(void **state)
{
	struct egress_policy p = { 0 };
	static const char *const bad[] = {
		"", "/8", "10.0.0.0/33", "10.0.0.1/8", "10/8", "010.0.0.0/8",
		"10.0.0.0/", "10.0.0.0/x", "10.0.0.0/8/8", "fd00::/129",
		"fd00::1/8", "localhost", "10.0.0.0 /8", "2130706433",
	};

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		if (egress_policy_allow(&p, bad[i]) != SIGIL_EINVAL)
			fail_msg("took %s", bad[i]);
	assert_int_equal(p.nallow, 0);
	assert_int_equal(egress_policy_allow(&p, "127.0.0.0/8"), 0);
	assert_int_equal(egress_policy_allow(&p, "10.9.9.9"), 0);
	assert_int_equal(egress_policy_allow(&p, "fd00::/8"), 0);
	assert_int_equal(egress_policy_allow(&p, "169.254.0.0/16"), 0);
	assert_int_equal(check(&p, "127.0.0.1"), 0);
	assert_int_equal(check(&p, "::ffff:127.0.0.1"), 0);
	assert_int_equal(check(&p, "10.9.9.9"), 0);
	assert_int_equal(check(&p, "10.9.9.8"), SIGIL_EDENIED);
	assert_int_equal(check(&p, "fd00::1"), 0);
	assert_int_equal(check(&p, "fc00::1"), SIGIL_EDENIED);
	assert_int_equal(check(&p, "::1"), SIGIL_EDENIED);
	assert_int_equal(check(&p, "169.254.1.1"), 0);
	/* Metadata stays out even inside an allowed range. */
	assert_int_equal(check(&p, "169.254.169.254"), SIGIL_EDENIED);
	assert_int_equal(check(&p, "::ffff:169.254.169.254"), SIGIL_EDENIED);
	assert_int_equal(check(&p, "fd00:ec2::254"), SIGIL_EDENIED);
	for (int i = 4; i < EGRESS_ALLOW_MAX; i++)
		assert_int_equal(egress_policy_allow(&p, "192.168.0.0/16"), 0);
	assert_int_equal(egress_policy_allow(&p, "192.168.0.0/16"),
	    SIGIL_EFULL);
}

static void
test_host_spelling(void **state)
{
	static const char *const disguised[] = {
		"2130706433", "0177.0.0.1", "0x7f.1", "0x7f000001", "127.1",
		"127.0.1", "0x7f.0.0.1", "127.0.0.01", "127.0.0.1.",
		"1.2.3.4.5", "256.0.0.1", "0", "0x", "example.0x10", "a.123",
	};
	static const char *const names[] = {
		"example.com", "crm.example", "0x7f.example", "123.example",
		"a1b2", "1e100", "localhost", "xn--fsq.example",
	};
	struct egress_policy p = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof disguised / sizeof *disguised; i++)
		if (egress_host_syntax(disguised[i]) != SIGIL_EINVAL)
			fail_msg("took %s", disguised[i]);
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		if (egress_host_check(&p, names[i]) != 0)
			fail_msg("refused name %s", names[i]);
	assert_int_equal(egress_host_check(&p, "8.8.8.8"), 0);
	assert_int_equal(egress_host_check(&p, "127.0.0.1"), SIGIL_EDENIED);
	assert_int_equal(egress_host_check(&p, "::1"), SIGIL_EDENIED);
	assert_int_equal(egress_host_check(&p, "::ffff:127.0.0.1"),
	    SIGIL_EDENIED);
	assert_int_equal(egress_host_check(&p, "127.1"), SIGIL_EINVAL);
	assert_int_equal(egress_host_check(&p, "metadata.google.internal"),
	    SIGIL_EDENIED);
	assert_int_equal(egress_host_check(&p, "METADATA.Google.Internal."),
	    SIGIL_EDENIED);
	assert_int_equal(egress_host_check(&p, "metadata"), SIGIL_EDENIED);
	assert_int_equal(egress_policy_allow(&p, "127.0.0.0/8"), 0);
	assert_int_equal(egress_host_check(&p, "127.0.0.1"), 0);
	assert_int_equal(egress_host_check(&p, "::1"), SIGIL_EDENIED);
}

/* ---- egress_post against a receiver on the same loop ---- */

struct outcome {
	int	calls, result, status;
};

struct receiver {
	int	requests;
	char	sig[80];
};

static void
receive(struct evhttp_request *req, void *arg)
{
	struct receiver *r = arg;
	const char *sig = evhttp_find_header(evhttp_request_get_input_headers(
	    req), "X-Test");

	r->requests++;
	snprintf(r->sig, sizeof r->sig, "%s", sig ? sig : "");
	evhttp_send_reply(req, 204, "No Content", NULL);
}

static void
done(int result, int status, void *arg)
{
	struct outcome *o = arg;

	o->calls++;
	o->result = result;
	o->status = status;
}

/* Turns the loop until *calls moves (5 s at most), then a few more
 * times so the connection's close is handled too. */
static void
run_until(struct event_base *base, const int *calls)
{
	int64_t deadline = sigil_now_us() + 5000000;

	while (*calls == 0 && sigil_now_us() < deadline)
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	for (int i = 0; i < 10; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
}

/* A receiver on 127.0.0.1, a port the kernel picks; returns the port. */
static int
serve(struct evhttp *http, void (*cb)(struct evhttp_request *, void *),
    void *arg)
{
	struct evhttp_bound_socket *sock;
	struct sockaddr_in sin;
	socklen_t slen = sizeof sin;

	evhttp_set_gencb(http, cb, arg);
	assert_non_null(sock = evhttp_bind_socket_with_handle(http,
	    "127.0.0.1", 0));
	assert_int_equal(getsockname(evhttp_bound_socket_get_fd(sock),
	    (struct sockaddr *)&sin, &slen), 0);
	return ntohs(sin.sin_port);
}

static void
test_post(void **state)
{
	struct event_base *base = event_base_new();
	struct evhttp *http = evhttp_new(base);
	struct receiver r = { 0 };
	struct egress_config cfg = { .dns_server = "127.0.0.1:9" };
	struct egress *e;
	struct egress_req *req;
	struct outcome o = { 0 };
	const char *hdr[] = { "X-Test", "yes", NULL };
	int port;

	(void)state;
	port = serve(http, receive, &r);

	/* Default policy: refused before any connection, never in line. */
	assert_int_equal(egress_start(base, &cfg, &e), 0);
	assert_int_equal(egress_post(e, 0, "127.0.0.1", port, "/in", hdr,
	    "{}", 2, 5, done, &o, NULL), 0);
	assert_int_equal(o.calls, 0);
	run_until(base, &o.calls);
	assert_int_equal(o.calls, 1);
	assert_int_equal(o.result, EGRESS_REFUSED);
	assert_int_equal(o.status, -1);
	memset(&o, 0, sizeof o);
	assert_int_equal(egress_post(e, 0, "localhost", port, "/in", hdr,
	    "{}", 2, 5, done, &o, NULL), 0);
	run_until(base, &o.calls);
	assert_int_equal(o.result, EGRESS_REFUSED);
	assert_int_equal(r.requests, 0);
	/* Cancelled: no callback, nothing sent. */
	memset(&o, 0, sizeof o);
	assert_int_equal(egress_post(e, 0, "127.0.0.1", port, "/in", hdr,
	    "{}", 2, 5, done, &o, &req), 0);
	egress_cancel(req);
	for (int i = 0; i < 20; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
	assert_int_equal(o.calls, 0);
	egress_free(e);

	/* Allowed: the receiver gets the POST and its headers. */
	assert_int_equal(egress_policy_allow(&cfg.policy, "127.0.0.0/8"), 0);
	assert_int_equal(egress_start(base, &cfg, &e), 0);
	memset(&o, 0, sizeof o);
	assert_int_equal(egress_post(e, 0, "127.0.0.1", port, "/in", hdr,
	    "{}", 2, 5, done, &o, NULL), 0);
	run_until(base, &o.calls);
	assert_int_equal(o.result, EGRESS_OK);
	assert_int_equal(o.status, 204);
	assert_int_equal(r.requests, 1);
	assert_string_equal(r.sig, "yes");
	/* A closed port: no answer, no status. */
	memset(&o, 0, sizeof o);
	assert_int_equal(egress_post(e, 0, "127.0.0.1", 9, "/in", NULL,
	    "{}", 2, 5, done, &o, NULL), 0);
	run_until(base, &o.calls);
	assert_int_equal(o.result, EGRESS_NO_ANSWER);
	assert_int_equal(o.status, -1);
	/* Still in flight at the end, connecting or waiting for a resolver
	 * that never answers: egress_free drops them silently (and the
	 * sanitizer build sees nothing leak). */
	memset(&o, 0, sizeof o);
	assert_int_equal(egress_post(e, 0, "127.0.0.1", port, "/in", NULL,
	    "{}", 2, 5, done, &o, NULL), 0);
	egress_free(e);
	assert_int_equal(o.calls, 0);
	assert_int_equal(egress_start(base, &cfg, &e), 0);
	assert_int_equal(egress_post(e, 0, "pending.test", port, "/in", NULL,
	    "{}", 2, 5, done, &o, NULL), 0);
	assert_int_equal(egress_post(e, 0, "cancelled.test", port, "/in",
	    NULL, "{}", 2, 5, done, &o, &req), 0);
	for (int i = 0; i < 3; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
	egress_cancel(req);
	egress_free(e);
	assert_int_equal(o.calls, 0);

	evhttp_free(http);
	event_base_free(base);
}

/* ---- egress_get: the answer's body handed back ---- */

struct answer {
	int	calls, result, status;
	char	body[256];
	size_t	len;
};

static void
answer_page(struct evhttp_request *req, void *arg)
{
	struct evbuffer *b = evbuffer_new();
	const char *uri = evhttp_request_get_uri(req);
	int *gets = arg;

	if (evhttp_request_get_command(req) == EVHTTP_REQ_GET)
		(*gets)++;
	if (strncmp(uri, "/sns/ok?", 8) == 0) {
		evbuffer_add_printf(b, "{\"openid\":\"o1\",\"q\":\"%s\"}",
		    uri + 8);
		evhttp_send_reply(req, 200, "OK", b);
	} else {
		evbuffer_add_printf(b, "<html>bad gateway</html>");
		evhttp_send_reply(req, 502, "Bad Gateway", b);
	}
	evbuffer_free(b);
}

static void
answered(int result, int status, const char *body, size_t len, void *arg)
{
	struct answer *a = arg;

	a->calls++;
	a->result = result;
	a->status = status;
	a->len = len;
	snprintf(a->body, sizeof a->body, "%s", body);
	assert_int_equal(strlen(body), len);
}

static void
test_get(void **state)
{
	struct event_base *base = event_base_new();
	struct evhttp *http = evhttp_new(base);
	struct egress_config cfg = { .dns_server = "127.0.0.1:9" };
	struct egress *e;
	struct answer a = { 0 };
	int port, gets = 0;

	(void)state;
	port = serve(http, answer_page, &gets);

	/* The policy holds for a GET too. */
	assert_int_equal(egress_start(base, &cfg, &e), 0);
	assert_int_equal(egress_get(e, 0, "127.0.0.1", port, "/sns/ok?x=1", 5,
	    answered, &a, NULL), 0);
	assert_int_equal(a.calls, 0);
	run_until(base, &a.calls);
	assert_int_equal(a.result, EGRESS_REFUSED);
	assert_int_equal(a.len, 0);
	assert_int_equal(gets, 0);
	egress_free(e);

	assert_int_equal(egress_policy_allow(&cfg.policy, "127.0.0.1"), 0);
	assert_int_equal(egress_start(base, &cfg, &e), 0);
	memset(&a, 0, sizeof a);
	assert_int_equal(egress_get(e, 0, "127.0.0.1", port,
	    "/sns/ok?appid=wx1&code=c", 5, answered, &a, NULL), 0);
	run_until(base, &a.calls);
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.result, EGRESS_OK);
	assert_int_equal(a.status, 200);
	assert_string_equal(a.body, "{\"openid\":\"o1\",\"q\":"
	    "\"appid=wx1&code=c\"}");
	assert_int_equal(gets, 1);
	/* A non-2xx comes with its body. */
	memset(&a, 0, sizeof a);
	assert_int_equal(egress_get(e, 0, "127.0.0.1", port, "/down", 5,
	    answered, &a, NULL), 0);
	run_until(base, &a.calls);
	assert_int_equal(a.result, EGRESS_STATUS);
	assert_int_equal(a.status, 502);
	assert_string_equal(a.body, "<html>bad gateway</html>");
	/* Nobody there: no answer, an empty body. */
	memset(&a, 0, sizeof a);
	assert_int_equal(egress_get(e, 0, "127.0.0.1", 9, "/sns/ok?x", 5,
	    answered, &a, NULL), 0);
	run_until(base, &a.calls);
	assert_int_equal(a.result, EGRESS_NO_ANSWER);
	assert_int_equal(a.len, 0);
	/* In flight at the end: dropped without a call. */
	memset(&a, 0, sizeof a);
	assert_int_equal(egress_get(e, 0, "127.0.0.1", port, "/sns/ok?y", 5,
	    answered, &a, NULL), 0);
	egress_free(e);
	assert_int_equal(a.calls, 0);

	evhttp_free(http);
	event_base_free(base);
}

/* ---- egress_call: GET or POST, status, body and headers back ---- */

struct called {
	int	calls, result, status;
	char	body[256], serial[64], nonce[64];
	size_t	len, nheaders;
};

static void
wxpay_like(struct evhttp_request *req, void *arg)
{
	struct evbuffer *b = evbuffer_new();
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	const char *auth = evhttp_find_header(
	    evhttp_request_get_input_headers(req), "Authorization");
	int *n = arg;

	(*n)++;
	evhttp_add_header(out, "Wechatpay-Serial", "PUB_KEY_ID_0114");
	evhttp_add_header(out, "Wechatpay-Nonce", auth ? auth : "none");
	if (evhttp_request_get_command(req) == EVHTTP_REQ_POST) {
		evbuffer_add_printf(b, "{\"got\":%zu}",
		    evbuffer_get_length(in));
		evhttp_send_reply(req, 200, "OK", b);
	} else {
		evbuffer_add_printf(b, "{\"code\":\"NOT_FOUND\"}");
		evhttp_send_reply(req, 404, "Not Found", b);
	}
	evbuffer_free(b);
}

static void
call_done(const struct egress_answer *a, void *arg)
{
	struct called *c = arg;
	const char *v;

	c->calls++;
	c->result = a->result;
	c->status = a->status;
	c->len = a->len;
	c->nheaders = a->nheaders;
	snprintf(c->body, sizeof c->body, "%s", a->body);
	assert_int_equal(strlen(a->body), a->len);
	v = egress_answer_header(a, "wechatpay-serial");	/* any case */
	snprintf(c->serial, sizeof c->serial, "%s", v ? v : "");
	v = egress_answer_header(a, "Wechatpay-Nonce");
	snprintf(c->nonce, sizeof c->nonce, "%s", v ? v : "");
	assert_null(egress_answer_header(a, "Wechatpay-Absent"));
}

static void
test_call(void **state)
{
	struct event_base *base = event_base_new();
	struct evhttp *http = evhttp_new(base);
	struct egress_config cfg = { .dns_server = "127.0.0.1:9" };
	struct egress *e;
	struct egress_req *req;
	struct called c = { 0 };
	const char *hdr[] = { "Authorization", "WECHATPAY2-SHA256-RSA2048 x",
	    "Accept", "application/json", NULL };
	int port, n = 0;

	(void)state;
	port = serve(http, wxpay_like, &n);

	/* The policy first. */
	assert_int_equal(egress_start(base, &cfg, &e), 0);
	assert_int_equal(egress_call(e, EGRESS_POST, 0, "127.0.0.1", port,
	    "/v3/x", hdr, "{\"a\":1}", 7, 5, call_done, &c, NULL), 0);
	assert_int_equal(c.calls, 0);
	run_until(base, &c.calls);
	assert_int_equal(c.result, EGRESS_REFUSED);
	assert_int_equal(c.nheaders, 0);
	assert_string_equal(c.serial, "");
	assert_int_equal(n, 0);
	assert_int_equal(egress_call(e, 3, 0, "127.0.0.1", port, "/", NULL,
	    NULL, 0, 5, call_done, &c, NULL), SIGIL_EINVAL);
	assert_int_equal(egress_call(e, EGRESS_GET, 0, "127.0.0.1", port, "/",
	    NULL, NULL, 0, 5, NULL, &c, NULL), SIGIL_EINVAL);
	egress_free(e);

	assert_int_equal(egress_policy_allow(&cfg.policy, "127.0.0.1"), 0);
	assert_int_equal(egress_start(base, &cfg, &e), 0);
	/* POST: the request's headers and body arrive; the answer's
	 * headers come back. */
	memset(&c, 0, sizeof c);
	assert_int_equal(egress_call(e, EGRESS_POST, 0, "127.0.0.1", port,
	    "/v3/x", hdr, "{\"a\":1}", 7, 5, call_done, &c, NULL), 0);
	run_until(base, &c.calls);
	assert_int_equal(c.calls, 1);
	assert_int_equal(c.result, EGRESS_OK);
	assert_int_equal(c.status, 200);
	assert_string_equal(c.body, "{\"got\":7}");
	assert_string_equal(c.serial, "PUB_KEY_ID_0114");
	assert_string_equal(c.nonce, "WECHATPAY2-SHA256-RSA2048 x");
	assert_true(c.nheaders >= 3);
	/* GET: a 404 with its body and headers. */
	memset(&c, 0, sizeof c);
	assert_int_equal(egress_call(e, EGRESS_GET, 0, "127.0.0.1", port,
	    "/v3/x/out-bill-no/SG1C1", hdr, NULL, 0, 5, call_done, &c, NULL),
	    0);
	run_until(base, &c.calls);
	assert_int_equal(c.result, EGRESS_STATUS);
	assert_int_equal(c.status, 404);
	assert_string_equal(c.body, "{\"code\":\"NOT_FOUND\"}");
	assert_string_equal(c.serial, "PUB_KEY_ID_0114");
	/* Nobody there: no headers, no body. */
	memset(&c, 0, sizeof c);
	assert_int_equal(egress_call(e, EGRESS_GET, 0, "127.0.0.1", 9, "/",
	    NULL, NULL, 0, 5, call_done, &c, NULL), 0);
	run_until(base, &c.calls);
	assert_int_equal(c.result, EGRESS_NO_ANSWER);
	assert_int_equal(c.nheaders, 0);
	assert_int_equal(c.len, 0);
	/* Cancelled, and in flight at the end: never called back. */
	memset(&c, 0, sizeof c);
	assert_int_equal(egress_call(e, EGRESS_POST, 0, "127.0.0.1", port,
	    "/v3/x", hdr, "{}", 2, 5, call_done, &c, &req), 0);
	egress_cancel(req);
	for (int i = 0; i < 20; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
	assert_int_equal(c.calls, 0);
	assert_int_equal(egress_call(e, EGRESS_GET, 0, "127.0.0.1", port,
	    "/v3/x", NULL, NULL, 0, 5, call_done, &c, NULL), 0);
	egress_free(e);
	assert_int_equal(c.calls, 0);

	evhttp_free(http);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_policy),
		cmocka_unit_test(test_allow),
		cmocka_unit_test(test_host_spelling),
		cmocka_unit_test(test_post),
		cmocka_unit_test(test_get),
		cmocka_unit_test(test_call),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
