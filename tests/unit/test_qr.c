/*
 * test_qr.c - qr.c against real decoders: every symbol written as SVG,
 * PNG or PDF is read back by zbarimg (after rsvg-convert or pdftoppm
 * where zbar cannot read the format) and must give the exact input.
 * The external tools are required: a missing tool fails the test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <pthread.h>

#include <cmocka.h>
#include <png.h>

#include "sigil/font.h"
#include "sigil/qr.h"
#include "sigil/util.h"

#define NSAMPLES 20

static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
static char samples[NSAMPLES][400];
static char tmpdir[] = "/tmp/test_qr.XXXXXX";

/* Deterministic Crockford string of n characters. */
static void
crockford_fill(char *out, size_t n, uint32_t *seed)
{
	for (size_t i = 0; i < n; i++) {
		*seed = *seed * 1103515245u + 12345u;
		out[i] = crockford[(*seed >> 16) & 31];
	}
	out[n] = '\0';
}

static void
compact_url(char *out, size_t codelen, uint32_t *seed)
{
	char code[64];

	crockford_fill(code, codelen, seed);
	sprintf(out, "HTTPS://EXAMPLE12.COM/S/%s", code);
}

static int
setup(void **state)
{
	uint32_t seed = 7;
	int i;

	(void)state;
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	/* Half compact upper-case URLs, half GS1 Digital Link. */
	for (i = 0; i < NSAMPLES / 2; i++)
		compact_url(samples[i], 28, &seed);
	for (; i < NSAMPLES; i++) {
		char tag[32];

		crockford_fill(tag, 20, &seed);
		sprintf(samples[i], "https://example.com/01/09506000134352/10/"
		    "LOT%d/21/%d?s=%s", i, 12345 + i * 7919, tag);
	}
	strcpy(samples[NSAMPLES - 1], "https://example.com/01/09506000134352/"
	    "10/LOT1/21/12345?s=ABCDEFGHJKMNPQRSTVWX");
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Runs cmd, collects its stdout into out; returns the exit status. */
static int
run(char *out, size_t outsz, const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	size_t n = 0, r;
	FILE *p;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (n + 1 < outsz && (r = fread(out + n, 1, outsz - 1 - n, p)) > 0)
		n += r;
	out[n] = '\0';
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void
require_tool(const char *tool)
{
	char out[256];

	if (run(out, sizeof(out), "command -v %s", tool) != 0)
		fail_msg("%s is required (see scripts/deps.sh)", tool);
}

static void
chomp(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

static void
test_level_parse(void **state)
{
	int level = -1;

	(void)state;
	assert_int_equal(qr_level_parse("L", &level), 0);
	assert_int_equal(level, QR_LEVEL_L);
	assert_int_equal(qr_level_parse("m", &level), 0);
	assert_int_equal(level, QR_LEVEL_M);
	assert_int_equal(qr_level_parse("q", &level), 0);
	assert_int_equal(level, QR_LEVEL_Q);
	assert_int_equal(qr_level_parse("H", &level), 0);
	assert_int_equal(level, QR_LEVEL_H);
	level = 99;
	assert_int_equal(qr_level_parse("", &level), SIGIL_EINVAL);
	assert_int_equal(qr_level_parse("X", &level), SIGIL_EINVAL);
	assert_int_equal(qr_level_parse("MM", &level), SIGIL_EINVAL);
	assert_int_equal(qr_level_parse("\xcd", &level), SIGIL_EINVAL);
	assert_int_equal(qr_level_parse(NULL, &level), SIGIL_EINVAL);
	assert_int_equal(level, 99);	/* untouched on failure */
}

static void
test_encode_known(void **state)
{
	struct qr *q;

	(void)state;
	/* Version 1 is 21 modules; finder corners are dark, their
	 * separators light. */
	assert_int_equal(qr_encode("HELLO WORLD", QR_LEVEL_Q, &q), 0);
	assert_int_equal(qr_version(q), 1);
	assert_int_equal(qr_width(q), 21);
	assert_int_equal(qr_module(q, 0, 0), 1);
	assert_int_equal(qr_module(q, 20, 0), 1);
	assert_int_equal(qr_module(q, 0, 20), 1);
	assert_int_equal(qr_module(q, 7, 0), 0);
	assert_int_equal(qr_module(q, 0, 7), 0);
	assert_int_equal(qr_module(q, 20, 20) | 1, 1);
	/* Outside the symbol reads as light, never out of bounds. */
	assert_int_equal(qr_module(q, -1, 0), 0);
	assert_int_equal(qr_module(q, 21, 0), 0);
	assert_int_equal(qr_module(q, 0, 21), 0);
	assert_int_equal(qr_module(q, 0, -5), 0);
	qr_free(q);
	qr_free(NULL);

	/* Version n has 17 + 4n modules. */
	assert_int_equal(qr_encode(samples[NSAMPLES - 1], QR_LEVEL_M, &q), 0);
	assert_int_equal(qr_width(q), 17 + 4 * qr_version(q));
	qr_free(q);
}

/* SPEC 2: upper-case base URL, 12-char host, CODE up to 30 chars: v3-M. */
static void
test_encode_compact_version3(void **state)
{
	char url[128], lower[128];
	uint32_t seed = 12345;
	struct qr *q;

	(void)state;
	for (int i = 0; i < 200; i++) {
		compact_url(url, i % 2 ? 28 : 30, &seed);
		assert_int_equal(strlen(url), i % 2 ? 52 : 54);
		assert_int_equal(qr_encode(url, QR_LEVEL_M, &q), 0);
		assert_int_equal(qr_version(q), 3);
		assert_int_equal(qr_width(q), 29);
		qr_free(q);
	}
	strcpy(url, "HTTPS://EXAMPLE12.COM/S/ZZZZZZZZZZZZZZZZZZZZZZZZZZZZ");
	assert_int_equal(qr_encode(url, QR_LEVEL_M, &q), 0);
	assert_int_equal(qr_version(q), 3);
	qr_free(q);
	/* The same characters in lower case need byte mode and do not fit:
	 * proof that alphanumeric mode is what keeps it at version 3. */
	for (size_t i = 0; i <= strlen(url); i++)
		lower[i] = (char)(url[i] >= 'A' && url[i] <= 'Z' ?
		    url[i] + 32 : url[i]);
	assert_int_equal(qr_encode(lower, QR_LEVEL_M, &q), 0);
	assert_true(qr_version(q) > 3);
	qr_free(q);
}

static void
test_encode_hostile(void **state)
{
	struct qr *q = (struct qr *)0x1;
	char *big;

	(void)state;
	assert_int_equal(qr_encode("", QR_LEVEL_M, &q), SIGIL_EINVAL);
	assert_int_equal(qr_encode(NULL, QR_LEVEL_M, &q), SIGIL_EINVAL);
	assert_int_equal(qr_encode("A", -1, &q), SIGIL_EINVAL);
	assert_int_equal(qr_encode("A", QR_LEVEL_H + 1, &q), SIGIL_EINVAL);
	assert_ptr_equal(q, (struct qr *)0x1);

	big = malloc(4000);
	assert_non_null(big);
	/* 2953 bytes is the 8-bit capacity of version 40-L exactly. */
	memset(big, 'a', 2953);
	big[2953] = '\0';
	assert_int_equal(qr_encode(big, QR_LEVEL_L, &q), 0);
	assert_int_equal(qr_version(q), 40);
	assert_int_equal(qr_width(q), 177);
	qr_free(q);
	q = (struct qr *)0x1;
	/* Same length, but level M holds less: does not fit. */
	assert_int_equal(qr_encode(big, QR_LEVEL_M, &q), SIGIL_EINVAL);
	/* One byte over any capacity, and far over. */
	big[2953] = 'a';
	big[2954] = '\0';
	assert_int_equal(qr_encode(big, QR_LEVEL_L, &q), SIGIL_EINVAL);
	memset(big, '1', 3999);
	big[3999] = '\0';
	assert_int_equal(qr_encode(big, QR_LEVEL_L, &q), SIGIL_EINVAL);
	assert_ptr_equal(q, (struct qr *)0x1);
	free(big);

	/* Non-ASCII bytes are fine: 8-bit mode. */
	assert_int_equal(qr_encode("\xe4\xb8\x80\xe7\x89\xa9", QR_LEVEL_M, &q),
	    0);
	assert_int_equal(qr_version(q), 1);
	qr_free(q);
}

static void
test_writer_hostile(void **state)
{
	struct qr *q;
	FILE *full, *devnull;

	(void)state;
	assert_int_equal(qr_encode(samples[0], QR_LEVEL_M, &q), 0);
	devnull = fopen("/dev/null", "w");
	assert_non_null(devnull);
	assert_int_equal(qr_write_svg(q, 0, 4, devnull), SIGIL_EINVAL);
	assert_int_equal(qr_write_png(q, 0, 4, devnull), SIGIL_EINVAL);
	assert_int_equal(qr_write_svg(q, 4, -1, devnull), SIGIL_EINVAL);
	assert_int_equal(qr_write_png(q, 4, -1, devnull), SIGIL_EINVAL);
	assert_int_equal(qr_write_svg(q, -3, 4, devnull), SIGIL_EINVAL);
	assert_int_equal(qr_write_svg(NULL, 4, 4, devnull), SIGIL_EINVAL);
	assert_int_equal(qr_write_png(NULL, 4, 4, devnull), SIGIL_EINVAL);
	assert_int_equal(qr_write_svg(q, 4, 4, NULL), SIGIL_EINVAL);
	assert_int_equal(qr_write_png(q, 4, 4, NULL), SIGIL_EINVAL);
	/* Sizes whose product overflows int must be refused, not wrapped. */
	assert_int_equal(qr_write_png(q, 0x40000000, 4, devnull),
	    SIGIL_EINVAL);
	assert_int_equal(qr_write_svg(q, 2, 0x40000000, devnull),
	    SIGIL_EINVAL);
	assert_int_equal(qr_write_png(q, 1000, 4, devnull), SIGIL_EINVAL);
	assert_int_equal(qr_write_png(q, 1, 0, devnull), 0);
	assert_int_equal(qr_pdf_open(NULL, NULL), SIGIL_EINVAL);
	assert_int_equal(qr_pdf_add(NULL, q, "x"), SIGIL_EINVAL);
	assert_int_equal(qr_pdf_close(NULL), SIGIL_EINVAL);
	qr_pdf_abort(NULL);
	fclose(devnull);

	/* A full disk is an I/O error, reported, not ignored. */
	full = fopen("/dev/full", "w");
	assert_non_null(full);
	assert_int_equal(qr_write_svg(q, 4, 4, full), SIGIL_EIO);
	clearerr(full);
	assert_int_equal(qr_write_png(q, 4, 4, full), SIGIL_EIO);
	clearerr(full);
	{
		struct qr_pdf *pdf;
		int ret;

		assert_int_equal(qr_pdf_open(full, &pdf), 0);
		for (int i = 0; i < 30; i++) {
			ret = qr_pdf_add(pdf, q, "x");
			assert_true(ret == 0 || ret == SIGIL_EIO);
		}
		assert_int_equal(qr_pdf_close(pdf), SIGIL_EIO);
	}
	fclose(full);
	qr_free(q);
}

/* Decodes the image at path with zbarimg; the one symbol must be want. */
static void
assert_zbar_decodes(const char *path, const char *want)
{
	char out[4096];

	assert_int_equal(run(out, sizeof(out), "zbarimg --raw -q '%s' 2>/dev/null", path),
	    0);
	chomp(out);
	assert_string_equal(out, want);
}

/* Reads the PNG back and checks it against the matrix pixel by pixel. */
static void
assert_png_matches(const char *path, const struct qr *q, int module_px,
    int margin)
{
	png_image img;
	unsigned char *px;
	int side = (qr_width(q) + 2 * margin) * module_px;
	FILE *f;
	unsigned char sig[32];

	/* Header: 1-bit gray (bit depth at 24, colour type at 25). */
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fread(sig, 1, sizeof(sig), f), sizeof(sig));
	fclose(f);
	assert_int_equal(sig[24], 1);
	assert_int_equal(sig[25], 0);

	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	assert_true(png_image_begin_read_from_file(&img, path));
	assert_int_equal(img.width, side);
	assert_int_equal(img.height, side);
	img.format = PNG_FORMAT_GRAY;
	px = malloc(PNG_IMAGE_SIZE(img));
	assert_non_null(px);
	assert_true(png_image_finish_read(&img, NULL, px, 0, NULL));
	for (int y = 0; y < side; y++) {
		for (int x = 0; x < side; x++) {
			int dark = qr_module(q, x / module_px - margin,
			    y / module_px - margin);
			assert_int_equal(px[(size_t)y * side + x],
			    dark ? 0 : 255);
		}
	}
	free(px);
}

static void
test_png_roundtrip(void **state)
{
	char path[256];

	(void)state;
	require_tool("zbarimg");
	for (int i = 0; i < NSAMPLES; i++) {
		struct qr *q;
		FILE *f;
		int module_px = 2 + i % 4, margin = 4 - i % 2;

		snprintf(path, sizeof(path), "%s/s%d.png", tmpdir, i);
		assert_int_equal(qr_encode(samples[i], QR_LEVEL_M, &q), 0);
		f = fopen(path, "wb");
		assert_non_null(f);
		assert_int_equal(qr_write_png(q, module_px, margin, f), 0);
		assert_int_equal(fclose(f), 0);
		assert_png_matches(path, q, module_px, margin);
		assert_zbar_decodes(path, samples[i]);
		qr_free(q);
	}
}

static void
test_svg_roundtrip(void **state)
{
	char svg[256], png[256], out[64];
	static char text[16384];

	(void)state;
	require_tool("zbarimg");
	require_tool("rsvg-convert");
	for (int i = 0; i < NSAMPLES; i++) {
		struct qr *q;
		FILE *f;
		long size;
		int side;

		snprintf(svg, sizeof(svg), "%s/s%d.svg", tmpdir, i);
		snprintf(png, sizeof(png), "%s/s%d-svg.png", tmpdir, i);
		assert_int_equal(qr_encode(samples[i], QR_LEVEL_M, &q), 0);
		f = fopen(svg, "w+");
		assert_non_null(f);
		assert_int_equal(qr_write_svg(q, 3, 4, f), 0);
		size = ftell(f);
		rewind(f);
		assert_true(size > 0 && size < (long)sizeof(text));
		assert_int_equal(fread(text, 1, (size_t)size, f), (size_t)size);
		text[size] = '\0';
		assert_int_equal(fclose(f), 0);

		/* One path, crisp edges, size in module_px units. */
		side = (qr_width(q) + 8) * 3;
		snprintf(out, sizeof(out), "width=\"%d\" height=\"%d\"", side,
		    side);
		assert_non_null(strstr(text, out));
		snprintf(out, sizeof(out), "viewBox=\"0 0 %d %d\"",
		    qr_width(q) + 8, qr_width(q) + 8);
		assert_non_null(strstr(text, out));
		assert_non_null(strstr(text, "shape-rendering=\"crispEdges\""));
		assert_non_null(strstr(text, "fill=\"#fff\""));
		assert_non_null(strstr(text, "<path"));
		assert_null(strstr(strstr(text, "<path") + 1, "<path"));
		if (qr_version(q) == 3)
			assert_true(size < 2048);

		assert_int_equal(run(out, sizeof(out),
		    "rsvg-convert -o '%s' '%s' 2>&1", png, svg), 0);
		assert_zbar_decodes(png, samples[i]);
		qr_free(q);
	}
}

struct encode_job {
	int rounds;
	int mismatches;
	struct qr *ref[NSAMPLES];
};

static int
qr_same(const struct qr *a, const struct qr *b)
{
	if (qr_version(a) != qr_version(b) || qr_width(a) != qr_width(b))
		return 0;
	for (int y = 0; y < qr_width(a); y++)
		for (int x = 0; x < qr_width(a); x++)
			if (qr_module(a, x, y) != qr_module(b, x, y))
				return 0;
	return 1;
}

static void *
encode_worker(void *arg)
{
	struct encode_job *job = arg;

	for (int r = 0; r < job->rounds; r++) {
		for (int i = 0; i < NSAMPLES; i++) {
			struct qr *q;

			if (qr_encode(samples[i], r % 4, &q) != 0) {
				job->mismatches++;
				continue;
			}
			if (r % 4 == QR_LEVEL_M && !qr_same(q, job->ref[i]))
				job->mismatches++;
			qr_free(q);
		}
	}
	return NULL;
}

static void
test_encode_threads(void **state)
{
	struct encode_job jobs[2];
	pthread_t t[2];

	(void)state;
	memset(jobs, 0, sizeof(jobs));
	for (int i = 0; i < NSAMPLES; i++)
		assert_int_equal(qr_encode(samples[i], QR_LEVEL_M,
		    &jobs[0].ref[i]), 0);
	memcpy(jobs[1].ref, jobs[0].ref, sizeof(jobs[0].ref));
	jobs[0].rounds = jobs[1].rounds = 40;
	for (int k = 0; k < 2; k++)
		assert_int_equal(pthread_create(&t[k], NULL, encode_worker,
		    &jobs[k]), 0);
	for (int k = 0; k < 2; k++)
		assert_int_equal(pthread_join(t[k], NULL), 0);
	assert_int_equal(jobs[0].mismatches, 0);
	assert_int_equal(jobs[1].mismatches, 0);
	for (int i = 0; i < NSAMPLES; i++)
		qr_free(jobs[0].ref[i]);
}

/* Writes a sheet of n labels for urls[0..n) with the given captions. */
static void
write_sheet(const char *path, char urls[][400], int n,
    const char *(*caption)(int))
{
	struct qr_pdf *pdf;
	FILE *f;

	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(qr_pdf_open(f, &pdf), 0);
	for (int i = 0; i < n; i++) {
		struct qr *q;

		assert_int_equal(qr_encode(urls[i], QR_LEVEL_M, &q), 0);
		assert_int_equal(qr_pdf_add(pdf, q, caption(i)), 0);
		qr_free(q);
	}
	assert_int_equal(qr_pdf_close(pdf), 0);
	assert_int_equal(fclose(f), 0);
}

static const char *
caption_serial(int i)
{
	static char buf[32];

	if (i == 1)
		return "(a) \\b) \xc3\xa9\ttab";	/* escapes and non-ASCII */
	if (i == 2)
		return NULL;
	snprintf(buf, sizeof(buf), "SERIAL-%06d", i);
	return buf;
}

/* Decodes a page rendered at 300 dpi; every url in want[] must appear. */
static void
assert_page_decodes(const char *pdf, int page, char want[][400], int n)
{
	static char out[65536];
	char png[256];
	int found = 0;

	snprintf(png, sizeof(png), "%s/page%d", tmpdir, page);
	assert_int_equal(run(out, sizeof(out), "pdftoppm -r 300 -f %d -l %d "
	    "-png -singlefile '%s' '%s' 2>&1", page, page, pdf, png), 0);
	assert_string_equal(out, "");
	/* zbarimg exits 0 when it found at least one symbol. */
	assert_int_equal(run(out, sizeof(out), "zbarimg --raw -q '%s.png' 2>/dev/null",
	    png), 0);
	for (int i = 0; i < n; i++) {
		char *p = out;
		size_t len = strlen(want[i]);
		int hit = 0;

		/* Whole-line match: one URL a line in --raw output. */
		while ((p = strstr(p, want[i])) != NULL) {
			if ((p == out || p[-1] == '\n') &&
			    (p[len] == '\n' || p[len] == '\0'))
				hit = 1;
			p += len;
		}
		if (!hit)
			fail_msg("page %d: %s not decoded", page, want[i]);
		found++;
	}
	assert_int_equal(found, n);
}

/* The page count from pdfinfo's output. */
static int
pdf_pages(const char *info)
{
	const char *p = strstr(info, "\nPages:");

	assert_non_null(p);
	return atoi(p + strlen("\nPages:"));
}

static void
test_pdf_sheet(void **state)
{
	static char urls[30][400];
	char pdf[256], out[8192];
	uint32_t seed = 99;

	(void)state;
	require_tool("pdftoppm");
	require_tool("pdfinfo");
	require_tool("pdftotext");
	require_tool("zbarimg");
	for (int i = 0; i < 30; i++) {
		if (i % 5 == 4)
			snprintf(urls[i], sizeof(urls[i]), "%s",
			    samples[NSAMPLES / 2 + i % (NSAMPLES / 2)]);
		else
			compact_url(urls[i], 28, &seed);
	}
	snprintf(pdf, sizeof(pdf), "%s/sheet.pdf", tmpdir);
	write_sheet(pdf, urls, 30, caption_serial);

	/* poppler must parse it without a single complaint. */
	assert_int_equal(run(out, sizeof(out), "pdfinfo '%s' 2>&1", pdf), 0);
	assert_null(strstr(out, "rror"));
	assert_int_equal(pdf_pages(out), 2);
	assert_non_null(strstr(out, "595 x 842 pts (A4)"));

	/* 24 labels fill page 1, the other 6 go on page 2. */
	assert_page_decodes(pdf, 1, urls, 24);
	assert_page_decodes(pdf, 2, urls + 24, 6);

	/* Captions without a font (Helvetica): parentheses and backslash
	 * survive, a non-ASCII character comes out as one '?', control
	 * characters are dropped. */
	assert_int_equal(run(out, sizeof(out),
	    "pdftotext -f 1 -l 1 '%s' - 2>&1", pdf), 0);
	assert_non_null(strstr(out, "SERIAL-000000"));
	assert_non_null(strstr(out, "SERIAL-000023"));
	assert_null(strstr(out, "SERIAL-000002"));
	assert_non_null(strstr(out, "(a) \\b) ?tab"));
	assert_int_equal(run(out, sizeof(out),
	    "pdftotext -f 2 -l 2 '%s' - 2>&1", pdf), 0);
	assert_non_null(strstr(out, "SERIAL-000029"));
}

static const char *
caption_long(int i)
{
	static char buf[600];

	(void)i;
	memset(buf, 'W', sizeof(buf) - 1);
	buf[sizeof(buf) - 1] = '\0';
	return buf;
}

static void
test_pdf_edges(void **state)
{
	char pdf[256], out[8192];
	static char big[1][400];
	struct qr_pdf *p;
	FILE *f;

	(void)state;
	require_tool("pdfinfo");
	require_tool("pdftotext");

	/* No labels: still a valid document with one blank page. */
	snprintf(pdf, sizeof(pdf), "%s/empty.pdf", tmpdir);
	f = fopen(pdf, "wb");
	assert_non_null(f);
	assert_int_equal(qr_pdf_open(f, &p), 0);
	assert_int_equal(qr_pdf_close(p), 0);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(run(out, sizeof(out), "pdfinfo '%s' 2>&1", pdf), 0);
	assert_null(strstr(out, "rror"));
	assert_int_equal(pdf_pages(out), 1);

	/* Exactly one full page: no trailing blank page. A caption far too
	 * long for the label is cut to fit. */
	snprintf(pdf, sizeof(pdf), "%s/full.pdf", tmpdir);
	{
		static char urls[24][400];
		uint32_t seed = 5;

		for (int i = 0; i < 24; i++)
			compact_url(urls[i], 28, &seed);
		write_sheet(pdf, urls, 24, caption_long);
	}
	assert_int_equal(run(out, sizeof(out), "pdfinfo '%s' 2>&1", pdf), 0);
	assert_null(strstr(out, "rror"));
	assert_int_equal(pdf_pages(out), 1);
	assert_int_equal(run(out, sizeof(out),
	    "pdftotext -f 1 -l 1 '%s' - 2>&1", pdf), 0);
	assert_non_null(strstr(out, "WWWWWWWWWWWW"));
	assert_null(strstr(out, "WWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWW"));

	/* A large symbol grows past 20 mm and still decodes. */
	memset(big[0], 'Z', 300);
	big[0][300] = '\0';
	memcpy(big[0], "HTTPS://", 8);
	snprintf(pdf, sizeof(pdf), "%s/big.pdf", tmpdir);
	write_sheet(pdf, big, 1, caption_serial);
	require_tool("zbarimg");
	assert_page_decodes(pdf, 1, big, 1);

	/* Abort after labels frees without writing a trailer. */
	f = fopen("/dev/null", "wb");
	assert_non_null(f);
	assert_int_equal(qr_pdf_open(f, &p), 0);
	{
		struct qr *q;

		assert_int_equal(qr_encode(samples[0], QR_LEVEL_M, &q), 0);
		assert_int_equal(qr_pdf_add(p, q, "x"), 0);
		assert_int_equal(qr_pdf_add(p, NULL, "x"), SIGIL_EINVAL);
		qr_free(q);
	}
	qr_pdf_abort(p);
	fclose(f);
}

/*
 * A caption in Chinese and Latin with a font (fonts-noto-cjk, a test
 * dependency) on a 50 x 30 mm thermal label: the page is the label, the
 * text is extractable (ToUnicode) and embedded as Type 3 glyphs, only the
 * glyphs used (the file stays a few KB, against 19 MB of font), and the
 * symbol still decodes. A sheet preset with cut marks parses cleanly.
 */
static const char *
caption_cjk(int i)
{
	static char buf[128];

	snprintf(buf, sizeof(buf), "\xe6\x98\x8e\xe5\x89\x8d\xe9\xbe\x99"
	    "\xe4\xba\x95 Longjing\n\xe6\x89\xb9\xe5\x8f\xb7 LOT L1\n%d",
	    40 + i);
	return buf;
}

static void
test_pdf_font_stock(void **state)
{
	static char urls[3][400];
	char pdf[256], out[8192];
	struct qr_pdf_opts o = { qr_stock_find("50x30"), NULL, 0 };
	struct qr_pdf *p;
	struct font *font;
	uint32_t seed = 9;
	size_t n;
	FILE *f;

	(void)state;
	require_tool("pdffonts");
	require_tool("zbarimg");
	assert_int_equal(font_open(NULL, &font), 0);
	assert_int_equal(font_open("/nonexistent.ttf", &o.font),
	    SIGIL_ENOTFOUND);
	assert_int_equal(font_open("/etc/passwd", &o.font), SIGIL_EINVAL);
	o.font = font;
	assert_non_null(o.stock);
	assert_null(qr_stock_find("a4-9x99"));
	assert_true(qr_stock_list(&n) != NULL && n >= 9);
	for (int i = 0; i < 3; i++)
		compact_url(urls[i], 28, &seed);
	snprintf(pdf, sizeof(pdf), "%s/thermal.pdf", tmpdir);
	f = fopen(pdf, "wb");
	assert_non_null(f);
	assert_int_equal(qr_pdf_open_opts(f, &o, &p), 0);
	for (int i = 0; i < 3; i++) {
		struct qr *q;

		assert_int_equal(qr_encode(urls[i], QR_LEVEL_M, &q), 0);
		assert_int_equal(qr_pdf_add(p, q, caption_cjk(i)), 0);
		qr_free(q);
	}
	assert_int_equal(qr_pdf_close(p), 0);
	assert_true(ftell(f) < 40000);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(run(out, sizeof(out), "pdfinfo '%s' 2>&1", pdf), 0);
	assert_null(strstr(out, "rror"));
	assert_int_equal(pdf_pages(out), 3);
	assert_non_null(strstr(out, "142 x 85 pts"));
	assert_int_equal(run(out, sizeof(out), "pdftotext -f 2 -l 2 '%s' - "
	    "2>&1", pdf), 0);
	assert_non_null(strstr(out, "\xe6\x98\x8e\xe5\x89\x8d\xe9\xbe\x99"
	    "\xe4\xba\x95 Longjing"));
	assert_non_null(strstr(out, "\xe6\x89\xb9\xe5\x8f\xb7 LOT L1"));
	assert_non_null(strstr(out, "41"));
	assert_int_equal(run(out, sizeof(out), "pdffonts '%s' 2>&1", pdf), 0);
	assert_non_null(strstr(out, "Type 3"));
	assert_page_decodes(pdf, 2, urls + 1, 1);

	o.stock = qr_stock_find("a4-3x7");
	o.cut_marks = 1;
	snprintf(pdf, sizeof(pdf), "%s/sheet37.pdf", tmpdir);
	f = fopen(pdf, "wb");
	assert_non_null(f);
	assert_int_equal(qr_pdf_open_opts(f, &o, &p), 0);
	for (int i = 0; i < 3; i++) {
		struct qr *q;

		assert_int_equal(qr_encode(urls[i], QR_LEVEL_M, &q), 0);
		assert_int_equal(qr_pdf_add(p, q, caption_cjk(i)), 0);
		qr_free(q);
	}
	assert_int_equal(qr_pdf_close(p), 0);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(run(out, sizeof(out), "pdfinfo '%s' 2>&1", pdf), 0);
	assert_null(strstr(out, "rror"));
	assert_page_decodes(pdf, 1, urls, 3);

	/*
	 * More distinct characters than one Type 3 font holds (255): 12
	 * labels of 30 different CJK characters each (U+4E00 on, 3 lines of
	 * 10) and an emoji outside the BMP go into two fonts, and they come
	 * back out of pdftotext.
	 */
	o.stock = qr_stock_find("a4-2x7");
	o.cut_marks = 0;
	snprintf(pdf, sizeof(pdf), "%s/many.pdf", tmpdir);
	f = fopen(pdf, "wb");
	assert_non_null(f);
	assert_int_equal(qr_pdf_open_opts(f, &o, &p), 0);
	for (int i = 0; i < 12; i++) {
		static char cap[1024];
		char *c = cap;
		struct qr *q;

		strcpy(c, "\xf0\x9f\x8d\xb5 ");	/* U+1F375 teacup */
		c += strlen(c);
		for (int k = 0; k < 30; k++) {
			unsigned cp = 0x4e00 + i * 30 + k;

			*c++ = (char)(0xe0 | cp >> 12);
			*c++ = (char)(0x80 | (cp >> 6 & 0x3f));
			*c++ = (char)(0x80 | (cp & 0x3f));
			if (k % 10 == 9)
				*c++ = '\n';
		}
		*c = '\0';
		assert_int_equal(qr_encode(urls[i % 3], QR_LEVEL_M, &q), 0);
		assert_int_equal(qr_pdf_add(p, q, cap), 0);
		qr_free(q);
	}
	assert_int_equal(qr_pdf_close(p), 0);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(run(out, sizeof(out), "pdffonts '%s' 2>&1 | "
	    "grep -c 'Type 3'", pdf), 0);
	assert_int_equal(atoi(out), 2);
	assert_int_equal(run(out, sizeof(out), "pdftotext '%s' - 2>&1", pdf),
	    0);
	/* The last label's last line, U+4F5E .. U+4F67 (in the second
	 * font), and the teacup. */
	assert_non_null(strstr(out, "\xe4\xbd\xa2\xe4\xbd\xa3\xe4\xbd\xa4"));
	assert_non_null(strstr(out, "\xf0\x9f\x8d\xb5"));
	font_free(font);
}

/* font_utf8_next: every length, and each kind of bad sequence gives one
 * U+FFFD for its first byte and goes on. */
static void
test_utf8_next(void **state)
{
	static const struct {
		const char *in;
		uint32_t want[6];
	} cases[] = {
		{ "a\xc3\xa9\xe6\x98\x8e\xf0\x9f\x8d\xb5",
		  { 'a', 0xe9, 0x660e, 0x1f375, 0 } },
		{ "\xc0\xaf", { 0xfffd, 0xfffd, 0 } },		/* overlong */
		{ "\xe0\x80\xaf", { 0xfffd, 0xfffd, 0xfffd, 0 } },	/* overlong */
		{ "\xed\xa0\x80x", { 0xfffd, 0xfffd, 0xfffd, 'x', 0 } }, /* surrogate */
		{ "\xf4\x90\x80\x80", { 0xfffd, 0xfffd, 0xfffd, 0xfffd, 0 } },
		{ "\xe6\x98", { 0xfffd, 0xfffd, 0 } },		/* cut short */
		{ "\x80z", { 0xfffd, 'z', 0 } },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *p = cases[i].in;

		for (int k = 0;; k++) {
			uint32_t cp = font_utf8_next(&p);

			assert_int_equal(cp, cases[i].want[k]);
			if (cp == 0)
				break;
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_level_parse),
		cmocka_unit_test(test_encode_known),
		cmocka_unit_test(test_encode_compact_version3),
		cmocka_unit_test(test_encode_hostile),
		cmocka_unit_test(test_writer_hostile),
		cmocka_unit_test(test_png_roundtrip),
		cmocka_unit_test(test_svg_roundtrip),
		cmocka_unit_test(test_encode_threads),
		cmocka_unit_test(test_pdf_sheet),
		cmocka_unit_test(test_pdf_edges),
		cmocka_unit_test(test_pdf_font_stock),
		cmocka_unit_test(test_utf8_next),
	};

	return cmocka_run_group_tests_name("qr", tests, setup, teardown);
}
