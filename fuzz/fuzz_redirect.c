/*
 * fuzz_redirect.c - libFuzzer target for what redirect rules parse from
 * the client and the brand (src/domain/redirect.c): the Accept-Language
 * pick (every scan), language tags, hrefs, RFC 3339 times, and the
 * Location built from an href and a request URI.
 *
 * The input becomes one NUL-terminated string fed to each. Invariants:
 * a picked language is 1-35 bytes of [a-z0-9-]; a tag accepted comes out
 * the same but for letter case; an href accepted is an http(s) URL of
 * printable ASCII without user info or backslash, at most 2000 bytes, and
 * accepting it again changes nothing; a Location holds only printable
 * ASCII, starts with the href and never passes on s or linkType.
 *
 *	sh fuzz/run.sh 30 redirect
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sigil/redirect.h"
#include "sigil/util.h"

static void
check_printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			abort();
}

static void
check_location(const char *href, const char *loc)
{
	const char *q;

	check_printable(loc);
	if (strncmp(loc, href, strcspn(href, "?#")) != 0)
		abort();
	if ((q = strchr(loc, '?')) == NULL)
		return;
	for (q++; *q && *q != '#';) {
		size_t n = strcspn(q, "&#"), name = strcspn(q, "=&#");

		if ((name == 1 && q[0] == 's') ||
		    (name == 8 && strncmp(q, "linkType", 8) == 0))
			abort();
		q += n;
		if (*q == '&')
			q++;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), *uri;
	char tag[REDIRECT_TAG_MAX + 1], out[REDIRECT_HREF_MAX + 1];
	char again[REDIRECT_HREF_MAX + 1], loc[REDIRECT_URL_MAX];
	const char *why;
	int64_t t;

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	if (redirect_lang_pick(s, tag, sizeof tag) == 0) {
		size_t n = strlen(tag);

		if (n == 0 || n > REDIRECT_TAG_MAX ||
		    strspn(tag, "abcdefghijklmnopqrstuvwxyz0123456789-") != n)
			abort();
	}
	if (redirect_lang_tag(s, tag, sizeof tag) == 0 &&
	    (strlen(tag) != strlen(s) || strcasecmp(tag, s) != 0))
		abort();
	if (redirect_href_check(s, out, sizeof out, &why) == 0) {
		size_t auth;

		check_printable(out);
		if (strlen(out) > REDIRECT_HREF_MAX || strchr(out, '\\') ||
		    (strncmp(out, "http://", 7) != 0 &&
		    strncmp(out, "https://", 8) != 0))
			abort();
		auth = strcspn(out + 8, "/?#");
		if (memchr(out + 7, '@', auth + 1) != NULL)
			abort();
		if (redirect_href_check(out, again, sizeof again, &why) != 0 ||
		    strcmp(out, again) != 0)
			abort();
	}
	if (redirect_time_parse(s, &t) == 0 && t < 0)
		abort();

	if ((uri = malloc(size + 8)) != NULL) {
		memcpy(uri, "/S/C?", 5);
		memcpy(uri + 5, s, size + 1);
		if (redirect_location("https://b.example/p?a=1#f", uri, loc,
		    sizeof loc) == 0)
			check_location("https://b.example/p?a=1#f", loc);
		if (redirect_location("https://b.example/p", uri, loc, 64) == 0)
			check_location("https://b.example/p", loc);
		free(uri);
	}
	free(s);
	return 0;
}
