/*
 * qr.h - QR symbols for print: libqrencode for the matrix, then SVG (one
 * compact path, optionally a physical size and caption), 1-bit PNG
 * (libpng, optionally its DPI) and PDF label sheets on a label stock that
 * stream page by page (qr_pdf.c).
 */
#ifndef SIGIL_QR_H
#define SIGIL_QR_H

#include <stdio.h>

enum qr_level { QR_LEVEL_L, QR_LEVEL_M, QR_LEVEL_Q, QR_LEVEL_H };

/* "L", "M", "Q", "H" (any case) to *out. 0 or SIGIL_EINVAL. */
int qr_level_parse(const char *s, int *out);

struct qr;

/*
 * Encodes text (8-bit; alphanumeric mode is chosen automatically when
 * text is all QR alphanumeric characters) at the smallest version that
 * fits level. 0, SIGIL_EINVAL (too long), SIGIL_ENOMEM. Thread-safe.
 */
int qr_encode(const char *text, int level, struct qr **out);
void qr_free(struct qr *q);
int qr_version(const struct qr *q);	/* 1..40 */
int qr_width(const struct qr *q);	/* modules per side, no quiet zone */
int qr_module(const struct qr *q, int x, int y);	/* 1 = dark */
/* The number of dark modules in row y from column x on. */
int qr_run(const struct qr *q, int x, int y);

/*
 * Writers. module_px >= 1 is the size of one module (pixels for PNG, user
 * units for SVG); margin is the quiet zone in modules (4 by default per
 * ISO/IEC 18004). 0 or SIGIL_EIO; SIGIL_EINVAL for a NULL argument,
 * module_px < 1, margin < 0 or a side ((width + 2 * margin) * module_px)
 * over 32768; SIGIL_ENOMEM (PNG row buffer).
 */
int qr_write_svg(const struct qr *q, int module_px, int margin, FILE *f);
int qr_write_png(const struct qr *q, int module_px, int margin, FILE *f);

struct font;
/*
 * The same for print. module_mm > 0 is the printed size of one module:
 * the SVG's width and height are then in mm, the PNG carries it as its
 * pixel density (pHYs, pixels per metre = module_px * 1000 / module_mm).
 * caption (NULL or "" for none) is up to four lines (split at '\n',
 * and with a font wrapped at spaces to the symbol's width) centred under
 * the symbol. In SVG it is drawn with font's glyph outlines (only the
 * glyphs used, so any script prints without the font installed) and kept
 * as the image's <title> so the text can be found; font NULL writes SVG
 * text in the viewer's sans-serif. In PNG it is drawn 1 bit a pixel with
 * font's glyphs; font NULL leaves it out.
 * Errors as above.
 */
int qr_write_svg_label(const struct qr *q, int module_px, int margin,
    double module_mm, const char *caption, struct font *font, FILE *f);
int qr_write_png_phys(const struct qr *q, int module_px, int margin,
    double module_mm, FILE *f);
/* A PNG with the caption under the symbol, laid out as the SVG's and
 * drawn 1 bit a pixel with font's glyphs (font NULL: no caption). */
int qr_write_png_label(const struct qr *q, int module_px, int margin,
    double module_mm, const char *caption, struct font *font, FILE *f);

/*
 * Label stocks (qr_pdf.c): the page and the grid of labels on it, in mm.
 * Sheets: "a4-4x6" (the default), "a4-3x7", "a4-2x7", "a4-3x8",
 * "a4-4x10"; single labels a page for thermal printers: "40x30",
 * "50x30", "60x40", "100x50".
 */
struct qr_stock {
	const char	*name, *describe;
	double		 page_w, page_h;
	int		 cols, rows;
	double		 label_w, label_h;
	double		 left, top;	/* the first label's corner */
	double		 gap_x, gap_y;
};
const struct qr_stock *qr_stock_list(size_t *n);
const struct qr_stock *qr_stock_find(const char *name);	/* or NULL */

/*
 * A label sheet: labels laid out on the stock, each a QR symbol with its
 * caption (up to five lines, split at '\n' and wrapped to the label)
 * under it, or beside it on a label at least 1.45 times as wide as high.
 * Symbols are 20 mm wide (larger versions grow to keep modules at 0.4 mm
 * or more) unless the label is smaller, with a 4-module quiet zone.
 * Captions are 7 pt: with a font, any script, its glyphs embedded as
 * Type 3 fonts with a ToUnicode map (a subset: only the characters
 * used, at most 4,080 distinct); without, Helvetica, printable ASCII only
 * (other characters print as '?'). cut_marks draws crop marks in the
 * sheet's margins at every label edge (not on single-label stocks).
 * Pages are written as they fill; only the object offsets and the glyphs
 * used are kept in memory. f is not closed. qr_pdf_add returns 0,
 * SIGIL_EINVAL (also: the captions need more than 4,080 distinct
 * characters), SIGIL_ENOMEM, SIGIL_EIO, or SIGIL_EFULL once the file
 * passes the 10-digit xref offset limit (about 9.3 GiB).
 */
struct qr_pdf_opts {
	const struct qr_stock	*stock;		/* NULL: "a4-4x6" */
	struct font		*font;		/* NULL: Helvetica; not owned */
	int			 cut_marks;
};
struct qr_pdf;
int qr_pdf_open_opts(FILE *f, const struct qr_pdf_opts *o,
    struct qr_pdf **out);
int qr_pdf_open(FILE *f, struct qr_pdf **out);	/* the defaults */
int qr_pdf_add(struct qr_pdf *pdf, const struct qr *q, const char *caption);
/*
 * Finishes the document (last page, xref, trailer), flushes f and frees
 * pdf, even on failure. 0 or SIGIL_EIO (SIGIL_ENOMEM, SIGIL_EFULL as for
 * qr_pdf_add). A sheet with no labels gets one blank page.
 */
int qr_pdf_close(struct qr_pdf *pdf);
/* Frees without finishing, after an error. */
void qr_pdf_abort(struct qr_pdf *pdf);

#endif
