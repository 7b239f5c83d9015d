/*
 * accounts.c - dashboard users and brand API tokens over the brand API.
 *
 * /api/v1/users and /api/v1/tokens, admin only except a user changing
 * their own password (users/me/password, from a dashboard session).
 * Everything is scoped to the caller's brand: another brand's user or
 * token is answered exactly like a missing one (404).
 *
 * Disabling or removing a user ends their sessions at once (session.c
 * reads the user again on every request) and revokes the tokens they
 * made from a dashboard session (tokens record their maker), so a
 * session cannot mint a token that outlives its user. Tokens may carry
 * an expiry; an expired one is refused like a revoked one (token.c).
 * Passwords are hashed off the loop, on http_login.c's threads. Nothing
 * here is ever logged with a secret: passwords and tokens are only
 * hashed.
 *
 * Never writes to the store on the loop: every write is a writer op
 * (user_add, password_change, password_reset, user_change, token_new,
 * token_revoke), answered after the commit. An op that depends on what
 * the loop read (the user a password was checked against, the caller's
 * session) reads it again itself, on the writer thread, where no other
 * write of sigild's can come in between.
 *
 * A handler: route_api.c calls accounts_api_route after authentication,
 * which routes within this file. May call token, user, session, role,
 * http_login.c (loginguard_*), store (reads), http, http_write and
 * http_api.c; never calls another handler file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <jansson.h>
#include <openssl/crypto.h>

#include "sigil/accounts.h"
#include "sigil/api.h"
#include "sigil/audit.h"
#include "sigil/app.h"
#include "sigil/http.h"
#include "sigil/http_write.h"
#include "sigil/log.h"
#include "sigil/loginguard.h"
#include "sigil/role.h"
#include "sigil/session.h"
#include "sigil/store.h"
#include "sigil/token.h"
#include "sigil/user.h"
#include "sigil/util.h"
#include "sigil/writer.h"

/* ---- helpers ---- */

/* The dashboard user behind the caller, or 0 for a bearer token. */
static uint32_t
caller_user(const struct api_call *a)
{
	return (a->tok.id & SESSION_TOKEN_BIT) ?
	    a->tok.id & ~SESSION_TOKEN_BIT : 0;
}

/* The caller's id as the logs show it: user:N or token:N. */
static const char *
caller_text(const struct api_call *a, char *buf, size_t size)
{
	if (caller_user(a) != 0)
		snprintf(buf, size, "user:%u", caller_user(a));
	else
		snprintf(buf, size, "token:%u", a->tok.id);
	return buf;
}

/* The JSON body object, or NULL after replying 400. */
static json_t *
body_object(struct api_call *a)
{
	size_t len;
	char *text = http_body_text(a->c, &len);
	json_t *o = NULL;

	if (text != NULL && sigil_json_values(text, len) <= 1000)
		o = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
	free(text);
	if (o == NULL || !json_is_object(o)) {
		json_decref(o);
		api_fail(a, 400, "bad_json",
		    "expected a JSON object (no duplicate "
		    "keys)");
		return NULL;
	}
	return o;
}

/* Only these keys: 1, or 0 after replying 422 naming the first other. */
static int
only_keys(struct api_call *a, json_t *o, const char *const *keys)
{
	const char *k;
	json_t *v;
	char msg[96];

	json_object_foreach(o, k, v) {
		size_t i;

		for (i = 0; keys[i] != NULL && strcmp(keys[i], k) != 0; i++)
			;
		if (keys[i] == NULL) {
			snprintf(msg, sizeof msg, "unknown field '%.40s'", k);
			api_fail(a, 422, "invalid", msg);
			return 0;
		}
	}
	return 1;
}

static int
parse_id(const char *s, uint32_t *out)
{
	uint64_t v;

	if (sigil_parse_u64(s, UINT32_MAX, &v) != 0 || v == 0 ||
	    (v & SESSION_TOKEN_BIT))
		return SIGIL_EINVAL;
	*out = (uint32_t)v;
	return 0;
}

static json_t *
time_or_null(int64_t t)
{
	char ts[SIGIL_TIME_LEN + 1];

	return t == 0 ? json_null() : json_string(sigil_time_format(t, ts));
}

/*
 * What /users and /tokens share: the path is known (at most three
 * segments, the third one of verbs), the caller is an admin, and the
 * collection itself lists (GET: list fills the array) or creates (POST).
 * 1 when the call was answered here, 0 when it names one member, seg[1].
 */
static int
collection(struct api_call *a, const char *const *verbs,
    void (*create)(struct api_call *),
    void (*list)(struct api_call *, json_t *), const char *name)
{
	json_t *arr;
	size_t i;

	for (i = 0; a->nseg == 3 && verbs[i] != NULL &&
	    strcmp(a->seg[2], verbs[i]) != 0; i++)
		;
	if (a->nseg > 3 || (a->nseg == 3 && verbs[i] == NULL)) {
		api_fail(a, 404, "not_found", "no such resource");
		return 1;
	}
	if (a->tok.role != ROLE_ADMIN) {
		api_fail(a, 403, "forbidden",
		    "this token's role may not do this");
		return 1;
	}
	if (a->nseg > 1)
		return 0;
	if (a->method == EVHTTP_REQ_POST)
		create(a);
	else if (a->method != EVHTTP_REQ_GET)
		api_fail(a, 405, "method_not_allowed", "GET or POST");
	else {
		arr = json_array();
		list(a, arr);
		http_reply_jsont(a->c, 200, json_pack("{s:o}", name, arr));
	}
	return 1;
}

/* ---- users ---- */

static json_t *
user_json(const struct user *u)
{
	return json_pack("{s:I,s:s,s:s,s:o,s:b}", "id", (json_int_t)u->id,
	    "email", u->email, "role", role_name(u->role), "created",
	    time_or_null(u->created), "disabled", u->disabled != 0);
}

static int
user_list_one(void *arg, const struct user *u)
{
	return api_list_add(arg, user_json(u));
}

static void
users_list(struct api_call *a, json_t *arr)
{
	store_user_each(a->app->store, a->brand.id, user_list_one, arr);
}

/* The brand's user with this id; 0, or -1 after replying 404. */
static int
user_of_brand(struct api_call *a, const char *id, struct user *u)
{
	uint32_t n;

	if (parse_id(id, &n) != 0 || store_user_get(a->app->store, n, u) != 0 ||
	    u->brand_id != a->brand.id) {
		api_fail(a, 404, "not_found", "no such user");
		return -1;
	}
	return 0;
}

/* The password field key of o: 0 with *pw and *len, or -1 after 422. */
static int
password_field(struct api_call *a, json_t *o, const char *key,
    const char **pw, size_t *len)
{
	json_t *v = json_object_get(o, key);
	char msg[160];

	if (!json_is_string(v) ||
	    json_string_length(v) < USER_PASSWORD_MIN ||
	    json_string_length(v) > USER_PASSWORD_MAX ||
	    memchr(json_string_value(v), '\0', json_string_length(v))) {
		snprintf(msg, sizeof msg, "'%s' must be a password of %d to %d "
		    "bytes of UTF-8", key, USER_PASSWORD_MIN,
		    USER_PASSWORD_MAX);
		api_fail(a, 422, "invalid", msg);
		return -1;
	}
	*pw = json_string_value(v);
	*len = json_string_length(v);
	return 0;
}

/*
 * Passwords are hashed off the loop (review F4): a handler checks the
 * request, then hands a pw_job to loginguard_password_hash (the caller's
 * limit, then a hashing thread runs pw_work); pw_done, on the loop,
 * drops the passwords and hands the job to the writer (http_write),
 * whose op re-reads what the hash was for and writes the store in one
 * go, so nothing can change in between; the reply answers the call,
 * exactly once, whether or not the client is still there (a reply to a
 * closed connection is dropped by evhttp; the call is freed either way).
 * The job owns copies of everything it needs: the api_call and its
 * token live on the handler's stack.
 */
enum pw_kind { PW_CREATE, PW_CHANGE, PW_RESET };

struct pw_job {
	struct http_call	*c;
	enum pw_kind		kind;
	uint32_t		brand_id, user_id;	/* target (not create) */
	char			by[32];			/* caller_text */
	char			*old, *pw;		/* passwords (copies) */
	size_t			oldlen, len;
	uint8_t			old_salt[16], old_hash[32];	/* change */
	uint8_t			keep[32];	/* change: the caller's session */
	int			have_keep;
	/* create: the new user, salt set; change, reset: the user now */
	struct user		u;
	uint8_t			salt[16], hash[32];	/* the new password */
	int			err, old_ok;
	int			refused;	/* by the op: 401, 403, 404 */
};

/* Wipes and frees the passwords; the hashes stay. */
static void
pw_job_drop_passwords(struct pw_job *j)
{
	if (j->old != NULL)
		OPENSSL_cleanse(j->old, j->oldlen);
	if (j->pw != NULL)
		OPENSSL_cleanse(j->pw, j->len);
	free(j->old);
	free(j->pw);
	j->old = j->pw = NULL;
}

static void
pw_job_free(struct pw_job *j)
{
	pw_job_drop_passwords(j);
	OPENSSL_cleanse(j, sizeof *j);
	free(j);
}

/* A job for c with a copy of the new password; NULL after replying 503. */
static struct pw_job *
pw_job_new(struct api_call *a, enum pw_kind kind, const char *pw,
    size_t len)
{
	struct pw_job *j = calloc(1, sizeof *j);

	if (j == NULL || (j->pw = malloc(len + 1)) == NULL) {
		free(j);
		api_fail(a, 503, "unavailable", "out of memory");
		return NULL;
	}
	memcpy(j->pw, pw, len);
	j->pw[len] = '\0';
	j->len = len;
	j->c = a->c;
	j->kind = kind;
	j->brand_id = a->brand.id;
	caller_text(a, j->by, sizeof j->by);
	if (kind != PW_CREATE && sigil_random(j->salt, sizeof j->salt) != 0)
		j->err = SIGIL_ECRYPTO;
	return j;
}

/* On a hashing thread: the hashes only (no store, no HTTP). */
static void
pw_work(void *arg)
{
	struct pw_job *j = arg;
	uint8_t h[32];

	if (j->kind == PW_CHANGE) {
		j->old_ok = user_password_hash(j->old, j->oldlen,
		    j->old_salt, h) == 0 && sigil_memeq_ct(h, j->old_hash,
		    32) == 0;
		OPENSSL_cleanse(h, sizeof h);
		OPENSSL_cleanse(j->old, j->oldlen);
		if (!j->old_ok)
			goto out;
	}
	if (j->err == 0)
		j->err = user_password_hash(j->pw, j->len, j->kind ==
		    PW_CREATE ? j->u.salt : j->salt, j->kind == PW_CREATE ?
		    j->u.hash : j->hash);
out:
	OPENSSL_cleanse(j->pw, j->len);
}

/* On the writer thread, from here to password_stored. */

static int
user_add_run(struct store *st, void *arg)
{
	struct pw_job *j = arg;

	return j->err != 0 ? j->err : store_user_add(st, &j->u);
}

/*
 * The new salt and hash for j->u, and every session of the user ended
 * but the one keep names (the caller's own, if any). 0 or an error.
 */
static int
password_store(struct store *st, struct pw_job *j)
{
	int rc;

	memcpy(j->u.salt, j->salt, sizeof j->u.salt);
	memcpy(j->u.hash, j->hash, sizeof j->u.hash);
	if ((rc = store_user_update(st, &j->u)) != 0)
		return rc;
	return store_session_del_user(st, j->u.id, j->have_keep ? j->keep :
	    NULL);
}

/* A change or a reset: the checks against the store as it is now. */
static int
password_run(struct store *st, void *arg)
{
	struct pw_job *j = arg;
	struct session s;

	if (j->kind == PW_RESET) {
		/* The user as it is now (removed meanwhile: 404, as before). */
		if (store_user_get(st, j->user_id, &j->u) != 0 ||
		    j->u.brand_id != j->brand_id)
			j->refused = 404;
	} else if (store_user_get(st, j->user_id, &j->u) != 0 ||
	    (j->have_keep && (store_session_get(st, j->keep, &s) != 0 ||
	    s.user_id != j->user_id)))
		/* The user and the caller's session as they are now. */
		j->refused = 401;
	else if (!j->old_ok || sigil_memeq_ct(j->u.hash, j->old_hash, 32) != 0)
		/* Against the hash of then: a change meanwhile fails. */
		j->refused = 403;
	if (j->refused != 0)
		return 0;
	return j->err != 0 ? j->err : password_store(st, j);
}

/*
 * The audit trail's entry of a user made or a password set: the user's
 * id and role, never the email (personal data) nor anything of the
 * password.
 */
static int
pw_audit(struct store *st, const void *arg, struct audit_entry *e,
    int after)
{
	const struct pw_job *j = arg;

	(void)st;
	if (!after) {
		if (j->kind != PW_CREATE)
			audit_target(e, "user", "%u", j->user_id);
		return 0;
	}
	if (j->kind != PW_CREATE)
		return 0;
	audit_target(e, "user", "%u", j->u.id);
	audit_detail_set(e, json_pack("{s:s}", "role", role_name(j->u.role)));
	return 1;
}

static const struct writer_op op_user_add = { "user_add", user_add_run,
    pw_audit };
static const struct writer_op op_change = { "password_change", password_run,
    pw_audit };
static const struct writer_op op_reset = { "password_reset", password_run,
    pw_audit };

/* On the loop thread again: the answer. */

static void
user_added(struct http_call *c, void *arg, int rc)
{
	struct pw_job *j = arg;

	if (rc != 0) {
		http_reply_error(c, rc == SIGIL_EEXIST ? 409 : rc ==
		    SIGIL_EINVAL ? 422 : 503, rc == SIGIL_EEXIST ? "exists" :
		    rc == SIGIL_EINVAL ? "invalid" : "unavailable",
		    j->err != 0 ? "could not hash the password" :
		    rc == SIGIL_EEXIST ? "a user with this email exists" :
		    sigil_strerror(rc));
		return;
	}
	log_info("user_new", "brand=%u user=%u role=%s by=%s", j->brand_id,
	    j->u.id, role_name(j->u.role), j->by);
	http_reply_jsont(c, 201, user_json(&j->u));
}

static void
password_stored(struct http_call *c, void *arg, int rc)
{
	struct pw_job *j = arg;

	switch (j->refused) {
	case 401:
		http_reply_error(c, 401, "unauthorized", "not logged in");
		return;
	case 403:
		log_info("password_change_failed", "brand=%u user=%u",
		    j->brand_id, j->user_id);
		http_reply_error(c, 403, "bad_credentials", "the old "
		    "password is wrong");
		return;
	case 404:
		http_reply_error(c, 404, "not_found", "no such user");
		return;
	}
	if (rc != 0) {
		http_reply_error(c, 503, "unavailable", "storage error; try "
		    "again");
		return;
	}
	if (j->kind == PW_CHANGE)
		log_info("password_change", "brand=%u user=%u", j->brand_id,
		    j->u.id);
	else
		log_info("password_reset", "brand=%u user=%u by=%s",
		    j->brand_id, j->u.id, j->by);
	http_reply_jsont(c, 200, user_json(&j->u));
}

/* On the loop thread, once hashed: the write goes to the writer. */
static void
pw_done(void *arg)
{
	struct pw_job *j = arg;

	pw_job_drop_passwords(j);
	if (j->kind == PW_CREATE)
		http_write(j->c, &op_user_add, j, sizeof *j, user_added);
	else
		http_write(j->c, j->kind == PW_CHANGE ? &op_change : &op_reset,
		    j, sizeof *j, password_stored);
	pw_job_free(j);
}

/* Queues j (the caller's limit first); on refusal c is answered. */
static void
pw_submit(struct pw_job *j)
{
	if (loginguard_password_hash(j->c, j->by, pw_work, pw_done, j) != 0)
		pw_job_free(j);
}

static void
users_create(struct api_call *a)
{
	static const char *const keys[] = { "email", "role", "password",
	    NULL };
	struct pw_job *j;
	json_t *o;
	struct user u;
	const char *pw;
	size_t len;
	char err[160];
	int role, rc;

	if ((o = body_object(a)) == NULL)
		return;
	if (!only_keys(a, o, keys) || password_field(a, o, "password", &pw,
	    &len) != 0)
		goto out;
	if ((role = role_parse(json_string_value(json_object_get(o,
	    "role")))) == 0) {
		api_fail(a, 422, "invalid", "'role' must be admin, operator or "
		    "analyst");
		goto out;
	}
	if (!json_is_string(json_object_get(o, "email"))) {
		api_fail(a, 422, "invalid", "'email' is required");
		goto out;
	}
	rc = user_prepare(a->brand.id, json_string_value(
	    json_object_get(o, "email")), role, pw, len, &u, err, sizeof err);
	if (rc != 0) {
		api_fail(a, rc == SIGIL_EINVAL ? 422 : 503, rc == SIGIL_EINVAL ?
		    "invalid" : "unavailable", err);
		goto out;
	}
	if ((j = pw_job_new(a, PW_CREATE, pw, len)) != NULL) {
		j->u = u;
		pw_submit(j);
	}
	OPENSSL_cleanse(&u, sizeof u);
out:
	json_decref(o);
}

/* POST users/me/password: the session's own user, old password needed. */
static void
users_me_password(struct api_call *a)
{
	static const char *const keys[] = { "old_password", "new_password",
	    NULL };
	struct pw_job *j;
	struct user u;
	const char *old, *pw;
	size_t olen, len;
	char cookie[SESSION_COOKIE_MAX];
	json_t *o;

	if (caller_user(a) == 0) {
		api_fail(a, 403, "forbidden",
		    "only a dashboard session has a user "
		    "whose password can change");
		return;
	}
	if ((o = body_object(a)) == NULL)
		return;
	if (!only_keys(a, o, keys) || password_field(a, o, "new_password",
	    &pw, &len) != 0)
		goto out;
	old = json_string_value(json_object_get(o, "old_password"));
	olen = json_string_length(json_object_get(o, "old_password"));
	if (old == NULL || olen > USER_PASSWORD_MAX) {
		api_fail(a, 422, "invalid", "'old_password' is required");
		goto out;
	}
	if (store_user_get(a->app->store, caller_user(a), &u) != 0) {
		api_fail(a, 401, "unauthorized", "not logged in");
		goto out;
	}
	if ((j = pw_job_new(a, PW_CHANGE, pw, len)) == NULL)
		goto out;
	if ((j->old = malloc(olen + 1)) == NULL) {
		pw_job_free(j);
		api_fail(a, 503, "unavailable", "out of memory");
		goto out;
	}
	memcpy(j->old, old, olen);
	j->old[olen] = '\0';
	j->oldlen = olen;
	j->user_id = u.id;
	memcpy(j->old_salt, u.salt, sizeof j->old_salt);
	memcpy(j->old_hash, u.hash, sizeof j->old_hash);
	/* The caller's session stays; the user's others end. */
	if (http_cookie(a->c, SESSION_COOKIE, cookie, sizeof cookie) == 0 &&
	    session_hash(cookie, j->keep) == 0)
		j->have_keep = 1;
	OPENSSL_cleanse(cookie, sizeof cookie);
	pw_submit(j);
out:
	OPENSSL_cleanse(&u, sizeof u);
	json_decref(o);
}

/* POST users/{id}/password: an admin sets another user's password. */
static void
users_reset_password(struct api_call *a, struct user *u)
{
	static const char *const keys[] = { "password", NULL };
	struct pw_job *j;
	const char *pw;
	size_t len;
	json_t *o;

	if (u->id == caller_user(a)) {
		api_fail(a, 409, "own_password",
		    "change your own password with "
		    "POST /api/v1/users/me/password (the old one is needed)");
		return;
	}
	if ((o = body_object(a)) == NULL)
		return;
	if (!only_keys(a, o, keys) || password_field(a, o, "password", &pw,
	    &len) != 0)
		goto out;
	if ((j = pw_job_new(a, PW_RESET, pw, len)) != NULL) {
		j->user_id = u->id;
		pw_submit(j);
	}
out:
	json_decref(o);
}

/* disable, enable or remove a user, one writer op. */
struct user_change_job {
	struct user	u;		/* the brand's user */
	uint32_t	brand_id;
	int		remove, off;
	int		tokens_failed;
	unsigned	revoked;
	char		what[8], by[32];
};

static int
change_run(struct store *st, void *arg)
{
	struct user_change_job *x = arg;
	int rc;

	/* Tokens first: a crash in between leaves them revoked, never live. */
	if (x->off && (rc = token_revoke_user(st, x->brand_id, x->u.id,
	    &x->revoked)) != 0) {
		x->tokens_failed = 1;
		return rc;
	}
	if (x->remove)
		return store_user_del(st, x->u.id);
	return store_user_set_disabled(st, x->u.id, x->off);
}

/* user_disable, user_enable or user_remove, with the state before. */
static int
change_audit(struct store *st, const void *arg, struct audit_entry *e,
    int after)
{
	const struct user_change_job *x = arg;
	struct user u;

	if (after) {
		if (!x->off)
			return 0;
		audit_detail_set(e, json_pack("{s:s,s:b,s:I}", "role",
		    role_name(x->u.role), "disabled_before", x->u.disabled,
		    "tokens_revoked", (json_int_t)x->revoked));
		return 1;
	}
	audit_action(e, x->remove ? "user_remove" : x->off ? "user_disable" :
	    "user_enable");
	audit_target(e, "user", "%u", x->u.id);
	if (store_user_get(st, x->u.id, &u) == 0)
		audit_detail_set(e, json_pack("{s:s,s:b}", "role",
		    role_name(u.role), "disabled_before", u.disabled));
	return 0;
}

static const struct writer_op op_user_change = { "user_change", change_run,
    change_audit };

static void
user_changed(struct http_call *c, void *arg, int rc)
{
	struct user_change_job *x = arg;
	int gone = rc == SIGIL_ENOTFOUND && !x->tokens_failed;
	json_t *o;

	if (rc != 0) {
		http_reply_error(c, gone ? 404 : 503, gone ? "not_found" :
		    "unavailable", gone ? "no such user" : "storage error; try "
		    "again");
		return;
	}
	log_info("user_change", "brand=%u user=%u action=%s tokens_revoked=%u "
	    "by=%s", x->brand_id, x->u.id, x->what, x->revoked, x->by);
	if (x->remove) {
		http_reply_jsont(c, 200, json_pack("{s:I,s:b,s:I}", "id",
		    (json_int_t)x->u.id, "removed", 1, "tokens_revoked",
		    (json_int_t)x->revoked));
		return;
	}
	x->u.disabled = x->off;
	o = user_json(&x->u);
	json_object_set_new(o, "tokens_revoked", json_integer(x->revoked));
	http_reply_jsont(c, 200, o);
}

/* disable, enable, remove: u is the brand's. */
static void
users_change(struct api_call *a, struct user *u, const char *what)
{
	struct user_change_job x = { .u = *u, .brand_id = a->brand.id };

	x.remove = strcmp(what, "remove") == 0;
	x.off = strcmp(what, "enable") != 0;
	if (x.off && u->id == caller_user(a)) {
		api_fail(a, 409, "own_account",
		    "you cannot disable or remove your "
		    "own account");
		OPENSSL_cleanse(&x, sizeof x);
		return;
	}
	snprintf(x.what, sizeof x.what, "%s", what);
	caller_text(a, x.by, sizeof x.by);
	http_write(a->c, &op_user_change, &x, sizeof x, user_changed);
	OPENSSL_cleanse(&x, sizeof x);
}

static void
users_route(struct api_call *a)
{
	static const char *const verbs[] = { "disable", "enable", "password",
	    NULL };
	struct user u;

	if (a->nseg == 3 && strcmp(a->seg[1], "me") == 0 &&
	    strcmp(a->seg[2], "password") == 0) {
		if (a->method != EVHTTP_REQ_POST)
			api_fail(a, 405, "method_not_allowed", "POST");
		else
			users_me_password(a);
		return;
	}
	if (collection(a, verbs, users_create, users_list, "users") ||
	    user_of_brand(a, a->seg[1], &u) != 0)
		return;
	if (a->nseg == 2) {
		if (a->method == EVHTTP_REQ_GET)
			http_reply_jsont(a->c, 200, user_json(&u));
		else if (a->method == EVHTTP_REQ_DELETE)
			users_change(a, &u, "remove");
		else
			api_fail(a, 405, "method_not_allowed", "GET or DELETE");
	} else if (a->method != EVHTTP_REQ_POST)
		api_fail(a, 405, "method_not_allowed", "POST");
	else if (strcmp(a->seg[2], "password") == 0)
		users_reset_password(a, &u);
	else
		users_change(a, &u, a->seg[2]);
	OPENSSL_cleanse(&u, sizeof u);
}

/* ---- tokens ---- */

static json_t *
token_json(const struct token *t)
{
	return json_pack("{s:I,s:s,s:o,s:o,s:o,s:o,s:b}", "id",
	    (json_int_t)t->id, "role", role_name(t->role), "created",
	    time_or_null(t->created), "expires", time_or_null(t->expires),
	    "revoked", time_or_null(t->revoked), "created_by", t->user_id ?
	    json_integer(t->user_id) : json_null(), "active", t->revoked == 0 &&
	    (t->expires == 0 || t->expires > sigil_now_us()));
}

static int
token_list_one(void *arg, const struct token *t)
{
	return api_list_add(arg, token_json(t));
}

static void
tokens_list(struct api_call *a, json_t *arr)
{
	store_token_each(a->app->store, a->brand.id, token_list_one, arr);
}

/* A token to make: its text, shown once, comes back in text. */
struct token_new_job {
	uint32_t	brand_id, user_id;
	int		role;
	int64_t		expires;
	char		text[TOKEN_LEN + 1], by[32];
	struct token	t;
};

static int
token_new_run(struct store *st, void *arg)
{
	struct token_new_job *x = arg;

	return token_new(st, x->brand_id, x->role, x->expires, x->user_id,
	    x->text, &x->t);
}

/* The token's id, role and expiry: never its text. */
static int
token_new_audit(struct store *st, const void *arg, struct audit_entry *e,
    int after)
{
	const struct token_new_job *x = arg;
	char t[SIGIL_TIME_LEN + 1];

	(void)st;
	if (!after)
		return 0;
	audit_target(e, "token", "%u", x->t.id);
	audit_detail_set(e, json_pack("{s:s,s:s?}", "role",
	    role_name(x->role), "expires", x->expires != 0 ?
	    sigil_time_format(x->expires, t) : NULL));
	return 1;
}

static const struct writer_op op_token_new = { "token_new", token_new_run,
    token_new_audit };

static void
token_made(struct http_call *c, void *arg, int rc)
{
	struct token_new_job *x = arg;
	json_t *o;

	if (rc != 0) {
		http_reply_error(c, 503, "unavailable",
		    "the token could not be stored");
		return;
	}
	log_info("token_new", "brand=%u id=%u role=%s expires=%lld by=%s",
	    x->brand_id, x->t.id, role_name(x->role), (long long)x->expires,
	    x->by);
	o = token_json(&x->t);
	json_object_set_new(o, "token", json_string(x->text));
	http_reply_jsont(c, 201, o);
}

static void
tokens_create(struct api_call *a)
{
	static const char *const keys[] = { "role", "expires", NULL };
	struct token_new_job x = { .brand_id = a->brand.id };
	int64_t expires = 0;
	json_t *o, *e;
	int role;

	if ((o = body_object(a)) == NULL)
		return;
	if (!only_keys(a, o, keys))
		goto out;
	if ((role = role_parse(json_string_value(json_object_get(o,
	    "role")))) == 0) {
		api_fail(a, 422, "invalid", "role must be admin, operator or "
		    "analyst");
		goto out;
	}
	e = json_object_get(o, "expires");
	if (e != NULL && !json_is_null(e) && ((!json_is_integer(e) &&
	    !json_is_string(e)) || token_expiry_parse(json_string_value(e),
	    json_is_integer(e) ? json_integer_value(e) : 0, json_is_string(e),
	    sigil_now_us(), &expires) != 0)) {
		api_fail(a, 422, "invalid",
		    "'expires' must be seconds from now (1 "
		    "to 10 years) or a future date (YYYY-MM-DD, the end of "
		    "that day in China time, or ISO-8601 UTC)");
		goto out;
	}
	x.role = role;
	x.expires = expires;
	x.user_id = caller_user(a);
	caller_text(a, x.by, sizeof x.by);
	http_write(a->c, &op_token_new, &x, sizeof x, token_made);
out:
	json_decref(o);
}

/* A token to revoke; t is the token as it is after. */
struct token_revoke_job {
	uint32_t	brand_id, id;
	struct token	t;
	char		by[32];
};

static int
revoke_run(struct store *st, void *arg)
{
	struct token_revoke_job *x = arg;
	int rc;

	if ((rc = store_token_revoke(st, x->id)) != 0)
		return rc;
	store_token_get(st, x->id, &x->t);
	return 0;
}

static int
revoke_audit(struct store *st, const void *arg, struct audit_entry *e,
    int after)
{
	const struct token_revoke_job *x = arg;
	struct token t;

	if (after)
		return 0;
	audit_target(e, "token", "%u", x->id);
	if (store_token_get(st, x->id, &t) == 0)
		audit_detail_set(e, json_pack("{s:s,s:b}", "role",
		    role_name(t.role), "made_by_user", t.user_id != 0));
	return 0;
}

static const struct writer_op op_token_revoke = { "token_revoke", revoke_run,
    revoke_audit };

static void
token_revoked(struct http_call *c, void *arg, int rc)
{
	struct token_revoke_job *x = arg;

	if (rc != 0) {
		http_reply_error(c, rc == SIGIL_ESTATE ? 409 : 503, rc ==
		    SIGIL_ESTATE ? "revoked" : "unavailable", rc ==
		    SIGIL_ESTATE ? "this token is already revoked" : "storage "
		    "error; try again");
		return;
	}
	log_info("token_revoke", "brand=%u id=%u by=%s", x->brand_id, x->id,
	    x->by);
	http_reply_jsont(c, 200, token_json(&x->t));
}

static void
tokens_route(struct api_call *a)
{
	static const char *const verbs[] = { "revoke", NULL };
	struct token_revoke_job x = { .brand_id = a->brand.id };

	if (collection(a, verbs, tokens_create, tokens_list, "tokens"))
		return;
	if (parse_id(a->seg[1], &x.id) != 0 ||
	    store_token_get(a->app->store, x.id, &x.t) != 0 ||
	    x.t.brand_id != a->brand.id) {
		api_fail(a, 404, "not_found", "no such token");
		return;
	}
	if (a->nseg == 2 && a->method == EVHTTP_REQ_GET) {
		http_reply_jsont(a->c, 200, token_json(&x.t));
		return;
	}
	if (!((a->nseg == 2 && a->method == EVHTTP_REQ_DELETE) ||
	    (a->nseg == 3 && a->method == EVHTTP_REQ_POST))) {
		api_fail(a, 405, "method_not_allowed", a->nseg == 2 ?
		    "GET or DELETE" : "POST");
		return;
	}
	caller_text(a, x.by, sizeof x.by);
	http_write(a->c, &op_token_revoke, &x, sizeof x, token_revoked);
}

int
accounts_api_route(struct api_call *a)
{
	if (a->nseg < 1)
		return 0;
	if (strcmp(a->seg[0], "users") == 0)
		users_route(a);
	else if (strcmp(a->seg[0], "tokens") == 0)
		tokens_route(a);
	else
		return 0;
	return 1;
}
