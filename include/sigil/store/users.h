/*
 * sigil/store/users.h - the storage of dashboard users and their
 * sessions (src/store/store_users.c).
 *
 * A part of sigil/store.h, which includes it after the limits and the
 * types it uses: include sigil/store.h, not this.
 */
#ifndef SIGIL_STORE_USERS_H
#define SIGIL_STORE_USERS_H

#ifndef SIGIL_STORE_H
#error "include sigil/store.h"
#endif

/* ---- dashboard users and sessions ---- */
struct user {
	uint32_t	id;		/* global */
	uint32_t	brand_id;
	char		email[STORE_NAME_MAX * 2 + 1];	/* lower-cased */
	int		role;		/* enum token_role */
	uint8_t		salt[16];
	uint8_t		hash[32];	/* scrypt or PBKDF2 */
	int64_t		created;
	int		disabled;	/* no login, sessions refused */
};
int store_user_add(struct store *st, struct user *u);	/* email unique */
/*
 * Removes the user and frees the email; sets or clears disabled (the only
 * way it changes: store_user_update keeps it). ENOTFOUND. Disabling and
 * removing delete the user's sessions in the same transaction. A
 * disabled user is found by store_user_get only, never by
 * store_user_find (login).
 */
int store_user_del(struct store *st, uint32_t id);
int store_user_set_disabled(struct store *st, uint32_t id, int disabled);
int store_user_find(struct store *st, const char *email, struct user *out);
int store_user_update(struct store *st, const struct user *u);
/*
 * Added: the user a session names, and a brand's users in id order.
 * store_user_add sets u->id, u->created and lower-cases u->email (ASCII);
 * EINVAL for an email without '@', with spaces or controls, or a role
 * outside enum token_role; ENOTFOUND for an unknown brand; EEXIST for an
 * email in use (store_user_update too, when it changes the email).
 */
int store_user_get(struct store *st, uint32_t id, struct user *out);
int store_user_each(struct store *st, uint32_t brand_id,
    int (*fn)(void *arg, const struct user *u), void *arg);

struct session {
	uint8_t		id_hash[32];	/* SHA-256 of the cookie value */
	uint32_t	user_id;
	uint8_t		csrf[32];
	int64_t		created, expires;
};
int store_session_put(struct store *st, const struct session *s);
int store_session_get(struct store *st, const uint8_t id_hash[32],
    struct session *out);
int store_session_del(struct store *st, const uint8_t id_hash[32]);
/* Deletes every session of user_id but keep's (may be NULL). */
int store_session_del_user(struct store *st, uint32_t user_id,
    const uint8_t keep[32]);
/*
 * Sessions expire lazily: get treats an expired one as ENOTFOUND (using
 * the wall clock). Added: store_session_purge deletes every session with
 * expires <= now; *removed (may be NULL) says how many.
 */
int store_session_purge(struct store *st, int64_t now, uint64_t *removed);

#endif
