/*
 * store_revoked.c - single codes a brand revoked.
 *
 * Owns the table code_revocations: code key (brand BE32 || serial 40-bit,
 * 9 bytes) -> at i64, by u32, reason (docs/storage.md). Written by the
 * brand (api_alerts.c's revoke_code action, through the writer), read on
 * every scan by lookup.c: a code that is here answers revoked. A late
 * table: a store without it has no revoked codes.
 *
 * May call: libc, LMDB, util.c, store_env.c. Must never call another
 * family.
 */
#include <string.h>

#include "sigil/store.h"
#include "sigil/util.h"
#include "store_impl.h"

#define REVOCATION_BASE	12

struct revoke_op {
	uint32_t		brand_id;
	uint64_t		serial;
	struct code_revocation	r;
};

static int
revoke_fn(struct store *st, MDB_txn *txn, void *arg)
{
	struct revoke_op *x = arg;
	uint8_t kb[CODE_KEY_LEN], vb[REVOCATION_BASE + STORE_TEXT_BYTES];
	size_t len = strlen(x->r.reason);
	MDB_val k = mval(kb, CODE_KEY_LEN), v = mval(vb, REVOCATION_BASE + len);
	int rc;

	code_key_put(kb, x->brand_id, x->serial);
	le64_put(vb, (uint64_t)x->r.at);
	le32_put(vb + 8, x->r.by);
	memcpy(vb + REVOCATION_BASE, x->r.reason, len);
	rc = mdb_put(txn, st->code_revocations, &k, &v, MDB_NOOVERWRITE);
	return rc == MDB_KEYEXIST ? SIGIL_EEXIST : rc;
}

int
store_code_revoke(struct store *st, uint32_t brand_id, uint64_t serial,
    const struct code_revocation *r)
{
	struct revoke_op x = { brand_id, serial, *r };
	size_t len = strnlen(r->reason, sizeof r->reason);

	if (len == 0 || len > STORE_TEXT_BYTES)
		return SIGIL_EINVAL;
	if (st->code_revocations_absent)
		return SIGIL_EDENIED;
	return store_write(st, revoke_fn, &x);
}

static int
revoked_load(struct store *st, MDB_txn *txn, const uint8_t *kb,
    struct code_revocation *out)
{
	MDB_val k = mval(kb, CODE_KEY_LEN), v;
	size_t len;
	int rc;

	if ((rc = mdb_get(txn, st->code_revocations, &k, &v)) != 0)
		return rc;
	if (v.mv_size < REVOCATION_BASE ||
	    (len = v.mv_size - REVOCATION_BASE) > STORE_TEXT_BYTES)
		return SIGIL_EIO;
	if (out != NULL) {
		out->at = (int64_t)le64_get(v.mv_data);
		out->by = le32_get((const uint8_t *)v.mv_data + 8);
		memcpy(out->reason, (const uint8_t *)v.mv_data +
		    REVOCATION_BASE, len);
		out->reason[len] = '\0';
	}
	return 0;
}

int
store_code_revoked(struct store *st, uint32_t brand_id, uint64_t serial,
    struct code_revocation *out)
{
	uint8_t kb[CODE_KEY_LEN];

	if (st->code_revocations_absent)
		return SIGIL_ENOTFOUND;
	code_key_put(kb, brand_id, serial);
	return STORE_READ(st, revoked_load(st, txn, kb, out));
}
