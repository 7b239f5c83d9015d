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

/* ---- brands ---- */
struct brand {
	uint32_t	id;		/* 1, 2, ... */
	char		name[STORE_NAME_BYTES + 1];
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
	char		sku[STORE_NAME_BYTES + 1];
	char		name[STORE_TEXT_BYTES + 1];
	char		gtin[15];	/* "" or 14 digits */
	uint32_t	max_scanners;	/* clone threshold, default 5 */
	int		gs1_form;	/* mint Digital Link URLs */
	int64_t		created;
};

/*
 * SIGIL_EEXIST when (brand, sku) or (brand, GTIN) is already used (a GTIN
 * is unique within a brand only: another brand's use of the same digits is
 * neither visible nor blocking; scans resolve by the code's key, not by
 * GTIN);
 * SIGIL_ENOTFOUND for an unknown brand; SIGIL_EINVAL for an empty or
 * oversize sku or name, control characters, a GTIN that is not 14 digits
 * with a good check digit, or max_scanners outside 1..STORE_SCANNERS_MAX
 * (more distinct scanners than the state keeps could never be detected).
 */
int store_product_add(struct store *st, struct product *p);
int store_product_get(struct store *st, uint32_t brand_id, const char *sku,
    struct product *out);
/* brand_id's product with GTIN gtin14, or SIGIL_ENOTFOUND. */
int store_product_find_gtin(struct store *st, uint32_t brand_id,
    const char *gtin14, struct product *out);

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
	char		sku[STORE_NAME_BYTES + 1];
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
	SCAN_CLAIMED_OTHER = 1 << 7,	/* after another customer claimed */
	SCAN_ANON = 1 << 8,		/* no device cookie: a new device */
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
	/* In memory only, for the diversion alert (see alerts below). */
	uint32_t	distributor;
	float		diversion_km;
};

/*
 * Per-code state: what the code's logged scans add up to (see
 * store_state_apply). Current as soon as the scan's commit returns;
 * reaches the code_state table later (store_state.c).
 */
#define STORE_NETS_MAX		8	/* networks kept per code */
#define STORE_ANON_WINDOW_US	(24LL * 3600 * 1000000)
/* In code_state.flags (above the scan flags): the first scan is anonymous. */
#define STATE_FIRST_ANON	(1u << 16)

/* A network (IPv4 /24, IPv6 /64) that brought a code a new scanner. */
struct code_net {
	uint64_t	key;		/* store_net_key() */
	int64_t		anon_at;	/* its anonymous slot began; 0 none */
};

struct code_state {
	int64_t		first_at;	/* first human scan, 0 if none */
	uint64_t	first_scan_id;
	uint32_t	scan_count;	/* human scans */
	uint32_t	bot_count;
	uint8_t		n_scanners;	/* distinct scanners seen, capped */
	uint64_t	scanners[STORE_SCANNERS_MAX];
	int64_t		last_loc_at;	/* 0 if no located scan yet */
	float		last_lat, last_lng;
	uint32_t	flags;		/* sticky SCAN_CLONE_*, STATE_FIRST_ANON */
	uint8_t		n_nets;		/* networks of the scanners, capped */
	struct code_net	nets[STORE_NETS_MAX];
	uint64_t	first_net;	/* network of the first scan */
	uint64_t	cleared_through;	/* scans <= this: no clone evidence */
};

/*
 * The state rules both the judge (scan_judge) and the replay
 * (store_state_apply) follow, so the two cannot drift apart. Pure.
 *
 * store_net_key: the network of a client address: an IPv4 /24 (for
 * v4-mapped addresses) or an IPv6 /64, as one number.
 *
 * store_state_first: the first-scan rule. The first human scan becomes
 * the code's first scan; if it came without a device cookie
 * (SCAN_ANON) it is provisional: the first later scan WITH a cookie
 * either confirms it (same network: the same buyer came back) or, from
 * another network, becomes the first scan itself. Anonymous scans never
 * displace a first scan. Returns 1 when r became the first scan.
 *
 * store_state_scanner: the scanner rule. A device already counted adds
 * nothing; an anonymous scan from a network whose anonymous slot began
 * less than STORE_ANON_WINDOW_US ago adds nothing (cookie-less requests
 * from one /24 or /64 within a day are one scanner); anything else is a
 * new scanner, and its network is noted. Scans with id <= cleared_through
 * add nothing (the brand cleared that evidence). Returns 0 (nothing new),
 * 1 (a new scanner, kept) or 2 (a new scanner, the list already full).
 */
uint64_t store_net_key(const uint8_t ip[16]);
int store_state_first(struct code_state *s, const struct scan_rec *r);
int store_state_scanner(struct code_state *s, const struct scan_rec *r);

/*
 * Called inside the commit for each pending scan, in order, with the
 * code's current state (zeroed for a code never scanned): it fills
 * rec->verdict and rec->flags and updates *state. index is the scan's
 * position in the caller's array (0 for store_scan_locate); rec points
 * to the store's working copy, not into that array. Must not call the
 * store. The state it leaves must be what store_state_apply makes of the
 * judged rec: after a crash the log is replayed with that rule.
 */
typedef void (*store_judge_fn)(void *arg, size_t index, struct scan_rec *rec,
    struct code_state *state);

/*
 * Appends n scans in ONE write transaction (group commit): assigns ids,
 * calls judge for each (when rec->brand_id != 0), appends to the log with
 * MDB_APPEND, keeps the codes' new states in the pending layer (and
 * merges a chunk of older ones into code_state in the same
 * transaction), and commits with a durable sync
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

/*
 * Per-code state reaches code_state in the background (store_state.c):
 * a commit logs its scans durably and keeps the codes' new states in
 * memory; they are merged into code_state later, in key order, inside
 * later commits or idle-time merges, and replayed from the log after a
 * crash. Reads (store_code_state, store_code_scans) see both.
 *
 * store_state_apply is the replay rule: what a logged scan (verdict and
 * flags as judged, location if stored) does to its code's state. The
 * judge must leave exactly that state (test_state checks scan_judge).
 */
void store_state_apply(struct code_state *s, const struct scan_rec *r);

/*
 * Merges up to max_codes (0: all) pending code states into code_state in
 * one transaction, freezing the pending ones first if nothing is being
 * merged; *left (may be NULL) gets the codes still pending. The writer
 * calls it when idle; tests call it to drain. 0, SIGIL_EDENIED
 * (read-only), or a commit error (nothing merged).
 */
int store_state_merge(struct store *st, size_t max_codes, size_t *left);

/*
 * Builds the pending layer now (it is otherwise built by the first call
 * that needs it): replays the scans with ids above state/through from
 * the log, and on a read-write handle finishes a merge a crash cut
 * short. 0, SIGIL_EIO, SIGIL_ENOMEM, or a commit error.
 */
int store_state_load(struct store *st);

struct store_state_info {
	size_t		pending;	/* codes whose state is not yet merged */
	uint64_t	merged;		/* codes merged since open */
	size_t		freeze_at;	/* codes per merge generation */
	uint64_t	replayed;	/* scans replayed from the log at load */
	int		resumed;	/* load finished a merge a crash cut */
};
void store_state_info(struct store *st, struct store_state_info *out);

/* The scan as logged, with its location applied if one was stored. */
int store_scan_get(struct store *st, uint64_t id, struct scan_rec *out);
int store_code_state(struct store *st, uint32_t brand_id, uint64_t serial,
    struct code_state *out);

/*
 * The brand's notes on one code (code_notes): a cleared clone flag or a
 * lifted PIN lock, with who did it and why. Append-only.
 */
enum code_note_kind { NOTE_CLEAR = 1, NOTE_PIN_UNLOCK = 2 };
struct code_note {
	int64_t		at;
	int		kind;		/* enum code_note_kind */
	uint32_t	token_id;	/* the actor: API token or dashboard user */
	int		by_user;	/* 1: token_id is a dashboard user id */
	uint64_t	through;	/* NOTE_CLEAR: last scan id cleared */
	uint32_t	count;		/* NOTE_PIN_UNLOCK: wrong PINs lifted */
	char		reason[STORE_TEXT_MAX + 1];
};
/*
 * Clears a code's clone evidence: the sticky flags, the scanners and
 * their networks are forgotten, and every scan logged so far (id <=
 * note->through, which this sets) will never count as evidence again,
 * also when the log is replayed. First scan, counts and the last place
 * stay. Writes the note in the same transaction. SIGIL_EINVAL for a bad
 * serial or reason (empty, too long, control characters).
 */
int store_code_clear(struct store *st, uint32_t brand_id, uint64_t serial,
    struct code_note *note);
/* A code's notes, oldest first. */
int store_code_notes(struct store *st, uint32_t brand_id, uint64_t serial,
    int (*fn)(void *arg, const struct code_note *n), void *arg);
/*
 * Every scan with at >= since, in id order; location applied if given.
 * Walks in chunks of fresh snapshots (the log is append-only, so the
 * order holds): scans committed during the walk may be included.
 */
int store_scan_each(struct store *st, int64_t since,
    int (*fn)(void *arg, const struct scan_rec *r), void *arg);
/*
 * The scans with id > after, in id order, at most limit of them (limit
 * 0: none); location applied if given. The same chunked walk as
 * store_scan_each but seeking straight to after, so a reader that keeps
 * a cursor (webhook delivery) never rescans the log from the start.
 */
int store_scan_after(struct store *st, uint64_t after, size_t limit,
    int (*fn)(void *arg, const struct scan_rec *r), void *arg);

/* Every scan of one code, in id order (an index, no log scan). */
int store_code_scans(struct store *st, uint32_t brand_id, uint64_t serial,
    int (*fn)(void *arg, const struct scan_rec *r), void *arg);

/* ---- brand API tokens (only a SHA-256 of the token is stored) ---- */
enum token_role {
	ROLE_ADMIN = 1,		/* everything */
	ROLE_OPERATOR = 2,	/* batches, aggregations, shipments */
	ROLE_ANALYST = 3,	/* read only */
};

struct token {
	uint32_t	id;		/* 1, 2, ... global */
	uint32_t	brand_id;
	int		role;		/* enum token_role */
	int64_t		created;
	int64_t		revoked;	/* 0 while valid */
	int64_t		expires;	/* 0 = never; refused from then on */
	uint32_t	user_id;	/* dashboard user who made it, 0 = CLI
					   or another token */
};

/*
 * Records a token whose SHA-256 is hash, with t->brand_id, role, expires
 * and user_id as given; sets t->id and t->created.
 * SIGIL_EINVAL for a role outside enum token_role, SIGIL_ENOTFOUND for an
 * unknown brand, SIGIL_EEXIST for a hash already recorded.
 */
int store_token_add(struct store *st, const uint8_t hash[32], struct token *t);
/* The token with this hash (revoked ones too; callers check). */
int store_token_find(struct store *st, const uint8_t hash[32],
    struct token *out);
/* SIGIL_ENOTFOUND, or SIGIL_ESTATE if already revoked. */
int store_token_revoke(struct store *st, uint32_t id);
/* The token with this id (any brand: callers check), or ENOTFOUND. */
int store_token_get(struct store *st, uint32_t id, struct token *out);
/* The brand's tokens in id order, revoked ones included. */
int store_token_each(struct store *st, uint32_t brand_id,
    int (*fn)(void *arg, const struct token *t), void *arg);

/* ---- distributors and their sales territories ---- */
#define STORE_GEOJSON_MAX	(1024 * 1024)	/* territory text bound */

struct distributor {
	uint32_t	brand_id;
	uint32_t	id;		/* per brand, 1, 2, ... */
	char		name[STORE_TEXT_BYTES + 1];
	int64_t		created;
	char		*territory;	/* GeoJSON text, malloc'd, may be NULL */
};

/*
 * Adds d (territory copied; validated by the caller); sets d->id (per
 * brand, from 1) and d->created. SIGIL_EINVAL for an empty or oversize
 * name or control characters in it, or a territory longer than
 * STORE_GEOJSON_MAX; SIGIL_ENOTFOUND for an unknown brand.
 */
int store_distributor_add(struct store *st, struct distributor *d);
/* *out->territory is malloc'd: free it with store_distributor_clear(). */
int store_distributor_get(struct store *st, uint32_t brand_id, uint32_t id,
    struct distributor *out);
void store_distributor_clear(struct distributor *d);
/* Without territories (d->territory is NULL in the callback). */
int store_distributor_each(struct store *st, uint32_t brand_id,
    int (*fn)(void *arg, const struct distributor *d), void *arg);

/* ---- trace: aggregation, shipments, and the EPCIS event log ---- */
#define STORE_AGG_MAX		100000	/* children in one call */

enum trace_event_type {
	EVENT_COMMISSION = 1,	/* batch activated: ObjectEvent ADD */
	EVENT_AGGREGATE = 2,	/* AggregationEvent ADD */
	EVENT_DISAGGREGATE = 3,	/* AggregationEvent DELETE (unpack) */
	EVENT_SHIP = 4,		/* ObjectEvent OBSERVE, shipping */
	EVENT_RECEIVE = 5,	/* ObjectEvent OBSERVE, receiving */
	EVENT_SCAN = 6,		/* consumer scan: ObjectEvent OBSERVE */
	EVENT_DECOMMISSION = 7,	/* batch revoked: ObjectEvent DELETE */
};

/*
 * One traceability event. serials holds the codes the event names (the
 * children of an aggregation, what a shipment covered, ...); for
 * COMMISSION/DECOMMISSION it is empty and batch_id names the range.
 */
struct trace_event {
	uint64_t	id;		/* monotonic, assigned by the store */
	int		type;		/* enum trace_event_type */
	uint32_t	brand_id;
	int64_t		at;
	uint64_t	parent;		/* AGGREGATE/DISAGGREGATE: parent serial */
	uint64_t	batch_id;	/* COMMISSION/DECOMMISSION */
	uint32_t	distributor;	/* SHIP/RECEIVE */
	uint64_t	shipment;	/* SHIP/RECEIVE */
	uint64_t	scan_id;	/* SCAN */
	size_t		n;
	uint64_t	*serials;	/* malloc'd by readers; n entries */
};

/*
 * Packs children (n of them, 1..STORE_AGG_MAX, all serials of brand_id's
 * issued batches, none equal to parent, no duplicates) into parent, in
 * one transaction, and appends an AGGREGATE event. SIGIL_ECONFLICT when
 * any child already has a parent (nothing is written); SIGIL_EINVAL for
 * a cycle (parent is inside one of the children), a duplicate child or
 * a child equal to parent, SIGIL_ENOTFOUND when a serial (parent
 * included) belongs to no batch of the brand, SIGIL_EFULL when parent is
 * nested more than 1024 levels deep. *event_id (may be NULL) set on
 * success; the event lists the children in serial order.
 */
int store_aggregate(struct store *st, uint32_t brand_id, uint64_t parent,
    const uint64_t *children, size_t n, uint64_t *event_id);
/*
 * Unpacks: removes children (or, with n == 0, every child) from parent
 * and appends a DISAGGREGATE event. SIGIL_ENOTFOUND if one of them is not
 * inside parent (or, with n == 0, parent holds nothing); SIGIL_EINVAL for
 * a duplicate or n above STORE_AGG_MAX.
 */
int store_disaggregate(struct store *st, uint32_t brand_id, uint64_t parent,
    const uint64_t *children, size_t n, uint64_t *event_id);
/* The direct parent of serial (SIGIL_ENOTFOUND when none). */
int store_parent(struct store *st, uint32_t brand_id, uint64_t serial,
    uint64_t *parent);
/* Direct children of parent in serial order. */
int store_children_each(struct store *st, uint32_t brand_id, uint64_t parent,
    int (*fn)(void *arg, uint64_t child), void *arg);

struct shipment {
	uint64_t	id;		/* global, 1, 2, ... */
	uint32_t	brand_id;
	uint32_t	distributor;
	int64_t		shipped_at, received_at;	/* received 0 until then */
	uint64_t	codes;		/* codes covered, descendants included */
};

/*
 * Ships codes (n, 1..STORE_AGG_MAX roots) to distributor: every root and,
 * recursively, everything packed inside it (bounded by STORE_SHIP_MAX
 * codes in all: SIGIL_EFULL beyond) is marked shipped with this shipment
 * (a later shipment of the same code replaces the mark), and one SHIP
 * event is appended naming the roots. Shipping a code activates it even
 * if its batch is inactive (SPEC §2). Sets *out (may be NULL).
 * SIGIL_ENOTFOUND for an unknown distributor of the brand or a root in no
 * batch of the brand, SIGIL_EINVAL for a duplicate root; nothing is
 * written then. A root packed inside another root is counted once.
 */
#define STORE_SHIP_MAX		10000000
int store_ship(struct store *st, uint32_t brand_id, uint32_t distributor,
    const uint64_t *codes, size_t n, struct shipment *out);
int store_shipment_get(struct store *st, uint64_t id, struct shipment *out);
/* Marks the shipment received (SIGIL_ESTATE if already) + RECEIVE event. */
int store_shipment_receive(struct store *st, uint64_t id, struct shipment *out);
/* The shipment that last covered serial; SIGIL_ENOTFOUND if never shipped. */
int store_code_shipment(struct store *st, uint32_t brand_id, uint64_t serial,
    struct shipment *out);

/*
 * Appends an event (activation, scans) and sets ev->id, and ev->at to now
 * when it was 0. COMMISSION/DECOMMISSION need a batch_id of the brand.
 * SIGIL_EINVAL for a bad type, serial, batch of another brand or n above
 * STORE_AGG_MAX; SIGIL_ENOTFOUND for an unknown brand or batch.
 */
int store_event_add(struct store *st, struct trace_event *ev);
/*
 * Events of brand_id with id > after and from <= at < to (0 = open), of
 * the given type (0 = any), in id order, at most limit of them (0 = no
 * limit). The callback's event (serials included) is valid only during
 * the call.
 */
int store_event_each(struct store *st, uint32_t brand_id, uint64_t after,
    int64_t from, int64_t to, int type, size_t limit,
    int (*fn)(void *arg, const struct trace_event *ev), void *arg);
/*
 * Events that name serial (as parent, child, shipped root), the
 * COMMISSION/DECOMMISSION events of its batch, and the SHIP/RECEIVE
 * events of the codes it is packed inside (a shipment names its roots
 * only), in id order. Ancestors are those of now, not of the event's time.
 */
int store_code_events(struct store *st, uint32_t brand_id, uint64_t serial,
    int (*fn)(void *arg, const struct trace_event *ev), void *arg);

/* ---- alerts: clone and diversion evidence, append-only ---- */
enum alert_type {
	ALERT_CLONE_SCANNERS = 1,
	ALERT_CLONE_TRAVEL = 2,
	ALERT_DIVERSION = 3,
};

struct alert {
	uint64_t	id;		/* monotonic */
	uint32_t	brand_id;
	int		type;		/* enum alert_type */
	int64_t		at;
	uint64_t	serial;
	uint64_t	scan_id;
	uint32_t	distributor;	/* DIVERSION */
	float		distance_km;	/* DIVERSION: outside the territory by */
	float		lat, lng;
};

/*
 * Alerts are written by store_scans_commit and store_scan_locate in the
 * same transaction as the scan: one per judged scan whose rec->flags
 * carry SCAN_CLONE_SCANNERS, SCAN_CLONE_TRAVEL or SCAN_DIVERSION (one
 * alert per flag). A diversion alert takes its distributor and distance
 * from rec->distributor and rec->diversion_km, which the caller fills
 * before the commit (they are not part of the logged record); at locate
 * time, judge fills them, and only flags judge adds there raise alerts.
 * The brand's alerts with id > after, of the given type (0 = any), with
 * at >= since, in id order, at most limit of them (0 = no limit).
 */
int store_alert_each(struct store *st, uint32_t brand_id, uint64_t after,
    int type, int64_t since, size_t limit,
    int (*fn)(void *arg, const struct alert *a), void *arg);

/*
 * ==== customers, loyalty, webhooks, users, counters ====
 * The late tables, one slice a family (src/store/store_customers.c,
 * store_claims.c, store_ledger.c, store_users.c, store_webhooks.c,
 * store_counters.c), sharing store.c's internals through the private
 * src/store/store_impl.h: the storage module is one subsystem in several
 * files, and still the only code that sees LMDB.
 */
#include "sigil/store/customers.h"
#include "sigil/store/claims.h"
#include "sigil/store/ledger.h"
#include "sigil/store/users.h"
#include "sigil/store/webhooks.h"
#include "sigil/store/counters.h"

/* ---- the physical scrub after an erasure (store_scrub.c) ---- */
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
