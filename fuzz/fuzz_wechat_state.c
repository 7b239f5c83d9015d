/*
 * fuzz_wechat_state.c - libFuzzer target for wechat_state_check(), the
 * parser of the OAuth state WeChat hands back (client-controlled: it
 * arrives in /wx/oauth's query), and for the URL-building that follows
 * it (wechat_authorize_url's percent-encoding, identity_mask).
 *
 * The first byte splits the input: that many bytes (mod the size) are
 * the path the state is checked against, the rest the state. The check
 * must answer 0, SIGIL_EFORGED or SIGIL_ESTATE and never read past
 * either string; nothing the fuzzer writes can pass without the key,
 * so 0 aborts.
 * The authorize URL of any path either fits and ends in
 * "#wechat_redirect" or is SIGIL_EFULL; a mask never overflows.
 *
 *	clang -fsanitize=fuzzer,address,undefined -Iinclude \
 *	    fuzz/fuzz_wechat_state.c build/fuzz/libsigil.a ... (fuzz/run.sh)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sigil/app.h"
#include "sigil/identity.h"
#include "sigil/util.h"
#include "sigil/wechat.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct wechat w;
	static struct app app;
	struct wechat_state ws;
	char *to, *state, url[600], mask[16];
	size_t n;
	int r;

	if (app.wechat == NULL) {
		memset(w.state_key, 0x5a, 32);
		strcpy(w.open, "https://open.weixin.qq.com");
		app.wechat = &w;
	}
	if (size == 0)
		return 0;
	n = data[0] % size;
	to = malloc(n + 1);
	state = malloc(size - n);
	if (to == NULL || state == NULL)
		goto out;
	/* n < size: to is data[1 .. n], state the size - 1 - n after it */
	memcpy(to, data + 1, n);
	to[n] = '\0';
	memcpy(state, data + 1 + n, size - 1 - n);
	state[size - 1 - n] = '\0';
	r = wechat_state_check(&app, state, to, 0, &ws);
	if (r != 0 && r != SIGIL_EFORGED && r != SIGIL_ESTATE)
		abort();
	if (r == 0)
		abort();	/* a forgery passed */
	r = wechat_authorize_url(&app, "wx1a2b3c4d5e6f7081",
	    "https://acme.example", to, WECHAT_BASE, "ab", url, sizeof url);
	if (r == 0 && (strlen(url) >= sizeof url || strcmp(url + strlen(url) -
	    16, "#wechat_redirect") != 0))
		abort();
	if (r != 0 && r != SIGIL_EFULL)
		abort();
	identity_mask(state, mask, sizeof mask);
	if (strlen(mask) >= sizeof mask)
		abort();
out:
	free(to);
	free(state);
	return 0;
}
