/*
 * sigil/store/outbox.h - the durable message outbox (src/store/
 * store_outbox.c): every message sigild sends to a customer or to a
 * brand's people (marketing, service replies, alert notifications) is a
 * row here first, written in the transaction that decided to send it,
 * and the dispatcher (message_dispatch.c) delivers the due rows and
 * records each answer (sent, a retry later, failed).
 *
 * A part of sigil/store.h, which includes it after the limits and the
 * types it uses: include sigil/store.h, not this.
 */
#ifndef SIGIL_STORE_OUTBOX_H
#define SIGIL_STORE_OUTBOX_H

#ifndef SIGIL_STORE_H
#error "include sigil/store.h"
#endif

enum outbox_kind { OUTBOX_MARKETING = 1, OUTBOX_SERVICE = 2,
    OUTBOX_ALERT = 3 };
/*
 * A row is queued until the channel answered: sent, or failed for good.
 * OUTBOX_SENDING is never stored: the API shows it for a row the
 * dispatcher has in flight (message_dispatch.c).
 */
enum outbox_state { OUTBOX_QUEUED = 0, OUTBOX_SENDING = 1, OUTBOX_SENT = 2,
    OUTBOX_FAILED = 3 };

#define OUTBOX_CHANNEL_MAX	23	/* bytes of a channel name */
#define OUTBOX_PAYLOAD_MAX	16384	/* bytes of JSON payload */

struct outbox_msg {
	uint64_t	id;		/* assigned: global, 1, 2, ... */
	uint32_t	brand_id;
	int		kind;		/* enum outbox_kind */
	uint64_t	customer_id;	/* 0 for OUTBOX_ALERT */
	char		channel[OUTBOX_CHANNEL_MAX + 1];	/* "sms", ... */
	uint32_t	source;		/* message, feedback or alert rule id */
	char		*payload;	/* JSON text, malloc'd: what is sent */
	/* delivery state */
	int		state;		/* enum outbox_state */
	uint32_t	attempts;	/* failed tries so far */
	int64_t		next_at;	/* when due (queued rows) */
	int64_t		created, sent_at;	/* sent_at: 0 until sent */
	int		last_status;	/* the channel's last status, 0 none */
};

/* Frees m's payload (set to NULL). */
void outbox_msg_clear(struct outbox_msg *m);

/*
 * Adds m, queued, in its own transaction: the brand must exist
 * (SIGIL_ENOTFOUND); channel a name of [a-z0-9_], payload well-formed
 * JSON of at most OUTBOX_PAYLOAD_MAX bytes, kind known, a customer for
 * every kind but OUTBOX_ALERT (SIGIL_EINVAL). created defaults to now,
 * next_at to created. On success m->id and the defaults are set. (A
 * store file adds a row in its own transaction with outbox_put,
 * store_impl.h.)
 */
int store_outbox_add(struct store *st, struct outbox_msg *m);

/* One row, payload malloc'd (outbox_msg_clear). SIGIL_ENOTFOUND. */
int store_outbox_get(struct store *st, uint32_t brand_id, uint64_t id,
    struct outbox_msg *out);

/*
 * The queued rows due at now (next_at <= now), every brand, each brand's
 * in next_at order, at most max of them: fn sees each (the payload is
 * valid during the call only) and returns non-zero to stop.
 */
int store_outbox_due(struct store *st, int64_t now, size_t max,
    int (*fn)(void *arg, const struct outbox_msg *m), void *arg);
/* The oldest next_at of a queued row (0 when none): for the lag gauge. */
int store_outbox_oldest(struct store *st, int64_t *out);

/* What the dispatcher settled for one row (a writer op's argument). */
struct outbox_settle {
	uint32_t	brand_id;
	uint64_t	id;
	int		state;		/* QUEUED (a retry), SENT, FAILED */
	uint32_t	attempts;
	int64_t		next_at, sent_at;
	int		last_status;
};
/*
 * Records s on its row, if the row is still there and queued (an
 * erasure may have cut it meanwhile: then 0 and nothing written).
 */
int store_outbox_settle(struct store *st, const struct outbox_settle *s);

/*
 * The brand's rows newest first, those of source (0: any), kind (0:
 * any) and customer (0: any) only; fn as above.
 */
int store_outbox_each(struct store *st, uint32_t brand_id, uint32_t source,
    int kind, uint64_t customer_id,
    int (*fn)(void *arg, const struct outbox_msg *m), void *arg);

/*
 * How many rows of kind (0: any) the customer has that were made at or
 * after since: the frequency cap's count. A read in txn-less callers'
 * snapshot.
 */
int store_outbox_count_since(struct store *st, uint32_t brand_id,
    uint64_t customer_id, int kind, int64_t since, uint32_t *out);

/* Counts of the brand's rows of source by state (index: outbox_state). */
int store_outbox_tally(struct store *st, uint32_t brand_id, uint32_t source,
    uint64_t counts[4]);

#endif
