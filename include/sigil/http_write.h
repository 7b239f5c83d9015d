/*
 * http_write.h - a request's store write, run by the writer thread and
 * answered on the request's own loop. See src/face/http_write.c.
 *
 * A handler that writes declares the write as a writer op (writer.h)
 * and ends with http_write() instead of calling the store itself:
 *
 *	static int
 *	product_add_run(struct store *st, void *arg)
 *	{
 *		return store_product_add(st, arg);
 *	}
 *	static const struct writer_op op_product_add = {
 *		"product_add", product_add_run
 *	};
 *
 *	static void
 *	product_added(struct http_call *c, void *arg, int err)
 *	{
 *		if (err != 0)
 *			... reply with the error ...
 *		else
 *			http_reply_jsont(c, 201, product_json(arg));
 *	}
 *
 *	... in the handler, p filled in and checked:
 *	http_write(c, &op_product_add, &p, sizeof p, product_added);
 */
#ifndef SIGIL_HTTP_WRITE_H
#define SIGIL_HTTP_WRITE_H

#include <stddef.h>

struct audit_entry;
struct http_call;
struct writer_op;

typedef void (*http_write_reply)(struct http_call *c, void *arg, int err);

/*
 * Copies size bytes of arg, has the writer thread run op on the copy,
 * then calls reply(c, copy, err) on the loop that received c, exactly
 * once; reply must answer c. err is op's result, or, when nothing ran:
 * SIGIL_EBUSY (the writer is full or shutting down) or SIGIL_ENOMEM,
 * both for a 503; reply is then called before http_write returns. The
 * copy is zeroed and freed after reply returns, so reply may read op's
 * outputs from it and must free whatever it points to that it owns.
 *
 * c belongs to reply from the call on: the handler must not touch it
 * after http_write. A client that went away meanwhile is handled as for
 * a scan: the write still happens, and the answer is dropped by libevent.
 */
void http_write(struct http_call *c, const struct writer_op *op, void *arg,
    size_t size, http_write_reply reply);

/*
 * The audit entry of a change c makes (sigil/store/audit.h): its brand,
 * actor, role and client address, action and the rest left empty. 1 when
 * c is a brand API or dashboard caller, 0 (e untouched) for anyone else.
 * http_write() records every such caller's write with it, generically.
 */
int http_audit_entry(struct http_call *c, struct audit_entry *e);

/*
 * Records an action that changes nothing but must be in the trail (an
 * export of personal data) for c's caller: target type and id, detail
 * "" or a JSON object (kept only if audit.h's deny-list leaves it
 * whole). Fire and forget, through the writer; nothing for a call that
 * is not a brand API caller.
 */
void http_audit_note(struct http_call *c, const char *action,
    const char *ttype, const char *tid, const char *detail);

/* The caller for a log line: "user=3", "token=5", or "actor=-". */
void http_actor_text(struct http_call *c, char *out, size_t size);

#endif
