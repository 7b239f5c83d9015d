/*
 * http_loyalty.c - what the loyalty endpoints share on the HTTP side:
 * the replies to their refusals (a table per endpoint, Retry-After for
 * the limits) and to a write the writer did not take, the consumer JSON
 * body, the device cookie, a query parameter.
 *
 * Owns no state and no route. May call http, scan (the cookie check)
 * and jansson. Never calls a handler and holds no loyalty rule: the
 * endpoints in src/face/loyalty_*.c call it, and never each other.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sigil/app.h"
#include "sigil/http.h"
#include "sigil/loyalty_util.h"
#include "sigil/scan.h"
#include "sigil/util.h"
#include "http_loyalty.h"

static void
reply_retry(struct http_call *c, int status, int64_t retry_us,
    const char *code, const char *msg)
{
	char s[24];

	snprintf(s, sizeof s, "%lld", (long long)(retry_us / US_PER_S + 1));
	http_add_header(c, "Retry-After", s);
	http_reply_error(c, status, code, msg);
}

void
http_loyalty_too_many(struct http_call *c, int64_t retry_us, const char *code,
    const char *msg)
{
	reply_retry(c, 429, retry_us, code, msg);
}

int
http_loyalty_refuse(struct http_call *c, int why, int64_t retry_us,
    const struct loyalty_refusal *t)
{
	if (why == 0)
		return 0;
	for (; t->status != 0; t++) {
		if (t->why != why && t->why != 0)
			continue;
		if (t->retry)
			reply_retry(c, t->status, retry_us, t->code, t->msg);
		else
			http_reply_error(c, t->status, t->code, t->msg);
		return 1;
	}
	return 0;
}

int
http_loyalty_busy(struct http_call *c, int err)
{
	if (err != SIGIL_EBUSY)
		return 0;
	http_reply_error(c, 503, "unavailable",
	    "the server is busy or shutting down; try again");
	return 1;
}

json_t *
http_loyalty_body(struct http_call *c)
{
	const char *type = http_header(c, "Content-Type");
	json_error_t jerr;
	json_t *o;
	size_t len;
	char *text;

	if (http_body_too_large(c)) {
		http_reply_error(c, 413, "too_large", "body too large");
		return NULL;
	}
	if (type == NULL || strncmp(type, "application/json", 16) != 0) {
		http_reply_error(c, 415, "unsupported_media_type",
		    "send Content-Type: application/json");
		return NULL;
	}
	o = NULL;
	if ((text = http_body_text(c, &len)) == NULL ||
	    (o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr)) ==
	    NULL || !json_is_object(o)) {
		json_decref(o);
		free(text);
		http_reply_error(c, 400, "bad_json", "expected a JSON object");
		return NULL;
	}
	free(text);
	return o;
}

int
http_loyalty_device(struct app *app, struct http_call *c, uint64_t *device)
{
	char value[64];

	if (http_cookie(c, SCAN_COOKIE_NAME, value, sizeof value) == 0 &&
	    scan_cookie_check(app->cookie_key, value, device) == 0)
		return 0;
	return SIGIL_ENOTFOUND;
}

const char *
http_loyalty_query(struct http_call *c, const char *name, char *out,
    size_t size)
{
	if (http_query(c, name, out, size) == NULL ||
	    !sigil_utf8_valid(out, strlen(out)))
		return NULL;
	return out;
}
