/*
 * privacy.h - a customer's personal data under PIPL (domain layer): the
 * export an admin hands to the customer, and erasure (a writer op,
 * writer.h).
 */
#ifndef SIGIL_PRIVACY_H
#define SIGIL_PRIVACY_H

#include <stdint.h>

#include "sigil/store.h"

struct app;
struct json_t;
struct writer_op;

/*
 * Everything kept about the customer: the summary, the phone in the
 * clear (+digits, unless erased), the device ids and the whole ledger.
 * Logged (customer_export, no personal data). A new jansson object.
 */
struct json_t *privacy_export(struct app *app, const struct customer *cu,
    const char *by);

/*
 * Erasure, in three steps. privacy_erase_prepare, on the loop, rewrites
 * the demo outbox without the phone's lines (before the phone is gone)
 * and fills x. privacy_erase_op ("customer_erase"), on the writer
 * thread: the store's erasure (store_customer_erase), an ACTIVITY_ERASE
 * entry, the staff role dropped, and a scrub of the bytes left in the
 * files; run: 0, SIGIL_ESTATE when already erased, store errors.
 * privacy_erased, on the loop after a run that returned 0, logs it.
 * scrubbed is 1 when the outbox and the scrub both succeeded.
 */
struct privacy_erase {
	uint32_t		brand_id;
	uint64_t		customer_id;
	int			scrubbed;
	struct store_scrub_stats ss;
};
void privacy_erase_prepare(struct app *app, const struct customer *cu,
    struct privacy_erase *x);
extern const struct writer_op privacy_erase_op;
void privacy_erased(const struct privacy_erase *x, const char *by);

#endif
