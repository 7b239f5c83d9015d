/*
 * http_job.h - a streamed reply whose body a worker thread writes to a
 * FILE * (print files: PDF label sheets, image archives), handed to the
 * client as it is made, with back-pressure. See src/face/http_job.c.
 */
#ifndef SIGIL_HTTP_JOB_H
#define SIGIL_HTTP_JOB_H

#include <stdio.h>

struct event_base;
struct http_call;

/* Jobs running or queued at once; one more is answered 503 busy. */
#define HTTP_JOB_MAX	4

/*
 * Runs on a worker thread: writes the body to f and returns 0 or a
 * SIGIL_E* code. Once the client has gone, writes to f fail (EPIPE):
 * the function should then stop. It must not touch the loop's state.
 */
typedef int http_job_fn(FILE *f, void *arg);

/* Long reads (a count over every customer) running or queued at once. */
#define HTTP_JOB_READS	2

/* Starts the workers on base (thread-aware). 0, SIGIL_ENOMEM, SIGIL_EIO. */
int http_job_init(struct event_base *base);
/* Cancels the jobs still running, waits for them, stops the workers. */
void http_job_fini(void);

/*
 * A long read off the loop: work(arg) on a worker thread (its own store
 * read transaction; nothing of the loop's), then done(arg) on the loop,
 * which answers. 0, or SIGIL_EFULL when HTTP_JOB_READS already run or
 * wait (nothing queued: answer 503 busy), SIGIL_ENOMEM.
 */
int http_job_read(void (*work)(void *), void (*done)(void *), void *arg);

/*
 * Answers c with status 200 and content_type (headers added before the
 * call go out too) and a chunked body that fn(f, arg) writes on a
 * worker. At most 256 KiB of the body wait in memory: while the client
 * does not take them, fn blocks. free_arg(arg) runs on the loop once the
 * job and the reply are both over. 0; or -1 when the workers are all
 * busy or not started: c is then answered 503 busy (Retry-After) and
 * free_arg(arg) has been called.
 */
int http_job_stream(struct http_call *c, const char *content_type,
    http_job_fn *fn, void (*free_arg)(void *), void *arg);

/* Jobs not yet over (for tests and metrics). */
unsigned http_job_live(void);

#endif
