/*
 * store_alerts.c - alerts: what the scans raised on a code, one per code
 * and signal, and the brand's status on each.
 *
 * Owns the tables alerts (id BE64 -> the record), brand_alerts (brand
 * BE32 || id BE64 -> empty: a brand's inbox never walks another brand's
 * rows) and alert_codes (code key (9) || type u8 -> id BE64: the alert a
 * code already has for a signal), and the meta counter next_alert.
 *
 * One alert per code and signal: a scan that raises a signal the code
 * already has an alert for updates that alert (count, last seen, the
 * latest scan, place and distributor) in the scan's transaction; a
 * brand that resolved it sees it new again. Ids are given at first
 * sight, so the inbox (newest first) is in order of first sight and the
 * record says when it was last seen.
 *
 * Record (docs/storage.md): brand u32, type u8, at i64, serial u64,
 * scan u64, distributor u32, distance f32, lat f32, lng f32 (45 bytes,
 * the first layout, still read: count 1, never changed), then count u32,
 * last_at i64, last_scan u64, status u8, status_by u32, status_at i64,
 * loc_scan u64 (the scan lat/lng came from: store_erase.c coarsens the
 * alert with that scan).
 *
 * May call: libc, LMDB, util.c, store_env.c. store_scans.c calls
 * scan_alerts, store_feedback.c alert_rating_drop; the payout
 * reconciliation store_alert_payout_mismatch (its own transaction). Must never call any other family.
 */
#include <string.h>

#include "sigil/code.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "store_impl.h"

#define ALERT_REC_V1	45
#define ALERT_REC_LEN	86
#define ALERT_CODE_KEY	(CODE_KEY_LEN + 1)

static const struct {
	int		 type;
	const char	*name;
} alert_types[] = {
	{ ALERT_CLONE_SCANNERS, "too_many_scanners" },
	{ ALERT_CLONE_TRAVEL, "impossible_travel" },
	{ ALERT_DIVERSION, "diversion" },
	{ ALERT_COUNTERFEIT, "counterfeit" },
	{ ALERT_RATING_DROP, "rating_drop" },
	{ ALERT_PAYOUT_MISMATCH, "payout_mismatch" },
};

static const char *const alert_statuses[] = {
	[ALERT_NEW] = "new",
	[ALERT_ACKNOWLEDGED] = "acknowledged",
	[ALERT_RESOLVED] = "resolved",
};

const char *
store_alert_type_name(int type)
{
	for (size_t i = 0; i < sizeof(alert_types) / sizeof(alert_types[0]);
	    i++)
		if (alert_types[i].type == type)
			return alert_types[i].name;
	return NULL;
}

int
store_alert_type_parse(const char *name)
{
	for (size_t i = 0; i < sizeof(alert_types) / sizeof(alert_types[0]);
	    i++)
		if (strcmp(alert_types[i].name, name) == 0)
			return alert_types[i].type;
	return 0;
}

const char *
store_alert_status_name(int status)
{
	if (status < ALERT_NEW || status > ALERT_RESOLVED)
		return NULL;
	return alert_statuses[status];
}

int
store_alert_status_parse(const char *name)
{
	for (int i = ALERT_NEW; i <= ALERT_RESOLVED; i++)
		if (strcmp(alert_statuses[i], name) == 0)
			return i;
	return -1;
}

static void
alert_encode(const struct alert *al, uint8_t *vb)
{
	le32_put(vb, al->brand_id);
	vb[4] = (uint8_t)al->type;
	le64_put(vb + 5, (uint64_t)al->at);
	le64_put(vb + 13, al->serial);
	le64_put(vb + 21, al->scan_id);
	le32_put(vb + 29, al->distributor);
	lef32_put(vb + 33, al->distance_km);
	lef32_put(vb + 37, al->lat);
	lef32_put(vb + 41, al->lng);
	le32_put(vb + 45, al->count);
	le64_put(vb + 49, (uint64_t)al->last_at);
	le64_put(vb + 57, al->last_scan);
	vb[65] = (uint8_t)al->status;
	le32_put(vb + 66, al->status_by);
	le64_put(vb + 70, (uint64_t)al->status_at);
	le64_put(vb + 78, al->loc_scan);
}

static int
alert_decode(uint64_t id, MDB_val v, struct alert *out)
{
	const uint8_t *p = v.mv_data;
	struct alert a = { .id = id };

	if ((v.mv_size != ALERT_REC_V1 && v.mv_size != ALERT_REC_LEN) ||
	    p[4] == 0)
		return SIGIL_EIO;
	a.brand_id = le32_get(p);
	a.type = p[4];
	a.at = (int64_t)le64_get(p + 5);
	a.serial = le64_get(p + 13);
	a.scan_id = le64_get(p + 21);
	a.distributor = le32_get(p + 29);
	a.distance_km = lef32_get(p + 33);
	a.lat = lef32_get(p + 37);
	a.lng = lef32_get(p + 41);
	a.count = 1;
	a.last_at = a.at;
	a.last_scan = a.scan_id;
	a.loc_scan = a.scan_id;
	if (v.mv_size == ALERT_REC_LEN) {
		a.count = le32_get(p + 45);
		a.last_at = (int64_t)le64_get(p + 49);
		a.last_scan = le64_get(p + 57);
		a.status = p[65];
		a.status_by = le32_get(p + 66);
		a.status_at = (int64_t)le64_get(p + 70);
		a.loc_scan = le64_get(p + 78);
		if (a.status > ALERT_RESOLVED || a.count == 0)
			return SIGIL_EIO;
	}
	*out = a;
	return 0;
}

static int
alert_put(struct store *st, MDB_txn *txn, const struct alert *al,
    unsigned flags)
{
	uint8_t idb[8], vb[ALERT_REC_LEN];
	MDB_val k = mval(idb, 8), v = mval(vb, ALERT_REC_LEN);

	sigil_be64_put(idb, al->id);
	alert_encode(al, vb);
	return mdb_put(txn, st->alerts, &k, &v, flags);
}

static int
alert_load(struct store *st, MDB_txn *txn, uint64_t id, struct alert *out)
{
	MDB_val v;
	int rc;

	if ((rc = id_get(txn, st->alerts, id, &v)) != 0)
		return rc;
	return alert_decode(id, v, out);
}

/* old is seen again in al: count, last seen, the latest scan; resolved:
 * new again. */
static void
alert_seen_again(struct alert *old, const struct alert *al)
{
	if (old->count < UINT32_MAX)
		old->count++;
	old->last_at = al->at;
	old->last_scan = al->scan_id;
	if (old->status == ALERT_RESOLVED) {
		old->status = ALERT_NEW;
		old->status_by = 0;
		old->status_at = al->at;
	}
}

/* al (loc_scan set) as a new alert: the next id, seen once, listed
 * under its brand. */
static int
alert_add(struct store *st, MDB_txn *txn, struct alert *al)
{
	uint8_t bk[12];
	MDB_val k, v;
	int rc;

	if ((rc = meta_next(st, txn, meta_key("next_alert"), 1,
	    UINT64_MAX - 1, &al->id)) != 0)
		return rc;
	al->count = 1;
	al->last_at = al->at;
	al->last_scan = al->scan_id;
	if ((rc = alert_put(st, txn, al, MDB_APPEND)) != 0)
		return rc;
	sigil_be32_put(bk, al->brand_id);
	sigil_be64_put(bk + 4, al->id);
	k = mval(bk, 12);
	v = mval("", 0);
	return mdb_put(txn, st->brand_alerts, &k, &v, 0);
}

/*
 * Raises al (brand, type, serial, scan, at and the evidence set): a new
 * alert, or the code's alert of that type updated.
 */
static int
alert_raise(struct store *st, MDB_txn *txn, struct alert *al)
{
	uint8_t ck[ALERT_CODE_KEY], idb[8];
	MDB_val k = mval(ck, ALERT_CODE_KEY), v;
	struct alert old;
	int rc;

	code_key_put(ck, al->brand_id, al->serial);
	ck[CODE_KEY_LEN] = (uint8_t)al->type;
	if (!st->alert_codes_absent &&
	    (rc = mdb_get(txn, st->alert_codes, &k, &v)) != MDB_NOTFOUND) {
		if (rc != 0)
			return rc;
		if (v.mv_size != 8)
			return SIGIL_EIO;
		if ((rc = alert_load(st, txn, sigil_be64_get(v.mv_data),
		    &old)) != 0)
			return rc == MDB_NOTFOUND ? SIGIL_EIO : rc;
		alert_seen_again(&old, al);
		if (al->lat != 0 || al->lng != 0) {
			old.lat = al->lat;
			old.lng = al->lng;
			old.loc_scan = al->scan_id;
		}
		if (al->type == ALERT_DIVERSION) {
			old.distributor = al->distributor;
			old.distance_km = al->distance_km;
		}
		return alert_put(st, txn, &old, 0);
	}
	al->loc_scan = al->scan_id;
	if ((rc = alert_add(st, txn, al)) != 0)
		return rc;
	if (st->alert_codes_absent)
		return 0;
	sigil_be64_put(idb, al->id);
	k = mval(ck, ALERT_CODE_KEY);
	v = mval(idb, 8);
	return mdb_put(txn, st->alert_codes, &k, &v, 0);
}

/*
 * A product's rating_drop alert: *id, when it names one of the brand's
 * rating_drop alerts, is seen again (count, last seen, the latest scan;
 * resolved: new again); else a new alert whose id goes to *id. No
 * alert_codes row: the feedback part keeps the product's alert id.
 */
int
alert_rating_drop(struct store *st, MDB_txn *txn, struct alert *al,
    uint64_t *id)
{
	struct alert old;
	int rc;

	al->type = ALERT_RATING_DROP;
	al->serial = 0;
	if (*id != 0 && (rc = alert_load(st, txn, *id, &old)) != MDB_NOTFOUND) {
		if (rc != 0)
			return rc;
		if (old.brand_id == al->brand_id &&
		    old.type == ALERT_RATING_DROP) {
			alert_seen_again(&old, al);
			*al = old;
			return alert_put(st, txn, &old, 0);
		}
	}
	al->loc_scan = 0;
	if ((rc = alert_add(st, txn, al)) != 0)
		return rc;
	*id = al->id;
	return 0;
}

static int
payout_mismatch_fn(struct store *st, MDB_txn *txn, void *arg)
{
	return alert_raise(st, txn, arg);
}

int
store_alert_payout_mismatch(struct store *st, uint32_t brand_id,
    uint64_t serial, int64_t at)
{
	struct alert al = { 0 };

	al.brand_id = brand_id;
	al.type = ALERT_PAYOUT_MISMATCH;
	al.serial = serial;
	al.at = at;
	return store_write(st, payout_mismatch_fn, &al);
}

/* One alert per evidence flag in flags, for the judged scan r. */
int
scan_alerts(struct store *st, MDB_txn *txn, const struct scan_rec *r,
    unsigned flags, int64_t at)
{
	static const struct {
		unsigned	flag;
		int		type;
	} kinds[] = {
		{ SCAN_CLONE_SCANNERS, ALERT_CLONE_SCANNERS },
		{ SCAN_CLONE_TRAVEL, ALERT_CLONE_TRAVEL },
		{ SCAN_DIVERSION, ALERT_DIVERSION },
	};
	int rc;

	/* A forged code of the brand's key: no per-code evidence flags. */
	if (r->brand_id == 0) {
		struct alert al = { 0 };

		if (r->attr_brand == 0 || r->verdict != VERDICT_COUNTERFEIT ||
		    (r->flags & SCAN_BOT))
			return 0;
		al.brand_id = r->attr_brand;
		al.type = ALERT_COUNTERFEIT;
		al.at = at;
		al.scan_id = r->id;
		if (r->flags & SCAN_HAS_LOC) {
			al.lat = r->lat;
			al.lng = r->lng;
		}
		return alert_raise(st, txn, &al);
	}
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		struct alert al = { 0 };

		if (!(flags & kinds[i].flag))
			continue;
		al.brand_id = r->brand_id;
		al.type = kinds[i].type;
		al.at = at;
		al.serial = r->serial;
		al.scan_id = r->id;
		if (kinds[i].type == ALERT_DIVERSION) {
			al.distributor = r->distributor;
			al.distance_km = r->diversion_km;
		}
		if (r->flags & SCAN_HAS_LOC) {
			al.lat = r->lat;
			al.lng = r->lng;
		}
		if ((rc = alert_raise(st, txn, &al)) != 0)
			return rc;
	}
	return 0;
}

int
scan_alert_place(struct store *st, MDB_txn *txn, const struct scan_rec *r)
{
	uint8_t ck[ALERT_CODE_KEY];
	MDB_val k = mval(ck, ALERT_CODE_KEY), v;
	struct alert al;
	int rc;

	if (r->brand_id != 0 || r->attr_brand == 0 ||
	    r->verdict != VERDICT_COUNTERFEIT || (r->flags & SCAN_BOT) ||
	    !(r->flags & SCAN_HAS_LOC) || st->alert_codes_absent)
		return 0;
	code_key_put(ck, r->attr_brand, 0);
	ck[CODE_KEY_LEN] = ALERT_COUNTERFEIT;
	if ((rc = mdb_get(txn, st->alert_codes, &k, &v)) == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (v.mv_size != 8)
		return SIGIL_EIO;
	if ((rc = alert_load(st, txn, sigil_be64_get(v.mv_data), &al)) != 0)
		return rc == MDB_NOTFOUND ? SIGIL_EIO : rc;
	/* The latest place: a later scan's, never an older one's. */
	if (al.loc_scan > r->id && (al.lat != 0 || al.lng != 0))
		return 0;
	al.lat = r->lat;
	al.lng = r->lng;
	al.loc_scan = r->id;
	return alert_put(st, txn, &al, 0);
}

/* ---- the inbox ---- */

static int
alert_wanted(const struct alert_query *q, const struct alert *al)
{
	if (q->type && al->type != q->type)
		return 0;
	if (q->statuses && !(q->statuses & (1u << al->status)))
		return 0;
	return al->last_at >= q->since;
}

static int
alert_walk(struct store *st, MDB_txn *txn, uint32_t brand_id,
    const struct alert_query *q,
    int (*fn)(void *arg, const struct alert *a), void *arg)
{
	uint8_t kb[12];
	MDB_val k = mval(kb, 12), v;
	MDB_cursor *cur;
	MDB_cursor_op next = q->oldest_first ? MDB_NEXT : MDB_PREV;
	struct alert al;
	size_t seen = 0;
	int rc, stop = 0;

	if ((rc = mdb_cursor_open(txn, st->brand_alerts, &cur)) != 0)
		return rc;
	sigil_be32_put(kb, brand_id);
	if (q->oldest_first) {
		sigil_be64_put(kb + 4, q->after + 1);
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	} else {
		/* The first key past the range, then one step back. */
		if (q->before)
			sigil_be64_put(kb + 4, q->before);
		else {
			sigil_be32_put(kb, brand_id + 1);
			sigil_be64_put(kb + 4, 0);
		}
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		if (rc == MDB_NOTFOUND)
			rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
		else if (rc == 0)
			rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
	}
	for (; rc == 0; rc = mdb_cursor_get(cur, &k, &v, next)) {
		if (k.mv_size != 12) {
			rc = SIGIL_EIO;
			break;
		}
		if (sigil_be32_get(k.mv_data) != brand_id ||
		    (q->limit && seen == q->limit))
			break;
		if ((rc = alert_load(st, txn, sigil_be64_get(
		    (const uint8_t *)k.mv_data + 4), &al)) != 0) {
			if (rc == MDB_NOTFOUND)
				rc = SIGIL_EIO;
			break;
		}
		if (!alert_wanted(q, &al))
			continue;
		seen++;
		if ((stop = fn(arg, &al)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	if (stop)
		return stop;
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int
store_alert_each(struct store *st, uint32_t brand_id,
    const struct alert_query *q,
    int (*fn)(void *arg, const struct alert *a), void *arg)
{
	if (st->trace_absent || (q->oldest_first && q->after == UINT64_MAX))
		return 0;
	return STORE_READ(st, alert_walk(st, txn, brand_id, q, fn, arg));
}

static int
alert_of_brand(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t id, struct alert *out)
{
	int rc;

	if ((rc = alert_load(st, txn, id, out)) != 0)
		return rc == MDB_NOTFOUND ? SIGIL_ENOTFOUND : rc;
	return out->brand_id == brand_id ? 0 : SIGIL_ENOTFOUND;
}

int
store_alert_get(struct store *st, uint32_t brand_id, uint64_t id,
    struct alert *out)
{
	if (st->trace_absent)
		return SIGIL_ENOTFOUND;
	return STORE_READ(st, alert_of_brand(st, txn, brand_id, id, out));
}

struct status_set {
	uint32_t	brand_id;
	uint64_t	id;
	int		status;
	uint32_t	actor;
	int64_t		at;
	struct alert	res;
};

static int
status_set_fn(struct store *st, MDB_txn *txn, void *arg)
{
	struct status_set *x = arg;
	int rc;

	if ((rc = alert_of_brand(st, txn, x->brand_id, x->id, &x->res)) != 0)
		return rc;
	x->res.status = x->status;
	x->res.status_by = x->actor;
	x->res.status_at = x->at;
	return alert_put(st, txn, &x->res, 0);
}

int
store_alert_set_status(struct store *st, uint32_t brand_id, uint64_t id,
    int status, uint32_t actor, int64_t at, struct alert *out)
{
	struct status_set x = { brand_id, id, status, actor, at, { 0 } };

	if (status < ALERT_NEW || status > ALERT_RESOLVED)
		return SIGIL_EINVAL;
	if (st->trace_absent)
		return SIGIL_ENOTFOUND;
	return STORE_WRITE_OUT(st, status_set_fn, &x, x.res, out);
}

struct code_status_set {
	uint32_t	brand_id;
	uint64_t	serial;
	int		type, status;
	uint32_t	actor;
	int64_t		at;
};

static int
code_status_fn(struct store *st, MDB_txn *txn, void *arg)
{
	struct code_status_set *x = arg;
	uint8_t ck[ALERT_CODE_KEY];
	MDB_val k = mval(ck, ALERT_CODE_KEY), v;
	struct alert al;
	int rc;

	code_key_put(ck, x->brand_id, x->serial);
	ck[CODE_KEY_LEN] = (uint8_t)x->type;
	if ((rc = mdb_get(txn, st->alert_codes, &k, &v)) != 0)
		return rc == MDB_NOTFOUND ? SIGIL_ENOTFOUND : rc;
	if (v.mv_size != 8)
		return SIGIL_EIO;
	if ((rc = alert_of_brand(st, txn, x->brand_id,
	    sigil_be64_get(v.mv_data), &al)) != 0)
		return rc;
	if (al.status == x->status)
		return 0;
	al.status = x->status;
	al.status_by = x->actor;
	al.status_at = x->at;
	return alert_put(st, txn, &al, 0);
}

int
store_alert_code_status(struct store *st, uint32_t brand_id,
    uint64_t serial, int type, int status, uint32_t actor, int64_t at)
{
	struct code_status_set x = { brand_id, serial, type, status, actor,
	    at };

	if (status < ALERT_NEW || status > ALERT_RESOLVED)
		return SIGIL_EINVAL;
	if (st->trace_absent || st->alert_codes_absent)
		return SIGIL_ENOTFOUND;
	return store_write(st, code_status_fn, &x);
}
