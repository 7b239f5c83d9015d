/*
 * redirect.c - a brand's redirect rules: what a rule may say, whether it
 * holds for a scan, and which rule a genuine scan follows
 * (include/sigil/redirect.h states the conditions and their order).
 *
 * The scan path calls redirect_pick once per genuine human HTML scan,
 * after the scan is committed: one read of the rule table
 * (store_redirect_scan: the batch's rules, then the product's, in one
 * snapshot), the conditions judged in memory, and, only when a rule
 * with a region is reached whose other conditions hold, one get of the
 * device's last location and the distributors' territories from
 * lookup.c's cache. A brand without rules costs one cursor seek. The
 * hrefs were checked when the rule was stored (http or https, no user
 * info, no control characters), and checked again here before they
 * become a Location, in case a row was written by something else.
 *
 * A domain module. May call the store (reads), lookup (territories),
 * geo, util and jansson. Never writes (rules are stored by the brand
 * API through the writer), never sees HTTP: its callers hand it the
 * header values.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "sigil/app.h"
#include "sigil/geo.h"
#include "sigil/lookup.h"
#include "sigil/redirect.h"
#include "sigil/store.h"
#include "sigil/util.h"

/* ---- language tags ---- */

static int
all_of(const char *s, size_t n, int (*cls)(int))
{
	for (size_t i = 0; i < n; i++)
		if (!cls((unsigned char)s[i]))
			return 0;
	return 1;
}

int
redirect_lang_tag(const char *tag, char *out, size_t size)
{
	size_t len, at[REDIRECT_TAG_MAX], ln[REDIRECT_TAG_MAX], n = 0, k = 0;
	size_t i, count;

	if (tag == NULL || (len = strlen(tag)) == 0 ||
	    len > REDIRECT_TAG_MAX || len >= size)
		return SIGIL_EINVAL;
	/* The subtags: 1 to 8 letters or digits each, in lower case. */
	for (i = 0; i <= len; i++) {
		if (i < len && tag[i] != '-') {
			if (!isalnum((unsigned char)tag[i]))
				return SIGIL_EINVAL;
			out[i] = (char)tolower((unsigned char)tag[i]);
			continue;
		}
		at[n] = n == 0 ? 0 : at[n - 1] + ln[n - 1] + 1;
		ln[n] = i - at[n];
		if (ln[n] == 0 || ln[n] > 8)
			return SIGIL_EINVAL;
		out[i] = '-';
		n++;
	}
	out[len] = '\0';
#define SUB(x)	(out + at[x])
#define ALPHA(x)	all_of(SUB(x), ln[x], isalpha)
#define DIGIT(x)	all_of(SUB(x), ln[x], isdigit)
#define X(x)	(ln[x] == 1 && SUB(x)[0] == 'x')
	if (!X(0)) {
		/* language, extlang, script, region, variants */
		if (ln[0] < 2 || !ALPHA(0))
			return SIGIL_EINVAL;
		k = 1;
		for (count = 0; ln[0] <= 3 && k < n && count < 3 && ln[k] == 3 &&
		    ALPHA(k); k++, count++)
			;
		if (k < n && ln[k] == 4 && ALPHA(k)) {
			SUB(k)[0] = (char)toupper((unsigned char)SUB(k)[0]);
			k++;
		}
		if (k < n && ((ln[k] == 2 && ALPHA(k)) || (ln[k] == 3 &&
		    DIGIT(k)))) {
			for (i = 0; i < ln[k]; i++)
				SUB(k)[i] = (char)toupper((unsigned char)SUB(k)[i]);
			k++;
		}
		while (k < n && (ln[k] >= 5 || (ln[k] == 4 &&
		    isdigit((unsigned char)SUB(k)[0]))))
			k++;
		/* extensions: a singleton and 2-8 character subtags */
		while (k < n && ln[k] == 1 && !X(k)) {
			for (k++, count = 0; k < n && ln[k] >= 2; k++, count++)
				;
			if (count == 0)
				return SIGIL_EINVAL;
		}
	}
	if (k < n && X(k)) {
		if (k + 1 == n)
			return SIGIL_EINVAL;
		k = n;
	}
#undef SUB
#undef ALPHA
#undef DIGIT
#undef X
	return k == n ? 0 : SIGIL_EINVAL;
}

int
redirect_lang_matches(const char *range, const char *tag)
{
	size_t n = strlen(range);

	if (n == 0 || strncasecmp(range, tag, n) != 0)
		return 0;
	return tag[n] == '\0' || tag[n] == '-';
}

/* q=0.5 of an Accept-Language item: 0..1000, or -1 when malformed. */
static int
qvalue(const char *p, const char *end)
{
	int q = 0, digits = 0;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (end - p < 3 || (p[0] != 'q' && p[0] != 'Q') || p[1] != '=')
		return -1;
	p += 2;
	if (*p == '1') {
		for (p++; p < end && *p != ' ' && *p != '\t'; p++)
			if (*p != '.' && *p != '0')
				return -1;
		return 1000;
	}
	if (*p++ != '0')
		return -1;
	if (p < end && *p == '.')
		for (p++; p < end && isdigit((unsigned char)*p) && digits < 3;
		    p++, digits++)
			q = q * 10 + (*p - '0');
	while (digits++ < 3)
		q *= 10;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p == end ? q : -1;
}

int
redirect_lang_pick(const char *accept_language, char *out, size_t size)
{
	const char *p = accept_language;
	char best[REDIRECT_TAG_MAX + 1] = "", tag[REDIRECT_TAG_MAX + 1];
	int best_q = 0;

	if (p == NULL)
		return SIGIL_ENOTFOUND;
	while (*p != '\0') {
		const char *end = strchr(p, ','), *semi, *t, *te;
		int q = 1000;

		if (end == NULL)
			end = p + strlen(p);
		semi = memchr(p, ';', (size_t)(end - p));
		t = p;
		while (t < end && (*t == ' ' || *t == '\t'))
			t++;
		te = semi != NULL ? semi : end;
		while (te > t && (te[-1] == ' ' || te[-1] == '\t'))
			te--;
		if (semi != NULL)
			q = qvalue(semi + 1, end);
		if (q > best_q && te > t && (size_t)(te - t) <= REDIRECT_TAG_MAX &&
		    !(te - t == 1 && *t == '*')) {
			size_t n = (size_t)(te - t), k;

			for (k = 0; k < n; k++) {
				if (!isalnum((unsigned char)t[k]) && t[k] != '-')
					break;
				tag[k] = (char)tolower((unsigned char)t[k]);
			}
			tag[n] = '\0';
			if (k == n && tag[0] != '-' && tag[n - 1] != '-' &&
			    strstr(tag, "--") == NULL) {
				memcpy(best, tag, n + 1);
				best_q = q;
			}
		}
		p = *end == ',' ? end + 1 : end;
	}
	if (best[0] == '\0' || strlen(best) >= size)
		return SIGIL_ENOTFOUND;
	strcpy(out, best);
	return 0;
}

int
redirect_ua_wechat(const char *user_agent)
{
	return user_agent != NULL && strcasestr(user_agent, "MicroMessenger") !=
	    NULL;
}

void
redirect_in_fill(struct redirect_in *in, const char *accept_language,
    const char *user_agent, uint64_t device, int64_t now)
{
	memset(in, 0, sizeof *in);
	if (redirect_lang_pick(accept_language, in->lang, sizeof in->lang) != 0)
		in->lang[0] = '\0';
	in->in_wechat = redirect_ua_wechat(user_agent);
	in->device = device;
	in->now = now;
}

/* ---- hrefs and times ---- */

/* A character RFC 3986 allows in a URI outside the authority, or %. */
static int
uri_char(int c)
{
	return isalnum(c) || (c != '\0' && strchr("-._~:/?#[]@!$&'()*+,;=%",
	    c) != NULL);
}

int
redirect_href_check(const char *href, char *out, size_t size,
    const char **why)
{
	size_t len, start, i;
	const char *h;

	*why = "field 'href' must be an absolute http:// or https:// URL";
	if (href == NULL || (len = strlen(href)) == 0)
		return SIGIL_EINVAL;
	if (len > REDIRECT_HREF_MAX || len >= size) {
		*why = "field 'href' may hold at most 2000 bytes";
		return SIGIL_EINVAL;
	}
	for (i = 0; i < len; i++)
		if ((unsigned char)href[i] <= 0x20 ||
		    (unsigned char)href[i] >= 0x7f) {
			*why = "field 'href' may hold printable ASCII only (no "
			    "spaces or control characters: percent-encode "
			    "them)";
			return SIGIL_EINVAL;
		}
	if (strncasecmp(href, "https://", 8) == 0)
		start = 8;
	else if (strncasecmp(href, "http://", 7) == 0)
		start = 7;
	else {
		*why = "field 'href' must be an absolute http:// or https:// "
		    "URL (no javascript:, data:, ftp: or relative URLs)";
		return SIGIL_EINVAL;
	}
	for (i = 0; i < start; i++)
		out[i] = (char)tolower((unsigned char)href[i]);
	h = href + start;
	i = 0;
	if (h[0] == '[') {
		for (i = 1; h[i] != '\0' && h[i] != ']'; i++)
			if (!isxdigit((unsigned char)h[i]) && h[i] != ':' &&
			    h[i] != '.')
				return SIGIL_EINVAL;
		if (h[i] != ']' || i < 3)
			return SIGIL_EINVAL;
		i++;
	} else {
		for (; isalnum((unsigned char)h[i]) || h[i] == '.' ||
		    h[i] == '-'; i++)
			;
		if (i == 0 || h[0] == '.' || h[0] == '-') {
			*why = "field 'href' must name a host";
			return SIGIL_EINVAL;
		}
	}
	if (h[i] == ':') {
		size_t d = i + 1;
		long port = 0;

		for (; isdigit((unsigned char)h[d]) && d - i <= 5; d++)
			port = port * 10 + (h[d] - '0');
		if (d == i + 1 || port < 1 || port > 65535)
			return SIGIL_EINVAL;
		i = d;
	}
	if (h[i] == '@' || memchr(h, '@', strcspn(h, "/?#")) != NULL) {
		*why = "field 'href' may not hold user info (user@host)";
		return SIGIL_EINVAL;
	}
	if (h[i] != '\0' && h[i] != '/' && h[i] != '?' && h[i] != '#')
		return SIGIL_EINVAL;
	for (size_t k = 0; k < i; k++)
		out[start + k] = (char)tolower((unsigned char)h[k]);
	for (size_t k = start + i; k < len; k++) {
		if (!uri_char((unsigned char)href[k])) {
			*why = "field 'href' holds a character a URL may not "
			    "(percent-encode it)";
			return SIGIL_EINVAL;
		}
		if (href[k] == '%' && (!isxdigit((unsigned char)href[k + 1]) ||
		    !isxdigit((unsigned char)href[k + 2]))) {
			*why = "field 'href' holds a % not followed by two hex "
			    "digits";
			return SIGIL_EINVAL;
		}
		out[k] = href[k];
	}
	out[len] = '\0';
	return 0;
}

int
redirect_time_parse(const char *s, int64_t *out)
{
	int64_t t;

	/* A window's edge is a plain instant: no leap second, not before
	 * 1970. */
	if (sigil_time_parse_rfc3339(s, &t) != 0 || (s[17] == '6' &&
	    s[18] == '0') || t < 0)
		return SIGIL_EINVAL;
	*out = t;
	return 0;
}

/* ---- matching ---- */

int
redirect_holds(const struct redirect_rule *r, const struct redirect_in *in,
    redirect_region_fn in_region, void *arg)
{
	int ok = 0;

	if ((r->when & REDIRECT_WHEN_WECHAT) &&
	    (r->wechat != 0) != (in->in_wechat != 0))
		return 0;
	if ((r->when & REDIRECT_WHEN_FROM) && in->now < r->from)
		return 0;
	if ((r->when & REDIRECT_WHEN_UNTIL) && in->now >= r->until)
		return 0;
	if (r->when & REDIRECT_WHEN_LANG) {
		if (in->lang[0] == '\0')
			return 0;
		for (size_t i = 0; i < r->nlang && !ok; i++)
			ok = redirect_lang_matches(r->lang[i], in->lang);
		if (!ok)
			return 0;
	}
	/* Last: the only condition that may read the store. */
	if (r->when & REDIRECT_WHEN_REGION) {
		ok = 0;
		for (size_t i = 0; i < r->nregion && !ok; i++)
			ok = in_region != NULL && in_region(arg, r->region[i]);
		if (!ok)
			return 0;
	}
	return 1;
}

struct pick_ctx {
	struct app			*app;
	uint32_t			 brand;
	const struct redirect_in	*in;
	int				 loc;	/* 0 unread, 1 known, -1 none */
	double				 lat, lng;
	char				*url;
	size_t				 size;
};

static int
pick_region(void *arg, uint32_t distributor)
{
	struct pick_ctx *p = arg;
	const struct territory *t;
	struct device_loc d;

	if (p->loc == 0) {
		p->loc = -1;
		if (p->in->located) {
			p->lat = p->in->lat;
			p->lng = p->in->lng;
			p->loc = 1;
		} else if (p->in->device != 0 &&
		    store_device_loc_get(p->app->store, p->brand,
		    p->in->device, &d) == 0) {
			p->lat = d.lat;
			p->lng = d.lng;
			p->loc = 1;
		}
	}
	if (p->loc != 1 ||
	    (t = lookup_territory(p->app, p->brand, distributor)) == NULL ||
	    t->area == NULL)
		return 0;
	return geo_area_contains(t->area, p->lat, p->lng);
}

static int
pick_one(void *arg, const struct redirect_rule *r)
{
	struct pick_ctx *p = arg;
	const char *why;

	if (!redirect_holds(r, p->in, pick_region, p))
		return 0;
	/* A row that fails the check now is skipped, never followed. */
	return redirect_href_check(r->href, p->url, p->size, &why) == 0;
}

int
redirect_pick(struct app *app, uint32_t brand, const char *sku,
    uint64_t batch, const struct redirect_in *in, char *url, size_t size)
{
	struct pick_ctx p = { app, brand, in, 0, 0, 0, url, size };

	if (size < REDIRECT_HREF_MAX + 1)
		return SIGIL_EINVAL;
	if (sku == NULL || sku[0] == '\0' || brand == 0)
		return SIGIL_ENOTFOUND;
	return store_redirect_scan(app->store, brand, sku, batch, pick_one,
	    &p) == 1 ? 0 : SIGIL_ENOTFOUND;
}

/* ---- the Location ---- */

static int
param_kept(const char *p, size_t n)
{
	size_t name = strcspn(p, "=&");

	if (name > n)
		name = n;
	if (n == 0 || (name == 1 && p[0] == 's') ||
	    (name == 8 && strncmp(p, "linkType", 8) == 0))
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] <= 0x20 || (unsigned char)p[i] >= 0x7f ||
		    !uri_char((unsigned char)p[i]) || p[i] == '#')
			return 0;
	return 1;
}

int
redirect_location(const char *href, const char *uri, char *out,
    size_t size)
{
	const char *q = uri != NULL ? strchr(uri, '?') : NULL;
	size_t base = strcspn(href, "#"), hl = strlen(href), o;
	int any = 0;

	if (hl >= size)
		return SIGIL_EFULL;
	memcpy(out, href, base);
	o = base;
	for (const char *p = q != NULL ? q + 1 : NULL; p != NULL && *p;) {
		size_t n = strcspn(p, "&#");

		if (param_kept(p, n)) {
			if (o + 1 + n + (hl - base) >= size) {
				memcpy(out, href, hl + 1);
				return SIGIL_EFULL;
			}
			out[o++] = any || memchr(href, '?', base) != NULL ?
			    '&' : '?';
			memcpy(out + o, p, n);
			o += n;
			any = 1;
		}
		if (p[n] != '&')
			break;
		p += n + 1;
	}
	memcpy(out + o, href + base, hl - base + 1);
	return 0;
}

/* ---- the brand API's JSON ---- */

#define FAIL(...)	do {						\
	snprintf(msg, msgsize, __VA_ARGS__);				\
	return SIGIL_EINVAL;						\
} while (0)

static int
parse_when(struct app *app, uint32_t brand, const json_t *w,
    struct redirect_rule *r, char *msg, size_t msgsize)
{
	const char *key;
	json_t *v, *x;
	size_t i;

	r->when = 0;
	r->nlang = r->nregion = 0;
	r->wechat = 0;
	r->from = r->until = 0;
	if (w == NULL || json_is_null(w))
		return 0;
	if (!json_is_object(w))
		FAIL("field 'when' must be an object with any of lang, wechat, "
		    "from, until, region");
	json_object_foreach((json_t *)w, key, v) {
		if (strcmp(key, "lang") == 0) {
			if (!json_is_array(v) || json_array_size(v) == 0 ||
			    json_array_size(v) > REDIRECT_LANGS_MAX)
				FAIL("field 'when.lang' must be an array of 1 to "
				    "%d BCP 47 language tags", REDIRECT_LANGS_MAX);
			json_array_foreach(v, i, x) {
				if (!json_is_string(x) || redirect_lang_tag(
				    json_string_value(x), r->lang[i],
				    sizeof r->lang[i]) != 0)
					FAIL("field 'when.lang': item %zu is not a "
					    "well-formed BCP 47 language tag "
					    "(like \"en\", \"zh-CN\", "
					    "\"zh-Hant-TW\")", i);
				for (size_t j = 0; j < i; j++)
					if (strcasecmp(r->lang[j], r->lang[i]) == 0)
						FAIL("field 'when.lang': \"%s\" is "
						    "named twice", r->lang[i]);
			}
			r->nlang = json_array_size(v);
			r->when |= REDIRECT_WHEN_LANG;
		} else if (strcmp(key, "wechat") == 0) {
			if (!json_is_boolean(v))
				FAIL("field 'when.wechat' must be true (inside "
				    "WeChat) or false (outside)");
			r->wechat = json_is_true(v);
			r->when |= REDIRECT_WHEN_WECHAT;
		} else if (strcmp(key, "from") == 0 ||
		    strcmp(key, "until") == 0) {
			int64_t *t = key[0] == 'f' ? &r->from : &r->until;

			if (!json_is_string(v) || redirect_time_parse(
			    json_string_value(v), t) != 0)
				FAIL("field 'when.%s' must be an RFC 3339 time "
				    "(like \"2026-12-01T00:00:00+08:00\")", key);
			r->when |= key[0] == 'f' ? REDIRECT_WHEN_FROM :
			    REDIRECT_WHEN_UNTIL;
		} else if (strcmp(key, "region") == 0) {
			if (!json_is_array(v) || json_array_size(v) == 0 ||
			    json_array_size(v) > REDIRECT_REGIONS_MAX)
				FAIL("field 'when.region' must be an array of 1 "
				    "to %d distributor ids", REDIRECT_REGIONS_MAX);
			json_array_foreach(v, i, x) {
				struct distributor d;

				if (!json_is_integer(x) || json_integer_value(x) <
				    1 || json_integer_value(x) > UINT32_MAX)
					FAIL("field 'when.region': item %zu is not a "
					    "distributor id", i);
				r->region[i] = (uint32_t)json_integer_value(x);
				for (size_t j = 0; j < i; j++)
					if (r->region[j] == r->region[i])
						FAIL("field 'when.region': "
						    "distributor %u is named twice",
						    r->region[i]);
				if (store_distributor_get(app->store, brand,
				    r->region[i], &d) != 0)
					FAIL("field 'when.region': no distributor "
					    "%u", r->region[i]);
				store_distributor_clear(&d);
			}
			r->nregion = json_array_size(v);
			r->when |= REDIRECT_WHEN_REGION;
		} else
			FAIL("field 'when' has an unknown condition '%.40s' "
			    "(lang, wechat, from, until, region)", key);
	}
	if ((r->when & REDIRECT_WHEN_FROM) && (r->when & REDIRECT_WHEN_UNTIL) &&
	    r->from >= r->until)
		FAIL("field 'when': from must be before until");
	return 0;
}

int
redirect_parse(struct app *app, uint32_t brand, const json_t *body,
    const struct redirect_rule *base, struct redirect_rule *out, char *msg,
    size_t msgsize)
{
	struct redirect_rule *r;
	struct sigil_text_err te = { 0 };
	struct product prod;
	struct batch b;
	const char *key, *why;
	json_t *v;
	int rc;

	if (!json_is_object(body))
		FAIL("expected a JSON object");
	if ((r = calloc(1, sizeof *r)) == NULL)
		FAIL("out of memory");
	if (base != NULL)
		*r = *base;
	else
		r->priority = REDIRECT_PRIORITY_DEFAULT;
	r->brand_id = brand;
	json_object_foreach((json_t *)body, key, v) {
		if (strcmp(key, "sku") == 0) {
			if (!json_is_string(v) || sigil_text_check(
			    json_string_value(v), json_string_length(v),
			    STORE_NAME_MAX, 0, &te) != 0 ||
			    json_string_length(v) > STORE_NAME_BYTES) {
				snprintf(msg, msgsize, "field 'sku' must be a "
				    "product's SKU");
				goto bad;
			}
			strcpy(r->sku, json_string_value(v));
		} else if (strcmp(key, "batch") == 0) {
			if (json_is_null(v))
				r->batch = 0;
			else if (!json_is_integer(v) || json_integer_value(v) < 1) {
				snprintf(msg, msgsize, "field 'batch' must be a "
				    "batch id (or null for the product)");
				goto bad;
			} else
				r->batch = (uint64_t)json_integer_value(v);
		} else if (strcmp(key, "priority") == 0) {
			if (!json_is_integer(v) || json_integer_value(v) < 0 ||
			    json_integer_value(v) > REDIRECT_PRIORITY_MAX) {
				snprintf(msg, msgsize, "field 'priority' must be "
				    "an integer from 0 to %d (lower first)",
				    REDIRECT_PRIORITY_MAX);
				goto bad;
			}
			r->priority = (uint32_t)json_integer_value(v);
		} else if (strcmp(key, "href") == 0) {
			if (!json_is_string(v) || strlen(json_string_value(v)) !=
			    json_string_length(v)) {
				snprintf(msg, msgsize, "field 'href' must be an "
				    "absolute http:// or https:// URL");
				goto bad;
			}
			if (redirect_href_check(json_string_value(v), r->href,
			    sizeof r->href, &why) != 0) {
				snprintf(msg, msgsize, "%s", why);
				goto bad;
			}
		} else if (strcmp(key, "when") == 0) {
			if ((rc = parse_when(app, brand, v, r, msg, msgsize)) != 0)
				goto bad;
		} else if (strcmp(key, "note") == 0) {
			if (json_is_null(v))
				r->note[0] = '\0';
			else if (!json_is_string(v) || sigil_text_check(
			    json_string_value(v), json_string_length(v),
			    REDIRECT_NOTE_MAX, SIGIL_TEXT_EMPTY_OK, &te) != 0) {
				if (!json_is_string(v) || te.why == SIGIL_TEXT_OK)
					te.why = SIGIL_TEXT_LONG;
				sigil_text_explain("note", REDIRECT_NOTE_MAX,
				    SIGIL_TEXT_EMPTY_OK, &te, msg, msgsize);
				goto bad;
			} else
				strcpy(r->note, json_string_value(v));
		} else {
			snprintf(msg, msgsize, "unknown field '%.40s' (sku, batch, "
			    "priority, href, when, note)", key);
			goto bad;
		}
	}
	if (r->sku[0] == '\0') {
		snprintf(msg, msgsize, "field 'sku' is required");
		goto bad;
	}
	if (r->href[0] == '\0') {
		snprintf(msg, msgsize, "field 'href' is required");
		goto bad;
	}
	if (store_product_get(app->store, brand, r->sku, &prod) != 0) {
		snprintf(msg, msgsize, "field 'sku': no product '%.64s'", r->sku);
		goto bad;
	}
	if (r->batch != 0 && (store_batch_get(app->store, r->batch, &b) != 0 ||
	    b.brand_id != brand)) {
		snprintf(msg, msgsize, "field 'batch': no batch %llu",
		    (unsigned long long)r->batch);
		goto bad;
	}
	if (r->batch != 0 && strcmp(b.sku, r->sku) != 0) {
		snprintf(msg, msgsize, "field 'batch': batch %llu is not of "
		    "product '%.64s'", (unsigned long long)r->batch, r->sku);
		goto bad;
	}
	*out = *r;
	free(r);
	return 0;
bad:
	free(r);
	return SIGIL_EINVAL;
}

json_t *
redirect_json(const struct redirect_rule *r)
{
	char t[SIGIL_TIME_LEN + 1];
	json_t *o, *w = json_object(), *a;

	if (r->when & REDIRECT_WHEN_LANG) {
		a = json_array();
		for (size_t i = 0; i < r->nlang; i++)
			json_array_append_new(a, json_string(r->lang[i]));
		json_object_set_new(w, "lang", a);
	}
	if (r->when & REDIRECT_WHEN_WECHAT)
		json_object_set_new(w, "wechat", json_boolean(r->wechat));
	if (r->when & REDIRECT_WHEN_FROM)
		json_object_set_new(w, "from", json_string(
		    sigil_time_format(r->from, t)));
	if (r->when & REDIRECT_WHEN_UNTIL)
		json_object_set_new(w, "until", json_string(
		    sigil_time_format(r->until, t)));
	if (r->when & REDIRECT_WHEN_REGION) {
		a = json_array();
		for (size_t i = 0; i < r->nregion; i++)
			json_array_append_new(a, json_integer(r->region[i]));
		json_object_set_new(w, "region", a);
	}
	o = json_pack("{s:I,s:s,s:o,s:I,s:s,s:o,s:s}", "id", (json_int_t)r->id,
	    "sku", r->sku, "batch", r->batch ? json_integer((json_int_t)
	    r->batch) : json_null(), "priority", (json_int_t)r->priority,
	    "href", r->href, "when", w, "note", r->note);
	if (o != NULL) {
		json_object_set_new(o, "created", json_string(
		    sigil_time_format(r->created, t)));
		json_object_set_new(o, "updated", json_string(
		    sigil_time_format(r->updated, t)));
	}
	return o;
}
