/*
 * store_audit.c - the audit trail: who changed what in a brand.
 *
 * Owns the table audit: brand BE32 || seq BE64 -> at i64, actor kind
 * u8, role u8, outcome i16, then six strings each as u16 length and
 * bytes: actor, action, target type, target id, ip, detail
 * (docs/storage.md). seq is one global counter (meta "audit_seq"), so a
 * brand's entries sort oldest to newest under its prefix and a walk
 * backwards from (brand, before) reads them newest first without
 * looking at any other brand's.
 *
 * Written two ways: store_audit_add, a transaction of its own; and the
 * armed entry (store_audit_arm), which store_env.c's write runner puts
 * into the next write transaction the arming thread commits, so that a
 * change and the entry that describes it commit together. The writer
 * thread arms one around each brand API op (writer.c); the CLI around
 * each of its writes. A late table: a store without it reads as empty.
 *
 * May call: libc, LMDB, util.c, fault.h's test hook, store_env.c,
 * store_rows.c (JSON text check). Must never call another family.
 */
#include <errno.h>
#include <string.h>

#include "sigil/fault.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "store_impl.h"

#define AUDIT_BASE	12	/* at, kind, role, outcome */
#define AUDIT_STRS	6
#define AUDIT_VAL_MAX	(AUDIT_BASE + 2 * AUDIT_STRS + AUDIT_ACTOR_MAX + \
			    AUDIT_ACTION_MAX + AUDIT_TTYPE_MAX + \
			    AUDIT_TID_MAX + AUDIT_IP_MAX + AUDIT_DETAIL_MAX)


static const char *const kind_names[] = { "", "token", "user", "cli",
    "system", "customer" };

const char *
audit_actor_kind_name(int kind)
{
	return kind > 0 && kind <= AUDIT_ACTOR_CUSTOMER ? kind_names[kind] :
	    "";
}

int
audit_actor_kind_parse(const char *s)
{
	for (int i = 1; i <= AUDIT_ACTOR_CUSTOMER; i++)
		if (strcmp(s, kind_names[i]) == 0)
			return i;
	return 0;
}

static void
key_put(uint8_t *kb, uint32_t brand_id, uint64_t seq)
{
	sigil_be32_put(kb, brand_id);
	sigil_be64_put(kb + 4, seq);
}

/* The strings of e in their stored order. */
static void
strs_of(const struct audit_entry *e, const char *s[AUDIT_STRS])
{
	s[0] = e->actor;
	s[1] = e->action;
	s[2] = e->target_type;
	s[3] = e->target_id;
	s[4] = e->ip;
	s[5] = e->detail;
}

static int
entry_ok(const struct audit_entry *e)
{
	if (e->brand_id == 0 || e->action[0] == '\0' ||
	    audit_actor_kind_name(e->actor_kind)[0] == '\0' ||
	    e->role < 0 || e->role > 255 ||
	    !text_ok(e->actor, sizeof e->actor, AUDIT_ACTOR_MAX, 0) ||
	    !text_ok(e->action, sizeof e->action, AUDIT_ACTION_MAX, 0) ||
	    !text_ok(e->target_type, sizeof e->target_type, AUDIT_TTYPE_MAX,
	    1) ||
	    !text_ok(e->target_id, sizeof e->target_id, AUDIT_TID_MAX, 1) ||
	    !text_ok(e->ip, sizeof e->ip, AUDIT_IP_MAX, 1))
		return 0;
	if (strnlen(e->detail, sizeof e->detail) >= sizeof e->detail)
		return 0;
	return e->detail[0] == '\0' || (e->detail[0] == '{' &&
	    json_text_ok(e->detail, sizeof e->detail - 1));
}

static size_t
encode(const struct audit_entry *e, uint8_t *vb)
{
	const char *s[AUDIT_STRS];
	size_t off = AUDIT_BASE;

	le64_put(vb, (uint64_t)e->at);
	vb[8] = (uint8_t)e->actor_kind;
	vb[9] = (uint8_t)e->role;
	le16_put(vb + 10, (uint16_t)(int16_t)e->outcome);
	strs_of(e, s);
	return lstrs_put(vb, off, s, AUDIT_STRS);
}

static int
decode(MDB_val k, MDB_val v, struct audit_entry *e)
{
	const uint8_t *p = v.mv_data;
	char *s[AUDIT_STRS] = { e->actor, e->action, e->target_type,
	    e->target_id, e->ip, e->detail };
	size_t caps[AUDIT_STRS] = { sizeof e->actor, sizeof e->action,
	    sizeof e->target_type, sizeof e->target_id, sizeof e->ip,
	    sizeof e->detail };
	size_t off = AUDIT_BASE;

	if (k.mv_size != 12 || v.mv_size < AUDIT_BASE)
		return SIGIL_EIO;
	memset(e, 0, sizeof *e);
	e->brand_id = sigil_be32_get(k.mv_data);
	e->seq = sigil_be64_get((const uint8_t *)k.mv_data + 4);
	e->at = (int64_t)le64_get(p);
	e->actor_kind = p[8];
	e->role = p[9];
	e->outcome = (int16_t)le16_get(p + 10);
	return lstrs_get(p, v.mv_size, off, s, caps, AUDIT_STRS) != 0 ? 0 :
	    SIGIL_EIO;
}

/* The write closure: e (its own context) gets seq and at, then its row. */
static int
add_fn(struct store *st, MDB_txn *txn, void *arg)
{
	struct audit_entry *e = arg;
	uint8_t kb[12], vb[AUDIT_VAL_MAX];
	MDB_val k = mval(kb, 12), v;
	uint64_t seq;
	int rc;

	if ((rc = brand_exists(st, txn, e->brand_id)) != 0)
		return rc;
	if ((rc = meta_next(st, txn, meta_key("audit_seq"), 1, UINT64_MAX,
	    &seq)) != 0)
		return rc;
	e->seq = seq;
	if (e->at == 0)
		e->at = sigil_now_us();
	key_put(kb, e->brand_id, seq);
	v = mval(vb, encode(e, vb));
	return mdb_put(txn, st->audit, &k, &v, MDB_NOOVERWRITE);
}

int
audit_put(struct store *st, MDB_txn *txn, struct audit_entry *e)
{
	if (!entry_ok(e))
		return SIGIL_EINVAL;
	if (st->audit_absent)
		return 0;
	return add_fn(st, txn, e);
}

int
store_audit_add(struct store *st, struct audit_entry *e)
{
	struct audit_entry work;
	int rc;

	if (!entry_ok(e))
		return SIGIL_EINVAL;
	if (st->audit_absent)
		return SIGIL_EDENIED;
	work = *e;
	if ((rc = store_write(st, add_fn, &work)) == 0)
		*e = work;
	return rc;
}

/* ---- the armed entry ---- */

struct armed {
	struct txn_rider	rider;
	struct audit_entry	e;
	int64_t			at0;	/* e->at as armed */
	int			bad;	/* armed an invalid entry */
};

static __thread struct armed armed;

static int
armed_put(struct store *st, MDB_txn *txn, void *arg)
{
	struct armed *a = arg;

	/* Run again after a full map: start from the entry as armed. */
	a->e.at = a->at0;
	/* Test builds (fault.h): the entry fails, so must its change. */
	if (fault_hit("audit"))
		return EIO;
	return add_fn(st, txn, &a->e);
}

void
store_audit_arm(struct store *st, const struct audit_entry *e)
{
	memset(&armed.rider, 0, sizeof armed.rider);
	armed.e = *e;
	armed.at0 = e->at;
	armed.bad = !entry_ok(e) || st->audit_absent;
	if (armed.bad) {
		txn_rider_set(NULL);
		return;
	}
	armed.rider.st = st;
	armed.rider.put = armed_put;
	armed.rider.arg = &armed;
	txn_rider_set(&armed.rider);
}

int
store_audit_disarm(struct store *st, struct audit_entry *out)
{
	int done = !armed.bad && armed.rider.st == st && armed.rider.done;

	txn_rider_set(NULL);
	if (done && out != NULL)
		*out = armed.e;
	memset(&armed, 0, sizeof armed);
	return done;
}

/* ---- amending ---- */

static int
update_fn(struct store *st, MDB_txn *txn, void *arg)
{
	const struct audit_entry *e = arg;
	uint8_t kb[12], vb[AUDIT_VAL_MAX];
	MDB_val k = mval(kb, 12), v;
	int rc;

	key_put(kb, e->brand_id, e->seq);
	if ((rc = mdb_get(txn, st->audit, &k, &v)) != 0)
		return rc;
	v = mval(vb, encode(e, vb));
	return mdb_put(txn, st->audit, &k, &v, 0);
}

int
store_audit_update(struct store *st, const struct audit_entry *e)
{
	struct audit_entry work = *e;

	if (e->seq == 0 || e->at == 0 || !entry_ok(e))
		return SIGIL_EINVAL;
	if (st->audit_absent)
		return SIGIL_EDENIED;
	return store_write(st, update_fn, &work);
}

/* ---- reads ---- */

struct each_arg {
	uint32_t	brand_id;
	uint64_t	before;
	int		(*fn)(void *arg, const struct audit_entry *e);
	void		*arg;
	int		stop;
};

static int
each_txn(struct store *st, MDB_txn *txn, struct each_arg *x)
{
	uint8_t kb[12];
	MDB_val k = mval(kb, 12), v;
	MDB_cursor *cur;
	struct audit_entry e;
	int rc;

	if ((rc = mdb_cursor_open(txn, st->audit, &cur)) != 0)
		return rc;
	/* The first key at or past (brand, before), then step back. */
	if (x->before == 0)
		key_put(kb, x->brand_id + 1, 0);
	else
		key_put(kb, x->brand_id, x->before);
	if (x->before == 0 && x->brand_id == UINT32_MAX)
		rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	else {
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		if (rc == 0)
			rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
		else if (rc == MDB_NOTFOUND)
			rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	}
	while (rc == 0) {
		if (k.mv_size != 12 ||
		    sigil_be32_get(k.mv_data) != x->brand_id)
			break;
		if ((rc = decode(k, v, &e)) != 0)
			break;
		if ((x->stop = x->fn(x->arg, &e)) != 0)
			break;
		rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int
store_audit_each(struct store *st, uint32_t brand_id, uint64_t before,
    int (*fn)(void *arg, const struct audit_entry *e), void *arg)
{
	struct each_arg x = { brand_id, before, fn, arg, 0 };
	int rc;

	if (st->audit_absent)
		return 0;
	rc = STORE_READ(st, each_txn(st, txn, &x));
	return rc != 0 ? rc : x.stop;
}
