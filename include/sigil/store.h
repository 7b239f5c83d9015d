/*
 * store.h - all persistent state, in one LMDB environment. store.c is the
 * only file that includes lmdb.h. The schema (every sub-database, its key
 * and value encoding) is in docs/storage.md; STORE_SCHEMA_VERSION is
 * written in the meta database and checked at open.
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
#define STORE_NAME_MAX		64	/* brand names, SKUs */
#define STORE_TEXT_MAX		200	/* product names, lots */
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
};

/*
 * Opens the environment in directory dir (which must exist). With
 * STORE_CREATE it must hold no environment yet. Checks the schema version
 * (SIGIL_ESTATE on mismatch). 0, SIGIL_EEXIST, SIGIL_ENOTFOUND (no
 * directory, or no environment without STORE_CREATE), SIGIL_EINVAL
 * (unknown flags, CREATE with RDONLY, a bad SIGIL_STORE_INITIAL_MAP),
 * SIGIL_ENOMEM, SIGIL_EIO. A failed create leaves no files behind.
 */
int store_open(const char *dir, int flags, struct store **out);
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

/* ---- brands ---- */
struct brand {
	uint32_t	id;		/* 1, 2, ... */
	char		name[STORE_NAME_MAX + 1];
	char		base_url[STORE_URL_MAX + 1];
	int64_t		created;	/* microseconds since epoch */
};

/*
 * Adds a brand (name unique) and sets b->id, b->created. SIGIL_EINVAL for
 * an empty or oversize name or base_url, control characters or invalid
 * UTF-8; SIGIL_EEXIST for a name in use.
 */
int store_brand_add(struct store *st, struct brand *b);
int store_brand_get(struct store *st, uint32_t id, struct brand *out);
int store_brand_find(struct store *st, const char *name, struct brand *out);
/* Calls fn for each brand in id order; stops early if fn returns nonzero. */
int store_brand_each(struct store *st,
    int (*fn)(void *arg, const struct brand *b), void *arg);

/* ---- key metadata (secret bytes live in the keyring, never here) ---- */
struct key_meta {
	uint16_t	id;		/* global across brands, 1..65535 */
	uint32_t	brand_id;
	int64_t		created;
	int64_t		revoked;	/* 0 while valid */
};

/*
 * Allocates the next key id for brand_id, records it, sets *out.
 * SIGIL_ENOTFOUND for an unknown brand, SIGIL_EFULL after key 65535.
 */
int store_key_add(struct store *st, uint32_t brand_id, struct key_meta *out);
int store_key_get(struct store *st, uint16_t id, struct key_meta *out);
/* The newest unrevoked key of the brand, SIGIL_ENOTFOUND if none. */
int store_key_current(struct store *st, uint32_t brand_id,
    struct key_meta *out);
/* SIGIL_ENOTFOUND, or SIGIL_ESTATE if already revoked. */
int store_key_revoke(struct store *st, uint16_t id);
int store_key_each(struct store *st, uint32_t brand_id,
    int (*fn)(void *arg, const struct key_meta *k), void *arg);

/* ---- products ---- */
struct product {
	uint32_t	brand_id;
	char		sku[STORE_NAME_MAX + 1];
	char		name[STORE_TEXT_MAX + 1];
	char		gtin[15];	/* "" or 14 digits */
	uint32_t	max_scanners;	/* clone threshold, default 5 */
	int		gs1_form;	/* mint Digital Link URLs */
	int64_t		created;
};

/*
 * SIGIL_EEXIST when (brand, sku) or the GTIN is already used;
 * SIGIL_ENOTFOUND for an unknown brand; SIGIL_EINVAL for an empty or
 * oversize sku or name, control characters, a GTIN that is not 14 digits
 * with a good check digit, or max_scanners outside 1..STORE_SCANNERS_MAX
 * (more distinct scanners than the state keeps could never be detected).
 */
int store_product_add(struct store *st, struct product *p);
int store_product_get(struct store *st, uint32_t brand_id, const char *sku,
    struct product *out);
int store_product_find_gtin(struct store *st, const char *gtin14,
    struct product *out);

/* ---- batches: contiguous serial ranges ---- */
enum batch_state {
	BATCH_INACTIVE = 0,
	BATCH_ACTIVE = 1,
	BATCH_REVOKED = 2,
};

struct batch {
	uint64_t	id;		/* 1, 2, ... global */
	uint32_t	brand_id;
	uint16_t	key_id;		/* key that signs this batch's codes */
	char		sku[STORE_NAME_MAX + 1];
	char		lot[STORE_LOT_MAX + 1];
	uint64_t	first_serial;	/* per-brand serial space, from 1 */
	uint64_t	count;
	int64_t		expires;	/* 0 = none */
	int		state;		/* enum batch_state */
	int64_t		created, activated, revoked;
};

/*
 * Registers a batch of b->count serials for b->brand_id / b->sku (which
 * must exist) signed by b->key_id: allocates the next free serial range
 * and id, sets b->id, b->first_serial, b->created, b->state = INACTIVE.
 * SIGIL_EFULL if the brand's serial space would pass CODE_SERIAL_MAX
 * (or after 2^32-1 batches). SIGIL_EINVAL for count 0 or above
 * CODE_SERIAL_MAX, a bad sku or lot, or a key of another brand;
 * SIGIL_ENOTFOUND for an unknown product or key; SIGIL_ESTATE for a
 * revoked key.
 */
int store_batch_new(struct store *st, struct batch *b);
int store_batch_get(struct store *st, uint64_t id, struct batch *out);
/* The batch holding serial of brand_id: a range lookup, no per-code rows. */
int store_batch_find_serial(struct store *st, uint32_t brand_id,
    uint64_t serial, struct batch *out);
/*
 * INACTIVE -> ACTIVE, INACTIVE|ACTIVE -> REVOKED; anything else
 * SIGIL_ESTATE. Sets activated/revoked times.
 */
int store_batch_set_state(struct store *st, uint64_t id, int state);
/* The brand's batches in serial (= id) order. */
int store_batch_each(struct store *st, uint32_t brand_id,
    int (*fn)(void *arg, const struct batch *b), void *arg);

/* ---- scans: append-only log plus per-code state ---- */
enum scan_verdict {
	VERDICT_GENUINE = 0,
	VERDICT_SUSPICIOUS = 1,
	VERDICT_COUNTERFEIT = 2,
	VERDICT_REVOKED = 3,
	VERDICT_INACTIVE = 4,
};

enum scan_flags {
	SCAN_BOT = 1 << 0,		/* previewer/bot/HEAD: never counted */
	SCAN_FIRST = 1 << 1,		/* first human scan of the code */
	SCAN_HAS_LOC = 1 << 2,		/* lat/lng valid */
	SCAN_DIVERSION = 1 << 3,
	SCAN_CLONE_SCANNERS = 1 << 4,	/* too many distinct scanners */
	SCAN_CLONE_TRAVEL = 1 << 5,	/* impossible travel */
	SCAN_GS1 = 1 << 6,		/* arrived as a Digital Link */
};

/* One scan as logged. Fixed-size binary value, see docs/storage.md. */
struct scan_rec {
	uint64_t	id;		/* assigned at commit, monotonic */
	int64_t		at;		/* microseconds */
	uint32_t	brand_id;	/* 0 when unknown (counterfeit) */
	uint64_t	serial;
	uint64_t	batch_id;
	uint64_t	device;		/* device id from the cookie */
	uint8_t		ip[16];		/* v4-mapped or v6 client address */
	float		lat, lng;	/* when SCAN_HAS_LOC */
	uint16_t	accuracy_m;
	uint8_t		verdict;	/* enum scan_verdict */
	uint16_t	flags;		/* enum scan_flags */
};

/* Per-code state, changed in the same transaction as the scan append. */
struct code_state {
	int64_t		first_at;	/* first human scan, 0 if none */
	uint64_t	first_scan_id;
	uint32_t	scan_count;	/* human scans */
	uint32_t	bot_count;
	uint8_t		n_scanners;	/* distinct devices seen, capped */
	uint64_t	scanners[STORE_SCANNERS_MAX];
	int64_t		last_loc_at;	/* 0 if no located scan yet */
	float		last_lat, last_lng;
	uint32_t	flags;		/* sticky: SCAN_CLONE_* seen */
};

/*
 * Called inside the commit for each pending scan, in order, with the
 * code's current state (zeroed for a code never scanned): it fills
 * rec->verdict and rec->flags and updates *state. index is the scan's
 * position in the caller's array (0 for store_scan_locate); rec points
 * to the store's working copy, not into that array. Must not call the
 * store.
 */
typedef void (*store_judge_fn)(void *arg, size_t index, struct scan_rec *rec,
    struct code_state *state);

/*
 * Appends n scans in ONE write transaction (group commit): assigns ids,
 * calls judge for each (when rec->brand_id != 0), appends to the log with
 * MDB_APPEND, writes the code states, and commits with a durable sync
 * unless the store was opened NOSYNC. On failure nothing is written, no
 * id is consumed and recs are unchanged. 0, SIGIL_EIO, SIGIL_EFULL,
 * SIGIL_ENOMEM, or SIGIL_EINVAL for a serial above CODE_SERIAL_MAX, a
 * batch id above 2^32-1, a verdict out of range or a state with more than
 * STORE_SCANNERS_MAX scanners. If the map must grow, the transaction is
 * retried from the start: judge may then see the same scan twice (the
 * first time in a transaction that was thrown away).
 */
int store_scans_commit(struct store *st, struct scan_rec *recs, size_t n,
    store_judge_fn judge, void *arg);

/*
 * Stores a consented location for scan id (a separate append-only table;
 * the log itself never changes) and updates the code's state through
 * judge, which sees rec with the location filled in. SIGIL_ENOTFOUND for
 * an unknown scan, SIGIL_EEXIST if it already has a location,
 * SIGIL_EINVAL for coordinates out of range. *out (may be NULL) gets the
 * scan with the location applied.
 */
int store_scan_locate(struct store *st, uint64_t scan_id, float lat,
    float lng, uint16_t accuracy_m, store_judge_fn judge, void *arg,
    struct scan_rec *out);

/* The scan as logged, with its location applied if one was stored. */
int store_scan_get(struct store *st, uint64_t id, struct scan_rec *out);
int store_code_state(struct store *st, uint32_t brand_id, uint64_t serial,
    struct code_state *out);
/*
 * Every scan with at >= since, in id order; location applied if given.
 * Walks in chunks of fresh snapshots (the log is append-only, so the
 * order holds): scans committed during the walk may be included.
 */
int store_scan_each(struct store *st, int64_t since,
    int (*fn)(void *arg, const struct scan_rec *r), void *arg);

/* Every scan of one code, in id order (an index, no log scan). */
int store_code_scans(struct store *st, uint32_t brand_id, uint64_t serial,
    int (*fn)(void *arg, const struct scan_rec *r), void *arg);

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
