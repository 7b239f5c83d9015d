/*
 * payout_notice.c - what a WeChat Pay callback (POST notify_url,
 * event MCHTRANSFER.BILL.FINISHED) says about a payout, and whether it
 * is believed.
 *
 * The route is public: anyone can post to it. So nothing in a callback
 * is believed before two checks that only WeChat Pay can pass:
 *   1. the signature: Wechatpay-Signature must verify, with the brand's
 *      WeChat Pay public key, over "TIMESTAMP\nNONCE\nBODY\n" exactly as
 *      received; Wechatpay-Serial must name that key (pub_key_id); the
 *      timestamp must be within five minutes (a replay of an old
 *      callback is refused; a replay within the window only repeats
 *      what was already recorded, which changes nothing);
 *   2. the resource must open: AEAD_AES_256_GCM with the brand's APIv3
 *      key, which only WeChat Pay and the merchant hold; its tag
 *      authenticates the bill inside.
 * Then the bill must be ours (out_bill_no names this brand and one of
 * its claims, the merchant id is the brand's) and agree with the row
 * (amount, bill number). Only a move the outbox allows is recorded
 * (PENDING or ACCEPTED to PAID or FAILED, or to ACCEPTED); a final row
 * told something else is a contradiction: alerted, never rewritten.
 *
 * Owns nothing. May call payout_send.c (the keys, out_bill_no),
 * payout_recon.c (the alert), payout.c (counters), payout_settings.c,
 * wxpay (ground), store (reads), log, util. Never logs an openid.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "sigil/app.h"
#include "sigil/log.h"
#include "sigil/payout.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "sigil/wxpay.h"

#include "payout_impl.h"

/* Verifies in with the brand's public key: 0 or a notice. */
static int
verified(struct app *app, uint32_t brand_id,
    const struct payout_notice_in *in, struct payout_settings *set,
    const char **why)
{
	EVP_PKEY *pub = NULL;
	int rc;

	if ((rc = payout_settings_load(app, brand_id, set)) != 0) {
		*why = rc == SIGIL_ENOTFOUND ? "no_settings" : "bad_settings";
		return PAYOUT_NOTICE_LATER;
	}
	if (wxpay_pubkey_load(set->public_key, strlen(set->public_key),
	    &pub) != 0) {
		*why = "bad_public_key";
		return PAYOUT_NOTICE_LATER;
	}
	rc = wxpay_verify_answer(pub, set->pub_key_id, in->serial,
	    in->timestamp, in->nonce, in->signature, in->body, in->len,
	    sigil_now_us() / 1000000);
	EVP_PKEY_free(pub);
	if (rc != 0) {
		*why = rc == SIGIL_ESTATE ? "stale_timestamp" :
		    rc == SIGIL_EINVAL ? "no_signature" : "bad_signature";
		payout_count_bad_signature();
		return PAYOUT_NOTICE_FORGED;
	}
	return 0;
}

/* The verified bill b against the payout p: a settle, or done. */
static int
decide(struct app *app, const struct payout *p, const struct wxpay_bill *b,
    struct payout_settle *s, const char **why)
{
	int state = b->outcome == WXPAY_PAID ? PAYOUT_PAID :
	    b->outcome == WXPAY_FAILED ? PAYOUT_FAILED :
	    b->outcome == WXPAY_ACCEPTED ? PAYOUT_ACCEPTED : 0;

	if (state == 0) {
		*why = "unknown_state";
		return PAYOUT_NOTICE_DONE;
	}
	if ((b->amount >= 0 && b->amount != p->fen) || (p->bill_no[0] &&
	    b->bill_no[0] && strcmp(p->bill_no, b->bill_no) != 0)) {
		payout_mismatch_raise(app, p, b->amount >= 0 &&
		    b->amount != p->fen ? "amount" : "bill_no", b->state);
		*why = "mismatch";
		return PAYOUT_NOTICE_DONE;
	}
	if (p->state == state) {
		*why = "repeat";
		return PAYOUT_NOTICE_DONE;
	}
	if (p->state != PAYOUT_PENDING && p->state != PAYOUT_ACCEPTED) {
		/* Final here, something else there. An ACCEPTED notice
		 * after the end (none is documented) says nothing new. */
		if (state != PAYOUT_ACCEPTED)
			payout_mismatch_raise(app, p, "state", b->state);
		*why = "contradiction";
		return PAYOUT_NOTICE_DONE;
	}
	memset(s, 0, sizeof *s);
	s->brand_id = p->brand_id;
	s->claim_id = p->claim_id;
	s->from = p->state;
	s->state = state;
	snprintf(s->bill_no, sizeof s->bill_no, "%s", b->bill_no);
	snprintf(s->wx_state, sizeof s->wx_state, "%s", b->state);
	snprintf(s->package_info, sizeof s->package_info, "%s",
	    b->package_info);
	if (state == PAYOUT_PAID)
		s->paid_at = b->update_at > 0 ? b->update_at * 1000000LL :
		    sigil_now_us();
	else if (state == PAYOUT_FAILED)
		snprintf(s->fail_reason, sizeof s->fail_reason, "%s",
		    b->fail_reason[0] ? b->fail_reason : b->state);
	else
		s->next_at = sigil_now_us() + PAYOUT_QUERY_S * 1000000LL;
	*why = "settle";
	return PAYOUT_NOTICE_SETTLE;
}

int
payout_notice(struct app *app, uint32_t brand_id,
    const struct payout_notice_in *in, struct payout_settle *settle,
    const char **why)
{
	struct payout_settings set;
	struct wxpay_bill b;
	struct payout p;
	uint8_t key[32];
	uint64_t claim_id;
	char e1[2 * PAYOUT_OUTNO_MAX + 8], e2[64];
	int rc, notice;

	*why = "";
	if (in->body == NULL || in->len == 0) {
		*why = "no_body";
		return PAYOUT_NOTICE_BAD;
	}
	if ((notice = verified(app, brand_id, in, &set, why)) != 0)
		return notice;
	if (payout_apiv3_key(app, brand_id, key) != 0) {
		*why = "no_apiv3_key";
		return PAYOUT_NOTICE_LATER;
	}
	rc = wxpay_notify_open(key, in->body, in->len, &b);
	OPENSSL_cleanse(key, sizeof key);
	switch (rc) {
	case 0:
		break;
	case SIGIL_ENOTFOUND:
		*why = "other_event";
		return PAYOUT_NOTICE_DONE;
	case SIGIL_EFORGED:
		/* Signed by WeChat Pay, yet our APIv3 key does not open it:
		 * the key was changed on the merchant platform. Later. */
		*why = "apiv3_key_mismatch";
		return PAYOUT_NOTICE_LATER;
	case SIGIL_EINVAL:
		*why = "malformed";
		return PAYOUT_NOTICE_BAD;
	default:
		*why = "decrypt_failed";
		return PAYOUT_NOTICE_LATER;
	}
	if ((b.mchid[0] && strcmp(b.mchid, set.mchid) != 0) ||
	    payout_out_bill_parse(b.out_bill_no, brand_id, &claim_id) != 0) {
		*why = "not_ours";
		notice = PAYOUT_NOTICE_DONE;
	} else if ((rc = store_payout_get(app->store, brand_id, claim_id,
	    &p)) != 0) {
		*why = rc == SIGIL_ENOTFOUND ? "unknown_payout" : "store_error";
		notice = rc == SIGIL_ENOTFOUND ? PAYOUT_NOTICE_DONE :
		    PAYOUT_NOTICE_LATER;
	} else {
		notice = decide(app, &p, &b, settle, why);
	}
	log_info("payout_notice", "brand=%u out_bill_no=%s state=%s "
	    "result=%s", brand_id, log_esc(e1, sizeof e1, b.out_bill_no),
	    log_esc(e2, sizeof e2, b.state), *why);
	OPENSSL_cleanse(&b, sizeof b);
	return notice;
}

void
payout_notice_recorded(const struct payout_settle *settle)
{
	payout_count_callback();
	payout_count_settled(settle->state);
}
