/* sos_transcript_main.c - test helper for tests/golden/test_sos_golden.sh: classifies one saved SOS
 * session the way `dumpscout analyze --transcript --all-roots --json` does (sos_transcript.c into the fact
 * model, classify.c) and prints the "analysis" object. Exit 0 on success, 2 with "FILE: line N: ..." on
 * bad input (also a transcript whose records target text forged or cut short). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/heap_analyze.h"
#include "analyzer/sos_parse.h"
#include "core/plat.h"

int main(int argc, char **argv)
{
	struct heap_analysis a;
	struct ds_err e = { 0 };
	char *data = NULL, *s = NULL, *out = NULL;
	size_t len = 0;
	cJSON *j = NULL;
	int rc, ex = 2;

	memset(&a, 0, sizeof(a));
	if (argc != 2) {
		fprintf(stderr, "usage: %s TRANSCRIPT\n", argv[0]);
		return 2;
	}
	rc = plat_read_file(argv[1], SOS_MAX_TEXT, &data, &len);
	if (rc != DS_OK) {
		fprintf(stderr, "%s: %s\n", argv[1], ds_strerror(rc));
		return 1;
	}
	rc = heap_analyze_transcript(data, len, &a, &e);
	if (rc != DS_OK) {
		fprintf(stderr, "%s: %s\n", argv[1], e.msg[0] ? e.msg : ds_strerror(rc));
		goto out;
	}
	s = heap_analysis_to_json(argv[1], NULL, &a, NULL, NULL, 1, 0);
	j = s ? cJSON_Parse(s) : NULL;
	out = j ? cJSON_Print(cJSON_GetObjectItem(j, "analysis")) : NULL;
	if (out == NULL) {
		fprintf(stderr, "%s: out of memory\n", argv[1]);
		ex = 1;
		goto out;
	}
	printf("%s\n", out);
	ex = 0;
out:
	free(out);
	free(s);
	cJSON_Delete(j);
	heap_analysis_free(&a);
	free(data);
	return ex;
}
