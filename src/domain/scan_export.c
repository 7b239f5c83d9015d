/*
 * scan_export.c - a scan as a line of an export (CSV or NDJSON), and the
 * zone arithmetic of an export's times and bounds: what `sigil export
 * scans` and GET /api/v1/exports/scans share, so the two formats cannot
 * drift apart.
 *
 * Owns the export's columns and their names. May call util, scan (the
 * verdict names) and jansson. Never does I/O.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "sigil/scan.h"
#include "sigil/scan_export.h"
#include "sigil/util.h"

#define MIN_US	(60LL * 1000000)

static const char *const cols_en = "scan_id,brand,serial,batch,time,"
    "verdict,bot,first_scan,device,ip,lat,lng,accuracy_m,diversion,"
    "country,province,city,province_zh,city_zh,region_source\n";
static const char *const cols_zh = "扫码编号,品牌,序列号,批次,"
    "时间,结果,机器访问,首次扫码,设备,IP地址,纬度,经度,"
    "定位精度(米),窜货,国家,省份,城市,省份(中文),城市(中文),"
    "地域来源\n";

size_t
scan_export_header(char *buf, size_t size, int zh)
{
	const char *h = zh ? cols_zh : cols_en;
	size_t n = strlen(h);

	if (n >= size)
		return 0;
	memcpy(buf, h, n + 1);
	return n;
}

/* A bounded appender: overflow is remembered, never written past. */
struct line {
	char	*p;
	size_t	n, size;
	int	over;
};

static void
put(struct line *l, const char *s, size_t n)
{
	if (l->over || l->n + n >= l->size) {
		l->over = 1;
		return;
	}
	memcpy(l->p + l->n, s, n);
	l->n += n;
	l->p[l->n] = '\0';
}

static void
puts_(struct line *l, const char *s)
{
	put(l, s, strlen(s));
}

/* Quoted when it holds a comma, quote or line break; a formula gets '. */
static void
csv_field(struct line *l, const char *s)
{
	int formula = s[0] != '\0' && strchr("=+-@\t\r", s[0]) != NULL;
	int quote = strpbrk(s, ",\"\r\n") != NULL;

	if (quote)
		put(l, "\"", 1);
	if (formula)
		put(l, "'", 1);
	for (; *s; s++) {
		if (quote && *s == '"')
			put(l, "\"", 1);
		put(l, s, 1);
	}
	if (quote)
		put(l, "\"", 1);
}

static void
ip_text(const uint8_t ip[16], char *buf, size_t size)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };

	if (!memcmp(ip, mapped, 12))
		inet_ntop(AF_INET, ip + 12, buf, (socklen_t)size);
	else
		inet_ntop(AF_INET6, ip, buf, (socklen_t)size);
}

/*
 * The region columns: country code, province and city in English and
 * in zh-CN, and where the region came from ("ip": the address, a
 * low-confidence guess); all empty without one.
 */
static void
region_csv(struct line *l, const struct store_region *reg)
{
	const struct geoip_place *p = reg ? &reg->place : NULL;
	int prov = reg && reg->province_id != reg->country_id;
	int city = reg && reg->level == 3;

	if (reg == NULL) {
		puts_(l, ",,,,,\n");
		return;
	}
	csv_field(l, p->country);
	put(l, ",", 1);
	csv_field(l, prov ? p->province_en : "");
	put(l, ",", 1);
	csv_field(l, city ? p->city_en : "");
	put(l, ",", 1);
	csv_field(l, prov ? p->province_zh : "");
	put(l, ",", 1);
	csv_field(l, city ? p->city_zh : "");
	puts_(l, ",ip\n");
}

static void
region_ndjson(json_t *j, const struct store_region *reg)
{
	const struct geoip_place *p;

	if (reg == NULL)
		return;
	p = &reg->place;
	json_object_set_new(j, "country", json_string(p->country));
	if (reg->province_id != reg->country_id) {
		json_object_set_new(j, "province", json_string(p->province_en));
		json_object_set_new(j, "province_zh",
		    json_string(p->province_zh));
	}
	if (reg->level == 3) {
		json_object_set_new(j, "city", json_string(p->city_en));
		json_object_set_new(j, "city_zh", json_string(p->city_zh));
	}
	json_object_set_new(j, "region_source", json_string("ip"));
}

size_t
scan_export_line(char *buf, size_t size, const struct scan_export_row *row,
    int csv)
{
	const struct scan_rec *r = row->r;
	struct line l = { buf, 0, size, 0 };
	char ip[INET6_ADDRSTRLEN], dev[17], num[96];
	uint8_t devb[8];
	int loc = (r->flags & SCAN_HAS_LOC) != 0;

	if (size == 0)
		return 0;
	buf[0] = '\0';
	ip_text(r->ip, ip, sizeof ip);
	sigil_be64_put(devb, r->device);
	sigil_hex_encode(devb, 8, dev);
	if (csv) {
		puts_(&l, row->scan_id);
		put(&l, ",", 1);
		csv_field(&l, row->brand);
		snprintf(num, sizeof num, ",%llu,%llu,",
		    (unsigned long long)r->serial,
		    (unsigned long long)r->batch_id);
		puts_(&l, num);
		puts_(&l, row->time);
		put(&l, ",", 1);
		puts_(&l, scan_verdict_name(r->verdict));
		puts_(&l, r->flags & SCAN_BOT ? ",true," : ",false,");
		puts_(&l, r->flags & SCAN_FIRST ? "true," : "false,");
		puts_(&l, dev);
		put(&l, ",", 1);
		puts_(&l, ip);
		put(&l, ",", 1);
		if (loc) {
			snprintf(num, sizeof num, "%.6f,%.6f,%u,",
			    (double)r->lat, (double)r->lng,
			    (unsigned)r->accuracy_m);
			puts_(&l, num);
		} else
			puts_(&l, ",,,");
		puts_(&l, r->flags & SCAN_DIVERSION ? "true," : "false,");
		region_csv(&l, row->region);
	} else {
		json_t *j = json_pack("{s:s, s:s, s:I, s:I, s:s, s:s, s:b, "
		    "s:b, s:s, s:s}", "scan_id", row->scan_id, "brand",
		    row->brand, "serial", (json_int_t)r->serial,
		    "batch", (json_int_t)r->batch_id, "time", row->time,
		    "verdict", scan_verdict_name(r->verdict),
		    "bot", (r->flags & SCAN_BOT) != 0,
		    "first_scan", (r->flags & SCAN_FIRST) != 0,
		    "device", dev, "ip", ip);
		size_t n;

		if (j == NULL)
			return 0;
		if (loc) {
			json_object_set_new(j, "lat", json_real(r->lat));
			json_object_set_new(j, "lng", json_real(r->lng));
			json_object_set_new(j, "accuracy_m",
			    json_integer(r->accuracy_m));
		}
		json_object_set_new(j, "diversion",
		    json_boolean(r->flags & SCAN_DIVERSION));
		region_ndjson(j, row->region);
		n = json_dumpb(j, buf, size - 1, JSON_COMPACT |
		    JSON_PRESERVE_ORDER);
		json_decref(j);
		if (n == 0 || n + 1 >= size)
			return 0;
		buf[n++] = '\n';
		buf[n] = '\0';
		return n;
	}
	return l.over ? 0 : l.n;
}

int
scan_export_tz_parse(const char *s, int *minutes)
{
	int sign = 1, h = 0, m = 0, n = 0;
	const char *p = s;

	if (s == NULL || *s == '\0')
		return SIGIL_EINVAL;
	if (*p == '+' || *p == '-')
		sign = *p++ == '-' ? -1 : 1;
	while (*p >= '0' && *p <= '9' && n < 2) {
		h = h * 10 + (*p++ - '0');
		n++;
	}
	if (n == 0)
		return SIGIL_EINVAL;
	if (*p == ':') {
		if (n != 2 || !(p[1] >= '0' && p[1] <= '5') ||
		    !(p[2] >= '0' && p[2] <= '9') || p[3] != '\0')
			return SIGIL_EINVAL;
		m = (p[1] - '0') * 10 + (p[2] - '0');
		p += 3;
	}
	if (*p != '\0')
		return SIGIL_EINVAL;
	m += h * 60;
	if ((sign < 0 && m > 12 * 60) || (sign > 0 && m > 14 * 60))
		return SIGIL_EINVAL;
	*minutes = sign * m;
	return 0;
}

char *
scan_export_time(int64_t t, int tz_minutes,
    char out[SCAN_EXPORT_TIME_LEN + 1])
{
	char u[SIGIL_TIME_LEN + 1];
	unsigned a = (unsigned)(tz_minutes < 0 ? -tz_minutes : tz_minutes)
	    % (15 * 60);

	sigil_time_format(t + tz_minutes * MIN_US, u);
	if (tz_minutes == 0) {
		snprintf(out, SCAN_EXPORT_TIME_LEN + 1, "%s", u);
		return out;
	}
	/* u is "YYYY-MM-DDTHH:MM:SS.mmmZ": the local digits, Z replaced. */
	memcpy(out, u, 23);
	out[23] = tz_minutes < 0 ? '-' : '+';
	out[24] = (char)('0' + a / 600);
	out[25] = (char)('0' + a / 60 % 10);
	out[26] = ':';
	out[27] = (char)('0' + a % 60 / 10);
	out[28] = (char)('0' + a % 10);
	out[29] = '\0';
	return out;
}

int
scan_export_bound(const char *s, int tz_minutes, int end, int64_t *out)
{
	int64_t t;

	if (s == NULL)
		return SIGIL_EINVAL;
	if (strlen(s) == 10) {
		if (sigil_time_parse(s, &t) != 0)
			return SIGIL_EINVAL;
		*out = t - tz_minutes * MIN_US + (end ? 86400LL * 1000000 : 0);
		return 0;
	}
	if (sigil_time_parse_rfc3339(s, &t) != 0)
		return SIGIL_EINVAL;
	*out = t;
	return 0;
}
