/*
 * content.c - a brand's content on the landing page: what a document may
 * hold, the images it shows, and which language a phone gets.
 *
 * Documents are JSON objects a brand writes through the API, per brand
 * (display name, logo, support phone and link), per product and per
 * batch (title, story, images, buttons), each per BCP 47 language. A
 * page is the one place a counterfeiter would most like to deface, so a
 * document is checked field by field and stored canonical: unknown
 * fields refused, text through sigil_text_check (no controls, no bidi
 * overrides), the story plain text (page_content.c escapes it and makes
 * paragraphs of blank lines: HTML in it shows as text), a button's href
 * only https/http, tel: or a link of the item by GS1 link type
 * (javascript:, data:, vbscript: and everything else refused), images
 * only ids of the brand's own stored images. The limits keep a page
 * with everything at its largest under 20 KB of HTML.
 *
 * Images are typed by their magic numbers (PNG, JPEG, WebP, GIF: never
 * SVG, which can carry script), and their id is the brand's id and the
 * SHA-256 of the bytes, so the same image is one row and an id never
 * names two images.
 *
 * content_view.c builds one scan's view from the stored documents.
 *
 * Domain. May call the store (reads: an image a document names), util,
 * jansson and OpenSSL's SHA-256. Never writes to the store; never sees
 * HTTP.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/sha.h>

#include "sigil/content.h"
#include "sigil/store.h"
#include "sigil/util.h"

#define ACCEPT_BYTES_MAX	1024
#define ACCEPT_RANGES_MAX	32

/* ---- images ---- */

int
content_image_sniff(const uint8_t *p, size_t n)
{
	static const uint8_t png[8] = { 0x89, 'P', 'N', 'G', '\r', '\n',
	    0x1a, '\n' };

	if (p == NULL)
		return 0;
	if (n >= 8 && memcmp(p, png, 8) == 0)
		return IMAGE_PNG;
	if (n >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff)
		return IMAGE_JPEG;
	if (n >= 12 && memcmp(p, "RIFF", 4) == 0 &&
	    memcmp(p + 8, "WEBP", 4) == 0)
		return IMAGE_WEBP;
	if (n >= 6 && (memcmp(p, "GIF87a", 6) == 0 ||
	    memcmp(p, "GIF89a", 6) == 0))
		return IMAGE_GIF;
	return 0;
}

static const char *const image_mimes[] = {
	[IMAGE_PNG] = "image/png", [IMAGE_JPEG] = "image/jpeg",
	[IMAGE_WEBP] = "image/webp", [IMAGE_GIF] = "image/gif",
};

const char *
content_image_mime(int type)
{
	return type >= IMAGE_PNG && type <= IMAGE_GIF ? image_mimes[type] :
	    NULL;
}

int
content_image_type_of(const char *content_type)
{
	size_t n;

	if (content_type == NULL)
		return 0;
	while (*content_type == ' ' || *content_type == '\t')
		content_type++;
	n = strcspn(content_type, "; \t");
	for (int t = IMAGE_PNG; t <= IMAGE_GIF; t++)
		if (strlen(image_mimes[t]) == n &&
		    strncasecmp(content_type, image_mimes[t], n) == 0)
			return t;
	return 0;
}

void
content_image_id(uint32_t brand_id, const uint8_t *hash,
    char out[CONTENT_IMAGE_ID_LEN + 1])
{
	uint8_t b[4];

	sigil_be32_put(b, brand_id);
	sigil_hex_encode(b, 4, out);
	sigil_hex_encode(hash, STORE_IMAGE_HASH_LEN, out + 8);
	out[CONTENT_IMAGE_ID_LEN] = '\0';
}

int
content_image_id_parse(const char *id, uint32_t *brand_id,
    uint8_t hash[STORE_IMAGE_HASH_LEN])
{
	uint8_t b[4];

	if (id == NULL || strlen(id) != CONTENT_IMAGE_ID_LEN)
		return SIGIL_EINVAL;
	/* Lower-case only: one spelling per id, so one ETag and one URL. */
	for (const char *p = id; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return SIGIL_EINVAL;
	if (sigil_hex_decode(id, 4, b) != 0 ||
	    sigil_hex_decode(id + 8, STORE_IMAGE_HASH_LEN, hash) != 0)
		return SIGIL_EINVAL;
	*brand_id = sigil_be32_get(b);
	return *brand_id != 0 ? 0 : SIGIL_EINVAL;
}

void
content_image_hash(const uint8_t *p, size_t n,
    uint8_t out[STORE_IMAGE_HASH_LEN])
{
	uint8_t md[SHA256_DIGEST_LENGTH];

	SHA256(p, n, md);
	memcpy(out, md, STORE_IMAGE_HASH_LEN);
}

/* ---- languages ---- */

static int
is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int
upper(int c)
{
	return c >= 'a' && c <= 'z' ? c - 32 : c;
}

int
content_lang_norm(const char *in, char out[STORE_LANG_MAX + 1])
{
	size_t n, i = 0, sub = 0;

	if (in == NULL || (n = strlen(in)) == 0 || n > STORE_LANG_MAX)
		return SIGIL_EINVAL;
	while (i < n) {
		size_t start = i, len;

		while (i < n && (is_alpha(in[i]) || is_digit(in[i])))
			i++;
		len = i - start;
		if (len == 0 || len > 8)
			return SIGIL_EINVAL;
		if (sub == 0) {
			/* The language: 2-3 letters (ISO 639); private and
			 * grandfathered forms are not for a product page. */
			if (len < 2 || len > 3)
				return SIGIL_EINVAL;
			for (size_t j = start; j < i; j++) {
				if (!is_alpha(in[j]))
					return SIGIL_EINVAL;
				out[j] = (char)lower(in[j]);
			}
		} else {
			int alpha = 1;

			for (size_t j = start; j < i; j++)
				alpha &= is_alpha(in[j]);
			for (size_t j = start; j < i; j++) {
				int c = in[j];

				if (alpha && len == 2)
					c = upper(c);		/* region */
				else if (alpha && len == 4)
					c = j == start ? upper(c) : lower(c);
				else
					c = lower(c);
				out[j] = (char)c;
			}
		}
		sub++;
		if (i < n) {
			if (in[i] != '-' || i + 1 == n)
				return SIGIL_EINVAL;
			out[i] = '-';
			i++;
		}
	}
	out[n] = '\0';
	return 0;
}

/* One range of Accept-Language. */
struct lang_range {
	char	tag[STORE_LANG_MAX + 1];
	int	q;		/* thousandths */
	int	at;
};

static size_t
ranges_parse(const char *h, struct lang_range *r, size_t max)
{
	size_t len, pos = 0, n = 0;
	int at = 0;

	if (h == NULL)
		return 0;
	len = strnlen(h, ACCEPT_BYTES_MAX + 1);
	if (len > ACCEPT_BYTES_MAX) {
		len = ACCEPT_BYTES_MAX;
		while (len > 0 && h[len] != ',')
			len--;
	}
	while (pos < len && n < max) {
		const char *comma = memchr(h + pos, ',', len - pos);
		size_t end = comma ? (size_t)(comma - h) : len;
		size_t a = pos, b, tagend;
		char tag[STORE_LANG_MAX + 1];
		int q = 1000;

		pos = end + 1;
		while (a < end && (h[a] == ' ' || h[a] == '\t'))
			a++;
		for (tagend = a; tagend < end && h[tagend] != ';' &&
		    h[tagend] != ' ' && h[tagend] != '\t'; tagend++)
			;
		if (tagend == a || tagend - a > STORE_LANG_MAX)
			continue;
		memcpy(tag, h + a, tagend - a);
		tag[tagend - a] = '\0';
		for (b = tagend; b < end; b++) {
			if (h[b] == ';') {
				size_t v = b + 1, e;

				while (v < end && (h[v] == ' ' || h[v] == '\t'))
					v++;
				if (v + 2 <= end && (h[v] == 'q' || h[v] == 'Q') &&
				    h[v + 1] == '=') {
					for (e = v + 2; e < end && h[e] != ';' &&
					    h[e] != ' ' && h[e] != '\t'; e++)
						;
					q = sigil_qvalue_parse(h + v + 2, e - v - 2);
				}
			}
		}
		at++;
		if (q < 0)
			continue;
		if (strcmp(tag, "*") == 0) {
			snprintf(r[n].tag, sizeof r[n].tag, "*");
		} else if (content_lang_norm(tag, r[n].tag) != 0) {
			continue;
		}
		r[n].q = q;
		r[n].at = at;
		n++;
	}
	return n;
}

static int
range_cmp(const void *a, const void *b)
{
	const struct lang_range *x = a, *y = b;

	if (x->q != y->q)
		return y->q - x->q;
	return x->at - y->at;
}

/* The tag refused by q=0 in the header. */
static int
refused(const struct lang_range *r, size_t n, const char *tag)
{
	for (size_t i = 0; i < n; i++)
		if (r[i].q == 0 && strcasecmp(r[i].tag, tag) == 0)
			return 1;
	return 0;
}

static int
tag_find(const char *const *tags, size_t n, const char *want,
    const struct lang_range *r, size_t nr)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(tags[i], want) == 0 && !refused(r, nr, tags[i]))
			return (int)i;
	return -1;
}

/* A tag that starts with prefix and a '-' (zh matches zh-CN). */
static int
tag_prefixed(const char *const *tags, size_t n, const char *prefix,
    const struct lang_range *r, size_t nr)
{
	size_t pl = strlen(prefix);

	for (size_t i = 0; i < n; i++)
		if (strncasecmp(tags[i], prefix, pl) == 0 &&
		    tags[i][pl] == '-' && !refused(r, nr, tags[i]))
			return (int)i;
	return -1;
}

int
content_lang_choose(const char *accept_language, const char *const *tags,
    size_t n)
{
	struct lang_range r[ACCEPT_RANGES_MAX];
	size_t nr;
	int i;

	if (n == 0)
		return -1;
	nr = ranges_parse(accept_language, r, ACCEPT_RANGES_MAX);
	qsort(r, nr, sizeof r[0], range_cmp);
	for (size_t k = 0; k < nr && r[k].q > 0; k++) {
		char want[STORE_LANG_MAX + 1];
		char *dash;

		if (strcmp(r[k].tag, "*") == 0)
			break;
		memcpy(want, r[k].tag, sizeof want);
		want[STORE_LANG_MAX] = '\0';
		if ((i = tag_find(tags, n, want, r, nr)) >= 0)
			return i;
		/* RFC 4647 lookup: drop subtags from the end. */
		while ((dash = strrchr(want, '-')) != NULL) {
			*dash = '\0';
			if ((i = tag_find(tags, n, want, r, nr)) >= 0)
				return i;
		}
		if ((i = tag_prefixed(tags, n, r[k].tag, r, nr)) >= 0)
			return i;
		/* zh-TW asks for Chinese: zh-CN beats English. */
		if ((i = tag_prefixed(tags, n, want, r, nr)) >= 0)
			return i;
	}
	if ((i = tag_find(tags, n, "zh-CN", r, nr)) >= 0 ||
	    (i = tag_find(tags, n, "en", r, nr)) >= 0 ||
	    (i = tag_prefixed(tags, n, "en", r, nr)) >= 0)
		return i;
	return 0;
}

/* ---- hrefs ---- */

/* The GS1 Web Vocabulary's link types a button may name. */
static const char *const gs1_link_types[] = {
	"activityIdeas", "allergenInfo", "appDownload",
	"brandHomepageClinical", "brandHomepagePatient", "careersInfo",
	"certificationInfo", "consumerHandlingStorageInfo", "defaultLink",
	"epcis", "epil", "eventsInfo", "faqs", "handledBy", "hasRetailers",
	"homepage", "ingredientsInfo", "instructions", "jws", "leaveReview",
	"locationInfo", "logisticsInfo", "loyaltyProgram", "masterData",
	"menuInfo", "nutritionalInfo", "openingHoursInfo", "paymentLink",
	"pip", "productSustainabilityInfo", "promotion",
	"purchaseSuppliesOrAccessories", "quickStartGuide", "recallStatus",
	"recipeInfo", "registerProduct", "registryEntry", "relatedImage",
	"relatedVideo", "review", "safetyInfo", "scheduleTime",
	"serviceInfo", "smartLabel", "smpc", "socialMedia", "statisticInfo",
	"support", "sustainabilityInfo", "traceability", "tutorial",
	"userAgreement", "verificationService", "whatsInTheBox",
	"customerSupport",
};

static int
web_href_ok(const char *rest)
{
	const char *p;
	size_t host;

	host = strcspn(rest, "/?#");
	if (host == 0)
		return 0;
	for (p = rest; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\'' ||
		    c == '<' || c == '>' || c == '\\' || c == '`' ||
		    c == '{' || c == '}' || c == '|' || c == '^')
			return 0;
	}
	/* No user info ("https://bank.example@evil.example/"). */
	return memchr(rest, '@', host) == NULL;
}

int
content_href_check(const char *href, char *out, size_t size, int *kind)
{
	size_t n;

	if (href == NULL || (n = strlen(href)) == 0 || n > CONTENT_HREF_MAX ||
	    n + 1 > size)
		return SIGIL_EINVAL;
	/* Each '&' is five bytes on the page: bound what it takes there. */
	for (const char *p = href; *p; p++)
		if (*p == '&')
			n += 4;
	if (n > CONTENT_HREF_MAX + 64)
		return SIGIL_EINVAL;
	if (strncasecmp(href, "https://", 8) == 0 ||
	    strncasecmp(href, "http://", 7) == 0) {
		size_t s = href[4] == ':' ? 7 : 8;

		if (!web_href_ok(href + s))
			return SIGIL_EINVAL;
		snprintf(out, size, "%s%s", s == 8 ? "https://" : "http://",
		    href + s);
		*kind = HREF_WEB;
		return 0;
	}
	if (strncasecmp(href, "tel:", 4) == 0) {
		const char *p = href + 4;
		size_t digits = 0;

		if (*p == '+')
			p++;
		for (; *p; p++) {
			if (is_digit(*p))
				digits++;
			else if (*p != '-')
				return SIGIL_EINVAL;
		}
		if (digits < 3 || digits > 20)
			return SIGIL_EINVAL;
		snprintf(out, size, "tel:%s", href + 4);
		*kind = HREF_TEL;
		return 0;
	}
	if (strncasecmp(href, "link:gs1:", 9) == 0) {
		for (size_t i = 0; i < sizeof gs1_link_types /
		    sizeof gs1_link_types[0]; i++)
			if (strcmp(href + 9, gs1_link_types[i]) == 0) {
				snprintf(out, size, "link:gs1:%s", href + 9);
				*kind = HREF_LINK;
				return 0;
			}
	}
	return SIGIL_EINVAL;
}

/* ---- documents ---- */

const char *
content_kind_name(int kind)
{
	switch (kind) {
	case CONTENT_BRAND:	return "brand";
	case CONTENT_PRODUCT:	return "products";
	case CONTENT_BATCH:	return "batches";
	}
	return "unknown";
}

/* Bytes the story takes on the page: escapes, and <br>/</p><p>. */
static size_t
story_html_len(const char *s)
{
	size_t n = 0;

	for (; *s; s++) {
		switch (*s) {
		case '&':	n += 5; break;
		case '<':
		case '>':	n += 4; break;
		case '"':	n += 6; break;
		case '\'':	n += 5; break;
		case '\n':	n += 7; break;
		default:	n++;
		}
	}
	return n;
}

struct check {
	struct store	*st;
	uint32_t	 brand_id;
	char		*why;
	size_t		 why_size;
};

static int
refuse(struct check *k, const char *fmt, const char *field)
{
	snprintf(k->why, k->why_size, fmt, field);
	return SIGIL_EINVAL;
}

/* A text field: absent is fine; else a string of 1..max characters. */
static int
text_field(struct check *k, const json_t *body, const char *key,
    size_t max, int flags, json_t *out)
{
	const json_t *v = json_object_get(body, key);
	struct sigil_text_err e;
	const char *s;

	if (v == NULL)
		return 0;
	if (!json_is_string(v))
		return refuse(k, "field '%s' must be a string", key);
	s = json_string_value(v);
	if (sigil_text_check(s, json_string_length(v), max, flags, &e) != 0) {
		sigil_text_explain(key, max, flags, &e, k->why, k->why_size);
		return SIGIL_EINVAL;
	}
	json_object_set_new(out, key, json_string(s));
	return 0;
}

static int
image_field(struct check *k, const char *key, const json_t *v,
    json_t **out)
{
	uint8_t hash[STORE_IMAGE_HASH_LEN];
	struct image_meta m;
	uint32_t brand;

	if (!json_is_string(v) || content_image_id_parse(json_string_value(v),
	    &brand, hash) != 0 || brand != k->brand_id ||
	    store_image_get(k->st, brand, hash, &m, NULL) != 0)
		return refuse(k, "field '%s' must name images of this brand "
		    "(ids from POST /api/v1/images)", key);
	*out = json_string(json_string_value(v));
	return 0;
}

static int
brand_doc(struct check *k, const json_t *body, json_t *out)
{
	const json_t *v;
	char href[CONTENT_HREF_MAX + 1];
	json_t *img;
	int kind, rc;

	if ((rc = text_field(k, body, "display_name", CONTENT_DISPLAY_MAX, 0,
	    out)) != 0)
		return rc;
	if ((v = json_object_get(body, "logo")) != NULL) {
		if ((rc = image_field(k, "logo", v, &img)) != 0)
			return rc;
		json_object_set_new(out, "logo", img);
	}
	if ((v = json_object_get(body, "support_phone")) != NULL) {
		const char *s = json_is_string(v) ? json_string_value(v) : "";
		size_t digits = 0, i = 0;

		if (s[0] == '+')
			i++;
		for (; s[i]; i++) {
			if (is_digit(s[i]))
				digits++;
			else if (s[i] != '-' && s[i] != ' ')
				break;
		}
		if (s[i] != '\0' || digits < 3 || digits > 20 ||
		    strlen(s) > CONTENT_PHONE_MAX)
			return refuse(k, "field '%s' must be a phone number: "
			    "an optional '+', then 3 to 20 digits, spaces "
			    "and '-'", "support_phone");
		json_object_set_new(out, "support_phone", json_string(s));
	}
	if ((v = json_object_get(body, "support_url")) != NULL) {
		if (!json_is_string(v) || content_href_check(
		    json_string_value(v), href, sizeof href, &kind) != 0 ||
		    kind != HREF_WEB)
			return refuse(k, "field '%s' must be an https:// or "
			    "http:// URL of at most 256 characters",
			    "support_url");
		json_object_set_new(out, "support_url", json_string(href));
	}
	return 0;
}

static int
buttons_field(struct check *k, const json_t *arr, json_t *out)
{
	char href[CONTENT_HREF_MAX + 1];
	const json_t *b;
	json_t *list;
	size_t i;
	int kind, rc;

	if (!json_is_array(arr) || json_array_size(arr) > PAGE_BUTTONS_MAX)
		return refuse(k, "field '%s' must be an array of at most 4 "
		    "{label, href} objects", "buttons");
	list = json_array();
	json_array_foreach(arr, i, b) {
		json_t *one = json_object();

		json_array_append_new(list, one);
		if (!json_is_object(b) || json_object_size(b) != 2 ||
		    !json_is_string(json_object_get(b, "href")))
			goto bad_shape;
		if ((rc = text_field(k, b, "label", CONTENT_LABEL_MAX, 0,
		    one)) != 0) {
			json_decref(list);
			return rc;
		}
		if (json_object_get(one, "label") == NULL)
			goto bad_shape;
		if (content_href_check(json_string_value(json_object_get(b,
		    "href")), href, sizeof href, &kind) != 0) {
			json_decref(list);
			return refuse(k, "field '%s': a button's href must be "
			    "https:// or http:// (at most 256 characters, no "
			    "quotes, spaces or user info), tel:+digits, or "
			    "link:gs1:TYPE with a GS1 link type; javascript:, "
			    "data: and any other scheme are refused",
			    "buttons");
		}
		json_object_set_new(one, "href", json_string(href));
	}
	json_object_set_new(out, "buttons", list);
	return 0;
bad_shape:
	json_decref(list);
	return refuse(k, "field '%s': each button is {label: text of 1 to "
	    "24 characters, href: URL} and nothing else", "buttons");
}

static int
product_doc(struct check *k, const json_t *body, json_t *out)
{
	const json_t *v;
	size_t i;
	int rc;

	if ((rc = text_field(k, body, "title", CONTENT_TITLE_MAX, 0,
	    out)) != 0 || (rc = text_field(k, body, "story",
	    CONTENT_STORY_MAX, SIGIL_TEXT_MULTILINE, out)) != 0)
		return rc;
	if ((v = json_object_get(out, "story")) != NULL &&
	    story_html_len(json_string_value(v)) > CONTENT_STORY_HTML_MAX)
		return refuse(k, "field '%s' is too long for the page once "
		    "shown (at most 3800 bytes with its markup; fewer "
		    "characters, or fewer of < > & and quotes)", "story");
	if ((v = json_object_get(body, "images")) != NULL) {
		json_t *list, *img, *e;

		if (!json_is_array(v) ||
		    json_array_size(v) > PAGE_IMAGES_MAX)
			return refuse(k, "field '%s' must be an array of at "
			    "most 6 image ids", "images");
		list = json_array();
		json_array_foreach(v, i, e) {
			if ((rc = image_field(k, "images", e, &img)) != 0) {
				json_decref(list);
				return rc;
			}
			json_array_append_new(list, img);
		}
		json_object_set_new(out, "images", list);
	}
	if ((v = json_object_get(body, "buttons")) != NULL &&
	    (rc = buttons_field(k, v, out)) != 0)
		return rc;
	return 0;
}

int
content_doc_check(struct store *st, uint32_t brand_id, int kind,
    const json_t *body, char **text, size_t *len, char *why,
    size_t why_size)
{
	static const char *const brand_keys[] = { "display_name", "logo",
	    "support_phone", "support_url", NULL };
	static const char *const product_keys[] = { "title", "story",
	    "images", "buttons", NULL };
	struct check k = { st, brand_id, why, why_size };
	const char *const *keys = kind == CONTENT_BRAND ? brand_keys :
	    product_keys;
	const char *key;
	const json_t *v;
	json_t *out;
	int rc;

	*text = NULL;
	if (!json_is_object(body))
		return refuse(&k, "the body must be a JSON %s", "object");
	json_object_foreach((json_t *)body, key, v) {
		int known = 0;

		for (size_t i = 0; keys[i] != NULL; i++)
			known |= strcmp(key, keys[i]) == 0;
		/* The message is sent unescaped: name the key only when it
		 * is plainly a name. */
		if (!known)
			return refuse(&k, "unknown field '%s'", strlen(key) <= 32 &&
			    strspn(key, "abcdefghijklmnopqrstuvwxyz_") ==
			    strlen(key) ? key : "?");
	}
	if (json_object_size(body) == 0)
		return refuse(&k, "the document is empty: give at least one "
		    "of its fields%s", "");
	if ((out = json_object()) == NULL)
		return SIGIL_ENOMEM;
	rc = kind == CONTENT_BRAND ? brand_doc(&k, body, out) :
	    product_doc(&k, body, out);
	if (rc == 0) {
		*text = json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS);
		if (*text == NULL)
			rc = SIGIL_ENOMEM;
		else if ((*len = strlen(*text)) > STORE_CONTENT_DOC_MAX) {
			free(*text);
			*text = NULL;
			rc = refuse(&k, "the document is over %s bytes",
			    "32768");
		}
	}
	json_decref(out);
	return rc;
}
