/* test_core.c - the capped buffer, the capped array, the text cursor and the error helpers. */
#include "t.h"
#include "core/buf.h"
#include "core/carr.h"
#include "core/cursor.h"
#include "core/ds.h"

TEST(buf_respects_ceiling)
{
	struct buf b;

	buf_init(&b, 8);
	CHECK_INT(buf_puts(&b, "12345678"), DS_OK);
	CHECK_INT(buf_puts(&b, "9"), DS_ETOOBIG);
	CHECK_INT(b.len, 8);
	CHECK_STR(b.data, "12345678");
	CHECK_INT(buf_printf(&b, "%d", 1), DS_ETOOBIG);
	buf_free(&b);
}

TEST(buf_printf_grows_and_steal_empties)
{
	struct buf b;
	char *s;
	int i;

	buf_init(&b, 1 << 20);
	for (i = 0; i < 1000; i++)
		CHECK_INT(buf_printf(&b, "%04d,", i), DS_OK);
	CHECK_INT(b.len, 5000);
	CHECK(memcmp(b.data + 4995, "0999,", 5) == 0);
	s = buf_steal(&b);
	CHECK(s != NULL && strlen(s) == 5000);
	CHECK(b.data == NULL && b.len == 0);
	free(s);
	s = buf_steal(&b);
	CHECK_STR(s, "");
	free(s);
}

TEST(cursor_lines_strip_crlf)
{
	const char text[] = "one\r\ntwo\nthree";
	struct cursor c;
	struct span l;

	cursor_init(&c, text, sizeof(text) - 1);
	CHECK_INT(cursor_line(&c, &l), 0);
	CHECK(span_eq(l, "one"));
	CHECK_INT(cursor_line(&c, &l), 0);
	CHECK(span_eq(l, "two"));
	CHECK_INT(cursor_line(&c, &l), 0);
	CHECK(span_eq(l, "three"));
	CHECK_INT(cursor_line(&c, &l), -1);
}

TEST(cursor_hex_forms)
{
	struct cursor c;
	uint64_t v = 0;
	size_t nd = 0;

	cursor_init(&c, "0x1F ", 5);
	CHECK_INT(cursor_hex(&c, &v, &nd), 0);
	CHECK_U64(v, 0x1f);
	cursor_init(&c, "00000001`7ff8ab00 x", 19);
	CHECK_INT(cursor_hex(&c, &v, &nd), 0);
	CHECK_U64(v, 0x17ff8ab00ULL);
	CHECK_INT(nd, 16);
	CHECK_INT(*c.p, ' ');
	cursor_init(&c, "ffffffffffffffff0", 17);
	CHECK_INT(cursor_hex(&c, &v, &nd), -1); /* 65 bits overflow */
	cursor_init(&c, "zz", 2);
	CHECK_INT(cursor_hex(&c, &v, &nd), -1);
	CHECK(c.p[0] == 'z');
}

TEST(cursor_dec_groups_and_overflow)
{
	struct cursor c;
	uint64_t v = 0;

	cursor_init(&c, "1,234,567 bytes", 15);
	CHECK_INT(cursor_dec(&c, &v), 0);
	CHECK_U64(v, 1234567);
	cursor_init(&c, "99999999999999999999", 20);
	CHECK_INT(cursor_dec(&c, &v), -1);
	cursor_init(&c, ",5", 2);
	CHECK_INT(cursor_dec(&c, &v), -1);
}

TEST(cursor_word_and_literals)
{
	struct cursor c;
	struct span w;

	cursor_init(&c, "  Found 3 unique roots.", 23);
	cursor_skip_space(&c);
	CHECK_INT(cursor_lit_ci(&c, "found"), 0);
	CHECK_INT(cursor_space(&c), 0);
	CHECK_INT(cursor_word(&c, &w, 4), 0);
	CHECK(span_eq(w, "3"));
	CHECK_INT(cursor_space(&c), 0);
	CHECK_INT(cursor_word(&c, &w, 3), -1); /* "unique" is longer than 3 */
	CHECK_INT(cursor_lit(&c, "unique"), 0);
	w.p = "  x y \r";
	w.n = 7;
	w = span_trim(w);
	CHECK(span_eq(w, "x y"));
	CHECK_INT(span_find(w, "y"), 2);
}

TEST(errors_map_to_exit_codes)
{
	struct ds_err e;

	CHECK_INT(ds_exit_code(DS_OK), 0);
	CHECK_INT(ds_exit_code(DS_ECORRUPT), 2);
	CHECK_INT(ds_exit_code(DS_EFORMAT), 2);
	CHECK_INT(ds_exit_code(DS_EIO), 1);
	CHECK_INT(ds_exit_code(DS_EENGINE), 1);
	CHECK_INT(ds_err_set(&e, DS_ECORRUPT, 0x40, "stream %d", 3), DS_ECORRUPT);
	CHECK(e.has_offset && e.offset == 0x40);
	CHECK_STR(e.msg, "stream 3");
	CHECK(strcmp(ds_strerror(DS_ESCHEMA), "unknown error") != 0);
}

struct carr_item {
	int a;
	double b;
};

TEST(carr_grows_zeroed_up_to_its_cap)
{
	struct carr_item *v = NULL;
	size_t cap = 0, n, i;
	int bad = 0;

	for (n = 0; n < 100; n++) {
		CHECK_INT(carr_reserve(&v, &cap, n, sizeof(*v), 100), DS_OK);
		if (v[n].a != 0 || v[n].b != 0.0)
			bad++; /* the new room is zeroed */
		v[n].a = (int)n + 1;
	}
	CHECK_INT(bad, 0);
	CHECK_INT(cap, 100); /* doubling stops at the cap: 8, 16, 32, 64, 100 */
	CHECK_INT(carr_reserve(&v, &cap, 100, sizeof(*v), 100), DS_ETOOBIG);
	CHECK_INT(cap, 100);
	for (i = 0; i < 100; i++)
		if (v[i].a != (int)i + 1)
			bad++;
	CHECK_INT(bad, 0); /* growing kept what was there */
	free(v);
}

TEST(carr_refuses_past_cap_and_overflow)
{
	char *v = NULL;
	size_t cap = 0;

	CHECK_INT(carr_reserve(&v, &cap, 0, 1, 0), DS_ETOOBIG);
	CHECK(v == NULL);
	CHECK_INT(cap, 0);
	/* elements so large that the byte count overflows: refused before any realloc */
	CHECK_INT(carr_reserve(&v, &cap, 0, SIZE_MAX / 4, SIZE_MAX), DS_ETOOBIG);
	CHECK(v == NULL);
	/* room that is already there needs no allocation */
	CHECK_INT(carr_reserve(&v, &cap, 3, 1, 8), DS_OK);
	CHECK_INT(cap, 8);
	CHECK_INT(carr_reserve(&v, &cap, 7, 1, 8), DS_OK);
	CHECK_INT(cap, 8);
	free(v);
}

TEST(cursor_parse_int_whole_strings_only)
{
	int64_t v = 7;

	CHECK_INT(cursor_parse_int("42", 0, 100, &v), DS_OK);
	CHECK_INT(v, 42);
	CHECK_INT(cursor_parse_int("-5", -10, 10, &v), DS_OK);
	CHECK_INT(v, -5);
	v = 7;
	CHECK_INT(cursor_parse_int("0", 1, 100, &v), DS_EINVAL); /* below min */
	CHECK_INT(cursor_parse_int("101", 0, 100, &v), DS_EINVAL);
	CHECK_INT(cursor_parse_int("12a", 0, 100, &v), DS_EINVAL); /* trailing bytes */
	CHECK_INT(cursor_parse_int(" 12", 0, 100, &v), DS_EINVAL);
	CHECK_INT(cursor_parse_int("12\n", 0, 100, &v), DS_EINVAL);
	CHECK_INT(cursor_parse_int("+12", 0, 100, &v), DS_EINVAL);
	CHECK_INT(cursor_parse_int("", 0, 100, &v), DS_EINVAL);
	CHECK_INT(cursor_parse_int("-", -100, 100, &v), DS_EINVAL);
	CHECK_INT(cursor_parse_int(NULL, 0, 100, &v), DS_EINVAL);
	CHECK_INT(v, 7); /* unchanged by every failure */
	CHECK_INT(cursor_parse_int("9223372036854775807", 0, INT64_MAX, &v), DS_OK);
	CHECK(v == INT64_MAX);
	CHECK_INT(cursor_parse_int("9223372036854775808", 0, INT64_MAX, &v), DS_EINVAL); /* overflow */
	CHECK_INT(cursor_parse_int("-9223372036854775808", INT64_MIN, 0, &v), DS_OK);
	CHECK(v == INT64_MIN);
	CHECK_INT(cursor_parse_int("-9223372036854775809", INT64_MIN, 0, &v), DS_EINVAL);
	CHECK_INT(cursor_parse_int("99999999999999999999999", 0, INT64_MAX, &v), DS_EINVAL);
}

int main(void)
{
	RUN(cursor_parse_int_whole_strings_only);
	RUN(buf_respects_ceiling);
	RUN(carr_grows_zeroed_up_to_its_cap);
	RUN(carr_refuses_past_cap_and_overflow);
	RUN(buf_printf_grows_and_steal_empties);
	RUN(cursor_lines_strip_crlf);
	RUN(cursor_hex_forms);
	RUN(cursor_dec_groups_and_overflow);
	RUN(cursor_word_and_literals);
	RUN(errors_map_to_exit_codes);
	return t_total_failed != 0;
}
