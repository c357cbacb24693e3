/* fuzz_sos_analyze.c - libFuzzer target for the transcript path of `analyze --transcript`: a saved SOS
 * session checked for forged records, read into the fact model (sos_transcript.c), classified and
 * rendered as the analyze JSON. The first byte is skipped (older corpus inputs chose a pointer size with
 * it). Errors are fine; crashes, leaks and sanitizer reports are bugs. */
#include <stdint.h>
#include <stdlib.h>

#include "analyzer/heap_analyze.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct heap_analysis a;
	struct ds_err e = { 0 };
	char *js;

	if (size < 1)
		return 0;
	if (heap_analyze_transcript((const char *)data + 1, size - 1, &a, &e) == DS_OK) {
		js = heap_analysis_to_json("fuzz", NULL, &a, NULL, NULL, data[0] & 1, 0);
		free(js);
	}
	heap_analysis_free(&a);
	return 0;
}
