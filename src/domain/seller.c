/*
 * seller.c - channel and seller attribution: the seller of a code (its
 * own binding, else its nearest container's), the seller's bind (开箱)
 * and the brand's assignment of sellers to stores as writer ops, and the
 * results per store and seller.
 *
 * Who may bind is decided here, on the writer thread, right before the
 * write: a live customer with a staff role (the brand's settings,
 * member.h) and a store (the sellers table). The writer runs one op at
 * a time, so nothing changes between the check and the write; the
 * storage layer (store_sellers.c) checks only what it owns (the store
 * row, the code's batch, the first binding). The rebate itself is the
 * claim's (campaigns: a CREDIT_REBATE for seller_of_code's seller in
 * the claim's own transaction), so a code's claim, which happens once,
 * pays it once.
 *
 * The results walk every binding of the brand and the codes packed
 * under each (a code counts under its nearest binding, as
 * seller_of_code attributes it), reading each code's state and consumer
 * claim, then each seller's ledger for the rebates of those claims. It
 * reads only the store: the API runs it on a worker.
 *
 * May call the store (reads; writes from the ops' run), member.c (the
 * settings, the role op), loyalty_util (role names) and jansson. Never
 * knows about HTTP, never writes on the loop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sigil/loyalty_util.h"
#include "sigil/member.h"
#include "sigil/seller.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "sigil/writer.h"

int
seller_of_code(struct store *st, uint32_t brand_id, uint64_t serial,
    uint64_t *seller, uint32_t *store_id)
{
	struct binding b;
	struct seller s;
	int rc;

	if ((rc = store_binding_of_code(st, brand_id, serial, &b)) != 0)
		return rc;
	if (b.seller == 0)
		return SIGIL_ENOTFOUND;
	/* Taken off every store since: nobody is paid for the code. */
	if ((rc = store_seller_get(st, brand_id, b.seller, &s)) != 0)
		return rc;
	*seller = b.seller;
	*store_id = b.shop_id;
	return 0;
}

int
seller_staff_role(struct store *st, uint32_t brand_id, uint64_t customer_id)
{
	json_t *settings = member_settings_read(st, brand_id, NULL);
	char k[24];
	int role;

	snprintf(k, sizeof k, "%llu", (unsigned long long)customer_id);
	role = loyalty_role_parse(json_string_value(json_object_get(
	    json_object_get(settings, "staff"), k)));
	json_decref(settings);
	return role == CLAIM_RETAILER || role == CLAIM_SALES ? role : 0;
}

/* A live customer of the brand with a staff role: 0 or the refusal. */
static int
staff_live(struct store *st, uint32_t brand_id, uint64_t customer_id)
{
	struct customer cu;
	int rc;

	if ((rc = store_customer_get(st, brand_id, customer_id, &cu)) != 0)
		return rc;
	if (cu.erased != 0 || cu.merged_into != 0)
		return SIGIL_ESTATE;
	return seller_staff_role(st, brand_id, customer_id) != 0 ? 0 :
	    SIGIL_EDENIED;
}

static int
bind_run(struct store *st, void *arg)
{
	struct seller_bind *x = arg;
	int rc;

	x->already = 0;
	if ((rc = staff_live(st, x->brand_id, x->customer_id)) != 0)
		return rc;
	memset(&x->out, 0, sizeof x->out);
	x->out.brand_id = x->brand_id;
	x->out.serial = x->serial;
	x->out.seller = x->customer_id;
	rc = store_binding_add(st, &x->out);
	if (rc == SIGIL_EEXIST)
		x->already = x->out.seller == x->customer_id;
	return rc;
}

const struct writer_op seller_bind_op = { "seller_bind", bind_run, NULL };

static int
assign_run(struct store *st, void *arg)
{
	struct seller_assign *x = arg;
	struct member_role mr = { x->brand_id, x->customer_id, x->role };
	int rc;

	if (x->role != 0 && (rc = member_role_op.run(st, &mr)) != 0)
		return rc;
	if ((rc = staff_live(st, x->brand_id, x->customer_id)) != 0)
		return rc;
	memset(&x->out, 0, sizeof x->out);
	x->out.brand_id = x->brand_id;
	x->out.customer_id = x->customer_id;
	x->out.shop_id = x->shop_id;
	return store_seller_set(st, &x->out);
}

const struct writer_op seller_assign_op = { "seller_assign", assign_run,
    NULL };

/* ---- results ---- */

struct row_claims {
	struct channel_row	row;
	uint64_t		*ids;	/* consumer claims of others */
	size_t			n, cap;
};

struct results {
	struct store		*st;
	uint32_t		 brand_id;
	struct binding		*b;	/* every binding, serial order */
	size_t			 nb, capb;
	struct row_claims	*rows;
	size_t			 nrows, caprows;
	uint64_t		*stack;
	size_t			 nstack, capstack;
	uint64_t		 walked;
	int			 oom, truncated;
};

static int
grow(void **v, size_t *cap, size_t n, size_t size)
{
	void *p;
	size_t c;

	if (n < *cap)
		return 0;
	c = *cap ? *cap * 2 : 64;
	if ((p = realloc(*v, c * size)) == NULL)
		return SIGIL_ENOMEM;
	*v = p;
	*cap = c;
	return 0;
}

static int
binding_keep(void *arg, const struct binding *b)
{
	struct results *r = arg;

	if (grow((void **)&r->b, &r->capb, r->nb, sizeof *r->b) != 0) {
		r->oom = 1;
		return 1;
	}
	r->b[r->nb++] = *b;
	return 0;
}

static int
serial_cmp(const void *key, const void *elem)
{
	uint64_t k = *(const uint64_t *)key;
	uint64_t s = ((const struct binding *)elem)->serial;

	return k < s ? -1 : k > s;
}

static int
push_child(void *arg, uint64_t child)
{
	struct results *r = arg;

	/* A container bound itself counts under its own binding. */
	if (bsearch(&child, r->b, r->nb, sizeof *r->b, serial_cmp) != NULL)
		return 0;
	if (grow((void **)&r->stack, &r->capstack, r->nstack,
	    sizeof *r->stack) != 0) {
		r->oom = 1;
		return 1;
	}
	r->stack[r->nstack++] = child;
	return 0;
}

static struct row_claims *
row_of(struct results *r, uint32_t shop, uint64_t seller)
{
	struct row_claims *x;

	for (size_t i = 0; i < r->nrows; i++)
		if (r->rows[i].row.shop_id == shop &&
		    r->rows[i].row.seller == seller)
			return &r->rows[i];
	if (grow((void **)&r->rows, &r->caprows, r->nrows, sizeof *r->rows))
		return NULL;
	x = &r->rows[r->nrows++];
	memset(x, 0, sizeof *x);
	x->row.shop_id = shop;
	x->row.seller = seller;
	return x;
}

/* One code under binding b: its scans and its consumer claim. */
static int
count_code(struct results *r, const struct binding *b, struct row_claims *x,
    uint64_t serial)
{
	struct code_state cs;
	struct claim cl;

	x->row.codes++;
	if (store_code_state(r->st, r->brand_id, serial, &cs) == 0)
		x->row.scans += cs.scan_count;
	if (store_claim_get(r->st, r->brand_id, serial, CLAIM_CONSUMER,
	    &cl) != 0)
		return 0;
	x->row.claims++;
	if (b->seller == 0 || cl.customer_id == b->seller)
		return 0;
	if (grow((void **)&x->ids, &x->cap, x->n, sizeof *x->ids) != 0)
		return SIGIL_ENOMEM;
	x->ids[x->n++] = cl.id;
	return 0;
}

static int
walk_binding(struct results *r, const struct binding *b)
{
	struct row_claims *x = row_of(r, b->shop_id, b->seller);
	int rc;

	if (x == NULL)
		return SIGIL_ENOMEM;
	x->row.bound++;
	r->nstack = 0;
	if (grow((void **)&r->stack, &r->capstack, 0, sizeof *r->stack) != 0)
		return SIGIL_ENOMEM;
	r->stack[r->nstack++] = b->serial;
	while (r->nstack > 0) {
		uint64_t c = r->stack[--r->nstack];

		if (++r->walked > SELLER_RESULTS_CODES) {
			r->truncated = 1;
			return 0;
		}
		if ((rc = count_code(r, b, x, c)) != 0)
			return rc;
		if ((rc = store_children_each(r->st, r->brand_id, c,
		    push_child, r)) != 0 && !r->oom)
			return rc < 0 ? rc : 0;
		if (r->oom)
			return SIGIL_ENOMEM;
	}
	return 0;
}

static int
u64_order(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int
rebate_entry(void *arg, const struct ledger_entry *e)
{
	struct row_claims *x = arg;

	if (e->type == LEDGER_EARN && e->points > 0 &&
	    bsearch(&e->ref, x->ids, x->n, sizeof *x->ids, u64_order) != NULL) {
		x->row.rebates++;
		x->row.rebate_points += e->points;
	}
	return 0;
}

static int
row_order(const void *a, const void *b)
{
	const struct channel_row *x = &((const struct row_claims *)a)->row;
	const struct channel_row *y = &((const struct row_claims *)b)->row;

	if (x->shop_id != y->shop_id)
		return x->shop_id < y->shop_id ? -1 : 1;
	return x->seller < y->seller ? -1 : x->seller > y->seller;
}

int
seller_results(struct store *st, uint32_t brand_id, uint64_t seller,
    struct channel_results *out)
{
	struct results r;
	int rc;

	memset(&r, 0, sizeof r);
	memset(out, 0, sizeof *out);
	r.st = st;
	r.brand_id = brand_id;
	if ((rc = store_binding_each(st, brand_id, binding_keep, &r)) != 0 &&
	    !r.oom)
		goto done;
	if (r.oom) {
		rc = SIGIL_ENOMEM;
		goto done;
	}
	rc = 0;
	for (size_t i = 0; i < r.nb && !r.truncated; i++) {
		if (seller != 0 && r.b[i].seller != seller)
			continue;
		if ((rc = walk_binding(&r, &r.b[i])) != 0)
			goto done;
	}
	for (size_t i = 0; i < r.nrows; i++) {
		struct row_claims *x = &r.rows[i];

		if (x->row.seller == 0 || x->n == 0)
			continue;
		qsort(x->ids, x->n, sizeof *x->ids, u64_order);
		if ((rc = store_ledger_each(st, brand_id, x->row.seller,
		    rebate_entry, x)) != 0)
			goto done;
	}
	qsort(r.rows, r.nrows, sizeof *r.rows, row_order);
	if (r.nrows > 0 && (out->v = calloc(r.nrows, sizeof *out->v)) ==
	    NULL) {
		rc = SIGIL_ENOMEM;
		goto done;
	}
	for (size_t i = 0; i < r.nrows; i++)
		out->v[i] = r.rows[i].row;
	out->n = r.nrows;
	out->truncated = r.truncated;
done:
	for (size_t i = 0; i < r.nrows; i++)
		free(r.rows[i].ids);
	free(r.rows);
	free(r.b);
	free(r.stack);
	return rc;
}

void
seller_results_free(struct channel_results *r)
{
	if (r == NULL)
		return;
	free(r->v);
	r->v = NULL;
	r->n = 0;
}

/* ---- JSON ---- */

json_t *
seller_shop_json(const struct shop *s)
{
	char c[SIGIL_TIME_LEN + 1], u[SIGIL_TIME_LEN + 1];

	return json_pack("{s:i,s:s,s:s,s:i,s:s,s:s}", "id", (int)s->id, "name",
	    s->name, "city", s->city, "distributor", (int)s->distributor,
	    "created", sigil_time_format(s->created, c), "updated",
	    sigil_time_format(s->updated, u));
}

json_t *
seller_binding_json(const struct binding *b)
{
	char at[SIGIL_TIME_LEN + 1];

	return json_pack("{s:I,s:o,s:i,s:s,s:s}", "serial",
	    (json_int_t)b->serial, "seller", b->seller != 0 ?
	    json_integer((json_int_t)b->seller) : json_null(), "store",
	    (int)b->shop_id, "at", sigil_time_format(b->at, at), "how",
	    b->how == BINDING_MOVED ? "moved" : "scan");
}

static int
export_binding(void *arg, const struct binding *b)
{
	json_array_append_new(arg, seller_binding_json(b));
	return 0;
}

json_t *
seller_export(struct store *st, uint32_t brand_id, uint64_t customer_id)
{
	struct seller s;
	json_t *bound = json_array();
	char since[SIGIL_TIME_LEN + 1];
	int assigned = store_seller_get(st, brand_id, customer_id, &s) == 0;

	store_seller_codes(st, brand_id, customer_id, export_binding, bound);
	if (!assigned && json_array_size(bound) == 0) {
		json_decref(bound);
		return json_null();
	}
	return json_pack("{s:o,s:o,s:o}", "store", assigned ?
	    json_integer(s.shop_id) : json_null(), "since", assigned ?
	    json_string(sigil_time_format(s.since, since)) : json_null(),
	    "bound", bound);
}
