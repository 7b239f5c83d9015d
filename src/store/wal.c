/*
 * wal.c - a write-ahead log beside LMDB: one flush per durable commit.
 *
 * A durable LMDB commit costs two flushes in a row (the data pages, then
 * the meta page that points at them); docs/storage.md measures what that
 * does to sigild's scan path. With the log (sigild --wal) the store runs
 * MDB_NOSYNC and a commit is durable once its *changes* are in the log:
 *
 *   commit    every put and delete of the transaction was recorded as it
 *             happened (the macros in store_impl.h route mdb_put and
 *             friends through here); before mdb_txn_commit the record
 *             goes to the active segment with one write and one
 *             fdatasync, still under LMDB's write lock, so records are
 *             in transaction order and each carries the id its
 *             transaction commits as.
 *   checkpoint  every WAL_CKPT_MS (or when a segment is half full) the
 *             committing thread notes the last committed transaction M,
 *             copies LMDB's two meta pages as they are now (they
 *             describe M), opens a read transaction on M (so that no
 *             page of M can be reused) and switches segments; a thread
 *             of its own then fdatasyncs data.mdb and writes M, its meta
 *             pages and the new segment into the control file `wal`.
 *             Once that is on disk the previous segment and pin are free.
 *   recovery  at the next open after an unclean stop: write the saved
 *             meta pages back over LMDB's, which puts the file at M,
 *             whose pages are intact whatever else reached the disk,
 *             then apply every logged transaction after M in order.
 *             First it checks that data.mdb is the file the log was
 *             written for: the checkpoint noted one page of M (the main
 *             database's first leaf, which the pin keeps as it is) and
 *             its CRC, and a file replaced after the crash does not
 *             have that page (SIGIL_ESTATE, nothing written).
 *             Records are changes, not inputs, so applying them gives
 *             the same bytes whatever the code that produced them.
 *
 * A kill -9 keeps the page cache and a power cut does not, but recovery
 * cannot tell which happened, so it takes the same path after both:
 * every crash test exercises it.
 *
 * Other processes. Only one process owns the log (sigild, with the
 * STORE_WAL flag); it holds a write lock on byte 0 of `wal`. Every
 * process that opens the store holds a read lock on byte 1, and recovery
 * needs a write lock there, so it never runs under a live reader. A
 * process that writes while an owner lives (the sigil CLI revoking a
 * token beside sigild) logs its transaction to a file of its own,
 * wal.x.<txnid>, before committing; recovery merges those in by id and
 * the next checkpoint deletes them. Without an owner the CLI commits
 * with LMDB's own full sync, as before, and the control file says
 * "clean": there is nothing to recover.
 *
 * Files in the data directory: wal (locks and two header slots, written
 * alternately, each with a CRC-32C), wal.0 and wal.1 (segments, filled
 * with zeros up front so that a commit overwrites blocks the file has),
 * wal.x.* (transactions of other processes).
 *
 * This file owns the writing side: recording, the commit, checkpoints,
 * the header slots, open (which calls recovery) and close.
 * wal_replay.c owns the record format and recovery; wal_impl.h is what
 * the two share. May call: libc, pthreads, LMDB, util.c, fault.h and
 * wal_replay.c. Must never call any other file of the store: every
 * write transaction of every family comes through here (store_env.c's
 * store_write, the macros in store_impl.h), so a call back would close
 * a circle; what it needs of the store (map_err, env_size) is inline in
 * store_impl.h.
 */
#define WAL_IMPL
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#include "sigil/fault.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "store_impl.h"
#include "wal_impl.h"

struct wal {
	char		*dir;
	int		 ctl;		/* fd of `wal`, holding the locks */
	int		 owner;
	int		 capturing;	/* this transaction is to be logged */
	struct store_wal_info info;	/* as the open found the log */
	unsigned	 psize;
	uint64_t	 hdr_seq;
	/* the transaction being recorded (only under LMDB's write lock) */
	uint8_t		*buf;
	size_t		 len, cap;
	int		 oom;
	size_t		 res_off, res_len;	/* an MDB_RESERVE to copy */
	const void	*res_src;
	/* owner: segments, written only under the write lock */
	MDB_env		*env;
	int		 seg_fd[2];
	int		 seg;
	uint64_t	 gen;
	off_t		 off;
	off_t		 high[2];	/* bytes written to each since the last scrub */
	int		 scrubbed_once;
	struct timespec	 switched;
	long		 ckpt_ms;
	long		 trickle_ms;
	/* owner: the checkpoint thread */
	pthread_t	 thread;
	int		 thread_up;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	int		 busy, stop, failing;
	uint64_t	 ckpt_failures;
	struct wal_hdr	 job;
	MDB_txn		*pin, *next_pin;
	uint64_t	 checkpoints, records, bytes;
};

/* ---- the locks on the control file ---- */

/* An open-file-description lock on one byte; 0, or -1 with errno. */
static int
lock_byte(int fd, int byte, short type, int wait)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET,
	    .l_start = byte, .l_len = 1 };
	int rc;

	while ((rc = fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl)) != 0 &&
	    errno == EINTR)
		;
	return rc;
}

/* 1 when another open file description holds a lock on byte. */
static int
byte_locked(int fd, int byte)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET,
	    .l_start = byte, .l_len = 1 };

	if (fcntl(fd, F_OFD_GETLK, &fl) != 0)
		return 1;	/* cannot tell: assume an owner, log */
	return fl.l_type != F_UNLCK;
}

/* ---- the header slots ---- */

static void
hdr_encode(const struct wal_hdr *h, uint8_t *b, size_t *len)
{
	size_t n = WAL_SLOT_FIXED + 2 * (size_t)h->psize;

	memset(b, 0, WAL_SLOT_FIXED);
	memcpy(b, WAL_MAGIC, 8);
	le32_put(b + 8, WAL_VERSION);
	le64_put(b + 16, h->seq);
	le32_put(b + 24, h->state);
	le32_put(b + 28, h->seg);
	le64_put(b + 32, h->gen);
	le64_put(b + 40, h->txnid);
	le32_put(b + 12, h->psize);
	le64_put(b + 56, h->fp_page);
	le32_put(b + 64, h->fp_crc);
	memcpy(b + WAL_SLOT_FIXED, h->meta, 2 * (size_t)h->psize);
	/* The CRC at 48..51 covers the slot but itself. */
	le32_put(b + 48, 0);
	le32_put(b + 48, sigil_crc32c(b, n));
	*len = n;
}

static int
hdr_decode(const uint8_t *b, size_t n, struct wal_hdr *h)
{
	uint8_t tmp[WAL_SLOT_FIXED];
	uint32_t crc, psize, version;
	size_t len, fixed;

	if (n < 56 || memcmp(b, WAL_MAGIC, 8) != 0)
		return -1;
	version = le32_get(b + 8);
	if (version != 1 && version != WAL_VERSION)
		return -1;
	fixed = version == 1 ? 56 : WAL_SLOT_FIXED;
	psize = le32_get(b + 12);
	if (psize < 512 || psize > WAL_PSIZE_MAX ||
	    (len = fixed + 2 * (size_t)psize) > n)
		return -1;
	crc = le32_get(b + 48);
	memcpy(tmp, b, fixed);
	le32_put(tmp + 48, 0);
	if (~sigil_crc32c_update(sigil_crc32c_update(0xffffffffu, tmp,
	    fixed), b + fixed, len - fixed) != crc)
		return -1;
	h->fp_page = version == 1 ? 0 : le64_get(b + 56);
	h->fp_crc = version == 1 ? 0 : le32_get(b + 64);
	h->seq = le64_get(b + 16);
	h->state = le32_get(b + 24);
	h->seg = le32_get(b + 28);
	h->gen = le64_get(b + 32);
	h->txnid = le64_get(b + 40);
	h->psize = psize;
	if ((h->state != WAL_CLEAN && h->state != WAL_ACTIVE) || h->seg > 1)
		return -1;
	memcpy(h->meta, b + fixed, 2 * (size_t)psize);
	return 0;
}

/* The newest valid slot: 0, 1 when there is none, -1 on I/O error. */
static int
hdr_read(int ctl, struct wal_hdr *out)
{
	static const size_t cap = WAL_SLOT_FIXED + 2 * WAL_PSIZE_MAX;
	uint8_t *b = malloc(cap);
	struct wal_hdr *h = malloc(sizeof(*h));
	int found = 0, rc = 0;

	if (b == NULL || h == NULL) {
		free(b);
		free(h);
		return -1;
	}
	for (int i = 0; i < 2; i++) {
		ssize_t n = pread_full(ctl, b, cap, WAL_SLOT_OFF(i));

		if (n < 0) {
			rc = -1;
			break;
		}
		if (hdr_decode(b, (size_t)n, h) == 0 &&
		    (!found || h->seq > out->seq)) {
			*out = *h;
			found = 1;
		}
	}
	free(b);
	free(h);
	return rc < 0 ? -1 : !found;
}

static int
hdr_write(struct wal *w, int ctl, struct wal_hdr *h)
{
	uint8_t *b = malloc(WAL_SLOT_FIXED + 2 * WAL_PSIZE_MAX);
	size_t n;
	int rc;

	if (b == NULL)
		return -1;
	h->seq = ++w->hdr_seq;
	hdr_encode(h, b, &n);
	rc = sigil_pwrite_all(ctl, b, n, WAL_SLOT_OFF(h->seq & 1));
	free(b);
	if (rc == 0 && fault_hit("wal_ckpt"))
		rc = -1;
	return rc == 0 ? fdatasync(ctl) : -1;
}

/* ---- recording a transaction ---- */

/* The store whose transaction txn is, when it is being recorded. */
static struct store *
txn_store(MDB_txn *txn)
{
	struct store *st = mdb_env_get_userctx(mdb_txn_env(txn));

	return st && st->wal && st->wal->capturing ? st : NULL;
}

static uint8_t *
buf_grow(struct wal *w, size_t more)
{
	uint8_t *nb;
	size_t ncap;

	if (w->oom)
		return NULL;
	if (w->len + more > w->cap) {
		ncap = w->cap ? w->cap : 16384;
		while (ncap < w->len + more)
			ncap *= 2;
		if ((nb = realloc(w->buf, ncap)) == NULL) {
			w->oom = 1;
			return NULL;
		}
		w->buf = nb;
		w->cap = ncap;
	}
	nb = w->buf + w->len;
	w->len += more;
	return nb;
}

/* Copies the value of the last MDB_RESERVE put, which the caller filled. */
static void
settle(struct wal *w)
{
	if (w->res_src != NULL) {
		memcpy(w->buf + w->res_off, w->res_src, w->res_len);
		w->res_src = NULL;
	}
}

/*
 * Appends one change: op, the database's name, the key and (put, deldup)
 * the value. With reserve the value's bytes are taken at settle().
 */
static void
record_op(struct store *st, int op, MDB_dbi dbi, const MDB_val *k,
    const MDB_val *v, int reserve)
{
	struct wal *w = st->wal;
	const char *name = dbi < STORE_DBI_MAX + 2 ? st->dbnames[dbi] : NULL;
	size_t nl, vl = v ? v->mv_size : 0, need;
	uint8_t *p;

	if (name == NULL) {
		w->oom = 1;	/* an unnamed handle: refuse to log it */
		return;
	}
	nl = strlen(name);
	need = 2 + nl + 4 + k->mv_size + (v ? 4 + vl : 0);
	if ((p = buf_grow(w, need)) == NULL)
		return;
	*p++ = (uint8_t)op;
	*p++ = (uint8_t)nl;
	memcpy(p, name, nl);
	p += nl;
	le32_put(p, (uint32_t)k->mv_size);
	memcpy(p + 4, k->mv_data, k->mv_size);
	p += 4 + k->mv_size;
	if (v == NULL)
		return;
	le32_put(p, (uint32_t)vl);
	if (reserve) {
		w->res_off = (size_t)(p + 4 - w->buf);
		w->res_len = vl;
		w->res_src = v->mv_data;
	} else
		memcpy(p + 4, v->mv_data, vl);
}

int
wal_put(MDB_txn *txn, MDB_dbi dbi, MDB_val *k, MDB_val *v, unsigned flags)
{
	struct store *st = txn_store(txn);
	int rc;

	if (st != NULL)
		settle(st->wal);
	rc = mdb_put(txn, dbi, k, v, flags);
	if (rc == 0 && st != NULL)
		record_op(st, OP_PUT, dbi, k, v, (flags & MDB_RESERVE) != 0);
	return rc;
}

int
wal_del(MDB_txn *txn, MDB_dbi dbi, MDB_val *k, MDB_val *v)
{
	struct store *st = txn_store(txn);
	int rc;

	if (st != NULL)
		settle(st->wal);
	rc = mdb_del(txn, dbi, k, v);
	if (rc == 0 && st != NULL)
		record_op(st, v ? OP_DELDUP : OP_DEL, dbi, k, v, 0);
	return rc;
}

int
wal_cursor_put(MDB_cursor *cur, MDB_val *k, MDB_val *v, unsigned flags)
{
	struct store *st = txn_store(mdb_cursor_txn(cur));
	int rc;

	if (st != NULL)
		settle(st->wal);
	rc = mdb_cursor_put(cur, k, v, flags);
	if (rc == 0 && st != NULL)
		record_op(st, OP_PUT, mdb_cursor_dbi(cur), k, v,
		    (flags & MDB_RESERVE) != 0);
	return rc;
}

int
wal_cursor_del(MDB_cursor *cur, unsigned flags)
{
	MDB_txn *txn = mdb_cursor_txn(cur);
	struct store *st = txn_store(txn);
	MDB_dbi dbi = mdb_cursor_dbi(cur);
	MDB_val k, v;
	unsigned dflags = 0;
	int rc, dup;

	if (st == NULL)
		return mdb_cursor_del(cur, flags);
	settle(st->wal);
	if ((rc = mdb_cursor_get(cur, &k, &v, MDB_GET_CURRENT)) != 0)
		return rc;
	mdb_dbi_flags(txn, dbi, &dflags);
	dup = (dflags & MDB_DUPSORT) && !(flags & MDB_NODUPDATA);
	/* Record first: the key and value live in the page being changed. */
	record_op(st, dup ? OP_DELDUP : OP_DEL, dbi, &k, dup ? &v : NULL, 0);
	if ((rc = mdb_cursor_del(cur, flags)) != 0)
		st->wal->oom = 1;	/* recorded but not done: fail the commit */
	return rc;
}

/*
 * After mdb_txn_begin of a write transaction, so under LMDB's write
 * lock: an owner that starts later checkpoints after this commit, one
 * that has started (or is starting) gets this transaction logged.
 */
void
wal_txn_begin(struct store *st)
{
	struct wal *w = st->wal;

	if (w == NULL)
		return;
	w->capturing = w->owner || byte_locked(w->ctl, WAL_LOCK_OWNER);
	w->len = 0;
	w->oom = 0;
	w->res_src = NULL;
}

/* ---- the owner's checkpoints ---- */

static void
ms_since(const struct timespec *a, long *ms)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	*ms = (b.tv_sec - a->tv_sec) * 1000 + (b.tv_nsec - a->tv_nsec) /
	    1000000;
}

/* Copies LMDB's two meta pages as the file has them now. */
static int
read_metas(struct wal *w, uint8_t *out)
{
	mdb_filehandle_t fd;

	if (mdb_env_get_fd(w->env, &fd) != 0)
		return -1;
	return pread_full(fd, out, 2 * (size_t)w->psize, 0) ==
	    (ssize_t)(2 * w->psize) ? 0 : -1;
}

/* Syncs data.mdb, then writes the job's slot: 0, or -1 (try again). */
static int
ckpt_write(struct wal *w)
{
	return mdb_env_sync(w->env, 1) != 0 ||
	    hdr_write(w, w->ctl, &w->job) != 0 ? -1 : 0;
}

/* After ckpt_write: the job's pin replaces the older one, now free. */
static void
ckpt_done(struct wal *w)
{
	if (w->pin != NULL)
		mdb_txn_abort(w->pin);
	w->pin = w->next_pin;
	w->next_pin = NULL;
}

static void *
ckpt_main(void *arg)
{
	struct wal *w = arg;
	mdb_filehandle_t dfd;
	uint64_t done_txnid;
	int rc;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->busy && !w->stop) {
			if (w->trickle_ms <= 0) {
				pthread_cond_wait(&w->cv, &w->mu);
				continue;
			}
			/* Meanwhile, start writing back what LMDB dirtied,
			 * so that the checkpoint's sync finds little left. */
			if (sigil_cond_wait_ms(&w->cv, &w->mu, w->trickle_ms) &&
			    mdb_env_get_fd(w->env, &dfd) == 0) {
				pthread_mutex_unlock(&w->mu);
				(void)sync_file_range(dfd, 0, 0,
				    SYNC_FILE_RANGE_WRITE);
				pthread_mutex_lock(&w->mu);
			}
		}
		if (!w->busy)
			break;
		pthread_mutex_unlock(&w->mu);
		rc = ckpt_write(w);
		pthread_mutex_lock(&w->mu);
		if (rc) {
			/*
			 * The log still holds everything since the last good
			 * checkpoint, and the segment switched from stays
			 * untouched while busy: try the same one again.
			 */
			w->ckpt_failures++;
			w->failing = 1;
			if (w->stop) {
				w->busy = 0;
				break;
			}
			(void)sigil_cond_wait_ms(&w->cv, &w->mu, 100);
			continue;
		}
		w->failing = 0;
		ckpt_done(w);
		w->checkpoints++;
		w->busy = 0;
		/* The job is the owner's again once busy is 0. */
		done_txnid = w->job.txnid;
		pthread_cond_broadcast(&w->cv);
		pthread_mutex_unlock(&w->mu);
		wal_clear_foreign(w->dir, done_txnid);
		pthread_mutex_lock(&w->mu);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/*
 * A fingerprint of the file at pin's transaction: the number and CRC of
 * the page that holds the main database's first key. That page is M's,
 * so copy on write keeps it as it is while pin lives, in memory and,
 * once synced, on disk; a data.mdb put in the log's directory after a
 * crash does not have it. A read transaction's keys point into the map,
 * which is page aligned; the page's number is its first field (LMDB's
 * mp_pgno), and the page read back from the file at that number must
 * equal the one in memory, so a layout other than the one assumed gives
 * no fingerprint rather than a wrong one. 0: none.
 */
static void
fingerprint(struct wal *w, MDB_txn *pin, uint64_t *page, uint32_t *crc)
{
	mdb_filehandle_t fd;
	MDB_cursor *c;
	MDB_dbi dbi;
	MDB_val k, v;
	const uint8_t *mem;
	uint8_t *disk;
	uint64_t pgno;

	*page = 0;
	*crc = 0;
	if (mdb_env_get_fd(w->env, &fd) != 0 ||
	    mdb_dbi_open(pin, NULL, 0, &dbi) != 0 ||
	    mdb_cursor_open(pin, dbi, &c) != 0)
		return;
	if (mdb_cursor_get(c, &k, &v, MDB_FIRST) == 0 &&
	    (disk = malloc(w->psize)) != NULL) {
		mem = (const uint8_t *)((uintptr_t)k.mv_data &
		    ~(uintptr_t)(w->psize - 1));
		memcpy(&pgno, mem, sizeof(pgno));
		if (pgno >= 2 && pgno <= (uint64_t)INT64_MAX / w->psize &&
		    pread_full(fd, disk, w->psize, (off_t)(pgno * w->psize)) ==
		    (ssize_t)w->psize && memcmp(disk, mem, w->psize) == 0) {
			*page = pgno;
			*crc = sigil_crc32c(mem, w->psize);
		}
		free(disk);
	}
	mdb_cursor_close(c);
}

/*
 * With the write lock held (txn open, nothing committed since the last
 * commit): M is the last committed transaction. Starts a checkpoint of
 * it and moves new records to the other segment.
 */
static int
ckpt_switch(struct wal *w, MDB_txn *txn)
{
	MDB_txn *pin;

	if (mdb_txn_begin(w->env, NULL, MDB_RDONLY, &pin) != 0)
		return -1;
	w->job.state = WAL_ACTIVE;
	w->job.txnid = mdb_txn_id(txn) - 1;
	w->job.psize = w->psize;
	if (mdb_txn_id(pin) != w->job.txnid || read_metas(w, w->job.meta)) {
		mdb_txn_abort(pin);
		return -1;
	}
	fingerprint(w, pin, &w->job.fp_page, &w->job.fp_crc);
	w->job.gen = ++w->gen;
	w->seg ^= 1;
	w->job.seg = (uint32_t)w->seg;
	w->off = 0;
	clock_gettime(CLOCK_MONOTONIC, &w->switched);
	w->next_pin = pin;
	w->busy = 1;
	pthread_cond_signal(&w->cv);
	return 0;
}

/* The owner's side of a commit: the record to the active segment. */
static int
log_owned(struct wal *w, MDB_txn *txn, off_t *at)
{
	size_t len = w->len;
	long ms;
	int rc = 0;

	pthread_mutex_lock(&w->mu);
	ms_since(&w->switched, &ms);
	if (ms >= w->ckpt_ms || w->off >= WAL_SEG_BYTES / 2) {
		/*
		 * Past the whole segment, wait for the checkpoint, unless
		 * it is failing: then the segment grows past its size.
		 */
		while (w->busy && !w->failing && w->off >= WAL_SEG_BYTES)
			pthread_cond_wait(&w->cv, &w->mu);
		if (!w->busy && ckpt_switch(w, txn) != 0)
			rc = -1;
	}
	pthread_mutex_unlock(&w->mu);
	if (rc)
		return SIGIL_EIO;
	*at = w->off;
	if (rec_write(w->seg_fd[w->seg], w->off, w->gen, mdb_txn_id(txn),
	    w->buf, len) != 0 || fault_hit("wal_write") ||
	    fdatasync(w->seg_fd[w->seg]) != 0)
		return SIGIL_EIO;
	w->off += (off_t)(WAL_REC_HDR + ((len + 7) & ~(size_t)7));
	if (w->off > w->high[w->seg])
		w->high[w->seg] = w->off;
	/* Counters /metrics reads from the loop thread, without the lock. */
	__atomic_fetch_add(&w->records, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&w->bytes, WAL_REC_HDR + len, __ATOMIC_RELAXED);
	return 0;
}

/* Takes back a record whose transaction did not commit. */
static void
unlog_owned(struct wal *w, off_t at)
{
	uint8_t zero[WAL_REC_HDR] = { 0 };

	if (sigil_pwrite_all(w->seg_fd[w->seg], zero, sizeof(zero), at) == 0)
		(void)fdatasync(w->seg_fd[w->seg]);
	w->off = at;
}

static void
foreign_path(char *p, size_t cap, const char *dir, uint64_t txnid)
{
	snprintf(p, cap, "%s/wal.x.%016" PRIx64, dir, txnid);
}

/* A transaction of a non-owner: a file of its own. */
static int
log_foreign(struct wal *w, uint64_t txnid)
{
	char p[4096];
	int fd, rc;

	foreign_path(p, sizeof(p), w->dir, txnid);
	if ((fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) < 0)
		return SIGIL_EIO;
	rc = rec_write(fd, 0, 0, txnid, w->buf, w->len) != 0 ||
	    fdatasync(fd) != 0;
	close(fd);
	if (rc || fsync_dir(w->dir) != 0) {
		unlink(p);
		return SIGIL_EIO;
	}
	return 0;
}

void
wal_clear_foreign(const char *dir, uint64_t upto)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[4096];

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		char *end;
		unsigned long long id;

		if (strncmp(e->d_name, "wal.x.", 6) != 0)
			continue;
		id = strtoull(e->d_name + 6, &end, 16);
		if (*end != '\0' || id > upto)
			continue;
		if (path_in(p, sizeof(p), dir, e->d_name) == 0)
			unlink(p);
	}
	closedir(d);
}

int
wal_txn_commit(struct store *st, MDB_txn *txn)
{
	struct wal *w = st->wal;
	uint64_t txnid = mdb_txn_id(txn);
	off_t at = -1;
	char p[4096];
	int rc;

	if (w == NULL || !w->capturing || (w->len == 0 && !w->oom))
		return mdb_txn_commit(txn);
	settle(w);
	if (w->oom)
		rc = SIGIL_ENOMEM;
	else if (w->owner)
		rc = log_owned(w, txn, &at);
	else
		rc = log_foreign(w, txnid);
	if (rc != 0) {
		/* A record that may have reached the file: take it back,
		 * since its transaction never commits. */
		if (at >= 0)
			unlog_owned(w, at);
		mdb_txn_abort(txn);
		return rc;
	}
	if ((rc = mdb_txn_commit(txn)) != 0) {
		if (w->owner)
			unlog_owned(w, at);
		else {
			foreign_path(p, sizeof(p), w->dir, txnid);
			unlink(p);
		}
	}
	return rc;
}

/* ---- open and close ---- */

static void
wal_free(struct wal *w)
{
	if (w == NULL)
		return;
	if (w->ctl >= 0)
		close(w->ctl);
	for (int i = 0; i < 2; i++)
		if (w->seg_fd[i] >= 0)
			close(w->seg_fd[i]);
	free(w->buf);
	free(w->dir);
	free(w);
}

int
wal_open(const char *dir, int flags, struct wal **out, uint64_t *replayed)
{
	struct wal *w;
	struct wal_hdr *h = NULL;
	char p[4096];
	int rc = 0, have, locked;

	*out = NULL;
	*replayed = 0;
	if ((w = calloc(1, sizeof(*w))) == NULL ||
	    (w->dir = strdup(dir)) == NULL) {
		free(w);
		return SIGIL_ENOMEM;
	}
	w->ctl = w->seg_fd[0] = w->seg_fd[1] = -1;
	if (path_in(p, sizeof(p), dir, "wal") != 0) {
		rc = SIGIL_EINVAL;
		goto fail;
	}
	/* A read-only open of a store that never had a log needs none. */
	w->ctl = open(p, ((flags & STORE_RDONLY) ? O_RDWR : O_RDWR | O_CREAT) |
	    O_CLOEXEC, 0600);
	if (w->ctl < 0) {
		if (errno == ENOENT || ((flags & STORE_RDONLY) &&
		    errno == EACCES)) {
			wal_free(w);
			return 0;
		}
		rc = SIGIL_EIO;
		goto fail;
	}
	if (flags & STORE_WAL) {
		if (lock_byte(w->ctl, WAL_LOCK_OWNER, F_WRLCK, 0) != 0) {
			rc = errno == EAGAIN || errno == EACCES ? SIGIL_EBUSY :
			    SIGIL_EIO;
			goto fail;
		}
		w->owner = 1;
	}
	if ((h = malloc(sizeof(*h))) == NULL) {
		rc = SIGIL_ENOMEM;
		goto fail;
	}
	/*
	 * Recovery wants the store to itself. If others have it open and
	 * none of them owns the log, a crashed owner's log waits for them.
	 */
	locked = lock_byte(w->ctl, WAL_LOCK_OPEN, F_WRLCK, 0) == 0;
	if ((!locked && errno != EAGAIN && errno != EACCES) ||
	    (have = hdr_read(w->ctl, h)) < 0) {
		rc = SIGIL_EIO;
		goto fail;
	}
	if (have == 0 && h->state == WAL_ACTIVE) {
		if (!locked) {
			/* Unless a live owner is writing it, that log is a
			 * crashed one's (an owner sees no lock but its own). */
			if (!byte_locked(w->ctl, WAL_LOCK_OWNER)) {
				rc = SIGIL_EBUSY;
				goto fail;
			}
		} else {
			if ((rc = wal_replay(dir, h, replayed)) != 0)
				goto fail;
			w->hdr_seq = h->seq;
			h->state = WAL_CLEAN;
			if (hdr_write(w, w->ctl, h) != 0) {
				rc = SIGIL_EIO;
				goto fail;
			}
			wal_clear_foreign(dir, UINT64_MAX);
		}
	}
	if (lock_byte(w->ctl, WAL_LOCK_OPEN, F_RDLCK, 1) != 0) {
		rc = SIGIL_EIO;
		goto fail;
	}
	if (have == 0) {
		w->info.present = 1;
		w->info.owned = w->owner || byte_locked(w->ctl,
		    WAL_LOCK_OWNER);
		w->info.clean = h->state == WAL_CLEAN;
		w->info.checkpoint_txnid = h->txnid;
	}
	/* Generations go on from the last run's, never repeating one. */
	if (have == 0) {
		w->hdr_seq = h->seq;
		w->gen = h->gen + 1;
	}
	free(h);
	*out = w;
	return 0;
fail:
	free(h);
	wal_free(w);
	return rc;
}

/* Fills a new segment with zeros so that commits overwrite, not grow. */
static int
seg_prepare(const char *dir, int i, int *fd)
{
	static const uint8_t zero[65536];
	char p[4096], name[8];
	struct stat sb;

	snprintf(name, sizeof(name), "wal.%d", i);
	if (path_in(p, sizeof(p), dir, name) != 0 ||
	    (*fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0 ||
	    fstat(*fd, &sb) != 0)
		return -1;
	for (off_t off = sb.st_size; off < WAL_SEG_BYTES;
	    off += (off_t)sizeof(zero))
		if (sigil_pwrite_all(*fd, zero, sizeof(zero), off) != 0)
			return -1;
	/* A stale header at 0 must not read as this generation. */
	if (sigil_pwrite_all(*fd, zero, WAL_REC_HDR, 0) != 0)
		return -1;
	return fdatasync(*fd);
}

int
wal_own(struct store *st, MDB_env *env)
{
	struct wal *w = st->wal;
	MDB_stat ms;
	MDB_txn *txn;
	int rc;

	if (w == NULL || !w->owner)
		return SIGIL_EINVAL;
	w->env = env;
	w->ckpt_ms = (long)env_size("SIGIL_WAL_CKPT_MS", WAL_CKPT_MS, 1, 60000);
	w->trickle_ms = (long)env_size("SIGIL_WAL_TRICKLE_MS", WAL_TRICKLE_MS,
	    0, 1000);
	if (mdb_env_stat(env, &ms) != 0 || ms.ms_psize > WAL_PSIZE_MAX)
		return SIGIL_EIO;
	w->psize = ms.ms_psize;
	if (seg_prepare(w->dir, 0, &w->seg_fd[0]) != 0 ||
	    seg_prepare(w->dir, 1, &w->seg_fd[1]) != 0 ||
	    fsync_dir(w->dir) != 0)
		return SIGIL_EIO;
	pthread_mutex_init(&w->mu, NULL);
	sigil_cond_init(&w->cv);
	/* The first checkpoint, synchronously, under the write lock. */
	if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0)
		return map_err(rc);
	w->seg = 1;		/* ckpt_switch flips it to 0 */
	rc = ckpt_switch(w, txn);
	mdb_txn_abort(txn);
	w->busy = 0;
	if (rc != 0 || ckpt_write(w) != 0)
		return SIGIL_EIO;
	ckpt_done(w);
	wal_clear_foreign(w->dir, w->job.txnid);
	if (pthread_create(&w->thread, NULL, ckpt_main, w) != 0)
		return SIGIL_ENOMEM;
	w->thread_up = 1;
	return 0;
}

/*
 * Erasure (store_scrub.c): with the write lock held and nothing written
 * in txn, checkpoints the last commit and waits until it is on disk;
 * then no record in either segment is needed (the slot names the current
 * segment, empty so far, and a generation the other does not have), and
 * both are zeroed up to the highest offset written since the open
 * (seg_prepare zeroed the rest, or it was never written by this open
 * and holds zeros or records of an older generation that the open's own
 * first checkpoint made useless: zeroed too, the first time).
 */
int
wal_scrub(struct store *st, MDB_txn *txn)
{
	static const uint8_t zero[65536];
	struct wal *w = st->wal;
	int rc = 0;

	if (w == NULL || !w->owner || !w->thread_up)
		return 0;
	pthread_mutex_lock(&w->mu);
	while (w->busy && !w->failing)
		pthread_cond_wait(&w->cv, &w->mu);
	if (w->busy || ckpt_switch(w, txn) != 0)
		rc = SIGIL_EIO;
	while (rc == 0 && w->busy && !w->failing)
		pthread_cond_wait(&w->cv, &w->mu);
	if (rc == 0 && w->busy)
		rc = SIGIL_EIO;	/* failing: the checkpoint thread retries */
	pthread_mutex_unlock(&w->mu);
	for (int i = 0; rc == 0 && i < 2; i++) {
		off_t end = w->high[i] > 0 ? w->high[i] : WAL_SEG_BYTES;

		if (!w->scrubbed_once)
			end = WAL_SEG_BYTES;
		for (off_t off = 0; rc == 0 && off < end;
		    off += (off_t)sizeof(zero))
			if (sigil_pwrite_all(w->seg_fd[i], zero, sizeof(zero),
			    off) != 0)
				rc = SIGIL_EIO;
		if (rc == 0 && fdatasync(w->seg_fd[i]) != 0)
			rc = SIGIL_EIO;
		if (rc == 0)
			w->high[i] = 0;
	}
	if (rc == 0)
		w->scrubbed_once = 1;
	return rc;
}

uint64_t
wal_fp_page(struct store *st)
{
	struct wal *w = st->wal;
	uint64_t page;

	if (w == NULL || !w->owner || !w->thread_up)
		return 0;
	pthread_mutex_lock(&w->mu);
	while (w->busy && !w->failing)
		pthread_cond_wait(&w->cv, &w->mu);
	page = w->job.fp_page;
	pthread_mutex_unlock(&w->mu);
	return page;
}

void
store_wal_info(struct store *st, struct store_wal_info *out)
{
	if (st->wal == NULL)
		memset(out, 0, sizeof(*out));
	else
		*out = st->wal->info;
}

void
store_wal_stats(struct store *st, struct store_wal_stats *out)
{
	struct wal *w = st->wal;

	memset(out, 0, sizeof(*out));
	if (w == NULL || !w->owner)
		return;
	pthread_mutex_lock(&w->mu);
	out->on = 1;
	out->checkpoints = w->checkpoints;
	out->checkpoint_failures = w->ckpt_failures;
	out->records = __atomic_load_n(&w->records, __ATOMIC_RELAXED);
	out->bytes = __atomic_load_n(&w->bytes, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&w->mu);
}

/*
 * Owner: waits for the checkpoint thread, syncs everything and marks the
 * log clean; then (anyone) drops the locks.
 */
void
wal_close(struct store *st)
{
	struct wal *w = st->wal;
	MDB_txn *txn = NULL;
	int rc;

	if (w == NULL)
		return;
	if (w->owner && w->thread_up) {
		pthread_mutex_lock(&w->mu);
		w->stop = 1;
		pthread_cond_broadcast(&w->cv);
		pthread_mutex_unlock(&w->mu);
		pthread_join(w->thread, NULL);
		rc = mdb_txn_begin(w->env, NULL, 0, &txn);
		if (rc == MDB_MAP_RESIZED &&
		    mdb_env_set_mapsize(w->env, 0) == 0)
			rc = mdb_txn_begin(w->env, NULL, 0, &txn);
		/* Without the last checkpoint the next open recovers. */
		if (rc == 0) {
			w->job.state = WAL_CLEAN;
			w->job.txnid = mdb_txn_id(txn) - 1;
			w->job.fp_page = 0;	/* nothing to recover */
			if (read_metas(w, w->job.meta) == 0 &&
			    ckpt_write(w) == 0)
				wal_clear_foreign(w->dir, UINT64_MAX);
			mdb_txn_abort(txn);
		}
	}
	if (w->owner) {
		if (w->next_pin != NULL)
			mdb_txn_abort(w->next_pin);
		if (w->pin != NULL)
			mdb_txn_abort(w->pin);
		if (w->thread_up) {
			pthread_cond_destroy(&w->cv);
			pthread_mutex_destroy(&w->mu);
		}
	}
	wal_free(w);
	st->wal = NULL;
}
