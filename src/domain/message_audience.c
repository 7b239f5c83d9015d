/*
 * message_audience.c - who a message's audience is: every customer of
 * the brand (audience 0: not erased, not merged away), or the members of
 * a saved segment (segment.h: segment_load, segment_each), walked in
 * customer id order; and the check segment deletion asks (a segment a
 * message uses cannot be deleted: 409 segment_in_use).
 *
 * Owns nothing. May call store (reads) and segment.h. Reads only: safe
 * on a worker thread and on the writer thread.
 */
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "sigil/segment.h"
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
	struct saved_segment s;
	int rc;

	if (st == NULL || audience == 0)
		return 0;
	if ((rc = store_segment_get(st, brand_id, audience, &s)) == 0)
		store_segment_clear(&s);
	return rc;
}

int
message_audience_each(struct store *st, uint32_t brand_id,
    uint32_t audience, int64_t now,
    int (*fn)(void *arg, const struct customer *cu), void *arg)
{
	struct every e = { fn, arg };
	struct segment_def *d;
	int rc;

	if (audience == 0)
		return store_customer_each(st, brand_id, 0, every_one, &e);
	if ((rc = segment_load(st, brand_id, audience, &d)) != 0)
		return rc;
	rc = segment_each(st, brand_id, d, now, fn, arg);
	segment_def_free(d);
	return rc;
}

struct use {
	uint32_t	segment_id, message_id;
};

static int
use_one(void *arg, const struct message_def *d)
{
	struct use *u = arg;
	json_t *cfg = json_loads(d->config, 0, NULL);
	int hit = json_integer_value(json_object_get(cfg, "audience")) ==
	    (json_int_t)u->segment_id;

	json_decref(cfg);
	if (hit)
		u->message_id = d->id;
	return hit;
}

static int
uses_segment(struct store *st, uint32_t brand_id, uint32_t segment_id,
    char *what, size_t size)
{
	struct use u = { segment_id, 0 };
	int rc = store_message_each(st, brand_id, use_one, &u);

	if (rc < 0)
		return rc;
	if (u.message_id == 0)
		return 0;
	snprintf(what, size, "message %u", u.message_id);
	return 1;
}

int
message_segments_hook(void)
{
	return segment_users_register(uses_segment);
}
