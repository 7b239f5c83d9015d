/*
 * audit.c - what an audit entry may say: the deny-list, and the helpers
 * the writer ops' audit hooks use to fill an entry (target, detail).
 *
 * The trail keeps who did what to which object, and small before/after
 * values (a campaign's state, a user's role): never a secret, and no
 * personal data beyond the actor's id. Two checks, both applied to
 * every detail at any depth:
 *
 *   - a member whose key names a secret or personal data is dropped:
 *     the key is cut into words at every non-alphanumeric byte and
 *     compared word by word (case-insensitive) with DENY_WORDS, so
 *     "new_password", "Phone", "token-secret" and "pin" are caught
 *     while "shipping" or "keyword" are not ("key" as a word is, but
 *     the ids key_id and keys are kept);
 *   - a string value that looks like one is dropped wherever it is: a
 *     token secret (sgt_...), a phone number (E.164, or 11 digits of a
 *     Chinese mobile with or without +86), an email address.
 *
 * May call: jansson, libc, the store's types. Calls no other module.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sigil/audit.h"
#include "sigil/store.h"

static const char *const DENY_WORDS[] = {
	"password", "passwd", "pwd", "passphrase", "secret", "hash", "salt",
	"hmac", "seed", "private", "key", "otp", "pin", "pins", "cookie",
	"session", "csrf", "phone", "mobile", "tel", "email", "mail",
	"openid", "unionid", "address", "addr", "recipient", "contact",
	"idcard", "credential", "credentials", "authorization", "bearer",
};

/* Words kept although a word of theirs is denied: ids, not material. */
static const char *const ALLOW_KEYS[] = { "key_id", "keys", "kid" };

static int
word_denied(const char *w, size_t n)
{
	for (size_t i = 0; i < sizeof DENY_WORDS / sizeof DENY_WORDS[0]; i++)
		if (strlen(DENY_WORDS[i]) == n &&
		    strncasecmp(DENY_WORDS[i], w, n) == 0)
			return 1;
	return 0;
}

int
audit_key_denied(const char *key)
{
	const char *p = key, *w;

	for (size_t i = 0; i < sizeof ALLOW_KEYS / sizeof ALLOW_KEYS[0]; i++)
		if (strcasecmp(key, ALLOW_KEYS[i]) == 0)
			return 0;
	while (*p != '\0') {
		while (*p != '\0' && !isalnum((unsigned char)*p))
			p++;
		w = p;
		while (isalnum((unsigned char)*p))
			p++;
		if (p > w && word_denied(w, (size_t)(p - w)))
			return 1;
	}
	return 0;
}

/* Digits of s with spaces, dashes and brackets skipped: how many, or
 * -1 at any other byte. A leading '+' sets *plus. */
static int
phone_digits(const char *s, char *out, size_t size, int *plus)
{
	size_t n = 0;

	*plus = 0;
	if (*s == '+') {
		*plus = 1;
		s++;
	}
	for (; *s != '\0'; s++) {
		if (*s == ' ' || *s == '-' || *s == '(' || *s == ')')
			continue;
		if (!isdigit((unsigned char)*s) || n + 1 >= size)
			return -1;
		out[n++] = *s;
	}
	out[n] = '\0';
	return (int)n;
}

int
audit_value_denied(const char *s)
{
	char d[24];
	const char *at, *dot;
	int plus, n;

	if (strncmp(s, "sgt_", 4) == 0 || strncmp(s, "sgs_", 4) == 0)
		return 1;
	if ((n = phone_digits(s, d, sizeof d, &plus)) > 0) {
		if (plus && n >= 8 && n <= 15)
			return 1;
		if (n == 11 && d[0] == '1' && d[1] >= '3')
			return 1;
		if (n == 13 && strncmp(d, "86", 2) == 0 && d[2] == '1')
			return 1;
	}
	if ((at = strchr(s, '@')) != NULL && at > s &&
	    (dot = strchr(at, '.')) != NULL && dot > at + 1 && dot[1] != '\0' &&
	    strchr(s, ' ') == NULL)
		return 1;
	return 0;
}

static int
value_denied(json_t *v)
{
	return json_is_string(v) && audit_value_denied(json_string_value(v));
}

size_t
audit_detail_clean(json_t *o)
{
	size_t n = 0, i;
	const char *key;
	json_t *v;
	void *tmp;

	if (json_is_object(o)) {
		json_object_foreach_safe(o, tmp, key, v) {
			if (audit_key_denied(key) || value_denied(v)) {
				json_object_del(o, key);
				n++;
			} else
				n += audit_detail_clean(v);
		}
	} else if (json_is_array(o)) {
		for (i = 0; i < json_array_size(o);) {
			v = json_array_get(o, i);
			if (value_denied(v)) {
				json_array_remove(o, i);
				n++;
				continue;
			}
			n += audit_detail_clean(v);
			i++;
		}
	}
	return n;
}

void
audit_detail_set(struct audit_entry *e, json_t *o)
{
	char *text;
	const char *key;
	json_t *small, *v;

	e->detail[0] = '\0';
	if (o == NULL)
		return;
	if (!json_is_object(o)) {
		json_decref(o);
		return;
	}
	audit_detail_clean(o);
	if (json_object_size(o) == 0) {
		json_decref(o);
		return;
	}
	text = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
	if (text != NULL && strlen(text) < sizeof e->detail) {
		strcpy(e->detail, text);
		free(text);
		json_decref(o);
		return;
	}
	free(text);
	/* Too long: keep the short scalars, and say so. */
	small = json_pack("{s:b}", "truncated", 1);
	json_object_foreach(o, key, v) {
		if (json_is_object(v) || json_is_array(v) ||
		    (json_is_string(v) && strlen(json_string_value(v)) > 64))
			continue;
		json_object_set(small, key, v);
		text = json_dumps(small, JSON_COMPACT | JSON_ENSURE_ASCII);
		if (text == NULL || strlen(text) >= sizeof e->detail) {
			json_object_del(small, key);
			free(text);
			break;
		}
		free(text);
	}
	text = json_dumps(small, JSON_COMPACT | JSON_ENSURE_ASCII);
	if (text != NULL && strlen(text) < sizeof e->detail)
		strcpy(e->detail, text);
	free(text);
	json_decref(small);
	json_decref(o);
}

int
audit_detail_safe(const char *text)
{
	json_t *o;
	int ok;

	if (text[0] == '\0')
		return 1;
	if ((o = json_loads(text, JSON_REJECT_DUPLICATES, NULL)) == NULL)
		return 0;
	ok = json_is_object(o) && audit_detail_clean(o) == 0;
	json_decref(o);
	return ok;
}

void
audit_target(struct audit_entry *e, const char *type, const char *fmt, ...)
{
	va_list ap;

	snprintf(e->target_type, sizeof e->target_type, "%s", type);
	va_start(ap, fmt);
	vsnprintf(e->target_id, sizeof e->target_id, fmt, ap);
	va_end(ap);
}

void
audit_actor_text(const struct audit_entry *e, char *out, size_t size)
{
	snprintf(out, size, "%s:%s", audit_actor_kind_name(e->actor_kind),
	    e->actor);
}

void
audit_action(struct audit_entry *e, const char *name)
{
	snprintf(e->action, sizeof e->action, "%s", name);
}

/* v itself when its compact text is short, else {"changed": true}. */
static json_t *
small_or_marker(json_t *v)
{
	char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	size_t n = text != NULL ? strlen(text) : SIZE_MAX;

	free(text);
	if (n <= AUDIT_VALUE_MAX)
		return json_incref(v);
	return json_pack("{s:b}", "changed", 1);
}

json_t *
audit_diff(json_t *before, json_t *after)
{
	json_t *out = json_object(), *b, *a, *d;
	const char *key;

	if (!json_is_object(before))
		before = NULL;
	if (!json_is_object(after))
		after = NULL;
	if (after != NULL)
		json_object_foreach(after, key, a) {
			b = before != NULL ? json_object_get(before, key) :
			    NULL;
			if (b != NULL && json_equal(a, b))
				continue;
			d = json_object();
			if (b != NULL)
				json_object_set_new(d, "before",
				    small_or_marker(b));
			json_object_set_new(d, "after", small_or_marker(a));
			json_object_set_new(out, key, d);
		}
	if (before != NULL)
		json_object_foreach(before, key, b) {
			if (after != NULL && json_object_get(after, key))
				continue;
			json_object_set_new(out, key, json_pack("{s:o}",
			    "before", small_or_marker(b)));
		}
	return out;
}

json_t *
audit_diff_text(const char *before, const char *after)
{
	json_t *b = before != NULL ? json_loads(before, 0, NULL) : NULL;
	json_t *a = after != NULL ? json_loads(after, 0, NULL) : NULL;
	json_t *d = audit_diff(b, a);

	json_decref(b);
	json_decref(a);
	return d;
}
