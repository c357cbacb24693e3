/* cursor.c - the text cursor. See cursor.h. Parsing only; it never allocates except span_dup. */
#include "cursor.h"
#include "ds.h"

#include <stdlib.h>
#include <string.h>

void cursor_init(struct cursor *c, const char *p, size_t n)
{
	c->p = p;
	c->end = p + n;
}

int cursor_eof(const struct cursor *c)
{
	return c->p >= c->end;
}

size_t cursor_left(const struct cursor *c)
{
	return (size_t)(c->end - c->p);
}

int cursor_line(struct cursor *c, struct span *line)
{
	const char *nl;

	if (c->p >= c->end)
		return -1;
	nl = memchr(c->p, '\n', (size_t)(c->end - c->p));
	line->p = c->p;
	if (nl == NULL) {
		line->n = (size_t)(c->end - c->p);
		c->p = c->end;
	} else {
		line->n = (size_t)(nl - c->p);
		c->p = nl + 1;
	}
	if (line->n > 0 && line->p[line->n - 1] == '\r')
		line->n--;
	return 0;
}

static int is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r';
}

void cursor_skip_space(struct cursor *c)
{
	while (c->p < c->end && is_blank(*c->p))
		c->p++;
}

int cursor_space(struct cursor *c)
{
	if (c->p >= c->end || !is_blank(*c->p))
		return -1;
	cursor_skip_space(c);
	return 0;
}

int cursor_word(struct cursor *c, struct span *w, size_t max)
{
	const char *q = c->p;

	while (q < c->end && !is_blank(*q) && *q != '\n')
		q++;
	if (q == c->p || (size_t)(q - c->p) > max)
		return -1;
	w->p = c->p;
	w->n = (size_t)(q - c->p);
	c->p = q;
	return 0;
}

int cursor_lit(struct cursor *c, const char *lit)
{
	size_t n = strlen(lit);

	if (cursor_left(c) < n || memcmp(c->p, lit, n) != 0)
		return -1;
	c->p += n;
	return 0;
}

static char lower(char ch)
{
	return (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
}

int cursor_lit_ci(struct cursor *c, const char *lit)
{
	size_t i, n = strlen(lit);

	if (cursor_left(c) < n)
		return -1;
	for (i = 0; i < n; i++)
		if (lower(c->p[i]) != lower(lit[i]))
			return -1;
	c->p += n;
	return 0;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

int cursor_hex(struct cursor *c, uint64_t *v, size_t *ndigits)
{
	const char *q = c->p;
	uint64_t acc = 0;
	size_t nd = 0;
	int d;

	if (c->end - q >= 2 && q[0] == '0' && (q[1] == 'x' || q[1] == 'X') && c->end - q > 2 &&
	    hexval(q[2]) >= 0)
		q += 2;
	while (q < c->end) {
		if ((*q == '`' || *q == '\'') && nd > 0 && q + 1 < c->end && hexval(q[1]) >= 0) {
			q++;
			continue;
		}
		d = hexval(*q);
		if (d < 0)
			break;
		if (acc >> 60)
			return -1;
		acc = (acc << 4) | (uint64_t)d;
		nd++;
		q++;
	}
	if (nd == 0)
		return -1;
	*v = acc;
	if (ndigits != NULL)
		*ndigits = nd;
	c->p = q;
	return 0;
}

int cursor_dec(struct cursor *c, uint64_t *v)
{
	const char *q = c->p;
	uint64_t acc = 0;
	size_t nd = 0;

	while (q < c->end) {
		if (*q == ',' && nd > 0 && q + 1 < c->end && q[1] >= '0' && q[1] <= '9') {
			q++;
			continue;
		}
		if (*q < '0' || *q > '9')
			break;
		if (acc > (UINT64_MAX - 9) / 10)
			return -1;
		acc = acc * 10 + (uint64_t)(*q - '0');
		nd++;
		q++;
	}
	if (nd == 0)
		return -1;
	*v = acc;
	c->p = q;
	return 0;
}

int cursor_until(struct cursor *c, char ch, struct span *s)
{
	const char *q = memchr(c->p, ch, cursor_left(c));

	if (q == NULL)
		return -1;
	s->p = c->p;
	s->n = (size_t)(q - c->p);
	c->p = q;
	return 0;
}

int span_eq(struct span s, const char *lit)
{
	size_t n = strlen(lit);

	return s.n == n && memcmp(s.p, lit, n) == 0;
}

int span_starts(struct span s, const char *lit)
{
	size_t n = strlen(lit);

	return s.n >= n && memcmp(s.p, lit, n) == 0;
}

long span_find(struct span s, const char *lit)
{
	size_t i, n = strlen(lit);

	if (n == 0)
		return 0;
	for (i = 0; i + n <= s.n; i++)
		if (s.p[i] == lit[0] && memcmp(s.p + i, lit, n) == 0)
			return (long)i;
	return -1;
}

struct span span_trim(struct span s)
{
	while (s.n > 0 && is_blank(s.p[0])) {
		s.p++;
		s.n--;
	}
	while (s.n > 0 && is_blank(s.p[s.n - 1]))
		s.n--;
	return s;
}

char *span_copy(struct span s, char *dst, size_t dstsz)
{
	size_t n = s.n;

	if (dstsz == 0)
		return dst;
	if (n >= dstsz)
		n = dstsz - 1;
	memcpy(dst, s.p, n);
	dst[n] = '\0';
	return dst;
}

char *span_dup(struct span s)
{
	char *p = malloc(s.n + 1);

	if (p != NULL) {
		memcpy(p, s.p, s.n);
		p[s.n] = '\0';
	}
	return p;
}

int cursor_parse_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
	uint64_t v = 0, lim;
	int64_t r;
	int neg, d, rc = DS_EINVAL;

	if (s == NULL)
		goto out;
	neg = *s == '-';
	s += neg;
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	if (*s == '\0')
		goto out;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			goto out;
		d = *s - '0';
		if (v > (lim - (uint64_t)d) / 10)
			goto out;
		v = v * 10 + (uint64_t)d;
	}
	r = !neg ? (int64_t)v : v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
	if (r < min || r > max)
		goto out;
	*out = r;
	rc = DS_OK;
out:
	return rc;
}
