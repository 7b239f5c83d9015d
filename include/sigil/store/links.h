/*
 * sigil/store/links.h - the brand's GS1 links (src/store/store_links.c):
 * per brand, links at GTIN, GTIN+lot and GTIN+lot+serial level, or for
 * compact codes at product (sku) and batch level, or at brand level
 * (none of these set). The resolver (src/face/resolver.c) walks them up
 * through src/domain/links.c; the brand API (src/face/api_links.c)
 * writes them.
 *
 * A part of sigil/store.h, which includes it after the limits and the
 * types it uses: include sigil/store.h, not this.
 */
#ifndef SIGIL_STORE_LINKS_H
#define SIGIL_STORE_LINKS_H

#ifndef SIGIL_STORE_H
#error "include sigil/store.h"
#endif

#define LINK_HREF_MAX		1024	/* bytes */
#define LINK_TITLE_MAX		200	/* characters */
#define LINK_TYPE_MAX		48
#define LINK_LANGS_MAX		8	/* hreflang entries */
#define LINK_LANG_MAX		35	/* one BCP 47 tag */
#define LINK_MEDIA_MAX		100
#define LINK_PER_BRAND_MAX	2000

struct link {
	uint32_t	brand_id;
	uint32_t	id;
	/* The level: GS1 (gtin, lot, serial), compact (sku, batch), or
	 * brand level when all are empty/0. */
	char		gtin[15];
	char		lot[21];
	char		serial[21];
	char		sku[STORE_NAME_BYTES + 1];
	uint64_t	batch;
	char		link_type[LINK_TYPE_MAX + 1];	/* "gs1:pip" */
	char		href[LINK_HREF_MAX + 1];
	char		title[LINK_TITLE_MAX * 4 + 1];
	char		hreflang[LINK_LANGS_MAX * (LINK_LANG_MAX + 1) + 1];
					/* comma-separated, "" none */
	char		context[LINK_TITLE_MAX * 4 + 1];
	char		media_type[LINK_MEDIA_MAX + 1];
	int		is_default;	/* the default link of its level */
	int		type_default;	/* the default of its link type */
	int64_t		created;
};

/*
 * Adds l (id assigned, created set): brand must exist, at most
 * LINK_PER_BRAND_MAX links per brand (SIGIL_EFULL). When l is its
 * level's default (or its type's), the other links of that level (of that
 * level and type) stop being it, in the same transaction. Fields are
 * trusted to be validated (links.c); only their bounds are checked here
 * (SIGIL_EINVAL).
 */
int store_link_add(struct store *st, struct link *l);
/* brand_id's link id, or SIGIL_ENOTFOUND (another brand's included). */
int store_link_get(struct store *st, uint32_t brand_id, uint32_t id,
    struct link *out);
/* Replaces the stored link (l->brand_id, l->id), level and all, with the
 * same default rules as add; SIGIL_ENOTFOUND. created is kept. */
int store_link_put(struct store *st, const struct link *l);
int store_link_del(struct store *st, uint32_t brand_id, uint32_t id);
/* Every link of brand_id in id order; fn returns 0 to go on. */
int store_link_each(struct store *st, uint32_t brand_id,
    int (*fn)(void *arg, const struct link *l), void *arg);

#endif
