/*
 * user.h - dashboard users: the checks on an email, a role and a
 * password, and the slow salted hash a password is kept as. The
 * dashboard's login, the users API and `sigil user` all go through here.
 */
#ifndef SIGIL_USER_H
#define SIGIL_USER_H

#include <stddef.h>
#include <stdint.h>

#include "sigil/store.h"

#define USER_PASSWORD_MIN	10	/* characters (bytes of UTF-8) */
#define USER_PASSWORD_MAX	1024

/*
 * The slow salted hash of a password: scrypt N=2^15 r=8 p=1 over the
 * password with the 16-byte salt, 32 bytes out. About 32 MiB and some
 * tens of milliseconds per call: never on the event loop. 0 or
 * SIGIL_ECRYPTO.
 */
int user_password_hash(const char *password, size_t len,
    const uint8_t salt[16], uint8_t out[32]);

/*
 * An email as users are found by: lower-cased into out (size bytes),
 * 1..128 bytes, one '@' neither first nor last, no blanks, control
 * bytes, '"', '<', '>' or '\\', valid UTF-8. 0 or SIGIL_EINVAL.
 */
int user_email_normalise(const char *in, char *out, size_t size);

/*
 * The checks of user_new and a fresh salt, without the hash or the store
 * (the brand API hashes on an http_login.c thread, then adds the user with
 * store_user_add): fills *out but its hash. 0, SIGIL_EINVAL (why in
 * err), SIGIL_ECRYPTO.
 */
int user_prepare(uint32_t brand_id, const char *email, int role,
    const char *password, size_t password_len, struct user *out, char *err,
    size_t errsize);

/*
 * Creates a dashboard user of brand_id: email as user_email_normalise
 * wants it, role an enum token_role, password USER_PASSWORD_MIN..MAX
 * bytes of UTF-8 (a random salt, then the hash above). Sets *out.
 * SIGIL_EINVAL (with why in err), SIGIL_EEXIST (email in use),
 * SIGIL_ENOTFOUND (no brand), SIGIL_ECRYPTO, storage errors.
 */
int user_new(struct store *st, uint32_t brand_id, const char *email,
    int role, const char *password, size_t password_len, struct user *out,
    char *err, size_t errsize);

#endif
