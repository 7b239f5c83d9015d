/*
 * store_pins.c - the record of hidden-PIN print files made per batch.
 *
 * Owns the table pin_files: brand BE32 || batch id BE64 -> first_at i64,
 * last_at i64, files u32, codes u64 (28 bytes; docs/storage.md). The CLI
 * (`sigil mint --pin`) writes it, beside a running sigild like any other
 * CLI write; sigild reads it when a campaign asks for a PIN. A late
 * table: a read-only open of a store without it reads no PIN files.
 *
 * May call: libc, LMDB, util.c, store_env.c. Must never call another
 * family.
 */
#include <string.h>

#include "sigil/store.h"
#include "sigil/util.h"
#include "store_impl.h"

#define PIN_FILE_LEN	28

static void
pin_key(uint8_t *kb, uint32_t brand_id, uint64_t batch_id)
{
	sigil_be32_put(kb, brand_id);
	sigil_be64_put(kb + 4, batch_id);
}

static int
pin_load(struct store *st, MDB_txn *txn, const uint8_t *kb,
    struct pin_file *out)
{
	MDB_val k = mval(kb, 12), v;
	const uint8_t *p;
	int rc;

	if ((rc = mdb_get(txn, st->pin_files, &k, &v)) != 0)
		return rc;
	if (v.mv_size != PIN_FILE_LEN)
		return SIGIL_EIO;
	p = v.mv_data;
	out->first_at = (int64_t)le64_get(p);
	out->last_at = (int64_t)le64_get(p + 8);
	out->files = le32_get(p + 16);
	out->codes = le64_get(p + 20);
	return 0;
}

struct pin_note {
	uint32_t	brand_id;
	uint64_t	batch_id, codes;
	int64_t		at;
};

static int
pin_note_fn(struct store *st, MDB_txn *txn, void *arg)
{
	struct pin_note *x = arg;
	struct pin_file f = { x->at, x->at, 0, 0 };
	uint8_t kb[12], vb[PIN_FILE_LEN];
	MDB_val k = mval(kb, 12), v = mval(vb, PIN_FILE_LEN);
	int rc;

	pin_key(kb, x->brand_id, x->batch_id);
	if ((rc = pin_load(st, txn, kb, &f)) != 0 && rc != MDB_NOTFOUND)
		return rc;
	f.last_at = x->at;
	f.codes = x->codes;
	if (f.files < UINT32_MAX)
		f.files++;
	le64_put(vb, (uint64_t)f.first_at);
	le64_put(vb + 8, (uint64_t)f.last_at);
	le32_put(vb + 16, f.files);
	le64_put(vb + 20, f.codes);
	return mdb_put(txn, st->pin_files, &k, &v, 0);
}

int
store_pin_file_note(struct store *st, uint32_t brand_id, uint64_t batch_id,
    uint64_t codes, int64_t at)
{
	struct pin_note x = { brand_id, batch_id, codes, at };

	if (codes == 0)
		return SIGIL_EINVAL;
	if (st->pin_files_absent)
		return SIGIL_EDENIED;
	return store_write(st, pin_note_fn, &x);
}

int
store_pin_file_get(struct store *st, uint32_t brand_id, uint64_t batch_id,
    struct pin_file *out)
{
	uint8_t kb[12];
	int rc;

	if (st->pin_files_absent)
		return SIGIL_ENOTFOUND;
	pin_key(kb, brand_id, batch_id);
	rc = STORE_READ(st, pin_load(st, txn, kb, out));
	return rc;
}
