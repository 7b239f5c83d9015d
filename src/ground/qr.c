/*
 * qr.c - QR symbols for print: the matrix from libqrencode, then two
 * image writers (SVG and 1-bit PNG); the PDF label sheets are qr_pdf.c.
 *
 * Owns struct qr (a QRcode* from libqrencode). It may call libc,
 * libqrencode, libpng, zlib and font.h (caption glyphs); it never touches
 * the store, keys or the network, so `sigil mint` can run it on any
 * machine.
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
 * enough to inline in HTML or ship by the million. The viewBox is in
 * modules; with a printed module size the width and height are in mm. A
 * caption goes under the symbol: with a font, each distinct character's
 * outline once in <defs> and a <use> per character (the file needs no
 * font to print), the text itself in <title>.
 *
 * PNG: 1-bit grayscale straight from the matrix, one row buffer, libpng's
 * error longjmp caught with setjmp and turned into SIGIL_EIO; with a
 * printed module size, a pHYs chunk. Errors are not printed by libpng:
 * the caller decides what to log.
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

#include "sigil/font.h"
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

int
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

/* Writes s as XML character data (caption text of a <title>). */
static void
svg_escape(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '<')
			fputs("&lt;", f);
		else if (*s == '>')
			fputs("&gt;", f);
		else if (*s == '&')
			fputs("&amp;", f);
		else if (*s == '"')
			fputs("&quot;", f);
		else if (*s == '\n')
			fputs(" / ", f);
		else if ((unsigned char)*s >= 0x20 && *s != 0x7f)
			fputc(*s, f);
	}
}

#define SVG_EM		4.0	/* caption em in modules (2 mm at 0.5 mm) */
#define SVG_LINE	(SVG_EM * 1.25)
#define SVG_LINES_MAX	4
#define SVG_GLYPHS_MAX	256	/* distinct characters a caption may use */
#define SVG_LINE_CHARS	256

struct svg_glyph {
	uint32_t cp;
	unsigned gid;
	int adv;
};

/* A caption laid out with a font: its distinct glyphs, and per line the
 * glyph indexes and width (1/1000 em). */
struct svg_layout {
	struct svg_glyph g[SVG_GLYPHS_MAX];
	int ng, nlines;
	int idx[SVG_LINES_MAX][SVG_LINE_CHARS];
	int n[SVG_LINES_MAX];
	double w[SVG_LINES_MAX];
};

struct svg_pen {
	FILE *f;
};

static void
svg_glyph_pen(void *arg, char op, const double *xy, int n)
{
	struct svg_pen *p = arg;

	fputc(op, p->f);
	for (int i = 0; i < n; i++)
		fprintf(p->f, "%s%.0f %.0f", i ? " " : "", xy[2 * i],
		    xy[2 * i + 1]);
}

static int
svg_glyph(struct svg_layout *l, struct font *font, uint32_t cp)
{
	int k;

	for (k = 0; k < l->ng && l->g[k].cp != cp; k++)
		;
	if (k < l->ng)
		return k;
	if (l->ng == SVG_GLYPHS_MAX)
		return -1;
	l->g[k].cp = cp;
	font_glyph(font, cp, &l->g[k].gid, &l->g[k].adv);
	l->ng++;
	return k;
}

/*
 * Lays caption out in lines of at most units - 1 modules: split at its
 * newlines, wrapped at the last space that fits (else anywhere), at most
 * SVG_LINES_MAX lines; the rest is cut.
 */
static void
svg_layout(struct svg_layout *l, const char *caption, struct font *font,
    int units)
{
	double max = (units - 1) * 1000.0 / SVG_EM;
	const char *s = caption;

	l->ng = l->nlines = 0;
	while (*s != '\0' && l->nlines < SVG_LINES_MAX) {
		int chars[SVG_LINE_CHARS], n = 0, i = 0;
		size_t len = strcspn(s, "\n");
		const char *p = s, *end = s + len;

		while (p < end && n < SVG_LINE_CHARS) {
			uint32_t cp = font_utf8_next(&p);
			int k = cp >= 0x20 ? svg_glyph(l, font, cp) : -1;

			if (k >= 0)
				chars[n++] = k;
		}
		while (i < n && l->nlines < SVG_LINES_MAX) {
			int line = l->nlines++, e = i, brk = -1;
			double w = 0;

			while (e < n && w + l->g[chars[e]].adv <= max) {
				w += l->g[chars[e]].adv;
				if (l->g[chars[e]].cp == ' ')
					brk = e;
				e++;
			}
			if (e < n && brk > i)
				e = brk;
			if (e == i)
				e = i + 1;
			l->n[line] = e - i;
			l->w[line] = 0;
			for (int k = i; k < e; k++) {
				l->idx[line][k - i] = chars[k];
				l->w[line] += l->g[chars[k]].adv;
			}
			for (i = e; i < n && l->g[chars[i]].cp == ' '; i++)
				;
		}
		s = end;
		if (*s == '\n')
			s++;
	}
}

/* The laid-out caption from y (module units) down: one <path> per
 * distinct glyph in <defs>, a <use> per character, each line a group
 * scaled from 1/1000 em. */
static void
svg_draw(FILE *f, const struct svg_layout *l, struct font *font, int units,
    double y)
{
	struct svg_pen pen = { f };

	fputs("<defs>", f);
	for (int k = 0; k < l->ng; k++) {
		fprintf(f, "<path id=\"g%d\" d=\"", k);
		font_outline(font, l->g[k].gid, svg_glyph_pen, &pen);
		fputs("\"/>", f);
	}
	fputs("</defs>", f);
	for (int line = 0; line < l->nlines; line++) {
		double x = 0;

		fprintf(f, "<g transform=\"translate(%.2f %.2f) scale(%.4f "
		    "%.4f)\">", (units - l->w[line] * SVG_EM / 1000.0) / 2,
		    y + SVG_EM * 0.85 + line * SVG_LINE, SVG_EM / 1000.0,
		    -SVG_EM / 1000.0);
		for (int i = 0; i < l->n[line]; i++) {
			int k = l->idx[line][i];

			fprintf(f, "<use href=\"#g%d\" xlink:href=\"#g%d\" "
			    "x=\"%.0f\"/>", k, k, x);
			x += l->g[k].adv;
		}
		fputs("</g>", f);
	}
}

/* Without a font: each caption line as <text> (the viewer's font). */
static void
svg_text(FILE *f, const char *caption, int units, double y)
{
	const char *s = caption;

	for (int line = 0; *s != '\0' && line < SVG_LINES_MAX; line++) {
		size_t len = strcspn(s, "\n");
		char text[512];

		snprintf(text, sizeof text, "%.*s", (int)len, s);
		fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" font-size=\"%.1f\" "
		    "font-family=\"sans-serif\" text-anchor=\"middle\">",
		    units / 2.0, y + SVG_EM * 0.8 + line * SVG_LINE, SVG_EM);
		svg_escape(f, text);
		fputs("</text>", f);
		s += len;
		if (*s == '\n')
			s++;
	}
}

int
qr_write_svg(const struct qr *q, int module_px, int margin, FILE *f)
{
	return qr_write_svg_label(q, module_px, margin, 0, NULL, NULL, f);
}

int
qr_write_svg_label(const struct qr *q, int module_px, int margin,
    double module_mm, const char *caption, struct font *font, FILE *f)
{
	int side = qr_side(q, module_px, margin);
	struct svg_out out, *o = &out;
	int w, units, x, y, n, penx, peny, lines = 0;
	struct svg_layout *lay = NULL;
	double height;
	char wbuf[40], hbuf[40];

	if (side == 0 || f == NULL || module_mm < 0 || module_mm > 100)
		return SIGIL_EINVAL;
	w = q->code->width;
	units = w + 2 * margin;
	if (caption != NULL && *caption != '\0' && font != NULL) {
		if ((lay = malloc(sizeof(*lay))) == NULL)
			return SIGIL_ENOMEM;
		svg_layout(lay, caption, font, units);
		lines = lay->nlines;
	} else if (caption != NULL && *caption != '\0') {
		lines = 1;
		for (const char *c = caption; *c != '\0'; c++)
			lines += *c == '\n' && c[1] != '\0';
		if (lines > SVG_LINES_MAX)
			lines = SVG_LINES_MAX;
	}
	o->f = f;
	o->len = 0;
	o->failed = 0;
	/* The caption sits in the lower quiet zone's second half and below. */
	height = units + (lines ? lines * SVG_LINE + SVG_EM * 0.3 - margin / 2.0 :
	    0);
	if (module_mm > 0) {
		snprintf(wbuf, sizeof wbuf, "%.2fmm", units * module_mm);
		snprintf(hbuf, sizeof hbuf, "%.2fmm", height * module_mm);
	} else {
		snprintf(wbuf, sizeof wbuf, "%d", side);
		snprintf(hbuf, sizeof hbuf, "%.0f", height * module_px);
	}
	if (fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<svg xmlns=\"http://www.w3.org/2000/svg\"%s width=\"%s\" "
	    "height=\"%s\" viewBox=\"0 0 %d %g\">",
	    lay != NULL ?
	    " xmlns:xlink=\"http://www.w3.org/1999/xlink\"" : "", wbuf, hbuf,
	    units, height) < 0)
		o->failed = 1;
	if (lines) {
		fputs("<title>", f);
		svg_escape(f, caption);
		fputs("</title>", f);
	}
	fprintf(f, "<rect width=\"%d\" height=\"%g\" fill=\"#fff\"/>"
	    "<path fill=\"none\" stroke=\"#000\" shape-rendering=\"crispEdges\" "
	    "d=\"", units, height);
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
	fputs("\"/>", f);
	if (lay != NULL)
		svg_draw(f, lay, font, units, units - margin / 2.0);
	else if (lines)
		svg_text(f, caption, units, units - margin / 2.0);
	free(lay);
	fputs("</svg>\n", f);
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
	return qr_write_png_label(q, module_px, margin, 0, NULL, NULL, f);
}

int
qr_write_png_phys(const struct qr *q, int module_px, int margin,
    double module_mm, FILE *f)
{
	return qr_write_png_label(q, module_px, margin, module_mm, NULL, NULL,
	    f);
}

/*
 * The caption rows of a PNG label: side x rows pixels, one byte each (1
 * ink), the text laid out as for SVG and drawn
 * with the font's 1-bit glyphs at SVG_EM modules to the em.
 */
static unsigned char *
png_caption(const struct svg_layout *l, struct font *font, int units,
    int module_px, int side, int rows)
{
	unsigned char *c = calloc((size_t)side * (size_t)rows, 1);
	int em = (int)(SVG_EM * module_px + 0.5);

	if (c == NULL)
		return NULL;
	for (int line = 0; line < l->nlines; line++) {
		double x = (units - l->w[line] * SVG_EM / 1000.0) / 2 *
		    module_px;
		/* The baseline, from the caption's first row. */
		int base = (int)((SVG_EM * 0.85 + line * SVG_LINE) *
		    module_px + 0.5);

		for (int i = 0; i < l->n[line]; i++) {
			const struct svg_glyph *g = &l->g[l->idx[line][i]];
			struct font_bitmap bm;

			if (font_render(font, g->gid, em, &bm) == 0) {
				for (int r = 0; r < bm.rows; r++)
					for (int k = 0; k < bm.width; k++) {
						int yy = base - bm.top + r;
						int xx = (int)x + bm.left + k;

						if (yy >= 0 && yy < rows &&
						    xx >= 0 && xx < side &&
						    (bm.bits[r * bm.pitch +
						    (k >> 3)] & (0x80 >>
						    (k & 7))))
							c[(size_t)yy * side +
							    xx] = 1;
					}
				free(bm.bits);
			}
			x += g->adv * em / 1000.0;
		}
	}
	return c;
}

/* Writes the PNG: symbol rows, then (cap non-NULL) the caption rows from
 * pixel row cap_top to height. */
static int
png_emit(const struct qr *q, int module_px, int margin, double module_mm,
    int side, int height, const unsigned char *cap, int cap_top, FILE *f)
{
	png_structp png = NULL;
	png_infop info = NULL;
	png_bytep row;
	/* Assigned after setjmp, read after the longjmp: must be volatile. */
	volatile int ret = SIGIL_EIO;
	int px, y;

	/* Allocated before setjmp and never reassigned, so they survive the
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
	png_set_IHDR(png, info, (png_uint_32)side, (png_uint_32)height, 1,
	    PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
	    PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	/* Filters buy nothing on a two-tone image of long runs. */
	png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_NONE);
	/* The printed size: pixels per metre, as pHYs has it. */
	if (module_mm > 0)
		png_set_pHYs(png, info, (png_uint_32)(module_px * 1000.0 /
		    module_mm + 0.5), (png_uint_32)(module_px * 1000.0 /
		    module_mm + 0.5), PNG_RESOLUTION_METER);
	/* A symbol is a few KB of pixels: zlib's default 256 KB of state
	 * cost more in malloc and page faults than the compression. */
	png_set_compression_mem_level(png, 2);
	png_write_info(png, info);
	/* One pixel row per module row, written module_px times; then the
	 * caption's rows (the lower quiet zone's second half and below). */
	for (y = 0; y < height; y++) {
		if (cap != NULL && y >= cap_top) {
			memset(row, 0xff, ((size_t)side + 7) / 8);
			for (px = 0; px < side; px++)
				if (cap[(size_t)(y - cap_top) * side + px])
					row[px >> 3] &=
					    (png_byte)~(0x80 >> (px & 7));
		} else if (y % module_px == 0) {
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

int
qr_write_png_label(const struct qr *q, int module_px, int margin,
    double module_mm, const char *caption, struct font *font, FILE *f)
{
	int side = qr_side(q, module_px, margin), height, cap_top = 0, rc;
	unsigned char *cap = NULL;

	if (side == 0 || f == NULL || module_mm < 0 || module_mm > 100)
		return SIGIL_EINVAL;
	height = side;
	if (caption != NULL && *caption != '\0' && font != NULL) {
		int units = qr_width(q) + 2 * margin;
		struct svg_layout *lay = malloc(sizeof(*lay));
		double top = units - margin / 2.0;

		if (lay == NULL)
			return SIGIL_ENOMEM;
		svg_layout(lay, caption, font, units);
		height = (int)((top + lay->nlines * SVG_LINE + SVG_EM * 0.3) *
		    module_px + 0.5);
		cap_top = (int)(top * module_px);
		if (height > QR_MAX_SIDE) {
			free(lay);
			return SIGIL_EINVAL;
		}
		cap = png_caption(lay, font, units, module_px, side,
		    height - cap_top);
		free(lay);
		if (cap == NULL)
			return SIGIL_ENOMEM;
	}
	rc = png_emit(q, module_px, margin, module_mm, side, height, cap,
	    cap_top, f);
	free(cap);
	return rc;
}
