/*
 * customer.c - a loyalty customer's identity.
 *
 * Personal data. A phone number is normalised (E.164 digits), looked up
 * by HMAC-SHA256 under the keyring secret "phone-hash", and kept only as
 * AES-256-GCM ciphertext under "phone-enc" (random nonce, the brand id
 * as associated data, so a ciphertext cannot be moved to another brand:
 * a stolen database shows no numbers). It is shown masked (138****1234)
 * everywhere except the admin's PIPL export (privacy.c). Phones never
 * reach the server log.
 *
 * Sessions. A customer has no cookie of its own: the device cookie of
 * the scan page is the session once the login (customer_login_op) has
 * tied the device to the customer, at one brand (a device may be logged in at
 * several).
 *
 * Login is one writer op (customer_login_op), run on the writer thread
 * in queue order: the code checked and spent (otp.c), the customer found
 * or made, the device linked, the login logged. The phone is sealed
 * before, on the loop, which alone holds the keys.
 *
 * Owns the phone rules and the login's store writes (customer, device
 * link, activity). May call store, otp (the guess), keyring secrets
 * through app->loyalty, util and OpenSSL. Never knows about HTTP, never
 * logs a phone, never writes to the store on the loop: every write is a
 * writer op's.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sigil/app.h"
#include "sigil/customer.h"
#include "sigil/loyalty_core.h"
#include "sigil/otp.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "sigil/writer.h"

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
	uint8_t aad[4];
	size_t n = strlen(text);
	int err;

	if (n + SIGIL_SEAL_OVERHEAD > size || n > INT_MAX - 32)
		return SIGIL_EINVAL;
	sigil_be32_put(aad, brand_id);
	if ((err = sigil_seal(key, aad, sizeof aad, (const uint8_t *)text, n,
	    out)) == 0)
		*out_len = n + SIGIL_SEAL_OVERHEAD;
	return err;
}

int
loyalty_open(const uint8_t key[32], uint32_t brand_id, const uint8_t *in,
    size_t len, char *text, size_t size)
{
	uint8_t aad[4], buf[STORE_PHONE_CT_MAX];
	size_t n;
	int err;

	if (len < SIGIL_SEAL_OVERHEAD || len - SIGIL_SEAL_OVERHEAD >= size ||
	    len - SIGIL_SEAL_OVERHEAD > sizeof buf)
		return SIGIL_EFORGED;
	n = len - SIGIL_SEAL_OVERHEAD;
	sigil_be32_put(aad, brand_id);
	if ((err = sigil_open(key, aad, sizeof aad, in, len, buf)) != 0)
		return err;
	if (memchr(buf, '\0', n) != NULL) {
		OPENSSL_cleanse(buf, n);
		return SIGIL_EFORGED;
	}
	memcpy(text, buf, n);
	text[n] = '\0';
	OPENSSL_cleanse(buf, n);
	return 0;
}

void
customer_phone_hash(struct app *app, const char *norm, uint8_t out[32])
{
	unsigned int len = 32;

	HMAC(EVP_sha256(), app->loyalty->hash_key, 32, (const uint8_t *)norm,
	    strlen(norm), out, &len);
}

int
customer_phone(struct app *app, const struct customer *cu, char *out,
    size_t size)
{
	if (cu->erased == 0 && loyalty_open(app->loyalty->enc_key,
	    cu->brand_id, cu->phone_ct, cu->phone_ct_len, out, size) == 0)
		return 0;
	out[0] = '\0';
	return SIGIL_EFORGED;
}

void
customer_masked(struct app *app, const struct customer *cu, char *out,
    size_t size)
{
	char phone[LOYALTY_PHONE_MAX + 1];

	if (cu->erased != 0 || cu->phone_ct_len == 0)
		snprintf(out, size, "erased");
	else if (customer_phone(app, cu, phone, sizeof phone) == 0)
		loyalty_phone_mask(phone, out, size);
	else
		snprintf(out, size, "unreadable");
}

/* ---- sessions and login ---- */

int
customer_of_device(struct app *app, uint32_t brand_id, uint64_t device,
    struct customer *out)
{
	uint64_t id;

	if (store_device_customer(app->store, brand_id, device, &id) != 0 ||
	    store_customer_get(app->store, brand_id, id, out) != 0 ||
	    out->erased != 0 || out->merged_into != 0)
		return SIGIL_EDENIED;
	return 0;
}

int
customer_first_brand(struct app *app, uint64_t device, struct brand *out)
{
	uint64_t id;

	for (uint32_t bid = 1; ; bid++) {
		if (store_brand_get(app->store, bid, out) != 0)
			return SIGIL_EDENIED;
		if (store_device_customer(app->store, bid, device, &id) == 0)
			return 0;
	}
}

int
customer_login_prepare(struct app *app, uint32_t brand_id, const char *phone,
    struct customer_login *l)
{
	return loyalty_seal(app->loyalty->enc_key, brand_id, phone, l->ct,
	    sizeof l->ct, &l->ct_len);
}

/*
 * The writer thread: the code, then the customer, the link, the log.
 * On a device whose customer has no phone (a WeChat customer) the phone
 * is bound to it, or, when another customer has the phone, the two are
 * merged (store_phone_login, store_merge.c: the merge's own activity
 * and audit entries ride in its transaction).
 */
static int
login_run(struct store *st, void *arg)
{
	struct customer_login *l = arg;
	struct otp_guess *g = &l->guess;
	struct phone_login pl;
	struct activity act = { 0 };
	int err;

	/* A code is good once: spent before anything else. */
	if ((err = otp_guess_check(st, g)) != 0 || g->out.result != OTP_OK)
		return err;
	if ((err = store_phone_login_bonus(st, g->brand_id, l->device,
	    g->phash, l->ct, l->ct_len, g->now, l->bonus, l->nbonus,
	    l->bonus_expires, &pl)) != 0)
		return err;
	l->cu = pl.cu;
	l->created = pl.created;
	l->bound = pl.bound;
	l->merged = pl.merged;
	if (l->device == 0)
		return 0;
	act.brand_id = g->brand_id;
	act.at = g->now;
	act.customer_id = l->cu.id;
	act.type = l->created ? ACTIVITY_CUSTOMER_NEW : ACTIVITY_LOGIN;
	store_activity_add(st, &act);
	return 0;
}

const struct writer_op customer_login_op = { "customer_login", login_run };
