/*
 * notify.h - alert notifications (issue 21, part 6): rules per alert
 * type naming people to tell by e-mail (SMTP), WeCom group robot and
 * DingTalk custom robot webhooks, at once or as an hourly or daily
 * digest. notify.c owns the rules and the scan of new alerts (a cursor
 * over the alerts table's ids), channel_smtp.c the SMTP client,
 * channel_robot.c the two robots. Delivery goes through the messages
 * outbox (OUTBOX_ALERT) with the channels "smtp", "wecom", "dingtalk".
 * See docs/notify.md.
 */
#ifndef SIGIL_NOTIFY_H
#define SIGIL_NOTIFY_H

#include <stddef.h>
#include <stdint.h>

#include "sigil/store.h"

struct app;
struct egress_policy;
struct json_t;
struct keyring;

#define NOTIFY_TICK_MS		1000	/* how often rules look for alerts */
#define NOTIFY_BATCH_MAX	20	/* immediate messages per rule per tick */
#define NOTIFY_DIGEST_MAX	40	/* alerts listed in one digest */
#define NOTIFY_RECIPIENTS_MAX	20	/* e-mail addresses per rule */
#define NOTIFY_ADDR_MAX		254	/* RFC 5321 path limit */
#define NOTIFY_DING_SECRET_MAX	128	/* the "SEC..." secret as shown */
#define NOTIFY_TIMEOUT_S	30	/* one SMTP session or robot POST */

/*
 * How a channel's send ends, once, on the loop: ok; else retry (1: a
 * passing failure, try again later; 0: permanent), the status (SMTP
 * reply code, HTTP status, or robot errcode; -1 none) and a detail for
 * the log (never a secret).
 */
typedef void (*notify_done_fn)(void *arg, int ok, int retry, int status,
    const char *detail);

/* ---- the rules (notify.c) ---- */

/*
 * Reads a rule from the API's JSON into *out (brand_id set by the
 * caller): name, types (alert type names), emails, wecom_url,
 * dingtalk_url, dingtalk_secret, mode ("immediate", "hourly",
 * "daily"), at ("HH:MM", daily), tz_offset (minutes east of UTC,
 * default 480), active. With base (an update), absent keys keep base's
 * values. Robot URLs pass webhook_target_check under p. The secret, when
 * given, is sealed into out->ding_ct; *secret_given says so. 0, or
 * SIGIL_EINVAL / SIGIL_EDENIED with err set to a sentence.
 */
int notify_rule_parse(const struct json_t *o, const struct notify_rule *base,
    const struct egress_policy *p, struct keyring *kr,
    struct notify_rule *out, int *secret_given, char *err, size_t errsize);

/* The rule as the API shows it (never the secret: dingtalk_secret_set). */
struct json_t *notify_rule_json(const struct notify_rule *r);

/* Unseals the rule's DingTalk secret into out. 0, SIGIL_ENOTFOUND (none),
 * SIGIL_EFORGED. */
int notify_secret_open(struct keyring *kr, const struct notify_rule *r,
    char out[NOTIFY_DING_SECRET_MAX + 1]);

/* Makes the keyring secret rules are sealed under, at start-up. */
int notify_seal_ready(struct keyring *kr);

/*
 * When a digest rule is next due after time after (microseconds): the
 * next full hour (HOURLY) or the next daily_at in the rule's zone
 * (DAILY); after itself for IMMEDIATE.
 */
int64_t notify_next_due(const struct notify_rule *r, int64_t after);

/*
 * The messages one delivery makes for rule r of the alerts a[0..n-1]
 * (one alert: its own message; several: a digest listing them, "more"
 * not listed): the subject and the text (plain, for e-mail) and the
 * markdown (for the robots). zh-CN first, then English. malloc'd.
 */
struct notify_text {
	char	*subject;
	char	*text;
	char	*markdown;
};
int notify_compose(const struct notify_rule *r, const struct alert *a,
    size_t n, size_t more, const char *brand_name, struct notify_text *out);
void notify_text_clear(struct notify_text *t);

/*
 * The scanner on app->base: every NOTIFY_TICK_MS it reads the active
 * rules and the alerts past each rule's cursor, and hands what is due to
 * the outbox through the writer. 0, SIGIL_ENOMEM.
 */
struct notify;
int notify_start(struct app *app, struct notify **out);
void notify_free(struct notify *n);
/* Has the running scanner send rule's digest at its next tick, due or
 * not (nothing when there is nothing new). 0, SIGIL_ESTATE (none runs),
 * SIGIL_ENOMEM. */
int notify_digest_now(uint32_t brand_id, uint32_t rule_id);

/* ---- SMTP (channel_smtp.c) ---- */

struct notify_smtp_config {
	int		tls;		/* 1: smtps:// (TLS from the start) */
	int		starttls;	/* smtp://: 1 required (?starttls=
					   require), 0 when offered */
	char		host[256];
	int		port;
	char		user[256];	/* "" no AUTH */
	char		password[256];
	char		from[NOTIFY_ADDR_MAX + 1];
	const char	*ca_file;	/* extra trust anchors or NULL */
	char		helo[256];	/* EHLO name */
};

/*
 * Parses "smtp://host[:port][?starttls=require]" (port 25) or
 * "smtps://host[:port]" (port 465) into c. 0 or SIGIL_EINVAL.
 */
int notify_smtp_url(const char *url, struct notify_smtp_config *c);

/* Sets the process's SMTP server (sigild's --smtp flags), copying c;
 * NULL: none. 0, SIGIL_ECRYPTO (TLS context), SIGIL_EINVAL. */
int notify_smtp_configure(const struct notify_smtp_config *c);
/* sigild's flags: checks them, reads the password file (mode 0600 or
 * 0400) and configures. 0 (also without --smtp), or SIGIL_EINVAL with
 * err set to a sentence. */
struct notify_smtp_flags {
	const char	*url, *user, *password_file, *from, *ca_file;
};
int notify_smtp_flags(const struct notify_smtp_flags *f, char *err,
    size_t errsize);

/* 1 when an SMTP server is configured. */
int notify_smtp_ready(void);

/*
 * Sends payload {"to": [addresses], "subject": text, "text": text} as
 * one message through the configured server on app->base; done once.
 * 0 or SIGIL_EINVAL (bad payload) / SIGIL_ESTATE (no server) /
 * SIGIL_ENOMEM, with done not called.
 */
int notify_smtp_send(struct app *app, const char *payload,
    notify_done_fn done, void *arg);

/* Pure helpers (unit-tested): */
/* Whether s is an address notify accepts: local@domain, printable
 * ASCII, no spaces, quotes, angle brackets, commas or CR/LF. */
int notify_addr_ok(const char *s);
/*
 * The body text as DATA carries it: lines ending CRLF (a bare LF or CR
 * becomes CRLF), a line starting with "." gets another "." (RFC 5321
 * 4.5.2), no final "." line. malloc'd, NULL on ENOMEM.
 */
char *notify_smtp_dot_stuff(const char *text, size_t *len);
/*
 * The header value for a UTF-8 subject: the text itself when it is
 * printable ASCII, else RFC 2047 encoded-words "=?UTF-8?B?...?=" of at
 * most 75 characters each, never splitting a UTF-8 sequence, folded
 * with CRLF SP. malloc'd, NULL on ENOMEM.
 */
char *notify_smtp_subject(const char *subject);

/* ---- robots (channel_robot.c) ---- */

/*
 * Posts payload {"rule": id, "title": text, "markdown": text} to the
 * rule's WeCom robot ({"msgtype": "markdown"}) or DingTalk robot (signed
 * with the rule's secret when it has one), on app->base through egress;
 * done once with the robot's errcode. 0 or SIGIL_EINVAL / SIGIL_ENOTFOUND
 * (no such rule or robot) / SIGIL_ENOMEM, with done not called.
 */
int notify_wecom_send(struct app *app, uint32_t brand_id, const char *payload,
    notify_done_fn done, void *arg);
int notify_dingtalk_send(struct app *app, uint32_t brand_id,
    const char *payload, notify_done_fn done, void *arg);

/*
 * DingTalk's signature: urlencode(base64(HMAC-SHA256(key = secret,
 * timestamp_ms + "\n" + secret))). 0 or SIGIL_ECRYPTO / SIGIL_EINVAL.
 */
#define NOTIFY_DING_SIGN_MAX	(3 * 44)
int notify_dingtalk_sign(const char *secret, int64_t timestamp_ms,
    char out[NOTIFY_DING_SIGN_MAX + 1]);

/*
 * Registers the smtp, wecom and dingtalk channels with the messages
 * dispatcher (message_channel_register). At start-up.
 */
int notify_channels_register(void);

#endif
