/*
 * profile.h - what a customer tells the brand about themselves (domain
 * layer): the fields the brand enables in its privacy settings (name,
 * gender, birthday, city, store, tags), kept sealed per customer
 * (AES-256-GCM under the phone key, the brand id as associated data) and
 * stored only while the customer's latest profile consent is a grant
 * (checked again in the write's transaction: consent.h, store.h).
 */
#ifndef SIGIL_PROFILE_H
#define SIGIL_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#include "sigil/store.h"

struct app;
struct json_t;
struct writer_op;

enum profile_field { PF_NAME = 1, PF_GENDER = 2, PF_BIRTHDAY = 4,
    PF_CITY = 8, PF_STORE = 16, PF_TAGS = 32 };
#define PF_ALL		63u
#define PROFILE_TEXT_MAX	50	/* characters: name, city, store */
#define PROFILE_TAG_MAX		20	/* characters a tag */
#define PROFILE_TAGS_MAX	10

/* The fields the brand enabled (0: none, the default). */
unsigned profile_fields_enabled(struct app *app, uint32_t brand_id);
/* The brand's privacy settings as JSON: {"profile_fields": [...]} . */
struct json_t *privacy_settings_json(struct app *app, uint32_t brand_id);
/* A settings body checked: the JSON text to store (malloc'd) or
 * SIGIL_EINVAL with why in msg. */
int privacy_settings_parse(const struct json_t *body, char **out, char *msg,
    size_t size);

/*
 * A profile body checked against the enabled fields: each field a value
 * or null (dropped); a field not enabled is refused. *out the profile
 * object to keep (a new reference), or SIGIL_EINVAL with why in msg.
 */
int profile_parse(const struct json_t *body, unsigned enabled,
    struct json_t **out, char *msg, size_t size);
/* The customer's profile (a new object, {} when none), NULL when it
 * cannot be read (a store error or a seal that does not open). */
struct json_t *profile_load(struct app *app, uint32_t brand_id,
    uint64_t customer_id);

/*
 * A profile on its way to the store (profile_put_op): sealed by
 * profile_seal (an empty profile: len 0, which deletes it). run answers
 * SIGIL_EDENIED without a current profile consent, SIGIL_ESTATE erased.
 */
struct profile_write {
	uint32_t	brand_id;
	uint64_t	customer_id;
	uint8_t		sealed[PROFILE_SEALED_MAX];
	size_t		len;
};
int profile_seal(struct app *app, uint32_t brand_id, uint64_t customer_id,
    const struct json_t *profile, struct profile_write *w);
extern const struct writer_op profile_put_op;

/* Server-side filters of the customer list; NULL/0 means any. */
struct profile_filter {
	const char	*gender, *city, *tag;
	int		birth_month;	/* 1..12 */
	int		marketing;	/* 1 granted, -1 not granted, 0 any */
};
/* 1 when set (any filter given). */
int profile_filter_set(const struct profile_filter *f);
/* 1 when the customer matches f, 0 when not, <0 an error. */
int profile_match(struct app *app, uint32_t brand_id, uint64_t customer_id,
    const struct profile_filter *f);

#endif
