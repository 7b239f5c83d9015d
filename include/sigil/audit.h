/*
 * audit.h - what an audit entry may say (src/domain/audit.c): the
 * deny-list that keeps secrets and personal data out of the trail, and
 * the helpers the writer ops' audit hooks fill an entry with.
 *
 * The trail (sigil/store/audit.h) holds who did what, never what a
 * secret or a person's data was: no password, token secret, PIN, key
 * material, session or CSRF token, phone, email, openid or address. A
 * hook's detail goes through audit_detail_set, which drops every member
 * whose key names such a thing (audit_key_denied) and every string that
 * looks like one (audit_value_denied), at any depth; the writer checks
 * the text once more (audit_detail_safe) before it arms the entry.
 */
#ifndef SIGIL_AUDIT_H
#define SIGIL_AUDIT_H

#include <stddef.h>

#include "sigil/store.h"

struct json_t;

/* 1 when a detail member named key must not be kept (any case). */
int audit_key_denied(const char *key);
/* 1 when a string value looks like a secret or personal data: a token
 * secret (sgt_...), a session id, a phone number, an email address. */
int audit_value_denied(const char *s);

/* Drops every denied member and value of o, at any depth; how many. */
size_t audit_detail_clean(struct json_t *o);
/*
 * Sets e->detail to o (stolen; NULL clears it) after cleaning it; when
 * too long, to {"truncated":true} with o's scalar members that fit.
 */
void audit_detail_set(struct audit_entry *e, struct json_t *o);
/* 1 when text is "" or a JSON object audit_detail_clean leaves whole. */
int audit_detail_safe(const char *text);

/* Sets the target: type and an id written with printf's fmt. */
void audit_target(struct audit_entry *e, const char *type, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));

/* Names the action more precisely than the op (campaign_create). */
void audit_action(struct audit_entry *e, const char *name);

/*
 * The changes from one JSON object to another (either may be NULL: a
 * create, a delete), member by member: {key: {"before": b, "after": a}}
 * for each member that differs, each value as it is when its text is at
 * most AUDIT_VALUE_MAX bytes, else {"changed": true}. _text parses.
 */
#define AUDIT_VALUE_MAX	160
struct json_t *audit_diff(struct json_t *before, struct json_t *after);
struct json_t *audit_diff_text(const char *before, const char *after);

/* "user:3", "token:5", "cli:alice": the actor as the trail shows it. */
void audit_actor_text(const struct audit_entry *e, char *out, size_t size);

#endif
