/*
 * stats_fill.c - fills a sigil data dir with N scans for bench/stats.sh,
 * straight through the store (store_scans_commit in large NOSYNC
 * transactions, store_sync at the end), so the dashboard counters are
 * written exactly as the writer writes them.
 *
 *   stats_fill DATA_DIR N DAYS
 *
 * The brands, products and batches must exist (stats.sh makes them with
 * the sigil tool). Scans spread over every batch of every brand (a few
 * hot products, a long tail), over the last DAYS days with a daily
 * rhythm (busy evenings, quiet nights), over 2 million devices; 40 % of
 * them carry a location inside China's bounding box, weighted towards
 * the eastern cities. Items reach buyers roughly in serial order: a
 * scan is of the next unsold code of its batch, or (one in three) a
 * repeat scan of a code sold a little earlier. The judge fills the flags
 * as scan.c would: first
 * scan of a code, too many scanners (suspicious), a little diversion.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sigil/store.h"
#include "sigil/util.h"

#define CHUNK		100000
#define DEVICES		2000000ULL
#define MAX_BATCHES	4096

struct batches {
	struct batch	v[MAX_BATCHES];
	uint64_t	sold[MAX_BATCHES];	/* codes that reached buyers */
	size_t		n;
};

static struct batches all;
static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t
next(void)
{
	/* xorshift64*: fast, and the same run every time. */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dULL;
}

static double
unit(void)
{
	return (double)(next() >> 11) / (double)(1ULL << 53);
}

static int
batch_one(void *arg, const struct batch *b)
{
	struct batches *bs = arg;

	if (bs->n < MAX_BATCHES && b->state == BATCH_ACTIVE)
		bs->v[bs->n++] = *b;
	return 0;
}

static int
brand_one(void *arg, const struct brand *b)
{
	struct store **st = arg;

	return store_batch_each(*st, b->id, batch_one, &all);
}

static void
judge(void *arg, size_t index, struct scan_rec *rec, struct code_state *s)
{
	uint16_t keep = rec->flags & (SCAN_HAS_LOC | SCAN_DIVERSION);
	int seen = 0;

	(void)arg;
	(void)index;
	rec->flags = keep;
	rec->verdict = VERDICT_GENUINE;
	if (s->scan_count == 0) {
		rec->flags |= SCAN_FIRST;
		s->first_at = rec->at;
		s->first_scan_id = rec->id;
	}
	s->scan_count++;
	for (int i = 0; i < s->n_scanners; i++)
		seen |= s->scanners[i] == rec->device;
	if (!seen && s->n_scanners < STORE_SCANNERS_MAX - 1)
		s->scanners[s->n_scanners++] = rec->device;
	if (s->n_scanners > 5) {
		rec->flags |= SCAN_CLONE_SCANNERS;
		s->flags |= SCAN_CLONE_SCANNERS;
		rec->verdict = VERDICT_SUSPICIOUS;
	}
	if (rec->flags & SCAN_HAS_LOC) {
		s->last_loc_at = rec->at;
		s->last_lat = rec->lat;
		s->last_lng = rec->lng;
	}
}

/* Evenings busy, nights quiet: an hour of the day by weight. */
static int
hour_of_day(void)
{
	static const int w[24] = { 2, 1, 1, 1, 1, 2, 4, 6, 8, 9, 10, 11, 12,
	    11, 10, 10, 11, 13, 16, 18, 17, 13, 8, 4 };
	int total = 0, r;

	for (int i = 0; i < 24; i++)
		total += w[i];
	r = (int)(unit() * total);
	for (int i = 0; i < 24; i++)
		if ((r -= w[i]) < 0)
			return i;
	return 23;
}

static void
place(struct scan_rec *r)
{
	static const float city[][2] = { { 31.2f, 121.5f }, { 39.9f, 116.4f },
	    { 23.1f, 113.3f }, { 22.5f, 114.1f }, { 30.7f, 104.1f },
	    { 30.6f, 114.3f }, { 34.3f, 108.9f }, { 29.6f, 106.5f },
	    { 36.1f, 120.4f }, { 45.8f, 126.5f }, { 43.8f, 87.6f } };
	int c = (int)(unit() * unit() * 11);

	r->lat = city[c][0] + (float)((unit() - 0.5) * 4);
	r->lng = city[c][1] + (float)((unit() - 0.5) * 4);
	r->accuracy_m = 50;
	r->flags |= SCAN_HAS_LOC;
}

int
main(int argc, char **argv)
{
	struct store *st;
	struct scan_rec *recs;
	uint64_t n, done = 0, days;
	int64_t now = sigil_now_us(), t0 = now;
	int err;

	if (argc != 4 || sigil_parse_u64(argv[2], 1000000000, &n) != 0 ||
	    sigil_parse_u64(argv[3], 3650, &days) != 0 || days == 0) {
		fprintf(stderr, "usage: stats_fill DATA_DIR N DAYS\n");
		return 2;
	}
	if ((err = store_open(argv[1], STORE_NOSYNC, &st)) != 0) {
		fprintf(stderr, "stats_fill: %s: %s\n", argv[1],
		    sigil_strerror(err));
		return 1;
	}
	store_brand_each(st, brand_one, &st);
	if (all.n == 0) {
		fprintf(stderr, "stats_fill: no active batches\n");
		return 1;
	}
	if ((recs = calloc(CHUNK, sizeof *recs)) == NULL)
		return 1;
	while (done < n) {
		size_t k = n - done < CHUNK ? (size_t)(n - done) : CHUNK;

		for (size_t i = 0; i < k; i++) {
			struct scan_rec *r = &recs[i];
			/* Hot batches first: a skewed pick. */
			size_t bi = (size_t)(unit() * unit() * (double)all.n);
			const struct batch *b = &all.v[bi];
			uint64_t sold = all.sold[bi], pick;
			/* Oldest first, so time runs forward like a real log. */
			int64_t day = (int64_t)days - 1 - (int64_t)((done + i) *
			    days / n);

			memset(r, 0, sizeof *r);
			r->at = (now / 86400000000LL - day) * 86400000000LL +
			    (int64_t)hour_of_day() * 3600000000LL +
			    (int64_t)(unit() * 3600000000.0);
			if (r->at > now)
				r->at = now - (int64_t)(unit() * 3600000000.0);
			r->brand_id = b->brand_id;
			r->batch_id = b->id;
			if (sold > 0 && unit() < 0.33)
				pick = sold - 1 - next() % (sold < 5000 ? sold : 5000);
			else
				pick = sold++;
			all.sold[bi] = sold;
			r->serial = b->first_serial + pick % b->count;
			r->device = 1 + next() % DEVICES;
			if (unit() < 0.4)
				place(r);
			if ((r->flags & SCAN_HAS_LOC) && unit() < 0.002) {
				r->flags |= SCAN_DIVERSION;
				r->distributor = 1;
				r->diversion_km = (float)(unit() * 800);
			}
		}
		if ((err = store_scans_commit(st, recs, k, judge, NULL)) != 0) {
			fprintf(stderr, "stats_fill: commit: %s\n",
			    sigil_strerror(err));
			return 1;
		}
		done += k;
		if (done % 1000000 == 0)
			fprintf(stderr, "stats_fill: %llu scans, %.0f/s\n",
			    (unsigned long long)done, (double)done * 1e6 /
			    (double)(sigil_now_us() - t0));
	}
	if ((err = store_sync(st)) != 0) {
		fprintf(stderr, "stats_fill: sync: %s\n", sigil_strerror(err));
		return 1;
	}
	printf("%llu scans over %zu batches in %.1f s\n",
	    (unsigned long long)n, all.n, (double)(sigil_now_us() - t0) / 1e6);
	free(recs);
	store_close(st);
	return 0;
}
