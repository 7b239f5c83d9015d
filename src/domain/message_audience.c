/*
 * message_audience.c - who a message's audience is: every customer of
 * the brand (audience 0: not erased, not merged away), or the members of
 * a saved segment (segment.h), walked in customer id order.
 *
 * Owns nothing. May call store (reads) and segment.h. Reads only: safe
 * on a worker thread and on the writer thread.
 */
#include <stdint.h>

#include "sigil/store.h"
#include "sigil/util.h"

#include "message_impl.h"

struct every {
	int	(*fn)(void *arg, const struct customer *cu);
	void	*arg;
};

static int
every_one(void *arg, const struct customer *cu)
{
	struct every *e = arg;

	if (cu->erased != 0 || cu->merged_into != 0)
		return 0;
	return e->fn(e->arg, cu);
}

int
message_audience_check(struct store *st, uint32_t brand_id,
    uint32_t audience)
{
	(void)brand_id;
	if (st == NULL || audience == 0)
		return 0;
	/* Saved segments arrive with segment.h (issue 21, part 1). */
	return SIGIL_ENOTFOUND;
}

int
message_audience_each(struct store *st, uint32_t brand_id,
    uint32_t audience, int64_t now,
    int (*fn)(void *arg, const struct customer *cu), void *arg)
{
	struct every e = { fn, arg };

	(void)now;
	if (audience != 0)
		return SIGIL_ENOTFOUND;
	return store_customer_each(st, brand_id, 0, every_one, &e);
}
