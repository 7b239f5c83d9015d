/*
 * message.h - lifecycle messages (节日关怀) and the outbox's delivery
 * (domain layer). A brand defines messages (message.c: a text with
 * placeholders, an audience segment, a channel, a schedule or a
 * trigger, a frequency cap, quiet hours); the scheduler
 * (message_sched.c) turns each due one into outbox rows (store/outbox.h)
 * in one writer op; the dispatcher (message_dispatch.c) sends the due
 * rows through the channels registered here and records every answer
 * through the writer. See docs/messages.md.
 */
#ifndef SIGIL_MESSAGE_H
#define SIGIL_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

#include "sigil/store.h"

struct app;
struct evbuffer;

/* ---- channels ---- */

/*
 * What a channel answers for one message, once, on the loop: ok (the
 * receiver took it), else retry (worth another try later: no answer, a
 * 5xx, a rate limit, an expired token) or not (refused for good: a bad
 * recipient, no consent on WeChat's side, no phone); status, the HTTP
 * status or the provider's error code (0 none); detail, a short ASCII
 * word for the log and the API ("errcode_43101", "no_phone"), never a
 * personal value.
 */
typedef void (*channel_done_fn)(void *arg, int ok, int retry, int status,
    const char *detail);

struct channel_ops {
	const char	*name;		/* outbox_msg.channel */
	/*
	 * Sends m (its payload is valid during the call only: copy what is
	 * needed). 0: done will be called once, later, on app->base;
	 * anything else: it will not be (the dispatcher then counts a
	 * failure with a retry).
	 */
	int		(*send)(struct app *app, const struct outbox_msg *m,
			    channel_done_fn done, void *arg);
};

#define MESSAGE_CHANNELS_MAX	16

/*
 * Adds ops (static storage) to the channel table, at start-up, on the
 * loop thread before the dispatcher starts. 0, SIGIL_EEXIST (a channel
 * of that name), SIGIL_EFULL, SIGIL_EINVAL (no name or send).
 */
int message_channel_register(const struct channel_ops *ops);
/* The registered channel called name, or NULL. */
const struct channel_ops *message_channel_find(const char *name);
/*
 * Registers the channels this module brings: "sms" (the --sms-webhook
 * gateway), "wechat_template", "wechat_subscribe", "webhook" (a brand's
 * signed URL) and "auto" (WeChat when the customer has an openid of a
 * brand app that can send, else SMS). 0 or message_channel_register's
 * error.
 */
int message_channels_builtin(void);

/* ---- the dispatcher (message_dispatch.c) ---- */

#define MESSAGE_TICK_MS		200
#define MESSAGE_INFLIGHT_MAX	64	/* sends at once */
#define MESSAGE_ATTEMPTS_MAX	8	/* then failed for good */
#define MESSAGE_TIMEOUT_S	10

/*
 * Starts the delivery loop on app->base: every MESSAGE_TICK_MS it reads
 * the due rows, sends each (not already in flight) through its channel
 * and, when the channel answered, has the writer record sent, a retry
 * at webhook_backoff_us later, or failed. At least once: a row is
 * marked sent only after its channel said so, so a crash between the
 * two sends it again after the restart (never more than that: only the
 * rows in flight at the crash). 0 or SIGIL_ENOMEM. Free once the
 * writer has answered every job, before egress_free.
 */
struct message_dispatcher;
int message_dispatcher_start(struct app *app,
    struct message_dispatcher **out);
void message_dispatcher_free(struct message_dispatcher *d);
/* Whether the running dispatcher has (brand_id, id) in flight. */
int message_in_flight(uint32_t brand_id, uint64_t id);
/*
 * Prometheus text: sigil_messages_{queued,sent,failed,retried}_total
 * by channel and sigil_messages_lag_seconds (how long the oldest due
 * row has waited).
 */
void message_metrics(struct app *app, struct evbuffer *b);

#endif
