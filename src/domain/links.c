/*
 * links.c - what a brand's GS1 links mean: the checks a link must pass
 * before the store keeps it, and the walk-up that finds an item's links.
 *
 * Link types: the GS1 Web Vocabulary's link types (https://gs1.org/voc/,
 * "gs1:" prefix), each a sub-property of gs1:linkType; a brand may not
 * claim the resolver's own defaultLink and defaultLinkMulti (a link's
 * "default" flag says that). Targets: http(s) only, so no javascript:,
 * data: or tel: link reaches a redirect; scheme and host are kept in
 * lower case (a linkset's hrefs must match the schema's https?:// pattern
 * and hosts are case-blind anyway). Languages: RFC 5646's syntax.
 *
 * The walk-up: a link applies to an item when every level field it sets
 * equals the item's (a GTIN link to every lot and serial of that GTIN,
 * a brand link to everything of the brand). The most specific level
 * wins: serial, then lot, then GTIN, then brand; for compact codes,
 * batch, then product, then brand. A brand has at most
 * LINK_PER_BRAND_MAX links, read in one walk of its rows.
 *
 * May call: store (reads), util. Never writes, never knows HTTP.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sigil/app.h"
#include "sigil/links.h"
#include "sigil/store.h"
#include "sigil/util.h"

/* GS1 Web Vocabulary link types (ref.gs1.org/voc, "Link type" terms). */
static const char *const vocabulary[] = {
	"activityIdeas", "allergenInfo", "appDownload", "assemblyInstructions",
	"brandHomepageClinical", "brandHomepagePatient", "careersInfo",
	"certificationInfo", "consumerHandlingStorageInfo", "eifu", "epcis",
	"epil", "eventsInfo", "faqs", "handledBy", "hasRetailers", "homepage",
	"ingredientsInfo", "instructions", "jws", "leaveReview",
	"locationInfo", "logisticsInfo", "loyaltyProgram", "masterData",
	"menuInfo", "nutritionalInfo", "openingHoursInfo", "paymentLink",
	"pip", "productSustainabilityInfo", "promotion",
	"purchaseSuppliesOrAccessories", "quickStartGuide", "recallStatus",
	"recipeInfo", "registerProduct", "registryEntry", "relatedImage",
	"relatedVideo", "review", "safetyInfo", "scheduleTime", "serviceInfo",
	"smartLabel", "smpc", "socialMedia", "statisticInfo", "subscribe",
	"support", "sustainabilityInfo", "traceability", "tutorial",
	"userAgreement", "verificationService", "whatsInTheBox",
};

int
links_type_ok(const char *t, char *out)
{
	if (t == NULL || strncmp(t, "gs1:", 4) != 0)
		return 0;
	if (strcmp(t, "gs1:customerSupport") == 0)
		t = "gs1:support";
	for (size_t i = 0; i < sizeof vocabulary / sizeof vocabulary[0]; i++)
		if (strcmp(t + 4, vocabulary[i]) == 0) {
			if (out != NULL)
				strcpy(out, t);
			return 1;
		}
	return 0;
}

static int
lower(int ch)
{
	return ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch;
}

static int
alpha(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static int
alnum(char ch)
{
	return alpha(ch) || (ch >= '0' && ch <= '9');
}

int
links_href_check(const char *href, char *out, size_t size, const char **why)
{
	size_t n, skip, h;
	const char *dummy;

	if (why == NULL)
		why = &dummy;
	*why = "href must be an absolute http:// or https:// URL of at most "
	    "1024 printable ASCII characters";
	if (href == NULL || (n = strnlen(href, LINK_HREF_MAX + 1)) >
	    LINK_HREF_MAX || n + 1 > size)
		return SIGIL_EINVAL;
	if (strncasecmp(href, "https://", 8) == 0)
		skip = 8;
	else if (strncasecmp(href, "http://", 7) == 0)
		skip = 7;
	else
		return SIGIL_EINVAL;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)href[i] <= 0x20 ||
		    (unsigned char)href[i] >= 0x7f || href[i] == '\\' ||
		    href[i] == '"' || href[i] == '<' || href[i] == '>')
			return SIGIL_EINVAL;
	if (strchr(href, '#') != NULL) {
		*why = "href may not carry a fragment";
		return SIGIL_EINVAL;
	}
	h = skip;
	if (href[h] == '[') {
		while (h < n && href[h] != ']')
			h++;
		if (h == n)
			return SIGIL_EINVAL;
		h++;
	} else {
		while (h < n && href[h] != '/' && href[h] != '?' &&
		    href[h] != ':') {
			char ch = href[h];

			if (!((ch >= '0' && ch <= '9') || (ch >= 'a' &&
			    ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			    ch == '.' || ch == '-')) {
				*why = "href's host may hold letters, digits, "
				    "dots and hyphens only (no user info)";
				return SIGIL_EINVAL;
			}
			h++;
		}
		/* Letters or digits at both ends, no empty label. */
		if (h == skip || !alnum(href[skip]) || !alnum(href[h - 1]) ||
		    memmem(href + skip, h - skip, "..", 2) != NULL)
			return SIGIL_EINVAL;
	}
	if (h < n && href[h] == ':') {
		size_t p = h + 1;

		while (p < n && href[p] >= '0' && href[p] <= '9')
			p++;
		if (p == h + 1 || p - h - 1 > 5 || (p < n && href[p] != '/' &&
		    href[p] != '?'))
			return SIGIL_EINVAL;
	}
	for (size_t i = 0; i < n; i++)
		out[i] = (char)(i < h ? lower((unsigned char)href[i]) :
		    href[i]);
	out[n] = '\0';
	return 0;
}

int
links_lang_ok(const char *tag)
{
	size_t n, i = 0, len;
	int first = 1, singleton = 0;

	if (tag == NULL || (n = strlen(tag)) == 0 || n > LINK_LANG_MAX)
		return 0;
	while (i <= n) {
		size_t s = i;

		while (i < n && tag[i] != '-')
			i++;
		len = i - s;
		if (len == 0 || len > 8)
			return 0;
		for (size_t k = s; k < i; k++)
			if (!alnum(tag[k]) || (first && !alpha(tag[k])))
				return 0;
		if (first) {
			/* language: 2-3 letters, or 4-8 (registered) */
			if (len == 1 && !(tag[s] == 'x' || tag[s] == 'X' ||
			    tag[s] == 'i' || tag[s] == 'I'))
				return 0;
			if (len == 1)
				singleton = 1;
		} else if (len == 1) {
			if (singleton)
				return 0;	/* two singletons in a row */
			singleton = 1;
		} else
			singleton = 0;
		first = 0;
		i++;
	}
	return !singleton;
}

int
links_level(const struct link *l, const struct links_item *it)
{
	if (l->gtin[0] != '\0') {
		if (it->gtin == NULL || strcmp(l->gtin, it->gtin) != 0)
			return -1;
		if (l->lot[0] != '\0' && (it->lot == NULL ||
		    strcmp(l->lot, it->lot) != 0))
			return -1;
		if (l->serial[0] != '\0' && (it->serial == NULL ||
		    strcmp(l->serial, it->serial) != 0))
			return -1;
		return 1 + (l->lot[0] != '\0') + 2 * (l->serial[0] != '\0');
	}
	if (l->sku[0] != '\0') {
		if (it->sku == NULL || strcmp(l->sku, it->sku) != 0)
			return -1;
		if (l->batch != 0 && l->batch != it->batch)
			return -1;
		return 1 + (l->batch != 0);
	}
	return 0;
}

struct collect {
	const struct links_item	*item;
	struct link		*v;
	size_t			n, cap;
	int			err;
};

static int
collect_one(void *arg, const struct link *l)
{
	struct collect *c = arg;

	if (links_level(l, c->item) < 0)
		return 0;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 8;
		struct link *v = realloc(c->v, cap * sizeof *v);

		if (v == NULL) {
			c->err = SIGIL_ENOMEM;
			return 1;
		}
		c->v = v;
		c->cap = cap;
	}
	c->v[c->n++] = *l;
	return 0;
}

static int
by_level(const void *a, const void *b, void *item)
{
	const struct link *x = a, *y = b;
	int lx = links_level(x, item), ly = links_level(y, item);

	if (lx != ly)
		return ly - lx;
	return x->id < y->id ? -1 : x->id > y->id;
}

int
links_of_item(struct store *st, uint32_t brand_id,
    const struct links_item *item, struct link **out, size_t *n)
{
	struct collect c = { item, NULL, 0, 0, 0 };
	int rc = store_link_each(st, brand_id, collect_one, &c);

	if (rc == 0)
		rc = c.err;
	if (rc != 0) {
		free(c.v);
		return rc;
	}
	if (c.n > 1)
		qsort_r(c.v, c.n, sizeof *c.v, by_level, (void *)item);
	*out = c.v;
	*n = c.n;
	return 0;
}

/*
 * Whether one of l's hreflang tags fits the language tag want (len
 * bytes): equal, or the same primary language ("zh" fits "zh-CN").
 */
static int
lang_fits(const struct link *l, const char *want, size_t len)
{
	const char *p = l->hreflang;
	size_t wp = strcspn(want, "-");

	if (wp > len)
		wp = len;
	while (*p != '\0') {
		size_t n = strcspn(p, ","), pp = strcspn(p, "-,");

		if ((n == len && strncasecmp(p, want, len) == 0) ||
		    (pp == wp && strncasecmp(p, want, wp) == 0))
			return 1;
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

/* Whether the parameters p..end of an Accept-Language entry say q=0. */
static int
refused(const char *p, const char *end)
{
	const char *q;

	if (p == NULL)
		return 0;
	for (q = p; q + 2 <= end; q++)
		if ((q[0] == 'q' || q[0] == 'Q') && q[1] == '=') {
			q += 2;
			while (q < end && (*q == '0' || *q == '.'))
				q++;
			return q == end || *q == ' ' || *q == ';';
		}
	return 0;
}

/*
 * Among the n candidates c (one level, one type): the first that fits a
 * language of the Accept-Language header al, in the header's order
 * (entries with q=0 skipped), else the type's default, else the first.
 */
static const struct link *
by_language(const struct link *const *c, size_t n, const char *al)
{
	size_t seen = 0;

	while (al != NULL && *al != '\0' && seen++ < 16) {
		size_t len, entry = strcspn(al, ",");
		const char *q = memchr(al, ';', entry);

		while (*al == ' ')
			al++, entry--;
		len = q != NULL ? (size_t)(q - al) : entry;
		while (len > 0 && al[len - 1] == ' ')
			len--;
		if (len > 0 && len <= LINK_LANG_MAX && !refused(q, al + entry))
			for (size_t i = 0; i < n; i++)
				if (lang_fits(c[i], al, len))
					return c[i];
		al += entry;
		if (*al == ',')
			al++;
	}
	for (size_t i = 0; i < n; i++)
		if (c[i]->type_default)
			return c[i];
	return n > 0 ? c[0] : NULL;
}

const struct link *
links_pick(const struct link *v, size_t n, const struct links_item *item,
    const char *link_type)
{
	const struct link *cand[64];
	size_t nc = 0;

	/* v is most specific first: the first level with a match decides. */
	for (size_t i = 0; i < n; i++) {
		if (link_type == NULL || link_type[0] == '\0') {
			if (v[i].is_default)
				return &v[i];
			continue;
		}
		if (strcmp(v[i].link_type, link_type) != 0)
			continue;
		if (nc > 0 && links_level(&v[i], item) !=
		    links_level(cand[0], item))
			break;
		if (nc < sizeof cand / sizeof cand[0])
			cand[nc++] = &v[i];
	}
	return by_language(cand, nc, item->accept_language);
}

/*
 * A content button's "link:gs1:TYPE" (content.h, content_link_fn): the
 * item's link of that type, walking up serial -> lot -> GTIN -> brand
 * and batch -> product -> brand as the resolver does.
 */
int
links_href_for(struct app *app, uint32_t brand_id, const char *sku,
    uint64_t batch_id, uint64_t serial, const char *link_type, char *href,
    size_t size)
{
	struct product product;
	struct batch batch;
	struct links_item item = { 0 };
	struct link *v = NULL;
	const struct link *to;
	char num[24];
	size_t n = 0;
	int err;

	item.sku = sku != NULL ? sku : "";
	item.batch = batch_id;
	item.gtin = item.lot = item.serial = "";
	if (sku != NULL && store_product_get(app->store, brand_id, sku,
	    &product) == 0 && product.gtin[0] != '\0') {
		item.gtin = product.gtin;
		if (batch_id != 0 && store_batch_get(app->store, batch_id,
		    &batch) == 0 && batch.brand_id == brand_id) {
			item.lot = batch.lot;
			if (serial != 0) {
				snprintf(num, sizeof num, "%llu",
				    (unsigned long long)serial);
				item.serial = num;
			}
		}
	}
	if ((err = links_of_item(app->store, brand_id, &item, &v, &n)) != 0)
		return err;
	to = links_pick(v, n, &item, link_type);
	err = to == NULL ? SIGIL_ENOTFOUND :
	    (size_t)snprintf(href, size, "%s", to->href) >= size ?
	    SIGIL_EINVAL : 0;
	free(v);
	return err;
}
