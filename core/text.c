/* text.c - the sanitiser for human-facing text and the UTF-8 repair for JSON. See text.h for what is
 * removed and why; this file only walks bytes. It knows nothing of terminals, mail or JSON libraries. */
#include "text.h"
#include "ds.h"

#include <stdlib.h>
#include <string.h>

#define TEXT_REPLACEMENT "\xEF\xBF\xBD" /* U+FFFD */

size_t text_utf8_seq(const unsigned char *p, size_t n, uint32_t *cp)
{
	size_t len, i;
	uint32_t c;

	if (n == 0)
		return 0;
	if (p[0] < 0x80) {
		len = 1;
		c = p[0];
	} else if (p[0] >= 0xC2 && p[0] <= 0xDF) {
		len = 2;
		c = p[0] & 0x1F;
	} else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
		len = 3;
		c = p[0] & 0x0F;
	} else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
		len = 4;
		c = p[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3F);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 || c > 0x10FFFF)) ||
	    (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	if (cp != NULL)
		*cp = c;
	return len;
}

int text_cp_unsafe(uint32_t cp, int flags)
{
	if (cp == '\n')
		return !(flags & TEXT_KEEP_NL);
	if (cp == '\t')
		return !(flags & TEXT_KEEP_TAB);
	return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || (cp >= 0x202A && cp <= 0x202E) ||
	       (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200E || cp == 0x200F || cp == 0x061C ||
	       cp == 0x2028 || cp == 0x2029;
}

/* One step of the walk over s[0..n): how many input bytes it consumes (>= 1) and what to write
 * instead (*rep, *replen: the input itself when it is safe). */
static size_t text_step(const unsigned char *p, size_t n, int flags, const char **rep, size_t *replen)
{
	uint32_t cp = 0;
	size_t k = text_utf8_seq(p, n, &cp);

	if (k == 0) {
		*rep = TEXT_REPLACEMENT;
		*replen = 3;
		return 1;
	}
	if (text_cp_unsafe(cp, flags)) {
		*rep = "?";
		*replen = 1;
	} else {
		*rep = (const char *)p;
		*replen = k;
	}
	return k;
}

int text_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k;

	while (i < n) {
		k = text_utf8_seq(p + i, n - i, NULL);
		if (k == 0)
			return 0;
		i += k;
	}
	return 1;
}

int text_is_clean(const char *s, int flags)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = s != NULL ? strlen(s) : 0, i = 0, k, rl;
	const char *rep;

	while (i < n) {
		k = text_step(p + i, n - i, flags, &rep, &rl);
		if (rep != (const char *)p + i)
			return 0;
		i += k;
	}
	return 1;
}

int text_clean_buf(struct buf *b, const char *s, size_t n, int flags)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, start = 0, k, rl;
	const char *rep;
	int rc = DS_OK;

	/* Runs of safe bytes are appended at once; only the replaced spots break the run. */
	while (i < n && rc == DS_OK) {
		k = text_step(p + i, n - i, flags, &rep, &rl);
		if (rep != (const char *)p + i) {
			rc = buf_append(b, s + start, i - start);
			if (rc == DS_OK)
				rc = buf_append(b, rep, rl);
			start = i + k;
		}
		i += k;
	}
	if (rc == DS_OK)
		rc = buf_append(b, s + start, n - start);
	return rc;
}

size_t text_clean(char *out, size_t outsz, const char *s, int flags)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = s != NULL ? strlen(s) : 0, i = 0, o = 0, k, rl;
	const char *rep;

	if (outsz == 0)
		return 0;
	while (i < n) {
		k = text_step(p + i, n - i, flags, &rep, &rl);
		if (rl > outsz - 1 - o)
			break;
		memcpy(out + o, rep, rl);
		o += rl;
		i += k;
	}
	out[o] = '\0';
	return o;
}

char *text_clean_dupn(const char *s, size_t n, int flags)
{
	struct buf b;

	/* Worst case: every byte becomes a 3-byte U+FFFD. */
	buf_init(&b, n > (SIZE_MAX - 1) / 3 ? SIZE_MAX - 1 : n * 3);
	return buf_finish(&b, text_clean_buf(&b, s, n, flags));
}

char *text_clean_dup(const char *s, int flags)
{
	return s != NULL ? text_clean_dupn(s, strlen(s), flags) : NULL;
}

int text_fputs(const char *s, FILE *out, int flags)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = s != NULL ? strlen(s) : 0, i = 0, start = 0, k, rl;
	const char *rep;
	int rc = 0;

	while (i < n && rc == 0) {
		k = text_step(p + i, n - i, flags, &rep, &rl);
		if (rep != (const char *)p + i) {
			if (fwrite(s + start, 1, i - start, out) != i - start || fwrite(rep, 1, rl, out) != rl)
				rc = EOF;
			start = i + k;
		}
		i += k;
	}
	if (rc == 0 && fwrite(s + start, 1, n - start, out) != n - start)
		rc = EOF;
	return rc;
}

size_t text_width(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = s != NULL ? strlen(s) : 0, i = 0, w = 0, rl;
	const char *rep;

	while (i < n) {
		i += text_step(p + i, n - i, 0, &rep, &rl);
		w++;
	}
	return w;
}

char *text_utf8_fix(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, start = 0, k;
	struct buf b;
	int rc = DS_OK;

	buf_init(&b, n > (SIZE_MAX - 1) / 3 ? SIZE_MAX - 1 : n * 3);
	while (i < n && rc == DS_OK) {
		k = text_utf8_seq(p + i, n - i, NULL);
		if (k == 0) {
			rc = buf_append(&b, s + start, i - start);
			if (rc == DS_OK)
				rc = buf_append(&b, TEXT_REPLACEMENT, 3);
			start = ++i;
		} else {
			i += k;
		}
	}
	if (rc == DS_OK)
		rc = buf_append(&b, s + start, n - start);
	return buf_finish(&b, rc);
}

char *text_json_safe(const char *json)
{
	const unsigned char *p = (const unsigned char *)json;
	size_t n = json != NULL ? strlen(json) : 0, i = 0, start = 0, k;
	uint32_t cp = 0;
	char esc[16];
	struct buf b;
	int rc = DS_OK;

	/* \uXXXX (6 bytes) replaces at least 1 byte; U+FFFD (3 bytes) replaces 1. */
	buf_init(&b, n > (SIZE_MAX - 1) / 6 ? SIZE_MAX - 1 : n * 6);
	while (i < n && rc == DS_OK) {
		k = text_utf8_seq(p + i, n - i, &cp);
		if (k != 0 && (cp < 0x7F || !text_cp_unsafe(cp, 0))) {
			i += k;
			continue;
		}
		rc = buf_append(&b, json + start, i - start);
		if (rc == DS_OK && k == 0) {
			rc = buf_append(&b, TEXT_REPLACEMENT, 3);
			k = 1;
		} else if (rc == DS_OK) {
			snprintf(esc, sizeof(esc), "\\u%04x", (unsigned)cp);
			rc = buf_append(&b, esc, 6);
		}
		i += k;
		start = i;
	}
	if (rc == DS_OK)
		rc = buf_append(&b, json + start, n - start);
	return buf_finish(&b, rc);
}

/* One conversion of text_vbprintf: spec is "%...c" (at most 31 bytes). */
static int text_conv(struct buf *b, const char *spec, size_t len, va_list *ap)
{
	char f[32], conv = spec[len - 1], *clean = NULL;
	int star[2], nstar = 0, rc;
	size_t i;
	const char *lm;

	if (len >= sizeof(f))
		return DS_EINVAL;
	memcpy(f, spec, len);
	f[len] = '\0';
	for (i = 0; i < len; i++)
		if (f[i] == '*')
			star[nstar < 2 ? nstar++ : 1] = va_arg(*ap, int);
	/* the length modifier: the characters between the precision and the conversion */
	for (lm = f + len - 1; lm > f && strchr("hlzjtL", lm[-1]) != NULL; lm--)
		;
#define TEXT_FMT(v)                                                                     \
	(nstar == 2 ? buf_printf(b, f, star[0], star[1], v)                              \
	 : nstar == 1 ? buf_printf(b, f, star[0], v) : buf_printf(b, f, v))
	/* -Wformat cannot see through the built format; the types follow the modifier exactly. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#pragma GCC diagnostic ignored "-Wformat-security"
	switch (conv) {
	case 'd':
	case 'i':
		if (strncmp(lm, "ll", 2) == 0) rc = TEXT_FMT(va_arg(*ap, long long));
		else if (*lm == 'l') rc = TEXT_FMT(va_arg(*ap, long));
		else if (*lm == 'z') rc = TEXT_FMT(va_arg(*ap, ptrdiff_t));
		else if (*lm == 'j') rc = TEXT_FMT(va_arg(*ap, intmax_t));
		else if (*lm == 't') rc = TEXT_FMT(va_arg(*ap, ptrdiff_t));
		else rc = TEXT_FMT(va_arg(*ap, int));
		break;
	case 'u':
	case 'x':
	case 'X':
	case 'o':
		if (strncmp(lm, "ll", 2) == 0) rc = TEXT_FMT(va_arg(*ap, unsigned long long));
		else if (*lm == 'l') rc = TEXT_FMT(va_arg(*ap, unsigned long));
		else if (*lm == 'z') rc = TEXT_FMT(va_arg(*ap, size_t));
		else if (*lm == 'j') rc = TEXT_FMT(va_arg(*ap, uintmax_t));
		else if (*lm == 't') rc = TEXT_FMT(va_arg(*ap, size_t));
		else rc = TEXT_FMT(va_arg(*ap, unsigned));
		break;
	case 'f': case 'F': case 'e': case 'E': case 'g': case 'G': case 'a': case 'A':
		if (*lm == 'L') rc = TEXT_FMT(va_arg(*ap, long double));
		else rc = TEXT_FMT(va_arg(*ap, double));
		break;
	case 'c': {
		int c = va_arg(*ap, int);
		char one[2] = { (char)c, '\0' };

		/* a single byte: cleaned like a one-byte string */
		clean = text_clean_dupn(one, 1, 0);
		f[len - 1] = 's';
		rc = clean == NULL ? DS_ENOMEM : TEXT_FMT(clean);
		break;
	}
	case 's': {
		const char *s = va_arg(*ap, const char *);

		const char *dot = strchr(f, '.');
		long prec = -1;
		size_t cut;

		clean = text_clean_dup(s != NULL ? s : "(null)", 0);
		if (dot != NULL)
			prec = dot[1] == '*' ? star[nstar - 1] : strtol(dot + 1, NULL, 10);
		/* a precision counts bytes: cut at a character boundary so no sequence is split */
		if (clean != NULL && prec >= 0 && strlen(clean) > (size_t)prec) {
			for (cut = (size_t)prec; cut > 0 && ((unsigned char)clean[cut] & 0xC0) == 0x80; cut--)
				;
			clean[cut] = '\0';
		}
		rc = clean == NULL ? DS_ENOMEM : TEXT_FMT(clean);
		break;
	}
	case 'p':
		rc = TEXT_FMT(va_arg(*ap, void *));
		break;
	case '%':
		rc = buf_append(b, "%", 1);
		break;
	default:
		rc = DS_EINVAL;
		break;
	}
#pragma GCC diagnostic pop
#undef TEXT_FMT
	free(clean);
	return rc;
}

int text_vbprintf(struct buf *b, const char *fmt, va_list ap)
{
	const char *p = fmt, *q;
	int rc = DS_OK;
	va_list cp;

	va_copy(cp, ap);
	while (*p != '\0' && rc == DS_OK) {
		q = strchr(p, '%');
		if (q == NULL) {
			rc = buf_puts(b, p);
			break;
		}
		rc = buf_append(b, p, (size_t)(q - p));
		if (rc != DS_OK)
			break;
		/* the conversion ends at its first conversion letter (or '%') */
		for (p = q + 1; *p != '\0' && strchr("diuxXocspfFeEgGaA%n", *p) == NULL; p++)
			;
		if (*p == '\0' || *p == 'n') {
			rc = DS_EINVAL;
			break;
		}
		p++;
		rc = text_conv(b, q, (size_t)(p - q), &cp);
	}
	va_end(cp);
	return rc;
}

int text_bprintf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = text_vbprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

static int text_vfprintf(FILE *out, const char *fmt, va_list ap)
{
	struct buf b;
	int rc;

	buf_init(&b, (size_t)1 << 24);
	rc = text_vbprintf(&b, fmt, ap);
	if (rc == DS_OK && b.len > 0 && fwrite(b.data, 1, b.len, out) != b.len)
		rc = DS_EIO;
	rc = rc == DS_OK ? (int)(b.len > INT32_MAX ? INT32_MAX : b.len) : EOF;
	buf_free(&b);
	return rc;
}

int text_fprintf(FILE *out, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = text_vfprintf(out, fmt, ap);
	va_end(ap);
	return rc;
}

int text_printf(const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = text_vfprintf(stdout, fmt, ap);
	va_end(ap);
	return rc;
}
