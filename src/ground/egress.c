/*
 * egress.c - where sigild's own HTTP requests may go, and how they get
 * there (CRM webhooks, the SMS gateway, WeChat's API).
 *
 * A brand admin chooses webhook URLs, so without a policy any tenant
 * could make sigild talk to its loopback, the private network around it
 * or a cloud metadata service, and read the answers' statuses. The
 * policy here is an address policy, applied to the address actually
 * connected to: a name is resolved once (evdns, never the blocking libc
 * resolver on the loop), every address it resolves to must pass, and
 * the connection goes to the first of them by number. Nothing resolves
 * the name again between the check and the connect, so a name that
 * answers a public address to the check and 127.0.0.1 to the connect
 * (DNS rebinding) gets nowhere. Literal hosts are also checked when a
 * subscription is made, and numeric hosts must be canonical dotted
 * quads: C resolvers read 2130706433, 0177.0.0.1 and 127.1 as
 * 127.0.0.1, so such spellings are refused outright.
 *
 * Refused unless an operator's --webhook-allow range covers them: IPv4
 * special-purpose ranges (RFC 6890 and successors: this network,
 * RFC 1918, CGNAT, loopback, link-local, IETF protocol assignments,
 * documentation, benchmarking, multicast, reserved and broadcast); IPv6
 * outside 2000::/3 and the special ranges inside it (IETF assignments
 * with Teredo, documentation); IPv4-mapped, NAT64 (64:ff9b::/96) and
 * 6to4 addresses are judged by the IPv4 address inside. Cloud metadata
 * endpoints are refused even inside an allowed range.
 *
 * A POST runs as a small state machine on one event: resolve, check,
 * connect and send, answer. done is called exactly once and never from
 * inside egress_post, so callers need not guard against re-entry.
 * Callers learn why a POST failed (for their logs); what they show a
 * brand is theirs to keep coarse.
 *
 * Owns the policy (the operator's allowed ranges) and the requests in
 * flight. May call libevent (http, dns, openssl), OpenSSL, util and log;
 * owns no storage and knows nothing of webhooks or SMS. Must never
 * connect to an address the policy refused, nor resolve a name again
 * between the check and the connect.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "sigil/egress.h"
#include "sigil/log.h"
#include "sigil/util.h"

#define EGRESS_HOST_MAX	255
#define EGRESS_RESPONSE_MAX	(64 * 1024)

/* ---- the policy ---- */

struct range4 {
	uint32_t	net;
	int		bits;
};

/* IPv4 special-purpose ranges, refused unless allowed. */
static const struct range4 refused4[] = {
	{ 0x00000000, 8 },	/* "this network", 0.0.0.0 */
	{ 0x0a000000, 8 },	/* RFC 1918 */
	{ 0x64400000, 10 },	/* CGNAT 100.64/10 (also Alibaba metadata) */
	{ 0x7f000000, 8 },	/* loopback */
	{ 0xa9fe0000, 16 },	/* link-local, metadata 169.254.169.254 */
	{ 0xac100000, 12 },	/* RFC 1918 */
	{ 0xc0000000, 24 },	/* IETF protocol assignments */
	{ 0xc0000200, 24 },	/* TEST-NET-1 */
	{ 0xc0586300, 24 },	/* 6to4 relay anycast */
	{ 0xc0a80000, 16 },	/* RFC 1918 */
	{ 0xc6120000, 15 },	/* benchmarking */
	{ 0xc6336400, 24 },	/* TEST-NET-2 */
	{ 0xcb007100, 24 },	/* TEST-NET-3 */
	{ 0xe0000000, 4 },	/* multicast */
	{ 0xf0000000, 4 },	/* reserved, 255.255.255.255 broadcast */
};

/* Cloud metadata services: refused even inside an allowed range. */
static const uint32_t metadata4[] = {
	0xa9fea9fe,	/* 169.254.169.254: AWS, GCP, Azure, OCI, ... */
	0xa9feaa02,	/* 169.254.170.2: AWS ECS task metadata */
	0xa9feaa17,	/* 169.254.170.23: AWS EKS pod identity */
	0xa9fe0017,	/* 169.254.0.23: Tencent Cloud */
	0x646464c8,	/* 100.100.100.200: Alibaba Cloud */
};

static const uint8_t metadata6[][16] = {
	/* fd00:ec2::254 and fd00:ec2::23: AWS over IPv6 */
	{ 0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54 },
	{ 0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x23 },
};

static const char *const metadata_names[] = {
	"metadata.google.internal", "metadata.goog", "metadata",
	"instance-data", "instance-data.ec2.internal",
	"metadata.tencentyun.com", "metadata.azure.internal",
};

struct range6 {
	uint8_t	net[16];
	int	bits;
};

/* Inside 2000::/3, refused unless allowed. */
static const struct range6 refused6[] = {
	{ { 0x20, 0x01, 0x00, 0x00 }, 23 },	/* IETF: Teredo, benchmarking,
						   ORCHID, ... */
	{ { 0x20, 0x01, 0x0d, 0xb8 }, 32 },	/* documentation */
	{ { 0x3f, 0xff, 0x00, 0x00 }, 20 },	/* documentation (RFC 9637) */
};

static const uint8_t mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0xff, 0xff };
static const uint8_t nat64_prefix[12] = { 0x00, 0x64, 0xff, 0x9b };

static int
prefix_match(const uint8_t *a, const uint8_t *net, int bits)
{
	int whole = bits / 8, rest = bits % 8;

	if (memcmp(a, net, (size_t)whole) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((a[whole] ^ net[whole]) & (0xff << (8 - rest)) & 0xff) == 0;
}

static int
is_metadata4(uint32_t a)
{
	for (size_t i = 0; i < sizeof metadata4 / sizeof *metadata4; i++)
		if (a == metadata4[i])
			return 1;
	return 0;
}

static int
refused_by_default4(uint32_t a)
{
	for (size_t i = 0; i < sizeof refused4 / sizeof *refused4; i++)
		if ((a ^ refused4[i].net) >> (32 - refused4[i].bits) == 0)
			return 1;
	return 0;
}

static int
allowed(const struct egress_policy *p, int family, const uint8_t *addr)
{
	if (p == NULL)
		return 0;
	for (size_t i = 0; i < p->nallow; i++)
		if (p->allow[i].family == family &&
		    prefix_match(addr, p->allow[i].addr, p->allow[i].bits))
			return 1;
	return 0;
}

/* The IPv4 address an IPv6 one carries by a standard translation. */
static int
embedded4(const uint8_t a[16], uint32_t *out)
{
	if (memcmp(a, nat64_prefix, 12) == 0) {
		*out = sigil_be32_get(a + 12);
		return 1;
	}
	if (a[0] == 0x20 && a[1] == 0x02) {	/* 6to4 2002:AABB:CCDD::/48 */
		*out = sigil_be32_get(a + 2);
		return 1;
	}
	return 0;
}

int
egress_addr_check(const struct egress_policy *p, int family,
    const uint8_t *addr)
{
	uint32_t v4;
	uint8_t b4[4];

	if (family == AF_INET6 && memcmp(addr, mapped_prefix, 12) == 0) {
		family = AF_INET;
		addr += 12;
	}
	if (family == AF_INET) {
		v4 = sigil_be32_get(addr);
		if (is_metadata4(v4))
			return SIGIL_EDENIED;
		if (allowed(p, AF_INET, addr) || !refused_by_default4(v4))
			return 0;
		return SIGIL_EDENIED;
	}
	if (family != AF_INET6)
		return SIGIL_EDENIED;
	for (size_t i = 0; i < sizeof metadata6 / sizeof *metadata6; i++)
		if (memcmp(addr, metadata6[i], 16) == 0)
			return SIGIL_EDENIED;
	if (embedded4(addr, &v4)) {
		sigil_be32_put(b4, v4);
		if (is_metadata4(v4))
			return SIGIL_EDENIED;
		if (allowed(p, AF_INET6, addr) || allowed(p, AF_INET, b4))
			return 0;
		return refused_by_default4(v4) ? SIGIL_EDENIED : 0;
	}
	if (allowed(p, AF_INET6, addr))
		return 0;
	if ((addr[0] & 0xe0) != 0x20)	/* outside global unicast */
		return SIGIL_EDENIED;
	for (size_t i = 0; i < sizeof refused6 / sizeof *refused6; i++)
		if (prefix_match(addr, refused6[i].net, refused6[i].bits))
			return SIGIL_EDENIED;
	return 0;
}

/* 1 when s is a canonical dotted quad (into out), else 0. */
static int
canonical4(const char *s, uint8_t out[4])
{
	const char *p = s;

	for (int i = 0; i < 4; i++) {
		unsigned v = 0;
		int n = 0;

		if (*p == '0' && p[1] >= '0' && p[1] <= '9')
			return 0;	/* a leading zero reads as octal */
		while (*p >= '0' && *p <= '9' && n < 4) {
			v = v * 10 + (unsigned)(*p++ - '0');
			n++;
		}
		if (n == 0 || n > 3 || v > 255)
			return 0;
		out[i] = (uint8_t)v;
		if (i < 3 && *p++ != '.')
			return 0;
	}
	return *p == '\0';
}

static int
numeric_label(const char *label, size_t n)
{
	size_t i = 0;

	if (n >= 2 && label[0] == '0' && (label[1] == 'x' || label[1] == 'X')) {
		for (i = 2; i < n; i++)
			if (sigil_hex_digit((unsigned char)label[i]) < 0)
				return 0;
		return 1;
	}
	if (n == 0)
		return 0;
	for (; i < n; i++)
		if (label[i] < '0' || label[i] > '9')
			return 0;
	return 1;
}

int
egress_host_syntax(const char *host)
{
	uint8_t a[16];
	size_t n = strlen(host), end;
	const char *dot;

	if (n == 0 || n > EGRESS_HOST_MAX)
		return SIGIL_EINVAL;
	if (strchr(host, ':') != NULL)
		return inet_pton(AF_INET6, host, a) == 1 ? 0 : SIGIL_EINVAL;
	/* The last label, past one trailing dot, decides: WHATWG's rule. */
	end = host[n - 1] == '.' ? n - 1 : n;
	for (dot = host + end; dot > host && dot[-1] != '.'; dot--)
		;
	if (!numeric_label(dot, (size_t)(host + end - dot)))
		return 0;
	return canonical4(host, a) ? 0 : SIGIL_EINVAL;
}

static int
metadata_name(const char *host)
{
	size_t n = strlen(host);

	if (n > 0 && host[n - 1] == '.')
		n--;
	for (size_t i = 0; i < sizeof metadata_names / sizeof *metadata_names;
	    i++)
		if (strlen(metadata_names[i]) == n &&
		    strncasecmp(host, metadata_names[i], n) == 0)
			return 1;
	return 0;
}

int
egress_host_check(const struct egress_policy *p, const char *host)
{
	uint8_t a[16];
	int rc;

	if ((rc = egress_host_syntax(host)) != 0)
		return rc;
	if (strchr(host, ':') != NULL) {
		if (inet_pton(AF_INET6, host, a) != 1)
			return SIGIL_EINVAL;
		return egress_addr_check(p, AF_INET6, a);
	}
	if (canonical4(host, a))
		return egress_addr_check(p, AF_INET, a);
	return metadata_name(host) ? SIGIL_EDENIED : 0;
}

int
egress_policy_allow(struct egress_policy *p, const char *cidr)
{
	struct egress_cidr c = { 0 };
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(cidr, '/');
	size_t alen = slash ? (size_t)(slash - cidr) : strlen(cidr);
	uint64_t bits;
	int max;

	if (alen == 0 || alen >= sizeof addr)
		return SIGIL_EINVAL;
	memcpy(addr, cidr, alen);
	addr[alen] = '\0';
	if (strchr(addr, ':') != NULL) {
		if (inet_pton(AF_INET6, addr, c.addr) != 1)
			return SIGIL_EINVAL;
		c.family = AF_INET6;
		max = 128;
	} else {
		if (!canonical4(addr, c.addr))
			return SIGIL_EINVAL;
		c.family = AF_INET;
		max = 32;
	}
	if (slash == NULL)
		bits = (uint64_t)max;
	else if (sigil_parse_u64(slash + 1, (uint64_t)max, &bits) != 0)
		return SIGIL_EINVAL;
	c.bits = (int)bits;
	/* Bits set past the prefix are a typo for some other range. */
	for (int i = c.bits; i < max; i++)
		if (c.addr[i / 8] & (0x80 >> (i % 8)))
			return SIGIL_EINVAL;
	if (p->nallow == EGRESS_ALLOW_MAX)
		return SIGIL_EFULL;
	p->allow[p->nallow++] = c;
	return 0;
}

/* ---- the client ---- */

struct egress {
	struct event_base	*base;
	struct evdns_base	*dns;
	SSL_CTX			*tls;
	struct egress_policy	policy;
	struct egress_req	*reqs;		/* every POST not yet freed */
};

enum req_phase { PH_START, PH_RESOLVING, PH_RESOLVED, PH_SENT, PH_ANSWERED };

struct egress_req {
	struct egress		*e;
	struct egress_req	*prev, *next;
	struct event		*step;
	enum req_phase		phase;
	struct evdns_getaddrinfo_request *dns_req;
	struct evutil_addrinfo	*res;
	int			dns_err;
	int			status;		/* of the answer, 0: none */
	int			cancelled;	/* waits for evdns to call back */
	struct evhttp_connection *evcon;
	int			tls, port, timeout_s;
	char			host[EGRESS_HOST_MAX + 1];
	char			*path, *body;
	size_t			len;
	char			**headers;	/* name, value, ..., NULL */
	egress_done_fn		done;
	egress_answer_fn	answer_done;	/* instead of done */
	egress_call_fn		call_done;	/* instead of both */
	char			**answer_headers;	/* name, value, ...,
							   NULL */
	size_t			nanswer_headers;	/* pairs */
	enum evhttp_cmd_type	method;
	char			*answer;	/* the answer's body */
	size_t			answer_len;
	void			*arg;
};

const char *
egress_result_name(int result)
{
	switch (result) {
	case EGRESS_OK:		return "ok";
	case EGRESS_REFUSED:	return "refused";
	case EGRESS_NO_ADDRESS:	return "no_address";
	case EGRESS_NO_ANSWER:	return "no_answer";
	case EGRESS_STATUS:	return "status";
	}
	return "unknown";
}

const struct egress_policy *
egress_policy(const struct egress *e)
{
	return &e->policy;
}

static void
headers_free(char **h)
{
	if (h == NULL)
		return;
	for (size_t i = 0; h[i] != NULL; i++)
		free(h[i]);
	free(h);
}

static void
req_free(struct egress_req *r)
{
	struct egress *e = r->e;

	if (r->prev != NULL)
		r->prev->next = r->next;
	else
		e->reqs = r->next;
	if (r->next != NULL)
		r->next->prev = r->prev;
	if (r->step != NULL)
		event_free(r->step);
	if (r->res != NULL)
		evutil_freeaddrinfo(r->res);
	if (r->evcon != NULL)
		evhttp_connection_free(r->evcon);
	if (r->headers != NULL)
		for (size_t i = 0; r->headers[i] != NULL; i++)
			free(r->headers[i]);
	free(r->headers);
	headers_free(r->answer_headers);
	free(r->path);
	free(r->body);
	if (r->answer != NULL) {
		explicit_bzero(r->answer, r->answer_len);
		free(r->answer);
	}
	free(r);
}

static void
finish(struct egress_req *r, int result, int status)
{
	egress_done_fn done = r->done;
	egress_answer_fn answer_done = r->answer_done;
	egress_call_fn call_done = r->call_done;
	void *arg = r->arg;
	char *answer = r->answer, **headers = r->answer_headers;
	size_t len = r->answer_len, nheaders = r->nanswer_headers;

	r->answer = NULL;
	r->answer_headers = NULL;
	req_free(r);
	if (done != NULL)
		done(result, status, arg);
	if (answer_done != NULL)
		answer_done(result, status, answer != NULL ? answer : "",
		    answer != NULL ? len : 0, arg);
	if (call_done != NULL) {
		static const char *const none[] = { NULL };
		struct egress_answer a = {
			.result = result, .status = status,
			.body = answer != NULL ? answer : "",
			.len = answer != NULL ? len : 0,
			.headers = headers != NULL ?
			    (const char *const *)headers : none,
			.nheaders = headers != NULL ? nheaders : 0,
		};

		call_done(&a, arg);
	}
	headers_free(headers);
	if (answer != NULL) {
		explicit_bzero(answer, len);
		free(answer);
	}
}

static void
step_now(struct egress_req *r)
{
	struct timeval now = { 0, 0 };

	evtimer_add(r->step, &now);
}

static void
resolved(int err, struct evutil_addrinfo *res, void *arg)
{
	struct egress_req *r = arg;

	r->dns_req = NULL;
	if (r->cancelled) {
		if (res != NULL)
			evutil_freeaddrinfo(res);
		req_free(r);
		return;
	}
	r->dns_err = err;
	r->res = res;
	r->phase = PH_RESOLVED;
	step_now(r);
}

/* Keeps the answer's headers for egress_call (a failed copy: none). */
static void
copy_headers(struct egress_req *r, const struct evkeyvalq *in)
{
	const struct evkeyval *kv;
	size_t n = 0, i = 0;
	char **h;

	TAILQ_FOREACH(kv, in, next)
		n++;
	if (n > EGRESS_ANSWER_HEADERS_MAX)
		n = EGRESS_ANSWER_HEADERS_MAX;
	if ((h = calloc(2 * n + 1, sizeof(*h))) == NULL)
		return;
	TAILQ_FOREACH(kv, in, next) {
		if (i == 2 * n)
			break;
		if ((h[i] = strdup(kv->key)) == NULL ||
		    (h[i + 1] = strdup(kv->value)) == NULL) {
			headers_free(h);
			return;
		}
		i += 2;
	}
	r->answer_headers = h;
	r->nanswer_headers = n;
}

const char *
egress_answer_header(const struct egress_answer *a, const char *name)
{
	for (size_t i = 0; i < a->nheaders; i++)
		if (strcasecmp(a->headers[2 * i], name) == 0)
			return a->headers[2 * i + 1];
	return NULL;
}

/*
 * The connection cannot be freed from inside its own callback, and
 * libevent 2.1 does not free a connection that failed to connect even
 * when asked to free it on completion: the next step frees it.
 */
static void
answered(struct evhttp_request *req, void *arg)
{
	struct egress_req *r = arg;

	r->status = req ? evhttp_request_get_response_code(req) : 0;
	if (req != NULL && r->call_done != NULL && r->answer_headers == NULL)
		copy_headers(r, evhttp_request_get_input_headers(req));
	if (req != NULL && (r->answer_done != NULL || r->call_done != NULL) &&
	    r->answer == NULL) {
		struct evbuffer *in = evhttp_request_get_input_buffer(req);
		size_t n = evbuffer_get_length(in);

		if (n > EGRESS_RESPONSE_MAX)
			n = EGRESS_RESPONSE_MAX;
		if ((r->answer = malloc(n + 1)) != NULL) {
			evbuffer_copyout(in, r->answer, n);
			r->answer[n] = '\0';
			r->answer_len = n;
		}
	}
	r->phase = PH_ANSWERED;
	step_now(r);
}

static struct evhttp_connection *
connect_addr(struct egress_req *r, const char *ip, int family)
{
	struct egress *e = r->e;
	struct evhttp_connection *evcon;
	struct bufferevent *bev;
	SSL *ssl;
	uint8_t a[16];
	int literal = inet_pton(AF_INET, r->host, a) == 1 ||
	    inet_pton(AF_INET6, r->host, a) == 1;

	/* ip is numeric: libevent connects to it without any resolver. */
	if (!r->tls) {
		evcon = evhttp_connection_base_new(e->base, NULL, ip,
		    (unsigned short)r->port);
		goto out;
	}
	if ((ssl = SSL_new(e->tls)) == NULL)
		return NULL;
	/* The certificate must name what the URL names. */
	if ((!literal && SSL_set_tlsext_host_name(ssl, r->host) != 1) ||
	    (literal && X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
	    r->host) != 1) ||
	    (!literal && SSL_set1_host(ssl, r->host) != 1)) {
		SSL_free(ssl);
		return NULL;
	}
	/* On success the bufferevent owns ssl and frees it. */
	bev = bufferevent_openssl_socket_new(e->base, -1, ssl,
	    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE |
	    BEV_OPT_DEFER_CALLBACKS);
	if (bev == NULL) {
		SSL_free(ssl);
		return NULL;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	evcon = evhttp_connection_base_bufferevent_new(e->base, NULL, bev, ip,
	    (unsigned short)r->port);
	if (evcon == NULL)
		bufferevent_free(bev);
out:
	if (evcon != NULL)
		evhttp_connection_set_family(evcon, family);
	return evcon;
}

/* Checks every resolved address, then sends to the first by number. */
static void
send_checked(struct egress_req *r)
{
	struct evutil_addrinfo *ai;
	struct evhttp_request *req;
	struct evkeyvalq *h;
	const struct evutil_addrinfo *first = NULL;
	char ip[INET6_ADDRSTRLEN], hostport[EGRESS_HOST_MAX + 16];
	const uint8_t *a;
	int family;

	if (r->dns_err != 0 || r->res == NULL) {
		finish(r, EGRESS_NO_ADDRESS, -1);
		return;
	}
	for (ai = r->res; ai != NULL; ai = ai->ai_next) {
		family = ai->ai_family;
		if (family == AF_INET)
			a = (const uint8_t *)&((const struct sockaddr_in *)
			    ai->ai_addr)->sin_addr;
		else if (family == AF_INET6)
			a = (const uint8_t *)&((const struct sockaddr_in6 *)
			    ai->ai_addr)->sin6_addr;
		else
			continue;
		if (egress_addr_check(&r->e->policy, family, a) != 0) {
			inet_ntop(family, a, ip, sizeof ip);
			log_warn("egress_refused", "host=%s addr=%s port=%d "
			    "msg=\"not an allowed address (--webhook-allow)\"",
			    r->host, ip, r->port);
			finish(r, EGRESS_REFUSED, -1);
			return;
		}
		if (first == NULL)
			first = ai;
	}
	if (first == NULL) {
		finish(r, EGRESS_NO_ADDRESS, -1);
		return;
	}
	family = first->ai_family;
	a = family == AF_INET ? (const uint8_t *)&((const struct sockaddr_in *)
	    first->ai_addr)->sin_addr : (const uint8_t *)&((const struct
	    sockaddr_in6 *)first->ai_addr)->sin6_addr;
	inet_ntop(family, a, ip, sizeof ip);
	if ((r->evcon = connect_addr(r, ip, family)) == NULL ||
	    (req = evhttp_request_new(answered, r)) == NULL) {
		finish(r, EGRESS_NO_ANSWER, -1);
		return;
	}
	evhttp_connection_set_timeout(r->evcon, r->timeout_s);
	evhttp_connection_set_max_body_size(r->evcon, EGRESS_RESPONSE_MAX);
	evhttp_connection_set_max_headers_size(r->evcon, EGRESS_RESPONSE_MAX);
	if (strchr(r->host, ':') != NULL)
		snprintf(hostport, sizeof hostport, "[%s]:%d", r->host, r->port);
	else
		snprintf(hostport, sizeof hostport, "%s:%d", r->host, r->port);
	h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Host", hostport);
	if (r->method == EVHTTP_REQ_POST)
		evhttp_add_header(h, "Content-Type", "application/json");
	for (size_t i = 0; r->headers != NULL && r->headers[i] != NULL; i += 2)
		evhttp_add_header(h, r->headers[i], r->headers[i + 1]);
	evhttp_add_header(h, "Connection", "close");
	if (r->method == EVHTTP_REQ_POST)
		evbuffer_add(evhttp_request_get_output_buffer(req), r->body,
		    r->len);
	r->phase = PH_SENT;
	/* libevent frees req itself when the request cannot be made. */
	if (evhttp_make_request(r->evcon, req, r->method, r->path) != 0 &&
	    r->phase == PH_SENT)
		finish(r, EGRESS_NO_ANSWER, -1);
}

static void
step(evutil_socket_t fd, short what, void *arg)
{
	struct egress_req *r = arg;
	struct evutil_addrinfo hints;
	struct evdns_getaddrinfo_request *q;

	(void)fd;
	(void)what;
	switch (r->phase) {
	case PH_START:
		memset(&hints, 0, sizeof hints);
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_protocol = IPPROTO_TCP;
		r->phase = PH_RESOLVING;
		/* resolved() may run before this returns (an address, the
		 * hosts file); it then only schedules the next step. */
		q = evdns_getaddrinfo(r->e->dns, r->host, NULL, &hints,
		    resolved, r);
		if (r->phase == PH_RESOLVING)
			r->dns_req = q;
		break;
	case PH_RESOLVED:
		send_checked(r);
		break;
	case PH_ANSWERED:
		if (r->status >= 200 && r->status < 300)
			finish(r, EGRESS_OK, r->status);
		else
			finish(r, r->status > 0 ? EGRESS_STATUS :
			    EGRESS_NO_ANSWER, r->status > 0 ? r->status : -1);
		break;
	default:
		break;
	}
}

static char *
dup_or_null(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (d != NULL) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

void
egress_cancel(struct egress_req *r)
{
	if (r == NULL)
		return;
	r->done = NULL;
	r->answer_done = NULL;
	r->call_done = NULL;
	if (r->dns_req != NULL) {
		/* evdns calls resolved() back, which frees r. */
		r->cancelled = 1;
		evdns_getaddrinfo_cancel(r->dns_req);
		return;
	}
	req_free(r);
}

static int
request_new(struct egress *e, enum evhttp_cmd_type method, int tls,
    const char *host, int port, const char *path, const char *const *headers,
    const char *body, size_t len, int timeout_s, egress_done_fn done,
    egress_answer_fn answer_done, egress_call_fn call_done, void *arg,
    struct egress_req **out)
{
	struct egress_req *r;
	size_t nh = 0;

	if (strlen(host) > EGRESS_HOST_MAX || port <= 0 || port > 65535)
		return SIGIL_EINVAL;
	if ((r = calloc(1, sizeof *r)) == NULL)
		return SIGIL_ENOMEM;
	r->e = e;
	if ((r->next = e->reqs) != NULL)
		r->next->prev = r;
	e->reqs = r;
	snprintf(r->host, sizeof r->host, "%s", host);
	r->tls = tls;
	r->port = port;
	r->timeout_s = timeout_s;
	r->method = method;
	r->done = done;
	r->answer_done = answer_done;
	r->call_done = call_done;
	r->arg = arg;
	while (headers != NULL && headers[nh] != NULL)
		nh += 2;
	if ((r->step = evtimer_new(e->base, step, r)) == NULL ||
	    (r->path = dup_or_null(path, strlen(path))) == NULL ||
	    (r->body = dup_or_null(body, len)) == NULL ||
	    (r->headers = calloc(nh + 1, sizeof *r->headers)) == NULL)
		goto fail;
	r->len = len;
	for (size_t i = 0; i < nh; i++)
		if ((r->headers[i] = strdup(headers[i])) == NULL)
			goto fail;
	step_now(r);
	if (out != NULL)
		*out = r;
	return 0;
fail:
	r->done = NULL;
	r->answer_done = NULL;
	r->call_done = NULL;
	req_free(r);
	return SIGIL_ENOMEM;
}

int
egress_post(struct egress *e, int tls, const char *host, int port,
    const char *path, const char *const *headers, const char *body,
    size_t len, int timeout_s, egress_done_fn done, void *arg,
    struct egress_req **out)
{
	return request_new(e, EVHTTP_REQ_POST, tls, host, port, path, headers,
	    body, len, timeout_s, done, NULL, NULL, arg, out);
}

int
egress_post_answer(struct egress *e, int tls, const char *host, int port,
    const char *path, const char *const *headers, const char *body,
    size_t len, int timeout_s, egress_answer_fn done, void *arg,
    struct egress_req **out)
{
	return request_new(e, EVHTTP_REQ_POST, tls, host, port, path, headers,
	    body, len, timeout_s, NULL, done, NULL, arg, out);
}

int
egress_get(struct egress *e, int tls, const char *host, int port,
    const char *path, int timeout_s, egress_answer_fn done, void *arg,
    struct egress_req **out)
{
	return request_new(e, EVHTTP_REQ_GET, tls, host, port, path, NULL, "",
	    0, timeout_s, NULL, done, NULL, arg, out);
}

int
egress_call(struct egress *e, int method, int tls, const char *host,
    int port, const char *path, const char *const *headers, const char *body,
    size_t len, int timeout_s, egress_call_fn done, void *arg,
    struct egress_req **out)
{
	if (done == NULL || (method != EGRESS_GET && method != EGRESS_POST) ||
	    (method == EGRESS_POST && body == NULL && len > 0))
		return SIGIL_EINVAL;
	if (method == EGRESS_GET || body == NULL) {
		body = "";
		len = 0;
	}
	return request_new(e, method == EGRESS_GET ? EVHTTP_REQ_GET :
	    EVHTTP_REQ_POST, tls, host, port, path, headers, body, len,
	    timeout_s, NULL, NULL, done, arg, out);
}

int
egress_start(struct event_base *base, const struct egress_config *cfg,
    struct egress **out)
{
	struct egress *e;
	int rc = SIGIL_ENOMEM;

	if ((e = calloc(1, sizeof *e)) == NULL)
		return SIGIL_ENOMEM;
	e->base = base;
	e->policy = cfg->policy;
	if (cfg->dns_server != NULL) {
		rc = SIGIL_EINVAL;
		if ((e->dns = evdns_base_new(base, 0)) == NULL ||
		    evdns_base_nameserver_ip_add(e->dns, cfg->dns_server) != 0)
			goto fail;
		evdns_base_load_hosts(e->dns, NULL);
	} else {
		/* Without a usable resolv.conf evdns still reads the hosts
		 * file; names it cannot resolve fail, never blocking. */
		e->dns = evdns_base_new(base,
		    EVDNS_BASE_INITIALIZE_NAMESERVERS);
		if (e->dns == NULL && (e->dns = evdns_base_new(base, 0)) != NULL)
			evdns_base_load_hosts(e->dns, NULL);
		if (e->dns == NULL)
			goto fail;
	}
	evdns_base_set_option(e->dns, "timeout:", "3");
	evdns_base_set_option(e->dns, "attempts:", "2");
	rc = SIGIL_ECRYPTO;
	if ((e->tls = SSL_CTX_new(TLS_client_method())) == NULL)
		goto fail;
	SSL_CTX_set_min_proto_version(e->tls, TLS1_2_VERSION);
	SSL_CTX_set_verify(e->tls, SSL_VERIFY_PEER, NULL);
	if (SSL_CTX_set_default_verify_paths(e->tls) != 1)
		goto fail;
	if (cfg->ca_file != NULL && SSL_CTX_load_verify_locations(e->tls,
	    cfg->ca_file, NULL) != 1) {
		rc = SIGIL_EINVAL;
		goto fail;
	}
	*out = e;
	return 0;
fail:
	egress_free(e);
	return rc;
}

static int
resolving(const struct egress *e)
{
	for (const struct egress_req *r = e->reqs; r != NULL; r = r->next)
		if (r->dns_req != NULL)
			return 1;
	return 0;
}

void
egress_free(struct egress *e)
{
	struct egress_req *r;

	if (e == NULL)
		return;
	for (r = e->reqs; r != NULL; r = r->next) {
		r->done = NULL;
		if (r->dns_req != NULL && !r->cancelled) {
			r->cancelled = 1;
			evdns_getaddrinfo_cancel(r->dns_req);
		}
	}
	/* evdns reports cancelled lookups from the loop, and frees its own
	 * state for them only then: let it (nothing else is left on the
	 * base, see egress.h). */
	for (int i = 0; i < 10 && resolving(e); i++)
		event_base_loop(e->base, EVLOOP_NONBLOCK);
	while (e->reqs != NULL)
		req_free(e->reqs);
	if (e->dns != NULL)
		evdns_base_free(e->dns, 0);
	if (e->tls != NULL)
		SSL_CTX_free(e->tls);
	free(e);
}
