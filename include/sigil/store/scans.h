/*
 * sigil/store/scans.h - the scan log, per-code state and the brand's
 * notes on a code. In src/store/store_scanlog.c (the log, code_state,
 * the state rules), store_scans.c (commits, locations, a code's scans),
 * store_state.c (the pending layer) and store_notes.c (notes).
 *
 * One slice of the storage module's contract: include "sigil/store.h",
 * which includes every slice after what they all share (struct store,
 * the text limits, the error conventions of its opening comment).
 */
#ifndef SIGIL_STORE_SCANS_H
#define SIGIL_STORE_SCANS_H

#ifndef SIGIL_STORE_H
#error "include sigil/store.h, not its slices"
#endif

/* ---- scans: append-only log plus per-code state ---- */
enum scan_verdict {
	VERDICT_GENUINE = 0,
	VERDICT_SUSPICIOUS = 1,
	VERDICT_COUNTERFEIT = 2,
	VERDICT_REVOKED = 3,
	VERDICT_INACTIVE = 4,
	/* A Digital Link with a serial but no s= tag: nothing to check it
	 * against. Recorded without brand, batch or serial, as counterfeit
	 * scans are: it names no code sigil can vouch for. */
	VERDICT_UNVERIFIED = 5,
};
#define SCAN_VERDICTS	6	/* the verdicts above: counters per verdict */

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
	/* In the log only: brand_id holds attr_brand (see scan_rec). */
	SCAN_ATTRIBUTED = 1 << 9,
};

/* One scan as logged. Fixed-size binary value, see docs/storage.md. */
struct scan_rec {
	uint64_t	id;		/* assigned at commit, monotonic */
	int64_t		at;		/* microseconds */
	uint32_t	brand_id;	/* 0 when unknown (counterfeit) */
	/*
	 * The brand a scan counts for: brand_id for a known code; for a
	 * counterfeit one the brand whose key id the forged tag names, for
	 * an unverified one the brand holding its GTIN; 0 when none. Such a
	 * scan still has brand_id 0 (no per-code state, no code's history:
	 * its serial is not one sigil can vouch for); the log keeps
	 * attr_brand in brand_id's bytes with SCAN_ATTRIBUTED set, and only
	 * the dashboard counters and the counterfeit alert read it.
	 */
	uint32_t	attr_brand;
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
	/*
	 * The region of the scan's address (store/regions.h), 0 when none:
	 * a guess from the operator's database, low-confidence, never a
	 * clone or diversion signal. Logged. To record it, the caller sets
	 * place (in memory only; NULL: none) and store_scans_commit makes
	 * region from it, and region_province (in memory only) the id the
	 * by-province counters use.
	 */
	uint32_t	region;
	uint32_t	region_province;
	const struct geoip_place *place;
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

/*
 * The id just before the first scan logged at or after since (0: from
 * the log's start), by bisection over the ids: ids are given at commit,
 * so their times rise (a scan may be logged a little after its at: a
 * caller wanting every scan from a time seeks a minute earlier).
 */
int store_scan_seek(struct store *st, int64_t since, uint64_t *after);
/*
 * The scans with id < before (before 0: from the newest), newest first,
 * in one snapshot, reading at most budget log records: fn gets each
 * (with its location) for which keep (NULL: every one) says 1, and
 * stops the walk by returning nonzero (returned). *last is the id of
 * the last record read, where the next walk goes on (before = *last),
 * or 0 when the log's start was reached.
 */
int store_scan_back(struct store *st, uint64_t before, size_t budget,
    int (*keep)(void *arg, const struct scan_rec *r),
    int (*fn)(void *arg, const struct scan_rec *r), void *arg,
    uint64_t *last);
/* Every scan of one code, in id order (an index, no log scan). */
int store_code_scans(struct store *st, uint32_t brand_id, uint64_t serial,
    int (*fn)(void *arg, const struct scan_rec *r), void *arg);

#endif
