/*
 * ledger.h - loyalty ledger arithmetic: pure functions over a customer's
 * entries (struct ledger_entry, store.h), no storage, no clock.
 *
 * The model. Every EARN entry (and every positive ADJUST) is a lot of
 * points that lapses at its expires_at (0 = never). A REDEEM or negative
 * ADJUST at time t consumes the lots still valid at t, oldest lot (in
 * entry order) first; what no lot covers is a debt that later lots pay
 * first. An EXPIRE entry removes a lapsed lot's remainder: ref names the
 * lot's entry id, points is minus what was left, at is when the lot
 * lapsed. The balance at now is the sum of what remains of the lots
 * valid at now, minus the debt: a lapsed lot stops counting at once,
 * whether or not its EXPIRE entry has been written yet.
 *
 * Merged ledgers. A merge (store_merge.c) moves one customer's entries
 * into another's, ids and times unchanged, each marked with its origin,
 * and appends a LEDGER_MERGE entry (points 0, ref the customer merged
 * in). Every entry belongs to a pool: its origin, or its customer when
 * it has none. A spend or a debt stays within its pool, so each
 * customer's entries replay as they did before the merge; at the MERGE
 * entry the merged customer's pool (lots and debt) joins the entry's.
 * The balance is every valid lot less every debt, so a merge adds the
 * two balances, and every lot keeps its own expiry.
 *
 * Entries must be in id order. Sign rules (EINVAL otherwise): EARN > 0,
 * REDEEM < 0, EXPIRE < 0, ADJUST != 0; sums that would overflow int64
 * are EINVAL too.
 */
#ifndef SIGIL_LEDGER_H
#define SIGIL_LEDGER_H

#include <stddef.h>
#include <stdint.h>

#include "sigil/store.h"

/* Rolling window for tiers: 365 days, in microseconds. */
#define LEDGER_YEAR_US	(365LL * 86400 * 1000000)

/* The balance at now (may be negative after a negative ADJUST). */
int ledger_balance(const struct ledger_entry *e, size_t n, int64_t now,
    int64_t *balance);

/*
 * The EXPIRE entries due at now and not yet written: one per lot with
 * expires_at <= now and points left, in lot order, with brand_id and
 * customer_id copied from the lot, id 0 (the store assigns it), at = the
 * lot's expires_at, ref = the lot's id. Appending them and calling again
 * gives none (idempotent). *out is malloc'd (NULL when *nout is 0).
 * 0, SIGIL_EINVAL, SIGIL_ENOMEM.
 */
int ledger_due_expiries(const struct ledger_entry *e, size_t n, int64_t now,
    struct ledger_entry **out, size_t *nout);

/*
 * The lot (its entry id) a spend of amount (> 0) at t, after entries
 * e[0..n), would take the most points from, oldest lot first as every
 * spend is taken; of lots giving equal points, the oldest. *lot is 0 when
 * no lot would give any (no points, or all lapsed). 0 or SIGIL_EINVAL,
 * SIGIL_ENOMEM.
 */
int ledger_spend_lot(const struct ledger_entry *e, size_t n, int64_t amount,
    int64_t t, uint64_t *lot);

/*
 * Points earned (EARN entries only, spent or not) with at in
 * (now - LEDGER_YEAR_US, now]: the tier measure.
 */
int ledger_earned_12m(const struct ledger_entry *e, size_t n, int64_t now,
    int64_t *earned);

#endif
