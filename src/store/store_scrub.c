/*
 * store_scrub.c - after an erasure, nothing deleted stays on disk.
 *
 * LMDB is copy on write and never clears what it frees, and sigild's
 * write-ahead log keeps every change it recorded, so a key deleted by
 * erase_fn (the phone hash, 32 bytes that a brute force over the 10^10
 * mainland numbers turns back into the phone) is still in data.mdb's
 * free pages and in wal.0/wal.1. store_scrub zeroes them:
 *
 *  1. E = the last committed transaction (the erase and whatever came
 *     before it); one more commit (meta stat/scrubs) so that a snapshot
 *     newer than E exists.
 *  2. Under LMDB's write lock: the log's owner checkpoints that commit
 *     and waits until the checkpoint is on disk (wal_scrub), so neither
 *     segment is needed by recovery any more; both are zeroed up to the
 *     highest offset ever written and synced. The checkpoint's pin moves
 *     to a transaction after E.
 *  3. Still under the write lock, once no reader (the pin, other
 *     threads, other processes) is at E or older: every page on LMDB's
 *     free list that LMDB itself would reuse now (freed by a transaction
 *     older than the oldest reader) and every page past the last one in
 *     use is overwritten with zeros; in every page in use, the free gap
 *     between the node pointers and the nodes (where a deleted node's
 *     bytes stay, and where LMDB's recycled page buffers leave bytes of
 *     other pages) is zeroed. The bytes in use do not change, so readers
 *     and the checkpoint's pinned pages are unaffected; the one page a
 *     checkpoint fingerprinted (its CRC is checked at recovery) is left
 *     alone. This goes a chunk of pages per write transaction, so scans
 *     wait at most one chunk. data.mdb is synced after each chunk.
 *     store_scrub takes the chunks in one call (an erasure's writer op);
 *     store_scrub_begin and store_scrub_step one at a time (the
 *     retention job, one writer op each, scans committed between them:
 *     each chunk looks again at what is free and in use under the write
 *     lock, so pages freed or filled between two chunks are judged as
 *     they are then).
 *
 * A page of LMDB: pgno (8), pad (2), flags (2), lower (2), upper (2),
 * then the node pointers up to lower and the nodes from upper to the end
 * (LEAF2 pages: the keys from 16 on, the gap at the end); an overflow
 * page has its page count where lower/upper are. A page whose number
 * field is not its own number is not touched.
 *
 * Cost: one read of the whole data.mdb and writes of the gaps (a few
 * hundred bytes per page at most) and the free pages, plus 2 x the log's
 * high-water mark of zeros: seconds per GiB of data.mdb.
 *
 * Owns the meta key stat/scrubs, and clears scrub/pending (an erasure
 * sets it). May call: libc, LMDB, util.c, fault.h, store_env.c and wal.c
 * (wal_scrub, wal_fp_page). Must never call a table family: it reads
 * pages, not rows, and changes none of the bytes in use.
 */
#include <errno.h>
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

#define SCRUB_CHUNK	16384	/* pages per write transaction */
#define SCRUB_BLOCK	256	/* pages per read */
#define SCRUB_TRIES	500	/* 10 ms apart: readers older than E */

#define PG_BRANCH	0x01
#define PG_LEAF		0x02
#define PG_OVERFLOW	0x04
#define PG_META		0x08
#define PG_LEAF2	0x20
#define PG_SUBP		0x40
#define PG_HDR		16

static int
reader_line(const char *msg, void *ctx)
{
	uint64_t *oldest = ctx;
	unsigned long long r;
	char t[32];
	size_t tid;
	int pid;

	if (sscanf(msg, "%d %zx %31s", &pid, &tid, t) == 3 && t[0] != '-') {
		r = strtoull(t, NULL, 10);
		if (r < *oldest)
			*oldest = r;
	}
	return 0;
}

static int
bump_fn(struct store *st, MDB_txn *txn, void *arg)
{
	(void)arg;
	return meta_add(st, txn, "stat/scrubs", 1);
}

/* Marks in map the pages [from, from + n) that LMDB may reuse now. */
static int
free_pages(MDB_env *env, uint64_t oldest, uint64_t from, uint64_t n,
    uint8_t *map)
{
	MDB_txn *rt;
	MDB_cursor *c;
	MDB_val k, v;
	int rc;

	if ((rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &rt)) != 0)
		return rc;
	if ((rc = mdb_cursor_open(rt, 0, &c)) != 0) {
		mdb_txn_abort(rt);
		return rc;
	}
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		size_t id, cnt;
		const size_t *ids = v.mv_data;

		if (k.mv_size != sizeof(size_t) || v.mv_size < sizeof(size_t))
			continue;
		memcpy(&id, k.mv_data, sizeof(id));
		if ((uint64_t)id >= oldest)
			break;		/* keys are in txnid order */
		cnt = ids[0];
		if ((cnt + 1) * sizeof(size_t) > v.mv_size)
			continue;
		for (size_t i = 1; i <= cnt; i++)
			if ((uint64_t)ids[i] >= from &&
			    (uint64_t)ids[i] < from + n)
				map[ids[i] - from] = 1;
	}
	mdb_cursor_close(c);
	mdb_txn_abort(rt);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static int
nonzero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 1;
	return 0;
}

static int
zero_at(int fd, uint8_t *p, size_t n, off_t off)
{
	memset(p, 0, n);
	return sigil_pwrite_all(fd, p, n, off);
}

/* One chunk of pages, from a->from, under the write lock. */
static int
scrub_fn(struct store *st, MDB_txn *txn, void *arg)
{
	struct store_scrub_run *a = arg;
	MDB_envinfo info;
	MDB_stat ms;
	mdb_filehandle_t fd;
	struct stat sb;
	uint64_t oldest, last, fp, n, pg;
	uint8_t *map = NULL, *buf = NULL;
	size_t ps;
	int rc, dirty = 0;

	if (!a->wal_done) {
		if ((rc = wal_scrub(st, txn)) != 0)
			return rc;
		a->wal_done = 1;
	}
	oldest = mdb_txn_id(txn) - 1;
	if ((rc = mdb_reader_list(st->env, reader_line, &oldest)) < 0)
		return SIGIL_EIO;
	if (oldest <= a->after)
		return SIGIL_EBUSY;	/* a snapshot at E or older lives */
	if ((rc = mdb_env_get_fd(st->env, &fd)) != 0 ||
	    (rc = mdb_env_stat(st->env, &ms)) != 0 ||
	    (rc = mdb_env_info(st->env, &info)) != 0)
		return rc;
	if (fstat(fd, &sb) != 0)
		return SIGIL_EIO;
	ps = ms.ms_psize;
	last = info.me_last_pgno;
	fp = wal_fp_page(st);
	a->end = (uint64_t)sb.st_size / ps;
	if (a->from < 2)
		a->from = 2;
	if (a->from >= a->end)
		return 0;
	n = a->end - a->from;
	if (n > SCRUB_CHUNK)
		n = SCRUB_CHUNK;
	if ((map = calloc(n, 1)) == NULL ||
	    (buf = malloc(SCRUB_BLOCK * ps)) == NULL) {
		rc = SIGIL_ENOMEM;
		goto out;
	}
	if ((rc = free_pages(st->env, oldest, a->from, n, map)) != 0)
		goto out;
	for (pg = a->from; pg < a->from + n;) {
		uint64_t bn = a->from + n - pg, i = 0;
		ssize_t got;

		if (bn > SCRUB_BLOCK)
			bn = SCRUB_BLOCK;
		got = pread(fd, buf, bn * ps, (off_t)(pg * ps));
		if (got < 0) {
			rc = SIGIL_EIO;
			goto out;
		}
		bn = (uint64_t)got / ps;
		if (bn == 0)
			break;
		while (i < bn) {
			uint8_t *p = buf + i * ps;
			uint64_t no = pg + i, self;
			uint16_t flags, lo, up;
			off_t off = (off_t)(no * ps);

			if (no > last || map[no - a->from]) {
				if (nonzero(p, ps)) {
					if ((rc = zero_at(fd, p, ps, off)) != 0)
						goto out;
					a->stats.free_pages++;
					dirty = 1;
				}
				i++;
				continue;
			}
			memcpy(&self, p, 8);
			memcpy(&flags, p + 10, 2);
			memcpy(&lo, p + 12, 2);
			memcpy(&up, p + 14, 2);
			if (self != no || no == fp) {
				i++;
				continue;
			}
			if (flags & PG_OVERFLOW) {
				uint32_t cnt;

				memcpy(&cnt, p + 12, 4);
				i += cnt ? cnt : 1;
				continue;
			}
			if ((flags & (PG_BRANCH | PG_LEAF)) &&
			    !(flags & (PG_SUBP | PG_META)) && lo >= PG_HDR &&
			    lo <= up && up <= ps) {
				size_t g0 = lo, g1 = up;

				if (flags & PG_LEAF2) {
					g0 = ps - (size_t)(up - lo);
					g1 = ps;
				}
				if (g1 > g0 && nonzero(p + g0, g1 - g0)) {
					if ((rc = zero_at(fd, p + g0, g1 - g0,
					    off + (off_t)g0)) != 0)
						goto out;
					a->stats.gap_pages++;
					dirty = 1;
				}
			}
			i++;
		}
		pg += i;
	}
	a->from = pg > a->from + n ? pg : a->from + n;
	if (dirty && fdatasync(fd) != 0)
		rc = SIGIL_EIO;
out:
	free(map);
	free(buf);
	return rc;
}

static int
done_fn(struct store *st, MDB_txn *txn, void *arg)
{
	(void)arg;
	return meta_put(st, txn, meta_key("scrub/pending"), 0);
}

int
store_scrub_pending(struct store *st)
{
	uint64_t v = 0;

	if (st->flags & STORE_RDONLY)
		return 0;
	return STORE_READ(st, meta_get(st, txn, meta_key("scrub/pending"),
	    &v)) == 0 && v != 0;
}

static int64_t
mono_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

int
store_scrub_begin(struct store *st, struct store_scrub_run *r)
{
	MDB_envinfo info;
	int rc;

	memset(r, 0, sizeof *r);
	r->end = 1;
	if (st->flags & STORE_RDONLY)
		return SIGIL_EDENIED;
	r->t0 = mono_us();
	if ((rc = mdb_env_info(st->env, &info)) != 0)
		return map_err(rc);
	r->after = info.me_last_txnid;
	if (fault_hit("scrub"))
		return SIGIL_EIO;
	return store_write(st, bump_fn, NULL);
}

int
store_scrub_step(struct store *st, struct store_scrub_run *r)
{
	int rc;

	if (r->from < r->end) {
		if ((rc = store_write(st, scrub_fn, r)) != 0)
			return rc;
		r->stats.chunks++;
		if (r->from < r->end)
			return 1;
	}
	/* Cleared after the scrub: a crash before this runs it again. */
	if ((rc = store_write(st, done_fn, NULL)) != 0)
		return rc;
	r->stats.ms = (mono_us() - r->t0) / 1000;
	r->stats.pages = r->end;
	return 0;
}

int
store_scrub(struct store *st, struct store_scrub_stats *out)
{
	struct store_scrub_run r;
	int rc, tries = 0;

	if ((rc = store_scrub_begin(st, &r)) != 0)
		goto out;
	while ((rc = store_scrub_step(st, &r)) != 0) {
		if (rc == SIGIL_EBUSY && ++tries < SCRUB_TRIES) {
			struct timespec ts = { 0, 10 * 1000 * 1000 };

			nanosleep(&ts, NULL);
			continue;
		}
		if (rc < 0)
			break;
	}
out:
	r.stats.ms = r.t0 ? (mono_us() - r.t0) / 1000 : 0;
	r.stats.pages = r.end;
	if (out)
		*out = r.stats;
	return rc;
}
