/* fuzz_sos_parse.c - libFuzzer target for the SOS text path: the whole-transcript pipeline
 * (session split, every sos_parse_* parser, the classifier, the JSON rendering) over arbitrary bytes.
 * Any crash, leak or sanitizer report is a bug; errors (DS_EPARSE, DS_ETOOBIG) are fine. */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>

#include "analyzer/classify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct classify_result r;
	struct ds_err e = { 0 };
	cJSON *j;

	if (classify_transcript((const char *)data, size, &r, &e) == DS_OK) {
		j = classify_to_json(&r);
		cJSON_Delete(j);
	}
	classify_result_free(&r);
	return 0;
}
