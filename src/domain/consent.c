/*
 * consent.c - the brand's privacy notice and the consent ledger.
 *
 * A notice is a version per brand (1, 2, ...), each with its text in
 * zh-CN and English; the current one is the latest, and a login must
 * acknowledge it (loyalty_login.c). The ledger records, per customer and
 * purpose (service, marketing, profile), each grant and withdrawal with
 * its time, notice version, channel and language; it is only ever added
 * to. Whether a purpose is granted is read from it each time
 * (consent_granted): nothing is cached, so a withdrawal holds at once.
 *
 * Owns the names of purposes, channels and languages, the notice's
 * checks and JSON, and the writer ops of notices, settings and records.
 * May call store (reads; writes only in its ops' run), log-free helpers
 * of util. Never knows HTTP, never logs a personal value.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "sigil/app.h"
#include "sigil/audit.h"
#include "sigil/consent.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "sigil/writer.h"

int
consent_granted(struct app *app, uint32_t brand_id, uint64_t customer_id,
    unsigned purpose)
{
	struct consent_entry e;
	int rc;

	if (customer_id == 0)
		return 0;
	rc = store_consent_latest(app->store, brand_id, customer_id, purpose,
	    &e);
	if (rc == SIGIL_ENOTFOUND)
		return 0;
	if (rc != 0)
		return rc < 0 ? rc : -1;
	return e.action == CONSENT_GRANT;
}

/* ---- names ---- */

static const char *const purposes[] = { "service", "marketing", "profile" };
static const char *const channels[] = { NULL, "page", "member",
	"sms_login", "wechat", "miniprogram" };

const char *
consent_purpose_name(unsigned purpose)
{
	switch (purpose) {
	case CONSENT_SERVICE:	return purposes[0];
	case CONSENT_MARKETING:	return purposes[1];
	case CONSENT_PROFILE:	return purposes[2];
	}
	return NULL;
}

unsigned
consent_purpose_parse(const char *name)
{
	for (unsigned i = 0; name != NULL && i < 3; i++)
		if (strcmp(name, purposes[i]) == 0)
			return 1u << i;
	return 0;
}

const char *
consent_channel_name(int channel)
{
	if (channel < 1 || channel > CONSENT_CH_MINIPROGRAM)
		return NULL;
	return channels[channel];
}

int
consent_channel_parse(const char *name)
{
	for (int i = 1; name != NULL && i <= CONSENT_CH_MINIPROGRAM; i++)
		if (strcmp(name, channels[i]) == 0)
			return i;
	return 0;
}

const char *
consent_lang_name(int lang)
{
	return lang == CONSENT_LANG_ZH ? "zh-CN" : lang == CONSENT_LANG_EN ?
	    "en" : NULL;
}

int
consent_lang_parse(const char *name)
{
	if (name == NULL)
		return 0;
	if (strncasecmp(name, "zh", 2) == 0 && (name[2] == '\0' ||
	    name[2] == '-'))
		return CONSENT_LANG_ZH;
	if (strncasecmp(name, "en", 2) == 0 && (name[2] == '\0' ||
	    name[2] == '-'))
		return CONSENT_LANG_EN;
	return 0;
}

int
consent_purposes_parse(const json_t *arr, unsigned *out)
{
	const json_t *v;
	unsigned bit;
	size_t i;

	*out = 0;
	if (arr == NULL)
		return 0;
	if (!json_is_array(arr))
		return SIGIL_EINVAL;
	json_array_foreach(arr, i, v) {
		if ((bit = consent_purpose_parse(json_string_value(v))) == 0 ||
		    (*out & bit) != 0)
			return SIGIL_EINVAL;
		*out |= bit;
	}
	return 0;
}

/* ---- the notice ---- */

int64_t
consent_notice_current(struct app *app, uint32_t brand_id)
{
	uint32_t version;
	int64_t at;
	char *json;
	int rc = store_notice_get(app->store, brand_id, 0, &version, &at,
	    &json);

	if (rc == SIGIL_ENOTFOUND)
		return 0;
	if (rc != 0)
		return rc < 0 ? rc : -1;
	free(json);
	return version;
}

static const char *const notice_langs[] = { "zh-CN", "en" };

int
consent_notice_parse(const json_t *body, char **out, char *msg, size_t size)
{
	const json_t *texts = json_object_get(body, "texts"), *t;
	struct sigil_text_err e;
	const char *k;
	char field[32];
	json_t *keep;

	*out = NULL;
	if (!json_is_object(texts)) {
		snprintf(msg, size, "'texts' must be an object with the "
		    "notice in \"zh-CN\" and \"en\"");
		return SIGIL_EINVAL;
	}
	json_object_foreach((json_t *)texts, k, t) {
		if (strcmp(k, "zh-CN") != 0 && strcmp(k, "en") != 0) {
			snprintf(msg, size, "'texts' holds \"zh-CN\" and \"en\" "
			    "only");
			return SIGIL_EINVAL;
		}
	}
	for (size_t i = 0; i < 2; i++) {
		t = json_object_get(texts, notice_langs[i]);
		snprintf(field, sizeof field, "texts.%s", notice_langs[i]);
		if (!json_is_string(t)) {
			snprintf(msg, size, "'%s' is required (a string)",
			    field);
			return SIGIL_EINVAL;
		}
		if (sigil_text_ok(json_string_value(t), NOTICE_TEXT_MAX,
		    SIGIL_TEXT_MULTILINE, &e) != 0) {
			sigil_text_explain(field, NOTICE_TEXT_MAX,
			    SIGIL_TEXT_MULTILINE, &e, msg, size);
			return SIGIL_EINVAL;
		}
	}
	keep = json_pack("{s:O,s:O}", "zh-CN", json_object_get(texts,
	    "zh-CN"), "en", json_object_get(texts, "en"));
	if (keep == NULL || (*out = json_dumps(keep, JSON_COMPACT)) == NULL) {
		json_decref(keep);
		snprintf(msg, size, "out of memory");
		return SIGIL_ENOMEM;
	}
	json_decref(keep);
	if (strlen(*out) > NOTICE_JSON_MAX) {
		free(*out);
		*out = NULL;
		snprintf(msg, size, "the notice is too long");
		return SIGIL_EINVAL;
	}
	return 0;
}

json_t *
consent_notice_json(uint32_t version, int64_t at, const char *json, int lang)
{
	char ts[SIGIL_TIME_LEN + 1];
	json_t *texts = json_loads(json, 0, NULL), *o;

	if (texts == NULL)
		return NULL;
	o = json_pack("{s:I,s:s}", "version", (json_int_t)version, "created",
	    sigil_time_format(at, ts));
	if (lang == 0)
		json_object_set_new(o, "texts", texts);
	else {
		json_object_set_new(o, "lang", json_string(consent_lang_name(
		    lang)));
		json_object_set(o, "text", json_object_get(texts,
		    consent_lang_name(lang)));
		json_decref(texts);
	}
	return o;
}

json_t *
consent_notice_for(struct app *app, uint32_t brand_id, int lang)
{
	uint32_t version;
	int64_t at;
	char *json;
	json_t *o;

	if (store_notice_get(app->store, brand_id, 0, &version, &at, &json) !=
	    0)
		return NULL;
	o = consent_notice_json(version, at, json, lang ? lang :
	    CONSENT_LANG_ZH);
	free(json);
	if (o == NULL)
		return NULL;
	json_object_set_new(o, "purposes", json_pack("[sss]", "service",
	    "marketing", "profile"));
	return o;
}

/* ---- the ledger ---- */

json_t *
consent_entry_json(const struct consent_entry *e)
{
	char ts[SIGIL_TIME_LEN + 1];

	return json_pack("{s:I,s:s,s:s?,s:s,s:I,s:s?,s:s?}", "seq",
	    (json_int_t)e->seq, "at", sigil_time_format(e->at, ts), "purpose",
	    consent_purpose_name(e->purpose), "action", e->action ==
	    CONSENT_GRANT ? "grant" : "withdraw", "notice_version",
	    (json_int_t)e->notice_version, "channel",
	    consent_channel_name(e->channel), "lang",
	    consent_lang_name(e->lang));
}

static int
history_one(void *arg, const struct consent_entry *e)
{
	return json_array_append_new(arg, consent_entry_json(e)) != 0 ?
	    SIGIL_ENOMEM : 0;
}

json_t *
consent_history(struct app *app, uint32_t brand_id, uint64_t customer_id)
{
	json_t *arr = json_array();

	if (customer_id == 0 || store_consent_each(app->store, brand_id,
	    customer_id, history_one, arr) != 0) {
		json_decref(arr);
		return NULL;
	}
	return arr;
}

json_t *
consent_current(struct app *app, uint32_t brand_id, uint64_t customer_id)
{
	json_t *o = json_object();

	for (unsigned b = 1; b <= CONSENT_PROFILE; b <<= 1) {
		int g = consent_granted(app, brand_id, customer_id, b);

		if (g < 0) {
			json_decref(o);
			return NULL;
		}
		json_object_set_new(o, consent_purpose_name(b),
		    json_boolean(g));
	}
	return o;
}

/* ---- writer ops ---- */

static int
record_run(struct store *st, void *arg)
{
	struct consent_record *r = arg;
	struct customer cu;
	int rc;

	if ((rc = store_customer_get(st, r->brand_id, r->customer_id, &cu)) !=
	    0)
		return rc;
	/* erased, or merged into another since the call was made */
	if (cu.erased || cu.merged_into)
		return SIGIL_ESTATE;
	return store_consent_record(st, r);
}

const struct writer_op consent_record_op = { "consent_record", record_run };

static int
notice_run(struct store *st, void *arg)
{
	struct notice_write *w = arg;

	return store_notice_add(st, w->brand_id, w->at, w->json, &w->version);
}

static int
notice_audit(struct store *st, const void *arg, struct audit_entry *e,
    int after)
{
	const struct notice_write *w = arg;

	(void)st;
	if (!after)
		return 0;
	audit_target(e, "privacy_notice", "%u", w->version);
	return 1;
}

const struct writer_op notice_add_op = { "privacy_notice_add", notice_run,
    notice_audit };

static int
settings_run(struct store *st, void *arg)
{
	struct privacy_settings_write *w = arg;

	return store_privacy_settings_put(st, w->brand_id, w->json);
}

const struct writer_op privacy_settings_op = { "privacy_settings",
    settings_run };
