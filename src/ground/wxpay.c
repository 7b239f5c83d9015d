/*
 * wxpay.c - the cryptography of WeChat Pay's APIv3: the merchant's
 * request signature, the check of what WeChat Pay signs, and the
 * opening of callback resources. See include/sigil/wxpay.h; the JSON
 * of requests and bills is wxpay_json.c's.
 *
 * The rules, from WeChat Pay's published APIv3 documentation (签名生成,
 * 签名验证, 回调报文解密):
 *   - a request is signed with the merchant's API private key, RSA
 *     PKCS#1 v1.5 over SHA-256 of "METHOD\nPATH\nTIMESTAMP\nNONCE\nBODY\n"
 *     (PATH with its query, BODY "" for a GET), and carried in
 *     "Authorization: WECHATPAY2-SHA256-RSA2048 mchid=..,nonce_str=..,
 *     signature=..,timestamp=..,serial_no=..";
 *   - an answer or a callback carries Wechatpay-Timestamp, -Nonce,
 *     -Signature and -Serial; the signature is over
 *     "TIMESTAMP\nNONCE\nBODY\n" with WeChat Pay's key (the 微信支付公钥
 *     named PUB_KEY_ID_..., or the platform certificate of that serial).
 *     A timestamp more than five minutes from our clock is refused, so a
 *     recorded answer or callback cannot be replayed later;
 *   - a callback's resource is AEAD_AES_256_GCM with the 32-byte APIv3
 *     key, the 12-character nonce string as IV, associated_data as AAD
 *     and the 16-byte tag at the end of the base64 ciphertext.
 *
 * Owns nothing but its arguments. May call OpenSSL and util.c. Must
 * never log or return key bytes; verification compares in constant time
 * (OpenSSL's) and says only "forged" whatever the reason.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "sigil/util.h"
#include "sigil/wxpay.h"

#define WXPAY_RSA_MIN_BITS	2048
#define WXPAY_SIG_MAX		1024	/* RSA-8192 */
#define WXPAY_GCM_TAG		16
#define WXPAY_GCM_NONCE_MAX	64
#define WXPAY_CIPHER_MAX	(1 << 20)

void
wxpay_blob_names(uint32_t brand_id, char key[WXPAY_BLOB_NAME_MAX + 1],
    char v3[WXPAY_BLOB_NAME_MAX + 1])
{
	snprintf(key, WXPAY_BLOB_NAME_MAX + 1, WXPAY_BLOB_KEY_FMT,
	    (unsigned long)brand_id);
	snprintf(v3, WXPAY_BLOB_NAME_MAX + 1, WXPAY_BLOB_V3_FMT,
	    (unsigned long)brand_id);
}

/* ---- keys ---- */

static int
rsa_strong(EVP_PKEY *k)
{
	return EVP_PKEY_base_id(k) == EVP_PKEY_RSA &&
	    EVP_PKEY_bits(k) >= WXPAY_RSA_MIN_BITS;
}

/* A key just read (NULL if it was not one): *out if RSA and strong. */
static int
key_take(EVP_PKEY *k, EVP_PKEY **out)
{
	if (k == NULL || !rsa_strong(k)) {
		EVP_PKEY_free(k);
		return SIGIL_EINVAL;
	}
	*out = k;
	return 0;
}

static BIO *
pem_bio(const char *pem, size_t len)
{
	if (pem == NULL || len == 0 || len > WXPAY_PEM_MAX)
		return NULL;
	return BIO_new_mem_buf(pem, (int)len);
}

int
wxpay_key_load(const char *pem, size_t len, EVP_PKEY **out)
{
	BIO *b;
	EVP_PKEY *k;

	if (out == NULL || (b = pem_bio(pem, len)) == NULL)
		return SIGIL_EINVAL;
	/* An empty passphrase callback: an encrypted key is refused rather
	 * than prompted for on a terminal. */
	k = PEM_read_bio_PrivateKey(b, NULL, NULL, (void *)"");
	BIO_free(b);
	return key_take(k, out);
}

int
wxpay_pubkey_load(const char *pem, size_t len, EVP_PKEY **out)
{
	BIO *b;
	EVP_PKEY *k = NULL;
	X509 *cert;

	if (out == NULL || (b = pem_bio(pem, len)) == NULL)
		return SIGIL_EINVAL;
	if (memmem(pem, len, "-----BEGIN CERTIFICATE-----", 27) != NULL) {
		if ((cert = PEM_read_bio_X509(b, NULL, NULL, (void *)"")) !=
		    NULL) {
			k = X509_get_pubkey(cert);
			X509_free(cert);
		}
	} else
		k = PEM_read_bio_PUBKEY(b, NULL, NULL, (void *)"");
	BIO_free(b);
	return key_take(k, out);
}

int
wxpay_key_fingerprint(EVP_PKEY *key, char out[65])
{
	unsigned char *der = NULL, md[32];
	unsigned int mdlen = 0;
	int n;

	if (key == NULL || out == NULL)
		return SIGIL_EINVAL;
	if ((n = i2d_PUBKEY(key, &der)) <= 0)
		return SIGIL_ECRYPTO;
	if (EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL) != 1) {
		OPENSSL_free(der);
		return SIGIL_ECRYPTO;
	}
	OPENSSL_free(der);
	sigil_hex_encode(md, sizeof md, out);
	return 0;
}

int
wxpay_apiv3_key_check(const void *bytes, size_t len)
{
	const unsigned char *p = bytes;

	if (p == NULL || len != WXPAY_APIV3_KEY_LEN)
		return SIGIL_EINVAL;
	for (size_t i = 0; i < len; i++)
		if (p[i] <= ' ' || p[i] > '~')
			return SIGIL_EINVAL;
	return 0;
}

/* ---- signing ---- */

int
wxpay_nonce(char out[WXPAY_NONCE_LEN + 1])
{
	static const char digits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
	uint8_t r[WXPAY_NONCE_LEN];

	if (sigil_random(r, sizeof r) != 0)
		return SIGIL_ECRYPTO;
	/* 256 = 7 * 36 + 4: the bias toward the first four digits is
	 * harmless in a nonce that only needs to be unique. */
	for (size_t i = 0; i < sizeof r; i++)
		out[i] = digits[r[i] % 36];
	out[WXPAY_NONCE_LEN] = '\0';
	return 0;
}

/* Letters and digits, 1..max: a nonce, an mchid, a serial. */
static int
alnum_ok(const char *s, size_t max)
{
	size_t n;

	if (s == NULL || (n = strlen(s)) == 0 || n > max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' &&
		    s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z')))
			return 0;
	return 1;
}

/* "TS\nNONCE\nBODY\n" or "METHOD\nPATH\n" + that, malloc'd. */
static char *
sign_message(const char *method, const char *path, const char *ts,
    const char *nonce, const char *body, size_t len, size_t *msglen)
{
	size_t head = (method ? strlen(method) + strlen(path) + 2 : 0) +
	    strlen(ts) + strlen(nonce) + 2;
	char *msg = malloc(head + len + 2), *p;

	if (msg == NULL)
		return NULL;
	p = msg;
	if (method != NULL)
		p += sprintf(p, "%s\n%s\n", method, path);
	p += sprintf(p, "%s\n%s\n", ts, nonce);
	memcpy(p, body, len);
	p[len] = '\n';
	*msglen = (size_t)(p - msg) + len + 1;
	return msg;
}

int
wxpay_sign(EVP_PKEY *key, const char *mchid, const char *serial_no,
    const char *method, const char *path, const char *body, size_t len,
    int64_t ts, const char *nonce, char *out, size_t size)
{
	EVP_MD_CTX *md = NULL;
	unsigned char sig[WXPAY_SIG_MAX];
	char b64[WXPAY_SIG_MAX / 3 * 4 + 8], tsbuf[24], *msg = NULL;
	size_t msglen = 0, siglen = sizeof sig;
	int rc = SIGIL_EINVAL, n;

	if (key == NULL || !rsa_strong(key) || !alnum_ok(mchid,
	    WXPAY_MCHID_MAX) || !alnum_ok(serial_no, WXPAY_SERIAL_MAX) ||
	    !alnum_ok(nonce, WXPAY_NONCE_LEN) || method == NULL ||
	    (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0) ||
	    path == NULL || path[0] != '/' || strpbrk(path, " \r\n") != NULL ||
	    (body == NULL && len > 0) || ts <= 0 || out == NULL)
		return SIGIL_EINVAL;
	if (EVP_PKEY_bits(key) > WXPAY_SIG_MAX * 8)
		return SIGIL_EINVAL;
	snprintf(tsbuf, sizeof tsbuf, "%lld", (long long)ts);
	if ((msg = sign_message(method, path, tsbuf, nonce, body ? body : "",
	    len, &msglen)) == NULL)
		return SIGIL_ENOMEM;
	rc = SIGIL_ECRYPTO;
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) != 1 ||
	    EVP_DigestSign(md, sig, &siglen, (unsigned char *)msg, msglen) != 1)
		goto out;
	EVP_EncodeBlock((unsigned char *)b64, sig, (int)siglen);
	n = snprintf(out, size, WXPAY_SCHEME " mchid=\"%s\",nonce_str=\"%s\","
	    "signature=\"%s\",timestamp=\"%s\",serial_no=\"%s\"", mchid, nonce,
	    b64, tsbuf, serial_no);
	rc = n > 0 && (size_t)n < size ? 0 : SIGIL_EINVAL;
out:
	EVP_MD_CTX_free(md);
	free(msg);
	return rc;
}

/* ---- verifying ---- */

/* A decimal Unix time of 1..18 digits (no sign, no overflow). */
static int
ts_parse(const char *s, int64_t *out)
{
	int64_t v = 0;
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > 18)
		return SIGIL_EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return SIGIL_EINVAL;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int
wxpay_verify(EVP_PKEY *pub, const char *ts, const char *nonce,
    const char *body, size_t len, const char *signature_b64, int64_t now)
{
	EVP_MD_CTX *md = NULL;
	unsigned char sig[WXPAY_SIG_MAX];
	size_t siglen = 0, msglen = 0;
	char *msg;
	int64_t t;
	int rc;

	if (pub == NULL || nonce == NULL || nonce[0] == '\0' ||
	    strlen(nonce) > 64 || strpbrk(nonce, "\r\n") != NULL ||
	    signature_b64 == NULL || (body == NULL && len > 0) ||
	    ts_parse(ts, &t) != 0)
		return SIGIL_EINVAL;
	if (t < now - WXPAY_WINDOW_S || t > now + WXPAY_WINDOW_S)
		return SIGIL_ESTATE;
	/* Not base64 (WeChat's WECHATPAY/SIGNTEST/ probes among them) or
	 * not a signature of pub's size: no signature at all. */
	if (sigil_b64_decode(signature_b64, strlen(signature_b64), sig,
	    sizeof sig, &siglen) != 0 || siglen != (size_t)EVP_PKEY_size(pub))
		return SIGIL_EFORGED;
	if ((msg = sign_message(NULL, NULL, ts, nonce, body ? body : "", len,
	    &msglen)) == NULL)
		return SIGIL_ENOMEM;
	rc = SIGIL_ECRYPTO;
	if ((md = EVP_MD_CTX_new()) != NULL &&
	    EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pub) == 1)
		rc = EVP_DigestVerify(md, sig, siglen, (unsigned char *)msg,
		    msglen) == 1 ? 0 : SIGIL_EFORGED;
	EVP_MD_CTX_free(md);
	free(msg);
	return rc;
}

int
wxpay_verify_answer(EVP_PKEY *pub, const char *want_serial,
    const char *serial, const char *ts, const char *nonce,
    const char *signature_b64, const char *body, size_t len, int64_t now)
{
	if (want_serial == NULL || want_serial[0] == '\0' || serial == NULL ||
	    ts == NULL || nonce == NULL || signature_b64 == NULL)
		return SIGIL_EINVAL;
	if (strcmp(want_serial, serial) != 0)
		return SIGIL_EFORGED;
	return wxpay_verify(pub, ts, nonce, body, len, signature_b64, now);
}

/* ---- opening callback resources ---- */

int
wxpay_decrypt(const uint8_t key[WXPAY_APIV3_KEY_LEN], const char *nonce,
    const char *aad, const char *ciphertext_b64, char **out, size_t *outlen)
{
	EVP_CIPHER_CTX *c = NULL;
	uint8_t *ct = NULL;
	char *pt = NULL;
	size_t n, ctlen = 0, noncelen;
	int len1 = 0, len2 = 0, rc;

	if (key == NULL || nonce == NULL || ciphertext_b64 == NULL ||
	    out == NULL || outlen == NULL)
		return SIGIL_EINVAL;
	if (aad == NULL)
		aad = "";
	noncelen = strlen(nonce);
	n = strlen(ciphertext_b64);
	if (noncelen == 0 || noncelen > WXPAY_GCM_NONCE_MAX ||
	    strlen(aad) > INT32_MAX || n > WXPAY_CIPHER_MAX)
		return SIGIL_EINVAL;
	if ((ct = malloc(n / 4 * 3 + 1)) == NULL)
		return SIGIL_ENOMEM;
	if ((rc = sigil_b64_decode(ciphertext_b64, n, ct, n / 4 * 3,
	    &ctlen)) != 0)
		goto out;
	rc = SIGIL_EINVAL;
	if (ctlen < WXPAY_GCM_TAG)
		goto out;
	ctlen -= WXPAY_GCM_TAG;
	rc = SIGIL_ENOMEM;
	if ((pt = malloc(ctlen + 1)) == NULL)
		goto out;
	rc = SIGIL_ECRYPTO;
	if ((c = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, (int)noncelen,
	    NULL) != 1 ||
	    EVP_DecryptInit_ex(c, NULL, NULL, key, (const uint8_t *)nonce) != 1 ||
	    EVP_DecryptUpdate(c, NULL, &len1, (const uint8_t *)aad,
	    (int)strlen(aad)) != 1 ||
	    EVP_DecryptUpdate(c, (uint8_t *)pt, &len1, ct, (int)ctlen) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, WXPAY_GCM_TAG,
	    ct + ctlen) != 1)
		goto out;
	/* Only the tag's check tells a wrong key or a changed byte. */
	if (EVP_DecryptFinal_ex(c, (uint8_t *)pt + len1, &len2) != 1) {
		rc = SIGIL_EFORGED;
		goto out;
	}
	n = (size_t)len1 + (size_t)len2;
	pt[n] = '\0';
	*out = pt;
	*outlen = n;
	pt = NULL;
	rc = 0;
out:
	EVP_CIPHER_CTX_free(c);
	if (pt != NULL) {
		OPENSSL_cleanse(pt, ctlen + 1);
		free(pt);
	}
	free(ct);
	return rc;
}
