/*
 * egress.h - sigild's outbound HTTP (CRM webhooks, the SMS gateway,
 * WeChat's API): which
 * addresses it may reach, and one POST that resolves, checks and
 * connects without ever re-resolving. See docs/webhooks.md "Where
 * webhooks may point".
 *
 * The policy refuses, unless an operator's --webhook-allow CIDR covers
 * the address: loopback, unspecified, private (RFC 1918), link-local,
 * CGNAT, multicast, broadcast, documentation, benchmarking and other
 * reserved IPv4 ranges; IPv6 outside global unicast (2000::/3: ULA,
 * link-local, site-local, multicast, IPv4-compatible) and the special
 * ranges inside it; IPv4-mapped, NAT64 and 6to4 addresses by the IPv4
 * address they carry. Cloud metadata addresses and names are refused
 * even when an allowed range covers them.
 */
#ifndef SIGIL_EGRESS_H
#define SIGIL_EGRESS_H

#include <stddef.h>
#include <stdint.h>

struct event_base;

#define EGRESS_ALLOW_MAX	32

struct egress_cidr {
	int	family;		/* AF_INET or AF_INET6 */
	int	bits;
	uint8_t	addr[16];	/* 4 bytes used for AF_INET */
};

/* What the operator opted in with --webhook-allow. Plain data. */
struct egress_policy {
	size_t			nallow;
	struct egress_cidr	allow[EGRESS_ALLOW_MAX];
};

/*
 * Adds "ADDR/BITS" or a bare address (a single host) to p's allowed
 * ranges. The address must be canonical (dotted quad or inet_pton IPv6)
 * and have no bits set past the prefix. 0, SIGIL_EINVAL, SIGIL_EFULL.
 */
int egress_policy_allow(struct egress_policy *p, const char *cidr);

/*
 * Whether an address may be connected to: family AF_INET (4 bytes) or
 * AF_INET6 (16 bytes, IPv4-mapped judged as IPv4). 0 or SIGIL_EDENIED.
 */
int egress_addr_check(const struct egress_policy *p, int family,
    const uint8_t *addr);

/*
 * How a URL's host reads (brackets removed): 0 for a DNS name, or an
 * address in canonical form (IPv4 a.b.c.d, decimal, no leading zeros;
 * IPv6 as inet_pton reads it). SIGIL_EINVAL for a host whose last label
 * is numeric (digits or 0x...) but that is not a canonical dotted quad:
 * 2130706433, 0177.0.0.1, 0x7f.1, 127.1 mean 127.0.0.1 to C resolvers.
 */
int egress_host_syntax(const char *host);

/*
 * The subscription-time check of a URL's host: 0 for a name (checked
 * again at every delivery, on what it resolves to) or an allowed
 * address; SIGIL_EINVAL as egress_host_syntax; SIGIL_EDENIED for an
 * address the policy refuses or a cloud metadata name.
 */
int egress_host_check(const struct egress_policy *p, const char *host);

/* ---- the client ---- */

struct egress_config {
	struct egress_policy	policy;
	const char		*ca_file;	/* extra PEM trust anchors or NULL */
	const char		*dns_server;	/* "IP[:PORT]" instead of
						   /etc/resolv.conf, or NULL */
};

struct egress;
struct egress_req;

/*
 * Makes the client on base: a resolver (evdns; never the blocking libc
 * one) and a TLS context verifying peers against the system store plus
 * cfg->ca_file. 0, SIGIL_EINVAL (bad ca_file or dns_server),
 * SIGIL_ENOMEM, SIGIL_ECRYPTO. egress_free drops every POST still
 * pending without calling back; it runs the loop briefly so that evdns
 * can wind up cancelled lookups, so call it last, when nothing else is
 * left on base but before event_base_free.
 */
int egress_start(struct event_base *base, const struct egress_config *cfg,
    struct egress **out);
void egress_free(struct egress *e);
const struct egress_policy *egress_policy(const struct egress *e);

/* How a POST ended. The brand only ever sees delivered or failed. */
enum egress_result {
	EGRESS_OK = 0,		/* a 2xx answer */
	EGRESS_REFUSED,		/* an address the policy refuses */
	EGRESS_NO_ADDRESS,	/* the name did not resolve */
	EGRESS_NO_ANSWER,	/* connect, TLS, timeout, or a broken answer */
	EGRESS_STATUS,		/* an HTTP answer other than 2xx */
};
const char *egress_result_name(int result);

/*
 * Called once per egress_post that returned 0 (never from inside
 * egress_post, never after egress_cancel): result, the HTTP status (-1
 * without one), arg.
 */
typedef void (*egress_done_fn)(int result, int status, void *arg);

/*
 * POSTs body (len bytes, copied) with Content-Type: application/json to
 * http(s)://host:port/path. headers is NULL or a NULL-terminated list of
 * name, value pairs (copied); Host and Connection: close are added.
 * host (a name or an address, IPv6 without brackets) is resolved once;
 * every address it resolves to must pass the policy, and the request
 * goes to the first of them by address, so DNS rebinding cannot pass
 * the check. https verifies the certificate against host. Redirects are
 * not followed. Gives up after timeout_s once connected. 0 with *out
 * set when out is not NULL (valid until done runs), SIGIL_ENOMEM.
 */
int egress_post(struct egress *e, int tls, const char *host, int port,
    const char *path, const char *const *headers, const char *body,
    size_t len, int timeout_s, egress_done_fn done, void *arg,
    struct egress_req **out);

/*
 * Called once per egress_get that returned 0, as egress_done_fn, with
 * the answer's body (len bytes, at most 64 KiB, NUL-terminated; "" and 0
 * without an answer), valid during the call only. Any status comes with
 * its body: result EGRESS_STATUS for a non-2xx one.
 */
typedef void (*egress_answer_fn)(int result, int status, const char *body,
    size_t len, void *arg);

/*
 * GETs http(s)://host:port/path (path with its query) under the same
 * policy, resolution and TLS rules as egress_post, and hands the answer
 * to done. 0 with *out set when out is not NULL, SIGIL_EINVAL,
 * SIGIL_ENOMEM.
 */
int egress_get(struct egress *e, int tls, const char *host, int port,
    const char *path, int timeout_s, egress_answer_fn done, void *arg,
    struct egress_req **out);

/*
 * POSTs as egress_post, and hands the answer's body to done as
 * egress_get does: for APIs that answer a POST with JSON (WeChat's
 * message sends, robot webhooks' {"errcode": ...}).
 */
int egress_post_answer(struct egress *e, int tls, const char *host,
    int port, const char *path, const char *const *headers,
    const char *body, size_t len, int timeout_s, egress_answer_fn done,
    void *arg, struct egress_req **out);

/* ---- a request with its answer's headers (WeChat Pay's APIv3) ---- */

enum egress_method { EGRESS_GET = 1, EGRESS_POST = 2 };

#define EGRESS_ANSWER_HEADERS_MAX	64	/* more are dropped */

/*
 * What egress_call hands back: result and status as egress_done_fn's,
 * the body as egress_answer_fn's (at most 64 KiB, NUL-terminated, ""
 * and 0 without an answer), and the answer's headers as received (at
 * most EGRESS_ANSWER_HEADERS_MAX, nheaders 0 without an answer). All of
 * it valid during the callback only.
 */
struct egress_answer {
	int		 result;	/* enum egress_result */
	int		 status;	/* -1 without an answer */
	const char	*body;
	size_t		 len;
	const char	*const *headers;	/* name, value, ..., NULL */
	size_t		 nheaders;		/* pairs */
};

/* The value of the answer's header name (case-insensitive), or NULL. */
const char *egress_answer_header(const struct egress_answer *a,
    const char *name);

typedef void (*egress_call_fn)(const struct egress_answer *a, void *arg);

/*
 * Sends method (EGRESS_GET: body ignored; EGRESS_POST: body, len bytes,
 * copied, Content-Type: application/json) to http(s)://host:port/path
 * with headers (NULL or name, value, ..., NULL; copied) under the same
 * policy, resolution and TLS rules as egress_post, and calls done once
 * with the whole answer (never from inside egress_call, never after
 * egress_cancel). 0 with *out set when out is not NULL, SIGIL_EINVAL,
 * SIGIL_ENOMEM.
 */
int egress_call(struct egress *e, int method, int tls, const char *host,
    int port, const char *path, const char *const *headers, const char *body,
    size_t len, int timeout_s, egress_call_fn done, void *arg,
    struct egress_req **out);

/* Drops r: its done is never called. */
void egress_cancel(struct egress_req *r);

#endif
