/* fuzz_engine_json.c - libFuzzer target for the heap engine's document reader (engine_json.c): any bytes
 * read as an engine document, then (when accepted) classified and rendered as the analyze JSON with and
 * without probable false roots, and bucketed. Rejections are fine; crashes, leaks and sanitizer reports
 * are bugs. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/heap_analyze.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct heap_analysis a;
	char *js, *key = NULL, *title = NULL;

	memset(&a, 0, sizeof(a));
	if (heap_analyze_document((const char *)data, size, &a) == 0) {
		js = heap_analysis_to_json("fuzz", NULL, &a, NULL, NULL, 1, 0);
		free(js);
		js = heap_analysis_to_json("fuzz", NULL, &a, NULL, NULL, 0, 1);
		free(js);
		if (heap_crash_bucket("app", "1.0", &a, NULL, &key, &title) == 0) {
			free(key);
			free(title);
		}
	}
	heap_analysis_free(&a);
	return 0;
}
