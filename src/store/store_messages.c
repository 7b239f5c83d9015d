/*
 * store_messages.c - lifecycle message definitions and their marks.
 *
 *   messages       brand BE32 || id BE32 -> created i64, updated i64,
 *                  last_run i64, runs u32, queued u64, then the JSON
 *                  configuration (message.c checks it)
 *   message_marks  brand BE32 || message id BE32 || customer BE64 ->
 *                  i64: the occasion a triggered message last went to
 *                  the customer for (the birthday's year, the expiring
 *                  lot's date, the lapse's last scan, ...), so one run
 *                  after another sends it once per occasion
 *
 * A run (store_message_run) writes its outbox rows, its marks and the
 * definition's bookkeeping in one transaction: after a crash either all
 * of a run is there or none, and the scheduler runs it again. Marks
 * name a customer: an erasure cuts them and a merge moves them
 * (message_marks_erase, message_marks_move).
 *
 * Owns messages and message_marks. May call libc, LMDB, util.c,
 * store_env.c, store_rows.c and store_outbox.c (outbox_put). Must never
 * call store_erase.c or store_merge.c, which call it.
 */
#include <stdlib.h>
#include <string.h>

#include "sigil/store.h"
#include "sigil/util.h"
#include "store_impl.h"

#define MK_KEY		16

/* After created and updated: last_run, runs, queued. */
#define MD_EXTRA	20

static int
md_decode(MDB_val k, MDB_val v, void *out)
{
	struct message_def *d = out;
	struct json_row r;
	const uint8_t *p;
	int rc;

	if ((rc = json_row_decode(k, v, MD_EXTRA, SIZE_MAX, &r, &p)) != 0)
		return rc;
	memset(d, 0, sizeof *d);
	d->brand_id = r.brand_id;
	d->id = r.id;
	d->created = r.created;
	d->updated = r.updated;
	d->last_run = (int64_t)le64_get(p);
	d->runs = le32_get(p + 8);
	d->queued = le64_get(p + 12);
	d->config = r.json;
	return 0;
}

static int
md_write(struct store *st, MDB_txn *txn, const struct message_def *d)
{
	struct json_row r = { d->brand_id, d->id, d->created, d->updated,
	    d->config };
	uint8_t extra[MD_EXTRA];

	le64_put(extra, (uint64_t)d->last_run);
	le32_put(extra + 8, d->runs);
	le64_put(extra + 12, d->queued);
	return json_row_put(txn, st->messages, &r, extra, sizeof(extra));
}

static int
md_put(struct store *st, MDB_txn *txn, const void *row)
{
	return md_write(st, txn, row);
}

void
store_message_clear(struct message_def *d)
{
	free(d->config);
	d->config = NULL;
}

int
store_message_add(struct store *st, struct message_def *d)
{
	struct message_def work = *d;

	if (st->messages_absent)
		return SIGIL_EDENIED;
	if (!json_text_ok(d->config, MESSAGE_CONFIG_MAX))
		return SIGIL_EINVAL;
	if (work.created == 0)
		work.created = sigil_now_us();
	work.updated = work.created;
	work.last_run = 0;
	work.runs = 0;
	work.queued = 0;
	return rows_add(st, st->messages, md_put, &work, d->brand_id, &work.id,
	    d, sizeof *d);
}

int
store_message_get(struct store *st, uint32_t brand_id, uint32_t id,
    struct message_def *out)
{
	if (st->messages_absent)
		return SIGIL_ENOTFOUND;
	return rows_get_bid(st, st->messages, brand_id, id, md_decode, out);
}

struct update_arg {
	uint32_t	 brand_id, id;
	const char	*config;
	int64_t		 now;
};

static int
update_fn(struct store *st, MDB_txn *txn, void *p)
{
	struct update_arg *a = p;
	struct message_def d;
	uint8_t kb[8];
	const char *old;
	int rc;

	bid_key(kb, a->brand_id, a->id);
	if ((rc = rows_load(txn, st->messages, kb, 8, md_decode, &d)) ==
	    MDB_NOTFOUND)
		return SIGIL_ENOTFOUND;
	if (rc != 0)
		return rc;
	old = d.config;
	d.config = (char *)a->config;
	d.updated = a->now > d.updated ? a->now : d.updated + 1;
	rc = md_write(st, txn, &d);
	free((char *)old);
	return rc;
}

int
store_message_update(struct store *st, uint32_t brand_id, uint32_t id,
    const char *config, int64_t now)
{
	struct update_arg a = { brand_id, id, config, now };

	if (st->messages_absent)
		return SIGIL_ENOTFOUND;
	if (!json_text_ok(config, MESSAGE_CONFIG_MAX))
		return SIGIL_EINVAL;
	return store_write(st, update_fn, &a);
}

/* Deletes the marks under prefix (plen bytes of kb) for which keep says
 * so: customer 0 = every one. */
static int
marks_cut(struct store *st, MDB_txn *txn, const uint8_t *prefix,
    size_t plen, uint64_t customer_id, uint64_t to)
{
	uint8_t kb[MK_KEY], nk[MK_KEY];
	MDB_val k, v, nv;
	MDB_cursor *cur;
	struct u64vec ids = { 0 };
	struct u64vec vals = { 0 };
	int rc;

	memset(kb, 0, sizeof kb);
	memcpy(kb, prefix, plen);
	k = mval(kb, MK_KEY);
	if ((rc = mdb_cursor_open(txn, st->message_marks, &cur)) != 0)
		return rc;
	/* Collected first: the cursor is not used across deletes. */
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != MK_KEY || memcmp(k.mv_data, prefix, plen) != 0)
			break;
		if (customer_id != 0 && sigil_be64_get((const uint8_t *)
		    k.mv_data + 8) != customer_id)
			continue;
		if ((rc = u64vec_push(&ids, sigil_be32_get((const uint8_t *)
		    k.mv_data + 4) | (uint64_t)sigil_be32_get(k.mv_data) << 32))
		    != 0 || (rc = u64vec_push(&vals, v.mv_size == 8 ?
		    le64_get(v.mv_data) : 0)) != 0)
			break;
		if (customer_id == 0 && (rc = u64vec_push(&ids, sigil_be64_get(
		    (const uint8_t *)k.mv_data + 8))) != 0)
			break;
	}
	mdb_cursor_close(cur);
	if (rc != 0 && rc != MDB_NOTFOUND)
		goto out;
	rc = 0;
	for (size_t i = 0, j = 0; i < ids.n; j++) {
		uint64_t bm = ids.v[i++];
		uint64_t cust = customer_id != 0 ? customer_id : ids.v[i++];

		sigil_be32_put(kb, (uint32_t)(bm >> 32));
		sigil_be32_put(kb + 4, (uint32_t)bm);
		sigil_be64_put(kb + 8, cust);
		k = mval(kb, MK_KEY);
		if ((rc = mdb_del(txn, st->message_marks, &k, NULL)) != 0)
			break;
		if (to == 0)
			continue;
		memcpy(nk, kb, 8);
		sigil_be64_put(nk + 8, to);
		k = mval(nk, MK_KEY);
		{
			uint8_t vb[8];
			MDB_val old;

			/* The survivor's own mark, if later, wins. */
			if (mdb_get(txn, st->message_marks, &k, &old) == 0 &&
			    old.mv_size == 8 && le64_get(old.mv_data) >=
			    vals.v[j])
				continue;
			le64_put(vb, vals.v[j]);
			nv = mval(vb, 8);
			if ((rc = mdb_put(txn, st->message_marks, &k, &nv, 0))
			    != 0)
				break;
		}
	}
out:
	free(ids.v);
	free(vals.v);
	return rc;
}

static int
delete_fn(struct store *st, MDB_txn *txn, void *p)
{
	const uint8_t *kb = p;
	MDB_val k = mval(kb, 8);
	int rc;

	if ((rc = mdb_del(txn, st->messages, &k, NULL)) == MDB_NOTFOUND)
		return SIGIL_ENOTFOUND;
	if (rc != 0)
		return rc;
	return marks_cut(st, txn, kb, 8, 0, 0);
}

int
store_message_delete(struct store *st, uint32_t brand_id, uint32_t id)
{
	uint8_t kb[8];

	if (st->messages_absent)
		return SIGIL_ENOTFOUND;
	bid_key(kb, brand_id, id);
	return store_write(st, delete_fn, kb);
}

static int
md_each_step(MDB_val k, MDB_val v, void *p)
{
	const struct cb_ctx *c = p;
	struct message_def d;
	int rc;

	if ((rc = md_decode(k, v, &d)) != 0)
		return rc;
	rc = ((int (*)(void *, const struct message_def *))c->fn)(c->arg, &d);
	store_message_clear(&d);
	return rc;
}

int
store_message_each(struct store *st, uint32_t brand_id,
    int (*fn)(void *arg, const struct message_def *d), void *arg)
{
	uint8_t kb[8];

	if (st->messages_absent)
		return 0;
	bid_key(kb, brand_id, 0);
	return rows_each(st, st->messages, kb, 8, brand_id ? 4 : 0,
	    md_each_step, (any_fn)fn, arg);
}

static void
mark_key(uint8_t kb[MK_KEY], uint32_t brand_id, uint32_t id, uint64_t cust)
{
	sigil_be32_put(kb, brand_id);
	sigil_be32_put(kb + 4, id);
	sigil_be64_put(kb + 8, cust);
}

static int
mark_decode(MDB_val k, MDB_val v, void *out)
{
	if (k.mv_size != MK_KEY || v.mv_size != 8)
		return SIGIL_EIO;
	*(int64_t *)out = (int64_t)le64_get(v.mv_data);
	return 0;
}

int
store_message_mark(struct store *st, uint32_t brand_id, uint32_t id,
    uint64_t customer_id, int64_t *out)
{
	uint8_t kb[MK_KEY];

	if (st->messages_absent)
		return SIGIL_ENOTFOUND;
	mark_key(kb, brand_id, id, customer_id);
	return rows_get(st, st->message_marks, kb, MK_KEY, mark_decode, out);
}

static int
run_fn(struct store *st, MDB_txn *txn, void *p)
{
	struct message_run *r = p;
	struct message_def d;
	uint8_t kb[8], mk[MK_KEY], vb[8];
	MDB_val k, v;
	int rc;

	bid_key(kb, r->brand_id, r->id);
	if ((rc = rows_load(txn, st->messages, kb, 8, md_decode, &d)) ==
	    MDB_NOTFOUND)
		return SIGIL_ECONFLICT;
	if (rc != 0)
		return rc;
	if (d.updated != r->expect_updated) {
		rc = SIGIL_ECONFLICT;
		goto out;
	}
	for (size_t i = 0; i < r->n; i++)
		if ((rc = outbox_put(st, txn, &r->rows[i])) != 0)
			goto out;
	for (size_t i = 0; i < r->nm; i++) {
		mark_key(mk, r->brand_id, r->id, r->marks[i].customer_id);
		le64_put(vb, (uint64_t)r->marks[i].value);
		k = mval(mk, MK_KEY);
		v = mval(vb, 8);
		if ((rc = mdb_put(txn, st->message_marks, &k, &v, 0)) != 0)
			goto out;
	}
	d.last_run = r->at;
	if (d.runs < UINT32_MAX)
		d.runs++;
	d.queued += r->n;
	rc = md_write(st, txn, &d);
out:
	store_message_clear(&d);
	return rc;
}

int
store_message_run(struct store *st, struct message_run *r)
{
	if (st->messages_absent)
		return SIGIL_ENOTFOUND;
	/* outbox_put sets the rows' ids on every run of the closure: the
	 * last run is the one that committed. */
	return store_write(st, run_fn, r);
}

int
message_marks_erase(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t customer_id)
{
	uint8_t kb[4];

	if (st->messages_absent)
		return 0;
	sigil_be32_put(kb, brand_id);
	return marks_cut(st, txn, kb, 4, customer_id, 0);
}

int
message_marks_move(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t from, uint64_t to)
{
	uint8_t kb[4];

	if (st->messages_absent || to == 0)
		return 0;
	sigil_be32_put(kb, brand_id);
	return marks_cut(st, txn, kb, 4, from, to);
}
