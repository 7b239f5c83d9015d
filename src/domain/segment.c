/*
 * segment.c - customer segments: criteria (segment.h) checked strictly
 * into a segment_def, and judged per customer; the saved segments' JSON.
 *
 * What each criterion reads:
 *   tier, segment, role, points_min/max: the customer's ledger and the
 *     brand's settings (member_classify: the ledger read once).
 *   consent: the latest consent entry per purpose (store_consent_latest,
 *     as consent_granted reads it).
 *   gender, birth_month, tags_any, city: the sealed profile, opened with
 *     the "phone-enc" key copied at start (segment_init).
 *   products_claimed, campaigns_claimed, products_scanned,
 *     last_scan_after/before, province, city, country: the customer's
 *     segment facts (store/segments.h: written in each claim's and each
 *     scan's own transaction): the products and campaigns of its claims,
 *     and per device it logged in on, the latest scan, the latest scan
 *     with a region (store_region_get names it) and the products
 *     scanned. A device's scans before its login count when they were
 *     among the log's latest at the login (store_segments.c); bots never
 *     count.
 * So every criterion reads only the customer's own rows: segment_match
 * costs a few reads (about 40 us with every criterion and a 100-entry
 * ledger), and segment_each is that per customer, in id order.
 *
 * Cheap criteria are judged first, so a customer who fails one costs no
 * ledger read or seal opening.
 *
 * May call store (reads), member (member_classify, settings),
 * customer (loyalty_open), consent (names), util. Never knows HTTP.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "sigil/consent.h"
#include "sigil/customer.h"
#include "sigil/loyalty_util.h"
#include "sigil/member.h"
#include "sigil/profile.h"
#include "sigil/segment.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "segment_impl.h"

static uint8_t seg_key[32];
static int seg_key_set;

void
segment_init(const uint8_t enc_key[32])
{
	memcpy(seg_key, enc_key, 32);
	seg_key_set = 1;
}

static const char *const rfm_names[] = { "champions", "loyal", "new",
	"promising", "at_risk", "hibernating" };
#define NRFM	(sizeof rfm_names / sizeof rfm_names[0])
static const char *const genders[] = { "female", "male", "other" };

static const char *const known_keys[] = { "tier", "segment", "province",
	"city", "country", "gender", "birth_month", "tags_any",
	"products_scanned", "products_claimed", "campaigns_claimed",
	"last_scan_after", "last_scan_before", "points_min", "points_max",
	"consent", "role" };

/* ---- parsing ---- */

static int
bad(char *err, size_t size, const char *fmt, const char *key)
{
	snprintf(err, size, fmt, key);
	return SIGIL_EINVAL;
}

static int
list_of(const json_t *v, const char *key, char *err, size_t size)
{
	if (!json_is_array(v))
		return bad(err, size, "'%s' must be an array", key);
	if (json_array_size(v) == 0)
		return bad(err, size, "'%s' must list at least one value (leave "
		    "the key out for any)", key);
	if (json_array_size(v) > SEGMENT_LIST_MAX) {
		snprintf(err, size, "'%s' lists at most %d values", key,
		    SEGMENT_LIST_MAX);
		return SIGIL_EINVAL;
	}
	return 0;
}

/* A list of texts into l (strdup'd). */
static int
texts_of(const json_t *v, const char *key, struct seg_texts *l, char *err,
    size_t size)
{
	struct sigil_text_err e;
	const json_t *t;
	size_t i, j;
	int rc;

	if ((rc = list_of(v, key, err, size)) != 0)
		return rc;
	if ((l->v = calloc(json_array_size(v), sizeof *l->v)) == NULL)
		return SIGIL_ENOMEM;
	json_array_foreach(v, i, t) {
		if (!json_is_string(t)) {
			snprintf(err, size, "'%s' must hold strings", key);
			return SIGIL_EINVAL;
		}
		if (sigil_text_ok(json_string_value(t), SEGMENT_TEXT_MAX, 0,
		    &e) != 0) {
			char f[64];

			snprintf(f, sizeof f, "%s[]", key);
			sigil_text_explain(f, SEGMENT_TEXT_MAX, 0, &e, err,
			    size);
			return SIGIL_EINVAL;
		}
		for (j = 0; j < l->n; j++)
			if (strcmp(l->v[j], json_string_value(t)) == 0)
				return bad(err, size, "'%s' holds a value twice",
				    key);
		if ((l->v[l->n] = strdup(json_string_value(t))) == NULL)
			return SIGIL_ENOMEM;
		l->n++;
	}
	return 0;
}

/* A list of names from names[0..n) into a bit set (bit i for names[i]). */
static int
names_of(const json_t *v, const char *key, const char *const *names,
    size_t n, unsigned *out, char *err, size_t size)
{
	const json_t *t;
	size_t i, j;
	int rc;

	if ((rc = list_of(v, key, err, size)) != 0)
		return rc;
	*out = 0;
	json_array_foreach(v, i, t) {
		for (j = 0; j < n; j++)
			if (json_is_string(t) && strcmp(json_string_value(t),
			    names[j]) == 0)
				break;
		if (j == n || (*out & (1u << j))) {
			char list[160] = "";

			for (j = 0; j < n; j++) {
				strncat(list, j ? ", " : "", sizeof list -
				    strlen(list) - 1);
				strncat(list, names[j], sizeof list -
				    strlen(list) - 1);
			}
			snprintf(err, size, "'%s' holds each of %s at most once",
			    key, list);
			return SIGIL_EINVAL;
		}
		*out |= 1u << j;
	}
	return 0;
}

/* "YYYY-MM-DD" (midnight UTC) or RFC 3339 into microseconds. */
static int
instant_of(const json_t *v, const char *key, int64_t *out, char *err,
    size_t size)
{
	const char *s = json_string_value(v);
	char buf[40];

	if (s != NULL && strlen(s) == 10) {
		snprintf(buf, sizeof buf, "%sT00:00:00Z", s);
		if (sigil_time_parse_rfc3339(buf, out) == 0)
			return 0;
	} else if (s != NULL && strlen(s) < 40 &&
	    sigil_time_parse_rfc3339(s, out) == 0)
		return 0;
	return bad(err, size, "'%s' is a date YYYY-MM-DD (UTC) or an RFC 3339 "
	    "instant", key);
}

static int
points_of(const json_t *v, const char *key, int64_t *out, char *err,
    size_t size)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > 1000000000000LL)
		return bad(err, size, "'%s' is a whole number of points, 0 to "
		    "10^12", key);
	*out = json_integer_value(v);
	return 0;
}

static int
parse_key(struct segment_def *d, const char *k, const json_t *v, char *err,
    size_t size)
{
	const json_t *t;
	size_t i;
	unsigned bits;
	int rc;

	if (strcmp(k, "tier") == 0)
		return texts_of(v, k, &d->tier, err, size);
	if (strcmp(k, "province") == 0)
		return texts_of(v, k, &d->province, err, size);
	if (strcmp(k, "city") == 0)
		return texts_of(v, k, &d->city, err, size);
	if (strcmp(k, "country") == 0)
		return texts_of(v, k, &d->country, err, size);
	if (strcmp(k, "tags_any") == 0)
		return texts_of(v, k, &d->tags, err, size);
	if (strcmp(k, "products_scanned") == 0)
		return texts_of(v, k, &d->scanned, err, size);
	if (strcmp(k, "products_claimed") == 0)
		return texts_of(v, k, &d->claimed, err, size);
	if (strcmp(k, "segment") == 0)
		return names_of(v, k, rfm_names, NRFM, &d->rfm, err, size);
	if (strcmp(k, "gender") == 0)
		return names_of(v, k, genders, 3, &d->genders, err, size);
	if (strcmp(k, "role") == 0) {
		static const char *const roles[] = { "consumer", "retailer",
			"sales" };

		/* bit i for enum claim_role i + 1 */
		return names_of(v, k, roles, 3, &d->roles, err, size);
	}
	if (strcmp(k, "consent") == 0) {
		if ((rc = list_of(v, k, err, size)) != 0)
			return rc;
		if (consent_purposes_parse(v, &bits) != 0)
			return bad(err, size, "'%s' holds each of service, "
			    "marketing, profile at most once", k);
		d->consent = bits;
		return 0;
	}
	if (strcmp(k, "birth_month") == 0) {
		if ((rc = list_of(v, k, err, size)) != 0)
			return rc;
		json_array_foreach(v, i, t) {
			json_int_t m = json_integer_value(t);

			if (!json_is_integer(t) || m < 1 || m > 12 ||
			    (d->months & (1u << m)))
				return bad(err, size, "'%s' holds months 1..12, "
				    "each at most once", k);
			d->months |= 1u << m;
		}
		return 0;
	}
	if (strcmp(k, "campaigns_claimed") == 0) {
		if ((rc = list_of(v, k, err, size)) != 0)
			return rc;
		if ((d->campaigns = calloc(json_array_size(v),
		    sizeof *d->campaigns)) == NULL)
			return SIGIL_ENOMEM;
		json_array_foreach(v, i, t) {
			json_int_t c = json_integer_value(t);

			if (!json_is_integer(t) || c < 1 || c > UINT32_MAX)
				return bad(err, size, "'%s' holds campaign ids "
				    "(whole numbers from 1)", k);
			d->campaigns[d->ncampaigns++] = (uint32_t)c;
		}
		return 0;
	}
	if (strcmp(k, "last_scan_after") == 0) {
		d->has |= SEGD_AFTER;
		return instant_of(v, k, &d->scan_after, err, size);
	}
	if (strcmp(k, "last_scan_before") == 0) {
		d->has |= SEGD_BEFORE;
		return instant_of(v, k, &d->scan_before, err, size);
	}
	if (strcmp(k, "points_min") == 0) {
		d->has |= SEGD_PMIN;
		return points_of(v, k, &d->points_min, err, size);
	}
	if (strcmp(k, "points_max") == 0) {
		d->has |= SEGD_PMAX;
		return points_of(v, k, &d->points_max, err, size);
	}
	return bad(err, size, "unknown criterion '%.40s'", k);
}

int
segment_parse(const json_t *criteria, struct segment_def **out, char *err,
    size_t errsize)
{
	struct segment_def *d;
	const char *k;
	json_t *v;
	int rc = 0;

	*out = NULL;
	if (!json_is_object(criteria)) {
		snprintf(err, errsize, "the criteria must be a JSON object");
		return SIGIL_EINVAL;
	}
	if ((d = calloc(1, sizeof *d)) == NULL)
		return SIGIL_ENOMEM;
	json_object_foreach((json_t *)criteria, k, v) {
		size_t i;

		for (i = 0; i < sizeof known_keys / sizeof known_keys[0]; i++)
			if (strcmp(k, known_keys[i]) == 0)
				break;
		if (i == sizeof known_keys / sizeof known_keys[0]) {
			snprintf(err, errsize, "unknown criterion '%.40s': "
			    "criteria hold tier, segment, province, city, "
			    "country, gender, birth_month, tags_any, "
			    "products_scanned, products_claimed, "
			    "campaigns_claimed, last_scan_after, "
			    "last_scan_before, points_min, points_max, consent, "
			    "role", k);
			rc = SIGIL_EINVAL;
			break;
		}
		if ((rc = parse_key(d, k, v, err, errsize)) != 0)
			break;
	}
	if (rc == 0 && (d->has & SEGD_PMIN) && (d->has & SEGD_PMAX) &&
	    d->points_min > d->points_max)
		rc = bad(err, errsize, "'%s' must not be above points_max",
		    "points_min");
	if (rc == 0 && (d->has & SEGD_AFTER) && (d->has & SEGD_BEFORE) &&
	    d->scan_after >= d->scan_before)
		rc = bad(err, errsize, "'%s' must be before last_scan_before",
		    "last_scan_after");
	if (rc == SIGIL_ENOMEM)
		snprintf(err, errsize, "out of memory");
	if (rc != 0) {
		segment_def_free(d);
		return rc;
	}
	d->criteria = json_deep_copy(criteria);
	if (d->criteria == NULL) {
		segment_def_free(d);
		snprintf(err, errsize, "out of memory");
		return SIGIL_ENOMEM;
	}
	*out = d;
	return 0;
}

static void
texts_free(struct seg_texts *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

void
segment_def_free(struct segment_def *d)
{
	if (d == NULL)
		return;
	texts_free(&d->tier);
	texts_free(&d->province);
	texts_free(&d->city);
	texts_free(&d->country);
	texts_free(&d->tags);
	texts_free(&d->scanned);
	texts_free(&d->claimed);
	free(d->campaigns);
	json_decref(d->criteria);
	free(d);
}

const json_t *
segment_criteria(const struct segment_def *d)
{
	return d->criteria;
}

/* ---- judging one customer ---- */

/* The profile criteria: 1, 0; an unreadable profile matches none. */
static int
profile_ok(struct store *st, const struct segment_def *d,
    const struct customer *cu, const char *scan_city_ok)
{
	uint8_t buf[PROFILE_SEALED_MAX];
	char text[PROFILE_SEALED_MAX];
	const char *s;
	json_t *p, *t;
	size_t len, i;
	int rc, ok = 1;

	if (!d->genders && !d->months && !d->tags.n &&
	    !(d->city.n && !*scan_city_ok))
		return 1;
	if (!seg_key_set)
		return 0;
	rc = store_profile_get(st, cu->brand_id, cu->id, buf, sizeof buf,
	    &len);
	if (rc == SIGIL_ENOTFOUND)
		return 0;
	if (rc != 0)
		return rc < 0 ? rc : SIGIL_EIO;
	if (loyalty_open(seg_key, cu->brand_id, buf, len, text,
	    sizeof text) != 0)
		return 0;
	p = json_loads(text, 0, NULL);
	OPENSSL_cleanse(text, sizeof text);
	if (!json_is_object(p)) {
		json_decref(p);
		return 0;
	}
	if (d->genders) {
		s = json_string_value(json_object_get(p, "gender"));
		ok = 0;
		for (i = 0; s != NULL && i < 3; i++)
			if ((d->genders & (1u << i)) && strcmp(s, genders[i]) ==
			    0)
				ok = 1;
	}
	if (ok && d->months) {
		s = json_string_value(json_object_get(p, "birthday"));
		ok = s != NULL && strlen(s) == 10 &&
		    (d->months & (1u << atoi(s + 5)));
	}
	if (ok && d->tags.n) {
		ok = 0;
		json_array_foreach(json_object_get(p, "tags"), i, t)
			if (json_is_string(t) && seg_texts_has(&d->tags,
			    json_string_value(t)))
				ok = 1;
	}
	if (ok && d->city.n && !*scan_city_ok)
		ok = (s = json_string_value(json_object_get(p, "city"))) !=
		    NULL && seg_texts_has(&d->city, s);
	json_decref(p);
	return ok;
}

static int
consent_ok(struct store *st, const struct segment_def *d,
    const struct customer *cu)
{
	struct consent_entry e;
	int rc;

	for (unsigned bit = 1; bit <= CONSENT_ALL; bit <<= 1) {
		if (!(d->consent & bit))
			continue;
		rc = store_consent_latest(st, cu->brand_id, cu->id, bit, &e);
		if (rc == 0 && e.action == CONSENT_GRANT)
			return 1;
		if (rc != 0 && rc != SIGIL_ENOTFOUND)
			return rc < 0 ? rc : SIGIL_EIO;
	}
	return 0;
}

static int
class_ok(struct store *st, const struct segment_def *d, json_t *settings,
    const struct customer *cu, int64_t now)
{
	struct member_class mc;
	size_t i;
	int rc, ok;

	if (!d->tier.n && !d->rfm && !d->roles &&
	    !(d->has & (SEGD_PMIN | SEGD_PMAX)))
		return 1;
	if ((rc = member_classify(st, settings, cu, now, &mc)) != 0)
		return rc < 0 ? rc : SIGIL_EIO;
	if (d->tier.n && !seg_texts_has(&d->tier, mc.tier))
		return 0;
	if (d->rfm) {
		for (ok = 0, i = 0; i < NRFM; i++)
			if ((d->rfm & (1u << i)) && strcmp(mc.segment,
			    rfm_names[i]) == 0)
				ok = 1;
		if (!ok)
			return 0;
	}
	if (d->roles && !(d->roles & (1u << (loyalty_role_parse(mc.role) -
	    1))))
		return 0;
	if ((d->has & SEGD_PMIN) && mc.balance < d->points_min)
		return 0;
	if ((d->has & SEGD_PMAX) && mc.balance > d->points_max)
		return 0;
	return 1;
}

/* The scan and claim criteria against what was gathered for cu. */
static int
facts_ok(struct seg_eval *ev, const struct customer *cu, char *city_ok,
    struct seg_fact *fact)
{
	const struct segment_def *d = ev->d;
	const struct seg_fact *f = fact;
	unsigned rb;
	int rc;

	*city_ok = 0;
	memset(fact, 0, sizeof *fact);
	if ((segment_uses(d) & (SEG_USES_CLAIMS | SEG_USES_SCANS)) == 0)
		return 1;
	if ((rc = seg_fact_of(ev, cu->id, fact)) != 0)
		return rc;
	if (d->claimed.n && !(f && (f->flags & FACT_CLAIMED)))
		return 0;
	if (d->ncampaigns && !(f && (f->flags & FACT_CAMPAIGN)))
		return 0;
	if (d->scanned.n && !(f && (f->flags & FACT_SCANNED)))
		return 0;
	if ((d->has & SEGD_AFTER) && !(f && f->last_scan >= d->scan_after))
		return 0;
	if ((d->has & SEGD_BEFORE) && !(f && f->last_scan != 0 &&
	    f->last_scan < d->scan_before))
		return 0;
	if (!d->province.n && !d->country.n && !d->city.n)
		return 1;
	rb = 0;
	if (f != NULL && f->region != 0 &&
	    (rc = seg_region_bits(ev, f->region, &rb)) != 0)
		return rc;
	if (d->province.n && !(rb & REGION_PROVINCE))
		return 0;
	if (d->country.n && !(rb & REGION_COUNTRY))
		return 0;
	*city_ok = (rb & REGION_CITY) != 0;
	return 1;
}

/* seg_judge, the facts read for it in *f. */
static int
judge(struct seg_eval *ev, const struct customer *cu, struct seg_fact *f)
{
	const struct segment_def *d = ev->d;
	char city_ok;
	int rc;

	if (cu->erased || cu->merged_into)
		return 0;
	if ((rc = facts_ok(ev, cu, &city_ok, f)) != 1)
		return rc;
	if (d->consent && (rc = consent_ok(ev->st, d, cu)) != 1)
		return rc;
	if ((rc = class_ok(ev->st, d, ev->settings, cu, ev->now)) != 1)
		return rc;
	return profile_ok(ev->st, d, cu, &city_ok);
}

int
seg_judge(struct seg_eval *ev, const struct customer *cu)
{
	struct seg_fact f;

	return judge(ev, cu, &f);
}

/* ---- the two walks ---- */

struct each_arg {
	struct seg_eval	*ev;
	int		(*fn)(void *arg, const struct customer *cu);
	void		*arg;
	int		err, stopped;
};

static int
each_one(void *p, const struct customer *cu)
{
	struct each_arg *a = p;
	int rc = seg_judge(a->ev, cu);

	if (rc < 0) {
		a->err = rc;
		return 1;
	}
	if (rc == 1 && a->fn(a->arg, cu) != 0) {
		a->stopped = 1;
		return 1;
	}
	return 0;
}

int
segment_each(struct store *st, uint32_t brand_id,
    const struct segment_def *d, int64_t now,
    int (*fn)(void *arg, const struct customer *cu), void *arg)
{
	struct seg_eval ev;
	struct each_arg a = { &ev, fn, arg, 0, 0 };
	int rc;

	if ((rc = seg_eval_open(&ev, st, brand_id, d, now)) != 0)
		return rc;
	rc = store_customer_each(st, brand_id, 0, each_one, &a);
	seg_eval_close(&ev);
	if (a.err != 0)
		return a.err;
	if (rc < 0)
		return rc;
	return 0;
}

int
segment_match(struct store *st, uint32_t brand_id,
    const struct segment_def *d, const struct customer *cu, int64_t now)
{
	struct seg_eval ev;
	int rc;

	if (cu->brand_id != brand_id)
		return 0;
	if (cu->erased || cu->merged_into)
		return 0;
	if ((rc = seg_eval_open(&ev, st, brand_id, d, now)) != 0)
		return rc;
	rc = seg_judge(&ev, cu);
	seg_eval_close(&ev);
	return rc;
}

struct members_arg {
	struct seg_eval		*ev;
	struct segment_member	*v;
	size_t			n, cap;
	int			err;
};

static int
member_one(void *p, const struct customer *cu)
{
	struct members_arg *a = p;
	struct seg_fact f;
	int rc = judge(a->ev, cu, &f);

	if (rc < 0) {
		a->err = rc;
		return 1;
	}
	if (rc == 0)
		return 0;
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 256;
		struct segment_member *v = realloc(a->v, cap * sizeof *v);

		if (v == NULL) {
			a->err = SIGIL_ENOMEM;
			return 1;
		}
		a->v = v;
		a->cap = cap;
	}
	a->v[a->n].id = cu->id;
	a->v[a->n].last_scan = f.last_scan;
	a->v[a->n].region = f.region;
	a->n++;
	return 0;
}

int
segment_members(struct store *st, uint32_t brand_id,
    const struct segment_def *d, int64_t now, struct segment_member **out,
    size_t *n)
{
	struct seg_eval ev;
	struct members_arg a = { &ev, NULL, 0, 0, 0 };
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = seg_eval_open(&ev, st, brand_id, d, now)) != 0)
		return rc;
	rc = store_customer_each(st, brand_id, 0, member_one, &a);
	seg_eval_close(&ev);
	if (a.err == 0 && rc < 0)
		a.err = rc;
	if (a.err != 0) {
		free(a.v);
		return a.err;
	}
	*out = a.v;
	*n = a.n;
	return 0;
}

/* ---- who uses a segment ---- */

static segment_in_use_fn users[SEGMENT_USERS_MAX];
static size_t nusers;

int
segment_users_register(segment_in_use_fn fn)
{
	for (size_t i = 0; i < nusers; i++)
		if (users[i] == fn)
			return 0;
	if (nusers == SEGMENT_USERS_MAX)
		return SIGIL_EFULL;
	users[nusers++] = fn;
	return 0;
}

int
segment_in_use(struct store *st, uint32_t brand_id, uint32_t id, char *what,
    size_t size)
{
	int rc;

	for (size_t i = 0; i < nusers; i++)
		if ((rc = users[i](st, brand_id, id, what, size)) != 0)
			return rc;
	return 0;
}

/* ---- saved segments ---- */

int
segment_load(struct store *st, uint32_t brand_id, uint32_t id,
    struct segment_def **out)
{
	struct saved_segment s;
	char err[256];
	json_t *o;
	int rc;

	*out = NULL;
	if ((rc = store_segment_get(st, brand_id, id, &s)) != 0)
		return rc;
	o = json_loads(s.json, 0, NULL);
	store_segment_clear(&s);
	if (o == NULL)
		return SIGIL_EIO;
	rc = segment_parse(json_object_get(o, "criteria"), out, err,
	    sizeof err);
	json_decref(o);
	return rc == SIGIL_EINVAL ? SIGIL_EIO : rc;
}

int
segment_body_parse(const json_t *body, char **json, char *err,
    size_t errsize)
{
	struct segment_def *d;
	struct sigil_text_err e;
	const json_t *name, *crit;
	const char *k;
	json_t *v, *o;
	int rc;

	*json = NULL;
	if (!json_is_object(body)) {
		snprintf(err, errsize, "the body must be a JSON object {name, "
		    "criteria}");
		return SIGIL_EINVAL;
	}
	json_object_foreach((json_t *)body, k, v)
		if (strcmp(k, "name") != 0 && strcmp(k, "criteria") != 0)
			return bad(err, errsize, "unknown field '%.40s': a "
			    "segment holds name and criteria", k);
	name = json_object_get(body, "name");
	crit = json_object_get(body, "criteria");
	if (!json_is_string(name)) {
		snprintf(err, errsize, "'name' must be a string");
		return SIGIL_EINVAL;
	}
	if (sigil_text_ok(json_string_value(name), SEGMENT_NAME_MAX, 0,
	    &e) != 0) {
		sigil_text_explain("name", SEGMENT_NAME_MAX, 0, &e, err,
		    errsize);
		return SIGIL_EINVAL;
	}
	if (crit == NULL)
		return bad(err, errsize, "'%s' is required ({} for every "
		    "customer)", "criteria");
	if ((rc = segment_parse(crit, &d, err, errsize)) != 0)
		return rc;
	segment_def_free(d);
	o = json_pack("{s:O,s:O}", "name", name, "criteria", crit);
	*json = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(o);
	if (*json == NULL) {
		snprintf(err, errsize, "out of memory");
		return SIGIL_ENOMEM;
	}
	if (strlen(*json) > STORE_SEGMENT_MAX) {
		free(*json);
		*json = NULL;
		snprintf(err, errsize, "the segment is too large (at most %d "
		    "bytes of JSON)", STORE_SEGMENT_MAX);
		return SIGIL_EINVAL;
	}
	return 0;
}

json_t *
segment_json(const struct saved_segment *s)
{
	char tc[SIGIL_TIME_LEN + 1], tu[SIGIL_TIME_LEN + 1];
	json_t *o = json_loads(s->json, 0, NULL), *r, *name, *crit;

	name = json_object_get(o, "name");
	crit = json_object_get(o, "criteria");
	r = json_pack("{s:I,s:O,s:O,s:s,s:s}", "id", (json_int_t)s->id,
	    "name", name ? name : json_null(), "criteria", crit ? crit :
	    json_null(), "created", sigil_time_format(s->created, tc),
	    "updated", sigil_time_format(s->updated, tu));
	json_decref(o);
	return r;
}
