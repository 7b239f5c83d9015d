/*
 * http_csv.c - a cell of the CSV files the dashboard downloads, as the
 * streamed exports (audit trail, customers) write them: always quoted,
 * a quote doubled, line breaks dropped, and a leading = + - @ or tab
 * defused with a ' so a spreadsheet never runs it as a formula.
 *
 * Also the client-gone step such an export's stream shares (its state
 * freed).
 *
 * Pure: writes to the buffer it is given, calls nothing of sigil's.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "sigil/http.h"

void
http_csv_cell(struct evbuffer *out, const char *v, int last)
{
	if (v == NULL)
		v = "";
	evbuffer_add(out, "\"", 1);
	if (v[0] != '\0' && strchr("=+-@\t", v[0]) != NULL)
		evbuffer_add(out, "'", 1);
	for (const char *p = v; *p; p++) {
		if (*p == '"')
			evbuffer_add(out, "\"", 1);
		if (*p != '\r' && *p != '\n')
			evbuffer_add(out, p, 1);
	}
	evbuffer_add(out, last ? "\"\r\n" : "\",", last ? 3 : 2);
}

void
http_csv_gone(struct http_call *c, void *arg)
{
	(void)c;
	free(arg);
}
