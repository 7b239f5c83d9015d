/*
 * consumer.h - the consumer endpoints, and the operator's:
 * the scan of a compact code (GET /S/{code}, /s/), consented
 * location, /healthz and /metrics (and
 * /debug/faults in fault-injection builds). route.c names them.
 */
#ifndef SIGIL_CONSUMER_H
#define SIGIL_CONSUMER_H

struct http_call;

/* GET /S/{code}, /s/{code}: the scan of a compact code (GS1 Digital
 * Links go to resolver.h). */
void consumer_scan(struct http_call *c);
/* POST /api/v1/scans/{id}/location */
void consumer_location(struct http_call *c);
/* GET /: a short bilingual page linking the dashboard. */
void consumer_home(struct http_call *c);
void consumer_healthz(struct http_call *c);
void consumer_metrics(struct http_call *c);
#ifdef SIGIL_FAULT_INJECTION
/* GET, POST /debug/faults */
void consumer_faults(struct http_call *c);
#endif

#endif
