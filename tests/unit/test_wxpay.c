/*
 * test_wxpay.c - WeChat Pay APIv3 pieces (src/ground/wxpay.c,
 * wxpay_json.c): keys read in every PEM form a merchant meets and weak
 * or encrypted ones refused; the Authorization header byte for byte
 * against signatures another implementation made (wxpay_vec.h); sign and
 * verify round trips with keys OpenSSL makes here; a tampered body, a
 * changed nonce, another key, another serial and a timestamp outside the
 * five-minute window refused; the AES-256-GCM known answer and its
 * refusals; the create body byte for byte and its rules; bills, errors,
 * fates, states and callbacks parsed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "sigil/util.h"
#include "sigil/wxpay.h"

#include "wxpay_vec.h"

#define TS		1700000000
#define NONCE		"593BEC0C930BF1AFEB40B4A08C8FB242"
#define ANS_NONCE	"c5ac7061fccab6bf3e254dcf98995b8c"
#define MCHID		"1900001109"
#define SERIAL		"5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
#define PUBID		"PUB_KEY_ID_0114232134912410000000000000"
#define APIV3		"0123456789abcdefghijklmnopqrstuv"
#define CREATE_PATH	"/v3/fund-app/mch-transfer/transfer-bills"

static EVP_PKEY *
load_priv(const char *pem)
{
	EVP_PKEY *k = NULL;

	assert_int_equal(wxpay_key_load(pem, strlen(pem), &k), 0);
	return k;
}

static EVP_PKEY *
load_pub(const char *pem)
{
	EVP_PKEY *k = NULL;

	assert_int_equal(wxpay_pubkey_load(pem, strlen(pem), &k), 0);
	return k;
}

/* A PEM of k (private when priv) into a static buffer. */
static const char *
pem_of(EVP_PKEY *k, int priv)
{
	static char buf[8192];
	BIO *b = BIO_new(BIO_s_mem());
	int n;

	assert_non_null(b);
	if (priv)
		assert_int_equal(PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0,
		    NULL, NULL), 1);
	else
		assert_int_equal(PEM_write_bio_PUBKEY(b, k), 1);
	n = BIO_read(b, buf, sizeof buf - 1);
	assert_true(n > 0);
	buf[n] = '\0';
	BIO_free(b);
	return buf;
}

static void
test_keys(void **state)
{
	EVP_PKEY *k = NULL, *k1, *pub, *weak;
	char fp1[65], fp2[65], fp3[65];
	const char *garbage = "-----BEGIN PRIVATE KEY-----\nAAAA\n"
	    "-----END PRIVATE KEY-----\n";

	(void)state;
	k = load_priv(priv_pem);
	k1 = load_priv(priv1_pem);		/* PKCS#1 reads too */
	pub = load_pub(pub_pem);
	assert_int_equal(wxpay_key_fingerprint(k, fp1), 0);
	assert_int_equal(wxpay_key_fingerprint(k1, fp2), 0);
	assert_int_equal(wxpay_key_fingerprint(pub, fp3), 0);
	assert_string_equal(fp1, fp2);
	assert_string_equal(fp1, fp3);
	assert_int_equal(strlen(fp1), 64);

	/* Encrypted, garbage, empty, public-as-private, private-as-public. */
	assert_int_equal(wxpay_key_load(enc_pem, strlen(enc_pem), &k),
	    SIGIL_EINVAL);
	assert_int_equal(wxpay_key_load(garbage, strlen(garbage), &k),
	    SIGIL_EINVAL);
	assert_int_equal(wxpay_key_load("", 0, &k), SIGIL_EINVAL);
	assert_int_equal(wxpay_key_load(pub_pem, strlen(pub_pem), &k),
	    SIGIL_EINVAL);
	assert_int_equal(wxpay_pubkey_load("x", 1, &k), SIGIL_EINVAL);
	/* A 1024-bit key is refused both ways. */
	weak = EVP_RSA_gen(1024);
	assert_non_null(weak);
	{
		const char *p = pem_of(weak, 1);
		EVP_PKEY *out = NULL;

		assert_int_equal(wxpay_key_load(p, strlen(p), &out),
		    SIGIL_EINVAL);
		p = pem_of(weak, 0);
		assert_int_equal(wxpay_pubkey_load(p, strlen(p), &out),
		    SIGIL_EINVAL);
		assert_null(out);
	}
	EVP_PKEY_free(weak);

	/* APIv3 keys: 32 printable bytes exactly. */
	assert_int_equal(wxpay_apiv3_key_check(APIV3, 32), 0);
	assert_int_equal(wxpay_apiv3_key_check(APIV3, 31), SIGIL_EINVAL);
	assert_int_equal(wxpay_apiv3_key_check(APIV3 "x", 33), SIGIL_EINVAL);
	assert_int_equal(wxpay_apiv3_key_check("0123456789abcdef0123456789abcd\n"
	    "x", 32), SIGIL_EINVAL);
	assert_int_equal(wxpay_apiv3_key_check("0123456789abcdef 123456789abcdef"
	    , 32), SIGIL_EINVAL);
	EVP_PKEY_free(k1);
	EVP_PKEY_free(pub);
	EVP_PKEY_free(load_priv(priv_pem));
	EVP_PKEY_free(k);
}

static void
test_sign_known(void **state)
{
	EVP_PKEY *k = load_priv(priv_pem);
	char auth[WXPAY_AUTH_MAX], want[WXPAY_AUTH_MAX];

	(void)state;
	assert_int_equal(wxpay_sign(k, MCHID, SERIAL, "POST", CREATE_PATH,
	    req_body, strlen(req_body), TS, NONCE, auth, sizeof auth), 0);
	snprintf(want, sizeof want, "WECHATPAY2-SHA256-RSA2048 mchid=\""
	    MCHID "\",nonce_str=\"" NONCE "\",signature=\"%s\",timestamp=\""
	    "1700000000\",serial_no=\"" SERIAL "\"", req_sig);
	assert_string_equal(auth, want);

	/* A GET signs an empty body: "...\nNONCE\n\n". */
	assert_int_equal(wxpay_sign(k, MCHID, SERIAL, "GET", CREATE_PATH
	    "/out-bill-no/SG1C1", "", 0, TS, NONCE, auth, sizeof auth), 0);
	assert_non_null(strstr(auth, get_sig));
	assert_int_equal(wxpay_sign(k, MCHID, SERIAL, "GET", CREATE_PATH
	    "/out-bill-no/SG1C1", NULL, 0, TS, NONCE, auth, sizeof auth), 0);
	assert_non_null(strstr(auth, get_sig));

	/* Bad arguments. */
	assert_int_equal(wxpay_sign(k, MCHID, SERIAL, "PUT", CREATE_PATH, "",
	    0, TS, NONCE, auth, sizeof auth), SIGIL_EINVAL);
	assert_int_equal(wxpay_sign(k, MCHID, SERIAL, "GET", "v3/x", "", 0,
	    TS, NONCE, auth, sizeof auth), SIGIL_EINVAL);
	assert_int_equal(wxpay_sign(k, "19\"00", SERIAL, "GET", "/v3", "", 0,
	    TS, NONCE, auth, sizeof auth), SIGIL_EINVAL);
	assert_int_equal(wxpay_sign(k, MCHID, SERIAL, "GET", "/v3", "", 0,
	    TS, "a b", auth, sizeof auth), SIGIL_EINVAL);
	assert_int_equal(wxpay_sign(k, MCHID, SERIAL, "GET", "/v3", "", 0,
	    TS, NONCE, auth, 100), SIGIL_EINVAL);
	assert_int_equal(wxpay_sign(NULL, MCHID, SERIAL, "GET", "/v3", "", 0,
	    TS, NONCE, auth, sizeof auth), SIGIL_EINVAL);
	EVP_PKEY_free(k);
}

static void
test_verify_known(void **state)
{
	EVP_PKEY *pub = load_pub(pub_pem);
	char bad[sizeof ans_body];

	(void)state;
	assert_int_equal(wxpay_verify(pub, "1700000000", ANS_NONCE, ans_body,
	    strlen(ans_body), ans_sig, TS + 10), 0);
	assert_int_equal(wxpay_verify_answer(pub, PUBID, PUBID, "1700000000",
	    ANS_NONCE, ans_sig, ans_body, strlen(ans_body), TS), 0);
	/* Tampered body, nonce, timestamp; another serial. */
	memcpy(bad, ans_body, sizeof bad);
	bad[strlen(bad) - 3] ^= 1;
	assert_int_equal(wxpay_verify(pub, "1700000000", ANS_NONCE, bad,
	    strlen(bad), ans_sig, TS), SIGIL_EFORGED);
	assert_int_equal(wxpay_verify(pub, "1700000000", "c5ac7061", ans_body,
	    strlen(ans_body), ans_sig, TS), SIGIL_EFORGED);
	assert_int_equal(wxpay_verify(pub, "1700000001", ANS_NONCE, ans_body,
	    strlen(ans_body), ans_sig, TS), SIGIL_EFORGED);
	assert_int_equal(wxpay_verify(pub, "1700000000", ANS_NONCE, ans_body,
	    strlen(ans_body) - 1, ans_sig, TS), SIGIL_EFORGED);
	assert_int_equal(wxpay_verify_answer(pub, PUBID, "PUB_KEY_ID_0999",
	    "1700000000", ANS_NONCE, ans_sig, ans_body, strlen(ans_body), TS),
	    SIGIL_EFORGED);
	/* The window: 300 s either way, not 301. */
	assert_int_equal(wxpay_verify(pub, "1700000000", ANS_NONCE, ans_body,
	    strlen(ans_body), ans_sig, TS + 300), 0);
	assert_int_equal(wxpay_verify(pub, "1700000000", ANS_NONCE, ans_body,
	    strlen(ans_body), ans_sig, TS - 300), 0);
	assert_int_equal(wxpay_verify(pub, "1700000000", ANS_NONCE, ans_body,
	    strlen(ans_body), ans_sig, TS + 301), SIGIL_ESTATE);
	assert_int_equal(wxpay_verify(pub, "1700000000", ANS_NONCE, ans_body,
	    strlen(ans_body), ans_sig, TS - 301), SIGIL_ESTATE);
	/* Malformed headers; WeChat's signature probe is not a signature. */
	assert_int_equal(wxpay_verify(pub, "17e8", ANS_NONCE, ans_body,
	    strlen(ans_body), ans_sig, TS), SIGIL_EINVAL);
	assert_int_equal(wxpay_verify(pub, "", ANS_NONCE, ans_body,
	    strlen(ans_body), ans_sig, TS), SIGIL_EINVAL);
	assert_int_equal(wxpay_verify(pub, "1700000000", "", ans_body,
	    strlen(ans_body), ans_sig, TS), SIGIL_EINVAL);
	assert_int_equal(wxpay_verify(pub, "1700000000", ANS_NONCE, ans_body,
	    strlen(ans_body), "WECHATPAY/SIGNTEST/abc", TS), SIGIL_EFORGED);
	assert_int_equal(wxpay_verify(pub, "1700000000", ANS_NONCE, ans_body,
	    strlen(ans_body), "AAAA", TS), SIGIL_EFORGED);
	assert_int_equal(wxpay_verify_answer(pub, PUBID, NULL, "1700000000",
	    ANS_NONCE, ans_sig, ans_body, strlen(ans_body), TS), SIGIL_EINVAL);
	EVP_PKEY_free(pub);
}

/* Keys made here: a request signed as the merchant verifies as WeChat
 * Pay checks it; an answer signed with one key verifies with it only. */
static void
test_round_trip(void **state)
{
	/* Under valgrind (SIGIL_TEST_QUICK) a 3,072-bit key takes half a
	 * minute to make: a second 2,048-bit one shows the same. */
	EVP_PKEY *a = EVP_RSA_gen(2048), *b = EVP_RSA_gen(getenv(
	    "SIGIL_TEST_QUICK") ? 2048 : 3072), *pa, *pb;
	char auth[WXPAY_AUTH_MAX], nonce[WXPAY_NONCE_LEN + 1], n2[33];
	char msg[512], *sig, *end;
	const char *body = "{\"x\":\"红包\"}";
	const char *pem;

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	pem = pem_of(a, 0);
	pa = load_pub(pem);
	pem = pem_of(b, 0);
	pb = load_pub(pem);
	assert_int_equal(wxpay_nonce(nonce), 0);
	assert_int_equal(wxpay_nonce(n2), 0);
	assert_int_equal(strlen(nonce), 32);
	assert_string_not_equal(nonce, n2);
	for (int i = 0; i < 32; i++)
		assert_non_null(strchr("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
		    nonce[i]));
	assert_int_equal(wxpay_sign(a, MCHID, SERIAL, "POST", "/v3/p?q=1",
	    body, strlen(body), TS, nonce, auth, sizeof auth), 0);
	assert_true(strncmp(auth, "WECHATPAY2-SHA256-RSA2048 mchid=\"", 33) ==
	    0);
	sig = strstr(auth, "signature=\"") + 11;
	end = strchr(sig, '"');
	*end = '\0';
	/* What WeChat Pay checks: the signature over
	 * "POST\n/v3/p?q=1\nTS\nNONCE\nBODY\n" with the merchant's public
	 * key (OpenSSL directly: wxpay_verify checks answers' messages). */
	{
		EVP_MD_CTX *md = EVP_MD_CTX_new();
		unsigned char raw[512];
		char full[512];
		int n = EVP_DecodeBlock(raw, (unsigned char *)sig,
		    (int)strlen(sig));
		int len = snprintf(full, sizeof full, "POST\n/v3/p?q=1\n%d\n%s\n"
		    "%s\n", TS, nonce, body);

		assert_int_equal(n, 258);	/* 256 and two padding zeros */
		assert_int_equal(EVP_DigestVerifyInit(md, NULL, EVP_sha256(),
		    NULL, pa), 1);
		assert_int_equal(EVP_DigestVerify(md, raw, 256,
		    (unsigned char *)full, (size_t)len), 1);
		EVP_MD_CTX_free(md);
	}
	/* Answers: a signature made with a verifies with a, never with b. */
	{
		char ts[16], b64[1024];
		unsigned char raw[512];
		size_t rawlen = sizeof raw;
		EVP_MD_CTX *md = EVP_MD_CTX_new();
		int len;

		snprintf(ts, sizeof ts, "%d", TS);
		len = snprintf(msg, sizeof msg, "%s\n%s\n%s\n", ts, nonce, body);
		assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL,
		    a), 1);
		assert_int_equal(EVP_DigestSign(md, raw, &rawlen,
		    (unsigned char *)msg, (size_t)len), 1);
		EVP_MD_CTX_free(md);
		EVP_EncodeBlock((unsigned char *)b64, raw, (int)rawlen);
		assert_int_equal(wxpay_verify(pa, ts, nonce, body, strlen(body),
		    b64, TS), 0);
		assert_int_equal(wxpay_verify(pb, ts, nonce, body, strlen(body),
		    b64, TS), SIGIL_EFORGED);
		assert_int_equal(wxpay_verify(pa, ts, nonce, "{\"x\":\"红包 \"}",
		    strlen(body) + 1, b64, TS), SIGIL_EFORGED);
	}
	EVP_PKEY_free(a);
	EVP_PKEY_free(b);
	EVP_PKEY_free(pa);
	EVP_PKEY_free(pb);
}

static void
test_decrypt(void **state)
{
	char *out = NULL, bad[sizeof gcm_ct];
	size_t len = 0;
	uint8_t key[32];

	(void)state;
	memcpy(key, APIV3, 32);
	assert_int_equal(wxpay_decrypt(key, "fdasflkja484", "mch_payment",
	    gcm_ct, &out, &len), 0);
	assert_int_equal(len, strlen(gcm_plain));
	assert_string_equal(out, gcm_plain);
	free(out);
	out = NULL;
	/* Wrong AAD, nonce, key; a flipped byte; cut; not base64. */
	assert_int_equal(wxpay_decrypt(key, "fdasflkja484", "", gcm_ct, &out,
	    &len), SIGIL_EFORGED);
	assert_int_equal(wxpay_decrypt(key, "fdasflkja485", "mch_payment",
	    gcm_ct, &out, &len), SIGIL_EFORGED);
	key[0] ^= 1;
	assert_int_equal(wxpay_decrypt(key, "fdasflkja484", "mch_payment",
	    gcm_ct, &out, &len), SIGIL_EFORGED);
	key[0] ^= 1;
	memcpy(bad, gcm_ct, sizeof bad);
	bad[10] = bad[10] == 'A' ? 'B' : 'A';
	assert_int_equal(wxpay_decrypt(key, "fdasflkja484", "mch_payment",
	    bad, &out, &len), SIGIL_EFORGED);
	assert_int_equal(wxpay_decrypt(key, "fdasflkja484", "mch_payment",
	    "AAAAAAAA", &out, &len), SIGIL_EINVAL);
	assert_int_equal(wxpay_decrypt(key, "fdasflkja484", "mch_payment",
	    "not base64!", &out, &len), SIGIL_EINVAL);
	assert_int_equal(wxpay_decrypt(key, "", "mch_payment", gcm_ct, &out,
	    &len), SIGIL_EINVAL);
	assert_null(out);
}

static void
test_transfer_body(void **state)
{
	struct wxpay_transfer t = {
		.appid = "wx8888888888888888", .out_bill_no = "SG12C3456",
		.scene_id = "1000", .openid = "o-MYE42l80oelYMDE34nYD456Xoy",
		.fen = 388, .remark = "扫码红包",
		.notify_url = "https://sigil.example/wxpay/notify/12",
		.activity = "春节扫码领红包", .reward = "现金红包 3.88 元",
	};
	struct wxpay_transfer u;
	char *body = NULL, *again = NULL, path[WXPAY_PATH_MAX];
	size_t len = 0, len2 = 0;

	(void)state;
	assert_int_equal(wxpay_transfer_body(&t, &body, &len), 0);
	assert_string_equal(body, "{\"appid\":\"wx8888888888888888\","
	    "\"out_bill_no\":\"SG12C3456\",\"transfer_scene_id\":\"1000\","
	    "\"openid\":\"o-MYE42l80oelYMDE34nYD456Xoy\","
	    "\"transfer_amount\":388,\"transfer_remark\":\"扫码红包\","
	    "\"notify_url\":\"https://sigil.example/wxpay/notify/12\","
	    "\"transfer_scene_report_infos\":[{\"info_type\":\"活动名称\","
	    "\"info_content\":\"春节扫码领红包\"},{\"info_type\":\"奖励说明\","
	    "\"info_content\":\"现金红包 3.88 元\"}]}");
	assert_int_equal(len, strlen(body));
	/* The same payout, the same bytes: a re-sent create is the same. */
	assert_int_equal(wxpay_transfer_body(&t, &again, &len2), 0);
	assert_string_equal(body, again);
	free(again);
	free(body);
	u = t;
	u.perception = "现金奖励";
	assert_int_equal(wxpay_transfer_body(&u, &body, &len), 0);
	assert_non_null(strstr(body, "\"notify_url\":\"https://sigil.example/"
	    "wxpay/notify/12\",\"user_recv_perception\":\"现金奖励\","));
	free(body);

	/* No notify_url: none sent (the outcome is then queried). */
	u = t;
	u.notify_url = NULL;
	assert_int_equal(wxpay_transfer_body(&u, &body, &len), 0);
	assert_null(strstr(body, "notify_url"));
	free(body);
	u.notify_url = "HTTP://127.0.0.1:8080/wxpay/notify/1";
	assert_int_equal(wxpay_transfer_body(&u, &body, &len), 0);
	free(body);

	/* Each rule: 32 characters of remark pass, 33 do not. */
	u = t;
	u.remark = "一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十"
	    "一二";
	assert_int_equal(wxpay_transfer_body(&u, &body, &len), 0);
	free(body);
	u.remark = "一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十"
	    "一二三";
	assert_int_equal(wxpay_transfer_body(&u, &body, &len), SIGIL_EINVAL);
#define REFUSED(field, value) do {					\
	u = t;								\
	u.field = value;						\
	assert_int_equal(wxpay_transfer_body(&u, &body, &len),		\
	    SIGIL_EINVAL);						\
} while (0)
	REFUSED(out_bill_no, "SG-1");
	REFUSED(out_bill_no, "");
	REFUSED(out_bill_no, "SG123456789012345678901234567890X");
	REFUSED(appid, "wx\"8");
	REFUSED(scene_id, "10a0");
	REFUSED(scene_id, "1005");	/* only the cash scene is known */
	REFUSED(openid, "o MYE");
	REFUSED(fen, 0);
	REFUSED(fen, -5);
	REFUSED(remark, "");
	REFUSED(remark, "a\nb");
	REFUSED(remark, "\xff\xfe");
	REFUSED(notify_url, "ftp://x.example/n");
	REFUSED(notify_url, "https://x.example/n?brand=1");
	REFUSED(notify_url, "https://");
	REFUSED(activity, NULL);
	REFUSED(reward, "");
	REFUSED(perception, "");
#undef REFUSED

	assert_int_equal(wxpay_query_path("SG12C3456", path), 0);
	assert_string_equal(path, "/v3/fund-app/mch-transfer/transfer-bills/"
	    "out-bill-no/SG12C3456");
	assert_int_equal(wxpay_cancel_path("SG12C3456", path), 0);
	assert_string_equal(path, "/v3/fund-app/mch-transfer/transfer-bills/"
	    "out-bill-no/SG12C3456/cancel");
	assert_int_equal(wxpay_query_path("../x", path), SIGIL_EINVAL);
}

static void
test_bills(void **state)
{
	struct wxpay_bill b;
	struct wxpay_error e;
	const char *q = "{\"mch_id\":\"1900001109\",\"out_bill_no\":\"SG1C1\","
	    "\"transfer_bill_no\":\"1330000071100999991182020050700019480001\","
	    "\"appid\":\"wx8888888888888888\",\"state\":\"SUCCESS\","
	    "\"transfer_amount\":388,\"transfer_remark\":\"扫码红包\","
	    "\"openid\":\"o-MYE42l80oelYMDE34nYD456Xoy\","
	    "\"create_time\":\"2025-01-15T13:29:35+08:00\","
	    "\"update_time\":\"2025-01-15T13:30:00+08:00\"}";
	const char *c = "{\"out_bill_no\":\"SG1C2\",\"transfer_bill_no\":\"13\","
	    "\"create_time\":\"2025-01-15T13:29:35.120+08:00\",\"state\":"
	    "\"WAIT_USER_CONFIRM\",\"package_info\":\"affffddafdfafddffda==\"}";

	(void)state;
	assert_int_equal(wxpay_bill_parse(q, strlen(q), &b), 0);
	assert_string_equal(b.mchid, "1900001109");
	assert_string_equal(b.out_bill_no, "SG1C1");
	assert_string_equal(b.bill_no,
	    "1330000071100999991182020050700019480001");
	assert_string_equal(b.state, "SUCCESS");
	assert_int_equal(b.outcome, WXPAY_PAID);
	assert_int_equal(b.amount, 388);
	assert_string_equal(b.openid, "o-MYE42l80oelYMDE34nYD456Xoy");
	assert_int_equal(b.update_at, 1736919000);	/* 05:30:00Z */
	assert_string_equal(b.package_info, "");
	assert_int_equal(wxpay_bill_parse(c, strlen(c), &b), 0);
	assert_int_equal(b.outcome, WXPAY_ACCEPTED);
	assert_int_equal(b.amount, -1);
	assert_string_equal(b.package_info, "affffddafdfafddffda==");
	assert_int_equal(b.update_at, 1736918975);	/* create_time */

	/* Refused: no state, no number, wrong types, too long, not JSON. */
#define BAD(text) assert_int_equal(wxpay_bill_parse(text, strlen(text), &b), \
	SIGIL_EINVAL)
	BAD("{\"out_bill_no\":\"SG1C1\"}");
	BAD("{\"state\":\"SUCCESS\"}");
	BAD("{\"out_bill_no\":\"SG1C1\",\"state\":1}");
	BAD("{\"out_bill_no\":\"SG1C1\",\"state\":\"SUCCESS\","
	    "\"transfer_amount\":\"388\"}");
	BAD("{\"out_bill_no\":\"SG1C1\",\"state\":\"SUCCESS\","
	    "\"transfer_amount\":-1}");
	BAD("{\"out_bill_no\":\"SG1C1\",\"state\":\"SUCCESS\","
	    "\"state\":\"FAIL\"}");
	BAD("{\"out_bill_no\":\"SG1C1234567890123456789012345678901\","
	    "\"state\":\"SUCCESS\"}");
	BAD("{\"out_bill_no\":\"SG1\\u0000C1\",\"state\":\"SUCCESS\"}");
	BAD("[1]");
	BAD("<html>502</html>");
#undef BAD
	assert_int_equal(wxpay_bill_parse("", 0, &b), SIGIL_EINVAL);

	assert_int_equal(wxpay_state_map("ACCEPTED"), WXPAY_ACCEPTED);
	assert_int_equal(wxpay_state_map("PROCESSING"), WXPAY_ACCEPTED);
	assert_int_equal(wxpay_state_map("WAIT_USER_CONFIRM"), WXPAY_ACCEPTED);
	assert_int_equal(wxpay_state_map("TRANSFERING"), WXPAY_ACCEPTED);
	assert_int_equal(wxpay_state_map("CANCELING"), WXPAY_ACCEPTED);
	assert_int_equal(wxpay_state_map("SUCCESS"), WXPAY_PAID);
	assert_int_equal(wxpay_state_map("FAIL"), WXPAY_FAILED);
	assert_int_equal(wxpay_state_map("CANCELLED"), WXPAY_FAILED);
	assert_int_equal(wxpay_state_map("success"), WXPAY_UNKNOWN);
	assert_int_equal(wxpay_state_map("CLOSED"), WXPAY_UNKNOWN);
	assert_int_equal(wxpay_state_map(NULL), WXPAY_UNKNOWN);

	{
		const char *t = "{\"code\":\"SIGN_ERROR\",\"message\":\"签名错误\"}";

		assert_int_equal(wxpay_error_parse(t, strlen(t), &e), 0);
	}
	assert_string_equal(e.code, "SIGN_ERROR");
	assert_string_equal(e.message, "签名错误");
	assert_int_equal(wxpay_error_parse("<html>", 6, &e), SIGIL_EINVAL);
	assert_int_equal(wxpay_error_parse("{\"message\":\"x\"}", 15, &e),
	    SIGIL_EINVAL);

	assert_int_equal(wxpay_error_fate(401, "SIGN_ERROR"), WXPAY_AUTH);
	assert_int_equal(wxpay_error_fate(400, "PARAM_ERROR"), WXPAY_FINAL);
	assert_int_equal(wxpay_error_fate(400, "INVALID_REQUEST"), WXPAY_FINAL);
	assert_int_equal(wxpay_error_fate(403, "NO_AUTH"), WXPAY_FINAL);
	assert_int_equal(wxpay_error_fate(403, "NOT_ENOUGH"), WXPAY_RETRY);
	assert_int_equal(wxpay_error_fate(429, "FREQUENCY_LIMITED"),
	    WXPAY_RETRY);
	assert_int_equal(wxpay_error_fate(500, "SYSTEM_ERROR"), WXPAY_RETRY);
	assert_int_equal(wxpay_error_fate(502, ""), WXPAY_RETRY);
	assert_int_equal(wxpay_error_fate(404, "NOT_FOUND"), WXPAY_NOT_FOUND);
	assert_int_equal(wxpay_error_fate(400, "SOMETHING_NEW"), WXPAY_RETRY);
}

static void
test_notify(void **state)
{
	struct wxpay_bill b;
	uint8_t key[32];
	char body[2048];

	(void)state;
	memcpy(key, APIV3, 32);
	snprintf(body, sizeof body, "{\"id\":\"EV-2018022511223320873\","
	    "\"create_time\":\"2025-01-15T13:30:00+08:00\",\"resource_type\":"
	    "\"encrypt-resource\",\"event_type\":\"MCHTRANSFER.BILL.FINISHED\","
	    "\"summary\":\"商家转账单据终态通知\",\"resource\":{\"original_type\":"
	    "\"mch_payment\",\"algorithm\":\"AEAD_AES_256_GCM\",\"ciphertext\":"
	    "\"%s\",\"associated_data\":\"mch_payment\",\"nonce\":"
	    "\"fdasflkja484\"}}", gcm_ct);
	assert_int_equal(wxpay_notify_open(key, body, strlen(body), &b), 0);
	assert_string_equal(b.out_bill_no, "SG1C1");
	assert_string_equal(b.mchid, "1900001109");
	assert_int_equal(b.outcome, WXPAY_PAID);
	assert_int_equal(b.amount, 388);
	key[31] ^= 1;
	assert_int_equal(wxpay_notify_open(key, body, strlen(body), &b),
	    SIGIL_EFORGED);
	key[31] ^= 1;
	/* Another event is not ours; a plain algorithm is refused. */
	memcpy(strstr(body, "MCHTRANSFER.BILL"), "MCHTRANSFER.XILL", 16);
	assert_int_equal(wxpay_notify_open(key, body, strlen(body), &b),
	    SIGIL_ENOTFOUND);
	memcpy(strstr(body, "MCHTRANSFER.XILL"), "MCHTRANSFER.BILL", 16);
	memcpy(strstr(body, "AEAD_AES_256_GCM"), "AEAD_AES_128_GCM", 16);
	assert_int_equal(wxpay_notify_open(key, body, strlen(body), &b),
	    SIGIL_EINVAL);
	assert_int_equal(wxpay_notify_open(key, "{}", 2, &b), SIGIL_EINVAL);
	assert_int_equal(wxpay_notify_open(key, "x", 1, &b), SIGIL_EINVAL);
}

static void
test_blob_names(void **state)
{
	char k[WXPAY_BLOB_NAME_MAX + 1], v[WXPAY_BLOB_NAME_MAX + 1];

	(void)state;
	wxpay_blob_names(4294967295u, k, v);
	assert_string_equal(k, "wxpay-key/4294967295");
	assert_string_equal(v, "wxpay-v3/4294967295");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_sign_known),
		cmocka_unit_test(test_verify_known),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_decrypt),
		cmocka_unit_test(test_transfer_body),
		cmocka_unit_test(test_bills),
		cmocka_unit_test(test_notify),
		cmocka_unit_test(test_blob_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
