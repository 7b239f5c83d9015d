/*
 * webhook.c - CRM webhooks: subscriptions and signed batches.
 *
 * There is no outbox table. The scan log and the activity log are
 * append-only and ordered by id, so each subscription only keeps two
 * cursors into them ("everything up to here was accepted"); a scan or a
 * claim costs no extra write, and a subscription that was down for a day
 * simply has far-behind cursors. Cursors move only after the receiver
 * answered 2xx, so every event is delivered at least once; a batch that
 * timed out may arrive twice (receivers deduplicate by event id).
 *
 * Delivery (the dispatcher on the event loop, its progress written by
 * the writer thread) is webhook_dispatch.c's, the brand API's endpoints
 * api_webhooks.c's (src/face/). Here: URLs and the targets egress may
 * reach, event names and payloads, the sealed secret and the signature,
 * collecting a batch after the cursors, and making a subscription. It
 * owns no table and keeps no state: the subscriptions and their cursors
 * are the store's (store_webhooks.c).
 *
 * The body is signed with HMAC-SHA256 under a per-subscription secret
 * over "<unix seconds>.<body>", so a receiver that rejects old
 * timestamps cannot be fed a replayed delivery. The secret is shown once
 * at creation and kept sealed with AES-256-GCM under the keyring secret
 * "webhook-enc"; events never carry IP addresses, device ids, phones,
 * PINs or secrets.
 *
 * May call store, keyring, egress (the target policy), scan (public
 * scan ids) and log. Must never write but through webhook_create (for
 * the CLI and tests; sigild adds a subscription through the writer),
 * nor send a request itself (webhook_dispatch.c does).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "sigil/egress.h"
#include "sigil/keyring.h"
#include "sigil/log.h"
#include "sigil/scan.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "sigil/webhook.h"

#define SEAL_LEN	(32 + SIGIL_SEAL_OVERHEAD)	/* nonce || secret || tag */

/* ---- URLs and event names ---- */

int
webhook_url_parse(const char *url, struct webhook_url *out)
{
	struct webhook_url u = { 0 };
	const char *p, *host, *host_end, *rest;
	size_t n = strlen(url), hlen;
	uint64_t port;
	char digits[8];

	if (n == 0 || n > STORE_URL_MAX)
		return SIGIL_EINVAL;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] >= 0x7f)
			return SIGIL_EINVAL;
	if (strncmp(url, "https://", 8) == 0) {
		u.tls = 1;
		u.port = 443;
		host = url + 8;
	} else if (strncmp(url, "http://", 7) == 0) {
		u.port = 80;
		host = url + 7;
	} else {
		return SIGIL_EINVAL;
	}
	rest = host + strcspn(host, "/?#");
	if (*rest == '#' || strchr(rest, '#') != NULL)
		return SIGIL_EINVAL;
	if (memchr(host, '@', (size_t)(rest - host)) != NULL)
		return SIGIL_EINVAL;
	if (*host == '[') {
		host_end = memchr(host, ']', (size_t)(rest - host));
		if (host_end == NULL || host_end == host + 1)
			return SIGIL_EINVAL;
		for (p = host + 1; p < host_end; p++)
			if (!strchr("0123456789abcdefABCDEF:.", *p))
				return SIGIL_EINVAL;
		hlen = (size_t)(host_end - host - 1);
		if (memchr(host + 1, ':', hlen) == NULL)
			return SIGIL_EINVAL;
		memcpy(u.host, host + 1, hlen);
		p = host_end + 1;
	} else {
		host_end = host + strcspn(host, ":/?");
		if (host_end > rest)
			host_end = rest;
		hlen = (size_t)(host_end - host);
		if (hlen == 0)
			return SIGIL_EINVAL;
		for (p = host; p < host_end; p++)
			if (!strchr("abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_", *p))
				return SIGIL_EINVAL;
		if (host[0] == '.' || host[0] == '-')
			return SIGIL_EINVAL;
		memcpy(u.host, host, hlen);
		p = host_end;
	}
	/* 2130706433, 0177.0.0.1, 127.1: addresses in disguise. */
	if (egress_host_syntax(u.host) != 0)
		return SIGIL_EINVAL;
	if (p < rest && *p == ':') {
		size_t dl = (size_t)(rest - p - 1);

		if (dl == 0 || dl >= sizeof digits)
			return SIGIL_EINVAL;
		memcpy(digits, p + 1, dl);
		digits[dl] = '\0';
		if (sigil_parse_u64(digits, 65535, &port) != 0 || port == 0)
			return SIGIL_EINVAL;
		u.port = (int)port;
	} else if (p != rest) {
		return SIGIL_EINVAL;
	}
	if (*rest == '/')
		snprintf(u.path, sizeof u.path, "%s", rest);
	else
		snprintf(u.path, sizeof u.path, "/%s", rest);
	*out = u;
	return 0;
}

int
webhook_target_check(const struct egress_policy *p, const char *url,
    const char **why)
{
	struct webhook_url u;
	const char *auth = strstr(url, "://");
	size_t alen;
	int rc;

	if (auth != NULL) {
		auth += 3;
		alen = strcspn(auth, "/?#");
		if (memchr(auth, '@', alen) != NULL) {
			*why = "user info (user:password@) is not allowed in the "
			    "URL; the request carries its own signature";
			return SIGIL_EINVAL;
		}
	}
	if (webhook_url_parse(url, &u) != 0) {
		*why = "the URL must be http:// or https:// with a host name, a "
		    "dotted-quad IPv4 address (no decimal, octal, hex or "
		    "short forms) or a [bracketed] IPv6 address, at most 256 "
		    "printable ASCII characters, without user info or "
		    "fragment";
		return SIGIL_EINVAL;
	}
	if ((rc = egress_host_check(p, u.host)) != 0) {
		*why = "the host is a loopback, private, link-local, shared, "
		    "multicast, reserved or cloud metadata address, which "
		    "webhooks may not reach (the operator can allow a private "
		    "network with sigild --webhook-allow CIDR)";
		return rc;
	}
	return 0;
}

/* A flag and its name in the JSON that webhooks send and show. */
struct flag_name {
	unsigned	 flag;
	const char	*name;
};

static const struct flag_name scan_signals[] = {
	{ SCAN_CLONE_SCANNERS, "too_many_scanners" },
	{ SCAN_CLONE_TRAVEL, "impossible_travel" },
	{ SCAN_DIVERSION, "diversion" },
};

static const struct flag_name hook_events[] = {
	{ HOOK_SCAN, "scan" },
	{ HOOK_CLAIM, "claim" },
	{ HOOK_CUSTOMER, "customer" },
};

int
webhook_event_bit(const char *name)
{
	for (size_t i = 0; i < sizeof(hook_events) / sizeof(hook_events[0]);
	    i++)
		if (strcmp(name, hook_events[i].name) == 0)
			return (int)hook_events[i].flag;
	return 0;
}

int
webhook_activity_bit(int type)
{
	switch (type) {
	case ACTIVITY_CLAIM:
		return HOOK_CLAIM;
	case ACTIVITY_CUSTOMER_NEW:
	case ACTIVITY_LOGIN:
	case ACTIVITY_ERASE:
	case ACTIVITY_REDEEM:
	case ACTIVITY_FEEDBACK:
	case ACTIVITY_MERGE:
		return HOOK_CUSTOMER;
	}
	return 0;
}

static const char *
activity_name(int type)
{
	switch (type) {
	case ACTIVITY_CLAIM:		return "claim";
	case ACTIVITY_CUSTOMER_NEW:	return "customer.new";
	case ACTIVITY_LOGIN:		return "customer.login";
	case ACTIVITY_ERASE:		return "customer.erase";
	case ACTIVITY_REDEEM:		return "customer.redeem";
	case ACTIVITY_FEEDBACK:		return "customer.feedback";
	case ACTIVITY_MERGE:		return "customer.merged";
	}
	return "unknown";
}

/* ---- the secret: sealed at rest, HMAC key on the wire ---- */

static int
seal_key(struct keyring *kr, int create, uint8_t key[32])
{
	return keyring_secret(kr, "webhook-enc", create, key);
}

static void
seal_aad(uint32_t brand_id, uint8_t aad[12])
{
	memcpy(aad, "webhook\0", 8);
	sigil_be32_put(aad + 8, brand_id);
}

static int
secret_seal(const uint8_t key[32], uint32_t brand_id, const uint8_t secret[32],
    uint8_t out[SEAL_LEN])
{
	uint8_t aad[12];

	seal_aad(brand_id, aad);
	return sigil_seal(key, aad, sizeof aad, secret, 32, out);
}

static int
secret_unseal(const uint8_t key[32], uint32_t brand_id, const uint8_t *ct,
    size_t len, uint8_t secret[32])
{
	uint8_t aad[12];

	if (len != SEAL_LEN)
		return SIGIL_EFORGED;
	seal_aad(brand_id, aad);
	return sigil_open(key, aad, sizeof aad, ct, len, secret);
}

int
webhook_secret_open(struct keyring *kr, const struct webhook *w,
    char secret[WEBHOOK_SECRET_LEN + 1])
{
	uint8_t key[32], raw[32];
	int rc;

	if ((rc = seal_key(kr, 0, key)) != 0)
		return rc;
	rc = secret_unseal(key, w->brand_id, w->secret_ct, w->secret_ct_len,
	    raw);
	OPENSSL_cleanse(key, sizeof key);
	if (rc != 0)
		return rc;
	sigil_hex_encode(raw, sizeof raw, secret);
	OPENSSL_cleanse(raw, sizeof raw);
	return 0;
}

int
webhook_seal_ready(struct keyring *kr)
{
	uint8_t key[32];
	int rc = seal_key(kr, 1, key);

	OPENSSL_cleanse(key, sizeof key);
	return rc;
}

int
webhook_sign(const char *secret, int64_t timestamp, const char *body,
    size_t len, char out[WEBHOOK_SIG_LEN + 1])
{
	uint8_t mac[32];
	char ts[24];
	EVP_MAC *m;
	EVP_MAC_CTX *ctx = NULL;
	OSSL_PARAM params[2];
	size_t outl = 0;
	int rc = SIGIL_ECRYPTO;

	snprintf(ts, sizeof ts, "%lld.", (long long)timestamp);
	params[0] = OSSL_PARAM_construct_utf8_string("digest", "SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if ((m = EVP_MAC_fetch(NULL, "HMAC", NULL)) != NULL &&
	    (ctx = EVP_MAC_CTX_new(m)) != NULL &&
	    EVP_MAC_init(ctx, (const unsigned char *)secret, strlen(secret),
	    params) == 1 &&
	    EVP_MAC_update(ctx, (const unsigned char *)ts, strlen(ts)) == 1 &&
	    EVP_MAC_update(ctx, (const unsigned char *)body, len) == 1 &&
	    EVP_MAC_final(ctx, mac, &outl, sizeof mac) == 1 && outl == 32) {
		memcpy(out, "v1=", 3);
		sigil_hex_encode(mac, sizeof mac, out + 3);
		rc = 0;
	}
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(m);
	return rc;
}

int
webhook_sign_headers(struct keyring *kr, const struct webhook *w,
    int64_t now_s, const char *body, size_t len, const char *delivery,
    struct webhook_signed *out)
{
	char secret[WEBHOOK_SECRET_LEN + 1];
	int rc;

	if ((rc = webhook_secret_open(kr, w, secret)) == 0)
		rc = webhook_sign(secret, now_s, body, len, out->sig);
	OPENSSL_cleanse(secret, sizeof secret);
	if (rc != 0)
		return rc;
	snprintf(out->ts, sizeof out->ts, "%lld", (long long)now_s);
	out->headers[0] = "User-Agent";
	out->headers[1] = "sigil-webhook/1";
	out->headers[2] = "X-Sigil-Timestamp";
	out->headers[3] = out->ts;
	out->headers[4] = "X-Sigil-Signature";
	out->headers[5] = out->sig;
	out->headers[6] = "X-Sigil-Delivery";
	out->headers[7] = delivery;
	out->headers[8] = NULL;
	return 0;
}

int64_t
webhook_backoff_us(uint32_t attempts, uint32_t jitter)
{
	return sigil_backoff_us(attempts, WEBHOOK_BACKOFF_MAX_S, jitter);
}

/* ---- events ---- */

static void
event_id_scan(const uint8_t key[32], uint64_t id, char out[WEBHOOK_ID_MAX + 1])
{
	char pub[SCAN_ID_LEN + 1];

	scan_id_format(key, id, pub);
	snprintf(out, WEBHOOK_ID_MAX + 1, "scan_%s", pub);
}

static void
event_id_activity(uint64_t id, char out[WEBHOOK_ID_MAX + 1])
{
	snprintf(out, WEBHOOK_ID_MAX + 1, "act_%llu", (unsigned long long)id);
}

/* The names of the flags set in mask, in table order; NULL: no memory. */
static json_t *
flag_names(unsigned mask, const struct flag_name *t, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < n; i++)
		if (mask & t[i].flag)
			json_array_append_new(a, json_string(t[i].name));
	return a;
}

json_t *
webhook_scan_event(const uint8_t cookie_key[32], const struct scan_rec *r,
    const struct batch *b)
{
	char id[WEBHOOK_ID_MAX + 1], pub[SCAN_ID_LEN + 1];
	char t[SIGIL_TIME_LEN + 1];
	json_t *o, *signals;

	event_id_scan(cookie_key, r->id, id);
	scan_id_format(cookie_key, r->id, pub);
	if ((o = json_object()) == NULL)
		return NULL;
	if ((signals = flag_names(r->flags, scan_signals,
	    sizeof(scan_signals) / sizeof(scan_signals[0]))) == NULL) {
		json_decref(o);
		return NULL;
	}
	json_object_set_new(o, "id", json_string(id));
	json_object_set_new(o, "type", json_string("scan"));
	json_object_set_new(o, "at", json_string(sigil_time_format(r->at, t)));
	json_object_set_new(o, "scan_id", json_string(pub));
	json_object_set_new(o, "serial", json_integer((json_int_t)r->serial));
	json_object_set_new(o, "batch", json_integer((json_int_t)r->batch_id));
	if (b != NULL) {
		json_object_set_new(o, "sku", json_string(b->sku));
		json_object_set_new(o, "lot", b->lot[0] ? json_string(b->lot) :
		    json_null());
	}
	json_object_set_new(o, "verdict",
	    json_string(scan_verdict_name(r->verdict)));
	json_object_set_new(o, "first_scan",
	    json_boolean(r->flags & SCAN_FIRST));
	json_object_set_new(o, "signals", signals);
	if (r->flags & SCAN_HAS_LOC)
		json_object_set_new(o, "location", json_pack("{s:f,s:f,s:i}",
		    "lat", (double)r->lat, "lng", (double)r->lng, "accuracy_m",
		    (int)r->accuracy_m));
	else
		json_object_set_new(o, "location", json_null());
	if (json_object_size(o) < 10) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *
webhook_activity_event(const struct activity *a)
{
	char id[WEBHOOK_ID_MAX + 1], t[SIGIL_TIME_LEN + 1];
	json_t *o;

	event_id_activity(a->id, id);
	if ((o = json_object()) == NULL)
		return NULL;
	json_object_set_new(o, "id", json_string(id));
	json_object_set_new(o, "type", json_string(activity_name(a->type)));
	json_object_set_new(o, "at", json_string(sigil_time_format(a->at, t)));
	json_object_set_new(o, "customer_id", a->customer_id ?
	    json_integer((json_int_t)a->customer_id) : json_null());
	if (a->ref != 0)
		json_object_set_new(o, "ref", json_integer((json_int_t)a->ref));
	if (a->type == ACTIVITY_CLAIM || a->type == ACTIVITY_REDEEM ||
	    a->type == ACTIVITY_MERGE)
		json_object_set_new(o, "points", json_integer(a->points));
	/* the customer that went into customer_id (0 once erased) */
	if (a->type == ACTIVITY_MERGE)
		json_object_set_new(o, "merged_customer_id", a->ref != 0 ?
		    json_integer((json_int_t)a->ref) : json_null());
	if (a->type == ACTIVITY_FEEDBACK) {
		json_object_set_new(o, "rating", json_integer(a->rating));
		json_object_set_new(o, "text", json_stringn(a->text,
		    strnlen(a->text, sizeof a->text)));
	}
	if (json_object_size(o) < 4) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* ---- collecting a batch ---- */

struct pending {
	json_t		*ev;
	uint64_t	id;	/* log id */
	int64_t		at;
};

struct collect {
	struct store	*st;
	const uint8_t	*key;
	uint32_t	brand_id;
	int		mask;
	size_t		max;
	struct pending	*items;
	size_t		n;
	uint64_t	seen;	/* last log id examined */
	struct batch	batch;	/* the last batch looked up */
	int		err;
};

static void
collect_free(struct collect *c)
{
	for (size_t i = 0; i < c->n; i++)
		json_decref(c->items[i].ev);
	free(c->items);
	c->items = NULL;
	c->n = 0;
}

static int
collect_scan(void *arg, const struct scan_rec *r)
{
	struct collect *c = arg;
	const struct batch *b = NULL;
	json_t *ev;

	c->seen = r->id;
	if (r->brand_id != c->brand_id || r->brand_id == 0 ||
	    (r->flags & SCAN_BOT))
		return 0;
	if (r->batch_id != 0 && (c->batch.id == r->batch_id ||
	    store_batch_get(c->st, r->batch_id, &c->batch) == 0))
		b = &c->batch;
	if ((ev = webhook_scan_event(c->key, r, b)) == NULL) {
		c->err = SIGIL_ENOMEM;
		return 1;
	}
	c->items[c->n++] = (struct pending){ ev, r->id, r->at };
	return c->n == c->max;
}

static int
collect_activity(void *arg, const struct activity *a)
{
	struct collect *c = arg;
	json_t *ev;

	c->seen = a->id;
	if (a->brand_id != c->brand_id ||
	    (webhook_activity_bit(a->type) & c->mask) == 0)
		return 0;
	if ((ev = webhook_activity_event(a)) == NULL) {
		c->err = SIGIL_ENOMEM;
		return 1;
	}
	c->items[c->n++] = (struct pending){ ev, a->id, a->at };
	return c->n == c->max;
}

static int
collect_init(struct collect *c, struct store *st, const uint8_t *key,
    const struct webhook *w, size_t max, uint64_t cursor)
{
	memset(c, 0, sizeof *c);
	c->st = st;
	c->key = key;
	c->brand_id = w->brand_id;
	c->mask = w->events;
	c->max = max;
	c->seen = cursor;
	if ((c->items = calloc(max, sizeof *c->items)) == NULL)
		return SIGIL_ENOMEM;
	return 0;
}

void
webhook_batch_clear(struct webhook_batch *b)
{
	free(b->body);
	memset(b, 0, sizeof *b);
}

/*
 * Merges the two runs by time, each kept in log order, into arr (at most
 * max events), and says how many of each run were taken.
 */
static int
merge(struct collect *s, struct collect *a, size_t max, json_t *arr,
    size_t *took_s, size_t *took_a)
{
	size_t i = 0, j = 0;

	while (i + j < max && (i < s->n || j < a->n)) {
		struct pending *p;

		if (j == a->n || (i < s->n && s->items[i].at <= a->items[j].at))
			p = &s->items[i++];
		else
			p = &a->items[j++];
		if (json_array_append(arr, p->ev) != 0)
			return SIGIL_ENOMEM;
	}
	*took_s = i;
	*took_a = j;
	return 0;
}

static uint64_t
run_cursor(const struct collect *c, size_t took, uint64_t cursor)
{
	if (took == c->n)
		return c->seen;
	return took > 0 ? c->items[took - 1].id : cursor;
}

int
webhook_batch_collect(struct store *st, const uint8_t cookie_key[32],
    const struct webhook *w, size_t max, struct webhook_batch *out)
{
	struct collect s, a;
	struct webhook_batch b = { 0 };
	json_t *doc = NULL, *arr;
	size_t ts = 0, ta = 0;
	int rc;

	if (max == 0 || max > WEBHOOK_BATCH_MAX || w->brand_id == 0)
		return SIGIL_EINVAL;
	if ((rc = collect_init(&s, st, cookie_key, w, max,
	    w->scan_cursor)) != 0)
		return rc;
	if ((rc = collect_init(&a, st, cookie_key, w, max,
	    w->activity_cursor)) != 0)
		goto out;
	if (w->events & HOOK_SCAN) {
		rc = store_scan_after(st, w->scan_cursor, WEBHOOK_SCAN_WINDOW,
		    collect_scan, &s);
		if (s.err != 0 || rc < 0) {
			rc = s.err ? s.err : rc;
			goto out;
		}
	}
	if (w->events & (HOOK_CLAIM | HOOK_CUSTOMER)) {
		rc = store_activity_each(st, w->brand_id, w->activity_cursor,
		    WEBHOOK_SCAN_WINDOW, collect_activity, &a);
		if (a.err != 0 || rc < 0) {
			rc = a.err ? a.err : rc;
			goto out;
		}
	}
	rc = SIGIL_ENOMEM;
	if ((doc = json_object()) == NULL || (arr = json_array()) == NULL ||
	    json_object_set_new(doc, "events", arr) != 0)
		goto out;
	if ((rc = merge(&s, &a, max, arr, &ts, &ta)) != 0)
		goto out;
	/* A run taken whole moves its cursor to the last record examined
	 * (past skipped ones); a run cut by the merge to its last event. */
	b.scan_cursor = run_cursor(&s, ts, w->scan_cursor);
	b.activity_cursor = run_cursor(&a, ta, w->activity_cursor);
	b.n = ts + ta;
	if (b.n > 0) {
		snprintf(b.first_id, sizeof b.first_id, "%s", json_string_value(
		    json_object_get(json_array_get(arr, 0), "id")));
		rc = SIGIL_ENOMEM;
		if ((b.body = json_dumps(doc, JSON_COMPACT)) == NULL)
			goto out;
		b.len = strlen(b.body);
	}
	*out = b;
	rc = 0;
out:
	json_decref(doc);
	collect_free(&a);
	collect_free(&s);
	return rc;
}

/* ---- subscriptions ---- */

static int
last_scan_id(void *arg, const struct scan_rec *r)
{
	*(uint64_t *)arg = r->id;
	return 0;
}

static int
last_activity_id(void *arg, const struct activity *a)
{
	*(uint64_t *)arg = a->id;
	return 0;
}

/*
 * The ends of both logs. Scan ids run 1..n with n the logged count, so
 * the count is the end; the walk after it only catches scans committed
 * meanwhile. The activity log is read per brand to its end.
 */
static int
log_ends(struct store *st, uint32_t brand_id, uint64_t *scan_end,
    uint64_t *activity_end)
{
	struct store_stats ss;
	uint64_t s, a = 0, prev;
	int rc;

	if ((rc = store_stats(st, &ss)) != 0)
		return rc;
	s = ss.scans;
	do {
		prev = s;
		if ((rc = store_scan_after(st, s, WEBHOOK_SCAN_WINDOW,
		    last_scan_id, &s)) < 0)
			return rc;
	} while (s != prev);
	do {
		prev = a;
		if ((rc = store_activity_each(st, brand_id, a,
		    WEBHOOK_SCAN_WINDOW, last_activity_id, &a)) < 0)
			return rc;
	} while (a != prev);
	*scan_end = s;
	*activity_end = a;
	return 0;
}

int
webhook_prepare(struct store *st, struct keyring *kr, uint32_t brand_id,
    const char *url, int events, struct webhook *out,
    char secret[WEBHOOK_SECRET_LEN + 1])
{
	struct webhook_url u;
	struct webhook w;
	uint8_t key[32], raw[32];
	int rc;

	if (webhook_url_parse(url, &u) != 0 || events == 0 ||
	    (events & ~(HOOK_SCAN | HOOK_CLAIM | HOOK_CUSTOMER)) != 0 ||
	    brand_id == 0)
		return SIGIL_EINVAL;
	memset(&w, 0, sizeof w);
	w.brand_id = brand_id;
	snprintf(w.url, sizeof w.url, "%s", url);
	w.events = events;
	w.active = 1;
	w.created = sigil_now_us();
	if ((rc = log_ends(st, brand_id, &w.scan_cursor,
	    &w.activity_cursor)) != 0)
		return rc;
	if ((rc = sigil_random(raw, sizeof raw)) != 0)
		return rc;
	if ((rc = seal_key(kr, 1, key)) != 0)
		goto out;
	if ((rc = secret_seal(key, brand_id, raw, w.secret_ct)) != 0)
		goto out;
	w.secret_ct_len = SEAL_LEN;
	sigil_hex_encode(raw, sizeof raw, secret);
	*out = w;
out:
	OPENSSL_cleanse(key, sizeof key);
	OPENSSL_cleanse(raw, sizeof raw);
	return rc;
}

int
webhook_create(struct store *st, struct keyring *kr, uint32_t brand_id,
    const char *url, int events, struct webhook *out,
    char secret[WEBHOOK_SECRET_LEN + 1])
{
	char hex[WEBHOOK_SECRET_LEN + 1];
	struct webhook w;
	int rc;

	if ((rc = webhook_prepare(st, kr, brand_id, url, events, &w,
	    hex)) == 0 && (rc = store_webhook_add(st, &w)) == 0) {
		memcpy(secret, hex, sizeof hex);
		*out = w;
	}
	OPENSSL_cleanse(hex, sizeof hex);
	return rc;
}

json_t *
webhook_json(const struct webhook *w)
{
	char t[SIGIL_TIME_LEN + 1], n[SIGIL_TIME_LEN + 1];
	json_t *o, *ev;

	if ((ev = flag_names((unsigned)w->events, hook_events,
	    sizeof(hook_events) / sizeof(hook_events[0]))) == NULL)
		return NULL;
	/* last_status says delivered or failed, never why: a status or a
	 * cause would make a refused target a port and service scanner. */
	o = json_pack("{s:I,s:s,s:o,s:b,s:s,s:{s:I,s:I,s:I,s:I,s:s?,s:o}}",
	    "id", (json_int_t)w->id, "url", w->url, "events", ev,
	    "active", w->active, "created", sigil_time_format(w->created, t),
	    "delivery",
	    "scan_cursor", (json_int_t)w->scan_cursor,
	    "activity_cursor", (json_int_t)w->activity_cursor,
	    "delivered", (json_int_t)w->delivered,
	    "attempts", (json_int_t)w->attempts,
	    "next_try", w->next_try ? sigil_time_format(w->next_try, n) : NULL,
	    "last_status", w->last_status == 0 ? json_null() :
	    json_string(w->last_status >= 200 && w->last_status < 300 ?
	    "delivered" : "failed"));
	return o;
}
