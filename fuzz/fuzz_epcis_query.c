/*
 * fuzz_epcis_query.c - libFuzzer target for epcis_query.c, which reads the
 * EPCIS 2.0 REST binding's query parameters from clients: GE_eventTime /
 * LT_eventTime (epcis_time_parse), EQ_bizStep (epcis_biz_steps), eventType
 * (epcis_event_types), EQ_action (epcis_actions), EQ_disposition
 * (epcis_dispositions) and nextPageToken (epcis_token_read).
 *
 * The first byte picks the parser, the rest is the parameter's value.
 * Properties checked:
 * - a rejected value leaves the output untouched;
 * - an accepted time has the RFC 3339 shape digit for digit (date, 'T',
 *   time, an optional fraction of 1-9 digits, 'Z' or a signed HH:MM
 *   offset), and the same instant with every offset and fraction spelt
 *   differently parses to the same value when written back in UTC;
 * - an accepted list has no empty element and selects only known types;
 * - an accepted token is exactly the one epcis_token_make gives for the
 *   cursor it decoded: no other spelling of a cursor passes the MAC.
 *
 *	clang -fsanitize=fuzzer,address,undefined -Iinclude \
 *	    fuzz/fuzz_epcis_query.c src/domain/epcis_query.c \
 *	    src/ground/util.c -lcrypto -o /tmp/fz && \
 *	    /tmp/fz -max_total_time=20 fuzz/corpus/epcis_query
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sigil/epcis_query.h"
#include "sigil/util.h"

static int
digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* The RFC 3339 shape epcis_time_parse promises to accept, and no other. */
static int
time_shaped(const char *s)
{
	size_t n = strlen(s), i = 19;

	if (n < 20 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) ||
	    s[7] != '-' || !digits(s + 8, 2) || (s[10] != 'T' &&
	    s[10] != 't') || !digits(s + 11, 2) || s[13] != ':' ||
	    !digits(s + 14, 2) || s[16] != ':' || !digits(s + 17, 2))
		return 0;
	if (s[i] == '.') {
		size_t f = 0;

		while (s[i + 1 + f] >= '0' && s[i + 1 + f] <= '9')
			f++;
		if (f < 1 || f > 9)
			return 0;
		i += 1 + f;
	}
	if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == n)
		return 1;
	return i + 6 == n && strchr("+- ", s[i]) && digits(s + i + 1, 2) &&
	    s[i + 3] == ':' && digits(s + i + 4, 2);
}

static void
check_time(const char *s)
{
	static const int64_t sentinel = INT64_MIN + 777;
	int64_t t = sentinel, again = sentinel;
	char utc[SIGIL_TIME_LEN + 1];

	if (epcis_time_parse(s, &t) != 0) {
		if (t != sentinel)
			abort();
		return;
	}
	if (!time_shaped(s))
		abort();
	/* Written back in UTC (to the millisecond): parses to the same. */
	if (t >= 0 && t <= INT64_C(253402300799999999)) {
		sigil_time_format(t - t % 1000, utc);
		if (epcis_time_parse(utc, &again) != 0 || again != t - t % 1000)
			abort();
	}
}

static void
check_list(const char *s, int (*parse)(const char *, unsigned *))
{
	unsigned m = 0xdead;

	if (parse(s, &m) != 0) {
		if (m != 0xdead)
			abort();
		return;
	}
	if (m & ~EPCIS_TYPES_ALL || s[0] == '\0' || s[0] == '|' ||
	    s[strlen(s) - 1] == '|' || strstr(s, "||"))
		abort();
}

static void
check_token(const char *s)
{
	static const uint8_t inst[STORE_INSTALL_ID_LEN] = { 7 };
	uint8_t key[EPCIS_TOKEN_KEY_LEN];
	struct epcis_cursor c = { 1, 2 };
	char again[EPCIS_TOKEN_LEN + 1];

	epcis_token_key(inst, key);
	if (epcis_token_read(key, "fuzz", s, &c) != 0) {
		if (c.last_event != 1 || c.last_scan != 2)
			abort();
		return;
	}
	epcis_token_make(key, "fuzz", &c, again);
	if (strcmp(again, s) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[256];

	if (size < 1 || size > sizeof s)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	switch (data[0] % 6) {
	case 0:
		check_time(s);
		break;
	case 1:
		check_list(s, epcis_biz_steps);
		break;
	case 2:
		check_list(s, epcis_event_types);
		break;
	case 4:
		check_list(s, epcis_actions);
		break;
	case 5:
		check_list(s, epcis_dispositions);
		break;
	default:
		check_token(s);
		break;
	}
	return 0;
}
