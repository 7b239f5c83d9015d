/*
 * sigil/store/customers.h - the storage of customers, the devices they
 * logged in on, their one-time login codes and the activity log
 * (src/store/store_customers.c); erasure of a customer's personal data.
 *
 * A part of sigil/store.h, which includes it after the limits and the
 * types it uses: include sigil/store.h, not this.
 */
#ifndef SIGIL_STORE_CUSTOMERS_H
#define SIGIL_STORE_CUSTOMERS_H

#ifndef SIGIL_STORE_H
#error "include sigil/store.h"
#endif

/* ---- customers: personal data is a keyed hash plus a ciphertext ---- */
#define STORE_PHONE_CT_MAX	96	/* nonce 12 + ciphertext + tag 16 */

struct customer {
	uint64_t	id;		/* global, 1, 2, ... */
	uint32_t	brand_id;
	uint8_t		phone_hash[32];	/* HMAC-SHA256 under "phone-hash" */
	uint8_t		phone_ct[STORE_PHONE_CT_MAX];	/* AES-256-GCM */
	size_t		phone_ct_len;	/* 0 once erased */
	int64_t		created, last_login;
	int64_t		erased;		/* 0 unless erased */
	uint64_t	merged_into;	/* 0, or the customer it merged into */
	int64_t		merged_at;	/* when (0 unless merged_into) */
};

/*
 * The customer of brand_id with this phone hash, created (with the
 * ciphertext) when there is none; *created says which. One transaction.
 */
int store_customer_by_phone(struct store *st, uint32_t brand_id,
    const uint8_t hash[32], const uint8_t *ct, size_t ct_len,
    struct customer *out, int *created);
int store_customer_get(struct store *st, uint32_t brand_id, uint64_t id,
    struct customer *out);
/*
 * store_customer_get, then the customer it was merged into, and so on
 * (at most STORE_MERGE_DEPTH steps): the customer an id names now. A
 * merged customer is refused wherever it would earn or log in, like an
 * erased one; its id keeps naming the survivor in the brand API.
 */
#define STORE_MERGE_DEPTH	32
int store_customer_resolve(struct store *st, uint32_t brand_id,
    uint64_t id, struct customer *out);
/* SIGIL_ENOTFOUND when no customer has this phone hash (erased: none). */
int store_customer_find_phone(struct store *st, uint32_t brand_id,
    const uint8_t hash[32], struct customer *out);
/* In id order; stops when fn returns nonzero. */
int store_customer_each(struct store *st, uint32_t brand_id, uint64_t after,
    int (*fn)(void *arg, const struct customer *c), void *arg);
/*
 * Links an anonymous device to a customer (login), sets last_login. The
 * device's earlier scans become the customer's: they are found through
 * this link (store_customer_devices), nothing in the log is rewritten.
 */
int store_device_link(struct store *st, uint32_t brand_id, uint64_t device,
    uint64_t customer_id, int64_t now);
int store_device_customer(struct store *st, uint32_t brand_id,
    uint64_t device, uint64_t *customer_id);
int store_customer_devices(struct store *st, uint32_t brand_id,
    uint64_t customer_id, int (*fn)(void *arg, uint64_t device), void *arg);
/*
 * PIPL erasure: drops the phone hash index, the ciphertext, the device
 * links and the pending one-time code; cuts the text and ref of the
 * customer's activity (feedback), the customer id of the customer's
 * claims, and the precision of the locations of the customer's scans of
 * the codes claimed or reviewed (0.1 degree); keeps the customer id with
 * erased set, and claims and ledger amounts (anonymous counts stay
 * right). SIGIL_ESTATE if erased. The old bytes stay in free pages and
 * in the log until store_scrub.
 */
int store_customer_erase(struct store *st, uint32_t brand_id, uint64_t id,
    int64_t now);

/* ---- merging two customers of a brand (src/store/store_merge.c) ---- */

/*
 * The rule: of a and b, the survivor is the one with a phone; of two
 * without, the older (lower id); two with a phone: SIGIL_ECONFLICT.
 */
int store_merge_survivor(const struct customer *a, const struct customer *b,
    uint64_t *keep, uint64_t *gone);
/*
 * Customers a and b made one by the rule, in one transaction: everything
 * the one that goes had (ledger, claims, counts, orders, activity,
 * devices, phone, identities, consents) becomes the survivor's (*kept);
 * the other is marked merged_into. An ACTIVITY_MERGE entry and an audit
 * entry (actor customer:<kept>) are written with it. SIGIL_EINVAL (the
 * same), SIGIL_ENOTFOUND, SIGIL_ESTATE (erased or merged already),
 * SIGIL_ECONFLICT (both with a phone, two openids of one app).
 */
int store_customers_merge(struct store *st, uint32_t brand_id, uint64_t a,
    uint64_t b, int64_t at, uint64_t *kept);

/*
 * A phone login (the code already checked), in one transaction. When
 * device belongs to a customer without a phone (a WeChat customer): a
 * phone nobody has is bound to that customer (bound); a phone another
 * customer has makes the two one by the merge rule (merged: the one
 * that went). Otherwise the phone's customer, made if new (created).
 * device (unless 0) is then linked to the customer, cu as it now reads.
 */
struct phone_login {
	struct customer	cu;
	int		created, bound;
	uint64_t	merged;
};
int store_phone_login(struct store *st, uint32_t brand_id, uint64_t device,
    const uint8_t hash[32], const uint8_t *ct, size_t ct_len, int64_t now,
    struct phone_login *out);
struct claim_credit;
/* The same, paying bonus[0..nbonus) (BONUS_REGISTRATION credits, each
 * dropped or not as store_bonus_pay) in its transaction when it makes the
 * customer. */
int store_phone_login_bonus(struct store *st, uint32_t brand_id,
    uint64_t device, const uint8_t hash[32], const uint8_t *ct,
    size_t ct_len, int64_t now, struct claim_credit *bonus, size_t nbonus,
    int64_t bonus_expires, struct phone_login *out);

/* ---- one-time codes for phone login ---- */
struct otp_state {
	uint8_t		code_hash[32];	/* SHA-256(code || phone hash) */
	int64_t		expires;	/* 5 minutes after sending */
	int64_t		sent_at;
	uint32_t	tries;		/* wrong guesses; 5 locks it */
	uint32_t	sent_today;
	int64_t		day;		/* day index of sent_today */
};
int store_otp_get(struct store *st, uint32_t brand_id, const uint8_t hash[32],
    struct otp_state *out);
int store_otp_put(struct store *st, uint32_t brand_id, const uint8_t hash[32],
    const struct otp_state *o);
int store_otp_del(struct store *st, uint32_t brand_id, const uint8_t hash[32]);
/* (store_otp_del and store_session_del: ENOTFOUND when there was none.) */

/* ---- activity log: what webhooks deliver besides scans ---- */
enum activity_type {
	ACTIVITY_CLAIM = 1, ACTIVITY_CUSTOMER_NEW = 2, ACTIVITY_LOGIN = 3,
	ACTIVITY_ERASE = 4, ACTIVITY_REDEEM = 5, ACTIVITY_FEEDBACK = 6,
	/* customer_id the survivor, ref the customer merged into it,
	 * points the balance that came with it (store_merge.c) */
	ACTIVITY_MERGE = 7,
};

struct activity {
	uint64_t	id;		/* global, monotonic */
	uint32_t	brand_id;
	int		type;
	int64_t		at;
	uint64_t	customer_id, ref;	/* claim/redemption/scan id */
	int64_t		points;
	char		text[STORE_FEEDBACK_MAX * 4 + 1];	/* feedback, UTF-8 */
	int		rating;		/* feedback 1..5 */
};
int store_activity_add(struct store *st, struct activity *a);
int store_activity_each(struct store *st, uint32_t brand_id, uint64_t after,
    size_t limit, int (*fn)(void *arg, const struct activity *a), void *arg);
/*
 * The brand's entries with id < before (0: from the newest), newest
 * first, of one type (0: all), in one snapshot; fn stops the walk by
 * returning nonzero (returned).
 */
int store_activity_back(struct store *st, uint32_t brand_id, uint64_t before,
    int type, int (*fn)(void *arg, const struct activity *a), void *arg);

#endif
