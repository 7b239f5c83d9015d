/*
 * app.h - sigild's application context: the handles every request
 * handler and domain module works with (event base, store, keyring,
 * writer, outbound HTTP) and the process-wide counters /metrics reports.
 * Filled in by sigild.c; a plain struct, no functions.
 */
#ifndef SIGIL_APP_H
#define SIGIL_APP_H

#include <stdint.h>

struct egress;
struct geoip;
struct event_base;
struct http_server;
struct keyring;
struct loyalty;
struct retention;
struct store;
struct wechat;
struct writer;

struct app {
	struct event_base	*base;
	struct store		*store;
	struct keyring		*keyring;
	struct writer		*writer;
	struct http_server	*http;
	uint8_t			cookie_key[32];
	int			secure_cookies;	/* under TLS */
	int64_t			started;
	uint64_t		scans_by_verdict[6];	/* SCAN_VERDICTS */
	uint64_t		bot_scans, scan_errors;
	uint64_t		locations;
	unsigned		api_rate_limit;	/* brand API req/s per token */
	const char		*base_url;	/* --base-url, or NULL */
	uint64_t		last_device;	/* newest device id issued */
	struct loyalty		*loyalty;	/* loyalty_core.h */
	struct egress		*egress;	/* outbound HTTP (egress.h) */
	struct geoip		*geoip;	/* --geoip database, or NULL: off */
	uint64_t		scans_placed;	/* scans the database placed */
	struct retention	*retention;	/* the daily job (retention.h) */
	struct wechat		*wechat;	/* WeChat login (wechat.h) */
};

#endif
