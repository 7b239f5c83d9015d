/*
 * store.h - all persistent state, in one LMDB environment. The storage
 * module (src/store/, its files sharing src/store/store_impl.h) is the
 * only code that includes lmdb.h. The schema (every sub-database, its key
 * and value encoding) is in docs/storage.md; STORE_SCHEMA_VERSION is
 * written in the meta database and checked at open. This header holds
 * what every table family shares (open, close, sync, backup, the limits
 * and the conventions below) and includes one slice per family from
 * include/sigil/store/.
 *
 * Threading: one struct store per process, shared by all threads. Write
 * functions open and commit their own write transaction (LMDB serialises
 * writers). Read functions use a read-only transaction cached per thread
 * and reset after each call, so readers never wait for the writer. Every
 * value handed out is a copy owned by the caller; nothing points into the
 * map after a call returns.
 *
 * The map grows (doubles, up to STORE_MAP_MAX) when a write fails with
 * MDB_MAP_FULL, and the write is retried.
 */
#ifndef SIGIL_STORE_H
#define SIGIL_STORE_H

#include <stddef.h>
#include <stdint.h>

#define STORE_SCHEMA_VERSION	1
/*
 * Text limits count Unicode characters (sigil_text_check); the buffers
 * and stored lengths hold up to 4 bytes a character (the _BYTES bounds).
 */
#define STORE_NAME_MAX		64	/* brand names, SKUs */
#define STORE_TEXT_MAX		200	/* product, distributor, item names */
#define STORE_NAME_BYTES	(STORE_NAME_MAX * 4)
#define STORE_TEXT_BYTES	(STORE_TEXT_MAX * 4)
#define STORE_FEEDBACK_MAX	500	/* feedback text, characters */
#define STORE_URL_MAX		256
#define STORE_LOT_MAX		20	/* GS1 AI 10 */
#define STORE_SCANNERS_MAX	16	/* distinct device hashes kept per code */
#define STORE_MAP_MAX		((uint64_t)1 << 40)	/* map growth stops at 1 TiB */

/*
 * The map of a new environment starts at 64 MiB. The environment variable
 * SIGIL_STORE_INITIAL_MAP (bytes, at least 32768) overrides that at
 * STORE_CREATE; tests use it to exercise growth.
 *
 * Every write function returns SIGIL_EDENIED on a store opened
 * STORE_RDONLY, and SIGIL_EFULL if the map would pass STORE_MAP_MAX (or
 * must grow while the calling thread is inside a *_each callback).
 * The *_each functions return 0 after the last item, or the nonzero value
 * fn returned to stop the walk; fn may call store read functions (they
 * see the same snapshot).
 */

struct store;

enum store_flags {
	STORE_CREATE = 1 << 0,	/* create a new environment; EEXIST if one is there */
	STORE_RDONLY = 1 << 1,	/* read-only (export, stats while sigild runs) */
	STORE_NOSYNC = 1 << 2,	/* no fsync on commit: benchmarks only */
	/*
	 * Commits sync the data but not the meta page: a commit is durable
	 * only once the next commit (whose data sync flushes it) or
	 * store_sync() has returned. The writer acknowledges accordingly,
	 * for one sync per group commit instead of two.
	 */
	STORE_NOMETASYNC = 1 << 3,
	/*
	 * Own the write-ahead log (src/store/wal.c): LMDB runs without syncs and a
	 * commit is durable when it returns, after one write and one flush
	 * of the log. One process at a time (SIGIL_EBUSY).
	 */
	STORE_WAL = 1 << 4,
};

/* What the write-ahead log has done in this process (zeros without it). */
struct store_wal_stats {
	int		 on;
	uint64_t	 checkpoints;
	uint64_t	 checkpoint_failures;	/* each retried after 100 ms */
	uint64_t	 records;	/* transactions logged */
	uint64_t	 bytes;
};
void store_wal_stats(struct store *st, struct store_wal_stats *out);

/* Transactions the last open replayed from the log (0: clean stop). */
uint64_t store_replayed(struct store *st);

/* The write-ahead log as this open found it, for operators. */
struct store_wal_info {
	int		 present;	/* 0: this store never ran with a log */
	int		 owned;		/* a running process (sigild) owns it */
	int		 clean;		/* its last header says clean */
	uint64_t	 checkpoint_txnid;	/* of that header */
};
void store_wal_info(struct store *st, struct store_wal_info *out);

/*
 * Opens the environment in directory dir (which must exist). With
 * STORE_CREATE it must hold no environment yet. Checks the schema version
 * (SIGIL_ESTATE on mismatch). 0, SIGIL_EEXIST, SIGIL_ENOTFOUND (no
 * directory, or no environment without STORE_CREATE), SIGIL_EINVAL
 * (unknown flags, CREATE with RDONLY, a bad SIGIL_STORE_INITIAL_MAP),
 * SIGIL_ENOMEM, SIGIL_EIO. A failed create leaves no files behind. After
 * an unclean stop with the write-ahead log, the open recovers from it:
 * SIGIL_EBUSY while another process has the store open, SIGIL_ESTATE if
 * data.mdb is not the file the log was written for (nothing is written
 * then) or the log has a gap.
 */
int store_open(const char *dir, int flags, struct store **out);

/*
 * For a message about store_open's error err: what to do about it, as
 * " (...)", or "".
 */
const char *store_open_hint(int err);
void store_close(struct store *st);

/* Flushes to disk (used after NOSYNC bulk work). 0 or SIGIL_EIO. */
int store_sync(struct store *st);

/*
 * Hot, consistent, compacted copy into directory dir, which must exist
 * (SIGIL_ENOTFOUND) and be empty (SIGIL_EEXIST). Map growth waits for it.
 */
int store_backup(struct store *st, const char *dir);

/* Map size in bytes and bytes in use (for /metrics). */
int store_usage(struct store *st, uint64_t *map_bytes, uint64_t *used_bytes);

/*
 * The table families, one slice each (include/sigil/store/); the
 * loyalty families follow below.
 */
#include "sigil/store/catalog.h"
#include "sigil/store/scans.h"
#include "sigil/store/tokens.h"
#include "sigil/store/trace.h"

/*
 * ==== customers, loyalty, webhooks, users, stats (store_loyalty.c) ====
 * These live in src/store/store_loyalty.c, which shares store.c's internals
 * through the private src/store/store_impl.h: the storage module is one
 * subsystem in several files, and still the only code that sees LMDB.
 */

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

struct store_scrub_stats {
	uint64_t	pages;		/* pages in data.mdb */
	uint64_t	free_pages;	/* free or past the end, zeroed */
	uint64_t	gap_pages;	/* pages in use whose free gap was zeroed */
	uint64_t	chunks;		/* write transactions taken */
	int64_t		ms;
};
/*
 * Makes what was deleted or overwritten up to now physically unreadable
 * in the data directory: the log's segments (after a checkpoint) and
 * LMDB's reusable free pages, the pages past the last one in use and the
 * free gap of every page in use are zeroed and synced. Reads all of
 * data.mdb, a chunk of pages per write transaction. SIGIL_EBUSY if a
 * reader older than the call stayed for 5 s (nothing is lost: run it
 * again).
 */
int store_scrub(struct store *st, struct store_scrub_stats *out);
/*
 * 1 if an erasure committed and its scrub did not finish (a crash, a
 * reader that stayed): sigild runs store_scrub at start then.
 */
int store_scrub_pending(struct store *st);

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

/* ---- campaigns: configuration is JSON owned by loyalty.c ---- */
#define STORE_CAMPAIGN_MAX	(64 * 1024)	/* JSON text bound */
#define STORE_PRIZES_MAX	8

struct campaign {
	uint32_t	brand_id;
	uint32_t	id;		/* per brand, 1, 2, ... */
	char		*config;	/* JSON text, malloc'd */
	int64_t		created, updated;
	/* Usage, kept by store_claim in the claim's transaction: */
	int64_t		points_spent;
	uint64_t	claims;
	uint32_t	prizes_given[STORE_PRIZES_MAX];
};

/* Adds (c->config copied) and sets c->id, c->created. */
int store_campaign_add(struct store *st, struct campaign *c);
/* Replaces the configuration (usage untouched). */
int store_campaign_update(struct store *st, uint32_t brand_id, uint32_t id,
    const char *config);
/* out->config is malloc'd: store_campaign_clear() frees it. */
int store_campaign_get(struct store *st, uint32_t brand_id, uint32_t id,
    struct campaign *out);
void store_campaign_clear(struct campaign *c);
/* With configs (freed by the store after each callback). */
int store_campaign_each(struct store *st, uint32_t brand_id,
    int (*fn)(void *arg, const struct campaign *c), void *arg);

/* ---- claims: one per code per role, ever ---- */
enum claim_role { CLAIM_CONSUMER = 1, CLAIM_RETAILER = 2, CLAIM_SALES = 3 };

struct claim {
	uint64_t	id;		/* assigned */
	uint32_t	brand_id;
	uint64_t	serial;
	int		role;		/* enum claim_role */
	uint64_t	customer_id;
	uint32_t	campaign_id;
	int64_t		points;		/* > 0 */
	int		prize;		/* index into the draw, -1 none */
	int64_t		at;
	int64_t		expires_at;	/* when these points expire */
};

struct claim_limits {
	int64_t		budget;		/* total points, 0 = unlimited */
	uint32_t	daily_cap;	/* claims per customer per day, 0 = none */
	int64_t		day_start;	/* start of "today" for the cap */
	int		nprizes;
	uint32_t	prize_stock[STORE_PRIZES_MAX];	/* total to give */
};

/*
 * The claim, atomically, in one write transaction (LMDB serialises
 * writers, so of many simultaneous claims of one code and role exactly
 * one can win): refuses with SIGIL_ECONFLICT when (brand, serial, role)
 * was ever claimed, SIGIL_EFULL when the campaign's points_spent +
 * points would pass the budget, SIGIL_EDENIED when the customer already
 * made daily_cap claims since day_start. A drawn prize whose stock is
 * used up is dropped (c->prize set to -1), never overdrawn. Writes the
 * claim, an EARN ledger entry, the campaign's usage, the customer's day
 * count and an activity entry (ACTIVITY_CLAIM). Sets c->id.
 */
int store_claim(struct store *st, struct claim *c,
    const struct claim_limits *lim);
/*
 * store_claim details: c->at 0 means now; lim may be NULL (no limits).
 * SIGIL_EINVAL for a role outside enum claim_role, serial 0 or above
 * CODE_SERIAL_MAX, points <= 0, customer 0, or a prize outside
 * -1..nprizes-1; SIGIL_ENOTFOUND for an unknown customer or campaign
 * (campaign_id 0 = none: no usage is kept); SIGIL_ESTATE for an erased
 * customer. A prize is dropped once prizes_given reaches prize_stock.
 * The day count is keyed by the UTC day index of day_start. Before the
 * EARN entry, EXPIRE entries due at c->at are appended (see ledger.h).
 */
/*
 * Group commit of claims (sigild's writer thread): ONE write transaction
 * applying claims[0..n-1] in order, each with exactly store_claim's
 * checks and writes under limits[i] (limits may be NULL: no limits for
 * any). Every check of a claim (validity, customer, campaign, conflict,
 * budget, daily cap) runs before its first write, so a refused claim
 * writes nothing and the transaction goes on; later claims see earlier
 * ones (the same code and role twice: the second gets SIGIL_ECONFLICT;
 * the budget and prize stock are consumed in order). results[i] gets 0
 * or store_claim's refusal (SIGIL_EINVAL, ENOTFOUND, ESTATE, ECONFLICT,
 * EFULL, EDENIED); accepted claims are updated like store_claim's (id,
 * at, dropped prize), refused ones left as they were. Returns 0 when
 * the transaction committed (or had nothing to write). An I/O, memory
 * or map error aborts the whole transaction, nothing of the batch is
 * written, the error is returned AND stored in every results[i], so a
 * caller may read results alone. SIGIL_EINVAL if claims or results is
 * NULL (results untouched); n = 0 does nothing.
 */
int store_claims_commit(struct store *st, struct claim *claims,
    const struct claim_limits *limits, int *results, size_t n);
/* The claim of (brand, serial, role), SIGIL_ENOTFOUND if none. */
int store_claim_get(struct store *st, uint32_t brand_id, uint64_t serial,
    int role, struct claim *out);
/* Every claim of one code (roles in order). */
int store_code_claims(struct store *st, uint32_t brand_id, uint64_t serial,
    int (*fn)(void *arg, const struct claim *c), void *arg);

/*
 * Wrong hidden PINs, counted three ways in pin_fails: per (code,
 * customer), per customer per (China) day, and per code. A customer is
 * blocked on a code after STORE_PIN_TRIES wrong PINs there and on every
 * code after STORE_PIN_DAY_TRIES in a day; the code itself locks only
 * after STORE_PIN_CODE_TRIES (from any customers), until the brand lifts
 * it (store_pin_unlock).
 */
#define STORE_PIN_TRIES		5
#define STORE_PIN_DAY_TRIES	30
#define STORE_PIN_CODE_TRIES	50
struct pin_fails {
	uint32_t	code;		/* on this code, anyone's */
	uint32_t	mine;		/* on this code, this customer's */
	uint32_t	today;		/* this customer's, any code, today */
};
/* Counts one wrong PIN in all three; *out gets the new counts. */
int store_pin_fail(struct store *st, uint32_t brand_id, uint64_t serial,
    uint64_t customer_id, uint32_t day, struct pin_fails *out);
/* The counts now (customer_id 0: only the code's). */
int store_pin_fails(struct store *st, uint32_t brand_id, uint64_t serial,
    uint64_t customer_id, uint32_t day, struct pin_fails *out);
/*
 * Lifts a code's PIN lock: its per-code count and every customer's count
 * on it go to zero; note (kind NOTE_PIN_UNLOCK, count set to the per-code
 * count lifted) is written in the same transaction.
 */
int store_pin_unlock(struct store *st, uint32_t brand_id, uint64_t serial,
    struct code_note *note);

/* ---- ledger: immutable entries; balances are derived ---- */
enum ledger_type {
	LEDGER_EARN = 1, LEDGER_REDEEM = 2, LEDGER_EXPIRE = 3,
	LEDGER_ADJUST = 4,
};

struct ledger_entry {
	uint64_t	id;		/* global, monotonic */
	uint32_t	brand_id;
	uint64_t	customer_id;
	int		type;		/* enum ledger_type */
	int64_t		points;		/* + earn/adjust up, - redeem/expire */
	int64_t		at;
	int64_t		expires_at;	/* EARN: when unspent points lapse */
	uint64_t	ref;		/* claim id, redemption id, ... */
};

/* A customer's entries in id order (at most a few thousand). */
int store_ledger_each(struct store *st, uint32_t brand_id,
    uint64_t customer_id,
    int (*fn)(void *arg, const struct ledger_entry *e), void *arg);
/*
 * Appends an entry after first appending, in the same transaction, the
 * EXPIRE entries due at e->at (oldest points first: see ledger.h). For
 * REDEEM (points < 0) SIGIL_EFULL when the balance after expiry is too
 * small. Sets e->id.
 */
int store_ledger_append(struct store *st, struct ledger_entry *e);

/* ---- redemption catalog ---- */
struct reward_item {
	uint32_t	brand_id;
	uint32_t	id;
	char		name[STORE_TEXT_BYTES + 1];
	int64_t		cost;		/* points, > 0 */
	int64_t		stock;		/* remaining; -1 = unlimited */
	int64_t		created;
};
int store_item_add(struct store *st, struct reward_item *it);
int store_item_get(struct store *st, uint32_t brand_id, uint32_t id,
    struct reward_item *out);
int store_item_each(struct store *st, uint32_t brand_id,
    int (*fn)(void *arg, const struct reward_item *it), void *arg);
/*
 * Redeems one item for the customer in one transaction: expires due
 * points, checks the balance (SIGIL_EFULL) and the stock (SIGIL_ESTATE
 * when none left), appends the REDEEM entry, decrements the stock and
 * logs ACTIVITY_REDEEM. *entry is the REDEEM entry.
 */
int store_redeem(struct store *st, uint32_t brand_id, uint64_t customer_id,
    uint32_t item_id, int64_t now, struct ledger_entry *entry);
/*
 * (The REDEEM entry's ref is the item id; the ACTIVITY_REDEEM entry's ref
 * is the REDEEM entry's id. ENOTFOUND for an unknown customer or item,
 * ESTATE for an erased customer.)
 */

/* ---- brand settings (tiers, point expiry, ...): JSON owned by loyalty.c */
int store_brand_settings_get(struct store *st, uint32_t brand_id,
    char **json);			/* malloc'd; ENOTFOUND if never set */
int store_brand_settings_put(struct store *st, uint32_t brand_id,
    const char *json);

/* ---- activity log: what webhooks deliver besides scans ---- */
enum activity_type {
	ACTIVITY_CLAIM = 1, ACTIVITY_CUSTOMER_NEW = 2, ACTIVITY_LOGIN = 3,
	ACTIVITY_ERASE = 4, ACTIVITY_REDEEM = 5, ACTIVITY_FEEDBACK = 6,
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

/* ---- webhook subscriptions and their delivery cursors ---- */
enum webhook_events { HOOK_SCAN = 1, HOOK_CLAIM = 2, HOOK_CUSTOMER = 4 };

struct webhook {
	uint32_t	brand_id;
	uint32_t	id;
	char		url[STORE_URL_MAX + 1];
	uint8_t		secret_ct[STORE_PHONE_CT_MAX];	/* AES-GCM sealed */
	size_t		secret_ct_len;
	int		events;		/* enum webhook_events mask */
	int		active;
	int64_t		created;
	/* Delivery state: events are delivered in log order, at least once. */
	uint64_t	scan_cursor;	/* last scan id delivered */
	uint64_t	activity_cursor;	/* last activity id delivered */
	uint32_t	attempts;	/* failures in a row */
	int64_t		next_try;	/* backoff: not before this */
	int		last_status;	/* HTTP status or -1 */
	uint64_t	delivered;
};
int store_webhook_add(struct store *st, struct webhook *w);
int store_webhook_get(struct store *st, uint32_t brand_id, uint32_t id,
    struct webhook *out);
int store_webhook_each(struct store *st,
    int (*fn)(void *arg, const struct webhook *w), void *arg);	/* all brands */
/* Writes back the delivery fields (cursors, attempts, ...). */
int store_webhook_progress(struct store *st, const struct webhook *w);
/* Added: pause/resume a subscription, and remove one. ENOTFOUND. */
int store_webhook_set_active(struct store *st, uint32_t brand_id,
    uint32_t id, int active);
int store_webhook_del(struct store *st, uint32_t brand_id, uint32_t id);

/* ---- dashboard users and sessions ---- */
struct user {
	uint32_t	id;		/* global */
	uint32_t	brand_id;
	char		email[STORE_NAME_MAX * 2 + 1];	/* lower-cased */
	int		role;		/* enum token_role */
	uint8_t		salt[16];
	uint8_t		hash[32];	/* scrypt or PBKDF2 */
	int64_t		created;
	int		disabled;	/* no login, sessions refused */
};
int store_user_add(struct store *st, struct user *u);	/* email unique */
/*
 * Removes the user and frees the email; sets or clears disabled (the only
 * way it changes: store_user_update keeps it). ENOTFOUND. Disabling and
 * removing delete the user's sessions in the same transaction. A
 * disabled user is found by store_user_get only, never by
 * store_user_find (login).
 */
int store_user_del(struct store *st, uint32_t id);
int store_user_set_disabled(struct store *st, uint32_t id, int disabled);
int store_user_find(struct store *st, const char *email, struct user *out);
int store_user_update(struct store *st, const struct user *u);
/*
 * Added: the user a session names, and a brand's users in id order.
 * store_user_add sets u->id, u->created and lower-cases u->email (ASCII);
 * EINVAL for an email without '@', with spaces or controls, or a role
 * outside enum token_role; ENOTFOUND for an unknown brand; EEXIST for an
 * email in use (store_user_update too, when it changes the email).
 */
int store_user_get(struct store *st, uint32_t id, struct user *out);
int store_user_each(struct store *st, uint32_t brand_id,
    int (*fn)(void *arg, const struct user *u), void *arg);

struct session {
	uint8_t		id_hash[32];	/* SHA-256 of the cookie value */
	uint32_t	user_id;
	uint8_t		csrf[32];
	int64_t		created, expires;
};
int store_session_put(struct store *st, const struct session *s);
int store_session_get(struct store *st, const uint8_t id_hash[32],
    struct session *out);
int store_session_del(struct store *st, const uint8_t id_hash[32]);
/* Deletes every session of user_id but keep's (may be NULL). */
int store_session_del_user(struct store *st, uint32_t user_id,
    const uint8_t keep[32]);
/*
 * Sessions expire lazily: get treats an expired one as ENOTFOUND (using
 * the wall clock). Added: store_session_purge deletes every session with
 * expires <= now; *removed (may be NULL) says how many.
 */
int store_session_purge(struct store *st, int64_t now, uint64_t *removed);

/* ---- dashboard counters, kept by the writer (no log scans) ---- */
enum stat_kind {
	STAT_SCANS = 1,		/* human scans of known codes */
	STAT_FIRST = 2,		/* first scans */
	STAT_SUSPICIOUS = 3,
	STAT_COUNTERFEIT = 4,	/* brand known from the key id only */
	STAT_SCANNERS = 5,	/* distinct devices (first scan that day) */
	STAT_CLAIMS = 6,
	STAT_POINTS = 7,
	STAT_DIVERSION = 8,
	STAT_REDEMPTIONS = 9,
};

enum stat_dim {
	DIM_BRAND = 0,		/* key 0 */
	DIM_PRODUCT = 1,	/* key: 64-bit hash of the SKU */
	DIM_BATCH = 2,		/* key: batch id */
	DIM_CAMPAIGN = 3,	/* key: campaign id */
	DIM_REGION = 4,		/* key: 1-degree cell, (lat+90)*360+(lng+180) */
};

/*
 * Counter buckets are hours (hour index since the epoch); a day is 24 of
 * them. store_stat_add adds delta to (brand, kind, dim, key, hour) in its
 * own transaction; store_scans_commit and store_claim update the scan and
 * claim counters in theirs.
 */
int store_stat_add(struct store *st, uint32_t brand_id, int kind, int dim,
    uint64_t key, int64_t hour, int64_t delta);
/* Sums per hour over [from_hour, to_hour) into out[to_hour - from_hour]. */
int store_stat_range(struct store *st, uint32_t brand_id, int kind, int dim,
    uint64_t key, int64_t from_hour, int64_t to_hour, int64_t *out);
/* Every key of (brand, kind, dim) with its total over the range. */
int store_stat_keys(struct store *st, uint32_t brand_id, int kind, int dim,
    int64_t from_hour, int64_t to_hour,
    int (*fn)(void *arg, uint64_t key, int64_t total), void *arg);
/*
 * Hours are 0..2^32-1 (EINVAL otherwise, and for an unknown kind or dim).
 * Counters saturate instead of overflowing. What the writers count:
 * store_scans_commit, per human scan of a known brand (bots and brand 0
 * skipped) at the scan's hour: SCANS, FIRST (SCAN_FIRST) and SUSPICIOUS
 * (verdict) by DIM_BRAND, DIM_PRODUCT and DIM_BATCH; SCANNERS by
 * DIM_BRAND for a device's first scan of the (UTC) day; SCANS by
 * DIM_REGION and DIVERSION by DIM_BRAND and DIM_REGION when located.
 * store_scan_locate: SCANS by DIM_REGION, DIVERSION when it adds the
 * flag. store_claim: CLAIMS and POINTS by DIM_BRAND and DIM_CAMPAIGN.
 * store_redeem: REDEMPTIONS by DIM_BRAND.
 *
 * Added: the DIM_PRODUCT key of a SKU (64-bit FNV-1a of its bytes) and
 * the DIM_REGION key of a point (1-degree cell, the poles and the
 * antimeridian folded into the last row and column).
 */
uint64_t store_sku_hash(const char *sku);
uint64_t store_region_cell(float lat, float lng);

/* ---- stats ---- */
struct store_stats {
	uint64_t	brands, products, batches, codes_issued;
	uint64_t	codes_scanned;		/* codes with >= 1 human scan */
	uint64_t	scans;			/* all logged, bots included */
	uint64_t	by_verdict[5];		/* human scans per verdict */
	uint64_t	bots;
};
int store_stats(struct store *st, struct store_stats *out);

#endif
