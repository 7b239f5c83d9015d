/*
 * test_zip.c - the streaming ZIP writer (src/ground/zip.c), read back
 * field by field as PKWARE's APPNOTE.TXT (6.3.x) lays the records out:
 * local headers with bit 3 and zero CRC/sizes, data descriptors, the
 * central directory's CRC, sizes and offsets, the end record; deflated
 * entries inflate back; CRC-32 is the standard one ("123456789" gives
 * 0xCBF43926); 70,000 entries take the ZIP64 end records; bad names and
 * misuse are refused; and Info-ZIP's `unzip -t` accepts what it writes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "sigil/util.h"
#include "sigil/zip.h"
#include "tmpdir.h"

static unsigned
rd16(const unsigned char *p)
{
	return p[0] | p[1] << 8;
}

static uint32_t
rd32(const unsigned char *p)
{
	return rd16(p) | (uint32_t)rd16(p + 2) << 16;
}

static uint64_t
rd64(const unsigned char *p)
{
	return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

/* The archive of entries "a.txt" (stored) and "dir/b.svg" (deflated). */
static void
test_two_entries(void **state)
{
	char *buf = NULL;
	size_t len = 0, big_len = 5000;
	FILE *f = open_memstream(&buf, &len);
	char *big = malloc(big_len), *back = malloc(big_len);
	struct zip *z;
	const unsigned char *p, *e, *c;
	uLongf out_len = big_len;
	z_stream zs = { 0 };

	(void)state;
	for (size_t i = 0; i < big_len; i++)
		big[i] = "<svg path='h1 v2'/>\n"[i % 20];
	assert_int_equal(zip_open(f, 1796601600, &z), 0);	/* 2026-12-07 */
	assert_int_equal(zip_add(z, "a.txt", ZIP_STORE, "123456789", 9), 0);
	assert_int_equal(zip_begin(z, "dir/b.svg", ZIP_DEFLATE), 0);
	/* written in pieces, as a stream would */
	assert_int_equal(zip_write(z, big, 1000), 0);
	assert_int_equal(zip_write(z, big + 1000, big_len - 1000), 0);
	assert_int_equal(zip_end(z), 0);
	assert_int_equal(zip_entries(z), 2);
	assert_int_equal(zip_close(z), 0);
	fclose(f);
	p = (const unsigned char *)buf;

	/* Local header 1: signature, version 4.5, bit 3 and bit 11, stored,
	 * CRC and sizes 0 (in the descriptor), name. */
	assert_int_equal(rd32(p), 0x04034b50);
	assert_int_equal(rd16(p + 4), 45);
	assert_int_equal(rd16(p + 6), 0x0808);
	assert_int_equal(rd16(p + 8), 0);
	assert_int_equal(rd32(p + 14), 0);
	assert_int_equal(rd32(p + 18), 0);
	assert_int_equal(rd32(p + 22), 0);
	assert_int_equal(rd16(p + 26), 5);
	assert_int_equal(rd16(p + 28), 0);
	assert_memory_equal(p + 30, "a.txt", 5);
	assert_memory_equal(p + 35, "123456789", 9);
	/* Its data descriptor: the standard CRC-32 check value. */
	assert_int_equal(rd32(p + 44), 0x08074b50);
	assert_int_equal(rd32(p + 48), 0xcbf43926);
	assert_int_equal(rd32(p + 52), 9);
	assert_int_equal(rd32(p + 56), 9);

	/* Local header 2 at 60: deflated; the data inflates back. */
	e = p + 60;
	assert_int_equal(rd32(e), 0x04034b50);
	assert_int_equal(rd16(e + 8), 8);
	assert_memory_equal(e + 30, "dir/b.svg", 9);
	inflateInit2(&zs, -15);
	zs.next_in = (Bytef *)(uintptr_t)(e + 39);
	zs.avail_in = (uInt)(len - 39 - 60);
	zs.next_out = (Bytef *)back;
	zs.avail_out = (uInt)out_len;
	assert_int_equal(inflate(&zs, Z_FINISH), Z_STREAM_END);
	assert_int_equal(zs.total_out, big_len);
	assert_memory_equal(back, big, big_len);
	c = e + 39 + zs.total_in;	/* the descriptor follows the data */
	inflateEnd(&zs);
	assert_int_equal(rd32(c), 0x08074b50);
	assert_int_equal(rd32(c + 4), crc32(0, (const Bytef *)big,
	    (uInt)big_len));
	assert_int_equal(rd32(c + 8), zs.total_in);
	assert_int_equal(rd32(c + 12), big_len);
	assert_true(zs.total_in < big_len / 4);	/* it did compress */

	/* Central directory, then the end record. */
	c += 16;
	const unsigned char *cd = c;
	assert_int_equal(rd32(c), 0x02014b50);
	assert_int_equal(rd16(c + 10), 0);
	assert_int_equal(rd32(c + 16), 0xcbf43926);
	assert_int_equal(rd32(c + 20), 9);
	assert_int_equal(rd32(c + 24), 9);
	assert_int_equal(rd16(c + 28), 5);
	assert_int_equal(rd32(c + 42), 0);		/* local header at 0 */
	/* DOS date of 2026-12-07 (local time may shift the day by one) */
	assert_int_equal(rd16(c + 14) >> 9, 2026 - 1980);
	assert_int_equal((rd16(c + 14) >> 5) & 15, 12);
	c += 46 + 5;
	assert_int_equal(rd32(c), 0x02014b50);
	assert_int_equal(rd16(c + 10), 8);
	assert_int_equal(rd32(c + 24), big_len);
	assert_int_equal(rd32(c + 42), 60);
	c += 46 + 9;
	assert_int_equal(rd32(c), 0x06054b50);	/* no ZIP64 records */
	assert_int_equal(rd16(c + 8), 2);
	assert_int_equal(rd16(c + 10), 2);
	assert_int_equal(rd32(c + 12), (uint32_t)(c - cd));
	assert_int_equal(rd32(c + 16), (uint32_t)(cd - p));
	assert_int_equal((size_t)(c + 22 - p), len);
	free(buf);
	free(big);
	free(back);
}

/* An entry larger than the writer's 16 KiB buffer, incompressible (so
 * deflate's output fills the buffer many times), in odd-sized pieces. */
static void
test_large_deflated(void **state)
{
	size_t n = 200000, len = 0, at = 0;
	unsigned char *data = malloc(n), *back = malloc(n);
	char *buf = NULL;
	FILE *f = open_memstream(&buf, &len);
	struct zip *z;
	const unsigned char *p, *d;
	z_stream zs = { 0 };
	uint32_t x = 2463534242u;

	(void)state;
	for (size_t i = 0; i < n; i++) {	/* xorshift32 */
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		data[i] = (unsigned char)x;
	}
	assert_int_equal(zip_open(f, 0, &z), 0);
	assert_int_equal(zip_begin(z, "big.bin", ZIP_DEFLATE), 0);
	while (at < n) {
		size_t k = n - at < 7777 ? n - at : 7777;

		assert_int_equal(zip_write(z, data + at, k), 0);
		at += k;
	}
	assert_int_equal(zip_end(z), 0);
	assert_int_equal(zip_close(z), 0);
	fclose(f);
	p = (const unsigned char *)buf;
	inflateInit2(&zs, -15);
	zs.next_in = (Bytef *)(uintptr_t)(p + 30 + 7);
	zs.avail_in = (uInt)(len - 37);
	zs.next_out = back;
	zs.avail_out = (uInt)n;
	assert_int_equal(inflate(&zs, Z_FINISH), Z_STREAM_END);
	assert_int_equal(zs.total_out, n);
	assert_memory_equal(back, data, n);
	d = p + 37 + zs.total_in;
	assert_int_equal(rd32(d), 0x08074b50);
	assert_int_equal(rd32(d + 4), crc32(0, data, (uInt)n));
	assert_int_equal(rd32(d + 8), zs.total_in);
	assert_int_equal(rd32(d + 12), n);
	inflateEnd(&zs);
	free(buf);
	free(data);
	free(back);
}

/* 70,000 entries: the classic record cannot count them. */
static void
test_zip64(void **state)
{
	char *buf = NULL, name[32];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct zip *z;
	const unsigned char *end, *loc, *e64;

	(void)state;
	assert_int_equal(zip_open(f, 0, &z), 0);
	for (int i = 0; i < 70000; i++) {
		snprintf(name, sizeof name, "%d.png", i);
		assert_int_equal(zip_add(z, name, ZIP_STORE, name, 3), 0);
	}
	assert_int_equal(zip_close(z), 0);
	fclose(f);
	end = (const unsigned char *)buf + len - 22;
	assert_int_equal(rd32(end), 0x06054b50);
	assert_int_equal(rd16(end + 8), 0xffff);
	assert_int_equal(rd16(end + 10), 0xffff);
	loc = end - 20;
	assert_int_equal(rd32(loc), 0x07064b50);
	assert_int_equal(rd32(loc + 16), 1);
	e64 = (const unsigned char *)buf + rd64(loc + 8);
	assert_ptr_equal(e64, loc - 56);
	assert_int_equal(rd32(e64), 0x06064b50);
	assert_int_equal(rd64(e64 + 4), 44);
	assert_int_equal(rd64(e64 + 24), 70000);
	assert_int_equal(rd64(e64 + 32), 70000);
	/* the directory starts where it says, and ends at the record */
	assert_int_equal(rd32((const unsigned char *)buf + rd64(e64 + 48)),
	    0x02014b50);
	assert_int_equal(rd64(e64 + 48) + rd64(e64 + 40),
	    (uint64_t)(e64 - (const unsigned char *)buf));
	free(buf);
}

static void
test_refusals(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct zip *z;
	char longname[300];

	(void)state;
	memset(longname, 'a', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	assert_int_equal(zip_open(NULL, 0, &z), SIGIL_EINVAL);
	assert_int_equal(zip_open(f, 0, &z), 0);
	assert_int_equal(zip_begin(z, "", ZIP_STORE), SIGIL_EINVAL);
	assert_int_equal(zip_begin(z, "/etc/passwd", ZIP_STORE), SIGIL_EINVAL);
	assert_int_equal(zip_begin(z, "a/../../b", ZIP_STORE), SIGIL_EINVAL);
	assert_int_equal(zip_begin(z, "a\\b", ZIP_STORE), SIGIL_EINVAL);
	assert_int_equal(zip_begin(z, longname, ZIP_STORE), SIGIL_EINVAL);
	assert_int_equal(zip_begin(z, "x", 12), SIGIL_EINVAL);	/* bzip2 */
	assert_int_equal(zip_write(z, "x", 1), SIGIL_EINVAL);	/* none open */
	assert_int_equal(zip_end(z), SIGIL_EINVAL);
	assert_int_equal(zip_begin(z, "ok", ZIP_STORE), 0);
	assert_int_equal(zip_begin(z, "again", ZIP_STORE), SIGIL_EINVAL);
	assert_int_equal(zip_close(z), SIGIL_EINVAL);	/* entry open */
	fclose(f);
	free(buf);
}

/* Info-ZIP reads what we write: every entry's CRC tested. */
static void
test_unzip_accepts(void **state)
{
	char dir[64], path[128], cmd[256];
	struct zip *z;
	FILE *f;

	(void)state;
	if (system("command -v unzip >/dev/null 2>&1") != 0) {
		skip();
		return;
	}
	assert_non_null(tmpdir_new(dir, sizeof dir, "zip"));
	snprintf(path, sizeof path, "%s/t.zip", dir);
	assert_non_null(f = fopen(path, "wb"));
	assert_int_equal(zip_open(f, 1796601600, &z), 0);
	assert_int_equal(zip_add(z, "1.svg", ZIP_DEFLATE, "<svg/>", 6), 0);
	assert_int_equal(zip_add(z, "2.png", ZIP_STORE, "\x89PNG", 4), 0);
	assert_int_equal(zip_add(z, "批号.txt", ZIP_DEFLATE, "", 0), 0);
	assert_int_equal(zip_close(z), 0);
	fclose(f);
	snprintf(cmd, sizeof cmd, "unzip -tq %s >/dev/null", path);
	assert_int_equal(system(cmd), 0);
	tmpdir_remove(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_entries),
		cmocka_unit_test(test_large_deflated),
		cmocka_unit_test(test_zip64),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_unzip_accepts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
