/*
 * session.h - dashboard sessions: a person signed in with email and
 * password holds a session cookie (SESSION_COOKIE) and a CSRF token, and
 * acts through the brand API as a token of their brand and role would.
 * The dashboard makes and ends sessions; the brand API accepts them.
 * Everything here takes the cookie's value and headers as strings: no
 * request, no reply.
 */
#ifndef SIGIL_SESSION_H
#define SIGIL_SESSION_H

#include <stdint.h>

#include "sigil/store.h"

#define SESSION_COOKIE		"sg_s"
#define SESSION_COOKIE_MAX	80	/* bytes read of the cookie's value */
#define SESSION_HOURS		12
/* A session acts as a token whose id is this bit | user id. */
#define SESSION_TOKEN_BIT	0x80000000u

/* The SHA-256 a session is stored under, of a cookie value of 64 hex
 * digits. 0 or SIGIL_EINVAL (not such a value). */
int session_hash(const char *value, uint8_t hash[32]);

/*
 * The live session the cookie value names, and its user, read fresh (a
 * role change, disabling or removal counts at once); hash is set to the
 * session's. Reads only: an expired session is refused, not deleted
 * (session_new and the logout purge those). 0; SIGIL_ENOTFOUND (value
 * NULL: no cookie at all); SIGIL_EDENIED (a value that names no live
 * session of a live user).
 */
int session_load(struct store *st, const char *value, uint8_t hash[32],
    struct session *s, struct user *u);

/* 1 when the cookie value (or NULL) names a live session of a live user,
 * else 0. Reads only (the CSRF check is session_auth's, later). */
int session_live(struct store *st, const char *value);

/* 1 when header (X-CSRF-Token, or NULL) holds s's CSRF token, compared
 * in constant time; else 0. */
int session_csrf_ok(const struct session *s, const char *header);

/*
 * Brand API authentication by session: session_load, and for a request
 * that changes something (changes != 0) the CSRF check. On success fills
 * *tok as if the user held a token of its brand and role (tok->id is
 * SESSION_TOKEN_BIT | user id). 0, SIGIL_ENOTFOUND, SIGIL_EDENIED (as
 * session_load), SIGIL_EFORGED (session fine, CSRF token missing or
 * wrong).
 */
int session_auth(struct store *st, const char *value, const char *csrf,
    int changes, struct token *tok);

/*
 * A new session of user_id from now for SESSION_HOURS: 32 random bytes
 * as 64 hex digits in cookie (the only copy; the store keeps its
 * SHA-256), a random CSRF token, *out set. Expired sessions are dropped
 * first. 0, SIGIL_ECRYPTO (no randomness) or a storage error.
 */
int session_new(struct store *st, uint32_t user_id, int64_t now,
    char cookie[65], struct session *out);

#endif
