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
struct json_t;
struct writer_op;

/* ---- definitions (message.c) ---- */

#define MESSAGE_NAME_MAX	100	/* characters */
#define MESSAGE_TEXT_MAX	500	/* characters, placeholders included */
#define MESSAGE_PREVIEW_MAX	5	/* rendered texts a dry run shows */

enum message_trigger { TRIG_NONE = 0, TRIG_BIRTHDAY, TRIG_POINTS_EXPIRING,
    TRIG_NO_SCAN, TRIG_TIER_REACHED };

/* A definition, checked (message_config_parse) and ready to plan. */
struct message_cfg {
	char		name[MESSAGE_NAME_MAX * 4 + 1];
	uint32_t	audience;	/* saved segment id, 0 = every customer */
	char		channel[OUTBOX_CHANNEL_MAX + 1];	/* or "auto" */
	char		text[MESSAGE_TEXT_MAX * 4 + 1];
	int		active;
	int64_t		at;		/* schedule.at, 0 with a trigger */
	int		trigger;	/* enum message_trigger */
	int64_t		days;		/* points_expiring, no_scan */
	char		tier[32 * 4 + 1];	/* tier_reached */
	uint32_t	cap_days, cap_max;	/* 0: no cap */
	int		quiet;		/* quiet hours set */
	int		quiet_from, quiet_to;	/* minutes after local midnight */
	int		zone_min;	/* quiet hours' zone for customers outside
					   China: the brand's, minutes east of
					   UTC (default +08:00) */
	char		template_id[65];	/* wechat_* channels */
	char		field[33];	/* the template's data key for the text */
	char		page[129];	/* the mini program page, or "" */
	uint32_t	hook;		/* webhook: the subscription id */
};

/*
 * Checks a definition body (see docs/api.md "Messages") into *cfg and
 * its canonical JSON (*json, malloc'd). Unknown keys, wrong types,
 * unknown placeholders or channels, a schedule and a trigger together
 * (or neither) are refused: SIGIL_EINVAL with why in err. A segment
 * audience is checked against st (SIGIL_EINVAL when the brand has no
 * such segment); a webhook's subscription too.
 */
int message_config_parse(struct store *st, uint32_t brand_id,
    const struct json_t *body, struct message_cfg *cfg, char **json,
    char *err, size_t errsize);
/* The stored JSON back into cfg (it was checked when stored). */
int message_config_load(const char *json, struct message_cfg *cfg);
/* A definition as the API shows it, with its delivery counts. */
struct json_t *message_json(struct store *st, const struct message_def *d);

/* The writer ops of the brand API (arg: struct message_def, config
 * set; update and delete by brand_id and id). */
extern const struct writer_op message_create_op;
extern const struct writer_op message_update_op;
extern const struct writer_op message_delete_op;

/*
 * The brand's message settings, kept in its member settings under
 * MESSAGE_SETTINGS_KEY: {"service_wechat": {template_id, field, page?}}
 * is the WeChat template service messages (replies) use, so that "auto"
 * sends them by WeChat to a customer with an openid. parse checks a PUT
 * body ({"service_wechat": {...} or null}) into *out (a new reference:
 * the object, or JSON null to remove): 0, SIGIL_EINVAL with err;
 * message_settings_json shows them from the member settings object.
 */
#define MESSAGE_SETTINGS_KEY	"messages_service_wechat"
int message_settings_parse(const struct json_t *body, struct json_t **out,
    char *err, size_t errsize);
struct json_t *message_settings_json(struct json_t *settings);
struct message_settings {
	uint32_t	 brand_id;
	struct json_t	*service_wechat;	/* JSON null: remove */
};
extern const struct writer_op message_settings_op;

/* ---- planning a run (message_plan.c) ---- */

/* What a run would send, and why not to the others. */
struct message_plan {
	uint64_t	audience;	/* members of the segment */
	uint64_t	due;		/* of them, the trigger holds now */
	uint64_t	consenting;	/* of those, marketing consent */
	uint64_t	capped;		/* of those, over the cap: skipped */
	uint64_t	quiet;		/* queued, but deferred to quiet's end */
	uint64_t	queued;		/* rows (a dry run: would be) */
	size_t		npreview;
	struct {
		uint64_t	customer_id;
		char		text[MESSAGE_TEXT_MAX * 4 + 64];
		int64_t		next_at;
	}		preview[MESSAGE_PREVIEW_MAX];
};

/*
 * Plans definition d (config cfg) at now for the brand: the audience
 * walked (a worker or the writer thread: reads only), each member
 * judged. With run NULL a dry run: plan only. Else run is filled for
 * store_message_run (rows and marks malloc'd: message_run_clear).
 * 0, a store error, SIGIL_ENOMEM.
 */
int message_plan(struct app *app, const struct message_def *d,
    const struct message_cfg *cfg, int64_t now, struct message_plan *plan,
    struct message_run *run);
void message_run_clear(struct message_run *r);

/* ---- the scheduler (message_sched.c) ---- */

/*
 * Every MESSAGE_SCHED_MS on app->base: each active definition that is
 * due (a schedule whose time came and that has not run; a trigger not
 * run for SIGIL_MESSAGE_TRIGGER_S seconds, default 3600) is run by a
 * writer op, one at a time: planned and written in one transaction.
 * Free like the dispatcher.
 */
#define MESSAGE_SCHED_MS	1000
struct message_sched;
int message_sched_start(struct app *app, struct message_sched **out);
void message_sched_free(struct message_sched *s);

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
