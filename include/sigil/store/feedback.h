/*
 * sigil/store/feedback.h - the feedback loop's rows (src/store/
 * store_feedback.c): what a consumer rated or reported after a scan, the
 * brand's status on it (open, replied, closed), its reply, and the photo
 * of a reported fake; the brand's rating-drop thresholds.
 *
 * Every feedback is an ACTIVITY_FEEDBACK entry of the activity log (its
 * id, time, customer, scan, rating and text: webhooks and the erasure
 * read it there) plus, since issue 21, a row of its own under the same
 * id holding what the activity log has no room for. Entries from before
 * issue 21 have no row: they read as open ratings (legacy).
 *
 * A part of sigil/store.h, which includes it after the limits and the
 * types it uses: include sigil/store.h, not this.
 */
#ifndef SIGIL_STORE_FEEDBACK_H
#define SIGIL_STORE_FEEDBACK_H

#ifndef SIGIL_STORE_H
#error "include sigil/store.h"
#endif

enum feedback_kind { FEEDBACK_RATING = 1, FEEDBACK_FAKE = 2 };
enum feedback_status { FEEDBACK_OPEN = 0, FEEDBACK_REPLIED = 1,
    FEEDBACK_CLOSED = 2 };
enum feedback_photo { FEEDBACK_PHOTO_NONE = 0, FEEDBACK_PHOTO_JPEG = 1,
    FEEDBACK_PHOTO_PNG = 2 };

#define FEEDBACK_WHERE_MAX	100	/* where bought, characters */
#define FEEDBACK_REPLY_MAX	500	/* the brand's reply, characters */
#define FEEDBACK_PHOTO_MAX	(2 * 1024 * 1024)	/* bytes */
/* POST /api/v1/feedback's body limit: the photo in base64 and the rest. */
#define FEEDBACK_BODY_MAX	(FEEDBACK_PHOTO_MAX / 3 * 4 + 64 * 1024)

struct feedback {
	uint64_t	id;		/* the activity entry's */
	uint32_t	brand_id;
	int		kind;		/* enum feedback_kind */
	int		status;		/* enum feedback_status */
	int		rating;		/* 1..5; 0 for a fake report */
	int		photo;		/* enum feedback_photo */
	uint32_t	photo_len;
	int64_t		at;
	uint64_t	customer_id;	/* 0: the device had not logged in */
	uint64_t	scan_id;	/* 0 once the customer was erased */
	uint64_t	batch_id;	/* 0: unknown (a forged code) */
	char		sku[STORE_NAME_BYTES + 1];	/* "" unknown */
	int64_t		replied_at, closed_at;	/* 0: not yet */
	uint32_t	replied_by;	/* token id, or session bit | user */
	int		legacy;		/* activity entry only, no row */
	char		text[STORE_FEEDBACK_MAX * 4 + 1];
	char		where[FEEDBACK_WHERE_MAX * 4 + 1];
	char		reply[FEEDBACK_REPLY_MAX * 4 + 1];
};

/*
 * A new feedback: f filled in (brand, kind, rating for a rating, text,
 * where, scan, customer, batch and sku as known, at), and for a fake
 * report optionally a photo (photo type, photo_len, bytes: the caller
 * checked the magic bytes; the store checks the length). One transaction
 * writes the activity entry, the row and the photo and, for a rating,
 * checks the product's rating drop (below): alert_id is then the
 * rating_drop alert it raised or updated (0: none). Sets f->id.
 * SIGIL_EINVAL (bad kind, rating, text), SIGIL_ENOTFOUND (brand).
 */
struct feedback_new {
	struct feedback	f;
	const uint8_t	*photo;
	uint64_t	alert_id;	/* out */
};
int store_feedback_add(struct store *st, struct feedback_new *n);

/* The brand's feedback id (row or legacy entry). SIGIL_ENOTFOUND. */
int store_feedback_get(struct store *st, uint32_t brand_id, uint64_t id,
    struct feedback *out);

/*
 * The brand's feedback with id < before (0: from the newest), newest
 * first, in one snapshot; fn returns nonzero to stop (returned).
 */
int store_feedback_back(struct store *st, uint32_t brand_id,
    uint64_t before, int (*fn)(void *arg, const struct feedback *f),
    void *arg);

/*
 * The brand's reply to feedback id, stored and handed to the customer's
 * message channel (message_service_enqueue) in one transaction. A legacy
 * entry gets its row here (sku, batch_id: what the caller knows of its
 * scan). Out: delivered 1 when queued for the customer (0: the device
 * never logged in, or the customer was erased), the row after.
 * SIGIL_ENOTFOUND, SIGIL_ESTATE (closed), SIGIL_EINVAL (text).
 */
struct feedback_reply {
	uint32_t	brand_id;
	uint64_t	id;
	uint32_t	actor;
	int64_t		at;
	uint64_t	batch_id;
	char		sku[STORE_NAME_BYTES + 1];
	char		text[FEEDBACK_REPLY_MAX * 4 + 1];
	int		close;		/* 1: close instead (text unused) */
	int		delivered;	/* out */
	struct feedback	row;		/* out */
};
int store_feedback_reply(struct store *st, struct feedback_reply *r);

/*
 * The photo of the brand's feedback id: *bytes malloc'd (the caller
 * frees), its type and length. SIGIL_ENOTFOUND when none.
 */
int store_feedback_photo(struct store *st, uint32_t brand_id, uint64_t id,
    int *type, uint8_t **bytes, size_t *len);

/*
 * The brand's rating-drop thresholds: a product whose average rating
 * over the last 7 days is drop_tenths / 10 or more below its average
 * over the 30 days before, each over at least min_ratings ratings,
 * raises a rating_drop alert. Defaults 5 and 10 (one point).
 */
struct feedback_settings {
	uint32_t	min_ratings;	/* 1..10000 */
	uint32_t	drop_tenths;	/* 1..40 */
};
int store_feedback_settings_get(struct store *st, uint32_t brand_id,
    struct feedback_settings *out);
int store_feedback_settings_put(struct store *st, uint32_t brand_id,
    const struct feedback_settings *s);

#endif
