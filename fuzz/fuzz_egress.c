/*
 * fuzz_egress.c - libFuzzer target for the outbound target checks a
 * brand admin's webhook URL (and the operator's --sms-webhook and
 * --webhook-allow) go through: webhook_target_check(), which runs
 * webhook_url_parse() and egress_host_check(), and egress_policy_allow().
 *
 * The input becomes a NUL-terminated string. Beyond "no crash, no
 * sanitizer report" it checks, under the default policy:
 * - an accepted URL parses, and its host passes egress_host_check;
 * - no accepted host is an address in disguise: whatever glibc's
 *   inet_aton() (what C resolvers use for numeric hosts) reads as an
 *   IPv4 address must be a canonical dotted quad with the same value,
 *   and that address must pass egress_addr_check; an accepted IPv6
 *   literal must pass it too;
 * - an accepted --webhook-allow range formats back (inet_ntop + "/bits")
 *   to text that is accepted again as the same range.
 *
 *	clang -fsanitize=fuzzer,address,undefined -Iinclude \
 *	    fuzz/fuzz_egress.c src/ground/egress.c src/domain/webhook.c ... (fuzz/run.sh)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "sigil/egress.h"
#include "sigil/webhook.h"

static void
check_url(const char *s)
{
	static const struct egress_policy none;
	struct webhook_url u;
	struct in_addr lenient;
	uint8_t a[16];
	const char *why = NULL;

	if (webhook_target_check(&none, s, &why) != 0) {
		if (why == NULL)
			abort();
		return;
	}
	if (webhook_url_parse(s, &u) != 0 ||
	    egress_host_check(&none, u.host) != 0)
		abort();
	if (inet_aton(u.host, &lenient) == 1) {
		if (inet_pton(AF_INET, u.host, a) != 1 ||
		    memcmp(a, &lenient, 4) != 0 ||
		    egress_addr_check(&none, AF_INET, a) != 0)
			abort();
	}
	if (inet_pton(AF_INET6, u.host, a) == 1 &&
	    egress_addr_check(&none, AF_INET6, a) != 0)
		abort();
}

static void
check_allow(const char *s)
{
	struct egress_policy p = { 0 }, q = { 0 };
	char text[INET6_ADDRSTRLEN + 8], ip[INET6_ADDRSTRLEN];

	if (egress_policy_allow(&p, s) != 0) {
		if (p.nallow != 0)
			abort();
		return;
	}
	if (p.nallow != 1 || inet_ntop(p.allow[0].family, p.allow[0].addr, ip,
	    sizeof ip) == NULL)
		abort();
	snprintf(text, sizeof text, "%s/%d", ip, p.allow[0].bits);
	if (egress_policy_allow(&q, text) != 0 || q.nallow != 1 ||
	    memcmp(&p.allow[0], &q.allow[0], sizeof p.allow[0]) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	check_url(s);
	check_allow(s);
	free(s);
	return 0;
}
