/*
 * consumer.h - the consumer endpoints:
 * the scan (GET /S/{code}, /s/, GS1 Digital Link paths), consented
 * location, /healthz and /metrics.
 */
#ifndef SIGIL_CONSUMER_H
#define SIGIL_CONSUMER_H

#include <stddef.h>
#include <stdint.h>

#include "sigil/app.h"

struct http_route;

/* The route table behind sigild's one generic callback. */
const struct http_route *consumer_routes(size_t *n);

#endif
