/*
 * page.h - the consumer landing page: a template from web/ filled with one
 * scan's result, every value HTML-escaped, in zh-CN or English.
 */
#ifndef SIGIL_PAGE_H
#define SIGIL_PAGE_H

#include <stdint.h>

struct evbuffer;

enum page_lang { PAGE_LANG_ZH = 0, PAGE_LANG_EN = 1 };

/* What the page shows. Strings may be NULL (shown as absent). */
/* Not a verdict: a product named without an item (a GTIN-level Digital
 * Link), shown without any judgement. */
#define PAGE_VIEW_PRODUCT	6

struct page_view {
	int		verdict;	/* enum scan_verdict (store.h), or
					   PAGE_VIEW_PRODUCT */
	int		first_scan;
	uint32_t	scan_count;
	int64_t		first_at;	/* 0 if unknown */
	int		has_first_place;
	double		first_lat, first_lng;
	const char	*brand_name;
	const char	*product_name;
	const char	*sku;
	const char	*gtin;
	const char	*lot;
	uint64_t	batch_id;
	uint64_t	serial;
	int64_t		expires;	/* 0 if none */
	const char	*scan_id;	/* for the share-location button */
	int		diversion;
	int		bot;		/* previewer: no location button */
	const char	*support_url;	/* the brand's gs1:support link */
	const char	*support_title;
};

/*
 * Loads and checks the template web_dir/landing.html once at start-up.
 * 0, SIGIL_ENOTFOUND, SIGIL_EINVAL (unknown placeholder, unbalanced
 * section, not UTF-8, over 64 KB), SIGIL_EIO (unreadable), SIGIL_ENOMEM.
 * On failure a template loaded earlier stays in use. Not thread-safe:
 * call before rendering starts (page_render may then run on any thread).
 */
int page_init(const char *web_dir);
void page_fini(void);

/*
 * Picks zh or en from an Accept-Language header (RFC 9110 q-values; zh-*
 * variants map to zh; no usable header means zh). Bounded: reads at most
 * the first 1024 bytes and 32 entries. Never fails.
 */
int page_lang_pick(const char *accept_language);

/*
 * Appends the rendered page to out. 0, SIGIL_ENOMEM, SIGIL_EINVAL (verdict
 * or lang out of range) or SIGIL_ESTATE (no template loaded).
 */
int page_render(const struct page_view *v, int lang, struct evbuffer *out);

/*
 * HTML-escapes s (& < > " ' and control bytes) onto out; invalid UTF-8,
 * controls other than tab/CR/LF, and bidi overrides become U+FFFD. NULL
 * appends nothing. 0 or SIGIL_ENOMEM.
 */
int page_escape(struct evbuffer *out, const char *s);

#endif
