/*
 * loyalty_feedback.c - POST /api/v1/feedback and POST /feedback: what a
 * consumer says about the item just scanned, from the landing page (the
 * fake report's script posts JSON; the rating form after a genuine scan
 * is a plain HTML form, answered by a one-sentence page). Two kinds:
 *
 *   {"scan_id", "rating": 1..5, "text"?}            after a genuine scan
 *   {"scan_id", "kind": "fake", "where": 1..100 characters, "text"?,
 *    "photo"?: base64 (or a data: URL) of a JPEG or PNG <= 2 MiB}
 *                                                   after a suspect one
 *
 * Only the device that scanned may speak about the scan (its cookie);
 * the customer it is logged in as, if any, is named. A fake report may
 * come from a forged code: the brand is then the one whose key the
 * forger copied (scan_rec.attr_brand); a forged code of no brand has
 * nobody to tell (404). The photo is checked by its magic bytes (JPEG
 * FF D8 FF, PNG's 8-byte signature), never by what the client claims,
 * and kept for the brand only (api_feedback.c serves it back with
 * nosniff). The route takes bodies up to FEEDBACK_BODY_MAX for it
 * (route.c); every other consumer route stays at 16 KB.
 *
 * The write is one writer op (store_feedback_add: the activity entry,
 * the row, the photo and the rating-drop check in one transaction).
 *
 * A handler. May call the store (reads), scan ids, http, http_write and
 * http_loyalty.c; never another handler.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "sigil/app.h"
#include "sigil/http.h"
#include "sigil/http_write.h"
#include "sigil/log.h"
#include "sigil/loyalty.h"
#include "sigil/loyalty_util.h"
#include "sigil/page.h"
#include "sigil/scan.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "sigil/writer.h"
#include "http_loyalty.h"

static const char KEYS_HELP[] = "expected {\"scan_id\", \"rating\": 1..5, "
    "\"text\"} or {\"scan_id\", \"kind\": \"fake\", \"where\", \"text\", "
    "\"photo\"}";

/*
 * Who asked: the landing page's script (JSON answers) or its plain
 * rating form (POST /feedback: an HTML page answers, in the page's
 * language).
 */
struct fb_call {
	struct http_call	*c;
	int			html;
	int			en;	/* the form's page was English */
};

static const char *const form_text[][2] = {
	/* 0 thanks, 1 check input, 2 other device, 3 no scan, 4 busy */
	{ "谢谢您的评价！您可以关闭此页面。",
	  "Thank you for your rating! You may close this page." },
	{ "请检查输入的内容：选择 1 到 5 星，评价不超过 500 字。",
	  "Please check what you entered: 1 to 5 stars, at most 500 "
	  "characters." },
	{ "请用扫码的手机提交评价。",
	  "Send the rating from the phone that scanned the code." },
	{ "未找到此次查询，请重新扫码。",
	  "This check was not found; scan the code again." },
	{ "服务繁忙，请稍后再试。", "The service is busy; please try again." },
};

/* A small page of one sentence (the form's answer). */
static void
form_page(struct http_call *c, int status, int en, int which)
{
	struct evbuffer *b = evbuffer_new();

	if (b == NULL) {
		http_reply_error(c, 503, "unavailable", "try again");
		return;
	}
	evbuffer_add_printf(b, "<!DOCTYPE html>\n<html lang=\"%s\"><head>"
	    "<meta charset=\"utf-8\"><meta name=\"viewport\" content=\""
	    "width=device-width,initial-scale=1\"><meta name=\"robots\" "
	    "content=\"noindex\"><title>%s</title></head><body style=\""
	    "font:18px/1.5 sans-serif;margin:32px 20px\"><p id=\"fb-done\">"
	    "%s</p></body></html>\n", en ? "en" : "zh-CN", en ? "Feedback" :
	    "评价", form_text[which][en]);
	http_add_header(c, "Content-Security-Policy", "default-src 'none'; "
	    "style-src 'unsafe-inline'; frame-ancestors 'none'");
	http_add_header(c, "Cache-Control", "no-store");
	http_reply(c, status, "text/html; charset=utf-8", b);
	evbuffer_free(b);
}

/* A refusal: JSON {error} for the script, the form's page for a form. */
static void
fail(struct fb_call *x, int status, const char *code, const char *msg)
{
	if (!x->html) {
		http_reply_error(x->c, status, code, msg);
		return;
	}
	form_page(x->c, status, x->en, status == 403 ? 2 : status == 404 ? 3 :
	    status >= 500 ? 4 : 1);
}

/* The value of a base64 digit, or -1. */
static int
b64_val(unsigned char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

/*
 * Strict base64 (RFC 4648 section 4, padded) of s into a malloc'd
 * buffer of at most max bytes: 0 with *out, *len; -1 malformed, -2 too
 * large, -3 out of memory.
 */
static int
b64_decode(const char *s, size_t n, size_t max, uint8_t **out, size_t *len)
{
	uint8_t *b;
	size_t o = 0;

	if (n == 0 || n % 4 != 0)
		return -1;
	if (n / 4 * 3 > max + 2)
		return -2;
	if ((b = malloc(n / 4 * 3)) == NULL)
		return -3;
	for (size_t i = 0; i < n; i += 4) {
		int v[4], pad = 0;

		for (int j = 0; j < 4; j++) {
			if (s[i + j] == '=' && i + 4 == n && j >= 2) {
				v[j] = 0;
				pad++;
				continue;
			}
			if (pad || (v[j] = b64_val((unsigned char)s[i + j])) < 0) {
				free(b);
				return -1;
			}
		}
		b[o++] = (uint8_t)(v[0] << 2 | v[1] >> 4);
		if (pad < 2)
			b[o++] = (uint8_t)(v[1] << 4 | v[2] >> 2);
		if (pad < 1)
			b[o++] = (uint8_t)(v[2] << 6 | v[3]);
	}
	if (o > max) {
		free(b);
		return -2;
	}
	*out = b;
	*len = o;
	return 0;
}

/* The image type by its first bytes: FEEDBACK_PHOTO_*, NONE for neither. */
static int
photo_type(const uint8_t *p, size_t n)
{
	static const uint8_t png[8] = { 0x89, 'P', 'N', 'G', 0x0d, 0x0a,
	    0x1a, 0x0a };

	if (n >= 4 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff)
		return FEEDBACK_PHOTO_JPEG;
	if (n > sizeof png && memcmp(p, png, sizeof png) == 0)
		return FEEDBACK_PHOTO_PNG;
	return FEEDBACK_PHOTO_NONE;
}

/* A text field of at most max characters, "" when absent: 0 or -1
 * after replying 422 naming it. */
static int
text_field(struct fb_call *x, json_t *body, const char *key, size_t max,
    int flags, char *out, size_t size)
{
	json_t *v = json_object_get(body, key);
	struct sigil_text_err te;
	char msg[320];

	out[0] = '\0';
	if (v == NULL)
		return 0;
	if (!json_is_string(v) || json_string_length(v) >= size ||
	    sigil_text_check(json_string_value(v), json_string_length(v),
	    max, flags, &te) != 0) {
		if (!json_is_string(v) || json_string_length(v) >= size)
			snprintf(msg, sizeof msg, "field '%s' must be text of "
			    "at most %zu characters", key, max);
		else
			sigil_text_explain(key, max, flags, &te, msg,
			    sizeof msg);
		fail(x, 422, "invalid", msg);
		return -1;
	}
	memcpy(out, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

/* The photo field into n (a fake report's): 0, or -1 after replying. */
static int
photo_field(struct fb_call *x, json_t *body, struct feedback_new *n,
    uint8_t **bytes)
{
	json_t *v = json_object_get(body, "photo");
	const char *s, *comma;
	size_t len, got;
	int err;

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v)) {
		fail(x, 422, "invalid", "field 'photo' must be a "
		    "JPEG or PNG image in base64");
		return -1;
	}
	s = json_string_value(v);
	len = json_string_length(v);
	/* A data: URL's header says nothing we trust: the bytes decide. */
	if (strncmp(s, "data:", 5) == 0 && (comma = memchr(s, ',', len)) !=
	    NULL && comma - s < 64 && memmem(s, (size_t)(comma - s),
	    ";base64", 7) != NULL) {
		len -= (size_t)(comma + 1 - s);
		s = comma + 1;
	}
	err = b64_decode(s, len, FEEDBACK_PHOTO_MAX, bytes, &got);
	if (err == -2) {
		fail(x, 413, "too_large", "the photo is larger than "
		    "2 MiB");
		return -1;
	}
	if (err == -3) {
		fail(x, 503, "unavailable", "try again");
		return -1;
	}
	if (err != 0) {
		fail(x, 422, "invalid", "field 'photo' must be "
		    "base64 (RFC 4648, padded)");
		return -1;
	}
	if ((n->f.photo = photo_type(*bytes, got)) == FEEDBACK_PHOTO_NONE) {
		free(*bytes);
		*bytes = NULL;
		fail(x, 415, "unsupported_image", "the photo must "
		    "be a JPEG or PNG image");
		return -1;
	}
	n->f.photo_len = (uint32_t)got;
	n->photo = *bytes;
	return 0;
}

/* Checks the body into n: 0, or -1 after replying. */
static int
feedback_parse(struct fb_call *x, json_t *body, struct feedback_new *n,
    uint8_t **photo)
{
	static const char *const known[] = { "scan_id", "kind", "rating",
	    "text", "where", "photo" };
	json_t *kind = json_object_get(body, "kind");
	const char *key;
	json_t *val;

	json_object_foreach(body, key, val) {
		size_t i;

		for (i = 0; i < sizeof known / sizeof known[0]; i++)
			if (strcmp(key, known[i]) == 0)
				break;
		if (i == sizeof known / sizeof known[0]) {
			fail(x, 422, "invalid", KEYS_HELP);
			return -1;
		}
	}
	if (json_string_value(json_object_get(body, "scan_id")) == NULL ||
	    (kind != NULL && (!json_is_string(kind) ||
	    (strcmp(json_string_value(kind), "rating") != 0 &&
	    strcmp(json_string_value(kind), "fake") != 0)))) {
		fail(x, 422, "invalid", KEYS_HELP);
		return -1;
	}
	n->f.kind = kind != NULL && strcmp(json_string_value(kind), "fake") ==
	    0 ? FEEDBACK_FAKE : FEEDBACK_RATING;
	if (n->f.kind == FEEDBACK_RATING) {
		if (!loyalty_int_in(json_object_get(body, "rating"), 1, 5) ||
		    json_object_get(body, "where") != NULL ||
		    json_object_get(body, "photo") != NULL) {
			fail(x, 422, "invalid", "expected "
			    "{\"scan_id\", \"rating\": 1..5, \"text\": at most "
			    "500 characters}");
			return -1;
		}
		n->f.rating = (int)json_integer_value(json_object_get(body,
		    "rating"));
	} else if (json_object_get(body, "rating") != NULL) {
		fail(x, 422, "invalid", "a fake report has no "
		    "rating");
		return -1;
	}
	/* 500 characters, line breaks allowed (docs/api.md). */
	if (text_field(x, body, "text", STORE_FEEDBACK_MAX,
	    SIGIL_TEXT_EMPTY_OK | SIGIL_TEXT_MULTILINE, n->f.text,
	    sizeof n->f.text) != 0)
		return -1;
	if (n->f.kind == FEEDBACK_FAKE) {
		if (text_field(x, body, "where", FEEDBACK_WHERE_MAX, 0,
		    n->f.where, sizeof n->f.where) != 0)
			return -1;
		if (strspn(n->f.where, " ") == strlen(n->f.where)) {
			fail(x, 422, "invalid", "field 'where' must "
			    "say where the item was bought");
			return -1;
		}
		if (photo_field(x, body, n, photo) != 0)
			return -1;
	}
	return 0;
}

/* The writer op's argument: the store's feedback_new first (the op
 * passes the whole to store_feedback_add), then how to answer. */
struct fb_job {
	struct feedback_new	n;
	int			html, en;
};

WRITER_OP_STORE(op_feedback, "feedback", store_feedback_add);

static void
feedback_added(struct http_call *c, void *arg, int err)
{
	struct fb_job *j = arg;
	struct feedback_new *n = &j->n;
	struct fb_call x = { c, j->html, j->en };

	free((void *)n->photo);
	if (!j->html && http_loyalty_busy(c, err))
		return;
	/* Bad input is refused before; the store refusing it is no "retry". */
	if (err == SIGIL_EINVAL) {
		fail(&x, 422, "invalid", "the feedback could not be stored as "
		    "given");
		return;
	}
	if (err != 0) {
		fail(&x, 503, "unavailable", "try again");
		return;
	}
	if (n->alert_id != 0)
		log_info("feedback", "event=rating_drop brand=%u alert=%llu",
		    n->f.brand_id, (unsigned long long)n->alert_id);
	if (j->html)
		form_page(c, 200, j->en, 0);
	else
		http_reply_jsont(c, 201, json_pack("{s:I,s:s,s:i,s:b}", "id",
		    (json_int_t)n->f.id, "kind", n->f.kind == FEEDBACK_FAKE ?
		    "fake" : "rating", "rating", n->f.rating, "photo",
		    n->f.photo != FEEDBACK_PHOTO_NONE));
}

/* The checked body (stolen) of x: written, or refused. */
static void
feedback_take(struct fb_call *x, json_t *body)
{
	struct http_call *c = x->c;
	struct app *app = c->app;
	struct fb_job *j;
	struct feedback_new *n;
	struct scan_rec rec;
	struct batch b;
	uint8_t *photo = NULL;
	uint64_t id, device;
	uint32_t brand;

	/* 3 KB of text fields: off the stack. */
	if ((j = calloc(1, sizeof *j)) == NULL) {
		json_decref(body);
		fail(x, 503, "unavailable", "try again");
		return;
	}
	n = &j->n;
	j->html = x->html;
	j->en = x->en;
	if (feedback_parse(x, body, n, &photo) != 0)
		goto out;
	if (scan_id_parse(app->cookie_key, json_string_value(json_object_get(
	    body, "scan_id")), &id) != 0 ||
	    store_scan_get(app->store, id, &rec) != 0 ||
	    (brand = rec.brand_id != 0 ? rec.brand_id :
	    n->f.kind == FEEDBACK_FAKE ? rec.attr_brand : 0) == 0) {
		fail(x, 404, "not_found", "no such scan");
		goto out;
	}
	if (http_loyalty_device(app, c, &device) != 0 || device != rec.device) {
		fail(x, 403, "forbidden", "only the device that scanned may "
		    "give feedback on this scan");
		goto out;
	}
	store_device_customer(app->store, brand, device, &n->f.customer_id);
	n->f.brand_id = brand;
	n->f.scan_id = id;
	n->f.at = sigil_now_us();
	if (rec.brand_id != 0 && store_batch_get(app->store, rec.batch_id,
	    &b) == 0 && b.brand_id == brand) {
		n->f.batch_id = b.id;
		snprintf(n->f.sku, sizeof n->f.sku, "%s", b.sku);
	}
	json_decref(body);
	body = NULL;
	photo = NULL;		/* n->photo: feedback_added frees it */
	http_write(c, &op_feedback, j, sizeof *j, feedback_added);
out:
	free(photo);
	json_decref(body);
	free(j);
}

void
loyalty_feedback(struct http_call *c)
{
	struct fb_call x = { c, 0, 0 };
	json_t *body;

	if ((body = http_loyalty_body(c)) != NULL)
		feedback_take(&x, body);
}

/*
 * POST /feedback: the landing page's rating form without a script
 * (application/x-www-form-urlencoded: scan_id, rating, text), answered
 * in the language the landing page picks from Accept-Language. The
 * same checks and write as the JSON; the answer is a page. A cross-site
 * form cannot use it: it needs the scan's signed id, which only the
 * scanning device's page holds, and that device's cookie.
 */
void
loyalty_feedback_form(struct http_call *c)
{
	struct fb_call x = { c, 1, 0 };
	struct evkeyvalq q;
	const char *ct = http_header(c, "Content-Type"), *v;
	char *text;
	size_t len;
	uint64_t r;
	json_t *body;

	if (ct == NULL || strncasecmp(ct, "application/x-www-form-urlencoded",
	    33) != 0 || http_body_too_large(c) ||
	    (text = http_body_text(c, &len)) == NULL) {
		form_page(c, http_body_too_large(c) ? 413 : 400, 0, 1);
		return;
	}
	/* Form encoding writes a space as '+' (a '+' itself is %2B). */
	for (char *p = text; *p != '\0'; p++)
		if (*p == '+')
			*p = ' ';
	if (evhttp_parse_query_str(text, &q) != 0) {
		free(text);
		form_page(c, 400, 0, 1);
		return;
	}
	free(text);
	/* The answer in the language the landing page chose for the phone. */
	x.en = page_lang_pick(http_header(c, "Accept-Language")) ==
	    PAGE_LANG_EN;
	body = json_object();
	if ((v = evhttp_find_header(&q, "scan_id")) != NULL)
		json_object_set_new(body, "scan_id", json_string(v));
	if ((v = evhttp_find_header(&q, "rating")) != NULL)
		json_object_set_new(body, "rating", sigil_parse_u64(v, 5,
		    &r) == 0 ? json_integer((json_int_t)r) : json_string(v));
	if ((v = evhttp_find_header(&q, "text")) != NULL &&
	    (json_object_set_new(body, "text", json_string(v)) != 0 ||
	    json_object_get(body, "text") == NULL)) {
		/* Not UTF-8: json_string refused it. */
		evhttp_clear_headers(&q);
		json_decref(body);
		form_page(c, 422, x.en, 1);
		return;
	}
	evhttp_clear_headers(&q);
	feedback_take(&x, body);
}
