/*
 * test_feedback_store.c - the feedback loop's rows in the store
 * (store_feedback.c): a rating and a fake report beside their activity
 * entries, read back newest first; the photo; reply and close and what
 * a closed entry refuses; the thresholds; the rating drop over placed
 * times (the last 7 days against the 30 before), one alert per product
 * updated by a second drop; bad rows refused with nothing written.
 * Each test works in its own scratch store.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "storefix.h"

#include "sigil/store.h"
#include "sigil/util.h"

#define DAY	(86400LL * 1000000)

struct fixture {
	char		 dir[64];
	struct store	*st;
	uint32_t	 brand, other;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL || storefix_open(f->dir, sizeof f->dir, "feedback",
	    STORE_CREATE | STORE_NOSYNC, &f->st) != 0)
		return -1;
	f->brand = add_brand(f->st, "Acme Tea");
	f->other = add_brand(f->st, "Other Tea");
	*state = f;
	return 0;
}

STOREFIX_TEARDOWN(struct fixture)

/* A rating of sku at time at: its id (the alert raised in *alert). */
static uint64_t
rate(struct fixture *f, const char *sku, int stars, int64_t at,
    uint64_t *alert)
{
	struct feedback_new *n = calloc(1, sizeof *n);
	uint64_t id;

	assert_non_null(n);
	n->f.brand_id = f->brand;
	n->f.kind = FEEDBACK_RATING;
	n->f.rating = stars;
	n->f.scan_id = 7;
	n->f.batch_id = 3;
	n->f.at = at;
	strcpy(n->f.sku, sku);
	strcpy(n->f.text, "好");
	assert_int_equal(store_feedback_add(f->st, n), 0);
	id = n->f.id;
	if (alert != NULL)
		*alert = n->alert_id;
	free(n);
	return id;
}

struct seen {
	uint64_t	ids[16];
	int		kinds[16];
	size_t		n;
};

static int
seen_one(void *arg, const struct feedback *fb)
{
	struct seen *s = arg;

	s->ids[s->n] = fb->id;
	s->kinds[s->n++] = fb->kind;
	return s->n == 16;
}

static void
test_add_and_read(void **state)
{
	struct fixture *f = *state;
	static const uint8_t png[] = { 0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a,
	    0x0a, 1, 2, 3 };
	struct feedback_new *n = calloc(1, sizeof *n);
	struct feedback *got = malloc(sizeof *got);
	struct seen s = { 0 };
	uint8_t *bytes = NULL;
	uint64_t r1;
	size_t len = 0;
	int type = 0;

	assert_non_null(n);
	assert_non_null(got);
	r1 = rate(f, "TEA", 5, 0, NULL);
	n->f.brand_id = f->brand;
	n->f.kind = FEEDBACK_FAKE;
	n->f.scan_id = 9;
	strcpy(n->f.where, "人民路小店");
	n->f.photo = FEEDBACK_PHOTO_PNG;
	n->f.photo_len = sizeof png;
	n->photo = png;
	assert_int_equal(store_feedback_add(f->st, n), 0);
	assert_true(n->f.id > r1);

	assert_int_equal(store_feedback_get(f->st, f->brand, n->f.id, got), 0);
	assert_int_equal(got->kind, FEEDBACK_FAKE);
	assert_int_equal(got->status, FEEDBACK_OPEN);
	assert_int_equal(got->rating, 0);
	assert_string_equal(got->where, "人民路小店");
	assert_int_equal(got->photo, FEEDBACK_PHOTO_PNG);
	assert_int_equal(got->legacy, 0);
	assert_int_equal(store_feedback_get(f->st, f->other, n->f.id, got),
	    SIGIL_ENOTFOUND);

	assert_int_equal(store_feedback_photo(f->st, f->brand, n->f.id, &type,
	    &bytes, &len), 0);
	assert_int_equal(type, FEEDBACK_PHOTO_PNG);
	assert_int_equal(len, sizeof png);
	assert_memory_equal(bytes, png, sizeof png);
	free(bytes);
	assert_int_equal(store_feedback_photo(f->st, f->brand, r1, &type,
	    &bytes, &len), SIGIL_ENOTFOUND);
	assert_int_equal(store_feedback_photo(f->st, f->other, n->f.id, &type,
	    &bytes, &len), SIGIL_ENOTFOUND);

	assert_int_equal(store_feedback_back(f->st, f->brand, 0, seen_one, &s),
	    0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.ids[0], n->f.id);
	assert_int_equal(s.kinds[0], FEEDBACK_FAKE);
	assert_int_equal(s.ids[1], r1);
	memset(&s, 0, sizeof s);
	assert_int_equal(store_feedback_back(f->st, f->other, 0, seen_one, &s),
	    0);
	assert_int_equal(s.n, 0);
	free(n);
	free(got);
}

static void
test_refused(void **state)
{
	struct fixture *f = *state;
	struct feedback_new *n = calloc(1, sizeof *n);
	static const uint8_t jpg[] = { 0xff, 0xd8, 0xff, 0xe0 };
	struct seen s = { 0 };

	assert_non_null(n);
	n->f.brand_id = f->brand;
	n->f.scan_id = 1;
	n->f.kind = FEEDBACK_RATING;
	n->f.rating = 6;
	assert_int_equal(store_feedback_add(f->st, n), SIGIL_EINVAL);
	n->f.rating = 0;
	assert_int_equal(store_feedback_add(f->st, n), SIGIL_EINVAL);
	n->f.rating = 3;
	n->f.kind = 7;
	assert_int_equal(store_feedback_add(f->st, n), SIGIL_EINVAL);
	/* A fake needs where; a rating takes no photo. */
	n->f.kind = FEEDBACK_FAKE;
	n->f.rating = 0;
	assert_int_equal(store_feedback_add(f->st, n), SIGIL_EINVAL);
	n->f.kind = FEEDBACK_RATING;
	n->f.rating = 3;
	n->f.photo = FEEDBACK_PHOTO_JPEG;
	n->f.photo_len = sizeof jpg;
	n->photo = jpg;
	assert_int_equal(store_feedback_add(f->st, n), SIGIL_EINVAL);
	/* A photo over 2 MiB. */
	n->f.kind = FEEDBACK_FAKE;
	n->f.rating = 0;
	strcpy(n->f.where, "x");
	n->f.photo_len = FEEDBACK_PHOTO_MAX + 1;
	assert_int_equal(store_feedback_add(f->st, n), SIGIL_EINVAL);
	/* A control character in where. */
	n->f.photo = FEEDBACK_PHOTO_NONE;
	n->photo = NULL;
	strcpy(n->f.where, "a\x1b" "b");
	assert_int_equal(store_feedback_add(f->st, n), SIGIL_EINVAL);
	/* No such brand. */
	strcpy(n->f.where, "x");
	n->f.brand_id = 999;
	assert_int_equal(store_feedback_add(f->st, n), SIGIL_ENOTFOUND);
	assert_int_equal(store_feedback_back(f->st, f->brand, 0, seen_one, &s),
	    0);
	assert_int_equal(s.n, 0);
	free(n);
}

static void
test_reply_close(void **state)
{
	struct fixture *f = *state;
	struct feedback_reply *r = calloc(1, sizeof *r);
	uint64_t id = rate(f, "TEA", 2, 0, NULL);

	assert_non_null(r);
	r->brand_id = f->brand;
	r->id = id;
	r->actor = 4;
	r->at = sigil_now_us();
	assert_int_equal(store_feedback_reply(f->st, r), SIGIL_EINVAL);
	strcpy(r->text, "   ");
	assert_int_equal(store_feedback_reply(f->st, r), SIGIL_EINVAL);
	strcpy(r->text, "抱歉，我们会改进。");
	r->brand_id = f->other;
	assert_int_equal(store_feedback_reply(f->st, r), SIGIL_ENOTFOUND);
	r->brand_id = f->brand;
	assert_int_equal(store_feedback_reply(f->st, r), 0);
	/* No customer: stored, not delivered. */
	assert_int_equal(r->delivered, 0);
	assert_int_equal(r->row.status, FEEDBACK_REPLIED);
	assert_string_equal(r->row.reply, "抱歉，我们会改进。");
	assert_int_equal(r->row.replied_by, 4);
	r->close = 1;
	assert_int_equal(store_feedback_reply(f->st, r), 0);
	assert_int_equal(r->row.status, FEEDBACK_CLOSED);
	assert_string_equal(r->row.reply, "抱歉，我们会改进。");
	assert_int_equal(store_feedback_reply(f->st, r), SIGIL_ESTATE);
	r->close = 0;
	assert_int_equal(store_feedback_reply(f->st, r), SIGIL_ESTATE);
	free(r);
}

static void
test_settings(void **state)
{
	struct fixture *f = *state;
	struct feedback_settings s, bad = { 0, 10 };

	assert_int_equal(store_feedback_settings_get(f->st, f->brand, &s), 0);
	assert_int_equal(s.min_ratings, 5);
	assert_int_equal(s.drop_tenths, 10);
	assert_int_equal(store_feedback_settings_put(f->st, f->brand, &bad),
	    SIGIL_EINVAL);
	bad.min_ratings = 3;
	bad.drop_tenths = 41;
	assert_int_equal(store_feedback_settings_put(f->st, f->brand, &bad),
	    SIGIL_EINVAL);
	s.min_ratings = 2;
	s.drop_tenths = 15;
	assert_int_equal(store_feedback_settings_put(f->st, f->brand, &s), 0);
	assert_int_equal(store_feedback_settings_get(f->st, f->brand, &s), 0);
	assert_int_equal(s.min_ratings, 2);
	assert_int_equal(s.drop_tenths, 15);
	assert_int_equal(store_feedback_settings_get(f->st, f->other, &s), 0);
	assert_int_equal(s.min_ratings, 5);
}

static void
test_rating_drop(void **state)
{
	struct fixture *f = *state;
	struct feedback_settings s = { 2, 15 };
	int64_t now = sigil_now_us();
	struct alert al;
	uint64_t alert = 0, again = 0;

	assert_int_equal(store_feedback_settings_put(f->st, f->brand, &s), 0);
	/* The 30 days before: 5, 5; older than 37 days: a 1 (not counted). */
	rate(f, "TEA", 1, now - 40 * DAY, NULL);
	rate(f, "TEA", 5, now - 20 * DAY, NULL);
	rate(f, "TEA", 5, now - 10 * DAY, NULL);
	/* Another product's low ratings change nothing for TEA. */
	rate(f, "CUP", 1, now - 2 * DAY, NULL);
	/* The last 7 days: 4, then 4: a drop of 1 < 1.5: no alert. */
	rate(f, "TEA", 4, now - 3 * DAY, &alert);
	assert_int_equal(alert, 0);
	rate(f, "TEA", 4, now - 2 * DAY, &alert);
	assert_int_equal(alert, 0);
	/* A 2: (4 + 4 + 2) / 3 = 3.33, 1.67 below 5: one alert. */
	rate(f, "TEA", 2, now - DAY, &alert);
	assert_true(alert != 0);
	assert_int_equal(store_alert_get(f->st, f->brand, alert, &al), 0);
	assert_int_equal(al.type, ALERT_RATING_DROP);
	assert_string_equal(store_alert_type_name(al.type), "rating_drop");
	assert_int_equal(al.count, 1);
	/* Another low one: the same alert, seen twice. */
	rate(f, "TEA", 1, now, &again);
	assert_int_equal(again, alert);
	assert_int_equal(store_alert_get(f->st, f->brand, alert, &al), 0);
	assert_int_equal(al.count, 2);
	assert_int_equal(store_alert_get(f->st, f->other, alert, &al),
	    SIGIL_ENOTFOUND);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_add_and_read, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reply_close, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_settings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rating_drop, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
