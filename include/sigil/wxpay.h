/*
 * wxpay.h - WeChat Pay APIv3 for the merchant transfer ("商家转账",
 * /v3/fund-app/mch-transfer/transfer-bills): signing requests, verifying
 * answers and callbacks, opening callback resources, the create request
 * and the bills WeChat Pay hands back (src/ground/wxpay.c: the
 * cryptography; src/ground/wxpay_json.c: the JSON).
 *
 * Pure functions: no store, no event loop, no keyring. The payout engine
 * (src/domain/payout*.c) sends what these make with egress_call and
 * believes an answer only after wxpay_verify_answer said 0.
 *
 * Every function returns 0 or a negative SIGIL_E* code; output
 * parameters are set on success only.
 */
#ifndef SIGIL_WXPAY_H
#define SIGIL_WXPAY_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#define WXPAY_SCHEME		"WECHATPAY2-SHA256-RSA2048"
#define WXPAY_API_DEFAULT	"https://api.mch.weixin.qq.com"
#define WXPAY_PATH_CREATE	"/v3/fund-app/mch-transfer/transfer-bills"
#define WXPAY_EVENT_FINISHED	"MCHTRANSFER.BILL.FINISHED"
#define WXPAY_SCENE_CASH	"1000"		/* 现金营销: cash marketing */

#define WXPAY_WINDOW_S		300	/* timestamps further off are refused */
#define WXPAY_APIV3_KEY_LEN	32	/* the APIv3 key: 32 bytes, AES-256 */
#define WXPAY_NONCE_LEN		32
#define WXPAY_AUTH_MAX		1200	/* an Authorization value, RSA-4096 */
#define WXPAY_PATH_MAX		128
#define WXPAY_PEM_MAX		16384	/* a merchant key's PEM, in bytes */

/* Field bounds (bytes, without the NUL); the same as store/payouts.h's. */
#define WXPAY_MCHID_MAX		32
#define WXPAY_APPID_MAX		32
#define WXPAY_OUTNO_MAX		32	/* out_bill_no: [0-9A-Za-z]{1,32} */
#define WXPAY_BILLNO_MAX	64
#define WXPAY_OPENID_MAX	128
#define WXPAY_STATE_MAX		23
#define WXPAY_FAIL_MAX		63
#define WXPAY_PACKAGE_MAX	511
#define WXPAY_TIME_MAX		39
#define WXPAY_SERIAL_MAX	64	/* a serial_no or a "PUB_KEY_ID_..." */
#define WXPAY_REMARK_CHARS	32	/* transfer_remark, in characters */
#define WXPAY_INFO_CHARS	32	/* a report info_content, in characters */

/* Keyring blob names of a brand's secrets (keyring_blob_put/get). */
#define WXPAY_BLOB_KEY_FMT	"wxpay-key/%lu"	/* the merchant's private key
						   PEM (apiclient_key.pem) */
#define WXPAY_BLOB_V3_FMT	"wxpay-v3/%lu"	/* the APIv3 key, 32 bytes */
#define WXPAY_BLOB_NAME_MAX	24
void wxpay_blob_names(uint32_t brand_id, char key[WXPAY_BLOB_NAME_MAX + 1],
    char v3[WXPAY_BLOB_NAME_MAX + 1]);

/* ---- keys (wxpay.c) ---- */

/*
 * The merchant's private key (apiclient_key.pem: PKCS#8 "BEGIN PRIVATE
 * KEY", or PKCS#1 "BEGIN RSA PRIVATE KEY"), unencrypted RSA of 2048 bits
 * or more, from len bytes of pem. *out is the caller's (EVP_PKEY_free).
 * SIGIL_EINVAL for anything else; nothing of the key is logged.
 */
int wxpay_key_load(const char *pem, size_t len, EVP_PKEY **out);

/*
 * WeChat Pay's public key ("BEGIN PUBLIC KEY", the one of the merchant
 * platform's 微信支付公钥 with its PUB_KEY_ID_...) or a platform
 * certificate ("BEGIN CERTIFICATE": its public key), RSA of 2048 bits or
 * more. Also reads a merchant's public key, for tests and the stand-in.
 * SIGIL_EINVAL for anything else.
 */
int wxpay_pubkey_load(const char *pem, size_t len, EVP_PKEY **out);

/*
 * The SHA-256 of the key's public half (DER SubjectPublicKeyInfo), in
 * lower-case hex: what the dashboard shows instead of a key. Works on a
 * private or a public key. SIGIL_EINVAL, SIGIL_ECRYPTO.
 */
int wxpay_key_fingerprint(EVP_PKEY *key, char out[65]);

/*
 * Whether bytes are an APIv3 key: exactly 32 bytes, each a printable
 * ASCII character other than a space (the merchant platform sets it as
 * 32 letters and digits). 0 or SIGIL_EINVAL.
 */
int wxpay_apiv3_key_check(const void *bytes, size_t len);

/* ---- signing and verifying (wxpay.c) ---- */

/* 32 random characters [0-9A-Z] from the CSPRNG, NUL-terminated. */
int wxpay_nonce(char out[WXPAY_NONCE_LEN + 1]);

/*
 * The Authorization header value of a request, as the APIv3 rules ask:
 *   WECHATPAY2-SHA256-RSA2048 mchid="M",nonce_str="N",signature="S",
 *   timestamp="T",serial_no="C"
 * where S = base64(RSA PKCS#1 v1.5 SHA-256 with key over
 *   "METHOD\nPATH\nT\nN\nBODY\n"),
 * method "GET" or "POST", path the URL's absolute path with its query
 * (no scheme, no host), body the exact bytes sent (len bytes; "" for a
 * GET), ts Unix seconds, nonce [0-9A-Za-z]{1,32} (wxpay_nonce), serial_no
 * the merchant API certificate's serial (hex). Into out (size bytes,
 * WXPAY_AUTH_MAX is enough). SIGIL_EINVAL for a bad argument or a
 * too-small out, SIGIL_ECRYPTO.
 */
int wxpay_sign(EVP_PKEY *key, const char *mchid, const char *serial_no,
    const char *method, const char *path, const char *body, size_t len,
    int64_t ts, const char *nonce, char *out, size_t size);

/*
 * Verifies what WeChat Pay signed (an answer or a callback): signature_b64
 * (the Wechatpay-Signature header) must be RSA PKCS#1 v1.5 SHA-256 by
 * pub over "TS\nNONCE\nBODY\n" (ts and nonce: the Wechatpay-Timestamp and
 * Wechatpay-Nonce headers as received; body: len bytes exactly as
 * received, "" for none), and ts must be within WXPAY_WINDOW_S of now
 * (Unix seconds). 0; SIGIL_EFORGED (no such signature: a bad one, a
 * tampered body, another key, WeChat's "WECHATPAY/SIGNTEST/" probes);
 * SIGIL_ESTATE (ts outside the window); SIGIL_EINVAL (a missing or
 * malformed argument).
 */
int wxpay_verify(EVP_PKEY *pub, const char *ts, const char *nonce,
    const char *body, size_t len, const char *signature_b64, int64_t now);

/*
 * wxpay_verify with the serial check first: serial (Wechatpay-Serial)
 * must equal want_serial (the brand's PUB_KEY_ID_... or its platform
 * certificate's serial), else SIGIL_EFORGED: WeChat Pay names the key it
 * signed with, and an answer signed with a key we do not hold for that
 * name is not believed. Any header NULL: SIGIL_EINVAL.
 */
int wxpay_verify_answer(EVP_PKEY *pub, const char *want_serial,
    const char *serial, const char *ts, const char *nonce,
    const char *signature_b64, const char *body, size_t len, int64_t now);

/*
 * Opens an AEAD_AES_256_GCM resource (a callback's "resource"):
 * ciphertext_b64 is base64 of the ciphertext followed by its 16-byte
 * tag, nonce the 12-character string as sent (its bytes are the IV),
 * aad the associated_data string ("" when empty), key the APIv3 key.
 * *out is the malloc'd plaintext, NUL-terminated (*outlen without the
 * NUL); the caller wipes (OPENSSL_cleanse) and frees it. SIGIL_EFORGED
 * when the tag does not verify (wrong key, tampered text), SIGIL_EINVAL
 * for malformed input, SIGIL_ENOMEM, SIGIL_ECRYPTO.
 */
int wxpay_decrypt(const uint8_t key[WXPAY_APIV3_KEY_LEN], const char *nonce,
    const char *aad, const char *ciphertext_b64, char **out, size_t *outlen);

/* ---- requests and answers (wxpay_json.c) ---- */

/*
 * A transfer to create. Strings are UTF-8. scene_id "1000" (现金营销)
 * reports activity as "活动名称" and reward as "奖励说明" (both required
 * there, at most 32 characters each); perception is the
 * user_recv_perception ("现金奖励", "活动奖励") or NULL.
 */
struct wxpay_transfer {
	const char	*appid;
	const char	*out_bill_no;	/* [0-9A-Za-z]{1,32} */
	const char	*scene_id;	/* digits */
	const char	*openid;
	int64_t		 fen;		/* transfer_amount, > 0 */
	const char	*remark;	/* transfer_remark, 1..32 characters */
	const char	*notify_url;	/* http(s)://..., <= 256 bytes, no
					   query; NULL: none (then only
					   queries tell the outcome) */
	const char	*perception;	/* or NULL */
	const char	*activity;	/* scene 1000: 活动名称 */
	const char	*reward;	/* scene 1000: 奖励说明 */
};

/*
 * The JSON body of POST WXPAY_PATH_CREATE, compact, keys in the
 * documented order: {appid, out_bill_no, transfer_scene_id, openid,
 * transfer_amount, transfer_remark, notify_url?, user_recv_perception?,
 * transfer_scene_report_infos: [{info_type, info_content}...]}. The same
 * t always makes the same bytes, so a re-sent create is the same request.
 * *out is malloc'd (free), *len its length. The request must also carry
 * "Wechatpay-Serial: <the brand's PUB_KEY_ID_...>" (required by the
 * API), "Accept: application/json" and a User-Agent. SIGIL_EINVAL for a
 * field out of its rule (the caller checks its settings beforehand, so
 * this is a bug or a bad payout row), SIGIL_ENOMEM.
 */
int wxpay_transfer_body(const struct wxpay_transfer *t, char **out,
    size_t *len);

/*
 * The paths of the query (GET) and the cancel (POST, an empty body) of
 * one bill by our out_bill_no, into out. SIGIL_EINVAL for a bad
 * out_bill_no.
 */
int wxpay_query_path(const char *out_bill_no, char out[WXPAY_PATH_MAX]);
int wxpay_cancel_path(const char *out_bill_no, char out[WXPAY_PATH_MAX]);

/* What a WeChat Pay state word means for a payout. */
enum wxpay_outcome {
	WXPAY_UNKNOWN = 0,	/* a word not documented: believe nothing */
	WXPAY_ACCEPTED = 1,	/* ACCEPTED PROCESSING WAIT_USER_CONFIRM
				   TRANSFERING CANCELING: not final yet */
	WXPAY_PAID = 2,		/* SUCCESS */
	WXPAY_FAILED = 3,	/* FAIL CANCELLED: nothing was paid */
};
int wxpay_state_map(const char *word);

/*
 * A transfer bill as WeChat Pay describes it: the create answer, the
 * query answer, the cancel answer or a decrypted callback resource.
 * Absent fields are "" (amount -1, update_at 0).
 */
struct wxpay_bill {
	char	mchid[WXPAY_MCHID_MAX + 1];		/* "mch_id"/"mchid" */
	char	appid[WXPAY_APPID_MAX + 1];
	char	out_bill_no[WXPAY_OUTNO_MAX + 1];
	char	bill_no[WXPAY_BILLNO_MAX + 1];		/* transfer_bill_no */
	char	state[WXPAY_STATE_MAX + 1];
	int	outcome;				/* wxpay_state_map */
	int64_t	amount;					/* transfer_amount */
	char	openid[WXPAY_OPENID_MAX + 1];
	char	fail_reason[WXPAY_FAIL_MAX + 1];
	char	package_info[WXPAY_PACKAGE_MAX + 1];
	char	create_time[WXPAY_TIME_MAX + 1];	/* RFC 3339 */
	char	update_time[WXPAY_TIME_MAX + 1];
	int64_t	update_at;	/* update_time (else create_time) in Unix
				   seconds, 0 when neither parses */
};

/*
 * Parses a bill from len bytes of JSON. out_bill_no and state are
 * required; a field longer than its bound or of the wrong type is
 * refused, not cut. SIGIL_EINVAL.
 */
int wxpay_bill_parse(const char *json, size_t len, struct wxpay_bill *out);

/* An error answer: {"code": "...", "message": "..."} (4xx, 5xx). */
struct wxpay_error {
	char	code[48];
	char	message[256];	/* for people only; never acted on */
};
/* SIGIL_EINVAL when json is not such an object (a 502 from a proxy). */
int wxpay_error_parse(const char *json, size_t len, struct wxpay_error *out);

/* What an error answer asks the sender to do. */
enum wxpay_fate {
	WXPAY_RETRY = 1,	/* the same request later, same out_bill_no:
				   5xx, SYSTEM_ERROR, FREQUENCY_LIMITED,
				   NOT_ENOUGH (资金不足: top up, resend),
				   an unparsed answer, any code not known */
	WXPAY_FINAL = 2,	/* no resend mends it: PARAM_ERROR,
				   INVALID_REQUEST, NO_AUTH, and 4xx codes
				   of a refused payee */
	WXPAY_NOT_FOUND = 3,	/* query: WeChat Pay has no such bill (the
				   create never arrived): create it */
	WXPAY_AUTH = 4,		/* 401 SIGN_ERROR: our key, serial, mchid
				   or clock is wrong; nothing moves until
				   the settings are fixed */
};
/* The fate of an answer with HTTP status and error code ("" unknown). */
int wxpay_error_fate(int status, const char *code);

/*
 * A callback (POST notify_url) body: {id, create_time, resource_type
 * "encrypt-resource", event_type, summary, resource: {original_type,
 * algorithm "AEAD_AES_256_GCM", ciphertext, nonce, associated_data}}.
 * Verify its headers with wxpay_verify_answer first, then this opens it
 * with the APIv3 key and parses the bill inside. 0 for
 * MCHTRANSFER.BILL.FINISHED opened; SIGIL_ENOTFOUND for a well-formed
 * callback of another event_type (answer it 200 and ignore it);
 * SIGIL_EFORGED when the resource does not decrypt; SIGIL_EINVAL for
 * anything malformed; SIGIL_ENOMEM.
 */
int wxpay_notify_open(const uint8_t key[WXPAY_APIV3_KEY_LEN],
    const char *body, size_t len, struct wxpay_bill *out);

#endif
