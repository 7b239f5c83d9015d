/*
 * geoip.h - the place of a client address: country, province and city,
 * read from a MaxMind-format database (.mmdb: GeoLite2-City, DB-IP Lite
 * City, or any database with the same record layout) that the operator
 * gives sigild with --geoip FILE. Without one the feature is off.
 *
 * A place from an address is a guess (a mobile carrier's gateway can be
 * provinces away from the phone): callers mark it low-confidence and
 * never use it alone as a clone or diversion signal.
 *
 * Also the name mapping: the provinces of China (ISO 3166-2:CN, both the
 * letter codes of 2017 and the older numeric ones) have fixed zh-CN and
 * English names here, so that a province reads the same whichever
 * database named it; elsewhere the database's names are used, English
 * when it has no zh-CN name.
 */
#ifndef SIGIL_GEOIP_H
#define SIGIL_GEOIP_H

#include <stddef.h>
#include <stdint.h>

#define GEOIP_NAME_MAX	63	/* bytes of a name, UTF-8, cut at a character */
#define GEOIP_CODE_MAX	7	/* bytes of a subdivision code ("GD", "44") */

struct geoip;

/* One place. Empty strings where the database has nothing. */
struct geoip_place {
	char	country[3];		/* ISO 3166-1 alpha-2, upper case */
	char	province_code[GEOIP_CODE_MAX + 1];	/* ISO 3166-2 part, 1-3 */
	char	country_en[GEOIP_NAME_MAX + 1], country_zh[GEOIP_NAME_MAX + 1];
	char	province_en[GEOIP_NAME_MAX + 1];
	char	province_zh[GEOIP_NAME_MAX + 1];
	char	city_en[GEOIP_NAME_MAX + 1], city_zh[GEOIP_NAME_MAX + 1];
	float	lat, lng;		/* the database's point; 0, 0: none */
	uint16_t radius_km;		/* its accuracy radius; 0: unknown */
};

/*
 * Opens path (memory-mapped, read-only). 0 and *out, or SIGIL_ENOTFOUND
 * (no such file), SIGIL_EINVAL (not a MaxMind database, or one without
 * country records), SIGIL_ENOMEM; err (errsize bytes, may be 0) gets a
 * one-line reason that names no path.
 */
int geoip_open(const char *path, struct geoip **out, char *err,
    size_t errsize);
/* Closes g; NULL is a no-op. */
void geoip_close(struct geoip *g);

/*
 * The place of ip (16 bytes: IPv6, or IPv4 mapped ::ffff:a.b.c.d).
 * 1 and *out filled when the database knows a country for it; 0 (out
 * zeroed) when it does not, for private and loopback addresses, and on
 * any read error. Thread-safe: any number of threads may look up at
 * once. Recent answers are kept per thread, so a busy address costs a
 * tree walk and no record decoding.
 */
int geoip_lookup(struct geoip *g, const uint8_t ip[16],
    struct geoip_place *out);

/* The database's type ("GeoLite2-City"...; characters other than
 * letters, digits, '.' and '-' shown as '_') and build time (seconds). */
const char *geoip_type(const struct geoip *g);
uint64_t geoip_built(const struct geoip *g);

/*
 * The name mapping, applied by geoip_lookup and available to tests: for
 * a place in China (and Hong Kong, Macao, Taiwan, which the dashboard's
 * China map draws as provinces) with a known province code, sets the
 * fixed names; a place without zh-CN names gets the English ones.
 */
void geoip_place_names(struct geoip_place *p);

/*
 * The fixed names of a Chinese province by code (letters "GD" or the
 * numeric "44"), NULL when unknown. zh is the full name (广东省).
 */
struct geoip_province {
	const char	*code, *num, *zh, *en;
};
const struct geoip_province *geoip_cn_province(const char *code);

#endif
