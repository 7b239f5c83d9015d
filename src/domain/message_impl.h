/*
 * message_impl.h - what message.c, message_plan.c and message_sched.c
 * share, and nothing outside them may include.
 */
#ifndef SIGIL_MESSAGE_IMPL_H
#define SIGIL_MESSAGE_IMPL_H

#include <stdint.h>

#include "sigil/message.h"
#include "sigil/store.h"

struct json_t;

/* The canonical JSON of a checked definition (a new object or NULL). */
struct json_t *message_cfg_json(const struct message_cfg *c);

/*
 * The audience (message_audience.c): 0 when brand_id has a saved
 * segment of that id (st may be NULL: then 0 for any id); every member
 * of audience (0: every customer, not erased nor merged away) in
 * customer id order, fn returning non-zero to stop.
 */
int message_audience_check(struct store *st, uint32_t brand_id,
    uint32_t audience);
int message_audience_each(struct store *st, uint32_t brand_id,
    uint32_t audience, int64_t now,
    int (*fn)(void *arg, const struct customer *cu), void *arg);
/* Registers with segment.h the check that a message uses a segment (a
 * segment a message uses cannot be deleted). 0 or SIGIL_EFULL. */
int message_segments_hook(void);

/* When a message planned at now may go: now, or when c's quiet hours,
 * read in the zone zone_min minutes east of UTC, end. */
int64_t message_quiet_until(const struct message_cfg *c, int64_t now,
    int zone_min);

#endif
