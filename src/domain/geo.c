/*
 * geo.c - sales territories: GeoJSON in, point-in-territory and distance
 * out, for the diversion flag (防窜货) of SPEC §4.
 *
 * Owns the one representation of a territory: every position of every
 * ring in one flat array, rings and polygons as index ranges into it, so
 * a polygon's points (and so its edges) are contiguous. Parsing is strict
 * and single-pass: it walks the jansson tree once, checking and appending,
 * and stops at the first problem with a message that names the place by
 * index only (the text goes back to API clients and into logs, so it must
 * never echo their bytes). The limits are checked before anything grows,
 * so hostile input costs at most GEO_INPUT_MAX of parsing.
 *
 * Containment is the even-odd rule per polygon: holes are just more rings
 * crossed by the ray, and a MultiPolygon or FeatureCollection contains a
 * point when any polygon does (overlapping polygons must not cancel, so
 * parity is never shared between polygons). A territory of 100,000
 * vertices is looked at for every located scan, so parse time also builds
 * a latitude-band index: the edges whose latitude range touches each
 * band, in edge order. A ray test reads one band; since edge order is
 * polygon order, the per-polygon parity falls out of one ordered walk.
 * An adversarial polygon (every edge spanning every band) would blow the
 * index up, so the band count is halved until the index holds at most
 * eight entries per edge.
 *
 * Distance picks the nearest boundary point in an equirectangular
 * projection centred on the scan and then reports the haversine distance
 * to that point: a true distance to a real point of the boundary, wrong
 * only when the projection's distortion prefers a slightly farther point,
 * which matters only for far-away territories. The search reuses the
 * bands, nearest latitude first, skipping a band whose latitude gap or
 * longitude span (kept per band) proves it cannot beat the best so far,
 * and stopping when no band left can.
 *
 * Pure computation: may call jansson and libm, never the store, never I/O;
 * a parsed area is immutable and safe to share between threads.
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sigil/geo.h"
#include "sigil/util.h"

#define BANDS_MAX		4096
#define BAND_ENTRIES_PER_EDGE	8
#define DEGENERATE_RATIO	1e-9	/* |area| / extent^2 below this: a line */

struct geo_pt {
	double	lng, lat;
};

struct geo_ring {
	uint32_t	first;		/* index into pts */
	uint32_t	n;		/* positions, the closing one included */
};

struct geo_poly {
	uint32_t	ring_first, ring_end;
	uint32_t	pt_first, pt_end;
	double		min_lng, max_lng, min_lat, max_lat;
};

struct geo_area {
	struct geo_pt	*pts;
	struct geo_ring	*rings;
	struct geo_poly	*polys;
	size_t		npts, nrings, npolys;
	size_t		cap_pts, cap_rings, cap_polys;
	double		min_lng, max_lng, min_lat, max_lat;
	/* Latitude bands: edges (by start point) of band b are
	 * band_edges[band_start[b] .. band_start[b + 1]). */
	size_t		nbands;
	double		band_lat0, band_height;
	uint32_t	*band_start;
	uint32_t	*band_edges;
	double		*band_lng;	/* min, max longitude of band b's edges
					 * at [2b], [2b + 1] */
};

/* Where the walk is, for messages: 0 means "not inside one". */
struct parse_ctx {
	struct geo_area	*a;
	char		*err;
	size_t		 errsize;
	size_t		 feature, polygon, ring, position;
};

static int
fail(struct parse_ctx *c, int located, const char *fmt, ...)
{
	const struct {
		const char	*name;
		size_t		 at;
	} level[] = {
		{ "feature", c->feature }, { "polygon", c->polygon },
		{ "ring", c->ring }, { "position", c->position },
	};
	char where[96] = "";
	char msg[96];
	va_list ap;
	int n = 0;

	if (c->errsize == 0)
		return SIGIL_EINVAL;
	for (size_t i = 0; located && i < sizeof(level) / sizeof(level[0]);
	    i++)
		if (level[i].at)
			n += snprintf(where + n, sizeof(where) - n, "%s %zu, ",
			    level[i].name, level[i].at);
	if (n >= 2)
		memcpy(where + n - 2, ": ", 3);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(c->err, c->errsize, "%s%s", where, msg);
	return SIGIL_EINVAL;
}

/* Grows *p (elements of size sz) to hold need; cap at most max. */
static int
grow(void **p, size_t *cap, size_t need, size_t sz, size_t max)
{
	size_t ncap = *cap ? *cap : 16;
	void *np;

	if (need <= *cap)
		return 0;
	if (need > max)
		return SIGIL_EINVAL;	/* callers check limits first */
	while (ncap < need)
		ncap *= 2;
	if (ncap > max)
		ncap = max;
	np = realloc(*p, ncap * sz);
	if (np == NULL)
		return SIGIL_ENOMEM;
	*p = np;
	*cap = ncap;
	return 0;
}

/* Twice the signed area, relative to the first point for precision. */
static double
ring_area2(const struct geo_pt *p, size_t n)
{
	double s = 0, x0 = p[0].lng, y0 = p[0].lat;

	for (size_t i = 0; i + 1 < n; i++)
		s += (p[i].lng - x0) * (p[i + 1].lat - y0) -
		    (p[i + 1].lng - x0) * (p[i].lat - y0);
	return s;
}

static int
parse_position(struct parse_ctx *c, json_t *pos, struct geo_pt *out)
{
	double v[2];

	if (!json_is_array(pos) || json_array_size(pos) < 2 ||
	    json_array_size(pos) > 3)
		return fail(c, 1, "a position needs 2 or 3 numbers");
	for (size_t i = 0; i < json_array_size(pos); i++) {
		json_t *num = json_array_get(pos, i);

		if (!json_is_number(num))
			return fail(c, 1, "coordinates must be numbers");
		if (!isfinite(json_number_value(num)))
			return fail(c, 1, "coordinates must be finite");
		if (i < 2)
			v[i] = json_number_value(num);
	}
	if (v[0] < -180 || v[0] > 180)
		return fail(c, 1, "longitude must be in [-180, 180]");
	if (v[1] < -90 || v[1] > 90)
		return fail(c, 1, "latitude must be in [-90, 90]");
	out->lng = v[0];
	out->lat = v[1];
	return 0;
}

static int
parse_ring(struct parse_ctx *c, json_t *ring)
{
	struct geo_area *a = c->a;
	struct geo_pt *p, lo, hi;
	size_t n;
	double extent;
	int rc;

	if (!json_is_array(ring))
		return fail(c, 1, "a ring must be an array of positions");
	n = json_array_size(ring);
	if (n < 4)
		return fail(c, 1, "a ring needs at least 4 positions");
	if (n > GEO_VERTICES_MAX - a->npts)
		return fail(c, 0, "too many vertices (limit %d)",
		    GEO_VERTICES_MAX);
	if ((rc = grow((void **)&a->pts, &a->cap_pts, a->npts + n,
	    sizeof(*a->pts), GEO_VERTICES_MAX)) != 0 ||
	    (rc = grow((void **)&a->rings, &a->cap_rings, a->nrings + 1,
	    sizeof(*a->rings), GEO_RINGS_MAX)) != 0)
		return rc;
	p = a->pts + a->npts;
	for (size_t i = 0; i < n; i++) {
		c->position = i + 1;
		if ((rc = parse_position(c, json_array_get(ring, i),
		    &p[i])) != 0)
			return rc;
	}
	c->position = 0;
	if (p[0].lng != p[n - 1].lng || p[0].lat != p[n - 1].lat)
		return fail(c, 1,
		    "ring is not closed (first and last positions differ)");
	lo = hi = p[0];
	for (size_t i = 1; i < n; i++) {
		lo.lng = fmin(lo.lng, p[i].lng);
		lo.lat = fmin(lo.lat, p[i].lat);
		hi.lng = fmax(hi.lng, p[i].lng);
		hi.lat = fmax(hi.lat, p[i].lat);
	}
	extent = fmax(hi.lng - lo.lng, hi.lat - lo.lat);
	if (fabs(ring_area2(p, n)) <= DEGENERATE_RATIO * extent * extent)
		return fail(c, 1, "ring has zero area");
	a->rings[a->nrings].first = (uint32_t)a->npts;
	a->rings[a->nrings].n = (uint32_t)n;
	a->nrings++;
	a->npts += n;
	return 0;
}

static int
parse_polygon(struct parse_ctx *c, json_t *coords)
{
	struct geo_area *a = c->a;
	struct geo_poly *poly;
	size_t nrings;
	int rc;

	if (!json_is_array(coords))
		return fail(c, 1, "polygon coordinates must be an array of "
		    "rings");
	nrings = json_array_size(coords);
	if (nrings == 0)
		return fail(c, 1, "a polygon needs at least one ring");
	if (nrings > GEO_RINGS_MAX - a->nrings)
		return fail(c, 0, "too many rings (limit %d)", GEO_RINGS_MAX);
	if ((rc = grow((void **)&a->polys, &a->cap_polys, a->npolys + 1,
	    sizeof(*a->polys), GEO_RINGS_MAX)) != 0)
		return rc;
	poly = &a->polys[a->npolys];
	poly->ring_first = (uint32_t)a->nrings;
	poly->pt_first = (uint32_t)a->npts;
	for (size_t i = 0; i < nrings; i++) {
		c->ring = i + 1;
		if ((rc = parse_ring(c, json_array_get(coords, i))) != 0)
			return rc;
	}
	c->ring = 0;
	poly->ring_end = (uint32_t)a->nrings;
	poly->pt_end = (uint32_t)a->npts;
	a->npolys++;
	return 0;
}

static int
parse_geometry(struct parse_ctx *c, json_t *geom)
{
	json_t *type = json_object_get(geom, "type");
	json_t *coords = json_object_get(geom, "coordinates");
	const char *t = json_string_value(type);
	int rc;

	if (t == NULL || (strcmp(t, "Polygon") != 0 &&
	    strcmp(t, "MultiPolygon") != 0))
		return fail(c, 1,
		    "unsupported type (expected Polygon or MultiPolygon)");
	if (!json_is_array(coords))
		return fail(c, 1, "coordinates must be an array");
	if (strcmp(t, "Polygon") == 0) {
		c->polygon = 1;
		rc = parse_polygon(c, coords);
		c->polygon = 0;
		return rc;
	}
	for (size_t i = 0; i < json_array_size(coords); i++) {
		c->polygon = i + 1;
		if ((rc = parse_polygon(c, json_array_get(coords, i))) != 0)
			return rc;
	}
	c->polygon = 0;
	return 0;
}

static int
parse_feature(struct parse_ctx *c, json_t *feature)
{
	json_t *geom = json_object_get(feature, "geometry");

	if (!json_is_object(geom))
		return fail(c, 1,
		    "a Feature's geometry must be a Polygon or MultiPolygon");
	return parse_geometry(c, geom);
}

static int
parse_root(struct parse_ctx *c, json_t *root)
{
	json_t *features, *f;
	const char *t;
	int rc;

	if (!json_is_object(root))
		return fail(c, 0, "GeoJSON must be an object");
	t = json_string_value(json_object_get(root, "type"));
	if (t == NULL)
		return fail(c, 0, "\"type\" must be a string");
	if (strcmp(t, "Polygon") == 0 || strcmp(t, "MultiPolygon") == 0)
		return parse_geometry(c, root);
	if (strcmp(t, "Feature") == 0)
		return parse_feature(c, root);
	if (strcmp(t, "FeatureCollection") != 0)
		return fail(c, 0, "unsupported type (expected Polygon, "
		    "MultiPolygon, Feature or FeatureCollection)");
	features = json_object_get(root, "features");
	if (!json_is_array(features))
		return fail(c, 0, "a FeatureCollection needs a \"features\" "
		    "array");
	for (size_t i = 0; i < json_array_size(features); i++) {
		c->feature = i + 1;
		f = json_array_get(features, i);
		t = json_string_value(json_object_get(f, "type"));
		if (t == NULL || strcmp(t, "Feature") != 0)
			return fail(c, 1, "not a Feature");
		if ((rc = parse_feature(c, f)) != 0)
			return rc;
	}
	c->feature = 0;
	return 0;
}

static size_t
band_of(const struct geo_area *a, double lat)
{
	double b = (lat - a->band_lat0) / a->band_height;

	if (!(b > 0))
		return 0;
	if (b >= (double)(a->nbands - 1))
		return a->nbands - 1;
	return (size_t)b;
}

/* Visits every edge as the index of its start point, in order. */
#define FOREACH_EDGE(a, r, e) \
	for (size_t r = 0; r < (a)->nrings; r++) \
		for (size_t e = (a)->rings[r].first; \
		    e + 1 < (size_t)(a)->rings[r].first + (a)->rings[r].n; e++)

static size_t
band_entries(struct geo_area *a)
{
	size_t total = 0;

	FOREACH_EDGE(a, r, e) {
		double y1 = a->pts[e].lat, y2 = a->pts[e + 1].lat;

		total += band_of(a, fmax(y1, y2)) - band_of(a, fmin(y1, y2)) + 1;
	}
	return total;
}

static int
index_build(struct geo_area *a)
{
	size_t nedges = a->npts - a->nrings, total, b, lo, hi;
	uint32_t *fill;

	a->band_lat0 = a->min_lat;
	a->nbands = nedges / 8;
	if (a->nbands > BANDS_MAX)
		a->nbands = BANDS_MAX;
	if (a->nbands < 1)
		a->nbands = 1;
	for (;;) {
		a->band_height = (a->max_lat - a->min_lat) / (double)a->nbands;
		if (!(a->band_height > 0)) {
			a->nbands = 1;
			a->band_height = 1;
		}
		total = band_entries(a);
		if (a->nbands == 1 || total <= BAND_ENTRIES_PER_EDGE * nedges)
			break;
		a->nbands /= 2;
	}
	a->band_start = calloc(a->nbands + 1, sizeof(*a->band_start));
	a->band_edges = malloc(total * sizeof(*a->band_edges));
	a->band_lng = malloc(2 * a->nbands * sizeof(*a->band_lng));
	fill = calloc(a->nbands, sizeof(*fill));
	if (a->band_start == NULL || a->band_edges == NULL ||
	    a->band_lng == NULL || fill == NULL) {
		free(fill);
		return SIGIL_ENOMEM;
	}
	FOREACH_EDGE(a, r, e) {
		lo = band_of(a, fmin(a->pts[e].lat, a->pts[e + 1].lat));
		hi = band_of(a, fmax(a->pts[e].lat, a->pts[e + 1].lat));
		for (b = lo; b <= hi; b++)
			a->band_start[b + 1]++;
	}
	for (b = 0; b < a->nbands; b++) {
		a->band_start[b + 1] += a->band_start[b];
		a->band_lng[2 * b] = INFINITY;
		a->band_lng[2 * b + 1] = -INFINITY;
	}
	FOREACH_EDGE(a, r, e) {
		lo = band_of(a, fmin(a->pts[e].lat, a->pts[e + 1].lat));
		hi = band_of(a, fmax(a->pts[e].lat, a->pts[e + 1].lat));
		for (b = lo; b <= hi; b++) {
			a->band_edges[a->band_start[b] + fill[b]++] =
			    (uint32_t)e;
			a->band_lng[2 * b] = fmin(a->band_lng[2 * b],
			    fmin(a->pts[e].lng, a->pts[e + 1].lng));
			a->band_lng[2 * b + 1] = fmax(a->band_lng[2 * b + 1],
			    fmax(a->pts[e].lng, a->pts[e + 1].lng));
		}
	}
	free(fill);
	return 0;
}

static void
bounds_compute(struct geo_area *a)
{
	for (size_t i = 0; i < a->npolys; i++) {
		struct geo_poly *p = &a->polys[i];

		p->min_lng = p->max_lng = a->pts[p->pt_first].lng;
		p->min_lat = p->max_lat = a->pts[p->pt_first].lat;
		for (size_t k = p->pt_first; k < p->pt_end; k++) {
			p->min_lng = fmin(p->min_lng, a->pts[k].lng);
			p->max_lng = fmax(p->max_lng, a->pts[k].lng);
			p->min_lat = fmin(p->min_lat, a->pts[k].lat);
			p->max_lat = fmax(p->max_lat, a->pts[k].lat);
		}
		if (i == 0) {
			a->min_lng = p->min_lng;
			a->max_lng = p->max_lng;
			a->min_lat = p->min_lat;
			a->max_lat = p->max_lat;
		}
		a->min_lng = fmin(a->min_lng, p->min_lng);
		a->max_lng = fmax(a->max_lng, p->max_lng);
		a->min_lat = fmin(a->min_lat, p->min_lat);
		a->max_lat = fmax(a->max_lat, p->max_lat);
	}
}

void
geo_area_free(struct geo_area *a)
{
	if (a == NULL)
		return;
	free(a->band_lng);
	free(a->band_edges);
	free(a->band_start);
	free(a->polys);
	free(a->rings);
	free(a->pts);
	free(a);
}

int
geo_area_parse(const char *json, size_t len, struct geo_area **out,
    char *err, size_t errsize)
{
	struct parse_ctx c = { .err = err, .errsize = err ? errsize : 0 };
	json_error_t jerr;
	json_t *root = NULL;
	int rc;

	if (len > GEO_INPUT_MAX)
		return fail(&c, 0, "input too large (limit %d bytes)",
		    GEO_INPUT_MAX);
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		switch (json_error_code(&jerr)) {
		case json_error_out_of_memory:
			return SIGIL_ENOMEM;
		case json_error_duplicate_key:
			return fail(&c, 0, "duplicate key at line %d, "
			    "column %d", jerr.line, jerr.column);
		case json_error_stack_overflow:
			return fail(&c, 0, "JSON nested too deeply");
		default:
			return fail(&c, 0, "invalid JSON at line %d, "
			    "column %d", jerr.line, jerr.column);
		}
	}
	if ((c.a = calloc(1, sizeof(*c.a))) == NULL) {
		rc = SIGIL_ENOMEM;
		goto cleanup;
	}
	if ((rc = parse_root(&c, root)) != 0)
		goto cleanup;
	if (c.a->npolys == 0) {
		rc = fail(&c, 0, "no polygons");
		goto cleanup;
	}
	bounds_compute(c.a);
	if ((rc = index_build(c.a)) != 0)
		goto cleanup;
	*out = c.a;
	c.a = NULL;
cleanup:
	geo_area_free(c.a);
	json_decref(root);
	return rc;
}

static int
valid_point(double lat, double lng)
{
	return isfinite(lat) && isfinite(lng) && lat >= -90 && lat <= 90 &&
	    lng >= -180 && lng <= 180;
}

static int
in_box(const struct geo_poly *p, double lat, double lng)
{
	return lat >= p->min_lat && lat <= p->max_lat &&
	    lng >= p->min_lng && lng <= p->max_lng;
}

int
geo_area_contains(const struct geo_area *a, double lat, double lng)
{
	const struct geo_poly *p;
	size_t b, i, end, k = 0;
	int odd = 0;

	if (a == NULL || !valid_point(lat, lng) || lat < a->min_lat ||
	    lat > a->max_lat || lng < a->min_lng || lng > a->max_lng)
		return 0;
	b = band_of(a, lat);
	end = a->band_start[b + 1];
	p = &a->polys[0];
	for (i = a->band_start[b]; i < end; i++) {
		uint32_t e = a->band_edges[i];
		const struct geo_pt *s = &a->pts[e], *t = &a->pts[e + 1];

		if (e >= p->pt_end) {
			/* Edges come in polygon order: finish this one. */
			if (odd)
				return 1;
			while (e >= p->pt_end)
				p = &a->polys[++k];
			odd = 0;
		}
		if (!in_box(p, lat, lng))
			continue;
		if ((s->lat > lat) != (t->lat > lat) &&
		    lng < s->lng + (lat - s->lat) * (t->lng - s->lng) /
		    (t->lat - s->lat))
			odd ^= 1;
	}
	return odd;
}

static double
haversine_km(double lat1, double lng1, double lat2, double lng2)
{
	const double rad = M_PI / 180.0;
	double dlat = (lat2 - lat1) * rad, dlng = (lng2 - lng1) * rad;
	double h = sin(dlat / 2) * sin(dlat / 2) + cos(lat1 * rad) *
	    cos(lat2 * rad) * sin(dlng / 2) * sin(dlng / 2);

	return 2 * GEO_EARTH_RADIUS_KM * asin(sqrt(h < 1 ? h : 1));
}

/* The nearest point to the scan so far, in projected units (see below). */
struct nearest {
	double	lat, lng;	/* the scan */
	double	kx;		/* km per degree of longitude / of latitude */
	double	d2;		/* squared projected distance of the best */
	double	best_lat, best_lng;
};

static void
nearest_edge(struct nearest *q, const struct geo_pt *s,
    const struct geo_pt *t)
{
	double sx = (s->lng - q->lng) * q->kx, sy = s->lat - q->lat;
	double dx = (t->lng - s->lng) * q->kx, dy = t->lat - s->lat;
	double along = -(sx * dx + sy * dy), len2 = dx * dx + dy * dy;
	double u = along <= 0 ? 0 : along >= len2 ? 1 : along / len2;
	double x = sx + u * dx, y = sy + u * dy;

	if (x * x + y * y < q->d2) {
		q->d2 = x * x + y * y;
		q->best_lng = s->lng + u * (t->lng - s->lng);
		q->best_lat = s->lat + u * (t->lat - s->lat);
	}
}

/*
 * How far below (or above) band b lies from the scan's latitude: no edge
 * of the band is nearer than this. The slack absorbs rounding in
 * band_of(); the outermost bands also hold everything beyond them.
 */
static double
band_gap(const struct geo_area *a, size_t b, double lat)
{
	double lo = a->band_lat0 + (double)b * a->band_height;
	double hi = lo + a->band_height, slack = a->band_height * 1e-6;

	if (b == 0)
		lo = -INFINITY;
	if (b + 1 == a->nbands)
		hi = INFINITY;
	return lat < lo ? lo - lat - slack : lat > hi ? lat - hi - slack : 0;
}

double
geo_area_distance_km(const struct geo_area *a, double lat, double lng)
{
	struct nearest q;
	size_t down, up;

	if (a == NULL || !valid_point(lat, lng))
		return -1;
	if (geo_area_contains(a, lat, lng))
		return 0;
	/*
	 * x is longitude scaled by cos(lat) at the scan, y is latitude, both
	 * in degrees; the floor keeps the scale usable at the poles, where
	 * every longitude is as near as any other.
	 */
	q.lat = lat;
	q.lng = lng;
	q.kx = fmax(cos(lat * M_PI / 180.0), 1e-6);
	q.d2 = INFINITY;
	q.best_lat = lat;
	q.best_lng = lng;
	/*
	 * Bands outward from the scan's own, nearest first: a projected
	 * distance is at least its latitude part, so once both directions
	 * are farther than the best edge so far, nothing left can win.
	 */
	down = band_of(a, lat) + 1;
	up = down - 1;
	for (;;) {
		double gd = down > 0 ? band_gap(a, down - 1, lat) : INFINITY;
		double gu = up < a->nbands ? band_gap(a, up, lat) : INFINITY;
		double gx, gy;
		size_t b;

		if (gd > 0 && gd * gd >= q.d2 && gu > 0 && gu * gu >= q.d2)
			break;
		if (gd <= gu) {
			b = --down;
			gy = fmax(gd, 0);
		} else {
			b = up++;
			gy = fmax(gu, 0);
		}
		/* The band's longitude span bounds x the same way. */
		gx = lng < a->band_lng[2 * b] ? a->band_lng[2 * b] - lng :
		    lng > a->band_lng[2 * b + 1] ?
		    lng - a->band_lng[2 * b + 1] : 0;
		gx *= q.kx;
		if (gx * gx + gy * gy >= q.d2)
			continue;
		for (size_t i = a->band_start[b]; i < a->band_start[b + 1];
		    i++) {
			uint32_t e = a->band_edges[i];

			nearest_edge(&q, &a->pts[e], &a->pts[e + 1]);
		}
	}
	return haversine_km(lat, lng, q.best_lat, q.best_lng);
}

size_t
geo_area_vertices(const struct geo_area *a)
{
	return a ? a->npts : 0;
}

size_t
geo_area_polygons(const struct geo_area *a)
{
	return a ? a->npolys : 0;
}
