/*
 * segment.h - customer segments (domain layer): criteria over what the
 * brand knows of a customer, parsed once and judged per customer, and
 * the brand's saved segments (store/segments.h). See src/domain/
 * segment.c for the criteria and what each one reads.
 *
 * Criteria are a JSON object, every key optional, keys AND together,
 * the values of a list OR inside it; {} is every customer (not erased,
 * not merged away):
 *   tier: [tier name..]        segment: [RFM name..] (member.h)
 *   province, city, country: [name..] (the region of the customer's
 *     latest scan with a region; city also the profile's city)
 *   gender: [female|male|other]  birth_month: [1..12]  tags_any: [tag..]
 *   products_scanned, products_claimed: [sku..]  campaigns_claimed: [id..]
 *   last_scan_after, last_scan_before: "YYYY-MM-DD" (UTC) or RFC 3339
 *   points_min, points_max: the balance now, inclusive
 *   consent: ["service"|"marketing"|"profile"..] (granted now)
 *   role: [consumer|retailer|sales]
 */
#ifndef SIGIL_SEGMENT_H
#define SIGIL_SEGMENT_H

#include <stddef.h>
#include <stdint.h>

#include "sigil/store.h"

struct json_t;

#define SEGMENT_LIST_MAX	100	/* values in one list */
#define SEGMENT_TEXT_MAX	200	/* characters of one value */
#define SEGMENT_NAME_MAX	100	/* characters of a saved name */

struct segment_def;			/* parsed criteria */

/*
 * Checks criteria strictly (unknown keys, wrong types, empty or too long
 * lists, bad values are refused) into *out: 0, SIGIL_EINVAL with why in
 * err, SIGIL_ENOMEM.
 */
int segment_parse(const struct json_t *criteria, struct segment_def **out,
    char *err, size_t errsize);
void segment_def_free(struct segment_def *d);
/* The criteria as given (a borrowed reference, valid while d lives). */
const struct json_t *segment_criteria(const struct segment_def *d);
/*
 * The criteria keys d uses, as a bit set of enum segment_uses: what a
 * CSV export adds as columns.
 */
enum segment_uses { SEG_USES_CLASS = 1, SEG_USES_POINTS = 2,
    SEG_USES_CONSENT = 4, SEG_USES_PROFILE = 8, SEG_USES_CLAIMS = 16,
    SEG_USES_SCANS = 32 };
unsigned segment_uses(const struct segment_def *d);

/* A saved segment's criteria, parsed (SIGIL_ENOTFOUND). Reads st. */
int segment_load(struct store *st, uint32_t brand_id, uint32_t id,
    struct segment_def **out);

/*
 * Every member (not erased, not merged) in customer id order; fn
 * returns non-zero to stop. Reads only the store (the calling thread's
 * read transaction) and what it loads itself: safe on a worker thread
 * and on the writer thread. 0 or a store error / SIGIL_ENOMEM.
 */
int segment_each(struct store *st, uint32_t brand_id,
    const struct segment_def *d, int64_t now,
    int (*fn)(void *arg, const struct customer *cu), void *arg);
/*
 * One customer: 1 member, 0 not, < 0 error. Reads the customer's own
 * rows only (ledger, consents, profile, segment facts of it and its
 * devices): no walk over the brand (see segment.c).
 */
int segment_match(struct store *st, uint32_t brand_id,
    const struct segment_def *d, const struct customer *cu, int64_t now);

/*
 * The members with what the scan criteria found of them (last_scan,
 * region: 0 when the criteria use no scans or there was none), in id
 * order, into *out (malloc'd, *n of them; NULL and 0 when none). Reads
 * as segment_each does. 0, a store error, SIGIL_ENOMEM.
 */
struct segment_member {
	uint64_t	id;
	int64_t		last_scan;
	uint32_t	region;
};
int segment_members(struct store *st, uint32_t brand_id,
    const struct segment_def *d, int64_t now, struct segment_member **out,
    size_t *n);

/*
 * Who uses a saved segment (a campaign's or a message's audience):
 * segment deletion (on the writer thread) asks and refuses with
 * SIGIL_ECONFLICT (409 segment_in_use) when one says 1, naming it in
 * what ("campaign 3"). The owners register a check at start (campaign.c:
 * campaign_uses_segment; messages to come). A check reads st only. At most SEGMENT_USERS_MAX checks; registering one twice adds it
 * once. 0, or SIGIL_EFULL.
 */
#define SEGMENT_USERS_MAX	8
typedef int (*segment_in_use_fn)(struct store *st, uint32_t brand_id,
    uint32_t segment_id, char *what, size_t size);
int segment_users_register(segment_in_use_fn fn);
/* 1 (what set), 0, or <0 a store error. */
int segment_in_use(struct store *st, uint32_t brand_id, uint32_t id,
    char *what, size_t size);

/*
 * The profile key (keyring "phone-enc", loyalty_core.c's) the profile
 * criteria open profiles with, copied once at start (loyalty_init);
 * without it profile criteria match nobody.
 */
void segment_init(const uint8_t enc_key[32]);

/*
 * A saved segment's JSON as the store keeps it, {"name", "criteria"},
 * from a request body {name, criteria}: checked (name 1..100
 * characters, criteria as segment_parse), *json malloc'd. 0,
 * SIGIL_EINVAL with why in err, SIGIL_ENOMEM.
 */
int segment_body_parse(const struct json_t *body, char **json, char *err,
    size_t errsize);
/* {id, name, criteria, created, updated} of a stored segment (new). */
struct json_t *segment_json(const struct saved_segment *s);

#endif
