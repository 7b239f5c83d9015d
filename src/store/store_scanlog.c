/*
 * store_scanlog.c - what is durable about a scan: the append-only log,
 * the consented locations beside it, and a code's row in code_state.
 *
 * Owns the encodings of the tables scans, scan_locs and code_state, the
 * state rules (store_net_key, store_state_first, store_state_scanner,
 * store_state_apply: what a logged scan does to its code's state, shared
 * by the judge and the replay), and the log's readers (store_scan_get,
 * store_scan_each, store_scan_after). Writing the log is store_scans.c's;
 * keeping states in memory before they reach code_state is
 * store_state.c's. Both read and write rows through the functions here.
 * May call: libc, LMDB, util.c and store_env.c.
 * Must never: call the pending layer or anything above it (they all
 * build on this file), or rewrite a log record: the log is append-only,
 * and locations live beside it in scan_locs.
 *
 * store_scan_each walks the log in chunks, releasing its snapshot between
 * chunks: an export of millions of scans then neither pins old pages
 * (which would bloat the file) nor blocks map growth.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <lmdb.h>

#include "sigil/store.h"
#include "sigil/util.h"
#include "store_impl.h"

#define SCAN_EACH_CHUNK		1024
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

/* ---- the state rules (store/scans.h) and the replay rule ---- */

uint64_t
store_net_key(const uint8_t ip[16])
{
	static const uint8_t v4[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff,
	    0xff };

	/* ::ffff:a.b.c.d is 0x0000ffffaabbcc00: no global IPv6 /64 is that. */
	if (memcmp(ip, v4, 12) == 0)
		return 0xffffULL << 32 | (uint64_t)ip[12] << 24 |
		    (uint64_t)ip[13] << 16 | (uint64_t)ip[14] << 8;
	return (uint64_t)ip[0] << 56 | (uint64_t)ip[1] << 48 |
	    (uint64_t)ip[2] << 40 | (uint64_t)ip[3] << 32 |
	    (uint64_t)ip[4] << 24 | (uint64_t)ip[5] << 16 |
	    (uint64_t)ip[6] << 8 | ip[7];
}

int
store_state_first(struct code_state *s, const struct scan_rec *r)
{
	uint64_t net = store_net_key(r->ip);

	if (s->first_at == 0) {
		s->first_at = r->at;
		s->first_scan_id = r->id;
		s->first_net = net;
		if (r->flags & SCAN_ANON)
			s->flags |= STATE_FIRST_ANON;
		return 1;
	}
	if (!(s->flags & STATE_FIRST_ANON) || (r->flags & SCAN_ANON))
		return 0;
	s->flags &= ~STATE_FIRST_ANON;
	if (net == s->first_net)
		return 0;
	s->first_at = r->at;
	s->first_scan_id = r->id;
	s->first_net = net;
	return 1;
}

int
store_state_scanner(struct code_state *s, const struct scan_rec *r)
{
	uint64_t net = store_net_key(r->ip);
	int anon = (r->flags & SCAN_ANON) != 0, full, n;

	if (r->id != 0 && r->id <= s->cleared_through)
		return 0;
	for (int i = 0; i < s->n_scanners && i < STORE_SCANNERS_MAX; i++)
		if (s->scanners[i] == r->device)
			return 0;
	for (n = 0; n < s->n_nets && n < STORE_NETS_MAX; n++)
		if (s->nets[n].key == net)
			break;
	if (anon && n < s->n_nets && s->nets[n].anon_at != 0 &&
	    r->at - s->nets[n].anon_at < STORE_ANON_WINDOW_US)
		return 0;
	full = s->n_scanners >= STORE_SCANNERS_MAX;
	if (!full)
		s->scanners[s->n_scanners++] = r->device;
	if (n == s->n_nets && n < STORE_NETS_MAX) {
		s->nets[n].key = net;
		s->nets[n].anon_at = 0;
		s->n_nets++;
	}
	if (anon && n < s->n_nets)
		s->nets[n].anon_at = r->at;
	return full ? 2 : 1;
}

void
store_state_apply(struct code_state *s, const struct scan_rec *r)
{
	if (r->flags & SCAN_BOT) {
		s->bot_count++;
		return;
	}
	if (r->verdict != VERDICT_GENUINE && r->verdict != VERDICT_SUSPICIOUS)
		return;
	s->scan_count++;
	store_state_first(s, r);
	store_state_scanner(s, r);
	if ((r->flags & SCAN_HAS_LOC) && r->at >= s->last_loc_at) {
		s->last_loc_at = r->at;
		s->last_lat = r->lat;
		s->last_lng = r->lng;
	}
	if (r->id == 0 || r->id > s->cleared_through)
		s->flags |= r->flags & STATE_STICKY;
}

/* What the brand's clear does to a state: the evidence is forgotten. */
void
state_clear(struct code_state *s, uint64_t through)
{
	s->flags &= ~STATE_STICKY;
	s->n_scanners = 0;
	memset(s->scanners, 0, sizeof s->scanners);
	s->n_nets = 0;
	memset(s->nets, 0, sizeof s->nets);
	if (through > s->cleared_through)
		s->cleared_through = through;
}

/* ---- the log and its locations ---- */

/*
 * The log record keeps no coordinates: locations are rare (consented) and
 * live in scan_locs, so the common scan does not carry 10 empty bytes.
 */
size_t
scan_encode(const struct scan_rec *r, uint8_t *p)
{
	uint64_t s = r->serial;
	uint16_t flags = r->flags & ~(SCAN_HAS_LOC | SCAN_ATTRIBUTED);

	le64_put(p, (uint64_t)r->at);

	/* An unknown code's brand, if it names one (scan_rec.attr_brand). */
	if (r->brand_id == 0 && r->attr_brand != 0) {
		le32_put(p + 8, r->attr_brand);
		flags |= SCAN_ATTRIBUTED;
	} else
		le32_put(p + 8, r->brand_id);
	for (int i = 0; i < 5; i++, s >>= 8)
		p[12 + i] = (uint8_t)s;
	le32_put(p + 17, (uint32_t)r->batch_id);
	le64_put(p + 21, r->device);
	memcpy(p + 29, r->ip, 16);
	p[45] = r->verdict;
	le16_put(p + 46, flags);
	/* A scan without a region keeps the 48 bytes every build reads. */
	if (r->region == 0)
		return SCAN_REC_LEN;
	le32_put(p + 48, r->region);
	return SCAN_REC_REGION_LEN;
}

static int
scan_decode(uint64_t id, MDB_val v, struct scan_rec *out)
{
	const uint8_t *p = v.mv_data;
	struct scan_rec r = { .id = id };

	if (v.mv_size != SCAN_REC_LEN && v.mv_size != SCAN_REC_REGION_LEN)
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
	if (v.mv_size == SCAN_REC_REGION_LEN)
		r.region = le32_get(p + 48);
	r.attr_brand = r.brand_id;
	if (r.flags & SCAN_ATTRIBUTED)
		r.brand_id = 0;
	*out = r;
	return 0;
}

void
loc_encode(uint8_t *p, float lat, float lng, uint16_t accuracy_m,
    int64_t at)
{
	lef32_put(p, lat);
	lef32_put(p + 4, lng);
	le16_put(p + 8, accuracy_m);
	le64_put(p + 10, (uint64_t)at);
}

int
loc_valid(float lat, float lng)
{
	return isfinite(lat) && isfinite(lng) && lat >= -90 && lat <= 90 &&
	    lng >= -180 && lng <= 180;
}

static void
loc_apply(MDB_val v, struct scan_rec *r)
{
	const uint8_t *p = v.mv_data;

	if (v.mv_size == SCAN_LOC_FLAGS_LEN)
		r->flags |= p[18] & LOC_FLAGS_KEPT;
	/* The brand's retention took the coordinates (store_retention.c). */
	if (v.mv_size == SCAN_LOC_FLAGS_LEN && (p[18] & LOC_REDUCED))
		return;
	r->lat = lef32_get(p);
	r->lng = lef32_get(p + 4);
	r->accuracy_m = le16_get(p + 8);
	r->flags |= SCAN_HAS_LOC;
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
	MDB_val v;
	int rc;

	if ((rc = id_get(txn, st->scans, id, &v)) != 0)
		return map_err(rc);
	return scan_decode(id, v, out);
}

int
scan_load(struct store *st, MDB_txn *txn, uint64_t id, struct scan_rec *out)
{
	struct scan_rec r;
	MDB_val v;
	int rc;

	if ((rc = scan_log_get(st, txn, id, &r)) != 0)
		return rc;
	rc = id_get(txn, st->scan_locs, id, &v);
	if (rc == 0 && !loc_len_ok(v.mv_size))
		return SIGIL_EIO;
	if (rc == 0)
		loc_apply(v, &r);
	else if (rc != MDB_NOTFOUND)
		return map_err(rc);
	*out = r;
	return 0;
}

int
store_scan_get(struct store *st, uint64_t id, struct scan_rec *out)
{
	return STORE_READ(st, scan_load(st, txn, id, out));
}

/* ---- a code's row in code_state ---- */

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

int
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

/* ---- walking the log ---- */

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

/* Chunk after chunk from scan id from on, a fresh snapshot each. */
static int
scan_walk(struct store *st, uint64_t from, int64_t since,
    int (*fn)(void *arg, const struct scan_rec *r), void *arg)
{
	int rc = 0, end = 0, stop = 0;

	while (!end && !stop && rc == 0)
		rc = STORE_READ(st, scan_chunk(st, txn, since, &from, &end,
		    &stop, fn, arg));
	return stop ? stop : rc;
}

int
store_scan_each(struct store *st, int64_t since,
    int (*fn)(void *arg, const struct scan_rec *r), void *arg)
{
	return scan_walk(st, 1, since, fn, arg);
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
	int rc;

	if (limit == 0 || after == UINT64_MAX)
		return 0;
	rc = scan_walk(st, after + 1, INT64_MIN, scan_limit_one, &l);
	return l.full ? 0 : rc;
}

/* ---- walking the log by time, and backwards ---- */

/* The time of the first scan with id >= id: 0 with *rid and *at, or
 * MDB_NOTFOUND past the end. */
static int
scan_at_from(MDB_cursor *cur, uint64_t id, uint64_t *rid, int64_t *at)
{
	uint8_t kb[8];
	MDB_val k = mval(kb, 8), v;
	int rc;

	sigil_be64_put(kb, id);
	if ((rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE)) != 0)
		return rc;
	if (k.mv_size != 8 || (v.mv_size != SCAN_REC_LEN &&
	    v.mv_size != SCAN_REC_REGION_LEN))
		return SIGIL_EIO;
	*rid = sigil_be64_get(k.mv_data);
	*at = (int64_t)le64_get(v.mv_data);
	return 0;
}

static int
scan_seek(struct store *st, MDB_txn *txn, int64_t since, uint64_t *after)
{
	MDB_cursor *cur;
	MDB_val k, v;
	uint64_t lo = 1, hi, mid, rid;
	int64_t at;
	int rc;

	*after = 0;
	if ((rc = mdb_cursor_open(txn, st->scans, &cur)) != 0)
		return rc;
	if ((rc = mdb_cursor_get(cur, &k, &v, MDB_LAST)) != 0) {
		mdb_cursor_close(cur);
		return rc == MDB_NOTFOUND ? 0 : rc;
	}
	hi = sigil_be64_get(k.mv_data) + 1;
	/*
	 * Below lo every scan is older than since, from hi on none is (ids
	 * are given at commit, in time order).
	 */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		rc = scan_at_from(cur, mid, &rid, &at);
		if (rc == MDB_NOTFOUND || (rc == 0 && (rid >= hi ||
		    at >= since)))
			hi = mid;
		else if (rc == 0)
			lo = rid + 1;
		else
			break;
		rc = 0;
	}
	mdb_cursor_close(cur);
	*after = lo - 1;
	return rc;
}

int
store_scan_seek(struct store *st, int64_t since, uint64_t *after)
{
	return STORE_READ(st, scan_seek(st, txn, since, after));
}

struct scan_back {
	uint64_t	before;
	size_t		budget;
	int		(*keep)(void *arg, const struct scan_rec *r);
	int		(*fn)(void *arg, const struct scan_rec *r);
	void		*arg;
	uint64_t	last;
	int		stop;
};

static int
scan_back_walk(struct store *st, MDB_txn *txn, struct scan_back *w)
{
	MDB_cursor *cur;
	MDB_val k, v;
	uint8_t kb[8];
	struct scan_rec r;
	size_t n = 0;
	int rc;

	w->last = 0;
	if ((rc = mdb_cursor_open(txn, st->scans, &cur)) != 0)
		return rc;
	sigil_be64_put(kb, w->before);
	k = mval(kb, 8);
	if (w->before == 0 || (rc = mdb_cursor_get(cur, &k, &v,
	    MDB_SET_RANGE)) == MDB_NOTFOUND)
		rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	else if (rc == 0)
		rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
	for (; rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_PREV)) {
		if (n++ == w->budget)
			break;
		if (k.mv_size != 8) {
			rc = SIGIL_EIO;
			break;
		}
		if ((rc = scan_decode(sigil_be64_get(k.mv_data), v, &r)) != 0)
			break;
		w->last = r.id;
		if (w->keep != NULL && !w->keep(w->arg, &r))
			continue;
		if ((rc = scan_load(st, txn, r.id, &r)) != 0)
			break;
		if ((w->stop = w->fn(w->arg, &r)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	/* The log's start reached: nothing before the last one read. */
	if (rc == MDB_NOTFOUND) {
		w->last = 0;
		rc = 0;
	}
	return rc;
}

int
store_scan_back(struct store *st, uint64_t before, size_t budget,
    int (*keep)(void *arg, const struct scan_rec *r),
    int (*fn)(void *arg, const struct scan_rec *r), void *arg,
    uint64_t *last)
{
	struct scan_back w = { before, budget, keep, fn, arg, 0, 0 };
	int rc;

	if (before == 1) {
		*last = 0;
		return 0;
	}
	rc = STORE_READ(st, scan_back_walk(st, txn, &w));
	*last = w.last;
	return w.stop ? w.stop : rc;
}
