/*
 * content.h - a brand's content for the landing page: what a document
 * may hold (and the checks that refuse everything else), the images it
 * shows, which language a phone gets, and the page view built from the
 * store for one scan. See src/domain/content.c and content_view.c.
 */
#ifndef SIGIL_CONTENT_H
#define SIGIL_CONTENT_H

#include <stddef.h>
#include <stdint.h>

#include "sigil/page.h"
#include "sigil/store.h"

struct app;
struct json_t;

/* Limits, in Unicode characters unless said otherwise. They keep the
 * page under 20 KB of HTML with everything at its largest. */
#define CONTENT_DISPLAY_MAX	40
#define CONTENT_PHONE_MAX	24	/* bytes: "+", digits, spaces, "-" */
#define CONTENT_TITLE_MAX	80
#define CONTENT_STORY_MAX	2000
#define CONTENT_STORY_HTML_MAX	3800	/* bytes of the story, escaped */
#define CONTENT_LABEL_MAX	24
#define CONTENT_HREF_MAX	256	/* bytes, printable ASCII */
#define CONTENT_IMAGE_ID_LEN	48	/* 8 hex brand id, 40 hex hash */

enum image_type {
	IMAGE_PNG = 1, IMAGE_JPEG = 2, IMAGE_WEBP = 3, IMAGE_GIF = 4,
};

/* The image type of these bytes by their magic numbers, or 0 (SVG,
 * HTML and everything else). */
int content_image_sniff(const uint8_t *p, size_t n);
/* "image/png" ...; NULL for an unknown type. */
const char *content_image_mime(int type);
/* The type a Content-Type header names (parameters ignored, case
 * insensitive), or 0: absent, SVG, anything else. */
int content_image_type_of(const char *content_type);
/* The id of an image: brand id and hash, as lower-case hex. */
void content_image_id(uint32_t brand_id, const uint8_t *hash,
    char out[CONTENT_IMAGE_ID_LEN + 1]);
/* 0 with *brand_id and hash, or SIGIL_EINVAL (not an id). */
int content_image_id_parse(const char *id, uint32_t *brand_id,
    uint8_t hash[STORE_IMAGE_HASH_LEN]);
/* SHA-256 of the bytes, cut to STORE_IMAGE_HASH_LEN. */
void content_image_hash(const uint8_t *p, size_t n,
    uint8_t out[STORE_IMAGE_HASH_LEN]);

/*
 * A BCP 47 language tag in its conventional case (language lower,
 * script title, region upper: "zh-cn" -> "zh-CN"): 0, or SIGIL_EINVAL
 * for anything that is not language *("-" subtag) with a 2-3 letter
 * language (or "i"/"x" forms refused) and 1-8 alphanumeric subtags, at
 * most STORE_LANG_MAX bytes.
 */
int content_lang_norm(const char *in, char out[STORE_LANG_MAX + 1]);

/*
 * The language to show among the n tags available (normalised), for
 * this Accept-Language: the ranges by q (RFC 9110; q=0 refuses), each
 * matched exactly, then by RFC 4647 lookup (zh-Hant-TW, zh-Hant, zh),
 * then as a prefix of an available tag (zh matches zh-CN); then zh-CN,
 * then en (or en-*), then the first tag. The index, or -1 when n is 0.
 * Reads at most 1024 bytes and 32 ranges of the header.
 */
int content_lang_choose(const char *accept_language,
    const char *const *tags, size_t n);

/*
 * What a button's href may be: "https://..." or "http://..." (a host,
 * printable ASCII without quotes, angle brackets, backslashes or
 * spaces), "tel:" and a phone number ("+", digits, "-"), or
 * "link:gs1:TYPE" with TYPE a GS1 Web Vocabulary link type. The scheme
 * may be in any case and is written lower-case into out. Anything else
 * (javascript:, data:, vbscript:, relative, protocol-relative) is
 * SIGIL_EINVAL.
 */
enum content_href_kind { HREF_WEB = 1, HREF_TEL = 2, HREF_LINK = 3 };
int content_href_check(const char *href, char *out, size_t size,
    int *kind);

/*
 * Checks a document body (a JSON object) for kind and writes its
 * canonical JSON (the known fields only, checked and normalised) into
 * *text (malloc'd, the caller frees) and *len. Images and the logo must
 * be ids of brand_id's stored images. 0, or SIGIL_EINVAL with why (a
 * sentence naming the field) filled in; SIGIL_ENOMEM.
 */
int content_doc_check(struct store *st, uint32_t brand_id, int kind,
    const struct json_t *body, char **text, size_t *len, char *why,
    size_t why_size);

/*
 * How a "link:gs1:TYPE" button finds its URL: the item's link of that
 * type (the link store's walk up serial -> lot -> GTIN -> brand), into
 * href: 0, or nonzero when there is none (the button is then left
 * out). Set once at start-up by the owner of the link store; while it
 * is NULL such buttons are left out.
 */
typedef int (*content_link_fn)(struct app *app, uint32_t brand_id,
    const char *sku, uint64_t batch_id, uint64_t serial,
    const char *link_type, char *href, size_t size);
void content_link_resolver_set(content_link_fn fn);

/*
 * The content of one scan's page: the brand document and the product's
 * merged with its batch's (field by field, batch first), each in the
 * language content_lang_choose picks, and the trace card from the
 * code's events. draft, when not NULL, is a product document (checked
 * JSON) used instead of the stored product's (the editor's preview);
 * sample_trace makes up a trace for a preview. out owns everything
 * its page_content points to until content_view_free.
 */
struct content_view {
	struct page_content	pc;
	struct json_t		*brand, *product, *batch;	/* held */
	char			 brand_lang[STORE_LANG_MAX + 1];
	char			 lang[STORE_LANG_MAX + 1];
	char			 hrefs[PAGE_BUTTONS_MAX][CONTENT_HREF_MAX + 1];
	char			 dist[PAGE_STEPS_MAX][STORE_TEXT_BYTES + 1];
};
int content_view_load(struct app *app, uint32_t brand_id, const char *sku,
    uint64_t batch_id, uint64_t serial, const char *accept_language,
    const struct json_t *draft, int sample_trace, struct content_view *out);
void content_view_free(struct content_view *v);

/*
 * The brand's display name (its brand document's display_name, in the
 * language the page would pick) into out, cut to size. 0,
 * SIGIL_ENOTFOUND (no document or no name), SIGIL_ENOMEM. Where a page
 * or an answer shows the brand to a consumer it shows this, not the
 * slug.
 */
int content_display_name(struct app *app, uint32_t brand_id,
    const char *accept_language, char *out, size_t size);

/* A kind's name in the API ("brand", "products", "batches"), and back. */
const char *content_kind_name(int kind);

#endif
