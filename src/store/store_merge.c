/*
 * store_merge.c - two customers of a brand made one.
 *
 * A person may reach a brand as two customers: a WeChat customer (an
 * openid, no phone) and a phone customer (an SMS login), met when the
 * WeChat customer logs in with the phone, or when the phone customer's
 * device is authorised by WeChat. store_customer_merge makes them one,
 * inside the caller's write transaction, so a merge is whole or absent:
 *
 *   ledger      gone's entries move under keep's key with their ids,
 *               times and expiries, marked with their origin, and a
 *               LEDGER_MERGE entry joins the two pools (ledger.h): both
 *               histories stay, every lot keeps its expiry, keep's
 *               balance grows by exactly gone's (checked, else abort);
 *   claims      the claims' customer becomes keep; the daily claim
 *               counts and PIN failure counts are added to keep's (a
 *               daily cap counts both customers' claims of the day);
 *   orders      the customer field becomes keep;
 *   activity    gone's entries become keep's, and one ACTIVITY_MERGE
 *               entry (ref gone, points the balance moved) is appended:
 *               webhooks deliver it as customer.merged;
 *   devices     gone's device links become keep's: a session on any of
 *               them is keep's;
 *   phone       gone's phone (index and sealed value) moves to keep,
 *               which had none;
 *   the row     gone keeps its row with merged_into = keep (refused
 *               like an erased customer wherever it would earn or log
 *               in; its id resolves to keep: store_customer_resolve);
 *               keep's created is the older of the two, last_login the
 *               newer;
 *   audit       one entry, actor "customer:<keep>", action
 *               customer_merge, the counts moved as its detail;
 *   consents    gone's consent entries join keep's, seq order kept (the
 *               latest choice per purpose, of either, is the one that
 *               holds); the profile moves unless keep has its own;
 *   identities  gone's WeChat identities become keep's (ident_move);
 *   outbox      gone's messages become keep's (outbox_move), so its
 *               frequency cap counts them;
 *   payouts     gone's payouts become keep's and its cash won per day
 *               is added to keep's, so the day caps count both
 *               (payouts_move);
 *               every step of another file is in merge_moves below.
 *
 * The rule (docs/api.md "Merging customers"): the survivor is the one
 * with a phone; of two without, the older (lower id). Both with a phone,
 * or each with an identity of the same WeChat app (two openids of one
 * app, two unionids), is a conflict (SIGIL_ECONFLICT), found before
 * anything is written: two phones or two WeChat accounts are two people
 * until the brand says otherwise, and nothing is merged.
 *
 * Owns no table. May call every storage file's merge step (it sits
 * above them all but store_open.c). Must never commit: its callers own
 * the transaction and abort it on any error.
 */
#include <stdio.h>
#include <string.h>

#include "sigil/store.h"
#include "sigil/util.h"
#include "store_impl.h"

/*
 * The customer-keyed tables other files own, each moved by its own
 * function: a table added later adds its line here.
 */
typedef int (*move_fn)(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t from, uint64_t to);
static const move_fn merge_moves[] = {
	orders_move,
	activity_move,
	consent_move,		/* store_consent.c: the history, in seq order */
	profile_move,		/* ... keep's own profile wins */
	ident_move,		/* store_idents.c: two openids of one app conflict */
	outbox_move,		/* store_outbox.c: messages to the customer */
	bonuses_move,		/* store_bonuses.c: keep's own bonus wins */
	sellers_move,		/* store_sellers.c: keep's own store wins */
	message_marks_move,	/* store_messages.c: the later mark wins */
	segfacts_move,		/* store_segments.c: products, campaigns claimed */
	payouts_move,		/* store_cash.c: payouts, the day's cash won */
};

static int
merge_audit(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t keep, uint64_t gone, int64_t at, int64_t points,
    size_t entries, size_t claims, size_t devices)
{
	struct audit_entry *e;
	int rc;

	/* 2.4 KiB: off the writer's stack. */
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return SIGIL_ENOMEM;
	e->brand_id = brand_id;
	e->at = at;
	e->actor_kind = AUDIT_ACTOR_CUSTOMER;
	snprintf(e->actor, sizeof e->actor, "%llu", (unsigned long long)keep);
	snprintf(e->action, sizeof e->action, "customer_merge");
	snprintf(e->target_type, sizeof e->target_type, "customer");
	snprintf(e->target_id, sizeof e->target_id, "%llu",
	    (unsigned long long)keep);
	snprintf(e->detail, sizeof e->detail, "{\"kept\":%llu,\"gone\":%llu,"
	    "\"points\":%lld,\"ledger_entries\":%zu,\"claims\":%zu,"
	    "\"devices\":%zu}", (unsigned long long)keep,
	    (unsigned long long)gone, (long long)points, entries, claims,
	    devices);
	rc = audit_put(st, txn, e);
	free(e);
	return rc;
}

int
store_customer_merge(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t keep, uint64_t gone, int64_t at)
{
	struct customer k, g;
	int64_t points = 0;
	size_t entries = 0, claims = 0, devices = 0;
	int rc;

	if (keep == 0 || gone == 0 || keep == gone)
		return SIGIL_EINVAL;
	if ((rc = customer_live(st, txn, brand_id, keep, &k)) != 0 ||
	    (rc = customer_live(st, txn, brand_id, gone, &g)) != 0)
		return map_err(rc);
	/* Every refusal comes before the first write. */
	if (k.phone_ct_len != 0 && g.phone_ct_len != 0)
		return SIGIL_ECONFLICT;
	if ((rc = ident_conflict(st, txn, brand_id, gone, keep)) != 0)
		return rc < 0 ? map_err(rc) : SIGIL_ECONFLICT;
	if ((rc = ledger_merge(st, txn, brand_id, gone, keep, at, &points,
	    &entries)) != 0 ||
	    (rc = claims_move(st, txn, brand_id, gone, keep, &claims)) != 0 ||
	    (rc = customer_devices_move(st, txn, brand_id, gone, keep,
	    &devices)) != 0)
		return map_err(rc);
	for (size_t i = 0; i < sizeof merge_moves / sizeof merge_moves[0];
	    i++)
		if ((rc = merge_moves[i](st, txn, brand_id, gone, keep)) != 0)
			return map_err(rc);
	/* The rows: the phone goes with gone's other data. */
	if ((rc = customer_load(st, txn, brand_id, keep, &k)) != 0)
		return map_err(rc);
	if (g.created != 0 && (k.created == 0 || g.created < k.created))
		k.created = g.created;
	if (g.last_login > k.last_login)
		k.last_login = g.last_login;
	if (g.phone_ct_len != 0) {
		uint8_t hash[32];

		memcpy(hash, g.phone_hash, 32);
		/* the index entry is gone's: point it at keep */
		if ((rc = customer_phone_unbind(st, txn, &g)) != 0 ||
		    (rc = customer_phone_set(st, txn, &k, hash, g.phone_ct,
		    g.phone_ct_len)) != 0)
			return map_err(rc);
	} else if ((rc = customer_store(st, txn, &k)) != 0)
		return map_err(rc);
	memset(g.phone_hash, 0, sizeof g.phone_hash);
	memset(g.phone_ct, 0, sizeof g.phone_ct);
	g.phone_ct_len = 0;
	g.merged_into = keep;
	g.merged_at = at != 0 ? at : 1;
	if ((rc = customer_store(st, txn, &g)) != 0 ||
	    (rc = activity_event(st, txn, brand_id, ACTIVITY_MERGE, at, keep,
	    gone, points)) != 0 ||
	    (rc = merge_audit(st, txn, brand_id, keep, gone, at, points,
	    entries, claims, devices)) != 0)
		return map_err(rc);
	return 0;
}

int
store_merge_survivor(const struct customer *a, const struct customer *b,
    uint64_t *keep, uint64_t *gone)
{
	int pa = a->phone_ct_len != 0, pb = b->phone_ct_len != 0;

	if (pa && pb)
		return SIGIL_ECONFLICT;
	if (pa || (!pb && a->id < b->id)) {
		*keep = a->id;
		*gone = b->id;
	} else {
		*keep = b->id;
		*gone = a->id;
	}
	return 0;
}

int
store_customer_merge_rule(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t a, uint64_t b, int64_t at, uint64_t *kept)
{
	struct customer ca, cb;
	uint64_t keep, gone;
	int rc;

	if (a == 0 || b == 0 || a == b)
		return SIGIL_EINVAL;
	if ((rc = customer_live(st, txn, brand_id, a, &ca)) != 0 ||
	    (rc = customer_live(st, txn, brand_id, b, &cb)) != 0)
		return map_err(rc);
	if ((rc = store_merge_survivor(&ca, &cb, &keep, &gone)) != 0 ||
	    (rc = store_customer_merge(st, txn, brand_id, keep, gone,
	    at)) != 0)
		return rc;
	*kept = keep;
	return 0;
}

/* ---- the same in a transaction of its own ---- */

struct merge_arg {
	uint32_t	brand_id;
	uint64_t	a, b;
	int64_t		at;
	uint64_t	kept;
};

static int
merge_fn(struct store *st, MDB_txn *txn, void *p)
{
	struct merge_arg *m = p;

	return store_customer_merge_rule(st, txn, m->brand_id, m->a, m->b,
	    m->at, &m->kept);
}

int
store_customers_merge(struct store *st, uint32_t brand_id, uint64_t a,
    uint64_t b, int64_t at, uint64_t *kept)
{
	struct merge_arg m = { brand_id, a, b, at, 0 };

	if (st->loyalty_absent || (st->flags & STORE_RDONLY))
		return SIGIL_EDENIED;
	return STORE_WRITE_OUT(st, merge_fn, &m, m.kept, kept);
}

/* ---- a phone login, and the phone bound to a phone-less customer ---- */

struct login_arg {
	uint32_t		 brand_id;
	uint64_t		 device;
	const uint8_t		*hash, *ct;
	size_t			 ct_len;
	int64_t			 now;
	struct claim_credit	*bonus;
	size_t			 nbonus;
	int64_t			 bonus_expires;
	struct phone_login	 out;
};

static int
phone_login_fn(struct store *st, MDB_txn *txn, void *p)
{
	struct login_arg *a = p;
	struct phone_login *o = &a->out;
	struct customer d, ph;
	uint64_t did = 0;
	int rc, have_d = 0;

	memset(o, 0, sizeof *o);
	if (a->device != 0) {
		uint8_t lk[12];
		MDB_val k = mval(lk, 12), v;

		sigil_be32_put(lk, a->brand_id);
		sigil_be64_put(lk + 4, a->device);
		rc = mdb_get(txn, st->device_links, &k, &v);
		if (rc == 0 && v.mv_size == 8)
			did = sigil_be64_get(v.mv_data);
		else if (rc != 0 && rc != MDB_NOTFOUND)
			return rc;
		/* an erased or merged customer's device is a fresh one */
		have_d = did != 0 &&
		    customer_live(st, txn, a->brand_id, did, &d) == 0;
	}
	rc = customer_phone_find(st, txn, a->brand_id, a->hash, &ph);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	if (have_d && d.phone_ct_len == 0 && rc == MDB_NOTFOUND) {
		/* a WeChat customer gives a new phone: it is theirs */
		if ((rc = customer_phone_set(st, txn, &d, a->hash, a->ct,
		    a->ct_len)) != 0)
			return rc;
		o->cu = d;
		o->bound = 1;
	} else if (have_d && d.phone_ct_len == 0 && ph.id != d.id) {
		/* the phone is another customer's: the two become one */
		if ((rc = store_customer_merge_rule(st, txn, a->brand_id,
		    ph.id, d.id, a->now, &o->cu.id)) != 0)
			return rc;
		o->merged = o->cu.id == ph.id ? d.id : ph.id;
	} else if ((rc = customer_by_phone_txn(st, txn, a->brand_id, a->hash,
	    a->ct, a->ct_len, a->now, &o->cu, &o->created)) != 0)
		return rc;
	if (a->device != 0 && (rc = device_link_txn(st, txn, a->brand_id,
	    a->device, o->cu.id, a->now, &did)) != 0)
		return rc;
	/* a customer made now: the registration bonuses (store_credits.c) */
	for (size_t i = 0; i < a->nbonus; i++) {
		a->bonus[i].dropped = 1;
		if (o->created && (rc = bonus_pay(st, txn, a->brand_id,
		    o->cu.id, &a->bonus[i], a->now, a->bonus_expires)) != 0)
			return rc;
	}
	return customer_load(st, txn, a->brand_id, o->cu.id, &o->cu);
}

int
store_phone_login(struct store *st, uint32_t brand_id, uint64_t device,
    const uint8_t hash[32], const uint8_t *ct, size_t ct_len, int64_t now,
    struct phone_login *out)
{
	return store_phone_login_bonus(st, brand_id, device, hash, ct, ct_len,
	    now, NULL, 0, 0, out);
}

int
store_phone_login_bonus(struct store *st, uint32_t brand_id,
    uint64_t device, const uint8_t hash[32], const uint8_t *ct,
    size_t ct_len, int64_t now, struct claim_credit *bonus, size_t nbonus,
    int64_t bonus_expires, struct phone_login *out)
{
	struct login_arg a;
	int rc;

	if (hash == NULL || ct == NULL || ct_len == 0 ||
	    ct_len > STORE_PHONE_CT_MAX || out == NULL)
		return SIGIL_EINVAL;
	memset(&a, 0, sizeof a);
	a.brand_id = brand_id;
	a.device = device;
	a.hash = hash;
	a.ct = ct;
	a.ct_len = ct_len;
	a.now = now;
	if (nbonus > 0 && (bonus == NULL || nbonus > STORE_REG_BONUS_MAX))
		return SIGIL_EINVAL;
	/* the bonuses worked on in a copy: a retried run starts afresh */
	struct claim_credit work[STORE_REG_BONUS_MAX];

	a.bonus = work;
	a.nbonus = nbonus;
	a.bonus_expires = bonus_expires;
	if (nbonus > 0)
		memcpy(work, bonus, nbonus * sizeof *work);
	rc = STORE_WRITE_OUT(st, phone_login_fn, &a, a.out, out);
	if (rc == 0 && nbonus > 0)
		memcpy(bonus, work, nbonus * sizeof *work);
	return rc;
}
