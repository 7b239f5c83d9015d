/*
 * http_conn.c - the connection guard: what evhttp does not bound.
 *
 * evhttp (libevent 2.1) parses and frames requests, but a hostile client
 * can hold it open for ever by dribbling a head one byte at a time (its
 * timeout is an inactivity timeout), make it buffer up to the global body
 * limit before any handler can look at the route or the token, frame a
 * request the way a front proxy would not (two Content-Lengths, "+2",
 * a NUL, "Name : value"), and, by opening more connections than the
 * process has descriptors, reach the accept error path. This file owns
 * those bounds, without touching evhttp's internals:
 *
 *   - Every connection is counted at accept: evhttp builds each new
 *     connection's bufferevent through our callback (conn_guard_attach),
 *     before it reads a byte. Right after the accept callback (a deferred
 *     event) the guard learns the evhttp_connection and the peer, and
 *     applies the caps: the global one (at the cap, the connection that
 *     has waited longest for a request head is closed to make room; if
 *     every connection is busy, the new one is refused) and the per-
 *     address one (IPv4 address, IPv6 /64; trusted proxies exempt).
 *   - It watches the raw bytes: a callback on the bufferevent's input
 *     buffer runs when bytes arrive, before evhttp parses them. While a
 *     head is arriving the guard reads its lines (bounded copies), refuses
 *     framing evhttp would accept (RFC 9112 §5, §6.3: repeated or non-
 *     digit Content-Length, Content-Length with Transfer-Encoding, a
 *     repeated Transfer-Encoding or Host, whitespace before the colon,
 *     obs-fold, NUL or bare CR) by setting the connection's header limit
 *     to 0, so that evhttp itself answers 400 and closes; and once the
 *     head is complete, if the body may exceed 16 KB, it asks http.c
 *     for the limit of that route and caller (the brand API's for an
 *     authenticated call, else 16 KB) and sets it on the connection, so that evhttp answers 413
 *     before it buffers a byte of a larger body.
 *   - Deadlines, swept once a second: the whole head must arrive within
 *     head_timeout_s of the connection becoming ready (accept, or the
 *     previous reply); a body must keep up body_min_rate bytes/s on top
 *     of that. A connection whose request is with a handler is never cut.
 *   - Accept errors: libevent calls the listener's error callback with
 *     evhttp's pointer, not ours, so the guard keeps the one listener it
 *     watches in a static. Out of descriptors, it closes the connections
 *     that have waited longest for a head, stops accepting for 100 ms and
 *     logs once a second at most.
 *
 * It may call libevent and log.c; it never looks at routes or tokens
 * itself (ops->body_limit does) and never frees a connection from inside
 * that connection's own callbacks (doomed framing is left to evhttp).
 */
#include <errno.h>
#include <stdio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>

#include "sigil/log.h"
#include "sigil/util.h"
#include "http_conn.h"

#define HEAD_LINE_MAX	8192	/* evhttp refuses longer heads anyway */
#define TARGET_MAX	4096
#define AUTH_MAX	256
#define COOKIE_MAX	4096
#define SHED_ON_EMFILE	16

enum phase { PH_HEAD, PH_BODY, PH_BUSY };

struct conn {
	struct conn_guard	*g;
	struct bufferevent	*bev;
	struct evhttp_connection *evcon;	/* NULL until bound */
	struct evbuffer_cb_entry *watch;
	TAILQ_ENTRY(conn)	link;	/* all, oldest phase first */
	struct conn		*fresh_next;
	int64_t			since_us, deadline_us;
	uint8_t			key[16];	/* address or /64; per-addr */
	int			counted_addr;
	enum phase		phase;
	/* the head being read */
	size_t			scanned;	/* bytes of it examined */
	int			head_done;
	struct conn_head_parser	hp;
};

struct addr_slot {
	uint8_t		key[16];
	unsigned	count;	/* 0 = empty */
};

struct conn_guard {
	struct conn_guard_config cfg;
	const struct conn_guard_ops *ops;
	void			*arg;
	TAILQ_HEAD(, conn)	conns;
	struct conn		*fresh;
	struct event		*fresh_ev, *sweep_ev, *resume_ev;
	struct evconnlistener	*listener;
	const void		**byevcon;	/* struct conn *, by evcon */
	size_t			nbyevcon;
	struct addr_slot	*addrs;
	size_t			naddrs;
	uint64_t		seed;
	int64_t			last_accept_log_us;
	struct conn_guard_stats	st;
};

static struct conn_guard *listener_owner;
static const char tombstone;

/* ---- tables ---- */

static uint64_t
mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static size_t
evcon_slot(const struct conn_guard *g, const void *evcon)
{
	return (size_t)(mix((uint64_t)(uintptr_t)evcon ^ g->seed) %
	    g->nbyevcon);
}

static struct conn *
byevcon_find(struct conn_guard *g, const void *evcon, size_t *at)
{
	size_t i = evcon_slot(g, evcon), free_at = SIZE_MAX;

	for (size_t n = 0; n < g->nbyevcon; n++, i = (i + 1) % g->nbyevcon) {
		const void *v = g->byevcon[i];

		if (v == NULL) {
			if (at != NULL)
				*at = free_at != SIZE_MAX ? free_at : i;
			return NULL;
		}
		if (v == &tombstone) {
			if (free_at == SIZE_MAX)
				free_at = i;
		} else if (((const struct conn *)v)->evcon == evcon) {
			if (at != NULL)
				*at = i;
			return (struct conn *)(uintptr_t)v;
		}
	}
	if (at != NULL)
		*at = free_at;
	return NULL;
}

/* The peer as a v4-mapped or v6 address, and its key for the
 * per-address cap: the whole IPv4 address, an IPv6 /64. */
static void
addr_key(const struct sockaddr *sa, uint8_t key[16], uint8_t full[16])
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };

	memset(full, 0, 16);
	if (sa != NULL && sa->sa_family == AF_INET) {
		full[10] = full[11] = 0xff;
		memcpy(full + 12, &((const struct sockaddr_in *)(const void *)
		    sa)->sin_addr, 4);
	} else if (sa != NULL && sa->sa_family == AF_INET6)
		memcpy(full, ((const struct sockaddr_in6 *)(const void *)
		    sa)->sin6_addr.s6_addr, 16);
	memset(key, 0, 16);
	memcpy(key, full, memcmp(full, mapped, 12) == 0 ? 16 : 8);
}

static size_t
addr_slot_of(const struct conn_guard *g, const uint8_t key[16])
{
	uint64_t a, b;

	memcpy(&a, key, 8);
	memcpy(&b, key + 8, 8);
	return (size_t)(mix(a ^ g->seed) ^ mix(b + g->seed) ) % g->naddrs;
}

/* The slot of key, or the empty slot where it would go. Linear probing
 * with backward-shift deletion (addr_release), so no tombstones. */
static struct addr_slot *
addr_find(struct conn_guard *g, const uint8_t key[16])
{
	size_t i = addr_slot_of(g, key);

	for (size_t n = 0; n < g->naddrs; n++, i = (i + 1) % g->naddrs)
		if (g->addrs[i].count == 0 ||
		    memcmp(g->addrs[i].key, key, 16) == 0)
			return &g->addrs[i];
	return NULL;
}

static void
addr_release(struct conn_guard *g, const uint8_t key[16])
{
	struct addr_slot *s = addr_find(g, key);
	size_t i, j;

	if (s == NULL || s->count == 0 || --s->count > 0)
		return;
	i = (size_t)(s - g->addrs);
	for (j = (i + 1) % g->naddrs; g->addrs[j].count != 0;
	    j = (j + 1) % g->naddrs) {
		size_t home = addr_slot_of(g, g->addrs[j].key);

		/* Move j back into the hole unless its home lies in (i, j]. */
		if ((i < j) ? (home <= i || home > j) : (home <= i && home > j)) {
			g->addrs[i] = g->addrs[j];
			g->addrs[j].count = 0;
			i = j;
		}
	}
}

/* ---- the list of connections (sys/queue.h, in phase order) ---- */

static void
phase_set(struct conn *c, enum phase p, int64_t deadline_us)
{
	c->phase = p;
	c->since_us = sigil_now_us();
	c->deadline_us = deadline_us;
	TAILQ_REMOVE(&c->g->conns, c, link);
	TAILQ_INSERT_TAIL(&c->g->conns, c, link);
}

/* ---- reading the head ---- */

/* The connection, also before bind_one has run. */
static struct evhttp_connection *
conn_evcon(struct conn *c)
{
	void *cbarg = NULL;

	if (c->evcon == NULL)
		bufferevent_getcb(c->bev, NULL, NULL, NULL, &cbarg);
	return c->evcon != NULL ? c->evcon : cbarg;
}

static void
head_reset(struct conn *c)
{
	conn_head_parser_reset(&c->hp);
	c->scanned = 0;
	c->head_done = 0;
}

/* The request is malformed: evhttp answers 400 and closes when it
 * parses its next head line, since no line fits in 0 bytes. */
static void
head_refuse(struct conn *c)
{
	struct evhttp_connection *evcon = conn_evcon(c);

	c->g->st.framing++;
	log_info("framing_refused", "why=%s", c->hp.refused);
	if (evcon != NULL)
		evhttp_connection_set_max_headers_size(evcon, 0);
	c->head_done = 1;
}

/* ---- the framing rules: a pure line parser ---- */

void
conn_head_parser_reset(struct conn_head_parser *p)
{
	free(p->target);
	free(p->auth);
	free(p->cookie);
	memset(p, 0, sizeof *p);
	p->cl = -1;
}

static int
is_tchar(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') || (ch != '\0' &&
	    strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

static char *
dup_bounded(const char *s, size_t n, size_t max)
{
	char *d;

	if (n > max)
		n = max;
	if ((d = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

static int
refuse(struct conn_head_parser *p, const char *why)
{
	p->refused = why;
	return -1;
}

/* One header field line. */
static int
head_field(struct conn_head_parser *p, const char *line, size_t len)
{
	const char *colon = memchr(line, ':', len), *v, *end = line + len;
	size_t nlen;

	if (line[0] == ' ' || line[0] == '\t')
		return refuse(p, "obs_fold");
	if (colon == NULL || colon == line)
		return refuse(p, "field_no_name");
	nlen = (size_t)(colon - line);
	for (size_t i = 0; i < nlen; i++)
		if (!is_tchar((unsigned char)line[i]))
			return refuse(p, "field_name");
	for (v = colon + 1; v < end && (*v == ' ' || *v == '\t'); v++)
		;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
#define NAME_IS(s) (nlen == sizeof(s) - 1 && strncasecmp(line, s, nlen) == 0)
	if (NAME_IS("Content-Length")) {
		int64_t n = 0;

		if (++p->n_cl > 1 || end == v || end - v > 18)
			return refuse(p, "content_length");
		for (const char *d = v; d < end; d++) {
			if (*d < '0' || *d > '9')
				return refuse(p, "content_length");
			n = n * 10 + (*d - '0');
		}
		p->cl = n;
	} else if (NAME_IS("Transfer-Encoding")) {
		if (++p->n_te > 1)
			return refuse(p, "transfer_encoding");
		p->chunked = (size_t)(end - v) == 7 &&
		    strncasecmp(v, "chunked", 7) == 0;
	} else if (NAME_IS("Host")) {
		if (++p->n_host > 1)
			return refuse(p, "host");
	} else if (NAME_IS("Authorization") && p->auth == NULL)
		p->auth = dup_bounded(v, (size_t)(end - v), AUTH_MAX);
	else if (NAME_IS("Cookie") && p->cookie == NULL)
		p->cookie = dup_bounded(v, (size_t)(end - v), COOKIE_MAX);
#undef NAME_IS
	if (p->n_cl > 0 && p->n_te > 0)
		return refuse(p, "content_length_with_transfer_encoding");
	return 0;
}

int
conn_head_parser_line(struct conn_head_parser *p, const char *line,
    size_t len)
{
	if (p->refused != NULL)
		return -1;
	if (p->done)
		return 1;
	if (memchr(line, '\0', len) != NULL || memchr(line, '\r', len) != NULL)
		return refuse(p, "control_in_head");
	if (len == 0) {
		/* Empty lines before the request line are skipped (RFC 9112
		 * §2.2); after it, the head is complete. */
		if (p->lines == 0)
			return 0;
		p->done = 1;
		return 1;
	}
	if (p->lines++ == 0) {
		const char *sp = memchr(line, ' ', len), *sp2;

		if (sp != NULL && (sp2 = memchr(sp + 1, ' ',
		    len - (size_t)(sp + 1 - line))) != NULL)
			p->target = dup_bounded(sp + 1, (size_t)(sp2 - sp - 1),
			    TARGET_MAX);
		return 0;
	}
	return head_field(p, line, len);
}

/* The head is complete: the body limit for this route and caller, and
 * the body's deadline. */
static void
head_complete(struct conn *c)
{
	struct conn_guard *g = c->g;
	struct conn_head h = { c->hp.target != NULL ? c->hp.target : "/",
	    c->hp.auth, c->hp.cookie };
	struct evhttp_connection *evcon = conn_evcon(c);
	size_t limit = g->cfg.body_max;
	int64_t now = sigil_now_us(), deadline;
	uint64_t body;

	/* Within the default limit (every scan) the route and the caller
	 * do not matter: no lookup on the hot path. */
	if (c->hp.chunked || c->hp.cl > (int64_t)limit)
		limit = g->ops->body_limit(g->arg, &h);
	body = c->hp.cl > 0 ? (uint64_t)c->hp.cl : c->hp.chunked ? limit : 0;
	c->head_done = 1;
	if (evcon != NULL)
		evhttp_connection_set_max_body_size(evcon, (ev_ssize_t)limit);
	if (body > limit)
		body = limit;	/* evhttp answers 413 before reading it */
	deadline = now + (int64_t)g->cfg.head_timeout_s * 1000000;
	if (g->cfg.body_min_rate > 0)
		deadline += (int64_t)(body * 1000000 / g->cfg.body_min_rate);
	if (c->phase != PH_BUSY)
		phase_set(c, PH_BODY, deadline);
	conn_head_parser_reset(&c->hp);
}

/* Reads the complete lines that arrived since the last call. */
static void
head_scan(struct conn *c, struct evbuffer *in)
{
	char line[HEAD_LINE_MAX];
	size_t avail = evbuffer_get_length(in);

	while (!c->head_done && c->scanned < avail) {
		struct evbuffer_ptr p, eol;
		size_t eol_len = 0, len;

		if (evbuffer_ptr_set(in, &p, c->scanned, EVBUFFER_PTR_SET) != 0)
			return;
		eol = evbuffer_search_eol(in, &p, &eol_len, EVBUFFER_EOL_CRLF);
		if (eol.pos < 0) {
			/* No end of line yet. */
			if (avail - c->scanned >= sizeof line) {
				c->hp.refused = "head_line_too_long";
				head_refuse(c);
			}
			return;
		}
		len = (size_t)eol.pos - c->scanned;
		if (len >= sizeof line) {
			c->hp.refused = "head_line_too_long";
			head_refuse(c);
			return;
		}
		evbuffer_copyout_from(in, &p, line, len);
		c->scanned += len + eol_len;
		switch (conn_head_parser_line(&c->hp, line, len)) {
		case -1:
			head_refuse(c);
			return;
		case 1:
			head_complete(c);
			return;
		}
	}
}

static void
input_changed(struct evbuffer *in, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct conn *c = arg;

	/* evhttp only ever drains from the front. */
	if (info->n_deleted > 0)
		c->scanned = info->n_deleted >= c->scanned ? 0 :
		    c->scanned - info->n_deleted;
	if (info->n_added > 0 && !c->head_done)
		head_scan(c, in);
}

/* ---- life and death ---- */

static void
conn_forget(struct conn_guard *g, struct conn *c)
{
	size_t at;

	if (c->evcon != NULL && byevcon_find(g, c->evcon, &at) == c)
		g->byevcon[at] = &tombstone;
	if (c->counted_addr)
		addr_release(g, c->key);
	if (c->watch != NULL)
		evbuffer_remove_cb_entry(bufferevent_get_input(c->bev),
		    c->watch);
	TAILQ_REMOVE(&g->conns, c, link);
	head_reset(c);
	g->st.open--;
	free(c);
}

static void
conn_closed(struct evhttp_connection *evcon, void *arg)
{
	struct conn *c = arg;
	struct conn_guard *g = c->g;

	g->ops->closed(g->arg, evcon);
	conn_forget(g, c);
}

/* Closes a connection from outside its callbacks. */
static void
conn_close(struct conn *c)
{
	evhttp_connection_free(c->evcon);	/* conn_closed frees c */
}

static void
refuse_plain(struct conn_guard *g, struct conn *c)
{
#define REFUSED_BODY "{\"error\":{\"code\":\"too_many_connections\"," \
	    "\"message\":\"too many open connections; try again\"}}\n"
	char msg[256];
	evutil_socket_t fd = bufferevent_getfd(c->bev);
	int n;

	if (g->cfg.tls || fd < 0)
		return;
	n = snprintf(msg, sizeof msg, "HTTP/1.1 503 Service Unavailable\r\n"
	    "Content-Type: application/json\r\nContent-Length: %zu\r\n"
	    "Retry-After: 1\r\nConnection: close\r\n\r\n%s",
	    sizeof REFUSED_BODY - 1, REFUSED_BODY);
#undef REFUSED_BODY
	/* Best effort: a full socket buffer just loses the courtesy. */
	if (n > 0 && (size_t)n < sizeof msg)
		(void)!send(fd, msg, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
}

/* The connection that has waited longest for a head, other than not. */
static struct conn *
oldest_waiting(struct conn_guard *g, const struct conn *not)
{
	struct conn *c;

	TAILQ_FOREACH(c, &g->conns, link)
		if (c != not && c->evcon != NULL && c->phase == PH_HEAD)
			return c;
	return NULL;
}

/*
 * A reply is sent whole. A page with its head over bufferevent's single
 * write (16 KB) leaves in two sends, and without TCP_NODELAY Nagle holds
 * the second until the client acknowledges the first, which a client in
 * delayed-ACK mode does after 40 ms: every scan on a kept-alive
 * connection then took 40 ms. Best effort (a Unix socket refuses it).
 */
static void
nodelay(evutil_socket_t fd)
{
	int one = 1;

	if (fd >= 0)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static void
bind_one(struct conn_guard *g, struct conn *c)
{
	void *cbarg = NULL;
	bufferevent_data_cb rcb = NULL;
	const struct sockaddr *sa;
	uint8_t full[16];
	size_t at;

	bufferevent_getcb(c->bev, &rcb, NULL, NULL, &cbarg);
	if (rcb == NULL || cbarg == NULL) {
		conn_forget(g, c);	/* evhttp has given it up already */
		return;
	}
	c->evcon = cbarg;
	evhttp_connection_set_closecb(c->evcon, conn_closed, c);
	if (byevcon_find(g, c->evcon, &at) != NULL || at == SIZE_MAX) {
		conn_close(c);
		return;
	}
	g->byevcon[at] = c;
	nodelay(bufferevent_getfd(c->bev));
	/* ... and in one send: a scan's page and its head are about 16.5 KB */
	(void)bufferevent_set_max_single_write(c->bev, 64 * 1024);
	sa = evhttp_connection_get_addr(c->evcon);
	addr_key(sa, c->key, full);
	if (g->cfg.max_per_addr > 0 && !g->ops->exempt(g->arg, full)) {
		struct addr_slot *s = addr_find(g, c->key);

		if (s == NULL || s->count >= g->cfg.max_per_addr) {
			g->st.refused_addr++;
			refuse_plain(g, c);
			conn_close(c);
			return;
		}
		if (s->count++ == 0)
			memcpy(s->key, c->key, 16);
		c->counted_addr = 1;
	}
	if (g->st.open > g->cfg.max_conns) {
		struct conn *victim = oldest_waiting(g, c);

		if (victim == NULL) {
			g->st.refused_cap++;
			refuse_plain(g, c);
			conn_close(c);
			return;
		}
		g->st.evicted++;
		conn_close(victim);
	}
}

static void
fresh_run(evutil_socket_t fd, short what, void *arg)
{
	struct conn_guard *g = arg;
	struct conn *c;

	(void)fd;
	(void)what;
	while ((c = g->fresh) != NULL) {
		struct bufferevent *bev = c->bev;

		g->fresh = c->fresh_next;
		c->fresh_next = NULL;
		bind_one(g, c);
		bufferevent_decref(bev);
	}
}

void
conn_guard_attach(struct conn_guard *g, struct bufferevent *bev)
{
	struct conn *c;

	if (bev == NULL || (c = calloc(1, sizeof *c)) == NULL)
		return;	/* unguarded, which the caps tolerate */
	c->g = g;
	c->bev = bev;
	c->hp.cl = -1;
	c->phase = PH_HEAD;
	c->since_us = sigil_now_us();
	if ((c->watch = evbuffer_add_cb(bufferevent_get_input(bev),
	    input_changed, c)) == NULL) {
		free(c);
		return;
	}
	TAILQ_INSERT_TAIL(&g->conns, c, link);
	g->st.open++;
	g->st.total++;
	/* The bufferevent outlives evhttp until fresh_run looks at it. */
	bufferevent_incref(bev);
	c->fresh_next = g->fresh;
	g->fresh = c;
	event_active(g->fresh_ev, EV_TIMEOUT, 0);
}

void
conn_guard_busy(struct conn_guard *g, struct evhttp_connection *evcon)
{
	struct conn *c = byevcon_find(g, evcon, NULL);

	if (c == NULL)
		return;
	phase_set(c, PH_BUSY, 0);
	/* The input now starts at the next request (a pipelined one may
	 * be there already): read its head from the start. */
	head_reset(c);
	head_scan(c, bufferevent_get_input(c->bev));
}

void
conn_guard_idle(struct conn_guard *g, struct evhttp_connection *evcon)
{
	struct conn *c = byevcon_find(g, evcon, NULL);

	if (c == NULL || c->phase != PH_BUSY)
		return;
	if (c->head_done)
		phase_set(c, PH_BODY, sigil_now_us() +
		    (int64_t)g->cfg.head_timeout_s * 1000000);
	else
		phase_set(c, PH_HEAD, 0);
}

/* ---- deadlines and accept errors ---- */

static void
sweep(evutil_socket_t fd, short what, void *arg)
{
	struct conn_guard *g = arg;
	int64_t now = sigil_now_us(), head_us = (int64_t)g->cfg.head_timeout_s *
	    1000000;
	unsigned cut_head = 0, cut_body = 0;
	struct conn *c, *next;

	(void)fd;
	(void)what;
	for (c = TAILQ_FIRST(&g->conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, link);
		if (c->evcon == NULL)
			continue;
		if (c->phase == PH_HEAD && now - c->since_us > head_us) {
			cut_head++;
			conn_close(c);
		} else if (c->phase == PH_BODY && now > c->deadline_us) {
			cut_body++;
			conn_close(c);
		}
	}
	g->st.head_timeouts += cut_head;
	g->st.body_timeouts += cut_body;
	if (cut_head + cut_body > 0)
		log_info("slow_clients_cut", "head=%u body=%u open=%u",
		    cut_head, cut_body, g->st.open);
}

static void
accept_resume(evutil_socket_t fd, short what, void *arg)
{
	struct conn_guard *g = arg;

	(void)fd;
	(void)what;
	if (g->listener != NULL)
		evconnlistener_enable(g->listener);
}

static void
accept_error(struct evconnlistener *l, void *arg)
{
	struct conn_guard *g = listener_owner;
	struct timeval tv = { 0, 100000 };
	int err = errno;
	int64_t now = sigil_now_us();

	(void)arg;	/* evhttp's, not ours */
	if (g == NULL || l != g->listener)
		return;
	g->st.accept_errors++;
	if (now - g->last_accept_log_us >= 1000000) {
		g->last_accept_log_us = now;
		log_warn("accept", "err=\"%s\" open=%u errors=%llu",
		    strerror(err), g->st.open,
		    (unsigned long long)g->st.accept_errors);
	}
	/* Out of descriptors: make room from the idlest, pause briefly. */
	if (err == EMFILE || err == ENFILE || err == ENOBUFS ||
	    err == ENOMEM)
		for (int i = 0; i < SHED_ON_EMFILE; i++) {
			struct conn *c = oldest_waiting(g, NULL);

			if (c == NULL)
				break;
			g->st.evicted++;
			conn_close(c);
		}
	evconnlistener_disable(l);
	evtimer_add(g->resume_ev, &tv);
}

void
conn_guard_listener(struct conn_guard *g, struct evconnlistener *l)
{
	g->listener = l;
	if (l != NULL) {
		listener_owner = g;
		evconnlistener_set_error_cb(l, accept_error);
	} else if (listener_owner == g)
		listener_owner = NULL;
}

/* ---- set-up ---- */

int
conn_guard_new(struct event_base *base, const struct conn_guard_config *cfg,
    const struct conn_guard_ops *ops, void *arg, struct conn_guard **out)
{
	struct conn_guard *g;
	struct timeval second = { 1, 0 };

	if ((g = calloc(1, sizeof *g)) == NULL)
		return SIGIL_ENOMEM;
	TAILQ_INIT(&g->conns);
	g->cfg = *cfg;
	g->ops = ops;
	g->arg = arg;
	/* Room for the cap plus what one burst of accepts may add. */
	g->nbyevcon = (size_t)cfg->max_conns * 2 + 2048;
	g->naddrs = g->nbyevcon;
	if (sigil_random(&g->seed, sizeof g->seed) != 0 ||
	    (g->byevcon = calloc(g->nbyevcon, sizeof *g->byevcon)) == NULL ||
	    (g->addrs = calloc(g->naddrs, sizeof *g->addrs)) == NULL ||
	    (g->fresh_ev = event_new(base, -1, 0, fresh_run, g)) == NULL ||
	    (g->sweep_ev = event_new(base, -1, EV_PERSIST, sweep, g)) ==
	    NULL || (g->resume_ev = evtimer_new(base, accept_resume, g)) ==
	    NULL || event_add(g->sweep_ev, &second) != 0) {
		conn_guard_free(g);
		return SIGIL_ENOMEM;
	}
	*out = g;
	return 0;
}

static void
event_drop(struct event *ev)
{
	if (ev != NULL)
		event_free(ev);
}

void
conn_guard_free(struct conn_guard *g)
{
	if (g == NULL)
		return;
	if (listener_owner == g)
		listener_owner = NULL;
	/* evhttp_free() has closed every connection (conn_closed). */
	while (g->fresh != NULL) {
		struct conn *c = g->fresh;

		g->fresh = c->fresh_next;
		bufferevent_decref(c->bev);
	}
	while (!TAILQ_EMPTY(&g->conns)) {
		struct conn *c = TAILQ_FIRST(&g->conns);

		TAILQ_REMOVE(&g->conns, c, link);
		head_reset(c);
		free(c);
	}
	event_drop(g->fresh_ev);
	event_drop(g->sweep_ev);
	event_drop(g->resume_ev);
	free(g->byevcon);
	free(g->addrs);
	free(g);
}

void
conn_guard_stats(const struct conn_guard *g, struct conn_guard_stats *out)
{
	*out = g->st;
}
