/*
 * route_api.c - the brand API's router: everything under /api/v1/ that
 * is not a consumer route (route.c) comes here.
 *
 * Every request carries "Authorization: Bearer sgt_..." (token.c checks
 * it) or, from the dashboard, a session cookie and, for a change, its
 * CSRF token (session.c); from then on the request is scoped to that
 * brand. Brand isolation is structural: every handler takes the brand
 * from the call, and an object of another brand is reported exactly
 * like a missing one (404), so a token cannot even learn that it exists.
 * Each token (or session user) has its own rate limit (token bucket,
 * --api-rate-limit per second). Then the path is cut into segments and
 * given to the first router that knows it: users and tokens
 * (accounts.c), campaigns, customers, the catalog and settings
 * (loyalty.c), then this file's table, which checks the role (role.c)
 * before it calls an api_*.c handler.
 *
 * route_epcis() serves the EPCIS 2.0 REST binding's /epcis/events, a
 * top-level path (route.c), with the same credentials, limit and role
 * check, its refusals in the binding's problem shape.
 *
 * Routing, not a handler: it may call every brand API handler and
 * http_api.c; it answers only what no handler is reached for (401, 403,
 * 404, 405, 429). Never reads or writes a resource itself.
 */
#include <stdio.h>
#include <string.h>

#include <event2/http.h>
#include <jansson.h>

#include "sigil/accounts.h"
#include "sigil/api.h"
#include "sigil/app.h"
#include "sigil/http.h"
#include "sigil/loyalty.h"
#include "sigil/ratelimit.h"
#include "sigil/role.h"
#include "sigil/route.h"
#include "sigil/session.h"
#include "sigil/store.h"
#include "sigil/token.h"
#include "sigil/util.h"
#include "sigil/wechat_http.h"

#define TOKEN_SETS	1024	/* x RATELIMIT_WAYS tokens and sessions */

struct api_route {
	int		method;
	const char	*pattern;	/* "batches/ * /activate", '*' any */
	int		need;		/* enum role_need */
	void		(*fn)(struct api_call *a);
};

/* Per token (or dashboard session user), made on first use. */
static struct ratelimit *token_rl;
static unsigned token_rl_rate;

static int
token_rate_allow(uint32_t id, unsigned rate)
{
	if (rate == 0)
		return 1;
	if (token_rl == NULL || token_rl_rate != rate) {
		ratelimit_free(token_rl);
		token_rl = NULL;
		if (ratelimit_new(TOKEN_SETS, RATELIMIT_WAYS, rate, 2.0 * rate,
		    0, &token_rl) != 0)
			return 0;
		token_rl_rate = rate;
	}
	return ratelimit_take(token_rl, &id, sizeof id, sigil_now_us());
}

/* ---- the table ---- */

static const struct api_route api_routes[] = {
	{ EVHTTP_REQ_GET, "products", ROLE_NEED_READ, api_products_list },
	{ EVHTTP_REQ_GET, "products/*", ROLE_NEED_READ, api_products_get },
	{ EVHTTP_REQ_PATCH, "products/*", ROLE_NEED_ADMIN, api_products_patch },
	{ EVHTTP_REQ_POST, "products", ROLE_NEED_ADMIN, api_products_create },
	{ EVHTTP_REQ_GET, "batches", ROLE_NEED_READ, api_batches_list },
	{ EVHTTP_REQ_POST, "batches", ROLE_NEED_OPERATE, api_batches_create },
	{ EVHTTP_REQ_GET, "batches/*", ROLE_NEED_READ, api_batches_get },
	{ EVHTTP_REQ_POST, "batches/*/activate", ROLE_NEED_OPERATE,
	    api_batches_activate },
	{ EVHTTP_REQ_POST, "batches/*/revoke", ROLE_NEED_OPERATE,
	    api_batches_revoke },
	{ EVHTTP_REQ_GET, "batches/*/*", ROLE_NEED_OPERATE, api_batches_print },
	{ EVHTTP_REQ_GET, "label-stocks", ROLE_NEED_READ, api_label_stocks },
	{ EVHTTP_REQ_POST, "aggregations", ROLE_NEED_OPERATE,
	    api_aggregations_pack },
	{ EVHTTP_REQ_POST, "aggregations/unpack", ROLE_NEED_OPERATE,
	    api_aggregations_unpack },
	{ EVHTTP_REQ_GET, "distributors", ROLE_NEED_READ,
	    api_distributors_list },
	{ EVHTTP_REQ_POST, "distributors", ROLE_NEED_ADMIN,
	    api_distributors_create },
	{ EVHTTP_REQ_GET, "distributors/*", ROLE_NEED_READ,
	    api_distributors_get },
	{ EVHTTP_REQ_PATCH, "distributors/*", ROLE_NEED_ADMIN,
	    api_distributors_patch },
	{ EVHTTP_REQ_GET, "stores", ROLE_NEED_READ, api_stores_list },
	{ EVHTTP_REQ_POST, "stores", ROLE_NEED_ADMIN, api_stores_create },
	{ EVHTTP_REQ_GET, "stores/*", ROLE_NEED_READ, api_stores_get },
	{ EVHTTP_REQ_PATCH, "stores/*", ROLE_NEED_ADMIN, api_stores_patch },
	{ EVHTTP_REQ_DELETE, "stores/*", ROLE_NEED_ADMIN, api_stores_delete },
	{ EVHTTP_REQ_GET, "stores/*/sellers", ROLE_NEED_READ,
	    api_store_sellers },
	{ EVHTTP_REQ_POST, "stores/*/sellers", ROLE_NEED_ADMIN,
	    api_store_seller_add },
	{ EVHTTP_REQ_DELETE, "stores/*/sellers/*", ROLE_NEED_ADMIN,
	    api_store_seller_remove },
	{ EVHTTP_REQ_GET, "channel/tree", ROLE_NEED_READ, api_channel_tree },
	{ EVHTTP_REQ_GET, "channel/results", ROLE_NEED_READ,
	    api_channel_results },
	{ EVHTTP_REQ_GET, "bindings", ROLE_NEED_READ, api_bindings_get },
	{ EVHTTP_REQ_POST, "bindings/move", ROLE_NEED_OPERATE,
	    api_bindings_move },
	{ EVHTTP_REQ_GET, "exports/channel.csv", ROLE_NEED_OPERATE,
	    api_exports_channel },
	{ EVHTTP_REQ_GET, "shipments", ROLE_NEED_READ, api_shipments_list },
	{ EVHTTP_REQ_POST, "shipments", ROLE_NEED_OPERATE,
	    api_shipments_create },
	{ EVHTTP_REQ_GET, "shipments/*", ROLE_NEED_READ, api_shipments_get },
	{ EVHTTP_REQ_POST, "shipments/*/receive", ROLE_NEED_OPERATE,
	    api_shipments_receive },
	{ EVHTTP_REQ_GET, "codes/*", ROLE_NEED_READ, api_codes_get },
	{ EVHTTP_REQ_POST, "codes/*/clear", ROLE_NEED_OPERATE,
	    api_codes_clear },
	{ EVHTTP_REQ_POST, "codes/*/pin-unlock", ROLE_NEED_OPERATE,
	    api_codes_pin_unlock },
	{ EVHTTP_REQ_GET, "alerts", ROLE_NEED_READ, api_alerts_list },
	{ EVHTTP_REQ_GET, "alerts/*", ROLE_NEED_READ, api_alerts_get },
	{ EVHTTP_REQ_PATCH, "alerts/*", ROLE_NEED_OPERATE, api_alerts_patch },
	{ EVHTTP_REQ_POST, "alerts/*/actions", ROLE_NEED_OPERATE,
	    api_alerts_action },
	{ EVHTTP_REQ_GET, "orders", ROLE_NEED_OPERATE, api_orders_list },
	{ EVHTTP_REQ_GET, "feedback", ROLE_NEED_READ, api_feedback_list },
	{ EVHTTP_REQ_GET, "feedback/settings", ROLE_NEED_READ,
	    api_feedback_settings_get },
	{ EVHTTP_REQ_PUT, "feedback/settings", ROLE_NEED_ADMIN,
	    api_feedback_settings_put },
	{ EVHTTP_REQ_GET, "feedback/*", ROLE_NEED_READ, api_feedback_get },
	{ EVHTTP_REQ_GET, "feedback/*/photo", ROLE_NEED_READ,
	    api_feedback_photo },
	{ EVHTTP_REQ_POST, "feedback/*/reply", ROLE_NEED_OPERATE,
	    api_feedback_reply },
	{ EVHTTP_REQ_POST, "feedback/*/close", ROLE_NEED_OPERATE,
	    api_feedback_close },
	{ EVHTTP_REQ_GET, "exports/scans", ROLE_NEED_OPERATE,
	    api_exports_scans },
	{ EVHTTP_REQ_GET, "customers", ROLE_NEED_READ, customers_api_list },
	{ EVHTTP_REQ_GET, "customers/summary", ROLE_NEED_READ,
	    customers_api_summary },
	{ EVHTTP_REQ_GET, "customers/*/history", ROLE_NEED_READ,
	    api_customer_history },
	{ EVHTTP_REQ_POST, "orders/*/fulfil", ROLE_NEED_OPERATE,
	    api_orders_fulfil },
	{ EVHTTP_REQ_GET, "epcis/events", ROLE_NEED_READ, api_epcis_events },
	{ EVHTTP_REQ_GET, "epcis/settings", ROLE_NEED_READ,
	    api_epcis_settings_get },
	{ EVHTTP_REQ_POST, "epcis/settings", ROLE_NEED_ADMIN,
	    api_epcis_settings_set },
	{ EVHTTP_REQ_GET, "privacy/retention", ROLE_NEED_READ,
	    api_retention_get },
	{ EVHTTP_REQ_PUT, "privacy/retention", ROLE_NEED_ADMIN,
	    api_retention_put },
	{ EVHTTP_REQ_POST, "privacy/retention/run", ROLE_NEED_ADMIN,
	    api_retention_run },
	{ EVHTTP_REQ_GET, "wechat", ROLE_NEED_ADMIN, api_wechat_get },
	{ EVHTTP_REQ_PUT, "wechat", ROLE_NEED_ADMIN, api_wechat_put },
	{ EVHTTP_REQ_GET, "notify/rules", ROLE_NEED_ADMIN,
	    api_notify_rules_list },
	{ EVHTTP_REQ_POST, "notify/rules", ROLE_NEED_ADMIN,
	    api_notify_rules_create },
	{ EVHTTP_REQ_GET, "notify/rules/*", ROLE_NEED_ADMIN,
	    api_notify_rules_get },
	{ EVHTTP_REQ_PUT, "notify/rules/*", ROLE_NEED_ADMIN,
	    api_notify_rules_update },
	{ EVHTTP_REQ_DELETE, "notify/rules/*", ROLE_NEED_ADMIN,
	    api_notify_rules_delete },
	{ EVHTTP_REQ_POST, "notify/rules/*/digest", ROLE_NEED_ADMIN,
	    api_notify_rules_digest },
	{ EVHTTP_REQ_POST, "notify/test", ROLE_NEED_ADMIN, api_notify_test },
	{ EVHTTP_REQ_GET, "messages", ROLE_NEED_READ, api_messages_list },
	{ EVHTTP_REQ_POST, "messages", ROLE_NEED_OPERATE,
	    api_messages_create },
	{ EVHTTP_REQ_POST, "messages/dry-run", ROLE_NEED_OPERATE,
	    api_messages_dry_run_body },
	{ EVHTTP_REQ_GET, "messages/settings", ROLE_NEED_READ,
	    api_messages_settings_get },
	{ EVHTTP_REQ_PUT, "messages/settings", ROLE_NEED_OPERATE,
	    api_messages_settings_put },
	{ EVHTTP_REQ_GET, "messages/*", ROLE_NEED_READ, api_messages_get },
	{ EVHTTP_REQ_PUT, "messages/*", ROLE_NEED_OPERATE,
	    api_messages_update },
	{ EVHTTP_REQ_DELETE, "messages/*", ROLE_NEED_OPERATE,
	    api_messages_delete },
	{ EVHTTP_REQ_POST, "messages/*/dry-run", ROLE_NEED_OPERATE,
	    api_messages_dry_run },
	{ EVHTTP_REQ_GET, "messages/*/deliveries", ROLE_NEED_READ,
	    api_messages_deliveries },
	{ EVHTTP_REQ_GET, "outbox", ROLE_NEED_READ, api_outbox_list },
	{ EVHTTP_REQ_GET, "webhooks", ROLE_NEED_ADMIN, api_webhooks_list },
	{ EVHTTP_REQ_POST, "webhooks", ROLE_NEED_ADMIN,
	    api_webhooks_create },
	{ EVHTTP_REQ_GET, "webhooks/*", ROLE_NEED_ADMIN, api_webhooks_get },
	{ EVHTTP_REQ_DELETE, "webhooks/*", ROLE_NEED_ADMIN,
	    api_webhooks_delete },
	{ EVHTTP_REQ_GET, "stats/satisfaction", ROLE_NEED_READ,
	    api_stats_satisfaction },
	{ EVHTTP_REQ_GET, "stats/*", ROLE_NEED_READ, api_stats_get },
	{ EVHTTP_REQ_GET, "redirects", ROLE_NEED_READ, api_redirects_list },
	{ EVHTTP_REQ_POST, "redirects", ROLE_NEED_ADMIN,
	    api_redirects_create },
	{ EVHTTP_REQ_GET, "redirects/*", ROLE_NEED_READ, api_redirects_get },
	{ EVHTTP_REQ_PATCH, "redirects/*", ROLE_NEED_ADMIN,
	    api_redirects_patch },
	{ EVHTTP_REQ_DELETE, "redirects/*", ROLE_NEED_ADMIN,
	    api_redirects_delete },
	{ EVHTTP_REQ_GET, "content", ROLE_NEED_READ, api_content_list },
	{ EVHTTP_REQ_GET, "content/brand/*", ROLE_NEED_READ, api_content_get },
	{ EVHTTP_REQ_PUT, "content/brand/*", ROLE_NEED_ADMIN, api_content_put },
	{ EVHTTP_REQ_DELETE, "content/brand/*", ROLE_NEED_ADMIN,
	    api_content_delete },
	{ EVHTTP_REQ_GET, "content/products/*/*", ROLE_NEED_READ,
	    api_content_get },
	{ EVHTTP_REQ_PUT, "content/products/*/*", ROLE_NEED_ADMIN,
	    api_content_put },
	{ EVHTTP_REQ_DELETE, "content/products/*/*", ROLE_NEED_ADMIN,
	    api_content_delete },
	{ EVHTTP_REQ_GET, "content/batches/*/*", ROLE_NEED_READ,
	    api_content_get },
	{ EVHTTP_REQ_PUT, "content/batches/*/*", ROLE_NEED_ADMIN,
	    api_content_put },
	{ EVHTTP_REQ_DELETE, "content/batches/*/*", ROLE_NEED_ADMIN,
	    api_content_delete },
	{ EVHTTP_REQ_GET, "images", ROLE_NEED_READ, api_images_list },
	{ EVHTTP_REQ_POST, "images", ROLE_NEED_ADMIN, api_images_create },
	{ EVHTTP_REQ_DELETE, "images/*", ROLE_NEED_ADMIN, api_images_delete },
	{ EVHTTP_REQ_POST, "preview", ROLE_NEED_READ, api_preview },
	{ EVHTTP_REQ_GET, "audit", ROLE_NEED_ADMIN, api_audit_list },
	{ EVHTTP_REQ_GET, "audit/export.csv", ROLE_NEED_ADMIN,
	    api_audit_export },
	{ EVHTTP_REQ_GET, "privacy/notices", ROLE_NEED_READ,
	    api_privacy_notices },
	{ EVHTTP_REQ_POST, "privacy/notices", ROLE_NEED_ADMIN,
	    api_privacy_notice_add },
	{ EVHTTP_REQ_GET, "privacy/settings", ROLE_NEED_READ,
	    api_privacy_settings },
	{ EVHTTP_REQ_PUT, "privacy/settings", ROLE_NEED_ADMIN,
	    api_privacy_settings_put },
	{ EVHTTP_REQ_GET, "customers/*/consents", ROLE_NEED_READ,
	    api_customer_consents },
	{ EVHTTP_REQ_GET, "customers/*/profile", ROLE_NEED_READ,
	    api_customer_profile },
	{ EVHTTP_REQ_GET, "exports/consents", ROLE_NEED_ADMIN,
	    api_consents_export },
	{ EVHTTP_REQ_POST, "segments/count", ROLE_NEED_READ,
	    api_segments_create },
	{ EVHTTP_REQ_GET, "segments", ROLE_NEED_READ, api_segments_list },
	{ EVHTTP_REQ_POST, "segments", ROLE_NEED_OPERATE,
	    api_segments_create },
	{ EVHTTP_REQ_GET, "segments/*", ROLE_NEED_READ, api_segments_get },
	{ EVHTTP_REQ_PUT, "segments/*", ROLE_NEED_OPERATE,
	    api_segments_update },
	{ EVHTTP_REQ_DELETE, "segments/*", ROLE_NEED_OPERATE,
	    api_segments_delete },
	{ EVHTTP_REQ_GET, "segments/*/customers.csv", ROLE_NEED_ADMIN,
	    api_segments_export },
	{ EVHTTP_REQ_GET, "payouts", ROLE_NEED_READ, api_payouts_list },
	{ EVHTTP_REQ_GET, "payouts/cash", ROLE_NEED_READ, api_payouts_cash },
	{ EVHTTP_REQ_GET, "payouts/statement", ROLE_NEED_OPERATE,
	    api_payouts_statement },
	{ EVHTTP_REQ_GET, "payouts/statement.csv", ROLE_NEED_OPERATE,
	    api_payouts_statement_csv },
	{ EVHTTP_REQ_POST, "payouts/reconcile", ROLE_NEED_OPERATE,
	    api_payouts_reconcile },
	{ EVHTTP_REQ_GET, "payouts/*", ROLE_NEED_READ, api_payouts_get },
	{ EVHTTP_REQ_POST, "payouts/*/approve", ROLE_NEED_ADMIN,
	    api_payouts_approve },
	{ EVHTTP_REQ_POST, "payouts/*/reject", ROLE_NEED_ADMIN,
	    api_payouts_reject },
	{ EVHTTP_REQ_GET, "campaigns/*/cash", ROLE_NEED_READ,
	    api_campaign_cash },
	{ EVHTTP_REQ_GET, "payments/settings", ROLE_NEED_ADMIN,
	    api_pay_settings_get },
	{ EVHTTP_REQ_PUT, "payments/settings", ROLE_NEED_ADMIN,
	    api_pay_settings_put },
	{ EVHTTP_REQ_PUT, "payments/keys", ROLE_NEED_ADMIN, api_pay_keys_put },
	{ EVHTTP_REQ_GET, "links", ROLE_NEED_READ, api_links_list },
	{ EVHTTP_REQ_POST, "links", ROLE_NEED_ADMIN, api_links_create },
	{ EVHTTP_REQ_GET, "links/*", ROLE_NEED_READ, api_links_get },
	{ EVHTTP_REQ_PATCH, "links/*", ROLE_NEED_ADMIN, api_links_patch },
	{ EVHTTP_REQ_DELETE, "links/*", ROLE_NEED_ADMIN, api_links_delete },
};

static int
route_match(const struct api_route *r, struct api_call *a)
{
	char pat[64], *save = NULL, *tok;
	int i = 0;

	snprintf(pat, sizeof pat, "%s", r->pattern);
	for (tok = strtok_r(pat, "/", &save); tok != NULL;
	    tok = strtok_r(NULL, "/", &save), i++) {
		if (i >= a->nseg)
			return 0;
		if (strcmp(tok, "*") != 0 && strcmp(tok, a->seg[i]) != 0)
			return 0;
	}
	return i == a->nseg;
}

/* ---- who is calling ---- */

/* The live token named by "Bearer sgt_..."; 0 or SIGIL_EDENIED. */
static int
bearer_token(struct app *app, const char *h, struct token *tok)
{
	if (h == NULL || strncmp(h, "Bearer ", 7) != 0)
		return SIGIL_EDENIED;
	return token_check(app->store, h + 7, sigil_now_us(), tok);
}

int
route_api_head_auth(void *arg, const char *authorization, const char *cookie)
{
	struct app *app = arg;
	struct token tok;
	char v[SESSION_COOKIE_MAX];

	if (authorization != NULL)
		return bearer_token(app, authorization, &tok) == 0;
	return http_cookie_in(cookie, SESSION_COOKIE, v, sizeof v) == 0 &&
	    session_live(app->store, v);
}

/*
 * The EPCIS REST binding answers a refusal as an RFC 7807 problem
 * (epcisException:SecurityException); the brand API as {"error": ...}.
 */
static void
deny_problem(struct api_call *a)
{
	http_add_header(a->c, "WWW-Authenticate", "Bearer realm=\"sigil\"");
	http_reply_json_type(a->c, 401, "application/problem+json",
	    "{\"type\":\"epcisException:SecurityException\",\"title\":"
	    "\"Unauthorised request\",\"status\":401,\"detail\":\"a valid "
	    "bearer token is required\"}");
}

/* Notes the caller on the call, for the audit trail (http_write.c). */
static int
authenticated(struct api_call *a)
{
	struct http_call *c = a->c;

	c->who.brand_id = a->brand.id;
	c->who.role = a->tok.role;
	if (a->tok.id & SESSION_TOKEN_BIT) {
		c->who.kind = AUDIT_ACTOR_USER;
		c->who.id = a->tok.id & ~SESSION_TOKEN_BIT;
	} else {
		c->who.kind = AUDIT_ACTOR_TOKEN;
		c->who.id = a->tok.id;
	}
	return 0;
}

static int
authenticate(struct api_call *a, int problem)
{
	const char *h = http_header(a->c, "Authorization");
	char v[SESSION_COOKIE_MAX];

	/* The dashboard: a session cookie, and a CSRF token for changes. */
	if (h == NULL) {
		switch (session_auth(a->app->store, http_cookie(a->c,
		    SESSION_COOKIE, v, sizeof v) == 0 ? v : NULL,
		    http_header(a->c, "X-CSRF-Token"), a->c->method !=
		    EVHTTP_REQ_GET && a->c->method != EVHTTP_REQ_HEAD,
		    &a->tok)) {
		case 0:
			if (store_brand_get(a->app->store, a->tok.brand_id,
			    &a->brand) != 0)
				goto deny;
			return authenticated(a);
		case SIGIL_EFORGED:
			api_fail(a, 403, "csrf", "missing or wrong "
			    "X-CSRF-Token");
			return -1;
		}
		goto deny;
	}
	if (bearer_token(a->app, h, &a->tok) != 0 ||
	    store_brand_get(a->app->store, a->tok.brand_id, &a->brand) != 0)
		goto deny;
	return authenticated(a);
deny:
	if (problem) {
		deny_problem(a);
		return -1;
	}
	http_add_header(a->c, "WWW-Authenticate", "Bearer realm=\"sigil\"");
	api_fail(a, 401, "unauthorized", "a valid bearer token is required");
	return -1;
}

/* ---- dispatch ---- */

void
route_api(struct http_call *c)
{
	struct api_call a = { 0 };
	const char *rest = c->path + strlen("/api/v1/");
	const struct api_route *r = NULL;
	int path_known = 0;
	char *save = NULL, *tok;

	a.c = c;
	a.app = c->app;
	a.method = c->method == EVHTTP_REQ_HEAD ? EVHTTP_REQ_GET : c->method;
	if (authenticate(&a, 0) != 0)
		return;
	if (!token_rate_allow(a.tok.id, a.app->api_rate_limit)) {
		api_fail(&a, 429, "rate_limited", "too many requests for this "
		    "token");
		return;
	}
	if (strlen(rest) >= sizeof a.buf) {
		api_fail(&a, 404, "not_found", "no such resource");
		return;
	}
	strcpy(a.buf, rest);
	for (tok = strtok_r(a.buf, "/", &save); tok != NULL;
	    tok = strtok_r(NULL, "/", &save)) {
		if (a.nseg == API_SEGS_MAX) {
			api_fail(&a, 404, "not_found", "no such resource");
			return;
		}
		a.seg[a.nseg++] = tok;
	}
	if (accounts_api_route(&a))
		return;
	{
		struct loyalty_api la = { c, a.app, a.brand.id, a.tok.role,
		    a.method, a.seg, a.nseg, a.tok.id };

		if (loyalty_api_route(&la))
			return;
	}
	for (size_t i = 0; i < sizeof api_routes / sizeof api_routes[0]; i++) {
		if (!route_match(&api_routes[i], &a))
			continue;
		path_known = 1;
		if (api_routes[i].method == a.method) {
			r = &api_routes[i];
			break;
		}
	}
	if (r == NULL) {
		if (path_known)
			api_fail(&a, 405, "method_not_allowed",
			    "method not allowed here");
		else
			api_fail(&a, 404, "not_found", "no such resource");
		return;
	}
	if (!role_may(a.tok.role, r->need)) {
		api_fail(&a, 403, "forbidden", "this token's role may not do "
		    "this");
		return;
	}
	r->fn(&a);
	json_decref(a.body);
}

/*
 * GET /epcis/events: the EPCIS 2.0 REST binding's events resource, with
 * the brand API's credentials (a bearer token or a dashboard session)
 * and its per-token rate limit; any role may read.
 */
void
route_epcis(struct http_call *c)
{
	struct api_call a = { 0 };

	a.c = c;
	a.app = c->app;
	a.method = EVHTTP_REQ_GET;
	if (authenticate(&a, 1) != 0)
		return;
	if (!token_rate_allow(a.tok.id, a.app->api_rate_limit)) {
		api_fail(&a, 429, "rate_limited", "too many requests for this "
		    "token");
		return;
	}
	if (!role_may(a.tok.role, ROLE_NEED_READ)) {
		api_fail(&a, 403, "forbidden", "this token's role may not do "
		    "this");
		return;
	}
	api_epcis_rest(&a);
}
