/*
 * code.h - the signed code: layout, signing, the compact and GS1 Digital
 * Link forms, and the hidden PIN. See docs/codes.md for the byte layout and
 * the security argument.
 *
 * A code names one item: (key id, serial) plus a truncated HMAC-SHA256 tag.
 * The key id identifies the brand key that signed it (and through it the
 * brand); the serial is unique within the brand. Nothing here touches
 * storage: callers look keys up in the keyring and serials in the store.
 */
#ifndef SIGIL_CODE_H
#define SIGIL_CODE_H

#include <stddef.h>
#include <stdint.h>

#define CODE_VERSION		1
#define CODE_TAG_BYTES		10	/* 80-bit truncated HMAC-SHA256 */
#define CODE_KEY_BYTES		32	/* 256-bit root key per key id */
#define CODE_SERIAL_BITS	40
#define CODE_SERIAL_MAX		((UINT64_C(1) << CODE_SERIAL_BITS) - 1)
#define CODE_KEY_ID_MAX		0xffff
#define CODE_COMPACT_LEN	28	/* 4+16+40+80 = 140 bits, base32 */
#define CODE_COMPACT_MAX	30	/* longest accepted input, SPEC §2 */
#define CODE_GS1_TAG_LEN	20	/* s= value: 4+16+80 = 100 bits */
#define CODE_PIN_DIGITS		8
#define CODE_URL_MAX		512

/* A decoded code. Serial 0 is never issued. */
struct code {
	unsigned	version;
	uint16_t	key_id;
	uint64_t	serial;
	uint8_t		tag[CODE_TAG_BYTES];
};

/*
 * The working keys derived from one 256-bit root key with HKDF-SHA256 under
 * distinct labels, so the tag key and the PIN key are independent: knowing
 * every PIN tells nothing about tags and the reverse.
 */
struct code_key {
	uint16_t	id;
	uint8_t		tag_key[32];
	uint8_t		pin_key[32];
	/*
	 * HMAC-SHA256 midstates: the SHA-256 chaining values after the
	 * (key ^ ipad) and (key ^ opad) blocks, [0] inner and [1] outer.
	 * Precomputed by code_key_derive() so that signing a code costs two
	 * compressions and no allocation; plain values, so the struct stays
	 * copyable. Secret: treat like the keys themselves.
	 */
	uint32_t	tag_mid[2][8];
	uint32_t	pin_mid[2][8];
};

/*
 * HMAC-SHA256 with a 32-byte key whose two pad blocks were hashed once by
 * code_hmac_init(): each MAC then costs two SHA-256 compressions for a
 * message under 56 bytes, with no EVP fetch or allocation. For the short
 * MACs sigild makes on every request (device cookies, public scan ids).
 */
struct code_hmac {
	uint32_t	mid[2][8];
};

int code_hmac_init(const uint8_t key[32], struct code_hmac *out);
void code_hmac(const struct code_hmac *k, const void *msg, size_t len,
    uint8_t out[32]);

/* Derives *out from root. 0 or SIGIL_ECRYPTO. */
int code_key_derive(uint16_t id, const uint8_t root[CODE_KEY_BYTES],
    struct code_key *out);

/*
 * Signs serial (1..CODE_SERIAL_MAX) with k into *out. Returns 0,
 * SIGIL_EINVAL for a serial out of range, SIGIL_ECRYPTO.
 */
int code_sign(const struct code_key *k, uint64_t serial, struct code *out);

/*
 * Recomputes c's tag with k and compares in constant time. 0 when it
 * verifies; SIGIL_EFORGED when the tag is wrong or k->id != c->key_id;
 * SIGIL_EINVAL for a bad version or serial.
 */
int code_verify(const struct code_key *k, const struct code *c);

/*
 * Writes the 28-character Crockford base32 form of c (upper case, no
 * padding) plus a NUL into out. Returns 0 or SIGIL_EINVAL.
 */
int code_compact_encode(const struct code *c, char out[CODE_COMPACT_LEN + 1]);

/*
 * Decodes len bytes of s (not NUL-terminated necessarily): any letter case,
 * Crockford aliases O->0, I/L->1, hyphens ignored. Rejects U, other
 * characters, a wrong length, nonzero padding bits and an unknown version
 * with SIGIL_EINVAL. Does not verify the tag. *out set on success only.
 */
int code_compact_decode(const char *s, size_t len, struct code *out);

/*
 * The hidden PIN (暗码) of serial under k's PIN key: digits decimal digits
 * (1..18), zero-padded, NUL-terminated, into out (digits + 1 bytes).
 */
int code_pin(const struct code_key *k, uint64_t serial, unsigned digits,
    char *out);

/* Constant-time PIN check: 0 when pin matches, SIGIL_EFORGED otherwise. */
int code_pin_check(const struct code_key *k, uint64_t serial,
    const char *pin);

/*
 * URLs. base_url has no trailing slash (one is tolerated and dropped).
 * Compact: "<base>/S/<CODE>". GS1 Digital Link:
 * "<base>/01/<gtin14>/10/<lot>/21/<serial>?s=<tag20>" (the /10/ part only
 * when lot is non-empty). Return 0, or SIGIL_EINVAL / SIGIL_EFULL when
 * the result would not fit in size bytes.
 */
int code_url_compact(const char *base_url, const struct code *c, char *buf,
    size_t size);
int code_url_gs1(const char *base_url, const char *gtin14, const char *lot,
    const struct code *c, char *buf, size_t size);

/*
 * GS1 Application Identifiers (src/ground/gs1_ai.c), from the GS1 Barcode
 * Syntax Dictionary. code_ai_check(): 0 when value is well-formed for ai
 * (length, character set, check digit, dates, ...), SIGIL_EINVAL when
 * not, SIGIL_ENOTFOUND for an AI that does not exist. *flags (if not
 * NULL) gets CODE_AI_ATTR when the AI may be a Digital Link data
 * attribute (in the query) and CODE_AI_KEY when it is a primary key.
 * code_ai_qualifiers(): a primary key's key qualifiers, as the dictionary
 * writes them ("22,10,21|235": ordered, optional, alternatives split by
 * '|'; "" none), or NULL for an AI that is not a primary key.
 * code_ai82(): 1 for a byte of the AI encodable character set 82.
 */
#define CODE_AI_ATTR	1
#define CODE_AI_KEY	2
int code_ai_check(const char *ai, const char *value, int *flags);
const char *code_ai_qualifiers(const char *ai);
int code_ai82(unsigned char ch);

#define GS1_AI_VALUE_MAX	90	/* the longest AI value (8030, 91-99) */

/*
 * GS1 Digital Link: a parsed URI path and query. Empty strings for what
 * is absent. key_ai/key are the primary key (any of the dictionary's:
 * 00, 01, 253, 255, 401, 402, 414, 415, 417, 8003, 8004, 8006, 8010,
 * 8013, 8017, 8018); gtin is set only for 01 (zero-padded to 14).
 * cpv/lot/serial/tpx are the qualifiers of 01 and 8006; qual_ai/qual the
 * one qualifier of the other keys (254 or 7040, 8011, 8019, 8020).
 */
struct gs1_link {
	char		key_ai[5];
	char		key[31];
	char		gtin[15];	/* AI 01, 14 digits, check digit ok */
	char		cpv[21];	/* AI 22 */
	char		lot[21];	/* AI 10 */
	char		serial[21];	/* AI 21 */
	char		tpx[29];	/* AI 235 */
	char		qual_ai[5];
	char		qual[26];
	char		tag[CODE_GS1_TAG_LEN + 1];	/* ?s= when present */
	char		link_type[64];	/* ?linkType= when present */
	unsigned	attrs;		/* data attributes in the query */
};

/* 1 when gtin is 14 digits with a correct GS1 mod-10 check digit. */
int code_gtin_valid(const char *gtin);

/*
 * Parses a Digital Link path and optional query ("/01/.../21/...?s=..").
 * The primary key and its qualifiers come from the GS1 syntax
 * dictionary: each value is checked against its AI's specification
 * (check digits, lengths, character set), qualifiers must follow one of
 * the key's orders (01: 22, 10, 21 or 235 alone), each at most once.
 * GTIN-8/12/13 are zero-padded to 14. Values are percent-decoded. In the
 * query, a numeric parameter name of 2 to 4 digits is an AI: it must
 * exist, be permitted as a data attribute, not repeat an AI of the path
 * or of the query, and be well-formed (?17=201310 is not: month 13).
 * Other parameters are not looked at, except s= and linkType=. 0 or
 * SIGIL_EINVAL, with *why (if not NULL) a short English reason. *out set
 * on success only.
 */
int code_gs1_parse(const char *path, size_t len, struct gs1_link *out);
int code_gs1_parse_why(const char *path, size_t len, struct gs1_link *out,
    const char **why);

/*
 * Builds the struct code behind a GS1 link of a GTIN (key 01; any other
 * key is SIGIL_EINVAL): serial from AI 21 (decimal,
 * 1..CODE_SERIAL_MAX) and version, key id and tag from the 20-character
 * s= value. 0 or SIGIL_EINVAL.
 */
int code_from_gs1(const struct gs1_link *l, struct code *out);

/*
 * Accepts what a person might paste into `sigil verify`: a bare compact
 * code, a compact URL (".../S/CODE" or "/s/"), or a Digital Link URL.
 * Sets *out, and *gs1 (if not NULL) when the input was a Digital Link
 * (gs1->gtin[0] == '\0' otherwise). 0 or SIGIL_EINVAL.
 */
int code_parse_any(const char *input, struct code *out,
    struct gs1_link *gs1);

#endif
