/*
 * token.c - brand API tokens.
 *
 * A token is "sgt_" and the base32 of 32 random bytes. Only its SHA-256
 * is stored, so neither the store nor a log line can give one away; the
 * text is shown once, by whoever made it (the users API, the CLI). A
 * token may carry an expiry and the dashboard user who made it, so that
 * disabling or removing that user revokes what their session minted.
 *
 * May call store, util; never reads a request or writes a reply, and
 * never logs a token's text. token_new and token_revoke_user write to
 * the store and touch nothing but it and their arguments: the CLI calls
 * them directly, sigild only from writer ops (accounts.c), never on the
 * event loop.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "sigil/store.h"
#include "sigil/token.h"
#include "sigil/util.h"

#define US_PER_S		1000000LL
#define US_PER_DAY		(86400LL * US_PER_S)
#define CN_OFFSET_US		(8 * 3600LL * US_PER_S)
#define EXPIRY_MIN_S		1
#define EXPIRY_MAX_S		(10LL * 366 * 86400)
#define REVOKE_BATCH		1000

static const char b32[] = "0123456789abcdefghjkmnpqrstvwxyz";

int
token_new(struct store *st, uint32_t brand_id, int role, int64_t expires,
    uint32_t user_id, char out[TOKEN_LEN + 1], struct token *t)
{
	uint8_t raw[32], hash[32];
	char text[TOKEN_LEN + 1];
	struct token tok = { 0 };
	unsigned acc = 0;
	int bits = 0, n = 4, err;

	if (role < ROLE_ADMIN || role > ROLE_ANALYST)
		return SIGIL_EINVAL;
	if ((err = sigil_random(raw, sizeof raw)) != 0)
		return err;
	memcpy(text, TOKEN_PREFIX, 4);
	for (size_t i = 0; i < sizeof raw; i++) {
		acc = acc << 8 | raw[i];
		bits += 8;
		while (bits >= 5) {
			text[n++] = b32[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0)
		text[n++] = b32[(acc << (5 - bits)) & 31];
	text[n] = '\0';
	SHA256((const unsigned char *)text, (size_t)n, hash);
	tok.brand_id = brand_id;
	tok.role = role;
	tok.expires = expires;
	tok.user_id = user_id;
	if ((err = store_token_add(st, hash, &tok)) != 0)
		return err;
	memcpy(out, text, (size_t)n + 1);
	*t = tok;
	return 0;
}

int
token_check(struct store *st, const char *text, int64_t now, struct token *t)
{
	uint8_t hash[32];
	size_t n = strlen(text);

	if (n != TOKEN_LEN || strncmp(text, TOKEN_PREFIX, 4) != 0)
		return SIGIL_EDENIED;
	SHA256((const unsigned char *)text, n, hash);
	if (store_token_find(st, hash, t) != 0 || t->revoked != 0 ||
	    (t->expires != 0 && t->expires <= now))
		return SIGIL_EDENIED;
	return 0;
}

int
token_expiry_parse(const char *text, int64_t seconds, int is_text,
    int64_t now, int64_t *out)
{
	int64_t t;

	if (!is_text) {
		if (seconds < EXPIRY_MIN_S || seconds > EXPIRY_MAX_S)
			return SIGIL_EINVAL;
		*out = now + seconds * US_PER_S;
		return 0;
	}
	if (text == NULL || sigil_time_parse(text, &t) != 0)
		return SIGIL_EINVAL;
	if (strlen(text) == 10)		/* a China day: until its end */
		t += US_PER_DAY - CN_OFFSET_US;
	if (t < now + EXPIRY_MIN_S * US_PER_S ||
	    t > now + EXPIRY_MAX_S * US_PER_S)
		return SIGIL_EINVAL;
	*out = t;
	return 0;
}

/* One walk's worth of a user's live tokens (the walk cannot write). */
struct user_tokens {
	uint32_t	user_id;
	uint32_t	ids[REVOKE_BATCH];
	unsigned	n;
};

static int
user_token_one(void *arg, const struct token *t)
{
	struct user_tokens *x = arg;

	if (t->user_id == x->user_id && t->revoked == 0)
		x->ids[x->n++] = t->id;
	return x->n == REVOKE_BATCH;
}

int
token_revoke_user(struct store *st, uint32_t brand_id, uint32_t user_id,
    unsigned *n)
{
	struct user_tokens *x = calloc(1, sizeof *x);
	int rc = 0;

	if (n != NULL)
		*n = 0;
	if (x == NULL)
		return SIGIL_ENOMEM;
	x->user_id = user_id;
	do {
		x->n = 0;
		if ((rc = store_token_each(st, brand_id, user_token_one, x)) <
		    0)
			break;
		rc = 0;
		for (unsigned i = 0; i < x->n && rc == 0; i++) {
			rc = store_token_revoke(st, x->ids[i]);
			if (rc == SIGIL_ESTATE)
				rc = 0;
			else if (rc == 0 && n != NULL)
				(*n)++;
		}
	} while (rc == 0 && x->n == REVOKE_BATCH);
	free(x);
	return rc;
}
