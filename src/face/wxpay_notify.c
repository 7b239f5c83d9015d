/*
 * wxpay_notify.c - POST /wxpay/notify/{brand_id}: WeChat Pay tells how a
 * transfer ended (MCHTRANSFER.BILL.FINISHED).
 *
 * The route is public and carries no credential of ours: what makes a
 * callback believed is its signature and its encrypted resource, judged
 * by payout_notice (payout_notice.c). Its body is limited from the
 * request head (PAYOUT_NOTIFY_BODY_MAX; a callback is about 1 KB), and
 * it is not rate limited per client: WeChat Pay sends every callback
 * from a few addresses, and a refused one would only come back later.
 *
 * The answer is what WeChat Pay's documentation asks for: 204 without a
 * body once the callback is recorded (or needs no record), else a 4xx
 * or 5xx with {"code": "FAIL", "message": ...}, on which WeChat Pay
 * sends it again (15 s, 15 s, 30 s, 3 min, ... for a day). So a
 * callback we could not record (a full writer, a key not yet in the
 * keyring) is not lost: it comes back.
 *
 * Handler. May call payout, http, http_write, log, util.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sigil/app.h"
#include "sigil/http.h"
#include "sigil/http_write.h"
#include "sigil/log.h"
#include "sigil/payout.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "sigil/wxpay_notify.h"

#define PREFIX	"/wxpay/notify/"

static void
fail(struct http_call *c, int status, const char *message)
{
	char body[160];

	snprintf(body, sizeof body, "{\"code\":\"FAIL\",\"message\":\"%s\"}",
	    message);
	http_reply_json(c, status, body);
}

/*
 * A settle on its way to the writer: the settle first (payout_settle_op
 * takes a pointer to it), then how many times this callback was judged.
 */
struct notice_write {
	struct payout_settle s;
	int		tries;
};

static void judge(struct http_call *c, int tries);

static void
recorded(struct http_call *c, void *arg, int err)
{
	struct notice_write *w = arg;

	if (err == 0) {
		payout_notice_recorded(&w->s);
		http_reply(c, 204, NULL, NULL);
		return;
	}
	/*
	 * ECONFLICT: the dispatcher settled the row meanwhile (its create
	 * or query answered as the callback came): judged once more on
	 * the row as it now is. Anything else, or a second conflict: 500,
	 * and WeChat Pay sends the callback again.
	 */
	if (err == SIGIL_ECONFLICT && w->tries < 2) {
		judge(c, w->tries + 1);
		return;
	}
	log_warn("payout_notice", "brand=%u claim=%llu err=%s",
	    w->s.brand_id, (unsigned long long)w->s.claim_id,
	    sigil_strerror(err));
	fail(c, 500, "not recorded, send again");
}

/* Judges c's callback (the tries-th time) and answers it. */
static void
judge(struct http_call *c, int tries)
{
	struct app *app = c->app;
	struct payout_notice_in in = { 0 };
	struct notice_write w = { .tries = tries };
	uint64_t brand;
	const char *why;
	char *body;
	size_t len = 0;

	if (strncmp(c->path, PREFIX, strlen(PREFIX)) != 0 ||
	    sigil_parse_u64(c->path + strlen(PREFIX), UINT32_MAX,
	    &brand) != 0 || brand == 0) {
		fail(c, 404, "no such notify url");
		return;
	}
	if (http_body_too_large(c)) {
		fail(c, 413, "body too large");
		return;
	}
	if ((body = http_body_text(c, &len)) == NULL) {
		fail(c, 400, "no body");
		return;
	}
	in.serial = http_header(c, "Wechatpay-Serial");
	in.timestamp = http_header(c, "Wechatpay-Timestamp");
	in.nonce = http_header(c, "Wechatpay-Nonce");
	in.signature = http_header(c, "Wechatpay-Signature");
	in.body = body;
	in.len = len;
	switch (payout_notice(app, (uint32_t)brand, &in, &w.s, &why)) {
	case PAYOUT_NOTICE_SETTLE:
		free(body);
		http_write(c, &payout_settle_op, &w, sizeof w, recorded);
		return;
	case PAYOUT_NOTICE_DONE:
		http_reply(c, 204, NULL, NULL);
		break;
	case PAYOUT_NOTICE_FORGED:
		log_warn("payout_notice", "brand=%u from=%s result=%s "
		    "msg=\"callback refused: not signed by WeChat Pay\"",
		    (unsigned)brand, c->client_text, why);
		fail(c, 401, "signature not verified");
		break;
	case PAYOUT_NOTICE_BAD:
		fail(c, 400, "malformed callback");
		break;
	default:
		log_warn("payout_notice", "brand=%u result=%s msg=\"callback "
		    "not readable now: WeChat Pay sends it again\"",
		    (unsigned)brand, why);
		fail(c, 500, "not recorded, send again");
		break;
	}
	free(body);
}

void
wxpay_notify(struct http_call *c)
{
	judge(c, 1);
}
