/*
 * payout_send.c - one call to WeChat Pay's merchant transfer API, and
 * what its answer means (payout_impl.h's struct payout_answer).
 *
 * Through --wxpay-api (egress: resolved once, the address policy, https
 * verified against the system trust store):
 *   POST /v3/fund-app/mch-transfer/transfer-bills      (create)
 *   GET  /v3/fund-app/mch-transfer/transfer-bills/out-bill-no/{no} (query)
 * each signed WECHATPAY2-SHA256-RSA2048 with the brand's merchant key
 * (the keyring blob "wxpay-key/<brand>", serial_no from the settings),
 * carrying Wechatpay-Serial: the brand's PUB_KEY_ID_.
 *
 * An answer is believed only when its Wechatpay-Signature verifies with
 * the brand's WeChat Pay public key, its Wechatpay-Serial names that
 * key and its timestamp is within five minutes (wxpay_verify_answer). A
 * 2xx, a refusal and a NOT_FOUND alike: an answer that does not verify
 * tells nothing (PAYOUT_OUT_RETRY), so whoever sits between sigild and
 * WeChat Pay can delay a payout but never settle one, neither as paid
 * (the money would be thought sent) nor as failed (its amount would go
 * back to the budget while WeChat Pay pays it).
 *
 * The key is read from the keyring for each call and wiped after
 * signing: a key replaced with `sigil payments key` is used from the
 * next call on, and no copy outlives the call.
 *
 * Owns the API's address. May call wxpay (ground), egress, keyring,
 * payout_settings.c, campaign (its words), webhook.c's URL parser, store
 * (reads), log, util.
 * Never logs a key, a signature or an openid.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <openssl/crypto.h>

#include "sigil/app.h"
#include "sigil/campaign.h"
#include "sigil/egress.h"
#include "sigil/keyring.h"
#include "sigil/log.h"
#include "sigil/payout.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "sigil/webhook.h"
#include "sigil/wxpay.h"

#include "payout_impl.h"

#define USER_AGENT	"sigil-payout/1"

static struct {
	int	tls, port;
	char	host[STORE_URL_MAX + 1];
	/* the path before /v3, no '/' last */
	char	prefix[STORE_URL_MAX + 1];
} api;

int
payout_api_set(const char *url)
{
	struct webhook_url u;
	size_t n;

	if (webhook_url_parse(url, &u) != 0 || strchr(u.path, '?') != NULL)
		return SIGIL_EINVAL;
	api.tls = u.tls;
	api.port = u.port;
	snprintf(api.host, sizeof api.host, "%s", u.host);
	snprintf(api.prefix, sizeof api.prefix, "%s", u.path);
	n = strlen(api.prefix);
	while (n > 0 && api.prefix[n - 1] == '/')
		api.prefix[--n] = '\0';
	return 0;
}

struct call {
	struct app	*app;
	payout_answer_fn done;
	void		*arg;
	EVP_PKEY	*pub;	/* the brand's WeChat Pay public key */
	char		 serial[PAYOUT_PUBKEY_ID_MAX + 1];
	char		 out_bill_no[PAYOUT_OUTNO_MAX + 1];
	struct payout_answer a;	/* a deferred answer (no call made) */
};

static void
call_end(struct call *c, const struct payout_answer *a)
{
	payout_answer_fn done = c->done;
	void *arg = c->arg;

	EVP_PKEY_free(c->pub);
	free(c);
	done(arg, a);
}

/* An answer made without a call: delivered on the loop's next turn. */
static void
deferred(evutil_socket_t fd, short what, void *arg)
{
	struct call *c = arg;
	struct payout_answer a = c->a;

	(void)fd;
	(void)what;
	call_end(c, &a);
}

static int
defer(struct call *c, int outcome, const char *code)
{
	struct timeval now = { 0, 0 };

	memset(&c->a, 0, sizeof c->a);
	c->a.outcome = outcome;
	c->a.status = -1;
	c->a.fen = -1;
	snprintf(c->a.code, sizeof c->a.code, "%s", code);
	if (event_base_once(c->app->base, -1, EV_TIMEOUT, deferred, c,
	    &now) != 0) {
		EVP_PKEY_free(c->pub);
		free(c);
		return SIGIL_ENOMEM;
	}
	return 0;
}

/* A verified bill's fields into a. */
static int
bill_of(const struct egress_answer *e, struct payout_answer *a)
{
	struct wxpay_bill b;

	if (wxpay_bill_parse(e->body, e->len, &b) != 0) {
		snprintf(a->code, sizeof a->code, "bad_answer");
		return PAYOUT_OUT_RETRY;
	}
	switch (wxpay_state_map(b.state)) {
	case WXPAY_ACCEPTED: a->state = PAYOUT_ACCEPTED; break;
	case WXPAY_PAID: a->state = PAYOUT_PAID; break;
	case WXPAY_FAILED: a->state = PAYOUT_FAILED; break;
	default:
		snprintf(a->code, sizeof a->code, "unknown_state");
		return PAYOUT_OUT_RETRY;
	}
	snprintf(a->wx_state, sizeof a->wx_state, "%s", b.state);
	snprintf(a->out_bill_no, sizeof a->out_bill_no, "%s", b.out_bill_no);
	snprintf(a->bill_no, sizeof a->bill_no, "%s", b.bill_no);
	snprintf(a->fail_reason, sizeof a->fail_reason, "%s", b.fail_reason);
	snprintf(a->package_info, sizeof a->package_info, "%s",
	    b.package_info);
	a->fen = b.amount;
	a->update_time = b.update_at > 0 ? b.update_at * 1000000LL : 0;
	OPENSSL_cleanse(&b, sizeof b);
	return PAYOUT_OUT_BILL;
}

static void
answered(const struct egress_answer *e, void *arg)
{
	struct call *c = arg;
	struct payout_answer a;
	struct wxpay_error err;

	memset(&a, 0, sizeof a);
	a.status = e->status;
	a.fen = -1;
	if (e->result != EGRESS_OK && e->result != EGRESS_STATUS) {
		a.outcome = PAYOUT_OUT_RETRY;
		snprintf(a.code, sizeof a.code, "%s",
		    egress_result_name(e->result));
		call_end(c, &a);
		return;
	}
	if (wxpay_verify_answer(c->pub, c->serial,
	    egress_answer_header(e, "Wechatpay-Serial"),
	    egress_answer_header(e, "Wechatpay-Timestamp"),
	    egress_answer_header(e, "Wechatpay-Nonce"),
	    egress_answer_header(e, "Wechatpay-Signature"),
	    e->body, e->len, sigil_now_us() / 1000000) != 0) {
		/* "unsigned": a proxy's 502, a gateway's page; else signed
		 * by someone we do not believe. Nothing is known either way. */
		a.outcome = PAYOUT_OUT_RETRY;
		snprintf(a.code, sizeof a.code, "%s", egress_answer_header(e,
		    "Wechatpay-Signature") == NULL ? "unsigned" :
		    "bad_signature");
		call_end(c, &a);
		return;
	}
	a.verified = 1;
	if (e->result == EGRESS_OK) {
		a.outcome = bill_of(e, &a);
		call_end(c, &a);
		return;
	}
	if (wxpay_error_parse(e->body, e->len, &err) != 0)
		snprintf(err.code, sizeof err.code, "status_%d", e->status);
	snprintf(a.code, sizeof a.code, "%s", err.code);
	switch (wxpay_error_fate(e->status, err.code)) {
	case WXPAY_FINAL:
		a.outcome = PAYOUT_OUT_REFUSED;
		break;
	case WXPAY_NOT_FOUND:
		a.outcome = PAYOUT_OUT_NOT_FOUND;
		break;
	default:
		/* WXPAY_AUTH too: our key or settings are wrong, and nothing
		 * moves until the brand fixes them. */
		a.outcome = PAYOUT_OUT_RETRY;
		break;
	}
	call_end(c, &a);
}

/*
 * A new call for brand_id with the settings and the WeChat Pay public
 * key; NULL when out of memory. *why names what is missing when the
 * call cannot be made (then c->pub may be NULL).
 */
static struct call *
call_new(struct app *app, uint32_t brand_id, const char *out_bill_no,
    payout_answer_fn done, void *arg, struct payout_settings *set,
    const char **why)
{
	struct call *c = calloc(1, sizeof *c);
	int rc;

	*why = NULL;
	if (c == NULL)
		return NULL;
	c->app = app;
	c->done = done;
	c->arg = arg;
	snprintf(c->out_bill_no, sizeof c->out_bill_no, "%s", out_bill_no);
	if ((rc = payout_settings_load(app, brand_id, set)) != 0) {
		*why = rc == SIGIL_ENOTFOUND ? "no_settings" : "bad_settings";
		return c;
	}
	snprintf(c->serial, sizeof c->serial, "%s", set->pub_key_id);
	if (wxpay_pubkey_load(set->public_key, strlen(set->public_key),
	    &c->pub) != 0)
		*why = "bad_public_key";
	return c;
}

/* The brand's merchant key from the keyring: 0 or why not. */
static const char *
merchant_key(struct app *app, uint32_t brand_id, EVP_PKEY **out)
{
	char kname[WXPAY_BLOB_NAME_MAX + 1], vname[WXPAY_BLOB_NAME_MAX + 1];
	uint8_t *pem = NULL;
	size_t len = 0;
	int rc;

	wxpay_blob_names(brand_id, kname, vname);
	if (keyring_blob_get(app->keyring, kname, &pem, &len) != 0)
		return "no_merchant_key";
	rc = wxpay_key_load((const char *)pem, len, out);
	keyring_blob_free(pem, len);
	return rc == 0 ? NULL : "bad_merchant_key";
}

/* Signs and sends method path (body for a POST) for c. */
static const char *
send_signed(struct call *c, uint32_t brand_id,
    const struct payout_settings *set, int method, const char *path,
    const char *body, size_t len)
{
	char auth[WXPAY_AUTH_MAX], nonce[WXPAY_NONCE_LEN + 1];
	EVP_PKEY *key = NULL;
	const char *why;
	int rc;

	if ((why = merchant_key(c->app, brand_id, &key)) != NULL)
		return why;
	rc = wxpay_nonce(nonce) != 0 ? SIGIL_ECRYPTO : wxpay_sign(key,
	    set->mchid, set->serial_no, method == EGRESS_POST ? "POST" : "GET",
	    path, body != NULL ? body : "", len, sigil_now_us() / 1000000,
	    nonce, auth, sizeof auth);
	EVP_PKEY_free(key);
	if (rc != 0)
		return "sign_failed";
	{
		const char *headers[] = { "Authorization", auth,
		    "Wechatpay-Serial", set->pub_key_id,
		    "Accept", "application/json", "User-Agent", USER_AGENT,
		    NULL };

		if (egress_call(c->app->egress, method, api.tls, api.host,
		    api.port, path, headers, body, len, PAYOUT_TIMEOUT_S,
		    answered, c, NULL) != 0)
			return "send_failed";
	}
	return NULL;
}

/*
 * The campaign's own remark and activity name (its "cash" settings),
 * when it has them, over the brand's defaults. A campaign edited
 * between two tries changes the request: WeChat Pay then refuses the
 * second as a different one under the same out_bill_no, and the
 * dispatcher's confirming query finds the first bill (payout.c).
 */
static void
campaign_words(struct app *app, const struct payout *p,
    struct wxpay_transfer *t)
{
	const struct campaign_rules *const *v;
	size_t n = 0;

	v = campaign_rules_of(app, p->brand_id, &n);
	for (size_t i = 0; v != NULL && i < n; i++)
		if (v[i]->id == p->campaign_id) {
			if (v[i]->cashcfg.remark[0] != '\0')
				t->remark = v[i]->cashcfg.remark;
			if (v[i]->cashcfg.activity[0] != '\0')
				t->activity = v[i]->cashcfg.activity;
			return;
		}
}

int
payout_send_create(struct app *app, const struct payout *p,
    payout_answer_fn done, void *arg)
{
	struct payout_settings set;
	struct wxpay_transfer t = { 0 };
	struct call *c;
	char path[STORE_URL_MAX + WXPAY_PATH_MAX], notify[STORE_URL_MAX + 64];
	char *body = NULL;
	size_t len = 0;
	const char *why;
	int rc;

	if ((c = call_new(app, p->brand_id, p->out_bill_no, done, arg, &set,
	    &why)) == NULL)
		return SIGIL_ENOMEM;
	if (why != NULL)
		return defer(c, PAYOUT_OUT_RETRY, why);
	/* Erased (or never had one): nobody to pay, and no retry helps. */
	if (p->openid[0] == '\0')
		return defer(c, PAYOUT_OUT_REFUSED, "no_openid");
	t.appid = p->appid[0] ? p->appid : set.appid;
	t.out_bill_no = p->out_bill_no;
	t.scene_id = set.scene_id;
	t.openid = p->openid;
	t.fen = p->fen;
	t.remark = set.remark;
	t.activity = set.activity;
	t.reward = set.reward;
	campaign_words(app, p, &t);
	if (app->base_url != NULL) {
		/* Where WeChat Pay tells the outcome (wxpay_notify.c). */
		size_t bl = strlen(app->base_url);

		while (bl > 0 && app->base_url[bl - 1] == '/')
			bl--;
		rc = snprintf(notify, sizeof notify, "%.*s/wxpay/notify/%u",
		    (int)bl, app->base_url, p->brand_id);
		if (rc > 0 && (size_t)rc < sizeof notify)
			t.notify_url = notify;
	}
	if ((rc = wxpay_transfer_body(&t, &body, &len)) != 0)
		return defer(c, rc == SIGIL_ENOMEM ? PAYOUT_OUT_RETRY :
		    PAYOUT_OUT_REFUSED, "bad_request");
	snprintf(path, sizeof path, "%s%s", api.prefix, WXPAY_PATH_CREATE);
	why = send_signed(c, p->brand_id, &set, EGRESS_POST, path, body, len);
	OPENSSL_cleanse(body, len);
	free(body);
	return why == NULL ? 0 : defer(c, PAYOUT_OUT_RETRY, why);
}

int
payout_send_query(struct app *app, uint32_t brand_id,
    const char *out_bill_no, payout_answer_fn done, void *arg)
{
	struct payout_settings set;
	struct call *c;
	char qpath[WXPAY_PATH_MAX], path[STORE_URL_MAX + WXPAY_PATH_MAX];
	const char *why;

	if ((c = call_new(app, brand_id, out_bill_no, done, arg, &set,
	    &why)) == NULL)
		return SIGIL_ENOMEM;
	if (why != NULL)
		return defer(c, PAYOUT_OUT_RETRY, why);
	if (wxpay_query_path(out_bill_no, qpath) != 0)
		return defer(c, PAYOUT_OUT_REFUSED, "bad_out_bill_no");
	snprintf(path, sizeof path, "%s%s", api.prefix, qpath);
	why = send_signed(c, brand_id, &set, EGRESS_GET, path, NULL, 0);
	return why == NULL ? 0 : defer(c, PAYOUT_OUT_RETRY, why);
}

int
payout_apiv3_key(struct app *app, uint32_t brand_id, uint8_t key[32])
{
	char kname[WXPAY_BLOB_NAME_MAX + 1], vname[WXPAY_BLOB_NAME_MAX + 1];
	uint8_t *v = NULL;
	size_t len = 0;
	int rc;

	wxpay_blob_names(brand_id, kname, vname);
	if ((rc = keyring_blob_get(app->keyring, vname, &v, &len)) != 0)
		return rc;
	if (len != WXPAY_APIV3_KEY_LEN) {
		keyring_blob_free(v, len);
		return SIGIL_EINVAL;
	}
	memcpy(key, v, WXPAY_APIV3_KEY_LEN);
	keyring_blob_free(v, len);
	return 0;
}

int
payout_out_bill_parse(const char *s, uint32_t brand_id, uint64_t *claim_id)
{
	char again[PAYOUT_OUTNO_MAX + 1];
	unsigned long long claim;
	unsigned brand;
	int n = 0;

	if (s == NULL || sscanf(s, "SG%uC%llu%n", &brand, &claim, &n) != 2 ||
	    s[n] != '\0' || brand != brand_id)
		return SIGIL_EINVAL;
	/* Exactly the form payout_out_bill_no makes (no "+", no zeros). */
	payout_out_bill_no(brand_id, claim, again);
	if (strcmp(again, s) != 0)
		return SIGIL_EINVAL;
	*claim_id = claim;
	return 0;
}
