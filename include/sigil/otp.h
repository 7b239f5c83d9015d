/*
 * otp.h - phone login by one-time code (domain layer): when a code may
 * be sent, sending it (the demo outbox or the SMS gateway), checking a
 * guess, and forgetting a phone's codes from the outbox on erasure.
 */
#ifndef SIGIL_OTP_H
#define SIGIL_OTP_H

#include <stdint.h>

struct app;

#define OTP_DIGITS		6

/* What otp_send and otp_check decided. */
enum otp_result {
	OTP_OK,			/* sent; or right (then otp_spend it) */
	/* otp_send */
	OTP_TOO_SOON,		/* one was sent less than a minute ago */
	OTP_DAILY_LIMIT,	/* this phone had its codes for today */
	OTP_SEND_LIMIT,		/* the client's send bucket */
	OTP_BRAND_LIMIT,	/* the brand's hourly bucket */
	OTP_NO_RANDOM,		/* no randomness */
	OTP_SEND_FAILED,	/* the store or the gateway failed */
	/* otp_check */
	OTP_GUESS_LIMIT,	/* the client's guess bucket */
	OTP_NONE,		/* no code pending for this phone */
	OTP_LOCKED,		/* too many wrong codes */
	OTP_EXPIRED,		/* too late (the code is deleted) */
	OTP_WRONG,		/* tries_left more */
	OTP_UNAVAILABLE,	/* the store failed */
};

struct otp_outcome {
	int		result;		/* enum otp_result */
	int64_t		retry_us;	/* the limits: when to try again */
	uint32_t	tries_left;	/* OTP_WRONG */
};

/* Who asks: the client's address (v4-mapped) and its text for logs. */
struct otp_client {
	const uint8_t	*addr;
	const char	*text;
};

/*
 * Sends a new code to phone (normalised; phash its customer_phone_hash)
 * for brand_id, after the limits: a minute between codes and 10 a China
 * day per phone, the client's and the brand's buckets. The code is kept
 * hashed with the phone hash (never in the clear, never logged).
 */
void otp_send(struct app *app, uint32_t brand_id, const char *phone,
    const uint8_t phash[32], const struct otp_client *client, int64_t now,
    struct otp_outcome *out);

/*
 * Checks a guess (OTP_DIGITS digits) at the code pending for phash after
 * the client's guess bucket; a wrong one counts (5 lock the code).
 */
void otp_check(struct app *app, uint32_t brand_id, const uint8_t phash[32],
    const char *guess, const struct otp_client *client, int64_t now,
    struct otp_outcome *out);

/* A right code is good once: deletes it (call before anything else). */
int otp_spend(struct app *app, uint32_t brand_id, const uint8_t phash[32]);

/*
 * Erasure: rewrites the demo outbox without the brand's lines for phone
 * (the normalised number, as the outbox has it): a new file, synced,
 * renamed over the old one. 0 also when there is no outbox or no phone.
 */
int otp_outbox_forget(struct app *app, uint32_t brand_id, const char *phone);

#endif
