/*
 * page_escape.c - HTML escaping for the pages: the one function every
 * value on a consumer page goes through (page.c's placeholders,
 * page_content.c's blocks).
 *
 * Values only ever sit in HTML text or in double-quoted attributes, so
 * HTML escaping is the only context needed: & < > " ' become entities.
 * Invalid UTF-8 (one U+FFFD per bad byte), control characters and bidi
 * overrides (which could make "genuine" read backwards in a name) become
 * U+FFFD. Calls libevent only.
 */
#include <stdint.h>
#include <string.h>

#include <event2/buffer.h>

#include "sigil/page.h"
#include "sigil/util.h"

/*
 * Length of the valid UTF-8 sequence at s (at most n bytes), or 0 if the
 * bytes there are not one (overlong, surrogate, above U+10FFFF, cut off).
 * Sets *cp to the code point.
 */
static size_t
utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	uint32_t c = s[0], min;
	size_t len;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2; c &= 0x1f; min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3; c &= 0x0f; min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4; c &= 0x07; min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/* Characters that must not reach the page as themselves. */
static int
is_unsafe_char(uint32_t cp)
{
	return (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') ||
	    (cp >= 0x7f && cp <= 0x9f) ||	/* DEL and C1 controls */
	    (cp >= 0x202a && cp <= 0x202e) ||	/* bidi embeddings/overrides */
	    (cp >= 0x2066 && cp <= 0x2069) ||	/* bidi isolates */
	    (cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) == 0xfffe;
}

int
page_escape(struct evbuffer *out, const char *s)
{
	return s == NULL ? 0 : page_escape_n(out, s, strlen(s));
}

int
page_escape_n(struct evbuffer *out, const char *s, size_t n)
{
	static const char fffd[] = "\xef\xbf\xbd";
	const unsigned char *p = (const unsigned char *)s;
	size_t run = 0, i = 0;

	while (i < n) {
		const char *rep = NULL;
		uint32_t cp;
		size_t len = 1;

		/* Fast path: printable ASCII other than the five specials. */
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '&' && p[i] != '<' &&
		    p[i] != '>' && p[i] != '"' && p[i] != '\'') {
			i++;
			continue;
		}
		switch (p[i]) {
		case '&':	rep = "&amp;"; break;
		case '<':	rep = "&lt;"; break;
		case '>':	rep = "&gt;"; break;
		case '"':	rep = "&quot;"; break;
		case '\'':	rep = "&#39;"; break;
		default:
			len = utf8_decode(p + i, n - i, &cp);
			if (len == 0) {
				len = 1;	/* one U+FFFD per bad byte */
				rep = fffd;
			} else if (is_unsafe_char(cp)) {
				rep = fffd;
			}
		}
		if (rep == NULL) {
			i += len;
			continue;
		}
		if (i > run && evbuffer_add(out, p + run, i - run) != 0)
			return SIGIL_ENOMEM;
		if (evbuffer_add(out, rep, strlen(rep)) != 0)
			return SIGIL_ENOMEM;
		i += len;
		run = i;
	}
	if (n > run && evbuffer_add(out, p + run, n - run) != 0)
		return SIGIL_ENOMEM;
	return 0;
}

