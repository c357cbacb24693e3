/* test_text.c - the human-facing text sanitiser and the JSON UTF-8 repair (core/text.c). Expected
 * values come from the Unicode and ECMA-48 definitions: which code points are C0/C1 controls and bidi
 * controls, and how UTF-8 encodes them (RFC 3629). */
#include "t.h"

#include <cjson/cJSON.h>

#include "core/text.h"

static char t_out[512];

static const char *clean(const char *s, int flags)
{
	text_clean(t_out, sizeof(t_out), s, flags);
	return t_out;
}

TEST(c0_and_del_become_question_marks)
{
	CHECK_STR(clean("a\x1b[31mred\x07", 0), "a?[31mred?");
	CHECK_STR(clean("x\x7fy", 0), "x?y");
	CHECK_STR(clean("l1\r\nl2\tz", 0), "l1??l2?z");
	CHECK_STR(clean("l1\r\nl2\tz", TEXT_KEEP_NL | TEXT_KEEP_TAB), "l1?\nl2\tz");
	/* OSC 8 hyperlink: ESC ] 8 ;; url ESC \ - every ESC goes */
	CHECK_STR(clean("\x1b]8;;http://x\x1b\\a", 0), "?]8;;http://x?\\a");
}

TEST(c1_controls_become_question_marks)
{
	/* U+009B CSI (C2 9B), U+009D OSC (C2 9D), U+0085 NEL (C2 85), U+0080 and U+009F at the edges */
	CHECK_STR(clean("a\xc2\x9b" "31mb", 0), "a?31mb");
	CHECK_STR(clean("\xc2\x9d" "0;t\xc2\x9c", 0), "?0;t?");
	CHECK_STR(clean("\xc2\x80\xc2\x85\xc2\x9f", 0), "???");
	/* U+00A0 and U+00E9 just past the C1 range stay */
	CHECK_STR(clean("\xc2\xa0\xc3\xa9", 0), "\xc2\xa0\xc3\xa9");
}

TEST(bidi_controls_and_separators_become_question_marks)
{
	/* U+202E RLO (E2 80 AE), U+202A LRE, U+2066 LRI (E2 81 A6), U+2069 PDI (E2 81 A9), U+200F RLM,
	 * U+061C ALM (D8 9C), U+2028 LS (E2 80 A8), U+2029 PS */
	CHECK_STR(clean("evil\xe2\x80\xae" "txt.exe", 0), "evil?txt.exe");
	CHECK_STR(clean("\xe2\x80\xaa\xe2\x81\xa6\xe2\x81\xa9\xe2\x80\x8f\xd8\x9c", 0), "?????");
	CHECK_STR(clean("a\xe2\x80\xa8" "b\xe2\x80\xa9", TEXT_KEEP_NL), "a?b?");
	/* Neighbours that are ordinary: U+2026 ellipsis, U+2065 (unassigned but not a control), U+202F */
	CHECK_STR(clean("\xe2\x80\xa6\xe2\x80\xaf", 0), "\xe2\x80\xa6\xe2\x80\xaf");
}

TEST(invalid_utf8_becomes_replacement_characters)
{
	CHECK_STR(clean("a\xff" "b", 0), "a\xef\xbf\xbd" "b");
	/* overlong '/' (C0 AF), a surrogate (ED A0 80), past U+10FFFF (F4 90 80 80), a cut sequence */
	CHECK_STR(clean("\xc0\xaf", 0), "\xef\xbf\xbd\xef\xbf\xbd");
	CHECK_STR(clean("\xed\xa0\x80", 0), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	CHECK_STR(clean("\xf4\x90\x80\x80", 0), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	CHECK_STR(clean("ab\xe2\x82", 0), "ab\xef\xbf\xbd\xef\xbf\xbd");
	/* An overlong ESC (C1 9B would be U+005B '['; C0 9B is an overlong ESC-free byte pair) */
	CHECK_STR(clean("\xc0\x9b", 0), "\xef\xbf\xbd\xef\xbf\xbd");
	/* valid 4-byte: U+1F600 */
	CHECK_STR(clean("\xf0\x9f\x98\x80", 0), "\xf0\x9f\x98\x80");
}

TEST(cut_at_character_boundary)
{
	char small[5];

	CHECK_INT(text_clean(small, sizeof(small), "ab\xc3\xa9\xc3\xa9", 0), 4);
	CHECK_STR(small, "ab\xc3\xa9");
	CHECK_INT(text_clean(small, sizeof(small), "abc\xe2\x82\xac", 0), 3);
	CHECK_STR(small, "abc");
	CHECK_INT(text_clean(small, 1, "abc", 0), 0);
	CHECK_STR(small, "");
	CHECK_INT(text_clean(small, sizeof(small), NULL, 0), 0);
}

TEST(buf_dup_and_stream_agree)
{
	const char *in = "p\x1b[2Jq\xc2\x9b\xe2\x80\xae\xffz\n";
	const char *want = "p?[2Jq??\xef\xbf\xbdz?";
	struct buf b;
	char *d, mem[64] = { 0 };
	FILE *f;

	buf_init(&b, 1024);
	CHECK_INT(text_clean_buf(&b, in, strlen(in), 0), DS_OK);
	CHECK_STR(b.data, want);
	buf_free(&b);
	d = text_clean_dup(in, 0);
	CHECK_STR(d, want);
	free(d);
	CHECK(text_clean_dup(NULL, 0) == NULL);
	f = fmemopen(mem, sizeof(mem) - 1, "w");
	if (f != NULL) {
		CHECK_INT(text_fputs(in, f, 0), 0);
		fclose(f);
		CHECK_STR(mem, want);
	}
	CHECK_INT(text_width(in), 11);
	CHECK(!text_is_clean(in, 0));
	CHECK(text_is_clean(want, 0));
	CHECK(text_is_clean("a\nb", TEXT_KEEP_NL));
	CHECK(!text_is_clean("a\nb", 0));
}

TEST(buf_cap_is_honoured)
{
	struct buf b;

	buf_init(&b, 4);
	CHECK_INT(text_clean_buf(&b, "abcdef", 6, 0), DS_ETOOBIG);
	buf_free(&b);
}

TEST(utf8_fix_keeps_controls_replaces_bad_bytes)
{
	char *d = text_utf8_fix("a\x1b\xc2\x9b\xff\xe2\x82" "b", 8);

	CHECK_STR(d, "a\x1b\xc2\x9b\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" "b");
	CHECK(text_utf8_valid(d, strlen(d)));
	CHECK(!text_utf8_valid("\xff", 1));
	CHECK(text_utf8_valid("a\0b", 3));
	free(d);
}

TEST(json_safe_escapes_inside_strings_only)
{
	cJSON *o = cJSON_CreateObject(), *back;
	char *printed, *safe;
	const char *name = "x\x1b]0;pwn\x07\xc2\x9b" "2J\xe2\x80\xae\x7f\xff" "end";

	cJSON_AddStringToObject(o, "file", name);
	cJSON_AddNumberToObject(o, "n", 1);
	printed = cJSON_Print(o);
	safe = text_json_safe(printed);
	CHECK(safe != NULL);
	if (safe != NULL) {
		size_t i;

		CHECK(text_utf8_valid(safe, strlen(safe)));
		/* No raw ESC, BEL, DEL, C1 or bidi byte sequence is left. */
		for (i = 0; safe[i]; i++) {
			unsigned char c = (unsigned char)safe[i];

			CHECK(c >= 0x20 || c == '\n' || c == '\t');
			CHECK(c != 0x7f);
			CHECK(!(c == 0xc2 && (unsigned char)safe[i + 1] < 0xa0));
		}
		CHECK(strstr(safe, "\\u009b") != NULL);
		CHECK(strstr(safe, "\\u202e") != NULL);
		CHECK(strstr(safe, "\\u007f") != NULL);
		back = cJSON_Parse(safe);
		CHECK(back != NULL);
		/* The same string, except the one invalid byte, which is now U+FFFD. */
		CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(back, "file")),
			  "x\x1b]0;pwn\x07\xc2\x9b" "2J\xe2\x80\xae\x7f\xef\xbf\xbd" "end");
		CHECK_INT(cJSON_GetNumberValue(cJSON_GetObjectItem(back, "n")), 1);
		cJSON_Delete(back);
	}
	free(printed);
	free(safe);
	cJSON_Delete(o);
}

TEST(printf_cleans_arguments_not_the_format)
{
	struct buf b;

	buf_init(&b, 4096);
	CHECK_INT(text_bprintf(&b, "\x1b[1m%s\x1b[0m|%-6s|%5.2s|%d %u %lld %llx %zu %.1f %c%%\n", "a\x1b]0;x\x07",
				"\xc2\x9b", "\xc3\xa9\xc3\xa9", -3, 7u, -9ll, 0xabcull, (size_t)12, 2.25, '\x1b'), DS_OK);
	/* the format's own escapes and newline stay; the arguments' controls do not; the precision 2 keeps
	 * one whole e-acute (2 bytes) */
	CHECK_STR(b.data, "\x1b[1ma?]0;x?\x1b[0m|?     |   \xc3\xa9|-3 7 -9 abc 12 2.2 ?%\n");
	buf_reset(&b);
	CHECK_INT(text_bprintf(&b, "%.*s|%*d|", 3, "ab\xe2\x82\xac", 4, 5), DS_OK);
	CHECK_STR(b.data, "ab|   5|");
	buf_reset(&b);
	/* an injected line break in a value cannot start a new mail header or log line */
	CHECK_INT(text_bprintf(&b, "Subject: %s\n", "x\r\nBcc: evil@example.com"), DS_OK);
	CHECK_STR(b.data, "Subject: x??Bcc: evil@example.com\n");
	buf_free(&b);
}

int main(void)
{
	RUN(c0_and_del_become_question_marks);
	RUN(c1_controls_become_question_marks);
	RUN(bidi_controls_and_separators_become_question_marks);
	RUN(invalid_utf8_becomes_replacement_characters);
	RUN(cut_at_character_boundary);
	RUN(buf_dup_and_stream_agree);
	RUN(buf_cap_is_honoured);
	RUN(utf8_fix_keeps_controls_replaces_bad_bytes);
	RUN(json_safe_escapes_inside_strings_only);
	RUN(printf_cleans_arguments_not_the_format);
	return t_total_failed != 0;
}
