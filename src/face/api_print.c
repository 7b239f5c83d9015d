/*
 * api_print.c - a batch's print files over the brand API, and the label
 * stocks they can be laid out on:
 *
 *   GET /api/v1/batches/{id}/codes.csv       serial,url a line
 *   GET /api/v1/batches/{id}/codes.txt       one URL a line
 *   GET /api/v1/batches/{id}/labels.pdf      ?stock= ?cut_marks= ?caption=
 *                                            ?level=
 *   GET /api/v1/batches/{id}/labels-png.zip  ?dpi= ?module= (mm) ?caption=
 *                                            ?level=
 *   GET /api/v1/batches/{id}/labels-svg.zip  ?module= (mm) ?caption= ?level=
 *   GET /api/v1/label-stocks
 *
 * The same files `sigil mint` makes (tools/mint.c): captions of product
 * name, lot and serial in any script with the caption font embedded
 * (font.c), PDF sheets on a label stock with cut marks (qr_pdf.c), PNGs
 * with their DPI and SVGs with their size in mm (qr.c), the images one
 * an entry of a ZIP archive (zip.c). Every parameter is checked on the
 * loop before a byte is sent (422 naming it); the file is then made on a
 * worker thread and streamed with back-pressure (http_job.c), so memory
 * stays flat for any batch and no scan waits for it.
 *
 * Hidden PINs are never served over the API (SPEC §8, docs/api.md "PIN
 * print files"): a PIN print file is made offline with `sigil mint
 * --pin` on the packaging line's machine.
 *
 * A handler: route_api.c calls it after authentication and the role
 * check. May call http_api.c, http_job, code, keyring, qr, font, zip,
 * store (reads) and log; never another handler file. Runs nothing heavy
 * on the loop: the worker gets copies of everything it needs (the key
 * included, wiped when the job ends) and never touches the store.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <jansson.h>
#include <openssl/crypto.h>

#include "sigil/api.h"
#include "sigil/app.h"
#include "sigil/code.h"
#include "sigil/font.h"
#include "sigil/http.h"
#include "sigil/http_job.h"
#include "sigil/http_write.h"
#include "sigil/keyring.h"
#include "sigil/log.h"
#include "sigil/qr.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "sigil/zip.h"

#define CAPTION_MAX	1024
#define DPI_DEFAULT	300
#define DPI_MIN		72
#define DPI_MAX		2400
#define MODULE_MM	0.5
#define SVG_UNITS	4	/* user units a module; the size is in mm */

enum pfile { PF_CSV, PF_TXT, PF_PDF, PF_PNG, PF_SVG };
enum { CAP_FULL, CAP_SERIAL, CAP_NONE };

static const struct {
	const char	*name, *type, *suffix;
} files[] = {
	[PF_CSV] = { "codes.csv", "text/csv; charset=utf-8", ".csv" },
	[PF_TXT] = { "codes.txt", "text/plain; charset=utf-8", ".txt" },
	[PF_PDF] = { "labels.pdf", "application/pdf", "-labels.pdf" },
	[PF_PNG] = { "labels-png.zip", "application/zip", "-labels-png.zip" },
	[PF_SVG] = { "labels-svg.zip", "application/zip", "-labels-svg.zip" },
};

struct print_job {
	enum pfile		 file;
	struct batch		 batch;
	struct product		 product;
	struct code_key		 key;
	char			 base[STORE_URL_MAX + 1];
	const struct qr_stock	*stock;
	int			 cut_marks, caption, level;
	int			 module_px;	/* PNG pixels, SVG units */
	double			 module_mm;
	int64_t			 now;
};

/* ---- on the worker ---- */

static int
job_url(struct print_job *p, uint64_t serial, char *url, size_t size)
{
	struct code code;
	int rc;

	if ((rc = code_sign(&p->key, serial, &code)) != 0)
		return rc;
	if (p->product.gs1_form)
		rc = code_url_gs1(p->base, p->product.gtin, p->batch.lot, &code,
		    url, size);
	else
		rc = code_url_compact(p->base, &code, url, size);
	OPENSSL_cleanse(&code, sizeof code);
	return rc < 0 ? SIGIL_EINVAL : 0;
}

/* A label's caption, as `sigil mint` writes it: name, lot, serial. */
static const char *
job_caption(const struct print_job *p, uint64_t serial, char *buf,
    size_t size)
{
	if (p->caption == CAP_NONE)
		return NULL;
	if (p->caption == CAP_SERIAL)
		snprintf(buf, size, "%llu", (unsigned long long)serial);
	else if (p->batch.lot[0] != '\0')
		snprintf(buf, size, "%s\n\xe6\x89\xb9\xe5\x8f\xb7 LOT %s\n%llu",
		    p->product.name, p->batch.lot, (unsigned long long)serial);
	else
		snprintf(buf, size, "%s\n%llu", p->product.name,
		    (unsigned long long)serial);
	return buf;
}

static int
write_lines(struct print_job *p, FILE *f)
{
	char url[CODE_URL_MAX];
	uint64_t s, end = p->batch.first_serial + p->batch.count;
	int rc;

	if (p->file == PF_CSV && fputs("serial,url\n", f) == EOF)
		return SIGIL_EIO;
	for (s = p->batch.first_serial; s < end; s++) {
		if ((rc = job_url(p, s, url, sizeof url)) != 0)
			return rc;
		if ((p->file == PF_CSV ? fprintf(f, "%llu,%s\n",
		    (unsigned long long)s, url) : fprintf(f, "%s\n", url)) < 0)
			return SIGIL_EIO;
	}
	return 0;
}

static int
write_pdf(struct print_job *p, struct font *font, FILE *f)
{
	struct qr_pdf_opts po = { p->stock, font, p->cut_marks };
	uint64_t s, end = p->batch.first_serial + p->batch.count;
	char url[CODE_URL_MAX], cap[CAPTION_MAX];
	struct qr_pdf *pdf;
	struct qr *q;
	int rc;

	if ((rc = qr_pdf_open_opts(f, &po, &pdf)) != 0)
		return rc;
	for (s = p->batch.first_serial; s < end; s++) {
		if ((rc = job_url(p, s, url, sizeof url)) != 0 ||
		    (rc = qr_encode(url, p->level, &q)) != 0)
			break;
		rc = qr_pdf_add(pdf, q, job_caption(p, s, cap, sizeof cap));
		qr_free(q);
		if (rc != 0)
			break;
	}
	if (rc != 0) {
		qr_pdf_abort(pdf);
		return rc;
	}
	return qr_pdf_close(pdf);
}

static int
write_zip(struct print_job *p, struct font *font, FILE *f)
{
	uint64_t s, end = p->batch.first_serial + p->batch.count;
	char url[CODE_URL_MAX], cap[CAPTION_MAX], name[32];
	struct zip *z;
	struct qr *q;
	char *img = NULL;
	size_t len = 0;
	FILE *m;
	int rc;

	if ((rc = zip_open(f, p->now / 1000000, &z)) != 0)
		return rc;
	for (s = p->batch.first_serial; s < end; s++) {
		if ((rc = job_url(p, s, url, sizeof url)) != 0 ||
		    (rc = qr_encode(url, p->level, &q)) != 0)
			break;
		if ((m = open_memstream(&img, &len)) == NULL) {
			qr_free(q);
			rc = SIGIL_ENOMEM;
			break;
		}
		const char *c = job_caption(p, s, cap, sizeof cap);
		rc = p->file == PF_PNG ? qr_write_png_label(q, p->module_px, 4,
		    p->module_mm, c, font, m) : qr_write_svg_label(q,
		    p->module_px, 4, p->module_mm, c, font, m);
		qr_free(q);
		if (fclose(m) != 0 && rc == 0)
			rc = SIGIL_EIO;
		snprintf(name, sizeof name, "%llu%s", (unsigned long long)s,
		    p->file == PF_PNG ? ".png" : ".svg");
		/* PNG is deflated already: stored; SVG text shrinks 3-4x. */
		if (rc == 0)
			rc = zip_add(z, name, p->file == PF_PNG ? ZIP_STORE :
			    ZIP_DEFLATE, img, len);
		free(img);
		img = NULL;
		if (rc != 0)
			break;
	}
	if (rc != 0) {
		zip_abort(z);
		return rc;
	}
	return zip_close(z);
}

static int
print_run(FILE *f, void *arg)
{
	struct print_job *p = arg;
	struct font *font = NULL;
	int rc;

	if (p->file == PF_CSV || p->file == PF_TXT)
		return write_lines(p, f);
	/* No caption font installed: PDF falls back to Helvetica (ASCII),
	 * SVG to text, PNG to no caption, as `sigil mint` does. */
	if (p->caption != CAP_NONE)
		(void)font_open(NULL, &font);
	rc = p->file == PF_PDF ? write_pdf(p, font, f) : write_zip(p, font, f);
	font_free(font);
	return rc;
}

static void
print_free(void *arg)
{
	struct print_job *p = arg;

	OPENSSL_cleanse(&p->key, sizeof p->key);
	free(p);
}

/* ---- on the loop: the parameters ---- */

static int
bad(struct api_call *a, const char *msg)
{
	api_fail(a, 422, "invalid", msg);
	return -1;
}

/* Parameters that do not apply to the file are refused, as the CLI
 * refuses them: a form sending them has a mistake worth seeing. */
static int
not_for(struct api_call *a, const char *name, int allowed, const char *which)
{
	char v[64], msg[128];

	if (allowed || http_query(a->c, name, v, sizeof v) == NULL)
		return 0;
	snprintf(msg, sizeof msg, "'%s' is for %s only", name, which);
	return bad(a, msg);
}

static int
params(struct api_call *a, struct print_job *p)
{
	int pdf = p->file == PF_PDF, png = p->file == PF_PNG,
	    img = p->file == PF_PNG || p->file == PF_SVG;
	char v[64], *end;
	uint64_t dpi = DPI_DEFAULT;

	if (not_for(a, "stock", pdf, "labels.pdf") ||
	    not_for(a, "cut_marks", pdf, "labels.pdf") ||
	    not_for(a, "caption", pdf || img, "label files") ||
	    not_for(a, "level", pdf || img, "label files") ||
	    not_for(a, "dpi", png, "labels-png.zip") ||
	    not_for(a, "module", img, "labels-png.zip and labels-svg.zip"))
		return -1;
	p->stock = NULL;
	if (http_query(a->c, "stock", v, sizeof v) != NULL &&
	    (p->stock = qr_stock_find(v)) == NULL)
		return bad(a, "'stock' must be one of the label stocks "
		    "(GET /api/v1/label-stocks)");
	if (http_query(a->c, "cut_marks", v, sizeof v) != NULL) {
		if (strcmp(v, "0") != 0 && strcmp(v, "1") != 0)
			return bad(a, "'cut_marks' must be 0 or 1");
		p->cut_marks = v[0] == '1';
	}
	p->caption = CAP_FULL;
	if (http_query(a->c, "caption", v, sizeof v) != NULL) {
		if (strcmp(v, "full") == 0)
			p->caption = CAP_FULL;
		else if (strcmp(v, "serial") == 0)
			p->caption = CAP_SERIAL;
		else if (strcmp(v, "none") == 0)
			p->caption = CAP_NONE;
		else
			return bad(a, "'caption' must be full, serial or none");
	}
	p->level = QR_LEVEL_M;
	if (http_query(a->c, "level", v, sizeof v) != NULL &&
	    qr_level_parse(v, &p->level) != 0)
		return bad(a, "'level' must be L, M, Q or H");
	if (http_query(a->c, "dpi", v, sizeof v) != NULL &&
	    (sigil_parse_u64(v, DPI_MAX, &dpi) != 0 || dpi < DPI_MIN))
		return bad(a, "'dpi' must be a whole number from 72 to 2400");
	p->module_mm = MODULE_MM;
	if (http_query(a->c, "module", v, sizeof v) != NULL) {
		p->module_mm = strtod(v, &end);
		if (v[0] < '0' || v[0] > '9' || *end != '\0' ||
		    !(p->module_mm >= 0.1 && p->module_mm <= 10))
			return bad(a, "'module' must be 0.1 to 10 (mm)");
	}
	p->module_px = SVG_UNITS;
	if (png) {
		/* Whole pixels a module at this DPI; the printed module is
		 * then what those pixels measure, so pHYs says dpi exactly. */
		double px = floor(p->module_mm * (double)dpi / 25.4 + 0.5);

		if (px < 1)
			return bad(a, "'dpi' is too low for this 'module': a "
			    "module must be at least one pixel");
		if (px > 64)
			return bad(a, "'dpi' is too high for this 'module': at "
			    "most 64 pixels a module");
		p->module_px = (int)px;
		p->module_mm = px * 25.4 / (double)dpi;
	}
	return 0;
}

void
api_batches_print(struct api_call *a)
{
	struct print_job *p;
	char disp[128], who[32], tid[24], detail[96];
	uint64_t id;
	size_t i;

	for (i = 0; i < sizeof files / sizeof files[0]; i++)
		if (strcmp(a->seg[2], files[i].name) == 0)
			break;
	if (i == sizeof files / sizeof files[0]) {
		api_fail(a, 404, "not_found", "no such print file (codes.csv, "
		    "codes.txt, labels.pdf, labels-png.zip, labels-svg.zip)");
		return;
	}
	if ((p = calloc(1, sizeof *p)) == NULL) {
		api_fail(a, 503, "unavailable", "out of memory");
		return;
	}
	p->file = (enum pfile)i;
	if (api_parse_id(a->seg[1], UINT32_MAX, &id) != 0 ||
	    store_batch_get(a->app->store, id, &p->batch) != 0 ||
	    p->batch.brand_id != a->brand.id) {
		api_fail(a, 404, "not_found", "batch not found");
		free(p);
		return;
	}
	if (p->batch.state == BATCH_REVOKED) {
		/* As `sigil mint` refuses: its codes would all scan revoked. */
		api_fail(a, 409, "wrong_state", "the batch is revoked: its codes "
		    "scan revoked, print none of them");
		free(p);
		return;
	}
	if (params(a, p) != 0) {
		free(p);
		return;
	}
	if (store_product_get(a->app->store, a->brand.id, p->batch.sku,
	    &p->product) != 0 || keyring_key_get(a->app->keyring,
	    p->batch.key_id, &p->key, NULL) != 0) {
		api_fail(a, 503, "unavailable", "batch key or product missing");
		print_free(p);
		return;
	}
	snprintf(p->base, sizeof p->base, "%s", a->brand.base_url);
	p->now = sigil_now_us();
	snprintf(disp, sizeof disp, "attachment; filename=\"batch-%llu%s\"",
	    (unsigned long long)p->batch.id, files[i].suffix);
	if (http_job_live() >= HTTP_JOB_MAX) {
		/* Refused before anything is logged (HEAD meets it too: the
		 * dashboard asks first). */
		print_free(p);
		http_add_header(a->c, "Retry-After", "5");
		api_fail(a, 503, "busy", "too many print files are being "
		    "made; try again in a moment");
		return;
	}
	http_add_header(a->c, "Content-Disposition", disp);
	http_add_header(a->c, "Cache-Control", "no-store");
	if (a->c->method == EVHTTP_REQ_HEAD) {
		/* The headers only: no file is made for nobody. */
		http_reply(a->c, 200, files[i].type, NULL);
		print_free(p);
		return;
	}
	/* Who took the batch's codes: the log line and the audit trail, as
	 * `sigil mint` records its files (action mint). */
	http_actor_text(a->c, who, sizeof who);
	log_info("print_file", "brand=%u batch=%llu %s file=%s codes=%llu",
	    a->brand.id, (unsigned long long)p->batch.id, who, files[i].name,
	    (unsigned long long)p->batch.count);
	snprintf(tid, sizeof tid, "%llu", (unsigned long long)p->batch.id);
	snprintf(detail, sizeof detail, "{\"file\":\"%s\",\"codes\":%llu}",
	    files[i].name, (unsigned long long)p->batch.count);
	http_audit_note(a->c, "print_file", "batch", tid, detail);
	http_job_stream(a->c, files[i].type, print_run, print_free, p);
}

/* A length in mm to 0.01 mm, as a print shop states it. */
static double
mm2(double mm)
{
	return round(mm * 100) / 100;
}

void
api_label_stocks(struct api_call *a)
{
	json_t *arr = json_array(), *o = json_object();
	const struct qr_stock *st;
	size_t n;

	st = qr_stock_list(&n);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_pack("{s:s, s:s, s:b, s:f, "
		    "s:f, s:i, s:i, s:f, s:f}", "name", st[i].name,
		    "describe", st[i].describe, "sheet", st[i].cols *
		    st[i].rows > 1, "page_w_mm", mm2(st[i].page_w),
		    "page_h_mm", mm2(st[i].page_h), "cols", st[i].cols,
		    "rows", st[i].rows, "label_w_mm", mm2(st[i].label_w),
		    "label_h_mm", mm2(st[i].label_h)));
	json_object_set_new(o, "stocks", arr);
	json_object_set_new(o, "default", json_string(st[0].name));
	api_reply(a, 200, o);
}
