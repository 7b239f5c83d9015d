/*
 * trace.c - what the trace's events are called. One table for the brand
 * API's code lookup and the consumer's scan answer, so the two can never
 * name a step differently. (EPCIS has its own vocabulary: epcis.c.)
 * Calls nothing; never reads the store.
 */
#include "sigil/store.h"
#include "sigil/trace.h"

const char *
trace_event_name(int type)
{
	switch (type) {
	case EVENT_COMMISSION:		return "commissioning";
	case EVENT_AGGREGATE:		return "packing";
	case EVENT_DISAGGREGATE:	return "unpacking";
	case EVENT_SHIP:		return "shipping";
	case EVENT_RECEIVE:		return "receiving";
	case EVENT_SCAN:		return "scan";
	case EVENT_DECOMMISSION:	return "decommissioning";
	}
	return "unknown";
}
