/*
 * test_audit.c - the audit trail in a real store, and its deny-list:
 * entries kept per brand and read newest first from any point; an armed
 * entry committed with the write it rides on, and never without it (a
 * write that fails records nothing, a brand's other writes carry
 * nothing once disarmed); entries rewritten in place (outcome, target);
 * bad entries refused; and no password, token secret, PIN, key, phone,
 * email, openid or address survives audit_detail_set at any depth.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "storefix.h"

#include "sigil/audit.h"
#include "sigil/store.h"
#include "sigil/util.h"

struct fixture {
	char		 dir[64];
	struct store	*st;
	uint32_t	 brand, other;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(storefix_open(f->dir, sizeof f->dir, "audit",
	    STORE_CREATE | STORE_NOSYNC, &f->st), 0);
	f->brand = add_brand(f->st, "acme");
	f->other = add_brand(f->st, "other");
	*state = f;
	return 0;
}

STOREFIX_TEARDOWN(struct fixture)

static struct audit_entry
entry(uint32_t brand, const char *action, int kind, const char *actor)
{
	struct audit_entry e;

	memset(&e, 0, sizeof e);
	e.brand_id = brand;
	e.actor_kind = kind;
	e.role = 1;
	snprintf(e.actor, sizeof e.actor, "%s", actor);
	snprintf(e.action, sizeof e.action, "%s", action);
	snprintf(e.ip, sizeof e.ip, "127.0.0.1");
	return e;
}

struct seen {
	struct audit_entry	v[64];
	size_t			n, stop_at;
};

static int
collect(void *arg, const struct audit_entry *e)
{
	struct seen *s = arg;

	if (s->n == 64)
		return 1;
	s->v[s->n++] = *e;
	return s->stop_at != 0 && s->n == s->stop_at;
}

static void
test_add_and_read(void **state)
{
	struct fixture *f = *state;
	struct audit_entry e;
	struct seen s = { .n = 0 };
	uint64_t seqs[5];

	for (int i = 0; i < 5; i++) {
		char a[16];

		snprintf(a, sizeof a, "op_%d", i);
		e = entry(i == 2 ? f->other : f->brand, a, AUDIT_ACTOR_USER,
		    "3");
		if (i == 4) {
			snprintf(e.target_type, sizeof e.target_type,
			    "campaign");
			snprintf(e.target_id, sizeof e.target_id, "7");
			snprintf(e.detail, sizeof e.detail,
			    "{\"paused\":{\"before\":false,\"after\":true}}");
		}
		assert_int_equal(store_audit_add(f->st, &e), 0);
		assert_true(e.seq > 0 && e.at > 0);
		seqs[i] = e.seq;
	}
	assert_true(seqs[0] < seqs[1] && seqs[3] < seqs[4]);

	/* Newest first, only this brand's. */
	assert_int_equal(store_audit_each(f->st, f->brand, 0, collect, &s), 0);
	assert_int_equal(s.n, 4);
	assert_string_equal(s.v[0].action, "op_4");
	assert_string_equal(s.v[0].target_type, "campaign");
	assert_string_equal(s.v[0].target_id, "7");
	assert_string_equal(s.v[0].detail,
	    "{\"paused\":{\"before\":false,\"after\":true}}");
	assert_string_equal(s.v[0].actor, "3");
	assert_int_equal(s.v[0].actor_kind, AUDIT_ACTOR_USER);
	assert_string_equal(s.v[0].ip, "127.0.0.1");
	assert_string_equal(s.v[1].action, "op_3");
	assert_string_equal(s.v[2].action, "op_1");
	assert_string_equal(s.v[3].action, "op_0");

	/* From a point: strictly below it; a callback's stop is returned. */
	s.n = 0;
	assert_int_equal(store_audit_each(f->st, f->brand, seqs[3], collect,
	    &s), 0);
	assert_int_equal(s.n, 2);
	assert_true(s.v[0].seq == seqs[1]);
	s.n = 0;
	s.stop_at = 1;
	assert_int_equal(store_audit_each(f->st, f->brand, 0, collect, &s), 1);
	assert_int_equal(s.n, 1);

	/* The other brand sees its one; a brand with none, nothing. */
	s.n = 0;
	s.stop_at = 0;
	assert_int_equal(store_audit_each(f->st, f->other, 0, collect, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.v[0].action, "op_2");
	s.n = 0;
	assert_int_equal(store_audit_each(f->st, 999, 0, collect, &s), 0);
	assert_int_equal(s.n, 0);

	/* Rewritten in place. */
	e = s.v[0];
	s.n = 0;
	assert_int_equal(store_audit_each(f->st, f->brand, 0, collect, &s), 0);
	e = s.v[0];
	e.outcome = SIGIL_EIO;
	snprintf(e.target_id, sizeof e.target_id, "8");
	assert_int_equal(store_audit_update(f->st, &e), 0);
	s.n = 0;
	assert_int_equal(store_audit_each(f->st, f->brand, 0, collect, &s), 0);
	assert_int_equal(s.n, 4);
	assert_int_equal(s.v[0].outcome, SIGIL_EIO);
	assert_string_equal(s.v[0].target_id, "8");
	e.seq = 999999;
	assert_int_equal(store_audit_update(f->st, &e), SIGIL_ENOTFOUND);
}

static void
test_refused(void **state)
{
	struct fixture *f = *state;
	struct audit_entry e;

	e = entry(0, "x", AUDIT_ACTOR_USER, "1");
	assert_int_equal(store_audit_add(f->st, &e), SIGIL_EINVAL);
	e = entry(f->brand, "", AUDIT_ACTOR_USER, "1");
	assert_int_equal(store_audit_add(f->st, &e), SIGIL_EINVAL);
	e = entry(f->brand, "x", 0, "1");
	assert_int_equal(store_audit_add(f->st, &e), SIGIL_EINVAL);
	e = entry(f->brand, "x", 9, "1");
	assert_int_equal(store_audit_add(f->st, &e), SIGIL_EINVAL);
	e = entry(f->brand, "x", AUDIT_ACTOR_USER, "");
	assert_int_equal(store_audit_add(f->st, &e), SIGIL_EINVAL);
	e = entry(f->brand, "x", AUDIT_ACTOR_USER, "a\nb");
	assert_int_equal(store_audit_add(f->st, &e), SIGIL_EINVAL);
	e = entry(f->brand, "x", AUDIT_ACTOR_USER, "1");
	snprintf(e.detail, sizeof e.detail, "[1,2]");
	assert_int_equal(store_audit_add(f->st, &e), SIGIL_EINVAL);
	snprintf(e.detail, sizeof e.detail, "{\"a\":");
	assert_int_equal(store_audit_add(f->st, &e), SIGIL_EINVAL);
	e = entry(12345, "x", AUDIT_ACTOR_USER, "1");
	assert_int_equal(store_audit_add(f->st, &e), SIGIL_ENOTFOUND);
}

static size_t
count(struct store *st, uint32_t brand)
{
	struct seen s = { .n = 0 };

	assert_int_equal(store_audit_each(st, brand, 0, collect, &s), 0);
	return s.n;
}

static void
test_armed(void **state)
{
	struct fixture *f = *state;
	struct audit_entry e = entry(f->brand, "product_add", AUDIT_ACTOR_CLI,
	    "alice"), out;
	struct product p = { 0 }, dup;
	size_t n0 = count(f->st, f->brand);

	/* Rides on the next write, and only on that one. */
	p.brand_id = f->brand;
	snprintf(p.sku, sizeof p.sku, "A1");
	snprintf(p.name, sizeof p.name, "A");
	p.max_scanners = 5;
	store_audit_arm(f->st, &e);
	assert_int_equal(store_product_add(f->st, &p), 0);
	dup = p;
	snprintf(dup.sku, sizeof dup.sku, "A2");
	assert_int_equal(store_product_add(f->st, &dup), 0);
	assert_int_equal(store_audit_disarm(f->st, &out), 1);
	assert_true(out.seq > 0);
	assert_int_equal(count(f->st, f->brand), n0 + 1);

	/* A write that fails carries nothing: nothing recorded. */
	store_audit_arm(f->st, &e);
	assert_int_equal(store_product_add(f->st, &p), SIGIL_EEXIST);
	assert_int_equal(store_audit_disarm(f->st, NULL), 0);
	assert_int_equal(count(f->st, f->brand), n0 + 1);

	/* Disarmed: later writes carry nothing. */
	snprintf(dup.sku, sizeof dup.sku, "A3");
	assert_int_equal(store_product_add(f->st, &dup), 0);
	assert_int_equal(count(f->st, f->brand), n0 + 1);

	/* An entry that would not store is not armed: the write goes on. */
	e.actor_kind = 0;
	store_audit_arm(f->st, &e);
	snprintf(dup.sku, sizeof dup.sku, "A4");
	assert_int_equal(store_product_add(f->st, &dup), 0);
	assert_int_equal(store_audit_disarm(f->st, NULL), 0);
	assert_int_equal(count(f->st, f->brand), n0 + 1);
}

/* ---- the deny-list ---- */

static void
test_deny_keys(void **state)
{
	static const char *const denied[] = { "password", "new_password",
	    "Password", "passwd", "secret", "token_secret", "token-secret",
	    "pin", "PIN", "pins", "phone", "phone_number", "mobile", "email",
	    "openid", "unionid", "address", "shipping_address", "key",
	    "private_key", "api_key", "hmac", "salt", "password_hash",
	    "session", "csrf_token", "cookie", "otp", "recipient" };
	static const char *const kept[] = { "name", "role", "sku", "count",
	    "shipping", "keyword", "key_id", "keys", "status", "paused",
	    "tokens_revoked", "state", "points", "opinion", "spine",
	    "disabled_before", "format", "campaign" };

	(void)state;
	for (size_t i = 0; i < sizeof denied / sizeof denied[0]; i++)
		if (!audit_key_denied(denied[i]))
			fail_msg("key %s was kept", denied[i]);
	for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++)
		if (audit_key_denied(kept[i]))
			fail_msg("key %s was denied", kept[i]);
}

static void
test_deny_values(void **state)
{
	static const char *const denied[] = {
	    "sgt_0123456789abcdef0123456789abcdef", "13800138000",
	    "+8613800138000", "138 0013 8000", "138-0013-8000",
	    "+1 (415) 555-0100", "8613800138000", "ann@acme.test" };
	static const char *const kept[] = { "06901234567892", "12345",
	    "2026-12-07", "W1", "acme", "campaign_create", "10.0.0.1",
	    "3", "@handle", "a@b", "https://acme.example/x" };

	(void)state;
	for (size_t i = 0; i < sizeof denied / sizeof denied[0]; i++)
		if (!audit_value_denied(denied[i]))
			fail_msg("value %s was kept", denied[i]);
	for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++)
		if (audit_value_denied(kept[i]))
			fail_msg("value %s was denied", kept[i]);
}

static void
test_detail_set(void **state)
{
	struct audit_entry e = { 0 };
	json_t *o;
	char big[400];

	(void)state;
	o = json_pack("{s:s,s:s,s:{s:s,s:s,s:i},s:[s,s,i],s:s,s:{s:s}}",
	    "name", "Spring", "password", "hunter2hunter2",
	    "changes", "phone", "13800138000", "note", "sgt_abcdef0123",
	    "points", 5,
	    "list", "ok", "+8613800138000", 7,
	    "openid", "oXyz", "nested", "Address", "1 Main St");
	audit_detail_set(&e, o);
	assert_string_equal(e.detail,
	    "{\"name\":\"Spring\",\"changes\":{\"points\":5},"
	    "\"list\":[\"ok\",7],\"nested\":{}}");
	assert_true(audit_detail_safe(e.detail));
	assert_false(audit_detail_safe("{\"pin\":\"123456\"}"));
	assert_false(audit_detail_safe("{\"a\":{\"b\":[\"13800138000\"]}}"));
	assert_false(audit_detail_safe("[1]"));
	assert_false(audit_detail_safe("{bad"));
	assert_true(audit_detail_safe(""));

	/* Nothing left: no detail at all. */
	audit_detail_set(&e, json_pack("{s:s}", "secret", "x"));
	assert_string_equal(e.detail, "");
	audit_detail_set(&e, NULL);
	assert_string_equal(e.detail, "");

	/* Too long: the short scalars, and a mark. */
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	o = json_object();
	json_object_set_new(o, "name", json_string("n"));
	for (int i = 0; i < 8; i++) {
		char k[8];

		snprintf(k, sizeof k, "k%d", i);
		json_object_set_new(o, k, json_string(big));
	}
	audit_detail_set(&e, o);
	assert_string_equal(e.detail, "{\"truncated\":true,\"name\":\"n\"}");
}

static void
test_diff(void **state)
{
	json_t *d;
	char *t;

	(void)state;
	d = audit_diff_text("{\"a\":1,\"b\":\"x\",\"c\":true}",
	    "{\"a\":2,\"b\":\"x\",\"d\":null}");
	t = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(t, "{\"a\":{\"after\":2,\"before\":1},"
	    "\"c\":{\"before\":true},\"d\":{\"after\":null}}");
	free(t);
	json_decref(d);
	d = audit_diff_text(NULL, "{\"name\":\"n\"}");
	t = json_dumps(d, JSON_COMPACT);
	assert_string_equal(t, "{\"name\":{\"after\":\"n\"}}");
	free(t);
	json_decref(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_add_and_read, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_armed, setup, teardown),
		cmocka_unit_test(test_deny_keys),
		cmocka_unit_test(test_deny_values),
		cmocka_unit_test(test_detail_set),
		cmocka_unit_test(test_diff),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
