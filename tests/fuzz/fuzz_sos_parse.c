/* fuzz_sos_parse.c - libFuzzer target for the SOS text path: the whole-transcript pipeline (session
 * split, the forged-record check, every sos_parse_* parser, the fact model, the classifier, the JSON
 * rendering) over arbitrary bytes. Any crash, leak or sanitizer report is a bug; errors (DS_EPARSE,
 * DS_ETOOBIG) are fine. */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>

#include "analyzer/classify.h"
#include "analyzer/sos_transcript.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct facts f;
	struct classify_result r;
	struct ds_err e = { 0 };
	cJSON *j;

	if (sos_transcript_read((const char *)data, size, &f, &e) == DS_OK) {
		if (classify_facts(&f, &r, &e) == DS_OK) {
			j = classify_to_json(&r, &f, 1);
			cJSON_Delete(j);
		}
		classify_result_free(&r);
	}
	facts_free(&f);
	return 0;
}
