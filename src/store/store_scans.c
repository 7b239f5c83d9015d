/*
 * store_scans.c - a scan committed: the log append, the judge's verdict,
 * the code's new state, and what hangs off them.
 *
 * Owns the write side of the scan log (store_scans_commit, a group commit
 * of many scans in one transaction; store_scan_locate, a location stored
 * later) and the reads that combine the log with the pending layer
 * (store_code_state, store_code_scans). Writes scans, scan_locs,
 * code_scans (through the pending layer) and the meta counters next_scan,
 * stat/scans, stat/bots, stat/codes_scanned and stat/verdict/<n>.
 * May call: libc, LMDB, util.c, store_env.c, store_scanlog.c (encodings,
 * state rows), store_regions.c (region_resolve: a scan's place becomes
 * its region id in the scan's transaction), store_state.c (the pending layer), store_trace.c
 * (scan_alerts: an alert is written in its scan's transaction),
 * store_segments.c (segfacts_scan: what segments read of the scan),
 * store_redirects.c (device_loc_put: a device's last place, with its
 * location) and the dashboard counters (stats_scan, stats_locate, stats_flush), which are
 * kept in the same transaction.
 * Must never: be called by any of those (it is the top of the scan
 * path), let the judge touch the store, or write a state it could not
 * read back (more than STORE_SCANNERS_MAX scanners).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "sigil/code.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "store_impl.h"

struct commit_arg {
	const struct scan_rec	*in;
	struct scan_rec		*work;
	size_t			 n;
	store_judge_fn		 judge;
	void			*arg;
	struct pend_round	*round;
	size_t			 merge_max;
	size_t			 merge_pos;	/* out: pend_merge_some */
	uint64_t		 last_id;	/* out */
};

/*
 * The log append, the round's states and counters; the states go to the
 * pending layer after the commit (store_state.c), and the round also
 * merges a chunk of an older generation into code_state, so that one
 * sync carries both.
 */
static int
scans_commit_fn(struct store *st, MDB_txn *txn, void *p)
{
	struct commit_arg *a = p;
	uint64_t next, scans = 0, bots = 0, verdicts[SCAN_VERDICTS] = { 0 }, scanned = 0;
	uint64_t first;
	uint8_t kb[8], ck[CODE_KEY_LEN], vb[SCAN_REC_REGION_LEN];
	uint8_t lb[SCAN_LOC_LEN];
	MDB_val nk = meta_key("next_scan"), k, v;
	MDB_cursor *cur;
	struct code_state *cs;
	struct stat_acc acc = { 0 };	/* store_counters.c */
	char name[32];
	size_t ri;
	int rc;

	memcpy(a->work, a->in, a->n * sizeof(*a->work));
	pend_round_reset(a->round);
	if ((rc = meta_get(st, txn, nk, &next)) != 0)
		return rc;
	if (next == 0)
		next = 1;
	if ((rc = mdb_cursor_open(txn, st->scans, &cur)) != 0)
		return rc;
	for (size_t i = 0; i < a->n; i++) {
		struct scan_rec *r = &a->work[i];

		r->id = next++;
		r->region = r->region_province = 0;
		if (r->place != NULL && r->place->country[0] != '\0' &&
		    !st->regions_absent && (rc = region_resolve(st, txn,
		    r->place, &r->region, &r->region_province)) != 0)
			goto out;
		r->place = NULL;
		if (r->brand_id != 0) {
			int was_scanned;

			code_key_put(ck, r->brand_id, r->serial);
			if ((rc = pend_round_state(st, txn, a->round, ck, &cs,
			    &ri)) != 0)
				goto out;
			was_scanned = cs->first_at != 0;
			first = cs->first_scan_id;
			if (a->judge)
				a->judge(a->arg, i, r, cs);
			/* judge is outside code; refuse a state we could not
			 * read back. */
			if (cs->n_scanners > STORE_SCANNERS_MAX) {
				rc = SIGIL_EINVAL;
				goto out;
			}
			if ((rc = scan_alerts(st, txn, r, r->flags, r->at)) != 0)
				goto out;
			/* segment criteria: the device's scan facts */
			if ((rc = segfacts_scan(st, txn, r)) != 0)
				goto out;
			{
				/* first_scans counts codes: a first scan that
				 * took over (store_state_first) is not one. */
				struct scan_rec sr = *r;

				if (was_scanned)
					sr.flags &= ~SCAN_FIRST;
				if ((rc = stats_scan(st, txn, &acc, &sr)) != 0)
					goto out;
			}
			/*
			 * A code's first human scan is named by its state
			 * (first_scan_id), so it needs no index row: most
			 * codes are scanned once, and this row would be the
			 * largest per-scan cost after the log itself.
			 */
			if (cs->first_scan_id != r->id)
				pend_round_id(a->round, ri, r->id);
			else if (first != 0)
				/* It took over (store_state_first): the old
				 * first scan needs its row now. */
				pend_round_id(a->round, ri, first);
			scanned += !was_scanned && cs->first_at != 0;
		} else if (r->attr_brand != 0) {
			/* Counted and alerted for the brand its tag names;
			 * no per-code state (scan_rec.attr_brand). */
			if ((rc = scan_alerts(st, txn, r, 0, r->at)) != 0 ||
			    (rc = stats_scan(st, txn, &acc, r)) != 0)
				goto out;
		}
		if (r->verdict >= SCAN_VERDICTS) {
			rc = SIGIL_EINVAL;
			goto out;
		}
		sigil_be64_put(kb, r->id);
		k = mval(kb, 8);
		if (r->flags & SCAN_HAS_LOC) {
			if (!loc_valid(r->lat, r->lng)) {
				rc = SIGIL_EINVAL;
				goto out;
			}
			loc_encode(lb, r->lat, r->lng, r->accuracy_m, r->at);
			v = mval(lb, SCAN_LOC_LEN);
			if ((rc = mdb_put(txn, st->scan_locs, &k, &v,
			    MDB_NOOVERWRITE)) != 0)
				goto out;
		}
		v = mval(vb, scan_encode(r, vb));
		if ((rc = mdb_cursor_put(cur, &k, &v, MDB_APPEND)) != 0)
			goto out;
		scans++;
		if (r->flags & SCAN_BOT)
			bots++;
		else
			verdicts[r->verdict]++;
	}
	a->last_id = next - 1;
	if ((rc = meta_put(st, txn, nk, next)) != 0 ||
	    (rc = meta_add(st, txn, "stat/scans", scans)) != 0 ||
	    (rc = meta_add(st, txn, "stat/bots", bots)) != 0 ||
	    (rc = meta_add(st, txn, "stat/codes_scanned", scanned)) != 0 ||
	    (rc = stats_flush(st, txn, &acc)) != 0)
		goto out;
	for (int i = 0; i < SCAN_VERDICTS; i++) {
		snprintf(name, sizeof(name), "stat/verdict/%d", i);
		if ((rc = meta_add(st, txn, name, verdicts[i])) != 0)
			goto out;
	}
	if (a->merge_max > 0)
		rc = pend_merge_some(st, txn, a->merge_max, &a->merge_pos);
out:
	mdb_cursor_close(cur);
	return rc;
}

int
store_scans_commit(struct store *st, struct scan_rec *recs, size_t n,
    store_judge_fn judge, void *arg)
{
	struct commit_arg a = { recs, NULL, n, judge, arg, NULL, 0, 0, 0 };
	int rc;

	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (recs[i].serial > CODE_SERIAL_MAX ||
		    recs[i].batch_id > UINT32_MAX)
			return SIGIL_EINVAL;
	if (st->flags & STORE_RDONLY)
		return SIGIL_EDENIED;
	if ((a.work = malloc(n * sizeof(*a.work))) == NULL)
		return SIGIL_ENOMEM;
	if ((rc = pend_round_new(n, &a.round)) != 0)
		goto out;
	pthread_mutex_lock(&st->state_write_mu);
	if ((rc = pend_ready_locked(st)) == 0 &&
	    (rc = pend_reserve(st, n)) == 0) {
		a.merge_max = pend_merge_due(st, n);
		if ((rc = store_write(st, scans_commit_fn, &a)) == 0) {
			pend_round_apply(st, a.round, a.last_id);
			if (a.merge_max > 0)
				pend_merged(st, a.merge_pos);
		} else
			pend_invalidate(st);
	}
	pthread_mutex_unlock(&st->state_write_mu);
	if (rc == 0)
		memcpy(recs, a.work, n * sizeof(*recs));
	pend_round_free(a.round);
out:
	free(a.work);
	return rc;
}

struct locate_arg {
	uint64_t	 id;
	float		 lat, lng;
	uint16_t	 accuracy_m;
	int64_t		 now;
	store_judge_fn	 judge;
	void		*arg;
	struct scan_rec	 rec;
	struct code_state cs;		/* out: the judged state */
};

/*
 * Flags the judge adds at locate time (a diversion, impossible travel) go
 * into a 19th byte of the scan_locs value, because the log record is
 * never rewritten; they also raise alerts. Flags already in the log were
 * alerted at commit and are not alerted again. Of the judged state only
 * what a location changes (last place, sticky flags) is written to
 * code_state, and later to the code's pending entries: counts belong to
 * the log, which the pending layer may not have merged yet.
 */
static int
locate_fn(struct store *st, MDB_txn *txn, void *p)
{
	struct locate_arg *a = p;
	uint8_t kb[8], lb[SCAN_LOC_FLAGS_LEN], ck[CODE_KEY_LEN];
	MDB_val k = mval(kb, 8), v;
	struct stat_acc acc = { 0 };
	unsigned before, added;
	int rc;

	if ((rc = scan_load(st, txn, a->id, &a->rec)) != 0)
		return rc;
	if (a->rec.flags & SCAN_HAS_LOC)
		return SIGIL_EEXIST;
	sigil_be64_put(kb, a->id);
	a->rec.lat = a->lat;
	a->rec.lng = a->lng;
	a->rec.accuracy_m = a->accuracy_m;
	a->rec.flags |= SCAN_HAS_LOC;
	before = a->rec.flags;
	if (a->rec.brand_id != 0) {
		code_key_put(ck, a->rec.brand_id, a->rec.serial);
		if ((rc = pend_view_w(st, txn, ck, &a->cs)) != 0)
			return rc;
		if (a->judge)
			a->judge(a->arg, 0, &a->rec, &a->cs);
		if (a->cs.n_scanners > STORE_SCANNERS_MAX)
			return SIGIL_EINVAL;
		if ((rc = pend_locate_base(st, txn, ck, &a->cs)) != 0)
			return rc;
	}
	added = a->rec.flags & ~before;
	loc_encode(lb, a->lat, a->lng, a->accuracy_m, a->now);
	lb[18] = (uint8_t)(added & LOC_FLAGS_KEPT);
	/* Older readers know 18 bytes: write 19 only when there is a flag. */
	v = mval(lb, lb[18] ? SCAN_LOC_FLAGS_LEN : SCAN_LOC_LEN);
	if ((rc = mdb_put(txn, st->scan_locs, &k, &v, MDB_NOOVERWRITE)) != 0)
		return rc;
	/* GPS wins: the address's region no longer counts the scan. */
	if ((rc = stats_region(st, txn, &acc, &a->rec, -1)) != 0)
		return rc;
	if (a->rec.brand_id == 0) {
		/* An attributed scan's place: its brand's map and alert. */
		if ((rc = stats_locate(st, txn, &acc, &a->rec, 0)) != 0 ||
		    (rc = scan_alert_place(st, txn, &a->rec)) != 0)
			return rc;
		return stats_flush(st, txn, &acc);
	}
	if ((rc = device_loc_put(st, txn, a->rec.brand_id, a->rec.device,
	    a->lat, a->lng, a->now)) != 0 ||
	    (rc = scan_alerts(st, txn, &a->rec, added, a->now)) != 0 ||
	    (rc = stats_locate(st, txn, &acc, &a->rec, added)) != 0)
		return rc;
	return stats_flush(st, txn, &acc);
}

int
store_scan_locate(struct store *st, uint64_t scan_id, float lat,
    float lng, uint16_t accuracy_m, store_judge_fn judge, void *arg,
    struct scan_rec *out)
{
	struct locate_arg a = { scan_id, lat, lng, accuracy_m, sigil_now_us(),
	    judge, arg, { 0 }, { 0 } };
	uint8_t ck[CODE_KEY_LEN];
	int rc;

	if (!loc_valid(lat, lng))
		return SIGIL_EINVAL;
	if (st->flags & STORE_RDONLY)
		return SIGIL_EDENIED;
	pthread_mutex_lock(&st->state_write_mu);
	if ((rc = pend_ready_locked(st)) == 0 &&
	    (rc = store_write(st, locate_fn, &a)) == 0) {
		if (a.rec.brand_id != 0) {
			code_key_put(ck, a.rec.brand_id, a.rec.serial);
			pend_locate_apply(st, ck, &a.cs);
		}
	} else if (rc != SIGIL_ENOTFOUND && rc != SIGIL_EEXIST)
		pend_invalidate(st);
	pthread_mutex_unlock(&st->state_write_mu);
	if (rc != 0)
		return rc;
	if (out)
		*out = a.rec;
	return 0;
}

/* code_state's row of key: SIGIL_ENOTFOUND when there is none. */
static int
state_row(struct store *st, MDB_txn *txn, const uint8_t *key,
    struct code_state *out)
{
	MDB_val k = mval(key, CODE_KEY_LEN), v;
	int rc;

	if ((rc = mdb_get(txn, st->code_state, &k, &v)) != 0)
		return rc;
	return state_decode(st, txn, v, out);
}

int
store_code_state(struct store *st, uint32_t brand_id, uint64_t serial,
    struct code_state *out)
{
	uint8_t ck[CODE_KEY_LEN];
	int rc;

	if (serial > CODE_SERIAL_MAX)
		return SIGIL_ENOTFOUND;
	code_key_put(ck, brand_id, serial);
	if ((rc = pend_ready(st)) != 0)
		return rc;
	/* Pending first, then the snapshot: see pend_view. */
	if ((rc = pend_view(st, ck, out, NULL, NULL)) != 0)
		return rc > 0 ? 0 : rc;
	return STORE_READ(st, state_row(st, txn, ck, out));
}

/* Appends id to the growing array *ids. */
/*
 * The scans of code key ck in id order, to fn until it returns nonzero
 * (*stop). ids holds the pending layer's ids of the code already, and
 * pending (NULL: none) its pending state.
 */
static int
code_scans_walk(struct store *st, MDB_txn *txn, const uint8_t *ck,
    const struct code_state *pending, struct u64vec *ids,
    int (*fn)(void *arg, const struct scan_rec *r), void *arg, int *stop)
{
	struct code_state cs;
	struct scan_rec r;
	int rc;

	if ((rc = state_load(st, txn, ck, &cs)) != 0)
		return rc;
	if (pending)
		cs = *pending;
	if ((cs.first_scan_id != 0 &&
	    (rc = u64vec_push(ids, cs.first_scan_id)) != 0) ||
	    (rc = dups_collect(txn, st->code_scans, mval(ck, CODE_KEY_LEN),
	    ids)) != 0)
		return rc;
	if (ids->n > 1)
		qsort(ids->v, ids->n, sizeof(*ids->v), u64_cmp);
	for (size_t i = 0; i < ids->n && *stop == 0; i++) {
		if (i > 0 && ids->v[i] == ids->v[i - 1])
			continue;
		if ((rc = scan_load(st, txn, ids->v[i], &r)) != 0)
			return rc;
		*stop = fn(arg, &r);
	}
	return 0;
}

/*
 * A code's scan ids come from three places: its code_scans rows, its
 * first human scan (named by its state, never indexed), and the pending
 * layer's ids not merged yet. A merge may commit between the pending
 * look and the snapshot, so the same id can come twice: sort, then skip
 * repeats.
 */
int
store_code_scans(struct store *st, uint32_t brand_id, uint64_t serial,
    int (*fn)(void *arg, const struct scan_rec *r), void *arg)
{
	uint8_t ck[CODE_KEY_LEN];
	struct code_state pcs;
	struct u64vec ids = { NULL, 0, 0 };
	int rc, pending, stop = 0;

	if (serial > CODE_SERIAL_MAX)
		return 0;
	code_key_put(ck, brand_id, serial);
	if ((rc = pend_ready(st)) != 0)
		return rc;
	if ((pending = pend_view(st, ck, &pcs, &ids.v, &ids.n)) < 0)
		return pending;
	ids.cap = ids.n;
	rc = STORE_READ(st, code_scans_walk(st, txn, ck, pending ? &pcs : NULL,
	    &ids, fn, arg, &stop));
	free(ids.v);
	return stop ? stop : rc;
}
