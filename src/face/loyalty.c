/*
 * loyalty.c - customers and scan-to-earn (SPEC §6), the HTTP side.
 *
 * Identity. A phone is first the anonymous device of its signed sg_d
 * cookie. Phone login (one-time code) links that device to a customer of
 * the brand whose code was scanned; from then on the device cookie IS the
 * session (store_device_link), and the device's earlier scans belong to
 * the customer through that link. No second cookie to steal or forget.
 *
 * Personal data. A phone number is normalised (E.164 digits), looked up
 * by HMAC-SHA256 under the keyring secret "phone-hash", and kept only as
 * AES-256-GCM ciphertext under "phone-enc" (random nonce, the brand id
 * as associated data, so a ciphertext cannot be moved to another brand).
 * It is shown masked (138****1234) everywhere except the admin's PIPL
 * export. Phones and one-time codes never reach the server log: in demo
 * mode the code goes to DATA/otp-outbox.log (0600), a file of its own
 * that plays the SMS gateway; with --sms-webhook it is POSTed there.
 *
 * Money. The store, not this file, enforces one claim per code per
 * role, the budget, the daily cap and prize stock, because LMDB
 * serialises writers and a check made here before the write could race.
 * What this file decides first is what needs no history: is the caller
 * logged in, did this device scan this code, which campaign applies, is
 * the hidden PIN right (5 wrong PINs lock the code for good), is the
 * scan inside the territory. The claim itself is then a WRITER_CLAIM job:
 * the writer thread commits a whole round of claims in one transaction
 * (store_claims_commit, which still checks each one in order) with one
 * sync, and the request is answered from claim_done() once it is
 * durable. A claim committed on this thread would cost an fsync each and
 * stall every other request meanwhile.
 *
 * Campaigns, tiers and the retailer/sales roles of customers are JSON
 * owned here: campaigns are validated strictly when written and parsed
 * into a per-brand cache that every change made through this file
 * invalidates (nothing else writes them). Everything here runs on the
 * event loop thread, so the caches and rate buckets need no locks.
 *
 * May call store, writer, keyring, code, geo, scan, consumer (code
 * lookup), http, webhook (URL and signature) and egress (the SMS
 * gateway) and OpenSSL. Renders no HTML: the pages in web/ escape what they show.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "sigil/code.h"
#include "sigil/app.h"
#include "sigil/lookup.h"
#include "sigil/egress.h"
#include "sigil/geo.h"
#include "sigil/http.h"
#include "sigil/keyring.h"
#include "sigil/ledger.h"
#include "sigil/log.h"
#include "sigil/loyalty.h"
#include "sigil/ratelimit.h"
#include "sigil/scan.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "sigil/webhook.h"
#include "sigil/writer.h"

#define US_PER_S		1000000LL
#define US_PER_DAY		(86400LL * US_PER_S)
#define CN_OFFSET_US		(8 * 3600LL * US_PER_S)	/* days are China days */
#define OTP_DIGITS		6
#define OTP_TTL_DEFAULT		300
#define OTP_TRIES		5
#define OTP_RESEND_US		(60 * US_PER_S)
#define OTP_PER_DAY		10
#define IP_SETS			4096	/* x RATELIMIT_WAYS clients */
#define CAMPAIGN_SKUS_MAX	100
#define CAMPAIGN_BATCHES_MAX	1000
#define CAMPAIGN_CACHE		64
#define POINTS_MAX		1000000
#define BUDGET_MAX		1000000000000LL
#define LIST_MAX		1000
#define LEDGER_SHOWN		200
#define FEEDBACK_TEXT_MAX	STORE_FEEDBACK_MAX
#define TIERS_MAX		8
#define STAFF_MAX		10000
#define MEMBER_PAGE_MAX		(64 * 1024)

/*
 * Limits (src/ground/ratelimit.c; clients per IPv4 address or IPv6 /64): code
 * sends 5 then 1 a minute per client, and per brand --otp-per-hour
 * (burst and hourly rate) so SMS pumping from many networks is bounded
 * too; OTP guesses and wrong PINs 20 then 1 every 3 s per client;
 * phone searches of the brand API PHONE_SEARCH_PER_HOUR per actor.
 */
#define SEND_BURST		5
#define SEND_PER_S		(1.0 / 60)
#define GUESS_BURST		20
#define GUESS_PER_S		(1.0 / 3)
#define OTP_BRAND_HOUR_DEFAULT	1000
#define PHONE_SEARCH_PER_HOUR	20

/* A campaign configuration, parsed. */
struct camp {
	uint32_t	id;
	char		name[401];
	int		paused;
	int64_t		starts, ends;
	int64_t		points[4];		/* by enum claim_role, 0 = not */
	uint32_t	daily_cap;
	int64_t		budget;
	uint32_t	territory;		/* distributor id, 0 = anywhere */
	int		require_pin;
	uint32_t	expiry_days;
	int		nprizes;
	char		prize[STORE_PRIZES_MAX][257];
	double		odds[STORE_PRIZES_MAX];
	uint32_t	stock[STORE_PRIZES_MAX];
	size_t		nskus, nbatches;
	char		skus[CAMPAIGN_SKUS_MAX][STORE_NAME_BYTES + 1];
	uint64_t	batches[CAMPAIGN_BATCHES_MAX];
};

struct camp_set {
	uint32_t	brand_id;	/* 0: slot unused */
	size_t		n;
	struct camp	**v;
};

struct loyalty {
	uint8_t		hash_key[32], enc_key[32];
	char		outbox[PATH_MAX];
	char		*member_html;
	size_t		member_len;
	struct webhook_url *sms;	/* --sms-webhook, or NULL: demo */
	char		sms_secret[LOYALTY_SMS_SECRET_MAX + 1];
	int64_t		otp_ttl_us;
	struct ratelimit *send, *guess, *pin, *brand_send, *phone_search;
	struct camp_set	camps[CAMPAIGN_CACHE];
	unsigned	camp_next;
};

static const char *const role_names[4] = { NULL, "consumer", "retailer",
    "sales" };

static int
role_parse(const char *s)
{
	for (int i = 1; i < 4; i++)
		if (s != NULL && strcmp(s, role_names[i]) == 0)
			return i;
	return 0;
}

/* ---- phones ---- */

int
loyalty_phone_normalise(const char *in, char out[LOYALTY_PHONE_MAX + 1])
{
	char d[LOYALTY_PHONE_MAX + 3];
	size_t n = 0, i = 0;

	if (in == NULL || strlen(in) > 40)
		return SIGIL_EINVAL;
	while (in[i] == ' ')
		i++;
	if (in[i] == '+')
		i++;
	for (; in[i] != '\0'; i++) {
		if (in[i] == ' ' || in[i] == '-' || in[i] == '(' || in[i] == ')')
			continue;
		if (in[i] < '0' || in[i] > '9' || n >= sizeof d - 1)
			return SIGIL_EINVAL;
		d[n++] = in[i];
	}
	d[n] = '\0';
	if (n > 2 && d[0] == '0' && d[1] == '0') {	/* 00 international */
		memmove(d, d + 2, n - 1);
		n -= 2;
	}
	if (n == 11 && d[0] == '1') {			/* mainland mobile */
		if (n + 2 > LOYALTY_PHONE_MAX)
			return SIGIL_EINVAL;
		memmove(d + 2, d, n + 1);
		d[0] = '8';
		d[1] = '6';
		n += 2;
	}
	if (n < 6 || n > LOYALTY_PHONE_MAX || d[0] == '0')
		return SIGIL_EINVAL;
	memcpy(out, d, n + 1);
	return 0;
}

void
loyalty_phone_mask(const char *p, char *out, size_t size)
{
	size_t n = strlen(p);

	if (n == 13 && strncmp(p, "86", 2) == 0)
		snprintf(out, size, "%.3s****%s", p + 2, p + 9);
	else if (n >= 10)
		snprintf(out, size, "+%.*s****%s", (int)(n - 8 > 4 ? 4 : n - 8),
		    p, p + n - 4);
	else
		snprintf(out, size, "+****%s", p + n - 2);
}

int
loyalty_seal(const uint8_t key[32], uint32_t brand_id, const char *text,
    uint8_t *out, size_t size, size_t *out_len)
{
	EVP_CIPHER_CTX *ctx;
	uint8_t aad[4];
	size_t n = strlen(text);
	int len = 0, fin = 0, err = SIGIL_ECRYPTO;

	if (n + 28 > size || n > INT_MAX - 32)
		return SIGIL_EINVAL;
	if (sigil_random(out, 12) != 0)
		return SIGIL_ECRYPTO;
	sigil_be32_put(aad, brand_id);
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		return SIGIL_ENOMEM;
	if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, out) == 1 &&
	    EVP_EncryptUpdate(ctx, NULL, &len, aad, sizeof aad) == 1 &&
	    EVP_EncryptUpdate(ctx, out + 12, &len, (const uint8_t *)text,
	    (int)n) == 1 &&
	    EVP_EncryptFinal_ex(ctx, out + 12 + len, &fin) == 1 &&
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16,
	    out + 12 + len + fin) == 1) {
		*out_len = 12 + (size_t)len + (size_t)fin + 16;
		err = 0;
	}
	EVP_CIPHER_CTX_free(ctx);
	return err;
}

int
loyalty_open(const uint8_t key[32], uint32_t brand_id, const uint8_t *in,
    size_t len, char *text, size_t size)
{
	EVP_CIPHER_CTX *ctx;
	uint8_t aad[4], tag[16], buf[STORE_PHONE_CT_MAX];
	int n = 0, fin = 0, err = SIGIL_EFORGED;

	if (len < 28 || len - 28 >= size || len - 28 > sizeof buf)
		return SIGIL_EFORGED;
	sigil_be32_put(aad, brand_id);
	memcpy(tag, in + len - 16, 16);
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		return SIGIL_ENOMEM;
	if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, in) == 1 &&
	    EVP_DecryptUpdate(ctx, NULL, &n, aad, sizeof aad) == 1 &&
	    EVP_DecryptUpdate(ctx, buf, &n, in + 12, (int)(len - 28)) == 1 &&
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, tag) == 1 &&
	    EVP_DecryptFinal_ex(ctx, buf + n, &fin) == 1 &&
	    memchr(buf, '\0', (size_t)(n + fin)) == NULL) {
		memcpy(text, buf, (size_t)(n + fin));
		text[n + fin] = '\0';
		err = 0;
	}
	EVP_CIPHER_CTX_free(ctx);
	return err;
}

static void
phone_hash(const struct loyalty *ly, const char *norm, uint8_t out[32])
{
	unsigned int len = 32;

	HMAC(EVP_sha256(), ly->hash_key, 32, (const uint8_t *)norm,
	    strlen(norm), out, &len);
}

/* The customer's phone, masked (or "erased"). */
static void
customer_masked(const struct loyalty *ly, const struct customer *cu,
    char *out, size_t size)
{
	char phone[LOYALTY_PHONE_MAX + 1];

	if (cu->erased != 0 || cu->phone_ct_len == 0)
		snprintf(out, size, "erased");
	else if (loyalty_open(ly->enc_key, cu->brand_id, cu->phone_ct,
	    cu->phone_ct_len, phone, sizeof phone) == 0)
		loyalty_phone_mask(phone, out, size);
	else
		snprintf(out, size, "unreadable");
}

/* ---- the ledger, computed (ledger.c does the arithmetic) ---- */

static int64_t
balance_of(const struct ledger_entry *e, size_t n, int64_t now)
{
	int64_t bal = 0;

	return ledger_balance(e, n, now, &bal) == 0 ? bal : 0;
}

/* RFM inputs: 12-month points, claims in 12 months, first and last earn. */
static int64_t
points_12m(const struct ledger_entry *e, size_t n, int64_t now, size_t *freq,
    int64_t *first, int64_t *last)
{
	int64_t sum = 0;

	*freq = 0;
	*first = *last = 0;
	for (size_t i = 0; i < n; i++) {
		if (e[i].type != LEDGER_EARN)
			continue;
		if (e[i].at > *last)
			*last = e[i].at;
		if (*first == 0 || e[i].at < *first)
			*first = e[i].at;
		if (e[i].at > now - LEDGER_YEAR_US && e[i].at <= now)
			(*freq)++;
	}
	if (ledger_earned_12m(e, n, now, &sum) != 0)
		sum = 0;
	return sum;
}

const char *
loyalty_segment(const struct ledger_entry *e, size_t n, int64_t created,
    int64_t now)
{
	size_t f;
	int64_t last, first, days;
	int64_t m = points_12m(e, n, now, &f, &first, &last);

	if (last == 0)
		return now - created <= 30 * US_PER_DAY ? "new" : "hibernating";
	days = (now - last) / US_PER_DAY;
	if (days <= 30 && (f >= 10 || m >= 2000))
		return "champions";
	if (days <= 90 && f >= 4)
		return "loyal";
	if (now - first <= 30 * US_PER_DAY)
		return "new";
	if (days <= 90)
		return "promising";
	if (days <= 180 && f >= 2)
		return "at_risk";
	return "hibernating";
}

struct ledger_buf {
	struct ledger_entry	*v;
	size_t			n, cap;
	int			oom;
};

static int
ledger_collect(void *arg, const struct ledger_entry *e)
{
	struct ledger_buf *b = arg;

	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		struct ledger_entry *v = realloc(b->v, cap * sizeof *v);

		if (v == NULL) {
			b->oom = 1;
			return 1;
		}
		b->v = v;
		b->cap = cap;
	}
	b->v[b->n++] = *e;
	return 0;
}

static int
ledger_load(struct app *app, uint32_t brand_id, uint64_t customer,
    struct ledger_buf *b)
{
	int err;

	memset(b, 0, sizeof *b);
	err = store_ledger_each(app->store, brand_id, customer, ledger_collect,
	    b);
	if (b->oom)
		err = SIGIL_ENOMEM;
	if (err != 0 && err != SIGIL_ENOTFOUND) {
		free(b->v);
		memset(b, 0, sizeof *b);
		return err;
	}
	return 0;
}

/* ---- brand settings: tiers and staff roles ---- */

static json_t *
settings_load(struct app *app, uint32_t brand_id)
{
	char *text = NULL;
	json_t *o = NULL;

	if (store_brand_settings_get(app->store, brand_id, &text) == 0)
		o = json_loads(text, 0, NULL);
	free(text);
	if (!json_is_object(o)) {
		json_decref(o);
		o = json_object();
	}
	return o;
}

static int
settings_save(struct app *app, uint32_t brand_id, json_t *o)
{
	char *text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	int err;

	if (text == NULL)
		return SIGIL_ENOMEM;
	err = store_brand_settings_put(app->store, brand_id, text);
	free(text);
	return err;
}

static json_t *
tiers_default(void)
{
	return json_pack("[{s:s,s:i},{s:s,s:i},{s:s,s:i}]",
	    "name", "铜 Bronze", "min", 0, "name", "银 Silver", "min", 500,
	    "name", "金 Gold", "min", 2000);
}

static const char *
tier_of(json_t *settings, int64_t pts, char *out, size_t size)
{
	json_t *tiers = json_object_get(settings, "tiers"), *t, *def = NULL;
	size_t i;

	if (!json_is_array(tiers))
		tiers = def = tiers_default();
	snprintf(out, size, "-");
	json_array_foreach(tiers, i, t)
		if (json_integer_value(json_object_get(t, "min")) <= pts)
			snprintf(out, size, "%s", json_string_value(
			    json_object_get(t, "name")));
	json_decref(def);
	return out;
}

static int
staff_role(json_t *settings, uint64_t customer)
{
	char k[24];

	snprintf(k, sizeof k, "%llu", (unsigned long long)customer);
	return role_parse(json_string_value(json_object_get(
	    json_object_get(settings, "staff"), k)));
}

/* ---- campaigns ---- */

static int
cfg_fail(char *err, size_t size, const char *msg)
{
	snprintf(err, size, "%s", msg);
	return SIGIL_EINVAL;
}

static int
int_in(json_t *v, json_int_t lo, json_int_t hi)
{
	return json_is_integer(v) && json_integer_value(v) >= lo &&
	    json_integer_value(v) <= hi;
}

/*
 * A name of 1 to max characters (sigil_text_check: code points, no
 * control or bidi control characters). When it is not and err is given,
 * err says so, naming field.
 */
static int
name_ok(json_t *v, size_t max, const char *field, char *err, size_t esize)
{
	struct sigil_text_err te = { .why = -1 };

	if (json_is_string(v) && sigil_text_check(json_string_value(v),
	    json_string_length(v), max, 0, &te) == 0)
		return 1;
	if (err != NULL)
		sigil_text_explain(field, max, 0, &te, err, esize);
	return 0;
}

/*
 * Parses o (a checked or to-be-checked configuration) into c. On success
 * o's dates are rewritten in canonical form.
 */
static int
camp_parse(json_t *o, struct camp *c, char *err, size_t esize)
{
	static const char *const keys[] = { "name", "skus", "batches",
	    "starts", "ends", "points", "roles", "daily_cap", "budget",
	    "territory", "require_pin", "draw", "expiry_days", "paused" };
	const char *key;
	json_t *v, *x;
	size_t i;
	double sum = 0;
	char ts[SIGIL_TIME_LEN + 1];

	memset(c, 0, sizeof *c);
	if (!json_is_object(o))
		return cfg_fail(err, esize, "the configuration must be a JSON "
		    "object");
	json_object_foreach(o, key, v) {
		for (i = 0; i < sizeof keys / sizeof keys[0]; i++)
			if (strcmp(key, keys[i]) == 0)
				break;
		if (i == sizeof keys / sizeof keys[0]) {
			snprintf(err, esize, "unknown field '%.40s'", key);
			return SIGIL_EINVAL;
		}
	}
	if (!name_ok(json_object_get(o, "name"), 100, "name", err, esize))
		return SIGIL_EINVAL;
	snprintf(c->name, sizeof c->name, "%s",
	    json_string_value(json_object_get(o, "name")));
	if ((v = json_object_get(o, "skus")) != NULL) {
		if (!json_is_array(v) || json_array_size(v) > CAMPAIGN_SKUS_MAX)
			return cfg_fail(err, esize, "'skus' must be an array "
			    "of at most 100 SKUs");
		json_array_foreach(v, i, x) {
			if (!name_ok(x, STORE_NAME_MAX, "skus[]", err,
			    esize))
				return SIGIL_EINVAL;
			snprintf(c->skus[c->nskus++], STORE_NAME_BYTES + 1, "%s",
			    json_string_value(x));
		}
	}
	if ((v = json_object_get(o, "batches")) != NULL) {
		if (!json_is_array(v) ||
		    json_array_size(v) > CAMPAIGN_BATCHES_MAX)
			return cfg_fail(err, esize, "'batches' must be an "
			    "array of at most 1000 batch ids");
		json_array_foreach(v, i, x) {
			if (!int_in(x, 1, UINT32_MAX))
				return cfg_fail(err, esize, "'batches' holds "
				    "batch ids (positive integers)");
			c->batches[c->nbatches++] =
			    (uint64_t)json_integer_value(x);
		}
	}
	if (c->nskus + c->nbatches == 0)
		return cfg_fail(err, esize, "name at least one product in "
		    "'skus' or one batch in 'batches'");
	if (sigil_time_parse(json_string_value(json_object_get(o, "starts")) ?
	    json_string_value(json_object_get(o, "starts")) : "", &c->starts)
	    != 0 || sigil_time_parse(json_string_value(json_object_get(o,
	    "ends")) ? json_string_value(json_object_get(o, "ends")) : "",
	    &c->ends) != 0)
		return cfg_fail(err, esize, "'starts' and 'ends' must be ISO "
		    "dates (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ)");
	/*
	 * A bare date is a China calendar day (UTC+8), as daily caps count
	 * them: "starts" at 00:00 and "ends" at 24:00 of that day there.
	 * The canonical form written back is the UTC instant.
	 */
	if (strlen(json_string_value(json_object_get(o, "starts"))) == 10)
		c->starts -= CN_OFFSET_US;
	if (strlen(json_string_value(json_object_get(o, "ends"))) == 10)
		c->ends += US_PER_DAY - CN_OFFSET_US;
	if (c->ends <= c->starts)
		return cfg_fail(err, esize, "'ends' must be after 'starts'");
	json_object_set_new(o, "starts", json_string(sigil_time_format(
	    c->starts, ts)));
	json_object_set_new(o, "ends", json_string(sigil_time_format(c->ends,
	    ts)));
	if (!int_in(json_object_get(o, "points"), 1, POINTS_MAX))
		return cfg_fail(err, esize, "'points' (per consumer claim) "
		    "must be an integer from 1 to 1000000");
	c->points[CLAIM_CONSUMER] = json_integer_value(json_object_get(o,
	    "points"));
	if ((v = json_object_get(o, "roles")) != NULL) {
		if (!json_is_object(v) || json_object_size(v) == 0)
			return cfg_fail(err, esize, "'roles' must be an object "
			    "of role: points (consumer, retailer, sales)");
		c->points[CLAIM_CONSUMER] = 0;
		json_object_foreach(v, key, x) {
			int r = role_parse(key);

			if (r == 0 || !int_in(x, 1, POINTS_MAX))
				return cfg_fail(err, esize, "'roles' maps "
				    "consumer, retailer or sales to points "
				    "from 1 to 1000000");
			c->points[r] = json_integer_value(x);
		}
	}
	if ((v = json_object_get(o, "daily_cap")) != NULL) {
		if (!int_in(v, 0, 100000))
			return cfg_fail(err, esize, "'daily_cap' must be 0 "
			    "(none) to 100000 claims per customer per day");
		c->daily_cap = (uint32_t)json_integer_value(v);
	}
	if ((v = json_object_get(o, "budget")) != NULL) {
		if (!int_in(v, 0, BUDGET_MAX))
			return cfg_fail(err, esize, "'budget' must be 0 "
			    "(unlimited) to 10^12 points");
		c->budget = json_integer_value(v);
	}
	if ((v = json_object_get(o, "territory")) != NULL) {
		if (!int_in(v, 1, UINT32_MAX))
			return cfg_fail(err, esize, "'territory' must be a "
			    "distributor id");
		c->territory = (uint32_t)json_integer_value(v);
	}
	if ((v = json_object_get(o, "require_pin")) != NULL) {
		if (!json_is_boolean(v))
			return cfg_fail(err, esize, "'require_pin' must be "
			    "true or false");
		c->require_pin = json_is_true(v);
	}
	if ((v = json_object_get(o, "paused")) != NULL) {
		if (!json_is_boolean(v))
			return cfg_fail(err, esize, "'paused' must be true or "
			    "false");
		c->paused = json_is_true(v);
	}
	if ((v = json_object_get(o, "expiry_days")) != NULL) {
		if (!int_in(v, 0, 3650))
			return cfg_fail(err, esize, "'expiry_days' must be 0 "
			    "(never) to 3650");
		c->expiry_days = (uint32_t)json_integer_value(v);
	}
	if ((v = json_object_get(o, "draw")) != NULL) {
		if (!json_is_array(v) || json_array_size(v) > STORE_PRIZES_MAX)
			return cfg_fail(err, esize, "'draw' must be an array "
			    "of at most 8 prizes");
		json_array_foreach(v, i, x) {
			json_t *odds = json_object_get(x, "odds");

			if (json_is_object(x) && !name_ok(json_object_get(x,
			    "name"), 64, "draw[].name", err, esize))
				return SIGIL_EINVAL;
			if (!json_is_object(x) || json_object_size(x) != 3 ||
			    !json_is_number(odds) ||
			    !isfinite(json_number_value(odds)) ||
			    json_number_value(odds) < 0 ||
			    json_number_value(odds) > 1 ||
			    !int_in(json_object_get(x, "stock"), 0,
			    UINT32_MAX))
				return cfg_fail(err, esize, "each prize is "
				    "{\"name\": 1-64 characters, \"odds\": 0..1, "
				    "\"stock\": count}");
			snprintf(c->prize[i], sizeof c->prize[i], "%s",
			    json_string_value(json_object_get(x, "name")));
			c->odds[i] = json_number_value(odds);
			c->stock[i] = (uint32_t)json_integer_value(
			    json_object_get(x, "stock"));
			sum += c->odds[i];
		}
		if (sum > 1.0 + 1e-9)
			return cfg_fail(err, esize, "the prizes' odds add up "
			    "to more than 1");
		c->nprizes = (int)json_array_size(v);
	}
	return 0;
}

int
loyalty_campaign_check(const char *json, char **out, char *err,
    size_t errsize)
{
	struct camp *c;
	json_error_t jerr;
	json_t *o;
	int rc;

	if (json == NULL || strlen(json) > STORE_CAMPAIGN_MAX / 2)
		return cfg_fail(err, errsize, "configuration too large");
	if ((o = json_loads(json, JSON_REJECT_DUPLICATES, &jerr)) == NULL)
		return cfg_fail(err, errsize, "not valid JSON");
	if ((c = malloc(sizeof *c)) == NULL) {
		json_decref(o);
		return SIGIL_ENOMEM;
	}
	rc = camp_parse(o, c, err, errsize);
	free(c);
	if (rc == 0 && (*out = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS)) ==
	    NULL)
		rc = SIGIL_ENOMEM;
	json_decref(o);
	return rc;
}

static void
camp_set_clear(struct camp_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof *s);
}

static int
camp_load_one(void *arg, const struct campaign *cp)
{
	struct camp_set *s = arg;
	struct camp *c, **v;
	char err[160];
	json_t *o;

	if ((o = json_loads(cp->config, 0, NULL)) == NULL)
		return 0;
	if ((c = malloc(sizeof *c)) == NULL ||
	    (v = realloc(s->v, (s->n + 1) * sizeof *v)) == NULL) {
		free(c);
		json_decref(o);
		return 1;
	}
	s->v = v;
	if (camp_parse(o, c, err, sizeof err) != 0) {
		log_warn("campaign_unreadable", "brand=%u id=%u", cp->brand_id,
		    cp->id);
		free(c);
	} else {
		c->id = cp->id;
		s->v[s->n++] = c;
	}
	json_decref(o);
	return 0;
}

static struct camp_set *
camps_of(struct loyalty *ly, struct app *app, uint32_t brand_id)
{
	struct camp_set *s;

	for (size_t i = 0; i < CAMPAIGN_CACHE; i++)
		if (ly->camps[i].brand_id == brand_id)
			return &ly->camps[i];
	s = &ly->camps[ly->camp_next++ % CAMPAIGN_CACHE];
	camp_set_clear(s);
	if (store_campaign_each(app->store, brand_id, camp_load_one, s) < 0) {
		camp_set_clear(s);
		return NULL;
	}
	s->brand_id = brand_id;
	return s;
}

static void
camps_forget(struct loyalty *ly, uint32_t brand_id)
{
	for (size_t i = 0; i < CAMPAIGN_CACHE; i++)
		if (ly->camps[i].brand_id == brand_id)
			camp_set_clear(&ly->camps[i]);
}

static int
camp_covers(const struct camp *c, uint64_t batch_id, const char *sku,
    int64_t now)
{
	if (c->paused || now < c->starts || now >= c->ends)
		return 0;
	for (size_t i = 0; i < c->nbatches; i++)
		if (c->batches[i] == batch_id)
			return 1;
	for (size_t i = 0; i < c->nskus; i++)
		if (strcmp(c->skus[i], sku) == 0)
			return 1;
	return 0;
}

/* The running campaign for this code and role (role 0: any), or NULL. */
static const struct camp *
camp_find(struct app *app, uint32_t brand_id, uint64_t batch_id,
    const char *sku, int role, int64_t now)
{
	struct camp_set *s = camps_of(app->loyalty, app, brand_id);

	if (s == NULL)
		return NULL;
	for (size_t i = 0; i < s->n; i++) {
		const struct camp *c = s->v[i];

		if (!camp_covers(c, batch_id, sku, now))
			continue;
		if (role == 0 || c->points[role] > 0)
			return c;
	}
	return NULL;
}

/* ---- request helpers ---- */

static void
too_many(struct http_call *c, int64_t retry_us, const char *code,
    const char *msg)
{
	char s[24];

	snprintf(s, sizeof s, "%lld", (long long)(retry_us / US_PER_S + 1));
	http_add_header(c, "Retry-After", s);
	http_reply_error(c, 429, code, msg);
}

/*
 * A consumer POST body: JSON object, sent as application/json (a cross-
 * site form cannot send that type without a CORS preflight, which this
 * server never grants). NULL after replying.
 */
static json_t *
consumer_body(struct http_call *c)
{
	const char *type = http_header(c, "Content-Type");
	json_error_t jerr;
	json_t *o;
	size_t len;
	char *text;

	if (http_body_too_large(c)) {
		http_reply_error(c, 413, "too_large", "body too large");
		return NULL;
	}
	if (type == NULL || strncmp(type, "application/json", 16) != 0) {
		http_reply_error(c, 415, "unsupported_media_type",
		    "send Content-Type: application/json");
		return NULL;
	}
	o = NULL;
	if ((text = http_body_text(c, &len)) == NULL ||
	    (o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr)) ==
	    NULL || !json_is_object(o)) {
		json_decref(o);
		free(text);
		http_reply_error(c, 400, "bad_json", "expected a JSON object");
		return NULL;
	}
	free(text);
	return o;
}

static int
device_get(struct app *app, struct http_call *c, uint64_t *device)
{
	char value[64];

	if (http_cookie(c, SCAN_COOKIE_NAME, value, sizeof value) == 0 &&
	    scan_cookie_check(app->cookie_key, value, device) == 0)
		return 0;
	return SIGIL_ENOTFOUND;
}

static const char *
query_get(struct http_call *c, const char *name, char *out, size_t size)
{
	struct evkeyvalq q;
	const char *v, *res = NULL;

	if (c->query == NULL)
		return NULL;
	memset(&q, 0, sizeof q);
	if (evhttp_parse_query_str(c->query, &q) != 0)
		return NULL;
	if ((v = evhttp_find_header(&q, name)) != NULL && strlen(v) < size &&
	    http_utf8_valid(v, strlen(v))) {
		strcpy(out, v);
		res = out;
	}
	evhttp_clear_headers(&q);
	return res;
}

/*
 * The brand a consumer request is about: from "code" (a code or code URL
 * the device scanned; *info filled) or "brand" (a name). 0, or -1 after
 * replying.
 */
static int
brand_of(struct http_call *c, const char *code, const char *name,
    struct brand *b, struct code_info *info, int *have_code)
{
	struct app *app = c->app;

	*have_code = 0;
	if (code != NULL) {
		int err = strlen(code) > CODE_URL_MAX ? SIGIL_EINVAL :
		    lookup_code(app, code, info);

		if (err == SIGIL_EINVAL) {
			http_reply_error(c, 422, "bad_code",
			    "not a sigil code or code URL");
			return -1;
		}
		if (err != 0) {
			http_reply_error(c, 404, "unknown_code",
			    "this code was not issued by any brand here");
			return -1;
		}
		*b = info->brand;
		*have_code = 1;
		return 0;
	}
	if (name != NULL && strlen(name) <= STORE_NAME_BYTES &&
	    store_brand_find(app->store, name, b) == 0)
		return 0;
	http_reply_error(c, name ? 404 : 422, name ? "unknown_brand" :
	    "invalid", name ? "no such brand" : "send the scanned 'code' "
	    "(or a 'brand' name)");
	return -1;
}

/* The customer the device is logged in as, for a brand named in query. */
static int
session_of(struct http_call *c, struct brand *b, struct customer *cu,
    uint64_t *device_out)
{
	struct app *app = c->app;
	char name[STORE_NAME_BYTES + 1], code[CODE_URL_MAX + 1];
	struct code_info info;
	uint64_t device, id;

	if (device_get(app, c, &device) != 0)
		return SIGIL_EDENIED;
	if (query_get(c, "code", code, sizeof code) != NULL) {
		if (lookup_code(app, code, &info) != 0)
			return SIGIL_ENOTFOUND;
		*b = info.brand;
	} else if (query_get(c, "brand", name, sizeof name) != NULL) {
		if (store_brand_find(app->store, name, b) != 0)
			return SIGIL_ENOTFOUND;
	} else {
		/* No brand named: the first one this device is logged in to. */
		for (uint32_t bid = 1; ; bid++) {
			if (store_brand_get(app->store, bid, b) != 0)
				return SIGIL_EDENIED;
			if (store_device_customer(app->store, bid, device, &id)
			    == 0)
				break;
		}
	}
	if (store_device_customer(app->store, b->id, device, &id) != 0 ||
	    store_customer_get(app->store, b->id, id, cu) != 0 ||
	    cu->erased != 0)
		return SIGIL_EDENIED;
	if (device_out != NULL)
		*device_out = device;
	return 0;
}

static void
session_fail(struct http_call *c, int err)
{
	if (err == SIGIL_ENOTFOUND)
		http_reply_error(c, 404, "unknown_brand", "no such brand or "
		    "code");
	else
		http_reply_error(c, 401, "login_required", "log in with your "
		    "phone number first (POST /api/v1/customers/otp)");
}

/* ---- the notifier ---- */

/*
 * Erasure: rewrites the demo outbox without the brand's lines for phone
 * (the normalised number, as notify wrote it): a new file, synced,
 * renamed over the old one. 0 also when there is no outbox or no phone.
 */
static int
outbox_forget(struct app *app, uint32_t brand_id, const char *phone)
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
	const char *headers[7];
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
	headers[0] = "User-Agent";
	headers[1] = "sigil-sms/1";
	headers[2] = "X-Sigil-Timestamp";
	headers[3] = ts;
	headers[4] = "X-Sigil-Signature";
	headers[5] = sig;
	headers[6] = NULL;
	rc = egress_post(app->egress, ly->sms->tls, ly->sms->host,
	    ly->sms->port, ly->sms->path, headers, body, strlen(body), 10,
	    sms_done, NULL, NULL);
	OPENSSL_cleanse(body, strlen(body));
	free(body);
	return rc;
}

/* ---- POST /api/v1/customers/otp and /verify ---- */

static void
otp_hash(const char *otp, const uint8_t phash[32], uint8_t out[32])
{
	uint8_t msg[OTP_DIGITS + 32];

	memcpy(msg, otp, OTP_DIGITS);
	memcpy(msg + OTP_DIGITS, phash, 32);
	SHA256(msg, sizeof msg, out);
}

/* Phone, brand (by code or name) out of a login body; -1 after replying. */
static int
login_fields(struct http_call *c, json_t *o, char phone[LOYALTY_PHONE_MAX + 1],
    struct brand *b, uint8_t phash[32])
{
	struct code_info info;
	int have_code;

	if (loyalty_phone_normalise(json_string_value(json_object_get(o,
	    "phone")), phone) != 0) {
		http_reply_error(c, 422, "bad_phone", "'phone' must be a phone "
		    "number of 6 to 15 digits (+86 optional)");
		return -1;
	}
	if (brand_of(c, json_string_value(json_object_get(o, "code")),
	    json_string_value(json_object_get(o, "brand")), b, &info,
	    &have_code) != 0)
		return -1;
	phone_hash(((struct app *)c->app)->loyalty, phone, phash);
	return 0;
}

void
loyalty_otp(struct http_call *c)
{
	struct app *app = c->app;
	struct loyalty *ly = app->loyalty;
	struct otp_state o = { 0 };
	struct brand b;
	char phone[LOYALTY_PHONE_MAX + 1], otp[OTP_DIGITS + 1], masked[32];
	uint8_t phash[32];
	int64_t now = sigil_now_us(), day = (now + CN_OFFSET_US) / US_PER_DAY;
	uint32_t sent_today = 0;
	json_t *body;
	int err;

	if ((body = consumer_body(c)) == NULL)
		return;
	err = login_fields(c, body, phone, &b, phash);
	json_decref(body);
	if (err != 0)
		return;
	if (store_otp_get(app->store, b.id, phash, &o) == 0) {
		if (now - o.sent_at < OTP_RESEND_US) {
			too_many(c, OTP_RESEND_US - (now - o.sent_at),
			    "otp_too_soon", "a code was sent less than a "
			    "minute ago");
			return;
		}
		sent_today = o.day == day ? o.sent_today : 0;
		if (sent_today >= OTP_PER_DAY) {
			too_many(c, (day + 1) * US_PER_DAY - CN_OFFSET_US - now,
			    "otp_daily_limit", "too many codes for this phone "
			    "today");
			return;
		}
	}
	if (!ratelimit_client_take(ly->send, c->client, now)) {
		too_many(c, ratelimit_client_wait_us(ly->send, c->client, now),
		    "rate_limited", "too many codes requested from this "
		    "address");
		return;
	}
	if (!ratelimit_take(ly->brand_send, &b.id, sizeof b.id, now)) {
		static int64_t logged;

		if (now - logged >= US_PER_S) {	/* at most once a second */
			logged = now;
			log_warn("otp_brand_limit", "brand=%u client=%s", b.id,
			    c->client_text);
		}
		too_many(c, ratelimit_wait_us(ly->brand_send, &b.id,
		    sizeof b.id, now), "rate_limited", "too many codes sent "
		    "for this brand this hour; try again later");
		return;
	}
	/* Uniform over 000000..999999: reject the top of the 32-bit range. */
	for (;;) {
		uint32_t r;

		if (sigil_random(&r, sizeof r) != 0) {
			http_reply_error(c, 503, "unavailable", "no randomness");
			return;
		}
		if (r < 4294000000u) {
			snprintf(otp, sizeof otp, "%06u", r % 1000000u);
			break;
		}
	}
	memset(&o, 0, sizeof o);
	otp_hash(otp, phash, o.code_hash);
	o.sent_at = now;
	o.expires = now + ly->otp_ttl_us;
	o.tries = 0;
	o.sent_today = sent_today + 1;
	o.day = day;
	if ((err = store_otp_put(app->store, b.id, phash, &o)) != 0 ||
	    (err = notify(app, b.id, phone, otp)) != 0) {
		log_error("otp", "brand=%u err=\"%s\"", b.id,
		    sigil_strerror(err));
		http_reply_error(c, 503, "unavailable", "the code could not be "
		    "sent; try again");
		return;
	}
	OPENSSL_cleanse(otp, sizeof otp);
	loyalty_phone_mask(phone, masked, sizeof masked);
	http_reply_jsont(c, 202, json_pack("{s:b,s:s,s:I}", "sent", 1,
	    "phone", masked, "expires_in", (json_int_t)(ly->otp_ttl_us /
	    US_PER_S)));
}

void
loyalty_verify(struct http_call *c)
{
	struct app *app = c->app;
	struct loyalty *ly = app->loyalty;
	struct otp_state o;
	struct customer cu;
	struct activity act = { 0 };
	struct brand b;
	char phone[LOYALTY_PHONE_MAX + 1], masked[32];
	const char *otp;
	uint8_t phash[32], h[32], ct[STORE_PHONE_CT_MAX];
	size_t ctlen;
	uint64_t device;
	int64_t now = sigil_now_us();
	int created = 0, fresh = 0, err;
	json_t *body;

	if ((body = consumer_body(c)) == NULL)
		return;
	if (login_fields(c, body, phone, &b, phash) != 0) {
		json_decref(body);
		return;
	}
	otp = json_string_value(json_object_get(body, "otp"));
	if (otp == NULL || strlen(otp) != OTP_DIGITS ||
	    strspn(otp, "0123456789") != OTP_DIGITS) {
		json_decref(body);
		http_reply_error(c, 422, "invalid", "'otp' must be the 6-digit "
		    "code");
		return;
	}
	otp_hash(otp, phash, h);
	json_decref(body);
	if (!ratelimit_client_take(ly->guess, c->client, now)) {
		too_many(c, ratelimit_client_wait_us(ly->guess, c->client, now),
		    "rate_limited", "too many attempts from this address");
		return;
	}
	if (store_otp_get(app->store, b.id, phash, &o) != 0) {
		http_reply_error(c, 401, "otp_invalid", "no code is pending for "
		    "this phone; request one");
		return;
	}
	if (o.tries >= OTP_TRIES) {
		too_many(c, OTP_RESEND_US, "otp_locked", "too many wrong "
		    "codes; request a new one");
		return;
	}
	if (now >= o.expires) {
		store_otp_del(app->store, b.id, phash);
		http_reply_error(c, 401, "otp_expired", "the code has expired; "
		    "request a new one");
		return;
	}
	if (sigil_memeq_ct(h, o.code_hash, 32) != 0) {
		o.tries++;
		if (store_otp_put(app->store, b.id, phash, &o) != 0) {
			http_reply_error(c, 503, "unavailable", "try again");
			return;
		}
		if (o.tries >= OTP_TRIES) {
			too_many(c, OTP_RESEND_US, "otp_locked", "too many "
			    "wrong codes; request a new one");
			return;
		}
		http_reply_jsont(c, 401, json_pack("{s:{s:s,s:s,s:i}}", "error",
		    "code", "otp_wrong", "message", "wrong code", "tries_left",
		    (int)(OTP_TRIES - o.tries)));
		return;
	}
	/* A code is good once: delete it before anything else. */
	if ((err = store_otp_del(app->store, b.id, phash)) != 0 ||
	    (err = loyalty_seal(ly->enc_key, b.id, phone, ct, sizeof ct,
	    &ctlen)) != 0 ||
	    (err = store_customer_by_phone(app->store, b.id, phash, ct, ctlen,
	    &cu, &created)) != 0) {
		log_error("login", "brand=%u err=\"%s\"", b.id,
		    sigil_strerror(err));
		http_reply_error(c, 503, "unavailable", "try again");
		return;
	}
	if (device_get(app, c, &device) != 0) {
		device = 0;
		while (device == 0)
			if (sigil_random(&device, sizeof device) != 0) {
				http_reply_error(c, 503, "unavailable",
				    "no randomness");
				return;
			}
		fresh = 1;
	}
	if ((err = store_device_link(app->store, b.id, device, cu.id, now)) !=
	    0) {
		http_reply_error(c, 503, "unavailable", "try again");
		return;
	}
	act.brand_id = b.id;
	act.at = now;
	act.customer_id = cu.id;
	act.type = created ? ACTIVITY_CUSTOMER_NEW : ACTIVITY_LOGIN;
	store_activity_add(app->store, &act);
	if (fresh) {
		char cookie[SCAN_COOKIE_LEN + 1], header[160];

		scan_cookie_make(app->cookie_key, device, cookie);
		snprintf(header, sizeof header, "%s=%s; Path=/; Max-Age=63072000;"
		    " HttpOnly; SameSite=Lax%s", SCAN_COOKIE_NAME, cookie,
		    app->secure_cookies ? "; Secure" : "");
		http_add_header(c, "Set-Cookie", header);
	}
	log_info("login", "brand=%u customer=%llu new=%d", b.id,
	    (unsigned long long)cu.id, created);
	loyalty_phone_mask(phone, masked, sizeof masked);
	http_reply_jsont(c, 200, json_pack("{s:{s:I,s:s},s:b}", "customer",
	    "id", (json_int_t)cu.id, "phone", masked, "created", created));
}

/* ---- claims ---- */

struct scanned_by {
	uint64_t	device;
	int		found;
	float		lat, lng;
	int		located;
};

static int
scanned_one(void *arg, const struct scan_rec *r)
{
	struct scanned_by *s = arg;

	if (r->device != s->device || (r->flags & SCAN_BOT))
		return 0;
	s->found = 1;
	if (r->flags & SCAN_HAS_LOC) {
		s->located = 1;
		s->lat = r->lat;
		s->lng = r->lng;
	}
	return 0;
}

/* Uniform in [0, 1) from 53 random bits. */
static int
draw_uniform(double *out)
{
	uint64_t r;

	if (sigil_random(&r, sizeof r) != 0)
		return SIGIL_ECRYPTO;
	*out = (double)(r >> 11) / 9007199254740992.0;
	return 0;
}

static int64_t
ledger_balance_of(struct app *app, uint32_t brand_id, uint64_t customer)
{
	struct ledger_buf lb;
	int64_t bal;

	if (ledger_load(app, brand_id, customer, &lb) != 0)
		return 0;
	bal = balance_of(lb.v, lb.n, sigil_now_us());
	free(lb.v);
	return bal;
}

/*
 * A claim in flight: the request and what its answer needs, copied out
 * of the campaign cache (which a campaign change may free before the
 * writer answers). Freed by claim_done.
 */
struct claim_ctx {
	struct http_call	*call;
	struct writer_job	job;
	uint32_t		campaign;
	char			prize[STORE_PRIZES_MAX][65];
};

/*
 * Wrong hidden PINs (SPEC §2/§4): a customer may try STORE_PIN_TRIES on
 * one code and STORE_PIN_DAY_TRIES on all codes per China day; the code
 * itself locks only after STORE_PIN_CODE_TRIES from anyone, so one
 * customer cannot lock the rewards of codes he does not hold, and the
 * brand can lift that lock (POST /api/v1/codes/{code}/pin-unlock).
 */
static uint32_t
pin_tries_left(const struct pin_fails *pf)
{
	uint32_t mine = pf->mine < STORE_PIN_TRIES ?
	    STORE_PIN_TRIES - pf->mine : 0;
	uint32_t today = pf->today < STORE_PIN_DAY_TRIES ?
	    STORE_PIN_DAY_TRIES - pf->today : 0;
	uint32_t code = pf->code < STORE_PIN_CODE_TRIES ?
	    STORE_PIN_CODE_TRIES - pf->code : 0;

	return mine < today ? (mine < code ? mine : code) :
	    (today < code ? today : code);
}

/* Replies 423 and returns 1 when no more PIN may be tried. */
static int
pin_refused(struct http_call *c, const struct pin_fails *pf, int64_t now)
{
	char s[24];

	if (pf->code >= STORE_PIN_CODE_TRIES) {
		http_reply_error(c, 423, "locked", "too many wrong PINs on "
		    "this code: its reward is locked until the brand lifts "
		    "the lock");
		return 1;
	}
	if (pf->mine >= STORE_PIN_TRIES) {
		http_reply_error(c, 423, "customer_locked", "you entered too "
		    "many wrong PINs for this code");
		return 1;
	}
	if (pf->today >= STORE_PIN_DAY_TRIES) {
		int64_t day_end = ((now + CN_OFFSET_US) / US_PER_DAY + 1) *
		    US_PER_DAY - CN_OFFSET_US;

		snprintf(s, sizeof s, "%lld",
		    (long long)((day_end - now) / US_PER_S + 1));
		http_add_header(c, "Retry-After", s);
		http_reply_error(c, 423, "customer_locked", "you entered too "
		    "many wrong PINs today; try again tomorrow");
		return 1;
	}
	return 0;
}

static void
claim_done(struct writer_job *job)
{
	struct claim_ctx *x = job->arg;
	struct http_call *c = x->call;
	struct app *app = c->app;
	const struct claim *cl = &job->claim;
	int64_t left;

	switch (job->err) {
	case 0:
		http_reply_jsont(c, 201, json_pack("{s:I,s:I,s:s,s:i,s:s?,s:I}",
		    "claim_id", (json_int_t)cl->id, "points",
		    (json_int_t)cl->points, "role", role_names[cl->role],
		    "campaign", (int)x->campaign, "prize", cl->prize >= 0 ?
		    x->prize[cl->prize] : NULL, "balance",
		    (json_int_t)ledger_balance_of(app, cl->brand_id,
		    cl->customer_id)));
		break;
	case SIGIL_ECONFLICT:
		http_reply_error(c, 409, "already_claimed", "this code's reward "
		    "for this role was already claimed");
		break;
	case SIGIL_EFULL:
		http_reply_error(c, 422, "budget_exhausted", "this campaign's "
		    "points are all given out");
		break;
	case SIGIL_EDENIED:
		left = job->claim_limits.day_start + US_PER_DAY - sigil_now_us();
		too_many(c, left > 0 ? left : 0, "daily_cap",
		    "you reached today's claim limit for this campaign");
		break;
	default:
		log_error("claim", "brand=%u err=\"%s\"", cl->brand_id,
		    sigil_strerror(job->err));
		http_reply_error(c, 503, "unavailable", "the claim could not be "
		    "recorded; try again");
		break;
	}
	free(x);
}

void
loyalty_claim(struct http_call *c)
{
	struct app *app = c->app;
	struct code_info info;
	struct customer cu;
	struct claim cl = { 0 }, prev;
	struct claim_limits lim = { 0 };
	struct claim_ctx *x;
	struct scanned_by sb = { 0 };
	struct code_key key;
	const struct camp *camp;
	const char *code, *pin, *rs;
	char pinbuf[CODE_PIN_DIGITS + 1] = "";
	uint64_t device, cid;
	int64_t now = sigil_now_us();
	int role = CLAIM_CONSUMER, err;
	json_t *body, *settings;

	if ((body = consumer_body(c)) == NULL)
		return;
	code = json_string_value(json_object_get(body, "code"));
	pin = json_string_value(json_object_get(body, "pin"));
	rs = json_string_value(json_object_get(body, "role"));
	if (pin != NULL && strlen(pin) <= CODE_PIN_DIGITS)
		snprintf(pinbuf, sizeof pinbuf, "%s", pin);
	if (code == NULL || (json_object_get(body, "pin") != NULL &&
	    (pin == NULL || strlen(pin) > CODE_PIN_DIGITS)) ||
	    (json_object_get(body, "role") != NULL &&
	    (role = role_parse(rs)) == 0)) {
		json_decref(body);
		http_reply_error(c, 422, "invalid", "expected {\"code\": the "
		    "scanned code, \"pin\": the hidden PIN when asked, \"role\":"
		    " consumer|retailer|sales}");
		return;
	}
	err = strlen(code) > CODE_URL_MAX ? SIGIL_EINVAL :
	    lookup_code(app, code, &info);
	json_decref(body);
	if (err == SIGIL_EINVAL) {
		http_reply_error(c, 422, "bad_code", "not a sigil code or code "
		    "URL");
		return;
	}
	if (err != 0 || info.verdict == VERDICT_COUNTERFEIT) {
		http_reply_error(c, 404, "unknown_code", "this code was not "
		    "issued here");
		return;
	}
	if (info.verdict == VERDICT_REVOKED || info.verdict ==
	    VERDICT_INACTIVE) {
		http_reply_error(c, 403, "code_not_active", "this code is "
		    "revoked or not yet activated: it earns nothing");
		return;
	}
	if (device_get(app, c, &device) != 0 ||
	    store_device_customer(app->store, info.brand.id, device, &cid) !=
	    0 || store_customer_get(app->store, info.brand.id, cid, &cu) != 0 ||
	    cu.erased != 0) {
		http_reply_error(c, 401, "login_required", "log in with your "
		    "phone number to claim (POST /api/v1/customers/otp)");
		return;
	}
	if (role != CLAIM_CONSUMER) {
		settings = settings_load(app, info.brand.id);
		err = staff_role(settings, cu.id) != role;
		json_decref(settings);
		if (err) {
			http_reply_error(c, 403, "role_not_registered", "the brand "
			    "has not registered this customer for that role");
			return;
		}
	}
	sb.device = device;
	store_code_scans(app->store, info.brand.id, info.serial, scanned_one,
	    &sb);
	if (!sb.found) {
		http_reply_error(c, 403, "scan_first", "scan the code with this "
		    "phone before claiming");
		return;
	}
	if ((camp = camp_find(app, info.brand.id, info.batch.id,
	    info.product.sku, role, now)) == NULL) {
		http_reply_error(c, 422, "no_campaign", "no running campaign "
		    "rewards this code for this role");
		return;
	}
	if (store_claim_get(app->store, info.brand.id, info.serial, role,
	    &prev) == 0) {
		http_reply_error(c, 409, "already_claimed", "this code's reward "
		    "for this role was already claimed");
		return;
	}
	if (camp->require_pin) {
		struct pin_fails pf = { 0 };
		uint32_t day = (uint32_t)((now + CN_OFFSET_US) / US_PER_DAY);

		if (store_pin_fails(app->store, info.brand.id, info.serial,
		    cu.id, day, &pf) == 0 && pin_refused(c, &pf, now))
			return;
		if (pinbuf[0] == '\0') {
			http_reply_error(c, 428, "pin_required", "enter the "
			    "hidden PIN under the scratch-off layer");
			return;
		}
		/* Wrong PINs only are counted, so a clerk claiming many
		 * boxes with their right PINs is never slowed. */
		if (!ratelimit_client_peek(app->loyalty->pin, c->client,
		    now)) {
			too_many(c, ratelimit_client_wait_us(app->loyalty->pin,
			    c->client, now), "rate_limited", "too many PIN "
			    "attempts from this address");
			return;
		}
		if (keyring_key_get(app->keyring, info.batch.key_id, &key, NULL)
		    != 0) {
			http_reply_error(c, 503, "unavailable", "key missing");
			return;
		}
		err = code_pin_check(&key, info.serial, pinbuf);
		OPENSSL_cleanse(&key, sizeof key);
		if (err != 0) {
			ratelimit_client_take(app->loyalty->pin, c->client,
			    now);
			if (store_pin_fail(app->store, info.brand.id,
			    info.serial, cu.id, day, &pf) != 0) {
				http_reply_error(c, 503, "unavailable",
				    "try again");
				return;
			}
			log_info("pin_wrong", "brand=%u serial=%llu customer=%llu"
			    " mine=%u today=%u code=%u", info.brand.id,
			    (unsigned long long)info.serial,
			    (unsigned long long)cu.id, pf.mine, pf.today,
			    pf.code);
			if (!pin_refused(c, &pf, now))
				http_reply_jsont(c, 403, json_pack("{s:{s:s,"
				    "s:s,s:i}}", "error", "code", "wrong_pin",
				    "message", "wrong PIN", "tries_left",
				    (int)pin_tries_left(&pf)));
			return;
		}
	}
	if (camp->territory != 0) {
		const struct territory *t = lookup_territory(app, info.brand.id,
		    camp->territory);

		if (!sb.located) {
			http_reply_error(c, 403, "location_required", "this "
			    "reward is regional: share your location on the "
			    "scan page first");
			return;
		}
		if (t == NULL || t->area == NULL ||
		    !geo_area_contains(t->area, sb.lat, sb.lng)) {
			http_reply_error(c, 403, "outside_region", "this reward "
			    "is not offered where the code was scanned");
			return;
		}
	}
	cl.brand_id = info.brand.id;
	cl.serial = info.serial;
	cl.role = role;
	cl.customer_id = cu.id;
	cl.campaign_id = camp->id;
	cl.points = camp->points[role];
	cl.prize = -1;
	cl.at = now;
	cl.expires_at = camp->expiry_days ? now + (int64_t)camp->expiry_days *
	    US_PER_DAY : 0;
	if (camp->nprizes > 0) {
		double u, acc = 0;

		if (draw_uniform(&u) != 0) {
			http_reply_error(c, 503, "unavailable", "no randomness");
			return;
		}
		for (int i = 0; i < camp->nprizes; i++) {
			acc += camp->odds[i];
			if (u < acc) {
				cl.prize = i;
				break;
			}
		}
	}
	lim.budget = camp->budget;
	lim.daily_cap = camp->daily_cap;
	lim.day_start = (now + CN_OFFSET_US) / US_PER_DAY * US_PER_DAY -
	    CN_OFFSET_US;
	lim.nprizes = camp->nprizes;
	memcpy(lim.prize_stock, camp->stock, sizeof lim.prize_stock);
	if ((x = calloc(1, sizeof *x)) == NULL) {
		http_reply_error(c, 503, "unavailable", "out of memory");
		return;
	}
	x->call = c;
	x->campaign = camp->id;
	memcpy(x->prize, camp->prize, sizeof x->prize);
	x->job.kind = WRITER_CLAIM;
	x->job.claim = cl;
	x->job.claim_limits = lim;
	x->job.done = claim_done;
	x->job.arg = x;
	if (writer_submit(app->writer, &x->job) != 0) {
		free(x);
		http_reply_error(c, 503, "unavailable",
		    "the server is busy or shutting down; try again");
	}
}

/* ---- reward state for the landing page and the scan JSON ---- */

struct claimed_ctx {
	json_t		*roles;
	uint64_t	consumer;	/* customer id of the consumer claim */
};

static int
claimed_one(void *arg, const struct claim *cl)
{
	struct claimed_ctx *x = arg;

	if (cl->role > 0 && cl->role < 4)
		json_array_append_new(x->roles, json_string(
		    role_names[cl->role]));
	if (cl->role == CLAIM_CONSUMER)
		x->consumer = cl->customer_id;
	return 0;
}

json_t *
loyalty_reward_json(struct app *app, uint32_t brand_id, uint64_t batch_id,
    const char *sku, uint64_t serial, uint64_t device)
{
	const struct camp *camp = camp_find(app, brand_id, batch_id, sku, 0,
	    sigil_now_us());
	struct claimed_ctx x = { NULL, 0 };
	json_t *o, *roles;
	uint64_t cid = 0;
	struct pin_fails pf = { 0 };
	int64_t now = sigil_now_us();
	char ts[SIGIL_TIME_LEN + 1];

	if (camp == NULL)
		return json_null();
	roles = json_object();
	for (int r = 1; r < 4; r++)
		if (camp->points[r] > 0)
			json_object_set_new(roles, role_names[r],
			    json_integer(camp->points[r]));
	x.roles = json_array();
	store_code_claims(app->store, brand_id, serial, claimed_one, &x);
	if (camp->require_pin) {
		if (device == 0 || store_device_customer(app->store, brand_id,
		    device, &cid) != 0)
			cid = 0;
		store_pin_fails(app->store, brand_id, serial, cid,
		    (uint32_t)((now + CN_OFFSET_US) / US_PER_DAY), &pf);
	}
	/* locked: no PIN can be tried here now (the code's or this one's). */
	o = json_pack("{s:i,s:s,s:I,s:o,s:b,s:b,s:s,s:o}", "campaign",
	    (int)camp->id, "name", camp->name, "points",
	    (json_int_t)camp->points[CLAIM_CONSUMER], "roles", roles,
	    "require_pin", camp->require_pin, "locked",
	    pf.code >= STORE_PIN_CODE_TRIES || pf.mine >= STORE_PIN_TRIES ||
	    pf.today >= STORE_PIN_DAY_TRIES, "ends",
	    sigil_time_format(camp->ends, ts),
	    "claimed", x.roles);
	if (device != 0 && store_device_customer(app->store, brand_id, device,
	    &cid) == 0) {
		json_object_set_new(o, "logged_in", json_true());
		json_object_set_new(o, "balance", json_integer(
		    ledger_balance_of(app, brand_id, cid)));
	} else
		json_object_set_new(o, "logged_in", json_false());
	return o;
}

int
loyalty_claimed_by_other(struct app *app, uint32_t brand_id, uint64_t serial,
    uint64_t device)
{
	struct claim cl;
	uint64_t cid;

	if (store_claim_get(app->store, brand_id, serial, CLAIM_CONSUMER, &cl)
	    != 0)
		return 0;
	return store_device_customer(app->store, brand_id, device, &cid) != 0 ||
	    cid != cl.customer_id;
}

void
loyalty_reward(struct http_call *c)
{
	struct app *app = c->app;
	struct scan_rec rec;
	struct batch batch;
	char sid[SCAN_ID_LEN + 1];
	uint64_t id, device = 0;

	if (query_get(c, "scan", sid, sizeof sid) == NULL ||
	    scan_id_parse(app->cookie_key, sid, &id) != 0 ||
	    store_scan_get(app->store, id, &rec) != 0 || rec.brand_id == 0 ||
	    store_batch_get(app->store, rec.batch_id, &batch) != 0) {
		http_reply_error(c, 404, "not_found", "no such scan");
		return;
	}
	/* Only the scanning device learns its login state and balance. */
	if (device_get(app, c, &device) != 0 || device != rec.device)
		device = 0;
	http_add_header(c, "Cache-Control", "no-store");
	http_reply_jsont(c, 200, json_pack("{s:o}", "reward",
	    loyalty_reward_json(app, rec.brand_id, batch.id, batch.sku,
	    rec.serial, device)));
}

/* ---- me, ledger, catalog, redemptions, feedback ---- */

static const char *
ledger_type_name(int t)
{
	switch (t) {
	case LEDGER_EARN:	return "earn";
	case LEDGER_REDEEM:	return "redeem";
	case LEDGER_EXPIRE:	return "expire";
	case LEDGER_ADJUST:	return "adjust";
	}
	return "other";
}

static int
count_device(void *arg, uint64_t device)
{
	(void)device;
	(*(size_t *)arg)++;
	return 0;
}

/* Balance, tier, 12-month points and segment of a customer. */
static json_t *
customer_summary(struct app *app, const struct customer *cu, int full)
{
	struct ledger_buf lb;
	json_t *o, *settings;
	char masked[32], tier[32 * 4 + 1], ts[SIGIL_TIME_LEN + 1];
	int64_t now = sigil_now_us(), first, last, pts = 0, bal = 0;
	size_t freq = 0, devices = 0, claims = 0;
	const char *seg = "new";

	customer_masked(app->loyalty, cu, masked, sizeof masked);
	if (ledger_load(app, cu->brand_id, cu->id, &lb) == 0) {
		bal = balance_of(lb.v, lb.n, now);
		pts = points_12m(lb.v, lb.n, now, &freq, &first, &last);
		seg = loyalty_segment(lb.v, lb.n, cu->created, now);
		for (size_t i = 0; i < lb.n; i++)
			claims += lb.v[i].type == LEDGER_EARN;
		free(lb.v);
	}
	settings = settings_load(app, cu->brand_id);
	tier_of(settings, pts, tier, sizeof tier);
	o = json_pack("{s:I,s:s,s:I,s:s,s:I,s:s,s:I,s:s}", "id",
	    (json_int_t)cu->id, "phone", masked, "balance", (json_int_t)bal,
	    "tier", tier, "points_12m", (json_int_t)pts, "segment", seg,
	    "claims", (json_int_t)claims, "created",
	    sigil_time_format(cu->created, ts));
	if (staff_role(settings, cu->id) != 0)
		json_object_set_new(o, "role", json_string(role_names[
		    staff_role(settings, cu->id)]));
	json_decref(settings);
	json_object_set_new(o, "last_login", cu->last_login ?
	    json_string(sigil_time_format(cu->last_login, ts)) : json_null());
	if (cu->erased)
		json_object_set_new(o, "erased", json_string(
		    sigil_time_format(cu->erased, ts)));
	if (full) {
		store_customer_devices(app->store, cu->brand_id, cu->id,
		    count_device, &devices);
		json_object_set_new(o, "devices", json_integer(
		    (json_int_t)devices));
	}
	return o;
}

void
loyalty_me(struct http_call *c)
{
	struct customer cu;
	struct brand b;
	json_t *o;
	int err;

	if ((err = session_of(c, &b, &cu, NULL)) != 0) {
		session_fail(c, err);
		return;
	}
	o = customer_summary(c->app, &cu, 1);
	http_add_header(c, "Cache-Control", "no-store");
	http_reply_jsont(c, 200, json_pack("{s:{s:s},s:o}", "brand", "name",
	    b.name, "customer", o));
}

static json_t *
ledger_json(const struct ledger_entry *e)
{
	char ts[SIGIL_TIME_LEN + 1], te[SIGIL_TIME_LEN + 1];

	return json_pack("{s:I,s:s,s:I,s:s,s:s?,s:I}", "id",
	    (json_int_t)e->id, "type", ledger_type_name(e->type), "points",
	    (json_int_t)e->points, "at", sigil_time_format(e->at, ts),
	    "expires_at", e->type == LEDGER_EARN && e->expires_at ?
	    sigil_time_format(e->expires_at, te) : NULL, "ref",
	    (json_int_t)e->ref);
}

void
loyalty_me_ledger(struct http_call *c)
{
	struct app *app = c->app;
	struct customer cu;
	struct ledger_buf lb;
	struct brand b;
	json_t *arr;
	int err;

	if ((err = session_of(c, &b, &cu, NULL)) != 0) {
		session_fail(c, err);
		return;
	}
	if (ledger_load(app, b.id, cu.id, &lb) != 0) {
		http_reply_error(c, 503, "unavailable", "try again");
		return;
	}
	arr = json_array();
	for (size_t i = lb.n; i > 0 && lb.n - i < LEDGER_SHOWN; i--)
		json_array_append_new(arr, ledger_json(&lb.v[i - 1]));
	http_add_header(c, "Cache-Control", "no-store");
	http_reply_jsont(c, 200, json_pack("{s:I,s:o}", "balance",
	    (json_int_t)balance_of(lb.v, lb.n, sigil_now_us()), "entries",
	    arr));
	free(lb.v);
}

static int
item_json_one(void *arg, const struct reward_item *it)
{
	json_t *o = json_pack("{s:i,s:s,s:I}", "id", (int)it->id, "name",
	    it->name, "cost", (json_int_t)it->cost);

	json_object_set_new(o, "stock", it->stock < 0 ? json_null() :
	    json_integer(it->stock));
	json_array_append_new(arg, o);
	return json_array_size(arg) >= LIST_MAX;
}

void
loyalty_catalog(struct http_call *c)
{
	struct app *app = c->app;
	char name[STORE_NAME_BYTES + 1], code[CODE_URL_MAX + 1];
	struct code_info info;
	struct customer cu;
	struct brand b;
	json_t *arr;

	if (query_get(c, "code", code, sizeof code) != NULL) {
		if (lookup_code(app, code, &info) != 0) {
			http_reply_error(c, 404, "unknown_code", "no such code");
			return;
		}
		b = info.brand;
	} else if (query_get(c, "brand", name, sizeof name) != NULL) {
		if (store_brand_find(app->store, name, &b) != 0) {
			http_reply_error(c, 404, "unknown_brand", "no such brand");
			return;
		}
	} else if (session_of(c, &b, &cu, NULL) != 0) {
		http_reply_error(c, 422, "invalid", "name the brand (?brand=) "
		    "or a code (?code=), or log in");
		return;
	}
	arr = json_array();
	store_item_each(app->store, b.id, item_json_one, arr);
	http_reply_jsont(c, 200, json_pack("{s:{s:s},s:o}", "brand", "name",
	    b.name, "items", arr));
}

void
loyalty_redeem(struct http_call *c)
{
	struct app *app = c->app;
	struct ledger_entry e;
	struct customer cu;
	struct brand b;
	json_t *body, *item;
	int err;

	if ((err = session_of(c, &b, &cu, NULL)) != 0) {
		session_fail(c, err);
		return;
	}
	if ((body = consumer_body(c)) == NULL)
		return;
	item = json_object_get(body, "item");
	if (!int_in(item, 1, UINT32_MAX)) {
		json_decref(body);
		http_reply_error(c, 422, "invalid", "expected {\"item\": a "
		    "catalog item id}");
		return;
	}
	err = store_redeem(app->store, b.id, cu.id,
	    (uint32_t)json_integer_value(item), sigil_now_us(), &e);
	json_decref(body);
	switch (err) {
	case 0:
		http_reply_jsont(c, 201, json_pack("{s:o,s:I}", "redemption",
		    ledger_json(&e), "balance", (json_int_t)ledger_balance_of(
		    app, b.id, cu.id)));
		return;
	case SIGIL_ENOTFOUND:
		http_reply_error(c, 404, "not_found", "no such item");
		return;
	case SIGIL_EFULL:
		http_reply_error(c, 422, "insufficient_points", "not enough "
		    "points for this item");
		return;
	case SIGIL_ESTATE:
		http_reply_error(c, 409, "out_of_stock", "this item is out of "
		    "stock");
		return;
	}
	http_reply_error(c, 503, "unavailable", "try again");
}

void
loyalty_feedback(struct http_call *c)
{
	struct app *app = c->app;
	struct activity a = { 0 };
	struct scan_rec rec;
	const char *sid, *text;
	uint64_t id, device, cid = 0;
	json_t *body, *rating;
	int err;

	if ((body = consumer_body(c)) == NULL)
		return;
	sid = json_string_value(json_object_get(body, "scan_id"));
	rating = json_object_get(body, "rating");
	text = json_string_value(json_object_get(body, "text"));
	if (sid == NULL || !int_in(rating, 1, 5) ||
	    (json_object_get(body, "text") != NULL && text == NULL)) {
		json_decref(body);
		http_reply_error(c, 422, "invalid", "expected {\"scan_id\", "
		    "\"rating\": 1..5, \"text\": at most 500 characters}");
		return;
	}
	if (text != NULL) {
		/*
		 * 500 characters (code points), line breaks allowed; no
		 * other control or bidi control character (docs/api.md).
		 */
		struct sigil_text_err te;
		char msg[320];

		if (sigil_text_check(text, json_string_length(json_object_get(
		    body, "text")), FEEDBACK_TEXT_MAX, SIGIL_TEXT_EMPTY_OK |
		    SIGIL_TEXT_MULTILINE, &te) != 0 ||
		    strlen(text) >= sizeof a.text) {
			sigil_text_explain("text", FEEDBACK_TEXT_MAX,
			    SIGIL_TEXT_EMPTY_OK | SIGIL_TEXT_MULTILINE, &te, msg,
			    sizeof msg);
			json_decref(body);
			http_reply_error(c, 422, "invalid", msg);
			return;
		}
		snprintf(a.text, sizeof a.text, "%s", text);
	}
	a.rating = (int)json_integer_value(rating);
	if (scan_id_parse(app->cookie_key, sid, &id) != 0 ||
	    store_scan_get(app->store, id, &rec) != 0 || rec.brand_id == 0) {
		json_decref(body);
		http_reply_error(c, 404, "not_found", "no such scan");
		return;
	}
	json_decref(body);
	if (device_get(app, c, &device) != 0 || device != rec.device) {
		http_reply_error(c, 403, "forbidden", "only the device that "
		    "scanned may give feedback on this scan");
		return;
	}
	store_device_customer(app->store, rec.brand_id, device, &cid);
	a.brand_id = rec.brand_id;
	a.type = ACTIVITY_FEEDBACK;
	a.at = sigil_now_us();
	a.customer_id = cid;
	a.ref = id;
	if ((err = store_activity_add(app->store, &a)) != 0) {
		/* Bad input is 422 above; the store refusing it is no "retry". */
		if (err == SIGIL_EINVAL)
			http_reply_error(c, 422, "invalid", "the feedback "
			    "could not be stored as given");
		else
			http_reply_error(c, 503, "unavailable", "try again");
		return;
	}
	http_reply_jsont(c, 201, json_pack("{s:I,s:i}", "id",
	    (json_int_t)a.id, "rating", a.rating));
}

void
loyalty_member_page(struct http_call *c)
{
	struct loyalty *ly = ((struct app *)c->app)->loyalty;
	struct evbuffer *b = evbuffer_new();

	if (b == NULL || evbuffer_add(b, ly->member_html, ly->member_len) !=
	    0) {
		if (b != NULL)
			evbuffer_free(b);
		http_reply_error(c, 503, "unavailable", "out of memory");
		return;
	}
	http_add_header(c, "Cache-Control", "no-store");
	http_add_header(c, "Content-Security-Policy", "default-src 'none'; "
	    "style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
	    "connect-src 'self'; img-src data:; base-uri 'none'; "
	    "form-action 'self'; frame-ancestors 'none'");
	http_reply(c, 200, "text/html; charset=utf-8", b);
	evbuffer_free(b);
}

/* ---- brand API ---- */

static void
api_fail(struct loyalty_api *a, int status, const char *code,
    const char *msg)
{
	http_reply_error(a->c, status, code, msg);
}

static int
api_body(struct loyalty_api *a, json_t **out)
{
	json_error_t jerr;
	size_t len;
	char *text;

	*out = NULL;
	if (http_body_too_large(a->c)) {
		api_fail(a, 413, "too_large", "request body too large");
		return -1;
	}
	if ((text = http_body_text(a->c, &len)) != NULL &&
	    sigil_json_values(text, len) > SIGIL_JSON_VALUES_MAX) {
		free(text);
		api_fail(a, 413, "too_large", "more than 400000 JSON values "
		    "in the body");
		return -1;
	}
	if (text == NULL ||
	    (*out = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr)) ==
	    NULL || !json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		free(text);
		api_fail(a, 400, "bad_json", "expected a JSON object (no "
		    "duplicate keys)");
		return -1;
	}
	free(text);
	return 0;
}

static int
api_id(struct loyalty_api *a, const char *s, uint64_t max, uint64_t *out)
{
	if (sigil_parse_u64(s, max, out) == 0 && *out > 0)
		return 0;
	api_fail(a, 404, "not_found", "no such resource");
	return -1;
}

static json_t *
campaign_json(const struct campaign *cp)
{
	char ts[SIGIL_TIME_LEN + 1], tu[SIGIL_TIME_LEN + 1];
	json_t *cfg = json_loads(cp->config, 0, NULL), *prizes = json_array(),
	    *draw = json_object_get(cfg, "draw"), *p, *o;
	int64_t budget = json_integer_value(json_object_get(cfg, "budget"));
	size_t i, given = 0;

	json_array_foreach(draw, i, p) {
		if (i >= STORE_PRIZES_MAX)
			break;
		given += cp->prizes_given[i];
		json_array_append_new(prizes, json_pack("{s:O,s:O,s:O,s:I}",
		    "name", json_object_get(p, "name"), "odds",
		    json_object_get(p, "odds"), "stock", json_object_get(p,
		    "stock"), "given", (json_int_t)cp->prizes_given[i]));
	}
	o = json_pack("{s:i,s:s,s:s,s:b,s:o,s:{s:I,s:I,s:o,s:I,s:o}}", "id",
	    (int)cp->id, "created", sigil_time_format(cp->created, ts),
	    "updated", sigil_time_format(cp->updated ? cp->updated :
	    cp->created, tu), "active", !json_is_true(json_object_get(cfg,
	    "paused")), "config", cfg ? cfg : json_null(), "results", "claims",
	    (json_int_t)cp->claims, "points", (json_int_t)cp->points_spent,
	    "budget_left", budget > 0 ? json_integer(budget -
	    cp->points_spent) : json_null(), "prizes_given", (json_int_t)given,
	    "prizes", prizes);
	return o;
}

static int
campaign_list_one(void *arg, const struct campaign *cp)
{
	json_array_append_new(arg, campaign_json(cp));
	return json_array_size(arg) >= LIST_MAX;
}

static void
campaign_write(struct loyalty_api *a, uint32_t id, json_t *cfg)
{
	struct app *app = a->app;
	struct campaign cp = { 0 };
	char *text = json_dumps(cfg, JSON_COMPACT | JSON_SORT_KEYS), *canon;
	char err[320];
	int rc, created = id == 0;

	if (text == NULL) {
		api_fail(a, 503, "unavailable", "out of memory");
		return;
	}
	rc = loyalty_campaign_check(text, &canon, err, sizeof err);
	free(text);
	if (rc != 0) {
		api_fail(a, 422, "invalid", rc == SIGIL_EINVAL ? err :
		    "could not check the configuration");
		return;
	}
	if (id == 0) {
		cp.brand_id = a->brand_id;
		cp.config = canon;
		rc = store_campaign_add(app->store, &cp);
		id = cp.id;
	} else
		rc = store_campaign_update(app->store, a->brand_id, id, canon);
	free(canon);
	camps_forget(app->loyalty, a->brand_id);
	if (rc == 0)
		rc = store_campaign_get(app->store, a->brand_id, id, &cp);
	if (rc == SIGIL_ENOTFOUND) {
		api_fail(a, 404, "not_found", "campaign not found");
		return;
	}
	if (rc != 0) {
		api_fail(a, 503, "unavailable", "storage error; try again");
		return;
	}
	http_reply_jsont(a->c, created ? 201 : 200, campaign_json(&cp));
	store_campaign_clear(&cp);
}

static void
campaigns(struct loyalty_api *a)
{
	struct campaign cp;
	uint64_t id = 0;
	json_t *body = NULL, *cfg;
	int rc;

	if (a->nseg >= 2 && api_id(a, a->seg[1], UINT32_MAX, &id) != 0)
		return;
	if (a->method == EVHTTP_REQ_GET && a->nseg <= 2) {
		if (a->nseg == 1) {
			json_t *arr = json_array();

			store_campaign_each(a->app->store, a->brand_id,
			    campaign_list_one, arr);
			http_reply_jsont(a->c, 200, json_pack("{s:o}",
			    "campaigns", arr));
			return;
		}
		if ((rc = store_campaign_get(a->app->store, a->brand_id,
		    (uint32_t)id, &cp)) != 0) {
			api_fail(a, rc == SIGIL_ENOTFOUND ? 404 : 503, rc ==
			    SIGIL_ENOTFOUND ? "not_found" : "unavailable",
			    "campaign not found");
			return;
		}
		http_reply_jsont(a->c, 200, campaign_json(&cp));
		store_campaign_clear(&cp);
		return;
	}
	if (a->method != EVHTTP_REQ_POST || a->nseg == 2 || a->nseg > 3) {
		api_fail(a, 405, "method_not_allowed", "method not allowed "
		    "here");
		return;
	}
	if (a->role != ROLE_ADMIN) {
		api_fail(a, 403, "forbidden", "only an admin token may change "
		    "campaigns");
		return;
	}
	if (a->nseg == 1) {
		if (api_body(a, &body) != 0)
			return;
		campaign_write(a, 0, body);
		json_decref(body);
		return;
	}
	if (strcmp(a->seg[2], "update") != 0 && strcmp(a->seg[2], "pause") !=
	    0 && strcmp(a->seg[2], "resume") != 0) {
		api_fail(a, 404, "not_found", "no such resource");
		return;
	}
	if (strcmp(a->seg[2], "update") == 0) {
		if (api_body(a, &body) != 0)
			return;
		campaign_write(a, (uint32_t)id, body);
		json_decref(body);
		return;
	}
	if ((rc = store_campaign_get(a->app->store, a->brand_id, (uint32_t)id,
	    &cp)) != 0) {
		api_fail(a, rc == SIGIL_ENOTFOUND ? 404 : 503, rc ==
		    SIGIL_ENOTFOUND ? "not_found" : "unavailable",
		    "campaign not found");
		return;
	}
	cfg = json_loads(cp.config, 0, NULL);
	store_campaign_clear(&cp);
	if (cfg == NULL) {
		api_fail(a, 503, "unavailable", "unreadable campaign");
		return;
	}
	json_object_set_new(cfg, "paused", json_boolean(a->seg[2][0] == 'p'));
	campaign_write(a, (uint32_t)id, cfg);
	json_decref(cfg);
}

struct cust_list {
	struct app	*app;
	json_t		*arr;
	size_t		limit;
	uint64_t	last;
};

static int
cust_list_one(void *arg, const struct customer *cu)
{
	struct cust_list *l = arg;

	json_array_append_new(l->arr, customer_summary(l->app, cu, 0));
	l->last = cu->id;
	return json_array_size(l->arr) >= l->limit;
}

struct export_ctx {
	json_t		*devices;
};

static int
export_device(void *arg, uint64_t device)
{
	char hex[17];

	snprintf(hex, sizeof hex, "%016llx", (unsigned long long)device);
	json_array_append_new(((struct export_ctx *)arg)->devices,
	    json_string(hex));
	return 0;
}

static void
customer_export(struct loyalty_api *a, const struct customer *cu)
{
	struct app *app = a->app;
	struct export_ctx x = { json_array() };
	struct ledger_buf lb;
	char phone[LOYALTY_PHONE_MAX + 2] = "+";
	json_t *o = customer_summary(app, cu, 1), *ledger = json_array();

	if (cu->erased == 0 && loyalty_open(app->loyalty->enc_key,
	    cu->brand_id, cu->phone_ct, cu->phone_ct_len, phone + 1,
	    sizeof phone - 1) == 0)
		json_object_set_new(o, "phone", json_string(phone));
	store_customer_devices(app->store, cu->brand_id, cu->id, export_device,
	    &x);
	json_object_set_new(o, "device_ids", x.devices);
	if (ledger_load(app, cu->brand_id, cu->id, &lb) == 0) {
		for (size_t i = 0; i < lb.n; i++)
			json_array_append_new(ledger, ledger_json(&lb.v[i]));
		free(lb.v);
	}
	json_object_set_new(o, "ledger", ledger);
	log_info("customer_export", "brand=%u customer=%llu", cu->brand_id,
	    (unsigned long long)cu->id);
	http_add_header(a->c, "Cache-Control", "no-store");
	http_reply_jsont(a->c, 200, json_pack("{s:o}", "customer", o));
}

/*
 * GET /api/v1/customers?phone= is a membership oracle: with the 7 digits
 * a masked list shows, 10,000 guesses would unmask a number. So it takes
 * the full number (loyalty_phone_normalise refuses '*'), is limited to
 * PHONE_SEARCH_PER_HOUR per actor (API token or dashboard user) for
 * every role, and every search is logged with the actor and a keyed
 * hash of the number, never the digits.
 */
/* The number appears as the first 6 bytes of its keyed hash (the key is
 * the keyring's; the log alone cannot be reversed), never as digits. */
static void
phone_search_log(struct loyalty_api *a, const char *phone, int found)
{
	uint8_t phash[32];
	char hex[13];

	phone_hash(a->app->loyalty, phone, phash);
	sigil_hex_encode(phash, 6, hex);
	log_info("phone_search", "brand=%u actor=%s:%u role=%s phone_hash=%s "
	    "result=%s client=%s", a->brand_id, (a->actor & 0x80000000u) ?
	    "user" : "token", a->actor & 0x7fffffffu, a->role == ROLE_ADMIN ?
	    "admin" : a->role == ROLE_OPERATOR ? "operator" : "analyst", hex,
	    found < 0 ? "rate_limited" : found ? "found" : "none",
	    a->c->client_text);
}

static int
phone_search_allow(struct loyalty_api *a, const char *phone)
{
	struct ratelimit *rl = a->app->loyalty->phone_search;
	int64_t now = sigil_now_us();
	char retry[24];

	if (ratelimit_take(rl, &a->actor, sizeof a->actor, now))
		return 1;
	phone_search_log(a, phone, -1);
	snprintf(retry, sizeof retry, "%lld", (long long)(ratelimit_wait_us(rl,
	    &a->actor, sizeof a->actor, now) / US_PER_S + 1));
	http_add_header(a->c, "Retry-After", retry);
	api_fail(a, 429, "rate_limited", "too many phone searches; at most "
	    "20 an hour per user or token");
	return 0;
}

static void
customers(struct loyalty_api *a)
{
	struct app *app = a->app;
	struct customer cu;
	char q[64], phone[LOYALTY_PHONE_MAX + 1];
	uint8_t phash[32];
	uint64_t id = 0, after = 0, limit = 100;
	json_t *body = NULL, *settings;
	int rc, role;

	if (a->nseg == 1) {
		struct cust_list l = { app, json_array(), 0, 0 };

		if (a->method != EVHTTP_REQ_GET) {
			json_decref(l.arr);
			api_fail(a, 405, "method_not_allowed", "GET only");
			return;
		}
		if (query_get(a->c, "phone", q, sizeof q) != NULL) {
			if (loyalty_phone_normalise(q, phone) != 0) {
				json_decref(l.arr);
				api_fail(a, 422, "bad_phone", "not a phone "
				    "number");
				return;
			}
			if (!phone_search_allow(a, phone)) {
				json_decref(l.arr);
				return;
			}
			phone_hash(app->loyalty, phone, phash);
			rc = store_customer_find_phone(app->store, a->brand_id,
			    phash, &cu) == 0 && cu.erased == 0;
			if (rc)
				json_array_append_new(l.arr,
				    customer_summary(app, &cu, 0));
			phone_search_log(a, phone, rc);
			http_reply_jsont(a->c, 200, json_pack("{s:o}",
			    "customers", l.arr));
			return;
		}
		if ((query_get(a->c, "after", q, sizeof q) != NULL &&
		    sigil_parse_u64(q, UINT64_MAX, &after) != 0) ||
		    (query_get(a->c, "limit", q, sizeof q) != NULL &&
		    (sigil_parse_u64(q, LIST_MAX, &limit) != 0 || limit == 0))) {
			json_decref(l.arr);
			api_fail(a, 422, "invalid", "after is a customer id, "
			    "limit 1..1000");
			return;
		}
		l.limit = (size_t)limit;
		store_customer_each(app->store, a->brand_id, after,
		    cust_list_one, &l);
		{
			json_t *o = json_pack("{s:o}", "customers", l.arr);

			json_object_set_new(o, "next", json_array_size(l.arr) ==
			    l.limit ? json_integer((json_int_t)l.last) :
			    json_null());
			http_reply_jsont(a->c, 200, o);
		}
		return;
	}
	if (api_id(a, a->seg[1], UINT64_MAX, &id) != 0)
		return;
	if ((rc = store_customer_get(app->store, a->brand_id, id, &cu)) != 0) {
		api_fail(a, rc == SIGIL_ENOTFOUND ? 404 : 503, rc ==
		    SIGIL_ENOTFOUND ? "not_found" : "unavailable",
		    "customer not found");
		return;
	}
	if (a->nseg == 2 && a->method == EVHTTP_REQ_GET) {
		http_reply_jsont(a->c, 200, json_pack("{s:o}", "customer",
		    customer_summary(app, &cu, 1)));
		return;
	}
	if (a->nseg != 3) {
		api_fail(a, 404, "not_found", "no such resource");
		return;
	}
	if (a->role != ROLE_ADMIN) {
		api_fail(a, 403, "forbidden", "only an admin token may do "
		    "this");
		return;
	}
	if (strcmp(a->seg[2], "export") == 0 && a->method == EVHTTP_REQ_GET) {
		customer_export(a, &cu);
		return;
	}
	if (a->method != EVHTTP_REQ_POST) {
		api_fail(a, 405, "method_not_allowed", "POST only");
		return;
	}
	if (strcmp(a->seg[2], "erase") == 0) {
		char plain[LOYALTY_PHONE_MAX + 1] = "";
		struct store_scrub_stats ss = { 0 };
		int scrubbed;

		if (cu.erased == 0 && loyalty_open(app->loyalty->enc_key,
		    cu.brand_id, cu.phone_ct, cu.phone_ct_len, plain,
		    sizeof plain) != 0)
			plain[0] = '\0';
		/* The outbox first: after the erase the phone is gone. */
		scrubbed = cu.erased == 0 &&
		    outbox_forget(app, a->brand_id, plain) == 0;
		OPENSSL_cleanse(plain, sizeof plain);
		rc = store_customer_erase(app->store, a->brand_id, id,
		    sigil_now_us());
		if (rc == SIGIL_ESTATE) {
			api_fail(a, 409, "already_erased", "this customer was "
			    "already erased");
			return;
		}
		if (rc == 0) {
			struct activity act = { 0 };

			act.brand_id = a->brand_id;
			act.type = ACTIVITY_ERASE;
			act.at = sigil_now_us();
			act.customer_id = id;
			store_activity_add(app->store, &act);
			settings = settings_load(app, a->brand_id);
			snprintf(q, sizeof q, "%llu", (unsigned long long)id);
			if (json_object_del(json_object_get(settings, "staff"),
			    q) == 0)
				settings_save(app, a->brand_id, settings);
			json_decref(settings);
			/* The bytes left in the files (the activity entry and
			 * settings above are in, so this scrub covers them). */
			rc = store_scrub(app->store, &ss);
			scrubbed = scrubbed && rc == 0;
			log_info("customer_erase", "brand=%u customer=%llu "
			    "scrubbed=%d pages=%llu freed=%llu gaps=%llu ms=%lld",
			    a->brand_id, (unsigned long long)id, scrubbed,
			    (unsigned long long)ss.pages,
			    (unsigned long long)ss.free_pages,
			    (unsigned long long)ss.gap_pages, (long long)ss.ms);
			http_reply_jsont(a->c, 200, json_pack("{s:I,s:b,s:b}",
			    "id", (json_int_t)id, "erased", 1, "scrubbed",
			    scrubbed));
			return;
		}
		api_fail(a, 503, "unavailable", "storage error; try again");
		return;
	}
	if (strcmp(a->seg[2], "role") != 0) {
		api_fail(a, 404, "not_found", "no such resource");
		return;
	}
	if (api_body(a, &body) != 0)
		return;
	role = role_parse(json_string_value(json_object_get(body, "role")));
	json_decref(body);
	if (role == 0 || cu.erased) {
		api_fail(a, 422, "invalid", cu.erased ? "customer erased" :
		    "expected {\"role\": consumer|retailer|sales}");
		return;
	}
	settings = settings_load(app, a->brand_id);
	if (!json_is_object(json_object_get(settings, "staff")))
		json_object_set_new(settings, "staff", json_object());
	snprintf(q, sizeof q, "%llu", (unsigned long long)id);
	if (role == CLAIM_CONSUMER)
		json_object_del(json_object_get(settings, "staff"), q);
	else if (json_object_size(json_object_get(settings, "staff")) >=
	    STAFF_MAX && json_object_get(json_object_get(settings, "staff"),
	    q) == NULL) {
		json_decref(settings);
		api_fail(a, 422, "limit", "at most 10000 retailers and sales "
		    "reps per brand");
		return;
	} else
		json_object_set_new(json_object_get(settings, "staff"), q,
		    json_string(role_names[role]));
	rc = settings_save(app, a->brand_id, settings);
	json_decref(settings);
	if (rc != 0) {
		api_fail(a, 503, "unavailable", "storage error; try again");
		return;
	}
	http_reply_jsont(a->c, 200, json_pack("{s:I,s:s}", "id",
	    (json_int_t)id, "role", role_names[role]));
}

static int
item_admin_one(void *arg, const struct reward_item *it)
{
	return item_json_one(arg, it);
}

static void
catalog_items(struct loyalty_api *a)
{
	struct reward_item it = { 0 };
	json_t *body, *name, *cost, *stock;
	char msg[256];
	int rc;

	if (a->nseg != 2) {
		api_fail(a, 404, "not_found", "no such resource");
		return;
	}
	if (a->method == EVHTTP_REQ_GET) {
		json_t *arr = json_array();

		store_item_each(a->app->store, a->brand_id, item_admin_one,
		    arr);
		http_reply_jsont(a->c, 200, json_pack("{s:o}", "items", arr));
		return;
	}
	if (a->method != EVHTTP_REQ_POST) {
		api_fail(a, 405, "method_not_allowed", "GET or POST");
		return;
	}
	if (a->role != ROLE_ADMIN) {
		api_fail(a, 403, "forbidden", "only an admin token may add "
		    "items");
		return;
	}
	if (api_body(a, &body) != 0)
		return;
	name = json_object_get(body, "name");
	cost = json_object_get(body, "cost");
	stock = json_object_get(body, "stock");
	if (!name_ok(name, STORE_TEXT_MAX, "name", msg, sizeof msg)) {
		json_decref(body);
		api_fail(a, 422, "invalid", msg);
		return;
	}
	if (!int_in(cost, 1, BUDGET_MAX) ||
	    (stock != NULL && !json_is_null(stock) && !int_in(stock, 0,
	    BUDGET_MAX)) || json_object_size(body) > 3) {
		json_decref(body);
		api_fail(a, 422, "invalid", "expected {\"name\": 1-200 "
		    "characters, \"cost\": points > 0, \"stock\": count or null "
		    "for unlimited}");
		return;
	}
	it.brand_id = a->brand_id;
	snprintf(it.name, sizeof it.name, "%s", json_string_value(name));
	it.cost = json_integer_value(cost);
	it.stock = stock == NULL || json_is_null(stock) ? -1 :
	    json_integer_value(stock);
	json_decref(body);
	if ((rc = store_item_add(a->app->store, &it)) != 0) {
		api_fail(a, rc == SIGIL_EINVAL ? 422 : 503, rc == SIGIL_EINVAL ?
		    "invalid" : "unavailable", "the item could not be added");
		return;
	}
	{
		json_t *arr = json_array();

		item_json_one(arr, &it);
		http_reply_jsont(a->c, 201, json_incref(json_array_get(arr,
		    0)));
		json_decref(arr);
	}
}

static void
settings(struct loyalty_api *a)
{
	json_t *s, *body, *tiers, *t, *out;
	json_int_t prev = -1;
	char msg[256] = "";
	size_t i;
	int rc;

	s = settings_load(a->app, a->brand_id);
	if (a->method == EVHTTP_REQ_POST) {
		if (a->role != ROLE_ADMIN) {
			json_decref(s);
			api_fail(a, 403, "forbidden", "only an admin token may "
			    "change settings");
			return;
		}
		if (api_body(a, &body) != 0) {
			json_decref(s);
			return;
		}
		tiers = json_object_get(body, "tiers");
		rc = json_object_size(body) == 1 && json_is_array(tiers) &&
		    json_array_size(tiers) >= 1 &&
		    json_array_size(tiers) <= TIERS_MAX;
		json_array_foreach(tiers, i, t) {
			json_t *min = json_object_get(t, "min");

			if (!json_is_object(t) || json_object_size(t) != 2 ||
			    !name_ok(json_object_get(t, "name"), 32,
			    "tiers[].name", msg, sizeof msg) ||
			    !int_in(min, i == 0 ? 0 : prev + 1, i == 0 ? 0 :
			    BUDGET_MAX))
				rc = 0;
			else
				prev = json_integer_value(min);
		}
		if (!rc) {
			json_decref(body);
			json_decref(s);
			api_fail(a, 422, "invalid", msg[0] ? msg : "expected "
			    "{\"tiers\": [{\"name\": 1-32 characters, "
			    "\"min\": 12-month points}], 1 to 8 tiers, the "
			    "first at 0, ascending}");
			return;
		}
		json_object_set(s, "tiers", tiers);
		json_decref(body);
		if (settings_save(a->app, a->brand_id, s) != 0) {
			json_decref(s);
			api_fail(a, 503, "unavailable", "storage error");
			return;
		}
	} else if (a->method != EVHTTP_REQ_GET) {
		json_decref(s);
		api_fail(a, 405, "method_not_allowed", "GET or POST");
		return;
	}
	tiers = json_object_get(s, "tiers");
	out = json_pack("{s:O}", "tiers", tiers ? tiers : json_null());
	if (tiers == NULL)
		json_object_set_new(out, "tiers", tiers_default());
	json_decref(s);
	http_reply_jsont(a->c, 200, out);
}

int
loyalty_api_route(struct loyalty_api *a)
{
	const char *s = a->nseg > 0 ? a->seg[0] : "";

	if (a->method == EVHTTP_REQ_HEAD)
		a->method = EVHTTP_REQ_GET;
	if (strcmp(s, "campaigns") == 0)
		campaigns(a);
	else if (strcmp(s, "customers") == 0)
		customers(a);
	else if (strcmp(s, "catalog") == 0 && a->nseg >= 2 &&
	    strcmp(a->seg[1], "items") == 0)
		catalog_items(a);
	else if (strcmp(s, "settings") == 0 && a->nseg == 1)
		settings(a);
	else
		return 0;
	return 1;
}

/* ---- start-up ---- */

static int
member_load(struct loyalty *ly, const char *web_dir)
{
	char path[PATH_MAX];
	struct stat sb;
	ssize_t n;
	int fd, err = SIGIL_EIO;

	if (snprintf(path, sizeof path, "%s/member.html", web_dir) >=
	    (int)sizeof path)
		return SIGIL_EINVAL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? SIGIL_ENOTFOUND : SIGIL_EIO;
	if (fstat(fd, &sb) != 0 || sb.st_size <= 0 || sb.st_size >
	    MEMBER_PAGE_MAX)
		goto out;
	if ((ly->member_html = malloc((size_t)sb.st_size)) == NULL) {
		err = SIGIL_ENOMEM;
		goto out;
	}
	n = read(fd, ly->member_html, (size_t)sb.st_size);
	if (n != sb.st_size) {
		free(ly->member_html);
		ly->member_html = NULL;
		goto out;
	}
	ly->member_len = (size_t)n;
	err = 0;
out:
	close(fd);
	return err;
}

static void
limits_free(struct loyalty *ly)
{
	ratelimit_free(ly->send);
	ratelimit_free(ly->guess);
	ratelimit_free(ly->pin);
	ratelimit_free(ly->brand_send);
	ratelimit_free(ly->phone_search);
}

int
loyalty_init(struct app *app, const struct loyalty_config *cfg)
{
	struct loyalty *ly;
	int err;

	if ((ly = calloc(1, sizeof *ly)) == NULL)
		return SIGIL_ENOMEM;
	ly->otp_ttl_us = (cfg->otp_ttl_s ? cfg->otp_ttl_s : OTP_TTL_DEFAULT) *
	    US_PER_S;
	if (snprintf(ly->outbox, sizeof ly->outbox, "%s/otp-outbox.log",
	    cfg->data_dir) >= (int)sizeof ly->outbox) {
		err = SIGIL_EINVAL;
		goto fail;
	}
	if (cfg->sms_webhook != NULL) {
		err = SIGIL_EINVAL;
		if (cfg->sms_secret == NULL ||
		    strlen(cfg->sms_secret) > LOYALTY_SMS_SECRET_MAX)
			goto fail;
		if ((ly->sms = malloc(sizeof *ly->sms)) == NULL) {
			err = SIGIL_ENOMEM;
			goto fail;
		}
		if (webhook_url_parse(cfg->sms_webhook, ly->sms) != 0)
			goto fail;
		snprintf(ly->sms_secret, sizeof ly->sms_secret, "%s",
		    cfg->sms_secret);
	}
	if ((err = ratelimit_new(IP_SETS, RATELIMIT_WAYS, SEND_PER_S,
	    SEND_BURST, cfg->rate_flags, &ly->send)) != 0 ||
	    (err = ratelimit_new(IP_SETS, RATELIMIT_WAYS, GUESS_PER_S,
	    GUESS_BURST, cfg->rate_flags, &ly->guess)) != 0 ||
	    (err = ratelimit_new(IP_SETS, RATELIMIT_WAYS, GUESS_PER_S,
	    GUESS_BURST, cfg->rate_flags, &ly->pin)) != 0 ||
	    (err = ratelimit_new(256, RATELIMIT_WAYS, (cfg->otp_per_hour ?
	    cfg->otp_per_hour : OTP_BRAND_HOUR_DEFAULT) / 3600.0,
	    cfg->otp_per_hour ? cfg->otp_per_hour : OTP_BRAND_HOUR_DEFAULT, 0,
	    &ly->brand_send)) != 0 ||
	    (err = ratelimit_new(1024, RATELIMIT_WAYS, PHONE_SEARCH_PER_HOUR /
	    3600.0, PHONE_SEARCH_PER_HOUR, 0, &ly->phone_search)) != 0)
		goto fail;
	if ((err = keyring_secret(app->keyring, "phone-hash", 1,
	    ly->hash_key)) != 0 ||
	    (err = keyring_secret(app->keyring, "phone-enc", 1,
	    ly->enc_key)) != 0 ||
	    (err = member_load(ly, cfg->web_dir)) != 0)
		goto fail;
	app->loyalty = ly;
	return 0;
fail:
	free(ly->sms);
	limits_free(ly);
	OPENSSL_cleanse(ly, sizeof *ly);
	free(ly);
	return err;
}

void
loyalty_fini(struct app *app)
{
	struct loyalty *ly = app->loyalty;

	if (ly == NULL)
		return;
	for (size_t i = 0; i < CAMPAIGN_CACHE; i++)
		camp_set_clear(&ly->camps[i]);
	free(ly->sms);
	limits_free(ly);
	free(ly->member_html);
	OPENSSL_cleanse(ly, sizeof *ly);
	free(ly);
	app->loyalty = NULL;
}
