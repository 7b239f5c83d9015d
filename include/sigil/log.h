/*
 * log.h - one line per event, key=value, client bytes escaped.
 *
 *     log_info("scan", "verdict=%s ua=%s", v, log_esc(buf, sizeof buf, ua));
 *
 * Values that come from a client pass through log_esc() first: every byte
 * outside printable ASCII, and '"', '\\' and '=', becomes \xHH, so a client
 * can never forge a line, a field or a terminal escape. Secrets, PINs,
 * tokens and phone numbers are never passed to these functions.
 */
#ifndef SIGIL_LOG_H
#define SIGIL_LOG_H

#include <stddef.h>

enum log_level { LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARN,
    LOG_LEVEL_ERROR };

/* Minimum level written (default INFO); output goes to stderr. */
void log_set_level(int level);

void log_write(int level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_info(ev, ...)	log_write(LOG_LEVEL_INFO, ev, __VA_ARGS__)
#define log_warn(ev, ...)	log_write(LOG_LEVEL_WARN, ev, __VA_ARGS__)
#define log_error(ev, ...)	log_write(LOG_LEVEL_ERROR, ev, __VA_ARGS__)
#define log_debug(ev, ...)	log_write(LOG_LEVEL_DEBUG, ev, __VA_ARGS__)

/*
 * Escapes at most the first 256 bytes of s into buf (size bytes), adding
 * "..." when cut, and returns buf. NULL s gives "-".
 */
const char *log_esc(char *buf, size_t size, const char *s);

#endif
