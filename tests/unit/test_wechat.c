/*
 * test_wechat.c - WeChat login's pure parts and its store: the OAuth
 * state (signed over its fields and the path back, expiring), the
 * authorize URL, masking, the User-Agent test; and in a scratch store a
 * WeChat login found by unionid or openid, a phone customer's device
 * taking an identity, two customers made one or kept apart, the profile
 * dropped alone, a state spent once, an AppID one brand's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "storefix.h"

#include "sigil/app.h"
#include "sigil/identity.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "sigil/wechat.h"

#define OA	"wx1a2b3c4d5e6f7081"
#define MP	"wx99aa88bb77cc6655"

struct fixture {
	char		 dir[64];
	struct app	 app;
	struct wechat	 wx;
	uint32_t	 brand, other;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL || storefix_open(f->dir, sizeof f->dir, "wechat",
	    STORE_CREATE | STORE_NOSYNC, &f->app.store) != 0)
		return -1;
	memset(f->wx.hash_key, 1, 32);
	memset(f->wx.enc_key, 2, 32);
	memset(f->wx.secret_key, 3, 32);
	memset(f->wx.state_key, 4, 32);
	strcpy(f->wx.open, "https://open.weixin.qq.com");
	f->app.wechat = &f->wx;
	f->brand = add_brand(f->app.store, "Acme Tea");
	f->other = add_brand(f->app.store, "Other Tea");
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	storefix_close(f->dir, f->app.store);
	free(f);
	return 0;
}

static void
test_state(void **state)
{
	struct fixture *f = *state;
	struct wechat_state ws;
	char s[WECHAT_STATE_LEN + 1];
	int64_t now = sigil_now_us();

	assert_int_equal(wechat_state_make(&f->app, 7, 0x1234, WECHAT_BASE,
	    "/S/ABC?x=1", s), 0);
	assert_int_equal(strlen(s), WECHAT_STATE_LEN);
	assert_true(strspn(s, "0123456789abcdef") == WECHAT_STATE_LEN);
	assert_int_equal(wechat_state_check(&f->app, s, "/S/ABC?x=1", now,
	    &ws), 0);
	assert_int_equal(ws.brand_id, 7);
	assert_int_equal(ws.device, 0x1234);
	assert_int_equal(ws.scope, WECHAT_BASE);
	assert_true(ws.expires > now &&
	    ws.expires <= now + (int64_t)WECHAT_STATE_TTL_S * 1000000 + 1000000);
	/* another path, one digit changed, cut short, expired */
	assert_int_equal(wechat_state_check(&f->app, s, "/S/ABD?x=1", now,
	    &ws), SIGIL_EFORGED);
	s[40] = s[40] == '0' ? '1' : '0';
	assert_int_equal(wechat_state_check(&f->app, s, "/S/ABC?x=1", now,
	    &ws), SIGIL_EFORGED);
	s[40] = s[40] == '0' ? '1' : '0';
	s[WECHAT_STATE_LEN - 1] = '\0';
	assert_int_equal(wechat_state_check(&f->app, s, "/S/ABC?x=1", now,
	    &ws), SIGIL_EFORGED);
	assert_int_equal(wechat_state_make(&f->app, 7, 9, WECHAT_USERINFO,
	    "/member", s), 0);
	assert_int_equal(wechat_state_check(&f->app, s, "/member",
	    now + (int64_t)WECHAT_STATE_TTL_S * 1000000 + 2000000, &ws),
	    SIGIL_ESTATE);
	/* another key: nothing made under it passes */
	memset(f->wx.state_key, 5, 32);
	assert_int_equal(wechat_state_check(&f->app, s, "/member", now, &ws),
	    SIGIL_EFORGED);
}

static void
test_url_mask_ua(void **state)
{
	struct fixture *f = *state;
	char url[2048], m[32];

	assert_int_equal(wechat_authorize_url(&f->app, OA,
	    "https://acme.example/", "/S/AB?c=d e", WECHAT_BASE, "ab12", url,
	    sizeof url), 0);
	assert_string_equal(url, "https://open.weixin.qq.com/connect/oauth2/"
	    "authorize?appid=" OA "&redirect_uri=https%3A%2F%2Facme.example"
	    "%2Fwx%2Foauth%3Fto%3D%252FS%252FAB%253Fc%253Dd%2520e"
	    "&response_type=code&scope=snsapi_base&state=ab12"
	    "#wechat_redirect");
	assert_int_equal(wechat_authorize_url(&f->app, OA, "https://a.b",
	    "/x", WECHAT_USERINFO, "s", url, 40), SIGIL_EFULL);
	identity_mask("oLVPpjqs9BhvzwPj5A-vTYAX3GLc", m, sizeof m);
	assert_string_equal(m, "oLVP****3GLc");
	identity_mask("short", m, sizeof m);
	assert_string_equal(m, "****");
	assert_true(wechat_user_agent("Mozilla/5.0 ... MicroMessenger/8.0.47"));
	assert_false(wechat_user_agent("Mozilla/5.0 Safari/604.1"));
	assert_false(wechat_user_agent(NULL));
}

/* A login of (kind, appid, openid, unionid) on device: the customer. */
static uint64_t
login(struct fixture *f, int kind, const char *appid, const char *openid,
    const char *unionid, const char *nick, uint64_t device,
    struct wechat_link *out)
{
	struct wechat_link l;

	assert_int_equal(identity_wechat_prepare(&f->app, f->brand, kind,
	    appid, openid, unionid, nick, NULL, device, &l), 0);
	assert_int_equal(store_wechat_link(f->app.store, &l), 0);
	if (out != NULL)
		*out = l;
	return l.cu.id;
}

static int
count_one(void *arg, const struct ident *i)
{
	(void)i;
	(*(int *)arg)++;
	return 0;
}

static int
idents(struct fixture *f, uint64_t id)
{
	int n = 0;

	assert_int_equal(store_idents_of(f->app.store, f->brand, id,
	    count_one, &n), 0);
	return n;
}

static void
test_login(void **state)
{
	struct fixture *f = *state;
	struct wechat_link l;
	struct customer cu;
	uint64_t a, b, dev, got;
	uint8_t h[32];

	a = login(f, IDENT_WECHAT_OA, OA, "oAlice0000000000000000000001",
	    "uAlice", NULL, 11, &l);
	assert_true(l.created);
	assert_int_equal(l.bound, 2);
	assert_int_equal(idents(f, a), 2);
	assert_int_equal(store_customer_get(f->app.store, f->brand, a, &cu), 0);
	assert_int_equal(cu.phone_ct_len, 0);
	assert_int_equal(store_device_customer(f->app.store, f->brand, 11,
	    &got), 0);
	assert_int_equal(got, a);
	/* the same openid again: the same customer, nothing new */
	assert_int_equal(login(f, IDENT_WECHAT_OA, OA,
	    "oAlice0000000000000000000001", NULL, NULL, 12, &l), a);
	assert_false(l.created);
	assert_int_equal(l.bound, 0);
	/* the mini-program's openid, found by the unionid */
	assert_int_equal(login(f, IDENT_WECHAT_MP, MP,
	    "oAliceMP00000000000000000001", "uAlice", NULL, 13, &l), a);
	assert_int_equal(idents(f, a), 3);
	identity_hash(&f->app, "", "uAlice", h);
	assert_int_equal(store_ident_find(f->app.store, f->brand,
	    IDENT_WECHAT_UNION, h, &got), 0);
	assert_int_equal(got, a);
	/* another brand knows nothing of her */
	assert_int_equal(store_ident_find(f->app.store, f->other,
	    IDENT_WECHAT_UNION, h, &got), SIGIL_ENOTFOUND);
	/* bob on alice's device: a new customer, the device goes over */
	b = login(f, IDENT_WECHAT_OA, OA, "oBob00000000000000000000001",
	    NULL, NULL, 11, &l);
	assert_true(b != a && l.created);
	assert_int_equal(l.from, a);
	assert_int_equal(l.merged, 0);
	/* a phone customer's device takes a new WeChat identity (no
	 * merge: nobody held it) */
	{
		uint8_t hash[32], ct[64];
		struct customer p;

		memset(hash, 7, sizeof hash);
		memset(ct, 6, sizeof ct);
		assert_int_equal(store_customer_by_phone(f->app.store, f->brand,
		    hash, ct, sizeof ct, &p, NULL), 0);
		dev = 21;
		assert_int_equal(store_device_link(f->app.store, f->brand, dev,
		    p.id, sigil_now_us()), 0);
		assert_int_equal(login(f, IDENT_WECHAT_OA, OA,
		    "oCarol000000000000000000001", NULL, NULL, dev, &l), p.id);
		assert_false(l.created);
		assert_int_equal(l.merged, 0);
		assert_int_equal(idents(f, p.id), 1);
	}
	/* erasure: her identities go; the openid is a stranger again */
	assert_int_equal(store_customer_erase(f->app.store, f->brand, a,
	    sigil_now_us()), 0);
	assert_int_equal(idents(f, a), 0);
	assert_int_equal(store_ident_find(f->app.store, f->brand,
	    IDENT_WECHAT_UNION, h, &got), SIGIL_ENOTFOUND);
	assert_true(login(f, IDENT_WECHAT_OA, OA,
	    "oAlice0000000000000000000001", NULL, NULL, 14, NULL) != a);
}

static void
test_merge(void **state)
{
	struct fixture *f = *state;
	struct wechat_link l;
	struct customer p, cu;
	uint8_t hash[32], ct[64];
	uint64_t w, w2, got;

	/* W: a WeChat customer; P: a phone customer on device 31 */
	w = login(f, IDENT_WECHAT_OA, OA, "oGina0000000000000000000001",
	    "uGina", NULL, 30, NULL);
	memset(hash, 9, sizeof hash);
	memset(ct, 8, sizeof ct);
	assert_int_equal(store_customer_by_phone(f->app.store, f->brand, hash,
	    ct, sizeof ct, &p, NULL), 0);
	assert_int_equal(store_device_link(f->app.store, f->brand, 31, p.id,
	    sigil_now_us()), 0);
	/* gina's mini-program login on P's device: one customer, P's */
	got = login(f, IDENT_WECHAT_MP, MP, "oGinaMP000000000000000000001",
	    "uGina", NULL, 31, &l);
	assert_int_equal(got, p.id);
	assert_int_equal(l.merged, w);
	assert_int_equal(idents(f, p.id), 3);
	assert_int_equal(idents(f, w), 0);
	assert_int_equal(store_customer_resolve(f->app.store, f->brand, w,
	    &cu), 0);
	assert_int_equal(cu.id, p.id);
	/* two openids of one app never merge: hank's device, ivan's login */
	w = login(f, IDENT_WECHAT_OA, OA, "oHank0000000000000000000001",
	    NULL, NULL, 40, NULL);
	w2 = login(f, IDENT_WECHAT_OA, OA, "oIvan0000000000000000000001",
	    NULL, NULL, 41, NULL);
	assert_int_equal(login(f, IDENT_WECHAT_OA, OA,
	    "oIvan0000000000000000000001", NULL, NULL, 40, &l), w2);
	assert_int_equal(l.merged, 0);
	assert_int_equal(l.from, w);
	assert_int_equal(store_customers_merge(f->app.store, f->brand, w, w2,
	    sigil_now_us(), &got), SIGIL_ECONFLICT);
	assert_int_equal(idents(f, w), 1);
	assert_int_equal(idents(f, w2), 1);
}

static int
prof_one(void *arg, const struct ident *i)
{
	*(size_t *)arg += i->prof_len;
	return 0;
}

static void
test_profile_state_config(void **state)
{
	struct fixture *f = *state;
	struct wechat_config c = { 0 }, got;
	struct consent_record r = { 0 };
	uint8_t nonce[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	int64_t now = sigil_now_us();
	size_t prof = 0;
	uint64_t id;
	uint32_t bid;
	int kind;

	id = login(f, IDENT_WECHAT_OA, OA, "oJune0000000000000000000001",
	    NULL, "June", 50, NULL);
	assert_int_equal(store_idents_of(f->app.store, f->brand, id, prof_one,
	    &prof), 0);
	assert_true(prof > 0);
	/* a login without a profile keeps the one kept */
	login(f, IDENT_WECHAT_OA, OA, "oJune0000000000000000000001", NULL,
	    NULL, 51, NULL);
	prof = 0;
	store_idents_of(f->app.store, f->brand, id, prof_one, &prof);
	assert_true(prof > 0);
	/* withdrawing profile consent drops it, the identity stays */
	r.brand_id = f->brand;
	r.customer_id = id;
	r.at = now;
	r.withdraw = 4;
	r.channel = 4;
	r.lang = 1;
	assert_int_equal(store_consent_record(f->app.store, &r), 0);
	prof = 0;
	store_idents_of(f->app.store, f->brand, id, prof_one, &prof);
	assert_int_equal(prof, 0);
	assert_int_equal(idents(f, id), 1);
	/* a state spends once */
	assert_int_equal(store_wechat_state_spend(f->app.store, f->brand,
	    now + 1000, nonce, now), 0);
	assert_int_equal(store_wechat_state_spend(f->app.store, f->brand,
	    now + 1000, nonce, now), SIGIL_EEXIST);
	nonce[0] = 9;
	assert_int_equal(store_wechat_state_spend(f->app.store, f->brand,
	    now + 1000, nonce, now), 0);
	/* an AppID is one brand's */
	c.brand_id = f->brand;
	strcpy(c.oa.appid, OA);
	c.oa.secret_ct_len = 4;
	strcpy(c.mp.appid, MP);
	assert_int_equal(store_wechat_config_put(f->app.store, &c), 0);
	assert_int_equal(store_wechat_config_get(f->app.store, f->brand, &got),
	    0);
	assert_string_equal(got.oa.appid, OA);
	assert_int_equal(got.oa.secret_ct_len, 4);
	assert_int_equal(store_wechat_appid(f->app.store, MP, &bid, &kind), 0);
	assert_int_equal(bid, f->brand);
	assert_int_equal(kind, IDENT_WECHAT_MP);
	c.brand_id = f->other;
	c.mp.appid[0] = '\0';
	assert_int_equal(store_wechat_config_put(f->app.store, &c),
	    SIGIL_EEXIST);
	strcpy(c.mp.appid, OA);
	assert_int_equal(store_wechat_config_put(f->app.store, &c),
	    SIGIL_EINVAL);
	/* the first brand lets MP go: the other may take it */
	c.brand_id = f->brand;
	c.mp.appid[0] = '\0';
	assert_int_equal(store_wechat_config_put(f->app.store, &c), 0);
	assert_int_equal(store_wechat_appid(f->app.store, MP, &bid, &kind),
	    SIGIL_ENOTFOUND);
	c.brand_id = f->other;
	c.oa.appid[0] = '\0';
	strcpy(c.mp.appid, MP);
	assert_int_equal(store_wechat_config_put(f->app.store, &c), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_url_mask_ua, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_login, setup, teardown),
		cmocka_unit_test_setup_teardown(test_merge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_profile_state_config,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
