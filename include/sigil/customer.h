/*
 * customer.h - a loyalty customer's identity (domain layer): the phone
 * number normalised, sealed, hashed for lookups and masked for display;
 * the device whose cookie is the customer's session; the login that
 * finds or creates the customer of a phone (a writer op, writer.h).
 */
#ifndef SIGIL_CUSTOMER_H
#define SIGIL_CUSTOMER_H

#include <stddef.h>
#include <stdint.h>

#include "sigil/otp.h"
#include "sigil/store.h"

struct app;
struct writer_op;

#define LOYALTY_PHONE_MAX	15	/* digits, E.164 without '+' */

/*
 * Normalises a phone number: blanks, '-', '(' and ')' dropped, an optional
 * leading '+' or "00"; 11 digits starting with 1 are mainland mobiles and
 * get 86 in front. 6 to 15 digits result, else SIGIL_EINVAL.
 */
int loyalty_phone_normalise(const char *in, char out[LOYALTY_PHONE_MAX + 1]);
/* "138****1234" for 86 numbers, "+44 79****1234"-style otherwise. */
void loyalty_phone_mask(const char *normalised, char *out, size_t size);

/*
 * AES-256-GCM with a random 12-byte nonce, brand_id as associated data:
 * out = nonce || ciphertext || tag (len + 28 bytes, at most size).
 */
int loyalty_seal(const uint8_t key[32], uint32_t brand_id, const char *text,
    uint8_t *out, size_t size, size_t *out_len);
/* Opens what loyalty_seal made into text (size bytes). SIGIL_EFORGED. */
int loyalty_open(const uint8_t key[32], uint32_t brand_id, const uint8_t *in,
    size_t len, char *text, size_t size);

/* HMAC-SHA256 of a normalised phone under the "phone-hash" secret: the
 * key customers and one-time codes are found by. */
void customer_phone_hash(struct app *app, const char *normalised,
    uint8_t out[32]);
/* The customer's phone in the clear ("" when erased or unreadable);
 * 0 or SIGIL_EFORGED. */
int customer_phone(struct app *app, const struct customer *cu, char *out,
    size_t size);
/* The customer's phone, masked ("erased", "unreadable"). */
void customer_masked(struct app *app, const struct customer *cu, char *out,
    size_t size);

/*
 * The customer device is logged in as at brand_id (not erased), in *out:
 * 0, or SIGIL_EDENIED when it is logged in as none.
 */
int customer_of_device(struct app *app, uint32_t brand_id, uint64_t device,
    struct customer *out);
/* The first brand (lowest id) device is logged in to: 0 or SIGIL_EDENIED. */
int customer_first_brand(struct app *app, uint64_t device, struct brand *out);

/*
 * Phone login, one writer op (customer_login_op, arg struct
 * customer_login): the one-time code checked (otp_guess_check: a wrong
 * guess counts, a right code is spent) and, when it was right
 * (guess.out OTP_OK), the brand's customer of the phone found or created
 * with the sealed phone (*created says which), device made its session
 * and the login logged at guess.now (ACTIVITY_CUSTOMER_NEW or
 * ACTIVITY_LOGIN). When device is a customer's without a phone (a
 * WeChat customer), a new phone is bound to that customer (bound), and
 * a phone another customer has merges the two (merged: the id that
 * went; store_phone_login). SIGIL_ECONFLICT: they could not be merged
 * (two openids of one app), nothing changed but the code spent. With device 0 (none could be drawn) the customer is
 * made but no device linked. run returns 0 also when the code was not
 * right (guess.out says why), else a store error.
 *
 * customer_login_prepare seals phone into l on the loop (the keys stay
 * there): 0 or SIGIL_ECRYPTO; the caller fills in guess, device and the
 * registration bonuses (campaign_registration_credits).
 */
struct customer_login {
	struct otp_guess	guess;
	uint8_t			ct[STORE_PHONE_CT_MAX];
	size_t			ct_len;
	uint64_t		device;
	struct customer		cu;		/* out */
	int			created;	/* out */
	int			bound;		/* out: phone bound */
	uint64_t		merged;		/* out: the id merged in */
	/* the registration bonuses a login that makes the customer pays
	 * (campaign_registration_credits, set by the caller on the loop;
	 * dropped set after) */
	struct claim_credit	bonus[STORE_REG_BONUS_MAX];
	size_t			nbonus;
	int64_t			bonus_expires;
};
int customer_login_prepare(struct app *app, uint32_t brand_id,
    const char *phone, struct customer_login *l);
extern const struct writer_op customer_login_op;

#endif
