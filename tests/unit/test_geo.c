/*
 * test_geo.c - territories: containment and distance on a province-sized
 * outline against hand figures and a brute-force haversine, holes,
 * MultiPolygons and the Feature wrappers, every validation message, the
 * limits, and a 100,000-vertex territory checked against a naive even-odd
 * reference (and timed: the figures are printed).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "sigil/geo.h"
#include "sigil/util.h"

/* A rough outline of Zhejiang, (lng, lat), counter-clockwise. */
static const double zhejiang[][2] = {
	{118.0, 29.2}, {118.5, 28.3}, {119.6, 27.6}, {120.6, 27.0},
	{121.3, 27.9}, {121.9, 29.0}, {122.3, 29.9}, {121.9, 30.8},
	{121.0, 30.8}, {120.6, 31.2}, {119.6, 31.1}, {119.2, 30.3},
	{118.3, 30.0}, {118.0, 29.2},
};
#define ZJ_N	(sizeof(zhejiang) / sizeof(zhejiang[0]))

static char *
zhejiang_json(void)
{
	static char buf[2048];
	size_t n = 0;

	n += (size_t)snprintf(buf + n, sizeof(buf) - n,
	    "{\"type\":\"Polygon\",\"coordinates\":[[");
	for (size_t i = 0; i < ZJ_N; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s[%g,%g]",
		    i ? "," : "", zhejiang[i][0], zhejiang[i][1]);
	snprintf(buf + n, sizeof(buf) - n, "]]}");
	return buf;
}

static struct geo_area *
parse_ok(const char *json)
{
	struct geo_area *a = NULL;
	char err[GEO_ERR_LEN] = "";
	int rc = geo_area_parse(json, strlen(json), &a, err, sizeof(err));

	if (rc != 0)
		fail_msg("parse failed (%d): %s", rc, err);
	assert_non_null(a);
	return a;
}

static void
expect_error(const char *json, const char *want)
{
	struct geo_area *a = (struct geo_area *)(uintptr_t)0x1;
	char err[GEO_ERR_LEN];

	memset(err, 'x', sizeof(err));
	assert_int_equal(geo_area_parse(json, strlen(json), &a, err,
	    sizeof(err)), SIGIL_EINVAL);
	/* *out is left alone on failure. */
	assert_ptr_equal(a, (struct geo_area *)(uintptr_t)0x1);
	if (strcmp(err, want) != 0)
		fail_msg("input %.80s\n  got  \"%s\"\n  want \"%s\"", json,
		    err, want);
	assert_null(strchr(err, '\n'));
}

static double
haversine(double lat1, double lng1, double lat2, double lng2)
{
	const double rad = M_PI / 180;
	double a = pow(sin((lat2 - lat1) * rad / 2), 2) + cos(lat1 * rad) *
	    cos(lat2 * rad) * pow(sin((lng2 - lng1) * rad / 2), 2);

	return 2 * 6371.0088 * asin(sqrt(a));
}

/* The least haversine distance to 10,000 points along every edge. */
static double
brute_distance(const double (*ring)[2], size_t n, double lat, double lng)
{
	double best = INFINITY;

	for (size_t i = 0; i + 1 < n; i++)
		for (int k = 0; k <= 10000; k++) {
			double u = k / 10000.0;
			double x = ring[i][0] + u * (ring[i + 1][0] - ring[i][0]);
			double y = ring[i][1] + u * (ring[i + 1][1] - ring[i][1]);

			best = fmin(best, haversine(lat, lng, y, x));
		}
	return best;
}

static void
test_province(void **state)
{
	struct geo_area *a = parse_ok(zhejiang_json());
	double d, hand, brute;

	(void)state;
	assert_int_equal(geo_area_vertices(a), ZJ_N);
	assert_int_equal(geo_area_polygons(a), 1);
	assert_int_equal(geo_area_contains(a, 30.27, 120.15), 1); /* Hangzhou */
	assert_int_equal(geo_area_contains(a, 29.87, 121.55), 1); /* Ningbo */
	assert_int_equal(geo_area_contains(a, 28.00, 120.67), 1); /* Wenzhou */
	assert_int_equal(geo_area_contains(a, 39.90, 116.40), 0); /* Beijing */
	assert_int_equal(geo_area_contains(a, 31.23, 121.47), 0); /* Shanghai */
	assert_int_equal(geo_area_contains(a, 23.13, 113.26), 0); /* Canton */
	assert_true(geo_area_distance_km(a, 30.27, 120.15) == 0);

	/*
	 * Beijing by hand: the nearest vertex is (119.6 E, 31.1 N); 8.8
	 * degrees of latitude and 3.2 of longitude at a mean latitude of
	 * 35.5 (cos = 0.814, so 2.6 degrees): sqrt(8.8^2 + 2.6^2) = 9.18
	 * degrees of 111.2 km = 1021 km.
	 */
	hand = 1021;
	d = geo_area_distance_km(a, 39.90, 116.40);
	brute = brute_distance(zhejiang, ZJ_N, 39.90, 116.40);
	printf("geo: Beijing to Zhejiang %.1f km (hand %.0f, brute force "
	    "%.1f)\n", d, hand, brute);
	assert_true(fabs(d - hand) < 0.10 * hand);
	assert_true(d >= brute - 1e-6 && d < brute * 1.001);

	/* Shanghai sits just off the north-east edge. */
	d = geo_area_distance_km(a, 31.23, 121.47);
	brute = brute_distance(zhejiang, ZJ_N, 31.23, 121.47);
	assert_true(d > 0 && d < 60);
	assert_true(d >= brute - 1e-6 && d < brute * 1.001);

	/* Far away: Urumqi (about 3,000 km) and Sydney. */
	d = geo_area_distance_km(a, 43.83, 87.62);
	brute = brute_distance(zhejiang, ZJ_N, 43.83, 87.62);
	printf("geo: Urumqi %.1f km (brute force %.1f)\n", d, brute);
	assert_true(d >= brute - 1e-6 && d < brute * 1.01);
	d = geo_area_distance_km(a, -33.87, 151.21);
	brute = brute_distance(zhejiang, ZJ_N, -33.87, 151.21);
	assert_true(d >= brute - 1e-6 && d < brute * 1.01);

	/* Bad points. */
	assert_int_equal(geo_area_contains(a, NAN, 120), 0);
	assert_int_equal(geo_area_contains(a, 30.27, INFINITY), 0);
	assert_int_equal(geo_area_contains(a, 91, 120), 0);
	assert_true(geo_area_distance_km(a, NAN, 120) == -1);
	assert_true(geo_area_distance_km(a, 30, 181) == -1);
	/* Poles are points like any other. */
	d = geo_area_distance_km(a, 90, 0);
	assert_true(fabs(d - (90 - 31.2) * 111.195) < 1);
	geo_area_free(a);
	geo_area_free(NULL);
}

static void
test_winding_and_altitude(void **state)
{
	/* The same square clockwise, with altitudes, and integers. */
	struct geo_area *a = parse_ok("{\"type\":\"Polygon\",\"coordinates\":"
	    "[[[0,0,5],[0,1,5],[1,1],[1,0,7.5],[0,0,5]]]}");

	(void)state;
	assert_int_equal(geo_area_contains(a, 0.5, 0.5), 1);
	assert_int_equal(geo_area_contains(a, 1.5, 0.5), 0);
	assert_int_equal(geo_area_contains(a, -0.5, 0.5), 0);
	geo_area_free(a);
}

static void
test_hole(void **state)
{
	struct geo_area *a = parse_ok("{\"type\":\"Polygon\",\"coordinates\":["
	    "[[0,0],[10,0],[10,10],[0,10],[0,0]],"
	    "[[4,4],[4,6],[6,6],[6,4],[4,4]]]}");
	double d;

	(void)state;
	assert_int_equal(geo_area_contains(a, 2, 2), 1);
	assert_int_equal(geo_area_contains(a, 5, 5), 0);	/* in the hole */
	assert_int_equal(geo_area_contains(a, 5, 3.9), 1);
	assert_int_equal(geo_area_contains(a, 11, 5), 0);
	/* From the hole's centre to its nearest edge: one degree of
	 * longitude at 5 N (110.77 km) beats one of latitude (111.2). */
	d = geo_area_distance_km(a, 5, 5);
	assert_true(fabs(d - haversine(5, 5, 5, 4)) < 0.01);
	assert_true(geo_area_distance_km(a, 2, 2) == 0);
	assert_true(geo_area_distance_km(a, 0, 3) < 1e-9);	/* on an edge */
	assert_true(geo_area_distance_km(a, 6, 5) < 1e-9);
	d = geo_area_distance_km(a, 5, 12);
	assert_true(fabs(d - haversine(5, 12, 5, 10)) < 0.01);
	geo_area_free(a);
}

static void
test_multipolygon(void **state)
{
	/* Two squares far apart, and two that overlap: an overlap is inside
	 * (parity is per polygon, so they must not cancel). */
	struct geo_area *a = parse_ok("{\"type\":\"MultiPolygon\","
	    "\"coordinates\":["
	    "[[[0,0],[1,0],[1,1],[0,1],[0,0]]],"
	    "[[[10,10],[12,10],[12,12],[10,12],[10,10]],"
	    "[[10.5,10.5],[11.5,10.5],[11.5,11.5],[10.5,11.5],[10.5,10.5]]],"
	    "[[[0.5,0.5],[2,0.5],[2,2],[0.5,2],[0.5,0.5]]]]}");
	double d;

	(void)state;
	assert_int_equal(geo_area_polygons(a), 3);
	assert_int_equal(geo_area_vertices(a), 20);
	assert_int_equal(geo_area_contains(a, 0.25, 0.25), 1);
	assert_int_equal(geo_area_contains(a, 0.75, 0.75), 1); /* overlap */
	assert_int_equal(geo_area_contains(a, 1.5, 1.5), 1);
	assert_int_equal(geo_area_contains(a, 10.2, 10.2), 1);
	assert_int_equal(geo_area_contains(a, 11, 11), 0); /* hole */
	assert_int_equal(geo_area_contains(a, 5, 5), 0);
	d = geo_area_distance_km(a, 5, 5);
	assert_true(fabs(d - fmin(haversine(5, 5, 2, 2),
	    haversine(5, 5, 10, 10))) < 0.5);
	geo_area_free(a);
}

static void
test_wrappers(void **state)
{
	struct geo_area *a;

	(void)state;
	a = parse_ok("{\"type\":\"Feature\",\"id\":7,\"bbox\":[0,0,1,1],"
	    "\"properties\":{\"name\":\"east\",\"type\":\"x\"},"
	    "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":"
	    "[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}}");
	assert_int_equal(geo_area_contains(a, 0.5, 0.5), 1);
	geo_area_free(a);

	a = parse_ok("{\"type\":\"FeatureCollection\",\"features\":["
	    "{\"type\":\"Feature\",\"properties\":null,\"geometry\":"
	    "{\"type\":\"Polygon\",\"coordinates\":"
	    "[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}},"
	    "{\"type\":\"Feature\",\"properties\":{},\"geometry\":"
	    "{\"type\":\"MultiPolygon\",\"coordinates\":"
	    "[[[[5,5],[6,5],[6,6],[5,6],[5,5]]],"
	    "[[[-5,-5],[-4,-5],[-4,-4],[-5,-4],[-5,-5]]]]}}]}");
	assert_int_equal(geo_area_polygons(a), 3);
	assert_int_equal(geo_area_contains(a, 0.5, 0.5), 1);
	assert_int_equal(geo_area_contains(a, 5.5, 5.5), 1);
	assert_int_equal(geo_area_contains(a, -4.5, -4.5), 1);
	assert_int_equal(geo_area_contains(a, 3, 3), 0);
	geo_area_free(a);

	/* Not NUL-terminated: only len bytes are read. */
	{
		static const char text[] = "{\"type\":\"Polygon\",\"coordinates\":"
		    "[[[0,0],[1,0],[1,1],[0,0]]]}garbage";
		assert_int_equal(geo_area_parse(text, sizeof(text) - 1 - 7,
		    &a, NULL, 0), 0);
		geo_area_free(a);
		assert_int_equal(geo_area_parse(text, sizeof(text) - 1,
		    &a, NULL, 0), SIGIL_EINVAL);
	}
}

#define SQ "[[0,0],[1,0],[1,1],[0,1],[0,0]]"
#define POLY(rings) "{\"type\":\"Polygon\",\"coordinates\":[" rings "]}"

static void
test_errors(void **state)
{
	static const struct {
		const char *json, *msg;
	} cases[] = {
		{ "", "invalid JSON at line 1, column 0" },
		{ "{\"type\":\"Polygon\",", "invalid JSON at line 1, column 18" },
		{ "{\"type\":\"Polygon\",\"type\":\"Polygon\"}",
		  "duplicate key at line 1, column 24" },
		{ "[1,2]", "GeoJSON must be an object" },
		{ "{}", "\"type\" must be a string" },
		{ "{\"type\":7}", "\"type\" must be a string" },
		{ "{\"type\":\"Point\",\"coordinates\":[1,2]}",
		  "unsupported type (expected Polygon, MultiPolygon, Feature "
		  "or FeatureCollection)" },
		{ "{\"type\":\"polygon\",\"coordinates\":[]}",
		  "unsupported type (expected Polygon, MultiPolygon, Feature "
		  "or FeatureCollection)" },
		{ "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\","
		  "\"coordinates\":[1,2]}}",
		  "unsupported type (expected Polygon or MultiPolygon)" },
		{ "{\"type\":\"Feature\",\"geometry\":null}",
		  "a Feature's geometry must be a Polygon or MultiPolygon" },
		{ "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Feature\","
		  "\"geometry\":" POLY(SQ) "}}",
		  "unsupported type (expected Polygon or MultiPolygon)" },
		{ "{\"type\":\"FeatureCollection\"}",
		  "a FeatureCollection needs a \"features\" array" },
		{ "{\"type\":\"FeatureCollection\",\"features\":[]}",
		  "no polygons" },
		{ "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":"
		  "\"Feature\",\"geometry\":" POLY(SQ) "}," POLY(SQ) "]}",
		  "feature 2: not a Feature" },
		{ "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":"
		  "\"Feature\",\"geometry\":" POLY(SQ) "},{\"type\":"
		  "\"Feature\",\"geometry\":{\"type\":\"MultiPolygon\","
		  "\"coordinates\":[[" SQ "],[" SQ ",[[0,0],[1,1],[0,0]]]]}}]}",
		  "feature 2, polygon 2, ring 2: a ring needs at least 4 "
		  "positions" },
		{ "{\"type\":\"MultiPolygon\",\"coordinates\":[]}",
		  "no polygons" },
		{ "{\"type\":\"Polygon\"}", "coordinates must be an array" },
		{ "{\"type\":\"Polygon\",\"coordinates\":{}}",
		  "coordinates must be an array" },
		{ POLY(""), "polygon 1: a polygon needs at least one ring" },
		{ "{\"type\":\"MultiPolygon\",\"coordinates\":[[" SQ "],7]}",
		  "polygon 2: polygon coordinates must be an array of rings" },
		{ POLY(SQ ",7"),
		  "polygon 1, ring 2: a ring must be an array of positions" },
		{ POLY("[[0,0],[1,0],[0,0]]"),
		  "polygon 1, ring 1: a ring needs at least 4 positions" },
		{ POLY("[[0,0],[1,0],[1,1],[0,1]]"), "polygon 1, ring 1: ring "
		  "is not closed (first and last positions differ)" },
		{ POLY("[[0,0],[1,0],[2,0],[0,0]]"),
		  "polygon 1, ring 1: ring has zero area" },
		{ POLY("[[0,0],[1,1],[2,2],[3,3],[0,0]]"),
		  "polygon 1, ring 1: ring has zero area" },
		{ POLY("[[5,5],[5,5],[5,5],[5,5]]"),
		  "polygon 1, ring 1: ring has zero area" },
		{ POLY(SQ ",[[0,0],[1,0],[1,1],[0,1],[0,0.5]]"),
		  "polygon 1, ring 2: ring is not closed (first and last "
		  "positions differ)" },
		{ POLY("[[0,0],[1,0],[1],[0,1],[0,0]]"),
		  "polygon 1, ring 1, position 3: a position needs 2 or 3 "
		  "numbers" },
		{ POLY("[[0,0],[1,0],[1,1,1,1],[0,1],[0,0]]"),
		  "polygon 1, ring 1, position 3: a position needs 2 or 3 "
		  "numbers" },
		{ POLY("[[0,0],[1,0],7,[0,1],[0,0]]"),
		  "polygon 1, ring 1, position 3: a position needs 2 or 3 "
		  "numbers" },
		{ POLY("[[0,0],[1,\"0\"],[1,1],[0,1],[0,0]]"),
		  "polygon 1, ring 1, position 2: coordinates must be numbers" },
		{ POLY("[[0,0],[1,0,null],[1,1],[0,1],[0,0]]"),
		  "polygon 1, ring 1, position 2: coordinates must be numbers" },
		{ POLY("[[0,0],[180.5,0],[1,1],[0,1],[0,0]]"),
		  "polygon 1, ring 1, position 2: longitude must be in "
		  "[-180, 180]" },
		{ POLY("[[0,0],[1,0],[1,-90.01],[0,1],[0,0]]"),
		  "polygon 1, ring 1, position 3: latitude must be in "
		  "[-90, 90]" },
		{ POLY("[[0,0],[1,0],[1,1e400],[0,1],[0,0]]"),
		  "invalid JSON at line 1, column 54" },
		{ POLY("[[0,0],[1,0],[1,NaN],[0,1],[0,0]]"),
		  "invalid JSON at line 1, column 52" },
	};
	char err[GEO_ERR_LEN];
	struct geo_area *a = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_error(cases[i].json, cases[i].msg);

	/* Messages never quote the input. */
	expect_error("{\"type\":\"<script>alert(1)</script>\"}",
	    "unsupported type (expected Polygon, MultiPolygon, Feature or "
	    "FeatureCollection)");
	expect_error("{\"type\":\"Polygon\",\"coordinates\":[<script>]}",
	    "invalid JSON at line 1, column 34");

	/* Truncation, no buffer, and a NULL buffer. */
	assert_int_equal(geo_area_parse("[]", 2, &a, err, 8), SIGIL_EINVAL);
	assert_string_equal(err, "GeoJSON");
	assert_int_equal(geo_area_parse("[]", 2, &a, NULL, 100), SIGIL_EINVAL);
	assert_int_equal(geo_area_parse("[]", 2, &a, err, 0), SIGIL_EINVAL);
	assert_null(a);
}

/* A buffer of GeoJSON text built piecewise. */
struct text {
	char	*p;
	size_t	 n, cap;
};

static void
put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->cap - t->n < 64) {
		t->cap = t->cap ? t->cap * 2 : 4096;
		t->p = realloc(t->p, t->cap);
		assert_non_null(t->p);
	}
	va_start(ap, fmt);
	n = vsnprintf(t->p + t->n, t->cap - t->n, fmt, ap);
	va_end(ap);
	assert_true(n > 0 && (size_t)n < t->cap - t->n);
	t->n += (size_t)n;
}

static void
test_limits(void **state)
{
	struct text t = { 0 };
	struct geo_area *a = NULL;
	char err[GEO_ERR_LEN];
	char *big;

	(void)state;
	/* One byte over the input bound, whatever it holds. */
	big = malloc(GEO_INPUT_MAX + 1);
	assert_non_null(big);
	memset(big, ' ', GEO_INPUT_MAX + 1);
	assert_int_equal(geo_area_parse(big, GEO_INPUT_MAX + 1, &a, err,
	    sizeof(err)), SIGIL_EINVAL);
	assert_string_equal(err, "input too large (limit 1048576 bytes)");
	free(big);

	/* 100,001 positions in one ring. */
	put(&t, "{\"type\":\"Polygon\",\"coordinates\":[[[0,0]");
	for (int i = 0; i < GEO_VERTICES_MAX - 1; i++)
		put(&t, ",[%d,%d]", i % 3, i % 2);
	put(&t, ",[0,0]]]}");
	assert_true(t.n <= GEO_INPUT_MAX);
	assert_int_equal(geo_area_parse(t.p, t.n, &a, err, sizeof(err)),
	    SIGIL_EINVAL);
	assert_string_equal(err, "too many vertices (limit 100000)");

	/* The same limit reached over many rings. */
	t.n = 0;
	put(&t, "{\"type\":\"MultiPolygon\",\"coordinates\":[");
	for (int i = 0; i < 20001; i++)
		put(&t, "%s[[[0,0],[1,0],[1,1],[0,0]]]", i ? "," : "");
	put(&t, "]}");
	assert_int_equal(geo_area_parse(t.p, t.n, &a, err, sizeof(err)),
	    SIGIL_EINVAL);
	assert_string_equal(err, "too many rings (limit 10000)");
	t.n = 0;
	put(&t, "{\"type\":\"Polygon\",\"coordinates\":[");
	for (int i = 0; i < 10001; i++)
		put(&t, "%s[[0,0],[1,0],[1,1],[0,0]]", i ? "," : "");
	put(&t, "]}");
	assert_int_equal(geo_area_parse(t.p, t.n, &a, err, sizeof(err)),
	    SIGIL_EINVAL);
	assert_string_equal(err, "too many rings (limit 10000)");
	t.n = 0;
	put(&t, "{\"type\":\"MultiPolygon\",\"coordinates\":[");
	for (int i = 0; i < 4000; i++)
		put(&t, "%s[[[0,0],[1,0],[1,1],[0,0]],[[0,0],[1,0],[1,1],"
		    "[0,0],[0,0],[0,0],[0,0],[0,0],[0,0],[0,0],[0,0],[0,0],"
		    "[0,0],[0,0],[0,0],[0,0],[0,0],[0,0],[0,0],[0,0],[0,0],"
		    "[0,0],[0,0],[0,0],[0,0]]]", i ? "," : "");
	put(&t, "]}");
	assert_int_equal(geo_area_parse(t.p, t.n, &a, err, sizeof(err)),
	    SIGIL_EINVAL);
	assert_string_equal(err, "too many vertices (limit 100000)");

	/* Exactly 10,000 rings is fine: triangles on a grid. */
	t.n = 0;
	put(&t, "{\"type\":\"MultiPolygon\",\"coordinates\":[");
	for (int i = 0; i < 10000; i++) {
		double x = i % 100, y = (i / 100) * 0.9;

		put(&t, "%s[[[%g,%g],[%g,%g],[%g,%g],[%g,%g]]]", i ? "," : "",
		    x, y, x + 0.5, y, x + 0.5, y + 0.5, x, y);
	}
	put(&t, "]}");
	assert_int_equal(geo_area_parse(t.p, t.n, &a, err, sizeof(err)), 0);
	assert_int_equal(geo_area_polygons(a), 10000);
	assert_int_equal(geo_area_contains(a, 37.9, 17.4), 1);
	assert_int_equal(geo_area_contains(a, 38.2, 17.1), 0);
	assert_true(geo_area_distance_km(a, 38.2, 17.1) > 0);
	geo_area_free(a);

	/* Deep nesting is jansson's to refuse; it must not crash us. */
	t.n = 0;
	put(&t, "{\"type\":\"Polygon\",\"coordinates\":");
	for (int i = 0; i < 100000; i++)
		put(&t, "[");
	for (int i = 0; i < 100000; i++)
		put(&t, "]");
	put(&t, "}");
	assert_int_equal(geo_area_parse(t.p, t.n, &a, err, sizeof(err)),
	    SIGIL_EINVAL);
	assert_string_equal(err, "JSON nested too deeply");
	free(t.p);
}

/*
 * The big territory: a comb of 99 teeth one degree wide from 80 S to
 * 80 N on a base strip, every side traced at each whole degree and each
 * position repeated to reach exactly 100,000 (text under 1 MiB needs
 * short numbers, so it repeats points rather than adding decimals).
 */
#define COMB_TEETH	99

static size_t
comb_points(double (*pts)[2])
{
	size_t n = 0;

#define PT(x, y) do { if (pts) { pts[n][0] = (x); pts[n][1] = (y); } \
	n++; } while (0)
	PT(-99, -85);
	PT(98, -85);
	for (int k = COMB_TEETH - 1; k >= 0; k--) {
		int x0 = -99 + 2 * k;

		for (int y = -80; y <= 80; y++)
			PT(x0 + 1, y);
		for (int y = 80; y >= -80; y--)
			PT(x0, y);
	}
	PT(-99, -85);
#undef PT
	return n;
}

static int
naive_contains(const double (*p)[2], size_t n, double lat, double lng)
{
	int odd = 0;

	for (size_t i = 0; i + 1 < n; i++) {
		const double *s = p[i], *t = p[i + 1];

		if ((s[1] > lat) != (t[1] > lat) &&
		    lng < s[0] + (lat - s[1]) * (t[0] - s[0]) / (t[1] - s[1]))
			odd ^= 1;
	}
	return odd;
}

/* The nearest-point rule of geo.c over every edge, without the index. */
static double
naive_distance(const double (*p)[2], size_t n, double lat, double lng)
{
	double kx = fmax(cos(lat * M_PI / 180), 1e-6), best = INFINITY;
	double blat = lat, blng = lng;

	for (size_t i = 0; i + 1 < n; i++) {
		double sx = (p[i][0] - lng) * kx, sy = p[i][1] - lat;
		double dx = (p[i + 1][0] - p[i][0]) * kx;
		double dy = p[i + 1][1] - p[i][1];
		double len2 = dx * dx + dy * dy, u = 0;

		if (len2 > 0)
			u = fmin(fmax(-(sx * dx + sy * dy) / len2, 0), 1);
		if (pow(sx + u * dx, 2) + pow(sy + u * dy, 2) < best) {
			best = pow(sx + u * dx, 2) + pow(sy + u * dy, 2);
			blng = p[i][0] + u * (p[i + 1][0] - p[i][0]);
			blat = p[i][1] + u * (p[i + 1][1] - p[i][1]);
		}
	}
	return haversine(lat, lng, blat, blng);
}

static double
seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
test_big(void **state)
{
	size_t base = comb_points(NULL), n = GEO_VERTICES_MAX, done = 0;
	double (*pts)[2] = malloc(base * sizeof(*pts));
	double (*full)[2] = malloc(n * sizeof(*full));
	struct text t = { 0 };
	struct geo_area *a = NULL;
	char err[GEO_ERR_LEN] = "";
	double t0, t1, t2, t3, d;
	unsigned seed = 12345;
	int inside = 0;

	(void)state;
	assert_non_null(pts);
	assert_non_null(full);
	comb_points(pts);
	/* Spread n positions over the base ones: each at least once. */
	for (size_t i = 0; i < base; i++) {
		size_t reps = (i + 1) * n / base - i * n / base;

		for (size_t r = 0; r < reps; r++) {
			full[done][0] = pts[i][0];
			full[done][1] = pts[i][1];
			done++;
		}
	}
	assert_int_equal(done, n);
	put(&t, "{\"type\":\"Polygon\",\"coordinates\":[[");
	for (size_t i = 0; i < n; i++)
		put(&t, "%s[%g,%g]", i ? "," : "", full[i][0], full[i][1]);
	put(&t, "]]}");
	assert_true(t.n <= GEO_INPUT_MAX);

	t0 = seconds();
	assert_int_equal(geo_area_parse(t.p, t.n, &a, err, sizeof(err)), 0);
	t1 = seconds();
	assert_int_equal(geo_area_vertices(a), n);

	/* Teeth and gaps at the equator, the base strip, the edges. */
	for (int k = 0; k < COMB_TEETH; k++) {
		double x0 = -99 + 2 * k;

		assert_int_equal(geo_area_contains(a, 0, x0 + 0.5), 1);
		assert_int_equal(geo_area_contains(a, 79.9, x0 + 0.5), 1);
		if (k + 1 < COMB_TEETH) {
			assert_int_equal(geo_area_contains(a, 0, x0 + 1.5), 0);
			d = geo_area_distance_km(a, 0, x0 + 1.5);
			assert_true(fabs(d - haversine(0, x0 + 1.5, 0,
			    x0 + 1)) < 1e-6);
		}
	}
	assert_int_equal(geo_area_contains(a, -82, 0.5), 1);
	assert_int_equal(geo_area_contains(a, -86, 0.5), 0);
	assert_int_equal(geo_area_contains(a, 81, 0.5), 0);

	/* 100,000 random points against the naive even-odd test, timed. */
	{
		enum { N = 100000, CHECK = 2000 };
		static double lat[N], lng[N];

		for (int i = 0; i < N; i++) {
			lat[i] = (rand_r(&seed) / (double)RAND_MAX) * 180 - 90;
			lng[i] = (rand_r(&seed) / (double)RAND_MAX) * 220 - 110;
		}
		t2 = seconds();
		for (int i = 0; i < N; i++)
			inside += geo_area_contains(a, lat[i], lng[i]);
		t3 = seconds();
		for (int i = 0; i < CHECK; i++)
			assert_int_equal(geo_area_contains(a, lat[i], lng[i]),
			    naive_contains((const double (*)[2])full, n,
			    lat[i], lng[i]));
		printf("geo: 100,000-vertex territory (%zu bytes) parsed in "
		    "%.1f ms; %d point tests in %.1f ms (%.2f us each), "
		    "%d inside\n", t.n, (t1 - t0) * 1e3, N, (t3 - t2) * 1e3,
		    (t3 - t2) * 1e6 / N, inside);
		t2 = seconds();
		for (int i = 0; i < 1000; i++)
			d = geo_area_distance_km(a, lat[i], lng[i] * 1.5);
		t3 = seconds();
		for (int i = 0; i < 300; i++) {
			double want = geo_area_contains(a, lat[i], lng[i]) ?
			    0 : naive_distance((const double (*)[2])full, n,
			    lat[i], lng[i]);

			d = geo_area_distance_km(a, lat[i], lng[i]);
			if (fabs(d - want) > 1e-6 * (1 + want))
				fail_msg("distance at (%g, %g): %g, naive %g",
				    lat[i], lng[i], d, want);
		}
		printf("geo: distance over 100,000 vertices %.1f us each\n",
		    (t3 - t2) * 1e6 / 1000);
	}
	geo_area_free(a);
	free(t.p);
	free(full);
	free(pts);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_province),
		cmocka_unit_test(test_winding_and_altitude),
		cmocka_unit_test(test_hole),
		cmocka_unit_test(test_multipolygon),
		cmocka_unit_test(test_wrappers),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_big),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
