/*
 * store_notes.c - the brand's corrections to a code, and their notes.
 *
 * Two things a brand may undo on one code: a clone flag it has checked
 * and found false (store_code_clear), and a PIN lock (store_pin_unlock,
 * in store_claims.c). Each is a correction (correction_init,
 * correction_fn): its change and its note in code_notes, who (API token
 * or dashboard user), when, why, in one transaction.
 *
 * A clear touches per-code state, which is a function of the scan log
 * (store_state.c). So a clear is not an edit of the state but a fact
 * the state keeps: cleared_through, the last scan id at the time, below
 * which no scan counts as clone evidence, in the replay rule as in the
 * judge. The row in code_state gets the cleared evidence and that mark
 * (like a location, only what the clear changes), and so do the code's
 * pending entries, under state_write_mu as store_scan_locate does.
 *
 * code_notes: code key (9) || at BE64 -> kind u8, by_user u8, actor u32,
 * through u64, count u32, reason (docs/storage.md).
 *
 * Owns code_notes. May call: libc, LMDB, util.c, store_env.c,
 * store_scanlog.c (code_state rows, state_clear) and store_state.c (the
 * pending entries). Must never call store_claims.c, whose PIN unlock
 * runs here as a correction.
 */
#include <string.h>

#include "sigil/code.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "store_impl.h"

#define NOTE_BASE	18

static int
note_put(struct store *st, MDB_txn *txn, const uint8_t *ck,
    struct code_note *n)
{
	uint8_t kb[CODE_KEY_LEN + 8], vb[NOTE_BASE + STORE_TEXT_MAX];
	size_t len = strlen(n->reason);
	MDB_val k = mval(kb, sizeof kb), v;
	int rc;

	if (st->notes_absent)
		return SIGIL_EDENIED;
	vb[0] = (uint8_t)n->kind;
	vb[1] = (uint8_t)(n->by_user != 0);
	le32_put(vb + 2, n->token_id);
	le64_put(vb + 6, n->through);
	le32_put(vb + 14, n->count);
	memcpy(vb + NOTE_BASE, n->reason, len);
	memcpy(kb, ck, CODE_KEY_LEN);
	/* Two notes in one microsecond: the later one takes the next. */
	for (int i = 0; i < 64; i++, n->at++) {
		sigil_be64_put(kb + CODE_KEY_LEN, (uint64_t)n->at);
		v = mval(vb, NOTE_BASE + len);
		rc = mdb_put(txn, st->code_notes, &k, &v, MDB_NOOVERWRITE);
		if (rc != MDB_KEYEXIST)
			return rc;
	}
	return SIGIL_EEXIST;
}

/* A reason of printable text, not only blanks. */
static int
note_valid(const struct code_note *n)
{
	return text_ok(n->reason, sizeof n->reason, STORE_TEXT_MAX, 0) &&
	    strspn(n->reason, " ") < strlen(n->reason);
}

int
correction_init(struct correction *c, uint32_t brand_id, uint64_t serial,
    struct code_note *note, correct_fn change)
{
	if (serial == 0 || serial > CODE_SERIAL_MAX || !note_valid(note))
		return SIGIL_EINVAL;
	code_key_put(c->ck, brand_id, serial);
	c->note = note;
	c->change = change;
	return 0;
}

int
correction_fn(struct store *st, MDB_txn *txn, void *p)
{
	struct correction *c = p;
	int rc;

	if ((rc = c->change(st, txn, c)) != 0)
		return rc;
	return note_put(st, txn, c->ck, c->note);
}

static int
clear_change(struct store *st, MDB_txn *txn, struct correction *c)
{
	struct code_state base, view;
	uint64_t next;
	int rc;

	if ((rc = meta_get(st, txn, meta_key("next_scan"), &next)) != 0)
		return rc;
	c->note->through = next > 0 ? next - 1 : 0;
	if ((rc = pend_view_w(st, txn, c->ck, &view)) != 0)
		return rc;
	/* A code never scanned has no state to clear (and keeps no row). */
	if (view.scan_count == 0 && view.bot_count == 0 && view.first_at == 0)
		return 0;
	if ((rc = state_load(st, txn, c->ck, &base)) != 0)
		return rc;
	state_clear(&base, c->note->through);
	return state_store(st, txn, c->ck, &base);
}

int
store_code_clear(struct store *st, uint32_t brand_id, uint64_t serial,
    struct code_note *note)
{
	struct correction c;
	int rc;

	if ((rc = correction_init(&c, brand_id, serial, note,
	    clear_change)) != 0)
		return rc;
	if (st->flags & STORE_RDONLY)
		return SIGIL_EDENIED;
	note->kind = NOTE_CLEAR;
	note->count = 0;
	pthread_mutex_lock(&st->state_write_mu);
	if ((rc = pend_ready_locked(st)) == 0 &&
	    (rc = store_write(st, correction_fn, &c)) == 0)
		pend_clear_apply(st, c.ck, note->through);
	else if (rc != SIGIL_EINVAL)
		pend_invalidate(st);
	pthread_mutex_unlock(&st->state_write_mu);
	return rc;
}

struct note_walk {
	const uint8_t	*ck;
	int		(*fn)(void *arg, const struct code_note *n);
	void		*arg;
};

static int
note_row(void *ctx, MDB_txn *txn, MDB_val k, MDB_val v, int *stop)
{
	struct note_walk *w = ctx;
	const uint8_t *p = v.mv_data;
	size_t len = v.mv_size - NOTE_BASE;
	struct code_note n;

	(void)txn;
	(void)stop;
	if (k.mv_size != CODE_KEY_LEN + 8 ||
	    memcmp(k.mv_data, w->ck, CODE_KEY_LEN) != 0)
		return MDB_NOTFOUND;
	if (v.mv_size < NOTE_BASE || len > STORE_TEXT_MAX)
		return SIGIL_EIO;
	memset(&n, 0, sizeof n);
	n.at = (int64_t)sigil_be64_get((const uint8_t *)k.mv_data +
	    CODE_KEY_LEN);
	n.kind = p[0];
	n.by_user = p[1];
	n.token_id = le32_get(p + 2);
	n.through = le64_get(p + 6);
	n.count = le32_get(p + 14);
	memcpy(n.reason, p + NOTE_BASE, len);
	/* fn stopping the walk makes it return 0, as it always has. */
	return w->fn(w->arg, &n) != 0 ? MDB_NOTFOUND : 0;
}

int
store_code_notes(struct store *st, uint32_t brand_id, uint64_t serial,
    int (*fn)(void *arg, const struct code_note *n), void *arg)
{
	uint8_t ck[CODE_KEY_LEN];
	struct note_walk w = { ck, fn, arg };

	if (serial == 0 || serial > CODE_SERIAL_MAX || st->notes_absent)
		return 0;
	code_key_put(ck, brand_id, serial);
	return store_walk(st, st->code_notes, WALK_RANGE,
	    mval(ck, CODE_KEY_LEN), note_row, &w);
}
