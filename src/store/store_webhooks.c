/*
 * store_webhooks.c - webhook subscriptions and their delivery cursors
 * (webhooks), keyed brand || id (bid_key), one row a subscription.
 *
 * webhook.c reads every subscription each round, delivers the scans and
 * the activity entries past its cursors, and writes back only the
 * delivery fields (store_webhook_progress): a pause, resume or removal
 * in between is read again, never overwritten by a stale copy. The
 * secret is stored sealed (AES-GCM, by the caller); the store never
 * sees it in clear.
 *
 * Owns the table webhooks.
 * It may call store_env.c's runner and snapshot and store_rows.c; it must
 * never call the other late tables' files, nor read the scans or the
 * activity it points into (webhook.c does, through their own calls).
 */
#include <string.h>

#include <lmdb.h>

#include "sigil/store.h"
#include "sigil/util.h"
#include "store_impl.h"

#define HOOK_FIXED_LEN		53

static size_t
hook_encode(const struct webhook *w, uint8_t *p)
{
	size_t ul = strlen(w->url);

	p[0] = (uint8_t)w->events;
	p[1] = (uint8_t)(w->active != 0);
	p[2] = (uint8_t)w->secret_ct_len;
	le16_put(p + 3, (uint16_t)ul);
	le64_put(p + 5, (uint64_t)w->created);
	le64_put(p + 13, w->scan_cursor);
	le64_put(p + 21, w->activity_cursor);
	le32_put(p + 29, w->attempts);
	le64_put(p + 33, (uint64_t)w->next_try);
	le32_put(p + 41, (uint32_t)w->last_status);
	le64_put(p + 45, w->delivered);
	memcpy(p + HOOK_FIXED_LEN, w->url, ul);
	memcpy(p + HOOK_FIXED_LEN + ul, w->secret_ct, w->secret_ct_len);
	return HOOK_FIXED_LEN + ul + w->secret_ct_len;
}

static int
hook_decode(MDB_val k, MDB_val v, void *out)
{
	const uint8_t *p = v.mv_data;
	struct webhook w = { 0 };
	size_t ul, sl;

	if (k.mv_size != 8 || v.mv_size < HOOK_FIXED_LEN)
		return SIGIL_EIO;
	ul = le16_get(p + 3);
	sl = p[2];
	if (ul > STORE_URL_MAX || sl > STORE_PHONE_CT_MAX ||
	    v.mv_size != HOOK_FIXED_LEN + ul + sl)
		return SIGIL_EIO;
	w.brand_id = sigil_be32_get(k.mv_data);
	w.id = sigil_be32_get((const uint8_t *)k.mv_data + 4);
	w.events = p[0];
	w.active = p[1];
	w.secret_ct_len = sl;
	w.created = (int64_t)le64_get(p + 5);
	w.scan_cursor = le64_get(p + 13);
	w.activity_cursor = le64_get(p + 21);
	w.attempts = le32_get(p + 29);
	w.next_try = (int64_t)le64_get(p + 33);
	w.last_status = (int32_t)le32_get(p + 41);
	w.delivered = le64_get(p + 45);
	memcpy(w.url, p + HOOK_FIXED_LEN, ul);
	memcpy(w.secret_ct, p + HOOK_FIXED_LEN + ul, sl);
	*(struct webhook *)out = w;
	return 0;
}

static int
hook_put(struct store *st, MDB_txn *txn, const void *row)
{
	const struct webhook *w = row;
	uint8_t kb[8], vb[HOOK_FIXED_LEN + STORE_URL_MAX + STORE_PHONE_CT_MAX];
	MDB_val k = mval(kb, 8), v;

	bid_key(kb, w->brand_id, w->id);
	v = mval(vb, hook_encode(w, vb));
	return mdb_put(txn, st->webhooks, &k, &v, 0);
}

int
store_webhook_add(struct store *st, struct webhook *w)
{
	struct webhook x;

	if (w == NULL || !text_ok(w->url, sizeof(w->url), STORE_URL_MAX, 0) ||
	    w->secret_ct_len > STORE_PHONE_CT_MAX || w->events <= 0 ||
	    (w->events & ~(HOOK_SCAN | HOOK_CLAIM | HOOK_CUSTOMER)))
		return SIGIL_EINVAL;
	x = *w;
	x.created = sigil_now_us();
	return rows_add(st, st->webhooks, hook_put, &x, x.brand_id, &x.id, w,
	    sizeof(x));
}

int
store_webhook_get(struct store *st, uint32_t brand_id, uint32_t id,
    struct webhook *out)
{
	return rows_get_bid(st, st->webhooks, brand_id, id, hook_decode, out);
}

ROWS_EACH_STEP(hook_each_one, struct webhook, hook_decode)

int
store_webhook_each(struct store *st,
    int (*fn)(void *arg, const struct webhook *w), void *arg)
{
	uint8_t kb[1] = { 0 };

	return rows_each(st, st->webhooks, kb, 1, 0, hook_each_one, (any_fn)fn,
	    arg);
}

/* What a progress or state write changes; the rest stays as stored. */
struct hook_arg {
	struct webhook	 w;
	int		 progress;	/* 1: delivery fields, 0: active */
	int		 del;
};

static int
hook_update_fn(struct store *st, MDB_txn *txn, void *p)
{
	struct hook_arg *a = p;
	uint8_t kb[8];
	MDB_val k = mval(kb, 8);
	struct webhook cur;
	int rc;

	bid_key(kb, a->w.brand_id, a->w.id);
	if ((rc = rows_load(txn, st->webhooks, kb, 8, hook_decode,
	    &cur)) != 0)
		return rc;
	if (a->del)
		return mdb_del(txn, st->webhooks, &k, NULL);
	if (a->progress) {
		cur.scan_cursor = a->w.scan_cursor;
		cur.activity_cursor = a->w.activity_cursor;
		cur.attempts = a->w.attempts;
		cur.next_try = a->w.next_try;
		cur.last_status = a->w.last_status;
		cur.delivered = a->w.delivered;
	} else
		cur.active = a->w.active != 0;
	return hook_put(st, txn, &cur);
}

int
store_webhook_progress(struct store *st, const struct webhook *w)
{
	struct hook_arg a = { *w, 1, 0 };

	return store_write(st, hook_update_fn, &a);
}

int
store_webhook_set_active(struct store *st, uint32_t brand_id, uint32_t id,
    int active)
{
	struct hook_arg a = { { 0 }, 0, 0 };

	a.w.brand_id = brand_id;
	a.w.id = id;
	a.w.active = active;
	return store_write(st, hook_update_fn, &a);
}

int
store_webhook_del(struct store *st, uint32_t brand_id, uint32_t id)
{
	struct hook_arg a = { { 0 }, 0, 1 };

	a.w.brand_id = brand_id;
	a.w.id = id;
	return store_write(st, hook_update_fn, &a);
}
