/*
 * store_erase.c - what a customer's erasure rewrites besides the customer
 * row (store_customers.c's erase_fn calls erase_rows inside its
 * transaction).
 *
 * Logically, in the erase's own transaction:
 *   otps        the pending code keyed by the phone hash is deleted;
 *   activity    the customer's entries keep type, time, points and
 *               rating, but their text (feedback) and ref (claim, scan
 *               or redemption id) are overwritten with zeros, then cut;
 *   feedback    the customer's feedback rows lose where bought, the
 *               brand's reply and the scan, and their photo is deleted
 *               (store_feedback.c's feedback_erase);
 *   claims      the customer id of the customer's claims becomes 0, so a
 *               code's claims no longer name anybody (the counts stay);
 *   orders      the customer's redemption orders keep item, kind, times
 *               and status; name, phone and address are zeroed, then
 *               cut, and the customer id becomes 0 (store_orders.c);
 *   outbox      the messages to the customer are zeroed, then cut,
 *               with their index entries (store_outbox.c's outbox_erase),
 *               and the marks of the messages it got (store_messages.c);
 *   payouts     the customer's payouts name nobody (customer 0, out of
 *               payout_cust); the settled ones keep their amounts but
 *               lose the openid, a HELD one is rejected and its amount
 *               returned to the budget, one in flight keeps the openid
 *               until it settles (store_cash.c's payouts_erase);
 *   locations   the scans of the codes the customer claimed or gave
 *               feedback on that came from the customer's devices (and
 *               the feedback scans themselves) keep only a 0.1-degree
 *               location (about 11 km), in scan_locs, in their code's
 *               code_state row and pending entry, and in their alerts;
 *   device_locs the last place of each of the customer's devices is
 *               deleted (a redirect rule's region then no longer holds);
 *   tables keyed by the phone hash or a device id (customer_phones,
 *               otps, device_links, customer_devices, device_locs) are
 *               rebuilt when
 *               they have branch pages: LMDB keeps a deleted key as a
 *               separator in a branch page, so deleting is not enough.
 * Values are overwritten in place with zeros before they shrink, so the
 * old bytes do not linger in the page's free gap either.
 *
 * Physically, store_scrub (store_scrub.c) runs after the erase commits:
 * the log's segments and LMDB's free pages and free gaps are zeroed.
 *
 * Owns no table: it rewrites rows of the loyalty tables, of scan_locs,
 * code_state, alerts and device_locs in the erase's transaction. May call: libc, LMDB,
 * util.c, store_env.c, store_scanlog.c (code_state rows) and
 * store_state.c (pend_view: the pending ids of a code). Must never call
 * store_customers.c, which calls it, or commit anything itself.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sigil/store.h"
#include "store_impl.h"

#define ACT_FIXED	36
#define ACT_TEXT_OFF	36
#define SCAN_DEVICE_OFF	21

/* A set of ids: a u64vec without repeats (a customer's are few). */
static int
idset_has(const struct u64vec *s, uint64_t id)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i] == id)
			return 1;
	return 0;
}

static int
idset_add(struct u64vec *s, uint64_t id)
{
	return idset_has(s, id) ? 0 : u64vec_push(s, id);
}

/* A key list: n keys of klen bytes. */
struct keys {
	uint8_t		*v;
	size_t		 n, cap, klen;
};

static int
keys_add(struct keys *s, const void *k)
{
	uint8_t *nv;

	for (size_t i = 0; i < s->n; i++)
		if (memcmp(s->v + i * s->klen, k, s->klen) == 0)
			return 0;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;

		if ((nv = realloc(s->v, cap * s->klen)) == NULL)
			return SIGIL_ENOMEM;
		s->v = nv;
		s->cap = cap;
	}
	memcpy(s->v + s->n++ * s->klen, k, s->klen);
	return 0;
}

/*
 * Writes v over key: first the same number of bytes with the changed
 * bytes zeroed (LMDB overwrites a same-size value in place), then v.
 */
static int
put_scrubbed(MDB_txn *txn, MDB_dbi dbi, MDB_val k, const uint8_t *old,
    size_t oldlen, const uint8_t *nv, size_t nlen)
{
	uint8_t *z;
	MDB_val v;
	int rc;

	if ((z = malloc(oldlen ? oldlen : 1)) == NULL)
		return SIGIL_ENOMEM;
	memcpy(z, old, oldlen);
	for (size_t i = 0; i < oldlen; i++)
		if (i >= nlen || z[i] != nv[i])
			z[i] = 0;
	v = mval(z, oldlen);
	rc = mdb_put(txn, dbi, &k, &v, 0);
	free(z);
	if (rc == 0 && nlen != oldlen) {
		v = mval(nv, nlen);
		rc = mdb_put(txn, dbi, &k, &v, 0);
	}
	return rc;
}

/* The rows of one brand that name the customer, and what they lead to. */
struct erase_walk {
	const uint8_t	*brand;		/* brand_id BE32, the keys' prefix */
	uint64_t	 id;		/* the customer */
	struct keys	 rows;		/* keys of the rows to rewrite */
	struct u64vec	*scans;		/* activity: feedback scans */
	struct keys	*codes;		/* claims: the codes claimed */
};

static int
activity_row(void *ctx, MDB_txn *txn, MDB_val k, MDB_val v, int *stop)
{
	struct erase_walk *w = ctx;
	const uint8_t *p = v.mv_data;
	int rc;

	(void)txn;
	(void)stop;
	if (k.mv_size != 12 || memcmp(k.mv_data, w->brand, 4) != 0)
		return MDB_NOTFOUND;
	if (v.mv_size < ACT_FIXED || le64_get(p + 9) != w->id)
		return 0;
	if (p[0] == ACTIVITY_FEEDBACK &&
	    (rc = idset_add(w->scans, le64_get(p + 17))) != 0)
		return rc;
	if (le64_get(p + 17) != 0 || v.mv_size > ACT_FIXED)
		return keys_add(&w->rows, k.mv_data);
	return 0;
}

/* The customer's activity: text and ref cut; feedback scans noted. */
static int
erase_activity(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t id, struct u64vec *scans)
{
	struct erase_walk w = { NULL, id, { NULL, 0, 0, 12 }, scans, NULL };
	uint8_t kb[12], vb[ACT_FIXED];
	MDB_val k, v;
	int rc, stop = 0;

	sigil_be32_put(kb, brand_id);
	sigil_be64_put(kb + 4, 0);
	w.brand = kb;
	rc = txn_walk(txn, st->activity, WALK_RANGE, mval(kb, 12),
	    activity_row, &w, &stop);
	for (size_t i = 0; rc == 0 && i < w.rows.n; i++) {
		k = mval(w.rows.v + i * 12, 12);
		if ((rc = mdb_get(txn, st->activity, &k, &v)) != 0)
			break;
		if (v.mv_size < ACT_FIXED)
			continue;
		memcpy(vb, v.mv_data, ACT_FIXED);
		le64_put(vb + 17, 0);
		le16_put(vb + 34, 0);
		{
			/* v points into the map: copy before writing. */
			uint8_t *old = malloc(v.mv_size);
			size_t n = v.mv_size;

			if (old == NULL) {
				rc = SIGIL_ENOMEM;
				break;
			}
			memcpy(old, v.mv_data, n);
			rc = put_scrubbed(txn, st->activity, k, old, n, vb,
			    ACT_FIXED);
			free(old);
		}
		/* A feedback's own row: where, reply, scan and photo. */
		if (rc == 0 && vb[0] == ACTIVITY_FEEDBACK)
			rc = feedback_erase(st, txn, brand_id,
			    sigil_be64_get(w.rows.v + i * 12 + 4));
	}
	free(w.rows.v);
	return rc;
}

static int
claim_row(void *ctx, MDB_txn *txn, MDB_val k, MDB_val v, int *stop)
{
	struct erase_walk *w = ctx;
	int rc;

	(void)txn;
	(void)stop;
	if (k.mv_size != CODE_KEY_LEN + 1 ||
	    memcmp(k.mv_data, w->brand, 4) != 0)
		return MDB_NOTFOUND;
	if (v.mv_size < 16 ||
	    le64_get((const uint8_t *)v.mv_data + 8) != w->id)
		return 0;
	if ((rc = keys_add(&w->rows, k.mv_data)) != 0)
		return rc;
	return keys_add(w->codes, k.mv_data);
}

/* The customer's claims: customer id 0; their codes noted. */
static int
erase_claims(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t id, struct keys *codes)
{
	struct erase_walk w = { NULL, id, { NULL, 0, 0, CODE_KEY_LEN + 1 },
	    NULL, codes };
	uint8_t kb[4], vb[64];
	MDB_val k, v;
	int rc, stop = 0;

	sigil_be32_put(kb, brand_id);
	w.brand = kb;
	rc = txn_walk(txn, st->claims, WALK_RANGE, mval(kb, 4), claim_row, &w,
	    &stop);
	for (size_t i = 0; rc == 0 && i < w.rows.n; i++) {
		k = mval(w.rows.v + i * w.rows.klen, w.rows.klen);
		if ((rc = mdb_get(txn, st->claims, &k, &v)) != 0)
			break;
		if (v.mv_size > sizeof(vb) || v.mv_size < 16)
			continue;
		memcpy(vb, v.mv_data, v.mv_size);
		le64_put(vb + 8, 0);
		v = mval(vb, v.mv_size);
		rc = mdb_put(txn, st->claims, &k, &v, 0);
	}
	free(w.rows.v);
	return rc;
}

/* One scan's location, coarsened in place (same size). */
static int
coarsen_scan(struct store *st, MDB_txn *txn, uint64_t scan_id,
    struct u64vec *done)
{
	uint8_t kb[8], lb[32];
	MDB_val k = mval(kb, 8), v;
	int rc;

	if (idset_has(done, scan_id))
		return 0;
	if ((rc = idset_add(done, scan_id)) != 0)
		return rc;
	sigil_be64_put(kb, scan_id);
	if ((rc = mdb_get(txn, st->scan_locs, &k, &v)) == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (v.mv_size < 8 || v.mv_size > sizeof(lb))
		return SIGIL_EIO;
	memcpy(lb, v.mv_data, v.mv_size);
	lef32_put(lb, erase_coarse(lef32_get(lb)));
	lef32_put(lb + 4, erase_coarse(lef32_get(lb + 4)));
	v = mval(lb, v.mv_size);
	return mdb_put(txn, st->scan_locs, &k, &v, 0);
}

static int
scan_id_add(void *ctx, MDB_txn *txn, MDB_val k, MDB_val v, int *stop)
{
	(void)txn;
	(void)k;
	(void)stop;
	return v.mv_size == 8 ? idset_add(ctx, sigil_be64_get(v.mv_data)) : 0;
}

/* The scans of one code that came from one of devs. */
static int
code_scans_coarsen(struct store *st, MDB_txn *txn, const uint8_t *ck,
    const struct u64vec *devs, struct u64vec *done)
{
	struct code_state cs;
	struct u64vec ids = { NULL, 0, 0 };
	uint64_t *pids = NULL;
	size_t npids = 0;
	MDB_val sv;
	int rc, stop = 0;

	if ((rc = pend_view(st, ck, &cs, &pids, &npids)) < 0)
		return rc;
	for (size_t i = 0; i < npids; i++)
		if ((rc = idset_add(&ids, pids[i])) != 0) {
			free(pids);
			return rc;
		}
	free(pids);
	rc = txn_walk(txn, st->code_scans, WALK_DUPS, mval(ck, CODE_KEY_LEN),
	    scan_id_add, &ids, &stop);
	for (size_t i = 0; rc == 0 && i < ids.n; i++) {
		if ((rc = id_get(txn, st->scans, ids.v[i], &sv)) ==
		    MDB_NOTFOUND) {
			rc = 0;
			continue;
		}
		if (rc != 0)
			break;
		if (sv.mv_size < SCAN_DEVICE_OFF + 8)
			continue;
		if (idset_has(devs, le64_get((const uint8_t *)sv.mv_data +
		    SCAN_DEVICE_OFF)))
			rc = coarsen_scan(st, txn, ids.v[i], done);
	}
	free(ids.v);
	return rc;
}

/* A code's last place, coarsened in its code_state row. */
static int
state_coarsen(struct store *st, MDB_txn *txn, const uint8_t *ck)
{
	struct code_state cs;
	int rc;

	if ((rc = state_load(st, txn, ck, &cs)) != 0)
		return rc;
	if (cs.last_loc_at == 0)
		return 0;
	cs.last_lat = erase_coarse(cs.last_lat);
	cs.last_lng = erase_coarse(cs.last_lng);
	return state_store(st, txn, ck, &cs);
}

struct alert_coarsen {
	struct store		*st;
	const uint8_t		*brand;	/* brand_id BE32 */
	const struct u64vec	*done;	/* the scans coarsened */
};

static int
alert_row(void *ctx, MDB_txn *txn, MDB_val k, MDB_val v, int *stop)
{
	struct alert_coarsen *w = ctx;
	uint8_t ab[8], vb[96];
	MDB_val akey = mval(ab, 8), av;
	int rc;

	(void)v;
	(void)stop;
	if (k.mv_size != 12 || memcmp(k.mv_data, w->brand, 4) != 0)
		return MDB_NOTFOUND;
	memcpy(ab, (const uint8_t *)k.mv_data + 4, 8);
	if ((rc = mdb_get(txn, w->st->alerts, &akey, &av)) != 0)
		return rc == MDB_NOTFOUND ? 0 : rc;
	/* The scan the location came from (store_alerts.c's layouts). */
	if (av.mv_size < 45 || av.mv_size > sizeof(vb) ||
	    !idset_has(w->done, le64_get((const uint8_t *)av.mv_data +
	    (av.mv_size >= 86 ? 78 : 21))))
		return 0;
	memcpy(vb, av.mv_data, av.mv_size);
	lef32_put(vb + 37, erase_coarse(lef32_get(vb + 37)));
	lef32_put(vb + 41, erase_coarse(lef32_get(vb + 41)));
	av = mval(vb, av.mv_size);
	/* A put elsewhere: the cursor of brand_alerts stays valid. */
	return mdb_put(txn, w->st->alerts, &akey, &av, 0);
}

/* The brand's alerts on the scans in done: lat/lng coarsened. */
static int
alerts_coarsen(struct store *st, MDB_txn *txn, uint32_t brand_id,
    const struct u64vec *done)
{
	uint8_t kb[12];
	struct alert_coarsen w = { st, kb, done };
	int stop = 0;

	if (done->n == 0)
		return 0;
	sigil_be32_put(kb, brand_id);
	sigil_be64_put(kb + 4, 0);
	return txn_walk(txn, st->brand_alerts, WALK_RANGE, mval(kb, 12),
	    alert_row, &w, &stop);
}

/*
 * Deletes every entry of dbi and writes them again, in order, when the
 * table has branch pages (whose separator keys may be deleted keys).
 */
static int
table_rebuild(MDB_txn *txn, MDB_dbi dbi)
{
	MDB_stat ms;
	MDB_cursor *cur;
	MDB_val k, v;
	uint8_t *buf = NULL, *nb;
	size_t len = 0, cap = 0, off;
	int rc;

	if ((rc = mdb_stat(txn, dbi, &ms)) != 0)
		return rc;
	if (ms.ms_depth <= 1)
		return 0;
	if ((rc = mdb_cursor_open(txn, dbi, &cur)) != 0)
		return rc;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		size_t need = 8 + k.mv_size + v.mv_size;

		if (len + need > cap) {
			size_t nc = cap ? cap * 2 : 65536;

			while (nc < len + need)
				nc *= 2;
			if ((nb = realloc(buf, nc)) == NULL) {
				rc = SIGIL_ENOMEM;
				break;
			}
			buf = nb;
			cap = nc;
		}
		le32_put(buf + len, (uint32_t)k.mv_size);
		le32_put(buf + len + 4, (uint32_t)v.mv_size);
		memcpy(buf + len + 8, k.mv_data, k.mv_size);
		memcpy(buf + len + 8 + k.mv_size, v.mv_data, v.mv_size);
		len += need;
	}
	if (rc == MDB_NOTFOUND)
		rc = 0;
	while (rc == 0 && (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST)) == 0)
		rc = mdb_cursor_del(cur, 0);
	mdb_cursor_close(cur);
	if (rc == MDB_NOTFOUND)
		rc = 0;
	for (off = 0; rc == 0 && off < len;) {
		size_t kl = le32_get(buf + off), vl = le32_get(buf + off + 4);

		k = mval(buf + off + 8, kl);
		v = mval(buf + off + 8 + kl, vl);
		rc = mdb_put(txn, dbi, &k, &v, MDB_APPEND);
		off += 8 + kl + vl;
	}
	if (buf != NULL) {
		memset(buf, 0, len);
		free(buf);
	}
	return rc;
}

int
erase_rows(struct store *st, MDB_txn *txn, uint32_t brand_id, uint64_t id,
    const uint8_t hash[32], const uint64_t *devices, size_t ndev,
    uint8_t **codes_out, size_t *ncodes_out)
{
	struct u64vec devs = { NULL, 0, 0 }, fscans = { NULL, 0, 0 };
	struct u64vec done = { NULL, 0, 0 };
	struct keys codes = { NULL, 0, 0, CODE_KEY_LEN + 1 };
	struct keys ck = { NULL, 0, 0, CODE_KEY_LEN };
	uint8_t pk[36];
	MDB_val k = mval(pk, 36), v;
	int rc;

	sigil_be32_put(pk, brand_id);
	memcpy(pk + 4, hash, 32);
	if ((rc = mdb_del(txn, st->otps, &k, NULL)) != 0 &&
	    rc != MDB_NOTFOUND)
		return rc;
	for (size_t i = 0; i < ndev; i++)
		if ((rc = idset_add(&devs, devices[i])) != 0)
			goto out;
	if ((rc = erase_activity(st, txn, brand_id, id, &fscans)) != 0 ||
	    (rc = erase_claims(st, txn, brand_id, id, &codes)) != 0 ||
	    (rc = orders_erase(st, txn, brand_id, id)) != 0 ||
	    (rc = profile_erase(st, txn, brand_id, id)) != 0 ||
	    (rc = ident_erase(st, txn, brand_id, id)) != 0 ||
	    (rc = outbox_erase(st, txn, brand_id, id)) != 0 ||
	    (rc = payouts_erase(st, txn, brand_id, id)) != 0 ||
	    (rc = bonuses_move(st, txn, brand_id, id, 0)) != 0 ||
	    (rc = sellers_erase(st, txn, brand_id, id)) != 0 ||
	    (rc = message_marks_erase(st, txn, brand_id, id)) != 0 ||
	    (rc = segfacts_erase(st, txn, brand_id, id)) != 0)
		goto out;
	for (size_t i = 0; i < codes.n; i++)
		if ((rc = keys_add(&ck, codes.v + i * codes.klen)) != 0)
			goto out;
	/* The feedback scans, whatever device: and their codes. */
	for (size_t i = 0; i < fscans.n; i++) {
		uint8_t c[CODE_KEY_LEN];
		const uint8_t *p;

		if ((rc = id_get(txn, st->scans, fscans.v[i], &v)) ==
		    MDB_NOTFOUND)
			continue;
		if (rc != 0)
			goto out;
		if (v.mv_size < SCAN_DEVICE_OFF + 8)
			continue;
		p = v.mv_data;
		/* A fake attributed to the brand names no code of it. */
		if (le32_get(p + 8) == brand_id &&
		    !(le16_get(p + 46) & SCAN_ATTRIBUTED)) {
			uint64_t serial = 0;

			for (int j = 4; j >= 0; j--)
				serial = serial << 8 | p[12 + j];
			code_key_put(c, brand_id, serial);
			if ((rc = keys_add(&ck, c)) != 0)
				goto out;
		}
		if ((rc = coarsen_scan(st, txn, fscans.v[i], &done)) != 0)
			goto out;
	}
	for (size_t i = 0; i < ck.n; i++)
		if ((rc = code_scans_coarsen(st, txn, ck.v + i * CODE_KEY_LEN,
		    &devs, &done)) != 0 ||
		    (rc = state_coarsen(st, txn, ck.v + i * CODE_KEY_LEN)) != 0)
			goto out;
	/* A device's last place (store_redirects.c): gone, not coarsened. */
	for (size_t i = 0; i < devs.n && !st->redirects_absent; i++) {
		uint8_t dk[12];
		MDB_val dv = mval(dk, 12);

		sigil_be32_put(dk, brand_id);
		sigil_be64_put(dk + 4, devs.v[i]);
		if ((rc = mdb_del(txn, st->device_locs, &dv, NULL)) != 0 &&
		    rc != MDB_NOTFOUND)
			goto out;
	}
	/* The devices' segment facts (store_segments.c): gone too. */
	for (size_t i = 0; i < devs.n; i++)
		if ((rc = segfacts_erase_device(st, txn, brand_id,
		    devs.v[i])) != 0)
			goto out;
	if ((rc = alerts_coarsen(st, txn, brand_id, &done)) != 0 ||
	    (rc = table_rebuild(txn, st->customer_phones)) != 0 ||
	    (rc = table_rebuild(txn, st->otps)) != 0 ||
	    (rc = table_rebuild(txn, st->device_links)) != 0 ||
	    (rc = table_rebuild(txn, st->customer_devices)) != 0 ||
	    (!st->redirects_absent &&
	    (rc = table_rebuild(txn, st->device_locs)) != 0) ||
	    (!st->segments_absent &&
	    (rc = table_rebuild(txn, st->segment_facts)) != 0))
		goto out;
	/* For pend_coarsen after the commit: the codes touched. */
	free(*codes_out);
	*codes_out = ck.v;
	*ncodes_out = ck.n;
	ck.v = NULL;
out:
	free(devs.v);
	free(fscans.v);
	free(done.v);
	free(codes.v);
	free(ck.v);
	return rc;
}
