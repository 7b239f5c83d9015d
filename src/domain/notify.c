/*
 * notify.c - alert notification rules: their JSON (checked strictly),
 * the sealed DingTalk secret, when a digest is due, and the words of a
 * notification (zh-CN first, then English). notify_scan.c finds the new
 * alerts and hands the messages to the outbox; channel_smtp.c and
 * channel_robot.c send them.
 *
 * A rule names alert types ("counterfeit", "too_many_scanners",
 * "impossible_travel", "diversion", "rating_drop" once the feedback
 * part defines it, or "clone" for both clone signals), the people (up to
 * NOTIFY_RECIPIENTS_MAX e-mail addresses, a WeCom robot URL, a DingTalk
 * robot URL and its 加签 secret), and when: "immediate" (one message
 * per alert), "hourly" (a digest at each full hour) or "daily" (a digest
 * at "at", HH:MM in the zone tz_offset minutes east of UTC, China's +480
 * by default).
 *
 * May call store (reads), keyring, webhook.c's target check, util, log.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "sigil/keyring.h"
#include "sigil/notify.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "sigil/webhook.h"

#define MIN_US		(60LL * 1000000)
#define HOUR_US		(60 * MIN_US)
#define DAY_US		(24 * HOUR_US)

/* ---- the sealed secret ---- */

static int
seal_key(struct keyring *kr, int create, uint8_t key[32])
{
	return keyring_secret(kr, "notify-enc", create, key);
}

static void
seal_aad(uint32_t brand_id, uint8_t aad[12])
{
	memcpy(aad, "notify\0\0", 8);
	sigil_be32_put(aad + 8, brand_id);
}

int
notify_seal_ready(struct keyring *kr)
{
	uint8_t key[32];
	int rc = seal_key(kr, 1, key);

	OPENSSL_cleanse(key, sizeof key);
	return rc;
}

static int
secret_seal(struct keyring *kr, uint32_t brand_id, const char *secret,
    struct notify_rule *r)
{
	uint8_t key[32], aad[12];
	size_t n = strlen(secret);
	int rc;

	if (n > NOTIFY_DING_SECRET_MAX ||
	    n + SIGIL_SEAL_OVERHEAD > NOTIFY_SECRET_CT_MAX)
		return SIGIL_EINVAL;
	if ((rc = seal_key(kr, 1, key)) != 0)
		return rc;
	seal_aad(brand_id, aad);
	rc = sigil_seal(key, aad, sizeof aad, (const uint8_t *)secret, n,
	    r->ding_ct);
	OPENSSL_cleanse(key, sizeof key);
	r->ding_ct_len = rc == 0 ? n + SIGIL_SEAL_OVERHEAD : 0;
	return rc;
}

int
notify_secret_open(struct keyring *kr, const struct notify_rule *r,
    char out[NOTIFY_DING_SECRET_MAX + 1])
{
	uint8_t key[32], aad[12];
	size_t n;
	int rc;

	if (r->ding_ct_len <= SIGIL_SEAL_OVERHEAD)
		return SIGIL_ENOTFOUND;
	n = r->ding_ct_len - SIGIL_SEAL_OVERHEAD;
	if (n > NOTIFY_DING_SECRET_MAX)
		return SIGIL_EFORGED;
	if ((rc = seal_key(kr, 0, key)) != 0)
		return rc;
	seal_aad(r->brand_id, aad);
	rc = sigil_open(key, aad, sizeof aad, r->ding_ct, r->ding_ct_len,
	    (uint8_t *)out);
	OPENSSL_cleanse(key, sizeof key);
	out[rc == 0 ? n : 0] = '\0';
	return rc;
}

/* ---- the rule's JSON ---- */

static const char *const mode_names[] = { "immediate", "hourly", "daily" };

#define FAIL(...) do { snprintf(err, errsize, __VA_ARGS__); \
	return SIGIL_EINVAL; } while (0)

static int
parse_types(const json_t *v, uint32_t *out, char *err, size_t errsize)
{
	const json_t *t;
	size_t i;
	int type;

	*out = 0;
	if (!json_is_array(v) || json_array_size(v) == 0 ||
	    json_array_size(v) > 16)
		FAIL("field 'types' must be a non-empty array of alert types");
	json_array_foreach(v, i, t) {
		const char *s = json_string_value(t);

		if (s == NULL)
			FAIL("field 'types' holds alert type names");
		if (strcmp(s, "clone") == 0) {
			*out |= 1u << ALERT_CLONE_SCANNERS |
			    1u << ALERT_CLONE_TRAVEL;
			continue;
		}
		if ((type = store_alert_type_parse(s)) <= 0 || type >= 32)
			FAIL("unknown alert type '%.40s' (known: counterfeit, "
			    "clone, too_many_scanners, impossible_travel, "
			    "diversion%s)", s, store_alert_type_parse(
			    "rating_drop") > 0 ? ", rating_drop" : "");
		*out |= 1u << type;
	}
	return 0;
}

static int
parse_emails(const json_t *v, char *out, size_t size, char *err,
    size_t errsize)
{
	const json_t *t;
	size_t i, o = 0, n;

	out[0] = '\0';
	if (!json_is_array(v) || json_array_size(v) > NOTIFY_RECIPIENTS_MAX)
		FAIL("field 'emails' must be an array of at most %d e-mail "
		    "addresses", NOTIFY_RECIPIENTS_MAX);
	json_array_foreach(v, i, t) {
		const char *s = json_string_value(t);

		if (s == NULL || !notify_addr_ok(s))
			FAIL("'%.60s' is not an e-mail address notify accepts "
			    "(local@domain, ASCII, no spaces)", s ? s : "");
		n = strlen(s);
		if (o + n + 2 > size)
			FAIL("field 'emails' is too long");
		if (o > 0)
			out[o++] = ',';
		memcpy(out + o, s, n + 1);
		o += n;
	}
	return 0;
}

static int
parse_url(const json_t *v, const char *key, const struct egress_policy *p,
    char *out, char *err, size_t errsize)
{
	const char *why;
	int rc;

	if (json_is_null(v) || (json_is_string(v) &&
	    json_string_length(v) == 0)) {
		out[0] = '\0';
		return 0;
	}
	if (!json_is_string(v))
		FAIL("field '%s' must be an https:// robot URL or null", key);
	if ((rc = webhook_target_check(p, json_string_value(v), &why)) != 0) {
		snprintf(err, errsize, "field '%s': %s", key, why);
		return rc == SIGIL_EDENIED ? SIGIL_EDENIED : SIGIL_EINVAL;
	}
	snprintf(out, STORE_URL_MAX + 1, "%s", json_string_value(v));
	return 0;
}

static int
parse_at(const char *s, int *out)
{
	if (strlen(s) != 5 || s[2] != ':' || s[0] < '0' || s[0] > '2' ||
	    s[1] < '0' || s[1] > '9' || s[3] < '0' || s[3] > '5' ||
	    s[4] < '0' || s[4] > '9')
		return -1;
	*out = ((s[0] - '0') * 10 + s[1] - '0') * 60 + (s[3] - '0') * 10 +
	    s[4] - '0';
	return *out < 1440 ? 0 : -1;
}

int
notify_rule_parse(const json_t *o, const struct notify_rule *base,
    const struct egress_policy *p, struct keyring *kr,
    struct notify_rule *out, int *secret_given, char *err, size_t errsize)
{
	static const char *const keys[] = { "name", "types", "emails",
	    "wecom_url", "dingtalk_url", "dingtalk_secret", "mode", "at",
	    "tz_offset", "active", NULL };
	uint32_t brand_id = out->brand_id;
	const char *k, *s;
	json_t *v;
	int rc, i;

	*secret_given = 0;
	if (!json_is_object(o))
		FAIL("the body must be a JSON object");
	json_object_foreach((json_t *)o, k, v) {
		for (i = 0; keys[i] != NULL && strcmp(keys[i], k) != 0; i++)
			;
		if (keys[i] == NULL)
			FAIL("unknown field '%.40s'", k);
	}
	if (base != NULL)
		*out = *base;
	else {
		memset(out, 0, sizeof *out);
		out->brand_id = brand_id;
		out->tz_min = 480;
		out->active = 1;
		out->mode = NOTIFY_IMMEDIATE;
	}
	if ((v = json_object_get(o, "name")) != NULL) {
		if (!json_is_string(v) || json_string_length(v) == 0 ||
		    json_string_length(v) > NOTIFY_NAME_MAX)
			FAIL("field 'name' must be text of 1 to %d bytes",
			    NOTIFY_NAME_MAX);
		snprintf(out->name, sizeof out->name, "%s",
		    json_string_value(v));
	} else if (base == NULL)
		FAIL("field 'name' is required");
	if ((v = json_object_get(o, "types")) != NULL) {
		if ((rc = parse_types(v, &out->types, err, errsize)) != 0)
			return rc;
	} else if (base == NULL)
		FAIL("field 'types' is required");
	if ((v = json_object_get(o, "emails")) != NULL &&
	    (rc = parse_emails(v, out->emails, sizeof out->emails, err,
	    errsize)) != 0)
		return rc;
	if ((v = json_object_get(o, "wecom_url")) != NULL &&
	    (rc = parse_url(v, "wecom_url", p, out->wecom_url, err,
	    errsize)) != 0)
		return rc;
	if ((v = json_object_get(o, "dingtalk_url")) != NULL &&
	    (rc = parse_url(v, "dingtalk_url", p, out->dingtalk_url, err,
	    errsize)) != 0)
		return rc;
	if ((v = json_object_get(o, "mode")) != NULL) {
		s = json_string_value(v);
		for (i = 0; i < 3 && (s == NULL || strcmp(s, mode_names[i])); i++)
			;
		if (i == 3)
			FAIL("field 'mode' must be \"immediate\", \"hourly\" or "
			    "\"daily\"");
		out->mode = i;
	}
	if ((v = json_object_get(o, "at")) != NULL) {
		if (!json_is_string(v) || parse_at(json_string_value(v),
		    &out->daily_at) != 0)
			FAIL("field 'at' must be a time of day \"HH:MM\"");
	}
	if ((v = json_object_get(o, "tz_offset")) != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < -720 ||
		    json_integer_value(v) > 840)
			FAIL("field 'tz_offset' must be minutes east of UTC, "
			    "-720 to 840");
		out->tz_min = (int)json_integer_value(v);
	}
	if ((v = json_object_get(o, "active")) != NULL) {
		if (!json_is_boolean(v))
			FAIL("field 'active' must be true or false");
		out->active = json_is_true(v);
	}
	if ((v = json_object_get(o, "dingtalk_secret")) != NULL &&
	    !json_is_null(v)) {
		s = json_string_value(v);
		if (s == NULL || strlen(s) == 0 ||
		    strlen(s) > NOTIFY_DING_SECRET_MAX)
			FAIL("field 'dingtalk_secret' must be the robot's "
			    "\"SEC...\" secret, at most %d characters",
			    NOTIFY_DING_SECRET_MAX);
		for (const char *c = s; *c; c++)
			if ((unsigned char)*c <= 0x20 ||
			    (unsigned char)*c >= 0x7f)
				FAIL("field 'dingtalk_secret' must be "
				    "printable ASCII");
		if ((rc = secret_seal(kr, out->brand_id, s, out)) != 0) {
			snprintf(err, errsize, "could not seal the secret");
			return rc;
		}
		*secret_given = 1;
	} else if (v != NULL) {
		out->ding_ct_len = 0;	/* null: no secret */
		*secret_given = 1;
	}
	if (out->dingtalk_url[0] == '\0')
		out->ding_ct_len = 0;
	if (out->emails[0] == '\0' && out->wecom_url[0] == '\0' &&
	    out->dingtalk_url[0] == '\0')
		FAIL("a rule needs someone to tell: 'emails', 'wecom_url' or "
		    "'dingtalk_url'");
	return 0;
}

json_t *
notify_rule_json(const struct notify_rule *r)
{
	json_t *o, *types, *emails;
	char at[24], *list, *tok, *save = NULL, t1[40], t2[40];
	int t;

	if ((types = json_array()) == NULL || (emails = json_array()) ==
	    NULL) {
		json_decref(types);
		return NULL;
	}
	for (t = 1; t < 32; t++)
		if ((r->types & 1u << t) && store_alert_type_name(t) != NULL)
			json_array_append_new(types, json_string(
			    store_alert_type_name(t)));
	if ((list = strdup(r->emails)) != NULL) {
		for (tok = strtok_r(list, ",", &save); tok != NULL;
		    tok = strtok_r(NULL, ",", &save))
			json_array_append_new(emails, json_string(tok));
		free(list);
	}
	snprintf(at, sizeof at, "%02d:%02d", r->daily_at / 60,
	    r->daily_at % 60);
	o = json_pack("{s:I,s:s,s:o,s:o,s:s?,s:s?,s:b,s:s,s:s,s:i,s:b,"
	    "s:s,s:I,s:s,s:I}",
	    "id", (json_int_t)r->id, "name", r->name, "types", types,
	    "emails", emails,
	    "wecom_url", r->wecom_url[0] ? r->wecom_url : NULL,
	    "dingtalk_url", r->dingtalk_url[0] ? r->dingtalk_url : NULL,
	    "dingtalk_secret_set", r->ding_ct_len > 0,
	    "mode", mode_names[r->mode >= 0 && r->mode <= 2 ? r->mode : 0],
	    "at", at, "tz_offset", r->tz_min, "active", r->active != 0,
	    "created", sigil_time_format(r->created, t1),
	    "cursor", (json_int_t)r->cursor,
	    "last_sent", sigil_time_format(r->last_sent, t2),
	    "sent", (json_int_t)r->sent);
	return o;
}

/* ---- when ---- */

int64_t
notify_next_due(const struct notify_rule *r, int64_t after)
{
	int64_t local, day, at;

	switch (r->mode) {
	case NOTIFY_HOURLY:
		return (after / HOUR_US + 1) * HOUR_US;
	case NOTIFY_DAILY:
		local = after + (int64_t)r->tz_min * MIN_US;
		day = local >= 0 ? local / DAY_US : (local - DAY_US + 1) /
		    DAY_US;
		at = day * DAY_US + (int64_t)r->daily_at * MIN_US;
		if (at <= local)
			at += DAY_US;
		return at - (int64_t)r->tz_min * MIN_US;
	default:
		return after;
	}
}

/* ---- words ---- */

static const struct {
	const char	*name, *zh, *en;
} labels[] = {
	{ "counterfeit", "假码扫描", "counterfeit scans" },
	{ "too_many_scanners", "多人扫码(疑似克隆)",
	    "too many scanners (possible clone)" },
	{ "impossible_travel", "异常移动(疑似克隆)",
	    "impossible travel (possible clone)" },
	{ "diversion", "窜货", "diversion" },
	{ "rating_drop", "评分下降", "rating drop" },
	{ "payout_mismatch", "转账对账不符", "payout mismatch" },
};

static void
type_label(int type, const char **zh, const char **en)
{
	const char *name = store_alert_type_name(type);

	*zh = *en = name != NULL ? name : "alert";
	for (size_t i = 0; name != NULL && i < sizeof labels /
	    sizeof labels[0]; i++)
		if (strcmp(labels[i].name, name) == 0) {
			*zh = labels[i].zh;
			*en = labels[i].en;
		}
}

static void
utc_text(int64_t us, char out[32])
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

/* One alert, a line of its facts (no personal data: a code's serial,
 * counts, a place to two decimals, a distributor id). */
static void
alert_facts(const struct alert *a, char *out, size_t size)
{
	char first[32], last[32];
	int n;

	utc_text(a->at, first);
	utc_text(a->last_at, last);
	n = snprintf(out, size, "#%llu", (unsigned long long)a->id);
	if (a->serial != 0)
		n += snprintf(out + n, size - (size_t)n, " serial %llu",
		    (unsigned long long)a->serial);
	n += snprintf(out + n, size - (size_t)n, ", 次数 count %u, 首次 first "
	    "%s, 最近 last %s", a->count, first, last);
	if (a->type == ALERT_DIVERSION && (size_t)n < size)
		n += snprintf(out + n, size - (size_t)n, ", 经销商 distributor "
		    "%u, 越界 outside by %.0f km", a->distributor,
		    (double)a->distance_km);
	if ((a->lat != 0 || a->lng != 0) && (size_t)n < size)
		snprintf(out + n, size - (size_t)n, ", 位置 place %.2f,%.2f",
		    (double)a->lat, (double)a->lng);
}

struct sbuf {
	char	*p;
	size_t	n, cap;
	int	oom;
};

static void
sb_add(struct sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
sb_add(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		if (b->oom)
			return;
		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? b->cap - b->n :
		    0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = 1;
			return;
		}
		if (b->p != NULL && b->n + (size_t)n < b->cap) {
			b->n += (size_t)n;
			return;
		}
		size_t cap = (b->cap + (size_t)n + 1) * 2;
		char *q = realloc(b->p, cap);

		if (q == NULL) {
			b->oom = 1;
			return;
		}
		b->p = q;
		b->cap = cap;
	}
}

void
notify_text_clear(struct notify_text *t)
{
	free(t->subject);
	free(t->text);
	free(t->markdown);
	memset(t, 0, sizeof *t);
}

int
notify_compose(const struct notify_rule *r, const struct alert *a, size_t n,
    size_t more, const char *brand_name, struct notify_text *out)
{
	struct sbuf subj = { 0 }, text = { 0 }, md = { 0 };
	const char *zh, *en;
	char facts[320];

	memset(out, 0, sizeof *out);
	if (n == 0)
		return SIGIL_EINVAL;
	if (n == 1 && more == 0) {
		type_label(a[0].type, &zh, &en);
		sb_add(&subj, "[sigil] %s 告警 / %s alert: %s", zh, en,
		    brand_name);
		sb_add(&text, "品牌 / Brand: %s\n规则 / Rule: %s\n类型 / Type: "
		    "%s / %s\n\n", brand_name, r->name, zh, en);
		alert_facts(&a[0], facts, sizeof facts);
		sb_add(&text, "%s\n", facts);
		sb_add(&md, "### %s 告警 / %s alert\n> 品牌 / Brand: %s\n> "
		    "规则 / Rule: %s\n\n%s\n", zh, en, brand_name, r->name,
		    facts);
	} else {
		sb_add(&subj, "[sigil] 告警摘要 / Alert digest: %zu 条 / "
		    "alerts: %s", n + more, brand_name);
		sb_add(&text, "品牌 / Brand: %s\n规则 / Rule: %s\n新告警 / New "
		    "alerts: %zu\n\n", brand_name, r->name, n + more);
		sb_add(&md, "### 告警摘要 / Alert digest (%zu)\n> 品牌 / Brand: "
		    "%s\n> 规则 / Rule: %s\n\n", n + more, brand_name, r->name);
		for (size_t i = 0; i < n; i++) {
			type_label(a[i].type, &zh, &en);
			alert_facts(&a[i], facts, sizeof facts);
			sb_add(&text, "- %s / %s: %s\n", zh, en, facts);
			sb_add(&md, "- **%s / %s**: %s\n", zh, en, facts);
		}
		if (more > 0) {
			sb_add(&text, "... 另有 %zu 条 / and %zu more\n", more,
			    more);
			sb_add(&md, "... 另有 %zu 条 / and %zu more\n", more,
			    more);
		}
	}
	sb_add(&text, "\n在控制台的告警页查看 / See the Alerts page of the "
	    "dashboard.\n");
	/* "sigil" in the text too: a DingTalk robot's keyword setting */
	sb_add(&md, "\n— sigil\n");
	if (subj.oom || text.oom || md.oom) {
		free(subj.p);
		free(text.p);
		free(md.p);
		return SIGIL_ENOMEM;
	}
	out->subject = subj.p;
	out->text = text.p;
	out->markdown = md.p;
	return 0;
}
