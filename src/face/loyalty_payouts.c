/*
 * loyalty_payouts.c - a customer's own cash (issue 22), on the consumer
 * side:
 *
 *   GET /api/v1/me/payouts[?code=|?brand=]   the cash the logged-in
 *       customer won, newest first: amount, where it stands (paid,
 *       processing, confirm, returned), and for a transfer waiting for
 *       the customer's confirmation what WeChat's JSAPI
 *       requestMerchantTransfer takes, as it takes them ({mchId, appId,
 *       package}: the page hands the object on as it is). With
 *       ?code= only the cash won on that code: the scan page's own.
 *       "final": it will not change again (paid or returned).
 *
 * The session is the device cookie, as for the ledger: only the customer
 * the device is logged in as at the brand, never anyone else's payouts
 * (the store walk is filtered by that customer). An openid, a score or
 * its reasons are never shown here: the customer needs none of them.
 *
 * The four states a consumer reads: 已到账 paid (PAID); 待确认收款
 * confirm (ACCEPTED, WeChat says WAIT_USER_CONFIRM and gave a package);
 * 处理中 processing (HELD, PENDING, ACCEPTED otherwise: a held one is
 * not called held, the brand's review is its business); 未到账，已退回
 * returned (FAILED, REJECTED: the amount went back to the campaign).
 *
 * Owns this handler. May call the store (reads), lookup, payout.c (the
 * settings), http and http_loyalty.c. Never writes.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "sigil/app.h"
#include "sigil/code.h"
#include "sigil/customer.h"
#include "sigil/http.h"
#include "sigil/lookup.h"
#include "sigil/loyalty.h"
#include "sigil/payout.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "http_loyalty.h"

#define PAYOUTS_SHOWN	50	/* the member page's history */

static const char *
payout_shown(const struct payout *p)
{
	switch (p->state) {
	case PAYOUT_PAID:
		return "paid";
	case PAYOUT_FAILED:
	case PAYOUT_REJECTED:
		return "returned";
	case PAYOUT_ACCEPTED:
		if (strcmp(p->wx_state, "WAIT_USER_CONFIRM") == 0 &&
		    p->package_info[0] != '\0')
			return "confirm";
		return "processing";
	default:
		return "processing";
	}
}

struct mine {
	json_t			*arr;
	int			 code;		/* ?code= given: its payouts only */
	uint64_t		 serial;
	int			 have_set;
	struct payout_settings	 set;
};

static int
mine_one(void *arg, const struct payout *p)
{
	struct mine *m = arg;
	const char *shown = payout_shown(p);
	char t1[SIGIL_TIME_LEN + 1], t2[SIGIL_TIME_LEN + 1];
	json_t *confirm = json_null();

	if (json_array_size(m->arr) >= PAYOUTS_SHOWN)
		return 1;
	if (m->code && p->serial != m->serial)
		return 0;
	if (strcmp(shown, "confirm") == 0 && m->have_set)
		confirm = json_pack("{s:s,s:s,s:s}", "mchId", m->set.mchid,
		    "appId", p->appid[0] ? p->appid : m->set.appid,
		    "package", p->package_info);
	return json_array_append_new(m->arr, json_pack("{s:I,s:I,s:s,s:s,"
	    "s:o,s:o,s:b}", "claim_id", (json_int_t)p->claim_id, "fen",
	    (json_int_t)p->fen, "state", shown, "created",
	    sigil_time_format(p->created, t1), "paid_at", p->paid_at ?
	    json_string(sigil_time_format(p->paid_at, t2)) : json_null(),
	    "confirm", confirm, "final", p->state == PAYOUT_PAID ||
	    p->state == PAYOUT_FAILED || p->state == PAYOUT_REJECTED)) != 0 ?
	    SIGIL_ENOMEM : 0;
}

void
loyalty_me_payouts(struct http_call *c)
{
	struct app *app = c->app;
	struct payout_filter f = { 0 };
	struct customer cu;
	struct brand b;
	struct mine m;
	struct code_info info;
	char code[CODE_URL_MAX + 1];

	if (http_loyalty_session(c, &b, &cu) != 0)
		return;
	memset(&m, 0, sizeof m);
	/* http_loyalty_session found the brand by this code: it resolves. */
	if (http_loyalty_query(c, "code", code, sizeof code) != NULL) {
		m.code = 1;
		if (lookup_code(app, code, &info) == 0)
			m.serial = info.serial;
	}
	m.have_set = payout_settings_load(app, b.id, &m.set) == 0;
	f.customer_id = cu.id;
	if ((m.arr = json_array()) == NULL || store_payout_each(app->store,
	    b.id, &f, mine_one, &m) < 0) {
		json_decref(m.arr);
		http_reply_error(c, 503, "unavailable", "try again");
		return;
	}
	http_add_header(c, "Cache-Control", "no-store");
	http_reply_jsont(c, 200, json_pack("{s:o}", "payouts", m.arr));
}
