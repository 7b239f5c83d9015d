/*
 * code.c - codes and their signatures: derivation, signing, the compact
 * base32 form, the GS1 Digital Link form and the hidden PIN.
 *
 * A code is 140 bits, big-endian: version (4) | key id (16) | serial (40) |
 * tag (80), written as 28 Crockford base32 characters. The tag is the first
 * 80 bits of HMAC-SHA256 over a domain-separated message; docs/codes.md has
 * the layout and the security argument.
 *
 * What it owns: pure functions of their arguments. It keeps no state, does
 * no I/O and never sees storage; callers get keys from keyring.c and
 * serials' batches from the store (store_catalog.c). It may call libc,
 * OpenSSL's libcrypto and util.c only.
 *
 * Speed: minting writes millions of codes, so code_sign() must cost about
 * what raw HMAC costs. code_key_derive() hashes the (key ^ ipad) and
 * (key ^ opad) blocks once and keeps the SHA-256 chaining values in
 * struct code_key; each tag then takes two compressions, with no EVP
 * fetch, allocation or locking. That needs OpenSSL's low-level SHA256_*
 * calls, deprecated in OpenSSL 3 but still exported, hence
 * OPENSSL_SUPPRESS_DEPRECATED below. A unit test pins the result to
 * OpenSSL's own HMAC() so the shortcut cannot silently drift.
 *
 * Parsers here read hostile bytes straight from URLs: every input is
 * length-bounded before it is looked at, every value is checked against
 * its alphabet, and output structs are written only on success. Each
 * parser has a libFuzzer target in fuzz/.
 *
 * It must never log, and never compare tags or PINs with memcmp: the
 * comparisons go through CRYPTO_memcmp so timing tells a guesser nothing.
 */
#define OPENSSL_SUPPRESS_DEPRECATED

#include <string.h>
#include <strings.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/sha.h>

#include "sigil/code.h"
#include "sigil/util.h"

#define COMPACT_BYTES		18	/* 140 bits rounded up to bytes */
#define GS1_TAG_BYTES		13	/* 100 bits rounded up to bytes */
#define COMPACT_INPUT_MAX	64	/* code plus generous hyphenation */
#define GS1_PATH_MAX		1024
#define GS1_VALUE_MAX		20	/* AIs 22, 10 and 21 are all X..20 */
#define GS1_SEEN_MAX		32	/* AIs in one Digital Link */
#define PARSE_ANY_MAX		2048

static const char b32_alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

static const char tag_label[] = "sigil/code/v1";
static const char pin_label[] = "sigil/pin/v1";

/*
 * Crockford decoding: symbol value + 1, 0 for a rejected byte. Both cases
 * of the alphabet, and the aliases O -> 0 and I, L -> 1; U stays out.
 */
static const uint8_t b32_table[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6,
	['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10, ['A'] = 11,
	['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
	['G'] = 17, ['H'] = 18, ['I'] = 2, ['J'] = 19, ['K'] = 20,
	['L'] = 2, ['M'] = 21, ['N'] = 22, ['O'] = 1, ['P'] = 23,
	['Q'] = 24, ['R'] = 25, ['S'] = 26, ['T'] = 27, ['V'] = 28,
	['W'] = 29, ['X'] = 30, ['Y'] = 31, ['Z'] = 32, ['a'] = 11,
	['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
	['g'] = 17, ['h'] = 18, ['i'] = 2, ['j'] = 19, ['k'] = 20,
	['l'] = 2, ['m'] = 21, ['n'] = 22, ['o'] = 1, ['p'] = 23,
	['q'] = 24, ['r'] = 25, ['s'] = 26, ['t'] = 27, ['v'] = 28,
	['w'] = 29, ['x'] = 30, ['y'] = 31, ['z'] = 32,
};

/* nchars symbols from the bit string in (MSB first, zero-extended). */
static void
b32_encode(const uint8_t *in, size_t nchars, char *out)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t j = 0;

	for (size_t i = 0; i < nchars; i++) {
		if (bits < 5) {
			acc = acc << 8 | in[j++];
			bits += 8;
		}
		out[i] = b32_alphabet[(acc >> (bits - 5)) & 31];
		bits -= 5;
	}
	out[nchars] = '\0';
}

/*
 * Decodes s[0..len) into exactly want symbols' worth of bits in out,
 * skipping hyphens. SIGIL_EINVAL for any other character or a count
 * other than want.
 */
static int
b32_decode(const char *s, size_t len, size_t want, uint8_t *out,
    size_t outlen)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t n = 0, j = 0;

	memset(out, 0, outlen);
	for (size_t i = 0; i < len; i++) {
		int v;

		if (s[i] == '-')
			continue;
		v = b32_table[(unsigned char)s[i]] - 1;
		if (v < 0 || n == want)
			return SIGIL_EINVAL;
		n++;
		acc = acc << 5 | (uint32_t)v;
		bits += 5;
		if (bits >= 8) {
			out[j++] = (uint8_t)(acc >> (bits - 8));
			bits -= 8;
		}
	}
	if (n != want)
		return SIGIL_EINVAL;
	if (bits > 0)
		out[j] = (uint8_t)(acc << (8 - bits));
	return 0;
}

/* ---- keys and HMAC ---------------------------------------------------- */

static int
hkdf_sha256(const uint8_t root[CODE_KEY_BYTES], const char *label,
    uint16_t id, uint8_t out[32])
{
	EVP_KDF *kdf = NULL;
	EVP_KDF_CTX *kctx = NULL;
	OSSL_PARAM params[4];
	uint8_t info[32];
	size_t llen = strlen(label);
	int err = SIGIL_ECRYPTO;

	memcpy(info, label, llen);
	info[llen] = (uint8_t)(id >> 8);
	info[llen + 1] = (uint8_t)id;
	if ((kdf = EVP_KDF_fetch(NULL, "HKDF", NULL)) == NULL)
		goto cleanup;
	if ((kctx = EVP_KDF_CTX_new(kdf)) == NULL)
		goto cleanup;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
	    (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
	    (void *)root, CODE_KEY_BYTES);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
	    info, llen + 2);
	params[3] = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(kctx, out, 32, params) != 1)
		goto cleanup;
	err = 0;
cleanup:
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
	return err;
}

/* The chaining value after one 64-byte block of key ^ pad. */
static int
hmac_midstate(const uint8_t key[32], uint8_t pad, uint32_t mid[8])
{
	uint8_t block[SHA256_CBLOCK];
	SHA256_CTX c;
	int err = SIGIL_ECRYPTO;

	memset(block, pad, sizeof(block));
	for (int i = 0; i < 32; i++)
		block[i] ^= key[i];
	if (SHA256_Init(&c) != 1 || SHA256_Update(&c, block,
	    sizeof(block)) != 1)
		goto cleanup;
	for (int i = 0; i < 8; i++)
		mid[i] = c.h[i];
	err = 0;
cleanup:
	OPENSSL_cleanse(block, sizeof(block));
	OPENSSL_cleanse(&c, sizeof(c));
	return err;
}

/* A context resumed after the first 64-byte block. */
static void
sha256_resume(SHA256_CTX *c, const uint32_t mid[8])
{
	SHA256_Init(c);
	for (int i = 0; i < 8; i++)
		c->h[i] = mid[i];
	c->Nl = SHA256_CBLOCK * 8;
}

/*
 * HMAC-SHA256 from precomputed midstates. The locals hold only the
 * inner and final digests, which are no more secret than the tag, so
 * they are not cleansed: this is the minting hot path.
 */
static void
hmac_fast(const uint32_t mid[2][8], const uint8_t *msg, size_t len,
    uint8_t out[32])
{
	SHA256_CTX c;
	uint8_t inner[32];

	sha256_resume(&c, mid[0]);
	SHA256_Update(&c, msg, len);
	SHA256_Final(inner, &c);
	sha256_resume(&c, mid[1]);
	SHA256_Update(&c, inner, sizeof(inner));
	SHA256_Final(out, &c);
}

int
code_hmac_init(const uint8_t key[32], struct code_hmac *out)
{
	int err;

	if ((err = hmac_midstate(key, 0x36, out->mid[0])) != 0 ||
	    (err = hmac_midstate(key, 0x5c, out->mid[1])) != 0)
		OPENSSL_cleanse(out, sizeof(*out));
	return err;
}

void
code_hmac(const struct code_hmac *k, const void *msg, size_t len,
    uint8_t out[32])
{
	hmac_fast(k->mid, msg, len, out);
}

int
code_key_derive(uint16_t id, const uint8_t root[CODE_KEY_BYTES],
    struct code_key *out)
{
	struct code_key k;
	int err;

	memset(&k, 0, sizeof(k));
	k.id = id;
	if ((err = hkdf_sha256(root, "sigil/tag-key/v1", id, k.tag_key)) ||
	    (err = hkdf_sha256(root, "sigil/pin-key/v1", id, k.pin_key)) ||
	    (err = hmac_midstate(k.tag_key, 0x36, k.tag_mid[0])) ||
	    (err = hmac_midstate(k.tag_key, 0x5c, k.tag_mid[1])) ||
	    (err = hmac_midstate(k.pin_key, 0x36, k.pin_mid[0])) ||
	    (err = hmac_midstate(k.pin_key, 0x5c, k.pin_mid[1])))
		goto cleanup;
	*out = k;
cleanup:
	OPENSSL_cleanse(&k, sizeof(k));
	return err;
}

/* "sigil/code/v1" 0x00 version key_id(BE16) serial(BE64): 25 bytes. */
static void
code_tag(const struct code_key *k, unsigned version, uint16_t key_id,
    uint64_t serial, uint8_t tag[CODE_TAG_BYTES])
{
	uint8_t msg[sizeof(tag_label) + 1 + 2 + 8], mac[32];
	size_t n = sizeof(tag_label);	/* the label and its NUL */

	memcpy(msg, tag_label, n);
	msg[n++] = (uint8_t)version;
	msg[n++] = (uint8_t)(key_id >> 8);
	msg[n++] = (uint8_t)key_id;
	sigil_be64_put(msg + n, serial);
	hmac_fast(k->tag_mid, msg, sizeof(msg), mac);
	memcpy(tag, mac, CODE_TAG_BYTES);
}

static int
serial_ok(uint64_t serial)
{
	return serial >= 1 && serial <= CODE_SERIAL_MAX;
}

int
code_sign(const struct code_key *k, uint64_t serial, struct code *out)
{
	if (k == NULL || out == NULL || !serial_ok(serial))
		return SIGIL_EINVAL;
	out->version = CODE_VERSION;
	out->key_id = k->id;
	out->serial = serial;
	code_tag(k, CODE_VERSION, k->id, serial, out->tag);
	return 0;
}

int
code_verify(const struct code_key *k, const struct code *c)
{
	uint8_t tag[CODE_TAG_BYTES];

	if (k == NULL || c == NULL || c->version != CODE_VERSION ||
	    !serial_ok(c->serial))
		return SIGIL_EINVAL;
	if (k->id != c->key_id)
		return SIGIL_EFORGED;
	code_tag(k, c->version, c->key_id, c->serial, tag);
	return CRYPTO_memcmp(tag, c->tag, CODE_TAG_BYTES) == 0 ? 0 :
	    SIGIL_EFORGED;
}

/* ---- compact form ----------------------------------------------------- */

int
code_compact_encode(const struct code *c, char out[CODE_COMPACT_LEN + 1])
{
	uint8_t b[COMPACT_BYTES];
	uint64_t head;

	if (c == NULL || out == NULL || c->version != CODE_VERSION ||
	    !serial_ok(c->serial))
		return SIGIL_EINVAL;
	/* The first 60 bits, then the tag shifted across a nibble. */
	head = (uint64_t)c->version << 56 | (uint64_t)c->key_id << 40 |
	    c->serial;
	sigil_be64_put(b, head << 4);
	b[7] |= c->tag[0] >> 4;
	for (int i = 0; i < CODE_TAG_BYTES - 1; i++)
		b[8 + i] = (uint8_t)(c->tag[i] << 4 | c->tag[i + 1] >> 4);
	b[17] = (uint8_t)(c->tag[CODE_TAG_BYTES - 1] << 4);
	b32_encode(b, CODE_COMPACT_LEN, out);
	return 0;
}

/*
 * A decoded code from its fields, the tag read from t across a nibble
 * (both forms start it mid-byte): SIGIL_EINVAL unless version and
 * serial are ones code_sign could have made.
 */
static int
code_unpack(unsigned version, uint16_t key_id, uint64_t serial,
    const uint8_t *t, struct code *out)
{
	struct code c;

	c.version = version;
	c.key_id = key_id;
	c.serial = serial;
	for (int i = 0; i < CODE_TAG_BYTES; i++)
		c.tag[i] = (uint8_t)(t[i] << 4 | t[i + 1] >> 4);
	if (c.version != CODE_VERSION || !serial_ok(c.serial))
		return SIGIL_EINVAL;
	*out = c;
	return 0;
}

int
code_compact_decode(const char *s, size_t len, struct code *out)
{
	uint8_t b[COMPACT_BYTES];
	uint64_t head;

	if (s == NULL || out == NULL || len > COMPACT_INPUT_MAX)
		return SIGIL_EINVAL;
	if (b32_decode(s, len, CODE_COMPACT_LEN, b, sizeof(b)) != 0)
		return SIGIL_EINVAL;
	/* 140 = 28 * 5 bits: no padding bits, every symbol is data. */
	head = sigil_be64_get(b) >> 4;
	return code_unpack((unsigned)(head >> 56), (uint16_t)(head >> 40),
	    head & CODE_SERIAL_MAX, b + 7, out);
}

/* ---- PIN -------------------------------------------------------------- */

static int
pin_compute(const struct code_key *k, uint64_t serial, unsigned digits,
    char *out)
{
	uint8_t msg[sizeof(pin_label) + 2 + 8], mac[32];
	size_t n = sizeof(pin_label);
	uint64_t v, mod = 1;

	if (k == NULL || out == NULL || digits < 1 || digits > 18 ||
	    !serial_ok(serial))
		return SIGIL_EINVAL;
	memcpy(msg, pin_label, n);
	msg[n++] = (uint8_t)(k->id >> 8);
	msg[n++] = (uint8_t)k->id;
	sigil_be64_put(msg + n, serial);
	hmac_fast(k->pin_mid, msg, sizeof(msg), mac);
	for (unsigned i = 0; i < digits; i++)
		mod *= 10;
	/* 2^64 mod 10^8 skews a digit's odds by under 1e-11: ignorable. */
	v = sigil_be64_get(mac) % mod;
	for (unsigned i = digits; i-- > 0; v /= 10)
		out[i] = (char)('0' + v % 10);
	out[digits] = '\0';
	OPENSSL_cleanse(mac, sizeof(mac));
	return 0;
}

int
code_pin(const struct code_key *k, uint64_t serial, unsigned digits,
    char *out)
{
	return pin_compute(k, serial, digits, out);
}

int
code_pin_check(const struct code_key *k, uint64_t serial, const char *pin)
{
	char want[CODE_PIN_DIGITS + 1];
	int ok;

	/*
	 * The length is fixed rather than taken from the guess: a short
	 * PIN would otherwise be a one-in-ten lottery ticket.
	 */
	if (pin == NULL || strnlen(pin, CODE_PIN_DIGITS + 1) != CODE_PIN_DIGITS)
		return SIGIL_EFORGED;
	if (pin_compute(k, serial, CODE_PIN_DIGITS, want) != 0)
		return SIGIL_EFORGED;
	ok = CRYPTO_memcmp(want, pin, CODE_PIN_DIGITS) == 0;
	OPENSSL_cleanse(want, sizeof(want));
	return ok ? 0 : SIGIL_EFORGED;
}

/* ---- URL building ----------------------------------------------------- */

struct sbuf {
	char	b[CODE_URL_MAX + 1];
	size_t	len;
	int	overflow;
};

static void
sbuf_put(struct sbuf *s, const char *p, size_t n)
{
	if (s->overflow || n > CODE_URL_MAX - s->len) {
		s->overflow = 1;
		return;
	}
	memcpy(s->b + s->len, p, n);
	s->len += n;
	s->b[s->len] = '\0';
}

static void
sbuf_str(struct sbuf *s, const char *p)
{
	sbuf_put(s, p, strlen(p));
}

/* Copies the result out only when it fits: buf is untouched otherwise. */
static int
sbuf_finish(const struct sbuf *s, char *buf, size_t size)
{
	if (s->overflow || s->len >= size)
		return SIGIL_EFULL;
	memcpy(buf, s->b, s->len + 1);
	return 0;
}

/* A printable base URL without blanks; one trailing slash dropped. */
static int
base_url_put(struct sbuf *s, const char *base)
{
	size_t n;

	if (base == NULL)
		return SIGIL_EINVAL;
	n = strnlen(base, CODE_URL_MAX + 1);
	if (n > CODE_URL_MAX)
		return SIGIL_EFULL;
	if (n > 0 && base[n - 1] == '/')
		n--;
	if (n == 0)
		return SIGIL_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (base[i] <= ' ' || base[i] > '~' || base[i] == '?' ||
		    base[i] == '#')
			return SIGIL_EINVAL;
	sbuf_put(s, base, n);
	return 0;
}

int
code_url_compact(const char *base_url, const struct code *c, char *buf,
    size_t size)
{
	char code[CODE_COMPACT_LEN + 1];
	struct sbuf s = { .len = 0 };
	int err;

	if (buf == NULL || (err = code_compact_encode(c, code)) != 0)
		return SIGIL_EINVAL;
	if ((err = base_url_put(&s, base_url)) != 0)
		return err;
	sbuf_str(&s, "/S/");
	sbuf_str(&s, code);
	return sbuf_finish(&s, buf, size);
}

static int
gs1_tag_encode(const struct code *c, char out[CODE_GS1_TAG_LEN + 1])
{
	uint8_t b[GS1_TAG_BYTES];
	uint32_t head = (uint32_t)c->version << 16 | c->key_id;

	/* 20 bits of head, then the 80-bit tag shifted across a nibble. */
	b[0] = (uint8_t)(head >> 12);
	b[1] = (uint8_t)(head >> 4);
	b[2] = (uint8_t)(head << 4 | c->tag[0] >> 4);
	for (int i = 0; i < CODE_TAG_BYTES - 1; i++)
		b[3 + i] = (uint8_t)(c->tag[i] << 4 | c->tag[i + 1] >> 4);
	b[12] = (uint8_t)(c->tag[CODE_TAG_BYTES - 1] << 4);
	b32_encode(b, CODE_GS1_TAG_LEN, out);
	return 0;
}

int
code_url_gs1(const char *base_url, const char *gtin14, const char *lot,
    const struct code *c, char *buf, size_t size)
{
	char tag[CODE_GS1_TAG_LEN + 1], num[24];
	struct sbuf s = { .len = 0 };
	size_t lotlen;
	int err;

	if (buf == NULL || c == NULL || c->version != CODE_VERSION ||
	    !serial_ok(c->serial) || gtin14 == NULL || !code_gtin_valid(gtin14))
		return SIGIL_EINVAL;
	if (lot == NULL)
		lot = "";
	lotlen = strnlen(lot, GS1_VALUE_MAX + 1);
	if (lotlen > GS1_VALUE_MAX)
		return SIGIL_EINVAL;
	for (size_t i = 0; i < lotlen; i++)
		if (!code_ai82((unsigned char)lot[i]))
			return SIGIL_EINVAL;
	if ((err = base_url_put(&s, base_url)) != 0)
		return err;
	sbuf_str(&s, "/01/");
	sbuf_str(&s, gtin14);
	if (lotlen > 0) {
		sbuf_str(&s, "/10/");
		/* Only unreserved characters travel bare (GS1 DL 1.2 §6.4). */
		for (size_t i = 0; i < lotlen; i++) {
			unsigned char ch = (unsigned char)lot[i];
			char esc[4];

			if ((ch >= '0' && ch <= '9') || (ch >= 'A' &&
			    ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
			    ch == '-' || ch == '.' || ch == '_') {
				sbuf_put(&s, lot + i, 1);
				continue;
			}
			esc[0] = '%';
			esc[1] = "0123456789ABCDEF"[ch >> 4];
			esc[2] = "0123456789ABCDEF"[ch & 15];
			sbuf_put(&s, esc, 3);
		}
	}
	sbuf_str(&s, "/21/");
	/* Plain decimal: no leading zeros, as code_from_gs1() demands. */
	{
		size_t n = sizeof(num) - 1;
		uint64_t v = c->serial;

		num[n] = '\0';
		do {
			num[--n] = (char)('0' + v % 10);
			v /= 10;
		} while (v > 0);
		sbuf_str(&s, num + n);
	}
	gs1_tag_encode(c, tag);
	sbuf_str(&s, "?s=");
	sbuf_str(&s, tag);
	return sbuf_finish(&s, buf, size);
}

/* ---- GS1 Digital Link parsing ----------------------------------------- */

int
code_gtin_valid(const char *gtin)
{
	int sum = 0;

	if (gtin == NULL)
		return 0;
	for (int i = 0; i < 14; i++)
		if (gtin[i] < '0' || gtin[i] > '9')
			return 0;
	if (gtin[14] != '\0')
		return 0;
	/* Weights 3,1,3,... from the left for 13 data digits of GTIN-14. */
	for (int i = 0; i < 13; i++)
		sum += (gtin[i] - '0') * (i % 2 == 0 ? 3 : 1);
	return (10 - sum % 10) % 10 == gtin[13] - '0';
}

/*
 * Percent-decodes s[0..len) into out (at most max bytes plus a NUL). Every
 * byte, bare or decoded, must be in AI set 82; %00 and broken escapes are
 * rejected. An empty value is rejected too: no AI or parameter we read
 * may be empty.
 */
static int
pct_decode(const char *s, size_t len, char *out, size_t max)
{
	size_t n = 0;

	if (len == 0)
		return SIGIL_EINVAL;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '%') {
			int hi, lo;

			if (len - i < 3 || (hi = sigil_hex_digit(
			    (unsigned char)s[i + 1])) < 0 || (lo = sigil_hex_digit(
			    (unsigned char)s[i + 2])) < 0)
				return SIGIL_EINVAL;
			ch = (unsigned char)(hi << 4 | lo);
			i += 2;
		}
		if (!code_ai82(ch) || n == max)
			return SIGIL_EINVAL;
		out[n++] = (char)ch;
	}
	out[n] = '\0';
	return 0;
}

/* Digits only, 8/12/13/14 long, zero-padded to 14, check digit right. */
static int
gtin_normalise(const char *v, char out[15])
{
	size_t n = strlen(v);

	if (n != 8 && n != 12 && n != 13 && n != 14)
		return SIGIL_EINVAL;
	memset(out, '0', 14 - n);
	memcpy(out + 14 - n, v, n + 1);
	return code_gtin_valid(out) ? 0 : SIGIL_EINVAL;
}

/*
 * One query parameter: s=, linkType=, or an AI (a name of 2 to 4 digits)
 * checked against the dictionary; seen lists the AIs met so far, path
 * and query, 5 bytes each.
 */
static int
gs1_param(const char *name, size_t nlen, const char *val, size_t vlen,
    int has_val, struct gs1_link *l, char *seen, size_t *nseen,
    int *have_s, int *have_lt, const char **why)
{
	char ai[5], v[GS1_AI_VALUE_MAX + 1];
	int flags = 0;

	if (nlen == 1 && name[0] == 's') {
		char raw[CODE_GS1_TAG_LEN * 3 + 1];
		uint8_t b[GS1_TAG_BYTES];

		*why = "s= must appear once with a 20-character tag";
		if ((*have_s)++ || !has_val ||
		    pct_decode(val, vlen, raw, sizeof(raw) - 1) != 0)
			return SIGIL_EINVAL;
		/* Store the canonical spelling: upper case, no aliases. */
		if (b32_decode(raw, strlen(raw), CODE_GS1_TAG_LEN, b,
		    sizeof(b)) != 0)
			return SIGIL_EINVAL;
		b32_encode(b, CODE_GS1_TAG_LEN, l->tag);
		return 0;
	}
	if (nlen == 8 && memcmp(name, "linkType", 8) == 0) {
		*why = "linkType= must appear once, with a value";
		if ((*have_lt)++ || !has_val || pct_decode(val, vlen,
		    l->link_type, sizeof(l->link_type) - 1) != 0)
			return SIGIL_EINVAL;
		return 0;
	}
	if (nlen < 2 || nlen > 4)
		return 0;
	for (size_t i = 0; i < nlen; i++)
		if (name[i] < '0' || name[i] > '9')
			return 0;
	memcpy(ai, name, nlen);
	ai[nlen] = '\0';
	*why = "a data attribute in the query is not a well-formed GS1 "
	    "Application Identifier value";
	if (!has_val || vlen > GS1_AI_VALUE_MAX * 3 ||
	    pct_decode(val, vlen, v, GS1_AI_VALUE_MAX) != 0)
		return SIGIL_EINVAL;
	switch (code_ai_check(ai, v, &flags)) {
	case 0:
		break;
	case SIGIL_ENOTFOUND:
		*why = "the query names an Application Identifier that does "
		    "not exist";
		return SIGIL_EINVAL;
	default:
		return SIGIL_EINVAL;
	}
	if (!(flags & CODE_AI_ATTR)) {
		*why = "this Application Identifier may not be a data "
		    "attribute (key qualifiers belong in the path)";
		return SIGIL_EINVAL;
	}
	for (size_t i = 0; i < *nseen; i++)
		if (strcmp(seen + i * 5, ai) == 0) {
			*why = "an Application Identifier appears twice";
			return SIGIL_EINVAL;
		}
	if (*nseen == GS1_SEEN_MAX) {
		*why = "too many data attributes";
		return SIGIL_EINVAL;
	}
	memcpy(seen + (*nseen)++ * 5, ai, 5);
	l->attrs++;
	return 0;
}

static int
gs1_query(const char *q, size_t len, struct gs1_link *l, char *seen,
    size_t *nseen, const char **why)
{
	int have_s = 0, have_lt = 0;
	size_t i = 0;

	while (i <= len) {
		size_t end = i, eq;

		while (end < len && q[end] != '&')
			end++;
		for (eq = i; eq < end && q[eq] != '='; eq++)
			;
		if (gs1_param(q + i, eq - i, q + eq + 1, eq < end ?
		    end - eq - 1 : 0, eq < end, l, seen, nseen, &have_s,
		    &have_lt, why) != 0)
			return SIGIL_EINVAL;
		i = end + 1;
	}
	return 0;
}

/*
 * Whether qualifier q may follow the qualifiers used so far (used, a
 * list of 5-byte AIs) under the dictionary's orders alts ("22,10,21|235"):
 * some alternative holds every used one and q, q after them all.
 */
static int
qualifier_ok(const char *alts, const char *used, size_t nused,
    const char *q)
{
	const char *alt = alts;

	while (*alt != '\0') {
		size_t alen = strcspn(alt, "|");
		int ok = 1, last = -1;
		const char *p = alt;

		/* Positions of the used ones and q in this alternative. */
		for (size_t k = 0; k <= nused && ok; k++) {
			const char *want = k < nused ? used + k * 5 : q;
			size_t wl = strlen(want);
			int at = -1, idx = 0;

			for (p = alt; p < alt + alen; idx++) {
				size_t tl = strcspn(p, ",|");

				if (tl == wl && memcmp(p, want, wl) == 0)
					at = idx;
				p += tl;
				if (*p == ',')
					p++;
				else
					break;
			}
			if (at <= last)
				ok = 0;
			last = at;
		}
		if (ok)
			return 1;
		alt += alen;
		if (*alt == '|')
			alt++;
	}
	return 0;
}

int
code_gs1_parse_why(const char *path, size_t len, struct gs1_link *out,
    const char **why)
{
	struct gs1_link l;
	char value[GS1_AI_VALUE_MAX + 1], ai[5], seen[GS1_SEEN_MAX * 5];
	const char *quals = NULL, *dummy;
	size_t plen, i, nseen = 0, nqual = 0;

	if (why == NULL)
		why = &dummy;
	*why = "not a GS1 Digital Link path";
	if (path == NULL || out == NULL || len > GS1_PATH_MAX ||
	    memchr(path, '\0', len) != NULL)
		return SIGIL_EINVAL;
	memset(&l, 0, sizeof(l));
	/* The fragment is the client's business; the query is ours. */
	for (size_t f = 0; f < len; f++)
		if (path[f] == '#') {
			len = f;
			break;
		}
	for (plen = 0; plen < len && path[plen] != '?'; plen++)
		;

	/* Walk "/AI/value" pairs; one trailing slash is allowed. */
	i = 0;
	while (i < plen) {
		size_t a, ae, v, ve;
		int flags;

		if (path[i] != '/')
			return SIGIL_EINVAL;
		if (i + 1 == plen && i > 0)
			break;
		a = i + 1;
		for (ae = a; ae < plen && path[ae] != '/'; ae++)
			;
		if (ae == plen) {
			*why = "an Application Identifier without a value";
			return SIGIL_EINVAL;
		}
		v = ae + 1;
		for (ve = v; ve < plen && path[ve] != '/'; ve++)
			;
		if (ae - a < 2 || ae - a > 4)
			return SIGIL_EINVAL;
		memcpy(ai, path + a, ae - a);
		ai[ae - a] = '\0';
		if (ve - v > GS1_AI_VALUE_MAX * 3 || pct_decode(path + v,
		    ve - v, value, GS1_AI_VALUE_MAX) != 0) {
			*why = "a value is empty, too long, badly "
			    "percent-encoded or outside the GS1 character set";
			return SIGIL_EINVAL;
		}
		if (i == 0) {
			if ((quals = code_ai_qualifiers(ai)) == NULL) {
				*why = "the path does not start with a GS1 "
				    "primary key";
				return SIGIL_EINVAL;
			}
			*why = "the primary key is not well-formed (length, "
			    "characters or check digit)";
			if (strcmp(ai, "01") == 0) {
				if (gtin_normalise(value, l.gtin) != 0)
					return SIGIL_EINVAL;
				memcpy(l.key, l.gtin, 15);
			} else {
				if (code_ai_check(ai, value, NULL) != 0 ||
				    strlen(value) >= sizeof(l.key))
					return SIGIL_EINVAL;
				memcpy(l.key, value, strlen(value) + 1);
			}
			memcpy(l.key_ai, ai, 5);
		} else {
			char *dst;
			size_t cap;

			if (!qualifier_ok(quals, seen + 5, nqual, ai)) {
				*why = "key qualifiers must be ones the "
				    "primary key takes, in the standard's "
				    "order (for 01: 22, 10, 21; or 235), "
				    "each once";
				return SIGIL_EINVAL;
			}
			if (code_ai_check(ai, value, &flags) != 0) {
				*why = "a key qualifier is not well-formed";
				return SIGIL_EINVAL;
			}
			if (strcmp(ai, "22") == 0)
				dst = l.cpv, cap = sizeof(l.cpv);
			else if (strcmp(ai, "10") == 0)
				dst = l.lot, cap = sizeof(l.lot);
			else if (strcmp(ai, "21") == 0)
				dst = l.serial, cap = sizeof(l.serial);
			else if (strcmp(ai, "235") == 0)
				dst = l.tpx, cap = sizeof(l.tpx);
			else {
				memcpy(l.qual_ai, ai, 5);
				dst = l.qual, cap = sizeof(l.qual);
			}
			if (strlen(value) >= cap)
				return SIGIL_EINVAL;
			memcpy(dst, value, strlen(value) + 1);
			nqual++;
		}
		memcpy(seen + nseen++ * 5, ai, 5);
		if (nseen == GS1_SEEN_MAX)
			return SIGIL_EINVAL;
		i = ve;
	}
	if (l.key_ai[0] == '\0')
		return SIGIL_EINVAL;
	if (plen < len && gs1_query(path + plen + 1, len - plen - 1, &l,
	    seen, &nseen, why) != 0)
		return SIGIL_EINVAL;
	*out = l;
	return 0;
}

int
code_gs1_parse(const char *path, size_t len, struct gs1_link *out)
{
	return code_gs1_parse_why(path, len, out, NULL);
}

int
code_from_gs1(const struct gs1_link *l, struct code *out)
{
	uint8_t b[GS1_TAG_BYTES];
	uint64_t serial = 0;
	uint32_t head;

	/* A sigil code is a GTIN's serial: 8006's 21 names a piece. */
	if (l == NULL || out == NULL || l->gtin[0] == '\0' ||
	    l->serial[0] < '1' || l->serial[0] > '9')
		return SIGIL_EINVAL;
	if (sigil_parse_u64(l->serial, CODE_SERIAL_MAX, &serial) != 0)
		return SIGIL_EINVAL;
	if (b32_decode(l->tag, strnlen(l->tag, sizeof(l->tag)),
	    CODE_GS1_TAG_LEN, b, sizeof(b)) != 0)
		return SIGIL_EINVAL;
	head = (uint32_t)b[0] << 12 | (uint32_t)b[1] << 4 | b[2] >> 4;
	return code_unpack(head >> 16, (uint16_t)head, serial, b + 2, out);
}

/* ---- anything a person might paste ------------------------------------ */

static int
is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' ||
	    ch == '\v' || ch == '\f';
}

static int
prefix_nocase(const char *s, size_t len, const char *p)
{
	size_t n = strlen(p);

	return len >= n && strncasecmp(s, p, n) == 0;
}

/*
 * A path: segments before "S"/"s" or "01" are a base URL's own prefix.
 * "S/CODE" may be followed by one slash and a query (messaging apps add
 * tracking parameters); "01" hands the rest to the GS1 parser.
 */
static int
parse_path(const char *p, size_t len, struct code *out,
    struct gs1_link *gs1)
{
	size_t i = 0;

	while (i < len && p[i] == '/') {
		size_t s = i + 1, e = s;

		while (e < len && p[e] != '/' && p[e] != '?' && p[e] != '#')
			e++;
		if (e - s == 1 && (p[s] == 'S' || p[s] == 's') && e < len &&
		    p[e] == '/') {
			size_t cs = e + 1, ce = cs;

			while (ce < len && p[ce] != '/' && p[ce] != '?' &&
			    p[ce] != '#')
				ce++;
			if (ce < len && p[ce] == '/' && ce + 1 < len &&
			    p[ce + 1] != '?' && p[ce + 1] != '#')
				return SIGIL_EINVAL;
			if (code_compact_decode(p + cs, ce - cs, out) != 0)
				return SIGIL_EINVAL;
			if (gs1 != NULL)
				memset(gs1, 0, sizeof(*gs1));
			return 0;
		}
		if (e - s == 2 && memcmp(p + s, "01", 2) == 0) {
			struct gs1_link l;
			struct code c;

			if (code_gs1_parse(p + i, len - i, &l) != 0 ||
			    code_from_gs1(&l, &c) != 0)
				return SIGIL_EINVAL;
			*out = c;
			if (gs1 != NULL)
				*gs1 = l;
			return 0;
		}
		if (e == s)
			return SIGIL_EINVAL;
		i = e;
	}
	return SIGIL_EINVAL;
}

int
code_parse_any(const char *input, struct code *out, struct gs1_link *gs1)
{
	size_t len, skip;
	const char *s;

	if (input == NULL || out == NULL)
		return SIGIL_EINVAL;
	len = strnlen(input, PARSE_ANY_MAX + 1);
	if (len > PARSE_ANY_MAX)
		return SIGIL_EINVAL;
	s = input;
	while (len > 0 && is_blank(*s)) {
		s++;
		len--;
	}
	while (len > 0 && is_blank(s[len - 1]))
		len--;
	if (len == 0)
		return SIGIL_EINVAL;

	if (prefix_nocase(s, len, "https://"))
		skip = 8;
	else if (prefix_nocase(s, len, "http://"))
		skip = 7;
	else if (s[0] == '/')
		return parse_path(s, len, out, gs1);
	else {
		struct code c;

		if (code_compact_decode(s, len, &c) != 0)
			return SIGIL_EINVAL;
		*out = c;
		if (gs1 != NULL)
			memset(gs1, 0, sizeof(*gs1));
		return 0;
	}
	/* host[:port]: no user info, nothing a browser would not send. */
	s += skip;
	len -= skip;
	for (skip = 0; skip < len && s[skip] != '/'; skip++) {
		char ch = s[skip];

		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= 'A' && ch <= 'Z') || ch == '.' || ch == '-' ||
		    ch == ':' || ch == '[' || ch == ']'))
			return SIGIL_EINVAL;
	}
	if (skip == 0 || skip == len)
		return SIGIL_EINVAL;
	return parse_path(s + skip, len - skip, out, gs1);
}
