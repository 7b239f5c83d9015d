/*
 * privacy.h - a customer's personal data under PIPL (domain layer): the
 * export an admin hands to the customer, and erasure.
 */
#ifndef SIGIL_PRIVACY_H
#define SIGIL_PRIVACY_H

#include <stdint.h>

#include "sigil/store.h"

struct app;
struct json_t;

/*
 * Everything kept about the customer: the summary, the phone in the
 * clear (+digits, unless erased), the device ids and the whole ledger.
 * Logged (customer_export, no personal data). A new jansson object.
 */
struct json_t *privacy_export(struct app *app, const struct customer *cu);

/*
 * Erases the customer: the phone's lines of the demo outbox first (the
 * phone is gone after), then the store's erasure (store_customer_erase),
 * an ACTIVITY_ERASE entry, the staff role, and a scrub of the bytes left
 * in the files. 0 with *scrubbed 1 when the outbox and the scrub both
 * succeeded; SIGIL_ESTATE when already erased; store errors.
 */
int privacy_erase(struct app *app, const struct customer *cu,
    int *scrubbed);

#endif
