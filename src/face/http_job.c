/*
 * http_job.c - streamed replies made on worker threads.
 *
 * A print file of 100,000 labels is minutes of CPU and hundreds of MB:
 * it must neither run on the event loop (every scan would wait) nor sit
 * in memory (a slow client would make the server hold all of it). So a
 * job's body is written by fn on a thread of its own workpool
 * (src/ground/workpool.c, HTTP_JOB_MAX threads at nice 19, the loop
 * wins a contended core) into a FILE * from fopencookie(3) whose writes
 * land in a 256 KiB ring. The loop takes at most 64 KiB at a time out
 * of it, as http.c's stream asks (only once the previous piece has been
 * written to the socket): a slow client leaves the ring full, and the
 * worker's next write sleeps on a condition until the loop has sent
 * some. Memory per download is the ring and what fn keeps, whatever the
 * file's size.
 *
 * Hand-over. The worker wakes the loop with event_active on the job's
 * own event (the base is thread-aware) only when the loop said it is
 * waiting (next found the ring empty): one wake per stall, not per
 * write. The job ends when both sides are over: the worker's done() (on
 * the loop, from the workpool) and the stream's end or the client's
 * departure (gone: the ring is cancelled, the worker's writes fail with
 * EPIPE and fn stops). Whichever comes last frees it, on the loop.
 *
 * A job that fails after the first byte cannot change its status: the
 * failure is logged and the body ends where it stopped (a zip or PDF
 * without its end records, which readers refuse).
 *
 * Owns the jobs and their pool. May call workpool, http (stream), log,
 * libevent and pthreads. Never runs fn on the loop, never holds a job's
 * lock while calling http.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "sigil/http.h"
#include "sigil/http_job.h"
#include "sigil/log.h"
#include "sigil/util.h"
#include "sigil/workpool.h"

#define RING	(256 * 1024)
#define PIECE	(64 * 1024)

struct job {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	unsigned char	*ring;
	size_t		 head, len;
	int		 cancelled, finished, rc;
	int		 loop_waiting;	/* next found the ring empty */
	int		 stream_open, worker_open;	/* loop only */
	struct event	*wake;
	struct http_call *c;
	http_job_fn	*fn;
	void		(*free_arg)(void *);
	void		*arg;
	struct job	*next;		/* g.jobs, loop only */
};

static struct {
	struct event_base *base;
	struct workpool	*pool;
	struct workpool	*reads;		/* http_job_read's */
	struct job	*jobs;
	unsigned	 live;
} g;

static void
job_free(struct job *j)
{
	struct job **pp;

	for (pp = &g.jobs; *pp != NULL; pp = &(*pp)->next)
		if (*pp == j) {
			*pp = j->next;
			break;
		}
	g.live--;
	if (j->wake != NULL)
		event_free(j->wake);
	if (j->free_arg != NULL)
		j->free_arg(j->arg);
	pthread_mutex_destroy(&j->mu);
	pthread_cond_destroy(&j->cv);
	free(j->ring);
	free(j);
}

/* ---- the worker's side ---- */

static ssize_t
ring_write(void *cookie, const char *buf, size_t size)
{
	struct job *j = cookie;
	size_t done = 0;

	pthread_mutex_lock(&j->mu);
	while (done < size) {
		while (j->len == RING && !j->cancelled)
			pthread_cond_wait(&j->cv, &j->mu);
		if (j->cancelled) {
			pthread_mutex_unlock(&j->mu);
			errno = EPIPE;
			return -1;
		}
		size_t tail = (j->head + j->len) % RING;
		size_t room = RING - j->len, n = size - done;

		if (n > room)
			n = room;
		if (n > RING - tail)
			n = RING - tail;	/* to the ring's end; loop again */
		memcpy(j->ring + tail, buf + done, n);
		j->len += n;
		done += n;
		if (j->loop_waiting) {
			j->loop_waiting = 0;
			event_active(j->wake, EV_READ, 0);
		}
	}
	pthread_mutex_unlock(&j->mu);
	return (ssize_t)size;
}

static void
work(void *arg)
{
	struct job *j = arg;
	cookie_io_functions_t io = { .write = ring_write };
	FILE *f = fopencookie(j, "w", io);
	int rc;

	if (f == NULL)
		rc = SIGIL_ENOMEM;
	else {
		setvbuf(f, NULL, _IOFBF, 32768);
		rc = j->fn(f, j->arg);
		if (fclose(f) != 0 && rc == 0)
			rc = SIGIL_EIO;
	}
	pthread_mutex_lock(&j->mu);
	j->rc = rc;
	j->finished = 1;
	pthread_mutex_unlock(&j->mu);
}

/* ---- the loop's side ---- */

static void
done(void *arg)
{
	struct job *j = arg;
	int wake;

	j->worker_open = 0;
	pthread_mutex_lock(&j->mu);
	if (j->rc != 0 && !j->cancelled)
		log_error("print_file", "event=job_failed err=\"%s\" "
		    "(the reply ends short)", sigil_strerror(j->rc));
	wake = j->loop_waiting;
	j->loop_waiting = 0;
	pthread_mutex_unlock(&j->mu);
	if (!j->stream_open) {
		job_free(j);
		return;
	}
	if (wake)
		http_stream_wake(j->c);	/* may free j: touch it no more */
}

static void
woken(evutil_socket_t fd, short what, void *arg)
{
	struct job *j = arg;

	(void)fd;
	(void)what;
	if (j->stream_open)
		http_stream_wake(j->c);
}

static int
next(struct http_call *c, void *arg, struct evbuffer *out)
{
	struct job *j = arg;
	size_t n, first;

	(void)c;
	pthread_mutex_lock(&j->mu);
	n = j->len < PIECE ? j->len : PIECE;
	if (n > 0) {
		first = RING - j->head < n ? RING - j->head : n;
		evbuffer_add(out, j->ring + j->head, first);
		if (n > first)
			evbuffer_add(out, j->ring, n - first);
		j->head = (j->head + n) % RING;
		j->len -= n;
		pthread_cond_signal(&j->cv);
		pthread_mutex_unlock(&j->mu);
		return 1;
	}
	if (!j->finished) {
		j->loop_waiting = 1;
		pthread_mutex_unlock(&j->mu);
		return HTTP_STREAM_WAIT;
	}
	pthread_mutex_unlock(&j->mu);
	j->stream_open = 0;
	if (!j->worker_open)
		job_free(j);
	return 0;
}

static void
gone(struct http_call *c, void *arg)
{
	struct job *j = arg;

	(void)c;
	j->stream_open = 0;
	pthread_mutex_lock(&j->mu);
	j->cancelled = 1;
	pthread_cond_broadcast(&j->cv);
	pthread_mutex_unlock(&j->mu);
	if (!j->worker_open)
		job_free(j);
}

static const struct http_stream_ops job_ops = { next, gone };

static void
busy(struct http_call *c)
{
	http_add_header(c, "Retry-After", "5");
	http_reply_error(c, 503, "busy", "too many print files are being "
	    "made; try again in a moment");
}

int
http_job_stream(struct http_call *c, const char *content_type,
    http_job_fn *fn, void (*free_arg)(void *), void *arg)
{
	struct job *j;

	if (g.pool == NULL || g.live >= HTTP_JOB_MAX ||
	    (j = calloc(1, sizeof *j)) == NULL) {
		if (free_arg != NULL)
			free_arg(arg);
		busy(c);
		return -1;
	}
	j->c = c;
	j->fn = fn;
	j->free_arg = free_arg;
	j->arg = arg;
	pthread_mutex_init(&j->mu, NULL);
	pthread_cond_init(&j->cv, NULL);
	g.live++;
	j->next = g.jobs;
	g.jobs = j;
	if ((j->ring = malloc(RING)) == NULL || (j->wake = event_new(
	    g.base, -1, 0, woken, j)) == NULL ||
	    workpool_submit(g.pool, work, done, j) != 0) {
		job_free(j);
		busy(c);
		return -1;
	}
	j->worker_open = 1;
	j->stream_open = 1;
	http_stream_start(c, 200, content_type, &job_ops, j);
	return 0;
}

unsigned
http_job_live(void)
{
	return g.live;
}

int
http_job_init(struct event_base *base)
{
	int err;

	g.base = base;
	if ((err = workpool_new(base, HTTP_JOB_MAX, HTTP_JOB_MAX,
	    &g.pool)) != 0)
		return err;
	if ((err = workpool_new(base, HTTP_JOB_READS, HTTP_JOB_READS,
	    &g.reads)) != 0) {
		workpool_free(g.pool);
		g.pool = NULL;
	}
	return err;
}

int
http_job_read(void (*rwork)(void *), void (*rdone)(void *), void *arg)
{
	if (g.reads == NULL)
		return SIGIL_EFULL;
	return workpool_submit(g.reads, rwork, rdone, arg);
}

void
http_job_fini(void)
{
	struct job *j;

	for (j = g.jobs; j != NULL; j = j->next) {
		pthread_mutex_lock(&j->mu);
		j->cancelled = 1;
		pthread_cond_broadcast(&j->cv);
		pthread_mutex_unlock(&j->mu);
	}
	workpool_free(g.pool);	/* done() of every job, here */
	g.pool = NULL;
	workpool_free(g.reads);	/* the long reads finish, answered here */
	g.reads = NULL;
}
