/*
 * loyalty.h - customers and scan-to-earn over HTTP (SPEC §6), the face
 * layer: the consumer endpoints (phone login, claims, the member's
 * balance, ledger, catalog, redemptions, feedback, the member page) and
 * the brand API's campaigns, customers, catalog items and settings. The
 * rules are the domain's (loyalty_core.h, included for the start-up, and
 * the headers it names); storage is store.h's.
 */
#ifndef SIGIL_LOYALTY_H
#define SIGIL_LOYALTY_H

#include <stdint.h>

#include "sigil/loyalty_core.h"

struct app;
struct http_call;

/* ---- consumer endpoints (the device cookie is the session) ---- */
/* src/face/loyalty_login.c */
void loyalty_otp(struct http_call *c);		/* POST /api/v1/customers/otp */
void loyalty_verify(struct http_call *c);	/* POST /api/v1/customers/verify */
/* src/face/loyalty_claim.c */
void loyalty_claim(struct http_call *c);	/* POST /api/v1/claims */
/* src/face/loyalty_member.c */
void loyalty_me(struct http_call *c);		/* GET /api/v1/me */
/* loyalty_seller.c: POST /api/v1/seller/bind, GET /api/v1/me/seller */
void loyalty_seller_bind(struct http_call *c);
void loyalty_me_seller(struct http_call *c);
void loyalty_me_ledger(struct http_call *c);	/* GET /api/v1/me/ledger */
/* GET /api/v1/me/payouts: the customer's cash (loyalty_payouts.c) */
void loyalty_me_payouts(struct http_call *c);
void loyalty_me_orders(struct http_call *c);	/* GET /api/v1/me/orders */
void loyalty_redeem(struct http_call *c);	/* POST /api/v1/redemptions */
void loyalty_catalog(struct http_call *c);	/* GET /api/v1/catalog */
void loyalty_feedback(struct http_call *c);	/* POST /api/v1/feedback */
void loyalty_feedback_form(struct http_call *c);	/* POST /feedback */
void loyalty_reward(struct http_call *c);	/* GET /api/v1/reward?scan= */
void loyalty_member_page(struct http_call *c);	/* GET /member */
/* src/face/loyalty_consent.c */
void loyalty_privacy_notice(struct http_call *c); /* GET /api/v1/privacy/notice */
void loyalty_me_consents(struct http_call *c);	/* GET /api/v1/me/consents */
void loyalty_me_consents_post(struct http_call *c); /* POST the same */
void loyalty_me_profile(struct http_call *c);	/* GET /api/v1/me/profile */
void loyalty_me_profile_put(struct http_call *c); /* PUT the same */

/* ---- brand API: /api/v1/campaigns, customers, catalog/items, settings
 * (src/face/loyalty_api.c) ---- */
struct loyalty_api {
	struct http_call	*c;
	struct app		*app;
	uint32_t		brand_id;
	int			role;		/* enum token_role */
	int			method;		/* enum evhttp_cmd_type */
	char			**seg;		/* path segments after /api/v1/ */
	int			nseg;
	uint32_t		actor;		/* token id, or 1<<31 | user id */
};

/* 1 when the path is one of ours (a reply was sent), 0 otherwise. */
int loyalty_api_route(struct loyalty_api *a);

#endif
