/*
 * fuzz_wal.c - libFuzzer target for the write-ahead log's recovery
 * (src/store/wal_replay.c: rec_read's framing, apply's parser of changes),
 * reached the way it is after a crash: store_open on a data dir whose log says
 * "active".
 *
 * Once per process a child creates a store in a scratch directory (on
 * /dev/shm when there, so recovery's syncs cost nothing), owns it with
 * STORE_WAL, commits a few transactions after the first checkpoint and
 * _exits without closing. Its data.mdb and control file `wal` are kept
 * in memory. Per input, the data dir is put back to those files and the
 * first byte of the input picks what the rest replaces:
 *
 *   even  the body of one record, framed with the right magic,
 *         generation, txnid (the checkpoint's + 1) and CRC, as the only
 *         record of the active segment: CRC-valid bytes that were never
 *         written by wal.c, so apply() is what gets fuzzed;
 *   odd   the active segment's bytes as they are: torn headers, lengths
 *         past the end, other generations, CRCs that do not hold.
 *
 * Properties: no crash or sanitizer report; store_open answers 0 or one
 * of sigil's error codes; after a successful open the log is clean (a
 * second open replays nothing), the store still holds what the
 * checkpoint did, and one framed record replays at most one transaction.
 *
 *	sh fuzz/run.sh 30 wal
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sigil/store.h"
#include "sigil/util.h"

/* The layout of src/store/wal_impl.h this harness frames records in. */
#define SLOT_OFF(i)	(4096 + (long)(i) * 20480)
#define REC_MAGIC	0x52574753u
#define REC_HDR		32

static char dir[64];
static uint8_t *tmpl_mdb, *tmpl_wal;
static size_t tmpl_mdb_len, tmpl_wal_len;
static uint32_t seg;		/* the active segment ... */
static uint64_t gen, txnid;	/* ... its generation, the checkpoint */
static void
put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void
put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t
get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void
path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

static void
die(const char *what)
{
	fprintf(stderr, "fuzz_wal: %s: %s\n", what, strerror(errno));
	abort();
}

static uint8_t *
slurp(const char *name, size_t *len)
{
	char p[128];
	struct stat sb;
	uint8_t *b;
	int fd;

	path(p, sizeof(p), name);
	if ((fd = open(p, O_RDONLY)) < 0 || fstat(fd, &sb) != 0 ||
	    (b = malloc((size_t)sb.st_size)) == NULL ||
	    read(fd, b, (size_t)sb.st_size) != sb.st_size)
		die(name);
	close(fd);
	*len = (size_t)sb.st_size;
	return b;
}

static void
spit(const char *name, const uint8_t *b, size_t len)
{
	char p[128];
	int fd;

	path(p, sizeof(p), name);
	if ((fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0 ||
	    (len && write(fd, b, len) != (ssize_t)len))
		die(name);
	close(fd);
}

/* The child: a store, owned, a few transactions, then gone. */
static void
make_store(void)
{
	struct store *st;
	struct brand b = { 0 };
	struct product p = { .brand_id = 1, .max_scanners = 5 };
	struct key_meta k;

	if (store_open(dir, STORE_CREATE, &st) != 0)
		_exit(3);
	strcpy(b.name, "acme");
	strcpy(b.base_url, "HTTPS://EXAMPLE.COM");
	strcpy(p.sku, "W1");
	strcpy(p.name, "Wine");
	if (store_brand_add(st, &b) != 0 || store_key_add(st, 1, &k) != 0)
		_exit(4);
	store_close(st);
	if (store_open(dir, STORE_WAL, &st) != 0 ||
	    store_product_add(st, &p) != 0)
		_exit(5);
	strcpy(b.name, "after the checkpoint");
	if (store_brand_add(st, &b) != 0)
		_exit(6);
	_exit(0);		/* no close: the log stays active */
}

static void
cleanup(void)
{
	const char *names[] = { "data.mdb", "lock.mdb", "wal", "wal.0",
	    "wal.1" };
	char p[128];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		path(p, sizeof(p), names[i]);
		unlink(p);
	}
	rmdir(dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" :
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	uint64_t best = 0;
	uint32_t state = 0;
	int status;
	pid_t pid;

	(void)argc;
	(void)argv;
	snprintf(dir, sizeof(dir), "%s/sigil-fuzz-wal-XXXXXX", base);
	if (mkdtemp(dir) == NULL)
		die("mkdtemp");
	atexit(cleanup);
	if ((pid = fork()) < 0)
		die("fork");
	if (pid == 0)
		make_store();
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		fprintf(stderr, "fuzz_wal: the template store failed (%d)\n",
		    status);
		abort();
	}
	tmpl_mdb = slurp("data.mdb", &tmpl_mdb_len);
	tmpl_wal = slurp("wal", &tmpl_wal_len);
	/* The newest slot: seq at 16, state at 24 (2: active), seg at 28,
	 * gen at 32, txnid at 40. */
	for (int i = 0; i < 2; i++) {
		const uint8_t *s = tmpl_wal + SLOT_OFF(i);

		if ((size_t)SLOT_OFF(i) + 48 <= tmpl_wal_len &&
		    memcmp(s, "SIGILWAL", 8) == 0 && get64(s + 16) > best) {
			best = get64(s + 16);
			state = s[24];
			seg = s[28];
			gen = get64(s + 32);
			txnid = get64(s + 40);
		}
	}
	if (best == 0 || seg > 1 || state != 2) {
		fprintf(stderr, "fuzz_wal: the template log is not active\n");
		abort();
	}
	fprintf(stderr, "fuzz_wal: template: segment %u, generation %llu, "
	    "checkpoint txnid %llu\n", seg, (unsigned long long)gen,
	    (unsigned long long)txnid);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char name[8];
	struct store *st;
	struct brand b;
	uint8_t *rec;
	size_t len;
	int rc;

	if (size < 1 || size > 1 << 16)
		return 0;
	spit("data.mdb", tmpl_mdb, tmpl_mdb_len);
	spit("wal", tmpl_wal, tmpl_wal_len);
	snprintf(name, sizeof(name), "wal.%u", seg ^ 1);
	spit(name, NULL, 0);
	snprintf(name, sizeof(name), "wal.%u", seg);
	if (data[0] & 1) {
		spit(name, data + 1, size - 1);
	} else {
		len = size - 1;
		if ((rec = calloc(1, REC_HDR + len + 8)) == NULL)
			return 0;
		put32(rec, REC_MAGIC);
		put64(rec + 8, gen);
		put64(rec + 16, txnid + 1);
		put32(rec + 24, (uint32_t)len);
		memcpy(rec + REC_HDR, data + 1, len);
		put32(rec + 4, ~sigil_crc32c_update(sigil_crc32c_update(
		    0xffffffffu, rec + 8, REC_HDR - 8), rec + REC_HDR, len));
		spit(name, rec, REC_HDR + len + 8);
		free(rec);
	}
	rc = store_open(dir, 0, &st);
	if (getenv("FUZZ_WAL_VERBOSE"))
		fprintf(stderr, "fuzz_wal: open %d replayed %llu\n", rc,
		    rc ? 0ULL : (unsigned long long)store_replayed(st));
	if (rc != 0) {
		if (rc > 0 || rc < SIGIL_EDENIED)
			abort();	/* not one of sigil's codes */
		return 0;
	}
	if (!(data[0] & 1) && store_replayed(st) > 1)
		abort();		/* one record, at most one transaction */
	if (store_brand_find(st, "acme", &b) != 0)
		abort();		/* M's data must still be there */
	store_close(st);
	/* Recovered once: the log is clean now. */
	if (store_open(dir, 0, &st) != 0 || store_replayed(st) != 0)
		abort();
	store_close(st);
	return 0;
}
