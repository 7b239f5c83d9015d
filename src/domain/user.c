/*
 * user.c - dashboard users: who may sign in, and how a password is kept.
 *
 * Passwords are hashed with scrypt (N=2^15, r=8, p=1) and a random
 * 16-byte salt per user. The hash is slow on purpose, so the faces run
 * it on http_login.c's threads, never on the event loop; the CLI runs it
 * inline. Emails are compared lower-cased, so one person cannot hold two
 * accounts that differ in case.
 *
 * user_new (checks, hash, store) is the CLI's; sigild takes the steps
 * apart: user_prepare on the loop, the hash on a hashing thread, the
 * store write in a writer op (accounts.c), so the loop never writes.
 *
 * May call store, util and OpenSSL; never reads a request, never logs a
 * password, and wipes every copy of one it made.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "sigil/store.h"
#include "sigil/user.h"
#include "sigil/util.h"

int
user_password_hash(const char *password, size_t len, const uint8_t salt[16],
    uint8_t out[32])
{
	/* 128 * N * r bytes of scrypt state, plus slack. */
	if (EVP_PBE_scrypt(password, len, salt, 16, (uint64_t)1 << 15, 8, 1,
	    64ull << 20, out, 32) != 1)
		return SIGIL_ECRYPTO;
	return 0;
}

int
user_email_normalise(const char *in, char *out, size_t size)
{
	size_t n = strlen(in), at = 0, ats = 0;

	if (n == 0 || n > STORE_NAME_MAX * 2 || n >= size)
		return SIGIL_EINVAL;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)in[i];

		if (ch <= 0x20 || ch == 0x7f || ch == '"' || ch == '<' ||
		    ch == '>' || ch == '\\')
			return SIGIL_EINVAL;
		if (ch == '@') {
			ats++;
			at = i;
		}
		out[i] = (char)tolower(ch);
	}
	out[n] = '\0';
	if (ats != 1 || at == 0 || at == n - 1 || !sigil_utf8_valid(out, n))
		return SIGIL_EINVAL;
	return 0;
}

int
user_prepare(uint32_t brand_id, const char *email, int role,
    const char *password, size_t password_len, struct user *out, char *err,
    size_t errsize)
{
	struct user u = { 0 };
	int rc;

	if (user_email_normalise(email, u.email, sizeof u.email) != 0) {
		snprintf(err, errsize, "email must be 1 to %d bytes with one "
		    "'@' and no blanks", STORE_NAME_MAX * 2);
		return SIGIL_EINVAL;
	}
	if (role < ROLE_ADMIN || role > ROLE_ANALYST) {
		snprintf(err, errsize, "role must be admin, operator or "
		    "analyst");
		return SIGIL_EINVAL;
	}
	if (password_len < USER_PASSWORD_MIN ||
	    password_len > USER_PASSWORD_MAX ||
	    memchr(password, '\0', password_len) != NULL ||
	    !sigil_utf8_valid(password, password_len)) {
		snprintf(err, errsize, "password must be %d to %d bytes of "
		    "UTF-8", USER_PASSWORD_MIN, USER_PASSWORD_MAX);
		return SIGIL_EINVAL;
	}
	u.brand_id = brand_id;
	u.role = role;
	if ((rc = sigil_random(u.salt, sizeof u.salt)) != 0) {
		snprintf(err, errsize, "could not hash the password");
		return rc;
	}
	*out = u;
	return 0;
}

int
user_new(struct store *st, uint32_t brand_id, const char *email, int role,
    const char *password, size_t password_len, struct user *out, char *err,
    size_t errsize)
{
	struct user u;
	int rc;

	if ((rc = user_prepare(brand_id, email, role, password, password_len,
	    &u, err, errsize)) != 0)
		return rc;
	if ((rc = user_password_hash(password, password_len, u.salt,
	    u.hash)) != 0) {
		snprintf(err, errsize, "could not hash the password");
		OPENSSL_cleanse(&u, sizeof u);
		return rc;
	}
	if ((rc = store_user_add(st, &u)) != 0) {
		snprintf(err, errsize, "%s", rc == SIGIL_EEXIST ? "a user with "
		    "this email exists" : sigil_strerror(rc));
		OPENSSL_cleanse(&u, sizeof u);
		return rc;
	}
	*out = u;
	OPENSSL_cleanse(&u, sizeof u);
	return 0;
}
