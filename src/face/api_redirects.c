/*
 * api_redirects.c - the brand API's redirect rules: POST, GET
 * /api/v1/redirects and GET, PATCH, DELETE /api/v1/redirects/{id},
 * called by route_api.c after authentication and the role check (read
 * to look, admin to change).
 *
 * Every field is checked on the loop by redirect.c (redirect_parse: the
 * href, the language tags, the times, the product, batch and
 * distributors against the store), so a refused request is answered 422
 * with the field's name and changes nothing; the write then goes
 * through the writer (http_write) and is answered after the commit. The
 * store checks the references again inside its transaction. A PATCH
 * carries the version it was made from (the rule's updated time): one
 * that lost a race with another change is answered 409, not merged
 * blindly. Another brand's rule is answered 404, like a missing one.
 *
 * A handler. May call redirect.c, store (reads), http, http_write and
 * http_api.c, log. Never calls another handler file; never writes to
 * the store on the loop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sigil/api.h"
#include "sigil/audit.h"
#include "sigil/app.h"
#include "sigil/http.h"
#include "sigil/http_write.h"
#include "sigil/log.h"
#include "sigil/redirect.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "sigil/writer.h"

#define HTTP_QUERY_PROBE	2048

/* The rule's id (a create's once made), its product and batch. */
static int
rule_audit(struct store *st, const void *arg, struct audit_entry *e,
    int after)
{
	const struct redirect_rule *r = arg;

	(void)st;
	if (!after) {
		audit_detail_set(e, json_pack("{s:s,s:I,s:i}", "sku", r->sku,
		    "batch", (json_int_t)r->batch, "priority",
		    (int)r->priority));
		if (r->id != 0)
			audit_target(e, "redirect", "%u", r->id);
		return 0;
	}
	if (e->target_id[0] != '\0')
		return 0;
	audit_target(e, "redirect", "%u", r->id);
	return 1;
}

WRITER_OP_STORE_AUDIT(op_redirect_add, "redirect_add", store_redirect_add,
    rule_audit);
WRITER_OP_STORE_AUDIT(op_redirect_update, "redirect_update",
    store_redirect_update, rule_audit);

/*
 * 422 with msg, which may quote the request's own field names and values
 * (http_reply_error takes only our own text): jansson escapes it.
 */
static void
invalid(struct api_call *a, const char *msg)
{
	api_reply(a, 422, json_pack("{s:{s:s,s:s}}", "error", "code", "invalid",
	    "message", msg));
}

/* What a rule write's failure says (err from the writer op). */
static void
rule_write_fail(struct http_call *c, int err)
{
	switch (err) {
	case SIGIL_ENOTFOUND:
		http_reply_error(c, 422, "invalid", "the product, batch or a "
		    "distributor the rule names does not exist (any more), "
		    "or the rule was deleted");
		return;
	case SIGIL_EFULL:
		http_reply_error(c, 422, "limit", "at most 100 rules per "
		    "product and per batch");
		return;
	case SIGIL_ECONFLICT:
		http_reply_error(c, 409, "conflict", "the rule changed "
		    "meanwhile; read it again and repeat the change");
		return;
	}
	api_write_fail(c, err, "redirect rule");
}

static void
rule_written(struct http_call *c, void *arg, int err, int status)
{
	struct redirect_rule *r = arg;

	if (err != 0) {
		rule_write_fail(c, err);
		return;
	}
	log_info("redirect_write", "brand=%u id=%u sku=\"%s\" batch=%llu",
	    r->brand_id, r->id, r->sku, (unsigned long long)r->batch);
	http_reply_jsont(c, status, redirect_json(r));
}

static void
rule_added(struct http_call *c, void *arg, int err)
{
	rule_written(c, arg, err, 201);
}

static void
rule_updated(struct http_call *c, void *arg, int err)
{
	rule_written(c, arg, err, 200);
}

void
api_redirects_create(struct api_call *a)
{
	struct redirect_rule *r;
	char msg[300];

	if (api_body(a) != 0)
		return;
	if ((r = calloc(1, sizeof *r)) == NULL) {
		api_fail(a, 503, "unavailable", "out of memory");
		return;
	}
	if (redirect_parse(a->app, a->brand.id, a->body, NULL, r, msg,
	    sizeof msg) != 0) {
		free(r);
		invalid(a, msg);
		return;
	}
	http_write(a->c, &op_redirect_add, r, sizeof *r, rule_added);
	free(r);
}

/* The {id} segment: 0 with *id, or -1 after answering 404. */
static int
rule_id(struct api_call *a, uint32_t *id)
{
	uint64_t n;

	if (api_parse_id(a->seg[1], UINT32_MAX, &n) != 0) {
		api_fail(a, 404, "not_found", "no such redirect rule");
		return -1;
	}
	*id = (uint32_t)n;
	return 0;
}

void
api_redirects_get(struct api_call *a)
{
	struct redirect_rule *r;
	uint32_t id;
	int rc;

	if (rule_id(a, &id) != 0)
		return;
	if ((r = malloc(sizeof *r)) == NULL) {
		api_fail(a, 503, "unavailable", "out of memory");
		return;
	}
	if ((rc = store_redirect_get(a->app->store, a->brand.id, id, r)) != 0)
		api_store_fail(a, rc, "redirect rule");
	else
		api_reply(a, 200, redirect_json(r));
	free(r);
}

void
api_redirects_patch(struct api_call *a)
{
	struct redirect_rule *cur, *r;
	char msg[300];
	uint32_t id;
	int rc;

	if (rule_id(a, &id) != 0 || api_body(a) != 0)
		return;
	if ((cur = malloc(2 * sizeof *cur)) == NULL) {
		api_fail(a, 503, "unavailable", "out of memory");
		return;
	}
	r = cur + 1;
	if ((rc = store_redirect_get(a->app->store, a->brand.id, id, cur)) != 0)
		api_store_fail(a, rc, "redirect rule");
	else if (redirect_parse(a->app, a->brand.id, a->body, cur, r, msg,
	    sizeof msg) != 0)
		invalid(a, msg);
	else
		http_write(a->c, &op_redirect_update, r, sizeof *r,
		    rule_updated);
	free(cur);
}

struct del_job {
	uint32_t	brand_id, id;
};

static int
del_run(struct store *st, void *arg)
{
	struct del_job *x = arg;

	return store_redirect_del(st, x->brand_id, x->id);
}

static int
del_audit(struct store *st, const void *arg, struct audit_entry *e,
    int after)
{
	const struct del_job *x = arg;

	(void)st;
	if (!after)
		audit_target(e, "redirect", "%u", x->id);
	return 0;
}

static const struct writer_op op_redirect_del = { "redirect_del", del_run,
    del_audit };

static void
rule_deleted(struct http_call *c, void *arg, int err)
{
	struct del_job *x = arg;

	if (err == SIGIL_ENOTFOUND) {
		http_reply_error(c, 404, "not_found", "no such redirect rule");
		return;
	}
	if (err != 0) {
		api_write_fail(c, err, "redirect rule");
		return;
	}
	log_info("redirect_del", "brand=%u id=%u", x->brand_id, x->id);
	http_reply_jsont(c, 200, json_pack("{s:I,s:b}", "id",
	    (json_int_t)x->id, "deleted", 1));
}

void
api_redirects_delete(struct api_call *a)
{
	struct del_job x = { a->brand.id, 0 };

	if (rule_id(a, &x.id) != 0)
		return;
	http_write(a->c, &op_redirect_del, &x, sizeof x, rule_deleted);
}

static int
list_one(void *arg, const struct redirect_rule *r)
{
	return api_list_add(arg, redirect_json(r));
}

/* 1 when the query names key at all (even with a value refused). */
static int
query_present(struct api_call *a, const char *key)
{
	char any[HTTP_QUERY_PROBE];

	return http_query(a->c, key, any, sizeof any) != NULL;
}

void
api_redirects_list(struct api_call *a)
{
	char sku[STORE_NAME_BYTES + 1], num[24];
	const char *s = api_query(a, "sku", sku, sizeof sku);
	struct batch b;
	uint64_t batch = 0;
	json_t *arr;
	int rc;

	if (s == NULL && query_present(a, "sku")) {
		api_fail(a, 400, "bad_query", "query 'sku' must be a SKU");
		return;
	}
	if (api_query(a, "batch", num, sizeof num) != NULL) {
		if (api_parse_id(num, UINT64_MAX, &batch) != 0) {
			api_fail(a, 400, "bad_query", "query 'batch' must be a "
			    "batch id");
			return;
		}
		if (store_batch_get(a->app->store, batch, &b) != 0 ||
		    b.brand_id != a->brand.id) {
			api_fail(a, 404, "not_found", "no such batch");
			return;
		}
		if (s != NULL && strcmp(s, b.sku) != 0) {
			api_fail(a, 400, "bad_query", "the batch is not of "
			    "that product");
			return;
		}
		s = strcpy(sku, b.sku);
	} else if (query_present(a, "batch")) {
		api_fail(a, 400, "bad_query", "query 'batch' must be a "
		    "batch id");
		return;
	}
	if ((arr = json_array()) == NULL) {
		api_fail(a, 503, "unavailable", "out of memory");
		return;
	}
	rc = store_redirect_each(a->app->store, a->brand.id, s, batch, 0,
	    list_one, arr);
	api_reply_list(a, "redirects", arr, rc);
}
