/*
 * channel_impl.h - what the message channels (channel_*.c) share with
 * the dispatcher (message_dispatch.c), and nothing outside them may
 * include: the channels' descriptors and four helpers.
 */
#ifndef SIGIL_CHANNEL_IMPL_H
#define SIGIL_CHANNEL_IMPL_H

#include <stddef.h>

#include "sigil/message.h"
#include "sigil/store.h"

struct app;

#define CHANNEL_TEXT_MAX	2048	/* bytes of a message's text */

/* Whether an egress answer (result, status) is worth another try: no
 * answer, no address yet, a 5xx, 408 or 429. */
int channel_http_retry(int result, int status);
/* POSTs body (NUL-terminated) through egress with headers to
 * tls/host/port/path, and hands the answer to done once: sent on a 2xx,
 * retry as channel_http_retry, the status, "ok" or the egress result's
 * name. 0, or SIGIL_ENOMEM or egress_post's error (done is not called). */
int channel_post(struct app *app, int tls, const char *host, int port,
    const char *path, const char *const *headers, const char *body,
    channel_done_fn done, void *arg);
/* The payload's "text" into out: 0, or SIGIL_EINVAL (none, empty, too
 * long for size). */
int channel_payload_text(const struct outbox_msg *m, char *out, size_t size);
/* The row's customer as it is now (a merge's survivor): 0, or
 * SIGIL_ENOTFOUND when erased or gone, or a store error. */
int channel_customer(struct app *app, const struct outbox_msg *m,
    struct customer *out);

extern const struct channel_ops channel_sms;
extern const struct channel_ops channel_wechat_template;
extern const struct channel_ops channel_wechat_subscribe;
extern const struct channel_ops channel_auto;
extern const struct channel_ops channel_hook;

#endif
