/* table.c - aligned text columns, CSV and JSON output for the CLI (see table.h). Everything printed
 * from the database may be hostile: text and CSV output go through the one sanitiser (core/text.h),
 * CSV output quotes and guards formulas, JSON output is escaped by cJSON and made safe by
 * text_json_safe. It decides no colours or widths by itself. */
#include "table.h"
#include "lib/when.h"
#include "core/carr.h"
#include "core/text.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define TABLE_MAX_CELLS (64u * 1024 * 1024)
#define TABLE_MIN_SHRINK 8

static const char *const table_ansi[] = { "", "\033[31m", "\033[32m", "\033[33m", "\033[2m", "\033[1m" };

void table_init(struct table *t, const struct table_col *cols, size_t ncols, int mode)
{
	memset(t, 0, sizeof(*t));
	t->cols = cols;
	t->ncols = ncols;
	t->mode = mode;
}

void table_free(struct table *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->ncells; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->colors);
	t->cells = NULL;
	t->colors = NULL;
	t->ncells = t->cap = t->colors_cap = 0;
}

/* Appends an already allocated cell (taken over, also on error). */
static int table_push(struct table *t, char *s)
{
	int rc = DS_OK;

	if (s == NULL) {
		rc = DS_ENOMEM;
		goto out;
	}
	rc = carr_reserve(&t->cells, &t->cap, t->ncells, sizeof(*t->cells), TABLE_MAX_CELLS);
	if (rc == DS_OK)
		rc = carr_reserve(&t->colors, &t->colors_cap, t->ncells, sizeof(*t->colors), TABLE_MAX_CELLS);
	if (rc != DS_OK)
		goto out;
	t->colors[t->ncells] = (unsigned char)t->next_color;
	t->cells[t->ncells++] = s;
	s = NULL;
out:
	t->next_color = TABLE_PLAIN;
	free(s);
	return rc;
}

int table_cell(struct table *t, const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;
	char *c = malloc(n + 1);

	if (c != NULL) {
		memcpy(c, s != NULL ? s : "", n);
		c[n] = '\0';
	}
	return table_push(t, c);
}

int table_cellf(struct table *t, const char *fmt, ...)
{
	va_list ap;
	char small[256], *c;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return table_push(t, NULL);
	if ((size_t)n < sizeof(small))
		return table_cell(t, small);
	c = malloc((size_t)n + 1);
	if (c != NULL) {
		va_start(ap, fmt);
		vsnprintf(c, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	return table_push(t, c);
}

int table_cell_time(struct table *t, int64_t ms)
{
	char buf[40];

	if (ms <= 0)
		return table_cell(t, "");
	when_format(ms, t->mode == TABLE_CSV, buf, sizeof(buf));
	return table_cell(t, buf);
}

void table_format_size(int64_t bytes, char *dst, size_t n)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = (double)bytes;
	size_t u = 0;

	if (bytes < 1024) {
		snprintf(dst, n, "%lld B", (long long)bytes);
		return;
	}
	v /= 1024;
	while (v >= 1024 && u + 1 < DS_ARRAY_LEN(units)) {
		v /= 1024;
		u++;
	}
	snprintf(dst, n, v < 10 ? "%.1f %s" : "%.0f %s", v, units[u]);
}

int table_cell_size(struct table *t, int64_t bytes)
{
	char buf[40];

	if (t->mode == TABLE_CSV)
		return table_cellf(t, "%lld", (long long)bytes);
	table_format_size(bytes, buf, sizeof(buf));
	return table_cell(t, buf);
}

void table_color(struct table *t, int color)
{
	t->next_color = color >= 0 && (size_t)color < DS_ARRAY_LEN(table_ansi) ? color : TABLE_PLAIN;
}

size_t table_rows(const struct table *t)
{
	return t->ncols ? t->ncells / t->ncols : 0;
}

size_t table_text_width(const char *s)
{
	return text_width(s);
}

void table_puts_clean(FILE *out, const char *s, int keep_nl)
{
	text_fputs(s, out, keep_nl ? TEXT_KEEP_NL : 0);
}

/* Writes at most w columns of s (cleaned), cutting with an ellipsis when it is wider. Returns the
 * columns written. */
static size_t table_put_cut(FILE *out, const char *s, size_t w)
{
	size_t full = table_text_width(s), col = 0, i;
	char *c;

	if (full <= w) {
		table_puts_clean(out, s, 0);
		return full;
	}
	if (w == 0)
		return 0;
	/* cut the cleaned text (one column per character) so the cut never splits a character */
	c = text_clean_dup(s, 0);
	if (c == NULL)
		return 0;
	for (i = 0; c[i] != '\0'; i++) {
		if (((unsigned char)c[i] & 0xC0) != 0x80) {
			if (col == w - 1)
				break;
			col++;
		}
	}
	fwrite(c, 1, i, out);
	free(c);
	fputs("\xe2\x80\xa6", out); /* U+2026 HORIZONTAL ELLIPSIS */
	return w;
}

static void table_pad(FILE *out, size_t n)
{
	while (n-- > 0)
		fputc(' ', out);
}

static int table_print_text(const struct table *t, FILE *out, int width, int color)
{
	size_t *w, *minw, i, r, rows = table_rows(t), total, excess, best;
	int rc = DS_OK;

	w = calloc(t->ncols, sizeof(*w));
	minw = calloc(t->ncols, sizeof(*minw));
	if (w == NULL || minw == NULL) {
		rc = DS_ENOMEM;
		goto out;
	}
	for (i = 0; i < t->ncols; i++) {
		w[i] = table_text_width(t->cols[i].name);
		minw[i] = w[i] > TABLE_MIN_SHRINK ? w[i] : TABLE_MIN_SHRINK;
	}
	for (r = 0; r < rows; r++)
		for (i = 0; i < t->ncols; i++) {
			size_t cw = table_text_width(t->cells[r * t->ncols + i]);
			if (cw > w[i])
				w[i] = cw;
		}
	total = 2 * (t->ncols - 1);
	for (i = 0; i < t->ncols; i++)
		total += w[i];
	excess = width > 0 && total > (size_t)width ? total - (size_t)width : 0;
	/* Take one column at a time from the widest shrinkable column until it fits or nothing shrinks. */
	while (excess > 0) {
		best = t->ncols;
		for (i = 0; i < t->ncols; i++)
			if (t->cols[i].shrink && w[i] > minw[i] && (best == t->ncols || w[i] > w[best]))
				best = i;
		if (best == t->ncols)
			break;
		w[best]--;
		excess--;
	}
	for (r = 0; r <= rows; r++) {
		for (i = 0; i < t->ncols; i++) {
			const char *s = r == 0 ? t->cols[i].name : t->cells[(r - 1) * t->ncols + i];
			int col = r == 0 ? TABLE_BOLD : (int)t->colors[(r - 1) * t->ncols + i];
			size_t cw = table_text_width(s), used;
			int last = i + 1 == t->ncols;

			if (i > 0)
				fputs("  ", out);
			if (t->cols[i].right && cw < w[i])
				table_pad(out, w[i] - cw);
			if (color && col != TABLE_PLAIN)
				fputs(table_ansi[col], out);
			used = table_put_cut(out, s, w[i]);
			if (color && col != TABLE_PLAIN)
				fputs("\033[0m", out);
			if (!t->cols[i].right && !last)
				table_pad(out, w[i] - used);
		}
		fputc('\n', out);
	}
	if (ferror(out))
		rc = DS_EIO;
out:
	free(w);
	free(minw);
	return rc;
}

void table_csv_field(FILE *out, const char *s)
{
	/* cleaned like any text (a CSV file ends up in a terminal too), keeping newlines and tabs */
	char *c = text_clean_dup(s != NULL ? s : "", TEXT_KEEP_NL | TEXT_KEEP_TAB);
	const char *p;
	size_t n = c != NULL ? strlen(c) : 0;
	int quote = n > 0 && (c[0] == ' ' || c[n - 1] == ' ' || strpbrk(c, ",\"\r\n") != NULL);

	if (c == NULL)
		return;
	if (!quote) {
		fwrite(c, 1, n, out);
	} else {
		fputc('"', out);
		for (p = c; *p; p++) {
			if (*p == '"')
				fputc('"', out);
			fputc(*p, out);
		}
		fputc('"', out);
	}
	free(c);
}

/* 1 if s would be read as a formula by a spreadsheet and is not simply a number. */
static int table_formula_like(const char *s)
{
	char *end;

	if (s[0] != '=' && s[0] != '+' && s[0] != '-' && s[0] != '@' && s[0] != '\t' && s[0] != '\r')
		return 0;
	if (s[0] == '-' || s[0] == '+') {
		(void)strtod(s, &end);
		if (end != s && *end == '\0')
			return 0;
	}
	return 1;
}

static int table_print_csv(const struct table *t, FILE *out)
{
	size_t i, r, rows = table_rows(t);
	char *guarded;

	for (i = 0; i < t->ncols; i++) {
		if (i)
			fputc(',', out);
		table_csv_field(out, t->cols[i].name);
	}
	fputs("\r\n", out);
	for (r = 0; r < rows; r++) {
		for (i = 0; i < t->ncols; i++) {
			const char *s = t->cells[r * t->ncols + i];

			if (i)
				fputc(',', out);
			if (table_formula_like(s)) {
				guarded = malloc(strlen(s) + 2);
				if (guarded == NULL)
					return DS_ENOMEM;
				guarded[0] = '\'';
				strcpy(guarded + 1, s);
				table_csv_field(out, guarded);
				free(guarded);
			} else {
				table_csv_field(out, s);
			}
		}
		fputs("\r\n", out);
	}
	return ferror(out) ? DS_EIO : DS_OK;
}

int table_print(const struct table *t, FILE *out, int width, int color)
{
	if (t->ncols == 0)
		return DS_OK;
	if (t->mode == TABLE_CSV)
		return table_print_csv(t, out);
	return table_print_text(t, out, width, color);
}

int table_finish(struct table *t, int rc, FILE *out, int width, int color, const char *none)
{
	if (rc == DS_OK && t->mode == TABLE_TEXT && table_rows(t) == 0)
		fprintf(out, "%s\n", none);
	else if (rc == DS_OK)
		rc = table_print(t, out, width, color);
	table_free(t);
	return rc;
}

int table_print_json(FILE *out, const cJSON *v)
{
	char *s = cJSON_Print(v), *safe;
	int rc = DS_OK;

	if (s == NULL)
		return DS_ENOMEM;
	/* valid UTF-8, and no C1 or bidi control raw on a terminal (core/text.h) */
	safe = text_json_safe(s);
	if (safe == NULL)
		rc = DS_ENOMEM;
	else if (fputs(safe, out) < 0 || fputc('\n', out) == EOF)
		rc = DS_EIO;
	free(safe);
	cJSON_free(s);
	return rc;
}

int table_mode_arg(const char *a, int *mode)
{
	if (strcmp(a, "--json") == 0)
		*mode = TABLE_JSON;
	else if (strcmp(a, "--csv") == 0)
		*mode = TABLE_CSV;
	else
		return 0;
	return 1;
}

