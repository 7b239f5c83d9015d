/*
 * webhook.h - CRM webhooks: per-brand subscriptions to scan, claim and
 * customer events, delivered as signed JSON batches, at least once, in
 * log order. The scan log and the activity log are the outbox: each
 * subscription keeps a cursor into both (struct webhook in store.h), so
 * a scan costs no extra write. See docs/webhooks.md for the wire format.
 */
#ifndef SIGIL_WEBHOOK_H
#define SIGIL_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>

#include "sigil/store.h"

struct app;
struct egress_policy;
struct json_t;
struct keyring;

#define WEBHOOK_SECRET_LEN	64	/* hex of 32 random bytes */
#define WEBHOOK_SIG_LEN		(3 + 64)	/* "v1=" + hex HMAC-SHA256 */
#define WEBHOOK_BATCH_MAX	100	/* events per delivery */
#define WEBHOOK_SCAN_WINDOW	10000	/* scan log records examined per try */
#define WEBHOOK_TIMEOUT_S	10
#define WEBHOOK_BACKOFF_MAX_S	3600
#define WEBHOOK_TICK_MS		200
#define WEBHOOK_ID_MAX		48	/* longest event id, NUL excluded */

/* A parsed subscription URL: http or https, a host, a port, a path. */
struct webhook_url {
	int	tls;
	char	host[STORE_URL_MAX + 1];	/* no brackets around IPv6 */
	int	port;
	char	path[STORE_URL_MAX + 1];	/* "/" when absent; query kept */
};

/*
 * Parses url: "http://" or "https://", a host (name, IPv4 or [IPv6]),
 * an optional port 1..65535, an optional path (and query). At most
 * STORE_URL_MAX bytes, printable ASCII only, no user info, no fragment.
 * 0 or SIGIL_EINVAL; *out set on success only.
 */
int webhook_url_parse(const char *url, struct webhook_url *out);

/*
 * Whether url may be a webhook or SMS-gateway target: it parses (as
 * above; numeric hosts only as canonical dotted quads), has no user
 * info, and its host is a name (checked at each delivery on what it
 * resolves to) or an address p allows (egress.h). 0, or SIGIL_EINVAL
 * (malformed) / SIGIL_EDENIED (refused address or metadata name) with
 * *why set to a sentence for the user.
 */
int webhook_target_check(const struct egress_policy *p, const char *url,
    const char **why);

/* "scan" -> HOOK_SCAN, "claim" -> HOOK_CLAIM, "customer" ->
 * HOOK_CUSTOMER; 0 for anything else. */
int webhook_event_bit(const char *name);

/* The enum webhook_events bit an activity type is delivered under, or 0
 * when subscriptions never carry it. */
int webhook_activity_bit(int type);

/*
 * Creates a subscription of brand_id for url and the events mask: draws
 * a 32-byte secret, seals it with AES-256-GCM under the keyring secret
 * "webhook-enc" (the brand id is the associated data) and stores the
 * subscription with both cursors at the current end of the logs, so it
 * delivers what happens from now on. secret gets the hex secret, shown
 * to the caller once. SIGIL_EINVAL for a bad url or mask, SIGIL_ECRYPTO,
 * and what store_webhook_add returns. *out and secret set on success.
 */
int webhook_create(struct store *st, struct keyring *kr, uint32_t brand_id,
    const char *url, int events, struct webhook *out,
    char secret[WEBHOOK_SECRET_LEN + 1]);
/*
 * The same but for the store write: *out is ready for store_webhook_add
 * (sigild runs that on the writer thread). Reads the store and may
 * create the keyring secret. The same errors, but for the add's.
 */
int webhook_prepare(struct store *st, struct keyring *kr, uint32_t brand_id,
    const char *url, int events, struct webhook *out,
    char secret[WEBHOOK_SECRET_LEN + 1]);

/*
 * Makes sure the keyring secret subscriptions are sealed under exists,
 * creating it: at start-up, so that no request rewrites the keyring
 * from inside the loop. 0 or keyring_secret's error.
 */
int webhook_seal_ready(struct keyring *kr);

/* Unseals w's secret into hex. 0, SIGIL_ENOTFOUND (no keyring secret),
 * SIGIL_EFORGED (ciphertext altered or of another brand). */
int webhook_secret_open(struct keyring *kr, const struct webhook *w,
    char secret[WEBHOOK_SECRET_LEN + 1]);

/*
 * "v1=" + hex HMAC-SHA256 keyed with the secret as shown (its 64 ASCII
 * hex bytes) over "<timestamp>.<body>". 0 or SIGIL_ECRYPTO; out set on
 * success only.
 */
int webhook_sign(const char *secret, int64_t timestamp, const char *body,
    size_t len, char out[WEBHOOK_SIG_LEN + 1]);

/*
 * The headers of one signed POST of body to w's receiver: User-Agent
 * sigil-webhook/1, X-Sigil-Timestamp (now_s), X-Sigil-Signature
 * (webhook_sign under w's secret, unsealed and wiped here) and
 * X-Sigil-Delivery, NULL-terminated in out->headers. They point into
 * *out and at delivery, so out is used where it is, never copied. 0, or
 * webhook_secret_open's or webhook_sign's error.
 */
struct webhook_signed {
	char		 ts[24];
	char		 sig[WEBHOOK_SIG_LEN + 1];
	const char	*headers[9];
};
int webhook_sign_headers(struct keyring *kr, const struct webhook *w,
    int64_t now_s, const char *body, size_t len, const char *delivery,
    struct webhook_signed *out);

/*
 * Delay in microseconds before try number attempts + 1, after attempts
 * failures in a row (attempts >= 1): 2^(attempts-1) seconds capped at
 * WEBHOOK_BACKOFF_MAX_S, stretched by up to a quarter by jitter (any
 * 32-bit random value), so receivers that come back are not hit by every
 * sender in the same second.
 */
int64_t webhook_backoff_us(uint32_t attempts, uint32_t jitter);

/*
 * The JSON event for one scan (bots excluded by the caller) and for one
 * activity entry: new references, NULL on allocation failure. b, the
 * scan's batch, may be NULL. Never carries IPs, devices, phones, PINs.
 */
struct json_t *webhook_scan_event(const uint8_t cookie_key[32],
    const struct scan_rec *r, const struct batch *b);
struct json_t *webhook_activity_event(const struct activity *a);

/* One delivery: the body and where the cursors move if it is accepted. */
struct webhook_batch {
	size_t		n;		/* events in body */
	uint64_t	scan_cursor, activity_cursor;
	char		first_id[WEBHOOK_ID_MAX + 1];	/* "" when n == 0 */
	char		*body;		/* malloc'd {"events":[...]} or NULL */
	size_t		len;
};

/*
 * Collects for w the next events after its cursors (at most max, 1..
 * WEBHOOK_BATCH_MAX): the brand's human scans (when HOOK_SCAN) from the
 * scan log and the activity entries its mask asks for, merged by time
 * with each log's order kept. Cursors move past events the mask skips,
 * so with n == 0 they may still advance. 0, SIGIL_EINVAL, SIGIL_ENOMEM
 * or a store error; *out set on success (free it with
 * webhook_batch_clear).
 */
int webhook_batch_collect(struct store *st, const uint8_t cookie_key[32],
    const struct webhook *w, size_t max, struct webhook_batch *out);
void webhook_batch_clear(struct webhook_batch *b);

/* The subscription as the API shows it (never the secret). */
struct json_t *webhook_json(const struct webhook *w);

/*
 * The delivery loop on app->base (webhook_dispatch.c): every WEBHOOK_TICK_MS it posts one
 * batch to each due subscription with nothing in flight, and records
 * each answer through app->writer. 0, SIGIL_ENOMEM, SIGIL_ECRYPTO (TLS
 * context). Free before the event base, once the writer has answered
 * every job (sigild: writer_pending() is 0); requests in flight are
 * dropped and their events sent again later.
 */
struct webhook_dispatcher;
int webhook_dispatcher_start(struct app *app,
    struct webhook_dispatcher **out);
void webhook_dispatcher_free(struct webhook_dispatcher *d);
/*
 * Replaces w's delivery fields (cursors, attempts, next try, last
 * status, count) with those the running dispatcher settled and has not
 * yet written (its write is in the writer), so that the brand API shows
 * what has happened. Unchanged when there is nothing pending.
 */
void webhook_progress_overlay(struct webhook *w);

#endif
