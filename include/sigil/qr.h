/*
 * qr.h - QR symbols for print: libqrencode for the matrix, then SVG (one
 * compact path), 1-bit PNG (libpng) and an A4 PDF label sheet that
 * streams page by page.
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

/*
 * Writers. module_px >= 1 is the size of one module (pixels for PNG, user
 * units for SVG); margin is the quiet zone in modules (4 by default per
 * ISO/IEC 18004). 0 or SIGIL_EIO; SIGIL_EINVAL for a NULL argument,
 * module_px < 1, margin < 0 or a side ((width + 2 * margin) * module_px)
 * over 32768; SIGIL_ENOMEM (PNG row buffer).
 */
int qr_write_svg(const struct qr *q, int module_px, int margin, FILE *f);
int qr_write_png(const struct qr *q, int module_px, int margin, FILE *f);

/*
 * A4 label sheet: labels laid out in a grid, each a QR symbol with a
 * caption line (e.g. the serial) under it. Pages are written as they
 * fill; only the object offsets are kept in memory. Layout: 4 x 6 labels
 * per A4 page, symbols 20 mm wide (larger versions grow to keep modules
 * printable), caption in Helvetica 7 pt, printable ASCII only (other bytes
 * print as '?'), cut to the label width. f is not closed. qr_pdf_add
 * returns 0, SIGIL_EINVAL, SIGIL_ENOMEM, SIGIL_EIO, or SIGIL_EFULL once
 * the file passes the 10-digit xref offset limit (about 9.3 GiB).
 */
struct qr_pdf;
int qr_pdf_open(FILE *f, struct qr_pdf **out);
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
