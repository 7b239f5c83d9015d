/*
 * workpool.h - a few worker threads for CPU-heavy jobs (password hashing)
 * that must not run on the event loop. See src/ground/workpool.c.
 */
#ifndef SIGIL_WORKPOOL_H
#define SIGIL_WORKPOOL_H

struct event_base;
struct workpool;

/*
 * Starts threads workers (1..16, at a lower CPU priority than the loop)
 * and a queue of at most queue_max jobs waiting. base must have been
 * made thread-aware (evthread_use_pthreads before event_base_new).
 * 0, SIGIL_EINVAL, SIGIL_ENOMEM, SIGIL_EIO (no thread); *out on success.
 */
int workpool_new(struct event_base *base, unsigned threads,
    unsigned queue_max, struct workpool **out);

/*
 * Queues a job: work(arg) runs on a worker thread, and then done(arg)
 * on base's loop thread, exactly once each. work must not touch the
 * loop's state (no libevent, no store handles of the loop). 0, or
 * SIGIL_EFULL when queue_max jobs already wait (nothing is queued, done
 * is not called: answer 503), SIGIL_ENOMEM.
 */
int workpool_submit(struct workpool *wp, void (*work)(void *),
    void (*done)(void *), void *arg);

/* Jobs queued or running, not yet done (for metrics and tests). */
unsigned workpool_pending(struct workpool *wp);

/*
 * Stops the workers after the jobs already queued, then calls done() of
 * every job finished but not yet delivered, on the calling thread (the
 * loop's, with the loop no longer running), and frees the pool.
 */
void workpool_free(struct workpool *wp);

#endif
