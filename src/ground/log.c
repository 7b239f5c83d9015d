/*
 * log.c - the event log.
 *
 * Every line is "time level event key=value ...", written with a single
 * write(2) so lines from the writer thread and the event loop never
 * interleave. Owns only the level setting. Client-supplied bytes must go
 * through log_esc(): it turns anything that is not printable ASCII, and
 * the characters that delimit fields, into \xHH, so no client can inject
 * a line break, a fake key or a terminal escape sequence. This module
 * never sees secrets: callers do not pass them.
 *
 * May call libc and util.c (the clock and its format) only. Must never
 * write a line in more than one write(2), nor write a byte log_esc
 * would have escaped.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sigil/log.h"
#include "sigil/util.h"

static int log_level = LOG_LEVEL_INFO;

void
log_set_level(int level)
{
	log_level = level;
}

void
log_write(int level, const char *event, const char *fmt, ...)
{
	static const char *names[] = { "debug", "info", "warn", "error" };
	char line[2048], ts[SIGIL_TIME_LEN + 1];
	va_list ap;
	int n, m;

	if (level < log_level)
		return;
	n = snprintf(line, sizeof line, "%s %s %s ",
	    sigil_time_format(sigil_now_us(), ts), names[level & 3], event);
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n += m;
	if (n > (int)sizeof line - 2)
		n = (int)sizeof line - 2;
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;
}

const char *
log_esc(char *buf, size_t size, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, i;

	if (size < 8)
		return "-";
	if (s == NULL) {
		strcpy(buf, "-");
		return buf;
	}
	for (i = 0; s[i] != '\0' && i < 256; i++) {
		unsigned char c = (unsigned char)s[i];

		if (o + 8 > size)
			break;
		if (c < 0x20 || c > 0x7e || c == '"' || c == '\\' ||
		    c == '=' || c == ' ') {
			buf[o++] = '\\';
			buf[o++] = 'x';
			buf[o++] = hex[c >> 4];
			buf[o++] = hex[c & 15];
		} else
			buf[o++] = (char)c;
	}
	if (s[i] != '\0' && o + 4 <= size) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}
