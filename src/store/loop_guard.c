/*
 * loop_guard.c - refuses write transactions on event-loop threads.
 *
 * The check sits under every store write function at once: store_impl.h
 * routes the storage files' mdb_txn_begin through loop_guard_txn_begin
 * (as it routes mdb_put through the write-ahead log), so a write
 * transaction begun on a marked thread fails before it takes LMDB's
 * write lock, whichever function began it; store_write() hands the code
 * back as its result. Read transactions pass straight through.
 *
 * The mark and the mode are thread-local and set by the marked thread
 * itself, so the check costs one thread-local read and never races.
 *
 * Owns the mark and the mode of each thread, and whether a refusal was
 * logged yet. May call LMDB and log. Must never refuse a read, nor
 * anything on a thread that was not marked.
 */
#define LOOP_GUARD_IMPL
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "sigil/log.h"
#include "sigil/loop_guard.h"
#include "sigil/util.h"
#include "store_impl.h"

enum { GUARD_OFF, GUARD_REFUSE, GUARD_ABORT };

static __thread int guard;
static int logged;

void
loop_guard_mark(int on)
{
	const char *v = getenv("SIGIL_LOOP_GUARD");

	if (!on || v == NULL || v[0] == '\0' || strcmp(v, "0") == 0)
		guard = GUARD_OFF;
	else
		guard = strcmp(v, "abort") == 0 ? GUARD_ABORT : GUARD_REFUSE;
}

int
loop_guard_active(void)
{
	return guard != GUARD_OFF;
}

int
loop_guard_txn_begin(MDB_env *env, MDB_txn *parent, unsigned flags,
    MDB_txn **txn)
{
	if (guard == GUARD_OFF || (flags & MDB_RDONLY))
		return mdb_txn_begin(env, parent, flags, txn);
	if (guard == GUARD_ABORT || !__atomic_exchange_n(&logged, 1,
	    __ATOMIC_RELAXED))
		log_error("loop_guard", "msg=\"a store write on an event-loop "
		    "thread; it belongs in a writer op (writer.h)\"");
	if (guard == GUARD_ABORT)
		abort();
	return SIGIL_EDENIED;
}
