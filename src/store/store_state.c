/*
 * store_state.c - per-code state: a pending layer in front of code_state.
 *
 * Every human scan changes its code's state (first scan, count, devices,
 * last place). Codes are scanned in no particular order, so writing that
 * row in the scan's own transaction dirtied a random B-tree leaf (and a
 * branch above it) per scan, and those random pages were what a durable
 * commit waited for. The durable record of a scan is its entry in the
 * append-only log; the code's state is a function of the log. So the
 * commit now appends to the log and keeps the new state here, in memory,
 * and the state reaches code_state later, in key order, many codes per
 * leaf: a log-structured merge with the scan log as its write-ahead log.
 *
 * Two generations. New states go into `cur`. When cur holds freeze_at
 * codes (or the writer is idle) it is frozen as `old`, sorted by key, and
 * merged into code_state a chunk at a time, inside the scan rounds'
 * own transactions (store_scans_commit) or in idle-time transactions of
 * their own (store_state_merge). A reader sees cur, else old, else
 * code_state: a cur entry was built from the view at the time, so it
 * supersedes old and code_state, and an old entry is never older than
 * what its merge wrote.
 *
 * Meta keys record how far code_state has got: every scan with id <=
 * state/through is in it; while a merge runs, state/target is the last
 * scan id of the frozen generation and state/key the last code key
 * merged so far (codes at or below it are in code_state up to target).
 * A merge chunk writes them in the transaction that writes its rows, so
 * after a crash store_open's reader replays exactly the scans code_state
 * lacks (pend_load), with store_state_apply: the same state the judge
 * built, from what the log recorded of each verdict.
 *
 * Locations stored later (store_scan_locate) change code_state directly,
 * but only the fields a location can change (last place, sticky flags),
 * which merge by "latest" and "or": replaying the log over them gives
 * the same result whether or not the replay has seen the location.
 *
 * One thread at a time changes pending state (state_write_mu, held for a
 * whole commit, locate or merge); readers on other threads copy under
 * state_mu. Nothing here may allocate after a commit: capacity is
 * reserved before the transaction, so a committed scan always lands in
 * memory too. Only sigild's writer commits scans; another process reads
 * the log tail into a view of its own (lazily, read-only).
 *
 * Owns the pending generations and the meta keys state/through,
 * state/target and state/key; writes code_state and code_scans rows when
 * it merges. May call: libc, pthreads, LMDB, util.c, store_env.c and
 * store_scanlog.c (the log it replays, the rows it merges into, the
 * state rules). Must never call the files that use it (store_scans.c,
 * store_notes.c, store_erase.c, store_retention.c, store_customers.c,
 * store_open.c).
 */
#include <stdlib.h>
#include <string.h>

#include "sigil/store.h"
#include "store_impl.h"

#define FREEZE_DEFAULT	32768	/* codes in cur before it is frozen */

struct pend_id {
	uint64_t	 id;
	uint32_t	 next;		/* index + 1 in ids, 0 at the end */
};

struct pend_ent {
	uint8_t		 key[CODE_KEY_LEN];
	uint32_t	 id_head, id_tail;	/* index + 1 in ids */
	struct code_state cs;
};

/* A frozen entry's place in key order: the 9-byte key as 8 + 1. */
struct pend_ord {
	uint64_t	 hi;
	uint32_t	 lo;
	uint32_t	 ent;
};

struct pend_gen {
	struct pend_ent	*ent;
	size_t		 n, cap;
	uint32_t	*slot;		/* entry index + 1, 0 empty */
	size_t		 nslot;		/* power of two, >= 2 * cap */
	struct pend_id	*ids;
	size_t		 nids, capids;
	struct pend_ord	*order;		/* frozen: entries in key order */
	size_t		 pos;		/* frozen: entries merged so far */
	uint64_t	 target;	/* frozen: its last scan id */
	int		 sorted;	/* frozen: order is ready (atomic) */
};

struct pend {
	struct pend_gen	 gen[2];
	struct pend_gen	*cur, *old;
	int		 loaded;
	uint64_t	 last;		/* last scan id reflected */
	size_t		 freeze_at;
	size_t		 chunk_max;	/* codes merged per round at most */
	uint64_t	 merged;	/* codes written to code_state */
	uint64_t	 replayed;	/* scans replayed by the last load */
	int		 resumed;	/* the last load finished a merge */
	pthread_t	 sorter;	/* sorting old, while sorter_live */
	int		 sorter_live;
};

struct pend_round {
	struct {
		uint8_t		 key[CODE_KEY_LEN];
		struct code_state cs;
	} *ent;
	size_t		 n, cap;
	uint32_t	*slot;
	size_t		 nslot;
	struct {
		uint32_t	 ent;
		uint64_t	 id;
	} *ids;
	size_t		 nids;
};

static uint64_t
key_hash(const uint8_t *k)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (int i = 0; i < CODE_KEY_LEN; i++)
		h = (h ^ k[i]) * 0x100000001b3ULL;
	return h ^ h >> 29;
}

/* ---- one generation: an open-addressing index over an entry array ---- */

static long
gen_find(const struct pend_gen *g, const uint8_t *key)
{
	size_t mask = g->nslot - 1, i;

	if (g->n == 0)
		return -1;
	for (i = key_hash(key) & mask; g->slot[i] != 0; i = (i + 1) & mask)
		if (memcmp(g->ent[g->slot[i] - 1].key, key, CODE_KEY_LEN) == 0)
			return (long)g->slot[i] - 1;
	return -1;
}

/* Room for more entries and ids; nothing changes on failure. */
static int
gen_reserve(struct pend_gen *g, size_t more, size_t more_ids)
{
	size_t want = g->n + more, nslot, mask;
	uint32_t *slot;

	if (want > UINT32_MAX / 4 || g->nids + more_ids > UINT32_MAX / 2)
		return SIGIL_EFULL;
	if (g->nids + more_ids > g->capids) {
		size_t cap = g->capids ? g->capids : 1024;
		struct pend_id *ids;

		while (cap < g->nids + more_ids)
			cap *= 2;
		if ((ids = realloc(g->ids, cap * sizeof(*ids))) == NULL)
			return SIGIL_ENOMEM;
		g->ids = ids;
		g->capids = cap;
	}
	if (want <= g->cap)
		return 0;
	{
		size_t cap = g->cap ? g->cap : 1024;
		struct pend_ent *ent;
		struct pend_ord *order;

		while (cap < want)
			cap *= 2;
		for (nslot = 1; nslot < 2 * cap; nslot *= 2)
			;
		if ((slot = calloc(nslot, sizeof(*slot))) == NULL)
			return SIGIL_ENOMEM;
		if ((order = realloc(g->order, cap * sizeof(*order))) == NULL) {
			free(slot);
			return SIGIL_ENOMEM;
		}
		g->order = order;
		if ((ent = realloc(g->ent, cap * sizeof(*ent))) == NULL) {
			free(slot);
			return SIGIL_ENOMEM;
		}
		g->ent = ent;
		g->cap = cap;
	}
	mask = nslot - 1;
	for (size_t e = 0; e < g->n; e++) {
		size_t i = key_hash(g->ent[e].key) & mask;

		while (slot[i] != 0)
			i = (i + 1) & mask;
		slot[i] = (uint32_t)e + 1;
	}
	free(g->slot);
	g->slot = slot;
	g->nslot = nslot;
	return 0;
}

/* Adds key with state cs; capacity must have been reserved. */
static size_t
gen_add(struct pend_gen *g, const uint8_t *key, const struct code_state *cs)
{
	size_t mask = g->nslot - 1, i, e = g->n++;

	memcpy(g->ent[e].key, key, CODE_KEY_LEN);
	g->ent[e].id_head = g->ent[e].id_tail = 0;
	g->ent[e].cs = *cs;
	for (i = key_hash(key) & mask; g->slot[i] != 0; i = (i + 1) & mask)
		;
	g->slot[i] = (uint32_t)e + 1;
	return e;
}

static void
gen_add_id(struct pend_gen *g, size_t e, uint64_t id)
{
	size_t x = g->nids++;

	g->ids[x].id = id;
	g->ids[x].next = 0;
	if (g->ent[e].id_tail)
		g->ids[g->ent[e].id_tail - 1].next = (uint32_t)x + 1;
	else
		g->ent[e].id_head = (uint32_t)x + 1;
	g->ent[e].id_tail = (uint32_t)x + 1;
}

static void
gen_clear(struct pend_gen *g)
{
	if (g->n > 0)
		memset(g->slot, 0, g->nslot * sizeof(*g->slot));
	g->n = g->nids = g->pos = 0;
	g->target = 0;
}

static void
gen_free(struct pend_gen *g)
{
	free(g->ent);
	free(g->slot);
	free(g->ids);
	free(g->order);
	memset(g, 0, sizeof(*g));
}

static int
order_cmp(const void *a, const void *b)
{
	const struct pend_ord *x = a, *y = b;

	if (x->hi != y->hi)
		return x->hi < y->hi ? -1 : 1;
	return (x->lo > y->lo) - (x->lo < y->lo);
}

/* Puts a frozen generation's entries in key order. */
static void *
gen_sort(void *arg)
{
	struct pend_gen *g = arg;

	/* Keys copied out first: the sort then never leaves the array. */
	for (size_t i = 0; i < g->n; i++) {
		g->order[i].hi = sigil_be64_get(g->ent[i].key);
		g->order[i].lo = g->ent[i].key[8];
		g->order[i].ent = (uint32_t)i;
	}
	qsort(g->order, g->n, sizeof(*g->order), order_cmp);
	__atomic_store_n(&g->sorted, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Waits for the sort of old, if one runs. */
static void
pend_sort_wait(struct pend *p)
{
	if (p->sorter_live) {
		pthread_join(p->sorter, NULL);
		p->sorter_live = 0;
	}
}

/*
 * Freezes cur as old (which must be fully merged) and starts an empty
 * cur. Called by the writing thread under state_mu. Sorting 32,768
 * codes took the writer ~10 ms, a stall every scan saw, so a thread of
 * its own sorts while the writer goes on committing; merging starts
 * once the order is ready (pend_merge_due). Nothing changes a frozen
 * entry's key, so the sort needs no lock.
 */
static void
pend_freeze(struct pend *p)
{
	struct pend_gen *g = p->cur;

	pend_sort_wait(p);
	gen_clear(p->old);
	p->cur = p->old;
	p->old = g;
	g->pos = 0;
	g->target = p->last;
	g->sorted = 0;
	if (g->n < 4096 ||
	    pthread_create(&p->sorter, NULL, gen_sort, g) != 0)
		gen_sort(g);
	else
		p->sorter_live = 1;
}

int
pend_init(struct store *st)
{
	struct pend *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return SIGIL_ENOMEM;
	p->cur = &p->gen[0];
	p->old = &p->gen[1];
	p->freeze_at = env_size("SIGIL_STATE_PENDING", FREEZE_DEFAULT, 1,
	    1u << 24);
	p->chunk_max = env_size("SIGIL_STATE_CHUNK", SIZE_MAX, 1, 1u << 24);
	pthread_mutex_init(&st->state_mu, NULL);
	pthread_mutex_init(&st->state_write_mu, NULL);
	st->pend = p;
	return 0;
}

void
pend_free(struct store *st)
{
	if (st->pend == NULL)
		return;
	pend_sort_wait(st->pend);
	gen_free(&st->pend->gen[0]);
	gen_free(&st->pend->gen[1]);
	free(st->pend);
	st->pend = NULL;
	pthread_mutex_destroy(&st->state_write_mu);
	pthread_mutex_destroy(&st->state_mu);
}

/* What a location changes in a state: the last place and sticky flags. */
static void
state_locate_merge(struct code_state *s, const struct code_state *from)
{
	s->flags |= from->flags & STATE_STICKY;
	if (from->last_loc_at != 0 && from->last_loc_at >= s->last_loc_at) {
		s->last_loc_at = from->last_loc_at;
		s->last_lat = from->last_lat;
		s->last_lng = from->last_lng;
	}
}

/* ---- loading: replay the scans code_state lacks ---- */

struct merge_arg {
	size_t	 max;
	size_t	 pos;		/* out: where the merge got to */
	int	 all;		/* write every entry of cur (load) */
};

static int merge_fn(struct store *st, MDB_txn *txn, void *arg);

struct replay {
	struct store	*st;
	uint64_t	 target;
	uint8_t		 key[CODE_KEY_LEN];	/* state/key */
	int		 err;
};

static int
replay_one(void *arg, const struct scan_rec *r)
{
	struct replay *rp = arg;
	struct pend *p = rp->st->pend;
	struct pend_gen *g = p->cur;
	uint8_t ck[CODE_KEY_LEN];
	struct code_state cs;
	long e;
	int rc;

	p->last = r->id;
	p->replayed++;
	if (r->brand_id == 0)
		return 0;
	code_key_put(ck, r->brand_id, r->serial);
	if (rp->target != 0 && r->id <= rp->target &&
	    memcmp(ck, rp->key, CODE_KEY_LEN) <= 0)
		return 0;
	/* Joins the walk's snapshot: code_state as of the same log. */
	if ((e = gen_find(g, ck)) < 0 &&
	    (rc = STORE_READ(rp->st, state_load(rp->st, txn, ck, &cs))) != 0)
		goto fail;
	/* Readers may be looking (a reload after a failed write). */
	pthread_mutex_lock(&rp->st->state_mu);
	if ((rc = gen_reserve(g, 1, 1)) == 0) {
		uint64_t first;

		if (e < 0)
			e = (long)gen_add(g, ck, &cs);
		first = g->ent[e].cs.first_scan_id;
		store_state_apply(&g->ent[e].cs, r);
		if (g->ent[e].cs.first_scan_id != r->id)
			gen_add_id(g, (size_t)e, r->id);
		else if (first != 0)
			gen_add_id(g, (size_t)e, first);	/* taken over */
	}
	pthread_mutex_unlock(&rp->st->state_mu);
	if (rc != 0)
		goto fail;
	return 0;
fail:
	rp->err = map_err(rc);
	return 1;
}

/*
 * How far code_state has got (meta state/through, and while a merge
 * runs state/target and state/key: see the opening comment).
 */
static int
merged_through(struct store *st, MDB_txn *txn, uint64_t *through,
    struct replay *rp)
{
	MDB_val k = meta_key("state/through"), v;
	int rc = mdb_get(txn, st->meta, &k, &v);

	if (rc == MDB_NOTFOUND) {
		/* A store from before this layer: code_state is complete. */
		rc = meta_get(st, txn, meta_key("next_scan"), through);
		*through = *through ? *through - 1 : 0;
		return rc;
	}
	if (rc != 0)
		return rc;
	if (v.mv_size != 8)
		return SIGIL_EIO;
	*through = le64_get(v.mv_data);
	if ((rc = meta_get(st, txn, meta_key("state/target"),
	    &rp->target)) != 0 || rp->target == 0)
		return rc;
	k = meta_key("state/key");
	if ((rc = mdb_get(txn, st->meta, &k, &v)) == MDB_NOTFOUND ||
	    (rc == 0 && v.mv_size != CODE_KEY_LEN))
		return SIGIL_EIO;
	if (rc == 0)
		memcpy(rp->key, v.mv_data, CODE_KEY_LEN);
	return rc;
}

/*
 * Builds the pending view from the log (once per store handle). Under
 * state_write_mu. A read-write handle that finds a merge cut short by a
 * crash writes everything it replayed in one transaction, so the
 * generations start afresh; a read-only one only keeps the view.
 */
static int
pend_load(struct store *st)
{
	struct pend *p = st->pend;
	struct replay rp = { st, 0, { 0 }, 0 };
	uint64_t through;
	int rc;

	if ((rc = STORE_READ(st, merged_through(st, txn, &through, &rp))) != 0)
		return rc;
	p->last = through;
	p->replayed = 0;
	p->resumed = 0;
	/*
	 * Room for a generation and the half more that can come while the
	 * frozen one merges: growing a full one by realloc and rehash
	 * stalled the writer 5-9 ms. Untouched pages cost no memory.
	 */
	if (!(st->flags & STORE_RDONLY)) {
		size_t want = p->freeze_at + p->freeze_at / 2;

		pthread_mutex_lock(&st->state_mu);
		for (int i = 0; i < 2 && rc == 0; i++)
			rc = gen_reserve(&p->gen[i], want - p->gen[i].n, 0);
		pthread_mutex_unlock(&st->state_mu);
		if (rc != 0)
			return rc;
	}
	if ((rc = store_scan_after(st, through, SIZE_MAX, replay_one,
	    &rp)) != 0 && rp.err == 0)
		return rc;
	if (rp.err != 0)
		return rp.err;
	__atomic_store_n(&p->loaded, 1, __ATOMIC_RELEASE);
	if (rp.target != 0 && !(st->flags & STORE_RDONLY)) {
		struct merge_arg a = { 0, 0, 1 };

		if ((rc = store_write(st, merge_fn, &a)) != 0)
			return rc;
		pthread_mutex_lock(&st->state_mu);
		p->merged += p->cur->n;
		gen_clear(p->cur);
		p->resumed = 1;
		pthread_mutex_unlock(&st->state_mu);
	}
	return 0;
}

int
pend_ready_locked(struct store *st)
{
	int rc;

	if (st->pend->loaded)
		return 0;
	if ((rc = pend_load(st)) != 0) {
		pthread_mutex_lock(&st->state_mu);
		gen_clear(st->pend->cur);
		pthread_mutex_unlock(&st->state_mu);
	}
	return rc;
}

int
pend_ready(struct store *st)
{
	int rc;

	if (__atomic_load_n(&st->pend->loaded, __ATOMIC_ACQUIRE))
		return 0;
	pthread_mutex_lock(&st->state_write_mu);
	rc = pend_ready_locked(st);
	pthread_mutex_unlock(&st->state_write_mu);
	return rc;
}

int
store_state_load(struct store *st)
{
	return pend_ready(st);
}

/*
 * After a failed write the store cannot be sure the transaction did not
 * reach the file (a sync that failed after the pages were written): drop
 * the pending view; the next call replays it from the log, which is
 * right either way. Under state_write_mu.
 */
void
pend_invalidate(struct store *st)
{
	struct pend *p = st->pend;

	pthread_mutex_lock(&st->state_mu);
	pend_sort_wait(p);
	gen_clear(p->cur);
	gen_clear(p->old);
	__atomic_store_n(&p->loaded, 0, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&st->state_mu);
}

/* ---- reading ---- */

/* The pending entry of key, cur before old, or NULL. Under a lock. */
static struct pend_ent *
pend_entry(struct pend *p, const uint8_t *key)
{
	long e;

	if ((e = gen_find(p->cur, key)) >= 0)
		return &p->cur->ent[e];
	if ((e = gen_find(p->old, key)) >= 0)
		return &p->old->ent[e];
	return NULL;
}

int
pend_view(struct store *st, const uint8_t *key, struct code_state *out,
    uint64_t **ids, size_t *nids)
{
	struct pend_ent *e;
	int found = 0;

	if (ids) {
		*ids = NULL;
		*nids = 0;
	}
	for (;;) {
		int rc;

		pthread_mutex_lock(&st->state_mu);
		if (__atomic_load_n(&st->pend->loaded, __ATOMIC_ACQUIRE))
			break;
		/* Dropped after a failed write: wait for the replay. */
		pthread_mutex_unlock(&st->state_mu);
		if ((rc = pend_ready(st)) != 0)
			return rc;
	}
	if ((e = pend_entry(st->pend, key)) != NULL) {
		found = 1;
		*out = e->cs;
	}
	/*
	 * The ids of both generations: a code in cur may still have ids
	 * in old that its merge has not written yet.
	 */
	for (int i = 0; ids && i < 2; i++) {
		struct pend_gen *gg = i == 0 ? st->pend->old : st->pend->cur;
		long x = gen_find(gg, key);
		size_t n = 0;
		uint64_t *a;

		if (x < 0)
			continue;
		for (uint32_t j = gg->ent[x].id_head; j; j = gg->ids[j - 1].next)
			n++;
		if (n == 0)
			continue;
		if ((a = realloc(*ids, (*nids + n) * sizeof(**ids))) == NULL) {
			found = SIGIL_ENOMEM;
			break;
		}
		*ids = a;
		for (uint32_t j = gg->ent[x].id_head; j; j = gg->ids[j - 1].next)
			a[(*nids)++] = gg->ids[j - 1].id;
	}
	pthread_mutex_unlock(&st->state_mu);
	if (found < 0) {
		free(*ids);
		*ids = NULL;
		*nids = 0;
	}
	return found;
}

/* The writing thread's view: no lock needed, it is the only writer. */
int
pend_view_w(struct store *st, MDB_txn *txn, const uint8_t *key,
    struct code_state *out)
{
	struct pend_ent *e = pend_entry(st->pend, key);

	if (e != NULL) {
		*out = e->cs;
		return 0;
	}
	return state_load(st, txn, key, out);
}

void
pend_round_free(struct pend_round *r)
{
	if (r == NULL)
		return;
	free(r->ent);
	free(r->slot);
	free(r->ids);
	free(r);
}

/* ---- a commit's round ---- */

int
pend_round_new(size_t n, struct pend_round **out)
{
	struct pend_round *r;
	size_t nslot;

	for (nslot = 16; nslot < 2 * n; nslot *= 2)
		;
	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->ent = malloc(n * sizeof(*r->ent))) == NULL ||
	    (r->slot = calloc(nslot, sizeof(*r->slot))) == NULL ||
	    (r->ids = malloc(n * sizeof(*r->ids))) == NULL) {
		pend_round_free(r);
		return SIGIL_ENOMEM;
	}
	r->cap = n;
	r->nslot = nslot;
	*out = r;
	return 0;
}

void
pend_round_reset(struct pend_round *r)
{
	memset(r->slot, 0, r->nslot * sizeof(*r->slot));
	r->n = r->nids = 0;
}

int
pend_round_state(struct store *st, MDB_txn *txn, struct pend_round *r,
    const uint8_t *key, struct code_state **out, size_t *index)
{
	size_t mask = r->nslot - 1, i;
	int rc;

	for (i = key_hash(key) & mask; r->slot[i] != 0; i = (i + 1) & mask)
		if (memcmp(r->ent[r->slot[i] - 1].key, key,
		    CODE_KEY_LEN) == 0) {
			*index = r->slot[i] - 1;
			*out = &r->ent[*index].cs;
			return 0;
		}
	if (r->n == r->cap)
		return SIGIL_EINVAL;
	if ((rc = pend_view_w(st, txn, key, &r->ent[r->n].cs)) != 0)
		return rc;
	memcpy(r->ent[r->n].key, key, CODE_KEY_LEN);
	r->slot[i] = (uint32_t)r->n + 1;
	*index = r->n++;
	*out = &r->ent[*index].cs;
	return 0;
}

void
pend_round_id(struct pend_round *r, size_t index, uint64_t id)
{
	r->ids[r->nids].ent = (uint32_t)index;
	r->ids[r->nids++].id = id;
}

int
pend_reserve(struct store *st, size_t n)
{
	int rc;

	pthread_mutex_lock(&st->state_mu);
	rc = gen_reserve(st->pend->cur, n, n);
	pthread_mutex_unlock(&st->state_mu);
	return rc;
}

/* Moves a committed round into cur; freezes cur when it is due. */
void
pend_round_apply(struct store *st, struct pend_round *r, uint64_t last_id)
{
	struct pend *p = st->pend;
	struct pend_gen *g = p->cur;
	long e;

	pthread_mutex_lock(&st->state_mu);
	for (size_t i = 0; i < r->n; i++) {
		if ((e = gen_find(g, r->ent[i].key)) < 0)
			gen_add(g, r->ent[i].key, &r->ent[i].cs);
		else
			g->ent[e].cs = r->ent[i].cs;
	}
	for (size_t i = 0; i < r->nids; i++) {
		e = gen_find(g, r->ent[r->ids[i].ent].key);
		gen_add_id(g, (size_t)e, r->ids[i].id);
	}
	if (last_id > p->last)
		p->last = last_id;
	if (p->old->pos == p->old->n && g->n >= p->freeze_at)
		pend_freeze(p);
	pthread_mutex_unlock(&st->state_mu);
}

/* ---- merging into code_state ---- */

static int
merge_ent(struct store *st, MDB_txn *txn, const struct pend_gen *g,
    const struct pend_ent *e)
{
	uint8_t kb[8];
	MDB_val k = mval(e->key, CODE_KEY_LEN), v;
	int rc;

	if ((rc = state_store(st, txn, e->key, &e->cs)) != 0)
		return rc;
	for (uint32_t j = e->id_head; j; j = g->ids[j - 1].next) {
		sigil_be64_put(kb, g->ids[j - 1].id);
		v = mval(kb, 8);
		if ((rc = mdb_put(txn, st->code_scans, &k, &v, 0)) != 0)
			return rc;
	}
	return 0;
}

static int
meta_del(struct store *st, MDB_txn *txn, const char *name)
{
	MDB_val k = meta_key(name);
	int rc = mdb_del(txn, st->meta, &k, NULL);

	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* code_state now holds every scan up to through: no merge runs. */
static int
merge_done(struct store *st, MDB_txn *txn, uint64_t through)
{
	int rc;

	if ((rc = meta_put(st, txn, meta_key("state/through"), through)) != 0 ||
	    (rc = meta_del(st, txn, "state/target")) != 0)
		return rc;
	return meta_del(st, txn, "state/key");
}

int
pend_merge_some(struct store *st, MDB_txn *txn, size_t max, size_t *pos)
{
	struct pend_gen *g = st->pend->old;
	size_t i = g->pos, end = g->n - g->pos < max ? g->n : g->pos + max;
	MDB_val k, v;
	int rc;

	*pos = i;
	if (i == g->n)
		return 0;
	for (; i < end; i++)
		if ((rc = merge_ent(st, txn, g, &g->ent[g->order[i].ent])) != 0)
			return rc;
	if (end == g->n) {
		if ((rc = merge_done(st, txn, g->target)) != 0)
			return rc;
	} else {
		k = meta_key("state/target");
		if ((rc = meta_put(st, txn, k, g->target)) != 0)
			return rc;
		k = meta_key("state/key");
		v = mval(g->ent[g->order[end - 1].ent].key, CODE_KEY_LEN);
		if ((rc = mdb_put(txn, st->meta, &k, &v, 0)) != 0)
			return rc;
	}
	*pos = end;
	return 0;
}

void
pend_merged(struct store *st, size_t pos)
{
	struct pend *p = st->pend;

	if (pos <= p->old->pos)
		return;
	pthread_mutex_lock(&st->state_mu);
	p->merged += pos - p->old->pos;
	p->old->pos = pos;
	pthread_mutex_unlock(&st->state_mu);
}

size_t
pend_merge_due(struct store *st, size_t round)
{
	struct pend_gen *g = st->pend->old;

	if (g->pos == g->n || !__atomic_load_n(&g->sorted, __ATOMIC_ACQUIRE))
		return 0;
	/* A half more than the round brings: merging outpaces filling. */
	round += round / 2 + 16;
	return round < st->pend->chunk_max ? round : st->pend->chunk_max;
}

/* Writes every pending entry (load after a crash cut a merge short). */
static int
merge_all(struct store *st, MDB_txn *txn)
{
	struct pend_gen *g = st->pend->cur;
	int rc;

	for (size_t i = 0; i < g->n; i++)
		if ((rc = merge_ent(st, txn, g, &g->ent[i])) != 0)
			return rc;
	return merge_done(st, txn, st->pend->last);
}

static int
merge_fn(struct store *st, MDB_txn *txn, void *arg)
{
	struct merge_arg *a = arg;

	if (a->all)
		return merge_all(st, txn);
	return pend_merge_some(st, txn, a->max, &a->pos);
}

int
store_state_merge(struct store *st, size_t max_codes, size_t *left)
{
	struct pend *p = st->pend;
	struct merge_arg a = { max_codes ? max_codes : SIZE_MAX, 0, 0 };
	int rc;

	if (left)
		*left = 0;
	if (st->flags & STORE_RDONLY)
		return SIGIL_EDENIED;
	pthread_mutex_lock(&st->state_write_mu);
	if ((rc = pend_ready_locked(st)) != 0) {
		pthread_mutex_unlock(&st->state_write_mu);
		return rc;
	}
	if (p->old->pos == p->old->n && p->cur->n > 0) {
		pthread_mutex_lock(&st->state_mu);
		pend_freeze(p);
		pthread_mutex_unlock(&st->state_mu);
	}
	if (p->old->pos < p->old->n) {
		pend_sort_wait(p);
		a.pos = p->old->pos;
		if ((rc = store_write(st, merge_fn, &a)) == 0)
			pend_merged(st, a.pos);
		else
			pend_invalidate(st);
	}
	if (left)
		*left = (p->old->n - p->old->pos) + p->cur->n;
	pthread_mutex_unlock(&st->state_write_mu);
	return rc;
}

/*
 * A change made to code_state's row of key, made to the key's pending
 * entries too (both generations), under state_mu: fn(state, ctx) on
 * each. Used for what merges into a state whatever its age (a location,
 * a clear, an erasure's coarsening), so a replay agrees either way.
 */
static void
pend_update(struct store *st, const uint8_t *key,
    void (*fn)(struct code_state *s, const void *ctx), const void *ctx)
{
	struct pend *p = st->pend;
	long e;

	pthread_mutex_lock(&st->state_mu);
	if ((e = gen_find(p->cur, key)) >= 0)
		fn(&p->cur->ent[e].cs, ctx);
	if ((e = gen_find(p->old, key)) >= 0)
		fn(&p->old->ent[e].cs, ctx);
	pthread_mutex_unlock(&st->state_mu);
}

static void
locate_one(struct code_state *s, const void *judged)
{
	state_locate_merge(s, judged);
}

/* A location's state change, into the pending entries of its code. */
void
pend_locate_apply(struct store *st, const uint8_t *key,
    const struct code_state *cs)
{
	pend_update(st, key, locate_one, cs);
}

static void
coarsen_one(struct code_state *s, const void *ctx)
{
	(void)ctx;
	if (s->last_loc_at != 0) {
		s->last_lat = erase_coarse(s->last_lat);
		s->last_lng = erase_coarse(s->last_lng);
	}
}

void
pend_coarsen(struct store *st, const uint8_t *key)
{
	pend_update(st, key, coarsen_one, NULL);
}

static void
unlocate_one(struct code_state *s, const void *ctx)
{
	int64_t cutoff = *(const int64_t *)ctx;

	if (s->last_loc_at != 0 && s->last_loc_at < cutoff) {
		s->last_loc_at = 0;
		s->last_lat = 0;
		s->last_lng = 0;
	}
}

void
pend_unlocate(struct store *st, const uint8_t *key, int64_t cutoff)
{
	pend_update(st, key, unlocate_one, &cutoff);
}

/* A clear, into the pending entries of its code. */
static void
clear_one(struct code_state *s, const void *through)
{
	state_clear(s, *(const uint64_t *)through);
}

void
pend_clear_apply(struct store *st, const uint8_t *key, uint64_t through)
{
	pend_update(st, key, clear_one, &through);
}

int
pend_locate_base(struct store *st, MDB_txn *txn, const uint8_t *key,
    const struct code_state *judged)
{
	struct code_state base;
	int rc;

	if ((rc = state_load(st, txn, key, &base)) != 0)
		return rc;
	state_locate_merge(&base, judged);
	return state_store(st, txn, key, &base);
}

void
store_state_info(struct store *st, struct store_state_info *out)
{
	struct pend *p = st->pend;

	pthread_mutex_lock(&st->state_mu);
	out->pending = p->cur->n + (p->old->n - p->old->pos);
	out->merged = p->merged;
	out->freeze_at = p->freeze_at;
	out->replayed = p->replayed;
	out->resumed = p->resumed;
	pthread_mutex_unlock(&st->state_mu);
}
