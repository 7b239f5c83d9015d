/*
 * channel_sms.c - the "sms" channel: an outbox row's text to the
 * customer's phone through the operator's SMS gateway (--sms-webhook),
 * in the gateway format login codes use (otp.c): a POST of
 * {"phone": "+<E.164>", "text": ...} with X-Sigil-Timestamp and
 * X-Sigil-Signature ("v1=" HMAC-SHA256 under --sms-secret-file over
 * "<timestamp>.<body>"), through egress (the --webhook-allow policy,
 * https verified).
 *
 * The phone is not in the row: it is unsealed from the customer (the
 * survivor, if the customer was merged) when the message is sent, so an
 * erased customer has none and the row fails for good ("no_phone").
 * Without a gateway the row fails for good too ("no_gateway"): sigild
 * has nowhere to send it (the demo outbox file is for login codes).
 * A 2xx is sent; no answer, a 5xx, 408 or 429 are retried; any other
 * status and a refused address are failures.
 *
 * It also holds what the HTTP channels share (channel_impl.h): the retry
 * rule and channel_post, one POST whose answer goes to the dispatcher.
 *
 * Owns nothing past a send. May call customer.h (the phone), store
 * (reads), egress, webhook (signatures), util. Never logs the phone or
 * the text.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "sigil/app.h"
#include "sigil/customer.h"
#include "sigil/egress.h"
#include "sigil/loyalty_core.h"
#include "sigil/message.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "sigil/webhook.h"

#include "channel_impl.h"

struct post_req {
	channel_done_fn	 done;
	void		*arg;
};

int
channel_http_retry(int result, int status)
{
	if (result == EGRESS_NO_ANSWER || result == EGRESS_NO_ADDRESS)
		return 1;
	return result == EGRESS_STATUS && (status >= 500 || status == 408 ||
	    status == 429);
}

static void
post_answer(int result, int status, void *arg)
{
	struct post_req *r = arg;
	channel_done_fn done = r->done;
	void *darg = r->arg;

	free(r);
	done(darg, result == EGRESS_OK, channel_http_retry(result, status),
	    status, result == EGRESS_OK ? "ok" : egress_result_name(result));
}

int
channel_post(struct app *app, int tls, const char *host, int port,
    const char *path, const char *const *headers, const char *body,
    channel_done_fn done, void *arg)
{
	struct post_req *r;
	int rc;

	if ((r = malloc(sizeof *r)) == NULL)
		return SIGIL_ENOMEM;
	r->done = done;
	r->arg = arg;
	if ((rc = egress_post(app->egress, tls, host, port, path, headers,
	    body, strlen(body), MESSAGE_TIMEOUT_S, post_answer, r, NULL)) != 0)
		free(r);
	return rc;
}

int
channel_payload_text(const struct outbox_msg *m, char *out, size_t size)
{
	json_t *o = json_loads(m->payload, 0, NULL), *t;
	int rc = SIGIL_EINVAL;

	if (o != NULL && json_is_string(t = json_object_get(o, "text")) &&
	    json_string_length(t) > 0 && json_string_length(t) < size) {
		memcpy(out, json_string_value(t), json_string_length(t) + 1);
		rc = 0;
	}
	json_decref(o);
	return rc;
}

int
channel_customer(struct app *app, const struct outbox_msg *m,
    struct customer *out)
{
	int rc = store_customer_resolve(app->store, m->brand_id,
	    m->customer_id, out);

	if (rc == 0 && out->erased != 0)
		rc = SIGIL_ENOTFOUND;
	return rc;
}

static int
sms_send(struct app *app, const struct outbox_msg *m, channel_done_fn done,
    void *arg)
{
	struct loyalty *ly = app->loyalty;
	char phone[LOYALTY_PHONE_MAX + 2], ts[24], sig[WEBHOOK_SIG_LEN + 1];
	char text[CHANNEL_TEXT_MAX];
	const char *headers[] = { "User-Agent", "sigil-sms/1",
	    "X-Sigil-Timestamp", ts, "X-Sigil-Signature", sig, NULL };
	struct customer cu;
	int64_t now_s;
	json_t *o;
	char *body;
	int rc;

	if (ly == NULL || ly->sms == NULL) {
		done(arg, 0, 0, 0, "no_gateway");
		return 0;
	}
	if (channel_payload_text(m, text, sizeof text) != 0) {
		done(arg, 0, 0, 0, "bad_payload");
		return 0;
	}
	phone[0] = '+';
	if (channel_customer(app, m, &cu) != 0 ||
	    customer_phone(app, &cu, phone + 1, sizeof phone - 1) != 0 ||
	    phone[1] == '\0') {
		OPENSSL_cleanse(text, sizeof text);
		done(arg, 0, 0, 0, "no_phone");
		return 0;
	}
	o = json_pack("{s:s,s:s}", "phone", phone, "text", text);
	body = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	OPENSSL_cleanse(phone, sizeof phone);
	OPENSSL_cleanse(text, sizeof text);
	if (body == NULL)
		return SIGIL_ENOMEM;
	now_s = sigil_now_us() / 1000000;
	snprintf(ts, sizeof ts, "%lld", (long long)now_s);
	rc = SIGIL_ENOMEM;
	if (webhook_sign(ly->sms_secret, now_s, body, strlen(body), sig) == 0)
		rc = channel_post(app, ly->sms->tls, ly->sms->host,
		    ly->sms->port, ly->sms->path, headers, body, done, arg);
	OPENSSL_cleanse(body, strlen(body));
	free(body);
	return rc;
}

const struct channel_ops channel_sms = { "sms", sms_send };
