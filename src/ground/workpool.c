/*
 * workpool.c - worker threads for CPU-heavy jobs.
 *
 * scrypt costs about 100 ms of CPU per dashboard login; run on the event
 * loop it stalls every scan for that long (review F4). Jobs like it go
 * here instead: a fixed set of threads takes jobs from a bounded FIFO,
 * runs work() and appends the job to a finished list, then activates one
 * event on the loop's base (thread-safe since sigild calls
 * evthread_use_pthreads), whose callback runs every finished job's
 * done() on the loop thread. So HTTP code and the store's loop-side
 * handles never run on a worker, and a request is answered only from
 * done(), once.
 *
 * Bounds. The queue holds at most queue_max waiting jobs; beyond that
 * workpool_submit refuses (SIGIL_EFULL) and the caller answers 503 with
 * Retry-After, so a flood costs a bounded amount of memory and of CPU
 * (threads cores at most). Workers run at nice 19: when they compete
 * with the loop for a core the loop wins, so a login flood does not move
 * scan latency.
 *
 * Owns its threads, the queue and the finished list. May call libevent
 * (event_active) and pthreads; nothing of sigil. Must never run done()
 * on a worker, nor take a job past queue_max.
 */
#include <pthread.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <event2/event.h>

#include "sigil/util.h"
#include "sigil/workpool.h"

#define WORKERS_MAX	16

struct job {
	void		(*work)(void *);
	void		(*done)(void *);
	void		*arg;
	struct job	*next;
};

struct workpool {
	pthread_mutex_t	mu;
	pthread_cond_t	cv;
	struct job	*head, *tail;	/* waiting, FIFO */
	struct job	*finished;	/* done() not yet called */
	unsigned	waiting, pending, queue_max;
	int		stopping;
	struct event	*deliver;
	pthread_t	threads[WORKERS_MAX];
	unsigned	nthreads;
};

static void *
worker(void *p)
{
	struct workpool *wp = p;
	struct job *j;

	setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 19);
	pthread_mutex_lock(&wp->mu);
	for (;;) {
		while (wp->head == NULL && !wp->stopping)
			pthread_cond_wait(&wp->cv, &wp->mu);
		if ((j = wp->head) == NULL)
			break;	/* stopping and nothing left */
		if ((wp->head = j->next) == NULL)
			wp->tail = NULL;
		wp->waiting--;
		pthread_mutex_unlock(&wp->mu);
		j->work(j->arg);
		pthread_mutex_lock(&wp->mu);
		j->next = wp->finished;
		wp->finished = j;
		if (!wp->stopping)
			event_active(wp->deliver, EV_READ, 0);
	}
	pthread_mutex_unlock(&wp->mu);
	return NULL;
}

/* Runs on the loop thread: every finished job's done(). */
static void
deliver_all(struct workpool *wp)
{
	struct job *j, *rev = NULL;

	pthread_mutex_lock(&wp->mu);
	j = wp->finished;
	wp->finished = NULL;
	pthread_mutex_unlock(&wp->mu);
	while (j != NULL) {	/* oldest first */
		struct job *next = j->next;

		j->next = rev;
		rev = j;
		j = next;
	}
	while ((j = rev) != NULL) {
		rev = j->next;
		pthread_mutex_lock(&wp->mu);
		wp->pending--;
		pthread_mutex_unlock(&wp->mu);
		j->done(j->arg);
		free(j);
	}
}

static void
deliver_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	deliver_all(arg);
}

int
workpool_new(struct event_base *base, unsigned threads, unsigned queue_max,
    struct workpool **out)
{
	struct workpool *wp;

	if (base == NULL || threads == 0 || threads > WORKERS_MAX ||
	    queue_max == 0)
		return SIGIL_EINVAL;
	if ((wp = calloc(1, sizeof *wp)) == NULL)
		return SIGIL_ENOMEM;
	pthread_mutex_init(&wp->mu, NULL);
	pthread_cond_init(&wp->cv, NULL);
	wp->queue_max = queue_max;
	if ((wp->deliver = event_new(base, -1, 0, deliver_cb, wp)) == NULL) {
		workpool_free(wp);
		return SIGIL_ENOMEM;
	}
	for (; wp->nthreads < threads; wp->nthreads++)
		if (pthread_create(&wp->threads[wp->nthreads], NULL, worker,
		    wp) != 0) {
			workpool_free(wp);
			return SIGIL_EIO;
		}
	*out = wp;
	return 0;
}

int
workpool_submit(struct workpool *wp, void (*work)(void *),
    void (*done)(void *), void *arg)
{
	struct job *j;

	pthread_mutex_lock(&wp->mu);
	if (wp->waiting >= wp->queue_max || wp->stopping) {
		pthread_mutex_unlock(&wp->mu);
		return SIGIL_EFULL;
	}
	pthread_mutex_unlock(&wp->mu);
	if ((j = calloc(1, sizeof *j)) == NULL)
		return SIGIL_ENOMEM;
	j->work = work;
	j->done = done;
	j->arg = arg;
	pthread_mutex_lock(&wp->mu);
	if (wp->tail != NULL)
		wp->tail->next = j;
	else
		wp->head = j;
	wp->tail = j;
	wp->waiting++;
	wp->pending++;
	pthread_cond_signal(&wp->cv);
	pthread_mutex_unlock(&wp->mu);
	return 0;
}

unsigned
workpool_pending(struct workpool *wp)
{
	unsigned n;

	pthread_mutex_lock(&wp->mu);
	n = wp->pending;
	pthread_mutex_unlock(&wp->mu);
	return n;
}

void
workpool_free(struct workpool *wp)
{
	if (wp == NULL)
		return;
	pthread_mutex_lock(&wp->mu);
	wp->stopping = 1;
	pthread_cond_broadcast(&wp->cv);
	pthread_mutex_unlock(&wp->mu);
	for (unsigned i = 0; i < wp->nthreads; i++)
		pthread_join(wp->threads[i], NULL);
	deliver_all(wp);
	if (wp->deliver != NULL)
		event_free(wp->deliver);
	pthread_cond_destroy(&wp->cv);
	pthread_mutex_destroy(&wp->mu);
	free(wp);
}
