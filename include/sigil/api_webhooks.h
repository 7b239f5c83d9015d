/*
 * api_webhooks.h - the brand API's webhook endpoints (src/face/
 * api_webhooks.c), called by the brand API router.
 */
#ifndef SIGIL_API_WEBHOOKS_H
#define SIGIL_API_WEBHOOKS_H

#include <stdint.h>

struct app;
struct http_call;
struct json_t;

/*
 * Brand API handlers (api.c authenticates and checks roles first):
 * POST /api/v1/webhooks with the parsed body (a JSON object), GET
 * /api/v1/webhooks, GET and DELETE /api/v1/webhooks/{id}. Each replies
 * once; create and delete after the writer has committed (http_write).
 */
void webhook_api_create(struct http_call *c, struct app *app,
    uint32_t brand_id, struct json_t *body);
void webhook_api_list(struct http_call *c, struct app *app,
    uint32_t brand_id);
void webhook_api_get(struct http_call *c, struct app *app, uint32_t brand_id,
    const char *id);
/* DELETE /api/v1/webhooks/{id}: stops delivery for good (404 when absent
 * or another brand's). A request in flight finishes; its answer is only
 * logged. */
void webhook_api_delete(struct http_call *c, struct app *app,
    uint32_t brand_id, const char *id);

#endif
