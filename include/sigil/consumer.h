/*
 * consumer.h - the consumer endpoints, and the operator's:
 * the scan (GET /S/{code}, /s/, GS1 Digital Link paths), consented
 * location, the GS1 resolver description, /healthz and /metrics (and
 * /debug/faults in fault-injection builds). route.c names them.
 */
#ifndef SIGIL_CONSUMER_H
#define SIGIL_CONSUMER_H

struct http_call;

/* GET /S/{code}, /s/{code}, /01/{gtin}/...: the scan. */
void consumer_scan(struct http_call *c);
/* POST /api/v1/scans/{id}/location */
void consumer_location(struct http_call *c);
/* GET /.well-known/gs1resolver */
void consumer_gs1resolver(struct http_call *c);
void consumer_healthz(struct http_call *c);
void consumer_metrics(struct http_call *c);
#ifdef SIGIL_FAULT_INJECTION
/* GET, POST /debug/faults */
void consumer_faults(struct http_call *c);
#endif

#endif
