/*
 * token.h - brand API tokens: made here (256 random bits, shown once,
 * stored only as their SHA-256), checked here, expiring and revoked
 * here. The brand API authenticates with them; the CLI and the users
 * API make and revoke them.
 */
#ifndef SIGIL_TOKEN_H
#define SIGIL_TOKEN_H

#include <stdint.h>

#include "sigil/store.h"

#define TOKEN_PREFIX	"sgt_"
#define TOKEN_LEN	(4 + 52)	/* prefix + base32 of 32 bytes */

/*
 * Creates a token for brand_id with role (an enum token_role), an expiry
 * (microseconds since the epoch, 0 = never) and the dashboard user who
 * made it (0 = none): the text, NUL-terminated, in out (shown once, never
 * stored). Sets *t. 0, SIGIL_EINVAL (role), SIGIL_ECRYPTO, or
 * store_token_add's errors.
 */
int token_new(struct store *st, uint32_t brand_id, int role, int64_t expires,
    uint32_t user_id, char out[TOKEN_LEN + 1], struct token *t);

/*
 * The live token whose text is text (NUL-terminated, "sgt_..."): found,
 * not revoked, not expired at now. 0 with *t, or SIGIL_EDENIED.
 */
int token_check(struct store *st, const char *text, int64_t now,
    struct token *t);

/*
 * Parses a token expiry: a JSON integer of seconds from now (1 s to 10
 * years) or a string accepted by sigil_time_parse in the future (a bare
 * date is the end of that day in China time, UTC+8). Sets *out
 * (microseconds since the epoch). 0 or SIGIL_EINVAL.
 */
int token_expiry_parse(const char *text, int64_t seconds, int is_text,
    int64_t now, int64_t *out);

/*
 * Revokes every unrevoked token of brand_id that user_id made from a
 * dashboard session; *n (may be NULL) says how many. 0 or an error.
 */
int token_revoke_user(struct store *st, uint32_t brand_id, uint32_t user_id,
    unsigned *n);

#endif
