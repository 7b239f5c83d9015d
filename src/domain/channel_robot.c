/*
 * channel_robot.c - the WeCom (企业微信) group robot and the DingTalk
 * (钉钉) custom robot: one JSON POST each to the robot's webhook URL,
 * the tenant's own input (checked with webhook_target_check when the
 * rule is saved and by egress's policy on every address at each send).
 *
 * WeCom: POST {"msgtype": "markdown", "markdown": {"content": text}}
 * (content at most 4096 bytes) to https://qyapi.weixin.qq.com/cgi-bin/
 * webhook/send?key=...; the answer {"errcode": 0, "errmsg": "ok"}.
 * errcode 45009 (over the robot's rate, 20 a minute) is retried, any
 * other non-zero code is a permanent failure.
 *
 * DingTalk: POST {"msgtype": "markdown", "markdown": {"title", "text"}}
 * to https://oapi.dingtalk.com/robot/send?access_token=...; with the
 * 加签 security setting the URL also carries &timestamp=<ms>&sign=<s>,
 * s = urlencode(base64(HMAC-SHA256(secret, timestamp + "\n" + secret)))
 * and the timestamp within an hour of DingTalk's clock. errcode 0 is
 * delivered, 130101 (sending too fast) is retried, 310000 (signature,
 * keyword or IP refused) and the rest fail.
 *
 * HTTP answers: 429 and 5xx are retried, other non-2xx fail; no answer
 * or no address is retried; an address the policy refuses fails.
 *
 * May call egress, store (reads), keyring, notify.c's secret, log.
 * Never logs a URL (it holds the robot's key) nor a secret.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sigil/app.h"
#include "sigil/egress.h"
#include "sigil/log.h"
#include "sigil/notify.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "sigil/webhook.h"

#define WECOM_CONTENT_MAX	4096
#define ROBOT_PATH_MAX		(STORE_URL_MAX + 64 + NOTIFY_DING_SIGN_MAX)

enum robot_kind { ROBOT_WECOM, ROBOT_DINGTALK };

struct robot_call {
	int		kind;
	notify_done_fn	done;
	void		*arg;
};

int
notify_dingtalk_sign(const char *secret, int64_t timestamp_ms,
    char out[NOTIFY_DING_SIGN_MAX + 1])
{
	char msg[32 + NOTIFY_DING_SECRET_MAX];
	unsigned char mac[32], b64[48];
	unsigned int maclen = 0;
	int n, m;
	size_t o = 0;

	if (secret == NULL || strlen(secret) > NOTIFY_DING_SECRET_MAX ||
	    timestamp_ms < 0)
		return SIGIL_EINVAL;
	m = snprintf(msg, sizeof msg, "%lld\n%s", (long long)timestamp_ms,
	    secret);
	if (m < 0 || (size_t)m >= sizeof msg)
		return SIGIL_EINVAL;
	if (HMAC(EVP_sha256(), secret, (int)strlen(secret),
	    (const unsigned char *)msg, (size_t)m, mac, &maclen) == NULL ||
	    maclen != sizeof mac) {
		OPENSSL_cleanse(msg, sizeof msg);
		return SIGIL_ECRYPTO;
	}
	OPENSSL_cleanse(msg, sizeof msg);
	n = EVP_EncodeBlock(b64, mac, sizeof mac);	/* 44 characters */
	for (int i = 0; i < n; i++) {
		unsigned char c = b64[i];

		if (c == '+' || c == '/' || c == '=') {
			snprintf(out + o, 4, "%%%02X", c);
			o += 3;
		} else
			out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

static void
robot_answered(int result, int status, const char *body, size_t len,
    void *arg)
{
	struct robot_call *rc = arg;
	notify_done_fn done = rc->done;
	void *darg = rc->arg;
	json_t *j, *code;
	long long errcode = -1;
	char detail[160];

	free(rc);
	if (result == EGRESS_REFUSED) {
		done(darg, 0, 0, -1, "address refused by the egress policy");
		return;
	}
	if (result == EGRESS_NO_ADDRESS || result == EGRESS_NO_ANSWER) {
		done(darg, 0, 1, -1, egress_result_name(result));
		return;
	}
	if (result == EGRESS_STATUS) {
		snprintf(detail, sizeof detail, "HTTP %d", status);
		done(darg, 0, status == 429 || status >= 500, status, detail);
		return;
	}
	j = json_loadb(body, len, 0, NULL);
	code = json_object_get(j, "errcode");
	if (json_is_integer(code))
		errcode = json_integer_value(code);
	if (errcode == 0) {
		json_decref(j);
		done(darg, 1, 0, 0, "ok");
		return;
	}
	snprintf(detail, sizeof detail, "errcode %lld %.100s", errcode,
	    json_is_string(json_object_get(j, "errmsg")) ?
	    json_string_value(json_object_get(j, "errmsg")) : "");
	json_decref(j);
	/* WeCom 45009 and DingTalk 130101: over the robot's rate. */
	done(darg, 0, errcode == 45009 || errcode == 130101,
	    errcode < 0 ? -1 : (int)errcode, detail);
}

/* Copies at most max bytes of s, never cutting a UTF-8 sequence. */
static char *
utf8_cut(const char *s, size_t max)
{
	size_t n = strlen(s);
	char *o;

	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	if ((o = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(o, s, n);
	o[n] = '\0';
	return o;
}

static int
robot_send(struct app *app, int kind, uint32_t brand_id, const char *payload,
    notify_done_fn done, void *arg)
{
	static const char *const headers[] = { "Accept", "application/json",
	    NULL };
	struct notify_rule r;
	struct webhook_url u;
	struct robot_call *call;
	char path[ROBOT_PATH_MAX], sign[NOTIFY_DING_SIGN_MAX + 1];
	char secret[NOTIFY_DING_SECRET_MAX + 1];
	const char *url, *title, *md;
	json_t *p, *body;
	char *text, *s;
	json_int_t rule;
	int rc;

	if ((p = json_loads(payload, 0, NULL)) == NULL)
		return SIGIL_EINVAL;
	if (json_unpack(p, "{s:I,s:s,s:s}", "rule", &rule, "title", &title,
	    "markdown", &md) != 0 || rule <= 0 || rule > UINT32_MAX) {
		json_decref(p);
		return SIGIL_EINVAL;
	}
	if ((rc = store_notify_rule_get(app->store, brand_id, (uint32_t)rule,
	    &r)) != 0) {
		json_decref(p);
		return rc == SIGIL_ENOTFOUND ? SIGIL_ENOTFOUND : rc;
	}
	url = kind == ROBOT_WECOM ? r.wecom_url : r.dingtalk_url;
	if (url[0] == '\0' || webhook_url_parse(url, &u) != 0) {
		json_decref(p);
		return SIGIL_ENOTFOUND;
	}
	snprintf(path, sizeof path, "%s", u.path);
	if (kind == ROBOT_DINGTALK && r.ding_ct_len > 0) {
		int64_t ts = sigil_now_us() / 1000;

		rc = notify_secret_open(app->keyring, &r, secret);
		if (rc == 0)
			rc = notify_dingtalk_sign(secret, ts, sign);
		OPENSSL_cleanse(secret, sizeof secret);
		if (rc != 0) {
			json_decref(p);
			return rc;
		}
		snprintf(path + strlen(path), sizeof path - strlen(path),
		    "%stimestamp=%lld&sign=%s", strchr(path, '?') ? "&" : "?",
		    (long long)ts, sign);
	}
	if ((text = utf8_cut(md, WECOM_CONTENT_MAX)) == NULL) {
		json_decref(p);
		return SIGIL_ENOMEM;
	}
	if (kind == ROBOT_WECOM)
		body = json_pack("{s:s,s:{s:s}}", "msgtype", "markdown",
		    "markdown", "content", text);
	else
		body = json_pack("{s:s,s:{s:s,s:s}}", "msgtype", "markdown",
		    "markdown", "title", title, "text", text);
	free(text);
	json_decref(p);
	if (body == NULL || (s = json_dumps(body, JSON_COMPACT)) == NULL) {
		json_decref(body);
		return SIGIL_ENOMEM;
	}
	json_decref(body);
	if ((call = calloc(1, sizeof *call)) == NULL) {
		free(s);
		return SIGIL_ENOMEM;
	}
	call->kind = kind;
	call->done = done;
	call->arg = arg;
	rc = egress_post_answer(app->egress, u.tls, u.host, u.port, path,
	    headers, s, strlen(s), NOTIFY_TIMEOUT_S, robot_answered, call, NULL);
	free(s);
	if (rc != 0)
		free(call);
	return rc;
}

int
notify_wecom_send(struct app *app, uint32_t brand_id, const char *payload,
    notify_done_fn done, void *arg)
{
	return robot_send(app, ROBOT_WECOM, brand_id, payload, done, arg);
}

int
notify_dingtalk_send(struct app *app, uint32_t brand_id,
    const char *payload, notify_done_fn done, void *arg)
{
	return robot_send(app, ROBOT_DINGTALK, brand_id, payload, done, arg);
}
