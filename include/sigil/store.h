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

/*
 * The installation id: 16 random bytes a writer's open makes once (a new
 * store, or an older one that lacks it) and keeps in the meta table.
 * EPCIS event ids are derived from it. 0, or SIGIL_ENOTFOUND for an
 * older store opened read-only before any writer opened it.
 */
#define STORE_INSTALL_ID_LEN	16
int store_installation_id(struct store *st,
    uint8_t out[STORE_INSTALL_ID_LEN]);

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
#include "sigil/store/alerts.h"
#include "sigil/store/pins.h"
#include "sigil/store/revoked.h"

/*
 * ==== customers, loyalty, webhooks, users, counters ====
 * The late tables, one slice a family (src/store/store_customers.c,
 * store_claims.c, store_ledger.c, store_users.c, store_webhooks.c,
 * store_counters.c), sharing store_env.c's internals through the private
 * src/store/store_impl.h: the storage module is one subsystem in several
 * files, and still the only code that sees LMDB.
 */
#include "sigil/store/customers.h"
#include "sigil/store/payouts.h"
#include "sigil/store/claims.h"
#include "sigil/store/bonuses.h"
#include "sigil/store/ledger.h"
#include "sigil/store/users.h"
#include "sigil/store/webhooks.h"
#include "sigil/store/redirects.h"
#include "sigil/store/counters.h"
#include "sigil/store/content.h"
#include "sigil/store/links.h"
#include "sigil/store/orders.h"
#include "sigil/store/audit.h"
#include "sigil/store/regions.h"
#include "sigil/store/consent.h"
#include "sigil/store/retention.h"
#include "sigil/store/idents.h"
#include "sigil/store/outbox.h"
#include "sigil/store/segments.h"
#include "sigil/store/sellers.h"
#include "sigil/store/feedback.h"
#include "sigil/store/notify.h"
#include "sigil/store/messages.h"

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
 * The same a chunk at a time, for a caller that lets other writes in
 * between (the retention job: one writer op per chunk, so scans commit
 * between two chunks instead of waiting for the whole file). begin
 * takes E (everything committed before it is covered) and makes the
 * first commit; each step is one write transaction: 1 while more is
 * left, 0 when the scrub is done (scrub/pending cleared, stats final),
 * SIGIL_EBUSY while a reader older than E lives (nothing done: call it
 * again a little later), else an error. Writes committed between the
 * steps need no scrub of their own for what came before E.
 */
struct store_scrub_run {
	uint64_t	after;		/* E */
	uint64_t	from;		/* next page to look at */
	uint64_t	end;		/* pages in the file */
	int		wal_done;
	int64_t		t0;		/* CLOCK_MONOTONIC, microseconds */
	struct store_scrub_stats stats;
};
int store_scrub_begin(struct store *st, struct store_scrub_run *r);
int store_scrub_step(struct store *st, struct store_scrub_run *r);
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
	uint64_t	by_verdict[SCAN_VERDICTS];	/* human scans per verdict */
	uint64_t	bots;
};
int store_stats(struct store *st, struct store_stats *out);

#endif
