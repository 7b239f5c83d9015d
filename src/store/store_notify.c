/*
 * store_notify.c - alert notification rules (notify_rules), keyed brand
 * || id (bid_key), one row a rule: its settings (name, alert types,
 * recipients, immediate or digest) and its delivery state (the last
 * alert id it looked at, the last delivery, how many messages it sent).
 *
 * notify.c reads the rules and the alerts past each cursor on the loop
 * and writes the delivery state only when it hands messages to the
 * outbox, so the scan path never pays for a rule. A settings update
 * keeps the delivery state; the DingTalk secret is stored sealed by the
 * caller and never seen here in clear.
 *
 * Record (docs/storage.md): types u32, mode u8, daily_at u16, tz_min
 * i16, active u8, created i64, cursor u64, last_sent i64, sent u64,
 * seen_at i64, then
 * five u16 lengths (name, emails, wecom_url, dingtalk_url, ding_ct) and
 * their bytes.
 *
 * Owns the table notify_rules. May call store_env.c, store_rows.c and
 * the alerts' public reads; never any other late table's file.
 */
#include <string.h>

#include <lmdb.h>

#include "sigil/store.h"
#include "sigil/util.h"
#include "store_impl.h"

#define RULE_FIXED	(4 + 1 + 2 + 2 + 1 + 8 + 8 + 8 + 8 + 8 + 5 * 2)
#define RULE_LENS	50
#define RULE_MAX	(RULE_FIXED + NOTIFY_NAME_MAX + NOTIFY_EMAILS_MAX + \
			 2 * STORE_URL_MAX + NOTIFY_SECRET_CT_MAX)

static size_t
rule_encode(const struct notify_rule *r, uint8_t *p)
{
	const void *part[5] = { r->name, r->emails, r->wecom_url,
	    r->dingtalk_url, r->ding_ct };
	size_t len[5] = { strlen(r->name), strlen(r->emails),
	    strlen(r->wecom_url), strlen(r->dingtalk_url), r->ding_ct_len };
	size_t off = RULE_FIXED;

	le32_put(p, r->types);
	p[4] = (uint8_t)r->mode;
	le16_put(p + 5, (uint16_t)r->daily_at);
	le16_put(p + 7, (uint16_t)(int16_t)r->tz_min);
	p[9] = (uint8_t)(r->active != 0);
	le64_put(p + 10, (uint64_t)r->created);
	le64_put(p + 18, r->cursor);
	le64_put(p + 26, (uint64_t)r->last_sent);
	le64_put(p + 34, r->sent);
	le64_put(p + 42, (uint64_t)r->seen_at);
	for (int i = 0; i < 5; i++) {
		le16_put(p + RULE_LENS + 2 * i, (uint16_t)len[i]);
		memcpy(p + off, part[i], len[i]);
		off += len[i];
	}
	return off;
}

static int
rule_decode(MDB_val k, MDB_val v, void *out)
{
	const uint8_t *p = v.mv_data;
	struct notify_rule r = { 0 };
	char *text[4] = { r.name, r.emails, r.wecom_url, r.dingtalk_url };
	size_t cap[4] = { NOTIFY_NAME_MAX, NOTIFY_EMAILS_MAX, STORE_URL_MAX,
	    STORE_URL_MAX };
	size_t off = RULE_FIXED, len;

	if (k.mv_size != 8 || v.mv_size < RULE_FIXED)
		return SIGIL_EIO;
	r.brand_id = sigil_be32_get(k.mv_data);
	r.id = sigil_be32_get((const uint8_t *)k.mv_data + 4);
	r.types = le32_get(p);
	r.mode = p[4];
	r.daily_at = le16_get(p + 5);
	r.tz_min = (int16_t)le16_get(p + 7);
	r.active = p[9];
	r.created = (int64_t)le64_get(p + 10);
	r.cursor = le64_get(p + 18);
	r.last_sent = (int64_t)le64_get(p + 26);
	r.sent = le64_get(p + 34);
	r.seen_at = (int64_t)le64_get(p + 42);
	for (int i = 0; i < 5; i++) {
		len = le16_get(p + RULE_LENS + 2 * i);
		if (len > (i < 4 ? cap[i] : NOTIFY_SECRET_CT_MAX) ||
		    off + len > v.mv_size)
			return SIGIL_EIO;
		if (i < 4)
			memcpy(text[i], p + off, len);
		else {
			memcpy(r.ding_ct, p + off, len);
			r.ding_ct_len = len;
		}
		off += len;
	}
	if (off != v.mv_size)
		return SIGIL_EIO;
	*(struct notify_rule *)out = r;
	return 0;
}

static int
rule_put(struct store *st, MDB_txn *txn, const void *row)
{
	const struct notify_rule *r = row;
	uint8_t kb[8], vb[RULE_MAX];
	MDB_val k = mval(kb, 8), v;

	bid_key(kb, r->brand_id, r->id);
	v = mval(vb, rule_encode(r, vb));
	return mdb_put(txn, st->notify_rules, &k, &v, 0);
}

static int
rule_ok(const struct notify_rule *r)
{
	return r != NULL && r->brand_id != 0 &&
	    text_ok(r->name, sizeof r->name, NOTIFY_NAME_MAX, 0) &&
	    text_ok(r->emails, sizeof r->emails, NOTIFY_EMAILS_MAX, 1) &&
	    text_ok(r->wecom_url, sizeof r->wecom_url, STORE_URL_MAX, 1) &&
	    text_ok(r->dingtalk_url, sizeof r->dingtalk_url, STORE_URL_MAX,
	    1) && r->ding_ct_len <= NOTIFY_SECRET_CT_MAX && r->types != 0 &&
	    r->mode >= NOTIFY_IMMEDIATE && r->mode <= NOTIFY_DAILY &&
	    r->daily_at >= 0 && r->daily_at < 1440 && r->tz_min >= -720 &&
	    r->tz_min <= 840;
}

int
store_notify_rule_add(struct store *st, struct notify_rule *r)
{
	struct notify_rule x;

	if (!rule_ok(r))
		return SIGIL_EINVAL;
	if (st->notify_absent)
		return SIGIL_ESTATE;
	x = *r;
	x.created = sigil_now_us();
	if (x.last_sent == 0)
		x.last_sent = x.created;
	x.seen_at = x.created;
	x.sent = 0;
	return rows_add(st, st->notify_rules, rule_put, &x, x.brand_id, &x.id,
	    r, sizeof x);
}

int
store_notify_rule_get(struct store *st, uint32_t brand_id, uint32_t id,
    struct notify_rule *out)
{
	if (st->notify_absent)
		return SIGIL_ENOTFOUND;
	return rows_get_bid(st, st->notify_rules, brand_id, id, rule_decode,
	    out);
}

ROWS_EACH_STEP(rule_each_one, struct notify_rule, rule_decode)

int
store_notify_rule_each(struct store *st, uint32_t brand_id,
    int (*fn)(void *arg, const struct notify_rule *r), void *arg)
{
	uint8_t kb[4];

	if (st->notify_absent)
		return 0;
	sigil_be32_put(kb, brand_id);
	return rows_each(st, st->notify_rules, kb, 4, brand_id != 0 ? 4 : 0,
	    rule_each_one, (any_fn)fn, arg);
}

struct rule_arg {
	struct notify_rule	r;
	int			what;	/* 0 settings, 1 delete */
	int			keep_secret;
};

static int
rule_update_fn(struct store *st, MDB_txn *txn, void *p)
{
	struct rule_arg *a = p;
	uint8_t kb[8];
	MDB_val k = mval(kb, 8);
	struct notify_rule cur;
	int rc;

	bid_key(kb, a->r.brand_id, a->r.id);
	if ((rc = rows_load(txn, st->notify_rules, kb, 8, rule_decode,
	    &cur)) != 0)
		return rc;
	if (a->what == 1)
		return mdb_del(txn, st->notify_rules, &k, NULL);
	memcpy(cur.name, a->r.name, sizeof cur.name);
	cur.types = a->r.types;
	cur.mode = a->r.mode;
	cur.daily_at = a->r.daily_at;
	cur.tz_min = a->r.tz_min;
	cur.active = a->r.active;
	memcpy(cur.emails, a->r.emails, sizeof cur.emails);
	memcpy(cur.wecom_url, a->r.wecom_url, sizeof cur.wecom_url);
	memcpy(cur.dingtalk_url, a->r.dingtalk_url, sizeof cur.dingtalk_url);
	if (!a->keep_secret) {
		memcpy(cur.ding_ct, a->r.ding_ct, sizeof cur.ding_ct);
		cur.ding_ct_len = a->r.ding_ct_len;
	}
	if (cur.dingtalk_url[0] == '\0')
		cur.ding_ct_len = 0;
	return rule_put(st, txn, &cur);
}

int
store_notify_rule_update(struct store *st, const struct notify_rule *r,
    int keep_secret)
{
	struct rule_arg a;

	if (!rule_ok(r))
		return SIGIL_EINVAL;
	if (st->notify_absent)
		return SIGIL_ENOTFOUND;
	a.r = *r;
	a.what = 0;
	a.keep_secret = keep_secret;
	return store_write(st, rule_update_fn, &a);
}

int
store_notify_rule_del(struct store *st, uint32_t brand_id, uint32_t id)
{
	struct rule_arg a;

	if (st->notify_absent)
		return SIGIL_ENOTFOUND;
	memset(&a, 0, sizeof a);
	a.r.brand_id = brand_id;
	a.r.id = id;
	a.what = 1;
	return store_write(st, rule_update_fn, &a);
}

static int
last_one(void *arg, const struct alert *a)
{
	*(uint64_t *)arg = a->id;
	return 0;	/* q.limit 1 ends the walk (a non-zero stop is an error) */
}

int
store_notify_alert_last(struct store *st, uint32_t brand_id, uint64_t *out)
{
	struct alert_query q = { 0 };
	int rc;

	q.limit = 1;
	*out = 0;
	rc = store_alert_each(st, brand_id, &q, last_one, out);
	return rc < 0 ? rc : 0;
}

static int
deliver_fn(struct store *st, MDB_txn *txn, void *p)
{
	struct notify_delivery *d = p;
	uint8_t kb[8];
	struct notify_rule cur;
	int rc;

	bid_key(kb, d->brand_id, d->rule_id);
	rc = rows_load(txn, st->notify_rules, kb, 8, rule_decode, &cur);
	if (rc == MDB_NOTFOUND) {
		d->gone = 1;
		return 0;
	}
	if (rc != 0)
		return rc;
	if (d->cursor > cur.cursor)
		cur.cursor = d->cursor;
	if (d->last_sent != 0)
		cur.last_sent = d->last_sent;
	if (d->seen_at > cur.seen_at)
		cur.seen_at = d->seen_at;
	cur.sent += d->n;
	if ((rc = rule_put(st, txn, &cur)) != 0)
		return rc;
	for (size_t i = 0; i < d->n; i++)
		if ((rc = outbox_put(st, txn, &d->msgs[i])) != 0)
			return rc;
	return 0;
}

int
store_notify_deliver(struct store *st, struct notify_delivery *d)
{
	if (st->notify_absent)
		return SIGIL_ENOTFOUND;
	d->gone = 0;
	return store_write(st, deliver_fn, d);
}
