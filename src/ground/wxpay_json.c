/*
 * wxpay_json.c - the JSON of WeChat Pay's merchant transfer: the create
 * request sigil sends, and the bills, errors and callbacks it reads
 * back. See include/sigil/wxpay.h.
 *
 * The request is made field by field in the documented order with the
 * rules of 发起转账 checked first (out_bill_no letters and digits, at most
 * 32; transfer_remark at most 32 characters; the scene's report infos),
 * so a request WeChat Pay would refuse with PARAM_ERROR is refused here
 * before any money question arises, and the same payout always makes
 * the same bytes: a re-sent create is the same request, which is what
 * makes it idempotent at WeChat Pay.
 *
 * Reading is strict the other way: a field of the wrong type or longer
 * than its bound refuses the whole bill rather than being cut, because a
 * cut bill number or state word would be believed.
 *
 * May call jansson, util.c and wxpay.c (decrypt). Owns no state.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "sigil/util.h"
#include "sigil/wxpay.h"

#define WXPAY_NOTIFY_URL_MAX	256
#define WXPAY_BODY_MAX		(64 * 1024)

/* ---- the create request ---- */

/* Characters (UTF-8 code points) of s, which jansson checked is UTF-8. */
static size_t
utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/* 1..max characters of valid UTF-8 with no control character. */
static int
text_ok(const char *s, size_t max)
{
	json_t *probe;

	if (s == NULL || s[0] == '\0' || utf8_chars(s) > max)
		return 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return 0;
	if ((probe = json_string(s)) == NULL)	/* not UTF-8 */
		return 0;
	json_decref(probe);
	return 1;
}

/* 1..max of [0-9A-Za-z] and the bytes of extra. */
static int
word_ok(const char *s, size_t max, const char *extra)
{
	size_t n;

	if (s == NULL || (n = strlen(s)) == 0 || n > max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' &&
		    s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
		    (extra != NULL && strchr(extra, s[i]) != NULL)))
			return 0;
	return 1;
}

static int
digits_ok(const char *s, size_t max)
{
	size_t n;

	if (s == NULL || (n = strlen(s)) == 0 || n > max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* http(s)://..., no query or fragment ("不能携带参数"), no blanks. */
static int
notify_url_ok(const char *u)
{
	size_t n, scheme;

	if (u == NULL || (n = strlen(u)) > WXPAY_NOTIFY_URL_MAX)
		return 0;
	if (strncasecmp(u, "https://", 8) == 0)
		scheme = 8;
	else if (strncasecmp(u, "http://", 7) == 0)
		scheme = 7;
	else
		return 0;
	if (n <= scheme)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)u[i] <= ' ' || u[i] == '?' || u[i] == '#' ||
		    (unsigned char)u[i] >= 0x7f)
			return 0;
	return 1;
}

static int
info_add(json_t *arr, const char *type, const char *content)
{
	return json_array_append_new(arr, json_pack("{s:s, s:s}", "info_type",
	    type, "info_content", content));
}

int
wxpay_transfer_body(const struct wxpay_transfer *t, char **out, size_t *len)
{
	json_t *o, *infos;
	char *text;
	int cash;

	if (t == NULL || out == NULL || len == NULL ||
	    !word_ok(t->appid, WXPAY_APPID_MAX, NULL) ||
	    !word_ok(t->out_bill_no, WXPAY_OUTNO_MAX, NULL) ||
	    !digits_ok(t->scene_id, 16) ||
	    !word_ok(t->openid, WXPAY_OPENID_MAX, "_-") ||
	    t->fen <= 0 || t->fen > INT32_MAX ||
	    !text_ok(t->remark, WXPAY_REMARK_CHARS) ||
	    (t->notify_url != NULL && !notify_url_ok(t->notify_url)) ||
	    (t->perception != NULL && !text_ok(t->perception, 32)))
		return SIGIL_EINVAL;
	cash = strcmp(t->scene_id, WXPAY_SCENE_CASH) == 0;
	/* Scene 1000 must report both infos; other scenes report theirs,
	 * which this module does not know, so it refuses them. */
	if (!cash || !text_ok(t->activity, WXPAY_INFO_CHARS) ||
	    !text_ok(t->reward, WXPAY_INFO_CHARS))
		return SIGIL_EINVAL;
	if ((o = json_object()) == NULL)
		return SIGIL_ENOMEM;
	if (json_object_set_new(o, "appid", json_string(t->appid)) ||
	    json_object_set_new(o, "out_bill_no",
	    json_string(t->out_bill_no)) ||
	    json_object_set_new(o, "transfer_scene_id",
	    json_string(t->scene_id)) ||
	    json_object_set_new(o, "openid", json_string(t->openid)) ||
	    json_object_set_new(o, "transfer_amount",
	    json_integer((json_int_t)t->fen)) ||
	    json_object_set_new(o, "transfer_remark",
	    json_string(t->remark)) ||
	    (t->notify_url != NULL && json_object_set_new(o, "notify_url",
	    json_string(t->notify_url))) ||
	    (t->perception != NULL && json_object_set_new(o,
	    "user_recv_perception", json_string(t->perception))) ||
	    (infos = json_array()) == NULL ||
	    json_object_set_new(o, "transfer_scene_report_infos", infos) ||
	    info_add(infos, "活动名称", t->activity) ||
	    info_add(infos, "奖励说明", t->reward)) {
		json_decref(o);
		return SIGIL_ENOMEM;
	}
	text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (text == NULL)
		return SIGIL_ENOMEM;
	*out = text;
	*len = strlen(text);
	return 0;
}

static int
bill_path(const char *out_bill_no, const char *tail, char out[WXPAY_PATH_MAX])
{
	if (!word_ok(out_bill_no, WXPAY_OUTNO_MAX, NULL))
		return SIGIL_EINVAL;
	snprintf(out, WXPAY_PATH_MAX, WXPAY_PATH_CREATE "/out-bill-no/%s%s",
	    out_bill_no, tail);
	return 0;
}

int
wxpay_query_path(const char *out_bill_no, char out[WXPAY_PATH_MAX])
{
	return bill_path(out_bill_no, "", out);
}

int
wxpay_cancel_path(const char *out_bill_no, char out[WXPAY_PATH_MAX])
{
	return bill_path(out_bill_no, "/cancel", out);
}

/* ---- states ---- */

int
wxpay_state_map(const char *word)
{
	static const struct {
		const char	*word;
		int		 outcome;
	} states[] = {
		{ "ACCEPTED", WXPAY_ACCEPTED },		/* 单据已受理 */
		{ "PROCESSING", WXPAY_ACCEPTED },	/* 锁定资金中 */
		{ "WAIT_USER_CONFIRM", WXPAY_ACCEPTED },/* 待收款用户确认 */
		{ "TRANSFERING", WXPAY_ACCEPTED },	/* 转账中 */
		{ "CANCELING", WXPAY_ACCEPTED },	/* 撤销中 */
		{ "SUCCESS", WXPAY_PAID },		/* 转账成功 */
		{ "FAIL", WXPAY_FAILED },		/* 转账失败 */
		{ "CANCELLED", WXPAY_FAILED },		/* 已撤销 */
	};

	if (word == NULL)
		return WXPAY_UNKNOWN;
	for (size_t i = 0; i < sizeof states / sizeof *states; i++)
		if (strcmp(word, states[i].word) == 0)
			return states[i].outcome;
	return WXPAY_UNKNOWN;
}

/* ---- reading ---- */

/*
 * Copies o's string member name into out (size bytes): 0 when absent or
 * null (out ""), SIGIL_EINVAL when not a string or too long.
 */
static int
str_get(const json_t *o, const char *name, char *out, size_t size)
{
	const json_t *v = json_object_get(o, name);
	size_t n;

	out[0] = '\0';
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v) || (n = json_string_length(v)) >= size ||
	    memchr(json_string_value(v), '\0', n) != NULL)
		return SIGIL_EINVAL;
	memcpy(out, json_string_value(v), n + 1);
	return 0;
}

static int
bill_from(const json_t *o, struct wxpay_bill *out)
{
	struct wxpay_bill b;
	const json_t *amount;
	int64_t us;

	memset(&b, 0, sizeof b);
	if (!json_is_object(o))
		return SIGIL_EINVAL;
	/* The query answer says "mch_id", the callback "mchid". */
	if (str_get(o, "mch_id", b.mchid, sizeof b.mchid) ||
	    (b.mchid[0] == '\0' && str_get(o, "mchid", b.mchid,
	    sizeof b.mchid)) ||
	    str_get(o, "appid", b.appid, sizeof b.appid) ||
	    str_get(o, "out_bill_no", b.out_bill_no, sizeof b.out_bill_no) ||
	    str_get(o, "transfer_bill_no", b.bill_no, sizeof b.bill_no) ||
	    str_get(o, "state", b.state, sizeof b.state) ||
	    str_get(o, "openid", b.openid, sizeof b.openid) ||
	    str_get(o, "fail_reason", b.fail_reason, sizeof b.fail_reason) ||
	    str_get(o, "package_info", b.package_info,
	    sizeof b.package_info) ||
	    str_get(o, "create_time", b.create_time, sizeof b.create_time) ||
	    str_get(o, "update_time", b.update_time, sizeof b.update_time))
		return SIGIL_EINVAL;
	if (b.out_bill_no[0] == '\0' || b.state[0] == '\0')
		return SIGIL_EINVAL;
	b.outcome = wxpay_state_map(b.state);
	b.amount = -1;
	if ((amount = json_object_get(o, "transfer_amount")) != NULL &&
	    !json_is_null(amount)) {
		if (!json_is_integer(amount) || json_integer_value(amount) < 0)
			return SIGIL_EINVAL;
		b.amount = (int64_t)json_integer_value(amount);
	}
	if ((b.update_time[0] != '\0' &&
	    sigil_time_parse_rfc3339(b.update_time, &us) == 0) ||
	    (b.create_time[0] != '\0' &&
	    sigil_time_parse_rfc3339(b.create_time, &us) == 0))
		b.update_at = us / 1000000;
	*out = b;
	return 0;
}

static json_t *
json_read(const char *json, size_t len)
{
	if (json == NULL || len == 0 || len > WXPAY_BODY_MAX)
		return NULL;
	return json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL);
}

int
wxpay_bill_parse(const char *json, size_t len, struct wxpay_bill *out)
{
	json_t *o;
	int rc;

	if (out == NULL || (o = json_read(json, len)) == NULL)
		return SIGIL_EINVAL;
	rc = bill_from(o, out);
	json_decref(o);
	return rc;
}

int
wxpay_error_parse(const char *json, size_t len, struct wxpay_error *out)
{
	struct wxpay_error e;
	json_t *o;
	int rc = SIGIL_EINVAL;

	if (out == NULL || (o = json_read(json, len)) == NULL)
		return SIGIL_EINVAL;
	if (json_is_object(o) && str_get(o, "code", e.code,
	    sizeof e.code) == 0 && e.code[0] != '\0') {
		/* The message is for people: a long one is cut, not fatal. */
		const char *m = json_string_value(json_object_get(o,
		    "message"));

		snprintf(e.message, sizeof e.message, "%s", m ? m : "");
		*out = e;
		rc = 0;
	}
	json_decref(o);
	return rc;
}

int
wxpay_error_fate(int status, const char *code)
{
	static const char *const final[] = {
		"PARAM_ERROR", "INVALID_REQUEST", "NO_AUTH",
	};

	if (code == NULL)
		code = "";
	if (status == 401 || strcmp(code, "SIGN_ERROR") == 0)
		return WXPAY_AUTH;
	if (status == 404 || strcmp(code, "NOT_FOUND") == 0)
		return WXPAY_NOT_FOUND;
	if (status >= 500 || status == 429 || strcmp(code, "SYSTEM_ERROR") == 0 ||
	    strcmp(code, "FREQUENCY_LIMITED") == 0 ||
	    strcmp(code, "NOT_ENOUGH") == 0)
		return WXPAY_RETRY;
	for (size_t i = 0; i < sizeof final / sizeof *final; i++)
		if (strcmp(code, final[i]) == 0)
			return WXPAY_FINAL;
	/* A code not documented: WeChat Pay asks never to change the bill
	 * number on one, and retrying the same bill cannot pay twice. */
	return WXPAY_RETRY;
}

/* ---- callbacks ---- */

int
wxpay_notify_open(const uint8_t key[WXPAY_APIV3_KEY_LEN], const char *body,
    size_t len, struct wxpay_bill *out)
{
	json_t *o, *res, *bill = NULL;
	const char *event, *alg, *ct, *nonce, *aad;
	char *plain = NULL;
	size_t plainlen = 0;
	int rc = SIGIL_EINVAL;

	if (key == NULL || out == NULL || (o = json_read(body, len)) == NULL)
		return SIGIL_EINVAL;
	event = json_string_value(json_object_get(o, "event_type"));
	res = json_object_get(o, "resource");
	if (!json_is_object(o) || event == NULL || !json_is_object(res))
		goto out;
	if (strcmp(event, WXPAY_EVENT_FINISHED) != 0) {
		rc = SIGIL_ENOTFOUND;
		goto out;
	}
	alg = json_string_value(json_object_get(res, "algorithm"));
	ct = json_string_value(json_object_get(res, "ciphertext"));
	nonce = json_string_value(json_object_get(res, "nonce"));
	aad = json_string_value(json_object_get(res, "associated_data"));
	if (alg == NULL || strcmp(alg, "AEAD_AES_256_GCM") != 0 ||
	    ct == NULL || nonce == NULL)
		goto out;
	if ((rc = wxpay_decrypt(key, nonce, aad ? aad : "", ct, &plain,
	    &plainlen)) != 0)
		goto out;
	rc = SIGIL_EINVAL;
	if ((bill = json_loadb(plain, plainlen, JSON_REJECT_DUPLICATES,
	    NULL)) != NULL)
		rc = bill_from(bill, out);
out:
	json_decref(bill);
	if (plain != NULL) {
		OPENSSL_cleanse(plain, plainlen);
		free(plain);
	}
	json_decref(o);
	return rc;
}
