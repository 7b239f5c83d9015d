/*
 * test_state.c - the pending layer of per-code state (src/store/store_state.c):
 * the replay rule agrees with the real judge, reads see pending and merged
 * state alike at every step, and a process that dies at any point (with a
 * merge half done) leaves a store whose replay gives the same states.
 *
 * Every test keeps a model: each code's state as scan_judge builds it in
 * memory, scan by scan, which is what code_state held when the store
 * wrote it in the scan's own transaction.
 */
#include <ftw.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "tmpdir.h"

#include "sigil/scan.h"
#include "sigil/store.h"
#include "sigil/util.h"

#define CODES		40
#define MAX_SCANNERS	3
#define T0		1767225600000000LL

static void
tmpdir_make(char *buf)
{
	assert_non_null(tmpdir_new(buf, 64, "state"));
}

static uint64_t rng = 88172645463325252ULL;

static uint64_t
next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* ---- the model ---- */

struct model {
	struct code_state cs[CODES + 1];	/* by serial */
	uint64_t	 next_id;
	uint64_t	 ids[CODES + 1][512];	/* every scan of the code */
	size_t		 nids[CODES + 1];
	struct scan_rec	 log[4096];		/* by id - 1 */
};

static void
judge_fresh(void *arg, size_t index, struct scan_rec *r, struct code_state *s)
{
	(void)arg;
	(void)index;
	scan_judge(r, s, MAX_SCANNERS, 1);
}

static void
judge_locate(void *arg, size_t index, struct scan_rec *r,
    struct code_state *s)
{
	(void)arg;
	(void)index;
	scan_judge(r, s, MAX_SCANNERS, 0);
}

/* A random scan: mostly genuine phones, some bots, a few inactive. */
static struct scan_rec
random_scan(uint64_t serial, int64_t at)
{
	struct scan_rec r = { 0 };
	uint64_t x = next_rand();

	r.at = at;
	r.brand_id = 1;
	r.serial = serial;
	r.batch_id = 1;
	r.device = 1000 + x % 7;
	r.verdict = VERDICT_GENUINE;
	/* Four networks; a third of the scans come without a cookie. */
	r.ip[10] = r.ip[11] = 0xff;
	r.ip[12] = 10;
	r.ip[14] = (uint8_t)(x >> 24 & 3);
	r.ip[15] = (uint8_t)(x >> 26);
	if (x % 3 == 0) {
		r.flags |= SCAN_ANON;
		r.device = (uint64_t)at << 12 | (x >> 40 & 0xfff);
	}
	if (x % 13 == 0)
		r.flags |= SCAN_BOT;
	else if (x % 17 == 0)
		r.verdict = VERDICT_INACTIVE;
	if (x % 11 == 0) {
		r.flags |= SCAN_HAS_LOC;
		r.lat = (float)(x >> 8 & 63);
		r.lng = (float)(x >> 16 & 63);
		r.accuracy_m = 10;
	}
	if (x % 29 == 0)
		r.flags |= SCAN_CLAIMED_OTHER;
	return r;
}

/* What the store did before the pending layer: judge into the row. */
static void
model_scan(struct model *m, struct scan_rec *r)
{
	struct code_state *s = &m->cs[r->serial];

	r->id = ++m->next_id;
	scan_judge(r, s, MAX_SCANNERS, 1);
	m->ids[r->serial][m->nids[r->serial]++] = r->id;
	m->log[r->id - 1] = *r;
}

/* A location: the judged place and sticky flags, as store_scan_locate. */
static void
model_locate(struct model *m, uint64_t id, float lat, float lng)
{
	struct scan_rec r = m->log[id - 1];
	struct code_state *s = &m->cs[r.serial], j = *s;

	r.lat = lat;
	r.lng = lng;
	r.accuracy_m = 5;
	r.flags |= SCAN_HAS_LOC;
	scan_judge(&r, &j, MAX_SCANNERS, 0);
	s->flags |= j.flags & (SCAN_CLONE_SCANNERS | SCAN_CLONE_TRAVEL |
	    SCAN_CLAIMED_OTHER);
	if (j.last_loc_at != 0 && j.last_loc_at >= s->last_loc_at) {
		s->last_loc_at = j.last_loc_at;
		s->last_lat = j.last_lat;
		s->last_lng = j.last_lng;
	}
	m->log[id - 1].flags |= SCAN_HAS_LOC;
}

static void
state_equal(const struct code_state *a, const struct code_state *b)
{
	assert_int_equal(a->first_at, b->first_at);
	assert_int_equal(a->first_scan_id, b->first_scan_id);
	assert_int_equal(a->scan_count, b->scan_count);
	assert_int_equal(a->bot_count, b->bot_count);
	assert_int_equal(a->flags, b->flags);
	assert_int_equal(a->n_scanners, b->n_scanners);
	for (int i = 0; i < a->n_scanners; i++)
		assert_int_equal(a->scanners[i], b->scanners[i]);
	assert_int_equal(a->last_loc_at, b->last_loc_at);
	assert_true(a->last_lat == b->last_lat);
	assert_true(a->last_lng == b->last_lng);
	assert_int_equal(a->n_nets, b->n_nets);
	for (int i = 0; i < a->n_nets; i++) {
		assert_int_equal(a->nets[i].key, b->nets[i].key);
		assert_int_equal(a->nets[i].anon_at, b->nets[i].anon_at);
	}
	assert_int_equal(a->first_net, b->first_net);
	assert_int_equal(a->cleared_through, b->cleared_through);
}

struct id_list {
	uint64_t	 ids[512];
	size_t		 n;
};

static int
collect_id(void *arg, const struct scan_rec *r)
{
	struct id_list *l = arg;

	assert_true(l->n < 512);
	l->ids[l->n++] = r->id;
	return 0;
}

/* The store answers exactly what the model holds, for every code. */
static void
check_all(struct store *st, const struct model *m)
{
	struct code_state cs;
	struct id_list l;

	for (uint64_t s = 1; s <= CODES; s++) {
		int rc = store_code_state(st, 1, s, &cs);

		if (m->nids[s] == 0) {
			assert_int_equal(rc, SIGIL_ENOTFOUND);
			continue;
		}
		assert_int_equal(rc, 0);
		state_equal(&cs, &m->cs[s]);
		l.n = 0;
		assert_int_equal(store_code_scans(st, 1, s, collect_id, &l), 0);
		assert_int_equal(l.n, m->nids[s]);
		for (size_t i = 0; i < l.n; i++)
			assert_int_equal(l.ids[i], m->ids[s][i]);
	}
}

/* A round of 1..8 scans of random codes, committed and modelled. */
static void
commit_round(struct store *st, struct model *m, int64_t *at)
{
	struct scan_rec recs[8], in[8];
	size_t n = 1 + next_rand() % 8;

	for (size_t i = 0; i < n; i++) {
		/* Ten minutes apart: far-away locations are impossible. */
		*at += 600000000LL;
		recs[i] = in[i] = random_scan(1 + next_rand() % CODES, *at);
	}
	assert_int_equal(store_scans_commit(st, recs, n, judge_fresh, NULL),
	    0);
	for (size_t i = 0; i < n; i++) {
		model_scan(m, &in[i]);
		/* The store's judge saw the state the model holds. */
		assert_int_equal(in[i].id, recs[i].id);
		assert_int_equal(in[i].verdict, recs[i].verdict);
		assert_int_equal(in[i].flags, recs[i].flags);
	}
}

/* Locates a random scan without a location yet; 1 if it did. */
static int
locate_some(struct store *st, struct model *m)
{
	uint64_t id = 1 + next_rand() % m->next_id;
	float lat = (float)(next_rand() % 80), lng = (float)(next_rand() % 80);
	int rc;

	rc = store_scan_locate(st, id, lat, lng, 5, judge_locate, NULL, NULL);
	if (m->log[id - 1].flags & SCAN_HAS_LOC) {
		assert_int_equal(rc, SIGIL_EEXIST);
		return 0;
	}
	assert_int_equal(rc, 0);
	model_locate(m, id, lat, lng);
	return 1;
}

/*
 * The brand clears a random code's clone evidence (store_code_clear);
 * the model forgets it the same way: sticky flags, scanners and their
 * networks, and no scan logged so far may count again.
 */
static void
clear_some(struct store *st, struct model *m)
{
	uint64_t s = 1 + next_rand() % CODES;
	struct code_note note = { 0 };
	struct code_state *cs = &m->cs[s];

	note.at = T0;
	snprintf(note.reason, sizeof note.reason, "checked the shelf");
	assert_int_equal(store_code_clear(st, 1, s, &note), 0);
	assert_int_equal(note.through, m->next_id);
	if (cs->scan_count == 0 && cs->bot_count == 0)
		return;		/* never scanned: nothing to clear */
	cs->flags &= ~(uint32_t)(SCAN_CLONE_SCANNERS | SCAN_CLONE_TRAVEL |
	    SCAN_CLAIMED_OTHER);
	cs->n_scanners = 0;
	memset(cs->scanners, 0, sizeof cs->scanners);
	cs->n_nets = 0;
	memset(cs->nets, 0, sizeof cs->nets);
	cs->cleared_through = m->next_id;
}

/* ---- tests ---- */

/*
 * The replay rule and scan_judge agree on every state, scan by scan:
 * what the live commit keeps is what a replay of the log rebuilds.
 */
static void
test_apply_matches_judge(void **state)
{
	struct code_state judged[CODES + 1], replayed[CODES + 1];
	int64_t at = T0;

	(void)state;
	memset(judged, 0, sizeof(judged));
	memset(replayed, 0, sizeof(replayed));
	for (uint64_t id = 1; id <= 20000; id++) {
		struct scan_rec r;
		uint64_t s = 1 + next_rand() % CODES;

		at += (int64_t)(next_rand() % 3) * 60000000LL;
		r = random_scan(s, at);
		r.id = id;
		scan_judge(&r, &judged[s], MAX_SCANNERS, 1);
		store_state_apply(&replayed[s], &r);
		state_equal(&replayed[s], &judged[s]);
	}
}

/* A human scan of serial 1 from 10.0.net.host, with or without cookie. */
static struct scan_rec
net_scan(uint64_t id, int64_t at, int net, int host, uint64_t device)
{
	struct scan_rec r = { 0 };

	r.id = id;
	r.at = at;
	r.brand_id = 1;
	r.serial = 1;
	r.batch_id = 1;
	r.verdict = VERDICT_GENUINE;
	r.ip[10] = r.ip[11] = 0xff;
	r.ip[12] = 10;
	r.ip[14] = (uint8_t)net;
	r.ip[15] = (uint8_t)host;
	r.device = device ? device : 0x100000 + id;
	if (device == 0)
		r.flags |= SCAN_ANON;
	return r;
}

/*
 * The rules of F9 (docs/api.md, "Scans"): cookie-less scans from one /24
 * within a day are one scanner and never take a later buyer's first
 * scan; more scanners than allowed are a clone only from three networks.
 */
static void
test_scanner_rules(void **state)
{
	struct code_state cs, re;
	struct scan_rec r;
	uint64_t id = 0;
	int64_t at = T0;

	(void)state;
	{
		/* Networks: IPv4 /24, IPv6 /64. */
		uint8_t a[16] = { 0x24, 0x08, 0x84, 0x00, 0, 0, 0, 1, 9 };
		uint8_t b[16] = { 0x24, 0x08, 0x84, 0x00, 0, 0, 0, 1, 7, 7 };
		uint8_t c[16] = { 0x24, 0x08, 0x84, 0x00, 0, 0, 0, 2, 9 };
		uint8_t v4a[16] = { [10] = 0xff, [11] = 0xff, 10, 0, 5, 1 };
		uint8_t v4b[16] = { [10] = 0xff, [11] = 0xff, 10, 0, 5, 200 };
		uint8_t v4c[16] = { [10] = 0xff, [11] = 0xff, 10, 0, 6, 1 };

		assert_int_equal(store_net_key(a), store_net_key(b));
		assert_int_not_equal(store_net_key(a), store_net_key(c));
		assert_int_equal(store_net_key(v4a), store_net_key(v4b));
		assert_int_not_equal(store_net_key(v4a), store_net_key(v4c));
		assert_int_not_equal(store_net_key(v4a), store_net_key(a));
	}
	memset(&cs, 0, sizeof cs);
	memset(&re, 0, sizeof re);
	for (int i = 0; i < 7; i++) {
		r = net_scan(++id, at += 1000000, 5, 1 + i, 0);
		scan_judge(&r, &cs, MAX_SCANNERS, 1);
		store_state_apply(&re, &r);
		assert_int_equal(r.verdict, VERDICT_GENUINE);
		assert_int_equal((r.flags & SCAN_FIRST) != 0, i == 0);
	}
	assert_int_equal(cs.n_scanners, 1);
	assert_int_equal(cs.scan_count, 7);
	/* The buyer, with a cookie, on another network: his is the first. */
	r = net_scan(++id, at += 1000000, 9, 9, 42);
	scan_judge(&r, &cs, MAX_SCANNERS, 1);
	store_state_apply(&re, &r);
	assert_true(r.flags & SCAN_FIRST);
	assert_int_equal(cs.first_scan_id, id);
	assert_int_equal(cs.first_at, at);
	/* ... and stays so: anonymous or not, nobody takes it again. */
	r = net_scan(++id, at += 1000000, 7, 1, 0);
	scan_judge(&r, &cs, MAX_SCANNERS, 1);
	store_state_apply(&re, &r);
	r = net_scan(++id, at += 1000000, 8, 1, 77);
	scan_judge(&r, &cs, MAX_SCANNERS, 1);
	store_state_apply(&re, &r);
	assert_false(r.flags & SCAN_FIRST);
	assert_int_equal(cs.first_scan_id, id - 2);
	/* 4 scanners from 4 networks (5, 9, 7, 8) on max 3: a clone. */
	assert_int_equal(cs.n_scanners, 4);
	assert_int_equal(r.verdict, VERDICT_SUSPICIOUS);
	assert_true(cs.flags & SCAN_CLONE_SCANNERS);
	state_equal(&re, &cs);

	/* A new code: the anonymous slot of a /24 lasts a day. */
	memset(&cs, 0, sizeof cs);
	r = net_scan(++id, at, 5, 1, 0);
	scan_judge(&r, &cs, MAX_SCANNERS, 1);
	r = net_scan(++id, at + STORE_ANON_WINDOW_US - 1, 5, 2, 0);
	scan_judge(&r, &cs, MAX_SCANNERS, 1);
	assert_int_equal(cs.n_scanners, 1);
	r = net_scan(++id, at + STORE_ANON_WINDOW_US + 1, 5, 3, 0);
	scan_judge(&r, &cs, MAX_SCANNERS, 1);
	assert_int_equal(cs.n_scanners, 2);
	/* A cookie from the first scan's network confirms that one. */
	assert_true(cs.flags & STATE_FIRST_ANON);
	r = net_scan(++id, at + STORE_ANON_WINDOW_US + 2, 5, 4, 99);
	scan_judge(&r, &cs, MAX_SCANNERS, 1);
	assert_false(r.flags & SCAN_FIRST);
	assert_false(cs.flags & STATE_FIRST_ANON);
	assert_int_equal(cs.first_scan_id, id - 3);

	/* Ten devices with cookies from two networks: not yet a clone. */
	memset(&cs, 0, sizeof cs);
	for (int i = 0; i < 10; i++) {
		r = net_scan(++id, at += 1000, i % 2, 1, 500 + (uint64_t)i);
		scan_judge(&r, &cs, MAX_SCANNERS, 1);
		assert_int_equal(r.verdict, VERDICT_GENUINE);
	}
	assert_int_equal(cs.n_scanners, 10);
	r = net_scan(++id, at += 1000, 2, 1, 600);
	scan_judge(&r, &cs, MAX_SCANNERS, 1);
	assert_int_equal(r.verdict, VERDICT_SUSPICIOUS);
}

static void
test_merge_interleaved(void **state)
{
	static struct model m;
	char dir[64];
	struct store *st;
	struct store_state_info si;
	int64_t at = T0;
	size_t left;

	(void)state;
	memset(&m, 0, sizeof(m));
	tmpdir_make(dir);
	setenv("SIGIL_STATE_PENDING", "7", 1);
	assert_int_equal(store_open(dir, STORE_CREATE | STORE_NOSYNC, &st),
	    0);
	for (int round = 0; round < 300; round++) {
		commit_round(st, &m, &at);
		if (round % 7 == 3)
			locate_some(st, &m);
		if (round % 9 == 4)
			clear_some(st, &m);
		if (round % 5 == 0)
			assert_int_equal(store_state_merge(st, 1 + round % 3,
			    &left), 0);
		check_all(st, &m);
	}
	store_state_info(st, &si);
	assert_int_equal(si.freeze_at, 7);
	assert_true(si.merged > 0);
	/* Reopened with state pending: replay gives the same answers. */
	store_close(st);
	assert_int_equal(store_open(dir, STORE_NOSYNC, &st), 0);
	check_all(st, &m);
	do
		assert_int_equal(store_state_merge(st, 0, &left), 0);
	while (left > 0);
	store_state_info(st, &si);
	assert_int_equal(si.pending, 0);
	check_all(st, &m);
	/* A read-only handle replays nothing now and sees it all. */
	store_close(st);
	assert_int_equal(store_open(dir, STORE_RDONLY, &st), 0);
	check_all(st, &m);
	assert_int_equal(store_state_merge(st, 0, &left), SIGIL_EDENIED);
	store_close(st);
	unsetenv("SIGIL_STATE_PENDING");
	tmpdir_remove(dir);
}

/*
 * A child commits, locates and merges, and dies (_exit, no close) after
 * a varying number of steps, sometimes in the middle of a merge; the
 * parent, which ran the same steps on its model, reopens the store and
 * must see the model: nothing lost, nothing counted twice. Then it
 * carries on writing on the recovered store.
 */
static void
test_crash_replay(void **state)
{
	static struct model m;
	char dir[64];
	struct store *st;
	int64_t at;
	size_t left;
	int status;

	(void)state;
	setenv("SIGIL_STATE_PENDING", "5", 1);
	for (int trial = 0; trial < 12; trial++) {
		int steps = 20 + trial * 17;
		uint64_t seed = 0x5eed0000ULL + (uint64_t)trial;
		pid_t pid;

		tmpdir_make(dir);
		memset(&m, 0, sizeof(m));
		rng = seed;
		at = T0;
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			if (store_open(dir, STORE_CREATE, &st) != 0)
				_exit(3);
			for (int i = 0; i < steps; i++) {
				commit_round(st, &m, &at);
				if (i % 4 == 1)
					locate_some(st, &m);
				if (i % 5 == 2)
					clear_some(st, &m);
				/* Small merges: most deaths are mid-merge. */
				if (i % 3 == 0 &&
				    store_state_merge(st, 2, &left) != 0)
					_exit(4);
			}
			_exit(0);	/* no store_close: a crash */
		}
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
		/* The same steps on the model alone. */
		rng = seed;
		at = T0;
		memset(&m, 0, sizeof(m));
		{
			struct store *shadow;
			char sdir[64];

			/*
			 * The model needs the store's answers for locates
			 * (EEXIST), so it replays on a shadow store that
			 * lives to the end.
			 */
			tmpdir_make(sdir);
			assert_int_equal(store_open(sdir, STORE_CREATE |
			    STORE_NOSYNC, &shadow), 0);
			for (int i = 0; i < steps; i++) {
				commit_round(shadow, &m, &at);
				if (i % 4 == 1)
					locate_some(shadow, &m);
				if (i % 5 == 2)
					clear_some(shadow, &m);
				if (i % 3 == 0)
					assert_int_equal(store_state_merge(
					    shadow, 2, &left), 0);
			}
			store_close(shadow);
			tmpdir_remove(sdir);
		}
		assert_int_equal(store_open(dir, 0, &st), 0);
		check_all(st, &m);
		for (int i = 0; i < 30; i++) {
			commit_round(st, &m, &at);
			if (i % 5 == 0)
				locate_some(st, &m);
			if (i % 7 == 3)
				clear_some(st, &m);
		}
		check_all(st, &m);
		store_close(st);
		assert_int_equal(store_open(dir, 0, &st), 0);
		check_all(st, &m);
		store_close(st);
		tmpdir_remove(dir);
	}
	unsetenv("SIGIL_STATE_PENDING");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_apply_matches_judge),
		cmocka_unit_test(test_scanner_rules),
		cmocka_unit_test(test_merge_interleaved),
		cmocka_unit_test(test_crash_replay),
	};

	return cmocka_run_group_tests_name("state", tests, NULL, NULL);
}
