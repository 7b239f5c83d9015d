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
 * A handler: route_api.c calls accounts_api_route after authentication,
 * which routes within this file. May call token, user, session, role,
 * http_login.c (loginguard_*), store, http and http_api.c; never calls
 * another handler file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <jansson.h>
#include <openssl/crypto.h>

#include "sigil/accounts.h"
#include "sigil/api.h"
#include "sigil/app.h"
#include "sigil/http.h"
#include "sigil/log.h"
#include "sigil/loginguard.h"
#include "sigil/role.h"
#include "sigil/session.h"
#include "sigil/store.h"
#include "sigil/token.h"
#include "sigil/user.h"
#include "sigil/util.h"

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
 * limit, then a hashing thread runs pw_work); pw_done runs on the loop
 * thread, re-reads what the hash was for, writes the store and answers
 * the call, exactly once, whether or not the client is still there (a
 * reply to a closed connection is dropped by evhttp; the call is freed
 * either way). The job owns copies of everything it needs: the
 * accounts_call and its token live on the handler's stack.
 */
enum pw_kind { PW_CREATE, PW_CHANGE, PW_RESET };

struct pw_job {
	struct http_call	*c;
	struct store		*st;
	enum pw_kind		kind;
	uint32_t		brand_id, user_id;	/* target (not create) */
	char			by[32];			/* caller_text */
	char			*old, *pw;		/* passwords (copies) */
	size_t			oldlen, len;
	uint8_t			old_salt[16], old_hash[32];	/* change */
	uint8_t			keep[32];	/* change: the caller's session */
	int			have_keep;
	struct user		u;	/* create: the new user, salt set */
	uint8_t			salt[16], hash[32];	/* the new password */
	int			err, old_ok;
};

static void
pw_job_free(struct pw_job *j)
{
	if (j->old != NULL)
		OPENSSL_cleanse(j->old, j->oldlen);
	if (j->pw != NULL)
		OPENSSL_cleanse(j->pw, j->len);
	free(j->old);
	free(j->pw);
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
	j->st = a->app->store;
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

/*
 * The new salt and hash for u, and every session of
 * u ended but the one keep names (the caller's own, or NULL). 0 or an
 * error.
 */
static int
password_store(struct store *st, struct user *u, const struct pw_job *j)
{
	int rc;

	memcpy(u->salt, j->salt, sizeof u->salt);
	memcpy(u->hash, j->hash, sizeof u->hash);
	if ((rc = store_user_update(st, u)) != 0)
		return rc;
	return store_session_del_user(st, u->id, j->have_keep ? j->keep :
	    NULL);
}

static void
create_done(struct pw_job *j)
{
	char err[160];
	int rc = j->err;

	if (rc != 0)
		snprintf(err, sizeof err, "could not hash the password");
	else if ((rc = store_user_add(j->st, &j->u)) != 0)
		snprintf(err, sizeof err, "%s", rc == SIGIL_EEXIST ? "a user "
		    "with this email exists" : sigil_strerror(rc));
	if (rc != 0) {
		http_reply_error(j->c, rc == SIGIL_EEXIST ? 409 : rc ==
		    SIGIL_EINVAL ? 422 : 503, rc == SIGIL_EEXIST ? "exists" :
		    rc == SIGIL_EINVAL ? "invalid" : "unavailable", err);
		return;
	}
	log_info("user_new", "brand=%u user=%u role=%s by=%s", j->brand_id,
	    j->u.id, role_name(j->u.role), j->by);
	http_reply_jsont(j->c, 201, user_json(&j->u));
}

static void
change_done(struct pw_job *j)
{
	struct session s;
	struct user u;

	/* The user and the caller's session as they are now. */
	if (store_user_get(j->st, j->user_id, &u) != 0 || (j->have_keep &&
	    (store_session_get(j->st, j->keep, &s) != 0 ||
	    s.user_id != j->user_id))) {
		http_reply_error(j->c, 401, "unauthorized", "not logged in");
		goto out;
	}
	/* Checked against the hash of then: a change meanwhile fails it. */
	if (!j->old_ok || sigil_memeq_ct(u.hash, j->old_hash, 32) != 0) {
		log_info("password_change_failed", "brand=%u user=%u",
		    j->brand_id, u.id);
		http_reply_error(j->c, 403, "bad_credentials", "the old "
		    "password is wrong");
		goto out;
	}
	if (j->err != 0 || password_store(j->st, &u, j) != 0) {
		http_reply_error(j->c, 503, "unavailable", "storage error; try "
		    "again");
		goto out;
	}
	log_info("password_change", "brand=%u user=%u", j->brand_id, u.id);
	http_reply_jsont(j->c, 200, user_json(&u));
out:
	OPENSSL_cleanse(&u, sizeof u);
}

static void
reset_done(struct pw_job *j)
{
	struct user u;

	/* The user as it is now (removed meanwhile: 404, as before). */
	if (store_user_get(j->st, j->user_id, &u) != 0 ||
	    u.brand_id != j->brand_id) {
		http_reply_error(j->c, 404, "not_found", "no such user");
		goto out;
	}
	if (j->err != 0 || password_store(j->st, &u, j) != 0) {
		http_reply_error(j->c, 503, "unavailable", "storage error; try "
		    "again");
		goto out;
	}
	log_info("password_reset", "brand=%u user=%u by=%s", j->brand_id,
	    u.id, j->by);
	http_reply_jsont(j->c, 200, user_json(&u));
out:
	OPENSSL_cleanse(&u, sizeof u);
}

/* On the loop thread: the store, then the one answer. */
static void
pw_done(void *arg)
{
	struct pw_job *j = arg;

	switch (j->kind) {
	case PW_CREATE:
		create_done(j);
		break;
	case PW_CHANGE:
		change_done(j);
		break;
	case PW_RESET:
		reset_done(j);
		break;
	}
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

/* disable, enable, remove: u is the brand's. */
static void
users_change(struct api_call *a, struct user *u, const char *what)
{
	unsigned revoked = 0;
	char who[32];
	int rc, off = strcmp(what, "enable") != 0;

	if (off && u->id == caller_user(a)) {
		api_fail(a, 409, "own_account",
		    "you cannot disable or remove your "
		    "own account");
		return;
	}
	/* Tokens first: a crash in between leaves them revoked, never live. */
	if (off && (rc = token_revoke_user(a->app->store,
	    a->brand.id, u->id, &revoked)) != 0) {
		api_fail(a, 503, "unavailable", "storage error; try again");
		return;
	}
	if (strcmp(what, "remove") == 0)
		rc = store_user_del(a->app->store, u->id);
	else
		rc = store_user_set_disabled(a->app->store, u->id, off);
	if (rc != 0) {
		api_fail(a, rc == SIGIL_ENOTFOUND ? 404 : 503, rc ==
		    SIGIL_ENOTFOUND ? "not_found" : "unavailable", rc ==
		    SIGIL_ENOTFOUND ? "no such user" : "storage error; try "
		    "again");
		return;
	}
	log_info("user_change", "brand=%u user=%u action=%s tokens_revoked=%u "
	    "by=%s", a->brand.id, u->id, what, revoked,
	    caller_text(a, who, sizeof who));
	if (strcmp(what, "remove") == 0) {
		http_reply_jsont(a->c, 200, json_pack("{s:I,s:b,s:I}", "id",
		    (json_int_t)u->id, "removed", 1, "tokens_revoked",
		    (json_int_t)revoked));
		return;
	}
	u->disabled = off;
	{
		json_t *j = user_json(u);

		json_object_set_new(j, "tokens_revoked", json_integer(revoked));
		http_reply_jsont(a->c, 200, j);
	}
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

static void
tokens_create(struct api_call *a)
{
	static const char *const keys[] = { "role", "expires", NULL };
	char text[TOKEN_LEN + 1], who[32];
	int64_t expires = 0;
	struct token t;
	json_t *o, *e;
	int role, rc;

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
	if ((rc = token_new(a->app->store, a->brand.id, role, expires,
	    caller_user(a), text, &t)) != 0) {
		api_fail(a, 503, "unavailable",
		    "the token could not be stored");
		goto out;
	}
	log_info("token_new", "brand=%u id=%u role=%s expires=%lld by=%s",
	    a->brand.id, t.id, role_name(role), (long long)expires,
	    caller_text(a, who, sizeof who));
	{
		json_t *j = token_json(&t);

		json_object_set_new(j, "token", json_string(text));
		http_reply_jsont(a->c, 201, j);
	}
	OPENSSL_cleanse(text, sizeof text);
out:
	json_decref(o);
}

static void
tokens_route(struct api_call *a)
{
	static const char *const verbs[] = { "revoke", NULL };
	struct token t;
	uint32_t id;
	char who[32];
	int rc;

	if (collection(a, verbs, tokens_create, tokens_list, "tokens"))
		return;
	if (parse_id(a->seg[1], &id) != 0 ||
	    store_token_get(a->app->store, id, &t) != 0 ||
	    t.brand_id != a->brand.id) {
		api_fail(a, 404, "not_found", "no such token");
		return;
	}
	if (a->nseg == 2 && a->method == EVHTTP_REQ_GET) {
		http_reply_jsont(a->c, 200, token_json(&t));
		return;
	}
	if (!((a->nseg == 2 && a->method == EVHTTP_REQ_DELETE) ||
	    (a->nseg == 3 && a->method == EVHTTP_REQ_POST))) {
		api_fail(a, 405, "method_not_allowed", a->nseg == 2 ?
		    "GET or DELETE" : "POST");
		return;
	}
	if ((rc = store_token_revoke(a->app->store, id)) != 0) {
		api_fail(a, rc == SIGIL_ESTATE ? 409 : 503, rc == SIGIL_ESTATE ?
		    "revoked" : "unavailable", rc == SIGIL_ESTATE ?
		    "this token is already revoked" : "storage error; try "
		    "again");
		return;
	}
	log_info("token_revoke", "brand=%u id=%u by=%s", a->brand.id, id,
	    caller_text(a, who, sizeof who));
	store_token_get(a->app->store, id, &t);
	http_reply_jsont(a->c, 200, token_json(&t));
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
