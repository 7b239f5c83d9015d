/*
 * sigil/store/redirects.h - a brand's redirect rules per product or
 * batch, and each device's last consented location, which a rule's
 * region condition is judged by (src/store/store_redirects.c).
 *
 * Rules are kept in scan order: keyed brand ‖ sku ‖ batch ‖ priority ‖
 * id, so that a scan reads the rules of its batch, then those of its
 * product, in the order they are tried, in one snapshot. What a rule
 * means (which conditions hold) is the domain's (redirect.c); the store
 * checks only what must stay true of every row: the product, the batch
 * (of that product) and the distributors a rule names exist in its
 * brand, the href is bounded printable text.
 *
 * A part of sigil/store.h: include sigil/store.h, not this.
 */
#ifndef SIGIL_STORE_REDIRECTS_H
#define SIGIL_STORE_REDIRECTS_H

#ifndef SIGIL_STORE_H
#error "include sigil/store.h"
#endif

#define REDIRECT_HREF_MAX	2000	/* bytes of a rule's href */
#define REDIRECT_LANGS_MAX	16	/* language tags a rule names */
#define REDIRECT_TAG_MAX	35	/* bytes of one tag (BCP 47) */
#define REDIRECT_REGIONS_MAX	32	/* distributors a rule names */
#define REDIRECT_SCOPE_MAX	100	/* rules per product, per batch */
#define REDIRECT_PRIORITY_MAX	1000000

/* Which conditions a rule has (absent ones hold). */
enum redirect_when {
	REDIRECT_WHEN_LANG = 1 << 0,
	REDIRECT_WHEN_WECHAT = 1 << 1,
	REDIRECT_WHEN_FROM = 1 << 2,
	REDIRECT_WHEN_UNTIL = 1 << 3,
	REDIRECT_WHEN_REGION = 1 << 4,
};

struct redirect_rule {
	uint32_t	brand_id;
	uint32_t	id;		/* per brand, from 1, never reused */
	char		sku[STORE_NAME_BYTES + 1];
	uint64_t	batch;		/* 0: a product rule */
	uint32_t	priority;	/* lower first, then id */
	char		href[REDIRECT_HREF_MAX + 1];
	unsigned	when;		/* enum redirect_when */
	int		wechat;		/* WHEN_WECHAT: 1 inside, 0 outside */
	int64_t		from, until;	/* microseconds: from <= now < until */
	size_t		nlang;
	char		lang[REDIRECT_LANGS_MAX][REDIRECT_TAG_MAX + 1];
	size_t		nregion;
	uint32_t	region[REDIRECT_REGIONS_MAX];	/* distributor ids */
	char		note[STORE_TEXT_BYTES + 1];
	int64_t		created, updated;
};

/*
 * Adds r: sets r->id, r->created, r->updated. SIGIL_EINVAL for a rule
 * whose fields break the bounds above (empty sku or href, control
 * characters, priority past REDIRECT_PRIORITY_MAX, a flag in when
 * without its values); SIGIL_ENOTFOUND when the brand's product sku, its
 * batch (of that sku) or one of the distributors does not exist;
 * SIGIL_EFULL past REDIRECT_SCOPE_MAX rules in the rule's scope.
 */
int store_redirect_add(struct store *st, struct redirect_rule *r);
/* Rule id of brand_id; SIGIL_ENOTFOUND (also for another brand's). */
int store_redirect_get(struct store *st, uint32_t brand_id, uint32_t id,
    struct redirect_rule *out);
/*
 * Replaces rule r->id of r->brand_id with r (which may move to another
 * product, batch or priority), if r->updated is still the stored rule's
 * (SIGIL_ECONFLICT: it changed meanwhile); sets r->updated anew, keeps
 * created. The errors of store_redirect_add, SIGIL_ENOTFOUND for no such
 * rule.
 */
int store_redirect_update(struct store *st, struct redirect_rule *r);
int store_redirect_del(struct store *st, uint32_t brand_id, uint32_t id);
/*
 * brand_id's rules in key order (sku, batch, priority, id): all of them
 * (sku NULL), a product's (batch 0 and product_only 0: its product and
 * batch rules; product_only 1: its product rules), a batch's (batch set).
 */
int store_redirect_each(struct store *st, uint32_t brand_id,
    const char *sku, uint64_t batch, int product_only,
    int (*fn)(void *arg, const struct redirect_rule *r), void *arg);
/*
 * The scan path's read: the rules of batch (of product sku), then those
 * of the product, each in priority order, in one snapshot: fn sees each
 * until it returns nonzero (what this returns then). fn may call the
 * store's read functions (they join the snapshot).
 */
int store_redirect_scan(struct store *st, uint32_t brand_id,
    const char *sku, uint64_t batch,
    int (*fn)(void *arg, const struct redirect_rule *r), void *arg);

/*
 * A device's last consented location on a scan of a brand's code,
 * written with the location (store_scan_locate) and deleted by the
 * erasure of a customer the device belongs to.
 */
struct device_loc {
	float		lat, lng;
	int64_t		at;
};
int store_device_loc_get(struct store *st, uint32_t brand_id,
    uint64_t device, struct device_loc *out);

#endif
