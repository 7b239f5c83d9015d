/*
 * links.h - what a brand's GS1 links mean (src/domain/links.c): the
 * checks a link must pass (a GS1 Web Vocabulary link type, an http(s)
 * target, BCP 47 languages), and the walk-up that finds the links of an
 * item: serial -> lot -> GTIN -> brand for Digital Links, batch -> sku
 * -> brand for compact codes.
 */
#ifndef SIGIL_LINKS_H
#define SIGIL_LINKS_H

#include <stddef.h>
#include <stdint.h>

#include "sigil/store.h"

/*
 * 1 when t names a link type of the GS1 Web Vocabulary, as "gs1:name"
 * (defaultLink and defaultLinkMulti are the resolver's own, not a
 * brand's). Writes the canonical spelling to out (LINK_TYPE_MAX + 1):
 * "gs1:customerSupport" is taken as the vocabulary's "gs1:support".
 */
int links_type_ok(const char *t, char *out);

/*
 * 0 when href is an absolute http:// or https:// URL of printable ASCII
 * (no spaces, controls, user info or fragment), a host of letters,
 * digits, dots and hyphens (or an [IPv6] literal), at most
 * LINK_HREF_MAX bytes; the copy in out has scheme and host in lower
 * case. SIGIL_EINVAL, with *why a short reason.
 */
int links_href_check(const char *href, char *out, size_t size,
    const char **why);

/* 1 for a well-formed BCP 47 language tag (syntax of RFC 5646 §2.1). */
int links_lang_ok(const char *tag);

/* The item a scan or a resolver request names; "" and 0 for unknown. */
struct links_item {
	const char	*gtin, *lot, *serial, *sku;
	uint64_t	batch;
	/* The request's Accept-Language, or NULL: among links of one type
	 * and level, the first language it names that a link's hreflang
	 * fits (same tag or same primary language) wins. */
	const char	*accept_language;
};

/*
 * How specific l's level is for item: -1 when it does not apply, 0 brand
 * level, 1 GTIN or product, 2 lot or batch, 3 serial (4 with the lot).
 */
int links_level(const struct link *l, const struct links_item *item);

/*
 * The links of brand_id that apply to item, most specific level first
 * (and by id within a level): *out malloc'd (free it), *n of them.
 * 0, or a store error.
 */
int links_of_item(struct store *st, uint32_t brand_id,
    const struct links_item *item, struct link **out, size_t *n);

/*
 * From links_of_item's list: the link to answer with. link_type NULL or
 * "": the default link of the most specific level that has one;
 * otherwise, among the links of that type at the most specific level
 * with one (at most 64), the first to fit item->accept_language, else
 * the type's default, else the first. NULL when none.
 */
const struct link *links_pick(const struct link *v, size_t n,
    const struct links_item *item, const char *link_type);

/*
 * The href of the item's link of link_type ("gs1:promotion"), the item
 * named as a content page knows it (sku, batch, serial; the product's
 * GTIN and the batch's lot are looked up), into href: 0, SIGIL_ENOTFOUND
 * (no such link), SIGIL_EINVAL (href too small) or a store error. The
 * content_link_fn sigild gives content.c (content.h).
 */
struct app;
int links_href_for(struct app *app, uint32_t brand_id, const char *sku,
    uint64_t batch_id, uint64_t serial, const char *link_type, char *href,
    size_t size);

#endif
