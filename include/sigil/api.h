/*
 * api.h - the brand API (/api/v1/..., Authorization: Bearer <token> or a
 * dashboard session): the call every handler of it receives, the toolkit
 * they share (src/face/http_api.c: bodies, fields, errors, codes of the
 * caller's brand, the JSON of objects several resources show), and the
 * handlers themselves, one file per family of resources, which
 * src/face/route_api.c's table names. A handler that writes hands the
 * write to the writer thread (http_write.h) and answers from its reply
 * callback, after the commit.
 */
#ifndef SIGIL_API_H
#define SIGIL_API_H

#include <stddef.h>
#include <stdint.h>

#include "sigil/store.h"

struct app;
struct http_call;
struct json_t;

#define API_SEGS_MAX	8
#define API_LIST_MAX	1000

/*
 * One authenticated brand API request, on the router's stack: the caller
 * (a token, or a session acting as one) and its brand, the path after
 * /api/v1/ cut into segments, and the JSON body once api_body() read it
 * (the router frees it after the handler).
 */
struct api_call {
	struct http_call	*c;
	struct app		*app;
	int			method;		/* enum evhttp_cmd_type; HEAD
						   is GET */
	struct token		tok;
	struct brand		brand;
	char			buf[1024];
	char			*seg[API_SEGS_MAX];
	int			nseg;
	struct json_t		*body;
};

/* ---- the toolkit (http_api.c) ---- */

/* Replies {"error": {code, message}} with status. */
void api_fail(struct api_call *a, int status, const char *code,
    const char *msg);
/* Replies o (a json_t *, reference stolen) with status. */
void api_reply(struct api_call *a, int status, struct json_t *o);
/* Replies for a store error about what: 404, 409, 422 or 503. */
void api_store_fail(struct api_call *a, int err, const char *what);
/*
 * The same for the reply callback of a writer op (http_write.h), which
 * has the call but no api_call (that lives on the router's stack): err
 * is the op's result, or SIGIL_EBUSY / SIGIL_ENOMEM when nothing ran
 * (both 503, as any other storage error).
 */
void api_write_fail(struct http_call *c, int err, const char *what);
/*
 * The whole reply of a write answered with one JSON object: status with
 * o when err is 0, else api_write_fail(c, err, what). o is stolen either
 * way (built from the op's argument, which is readable even on error).
 */
void api_write_reply(struct http_call *c, int err, const char *what,
    int status, struct json_t *o);
/* Appends o to the array arr; 1 when it holds API_LIST_MAX, for a store
 * walk to stop. */
int api_list_add(struct json_t *arr, struct json_t *o);
/* Replies {key: arr} (arr stolen), or the store error err (< 0) of the
 * walk that filled it. */
void api_reply_list(struct api_call *a, const char *key, struct json_t *arr,
    int err);

/* A decimal id 1..max: 0 with *out, or -1. */
int api_parse_id(const char *s, uint64_t max, uint64_t *out);
/*
 * The query parameter name, copied into out, or NULL (absent, too long,
 * not valid UTF-8, or holding a control byte).
 */
const char *api_query(struct api_call *a, const char *name, char *out,
    size_t size);
/* after, limit (1..API_LIST_MAX, 100) and, if since is not NULL, since:
 * 0, or -1 after replying 400. */
int api_paging(struct api_call *a, uint64_t *after, size_t *limit,
    int64_t *since);

/*
 * The paged lists' query, refusing with 422 `invalid`:
 * ?limit= 1..API_LIST_MAX (dflt when absent); an id parameter 1..max
 * (out 0 when absent). 0, or -1 after replying.
 */
int api_query_limit(struct api_call *a, size_t dflt, size_t *limit);
/* Was the query parameter name sent at all (even empty or not text)? */
int api_query_present(struct api_call *a, const char *name);
int api_query_id(struct api_call *a, const char *name, uint64_t max,
    uint64_t *out);
/*
 * The query parameter name into out: 1, 0 when absent, or -1 after
 * replying 400 bad_query (longer than size - 1, not UTF-8, a control
 * byte): a filter given is never silently dropped.
 */
int api_query_arg(struct api_call *a, const char *name, char *out,
    size_t size);
/* A newest-first page: limit (1..max, def when absent) and before (an
 * id, 0 when absent): 0, or -1 after replying 400. */
int api_page_back(struct api_call *a, size_t def, size_t max, size_t *limit,
    uint64_t *before);
/* ?tz= as minutes east of UTC (scan_export_tz_parse; 0 when absent):
 * 0, or -1 after replying 400. */
int api_query_zone(struct api_call *a, int *tz_minutes);
/* A time bound ?name= (scan_export_bound: a date is local in the zone,
 * end 1 for the day after): 1 with *out, 0 absent, -1 after 400. */
int api_query_bound(struct api_call *a, const char *name, int tz_minutes,
    int end, int64_t *out);

/* Parses the body as a JSON object into a->body: 0, or -1 after replying
 * (413 too large, 400 not a JSON object). */
int api_body(struct api_call *a);
/* A string field of a->body of at most max characters: 0 (out "" when
 * optional and absent), or -1 after replying 422. */
int api_field_str(struct api_call *a, const char *key, size_t max,
    int required, char *out, size_t size);
/* An integer field lo..hi: 0 (out untouched when optional and absent),
 * or -1 after replying 422. */
int api_field_uint(struct api_call *a, const char *key, uint64_t lo,
    uint64_t hi, int required, uint64_t *out);

/*
 * Resolves a code (compact, URL or Digital Link) of the caller's brand:
 * 0 with *serial and *batch, or -1 after replying (malformed 422,
 * anything else, another brand's code included, 404).
 */
int api_code_of_brand(struct api_call *a, const char *text,
    uint64_t *serial, struct batch *batch);
/* The codes of the array field key, each resolved as above (one key
 * derivation and batch lookup per run of a batch): 0 with *out
 * (malloc'd) and *n, or -1 after replying. */
int api_code_list(struct api_call *a, const char *key, uint64_t **out,
    size_t *n);
/* The compact URL of serial of batch b, signed again: 0 or -1. */
int api_code_url(struct api_call *a, const struct batch *b, uint64_t serial,
    char *out, size_t size);

/*
 * The brand's GS1 company prefix (6 to 12 digits), kept under the key
 * API_GCP_KEY of its settings (brand_settings, beside loyalty's tiers):
 * 0 with gcp set, or SIGIL_ENOTFOUND when it has none. Callable from the
 * writer thread too (it takes the store, not a call).
 */
#define API_GCP_KEY	"gs1_company_prefix"
int api_brand_gcp(struct store *st, uint32_t brand_id, char gcp[13]);

/* The JSON the API shows of a product, a batch, a shipment. */
struct json_t *api_product_json(const struct product *p);
struct json_t *api_batch_json(const struct batch *b);
struct json_t *api_shipment_json(const struct shipment *s);

/* ---- handlers: products and batches (api_catalog.c) ---- */
void api_products_create(struct api_call *a);
void api_products_get(struct api_call *a);
void api_batches_create(struct api_call *a);
void api_batches_list(struct api_call *a);
void api_batches_get(struct api_call *a);
void api_batches_activate(struct api_call *a);
void api_batches_revoke(struct api_call *a);
void api_batches_print(struct api_call *a);	/* api_print.c */
void api_label_stocks(struct api_call *a);

/* ---- handlers: paged lists, a product's change (api_lists.c) ---- */
void api_products_list(struct api_call *a);
void api_products_patch(struct api_call *a);
void api_shipments_list(struct api_call *a);

/* ---- handlers: the audit trail (api_audit.c) ---- */
void api_audit_list(struct api_call *a);
void api_audit_export(struct api_call *a);	/* audit/export.csv */
/* api_privacy.c */
void api_privacy_notices(struct api_call *a);	/* GET privacy/notices */
void api_privacy_notice_add(struct api_call *a);	/* POST privacy/notices */
void api_privacy_settings(struct api_call *a);	/* GET privacy/settings */
void api_privacy_settings_put(struct api_call *a);	/* PUT the same */
void api_customer_consents(struct api_call *a);	/* customers/{id}/consents */
void api_customer_profile(struct api_call *a);	/* customers/{id}/profile */
void api_consents_export(struct api_call *a);	/* exports/consents */

/* ---- handlers: the supply chain (api_trace.c) ---- */
void api_aggregations_pack(struct api_call *a);
void api_aggregations_unpack(struct api_call *a);
void api_orders_list(struct api_call *a);	/* api_orders.c */
void api_orders_fulfil(struct api_call *a);
void api_distributors_create(struct api_call *a);
void api_distributors_patch(struct api_call *a);
void api_distributors_list(struct api_call *a);
void api_distributors_get(struct api_call *a);
void api_shipments_create(struct api_call *a);
void api_shipments_get(struct api_call *a);
void api_shipments_receive(struct api_call *a);

/* ---- handlers: EPCIS 2.0 (api_epcis.c) ---- */
/* GET /api/v1/epcis/events: sigil's own parameters (limit, after, ...). */
void api_epcis_events(struct api_call *a);
/* GET /epcis/events: the EPCIS 2.0 REST binding's query parameters. */
void api_epcis_rest(struct api_call *a);
/* GET and POST /api/v1/epcis/settings: the GS1 company prefix. */
void api_epcis_settings_get(struct api_call *a);
void api_epcis_settings_set(struct api_call *a);

/* ---- handlers: the brand's retention period (api_retention.c) ---- */
void api_retention_get(struct api_call *a);
void api_retention_put(struct api_call *a);
void api_retention_run(struct api_call *a);

/* ---- handlers: one code's story, its corrections, alerts (api_codes.c) */
void api_codes_get(struct api_call *a);
void api_codes_clear(struct api_call *a);
void api_codes_pin_unlock(struct api_call *a);
void api_alerts_list(struct api_call *a);
/* api_alerts.c: one alert, its status, the actions on its code. */
void api_alerts_get(struct api_call *a);
void api_alerts_patch(struct api_call *a);
void api_alerts_action(struct api_call *a);

/*
 * ---- handlers: the brand's people (api_feedback.c, api_exports.c,
 * api_history.c) ----
 * GET feedback (the inbox, newest first), GET exports/scans (streamed
 * CSV or NDJSON), GET customers/{id}/history (scans, claims, orders,
 * ledger, each newest first and paged).
 */
void api_feedback_list(struct api_call *a);
/* feedback/{id}, its reply, close and photo, feedback/settings (the
 * rating-drop thresholds): api_feedback.c; stats/satisfaction:
 * api_satisfaction.c. */
void api_feedback_get(struct api_call *a);
void api_feedback_reply(struct api_call *a);
void api_feedback_close(struct api_call *a);
void api_feedback_photo(struct api_call *a);
void api_feedback_settings_get(struct api_call *a);
void api_feedback_settings_put(struct api_call *a);
void api_stats_satisfaction(struct api_call *a);
void api_exports_scans(struct api_call *a);

/* ---- handlers: the sales channel (api_sellers.c) ---- */
void api_stores_list(struct api_call *a);	/* GET stores */
void api_stores_create(struct api_call *a);	/* POST stores */
void api_stores_get(struct api_call *a);	/* GET stores/{id} */
void api_stores_patch(struct api_call *a);	/* PATCH stores/{id} */
void api_stores_delete(struct api_call *a);	/* DELETE stores/{id} */
void api_store_sellers(struct api_call *a);	/* GET stores/{id}/sellers */
void api_store_seller_add(struct api_call *a);	/* POST the same */
/* DELETE stores/{id}/sellers/{customer} */
void api_store_seller_remove(struct api_call *a);
void api_channel_tree(struct api_call *a);	/* GET channel/tree */
void api_channel_results(struct api_call *a);	/* GET channel/results */
void api_bindings_get(struct api_call *a);	/* GET bindings?code= */
void api_bindings_move(struct api_call *a);	/* POST bindings/move */
void api_exports_channel(struct api_call *a);	/* GET exports/channel.csv */
void api_customer_history(struct api_call *a);

/* ---- handlers: the dashboard's statistics (api_stats.c) ---- */
void api_stats_get(struct api_call *a);		/* stats/{what} */

/*
 * ---- handlers: lifecycle messages (api_messages.c) ----
 * messages (GET list, POST create), messages/{id} (GET, PUT, DELETE),
 * messages/dry-run (POST a definition), messages/{id}/dry-run (POST),
 * messages/{id}/deliveries (GET), outbox (GET: every kind of row),
 * messages/settings (GET, PUT).
 */
void api_messages_list(struct api_call *a);
void api_messages_create(struct api_call *a);
void api_messages_get(struct api_call *a);
void api_messages_update(struct api_call *a);
void api_messages_delete(struct api_call *a);
void api_messages_dry_run_body(struct api_call *a);
void api_messages_dry_run(struct api_call *a);
void api_messages_deliveries(struct api_call *a);
void api_outbox_list(struct api_call *a);
void api_messages_settings_get(struct api_call *a);	/* messages/settings */
void api_messages_settings_put(struct api_call *a);

/*
 * ---- handlers: CRM webhooks (api_webhooks.c) ----
 * POST webhooks (the body: url, events), GET webhooks, GET and DELETE
 * webhooks/{id}. Create and delete answer after the writer has committed
 * (http_write); delete stops delivery for good (404 when absent or
 * another brand's), a request in flight finishes and its answer is only
 * logged.
 */
void api_webhooks_create(struct api_call *a);
void api_webhooks_list(struct api_call *a);
void api_webhooks_get(struct api_call *a);
void api_webhooks_delete(struct api_call *a);

/*
 * ---- handlers: alert notifications (api_notify.c) ----
 * GET and POST notify/rules, GET, PUT and DELETE notify/rules/{id},
 * POST notify/rules/{id}/digest, POST notify/test (docs/api.md).
 */
void api_notify_rules_list(struct api_call *a);
void api_notify_rules_create(struct api_call *a);
void api_notify_rules_get(struct api_call *a);
void api_notify_rules_update(struct api_call *a);
void api_notify_rules_delete(struct api_call *a);
void api_notify_rules_digest(struct api_call *a);
void api_notify_test(struct api_call *a);

/*
 * ---- handlers: redirect rules (api_redirects.c) ----
 * POST redirects, GET redirects (?sku=&batch=), GET, PATCH and DELETE
 * redirects/{id}; changes answer after the writer has committed.
 */
void api_redirects_create(struct api_call *a);
void api_redirects_list(struct api_call *a);
void api_redirects_get(struct api_call *a);
void api_redirects_patch(struct api_call *a);
void api_redirects_delete(struct api_call *a);

/*
 * ---- handlers: the brand's landing-page content (api_content.c) ----
 * GET content; GET, PUT and DELETE content/brand/{lang},
 * content/products/{sku}/{lang}, content/batches/{id}/{lang}; GET and
 * POST images, DELETE images/{id}; POST preview. Writes answer after
 * the commit (http_write).
 */
void api_content_list(struct api_call *a);
void api_content_get(struct api_call *a);
void api_content_put(struct api_call *a);
void api_content_delete(struct api_call *a);
void api_images_list(struct api_call *a);
void api_images_create(struct api_call *a);
void api_images_delete(struct api_call *a);
void api_preview(struct api_call *a);
/* GET /i/{id}: public, one image with its type, ETag and caching. */
void content_image_serve(struct http_call *c);

/*
 * ---- handlers: GS1 links (api_links.c) ----
 * POST links, GET links (?gtin=&lot=&serial=&sku=&batch=), GET, PATCH
 * and DELETE links/{id}; docs/api.md has the fields.
 */
void api_links_create(struct api_call *a);
void api_links_list(struct api_call *a);
void api_links_get(struct api_call *a);
void api_links_patch(struct api_call *a);
void api_links_delete(struct api_call *a);

/*
 * ---- handlers: customer segments (api_segments.c) ----
 * POST segments/count and POST segments both reach api_segments_create,
 * which tells them apart.
 */
void api_segments_create(struct api_call *a);
void api_segments_list(struct api_call *a);
void api_segments_get(struct api_call *a);
void api_segments_update(struct api_call *a);
void api_segments_delete(struct api_call *a);
void api_segments_export(struct api_call *a);

/*
 * ---- handlers: the customer list and counts (customers_api.c) ----
 * GET customers (paged, ?tier=&segment=&role= filters; the ?phone=
 * search stays loyalty_api.c's) and GET customers/summary (counted on
 * a worker thread; 503 busy when they are all taken).
 */
void customers_api_list(struct api_call *a);
void customers_api_summary(struct api_call *a);

/*
 * ---- handlers: cash rewards (api_payouts.c, api_pay_settings.c) ----
 * GET payouts, payouts/{claim_id}, payouts/cash, payouts/statement
 * (and statement.csv); POST payouts/{claim_id}/approve and /reject,
 * payouts/reconcile; GET campaigns/{id}/cash; GET and PUT
 * payments/settings, PUT payments/keys (docs/payments.md).
 */
void api_payouts_list(struct api_call *a);
void api_payouts_get(struct api_call *a);
void api_payouts_approve(struct api_call *a);
void api_payouts_reject(struct api_call *a);
void api_payouts_cash(struct api_call *a);
void api_campaign_cash(struct api_call *a);
void api_payouts_statement(struct api_call *a);
void api_payouts_statement_csv(struct api_call *a);
void api_payouts_reconcile(struct api_call *a);
void api_pay_settings_get(struct api_call *a);
void api_pay_settings_put(struct api_call *a);
void api_pay_keys_put(struct api_call *a);

#endif
