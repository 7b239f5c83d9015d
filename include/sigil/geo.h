/*
 * geo.h - sales territories for diversion checks (防窜货): a GeoJSON
 * Polygon or MultiPolygon (RFC 7946), the point-in-territory test and the
 * distance from a scan to its territory.
 *
 * A territory is parsed and validated once (geo_area_parse) into an
 * immutable struct geo_area; contains and distance are pure reads and may
 * run concurrently on one area from many threads.
 *
 * Geometry model, as RFC 7946 §3.1.1 prescribes: an edge between two
 * positions is a straight line in (longitude, latitude). Nothing wraps at
 * the antimeridian: a territory that crosses it must be split into two
 * polygons (a MultiPolygon, as RFC 7946 §3.1.9 asks of producers); a ring
 * from 179 to -179 is read literally as spanning the long way round.
 */
#ifndef SIGIL_GEO_H
#define SIGIL_GEO_H

#include <stddef.h>

#define GEO_INPUT_MAX		(1024 * 1024)	/* bytes of GeoJSON text */
#define GEO_VERTICES_MAX	100000	/* positions, all rings together */
#define GEO_RINGS_MAX		10000	/* rings, all polygons together */
#define GEO_ERR_LEN		128	/* a buffer this size never truncates */
#define GEO_EARTH_RADIUS_KM	6371.0088	/* mean radius, as scan.c */

struct geo_area;

/*
 * Parses len bytes of GeoJSON (no NUL needed) into *out. Accepted: an
 * object whose "type" is "Polygon" or "MultiPolygon", a "Feature" whose
 * "geometry" is one of those, or a "FeatureCollection" of such features,
 * which means the union of their polygons. Other members ("properties",
 * "bbox", "id", foreign members) are ignored; duplicate keys are refused.
 *
 * Strict checks: input at most GEO_INPUT_MAX bytes; at least one polygon;
 * every polygon has an exterior ring and any number of holes; a ring is an
 * array of at least 4 positions whose first and last are equal; a
 * position is 2 or 3 finite numbers (altitude ignored) with longitude in
 * [-180, 180] and latitude in [-90, 90]; no ring has zero area (all
 * points on one line); at most GEO_VERTICES_MAX positions and
 * GEO_RINGS_MAX rings in all. Either winding order is accepted (RFC 7946
 * §3.1.6 says parsers should not reject the other one).
 * Not checked: self-intersecting rings, holes outside their exterior ring,
 * overlapping polygons. They are still given a meaning: a polygon
 * contains a point when a ray from it crosses the polygon's rings (holes
 * included) an odd number of times; an area contains it when any of its
 * polygons does.
 *
 * On failure returns SIGIL_EINVAL (any invalid input, limits included) or
 * SIGIL_ENOMEM, leaves *out alone and, when errsize > 0, writes a one-line
 * message into err meant for the API client, e.g. "polygon 2, ring 1: a
 * ring needs at least 4 positions". Indices in messages are 1-based
 * (ring 1 is the exterior ring; "feature N" is prefixed inside a
 * FeatureCollection). Messages quote no input bytes, only numbers and
 * indices, so they are safe to echo and to log. On success err is left
 * alone and the caller owns *out (geo_area_free).
 */
int geo_area_parse(const char *json, size_t len, struct geo_area **out,
    char *err, size_t errsize);

/* Frees a; NULL is a no-op. */
void geo_area_free(struct geo_area *a);

/*
 * 1 when (lat, lng) in degrees lies inside the area, 0 outside, in a
 * hole, or when lat/lng are not finite or out of range. A point exactly
 * on an edge may fall either way; its distance is 0 (to rounding) then.
 * Cost: a latitude-band index built at parse time keeps this to the edges
 * in the point's band, about 2 microseconds for 100,000 vertices.
 */
int geo_area_contains(const struct geo_area *a, double lat, double lng);

/*
 * The distance in km from (lat, lng) to the area: 0 when inside, else the
 * great-circle distance to the nearest point of any ring (a point in a
 * hole measures to the hole's edge). -1 when lat/lng are not finite or out
 * of range.
 *
 * Accuracy: the nearest point is chosen in an equirectangular projection
 * centred on (lat, lng), then the haversine distance to that point is
 * returned, so the figure is always the true distance to a real point of
 * the boundary, never an underestimate. The projection can only prefer a
 * slightly farther point when the territory is far away and spans many
 * degrees; the tests hold it within 0.1% of a brute-force search at
 * 1,000 km and within 1% at 3,000 km and across hemispheres.
 * Cost: edges are read band by band outwards from the scan's latitude
 * and bands that cannot hold a nearer point are skipped: about 10
 * microseconds for 100,000 vertices.
 */
double geo_area_distance_km(const struct geo_area *a, double lat,
    double lng);

/* Positions stored (closing positions included) and polygons. */
size_t geo_area_vertices(const struct geo_area *a);
size_t geo_area_polygons(const struct geo_area *a);

#endif
