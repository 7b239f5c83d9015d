/*
 * util.c - the small shared pieces: error strings, time, hex, strict
 * base64, the CSPRNG, the retry back-off, CRC-32C, writing a whole
 * buffer, and the one check of user text (sigil_text_check).
 *
 * Owns nothing and keeps no state but the CRC table, computed once. It
 * may call libc and OpenSSL (RAND, EVP) only; every other module may
 * call it, so it must never call any of them. Randomness always comes from
 * RAND_bytes (seeded by the OS), never from rand() or the clock.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "sigil/util.h"

const char *
sigil_strerror(int err)
{
	switch (err) {
	case SIGIL_OK:		return "success";
	case SIGIL_EINVAL:	return "invalid input";
	case SIGIL_ENOMEM:	return "out of memory";
	case SIGIL_ENOTFOUND:	return "not found";
	case SIGIL_EEXIST:	return "already exists";
	case SIGIL_EIO:		return "I/O error";
	case SIGIL_EFORGED:	return "signature does not verify";
	case SIGIL_EFULL:	return "limit reached";
	case SIGIL_ESTATE:	return "wrong state";
	case SIGIL_ECRYPTO:	return "cryptography failure";
	case SIGIL_EBUSY:	return "busy";
	case SIGIL_ECONFLICT:	return "conflict";
	case SIGIL_EDENIED:	return "permission denied";
	}
	return "unknown error";
}

static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void
crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0x82f63b78u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}

uint32_t
sigil_crc32c_update(uint32_t c, const void *buf, size_t n)
{
	const uint8_t *p = buf;

	pthread_once(&crc_once, crc_init);
	while (n--)
		c = crc_table[(c ^ *p++) & 0xff] ^ (c >> 8);
	return c;
}

uint32_t
sigil_crc32c(const void *p, size_t n)
{
	return ~sigil_crc32c_update(0xffffffffu, p, n);
}

void
sigil_cond_init(pthread_cond_t *cv)
{
	pthread_condattr_t ca;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(cv, &ca);
	pthread_condattr_destroy(&ca);
}

int
sigil_cond_wait_ms(pthread_cond_t *cv, pthread_mutex_t *mu, long ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return pthread_cond_timedwait(cv, mu, &ts) != 0;
}

/*
 * A test build (SIGIL_FAULT_INJECTION) reads SIGIL_TEST_CLOCK_SHIFT,
 * whole seconds added to the wall clock, so a test can make scans in an
 * earlier period (start sigild shifted back, scan, restart unshifted).
 * Any other build has no such hook.
 */
int64_t
sigil_now_us(void)
{
	struct timespec ts;
	int64_t shift = 0;

#ifdef SIGIL_FAULT_INJECTION
	const char *e = getenv("SIGIL_TEST_CLOCK_SHIFT");

	if (e != NULL)
		shift = strtoll(e, NULL, 10);
	if (shift < -(int64_t)3650 * 86400 || shift > (int64_t)3650 * 86400)
		shift = 0;
#endif
	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t)ts.tv_sec + shift) * 1000000 + ts.tv_nsec / 1000;
}

char *
sigil_time_format(int64_t t, char *buf)
{
	time_t secs = (time_t)(t >= 0 ? t / 1000000 : (t - 999999) / 1000000);
	int ms = (int)((t - (int64_t)secs * 1000000) / 1000);
	struct tm tm;
	char tmp[96];

	gmtime_r(&secs, &tm);
	snprintf(tmp, sizeof tmp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, ms);
	memcpy(buf, tmp, SIGIL_TIME_LEN);
	buf[SIGIL_TIME_LEN] = '\0';
	return buf;
}

static int
days_in_month(int y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : days[m - 1];
}

/* Days since 1970-01-01 for a proleptic Gregorian date (Hinnant's). */
static int64_t
days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

int
sigil_time_parse(const char *s, int64_t *out)
{
	int y, mo, d, h = 0, mi = 0, sec = 0, ms = 0, n = 0;
	size_t len;

	if (s == NULL)
		return SIGIL_EINVAL;
	len = strlen(s);
	if (len == 10) {
		if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
			return SIGIL_EINVAL;
	} else if (len == 20) {
		if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &y, &mo, &d, &h,
		    &mi, &sec, &n) != 6 || n != 20)
			return SIGIL_EINVAL;
	} else if (len == 24) {
		if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ%n", &y, &mo, &d,
		    &h, &mi, &sec, &ms, &n) != 7 || n != 24)
			return SIGIL_EINVAL;
	} else
		return SIGIL_EINVAL;
	/*
	 * sscanf's %d skips leading white space (tabs, newlines too) and takes
	 * a sign, so "2024-01-\t1" would pass it; every digit position must
	 * hold a digit, so that one instant has one spelling. The three forms
	 * share the first 19 positions of the longest.
	 */
	for (size_t i = 0; i < len; i++)
		if ("0000-00-00T00:00:00.000Z"[i] == '0' &&
		    (s[i] < '0' || s[i] > '9'))
			return SIGIL_EINVAL;
	if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 ||
	    d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 59 ||
	    h < 0 || mi < 0 || sec < 0 || ms < 0)
		return SIGIL_EINVAL;
	*out = ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 +
	    sec) * 1000 + ms) * 1000;
	return 0;
}

/* n decimal digits at s into *out: 0, or -1 for anything else. */
static int
digits_n(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int
sigil_time_parse_rfc3339(const char *s, int64_t *out)
{
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0, n = 0;
	int64_t us = 0;
	const char *p;

	if (s == NULL || strnlen(s, 20) < 20 || digits_n(s, 4, &y) ||
	    s[4] != '-' || digits_n(s + 5, 2, &mo) || s[7] != '-' ||
	    digits_n(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') ||
	    digits_n(s + 11, 2, &h) || s[13] != ':' ||
	    digits_n(s + 14, 2, &mi) || s[16] != ':' ||
	    digits_n(s + 17, 2, &sec))
		return SIGIL_EINVAL;
	p = s + 19;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, n++)
			if (n < 6)
				us = us * 10 + (*p - '0');
		if (n == 0 || n > 9)
			return SIGIL_EINVAL;
		for (; n < 6; n++)
			us *= 10;
	}
	if ((*p == 'Z' || *p == 'z') && p[1] == '\0')
		;
	else if ((*p == '+' || *p == '-') && digits_n(p + 1, 2, &oh) == 0 &&
	    p[3] == ':' && digits_n(p + 4, 2, &om) == 0 && p[6] == '\0' &&
	    oh <= 23 && om <= 59)
		sign = *p == '-' ? -1 : 1;
	else
		return SIGIL_EINVAL;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) ||
	    h > 23 || mi > 59 || sec > 60)
		return SIGIL_EINVAL;
	*out = (days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec -
	    sign * (oh * 3600 + om * 60)) * 1000000 + us;
	return 0;
}

int
sigil_qvalue_parse(const char *s, size_t n)
{
	int q;

	if (n == 0 || (s[0] != '0' && s[0] != '1'))
		return -1;
	q = (s[0] - '0') * 1000;
	if (n == 1)
		return q;
	if (s[1] != '.' || n > 5)
		return -1;
	for (size_t i = 2; i < n; i++) {
		int scale = i == 2 ? 100 : i == 3 ? 10 : 1;

		if (s[i] < '0' || s[i] > '9' || (q == 1000 && s[i] != '0'))
			return -1;
		q += (s[i] - '0') * scale;
	}
	return q;
}

int
sigil_random(void *buf, size_t n)
{
	if (n > 0 && RAND_bytes(buf, (int)n) != 1)
		return SIGIL_ECRYPTO;
	return 0;
}

int64_t
sigil_backoff_us(uint32_t attempts, int64_t max_s, uint32_t jitter)
{
	int64_t base = max_s;

	if (attempts == 0)
		return 0;
	if (attempts - 1 < 31)
		base = (int64_t)1 << (attempts - 1);
	if (base > max_s)
		base = max_s;
	base *= 1000000;
	return base + (int64_t)((double)jitter / 4294967296.0 * (double)base /
	    4.0);
}

int
sigil_b64_decode(const char *s, size_t n, uint8_t *out, size_t max,
    size_t *len)
{
	size_t pad = 0;
	uint8_t *tmp;

	if (n == 0 || n % 4 != 0 || n / 4 * 3 > max + 2 || n > INT32_MAX)
		return SIGIL_EINVAL;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '=' && i >= n - 2) {
			pad++;
			continue;
		}
		if (pad > 0 || !((c >= 'A' && c <= 'Z') || (c >= 'a' &&
		    c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
		    c == '/'))
			return SIGIL_EINVAL;
	}
	if (n / 4 * 3 - pad > max)
		return SIGIL_EINVAL;
	/* EVP_DecodeBlock writes the padding's zero bytes too. */
	if ((tmp = malloc(n / 4 * 3)) == NULL)
		return SIGIL_ENOMEM;
	if (EVP_DecodeBlock(tmp, (const unsigned char *)s, (int)n) < 0) {
		free(tmp);
		return SIGIL_EINVAL;
	}
	*len = n / 4 * 3 - pad;
	memcpy(out, tmp, *len);
	OPENSSL_cleanse(tmp, n / 4 * 3);
	free(tmp);
	return 0;
}

void
sigil_hex_encode(const void *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	const uint8_t *p = in;

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

int
sigil_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
sigil_pwrite_all(int fd, const void *p, size_t n, off_t off)
{
	const uint8_t *b = p;

	while (n > 0) {
		ssize_t w = pwrite(fd, b, n, off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return SIGIL_EIO;
		b += w;
		n -= (size_t)w;
		off += w;
	}
	return 0;
}

int
sigil_hex_decode(const char *in, size_t n, void *out)
{
	uint8_t *p = out;

	for (size_t i = 0; i < n; i++) {
		int hi = sigil_hex_digit((unsigned char)in[2 * i]), lo;

		if (hi < 0 || (lo = sigil_hex_digit((unsigned char)in[2 * i + 1])) < 0)
			return SIGIL_EINVAL;
		p[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int
sigil_memeq_ct(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) != 0;
}

int
sigil_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (s == NULL || *s == '\0' || strlen(s) > 20)
		return SIGIL_EINVAL;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return SIGIL_EINVAL;
		if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return SIGIL_EINVAL;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (v > max)
		return SIGIL_EINVAL;
	*out = v;
	return 0;
}

/* ---- user text ---- */

static int
text_fail(struct sigil_text_err *e, int why, uint32_t cp)
{
	if (e != NULL) {
		e->why = why;
		e->cp = cp;
	}
	return SIGIL_EINVAL;
}

static int
bidi_control(uint32_t cp)
{
	return cp == 0x061c || cp == 0x200e || cp == 0x200f ||
	    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

int
sigil_text_check(const char *s, size_t len, size_t max_chars, int flags,
    struct sigil_text_err *e)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, chars = 0;

	if (s == NULL || len == 0)
		return (flags & SIGIL_TEXT_EMPTY_OK) && s != NULL ? 0 :
		    text_fail(e, SIGIL_TEXT_EMPTY, 0);
	while (i < len) {
		unsigned c = p[i];
		size_t n = 0;
		uint32_t cp;

		if (c < 0x80)
			cp = c;
		else if (c >= 0xc2 && c <= 0xdf)
			n = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3, cp = c & 0x07;
		else
			return text_fail(e, SIGIL_TEXT_UTF8, 0);
		for (size_t k = 1; k <= n; k++) {
			if (i + k >= len || (p[i + k] & 0xc0) != 0x80)
				return text_fail(e, SIGIL_TEXT_UTF8, 0);
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return text_fail(e, SIGIL_TEXT_UTF8, 0);
		if (cp == '\n' && (flags & SIGIL_TEXT_MULTILINE))
			;
		else if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 &&
		    cp <= 0x9f) || cp == 0x2028 || cp == 0x2029)
			return text_fail(e, SIGIL_TEXT_CONTROL, cp);
		else if (bidi_control(cp))
			return text_fail(e, SIGIL_TEXT_BIDI, cp);
		if (++chars > max_chars)
			return text_fail(e, SIGIL_TEXT_LONG, 0);
		i += n + 1;
	}
	return 0;
}

int
sigil_text_ok(const char *s, size_t max_chars, int flags,
    struct sigil_text_err *e)
{
	if (s == NULL)
		return text_fail(e, SIGIL_TEXT_EMPTY, 0);
	/* More than 4 bytes a character can never fit: stop reading. */
	return sigil_text_check(s, strnlen(s, max_chars * 4 + 1), max_chars,
	    flags, e);
}

void
sigil_text_explain(const char *field, size_t max_chars, int flags,
    const struct sigil_text_err *e, char *out, size_t size)
{
	char what[64];

	switch (e != NULL ? e->why : SIGIL_TEXT_OK) {
	case SIGIL_TEXT_EMPTY:
		snprintf(what, sizeof what, "it is empty");
		break;
	case SIGIL_TEXT_LONG:
		snprintf(what, sizeof what, "it is longer");
		break;
	case SIGIL_TEXT_UTF8:
		snprintf(what, sizeof what, "it is not valid UTF-8");
		break;
	case SIGIL_TEXT_CONTROL:
		snprintf(what, sizeof what, "it holds a control character "
		    "(U+%04X)", (unsigned)e->cp);
		break;
	case SIGIL_TEXT_BIDI:
		snprintf(what, sizeof what, "it holds a bidirectional control "
		    "character (U+%04X)", (unsigned)e->cp);
		break;
	default:
		snprintf(what, sizeof what, "it is not a string");
		break;
	}
	snprintf(out, size, "'%.40s' must be %s%zu characters of text%s: %s",
	    field, (flags & SIGIL_TEXT_EMPTY_OK) ? "at most " : "1 to ",
	    max_chars, (flags & SIGIL_TEXT_MULTILINE) ? " (line breaks "
	    "allowed, no other control or bidirectional control characters)" :
	    " without control or bidirectional control characters", what);
}

size_t
sigil_utf8_chars(const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += ((unsigned char)s[i] & 0xc0) != 0x80;
	return n;
}

int
sigil_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		unsigned c = p[i];
		size_t n;
		uint32_t cp;

		if (c == 0)
			return 0;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else
			return 0;
		for (size_t k = 1; k <= n; k++) {
			if (i + k >= len || (p[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += n + 1;
	}
	return 1;
}

size_t
sigil_json_values(const char *s, size_t n)
{
	size_t count = 1;
	int in_str = 0;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = 0;
		} else if (c == '"')
			in_str = 1;
		else if (c == ',' || c == '[' || c == '{')
			count++;
	}
	return count;
}

/* ---- sealing: AES-256-GCM, nonce || ciphertext || tag ---- */

int
sigil_seal(const uint8_t key[32], const uint8_t *aad, size_t aadlen,
    const uint8_t *in, size_t n, uint8_t *out)
{
	EVP_CIPHER_CTX *ctx;
	int len = 0, fin = 0, err = SIGIL_ECRYPTO;

	if (n > INT_MAX - 64 || aadlen > INT_MAX)
		return SIGIL_EINVAL;
	if (sigil_random(out, 12) != 0)
		return SIGIL_ECRYPTO;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		return SIGIL_ENOMEM;
	if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, out) == 1 &&
	    EVP_EncryptUpdate(ctx, NULL, &len, aad, (int)aadlen) == 1 &&
	    EVP_EncryptUpdate(ctx, out + 12, &len, in, (int)n) == 1 &&
	    (size_t)len == n &&
	    EVP_EncryptFinal_ex(ctx, out + 12 + len, &fin) == 1 && fin == 0 &&
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16,
	    out + 12 + n) == 1)
		err = 0;
	EVP_CIPHER_CTX_free(ctx);
	return err;
}

int
sigil_open(const uint8_t key[32], const uint8_t *aad, size_t aadlen,
    const uint8_t *in, size_t len, uint8_t *out)
{
	EVP_CIPHER_CTX *ctx;
	uint8_t tag[16];
	size_t n;
	int got = 0, fin = 0, err = SIGIL_EFORGED;

	if (len < SIGIL_SEAL_OVERHEAD || len > INT_MAX || aadlen > INT_MAX)
		return SIGIL_EFORGED;
	n = len - SIGIL_SEAL_OVERHEAD;
	memcpy(tag, in + len - 16, 16);
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		return SIGIL_ENOMEM;
	if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, in) == 1 &&
	    EVP_DecryptUpdate(ctx, NULL, &got, aad, (int)aadlen) == 1 &&
	    EVP_DecryptUpdate(ctx, out, &got, in + 12, (int)n) == 1 &&
	    (size_t)got == n &&
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, tag) == 1 &&
	    EVP_DecryptFinal_ex(ctx, out + got, &fin) == 1 && fin == 0)
		err = 0;
	EVP_CIPHER_CTX_free(ctx);
	if (err != 0)
		OPENSSL_cleanse(out, n);
	return err;
}
