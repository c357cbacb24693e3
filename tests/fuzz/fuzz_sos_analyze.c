/* fuzz_sos_analyze.c - libFuzzer target for the analysis driver's own readers: a saved session fed through
 * sos_analyze_transcript (the fact collector for dumpdomain, dumpmodule -mt, dumpmt, dp, dumpvc, du,
 * dumpclass, dumpheap -mt, gcroot, pe) and rendered as the analyze JSON. The first byte picks the target's
 * pointer size. Errors are fine; crashes, leaks and sanitizer reports are bugs. */
#include <stdint.h>
#include <stdlib.h>

#include "analyzer/sos_analyze.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sos_analysis a;
	struct ds_err e = { 0 };
	char *js;

	if (size < 1)
		return 0;
	if (sos_analyze_transcript((const char *)data + 1, size - 1, (data[0] & 1) ? 4 : 8, &a, &e) == DS_OK) {
		js = sos_analysis_to_json("fuzz", NULL, &a, NULL, 0);
		free(js);
	}
	sos_analysis_free(&a);
	return 0;
}
