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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <openssl/crypto.h>

#include "sigil/app.h"
#include "sigil/audit.h"
#include "sigil/http.h"
#include "sigil/http_write.h"
#include "sigil/log.h"
#include "sigil/util.h"
#include "sigil/writer.h"

struct http_write {
	struct writer_job	job;
	struct audit_entry	audit;	/* a brand API caller's change */
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

int
http_audit_entry(struct http_call *c, struct audit_entry *e)
{
	if (c->who.kind == 0)
		return 0;
	memset(e, 0, sizeof *e);
	e->brand_id = c->who.brand_id;
	e->actor_kind = c->who.kind;
	e->role = c->who.role;
	snprintf(e->actor, sizeof e->actor, "%u", c->who.id);
	snprintf(e->ip, sizeof e->ip, "%s", c->client_text);
	return 1;
}

void
http_actor_text(struct http_call *c, char *out, size_t size)
{
	if (c->who.kind == AUDIT_ACTOR_USER)
		snprintf(out, size, "user=%u", c->who.id);
	else if (c->who.kind == AUDIT_ACTOR_TOKEN)
		snprintf(out, size, "token=%u", c->who.id);
	else
		snprintf(out, size, "actor=-");
}

/*
 * An audit-only op: the entry is the whole write, its own transaction
 * (the job carries no armed entry: nothing else commits).
 */
static int
note_run(struct store *st, void *arg)
{
	return store_audit_add(st, arg);
}

static const struct writer_op op_audit_note = { "audit_note", note_run };

static void
note_done(struct writer_job *job)
{
	if (job->err != 0)
		log_error("audit", "action=audit_note err=\"%s\"",
		    sigil_strerror(job->err));
	free(job->arg);
}

void
http_audit_note(struct http_call *c, const char *action, const char *ttype,
    const char *tid, const char *detail)
{
	struct note {
		struct writer_job	job;
		struct audit_entry	e;
	} *n;
	struct app *app = c->app;
	struct evhttp_connection *evcon;

	if (c->who.kind == 0 || (n = calloc(1, sizeof *n)) == NULL)
		return;
	http_audit_entry(c, &n->e);
	n->job.kind = WRITER_OP;
	n->job.op = &op_audit_note;
	n->job.op_arg = &n->e;
	n->job.done = note_done;
	n->job.arg = n;
	snprintf(n->e.target_type, sizeof n->e.target_type, "%s", ttype);
	snprintf(n->e.target_id, sizeof n->e.target_id, "%s", tid);
	if (detail != NULL && audit_detail_safe(detail))
		snprintf(n->e.detail, sizeof n->e.detail, "%s", detail);
	snprintf(n->e.action, sizeof n->e.action, "%s", action);
	if ((evcon = evhttp_request_get_connection(c->req)) != NULL)
		n->job.base = evhttp_connection_get_base(evcon);
	if (writer_submit(app->writer, &n->job) != 0) {
		log_error("audit", "brand=%u action=%s err=\"not recorded\"",
		    n->e.brand_id, action);
		free(n);
	}
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
	if (http_audit_entry(c, &x->audit))
		x->job.audit = &x->audit;
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
