/*
 * ratelimit.h - the one rate limiter: token buckets in a fixed table,
 * keyed by a keyed hash. Every limit of sigild (consumer requests, OTP
 * sends and guesses, PIN attempts, dashboard logins, API tokens, phone
 * searches) is a struct ratelimit; see src/ground/ratelimit.c for the design.
 *
 * Not thread-safe: each table is used from one thread (the event loop).
 */
#ifndef SIGIL_RATELIMIT_H
#define SIGIL_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

struct ratelimit;

/* Production associativity: ways per set. */
#define RATELIMIT_WAYS		4

/* Options of ratelimit_new. */
enum ratelimit_flags {
	/*
	 * ratelimit_client_take also takes from a second, coarser bucket
	 * per IPv6 /56 (RATELIMIT_V56_FACTOR times the rate and burst),
	 * so one site cannot multiply the limit with its 256 /64s.
	 */
	RATELIMIT_V6_56 = 1 << 0,
};
#define RATELIMIT_V56_FACTOR	4

/*
 * A table of nsets * ways buckets of rate tokens a second, at most burst
 * (nsets is rounded up to a power of two; ways 1..16). The hash key is
 * fresh from the OS CSPRNG. 0 or SIGIL_EINVAL (rate <= 0, burst < 1, bad
 * sizes), SIGIL_ENOMEM, SIGIL_ECRYPTO (no randomness); *out on success.
 */
int ratelimit_new(size_t nsets, unsigned ways, double rate, double burst,
    int flags, struct ratelimit **out);
void ratelimit_free(struct ratelimit *rl);

/*
 * Takes one token from key's bucket at now_us: 1 when one was there, 0
 * when the key is over its rate. Refusals take nothing.
 */
int ratelimit_take(struct ratelimit *rl, const void *key, size_t len,
    int64_t now_us);
/* 1 when key's bucket holds a token now, without taking it. */
int ratelimit_peek(struct ratelimit *rl, const void *key, size_t len,
    int64_t now_us);
/* Refills key's bucket to full (the key proved itself, e.g. a login). */
void ratelimit_reset(struct ratelimit *rl, const void *key, size_t len);
/* Microseconds until key's bucket holds a token again (0: it does). */
int64_t ratelimit_wait_us(struct ratelimit *rl, const void *key, size_t len,
    int64_t now_us);

/*
 * The client key of a (v4-mapped) 16-byte address: an IPv4 address as
 * itself, an IPv6 address by its /64 (prefix_bits 64) or /56. Writes
 * RATELIMIT_CLIENT_KEY bytes to out.
 */
#define RATELIMIT_CLIENT_KEY	17
void ratelimit_client_key(const uint8_t addr[16], int prefix_bits,
    uint8_t out[RATELIMIT_CLIENT_KEY]);

/*
 * ratelimit_take for a client address: its IPv4 address or IPv6 /64,
 * and with RATELIMIT_V6_56 its /56 as well; both must hold a token, and
 * a refusal takes nothing. ratelimit_client_wait_us: until both do.
 */
int ratelimit_client_take(struct ratelimit *rl, const uint8_t addr[16],
    int64_t now_us);
/* 1 when ratelimit_client_take would allow, without taking anything. */
int ratelimit_client_peek(struct ratelimit *rl, const uint8_t addr[16],
    int64_t now_us);
int64_t ratelimit_client_wait_us(struct ratelimit *rl, const uint8_t addr[16],
    int64_t now_us);

/* SipHash-2-4 of n bytes under a 16-byte key (exposed for the tests). */
uint64_t ratelimit_siphash(const uint8_t key[16], const void *p, size_t n);
/* The table's keyed hash of a key (tests: differs across tables). */
uint64_t ratelimit_hash(const struct ratelimit *rl, const void *key,
    size_t len);

#endif
