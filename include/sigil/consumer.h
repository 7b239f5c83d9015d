/*
 * consumer.h - sigild's application context and its consumer endpoints:
 * the scan (GET /S/{code}, /s/, GS1 Digital Link paths), consented
 * location, /healthz and /metrics.
 */
#ifndef SIGIL_CONSUMER_H
#define SIGIL_CONSUMER_H

#include <stddef.h>
#include <stdint.h>

#include "sigil/store.h"

struct event_base;
struct http_server;
struct http_route;
struct keyring;
struct loyalty;
struct store;
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
	uint64_t		scans_by_verdict[5], bot_scans, scan_errors;
	uint64_t		locations;
	unsigned		api_rate_limit;	/* brand API req/s per token */
	const char		*base_url;	/* --base-url, or NULL */
	uint64_t		last_device;	/* newest device id issued */
	struct loyalty		*loyalty;	/* loyalty.c's state */
	struct egress		*egress;	/* outbound HTTP (egress.h) */
};

/* A code as a scan sees it, without recording anything. */
struct code_info {
	int		verdict;	/* enum scan_verdict, no history */
	uint64_t	serial;
	struct brand	brand;
	struct batch	batch;
	struct product	product;
};

/*
 * Resolves a code, a compact code URL or a Digital Link like GET /S/ does
 * (key, signature, batch, product; revoked/inactive): 0 with *out set
 * when the code's key verifies (out->verdict genuine, revoked or
 * inactive), SIGIL_EINVAL when it does not parse, SIGIL_ENOTFOUND when
 * it is counterfeit.
 */
int consumer_code_lookup(struct app *app, const char *text,
    struct code_info *out);

/* Frees the territory cache at shutdown. */
void consumer_fini(void);

/* The route table behind sigild's one generic callback. */
const struct http_route *consumer_routes(size_t *n);

#endif
