/*
 * wxpay_notify.h - WeChat Pay's callback route (src/face/wxpay_notify.c):
 * POST /wxpay/notify/{brand_id}, the notify_url of every transfer the
 * payout dispatcher asks for. Public, body-limited, believed only once
 * verified (payout.h's payout_notice).
 */
#ifndef SIGIL_WXPAY_NOTIFY_H
#define SIGIL_WXPAY_NOTIFY_H

struct http_call;

void wxpay_notify(struct http_call *c);

#endif
