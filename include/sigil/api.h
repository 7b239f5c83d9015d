/*
 * api.h - the brand API (/api/v1/..., Authorization: Bearer <token>).
 */
#ifndef SIGIL_API_H
#define SIGIL_API_H

#include <stdint.h>

#include "sigil/store.h"

struct http_call;

#define API_TOKEN_PREFIX	"sgt_"
#define API_TOKEN_LEN		(4 + 52)	/* prefix + base32 of 32 bytes */

/*
 * Creates a token for brand_id with role: 256 random bits, shown once in
 * out (NUL-terminated), stored only as its SHA-256. Sets *t.
 */
int api_token_new(struct store *st, uint32_t brand_id, int role,
    char out[API_TOKEN_LEN + 1], struct token *t);

/*
 * The same with an expiry (microseconds since the epoch, 0 = never) and
 * the dashboard user who made it (0 = none): see src/face/accounts.c.
 */
int api_token_new_ex(struct store *st, uint32_t brand_id, int role,
    int64_t expires, uint32_t user_id, char out[API_TOKEN_LEN + 1],
    struct token *t);

/* "admin", "operator", "analyst" to enum token_role; 0 if unknown. */
int api_role_parse(const char *s);
const char *api_role_name(int role);

/* CBV-style step name of an enum trace_event_type ("shipping", ...). */
const char *api_event_name(int type);

/*
 * http_config.head_auth: 1 when a request head carries a live brand
 * credential (a bearer token that exists and is not revoked, or a live
 * dashboard session cookie), so that its body may be large. Decides the
 * body limit only; api_handle() authenticates the request as ever.
 */
int api_head_auth(void *app, const char *authorization, const char *cookie);

/* The handler behind the /api/v1/ prefix route (after consumer routes). */
void api_handle(struct http_call *c);

#endif
