/*
 * consent.h - the brand's privacy notice and the consent ledger (domain
 * layer): what the customer was told (a versioned notice per language),
 * what they agreed to and withdrew, per purpose, and when. The profile
 * the brand may keep with consent is profile.h's.
 *
 * Nothing is cached: consent_granted reads the ledger each time, so a
 * withdrawal holds from its commit on (the marketing flag is
 * consent_granted(..., CONSENT_MARKETING), never a stored copy).
 */
#ifndef SIGIL_CONSENT_H
#define SIGIL_CONSENT_H

#include <stddef.h>
#include <stdint.h>

#include "sigil/store.h"

struct app;
struct json_t;
struct writer_op;

enum consent_purpose { CONSENT_SERVICE = 1, CONSENT_MARKETING = 2,
    CONSENT_PROFILE = 4 };
#define CONSENT_ALL	7u

/* Where the consent was given (stored as a byte: never renumber). */
enum consent_channel { CONSENT_CH_PAGE = 1, CONSENT_CH_MEMBER = 2,
    CONSENT_CH_SMS_LOGIN = 3, CONSENT_CH_WECHAT = 4,
    CONSENT_CH_MINIPROGRAM = 5 };
/* The language of the notice shown (stored as a byte). */
enum consent_lang { CONSENT_LANG_ZH = 1, CONSENT_LANG_EN = 2 };

#define NOTICE_TEXT_MAX		10000	/* characters per language */

/* 1 when the customer's latest entry for purpose is a grant, 0 when
 * none or a withdrawal, <0 a store error. A read, any thread. */
int consent_granted(struct app *app, uint32_t brand_id,
    uint64_t customer_id, unsigned purpose);

/* Names: "service", "marketing", "profile"; "page", "member",
 * "sms_login", "wechat", "miniprogram"; "zh-CN", "en". NULL/0 unknown. */
const char *consent_purpose_name(unsigned purpose);
unsigned consent_purpose_parse(const char *name);
const char *consent_channel_name(int channel);
int consent_channel_parse(const char *name);
const char *consent_lang_name(int lang);
/* "zh", "zh-CN", "zh-*" -> ZH, "en", "en-*" -> EN, else 0. */
int consent_lang_parse(const char *name);

/*
 * A JSON array of purpose names (absent: 0) into a bit set: 0, or
 * SIGIL_EINVAL for anything else (a name twice, not a string, unknown).
 */
int consent_purposes_parse(const struct json_t *arr, unsigned *out);

/* The brand's current notice version, 0 when it has none, <0 an error. */
int64_t consent_notice_current(struct app *app, uint32_t brand_id);
/*
 * A notice body {"texts": {"zh-CN": text, "en": text}} checked (both
 * languages, 1..NOTICE_TEXT_MAX characters, no control or bidi
 * characters but newlines): the JSON text to store in *out (malloc'd),
 * or SIGIL_EINVAL with why in msg.
 */
int consent_notice_parse(const struct json_t *body, char **out, char *msg,
    size_t size);
/*
 * The notice as shown: {"version", "created", "texts"} (lang NULL) or
 * {"version", "created", "lang", "text"} in lang (enum consent_lang).
 */
struct json_t *consent_notice_json(uint32_t version, int64_t at,
    const char *json, int lang);
/* The current notice in lang (0: zh-CN) with the purposes; NULL when
 * the brand has no notice. */
struct json_t *consent_notice_for(struct app *app, uint32_t brand_id,
    int lang);

/* One entry as JSON: {seq, at, purpose, action, notice_version, channel,
 * lang}. */
struct json_t *consent_entry_json(const struct consent_entry *e);
/* The customer's entries, oldest first (a new array; NULL on error). */
struct json_t *consent_history(struct app *app, uint32_t brand_id,
    uint64_t customer_id);
/* {"service": bool, "marketing": bool, "profile": bool} now (NULL on a
 * store error). */
struct json_t *consent_current(struct app *app, uint32_t brand_id,
    uint64_t customer_id);

/*
 * Writer ops. consent_record_op (struct consent_record, store.h): the
 * customer must be live (SIGIL_ESTATE erased, SIGIL_ENOTFOUND none),
 * then store_consent_record. notice_add_op (struct notice_write): a new
 * version. privacy_settings_op (struct privacy_settings_write).
 */
struct notice_write {
	uint32_t	brand_id;
	int64_t		at;
	char		*json;		/* the submitter frees it after done */
	uint32_t	version;	/* out */
};
struct privacy_settings_write {
	uint32_t	brand_id;
	char		*json;		/* the submitter frees it after done */
};
extern const struct writer_op consent_record_op;
extern const struct writer_op notice_add_op;
extern const struct writer_op privacy_settings_op;

#endif
