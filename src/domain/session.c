/*
 * session.c - dashboard sessions.
 *
 * A session is 32 random bytes, sent as the HttpOnly, SameSite=Strict
 * cookie SESSION_COOKIE (the dashboard sets it); only its SHA-256 is
 * stored, with the user id, a CSRF token and an expiry SESSION_HOURS
 * on. Every request that changes something must echo the CSRF token in
 * X-CSRF-Token: SameSite already keeps other sites' requests from
 * carrying the cookie, the token also covers older browsers and
 * same-site subdomains. The user is read again on every request, so
 * disabling or removing one ends their sessions at once.
 *
 * Checking a session only reads (session_load, session_live,
 * session_auth run on the event loop for every dashboard request, and
 * the loop never writes to the store): an expired session is refused,
 * exactly as if it were gone, and stays stored until a purge drops it.
 * session_new purges, and the dashboard's logout purges too (both run
 * in writer ops, dashboard.c), so expired sessions go at the rate people
 * sign in and out; nothing a client sees depends on when.
 *
 * May call store and util; never reads a request or writes a reply (the
 * faces hand it the cookie's value and the CSRF header), never logs a
 * cookie. session_new writes: it runs on the writer thread only.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "sigil/session.h"
#include "sigil/store.h"
#include "sigil/util.h"

#define HOUR_US		(3600LL * 1000000)

int
session_hash(const char *value, uint8_t hash[32])
{
	if (strlen(value) != 64 || strspn(value, "0123456789abcdef") != 64)
		return SIGIL_EINVAL;
	SHA256((const unsigned char *)value, 64, hash);
	return 0;
}

int
session_load(struct store *st, const char *value, uint8_t hash[32],
    struct session *s, struct user *u)
{
	if (value == NULL)
		return SIGIL_ENOTFOUND;
	if (session_hash(value, hash) != 0 ||
	    store_session_get(st, hash, s) != 0 ||
	    s->expires <= sigil_now_us())
		return SIGIL_EDENIED;
	return store_user_get(st, s->user_id, u) == 0 && !u->disabled ? 0 :
	    SIGIL_EDENIED;
}

int
session_live(struct store *st, const char *value)
{
	struct session s;
	struct user u;
	uint8_t hash[32];

	return value != NULL && session_hash(value, hash) == 0 &&
	    store_session_get(st, hash, &s) == 0 &&
	    s.expires > sigil_now_us() &&
	    store_user_get(st, s.user_id, &u) == 0 && !u.disabled;
}

int
session_csrf_ok(const struct session *s, const char *header)
{
	uint8_t want[32];

	if (header == NULL || strlen(header) != 64 ||
	    sigil_hex_decode(header, 32, want) != 0)
		return 0;
	return sigil_memeq_ct(want, s->csrf, 32) == 0;
}

int
session_auth(struct store *st, const char *value, const char *csrf,
    int changes, struct token *tok)
{
	struct session s;
	struct user u;
	uint8_t hash[32];
	int rc;

	if ((rc = session_load(st, value, hash, &s, &u)) != 0)
		return rc;
	if (changes && !session_csrf_ok(&s, csrf))
		return SIGIL_EFORGED;
	memset(tok, 0, sizeof *tok);
	tok->id = SESSION_TOKEN_BIT | u.id;
	tok->brand_id = u.brand_id;
	tok->role = u.role;
	tok->created = s.created;
	return 0;
}

int
session_new(struct store *st, uint32_t user_id, int64_t now, char cookie[65],
    struct session *out)
{
	struct session s = { 0 };
	uint8_t raw[32];
	int rc;

	if (sigil_random(raw, sizeof raw) != 0 ||
	    sigil_random(s.csrf, sizeof s.csrf) != 0)
		return SIGIL_ECRYPTO;
	sigil_hex_encode(raw, sizeof raw, cookie);
	OPENSSL_cleanse(raw, sizeof raw);
	SHA256((const unsigned char *)cookie, 64, s.id_hash);
	s.user_id = user_id;
	s.created = now;
	s.expires = now + SESSION_HOURS * HOUR_US;
	/* Expired sessions are dropped here, at the rate people sign in. */
	store_session_purge(st, now, NULL);
	if ((rc = store_session_put(st, &s)) != 0) {
		OPENSSL_cleanse(cookie, 65);
		return rc;
	}
	*out = s;
	return 0;
}
