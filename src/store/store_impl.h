/*
 * store_impl.h - what the files of the storage module share, and nothing
 * outside it may include: the environment and its database handles, the
 * one shape of a read (STORE_READ), of a write (store_write,
 * STORE_WRITE_OUT) and of a walk (store_walk), the meta counters, the
 * byte encodings, and the few rows one family reads of another's.
 *
 * The module's files, bottom up; each calls only files above it in this
 * list (docs/storage.md has the tables each owns; scripts/layers.py
 * checks from the objects that they form no circle):
 *
 *   loop_guard.c      refuses a write transaction on an event-loop thread
 *   wal_replay.c      the log's record format, recovery after a crash
 *   wal.c             the write-ahead log: recording, commits, checkpoints
 *   store_env.c       transactions, growth, meta counters, walks
 *   store_scrub.c     zeroing what an erasure freed
 *   store_regions.c   the places scans come from (a dictionary of names)
 *   store_catalog.c   brands, keys, products, batches
 *   store_tokens.c    brand API tokens
 *   store_trace.c     distributors, the event log
 *   store_alerts.c    alerts: one per code and signal, their status
 *   store_pins.c      the PIN print files made per batch
 *   store_revoked.c   single codes a brand revoked
 *   store_custody.c   aggregation, shipments, a code's history
 *   store_scanlog.c   the scan log, locations, code_state rows, state rules
 *   store_state.c     the pending layer of per-code state
 *   store_notes.c     a brand's corrections to a code, and their notes
 *   store_erase.c     what an erasure rewrites beyond the customer row
 *   store_rows.c      the row helpers the late tables share
 *   store_segments.c  saved customer segments and the facts their criteria
 *                     read (store_erase.c, above, calls its
 *                     segfacts_erase: another call upwards)
 *   store_orders.c    redemption orders (store_erase.c, above, calls
 *                     its orders_erase: the one call upwards)
 *   store_payouts.c   the payout outbox of cash rewards, each campaign's
 *                     cash tallies, the brands' payment settings
 *   store_cash.c      a claim's cash, the day caps, payouts' erasure
 *                     (store_erase.c, above, calls its payouts_erase:
 *                     another call upwards) and merge
 *   store_counters.c  dashboard counters, distinct devices a day
 *   store_idents.c    customers' WeChat identities (hash -> customer,
 *                     customer -> sealed value; store_erase.c, above,
 *                     calls its ident_erase: a second call upwards)
 *   store_activity.c  the activity log's entries: checks, encoding, append
 *   store_feedback.c  feedback rows, fake reports' photos, rating drops
 *   store_customers.c customers, devices, one-time codes, activity
 *   ledger.c          the points arithmetic (calls nothing)
 *   store_ledger.c    the points ledger, the redemption catalog
 *   store_claims.c    campaigns, claims, PIN failures, loyalty settings
 *   store_users.c     dashboard users and sessions
 *   store_webhooks.c  webhook subscriptions and their cursors
 *   store_redirects.c redirect rules, each device's last location
 *   store_retention.c what a scan keeps after the brand's retention period
 *   store_content.c   landing-page content documents and images
 *   store_links.c     the brand's GS1 links (the resolver's link store)
 *   store_audit.c     the audit trail: who changed what, per brand
 *   store_consent.c   privacy notices, the consent ledger, profiles
 *   store_sellers.c   retail stores, their sellers, codes bound to them
 *                     (store_erase.c, above, calls its sellers_erase)
 *   store_scans.c     a scan committed, a location stored, a code's scans
 *   store_outbox.c    the message outbox: queued, due, settled
 *   store_messages.c  lifecycle message definitions, their runs, marks
 *   store_merge.c     two customers made one: calls every table's move
 *   store_wechat.c    a WeChat login in one transaction (a merge when
 *                     the device was another customer's), the brands'
 *                     WeChat apps, spent OAuth states
 *   store_open.c      open and close: assembles all of the above
 *
 * (store_scans.c, store_claims.c and store_ledger.c call the dashboard
 * counters, stats_*, in store_counters.c; store_counters.c never calls
 * them.)
 *
 * Rules for every file: only the storage module includes lmdb.h; no file
 * calls another sigil module but util.c (and fault.h's test hooks), or
 * logs anything (but loop_guard.c, its first refusal); a write closure
 * never touches caller memory (its results are copied out once the
 * commit succeeded, since a commit that fails with MDB_MAP_FULL is run
 * again from the start); every value is decoded into caller memory
 * before its transaction ends, so no pointer into the map ever leaves
 * the module.
 */
#ifndef SIGIL_STORE_IMPL_H
#define SIGIL_STORE_IMPL_H

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "sigil/store.h"
#include "sigil/util.h"

#define CODE_KEY_LEN		9	/* brand BE32 || serial 40-bit BE */
/* Named databases; LMDB's handles for them are 2 .. STORE_DBI_MAX + 1
 * (0 and 1 are its own), the size of dbnames. */
#define STORE_DBI_MAX		128

struct rslot;
struct wal;
struct pend;
struct pend_round;

struct store {
	MDB_env		*env;
	int		 flags;
	MDB_dbi		 meta, brands, brand_names, keys, products, gtins;
	MDB_dbi		 batches, batch_ranges, scans, code_state, code_scans;
	MDB_dbi		 scan_locs;
	MDB_dbi		 tokens, token_ids, distributors, parents, children;
	MDB_dbi		 shipments, shipped, events, brand_events, code_events;
	MDB_dbi		 batch_events, alerts, brand_alerts;
	/* the late tables (store_customers.c ... store_counters.c) */
	MDB_dbi		 customers, customer_phones, device_links;
	MDB_dbi		 customer_devices, otps, campaigns, campaign_usage;
	MDB_dbi		 claims, claim_days, pin_fails, ledger, items;
	MDB_dbi		 brand_settings, activity, webhooks, users;
	MDB_dbi		 user_emails, sessions, counters, device_days;
	MDB_dbi		 code_notes;	/* store_notes.c */
	MDB_dbi		 redirects, redirect_ids, device_locs;	/* store_redirects.c */
	MDB_dbi		 content, images;	/* store_content.c */
	int		 trace_absent;	/* RDONLY open of a pre-trace store */
	int		 loyalty_absent;	/* ... of a pre-loyalty store */
	int		 notes_absent;	/* ... of a store without code_notes */
	int		 redirects_absent;	/* ... without redirect rules */
	int		 content_absent;	/* ... without content, images */
	MDB_dbi		 links;		/* store_links.c */
	MDB_dbi		 alert_codes;	/* store_alerts.c */
	int		 alert_codes_absent;	/* ... without alert_codes */
	MDB_dbi		 pin_files;	/* store_pins.c */
	int		 pin_files_absent;	/* ... without pin_files */
	MDB_dbi		 code_revocations;	/* store_revoked.c */
	int		 code_revocations_absent;	/* ... without it */
	int		 links_absent;	/* ... of a store without links */
	MDB_dbi		 orders;	/* store_orders.c */
	int		 orders_absent;	/* ... of a store without orders */
	/* store_ledger.c: brand || EARN entry id -> its campaign; read and
	 * written in write transactions only (none in a read-only open). */
	MDB_dbi		 earn_campaigns;
	MDB_dbi		 audit;		/* store_audit.c */
	int		 audit_absent;	/* ... of a store without it */
	MDB_dbi		 regions, region_keys;	/* store_regions.c */
	int		 regions_absent;	/* ... of a store without them */
	MDB_dbi		 notices, consents, profiles;	/* store_consent.c */
	int		 consent_absent;	/* ... of a store without them */
	/* store_idents.c, store_wechat.c: WeChat identities, apps, states */
	MDB_dbi		 identities, customer_idents;
	MDB_dbi		 wechat_config, wechat_appids, wechat_states;
	int		 idents_absent;	/* ... of a store without them */
	/* store_outbox.c, store_messages.c: the outbox, message definitions */
	MDB_dbi		 outbox, outbox_due, outbox_cust;
	MDB_dbi		 messages, message_marks;
	int		 messages_absent;	/* ... of a store without them */
	MDB_dbi		 segments, segment_facts;	/* store_segments.c */
	int		 segments_absent;	/* ... of a store without it */
	MDB_dbi		 bonuses;	/* store_bonuses.c */
	int		 bonuses_absent;	/* ... of a store without it */
	/* store_sellers.c: retail stores, sellers, bindings of codes */
	MDB_dbi		 shops, sellers, bindings, seller_codes;
	int		 sellers_absent;	/* ... of a store without them */
	/* store_feedback.c: feedback rows, photos, rating-drop state */
	MDB_dbi		 feedback, feedback_photos, feedback_alerts;
	int		 feedback_absent;	/* ... of a store without them */
	MDB_dbi		 notify_rules;	/* store_notify.c */
	int		 notify_absent;	/* ... of a store without it */
	/* store_payouts.c, store_cash.c: cash rewards (issue 22) */
	MDB_dbi		 payouts, payout_due, payout_cust, cash_usage;
	MDB_dbi		 cash_days, pay_settings;
	int		 payouts_absent;	/* ... of a store without them */
	/* store_open.c: meta "installation_id", once a writer made it */
	uint8_t		 install_id[STORE_INSTALL_ID_LEN];
	int		 install_known;
	pthread_rwlock_t grow_lock;
	pthread_key_t	 slot_key;
	pthread_mutex_t	 slots_mu;
	struct rslot	*slots;
	/* store_state.c: per-code state not yet in code_state */
	struct pend	*pend;
	pthread_mutex_t	 state_mu;	/* readers of pend vs its writer */
	pthread_mutex_t	 state_write_mu;	/* one writer of pend */
	/* wal.c: the write-ahead log, and the names the log uses */
	struct wal	*wal;
	uint64_t	 replayed;	/* log transactions applied at open */
	const char	*dbnames[STORE_DBI_MAX + 2];
};

/*
 * ---- the write-ahead log (wal.c) ----
 *
 * Every change a write transaction makes goes through these, which
 * record it when the transaction is to be logged (the macros below route
 * the storage files' calls here; wal.c itself sees LMDB's).
 */
int wal_put(MDB_txn *txn, MDB_dbi dbi, MDB_val *k, MDB_val *v,
    unsigned flags);
int wal_del(MDB_txn *txn, MDB_dbi dbi, MDB_val *k, MDB_val *v);
int wal_cursor_put(MDB_cursor *cur, MDB_val *k, MDB_val *v, unsigned flags);
int wal_cursor_del(MDB_cursor *cur, unsigned flags);
#ifndef WAL_IMPL
#define mdb_put(t, d, k, v, f)		wal_put(t, d, k, v, f)
#define mdb_del(t, d, k, v)		wal_del(t, d, k, v)
#define mdb_cursor_put(c, k, v, f)	wal_cursor_put(c, k, v, f)
#define mdb_cursor_del(c, f)		wal_cursor_del(c, f)
#endif

/*
 * ---- the loop guard (loop_guard.c, loop_guard.h) ----
 *
 * Every write transaction of the storage files begins here: on a thread
 * marked as an event loop, with the guard on, it is refused with
 * SIGIL_EDENIED (store_write returns it); reads and other threads pass
 * straight to LMDB.
 */
int loop_guard_txn_begin(MDB_env *env, MDB_txn *parent, unsigned flags,
    MDB_txn **txn);
#ifndef LOOP_GUARD_IMPL
#define mdb_txn_begin(e, p, f, t)	loop_guard_txn_begin(e, p, f, t)
#endif

/*
 * Before mdb_env_open: takes the store's locks and, after an unclean stop
 * of the log's owner, puts data.mdb back at the last checkpoint and
 * applies the log (*replayed: transactions applied). *out stays NULL for
 * a read-only open of a store that never had a log. SIGIL_EBUSY: another
 * process owns the log (STORE_WAL), or holds the store open while it
 * needs recovery.
 */
int wal_open(const char *dir, int flags, struct wal **out,
    uint64_t *replayed);
/* STORE_WAL, after the databases are open: first checkpoint, thread. */
int wal_own(struct store *st, MDB_env *env);
/* After mdb_txn_begin of every write transaction. */
void wal_txn_begin(struct store *st);
/* Logs the transaction if it must be, then commits it (LMDB codes). */
int wal_txn_commit(struct store *st, MDB_txn *txn);
/* Owner: last checkpoint, log marked clean. Everyone: locks dropped. */
void wal_close(struct store *st);
/* Deletes other processes' logged transactions up to id upto. */
void wal_clear_foreign(const char *dir, uint64_t upto);

/* ---- encodings: integers in values are little-endian, keys big ---- */

static inline void
le16_put(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline uint16_t
le16_get(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline void
le32_put(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

static inline uint32_t
le32_get(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static inline void
le64_put(uint8_t *p, uint64_t v)
{
	le32_put(p, (uint32_t)v);
	le32_put(p + 4, (uint32_t)(v >> 32));
}

static inline uint64_t
le64_get(const uint8_t *p)
{
	return le32_get(p) | (uint64_t)le32_get(p + 4) << 32;
}

/*
 * A row's strings, one after another from off on, each a 16-bit length
 * and its bytes: lstrs_put writes the n of s and returns where they end;
 * lstrs_get reads n of them (of the size bytes at p) into s, caps[i]
 * bytes with the NUL, and returns where they end, 0 when one is cut
 * short or too long for its field.
 */
static inline size_t
lstrs_put(uint8_t *p, size_t off, const char *const *s, int n)
{
	for (int i = 0; i < n; i++) {
		size_t len = strlen(s[i]);

		le16_put(p + off, (uint16_t)len);
		memcpy(p + off + 2, s[i], len);
		off += 2 + len;
	}
	return off;
}

static inline size_t
lstrs_get(const uint8_t *p, size_t size, size_t off, char *const *s,
    const size_t *caps, int n)
{
	for (int i = 0; i < n; i++) {
		size_t len;

		if (off + 2 > size)
			return 0;
		len = le16_get(p + off);
		if (len >= caps[i] || off + 2 + len > size)
			return 0;
		memcpy(s[i], p + off + 2, len);
		s[i][len] = '\0';
		off += 2 + len;
	}
	return off;
}

static inline void
lef32_put(uint8_t *p, float f)
{
	uint32_t u;

	memcpy(&u, &f, 4);
	le32_put(p, u);
}

static inline float
lef32_get(const uint8_t *p)
{
	uint32_t u = le32_get(p);
	float f;

	memcpy(&f, &u, 4);
	return f;
}

static inline void
code_key_put(uint8_t *p, uint32_t brand_id, uint64_t serial)
{
	sigil_be32_put(p, brand_id);
	for (int i = 8; i >= 4; i--, serial >>= 8)
		p[i] = (uint8_t)serial;
}

/* brand BE32 || id BE32: distributors, campaigns, usage, items, webhooks. */
static inline void
bid_key(uint8_t *p, uint32_t brand_id, uint32_t id)
{
	sigil_be32_put(p, brand_id);
	sigil_be32_put(p + 4, id);
}

static inline MDB_val
mval(const void *p, size_t n)
{
	MDB_val v = { n, (void *)p };

	return v;
}

static inline MDB_val
meta_key(const char *name)
{
	return mval(name, strlen(name));
}

/*
 * An LMDB or errno code as a SIGIL_E* code (SIGIL_E* pass through). LMDB
 * codes are all below -30000 or positive errno; SIGIL_E* are small.
 */
static inline int
map_err(int rc)
{
	if (rc <= 0 && rc >= SIGIL_EDENIED)
		return rc;
	switch (rc) {
	case MDB_NOTFOUND:	return SIGIL_ENOTFOUND;
	case MDB_KEYEXIST:	return SIGIL_EEXIST;
	case ENOMEM:		return SIGIL_ENOMEM;
	case MDB_MAP_FULL:	return SIGIL_EFULL;
	}
	return SIGIL_EIO;
}

/*
 * A tuning knob from the environment: the whole number in variable name
 * when it is within min..max, else dflt.
 */
static inline size_t
env_size(const char *name, size_t dflt, size_t min, size_t max)
{
	const char *e = getenv(name);
	uint64_t v;

	if (e != NULL && *e != '\0' &&
	    sigil_parse_u64(e, max, &v) == 0 && v >= min)
		return (size_t)v;
	return dflt;
}

/* Printable text: no C0 controls or DEL, and at most max bytes. */
int text_ok(const char *s, size_t cap, size_t max, int allow_empty);

/* ---- the environment (store_env.c) ---- */

/*
 * store_open's first step and store_close's: the growth lock, the reader
 * slots' list and their thread key. env_fini ends every slot's read
 * transaction, so it runs before the environment closes.
 */
int env_init(struct store *st);
void env_fini(struct store *st);

/* ---- transactions (store_env.c) ---- */

/* Opens (or joins) the thread's snapshot. Pair with read_end(). */
int read_begin(struct store *st, MDB_txn **out);
void read_end(struct store *st);

/*
 * STORE_READ(st, expr): evaluates expr (an int: 0, a SIGIL_E* or an LMDB
 * code) with `txn` bound to the thread's reused read snapshot, ends the
 * snapshot and gives the result as a SIGIL_E* code. The one way to read
 * a row:
 *
 *	return STORE_READ(st, brand_load(st, txn, id, out));
 */
#define STORE_READ(st, expr) __extension__ ({				\
	MDB_txn *txn;							\
	int store_read_rc_ = read_begin((st), &txn);			\
	if (store_read_rc_ == 0) {					\
		store_read_rc_ = (expr);				\
		read_end(st);						\
	}								\
	map_err(store_read_rc_);					\
})

/*
 * A write closure: returns 0, a SIGIL_E* code or an LMDB code; nonzero
 * aborts. It may run more than once (map growth), so it must not change
 * anything outside its transaction but its own context.
 */
typedef int (*write_fn)(struct store *st, MDB_txn *txn, void *arg);
int store_write(struct store *st, write_fn fn, void *arg);

/*
 * A rider (store_audit.c's armed entry): store_write runs put(st, txn,
 * arg) after fn succeeded in the next write transaction of st on this
 * thread, so both commit together, and sets done once one has
 * committed; put runs again if the transaction is run again. NULL ends
 * it. Through a pointer, so store_env.c calls nothing above it.
 */
struct txn_rider {
	struct store	*st;
	write_fn	 put;
	void		*arg;
	int		 done;
};
void txn_rider_set(struct txn_rider *r);

/*
 * STORE_WRITE_OUT(st, fn, arg, res, dst): the one shape of a write whose
 * result goes back to the caller. arg points to the closure's context,
 * on the caller's stack: the inputs copied in, and res, which fn fills.
 * Once store_write has committed, res is copied to *dst (unless dst is
 * NULL); after a failure the caller's memory is as it was. Gives
 * store_write's code. store_write_out is the same with a size, for a
 * caller that copies a row whose type it does not know:
 *
 *	work = *b;
 *	work.created = sigil_now_us();
 *	return STORE_WRITE_OUT(st, brand_add_fn, &work, work, b);
 */
#define STORE_WRITE_OUT(st, fn, arg, res, dst)				\
	store_write_out((st), (fn), (arg), (dst), &(res), sizeof(res))
int store_write_out(struct store *st, write_fn fn, void *ctx, void *out,
    const void *res, size_t size);

/* ---- helpers every family shares (store_env.c) ---- */

/* qsort/bsearch order of uint64_t. */
int u64_cmp(const void *a, const void *b);

/* The value under id (a BE64 key) in dbi: mdb_get's code. */
int id_get(MDB_txn *txn, MDB_dbi dbi, uint64_t id, MDB_val *v);
/*
 * The id a unique-name index (brand_names, user_emails: name -> BE32)
 * holds for name: mdb_get's code, SIGIL_EIO for a malformed value.
 */
int name_index_get(MDB_txn *txn, MDB_dbi dbi, const char *name,
    uint32_t *id);

/* A growable list of u64, for ids collected inside a transaction. */
struct u64vec {
	uint64_t	*v;
	size_t		 n, cap;
};
/* Appends x; makes room for n in all. 0 or SIGIL_ENOMEM (a unchanged). */
int u64vec_push(struct u64vec *a, uint64_t x);
int u64vec_reserve(struct u64vec *a, size_t n);

/*
 * A cursor walk over one table, the one shape of every *_each. The
 * cursor starts (how) at the first row, at the last one going backwards,
 * at the first key >= key, or on key's duplicates; row(ctx, txn, k, v,
 * stop) sees each row in turn and ends the walk by returning nonzero (an
 * error; MDB_NOTFOUND to end it cleanly, as at a key range's end) or by
 * setting *stop (the value a caller's callback returned). txn_walk runs
 * inside txn and returns row's code, 0 at the end. store_walk runs in the
 * thread's read snapshot and returns what the *_each functions promise:
 * the stop value when set, else 0 or a SIGIL_E* code.
 */
enum walk_how { WALK_FIRST, WALK_LAST, WALK_RANGE, WALK_DUPS };
typedef int (*walk_fn)(void *ctx, MDB_txn *txn, MDB_val k, MDB_val v,
    int *stop);
int txn_walk(MDB_txn *txn, MDB_dbi dbi, enum walk_how how, MDB_val key,
    walk_fn row, void *ctx, int *stop);
int store_walk(struct store *st, MDB_dbi dbi, enum walk_how how, MDB_val key,
    walk_fn row, void *ctx);
/* The same backwards, from the last row below key (exclusive). */
int store_walk_before(struct store *st, MDB_dbi dbi, MDB_val key,
    walk_fn row, void *ctx);

/*
 * A typed *_each over store_walk. Its context is a struct each_ctx: the
 * caller's callback, int (*)(void *arg, const type *row), kept as an
 * any_fn and called back through its own type, its argument, and what
 * reading a row may need (the store, the brand walked).
 * EACH_ROW(name, type, load, keep) defines name, the walk_fn: load(c,
 * txn, k, v, &row) reads the row (0, or a code that ends the walk:
 * MDB_NOTFOUND ends it cleanly); a row for which keep, an expression of
 * row and c, is false is passed over, the others go to the callback.
 */
typedef void (*any_fn)(void);
struct each_ctx {
	struct store	*st;
	uint32_t	 brand_id;
	any_fn		 fn;
	void		*arg;
};
#define EACH_ROW(name, type, load, keep)				\
static int								\
name(void *ctx, MDB_txn *txn, MDB_val k, MDB_val v, int *stop)		\
{									\
	const struct each_ctx *c = ctx;					\
	type row;							\
	int rc = load(c, txn, k, v, &row);				\
									\
	if (rc == 0 && (keep))						\
		*stop = ((int (*)(void *, const type *))c->fn)(c->arg,	\
		    &row);						\
	return rc;							\
}
/* Every 8-byte duplicate of key k in a DUPFIXED table, appended to out. */
int dups_collect(MDB_txn *txn, MDB_dbi dbi, MDB_val k, struct u64vec *out);
/*
 * Puts code keys (brand_id, serials[i]) -> val through one cursor,
 * appending while a key sorts after everything in the table.
 */
int codes_put(MDB_txn *txn, MDB_dbi dbi, uint32_t brand_id,
    const uint64_t *serials, size_t n, MDB_val val);

/* ---- meta counters (store_env.c): 64-bit values under string keys ---- */
/*
 * A little-endian 64-bit value under k in dbi, in txn: 0 and *out = 0
 * when there is none; SIGIL_EIO when the value is not 8 bytes (*out
 * untouched then).
 */
int u64_row_get(MDB_txn *txn, MDB_dbi dbi, MDB_val k, uint64_t *out);
int meta_get(struct store *st, MDB_txn *txn, MDB_val k, uint64_t *out);
int meta_put(struct store *st, MDB_txn *txn, MDB_val k, uint64_t val);
int meta_add(struct store *st, MDB_txn *txn, const char *name,
    uint64_t delta);
/* Returns the counter (first value 1) and advances it; EFULL past max. */
int meta_next(struct store *st, MDB_txn *txn, MDB_val k, uint64_t n,
    uint64_t max, uint64_t *out);

/* ---- the catalog (store_catalog.c): rows other families read ---- */

/* A brand, a batch by id; SIGIL_ENOTFOUND, SIGIL_EIO, LMDB codes. */
int brand_load(struct store *st, MDB_txn *txn, uint32_t id,
    struct brand *out);
int batch_load(struct store *st, MDB_txn *txn, uint64_t id,
    struct batch *out);
/* The batch of brand_id that holds serial (a range lookup). */
int batch_find(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t serial, struct batch *out);

/* ---- the scan log and code_state's row (store_scanlog.c) ---- */

#define SCAN_REC_LEN		48	/* a scans value ... */
#define SCAN_REC_REGION_LEN	52	/* ... with a region id */
#define SCAN_LOC_LEN		18	/* a scan_locs value ... */
#define SCAN_LOC_FLAGS_LEN	19	/* ... with a locate-time flags byte */
#define LOC_FLAGS_KEPT		(SCAN_DIVERSION | SCAN_CLONE_SCANNERS | \
				    SCAN_CLONE_TRAVEL)
/*
 * In a 19-byte scan_locs value's flags byte: the brand's retention took
 * the coordinates away (store_retention.c). Readers then see no location,
 * only the kept flags.
 */
#define LOC_REDUCED		0x80

/* A log record (no location: see scan_locs); returns its length,
 * SCAN_REC_LEN, or SCAN_REC_REGION_LEN when r has a region. */
size_t scan_encode(const struct scan_rec *r, uint8_t *p);
/* A scan_locs value's first SCAN_LOC_LEN bytes. */
void loc_encode(uint8_t *p, float lat, float lng, uint16_t accuracy_m,
    int64_t at);
/* Finite and on the globe. */
int loc_valid(float lat, float lng);
/* The scan as logged, its location applied if one was stored. */
int scan_load(struct store *st, MDB_txn *txn, uint64_t id,
    struct scan_rec *out);
/* A code_state value (the short form reads its scan from the log). */
int state_decode(struct store *st, MDB_txn *txn, MDB_val v,
    struct code_state *out);

/* ---- regions (store_regions.c) ---- */

/*
 * The region id of place p (made, with its parents, if new) and the id
 * its by-province counters use. In a write transaction. SIGIL_EINVAL
 * for a place without a country or a store without the tables.
 */
int region_resolve(struct store *st, MDB_txn *txn, const struct geoip_place *p,
    uint32_t *region, uint32_t *province);
/* store_region_get inside txn. */
int region_load(struct store *st, MDB_txn *txn, uint32_t id,
    struct store_region *out);

/* ---- trace (store_trace.c), for the chain of custody and the scans ---- */

/* 0 when the brand has distributor id, else MDB_NOTFOUND or an error. */
int distributor_exists(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint32_t id);
/*
 * Appends ev (at, type and fields already checked) and its indexes;
 * sets ev->id.
 */
int event_append(struct store *st, MDB_txn *txn, struct trace_event *ev);
/* store_custody.c: the direct parent of serial: 0, MDB_NOTFOUND or an
 * error (store_sellers.c walks up to a code's binding). */
int parent_get(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t serial, uint64_t *out);
/* Event id, its serials in buf (reused between calls); EIO if missing. */
int event_load(struct store *st, MDB_txn *txn, uint64_t id,
    struct trace_event *ev, struct u64vec *buf);

/*
 * One alert per evidence flag in flags (SCAN_CLONE_*, SCAN_DIVERSION) for
 * the judged scan r, at time at: the scan path writes them in its own
 * transaction.
 */
int scan_alerts(struct store *st, MDB_txn *txn, const struct scan_rec *r,
    unsigned flags, int64_t at);
/*
 * A counterfeit scan attributed to a brand got its place (locate): the
 * brand's ALERT_COUNTERFEIT takes it, unless it holds a later scan's.
 */
int scan_alert_place(struct store *st, MDB_txn *txn,
    const struct scan_rec *r);

/* ---- per-code state (store_scanlog.c encodes, store_state.c keeps pending) */

/* The flags a code's state keeps once any scan of it raised them. */
#define STATE_STICKY	(SCAN_CLONE_SCANNERS | SCAN_CLONE_TRAVEL | \
			    SCAN_CLAIMED_OTHER)

/* code_state's row for key, zeroed when there is none. */
int state_load(struct store *st, MDB_txn *txn, const uint8_t *key,
    struct code_state *out);
/* Writes code_state's row; SIGIL_EINVAL for too many scanners. */
int state_store(struct store *st, MDB_txn *txn, const uint8_t *key,
    const struct code_state *s);

int pend_init(struct store *st);
void pend_free(struct store *st);
/*
 * Replays the log tail into the pending view once per handle (again
 * after pend_invalidate); _locked with state_write_mu held.
 */
int pend_ready(struct store *st);
int pend_ready_locked(struct store *st);
/* Drops the view after a failed write (it may have committed). */
void pend_invalidate(struct store *st);
/*
 * A reader's view of key's pending state: 1 and *out if the code has
 * pending state, 0 if code_state holds all of it, SIGIL_ENOMEM. With ids,
 * also a malloc'd copy of its scan ids not yet in code_scans (caller
 * frees). Look here before taking a snapshot: a merge that commits in
 * between then cannot hide anything.
 */
int pend_view(struct store *st, const uint8_t *key, struct code_state *out,
    uint64_t **ids, size_t *nids);
/* The writing thread's view inside its transaction: pending or row. */
int pend_view_w(struct store *st, MDB_txn *txn, const uint8_t *key,
    struct code_state *out);

/*
 * A commit's round: the states of the codes it touches, each loaded on
 * first use from the pending view or code_state, and the scan ids to
 * index. pend_round_apply moves it into the pending layer after the
 * commit; capacity for it must be reserved (pend_reserve) before.
 */
int pend_round_new(size_t n, struct pend_round **out);
void pend_round_free(struct pend_round *r);
void pend_round_reset(struct pend_round *r);
int pend_round_state(struct store *st, MDB_txn *txn, struct pend_round *r,
    const uint8_t *key, struct code_state **out, size_t *index);
void pend_round_id(struct pend_round *r, size_t index, uint64_t id);
int pend_reserve(struct store *st, size_t n);
void pend_round_apply(struct store *st, struct pend_round *r,
    uint64_t last_id);

/*
 * Merging: how many codes a round of n scans should merge (0: nothing
 * frozen); pend_merge_some writes up to max of them inside txn and says
 * where it got to; pend_merged records that once the commit succeeded.
 */
size_t pend_merge_due(struct store *st, size_t n);
int pend_merge_some(struct store *st, MDB_txn *txn, size_t max,
    size_t *pos);
void pend_merged(struct store *st, size_t pos);

/* A location: its change to code_state's row, then to pending entries. */
int pend_locate_base(struct store *st, MDB_txn *txn, const uint8_t *key,
    const struct code_state *judged);
void pend_locate_apply(struct store *st, const uint8_t *key,
    const struct code_state *judged);
/*
 * The brand's clear of a code's clone evidence (store_code_clear): what
 * it does to a state (a state rule, store_scanlog.c), then to the code's
 * pending entries.
 */
void state_clear(struct code_state *s, uint64_t through);
void pend_clear_apply(struct store *st, const uint8_t *key, uint64_t through);
/* Erasure: the last place of key's pending entries to 0.1 degree. */
void pend_coarsen(struct store *st, const uint8_t *key);
/* Retention: the last place of key's pending entries, if before cutoff. */
void pend_unlocate(struct store *st, const uint8_t *key, int64_t cutoff);

/*
 * ---- a brand's corrections to a code (store_notes.c) ----
 *
 * A correction (store_code_clear, store_pin_unlock) changes one code and
 * writes its note in the same transaction. correction_init checks serial
 * and the note's reason (SIGIL_EINVAL) and sets the code key;
 * store_write(st, correction_fn, c) then runs c->change and writes the
 * note.
 */
struct correction;
typedef int (*correct_fn)(struct store *st, MDB_txn *txn,
    struct correction *c);
struct correction {
	uint8_t			 ck[CODE_KEY_LEN];
	struct code_note	*note;
	correct_fn		 change;
};
int correction_init(struct correction *c, uint32_t brand_id,
    uint64_t serial, struct code_note *note, correct_fn change);
int correction_fn(struct store *st, MDB_txn *txn, void *p);

/*
 * ---- a device's last located scan (store_redirects.c) ----
 *
 * Inside store_scan_locate's transaction: the place of brand_id's device
 * is now (lat, lng) at time at (device 0 or brand 0: nothing).
 */
int device_loc_put(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t device, float lat, float lng, int64_t at);

/* ---- erasure (store_erase.c) and the physical scrub (store_scrub.c) ---- */

/* x rounded to 0.1 (a location kept after erasure). */
static inline float
erase_coarse(float x)
{
	return (float)(round((double)x * 10.0) / 10.0);
}
/*
 * Inside erase_fn's transaction: the otps row, activity texts and refs,
 * claims' customer id, precise locations, hash-keyed tables rebuilt.
 * *codes_out (malloc'd, 9-byte code keys) are the codes whose pending
 * entries pend_coarsen must see after the commit.
 */
int erase_rows(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t id, const uint8_t hash[32], const uint64_t *devices,
    size_t ndev, uint8_t **codes_out, size_t *ncodes_out);
/*
 * wal.c, the owner only, with the write lock held (txn open, nothing
 * written): checkpoints the last commit, waits for it to be on disk and
 * zeroes both segments. 0 (also when there is no owned log), SIGIL_EIO.
 */
int wal_scrub(struct store *st, MDB_txn *txn);
/* The page a checkpoint fingerprinted (0: none), the checkpoint idle. */
uint64_t wal_fp_page(struct store *st);

/* ---- dashboard counters kept inside scan transactions (store_counters.c) */

#define STAT_ACC_MAX	64

/*
 * Counter increments of one transaction, summed in memory and written
 * once at the end: a group commit of a thousand scans of one batch then
 * costs a handful of puts, not thousands. The last batch looked up is
 * cached for its SKU hash.
 */
struct stat_acc {
	size_t		 n;
	struct {
		uint8_t	 key[18];
		int64_t	 delta;
	} e[STAT_ACC_MAX];
	uint64_t	 batch_id;	/* cached batch, 0 = none */
	uint64_t	 sku_hash;
	int		 batch_known;
	uint32_t	 pruned_brand;	/* device sets pruned for this */
	uint32_t	 pruned_day;	/* brand and day */
};

/* Counts the judged scan r (human scans of a known brand only). */
int stats_scan(struct store *st, MDB_txn *txn, struct stat_acc *acc,
    const struct scan_rec *r);
/* Counts a location stored for r; added are the flags locate added. */
int stats_locate(struct store *st, MDB_txn *txn, struct stat_acc *acc,
    const struct scan_rec *r, unsigned added);
/* Counts r by its address's region (delta 1), or takes it back (-1). */
int stats_region(struct store *st, MDB_txn *txn, struct stat_acc *acc,
    const struct scan_rec *r, int64_t delta);
/* Writes the sums and empties acc. */
int stats_flush(struct store *st, MDB_txn *txn, struct stat_acc *acc);
/* Adds delta to a counter in acc (claims, redemptions: enum stat_kind). */
int stats_add(struct store *st, MDB_txn *txn, struct stat_acc *acc,
    uint32_t brand_id, int kind, int dim, uint64_t key, uint32_t hour,
    int64_t delta);
/* The hour bucket of time at: 0 when it has none (before 1970, ...). */
int stats_hour(int64_t at, uint32_t *out);

/*
 * ==== the late tables' common ground (store_rows.c) ====
 *
 * What the files of the late tables share: store_customers.c,
 * store_claims.c, store_ledger.c, store_users.c, store_webhooks.c and
 * store_counters.c. Their tables came at schema 1 (loyalty_absent): a
 * read-only open of an older store reads them as empty.
 */

#define HOUR_US		(3600LL * 1000000)
#define DAY_US		(86400LL * 1000000)

/* a / b rounded down (times before 1970 fall in the hour before). */
static inline int64_t
floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* The next id of a global sequence (meta counter name), from 1. */
static inline int
rows_global_id(struct store *st, MDB_txn *txn, const char *name,
    uint64_t *out)
{
	return meta_next(st, txn, meta_key(name), 1, UINT64_MAX - 1, out);
}

/* 0 if brand_id is a brand, SIGIL_ENOTFOUND, an LMDB code. */
int brand_exists(struct store *st, MDB_txn *txn, uint32_t brand_id);
/* JSON text the store keeps for loyalty.c: bounded and well-formed. */
int json_text_ok(const char *s, size_t max);

/*
 * A JSON-configured row (campaigns, segments, message definitions): key
 * bid_key(brand_id, id); value created and updated (le64 each), then
 * extra_len bytes of the table's own fixed fields, then the JSON text
 * (no NUL).
 */
struct json_row {
	uint32_t	 brand_id;
	uint32_t	 id;
	int64_t		 created;
	int64_t		 updated;
	char		*json;
};
#define JSON_ROW_FIXED	16
/* Puts r, with extra (extra_len bytes, may be 0), into dbi in txn. */
int json_row_put(MDB_txn *txn, MDB_dbi dbi, const struct json_row *r,
    const uint8_t *extra, size_t extra_len);
/*
 * Decodes (k, v) into *out with the JSON malloc'd (the caller frees it)
 * and *extra pointing at the extra_len bytes after the times, inside v.
 * SIGIL_EIO when the row is short or its JSON is longer than max;
 * SIGIL_ENOMEM. *out is set on success only.
 */
int json_row_decode(MDB_val k, MDB_val v, size_t extra_len, size_t max,
    struct json_row *out, const uint8_t **extra);

/*
 * Puts (val != NULL) or deletes one row in its own write transaction; a
 * put first checks that brand_id exists unless it is 0.
 */
int rows_write(struct store *st, MDB_dbi dbi, const uint8_t *key,
    size_t klen, const uint8_t *val, size_t vlen, uint32_t brand_id);

/* Writes row (a table's struct) as its table's row, in txn. */
typedef int (*put_fn)(struct store *st, MDB_txn *txn, const void *row);
/*
 * Adds row (the caller's working copy of its struct) to dbi, a table
 * keyed by bid_key(): brand_id must exist, *id (inside row) gets the
 * brand's next id, put writes it; once committed, size bytes of row go
 * to out.
 */
int rows_add(struct store *st, MDB_dbi dbi, put_fn put, void *row,
    uint32_t brand_id, uint32_t *id, void *out, size_t size);

/* Decodes a row (k, v) into out: 0 or SIGIL_EIO. */
typedef int (*decode_fn)(MDB_val k, MDB_val v, void *out);
/* One row by key in txn, decoded into out (MDB_NOTFOUND, SIGIL_EIO). */
int rows_load(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen,
    decode_fn dec, void *out);
/* rows_load in the thread's snapshot (STORE_READ): a SIGIL_E* code. */
int rows_get(struct store *st, MDB_dbi dbi, const void *key, size_t klen,
    decode_fn dec, void *out);
/* rows_get of a table keyed by bid_key(). */
int rows_get_bid(struct store *st, MDB_dbi dbi, uint32_t brand_id,
    uint32_t id, decode_fn dec, void *out);
/*
 * A brand's JSON text in dbi, a table of one row per brand keyed by its
 * big-endian brand_id (brand settings, payment settings): get copies it
 * into *json (NUL-terminated, the caller frees it; set on success only);
 * put checks it (json_text_ok against max: SIGIL_EINVAL) and writes it
 * through rows_write.
 */
int rows_text_get(struct store *st, MDB_dbi dbi, uint32_t brand_id,
    char **json);
int rows_text_put(struct store *st, MDB_dbi dbi, uint32_t brand_id,
    const char *json, size_t max);

/*
 * Walks: calls step for each row whose key starts with the first plen
 * bytes of start, from start on, in key order. step returns 0 to go on;
 * anything else ends the walk and is returned (rows_walk_txn: in *stop).
 * rows_walk and rows_each take the thread's snapshot; a callback may
 * call the store's read functions, which join it.
 */
typedef int (*step_fn)(MDB_val k, MDB_val v, void *ctx);
int rows_walk_txn(MDB_txn *txn, MDB_dbi dbi, const uint8_t *start,
    size_t slen, size_t plen, step_fn step, void *ctx, int *stop);
int rows_walk(struct store *st, MDB_dbi dbi, const uint8_t *start,
    size_t slen, size_t plen, step_fn step, void *ctx);

/* A caller's callback (any_fn, store_walk's section), and its argument. */
struct cb_ctx {
	any_fn	 fn;
	void	*arg;
};
/* rows_walk with step handed a struct cb_ctx of fn and arg. */
int rows_each(struct store *st, MDB_dbi dbi, const uint8_t *start,
    size_t slen, size_t plen, step_fn step, any_fn fn, void *arg);
/*
 * ROWS_EACH_STEP(name, type, decode) defines name, the step of a
 * rows_each that decodes each row into a type and calls the caller's
 * callback, int (*)(void *arg, const type *row), through its own type.
 */
#define ROWS_EACH_STEP(name, type, decode)				\
static int								\
name(MDB_val k, MDB_val v, void *p)					\
{									\
	const struct cb_ctx *c = p;					\
	type row;							\
	int rc = decode(k, v, &row);					\
									\
	if (rc != 0)							\
		return rc;						\
	return ((int (*)(void *, const type *))c->fn)(c->arg, &row);	\
}

/* ---- what a late table's file offers the ones above it ---- */

/* store_orders.c: an order's check (0 or SIGIL_EINVAL), its row written
 * in the redemption's transaction, and the erasure of a customer's
 * delivery details. */
int order_check(const struct redeem_order *o);
int order_put(struct store *st, MDB_txn *txn, const struct redeem_order *o);
int orders_erase(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t customer_id);
/* store_orders.c: the orders of customer from made to's (store_merge.c). */
int orders_move(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t from, uint64_t to);

/*
 * store_customers.c: a customer who may still earn and log in (ESTATE
 * once erased), and an activity entry without text or rating (a claim,
 * a redemption) appended with the next global id.
 */
int customer_live(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t id, struct customer *out);
/* The row as it is (erased, merged or not), and a row written back. */
int customer_load(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t id, struct customer *out);
int customer_store(struct store *st, MDB_txn *txn, const struct customer *c);
/* The customer of a phone hash (MDB_NOTFOUND: none), and the same made
 * when there is none (*created says which). */
int customer_phone_find(struct store *st, MDB_txn *txn, uint32_t brand_id,
    const uint8_t *hash, struct customer *out);
int customer_by_phone_txn(struct store *st, MDB_txn *txn, uint32_t brand_id,
    const uint8_t *hash, const uint8_t *ct, size_t ct_len, int64_t now,
    struct customer *out, int *created);
/*
 * For store_merge.c: a phone bound to c, which has none (the index entry
 * and the row; SIGIL_ECONFLICT when the phone is another customer's);
 * the device links of customer from moved to to (*moved: how many); the
 * activity entries of from made to's.
 */
int customer_phone_set(struct store *st, MDB_txn *txn, struct customer *c,
    const uint8_t *hash, const uint8_t *ct, size_t ct_len);
/* c's phone index entry deleted (the row is the caller's to rewrite). */
int customer_phone_unbind(struct store *st, MDB_txn *txn,
    const struct customer *c);
int customer_devices_move(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t from, uint64_t to, size_t *moved);
int activity_move(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t from, uint64_t to);
int activity_event(struct store *st, MDB_txn *txn, uint32_t brand_id,
    int type, int64_t at, uint64_t customer_id, uint64_t ref,
    int64_t points);
/* The activity log's entry checks, append (sets a->id) and row decoding
 * (store_feedback.c writes and reads feedback entries with them). */
int activity_ok(const struct activity *a);
int activity_append(struct store *st, MDB_txn *txn, struct activity *a);
int activity_decode(MDB_val k, MDB_val v, struct activity *out);
/*
 * Inside erase_fn's transaction, for each of the customer's feedback
 * entries: the row's where, reply and scan cut, its photo deleted
 * (store_feedback.c).
 */
int feedback_erase(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t id);
/*
 * A rating_drop alert (store_alerts.c): *id the product's alert (0:
 * none yet), updated like a code's alert (count, last seen, the latest
 * scan; resolved: new again), or a new one whose id is set in *id.
 */
int alert_rating_drop(struct store *st, MDB_txn *txn, struct alert *al,
    uint64_t *id);
/*
 * store_customers.c, for store_wechat.c: a customer without a phone made
 * in txn (*out), and device linked to customer_id in txn (the device's
 * former customer, if another, in *from: 0 when none).
 */
int customer_new(struct store *st, MDB_txn *txn, uint32_t brand_id,
    int64_t now, struct customer *out);
int device_link_txn(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t device, uint64_t customer_id, int64_t now, uint64_t *from);

/*
 * store_consent.c, for a merge (store_merge.c) and an erasure
 * (store_erase.c), inside their transaction: a customer's consent
 * entries moved to another (same seq, so the history reads in order),
 * the profile moved (the kept customer's own, if any, wins; from's is
 * deleted), the profile deleted (the entries stay: docs/privacy.md).
 */
int consent_move(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t from, uint64_t to);
int profile_move(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t from, uint64_t to);
int profile_erase(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t customer_id);

/*
 * store_idents.c: the customer of identity (kind, hash) in txn
 * (MDB_NOTFOUND); whether customer_id holds an identity of kind for app;
 * an identity bound (or its value replaced) in txn; a customer's
 * identities moved to another (a merge: SIGIL_ECONFLICT when the other
 * has one of the same kind and app: two openids of one app, two
 * unionids, are two people) and cut (an erasure: both tables' rows of
 * the customer deleted); ident_conflict says beforehand whether a and
 * b hold such a pair (1, 0, or an error).
 */
int ident_lookup(struct store *st, MDB_txn *txn, uint32_t brand_id,
    int kind, const uint8_t *hash, uint64_t *customer_id);
int ident_has_app(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t customer_id, int kind, const char *app);
int ident_put(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t customer_id, const struct ident_bind *b, int64_t at);
int ident_move(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t from, uint64_t to);
int ident_erase(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t customer_id);
int ident_conflict(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t a, uint64_t b);
/*
 * store_idents.c, for store_consent.c: the WeChat profile (nickname,
 * avatar) kept with the customer's identities dropped in txn, when the
 * customer withdraws "profile" consent; the identifiers stay.
 */
int ident_profile_erase(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t customer_id);

/* store_ledger.c: a customer's entries in id order, ... */
struct ledger_entries {
	struct ledger_entry	*v;
	size_t			 n, cap;
};
/* ... e written with the next global id (sets e->id), kept in all ... */
int ledger_put(struct store *st, MDB_txn *txn, struct ledger_entry *e,
    struct ledger_entries *all);
/*
 * ... and the customer's ledger loaded into all with the EXPIRE entries
 * due at now appended, so that all ends as the ledger now reads.
 * *balance (may be NULL) is the balance at now.
 */
int ledger_settle(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t customer_id, int64_t now, struct ledger_entries *all,
    int64_t *balance);
/*
 * Notes which campaign an EARN entry's points came from (earn->id set by
 * ledger_put), so that a redemption spending them counts for that
 * campaign (store_redeem). store_claims.c calls it after the EARN entry.
 */
int ledger_earn_campaign(struct store *st, MDB_txn *txn,
    const struct ledger_entry *earn, uint32_t campaign_id);
/*
 * store_merge.c's ledger step: both ledgers settled at at, from's
 * entries moved under to's key with their ids, times and expiries (and
 * origin: the customer they were written for), and a LEDGER_MERGE entry
 * (ref from) appended to to's. *moved is from's balance at at, which
 * to's balance grew by: SIGIL_EIO if the ledger would not read so.
 */
int ledger_merge(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t from, uint64_t to, int64_t at, int64_t *moved,
    size_t *entries);

/*
 * store_claims.c's merge step: from's claims made to's, its daily claim
 * counts (claim_days) and PIN failure counts (pin_fails) added to to's.
 */
int claims_move(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t from, uint64_t to, size_t *claims);

/* store_credits.c: a campaign's usage (key: bid_key of the campaign; the
 * table is store_claims.c's). */
struct campaign_usage_row {
	int64_t		points_spent;
	uint64_t	claims;
	uint32_t	prizes_given[STORE_PRIZES_MAX];
};
int campaign_usage_get(struct store *st, MDB_txn *txn, const uint8_t *key,
    struct campaign_usage_row *u);
int campaign_usage_put(struct store *st, MDB_txn *txn, const uint8_t *key,
    const struct campaign_usage_row *u);
/*
 * store_credits.c, for store_claims.c: a claim's credits judged (reads
 * only: each one's dropped set; c->campaign_id and c->points made the
 * paid ones'; SIGIL_EFULL when no BASE or STACK credit can be paid; today
 * the claim's China day) and then written (hour: the stats bucket, 0
 * none). bonus_pay: one bonus credit outside a claim, in txn.
 */
int credits_check(struct store *st, MDB_txn *txn, struct claim *c,
    uint32_t today);
int credits_apply(struct store *st, MDB_txn *txn, const struct claim *c,
    struct stat_acc *acc, uint32_t hour);
int bonus_pay(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t customer_id, struct claim_credit *cr, int64_t at,
    int64_t expires_at);
/*
 * store_bonuses.c: whether a bonus row of (brand, customer, campaign,
 * bonus) lies in periods [from, to] (*paid); a paid bonus credit noted
 * (its row and its campaign's totals); one more of a campaign's totals
 * (what: enum bonus_kind or BONUS_TOTAL_REBATE); the merge step (to 0:
 * the erasure's cut).
 */
#define BONUS_TOTAL_REBATE	0x10
int bonus_paid(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t customer_id, uint32_t campaign_id, int bonus, uint32_t from,
    uint32_t to, int *paid);
int bonus_note(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t customer_id, const struct claim_credit *cr, int64_t at,
    uint64_t ref);
int bonus_total_add(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint32_t campaign_id, int what, int64_t points);
int bonuses_move(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t from, uint64_t to);

/*
 * store_merge.c: gone made one with keep in txn (see the file's head):
 * SIGIL_EINVAL (the same or 0), SIGIL_ENOTFOUND, SIGIL_ESTATE (either
 * erased or merged already), SIGIL_ECONFLICT (both with a phone, or
 * two openids of one app): these refusals before anything is written,
 * so the caller may go on with txn. After any other error the caller
 * aborts txn. store_customer_merge_rule picks keep from a and b
 * by the rule (store_merge_survivor) first; *kept is the survivor.
 */
int store_customer_merge(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t keep, uint64_t gone, int64_t at);
int store_customer_merge_rule(struct store *st, MDB_txn *txn,
    uint32_t brand_id, uint64_t a, uint64_t b, int64_t at, uint64_t *kept);

/*
 * store_outbox.c: m added, queued, in txn (m->id and the defaults set:
 * see store_outbox_add for the checks); how many rows of kind (0: any)
 * the customer has made at or after since (the frequency cap); the
 * customer's rows cut (an erasure: zeroed, then deleted) and moved (a
 * merge). message_service_enqueue: a service message (a reply to the
 * customer's feedback) of text, on the customer's best channel ("auto":
 * WeChat when the customer has an openid, else SMS, chosen when sent),
 * without marketing consent or cap, in the caller's txn.
 */
int outbox_put(struct store *st, MDB_txn *txn, struct outbox_msg *m);
int outbox_count_since(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t customer_id, int kind, int64_t since, uint32_t *out);
int outbox_erase(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t customer_id);
int outbox_move(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t from, uint64_t to);
int message_service_enqueue(struct store *st, MDB_txn *txn,
    uint32_t brand_id, uint64_t customer_id, const char *text);
/* store_messages.c: a customer's message marks cut (an erasure) and
 * made another's (a merge: the later mark of the two wins). */
int message_marks_erase(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t customer_id);
int message_marks_move(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t from, uint64_t to);

/* store_audit.c: e appended in txn (sets seq and at when 0). */
int audit_put(struct store *st, MDB_txn *txn, struct audit_entry *e);

/*
 * store_sellers.c: an erasure drops the customer's seller row and takes
 * them out of their bindings (the store kept); a merge moves both.
 */
int sellers_erase(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t id);
int sellers_move(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t from, uint64_t to);

/*
 * ---- segment facts (store_segments.c) ----
 * Written in the transactions that make them: a scan's (store_scans.c,
 * every human scan of a brand's code from a device), a claim's
 * (store_claims.c), a merge's (the customer's facts moved) and an
 * erasure's (cut). 0 or an LMDB/SIGIL code.
 */
int segfacts_scan(struct store *st, MDB_txn *txn, const struct scan_rec *r);
int segfacts_claim(struct store *st, MDB_txn *txn, const struct claim *c);
int segfacts_link(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t device, int64_t now);
int segfacts_move(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t from, uint64_t to);
int segfacts_erase(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t customer_id);
/* An erasure: the facts of one of the customer's devices (its id is in
 * their keys; the caller rebuilds the table after). */
int segfacts_erase_device(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t device);
/*
 * ---- cash rewards (store_payouts.c, store_cash.c) ----
 * payouts: brand BE32 || claim BE64; payout_due and payout_cust keys are
 * 20 bytes (docs/storage.md).
 */
#define PAYOUT_KEY_LEN	12
#define PAYOUT_IDX_LEN	20
#define PAYOUT_ROW_MAX	(85 + 2 * 7 + PAYOUT_REASONS_MAX + \
			    PAYOUT_APPID_MAX + PAYOUT_OPENID_MAX + \
			    PAYOUT_BILLNO_MAX + 23 + PAYOUT_FAIL_MAX + \
			    PAYOUT_PACKAGE_MAX)
/* store_payouts.c: a row decoded, loaded (MDB_NOTFOUND), written (an
 * erasure's with its old bytes zeroed first); its due and customer
 * index entries put (add) or deleted; fen moved between two states'
 * tallies of its campaign (0: none); a row moved from old to o with its
 * due entry and tallies; a campaign's reservation; whether a claim's
 * out_bill_no fits PAYOUT_OUTNO_MAX. */
int payout_decode(MDB_val k, MDB_val v, void *out);
int payout_load(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t claim_id, struct payout *out);
int payout_put(struct store *st, MDB_txn *txn, const struct payout *o,
    int zero_first);
int payout_due_set(struct store *st, MDB_txn *txn, const struct payout *o,
    int add);
int payout_cust_set(struct store *st, MDB_txn *txn, const struct payout *o,
    int add);
/* A customer's claim ids by payout_cust, oldest first, pushed onto ids. */
int payout_cust_claims(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t customer_id, struct u64vec *ids);
int payout_tally(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint32_t campaign_id, int64_t fen, int from, int to);
int payout_move(struct store *st, MDB_txn *txn, const struct payout *old,
    struct payout *o, int zero_first);
int cash_reserved(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint32_t campaign_id, int64_t *out);
int payout_out_bill_no_fits(uint32_t brand_id, uint64_t claim_id);
/*
 * store_cash.c, for store_claims.c: a claim's cash checked (pure: 0 or
 * SIGIL_EINVAL), judged (reads only: c->cash's fen, dropped and refusal
 * set; SIGIL_EFULL when dropped and the claim has no points, SIGIL_EDENIED
 * past a day cap; day the claim's China day) and written once c->id is
 * set. For store_erase.c and store_merge.c: a customer's payouts cut
 * (HELD ones rejected, final ones without openid) and moved.
 */
int cash_valid(const struct claim *c);
int cash_check(struct store *st, MDB_txn *txn, struct claim *c,
    uint32_t day);
int cash_apply(struct store *st, MDB_txn *txn, const struct claim *c,
    uint32_t day);
int payouts_erase(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t customer_id);
int payouts_move(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t from, uint64_t to);

/* A claims row decoded (store_claims.c): 0 or SIGIL_EIO. */
int claim_decode(MDB_val k, MDB_val v, void *out);

#endif
