/*
 * wtrace.c - an LD_PRELOAD library that records every write a process
 * makes under one directory, so that tests/server/powercut.py can build
 * the files a power cut could have left at any point of a run.
 *
 * A kill -9 keeps the page cache: everything written reaches the disk
 * sooner or later. A power cut keeps only what was synced, and any part of
 * what was not, in any order. Testing that needs the writes themselves,
 * which is what dm-log-writes records below a file system; this records
 * them above one, at the system calls, which needs no kernel support.
 *
 * Every record goes to the file $SIGIL_WTRACE (opened O_APPEND, one
 * write(2) per record, so several processes can share it and no record
 * is torn) with the CLOCK_MONOTONIC time it was logged at:
 *
 *   F  a file of this process was opened: (pid, id) names path, relative
 *      to $SIGIL_WTRACE_DIR ("." for the directory itself); a = 1 if the
 *      open created it, b = 1 if it truncated it
 *   W  bytes written at offset a (payload: the bytes), after the write
 *      returned; a write on an O_DSYNC/O_SYNC descriptor is W with b = 1
 *   B  a sync of file id starts (tag), before the call
 *   S  that sync returned 0 (tag), after the call
 *   T  ftruncate to a
 *   U  unlink of path (payload)
 *
 * A write is logged after it returns and a sync start before it is
 * called, both in the calling thread, so every write that happened before
 * a sync began in program order is logged before that sync's B: the
 * reader may take everything logged before B as covered once S appears.
 * A write another thread finishes while a sync runs is logged after B and
 * counted as not covered, which is the conservative side.
 *
 * Renames are not modelled: one under the directory aborts the process,
 * so a test cannot pass by silently ignoring one. lock.mdb (LMDB's reader
 * table, rebuilt at every open) is not traced. sync_file_range starts
 * write-back and promises nothing, so it is not a sync here.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

struct rec {
	uint8_t		type;
	uint8_t		pad[3];
	uint32_t	pid;
	uint32_t	file;
	uint32_t	pad2;
	uint64_t	a;
	uint64_t	b;
	int64_t		t_ns;
	uint64_t	tag;
	uint64_t	len;		/* payload bytes after the header */
};

#define MAXFD	65536

static struct {
	int32_t	id;		/* 0: not traced */
	uint8_t	dsync;
	uint8_t	append;
} fds[MAXFD];

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int trace_fd = -1;
static char dir[PATH_MAX];
static size_t dir_len;
static uint32_t next_id;
static uint64_t next_tag;

static int (*real_open)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_close)(int);
static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static ssize_t (*real_pwritev)(int, const struct iovec *, int, off_t);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_ftruncate)(int, off_t);
static int (*real_unlink)(const char *);
static int (*real_unlinkat)(int, const char *, int);
static int (*real_rename)(const char *, const char *);
static int (*real_renameat)(int, const char *, int, const char *);
static int (*real_renameat2)(int, const char *, int, const char *,
    unsigned);

static void
die(const char *what)
{
	char m[256];
	int n = snprintf(m, sizeof(m), "wtrace: %s\n", what);

	if (n > 0)
		(void)!real_write(2, m, (size_t)n);
	abort();
}

static void *
sym(const char *name)
{
	void *p = dlsym(RTLD_NEXT, name);

	if (p == NULL)
		die(name);
	return p;
}

static void
setup(void)
{
	const char *t = getenv("SIGIL_WTRACE"), *d = getenv("SIGIL_WTRACE_DIR");

	real_open = sym("open");
	real_openat = sym("openat");
	real_close = sym("close");
	real_write = sym("write");
	real_pwrite = sym("pwrite");
	real_writev = sym("writev");
	real_pwritev = sym("pwritev");
	real_fsync = sym("fsync");
	real_fdatasync = sym("fdatasync");
	real_ftruncate = sym("ftruncate");
	real_unlink = sym("unlink");
	real_unlinkat = sym("unlinkat");
	real_rename = sym("rename");
	real_renameat = sym("renameat");
	real_renameat2 = sym("renameat2");
	if (t == NULL || d == NULL || realpath(d, dir) == NULL)
		return;
	dir_len = strlen(dir);
	trace_fd = real_open(t, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0600);
	if (trace_fd < 0)
		die("cannot open $SIGIL_WTRACE");
}

static void
init(void)
{
	pthread_once(&once, setup);
}

/* Appends one record; the caller holds mu. */
static void
emit(int type, uint32_t file, uint64_t a, uint64_t b, uint64_t tag,
    const struct iovec *data, int ndata)
{
	struct iovec iov[66];
	struct rec r;
	struct timespec ts;
	ssize_t want = sizeof(r), n;
	int i;

	if (ndata > 64)
		die("too many iovecs");
	memset(&r, 0, sizeof(r));
	clock_gettime(CLOCK_MONOTONIC, &ts);
	r.type = (uint8_t)type;
	r.pid = (uint32_t)getpid();
	r.file = file;
	r.a = a;
	r.b = b;
	r.tag = tag;
	r.t_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	iov[0].iov_base = &r;
	iov[0].iov_len = sizeof(r);
	for (i = 0; i < ndata; i++) {
		iov[i + 1] = data[i];
		r.len += data[i].iov_len;
		want += (ssize_t)data[i].iov_len;
	}
	n = real_writev(trace_fd, iov, ndata + 1);
	if (n != want)
		die("short write to the trace");
}

/*
 * The traced name of path opened relative to dirfd, or NULL: "." for the
 * directory, the file's name for a file directly in it.
 */
static const char *
traced_name(int dirfd, const char *path, char *buf, size_t len)
{
	char base[PATH_MAX], full[PATH_MAX * 2], parent[PATH_MAX];
	const char *slash, *name;

	if (trace_fd < 0 || path == NULL)
		return NULL;
	if (path[0] == '/')
		snprintf(full, sizeof(full), "%s", path);
	else {
		if (dirfd == AT_FDCWD) {
			if (getcwd(base, sizeof(base)) == NULL)
				return NULL;
		} else {
			char link[64];
			ssize_t n;

			snprintf(link, sizeof(link), "/proc/self/fd/%d", dirfd);
			if ((n = readlink(link, base, sizeof(base) - 1)) < 0)
				return NULL;
			base[n] = '\0';
		}
		snprintf(full, sizeof(full), "%s/%s", base, path);
	}
	if (realpath(full, parent) != NULL && strcmp(parent, dir) == 0) {
		snprintf(buf, len, ".");
		return buf;
	}
	slash = strrchr(full, '/');
	name = slash + 1;
	if (*name == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return NULL;
	memcpy(base, full, (size_t)(slash - full));
	base[slash - full] = '\0';
	if (realpath(base[0] ? base : "/", parent) == NULL ||
	    strcmp(parent, dir) != 0 || strcmp(name, "lock.mdb") == 0)
		return NULL;
	snprintf(buf, len, "%s", name);
	return buf;
}

static int
do_open(int dirfd, const char *path, int flags, mode_t mode)
{
	char nb[NAME_MAX + 2];
	const char *name;
	struct stat st;
	int fd, existed = 1;
	struct iovec v;

	init();
	name = traced_name(dirfd, path, nb, sizeof(nb));
	if (name != NULL && (flags & O_CREAT))
		existed = fstatat(dirfd, path, &st, 0) == 0;
	fd = real_openat(dirfd, path, flags, mode);
	if (fd < 0 || name == NULL)
		return fd;
	if (fd >= MAXFD)
		die("descriptor beyond the table");
	pthread_mutex_lock(&mu);
	fds[fd].id = (int32_t)++next_id;
	fds[fd].dsync = (flags & (O_DSYNC | O_SYNC)) != 0;
	fds[fd].append = (flags & O_APPEND) != 0;
	v.iov_base = (void *)name;
	v.iov_len = strlen(name);
	emit('F', (uint32_t)fds[fd].id, !existed,
	    (flags & O_TRUNC) && (flags & O_ACCMODE) != O_RDONLY, 0, &v, 1);
	pthread_mutex_unlock(&mu);
	return fd;
}

static mode_t
mode_arg(int flags, va_list ap)
{
	return (flags & (O_CREAT | O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
}

int
open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t m;

	va_start(ap, flags);
	m = mode_arg(flags, ap);
	va_end(ap);
	return do_open(AT_FDCWD, path, flags, m);
}

int open64(const char *, int, ...) __attribute__((alias("open")));

int
openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t m;

	va_start(ap, flags);
	m = mode_arg(flags, ap);
	va_end(ap);
	return do_open(dirfd, path, flags, m);
}

int openat64(int, const char *, int, ...) __attribute__((alias("openat")));

int
__open_2(const char *path, int flags)
{
	return do_open(AT_FDCWD, path, flags, 0);
}

int
__open64_2(const char *path, int flags)
{
	return do_open(AT_FDCWD, path, flags, 0);
}

int
close(int fd)
{
	init();
	if (fd >= 0 && fd < MAXFD && fds[fd].id) {
		pthread_mutex_lock(&mu);
		fds[fd].id = 0;
		pthread_mutex_unlock(&mu);
	}
	return real_close(fd);
}

static int
traced(int fd)
{
	init();
	return fd >= 0 && fd < MAXFD && fds[fd].id != 0;
}

/* Logs n bytes of iov that went to fd at off. */
static void
log_write(int fd, const struct iovec *iov, int cnt, off_t off, ssize_t n)
{
	struct iovec part[64];
	int i, k = 0;
	size_t left;

	if (n <= 0)
		return;
	if (cnt > 64)
		die("too many iovecs");
	for (i = 0, left = (size_t)n; i < cnt && left > 0; i++) {
		part[k] = iov[i];
		if (part[k].iov_len > left)
			part[k].iov_len = left;
		left -= part[k].iov_len;
		k++;
	}
	pthread_mutex_lock(&mu);
	if (fds[fd].id)
		emit('W', (uint32_t)fds[fd].id, (uint64_t)off, fds[fd].dsync,
		    0, part, k);
	pthread_mutex_unlock(&mu);
}

/* Where a write through fd's own position is about to go. */
static off_t
position(int fd)
{
	struct stat st;

	if (fds[fd].append)
		return fstat(fd, &st) == 0 ? st.st_size : -1;
	return lseek(fd, 0, SEEK_CUR);
}

ssize_t
pwrite(int fd, const void *buf, size_t count, off_t off)
{
	struct iovec v = { (void *)buf, count };
	ssize_t n;

	if (!traced(fd))
		return real_pwrite(fd, buf, count, off);
	n = real_pwrite(fd, buf, count, off);
	log_write(fd, &v, 1, off, n);
	return n;
}

ssize_t
pwrite64(int fd, const void *buf, size_t count, off_t off)
{
	return pwrite(fd, buf, count, off);
}

ssize_t
pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
	ssize_t n;

	if (!traced(fd))
		return real_pwritev(fd, iov, cnt, off);
	n = real_pwritev(fd, iov, cnt, off);
	log_write(fd, iov, cnt, off, n);
	return n;
}

ssize_t
pwritev64(int fd, const struct iovec *iov, int cnt, off_t off)
{
	return pwritev(fd, iov, cnt, off);
}

ssize_t
write(int fd, const void *buf, size_t count)
{
	struct iovec v = { (void *)buf, count };
	off_t off;
	ssize_t n;

	if (!traced(fd))
		return real_write(fd, buf, count);
	off = position(fd);
	n = real_write(fd, buf, count);
	log_write(fd, &v, 1, off, n);
	return n;
}

ssize_t
writev(int fd, const struct iovec *iov, int cnt)
{
	off_t off;
	ssize_t n;

	if (!traced(fd))
		return real_writev(fd, iov, cnt);
	off = position(fd);
	n = real_writev(fd, iov, cnt);
	log_write(fd, iov, cnt, off, n);
	return n;
}

static int
do_sync(int fd, int (*fn)(int))
{
	uint64_t tag;
	uint32_t id;
	int rc;

	if (!traced(fd))
		return fn(fd);
	pthread_mutex_lock(&mu);
	tag = ++next_tag;
	id = (uint32_t)fds[fd].id;
	emit('B', id, 0, 0, tag, NULL, 0);
	pthread_mutex_unlock(&mu);
	rc = fn(fd);
	if (rc == 0) {
		pthread_mutex_lock(&mu);
		emit('S', id, 0, 0, tag, NULL, 0);
		pthread_mutex_unlock(&mu);
	}
	return rc;
}

int
fsync(int fd)
{
	init();
	return do_sync(fd, real_fsync);
}

int
fdatasync(int fd)
{
	init();
	return do_sync(fd, real_fdatasync);
}

int
ftruncate(int fd, off_t len)
{
	int rc;

	if (!traced(fd))
		return real_ftruncate(fd, len);
	rc = real_ftruncate(fd, len);
	if (rc == 0) {
		pthread_mutex_lock(&mu);
		emit('T', (uint32_t)fds[fd].id, (uint64_t)len, 0, 0, NULL, 0);
		pthread_mutex_unlock(&mu);
	}
	return rc;
}

int
ftruncate64(int fd, off_t len)
{
	return ftruncate(fd, len);
}

int
unlinkat(int dirfd, const char *path, int flags)
{
	char nb[NAME_MAX + 2];
	const char *name;
	struct iovec v;
	int rc;

	init();
	name = traced_name(dirfd, path, nb, sizeof(nb));
	rc = real_unlinkat(dirfd, path, flags);
	if (rc == 0 && name != NULL) {
		v.iov_base = (void *)name;
		v.iov_len = strlen(name);
		pthread_mutex_lock(&mu);
		emit('U', 0, 0, 0, 0, &v, 1);
		pthread_mutex_unlock(&mu);
	}
	return rc;
}

int
unlink(const char *path)
{
	return unlinkat(AT_FDCWD, path, 0);
}

static void
no_rename(int fd1, const char *a, int fd2, const char *b)
{
	char nb[NAME_MAX + 2];

	init();
	if (traced_name(fd1, a, nb, sizeof(nb)) != NULL ||
	    traced_name(fd2, b, nb, sizeof(nb)) != NULL)
		die("a rename under the traced directory is not modelled");
}

int
rename(const char *a, const char *b)
{
	no_rename(AT_FDCWD, a, AT_FDCWD, b);
	return real_rename(a, b);
}

int
renameat(int fd1, const char *a, int fd2, const char *b)
{
	no_rename(fd1, a, fd2, b);
	return real_renameat(fd1, a, fd2, b);
}

int
renameat2(int fd1, const char *a, int fd2, const char *b, unsigned flags)
{
	no_rename(fd1, a, fd2, b);
	return real_renameat2(fd1, a, fd2, b, flags);
}
