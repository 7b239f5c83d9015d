/*
 * content_view.c - the brand's content for one scan's page: the brand
 * document in the language chosen among the brand's languages; the
 * product's and its batch's documents in the language chosen among the
 * union of theirs, the batch's fields over the product's one by one;
 * the buttons' hrefs checked again (and link:gs1:TYPE resolved through
 * the link store's hook); and the trace card from the code's events
 * (made, packed, shipped to a distributor, received). Which of these a
 * verdict shows is page_content.c's rule.
 *
 * It runs for every scan answered with the page: the language choice
 * walks keys only, and the chosen documents (at most three) are parsed
 * once per thread and kept while their update time stays the same.
 *
 * Domain. May call content.c, the store (reads), lookup (distributor
 * names), util and jansson. Never writes; never sees HTTP.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sigil/app.h"
#include "sigil/content.h"
#include "sigil/lookup.h"
#include "sigil/store.h"
#include "sigil/util.h"

#define SAMPLE_DAY_US		(86400LL * 1000000)
#define STEP_NAME_CHARS		40	/* of a distributor's name, on the card */

static content_link_fn link_resolver;

void
content_link_resolver_set(content_link_fn fn)
{
	link_resolver = fn;
}

/*
 * The languages of the subjects a page draws on (the brand, or the
 * product and its batch), each with its kind and update time, from the
 * key walks: a document is read only when it is the one chosen.
 */
struct lang_ent {
	char		tag[STORE_LANG_MAX + 1];
	int		kind;
	int64_t		updated;
};

struct langs {
	struct lang_ent	ents[2 * STORE_CONTENT_PER_SUBJECT];
	size_t		n;
};

static int
langs_add(void *arg, const struct content_doc *doc)
{
	struct langs *l = arg;
	struct lang_ent *e;

	if (l->n == sizeof l->ents / sizeof l->ents[0])
		return 0;
	e = &l->ents[l->n++];
	snprintf(e->tag, sizeof e->tag, "%s", doc->key.lang);
	e->kind = doc->key.kind;
	e->updated = doc->updated;
	return 0;
}

static const char *
pick(const struct langs *l, const char *accept)
{
	const char *tags[2 * STORE_CONTENT_PER_SUBJECT];
	size_t n = 0, k, j;
	int i;

	for (k = 0; k < l->n; k++) {
		for (j = 0; j < n && strcmp(tags[j], l->ents[k].tag) != 0; j++)
			;
		if (j == n)
			tags[n++] = l->ents[k].tag;
	}
	i = content_lang_choose(accept, tags, n);
	return i >= 0 ? tags[i] : NULL;
}

/*
 * Parsed documents, per thread: a page is rendered for every scan, and
 * parsing its documents again each time would be most of its cost. A
 * slot holds a document by its key and update time; a document written
 * since has another time and is read again. Direct-mapped, per thread,
 * so no lock and no reference shared between threads.
 */
#define DOC_CACHE_SLOTS		64

struct doc_slot {
	struct content_key	key;
	int64_t			updated;
	json_t			*doc;
};

static pthread_key_t doc_cache_key;
static pthread_once_t doc_cache_once = PTHREAD_ONCE_INIT;
static int doc_cache_ok;

/* A thread's cache goes with the thread. */
static void
doc_cache_free(void *p)
{
	struct doc_slot *c = p;

	for (size_t i = 0; i < DOC_CACHE_SLOTS; i++)
		json_decref(c[i].doc);
	free(c);
}

static void
doc_cache_init(void)
{
	doc_cache_ok = pthread_key_create(&doc_cache_key, doc_cache_free) == 0;
}

static int
key_eq(const struct content_key *a, const struct content_key *b)
{
	return a->brand_id == b->brand_id && a->kind == b->kind &&
	    a->batch_id == b->batch_id && strcmp(a->sku, b->sku) == 0 &&
	    strcmp(a->lang, b->lang) == 0;
}

static struct doc_slot *
doc_slot(const struct content_key *k)
{
	uint32_t h = 2166136261u ^ k->brand_id ^ (uint32_t)k->kind << 24 ^
	    (uint32_t)k->batch_id;

	for (const char *p = k->sku; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	for (const char *p = k->lang; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	struct doc_slot *cache;

	pthread_once(&doc_cache_once, doc_cache_init);
	if (!doc_cache_ok)
		return NULL;
	if ((cache = pthread_getspecific(doc_cache_key)) == NULL) {
		if ((cache = calloc(DOC_CACHE_SLOTS, sizeof *cache)) == NULL)
			return NULL;
		if (pthread_setspecific(doc_cache_key, cache) != 0) {
			free(cache);
			return NULL;
		}
	}
	return &cache[h % DOC_CACHE_SLOTS];
}

/* The document of key's kind in lang, if the walk saw one; a reference
 * the caller owns. */
static json_t *
doc_load(struct store *st, struct content_key *key, const char *lang,
    const struct langs *l)
{
	const struct lang_ent *e = NULL;
	struct content_doc *doc;
	struct doc_slot *slot;
	json_t *o = NULL;

	for (size_t i = 0; lang != NULL && i < l->n; i++)
		if (l->ents[i].kind == key->kind &&
		    strcmp(l->ents[i].tag, lang) == 0)
			e = &l->ents[i];
	if (e == NULL)
		return NULL;
	snprintf(key->lang, sizeof key->lang, "%s", lang);
	slot = doc_slot(key);
	if (slot != NULL && slot->doc != NULL && slot->updated == e->updated &&
	    key_eq(&slot->key, key))
		return json_incref(slot->doc);
	if ((doc = malloc(sizeof *doc)) == NULL)
		return NULL;
	if (store_content_get(st, key, doc) == 0)
		o = json_loadb(doc->text, doc->len, 0, NULL);
	if (o != NULL && !json_is_object(o)) {
		json_decref(o);
		o = NULL;
	}
	if (o != NULL && slot != NULL) {
		json_decref(slot->doc);
		slot->key = *key;
		slot->updated = doc->updated;
		slot->doc = json_incref(o);
	}
	free(doc);
	return o;
}

/* The field of the batch document if it has it, else the product's. */
static const json_t *
merged(const struct content_view *v, const char *key)
{
	const json_t *x = v->batch ? json_object_get(v->batch, key) : NULL;

	if (x == NULL && v->product != NULL)
		x = json_object_get(v->product, key);
	return x;
}

static const char *
str_of(const json_t *o, const char *key)
{
	const json_t *v = o ? json_object_get(o, key) : NULL;

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* The card's steps: the first making and packing, the last shipment
 * and the receipt that followed it. */
struct trace_walk {
	int64_t			 made, packed;
	struct trace_event	 last_ship, last_recv;
	int			 has_ship, has_recv;
};

static int
trace_step(void *arg, const struct trace_event *ev)
{
	struct trace_walk *t = arg;

	switch (ev->type) {
	case EVENT_COMMISSION:
		if (t->made == 0)
			t->made = ev->at;
		break;
	case EVENT_AGGREGATE:
		if (t->packed == 0)
			t->packed = ev->at;
		break;
	case EVENT_SHIP:
		t->last_ship = *ev;
		t->last_ship.serials = NULL;
		t->has_ship = 1;
		t->has_recv = 0;	/* a receipt counts after its shipment */
		break;
	case EVENT_RECEIVE:
		t->last_recv = *ev;
		t->last_recv.serials = NULL;
		t->has_recv = t->has_ship;
		break;
	}
	return 0;
}

static void
step_add(struct content_view *v, int kind, int64_t at, const char *dist)
{
	struct page_step *s;
	size_t i = v->pc.nsteps;

	if (i >= PAGE_STEPS_MAX)
		return;
	s = &v->pc.steps[i];
	s->kind = kind;
	s->at = at;
	s->distributor = NULL;
	if (dist != NULL && dist[0] != '\0') {
		/* At most STEP_NAME_CHARS characters of the name: the card
		 * must fit the page's 20 KB whatever a name holds. */
		size_t n = 0, chars = 0;

		while (dist[n] != '\0' && chars < STEP_NAME_CHARS) {
			n++;
			while (((unsigned char)dist[n] & 0xc0) == 0x80)
				n++;
			chars++;
		}
		snprintf(v->dist[i], sizeof v->dist[i], "%.*s%s", (int)n, dist,
		    dist[n] != '\0' ? "\xe2\x80\xa6" : "");
		s->distributor = v->dist[i];
	}
	v->pc.nsteps++;
}

static const char *
distributor_name(struct app *app, uint32_t brand_id, uint32_t id)
{
	const struct territory *d = lookup_territory(app, brand_id, id);

	return d != NULL ? d->name : NULL;
}

static void
trace_load(struct app *app, uint32_t brand_id, uint64_t serial,
    struct content_view *v)
{
	struct trace_walk t;

	if (serial == 0)
		return;
	memset(&t, 0, sizeof t);
	store_code_events(app->store, brand_id, serial, trace_step, &t);
	if (t.made)
		step_add(v, PAGE_STEP_MADE, t.made, NULL);
	if (t.packed)
		step_add(v, PAGE_STEP_PACKED, t.packed, NULL);
	if (t.has_ship)
		step_add(v, PAGE_STEP_SHIPPED, t.last_ship.at,
		    distributor_name(app, brand_id, t.last_ship.distributor));
	if (t.has_recv)
		step_add(v, PAGE_STEP_RECEIVED, t.last_recv.at,
		    distributor_name(app, brand_id, t.last_recv.distributor));
}

/* A preview's made-up trace: the brand's first distributor if any. */
struct first_dist {
	char	name[STORE_TEXT_BYTES + 1];
};

static int
first_dist(void *arg, const struct distributor *d)
{
	struct first_dist *f = arg;

	snprintf(f->name, sizeof f->name, "%s", d->name);
	return 1;
}

static void
trace_sample(struct app *app, uint32_t brand_id, struct content_view *v)
{
	struct first_dist f = { "" };
	int64_t now = sigil_now_us();

	store_distributor_each(app->store, brand_id, first_dist, &f);
	step_add(v, PAGE_STEP_MADE, now - 20 * SAMPLE_DAY_US, NULL);
	step_add(v, PAGE_STEP_PACKED, now - 19 * SAMPLE_DAY_US, NULL);
	step_add(v, PAGE_STEP_SHIPPED, now - 12 * SAMPLE_DAY_US,
	    f.name[0] ? f.name : NULL);
	step_add(v, PAGE_STEP_RECEIVED, now - 10 * SAMPLE_DAY_US,
	    f.name[0] ? f.name : NULL);
}

static void
buttons_load(struct app *app, uint32_t brand_id, const char *sku,
    uint64_t batch_id, uint64_t serial, struct content_view *v)
{
	const json_t *arr = merged(v, "buttons"), *b;
	size_t i;

	json_array_foreach(arr, i, b) {
		const char *label = str_of(b, "label"), *href = str_of(b,
		    "href");
		size_t n = v->pc.nbuttons;
		char checked[CONTENT_HREF_MAX + 1];
		int kind;

		if (n >= PAGE_BUTTONS_MAX || label == NULL || href == NULL ||
		    content_href_check(href, checked, sizeof checked,
		    &kind) != 0)
			continue;
		if (kind == HREF_LINK) {
			char url[CONTENT_HREF_MAX + 1];

			/* The item's link of that type, checked again: it
			 * is another module's data. */
			if (link_resolver == NULL || link_resolver(app,
			    brand_id, sku, batch_id, serial, checked + 5,
			    url, sizeof url) != 0 ||
			    content_href_check(url, checked, sizeof checked,
			    &kind) != 0 || kind == HREF_LINK)
				continue;
		}
		snprintf(v->hrefs[n], sizeof v->hrefs[n], "%s", checked);
		v->pc.buttons[n].label = label;
		v->pc.buttons[n].href = v->hrefs[n];
		v->pc.nbuttons++;
	}
}

int
content_view_load(struct app *app, uint32_t brand_id, const char *sku,
    uint64_t batch_id, uint64_t serial, const char *accept_language,
    const json_t *draft, int sample_trace, struct content_view *out)
{
	struct content_key key;
	struct langs *l;
	const json_t *imgs, *img;
	const char *lang;
	size_t i;

	memset(out, 0, sizeof *out);
	if ((l = malloc(sizeof *l)) == NULL)
		return SIGIL_ENOMEM;
	memset(&key, 0, sizeof key);
	key.brand_id = brand_id;
	key.kind = CONTENT_BRAND;
	l->n = 0;
	store_content_langs(app->store, &key, langs_add, l);
	if ((lang = pick(l, accept_language)) != NULL) {
		snprintf(out->brand_lang, sizeof out->brand_lang, "%s", lang);
		out->brand = doc_load(app->store, &key, lang, l);
	}
	/* The product's and the batch's languages together. */
	l->n = 0;
	key.kind = CONTENT_PRODUCT;
	snprintf(key.sku, sizeof key.sku, "%s", sku ? sku : "");
	if (draft == NULL && sku != NULL)
		store_content_langs(app->store, &key, langs_add, l);
	key.kind = CONTENT_BATCH;
	key.batch_id = batch_id;
	if (batch_id != 0)
		store_content_langs(app->store, &key, langs_add, l);
	if (draft != NULL) {
		out->product = json_deep_copy(draft);
		lang = pick(l, accept_language);
		if (lang != NULL)
			out->batch = doc_load(app->store, &key, lang, l);
	} else if ((lang = pick(l, accept_language)) != NULL) {
		snprintf(out->lang, sizeof out->lang, "%s", lang);
		if (batch_id != 0)
			out->batch = doc_load(app->store, &key, lang, l);
		key.kind = CONTENT_PRODUCT;
		key.batch_id = 0;
		if (sku != NULL)
			out->product = doc_load(app->store, &key, lang, l);
	}
	free(l);

	out->pc.display_name = str_of(out->brand, "display_name");
	out->pc.logo = str_of(out->brand, "logo");
	out->pc.support_phone = str_of(out->brand, "support_phone");
	out->pc.support_url = str_of(out->brand, "support_url");
	out->pc.brand_lang = out->brand_lang[0] ? out->brand_lang : NULL;
	out->pc.lang = out->lang[0] ? out->lang : NULL;
	out->pc.title = json_string_value(merged(out, "title"));
	out->pc.story = json_string_value(merged(out, "story"));
	imgs = merged(out, "images");
	json_array_foreach(imgs, i, img)
		if (json_is_string(img) && out->pc.nimages < PAGE_IMAGES_MAX)
			out->pc.images[out->pc.nimages++] =
			    json_string_value(img);
	buttons_load(app, brand_id, sku, batch_id, serial, out);
	if (sample_trace)
		trace_sample(app, brand_id, out);
	else
		trace_load(app, brand_id, serial, out);
	return 0;
}

void
content_view_free(struct content_view *v)
{
	json_decref(v->brand);
	json_decref(v->product);
	json_decref(v->batch);
	memset(v, 0, sizeof *v);
}

int
content_display_name(struct app *app, uint32_t brand_id,
    const char *accept_language, char *out, size_t size)
{
	struct content_key key;
	struct langs *l;
	const char *lang, *name;
	json_t *doc = NULL;
	int err = SIGIL_ENOTFOUND;

	if ((l = malloc(sizeof *l)) == NULL)
		return SIGIL_ENOMEM;
	memset(&key, 0, sizeof key);
	key.brand_id = brand_id;
	key.kind = CONTENT_BRAND;
	l->n = 0;
	store_content_langs(app->store, &key, langs_add, l);
	if ((lang = pick(l, accept_language)) != NULL)
		doc = doc_load(app->store, &key, lang, l);
	if ((name = str_of(doc, "display_name")) != NULL && name[0] != '\0' &&
	    size > 0) {
		snprintf(out, size, "%s", name);
		err = 0;
	}
	json_decref(doc);
	free(l);
	return err;
}
