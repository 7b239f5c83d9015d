/*
 * zip.c - a streaming ZIP writer (PKWARE APPNOTE.TXT 6.3.x).
 *
 * Each entry is a local file header with general purpose bit 3 set (CRC
 * and sizes zero there), its data, then a data descriptor (signature
 * 0x08074b50, CRC-32, compressed and uncompressed size), so a writer
 * never seeks and an entry's bytes leave as they are made: the archive
 * can be sent down a socket while it is written. Bit 11 says names are
 * UTF-8. Deflate is zlib's raw deflate (windowBits -15), level 6.
 *
 * The central directory repeats every entry with its CRC, sizes and
 * offset. It is spooled as it grows to an unlinked temporary file
 * (tmpfile(3)) and copied out by zip_close, so memory does not grow with
 * the entry count (100,000 labels need about 7 MB of spool, on disk).
 * When the archive holds more than 65,535 entries, or the directory
 * starts past 4 GiB, the end is a ZIP64 end of central directory record
 * and its locator before the classic end record (whose fields then say
 * 0xFFFF / 0xFFFFFFFF); an entry whose local header lies past 4 GiB
 * carries its offset in a ZIP64 extended information field (0x0001).
 * An entry itself stays under 4 GiB (labels are kilobytes).
 *
 * Owns struct zip. May call libc and zlib; nothing of sigil but util.h's
 * error codes. Never seeks or reads out.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zlib.h>

#include "sigil/util.h"
#include "sigil/zip.h"

#define LOCAL_SIG	0x04034b50u
#define DESC_SIG	0x08074b50u
#define CENTRAL_SIG	0x02014b50u
#define END_SIG		0x06054b50u
#define END64_SIG	0x06064b50u
#define LOC64_SIG	0x07064b50u
#define FLAGS		(0x0008u | 0x0800u)	/* descriptor, UTF-8 */
#define VERSION		45			/* 4.5: ZIP64 */
#define NAME_MAX_LEN	255
#define CHUNK		16384

struct zip {
	FILE		*out, *cd;
	uint64_t	 offset, entries, cd_size;
	uint16_t	 dos_time, dos_date;
	/* the open entry */
	int		 open, method;
	char		 name[NAME_MAX_LEN + 1];
	uint64_t	 start, csize, usize;
	uint32_t	 crc;
	z_stream	 zs;
	int		 zs_ready;
	unsigned char	 buf[CHUNK];
};

static void
le16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static void
le32(unsigned char *p, uint32_t v)
{
	le16(p, v & 0xffff);
	le16(p + 2, v >> 16);
}

static void
le64(unsigned char *p, uint64_t v)
{
	le32(p, (uint32_t)v);
	le32(p + 4, (uint32_t)(v >> 32));
}

static int
put(struct zip *z, const void *p, size_t n)
{
	if (n > 0 && fwrite(p, 1, n, z->out) != n)
		return SIGIL_EIO;
	z->offset += n;
	return 0;
}

int
zip_open(FILE *out, int64_t mtime, struct zip **zp)
{
	struct zip *z;
	struct tm tm;
	time_t t = (time_t)mtime;

	*zp = NULL;
	if (out == NULL)
		return SIGIL_EINVAL;
	if ((z = calloc(1, sizeof *z)) == NULL)
		return SIGIL_ENOMEM;
	if ((z->cd = tmpfile()) == NULL) {
		free(z);
		return SIGIL_EIO;
	}
	z->out = out;
	if (localtime_r(&t, &tm) == NULL || tm.tm_year < 80) {
		memset(&tm, 0, sizeof tm);
		tm.tm_year = 80;
		tm.tm_mday = 1;
	}
	z->dos_time = (uint16_t)(tm.tm_hour << 11 | tm.tm_min << 5 |
	    tm.tm_sec / 2);
	z->dos_date = (uint16_t)((tm.tm_year - 80) << 9 |
	    (tm.tm_mon + 1) << 5 | tm.tm_mday);
	*zp = z;
	return 0;
}

static int
name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > NAME_MAX_LEN || name[0] == '/' ||
	    strchr(name, '\\') != NULL || strstr(name, "..") != NULL)
		return 0;
	return 1;
}

int
zip_begin(struct zip *z, const char *name, int method)
{
	unsigned char h[30];
	size_t n;
	int rc;

	if (z->open || !name_ok(name) || (method != ZIP_STORE &&
	    method != ZIP_DEFLATE))
		return SIGIL_EINVAL;
	n = strlen(name);
	if (method == ZIP_DEFLATE) {
		if (!z->zs_ready) {
			if (deflateInit2(&z->zs, 6, Z_DEFLATED, -15, 8,
			    Z_DEFAULT_STRATEGY) != Z_OK)
				return SIGIL_ENOMEM;
			z->zs_ready = 1;
		} else if (deflateReset(&z->zs) != Z_OK)
			return SIGIL_EIO;
	}
	memset(h, 0, sizeof h);
	le32(h, LOCAL_SIG);
	le16(h + 4, VERSION);
	le16(h + 6, FLAGS);
	le16(h + 8, (unsigned)method);
	le16(h + 10, z->dos_time);
	le16(h + 12, z->dos_date);
	/* CRC and sizes (14..25) are zero: the descriptor has them. */
	le16(h + 26, (unsigned)n);
	z->start = z->offset;
	if ((rc = put(z, h, sizeof h)) != 0 || (rc = put(z, name, n)) != 0)
		return rc;
	memcpy(z->name, name, n + 1);
	z->method = method;
	z->crc = (uint32_t)crc32(0L, Z_NULL, 0);
	z->csize = z->usize = 0;
	z->open = 1;
	return 0;
}

/* Runs deflate over the input set in z->zs with flush, writing output. */
static int
deflate_out(struct zip *z, int flush)
{
	int zr, rc;

	do {
		z->zs.next_out = z->buf;
		z->zs.avail_out = sizeof z->buf;
		zr = deflate(&z->zs, flush);
		if (zr == Z_STREAM_ERROR)
			return SIGIL_EIO;
		size_t have = sizeof z->buf - z->zs.avail_out;
		if ((rc = put(z, z->buf, have)) != 0)
			return rc;
		z->csize += have;
	} while (z->zs.avail_out == 0 || (flush == Z_FINISH &&
	    zr != Z_STREAM_END));
	return 0;
}

int
zip_write(struct zip *z, const void *data, size_t len)
{
	const unsigned char *p = data;
	int rc;

	if (!z->open)
		return SIGIL_EINVAL;
	while (len > 0) {
		uInt n = len > (1u << 30) ? 1u << 30 : (uInt)len;

		if (z->usize + n >= 0xffffffffull)
			return SIGIL_EINVAL;
		z->crc = (uint32_t)crc32(z->crc, p, n);
		z->usize += n;
		if (z->method == ZIP_STORE) {
			if ((rc = put(z, p, n)) != 0)
				return rc;
			z->csize += n;
		} else {
			z->zs.next_in = (Bytef *)(uintptr_t)p;
			z->zs.avail_in = n;
			if ((rc = deflate_out(z, Z_NO_FLUSH)) != 0)
				return rc;
		}
		p += n;
		len -= n;
	}
	return 0;
}

int
zip_end(struct zip *z)
{
	unsigned char d[16], c[46 + 12];
	size_t n, extra = 0;
	int rc;

	if (!z->open)
		return SIGIL_EINVAL;
	if (z->method == ZIP_DEFLATE) {
		z->zs.next_in = Z_NULL;
		z->zs.avail_in = 0;
		if ((rc = deflate_out(z, Z_FINISH)) != 0)
			return rc;
	}
	if (z->csize >= 0xffffffffull)
		return SIGIL_EINVAL;
	le32(d, DESC_SIG);
	le32(d + 4, z->crc);
	le32(d + 8, (uint32_t)z->csize);
	le32(d + 12, (uint32_t)z->usize);
	if ((rc = put(z, d, sizeof d)) != 0)
		return rc;
	/* Its central directory record, spooled. */
	n = strlen(z->name);
	memset(c, 0, sizeof c);
	le32(c, CENTRAL_SIG);
	le16(c + 4, 3 << 8 | VERSION);	/* made by: Unix */
	le16(c + 6, VERSION);
	le16(c + 8, FLAGS);
	le16(c + 10, (unsigned)z->method);
	le16(c + 12, z->dos_time);
	le16(c + 14, z->dos_date);
	le32(c + 16, z->crc);
	le32(c + 20, (uint32_t)z->csize);
	le32(c + 24, (uint32_t)z->usize);
	le16(c + 28, (unsigned)n);
	le32(c + 38, (uint32_t)0100644 << 16);	/* external: -rw-r--r-- */
	if (z->start >= 0xffffffffull) {
		extra = 12;
		le32(c + 42, 0xffffffffu);
		le16(c + 46, 0x0001);
		le16(c + 48, 8);
		le64(c + 50, z->start);
	} else
		le32(c + 42, (uint32_t)z->start);
	le16(c + 30, (unsigned)extra);
	if (fwrite(c, 1, 46, z->cd) != 46 || fwrite(z->name, 1, n, z->cd) !=
	    n || (extra && fwrite(c + 46, 1, extra, z->cd) != extra))
		return SIGIL_EIO;
	z->cd_size += 46 + n + extra;
	z->entries++;
	z->open = 0;
	return 0;
}

int
zip_add(struct zip *z, const char *name, int method, const void *data,
    size_t len)
{
	int rc;

	if ((rc = zip_begin(z, name, method)) != 0 ||
	    (rc = zip_write(z, data, len)) != 0)
		return rc;
	return zip_end(z);
}

uint64_t
zip_entries(const struct zip *z)
{
	return z->entries;
}

uint64_t
zip_offset(const struct zip *z)
{
	return z->offset;
}

static int
finish(struct zip *z)
{
	unsigned char e[56 + 20 + 22];
	uint64_t cd_start = z->offset;
	size_t n;
	int rc, z64;

	if (z->open)
		return SIGIL_EINVAL;
	if (fflush(z->cd) != 0 || fseek(z->cd, 0, SEEK_SET) != 0)
		return SIGIL_EIO;
	while ((n = fread(z->buf, 1, sizeof z->buf, z->cd)) > 0)
		if ((rc = put(z, z->buf, n)) != 0)
			return rc;
	if (ferror(z->cd))
		return SIGIL_EIO;
	z64 = z->entries > 0xffff || cd_start >= 0xffffffffull ||
	    z->cd_size >= 0xffffffffull;
	if (z64) {
		uint64_t end64 = z->offset;

		memset(e, 0, 76);
		le32(e, END64_SIG);
		le64(e + 4, 56 - 12);	/* size of the rest of the record */
		le16(e + 12, 3 << 8 | VERSION);
		le16(e + 14, VERSION);
		/* disk numbers 16..23 stay 0 */
		le64(e + 24, z->entries);
		le64(e + 32, z->entries);
		le64(e + 40, z->cd_size);
		le64(e + 48, cd_start);
		le32(e + 56, LOC64_SIG);
		le32(e + 60, 0);
		le64(e + 64, end64);
		le32(e + 72, 1);	/* total disks */
		if ((rc = put(z, e, 76)) != 0)
			return rc;
	}
	memset(e, 0, 22);
	le32(e, END_SIG);
	le16(e + 8, z64 && z->entries > 0xffff ? 0xffff :
	    (unsigned)z->entries);
	le16(e + 10, z64 && z->entries > 0xffff ? 0xffff :
	    (unsigned)z->entries);
	le32(e + 12, z->cd_size >= 0xffffffffull ? 0xffffffffu :
	    (uint32_t)z->cd_size);
	le32(e + 16, cd_start >= 0xffffffffull ? 0xffffffffu :
	    (uint32_t)cd_start);
	if ((rc = put(z, e, 22)) != 0)
		return rc;
	return fflush(z->out) == 0 ? 0 : SIGIL_EIO;
}

int
zip_close(struct zip *z)
{
	int rc = finish(z);

	zip_abort(z);
	return rc;
}

void
zip_abort(struct zip *z)
{
	if (z == NULL)
		return;
	if (z->zs_ready)
		deflateEnd(&z->zs);
	if (z->cd != NULL)
		fclose(z->cd);
	free(z);
}
