/*
 * route.c - the one route table behind sigild's generic callback: which
 * handler answers which path, and with which limits (a consumer route is
 * rate limited per client; a brand route may take a large body once its
 * head is authenticated, see http_conn.c).
 *
 * http.c matches in table order, the first match wins: the consumer
 * endpoints under /api/v1/ come before the brand API's prefix, which
 * route_api.c routes further.
 *
 * Routing, not a handler: it names the handlers of every face (consumer,
 * loyalty, dashboard, the brand API's router) and calls none of them
 * itself. Never reads a request or the store.
 */
#include <stddef.h>

#include "sigil/api.h"
#include "sigil/consumer.h"
#include "sigil/dashboard.h"
#include "sigil/http.h"
#include "sigil/loyalty.h"
#include "sigil/payout.h"
#include "sigil/resolver.h"
#include "sigil/route.h"
#include "sigil/store.h"
#include "sigil/wechat_http.h"
#include "sigil/wxpay_notify.h"

static const struct http_route routes[] = {
	{ "/S/", HTTP_ROUTE_PREFIX | HTTP_ROUTE_CONSUMER | HTTP_ROUTE_GET,
	    "scan", consumer_scan },
	{ "/s/", HTTP_ROUTE_PREFIX | HTTP_ROUTE_CONSUMER | HTTP_ROUTE_GET,
	    "scan", consumer_scan },
#define GS1_KEY(p)	{ p, HTTP_ROUTE_PREFIX | HTTP_ROUTE_CONSUMER |	\
	    HTTP_ROUTE_GET | HTTP_ROUTE_OPTIONS, "scan_gs1", resolver_scan }
	/* Every GS1 Digital Link primary key (code.c knows their syntax). */
	GS1_KEY("/01/"), GS1_KEY("/00/"), GS1_KEY("/253/"), GS1_KEY("/255/"),
	GS1_KEY("/401/"), GS1_KEY("/402/"), GS1_KEY("/414/"), GS1_KEY("/415/"),
	GS1_KEY("/417/"), GS1_KEY("/8003/"), GS1_KEY("/8004/"),
	GS1_KEY("/8006/"), GS1_KEY("/8010/"), GS1_KEY("/8013/"),
	GS1_KEY("/8017/"), GS1_KEY("/8018/"),
#undef GS1_KEY
	{ "/api/v1/scans/", HTTP_ROUTE_PREFIX | HTTP_ROUTE_CONSUMER |
	    HTTP_ROUTE_POST, "scan_location", consumer_location },
	{ "/api/v1/customers/otp", HTTP_ROUTE_CONSUMER | HTTP_ROUTE_POST,
	    "otp", loyalty_otp },
	{ "/api/v1/customers/verify", HTTP_ROUTE_CONSUMER | HTTP_ROUTE_POST,
	    "otp_verify", loyalty_verify },
	{ "/api/v1/claims", HTTP_ROUTE_CONSUMER | HTTP_ROUTE_POST, "claim",
	    loyalty_claim },
	{ "/api/v1/me", HTTP_ROUTE_CONSUMER | HTTP_ROUTE_GET, "me",
	    loyalty_me },
	{ "/api/v1/me/ledger", HTTP_ROUTE_CONSUMER | HTTP_ROUTE_GET,
	    "me_ledger", loyalty_me_ledger },
	{ "/api/v1/me/orders", HTTP_ROUTE_CONSUMER | HTTP_ROUTE_GET,
	    "me_orders", loyalty_me_orders },
	{ "/api/v1/me/consents", HTTP_ROUTE_CONSUMER | HTTP_ROUTE_GET,
	    "me_consents", loyalty_me_consents },
	{ "/api/v1/me/consents", HTTP_ROUTE_CONSUMER | HTTP_ROUTE_POST,
	    "me_consents_post", loyalty_me_consents_post },
	{ "/api/v1/me/profile", HTTP_ROUTE_CONSUMER | HTTP_ROUTE_GET,
	    "me_profile", loyalty_me_profile },
	{ "/api/v1/me/profile", HTTP_ROUTE_CONSUMER | HTTP_ROUTE_PUT,
	    "me_profile_put", loyalty_me_profile_put },
	{ "/api/v1/privacy/notice", HTTP_ROUTE_CONSUMER | HTTP_ROUTE_GET,
	    "privacy_notice", loyalty_privacy_notice },
	{ "/api/v1/redemptions", HTTP_ROUTE_CONSUMER | HTTP_ROUTE_POST,
	    "redeem", loyalty_redeem },
	{ "/api/v1/catalog", HTTP_ROUTE_CONSUMER | HTTP_ROUTE_GET, "catalog",
	    loyalty_catalog },
	/* A fake report may carry a photo: its own body limit. */
	{ "/api/v1/feedback", HTTP_ROUTE_CONSUMER | HTTP_ROUTE_POST,
	    "feedback", loyalty_feedback, FEEDBACK_BODY_MAX },
	/* The same path read by the brand (its feedback inbox): a route
	 * of the same path for another method (http.c picks by method). */
	{ "/api/v1/feedback", HTTP_ROUTE_GET | HTTP_ROUTE_BRAND,
	    "brand_api_feedback", route_api },
	/* The landing page's rating form, without a script (an HTML page
	 * answers). */
	{ "/feedback", HTTP_ROUTE_CONSUMER | HTTP_ROUTE_POST,
	    "feedback_form", loyalty_feedback_form },
	{ "/api/v1/wechat/session", HTTP_ROUTE_CONSUMER | HTTP_ROUTE_POST,
	    "wechat_session", wechat_session },
	{ "/api/v1/reward", HTTP_ROUTE_CONSUMER | HTTP_ROUTE_GET, "reward",
	    loyalty_reward },
	{ "/api/v1/seller/bind", HTTP_ROUTE_CONSUMER | HTTP_ROUTE_POST,
	    "seller_bind", loyalty_seller_bind },
	{ "/api/v1/me/seller", HTTP_ROUTE_CONSUMER | HTTP_ROUTE_GET,
	    "me_seller", loyalty_me_seller },
	/* WeChat Pay's callbacks: public, verified by signature, their own
	 * small body limit, no per-client rate limit (wxpay_notify.c). */
	{ "/wxpay/notify/", HTTP_ROUTE_PREFIX | HTTP_ROUTE_POST,
	    "wxpay_notify", wxpay_notify, PAYOUT_NOTIFY_BODY_MAX },
	{ "/wx/oauth", HTTP_ROUTE_CONSUMER | HTTP_ROUTE_GET, "wechat_oauth",
	    wechat_oauth_back },
	{ "/wx/userinfo", HTTP_ROUTE_CONSUMER | HTTP_ROUTE_GET,
	    "wechat_userinfo", wechat_userinfo },
	{ "/member", HTTP_ROUTE_CONSUMER | HTTP_ROUTE_GET, "member",
	    loyalty_member_page },
	/* The brand API too, with the images' own body limit: a larger
	 * image is refused from its head, never read. */
	{ "/api/v1/images", HTTP_ROUTE_PREFIX | HTTP_ROUTE_GET |
	    HTTP_ROUTE_POST | HTTP_ROUTE_DELETE | HTTP_ROUTE_BRAND,
	    "brand_api_images", route_api, STORE_IMAGE_MAX },
	{ "/api/v1/", HTTP_ROUTE_PREFIX | HTTP_ROUTE_GET | HTTP_ROUTE_POST |
	    HTTP_ROUTE_PUT | HTTP_ROUTE_DELETE | HTTP_ROUTE_PATCH |
	    HTTP_ROUTE_BRAND, "brand_api", route_api },
	{ "/i/", HTTP_ROUTE_PREFIX | HTTP_ROUTE_CONSUMER | HTTP_ROUTE_GET,
	    "image", content_image_serve },
	{ "/epcis/events", HTTP_ROUTE_GET | HTTP_ROUTE_BRAND, "epcis_events",
	    route_epcis },
	{ "/.well-known/gs1resolver", HTTP_ROUTE_GET | HTTP_ROUTE_OPTIONS,
	    "gs1resolver", resolver_description },
	{ "/", HTTP_ROUTE_GET, "home", consumer_home },
	{ "/healthz", HTTP_ROUTE_GET, "healthz", consumer_healthz },
	{ "/admin", HTTP_ROUTE_PREFIX | HTTP_ROUTE_GET | HTTP_ROUTE_POST,
	    "dashboard", dashboard_handle },
	{ "/metrics", HTTP_ROUTE_GET, "metrics", consumer_metrics },
#ifdef SIGIL_FAULT_INJECTION
	{ "/debug/faults", HTTP_ROUTE_GET | HTTP_ROUTE_POST, "debug_faults",
	    consumer_faults },
#endif
};

const struct http_route *
route_table(size_t *n)
{
	*n = sizeof routes / sizeof routes[0];
	return routes;
}
