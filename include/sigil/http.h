/*
 * http.h - the HTTP front: listening, limits, routing, replies, metrics.
 *
 * Handlers receive a struct http_call that lives until they reply with
 * exactly one of http_reply*() (which sends, counts and frees it). A
 * handler may keep the call and reply later, from another event callback
 * on the same loop (the scan handler replies after the writer commits).
 */
#ifndef SIGIL_HTTP_H
#define SIGIL_HTTP_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct evhttp_request;
struct evbuffer;
struct http_server;
struct json_t;

/* Consumer endpoints take small JSON bodies; the brand API bulk ones
 * (100,000 code URLs, about 5.5 MB) need max_body_bytes (8 MiB). The
 * limit is decided from the request head, before any body byte is
 * buffered (http_conn.c): the large one only for an authenticated brand
 * API call. */
#define HTTP_CONSUMER_BODY_MAX	(16 * 1024)

struct http_config {
	const char	*listen;	/* "HOST:PORT" */
	const char	*tls_cert, *tls_key;	/* both or neither */
	const char	*trusted_proxy;	/* CIDR list, comma-separated, or NULL */
	unsigned	rate_limit;	/* consumer req/s per client; 0 = off */
	unsigned	max_conns;	/* lowered to fit the descriptor limit */
	unsigned	max_conns_per_addr;	/* IPv4 address, IPv6 /64 */
	int		rate_v6_56;	/* also limit per IPv6 /56 (x4) */
	size_t		max_header_bytes, max_body_bytes;
	int		timeout_s;	/* inactivity, and the whole head */
	unsigned	body_min_rate;	/* bytes/s on top of timeout_s; 0 off */
	/* Does this head carry a live brand credential (the Authorization
	 * and Cookie values, either may be NULL)? Only then may a brand API
	 * body exceed HTTP_CONSUMER_BODY_MAX. NULL: never. */
	int		(*head_auth)(void *app, const char *authorization,
			    const char *cookie);
	int		hsts;		/* send Strict-Transport-Security */
};

struct http_call {
	struct evhttp_request *req;
	struct http_server *srv;
	int		method;		/* enum evhttp_cmd_type */
	int		route;		/* index into the route table */
	char		path[1024];	/* percent-decoded, valid UTF-8 */
	const char	*query;		/* raw query string or NULL */
	uint8_t		client[16];	/* client address, v4-mapped */
	char		client_text[48];
	void		*app;		/* the application's context */
	/*
	 * Who is calling, once the brand API's router authenticated a token
	 * or a dashboard session (route_api.c); kind 0 for everyone else
	 * (consumers, the public). A write submitted with http_write() by a
	 * call with a kind is recorded in the audit trail.
	 */
	struct {
		int		kind;	/* enum audit_actor_kind, 0 none */
		int		role;	/* enum token_role */
		uint32_t	brand_id;
		uint32_t	id;	/* token id, or dashboard user id */
	} who;
};

enum http_route_flags {
	HTTP_ROUTE_PREFIX = 1 << 0,	/* path starts with pattern */
	HTTP_ROUTE_CONSUMER = 1 << 1,	/* per-client rate limit applies */
	HTTP_ROUTE_GET = 1 << 2,	/* GET and HEAD */
	HTTP_ROUTE_POST = 1 << 3,
	HTTP_ROUTE_DELETE = 1 << 4,
	HTTP_ROUTE_BRAND = 1 << 5,	/* brand API: larger bodies allowed */
	HTTP_ROUTE_PATCH = 1 << 6,
	HTTP_ROUTE_PUT = 1 << 7,
	HTTP_ROUTE_OPTIONS = 1 << 8,	/* the handler answers OPTIONS; every
					   answer carries CORS headers */
};

struct http_route {
	const char	*pattern;
	int		flags;
	const char	*name;		/* metrics label */
	void		(*fn)(struct http_call *c);
	/* A brand route's own, lower body limit (images: 2 MiB), applied
	 * from the head like the others; 0: max_body_bytes. A consumer
	 * route's own, higher limit (the fake report's photo), for every
	 * caller; 0: HTTP_CONSUMER_BODY_MAX. */
	size_t		body_max;
};

/*
 * Binds and starts serving on base. routes must outlive the server.
 * 0, SIGIL_EINVAL (bad listen address, TLS files), SIGIL_EIO (bind).
 */
int http_server_start(struct event_base *base, const struct http_config *cfg,
    const struct http_route *routes, size_t nroutes, void *app,
    struct http_server **out);

/* Stops accepting new connections (SIGTERM); open ones go on. */
void http_server_stop_accepting(struct http_server *srv);
void http_server_free(struct http_server *srv);
/* The bound port (useful with port 0). */
int http_server_port(struct http_server *srv);

/* Replies. Each sends, updates the metrics and frees c. */
void http_reply(struct http_call *c, int status, const char *content_type,
    struct evbuffer *body);
void http_reply_json(struct http_call *c, int status, const char *json);
/* The same with another JSON media type (application/linkset+json). */
void http_reply_json_type(struct http_call *c, int status, const char *type,
    const char *json);
/* Sends o (a jansson json_t *, reference stolen) as compact JSON. */
void http_reply_jsont(struct http_call *c, int status, void *o);
/* {"error":{"code":code,"message":message}} */
void http_reply_error(struct http_call *c, int status, const char *code,
    const char *message);

/*
 * Streaming replies for large bodies (print files, exports). After
 * http_stream_start() the handler produces the body piece by piece: next
 * is called whenever the previous piece has been written, and appends
 * the next piece to out, returning 1 while more follows and 0 at the end
 * (the reply is then finished and c freed). A piece may be empty while
 * more follows (1): next is then called again on the loop's next turn,
 * after the events waiting, so a search that finds nothing for a while
 * never holds the loop. If the client goes away, gone is called once
 * instead and c is freed; the handler frees its own state in whichever
 * of the two comes last.
 */
struct http_stream_ops {
	int	(*next)(struct http_call *c, void *arg, struct evbuffer *out);
	void	(*gone)(struct http_call *c, void *arg);
};
void http_stream_start(struct http_call *c, int status,
    const char *content_type, const struct http_stream_ops *ops, void *arg);
/*
 * A body made elsewhere (a worker thread): next may also return
 * HTTP_STREAM_WAIT with nothing appended when no piece is ready yet;
 * the handler then calls http_stream_wake(c) on the loop thread once one
 * is (or the body has ended), and next is called again. A wake while
 * next is not waiting does nothing (the piece in flight calls next when
 * it has been written).
 */
#define HTTP_STREAM_WAIT 2
void http_stream_wake(struct http_call *c);
/*
 * One CSV cell of a streamed export (http_csv.c): quoted, line breaks
 * dropped, a leading = + - @ or tab defused with '; NULL is empty; last
 * ends the row (CRLF), else a comma follows.
 */
void http_csv_cell(struct evbuffer *out, const char *v, int last);
/*
 * The customer columns of the customer and segment exports (http_csv.c):
 * member_summary's keys, and their headers in a Chinese file.
 */
#define HTTP_CSV_CUSTOMER_COLS	11
extern const char *const http_csv_customer_cols[HTTP_CSV_CUSTOMER_COLS];
extern const char *const http_csv_customer_cols_zh[HTTP_CSV_CUSTOMER_COLS];
/* v in a Chinese file, the dashboard's words (web/admin/app.js) for
 * roles, segments and the segment export's extra columns; else v. */
const char *http_csv_zh(const char *v);
/* A customer export's start: the UTF-8 BOM and the customer columns'
 * headers (Chinese if zh); last ends the row after them. */
void http_csv_customer_head(struct evbuffer *out, int zh, int last);
/*
 * The gone of a streamed export whose state is one malloc'd block: frees
 * arg (http_csv.c; next frees it itself when it returns 0).
 */
void http_csv_gone(struct http_call *c, void *arg);

/* Request helpers. */
const char *http_header(struct http_call *c, const char *name);
/*
 * The request body as a NUL-terminated string (valid UTF-8, no NUL
 * inside), or NULL when it is absent, too large or not text.
 */
char *http_body_text(struct http_call *c, size_t *len);
/* 1 when the body is larger than this route accepts (answer 413). */
int http_body_too_large(struct http_call *c);
/*
 * The brand API's JSON body: 0 with *out a JSON object (the caller
 * decrefs it), or -1 with *out NULL after replying 413 (too large, or
 * more than SIGIL_JSON_VALUES_MAX values) or 400 bad_json, whose message
 * is unreadable when the body is absent or not UTF-8 text.
 */
int http_body_json(struct http_call *c, const char *unreadable,
    struct json_t **out);
/* The value of cookie name, copied into out (size bytes); 0 or ENOTFOUND. */
int http_cookie(struct http_call *c, const char *name, char *out,
    size_t size);
/* The same over a Cookie header value (NULL: not found). */
int http_cookie_in(const char *cookie_header, const char *name, char *out,
    size_t size);
void http_add_header(struct http_call *c, const char *name,
    const char *value);
/*
 * The percent-decoded value of query parameter name, copied into out
 * (size bytes), or NULL when absent or too long. Bytes are as sent: the
 * caller checks what it needs (UTF-8, controls).
 */
const char *http_query(struct http_call *c, const char *name, char *out,
    size_t size);

/* Appends the server's Prometheus metrics to out. */
void http_metrics(struct http_server *srv, struct evbuffer *out);

/* Validating percent-decoder: 0 or SIGIL_EINVAL (bad escape, %00, bad
 * UTF-8, too long). Exposed for the fuzz target. */
int http_path_decode(const char *in, size_t len, char *out, size_t size);

#endif
