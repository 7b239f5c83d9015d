/*
 * store_counters.c - the dashboard counters (counters) and the per-day
 * sets of devices that count distinct scanners (device_days).
 *
 * Dashboard numbers are sums over hour buckets, key brand || kind || dim
 * || key || hour, written by the transaction that changes what they
 * count: store_scans.c's scan commit and locate call stats_scan,
 * stats_locate and stats_flush, the claims and the redemptions
 * (store_claims.c, store_ledger.c) stats_add. A transaction adds its increments up in
 * memory (struct stat_acc) and writes each distinct counter once, so a
 * group commit of a thousand scans of one batch costs a handful of puts.
 * A counter is dashboard arithmetic: it saturates, it never fails a scan.
 *
 * Distinct scanners per day are counted with a per-brand, per-day set of
 * device ids folded to 32 bits (4 bytes each in a DUPFIXED table; a fold
 * collision undercounts by about n / 2^32 for n devices a day, which a
 * dashboard can bear, while the scan path keeps under its bytes-per-scan
 * budget). The set is pruned to today and yesterday, so it stays as
 * small as one day's devices however long the store lives.
 *
 * Owns the tables counters and device_days.
 * It may call store_env.c's runner and snapshot, batch_load (the
 * catalogue, store_catalog.c: a batch's SKU), region_load (a logged
 * scan's province, store_regions.c) and the inline helpers of
 * store_impl.h; it must never call the scan commit that calls it
 * (store_scans.c), nor the late tables' files above it: of a scan it
 * reads only the record it is handed.
 */
#include <math.h>
#include <string.h>

#include <lmdb.h>

#include "sigil/store.h"
#include "sigil/util.h"
#include "store_impl.h"

#define COUNTER_KEY_LEN		18
#define STAT_KIND_MAX		STAT_UNVERIFIED
#define STAT_DIM_MAX		DIM_CITY

static void
counter_key(uint8_t *p, uint32_t brand_id, int kind, int dim, uint64_t key,
    uint32_t hour)
{
	sigil_be32_put(p, brand_id);
	p[4] = (uint8_t)kind;
	p[5] = (uint8_t)dim;
	sigil_be64_put(p + 6, key);
	sigil_be32_put(p + 14, hour);
}

static int64_t
sat_add(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_add_overflow(a, b, &r))
		return b > 0 ? INT64_MAX : INT64_MIN;
	return r;
}

/* A counter is dashboard arithmetic: it saturates, it never fails a scan. */
static int
counter_add(struct store *st, MDB_txn *txn, const uint8_t *key,
    int64_t delta)
{
	uint8_t vb[8];
	MDB_val k = mval(key, COUNTER_KEY_LEN), v;
	int64_t cur = 0;
	int rc = mdb_get(txn, st->counters, &k, &v);

	if (rc == 0 && v.mv_size == 8)
		cur = (int64_t)le64_get(v.mv_data);
	else if (rc == 0)
		return SIGIL_EIO;
	else if (rc != MDB_NOTFOUND)
		return rc;
	le64_put(vb, (uint64_t)sat_add(cur, delta));
	v = mval(vb, 8);
	return mdb_put(txn, st->counters, &k, &v, 0);
}

int
stats_hour(int64_t at, uint32_t *out)
{
	int64_t h = floor_div(at, HOUR_US);

	if (h < 0 || h > UINT32_MAX)
		return 0;
	*out = (uint32_t)h;
	return 1;
}

int
stats_flush(struct store *st, MDB_txn *txn, struct stat_acc *acc)
{
	int rc;

	for (size_t i = 0; i < acc->n; i++)
		if (acc->e[i].delta != 0 &&
		    (rc = counter_add(st, txn, acc->e[i].key,
		    acc->e[i].delta)) != 0)
			return rc;
	acc->n = 0;
	return 0;
}

int
stats_add(struct store *st, MDB_txn *txn, struct stat_acc *acc,
    uint32_t brand_id, int kind, int dim, uint64_t key, uint32_t hour,
    int64_t delta)
{
	uint8_t kb[COUNTER_KEY_LEN];
	int rc;

	counter_key(kb, brand_id, kind, dim, key, hour);
	for (size_t i = 0; i < acc->n; i++)
		if (memcmp(acc->e[i].key, kb, COUNTER_KEY_LEN) == 0) {
			acc->e[i].delta = sat_add(acc->e[i].delta, delta);
			return 0;
		}
	if (acc->n == STAT_ACC_MAX && (rc = stats_flush(st, txn, acc)) != 0)
		return rc;
	memcpy(acc->e[acc->n].key, kb, COUNTER_KEY_LEN);
	acc->e[acc->n++].delta = delta;
	return 0;
}

uint64_t
store_sku_hash(const char *sku)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (const unsigned char *p = (const unsigned char *)sku; *p; p++) {
		h ^= *p;
		h *= 0x100000001b3ULL;
	}
	return h;
}

uint64_t
store_region_cell(float lat, float lng)
{
	int64_t a = (int64_t)floorf(lat) + 90, b = (int64_t)floorf(lng) + 180;

	/* The poles and the antimeridian fold into the last cell. */
	a = a < 0 ? 0 : a > 179 ? 179 : a;
	b = b < 0 ? 0 : b > 359 ? 359 : b;
	return (uint64_t)(a * 360 + b);
}

/*
 * A device's first human scan of the day for its brand: the set of day
 * d is keyed brand || d; sets older than yesterday are dropped the first
 * time a transaction sees a newer day (late scans from yesterday still
 * find theirs).
 */
static int
device_first_today(struct store *st, MDB_txn *txn, struct stat_acc *acc,
    uint32_t brand_id, uint64_t device, uint32_t day)
{
	uint8_t kb[8], db[4];
	MDB_cursor *cur;
	MDB_val k = mval(kb, 8), v = mval(db, 4);
	int rc;

	if (acc->pruned_brand != brand_id || acc->pruned_day != day) {
		if ((rc = mdb_cursor_open(txn, st->device_days, &cur)) != 0)
			return rc;
		sigil_be32_put(kb, brand_id);
		sigil_be32_put(kb + 4, 0);
		while ((rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE)) == 0 &&
		    k.mv_size == 8 && sigil_be32_get(k.mv_data) == brand_id &&
		    sigil_be32_get((const uint8_t *)k.mv_data + 4) + 1 < day) {
			if ((rc = mdb_cursor_del(cur, MDB_NODUPDATA)) != 0)
				break;
			k = mval(kb, 8);
		}
		mdb_cursor_close(cur);
		if (rc != 0 && rc != MDB_NOTFOUND)
			return rc;
		acc->pruned_brand = brand_id;
		acc->pruned_day = day;
	}
	sigil_be32_put(kb, brand_id);
	sigil_be32_put(kb + 4, day);
	/*
	 * Device ids are microseconds << 12, plus one for each further id
	 * made in the same microsecond (consumer.c). The value keeps the
	 * microseconds (bits 12..39, wrapping every 4.5 minutes) over the
	 * low 4 bits, so it rises with time: a day's new devices go in
	 * next to one another instead of each dirtying a random leaf.
	 */
	sigil_be32_put(db, (uint32_t)(device >> 12 << 4 | (device & 0xf)));
	k = mval(kb, 8);
	v = mval(db, 4);
	rc = mdb_put(txn, st->device_days, &k, &v, MDB_NODUPDATA);
	if (rc == MDB_KEYEXIST)
		return 0;
	return rc == 0 ? 1 : rc;
}

/*
 * A scan of an unknown code attributed to a brand (scan_rec.attr_brand):
 * COUNTERFEIT or UNVERIFIED by DIM_BRAND, and by DIM_REGION when
 * located. Nothing per product or batch: the code names none.
 */
static int
unknown_kind(const struct scan_rec *r)
{
	if (r->brand_id != 0 || r->attr_brand == 0)
		return 0;
	return r->verdict == VERDICT_COUNTERFEIT ? STAT_COUNTERFEIT :
	    r->verdict == VERDICT_UNVERIFIED ? STAT_UNVERIFIED : 0;
}

static int
stats_unknown(struct store *st, MDB_txn *txn, struct stat_acc *acc,
    const struct scan_rec *r, uint32_t h)
{
	int kind = unknown_kind(r), rc;

	if (kind == 0)
		return 0;
	if ((rc = stats_add(st, txn, acc, r->attr_brand, kind, DIM_BRAND, 0,
	    h, 1)) != 0)
		return rc;
	if (!(r->flags & SCAN_HAS_LOC))
		return 0;
	return stats_add(st, txn, acc, r->attr_brand, kind, DIM_REGION,
	    store_region_cell(r->lat, r->lng), h, 1);
}

/*
 * A scan counted by the region of its address (delta 1), or taken back
 * when a consented location arrives for it (delta -1: GPS wins). The
 * kinds mirror each other, and a logged verdict never changes, so the
 * two cancel exactly.
 */
int
stats_region(struct store *st, MDB_txn *txn, struct stat_acc *acc,
    const struct scan_rec *r, int64_t delta)
{
	int kinds[2], nk = 0, rc;
	uint32_t brand = r->brand_id, province = r->region_province, h;

	if (r->region == 0 || (r->flags & SCAN_BOT) || !stats_hour(r->at, &h))
		return 0;
	if (brand == 0) {
		if ((kinds[nk] = unknown_kind(r)) != 0)
			nk++;
		brand = r->attr_brand;
	} else {
		kinds[nk++] = STAT_SCANS;
		if (r->verdict == VERDICT_SUSPICIOUS)
			kinds[nk++] = STAT_SUSPICIOUS;
	}
	if (nk == 0)
		return 0;
	if (province == 0) {
		struct store_region reg;

		rc = region_load(st, txn, r->region, &reg);
		if (rc == MDB_NOTFOUND || rc == SIGIL_EIO)
			return 0;	/* dashboard arithmetic: never fails */
		if (rc != 0)
			return rc;
		province = reg.province_id;
	}
	for (int i = 0; i < nk; i++)
		if ((rc = stats_add(st, txn, acc, brand, kinds[i], DIM_PROVINCE,
		    province, h, delta)) != 0 ||
		    (rc = stats_add(st, txn, acc, brand, kinds[i], DIM_CITY,
		    r->region, h, delta)) != 0)
			return rc;
	return 0;
}

int
stats_scan(struct store *st, MDB_txn *txn, struct stat_acc *acc,
    const struct scan_rec *r)
{
	static const int dims[] = { DIM_BRAND, DIM_PRODUCT, DIM_BATCH };
	uint64_t keys[3] = { 0, 0, r->batch_id };
	int ndims = 1, rc;
	int64_t day;
	uint32_t h;

	if ((r->flags & SCAN_BOT) || !stats_hour(r->at, &h))
		return 0;
	if (!(r->flags & SCAN_HAS_LOC) &&
	    (rc = stats_region(st, txn, acc, r, 1)) != 0)
		return rc;
	if (r->brand_id == 0)
		return stats_unknown(st, txn, acc, r, h);
	if (r->batch_id != 0) {
		if (acc->batch_id != r->batch_id) {
			struct batch b;

			rc = batch_load(st, txn, r->batch_id, &b);
			if (rc != 0 && rc != SIGIL_ENOTFOUND)
				return rc;
			acc->batch_id = r->batch_id;
			acc->batch_known = rc == 0 && b.brand_id == r->brand_id;
			acc->sku_hash = acc->batch_known ?
			    store_sku_hash(b.sku) : 0;
		}
		if (acc->batch_known) {
			keys[1] = acc->sku_hash;
			ndims = 3;
		}
	}
	for (int i = 0; i < ndims; i++) {
		if ((rc = stats_add(st, txn, acc, r->brand_id, STAT_SCANS,
		    dims[i], keys[i], h, 1)) != 0)
			return rc;
		if ((r->flags & SCAN_FIRST) && (rc = stats_add(st, txn, acc,
		    r->brand_id, STAT_FIRST, dims[i], keys[i], h, 1)) != 0)
			return rc;
		if (r->verdict == VERDICT_SUSPICIOUS && (rc = stats_add(st, txn,
		    acc, r->brand_id, STAT_SUSPICIOUS, dims[i], keys[i], h,
		    1)) != 0)
			return rc;
	}
	if (r->flags & SCAN_HAS_LOC) {
		if ((rc = stats_locate(st, txn, acc, r,
		    r->flags & SCAN_DIVERSION)) != 0)
			return rc;
	} else if ((r->flags & SCAN_DIVERSION) && (rc = stats_add(st, txn, acc,
	    r->brand_id, STAT_DIVERSION, DIM_BRAND, 0, h, 1)) != 0)
		return rc;
	day = floor_div(r->at, DAY_US);
	if (r->device == 0)
		return 0;
	if ((rc = device_first_today(st, txn, acc, r->brand_id, r->device,
	    (uint32_t)day)) < 0 || rc > 1)
		return rc;
	if (rc == 1)
		return stats_add(st, txn, acc, r->brand_id, STAT_SCANNERS,
		    DIM_BRAND, 0, h, 1);
	return 0;
}

int
stats_locate(struct store *st, MDB_txn *txn, struct stat_acc *acc,
    const struct scan_rec *r, unsigned added)
{
	uint64_t cell;
	uint32_t h;
	int rc;

	if ((r->flags & SCAN_BOT) || !stats_hour(r->at, &h) ||
	    !(r->flags & SCAN_HAS_LOC))
		return 0;
	if (r->brand_id == 0) {
		int kind = unknown_kind(r);

		return kind == 0 ? 0 : stats_add(st, txn, acc, r->attr_brand,
		    kind, DIM_REGION, store_region_cell(r->lat, r->lng), h, 1);
	}
	cell = store_region_cell(r->lat, r->lng);
	if ((rc = stats_add(st, txn, acc, r->brand_id, STAT_SCANS, DIM_REGION,
	    cell, h, 1)) != 0)
		return rc;
	if (!(added & SCAN_DIVERSION))
		return 0;
	if ((rc = stats_add(st, txn, acc, r->brand_id, STAT_DIVERSION,
	    DIM_BRAND, 0, h, 1)) != 0)
		return rc;
	return stats_add(st, txn, acc, r->brand_id, STAT_DIVERSION, DIM_REGION,
	    cell, h, 1);
}

static int
stat_args_ok(int kind, int dim)
{
	return kind >= STAT_SCANS && kind <= STAT_KIND_MAX &&
	    dim >= DIM_BRAND && dim <= STAT_DIM_MAX;
}

struct stat_add_arg {
	uint8_t	key[COUNTER_KEY_LEN];
	int64_t	delta;
};

static int
stat_add_fn(struct store *st, MDB_txn *txn, void *p)
{
	struct stat_add_arg *a = p;

	return counter_add(st, txn, a->key, a->delta);
}

int
store_stat_add(struct store *st, uint32_t brand_id, int kind, int dim,
    uint64_t key, int64_t hour, int64_t delta)
{
	struct stat_add_arg a;

	if (!stat_args_ok(kind, dim) || hour < 0 || hour > UINT32_MAX)
		return SIGIL_EINVAL;
	if (st->flags & STORE_RDONLY)
		return SIGIL_EDENIED;
	if (delta == 0)
		return 0;
	counter_key(a.key, brand_id, kind, dim, key, (uint32_t)hour);
	a.delta = delta;
	return store_write(st, stat_add_fn, &a);
}

/* The hours of counter kb (whose hour is from_hour) before to_hour. */
static int
stat_range_read(struct store *st, MDB_txn *txn, const uint8_t *kb,
    int64_t from_hour, int64_t to_hour, int64_t *out)
{
	MDB_cursor *cur;
	MDB_val k = mval(kb, COUNTER_KEY_LEN), v;
	int rc;

	if ((rc = mdb_cursor_open(txn, st->counters, &cur)) != 0)
		return rc;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const uint8_t *p = k.mv_data;
		int64_t h;

		if (k.mv_size != COUNTER_KEY_LEN || memcmp(p, kb, 14) != 0)
			break;
		if ((h = sigil_be32_get(p + 14)) >= to_hour)
			break;
		if (v.mv_size != 8) {
			rc = SIGIL_EIO;
			break;
		}
		out[h - from_hour] = (int64_t)le64_get(v.mv_data);
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int
store_stat_range(struct store *st, uint32_t brand_id, int kind, int dim,
    uint64_t key, int64_t from_hour, int64_t to_hour, int64_t *out)
{
	uint8_t kb[COUNTER_KEY_LEN];

	if (!stat_args_ok(kind, dim) || from_hour < 0 || to_hour < from_hour ||
	    to_hour > (int64_t)UINT32_MAX + 1 || (out == NULL &&
	    to_hour > from_hour))
		return SIGIL_EINVAL;
	if (to_hour == from_hour)
		return 0;
	memset(out, 0, (size_t)(to_hour - from_hour) * sizeof(*out));
	if (st->loyalty_absent)
		return 0;
	counter_key(kb, brand_id, kind, dim, key, (uint32_t)from_hour);
	return STORE_READ(st, stat_range_read(st, txn, kb, from_hour, to_hour,
	    out));
}

/* What a walk of store_stat_keys is after, and what stopped it. */
struct stat_keys {
	uint32_t	 brand_id;
	int		 kind, dim;
	int64_t		 from_hour, to_hour;
	int		(*fn)(void *arg, uint64_t key, int64_t total);
	void		*arg;
	int		 stop;
};

static int
stat_keys_read(struct store *st, MDB_txn *txn, struct stat_keys *w)
{
	uint8_t kb[COUNTER_KEY_LEN];
	MDB_cursor *cur;
	MDB_val k, v;
	uint64_t key = 0;
	int64_t total = 0;
	int rc, have = 0;

	if ((rc = mdb_cursor_open(txn, st->counters, &cur)) != 0)
		return rc;
	counter_key(kb, w->brand_id, w->kind, w->dim, 0,
	    (uint32_t)w->from_hour);
	k = mval(kb, COUNTER_KEY_LEN);
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	while (rc == 0) {
		const uint8_t *p = k.mv_data;
		uint64_t kk;
		int64_t h;

		if (k.mv_size != COUNTER_KEY_LEN || memcmp(p, kb, 6) != 0)
			break;
		kk = sigil_be64_get(p + 6);
		h = sigil_be32_get(p + 14);
		if (have && kk != key) {
			if ((w->stop = w->fn(w->arg, key, total)) != 0)
				break;
			have = 0;
		}
		if (h < w->from_hour || h >= w->to_hour) {
			/* Outside the range: jump to the next key's from_hour. */
			if (h >= w->to_hour && kk == UINT64_MAX)
				break;
			counter_key(kb, w->brand_id, w->kind, w->dim,
			    h < w->from_hour ? kk : kk + 1,
			    (uint32_t)w->from_hour);
			k = mval(kb, COUNTER_KEY_LEN);
			rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
			continue;
		}
		if (v.mv_size != 8) {
			rc = SIGIL_EIO;
			break;
		}
		if (!have) {
			key = kk;
			total = 0;
			have = 1;
		}
		total = sat_add(total, (int64_t)le64_get(v.mv_data));
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	if (!w->stop && have && (rc == 0 || rc == MDB_NOTFOUND))
		w->stop = w->fn(w->arg, key, total);
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int
store_stat_keys(struct store *st, uint32_t brand_id, int kind, int dim,
    int64_t from_hour, int64_t to_hour,
    int (*fn)(void *arg, uint64_t key, int64_t total), void *arg)
{
	struct stat_keys w = { brand_id, kind, dim, from_hour, to_hour, fn,
	    arg, 0 };
	int rc;

	if (!stat_args_ok(kind, dim) || from_hour < 0 || to_hour < from_hour ||
	    to_hour > (int64_t)UINT32_MAX + 1)
		return SIGIL_EINVAL;
	if (st->loyalty_absent || to_hour == from_hour)
		return 0;
	rc = STORE_READ(st, stat_keys_read(st, txn, &w));
	return w.stop ? w.stop : rc;
}

