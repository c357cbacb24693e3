/* test_cli_table.c - the CLI's output helpers: CSV quoting (RFC 4180) and the formula guard, aligned
 * text that fits a width, control characters from hostile data made inert, and the time parsing and
 * formatting behind --since/--until. */
#include "t.h"
#include "cli/table.h"
#include "lib/when.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Runs table_print (or fn) into a memory buffer via tmpfile; returns a malloc'd string. */
static char *t_render(const struct table *t, int width, int color)
{
	FILE *f = tmpfile();
	char *s;
	long n;

	table_print(t, f, width, color);
	n = ftell(f);
	rewind(f);
	s = calloc((size_t)n + 1, 1);
	if (fread(s, 1, (size_t)n, f) != (size_t)n)
		s[0] = '\0';
	fclose(f);
	return s;
}

static const struct table_col cols2[] = { { "NAME", 0, 1 }, { "N", 1, 0 } };

TEST(csv_quoting)
{
	struct table t;
	char *out;

	table_init(&t, cols2, 2, TABLE_CSV);
	table_cell(&t, "plain");
	table_cell(&t, "1");
	table_cell(&t, "a,b");
	table_cell(&t, "say \"hi\"");
	table_cell(&t, "two\nlines");
	table_cell(&t, " padded ");
	table_cell(&t, "=HYPERLINK(\"http://x\")");
	table_cell(&t, "-42");
	table_cell(&t, "@SUM(A1)");
	table_cell(&t, "+1.5e3");
	table_cell(&t, "");
	table_cell(&t, NULL);
	out = t_render(&t, 0, 0);
	CHECK_STR(out, "NAME,N\r\n"
		       "plain,1\r\n"
		       "\"a,b\",\"say \"\"hi\"\"\"\r\n"
		       "\"two\nlines\",\" padded \"\r\n"
		       "\"'=HYPERLINK(\"\"http://x\"\")\",-42\r\n"
		       "'@SUM(A1),+1.5e3\r\n"
		       ",\r\n");
	free(out);
	table_free(&t);
}

TEST(text_alignment_and_width)
{
	static const struct table_col cols[] = { { "ID", 1, 0 }, { "TITLE", 0, 1 }, { "APP", 0, 0 } };
	struct table t;
	char *out, *line, *save = NULL;
	int lines = 0;

	table_init(&t, cols, 3, TABLE_TEXT);
	table_cell(&t, "7");
	table_cell(&t, "a rather long bucket title that will not fit in thirty columns");
	table_cell(&t, "svc");
	table_cell(&t, "1234");
	table_cell(&t, "short");
	table_cell(&t, "svc2");
	CHECK_INT(table_rows(&t), 2);
	out = t_render(&t, 0, 0);
	CHECK(strstr(out, "  ID  TITLE") == out);
	CHECK(strstr(out, "   7  a rather long bucket title that will not fit in thirty columns  svc\n") != NULL);
	CHECK(strstr(out, "1234  short") != NULL);
	free(out);
	out = t_render(&t, 30, 0);
	for (line = strtok_r(out, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		CHECK(table_text_width(line) <= 30);
		lines++;
	}
	CHECK_INT(lines, 3);
	free(out);
	out = t_render(&t, 30, 0);
	CHECK(strstr(out, "\xe2\x80\xa6") != NULL); /* cut with an ellipsis */
	CHECK(strstr(out, "svc2") != NULL);        /* unshrinkable columns stay whole */
	free(out);
	out = t_render(&t, 0, 1);
	CHECK(strstr(out, "\033[1m") != NULL);     /* colour only when asked */
	free(out);
	table_free(&t);
}

TEST(hostile_text_is_inert)
{
	struct table t;
	char *out;
	FILE *f;
	char buf[64] = "";

	table_init(&t, cols2, 2, TABLE_TEXT);
	table_cell(&t, "evil\033]0;pwned\007\033[2J");
	table_cell(&t, "1\r\n2");
	out = t_render(&t, 0, 0);
	CHECK(strchr(out, '\033') == NULL);
	CHECK(strchr(out, '\007') == NULL);
	CHECK(strchr(out, '\r') == NULL);
	CHECK(strstr(out, "evil?]0;pwned??[2J") != NULL);
	free(out);
	table_free(&t);
	f = tmpfile();
	table_puts_clean(f, "a\tb\nc\033", 1);
	rewind(f);
	CHECK(fgets(buf, sizeof(buf), f) != NULL);
	CHECK_STR(buf, "a?b\n");
	fclose(f);
}

TEST(utf8_width)
{
	CHECK_INT(table_text_width("abc"), 3);
	CHECK_INT(table_text_width("\xc3\xa9t\xc3\xa9"), 3); /* "été" */
	CHECK_INT(table_text_width(""), 0);
	CHECK_INT(table_text_width(NULL), 0);
}

TEST(sizes)
{
	char b[32];

	table_format_size(0, b, sizeof(b));
	CHECK_STR(b, "0 B");
	table_format_size(1023, b, sizeof(b));
	CHECK_STR(b, "1023 B");
	table_format_size(1536, b, sizeof(b));
	CHECK_STR(b, "1.5 KiB");
	table_format_size(71073792, b, sizeof(b));
	CHECK_STR(b, "68 MiB");
	table_format_size(20LL * 1024 * 1024 * 1024, b, sizeof(b));
	CHECK_STR(b, "20 GiB");
}

TEST(when_parse_forms)
{
	int64_t now = 1714564800000LL, v = 0; /* 2024-05-01T12:00:00Z */

	CHECK_INT(when_parse("24h", now, &v), DS_OK);
	CHECK_INT(v, now - 86400000LL);
	CHECK_INT(when_parse("7d", now, &v), DS_OK);
	CHECK_INT(v, now - 7 * 86400000LL);
	CHECK_INT(when_parse("30m", now, &v), DS_OK);
	CHECK_INT(v, now - 1800000LL);
	CHECK_INT(when_parse("2w", now, &v), DS_OK);
	CHECK_INT(v, now - 14 * 86400000LL);
	CHECK_INT(when_parse("2024-05-01", now, &v), DS_OK);
	CHECK_INT(v, 1714521600000LL);
	CHECK_INT(when_parse("2024-05-01T12:00", now, &v), DS_OK);
	CHECK_INT(v, now);
	CHECK_INT(when_parse("2024-05-01 12:00:30Z", now, &v), DS_OK);
	CHECK_INT(v, now + 30000);
	CHECK_INT(when_parse("2000-02-29", now, &v), DS_OK);
	CHECK_INT(v, 951782400000LL);
	CHECK_INT(when_parse("1970-01-01", now, &v), DS_OK);
	CHECK_INT(v, 0);
	/* rejected */
	CHECK_INT(when_parse("2023-02-29", now, &v), DS_EINVAL);
	CHECK_INT(when_parse("2024-13-01", now, &v), DS_EINVAL);
	CHECK_INT(when_parse("2024-05-01T24:00", now, &v), DS_EINVAL);
	CHECK_INT(when_parse("yesterday", now, &v), DS_EINVAL);
	CHECK_INT(when_parse("7", now, &v), DS_EINVAL);
	CHECK_INT(when_parse("7dd", now, &v), DS_EINVAL);
	CHECK_INT(when_parse("-7d", now, &v), DS_EINVAL);
	CHECK_INT(when_parse("", now, &v), DS_EINVAL);
	CHECK_INT(when_parse("99999999999d", now, &v), DS_EINVAL);
	CHECK_INT(when_parse("2024-05-01junk", now, &v), DS_EINVAL);
}

TEST(when_format_forms)
{
	char b[40];

	when_format(1714564800000LL, 0, b, sizeof(b));
	CHECK_STR(b, "2024-05-01 12:00");
	when_format(1714564805000LL, 1, b, sizeof(b));
	CHECK_STR(b, "2024-05-01T12:00:05Z");
	when_format(0, 0, b, sizeof(b));
	CHECK_STR(b, "-");
	when_format(0, 1, b, sizeof(b));
	CHECK_STR(b, "");
	when_format_day(19844, b, sizeof(b));
	CHECK_STR(b, "2024-05-01");
	when_format_span(45000, b, sizeof(b));
	CHECK_STR(b, "45s");
	when_format_span(3 * 3600000LL, b, sizeof(b));
	CHECK_STR(b, "3h");
	when_format_span(5 * 86400000LL, b, sizeof(b));
	CHECK_STR(b, "5d");
}

int main(void)
{
	RUN(csv_quoting);
	RUN(text_alignment_and_width);
	RUN(hostile_text_is_inert);
	RUN(utf8_width);
	RUN(sizes);
	RUN(when_parse_forms);
	RUN(when_format_forms);
	return t_total_failed != 0;
}
