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
#include "sigil/code.h"
#include "sigil/consent.h"
#include "sigil/customer.h"
#include "sigil/lookup.h"
#include "sigil/store.h"
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

/* The customer the device is logged in as, for a brand named in query. */
int
http_loyalty_session_of(struct http_call *c, struct brand *b,
    struct customer *cu)
{
	struct app *app = c->app;
	char name[STORE_NAME_BYTES + 1], code[CODE_URL_MAX + 1];
	struct code_info info;
	uint64_t device;

	if (http_loyalty_device(app, c, &device) != 0)
		return SIGIL_EDENIED;
	if (http_loyalty_query(c, "code", code, sizeof code) != NULL) {
		if (lookup_code(app, code, &info) != 0)
			return SIGIL_ENOTFOUND;
		*b = info.brand;
	} else if (http_loyalty_query(c, "brand", name, sizeof name) != NULL) {
		if (store_brand_find(app->store, name, b) != 0)
			return SIGIL_ENOTFOUND;
	} else if (customer_first_brand(app, device, b) != 0)
		return SIGIL_EDENIED;
	return customer_of_device(app, b->id, device, cu);
}

void
http_loyalty_login_required(struct http_call *c)
{
	http_reply_error(c, 401, "login_required", "log in with your "
	    "phone number first (POST /api/v1/customers/otp)");
}

/* http_loyalty_session_of or a reply: 0, or -1 after replying. */
int
http_loyalty_session(struct http_call *c, struct brand *b, struct customer *cu)
{
	int err = http_loyalty_session_of(c, b, cu);

	if (err == 0)
		return 0;
	if (err == SIGIL_ENOTFOUND)
		http_reply_error(c, 404, "unknown_brand", "no such brand or "
		    "code");
	else
		http_loyalty_login_required(c);
	return -1;
}

/*
 * The notice version a body acknowledges, checked against the brand's
 * current one: 0 and *version, or -1 after replying (422 when missing
 * or not a number, 409 notice_changed when not the current one).
 */
int
http_loyalty_notice_ack(struct http_call *c, uint32_t brand_id,
    const json_t *v, uint32_t *version)
{
	int64_t cur = consent_notice_current(c->app, brand_id);

	*version = 0;
	if (cur < 0) {
		http_reply_error(c, 503, "unavailable", "storage error; try "
		    "again");
		return -1;
	}
	if (cur == 0)
		return 0;	/* no notice: nothing to acknowledge */
	if (v == NULL || json_is_null(v)) {
		http_reply_jsont(c, 422, json_pack("{s:{s:s,s:s,s:I}}",
		    "error", "code", "notice_required", "message", "show the "
		    "brand's privacy notice and send its 'notice_version'",
		    "notice_version", (json_int_t)cur));
		return -1;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    json_integer_value(v) > UINT32_MAX) {
		http_reply_error(c, 422, "invalid", "'notice_version' is the "
		    "version number of the notice shown");
		return -1;
	}
	if (json_integer_value(v) != cur) {
		http_reply_jsont(c, 409, json_pack("{s:{s:s,s:s,s:I}}",
		    "error", "code", "notice_changed", "message", "the notice "
		    "has a newer version: show it and send its version",
		    "notice_version", (json_int_t)cur));
		return -1;
	}
	*version = (uint32_t)cur;
	return 0;
}
