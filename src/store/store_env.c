/*
 * store_env.c - the ground floor of the storage module: the LMDB
 * environment's transactions, its growth, and the meta counters.
 *
 * Owns: the per-thread read snapshots, the write runner store_write, map
 * growth, the meta table's counters, and the whole-store calls that need
 * nothing of any table family (sync, backup, usage, stats). The generic
 * helpers every family shares (cursor walks, id vectors) live here too.
 * May call: libc, pthreads, LMDB, util.c, and wal.c (every write
 * transaction is logged through it). Must never call a table family's
 * file (catalog, scans, trace, tokens, loyalty...): they all build on
 * this one, so a call back would close a circle.
 *
 * Writes. Every write function is a closure run by store_write(): begin a
 * write transaction, run the closure, commit. A closure never changes
 * caller memory; it fills a context that is copied out only after the
 * commit succeeded, because a commit that fails with MDB_MAP_FULL is
 * retried from scratch after the map has doubled. Doubling calls
 * mdb_env_set_mapsize(), which LMDB allows only while no transaction of
 * this process is active: every transaction is therefore bracketed by a
 * shared hold on grow_lock and growth takes it exclusively. The lock
 * prefers writers, so a growth is not starved by a stream of readers.
 *
 * Reads. Each thread keeps one read transaction per store (a pthread key
 * whose destructor frees the reader slot when the thread exits); a read
 * call renews it, copies what it needs and resets it. The environment is
 * opened MDB_NOTLS so that reader slots belong to transactions, not
 * threads. A read nested inside another (a callback of *_each calling
 * store_brand_get) reuses the active snapshot instead of taking a second
 * one.
 *
 * Another process (the sigil CLI next to a running sigild) may grow the
 * map; LMDB then reports MDB_MAP_RESIZED at begin and we adopt the new
 * size under the exclusive lock and begin again.
 *
 * Counters for store_stats live in the meta database and are updated in
 * the transaction that changes what they count, so stats never scan.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lmdb.h>

#include "sigil/fault.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "store_impl.h"

struct rslot {
	struct store	*st;
	MDB_txn		*txn;		/* this thread's cached read txn */
	int		 read_depth;	/* nested read calls using txn */
	int		 lock_depth;	/* nested shared holds of grow_lock */
	struct rslot	*prev, *next;
};

/* ---- the environment's locks, reader slots and growth ---- */

static void
slot_destroy(void *p)
{
	struct rslot *s = p;
	struct store *st = s->st;

	pthread_mutex_lock(&st->slots_mu);
	if (s->prev)
		s->prev->next = s->next;
	else
		st->slots = s->next;
	if (s->next)
		s->next->prev = s->prev;
	pthread_mutex_unlock(&st->slots_mu);
	if (s->txn)
		mdb_txn_abort(s->txn);
	free(s);
}

static struct rslot *
slot_get(struct store *st)
{
	struct rslot *s = pthread_getspecific(st->slot_key);

	if (s)
		return s;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->st = st;
	if (pthread_setspecific(st->slot_key, s) != 0) {
		free(s);
		return NULL;
	}
	pthread_mutex_lock(&st->slots_mu);
	s->next = st->slots;
	if (st->slots)
		st->slots->prev = s;
	st->slots = s;
	pthread_mutex_unlock(&st->slots_mu);
	return s;
}

int
env_init(struct store *st)
{
	pthread_rwlockattr_t attr;

	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr,
	    PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&st->grow_lock, &attr);
	pthread_rwlockattr_destroy(&attr);
	pthread_mutex_init(&st->slots_mu, NULL);
	if (pthread_key_create(&st->slot_key, slot_destroy) != 0) {
		pthread_mutex_destroy(&st->slots_mu);
		pthread_rwlock_destroy(&st->grow_lock);
		return SIGIL_ENOMEM;
	}
	return 0;
}

void
env_fini(struct store *st)
{
	struct rslot *s, *next;

	pthread_setspecific(st->slot_key, NULL);
	pthread_key_delete(st->slot_key);
	for (s = st->slots; s; s = next) {
		next = s->next;
		if (s->txn)
			mdb_txn_abort(s->txn);
		free(s);
	}
	st->slots = NULL;
	pthread_mutex_destroy(&st->slots_mu);
	pthread_rwlock_destroy(&st->grow_lock);
}

static void
hold(struct store *st, struct rslot *s)
{
	if (s->lock_depth++ == 0)
		pthread_rwlock_rdlock(&st->grow_lock);
}

static void
release(struct store *st, struct rslot *s)
{
	if (--s->lock_depth == 0)
		pthread_rwlock_unlock(&st->grow_lock);
}

/*
 * Sets the map to at least want bytes, or (want == 0) adopts the size
 * another process wrote. Called with no hold by this thread.
 */
static int
map_resize(struct store *st, size_t want)
{
	MDB_envinfo info;
	int rc = 0;

	pthread_rwlock_wrlock(&st->grow_lock);
	if (want == 0)
		rc = mdb_env_set_mapsize(st->env, 0);
	else if (mdb_env_info(st->env, &info) == 0 && info.me_mapsize < want)
		rc = mdb_env_set_mapsize(st->env, want);
	pthread_rwlock_unlock(&st->grow_lock);
	return rc ? SIGIL_EIO : 0;
}

/* The map size after one growth step: double, but not past STORE_MAP_MAX. */
static size_t
map_doubled(size_t size)
{
	return size * 2 > STORE_MAP_MAX ? STORE_MAP_MAX : size * 2;
}

/*
 * Called after a commit, outside any transaction: when less than an
 * eighth of the map is left, doubles it now, so that a commit seldom
 * has to fail with MDB_MAP_FULL and be run again (which cost a scan
 * round its latency twice over).
 */
static void
map_headroom(struct store *st)
{
	MDB_envinfo info;
	MDB_stat ms;
	size_t used;

	if (mdb_env_info(st->env, &info) != 0 || mdb_env_stat(st->env,
	    &ms) != 0 || info.me_mapsize >= STORE_MAP_MAX)
		return;
	used = (info.me_last_pgno + 1) * (size_t)ms.ms_psize;
	if (used < info.me_mapsize - info.me_mapsize / 8)
		return;
	/* On failure a commit's MDB_MAP_FULL still grows the map. */
	(void)map_resize(st, map_doubled(info.me_mapsize));
}

int
read_begin(struct store *st, MDB_txn **out)
{
	struct rslot *s = slot_get(st);
	int rc;

	if (s == NULL)
		return SIGIL_ENOMEM;
	if (s->read_depth > 0) {
		s->read_depth++;
		*out = s->txn;
		return 0;
	}
	for (int tries = 0;; tries++) {
		hold(st, s);
		if (s->txn)
			rc = mdb_txn_renew(s->txn);
		else
			rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &s->txn);
		if (rc == 0)
			break;
		if (s->txn) {
			mdb_txn_abort(s->txn);
			s->txn = NULL;
		}
		release(st, s);
		if (rc != MDB_MAP_RESIZED || tries > 8 || s->lock_depth > 0)
			return map_err(rc);
		if ((rc = map_resize(st, 0)) != 0)
			return rc;
	}
	s->read_depth = 1;
	*out = s->txn;
	return 0;
}

void
read_end(struct store *st)
{
	struct rslot *s = pthread_getspecific(st->slot_key);

	if (--s->read_depth == 0) {
		mdb_txn_reset(s->txn);
		release(st, s);
	}
}

/*
 * The rider this thread armed (store_audit.c): put runs inside the next
 * write transaction of st that fn completes, before its commit, and
 * done is set once that commit succeeded. Thread-local, so a scan
 * round (whose thread never arms one) pays one load of a NULL.
 */
static __thread struct txn_rider *rider;

void
txn_rider_set(struct txn_rider *r)
{
	rider = r;
}

/*
 * Runs fn in a write transaction and commits; on MDB_MAP_FULL doubles the
 * map (up to STORE_MAP_MAX) and runs fn again from the start. fn returns
 * 0, a SIGIL_E* code or an LMDB code; nonzero aborts.
 */
int
store_write(struct store *st, write_fn fn, void *arg)
{
	struct rslot *s;
	MDB_envinfo info;
	MDB_txn *txn;
	int rc;

	if (st->flags & STORE_RDONLY)
		return SIGIL_EDENIED;
	if ((s = slot_get(st)) == NULL)
		return SIGIL_ENOMEM;
	for (;;) {
		hold(st, s);
		rc = mdb_txn_begin(st->env, NULL, 0, &txn);
		if (rc == MDB_MAP_RESIZED && s->lock_depth == 1) {
			release(st, s);
			if ((rc = map_resize(st, 0)) != 0)
				return rc;
			continue;
		}
		if (rc != 0) {
			release(st, s);
			return map_err(rc);
		}
		mdb_env_info(st->env, &info);
		wal_txn_begin(st);
		rc = fn(st, txn, arg);
		if (rc == 0 && rider != NULL && rider->st == st &&
		    !rider->done)
			rc = rider->put(st, txn, rider->arg);
		/* Test builds only (fault.h): a full map, a failed commit. */
		if (rc == 0 && fault_hit("map_full"))
			rc = MDB_MAP_FULL;
		else if (rc == 0 && fault_hit("commit"))
			rc = EIO;
		if (rc == 0)
			rc = wal_txn_commit(st, txn);
		else
			mdb_txn_abort(txn);
		/* A sync that failed after the pages reached the file. */
		if (rc == 0 && fault_hit("fsync"))
			rc = EIO;
		if (rc == 0 && rider != NULL && rider->st == st)
			rider->done = 1;
		release(st, s);
		if (rc == 0 && s->lock_depth == 0)
			map_headroom(st);
		if (rc != MDB_MAP_FULL)
			return map_err(rc);
		/* Growing needs every snapshot of this thread closed. */
		if (s->lock_depth > 0 || info.me_mapsize >= STORE_MAP_MAX)
			return SIGIL_EFULL;
		if ((rc = map_resize(st, map_doubled(info.me_mapsize))) != 0)
			return rc;
	}
}

int
store_write_out(struct store *st, write_fn fn, void *ctx, void *out,
    const void *res, size_t size)
{
	int rc;

	if ((rc = store_write(st, fn, ctx)) != 0)
		return rc;
	if (out != NULL)
		memcpy(out, res, size);
	return 0;
}

/* ---- meta counters ---- */

int
u64_row_get(MDB_txn *txn, MDB_dbi dbi, MDB_val k, uint64_t *out)
{
	MDB_val v;
	int rc = mdb_get(txn, dbi, &k, &v);

	if (rc == MDB_NOTFOUND) {
		*out = 0;
		return 0;
	}
	if (rc != 0)
		return rc;
	if (v.mv_size != 8)
		return SIGIL_EIO;
	*out = le64_get(v.mv_data);
	return 0;
}

int
meta_get(struct store *st, MDB_txn *txn, MDB_val k, uint64_t *out)
{
	return u64_row_get(txn, st->meta, k, out);
}

int
meta_put(struct store *st, MDB_txn *txn, MDB_val k, uint64_t val)
{
	uint8_t b[8];
	MDB_val v = mval(b, 8);

	le64_put(b, val);
	return mdb_put(txn, st->meta, &k, &v, 0);
}

int
meta_add(struct store *st, MDB_txn *txn, const char *name, uint64_t delta)
{
	MDB_val k = mval(name, strlen(name));
	uint64_t v;
	int rc;

	if (delta == 0)
		return 0;
	if ((rc = meta_get(st, txn, k, &v)) != 0)
		return rc;
	return meta_put(st, txn, k, v + delta);
}

int
meta_next(struct store *st, MDB_txn *txn, MDB_val k, uint64_t n,
    uint64_t max, uint64_t *out)
{
	uint64_t v;
	int rc;

	if ((rc = meta_get(st, txn, k, &v)) != 0)
		return rc;
	if (v == 0)
		v = 1;
	if (v > max || n > max - v + 1)
		return SIGIL_EFULL;
	if ((rc = meta_put(st, txn, k, v + n)) != 0)
		return rc;
	*out = v;
	return 0;
}

/* ---- the whole store: sync, backup, usage, stats ---- */

int
store_sync(struct store *st)
{
	if (st->flags & STORE_RDONLY)
		return 0;
	return mdb_env_sync(st->env, 1) ? SIGIL_EIO : 0;
}

int
store_backup(struct store *st, const char *dir)
{
	char path[4096];
	mode_t old;
	struct rslot *s;
	struct dirent *de;
	DIR *d;
	int rc;

	if ((d = opendir(dir)) == NULL)
		return errno == ENOENT ? SIGIL_ENOTFOUND : SIGIL_EIO;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			break;
	closedir(d);
	if (de != NULL)
		return SIGIL_EEXIST;
	if ((s = slot_get(st)) == NULL)
		return SIGIL_ENOMEM;
	/* The copy runs its own read transaction: keep growth out. */
	hold(st, s);
	/* LMDB creates data.mdb 0666 & ~umask: 0600 whatever the umask. */
	old = umask(077);
	rc = mdb_env_copy2(st->env, dir, MDB_CP_COMPACT);
	umask(old);
	release(st, s);
	if (rc == 0 && (snprintf(path, sizeof(path), "%s/data.mdb", dir) >=
	    (int)sizeof(path) || chmod(path, 0600) != 0))
		rc = EIO;
	return rc ? SIGIL_EIO : 0;
}

int
store_usage(struct store *st, uint64_t *map_bytes, uint64_t *used_bytes)
{
	MDB_envinfo info;
	MDB_stat ms;

	if (mdb_env_info(st->env, &info) != 0 ||
	    mdb_env_stat(st->env, &ms) != 0)
		return SIGIL_EIO;
	*map_bytes = info.me_mapsize;
	*used_bytes = (uint64_t)(info.me_last_pgno + 1) * ms.ms_psize;
	return 0;
}

static int
stats_read(struct store *st, MDB_txn *txn, struct store_stats *s)
{
	MDB_stat ms;
	char name[32];
	int rc;

	if ((rc = mdb_stat(txn, st->brands, &ms)) != 0)
		return rc;
	s->brands = ms.ms_entries;
	if ((rc = mdb_stat(txn, st->products, &ms)) != 0)
		return rc;
	s->products = ms.ms_entries;
	if ((rc = mdb_stat(txn, st->batches, &ms)) != 0)
		return rc;
	s->batches = ms.ms_entries;
	if ((rc = meta_get(st, txn, meta_key("stat/codes_issued"),
	    &s->codes_issued)) != 0 ||
	    (rc = meta_get(st, txn, meta_key("stat/codes_scanned"),
	    &s->codes_scanned)) != 0 ||
	    (rc = meta_get(st, txn, meta_key("stat/scans"), &s->scans)) != 0 ||
	    (rc = meta_get(st, txn, meta_key("stat/bots"), &s->bots)) != 0)
		return rc;
	for (int i = 0; i < SCAN_VERDICTS; i++) {
		snprintf(name, sizeof(name), "stat/verdict/%d", i);
		if ((rc = meta_get(st, txn, meta_key(name),
		    &s->by_verdict[i])) != 0)
			return rc;
	}
	return 0;
}

int
store_stats(struct store *st, struct store_stats *out)
{
	struct store_stats s = { 0 };
	int rc;

	if ((rc = STORE_READ(st, stats_read(st, txn, &s))) == 0)
		*out = s;
	return rc;
}

/* ---- helpers every family shares ---- */

int
text_ok(const char *s, size_t cap, size_t max, int allow_empty)
{
	size_t n = strnlen(s, cap);

	/* max counts characters (sigil_text_check), cap bounds the bytes. */
	return n < cap && sigil_text_check(s, n, max, allow_empty ?
	    SIGIL_TEXT_EMPTY_OK : 0, NULL) == 0;
}

int
u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int
u64vec_push(struct u64vec *a, uint64_t x)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 64;
		uint64_t *v = realloc(a->v, cap * sizeof(*v));

		if (v == NULL)
			return SIGIL_ENOMEM;
		a->v = v;
		a->cap = cap;
	}
	a->v[a->n++] = x;
	return 0;
}

int
u64vec_reserve(struct u64vec *a, size_t n)
{
	uint64_t *v;

	if (n <= a->cap)
		return 0;
	if ((v = realloc(a->v, n * sizeof(*v))) == NULL)
		return SIGIL_ENOMEM;
	a->v = v;
	a->cap = n;
	return 0;
}

int
id_get(MDB_txn *txn, MDB_dbi dbi, uint64_t id, MDB_val *v)
{
	uint8_t kb[8];
	MDB_val k = mval(kb, 8);

	sigil_be64_put(kb, id);
	return mdb_get(txn, dbi, &k, v);
}

int
name_index_get(MDB_txn *txn, MDB_dbi dbi, const char *name, uint32_t *id)
{
	MDB_val k = mval(name, strlen(name)), v;
	int rc;

	if ((rc = mdb_get(txn, dbi, &k, &v)) != 0)
		return rc;
	if (v.mv_size != 4)
		return SIGIL_EIO;
	*id = sigil_be32_get(v.mv_data);
	return 0;
}

/*
 * The cursor ops of each walk_how: where a walk starts, how it goes on.
 * WALK_DUPS positions on the key itself (MDB_SET_KEY), so a missing key
 * walks nothing.
 */
static const MDB_cursor_op walk_first[] = {
	[WALK_FIRST] = MDB_FIRST, [WALK_LAST] = MDB_LAST,
	[WALK_RANGE] = MDB_SET_RANGE, [WALK_DUPS] = MDB_SET_KEY,
};
static const MDB_cursor_op walk_next[] = {
	[WALK_FIRST] = MDB_NEXT, [WALK_LAST] = MDB_PREV,
	[WALK_RANGE] = MDB_NEXT, [WALK_DUPS] = MDB_NEXT_DUP,
};

int
txn_walk(MDB_txn *txn, MDB_dbi dbi, enum walk_how how, MDB_val key,
    walk_fn row, void *ctx, int *stop)
{
	MDB_cursor *cur;
	MDB_val k = key, v;
	int rc;

	if ((rc = mdb_cursor_open(txn, dbi, &cur)) != 0)
		return rc;
	for (rc = mdb_cursor_get(cur, &k, &v, walk_first[how]); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, walk_next[how]))
		if ((rc = row(ctx, txn, k, v, stop)) != 0 || *stop != 0)
			break;
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int
store_walk(struct store *st, MDB_dbi dbi, enum walk_how how, MDB_val key,
    walk_fn row, void *ctx)
{
	MDB_txn *txn;
	int rc, stop = 0;

	if ((rc = read_begin(st, &txn)) != 0)
		return rc;
	rc = txn_walk(txn, dbi, how, key, row, ctx, &stop);
	read_end(st);
	return stop ? stop : map_err(rc);
}

/*
 * A walk backwards from the last key below key (exclusive), or from the
 * table's last row when no key is at or above key: the newest-first
 * walks (a brand's batches, shipments) that page with a `before`.
 */
int
store_walk_before(struct store *st, MDB_dbi dbi, MDB_val key, walk_fn row,
    void *ctx)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k = key, v;
	int rc, stop = 0;

	if ((rc = read_begin(st, &txn)) != 0)
		return rc;
	if ((rc = mdb_cursor_open(txn, dbi, &cur)) != 0) {
		read_end(st);
		return map_err(rc);
	}
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	if (rc == 0)
		rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
	else if (rc == MDB_NOTFOUND)
		rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	for (; rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_PREV))
		if ((rc = row(ctx, txn, k, v, &stop)) != 0 || stop != 0)
			break;
	mdb_cursor_close(cur);
	read_end(st);
	return stop ? stop : map_err(rc == MDB_NOTFOUND ? 0 : rc);
}

static int
dup_push(void *ctx, MDB_txn *txn, MDB_val k, MDB_val v, int *stop)
{
	(void)txn;
	(void)k;
	(void)stop;
	if (v.mv_size != 8)
		return SIGIL_EIO;
	return u64vec_push(ctx, sigil_be64_get(v.mv_data));
}

int
dups_collect(MDB_txn *txn, MDB_dbi dbi, MDB_val k, struct u64vec *out)
{
	int stop = 0;

	return txn_walk(txn, dbi, WALK_DUPS, k, dup_push, out, &stop);
}

/*
 * Puts code keys (brand_id, serials[i]) -> val through one cursor. While a
 * key sorts after everything in the table it is appended (no search, and
 * pages are filled rather than split in half); serials in ascending order
 * on a brand's newest codes, the usual case, are then all appended.
 */
int
codes_put(MDB_txn *txn, MDB_dbi dbi, uint32_t brand_id,
    const uint64_t *serials, size_t n, MDB_val val)
{
	uint8_t ck[CODE_KEY_LEN], last[CODE_KEY_LEN];
	MDB_cursor *cur;
	MDB_val k, v;
	int rc, have_last;

	if ((rc = mdb_cursor_open(txn, dbi, &cur)) != 0)
		return rc;
	rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	if (rc != 0 && rc != MDB_NOTFOUND)
		goto out;
	if ((have_last = rc == 0)) {
		if (k.mv_size != CODE_KEY_LEN) {
			rc = SIGIL_EIO;
			goto out;
		}
		memcpy(last, k.mv_data, CODE_KEY_LEN);
	}
	for (size_t i = 0; i < n; i++) {
		unsigned flags = 0;

		code_key_put(ck, brand_id, serials[i]);
		if (!have_last || memcmp(ck, last, CODE_KEY_LEN) > 0) {
			flags = MDB_APPEND;
			memcpy(last, ck, CODE_KEY_LEN);
			have_last = 1;
		}
		k = mval(ck, CODE_KEY_LEN);
		v = val;
		if ((rc = mdb_cursor_put(cur, &k, &v, flags)) != 0)
			goto out;
	}
	rc = 0;
out:
	mdb_cursor_close(cur);
	return rc;
}
