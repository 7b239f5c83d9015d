/*
 * test_writer.c - the writer's op jobs (src/domain/writer.c) and the loop
 * guard (src/store/loop_guard.c): an op runs on the writer thread and is
 * answered on the loop's; its error comes back as job->err; ops keep
 * their place in the queue among scans (a scan queued before an op is
 * committed when the op runs, one queued after is not); with deferred
 * syncs ops are answered too; a drain runs and answers the ops already
 * queued; a second loop gets its own results; and with SIGIL_LOOP_GUARD
 * set, a store write on the marked loop thread is refused while the
 * same write as an op succeeds. An op job with an audit entry records it
 * in the op's own commit, with the op's name, its hook's target and
 * detail (a detail naming a secret is dropped), and records nothing for
 * an op that fails or commits nothing, or for a job without an entry.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>
#include <event2/thread.h>

#include "tmpdir.h"

#include "sigil/loop_guard.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "sigil/writer.h"

#define NJOBS	8

struct fixture {
	char		dir[64];
	struct store	*st;
	struct event_base *base;
	struct writer	*w;
	/* what the jobs saw, in the order their done() ran */
	struct writer_job jobs[NJOBS];
	struct writer_job *order[NJOBS];
	int		ndone;
	pthread_t	loop;
	/* the gate: an op that waits until the test opens it */
	pthread_mutex_t	mu;
	pthread_cond_t	cv;
	int		open;
	int		ran;		/* note ops run, under mu */
};

/* An op's argument: in, and what the writer thread saw. */
struct op_arg {
	struct fixture	*f;
	const char	*name;		/* brand to add, or NULL */
	int		fail;		/* return this instead */
	pthread_t	thread;
	uint64_t	scans_seen;	/* scans committed when it ran */
};

static void
brand_fill(struct brand *b, const char *name)
{
	memset(b, 0, sizeof *b);
	snprintf(b->name, sizeof b->name, "%s", name);
	snprintf(b->base_url, sizeof b->base_url, "HTTPS://EXAMPLE.COM");
}

static int
note_run(struct store *st, void *arg)
{
	struct op_arg *a = arg;
	struct store_stats ss;
	struct brand b = { 0 };

	int rc = a->fail;

	a->thread = pthread_self();
	assert_int_equal(store_stats(st, &ss), 0);
	a->scans_seen = ss.scans;
	if (rc == 0 && a->name != NULL) {
		brand_fill(&b, a->name);
		rc = store_brand_add(st, &b);
	}
	pthread_mutex_lock(&a->f->mu);
	a->f->ran++;
	pthread_mutex_unlock(&a->f->mu);
	return rc;
}

static int
gate_run(struct store *st, void *arg)
{
	struct op_arg *a = arg;
	struct fixture *f = a->f;

	(void)st;
	a->thread = pthread_self();
	pthread_mutex_lock(&f->mu);
	while (!f->open)
		pthread_cond_wait(&f->cv, &f->mu);
	pthread_mutex_unlock(&f->mu);
	return 0;
}

static const struct writer_op op_note = { "note", note_run };
static const struct writer_op op_gate = { "gate", gate_run };

static void
done(struct writer_job *job)
{
	struct fixture *f = job->arg;

	f->loop = pthread_self();
	f->order[f->ndone++] = job;
}

static void
gate_open(struct fixture *f)
{
	pthread_mutex_lock(&f->mu);
	f->open = 1;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

static int
open_flags(struct fixture *f, int flags, int deferred)
{
	assert_int_equal(evthread_use_pthreads(), 0);
	assert_non_null(tmpdir_new(f->dir, sizeof f->dir, "writer"));
	assert_int_equal(store_open(f->dir, STORE_CREATE | flags, &f->st), 0);
	assert_non_null(f->base = event_base_new());
	assert_int_equal(writer_start(f->st, f->base, deferred, &f->w), 0);
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv, NULL);
	return 0;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	assert_non_null(f);
	*state = f;
	return open_flags(f, STORE_NOSYNC, 0);
}

static int
setup_deferred(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	assert_non_null(f);
	*state = f;
	return open_flags(f, STORE_NOMETASYNC, 1);
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	gate_open(f);
	writer_free(f->w);
	event_base_free(f->base);
	store_close(f->st);
	tmpdir_remove(f->dir);
	pthread_cond_destroy(&f->cv);
	pthread_mutex_destroy(&f->mu);
	free(f);
	return 0;
}

/*
 * Runs base's loop until n jobs were answered (60 s at most). The loop
 * sleeps between answers (20 ms slices) instead of spinning: under
 * valgrind, which runs one thread at a time, a spinning loop starves the
 * writer thread it waits for.
 */
static void
run_until(struct fixture *f, struct event_base *base, int n)
{
	int64_t deadline = sigil_now_us() + 60000000;
	struct timeval slice = { 0, 20000 };

	while (f->ndone < n && sigil_now_us() < deadline) {
		event_base_loopexit(base, &slice);
		event_base_dispatch(base);
	}
	assert_int_equal(f->ndone, n);
}

static struct writer_job *
op_job(struct fixture *f, int i, const struct writer_op *op,
    struct op_arg *a)
{
	struct writer_job *job = &f->jobs[i];

	memset(job, 0, sizeof *job);
	a->f = f;
	job->kind = WRITER_OP;
	job->op = op;
	job->op_arg = a;
	job->done = done;
	job->arg = f;
	return job;
}

static struct writer_job *
scan_job(struct fixture *f, int i)
{
	struct writer_job *job = &f->jobs[i];

	memset(job, 0, sizeof *job);
	job->kind = WRITER_SCAN;
	job->rec.at = sigil_now_us();
	job->rec.verdict = VERDICT_COUNTERFEIT;
	job->rec.device = 1000 + (uint64_t)i;
	job->done = done;
	job->arg = f;
	return job;
}

/* ---- audited ops ---- */

struct product_arg {
	struct product	p;
	int		hook_calls;
	const char	*raw_detail;	/* the hook writes this as is */
};

static int
product_run(struct store *st, void *arg)
{
	struct product_arg *x = arg;

	if (x->p.sku[0] == '\0')
		return 0;		/* commits nothing */
	return store_product_add(st, &x->p);
}

static int
product_audit(struct store *st, const void *arg, struct audit_entry *e,
    int after)
{
	struct product_arg *x = (struct product_arg *)arg;

	(void)st;
	x->hook_calls++;
	if (!after) {
		snprintf(e->target_type, sizeof e->target_type, "product");
		snprintf(e->target_id, sizeof e->target_id, "%.90s", x->p.sku);
		if (x->raw_detail != NULL)
			snprintf(e->detail, sizeof e->detail, "%s",
			    x->raw_detail);
		return 0;
	}
	if (x->raw_detail != NULL)
		return 0;
	snprintf(e->detail, sizeof e->detail, "{\"created\":%s}",
	    x->p.created != 0 ? "true" : "false");
	return 1;
}

static const struct writer_op op_product = { "product_make", product_run,
    product_audit };

static int
trail_collect(void *arg, const struct audit_entry *e)
{
	struct audit_entry *out = arg;
	size_t i = 0;

	while (i < 8 && out[i].seq != 0)
		i++;
	if (i == 8)
		return 1;
	out[i] = *e;
	return 0;
}

static void
test_audited_ops(void **state)
{
	struct fixture *f = *state;
	struct op_arg brand = { .name = "acme" };
	struct product_arg x[5];
	struct audit_entry entry, got[8], entries[5];
	struct brand b;
	int i;

	assert_int_equal(writer_submit(f->w, op_job(f, 0, &op_note, &brand)),
	    0);
	run_until(f, f->base, 1);
	assert_int_equal(store_brand_find(f->st, "acme", &b), 0);
	memset(&entry, 0, sizeof entry);
	entry.brand_id = b.id;
	entry.actor_kind = AUDIT_ACTOR_USER;
	entry.role = 1;
	snprintf(entry.actor, sizeof entry.actor, "7");
	snprintf(entry.ip, sizeof entry.ip, "10.0.0.1");
	memset(x, 0, sizeof x);
	for (i = 0; i < 5; i++) {
		x[i].p.brand_id = b.id;
		snprintf(x[i].p.name, sizeof x[i].p.name, "P");
		snprintf(x[i].p.sku, sizeof x[i].p.sku, "S%d", i);
		x[i].p.max_scanners = 5;
	}
	snprintf(x[1].p.sku, sizeof x[1].p.sku, "S0");	/* exists: fails */
	x[2].p.sku[0] = '\0';				/* commits nothing */
	x[4].raw_detail = "{\"new_password\":\"hunter22\"}";
	for (i = 0; i < 5; i++) {
		struct writer_job *job = &f->jobs[1 + i];

		memset(job, 0, sizeof *job);
		job->kind = WRITER_OP;
		job->op = &op_product;
		job->op_arg = &x[i];
		job->done = done;
		job->arg = f;

		entries[i] = entry;
		/* Job 3 is no brand caller's: no entry. */
		job->audit = i == 3 ? NULL : &entries[i];
		assert_int_equal(writer_submit(f->w, job), 0);
	}
	run_until(f, f->base, 6);
	assert_int_equal(f->jobs[1].err, 0);
	assert_int_equal(f->jobs[2].err, SIGIL_EEXIST);
	assert_int_equal(f->jobs[3].err, 0);
	assert_int_equal(f->jobs[4].err, 0);
	assert_int_equal(f->jobs[5].err, 0);
	assert_int_equal(x[3].hook_calls, 0);
	assert_int_equal(x[0].hook_calls, 2);

	memset(got, 0, sizeof got);
	assert_int_equal(store_audit_each(f->st, b.id, 0, trail_collect, got),
	    0);
	/* Newest first: job 5 (S4, its detail dropped), then job 1 (S0). */
	assert_true(got[0].seq != 0 && got[1].seq != 0 && got[2].seq == 0);
	assert_string_equal(got[0].target_id, "S4");
	assert_string_equal(got[0].detail, "");
	assert_string_equal(got[1].action, "product_make");
	assert_string_equal(got[1].target_type, "product");
	assert_string_equal(got[1].target_id, "S0");
	assert_string_equal(got[1].detail, "{\"created\":true}");
	assert_string_equal(got[1].actor, "7");
	assert_int_equal(got[1].actor_kind, AUDIT_ACTOR_USER);
	assert_string_equal(got[1].ip, "10.0.0.1");
	assert_int_equal(got[1].outcome, 0);
	assert_true(got[1].seq == entries[0].seq);
}

static void
test_op_runs_on_writer(void **state)
{
	struct fixture *f = *state;
	struct op_arg a = { .name = "acme" }, b = { .name = "acme" };
	struct writer_op_stat os[4];
	struct brand got;

	assert_int_equal(writer_submit(f->w, op_job(f, 0, &op_note, &a)), 0);
	run_until(f, f->base, 1);
	assert_int_equal(f->jobs[0].err, 0);
	assert_true(pthread_equal(f->loop, pthread_self()));
	assert_false(pthread_equal(a.thread, pthread_self()));
	assert_ptr_equal(f->jobs[0].base, f->base);
	assert_int_equal(store_brand_find(f->st, "acme", &got), 0);

	/* The store's error is the job's. */
	assert_int_equal(writer_submit(f->w, op_job(f, 1, &op_note, &b)), 0);
	run_until(f, f->base, 2);
	assert_int_equal(f->jobs[1].err, SIGIL_EEXIST);

	assert_int_equal(writer_op_stats(f->w, os, 4), 1);
	assert_string_equal(os[0].name, "note");
	assert_int_equal(os[0].jobs, 2);
	assert_int_equal(os[0].errors, 1);

	/* An op job without an op is refused, nothing queued. */
	f->jobs[2].kind = WRITER_OP;
	f->jobs[2].op = NULL;
	assert_int_equal(writer_submit(f->w, &f->jobs[2]), SIGIL_EINVAL);
	assert_int_equal(writer_pending(f->w), 0);
}

/*
 * gate S1 O1 S2 S3 O2 queued while the gate holds the writer: the rounds
 * are [S1] [O1] [S2 S3] [O2], answered in queue order.
 */
static void
order_check(struct fixture *f)
{
	struct op_arg gate = { 0 }, o1 = { .fail = SIGIL_ECONFLICT }, o2 = { 0 };
	struct writer_job *want[6];

	want[0] = op_job(f, 0, &op_gate, &gate);
	assert_int_equal(writer_submit(f->w, want[0]), 0);
	want[1] = scan_job(f, 1);
	want[2] = op_job(f, 2, &op_note, &o1);
	want[3] = scan_job(f, 3);
	want[4] = scan_job(f, 4);
	want[5] = op_job(f, 5, &op_note, &o2);
	for (int i = 1; i < 6; i++)
		assert_int_equal(writer_submit(f->w, want[i]), 0);
	assert_int_equal(writer_pending(f->w), 6);
	gate_open(f);
	run_until(f, f->base, 6);
	for (int i = 0; i < 6; i++)
		assert_ptr_equal(f->order[i], want[i]);
	assert_int_equal(o1.scans_seen, 1);
	assert_int_equal(o2.scans_seen, 3);
	assert_int_equal(want[2]->err, SIGIL_ECONFLICT);
	assert_int_equal(want[1]->err, 0);
	assert_int_equal(want[3]->err, 0);
	assert_int_equal(want[5]->err, 0);
	assert_true(want[1]->rec.id < want[3]->rec.id);
	assert_int_equal(writer_pending(f->w), 0);
}

static void
test_order_with_scans(void **state)
{
	order_check(*state);
}

/* With deferred syncs an op round ends in a sync: all are answered. */
static void
test_order_deferred(void **state)
{
	struct fixture *f = *state;
	struct op_arg a = { .name = "late" };
	struct brand got;

	order_check(f);
	f->ndone = 0;
	assert_int_equal(writer_submit(f->w, scan_job(f, 0)), 0);
	assert_int_equal(writer_submit(f->w, op_job(f, 1, &op_note, &a)), 0);
	run_until(f, f->base, 2);
	assert_int_equal(f->jobs[0].err, 0);
	assert_int_equal(f->jobs[1].err, 0);
	assert_int_equal(store_brand_find(f->st, "late", &got), 0);
}

/* A drain runs and answers the ops already queued, and takes no more. */
static void
test_drain(void **state)
{
	struct fixture *f = *state;
	struct op_arg gate = { 0 }, a[3] = { { .name = "one" },
	    { .name = "two" }, { .name = "three" } }, late = { 0 };
	struct brand got;

	assert_int_equal(writer_submit(f->w, op_job(f, 0, &op_gate, &gate)),
	    0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(writer_submit(f->w, op_job(f, i + 1,
		    &op_note, &a[i])), 0);
	writer_drain(f->w);
	assert_int_equal(writer_submit(f->w, op_job(f, 4, &op_note, &late)),
	    SIGIL_EBUSY);
	gate_open(f);
	run_until(f, f->base, 4);
	assert_int_equal(writer_pending(f->w), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(f->jobs[i].err, 0);
	assert_int_equal(store_brand_find(f->st, "three", &got), 0);
}

/* Each job goes back to the loop it names. */
static void
test_two_loops(void **state)
{
	struct fixture *f = *state;
	struct event_base *other, *stranger;
	struct op_arg a = { 0 }, b = { 0 };
	struct writer_job *job;

	assert_non_null(other = event_base_new());
	assert_non_null(stranger = event_base_new());
	assert_int_equal(writer_loop_add(f->w, other), 0);
	job = op_job(f, 0, &op_note, &a);
	job->base = other;
	assert_int_equal(writer_submit(f->w, job), 0);
	/* Once it has run, only the other loop answers it. */
	pthread_mutex_lock(&f->mu);
	while (f->ran == 0) {
		pthread_mutex_unlock(&f->mu);
		event_base_loop(f->base, EVLOOP_NONBLOCK);
		pthread_mutex_lock(&f->mu);
	}
	pthread_mutex_unlock(&f->mu);
	for (int i = 0; i < 100; i++)
		event_base_loop(f->base, EVLOOP_NONBLOCK);
	assert_int_equal(f->ndone, 0);
	run_until(f, other, 1);
	assert_ptr_equal(f->order[0], job);

	job = op_job(f, 1, &op_note, &b);
	job->base = stranger;
	assert_int_equal(writer_submit(f->w, job), SIGIL_EINVAL);
	writer_free(f->w);
	f->w = NULL;
	event_base_free(other);
	event_base_free(stranger);
	assert_int_equal(writer_start(f->st, f->base, 0, &f->w), 0);
}

/* Off unless SIGIL_LOOP_GUARD says so when the loop thread is marked. */
static void
test_guard(void **state)
{
	struct fixture *f = *state;
	struct brand b = { 0 }, got;
	struct op_arg a = { .name = "via-writer" };

	brand_fill(&b, "direct-off");
	assert_false(loop_guard_active());
	assert_int_equal(store_brand_add(f->st, &b), 0);

	writer_free(f->w);
	setenv("SIGIL_LOOP_GUARD", "1", 1);
	assert_int_equal(writer_start(f->st, f->base, 0, &f->w), 0);
	unsetenv("SIGIL_LOOP_GUARD");
	assert_true(loop_guard_active());
	brand_fill(&b, "direct-on");
	assert_int_equal(store_brand_add(f->st, &b), SIGIL_EDENIED);
	assert_int_equal(store_brand_find(f->st, "direct-on", &got),
	    SIGIL_ENOTFOUND);
	/* Reads go on; the same write through the writer is fine. */
	assert_int_equal(store_brand_find(f->st, "direct-off", &got), 0);
	assert_int_equal(writer_submit(f->w, op_job(f, 0, &op_note, &a)), 0);
	run_until(f, f->base, 1);
	assert_int_equal(f->jobs[0].err, 0);
	assert_int_equal(store_brand_find(f->st, "via-writer", &got), 0);

	/* writer_free unmarks the thread. */
	writer_free(f->w);
	assert_false(loop_guard_active());
	assert_int_equal(store_brand_add(f->st, &b), 0);
	assert_int_equal(writer_start(f->st, f->base, 0, &f->w), 0);
	assert_false(loop_guard_active());
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_op_runs_on_writer, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_order_with_scans, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_order_deferred,
		    setup_deferred, teardown),
		cmocka_unit_test_setup_teardown(test_drain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_loops, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_guard, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audited_ops, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
