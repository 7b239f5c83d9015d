/*
 * test_payout.c - the payout engine's pure parts: the brand's payment
 * settings as payout_settings_check takes them (every field's rule, the
 * defaults, unknown fields and weak keys refused) and the out_bill_no a
 * callback names read back to its claim only in the exact form
 * payout_out_bill_no makes, for the brand whose notify URL it came to.
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
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "sigil/payout.h"
#include "sigil/store.h"
#include "sigil/util.h"

#include "../../src/domain/payout_impl.h"

/* A public key PEM of an RSA key of bits (or an EC key when bits 0). */
static char *
pub_pem(int bits)
{
	EVP_PKEY *k = bits ? EVP_RSA_gen((unsigned)bits) :
	    EVP_EC_gen("P-256");
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *out;
	long n;

	assert_non_null(k);
	assert_int_equal(PEM_write_bio_PUBKEY(b, k), 1);
	n = BIO_get_mem_data(b, &data);
	out = calloc(1, (size_t)n + 1);
	memcpy(out, data, (size_t)n);
	BIO_free(b);
	EVP_PKEY_free(k);
	return out;
}

static char *rsa2048;

static json_t *
good(void)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:s}", "mchid", "1900001109",
	    "appid", "wx99aa88bb77cc6655", "serial_no",
	    "5157F09EFDC096DE15EBE81A47057A7232F1B8E1", "pub_key_id",
	    "PUB_KEY_ID_0114232134912410000000000000", "public_key", rsa2048);
}

static void
test_settings_good(void **state)
{
	json_t *in = good(), *out = NULL;
	char err[200] = "";

	(void)state;
	assert_int_equal(payout_settings_check(in, &out, err, sizeof err), 0);
	assert_string_equal(json_string_value(json_object_get(out,
	    "scene_id")), "1000");
	assert_string_equal(json_string_value(json_object_get(out,
	    "remark")), "红包");
	assert_non_null(json_string_value(json_object_get(out, "activity")));
	assert_non_null(json_string_value(json_object_get(out, "reward")));
	assert_string_equal(json_string_value(json_object_get(out, "mchid")),
	    "1900001109");
	assert_int_equal(json_object_size(out), 9);
	json_decref(out);
	/* Given values kept, null means the default. */
	json_object_set_new(in, "remark", json_string("新春红包"));
	json_object_set_new(in, "scene_id", json_null());
	assert_int_equal(payout_settings_check(in, &out, err, sizeof err), 0);
	assert_string_equal(json_string_value(json_object_get(out,
	    "remark")), "新春红包");
	assert_string_equal(json_string_value(json_object_get(out,
	    "scene_id")), "1000");
	json_decref(out);
	/* out NULL: a check only. */
	assert_int_equal(payout_settings_check(in, NULL, err, sizeof err), 0);
	json_decref(in);
}

static void
bad(const char *field, json_t *v, const char *named)
{
	json_t *in = good(), *out = (json_t *)1;
	char err[200] = "";

	if (v == NULL)
		json_object_del(in, field);
	else
		json_object_set_new(in, field, v);
	assert_int_equal(payout_settings_check(in, &out, err, sizeof err),
	    SIGIL_EINVAL);
	assert_null(out);
	if (strstr(err, named) == NULL)
		fail_msg("%s: '%s' does not name %s", field, err, named);
	json_decref(in);
}

static void
test_settings_bad(void **state)
{
	char *weak = pub_pem(1024), *ec = pub_pem(0), long_remark[200];
	json_t *arr;
	char err[200];

	(void)state;
	bad("mchid", NULL, "mchid");
	bad("mchid", json_string("19000a1109"), "mchid");
	bad("mchid", json_string(""), "mchid");
	bad("mchid", json_integer(1900001109), "mchid");
	bad("appid", json_string("wx99aa88bb77cc665"), "appid");
	bad("appid", json_string("xx99aa88bb77cc6655"), "appid");
	bad("appid", json_string("wx99aa88bb77cc665z"), "appid");
	bad("serial_no", json_string("5157F09E-FD"), "serial_no");
	bad("serial_no", NULL, "serial_no");
	bad("pub_key_id", json_string("PUB_KEY_0114"), "pub_key_id");
	bad("pub_key_id", json_string("PUB_KEY_ID_01 14"), "pub_key_id");
	bad("public_key", json_string("-----BEGIN PUBLIC KEY-----\nAAAA\n"
	    "-----END PUBLIC KEY-----\n"), "public_key");
	bad("public_key", json_string(weak), "public_key");
	bad("public_key", json_string(ec), "public_key");
	bad("scene_id", json_string("cash"), "scene_id");
	memset(long_remark, 'x', 33);
	long_remark[33] = '\0';
	bad("remark", json_string(long_remark), "remark");
	bad("remark", json_string(""), "remark");
	bad("activity", json_string("a\x01b"), "activity");
	bad("reward", json_integer(3), "reward");
	bad("surprise", json_true(), "surprise");
	arr = json_array();
	assert_int_equal(payout_settings_check(arr, NULL, err, sizeof err),
	    SIGIL_EINVAL);
	json_decref(arr);
	free(weak);
	free(ec);
}

static void
test_out_bill_no(void **state)
{
	char no[PAYOUT_OUTNO_MAX + 1];
	uint64_t claim = 0;

	(void)state;
	payout_out_bill_no(12, 3456, no);
	assert_int_equal(payout_out_bill_parse(no, 12, &claim), 0);
	assert_int_equal(claim, 3456);
	payout_out_bill_no(UINT32_MAX, 999999999999999999ULL, no);
	assert_true(strlen(no) <= PAYOUT_OUTNO_MAX);
	assert_int_equal(payout_out_bill_parse(no, UINT32_MAX, &claim), 0);
	assert_true(claim == 999999999999999999ULL);
	/* Another brand's, or not exactly our form: not ours. */
	claim = 7;
	assert_int_equal(payout_out_bill_parse(no, 12, &claim), SIGIL_EINVAL);
	assert_int_equal(payout_out_bill_parse("SG12C03456", 12, &claim),
	    SIGIL_EINVAL);
	assert_int_equal(payout_out_bill_parse("SG012C3456", 12, &claim),
	    SIGIL_EINVAL);
	assert_int_equal(payout_out_bill_parse("SG12C3456x", 12, &claim),
	    SIGIL_EINVAL);
	assert_int_equal(payout_out_bill_parse("SG12C+3456", 12, &claim),
	    SIGIL_EINVAL);
	assert_int_equal(payout_out_bill_parse("SG12C", 12, &claim),
	    SIGIL_EINVAL);
	assert_int_equal(payout_out_bill_parse("", 12, &claim), SIGIL_EINVAL);
	assert_int_equal(payout_out_bill_parse(NULL, 12, &claim),
	    SIGIL_EINVAL);
	assert_int_equal(claim, 7);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_settings_good),
		cmocka_unit_test(test_settings_bad),
		cmocka_unit_test(test_out_bill_no),
	};
	int rc;

	rsa2048 = pub_pem(2048);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	free(rsa2048);
	return rc;
}
