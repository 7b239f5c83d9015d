/*
 * http_login.c (loginguard) - dashboard login limits and password hashing
 * off the loop: a face helper (it answers 429 and 503 itself), called by
 * the dashboard and accounts handlers.
 *
 * The rule (replaces the old "10 wrong passwords lock the account for 15
 * minutes", which let anyone lock anyone out and told which emails
 * exist; review F14). An attempt on an email, from a client (its IPv4
 * address or IPv6 /64), passes four token buckets of src/ground/ratelimit.c, in
 * this order, before any hashing:
 *   1. the client: 10 attempts, then 1 every 5 s, whatever the account;
 *   2. the (email, client) pair: 5 wrong passwords, then 1 a minute. An
 *      attacker slows down himself only: the owner, from another
 *      network, is not affected;
 *   3. the email: 10 wrong passwords (from anywhere), then 1 a minute,
 *      except for a client that has logged in to this email before (kept
 *      in memory, KNOWN_SLOTS pairs, until a restart): the right owner
 *      from a known network is never slowed by strangers' failures;
 *   4. all logins together: --login-rate a second (burst three times),
 *      so that many networks together cannot queue unbounded hashing.
 * A refusal is 429 with Retry-After. Buckets 2 and 3 are charged only by
 * wrong passwords, after the hash; a right one refills the pair's
 * bucket and makes the client known. Everything is keyed by the email
 * text, existing or not, and unknown emails are hashed too (by the
 * caller, with a dummy salt), so a made-up email answers exactly like a
 * real one: same statuses, same limits, same time.
 *
 * Hashing. scrypt is about 100 ms of CPU: it runs on LOGINGUARD threads
 * of src/ground/workpool.c (one per two CPUs, at most 4, below the loop's
 * priority) with at most LOGINGUARD_QUEUE_MAX waiting; beyond that the
 * caller answers 503. The request is answered from done(), on the loop.
 *
 * Password operations of the brand API (src/face/accounts.c: a user created,
 * one's own password changed, another's reset) hash on the same threads,
 * so the loop never runs scrypt; each caller (session user or token) has
 * a bucket of LOGINGUARD_PASSWORD_BURST, then one every
 * LOGINGUARD_PASSWORD_EVERY_S seconds, taken only once the hash is
 * queued (a refusal, 429 or 503, costs nothing). However often it asks,
 * a caller then gets at most two hashes (a change checks the old
 * password too) every ten seconds after the first five requests.
 *
 * Tables are used from the loop thread only. Calls ratelimit, workpool,
 * http (replies), log, util.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sigil/http.h"
#include "sigil/log.h"
#include "sigil/loginguard.h"
#include "sigil/ratelimit.h"
#include "sigil/util.h"
#include "sigil/workpool.h"

#define CLIENT_BURST		10.0
#define CLIENT_PER_S		0.2
#define PAIR_BURST		5.0
#define PAIR_PER_S		(1.0 / 60)
#define ACCOUNT_BURST		10.0
#define ACCOUNT_PER_S		(1.0 / 60)
#define KNOWN_SLOTS		8192
#define KNOWN_TTL_US		(30LL * 86400 * 1000000)
#define EMAIL_KEY_MAX		300

struct known {
	uint64_t	tag;
	int64_t		at;
};

static struct {
	struct ratelimit *client, *pair, *account, *global, *password;
	struct workpool	*pool;
	uint8_t		known_key[16];
	struct known	known[KNOWN_SLOTS];
} g;

/* The pair key: client key, then the email. */
static size_t
pair_key(struct http_call *c, const char *email, uint8_t *out)
{
	size_t n = strlen(email);

	if (n > EMAIL_KEY_MAX)
		n = EMAIL_KEY_MAX;
	ratelimit_client_key(c->client, 64, out);
	memcpy(out + RATELIMIT_CLIENT_KEY, email, n);
	return RATELIMIT_CLIENT_KEY + n;
}

static struct known *
known_slot(uint64_t tag)
{
	return &g.known[tag % KNOWN_SLOTS];
}

static int
known_is(const uint8_t *key, size_t len, int64_t now)
{
	uint64_t tag = ratelimit_siphash(g.known_key, key, len) | 1;
	struct known *k = known_slot(tag);

	return k->tag == tag && now - k->at < KNOWN_TTL_US;
}

static void
refuse(struct http_call *c, int64_t wait_us, const char *msg)
{
	char retry[24];

	snprintf(retry, sizeof retry, "%lld", (long long)(wait_us / 1000000 +
	    1));
	http_add_header(c, "Retry-After", retry);
	http_reply_error(c, 429, "rate_limited", msg);
}

int
loginguard_admit(struct http_call *c, const char *email)
{
	uint8_t pk[RATELIMIT_CLIENT_KEY + EMAIL_KEY_MAX];
	size_t plen, elen = strlen(email);
	int64_t now = sigil_now_us();
	int32_t all = 0;

	if (g.client == NULL) {
		http_reply_error(c, 503, "unavailable", "login is not ready");
		return 0;
	}
	if (elen > EMAIL_KEY_MAX)
		elen = EMAIL_KEY_MAX;
	if (!ratelimit_client_take(g.client, c->client, now)) {
		refuse(c, ratelimit_client_wait_us(g.client, c->client, now),
		    "too many login attempts from this address; wait a "
		    "little");
		return 0;
	}
	plen = pair_key(c, email, pk);
	if (!ratelimit_peek(g.pair, pk, plen, now)) {
		refuse(c, ratelimit_wait_us(g.pair, pk, plen, now),
		    "too many wrong passwords for this account from this "
		    "address; wait a little");
		return 0;
	}
	if (!ratelimit_peek(g.account, email, elen, now) &&
	    !known_is(pk, plen, now)) {
		static int64_t logged;

		if (now - logged >= 1000000) {	/* at most once a second */
			logged = now;
			log_warn("login_slowed", "client=%s msg=\"an account has "
			    "many wrong passwords; new addresses wait\"",
			    c->client_text);
		}
		refuse(c, ratelimit_wait_us(g.account, email, elen, now),
		    "too many wrong passwords for this account; wait a "
		    "little, or sign in from an address you used before");
		return 0;
	}
	if (!ratelimit_take(g.global, &all, sizeof all, now)) {
		refuse(c, ratelimit_wait_us(g.global, &all, sizeof all, now),
		    "too many logins right now; try again shortly");
		return 0;
	}
	return 1;
}

void
loginguard_record(struct http_call *c, const char *email, int ok)
{
	uint8_t pk[RATELIMIT_CLIENT_KEY + EMAIL_KEY_MAX];
	size_t plen, elen = strlen(email);
	int64_t now = sigil_now_us();

	if (g.pair == NULL)
		return;
	if (elen > EMAIL_KEY_MAX)
		elen = EMAIL_KEY_MAX;
	plen = pair_key(c, email, pk);
	if (ok) {
		uint64_t tag = ratelimit_siphash(g.known_key, pk, plen) | 1;
		struct known *k = known_slot(tag);

		k->tag = tag;
		k->at = now;
		ratelimit_reset(g.pair, pk, plen);
		return;
	}
	ratelimit_take(g.pair, pk, plen, now);
	ratelimit_take(g.account, email, elen, now);
}

int
loginguard_hash(void (*work)(void *), void (*done)(void *), void *arg)
{
	if (g.pool == NULL)
		return SIGIL_EFULL;
	return workpool_submit(g.pool, work, done, arg);
}

int
loginguard_password_hash(struct http_call *c, const char *caller,
    void (*work)(void *), void (*done)(void *), void *arg)
{
	size_t len = strlen(caller);
	int64_t now = sigil_now_us();

	if (g.password == NULL || g.pool == NULL) {
		http_reply_error(c, 503, "unavailable", "password hashing is "
		    "not ready");
		return -1;
	}
	if (!ratelimit_peek(g.password, caller, len, now)) {
		refuse(c, ratelimit_wait_us(g.password, caller, len, now),
		    "too many password operations by this caller; wait a "
		    "little");
		return -1;
	}
	if (workpool_submit(g.pool, work, done, arg) != 0) {
		http_add_header(c, "Retry-After", "2");
		http_reply_error(c, 503, "busy", "too many passwords are being "
		    "hashed; try again in a moment");
		return -1;
	}
	ratelimit_take(g.password, caller, len, now);
	return 0;
}

int
loginguard_init(struct event_base *base, const struct loginguard_config *cfg)
{
	unsigned rate = cfg->global_per_s ? cfg->global_per_s :
	    LOGINGUARD_GLOBAL_DEFAULT, threads = cfg->threads;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int err;

	if (threads == 0)
		threads = ncpu >= 8 ? 4 : ncpu >= 2 ? (unsigned)ncpu / 2 : 1;
	if ((err = sigil_random(g.known_key, sizeof g.known_key)) != 0 ||
	    (err = ratelimit_new(4096, RATELIMIT_WAYS, CLIENT_PER_S,
	    CLIENT_BURST, cfg->rate_flags, &g.client)) != 0 ||
	    (err = ratelimit_new(4096, RATELIMIT_WAYS, PAIR_PER_S, PAIR_BURST,
	    0, &g.pair)) != 0 ||
	    (err = ratelimit_new(4096, RATELIMIT_WAYS, ACCOUNT_PER_S,
	    ACCOUNT_BURST, 0, &g.account)) != 0 ||
	    (err = ratelimit_new(1, 1, rate, 3.0 * rate, 0, &g.global)) != 0 ||
	    (err = ratelimit_new(1024, RATELIMIT_WAYS, 1.0 /
	    LOGINGUARD_PASSWORD_EVERY_S, LOGINGUARD_PASSWORD_BURST, 0,
	    &g.password)) != 0 ||
	    (err = workpool_new(base, threads, LOGINGUARD_QUEUE_MAX,
	    &g.pool)) != 0) {
		loginguard_fini();
		return err;
	}
	return 0;
}

void
loginguard_fini(void)
{
	workpool_free(g.pool);
	ratelimit_free(g.client);
	ratelimit_free(g.pair);
	ratelimit_free(g.account);
	ratelimit_free(g.global);
	ratelimit_free(g.password);
	memset(&g, 0, sizeof g);
}
