/*
 * dashboard.c - the brand dashboard at /admin: its static files, and
 * signing in and out (POST /admin/login, /admin/logout, GET /admin/me).
 *
 * The pages (web/admin/) are a small single-page application that talks
 * to the very same brand API as a brand's own systems (/api/v1/...): a
 * person is authenticated there by session instead of bearer token, and
 * then holds exactly the rights of a token of their brand and role, so
 * the dashboard can never do what the API would refuse. Its charts come
 * from /api/v1/stats/ (api_stats.c over stats.c).
 *
 * Static files: only names of the form [a-z0-9-]+.(html|js|css|svg) in
 * the directory web/admin/, and [a-z0-9-]+.(js|json) in its one fixed
 * subdirectory web/admin/vendor/ (ECharts and the map data that
 * scripts/vendor.sh fetches), are served: no other slash, so no
 * traversal and no other directory. The vendor directory and the file
 * are opened with O_NOFOLLOW (a symlink is refused), only regular files
 * of at most STATIC_MAX bytes, with a content type fixed by the extension
 * and a Content-Security-Policy of default-src 'self': nothing inline,
 * nothing from elsewhere. A client that accepts gzip gets NAME.gz (made
 * by vendor.sh) when there is one, with Content-Encoding: gzip. Every
 * file carries an ETag of its size and modification time, and
 * If-None-Match answers 304.
 *
 * Login is guarded by the limits of http_login.c (per client, per account
 * and client, per account unless the client signed in before, global);
 * the password is hashed (user.c) on http_login.c's threads, and a good
 * one opens a session (session.c: what it is, how it is checked), whose
 * cookie this file sets as HttpOnly and SameSite=Strict.
 *
 * Never writes to the store on the loop: every write is a writer op
 * (session_open at login, session_end at logout, which also drop the
 * expired sessions), answered after the commit; checking a session
 * only reads.
 *
 * A handler: route.c names dashboard_handle. May call session, user,
 * role, http_login.c (loginguard_*), store (reads), http, http_write and
 * log; never calls another handler file, and never renders data into
 * HTML (the pages build the DOM from JSON with textContent).
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <jansson.h>
#include <openssl/crypto.h>

#include "sigil/app.h"
#include "sigil/dashboard.h"
#include "sigil/http.h"
#include "sigil/http_write.h"
#include "sigil/log.h"
#include "sigil/loginguard.h"
#include "sigil/role.h"
#include "sigil/session.h"
#include "sigil/store.h"
#include "sigil/user.h"
#include "sigil/util.h"
#include "sigil/writer.h"

#define STATIC_MAX		(4 * 1024 * 1024)
#define VENDOR_DIR		"vendor/"

static char admin_dir[PATH_MAX];

/* ---- static files ---- */

int
dashboard_init(const char *web_dir)
{
	char path[PATH_MAX];
	struct stat sb;

	if (snprintf(path, sizeof path, "%s/admin", web_dir) >=
	    (int)sizeof path)
		return SIGIL_EINVAL;
	if (realpath(path, admin_dir) == NULL || stat(admin_dir, &sb) != 0 ||
	    !S_ISDIR(sb.st_mode)) {
		admin_dir[0] = '\0';
		return SIGIL_ENOTFOUND;
	}
	return 0;
}

/*
 * The content type of a servable name, or NULL: [a-z0-9-]{1,64} and one
 * of the extensions; .json only in vendor/ (vendor set), and there only
 * .js and .json.
 */
static const char *
static_type(const char *name, int vendor)
{
	static const struct {
		const char	*ext, *type;
		int		 where;	/* 1: admin/, 2: vendor/, 3: both */
	} types[] = {
		{ ".html", "text/html; charset=utf-8", 1 },
		{ ".js", "text/javascript; charset=utf-8", 3 },
		{ ".css", "text/css; charset=utf-8", 1 },
		{ ".svg", "image/svg+xml", 1 },
		{ ".json", "application/json", 2 },
	};
	size_t n = strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-");
	const char *ext = name + n;

	if (n == 0 || n > 64)
		return NULL;
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		if (strcmp(ext, types[i].ext) == 0 &&
		    (types[i].where & (vendor ? 2 : 1)))
			return types[i].type;
	return NULL;
}

/*
 * Whether Accept-Encoding accepts gzip: a "gzip" (or "x-gzip") or "*"
 * coding whose q is not zero (RFC 9110 12.5.3). Anything unparsable
 * counts as no.
 */
int
dashboard_accepts_gzip(const char *h)
{
	int gzip = -1, star = -1;

	while (h != NULL && *h != '\0') {
		size_t len, tok;
		const char *end = strchr(h, ',');
		const char *q;
		int zero = 0;

		h += strspn(h, " \t");
		len = end ? (size_t)(end - h) : strlen(h);
		tok = strcspn(h, " \t;,");
		if (tok > len)
			tok = len;
		q = memchr(h, ';', len);
		if (q != NULL) {
			const char *v = q + 1;

			v += strspn(v, " \t");
			if ((v[0] == 'q' || v[0] == 'Q') && v[1] == '=') {
				v += 2;
				/* 0, 0., 0.0, 0.00, 0.000: zero; else not */
				if (v[0] == '0') {
					zero = 1;
					for (v++, v += *v == '.'; *v >= '0' &&
					    *v <= '9'; v++)
						if (*v != '0')
							zero = 0;
				}
			}
		}
		if ((tok == 4 && strncasecmp(h, "gzip", 4) == 0) ||
		    (tok == 6 && strncasecmp(h, "x-gzip", 6) == 0))
			gzip = !zero;
		else if (tok == 1 && h[0] == '*')
			star = !zero;
		h = end ? end + 1 : NULL;
	}
	return gzip >= 0 ? gzip : star > 0;
}

static void
security_headers(struct http_call *c)
{
	http_add_header(c, "Content-Security-Policy", "default-src 'self'; "
	    "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; "
	    "form-action 'self'");
	http_add_header(c, "X-Frame-Options", "DENY");
}

/*
 * Opens NAME in the directory dfd: a regular file, no symlink, at most
 * STATIC_MAX bytes. -1 when it is not there or not servable.
 */
static int
open_static(int dfd, const char *name, struct stat *sb)
{
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (fstat(fd, sb) != 0 || !S_ISREG(sb->st_mode) ||
	    sb->st_size > STATIC_MAX) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
serve_static(struct http_call *c, const char *name)
{
	char gz[80], etag[64];
	const char *type, *inm;
	struct evbuffer *b = NULL;
	struct stat sb;
	int vendor = strncmp(name, VENDOR_DIR, strlen(VENDOR_DIR)) == 0;
	int dfd = -1, fd = -1, zipped = 0;

	if (vendor)
		name += strlen(VENDOR_DIR);
	type = static_type(name, vendor);
	if (type == NULL || admin_dir[0] == '\0' ||
	    (dfd = open(admin_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		http_reply_error(c, 404, "not_found", "no such file");
		return;
	}
	if (vendor) {
		int vfd = openat(dfd, "vendor", O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC);

		close(dfd);
		dfd = vfd;
	}
	if (dfd >= 0 && dashboard_accepts_gzip(http_header(c,
	    "Accept-Encoding"))) {
		snprintf(gz, sizeof gz, "%s.gz", name);	/* name <= 69 */
		if ((fd = open_static(dfd, gz, &sb)) >= 0)
			zipped = 1;
	}
	if (dfd >= 0 && fd < 0)
		fd = open_static(dfd, name, &sb);
	if (dfd >= 0)
		close(dfd);
	if (fd < 0) {
		http_reply_error(c, 404, "not_found", "no such file");
		return;
	}
	security_headers(c);
	/* The files change with each release: revalidate every time. */
	http_add_header(c, "Cache-Control", "no-cache");
	http_add_header(c, "Vary", "Accept-Encoding");
	snprintf(etag, sizeof etag, "\"%llx-%llx%s\"",
	    (unsigned long long)sb.st_size,
	    (unsigned long long)sb.st_mtim.tv_sec * 1000 +
	    (unsigned long long)sb.st_mtim.tv_nsec / 1000000,
	    zipped ? "-gz" : "");
	http_add_header(c, "ETag", etag);
	if ((inm = http_header(c, "If-None-Match")) != NULL &&
	    strstr(inm, etag) != NULL) {
		close(fd);
		http_reply(c, 304, NULL, NULL);
		return;
	}
	if ((b = evbuffer_new()) == NULL || (sb.st_size > 0 &&
	    evbuffer_add_file(b, fd, 0, sb.st_size) != 0)) {
		/* evbuffer_add_file closes fd even when it fails. */
		if (b == NULL)
			close(fd);
		else
			evbuffer_free(b);
		http_reply_error(c, 503, "unavailable", "cannot read the file");
		return;
	}
	if (sb.st_size == 0)
		close(fd);
	if (zipped)
		http_add_header(c, "Content-Encoding", "gzip");
	http_reply(c, 200, type, b);
	evbuffer_free(b);
}

/* ---- sessions ---- */

/* session_load of the call's session cookie (session.h). */
static int
call_session(struct http_call *c, struct app *app, uint8_t hash[32],
    struct session *s, struct user *u)
{
	char v[SESSION_COOKIE_MAX];

	return session_load(app->store, http_cookie(c, SESSION_COOKIE, v,
	    sizeof v) == 0 ? v : NULL, hash, s, u);
}

static void
session_cookie_set(struct http_call *c, struct app *app, const char *value,
    int max_age)
{
	char h[200];

	snprintf(h, sizeof h, SESSION_COOKIE "=%s; Path=/; Max-Age=%d; "
	    "HttpOnly; SameSite=Strict%s", value, max_age,
	    app->secure_cookies ? "; Secure" : "");
	http_add_header(c, "Set-Cookie", h);
}

static json_t *
me_json(struct app *app, const struct user *u, const struct session *s)
{
	char csrf[65], t[SIGIL_TIME_LEN + 1];
	struct brand b = { 0 };

	store_brand_get(app->store, u->brand_id, &b);
	sigil_hex_encode(s->csrf, 32, csrf);
	return json_pack("{s:{s:s,s:s},s:{s:i,s:s,s:s},s:s,s:s}", "user",
	    "email", u->email, "role", role_name(u->role), "brand", "id",
	    (int)b.id, "name", b.name, "base_url", b.base_url, "csrf", csrf,
	    "expires",
	    sigil_time_format(s->expires, t));
}

/* A JSON body of at most HTTP_CONSUMER_BODY_MAX, or NULL after replying. */
static json_t *
json_body(struct http_call *c)
{
	const char *ct = http_header(c, "Content-Type");
	json_error_t jerr;
	json_t *o = NULL;
	size_t len;
	char *text;

	/* A cross-site HTML form cannot send application/json. */
	if (ct == NULL || strncasecmp(ct, "application/json", 16) != 0) {
		http_reply_error(c, 415, "unsupported_media_type",
		    "send application/json");
		return NULL;
	}
	if (http_body_too_large(c)) {
		http_reply_error(c, 413, "too_large", "request body too large");
		return NULL;
	}
	if ((text = http_body_text(c, &len)) != NULL) {
		o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
		OPENSSL_cleanse(text, len);
		free(text);
	}
	if (o == NULL || !json_is_object(o)) {
		json_decref(o);
		http_reply_error(c, 400, "bad_json", "expected a JSON object");
		return NULL;
	}
	return o;
}

/*
 * Login. The limits and the hashing threads are http_login.c's: the
 * request is checked there, the user looked up here, and scrypt runs on
 * a worker (job below); login_done, on the loop thread, refuses a wrong
 * password itself and hands a right one to the writer (session_open),
 * which opens the session if the user is still the one the hash was
 * checked against; logged_in answers, exactly once, whether or not the
 * client is still there (a reply to a closed connection is dropped by
 * evhttp; the call is freed either way).
 */
struct login_job {
	struct http_call	*c;
	char			email[STORE_NAME_MAX * 2 + 1];
	char			*pw;
	size_t			pwlen;
	uint8_t			salt[16], want[32], got[32];
	uint32_t		user_id;
	int			found, err;
};

static void
login_job_free(struct login_job *j)
{
	OPENSSL_cleanse(j->pw, j->pwlen);
	free(j->pw);
	OPENSSL_cleanse(j, sizeof *j);
	free(j);
}

/* On a worker thread: the hash only. */
static void
login_work(void *arg)
{
	struct login_job *j = arg;

	j->err = user_password_hash(j->pw, j->pwlen, j->salt, j->got);
	OPENSSL_cleanse(j->pw, j->pwlen);
}

/* A right password's session, on its way to the store. */
struct session_open_job {
	char		email[STORE_NAME_MAX * 2 + 1];
	uint32_t	user_id;
	uint8_t		want[32];	/* the hash the password matched */
	int		stale;		/* the user changed meanwhile */
	struct user	u;
	struct session	s;
	char		cookie[65];
};

/* On the writer thread. */
static int
open_run(struct store *st, void *arg)
{
	struct session_open_job *x = arg;

	/* The user as it is now (a password changed meanwhile fails). */
	if (store_user_find(st, x->email, &x->u) != 0 ||
	    x->u.id != x->user_id ||
	    sigil_memeq_ct(x->u.hash, x->want, 32) != 0) {
		x->stale = 1;
		return 0;
	}
	return session_new(st, x->u.id, sigil_now_us(), x->cookie, &x->s);
}

static const struct writer_op op_session_open = { "session_open", open_run };

static void
login_refused(struct http_call *c, const char *email, uint32_t user_id)
{
	loginguard_record(c, email, 0);
	log_info("login_failed", "client=%s user=%u", c->client_text,
	    user_id);
	http_reply_error(c, 401, "bad_credentials", "wrong email or "
	    "password");
}

static void
logged_in(struct http_call *c, void *arg, int rc)
{
	struct session_open_job *x = arg;

	if (x->stale) {
		login_refused(c, x->email, x->user_id);
		return;
	}
	loginguard_record(c, x->email, 1);
	if (rc != 0) {
		http_reply_error(c, 503, "unavailable", rc == SIGIL_ECRYPTO ?
		    "no randomness" : "storage error; try again");
		return;
	}
	log_info("login", "client=%s user=%u brand=%u role=%s", c->client_text,
	    x->u.id, x->u.brand_id, role_name(x->u.role));
	session_cookie_set(c, c->app, x->cookie, SESSION_HOURS * 3600);
	http_reply_jsont(c, 200, me_json(c->app, &x->u, &x->s));
}

static void
login_done(void *arg)
{
	struct login_job *j = arg;
	struct session_open_job x = { .user_id = j->user_id };

	if (j->err != 0 || !j->found || sigil_memeq_ct(j->got, j->want,
	    32) != 0) {
		login_refused(j->c, j->email, j->found ? j->user_id : 0);
		login_job_free(j);
		return;
	}
	memcpy(x.email, j->email, sizeof x.email);
	memcpy(x.want, j->want, sizeof x.want);
	http_write(j->c, &op_session_open, &x, sizeof x, logged_in);
	OPENSSL_cleanse(&x, sizeof x);
	login_job_free(j);
}

static void
handle_login(struct http_call *c, struct app *app)
{
	static const uint8_t dummy_salt[16];
	struct login_job *j;
	struct user u;
	const char *email, *pw;
	json_t *body;

	if ((body = json_body(c)) == NULL)
		return;
	if ((j = calloc(1, sizeof *j)) == NULL) {
		json_decref(body);
		http_reply_error(c, 503, "unavailable", "out of memory");
		return;
	}
	email = json_string_value(json_object_get(body, "email"));
	pw = json_string_value(json_object_get(body, "password"));
	if (email == NULL || pw == NULL || user_email_normalise(email,
	    j->email, sizeof j->email) != 0 || json_string_length(
	    json_object_get(body, "password")) > USER_PASSWORD_MAX) {
		http_reply_error(c, 422, "invalid", "expected {\"email\", "
		    "\"password\"}");
		goto refuse;
	}
	if (!loginguard_admit(c, j->email))
		goto refuse;
	j->pwlen = json_string_length(json_object_get(body, "password"));
	if ((j->pw = malloc(j->pwlen + 1)) == NULL) {
		j->pwlen = 0;
		http_reply_error(c, 503, "unavailable", "out of memory");
		goto refuse;
	}
	memcpy(j->pw, pw, j->pwlen);
	json_decref(body);
	j->c = c;
	/* The same work whether or not the user exists. */
	j->found = store_user_find(app->store, j->email, &u) == 0;
	memcpy(j->salt, j->found ? u.salt : dummy_salt, 16);
	if (j->found) {
		memcpy(j->want, u.hash, 32);
		j->user_id = u.id;
	}
	if (loginguard_hash(login_work, login_done, j) != 0) {
		login_job_free(j);
		http_add_header(c, "Retry-After", "2");
		http_reply_error(c, 503, "busy", "too many logins are being "
		    "checked; try again in a moment");
	}
	return;
refuse:
	json_decref(body);
	login_job_free(j);
}

/*
 * Logout: the session goes in a writer op, with every expired one (the
 * session check only reads, so they are dropped here and at login). Its
 * own deletion may find it gone already (a password change ended it):
 * that answers 200 as before; only a writer that took nothing (full or
 * shutting down) answers 503, the session then still live.
 */
struct session_end_job {
	uint8_t		hash[32];
	uint32_t	user_id;
};

static int
end_run(struct store *st, void *arg)
{
	struct session_end_job *x = arg;

	store_session_del(st, x->hash);
	store_session_purge(st, sigil_now_us(), NULL);
	return 0;
}

static const struct writer_op op_session_end = { "session_end", end_run };

static void
logged_out(struct http_call *c, void *arg, int rc)
{
	struct session_end_job *x = arg;

	if (rc != 0) {
		http_reply_error(c, 503, "unavailable", "the server is busy or "
		    "shutting down; try again");
		return;
	}
	log_info("logout", "user=%u", x->user_id);
	session_cookie_set(c, c->app, "", 0);
	http_reply_json(c, 200, "{\"ok\":true}");
}

static void
handle_logout(struct http_call *c, struct app *app)
{
	struct session_end_job x;
	struct session s;
	struct user u;

	if (call_session(c, app, x.hash, &s, &u) != 0) {
		session_cookie_set(c, app, "", 0);
		http_reply_error(c, 401, "unauthorized", "not logged in");
		return;
	}
	if (!session_csrf_ok(&s, http_header(c, "X-CSRF-Token"))) {
		http_reply_error(c, 403, "csrf", "missing or wrong "
		    "X-CSRF-Token");
		return;
	}
	x.user_id = u.id;
	http_write(c, &op_session_end, &x, sizeof x, logged_out);
}

static void
handle_me(struct http_call *c, struct app *app)
{
	struct session s;
	struct user u;
	uint8_t hash[32];
	int rc;

	if ((rc = call_session(c, app, hash, &s, &u)) != 0) {
		if (rc != SIGIL_ENOTFOUND)	/* a cookie, but no session */
			session_cookie_set(c, app, "", 0);
		http_reply_error(c, 401, "unauthorized", "not logged in");
		return;
	}
	http_reply_jsont(c, 200, me_json(app, &u, &s));
}

void
dashboard_handle(struct http_call *c)
{
	struct app *app = c->app;
	const char *rest;
	int post = c->method == EVHTTP_REQ_POST;

	if (strcmp(c->path, "/admin") == 0) {
		http_add_header(c, "Location", "/admin/");
		http_reply(c, 308, NULL, NULL);
		return;
	}
	if (strncmp(c->path, "/admin/", 7) != 0) {
		http_reply_error(c, 404, "not_found", "no such resource");
		return;
	}
	rest = c->path + 7;
	if (strcmp(rest, "login") == 0 || strcmp(rest, "logout") == 0) {
		if (!post) {
			http_add_header(c, "Allow", "POST");
			http_reply_error(c, 405, "method_not_allowed",
			    "POST only");
			return;
		}
		if (rest[3] == 'i')
			handle_login(c, app);
		else
			handle_logout(c, app);
		return;
	}
	if (post) {
		http_add_header(c, "Allow", "GET, HEAD");
		http_reply_error(c, 405, "method_not_allowed", "GET only");
		return;
	}
	if (strcmp(rest, "me") == 0)
		handle_me(c, app);
	else
		serve_static(c, rest[0] == '\0' ? "index.html" : rest);
}
