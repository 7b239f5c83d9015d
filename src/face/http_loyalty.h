/*
 * http_loyalty.h - request helpers the loyalty endpoints share (internal
 * to the HTTP face: src/face/loyalty_*.c only). Not handlers: each
 * either replies and says so, or leaves the reply to its caller.
 */
#ifndef SIGIL_HTTP_LOYALTY_H
#define SIGIL_HTTP_LOYALTY_H

#include <stddef.h>
#include <stdint.h>

struct app;
struct http_call;
struct json_t;

/* Replies 429 with Retry-After: retry_us, in whole seconds rounded up. */
void http_loyalty_too_many(struct http_call *c, int64_t retry_us,
    const char *code, const char *msg);

/*
 * The replies to an endpoint's refusals, as a table: the entry whose why
 * matches (an entry with why 0 matches any), ending with an entry of
 * status 0. With retry set the reply carries Retry-After: retry_us.
 */
struct loyalty_refusal {
	int		why;		/* error or result; 0: any */
	int		status;
	int		retry;
	const char	*code, *msg;
};
/* 1 when it replied to why, 0 when why is 0 or no entry matched. */
int http_loyalty_refuse(struct http_call *c, int why, int64_t retry_us,
    const struct loyalty_refusal *t);

/*
 * The reply to a write the writer did not take (err SIGIL_EBUSY: its
 * queue is full, or the server is shutting down): 503, and 1. 0, and no
 * reply, for any other err.
 */
int http_loyalty_busy(struct http_call *c, int err);

/*
 * A consumer POST body: JSON object, sent as application/json (a cross-
 * site form cannot send that type without a CORS preflight, which this
 * server never grants). NULL after replying.
 */
struct json_t *http_loyalty_body(struct http_call *c);

/* The device of the request's signed scan cookie: 0 or SIGIL_ENOTFOUND. */
int http_loyalty_device(struct app *app, struct http_call *c,
    uint64_t *device);

/* The query parameter name (valid UTF-8, shorter than size) copied into
 * out, or NULL. */
const char *http_loyalty_query(struct http_call *c, const char *name,
    char *out, size_t size);

/*
 * The customer the device is logged in as (its cookie), at the brand
 * named by ?code= or ?brand=, else the first brand it is logged in to:
 * 0, SIGIL_ENOTFOUND (no such brand or code), SIGIL_EDENIED (not logged
 * in). http_loyalty_session is the same or a reply (404 unknown_brand,
 * 401 login_required): 0, or -1 after replying.
 */
struct brand;
struct customer;
int http_loyalty_session_of(struct http_call *c, struct brand *b,
    struct customer *cu);
int http_loyalty_session(struct http_call *c, struct brand *b,
    struct customer *cu);
/* The 401 login_required reply: no customer (any more) for the call. */
void http_loyalty_login_required(struct http_call *c);

/*
 * The notice version v (a body's "notice_version") acknowledges, checked
 * against the brand's current notice: 0 and *version (0 when the brand
 * has no notice), or -1 after replying: 422 notice_required (missing),
 * 422 invalid (not a version number), 409 notice_changed (not the
 * current one; the error carries the current "notice_version").
 */
int http_loyalty_notice_ack(struct http_call *c, uint32_t brand_id,
    const struct json_t *v, uint32_t *version);

#endif
