/*
 * http.c - the HTTP front of sigild.
 *
 * Owns the listener, the per-connection bufferevents (plain or TLS), the
 * route table dispatch, the limits of SPEC §8 and the request metrics.
 * It knows nothing of codes or scans: the table is route.c's, and its
 * handlers (consumer.c, loyalty.c, dashboard.c, the brand API behind
 * route_api.c) get a struct http_call that has already passed every
 * generic check, and the request helpers below (headers, cookies and
 * the query string are http_request.c's).
 *
 * Limits, in the order a request meets them:
 *   - connections, framing, the head deadline and the body limit:
 *     http_conn.c's guard, from accept and from the raw head (counts and
 *     caps, 400 for framing a proxy could read otherwise, 413 from the
 *     head); this file answers its questions (conn_body_limit,
 *     conn_exempt) and tells it when a request is busy or answered;
 *   - header size and the read/write timeout: evhttp's own bounds (431
 *     and a closed connection for a stalled client);
 *   - the URI: bounded length, strict percent-decoding, valid UTF-8, no
 *     "..": anything else is a 400 before any handler runs;
 *   - per-client token bucket on consumer routes (429 with Retry-After),
 *     src/ground/ratelimit.c's: per IPv4 address or IPv6 /64 (and /56 with
 *     --rate-v6-56).
 *     The client is the peer address, or the nearest untrusted address in
 *     X-Forwarded-For when the peer is a --trusted-proxy.
 *
 * Every handler ends in exactly one http_reply*(), which sends the reply,
 * counts it by route and status, and frees the call.
 *
 * Routing, not a handler: may call libevent, OpenSSL, http_conn.c and the
 * ground (log, ratelimit, fault, util), and handlers only through the
 * table it is given; never reads the store, a code or a token.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <jansson.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "sigil/fault.h"
#include "sigil/http.h"
#include "sigil/log.h"
#include "sigil/ratelimit.h"
#include "sigil/util.h"
#include "http_conn.h"

#define HTTP_URI_MAX		2048
#define HTTP_PROXIES_MAX	8
#define RATE_SETS		16384	/* x RATELIMIT_WAYS clients */
#define ROUTES_MAX		64

static const int tracked_status[] = { 200, 201, 202, 204, 206, 301, 302,
    303, 304, 307, 308,
    400, 401, 403, 404, 405, 408, 409, 410, 411, 412, 413, 414, 415, 416,
    422, 423, 429,
    431, 500, 501, 502, 503, 504 };
#define NSTATUS (sizeof tracked_status / sizeof tracked_status[0] + 1)

struct cidr {
	uint8_t		addr[16];
	int		bits;
};

struct http_stream {
	struct http_call	*call;
	struct evhttp_connection *evcon;
	const struct http_stream_ops *ops;
	void			*arg;
	int			waiting;	/* next said HTTP_STREAM_WAIT */
	struct http_stream	*next;
	struct event		*again;	/* next() gave an empty piece */
};

struct http_server {
	struct event_base	*base;
	struct evhttp		*http;
	struct evhttp_bound_socket *bound;
	struct evconnlistener	*listener;
	SSL_CTX			*ssl;
	struct http_config	cfg;
	const struct http_route	*routes;
	size_t			nroutes;
	void			*app;
	struct cidr		proxies[HTTP_PROXIES_MAX];
	int			nproxies;
	struct ratelimit	*rate;		/* consumer routes, or NULL */
	struct conn_guard	*guard;		/* accept, caps, deadlines */
	uint64_t		counts[ROUTES_MAX + 2][NSTATUS];
	uint64_t		rate_limited;
	struct http_stream	*streams;	/* replies being streamed */
};

/* ---- addresses ---- */

static int
addr_parse(const char *s, uint8_t out[16])
{
	struct in_addr a4;

	if (inet_pton(AF_INET6, s, out) == 1)
		return 0;
	if (inet_pton(AF_INET, s, &a4) == 1) {
		memset(out, 0, 10);
		out[10] = out[11] = 0xff;
		memcpy(out + 12, &a4, 4);
		return 0;
	}
	return SIGIL_EINVAL;
}

static void
addr_text(const uint8_t a[16], char *buf, size_t size)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };

	if (memcmp(a, mapped, 12) == 0)
		inet_ntop(AF_INET, a + 12, buf, (socklen_t)size);
	else
		inet_ntop(AF_INET6, a, buf, (socklen_t)size);
}

static int
cidr_parse(const char *s, struct cidr *out)
{
	char host[64];
	const char *slash = strchr(s, '/');
	uint64_t bits;
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	int v4;

	if (n == 0 || n >= sizeof host)
		return SIGIL_EINVAL;
	memcpy(host, s, n);
	host[n] = '\0';
	v4 = strchr(host, ':') == NULL;
	if (addr_parse(host, out->addr) != 0)
		return SIGIL_EINVAL;
	if (slash == NULL)
		bits = 128;
	else if (sigil_parse_u64(slash + 1, v4 ? 32 : 128, &bits) != 0)
		return SIGIL_EINVAL;
	else if (v4)
		bits += 96;
	out->bits = (int)bits;
	return 0;
}

static int
cidr_match(const struct cidr *c, const uint8_t a[16])
{
	int full = c->bits / 8, rest = c->bits % 8;

	if (memcmp(c->addr, a, (size_t)full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((c->addr[full] ^ a[full]) & (0xff << (8 - rest))) == 0;
}

static int
trusted(struct http_server *srv, const uint8_t a[16])
{
	for (int i = 0; i < srv->nproxies; i++)
		if (cidr_match(&srv->proxies[i], a))
			return 1;
	return 0;
}

/*
 * The client: the peer, unless the peer is a trusted proxy; then walk
 * X-Forwarded-For from the right, skipping trusted hops, and take the
 * first address that is not ours. A malformed entry stops the walk at the
 * last good hop: a client cannot choose its address by forging the list.
 */
static void
client_resolve(struct http_call *c)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(c->req);
	const struct sockaddr *sa = evcon ? evhttp_connection_get_addr(evcon) :
	    NULL;
	const char *xff;
	char item[64];

	memset(c->client, 0, sizeof c->client);
	if (sa != NULL && sa->sa_family == AF_INET) {
		c->client[10] = c->client[11] = 0xff;
		memcpy(c->client + 12,
		    &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
	} else if (sa != NULL && sa->sa_family == AF_INET6)
		memcpy(c->client,
		    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
		    16);
	if (c->srv->nproxies > 0 && trusted(c->srv, c->client) &&
	    (xff = http_header(c, "X-Forwarded-For")) != NULL) {
		size_t end = strlen(xff);
		int hops = 0;

		while (end > 0 && hops++ < 16) {
			size_t start = end, a, b;
			uint8_t addr[16];

			while (start > 0 && xff[start - 1] != ',')
				start--;
			for (a = start; a < end && xff[a] == ' '; a++)
				;
			for (b = end; b > a && xff[b - 1] == ' '; b--)
				;
			if (b - a == 0 || b - a >= sizeof item)
				break;
			memcpy(item, xff + a, b - a);
			item[b - a] = '\0';
			if (addr_parse(item, addr) != 0)
				break;
			memcpy(c->client, addr, 16);
			if (!trusted(c->srv, addr))
				break;
			end = start > 0 ? start - 1 : 0;
		}
	}
	addr_text(c->client, c->client_text, sizeof c->client_text);
}

/* ---- rate limit: src/ground/ratelimit.c, per IPv4 address or IPv6 /64 ---- */

static int
rate_allow(struct http_server *srv, struct http_call *c)
{
	int64_t now = sigil_now_us(), wait;
	char retry[24];

	if (ratelimit_client_take(srv->rate, c->client, now))
		return 1;
	wait = ratelimit_client_wait_us(srv->rate, c->client, now);
	snprintf(retry, sizeof retry, "%lld", (long long)(wait / 1000000 + 1));
	http_add_header(c, "Retry-After", retry);
	return 0;
}

/* ---- connections: http_conn.c guards them; here what it asks ---- */

static void stream_drop(struct http_server *, struct http_stream *);
static void call_finish(struct http_call *, int);
static int route_find(struct http_server *, const char *);

static void
conn_closed(void *arg, struct evhttp_connection *evcon)
{
	struct http_server *srv = arg;
	struct http_stream *s, *next;

	for (s = srv->streams; s != NULL; s = next) {
		next = s->next;
		if (s->evcon == evcon) {
			struct evhttp_request *req = s->call->req;

			s->ops->gone(s->call, s->arg);
			call_finish(s->call, 499);
			stream_drop(srv, s);
			/*
			 * A reply not ended when the client went away: evhttp
			 * detached the request from the connection (and so
			 * will not free it) and leaves it to us.
			 */
			if (evhttp_request_get_connection(req) == NULL)
				evhttp_request_free(req);
		}
	}
}

static int
conn_exempt(void *arg, const uint8_t addr[16])
{
	return trusted(arg, addr);
}

/* The body limit of route idx: 16 KB, a consumer route's own (the fake
 * report's photo), or a brand route's. */
static size_t
route_body_max(struct http_server *srv, int idx)
{
	const struct http_route *r = &srv->routes[idx];

	if (!(r->flags & HTTP_ROUTE_BRAND))
		return r->body_max != 0 ? r->body_max : HTTP_CONSUMER_BODY_MAX;
	return r->body_max != 0 && r->body_max < srv->cfg.max_body_bytes ?
	    r->body_max : srv->cfg.max_body_bytes;
}

/*
 * The body limit, decided from the head before a byte of the body is
 * buffered: the brand API's limit only for a call that already carries
 * a live credential (ops->head_auth), a consumer route's own limit (the
 * fake report's photo), 16 KB for everything else.
 */
static size_t
conn_body_limit(void *arg, const struct conn_head *h)
{
	struct http_server *srv = arg;
	char path[1024];
	size_t plen = strcspn(h->target, "?#");
	int idx;

	if (http_path_decode(h->target, plen, path, sizeof path) != 0 ||
	    (idx = route_find(srv, path)) < 0)
		return HTTP_CONSUMER_BODY_MAX;
	/* A consumer route with a limit of its own: for everyone. */
	if (!(srv->routes[idx].flags & HTTP_ROUTE_BRAND))
		return route_body_max(srv, idx);
	if (srv->cfg.head_auth == NULL ||
	    !srv->cfg.head_auth(srv->app, h->authorization, h->cookie))
		return HTTP_CONSUMER_BODY_MAX;
	return route_body_max(srv, idx);
}

static const struct conn_guard_ops guard_ops = {
	conn_body_limit, conn_exempt, conn_closed
};

static struct bufferevent *
conn_bufferevent(struct event_base *base, void *arg)
{
	struct http_server *srv = arg;
	struct bufferevent *bev;
	SSL *ssl;

	if (srv->ssl == NULL)
		bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	else if ((ssl = SSL_new(srv->ssl)) == NULL)
		return NULL;
	else
		bev = bufferevent_openssl_socket_new(base, -1, ssl,
		    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	/* evhttp calls this at accept: the connection counts from here. */
	conn_guard_attach(srv->guard, bev);
	return bev;
}

/* ---- replies and metrics ---- */

static size_t
status_index(int status)
{
	for (size_t i = 0; i < NSTATUS - 1; i++)
		if (tracked_status[i] == status)
			return i;
	return NSTATUS - 1;
}

static void
call_finish(struct http_call *c, int status)
{
	c->srv->counts[c->route][status_index(status)]++;
	free(c);
}

static const char *
reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 307: return "Temporary Redirect";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Content";
	case 423: return "Locked";
	case 428: return "Precondition Required";
	case 431: return "Request Header Fields Too Large";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	}
	return "Status";
}

void
http_reply(struct http_call *c, int status, const char *content_type,
    struct evbuffer *body)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(c->req);

	conn_guard_idle(c->srv->guard, evhttp_request_get_connection(c->req));
	if (content_type != NULL)
		evhttp_add_header(h, "Content-Type", content_type);
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "Referrer-Policy", "no-referrer");
	evhttp_send_reply(c->req, status, reason(status), body);
	call_finish(c, status);
}

void
http_reply_json_type(struct http_call *c, int status, const char *type,
    const char *json)
{
	struct evbuffer *b = evbuffer_new();

	if (b != NULL)
		evbuffer_add(b, json, strlen(json));
	if (evhttp_find_header(evhttp_request_get_output_headers(c->req),
	    "Cache-Control") == NULL)
		evhttp_add_header(evhttp_request_get_output_headers(c->req),
		    "Cache-Control", "no-store");
	http_reply(c, status, type, b);
	if (b != NULL)
		evbuffer_free(b);
}

void
http_reply_json(struct http_call *c, int status, const char *json)
{
	http_reply_json_type(c, status, "application/json; charset=utf-8",
	    json);
}

static void
stream_drop(struct http_server *srv, struct http_stream *s)
{
	struct http_stream **pp;

	for (pp = &srv->streams; *pp != NULL; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	if (s->again != NULL)
		event_free(s->again);
	free(s);
}

static void stream_pump(struct evhttp_connection *, void *);

static void
stream_again(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	stream_pump(NULL, arg);
}

/* The stream ends with status: reply ended, call logged, stream freed;
 * a failed one's source is told first (gone()). */
static void
stream_end(struct http_stream *s, int status)
{
	struct http_server *srv = s->call->srv;

	if (status != 200)
		s->ops->gone(s->call, s->arg);
	conn_guard_idle(srv->guard, evhttp_request_get_connection(s->call->req));
	evhttp_send_reply_end(s->call->req);
	call_finish(s->call, status);
	stream_drop(srv, s);
}

static void
stream_pump(struct evhttp_connection *evcon, void *arg)
{
	struct http_stream *s = arg;
	struct http_server *srv = s->call->srv;
	struct evbuffer *out = evbuffer_new();
	int more;

	(void)evcon;
	if (out == NULL) {
		stream_end(s, 500);
		return;
	}
	more = s->ops->next(s->call, s->arg, out);
	if (more == HTTP_STREAM_WAIT && evbuffer_get_length(out) == 0) {
		s->waiting = 1;	/* http_stream_wake() pumps again */
		evbuffer_free(out);
		return;
	}
	/*
	 * An empty piece with more to follow (a filter passed over a whole
	 * chunk): next() again on the loop's next turn, after the other
	 * events waiting, so a long search never holds the loop.
	 */
	if (more == 1 && evbuffer_get_length(out) == 0) {
		static const struct timeval now = { 0, 0 };

		evbuffer_free(out);
		if (s->again == NULL)
			s->again = evtimer_new(srv->base, stream_again, s);
		if (s->again != NULL && evtimer_add(s->again, &now) == 0)
			return;
		stream_end(s, 500);
		return;
	}
	if (evbuffer_get_length(out) > 0)
		evhttp_send_reply_chunk_with_cb(s->call->req, out,
		    more ? stream_pump : NULL, s);
	evbuffer_free(out);
	if (!more)
		stream_end(s, 200);
}

void
http_stream_wake(struct http_call *c)
{
	struct http_stream *s;

	for (s = c->srv->streams; s != NULL; s = s->next)
		if (s->call == c) {
			if (s->waiting) {
				s->waiting = 0;
				stream_pump(NULL, s);
			}
			return;
		}
}

void
http_stream_start(struct http_call *c, int status, const char *content_type,
    const struct http_stream_ops *ops, void *arg)
{
	struct http_stream *s = calloc(1, sizeof *s);

	if (s == NULL) {
		ops->gone(c, arg);
		http_reply_error(c, 503, "unavailable", "out of memory");
		return;
	}
	s->call = c;
	s->evcon = evhttp_request_get_connection(c->req);
	s->ops = ops;
	s->arg = arg;
	s->next = c->srv->streams;
	c->srv->streams = s;
	http_add_header(c, "Content-Type", content_type);
	http_add_header(c, "X-Content-Type-Options", "nosniff");
	evhttp_send_reply_start(c->req, status, "OK");
	stream_pump(NULL, s);
}

/*
 * Reals with 15 significant digits, the most a double always round-trips
 * as written: 642.6, not 642.60000000000002.
 */
void
http_reply_jsont(struct http_call *c, int status, void *o)
{
	char *text = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(15));

	json_decref(o);
	if (text == NULL) {
		http_reply_error(c, 503, "unavailable", "out of memory");
		return;
	}
	http_reply_json(c, status, text);
	free(text);
}

void
http_reply_error(struct http_call *c, int status, const char *code,
    const char *message)
{
	json_t *o;
	char *text = NULL, *line = NULL;
	size_t n;

	/*
	 * JSON-escaped: a handler may quote what the client sent. A message
	 * that is not UTF-8, or no memory, leaves the code alone.
	 */
	if ((o = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message",
	    message)) == NULL)
		o = json_pack("{s:{s:s}}", "error", "code", code);
	if (o != NULL)
		text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (text != NULL && (line = malloc((n = strlen(text)) + 2)) != NULL) {
		memcpy(line, text, n);
		memcpy(line + n, "\n", 2);
	}
	free(text);
	if (status == 429 && evhttp_find_header(
	    evhttp_request_get_output_headers(c->req), "Retry-After") == NULL)
		evhttp_add_header(evhttp_request_get_output_headers(c->req),
		    "Retry-After", "1");
	http_reply_json(c, status, line != NULL ? line :
	    "{\"error\":{\"code\":\"unavailable\"}}\n");
	free(line);
}

void
http_metrics(struct http_server *srv, struct evbuffer *out)
{
	struct conn_guard_stats st;

	conn_guard_stats(srv->guard, &st);
	evbuffer_add_printf(out,
	    "# HELP sigil_http_requests_total HTTP requests by route and status.\n"
	    "# TYPE sigil_http_requests_total counter\n");
	for (size_t r = 0; r < srv->nroutes + 2; r++) {
		const char *name = r < srv->nroutes ? srv->routes[r].name :
		    r == srv->nroutes ? "none" : "rejected";
		uint64_t sum[NSTATUS];
		size_t e;

		/* Routes sharing a name (/S/ and /s/, the GS1 keys) are one
		 * series: a label set may appear once in an exposition. */
		for (e = 0; e < r && r < srv->nroutes; e++)
			if (strcmp(srv->routes[e].name, name) == 0)
				break;
		if (e < r && r < srv->nroutes)
			continue;
		memcpy(sum, srv->counts[r], sizeof sum);
		for (e = r + 1; r < srv->nroutes && e < srv->nroutes; e++)
			if (strcmp(srv->routes[e].name, name) == 0)
				for (size_t s = 0; s < NSTATUS; s++)
					sum[s] += srv->counts[e][s];
		for (size_t s = 0; s < NSTATUS; s++) {
			if (sum[s] == 0)
				continue;
			if (s < NSTATUS - 1)
				evbuffer_add_printf(out,
				    "sigil_http_requests_total{route=\"%s\","
				    "status=\"%d\"} %llu\n", name,
				    tracked_status[s],
				    (unsigned long long)sum[s]);
			else
				evbuffer_add_printf(out,
				    "sigil_http_requests_total{route=\"%s\","
				    "status=\"other\"} %llu\n", name,
				    (unsigned long long)sum[s]);
		}
	}
	evbuffer_add_printf(out,
	    "# HELP sigil_http_connections_open Open client connections.\n"
	    "# TYPE sigil_http_connections_open gauge\n"
	    "sigil_http_connections_open %u\n"
	    "# HELP sigil_http_connections_total Client connections accepted.\n"
	    "# TYPE sigil_http_connections_total counter\n"
	    "sigil_http_connections_total %llu\n"
	    "# HELP sigil_http_connections_closed_total Connections the "
	    "server closed or refused, by reason.\n"
	    "# TYPE sigil_http_connections_closed_total counter\n"
	    "sigil_http_connections_closed_total{reason=\"cap\"} %llu\n"
	    "sigil_http_connections_closed_total{reason=\"per_address\"} "
	    "%llu\n"
	    "sigil_http_connections_closed_total{reason=\"evicted\"} %llu\n"
	    "sigil_http_connections_closed_total{reason=\"head_timeout\"} "
	    "%llu\n"
	    "sigil_http_connections_closed_total{reason=\"body_timeout\"} "
	    "%llu\n"
	    "sigil_http_connections_closed_total{reason=\"framing\"} %llu\n"
	    "# HELP sigil_http_accept_errors_total accept() failures on the "
	    "listening socket.\n"
	    "# TYPE sigil_http_accept_errors_total counter\n"
	    "sigil_http_accept_errors_total %llu\n"
	    "# HELP sigil_http_rate_limited_total Requests refused by the "
	    "per-client rate limit (429).\n"
	    "# TYPE sigil_http_rate_limited_total counter\n"
	    "sigil_http_rate_limited_total %llu\n",
	    st.open, (unsigned long long)st.total,
	    (unsigned long long)st.refused_cap,
	    (unsigned long long)st.refused_addr,
	    (unsigned long long)st.evicted,
	    (unsigned long long)st.head_timeouts,
	    (unsigned long long)st.body_timeouts,
	    (unsigned long long)st.framing,
	    (unsigned long long)st.accept_errors,
	    (unsigned long long)srv->rate_limited);
}

/* ---- request parsing ---- */

int
http_path_decode(const char *in, size_t len, char *out, size_t size)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)in[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= len)
				return SIGIL_EINVAL;
			hi = sigil_hex_digit((unsigned char)in[i + 1]);
			lo = sigil_hex_digit((unsigned char)in[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return SIGIL_EINVAL;
			c = hi << 4 | lo;
			i += 2;
		} else if (c <= 0x20 || c == 0x7f)
			return SIGIL_EINVAL;
		if (o + 1 >= size)
			return SIGIL_EINVAL;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	if (!sigil_utf8_valid(out, o))
		return SIGIL_EINVAL;
	return 0;
}

static int
path_has_dotdot(const char *p)
{
	for (const char *s = p; (s = strstr(s, "..")) != NULL; s += 2)
		if ((s == p || s[-1] == '/') && (s[2] == '/' || s[2] == '\0'))
			return 1;
	return strchr(p, '\\') != NULL;
}

int
http_body_too_large(struct http_call *c)
{
	size_t n = evbuffer_get_length(evhttp_request_get_input_buffer(c->req));

	return n > route_body_max(c->srv, c->route);
}

char *
http_body_text(struct http_call *c, size_t *len)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(c->req);
	size_t n = evbuffer_get_length(in);
	char *s;

	if (n == 0 || n > route_body_max(c->srv, c->route))
		return NULL;
	if ((s = malloc(n + 1)) == NULL)
		return NULL;
	evbuffer_copyout(in, s, n);
	s[n] = '\0';
	if (!sigil_utf8_valid(s, n)) {
		free(s);
		return NULL;
	}
	*len = n;
	return s;
}

int
http_body_json(struct http_call *c, const char *unreadable, json_t **out)
{
	json_error_t jerr;
	size_t len;
	char *text;

	*out = NULL;
	if (http_body_too_large(c)) {
		http_reply_error(c, 413, "too_large", "request body too large");
		return -1;
	}
	if ((text = http_body_text(c, &len)) == NULL) {
		http_reply_error(c, 400, "bad_json", unreadable);
		return -1;
	}
	if (sigil_json_values(text, len) > SIGIL_JSON_VALUES_MAX) {
		free(text);
		http_reply_error(c, 413, "too_large", "more than 400000 JSON "
		    "values in the body");
		return -1;
	}
	*out = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	free(text);
	if (*out == NULL || !json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		http_reply_error(c, 400, "bad_json", "expected a JSON object "
		    "(no duplicate keys)");
		return -1;
	}
	return 0;
}

static int
route_method_ok(const struct http_route *r, int method)
{
	return ((r->flags & HTTP_ROUTE_GET) && (method == EVHTTP_REQ_GET ||
	    method == EVHTTP_REQ_HEAD)) || ((r->flags & HTTP_ROUTE_POST) &&
	    method == EVHTTP_REQ_POST) || ((r->flags & HTTP_ROUTE_DELETE) &&
	    method == EVHTTP_REQ_DELETE) || ((r->flags & HTTP_ROUTE_PATCH) &&
	    method == EVHTTP_REQ_PATCH) || ((r->flags & HTTP_ROUTE_PUT) &&
	    method == EVHTTP_REQ_PUT) || ((r->flags & HTTP_ROUTE_OPTIONS) &&
	    method == EVHTTP_REQ_OPTIONS);
}

/*
 * The first route of path; with a method (>= 0), a later exact route of
 * the very same path that takes the method wins over one that does not
 * (one path, a route per method: /api/v1/feedback).
 */
static int
route_find_for(struct http_server *srv, const char *path, int method)
{
	int first = -1;

	for (size_t i = 0; i < srv->nroutes; i++) {
		const struct http_route *r = &srv->routes[i];

		if (r->flags & HTTP_ROUTE_PREFIX) {
			if (first < 0 &&
			    strncmp(path, r->pattern, strlen(r->pattern)) == 0)
				return (int)i;
			continue;
		}
		if (strcmp(path, r->pattern) != 0)
			continue;
		if (method < 0 || route_method_ok(r, method))
			return (int)i;
		if (first < 0)
			first = (int)i;
	}
	return first;
}

static int
route_find(struct http_server *srv, const char *path)
{
	return route_find_for(srv, path, -1);
}

static void
reject(struct http_call *c, int status, const char *code, const char *msg)
{
	c->route = (int)c->srv->nroutes + 1;
	http_reply_error(c, status, code, msg);
}

static void
dispatch(struct evhttp_request *req, void *arg)
{
	struct http_server *srv = arg;
	struct http_call *c;
	const char *uri = evhttp_request_get_uri(req);
	const char *q;
	const struct http_route *r;
	size_t plen;
	int method = evhttp_request_get_command(req), idx;

	if (fault_hit("alloc_request") || (c = calloc(1, sizeof *c)) == NULL) {
		evhttp_send_error(req, 503, "Service Unavailable");
		return;
	}
	c->req = req;
	c->srv = srv;
	c->method = method;
	c->app = srv->app;
	c->route = (int)srv->nroutes;
	client_resolve(c);
	conn_guard_busy(srv->guard, evhttp_request_get_connection(req));
	/* The public URL is https (--base-url or --tls-cert): one year. */
	if (srv->cfg.hsts)
		http_add_header(c, "Strict-Transport-Security",
		    "max-age=31536000");
	if (uri == NULL || strlen(uri) > HTTP_URI_MAX) {
		reject(c, 414, "uri_too_long", "request URI too long");
		return;
	}
	if (uri[0] != '/') {
		reject(c, 400, "bad_uri", "request URI must be a path");
		return;
	}
	q = strchr(uri, '?');
	plen = q ? (size_t)(q - uri) : strlen(uri);
	c->query = q ? q + 1 : NULL;
	if (strchr(uri, '#') != NULL ||
	    http_path_decode(uri, plen, c->path, sizeof c->path) != 0 ||
	    (c->query != NULL && !sigil_utf8_valid(c->query,
	    strlen(c->query))) || path_has_dotdot(c->path)) {
		reject(c, 400, "bad_uri",
		    "malformed path: bad percent-encoding, UTF-8 or segment");
		return;
	}
	if ((idx = route_find_for(srv, c->path, method)) < 0) {
		http_reply_error(c, 404, "not_found", "no such resource");
		return;
	}
	c->route = idx;
	r = &srv->routes[idx];
	/*
	 * A route that answers OPTIONS is open to every origin (the GS1
	 * resolver): its 405 and 429 carry the CORS headers as well, or a
	 * page's script could not even read why it was refused.
	 */
	if (r->flags & HTTP_ROUTE_OPTIONS) {
		http_add_header(c, "Access-Control-Allow-Origin", "*");
		http_add_header(c, "Access-Control-Allow-Methods",
		    "GET, HEAD, OPTIONS");
		http_add_header(c, "Access-Control-Allow-Headers",
		    "Accept, Accept-Language, Content-Type");
		http_add_header(c, "Access-Control-Expose-Headers",
		    "Link, Location, Content-Type, Retry-After");
	}
	if (!route_method_ok(r, method)) {
		http_add_header(c, "Allow", (r->flags & HTTP_ROUTE_POST) ?
		    "POST" : "GET, HEAD");
		http_reply_error(c, 405, "method_not_allowed",
		    "method not allowed here");
		return;
	}
	if ((r->flags & HTTP_ROUTE_CONSUMER) && srv->rate != NULL &&
	    !rate_allow(srv, c)) {
		srv->rate_limited++;
		http_reply_error(c, 429, "rate_limited",
		    "too many requests from this address");
		return;
	}
	r->fn(c);
}

/* ---- set-up ---- */

/*
 * The connection cap never exceeds what the descriptor limit leaves
 * after a reserve for the store, the log, webhooks and the SMS gateway:
 * at the cap the guard makes room by closing the idlest connection,
 * which it cannot do once accept() itself fails.
 */
#define FD_RESERVE	64

static unsigned
conns_within_fd_limit(unsigned want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return want;
	if (rl.rlim_cur <= 2 * FD_RESERVE)
		return want < rl.rlim_cur / 2 ? want : (unsigned)rl.rlim_cur / 2;
	if (want > rl.rlim_cur - FD_RESERVE) {
		log_info("conn_cap_lowered", "max_conns=%u nofile=%llu",
		    (unsigned)(rl.rlim_cur - FD_RESERVE),
		    (unsigned long long)rl.rlim_cur);
		return (unsigned)(rl.rlim_cur - FD_RESERVE);
	}
	return want;
}

static int
listen_parse(const char *s, struct sockaddr_storage *ss, int *sslen)
{
	char host[128];
	const char *colon = strrchr(s, ':');
	uint64_t port;
	size_t n;

	if (colon == NULL || (n = (size_t)(colon - s)) >= sizeof host ||
	    sigil_parse_u64(colon + 1, 65535, &port) != 0)
		return SIGIL_EINVAL;
	memcpy(host, s, n);
	host[n] = '\0';
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
		memmove(host, host + 1, n - 2);
		host[n - 2] = '\0';
	}
	memset(ss, 0, sizeof *ss);
	if (strcmp(host, "localhost") == 0)
		strcpy(host, "127.0.0.1");
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		*sslen = sizeof *sin;
	} else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		*sslen = sizeof *sin6;
	} else
		return SIGIL_EINVAL;
	return 0;
}

static int
tls_setup(struct http_server *srv)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (ctx == NULL)
		return SIGIL_ECRYPTO;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (SSL_CTX_use_certificate_chain_file(ctx, srv->cfg.tls_cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, srv->cfg.tls_key,
	    SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
		SSL_CTX_free(ctx);
		return SIGIL_EINVAL;
	}
	srv->ssl = ctx;
	return 0;
}

int
http_server_start(struct event_base *base, const struct http_config *cfg,
    const struct http_route *routes, size_t nroutes, void *app,
    struct http_server **out)
{
	struct http_server *srv;
	struct sockaddr_storage ss;
	struct conn_guard_config gcfg = { 0 };
	int sslen, err = SIGIL_EINVAL;

	if (nroutes > ROUTES_MAX || (cfg->tls_cert == NULL) !=
	    (cfg->tls_key == NULL))
		return SIGIL_EINVAL;
	if ((srv = calloc(1, sizeof *srv)) == NULL)
		return SIGIL_ENOMEM;
	srv->base = base;
	srv->cfg = *cfg;
	srv->routes = routes;
	srv->nroutes = nroutes;
	srv->app = app;
	gcfg.max_conns = conns_within_fd_limit(cfg->max_conns);
	gcfg.max_per_addr = cfg->max_conns_per_addr;
	if (gcfg.max_per_addr > gcfg.max_conns / 2)
		gcfg.max_per_addr = gcfg.max_conns / 2 > 0 ?
		    gcfg.max_conns / 2 : 1;
	gcfg.head_timeout_s = cfg->timeout_s;
	gcfg.body_min_rate = cfg->body_min_rate;
	gcfg.body_max = HTTP_CONSUMER_BODY_MAX;
	gcfg.tls = cfg->tls_cert != NULL;
	if ((cfg->rate_limit > 0 && ratelimit_new(RATE_SETS, RATELIMIT_WAYS,
	    cfg->rate_limit, 2.0 * cfg->rate_limit, cfg->rate_v6_56 ?
	    RATELIMIT_V6_56 : 0, &srv->rate) != 0) ||
	    conn_guard_new(base, &gcfg, &guard_ops, srv, &srv->guard) != 0) {
		err = SIGIL_ENOMEM;
		goto fail;
	}
	if (cfg->trusted_proxy != NULL) {
		char list[512], *tok, *save = NULL;

		if (strlen(cfg->trusted_proxy) >= sizeof list)
			goto fail;
		strcpy(list, cfg->trusted_proxy);
		for (tok = strtok_r(list, ",", &save); tok != NULL;
		    tok = strtok_r(NULL, ",", &save)) {
			if (srv->nproxies == HTTP_PROXIES_MAX ||
			    cidr_parse(tok, &srv->proxies[srv->nproxies]) != 0)
				goto fail;
			srv->nproxies++;
		}
	}
	if (cfg->tls_cert != NULL && (err = tls_setup(srv)) != 0)
		goto fail;
	err = SIGIL_EINVAL;
	if (listen_parse(cfg->listen, &ss, &sslen) != 0)
		goto fail;
	err = SIGIL_ENOMEM;
	if ((srv->http = evhttp_new(base)) == NULL)
		goto fail;
	evhttp_set_max_headers_size(srv->http, (ev_ssize_t)cfg->max_header_bytes);
	/* The guard raises it per request, from the head (conn_body_limit). */
	evhttp_set_max_body_size(srv->http, HTTP_CONSUMER_BODY_MAX);
	evhttp_set_timeout(srv->http, cfg->timeout_s);
	evhttp_set_allowed_methods(srv->http, EVHTTP_REQ_GET |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
	    EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
	evhttp_set_default_content_type(srv->http, "text/plain; charset=utf-8");
	evhttp_set_bevcb(srv->http, conn_bufferevent, srv);
	evhttp_set_gencb(srv->http, dispatch, srv);
	srv->listener = evconnlistener_new_bind(base, NULL, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
	    1024, (struct sockaddr *)&ss, sslen);
	if (srv->listener == NULL) {
		err = SIGIL_EIO;
		goto fail;
	}
	if ((srv->bound = evhttp_bind_listener(srv->http, srv->listener)) ==
	    NULL) {
		evconnlistener_free(srv->listener);
		srv->listener = NULL;
		err = SIGIL_EIO;
		goto fail;
	}
	conn_guard_listener(srv->guard, srv->listener);
	*out = srv;
	return 0;
fail:
	http_server_free(srv);
	return err;
}

int
http_server_port(struct http_server *srv)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	evutil_socket_t fd = evconnlistener_get_fd(srv->listener);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return -1;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

void
http_server_stop_accepting(struct http_server *srv)
{
	if (srv->bound != NULL) {
		conn_guard_listener(srv->guard, NULL);
		evhttp_del_accept_socket(srv->http, srv->bound);
		srv->bound = NULL;
		srv->listener = NULL;
	}
}

void
http_server_free(struct http_server *srv)
{
	if (srv == NULL)
		return;
	if (srv->http != NULL)
		evhttp_free(srv->http);
	SSL_CTX_free(srv->ssl);		/* NULL is fine */
	conn_guard_free(srv->guard);
	ratelimit_free(srv->rate);
	free(srv);
}
