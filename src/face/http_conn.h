/*
 * http_conn.h - the connection guard under evhttp (internal to the HTTP
 * face: http.c and http_conn.c only). See the head comment of
 * http_conn.c for the design.
 */
#ifndef SIGIL_HTTP_CONN_H
#define SIGIL_HTTP_CONN_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct bufferevent;
struct evhttp_connection;
struct evconnlistener;
struct conn_guard;

/* What the guard read from a complete request head. */
struct conn_head {
	const char	*target;	/* request-target, NUL-terminated */
	const char	*authorization;	/* or NULL */
	const char	*cookie;	/* or NULL */
};

/*
 * The framing rules as a line parser over one head, fed its lines without
 * their end of line (CRLF or LF). Refuses (RFC 9112 §2.2, §5, §6.3): NUL
 * or a bare CR anywhere, a folded line, a field name that is not a token
 * (white space before the colon), a repeated or non-digit Content-Length
 * (18 digits at most), a repeated Transfer-Encoding or Host, and
 * Content-Length with Transfer-Encoding. Keeps bounded copies of the
 * request-target, Authorization and Cookie (the parser owns them).
 */
struct conn_head_parser {
	int		lines, n_cl, n_te, n_host, chunked, done;
	int64_t		cl;		/* -1 when absent */
	char		*target, *auth, *cookie;
	const char	*refused;	/* why, once refused */
};

/* Frees what p holds and makes it ready for a new head. */
void conn_head_parser_reset(struct conn_head_parser *p);
/* 0: more lines wanted; 1: the head is complete (an empty line after the
 * request line); -1: refused, and refused from then on. */
int conn_head_parser_line(struct conn_head_parser *p, const char *line,
    size_t len);

struct conn_guard_config {
	unsigned	max_conns;	/* all connections, counted at accept */
	unsigned	max_per_addr;	/* per IPv4 address / IPv6 /64; 0 = off */
	int		head_timeout_s;	/* the whole head, from ready */
	unsigned	body_min_rate;	/* bytes/s a body must keep up; 0 = off */
	size_t		body_max;	/* the limit unless ops->body_limit
					 * raises it for a larger body */
	int		tls;		/* refusals cannot be written in clear */
};

struct conn_guard_ops {
	/* The body limit for this head (a byte count); asked only when
	 * the body may exceed body_max (chunked, or a larger length). */
	size_t	(*body_limit)(void *arg, const struct conn_head *h);
	/* Is this peer exempt from the per-address cap (a trusted proxy)? */
	int	(*exempt)(void *arg, const uint8_t addr[16]);
	/* The connection is going away (before the guard forgets it). */
	void	(*closed)(void *arg, struct evhttp_connection *evcon);
};

struct conn_guard_stats {
	unsigned	open;
	uint64_t	total, refused_cap, refused_addr, evicted,
			head_timeouts, body_timeouts, framing, accept_errors;
};

int conn_guard_new(struct event_base *base, const struct conn_guard_config *,
    const struct conn_guard_ops *ops, void *arg, struct conn_guard **out);
void conn_guard_free(struct conn_guard *);

/* evhttp's bufferevent callback: wraps a new connection's bufferevent.
 * Called at accept, so this is where a connection starts to count. */
void conn_guard_attach(struct conn_guard *, struct bufferevent *bev);

/* The listener whose accept errors (EMFILE, ENFILE, ...) the guard
 * handles; NULL when it stops accepting. */
void conn_guard_listener(struct conn_guard *, struct evconnlistener *);

/* A request of evcon reached its handler / was answered. */
void conn_guard_busy(struct conn_guard *, struct evhttp_connection *evcon);
void conn_guard_idle(struct conn_guard *, struct evhttp_connection *evcon);

void conn_guard_stats(const struct conn_guard *, struct conn_guard_stats *);

#endif
