/*
 * font.h - glyphs for printed captions: a TrueType/OpenType font (CFF or
 * glyf, a .ttc collection too) read with FreeType, giving each Unicode
 * character's glyph, advance and outline, so that label writers (qr_pdf.c,
 * the SVG labels of qr.c) can embed exactly the glyphs they use (a
 * subset) and print any script, CJK included, without the printer having
 * the font.
 *
 * Units: 1/1000 em, y up (PDF glyph space); the caller scales.
 * Thread-safe: one lock per font around FreeType's face.
 */
#ifndef SIGIL_FONT_H
#define SIGIL_FONT_H

#include <stdint.h>

struct font;

/*
 * Opens path ("FILE" or "FILE:INDEX" for a face of a collection), or with
 * path NULL the first of FONT_DEFAULTS that exists (Noto Sans CJK SC from
 * fonts-noto-cjk, then WenQuanYi Micro Hei, then DejaVu Sans). 0,
 * SIGIL_ENOTFOUND (no such file, or no default installed), SIGIL_EINVAL
 * (not a font FreeType reads, or without a Unicode character map),
 * SIGIL_ENOMEM.
 */
int font_open(const char *path, struct font **out);
void font_free(struct font *f);
/* "Noto Sans CJK SC Regular (/usr/share/...ttc:2)": for messages. */
const char *font_describe(const struct font *f);

/*
 * cp's glyph id and advance. 0, or SIGIL_ENOTFOUND when the font has no
 * glyph for cp (*gid is then 0, the .notdef box, with its advance).
 */
int font_glyph(struct font *f, uint32_t cp, unsigned *gid, int *advance);

/*
 * Calls pen once per outline step of glyph gid: op 'M' (move, one
 * point), 'L' (line, one), 'C' (cubic Bezier, three: two controls and the
 * end; quadratic TrueType curves are raised to cubics) or 'Z' (close, no
 * point). Points are x, y pairs in 1/1000 em. 0, SIGIL_EINVAL (no such
 * glyph), SIGIL_EIO (FreeType failed).
 */
typedef void font_pen(void *arg, char op, const double *xy, int npoints);
int font_outline(struct font *f, unsigned gid, font_pen *pen, void *arg);

/*
 * Glyph gid drawn 1 bit a pixel, px pixels to the em (for PNG labels):
 * bits is malloc'd (the caller frees it), rows of pitch bytes, the most
 * significant bit leftmost, 1 for ink; the bitmap's top-left corner is
 * left pixels right of the pen and top pixels above the baseline. 0,
 * SIGIL_EINVAL (no such glyph, px out of 1..1000), SIGIL_EIO, SIGIL_ENOMEM.
 */
struct font_bitmap {
	unsigned char	*bits;
	int		 width, rows, pitch, left, top;
};
int font_render(struct font *f, unsigned gid, int px, struct font_bitmap *bm);

/*
 * Decodes one UTF-8 character at *s (advancing *s); U+FFFD for a bad
 * sequence (one byte skipped). Returns 0 at the terminating NUL.
 */
uint32_t font_utf8_next(const char **s);

#endif
