/* sos_transcript_main.c - test helper for tests/golden/test_sos_golden.sh: runs classify_transcript over
 * one saved SOS session and prints the classified analysis as JSON (what `dumpscout analyze
 * --transcript` will print). Exit 0 on success, 2 with "FILE: line N: ..." on bad input. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>

#include "analyzer/classify.h"
#include "core/plat.h"

int main(int argc, char **argv)
{
	struct classify_result r;
	struct ds_err e = { 0 };
	char *data = NULL, *s = NULL;
	size_t len = 0;
	cJSON *j = NULL;
	int rc, ex = 2;

	if (argc != 2) {
		fprintf(stderr, "usage: %s TRANSCRIPT\n", argv[0]);
		return 2;
	}
	rc = plat_read_file(argv[1], SOS_MAX_TEXT, &data, &len);
	if (rc != DS_OK) {
		fprintf(stderr, "%s: %s\n", argv[1], ds_strerror(rc));
		return 1;
	}
	rc = classify_transcript(data, len, &r, &e);
	if (rc != DS_OK) {
		fprintf(stderr, "%s: %s\n", argv[1], e.msg[0] ? e.msg : ds_strerror(rc));
		goto out;
	}
	j = classify_to_json(&r);
	s = j ? cJSON_Print(j) : NULL;
	if (s == NULL) {
		fprintf(stderr, "%s: out of memory\n", argv[1]);
		ex = 1;
		goto out;
	}
	printf("%s\n", s);
	ex = 0;
out:
	free(s);
	cJSON_Delete(j);
	classify_result_free(&r);
	free(data);
	return ex;
}
