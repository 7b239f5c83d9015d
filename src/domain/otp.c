/*
 * otp.c - phone login by one-time code: the rules, and the notifier.
 *
 * A code is 6 digits, uniform, good for --otp-ttl (5 minutes) and once
 * (otp_guess_check spends it). It is kept only as SHA-256(code || phone hash), per
 * brand and phone hash: a stolen database shows neither codes nor
 * phones. Per phone: one code a minute, 10 a China day; 5 wrong guesses
 * lock the code (a new one must be asked for). Per client the send and
 * guess buckets, per brand the hourly send bucket of loyalty_core.c
 * apply on top, so that SMS pumping from many networks is bounded too.
 *
 * The notifier. Phones and codes never reach the server log: in demo
 * mode the code goes to DATA/otp-outbox.log (0600), a file of its own
 * that plays the SMS gateway; with --sms-webhook it is POSTed there
 * through egress, signed like a webhook. Erasure rewrites the outbox
 * without the customer's lines (otp_outbox_forget).
 *
 * Writes. The loop decides (the limits as the store shows them, the
 * buckets, the code) and the writer thread writes (otp_send_op, and
 * otp_guess_check inside customer.c's login op), reading the row again
 * first: two requests at once cannot both pass a per-phone limit, nor
 * both spend a code, nor lose a wrong guess's count. The notifier runs
 * on the loop once the code is stored.
 *
 * Owns the OTP rows of the store and the outbox file. May call store,
 * ratelimit, egress, webhook (signatures), log, util and OpenSSL. Never
 * knows about HTTP, never logs a phone or a code, never writes to the
 * store on the loop: every write is a writer op's.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "sigil/app.h"
#include "sigil/customer.h"
#include "sigil/egress.h"
#include "sigil/log.h"
#include "sigil/loyalty_core.h"
#include "sigil/loyalty_util.h"
#include "sigil/otp.h"
#include "sigil/ratelimit.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "sigil/webhook.h"
#include "sigil/writer.h"

#define OTP_TRIES		5
#define OTP_RESEND_US		(60 * US_PER_S)
#define OTP_PER_DAY		10

static void
otp_hash(const char *otp, const uint8_t phash[32], uint8_t out[32])
{
	uint8_t msg[OTP_DIGITS + 32];

	memcpy(msg, otp, OTP_DIGITS);
	memcpy(msg + OTP_DIGITS, phash, 32);
	SHA256(msg, sizeof msg, out);
}

/* ---- the notifier ---- */

int
otp_outbox_forget(struct app *app, uint32_t brand_id, const char *phone)
{
	struct loyalty *ly = app->loyalty;
	char tmp[PATH_MAX + 8], needle[LOYALTY_PHONE_MAX + 40], line[512];
	FILE *in, *out;
	int fd, rc = 0;

	if (phone[0] == '\0' || ly->outbox[0] == '\0')
		return 0;
	if ((in = fopen(ly->outbox, "re")) == NULL)
		return errno == ENOENT ? 0 : SIGIL_EIO;
	snprintf(needle, sizeof needle, " brand=%u phone=%s code=", brand_id,
	    phone);
	snprintf(tmp, sizeof tmp, "%s.tmp", ly->outbox);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) < 0 || (out = fdopen(fd, "w")) == NULL) {
		if (fd >= 0)
			close(fd);
		fclose(in);
		return SIGIL_EIO;
	}
	while (fgets(line, sizeof line, in) != NULL)
		if (strstr(line, needle) == NULL && fputs(line, out) == EOF)
			rc = SIGIL_EIO;
	if (ferror(in) || fflush(out) != 0 || fdatasync(fileno(out)) != 0)
		rc = SIGIL_EIO;
	fclose(in);
	if (fclose(out) != 0)
		rc = SIGIL_EIO;
	if (rc == 0 && rename(tmp, ly->outbox) != 0)
		rc = SIGIL_EIO;
	if (rc != 0)
		unlink(tmp);
	OPENSSL_cleanse(line, sizeof line);
	return rc;
}

static void
sms_done(int result, int status, void *arg)
{
	(void)arg;
	if (result != EGRESS_OK)
		log_warn("otp_notify", "result=failed reason=%s status=%d",
		    egress_result_name(result), status);
	else
		log_info("otp_notify", "result=ok status=%d", status);
}

/*
 * Demo mode appends to the outbox file. With --sms-webhook the code is
 * POSTed as {phone, text} through egress (resolved with evdns, the
 * --webhook-allow address policy, https verified), signed like a
 * webhook: X-Sigil-Signature "v1=" HMAC-SHA256 under the
 * --sms-secret-file secret over "<X-Sigil-Timestamp>.<body>".
 */
static int
notify(struct app *app, uint32_t brand_id, const char *phone,
    const char *code)
{
	struct loyalty *ly = app->loyalty;
	char line[160], ts[SIGIL_TIME_LEN + 1], sig[WEBHOOK_SIG_LEN + 1];
	/* ts and sig are filled in below, before the POST. */
	const char *headers[] = { "User-Agent", "sigil-sms/1",
	    "X-Sigil-Timestamp", ts, "X-Sigil-Signature", sig, NULL };
	int64_t now_s;
	json_t *o;
	char *body;
	int fd, n, rc;

	if (ly->sms == NULL) {
		n = snprintf(line, sizeof line, "%s brand=%u phone=%s code=%s\n",
		    sigil_time_format(sigil_now_us(), ts), brand_id, phone,
		    code);
		fd = open(ly->outbox, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
		    0600);
		if (fd < 0)
			return SIGIL_EIO;
		if (write(fd, line, (size_t)n) != n) {
			close(fd);
			return SIGIL_EIO;
		}
		close(fd);
		return 0;
	}
	snprintf(line, sizeof line, "验证码 %s，5分钟内有效。Your code is "
	    "%s.", code, code);
	o = json_pack("{s:s+,s:s}", "phone", "+", phone, "text", line);
	body = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	OPENSSL_cleanse(line, sizeof line);
	if (body == NULL)
		return SIGIL_ENOMEM;
	now_s = sigil_now_us() / US_PER_S;
	snprintf(ts, sizeof ts, "%lld", (long long)now_s);
	if (webhook_sign(ly->sms_secret, now_s, body, strlen(body), sig) != 0) {
		OPENSSL_cleanse(body, strlen(body));
		free(body);
		return SIGIL_ECRYPTO;
	}
	rc = egress_post(app->egress, ly->sms->tls, ly->sms->host,
	    ly->sms->port, ly->sms->path, headers, body, strlen(body), 10,
	    sms_done, NULL, NULL);
	OPENSSL_cleanse(body, strlen(body));
	free(body);
	return rc;
}

/* ---- sending and checking ---- */

static void
refuse(struct otp_outcome *out, int result, int64_t retry_us)
{
	out->result = result;
	out->retry_us = retry_us;
}

/*
 * The phone's own limits against its stored state o (none: found 0): a
 * minute between codes, OTP_PER_DAY a China day. Sets sent_today, the
 * codes sent today before this one; 0, or -1 with out refused.
 */
static int
phone_limits(const struct otp_state *o, int found, int64_t now,
    uint32_t *sent_today, struct otp_outcome *out)
{
	int64_t day = loyalty_day(now);

	*sent_today = 0;
	if (!found)
		return 0;
	if (now - o->sent_at < OTP_RESEND_US) {
		refuse(out, OTP_TOO_SOON, OTP_RESEND_US - (now - o->sent_at));
		return -1;
	}
	*sent_today = o->day == day ? o->sent_today : 0;
	if (*sent_today >= OTP_PER_DAY) {
		refuse(out, OTP_DAILY_LIMIT, (day + 1) * US_PER_DAY -
		    CN_OFFSET_US - now);
		return -1;
	}
	return 0;
}

void
otp_send_prepare(struct app *app, uint32_t brand_id, const uint8_t phash[32],
    const struct otp_client *client, int64_t now, struct otp_send *x)
{
	struct loyalty *ly = app->loyalty;
	struct otp_outcome *out = &x->out;
	struct otp_state o = { 0 };
	uint32_t sent_today;

	memset(x, 0, sizeof *x);
	if (phone_limits(&o, store_otp_get(app->store, brand_id, phash,
	    &o) == 0, now, &sent_today, out) != 0)
		return;
	if (!ratelimit_client_take(ly->send, client->addr, now)) {
		refuse(out, OTP_SEND_LIMIT, ratelimit_client_wait_us(ly->send,
		    client->addr, now));
		return;
	}
	if (!ratelimit_take(ly->brand_send, &brand_id, sizeof brand_id, now)) {
		static int64_t logged;

		if (now - logged >= US_PER_S) {	/* at most once a second */
			logged = now;
			log_warn("otp_brand_limit", "brand=%u client=%s",
			    brand_id, client->text);
		}
		refuse(out, OTP_BRAND_LIMIT, ratelimit_wait_us(ly->brand_send,
		    &brand_id, sizeof brand_id, now));
		return;
	}
	/* Uniform over 000000..999999: reject the top of the 32-bit range. */
	for (;;) {
		uint32_t r;

		if (sigil_random(&r, sizeof r) != 0) {
			refuse(out, OTP_NO_RANDOM, 0);
			return;
		}
		if (r < 4294000000u) {
			snprintf(x->code, sizeof x->code, "%06u", r % 1000000u);
			break;
		}
	}
	x->brand_id = brand_id;
	memcpy(x->phash, phash, sizeof x->phash);
	x->now = now;
	otp_hash(x->code, phash, x->state.code_hash);
	x->state.sent_at = now;
	x->state.expires = now + ly->otp_ttl_us;
	x->state.tries = 0;
	x->state.sent_today = sent_today + 1;
	x->state.day = loyalty_day(now);
}

/*
 * The writer thread. The loop checked the phone's limits against what it
 * read; a code stored since (a request that came just before) is seen
 * here, and the limits are checked again against it.
 */
static int
send_run(struct store *st, void *arg)
{
	struct otp_send *x = arg;
	struct otp_state o;
	uint32_t sent_today;

	if (phone_limits(&o, store_otp_get(st, x->brand_id, x->phash,
	    &o) == 0, x->now, &sent_today, &x->out) != 0)
		return 0;
	x->state.sent_today = sent_today + 1;
	return store_otp_put(st, x->brand_id, x->phash, &x->state);
}

const struct writer_op otp_send_op = { "otp_send", send_run };

void
otp_send_finish(struct app *app, struct otp_send *x, const char *phone,
    int err)
{
	if (err == 0 && x->out.result == OTP_OK)
		err = notify(app, x->brand_id, phone, x->code);
	OPENSSL_cleanse(x->code, sizeof x->code);
	if (err != 0) {
		log_error("otp", "brand=%u err=\"%s\"", x->brand_id,
		    sigil_strerror(err));
		refuse(&x->out, OTP_SEND_FAILED, 0);
	}
}

void
otp_guess_prepare(struct app *app, uint32_t brand_id, const uint8_t phash[32],
    const char *guess, const struct otp_client *client, int64_t now,
    struct otp_guess *g)
{
	struct loyalty *ly = app->loyalty;

	memset(g, 0, sizeof *g);
	g->brand_id = brand_id;
	memcpy(g->phash, phash, sizeof g->phash);
	g->now = now;
	otp_hash(guess, phash, g->hash);
	if (!ratelimit_client_take(ly->guess, client->addr, now))
		refuse(&g->out, OTP_GUESS_LIMIT, ratelimit_client_wait_us(
		    ly->guess, client->addr, now));
}

/*
 * The writer thread: read, count and delete in one place, so that two
 * guesses at once are counted both and a right code is spent once.
 */
int
otp_guess_check(struct store *st, struct otp_guess *g)
{
	struct otp_outcome *out = &g->out;
	struct otp_state o;

	memset(out, 0, sizeof *out);
	if (store_otp_get(st, g->brand_id, g->phash, &o) != 0) {
		refuse(out, OTP_NONE, 0);
		return 0;
	}
	if (o.tries >= OTP_TRIES) {
		refuse(out, OTP_LOCKED, OTP_RESEND_US);
		return 0;
	}
	if (g->now >= o.expires) {
		store_otp_del(st, g->brand_id, g->phash);
		refuse(out, OTP_EXPIRED, 0);
		return 0;
	}
	if (sigil_memeq_ct(g->hash, o.code_hash, 32) == 0)
		return store_otp_del(st, g->brand_id, g->phash);
	o.tries++;
	if (store_otp_put(st, g->brand_id, g->phash, &o) != 0)
		refuse(out, OTP_UNAVAILABLE, 0);
	else if (o.tries >= OTP_TRIES)
		refuse(out, OTP_LOCKED, OTP_RESEND_US);
	else {
		out->result = OTP_WRONG;
		out->tries_left = OTP_TRIES - o.tries;
	}
	return 0;
}
