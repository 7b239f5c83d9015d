/*
 * fuzz_wxpay.c - libFuzzer target for what WeChat Pay (or whoever posts
 * to /wxpay/notify) hands sigil: answers read by wxpay_bill_parse and
 * wxpay_error_parse, callbacks opened by wxpay_notify_open, and the
 * signature headers wxpay_verify reads. The input is all three at once.
 *
 * A bill that parses has its required fields, every string within its
 * bound and an outcome its state maps to; a callback cannot open without
 * the APIv3 key (the fuzzer does not know it: 0 aborts unless the input
 * holds a real ciphertext, which it cannot make); no signature verifies
 * against a key the fuzzer does not hold.
 *
 *	clang -fsanitize=fuzzer,address,undefined -Iinclude \
 *	    fuzz/fuzz_wxpay.c build/fuzz/libsigil.a ... (fuzz/run.sh)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "sigil/util.h"
#include "sigil/wxpay.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static EVP_PKEY *pub;
	static const uint8_t key[WXPAY_APIV3_KEY_LEN] = "fuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzz";
	struct wxpay_bill b;
	struct wxpay_error e;
	char *text, *sig;
	size_t half;

	if (pub == NULL && (pub = EVP_RSA_gen(2048)) == NULL)
		abort();
	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (wxpay_bill_parse(text, size, &b) == 0) {
		if (b.out_bill_no[0] == '\0' || b.state[0] == '\0' ||
		    strlen(b.bill_no) > WXPAY_BILLNO_MAX ||
		    strlen(b.package_info) > WXPAY_PACKAGE_MAX ||
		    b.outcome != wxpay_state_map(b.state) || b.amount < -1)
			abort();
	}
	if (wxpay_error_parse(text, size, &e) == 0 && e.code[0] == '\0')
		abort();
	if (wxpay_notify_open(key, text, size, &b) == 0)
		abort();
	/* The first half as the signature header, the rest as the body. */
	half = strnlen(text, size) / 2;
	if ((sig = strndup(text, half)) != NULL) {
		if (wxpay_verify(pub, "1700000000", "nonce", text + half,
		    strlen(text + half), sig, 1700000000) == 0)
			abort();
		free(sig);
	}
	free(text);
	return 0;
}
