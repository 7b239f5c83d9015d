/*
 * test_code.c - codes: signing against OpenSSL's own HMAC and HKDF, the
 * compact and GS1 forms, hostile input, PINs, URL round trips, and the
 * QR-size promise of SPEC §2. Also prints a minting speed figure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <qrencode.h>

#include "sigil/code.h"
#include "sigil/util.h"

static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

static void
root_fill(uint8_t root[CODE_KEY_BYTES], uint8_t seed)
{
	for (int i = 0; i < CODE_KEY_BYTES; i++)
		root[i] = (uint8_t)(seed + i);
}

static struct code_key
key_make(uint16_t id, uint8_t seed)
{
	uint8_t root[CODE_KEY_BYTES];
	struct code_key k;

	root_fill(root, seed);
	assert_int_equal(code_key_derive(id, root, &k), 0);
	return k;
}

/* HKDF through the EVP_PKEY interface: a second path to the same bytes. */
static void
hkdf_reference(const uint8_t root[CODE_KEY_BYTES], const char *label,
    uint16_t id, uint8_t out[32])
{
	EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
	uint8_t info[32];
	size_t n = strlen(label), outlen = 32;

	memcpy(info, label, n);
	info[n] = (uint8_t)(id >> 8);
	info[n + 1] = (uint8_t)id;
	assert_non_null(pctx);
	assert_int_equal(EVP_PKEY_derive_init(pctx), 1);
	assert_int_equal(EVP_PKEY_CTX_set_hkdf_md(pctx, EVP_sha256()), 1);
	assert_int_equal(EVP_PKEY_CTX_set1_hkdf_key(pctx, root,
	    CODE_KEY_BYTES), 1);
	assert_int_equal(EVP_PKEY_CTX_add1_hkdf_info(pctx, info,
	    (int)n + 2), 1);
	assert_int_equal(EVP_PKEY_derive(pctx, out, &outlen), 1);
	assert_int_equal(outlen, 32);
	EVP_PKEY_CTX_free(pctx);
}

static void
test_matches_openssl(void **state)
{
	uint8_t root[CODE_KEY_BYTES], want[32], mac[32], msg[64];
	unsigned int maclen = 0;
	struct code_key k;
	struct code c;
	size_t n;
	char pin[CODE_PIN_DIGITS + 1], pinwant[CODE_PIN_DIGITS + 1];
	uint64_t v;

	(void)state;
	root_fill(root, 7);
	assert_int_equal(code_key_derive(0x1234, root, &k), 0);
	assert_int_equal(k.id, 0x1234);
	hkdf_reference(root, "sigil/tag-key/v1", 0x1234, want);
	assert_memory_equal(k.tag_key, want, 32);
	hkdf_reference(root, "sigil/pin-key/v1", 0x1234, want);
	assert_memory_equal(k.pin_key, want, 32);
	assert_memory_not_equal(k.tag_key, k.pin_key, 32);

	/* The documented tag message, MACed by OpenSSL's one-shot HMAC. */
	assert_int_equal(code_sign(&k, 987654321, &c), 0);
	n = 0;
	memcpy(msg, "sigil/code/v1", 14);
	n = 14;
	msg[n++] = 1;
	msg[n++] = 0x12;
	msg[n++] = 0x34;
	sigil_be64_put(msg + n, 987654321);
	n += 8;
	assert_int_equal(n, 25);
	assert_non_null(HMAC(EVP_sha256(), k.tag_key, 32, msg, n, mac,
	    &maclen));
	assert_memory_equal(c.tag, mac, CODE_TAG_BYTES);

	/* The PIN message likewise. */
	memcpy(msg, "sigil/pin/v1", 13);
	n = 13;
	msg[n++] = 0x12;
	msg[n++] = 0x34;
	sigil_be64_put(msg + n, 987654321);
	n += 8;
	assert_non_null(HMAC(EVP_sha256(), k.pin_key, 32, msg, n, mac,
	    &maclen));
	v = sigil_be64_get(mac) % 100000000;
	snprintf(pinwant, sizeof(pinwant), "%08llu", (unsigned long long)v);
	assert_int_equal(code_pin(&k, 987654321, 8, pin), 0);
	assert_string_equal(pin, pinwant);
}

/* code_hmac: OpenSSL's HMAC() for every length up to two blocks. */
static void
test_hmac_matches_openssl(void **state)
{
	uint8_t key[32], msg[130], got[32], want[32];
	unsigned int wlen;
	struct code_hmac hk;

	(void)state;
	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(i * 7 + 1);
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 13 + 5);
	assert_int_equal(code_hmac_init(key, &hk), 0);
	for (size_t n = 0; n <= sizeof(msg); n++) {
		code_hmac(&hk, msg, n, got);
		assert_non_null(HMAC(EVP_sha256(), key, 32, msg, n, want,
		    &wlen));
		assert_memory_equal(got, want, 32);
	}
}

/* A pinned vector, so any change to the layout or labels is noticed. */
static void
test_known_answer(void **state)
{
	struct code_key k;
	struct code c, d;
	uint8_t root[CODE_KEY_BYTES];
	char enc[CODE_COMPACT_LEN + 1];

	(void)state;
	for (int i = 0; i < CODE_KEY_BYTES; i++)
		root[i] = (uint8_t)i;
	assert_int_equal(code_key_derive(1, root, &k), 0);
	assert_int_equal(code_sign(&k, 1, &c), 0);
	assert_int_equal(code_compact_encode(&c, enc), 0);
	/* bits: version 0-3, key id 4-19, serial 20-59, tag 60-139 */
	assert_memory_equal(enc, "200100000001", 12);
	/* computed independently with Python's hmac/hashlib (HKDF by hand) */
	assert_string_equal(enc, "2001000000011QATDTN4JTTVPBYJ");
	assert_int_equal(code_compact_decode(enc, strlen(enc), &d), 0);
	assert_int_equal(d.key_id, 1);
	assert_int_equal(d.serial, 1);
	assert_int_equal(code_verify(&k, &d), 0);
}

static void
test_round_trip_random(void **state)
{
	(void)state;
	for (int i = 0; i < 300; i++) {
		uint8_t root[CODE_KEY_BYTES], r[8];
		struct code_key k;
		struct code c, d;
		char enc[CODE_COMPACT_LEN + 1];
		uint16_t id;
		uint64_t serial;

		assert_int_equal(RAND_bytes(root, sizeof(root)), 1);
		assert_int_equal(RAND_bytes(r, sizeof(r)), 1);
		id = (uint16_t)(r[0] << 8 | r[1]);
		serial = sigil_be64_get(r) & CODE_SERIAL_MAX;
		if (i == 0)
			serial = CODE_SERIAL_MAX, id = CODE_KEY_ID_MAX;
		if (i == 1)
			id = 0;
		if (serial == 0)
			serial = 1;
		assert_int_equal(code_key_derive(id, root, &k), 0);
		assert_int_equal(code_sign(&k, serial, &c), 0);
		assert_int_equal(code_compact_encode(&c, enc), 0);
		assert_int_equal(strlen(enc), CODE_COMPACT_LEN);
		assert_int_equal(strspn(enc, alphabet), CODE_COMPACT_LEN);
		assert_int_equal(code_compact_decode(enc, CODE_COMPACT_LEN,
		    &d), 0);
		assert_int_equal(d.version, CODE_VERSION);
		assert_int_equal(d.key_id, id);
		assert_true(d.serial == serial);
		assert_memory_equal(d.tag, c.tag, CODE_TAG_BYTES);
		assert_int_equal(code_verify(&k, &d), 0);
	}
}

static void
sample(struct code_key *k, struct code *c, char enc[CODE_COMPACT_LEN + 1])
{
	*k = key_make(42, 1);
	assert_int_equal(code_sign(k, 123456789, c), 0);
	assert_int_equal(code_compact_encode(c, enc), 0);
}

static void
test_aliases_and_case(void **state)
{
	struct code_key k;
	struct code c, d;
	char enc[CODE_COMPACT_LEN + 1], alt[80];
	size_t j = 0;

	(void)state;
	sample(&k, &c, enc);
	/* lower case, O for 0, I/L for 1, hyphens every four characters */
	for (int i = 0; i < CODE_COMPACT_LEN; i++) {
		char ch = enc[i];

		if (i > 0 && i % 4 == 0)
			alt[j++] = '-';
		if (ch == '0')
			ch = i % 2 ? 'O' : 'o';
		else if (ch == '1')
			ch = "ILil"[i % 4];
		else if (ch >= 'A' && ch <= 'Z' && i % 2)
			ch = (char)(ch - 'A' + 'a');
		alt[j++] = ch;
	}
	alt[j] = '\0';
	assert_int_equal(code_compact_decode(alt, j, &d), 0);
	assert_int_equal(d.serial, c.serial);
	assert_memory_equal(d.tag, c.tag, CODE_TAG_BYTES);
	assert_int_equal(code_verify(&k, &d), 0);
	/* the all-lower-case form too */
	for (j = 0; j < CODE_COMPACT_LEN; j++)
		alt[j] = (char)(enc[j] >= 'A' ? enc[j] - 'A' + 'a' : enc[j]);
	assert_int_equal(code_compact_decode(alt, CODE_COMPACT_LEN, &d), 0);
	assert_int_equal(code_verify(&k, &d), 0);
}

/* Every single-character change is caught by the decoder or the tag. */
static void
test_single_flips(void **state)
{
	struct code_key k;
	struct code c, d;
	char enc[CODE_COMPACT_LEN + 1], bad[CODE_COMPACT_LEN + 1];
	int decoded = 0, rejected = 0;

	(void)state;
	sample(&k, &c, enc);
	for (int i = 0; i < CODE_COMPACT_LEN; i++) {
		for (const char *a = alphabet; *a; a++) {
			if (*a == enc[i])
				continue;
			memcpy(bad, enc, sizeof(bad));
			bad[i] = *a;
			memset(&d, 0xa5, sizeof(d));
			if (code_compact_decode(bad, CODE_COMPACT_LEN,
			    &d) != 0) {
				rejected++;
				continue;
			}
			decoded++;
			assert_int_equal(code_verify(&k, &d), SIGIL_EFORGED);
		}
		/* characters outside the alphabet, U included */
		for (const char *a = "Uu*+ \t/\x80\xff"; *a; a++) {
			memcpy(bad, enc, sizeof(bad));
			bad[i] = *a;
			assert_int_equal(code_compact_decode(bad,
			    CODE_COMPACT_LEN, &d), SIGIL_EINVAL);
		}
		memcpy(bad, enc, sizeof(bad));
		bad[i] = '\0';
		assert_int_equal(code_compact_decode(bad, CODE_COMPACT_LEN,
		    &d), SIGIL_EINVAL);
	}
	assert_int_equal(decoded + rejected, CODE_COMPACT_LEN * 31);
	assert_true(decoded > 0 && rejected > 0);
}

static void
test_swapped_and_other_key(void **state)
{
	struct code_key k = key_make(42, 1), k2 = key_make(42, 2),
	    k3 = key_make(43, 1);
	struct code a, b;

	(void)state;
	assert_int_equal(code_sign(&k, 1000, &a), 0);
	assert_int_equal(code_sign(&k, 1001, &b), 0);
	memcpy(a.tag, b.tag, CODE_TAG_BYTES);
	assert_int_equal(code_verify(&k, &a), SIGIL_EFORGED);
	assert_int_equal(code_verify(&k, &b), 0);
	/* same key id, other root */
	assert_int_equal(code_verify(&k2, &b), SIGIL_EFORGED);
	/* other key id: refused before the tag is even computed */
	assert_int_equal(code_verify(&k3, &b), SIGIL_EFORGED);
	/* re-labelled key id with the right tag of another id */
	b.key_id = 43;
	assert_int_equal(code_verify(&k3, &b), SIGIL_EFORGED);
	/* a zero tag and an all-ones tag */
	assert_int_equal(code_sign(&k, 1000, &a), 0);
	memset(a.tag, 0, CODE_TAG_BYTES);
	assert_int_equal(code_verify(&k, &a), SIGIL_EFORGED);
	memset(a.tag, 0xff, CODE_TAG_BYTES);
	assert_int_equal(code_verify(&k, &a), SIGIL_EFORGED);
}

static void
test_lengths(void **state)
{
	struct code_key k;
	struct code c, d;
	char enc[CODE_COMPACT_LEN + 1], buf[200];

	(void)state;
	sample(&k, &c, enc);
	for (size_t n = 0; n < CODE_COMPACT_LEN; n++)
		assert_int_equal(code_compact_decode(enc, n, &d),
		    SIGIL_EINVAL);
	snprintf(buf, sizeof(buf), "%s%s", enc, enc);
	assert_int_equal(code_compact_decode(buf, strlen(buf), &d),
	    SIGIL_EINVAL);
	snprintf(buf, sizeof(buf), "%s0", enc);
	assert_int_equal(code_compact_decode(buf, strlen(buf), &d),
	    SIGIL_EINVAL);
	/* hyphens are free, but not past the 64-byte input bound */
	memset(buf, '-', sizeof(buf));
	memcpy(buf + 64 - CODE_COMPACT_LEN, enc, CODE_COMPACT_LEN);
	assert_int_equal(code_compact_decode(buf, 64, &d), 0);
	assert_int_equal(code_compact_decode(buf, 65, &d), SIGIL_EINVAL);
	memset(buf, '-', sizeof(buf));
	assert_int_equal(code_compact_decode(buf, 64, &d), SIGIL_EINVAL);
	assert_int_equal(code_compact_decode(NULL, 28, &d), SIGIL_EINVAL);
}

static void
test_serial_and_version_bounds(void **state)
{
	struct code_key k = key_make(5, 3);
	struct code c, d;
	char enc[CODE_COMPACT_LEN + 1];

	(void)state;
	assert_int_equal(code_sign(&k, 0, &c), SIGIL_EINVAL);
	assert_int_equal(code_sign(&k, CODE_SERIAL_MAX + 1, &c),
	    SIGIL_EINVAL);
	assert_int_equal(code_sign(&k, UINT64_MAX, &c), SIGIL_EINVAL);
	assert_int_equal(code_sign(&k, CODE_SERIAL_MAX, &c), 0);
	assert_int_equal(code_sign(&k, 1, &c), 0);
	assert_int_equal(code_compact_encode(&c, enc), 0);
	/* character 11 holds serial bits 36..40; serial 1 makes it "1" */
	assert_int_equal(enc[11], '1');
	enc[11] = '0';
	assert_int_equal(code_compact_decode(enc, CODE_COMPACT_LEN, &d),
	    SIGIL_EINVAL);
	/* first character: version 1 and the key id's top bit */
	assert_int_equal(code_compact_encode(&c, enc), 0);
	assert_int_equal(enc[0], '2');
	for (const char *v = "014589Z"; *v; v++) {
		enc[0] = *v;
		assert_int_equal(code_compact_decode(enc, CODE_COMPACT_LEN,
		    &d), SIGIL_EINVAL);
	}
	d = c;
	d.serial = 0;
	assert_int_equal(code_verify(&k, &d), SIGIL_EINVAL);
	assert_int_equal(code_compact_encode(&d, enc), SIGIL_EINVAL);
	d.serial = CODE_SERIAL_MAX + 1;
	assert_int_equal(code_verify(&k, &d), SIGIL_EINVAL);
	d = c;
	d.version = 2;
	assert_int_equal(code_verify(&k, &d), SIGIL_EINVAL);
	assert_int_equal(code_compact_encode(&d, enc), SIGIL_EINVAL);
}

static void
test_pin(void **state)
{
	struct code_key k = key_make(9, 1), k2 = key_make(9, 2),
	    k3 = key_make(10, 1);
	char a[CODE_PIN_DIGITS + 1], b[CODE_PIN_DIGITS + 1], wide[19 + 1];
	int differ_key = 0, differ_id = 0, differ_serial = 0;

	(void)state;
	for (uint64_t s = 1; s <= 50; s++) {
		assert_int_equal(code_pin(&k, s, 8, a), 0);
		assert_int_equal(strlen(a), 8);
		assert_int_equal(strspn(a, "0123456789"), 8);
		assert_int_equal(code_pin(&k, s, 8, b), 0);
		assert_string_equal(a, b);
		assert_int_equal(code_pin_check(&k, s, a), 0);
		assert_int_equal(code_pin(&k2, s, 8, b), 0);
		differ_key += strcmp(a, b) != 0;
		assert_int_equal(code_pin(&k3, s, 8, b), 0);
		differ_id += strcmp(a, b) != 0;
		assert_int_equal(code_pin(&k, s + 1, 8, b), 0);
		differ_serial += strcmp(a, b) != 0;
		/* every wrong last digit fails, as do short and long PINs */
		memcpy(b, a, sizeof(b));
		for (char ch = '0'; ch <= '9'; ch++) {
			if (ch == a[7])
				continue;
			b[7] = ch;
			assert_int_equal(code_pin_check(&k, s, b),
			    SIGIL_EFORGED);
		}
		memcpy(b, a, sizeof(b));
		b[7] = '\0';
		assert_int_equal(code_pin_check(&k, s, b), SIGIL_EFORGED);
		snprintf(wide, sizeof(wide), "%s0", a);
		assert_int_equal(code_pin_check(&k, s, wide), SIGIL_EFORGED);
		/* another key's check refuses this key's PIN */
		assert_int_equal(code_pin(&k2, s, 8, b), 0);
		if (strcmp(a, b) != 0)
			assert_int_equal(code_pin_check(&k2, s, a),
			    SIGIL_EFORGED);
	}
	assert_true(differ_key >= 49 && differ_id >= 49 &&
	    differ_serial >= 49);
	assert_int_equal(code_pin_check(&k, 1, ""), SIGIL_EFORGED);
	assert_int_equal(code_pin_check(&k, 1, NULL), SIGIL_EFORGED);
	assert_int_equal(code_pin_check(&k, 0, "00000000"), SIGIL_EFORGED);
	assert_int_equal(code_pin(&k, 1, 0, wide), SIGIL_EINVAL);
	assert_int_equal(code_pin(&k, 1, 19, wide), SIGIL_EINVAL);
	assert_int_equal(code_pin(&k, 0, 8, wide), SIGIL_EINVAL);
	assert_int_equal(code_pin(&k, 1, 18, wide), 0);
	assert_int_equal(strlen(wide), 18);
	/* the 8-digit PIN is the 18-digit one's tail: same number mod 1e8 */
	assert_int_equal(code_pin(&k, 1, 8, a), 0);
	assert_string_equal(wide + 10, a);
	/* PIN and tag keys are separate: a PIN is not a prefix of the tag */
	assert_memory_not_equal(k.tag_mid, k.pin_mid, sizeof(k.tag_mid));
}

/* ---- GS1 ---------------------------------------------------------------- */

static void
gs1_tag_of(const struct code *c, char out[CODE_GS1_TAG_LEN + 1])
{
	char url[CODE_URL_MAX + 1];
	const char *s;

	assert_int_equal(code_url_gs1("https://x.example", "04006381333931",
	    "", c, url, sizeof(url)), 0);
	s = strstr(url, "?s=");
	assert_non_null(s);
	assert_int_equal(strlen(s + 3), CODE_GS1_TAG_LEN);
	memcpy(out, s + 3, CODE_GS1_TAG_LEN + 1);
}

static int
parse(const char *path, struct gs1_link *l)
{
	return code_gs1_parse(path, strlen(path), l);
}

static void
test_gtin_valid(void **state)
{
	(void)state;
	assert_true(code_gtin_valid("04006381333931"));
	assert_true(code_gtin_valid("12345678901231"));
	assert_true(code_gtin_valid("09506000134352"));
	assert_false(code_gtin_valid("04006381333932"));
	assert_false(code_gtin_valid("4006381333931"));
	assert_false(code_gtin_valid("040063813339310"));
	assert_false(code_gtin_valid("0400638133393A"));
	assert_false(code_gtin_valid(""));
	assert_false(code_gtin_valid(NULL));
}

static void
test_gs1_good(void **state)
{
	struct gs1_link l;
	struct code_key k = key_make(77, 4);
	struct code c, d;
	char tag[CODE_GS1_TAG_LEN + 1], path[256], low[CODE_GS1_TAG_LEN + 1];

	(void)state;
	assert_int_equal(parse("/01/4006381333931/21/12345", &l), 0);
	assert_string_equal(l.gtin, "04006381333931");
	assert_string_equal(l.serial, "12345");
	assert_string_equal(l.lot, "");
	assert_string_equal(l.cpv, "");
	assert_string_equal(l.tag, "");

	assert_int_equal(parse("/01/96385074", &l), 0);
	assert_string_equal(l.gtin, "00000096385074");
	assert_int_equal(parse("/01/036000291452/", &l), 0);
	assert_string_equal(l.gtin, "00036000291452");
	assert_int_equal(parse("/01/12345678901231/10/LOT-7/", &l), 0);
	assert_string_equal(l.gtin, "12345678901231");
	assert_string_equal(l.lot, "LOT-7");

	assert_int_equal(code_sign(&k, 4242, &c), 0);
	gs1_tag_of(&c, tag);
	snprintf(path, sizeof(path),
	    "/01/09506000134352/22/2A/10/AB%%2FC%%25d/21/4242/?s=%s"
	    "&linkType=gs1%%3Apip&utm=x#frag", tag);
	assert_int_equal(parse(path, &l), 0);
	assert_string_equal(l.cpv, "2A");
	assert_string_equal(l.lot, "AB/C%d");
	assert_string_equal(l.serial, "4242");
	assert_string_equal(l.tag, tag);
	assert_string_equal(l.link_type, "gs1:pip");
	assert_int_equal(code_from_gs1(&l, &d), 0);
	assert_int_equal(d.key_id, 77);
	assert_int_equal(d.serial, 4242);
	assert_int_equal(code_verify(&k, &d), 0);

	/* s= in lower case with hyphens: stored canonical, same code */
	for (int i = 0; i < CODE_GS1_TAG_LEN; i++)
		low[i] = (char)(tag[i] >= 'A' ? tag[i] - 'A' + 'a' : tag[i]);
	low[CODE_GS1_TAG_LEN] = '\0';
	snprintf(path, sizeof(path), "/01/09506000134352/21/4242?s=%.10s-%s",
	    low, low + 10);
	assert_int_equal(parse(path, &l), 0);
	assert_string_equal(l.tag, tag);
	assert_int_equal(code_from_gs1(&l, &d), 0);
	assert_int_equal(code_verify(&k, &d), 0);

	/* each qualifier alone and 22+21 without 10 */
	assert_int_equal(parse("/01/09506000134352/22/X", &l), 0);
	assert_int_equal(parse("/01/09506000134352/22/X/21/9", &l), 0);
	assert_string_equal(l.cpv, "X");
	assert_string_equal(l.serial, "9");
	/* 20 characters is the limit, percent-encoded ones included */
	assert_int_equal(parse("/01/09506000134352/10/ABCDEFGHIJKLMNOPQRST",
	    &l), 0);
	assert_int_equal(parse("/01/09506000134352/10/%41BCDEFGHIJKLMNOPQRS"
	    "%54", &l), 0);
	assert_string_equal(l.lot, "ABCDEFGHIJKLMNOPQRST");

	/* 235 (TPX) is 01's other qualifier sequence, up to 28 characters */
	assert_int_equal(parse("/01/09506000134352/235/ABCDEFGHIJKLMNOPQRSTUVWXYZ12",
	    &l), 0);
	assert_string_equal(l.tpx, "ABCDEFGHIJKLMNOPQRSTUVWXYZ12");
	assert_string_equal(l.serial, "");
	assert_string_equal(l.key_ai, "01");

	/* the other primary keys: syntax and check digits only */
	assert_int_equal(parse("/00/106141412345678908", &l), 0);
	assert_string_equal(l.key_ai, "00");
	assert_string_equal(l.key, "106141412345678908");
	assert_string_equal(l.gtin, "");
	assert_int_equal(parse("/414/9520123456788/254/32a%2Fb", &l), 0);
	assert_string_equal(l.qual_ai, "254");
	assert_string_equal(l.qual, "32a/b");
	assert_int_equal(parse("/414/9520123456788/7040/1ABC", &l), 0);
	assert_int_equal(parse("/417/9520123456788/7040/2a-_", &l), 0);
	assert_int_equal(parse("/8004/9520123456788ASSET1/7040/1ABC", &l), 0);
	assert_int_equal(parse("/8003/09520123456788SN1", &l), 0);
	assert_int_equal(parse("/8006/095201234567880102/22/V/10/L/21/S", &l),
	    0);
	assert_string_equal(l.lot, "L");
	assert_int_equal(parse("/8010/ABC-12%2F3/8011/0", &l), 0);
	assert_int_equal(parse("/8017/106141412345678908/8019/123", &l), 0);
	assert_int_equal(parse("/8018/106141412345678908", &l), 0);
	assert_int_equal(parse("/253/4012345000009XYZ", &l), 0);
	assert_int_equal(parse("/255/4012345000009123", &l), 0);
	assert_int_equal(parse("/401/ANYTHING-30", &l), 0);
	assert_int_equal(parse("/402/40123450000000009", &l), 0);
	assert_int_equal(parse("/8013/GMN123", &l), 0);
	assert_int_equal(parse("/415/9520123456788/8020/REF1", &l), 0);

	/* data attributes: checked and counted; others passed on */
	assert_int_equal(parse("/01/09506000134352/10/L?17=201231&11=200100"
	    "&3103=000525&15=240229&7003=2012312359&20=07&30=12&37=1&"
	    "8005=000100&7006=201231&7007=201231210101&4321=1&99=x&utm=1&"
	    "a=%zz&linkType=gs1:pip", &l), 0);
	assert_int_equal(l.attrs, 13);
	assert_string_equal(l.link_type, "gs1:pip");
	assert_int_equal(parse("/01/09506000134352?17=201200&16=000229", &l),
	    0);
}

static void
test_ai_check(void **state)
{
	int flags = 0;

	(void)state;
	assert_int_equal(code_ai_check("17", "261231", &flags), 0);
	assert_true(flags & CODE_AI_ATTR);
	assert_false(flags & CODE_AI_KEY);
	assert_int_equal(code_ai_check("17", "261200", NULL), 0);
	assert_int_equal(code_ai_check("17", "260431", NULL), SIGIL_EINVAL);
	assert_int_equal(code_ai_check("17", "260430", NULL), 0);
	assert_int_equal(code_ai_check("17", "261301", NULL), SIGIL_EINVAL);
	assert_int_equal(code_ai_check("17", "260001", NULL), SIGIL_EINVAL);
	assert_int_equal(code_ai_check("7006", "260100", NULL), SIGIL_EINVAL);
	assert_int_equal(code_ai_check("7250", "20000229", NULL), 0);
	assert_int_equal(code_ai_check("7250", "19000229", NULL),
	    SIGIL_EINVAL);
	assert_int_equal(code_ai_check("01", "09506000134352", &flags), 0);
	assert_true(flags & CODE_AI_KEY);
	assert_int_equal(code_ai_check("01", "09506000134353", NULL),
	    SIGIL_EINVAL);
	assert_int_equal(code_ai_check("21", "12", &flags), 0);
	assert_false(flags & CODE_AI_ATTR);
	assert_int_equal(code_ai_check("3955", "123456", NULL), 0);
	assert_int_equal(code_ai_check("3956", "123456", NULL),
	    SIGIL_ENOTFOUND);
	assert_int_equal(code_ai_check("3692", "123456", NULL), 0);
	assert_int_equal(code_ai_check("3380", "123456", NULL),
	    SIGIL_ENOTFOUND);
	assert_int_equal(code_ai_check("8008", "26123123", NULL), 0);
	assert_int_equal(code_ai_check("8008", "2612312359", NULL), 0);
	assert_int_equal(code_ai_check("8008", "261231235960", NULL),
	    SIGIL_EINVAL);
	assert_int_equal(code_ai_check("4309", "18000000003600000000", NULL),
	    0);
	assert_int_equal(code_ai_check("4309", "18000000013600000000", NULL),
	    SIGIL_EINVAL);
	assert_int_equal(code_ai_check("4330", "000123-", NULL), 0);
	assert_int_equal(code_ai_check("4330", "000123+", NULL), SIGIL_EINVAL);
	assert_string_equal(code_ai_qualifiers("01"), "22,10,21|235");
	assert_string_equal(code_ai_qualifiers("00"), "");
	assert_null(code_ai_qualifiers("17"));
}

static void
test_gs1_bad(void **state)
{
	static const char *const bad[] = {
		"/01/4006381333932/21/1",		/* check digit */
		"/01/40063813339/21/1",			/* GTIN-11 */
		"/01/040063813339310/21/1",		/* GTIN-15 */
		"/01/400638133393A/21/1",
		"/01/4006381333931/21/1/10/A",		/* 21 before 10 */
		"/01/4006381333931/10/A/22/B",		/* 10 before 22 */
		"/01/4006381333931/10/A/10/B",		/* duplicate */
		"/01/4006381333931/21/1/21/1",
		"/01/4006381333931/17/261231",		/* unknown AI */
		"/01/4006381333931/01/4006381333931",
		"/01/4006381333931/1/1",
		"/01/4006381333931/10/A/235/1",		/* 235 is an */
		"/01/4006381333931/235/1/21/1",		/* alternative */
		"/01/4006381333931/235/ABCDEFGHIJKLMNOPQRSTUVWXYZ123",
		"/414/4006381333932",			/* check digit */
		"/414/9520123456788/7040/1ABC/254/1",	/* 254 or 7040 */
		"/414/9520123456788/21/1",
		"/00/4006381333931",			/* SSCC is 18 */
		"/00/106141412345678904",		/* check digit */
		"/8006/095201234567880300/10/L",	/* piece of 00 */
		"/8010/abc/8011/1",			/* CPID: set 39 */
		"/8010/ABC/8011/01",			/* zero prefix */
		"/8017/106141412345678901",
		"/17/261231",				/* not a key */
		"/10/LOT",
		"/9999/1",
		"/01/4006381333931?17=201310",		/* month 13 */
		"/01/4006381333931?17=200230",		/* 30 February */
		"/01/4006381333931?17=210229",		/* not a leap year */
		"/01/4006381333931?17=2012",
		"/01/4006381333931?17=2012311",
		"/01/4006381333931?17=20123A",
		"/01/4006381333931?7006=200100",	/* DD=00: only yymmd0 */
		"/01/4006381333931?7003=2012312460",	/* hour 24 */
		"/01/4006381333931?3103=12345",		/* N6 */
		"/01/4006381333931?3106=123456",	/* decimals 0..5 */
		"/01/4006381333931?3170=123456",	/* no AI 317n */
		"/01/4006381333931?20=1",
		"/01/4006381333931?30=123456789",
		"/01/4006381333931?21=5",		/* key qualifier */
		"/01/4006381333931?22=5",
		"/01/4006381333931?01=04006381333931",	/* twice */
		"/01/4006381333931/10/L?10=L",
		"/01/4006381333931?15=201231&15=201231",
		"/01/4006381333931?99=",
		"/01/4006381333931?12=",
		"/01/4006381333931?12",
		"/01/4006381333931?1234=1",		/* no such AI */
		"/01/4006381333931?8005=12345",
		"/01/4006381333931?7007=2001011",
		"01/4006381333931",
		"/01/",
		"/01",
		"",
		"/01/4006381333931//21/1",
		"/01/4006381333931/21",			/* AI, no value */
		"/01/4006381333931/21/",
		"//01/4006381333931",
		"/01/4006381333931/21/1//",
		"/01/4006381333931/10/A%2",		/* bad escapes */
		"/01/4006381333931/10/A%",
		"/01/4006381333931/10/A%G1",
		"/01/4006381333931/10/A%00B",
		"/01/4006381333931/10/A%7E",		/* ~ not in set 82 */
		"/01/4006381333931/10/A~",
		"/01/4006381333931/10/A B",
		"/01/4006381333931/10/A@B",
		"/01/4006381333931/10/A%C3%A9",
		"/01/4006381333931/10/ABCDEFGHIJKLMNOPQRSTU",	/* 21 chars */
		"/01/4006381333931/22/ABCDEFGHIJKLMNOPQRSTU",
		"/01/4006381333931/21/123456789012345678901",
		"/01/4006381333931/10/%41BCDEFGHIJKLMNOPQRSTU",
		"/01/4006381333931/21/1?s=123",		/* short tag */
		"/01/4006381333931/21/1?s=U0000000000000000000",
		"/01/4006381333931/21/1?s=000000000000000000000",
		"/01/4006381333931/21/1?s=",
		"/01/4006381333931/21/1?s",
		"/01/4006381333931/21/1?s=%zz",
		"/01/4006381333931/21/1?s=00000000000000000000&s=00000000000000000000",
		"/01/4006381333931/21/1?linkType=a&linkType=b",
		"/01/4006381333931/21/1?linkType=%00",
	};
	struct gs1_link l;
	char big[1100];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&l, 0x5a, sizeof(l));
		if (parse(bad[i], &l) != SIGIL_EINVAL)
			fail_msg("accepted: %s", bad[i]);
		assert_int_equal(l.gtin[0], 0x5a);	/* untouched */
	}
	/* an embedded NUL */
	assert_int_equal(code_gs1_parse("/01/4006381333931\0/21/1", 23, &l),
	    SIGIL_EINVAL);
	/* over 1024 bytes, even if only unknown query parameters */
	memset(big, 'x', sizeof(big));
	memcpy(big, "/01/4006381333931?a=", 20);
	assert_int_equal(code_gs1_parse(big, 1024, &l), 0);
	assert_int_equal(code_gs1_parse(big, 1025, &l), SIGIL_EINVAL);
	assert_int_equal(code_gs1_parse(NULL, 0, &l), SIGIL_EINVAL);
}

static void
test_from_gs1(void **state)
{
	struct code_key k = key_make(3, 3);
	struct code c, d;
	struct gs1_link l;
	char tag[CODE_GS1_TAG_LEN + 1], path[128];
	static const char *const serials[] = { "0", "01", "00012",
	    "1099511627776", "99999999999999999999", "12A", "+1", "-1" };

	(void)state;
	assert_int_equal(code_sign(&k, CODE_SERIAL_MAX, &c), 0);
	gs1_tag_of(&c, tag);
	snprintf(path, sizeof(path), "/01/4006381333931/21/1099511627775?s=%s",
	    tag);
	assert_int_equal(parse(path, &l), 0);
	assert_int_equal(code_from_gs1(&l, &d), 0);
	assert_true(d.serial == CODE_SERIAL_MAX);
	assert_int_equal(code_verify(&k, &d), 0);
	for (size_t i = 0; i < sizeof(serials) / sizeof(serials[0]); i++) {
		snprintf(path, sizeof(path), "/01/4006381333931/21/%s?s=%s",
		    serials[i], tag);
		if (parse(path, &l) != 0)
			continue;	/* the parser already refused it */
		if (code_from_gs1(&l, &d) != SIGIL_EINVAL)
			fail_msg("serial accepted: %s", serials[i]);
	}
	/* no s=, no 21 */
	assert_int_equal(parse("/01/4006381333931/21/5", &l), 0);
	assert_int_equal(code_from_gs1(&l, &d), SIGIL_EINVAL);
	snprintf(path, sizeof(path), "/01/4006381333931?s=%s", tag);
	assert_int_equal(parse(path, &l), 0);
	assert_int_equal(code_from_gs1(&l, &d), SIGIL_EINVAL);
	/* version 2 in the tag's first character */
	tag[0] = '4';
	snprintf(path, sizeof(path), "/01/4006381333931/21/5?s=%s", tag);
	assert_int_equal(parse(path, &l), 0);
	assert_int_equal(code_from_gs1(&l, &d), SIGIL_EINVAL);
	/* the serial is not in the tag string: moving it breaks the MAC */
	gs1_tag_of(&c, tag);
	snprintf(path, sizeof(path), "/01/4006381333931/21/1099511627774?s=%s",
	    tag);
	assert_int_equal(parse(path, &l), 0);
	assert_int_equal(code_from_gs1(&l, &d), 0);
	assert_int_equal(code_verify(&k, &d), SIGIL_EFORGED);
}

/* ---- URLs and code_parse_any ---------------------------------------------- */

static void
test_urls(void **state)
{
	struct code_key k = key_make(300, 8);
	struct code c, d;
	struct gs1_link g;
	char url[CODE_URL_MAX + 1], enc[CODE_COMPACT_LEN + 1], small[40];
	const char *want;

	(void)state;
	assert_int_equal(code_sign(&k, 31337, &c), 0);
	assert_int_equal(code_compact_encode(&c, enc), 0);

	assert_int_equal(code_url_compact("HTTPS://EXAMPLE1.COM/", &c, url,
	    sizeof(url)), 0);
	assert_int_equal(strncmp(url, "HTTPS://EXAMPLE1.COM/S/", 23), 0);
	assert_string_equal(url + 23, enc);
	memset(&g, 0x11, sizeof(g));
	assert_int_equal(code_parse_any(url, &d, &g), 0);
	assert_int_equal(g.gtin[0], '\0');
	assert_int_equal(code_verify(&k, &d), 0);
	assert_true(d.serial == 31337);

	/* too small: EFULL and the buffer is left alone */
	memset(small, 'q', sizeof(small));
	assert_int_equal(code_url_compact("https://example.com", &c, small,
	    sizeof(small)), SIGIL_EFULL);
	assert_int_equal(small[0], 'q');
	assert_int_equal(code_url_compact("", &c, url, sizeof(url)),
	    SIGIL_EINVAL);
	assert_int_equal(code_url_compact("https://a b", &c, url,
	    sizeof(url)), SIGIL_EINVAL);
	assert_int_equal(code_url_compact(NULL, &c, url, sizeof(url)),
	    SIGIL_EINVAL);

	/* GS1: lot with characters that must be escaped */
	assert_int_equal(code_url_gs1("https://id.example.com/", "04006381333931",
	    "A/B%C+1", &c, url, sizeof(url)), 0);
	want = "https://id.example.com/01/04006381333931/10/A%2FB%25C%2B1"
	    "/21/31337?s=";
	assert_int_equal(strncmp(url, want, strlen(want)), 0);
	assert_int_equal(strlen(url), strlen(want) + CODE_GS1_TAG_LEN);
	memset(&g, 0, sizeof(g));
	assert_int_equal(code_parse_any(url, &d, &g), 0);
	assert_string_equal(g.gtin, "04006381333931");
	assert_string_equal(g.lot, "A/B%C+1");
	assert_string_equal(g.serial, "31337");
	assert_int_equal(d.key_id, 300);
	assert_int_equal(code_verify(&k, &d), 0);
	/* no lot, no /10/ */
	assert_int_equal(code_url_gs1("https://id.example.com", "04006381333931",
	    NULL, &c, url, sizeof(url)), 0);
	assert_null(strstr(url, "/10/"));
	assert_int_equal(code_parse_any(url, &d, &g), 0);
	assert_int_equal(code_verify(&k, &d), 0);
	assert_int_equal(code_url_gs1("https://x", "04006381333931", "", &c,
	    url, sizeof(url)), 0);
	assert_null(strstr(url, "/10/"));

	assert_int_equal(code_url_gs1("https://x", "4006381333931", "", &c,
	    url, sizeof(url)), SIGIL_EINVAL);
	assert_int_equal(code_url_gs1("https://x", "04006381333932", "", &c,
	    url, sizeof(url)), SIGIL_EINVAL);
	assert_int_equal(code_url_gs1("https://x", "04006381333931",
	    "ABCDEFGHIJKLMNOPQRSTU", &c, url, sizeof(url)), SIGIL_EINVAL);
	assert_int_equal(code_url_gs1("https://x", "04006381333931", "a b",
	    &c, url, sizeof(url)), SIGIL_EINVAL);
	assert_int_equal(code_url_gs1("https://x", "04006381333931", "L",
	    &c, small, sizeof(small)), SIGIL_EFULL);
}

static void
test_parse_any(void **state)
{
	struct code_key k = key_make(1, 9);
	struct code c, d;
	struct gs1_link g;
	char enc[CODE_COMPACT_LEN + 1], in[300], big[3000];
	static const char *const good[] = {
		"%s", "  %s\r\n", "\t%s ", "https://example.com/S/%s",
		"HTTPS://EXAMPLE.COM/S/%s", "http://example.com/s/%s",
		"hTtPs://Example.com:8443/S/%s/", "https://example.com/S/%s?from=x",
		"https://example.com/S/%s#top", "/S/%s", "/s/%s",
		"https://example.com/brand/S/%s", "https://[::1]:8080/S/%s",
	};
	static const char *const bad[] = {
		"", "   ", "ftp://example.com/S/%s", "https://example.com/X/%s",
		"https://example.com/S/%s/extra", "https://example.com/S/%s//",
		"https://user@example.com/S/%s", "https://example.com",
		"https://example.com/", "https:///S/%s", "https://example.com/S/",
		"https://example.com/S//%s", "https://example.com//S/%s",
		"example.com/S/%s", "%s%s", "S/%s", "https://example.com/S",
		"https://exa mple.com/S/%s", "/01/4006381333931/21/1",
		"https://example.com/01/4006381333931/21/1",
		"https://example.com/01/4006381333931/21/1?s=ZZZ",
	};

	(void)state;
	assert_int_equal(code_sign(&k, 77, &c), 0);
	assert_int_equal(code_compact_encode(&c, enc), 0);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(in, sizeof(in), good[i], enc);
		memset(&d, 0, sizeof(d));
		if (code_parse_any(in, &d, &g) != 0)
			fail_msg("refused: %s", in);
		assert_int_equal(code_verify(&k, &d), 0);
		assert_int_equal(g.gtin[0], '\0');
	}
	/* lower case code inside a URL */
	snprintf(in, sizeof(in), "https://example.com/s/%s", enc);
	for (char *p = in + 22; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	assert_int_equal(code_parse_any(in, &d, NULL), 0);
	assert_int_equal(code_verify(&k, &d), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(in, sizeof(in), bad[i], enc, enc);
		if (code_parse_any(in, &d, &g) != SIGIL_EINVAL)
			fail_msg("accepted: %s", in);
	}
	/* bounded: 2 KiB of blanks around a good code is still too much */
	memset(big, ' ', sizeof(big));
	memcpy(big + 2500, enc, CODE_COMPACT_LEN);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(code_parse_any(big, &d, NULL), SIGIL_EINVAL);
	assert_int_equal(code_parse_any(NULL, &d, NULL), SIGIL_EINVAL);
}

/* SPEC §2: a 12-character upper-case host keeps the URL in QR v3-M. */
static void
test_qr_version3(void **state)
{
	struct code_key k = key_make(CODE_KEY_ID_MAX, 1);
	struct code c;
	char url[CODE_URL_MAX + 1];
	QRcode *qr;

	(void)state;
	assert_int_equal(code_sign(&k, CODE_SERIAL_MAX, &c), 0);
	assert_int_equal(code_url_compact("HTTPS://EXAMPLE1.COM", &c, url,
	    sizeof(url)), 0);
	assert_int_equal(strlen(url), 8 + 12 + 3 + CODE_COMPACT_LEN);
	qr = QRcode_encodeString(url, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	assert_non_null(qr);
	assert_true(qr->version <= 3);
	QRcode_free(qr);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Not a pass/fail gate (sanitizers and CI boxes vary): a figure to read. */
static void
test_speed(void **state)
{
	struct code_key k = key_make(1, 1);
	struct code c;
	char enc[CODE_COMPACT_LEN + 1];
	uint64_t n = 0, check = 0;
	double t0 = now_s(), t;

	(void)state;
	do {
		for (int i = 0; i < 10000; i++) {
			assert_int_equal(code_sign(&k, ++n, &c), 0);
			code_compact_encode(&c, enc);
			check += (uint8_t)enc[27];
		}
		t = now_s() - t0;
	} while (t < 0.5);
	print_message("code_sign+code_compact_encode: %.0f codes/s "
	    "(%llu)\n", n / t, (unsigned long long)(check & 1));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matches_openssl),
		cmocka_unit_test(test_hmac_matches_openssl),
		cmocka_unit_test(test_known_answer),
		cmocka_unit_test(test_round_trip_random),
		cmocka_unit_test(test_aliases_and_case),
		cmocka_unit_test(test_single_flips),
		cmocka_unit_test(test_swapped_and_other_key),
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_serial_and_version_bounds),
		cmocka_unit_test(test_pin),
		cmocka_unit_test(test_gtin_valid),
		cmocka_unit_test(test_gs1_good),
		cmocka_unit_test(test_gs1_bad),
		cmocka_unit_test(test_ai_check),
		cmocka_unit_test(test_from_gs1),
		cmocka_unit_test(test_urls),
		cmocka_unit_test(test_parse_any),
		cmocka_unit_test(test_qr_version3),
		cmocka_unit_test(test_speed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
