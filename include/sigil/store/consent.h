/*
 * sigil/store/consent.h - the brand's privacy notices and settings, the
 * consent ledger and the customers' profiles (src/store/store_consent.c).
 *
 * notices: brand BE32 || version BE32 -> at i64 LE || JSON text (the
 * notice's texts per language). Version 0 is not a notice but the
 * brand's privacy settings (JSON: the profile fields enabled).
 * consents: brand BE32 || customer BE64 || seq BE64 -> at i64 LE,
 * notice version u32 LE, purpose u8, action u8, channel u8, language u8
 * (22 bytes). Append-only: an entry is never changed; a merge moves a
 * customer's entries to the kept customer (same seq), an erasure keeps
 * them (they name no person but by the customer id).
 * profiles: brand BE32 || customer BE64 -> the profile, sealed by the
 * domain (AES-256-GCM, the brand id as associated data).
 *
 * A part of sigil/store.h, which includes it after the limits and the
 * types it uses: include sigil/store.h, not this.
 */
#ifndef SIGIL_STORE_CONSENT_H
#define SIGIL_STORE_CONSENT_H

#ifndef SIGIL_STORE_H
#error "include sigil/store.h"
#endif

#define NOTICE_JSON_MAX		65536	/* a notice's stored JSON */
#define PRIVACY_SETTINGS_MAX	4096
#define PROFILE_SEALED_MAX	4096

enum consent_action { CONSENT_GRANT = 1, CONSENT_WITHDRAW = 2 };

/* One entry of the consent ledger. */
struct consent_entry {
	uint32_t	brand_id;
	uint64_t	customer_id;
	uint64_t	seq;		/* global, increasing */
	int64_t		at;
	uint32_t	notice_version;	/* 0: the brand had no notice */
	uint8_t		purpose;	/* one bit of enum consent_purpose */
	uint8_t		action;		/* enum consent_action */
	uint8_t		channel;	/* enum consent_channel (consent.h) */
	uint8_t		lang;		/* enum consent_lang (consent.h) */
};

/*
 * A new notice version (the brand's next, from 1) of json (at most
 * NOTICE_JSON_MAX bytes, well-formed), made at at: 0, SIGIL_EINVAL,
 * SIGIL_ENOTFOUND (no such brand). *version gets the number.
 */
int store_notice_add(struct store *st, uint32_t brand_id, int64_t at,
    const char *json, uint32_t *version);
/*
 * Notice version (0: the latest) of brand_id: *json malloc'd (caller
 * frees), *at, *version. SIGIL_ENOTFOUND when there is none.
 */
int store_notice_get(struct store *st, uint32_t brand_id, uint32_t version,
    uint32_t *version_out, int64_t *at, char **json);
/* Every version, oldest first; fn returns nonzero to stop. */
int store_notice_each(struct store *st, uint32_t brand_id,
    int (*fn)(void *arg, uint32_t version, int64_t at, const char *json),
    void *arg);
/* The brand's privacy settings (JSON text; NULL deletes them). */
int store_privacy_settings_put(struct store *st, uint32_t brand_id,
    const char *json);
/* *json malloc'd, or NULL when none were set (0 either way). */
int store_privacy_settings_get(struct store *st, uint32_t brand_id,
    char **json);

/*
 * A consent record: for each bit of grant an entry CONSENT_GRANT, then
 * for each of withdraw an entry CONSENT_WITHDRAW (a bit in both:
 * SIGIL_EINVAL), at at, in one transaction. A profile withdrawal deletes
 * the customer's profile in it. That the customer is live is the
 * caller's check (consent.c's writer ops). *n gets the entries written.
 */
struct consent_record {
	uint32_t	brand_id;
	uint64_t	customer_id;
	int64_t		at;
	uint32_t	notice_version;
	unsigned	grant, withdraw;
	uint8_t		channel, lang;
	int		n;		/* out */
};
int store_consent_record(struct store *st, struct consent_record *r);
/*
 * The customer's latest entry for purpose (one bit): 0 and *out,
 * SIGIL_ENOTFOUND when there is none.
 */
int store_consent_latest(struct store *st, uint32_t brand_id,
    uint64_t customer_id, unsigned purpose, struct consent_entry *out);
/* The customer's entries (customer_id 0: the brand's), oldest first per
 * customer, customers in id order; fn returns nonzero to stop. */
int store_consent_each(struct store *st, uint32_t brand_id,
    uint64_t customer_id,
    int (*fn)(void *arg, const struct consent_entry *e), void *arg);
/* The brand's entries from (customer_id, seq) on, in key order (an
 * export's next piece); fn returns nonzero to stop. */
int store_consent_from(struct store *st, uint32_t brand_id,
    uint64_t customer_id, uint64_t seq,
    int (*fn)(void *arg, const struct consent_entry *e), void *arg);

/*
 * The customer's sealed profile stored (len bytes, at most
 * PROFILE_SEALED_MAX) when its latest profile entry is a grant, checked
 * in the same transaction: else SIGIL_EDENIED and nothing stored.
 * len 0 deletes the profile (no consent needed).
 */
int store_profile_put(struct store *st, uint32_t brand_id,
    uint64_t customer_id, const uint8_t *sealed, size_t len);
/* The sealed profile into buf: 0 and *len, SIGIL_ENOTFOUND. */
int store_profile_get(struct store *st, uint32_t brand_id,
    uint64_t customer_id, uint8_t *buf, size_t size, size_t *len);

#endif
