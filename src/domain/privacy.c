/*
 * privacy.c - a customer's personal data under PIPL: export and erasure.
 *
 * What is personal: the phone (kept sealed, customer.c), the profile
 * (sealed, profile.c; the consent ledger says what it was kept for and
 * stays after an erasure, naming the customer id only), the device ids
 * linked to the customer, the feedback texts, the precise places of the
 * scans of the codes the customer claimed or reviewed, a seller's store
 * and bound codes (seller.c; the erasure takes them out), and the demo
 * outbox lines with the phone's codes. The export shows all of it to the
 * brand's admin, the phone in the clear (the one place it is). Erasure
 * removes it from the store (store_customer_erase keeps the customer id
 * and the amounts, so counts stay right), from the outbox and from the
 * staff registrations, then scrubs the freed pages and the log so that
 * the old bytes are not left in the files (store_scrub).
 *
 * An erasure is one writer op (privacy_erase_op, "customer_erase"): the
 * store's erasure, its activity entry, the staff role and the scrub in
 * that order on the writer thread, whose scrub then waits for older
 * readers instead of the loop. The outbox, a file of the loop's (the
 * notifier appends to it there), is rewritten on the loop before.
 *
 * Owns the order of an erasure. May call store, customer, member, otp
 * (the outbox), log and util. Never knows about HTTP, never logs a
 * phone, never writes to the store on the loop: every write is a writer
 * op's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "sigil/app.h"
#include "sigil/audit.h"
#include "sigil/consent.h"
#include "sigil/customer.h"
#include "sigil/log.h"
#include "sigil/member.h"
#include "sigil/otp.h"
#include "sigil/privacy.h"
#include "sigil/profile.h"
#include "sigil/seller.h"
#include "sigil/store.h"
#include "sigil/identity.h"
#include "sigil/util.h"
#include "sigil/writer.h"

static int
export_device(void *arg, uint64_t device)
{
	char hex[17];

	snprintf(hex, sizeof hex, "%016llx", (unsigned long long)device);
	json_array_append_new(arg, json_string(hex));
	return 0;
}

/* The customer's feedback (issue 21): what they rated, wrote, reported
 * and what the brand answered; the photo is said, not copied. */
struct feedback_export {
	uint64_t	customer;
	json_t		*arr;
};

static int
export_feedback(void *arg, const struct feedback *f)
{
	struct feedback_export *x = arg;
	static const char *const status[] = { "open", "replied", "closed" };
	char t[SIGIL_TIME_LEN + 1];
	json_t *o;

	if (f->customer_id != x->customer)
		return 0;
	o = json_pack("{s:I,s:s,s:s,s:i,s:s,s:s,s:b}", "id", (json_int_t)f->id,
	    "kind", f->kind == FEEDBACK_FAKE ? "fake" : "rating", "status",
	    status[f->status], "rating", f->rating, "created",
	    sigil_time_format(f->at, t), "text", f->text, "photo",
	    f->photo != FEEDBACK_PHOTO_NONE);
	if (f->kind == FEEDBACK_FAKE)
		json_object_set_new(o, "where", json_string(f->where));
	if (f->reply[0] != '\0')
		json_object_set_new(o, "reply", json_string(f->reply));
	json_array_append_new(x->arr, o);
	return 0;
}

json_t *
privacy_export(struct app *app, const struct customer *cu, const char *by)
{
	struct ledger_buf lb;
	char phone[LOYALTY_PHONE_MAX + 2] = "+";
	json_t *o = member_summary(app, cu, 1), *ledger = json_array();
	json_t *devices = json_array(), *v;

	if (customer_phone(app, cu, phone + 1, sizeof phone - 1) == 0)
		json_object_set_new(o, "phone", json_string(phone));
	store_customer_devices(app->store, cu->brand_id, cu->id, export_device,
	    devices);
	json_object_set_new(o, "device_ids", devices);
	/* The identifiers themselves: the export is the customer's copy. */
	json_object_set_new(o, "identities", identity_json(app, cu->brand_id,
	    cu->id, 1));
	if (member_ledger_load(app, cu->brand_id, cu->id, &lb) == 0) {
		for (size_t i = 0; i < lb.n; i++)
			json_array_append_new(ledger, member_ledger_json(
			    &lb.v[i]));
		free(lb.v);
	}
	json_object_set_new(o, "ledger", ledger);
	/* What the customer agreed to, and the profile kept with it. */
	if ((v = consent_history(app, cu->brand_id, cu->id)) == NULL)
		v = json_array();
	json_object_set_new(o, "consents", v);
	if ((v = profile_load(app, cu->brand_id, cu->id)) == NULL)
		v = json_null();
	json_object_set_new(o, "profile", v);
	/* feedback (issue 21): the brand's whole inbox, walked once */
	{
		struct feedback_export fx = { cu->id, json_array() };

		store_feedback_back(app->store, cu->brand_id, 0,
		    export_feedback, &fx);
		json_object_set_new(o, "feedback", fx.arr);
	}
	/* sellers (issue 21): their store, and the codes they bound */
	json_object_set_new(o, "seller", seller_export(app->store,
	    cu->brand_id, cu->id));
	log_info("customer_export", "brand=%u customer=%llu %s", cu->brand_id,
	    (unsigned long long)cu->id, by);
	return o;
}

void
privacy_erase_prepare(struct app *app, const struct customer *cu,
    struct privacy_erase *x)
{
	char plain[LOYALTY_PHONE_MAX + 1] = "";

	memset(x, 0, sizeof *x);
	x->brand_id = cu->brand_id;
	x->customer_id = cu->id;
	customer_phone(app, cu, plain, sizeof plain);
	/* The outbox first: after the erase the phone is gone. */
	x->scrubbed = cu->erased == 0 &&
	    otp_outbox_forget(app, cu->brand_id, plain) == 0;
	OPENSSL_cleanse(plain, sizeof plain);
}

/*
 * The writer thread. The scrub's wait for older readers (up to 5 s)
 * holds the writer, not the loop.
 */
static int
erase_run(struct store *st, void *arg)
{
	struct privacy_erase *x = arg;
	struct activity act = { 0 };
	int rc;

	if ((rc = store_customer_erase(st, x->brand_id, x->customer_id,
	    sigil_now_us())) != 0)
		return rc;
	act.brand_id = x->brand_id;
	act.type = ACTIVITY_ERASE;
	act.at = sigil_now_us();
	act.customer_id = x->customer_id;
	store_activity_add(st, &act);
	member_role_forget(st, x->brand_id, x->customer_id);
	/* The bytes left in the files (the activity entry and settings
	 * above are in, so this scrub covers them). */
	rc = store_scrub(st, &x->ss);
	x->scrubbed = x->scrubbed && rc == 0;
	return 0;
}

/* The trail names the customer by id only: nothing else of theirs. */
static int
erase_audit(struct store *st, const void *arg, struct audit_entry *e,
    int after)
{
	const struct privacy_erase *x = arg;

	(void)st;
	if (!after)
		audit_target(e, "customer", "%llu",
		    (unsigned long long)x->customer_id);
	return 0;
}

const struct writer_op privacy_erase_op = { "customer_erase", erase_run,
    erase_audit };

void
privacy_erased(const struct privacy_erase *x, const char *by)
{
	log_info("customer_erase", "brand=%u customer=%llu %s scrubbed=%d "
	    "pages=%llu freed=%llu gaps=%llu ms=%lld", x->brand_id,
	    (unsigned long long)x->customer_id, by, x->scrubbed,
	    (unsigned long long)x->ss.pages,
	    (unsigned long long)x->ss.free_pages,
	    (unsigned long long)x->ss.gap_pages, (long long)x->ss.ms);
}
