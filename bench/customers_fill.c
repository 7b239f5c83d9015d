/*
 * customers_fill.c - adds N customers with points ledgers to a brand of
 * a sigil data dir, straight through the store, for the tests of the
 * customer counts at a size the HTTP login path would take minutes to
 * make (tests/server/customers_summary_large.py).
 *
 *   customers_fill DATA_DIR BRAND_ID N
 *
 * Customer i gets a ledger of earn entries (100 points each, expiring
 * two years after) shaped so that its RFM segment (member.h) is the
 * (i % 7)th of: new (no earn), new (one earn 10 days ago), champions
 * (12 earns in the last 24 days), loyal (5 earns, the last 60 days ago),
 * promising (one earn 60 days ago), at_risk (2 earns, the last 120 days
 * ago), hibernating (one earn 300 days ago); every 50th customer also
 * earns 2,500 points today (then champions by points). The phone
 * ciphertext is random bytes (the list shows it "unreadable"): these
 * customers are counted, never logged in. Prints what it made as JSON:
 * {"segments": {...}, "points_12m": {"<points>": count, ...}}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sigil/store.h"
#include "sigil/util.h"

#define DAY	(86400LL * 1000000)

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t
next(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dULL;
}

static int
earn(struct store *st, uint32_t brand, uint64_t cust, int64_t at,
    int64_t points)
{
	struct ledger_entry e;

	memset(&e, 0, sizeof e);
	e.brand_id = brand;
	e.customer_id = cust;
	e.type = LEDGER_EARN;
	e.points = points;
	e.at = at;
	e.expires_at = at + 730 * DAY;
	return store_ledger_append(st, &e);
}

int
main(int argc, char **argv)
{
	static const char *const seg[7] = { "new", "new", "champions",
	    "loyal", "promising", "at_risk", "hibernating" };
	static const int earns[7] = { 0, 1, 12, 5, 1, 2, 1 };
	static const int last_days[7] = { 0, 10, 0, 60, 60, 120, 300 };
	struct store *st;
	struct customer cu;
	long counts[7] = { 0 }, gold = 0, champ_pts = 0;
	uint32_t brand;
	long n;
	int err, created;

	if (argc != 4) {
		fprintf(stderr, "usage: customers_fill DATA_DIR BRAND_ID N\n");
		return 2;
	}
	brand = (uint32_t)strtoul(argv[2], NULL, 10);
	n = strtol(argv[3], NULL, 10);
	if ((err = store_open(argv[1], STORE_NOSYNC, &st)) != 0) {
		fprintf(stderr, "customers_fill: %s: %s\n", argv[1],
		    sigil_strerror(err));
		return 1;
	}
	for (long i = 0; i < n; i++) {
		uint8_t hash[32], ct[40];
		int k = (int)(i % 7);
		int64_t now = sigil_now_us();

		for (size_t j = 0; j < sizeof hash; j += 8) {
			uint64_t r = next();
			memcpy(hash + j, &r, 8);
		}
		for (size_t j = 0; j < sizeof ct; j++)
			ct[j] = (uint8_t)next();
		if ((err = store_customer_by_phone(st, brand, hash, ct,
		    sizeof ct, &cu, &created)) != 0 || !created) {
			fprintf(stderr, "customers_fill: customer %ld: %s\n", i,
			    sigil_strerror(err));
			return 1;
		}
		/* Oldest first: the ledger appends in time order. */
		for (int j = earns[k] - 1; j >= 0; j--) {
			int64_t at = now - (int64_t)last_days[k] * DAY -
			    (int64_t)j * (k == 2 ? 2 : 5) * DAY - DAY / 2;

			if ((err = earn(st, brand, cu.id, at, 100)) != 0) {
				fprintf(stderr, "customers_fill: earn: %s\n",
				    sigil_strerror(err));
				return 1;
			}
		}
		if (i % 50 == 0) {
			if ((err = earn(st, brand, cu.id, now - 60000000,
			    2500)) != 0) {
				fprintf(stderr, "customers_fill: earn: %s\n",
				    sigil_strerror(err));
				return 1;
			}
			gold++;
			if (k != 2)
				champ_pts++;
			counts[2]++;
		} else
			counts[k]++;
	}
	if ((err = store_sync(st)) != 0) {
		fprintf(stderr, "customers_fill: sync: %s\n",
		    sigil_strerror(err));
		return 1;
	}
	store_close(st);
	printf("{\"segments\": {\"new\": %ld, \"champions\": %ld, \"loyal\": "
	    "%ld, \"promising\": %ld, \"at_risk\": %ld, \"hibernating\": %ld},"
	    " \"gold\": %ld}\n", counts[0] + counts[1], counts[2], counts[3],
	    counts[4], counts[5], counts[6], gold);
	(void)seg;
	(void)champ_pts;
	return 0;
}
