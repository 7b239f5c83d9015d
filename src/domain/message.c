/*
 * message.c - lifecycle message definitions: what a brand may ask for,
 * checked strictly, kept as canonical JSON, shown back with its
 * delivery counts, and written by the brand API's writer ops.
 *
 * A definition is {name, audience, channel, text, schedule | trigger,
 * cap, quiet_hours, active, wechat, webhook} (docs/api.md "Messages"):
 * a text with placeholders ({name}, {points}, {tier}, {expiring},
 * {brand}) to a saved segment (0: every customer) through one channel,
 * once at a time (schedule.at) or whenever a trigger holds for a
 * customer (birthday, points_expiring days, no_scan days, tier_reached
 * name). Planning and running are message_plan.c's and
 * message_sched.c's; delivery is message_dispatch.c's.
 *
 * The brand's message settings (a member settings key): the
 * WeChat template replies and other service messages use
 * (service_wechat), so that "auto" can reach a customer by WeChat.
 *
 * Owns the definition's rules and JSON. May call store (reads; writes in
 * its ops' run), segment.h (an audience must be a saved segment),
 * webhook.h (a webhook channel names a subscription), util. Never knows
 * HTTP.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sigil/audit.h"
#include "sigil/member.h"
#include "sigil/message.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "sigil/writer.h"

#include "message_impl.h"

static const char *const channel_names[] = { "sms", "wechat_template",
	"wechat_subscribe", "webhook", "auto" };
static const char *const placeholders[] = { "name", "points", "tier",
	"expiring", "brand" };

static int
fail(char *err, size_t size, const char *fmt, const char *what)
{
	snprintf(err, size, fmt, what);
	return SIGIL_EINVAL;
}

/* "{word}" placeholders of text: each one known. */
static int
text_placeholders_ok(const char *text, char *err, size_t size)
{
	const char *p = text, *e;

	while ((p = strchr(p, '{')) != NULL) {
		size_t n;
		int known = 0;

		if ((e = strchr(p, '}')) == NULL)
			return fail(err, size, "'text' has a '{' without '}'%s",
			    "");
		n = (size_t)(e - p - 1);
		for (size_t i = 0; i < sizeof placeholders /
		    sizeof placeholders[0]; i++)
			if (strlen(placeholders[i]) == n &&
			    memcmp(placeholders[i], p + 1, n) == 0)
				known = 1;
		if (!known) {
			char word[40];

			snprintf(word, sizeof word, "%.*s", n > 32 ? 32 : (int)n,
			    p + 1);
			snprintf(err, size, "'text' has an unknown placeholder "
			    "{%s}: use {name}, {points}, {tier}, {expiring} or "
			    "{brand}", word);
			return SIGIL_EINVAL;
		}
		p = e + 1;
	}
	return 0;
}

static int
hhmm(const char *s, int *out)
{
	if (s == NULL || strlen(s) != 5 || s[2] != ':' ||
	    strspn(s, "0123456789:") != 5)
		return -1;
	int h = (s[0] - '0') * 10 + (s[1] - '0');
	int m = (s[3] - '0') * 10 + (s[4] - '0');
	if (h > 23 || m > 59)
		return -1;
	*out = h * 60 + m;
	return 0;
}

static int
ident_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	return n > 0 && n <= max && strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

static int
text_field(json_t *body, const char *key, size_t max, int flags, char *out,
    size_t cap, char *err, size_t size)
{
	json_t *v = json_object_get(body, key);
	struct sigil_text_err te;

	if (!json_is_string(v))
		return fail(err, size, "'%s' must be a string", key);
	if (sigil_text_ok(json_string_value(v), max, flags, &te) != 0) {
		sigil_text_explain(key, max, flags, &te, err, size);
		return SIGIL_EINVAL;
	}
	if (json_string_length(v) >= cap)
		return fail(err, size, "'%s' is too long", key);
	memcpy(out, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

static int
parse_trigger(json_t *t, struct message_cfg *c, char *err, size_t size)
{
	const char *k;
	json_t *v;

	if (!json_is_object(t) || json_object_size(t) != 1)
		return fail(err, size, "'trigger' must be one of {\"birthday\": "
		    "true}, {\"points_expiring\": days}, {\"no_scan\": days}, "
		    "{\"tier_reached\": name}%s", "");
	json_object_foreach(t, k, v) {
		if (strcmp(k, "birthday") == 0) {
			if (!json_is_true(v))
				return fail(err, size, "'trigger.birthday' must "
				    "be true%s", "");
			c->trigger = TRIG_BIRTHDAY;
		} else if (strcmp(k, "points_expiring") == 0 ||
		    strcmp(k, "no_scan") == 0) {
			if (!json_is_integer(v) || json_integer_value(v) < 1 ||
			    json_integer_value(v) > 365)
				return fail(err, size, "'trigger.%s' must be a "
				    "number of days, 1 to 365", k);
			c->trigger = k[0] == 'p' ? TRIG_POINTS_EXPIRING :
			    TRIG_NO_SCAN;
			c->days = json_integer_value(v);
		} else if (strcmp(k, "tier_reached") == 0) {
			struct sigil_text_err te;

			if (!json_is_string(v) || sigil_text_ok(
			    json_string_value(v), 32, 0, &te) != 0 ||
			    json_string_length(v) >= sizeof c->tier)
				return fail(err, size, "'trigger.tier_reached' "
				    "must be a tier name, 1 to 32 characters%s",
				    "");
			c->trigger = TRIG_TIER_REACHED;
			memcpy(c->tier, json_string_value(v),
			    json_string_length(v) + 1);
		} else {
			return fail(err, size, "'trigger' has an unknown key "
			    "'%.40s'", k);
		}
	}
	return 0;
}

static int
parse_cap(json_t *v, struct message_cfg *c, char *err, size_t size)
{
	json_t *d = json_object_get(v, "per_days"), *m = json_object_get(v,
	    "max");

	if (!json_is_object(v) || json_object_size(v) != 2 ||
	    !json_is_integer(d) || !json_is_integer(m) ||
	    json_integer_value(d) < 1 || json_integer_value(d) > 365 ||
	    json_integer_value(m) < 1 || json_integer_value(m) > 100)
		return fail(err, size, "'cap' must be {\"per_days\": 1..365, "
		    "\"max\": 1..100}%s", "");
	c->cap_days = (uint32_t)json_integer_value(d);
	c->cap_max = (uint32_t)json_integer_value(m);
	return 0;
}

/* "+HH:MM" or "-HH:MM", -12:00 to +14:00: minutes east of UTC. */
static int
zone_parse(const char *s, int *out)
{
	int m;

	if (s == NULL || strlen(s) != 6 || (s[0] != '+' && s[0] != '-') ||
	    hhmm(s + 1, &m) != 0 || m % 15 != 0)
		return -1;
	m = s[0] == '-' ? -m : m;
	if (m < -12 * 60 || m > 14 * 60)
		return -1;
	*out = m;
	return 0;
}

static int
parse_quiet(json_t *v, struct message_cfg *c, char *err, size_t size)
{
	json_t *f = json_object_get(v, "from"), *t = json_object_get(v, "to");
	json_t *z = json_object_get(v, "zone");

	c->zone_min = 8 * 60;
	if (!json_is_object(v) || json_object_size(v) != 2 + (z != NULL) ||
	    hhmm(json_string_value(f), &c->quiet_from) != 0 ||
	    hhmm(json_string_value(t), &c->quiet_to) != 0 ||
	    c->quiet_from == c->quiet_to ||
	    (z != NULL && zone_parse(json_string_value(z), &c->zone_min) != 0))
		return fail(err, size, "'quiet_hours' must be {\"from\": "
		    "\"HH:MM\", \"to\": \"HH:MM\", \"zone\": the brand's "
		    "UTC offset such as \"+08:00\" (optional)}, two different "
		    "times%s", "");
	c->quiet = 1;
	return 0;
}

static int
parse_wechat(json_t *v, struct message_cfg *c, char *err, size_t size)
{
	const char *k;
	json_t *x;

	if (!json_is_object(v))
		return fail(err, size, "'wechat' must be an object%s", "");
	json_object_foreach(v, k, x) {
		if (strcmp(k, "template_id") != 0 && strcmp(k, "field") != 0 &&
		    strcmp(k, "page") != 0)
			return fail(err, size, "'wechat' has an unknown key "
			    "'%.40s': it holds template_id, field, page", k);
		if (!json_is_string(x))
			return fail(err, size, "'wechat.%s' must be a string",
			    k);
	}
	x = json_object_get(v, "template_id");
	if (x == NULL || !ident_ok(json_string_value(x), 64))
		return fail(err, size, "'wechat.template_id' must be 1 to 64 "
		    "letters, digits, '_' or '-'%s", "");
	strcpy(c->template_id, json_string_value(x));
	x = json_object_get(v, "field");
	strcpy(c->field, "thing1");
	if (x != NULL) {
		if (!ident_ok(json_string_value(x), 32))
			return fail(err, size, "'wechat.field' must be a data "
			    "key such as thing1, 1 to 32 letters or digits%s",
			    "");
		strcpy(c->field, json_string_value(x));
	}
	x = json_object_get(v, "page");
	if (x != NULL) {
		const char *p = json_string_value(x);

		if (strlen(p) == 0 || strlen(p) > 128 ||
		    strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789_-/?=&.") != strlen(p))
			return fail(err, size, "'wechat.page' must be a mini "
			    "program page path, 1 to 128 characters%s", "");
		strcpy(c->page, p);
	}
	return 0;
}

static const char *const keys[] = { "name", "audience", "channel", "text",
	"schedule", "trigger", "cap", "quiet_hours", "active", "wechat",
	"webhook" };

int
message_config_parse(struct store *st, uint32_t brand_id,
    const struct json_t *cbody, struct message_cfg *cfg, char **json,
    char *err, size_t size)
{
	json_t *body = (json_t *)cbody, *v, *out;
	struct message_cfg c;
	const char *k;
	int rc, known;

	memset(&c, 0, sizeof c);
	c.active = 1;
	if (!json_is_object(body))
		return fail(err, size, "the body must be a JSON object%s", "");
	json_object_foreach(body, k, v) {
		known = 0;
		for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
			known |= strcmp(k, keys[i]) == 0;
		if (!known)
			return fail(err, size, "unknown key '%.40s': a message "
			    "holds name, audience, channel, text, schedule or "
			    "trigger, cap, quiet_hours, active, wechat, webhook",
			    k);
	}
	if ((rc = text_field(body, "name", MESSAGE_NAME_MAX, 0, c.name,
	    sizeof c.name, err, size)) != 0 ||
	    (rc = text_field(body, "text", MESSAGE_TEXT_MAX,
	    SIGIL_TEXT_MULTILINE, c.text, sizeof c.text, err, size)) != 0 ||
	    (rc = text_placeholders_ok(c.text, err, size)) != 0)
		return rc;
	v = json_object_get(body, "audience");
	if (v != NULL && (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > UINT32_MAX))
		return fail(err, size, "'audience' must be a saved segment's id "
		    "(0 or absent: every customer)%s", "");
	c.audience = v != NULL ? (uint32_t)json_integer_value(v) : 0;
	if (c.audience != 0 && message_audience_check(st, brand_id,
	    c.audience) != 0)
		return fail(err, size, "'audience' names no saved segment of "
		    "this brand%s", "");
	v = json_object_get(body, "channel");
	known = 0;
	for (size_t i = 0; json_is_string(v) && i < sizeof channel_names /
	    sizeof channel_names[0]; i++)
		known |= strcmp(json_string_value(v), channel_names[i]) == 0;
	if (!known)
		return fail(err, size, "'channel' must be sms, wechat_template, "
		    "wechat_subscribe, webhook or auto%s", "");
	strcpy(c.channel, json_string_value(v));
	v = json_object_get(body, "active");
	if (v != NULL && !json_is_boolean(v))
		return fail(err, size, "'active' must be true or false%s", "");
	c.active = v == NULL || json_is_true(v);
	v = json_object_get(body, "schedule");
	if ((v != NULL) == (json_object_get(body, "trigger") != NULL))
		return fail(err, size, "a message has either a 'schedule' "
		    "{\"at\": time} or a 'trigger', one of them%s", "");
	if (v != NULL) {
		json_t *at = json_object_get(v, "at");

		if (!json_is_object(v) || json_object_size(v) != 1 ||
		    !json_is_string(at) || sigil_time_parse_rfc3339(
		    json_string_value(at), &c.at) != 0)
			return fail(err, size, "'schedule' must be {\"at\": an "
			    "RFC 3339 time such as 2026-02-17T09:00:00+08:00}%s",
			    "");
	} else if ((rc = parse_trigger(json_object_get(body, "trigger"), &c,
	    err, size)) != 0) {
		return rc;
	}
	if ((v = json_object_get(body, "cap")) != NULL &&
	    (rc = parse_cap(v, &c, err, size)) != 0)
		return rc;
	if ((v = json_object_get(body, "quiet_hours")) != NULL &&
	    (rc = parse_quiet(v, &c, err, size)) != 0)
		return rc;
	v = json_object_get(body, "wechat");
	if (strncmp(c.channel, "wechat_", 7) == 0 || (v != NULL &&
	    strcmp(c.channel, "auto") == 0)) {
		if (v == NULL)
			return fail(err, size, "the %s channel needs 'wechat': "
			    "{\"template_id\": ...}", c.channel);
		if ((rc = parse_wechat(v, &c, err, size)) != 0)
			return rc;
	} else if (v != NULL) {
		return fail(err, size, "'wechat' goes with a wechat_* or auto "
		    "channel%s", "");
	}
	v = json_object_get(body, "webhook");
	if (strcmp(c.channel, "webhook") == 0) {
		json_t *s = json_object_get(v, "subscription");
		struct webhook w;

		if (!json_is_object(v) || json_object_size(v) != 1 ||
		    !json_is_integer(s) || json_integer_value(s) < 1 ||
		    json_integer_value(s) > UINT32_MAX)
			return fail(err, size, "the webhook channel needs "
			    "'webhook': {\"subscription\": a webhook id}%s", "");
		c.hook = (uint32_t)json_integer_value(s);
		if (st != NULL && store_webhook_get(st, brand_id, c.hook,
		    &w) != 0)
			return fail(err, size, "'webhook.subscription' names "
			    "no webhook of this brand%s", "");
	} else if (v != NULL) {
		return fail(err, size, "'webhook' goes with the webhook "
		    "channel%s", "");
	}
	if ((out = message_cfg_json(&c)) == NULL ||
	    (*json = json_dumps(out, JSON_COMPACT)) == NULL) {
		json_decref(out);
		return SIGIL_ENOMEM;
	}
	json_decref(out);
	*cfg = c;
	return 0;
}

json_t *
message_cfg_json(const struct message_cfg *c)
{
	char at[SIGIL_TIME_LEN + 1], q[24];
	json_t *o = json_object(), *x;

	if (o == NULL)
		return NULL;
	json_object_set_new(o, "name", json_string(c->name));
	json_object_set_new(o, "audience", json_integer(c->audience));
	json_object_set_new(o, "channel", json_string(c->channel));
	json_object_set_new(o, "text", json_string(c->text));
	json_object_set_new(o, "active", json_boolean(c->active));
	if (c->trigger == TRIG_NONE) {
		json_object_set_new(o, "schedule", json_pack("{s:s}", "at",
		    sigil_time_format(c->at, at)));
	} else {
		x = c->trigger == TRIG_BIRTHDAY ? json_pack("{s:b}", "birthday",
		    1) : c->trigger == TRIG_POINTS_EXPIRING ? json_pack("{s:I}",
		    "points_expiring", (json_int_t)c->days) :
		    c->trigger == TRIG_NO_SCAN ? json_pack("{s:I}", "no_scan",
		    (json_int_t)c->days) : json_pack("{s:s}", "tier_reached",
		    c->tier);
		json_object_set_new(o, "trigger", x);
	}
	if (c->cap_days != 0)
		json_object_set_new(o, "cap", json_pack("{s:i,s:i}", "per_days",
		    (int)c->cap_days, "max", (int)c->cap_max));
	if (c->quiet) {
		x = json_object();
		snprintf(q, sizeof q, "%02d:%02d", c->quiet_from / 60,
		    c->quiet_from % 60);
		json_object_set_new(x, "from", json_string(q));
		snprintf(q, sizeof q, "%02d:%02d", c->quiet_to / 60,
		    c->quiet_to % 60);
		json_object_set_new(x, "to", json_string(q));
		snprintf(q, sizeof q, "%c%02d:%02d", c->zone_min < 0 ? '-' :
		    '+', abs(c->zone_min) / 60, abs(c->zone_min) % 60);
		json_object_set_new(x, "zone", json_string(q));
		json_object_set_new(o, "quiet_hours", x);
	}
	if (c->template_id[0] != '\0') {
		x = json_pack("{s:s,s:s}", "template_id", c->template_id,
		    "field", c->field);
		if (x != NULL && c->page[0] != '\0')
			json_object_set_new(x, "page", json_string(c->page));
		json_object_set_new(o, "wechat", x);
	}
	if (c->hook != 0)
		json_object_set_new(o, "webhook", json_pack("{s:i}",
		    "subscription", (int)c->hook));
	return o;
}

int
message_config_load(const char *text, struct message_cfg *cfg)
{
	json_t *j = json_loads(text, 0, NULL);
	char err[200], *json = NULL;
	int rc;

	if (j == NULL)
		return SIGIL_EIO;
	/* No store: the audience and webhook were checked when stored. */
	rc = message_config_parse(NULL, 0, j, cfg, &json, err, sizeof err);
	json_decref(j);
	free(json);
	return rc == 0 ? 0 : SIGIL_EIO;
}

json_t *
message_json(struct store *st, const struct message_def *d)
{
	json_t *o = json_loads(d->config, 0, NULL), *c;
	char t[SIGIL_TIME_LEN + 1];
	uint64_t n[4] = { 0 };

	if (o == NULL)
		return NULL;
	json_object_set_new(o, "id", json_integer(d->id));
	json_object_set_new(o, "created", json_string(sigil_time_format(
	    d->created, t)));
	json_object_set_new(o, "updated", json_string(sigil_time_format(
	    d->updated, t)));
	json_object_set_new(o, "last_run", d->last_run ? json_string(
	    sigil_time_format(d->last_run, t)) : json_null());
	json_object_set_new(o, "runs", json_integer(d->runs));
	if (st != NULL)
		(void)store_outbox_tally(st, d->brand_id, d->id, n);
	c = json_pack("{s:I,s:I,s:I,s:I}", "queued", (json_int_t)n[
	    OUTBOX_QUEUED], "sent", (json_int_t)n[OUTBOX_SENT], "failed",
	    (json_int_t)n[OUTBOX_FAILED], "total", (json_int_t)d->queued);
	json_object_set_new(o, "delivery", c);
	return o;
}

/* ---- the brand's message settings ---- */

int
message_settings_parse(const struct json_t *cbody, struct json_t **out,
    char *err, size_t size)
{
	json_t *body = (json_t *)cbody, *w;
	struct message_cfg c;
	const char *k;
	json_t *v;
	int rc;

	if (!json_is_object(body))
		return fail(err, size, "the body must be a JSON object%s", "");
	json_object_foreach(body, k, v)
		if (strcmp(k, "service_wechat") != 0)
			return fail(err, size, "unknown key '%.40s': the settings "
			    "hold service_wechat", k);
	w = json_object_get(body, "service_wechat");
	if (w == NULL || json_is_null(w)) {
		*out = json_null();
		return 0;
	}
	memset(&c, 0, sizeof c);
	if ((rc = parse_wechat(w, &c, err, size)) != 0)
		return rc;
	*out = json_pack("{s:s,s:s}", "template_id", c.template_id, "field",
	    c.field);
	if (*out != NULL && c.page[0] != '\0')
		json_object_set_new(*out, "page", json_string(c.page));
	return *out != NULL ? 0 : SIGIL_ENOMEM;
}

struct json_t *
message_settings_json(struct json_t *settings)
{
	json_t *w = json_object_get(settings, MESSAGE_SETTINGS_KEY);

	return json_pack("{s:O}", "service_wechat", json_is_object(w) ? w :
	    json_null());
}

static int
settings_run(struct store *st, void *arg)
{
	struct message_settings *x = arg;

	return member_settings_key_set(st, x->brand_id, MESSAGE_SETTINGS_KEY,
	    json_is_null(x->service_wechat) ? NULL :
	    json_incref(x->service_wechat));
}

const struct writer_op message_settings_op = { "message_settings",
	settings_run };

/* ---- the brand API's writes ---- */

static int
create_run(struct store *st, void *arg)
{
	return store_message_add(st, arg);
}

static int
update_run(struct store *st, void *arg)
{
	struct message_def *d = arg;

	return store_message_update(st, d->brand_id, d->id, d->config,
	    sigil_now_us());
}

static int
delete_run(struct store *st, void *arg)
{
	struct message_def *d = arg;

	return store_message_delete(st, d->brand_id, d->id);
}

static int
def_audit(struct store *st, const void *arg, struct audit_entry *e,
    int after)
{
	const struct message_def *d = arg;

	(void)st;
	if (after) {
		if (e->target_id[0] != '\0' || d->id == 0)
			return 0;
		audit_target(e, "message", "%u", d->id);
		return 1;
	}
	if (d->id != 0)
		audit_target(e, "message", "%u", d->id);
	if (d->config != NULL)
		audit_detail_set(e, json_loads(d->config, 0, NULL));
	return 0;
}

const struct writer_op message_create_op = { "message_create", create_run,
	def_audit };
const struct writer_op message_update_op = { "message_update", update_run,
	def_audit };
const struct writer_op message_delete_op = { "message_delete", delete_run,
	def_audit };
