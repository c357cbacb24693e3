/* when.c - parsing and formatting of the CLI's times (see when.h). Calendar arithmetic is done here
 * with integer formulas for the proleptic Gregorian calendar, so no OS time-zone call is involved: the
 * CLI speaks UTC everywhere. It does not read the clock. */
#include "when.h"
#include "core/ds.h"

#include <stdio.h>
#include <string.h>

#define MS_S 1000LL
#define MS_M (60 * MS_S)
#define MS_H (60 * MS_M)
#define MS_D (24 * MS_H)

int64_t when_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void when_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* Reads exactly n digits at *p into *v and advances. */
static int when_digits(const char **p, int n, int64_t *v)
{
	int i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return 0;
		*v = *v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	return 1;
}

int when_parse_span(const char *s, int64_t *out_ms)
{
	int64_t n = 0, unit;
	size_t i = 0;

	if (s == NULL || s[0] < '0' || s[0] > '9')
		return DS_EINVAL;
	while (s[i] >= '0' && s[i] <= '9') {
		if (n > 100000000)
			return DS_EINVAL;
		n = n * 10 + (s[i] - '0');
		i++;
	}
	switch (s[i]) {
	case 's': unit = MS_S; break;
	case 'm': unit = MS_M; break;
	case 'h': unit = MS_H; break;
	case 'd': unit = MS_D; break;
	case 'w': unit = 7 * MS_D; break;
	default: return DS_EINVAL;
	}
	if (s[i + 1] != '\0' || n > 100000 * 52) /* up to 100,000 years is plenty */
		return DS_EINVAL;
	*out_ms = n * unit;
	return DS_OK;
}

int when_parse(const char *s, int64_t now_ms, int64_t *out_ms)
{
	static const unsigned mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	const char *p = s;
	int64_t y, mo, d, h = 0, mi = 0, se = 0, span, leap;

	if (s == NULL)
		return DS_EINVAL;
	if (when_parse_span(s, &span) == DS_OK) {
		*out_ms = now_ms - span;
		return DS_OK;
	}
	if (!when_digits(&p, 4, &y) || *p++ != '-' || !when_digits(&p, 2, &mo) || *p++ != '-' ||
	    !when_digits(&p, 2, &d))
		return DS_EINVAL;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (!when_digits(&p, 2, &h) || *p++ != ':' || !when_digits(&p, 2, &mi))
			return DS_EINVAL;
		if (*p == ':') {
			p++;
			if (!when_digits(&p, 2, &se))
				return DS_EINVAL;
		}
	}
	if (*p == 'Z' || *p == 'z')
		p++;
	if (*p != '\0' || y < 1970 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || se > 59)
		return DS_EINVAL;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap))
		return DS_EINVAL;
	*out_ms = when_days_from_civil(y, (unsigned)mo, (unsigned)d) * MS_D + h * MS_H + mi * MS_M + se * MS_S;
	return DS_OK;
}

void when_format(int64_t ms, int iso, char *dst, size_t n)
{
	int64_t days, rem, y;
	unsigned m, d;

	if (n == 0)
		return;
	if (ms <= 0) {
		snprintf(dst, n, "%s", iso ? "" : "-");
		return;
	}
	days = ms / MS_D;
	rem = ms % MS_D;
	when_civil_from_days(days, &y, &m, &d);
	if (iso)
		snprintf(dst, n, "%04lld-%02u-%02uT%02lld:%02lld:%02lldZ", (long long)y, m, d, (long long)(rem / MS_H),
			 (long long)(rem % MS_H / MS_M), (long long)(rem % MS_M / MS_S));
	else
		snprintf(dst, n, "%04lld-%02u-%02u %02lld:%02lld", (long long)y, m, d, (long long)(rem / MS_H),
			 (long long)(rem % MS_H / MS_M));
}

void when_format_day(int64_t day, char *dst, size_t n)
{
	int64_t y;
	unsigned m, d;

	when_civil_from_days(day, &y, &m, &d);
	snprintf(dst, n, "%04lld-%02u-%02u", (long long)y, m, d);
}

void when_format_span(int64_t ms, char *dst, size_t n)
{
	if (ms < 0)
		ms = 0;
	if (ms < MS_M)
		snprintf(dst, n, "%llds", (long long)(ms / MS_S));
	else if (ms < MS_H)
		snprintf(dst, n, "%lldm", (long long)(ms / MS_M));
	else if (ms < 2 * MS_D)
		snprintf(dst, n, "%lldh", (long long)(ms / MS_H));
	else
		snprintf(dst, n, "%lldd", (long long)(ms / MS_D));
}
