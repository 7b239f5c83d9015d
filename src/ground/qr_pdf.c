/*
 * qr_pdf.c - PDF label sheets for print shops: QR symbols laid out on a
 * label stock (an A4 sheet of a common label size, or one label a page
 * for a thermal printer), each with up to four caption lines (product
 * name, lot, serial) in any script, and optional cut marks.
 *
 * Owns struct qr_pdf (a FILE it does not own, the byte offsets of the
 * objects written so far, and the glyphs the captions used) and the
 * label-stock presets. May call libc, zlib, qr.c's symbol and font.h.
 *
 * Streaming: the sheet is written as the labels arrive so `sigil mint`
 * can print ten million codes in flat memory. Object numbers are fixed
 * up front (1 Catalog, 2 Pages, 3 the Resources every page shares, then
 * content 4+2k and page 5+2k for page k), so a page can name its /Parent
 * and /Resources before they exist; they, and the fonts, are written at
 * close, numbered after the last page. Each page's labels are gathered
 * in one buffer, deflated and written with its page object as soon as
 * the page is full. Byte offsets are counted, not asked of ftell, so the
 * sheet can go to a pipe. Every symbol is drawn in module units under a
 * "cm" transform, so each horizontal run is one integer "re" and adjacent
 * rows share exact edges.
 *
 * Captions: with a font (font.h), every character a caption uses becomes
 * a glyph of a Type 3 font whose glyph procedures are the font's outlines
 * (at most 255 glyphs a font, so 16 fonts for 4,080 distinct characters;
 * a batch's captions need a few dozen), with a ToUnicode map so the text
 * can be searched and extracted (pdftotext). Only the glyphs used are
 * embedded: the subset is exact, whatever script, and the printer needs
 * no font. Without a font, Helvetica (standard 14, not embedded) prints
 * printable ASCII and '?' for anything else.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "sigil/font.h"
#include "sigil/qr.h"
#include "sigil/util.h"

#define MM		(72.0 / 25.4)	/* points per millimetre */
#define PDF_QR_SIDE	(20.0 * MM)	/* symbol without quiet zone */
#define PDF_MIN_MODULE	(0.4 * MM)	/* below this, grow the symbol */
#define PDF_FONT_SIZE	7.0
#define PDF_LINE	(PDF_FONT_SIZE * 1.2)
#define PDF_PAD		(1.5 * MM)	/* inside a label's edge */
#define PDF_CAPTION_MAX	512		/* bytes of caption considered */
#define PDF_LINES_MAX	5
#define PDF_QUIET	4		/* modules, ISO/IEC 18004 */

#define PDF_OBJ_CATALOG	1
#define PDF_OBJ_PAGES	2
#define PDF_OBJ_RES	3
#define PDF_OBJ_FIRST	4		/* content 4+2k, page 5+2k */
/* The xref table has ten digits for an offset. */
#define PDF_MAX_OFFSET	9999999999ULL

#define GLYPHS_PER_FONT	255		/* codes 1..255 of a Type 3 font */
#define GLYPHS_MAX	(16 * GLYPHS_PER_FONT)
#define GLYPH_HASH	8192		/* a power of two over GLYPHS_MAX */

/*
 * Label stocks. Sheets follow the common A4 label products (Avery/Zweckform
 * L7160 and L7163 layouts and the like: margins and gaps as printed on
 * the box); a single label is a page of its own size, as thermal label
 * printers (and their drivers) take it.
 */
static const struct qr_stock stocks[] = {
	{ "a4-4x6", "A4, 4 x 6 labels of 47.5 x 46.2 mm (plain paper, cut)",
	  210, 297, 4, 6, 47.5, 277.0 / 6, 10, 10, 0, 0 },
	{ "a4-3x7", "A4, 3 x 7 labels of 63.5 x 38.1 mm (L7160 layout)",
	  210, 297, 3, 7, 63.5, 38.1, 7.2, 15.15, 2.5, 0 },
	{ "a4-2x7", "A4, 2 x 7 labels of 99.1 x 38.1 mm (L7163 layout)",
	  210, 297, 2, 7, 99.1, 38.1, 4.65, 15.15, 2.5, 0 },
	{ "a4-3x8", "A4, 3 x 8 labels of 70 x 36 mm (no gaps)",
	  210, 297, 3, 8, 70, 36, 0, 4.5, 0, 0 },
	{ "a4-4x10", "A4, 4 x 10 labels of 48.5 x 25.4 mm",
	  210, 297, 4, 10, 48.5, 25.4, 8, 21.5, 0, 0 },
	{ "40x30", "one 40 x 30 mm label a page (thermal printer)",
	  40, 30, 1, 1, 40, 30, 0, 0, 0, 0 },
	{ "50x30", "one 50 x 30 mm label a page (thermal printer)",
	  50, 30, 1, 1, 50, 30, 0, 0, 0, 0 },
	{ "60x40", "one 60 x 40 mm label a page (thermal printer)",
	  60, 40, 1, 1, 60, 40, 0, 0, 0, 0 },
	{ "100x50", "one 100 x 50 mm label a page (thermal printer)",
	  100, 50, 1, 1, 100, 50, 0, 0, 0, 0 },
};

const struct qr_stock *
qr_stock_list(size_t *n)
{
	*n = sizeof stocks / sizeof stocks[0];
	return stocks;
}

const struct qr_stock *
qr_stock_find(const char *name)
{
	for (size_t i = 0; name != NULL && i < sizeof stocks / sizeof stocks[0];
	    i++)
		if (strcmp(stocks[i].name, name) == 0)
			return &stocks[i];
	return NULL;
}

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

/* One caption character laid out: its glyph (index into glyphs, or a
 * Helvetica byte) and advance in points. */
struct pdf_char {
	int glyph;
	double w;
};

struct caption_line {
	struct pdf_char c[PDF_CAPTION_MAX];
	size_t n;
	double w;
};

struct pdf_glyph {
	uint32_t cp;
	unsigned gid;
	int adv;		/* 1/1000 em */
	int used;		/* drawn (not only measured and cut) */
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
	struct qr_stock stock;
	int cut_marks;
	struct font *font;	/* not owned; NULL for Helvetica */
	struct pdf_glyph *glyphs;
	size_t nglyphs;
	uint16_t hash[GLYPH_HASH];	/* glyph index + 1, by code point */
	struct pdf_char chars[PDF_CAPTION_MAX];	/* scratch: one line */
	struct caption_line lines[PDF_LINES_MAX];	/* scratch: a label's */
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

/* Writes a stream object (deflated) of b's contents. */
static int
pdf_stream(struct qr_pdf *pdf, size_t obj, const struct pdf_buf *b)
{
	uLongf zlen;
	Bytef *z;
	int ret;

	if (b->failed)
		return SIGIL_ENOMEM;
	zlen = compressBound((uLong)b->len);
	if ((z = malloc(zlen)) == NULL)
		return SIGIL_ENOMEM;
	if (compress2(z, &zlen, (const Bytef *)b->p, (uLong)b->len, 6) !=
	    Z_OK) {
		free(z);
		return SIGIL_ENOMEM;
	}
	if ((ret = pdf_obj_begin(pdf, obj)) == 0) {
		pdf_printf(pdf, "<< /Length %lu /Filter /FlateDecode >>\n"
		    "stream\n", (unsigned long)zlen);
		pdf_write(pdf, z, zlen);
		pdf_printf(pdf, "\nendstream\nendobj\n");
	}
	free(z);
	return ret;
}

static void
qr_pdf_free(struct qr_pdf *pdf)
{
	free(pdf->content.p);
	free(pdf->offsets);
	free(pdf->glyphs);
	free(pdf);
}

int
qr_pdf_open(FILE *f, struct qr_pdf **out)
{
	return qr_pdf_open_opts(f, NULL, out);
}

int
qr_pdf_open_opts(FILE *f, const struct qr_pdf_opts *o, struct qr_pdf **out)
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
	pdf->stock = o != NULL && o->stock != NULL ? *o->stock : stocks[0];
	pdf->cut_marks = o != NULL && o->cut_marks;
	pdf->font = o != NULL ? o->font : NULL;
	pdf_write(pdf, header, sizeof(header) - 1);
	if ((ret = pdf_obj_begin(pdf, PDF_OBJ_CATALOG)) != 0)
		goto fail;
	pdf_printf(pdf, "<< /Type /Catalog /Pages %d 0 R >>\nendobj\n",
	    PDF_OBJ_PAGES);
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
	int ret;

	if ((ret = pdf_stream(pdf, content, &pdf->content)) != 0 ||
	    (ret = pdf_obj_begin(pdf, content + 1)) != 0)
		return ret;
	/* Whole points, as A4 has always been here (595 x 842). */
	pdf_printf(pdf, "<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %.0f "
	    "%.0f] /Resources %d 0 R /Contents %zu 0 R >>\nendobj\n",
	    PDF_OBJ_PAGES, pdf->stock.page_w * MM, pdf->stock.page_h * MM,
	    PDF_OBJ_RES, content);
	pdf->pages++;
	pdf->labels = 0;
	pdf->content.len = 0;
	return pdf->failed ? SIGIL_EIO : 0;
}

/* ---- captions ---- */

/* The index of cp's glyph, registered on first use; -1 when the font
 * cannot give more glyphs (GLYPHS_MAX) or memory runs out. */
static int
glyph_index(struct qr_pdf *pdf, uint32_t cp)
{
	size_t h = (cp * 2654435761u) & (GLYPH_HASH - 1);
	struct pdf_glyph *g;

	for (; pdf->hash[h] != 0; h = (h + 1) & (GLYPH_HASH - 1))
		if (pdf->glyphs[pdf->hash[h] - 1].cp == cp)
			return pdf->hash[h] - 1;
	if (pdf->nglyphs >= GLYPHS_MAX)
		return -1;
	if (pdf->nglyphs % 256 == 0) {
		g = realloc(pdf->glyphs, (pdf->nglyphs + 256) * sizeof(*g));
		if (g == NULL)
			return -1;
		pdf->glyphs = g;
	}
	g = &pdf->glyphs[pdf->nglyphs];
	g->cp = cp;
	g->used = 0;
	font_glyph(pdf->font, cp, &g->gid, &g->adv);
	pdf->hash[h] = (uint16_t)(pdf->nglyphs + 1);
	return (int)pdf->nglyphs++;
}

/* Lays out one line of text (UTF-8) into chars: 0, or SIGIL_EINVAL when
 * it needs more glyphs than a sheet may embed. */
static int
line_chars(struct qr_pdf *pdf, const char *s, size_t len,
    struct pdf_char *out, size_t *n)
{
	char text[PDF_CAPTION_MAX + 1];
	const char *p = text;
	uint32_t cp;

	if (len > PDF_CAPTION_MAX)
		len = PDF_CAPTION_MAX;
	memcpy(text, s, len);
	text[len] = '\0';
	*n = 0;
	while ((cp = font_utf8_next(&p)) != 0 && *n < PDF_CAPTION_MAX) {
		if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
			continue;
		if (pdf->font == NULL) {
			int c = cp <= 0x7e ? (int)cp : '?';

			out[*n].glyph = c;
			out[*n].w = helvetica_w[c - 0x20] * PDF_FONT_SIZE /
			    1000.0;
		} else {
			int g = glyph_index(pdf, cp);

			if (g < 0)
				return SIGIL_EINVAL;
			out[*n].glyph = g;
			out[*n].w = pdf->glyphs[g].adv * PDF_FONT_SIZE / 1000.0;
		}
		(*n)++;
	}
	return 0;
}

/* Draws chars[0..n) at (x, y) (the baseline's start). */
static void
draw_chars(struct qr_pdf *pdf, const struct pdf_char *c, size_t n, double x,
    double y)
{
	struct pdf_buf *b = &pdf->content;
	int font = -1;

	if (n == 0)
		return;
	buf_printf(b, "BT %.2f %.2f Td", x, y);
	for (size_t i = 0; i < n; i++) {
		int f = pdf->font == NULL ? 0 : c[i].glyph / GLYPHS_PER_FONT;

		if (f != font) {
			buf_printf(b, "%s %s%d %.0f Tf <", font < 0 ? "" : "> Tj",
			    pdf->font == NULL ? "/F" : "/T", f, PDF_FONT_SIZE);
			font = f;
		}
		buf_printf(b, "%02X", pdf->font == NULL ? c[i].glyph :
		    c[i].glyph % GLYPHS_PER_FONT + 1);
		if (pdf->font != NULL)
			pdf->glyphs[c[i].glyph].used = 1;
	}
	buf_printf(b, "> Tj ET\n");
}

/*
 * Splits caption at its newlines and wraps each line to max_w (at the
 * last space that fits, else anywhere), into at most max_lines lines
 * (and PDF_LINES_MAX); what does not fit is cut.
 */
static int
caption_layout(struct qr_pdf *pdf, const char *caption, double max_w,
    int max_lines, struct caption_line *lines, int *nlines)
{
	struct pdf_char *chars = pdf->chars;
	const char *s = caption;
	int rc;

	*nlines = 0;
	if (max_lines > PDF_LINES_MAX)
		max_lines = PDF_LINES_MAX;
	while (s != NULL && *s != '\0' && *nlines < max_lines) {
		size_t len = strcspn(s, "\n"), n, i = 0;

		if ((rc = line_chars(pdf, s, len, chars, &n)) != 0)
			return rc;
		while (i < n && *nlines < max_lines) {
			struct caption_line *l = &lines[(*nlines)++];
			size_t end = i, brk = 0;
			double w = 0;

			while (end < n && w + chars[end].w <= max_w) {
				w += chars[end].w;
				if (pdf->font == NULL ? chars[end].glyph == ' ' :
				    pdf->glyphs[chars[end].glyph].cp == ' ')
					brk = end;
				end++;
			}
			if (end < n && brk > i)
				end = brk;	/* the space starts the next */
			if (end == i)
				end = i + 1;	/* one glyph wider than the line */
			l->n = end - i;
			memcpy(l->c, chars + i, l->n * sizeof(*chars));
			l->w = 0;
			for (size_t k = 0; k < l->n; k++)
				l->w += l->c[k].w;
			i = end;
			while (i < n && (pdf->font == NULL ?
			    chars[i].glyph == ' ' :
			    pdf->glyphs[chars[i].glyph].cp == ' '))
				i++;
		}
		s += len;
		if (*s == '\n')
			s++;
	}
	return 0;
}

/* ---- cut marks ---- */

static void
cut_marks(struct qr_pdf *pdf)
{
	const struct qr_stock *s = &pdf->stock;
	struct pdf_buf *b = &pdf->content;
	double top = s->top, left = s->left;
	double bottom = s->page_h - top - s->rows * s->label_h -
	    (s->rows - 1) * s->gap_y;
	double right = s->page_w - left - s->cols * s->label_w -
	    (s->cols - 1) * s->gap_x;

	if (s->cols * s->rows < 2)
		return;
	buf_printf(b, "q 0.3 w 0 G\n");
	/* A mark runs from 1 mm off the labels to at most 6 mm, within the
	 * page margin; a margin under 2 mm gets none on that side. */
	for (int c = 0; c <= 2 * s->cols - 1; c++) {
		double x = left + (c / 2) * (s->label_w + s->gap_x) +
		    (c % 2) * s->label_w;

		if (c % 2 == 0 && c > 0 && s->gap_x == 0)
			continue;	/* the edge the previous label drew */
		if (top >= 2)
			buf_printf(b, "%.2f %.2f m %.2f %.2f l S\n", x * MM,
			    (s->page_h - top + 1) * MM, x * MM,
			    (s->page_h - top + (top > 7 ? 6 : top - 1)) * MM);
		if (bottom >= 2)
			buf_printf(b, "%.2f %.2f m %.2f %.2f l S\n", x * MM,
			    (bottom - 1) * MM, x * MM,
			    (bottom - (bottom > 7 ? 6 : bottom - 1)) * MM);
	}
	for (int r = 0; r <= 2 * s->rows - 1; r++) {
		double y = s->page_h - top - (r / 2) * (s->label_h + s->gap_y) -
		    (r % 2) * s->label_h;

		if (r % 2 == 0 && r > 0 && s->gap_y == 0)
			continue;
		if (left >= 2)
			buf_printf(b, "%.2f %.2f m %.2f %.2f l S\n",
			    (left - 1) * MM, y * MM,
			    (left - (left > 7 ? 6 : left - 1)) * MM, y * MM);
		if (right >= 2)
			buf_printf(b, "%.2f %.2f m %.2f %.2f l S\n",
			    (s->page_w - right + 1) * MM, y * MM,
			    (s->page_w - right + (right > 7 ? 6 : right - 1)) *
			    MM, y * MM);
	}
	buf_printf(b, "Q\n");
}

/* ---- labels ---- */

int
qr_pdf_add(struct qr_pdf *pdf, const struct qr *q, const char *caption)
{
	struct caption_line *lines;
	const struct qr_stock *s;
	struct pdf_buf *b;
	int col, row, w, x, y, n, nlines = 0, side_text, rc, max_lines;
	double module, side, left, top, lx, ltop, lw, lh, box, tx, ty, max_w;

	if (pdf == NULL || q == NULL)
		return SIGIL_EINVAL;
	lines = pdf->lines;
	if (pdf->failed)
		return SIGIL_EIO;
	b = &pdf->content;
	s = &pdf->stock;
	if (pdf->labels == 0 && pdf->cut_marks)
		cut_marks(pdf);
	w = qr_width(q);
	col = pdf->labels % s->cols;
	row = pdf->labels / s->cols;
	lw = s->label_w * MM;
	lh = s->label_h * MM;
	lx = (s->left + col * (s->label_w + s->gap_x)) * MM;
	ltop = (s->page_h - s->top - row * (s->label_h + s->gap_y)) * MM;
	/* 20 mm for the usual small versions; bigger versions grow so a
	 * module stays printable, up to what the label can hold. */
	module = PDF_QR_SIDE / w;
	if (module < PDF_MIN_MODULE)
		module = PDF_MIN_MODULE;
	/* A wide label puts the text beside the symbol, else under it. */
	side_text = caption != NULL && *caption != '\0' && lw >= 1.45 * lh;
	if (side_text) {
		box = lh - 2 * PDF_PAD;
		if ((w + 2 * PDF_QUIET) * module > box)
			module = box / (w + 2 * PDF_QUIET);
		max_w = lw - 2 * PDF_PAD - (w + 2 * PDF_QUIET) * module;
		max_lines = (int)((lh - 2 * PDF_PAD) / PDF_LINE);
	} else {
		max_w = lw - 2 * PDF_PAD;
		max_lines = PDF_LINES_MAX;
	}
	if (caption != NULL && (rc = caption_layout(pdf, caption, max_w,
	    max_lines, lines, &nlines)) != 0)
		return rc;
	/* Under the symbol, a small label shrinks the symbol for its
	 * caption, but never to modules under 0.4 mm: the last lines go
	 * first (the code comes first). */
	while (!side_text && nlines > 1 && (lh - nlines * PDF_LINE) /
	    (w + 2 * PDF_QUIET) < PDF_MIN_MODULE)
		nlines--;
	if (!side_text) {
		if ((w + 2 * PDF_QUIET) * module > lw)
			module = lw / (w + 2 * PDF_QUIET);
		if ((w + 2 * PDF_QUIET) * module + nlines * PDF_LINE > lh)
			module = (lh - nlines * PDF_LINE) /
			    (w + 2 * PDF_QUIET);
	}
	side = w * module;
	if (side_text) {
		left = lx + PDF_PAD + PDF_QUIET * module;
		top = ltop - (lh - side) / 2;
		tx = left + side + PDF_QUIET * module;
		ty = ltop - lh / 2 + nlines * PDF_LINE / 2 - PDF_FONT_SIZE * 0.8;
	} else {
		left = lx + (lw - side) / 2;
		/* Symbol, a quiet zone's gap, the caption, centred. */
		top = ltop - (lh - side - (nlines ? PDF_QUIET * module +
		    nlines * PDF_LINE : 0)) / 2;
		tx = 0;
		ty = top - side - PDF_QUIET * module - PDF_FONT_SIZE * 0.75;
	}

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
	for (int i = 0; i < nlines; i++)
		draw_chars(pdf, lines[i].c, lines[i].n, side_text ? tx :
		    lx + (lw - lines[i].w) / 2, ty - i * PDF_LINE);
	if (b->failed)
		return SIGIL_ENOMEM;
	if (++pdf->labels == s->cols * s->rows)
		return pdf_page_flush(pdf);
	return 0;
}

/* ---- fonts, at close ---- */

static void
glyph_pen(void *arg, char op, const double *xy, int n)
{
	struct pdf_buf *b = arg;

	for (int i = 0; i < n; i++)
		buf_printf(b, "%.0f %.0f ", xy[2 * i], xy[2 * i + 1]);
	buf_printf(b, op == 'M' ? "m\n" : op == 'L' ? "l\n" : op == 'C' ?
	    "c\n" : "h\n");
}

/* Writes Type 3 font k (glyphs k*255 ...) as objects from *next on. */
static int
type3_font(struct qr_pdf *pdf, size_t k, size_t obj)
{
	size_t first = k * GLYPHS_PER_FONT, n = pdf->nglyphs - first, i;
	struct pdf_buf g = { 0 };
	int ret = 0;

	if (n > GLYPHS_PER_FONT)
		n = GLYPHS_PER_FONT;
	/* obj: the font, obj+1: ToUnicode, obj+2+i: glyph i. */
	if ((ret = pdf_obj_begin(pdf, obj)) != 0)
		return ret;
	pdf_printf(pdf, "<< /Type /Font /Subtype /Type3 /FontBBox [0 0 0 0]"
	    " /FontMatrix [0.001 0 0 0.001 0 0] /Resources << >>\n"
	    "/FirstChar 1 /LastChar %zu /Widths [", n);
	for (i = 0; i < n; i++)
		pdf_printf(pdf, "%s%d", i % 16 ? " " : "\n",
		    pdf->glyphs[first + i].adv);
	pdf_printf(pdf, "]\n/Encoding << /Type /Encoding /Differences [1");
	for (i = 0; i < n; i++)
		pdf_printf(pdf, "%s/g%zu", i % 16 ? " " : "\n", i + 1);
	pdf_printf(pdf, "] >>\n/CharProcs <<");
	for (i = 0; i < n; i++)
		pdf_printf(pdf, "%s/g%zu %zu 0 R", i % 8 ? " " : "\n", i + 1,
		    obj + 2 + i);
	pdf_printf(pdf, " >>\n/ToUnicode %zu 0 R >>\nendobj\n", obj + 1);

	buf_printf(&g, "/CIDInit /ProcSet findresource begin\n12 dict begin\n"
	    "begincmap\n/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) "
	    "/Supplement 0 >> def\n/CMapName /Sigil-UCS-%zu def\n/CMapType 2 "
	    "def\n1 begincodespacerange\n<00> <FF>\nendcodespacerange\n", k);
	for (i = 0; i < n; i++) {
		uint32_t cp = pdf->glyphs[first + i].cp;

		if (i % 100 == 0)
			buf_printf(&g, "%zu beginbfchar\n", n - i < 100 ?
			    n - i : 100);
		if (cp >= 0x10000)
			buf_printf(&g, "<%02zX> <%04X%04X>\n", i + 1,
			    0xd800 + ((cp - 0x10000) >> 10),
			    0xdc00 + ((cp - 0x10000) & 0x3ff));
		else
			buf_printf(&g, "<%02zX> <%04X>\n", i + 1, cp);
		if (i % 100 == 99 || i == n - 1)
			buf_printf(&g, "endbfchar\n");
	}
	buf_printf(&g, "endcmap\nCMapName currentdict /CMap defineresource "
	    "pop\nend\nend\n");
	ret = pdf_stream(pdf, obj + 1, &g);
	for (i = 0; i < n && ret == 0; i++) {
		const struct pdf_glyph *gl = &pdf->glyphs[first + i];

		g.len = 0;
		buf_printf(&g, "%d 0 d0\n", gl->adv);
		/* A character measured for a line that was then cut is
		 * never drawn: its glyph stays empty. */
		if (gl->used) {
			if (font_outline(pdf->font, gl->gid, glyph_pen,
			    &g) == 0)
				buf_printf(&g, "f\n");
			else {
				g.len = 0;
				buf_printf(&g, "%d 0 d0\n", gl->adv);
			}
		}
		ret = pdf_stream(pdf, obj + 2 + i, &g);
	}
	free(g.p);
	return ret;
}

int
qr_pdf_close(struct qr_pdf *pdf)
{
	size_t nobj, i, nfonts, helv;
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
	nobj = PDF_OBJ_FIRST + 2 * pdf->pages;
	/* Helvetica only without a font: a print shop's preflight flags
	 * any font that is not embedded, used or not. */
	helv = pdf->font == NULL ? nobj++ : 0;
	if (helv != 0) {
		if ((ret = pdf_obj_begin(pdf, helv)) != 0)
			goto cleanup;
		pdf_printf(pdf, "<< /Type /Font /Subtype /Type1 /BaseFont "
		    "/Helvetica /Encoding /WinAnsiEncoding >>\nendobj\n");
	}
	nfonts = (pdf->nglyphs + GLYPHS_PER_FONT - 1) / GLYPHS_PER_FONT;
	size_t font_obj[GLYPHS_MAX / GLYPHS_PER_FONT];
	for (i = 0; i < nfonts; i++) {
		size_t n = pdf->nglyphs - i * GLYPHS_PER_FONT;

		font_obj[i] = nobj;
		if ((ret = type3_font(pdf, i, nobj)) != 0)
			goto cleanup;
		nobj += 2 + (n > GLYPHS_PER_FONT ? GLYPHS_PER_FONT : n);
	}
	if ((ret = pdf_obj_begin(pdf, PDF_OBJ_RES)) != 0)
		goto cleanup;
	pdf_printf(pdf, "<< /Font <<");
	if (helv != 0)
		pdf_printf(pdf, " /F0 %zu 0 R", helv);
	for (i = 0; i < nfonts; i++)
		pdf_printf(pdf, " /T%zu %zu 0 R", i, font_obj[i]);
	pdf_printf(pdf, " >> >>\nendobj\n");
	if ((ret = pdf_obj_begin(pdf, PDF_OBJ_PAGES)) != 0)
		goto cleanup;
	pdf_printf(pdf, "<< /Type /Pages /Count %zu /Kids [", pdf->pages);
	for (i = 0; i < pdf->pages; i++)
		pdf_printf(pdf, "%s%zu 0 R", i % 16 ? " " : "\n",
		    PDF_OBJ_FIRST + 2 * i + 1);
	pdf_printf(pdf, "] >>\nendobj\n");
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
