/* log.h - levelled log lines on stderr for the daemon and the tools. One line per call, written with a
 * single stdio call so lines from different threads never interleave. Not a log file manager: under
 * systemd the journal collects stderr (and the level is passed as a <N> prefix it understands). */
#ifndef DS_LOG_H
#define DS_LOG_H

#include "ds.h"

enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

/* Sets the most verbose level printed (default LOG_INFO). Thread-safe (atomic). */
void log_set_level(enum log_level lvl);
enum log_level log_get_level(void);
/* Parses "error", "warn", "info", "debug" (also "warning"). DS_EINVAL if unknown. */
int log_level_parse(const char *s, enum log_level *out);
const char *log_level_name(enum log_level lvl);
/* Selects the line prefix: 1 = systemd journal priority "<N>" (no timestamp, the journal has one),
 * 0 = ISO-8601 UTC timestamp. Call once at start-up, before threads start. */
void log_set_journal(int on);

/* Writes one line "TIME LEVEL COMPONENT: message" when lvl is enabled. Lines are capped at 2 KiB;
 * control characters in the message are shown as '?'. Thread-safe. */
void log_msg(enum log_level lvl, const char *component, const char *fmt, ...)
	DS_PRINTF(3, 4);

/* An extra destination for every line that is printed (the Windows service's log file and Event Log):
 * fn gets the level, the component, the whole line (NUL-terminated, len counts its final newline) and
 * the message part alone (a pointer into the line, so it ends with the same newline). It
 * is called from whichever thread logs, after the stderr write; it must be thread-safe and must not
 * log. NULL removes it. Call at start-up, before threads start. */
typedef void (*log_sink_fn)(enum log_level lvl, const char *component, const char *line, size_t len,
			    const char *msg, void *ctx);
void log_set_sink(log_sink_fn fn, void *ctx);

#define log_error(comp, ...) log_msg(LOG_ERROR, comp, __VA_ARGS__)
#define log_warn(comp, ...) log_msg(LOG_WARN, comp, __VA_ARGS__)
#define log_info(comp, ...) log_msg(LOG_INFO, comp, __VA_ARGS__)
#define log_debug(comp, ...) log_msg(LOG_DEBUG, comp, __VA_ARGS__)

#endif
