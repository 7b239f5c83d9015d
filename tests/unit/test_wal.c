/*
 * test_wal.c - the write-ahead log (src/store/wal.c): a store owned with
 * STORE_WAL by a child process does a mixed workload (every kind of
 * change: puts, appends, reserved values, deletes, cursor deletes,
 * duplicates), is killed with SIGKILL, and LMDB's two meta pages are
 * overwritten with garbage, as a power cut could leave them (the data
 * pages written after the last checkpoint are then unreachable). The
 * next open must recover every committed transaction: a dump of every
 * named database, key and value, equals the one taken before the kill.
 * And it must not recover into a data.mdb replaced after the crash.
 */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <lmdb.h>

#include "tmpdir.h"

#include "sigil/scan.h"
#include "sigil/store.h"
#include "sigil/util.h"

#define SERIALS		300

static uint64_t rnd = 88172645463325252ULL;

static uint64_t
next_rand(void)
{
	rnd ^= rnd << 13;
	rnd ^= rnd >> 7;
	rnd ^= rnd << 17;
	return rnd;
}

/* ---- a logical dump of every named database ---- */

static void
hex(FILE *f, const MDB_val *v)
{
	for (size_t i = 0; i < v->mv_size; i++)
		fprintf(f, "%02x", ((const uint8_t *)v->mv_data)[i]);
}

/* Every key and value of every named database, as text (malloc'd). */
static char *
dump(const char *dir)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_cursor *names, *c;
	MDB_dbi main_dbi, dbi;
	MDB_val k, v, dk, dv;
	char *out = NULL, name[256];
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_non_null(f);
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 256), 0);
	assert_int_equal(mdb_env_open(env, dir, MDB_RDONLY, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, NULL, 0, &main_dbi), 0);
	assert_int_equal(mdb_cursor_open(txn, main_dbi, &names), 0);
	while (mdb_cursor_get(names, &k, &v, MDB_NEXT) == 0) {
		assert_true(k.mv_size < sizeof(name));
		memcpy(name, k.mv_data, k.mv_size);
		name[k.mv_size] = '\0';
		assert_int_equal(mdb_dbi_open(txn, name, 0, &dbi), 0);
		assert_int_equal(mdb_cursor_open(txn, dbi, &c), 0);
		while (mdb_cursor_get(c, &dk, &dv, MDB_NEXT) == 0) {
			fprintf(f, "%s ", name);
			hex(f, &dk);
			fputc(' ', f);
			hex(f, &dv);
			fputc('\n', f);
		}
		mdb_cursor_close(c);
	}
	mdb_cursor_close(names);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	fclose(f);
	return out;
}

/* The store in dir dumps exactly as before did; frees before. */
static void
assert_dump(const char *dir, char *before)
{
	char *after = dump(dir);

	assert_string_equal(before, after);
	free(before);
	free(after);
}

static size_t
lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* What a power cut can do to LMDB's meta pages: anything. */
static void
scribble_metas(const char *dir)
{
	long psize = sysconf(_SC_PAGESIZE);
	char p[128];
	uint8_t *junk = malloc(2 * (size_t)psize);
	MDB_env *env;
	int fd;

	assert_non_null(junk);
	for (long i = 0; i < 2 * psize; i++)
		junk[i] = (uint8_t)next_rand();
	snprintf(p, sizeof(p), "%s/data.mdb", dir);
	assert_true((fd = open(p, O_WRONLY)) >= 0);
	assert_int_equal(pwrite(fd, junk, 2 * (size_t)psize, 0), 2 * psize);
	close(fd);
	free(junk);
	/* LMDB by itself cannot open that any more: the test is real. */
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_not_equal(mdb_env_open(env, dir, MDB_RDONLY, 0600), 0);
	mdb_env_close(env);
}

/*
 * Walks the records of segment fd's first generation (32-byte headers,
 * magic "SGWR" at 0, generation at 8, txnid at 16, length at 24, 8-byte
 * aligned): the offset where they end (0: none), their generation and
 * the last one's txnid.
 */
static off_t
seg_end(int fd, uint64_t *gen, uint64_t *txnid)
{
	uint8_t h[32];
	off_t off = 0;

	*gen = *txnid = 0;
	while (pread(fd, h, 32, off) == 32 && memcmp(h, "SGWR", 4) == 0) {
		uint64_t g = 0, t = 0;

		for (int b = 7; b >= 0; b--) {
			g = g << 8 | h[8 + b];
			t = t << 8 | h[16 + b];
		}
		if (off > 0 && g != *gen)
			break;
		*gen = g;
		*txnid = t;
		off += (32 + (off_t)(h[24] | h[25] << 8 | h[26] << 16 |
		    (uint32_t)h[27] << 24) + 7) & ~(off_t)7;
	}
	return off;
}

/*
 * What a torn write can leave after the last record of a segment: a
 * header with the right magic and generation whose length points far
 * past the end, then noise (layout: seg_end). Returns how many segments
 * got one.
 */
static int
tear_tails(const char *dir)
{
	int torn = 0;

	for (int i = 0; i < 2; i++) {
		uint8_t h[32], junk[4096];
		uint64_t gen, txnid;
		off_t off;
		char p[128];
		int fd;

		snprintf(p, sizeof(p), "%s/wal.%d", dir, i);
		assert_true((fd = open(p, O_RDWR)) >= 0);
		if ((off = seg_end(fd, &gen, &txnid)) > 0) {
			memset(h, 0, sizeof(h));
			memcpy(h, "SGWR", 4);
			for (int b = 0; b < 8; b++)
				h[8 + b] = (uint8_t)(gen >> (8 * b));
			memset(h + 24, 0xff, 4);	/* length 4 GiB - 1 */
			for (size_t j = 0; j < sizeof(junk); j++)
				junk[j] = (uint8_t)next_rand();
			assert_int_equal(pwrite(fd, h, 32, off), 32);
			assert_int_equal(pwrite(fd, junk, sizeof(junk), off + 32),
			    (ssize_t)sizeof(junk));
			torn++;
		}
		close(fd);
	}
	return torn;
}

static int
count_foreign(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		n += strncmp(e->d_name, "wal.x.", 6) == 0;
	closedir(d);
	return n;
}

/* ---- the workload ---- */

static void
judge(void *arg, size_t index, struct scan_rec *r, struct code_state *s)
{
	(void)arg;
	(void)index;
	scan_judge(r, s, 5, 1);
}

static void
scan_rounds(struct store *st, int rounds, int64_t *at)
{
	for (int i = 0; i < rounds; i++) {
		struct scan_rec recs[8];
		size_t n = 1 + next_rand() % 8;

		memset(recs, 0, sizeof(recs));
		for (size_t j = 0; j < n; j++) {
			*at += 600000000LL;
			recs[j].at = *at;
			recs[j].brand_id = 1;
			recs[j].batch_id = 1;
			recs[j].serial = 1 + next_rand() % (SERIALS - 10);
			recs[j].device = 1000 + next_rand() % 9;
			recs[j].verdict = VERDICT_GENUINE;
		}
		assert_int_equal(store_scans_commit(st, recs, n, judge, NULL),
		    0);
	}
}

/* A bit of everything the store writes, through its public calls. */
static void
workload(struct store *st, int64_t *at)
{
	struct brand b = { 0 };
	struct token t = { .brand_id = 1, .role = ROLE_OPERATOR };
	struct distributor d = { .brand_id = 1 };
	struct session s = { .user_id = 0 };
	struct user u = { .brand_id = 1, .role = ROLE_ADMIN };
	uint8_t h[32];
	uint64_t kids[2] = { SERIALS - 2, SERIALS - 1 }, ev, gone;
	size_t left;

	scan_rounds(st, 30, at);
	snprintf(b.name, sizeof(b.name), "brand %llu",
	    (unsigned long long)next_rand());
	strcpy(b.base_url, "HTTPS://EXAMPLE.COM");
	assert_int_equal(store_brand_add(st, &b), 0);
	for (int i = 0; i < 3; i++) {
		memset(h, 0x30 + i + (int)(next_rand() % 64), 32);
		h[0] = (uint8_t)next_rand();
		assert_int_equal(store_token_add(st, h, &t), 0);
	}
	assert_int_equal(store_token_revoke(st, t.id), 0);
	snprintf(d.name, sizeof(d.name), "dist %llu",
	    (unsigned long long)next_rand());
	assert_int_equal(store_distributor_add(st, &d), 0);
	assert_int_equal(store_aggregate(st, 1, SERIALS, kids, 2, &ev), 0);
	assert_int_equal(store_disaggregate(st, 1, SERIALS, kids, 1, &ev), 0);
	assert_int_equal(store_disaggregate(st, 1, SERIALS, NULL, 0, &ev), 0);
	snprintf(u.email, sizeof(u.email), "u%llu@example.com",
	    (unsigned long long)(next_rand() % 1000000));
	assert_int_equal(store_user_add(st, &u), 0);
	s.user_id = u.id;
	for (int i = 0; i < 4; i++) {
		memset(s.id_hash, (int)next_rand(), 32);
		s.created = 1;
		s.expires = i < 2 ? 10 : INT64_MAX / 2;
		assert_int_equal(store_session_put(st, &s), 0);
	}
	assert_int_equal(store_session_del(st, s.id_hash), 0);
	assert_int_equal(store_session_purge(st, 100, &gone), 0);
	assert_int_equal(gone, 2);
	scan_rounds(st, 30, at);
	assert_int_equal(store_state_merge(st, 64, &left), 0);
	scan_rounds(st, 30, at);
}

/* ---- fixtures ---- */

struct fixture {
	char		 dir[64];
	int64_t		 at;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct store *st;
	struct brand b = { 0 };
	struct product p = { .brand_id = 1, .max_scanners = 5 };
	struct key_meta k;
	struct batch bt = { .brand_id = 1, .count = SERIALS };

	if (f == NULL || tmpdir_new(f->dir, sizeof(f->dir), "wal") == NULL ||
	    store_open(f->dir, STORE_CREATE, &st) != 0)
		return -1;
	strcpy(b.name, "acme");
	strcpy(b.base_url, "HTTPS://EXAMPLE.COM");
	strcpy(p.sku, "W1");
	strcpy(p.name, "Wine");
	if (store_brand_add(st, &b) != 0 || store_product_add(st, &p) != 0 ||
	    store_key_add(st, 1, &k) != 0)
		return -1;
	bt.key_id = k.id;
	strcpy(bt.sku, "W1");
	strcpy(bt.lot, "L1");
	if (store_batch_new(st, &bt) != 0)
		return -1;
	store_close(st);
	f->at = 1700000000000000LL;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	tmpdir_remove(f->dir);
	free(f);
	return 0;
}

/*
 * A child that owns the log: runs the workload, says so on ready, waits
 * for a byte on go (then runs it again and says so), then waits to be
 * killed. Never returns.
 */
static void
owner_child(struct fixture *f, int ready, int go, int twice)
{
	struct store *st;
	char c = 1;

	if (store_open(f->dir, STORE_WAL, &st) != 0)
		_exit(3);
	workload(st, &f->at);
	if (write(ready, &c, 1) != 1)
		_exit(4);
	if (twice) {
		if (read(go, &c, 1) != 1)
			_exit(5);
		workload(st, &f->at);
		if (write(ready, &c, 1) != 1)
			_exit(4);
	}
	for (;;)
		pause();
}

static pid_t
spawn_owner(struct fixture *f, int twice, int *ready, int *go)
{
	int r[2], g[2];
	pid_t pid;
	char c;

	assert_int_equal(pipe(r), 0);
	assert_int_equal(pipe(g), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(r[0]);
		close(g[1]);
		owner_child(f, r[1], g[0], twice);
	}
	close(r[1]);
	close(g[0]);
	assert_int_equal(read(r[0], &c, 1), 1);
	*ready = r[0];
	*go = g[1];
	return pid;
}

static void
kill_owner(pid_t pid, int ready, int go)
{
	int status;

	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	close(ready);
	close(go);
}

/* ---- tests ---- */

/*
 * ckpt: SIGIL_WAL_CKPT_MS for the owner. "1" checkpoints at almost every
 * commit, so segments switch all the time and recovery starts from a late
 * checkpoint; "60000" never checkpoints after the first, so it applies
 * the whole workload.
 */
static void
power_cut(struct fixture *f, const char *ckpt, uint64_t min_replayed,
    int torn)
{
	struct store *st;
	int ready, go;
	pid_t pid;
	char *before;

	setenv("SIGIL_WAL_CKPT_MS", ckpt, 1);
	pid = spawn_owner(f, 0, &ready, &go);
	unsetenv("SIGIL_WAL_CKPT_MS");
	before = dump(f->dir);
	assert_true(lines(before) > 500);
	kill_owner(pid, ready, go);
	scribble_metas(f->dir);
	if (torn)
		assert_true(tear_tails(f->dir) >= 1);
	assert_int_equal(store_open(f->dir, 0, &st), 0);
	assert_true(store_replayed(st) >= min_replayed);
	store_close(st);
	assert_dump(f->dir, before);
	/* Recovered once: the next open has nothing to do. */
	assert_int_equal(store_open(f->dir, STORE_RDONLY, &st), 0);
	assert_int_equal(store_replayed(st), 0);
	store_close(st);
}

static void
test_power_cut(void **state)
{
	/* 90 scan rounds and 14 other transactions */
	power_cut(*state, "60000", 104, 0);
}

/* The same, with a torn header and noise after the last record. */
static void
test_power_cut_torn_tail(void **state)
{
	power_cut(*state, "60000", 104, 1);
}

static void
test_power_cut_checkpointing(void **state)
{
	power_cut(*state, "1", 1, 0);
}

static void
test_foreign_writer(void **state)
{
	struct fixture *f = *state;
	struct store *st;
	struct brand b = { 0 };
	struct token t = { .brand_id = 1, .role = ROLE_ANALYST };
	uint8_t h[32];
	int ready, go;
	pid_t pid;
	char *before, c = 1;

	setenv("SIGIL_WAL_CKPT_MS", "60000", 1);
	pid = spawn_owner(f, 1, &ready, &go);
	unsetenv("SIGIL_WAL_CKPT_MS");

	/* The CLI's case: writing beside a live owner. */
	assert_int_equal(store_open(f->dir, 0, &st), 0);
	strcpy(b.name, "written beside the owner");
	strcpy(b.base_url, "HTTPS://BESIDE.EXAMPLE");
	assert_int_equal(store_brand_add(st, &b), 0);
	memset(h, 0xee, 32);
	assert_int_equal(store_token_add(st, h, &t), 0);
	store_close(st);
	assert_true(count_foreign(f->dir) >= 1);
	/* The owner goes on after it, then dies. */
	assert_int_equal(write(go, &c, 1), 1);
	assert_int_equal(read(ready, &c, 1), 1);
	before = dump(f->dir);
	kill_owner(pid, ready, go);
	scribble_metas(f->dir);
	assert_int_equal(store_open(f->dir, 0, &st), 0);
	assert_true(store_replayed(st) >= 2 * 104 + 2);
	assert_int_equal(store_brand_find(st, "written beside the owner", &b),
	    0);
	store_close(st);
	assert_dump(f->dir, before);
	assert_int_equal(count_foreign(f->dir), 0);
}

/*
 * A clean stop leaves nothing to recover, so what the CLI then commits
 * on its own (LMDB's full sync) is never rolled back by the log.
 */
static void
test_clean_stop(void **state)
{
	struct fixture *f = *state;
	struct store *st;
	struct brand b = { 0 };
	int64_t at = f->at;
	char *before;

	assert_int_equal(store_open(f->dir, STORE_WAL, &st), 0);
	workload(st, &at);
	store_close(st);
	assert_int_equal(store_open(f->dir, 0, &st), 0);
	assert_int_equal(store_replayed(st), 0);
	strcpy(b.name, "after the stop");
	strcpy(b.base_url, "HTTPS://AFTER.EXAMPLE");
	assert_int_equal(store_brand_add(st, &b), 0);
	store_close(st);
	before = dump(f->dir);
	assert_int_equal(store_open(f->dir, STORE_WAL, &st), 0);
	assert_int_equal(store_replayed(st), 0);
	assert_int_equal(store_brand_find(st, "after the stop", &b), 0);
	store_close(st);
	assert_dump(f->dir, before);
}

static void
test_busy(void **state)
{
	struct fixture *f = *state;
	struct store *st, *other;
	int ready, go;
	pid_t pid = spawn_owner(f, 0, &ready, &go);

	/* One owner at a time. */
	assert_int_equal(store_open(f->dir, STORE_WAL, &st), SIGIL_EBUSY);
	assert_int_equal(store_open(f->dir, STORE_WAL | STORE_NOSYNC, &st),
	    SIGIL_EINVAL);
	/* A reader beside the owner, still open when the owner dies. */
	assert_int_equal(store_open(f->dir, STORE_RDONLY, &st), 0);
	kill_owner(pid, ready, go);
	/* Recovery cannot run under it ... */
	assert_int_equal(store_open(f->dir, 0, &other), SIGIL_EBUSY);
	store_close(st);
	/* ... and runs once it is gone. */
	assert_int_equal(store_open(f->dir, 0, &other), 0);
	assert_true(store_replayed(other) > 0);
	store_close(other);
}

/*
 * Appends to the segment that has records a CRC-valid record of the next
 * transaction with body; returns its offset (to take it back).
 */
static off_t
forge_record(const char *dir, const uint8_t *body, uint32_t len, int *seg)
{
	for (int i = 0; i < 2; i++) {
		uint8_t rec[32 + 64];
		uint64_t txnid, gen;
		off_t off;
		char p[128];
		int fd;

		snprintf(p, sizeof(p), "%s/wal.%d", dir, i);
		assert_true((fd = open(p, O_RDWR)) >= 0);
		if ((off = seg_end(fd, &gen, &txnid)) == 0) {
			close(fd);
			continue;
		}
		assert_true(len <= 64);
		memset(rec, 0, sizeof(rec));
		memcpy(rec, "SGWR", 4);
		for (int b = 0; b < 8; b++) {
			rec[8 + b] = (uint8_t)(gen >> (8 * b));
			rec[16 + b] = (uint8_t)((txnid + 1) >> (8 * b));
		}
		rec[24] = (uint8_t)len;
		memcpy(rec + 32, body, len);
		uint32_t crc = ~sigil_crc32c_update(sigil_crc32c_update(
		    0xffffffffu, rec + 8, 24), body, len);
		for (int b = 0; b < 4; b++)
			rec[4 + b] = (uint8_t)(crc >> (8 * b));
		assert_int_equal(pwrite(fd, rec, 32 + len, off), 32 + len);
		close(fd);
		*seg = i;
		return off;
	}
	fail_msg("no segment with records");
	return -1;
}

/*
 * A record that cannot apply to the store (a delete of a key that is not
 * there): the open fails with SIGIL_ESTATE, not "not found", and keeps
 * failing; with the record taken back, recovery gives the store as it
 * was at the kill.
 */
static void
test_record_that_does_not_fit(void **state)
{
	static const uint8_t del[] = { 2, 4, 'm', 'e', 't', 'a', 6, 0, 0, 0,
	    'n', 'o', 'k', 'e', 'y', '!' };
	struct fixture *f = *state;
	struct store *st;
	uint8_t zero[64] = { 0 };
	char *before, p[128];
	int ready, go, seg = -1, fd;
	off_t at;
	pid_t pid;

	setenv("SIGIL_WAL_CKPT_MS", "60000", 1);
	pid = spawn_owner(f, 0, &ready, &go);
	unsetenv("SIGIL_WAL_CKPT_MS");
	before = dump(f->dir);
	kill_owner(pid, ready, go);
	at = forge_record(f->dir, del, sizeof(del), &seg);
	assert_int_equal(store_open(f->dir, 0, &st), SIGIL_ESTATE);
	assert_int_equal(store_open(f->dir, 0, &st), SIGIL_ESTATE);
	snprintf(p, sizeof(p), "%s/wal.%d", f->dir, seg);
	assert_true((fd = open(p, O_WRONLY)) >= 0);
	assert_int_equal(pwrite(fd, zero, sizeof(zero), at), sizeof(zero));
	close(fd);
	assert_int_equal(store_open(f->dir, 0, &st), 0);
	store_close(st);
	assert_dump(f->dir, before);
}

/*
 * The log's checksum is CRC-32C (sigil_crc32c in util.c): the standard
 * check value, and the running form over pieces equals the one-shot.
 */
static void
test_crc32c_known_answer(void **state)
{
	const char *s = "123456789";

	(void)state;
	assert_int_equal(sigil_crc32c(s, 9), 0xe3069283u);
	assert_int_equal(~sigil_crc32c_update(sigil_crc32c_update(0xffffffffu,
	    s, 4), s + 4, 5), 0xe3069283u);
	assert_int_equal(sigil_crc32c(s, 0), 0);
}

/* The whole of file path; *len its size. */
static uint8_t *
slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *b;
	long n;

	assert_non_null(fp);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	assert_true((n = ftell(fp)) > 0);
	rewind(fp);
	assert_non_null(b = malloc((size_t)n));
	assert_int_equal(fread(b, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	*len = (size_t)n;
	return b;
}

/*
 * After a crash, data.mdb is overwritten in place (same inode) with an
 * older copy of itself. Applying the log to it would write the log's meta
 * pages over a file they do not describe: the open must refuse with
 * SIGIL_ESTATE and leave the file as it is. With the log moved aside the
 * copy opens as it is.
 */
static void
test_replaced_file(void **state)
{
	struct fixture *f = *state;
	const char *logs[] = { "wal", "wal.0", "wal.1" };
	struct store *st;
	char p[128];
	uint8_t *old, *now;
	size_t oldlen, nowlen;
	int ready, go, fd;
	pid_t pid;

	snprintf(p, sizeof(p), "%s/data.mdb", f->dir);
	old = slurp(p, &oldlen);
	/* Checkpoints at every commit: M is late, nothing like the copy. */
	setenv("SIGIL_WAL_CKPT_MS", "1", 1);
	pid = spawn_owner(f, 0, &ready, &go);
	unsetenv("SIGIL_WAL_CKPT_MS");
	kill_owner(pid, ready, go);
	assert_true((fd = open(p, O_WRONLY | O_TRUNC)) >= 0);
	assert_int_equal(write(fd, old, oldlen), (ssize_t)oldlen);
	close(fd);
	assert_int_equal(store_open(f->dir, 0, &st), SIGIL_ESTATE);
	assert_int_equal(store_open(f->dir, STORE_WAL, &st), SIGIL_ESTATE);
	now = slurp(p, &nowlen);
	assert_int_equal(nowlen, oldlen);
	assert_memory_equal(now, old, oldlen);
	free(now);
	for (size_t i = 0; i < sizeof(logs) / sizeof(logs[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", f->dir, logs[i]);
		assert_int_equal(unlink(p), 0);
	}
	assert_int_equal(store_open(f->dir, 0, &st), 0);
	assert_int_equal(store_replayed(st), 0);
	store_close(st);
	free(old);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32c_known_answer),
		cmocka_unit_test_setup_teardown(test_power_cut, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_power_cut_checkpointing,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_power_cut_torn_tail,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_writer, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_clean_stop, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_busy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replaced_file, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_record_that_does_not_fit,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
