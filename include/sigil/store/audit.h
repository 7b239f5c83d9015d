/*
 * sigil/store/audit.h - the audit trail: who changed what in a brand,
 * one entry per change made through the brand API, the dashboard or the
 * sigil CLI. In src/store/store_audit.c. Included by sigil/store.h.
 *
 * An entry rides in the write transaction of the change it describes:
 * the writer thread (or the CLI) arms it with store_audit_arm() before
 * the change, the store's write runner appends it to the first write
 * transaction that commits on that thread, and store_audit_disarm()
 * says whether it did. A change that fails records nothing; a change
 * and its entry are committed together or not at all.
 */
#ifndef SIGIL_STORE_AUDIT_H
#define SIGIL_STORE_AUDIT_H

#include <stdint.h>

struct store;

enum audit_actor_kind {
	AUDIT_ACTOR_TOKEN = 1,	/* a brand API token: actor is its id */
	AUDIT_ACTOR_USER,	/* a dashboard user: actor is the user id */
	AUDIT_ACTOR_CLI,	/* the sigil CLI: actor is the Unix user */
	AUDIT_ACTOR_SYSTEM,	/* sigild itself */
	AUDIT_ACTOR_CUSTOMER,	/* a consumer (a merge): the customer id */
};

#define AUDIT_ACTOR_MAX		64
#define AUDIT_ACTION_MAX	48
#define AUDIT_TTYPE_MAX		24
#define AUDIT_TID_MAX		96
#define AUDIT_IP_MAX		48
#define AUDIT_DETAIL_MAX	2048	/* a JSON object's text */

struct audit_entry {
	uint32_t	brand_id;
	uint64_t	seq;		/* set by the store: 1, 2, ... global */
	int64_t		at;		/* µs since the epoch; 0: now */
	int		actor_kind;	/* enum audit_actor_kind */
	int		role;		/* enum token_role, 0 none (CLI) */
	int		outcome;	/* 0, or the SIGIL_E* of a change that
					   failed after part of it committed */
	char		actor[AUDIT_ACTOR_MAX];
	char		action[AUDIT_ACTION_MAX];	/* writer op's name */
	char		target_type[AUDIT_TTYPE_MAX];	/* "" unknown */
	char		target_id[AUDIT_TID_MAX];
	char		ip[AUDIT_IP_MAX];	/* "" for the CLI */
	char		detail[AUDIT_DETAIL_MAX];	/* "" or a JSON object */
};

/* The name of an actor kind ("token", "user", "cli", "system"), or "". */
const char *audit_actor_kind_name(int kind);
/* The kind of a name above, or 0. */
int audit_actor_kind_parse(const char *s);

/*
 * Appends e in a write transaction of its own; sets e->seq (and e->at
 * when 0). SIGIL_EINVAL for a bad entry (no brand, action, unknown
 * kind, a field not printable text), SIGIL_ENOTFOUND for an unknown
 * brand.
 */
int store_audit_add(struct store *st, struct audit_entry *e);

/*
 * Arms e for this thread: the next write transaction this thread
 * commits on st (through any store write function) carries e as well.
 * e is copied. store_audit_disarm() ends it: 1 and the entry as stored
 * (seq, at) in *out (may be NULL) when a transaction carried it, 0 when
 * none did. One entry armed per thread at a time.
 */
void store_audit_arm(struct store *st, const struct audit_entry *e);
int store_audit_disarm(struct store *st, struct audit_entry *out);

/*
 * Rewrites the stored entry e->seq of e->brand_id with e's fields: the
 * outcome of a change that failed after its first commit, the id a
 * create made. SIGIL_ENOTFOUND when there is no such entry.
 */
int store_audit_update(struct store *st, const struct audit_entry *e);

/*
 * Calls fn for brand_id's entries, newest first, starting below seq
 * before (0: from the newest), until fn returns nonzero (returned) or
 * the entries end (0). SIGIL_E* on a storage error.
 */
int store_audit_each(struct store *st, uint32_t brand_id, uint64_t before,
    int (*fn)(void *arg, const struct audit_entry *e), void *arg);

#endif
