/*
 * test_webhook.c - CRM webhooks: URL checks (hostile ones included),
 * the signature against an independent HMAC, backoff bounds, the sealed
 * secret (tampering and brand swaps refused), batches collected from
 * real scan and activity logs (filters, merge order, cursors, no event
 * lost or repeated across many small batches) and the dispatcher
 * delivering to a real HTTP receiver on the same event loop, through a
 * 500 and a retry, its progress recorded by the writer thread.
 */
#include <arpa/inet.h>
#include <ftw.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "storefix.h"
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>
#include <jansson.h>
#include <openssl/hmac.h>

#include "sigil/app.h"
#include "sigil/egress.h"
#include "sigil/keyring.h"
#include "sigil/scan.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "sigil/webhook.h"
#include "sigil/writer.h"

/* ---- fixture: a store, a keyring, one brand with a batch ---- */

struct fixture {
	char		dir[64];
	char		ring[96];
	struct store	*st;
	struct keyring	*kr;
	uint32_t	brand, other;
	struct batch	batch, other_batch;
	uint8_t		cookie_key[32];
};

static void
add_batch(struct store *st, uint32_t brand, struct batch *out)
{
	struct product p = { .brand_id = brand, .max_scanners = 5 };
	struct key_meta k;
	struct batch b = { .brand_id = brand, .count = 100 };

	strcpy(p.sku, "TEA");
	strcpy(p.name, "Green tea");
	assert_int_equal(store_product_add(st, &p), 0);
	assert_int_equal(store_key_add(st, brand, &k), 0);
	b.key_id = k.id;
	strcpy(b.sku, "TEA");
	strcpy(b.lot, "L7");
	assert_int_equal(store_batch_new(st, &b), 0);
	*out = b;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	if (f == NULL)
		return -1;
	strcpy(f->dir, "/tmp/sigil-webhook-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->ring, sizeof f->ring, "%s/keyring", f->dir);
	if (store_open(f->dir, STORE_CREATE, &f->st) != 0 ||
	    keyring_open(f->ring, 1, &f->kr) != 0)
		return -1;
	f->brand = add_brand(f->st, "acme");
	f->other = add_brand(f->st, "beta");
	add_batch(f->st, f->brand, &f->batch);
	add_batch(f->st, f->other, &f->other_batch);
	memset(f->cookie_key, 7, sizeof f->cookie_key);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	keyring_free(f->kr);
	storefix_close(f->dir, f->st);
	free(f);
	return 0;
}

static void
add_scans(struct fixture *f, uint32_t brand, const struct batch *b, int n,
    int flags, int64_t at)
{
	struct scan_rec r[16];

	assert_true(n <= 16);
	for (int i = 0; i < n; i++) {
		memset(&r[i], 0, sizeof r[i]);
		r[i].at = at + i;
		r[i].brand_id = brand;
		r[i].serial = b->first_serial + (uint64_t)i;
		r[i].batch_id = b->id;
		r[i].device = 0x1234567890abcdefULL;
		r[i].ip[15] = 9;
		r[i].flags = (uint16_t)flags;
	}
	assert_int_equal(store_scans_commit(f->st, r, (size_t)n, NULL, NULL),
	    0);
}

static uint64_t
add_activity(struct fixture *f, uint32_t brand, int type, int64_t at)
{
	struct activity a = { .brand_id = brand, .type = type, .at = at,
	    .customer_id = 42, .ref = 7, .points = 10 };

	if (type == ACTIVITY_FEEDBACK) {
		strcpy(a.text, "good \"tea\"");
		a.rating = 5;
	}
	assert_int_equal(store_activity_add(f->st, &a), 0);
	return a.id;
}

/* ---- pure functions ---- */

static void
test_url_parse(void **state)
{
	static const char *bad[] = {
		"", "ftp://x/", "http://", "https://", "http:///x",
		"http://user@host/", "http://u:p@host/", "http://host:0/",
		"http://host:65536/", "http://host:abc/", "http://host:/",
		"http://host/#frag", "http://host/a b", "http://ho st/",
		"http://host/\x01", "http://h\xc3\xa9.example/", "http://[zz]/",
		"http://[]/", "http://[::1/", "http://-bad/", "http://.x/",
		"HTTP://host/", "http://host:80:81/", "javascript:alert(1)",
		"http://host\\@evil/", "http://host:99999999999999999999/",
		"http://2130706433/", "http://0177.0.0.1/", "http://0x7f.1/",
		"http://0x7f000001/", "http://127.1/", "http://127.0.0.1./",
		"http://1.2.3.4.5/", "http://[1.2.3.4]/", "http://[::ffff:zz]/",
	};
	struct webhook_url u, keep;
	char longurl[STORE_URL_MAX + 2];

	(void)state;
	assert_int_equal(webhook_url_parse("http://127.0.0.1:8080/hook?x=1",
	    &u), 0);
	assert_int_equal(u.tls, 0);
	assert_string_equal(u.host, "127.0.0.1");
	assert_int_equal(u.port, 8080);
	assert_string_equal(u.path, "/hook?x=1");
	assert_int_equal(webhook_url_parse("https://crm.example.com", &u), 0);
	assert_int_equal(u.tls, 1);
	assert_int_equal(u.port, 443);
	assert_string_equal(u.path, "/");
	assert_int_equal(webhook_url_parse("http://[::1]:9/in", &u), 0);
	assert_string_equal(u.host, "::1");
	assert_int_equal(u.port, 9);
	assert_int_equal(webhook_url_parse("http://crm.example?q", &u), 0);
	assert_string_equal(u.path, "/?q");

	memset(&keep, 0x5a, sizeof keep);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		u = keep;
		if (webhook_url_parse(bad[i], &u) != SIGIL_EINVAL)
			fail_msg("accepted %s", bad[i]);
		assert_memory_equal(&u, &keep, sizeof u);
	}
	/* Exactly the bound is fine, one more is not. */
	memset(longurl, 'a', sizeof longurl);
	memcpy(longurl, "http://h/", 9);
	longurl[STORE_URL_MAX] = '\0';
	assert_int_equal(webhook_url_parse(longurl, &u), 0);
	longurl[STORE_URL_MAX] = 'a';
	longurl[STORE_URL_MAX + 1] = '\0';
	assert_int_equal(webhook_url_parse(longurl, &u), SIGIL_EINVAL);
}

static void
test_event_bits(void **state)
{
	(void)state;
	assert_int_equal(webhook_event_bit("scan"), HOOK_SCAN);
	assert_int_equal(webhook_event_bit("claim"), HOOK_CLAIM);
	assert_int_equal(webhook_event_bit("customer"), HOOK_CUSTOMER);
	assert_int_equal(webhook_event_bit("Scan"), 0);
	assert_int_equal(webhook_event_bit(""), 0);
	assert_int_equal(webhook_event_bit("scans"), 0);
	assert_int_equal(webhook_activity_bit(ACTIVITY_CLAIM), HOOK_CLAIM);
	assert_int_equal(webhook_activity_bit(ACTIVITY_LOGIN), HOOK_CUSTOMER);
	assert_int_equal(webhook_activity_bit(ACTIVITY_ERASE), HOOK_CUSTOMER);
	assert_int_equal(webhook_activity_bit(0), 0);
	assert_int_equal(webhook_activity_bit(99), 0);
}

static void
test_sign(void **state)
{
	char sig[WEBHOOK_SIG_LEN + 1], secret[WEBHOOK_SECRET_LEN + 1];
	const char *body = "{\"events\":[]}";

	(void)state;
	for (int i = 0; i < 32; i++)
		memcpy(secret + 2 * i, "ab", 2);
	secret[64] = '\0';
	/* Python: hmac.new(b"ab"*32, b"1700000000." + body, sha256) */
	assert_int_equal(webhook_sign(secret, 1700000000, body, strlen(body),
	    sig), 0);
	assert_string_equal(sig, "v1=7748349c24b40e3cb3b6351fc60a5dbfc3ca15a0"
	    "acee449e5f6ba56d2990a6b7");
	/* Timestamp and body are both covered. */
	assert_int_equal(webhook_sign(secret, 1700000001, body, strlen(body),
	    sig), 0);
	assert_string_not_equal(sig, "v1=7748349c24b40e3cb3b6351fc60a5dbfc3ca"
	    "15a0acee449e5f6ba56d2990a6b7");
}

static void
test_backoff(void **state)
{
	int64_t prev = 0;

	(void)state;
	assert_int_equal(webhook_backoff_us(0, 123), 0);
	for (uint32_t a = 1; a < 40; a++) {
		int64_t lo = webhook_backoff_us(a, 0);
		int64_t hi = webhook_backoff_us(a, UINT32_MAX);
		int64_t base = a <= 12 ? (int64_t)1 << (a - 1) : 3600;

		if (base > 3600)
			base = 3600;
		assert_int_equal(lo, base * 1000000);
		assert_true(hi >= lo && hi < lo + lo / 4 + 1);
		assert_true(lo >= prev);
		prev = lo;
	}
	assert_int_equal(webhook_backoff_us(UINT32_MAX, 0), 3600LL * 1000000);
}

/* ---- subscriptions and the sealed secret ---- */

static void
test_create_and_seal(void **state)
{
	struct fixture *f = *state;
	struct webhook w, got, forged;
	char secret[WEBHOOK_SECRET_LEN + 1], back[WEBHOOK_SECRET_LEN + 1];
	uint8_t raw[32];

	assert_int_equal(webhook_create(f->st, f->kr, f->brand, "ftp://x/",
	    HOOK_SCAN, &w, secret), SIGIL_EINVAL);
	assert_int_equal(webhook_create(f->st, f->kr, f->brand, "http://x/",
	    0, &w, secret), SIGIL_EINVAL);
	assert_int_equal(webhook_create(f->st, f->kr, f->brand, "http://x/",
	    8, &w, secret), SIGIL_EINVAL);
	assert_int_equal(webhook_create(f->st, f->kr, 0, "http://x/",
	    HOOK_SCAN, &w, secret), SIGIL_EINVAL);

	/* Cursors start at the end of the logs: history is not replayed. */
	add_scans(f, f->brand, &f->batch, 3, 0, 1000);
	add_activity(f, f->brand, ACTIVITY_CLAIM, 1000);
	assert_int_equal(webhook_create(f->st, f->kr, f->brand,
	    "http://127.0.0.1:9/h", HOOK_SCAN | HOOK_CLAIM, &w, secret), 0);
	assert_int_equal(strlen(secret), WEBHOOK_SECRET_LEN);
	assert_int_equal(sigil_hex_decode(secret, 32, raw), 0);
	assert_int_equal(w.scan_cursor, 3);
	assert_true(w.activity_cursor >= 1);
	assert_int_equal(store_webhook_get(f->st, f->brand, w.id, &got), 0);
	assert_int_equal(got.events, HOOK_SCAN | HOOK_CLAIM);
	/* Sealed at rest: the secret's bytes are nowhere in the record. */
	assert_null(memmem(got.secret_ct, got.secret_ct_len, raw, 32));
	assert_null(memmem(&got, sizeof got, secret, 16));
	assert_int_equal(webhook_secret_open(f->kr, &got, back), 0);
	assert_string_equal(back, secret);

	forged = got;
	forged.secret_ct[20] ^= 1;
	assert_int_equal(webhook_secret_open(f->kr, &forged, back),
	    SIGIL_EFORGED);
	forged = got;
	forged.brand_id = f->other;	/* moved to another brand */
	assert_int_equal(webhook_secret_open(f->kr, &forged, back),
	    SIGIL_EFORGED);
	forged = got;
	forged.secret_ct_len = 10;
	assert_int_equal(webhook_secret_open(f->kr, &forged, back),
	    SIGIL_EFORGED);
	/* Another brand cannot read it. */
	assert_int_equal(store_webhook_get(f->st, f->other, w.id, &got),
	    SIGIL_ENOTFOUND);
}

/* ---- batches ---- */

static void
test_events_json(void **state)
{
	struct fixture *f = *state;
	struct scan_rec r = { .id = 5, .at = 1000000, .brand_id = 1,
	    .serial = 77, .batch_id = 3, .device = 0xfeedULL,
	    .flags = SCAN_FIRST | SCAN_HAS_LOC | SCAN_CLONE_TRAVEL,
	    .lat = 30.25f, .lng = 120.5f, .accuracy_m = 40 };
	struct activity a = { .id = 9, .brand_id = 1, .type = ACTIVITY_FEEDBACK,
	    .at = 2000000, .customer_id = 3, .rating = 4 };
	char pub[SCAN_ID_LEN + 1], *text;
	json_t *o;

	r.ip[15] = 200;
	scan_id_format(f->cookie_key, 5, pub);
	o = webhook_scan_event(f->cookie_key, &r, &f->batch);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "scan_id")),
	    pub);
	assert_string_equal(json_string_value(json_object_get(o, "type")),
	    "scan");
	assert_true(json_is_true(json_object_get(o, "first_scan")));
	assert_int_equal(json_integer_value(json_object_get(o, "serial")), 77);
	assert_string_equal(json_string_value(json_object_get(o, "sku")),
	    "TEA");
	assert_true(json_real_value(json_object_get(json_object_get(o,
	    "location"), "lat")) == 30.25);
	assert_string_equal(json_string_value(json_array_get(json_object_get(o,
	    "signals"), 0)), "impossible_travel");
	text = json_dumps(o, JSON_COMPACT);
	assert_null(strstr(text, "device"));
	assert_null(strstr(text, "\"ip\""));
	assert_null(strstr(text, "feed"));
	free(text);
	json_decref(o);

	/* Hostile feedback text survives as data, not as JSON structure. */
	strcpy(a.text, "\"},{\"id\":\"forged");
	o = webhook_activity_event(&a);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "type")),
	    "customer.feedback");
	assert_string_equal(json_string_value(json_object_get(o, "text")),
	    a.text);
	assert_string_equal(json_string_value(json_object_get(o, "id")),
	    "act_9");
	json_decref(o);
}

/*
 * Drains w batch by batch (max events each) the way the dispatcher does
 * after every 2xx, and returns the ids in delivery order.
 */
static size_t
drain(struct fixture *f, struct webhook *w, size_t max, char ids[][64],
    size_t cap)
{
	struct webhook_batch b;
	size_t n = 0, i;
	json_t *doc, *ev;

	for (int rounds = 0; rounds < 1000; rounds++) {
		assert_int_equal(webhook_batch_collect(f->st, f->cookie_key, w,
		    max, &b), 0);
		assert_true(b.n <= max);
		assert_true(b.scan_cursor >= w->scan_cursor);
		assert_true(b.activity_cursor >= w->activity_cursor);
		if (b.n == 0) {
			assert_null(b.body);
			w->scan_cursor = b.scan_cursor;
			w->activity_cursor = b.activity_cursor;
			webhook_batch_clear(&b);
			return n;
		}
		doc = json_loads(b.body, 0, NULL);
		assert_non_null(doc);
		assert_int_equal(json_array_size(json_object_get(doc, "events")),
		    b.n);
		assert_string_equal(b.first_id, json_string_value(
		    json_object_get(json_array_get(json_object_get(doc,
		    "events"), 0), "id")));
		json_array_foreach(json_object_get(doc, "events"), i, ev) {
			assert_true(n < cap);
			snprintf(ids[n++], 64, "%s", json_string_value(
			    json_object_get(ev, "id")));
		}
		json_decref(doc);
		w->scan_cursor = b.scan_cursor;
		w->activity_cursor = b.activity_cursor;
		webhook_batch_clear(&b);
	}
	fail_msg("collect never ran dry");
	return n;
}

static void
test_collect(void **state)
{
	struct fixture *f = *state;
	struct webhook w, scans_only;
	struct webhook_batch b;
	char secret[WEBHOOK_SECRET_LEN + 1], ids[64][64], want[64][64];
	char pub[SCAN_ID_LEN + 1];
	size_t n, k = 0;

	assert_int_equal(webhook_create(f->st, f->kr, f->brand,
	    "http://127.0.0.1:9/h", HOOK_SCAN | HOOK_CLAIM, &w, secret), 0);
	assert_int_equal(w.scan_cursor, 0);
	scans_only = w;
	scans_only.events = HOOK_SCAN;

	/* Interleaved in time: ours, others', bots, activity kinds. */
	add_scans(f, f->brand, &f->batch, 4, 0, 1000);		/* ids 1-4 */
	add_scans(f, f->other, &f->other_batch, 5, 0, 1100);	/* 5-9 */
	add_scans(f, f->brand, &f->batch, 2, SCAN_BOT, 1200);	/* 10-11 */
	add_activity(f, f->brand, ACTIVITY_CLAIM, 1002);
	add_activity(f, f->other, ACTIVITY_CLAIM, 1003);
	add_activity(f, f->brand, ACTIVITY_LOGIN, 1004);	/* not asked */
	add_activity(f, f->brand, ACTIVITY_CLAIM, 1500);
	add_scans(f, f->brand, &f->batch, 3, SCAN_FIRST, 2000);	/* 12-14 */

	/* Expected, merged by time (a scan first on a tie): scans 1-3 (at
	 * 1000-1002), the claim at 1002, scan 4, the claim at 1500, scans
	 * 12-14; never the login, the other brand or the bots. */
	for (uint64_t id = 1; id <= 4; id++) {
		scan_id_format(f->cookie_key, id, pub);
		snprintf(want[k++], 64, "scan_%s", pub);
		if (id == 3)
			snprintf(want[k++], 64, "act_");
	}
	snprintf(want[k++], 64, "act_");
	for (uint64_t id = 12; id <= 14; id++) {
		scan_id_format(f->cookie_key, id, pub);
		snprintf(want[k++], 64, "scan_%s", pub);
	}

	for (size_t max = 1; max <= 4; max++) {
		struct webhook c = w;

		n = drain(f, &c, max, ids, 64);
		assert_int_equal(n, k);
		for (size_t i = 0; i < k; i++) {
			if (strncmp(want[i], "act_", 4) == 0)
				assert_memory_equal(ids[i], "act_", 4);
			else
				assert_string_equal(ids[i], want[i]);
		}
		assert_string_not_equal(ids[3], ids[5]);
		/* Drained: both cursors past everything, skips included. */
		assert_int_equal(c.scan_cursor, 14);
		assert_int_equal(webhook_batch_collect(f->st, f->cookie_key, &c,
		    max, &b), 0);
		assert_int_equal(b.n, 0);
		webhook_batch_clear(&b);
	}
	n = drain(f, &scans_only, 100, ids, 64);
	assert_int_equal(n, 7);
	for (size_t i = 0; i < n; i++)
		assert_memory_equal(ids[i], "scan_", 5);

	/* New events after the drain come next, nothing before them. */
	add_scans(f, f->brand, &f->batch, 1, 0, 3000);
	n = drain(f, &scans_only, 100, ids, 64);
	assert_int_equal(n, 1);
	scan_id_format(f->cookie_key, 15, pub);
	assert_string_equal(ids[0] + 5, pub);

	assert_int_equal(webhook_batch_collect(f->st, f->cookie_key, &w, 0,
	    &b), SIGIL_EINVAL);
	assert_int_equal(webhook_batch_collect(f->st, f->cookie_key, &w,
	    WEBHOOK_BATCH_MAX + 1, &b), SIGIL_EINVAL);
}

/* ---- the dispatcher against a receiver on the same loop ---- */

struct receiver {
	struct fixture	*f;
	char		secret[WEBHOOK_SECRET_LEN + 1];
	int		fail_first;	/* answer 500 this many times */
	int		requests, verified, events;
	int64_t		first_at, second_at;
	char		delivery[128];
};

static void
receive(struct evhttp_request *req, void *arg)
{
	struct receiver *r = arg;
	struct evkeyvalq *h = evhttp_request_get_input_headers(req);
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	const char *ts = evhttp_find_header(h, "X-Sigil-Timestamp");
	const char *sig = evhttp_find_header(h, "X-Sigil-Signature");
	const char *del = evhttp_find_header(h, "X-Sigil-Delivery");
	size_t len = evbuffer_get_length(in);
	unsigned char *body = evbuffer_pullup(in, -1), mac[32];
	unsigned mlen = 0;
	char *msg, hex[65];
	json_t *doc;

	r->requests++;
	if (r->requests == 1)
		r->first_at = sigil_now_us();
	else if (r->requests == 2)
		r->second_at = sigil_now_us();
	if (ts != NULL && sig != NULL && del != NULL) {
		/* An independent check: OpenSSL's one-shot HMAC. */
		assert_int_not_equal(asprintf(&msg, "%s.%.*s", ts, (int)len,
		    (const char *)body), -1);
		HMAC(EVP_sha256(), r->secret, 64, (unsigned char *)msg,
		    strlen(msg), mac, &mlen);
		free(msg);
		sigil_hex_encode(mac, 32, hex);
		if (strncmp(sig, "v1=", 3) == 0 && strcmp(sig + 3, hex) == 0)
			r->verified++;
		snprintf(r->delivery, sizeof r->delivery, "%s", del);
	}
	if (r->requests <= r->fail_first) {
		evhttp_send_reply(req, 500, "Oops", NULL);
		return;
	}
	doc = json_loadb((const char *)body, len, 0, NULL);
	r->events += (int)json_array_size(json_object_get(doc, "events"));
	json_decref(doc);
	evhttp_send_reply(req, 204, "No Content", NULL);
}

static void
test_dispatcher(void **state)
{
	struct fixture *f = *state;
	struct app app = { 0 };
	struct receiver r = { .f = f, .fail_first = 1 };
	struct webhook_dispatcher *d = NULL;
	struct egress_config ecfg = { 0 };
	struct evhttp *http;
	struct evhttp_bound_socket *sock;
	struct sockaddr_in sin;
	socklen_t slen = sizeof sin;
	struct webhook w, got;
	char url[64];
	int64_t deadline;

	assert_int_equal(evthread_use_pthreads(), 0);
	app.base = event_base_new();
	app.store = f->st;
	app.keyring = f->kr;
	memcpy(app.cookie_key, f->cookie_key, 32);
	assert_non_null(app.base);
	http = evhttp_new(app.base);
	evhttp_set_gencb(http, receive, &r);
	sock = evhttp_bind_socket_with_handle(http, "127.0.0.1", 0);
	assert_non_null(sock);
	assert_int_equal(getsockname(evhttp_bound_socket_get_fd(sock),
	    (struct sockaddr *)&sin, &slen), 0);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/in",
	    ntohs(sin.sin_port));
	assert_int_equal(webhook_create(f->st, f->kr, f->brand, url,
	    HOOK_SCAN, &w, r.secret), 0);
	add_scans(f, f->brand, &f->batch, 5, 0, sigil_now_us());
	/* The receiver is on loopback, which egress refuses by default. */
	assert_int_equal(egress_policy_allow(&ecfg.policy, "127.0.0.0/8"), 0);
	assert_int_equal(egress_start(app.base, &ecfg, &app.egress), 0);
	assert_int_equal(writer_start(app.store, app.base, 0, &app.writer), 0);
	assert_int_equal(webhook_dispatcher_start(&app, &d), 0);

	deadline = sigil_now_us() + 8000000;
	while (r.events < 5 && sigil_now_us() < deadline)
		event_base_loop(app.base, EVLOOP_ONCE);
	/* Let the progress write follow the reply. */
	for (int i = 0; i < 20; i++)
		event_base_loop(app.base, EVLOOP_NONBLOCK);
	assert_int_equal(r.events, 5);
	assert_int_equal(r.requests, 2);
	assert_int_equal(r.verified, 2);
	/* The retry waited for the backoff (1 s at least). */
	assert_true(r.second_at - r.first_at >= 900000);
	snprintf(url, sizeof url, "%u-scan_", w.id);
	assert_true(strncmp(r.delivery, url, strlen(url)) == 0);

	deadline = sigil_now_us() + 2000000;
	do {
		event_base_loop(app.base, EVLOOP_NONBLOCK);
		assert_int_equal(store_webhook_get(f->st, f->brand, w.id, &got),
		    0);
	} while (got.delivered < 5 && sigil_now_us() < deadline);
	assert_int_equal(got.delivered, 5);
	assert_int_equal(got.scan_cursor, 5);
	assert_int_equal(got.attempts, 0);
	assert_int_equal(got.last_status, 204);

	/* Nothing new: no more requests. */
	deadline = sigil_now_us() + 500000;
	while (sigil_now_us() < deadline)
		event_base_loop(app.base, EVLOOP_NONBLOCK);
	assert_int_equal(r.requests, 2);

	writer_free(app.writer);
	webhook_dispatcher_free(d);
	egress_free(app.egress);
	evhttp_free(http);
	event_base_free(app.base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_parse),
		cmocka_unit_test(test_event_bits),
		cmocka_unit_test(test_sign),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test_setup_teardown(test_create_and_seal, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_events_json, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_collect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dispatcher, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
