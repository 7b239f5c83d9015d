/*
 * geoip.c - a client address to a place (country, province, city)
 * through libmaxminddb, over a .mmdb file the operator provides.
 *
 * The database is opened once, memory-mapped, and only read: libmaxminddb
 * lookups on one MMDB_s are safe from any number of threads. A lookup is
 * a walk of the database's search tree (about 0.2 microseconds) and then
 * the decoding of the record it ends on, which costs ten times more (a
 * dozen map searches for the names: about 2 microseconds). Records are
 * shared by every network of a place, so each thread keeps its last
 * answers (512 places, direct-mapped, made at the thread's first lookup
 * and freed when it ends) keyed by the record's offset in the data
 * section: on the scan path, where most scans come from the few places
 * where most people are, a lookup is mostly the tree walk alone.
 *
 * What is read, by the GeoIP2/GeoLite2 City layout that DB-IP's files
 * also follow: country.iso_code and names, subdivisions[0] (the first
 * level: a province) iso_code and names, city.names, location.latitude,
 * longitude and accuracy_radius. A database of the Country kind gives
 * countries alone. Names are taken in zh-CN and en; anything that is not
 * well-formed UTF-8 or holds a control character is dropped, a name too
 * long is cut at a character. The provinces of China get fixed names
 * (the table below), found by code or, when a database gives none, by
 * name, so the map and the tables read alike whichever database the
 * operator chose.
 *
 * Ground layer: libc and libmaxminddb only; never the store, never logs
 * (a lookup's address is personal data and is not written anywhere).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <maxminddb.h>

#include "sigil/geoip.h"
#include "sigil/util.h"

#define CACHE_SLOTS	512	/* per thread, direct-mapped by offset */

struct geoip {
	MMDB_s	db;
	uint64_t serial;	/* tells this database's cache lines apart */
	char	type[64];	/* database_type, [A-Za-z0-9._-] only (logged) */
};

struct cache_slot {
	uint64_t		serial;	/* 0: empty */
	uint32_t		offset;
	int			found;
	struct geoip_place	place;
};

static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

static void
cache_key_make(void)
{
	if (pthread_key_create(&cache_key, free) != 0)
		cache_key = (pthread_key_t)-1;
}

/* This thread's cache (made at its first lookup, freed when it ends),
 * or NULL when there is no memory for one: then nothing is cached. */
static struct cache_slot *
thread_cache(void)
{
	struct cache_slot *c;

	pthread_once(&cache_once, cache_key_make);
	if (cache_key == (pthread_key_t)-1)
		return NULL;
	if ((c = pthread_getspecific(cache_key)) != NULL)
		return c;
	if ((c = calloc(CACHE_SLOTS, sizeof *c)) != NULL &&
	    pthread_setspecific(cache_key, c) != 0) {
		free(c);
		c = NULL;
	}
	return c;
}

/* ISO 3166-2:CN, letter codes (2017) and the older numeric ones. */
static const struct geoip_province cn_provinces[] = {
	{ "BJ", "11", "北京市", "Beijing" },
	{ "TJ", "12", "天津市", "Tianjin" },
	{ "HE", "13", "河北省", "Hebei" },
	{ "SX", "14", "山西省", "Shanxi" },
	{ "NM", "15", "内蒙古自治区", "Inner Mongolia" },
	{ "LN", "21", "辽宁省", "Liaoning" },
	{ "JL", "22", "吉林省", "Jilin" },
	{ "HL", "23", "黑龙江省", "Heilongjiang" },
	{ "SH", "31", "上海市", "Shanghai" },
	{ "JS", "32", "江苏省", "Jiangsu" },
	{ "ZJ", "33", "浙江省", "Zhejiang" },
	{ "AH", "34", "安徽省", "Anhui" },
	{ "FJ", "35", "福建省", "Fujian" },
	{ "JX", "36", "江西省", "Jiangxi" },
	{ "SD", "37", "山东省", "Shandong" },
	{ "HA", "41", "河南省", "Henan" },
	{ "HB", "42", "湖北省", "Hubei" },
	{ "HN", "43", "湖南省", "Hunan" },
	{ "GD", "44", "广东省", "Guangdong" },
	{ "GX", "45", "广西壮族自治区", "Guangxi" },
	{ "HI", "46", "海南省", "Hainan" },
	{ "CQ", "50", "重庆市", "Chongqing" },
	{ "SC", "51", "四川省", "Sichuan" },
	{ "GZ", "52", "贵州省", "Guizhou" },
	{ "YN", "53", "云南省", "Yunnan" },
	{ "XZ", "54", "西藏自治区", "Xizang (Tibet)" },
	{ "SN", "61", "陕西省", "Shaanxi" },
	{ "GS", "62", "甘肃省", "Gansu" },
	{ "QH", "63", "青海省", "Qinghai" },
	{ "NX", "64", "宁夏回族自治区", "Ningxia" },
	{ "XJ", "65", "新疆维吾尔自治区", "Xinjiang" },
	{ "TW", "71", "台湾省", "Taiwan" },
	{ "HK", "91", "香港特别行政区", "Hong Kong" },
	{ "MO", "92", "澳门特别行政区", "Macao" },
};

const struct geoip_province *
geoip_cn_province(const char *code)
{
	if (code == NULL || code[0] == '\0')
		return NULL;
	for (size_t i = 0; i < sizeof cn_provinces / sizeof *cn_provinces; i++)
		if (strcasecmp(code, cn_provinces[i].code) == 0 ||
		    strcmp(code, cn_provinces[i].num) == 0)
			return &cn_provinces[i];
	return NULL;
}

static void
set_name(char *dst, size_t size, const char *s)
{
	size_t n = strlen(s);

	if (n >= size)
		n = size - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

/* a starts with the word b (then its end, a space, '(' or ','). */
static int
starts_word(const char *a, const char *b)
{
	size_t n = strlen(b);

	return n > 0 && strncasecmp(a, b, n) == 0 &&
	    (a[n] == '\0' || a[n] == ' ' || a[n] == '(' || a[n] == ',');
}

/*
 * A Chinese province a database names without a code (DB-IP's files
 * give names only): by its English name ("Guangdong", "Guangdong Sheng",
 * "Inner Mongolia Autonomous Region", "Tibet", "Macau") or its zh-CN one
 * ("广东", "广东省").
 */
static const struct geoip_province *
cn_province_named(const char *en, const char *zh)
{
	static const struct { const char *alias, *code; } aliases[] = {
		{ "Tibet", "XZ" }, { "Xizang", "XZ" }, { "Macau", "MO" },
		{ "Nei Mongol", "NM" }, { "Inner Mongolia", "NM" },
	};
	const size_t n = sizeof cn_provinces / sizeof *cn_provinces;

	for (size_t i = 0; i < sizeof aliases / sizeof *aliases; i++)
		if (starts_word(en, aliases[i].alias))
			return geoip_cn_province(aliases[i].code);
	for (size_t i = 0; i < n; i++)
		if (starts_word(en, cn_provinces[i].en))
			return &cn_provinces[i];
	/* Two characters at least: "广" alone names nothing. */
	if (strlen(zh) >= 6)
		for (size_t i = 0; i < n; i++)
			if (strncmp(cn_provinces[i].zh, zh, strlen(zh)) == 0)
				return &cn_provinces[i];
	return NULL;
}

void
geoip_place_names(struct geoip_place *p)
{
	const struct geoip_province *pv = NULL;

	if (strcmp(p->country, "CN") == 0) {
		pv = geoip_cn_province(p->province_code);
		if (pv == NULL && p->province_code[0] == '\0')
			pv = cn_province_named(p->province_en, p->province_zh);
	}
	else if (p->province_code[0] == '\0' && (strcmp(p->country, "HK") == 0
	    || strcmp(p->country, "MO") == 0 || strcmp(p->country, "TW") == 0))
		/* The China map draws these as provinces: give the
		 * place the province the map can shade. */
		pv = geoip_cn_province(p->country);
	if (pv != NULL) {
		if (strcmp(p->country, "CN") == 0)
			set_name(p->province_code, sizeof p->province_code,
			    pv->code);
		set_name(p->province_zh, sizeof p->province_zh, pv->zh);
		set_name(p->province_en, sizeof p->province_en, pv->en);
	}
	if (p->country[0] != '\0' && p->country_en[0] == '\0')
		set_name(p->country_en, sizeof p->country_en, p->country);
	if (p->country_zh[0] == '\0')
		set_name(p->country_zh, sizeof p->country_zh, p->country_en);
	if (p->province_en[0] == '\0')
		set_name(p->province_en, sizeof p->province_en,
		    p->province_zh[0] != '\0' ? p->province_zh :
		    p->province_code);
	if (p->province_zh[0] == '\0')
		set_name(p->province_zh, sizeof p->province_zh, p->province_en);
	if (p->city_en[0] == '\0')
		set_name(p->city_en, sizeof p->city_en, p->city_zh);
	if (p->city_zh[0] == '\0')
		set_name(p->city_zh, sizeof p->city_zh, p->city_en);
}

/* Copies a database string: well-formed, no control character, cut at a
 * character boundary. An unusable string leaves dst empty. */
static void
copy_text(char *dst, size_t size, const MMDB_entry_data_s *d)
{
	size_t n;

	dst[0] = '\0';
	if (!d->has_data || d->type != MMDB_DATA_TYPE_UTF8_STRING)
		return;
	n = d->data_size;
	if (!sigil_utf8_valid(d->utf8_string, n))
		return;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)d->utf8_string[i] < 0x20 ||
		    d->utf8_string[i] == 0x7f)
			return;
	if (n >= size) {
		n = size - 1;
		while (n > 0 && ((unsigned char)d->utf8_string[n] & 0xc0) ==
		    0x80)
			n--;
	}
	memcpy(dst, d->utf8_string, n);
	dst[n] = '\0';
}

static void
get_text(MMDB_entry_s *e, char *dst, size_t size, const char *const *path)
{
	MMDB_entry_data_s d;

	if (MMDB_aget_value(e, &d, path) != MMDB_SUCCESS)
		d.has_data = false;
	copy_text(dst, size, &d);
}

static double
get_double(MMDB_entry_s *e, const char *const *path, int *ok)
{
	MMDB_entry_data_s d;

	if (MMDB_aget_value(e, &d, path) != MMDB_SUCCESS || !d.has_data) {
		*ok = 0;
		return 0;
	}
	if (d.type == MMDB_DATA_TYPE_DOUBLE)
		return d.double_value;
	if (d.type == MMDB_DATA_TYPE_FLOAT)
		return d.float_value;
	*ok = 0;
	return 0;
}

static int
decode(MMDB_entry_s *e, struct geoip_place *p)
{
	static const char *const cc[] = { "country", "iso_code", NULL };
	static const char *const cen[] = { "country", "names", "en", NULL };
	static const char *const czh[] = { "country", "names", "zh-CN", NULL };
	static const char *const sc[] = { "subdivisions", "0", "iso_code",
	    NULL };
	static const char *const sen[] = { "subdivisions", "0", "names", "en",
	    NULL };
	static const char *const szh[] = { "subdivisions", "0", "names",
	    "zh-CN", NULL };
	static const char *const ten[] = { "city", "names", "en", NULL };
	static const char *const tzh[] = { "city", "names", "zh-CN", NULL };
	static const char *const lat[] = { "location", "latitude", NULL };
	static const char *const lng[] = { "location", "longitude", NULL };
	static const char *const rad[] = { "location", "accuracy_radius",
	    NULL };
	MMDB_entry_data_s d;
	int ok = 1;
	double la, lo;

	memset(p, 0, sizeof *p);
	get_text(e, p->country, sizeof p->country, cc);
	if (strlen(p->country) != 2 || p->country[0] < 'A' ||
	    p->country[0] > 'Z' || p->country[1] < 'A' || p->country[1] > 'Z') {
		memset(p, 0, sizeof *p);
		return 0;
	}
	get_text(e, p->country_en, sizeof p->country_en, cen);
	get_text(e, p->country_zh, sizeof p->country_zh, czh);
	/* ISO 3166-2's part after the country: 1 to 3 letters or digits. */
	if (MMDB_aget_value(e, &d, sc) == MMDB_SUCCESS && d.has_data &&
	    d.data_size <= 3)
		copy_text(p->province_code, sizeof p->province_code, &d);
	for (char *s = p->province_code; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		    (*s >= '0' && *s <= '9'))) {
			p->province_code[0] = '\0';
			break;
		}
	get_text(e, p->province_en, sizeof p->province_en, sen);
	get_text(e, p->province_zh, sizeof p->province_zh, szh);
	get_text(e, p->city_en, sizeof p->city_en, ten);
	get_text(e, p->city_zh, sizeof p->city_zh, tzh);
	la = get_double(e, lat, &ok);
	lo = get_double(e, lng, &ok);
	if (ok && la >= -90 && la <= 90 && lo >= -180 && lo <= 180) {
		p->lat = (float)la;
		p->lng = (float)lo;
	}
	if (MMDB_aget_value(e, &d, rad) == MMDB_SUCCESS && d.has_data &&
	    d.type == MMDB_DATA_TYPE_UINT16)
		p->radius_km = d.uint16;
	geoip_place_names(p);
	return 1;
}

int
geoip_open(const char *path, struct geoip **out, char *err, size_t errsize)
{
	static uint64_t serials;
	struct geoip *g;
	int rc;

	if ((g = calloc(1, sizeof *g)) == NULL)
		return SIGIL_ENOMEM;
	rc = MMDB_open(path, MMDB_MODE_MMAP, &g->db);
	if (rc != MMDB_SUCCESS) {
		int e = errno;

		if (errsize > 0)
			snprintf(err, errsize, "%s", MMDB_strerror(rc));
		free(g);
		if (rc == MMDB_FILE_OPEN_ERROR && e == ENOENT)
			return SIGIL_ENOTFOUND;
		return rc == MMDB_OUT_OF_MEMORY_ERROR ? SIGIL_ENOMEM :
		    SIGIL_EINVAL;
	}
	g->serial = __atomic_add_fetch(&serials, 1, __ATOMIC_RELAXED);
	if (g->db.metadata.database_type != NULL) {
		size_t n = 0;

		for (const char *c = g->db.metadata.database_type;
		    *c != '\0' && n + 1 < sizeof g->type; c++)
			g->type[n++] = (*c >= 'A' && *c <= 'Z') ||
			    (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
			    *c == '.' || *c == '-' ? *c : '_';
		g->type[n] = '\0';
	}
	*out = g;
	return 0;
}

void
geoip_close(struct geoip *g)
{
	if (g == NULL)
		return;
	MMDB_close(&g->db);
	free(g);
}

int
geoip_lookup(struct geoip *g, const uint8_t ip[16], struct geoip_place *out)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };
	struct sockaddr_storage ss;
	MMDB_lookup_result_s res;
	struct cache_slot *cache, *slot;
	int mmdb_err;

	memset(out, 0, sizeof *out);
	memset(&ss, 0, sizeof ss);
	if (memcmp(ip, mapped, 12) == 0) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, ip + 12, 4);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, ip, 16);
	}
	res = MMDB_lookup_sockaddr(&g->db, (struct sockaddr *)&ss, &mmdb_err);
	if (mmdb_err != MMDB_SUCCESS || !res.found_entry)
		return 0;
	if ((cache = thread_cache()) == NULL)
		return decode(&res.entry, out);
	slot = &cache[(res.entry.offset ^ res.entry.offset >> 8) %
	    CACHE_SLOTS];
	if (slot->serial != g->serial || slot->offset != res.entry.offset) {
		slot->found = decode(&res.entry, &slot->place);
		slot->serial = g->serial;
		slot->offset = res.entry.offset;
	}
	if (slot->found)
		*out = slot->place;
	return slot->found;
}

const char *
geoip_type(const struct geoip *g)
{
	return g->type;
}

uint64_t
geoip_built(const struct geoip *g)
{
	return g->db.metadata.build_epoch;
}
