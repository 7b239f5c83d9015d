/*
 * route.h - which handler answers which request: the top-level table
 * sigild serves (src/face/route.c) and the brand API's own router
 * behind its /api/v1/ prefix (src/face/route_api.c), which
 * authenticates, limits and dispatches to the api_*, accounts and
 * loyalty handlers.
 */
#ifndef SIGIL_ROUTE_H
#define SIGIL_ROUTE_H

#include <stddef.h>

struct http_call;
struct http_route;

/* The route table behind sigild's one generic callback. */
const struct http_route *route_table(size_t *n);

/* The handler behind the /api/v1/ prefix route (after consumer routes):
 * authenticates, rate-limits per token, checks the role and dispatches. */
void route_api(struct http_call *c);

/* GET /epcis/events (EPCIS 2.0 REST binding): authenticates as route_api. */
void route_epcis(struct http_call *c);

/*
 * http_config.head_auth: 1 when a request head carries a live brand
 * credential (a bearer token that exists and is not revoked, or a live
 * dashboard session cookie), so that its body may be large. Decides the
 * body limit only; route_api() authenticates the request as ever.
 */
int route_api_head_auth(void *app, const char *authorization,
    const char *cookie);

#endif
