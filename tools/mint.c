/*
 * mint.c - `sigil mint`: writes a batch's codes as print files.
 *
 * Two shapes of output. Data files (csv, txt) are one stream: each code is
 * signed and formatted by hand (decimal by digit loop, the URL prefix
 * computed once and memcpy'd, the code appended by code_compact_encode)
 * into a 1 MiB buffer that goes out with write(2) when nearly full, so
 * memory stays flat whatever the count and the loop costs little beyond
 * the HMAC itself. Images (svg, png) are one file per code in a directory;
 * the serial range is cut into --jobs contiguous slices, one pthread each,
 * every thread writing its own files, so nothing is shared but a progress
 * counter. The PDF label sheet is one stream fed in serial order by a
 * single thread (its page objects must be written in order).
 *
 * Never leave a half-written output that looks complete: everything is
 * written under PATH.partial (file or directory), fsynced, and renamed to
 * PATH only at the end. An error, SIGINT, SIGTERM or SIGHUP removes the
 * partial output; a signal is then re-raised so the caller sees how we
 * died. An existing PATH is refused unless --force.
 *
 * The codes are exactly what sigild accepts: compact URLs are
 * code_url_compact()'s own output (the prefix is taken from it, not
 * rebuilt here), GS1 Digital Links come from code_url_gs1() per code. The
 * batch's own key (batch.key_id) signs, whatever key is newest now.
 *
 * The store is opened read-only: minting changes no state (SPEC §2, no
 * per-code rows) and can run beside sigild.
 *
 * Owns: the print formats (csv, txt, svg, png, pdf) and the .partial
 * discipline above.
 * Labels: pdf, svg and png carry a caption (--caption full: the product's
 * name, the lot, the serial; serial; none) drawn with a font that covers
 * CJK (--font, else Noto Sans CJK SC from fonts-noto-cjk), only the glyphs
 * used embedded; pdf lays labels out on a --stock with optional
 * --cut-marks; png and svg carry their printed size (--module-mm).
 *
 * May call: cli.c, the store (read-only), the keyring, code.h, qr.h and
 * font.h.
 * Must never: write to the store, or leave output at PATH that is not
 * complete.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sigil/code.h"
#include "sigil/font.h"
#include "sigil/keyring.h"
#include "sigil/qr.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "cli.h"

#define OUTBUF_SIZE	(1u << 20)
#define LINE_MAX_BYTES	(CODE_URL_MAX + 64)
#define JOBS_MAX	256
#define IMAGE_BUF	(64u << 10)
#define MODULE_MAX	100

enum format { FMT_CSV, FMT_TXT, FMT_SVG, FMT_PNG, FMT_PDF };
enum { CAP_FULL, CAP_SERIAL, CAP_NONE };
#define CAPTION_MAX	(sizeof(((struct product *)0)->name) + 128)
static const char *const format_names[] = { "csv", "txt", "svg", "png",
    "pdf" };

static volatile sig_atomic_t stop_signal;

static void
on_signal(int sig)
{
	stop_signal = sig;
}

struct mint {
	const struct opts	*o;
	enum format		 fmt;
	struct code_key		 key;
	struct brand		 brand;
	struct product		 product;
	struct batch		 batch;
	uint64_t		 from, n;
	int			 level, module, jobs;
	int			 gs1;
	int			 caption;	/* CAP_* */
	double			 module_mm;
	const struct qr_stock	*stock;
	struct font		*font;		/* NULL: no caption font */
	char			 prefix[STORE_URL_MAX + 8];
	size_t			 prefix_len;
	const char		*out;
	char			 partial[4096];
	int			 dirfd;
	int			 tty;
	int64_t			 started, last_report;
	_Atomic uint64_t	 done;
	_Atomic int		 failed;
	char			 errmsg[512];
	pthread_mutex_t		 errlock;
	pthread_mutex_t		 dirlock;	/* one thread creates files at a time */
};

/* Keeps the first error message of any thread. */
static void
mint_error(struct mint *m, const char *fmt, const char *arg, int err)
{
	pthread_mutex_lock(&m->errlock);
	if (!atomic_load(&m->failed)) {
		snprintf(m->errmsg, sizeof(m->errmsg), fmt, arg,
		    err < 0 ? sigil_strerror(err) : strerror(err));
		atomic_store(&m->failed, 1);
	}
	pthread_mutex_unlock(&m->errlock);
}

/* ---- URLs ---- */

/*
 * Writes serial's URL at buf (size bytes) and returns its length, or a
 * negative SIGIL_E* code.
 */
static int
mint_url(const struct mint *m, const struct code *c, char *buf, size_t size)
{
	int rc;

	if (m->gs1) {
		rc = code_url_gs1(m->brand.base_url, m->product.gtin,
		    m->batch.lot, c, buf, size);
		return rc != 0 ? rc : (int)strlen(buf);
	}
	if (size < m->prefix_len + CODE_COMPACT_LEN + 1)
		return SIGIL_EFULL;
	memcpy(buf, m->prefix, m->prefix_len);
	rc = code_compact_encode(c, buf + m->prefix_len);
	return rc != 0 ? rc : (int)(m->prefix_len + CODE_COMPACT_LEN);
}

/* The compact URL prefix ("<base>/S/"), cut from code_url_compact(). */
static int
mint_prefix(struct mint *m)
{
	char url[CODE_URL_MAX], code[CODE_COMPACT_LEN + 1];
	struct code c;
	size_t n;
	int rc;

	if ((rc = code_sign(&m->key, m->from, &c)) != 0 ||
	    (rc = code_compact_encode(&c, code)) != 0 ||
	    (rc = code_url_compact(m->brand.base_url, &c, url,
	    sizeof(url))) != 0)
		return rc;
	n = strlen(url);
	if (n < CODE_COMPACT_LEN || n - CODE_COMPACT_LEN >= sizeof(m->prefix) ||
	    strcmp(url + n - CODE_COMPACT_LEN, code) != 0)
		return SIGIL_EINVAL;
	m->prefix_len = n - CODE_COMPACT_LEN;
	memcpy(m->prefix, url, m->prefix_len);
	return 0;
}

/* ---- progress ---- */

static void
progress(struct mint *m, int final)
{
	int64_t now = sigil_now_us();
	uint64_t done = atomic_load(&m->done);
	double secs, rate;

	if (!m->tty || (!final && now - m->last_report < 100000))
		return;
	m->last_report = now;
	if (final) {
		fputs("\r\033[K", stderr);
		return;
	}
	secs = (double)(now - m->started) / 1e6;
	rate = secs > 0 ? (double)done / secs : 0;
	long eta = rate > 0 ? (long)((double)(m->n - done) / rate) : 0;
	fprintf(stderr, "\r\033[K%3d%% %llu/%llu codes  %.0f codes/s  ETA "
	    "%ld:%02ld", (int)(done * 100 / (m->n ? m->n : 1)),
	    (unsigned long long)done, (unsigned long long)m->n, rate,
	    eta / 60, eta % 60);
}

/* ---- data files ---- */

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR && !stop_signal)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
mint_stream(struct mint *m, int fd)
{
	char *buf = malloc(OUTBUF_SIZE), *p, *end;
	const char *header = m->o->pin ? "serial,url,pin\n" : "serial,url\n";
	int csv = m->fmt == FMT_CSV, pin = m->o->pin, ret = -1, rc;
	uint64_t s, last = m->from + m->n;
	struct code c;

	if (buf == NULL) {
		mint_error(m, "cannot allocate a buffer%s: %s", "", ENOMEM);
		return -1;
	}
	p = buf;
	end = buf + OUTBUF_SIZE - LINE_MAX_BYTES;
	if (csv) {
		memcpy(p, header, strlen(header));
		p += strlen(header);
	}
	for (s = m->from; s < last; s++) {
		if (code_sign(&m->key, s, &c) != 0) {
			mint_error(m, "cannot sign%s: %s", "", SIGIL_ECRYPTO);
			goto out;
		}
		if (csv) {
			p += cli_u64(p, s);
			*p++ = ',';
		}
		if ((rc = mint_url(m, &c, p, LINE_MAX_BYTES - 48)) < 0) {
			mint_error(m, "cannot build URL%s: %s", "", rc);
			goto out;
		}
		p += rc;
		if (pin) {
			*p++ = ',';
			if (code_pin(&m->key, s, CODE_PIN_DIGITS, p) != 0) {
				mint_error(m, "cannot compute PIN%s: %s", "",
				    SIGIL_ECRYPTO);
				goto out;
			}
			p += CODE_PIN_DIGITS;
		}
		*p++ = '\n';
		if (p >= end) {
			if (write_all(fd, buf, (size_t)(p - buf)) != 0) {
				mint_error(m, "cannot write '%s': %s", m->out,
				    errno);
				goto out;
			}
			p = buf;
			atomic_store(&m->done, s + 1 - m->from);
			if (stop_signal)
				goto out;
			progress(m, 0);
		}
	}
	if (write_all(fd, buf, (size_t)(p - buf)) != 0) {
		mint_error(m, "cannot write '%s': %s", m->out, errno);
		goto out;
	}
	atomic_store(&m->done, m->n);
	ret = 0;
out:
	free(buf);
	return ret;
}

/* ---- images ---- */

struct slice {
	struct mint	*m;
	uint64_t	 first, n;
	pthread_t	 thread;
};

/* A label's caption: product name, lot, serial (one a line). */
static const char *
caption_text(const struct mint *m, uint64_t serial, char *buf, size_t size)
{
	char num[24];

	num[cli_u64(num, serial)] = '\0';
	if (m->caption == CAP_NONE)
		return NULL;
	if (m->caption == CAP_SERIAL)
		snprintf(buf, size, "%s", num);
	else if (m->batch.lot[0] != '\0')
		snprintf(buf, size, "%s\n\xe6\x89\xb9\xe5\x8f\xb7 LOT %s\n%s",
		    m->product.name, m->batch.lot, num);
	else
		snprintf(buf, size, "%s\n%s", m->product.name, num);
	return buf;
}

static int
write_image(struct mint *m, uint64_t serial, const struct qr *q,
    char *iobuf)
{
	char cap[CAPTION_MAX];
	char name[32];
	FILE *f;
	int fd, rc, len = cli_u64(name, serial);

	memcpy(name + len, m->fmt == FMT_SVG ? ".svg" : ".png", 5);
	/*
	 * Creating a file takes the directory's lock in the kernel, where a
	 * waiting thread spins while the holder allocates an inode (slow on
	 * ext4 right after many deletions: 6 s of system time for 20,000
	 * files with two threads, against 1.5 s for one). Waiting here
	 * instead sleeps; the QR encoding still runs on both cores.
	 */
	pthread_mutex_lock(&m->dirlock);
	fd = openat(m->dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0644);
	pthread_mutex_unlock(&m->dirlock);
	if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
		if (fd >= 0)
			close(fd);
		mint_error(m, "cannot create image in '%s': %s", m->partial,
		    errno);
		return -1;
	}
	/* One caller-owned buffer: no malloc and no fstat per file, and
	 * a symbol of the usual size goes out in a single write(2). */
	setvbuf(f, iobuf, _IOFBF, IMAGE_BUF);
	rc = m->fmt == FMT_SVG ? qr_write_svg_label(q, m->module, 4,
	    m->module_mm, caption_text(m, serial, cap, sizeof cap), m->font,
	    f) : qr_write_png_label(q, m->module, 4, m->module_mm,
	    caption_text(m, serial, cap, sizeof cap), m->font, f);
	if (fclose(f) != 0 && rc == 0)
		rc = SIGIL_EIO;
	if (rc != 0) {
		mint_error(m, "cannot write image in '%s': %s", m->partial, rc);
		return -1;
	}
	return 0;
}

/* Signs serial and encodes its URL as a QR symbol. */
static int
encode_serial(struct mint *m, uint64_t serial, struct qr **q)
{
	char url[CODE_URL_MAX];
	struct code c;
	int rc;

	if ((rc = code_sign(&m->key, serial, &c)) != 0 ||
	    (rc = mint_url(m, &c, url, sizeof(url))) < 0) {
		mint_error(m, "cannot sign or build URL%s: %s", "", rc);
		return -1;
	}
	url[rc] = '\0';
	if ((rc = qr_encode(url, m->level, q)) != 0) {
		mint_error(m, "cannot encode QR symbol%s: %s", "", rc);
		return -1;
	}
	return 0;
}

static void *
image_worker(void *arg)
{
	struct slice *sl = arg;
	struct mint *m = sl->m;
	struct qr *q;
	char *iobuf = malloc(IMAGE_BUF);

	if (iobuf == NULL) {
		mint_error(m, "cannot allocate a buffer%s: %s", "", ENOMEM);
		return NULL;
	}
	for (uint64_t s = sl->first; s < sl->first + sl->n; s++) {
		if (stop_signal || atomic_load(&m->failed))
			break;
		if (encode_serial(m, s, &q) != 0)
			break;
		int rc = write_image(m, s, q, iobuf);
		qr_free(q);
		if (rc != 0)
			break;
		atomic_fetch_add(&m->done, 1);
	}
	free(iobuf);
	return NULL;
}

static int
mint_images(struct mint *m)
{
	struct slice sl[JOBS_MAX];
	uint64_t per = m->n / (uint64_t)m->jobs, extra = m->n % (uint64_t)m->jobs;
	uint64_t next = m->from;
	int started = 0;

	for (int i = 0; i < m->jobs; i++) {
		sl[i].m = m;
		sl[i].first = next;
		sl[i].n = per + ((uint64_t)i < extra);
		next += sl[i].n;
		if (sl[i].n == 0)
			continue;
		if (pthread_create(&sl[i].thread, NULL, image_worker, &sl[i])) {
			mint_error(m, "cannot start thread%s: %s", "", errno);
			break;
		}
		started = i + 1;
	}
	while (atomic_load(&m->done) < m->n && !atomic_load(&m->failed) &&
	    !stop_signal && started == m->jobs) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };

		nanosleep(&ts, NULL);
		progress(m, 0);
	}
	for (int i = 0; i < started; i++)
		if (sl[i].n > 0)
			pthread_join(sl[i].thread, NULL);
	return atomic_load(&m->failed) || stop_signal ? -1 : 0;
}

static int
mint_pdf(struct mint *m, FILE *f)
{
	struct qr_pdf_opts po = { m->stock, m->font, m->o->cut_marks };
	struct qr_pdf *pdf;
	struct qr *q;
	char caption[CAPTION_MAX];
	int rc;

	if ((rc = qr_pdf_open_opts(f, &po, &pdf)) != 0) {
		mint_error(m, "cannot start PDF '%s': %s", m->partial, rc);
		return -1;
	}
	for (uint64_t s = m->from; s < m->from + m->n; s++) {
		if (stop_signal || encode_serial(m, s, &q) != 0)
			goto fail;
		rc = qr_pdf_add(pdf, q, caption_text(m, s, caption,
		    sizeof caption));
		qr_free(q);
		if (rc != 0) {
			mint_error(m, "cannot write PDF '%s': %s", m->partial, rc);
			goto fail;
		}
		atomic_fetch_add(&m->done, 1);
		progress(m, 0);
	}
	if ((rc = qr_pdf_close(pdf)) != 0) {
		mint_error(m, "cannot finish PDF '%s': %s", m->partial, rc);
		return -1;
	}
	return 0;
fail:
	qr_pdf_abort(pdf);
	return -1;
}

/* ---- output paths ---- */

static void
remove_partial(struct mint *m)
{
	struct stat sb;

	if (lstat(m->partial, &sb) != 0)
		return;
	if (S_ISDIR(sb.st_mode))
		cli_remove_dir(m->partial);
	else
		unlink(m->partial);
}

/* Moves PATH.partial to PATH, replacing PATH only under --force. */
static int
publish(struct mint *m)
{
	struct stat sb;

	if (lstat(m->out, &sb) == 0) {
		if (!m->o->force) {
			mint_error(m, "'%s' appeared while minting: %s", m->out,
			    EEXIST);
			return -1;
		}
		/* A file is replaced atomically by rename; a directory (or
		 * a file where a directory goes) must be removed first. */
		int bad = 0, image = m->fmt == FMT_SVG || m->fmt == FMT_PNG;

		if (S_ISDIR(sb.st_mode))
			bad = cli_remove_dir(m->out) != 0;
		else if (image)
			bad = unlink(m->out) != 0;
		if (bad) {
			mint_error(m, "cannot replace '%s': %s", m->out, errno);
			return -1;
		}
	}
	if (rename(m->partial, m->out) != 0) {
		mint_error(m, "cannot rename output to '%s': %s", m->out, errno);
		return -1;
	}
	return 0;
}

/* ---- the command ---- */

static int
parse_format(const char *s, enum format *out)
{
	if (s == NULL)
		return cli_fail(EXIT_USAGE, "missing --format (csv, txt, svg, "
		    "png or pdf)");
	for (int i = 0; i < 5; i++)
		if (!strcmp(s, format_names[i])) {
			*out = (enum format)i;
			return 0;
		}
	return cli_fail(EXIT_USAGE, "--format must be csv, txt, svg, png or "
	    "pdf, not '%.20s'", s);
}

/* Everything the command line says, checked before anything is opened. */
static int
mint_args(struct mint *m, uint64_t *batch_id, uint64_t *from, uint64_t *limit)
{
	const struct opts *o = m->o;
	uint64_t v;
	long cpus;

	if (cli_parse_num("batch", o->batch, UINT64_MAX, batch_id) ||
	    parse_format(o->format, &m->fmt))
		return EXIT_USAGE;
	if (o->out == NULL)
		return cli_fail(EXIT_USAGE, "missing --out (a path, or - for "
		    "standard output)");
	if (!strcmp(o->out, "-") && m->fmt != FMT_CSV && m->fmt != FMT_TXT)
		return cli_fail(EXIT_USAGE, "--out - works for csv and txt only");
	if (*o->out == '\0' || strlen(o->out) > 4000)
		return cli_fail(EXIT_USAGE, "--out must name a path");
	if (o->pin && m->fmt != FMT_CSV)
		return cli_fail(EXIT_USAGE, "--pin works with --format csv only "
		    "(PINs go to the scratch-off printer, not on the QR)");
	m->level = QR_LEVEL_M;
	if (o->level != NULL && qr_level_parse(o->level, &m->level) != 0)
		return cli_fail(EXIT_USAGE, "--level must be L, M, Q or H");
	m->module = m->fmt == FMT_PNG ? 8 : 4;
	if (o->module != NULL) {
		if (cli_parse_num("module", o->module, MODULE_MAX, &v))
			return EXIT_USAGE;
		m->module = (int)v;
	}
	m->module_mm = 0.5;
	if (o->module_mm != NULL) {
		char *end;

		m->module_mm = strtod(o->module_mm, &end);
		if (*end != '\0' || !(m->module_mm >= 0.1 &&
		    m->module_mm <= 10))
			return cli_fail(EXIT_USAGE, "--module-mm must be 0.1 to "
			    "10 (millimetres)");
		if (m->fmt != FMT_PNG && m->fmt != FMT_SVG)
			return cli_fail(EXIT_USAGE, "--module-mm is for png and "
			    "svg (pdf labels size their symbols themselves)");
	}
	m->caption = CAP_FULL;
	if (o->caption != NULL) {
		if (!strcmp(o->caption, "full"))
			m->caption = CAP_FULL;
		else if (!strcmp(o->caption, "serial"))
			m->caption = CAP_SERIAL;
		else if (!strcmp(o->caption, "none"))
			m->caption = CAP_NONE;
		else
			return cli_fail(EXIT_USAGE, "--caption must be full, "
			    "serial or none");
		if (m->fmt == FMT_CSV || m->fmt == FMT_TXT)
			return cli_fail(EXIT_USAGE, "--caption is for pdf, svg "
			    "and png");
	}
	if ((o->stock != NULL || o->cut_marks) && m->fmt != FMT_PDF)
		return cli_fail(EXIT_USAGE, "--stock and --cut-marks are for "
		    "pdf");
	if (o->stock != NULL && (m->stock = qr_stock_find(o->stock)) == NULL) {
		size_t n;
		const struct qr_stock *st = qr_stock_list(&n);
		char names[256] = "";

		for (size_t i = 0; i < n; i++)
			snprintf(names + strlen(names), sizeof names -
			    strlen(names), "%s%s", i ? ", " : "", st[i].name);
		return cli_fail(EXIT_USAGE, "--stock must be one of %s (see "
		    "'sigil help mint')", names);
	}
	if (o->font != NULL && (m->fmt == FMT_CSV || m->fmt == FMT_TXT))
		return cli_fail(EXIT_USAGE, "--font is for pdf, svg and png");
	cpus = sysconf(_SC_NPROCESSORS_ONLN);
	m->jobs = m->fmt == FMT_SVG || m->fmt == FMT_PNG ?
	    (int)(cpus < 1 ? 1 : cpus > JOBS_MAX ? JOBS_MAX : cpus) : 1;
	if (o->jobs != NULL) {
		if (cli_parse_num("jobs", o->jobs, JOBS_MAX, &v))
			return EXIT_USAGE;
		m->jobs = (int)v;
	}
	*from = *limit = 0;
	if (o->from != NULL &&
	    cli_parse_num("from", o->from, CODE_SERIAL_MAX, from))
		return EXIT_USAGE;
	if (o->limit != NULL &&
	    cli_parse_num("limit", o->limit, CODE_SERIAL_MAX, limit))
		return EXIT_USAGE;
	return 0;
}

/* Loads batch, brand, product and key; settles the serial range. */
static int
mint_load(struct mint *m, uint64_t batch_id, uint64_t from, uint64_t limit)
{
	char krpath[4096];
	struct store *st;
	struct keyring *kr;
	uint64_t end;
	int rc;

	if (cli_store_open(m->o, STORE_RDONLY, &st))
		return EXIT_USAGE;
	rc = store_batch_get(st, batch_id, &m->batch);
	if (rc == 0 && (rc = store_brand_get(st, m->batch.brand_id,
	    &m->brand)) == 0)
		rc = store_product_get(st, m->batch.brand_id, m->batch.sku,
		    &m->product);
	store_close(st);
	if (rc == SIGIL_ENOTFOUND)
		return cli_fail(EXIT_USAGE, "no batch %llu",
		    (unsigned long long)batch_id);
	if (rc != 0)
		return cli_fail(EXIT_USAGE, "cannot read batch %llu: %s",
		    (unsigned long long)batch_id, sigil_strerror(rc));
	if (m->batch.state == BATCH_REVOKED)
		return cli_fail(EXIT_USAGE, "batch %llu is revoked",
		    (unsigned long long)batch_id);
	end = m->batch.first_serial + m->batch.count;
	m->from = from ? from : m->batch.first_serial;
	if (m->from < m->batch.first_serial || m->from >= end)
		return cli_fail(EXIT_USAGE, "--from %llu is outside batch %llu "
		    "(serials %llu..%llu)", (unsigned long long)m->from,
		    (unsigned long long)batch_id,
		    (unsigned long long)m->batch.first_serial,
		    (unsigned long long)(end - 1));
	m->n = limit ? limit : end - m->from;
	if (m->n > end - m->from)
		return cli_fail(EXIT_USAGE, "--limit %llu runs past the end of "
		    "batch %llu (%llu codes left)", (unsigned long long)limit,
		    (unsigned long long)batch_id,
		    (unsigned long long)(end - m->from));
	m->gs1 = m->product.gs1_form && m->product.gtin[0] != '\0';

	rc = keyring_open(cli_keyring_path(m->o, krpath, sizeof(krpath)), 0,
	    &kr);
	if (rc != 0)
		return cli_fail(EXIT_USAGE, "cannot open keyring '%s': %s",
		    krpath, sigil_strerror(rc));
	rc = keyring_key_get(kr, m->batch.key_id, &m->key, NULL);
	keyring_free(kr);
	if (rc != 0)
		return cli_fail(EXIT_USAGE, "keyring '%s' has no key %u for "
		    "batch %llu", krpath, (unsigned)m->batch.key_id,
		    (unsigned long long)batch_id);
	if (!m->gs1 && (rc = mint_prefix(m)) != 0)
		return cli_fail(EXIT_USAGE, "cannot build URLs for base URL "
		    "'%s': %s", m->brand.base_url, sigil_strerror(rc));
	return 0;
}

/* Opens PATH.partial (file or directory) for writing. */
static int
open_partial(struct mint *m, int *fd)
{
	int image = m->fmt == FMT_SVG || m->fmt == FMT_PNG;

	if ((size_t)snprintf(m->partial, sizeof(m->partial), "%s.partial",
	    m->out) >= sizeof(m->partial))
		return cli_fail(EXIT_USAGE, "--out path is too long");
	/* A leftover from a run killed with SIGKILL is ours to replace. */
	remove_partial(m);
	if (image) {
		if (mkdir(m->partial, 0755) != 0 ||
		    (m->dirfd = open(m->partial, O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC)) < 0) {
			int e = errno;

			rmdir(m->partial);
			return cli_fail(EXIT_USAGE, "cannot create '%s': %s",
			    m->partial, strerror(e));
		}
		return 0;
	}
	*fd = open(m->partial, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0644);
	if (*fd < 0)
		return cli_fail(EXIT_USAGE, "cannot write '%s': %s", m->partial,
		    strerror(errno));
	return 0;
}

/*
 * The audit trail's entry of a mint (action mint, the batch its target):
 * how many codes, which format, from which serial. A complete PIN print
 * file is also noted in the store (pins.h), in the same transaction, so
 * that a campaign requiring PINs accepts the batch; a note that fails
 * is said on standard error.
 */
static void
note_mint(struct mint *m)
{
	struct store *st;
	char tid[24];
	int rc = 0;

	if (cli_store_open(m->o, 0, &st))
		return;
	snprintf(tid, sizeof tid, "%llu", (unsigned long long)m->batch.id);
	cli_audit_arm(st, m->batch.brand_id, "mint", "batch", tid,
	    json_pack("{s:I,s:I,s:s,s:s}", "codes", (json_int_t)m->n, "from",
	    (json_int_t)m->from, "format", m->o->format != NULL ?
	    m->o->format : "csv", "file", m->o->pin ? "codes with PINs" :
	    "codes"));
	if (m->o->pin)
		rc = store_pin_file_note(st, m->batch.brand_id, m->batch.id,
		    m->n, sigil_now_us());
	cli_audit_done(st, rc, NULL);
	store_close(st);
	if (rc != 0)
		fprintf(stderr, "sigil: the PIN file is complete, but the store "
		    "could not note it (%s): a campaign requiring PINs will "
		    "refuse batch %llu\n", sigil_strerror(rc),
		    (unsigned long long)m->batch.id);
}

int
cmd_mint(struct opts *o)
{
	struct mint *m;
	struct sigaction sa = { 0 }, old[3];
	static const int sigs[3] = { SIGINT, SIGTERM, SIGHUP };
	uint64_t batch_id, from, limit;
	int to_stdout, fd = -1, rc, ret = EXIT_USAGE, version = 0;
	FILE *pf = NULL;
	struct stat sb;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return cli_fail(EXIT_USAGE, "out of memory");
	m->o = o;
	m->dirfd = -1;
	pthread_mutex_init(&m->errlock, NULL);
	pthread_mutex_init(&m->dirlock, NULL);
	if (mint_args(m, &batch_id, &from, &limit))
		goto out;
	m->out = o->out;
	to_stdout = !strcmp(o->out, "-");
	if (!to_stdout && lstat(o->out, &sb) == 0) {
		/* --force replaces our own kind of output, never a device,
		 * socket or symlink (think --out /dev/null as root). */
		if (!S_ISREG(sb.st_mode) && !S_ISDIR(sb.st_mode)) {
			cli_fail(EXIT_USAGE, "'%s' is not a regular file or "
			    "directory (use --out - and redirect)", o->out);
			goto out;
		}
		if (!o->force) {
			cli_fail(EXIT_USAGE, "'%s' exists (use --force to "
			    "replace it)", o->out);
			goto out;
		}
	}
	if (mint_load(m, batch_id, from, limit))
		goto out;
	if (m->fmt != FMT_CSV && m->fmt != FMT_TXT && m->caption != CAP_NONE) {
		rc = font_open(o->font, &m->font);
		if (rc != 0 && o->font != NULL) {
			cli_fail(EXIT_USAGE, "cannot use font '%s': %s", o->font,
			    rc == SIGIL_ENOTFOUND ? "no such file" :
			    "not a font with a Unicode map");
			goto out;
		}
		if (rc != 0)
			fprintf(stderr, "sigil: no caption font found (apt-get "
			    "install fonts-noto-cjk, or --font FILE): %s\n",
			    m->fmt == FMT_PDF ? "captions print in Helvetica, "
			    "ASCII only" : m->fmt == FMT_SVG ? "captions are "
			    "SVG text in the viewer's font" : "the PNGs get no "
			    "caption");
	}
	if (m->fmt != FMT_CSV && m->fmt != FMT_TXT) {
		struct qr *q;

		if (encode_serial(m, m->from, &q) != 0) {
			cli_fail(EXIT_USAGE, "%s", m->errmsg);
			goto out;
		}
		version = qr_version(q);
		qr_free(q);
	}

	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (int i = 0; i < 3; i++) {
		/* nohup and background jobs ignore these; so do we. */
		sigaction(sigs[i], NULL, &old[i]);
		if (old[i].sa_handler != SIG_IGN)
			sigaction(sigs[i], &sa, NULL);
	}
	if (to_stdout)
		fd = STDOUT_FILENO;
	else if (open_partial(m, &fd))
		goto restore;
	m->tty = isatty(STDERR_FILENO);
	m->started = sigil_now_us();

	switch (m->fmt) {
	case FMT_CSV:
	case FMT_TXT:
		rc = mint_stream(m, fd);
		break;
	case FMT_SVG:
	case FMT_PNG:
		rc = mint_images(m);
		if (rc == 0 && fsync(m->dirfd) != 0) {
			mint_error(m, "cannot sync '%s': %s", m->partial, errno);
			rc = -1;
		}
		break;
	case FMT_PDF:
		pf = fdopen(fd, "w");
		if (pf == NULL) {
			mint_error(m, "cannot write '%s': %s", m->partial, errno);
			rc = -1;
			break;
		}
		fd = -1;
		setvbuf(pf, NULL, _IOFBF, OUTBUF_SIZE);
		rc = mint_pdf(m, pf);
		if (rc == 0 && (fflush(pf) != 0 || fsync(fileno(pf)) != 0)) {
			mint_error(m, "cannot write '%s': %s", m->partial, errno);
			rc = -1;
		}
		if (fclose(pf) != 0 && rc == 0) {
			mint_error(m, "cannot write '%s': %s", m->partial, errno);
			rc = -1;
		}
		break;
	default:
		rc = -1;
	}
	progress(m, 1);
	if (rc == 0 && fd >= 0 && !to_stdout && fsync(fd) != 0) {
		mint_error(m, "cannot sync '%s': %s", m->partial, errno);
		rc = -1;
	}
	if (fd >= 0 && !to_stdout && close(fd) != 0 && rc == 0) {
		mint_error(m, "cannot write '%s': %s", m->partial, errno);
		rc = -1;
	}
	fd = -1;
	if (rc == 0 && !stop_signal && !to_stdout)
		rc = publish(m);
	if (rc != 0 || stop_signal) {
		if (!to_stdout)
			remove_partial(m);
		if (stop_signal) {
			cli_fail(EXIT_USAGE, "interrupted after %llu codes; "
			    "removed the partial output",
			    (unsigned long long)atomic_load(&m->done));
			signal(stop_signal, SIG_DFL);
			raise(stop_signal);
		} else
			cli_fail(EXIT_USAGE, "%s", m->errmsg);
		goto restore;
	}
	note_mint(m);
	if (!to_stdout) {
		double secs = (double)(sigil_now_us() - m->started) / 1e6;

		if (version > 0)
			printf("minted %llu codes to %s (QR version %d, level "
			    "%c)\n", (unsigned long long)m->n, m->out, version,
			    "LMQH"[m->level]);
		else
			printf("minted %llu codes to %s\n",
			    (unsigned long long)m->n, m->out);
		if (m->fmt == FMT_PNG || m->fmt == FMT_SVG)
			printf("printed size: module %.2f mm, symbol %.1f mm "
			    "with its quiet zone (%s)\n", m->module_mm,
			    m->module_mm * (17 + 4 * version + 8),
			    m->fmt == FMT_PNG ? "set as the PNG's dpi" :
			    "the SVG's width and height in mm");
		if (m->fmt == FMT_PDF)
			printf("labels: %s%s\n", (m->stock != NULL ? m->stock :
			    qr_stock_list(&(size_t){ 0 }))->describe,
			    m->o->cut_marks ? ", cut marks" : "");
		if (m->font != NULL)
			printf("caption font: %s%s\n", font_describe(m->font),
			    m->fmt == FMT_PNG ? "" : " (only the glyphs used "
			    "are embedded)");
		if (m->tty && secs > 0)
			fprintf(stderr, "%.1f s, %.0f codes/s\n", secs,
			    (double)m->n / secs);
	}
	ret = EXIT_OK;
restore:
	if (fd >= 0 && !to_stdout)
		close(fd);
	if (m->dirfd >= 0)
		close(m->dirfd);
	for (int i = 0; i < 3; i++)
		sigaction(sigs[i], &old[i], NULL);
out:
	pthread_mutex_destroy(&m->errlock);
	pthread_mutex_destroy(&m->dirlock);
	explicit_bzero(&m->key, sizeof(m->key));
	font_free(m->font);
	free(m);
	return ret;
}
