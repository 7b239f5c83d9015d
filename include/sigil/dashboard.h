/*
 * dashboard.h - the brand dashboard at /admin/: its static files, login
 * with email and password, sessions (cookie sg_s plus a CSRF token), and
 * the dashboard statistics served under the brand API (/api/v1/stats/).
 */
#ifndef SIGIL_DASHBOARD_H
#define SIGIL_DASHBOARD_H

#include <stddef.h>
#include <stdint.h>

#include "sigil/store.h"

struct app;
struct http_call;

#define DASHBOARD_PASSWORD_MIN	10	/* characters (bytes of UTF-8) */
#define DASHBOARD_PASSWORD_MAX	1024
#define DASHBOARD_SESSION_HOURS	12
/* A dashboard session acts as a token whose id is this bit | user id. */
#define DASHBOARD_SESSION_BIT	0x80000000u

/*
 * Remembers web_dir/admin as the directory the static files come from
 * (resolved now, so a later chdir or symlink swap cannot move it). Call
 * once before serving. 0, SIGIL_ENOTFOUND (no such directory),
 * SIGIL_EINVAL (path too long).
 */
int dashboard_init(const char *web_dir);

/* The handler behind the /admin prefix route. */
void dashboard_handle(struct http_call *c);

/*
 * The slow salted hash of a password: scrypt N=2^15 r=8 p=1 over the
 * password with the 16-byte salt, 32 bytes out. About 32 MiB and some
 * tens of milliseconds per call. 0 or SIGIL_ECRYPTO.
 */
int dashboard_password_hash(const char *password, size_t len,
    const uint8_t salt[16], uint8_t out[32]);

/*
 * Creates a dashboard user of brand_id: email lower-cased and checked
 * (1..128 bytes, one '@', no blanks or control bytes), role an enum
 * token_role, password DASHBOARD_PASSWORD_MIN..MAX bytes of UTF-8 (a
 * random salt, then the hash above). Sets *out. SIGIL_EINVAL (with why
 * in err), SIGIL_EEXIST (email in use), SIGIL_ENOTFOUND (no brand),
 * SIGIL_ECRYPTO, storage errors.
 */
int dashboard_user_new(struct store *st, uint32_t brand_id, const char *email,
    int role, const char *password, size_t password_len, struct user *out,
    char *err, size_t errsize);
/*
 * The checks of dashboard_user_new and a fresh salt, without the hash or
 * the store (the brand API hashes on a loginguard thread, then adds the
 * user with store_user_add): fills *out but its hash. 0, SIGIL_EINVAL
 * (why in err), SIGIL_ECRYPTO.
 */
int dashboard_user_prepare(uint32_t brand_id, const char *email, int role,
    const char *password, size_t password_len, struct user *out, char *err,
    size_t errsize);

/*
 * Brand API authentication by session, for requests without a bearer
 * token: the cookie sg_s names a live session whose user is fetched; for
 * a request that changes something (changes != 0) the X-CSRF-Token header
 * must equal the session's token (compared in constant time). On success
 * fills *tok as if the user held a token of its brand and role (tok->id
 * names the session's user, apart from token ids by its top bit).
 * 0; SIGIL_ENOTFOUND (no sg_s cookie at all); SIGIL_EDENIED (a cookie
 * that names no live session of a live user); SIGIL_EFORGED (session
 * fine, CSRF token missing or wrong).
 */
int dashboard_session_auth(struct http_call *c, struct app *app, int changes,
    struct token *tok);
/* 1 when the Cookie header value names a live session of a live user
 * (the CSRF check is dashboard_session_auth's, later); 0 otherwise. */
int dashboard_session_live(struct app *app, const char *cookie_header);

/*
 * Walks every dashboard counter of the last 400 days once, on a thread of
 * its own, so that the counter table's pages are mapped before the first
 * dashboard request instead of during it (over ten million scans a cold
 * process otherwise spends most of a second in page faults on the first
 * stats request). Reads only; never blocks the writer. 0 or SIGIL_EIO
 * (no thread: then nothing is warmed, and nothing else changes).
 */
int dashboard_prewarm_start(struct store *st);
/* Stops the walk early if it still runs and waits for the thread. */
void dashboard_prewarm_stop(void);

/*
 * GET /api/v1/stats/{what} for brand_id: what is "overview", "products",
 * "batches", "campaigns" or "regions" (anything else: 404). Replies.
 */
void dashboard_stats(struct http_call *c, struct app *app, uint32_t brand_id,
    const char *what);

#endif
