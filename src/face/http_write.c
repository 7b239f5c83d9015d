/*
 * http_write.c - one store write of an HTTP request, through the writer.
 *
 * The event loop only reads (issue 17; loop_guard.h proves it): a
 * handler that writes hands a writer op and a copy of its argument to
 * the writer thread, and answers from the reply callback, which runs on
 * the loop after the commit, as the scan handler answers from scan_done.
 * The copy lives with the job in one allocation, so a converted call
 * site allocates nothing and frees nothing.
 *
 * The call stays alive meanwhile: an http_call lives until its reply
 * (http.h). If the client goes away first, libevent detaches the request
 * from the dead connection and frees it when the reply is sent, so
 * reply runs and answers as usual; no hook in http.c is needed.
 *
 * May call the writer, http's replies and the app context (for the
 * writer). Never runs an op itself, never touches the store.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <openssl/crypto.h>

#include "sigil/app.h"
#include "sigil/http.h"
#include "sigil/http_write.h"
#include "sigil/log.h"
#include "sigil/util.h"
#include "sigil/writer.h"

struct http_write {
	struct writer_job	job;
	struct http_call	*call;
	http_write_reply	reply;
	size_t			size;
	max_align_t		arg[];	/* the copy of the handler's arg */
};

static void
write_done(struct writer_job *job)
{
	struct http_write *x = job->arg;

	x->reply(x->call, x->arg, job->err);
	OPENSSL_cleanse(x->arg, x->size);
	free(x);
}

void
http_write(struct http_call *c, const struct writer_op *op, void *arg,
    size_t size, http_write_reply reply)
{
	struct app *app = c->app;
	struct evhttp_connection *evcon;
	struct http_write *x;
	int err;

	if ((x = calloc(1, sizeof *x + size)) == NULL) {
		reply(c, arg, SIGIL_ENOMEM);
		return;
	}
	memcpy(x->arg, arg, size);
	x->call = c;
	x->reply = reply;
	x->size = size;
	x->job.kind = WRITER_OP;
	x->job.op = op;
	x->job.op_arg = x->arg;
	x->job.done = write_done;
	x->job.arg = x;
	/* The loop this request came in on answers it. */
	if ((evcon = evhttp_request_get_connection(c->req)) != NULL)
		x->job.base = evhttp_connection_get_base(evcon);
	if ((err = writer_submit(app->writer, &x->job)) != 0) {
		/* EINVAL: no op, or a loop the writer does not serve. */
		if (err == SIGIL_EINVAL) {
			log_error("http_write", "op=%s err=\"not submitted\"",
			    op != NULL ? op->name : "-");
			err = SIGIL_EBUSY;
		}
		x->job.err = err;
		write_done(&x->job);
	}
}
