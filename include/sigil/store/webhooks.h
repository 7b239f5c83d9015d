/*
 * sigil/store/webhooks.h - the storage of webhook subscriptions and their
 * delivery cursors (src/store/store_webhooks.c); the secret's bound is
 * STORE_PHONE_CT_MAX (sigil/store/customers.h).
 *
 * A part of sigil/store.h, which includes it after the limits and the
 * types it uses: include sigil/store.h, not this.
 */
#ifndef SIGIL_STORE_WEBHOOKS_H
#define SIGIL_STORE_WEBHOOKS_H

#ifndef SIGIL_STORE_H
#error "include sigil/store.h"
#endif

/* ---- webhook subscriptions and their delivery cursors ---- */
enum webhook_events { HOOK_SCAN = 1, HOOK_CLAIM = 2, HOOK_CUSTOMER = 4 };

struct webhook {
	uint32_t	brand_id;
	uint32_t	id;
	char		url[STORE_URL_MAX + 1];
	uint8_t		secret_ct[STORE_PHONE_CT_MAX];	/* AES-GCM sealed */
	size_t		secret_ct_len;
	int		events;		/* enum webhook_events mask */
	int		active;
	int64_t		created;
	/* Delivery state: events are delivered in log order, at least once. */
	uint64_t	scan_cursor;	/* last scan id delivered */
	uint64_t	activity_cursor;	/* last activity id delivered */
	uint32_t	attempts;	/* failures in a row */
	int64_t		next_try;	/* backoff: not before this */
	int		last_status;	/* HTTP status or -1 */
	uint64_t	delivered;
};
int store_webhook_add(struct store *st, struct webhook *w);
int store_webhook_get(struct store *st, uint32_t brand_id, uint32_t id,
    struct webhook *out);
int store_webhook_each(struct store *st,
    int (*fn)(void *arg, const struct webhook *w), void *arg);	/* all brands */
/* Writes back the delivery fields (cursors, attempts, ...). */
int store_webhook_progress(struct store *st, const struct webhook *w);
/* Added: pause/resume a subscription, and remove one. ENOTFOUND. */
int store_webhook_set_active(struct store *st, uint32_t brand_id,
    uint32_t id, int active);
int store_webhook_del(struct store *st, uint32_t brand_id, uint32_t id);

#endif
