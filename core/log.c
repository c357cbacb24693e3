/* log.c - levelled log lines on stderr. Formats the whole line into a stack buffer and writes it with
 * one fwrite, which stdio serialises between threads. Knows nothing about where messages come from. */
#include "log.h"
#include "ds.h"
#include "plat.h"
#include "text.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

static atomic_int log_level_cur = LOG_INFO;
static int log_journal;
static log_sink_fn log_sink;
static void *log_sink_ctx;

static const char *const log_names[] = { "error", "warn", "info", "debug" };
/* syslog priorities understood by the journal on stderr lines */
static const int log_prio[] = { 3, 4, 6, 7 };

void log_set_level(enum log_level lvl)
{
	atomic_store(&log_level_cur, (int)lvl);
}

enum log_level log_get_level(void)
{
	return (enum log_level)atomic_load(&log_level_cur);
}

int log_level_parse(const char *s, enum log_level *out)
{
	size_t i;

	if (s != NULL && strcmp(s, "warning") == 0) {
		*out = LOG_WARN;
		return DS_OK;
	}
	for (i = 0; s != NULL && i < DS_ARRAY_LEN(log_names); i++) {
		if (strcmp(s, log_names[i]) == 0) {
			*out = (enum log_level)i;
			return DS_OK;
		}
	}
	return DS_EINVAL;
}

const char *log_level_name(enum log_level lvl)
{
	if ((int)lvl < 0 || (size_t)lvl >= DS_ARRAY_LEN(log_names))
		return "?";
	return log_names[lvl];
}

void log_set_sink(log_sink_fn fn, void *ctx)
{
	log_sink = fn;
	log_sink_ctx = ctx;
}

void log_set_journal(int on)
{
	log_journal = on;
}

/* Civil date from days since 1970-01-01 (proleptic Gregorian), without the C library's time zone
 * machinery so it behaves the same on every OS and thread. */
static void log_civil(int64_t days, int *y, int *m, int *d)
{
	int64_t z = days + 719468, era, doe, yoe, doy, mp;

	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

void log_msg(enum log_level lvl, const char *component, const char *fmt, ...)
{
	char line[2048];
	int64_t now, secs;
	int y, mo, d, n, len;
	size_t start;
	va_list ap;

	if ((int)lvl > atomic_load(&log_level_cur) || (int)lvl < 0 || (size_t)lvl >= DS_ARRAY_LEN(log_names))
		return;
	if (log_journal) {
		n = snprintf(line, sizeof(line), "<%d>%s: ", log_prio[lvl], component);
	} else {
		now = plat_now_ms();
		secs = now / 1000;
		log_civil(secs / 86400, &y, &mo, &d);
		n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ %-5s %s: ", y, mo, d,
			     (int)(secs % 86400 / 3600), (int)(secs % 3600 / 60), (int)(secs % 60),
			     (int)(now % 1000), log_names[lvl], component);
	}
	if (n < 0)
		return;
	len = n < (int)sizeof(line) ? n : (int)sizeof(line) - 1;
	start = (size_t)len;
	va_start(ap, fmt);
	n = vsnprintf(line + len, sizeof(line) - (size_t)len, fmt, ap);
	va_end(ap);
	if (n > 0)
		len += n < (int)(sizeof(line) - (size_t)len) ? n : (int)(sizeof(line) - (size_t)len) - 1;
	/* One line per message: file names and engine text must not forge extra log lines nor reach the
	 * terminal or journal reader raw (the one sanitiser, core/text.h; tabs stay). */
	{
		char clean[sizeof(line)];

		line[len] = '\0';
		len = (int)(start + text_clean(clean, sizeof(line) - start, line + start, TEXT_KEEP_TAB));
		memcpy(line + start, clean, (size_t)len - start + 1);
	}
	if ((size_t)len >= sizeof(line) - 1)
		len = (int)sizeof(line) - 2;
	line[len++] = '\n';
	fwrite(line, 1, (size_t)len, stderr);
	if (log_sink != NULL) {
		line[len] = '\0'; /* len <= sizeof(line) - 1: there is room */
		log_sink(lvl, component, line, (size_t)len, line + start, log_sink_ctx);
	}
}
