/*
 * sigil/store/messages.h - a brand's lifecycle message definitions and
 * what each run of them wrote (src/store/store_messages.c): the
 * definition's JSON (message.c checks it), its run bookkeeping, and the
 * per-customer marks that keep a triggered message from going twice to
 * the same customer for the same occasion.
 *
 * A part of sigil/store.h, which includes it after the limits and the
 * types it uses: include sigil/store.h, not this.
 */
#ifndef SIGIL_STORE_MESSAGES_H
#define SIGIL_STORE_MESSAGES_H

#ifndef SIGIL_STORE_H
#error "include sigil/store.h"
#endif

#define MESSAGE_CONFIG_MAX	8192	/* bytes of a definition's JSON */

struct message_def {
	uint32_t	brand_id;
	uint32_t	id;		/* per brand, 1, 2, ... */
	char		*config;	/* JSON text, malloc'd */
	int64_t		created, updated;
	int64_t		last_run;	/* 0 until the scheduler ran it */
	uint32_t	runs;
	uint64_t	queued;		/* outbox rows its runs wrote */
};

/* Adds (config copied) and sets d->id, d->created, d->updated. */
int store_message_add(struct store *st, struct message_def *d);
/* Replaces the configuration (the run bookkeeping stays).
 * SIGIL_ENOTFOUND. */
int store_message_update(struct store *st, uint32_t brand_id, uint32_t id,
    const char *config, int64_t now);
/* Deletes the definition and its marks (its outbox rows stay). */
int store_message_delete(struct store *st, uint32_t brand_id, uint32_t id);
/* out->config malloc'd: store_message_clear frees it. */
int store_message_get(struct store *st, uint32_t brand_id, uint32_t id,
    struct message_def *out);
void store_message_clear(struct message_def *d);
/* The brand's definitions in id order (brand_id 0: every brand's); the
 * config is valid during the call only. */
int store_message_each(struct store *st, uint32_t brand_id,
    int (*fn)(void *arg, const struct message_def *d), void *arg);

/* The mark of (definition, customer): SIGIL_ENOTFOUND when none. */
int store_message_mark(struct store *st, uint32_t brand_id, uint32_t id,
    uint64_t customer_id, int64_t *out);

/*
 * One run of definition id, in one transaction: rows (n, each queued
 * with outbox_put's checks, ids set) and marks (customer, value: nm)
 * written, last_run set to at, runs and queued counted. expect_updated
 * is the definition's updated time the run was planned from: a
 * definition changed or deleted meanwhile gives SIGIL_ECONFLICT and
 * nothing is written.
 */
struct message_mark {
	uint64_t	customer_id;
	int64_t		value;
};
struct message_run {
	uint32_t		brand_id, id;
	int64_t			at, expect_updated;
	struct outbox_msg	*rows;
	size_t			n;
	struct message_mark	*marks;
	size_t			nm;
};
int store_message_run(struct store *st, struct message_run *r);

#endif
