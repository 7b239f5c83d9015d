/*
 * store_wechat.c - what a WeChat login writes, in one transaction
 * (store_wechat_link: the customer found or made, identities bound, the
 * device linked, the login logged), the brands' WeChat applications
 * (wechat_config: brand -> app ids and sealed AppSecrets; wechat_appids:
 * app id -> brand and kind, so that an app id is one brand's and the
 * mini-program endpoint finds its brand), and the OAuth states already
 * spent (wechat_states: brand || expiry BE64 || nonce -> "").
 *
 * The secrets arrive sealed (wechat.c seals them under the keyring
 * secret "wechat-enc"): this file stores bytes. A spent state is kept
 * until its expiry, after which the state's own signature refuses it;
 * each spend drops a few of the brand's expired ones, keyed by expiry so
 * that they are the first rows of the brand.
 *
 * Owns the tables wechat_config, wechat_appids and wechat_states. May
 * call store_env.c, store_rows.c, store_idents.c (the identity rows),
 * store_customers.c (a customer made, a device linked, the activity
 * entry) and store_merge.c (the device's customer made one with the
 * WeChat one); nothing below calls it.
 */
#include <string.h>

#include <lmdb.h>

#include "sigil/store.h"
#include "sigil/util.h"
#include "store_impl.h"

#define WX_CONFIG_MAX	(9 + 2 * (2 + STORE_WX_APPID_MAX + \
			    STORE_WX_SECRET_CT_MAX))
#define WX_STATE_KEY	20	/* brand 4 || expiry 8 || nonce 8 */
#define WX_STATE_SWEEP	8	/* expired states dropped per spend */

/* ---- a login ---- */

static int
device_customer_txn(struct store *st, MDB_txn *txn, uint32_t brand_id,
    uint64_t device, uint64_t *out)
{
	uint8_t kb[12];
	MDB_val k = mval(kb, 12), v;
	int rc;

	sigil_be32_put(kb, brand_id);
	sigil_be64_put(kb + 4, device);
	if ((rc = mdb_get(txn, st->device_links, &k, &v)) != 0)
		return rc;
	if (v.mv_size != 8)
		return SIGIL_EIO;
	*out = sigil_be64_get(v.mv_data);
	return 0;
}

/* The device's customer, when it may take these identities: 1. */
static int
device_takes(struct store *st, MDB_txn *txn, const struct wechat_link *l,
    struct customer *out)
{
	uint64_t id;
	int rc;

	if (l->device == 0)
		return 0;
	if ((rc = device_customer_txn(st, txn, l->brand_id, l->device,
	    &id)) != 0)
		return rc == MDB_NOTFOUND ? 0 : rc;
	if ((rc = customer_live(st, txn, l->brand_id, id, out)) != 0)
		return rc == SIGIL_ESTATE || rc == SIGIL_ENOTFOUND ? 0 : rc;
	for (int n = 0; n < l->n; n++)
		if ((rc = ident_has_app(st, txn, l->brand_id, id,
		    l->ids[n].kind, l->ids[n].app)) != 0)
			return rc < 0 ? rc : 0;
	return 1;
}

/*
 * The device was another live customer's (a phone login on it, say):
 * the two are made one by the merge rule (store_merge.c) when they can
 * be (not two phones, not two openids of one app, a conflict); *id is
 * then the survivor. Otherwise the device simply goes over to *id.
 */
static int
merge_device_customer(struct store *st, MDB_txn *txn, struct wechat_link *l,
    uint64_t *id)
{
	struct customer d;
	uint64_t other, kept;
	int rc;

	if (l->device == 0)
		return 0;
	if ((rc = device_customer_txn(st, txn, l->brand_id, l->device,
	    &other)) != 0)
		return rc == MDB_NOTFOUND ? 0 : rc;
	if (other == *id)
		return 0;
	if ((rc = customer_live(st, txn, l->brand_id, other, &d)) != 0)
		return rc == SIGIL_ESTATE || rc == SIGIL_ENOTFOUND ? 0 : rc;
	if (d.phone_ct_len != 0 && l->cu.phone_ct_len != 0)
		return 0;
	if ((rc = ident_conflict(st, txn, l->brand_id, other, *id)) != 0)
		return rc < 0 ? rc : 0;
	if ((rc = store_customer_merge_rule(st, txn, l->brand_id, *id, other,
	    l->now, &kept)) != 0)
		return rc;
	l->merged = kept == *id ? other : *id;
	*id = kept;
	return customer_live(st, txn, l->brand_id, kept, &l->cu);
}

static int
link_fn(struct store *st, MDB_txn *txn, void *p)
{
	struct wechat_link *l = p;
	uint64_t id = 0, holder;
	int rc, found = 0;

	l->created = l->bound = 0;
	l->from = l->merged = 0;
	for (int n = 0; n < l->n && !found; n++) {
		rc = ident_lookup(st, txn, l->brand_id, l->ids[n].kind,
		    l->ids[n].hash, &id);
		if (rc == 0)
			found = 1;
		else if (rc != MDB_NOTFOUND)
			return rc;
	}
	if (found) {
		if ((rc = customer_live(st, txn, l->brand_id, id, &l->cu)) != 0 ||
		    (rc = merge_device_customer(st, txn, l, &id)) != 0)
			return rc;
	} else if ((rc = device_takes(st, txn, l, &l->cu)) < 0) {
		return rc;
	} else if (rc == 0) {
		if ((rc = customer_new(st, txn, l->brand_id, l->now,
		    &l->cu)) != 0)
			return rc;
		l->created = 1;
	}
	id = l->cu.id;
	for (int n = 0; n < l->n; n++) {
		const struct ident_bind *b = &l->ids[n];

		rc = ident_lookup(st, txn, l->brand_id, b->kind, b->hash,
		    &holder);
		if (rc != 0 && rc != MDB_NOTFOUND)
			return rc;
		if (rc == MDB_NOTFOUND || (holder == id && b->update)) {
			if ((rc = ident_put(st, txn, l->brand_id, id, b,
			    l->now)) != 0)
				return rc;
			l->bound++;
		}
	}
	/* a customer made now: the registration bonuses (store_credits.c) */
	for (size_t i = 0; i < l->nbonus && i < STORE_REG_BONUS_MAX; i++) {
		l->bonus[i].dropped = 1;
		if (l->created && (rc = bonus_pay(st, txn, l->brand_id, id,
		    &l->bonus[i], l->now, l->bonus_expires)) != 0)
			return rc;
	}
	/* A device still another customer's (two WeChat users on one
	 * phone, two phones): it goes over to this one. */
	if (l->device != 0 && (rc = device_link_txn(st, txn, l->brand_id,
	    l->device, id, l->now, &l->from)) != 0)
		return rc;
	return activity_event(st, txn, l->brand_id, l->created ?
	    ACTIVITY_CUSTOMER_NEW : ACTIVITY_LOGIN, l->now, id, 0, 0);
}

int
store_wechat_link(struct store *st, struct wechat_link *l)
{
	struct wechat_link work;
	int rc;

	if (l->n < 1 || l->n > 2)
		return SIGIL_EINVAL;
	for (int n = 0; n < l->n; n++)
		if (l->ids[n].ct_len == 0 ||
		    l->ids[n].ct_len > STORE_IDENT_CT_MAX)
			return SIGIL_EINVAL;
	work = *l;
	rc = STORE_WRITE_OUT(st, link_fn, &work, work, l);
	memset(&work, 0, sizeof work);
	return rc;
}

/* ---- the brands' applications ---- */

static size_t
app_encode(const struct wechat_app *a, uint8_t *p)
{
	size_t al = strlen(a->appid);

	p[0] = (uint8_t)al;
	memcpy(p + 1, a->appid, al);
	p[1 + al] = (uint8_t)a->secret_ct_len;
	memcpy(p + 2 + al, a->secret_ct, a->secret_ct_len);
	return 2 + al + a->secret_ct_len;
}

static size_t
app_decode(const uint8_t *p, size_t n, struct wechat_app *a)
{
	size_t al, cl;

	if (n < 2 || (al = p[0]) > STORE_WX_APPID_MAX || n < 2 + al ||
	    (cl = p[1 + al]) > STORE_WX_SECRET_CT_MAX || n < 2 + al + cl)
		return 0;
	memcpy(a->appid, p + 1, al);
	a->appid[al] = '\0';
	memcpy(a->secret_ct, p + 2 + al, cl);
	a->secret_ct_len = cl;
	return 2 + al + cl;
}

static int
config_decode(MDB_val k, MDB_val v, void *out)
{
	const uint8_t *p = v.mv_data;
	struct wechat_config *c = out;
	size_t a, b;

	if (k.mv_size != 4 || v.mv_size < 9)
		return SIGIL_EIO;
	memset(c, 0, sizeof *c);
	c->brand_id = sigil_be32_get(k.mv_data);
	c->updated = (int64_t)le64_get(p);
	c->userinfo = p[8] != 0;
	if ((a = app_decode(p + 9, v.mv_size - 9, &c->oa)) == 0 ||
	    (b = app_decode(p + 9 + a, v.mv_size - 9 - a, &c->mp)) == 0 ||
	    9 + a + b != v.mv_size)
		return SIGIL_EIO;
	return 0;
}

int
store_wechat_config_get(struct store *st, uint32_t brand_id,
    struct wechat_config *out)
{
	uint8_t kb[4];

	if (st->idents_absent)
		return SIGIL_ENOTFOUND;
	sigil_be32_put(kb, brand_id);
	return rows_get(st, st->wechat_config, kb, 4, config_decode, out);
}

static int
appid_drop(struct store *st, MDB_txn *txn, const char *appid)
{
	MDB_val k = mval(appid, strlen(appid));
	int rc;

	if (appid[0] == '\0')
		return 0;
	rc = mdb_del(txn, st->wechat_appids, &k, NULL);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static int
appid_take(struct store *st, MDB_txn *txn, const char *appid,
    uint32_t brand_id, int kind)
{
	MDB_val k = mval(appid, strlen(appid)), v;
	uint8_t vb[5];
	int rc;

	if (appid[0] == '\0')
		return 0;
	rc = mdb_get(txn, st->wechat_appids, &k, &v);
	if (rc == 0 && (v.mv_size != 5 ||
	    sigil_be32_get(v.mv_data) != brand_id))
		return SIGIL_EEXIST;
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	sigil_be32_put(vb, brand_id);
	vb[4] = (uint8_t)kind;
	v = mval(vb, 5);
	return mdb_put(txn, st->wechat_appids, &k, &v, 0);
}

static int
config_fn(struct store *st, MDB_txn *txn, void *p)
{
	const struct wechat_config *c = p;
	struct wechat_config old;
	uint8_t kb[4], vb[WX_CONFIG_MAX];
	MDB_val k = mval(kb, 4), v;
	size_t n;
	int rc;

	if ((rc = brand_exists(st, txn, c->brand_id)) != 0)
		return rc;
	sigil_be32_put(kb, c->brand_id);
	rc = rows_load(txn, st->wechat_config, kb, 4, config_decode, &old);
	if (rc == 0) {
		if ((rc = appid_drop(st, txn, old.oa.appid)) != 0 ||
		    (rc = appid_drop(st, txn, old.mp.appid)) != 0)
			return rc;
	} else if (rc != MDB_NOTFOUND)
		return rc;
	if ((rc = appid_take(st, txn, c->oa.appid, c->brand_id,
	    IDENT_WECHAT_OA)) != 0 ||
	    (rc = appid_take(st, txn, c->mp.appid, c->brand_id,
	    IDENT_WECHAT_MP)) != 0)
		return rc;
	le64_put(vb, (uint64_t)c->updated);
	vb[8] = (uint8_t)(c->userinfo != 0);
	n = 9 + app_encode(&c->oa, vb + 9);
	n += app_encode(&c->mp, vb + n);
	v = mval(vb, n);
	return mdb_put(txn, st->wechat_config, &k, &v, 0);
}

static int
app_ok(const struct wechat_app *a)
{
	size_t n = strnlen(a->appid, sizeof a->appid);

	if (n == sizeof a->appid || a->secret_ct_len > STORE_WX_SECRET_CT_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((a->appid[i] >= '0' && a->appid[i] <= '9') ||
		    (a->appid[i] >= 'a' && a->appid[i] <= 'z') ||
		    (a->appid[i] >= 'A' && a->appid[i] <= 'Z')))
			return 0;
	return 1;
}

int
store_wechat_config_put(struct store *st, const struct wechat_config *c)
{
	if (!app_ok(&c->oa) || !app_ok(&c->mp) || (c->oa.appid[0] != '\0' &&
	    strcmp(c->oa.appid, c->mp.appid) == 0))
		return SIGIL_EINVAL;
	return store_write(st, config_fn, (void *)c);
}

static int
appid_decode(MDB_val k, MDB_val v, void *out)
{
	uint8_t *o = out;

	(void)k;
	if (v.mv_size != 5)
		return SIGIL_EIO;
	memcpy(o, v.mv_data, 5);
	return 0;
}

int
store_wechat_appid(struct store *st, const char *appid, uint32_t *brand_id,
    int *kind)
{
	uint8_t vb[5];
	size_t n = strlen(appid);
	int rc;

	if (st->idents_absent || n == 0 || n > STORE_WX_APPID_MAX)
		return SIGIL_ENOTFOUND;
	if ((rc = rows_get(st, st->wechat_appids, appid, n, appid_decode,
	    vb)) != 0)
		return rc;
	*brand_id = sigil_be32_get(vb);
	*kind = vb[4];
	return 0;
}

/* ---- spent OAuth states ---- */

struct state_arg {
	uint32_t	 brand_id;
	int64_t		 expires, now;
	const uint8_t	*nonce;
};

static int
state_fn(struct store *st, MDB_txn *txn, void *p)
{
	struct state_arg *a = p;
	uint8_t kb[WX_STATE_KEY], start[4];
	MDB_cursor *cur;
	MDB_val k, v;
	int rc, swept = 0;

	sigil_be32_put(kb, a->brand_id);
	sigil_be64_put(kb + 4, (uint64_t)a->expires);
	memcpy(kb + 12, a->nonce, 8);
	k = mval(kb, sizeof kb);
	v = mval("", 0);
	if ((rc = mdb_put(txn, st->wechat_states, &k, &v,
	    MDB_NOOVERWRITE)) != 0)
		return rc == MDB_KEYEXIST ? SIGIL_EEXIST : rc;
	if ((rc = mdb_cursor_open(txn, st->wechat_states, &cur)) != 0)
		return rc;
	sigil_be32_put(start, a->brand_id);
	k = mval(start, 4);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	    rc == 0 && swept < WX_STATE_SWEEP;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE), swept++) {
		if (k.mv_size != WX_STATE_KEY ||
		    memcmp(k.mv_data, start, 4) != 0 ||
		    (int64_t)sigil_be64_get((const uint8_t *)k.mv_data + 4) >=
		    a->now)
			break;
		if ((rc = mdb_cursor_del(cur, 0)) != 0)
			break;
		k = mval(start, 4);
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int
store_wechat_state_spend(struct store *st, uint32_t brand_id,
    int64_t expires, const uint8_t nonce[8], int64_t now)
{
	struct state_arg a = { brand_id, expires, now, nonce };

	if (expires < 0)
		return SIGIL_EINVAL;
	return store_write(st, state_fn, &a);
}
