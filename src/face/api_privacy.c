/*
 * api_privacy.c - the brand API's privacy endpoints: the notice
 * (GET and POST /api/v1/privacy/notices), the privacy settings (GET and
 * PUT /api/v1/privacy/settings: the profile fields collected), a
 * customer's consents and profile (GET /api/v1/customers/{id}/consents
 * and /profile) and the brand-wide consent export (GET
 * /api/v1/exports/consents, CSV). route_api.c calls them after
 * authentication and the role check.
 *
 * A new notice is a new version (the old ones stay: what each consent
 * answered can be read back). The export streams the ledger in pieces
 * (http_stream_start), so a large brand never holds the loop; it is in
 * the audit trail like the customer export.
 *
 * A handler. May call consent, profile, store (reads), http,
 * http_write, http_api.c, log. Never logs a profile's value.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sigil/api.h"
#include "sigil/app.h"
#include "sigil/consent.h"
#include "sigil/http.h"
#include "sigil/http_write.h"
#include "sigil/log.h"
#include "sigil/profile.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "sigil/writer.h"

#define EXPORT_CHUNK	500

/* ---- notices ---- */

static int
notice_one(void *arg, uint32_t version, int64_t at, const char *json)
{
	json_t *o = consent_notice_json(version, at, json, 0);

	if (o == NULL || json_array_append_new(arg, o) != 0)
		return SIGIL_ENOMEM;
	return 0;
}

void
api_privacy_notices(struct api_call *a)
{
	json_t *arr = json_array();
	int64_t cur;

	if (store_notice_each(a->app->store, a->brand.id, notice_one, arr) !=
	    0 || (cur = consent_notice_current(a->app, a->brand.id)) < 0) {
		json_decref(arr);
		api_fail(a, 503, "unavailable", "storage error; try again");
		return;
	}
	api_reply(a, 200, json_pack("{s:o,s:o}", "current", cur ?
	    json_integer(cur) : json_null(), "notices", arr));
}

static void
notice_added(struct http_call *c, void *arg, int err)
{
	struct notice_write *w = arg;
	json_t *o;

	if (err == 0)
		o = consent_notice_json(w->version, w->at, w->json, 0);
	free(w->json);
	if (err == SIGIL_EBUSY) {
		http_reply_error(c, 503, "unavailable", "the server is busy or "
		    "shutting down; try again");
		return;
	}
	if (err != 0 || o == NULL) {
		log_error("privacy_notice", "brand=%u err=%s", w->brand_id,
		    sigil_strerror(err));
		http_reply_error(c, err == SIGIL_EINVAL ? 422 : 503, err ==
		    SIGIL_EINVAL ? "invalid" : "unavailable", "the notice could "
		    "not be stored");
		return;
	}
	log_info("privacy_notice", "brand=%u version=%u", w->brand_id,
	    w->version);
	http_reply_jsont(c, 201, json_pack("{s:o}", "notice", o));
}

void
api_privacy_notice_add(struct api_call *a)
{
	struct notice_write w = { 0 };
	char msg[256];

	if (api_body(a) != 0)
		return;
	if (consent_notice_parse(a->body, &w.json, msg, sizeof msg) != 0) {
		api_fail(a, 422, "invalid", msg);
		return;
	}
	w.brand_id = a->brand.id;
	w.at = sigil_now_us();
	http_write(a->c, &notice_add_op, &w, sizeof w, notice_added);
}

/* ---- settings ---- */

void
api_privacy_settings(struct api_call *a)
{
	api_reply(a, 200, privacy_settings_json(a->app, a->brand.id));
}

static void
settings_set(struct http_call *c, void *arg, int err)
{
	struct privacy_settings_write *w = arg;
	json_t *o = err == 0 ? json_loads(w->json, 0, NULL) : NULL;

	free(w->json);
	if (err != 0 || o == NULL) {
		json_decref(o);
		http_reply_error(c, 503, "unavailable", err == SIGIL_EBUSY ?
		    "the server is busy or shutting down; try again" :
		    "storage error; try again");
		return;
	}
	http_reply_jsont(c, 200, o);
}

void
api_privacy_settings_put(struct api_call *a)
{
	struct privacy_settings_write w = { 0 };
	char msg[256];

	if (api_body(a) != 0)
		return;
	if (privacy_settings_parse(a->body, &w.json, msg, sizeof msg) != 0) {
		api_fail(a, 422, "invalid", msg);
		return;
	}
	w.brand_id = a->brand.id;
	http_write(a->c, &privacy_settings_op, &w, sizeof w, settings_set);
}

/* ---- one customer ---- */

/* The customer seg[1] names (a merged one's id names the customer it
 * was merged into): 0, or -1 after replying. */
static int
customer_of(struct api_call *a, struct customer *cu)
{
	uint64_t id;
	int rc;

	if (api_parse_id(a->seg[1], UINT64_MAX, &id) != 0) {
		api_fail(a, 404, "not_found", "customer not found");
		return -1;
	}
	if ((rc = store_customer_resolve(a->app->store, a->brand.id, id,
	    cu)) != 0) {
		if (rc == SIGIL_ENOTFOUND)
			api_fail(a, 404, "not_found", "customer not found");
		else
			api_fail(a, 503, "unavailable", "storage error");
		return -1;
	}
	return 0;
}

void
api_customer_consents(struct api_call *a)
{
	struct customer cu;
	json_t *cur, *hist;

	if (customer_of(a, &cu) != 0)
		return;
	cur = consent_current(a->app, a->brand.id, cu.id);
	hist = consent_history(a->app, a->brand.id, cu.id);
	if (cur == NULL || hist == NULL) {
		json_decref(cur);
		json_decref(hist);
		api_fail(a, 503, "unavailable", "storage error");
		return;
	}
	http_add_header(a->c, "Cache-Control", "no-store");
	api_reply(a, 200, json_pack("{s:I,s:o,s:o}", "customer",
	    (json_int_t)cu.id, "current", cur, "history", hist));
}

void
api_customer_profile(struct api_call *a)
{
	struct customer cu;
	json_t *p, *s;

	if (customer_of(a, &cu) != 0)
		return;
	if ((p = profile_load(a->app, a->brand.id, cu.id)) == NULL) {
		api_fail(a, 503, "unavailable", "the profile could not be read");
		return;
	}
	s = privacy_settings_json(a->app, a->brand.id);
	http_add_header(a->c, "Cache-Control", "no-store");
	api_reply(a, 200, json_pack("{s:I,s:o,s:O,s:b}", "customer",
	    (json_int_t)cu.id, "profile", p, "fields", json_object_get(s,
	    "profile_fields"), "consent", consent_granted(a->app, a->brand.id,
	    cu.id, CONSENT_PROFILE) == 1));
	json_decref(s);
}

/* ---- the brand's consent export ---- */

static const char *const csv_head[] = { "customer", "seq", "at", "purpose",
	"action", "notice_version", "channel", "lang" };
#define CSV_NCOLS	(sizeof csv_head / sizeof csv_head[0])

struct consent_csv {
	struct app		*app;
	uint32_t		brand_id;
	uint64_t		customer, seq;	/* where the next piece starts */
	int			started, done;
	size_t			n;
	struct consent_entry	chunk[EXPORT_CHUNK];
};

static int
csv_take(void *arg, const struct consent_entry *e)
{
	struct consent_csv *x = arg;

	if (x->n == EXPORT_CHUNK)
		return 1;
	x->chunk[x->n++] = *e;
	return 0;
}

static int
csv_next(struct http_call *c, void *arg, struct evbuffer *out)
{
	struct consent_csv *x = arg;
	char id[24], seq[24], ver[16], t[SIGIL_TIME_LEN + 1];
	int rc;

	(void)c;
	if (!x->started) {
		x->started = 1;
		for (size_t i = 0; i < CSV_NCOLS; i++)
			http_csv_cell(out, csv_head[i], i + 1 == CSV_NCOLS);
		return 1;
	}
	x->n = 0;
	rc = store_consent_from(x->app->store, x->brand_id, x->customer,
	    x->seq, csv_take, x);
	if (rc < 0)
		log_error("consent_export", "brand=%u err=\"read failed\"",
		    x->brand_id);
	for (size_t i = 0; i < x->n; i++) {
		const struct consent_entry *e = &x->chunk[i];

		snprintf(id, sizeof id, "%llu",
		    (unsigned long long)e->customer_id);
		snprintf(seq, sizeof seq, "%llu", (unsigned long long)e->seq);
		snprintf(ver, sizeof ver, "%u", e->notice_version);
		http_csv_cell(out, id, 0);
		http_csv_cell(out, seq, 0);
		http_csv_cell(out, sigil_time_format(e->at, t), 0);
		http_csv_cell(out, consent_purpose_name(e->purpose), 0);
		http_csv_cell(out, e->action == CONSENT_GRANT ? "grant" :
		    "withdraw", 0);
		http_csv_cell(out, ver, 0);
		http_csv_cell(out, consent_channel_name(e->channel), 0);
		http_csv_cell(out, consent_lang_name(e->lang), 1);
	}
	if (rc == 1 && x->n == EXPORT_CHUNK) {
		x->customer = x->chunk[x->n - 1].customer_id;
		x->seq = x->chunk[x->n - 1].seq + 1;
		return 1;
	}
	free(x);
	return 0;
}

static const struct http_stream_ops csv_ops = { csv_next, http_csv_gone };

void
api_consents_export(struct api_call *a)
{
	struct consent_csv *x;
	char q[16], who[32];

	if (http_query(a->c, "format", q, sizeof q) != NULL &&
	    strcmp(q, "csv") != 0) {
		api_fail(a, 422, "invalid", "format is csv");
		return;
	}
	if ((x = calloc(1, sizeof *x)) == NULL) {
		api_fail(a, 503, "unavailable", "out of memory");
		return;
	}
	x->app = a->app;
	x->brand_id = a->brand.id;
	http_actor_text(a->c, who, sizeof who);
	log_info("consent_export", "brand=%u %s", a->brand.id, who);
	http_audit_note(a->c, "consent_export", "brand", a->brand.name, NULL);
	http_add_header(a->c, "Content-Disposition",
	    "attachment; filename=\"consents.csv\"");
	http_add_header(a->c, "Cache-Control", "no-store");
	http_stream_start(a->c, 200, "text/csv; charset=utf-8", &csv_ops, x);
}
