/*
 * util.h - error codes, time, hex, base64, randomness and the retry
 * back-off shared by every module.
 *
 * Every sigil function that can fail returns 0 on success or one of the
 * negative SIGIL_E* codes below; sigil_strerror() turns a code into a short
 * English phrase for logs and one-line CLI errors.
 */
#ifndef SIGIL_UTIL_H
#define SIGIL_UTIL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum sigil_err {
	SIGIL_OK = 0,
	SIGIL_EINVAL = -1,	/* malformed or out-of-range input */
	SIGIL_ENOMEM = -2,	/* allocation failed */
	SIGIL_ENOTFOUND = -3,	/* no such object */
	SIGIL_EEXIST = -4,	/* object already exists */
	SIGIL_EIO = -5,		/* file or storage I/O failed */
	SIGIL_EFORGED = -6,	/* signature tag does not verify */
	SIGIL_EFULL = -7,	/* a bound was reached (map, queue, range) */
	SIGIL_ESTATE = -8,	/* object is in the wrong state for this */
	SIGIL_ECRYPTO = -9,	/* OpenSSL or the CSPRNG failed */
	SIGIL_EBUSY = -10,	/* try again later (shutting down, locked) */
	SIGIL_ECONFLICT = -11,	/* lost a race or violates a uniqueness rule */
	SIGIL_EDENIED = -12,	/* not allowed for this caller */
};

/* A static, never-NULL phrase for err (e.g. "not found"). */
const char *sigil_strerror(int err);

/* Wall-clock time in microseconds since the Unix epoch. */
int64_t sigil_now_us(void);

/*
 * A condition variable whose timed waits run on CLOCK_MONOTONIC, so that
 * a step of the wall clock neither stretches nor cuts them; and a wait on
 * one (mu held) for at most ms milliseconds: 1 when the time ran out,
 * 0 when woken.
 */
void sigil_cond_init(pthread_cond_t *cv);
int sigil_cond_wait_ms(pthread_cond_t *cv, pthread_mutex_t *mu, long ms);

/*
 * Formats t (microseconds since the epoch, UTC) as ISO-8601 with
 * millisecond precision, e.g. "2026-11-23T08:01:02.345Z". buf must hold
 * at least SIGIL_TIME_LEN + 1 bytes. Returns buf.
 */
#define SIGIL_TIME_LEN 24
char *sigil_time_format(int64_t t, char *buf);

/*
 * Parses "YYYY-MM-DD", "YYYY-MM-DDTHH:MM:SSZ" or the millisecond form
 * written by sigil_time_format(). Returns 0 and sets *out (microseconds),
 * or SIGIL_EINVAL for anything else (including impossible dates).
 */
int sigil_time_parse(const char *s, int64_t *out);

/*
 * An RFC 3339 date-time, "YYYY-MM-DDTHH:MM:SS[.F](Z|+HH:MM|-HH:MM)" (T
 * and Z in either case, one to nine fraction digits, cut to
 * microseconds; a leap second :60 counts as the next second). 0 and
 * *out (microseconds since 1970, negative before it), or SIGIL_EINVAL
 * for anything else, impossible dates included; *out untouched then.
 */
int sigil_time_parse_rfc3339(const char *s, int64_t *out);

/*
 * An RFC 9110 qvalue in s[0..n): "0" ["." 0-3 digits] or "1" ["." 0-3
 * zeros], as thousandths; -1 if it is not one.
 */
int sigil_qvalue_parse(const char *s, size_t n);

/* Fills buf with n bytes from the OS CSPRNG. 0 or SIGIL_ECRYPTO. */
int sigil_random(void *buf, size_t n);

/*
 * Delay in microseconds before try number attempts + 1, after attempts
 * failures in a row: 2^(attempts-1) seconds capped at max_s, stretched by
 * up to a quarter by jitter (any 32-bit random value) so that a receiver
 * that comes back is not met by every retry in the same second. 0 for
 * attempts 0. The one back-off of webhooks, messages and payouts.
 */
int64_t sigil_backoff_us(uint32_t attempts, int64_t max_s, uint32_t jitter);

/* Lower-case hex of n bytes into out (2n+1 bytes, NUL-terminated). */
void sigil_hex_encode(const void *in, size_t n, char *out);

/* Decodes exactly 2n hex digits into n bytes. 0 or SIGIL_EINVAL. */
int sigil_hex_decode(const char *in, size_t n, void *out);

/*
 * Strict, padded base64 (RFC 4648 section 4) of s[0..n) into out, which
 * holds max bytes; *len gets the decoded length. 0, SIGIL_EINVAL (not
 * such base64, or longer than max) or SIGIL_ENOMEM; *len set on success
 * only. The scratch copy is cleansed: keys pass through here.
 */
int sigil_b64_decode(const char *s, size_t n, uint8_t *out, size_t max,
    size_t *len);

/*
 * CRC-32C (Castagnoli) of n bytes, and its running form for a CRC over
 * several pieces: start at 0xffffffff, feed each piece, end with ~. The
 * write-ahead log's checksum (src/store/wal.c).
 */
uint32_t sigil_crc32c(const void *p, size_t n);
uint32_t sigil_crc32c_update(uint32_t crc, const void *p, size_t n);

/* The value of one hex digit, or -1. */
int sigil_hex_digit(int c);

/*
 * Writes all n bytes of p at offset off of fd, going on after a short
 * write or EINTR: 0, or SIGIL_EIO (errno says why).
 */
int sigil_pwrite_all(int fd, const void *p, size_t n, off_t off);

/* Constant-time comparison: 0 when equal. */
int sigil_memeq_ct(const void *a, const void *b, size_t n);

/*
 * Parses a whole decimal string into *out, rejecting signs, blanks,
 * trailing garbage and values above max. 0 or SIGIL_EINVAL.
 */
int sigil_parse_u64(const char *s, uint64_t max, uint64_t *out);

/*
 * User text (names, SKUs, feedback): the one check every API, dashboard,
 * consumer and CLI text input goes through, and the store again. s (len
 * bytes) must be well-formed UTF-8 of 1 to max_chars Unicode characters
 * (code points, not bytes: 64 Chinese characters are 64), or 0 with
 * SIGIL_TEXT_EMPTY_OK. Refused anywhere: C0 controls (U+0000-U+001F), DEL,
 * C1 controls (U+0080-U+009F), U+2028/U+2029, and the bidi controls that
 * can reorder the text shown around them (U+061C, U+200E, U+200F,
 * U+202A-U+202E, U+2066-U+2069). SIGIL_TEXT_MULTILINE lets U+000A (\n)
 * through, nothing else. 0, or SIGIL_EINVAL with *e (if not NULL) saying
 * why; sigil_text_explain() turns that into a message naming the field.
 */
enum sigil_text_flags {
	SIGIL_TEXT_EMPTY_OK = 1 << 0,
	SIGIL_TEXT_MULTILINE = 1 << 1,
};
enum sigil_text_why {
	SIGIL_TEXT_OK = 0,
	SIGIL_TEXT_EMPTY,
	SIGIL_TEXT_LONG,
	SIGIL_TEXT_UTF8,
	SIGIL_TEXT_CONTROL,
	SIGIL_TEXT_BIDI,
};
struct sigil_text_err {
	int		why;	/* enum sigil_text_why */
	uint32_t	cp;	/* the refused character (CONTROL, BIDI) */
};
int sigil_text_check(const char *s, size_t len, size_t max_chars, int flags,
    struct sigil_text_err *e);
/* The same for a NUL-terminated string (NULL is refused as empty). */
int sigil_text_ok(const char *s, size_t max_chars, int flags,
    struct sigil_text_err *e);
/*
 * "'name' must be 1 to 200 characters: it holds a control character
 * (U+001B)" and the like, into out.
 */
void sigil_text_explain(const char *field, size_t max_chars, int flags,
    const struct sigil_text_err *e, char *out, size_t size);
/* Unicode characters (code points) in the well-formed UTF-8 s. */
size_t sigil_utf8_chars(const char *s, size_t len);
/*
 * 1 when s (len bytes) is well-formed UTF-8 without NUL (no overlong
 * forms, surrogates or code points above U+10FFFF), else 0.
 */
int sigil_utf8_valid(const char *s, size_t len);

/*
 * An upper bound of the number of values in the JSON text s (n bytes):
 * commas, '[' and '{' outside strings, plus one. Linear and allocation
 * free: callers refuse a body with too many values before a parser
 * allocates for each of them (review F25).
 */
size_t sigil_json_values(const char *s, size_t n);

/*
 * JSON values in one brand API body (sigil_json_values): 100,000 codes
 * or a territory of GEO_VERTICES_MAX positions (3 values each) fit; a
 * body of millions of tiny values is refused (413) before it is parsed,
 * so one request costs at most some tens of milliseconds of parsing.
 */
#define SIGIL_JSON_VALUES_MAX	400000

/* Big-endian helpers for LMDB keys and code layouts. */
static inline void sigil_be64_put(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static inline uint64_t sigil_be64_get(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static inline void sigil_be32_put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint32_t sigil_be32_get(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/*
 * AES-256-GCM with a random 96-bit nonce, bound to aad: out receives
 * nonce (12) || ciphertext (n) || tag (16), SIGIL_SEAL_OVERHEAD more bytes
 * than in. 0, SIGIL_EINVAL (n too large), SIGIL_ENOMEM or SIGIL_ECRYPTO.
 */
#define SIGIL_SEAL_OVERHEAD	28
int sigil_seal(const uint8_t key[32], const uint8_t *aad, size_t aadlen,
    const uint8_t *in, size_t n, uint8_t *out);
/*
 * Opens what sigil_seal made (len bytes, at least SIGIL_SEAL_OVERHEAD) into
 * out, which must hold len - SIGIL_SEAL_OVERHEAD bytes. 0, SIGIL_EFORGED
 * (too short, wrong key or aad, altered) or SIGIL_ENOMEM; out is
 * cleansed unless 0.
 */
int sigil_open(const uint8_t key[32], const uint8_t *aad, size_t aadlen,
    const uint8_t *in, size_t len, uint8_t *out);

#endif
