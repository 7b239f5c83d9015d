/*
 * store.c - every byte sigil keeps, in one LMDB environment.
 *
 * Owns the environment, its named databases and their encodings (the byte
 * layouts are in docs/storage.md; the comments here say why, not what).
 * It may call libc, pthreads, LMDB, jansson and util.c; it must never call
 * another sigil module, log anything, or hand out a pointer into the map:
 * every value is decoded into caller memory before its transaction ends.
 *
 * Writes. Every write function is a closure run by store_write(): begin a
 * write transaction, run the closure, commit. A closure never changes
 * caller memory; it fills a context that is copied out only after the
 * commit succeeded, because a commit that fails with MDB_MAP_FULL is
 * retried from scratch after the map has doubled. Doubling calls
 * mdb_env_set_mapsize(), which LMDB allows only while no transaction of
 * this process is active: every transaction is therefore bracketed by a
 * shared hold on grow_lock and growth takes it exclusively. The lock
 * prefers writers, so a growth is not starved by a stream of readers.
 *
 * Reads. Each thread keeps one read transaction per store (a pthread key
 * whose destructor frees the reader slot when the thread exits); a read
 * call renews it, copies what it needs and resets it. The environment is
 * opened MDB_NOTLS so that reader slots belong to transactions, not
 * threads. A read nested inside another (a callback of *_each calling
 * store_brand_get) reuses the active snapshot instead of taking a second
 * one. store_scan_each walks the append-only log in chunks, releasing its
 * snapshot between chunks: an export of millions of scans then neither
 * pins old pages (which would bloat the file) nor blocks map growth.
 *
 * Another process (the sigil CLI next to a running sigild) may grow the
 * map; LMDB then reports MDB_MAP_RESIZED at begin and we adopt the new
 * size under the exclusive lock and begin again.
 *
 * Counters for store_stats live in the meta database and are updated in
 * the transaction that changes what they count, so stats never scan.
 *
 * Traceability (tokens, distributors, aggregation, shipments, the event
 * log, alerts) lives in tables added after schema 1 without touching any
 * existing encoding: a read-write open creates them, a read-only open of
 * an older store reads them as empty (trace_absent). Each multi-code
 * operation validates everything before its first write, so a refusal is
 * clean even before the abort, and bulk writes go in key order so LMDB
 * can append instead of search.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <lmdb.h>

#include "sigil/code.h"
#include "sigil/fault.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "store_impl.h"

#define SCAN_EACH_CHUNK		1024

/* Packed value sizes; layouts in docs/storage.md. */
#define SCAN_REC_LEN		48
#define SCAN_LOC_LEN		18
#define CODE_STATE_BASE		29
#define CODE_STATE_LOC		16	/* optional last-location block */
#define CODE_STATE_HAS_LOC	0x80	/* in the scanner-count byte */
#define CODE_STATE_SHORT	8	/* scan id BE64: see state_short() */
#define CODE_STATE_HAS_NETS	0x40	/* in the scanner-count byte */
#define CODE_STATE_NETS		17	/* first_net, cleared_through, m */
#define CODE_STATE_NET		16	/* per network: key, anon_at */
#define CODE_STATE_MAX		(CODE_STATE_BASE + 8 * STORE_SCANNERS_MAX + \
				    CODE_STATE_LOC + CODE_STATE_NETS + \
				    CODE_STATE_NET * STORE_NETS_MAX)
#define SCAN_LOC_FLAGS_LEN	19	/* scan_locs with a locate-time flags byte */
#define LOC_FLAGS_KEPT		(SCAN_DIVERSION | SCAN_CLONE_SCANNERS | \
				    SCAN_CLONE_TRAVEL)
#define DIST_FIXED_LEN		10
#define SHIPMENT_LEN		40
#define EVENT_FIXED_LEN		53
#define ALERT_REC_LEN		45
#define TRACE_DEPTH_MAX		1024	/* nesting levels walked upwards */

/* ---- encoding helpers ---- */

/* ---- scans ---- */

static int scan_alerts(struct store *st, MDB_txn *txn,
    const struct scan_rec *r, unsigned flags, int64_t at);

/*
 * The log record keeps no coordinates: locations are rare (consented) and
 * live in scan_locs, so the common scan does not carry 10 empty bytes.
 */
static void
scan_encode(const struct scan_rec *r, uint8_t *p)
{
	uint64_t s = r->serial;

	le64_put(p, (uint64_t)r->at);
	le32_put(p + 8, r->brand_id);
	for (int i = 0; i < 5; i++, s >>= 8)
		p[12 + i] = (uint8_t)s;
	le32_put(p + 17, (uint32_t)r->batch_id);
	le64_put(p + 21, r->device);
	memcpy(p + 29, r->ip, 16);
	p[45] = r->verdict;
	le16_put(p + 46, r->flags & ~SCAN_HAS_LOC);
}

static int
scan_decode(uint64_t id, MDB_val v, struct scan_rec *out)
{
	const uint8_t *p = v.mv_data;
	struct scan_rec r = { .id = id };

	if (v.mv_size != SCAN_REC_LEN)
		return SIGIL_EIO;
	r.at = (int64_t)le64_get(p);
	r.brand_id = le32_get(p + 8);
	for (int i = 4; i >= 0; i--)
		r.serial = r.serial << 8 | p[12 + i];
	r.batch_id = le32_get(p + 17);
	r.device = le64_get(p + 21);
	memcpy(r.ip, p + 29, 16);
	r.verdict = p[45];
	r.flags = le16_get(p + 46);
	*out = r;
	return 0;
}

static void
loc_encode(uint8_t *p, float lat, float lng, uint16_t accuracy_m,
    int64_t at)
{
	lef32_put(p, lat);
	lef32_put(p + 4, lng);
	le16_put(p + 8, accuracy_m);
	le64_put(p + 10, (uint64_t)at);
}

static int
loc_valid(float lat, float lng)
{
	return isfinite(lat) && isfinite(lng) && lat >= -90 && lat <= 90 &&
	    lng >= -180 && lng <= 180;
}

static void
loc_apply(MDB_val v, struct scan_rec *r)
{
	const uint8_t *p = v.mv_data;

	r->lat = lef32_get(p);
	r->lng = lef32_get(p + 4);
	r->accuracy_m = le16_get(p + 8);
	r->flags |= SCAN_HAS_LOC;
	if (v.mv_size == SCAN_LOC_FLAGS_LEN)
		r->flags |= p[18] & LOC_FLAGS_KEPT;
}

static int
loc_len_ok(size_t n)
{
	return n == SCAN_LOC_LEN || n == SCAN_LOC_FLAGS_LEN;
}

/* The log record of scan id alone, without its location. */
static int
scan_log_get(struct store *st, MDB_txn *txn, uint64_t id,
    struct scan_rec *out)
{
	uint8_t kb[8];
	MDB_val k = mval(kb, 8), v;
	int rc;

	sigil_be64_put(kb, id);
	if ((rc = mdb_get(txn, st->scans, &k, &v)) != 0)
		return map_err(rc);
	return scan_decode(id, v, out);
}

static int
scan_load(struct store *st, MDB_txn *txn, uint64_t id, struct scan_rec *out)
{
	uint8_t kb[8];
	MDB_val k = mval(kb, 8), v;
	struct scan_rec r;
	int rc;

	if ((rc = scan_log_get(st, txn, id, &r)) != 0)
		return rc;
	sigil_be64_put(kb, id);
	rc = mdb_get(txn, st->scan_locs, &k, &v);
	if (rc == 0 && !loc_len_ok(v.mv_size))
		return SIGIL_EIO;
	if (rc == 0)
		loc_apply(v, &r);
	else if (rc != MDB_NOTFOUND)
		return map_err(rc);
	*out = r;
	return 0;
}

/*
 * The state of a code scanned once by a person and nothing else (the
 * common case by far) is its first scan: such a row holds only the scan
 * id (CODE_STATE_SHORT bytes) and the rest is read from the log (the
 * state the replay rule makes of that one scan). state_store writes it
 * only when that reads back equal.
 */
static int
state_short(const struct code_state *s)
{
	return s->scan_count == 1 && s->n_scanners == 1 && s->bot_count == 0 &&
	    (s->flags & ~STATE_FIRST_ANON) == 0 && s->first_scan_id != 0 &&
	    s->last_loc_at == 0 && s->last_lat == 0 && s->last_lng == 0 &&
	    s->cleared_through == 0;
}

static int
state_same(const struct code_state *a, const struct code_state *b)
{
	if (a->first_at != b->first_at || a->first_scan_id != b->first_scan_id ||
	    a->scan_count != b->scan_count || a->bot_count != b->bot_count ||
	    a->n_scanners != b->n_scanners || a->last_loc_at != b->last_loc_at ||
	    a->last_lat != b->last_lat || a->last_lng != b->last_lng ||
	    a->flags != b->flags || a->n_nets != b->n_nets ||
	    a->first_net != b->first_net ||
	    a->cleared_through != b->cleared_through)
		return 0;
	for (int i = 0; i < a->n_scanners && i < STORE_SCANNERS_MAX; i++)
		if (a->scanners[i] != b->scanners[i])
			return 0;
	for (int i = 0; i < a->n_nets && i < STORE_NETS_MAX; i++)
		if (a->nets[i].key != b->nets[i].key ||
		    a->nets[i].anon_at != b->nets[i].anon_at)
			return 0;
	return 1;
}

static int
state_decode(struct store *st, MDB_txn *txn, MDB_val v,
    struct code_state *out)
{
	const uint8_t *p = v.mv_data;
	struct code_state s = { 0 };
	struct scan_rec r;
	size_t n, len, m = 0;
	int rc;

	if (v.mv_size == CODE_STATE_SHORT) {
		/* The row names a scan the log must have. */
		if ((rc = scan_log_get(st, txn, sigil_be64_get(p), &r)) != 0)
			return rc == SIGIL_ENOTFOUND ? SIGIL_EIO : rc;
		r.flags &= ~SCAN_HAS_LOC;
		r.verdict = VERDICT_GENUINE;
		store_state_apply(&s, &r);
		*out = s;
		return 0;
	}
	if (v.mv_size < CODE_STATE_BASE)
		return SIGIL_EIO;
	n = p[28] & ~(CODE_STATE_HAS_LOC | CODE_STATE_HAS_NETS);
	len = CODE_STATE_BASE + 8 * n +
	    (p[28] & CODE_STATE_HAS_LOC ? CODE_STATE_LOC : 0);
	if (p[28] & CODE_STATE_HAS_NETS) {
		if (v.mv_size < len + CODE_STATE_NETS)
			return SIGIL_EIO;
		m = p[len + 16];
		len += CODE_STATE_NETS + CODE_STATE_NET * m;
	}
	if (n > STORE_SCANNERS_MAX || m > STORE_NETS_MAX || v.mv_size != len)
		return SIGIL_EIO;
	s.first_at = (int64_t)le64_get(p);
	s.first_scan_id = le64_get(p + 8);
	s.scan_count = le32_get(p + 16);
	s.bot_count = le32_get(p + 20);
	s.flags = le32_get(p + 24);
	s.n_scanners = (uint8_t)n;
	for (size_t i = 0; i < n; i++)
		s.scanners[i] = le64_get(p + CODE_STATE_BASE + 8 * i);
	p += CODE_STATE_BASE + 8 * n;
	if (((const uint8_t *)v.mv_data)[28] & CODE_STATE_HAS_LOC) {
		s.last_loc_at = (int64_t)le64_get(p);
		s.last_lat = lef32_get(p + 8);
		s.last_lng = lef32_get(p + 12);
		p += CODE_STATE_LOC;
	}
	if (((const uint8_t *)v.mv_data)[28] & CODE_STATE_HAS_NETS) {
		s.first_net = le64_get(p);
		s.cleared_through = le64_get(p + 8);
		s.n_nets = (uint8_t)m;
		for (size_t i = 0; i < m; i++) {
			s.nets[i].key = le64_get(p + CODE_STATE_NETS +
			    CODE_STATE_NET * i);
			s.nets[i].anon_at = (int64_t)le64_get(p +
			    CODE_STATE_NETS + CODE_STATE_NET * i + 8);
		}
	}
	*out = s;
	return 0;
}

/*
 * Codes are many and mostly never located: the location block is
 * optional, and so is the network block (rows from before it have none).
 */
static size_t
state_encode(const struct code_state *s, uint8_t *p)
{
	size_t len = CODE_STATE_BASE + 8 * (size_t)s->n_scanners;
	int loc = s->last_loc_at != 0 || s->last_lat != 0 || s->last_lng != 0;
	int nets = s->n_nets != 0 || s->first_net != 0 ||
	    s->cleared_through != 0;

	le64_put(p, (uint64_t)s->first_at);
	le64_put(p + 8, s->first_scan_id);
	le32_put(p + 16, s->scan_count);
	le32_put(p + 20, s->bot_count);
	le32_put(p + 24, s->flags);
	p[28] = (uint8_t)(s->n_scanners | (loc ? CODE_STATE_HAS_LOC : 0) |
	    (nets ? CODE_STATE_HAS_NETS : 0));
	for (int i = 0; i < s->n_scanners; i++)
		le64_put(p + CODE_STATE_BASE + 8 * i, s->scanners[i]);
	if (loc) {
		le64_put(p + len, (uint64_t)s->last_loc_at);
		lef32_put(p + len + 8, s->last_lat);
		lef32_put(p + len + 12, s->last_lng);
		len += CODE_STATE_LOC;
	}
	if (nets) {
		le64_put(p + len, s->first_net);
		le64_put(p + len + 8, s->cleared_through);
		p[len + 16] = s->n_nets;
		len += CODE_STATE_NETS;
		for (int i = 0; i < s->n_nets; i++, len += CODE_STATE_NET) {
			le64_put(p + len, s->nets[i].key);
			le64_put(p + len + 8, (uint64_t)s->nets[i].anon_at);
		}
	}
	return len;
}

int
state_load(struct store *st, MDB_txn *txn, const uint8_t *key,
    struct code_state *out)
{
	MDB_val k = mval(key, CODE_KEY_LEN), v;
	int rc = mdb_get(txn, st->code_state, &k, &v);

	if (rc == MDB_NOTFOUND) {
		memset(out, 0, sizeof(*out));
		return 0;
	}
	if (rc != 0)
		return rc;
	return state_decode(st, txn, v, out);
}

int
state_store(struct store *st, MDB_txn *txn, const uint8_t *key,
    const struct code_state *s)
{
	uint8_t vb[CODE_STATE_MAX];
	MDB_val k = mval(key, CODE_KEY_LEN), v;
	struct code_state back;
	int rc;

	/* judge is outside code; refuse a state we could not read back. */
	if (s->n_scanners > STORE_SCANNERS_MAX || s->n_nets > STORE_NETS_MAX)
		return SIGIL_EINVAL;
	if (state_short(s)) {
		/* Only if the log says the same: then it reads back equal. */
		sigil_be64_put(vb, s->first_scan_id);
		v = mval(vb, CODE_STATE_SHORT);
		if ((rc = state_decode(st, txn, v, &back)) == 0 &&
		    state_same(&back, s))
			return mdb_put(txn, st->code_state, &k, &v, 0);
		if (rc != 0 && rc != SIGIL_EIO)
			return rc;
	}
	v = mval(vb, state_encode(s, vb));
	return mdb_put(txn, st->code_state, &k, &v, 0);
}

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
	uint64_t next, scans = 0, bots = 0, verdicts[5] = { 0 }, scanned = 0;
	uint64_t first;
	uint8_t kb[8], ck[CODE_KEY_LEN], vb[SCAN_REC_LEN], lb[SCAN_LOC_LEN];
	MDB_val nk = meta_key("next_scan"), k, v;
	MDB_cursor *cur;
	struct code_state *cs;
	struct stat_acc acc = { 0 };	/* dashboard counters, store_loyalty.c */
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
		}
		if (r->verdict > VERDICT_INACTIVE) {
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
		scan_encode(r, vb);
		v = mval(vb, SCAN_REC_LEN);
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
	for (int i = 0; i < 5; i++) {
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
	if (a->rec.brand_id == 0)
		return 0;
	if ((rc = scan_alerts(st, txn, &a->rec, added, a->now)) != 0 ||
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

int
store_scan_get(struct store *st, uint64_t id, struct scan_rec *out)
{
	MDB_txn *txn;
	int rc;

	if ((rc = read_begin(st, &txn)) != 0)
		return rc;
	rc = scan_load(st, txn, id, out);
	read_end(st);
	return rc;
}

int
store_code_state(struct store *st, uint32_t brand_id, uint64_t serial,
    struct code_state *out)
{
	uint8_t ck[CODE_KEY_LEN];
	MDB_val k = mval(ck, CODE_KEY_LEN), v;
	MDB_txn *txn;
	int rc;

	if (serial > CODE_SERIAL_MAX)
		return SIGIL_ENOTFOUND;
	code_key_put(ck, brand_id, serial);
	if ((rc = pend_ready(st)) != 0)
		return rc;
	/* Pending first, then the snapshot: see pend_view. */
	if ((rc = pend_view(st, ck, out, NULL, NULL)) != 0)
		return rc > 0 ? 0 : rc;
	if ((rc = read_begin(st, &txn)) != 0)
		return rc;
	rc = mdb_get(txn, st->code_state, &k, &v);
	if (rc == 0)
		rc = state_decode(st, txn, v, out);
	read_end(st);
	return map_err(rc);
}

/*
 * One chunk of store_scan_each: scans with ids from *from on, at most
 * SCAN_EACH_CHUNK of them. Moves *from past the last one seen, sets *end
 * at the end of the log and *stop to fn's value when fn stopped the walk.
 */
static int
scan_chunk(struct store *st, MDB_txn *txn, int64_t since, uint64_t *from,
    int *end, int *stop, int (*fn)(void *arg, const struct scan_rec *r),
    void *arg)
{
	MDB_cursor *cur, *lcur;
	MDB_val k, v, lk, lv;
	uint8_t kb[8];
	struct scan_rec r;
	int rc, lrc, n = 0;

	if ((rc = mdb_cursor_open(txn, st->scans, &cur)) != 0)
		return rc;
	if ((rc = mdb_cursor_open(txn, st->scan_locs, &lcur)) != 0) {
		mdb_cursor_close(cur);
		return rc;
	}
	sigil_be64_put(kb, *from);
	k = lk = mval(kb, 8);
	lrc = mdb_cursor_get(lcur, &lk, &lv, MDB_SET_RANGE);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (n++ == SCAN_EACH_CHUNK)
			break;
		if (k.mv_size != 8) {
			rc = SIGIL_EIO;
			break;
		}
		if ((rc = scan_decode(sigil_be64_get(k.mv_data), v, &r)) != 0)
			break;
		*from = r.id + 1;
		if (r.at < since)
			continue;
		/* Both tables are keyed by scan id: a merge join. */
		while (lrc == 0 && lk.mv_size == 8 &&
		    sigil_be64_get(lk.mv_data) < r.id)
			lrc = mdb_cursor_get(lcur, &lk, &lv, MDB_NEXT);
		if (lrc == 0 && lk.mv_size == 8 && loc_len_ok(lv.mv_size) &&
		    sigil_be64_get(lk.mv_data) == r.id)
			loc_apply(lv, &r);
		if ((*stop = fn(arg, &r)) != 0)
			break;
	}
	if (rc == MDB_NOTFOUND) {
		*end = 1;
		rc = 0;
	}
	mdb_cursor_close(lcur);
	mdb_cursor_close(cur);
	return rc;
}

int
store_scan_each(struct store *st, int64_t since,
    int (*fn)(void *arg, const struct scan_rec *r), void *arg)
{
	uint64_t from = 1;
	MDB_txn *txn;
	int rc = 0, end = 0, stop = 0;

	while (!end && !stop && rc == 0) {
		if ((rc = read_begin(st, &txn)) != 0)
			return rc;
		rc = scan_chunk(st, txn, since, &from, &end, &stop, fn, arg);
		read_end(st);
	}
	return stop ? stop : map_err(rc);
}

/* Counts the scans store_scan_after hands out; stops the walk at limit. */
struct scan_limit {
	size_t	left;
	int	full;
	int	(*fn)(void *arg, const struct scan_rec *r);
	void	*arg;
};

static int
scan_limit_one(void *arg, const struct scan_rec *r)
{
	struct scan_limit *l = arg;
	int stop;

	if ((stop = l->fn(l->arg, r)) != 0)
		return stop;
	if (--l->left == 0) {
		l->full = 1;
		return 1;
	}
	return 0;
}

int
store_scan_after(struct store *st, uint64_t after, size_t limit,
    int (*fn)(void *arg, const struct scan_rec *r), void *arg)
{
	struct scan_limit l = { limit, 0, fn, arg };
	uint64_t from = after + 1;
	MDB_txn *txn;
	int rc = 0, end = 0, stop = 0;

	if (limit == 0 || after == UINT64_MAX)
		return 0;
	while (!end && !stop && rc == 0) {
		if ((rc = read_begin(st, &txn)) != 0)
			return rc;
		rc = scan_chunk(st, txn, INT64_MIN, &from, &end, &stop,
		    scan_limit_one, &l);
		read_end(st);
	}
	if (l.full)
		return 0;
	return stop ? stop : map_err(rc);
}

static int
u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Appends id to the growing array *ids. */
static int
ids_push(uint64_t **ids, size_t *n, size_t *cap, uint64_t id)
{
	uint64_t *p;

	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		if ((p = realloc(*ids, *cap * sizeof(*p))) == NULL)
			return SIGIL_ENOMEM;
		*ids = p;
	}
	(*ids)[(*n)++] = id;
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
	MDB_val k = mval(ck, CODE_KEY_LEN), v;
	MDB_cursor *cur;
	MDB_txn *txn;
	struct scan_rec r;
	struct code_state cs, pcs;
	uint64_t *ids = NULL;
	size_t n = 0, cap, i;
	int rc, pending, stop = 0;

	if (serial > CODE_SERIAL_MAX)
		return 0;
	code_key_put(ck, brand_id, serial);
	if ((rc = pend_ready(st)) != 0)
		return rc;
	if ((pending = pend_view(st, ck, &pcs, &ids, &n)) < 0)
		return pending;
	cap = n;
	if ((rc = read_begin(st, &txn)) != 0) {
		free(ids);
		return rc;
	}
	if ((rc = state_load(st, txn, ck, &cs)) != 0)
		goto out;
	if (pending)
		cs = pcs;
	if (cs.first_scan_id != 0 &&
	    (rc = ids_push(&ids, &n, &cap, cs.first_scan_id)) != 0)
		goto out;
	if ((rc = mdb_cursor_open(txn, st->code_scans, &cur)) != 0)
		goto out;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_DUP)) {
		if (v.mv_size != 8) {
			rc = SIGIL_EIO;
			break;
		}
		if ((rc = ids_push(&ids, &n, &cap,
		    sigil_be64_get(v.mv_data))) != 0)
			break;
	}
	mdb_cursor_close(cur);
	if (rc != MDB_NOTFOUND)
		goto out;
	rc = 0;
	if (n > 1)
		qsort(ids, n, sizeof(*ids), u64_cmp);
	for (i = 0; i < n && stop == 0; i++) {
		if (i > 0 && ids[i] == ids[i - 1])
			continue;
		if ((rc = scan_load(st, txn, ids[i], &r)) != 0)
			break;
		stop = fn(arg, &r);
	}
out:
	read_end(st);
	free(ids);
	return stop ? stop : map_err(rc);
}

/* ---- shared helpers for the tables added with traceability ---- */

static int
sorted_has(const uint64_t *s, size_t n, uint64_t v)
{
	return bsearch(&v, s, n, sizeof(*s), u64_cmp) != NULL;
}

/*
 * A sorted copy of serials (n >= 1), or SIGIL_EINVAL for a duplicate, a
 * zero or a serial above CODE_SERIAL_MAX. The caller frees *out.
 */
static int
serials_sorted(const uint64_t *in, size_t n, uint64_t **out)
{
	uint64_t *s;

	if (in == NULL)
		return SIGIL_EINVAL;
	if ((s = malloc(n * sizeof(*s))) == NULL)
		return SIGIL_ENOMEM;
	memcpy(s, in, n * sizeof(*s));
	qsort(s, n, sizeof(*s), u64_cmp);
	for (size_t i = 0; i < n; i++)
		if (s[i] == 0 || s[i] > CODE_SERIAL_MAX ||
		    (i > 0 && s[i] == s[i - 1])) {
			free(s);
			return SIGIL_EINVAL;
		}
	*out = s;
	return 0;
}

/*
 * Is serial issued in one of brand_id's batches? The last range found is
 * kept in *r, so a sorted list of serials from a few batches costs a few
 * lookups rather than one per serial.
 */
struct range_cache {
	uint64_t	first, last;
};

static int
serial_issued(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t serial, struct range_cache *r)
{
	struct batch b;
	int rc;

	if (serial == 0 || serial > CODE_SERIAL_MAX)
		return SIGIL_ENOTFOUND;
	if (r->first != 0 && serial >= r->first && serial <= r->last)
		return 0;
	if ((rc = batch_find(st, txn, brand_id, serial, &b)) != 0)
		return rc;
	r->first = b.first_serial;
	r->last = b.first_serial + b.count - 1;
	return 0;
}

/* A growable list of u64, for ids collected inside a transaction. */
struct u64vec {
	uint64_t	*v;
	size_t		 n, cap;
};

static int
u64vec_push(struct u64vec *a, uint64_t x)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 64;
		uint64_t *v = realloc(a->v, cap * sizeof(*v));

		if (v == NULL)
			return SIGIL_ENOMEM;
		a->v = v;
		a->cap = cap;
	}
	a->v[a->n++] = x;
	return 0;
}

/* Every 8-byte duplicate of key k in a DUPFIXED table, appended to out. */
static int
dups_collect(MDB_txn *txn, MDB_dbi dbi, MDB_val k, struct u64vec *out)
{
	MDB_cursor *cur;
	MDB_val v;
	int rc;

	if ((rc = mdb_cursor_open(txn, dbi, &cur)) != 0)
		return rc;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_DUP)) {
		if (v.mv_size != 8) {
			rc = SIGIL_EIO;
			break;
		}
		if ((rc = u64vec_push(out, sigil_be64_get(v.mv_data))) != 0)
			break;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/*
 * Puts code keys (brand_id, serials[i]) -> val through one cursor. While a
 * key sorts after everything in the table it is appended (no search, and
 * pages are filled rather than split in half); serials in ascending order
 * on a brand's newest codes, the usual case, are then all appended.
 */
static int
codes_put(MDB_txn *txn, MDB_dbi dbi, uint32_t brand_id,
    const uint64_t *serials, size_t n, MDB_val val)
{
	uint8_t ck[CODE_KEY_LEN], last[CODE_KEY_LEN];
	MDB_cursor *cur;
	MDB_val k, v;
	int rc, have_last;

	if ((rc = mdb_cursor_open(txn, dbi, &cur)) != 0)
		return rc;
	rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	if (rc != 0 && rc != MDB_NOTFOUND)
		goto out;
	if ((have_last = rc == 0)) {
		if (k.mv_size != CODE_KEY_LEN) {
			rc = SIGIL_EIO;
			goto out;
		}
		memcpy(last, k.mv_data, CODE_KEY_LEN);
	}
	for (size_t i = 0; i < n; i++) {
		unsigned flags = 0;

		code_key_put(ck, brand_id, serials[i]);
		if (!have_last || memcmp(ck, last, CODE_KEY_LEN) > 0) {
			flags = MDB_APPEND;
			memcpy(last, ck, CODE_KEY_LEN);
			have_last = 1;
		}
		k = mval(ck, CODE_KEY_LEN);
		v = val;
		if ((rc = mdb_cursor_put(cur, &k, &v, flags)) != 0)
			goto out;
	}
	rc = 0;
out:
	mdb_cursor_close(cur);
	return rc;
}

/* ---- distributors ---- */

static void
dist_key(uint8_t *kb, uint32_t brand_id, uint32_t id)
{
	sigil_be32_put(kb, brand_id);
	sigil_be32_put(kb + 4, id);
}

/*
 * Binary rather than JSON: the territory is up to 1 MiB of GeoJSON text
 * and is stored as it came, without being parsed and re-serialised.
 */
static int
distributor_decode(MDB_val k, MDB_val v, int with_territory,
    struct distributor *out)
{
	const uint8_t *p = v.mv_data;
	struct distributor d = { 0 };
	size_t nl, tl;

	if (k.mv_size != 8 || v.mv_size < DIST_FIXED_LEN)
		return SIGIL_EIO;
	/* p[8]: bit 0 territory present, bits 1-7 the name length >> 8 */
	nl = (size_t)(p[8] >> 1) << 8 | p[9];
	if (nl == 0 || nl > STORE_TEXT_BYTES ||
	    v.mv_size < DIST_FIXED_LEN + nl)
		return SIGIL_EIO;
	tl = v.mv_size - DIST_FIXED_LEN - nl;
	if (((p[8] & 1) == 0 && tl != 0) || tl > STORE_GEOJSON_MAX)
		return SIGIL_EIO;
	d.brand_id = sigil_be32_get(k.mv_data);
	d.id = sigil_be32_get((const uint8_t *)k.mv_data + 4);
	d.created = (int64_t)le64_get(p);
	memcpy(d.name, p + DIST_FIXED_LEN, nl);
	if (with_territory && (p[8] & 1)) {
		if ((d.territory = malloc(tl + 1)) == NULL)
			return SIGIL_ENOMEM;
		memcpy(d.territory, p + DIST_FIXED_LEN + nl, tl);
		d.territory[tl] = '\0';
	}
	*out = d;
	return 0;
}

struct dist_arg {
	struct distributor	d;
	size_t			tlen;
};

static int
distributor_add_fn(struct store *st, MDB_txn *txn, void *arg)
{
	struct dist_arg *a = arg;
	uint8_t sk[17 + 4], kb[8], *p;
	size_t nl = strlen(a->d.name);
	MDB_val k = mval(kb, 8), v;
	struct brand b;
	uint64_t id;
	int rc;

	if ((rc = brand_load(st, txn, a->d.brand_id, &b)) != 0)
		return rc;
	memcpy(sk, "next_distributor/", 17);
	sigil_be32_put(sk + 17, a->d.brand_id);
	if ((rc = meta_next(st, txn, mval(sk, sizeof(sk)), 1, UINT32_MAX,
	    &id)) != 0)
		return rc;
	a->d.id = (uint32_t)id;
	dist_key(kb, a->d.brand_id, a->d.id);
	v = mval(NULL, DIST_FIXED_LEN + nl + a->tlen);
	if ((rc = mdb_put(txn, st->distributors, &k, &v,
	    MDB_NOOVERWRITE | MDB_RESERVE)) != 0)
		return rc;
	p = v.mv_data;
	le64_put(p, (uint64_t)a->d.created);
	p[8] = (uint8_t)((a->d.territory != NULL) | (nl >> 8) << 1);
	p[9] = (uint8_t)nl;
	memcpy(p + DIST_FIXED_LEN, a->d.name, nl);
	if (a->tlen)
		memcpy(p + DIST_FIXED_LEN + nl, a->d.territory, a->tlen);
	return 0;
}

int
store_distributor_add(struct store *st, struct distributor *d)
{
	struct dist_arg a;
	int rc;

	if (d == NULL || !text_ok(d->name, sizeof(d->name), STORE_TEXT_MAX, 0))
		return SIGIL_EINVAL;
	a.d = *d;
	a.tlen = 0;
	if (d->territory != NULL &&
	    (a.tlen = strnlen(d->territory, STORE_GEOJSON_MAX + 1)) >
	    STORE_GEOJSON_MAX)
		return SIGIL_EINVAL;
	a.d.created = sigil_now_us();
	if ((rc = store_write(st, distributor_add_fn, &a)) != 0)
		return rc;
	d->id = a.d.id;
	d->created = a.d.created;
	return 0;
}

static int
distributor_exists(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint32_t id)
{
	uint8_t kb[8];
	MDB_val k = mval(kb, 8), v;

	dist_key(kb, brand_id, id);
	return mdb_get(txn, st->distributors, &k, &v);
}

int
store_distributor_get(struct store *st, uint32_t brand_id, uint32_t id,
    struct distributor *out)
{
	uint8_t kb[8];
	MDB_val k = mval(kb, 8), v;
	MDB_txn *txn;
	int rc;

	if (st->trace_absent)
		return SIGIL_ENOTFOUND;
	dist_key(kb, brand_id, id);
	if ((rc = read_begin(st, &txn)) != 0)
		return rc;
	rc = mdb_get(txn, st->distributors, &k, &v);
	if (rc == 0)
		rc = distributor_decode(k, v, 1, out);
	read_end(st);
	return map_err(rc);
}

void
store_distributor_clear(struct distributor *d)
{
	if (d == NULL)
		return;
	free(d->territory);
	d->territory = NULL;
}

int
store_distributor_each(struct store *st, uint32_t brand_id,
    int (*fn)(void *arg, const struct distributor *d), void *arg)
{
	uint8_t kb[8];
	MDB_cursor *cur;
	MDB_txn *txn;
	MDB_val k = mval(kb, 8), v;
	struct distributor d;
	int rc, stop = 0;

	if (st->trace_absent)
		return 0;
	dist_key(kb, brand_id, 0);
	if ((rc = read_begin(st, &txn)) != 0)
		return rc;
	if ((rc = mdb_cursor_open(txn, st->distributors, &cur)) != 0)
		goto out;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 8) {
			rc = SIGIL_EIO;
			break;
		}
		if (sigil_be32_get(k.mv_data) != brand_id) {
			rc = MDB_NOTFOUND;
			break;
		}
		if ((rc = distributor_decode(k, v, 0, &d)) != 0 ||
		    (stop = fn(arg, &d)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	if (rc == MDB_NOTFOUND)
		rc = 0;
out:
	read_end(st);
	return stop ? stop : map_err(rc);
}

/* ---- the event log ---- */

static int
u64vec_reserve(struct u64vec *a, size_t n)
{
	uint64_t *v;

	if (n <= a->cap)
		return 0;
	if ((v = realloc(a->v, n * sizeof(*v))) == NULL)
		return SIGIL_ENOMEM;
	a->v = v;
	a->cap = n;
	return 0;
}

static int
event_index_code(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t serial, const uint8_t *idb)
{
	uint8_t ck[CODE_KEY_LEN];
	MDB_val k = mval(ck, CODE_KEY_LEN), v = mval(idb, 8);

	code_key_put(ck, brand_id, serial);
	return mdb_put(txn, st->code_events, &k, &v, 0);
}

/*
 * Appends ev (its at, type and fields already checked) and its indexes;
 * sets ev->id. Codes are indexed by what the event names: an aggregation
 * by its parent and children, a shipment or receipt by its roots only (a
 * pallet's millions of descendants are found through their ancestors),
 * a commission by its batch.
 */
static int
event_append(struct store *st, MDB_txn *txn, struct trace_event *ev)
{
	uint8_t idb[8], bk[12], *p;
	MDB_val k = mval(idb, 8), v;
	uint64_t id;
	int rc;

	if ((rc = meta_next(st, txn, meta_key("next_event"), 1,
	    UINT64_MAX - 1, &id)) != 0)
		return rc;
	sigil_be64_put(idb, id);
	v = mval(NULL, EVENT_FIXED_LEN + 5 * ev->n);
	if ((rc = mdb_put(txn, st->events, &k, &v,
	    MDB_APPEND | MDB_RESERVE)) != 0)
		return rc;
	p = v.mv_data;
	p[0] = (uint8_t)ev->type;
	le32_put(p + 1, ev->brand_id);
	le64_put(p + 5, (uint64_t)ev->at);
	le64_put(p + 13, ev->parent);
	le64_put(p + 21, ev->batch_id);
	le32_put(p + 29, ev->distributor);
	le64_put(p + 33, ev->shipment);
	le64_put(p + 41, ev->scan_id);
	le32_put(p + 49, (uint32_t)ev->n);
	for (size_t i = 0; i < ev->n; i++) {
		uint64_t s = ev->serials[i];

		for (int j = 4; j >= 0; j--, s >>= 8)
			p[EVENT_FIXED_LEN + 5 * i + (size_t)j] = (uint8_t)s;
	}
	sigil_be32_put(bk, ev->brand_id);
	sigil_be64_put(bk + 4, id);
	k = mval(bk, 12);
	v = mval("", 0);
	if ((rc = mdb_put(txn, st->brand_events, &k, &v, 0)) != 0)
		return rc;
	if (ev->type == EVENT_COMMISSION || ev->type == EVENT_DECOMMISSION) {
		sigil_be64_put(bk, ev->batch_id);
		k = mval(bk, 8);
		v = mval(idb, 8);
		if ((rc = mdb_put(txn, st->batch_events, &k, &v, 0)) != 0)
			return rc;
	} else {
		if ((ev->type == EVENT_AGGREGATE ||
		    ev->type == EVENT_DISAGGREGATE) &&
		    (rc = event_index_code(st, txn, ev->brand_id, ev->parent,
		    idb)) != 0)
			return rc;
		if ((rc = codes_put(txn, st->code_events, ev->brand_id,
		    ev->serials, ev->n, mval(idb, 8))) != 0)
			return rc;
	}
	ev->id = id;
	return 0;
}

/* Decodes an event; its serials go into buf (reused between calls). */
static int
event_decode(uint64_t id, MDB_val v, struct trace_event *ev,
    struct u64vec *buf)
{
	const uint8_t *p = v.mv_data;
	struct trace_event e = { .id = id };
	int rc;

	if (v.mv_size < EVENT_FIXED_LEN)
		return SIGIL_EIO;
	e.n = le32_get(p + 49);
	if (v.mv_size != EVENT_FIXED_LEN + 5 * e.n || p[0] < EVENT_COMMISSION ||
	    p[0] > EVENT_DECOMMISSION)
		return SIGIL_EIO;
	if ((rc = u64vec_reserve(buf, e.n)) != 0)
		return rc;
	e.type = p[0];
	e.brand_id = le32_get(p + 1);
	e.at = (int64_t)le64_get(p + 5);
	e.parent = le64_get(p + 13);
	e.batch_id = le64_get(p + 21);
	e.distributor = le32_get(p + 29);
	e.shipment = le64_get(p + 33);
	e.scan_id = le64_get(p + 41);
	for (size_t i = 0; i < e.n; i++) {
		const uint8_t *s = p + EVENT_FIXED_LEN + 5 * i;
		uint64_t x = 0;

		for (int j = 0; j < 5; j++)
			x = x << 8 | s[j];
		buf->v[i] = x;
	}
	e.serials = e.n ? buf->v : NULL;
	*ev = e;
	return 0;
}

static int
event_load(struct store *st, MDB_txn *txn, uint64_t id,
    struct trace_event *ev, struct u64vec *buf)
{
	uint8_t kb[8];
	MDB_val k = mval(kb, 8), v;
	int rc;

	sigil_be64_put(kb, id);
	if ((rc = mdb_get(txn, st->events, &k, &v)) != 0)
		return rc == MDB_NOTFOUND ? SIGIL_EIO : rc;
	return event_decode(id, v, ev, buf);
}

static int
event_add_fn(struct store *st, MDB_txn *txn, void *arg)
{
	struct trace_event *ev = arg;
	struct brand br;
	struct batch b;
	int rc;

	if ((rc = brand_load(st, txn, ev->brand_id, &br)) != 0)
		return rc;
	if (ev->batch_id != 0) {
		if ((rc = batch_load(st, txn, ev->batch_id, &b)) != 0)
			return rc;
		if (b.brand_id != ev->brand_id)
			return SIGIL_EINVAL;
	}
	return event_append(st, txn, ev);
}

int
store_event_add(struct store *st, struct trace_event *ev)
{
	struct trace_event work;
	int rc;

	if (ev == NULL || ev->type < EVENT_COMMISSION ||
	    ev->type > EVENT_DECOMMISSION || ev->n > STORE_AGG_MAX ||
	    (ev->n > 0 && ev->serials == NULL) ||
	    ev->parent > CODE_SERIAL_MAX || ev->at < 0 ||
	    ((ev->type == EVENT_COMMISSION ||
	    ev->type == EVENT_DECOMMISSION) && ev->batch_id == 0))
		return SIGIL_EINVAL;
	for (size_t i = 0; i < ev->n; i++)
		if (ev->serials[i] == 0 || ev->serials[i] > CODE_SERIAL_MAX)
			return SIGIL_EINVAL;
	work = *ev;
	if (work.at == 0)
		work.at = sigil_now_us();
	if ((rc = store_write(st, event_add_fn, &work)) != 0)
		return rc;
	ev->id = work.id;
	ev->at = work.at;
	return 0;
}

int
store_event_each(struct store *st, uint32_t brand_id, uint64_t after,
    int64_t from, int64_t to, int type, size_t limit,
    int (*fn)(void *arg, const struct trace_event *ev), void *arg)
{
	struct u64vec buf = { 0 };
	struct trace_event ev;
	uint8_t kb[12];
	MDB_cursor *cur;
	MDB_txn *txn;
	MDB_val k = mval(kb, 12), v;
	size_t seen = 0;
	int rc, stop = 0;

	if (st->trace_absent || after == UINT64_MAX)
		return 0;
	sigil_be32_put(kb, brand_id);
	sigil_be64_put(kb + 4, after + 1);
	if ((rc = read_begin(st, &txn)) != 0)
		return rc;
	if ((rc = mdb_cursor_open(txn, st->brand_events, &cur)) != 0)
		goto out;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 12) {
			rc = SIGIL_EIO;
			break;
		}
		if (sigil_be32_get(k.mv_data) != brand_id ||
		    (limit && seen == limit)) {
			rc = MDB_NOTFOUND;
			break;
		}
		if ((rc = event_load(st, txn,
		    sigil_be64_get((const uint8_t *)k.mv_data + 4), &ev,
		    &buf)) != 0)
			break;
		if ((type && ev.type != type) || (from && ev.at < from) ||
		    (to && ev.at >= to))
			continue;
		seen++;
		if ((stop = fn(arg, &ev)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	if (rc == MDB_NOTFOUND)
		rc = 0;
out:
	read_end(st);
	free(buf.v);
	return stop ? stop : map_err(rc);
}

/* ---- aggregation ---- */

/* The direct parent: 0, MDB_NOTFOUND or an error. */
static int
parent_get(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t serial, uint64_t *out)
{
	uint8_t ck[CODE_KEY_LEN];
	MDB_val k = mval(ck, CODE_KEY_LEN), v;
	int rc;

	code_key_put(ck, brand_id, serial);
	if ((rc = mdb_get(txn, st->parents, &k, &v)) != 0)
		return rc;
	if (v.mv_size != 8)
		return SIGIL_EIO;
	*out = sigil_be64_get(v.mv_data);
	return 0;
}

struct agg_arg {
	uint32_t	 brand_id;
	uint64_t	 parent;
	const uint64_t	*children;	/* sorted, unique, in range */
	size_t		 n;
	int64_t		 now;
	uint64_t	 event_id;
	struct u64vec	 all;		/* disaggregate with n == 0 */
};

/*
 * Every check runs before the first write, so a refused aggregation
 * leaves nothing behind even before the abort. Children arrive sorted:
 * the batch ranges are then found once per batch, and the children
 * table receives its duplicates in key order.
 */
static int
aggregate_fn(struct store *st, MDB_txn *txn, void *arg)
{
	struct agg_arg *a = arg;
	struct range_cache rcache = { 0, 0 };
	struct trace_event ev = { 0 };
	uint8_t pk[CODE_KEY_LEN], pb[8], cb[8];
	MDB_cursor *cur;
	MDB_val k, v;
	uint64_t up;
	unsigned flags = 0;
	int rc;

	if ((rc = serial_issued(st, txn, a->brand_id, a->parent,
	    &rcache)) != 0)
		return rc;
	for (size_t i = 0; i < a->n; i++)
		if ((rc = serial_issued(st, txn, a->brand_id, a->children[i],
		    &rcache)) != 0)
			return rc;
	for (size_t i = 0; i < a->n; i++) {
		rc = parent_get(st, txn, a->brand_id, a->children[i], &up);
		if (rc == 0)
			return SIGIL_ECONFLICT;
		if (rc != MDB_NOTFOUND)
			return rc;
	}
	/* parent inside one of the children would make a cycle. */
	up = a->parent;
	for (int depth = 0;; depth++) {
		if ((rc = parent_get(st, txn, a->brand_id, up, &up)) ==
		    MDB_NOTFOUND)
			break;
		if (rc != 0)
			return rc;
		if (sorted_has(a->children, a->n, up))
			return SIGIL_EINVAL;
		if (depth == TRACE_DEPTH_MAX)
			return SIGIL_EFULL;
	}

	sigil_be64_put(pb, a->parent);
	if ((rc = codes_put(txn, st->parents, a->brand_id, a->children, a->n,
	    mval(pb, 8))) != 0)
		return rc;
	/* New children after the existing ones go in with APPENDDUP. */
	code_key_put(pk, a->brand_id, a->parent);
	k = mval(pk, CODE_KEY_LEN);
	if ((rc = mdb_cursor_open(txn, st->children, &cur)) != 0)
		return rc;
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY);
	if (rc == 0)
		rc = mdb_cursor_get(cur, &k, &v, MDB_LAST_DUP);
	if (rc == 0 && v.mv_size != 8)
		rc = SIGIL_EIO;
	if (rc == 0 || rc == MDB_NOTFOUND) {
		flags = rc == MDB_NOTFOUND ||
		    sigil_be64_get(v.mv_data) < a->children[0] ?
		    MDB_APPENDDUP : 0;
		rc = 0;
	}
	for (size_t i = 0; i < a->n && rc == 0; i++) {
		sigil_be64_put(cb, a->children[i]);
		k = mval(pk, CODE_KEY_LEN);
		v = mval(cb, 8);
		rc = mdb_cursor_put(cur, &k, &v, flags);
	}
	mdb_cursor_close(cur);
	if (rc != 0)
		return rc;
	ev.type = EVENT_AGGREGATE;
	ev.brand_id = a->brand_id;
	ev.at = a->now;
	ev.parent = a->parent;
	ev.n = a->n;
	ev.serials = (uint64_t *)a->children;
	if ((rc = event_append(st, txn, &ev)) != 0)
		return rc;
	a->event_id = ev.id;
	return 0;
}

int
store_aggregate(struct store *st, uint32_t brand_id, uint64_t parent,
    const uint64_t *children, size_t n, uint64_t *event_id)
{
	struct agg_arg a = { brand_id, parent, NULL, n, sigil_now_us(), 0,
	    { 0 } };
	uint64_t *sorted;
	int rc;

	if (n == 0 || n > STORE_AGG_MAX || children == NULL)
		return SIGIL_EINVAL;
	if (parent == 0 || parent > CODE_SERIAL_MAX)
		return SIGIL_ENOTFOUND;
	for (size_t i = 0; i < n; i++)
		if (children[i] == 0 || children[i] > CODE_SERIAL_MAX)
			return SIGIL_ENOTFOUND;
	if ((rc = serials_sorted(children, n, &sorted)) != 0)
		return rc;
	if (sorted_has(sorted, n, parent)) {
		free(sorted);
		return SIGIL_EINVAL;
	}
	a.children = sorted;
	rc = store_write(st, aggregate_fn, &a);
	free(sorted);
	if (rc == 0 && event_id)
		*event_id = a.event_id;
	return rc;
}

static int
disaggregate_fn(struct store *st, MDB_txn *txn, void *arg)
{
	struct agg_arg *a = arg;
	struct trace_event ev = { 0 };
	uint8_t ck[CODE_KEY_LEN], pk[CODE_KEY_LEN], cb[8];
	const uint64_t *list = a->children;
	size_t n = a->n;
	MDB_val k, v;
	uint64_t up;
	int rc;

	code_key_put(pk, a->brand_id, a->parent);
	k = mval(pk, CODE_KEY_LEN);
	if (n == 0) {
		a->all.n = 0;
		if ((rc = dups_collect(txn, st->children, k, &a->all)) != 0)
			return rc;
		if (a->all.n == 0)
			return SIGIL_ENOTFOUND;
		if ((rc = mdb_del(txn, st->children, &k, NULL)) != 0)
			return rc;
		list = a->all.v;
		n = a->all.n;
	}
	for (size_t i = 0; i < n; i++) {
		rc = parent_get(st, txn, a->brand_id, list[i], &up);
		if (rc == MDB_NOTFOUND || (rc == 0 && up != a->parent))
			return SIGIL_ENOTFOUND;
		if (rc != 0)
			return rc;
		code_key_put(ck, a->brand_id, list[i]);
		k = mval(ck, CODE_KEY_LEN);
		if ((rc = mdb_del(txn, st->parents, &k, NULL)) != 0)
			return rc;
		if (a->n == 0)
			continue;
		sigil_be64_put(cb, list[i]);
		k = mval(pk, CODE_KEY_LEN);
		v = mval(cb, 8);
		if ((rc = mdb_del(txn, st->children, &k, &v)) != 0)
			return rc;
	}
	ev.type = EVENT_DISAGGREGATE;
	ev.brand_id = a->brand_id;
	ev.at = a->now;
	ev.parent = a->parent;
	ev.n = n;
	ev.serials = (uint64_t *)list;
	if ((rc = event_append(st, txn, &ev)) != 0)
		return rc;
	a->event_id = ev.id;
	return 0;
}

int
store_disaggregate(struct store *st, uint32_t brand_id, uint64_t parent,
    const uint64_t *children, size_t n, uint64_t *event_id)
{
	struct agg_arg a = { brand_id, parent, NULL, n, sigil_now_us(), 0,
	    { 0 } };
	uint64_t *sorted = NULL;
	int rc;

	if (n > STORE_AGG_MAX)
		return SIGIL_EINVAL;
	if (parent == 0 || parent > CODE_SERIAL_MAX)
		return SIGIL_ENOTFOUND;
	if (n > 0) {
		for (size_t i = 0; i < n && children; i++)
			if (children[i] == 0 || children[i] > CODE_SERIAL_MAX)
				return SIGIL_ENOTFOUND;
		if ((rc = serials_sorted(children, n, &sorted)) != 0)
			return rc;
	}
	a.children = sorted;
	rc = store_write(st, disaggregate_fn, &a);
	free(sorted);
	free(a.all.v);
	if (rc == 0 && event_id)
		*event_id = a.event_id;
	return rc;
}

int
store_parent(struct store *st, uint32_t brand_id, uint64_t serial,
    uint64_t *parent)
{
	MDB_txn *txn;
	uint64_t p;
	int rc;

	if (st->trace_absent || serial > CODE_SERIAL_MAX)
		return SIGIL_ENOTFOUND;
	if ((rc = read_begin(st, &txn)) != 0)
		return rc;
	rc = parent_get(st, txn, brand_id, serial, &p);
	read_end(st);
	if (rc == 0)
		*parent = p;
	return map_err(rc);
}

int
store_children_each(struct store *st, uint32_t brand_id, uint64_t parent,
    int (*fn)(void *arg, uint64_t child), void *arg)
{
	uint8_t pk[CODE_KEY_LEN];
	MDB_cursor *cur;
	MDB_txn *txn;
	MDB_val k = mval(pk, CODE_KEY_LEN), v;
	int rc, stop = 0;

	if (st->trace_absent || parent > CODE_SERIAL_MAX)
		return 0;
	code_key_put(pk, brand_id, parent);
	if ((rc = read_begin(st, &txn)) != 0)
		return rc;
	if ((rc = mdb_cursor_open(txn, st->children, &cur)) != 0)
		goto out;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_DUP)) {
		if (v.mv_size != 8) {
			rc = SIGIL_EIO;
			break;
		}
		if ((stop = fn(arg, sigil_be64_get(v.mv_data))) != 0)
			break;
	}
	mdb_cursor_close(cur);
	if (rc == MDB_NOTFOUND)
		rc = 0;
out:
	read_end(st);
	return stop ? stop : map_err(rc);
}

/* ---- shipments ---- */

static void
shipment_encode(const struct shipment *s, uint64_t ship_event, uint8_t *p)
{
	le32_put(p, s->brand_id);
	le32_put(p + 4, s->distributor);
	le64_put(p + 8, (uint64_t)s->shipped_at);
	le64_put(p + 16, (uint64_t)s->received_at);
	le64_put(p + 24, s->codes);
	le64_put(p + 32, ship_event);
}

static int
shipment_load(struct store *st, MDB_txn *txn, uint64_t id,
    struct shipment *out, uint64_t *ship_event)
{
	uint8_t kb[8];
	MDB_val k = mval(kb, 8), v;
	const uint8_t *p;
	int rc;

	sigil_be64_put(kb, id);
	if ((rc = mdb_get(txn, st->shipments, &k, &v)) != 0)
		return map_err(rc);
	if (v.mv_size != SHIPMENT_LEN)
		return SIGIL_EIO;
	p = v.mv_data;
	out->id = id;
	out->brand_id = le32_get(p);
	out->distributor = le32_get(p + 4);
	out->shipped_at = (int64_t)le64_get(p + 8);
	out->received_at = (int64_t)le64_get(p + 16);
	out->codes = le64_get(p + 24);
	if (ship_event)
		*ship_event = le64_get(p + 32);
	return 0;
}

struct ship_arg {
	uint32_t	 brand_id, distributor;
	const uint64_t	*roots;		/* sorted, unique, in range */
	size_t		 n;
	int64_t		 now;
	struct u64vec	 todo;		/* codes still to mark */
	struct shipment	 out;
};

/*
 * Marks every root and everything packed inside it, depth first with an
 * explicit stack (nesting depth is up to the brand). A root packed inside
 * another root is covered by that one and not walked twice, so codes
 * counts each code once.
 */
static int
ship_fn(struct store *st, MDB_txn *txn, void *arg)
{
	struct ship_arg *a = arg;
	struct range_cache rcache = { 0, 0 };
	struct trace_event ev = { 0 };
	uint8_t ck[CODE_KEY_LEN], idb[8], vb[SHIPMENT_LEN];
	MDB_cursor *cur;
	MDB_val k, v;
	uint64_t id, codes = 0, up;
	int rc;

	if ((rc = distributor_exists(st, txn, a->brand_id,
	    a->distributor)) != 0)
		return rc;
	for (size_t i = 0; i < a->n; i++)
		if ((rc = serial_issued(st, txn, a->brand_id, a->roots[i],
		    &rcache)) != 0)
			return rc;
	a->todo.n = 0;
	for (size_t i = 0; i < a->n; i++) {
		int covered = 0;

		up = a->roots[i];
		for (int depth = 0; depth < TRACE_DEPTH_MAX && !covered;
		    depth++) {
			if ((rc = parent_get(st, txn, a->brand_id, up, &up)) ==
			    MDB_NOTFOUND)
				break;
			if (rc != 0)
				return rc;
			covered = sorted_has(a->roots, a->n, up);
		}
		if (!covered && (rc = u64vec_push(&a->todo, a->roots[i])) != 0)
			return rc;
	}
	if ((rc = meta_next(st, txn, meta_key("next_shipment"), 1,
	    UINT64_MAX - 1, &id)) != 0)
		return rc;
	sigil_be64_put(idb, id);
	if ((rc = mdb_cursor_open(txn, st->children, &cur)) != 0)
		return rc;
	while (a->todo.n > 0) {
		uint64_t s = a->todo.v[--a->todo.n];

		code_key_put(ck, a->brand_id, s);
		k = mval(ck, CODE_KEY_LEN);
		v = mval(idb, 8);
		if ((rc = mdb_put(txn, st->shipped, &k, &v, 0)) != 0)
			goto out;
		codes++;
		for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY); rc == 0;
		    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_DUP)) {
			if (v.mv_size != 8) {
				rc = SIGIL_EIO;
				goto out;
			}
			if (codes + a->todo.n >= STORE_SHIP_MAX) {
				rc = SIGIL_EFULL;
				goto out;
			}
			if ((rc = u64vec_push(&a->todo,
			    sigil_be64_get(v.mv_data))) != 0)
				goto out;
		}
		if (rc != MDB_NOTFOUND)
			goto out;
	}
	ev.type = EVENT_SHIP;
	ev.brand_id = a->brand_id;
	ev.at = a->now;
	ev.distributor = a->distributor;
	ev.shipment = id;
	ev.n = a->n;
	ev.serials = (uint64_t *)a->roots;
	if ((rc = event_append(st, txn, &ev)) != 0)
		goto out;
	a->out.id = id;
	a->out.brand_id = a->brand_id;
	a->out.distributor = a->distributor;
	a->out.shipped_at = a->now;
	a->out.received_at = 0;
	a->out.codes = codes;
	shipment_encode(&a->out, ev.id, vb);
	k = mval(idb, 8);
	v = mval(vb, SHIPMENT_LEN);
	rc = mdb_put(txn, st->shipments, &k, &v, MDB_APPEND);
out:
	mdb_cursor_close(cur);
	return rc;
}

int
store_ship(struct store *st, uint32_t brand_id, uint32_t distributor,
    const uint64_t *codes, size_t n, struct shipment *out)
{
	struct ship_arg a = { brand_id, distributor, NULL, n, sigil_now_us(),
	    { 0 }, { 0 } };
	uint64_t *sorted;
	int rc;

	if (n == 0 || n > STORE_AGG_MAX || codes == NULL)
		return SIGIL_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (codes[i] == 0 || codes[i] > CODE_SERIAL_MAX)
			return SIGIL_ENOTFOUND;
	if ((rc = serials_sorted(codes, n, &sorted)) != 0)
		return rc;
	a.roots = sorted;
	rc = store_write(st, ship_fn, &a);
	free(sorted);
	free(a.todo.v);
	if (rc == 0 && out)
		*out = a.out;
	return rc;
}

int
store_shipment_get(struct store *st, uint64_t id, struct shipment *out)
{
	MDB_txn *txn;
	int rc;

	if (st->trace_absent)
		return SIGIL_ENOTFOUND;
	if ((rc = read_begin(st, &txn)) != 0)
		return rc;
	rc = shipment_load(st, txn, id, out, NULL);
	read_end(st);
	return rc;
}

struct receive_arg {
	uint64_t	id;
	int64_t		now;
	struct u64vec	roots;
	struct shipment	out;
};

/* The RECEIVE event names the shipment's roots, like its SHIP event. */
static int
receive_fn(struct store *st, MDB_txn *txn, void *arg)
{
	struct receive_arg *a = arg;
	struct trace_event ship, ev = { 0 };
	struct shipment s;
	uint8_t kb[8], vb[SHIPMENT_LEN];
	MDB_val k = mval(kb, 8), v = mval(vb, SHIPMENT_LEN);
	uint64_t ship_event;
	int rc;

	if ((rc = shipment_load(st, txn, a->id, &s, &ship_event)) != 0)
		return rc;
	if (s.received_at != 0)
		return SIGIL_ESTATE;
	if ((rc = event_load(st, txn, ship_event, &ship, &a->roots)) != 0)
		return rc;
	ev.type = EVENT_RECEIVE;
	ev.brand_id = s.brand_id;
	ev.at = a->now;
	ev.distributor = s.distributor;
	ev.shipment = s.id;
	ev.n = ship.n;
	ev.serials = ship.serials;
	if ((rc = event_append(st, txn, &ev)) != 0)
		return rc;
	s.received_at = a->now;
	sigil_be64_put(kb, s.id);
	shipment_encode(&s, ship_event, vb);
	if ((rc = mdb_put(txn, st->shipments, &k, &v, 0)) != 0)
		return rc;
	a->out = s;
	return 0;
}

int
store_shipment_receive(struct store *st, uint64_t id, struct shipment *out)
{
	struct receive_arg a = { id, sigil_now_us(), { 0 }, { 0 } };
	int rc;

	rc = store_write(st, receive_fn, &a);
	free(a.roots.v);
	if (rc == 0 && out)
		*out = a.out;
	return rc;
}

int
store_code_shipment(struct store *st, uint32_t brand_id, uint64_t serial,
    struct shipment *out)
{
	uint8_t ck[CODE_KEY_LEN];
	MDB_val k = mval(ck, CODE_KEY_LEN), v;
	MDB_txn *txn;
	int rc;

	if (st->trace_absent || serial > CODE_SERIAL_MAX)
		return SIGIL_ENOTFOUND;
	code_key_put(ck, brand_id, serial);
	if ((rc = read_begin(st, &txn)) != 0)
		return rc;
	rc = mdb_get(txn, st->shipped, &k, &v);
	if (rc == 0 && v.mv_size != 8)
		rc = SIGIL_EIO;
	if (rc == 0)
		rc = shipment_load(st, txn, sigil_be64_get(v.mv_data), out,
		    NULL);
	read_end(st);
	return map_err(rc);
}

/* ---- a code's history ---- */

/*
 * Collected ids are tagged in bit 0 (after shifting): 1 for an id found
 * only through an ancestor, whose event is reported only when it is a
 * SHIP or RECEIVE (an item travels with its case, but the case's other
 * history is the case's).
 */
static int
code_events_collect(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t serial, struct u64vec *ids)
{
	uint8_t ck[CODE_KEY_LEN], bk[8];
	struct u64vec found = { 0 };
	struct batch b;
	uint64_t up = serial;
	int rc;

	code_key_put(ck, brand_id, serial);
	if ((rc = dups_collect(txn, st->code_events, mval(ck, CODE_KEY_LEN),
	    &found)) != 0)
		goto out;
	rc = batch_find(st, txn, brand_id, serial, &b);
	if (rc == 0) {
		sigil_be64_put(bk, b.id);
		rc = dups_collect(txn, st->batch_events, mval(bk, 8), &found);
	} else if (rc == SIGIL_ENOTFOUND)
		rc = 0;
	if (rc != 0)
		goto out;
	for (size_t i = 0; i < found.n; i++)
		if ((rc = u64vec_push(ids, found.v[i] << 1)) != 0)
			goto out;
	for (int depth = 0; depth < TRACE_DEPTH_MAX; depth++) {
		if ((rc = parent_get(st, txn, brand_id, up, &up)) ==
		    MDB_NOTFOUND) {
			rc = 0;
			break;
		}
		if (rc != 0)
			goto out;
		found.n = 0;
		code_key_put(ck, brand_id, up);
		if ((rc = dups_collect(txn, st->code_events,
		    mval(ck, CODE_KEY_LEN), &found)) != 0)
			goto out;
		for (size_t i = 0; i < found.n; i++)
			if ((rc = u64vec_push(ids, found.v[i] << 1 | 1)) != 0)
				goto out;
	}
out:
	free(found.v);
	return rc;
}

int
store_code_events(struct store *st, uint32_t brand_id, uint64_t serial,
    int (*fn)(void *arg, const struct trace_event *ev), void *arg)
{
	struct u64vec ids = { 0 }, buf = { 0 };
	struct trace_event ev;
	MDB_txn *txn;
	int rc, stop = 0;

	if (st->trace_absent || serial == 0 || serial > CODE_SERIAL_MAX)
		return 0;
	if ((rc = read_begin(st, &txn)) != 0)
		return rc;
	if ((rc = code_events_collect(st, txn, brand_id, serial, &ids)) != 0)
		goto out;
	/* Sorted, an own id (tag 0) comes just before the same id seen
	 * through an ancestor (tag 1), which is then skipped. */
	if (ids.n > 1)
		qsort(ids.v, ids.n, sizeof(*ids.v), u64_cmp);
	for (size_t i = 0; i < ids.n; i++) {
		uint64_t id = ids.v[i] >> 1;
		int via_ancestor = ids.v[i] & 1;

		if (i > 0 && ids.v[i - 1] >> 1 == id)
			continue;
		if ((rc = event_load(st, txn, id, &ev, &buf)) != 0)
			break;
		if (via_ancestor && ev.type != EVENT_SHIP &&
		    ev.type != EVENT_RECEIVE)
			continue;
		if ((stop = fn(arg, &ev)) != 0)
			break;
	}
out:
	read_end(st);
	free(ids.v);
	free(buf.v);
	return stop ? stop : map_err(rc);
}

/* ---- alerts ---- */

static int
alert_append(struct store *st, MDB_txn *txn, const struct alert *al)
{
	uint8_t idb[8], bk[12], vb[ALERT_REC_LEN];
	MDB_val k = mval(idb, 8), v = mval(vb, ALERT_REC_LEN);
	uint64_t id;
	int rc;

	if ((rc = meta_next(st, txn, meta_key("next_alert"), 1,
	    UINT64_MAX - 1, &id)) != 0)
		return rc;
	sigil_be64_put(idb, id);
	le32_put(vb, al->brand_id);
	vb[4] = (uint8_t)al->type;
	le64_put(vb + 5, (uint64_t)al->at);
	le64_put(vb + 13, al->serial);
	le64_put(vb + 21, al->scan_id);
	le32_put(vb + 29, al->distributor);
	lef32_put(vb + 33, al->distance_km);
	lef32_put(vb + 37, al->lat);
	lef32_put(vb + 41, al->lng);
	if ((rc = mdb_put(txn, st->alerts, &k, &v, MDB_APPEND)) != 0)
		return rc;
	sigil_be32_put(bk, al->brand_id);
	sigil_be64_put(bk + 4, id);
	k = mval(bk, 12);
	v = mval("", 0);
	return mdb_put(txn, st->brand_alerts, &k, &v, 0);
}

static int
alert_decode(uint64_t id, MDB_val v, struct alert *out)
{
	const uint8_t *p = v.mv_data;
	struct alert a = { .id = id };

	if (v.mv_size != ALERT_REC_LEN || p[4] < ALERT_CLONE_SCANNERS ||
	    p[4] > ALERT_DIVERSION)
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
	*out = a;
	return 0;
}

/* One alert per evidence flag in flags, for the judged scan r. */
static int
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
		if ((rc = alert_append(st, txn, &al)) != 0)
			return rc;
	}
	return 0;
}

int
store_alert_each(struct store *st, uint32_t brand_id, uint64_t after,
    int type, int64_t since, size_t limit,
    int (*fn)(void *arg, const struct alert *a), void *arg)
{
	uint8_t kb[12], ib[8];
	MDB_cursor *cur;
	MDB_txn *txn;
	MDB_val k = mval(kb, 12), v, ik = mval(ib, 8), iv;
	struct alert al;
	size_t seen = 0;
	int rc, stop = 0;

	if (st->trace_absent || after == UINT64_MAX)
		return 0;
	sigil_be32_put(kb, brand_id);
	sigil_be64_put(kb + 4, after + 1);
	if ((rc = read_begin(st, &txn)) != 0)
		return rc;
	if ((rc = mdb_cursor_open(txn, st->brand_alerts, &cur)) != 0)
		goto out;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 12) {
			rc = SIGIL_EIO;
			break;
		}
		if (sigil_be32_get(k.mv_data) != brand_id ||
		    (limit && seen == limit)) {
			rc = MDB_NOTFOUND;
			break;
		}
		memcpy(ib, (const uint8_t *)k.mv_data + 4, 8);
		if ((rc = mdb_get(txn, st->alerts, &ik, &iv)) != 0) {
			rc = rc == MDB_NOTFOUND ? SIGIL_EIO : rc;
			break;
		}
		if ((rc = alert_decode(sigil_be64_get(ib), iv, &al)) != 0)
			break;
		if ((type && al.type != type) || al.at < since)
			continue;
		seen++;
		if ((stop = fn(arg, &al)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	if (rc == MDB_NOTFOUND)
		rc = 0;
out:
	read_end(st);
	return stop ? stop : map_err(rc);
}
