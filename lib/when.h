/* when.h - times on the command line: parsing --since/--until values (ISO dates and times in UTC, or a
 * span back from now such as 30m, 24h, 7d, 2w) and formatting stored millisecond times for people and
 * for machines. Pure functions of their arguments; no clock is read here (callers pass "now"). */
#ifndef DS_CLI_WHEN_H
#define DS_CLI_WHEN_H

#include <stddef.h>
#include <stdint.h>

/* Parses s into ms since the epoch (UTC). Accepted: a span back from now "N" followed by s, m, h, d or w
 * ("30m", "24h", "7d"); "YYYY-MM-DD" (midnight UTC); "YYYY-MM-DDTHH:MM[:SS]" or with a space instead of
 * the T, optionally ending in "Z". DS_EINVAL for anything else (out of range fields included).
 * Thread-safe. */
int when_parse(const char *s, int64_t now_ms, int64_t *out_ms);

/* A span "30m", "7d"... as ms; DS_EINVAL if s is not one. Thread-safe. */
int when_parse_span(const char *s, int64_t *out_ms);

/* Formats ms since the epoch in UTC into dst (always NUL-terminated): iso = 1 "2024-05-01T12:34:56Z",
 * iso = 0 "2024-05-01 12:34"; a time <= 0 gives "" (iso) or "-". Thread-safe. */
void when_format(int64_t ms, int iso, char *dst, size_t n);

/* "YYYY-MM-DD" of a UTC day number (days since 1970-01-01). Thread-safe. */
void when_format_day(int64_t day, char *dst, size_t n);

/* A duration for people: "45s", "12m", "3h", "5d". Negative durations print as "0s". Thread-safe. */
void when_format_span(int64_t ms, char *dst, size_t n);

/* Days since 1970-01-01 of a proleptic Gregorian date (no range check). Thread-safe. */
int64_t when_days_from_civil(int64_t y, unsigned m, unsigned d);

#endif
