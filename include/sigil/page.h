/*
 * page.h - the consumer landing page: a template from web/ filled with one
 * scan's result, every value HTML-escaped, in zh-CN or English.
 */
#ifndef SIGIL_PAGE_H
#define SIGIL_PAGE_H

#include <stdint.h>

struct evbuffer;

enum page_lang { PAGE_LANG_ZH = 0, PAGE_LANG_EN = 1 };

#define PAGE_IMAGES_MAX		6
#define PAGE_BUTTONS_MAX	4
#define PAGE_STEPS_MAX		4

/* The trace card's steps, in the order goods move. */
enum page_step_kind {
	PAGE_STEP_MADE, PAGE_STEP_PACKED, PAGE_STEP_SHIPPED,
	PAGE_STEP_RECEIVED,
};

/* A button: href already checked (http, https or tel: only). */
struct page_button {
	const char	*label;
	const char	*href;
};

struct page_step {
	int		kind;		/* enum page_step_kind */
	int64_t		at;		/* microseconds */
	const char	*distributor;	/* SHIPPED/RECEIVED: name, or NULL */
};

/*
 * The brand's content for this page (content.c fills it from the store;
 * page_content.c renders it). Strings may be NULL. images and logo are
 * image ids, shown as /i/{id}. Marketing (logo, title, story, images,
 * buttons) is shown for a genuine verdict only; the display name, the
 * trace card and the support phone and link for every verdict.
 */
struct page_content {
	const char	*display_name;
	const char	*logo;
	const char	*brand_lang;	/* the brand document's language */
	const char	*support_phone;	/* shown as a tel: link */
	const char	*support_url;	/* http(s) */
	const char	*lang;		/* the product document's language */
	const char	*title;
	const char	*story;		/* plain text; blank line: paragraph */
	const char	*images[PAGE_IMAGES_MAX];
	size_t		nimages;
	struct page_button buttons[PAGE_BUTTONS_MAX];
	size_t		nbuttons;
	struct page_step steps[PAGE_STEPS_MAX];
	size_t		nsteps;
};

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
	const char	*check_id;	/* shown: scan_check_format's */
	int		diversion;
	int		bot;		/* previewer: no location button */
	const struct page_content *content;	/* NULL: none */
	int		preview;	/* the editor's preview: no scripts
					   run, nothing is sent */
	const char	*support_url;	/* the brand's gs1:support link */
	const char	*support_title;
	int		reward;		/* a campaign rewards this item: the
					   reward card (genuine and suspicious
					   verdicts only) */
	int		cash;		/* ... and draws cash (issue 22): the
					   red packet's part of the card */
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
 * The Content-Security-Policy the rendered page is sent with: scripts
 * only the template's own (by SHA-256), images from this origin, no
 * other origin for anything; preview allows framing by this origin (the
 * dashboard's editor) and nothing else. Valid after page_init.
 */
const char *page_csp(int preview);

/*
 * The HTML of the content blocks (page_content.c), appended to out;
 * page.c's renderer calls it for the {{c_*}} placeholders. which is one
 * of enum page_block. Every value is escaped. 0 or SIGIL_ENOMEM.
 */
enum page_block {
	PAGE_BLOCK_BRAND,	/* logo and display name, under the verdict */
	PAGE_BLOCK_STORY,	/* title, story, images, buttons */
	PAGE_BLOCK_TRACE,	/* the trace card */
	PAGE_BLOCK_SUPPORT,	/* support phone and link */
};
int page_content_block(const struct page_view *v, int lang, int which,
    struct evbuffer *out);

/*
 * HTML-escapes s (& < > " ' and control bytes) onto out; invalid UTF-8,
 * controls other than tab/CR/LF, and bidi overrides become U+FFFD. NULL
 * appends nothing. 0 or SIGIL_ENOMEM.
 */
int page_escape(struct evbuffer *out, const char *s);
/* The same for the n bytes at s (no NUL needed). */
int page_escape_n(struct evbuffer *out, const char *s, size_t n);

#endif
