/* replay_main.c - runs a libFuzzer target without libFuzzer: feeds it every file of its replay corpus
 * (tests/fuzz/corpus/NAME/, NAME taken from the program name "replay_NAME") or the files given on
 * the command line. CI uses it to replay what fuzzing found, under the sanitizers too. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ds.h"
#include "core/plat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLAY_MAX (64u << 20)

static int replay_one(const char *path)
{
	char *data = NULL;
	size_t len = 0;
	int rc = plat_read_file(path, REPLAY_MAX, &data, &len);

	if (rc != DS_OK) {
		printf("FAIL replay %s: cannot read: %s\n", path, ds_strerror(rc));
		return 1;
	}
	LLVMFuzzerTestOneInput((const uint8_t *)data, len);
	free(data);
	return 0;
}

int main(int argc, char **argv)
{
	char dir[512], path[1024];
	const char *prog = strrchr(argv[0], '/');
	struct dirent *de;
	DIR *d;
	int i, n = 0, bad = 0;

	if (argc > 1) {
		for (i = 1; i < argc; i++)
			bad += replay_one(argv[i]);
		return bad ? 1 : 0;
	}
	prog = prog ? prog + 1 : argv[0];
	if (strncmp(prog, "replay_", 7) == 0)
		prog += 7;
	snprintf(dir, sizeof(dir), "tests/fuzz/corpus/%s", prog);
	d = opendir(dir);
	if (d == NULL) {
		printf("FAIL replay %s: no corpus folder %s\n", prog, dir);
		return 1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		bad += replay_one(path);
		n++;
	}
	closedir(d);
	/* Reaching here means no input crashed the target or tripped a sanitizer. */
	if (bad == 0 && n > 0)
		printf("PASS replay %s (%d inputs)\n", prog, n);
	else if (n == 0)
		printf("FAIL replay %s: corpus folder %s is empty\n", prog, dir);
	return bad ? 1 : 0;
}
