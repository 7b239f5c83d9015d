/*
 * wal_replay.c - the write-ahead log read back: the record format, and
 * recovery after an unclean stop.
 *
 * Owns the framing of a record (a 32-byte header: magic, CRC-32C,
 * generation, transaction id, length; then the changes, each an op, a
 * database name, a key and a value) and its check, and the replay that
 * wal_open runs after a crash: data.mdb's meta pages put back at the
 * checkpoint, then every logged transaction after it, from both segments
 * and the foreign files of other processes, applied in transaction
 * order (the layout and the reasons are in wal.c's opening comment and
 * docs/storage.md, "The write-ahead log").
 * May call: libc, LMDB and util.c; nothing else of the store (wal.c,
 * which calls it, is below every table family).
 * Must never: touch a struct store (recovery runs before there is one),
 * or apply a record whose CRC, generation or transaction id does not
 * fit: a log that does not match the file is SIGIL_ESTATE, not a guess.
 */
#define WAL_IMPL
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <lmdb.h>

#include "sigil/store.h"
#include "sigil/util.h"
#include "store_impl.h"
#include "wal_impl.h"

/* ---- small file helpers ---- */

/* Bytes read (short at end of file), or -1. */
ssize_t
pread_full(int fd, void *p, size_t n, off_t off)
{
	uint8_t *b = p;
	size_t got = 0;

	while (got < n) {
		ssize_t r = pread(fd, b + got, n - got, off + (off_t)got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

int
path_in(char *out, size_t cap, const char *dir, const char *name)
{
	return (size_t)snprintf(out, cap, "%s/%s", dir, name) < cap ? 0 : -1;
}

int
fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* ---- the record: header, then the changes ---- */

/* A record's CRC: header bytes 8..31, then the body. */
static uint32_t
rec_crc(const uint8_t *h, const uint8_t *body, size_t len)
{
	return ~sigil_crc32c_update(sigil_crc32c_update(0xffffffffu, h + 8,
	    WAL_REC_HDR - 8), body, len);
}

static void
rec_header(uint8_t *h, uint64_t gen, uint64_t txnid, const uint8_t *body,
    size_t len)
{
	le32_put(h, WAL_REC_MAGIC);
	le64_put(h + 8, gen);
	le64_put(h + 16, txnid);
	le32_put(h + 24, (uint32_t)len);
	le32_put(h + 28, 0);
	le32_put(h + 4, rec_crc(h, body, len));
}

static int
rec_check(const uint8_t *h, const uint8_t *body, size_t len)
{
	return le32_get(h) == WAL_REC_MAGIC &&
	    le32_get(h + 4) == rec_crc(h, body, len) ? 0 : -1;
}

/* Writes a record (header and body, one pwritev) at off of fd. */
int
rec_write(int fd, off_t off, uint64_t gen, uint64_t txnid,
    const uint8_t *body, size_t len)
{
	uint8_t h[WAL_REC_HDR];
	struct iovec iov[2] = { { h, WAL_REC_HDR }, { (void *)body, len } };
	ssize_t n;
	size_t done;

	rec_header(h, gen, txnid, body, len);
	while ((n = pwritev(fd, iov, 2, off)) < 0 && errno == EINTR)
		;
	if (n < 0)
		return -1;
	/* A short write: the rest one buffer at a time. */
	done = (size_t)n;
	if (done < WAL_REC_HDR && sigil_pwrite_all(fd, h + done,
	    WAL_REC_HDR - done, off + (off_t)done) != 0)
		return -1;
	done = done > WAL_REC_HDR ? done - WAL_REC_HDR : 0;
	return done < len ? sigil_pwrite_all(fd, body + done, len - done,
	    off + WAL_REC_HDR + (off_t)done) : 0;
}

/* ---- recovery ---- */

struct rec {
	uint64_t	 txnid;
	int		 order;		/* segment records before foreign */
	size_t		 len;
	uint8_t		*body;
};

struct recs {
	struct rec	*v;
	size_t		 n, cap;
};

static int
recs_add(struct recs *r, uint64_t txnid, int order, uint8_t *body,
    size_t len)
{
	struct rec *nv;

	if (r->n == r->cap) {
		size_t ncap = r->cap ? r->cap * 2 : 64;

		if ((nv = realloc(r->v, ncap * sizeof(*nv))) == NULL)
			return -1;
		r->v = nv;
		r->cap = ncap;
	}
	r->v[r->n].body = body;		/* r owns it now */
	r->v[r->n].txnid = txnid;
	r->v[r->n].order = order;
	r->v[r->n].len = len;
	r->n++;
	return 0;
}

static void
recs_free(struct recs *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->v[i].body);
	free(r->v);
}

/*
 * The record at off of fd, a file of size bytes, when it is whole, of
 * generation gen, its CRC holds and (exact) it ends the file: added to r
 * with *end where it ends, 1. Anything else ends a log: 0. Out of memory:
 * -1.
 */
static int
rec_read(int fd, off_t off, off_t size, uint64_t gen, int order, int exact,
    struct recs *r, off_t *end)
{
	uint8_t h[WAL_REC_HDR], *body;
	off_t room = size - off - WAL_REC_HDR;
	size_t len;

	if (room < 0 || pread_full(fd, h, WAL_REC_HDR, off) != WAL_REC_HDR ||
	    le32_get(h) != WAL_REC_MAGIC || le64_get(h + 8) != gen)
		return 0;
	/* A torn header can say anything: past the end is the end. */
	len = le32_get(h + 24);
	if ((off_t)len > room || (exact && (off_t)len != room))
		return 0;
	if ((body = malloc(len ? len : 1)) == NULL)
		return -1;
	if (pread_full(fd, body, len, off + WAL_REC_HDR) != (ssize_t)len ||
	    rec_check(h, body, len) != 0) {
		free(body);
		return 0;
	}
	if (recs_add(r, le64_get(h + 16), order, body, len) != 0) {
		free(body);
		return -1;
	}
	*end = off + WAL_REC_HDR + (off_t)len;
	return 1;
}

/* Segment records of generation gen, from the start to the first bad one. */
static int
read_segment(const char *dir, int seg, uint64_t gen, struct recs *r)
{
	char p[4096], name[8];
	struct stat sb;
	off_t off = 0, end;
	int fd, rc;

	snprintf(name, sizeof(name), "wal.%d", seg);
	if (path_in(p, sizeof(p), dir, name) != 0)
		return -1;
	if ((fd = open(p, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? 0 : -1;
	if (fstat(fd, &sb) != 0) {
		close(fd);
		return -1;
	}
	/* Records start 8-byte aligned. */
	while ((rc = rec_read(fd, off, sb.st_size, gen, 0, 0, r, &end)) == 1)
		off = (end + 7) & ~(off_t)7;
	close(fd);
	return rc < 0 ? -1 : 0;
}

/* Other processes' transactions after txnid after: one file each. */
static int
read_foreign(const char *dir, uint64_t after, struct recs *r)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int rc = 0;

	if (d == NULL)
		return -1;
	while (rc >= 0 && (e = readdir(d)) != NULL) {
		char p[4096], *end;
		struct stat sb;
		off_t rend;
		int fd;

		if (strncmp(e->d_name, "wal.x.", 6) != 0 ||
		    strtoull(e->d_name + 6, &end, 16) <= after || *end != '\0')
			continue;
		if (path_in(p, sizeof(p), dir, e->d_name) != 0 ||
		    (fd = open(p, O_RDONLY | O_CLOEXEC)) < 0)
			continue;
		if (fstat(fd, &sb) == 0)
			rc = rec_read(fd, 0, sb.st_size, 0, 1, 1, r, &rend);
		close(fd);
	}
	closedir(d);
	return rc < 0 ? -1 : 0;
}

static int
rec_cmp(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;

	if (x->txnid != y->txnid)
		return x->txnid < y->txnid ? -1 : 1;
	return x->order - y->order;
}

/* A length-prefixed byte string at *p (before end) into v; -1: cut off. */
static int
take_val(const uint8_t **p, const uint8_t *end, MDB_val *v)
{
	if (end - *p < 4)
		return -1;
	v->mv_size = le32_get(*p);
	*p += 4;
	if ((size_t)(end - *p) < v->mv_size)
		return -1;
	v->mv_data = (void *)*p;
	*p += v->mv_size;
	return 0;
}

/* Applies one record's changes inside txn; an LMDB code or SIGIL_ESTATE. */
static int
apply(MDB_txn *txn, const uint8_t *p, size_t len)
{
	const uint8_t *end = p + len;

	while (p < end) {
		char name[256];
		MDB_val k, v;
		MDB_dbi dbi;
		unsigned nl, op, dflags;
		int rc;

		if (end - p < 2)
			return SIGIL_ESTATE;
		op = p[0];
		nl = p[1];
		p += 2;
		if ((op != OP_PUT && op != OP_DEL && op != OP_DELDUP) ||
		    (size_t)(end - p) < nl)
			return SIGIL_ESTATE;
		memcpy(name, p, nl);
		name[nl] = '\0';
		p += nl;
		if (take_val(&p, end, &k) != 0 ||
		    (op != OP_DEL && take_val(&p, end, &v) != 0))
			return SIGIL_ESTATE;
		if ((rc = mdb_dbi_open(txn, name, 0, &dbi)) != 0)
			return rc == MDB_NOTFOUND ? SIGIL_ESTATE : rc;
		if (mdb_dbi_flags(txn, dbi, &dflags) != 0)
			return SIGIL_ESTATE;
		if (op == OP_PUT)
			rc = mdb_put(txn, dbi, &k, &v, 0);
		else
			rc = mdb_del(txn, dbi, &k, op == OP_DELDUP ? &v : NULL);
		if (rc == MDB_KEYEXIST && (dflags & MDB_DUPSORT))
			rc = 0;
		/* A change that does not fit the store: not this store's log. */
		if (rc == MDB_NOTFOUND || rc == MDB_KEYEXIST ||
		    rc == MDB_BAD_VALSIZE || rc == MDB_INCOMPATIBLE)
			return SIGIL_ESTATE;
		if (rc != 0)
			return rc;
	}
	return 0;
}

/*
 * 0 when data.mdb (fd) has the page the checkpoint noted; SIGIL_ESTATE
 * when it does not (another file, or one older than the checkpoint);
 * SIGIL_EIO or SIGIL_ENOMEM.
 */
static int
fingerprint_check(int fd, const struct wal_hdr *h)
{
	uint8_t *page;
	ssize_t n;
	int rc;

	if (h->fp_page == 0)
		return 0;	/* a version 1 log */
	if (h->fp_page > (uint64_t)INT64_MAX / h->psize)
		return SIGIL_ESTATE;
	if ((page = malloc(h->psize)) == NULL)
		return SIGIL_ENOMEM;
	n = pread_full(fd, page, h->psize, (off_t)(h->fp_page * h->psize));
	if (n < 0)
		rc = SIGIL_EIO;
	else
		rc = (size_t)n == h->psize &&
		    sigil_crc32c(page, h->psize) == h->fp_crc ? 0 : SIGIL_ESTATE;
	free(page);
	return rc;
}

/*
 * Puts the file back at the checkpoint and applies the log after it.
 * Runs with the recovery lock held and no environment open here.
 */
int
wal_replay(const char *dir, const struct wal_hdr *h, uint64_t *applied)
{
	struct recs r = { 0 };
	char p[4096];
	MDB_env *env = NULL;
	MDB_txn *pin = NULL, *txn;
	MDB_envinfo info;
	struct stat sb;
	int fd, rc;

	*applied = 0;
	if (path_in(p, sizeof(p), dir, "data.mdb") != 0 ||
	    (fd = open(p, O_RDWR | O_CLOEXEC)) < 0)
		return SIGIL_EIO;
	/* 1. The file the log was written for? */
	if ((rc = fingerprint_check(fd, h)) != 0) {
		close(fd);
		return rc;
	}
	/* 2. LMDB's meta pages as they were when M was synced. */
	rc = sigil_pwrite_all(fd, h->meta, 2 * (size_t)h->psize, 0) != 0 ||
	    fdatasync(fd) != 0;
	close(fd);
	if (rc)
		return SIGIL_EIO;
	/* 3. The records after M, in transaction order. */
	if (read_segment(dir, (int)h->seg, h->gen, &r) != 0 ||
	    read_segment(dir, (int)h->seg ^ 1, h->gen + 1, &r) != 0 ||
	    read_foreign(dir, h->txnid, &r) != 0) {
		rc = SIGIL_EIO;
		goto out;
	}
	if (r.n > 1)
		qsort(r.v, r.n, sizeof(*r.v), rec_cmp);
	/* 4. Apply them, with M pinned until the end is on disk. */
	if (path_in(p, sizeof(p), dir, "data.mdb") != 0 ||
	    stat(p, &sb) != 0) {
		rc = SIGIL_EIO;
		goto out;
	}
	if ((rc = mdb_env_create(&env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(env, STORE_DBI_MAX)) != 0 ||
	    (rc = mdb_env_set_mapsize(env, (size_t)sb.st_size * 2 +
	    ((size_t)64 << 20))) != 0 ||
	    (rc = mdb_env_open(env, dir, MDB_NOTLS | MDB_NOSYNC, 0600)) != 0 ||
	    (rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &pin)) != 0)
		goto out;
	if (mdb_txn_id(pin) != h->txnid) {
		rc = SIGIL_ESTATE;
		goto out;
	}
	for (size_t i = 0; i < r.n; i++) {
		if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0)
			goto out;
		if (r.v[i].txnid != mdb_txn_id(txn)) {
			/* Older: taken back or superseded. Newer: a gap. */
			mdb_txn_abort(txn);
			if (r.v[i].txnid < mdb_txn_id(txn))
				continue;
			rc = SIGIL_ESTATE;
			goto out;
		}
		rc = apply(txn, r.v[i].body, r.v[i].len);
		if (rc == 0)
			rc = mdb_txn_commit(txn);
		else
			mdb_txn_abort(txn);
		if (rc == MDB_MAP_FULL && mdb_env_info(env, &info) == 0) {
			if ((rc = mdb_env_set_mapsize(env,
			    info.me_mapsize * 2)) != 0)
				goto out;
			i--;
			continue;
		}
		if (rc != 0)
			goto out;
		++*applied;
	}
	rc = mdb_env_sync(env, 1);
out:
	if (pin != NULL)
		mdb_txn_abort(pin);
	if (env != NULL)
		mdb_env_close(env);
	recs_free(&r);
	return rc == 0 ? 0 : map_err(rc);
}
