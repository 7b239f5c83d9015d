/*
 * fuzz_geojson.c - libFuzzer target for distributor territories: the
 * GeoJSON a brand posts with a distributor goes through geo_area_parse()
 * (src/domain/geo.c), and every located scan of a shipped item then asks
 * geo_area_contains() and geo_area_distance_km() about it.
 *
 * Properties checked:
 * - a refusal comes with a one-line message of printable ASCII that fits
 *   GEO_ERR_LEN, and *out is left alone;
 * - an accepted area has between 4 and GEO_VERTICES_MAX positions and at
 *   least one polygon;
 * - for fixed points (in, near and far from typical seeds, the poles, the
 *   antimeridian, corners of the coordinate range) and for two points
 *   taken from the input's own bytes: contains is 0 or 1; a contained
 *   point is at distance 0; otherwise the distance is finite, not
 *   negative and no more than half the Earth's circumference; invalid
 *   points (NaN, out of range) give 0 and -1.
 *
 *	clang -fsanitize=fuzzer,address,undefined -Iinclude \
 *	    fuzz/fuzz_geojson.c src/domain/geo.c -ljansson -lm -o /tmp/fz &&
 *	    /tmp/fz -dict=fuzz/geojson.dict -max_total_time=30 \
 *	    fuzz/corpus/geojson
 * (or sh fuzz/run.sh 30 geojson, which links the whole library).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sigil/geo.h"
#include "sigil/util.h"

static const double points[][2] = {	/* lat, lng */
	{30.27, 120.15}, {39.90, 116.40}, {0, 0}, {0.5, 0.5}, {5, 5},
	{-33.87, 151.21}, {90, 0}, {-90, 180}, {0, 180}, {0, -180},
	{45, 179.999}, {-45, -179.999}, {89.9999, -0.0001}, {1e-300, -1e-300},
	{10, 10}, {-0.0, -0.0},
};

static void
check_point(const struct geo_area *a, double lat, double lng)
{
	int valid = isfinite(lat) && isfinite(lng) && fabs(lat) <= 90 &&
	    fabs(lng) <= 180;
	int in = geo_area_contains(a, lat, lng);
	double d = geo_area_distance_km(a, lat, lng);

	if (in != 0 && in != 1)
		abort();
	if (!valid) {
		if (in != 0 || d != -1)
			abort();
		return;
	}
	if (in && d != 0)
		abort();
	if (!isfinite(d) || d < 0 || d > M_PI * GEO_EARTH_RADIUS_KM + 1)
		abort();
}

static void
check_error(const char *err)
{
	size_t n = strnlen(err, GEO_ERR_LEN);

	if (n == 0 || n >= GEO_ERR_LEN)
		abort();
	for (size_t i = 0; i < n; i++)
		if (err[i] < 0x20 || err[i] > 0x7e)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct geo_area *a = NULL;
	char err[GEO_ERR_LEN];
	double tail[4];
	int rc;

	memset(err, 0, sizeof(err));
	rc = geo_area_parse((const char *)data, size, &a, err, sizeof(err));
	if (rc != 0) {
		if (a != NULL || (rc != SIGIL_EINVAL && rc != SIGIL_ENOMEM))
			abort();
		if (rc == SIGIL_EINVAL)
			check_error(err);
		return 0;
	}
	if (a == NULL || geo_area_vertices(a) < 4 ||
	    geo_area_vertices(a) > GEO_VERTICES_MAX ||
	    geo_area_polygons(a) < 1)
		abort();
	for (size_t i = 0; i < sizeof(points) / sizeof(points[0]); i++)
		check_point(a, points[i][0], points[i][1]);
	check_point(a, NAN, 0);
	check_point(a, 0, 180.5);
	if (size >= sizeof(tail)) {
		/* Arbitrary bit patterns, NaNs and out-of-range values too. */
		memcpy(tail, data + size - sizeof(tail), sizeof(tail));
		check_point(a, tail[0], tail[1]);
		/* The same squeezed into range, so the geometry is reached. */
		check_point(a, fmod(tail[2], 90), fmod(tail[3], 180));
	}
	geo_area_free(a);
	return 0;
}
