/*
 * datadir.c - `sigil stats` and `sigil backup`: the data directory as a
 * whole. Both open the store read-only, so they run beside a live sigild.
 *
 * stats counts what the store holds and says what state the write-ahead
 * log is in (none yet, owned by a running sigild, or clean or active with
 * no sigild), and whether this very open replayed it after an unclean
 * stop. backup writes a consistent copy of the store (LMDB's own copy,
 * taken in one read transaction) and the keyring into a new or empty
 * directory, 0700; a failed backup removes what it wrote.
 *
 * Owns: the rules for where a backup may go (not a directory others can
 * enter, not one that holds anything).
 * May call: cli.c and the store (stats, WAL state, backup).
 * Must never: change the store, or copy the keyring anywhere but into the
 * 0700 directory, 0600 and fsynced.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "sigil/store.h"
#include "sigil/util.h"
#include "cli.h"

/* ---- stats and backup ---- */

/* The write-ahead log's line of `sigil stats`. */
static void
print_wal(const struct store_wal_info *w, uint64_t replayed)
{
	if (!w->present)
		printf("write-ahead log none yet (the store has not run under a "
		    "sigild with it)\n");
	else if (w->owned)
		printf("write-ahead log in use by a running sigild (checkpoint "
		    "at transaction %llu)\n",
		    (unsigned long long)w->checkpoint_txnid);
	else
		printf("write-ahead log %s, no sigild running (last checkpoint "
		    "at transaction %llu)\n", w->clean ? "clean" : "active",
		    (unsigned long long)w->checkpoint_txnid);
	if (replayed > 0)
		printf("  recovered: %llu transactions applied from it by this "
		    "open, after an unclean stop\n",
		    (unsigned long long)replayed);
}

int
cmd_stats(struct opts *o)
{
	struct store *st;
	struct store_stats s;
	struct store_wal_info w;
	uint64_t replayed;
	int rc;

	if (cli_store_open(o, STORE_RDONLY, &st))
		return EXIT_USAGE;
	rc = store_stats(st, &s);
	store_wal_info(st, &w);
	replayed = store_replayed(st);
	store_close(st);
	if (rc != 0)
		return cli_fail(EXIT_USAGE, "cannot read stats: %s",
		    sigil_strerror(rc));
	if (o->json) {
		json_t *v = json_object();

		for (int i = 0; i < SCAN_VERDICTS; i++)
			json_object_set_new(v, cli_verdict_name(i),
			    json_integer((json_int_t)s.by_verdict[i]));
		return cli_emit_json(json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, "
		    "s:I, s:o, s:{s:b, s:b, s:b, s:I, s:I}}", "brands",
		    (json_int_t)s.brands, "products",
		    (json_int_t)s.products, "batches", (json_int_t)s.batches,
		    "codes_issued", (json_int_t)s.codes_issued,
		    "codes_scanned", (json_int_t)s.codes_scanned,
		    "scans", (json_int_t)s.scans, "bots", (json_int_t)s.bots,
		    "by_verdict", v, "wal", "present", w.present, "owned",
		    w.owned, "clean", w.clean, "checkpoint_txnid",
		    (json_int_t)w.checkpoint_txnid, "replayed",
		    (json_int_t)replayed));
	}
	printf("brands         %llu\nproducts       %llu\nbatches        %llu\n"
	    "codes issued   %llu\ncodes scanned  %llu\nscans          %llu "
	    "(%llu by bots)\n", (unsigned long long)s.brands,
	    (unsigned long long)s.products, (unsigned long long)s.batches,
	    (unsigned long long)s.codes_issued,
	    (unsigned long long)s.codes_scanned, (unsigned long long)s.scans,
	    (unsigned long long)s.bots);
	for (int i = 0; i < SCAN_VERDICTS; i++)
		printf("  %-12s %llu\n", cli_verdict_name(i),
		    (unsigned long long)s.by_verdict[i]);
	print_wal(&w, replayed);
	return EXIT_OK;
}

/* Copies the keyring file to dst (0600, fsynced). 0 or -1 with errno. */
static int
copy_file(const char *src, const char *dst)
{
	char buf[65536];
	ssize_t n;
	int in, out, ok = 0;

	if ((in = open(src, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	if ((out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) < 0) {
		close(in);
		return -1;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			break;
	if (n == 0 && fsync(out) == 0)
		ok = 1;
	close(in);
	if (close(out) != 0)
		ok = 0;
	return ok ? 0 : -1;
}

int
cmd_backup(struct opts *o)
{
	char krpath[4096], dst[4096];
	struct store *st;
	struct stat sb;
	DIR *d;
	int rc, n = 0, have_keyring;

	if (cli_require(o->out, "out"))
		return EXIT_USAGE;
	/*
	 * The copy holds personal data and the keyring sits beside it: an
	 * existing directory others may enter is refused, not chmod'ed (it
	 * may be shared on purpose; the user decides).
	 */
	if (stat(o->out, &sb) == 0) {
		if (!S_ISDIR(sb.st_mode))
			return cli_fail(EXIT_USAGE, "'%s' is not a directory",
			    o->out);
		if (sb.st_mode & 077)
			return cli_fail(EXIT_USAGE, "'%s' is accessible to "
			    "group or others (mode %04o); use a new directory "
			    "or chmod 700 it first", o->out,
			    (unsigned)(sb.st_mode & 07777));
	}
	if ((d = opendir(o->out)) != NULL) {
		for (struct dirent *e; (e = readdir(d)) != NULL;)
			n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
		closedir(d);
		if (n > 0)
			return cli_fail(EXIT_USAGE, "'%s' is not empty", o->out);
	}
	cli_keyring_path(o, krpath, sizeof(krpath));
	have_keyring = stat(krpath, &sb) == 0;
	if (cli_store_open(o, STORE_RDONLY, &st))
		return EXIT_USAGE;
	if (mkdir(o->out, 0700) != 0 && errno != EEXIST) {
		store_close(st);
		return cli_fail(EXIT_USAGE, "cannot create '%s': %s", o->out,
		    strerror(errno));
	}
	rc = store_backup(st, o->out);
	store_close(st);
	if (rc != 0) {
		cli_remove_dir(o->out);
		return cli_fail(EXIT_USAGE, "backup failed: %s",
		    sigil_strerror(rc));
	}
	printf("%s/data.mdb: consistent copy of %s\n", o->out, o->data);
	if (have_keyring) {
		snprintf(dst, sizeof(dst), "%s/keyring", o->out);
		if (copy_file(krpath, dst) != 0) {
			int e = errno;

			cli_remove_dir(o->out);
			return cli_fail(EXIT_USAGE, "cannot copy keyring: %s",
			    strerror(e));
		}
		printf("%s: keyring (mode 0600; keep it secret)\n", dst);
	}
	return EXIT_OK;
}

