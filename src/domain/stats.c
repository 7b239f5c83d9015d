/*
 * stats.c - the statistics behind the dashboard's charts.
 *
 * Everything comes from the counters the writer keeps per brand, kind,
 * dimension and hour (store_stat_range, store_stat_keys); nothing here
 * reads the scan log, so a request costs the same over ten scans or ten
 * million. Ranges are whole hours in UTC; a time zone only moves the
 * edges of the days they are cut into and the midnight of a date-only
 * bound, never an instant given with Z or an offset.
 *
 * Counters of hours that ended more than an hour ago no longer change (a
 * scan or claim counts in the hour it happens, committed within
 * milliseconds), so the per-key totals of a range's closed part are kept
 * in a small cache and only its last hour or two are read again. A
 * dashboard asks the same ranges over and over; each is walked in full
 * once an hour. The cache is used on the event loop's thread only: no
 * lock. The prewarm thread reads the store only and shares nothing with
 * it but a stop flag.
 *
 * May call store, util and log; never reads a request, renders a reply
 * or writes to the store.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "sigil/log.h"
#include "sigil/scan_export.h"
#include "sigil/stats.h"
#include "sigil/store.h"
#include "sigil/util.h"

static int64_t
floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* ---- ranges ---- */

/*
 * A bound, as an export takes it (scan_export_bound): a date (YYYY-MM-DD,
 * local midnight in zone tz, in hours) or an RFC 3339 instant with Z or
 * an offset (never shifted); its hour, rounded down.
 */
static int
bound_parse(const char *s, int tz, int64_t *hour)
{
	int64_t t;

	if (scan_export_bound(s, tz * 60, 0, &t) != 0)
		return SIGIL_EINVAL;
	*hour = floor_div(t, STATS_HOUR_US);
	return 0;
}

int
stats_range_parse(const char *bucket, const char *tz, const char *from,
    const char *to, int64_t now, struct stats_range *r)
{
	int64_t now_h = floor_div(now, STATS_HOUR_US), span;
	uint64_t n;
	int neg;

	r->bucket_hours = 24;
	r->tz = 0;
	if (bucket != NULL) {
		if (strcmp(bucket, "hour") == 0)
			r->bucket_hours = 1;
		else if (strcmp(bucket, "day") != 0)
			return SIGIL_EINVAL;
	}
	if (tz != NULL) {
		neg = tz[0] == '-';
		if (sigil_parse_u64(tz + (tz[0] == '-' || tz[0] == '+'), 14,
		    &n) != 0 || (neg && n > 12))
			return SIGIL_EINVAL;
		r->tz = neg ? -(int)n : (int)n;
	}
	/* Local hour index: UTC hour + tz; buckets align to local days. */
	if (r->bucket_hours == 24) {
		r->to_hour = (floor_div(now_h + r->tz, 24) + 1) * 24 - r->tz;
		r->from_hour = r->to_hour - 30 * 24;
	} else {
		r->to_hour = now_h + 1;
		r->from_hour = r->to_hour - 48;
	}
	/*
	 * A date names a local day: its midnight is tz hours before UTC's,
	 * and a date "to" includes its day. A time carries its own zone (Z
	 * or an offset) and is an instant: the zone never moves it.
	 */
	if (to != NULL) {
		if (bound_parse(to, r->tz, &r->to_hour) != 0)
			return SIGIL_EINVAL;
		if (strlen(to) == 10)
			r->to_hour += 24;
	}
	if (from != NULL && bound_parse(from, r->tz, &r->from_hour) != 0)
		return SIGIL_EINVAL;
	if (r->bucket_hours == 24) {
		/* Whole local days. */
		r->from_hour = floor_div(r->from_hour + r->tz, 24) * 24 - r->tz;
		r->to_hour = (floor_div(r->to_hour + r->tz + 23, 24)) * 24 -
		    r->tz;
	}
	span = r->to_hour - r->from_hour;
	if (r->from_hour < 0 || span <= 0 || span > STATS_HOURS_MAX ||
	    (r->bucket_hours == 1 && span > STATS_HOUR_POINTS_MAX))
		return SIGIL_EFULL;
	return 0;
}

size_t
stats_buckets(const struct stats_range *r)
{
	return (size_t)(r->to_hour - r->from_hour) / (size_t)r->bucket_hours;
}

int
stats_range_previous(const struct stats_range *r, struct stats_range *prev)
{
	int64_t span = r->to_hour - r->from_hour;

	*prev = *r;
	prev->to_hour = r->from_hour;
	prev->from_hour = r->from_hour - span;
	return prev->from_hour < 0 ? SIGIL_EFULL : 0;
}

/* ---- the brand's series ---- */

int
stats_series(struct store *st, uint32_t brand_id, const int *kinds,
    int nkinds, const struct stats_range *r, int64_t *out)
{
	size_t hours = (size_t)(r->to_hour - r->from_hour);
	size_t nb = stats_buckets(r);
	int64_t *v = malloc(hours * sizeof *v);
	int err = 0;

	if (v == NULL)
		return SIGIL_ENOMEM;
	for (int k = 0; k < nkinds && err == 0; k++) {
		err = store_stat_range(st, brand_id, kinds[k], DIM_BRAND, 0,
		    r->from_hour, r->to_hour, v);
		for (size_t b = 0; b < nb && err == 0; b++) {
			int64_t sum = 0;

			for (int h = 0; h < r->bucket_hours; h++)
				sum += v[b * (size_t)r->bucket_hours +
				    (size_t)h];
			out[(size_t)k * nb + b] = sum;
		}
	}
	free(v);
	return err;
}

/* ---- per-key tables ---- */

/* Per-key totals of several kinds, merged by key. */
struct stat_cell {
	uint64_t	key;
	int		col;
	int64_t		total;
};

struct stat_cells {
	struct stat_cell *v;
	size_t		n, cap;
	int		col;
	int		err;
};

static int
stat_cells_add(void *arg, uint64_t key, int64_t total)
{
	struct stat_cells *cells = arg;

	if (cells->n == cells->cap) {
		size_t cap = cells->cap ? cells->cap * 2 : 256;
		struct stat_cell *v = realloc(cells->v, cap * sizeof *v);

		if (v == NULL) {
			cells->err = SIGIL_ENOMEM;
			return 1;
		}
		cells->v = v;
		cells->cap = cap;
	}
	cells->v[cells->n].key = key;
	cells->v[cells->n].col = cells->col;
	cells->v[cells->n++].total = total;
	return 0;
}

static int
cell_by_key(const void *a, const void *b)
{
	const struct stat_cell *x = a, *y = b;

	return x->key < y->key ? -1 : x->key > y->key;
}

static int
row_by_first(const void *a, const void *b)
{
	const struct stats_row *x = a, *y = b;

	if (x->v[0] != y->v[0])
		return x->v[0] > y->v[0] ? -1 : 1;
	return x->key < y->key ? -1 : x->key > y->key;
}

/*
 * One row per key holding the totals of kinds[0..n) in dim over
 * [from_hour, to_hour), in key order.
 */
static int
table_raw(struct store *st, uint32_t brand_id, int dim, const int *kinds,
    int nkinds, int64_t from_hour, int64_t to_hour, struct stats_row **out,
    size_t *nrows)
{
	struct stat_cells cells = { 0 };
	struct stats_row *rows;
	size_t n = 0;
	int err;

	for (int k = 0; k < nkinds && to_hour > from_hour; k++) {
		cells.col = k;
		err = store_stat_keys(st, brand_id, kinds[k], dim, from_hour,
		    to_hour, stat_cells_add, &cells);
		if (err < 0 || cells.err != 0) {
			free(cells.v);
			return err < 0 ? err : cells.err;
		}
	}
	if (cells.n > 0)
		qsort(cells.v, cells.n, sizeof *cells.v, cell_by_key);
	if ((rows = calloc(cells.n ? cells.n : 1, sizeof *rows)) == NULL) {
		free(cells.v);
		return SIGIL_ENOMEM;
	}
	for (size_t i = 0; i < cells.n; i++) {
		if (n == 0 || rows[n - 1].key != cells.v[i].key)
			rows[n++].key = cells.v[i].key;
		rows[n - 1].v[cells.v[i].col] += cells.v[i].total;
	}
	free(cells.v);
	*out = rows;
	*nrows = n;
	return 0;
}

#define TABLE_CACHE_SLOTS	16
struct table_cache {
	uint32_t	brand_id;
	int		dim;
	const int	*kinds;
	int64_t		from_hour, closed_hour, used;
	struct stats_row *rows;
	size_t		n;
};
static struct table_cache table_cache[TABLE_CACHE_SLOTS];

static int
closed_rows(struct store *st, uint32_t brand_id, int dim, const int *kinds,
    int nkinds, int64_t from_hour, int64_t closed_hour,
    const struct stats_row **out, size_t *n)
{
	struct table_cache *c, *victim = &table_cache[0];
	struct stats_row *rows;
	size_t nrows;
	int err;

	for (int i = 0; i < TABLE_CACHE_SLOTS; i++) {
		c = &table_cache[i];
		if (c->rows != NULL && c->brand_id == brand_id &&
		    c->dim == dim && c->kinds == kinds && c->from_hour ==
		    from_hour && c->closed_hour == closed_hour) {
			c->used = sigil_now_us();
			*out = c->rows;
			*n = c->n;
			return 0;
		}
		if (c->used < victim->used)
			victim = c;
	}
	if ((err = table_raw(st, brand_id, dim, kinds, nkinds, from_hour,
	    closed_hour, &rows, &nrows)) != 0)
		return err;
	free(victim->rows);
	victim->brand_id = brand_id;
	victim->dim = dim;
	victim->kinds = kinds;
	victim->from_hour = from_hour;
	victim->closed_hour = closed_hour;
	victim->used = sigil_now_us();
	victim->rows = rows;
	victim->n = nrows;
	*out = rows;
	*n = nrows;
	return 0;
}

int
stats_table(struct store *st, uint32_t brand_id, int dim, const int *kinds,
    int nkinds, const struct stats_range *r, struct stats_row **out,
    size_t *nrows)
{
	int64_t closed = floor_div(sigil_now_us(), STATS_HOUR_US) - 1;
	const struct stats_row *old;
	struct stats_row *live, *rows;
	size_t nold, nlive, n = 0, i = 0, j = 0;
	int err;

	if (closed > r->to_hour)
		closed = r->to_hour;
	if (closed - r->from_hour < 48) {
		if ((err = table_raw(st, brand_id, dim, kinds, nkinds,
		    r->from_hour, r->to_hour, &rows, &n)) != 0)
			return err;
		goto sort;
	}
	if ((err = closed_rows(st, brand_id, dim, kinds, nkinds, r->from_hour,
	    closed, &old, &nold)) != 0 || (err = table_raw(st, brand_id, dim,
	    kinds, nkinds, closed, r->to_hour, &live, &nlive)) != 0)
		return err;
	if ((rows = calloc(nold + nlive + 1, sizeof *rows)) == NULL) {
		free(live);
		return SIGIL_ENOMEM;
	}
	/* Both in key order: merge. */
	while (i < nold || j < nlive) {
		if (j == nlive || (i < nold && old[i].key < live[j].key))
			rows[n++] = old[i++];
		else if (i == nold || live[j].key < old[i].key)
			rows[n++] = live[j++];
		else {
			rows[n] = old[i++];
			for (int k = 0; k < STATS_COLS_MAX; k++)
				rows[n].v[k] += live[j].v[k];
			j++;
			n++;
		}
	}
	free(live);
sort:
	qsort(rows, n, sizeof *rows, row_by_first);
	*out = rows;
	*nrows = n;
	return 0;
}

/* ---- prewarming the counters ---- */

static pthread_t prewarm_thread;
static int prewarm_running;
static atomic_int prewarm_stop_flag;

static int
prewarm_one(void *arg, uint64_t key, int64_t total)
{
	(void)arg;
	(void)key;
	(void)total;
	return atomic_load(&prewarm_stop_flag);
}

static int
prewarm_brand(void *arg, const struct brand *b)
{
	int64_t to = floor_div(sigil_now_us(), STATS_HOUR_US) + 1;

	for (int kind = STAT_SCANS; kind <= STAT_UNVERIFIED; kind++)
		for (int dim = DIM_BRAND; dim <= DIM_CITY; dim++)
			if (atomic_load(&prewarm_stop_flag) ||
			    store_stat_keys(arg, b->id, kind, dim,
			    to - STATS_HOURS_MAX, to, prewarm_one, NULL) < 0)
				return 1;
	return 0;
}

static void *
prewarm_main(void *arg)
{
	int64_t t0 = sigil_now_us();

	store_brand_each(arg, prewarm_brand, arg);
	log_info("dashboard_prewarm", "ms=%lld stopped=%d",
	    (long long)((sigil_now_us() - t0) / 1000),
	    atomic_load(&prewarm_stop_flag));
	return NULL;
}

int
stats_prewarm_start(struct store *st)
{
	atomic_store(&prewarm_stop_flag, 0);
	if (pthread_create(&prewarm_thread, NULL, prewarm_main, st) != 0)
		return SIGIL_EIO;
	prewarm_running = 1;
	return 0;
}

void
stats_prewarm_stop(void)
{
	if (!prewarm_running)
		return;
	atomic_store(&prewarm_stop_flag, 1);
	pthread_join(prewarm_thread, NULL);
	prewarm_running = 0;
}
