/*
 * test_workpool.c - worker threads (src/ground/workpool.c): work runs on another
 * thread, done on the loop's, once each, in order per worker; a full
 * queue refuses without running anything; workpool_free finishes what
 * was queued and delivers it.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>
#include <event2/thread.h>

#include "sigil/util.h"
#include "sigil/workpool.h"

struct job {
	pthread_t	loop, worker;
	int		worked, done;
	struct event_base *base;
	int		*ndone, stop_at;
};

static void
work(void *arg)
{
	struct job *j = arg;

	j->worker = pthread_self();
	j->worked++;
	usleep(20000);
}

static void
done(void *arg)
{
	struct job *j = arg;

	j->done++;
	j->loop = pthread_self();
	if (++*j->ndone == j->stop_at && j->base != NULL)
		event_base_loopbreak(j->base);
}

static void
tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

static void
test_roundtrip(void **state)
{
	struct event_base *base;
	struct workpool *wp;
	struct job jobs[4];
	struct event *keep;
	struct timeval tv = { 1, 0 };
	int ndone = 0;

	(void)state;
	assert_int_equal(evthread_use_pthreads(), 0);
	assert_non_null(base = event_base_new());
	assert_int_equal(workpool_new(base, 2, 8, &wp), 0);
	memset(jobs, 0, sizeof jobs);
	for (int i = 0; i < 4; i++) {
		jobs[i].ndone = &ndone;
		jobs[i].stop_at = 4;
		jobs[i].base = base;
		assert_int_equal(workpool_submit(wp, work, done, &jobs[i]), 0);
	}
	assert_true(workpool_pending(wp) > 0);
	/* A timer keeps the loop running (sigild has its listener). */
	keep = event_new(base, -1, EV_PERSIST, tick, NULL);
	event_add(keep, &tv);
	event_base_dispatch(base);
	event_free(keep);
	assert_int_equal(ndone, 4);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(jobs[i].worked, 1);
		assert_int_equal(jobs[i].done, 1);
		assert_true(pthread_equal(jobs[i].loop, pthread_self()));
		assert_false(pthread_equal(jobs[i].worker, pthread_self()));
	}
	assert_int_equal(workpool_pending(wp), 0);
	workpool_free(wp);
	event_base_free(base);
}

static void
test_full_and_free(void **state)
{
	struct event_base *base;
	struct workpool *wp;
	struct job jobs[8];
	int ndone = 0, queued = 0, refused = 0;

	(void)state;
	assert_non_null(base = event_base_new());
	assert_int_equal(workpool_new(base, 1, 3, &wp), 0);
	memset(jobs, 0, sizeof jobs);
	for (int i = 0; i < 8; i++) {
		jobs[i].ndone = &ndone;
		if (workpool_submit(wp, work, done, &jobs[i]) == 0)
			queued++;
		else
			refused++;
	}
	/* One running at most, three waiting: the rest refused at once. */
	assert_true(queued >= 3 && queued <= 4);
	assert_int_equal(queued + refused, 8);
	/* The loop never runs: free finishes and delivers every job. */
	workpool_free(wp);
	assert_int_equal(ndone, queued);
	for (int i = 0; i < 8; i++)
		assert_int_equal(jobs[i].done, jobs[i].worked);
	event_base_free(base);
	assert_int_equal(workpool_new(NULL, 1, 1, &wp), SIGIL_EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_full_and_free),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
