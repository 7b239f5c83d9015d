/*
 * otp.h - phone login by one-time code (domain layer): when a code may
 * be sent, sending it (the demo outbox or the SMS gateway), checking a
 * guess, and forgetting a phone's codes from the outbox on erasure. The
 * store writes are writer ops (writer.h): the loop decides, the writer
 * thread writes.
 */
#ifndef SIGIL_OTP_H
#define SIGIL_OTP_H

#include <stdint.h>

#include "sigil/store.h"

struct app;
struct writer_op;

#define OTP_DIGITS		6

/* What sending a code and checking a guess came to. */
enum otp_result {
	OTP_OK,			/* sent; or right (and spent) */
	/* sending */
	OTP_TOO_SOON,		/* one was sent less than a minute ago */
	OTP_DAILY_LIMIT,	/* this phone had its codes for today */
	OTP_SEND_LIMIT,		/* the client's send bucket */
	OTP_BRAND_LIMIT,	/* the brand's hourly bucket */
	OTP_NO_RANDOM,		/* no randomness */
	OTP_SEND_FAILED,	/* the store or the gateway failed */
	/* checking */
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
 * Sending a code is three steps. otp_send_prepare, on the loop, applies
 * the limits (a minute between codes and 10 a China day per phone, the
 * client's and the brand's buckets) and draws the code for phone (phash
 * its customer_phone_hash) at brand_id into x; when x->out says OTP_OK,
 * otp_send_op stores it on the writer thread (kept hashed with the phone
 * hash, never in the clear), checking the phone's two limits again
 * against what is stored then (x->out: a code sent meanwhile wins); then
 * otp_send_finish, on the loop, sends it (the outbox or the gateway) and
 * says in x->out what came of it all, err being the op's result.
 * Neither the code nor the phone is ever logged.
 */
struct otp_send {
	uint32_t		brand_id;
	uint8_t			phash[32];
	int64_t			now;
	struct otp_state	state;			/* what is stored */
	char			code[OTP_DIGITS + 1];	/* for the notifier */
	struct otp_outcome	out;
};
void otp_send_prepare(struct app *app, uint32_t brand_id,
    const uint8_t phash[32], const struct otp_client *client, int64_t now,
    struct otp_send *x);
extern const struct writer_op otp_send_op;	/* arg: struct otp_send */
void otp_send_finish(struct app *app, struct otp_send *x, const char *phone,
    int err);

/*
 * A guess (OTP_DIGITS digits) at the code pending for phash at brand_id:
 * otp_guess_prepare takes the client's guess bucket on the loop
 * (g->out says OTP_GUESS_LIMIT when empty) and hashes the guess into g;
 * otp_guess_check, on the writer thread (customer_login_op), checks it
 * against the stored code into g->out: a wrong one counts (5 lock the
 * code), an expired one is deleted, and a right one (OTP_OK) is spent,
 * deleted, since a code is good once. 0, or the store's error deleting
 * it.
 */
struct otp_guess {
	uint32_t		brand_id;
	uint8_t			phash[32];
	uint8_t			hash[32];	/* of the guess with phash */
	int64_t			now;
	struct otp_outcome	out;
};
void otp_guess_prepare(struct app *app, uint32_t brand_id,
    const uint8_t phash[32], const char *guess,
    const struct otp_client *client, int64_t now, struct otp_guess *g);
int otp_guess_check(struct store *st, struct otp_guess *g);

/*
 * Erasure: rewrites the demo outbox without the brand's lines for phone
 * (the normalised number, as the outbox has it): a new file, synced,
 * renamed over the old one. 0 also when there is no outbox or no phone.
 */
int otp_outbox_forget(struct app *app, uint32_t brand_id, const char *phone);

#endif
