/*
 * http_scan.h - one scan, recorded and answered (src/face/http_scan.c):
 * what the compact scan (consumer.c) and the GS1 resolver (resolver.c)
 * share. A handler fills a struct scan_ctx from http_scan_new(), sets
 * the code's record, and hands it to http_scan_submit(); the answer goes
 * out after the writer's commit, in this order (docs/api.md, "Where a
 * scan goes"):
 *
 *   1. Accept: application/json: the scan's JSON, never a redirect;
 *   2. a verdict other than genuine: sigil's page, with the brand's
 *      gs1:support link if it has one, never a redirect;
 *   3. linkType= naming a link the item has: 307 to it; else the first
 *      redirect rule that holds (redirect.h): 307 to its href;
 *   4. the item's default link (walked up): 307 to it, unless gs1:pip
 *      was asked for (sigil's own page is the product page then);
 *   5. sigil's page.
 * Every 307 carries the request's query minus linkType and s.
 *
 * Before any of that, inside WeChat's browser (wechat.h): a human scan
 * of a known code of a brand with an official account, not JSON, from a
 * device with no WeChat identity of that account yet, is answered 302 to
 * WeChat's authorize page and recorded nothing; WeChat sends it back
 * through /wx/oauth to the same path, which then records and answers it.
 */
#ifndef SIGIL_HTTP_SCAN_H
#define SIGIL_HTTP_SCAN_H

#include <stdint.h>

#include "sigil/code.h"
#include "sigil/geoip.h"
#include "sigil/lookup.h"
#include "sigil/writer.h"

struct app;
struct http_call;
struct json_t;

struct scan_ctx {
	struct http_call	*call;
	struct writer_job	job;
	int			json;
	int			new_device;
	int			lang;
	int			known;	/* info's brand/batch/product valid */
	struct code_info	info;
	/* The resolver's part; zero for a compact scan. */
	char			link_type[64];	/* linkType= asked for */
	/*
	 * When the code is unknown (counterfeit, unverified) but the GTIN
	 * it names is held by one brand here: that brand and product,
	 * for the page's names and the brand's support link.
	 */
	int			held;
	struct brand		held_brand;
	struct product		held_product;
	/* Unknown code: the brand its key id names (lookup_key_brand). */
	uint32_t		key_brand;
	/* The address's place (--geoip), which job.rec.place points to. */
	struct geoip_place	place;
};

/*
 * The cookie that keeps a browser out of WeChat's authorisation for ten
 * minutes after it gave nothing usable (wechat_oauth.c sets it).
 */
#define HTTP_SCAN_WECHAT_SKIP	"sg_wx"

/* A new context for c (Accept and Accept-Language read), or NULL after
 * replying 503. */
struct scan_ctx *http_scan_new(struct http_call *c);

/*
 * Records the scan of code (NULL when there is none: counterfeit or
 * unverified) with verdict, and answers c after the commit. s->known and
 * s->info must be set (lookup_resolve). Takes s (freed after the answer,
 * or at once with a 503 when the writer refuses).
 */
void http_scan_submit(struct scan_ctx *s, const struct code *code,
    int verdict, int is_gs1);

/*
 * 307 to href with the request's query passed on, minus linkType and s,
 * before href's fragment (redirect_location, redirect.h). The caller
 * sets Cache-Control. Sends and frees c.
 */
void http_scan_redirect(struct http_call *c, const char *href);

/* What a consumer may see of serial's trace (steps, times, distributors):
 * a JSON array (json_t *), at most 50 steps. */
struct json_t *http_scan_trace(struct app *app, uint32_t brand_id,
    uint64_t serial);

#endif
