/*
 * member.c - a customer's standing in a brand's programme.
 *
 * The ledger is the truth: balances, 12-month points (the tier measure)
 * and the RFM segment are computed from a customer's entries each time
 * they are shown (ledger.c does the arithmetic, the same code the store
 * runs when it expires and redeems points), never stored.
 *
 * The brand settings are JSON owned here (the store keeps the text):
 * "tiers", the names and 12-month thresholds a brand sets (three by
 * default), and "staff", the customers the brand registered as retailer
 * or sales, who may claim a code's reward for that role.
 *
 * Settings change by writer ops (member_tiers_op, member_role_op, and
 * member_role_forget inside an erasure's op): each reads the settings,
 * changes its part and writes them back on the writer thread, so two
 * changes at once cannot lose one another.
 *
 * Owns the settings format, the segment rules and the JSON views of a
 * member, a ledger entry and a catalog item. May call store, ledger,
 * customer (the masked phone) and util. Never knows about HTTP, never
 * writes to the store on the loop: every write is a writer op's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sigil/app.h"
#include "sigil/audit.h"
#include "sigil/customer.h"
#include "sigil/ledger.h"
#include "sigil/loyalty_util.h"
#include "sigil/identity.h"
#include "sigil/member.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "sigil/writer.h"

#define TIERS_MAX		8
#define STAFF_MAX		10000

/* ---- the ledger ---- */

static int
ledger_collect(void *arg, const struct ledger_entry *e)
{
	struct ledger_buf *b = arg;

	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		struct ledger_entry *v = realloc(b->v, cap * sizeof *v);

		if (v == NULL) {
			b->oom = 1;
			return 1;
		}
		b->v = v;
		b->cap = cap;
	}
	b->v[b->n++] = *e;
	return 0;
}

int
member_ledger_load(struct app *app, uint32_t brand_id, uint64_t customer,
    struct ledger_buf *b)
{
	int err;

	memset(b, 0, sizeof *b);
	err = store_ledger_each(app->store, brand_id, customer, ledger_collect,
	    b);
	if (b->oom)
		err = SIGIL_ENOMEM;
	if (err != 0 && err != SIGIL_ENOTFOUND) {
		free(b->v);
		memset(b, 0, sizeof *b);
		return err;
	}
	return 0;
}

int64_t
member_balance_of(const struct ledger_entry *e, size_t n, int64_t now)
{
	int64_t bal = 0;

	return ledger_balance(e, n, now, &bal) == 0 ? bal : 0;
}

int64_t
member_balance(struct app *app, uint32_t brand_id, uint64_t customer)
{
	struct ledger_buf lb;
	int64_t bal;

	if (member_ledger_load(app, brand_id, customer, &lb) != 0)
		return 0;
	bal = member_balance_of(lb.v, lb.n, sigil_now_us());
	free(lb.v);
	return bal;
}

static const char *
ledger_type_name(int t)
{
	switch (t) {
	case LEDGER_EARN:	return "earn";
	case LEDGER_REDEEM:	return "redeem";
	case LEDGER_EXPIRE:	return "expire";
	case LEDGER_ADJUST:	return "adjust";
	case LEDGER_MERGE:	return "merge";
	}
	return "other";
}

json_t *
member_ledger_json(const struct ledger_entry *e)
{
	char ts[SIGIL_TIME_LEN + 1], te[SIGIL_TIME_LEN + 1];
	json_t *o = json_pack("{s:I,s:s,s:I,s:s,s:s?,s:I}", "id",
	    (json_int_t)e->id, "type", ledger_type_name(e->type), "points",
	    (json_int_t)e->points, "at", sigil_time_format(e->at, ts),
	    "expires_at", e->type == LEDGER_EARN && e->expires_at ?
	    sigil_time_format(e->expires_at, te) : NULL, "ref",
	    (json_int_t)e->ref);

	/* an entry a merge brought: the customer it was written for */
	if (o != NULL && e->origin != 0)
		json_object_set_new(o, "from_customer",
		    json_integer((json_int_t)e->origin));
	return o;
}

/* RFM inputs: 12-month points, claims in 12 months, first and last earn. */
static int64_t
points_12m(const struct ledger_entry *e, size_t n, int64_t now, size_t *freq,
    int64_t *first, int64_t *last)
{
	int64_t sum = 0;

	*freq = 0;
	*first = *last = 0;
	for (size_t i = 0; i < n; i++) {
		if (e[i].type != LEDGER_EARN)
			continue;
		if (e[i].at > *last)
			*last = e[i].at;
		if (*first == 0 || e[i].at < *first)
			*first = e[i].at;
		if (e[i].at > now - LEDGER_YEAR_US && e[i].at <= now)
			(*freq)++;
	}
	if (ledger_earned_12m(e, n, now, &sum) != 0)
		sum = 0;
	return sum;
}

const char *
loyalty_segment(const struct ledger_entry *e, size_t n, int64_t created,
    int64_t now)
{
	size_t f;
	int64_t last, first, days;
	int64_t m = points_12m(e, n, now, &f, &first, &last);

	if (last == 0)
		return now - created <= 30 * US_PER_DAY ? "new" : "hibernating";
	days = (now - last) / US_PER_DAY;
	if (days <= 30 && (f >= 10 || m >= 2000))
		return "champions";
	if (days <= 90 && f >= 4)
		return "loyal";
	if (now - first <= 30 * US_PER_DAY)
		return "new";
	if (days <= 90)
		return "promising";
	if (days <= 180 && f >= 2)
		return "at_risk";
	return "hibernating";
}

/* ---- brand settings: tiers and staff roles ---- */

json_t *
member_settings_read(struct store *st, uint32_t brand_id, int *err)
{
	char *text = NULL;
	json_t *o = NULL;
	int rc = store_brand_settings_get(st, brand_id, &text);

	if (err != NULL)
		*err = rc == SIGIL_ENOTFOUND ? 0 : rc;
	if (rc == 0)
		o = json_loads(text, 0, NULL);
	free(text);
	if (!json_is_object(o)) {
		json_decref(o);
		o = json_object();
	}
	return o;
}

static json_t *
settings_load(struct store *st, uint32_t brand_id)
{
	return member_settings_read(st, brand_id, NULL);
}

json_t *
member_settings(struct app *app, uint32_t brand_id)
{
	return settings_load(app->store, brand_id);
}

static int
settings_save(struct store *st, uint32_t brand_id, json_t *o)
{
	char *text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	int err;

	if (text == NULL)
		return SIGIL_ENOMEM;
	err = store_brand_settings_put(st, brand_id, text);
	free(text);
	return err;
}

int
member_settings_key_set(struct store *st, uint32_t brand_id,
    const char *key, json_t *value)
{
	json_t *o;
	int rc;

	o = member_settings_read(st, brand_id, &rc);
	if (rc == 0) {
		if (value != NULL)
			json_object_set(o, key, value);
		else
			json_object_del(o, key);
		rc = settings_save(st, brand_id, o);
	}
	json_decref(value);
	json_decref(o);
	return rc;
}

json_t *
member_tiers_default(void)
{
	return json_pack("[{s:s,s:i},{s:s,s:i},{s:s,s:i}]",
	    "name", "铜 Bronze", "min", 0, "name", "银 Silver", "min", 500,
	    "name", "金 Gold", "min", 2000);
}

static const char *
tier_of(json_t *settings, int64_t pts, char *out, size_t size)
{
	json_t *tiers = json_object_get(settings, "tiers"), *t, *def = NULL;
	size_t i;

	if (!json_is_array(tiers))
		tiers = def = member_tiers_default();
	snprintf(out, size, "-");
	json_array_foreach(tiers, i, t)
		if (json_integer_value(json_object_get(t, "min")) <= pts)
			snprintf(out, size, "%s", json_string_value(
			    json_object_get(t, "name")));
	json_decref(def);
	return out;
}

/* The first tier above pts (tiers ascend), as {name, min,
 * points_needed}, or JSON null at the top. */
static json_t *
next_tier_of(json_t *settings, int64_t pts)
{
	json_t *tiers = json_object_get(settings, "tiers"), *t, *def = NULL;
	json_t *o = NULL;
	json_int_t min;
	size_t i;

	if (!json_is_array(tiers))
		tiers = def = member_tiers_default();
	json_array_foreach(tiers, i, t) {
		min = json_integer_value(json_object_get(t, "min"));
		if (min > pts && json_is_string(json_object_get(t, "name"))) {
			o = json_pack("{s:s,s:I,s:I}", "name", json_string_value(
			    json_object_get(t, "name")), "min", min,
			    "points_needed", min - (json_int_t)pts);
			break;
		}
	}
	json_decref(def);
	return o != NULL ? o : json_null();
}

int
member_tiers_check(json_t *body, char **tiers, char *msg, size_t msize)
{
	json_t *v = json_object_get(body, "tiers"), *t;
	json_int_t prev = -1;
	size_t i;
	int ok;

	msg[0] = '\0';
	ok = json_object_size(body) == 1 && json_is_array(v) &&
	    json_array_size(v) >= 1 && json_array_size(v) <= TIERS_MAX;
	json_array_foreach(v, i, t) {
		json_t *min = json_object_get(t, "min");

		if (!json_is_object(t) || json_object_size(t) != 2 ||
		    !loyalty_name_ok(json_object_get(t, "name"), 32,
		    "tiers[].name", msg, msize) ||
		    !loyalty_int_in(min, i == 0 ? 0 : prev + 1, i == 0 ? 0 :
		    LOYALTY_AMOUNT_MAX))
			ok = 0;
		else
			prev = json_integer_value(min);
	}
	if (!ok) {
		if (msg[0] == '\0')
			snprintf(msg, msize, "expected {\"tiers\": [{\"name\": "
			    "1-32 characters, \"min\": 12-month points}], 1 to "
			    "8 tiers, the first at 0, ascending}");
		return SIGIL_EINVAL;
	}
	if ((*tiers = json_dumps(v, JSON_COMPACT)) == NULL)
		return SIGIL_ENOMEM;
	return 0;
}

/* The writer thread: the settings read, changed and written back. */
static int
tiers_run(struct store *st, void *arg)
{
	struct member_tiers *x = arg;
	json_t *settings, *tiers;
	int rc;

	if ((tiers = json_loads(x->tiers, 0, NULL)) == NULL)
		return SIGIL_ENOMEM;
	settings = settings_load(st, x->brand_id);
	json_object_set_new(settings, "tiers", tiers);
	rc = settings_save(st, x->brand_id, settings);
	json_decref(settings);
	return rc;
}

/* The tiers before and after (names and thresholds: small). */
static int
tiers_audit(struct store *st, const void *arg, struct audit_entry *e,
    int after)
{
	const struct member_tiers *x = arg;
	json_t *settings, *now;

	if (after)
		return 0;
	audit_target(e, "settings", "tiers");
	settings = settings_load(st, x->brand_id);
	now = json_loads(x->tiers, 0, NULL);
	audit_detail_set(e, json_pack("{s:O?,s:o?}", "before",
	    json_object_get(settings, "tiers"), "after", now));
	json_decref(settings);
	return 0;
}

const struct writer_op member_tiers_op = { "brand_tiers", tiers_run,
    tiers_audit };

static void
staff_key(uint64_t customer, char out[24])
{
	snprintf(out, 24, "%llu", (unsigned long long)customer);
}

/* The staff role (enum claim_role) settings give customer, or 0. */
static int
member_role_in(json_t *settings, uint64_t customer)
{
	char k[24];

	staff_key(customer, k);
	return loyalty_role_parse(json_string_value(json_object_get(
	    json_object_get(settings, "staff"), k)));
}

int
member_role(struct app *app, uint32_t brand_id, uint64_t customer)
{
	json_t *settings = member_settings(app, brand_id);
	int role = member_role_in(settings, customer);

	json_decref(settings);
	return role;
}

/*
 * The writer thread. The customer is looked at again here: one erased
 * since the handler read it keeps no role.
 */
static int
role_run(struct store *st, void *arg)
{
	struct member_role *x = arg;
	struct customer cu;
	json_t *settings, *staff;
	char k[24];
	int rc;

	if ((rc = store_customer_get(st, x->brand_id, x->customer_id, &cu)) !=
	    0)
		return rc;
	/* erased, or merged into another since the call was made */
	if (cu.erased != 0 || cu.merged_into != 0)
		return SIGIL_ESTATE;
	settings = settings_load(st, x->brand_id);
	if (!json_is_object(json_object_get(settings, "staff")))
		json_object_set_new(settings, "staff", json_object());
	staff = json_object_get(settings, "staff");
	staff_key(x->customer_id, k);
	if (x->role == CLAIM_CONSUMER)
		json_object_del(staff, k);
	else if (json_object_size(staff) >= STAFF_MAX &&
	    json_object_get(staff, k) == NULL) {
		json_decref(settings);
		return SIGIL_EFULL;
	} else
		json_object_set_new(staff, k, json_string(
		    loyalty_role_name(x->role)));
	rc = settings_save(st, x->brand_id, settings);
	json_decref(settings);
	return rc;
}

/* The customer (by id only) and the staff role before and after. */
static int
role_audit(struct store *st, const void *arg, struct audit_entry *e,
    int after)
{
	const struct member_role *x = arg;
	json_t *settings;
	int before;

	if (after)
		return 0;
	audit_target(e, "customer", "%llu",
	    (unsigned long long)x->customer_id);
	settings = settings_load(st, x->brand_id);
	before = member_role_in(settings, x->customer_id);
	json_decref(settings);
	audit_detail_set(e, json_pack("{s:{s:s,s:s}}", "role", "before",
	    loyalty_role_name(before != 0 ? before : CLAIM_CONSUMER),
	    "after", loyalty_role_name(x->role)));
	return 0;
}

const struct writer_op member_role_op = { "customer_role", role_run,
    role_audit };

int
member_role_forget(struct store *st, uint32_t brand_id, uint64_t customer)
{
	json_t *settings = settings_load(st, brand_id);
	char k[24];
	int rc = 0;

	staff_key(customer, k);
	if (json_object_del(json_object_get(settings, "staff"), k) == 0)
		rc = settings_save(st, brand_id, settings);
	json_decref(settings);
	return rc;
}

/* ---- a member, as the API shows one ---- */

static int
count_device(void *arg, uint64_t device)
{
	(void)device;
	(*(size_t *)arg)++;
	return 0;
}

json_t *
member_summary(struct app *app, const struct customer *cu, int full)
{
	struct ledger_buf lb;
	json_t *o, *settings;
	char masked[32], tier[32 * 4 + 1], ts[SIGIL_TIME_LEN + 1];
	int64_t now = sigil_now_us(), first, last, pts = 0, bal = 0;
	size_t freq = 0, devices = 0, claims = 0;
	const char *seg = "new";
	int role;

	customer_masked(app, cu, masked, sizeof masked);
	if (member_ledger_load(app, cu->brand_id, cu->id, &lb) == 0) {
		bal = member_balance_of(lb.v, lb.n, now);
		pts = points_12m(lb.v, lb.n, now, &freq, &first, &last);
		seg = loyalty_segment(lb.v, lb.n, cu->created, now);
		for (size_t i = 0; i < lb.n; i++)
			claims += lb.v[i].type == LEDGER_EARN;
		free(lb.v);
	}
	settings = member_settings(app, cu->brand_id);
	tier_of(settings, pts, tier, sizeof tier);
	o = json_pack("{s:I,s:s,s:I,s:s,s:I,s:s,s:I,s:s}", "id",
	    (json_int_t)cu->id, "phone", masked, "balance", (json_int_t)bal,
	    "tier", tier, "points_12m", (json_int_t)pts, "segment", seg,
	    "claims", (json_int_t)claims, "created",
	    sigil_time_format(cu->created, ts));
	/* A customer WeChat identified may have no phone: null, and the
	 * identities say who they are (masked). */
	if (cu->erased == 0 && cu->phone_ct_len == 0)
		json_object_set_new(o, "phone", json_null());
	json_object_set_new(o, "identities", identity_json(app, cu->brand_id,
	    cu->id, 0));
	json_object_set_new(o, "next_tier", next_tier_of(settings, pts));
	if ((role = member_role_in(settings, cu->id)) != 0)
		json_object_set_new(o, "role", json_string(
		    loyalty_role_name(role)));
	json_decref(settings);
	json_object_set_new(o, "last_login", cu->last_login ?
	    json_string(sigil_time_format(cu->last_login, ts)) : json_null());
	if (cu->erased)
		json_object_set_new(o, "erased", json_string(
		    sigil_time_format(cu->erased, ts)));
	if (full) {
		store_customer_devices(app->store, cu->brand_id, cu->id,
		    count_device, &devices);
		json_object_set_new(o, "devices", json_integer(
		    (json_int_t)devices));
	}
	return o;
}

/*
 * Only store reads (this thread's read transaction) and arithmetic: no
 * keyring, no cache, no libevent, so a worker thread may call it.
 */
int
member_classify(struct store *st, struct json_t *settings,
    const struct customer *cu, int64_t now, struct member_class *out)
{
	struct ledger_buf lb;
	size_t freq;
	int64_t first, last, pts = 0;
	int err, role;

	memset(&lb, 0, sizeof lb);
	err = store_ledger_each(st, cu->brand_id, cu->id, ledger_collect, &lb);
	if (lb.oom)
		err = SIGIL_ENOMEM;
	if (err != 0 && err != SIGIL_ENOTFOUND) {
		free(lb.v);
		return err;
	}
	pts = points_12m(lb.v, lb.n, now, &freq, &first, &last);
	out->segment = loyalty_segment(lb.v, lb.n, cu->created, now);
	out->balance = member_balance_of(lb.v, lb.n, now);
	free(lb.v);
	out->points_12m = pts;
	tier_of(settings, pts, out->tier, sizeof out->tier);
	role = member_role_in(settings, cu->id);
	out->role = loyalty_role_name(role != 0 ? role : CLAIM_CONSUMER);
	return 0;
}

/* An order as the member and the brand see it (full: the brand's
 * fulfilment list, with the customer id). */
json_t *
member_order_json(struct app *app, const struct redeem_order *o, int full)
{
	char t[SIGIL_TIME_LEN + 1];
	struct reward_item it;
	json_t *j = json_pack("{s:I,s:i,s:s,s:s,s:s}", "id",
	    (json_int_t)o->id, "item", (int)o->item_id, "kind",
	    o->kind == ORDER_PICKUP ? "pickup" : "delivery", "status",
	    o->status == ORDER_FULFILLED ? "fulfilled" : "open", "created",
	    sigil_time_format(o->created, t));

	if (store_item_get(app->store, o->brand_id, o->item_id, &it) == 0)
		json_object_set_new(j, "item_name", json_string(it.name));
	json_object_set_new(j, "fulfilled", o->fulfilled ? json_string(
	    sigil_time_format(o->fulfilled, t)) : json_null());
	if (o->kind == ORDER_PICKUP)
		json_object_set_new(j, "pickup_code",
		    json_string(o->pickup_code));
	else
		json_object_set_new(j, "delivery", o->name[0] ? json_pack(
		    "{s:s,s:s,s:s}", "name", o->name, "phone", o->phone,
		    "address", o->address) : json_null());
	if (full)
		json_object_set_new(j, "customer", o->customer_id ?
		    json_integer((json_int_t)o->customer_id) : json_null());
	return j;
}

/* ---- the redemption catalog ---- */

json_t *
member_item_json(const struct reward_item *it)
{
	json_t *o = json_pack("{s:i,s:s,s:I}", "id", (int)it->id, "name",
	    it->name, "cost", (json_int_t)it->cost);

	json_object_set_new(o, "stock", it->stock < 0 ? json_null() :
	    json_integer(it->stock));
	return o;
}

int
member_item_append(void *arg, const struct reward_item *it)
{
	json_array_append_new(arg, member_item_json(it));
	return json_array_size(arg) >= LOYALTY_LIST_MAX;
}

int
member_item_parse(json_t *body, uint32_t brand_id, struct reward_item *it,
    char *msg, size_t msize)
{
	json_t *name = json_object_get(body, "name");
	json_t *cost = json_object_get(body, "cost");
	json_t *stock = json_object_get(body, "stock");

	if (!loyalty_name_ok(name, STORE_TEXT_MAX, "name", msg, msize))
		return SIGIL_EINVAL;
	if (!loyalty_int_in(cost, 1, LOYALTY_AMOUNT_MAX) ||
	    (stock != NULL && !json_is_null(stock) && !loyalty_int_in(stock,
	    0, LOYALTY_AMOUNT_MAX)) || json_object_size(body) > 3) {
		snprintf(msg, msize, "expected {\"name\": 1-200 characters, "
		    "\"cost\": points > 0, \"stock\": count or null for "
		    "unlimited}");
		return SIGIL_EINVAL;
	}
	memset(it, 0, sizeof *it);
	it->brand_id = brand_id;
	snprintf(it->name, sizeof it->name, "%s", json_string_value(name));
	it->cost = json_integer_value(cost);
	it->stock = stock == NULL || json_is_null(stock) ? -1 :
	    json_integer_value(stock);
	return 0;
}
