/*
 * font.c - a font for printed captions, read with FreeType (see font.h).
 *
 * Glyphs are loaded unscaled and unhinted (FT_LOAD_NO_SCALE): the
 * outline in font units, turned into 1/1000 em here, is what a PDF Type 3
 * glyph or an SVG path needs; hinting is for pixels, not for print.
 *
 * Owns: struct font (a FreeType library and face, and a lock: FreeType
 * faces are not thread-safe and the SVG writer runs on several threads).
 * May call: libc and FreeType. Never touches the store or the network.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ft2build.h>
#include FT_FREETYPE_H
#include FT_OUTLINE_H

#include "sigil/font.h"
#include "sigil/util.h"

/* Searched in order when no font is named: a family and the files that
 * may hold it (Debian's fonts-noto-cjk, fonts-wqy-microhei,
 * fonts-dejavu-core). For a collection the face whose family matches
 * is taken. */
static const struct {
	const char *file, *family;
} defaults[] = {
	{ "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
	  "Noto Sans CJK SC" },
	{ "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
	  "WenQuanYi Micro Hei" },
	{ "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "DejaVu Sans" },
};

struct font {
	FT_Library lib;
	FT_Face face;
	double scale;		/* font units to 1/1000 em */
	pthread_mutex_t lock;
	char describe[512];
};

void
font_free(struct font *f)
{
	if (f == NULL)
		return;
	if (f->face != NULL)
		FT_Done_Face(f->face);
	if (f->lib != NULL)
		FT_Done_FreeType(f->lib);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

/* Opens face index of file into f; family, when given, must match. */
static int
face_open(struct font *f, const char *file, long index, const char *family)
{
	FT_Face face;

	if (access(file, R_OK) != 0)
		return SIGIL_ENOTFOUND;
	if (index < 0) {
		/* The face of the collection whose family is family. */
		if (FT_New_Face(f->lib, file, -1, &face) != 0)
			return SIGIL_EINVAL;
		long n = face->num_faces;

		FT_Done_Face(face);
		for (long i = 0; i < n; i++) {
			if (FT_New_Face(f->lib, file, i, &face) != 0)
				continue;
			if (face->family_name != NULL &&
			    strcmp(face->family_name, family) == 0) {
				index = i;
				FT_Done_Face(face);
				break;
			}
			FT_Done_Face(face);
		}
		if (index < 0)
			index = 0;
	}
	if (FT_New_Face(f->lib, file, index, &f->face) != 0)
		return SIGIL_EINVAL;
	if (FT_Select_Charmap(f->face, FT_ENCODING_UNICODE) != 0 ||
	    f->face->units_per_EM == 0) {
		FT_Done_Face(f->face);
		f->face = NULL;
		return SIGIL_EINVAL;
	}
	f->scale = 1000.0 / f->face->units_per_EM;
	snprintf(f->describe, sizeof f->describe, "%s %s (%s:%ld)",
	    f->face->family_name ? f->face->family_name : "?",
	    f->face->style_name ? f->face->style_name : "", file, index);
	return 0;
}

int
font_open(const char *path, struct font **out)
{
	struct font *f = calloc(1, sizeof(*f));
	int rc = SIGIL_ENOTFOUND;

	if (f == NULL)
		return SIGIL_ENOMEM;
	pthread_mutex_init(&f->lock, NULL);
	if (FT_Init_FreeType(&f->lib) != 0) {
		f->lib = NULL;
		font_free(f);
		return SIGIL_ENOMEM;
	}
	if (path != NULL) {
		char file[4096];
		const char *colon = strrchr(path, ':');
		long index = 0;
		char *end;

		if (strlen(path) >= sizeof file) {
			font_free(f);
			return SIGIL_EINVAL;
		}
		strcpy(file, path);
		if (colon != NULL && colon[1] != '\0') {
			index = strtol(colon + 1, &end, 10);
			if (*end == '\0' && index >= 0)
				file[colon - path] = '\0';
			else
				index = 0;
		}
		rc = face_open(f, file, index, NULL);
	} else {
		for (size_t i = 0; i < sizeof defaults / sizeof defaults[0] &&
		    rc == SIGIL_ENOTFOUND; i++)
			rc = face_open(f, defaults[i].file, -1,
			    defaults[i].family);
	}
	if (rc != 0) {
		font_free(f);
		return rc;
	}
	*out = f;
	return 0;
}

const char *
font_describe(const struct font *f)
{
	return f->describe;
}

int
font_glyph(struct font *f, uint32_t cp, unsigned *gid, int *advance)
{
	int rc;

	pthread_mutex_lock(&f->lock);
	*gid = FT_Get_Char_Index(f->face, cp);
	*advance = 500;
	if (FT_Load_Glyph(f->face, *gid, FT_LOAD_NO_SCALE | FT_LOAD_NO_HINTING |
	    FT_LOAD_NO_BITMAP) == 0)
		*advance = (int)(f->face->glyph->advance.x * f->scale + 0.5);
	rc = *gid == 0 ? SIGIL_ENOTFOUND : 0;
	pthread_mutex_unlock(&f->lock);
	return rc;
}

struct pen_ctx {
	font_pen *pen;
	void *arg;
	double scale, x, y;	/* the current point, for conics */
	int open;
};

static int
pen_move(const FT_Vector *to, void *user)
{
	struct pen_ctx *p = user;
	double xy[2] = { to->x * p->scale, to->y * p->scale };

	if (p->open)
		p->pen(p->arg, 'Z', NULL, 0);
	p->pen(p->arg, 'M', xy, 1);
	p->x = xy[0];
	p->y = xy[1];
	p->open = 1;
	return 0;
}

static int
pen_line(const FT_Vector *to, void *user)
{
	struct pen_ctx *p = user;
	double xy[2] = { to->x * p->scale, to->y * p->scale };

	p->pen(p->arg, 'L', xy, 1);
	p->x = xy[0];
	p->y = xy[1];
	return 0;
}

static int
pen_cubic(const FT_Vector *c1, const FT_Vector *c2, const FT_Vector *to,
    void *user)
{
	struct pen_ctx *p = user;
	double xy[6] = { c1->x * p->scale, c1->y * p->scale,
	    c2->x * p->scale, c2->y * p->scale, to->x * p->scale,
	    to->y * p->scale };

	p->pen(p->arg, 'C', xy, 3);
	p->x = xy[4];
	p->y = xy[5];
	return 0;
}

/* A quadratic curve is the cubic with controls 2/3 of the way from each
 * end towards the quadratic's control. */
static int
pen_conic(const FT_Vector *c, const FT_Vector *to, void *user)
{
	struct pen_ctx *p = user;
	double cx = c->x * p->scale, cy = c->y * p->scale;
	double tx = to->x * p->scale, ty = to->y * p->scale;
	double xy[6] = { p->x + 2.0 / 3 * (cx - p->x),
	    p->y + 2.0 / 3 * (cy - p->y), tx + 2.0 / 3 * (cx - tx),
	    ty + 2.0 / 3 * (cy - ty), tx, ty };

	p->pen(p->arg, 'C', xy, 3);
	p->x = tx;
	p->y = ty;
	return 0;
}

int
font_outline(struct font *f, unsigned gid, font_pen *pen, void *arg)
{
	static const FT_Outline_Funcs funcs = { pen_move, pen_line,
	    pen_conic, pen_cubic, 0, 0 };
	struct pen_ctx p = { pen, arg, f->scale, 0, 0, 0 };
	int rc = 0;

	pthread_mutex_lock(&f->lock);
	if (gid >= (unsigned)f->face->num_glyphs)
		rc = SIGIL_EINVAL;
	else if (FT_Load_Glyph(f->face, gid, FT_LOAD_NO_SCALE |
	    FT_LOAD_NO_HINTING | FT_LOAD_NO_BITMAP) != 0 ||
	    f->face->glyph->format != FT_GLYPH_FORMAT_OUTLINE ||
	    FT_Outline_Decompose(&f->face->glyph->outline, &funcs, &p) != 0)
		rc = SIGIL_EIO;
	else if (p.open)
		pen(arg, 'Z', NULL, 0);
	pthread_mutex_unlock(&f->lock);
	return rc;
}

int
font_render(struct font *f, unsigned gid, int px, struct font_bitmap *bm)
{
	FT_Bitmap *b;
	int rc = 0;

	if (px < 1 || px > 1000)
		return SIGIL_EINVAL;
	pthread_mutex_lock(&f->lock);
	if (gid >= (unsigned)f->face->num_glyphs)
		rc = SIGIL_EINVAL;
	else if (FT_Set_Pixel_Sizes(f->face, 0, (FT_UInt)px) != 0 ||
	    FT_Load_Glyph(f->face, gid, FT_LOAD_RENDER | FT_LOAD_MONOCHROME |
	    FT_LOAD_TARGET_MONO) != 0 ||
	    f->face->glyph->bitmap.pixel_mode != FT_PIXEL_MODE_MONO)
		rc = SIGIL_EIO;
	else {
		b = &f->face->glyph->bitmap;
		bm->width = (int)b->width;
		bm->rows = (int)b->rows;
		bm->pitch = b->pitch < 0 ? -b->pitch : b->pitch;
		bm->left = f->face->glyph->bitmap_left;
		bm->top = f->face->glyph->bitmap_top;
		bm->bits = malloc((size_t)bm->pitch * (size_t)bm->rows + 1);
		if (bm->bits == NULL)
			rc = SIGIL_ENOMEM;
		else
			for (int r = 0; r < bm->rows; r++)
				memcpy(bm->bits + (size_t)r * (size_t)bm->pitch,
				    b->pitch < 0 ? b->buffer + (size_t)(bm->rows -
				    1 - r) * (size_t)bm->pitch : b->buffer +
				    (size_t)r * (size_t)bm->pitch,
				    (size_t)bm->pitch);
	}
	pthread_mutex_unlock(&f->lock);
	return rc;
}

uint32_t
font_utf8_next(const char **sp)
{
	const unsigned char *s = (const unsigned char *)*sp;
	uint32_t cp;
	int n;

	if (s[0] == 0)
		return 0;
	if (s[0] < 0x80) {
		*sp += 1;
		return s[0];
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 1, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 2, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 3, cp = s[0] & 0x07;
	else {
		*sp += 1;
		return 0xfffd;
	}
	for (int i = 1; i <= n; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			*sp += 1;
			return 0xfffd;
		}
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 3 && (cp < 0x10000 || cp > 0x10ffff))) {
		*sp += 1;
		return 0xfffd;
	}
	*sp += n + 1;
	return cp;
}
