/*
 * store_feedback.c - the feedback loop: a consumer's rating or fake
 * report, the brand's status and reply, a fake's photo, and the check
 * for a product's rating drop.
 *
 * Owns the tables (docs/storage.md):
 *   feedback         brand BE32 || id BE64 -> the row (below); id is the
 *                    ACTIVITY_FEEDBACK entry's, which keeps the time,
 *                    customer, scan, rating and text (webhooks read it,
 *                    merges move it, erasures cut it: store_customers.c,
 *                    store_merge.c, store_erase.c)
 *   feedback_photos  brand BE32 || id BE64 -> the image bytes
 *   feedback_alerts  brand BE32 -> the thresholds (min u32, drop u32);
 *                    brand BE32 || sku -> the product's rating_drop
 *                    alert id BE64
 * Row: kind u8, status u8, rating u8, photo u8, at i64, batch u64,
 * scan u64, replied_at i64, closed_at i64, photo_len u32, replied_by
 * u32, sku_len u8, where_len u16, reply_len u16, then sku, where, reply.
 *
 * An activity entry without a row (before issue 21) reads as an open
 * rating; a reply or close gives it a row then.
 *
 * The rating-drop check runs in the rating's transaction: it walks the
 * brand's rows newest first back 37 days (a row is ~80 bytes, so a busy
 * brand's month of ratings is a few milliseconds of the writer's time)
 * and compares the product's last 7 days with the 30 before.
 *
 * May call: libc, LMDB, util.c, store_env.c, store_customers.c's
 * activity functions, store_alerts.c's alert_rating_drop and the
 * messages part's message_service_enqueue (the reply's delivery, in the
 * reply's transaction). Must never call a face or the domain.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sigil/store.h"
#include "sigil/util.h"
#include "store_impl.h"

#define ROW_FIXED	57
#define ROW_MAX		(ROW_FIXED + STORE_NAME_BYTES + \
			    FEEDBACK_WHERE_MAX * 4 + FEEDBACK_REPLY_MAX * 4)
#define DROP_RECENT	(7 * DAY_US)
#define DROP_BEFORE	(30 * DAY_US)
#define SETTINGS_DEFAULT	{ 5, 10 }

static void
fb_key(uint8_t kb[12], uint32_t brand_id, uint64_t id)
{
	sigil_be32_put(kb, brand_id);
	sigil_be64_put(kb + 4, id);
}

static size_t
row_encode(const struct feedback *f, uint8_t *vb)
{
	size_t ns = strlen(f->sku), nw = strlen(f->where), nr = strlen(f->reply);

	vb[0] = (uint8_t)f->kind;
	vb[1] = (uint8_t)f->status;
	vb[2] = (uint8_t)f->rating;
	vb[3] = (uint8_t)f->photo;
	le64_put(vb + 4, (uint64_t)f->at);
	le64_put(vb + 12, f->batch_id);
	le64_put(vb + 20, f->scan_id);
	le64_put(vb + 28, (uint64_t)f->replied_at);
	le64_put(vb + 36, (uint64_t)f->closed_at);
	le32_put(vb + 44, f->photo_len);
	le32_put(vb + 48, f->replied_by);
	vb[52] = (uint8_t)ns;
	le16_put(vb + 53, (uint16_t)nw);
	le16_put(vb + 55, (uint16_t)nr);
	memcpy(vb + ROW_FIXED, f->sku, ns);
	memcpy(vb + ROW_FIXED + ns, f->where, nw);
	memcpy(vb + ROW_FIXED + ns + nw, f->reply, nr);
	return ROW_FIXED + ns + nw + nr;
}

/* The row v over f (whose activity part is filled in already). */
static int
row_decode(MDB_val v, struct feedback *f)
{
	const uint8_t *p = v.mv_data;
	size_t ns, nw, nr;

	if (v.mv_size < ROW_FIXED)
		return SIGIL_EIO;
	ns = p[52];
	nw = le16_get(p + 53);
	nr = le16_get(p + 55);
	if (v.mv_size != ROW_FIXED + ns + nw + nr || ns >= sizeof f->sku ||
	    nw >= sizeof f->where || nr >= sizeof f->reply ||
	    (p[0] != FEEDBACK_RATING && p[0] != FEEDBACK_FAKE) ||
	    p[1] > FEEDBACK_CLOSED || p[3] > FEEDBACK_PHOTO_PNG)
		return SIGIL_EIO;
	f->kind = p[0];
	f->status = p[1];
	f->rating = p[2];
	f->photo = p[3];
	f->at = (int64_t)le64_get(p + 4);
	f->batch_id = le64_get(p + 12);
	f->scan_id = le64_get(p + 20);
	f->replied_at = (int64_t)le64_get(p + 28);
	f->closed_at = (int64_t)le64_get(p + 36);
	f->photo_len = le32_get(p + 44);
	f->replied_by = le32_get(p + 48);
	memcpy(f->sku, p + ROW_FIXED, ns);
	f->sku[ns] = '\0';
	memcpy(f->where, p + ROW_FIXED + ns, nw);
	f->where[nw] = '\0';
	memcpy(f->reply, p + ROW_FIXED + ns + nw, nr);
	f->reply[nr] = '\0';
	f->legacy = 0;
	return 0;
}

/* f from the activity entry a (a legacy entry until a row is read). */
static void
from_activity(const struct activity *a, struct feedback *f)
{
	memset(f, 0, sizeof *f);
	f->id = a->id;
	f->brand_id = a->brand_id;
	f->kind = FEEDBACK_RATING;
	f->status = FEEDBACK_OPEN;
	f->rating = a->rating;
	f->at = a->at;
	f->customer_id = a->customer_id;
	f->scan_id = a->ref;
	f->legacy = 1;
	memcpy(f->text, a->text, sizeof f->text);
}

/* The row over f, if there is one: 0 either way, or an error. */
static int
row_join(struct store *st, MDB_txn *txn, struct feedback *f)
{
	uint8_t kb[12];
	MDB_val k = mval(kb, 12), v;
	uint64_t scan = f->scan_id;
	int rc;

	if (st->feedback_absent)
		return 0;
	fb_key(kb, f->brand_id, f->id);
	if ((rc = mdb_get(txn, st->feedback, &k, &v)) == MDB_NOTFOUND)
		return 0;
	if (rc != 0 || (rc = row_decode(v, f)) != 0)
		return rc;
	/* The activity entry is what the erasure cut first. */
	if (scan == 0)
		f->scan_id = 0;
	return 0;
}

static int
feedback_load(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t id, struct feedback *out)
{
	struct activity *a;
	uint8_t kb[12];
	MDB_val k = mval(kb, 12), v;
	int rc;

	fb_key(kb, brand_id, id);
	if ((rc = mdb_get(txn, st->activity, &k, &v)) != 0)
		return rc;
	if ((a = malloc(sizeof *a)) == NULL)
		return SIGIL_ENOMEM;
	if ((rc = activity_decode(k, v, a)) == 0 &&
	    a->type != ACTIVITY_FEEDBACK)
		rc = SIGIL_ENOTFOUND;
	if (rc == 0) {
		from_activity(a, out);
		rc = row_join(st, txn, out);
	}
	free(a);
	return rc;
}

int
store_feedback_get(struct store *st, uint32_t brand_id, uint64_t id,
    struct feedback *out)
{
	struct feedback *f;
	int rc;

	if ((f = malloc(sizeof *f)) == NULL)
		return SIGIL_ENOMEM;
	rc = STORE_READ(st, feedback_load(st, txn, brand_id, id, f));
	if (rc == 0)
		*out = *f;
	free(f);
	return rc;
}

/* ---- newest first ---- */

struct fb_back {
	uint32_t	brand_id;
	int		(*fn)(void *arg, const struct feedback *f);
	void		*arg;
	int		stop;
	struct activity	a;
	struct feedback	f;
};

struct fb_back_ctx {
	struct store	*st;
	struct fb_back	*w;
};

static int
back_one(void *ctx, MDB_txn *txn, MDB_val k, MDB_val v, int *stop)
{
	struct fb_back_ctx *c = ctx;
	struct fb_back *w = c->w;
	int rc;

	if (k.mv_size != 12 || sigil_be32_get(k.mv_data) != w->brand_id)
		return MDB_NOTFOUND;
	if (v.mv_size < 1 || ((const uint8_t *)v.mv_data)[0] !=
	    ACTIVITY_FEEDBACK)
		return 0;
	if ((rc = activity_decode(k, v, &w->a)) != 0)
		return rc;
	from_activity(&w->a, &w->f);
	if ((rc = row_join(c->st, txn, &w->f)) != 0)
		return rc;
	if ((w->stop = w->fn(w->arg, &w->f)) != 0)
		*stop = w->stop;
	return 0;
}

int
store_feedback_back(struct store *st, uint32_t brand_id, uint64_t before,
    int (*fn)(void *arg, const struct feedback *f), void *arg)
{
	struct fb_back_ctx c;
	struct fb_back *w;
	uint8_t kb[12];
	int rc;

	if (before == 1)
		return 0;
	if ((w = calloc(1, sizeof *w)) == NULL)
		return SIGIL_ENOMEM;
	w->brand_id = brand_id;
	w->fn = fn;
	w->arg = arg;
	c.st = st;
	c.w = w;
	if (before != 0)
		fb_key(kb, brand_id, before);
	else if (brand_id == UINT32_MAX)
		memset(kb, 0xff, sizeof kb);
	else
		fb_key(kb, brand_id + 1, 0);
	rc = store_walk_before(st, st->activity, mval(kb, 12), back_one, &c);
	if (w->stop)
		rc = w->stop;
	free(w);
	return rc;
}

/* ---- the rating drop ---- */

struct drop_sum {
	const char	*sku;
	int64_t		now;
	uint64_t	recent_n, recent_sum, before_n, before_sum;
};

static int
drop_row(void *ctx, MDB_txn *txn, MDB_val k, MDB_val v, int *stop)
{
	struct drop_sum *d = ctx;
	const uint8_t *p = v.mv_data;
	int64_t at;

	(void)txn;
	(void)stop;
	(void)k;
	if (v.mv_size < ROW_FIXED)
		return SIGIL_EIO;
	at = (int64_t)le64_get(p + 4);
	if (at < d->now - DROP_RECENT - DROP_BEFORE)
		return MDB_NOTFOUND;	/* newest first: nothing older counts */
	if (p[0] != FEEDBACK_RATING || p[2] < 1 || p[2] > 5 ||
	    (size_t)p[52] != strlen(d->sku) || v.mv_size < ROW_FIXED + (size_t)p[52] ||
	    memcmp(p + ROW_FIXED, d->sku, p[52]) != 0)
		return 0;
	if (at >= d->now - DROP_RECENT) {
		d->recent_n++;
		d->recent_sum += p[2];
	} else {
		d->before_n++;
		d->before_sum += p[2];
	}
	return 0;
}

static int
settings_load(struct store *st, MDB_txn *txn, uint32_t brand_id,
    struct feedback_settings *out)
{
	static const struct feedback_settings dflt = SETTINGS_DEFAULT;
	uint8_t kb[4];
	MDB_val k = mval(kb, 4), v;
	int rc;

	*out = dflt;
	if (st->feedback_absent)
		return 0;
	sigil_be32_put(kb, brand_id);
	if ((rc = mdb_get(txn, st->feedback_alerts, &k, &v)) == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (v.mv_size != 8)
		return SIGIL_EIO;
	out->min_ratings = le32_get(v.mv_data);
	out->drop_tenths = le32_get((const uint8_t *)v.mv_data + 4);
	return 0;
}

/*
 * After f (a rating of a known product) was written: the product's
 * last 7 days against the 30 before; a drop raises or updates its
 * rating_drop alert (*alert_id).
 */
static int
drop_check(struct store *st, MDB_txn *txn, const struct feedback *f,
    uint64_t *alert_id)
{
	struct feedback_settings s;
	struct drop_sum d = { f->sku, f->at, 0, 0, 0, 0 };
	uint8_t kb[4 + STORE_NAME_BYTES], kn[12], idb[8];
	MDB_val k, v;
	struct alert al = { 0 };
	uint64_t id = 0;
	int rc, stop = 0;

	if ((rc = settings_load(st, txn, f->brand_id, &s)) != 0)
		return rc;
	fb_key(kn, f->brand_id, f->id + 1);
	/* Newest first from f itself (txn_walk only walks forwards). */
	{
		MDB_cursor *cur;

		if ((rc = mdb_cursor_open(txn, st->feedback, &cur)) != 0)
			return rc;
		k = mval(kn, 12);
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		if (rc == MDB_NOTFOUND)
			rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
		else if (rc == 0)
			rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
		for (; rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_PREV)) {
			if (k.mv_size != 12 ||
			    sigil_be32_get(k.mv_data) != f->brand_id) {
				rc = MDB_NOTFOUND;
				break;
			}
			if ((rc = drop_row(&d, txn, k, v, &stop)) != 0)
				break;
		}
		mdb_cursor_close(cur);
		if (rc != MDB_NOTFOUND)
			return rc;
	}
	/* before avg - recent avg >= drop / 10, in integers (no fall: no
	 * subtraction). */
	if (d.recent_n < s.min_ratings || d.before_n < s.min_ratings ||
	    d.before_sum * d.recent_n <= d.recent_sum * d.before_n ||
	    (d.before_sum * d.recent_n - d.recent_sum * d.before_n) * 10 <
	    (uint64_t)s.drop_tenths * d.recent_n * d.before_n)
		return 0;
	sigil_be32_put(kb, f->brand_id);
	memcpy(kb + 4, f->sku, strlen(f->sku));
	k = mval(kb, 4 + strlen(f->sku));
	if ((rc = mdb_get(txn, st->feedback_alerts, &k, &v)) == 0) {
		if (v.mv_size != 8)
			return SIGIL_EIO;
		id = sigil_be64_get(v.mv_data);
	} else if (rc != MDB_NOTFOUND) {
		return rc;
	}
	al.brand_id = f->brand_id;
	al.at = f->at;
	al.scan_id = f->scan_id;
	if ((rc = alert_rating_drop(st, txn, &al, &id)) != 0)
		return rc;
	sigil_be64_put(idb, id);
	v = mval(idb, 8);
	if ((rc = mdb_put(txn, st->feedback_alerts, &k, &v, 0)) != 0)
		return rc;
	*alert_id = id;
	return 0;
}

/* ---- adding ---- */

struct add_work {
	struct feedback_new	*n;
	struct activity		a;
	uint64_t		id, alert_id;
};

static int
add_fn(struct store *st, MDB_txn *txn, void *arg)
{
	struct add_work *w = arg;
	struct feedback *f = &w->n->f;
	uint8_t kb[12], *vb;
	MDB_val k, v;
	int rc;

	w->alert_id = 0;
	if ((rc = brand_exists(st, txn, f->brand_id)) != 0)
		return rc;
	w->a.id = 0;
	if ((rc = activity_append(st, txn, &w->a)) != 0)
		return rc;
	w->id = w->a.id;
	if ((vb = malloc(ROW_MAX)) == NULL)
		return SIGIL_ENOMEM;
	{
		struct feedback tmp = *f;

		tmp.id = w->id;
		tmp.status = FEEDBACK_OPEN;
		tmp.replied_at = tmp.closed_at = 0;
		tmp.reply[0] = '\0';
		v = mval(vb, row_encode(&tmp, vb));
	}
	fb_key(kb, f->brand_id, w->id);
	k = mval(kb, 12);
	rc = mdb_put(txn, st->feedback, &k, &v, 0);
	free(vb);
	if (rc != 0)
		return rc;
	if (f->photo != FEEDBACK_PHOTO_NONE) {
		v = mval(w->n->photo, f->photo_len);
		if ((rc = mdb_put(txn, st->feedback_photos, &k, &v, 0)) != 0)
			return rc;
	}
	if (f->kind == FEEDBACK_RATING && f->sku[0] != '\0') {
		struct feedback tmp = *f;

		tmp.id = w->id;
		return drop_check(st, txn, &tmp, &w->alert_id);
	}
	return 0;
}

static int
fb_text_ok(const char *s, size_t size, size_t max)
{
	size_t n = strnlen(s, size);

	return n < size && sigil_text_check(s, n, max, SIGIL_TEXT_EMPTY_OK |
	    SIGIL_TEXT_MULTILINE, NULL) == 0;
}

int
store_feedback_add(struct store *st, struct feedback_new *n)
{
	struct feedback *f;
	struct add_work *w;
	int rc;

	if (n == NULL)
		return SIGIL_EINVAL;
	f = &n->f;
	if (st->feedback_absent)
		return SIGIL_ESTATE;
	if ((f->kind != FEEDBACK_RATING && f->kind != FEEDBACK_FAKE) ||
	    (f->kind == FEEDBACK_RATING && (f->rating < 1 || f->rating > 5)) ||
	    (f->kind == FEEDBACK_FAKE && (f->rating != 0 ||
	    f->where[0] == '\0')) ||
	    f->brand_id == 0 || f->scan_id == 0 ||
	    !fb_text_ok(f->where, sizeof f->where, FEEDBACK_WHERE_MAX) ||
	    strnlen(f->sku, sizeof f->sku) >= sizeof f->sku ||
	    strlen(f->sku) > STORE_NAME_MAX * 4 || strlen(f->sku) > 255 ||
	    (f->photo == FEEDBACK_PHOTO_NONE) != (n->photo == NULL) ||
	    f->photo < FEEDBACK_PHOTO_NONE || f->photo > FEEDBACK_PHOTO_PNG ||
	    (f->photo != FEEDBACK_PHOTO_NONE && (f->kind != FEEDBACK_FAKE ||
	    f->photo_len == 0 || f->photo_len > FEEDBACK_PHOTO_MAX)))
		return SIGIL_EINVAL;
	if (f->photo == FEEDBACK_PHOTO_NONE)
		f->photo_len = 0;
	if ((w = calloc(1, sizeof *w)) == NULL)
		return SIGIL_ENOMEM;
	w->n = n;
	if (f->at == 0)
		f->at = sigil_now_us();
	w->a.brand_id = f->brand_id;
	w->a.type = ACTIVITY_FEEDBACK;
	w->a.at = f->at;
	w->a.customer_id = f->customer_id;
	w->a.ref = f->scan_id;
	w->a.rating = f->rating;
	snprintf(w->a.text, sizeof w->a.text, "%s", f->text);
	if (strlen(f->text) >= sizeof w->a.text || !activity_ok(&w->a)) {
		free(w);
		return SIGIL_EINVAL;
	}
	rc = store_write(st, add_fn, w);
	if (rc == 0) {
		f->id = w->id;
		n->alert_id = w->alert_id;
	}
	free(w);
	return rc;
}

/* ---- reply and close ---- */


static int
reply_fn(struct store *st, MDB_txn *txn, void *arg)
{
	struct feedback_reply *r = arg;
	struct feedback *f = &r->row;
	uint8_t kb[12], *vb;
	MDB_val k, v;
	int rc;

	r->delivered = 0;
	if ((rc = feedback_load(st, txn, r->brand_id, r->id, f)) != 0)
		return rc == MDB_NOTFOUND ? SIGIL_ENOTFOUND : rc;
	if (f->status == FEEDBACK_CLOSED)
		return SIGIL_ESTATE;
	if (f->legacy) {
		f->batch_id = r->batch_id;
		snprintf(f->sku, sizeof f->sku, "%s", r->sku);
	}
	if (r->close) {
		f->status = FEEDBACK_CLOSED;
		f->closed_at = r->at;
	} else {
		f->status = FEEDBACK_REPLIED;
		f->replied_at = r->at;
		f->replied_by = r->actor;
		snprintf(f->reply, sizeof f->reply, "%s", r->text);
		if (f->customer_id != 0 && f->scan_id != 0) {
			if ((rc = message_service_enqueue(st, txn, r->brand_id,
			    f->customer_id, r->text)) == 0)
				r->delivered = 1;
			else if (rc != SIGIL_ENOTFOUND)
				return rc;
		}
	}
	if ((vb = malloc(ROW_MAX)) == NULL)
		return SIGIL_ENOMEM;
	v = mval(vb, row_encode(f, vb));
	fb_key(kb, r->brand_id, r->id);
	k = mval(kb, 12);
	rc = mdb_put(txn, st->feedback, &k, &v, 0);
	free(vb);
	f->legacy = 0;
	return rc;
}

int
store_feedback_reply(struct store *st, struct feedback_reply *r)
{
	struct feedback_reply *w;
	int rc;

	if (r == NULL || r->brand_id == 0 || r->id == 0)
		return SIGIL_EINVAL;
	if (st->feedback_absent)
		return SIGIL_ESTATE;
	if (!r->close && (r->text[0] == '\0' ||
	    !fb_text_ok(r->text, sizeof r->text, FEEDBACK_REPLY_MAX) ||
	    strspn(r->text, " \n\r\t") == strlen(r->text)))
		return SIGIL_EINVAL;
	if (strnlen(r->sku, sizeof r->sku) >= sizeof r->sku ||
	    strlen(r->sku) > 255)
		return SIGIL_EINVAL;
	if ((w = malloc(sizeof *w)) == NULL)
		return SIGIL_ENOMEM;
	*w = *r;
	rc = STORE_WRITE_OUT(st, reply_fn, w, *w, r);
	free(w);
	return rc;
}

/* ---- the photo ---- */

struct photo_read {
	uint32_t	brand_id;
	uint64_t	id;
	int		type;
	uint8_t		*bytes;
	size_t		len;
};

static int
photo_load(struct store *st, MDB_txn *txn, struct photo_read *p)
{
	struct feedback *f;
	uint8_t kb[12];
	MDB_val k = mval(kb, 12), v;
	int rc;

	if ((f = malloc(sizeof *f)) == NULL)
		return SIGIL_ENOMEM;
	rc = feedback_load(st, txn, p->brand_id, p->id, f);
	p->type = rc == 0 ? f->photo : 0;
	free(f);
	if (rc != 0)
		return rc;
	if (p->type == FEEDBACK_PHOTO_NONE)
		return SIGIL_ENOTFOUND;
	fb_key(kb, p->brand_id, p->id);
	if ((rc = mdb_get(txn, st->feedback_photos, &k, &v)) != 0)
		return rc;
	if ((p->bytes = malloc(v.mv_size)) == NULL)
		return SIGIL_ENOMEM;
	memcpy(p->bytes, v.mv_data, v.mv_size);
	p->len = v.mv_size;
	return 0;
}

int
store_feedback_photo(struct store *st, uint32_t brand_id, uint64_t id,
    int *type, uint8_t **bytes, size_t *len)
{
	struct photo_read p = { brand_id, id, 0, NULL, 0 };
	int rc;

	if (st->feedback_absent)
		return SIGIL_ENOTFOUND;
	rc = STORE_READ(st, photo_load(st, txn, &p));
	if (rc != 0) {
		free(p.bytes);
		return rc;
	}
	*type = p.type;
	*bytes = p.bytes;
	*len = p.len;
	return 0;
}

/* ---- the thresholds ---- */

int
store_feedback_settings_get(struct store *st, uint32_t brand_id,
    struct feedback_settings *out)
{
	struct feedback_settings s;
	int rc;

	rc = STORE_READ(st, settings_load(st, txn, brand_id, &s));
	if (rc == 0)
		*out = s;
	return rc;
}

int
store_feedback_settings_put(struct store *st, uint32_t brand_id,
    const struct feedback_settings *s)
{
	uint8_t kb[4], vb[8];

	if (s == NULL || s->min_ratings < 1 || s->min_ratings > 10000 ||
	    s->drop_tenths < 1 || s->drop_tenths > 40)
		return SIGIL_EINVAL;
	if (st->feedback_absent)
		return SIGIL_ESTATE;
	sigil_be32_put(kb, brand_id);
	le32_put(vb, s->min_ratings);
	le32_put(vb + 4, s->drop_tenths);
	return rows_write(st, st->feedback_alerts, kb, 4, vb, 8, brand_id);
}

/* ---- erasure ---- */

int
feedback_erase(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t id)
{
	struct feedback *f;
	uint8_t kb[12], *vb;
	MDB_val k = mval(kb, 12), v;
	int rc;

	if (st->feedback_absent)
		return 0;
	fb_key(kb, brand_id, id);
	if ((rc = mdb_get(txn, st->feedback, &k, &v)) == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if ((f = calloc(1, sizeof *f)) == NULL)
		return SIGIL_ENOMEM;
	if ((vb = malloc(ROW_MAX)) == NULL) {
		free(f);
		return SIGIL_ENOMEM;
	}
	if ((rc = row_decode(v, f)) == 0) {
		f->scan_id = 0;
		f->where[0] = '\0';
		f->reply[0] = '\0';
		f->photo = FEEDBACK_PHOTO_NONE;
		f->photo_len = 0;
		v = mval(vb, row_encode(f, vb));
		rc = mdb_put(txn, st->feedback, &k, &v, 0);
	}
	free(vb);
	free(f);
	if (rc == 0 && (rc = mdb_del(txn, st->feedback_photos, &k, NULL)) ==
	    MDB_NOTFOUND)
		rc = 0;
	return rc;
}
