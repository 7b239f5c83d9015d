/*
 * store_retention.c - a brand's retention period: what a scan keeps once
 * it is older than the period.
 *
 * A scan's personal data is its device id (a random cookie id), its IP
 * address and, when the consumer shared it, a precise location. After the
 * brand's period (docs/api.md, "Retention") the address is cut to its
 * network (IPv4 /24, IPv6 /48) and the location loses its coordinates;
 * what the brand counts on (the time, the code, the verdict and its
 * flags, the device, the 1-degree cells of the dashboard counters and
 * the region) stays, so counts and verdicts do not move.
 *
 * The log is read from the brand's cursor (meta retention/<brand BE32>,
 * the last scan id the brand's retention has passed) in key order, a
 * bounded chunk per call, each call one write transaction, so a scan
 * waits at most for one chunk. The walk stops at the first record at or
 * after the cutoff: ids grow with time, and a record left because its
 * clock was behind is taken the next day. It never passes state/through
 * (what code_state has merged): a scan still in the pending layer can be
 * replayed after a crash, and the replay must read what the judge read
 * (an IPv6 scan's network is its /64). A step that stops there says so
 * (blocked) and the job merges pending state before its next step.
 *
 * Per scan of the brand, in the chunk's transaction:
 *   scans       the IP bytes cut (same size: LMDB writes it in place);
 *               the region id of a 52-byte record (the place the
 *               address gave at record time, store_regions.c) stays:
 *               it is what the scan's place is reduced to;
 *   scan_locs   lat, lng, accuracy zeroed at the same size, then the
 *               19-byte form with LOC_REDUCED in its flags byte (time
 *               and verdict flags kept; readers see no location);
 *   code_state  the code's last place, when it is older than the cutoff
 *               (after a day no travel can be impossible: 24 h at
 *               SCAN_MAX_SPEED_KMH passes any distance on Earth, so no
 *               future verdict needed it); its pending entries after the
 *               commit (pend_unlocate);
 *   alerts      the brand's alerts whose place came from the scan: lat,
 *               lng zeroed (an alert without a place);
 *   device_locs the device's last place, when it is as old: deleted.
 * The pages this frees and the log's copies are zeroed by store_scrub,
 * which the caller runs after the last chunk (scrub/pending is set in
 * the chunk's transaction so that a crash before then scrubs at start).
 *
 * Owns the meta keys retention/<brand>. May call: libc, LMDB, util.c,
 * store_env.c, store_scanlog.c (code_state rows) and store_state.c (the
 * pending entries). Rewrites rows of scans, scan_locs, code_state,
 * alerts and device_locs in its own transaction; never calls the files
 * that own them beyond those, nor commits anything but its own write.
 */
#include <stdlib.h>
#include <string.h>

#include "sigil/store.h"
#include "store_impl.h"

#define REC_BRAND	8
#define REC_SERIAL	12
#define REC_DEVICE	21
#define REC_IP		29
#define REC_FLAGS	46

#define ALERT_OLD_LEN	45	/* before alert_codes: scan_id at 21 */
#define ALERT_LEN	86	/* loc_scan at 78 */
#define ALERT_LAT	37
#define DEVLOC_LEN	16

static const uint8_t v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0xff, 0xff };

void
store_ip_truncate(uint8_t ip[16])
{
	if (memcmp(ip, v4_mapped, 12) == 0)
		ip[15] = 0;
	else
		memset(ip + 6, 0, 10);
}

int
store_ip_truncated(const uint8_t ip[16])
{
	uint8_t t[16];

	memcpy(t, ip, 16);
	store_ip_truncate(t);
	return memcmp(t, ip, 16) == 0;
}

static void
cursor_key(uint8_t kb[14], uint32_t brand_id)
{
	memcpy(kb, "retention/", 10);
	sigil_be32_put(kb + 10, brand_id);
}

/* A scan whose precise data this chunk cuts, copied out of the walk. */
struct cut {
	uint64_t	id;
	size_t		len;	/* 48, or 52 with the region id (kept) */
	uint8_t		rec[SCAN_REC_REGION_LEN];
};

static int
rec_len_ok(size_t n)
{
	return n == SCAN_REC_LEN || n == SCAN_REC_REGION_LEN;
}

struct step_ctx {
	uint32_t	brand_id;
	int64_t		cutoff;
	unsigned	max;
	/* out, valid once the transaction committed */
	struct store_retention_step res;
	uint8_t		*codes;		/* CODE_KEY_LEN each: unlocate */
	size_t		ncodes;
};

/* The last log id whose record is before cutoff, or 0 (a binary search). */
static int
boundary(struct store *st, MDB_txn *txn, int64_t cutoff, uint64_t lo,
    uint64_t hi, uint64_t *out)
{
	MDB_cursor *c;
	MDB_val k, v;
	uint8_t kb[8];
	int rc = 0;

	*out = lo;
	if ((rc = mdb_cursor_open(txn, st->scans, &c)) != 0)
		return rc;
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo + 1) / 2, id;

		sigil_be64_put(kb, mid);
		k = mval(kb, 8);
		if ((rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE)) != 0 ||
		    k.mv_size != 8 || !rec_len_ok(v.mv_size)) {
			if (rc == 0 || rc == MDB_NOTFOUND) {
				hi = mid - 1;
				rc = 0;
				continue;
			}
			break;
		}
		id = sigil_be64_get(k.mv_data);
		if (id > hi ||
		    (int64_t)le64_get(v.mv_data) >= cutoff)
			hi = mid - 1;
		else
			lo = id;
	}
	mdb_cursor_close(c);
	*out = lo;
	return rc;
}

/* The merged end of the log: no scan past it is cut (a replay reads it). */
static int
merged_end(struct store *st, MDB_txn *txn, uint64_t *out)
{
	MDB_val k = meta_key("state/through"), v;
	int rc = mdb_get(txn, st->meta, &k, &v);

	if (rc == MDB_NOTFOUND) {
		rc = meta_get(st, txn, meta_key("next_scan"), out);
		*out = *out ? *out - 1 : 0;
		return rc;
	}
	if (rc != 0)
		return rc;
	if (v.mv_size != 8)
		return SIGIL_EIO;
	*out = le64_get(v.mv_data);
	return 0;
}

static int
codes_add(struct step_ctx *x, const uint8_t *ck)
{
	uint8_t *n;

	for (size_t i = 0; i < x->ncodes; i++)
		if (memcmp(x->codes + i * CODE_KEY_LEN, ck, CODE_KEY_LEN) == 0)
			return 0;
	if ((n = realloc(x->codes, (x->ncodes + 1) * CODE_KEY_LEN)) == NULL)
		return SIGIL_ENOMEM;
	x->codes = n;
	memcpy(x->codes + x->ncodes++ * CODE_KEY_LEN, ck, CODE_KEY_LEN);
	return 0;
}

/* The code's last place, gone when it is before the cutoff. */
static int
state_unlocate(struct store *st, MDB_txn *txn, const uint8_t *ck,
    int64_t cutoff)
{
	struct code_state cs;
	int rc;

	if ((rc = state_load(st, txn, ck, &cs)) != 0)
		return rc;
	if (cs.last_loc_at == 0 || cs.last_loc_at >= cutoff)
		return 0;
	cs.last_loc_at = 0;
	cs.last_lat = 0;
	cs.last_lng = 0;
	return state_store(st, txn, ck, &cs);
}

/* The alert of key (code key ‖ type), its place zeroed if scan's. */
static int
alert_unlocate(struct store *st, MDB_txn *txn, const uint8_t *ak,
    uint64_t scan_id)
{
	uint8_t idb[8], vb[ALERT_LEN];
	MDB_val k = mval(ak, CODE_KEY_LEN + 1), v;
	size_t n;
	int rc;

	if (st->alert_codes_absent)
		return 0;
	if ((rc = mdb_get(txn, st->alert_codes, &k, &v)) != 0)
		return rc == MDB_NOTFOUND ? 0 : rc;
	if (v.mv_size != 8)
		return SIGIL_EIO;
	memcpy(idb, v.mv_data, 8);
	k = mval(idb, 8);
	if ((rc = mdb_get(txn, st->alerts, &k, &v)) != 0)
		return rc == MDB_NOTFOUND ? 0 : rc;
	n = v.mv_size;
	if (n != ALERT_LEN && n != ALERT_OLD_LEN)
		return 0;
	if (le64_get((const uint8_t *)v.mv_data + (n == ALERT_LEN ? 78 : 21))
	    != scan_id)
		return 0;
	/* v points into the map: copied before the put. */
	memcpy(vb, v.mv_data, n);
	memset(vb + ALERT_LAT, 0, 8);
	v = mval(vb, n);
	return mdb_put(txn, st->alerts, &k, &v, 0);
}

/* The device's last place, deleted when it is before the cutoff. */
static int
devloc_forget(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t device, int64_t cutoff)
{
	uint8_t kb[12];
	MDB_val k = mval(kb, 12), v;
	int rc;

	if (st->redirects_absent || device == 0)
		return 0;
	sigil_be32_put(kb, brand_id);
	sigil_be64_put(kb + 4, device);
	if ((rc = mdb_get(txn, st->device_locs, &k, &v)) != 0)
		return rc == MDB_NOTFOUND ? 0 : rc;
	if (v.mv_size == DEVLOC_LEN &&
	    (int64_t)le64_get((const uint8_t *)v.mv_data + 8) >= cutoff)
		return 0;
	return mdb_del(txn, st->device_locs, &k, NULL);
}

/* One scan's location: coordinates gone, time and flags kept. */
static int
loc_reduce(struct store *st, MDB_txn *txn, struct step_ctx *x,
    const struct cut *c)
{
	uint8_t kb[8], lb[SCAN_LOC_FLAGS_LEN], ck[CODE_KEY_LEN + 1];
	MDB_val k = mval(kb, 8), v;
	uint16_t flags = le16_get(c->rec + REC_FLAGS);
	uint64_t serial = 0;
	size_t n;
	int rc;

	sigil_be64_put(kb, c->id);
	if ((rc = mdb_get(txn, st->scan_locs, &k, &v)) != 0)
		return rc == MDB_NOTFOUND ? 0 : rc;
	n = v.mv_size;
	if (n != SCAN_LOC_LEN && n != SCAN_LOC_FLAGS_LEN)
		return SIGIL_EIO;
	if (n == SCAN_LOC_FLAGS_LEN &&
	    (((const uint8_t *)v.mv_data)[18] & LOC_REDUCED))
		return 0;
	memcpy(lb, v.mv_data, n);
	memset(lb, 0, 10);		/* lat, lng, accuracy */
	v = mval(lb, n);
	if ((rc = mdb_put(txn, st->scan_locs, &k, &v, 0)) != 0)
		return rc;
	lb[18] = (uint8_t)((n == SCAN_LOC_FLAGS_LEN ? lb[18] : 0) |
	    LOC_REDUCED);
	v = mval(lb, SCAN_LOC_FLAGS_LEN);
	if ((rc = mdb_put(txn, st->scan_locs, &k, &v, 0)) != 0)
		return rc;
	x->res.unlocated++;
	/* A scan of no brand has no code state, alert or device place. */
	if (x->brand_id == 0)
		return 0;

	for (int i = 4; i >= 0; i--)
		serial = serial << 8 | c->rec[REC_SERIAL + i];
	if (flags & SCAN_ATTRIBUTED) {
		/* A forged tag: the brand's one counterfeit alert. */
		code_key_put(ck, x->brand_id, 0);
		ck[CODE_KEY_LEN] = ALERT_COUNTERFEIT;
		if ((rc = alert_unlocate(st, txn, ck, c->id)) != 0)
			return rc;
	} else {
		code_key_put(ck, x->brand_id, serial);
		if ((rc = state_unlocate(st, txn, ck, x->cutoff)) != 0 ||
		    (rc = codes_add(x, ck)) != 0)
			return rc;
		for (uint8_t t = ALERT_CLONE_SCANNERS; t <= ALERT_DIVERSION;
		    t++) {
			ck[CODE_KEY_LEN] = t;
			if ((rc = alert_unlocate(st, txn, ck, c->id)) != 0)
				return rc;
		}
	}
	return devloc_forget(st, txn, x->brand_id,
	    le64_get(c->rec + REC_DEVICE), x->cutoff);
}

static int
retention_fn(struct store *st, MDB_txn *txn, void *arg)
{
	struct step_ctx *x = arg;
	uint8_t ckey[14], kb[8];
	MDB_cursor *cur;
	MDB_val k, v;
	struct cut *cuts = NULL;
	size_t ncuts = 0;
	uint64_t cursor = 0, end = 0, last, edge = 0, top = 0;
	uintptr_t lastpage = 0;
	size_t psize, cap;
	MDB_stat ms;
	int rc;

	/* A rerun (map growth) starts over. */
	free(x->codes);
	x->codes = NULL;
	x->ncodes = 0;
	memset(&x->res, 0, sizeof x->res);
	cursor_key(ckey, x->brand_id);
	if ((rc = meta_get(st, txn, mval(ckey, 14), &cursor)) != 0 ||
	    (rc = merged_end(st, txn, &end)) != 0)
		return rc;
	last = cursor;
	if ((rc = mdb_env_stat(st->env, &ms)) != 0)
		return rc;
	psize = ms.ms_psize;
	/* The chunk, and the rest of its last leaf page. */
	cap = x->max + psize / SCAN_REC_LEN + 1;
	if ((cuts = calloc(cap, sizeof *cuts)) == NULL)
		return SIGIL_ENOMEM;
	if ((rc = mdb_cursor_open(txn, st->scans, &cur)) != 0)
		goto out;
	sigil_be64_put(kb, cursor + 1);
	k = mval(kb, 8);
	x->res.done = 1;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const uint8_t *p = v.mv_data;
		uint64_t id;

		if (k.mv_size != 8 || !rec_len_ok(v.mv_size)) {
			rc = SIGIL_EIO;
			break;
		}
		id = sigil_be64_get(k.mv_data);
		if ((int64_t)le64_get(p) >= x->cutoff)
			break;
		if (id > end) {
			x->res.blocked = 1;
			x->res.done = 0;
			break;
		}
		/*
		 * A chunk ends with a leaf page: the copy of a page this
		 * transaction made must not keep full addresses of the
		 * brand's due scans, since LMDB reuses its dirty-page
		 * buffers without clearing them (their stale bytes land in
		 * the free gaps of pages written later, past the scrub).
		 */
		if (x->res.examined >= x->max &&
		    ((uintptr_t)p & ~(uintptr_t)(psize - 1)) != lastpage) {
			x->res.done = 0;
			break;
		}
		if (x->res.examined == cap) {
			x->res.done = 0;	/* (a page holds fewer) */
			break;
		}
		lastpage = (uintptr_t)p & ~(uintptr_t)(psize - 1);
		x->res.examined++;
		last = id;
		if (le32_get(p + REC_BRAND) != x->brand_id)
			continue;
		cuts[ncuts].id = id;
		cuts[ncuts].len = v.mv_size;
		memcpy(cuts[ncuts].rec, p, v.mv_size);
		ncuts++;
	}
	mdb_cursor_close(cur);
	if (rc == MDB_NOTFOUND)
		rc = 0;
	if (rc != 0)
		goto out;
	/* The rewrites, after the walk: no cursor on a table being put. */
	for (size_t i = 0; i < ncuts; i++) {
		struct cut *c = &cuts[i];

		if (!store_ip_truncated(c->rec + REC_IP)) {
			store_ip_truncate(c->rec + REC_IP);
			k = mval(kb, 8);
			sigil_be64_put(kb, c->id);
			v = mval(c->rec, c->len);
			if ((rc = mdb_put(txn, st->scans, &k, &v, 0)) != 0)
				goto out;
		}
		if ((rc = loc_reduce(st, txn, x, c)) != 0)
			goto out;
		x->res.reduced++;
	}
	if (last != cursor &&
	    (rc = meta_put(st, txn, mval(ckey, 14), last)) != 0)
		goto out;
	if ((ncuts > 0 || x->res.unlocated > 0) &&
	    (rc = meta_put(st, txn, meta_key("scrub/pending"), 1)) != 0)
		goto out;
	/* The backlog counts the records not merged yet too. */
	if ((rc = meta_get(st, txn, meta_key("next_scan"), &top)) != 0 ||
	    (rc = boundary(st, txn, x->cutoff, last, top ? top - 1 : 0,
	    &edge)) != 0)
		goto out;
	x->res.cursor = last;
	x->res.backlog = edge > last ? edge - last : 0;
	if (x->res.backlog > 0 || x->res.blocked)
		x->res.done = 0;
out:
	free(cuts);
	return rc;
}

int
store_retention_step(struct store *st, uint32_t brand_id, int64_t cutoff,
    unsigned max, struct store_retention_step *out)
{
	struct step_ctx x = { brand_id, cutoff, max, { 0 }, NULL, 0 };
	int rc;

	if (max == 0)
		return SIGIL_EINVAL;
	if ((rc = store_write(st, retention_fn, &x)) == 0) {
		for (size_t i = 0; i < x.ncodes; i++)
			pend_unlocate(st, x.codes + i * CODE_KEY_LEN, cutoff);
		*out = x.res;
	}
	free(x.codes);
	return rc;
}

static int
cursor_get(struct store *st, MDB_txn *txn, uint32_t brand_id, uint64_t *out)
{
	uint8_t kb[14];

	cursor_key(kb, brand_id);
	return meta_get(st, txn, mval(kb, 14), out);
}

int
store_retention_cursor(struct store *st, uint32_t brand_id, uint64_t *out)
{
	uint64_t v = 0;
	int rc = STORE_READ(st, cursor_get(st, txn, brand_id, &v));

	if (rc == 0)
		*out = v;
	return rc;
}
