/*
 * qr.c - QR symbols for print: the matrix from libqrencode, then three
 * writers (SVG, 1-bit PNG, an A4 PDF label sheet).
 *
 * Owns struct qr (a QRcode* from libqrencode) and struct qr_pdf (a FILE
 * it does not own plus the byte offsets of the objects written so far).
 * It may call libc, libqrencode, libpng and zlib; it never touches the
 * store, keys or the network, so `sigil mint` can run it on any machine.
 *
 * Encoding: QRcode_encodeString with hint QR_MODE_8 and case sensitivity
 * on lets libqrencode split the text into mode segments itself; an
 * all-upper-case compact URL stays in alphanumeric mode, which is what
 * keeps "HTTPS://<12-char host>/S/<28 chars>" at version 3-M (SPEC 2).
 * Debian builds libqrencode with pthreads, so its lazily built
 * Reed-Solomon tables are guarded and qr_encode is thread-safe.
 *
 * SVG: one <path> stroked one module wide through the middle of each
 * row, one "h" segment per horizontal run of dark modules, with relative
 * moves between runs. A version-3 symbol comes out near 1.5 KB, small
 * enough to inline in HTML or ship by the million.
 *
 * PNG: 1-bit grayscale straight from the matrix, one row buffer, libpng's
 * error longjmp caught with setjmp and turned into SIGIL_EIO. Errors are
 * not printed by libpng: the caller decides what to log.
 *
 * PDF: the sheet is written as the labels arrive so `sigil mint` can print
 * ten million codes in flat memory. Object numbers are fixed up front
 * (1 Catalog, 2 Pages, 3 Font, then content 4+2k and page 5+2k for page
 * k), so a page can name its /Parent before the Pages object exists.
 * Each page's labels are gathered in one buffer, deflated with zlib and
 * written with its page object as soon as the page is full; only the
 * object offsets survive until close writes Pages, xref and trailer.
 * Byte offsets are counted, not asked of ftell, so the sheet can go to a
 * pipe. Every label is drawn in module units under a "cm" transform, so
 * each horizontal run is one integer "re" and adjacent rows share exact
 * edges; the caption is Helvetica (a standard-14 font, nothing embedded).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>
#include <qrencode.h>
#include <zlib.h>

#include "sigil/qr.h"
#include "sigil/util.h"

/* Version 40-L in 8-bit mode holds 2953 bytes; nothing longer can fit. */
#define QR_MAX_TEXT	2953
/* Largest rendered side (pixels or user units); keeps sizes in int range. */
#define QR_MAX_SIDE	32768

struct qr {
	QRcode *code;
};

int
qr_level_parse(const char *s, int *out)
{
	int level;

	if (s == NULL || s[0] == '\0' || s[1] != '\0')
		return SIGIL_EINVAL;
	switch (s[0]) {
	case 'L': case 'l':	level = QR_LEVEL_L; break;
	case 'M': case 'm':	level = QR_LEVEL_M; break;
	case 'Q': case 'q':	level = QR_LEVEL_Q; break;
	case 'H': case 'h':	level = QR_LEVEL_H; break;
	default:		return SIGIL_EINVAL;
	}
	*out = level;
	return 0;
}

void
qr_free(struct qr *q)
{
	if (q == NULL)
		return;
	QRcode_free(q->code);
	free(q);
}

int
qr_encode(const char *text, int level, struct qr **out)
{
	static const QRecLevel levels[] = {
		[QR_LEVEL_L] = QR_ECLEVEL_L, [QR_LEVEL_M] = QR_ECLEVEL_M,
		[QR_LEVEL_Q] = QR_ECLEVEL_Q, [QR_LEVEL_H] = QR_ECLEVEL_H,
	};
	struct qr *q;
	QRcode *code;

	if (text == NULL || text[0] == '\0' || level < QR_LEVEL_L ||
	    level > QR_LEVEL_H || strnlen(text, QR_MAX_TEXT + 1) > QR_MAX_TEXT)
		return SIGIL_EINVAL;
	q = malloc(sizeof(*q));
	if (q == NULL)
		return SIGIL_ENOMEM;
	errno = 0;
	code = QRcode_encodeString(text, 0, levels[level], QR_MODE_8, 1);
	if (code == NULL) {
		free(q);
		/* ERANGE (does not fit version 40) and EINVAL both mean the
		 * text cannot be a symbol at this level. */
		return errno == ENOMEM ? SIGIL_ENOMEM : SIGIL_EINVAL;
	}
	q->code = code;
	*out = q;
	return 0;
}

int
qr_version(const struct qr *q)
{
	return q->code->version;
}

int
qr_width(const struct qr *q)
{
	return q->code->width;
}

int
qr_module(const struct qr *q, int x, int y)
{
	int w = q->code->width;

	if (x < 0 || y < 0 || x >= w || y >= w)
		return 0;
	return q->code->data[(size_t)y * (size_t)w + (size_t)x] & 1;
}

/* Side of the rendered image in pixels/units, or 0 when out of bounds. */
static int
qr_side(const struct qr *q, int module_px, int margin)
{
	long long side;

	if (q == NULL || module_px < 1 || margin < 0 ||
	    module_px > QR_MAX_SIDE || margin > QR_MAX_SIDE)
		return 0;
	side = ((long long)q->code->width + 2LL * margin) * module_px;
	return side > QR_MAX_SIDE ? 0 : (int)side;
}

/* Length of the run of dark modules starting at (x, y). */
static int
qr_run(const struct qr *q, int x, int y)
{
	const unsigned char *row = q->code->data + (size_t)y * q->code->width;
	int w = q->code->width, n = 0;

	while (x + n < w && (row[x + n] & 1))
		n++;
	return n;
}

/*
 * The SVG path is built in a fixed chunk with a hand-rolled integer
 * formatter: one fprintf per run cost more than the encoding itself.
 */
struct svg_out {
	FILE *f;
	size_t len;
	int failed;
	char buf[4096];
};

static void
svg_flush(struct svg_out *o)
{
	if (o->len > 0 && fwrite(o->buf, 1, o->len, o->f) != o->len)
		o->failed = 1;
	o->len = 0;
}

/* Appends c followed by the decimal v; at most 13 bytes. */
static void
svg_op(struct svg_out *o, char c, int v)
{
	char digits[12];
	int n = 0;
	unsigned u;

	if (sizeof(o->buf) - o->len < 16)
		svg_flush(o);
	if (c != '\0')
		o->buf[o->len++] = c;
	if (v < 0)
		o->buf[o->len++] = '-';
	u = v < 0 ? 0u - (unsigned)v : (unsigned)v;
	do
		digits[n++] = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	while (n > 0)
		o->buf[o->len++] = digits[--n];
}

int
qr_write_svg(const struct qr *q, int module_px, int margin, FILE *f)
{
	int side = qr_side(q, module_px, margin);
	struct svg_out out, *o = &out;
	int w, units, x, y, n, penx, peny;

	if (side == 0 || f == NULL)
		return SIGIL_EINVAL;
	o->f = f;
	o->len = 0;
	o->failed = 0;
	w = q->code->width;
	units = w + 2 * margin;
	if (fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
	    "height=\"%d\" viewBox=\"0 0 %d %d\" "
	    "shape-rendering=\"crispEdges\">"
	    "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>"
	    "<path fill=\"none\" stroke=\"#000\" d=\"",
	    side, side, units, units, units, units) < 0)
		o->failed = 1;
	/*
	 * The pen rides on the centre line of each row (y + 0.5), so a
	 * stroke of width 1 covers exactly one module row; after "h" it sits
	 * at the end of the run, and the next run is a relative move away.
	 */
	penx = -1;
	peny = 0;
	for (y = 0; y < w; y++) {
		for (x = 0; x < w; x += n > 0 ? n : 1) {
			n = qr_run(q, x, y);
			if (n == 0)
				continue;
			if (penx < 0) {
				svg_op(o, 'M', x + margin);
				svg_op(o, ' ', y + margin);
				svg_op(o, '.', 5);
			} else {
				svg_op(o, 'm', x - penx);
				svg_op(o, ' ', y - peny);
			}
			svg_op(o, 'h', n);
			penx = x + n;
			peny = y;
		}
	}
	svg_flush(o);
	fputs("\"/></svg>\n", f);
	return o->failed || fflush(f) != 0 || ferror(f) ? SIGIL_EIO : 0;
}

static void
qr_png_error(png_structp png, png_const_charp msg)
{
	(void)msg;
	png_longjmp(png, 1);
}

static void
qr_png_warning(png_structp png, png_const_charp msg)
{
	(void)png;
	(void)msg;
}

int
qr_write_png(const struct qr *q, int module_px, int margin, FILE *f)
{
	int side = qr_side(q, module_px, margin);
	png_structp png = NULL;
	png_infop info = NULL;
	png_bytep row;
	/* Assigned after setjmp, read after the longjmp: must be volatile. */
	volatile int ret = SIGIL_EIO;
	int px, y;

	if (side == 0 || f == NULL)
		return SIGIL_EINVAL;
	/* Allocated before setjmp and never reassigned, so it survives the
	 * longjmp without being volatile. */
	row = malloc(((size_t)side + 7) / 8);
	if (row == NULL)
		return SIGIL_ENOMEM;
	png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL,
	    qr_png_error, qr_png_warning);
	if (png == NULL) {
		ret = SIGIL_ENOMEM;
		goto cleanup;
	}
	info = png_create_info_struct(png);
	if (info == NULL) {
		ret = SIGIL_ENOMEM;
		goto cleanup;
	}
	if (setjmp(png_jmpbuf(png)))
		goto cleanup;
	png_init_io(png, f);
	png_set_IHDR(png, info, (png_uint_32)side, (png_uint_32)side, 1,
	    PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
	    PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	/* Filters buy nothing on a two-tone image of long runs. */
	png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_NONE);
	/* A symbol is a few KB of pixels: zlib's default 256 KB of state
	 * cost more in malloc and page faults than the compression. */
	png_set_compression_mem_level(png, 2);
	png_write_info(png, info);
	/* One pixel row per module row, written module_px times. */
	for (y = 0; y < side; y++) {
		if (y % module_px == 0) {
			int my = y / module_px - margin;

			/* Gray 1 bit: 1 is white; start white, clear darks. */
			memset(row, 0xff, ((size_t)side + 7) / 8);
			for (px = 0; px < side; px++) {
				if (qr_module(q, px / module_px - margin, my))
					row[px >> 3] &=
					    (png_byte)~(0x80 >> (px & 7));
			}
		}
		png_write_row(png, row);
	}
	png_write_end(png, NULL);
	ret = fflush(f) != 0 || ferror(f) ? SIGIL_EIO : 0;
cleanup:
	png_destroy_write_struct(&png, &info);
	free(row);
	return ret;
}

/*
 * PDF label sheet.
 */

#define PDF_PAGE_W	595.0
#define PDF_PAGE_H	842.0
#define PDF_COLS	4
#define PDF_ROWS	6
#define PDF_PER_PAGE	(PDF_COLS * PDF_ROWS)
#define PDF_MARGIN_X	28.35		/* 10 mm */
#define PDF_MARGIN_Y	28.35
#define PDF_CELL_W	((PDF_PAGE_W - 2 * PDF_MARGIN_X) / PDF_COLS)
#define PDF_CELL_H	((PDF_PAGE_H - 2 * PDF_MARGIN_Y) / PDF_ROWS)
#define PDF_QR_SIDE	56.69		/* 20 mm: symbol without quiet zone */
#define PDF_MIN_MODULE	1.134		/* 0.4 mm: below this, grow the symbol */
#define PDF_FONT_SIZE	7.0
#define PDF_CAPTION_MAX	128		/* bytes of caption considered */

#define PDF_OBJ_CATALOG	1
#define PDF_OBJ_PAGES	2
#define PDF_OBJ_FONT	3
#define PDF_OBJ_FIRST	4		/* content 4+2k, page 5+2k */
/* The xref table has ten digits for an offset. */
#define PDF_MAX_OFFSET	9999999999ULL

/* Helvetica advance widths (1/1000 em), WinAnsiEncoding, ' ' to '~'. */
static const unsigned short helvetica_w[95] = {
	278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333,
	278, 278, 556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278,
	584, 584, 584, 556, 1015, 667, 667, 722, 722, 667, 611, 778, 722, 278,
	500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944,
	667, 667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556, 556,
	278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500,
	278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
};

struct pdf_buf {
	char *p;
	size_t len, cap;
	int failed;		/* an allocation failed; contents are short */
};

struct qr_pdf {
	FILE *f;
	uint64_t pos;		/* bytes written so far */
	int failed;		/* a write failed; close reports SIGIL_EIO */
	uint64_t *offsets;	/* offsets[obj], 0 for not yet written */
	size_t noffsets;
	size_t pages;		/* pages written */
	int labels;		/* labels on the current page */
	struct pdf_buf content;
};

static void
buf_printf(struct pdf_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->failed)
		return;
	for (;;) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->failed = 1;
			return;
		}
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = b->cap ? b->cap * 2 : 16384;
		while (cap - b->len <= (size_t)n)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (p == NULL) {
			b->failed = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
}

static void
pdf_write(struct qr_pdf *pdf, const void *p, size_t n)
{
	if (pdf->failed)
		return;
	if (fwrite(p, 1, n, pdf->f) != n)
		pdf->failed = 1;
	pdf->pos += n;
}

static void
pdf_printf(struct qr_pdf *pdf, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (pdf->failed)
		return;
	va_start(ap, fmt);
	n = vfprintf(pdf->f, fmt, ap);
	va_end(ap);
	if (n < 0)
		pdf->failed = 1;
	else
		pdf->pos += (uint64_t)n;
}

/* Records where object obj starts and writes its header. */
static int
pdf_obj_begin(struct qr_pdf *pdf, size_t obj)
{
	if (obj >= pdf->noffsets) {
		size_t n = pdf->noffsets ? pdf->noffsets * 2 : 64;
		uint64_t *o;

		while (n <= obj)
			n *= 2;
		o = realloc(pdf->offsets, n * sizeof(*o));
		if (o == NULL)
			return SIGIL_ENOMEM;
		memset(o + pdf->noffsets, 0,
		    (n - pdf->noffsets) * sizeof(*o));
		pdf->offsets = o;
		pdf->noffsets = n;
	}
	if (pdf->pos > PDF_MAX_OFFSET)
		return SIGIL_EFULL;
	pdf->offsets[obj] = pdf->pos;
	pdf_printf(pdf, "%zu 0 obj\n", obj);
	return 0;
}

static void
qr_pdf_free(struct qr_pdf *pdf)
{
	free(pdf->content.p);
	free(pdf->offsets);
	free(pdf);
}

int
qr_pdf_open(FILE *f, struct qr_pdf **out)
{
	/* The binary comment line tells transfer tools the file is binary. */
	static const char header[] = "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n";
	struct qr_pdf *pdf;
	int ret;

	if (f == NULL)
		return SIGIL_EINVAL;
	pdf = calloc(1, sizeof(*pdf));
	if (pdf == NULL)
		return SIGIL_ENOMEM;
	pdf->f = f;
	pdf_write(pdf, header, sizeof(header) - 1);
	if ((ret = pdf_obj_begin(pdf, PDF_OBJ_CATALOG)) != 0)
		goto fail;
	pdf_printf(pdf, "<< /Type /Catalog /Pages %d 0 R >>\nendobj\n",
	    PDF_OBJ_PAGES);
	if ((ret = pdf_obj_begin(pdf, PDF_OBJ_FONT)) != 0)
		goto fail;
	pdf_printf(pdf, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica"
	    " /Encoding /WinAnsiEncoding >>\nendobj\n");
	if (pdf->failed) {
		ret = SIGIL_EIO;
		goto fail;
	}
	*out = pdf;
	return 0;
fail:
	qr_pdf_free(pdf);
	return ret;
}

/* Deflates the current page's content and writes it with its page. */
static int
pdf_page_flush(struct qr_pdf *pdf)
{
	size_t content = PDF_OBJ_FIRST + 2 * pdf->pages;
	uLongf zlen;
	Bytef *z;
	int ret;

	if (pdf->content.failed)
		return SIGIL_ENOMEM;
	zlen = compressBound((uLong)pdf->content.len);
	z = malloc(zlen);
	if (z == NULL)
		return SIGIL_ENOMEM;
	if (compress2(z, &zlen, (const Bytef *)pdf->content.p,
	    (uLong)pdf->content.len, 6) != Z_OK) {
		ret = SIGIL_ENOMEM;
		goto cleanup;
	}
	if ((ret = pdf_obj_begin(pdf, content)) != 0)
		goto cleanup;
	pdf_printf(pdf, "<< /Length %lu /Filter /FlateDecode >>\nstream\n",
	    (unsigned long)zlen);
	pdf_write(pdf, z, zlen);
	pdf_printf(pdf, "\nendstream\nendobj\n");
	if ((ret = pdf_obj_begin(pdf, content + 1)) != 0)
		goto cleanup;
	pdf_printf(pdf, "<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %.0f %.0f]"
	    " /Resources << /Font << /F1 %d 0 R >> >> /Contents %zu 0 R >>\n"
	    "endobj\n", PDF_OBJ_PAGES, PDF_PAGE_W, PDF_PAGE_H, PDF_OBJ_FONT,
	    content);
	pdf->pages++;
	pdf->labels = 0;
	pdf->content.len = 0;
	ret = pdf->failed ? SIGIL_EIO : 0;
cleanup:
	free(z);
	return ret;
}

/* Appends the caption as a PDF string, centred on cx, cut to max_w. */
static void
pdf_caption(struct pdf_buf *b, const char *caption, double cx, double y,
    double max_w)
{
	char text[PDF_CAPTION_MAX + 1];
	double w = 0;
	size_t n = 0;

	for (const char *s = caption; *s != '\0' && n < PDF_CAPTION_MAX; s++) {
		unsigned char c = (unsigned char)*s;
		double cw;

		/* Only printable ASCII has the same glyph in every encoding. */
		if (c < 0x20 || c > 0x7e)
			c = '?';
		cw = helvetica_w[c - 0x20] * PDF_FONT_SIZE / 1000.0;
		if (w + cw > max_w)
			break;
		w += cw;
		text[n++] = (char)c;
	}
	if (n == 0)
		return;
	buf_printf(b, "BT /F1 %.0f Tf %.2f %.2f Td (", PDF_FONT_SIZE,
	    cx - w / 2, y);
	for (size_t i = 0; i < n; i++) {
		if (text[i] == '(' || text[i] == ')' || text[i] == '\\')
			buf_printf(b, "\\%c", text[i]);
		else
			buf_printf(b, "%c", text[i]);
	}
	buf_printf(b, ") Tj ET\n");
}

int
qr_pdf_add(struct qr_pdf *pdf, const struct qr *q, const char *caption)
{
	struct pdf_buf *b;
	int col, row, w, quiet, x, y, n;
	double module, side, left, top, cell_x, cell_top;

	if (pdf == NULL || q == NULL)
		return SIGIL_EINVAL;
	if (pdf->failed)
		return SIGIL_EIO;
	b = &pdf->content;
	w = q->code->width;
	quiet = 4;
	/* 20 mm for the usual small versions; bigger versions grow so a
	 * module stays printable, up to what the cell can hold. */
	module = PDF_QR_SIDE / w;
	if (module < PDF_MIN_MODULE)
		module = PDF_MIN_MODULE;
	if ((w + 2 * quiet) * module > PDF_CELL_W)
		module = PDF_CELL_W / (w + 2 * quiet);
	if ((w + 2 * quiet) * module + PDF_FONT_SIZE > PDF_CELL_H)
		module = (PDF_CELL_H - PDF_FONT_SIZE) / (w + 2 * quiet);
	side = w * module;
	col = pdf->labels % PDF_COLS;
	row = pdf->labels / PDF_COLS;
	cell_x = PDF_MARGIN_X + col * PDF_CELL_W;
	cell_top = PDF_PAGE_H - PDF_MARGIN_Y - row * PDF_CELL_H;
	left = cell_x + (PDF_CELL_W - side) / 2;
	/* Symbol, a quiet zone's gap, then the caption, centred in the cell. */
	top = cell_top - (PDF_CELL_H - side - quiet * module - PDF_FONT_SIZE) / 2;

	/* Module units, y growing downwards from the symbol's top-left. */
	buf_printf(b, "q %.4f 0 0 %.4f %.3f %.3f cm\n", module, -module, left,
	    top);
	for (y = 0; y < w; y++) {
		for (x = 0; x < w; x += n > 0 ? n : 1) {
			n = qr_run(q, x, y);
			if (n > 0)
				buf_printf(b, "%d %d %d 1 re\n", x, y, n);
		}
	}
	buf_printf(b, "f Q\n");
	if (caption != NULL)
		pdf_caption(b, caption, cell_x + PDF_CELL_W / 2,
		    top - side - quiet * module - PDF_FONT_SIZE * 0.75,
		    PDF_CELL_W - 4);
	if (b->failed)
		return SIGIL_ENOMEM;
	if (++pdf->labels == PDF_PER_PAGE)
		return pdf_page_flush(pdf);
	return 0;
}

int
qr_pdf_close(struct qr_pdf *pdf)
{
	size_t nobj, i;
	uint64_t xref;
	int ret;

	if (pdf == NULL)
		return SIGIL_EINVAL;
	/* An empty sheet still gets one blank page: a PDF without pages is
	 * refused by some viewers and printers. */
	if (pdf->labels > 0 || pdf->pages == 0) {
		if ((ret = pdf_page_flush(pdf)) != 0)
			goto cleanup;
	}
	if ((ret = pdf_obj_begin(pdf, PDF_OBJ_PAGES)) != 0)
		goto cleanup;
	pdf_printf(pdf, "<< /Type /Pages /Count %zu /Kids [", pdf->pages);
	for (i = 0; i < pdf->pages; i++)
		pdf_printf(pdf, "%s%zu 0 R", i % 16 ? " " : "\n",
		    PDF_OBJ_FIRST + 2 * i + 1);
	pdf_printf(pdf, "] >>\nendobj\n");
	nobj = PDF_OBJ_FIRST + 2 * pdf->pages;
	xref = pdf->pos;
	pdf_printf(pdf, "xref\n0 %zu\n0000000000 65535 f \n", nobj);
	for (i = 1; i < nobj; i++)
		pdf_printf(pdf, "%010llu 00000 n \n",
		    (unsigned long long)pdf->offsets[i]);
	pdf_printf(pdf, "trailer\n<< /Size %zu /Root %d 0 R >>\nstartxref\n"
	    "%llu\n%%%%EOF\n", nobj, PDF_OBJ_CATALOG, (unsigned long long)xref);
	if (fflush(pdf->f) != 0 || ferror(pdf->f))
		pdf->failed = 1;
	ret = pdf->failed ? SIGIL_EIO : 0;
cleanup:
	qr_pdf_free(pdf);
	return ret;
}

void
qr_pdf_abort(struct qr_pdf *pdf)
{
	if (pdf != NULL)
		qr_pdf_free(pdf);
}
