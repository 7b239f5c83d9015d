/*
 * trace.h - the words of the supply-chain trace: the CBV-style step name
 * of each trace event type, as the brand API and the consumer's scan
 * answer both show it.
 */
#ifndef SIGIL_TRACE_H
#define SIGIL_TRACE_H

/* "commissioning", "packing", "shipping", ... of an enum
 * trace_event_type (store.h); "unknown" for anything else. */
const char *trace_event_name(int type);

#endif
