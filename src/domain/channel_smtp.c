/*
 * channel_smtp.c - an SMTP client (RFC 5321) over libevent for alert
 * e-mail: one session per message to the operator's server (--smtp).
 *
 * The session: the 220 greeting, EHLO; STARTTLS when the server offers
 * it (or always, for smtp://...?starttls=require, failing when it is not
 * offered), then EHLO again over TLS; smtps:// is TLS from the first
 * byte. The server's certificate is checked against the system store
 * (plus --smtp-ca) and the configured host name (or IP address). AUTH
 * PLAIN, else AUTH LOGIN, when a user is configured, and only under TLS:
 * the password never crosses in clear. MAIL FROM, one RCPT TO per
 * recipient (a refused recipient is skipped while another is taken),
 * DATA with the RFC 5322 headers (Date, From, To, Subject in RFC 2047
 * UTF-8 encoded-words, Message-ID, MIME) and the body dot-stuffed, QUIT.
 * The body goes as 8bit when the server offers 8BITMIME, else base64.
 *
 * A 4xx reply is a passing failure (the outbox retries), a 5xx one is
 * permanent; no connection, a broken reply or the session timeout
 * (NOTIFY_TIMEOUT_S) are retried. Input left over after the server's
 * 220 to STARTTLS ends the session (it would be read as if under TLS).
 *
 * May call libevent, OpenSSL, jansson, log and util. Never logs the
 * password or the message; never blocks the loop (names resolve through
 * evdns).
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "sigil/app.h"
#include "sigil/log.h"
#include "sigil/notify.h"
#include "sigil/util.h"

#define SMTP_LINE_MAX	2048	/* a reply line we accept */

enum smtp_state {
	S_GREETING, S_EHLO, S_STARTTLS, S_TLS, S_EHLO2, S_AUTH_PLAIN,
	S_AUTH_LOGIN, S_AUTH_USER, S_AUTH_PASS, S_MAIL, S_RCPT, S_DATA,
	S_BODY, S_QUIT, S_DONE,
};

struct smtp_sess {
	struct app	*app;
	struct bufferevent *bev;
	struct event	*timer;
	int		state;
	int		tls_on;
	int		has_starttls, has_plain, has_login, has_8bit;
	char		*to[NOTIFY_RECIPIENTS_MAX];
	size_t		nto, rcpt_i, rcpt_ok;
	int		rcpt_4xx;
	char		*subject, *text;
	notify_done_fn	done;
	void		*arg;
	struct smtp_sess *next, *prev;
	char		last[128];	/* the last reply, for the detail */
};

static struct {
	int			set;
	struct notify_smtp_config c;
	SSL_CTX			*ctx;
	struct evdns_base	*dns;
	struct event_base	*dns_base;
	struct smtp_sess	*live;
} smtp;

/* ---- pure helpers ---- */

int
notify_addr_ok(const char *s)
{
	const char *at;
	size_t n;

	if (s == NULL || (n = strlen(s)) < 3 || n > NOTIFY_ADDR_MAX)
		return 0;
	if ((at = strchr(s, '@')) == NULL || at == s || at[1] == '\0' ||
	    strchr(at + 1, '@') != NULL || at - s > 64)
		return 0;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f ||
		    strchr("<>()[],;:\\\"", *p) != NULL)
			return 0;
	return at[1] != '.' && s[n - 1] != '.';
}

char *
notify_smtp_dot_stuff(const char *text, size_t *len)
{
	size_t n = strlen(text), o = 0;
	char *out = malloc(3 * n + 3);
	int bol = 1;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		char c = text[i];

		if (bol && c == '.')
			out[o++] = '.';
		if (c == '\r' || c == '\n') {
			if (c == '\r' && i + 1 < n && text[i + 1] == '\n')
				i++;
			out[o++] = '\r';
			out[o++] = '\n';
			bol = 1;
			continue;
		}
		out[o++] = c;
		bol = 0;
	}
	if (!bol) {
		out[o++] = '\r';
		out[o++] = '\n';
	}
	out[o] = '\0';
	if (len != NULL)
		*len = o;
	return out;
}

char *
notify_smtp_subject(const char *subject)
{
	size_t n = strlen(subject), o = 0, i = 0;
	int plain = 1;
	char *out;

	for (size_t k = 0; k < n; k++)
		if ((unsigned char)subject[k] < 0x20 ||
		    (unsigned char)subject[k] >= 0x7f)
			plain = 0;
	if (plain && n <= 900)
		return strdup(subject);
	/* Each word: "=?UTF-8?B?" + base64 of <= 45 bytes + "?=" (<= 72). */
	if ((out = malloc((n / 30 + 2) * 80)) == NULL)
		return NULL;
	while (i < n) {
		size_t take = n - i > 45 ? 45 : n - i;

		/* never split a UTF-8 sequence */
		while (i + take < n && take > 0 &&
		    ((unsigned char)subject[i + take] & 0xC0) == 0x80)
			take--;
		if (take == 0)
			take = n - i > 45 ? 45 : n - i;
		if (o > 0) {
			memcpy(out + o, "\r\n ", 3);
			o += 3;
		}
		memcpy(out + o, "=?UTF-8?B?", 10);
		o += 10;
		o += (size_t)EVP_EncodeBlock((unsigned char *)out + o,
		    (const unsigned char *)subject + i, (int)take);
		memcpy(out + o, "?=", 2);
		o += 2;
		i += take;
	}
	out[o] = '\0';
	return out;
}

/* ---- configuration ---- */

int
notify_smtp_url(const char *url, struct notify_smtp_config *c)
{
	const char *h, *e, *q;
	size_t hl;
	char *end;
	long port;

	memset(c, 0, sizeof *c);
	if (strncmp(url, "smtps://", 8) == 0) {
		c->tls = 1;
		h = url + 8;
		c->port = 465;
	} else if (strncmp(url, "smtp://", 7) == 0) {
		h = url + 7;
		c->port = 25;
	} else
		return SIGIL_EINVAL;
	q = strchr(h, '?');
	if (q != NULL) {
		if (c->tls || strcmp(q, "?starttls=require") != 0)
			return SIGIL_EINVAL;
		c->starttls = 1;
	} else
		q = h + strlen(h);
	if (q > h && q[-1] == '/')
		q--;
	if (*h == '[') {
		if ((e = memchr(h, ']', (size_t)(q - h))) == NULL)
			return SIGIL_EINVAL;
		hl = (size_t)(e - h - 1);
		h++;
		e++;
	} else {
		for (e = h; e < q && *e != ':'; e++)
			;
		hl = (size_t)(e - h);
	}
	if (hl == 0 || hl >= sizeof c->host || memchr(h, '@', hl) ||
	    memchr(h, '/', hl))
		return SIGIL_EINVAL;
	memcpy(c->host, h, hl);
	c->host[hl] = '\0';
	if (e < q) {
		if (*e != ':')
			return SIGIL_EINVAL;
		port = strtol(e + 1, &end, 10);
		if (end != q || port < 1 || port > 65535 || e + 1 == q)
			return SIGIL_EINVAL;
		c->port = (int)port;
	}
	return 0;
}

static void sess_free(struct smtp_sess *s);

int
notify_smtp_configure(const struct notify_smtp_config *c)
{
	while (smtp.live != NULL)
		sess_free(smtp.live);
	if (smtp.ctx != NULL)
		SSL_CTX_free(smtp.ctx);
	if (smtp.dns != NULL)
		evdns_base_free(smtp.dns, 1);
	OPENSSL_cleanse(&smtp.c, sizeof smtp.c);
	memset(&smtp, 0, sizeof smtp);
	if (c == NULL)
		return 0;
	if (c->host[0] == '\0' || !notify_addr_ok(c->from))
		return SIGIL_EINVAL;
	smtp.c = *c;
	if (smtp.c.helo[0] == '\0')
		snprintf(smtp.c.helo, sizeof smtp.c.helo, "%s",
		    strchr(c->from, '@') + 1);
	if ((smtp.ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		return SIGIL_ECRYPTO;
	SSL_CTX_set_min_proto_version(smtp.ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(smtp.ctx, SSL_VERIFY_PEER, NULL);
	if (SSL_CTX_set_default_verify_paths(smtp.ctx) != 1 ||
	    (c->ca_file != NULL && SSL_CTX_load_verify_locations(smtp.ctx,
	    c->ca_file, NULL) != 1)) {
		SSL_CTX_free(smtp.ctx);
		smtp.ctx = NULL;
		return c->ca_file != NULL ? SIGIL_EINVAL : SIGIL_ECRYPTO;
	}
	smtp.set = 1;
	return 0;
}

int
notify_smtp_ready(void)
{
	return smtp.set;
}

/* ---- the session ---- */

static void
sess_free(struct smtp_sess *s)
{
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		smtp.live = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	if (s->bev != NULL)
		bufferevent_free(s->bev);
	if (s->timer != NULL)
		event_free(s->timer);
	for (size_t i = 0; i < s->nto; i++)
		free(s->to[i]);
	free(s->subject);
	free(s->text);
	free(s);
}

static void
finish(struct smtp_sess *s, int ok, int retry, int code, const char *why)
{
	notify_done_fn done = s->done;
	void *arg = s->arg;
	char detail[200];

	snprintf(detail, sizeof detail, "%s%s%s", why, s->last[0] ? ": " : "",
	    s->last);
	if (!ok)
		log_info("smtp_fail", "code=%d retry=%d %s", code, retry,
		    detail);
	sess_free(s);
	done(arg, ok, retry, code, detail);
}

/* A reply: 4xx passing, 5xx permanent, anything else broken. */
static void
fail_code(struct smtp_sess *s, int code, const char *why)
{
	finish(s, 0, code < 500, code, why);
}

static void
sendf(struct smtp_sess *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
sendf(struct smtp_sess *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	evbuffer_add_vprintf(bufferevent_get_output(s->bev), fmt, ap);
	va_end(ap);
	evbuffer_add(bufferevent_get_output(s->bev), "\r\n", 2);
}

static void
b64(const void *in, size_t n, char *out)
{
	EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

static void
send_mail_from(struct smtp_sess *s)
{
	s->state = S_MAIL;
	sendf(s, "MAIL FROM:<%s>%s", smtp.c.from, s->has_8bit ?
	    " BODY=8BITMIME" : "");
}

static void
after_ehlo(struct smtp_sess *s)
{
	char buf[4 * 256 + 8], raw[3 * 256 + 4];
	size_t ul, pl;

	if (!s->tls_on && (s->has_starttls || smtp.c.starttls)) {
		if (!s->has_starttls) {
			finish(s, 0, 0, -1, "the server offers no STARTTLS");
			return;
		}
		s->state = S_STARTTLS;
		sendf(s, "STARTTLS");
		return;
	}
	if (smtp.c.user[0] == '\0') {
		send_mail_from(s);
		return;
	}
	if (!s->tls_on) {
		finish(s, 0, 0, -1, "refusing to send the password without "
		    "TLS");
		return;
	}
	if (s->has_plain) {
		ul = strlen(smtp.c.user);
		pl = strlen(smtp.c.password);
		raw[0] = '\0';
		memcpy(raw + 1, smtp.c.user, ul);
		raw[1 + ul] = '\0';
		memcpy(raw + 2 + ul, smtp.c.password, pl);
		b64(raw, 2 + ul + pl, buf);
		s->state = S_AUTH_PLAIN;
		sendf(s, "AUTH PLAIN %s", buf);
		OPENSSL_cleanse(raw, sizeof raw);
		OPENSSL_cleanse(buf, sizeof buf);
	} else if (s->has_login) {
		s->state = S_AUTH_LOGIN;
		sendf(s, "AUTH LOGIN");
	} else
		finish(s, 0, 0, -1, "the server offers neither AUTH PLAIN "
		    "nor AUTH LOGIN");
}

static void
ehlo_line(struct smtp_sess *s, const char *kw)
{
	if (strcasecmp(kw, "STARTTLS") == 0)
		s->has_starttls = 1;
	else if (strcasecmp(kw, "8BITMIME") == 0)
		s->has_8bit = 1;
	else if (strncasecmp(kw, "AUTH", 4) == 0 && (kw[4] == ' ' ||
	    kw[4] == '=')) {
		for (const char *p = kw + 5; *p; ) {
			size_t n = strcspn(p, " ");

			if (n == 5 && strncasecmp(p, "PLAIN", 5) == 0)
				s->has_plain = 1;
			if (n == 5 && strncasecmp(p, "LOGIN", 5) == 0)
				s->has_login = 1;
			p += n;
			p += strspn(p, " ");
		}
	}
}

static void
rfc5322_date(char out[40])
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed",
	    "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr",
	    "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t t = (time_t)(sigil_now_us() / 1000000);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(out, 40, "%s, %02d %s %04d %02d:%02d:%02d +0000",
	    days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* The message as DATA carries it, ending with the "." line. */
static int
send_message(struct smtp_sess *s)
{
	struct evbuffer *out = bufferevent_get_output(s->bev);
	char date[40], id[33], rnd[16], *subj, *body, *enc = NULL;
	size_t blen, tl = strlen(s->text);
	int eightbit = s->has_8bit;

	for (const char *p = s->text, *nl; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if ((nl != NULL ? (size_t)(nl - p) : strlen(p)) > 900)
			eightbit = 0;
		if (nl == NULL)
			break;
	}
	rfc5322_date(date);
	if (sigil_random(rnd, sizeof rnd) != 0)
		return SIGIL_ECRYPTO;
	sigil_hex_encode(rnd, sizeof rnd, id);
	if ((subj = notify_smtp_subject(s->subject)) == NULL)
		return SIGIL_ENOMEM;
	evbuffer_add_printf(out, "Date: %s\r\nFrom: <%s>\r\nTo: ", date,
	    smtp.c.from);
	for (size_t i = 0; i < s->nto; i++)
		evbuffer_add_printf(out, "%s<%s>", i ? ",\r\n " : "",
		    s->to[i]);
	evbuffer_add_printf(out, "\r\nSubject: %s\r\nMessage-ID: <%s@%s>\r\n"
	    "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n"
	    "Content-Transfer-Encoding: %s\r\nAuto-Submitted: auto-generated\r\n"
	    "\r\n", subj, id, strchr(smtp.c.from, '@') + 1, eightbit ?
	    "8bit" : "base64");
	free(subj);
	if (!eightbit) {
		/* base64 in lines of 76 characters (57 bytes each) */
		size_t o = 0;

		if ((enc = malloc((tl / 57 + 1) * 78 + 1)) == NULL)
			return SIGIL_ENOMEM;
		for (size_t i = 0; i < tl; i += 57) {
			o += (size_t)EVP_EncodeBlock((unsigned char *)enc + o,
			    (const unsigned char *)s->text + i,
			    (int)(tl - i > 57 ? 57 : tl - i));
			enc[o++] = '\n';
		}
		enc[o] = '\0';
	}
	body = notify_smtp_dot_stuff(enc != NULL ? enc : s->text, &blen);
	free(enc);
	if (body == NULL)
		return SIGIL_ENOMEM;
	evbuffer_add(out, body, blen);
	evbuffer_add(out, ".\r\n", 3);
	free(body);
	return 0;
}

static void sess_event(struct bufferevent *bev, short what, void *arg);
static void sess_read(struct bufferevent *bev, void *arg);

static int
start_tls(struct smtp_sess *s)
{
	struct bufferevent *tb;
	SSL *ssl;
	uint8_t a[16];
	int literal = inet_pton(AF_INET, smtp.c.host, a) == 1 ||
	    inet_pton(AF_INET6, smtp.c.host, a) == 1;

	if ((ssl = SSL_new(smtp.ctx)) == NULL)
		return SIGIL_ECRYPTO;
	if ((!literal && SSL_set_tlsext_host_name(ssl, smtp.c.host) != 1) ||
	    (literal && X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
	    smtp.c.host) != 1) ||
	    (!literal && SSL_set1_host(ssl, smtp.c.host) != 1)) {
		SSL_free(ssl);
		return SIGIL_ECRYPTO;
	}
	tb = bufferevent_openssl_filter_new(s->app->base, s->bev, ssl,
	    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE |
	    BEV_OPT_DEFER_CALLBACKS);
	if (tb == NULL) {
		SSL_free(ssl);
		return SIGIL_ENOMEM;
	}
	s->bev = tb;
	s->state = S_TLS;
	bufferevent_setcb(tb, sess_read, NULL, sess_event, s);
	bufferevent_enable(tb, EV_READ | EV_WRITE);
	return 0;
}

/* One whole reply (code, the last line's text) in state s->state. */
static void
reply(struct smtp_sess *s, int code)
{
	char buf[4 * 256 + 8];

	switch (s->state) {
	case S_GREETING:
		if (code != 220)
			return fail_code(s, code, "greeting");
		s->state = S_EHLO;
		sendf(s, "EHLO %s", smtp.c.helo);
		return;
	case S_EHLO:
	case S_EHLO2:
		if (code != 250)
			return fail_code(s, code, "EHLO");
		return after_ehlo(s);
	case S_STARTTLS:
		if (code != 220)
			return fail_code(s, code, "STARTTLS");
		if (evbuffer_get_length(bufferevent_get_input(s->bev)) > 0)
			return finish(s, 0, 0, -1, "input after STARTTLS");
		if (start_tls(s) != 0)
			return finish(s, 0, 1, -1, "TLS setup failed");
		return;
	case S_AUTH_PLAIN:
	case S_AUTH_PASS:
		if (code != 235)
			return fail_code(s, code, "AUTH");
		return send_mail_from(s);
	case S_AUTH_LOGIN:
	case S_AUTH_USER:
		if (code != 334)
			return fail_code(s, code, "AUTH LOGIN");
		if (s->state == S_AUTH_LOGIN) {
			b64(smtp.c.user, strlen(smtp.c.user), buf);
			s->state = S_AUTH_USER;
		} else {
			b64(smtp.c.password, strlen(smtp.c.password), buf);
			s->state = S_AUTH_PASS;
		}
		sendf(s, "%s", buf);
		OPENSSL_cleanse(buf, sizeof buf);
		return;
	case S_MAIL:
		if (code != 250)
			return fail_code(s, code, "MAIL FROM");
		s->state = S_RCPT;
		s->rcpt_i = 0;
		sendf(s, "RCPT TO:<%s>", s->to[0]);
		return;
	case S_RCPT:
		if (code == 250 || code == 251)
			s->rcpt_ok++;
		else if (code >= 400 && code < 500)
			s->rcpt_4xx = 1;
		if (++s->rcpt_i < s->nto) {
			sendf(s, "RCPT TO:<%s>", s->to[s->rcpt_i]);
			return;
		}
		if (s->rcpt_ok == 0)
			return finish(s, 0, s->rcpt_4xx, code,
			    "every recipient refused");
		s->state = S_DATA;
		sendf(s, "DATA");
		return;
	case S_DATA:
		if (code != 354)
			return fail_code(s, code, "DATA");
		s->state = S_BODY;
		if (send_message(s) != 0)
			return finish(s, 0, 1, -1, "out of memory");
		return;
	case S_BODY:
		if (code != 250)
			return fail_code(s, code, "message");
		s->state = S_QUIT;
		sendf(s, "QUIT");
		/* Accepted: the rest does not matter. */
		s->last[0] = '\0';
		return finish(s, 1, 0, 250, s->rcpt_ok < s->nto ?
		    "accepted for some recipients" : "accepted");
	default:
		return finish(s, 0, 1, code, "unexpected reply");
	}
}

static void
sess_read(struct bufferevent *bev, void *arg)
{
	struct smtp_sess *s = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t n;
	char *line;
	int code;

	while ((line = evbuffer_readln(in, &n, EVBUFFER_EOL_CRLF)) != NULL) {
		if (n < 3 || n > SMTP_LINE_MAX || line[0] < '2' ||
		    line[0] > '5' || line[1] < '0' || line[1] > '9' ||
		    line[2] < '0' || line[2] > '9' || (n > 3 &&
		    line[3] != ' ' && line[3] != '-')) {
			free(line);
			return finish(s, 0, 1, -1, "broken reply");
		}
		code = (line[0] - '0') * 100 + (line[1] - '0') * 10 +
		    (line[2] - '0');
		snprintf(s->last, sizeof s->last, "%.120s", line);
		if ((s->state == S_EHLO || s->state == S_EHLO2) && n > 4)
			ehlo_line(s, line + 4);
		if (n > 3 && line[3] == '-') {
			free(line);
			continue;
		}
		free(line);
		reply(s, code);
		return;	/* s may be gone; more input calls us again */
	}
	if (evbuffer_get_length(in) > SMTP_LINE_MAX)
		finish(s, 0, 1, -1, "reply line too long");
}

static void
sess_event(struct bufferevent *bev, short what, void *arg)
{
	struct smtp_sess *s = arg;
	unsigned long e;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		if (s->state == S_TLS) {
			s->tls_on = 1;
			s->has_starttls = s->has_plain = s->has_login = 0;
			s->has_8bit = 0;
			s->state = S_EHLO2;
			sendf(s, "EHLO %s", smtp.c.helo);
		} else if (smtp.c.tls)
			s->tls_on = 1;
		return;
	}
	if (what & (BEV_EVENT_ERROR | BEV_EVENT_EOF | BEV_EVENT_TIMEOUT)) {
		e = bufferevent_get_openssl_error(s->bev);
		s->last[0] = '\0';
		if (e != 0)
			snprintf(s->last, sizeof s->last, "%.120s",
			    ERR_reason_error_string(e) ? ERR_reason_error_string(
			    e) : "TLS error");
		finish(s, 0, 1, -1, what & BEV_EVENT_TIMEOUT ? "timeout" :
		    e != 0 ? "TLS failed" : "connection lost");
	}
}

static void
sess_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	finish(arg, 0, 1, -1, "session timeout");
}

int
notify_smtp_send(struct app *app, const char *payload, notify_done_fn done,
    void *arg)
{
	struct timeval tv = { NOTIFY_TIMEOUT_S, 0 };
	struct smtp_sess *s;
	const char *subject, *text;
	json_t *p, *to, *v;
	SSL *ssl = NULL;
	size_t i;

	if (!smtp.set)
		return SIGIL_ESTATE;
	if ((p = json_loads(payload, 0, NULL)) == NULL ||
	    json_unpack(p, "{s:o,s:s,s:s}", "to", &to, "subject", &subject,
	    "text", &text) != 0 || !json_is_array(to) ||
	    json_array_size(to) == 0 ||
	    json_array_size(to) > NOTIFY_RECIPIENTS_MAX) {
		json_decref(p);
		return SIGIL_EINVAL;
	}
	if ((s = calloc(1, sizeof *s)) == NULL) {
		json_decref(p);
		return SIGIL_ENOMEM;
	}
	s->app = app;
	s->done = done;
	s->arg = arg;
	if ((s->next = smtp.live) != NULL)
		s->next->prev = s;
	smtp.live = s;
	json_array_foreach(to, i, v) {
		if (!json_is_string(v) || !notify_addr_ok(json_string_value(v))) {
			json_decref(p);
			sess_free(s);
			return SIGIL_EINVAL;
		}
		if ((s->to[s->nto++] = strdup(json_string_value(v))) == NULL)
			goto nomem;
	}
	if ((s->subject = strdup(subject)) == NULL ||
	    (s->text = strdup(text)) == NULL)
		goto nomem;
	json_decref(p);
	p = NULL;
	if (smtp.dns == NULL || smtp.dns_base != app->base) {
		if (smtp.dns != NULL)
			evdns_base_free(smtp.dns, 1);
		smtp.dns = evdns_base_new(app->base,
		    EVDNS_BASE_INITIALIZE_NAMESERVERS);
		if (smtp.dns == NULL)
			smtp.dns = evdns_base_new(app->base, 0);
		smtp.dns_base = app->base;
		if (smtp.dns == NULL)
			goto nomem;
	}
	if (smtp.c.tls) {
		uint8_t a[16];
		int literal = inet_pton(AF_INET, smtp.c.host, a) == 1 ||
		    inet_pton(AF_INET6, smtp.c.host, a) == 1;

		if ((ssl = SSL_new(smtp.ctx)) == NULL ||
		    (!literal && SSL_set_tlsext_host_name(ssl,
		    smtp.c.host) != 1) || (literal &&
		    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
		    smtp.c.host) != 1) || (!literal && SSL_set1_host(ssl,
		    smtp.c.host) != 1))
			goto nomem;
		s->bev = bufferevent_openssl_socket_new(app->base, -1, ssl,
		    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE |
		    BEV_OPT_DEFER_CALLBACKS);
	} else
		s->bev = bufferevent_socket_new(app->base, -1,
		    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (s->bev == NULL)
		goto nomem;
	ssl = NULL;
	s->state = S_GREETING;
	bufferevent_setcb(s->bev, sess_read, NULL, sess_event, s);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
	if ((s->timer = evtimer_new(app->base, sess_timeout, s)) == NULL ||
	    evtimer_add(s->timer, &tv) != 0)
		goto nomem;
	if (bufferevent_socket_connect_hostname(s->bev, smtp.dns, AF_UNSPEC,
	    smtp.c.host, smtp.c.port) != 0) {
		/* libevent may have called sess_event already: not here, as
		 * the socket is not connected; fail it on the loop. */
		evtimer_del(s->timer);
		tv.tv_sec = 0;
		evtimer_add(s->timer, &tv);
	}
	return 0;
nomem:
	if (ssl != NULL)
		SSL_free(ssl);
	json_decref(p);
	sess_free(s);
	return SIGIL_ENOMEM;
}

/* The first line of a file only its owner may read, into out. */
static int
password_read(const char *path, char *out, size_t size, char *err,
    size_t errsize)
{
	char line[512];
	struct stat sb;
	FILE *f;
	size_t n;
	int ok = 0;

	if ((f = fopen(path, "re")) == NULL) {
		snprintf(err, errsize, "cannot open --smtp-password-file %s",
		    path);
		return SIGIL_EINVAL;
	}
	if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    (sb.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		fclose(f);
		snprintf(err, errsize, "--smtp-password-file %s must be a "
		    "regular file of mode 0600 or 0400", path);
		return SIGIL_EINVAL;
	}
	if (fgets(line, (int)sizeof line, f) != NULL) {
		n = strcspn(line, "\r\n");
		line[n] = '\0';
		ok = n >= 1 && n < size;
		if (ok)
			memcpy(out, line, n + 1);
	}
	OPENSSL_cleanse(line, sizeof line);
	fclose(f);
	if (!ok) {
		snprintf(err, errsize, "--smtp-password-file %s must hold the "
		    "password (1 to %zu bytes) on its first line", path,
		    size - 1);
		return SIGIL_EINVAL;
	}
	return 0;
}

int
notify_smtp_flags(const struct notify_smtp_flags *f, char *err,
    size_t errsize)
{
	struct notify_smtp_config c;
	int rc;

	if (f->url == NULL) {
		if (f->user || f->password_file || f->from || f->ca_file) {
			snprintf(err, errsize, "--smtp-user, "
			    "--smtp-password-file, --smtp-from and --smtp-ca go "
			    "with --smtp");
			return SIGIL_EINVAL;
		}
		return 0;
	}
	if (notify_smtp_url(f->url, &c) != 0) {
		snprintf(err, errsize, "--smtp takes smtp://HOST[:PORT]"
		    "[?starttls=require] or smtps://HOST[:PORT]");
		return SIGIL_EINVAL;
	}
	if (f->from == NULL || !notify_addr_ok(f->from)) {
		snprintf(err, errsize, "--smtp needs --smtp-from ADDRESS, the "
		    "sender of alert e-mail");
		return SIGIL_EINVAL;
	}
	snprintf(c.from, sizeof c.from, "%s", f->from);
	if ((f->user == NULL) != (f->password_file == NULL)) {
		snprintf(err, errsize, "--smtp-user and --smtp-password-file "
		    "go together");
		return SIGIL_EINVAL;
	}
	if (f->user != NULL) {
		if (strlen(f->user) == 0 || strlen(f->user) >= sizeof c.user) {
			snprintf(err, errsize, "--smtp-user is empty or too "
			    "long");
			return SIGIL_EINVAL;
		}
		snprintf(c.user, sizeof c.user, "%s", f->user);
		if ((rc = password_read(f->password_file, c.password,
		    sizeof c.password, err, errsize)) != 0)
			return rc;
	}
	c.ca_file = f->ca_file;
	rc = notify_smtp_configure(&c);
	OPENSSL_cleanse(&c, sizeof c);
	if (rc != 0)
		snprintf(err, errsize, "cannot set up SMTP: %s%s",
		    sigil_strerror(rc), rc == SIGIL_EINVAL ? " (check "
		    "--smtp-ca)" : "");
	return rc;
}
