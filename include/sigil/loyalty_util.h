/*
 * loyalty_util.h - the terms every loyalty module uses (domain layer):
 * China days, the claim role names, the bounds of lists and amounts, and
 * the JSON field checks of the configuration parsers (campaigns, tiers,
 * catalog items).
 */
#ifndef SIGIL_LOYALTY_UTIL_H
#define SIGIL_LOYALTY_UTIL_H

#include <stddef.h>
#include <stdint.h>

struct json_t;

/* Days are China days (UTC+8): daily caps, OTP and PIN counts, bare
 * campaign dates. (accounts.c spells these the same way.) */
#define US_PER_S		1000000LL
#define US_PER_DAY		(86400LL * US_PER_S)
#define CN_OFFSET_US		(8 * 3600LL * US_PER_S)

/* The most entries one list reply holds (campaigns, customers, items). */
#define LOYALTY_LIST_MAX	1000
/* 10^12: the bound of budgets, item costs and stocks, tier thresholds. */
#define LOYALTY_AMOUNT_MAX	1000000000000LL

/* The China day number of now, and the UTC instant that day began. */
int64_t loyalty_day(int64_t now);
int64_t loyalty_day_start(int64_t now);

/* ---- claim roles: 1 consumer, 2 retailer, 3 sales (enum claim_role) */

/* The role named s, or 0 when s (which may be NULL) names none. */
int loyalty_role_parse(const char *s);
/* "consumer", "retailer" or "sales"; NULL for anything else. */
const char *loyalty_role_name(int role);

/* ---- JSON field checks of the configuration parsers ---- */

/* 1 when v is an integer in [lo, hi]. */
int loyalty_int_in(struct json_t *v, int64_t lo, int64_t hi);
/*
 * 1 when v is a name of 1 to max characters (sigil_text_check: code
 * points, no control or bidi control characters). When it is not and
 * err is given, err says so, naming field.
 */
int loyalty_name_ok(struct json_t *v, size_t max, const char *field,
    char *err, size_t esize);

#endif
