/*
 * sigil/store/notify.h - alert notification rules (src/store/
 * store_notify.c): who hears of which alerts, how and when, and how far
 * each rule has read the alerts table. notify.c makes and checks the
 * rules and delivers what they find through the messages outbox.
 *
 * A part of sigil/store.h, which includes it after the limits and the
 * types it uses: include sigil/store.h, not this.
 */
#ifndef SIGIL_STORE_NOTIFY_H
#define SIGIL_STORE_NOTIFY_H

#ifndef SIGIL_STORE_H
#error "include sigil/store.h"
#endif

#define NOTIFY_NAME_MAX		64	/* bytes of UTF-8 */
#define NOTIFY_EMAILS_MAX	1000	/* "a@x,b@y": the list as stored */
#define NOTIFY_SECRET_CT_MAX	160	/* sealed DingTalk secret */

enum notify_mode {
	NOTIFY_IMMEDIATE = 0,	/* one message per new alert */
	NOTIFY_HOURLY = 1,	/* one digest at each full hour */
	NOTIFY_DAILY = 2,	/* one digest a day at daily_at */
};

struct notify_rule {
	uint32_t	brand_id;
	uint32_t	id;
	char		name[NOTIFY_NAME_MAX + 1];
	uint32_t	types;		/* mask: 1u << enum alert_type (< 32) */
	int		mode;		/* enum notify_mode */
	int		daily_at;	/* DAILY: minutes after local midnight */
	int		tz_min;		/* local time = UTC + tz_min minutes */
	int		active;
	char		emails[NOTIFY_EMAILS_MAX + 1];	/* comma-separated */
	char		wecom_url[STORE_URL_MAX + 1];	/* "" none */
	char		dingtalk_url[STORE_URL_MAX + 1];	/* "" none */
	uint8_t		ding_ct[NOTIFY_SECRET_CT_MAX];	/* sealed, or none */
	size_t		ding_ct_len;
	int64_t		created;
	/* Delivery state, written only when something is sent: */
	uint64_t	cursor;		/* the last alert id looked at */
	int64_t		last_sent;	/* the last delivery (or created) */
	uint64_t	sent;		/* messages handed to the outbox */
	int64_t		seen_at;	/* alerts seen again up to here told */
};

/* Adds w (brand_id set; id and created are given). EINVAL, ENOTFOUND. */
int store_notify_rule_add(struct store *st, struct notify_rule *r);
/* The brand's rule id: 0, SIGIL_ENOTFOUND. */
int store_notify_rule_get(struct store *st, uint32_t brand_id, uint32_t id,
    struct notify_rule *out);
/* The brand's rules in id order (brand_id 0: every brand's). */
int store_notify_rule_each(struct store *st, uint32_t brand_id,
    int (*fn)(void *arg, const struct notify_rule *r), void *arg);
/*
 * Replaces the rule's settings (name ... ding_ct) and keeps its delivery
 * state; with keep_secret, the stored DingTalk secret is kept too.
 * SIGIL_ENOTFOUND, SIGIL_EINVAL.
 */
int store_notify_rule_update(struct store *st, const struct notify_rule *r,
    int keep_secret);
int store_notify_rule_del(struct store *st, uint32_t brand_id, uint32_t id);

/*
 * One delivery of a rule, in one transaction: the rule's cursor moves to
 * cursor (never back), last_sent to last_sent (when not 0), seen_at
 * to seen_at (when later), sent grows
 * by n, and the n messages go to the outbox (outbox_put; payloads stay
 * the caller's; ids set). A rule deleted meanwhile: gone = 1, nothing
 * written, 0.
 */
struct outbox_msg;
struct notify_delivery {
	uint32_t		brand_id, rule_id;
	uint64_t		cursor;
	int64_t			last_sent;
	int64_t			seen_at;	/* 0: unchanged; never back */
	size_t			n;
	struct outbox_msg	*msgs;
	int			gone;	/* out */
};
int store_notify_deliver(struct store *st, struct notify_delivery *d);

/* The brand's newest alert id (0: none), for a new rule's cursor. */
int store_notify_alert_last(struct store *st, uint32_t brand_id,
    uint64_t *out);

#endif
