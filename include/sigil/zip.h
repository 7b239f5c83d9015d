/*
 * zip.h - a streaming ZIP writer (PKWARE APPNOTE 6.3): entries stored or
 * deflated (zlib), each followed by a data descriptor so an entry's bytes
 * go out as they are made and nothing is written twice or sought back
 * to; ZIP64 end records once the archive has more than 65,535 entries or
 * passes 4 GiB. See src/ground/zip.c.
 */
#ifndef SIGIL_ZIP_H
#define SIGIL_ZIP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum { ZIP_STORE = 0, ZIP_DEFLATE = 8 };

struct zip;

/*
 * Starts an archive written to out (not closed, never sought). The
 * central directory is spooled to an unlinked temporary file until
 * zip_close, so memory stays flat for any number of entries. mtime is
 * every entry's modification time (local DOS time of that instant).
 * 0, SIGIL_EIO (no temporary file), SIGIL_ENOMEM.
 */
int zip_open(FILE *out, int64_t mtime, struct zip **z);

/*
 * An entry: zip_begin, any number of zip_write, zip_end. name is 1..255
 * bytes of UTF-8 without NUL, '\\' or a leading '/', no "..", (flagged
 * UTF-8). method ZIP_STORE or ZIP_DEFLATE. An entry holds less than
 * 4 GiB. 0, SIGIL_EINVAL (bad name or method, an entry already open or
 * none open, an entry too large), SIGIL_EIO, SIGIL_ENOMEM.
 */
int zip_begin(struct zip *z, const char *name, int method);
int zip_write(struct zip *z, const void *data, size_t len);
int zip_end(struct zip *z);
/* zip_begin, one zip_write and zip_end. */
int zip_add(struct zip *z, const char *name, int method, const void *data,
    size_t len);

/* Entries so far and bytes written to out so far. */
uint64_t zip_entries(const struct zip *z);
uint64_t zip_offset(const struct zip *z);

/*
 * Writes the central directory and the end records, flushes out and
 * frees z, even on failure. 0, SIGIL_EINVAL (an entry still open),
 * SIGIL_EIO.
 */
int zip_close(struct zip *z);
/* Frees without finishing, after an error. */
void zip_abort(struct zip *z);

#endif
