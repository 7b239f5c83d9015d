/*
 * tmpdir.h - a scratch directory for a unit test under /tmp, and its
 * removal with everything in it. Header-only: each test binary is one
 * file and links nothing else of the tests.
 */
#ifndef SIGIL_TEST_TMPDIR_H
#define SIGIL_TEST_TMPDIR_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

static inline int
tmpdir_rm_entry(const char *path, const struct stat *sb, int flag,
    struct FTW *f)
{
	(void)sb;
	(void)flag;
	(void)f;
	return remove(path);
}

/* A new directory /tmp/sigil-<what>-XXXXXX in buf; NULL on failure. */
static inline char *
tmpdir_new(char *buf, size_t size, const char *what)
{
	snprintf(buf, size, "/tmp/sigil-%s-XXXXXX", what);
	return mkdtemp(buf);
}

static inline void
tmpdir_remove(const char *dir)
{
	nftw(dir, tmpdir_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
