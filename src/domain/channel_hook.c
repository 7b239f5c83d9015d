/*
 * channel_hook.c - the "webhook" channel: a message handed to the
 * brand's own system, through one of its CRM webhook subscriptions
 * (webhook.h), signed as every webhook delivery is (docs/webhooks.md):
 * X-Sigil-Timestamp, X-Sigil-Signature ("v1=" HMAC-SHA256 under the
 * subscription's secret over "<timestamp>.<body>") and X-Sigil-Delivery
 * ("m-<outbox id>": the same on a retry, so the receiver can drop a
 * duplicate). The body is one event:
 *   {"type": "message", "id": "m-<outbox id>", "message": <definition>,
 *    "customer": <id>, "text": ..., "created": time}
 * The customer is named by id, never by phone or openid: the brand's
 * system knows its members. A 2xx is sent; no answer, a 5xx, 408 or 429
 * are retried; a deleted subscription or any other status fails.
 *
 * Owns nothing past a send. May call webhook.h, store (reads), egress,
 * keyring, util. Never logs a secret or the text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "sigil/app.h"
#include "sigil/egress.h"
#include "sigil/message.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "sigil/webhook.h"

#include "channel_impl.h"

static int
hook_send(struct app *app, const struct outbox_msg *m, channel_done_fn done,
    void *arg)
{
	char delivery[32], created[SIGIL_TIME_LEN + 1];
	struct webhook_signed sh;
	struct webhook_url u;
	struct webhook w;
	json_t *p, *o;
	int64_t now_s = sigil_now_us() / 1000000;
	json_int_t sub;
	char *body;
	int rc;

	p = json_loads(m->payload, 0, NULL);
	sub = json_integer_value(json_object_get(p, "subscription"));
	snprintf(delivery, sizeof delivery, "m-%llu",
	    (unsigned long long)m->id);
	o = json_pack("{s:s,s:s,s:I,s:I,s:O?,s:s}", "type", "message", "id",
	    delivery, "message", (json_int_t)m->source, "customer",
	    (json_int_t)m->customer_id, "text", json_object_get(p, "text"),
	    "created", sigil_time_format(m->created, created));
	json_decref(p);
	body = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (body == NULL)
		return SIGIL_ENOMEM;
	if (sub <= 0 || sub > UINT32_MAX || store_webhook_get(app->store,
	    m->brand_id, (uint32_t)sub, &w) != 0 || !w.active ||
	    webhook_url_parse(w.url, &u) != 0) {
		free(body);
		done(arg, 0, 0, 0, "no_subscription");
		return 0;
	}
	if (webhook_sign_headers(app->keyring, &w, now_s, body, strlen(body),
	    delivery, &sh) != 0) {
		free(body);
		done(arg, 0, 0, 0, "no_secret");
		return 0;
	}
	rc = channel_post(app, u.tls, u.host, u.port, u.path, sh.headers, body,
	    done, arg);
	OPENSSL_cleanse(body, strlen(body));
	free(body);
	return rc;
}

const struct channel_ops channel_hook = { "webhook", hook_send };
