/* fuzz_text.c - libFuzzer target for the text sanitiser (core/text.c): over arbitrary bytes, the
 * cleaned text is valid UTF-8 with no C0, DEL, C1, bidi or separator code point, cleaning is idempotent,
 * the fixed-size and stream forms agree with the buffer form, and text_json_safe of any printed JSON
 * string is valid UTF-8 that parses back to the same string (bad bytes as U+FFFD). A failed invariant
 * aborts, which libFuzzer reports as a crash. */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/text.h"

static void fuzz_text_check_clean(const char *s, size_t n, int flags)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k;
	uint32_t cp = 0;

	while (i < n) {
		k = text_utf8_seq(p + i, n - i, &cp);
		if (k == 0 || text_cp_unsafe(cp, flags))
			abort();
		i += k;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, *c, *c2, *fixed, *json = NULL, *safe = NULL, small[17];
	cJSON *str = NULL, *back = NULL;
	int flags = size > 0 ? data[0] & 3 : 0;
	size_t n;

	s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	n = strlen(s);
	c = text_clean_dupn(s, n, flags);
	if (c == NULL)
		goto out;
	fuzz_text_check_clean(c, strlen(c), flags);
	if (!text_is_clean(c, flags))
		abort();
	c2 = text_clean_dup(c, flags);
	if (c2 == NULL || strcmp(c, c2) != 0)
		abort();
	free(c2);
	/* The fixed-size form is a prefix of the full result, cut at a character boundary. */
	text_clean(small, sizeof(small), s, flags);
	if (strncmp(small, c, strlen(small)) != 0 || !text_utf8_valid(small, strlen(small)))
		abort();
	if (text_width(s) != text_width(c))
		abort();
	{
		/* formatted: every argument cleaned, precision never splits a character */
		struct buf fb;

		buf_init(&fb, 1 << 20);
		if (text_bprintf(&fb, "[%s|%.7s|%-9.3s|%.*s]", s, s, s, (int)(n % 11), s) == DS_OK) {
			fuzz_text_check_clean(fb.data, fb.len, 0);
		}
		buf_free(&fb);
	}
	fixed = text_utf8_fix(s, n);
	if (fixed == NULL || !text_utf8_valid(fixed, strlen(fixed)))
		abort();
	str = cJSON_CreateString(s);
	json = str != NULL ? cJSON_PrintUnformatted(str) : NULL;
	safe = json != NULL ? text_json_safe(json) : NULL;
	if (safe != NULL) {
		if (!text_utf8_valid(safe, strlen(safe)))
			abort();
		back = cJSON_Parse(safe);
		if (back == NULL || !cJSON_IsString(back) || strcmp(back->valuestring, fixed) != 0)
			abort();
	}
	free(fixed);
out:
	cJSON_Delete(back);
	cJSON_Delete(str);
	free(json);
	free(safe);
	free(c);
	free(s);
	return 0;
}
