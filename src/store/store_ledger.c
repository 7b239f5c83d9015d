/*
 * store_ledger.c - the points ledger (ledger, key brand || customer ||
 * global id: immutable EARN, REDEEM, EXPIRE and ADJUST entries) and the
 * redemption catalog (items, brand || id, with its stock).
 *
 * One customer's entries are one key range in id order. Balances are
 * never stored: every write that needs one replays the range through
 * ledger.c, first appending the EXPIRE entries due at the entry's time
 * (ledger_settle), so the ledger on disk always reads the same as the
 * arithmetic. A redemption is one transaction: it settles, checks the
 * balance and the stock, appends the REDEEM entry, draws the stock down
 * and logs the activity and the counters: the brand's, and the campaign's
 * whose points it spends most of (earn_campaigns, written beside each
 * claim's EARN entry).
 *
 * Owns the tables ledger, items and earn_campaigns, and the meta counter
 * next_ledger.
 * It may call store_env.c's runner and snapshot, store_rows.c,
 * store_customers.c (customer_live, activity_event), store_counters.c
 * (stats_add, stats_flush) and ledger.c (pure arithmetic); it must never
 * call store_claims.c, which calls ledger_settle and ledger_put here
 * from its claims' transaction.
 */
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "sigil/ledger.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "store_impl.h"

#define LEDGER_KEY_LEN		20
#define LEDGER_REC_LEN		33
#define LEDGER_MOVED_LEN	41	/* a moved entry: + origin u64 */
#define ITEM_FIXED_LEN		24

static void
ledger_key(uint8_t *p, uint32_t brand_id, uint64_t customer_id, uint64_t id)
{
	sigil_be32_put(p, brand_id);
	sigil_be64_put(p + 4, customer_id);
	sigil_be64_put(p + 12, id);
}

static int
ledger_decode(MDB_val k, MDB_val v, struct ledger_entry *out)
{
	const uint8_t *p = v.mv_data;
	struct ledger_entry e = { 0 };

	if (k.mv_size != LEDGER_KEY_LEN || (v.mv_size != LEDGER_REC_LEN &&
	    v.mv_size != LEDGER_MOVED_LEN) ||
	    p[0] < LEDGER_EARN || p[0] > LEDGER_MERGE)
		return SIGIL_EIO;
	e.brand_id = sigil_be32_get(k.mv_data);
	e.customer_id = sigil_be64_get((const uint8_t *)k.mv_data + 4);
	e.id = sigil_be64_get((const uint8_t *)k.mv_data + 12);
	e.type = p[0];
	e.points = (int64_t)le64_get(p + 1);
	e.at = (int64_t)le64_get(p + 9);
	e.expires_at = (int64_t)le64_get(p + 17);
	e.ref = le64_get(p + 25);
	if (v.mv_size == LEDGER_MOVED_LEN)
		e.origin = le64_get(p + LEDGER_REC_LEN);
	*out = e;
	return 0;
}

static int
entries_push(struct ledger_entries *a, const struct ledger_entry *e)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 32;
		struct ledger_entry *v = realloc(a->v, cap * sizeof(*v));

		if (v == NULL)
			return SIGIL_ENOMEM;
		a->v = v;
		a->cap = cap;
	}
	a->v[a->n++] = *e;
	return 0;
}

/* The customer's entries in id order, appended to out. */
static int
ledger_load(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t customer_id, struct ledger_entries *out)
{
	uint8_t kb[LEDGER_KEY_LEN];
	MDB_cursor *cur;
	MDB_val k = mval(kb, LEDGER_KEY_LEN), v;
	struct ledger_entry e;
	int rc;

	ledger_key(kb, brand_id, customer_id, 0);
	if ((rc = mdb_cursor_open(txn, st->ledger, &cur)) != 0)
		return rc;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != LEDGER_KEY_LEN || memcmp(k.mv_data, kb, 12))
			break;
		if ((rc = ledger_decode(k, v, &e)) != 0 ||
		    (rc = entries_push(out, &e)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* e's row under its key (brand, customer, id). */
static int
ledger_row_put(struct store *st, MDB_txn *txn, const struct ledger_entry *e)
{
	uint8_t kb[LEDGER_KEY_LEN], vb[LEDGER_MOVED_LEN];
	MDB_val k = mval(kb, LEDGER_KEY_LEN), v;

	ledger_key(kb, e->brand_id, e->customer_id, e->id);
	vb[0] = (uint8_t)e->type;
	le64_put(vb + 1, (uint64_t)e->points);
	le64_put(vb + 9, (uint64_t)e->at);
	le64_put(vb + 17, (uint64_t)e->expires_at);
	le64_put(vb + 25, e->ref);
	le64_put(vb + LEDGER_REC_LEN, e->origin);
	v = mval(vb, e->origin != 0 ? LEDGER_MOVED_LEN : LEDGER_REC_LEN);
	return mdb_put(txn, st->ledger, &k, &v, MDB_NOOVERWRITE);
}

int
ledger_put(struct store *st, MDB_txn *txn, struct ledger_entry *e,
    struct ledger_entries *all)
{
	int rc;

	if ((rc = rows_global_id(st, txn, "next_ledger", &e->id)) != 0)
		return rc;
	if ((rc = ledger_row_put(st, txn, e)) != 0)
		return rc;
	return all ? entries_push(all, e) : 0;
}

int
ledger_merge(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t from, uint64_t to, int64_t at, int64_t *moved,
    size_t *entries)
{
	struct ledger_entries mine = { 0 }, theirs = { 0 }, after = { 0 };
	struct ledger_entry m = { 0 };
	uint8_t kb[LEDGER_KEY_LEN];
	int64_t bal_to, bal_from, bal;
	MDB_val k;
	int rc;

	/* Each settled at the merge: lapsed lots expired under their own. */
	if ((rc = ledger_settle(st, txn, brand_id, to, at, &mine,
	    &bal_to)) != 0 ||
	    (rc = ledger_settle(st, txn, brand_id, from, at, &theirs,
	    &bal_from)) != 0)
		goto out;
	for (size_t i = 0; i < theirs.n; i++) {
		struct ledger_entry e = theirs.v[i];

		ledger_key(kb, brand_id, from, e.id);
		k = mval(kb, LEDGER_KEY_LEN);
		if ((rc = mdb_del(txn, st->ledger, &k, NULL)) != 0)
			goto out;
		if (e.origin == 0)
			e.origin = from;
		e.customer_id = to;
		if ((rc = ledger_row_put(st, txn, &e)) != 0)
			goto out;
	}
	m.brand_id = brand_id;
	m.customer_id = to;
	m.type = LEDGER_MERGE;
	m.at = at;
	m.ref = from;
	if ((rc = ledger_put(st, txn, &m, NULL)) != 0 ||
	    (rc = ledger_load(st, txn, brand_id, to, &after)) != 0)
		goto out;
	/* The merged ledger must read as the two did: else abort. */
	if ((rc = ledger_balance(after.v, after.n, at, &bal)) != 0 ||
	    __builtin_add_overflow(bal_to, bal_from, &bal_to) ||
	    bal != bal_to) {
		rc = SIGIL_EIO;
		goto out;
	}
	*moved = bal_from;
	*entries = theirs.n;
out:
	free(mine.v);
	free(theirs.v);
	free(after.v);
	return rc;
}

int
ledger_settle(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t customer_id, int64_t now, struct ledger_entries *all,
    int64_t *balance)
{
	struct ledger_entry *due = NULL;
	size_t ndue = 0;
	int rc;

	if ((rc = ledger_load(st, txn, brand_id, customer_id, all)) != 0)
		return rc;
	/* A ledger the arithmetic refuses is a corrupt file, not bad input. */
	if ((rc = ledger_due_expiries(all->v, all->n, now, &due, &ndue)) != 0)
		return rc == SIGIL_EINVAL ? SIGIL_EIO : rc;
	for (size_t i = 0; i < ndue && rc == 0; i++)
		rc = ledger_put(st, txn, &due[i], all);
	free(due);
	if (rc == 0 && balance) {
		rc = ledger_balance(all->v, all->n, now, balance);
		if (rc == SIGIL_EINVAL)
			rc = SIGIL_EIO;
	}
	return rc;
}

static int
ledger_append_fn(struct store *st, MDB_txn *txn, void *p)
{
	struct ledger_entry *e = p;
	struct ledger_entries all = { 0 };
	struct customer c;
	int64_t bal;
	int rc;

	if ((rc = customer_live(st, txn, e->brand_id, e->customer_id,
	    &c)) != 0)
		return rc;
	if ((rc = ledger_settle(st, txn, e->brand_id, e->customer_id, e->at,
	    &all, &bal)) != 0)
		goto out;
	if (e->type == LEDGER_REDEEM && bal < -e->points) {
		rc = SIGIL_EFULL;
		goto out;
	}
	if ((rc = ledger_put(st, txn, e, &all)) != 0)
		goto out;
	/* Whatever the caller appended must still replay (an EXPIRE must
	 * name a lapsed lot and take no more than it holds, ...). */
	rc = ledger_balance(all.v, all.n, e->at, &bal);
out:
	free(all.v);
	return rc;
}

int
store_ledger_append(struct store *st, struct ledger_entry *e)
{
	struct ledger_entry w;

	if (e == NULL || e->type < LEDGER_EARN || e->type > LEDGER_ADJUST ||
	    e->points == 0 || e->points == INT64_MIN ||
	    (e->type == LEDGER_EARN && e->points < 0) ||
	    ((e->type == LEDGER_REDEEM || e->type == LEDGER_EXPIRE) &&
	    e->points > 0))
		return SIGIL_EINVAL;
	w = *e;
	if (w.at == 0)
		w.at = sigil_now_us();
	return STORE_WRITE_OUT(st, ledger_append_fn, &w, w, e);
}

ROWS_EACH_STEP(ledger_each_one, struct ledger_entry, ledger_decode)

int
store_ledger_each(struct store *st, uint32_t brand_id,
    uint64_t customer_id,
    int (*fn)(void *arg, const struct ledger_entry *e), void *arg)
{
	uint8_t kb[LEDGER_KEY_LEN];

	ledger_key(kb, brand_id, customer_id, 0);
	return rows_each(st, st->ledger, kb, LEDGER_KEY_LEN, 12,
	    ledger_each_one, (any_fn)fn, arg);
}

/* ---- redemption catalog ---- */

/* Decodes in place: out is only written once the row is known good. */
static int
item_decode(MDB_val k, MDB_val v, void *out)
{
	const uint8_t *p = v.mv_data;
	size_t n = v.mv_size - ITEM_FIXED_LEN;
	struct reward_item *it = out;

	if (k.mv_size != 8 || v.mv_size < ITEM_FIXED_LEN ||
	    n > STORE_TEXT_BYTES)
		return SIGIL_EIO;
	memset(it, 0, sizeof(*it));
	it->brand_id = sigil_be32_get(k.mv_data);
	it->id = sigil_be32_get((const uint8_t *)k.mv_data + 4);
	it->cost = (int64_t)le64_get(p);
	it->stock = (int64_t)le64_get(p + 8);
	it->created = (int64_t)le64_get(p + 16);
	memcpy(it->name, p + ITEM_FIXED_LEN, n);
	return 0;
}

static int
item_put(struct store *st, MDB_txn *txn, const void *row)
{
	const struct reward_item *it = row;
	uint8_t kb[8], vb[ITEM_FIXED_LEN + STORE_TEXT_BYTES];
	size_t n = strlen(it->name);
	MDB_val k = mval(kb, 8), v = mval(vb, ITEM_FIXED_LEN + n);

	bid_key(kb, it->brand_id, it->id);
	le64_put(vb, (uint64_t)it->cost);
	le64_put(vb + 8, (uint64_t)it->stock);
	le64_put(vb + 16, (uint64_t)it->created);
	memcpy(vb + ITEM_FIXED_LEN, it->name, n);
	return mdb_put(txn, st->items, &k, &v, 0);
}

int
store_item_add(struct store *st, struct reward_item *it)
{
	struct reward_item w;

	if (it == NULL || !text_ok(it->name, sizeof(it->name), STORE_TEXT_MAX,
	    0) || it->cost <= 0 || it->stock < -1)
		return SIGIL_EINVAL;
	w = *it;
	w.created = sigil_now_us();
	return rows_add(st, st->items, item_put, &w, w.brand_id, &w.id, it,
	    sizeof(w));
}

int
store_item_get(struct store *st, uint32_t brand_id, uint32_t id,
    struct reward_item *out)
{
	return rows_get_bid(st, st->items, brand_id, id, item_decode, out);
}

ROWS_EACH_STEP(item_each_one, struct reward_item, item_decode)

int
store_item_each(struct store *st, uint32_t brand_id,
    int (*fn)(void *arg, const struct reward_item *it), void *arg)
{
	uint8_t kb[8];

	bid_key(kb, brand_id, 0);
	return rows_each(st, st->items, kb, 8, 4, item_each_one, (any_fn)fn,
	    arg);
}

int
ledger_earn_campaign(struct store *st, MDB_txn *txn,
    const struct ledger_entry *earn, uint32_t campaign_id)
{
	uint8_t kb[12], vb[4];
	MDB_val k = mval(kb, 12), v = mval(vb, 4);

	if (campaign_id == 0)
		return 0;
	sigil_be32_put(kb, earn->brand_id);
	sigil_be64_put(kb + 4, earn->id);
	le32_put(vb, campaign_id);
	return mdb_put(txn, st->earn_campaigns, &k, &v, 0);
}

/*
 * The campaign whose points a redemption of cost at now spends most of
 * (ledger_spend_lot: oldest points first, as spending and expiry go);
 * 0 when they came from no campaign (an adjustment, or points earned
 * before campaigns were noted).
 */
static int
redeem_campaign(struct store *st, MDB_txn *txn, uint32_t brand_id,
    const struct ledger_entries *all, int64_t cost, int64_t now,
    uint32_t *campaign_id)
{
	uint8_t kb[12];
	MDB_val k = mval(kb, 12), v;
	uint64_t lot = 0;
	int rc;

	*campaign_id = 0;
	if (ledger_spend_lot(all->v, all->n, cost, now, &lot) != 0 ||
	    lot == 0)
		return 0;
	sigil_be32_put(kb, brand_id);
	sigil_be64_put(kb + 4, lot);
	if ((rc = mdb_get(txn, st->earn_campaigns, &k, &v)) == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (v.mv_size != 4)
		return SIGIL_EIO;
	*campaign_id = le32_get(v.mv_data);
	return 0;
}

struct redeem_arg {
	uint32_t		brand_id, item_id;
	uint64_t		customer_id;
	int64_t			now;
	struct ledger_entry	e;
	struct redeem_order	*order;	/* NULL: none */
};

static int
redeem_fn(struct store *st, MDB_txn *txn, void *p)
{
	struct redeem_arg *a = p;
	uint8_t kb[8];
	struct ledger_entries all = { 0 };
	struct reward_item it;
	struct stat_acc *acc;
	struct customer c;
	int64_t bal;
	uint32_t h, campaign_id = 0;
	int rc;

	if ((rc = customer_live(st, txn, a->brand_id, a->customer_id,
	    &c)) != 0)
		return rc;
	bid_key(kb, a->brand_id, a->item_id);
	if ((rc = rows_load(txn, st->items, kb, 8, item_decode, &it)) != 0)
		return rc;
	rc = ledger_settle(st, txn, a->brand_id, a->customer_id, a->now, &all,
	    &bal);
	if (rc == 0 && bal >= it.cost)
		rc = redeem_campaign(st, txn, a->brand_id, &all, it.cost, a->now,
		    &campaign_id);
	free(all.v);
	if (rc != 0)
		return rc;
	if (bal < it.cost)
		return SIGIL_EFULL;
	if (it.stock == 0)
		return SIGIL_ESTATE;
	memset(&a->e, 0, sizeof(a->e));
	a->e.brand_id = a->brand_id;
	a->e.customer_id = a->customer_id;
	a->e.type = LEDGER_REDEEM;
	a->e.points = -it.cost;
	a->e.at = a->now;
	a->e.ref = a->item_id;
	if ((rc = ledger_put(st, txn, &a->e, NULL)) != 0)
		return rc;
	if (a->order != NULL) {
		a->order->brand_id = a->brand_id;
		a->order->id = a->e.id;
		a->order->customer_id = a->customer_id;
		a->order->item_id = a->item_id;
		a->order->status = ORDER_OPEN;
		a->order->created = a->now;
		a->order->fulfilled = 0;
		if ((rc = order_put(st, txn, a->order)) != 0)
			return rc;
	}
	if (it.stock > 0) {
		it.stock--;
		if ((rc = item_put(st, txn, &it)) != 0)
			return rc;
	}
	if ((rc = activity_event(st, txn, a->brand_id, ACTIVITY_REDEEM,
	    a->now, a->customer_id, a->e.id, it.cost)) != 0 ||
	    !stats_hour(a->now, &h))
		return rc;
	if ((acc = calloc(1, sizeof(*acc))) == NULL)
		return SIGIL_ENOMEM;
	if ((rc = stats_add(st, txn, acc, a->brand_id, STAT_REDEMPTIONS,
	    DIM_BRAND, 0, h, 1)) == 0 && (campaign_id == 0 ||
	    (rc = stats_add(st, txn, acc, a->brand_id, STAT_REDEMPTIONS,
	    DIM_CAMPAIGN, campaign_id, h, 1)) == 0))
		rc = stats_flush(st, txn, acc);
	free(acc);
	return rc;
}

int
store_redeem(struct store *st, uint32_t brand_id, uint64_t customer_id,
    uint32_t item_id, int64_t now, struct ledger_entry *entry)
{
	struct redeem_arg a = { brand_id, item_id, customer_id, now, { 0 },
	    NULL };

	return STORE_WRITE_OUT(st, redeem_fn, &a, a.e, entry);
}

int
store_redeem_order(struct store *st, uint32_t brand_id,
    uint64_t customer_id, uint32_t item_id, int64_t now,
    struct redeem_order *order, struct ledger_entry *entry)
{
	struct redeem_order w;
	struct redeem_arg a = { brand_id, item_id, customer_id, now, { 0 },
	    &w };
	int rc;

	if (order == NULL || order_check(order) != 0)
		return SIGIL_EINVAL;
	w = *order;
	if ((rc = STORE_WRITE_OUT(st, redeem_fn, &a, a.e, entry)) == 0)
		*order = w;
	return rc;
}
