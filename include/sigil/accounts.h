/*
 * accounts.h - dashboard users and brand API tokens managed over the
 * brand API (/api/v1/users, /api/v1/tokens): list, disable, enable,
 * remove, passwords; token listing, revocation and expiry.
 */
#ifndef SIGIL_ACCOUNTS_H
#define SIGIL_ACCOUNTS_H

#include <stdint.h>

#include "sigil/store.h"

struct app;
struct http_call;

struct accounts_call {
	struct http_call	*c;
	struct app		*app;
	uint32_t		brand_id;
	const struct token	*tok;		/* the caller (or a session) */
	int			method;		/* enum evhttp_cmd_type */
	char			**seg;		/* path segments after /api/v1/ */
	int			nseg;
};

/* 1 when the path is users... or tokens... (a reply was sent), else 0. */
int accounts_api_route(struct accounts_call *a);

/*
 * Parses a token expiry: a JSON integer of seconds from now (1 s to 10
 * years) or a string accepted by sigil_time_parse in the future (a bare
 * date is the end of that day in China time, UTC+8). Sets *out
 * (microseconds since the epoch). 0 or SIGIL_EINVAL.
 */
int accounts_expiry_parse(const char *text, int64_t seconds, int is_text,
    int64_t now, int64_t *out);

/*
 * Revokes every unrevoked token of brand_id that user_id made from a
 * dashboard session; *n (may be NULL) says how many. 0 or an error.
 */
int accounts_revoke_user_tokens(struct store *st, uint32_t brand_id,
    uint32_t user_id, unsigned *n);

#endif
