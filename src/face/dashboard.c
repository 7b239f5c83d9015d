/*
 * dashboard.c - the brand dashboard: static files at /admin/, login,
 * sessions, and the statistics behind its charts.
 *
 * The pages (web/admin/) are a small single-page application that talks
 * to the very same brand API as a brand's own systems (/api/v1/...): a
 * person is authenticated there by session instead of bearer token, and
 * then holds exactly the rights of a token of their brand and role, so
 * the dashboard can never do what the API would refuse.
 *
 * Static files: only names of the form [a-z0-9-]+.(html|js|css|svg) in
 * the one directory web/admin/ are served (no slash, so no traversal and
 * no subdirectory), opened with O_NOFOLLOW, with a content type fixed by
 * the extension and a Content-Security-Policy of default-src 'self':
 * nothing inline, nothing from elsewhere.
 *
 * Passwords are hashed with scrypt (N=2^15, r=8, p=1) and a random
 * 16-byte salt per user, on worker threads; login is guarded by the
 * limits of loginguard.c (per client, per account and client, per
 * account unless the client signed in before, global). A session is 32 random bytes sent as the HttpOnly,
 * SameSite=Strict cookie sg_s; only its SHA-256 is stored, with the
 * user id, a CSRF token and an expiry twelve hours on. Every request that
 * changes something must echo the CSRF token in X-CSRF-Token: SameSite
 * already keeps other sites' requests from carrying the cookie, the
 * token also covers older browsers and same-site subdomains.
 *
 * Statistics come from the counters the writer keeps per hour
 * (store_stat_range/keys); nothing here reads the scan log, so a
 * request costs the same over ten scans or ten million.
 *
 * May call store, http, api (role names) and log; never renders data
 * into HTML (the pages build the DOM from JSON with textContent).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "sigil/api.h"
#include "sigil/app.h"
#include "sigil/dashboard.h"
#include "sigil/http.h"
#include "sigil/log.h"
#include "sigil/loginguard.h"
#include "sigil/store.h"
#include "sigil/util.h"

#define SESSION_COOKIE		"sg_s"
#define STATIC_MAX		(1024 * 1024)
#define HOUR_US			(3600LL * 1000000)
#define SESSION_TOKEN_BIT	DASHBOARD_SESSION_BIT
#define STATS_HOURS_MAX		(400 * 24)	/* a bit over a year */
#define STATS_HOUR_POINTS_MAX	(31 * 24)
#define STATS_ROWS_MAX		1000
#define STATS_REGIONS_MAX	5000

static char admin_dir[PATH_MAX];


/* ---- passwords and users ---- */

int
dashboard_password_hash(const char *password, size_t len,
    const uint8_t salt[16], uint8_t out[32])
{
	/* 128 * N * r bytes of scrypt state, plus slack. */
	if (EVP_PBE_scrypt(password, len, salt, 16, (uint64_t)1 << 15, 8, 1,
	    64ull << 20, out, 32) != 1)
		return SIGIL_ECRYPTO;
	return 0;
}

static int
email_normalise(const char *in, char *out, size_t size)
{
	size_t n = strlen(in), at = 0, ats = 0;

	if (n == 0 || n > STORE_NAME_MAX * 2 || n >= size)
		return SIGIL_EINVAL;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)in[i];

		if (ch <= 0x20 || ch == 0x7f || ch == '"' || ch == '<' ||
		    ch == '>' || ch == '\\')
			return SIGIL_EINVAL;
		if (ch == '@') {
			ats++;
			at = i;
		}
		out[i] = (char)tolower(ch);
	}
	out[n] = '\0';
	if (ats != 1 || at == 0 || at == n - 1 || !http_utf8_valid(out, n))
		return SIGIL_EINVAL;
	return 0;
}

int
dashboard_user_prepare(uint32_t brand_id, const char *email, int role,
    const char *password, size_t password_len, struct user *out, char *err,
    size_t errsize)
{
	struct user u = { 0 };
	int rc;

	if (email_normalise(email, u.email, sizeof u.email) != 0) {
		snprintf(err, errsize, "email must be 1 to %d bytes with one "
		    "'@' and no blanks", STORE_NAME_MAX * 2);
		return SIGIL_EINVAL;
	}
	if (role < ROLE_ADMIN || role > ROLE_ANALYST) {
		snprintf(err, errsize, "role must be admin, operator or "
		    "analyst");
		return SIGIL_EINVAL;
	}
	if (password_len < DASHBOARD_PASSWORD_MIN ||
	    password_len > DASHBOARD_PASSWORD_MAX ||
	    memchr(password, '\0', password_len) != NULL ||
	    !http_utf8_valid(password, password_len)) {
		snprintf(err, errsize, "password must be %d to %d bytes of "
		    "UTF-8", DASHBOARD_PASSWORD_MIN, DASHBOARD_PASSWORD_MAX);
		return SIGIL_EINVAL;
	}
	u.brand_id = brand_id;
	u.role = role;
	if ((rc = sigil_random(u.salt, sizeof u.salt)) != 0) {
		snprintf(err, errsize, "could not hash the password");
		return rc;
	}
	*out = u;
	return 0;
}

int
dashboard_user_new(struct store *st, uint32_t brand_id, const char *email,
    int role, const char *password, size_t password_len, struct user *out,
    char *err, size_t errsize)
{
	struct user u;
	int rc;

	if ((rc = dashboard_user_prepare(brand_id, email, role, password,
	    password_len, &u, err, errsize)) != 0)
		return rc;
	if ((rc = dashboard_password_hash(password, password_len, u.salt,
	    u.hash)) != 0) {
		snprintf(err, errsize, "could not hash the password");
		OPENSSL_cleanse(&u, sizeof u);
		return rc;
	}
	if ((rc = store_user_add(st, &u)) != 0) {
		snprintf(err, errsize, "%s", rc == SIGIL_EEXIST ? "a user with "
		    "this email exists" : sigil_strerror(rc));
		OPENSSL_cleanse(&u, sizeof u);
		return rc;
	}
	*out = u;
	OPENSSL_cleanse(&u, sizeof u);
	return 0;
}

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

static const char *
static_type(const char *name)
{
	static const struct {
		const char	*ext, *type;
	} types[] = {
		{ ".html", "text/html; charset=utf-8" },
		{ ".js", "text/javascript; charset=utf-8" },
		{ ".css", "text/css; charset=utf-8" },
		{ ".svg", "image/svg+xml" },
	};
	size_t n = strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-");
	const char *ext = name + n;

	if (n == 0 || n > 64)
		return NULL;
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		if (strcmp(ext, types[i].ext) == 0)
			return types[i].type;
	return NULL;
}

static void
security_headers(struct http_call *c)
{
	http_add_header(c, "Content-Security-Policy", "default-src 'self'; "
	    "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; "
	    "form-action 'self'");
	http_add_header(c, "X-Frame-Options", "DENY");
}

static void
serve_static(struct http_call *c, const char *name)
{
	char path[PATH_MAX];
	const char *type = static_type(name);
	struct evbuffer *b = NULL;
	struct stat sb;
	int fd = -1;

	if (type == NULL || admin_dir[0] == '\0' || snprintf(path, sizeof path,
	    "%s/%s", admin_dir, name) >= (int)sizeof path) {
		http_reply_error(c, 404, "not_found", "no such file");
		return;
	}
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
	    fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    sb.st_size > STATIC_MAX) {
		if (fd >= 0)
			close(fd);
		http_reply_error(c, 404, "not_found", "no such file");
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
	security_headers(c);
	/* The files change with each release: revalidate every time. */
	http_add_header(c, "Cache-Control", "no-cache");
	http_reply(c, 200, type, b);
	evbuffer_free(b);
}

/* ---- sessions ---- */

/* The sg_s cookie's SHA-256, or -1 when there is no well-formed one. */
static int
session_cookie_hash(const char *cookie_header, uint8_t hash[32],
    int *present)
{
	char v[80];

	*present = 0;
	if (http_cookie_in(cookie_header, SESSION_COOKIE, v, sizeof v) != 0)
		return -1;
	*present = 1;
	if (strlen(v) != 64 || strspn(v, "0123456789abcdef") != 64)
		return -1;
	SHA256((const unsigned char *)v, 64, hash);
	return 0;
}

/* The live session of this request and its user; -1 if none. */
static int
session_load(struct http_call *c, struct app *app, uint8_t hash[32],
    struct session *s, struct user *u, int *present)
{
	if (session_cookie_hash(http_header(c, "Cookie"), hash, present) != 0 ||
	    store_session_get(app->store, hash, s) != 0)
		return -1;
	if (s->expires <= sigil_now_us()) {
		store_session_del(app->store, hash);
		return -1;
	}
	/*
	 * Read fresh each time: a role change, disabling or removal counts
	 * at once.
	 */
	return store_user_get(app->store, s->user_id, u) == 0 &&
	    !u->disabled ? 0 : -1;
}

static int
csrf_ok(struct http_call *c, const struct session *s)
{
	const char *h = http_header(c, "X-CSRF-Token");
	uint8_t want[32];

	if (h == NULL || strlen(h) != 64 || sigil_hex_decode(h, 32, want) != 0)
		return 0;
	return sigil_memeq_ct(want, s->csrf, 32) == 0;
}

int
dashboard_session_live(struct app *app, const char *cookie_header)
{
	struct session s;
	struct user u;
	uint8_t hash[32];
	int present;

	return session_cookie_hash(cookie_header, hash, &present) == 0 &&
	    store_session_get(app->store, hash, &s) == 0 &&
	    s.expires > sigil_now_us() &&
	    store_user_get(app->store, s.user_id, &u) == 0 && !u.disabled;
}

int
dashboard_session_auth(struct http_call *c, struct app *app, int changes,
    struct token *tok)
{
	struct session s;
	struct user u;
	uint8_t hash[32];
	int present;

	if (session_load(c, app, hash, &s, &u, &present) != 0)
		return present ? SIGIL_EDENIED : SIGIL_ENOTFOUND;
	if (changes && !csrf_ok(c, &s))
		return SIGIL_EFORGED;
	memset(tok, 0, sizeof *tok);
	tok->id = SESSION_TOKEN_BIT | u.id;
	tok->brand_id = u.brand_id;
	tok->role = u.role;
	tok->created = s.created;
	return 0;
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
	return json_pack("{s:{s:s,s:s},s:{s:i,s:s},s:s,s:s}", "user",
	    "email", u->email, "role", api_role_name(u->role), "brand", "id",
	    (int)b.id, "name", b.name, "csrf", csrf, "expires",
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
 * Login. The limits and the hashing threads are loginguard.c's: the
 * request is checked there, the user looked up here, and scrypt runs on
 * a worker (job below); login_done answers on the loop thread, exactly
 * once, whether or not the client is still there (a reply to a closed
 * connection is dropped by evhttp; the call is freed either way).
 */
struct login_job {
	struct http_call	*c;
	struct app		*app;
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

	j->err = dashboard_password_hash(j->pw, j->pwlen, j->salt, j->got);
	OPENSSL_cleanse(j->pw, j->pwlen);
}

static void
login_done(void *arg)
{
	struct login_job *j = arg;
	struct http_call *c = j->c;
	struct app *app = j->app;
	struct session s = { 0 };
	struct user u;
	uint8_t raw[32];
	char cookie[65];
	int64_t now = sigil_now_us();
	int ok;

	ok = j->err == 0 && j->found && sigil_memeq_ct(j->got, j->want, 32) ==
	    0;
	/* The user as it is now (a password changed meanwhile fails). */
	if (ok && (store_user_find(app->store, j->email, &u) != 0 ||
	    u.id != j->user_id || sigil_memeq_ct(u.hash, j->want, 32) != 0))
		ok = 0;
	loginguard_record(c, j->email, ok);
	if (!ok) {
		log_info("login_failed", "client=%s user=%u", c->client_text,
		    j->found ? j->user_id : 0);
		http_reply_error(c, 401, "bad_credentials", "wrong email or "
		    "password");
		goto out;
	}
	if (sigil_random(raw, sizeof raw) != 0 ||
	    sigil_random(s.csrf, sizeof s.csrf) != 0) {
		http_reply_error(c, 503, "unavailable", "no randomness");
		goto out;
	}
	sigil_hex_encode(raw, sizeof raw, cookie);
	OPENSSL_cleanse(raw, sizeof raw);
	SHA256((const unsigned char *)cookie, 64, s.id_hash);
	s.user_id = u.id;
	s.created = now;
	s.expires = now + DASHBOARD_SESSION_HOURS * HOUR_US;
	/* Expired sessions are dropped here, at the rate people sign in. */
	store_session_purge(app->store, now, NULL);
	if (store_session_put(app->store, &s) != 0) {
		http_reply_error(c, 503, "unavailable", "storage error; try "
		    "again");
		goto out;
	}
	log_info("login", "client=%s user=%u brand=%u role=%s", c->client_text,
	    u.id, u.brand_id, api_role_name(u.role));
	session_cookie_set(c, app, cookie, DASHBOARD_SESSION_HOURS * 3600);
	OPENSSL_cleanse(cookie, sizeof cookie);
	http_reply_jsont(c, 200, me_json(app, &u, &s));
out:
	login_job_free(j);
}

static void
handle_login(struct http_call *c, struct app *app)
{
	static const uint8_t dummy_salt[16];
	struct login_job *j;
	struct user u;
	const char *pw;
	json_t *body;

	if ((body = json_body(c)) == NULL)
		return;
	if ((j = calloc(1, sizeof *j)) == NULL) {
		json_decref(body);
		http_reply_error(c, 503, "unavailable", "out of memory");
		return;
	}
	pw = json_string_value(json_object_get(body, "password"));
	if (!json_is_string(json_object_get(body, "email")) || pw == NULL ||
	    email_normalise(json_string_value(json_object_get(body, "email")),
	    j->email, sizeof j->email) != 0 || (j->pwlen = json_string_length(
	    json_object_get(body, "password"))) > DASHBOARD_PASSWORD_MAX) {
		json_decref(body);
		j->pwlen = 0;
		login_job_free(j);
		http_reply_error(c, 422, "invalid", "expected {\"email\", "
		    "\"password\"}");
		return;
	}
	if (!loginguard_admit(c, j->email)) {
		json_decref(body);
		j->pwlen = 0;
		login_job_free(j);
		return;
	}
	if ((j->pw = malloc(j->pwlen + 1)) == NULL) {
		json_decref(body);
		j->pwlen = 0;
		login_job_free(j);
		http_reply_error(c, 503, "unavailable", "out of memory");
		return;
	}
	memcpy(j->pw, pw, j->pwlen);
	json_decref(body);
	j->c = c;
	j->app = app;
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
}

static void
handle_logout(struct http_call *c, struct app *app)
{
	struct session s;
	struct user u;
	uint8_t hash[32];
	int present;

	if (session_load(c, app, hash, &s, &u, &present) != 0) {
		session_cookie_set(c, app, "", 0);
		http_reply_error(c, 401, "unauthorized", "not logged in");
		return;
	}
	if (!csrf_ok(c, &s)) {
		http_reply_error(c, 403, "csrf", "missing or wrong "
		    "X-CSRF-Token");
		return;
	}
	store_session_del(app->store, hash);
	log_info("logout", "user=%u", u.id);
	session_cookie_set(c, app, "", 0);
	http_reply_json(c, 200, "{\"ok\":true}");
}

static void
handle_me(struct http_call *c, struct app *app)
{
	struct session s;
	struct user u;
	uint8_t hash[32];
	int present;

	if (session_load(c, app, hash, &s, &u, &present) != 0) {
		if (present)
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

/* ---- statistics ---- */

struct stats_range {
	int64_t		from_hour, to_hour;	/* [from, to) */
	int		bucket_hours;		/* 1 or 24 */
	int		tz;			/* hours east of UTC */
};

static const char *
query_get(struct http_call *c, const char *name, char *out, size_t size)
{
	struct evkeyvalq q;
	const char *v, *r = NULL;

	if (c->query == NULL)
		return NULL;
	memset(&q, 0, sizeof q);
	if (evhttp_parse_query_str(c->query, &q) != 0)
		return NULL;
	if ((v = evhttp_find_header(&q, name)) != NULL && strlen(v) < size) {
		strcpy(out, v);
		r = out;
	}
	evhttp_clear_headers(&q);
	return r;
}

static int64_t
floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/*
 * from, to (dates or times, read in the tz given), bucket hour|day and
 * tz (-12..14 hours). Defaults: the last 30 days by day, or the last 48
 * hours by hour. -1 after replying.
 */
static int
stats_range_parse(struct http_call *c, struct stats_range *r)
{
	char v[40];
	int64_t now_h = floor_div(sigil_now_us(), HOUR_US), t, span;
	uint64_t n;
	int neg;

	r->bucket_hours = 24;
	r->tz = 0;
	if (query_get(c, "bucket", v, sizeof v) != NULL) {
		if (strcmp(v, "hour") == 0)
			r->bucket_hours = 1;
		else if (strcmp(v, "day") != 0)
			goto bad;
	}
	if (query_get(c, "tz", v, sizeof v) != NULL) {
		neg = v[0] == '-';
		if (sigil_parse_u64(v + (v[0] == '-' || v[0] == '+'), 14,
		    &n) != 0 || (neg && n > 12))
			goto bad;
		r->tz = neg ? -(int)n : (int)n;
	}
	/* Local hour index: UTC hour + tz; buckets align to local days. */
	if (r->bucket_hours == 24) {
		r->to_hour = (floor_div(now_h + r->tz, 24) + 1) * 24 - r->tz;
		r->from_hour = r->to_hour - 30 * 24;
	} else {
		r->to_hour = now_h + 1;
		r->from_hour = r->to_hour - 48;
	}
	if (query_get(c, "to", v, sizeof v) != NULL) {
		if (sigil_time_parse(v, &t) != 0)
			goto bad;
		r->to_hour = floor_div(t, HOUR_US) - r->tz;
		if (r->bucket_hours == 24 && strlen(v) == 10)
			r->to_hour += 24;	/* a date "to" includes the day */
	}
	if (query_get(c, "from", v, sizeof v) != NULL) {
		if (sigil_time_parse(v, &t) != 0)
			goto bad;
		r->from_hour = floor_div(t, HOUR_US) - r->tz;
	}
	if (r->bucket_hours == 24) {
		/* Whole local days. */
		r->from_hour = floor_div(r->from_hour + r->tz, 24) * 24 - r->tz;
		r->to_hour = (floor_div(r->to_hour + r->tz + 23, 24)) * 24 -
		    r->tz;
	}
	span = r->to_hour - r->from_hour;
	if (r->from_hour < 0 || span <= 0 || span > STATS_HOURS_MAX ||
	    (r->bucket_hours == 1 && span > STATS_HOUR_POINTS_MAX)) {
		http_reply_error(c, 400, "bad_range", "from must be before to; "
		    "at most 400 days by day or 31 days by hour");
		return -1;
	}
	return 0;
bad:
	http_reply_error(c, 400, "bad_query", "from/to are YYYY-MM-DD or "
	    "ISO-8601 UTC, bucket is hour or day, tz is -12 to 14 hours");
	return -1;
}

static json_t *
range_json(const struct stats_range *r)
{
	char f[SIGIL_TIME_LEN + 1], t[SIGIL_TIME_LEN + 1];

	return json_pack("{s:s,s:s,s:s,s:i}", "from", sigil_time_format(
	    r->from_hour * HOUR_US, f), "to", sigil_time_format(r->to_hour *
	    HOUR_US, t), "bucket", r->bucket_hours == 1 ? "hour" : "day",
	    "tz", r->tz);
}

static const struct {
	const char	*name;
	int		kind;
} overview_kinds[] = {
	{ "scans", STAT_SCANS }, { "scanners", STAT_SCANNERS },
	{ "first_scans", STAT_FIRST }, { "suspicious", STAT_SUSPICIOUS },
	{ "counterfeit", STAT_COUNTERFEIT }, { "diversion", STAT_DIVERSION },
	{ "claims", STAT_CLAIMS }, { "points", STAT_POINTS },
	{ "redemptions", STAT_REDEMPTIONS },
};
#define NKINDS (sizeof overview_kinds / sizeof overview_kinds[0])

static void
stats_overview(struct http_call *c, struct app *app, uint32_t brand_id,
    const struct stats_range *r)
{
	size_t hours = (size_t)(r->to_hour - r->from_hour);
	size_t nb = hours / (size_t)r->bucket_hours;
	int64_t *v = malloc(hours * sizeof *v), total;
	json_t *series = json_array(), *totals = json_object(), *o;
	char t[SIGIL_TIME_LEN + 1];
	int err = 0;

	if (v == NULL) {
		json_decref(series);
		json_decref(totals);
		http_reply_error(c, 503, "unavailable", "out of memory");
		return;
	}
	for (size_t b = 0; b < nb; b++)
		json_array_append_new(series, json_pack("{s:s}", "t",
		    sigil_time_format((r->from_hour + (int64_t)b *
		    r->bucket_hours) * HOUR_US, t)));
	for (size_t k = 0; k < NKINDS && err == 0; k++) {
		err = store_stat_range(app->store, brand_id,
		    overview_kinds[k].kind, DIM_BRAND, 0, r->from_hour,
		    r->to_hour, v);
		total = 0;
		for (size_t b = 0; b < nb && err == 0; b++) {
			int64_t sum = 0;

			for (int h = 0; h < r->bucket_hours; h++)
				sum += v[b * (size_t)r->bucket_hours +
				    (size_t)h];
			total += sum;
			json_object_set_new(json_array_get(series, b),
			    overview_kinds[k].name, json_integer(sum));
		}
		json_object_set_new(totals, overview_kinds[k].name,
		    json_integer(total));
	}
	free(v);
	if (err != 0) {
		json_decref(series);
		json_decref(totals);
		http_reply_error(c, 503, "unavailable", "storage error; try "
		    "again");
		return;
	}
	o = range_json(r);
	json_object_set_new(o, "series", series);
	json_object_set_new(o, "totals", totals);
	http_reply_jsont(c, 200, o);
}

/* Per-key totals of several kinds, merged by key. */
struct stat_cell {
	uint64_t	key;
	int		col;
	int64_t		total;
};

struct stat_rows {
	struct stat_cell *v;
	size_t		n, cap;
	int		col;
	int		err;
};

static int
stat_rows_add(void *arg, uint64_t key, int64_t total)
{
	struct stat_rows *rows = arg;

	if (rows->n == rows->cap) {
		size_t cap = rows->cap ? rows->cap * 2 : 256;
		struct stat_cell *v = realloc(rows->v, cap * sizeof *v);

		if (v == NULL) {
			rows->err = SIGIL_ENOMEM;
			return 1;
		}
		rows->v = v;
		rows->cap = cap;
	}
	rows->v[rows->n].key = key;
	rows->v[rows->n].col = rows->col;
	rows->v[rows->n++].total = total;
	return 0;
}

static int
cell_by_key(const void *a, const void *b)
{
	const struct stat_cell *x = a, *y = b;

	return x->key < y->key ? -1 : x->key > y->key;
}

#define STAT_COLS_MAX	4
struct stat_row {
	uint64_t	key;
	int64_t		v[STAT_COLS_MAX];
};

static int
row_by_first(const void *a, const void *b)
{
	const struct stat_row *x = a, *y = b;

	if (x->v[0] != y->v[0])
		return x->v[0] > y->v[0] ? -1 : 1;
	return x->key < y->key ? -1 : x->key > y->key;
}

/*
 * One row per key holding the totals of kinds[0..n) in dim over
 * [from_hour, to_hour), in key order. -1 on error.
 */
static int
stat_table_raw(struct app *app, uint32_t brand_id, int dim, const int *kinds,
    int nkinds, int64_t from_hour, int64_t to_hour, struct stat_row **out,
    size_t *nrows)
{
	struct stat_rows cells = { 0 };
	struct stat_row *rows;
	size_t n = 0;
	int err;

	for (int k = 0; k < nkinds && to_hour > from_hour; k++) {
		cells.col = k;
		err = store_stat_keys(app->store, brand_id, kinds[k], dim,
		    from_hour, to_hour, stat_rows_add, &cells);
		if (err < 0 || cells.err != 0) {
			free(cells.v);
			return -1;
		}
	}
	if (cells.n > 0)
		qsort(cells.v, cells.n, sizeof *cells.v, cell_by_key);
	if ((rows = calloc(cells.n ? cells.n : 1, sizeof *rows)) == NULL) {
		free(cells.v);
		return -1;
	}
	for (size_t i = 0; i < cells.n; i++) {
		if (n == 0 || rows[n - 1].key != cells.v[i].key)
			rows[n++].key = cells.v[i].key;
		rows[n - 1].v[cells.v[i].col] += cells.v[i].total;
	}
	free(cells.v);
	*out = rows;
	*nrows = n;
	return 0;
}

/*
 * Counters of hours that ended more than an hour ago no longer change (a
 * scan or claim counts in the hour it happens, committed within
 * milliseconds), so the per-key totals of a range's closed part are kept
 * here and only its last hour or two are read again. A dashboard asks
 * the same ranges over and over; each is walked in full once an hour.
 * Stats are served on the event loop's thread only: no lock.
 */
#define TABLE_CACHE_SLOTS	16
struct table_cache {
	uint32_t	brand_id;
	int		dim;
	const int	*kinds;
	int64_t		from_hour, closed_hour, used;
	struct stat_row	*rows;
	size_t		n;
};
static struct table_cache table_cache[TABLE_CACHE_SLOTS];

static int
closed_rows(struct app *app, uint32_t brand_id, int dim, const int *kinds,
    int nkinds, int64_t from_hour, int64_t closed_hour,
    const struct stat_row **out, size_t *n)
{
	struct table_cache *c, *victim = &table_cache[0];
	struct stat_row *rows;
	size_t nrows;

	for (int i = 0; i < TABLE_CACHE_SLOTS; i++) {
		c = &table_cache[i];
		if (c->rows != NULL && c->brand_id == brand_id &&
		    c->dim == dim && c->kinds == kinds && c->from_hour ==
		    from_hour && c->closed_hour == closed_hour) {
			c->used = sigil_now_us();
			*out = c->rows;
			*n = c->n;
			return 0;
		}
		if (c->used < victim->used)
			victim = c;
	}
	if (stat_table_raw(app, brand_id, dim, kinds, nkinds, from_hour,
	    closed_hour, &rows, &nrows) != 0)
		return -1;
	free(victim->rows);
	victim->brand_id = brand_id;
	victim->dim = dim;
	victim->kinds = kinds;
	victim->from_hour = from_hour;
	victim->closed_hour = closed_hour;
	victim->used = sigil_now_us();
	victim->rows = rows;
	victim->n = nrows;
	*out = rows;
	*n = nrows;
	return 0;
}

/*
 * Fills *out with one row per key holding the totals of kinds[0..n) in
 * dim over the range, sorted by the first kind's total, largest first.
 * kinds must be a static array (its address names it in the cache).
 * -1 on error.
 */
static int
stat_table(struct app *app, uint32_t brand_id, int dim, const int *kinds,
    int nkinds, const struct stats_range *r, struct stat_row **out,
    size_t *nrows)
{
	int64_t closed = floor_div(sigil_now_us(), HOUR_US) - 1;
	const struct stat_row *old;
	struct stat_row *live, *rows;
	size_t nold, nlive, n = 0, i = 0, j = 0;

	if (closed > r->to_hour)
		closed = r->to_hour;
	if (closed - r->from_hour < 48) {
		if (stat_table_raw(app, brand_id, dim, kinds, nkinds,
		    r->from_hour, r->to_hour, &rows, &n) != 0)
			return -1;
		goto sort;
	}
	if (closed_rows(app, brand_id, dim, kinds, nkinds, r->from_hour,
	    closed, &old, &nold) != 0 || stat_table_raw(app, brand_id, dim,
	    kinds, nkinds, closed, r->to_hour, &live, &nlive) != 0)
		return -1;
	if ((rows = calloc(nold + nlive + 1, sizeof *rows)) == NULL) {
		free(live);
		return -1;
	}
	/* Both in key order: merge. */
	while (i < nold || j < nlive) {
		if (j == nlive || (i < nold && old[i].key < live[j].key))
			rows[n++] = old[i++];
		else if (i == nold || live[j].key < old[i].key)
			rows[n++] = live[j++];
		else {
			rows[n] = old[i++];
			for (int k = 0; k < STAT_COLS_MAX; k++)
				rows[n].v[k] += live[j].v[k];
			j++;
			n++;
		}
	}
	free(live);
sort:
	qsort(rows, n, sizeof *rows, row_by_first);
	*out = rows;
	*nrows = n;
	return 0;
}

struct sku_names {
	struct app	*app;
	json_t		*by_hash;	/* "hash" -> {sku, name} */
};

static int
sku_name_one(void *arg, const struct batch *b)
{
	struct sku_names *s = arg;
	struct product p;
	char key[24];

	snprintf(key, sizeof key, "%llu",
	    (unsigned long long)store_sku_hash(b->sku));
	if (json_object_get(s->by_hash, key) != NULL)
		return 0;
	if (store_product_get(s->app->store, b->brand_id, b->sku, &p) != 0)
		snprintf(p.name, sizeof p.name, "%s", b->sku);
	json_object_set_new(s->by_hash, key, json_pack("{s:s,s:s}", "sku",
	    b->sku, "name", p.name));
	return 0;
}

static void
stats_keys(struct http_call *c, struct app *app, uint32_t brand_id,
    const struct stats_range *r, const char *what)
{
	static const int product_kinds[] = { STAT_SCANS, STAT_FIRST,
	    STAT_SUSPICIOUS, STAT_CLAIMS };
	static const int campaign_kinds[] = { STAT_CLAIMS, STAT_POINTS,
	    STAT_REDEMPTIONS };
	static const int region_kinds[] = { STAT_SCANS, STAT_DIVERSION,
	    STAT_SUSPICIOUS };
	static const char *const product_cols[] = { "scans", "first_scans",
	    "suspicious", "claims" };
	static const char *const campaign_cols[] = { "claims", "points",
	    "redemptions" };
	static const char *const region_cols[] = { "scans", "diversion",
	    "suspicious" };
	struct sku_names names = { app, NULL };
	const int *kinds;
	const char *const *cols;
	struct stat_row *rows = NULL;
	size_t nrows = 0, limit = STATS_ROWS_MAX;
	char v[24];
	uint64_t n;
	int nkinds, dim;
	json_t *arr, *o;

	if (strcmp(what, "products") == 0 || strcmp(what, "batches") == 0) {
		dim = what[0] == 'p' ? DIM_PRODUCT : DIM_BATCH;
		kinds = product_kinds;
		cols = product_cols;
		nkinds = 4;
	} else if (strcmp(what, "campaigns") == 0) {
		dim = DIM_CAMPAIGN;
		kinds = campaign_kinds;
		cols = campaign_cols;
		nkinds = 3;
	} else {
		dim = DIM_REGION;
		kinds = region_kinds;
		cols = region_cols;
		nkinds = 3;
		limit = STATS_REGIONS_MAX;
	}
	if (query_get(c, "limit", v, sizeof v) != NULL) {
		if (sigil_parse_u64(v, limit, &n) != 0 || n == 0) {
			http_reply_error(c, 400, "bad_query", "limit must be "
			    "1 to 1000 (5000 for regions)");
			return;
		}
		limit = (size_t)n;
	}
	if (stat_table(app, brand_id, dim, kinds, nkinds, r, &rows,
	    &nrows) != 0) {
		http_reply_error(c, 503, "unavailable", "storage error; try "
		    "again");
		return;
	}
	if (dim == DIM_PRODUCT) {
		names.by_hash = json_object();
		store_batch_each(app->store, brand_id, sku_name_one, &names);
	}
	arr = json_array();
	for (size_t i = 0; i < nrows && i < limit; i++) {
		struct stat_row *row = &rows[i];
		json_t *e = json_object();

		if (dim == DIM_PRODUCT) {
			json_t *nm;

			snprintf(v, sizeof v, "%llu",
			    (unsigned long long)row->key);
			nm = json_object_get(names.by_hash, v);
			json_object_set(e, "sku", nm ? json_object_get(nm,
			    "sku") : json_null());
			json_object_set(e, "name", nm ? json_object_get(nm,
			    "name") : json_null());
		} else if (dim == DIM_BATCH) {
			struct batch b;

			json_object_set_new(e, "batch",
			    json_integer((json_int_t)row->key));
			if (store_batch_get(app->store, row->key, &b) == 0 &&
			    b.brand_id == brand_id) {
				json_object_set_new(e, "sku", json_string(b.sku));
				json_object_set_new(e, "lot", json_string(b.lot));
				json_object_set_new(e, "count",
				    json_integer((json_int_t)b.count));
			}
		} else if (dim == DIM_CAMPAIGN) {
			struct campaign cp;

			json_object_set_new(e, "campaign",
			    json_integer((json_int_t)row->key));
			if (row->key <= UINT32_MAX && store_campaign_get(
			    app->store, brand_id, (uint32_t)row->key, &cp) ==
			    0) {
				json_t *cfg = json_loads(cp.config, 0, NULL);

				json_object_set(e, "name", json_is_string(
				    json_object_get(cfg, "name")) ?
				    json_object_get(cfg, "name") : json_null());
				json_object_set_new(e, "budget_used",
				    json_integer(cp.points_spent));
				json_object_set_new(e, "claims_total",
				    json_integer((json_int_t)cp.claims));
				json_decref(cfg);
				store_campaign_clear(&cp);
			}
		} else {
			/* The cell's south-west corner, 1 degree square. */
			json_object_set_new(e, "lat", json_integer(
			    (json_int_t)(row->key / 360) - 90));
			json_object_set_new(e, "lng", json_integer(
			    (json_int_t)(row->key % 360) - 180));
		}
		for (int k = 0; k < nkinds; k++)
			json_object_set_new(e, cols[k],
			    json_integer(row->v[k]));
		json_array_append_new(arr, e);
	}
	json_decref(names.by_hash);
	o = range_json(r);
	json_object_set_new(o, what, arr);
	json_object_set_new(o, "total_rows", json_integer((json_int_t)nrows));
	free(rows);
	http_reply_jsont(c, 200, o);
}

/* ---- prewarming the counters ---- */

static pthread_t prewarm_thread;
static int prewarm_running;
static atomic_int prewarm_stop_flag;

static int
prewarm_one(void *arg, uint64_t key, int64_t total)
{
	(void)arg;
	(void)key;
	(void)total;
	return atomic_load(&prewarm_stop_flag);
}

static int
prewarm_brand(void *arg, const struct brand *b)
{
	int64_t to = floor_div(sigil_now_us(), HOUR_US) + 1;

	for (int kind = STAT_SCANS; kind <= STAT_REDEMPTIONS; kind++)
		for (int dim = DIM_BRAND; dim <= DIM_REGION; dim++)
			if (atomic_load(&prewarm_stop_flag) ||
			    store_stat_keys(arg, b->id, kind, dim,
			    to - STATS_HOURS_MAX, to, prewarm_one, NULL) < 0)
				return 1;
	return 0;
}

static void *
prewarm_main(void *arg)
{
	int64_t t0 = sigil_now_us();

	store_brand_each(arg, prewarm_brand, arg);
	log_info("dashboard_prewarm", "ms=%lld stopped=%d",
	    (long long)((sigil_now_us() - t0) / 1000),
	    atomic_load(&prewarm_stop_flag));
	return NULL;
}

int
dashboard_prewarm_start(struct store *st)
{
	atomic_store(&prewarm_stop_flag, 0);
	if (pthread_create(&prewarm_thread, NULL, prewarm_main, st) != 0)
		return SIGIL_EIO;
	prewarm_running = 1;
	return 0;
}

void
dashboard_prewarm_stop(void)
{
	if (!prewarm_running)
		return;
	atomic_store(&prewarm_stop_flag, 1);
	pthread_join(prewarm_thread, NULL);
	prewarm_running = 0;
}

void
dashboard_stats(struct http_call *c, struct app *app, uint32_t brand_id,
    const char *what)
{
	struct stats_range r;

	if (strcmp(what, "overview") != 0 && strcmp(what, "products") != 0 &&
	    strcmp(what, "batches") != 0 && strcmp(what, "campaigns") != 0 &&
	    strcmp(what, "regions") != 0) {
		http_reply_error(c, 404, "not_found", "no such resource");
		return;
	}
	if (stats_range_parse(c, &r) != 0)
		return;
	if (what[0] == 'o')
		stats_overview(c, app, brand_id, &r);
	else
		stats_keys(c, app, brand_id, &r, what);
}
