/* mkhostile.c - writes the hostile minidump of issue 12 item 3 for tests/e2e/test_harden_memory.sh: about
 * 19 MB holding 100,000 modules, 100,000 threads and 100,000 thread names. Every module points at one
 * 16,000-character name and every thread at its own short name, so a reader that allocates a fixed
 * buffer per name, or keeps whatever the counts claim, needs gigabytes; a bounded one does not.
 * usage: mkhostile OUT.dmp */
#include <stdio.h>

#include "../unit/mdmp_build.h"

int main(int argc, char **argv)
{
	struct mb b;
	uint32_t n = 100000, i, mods, thr, names, longname;
	uint16_t u[16000];
	char tag[24];
	FILE *f;
	size_t k;

	if (argc != 2) {
		fprintf(stderr, "usage: mkhostile OUT.dmp\n");
		return 2;
	}
	for (k = 0; k < 16000; k++)
		u[k] = (uint16_t)('A' + k % 26);
	mb_init(&b, 4, 0x60000000u, 0);
	mb_sysinfo(&b, 9 /* amd64 */, 4, 10, 0, 19041, 2 /* Windows NT */);
	mods = mb_stream(&b, 4, NULL, 4 + 108 * (size_t)n);
	thr = mb_stream(&b, 3, NULL, 4 + 48 * (size_t)n);
	names = mb_stream(&b, 24 /* ThreadNamesStream */, NULL, 4 + 12 * (size_t)n);
	longname = mb_string16(&b, u, 16000);
	mb_set32(&b, mods, n);
	mb_set32(&b, thr, n);
	mb_set32(&b, names, n);
	for (i = 0; i < n; i++) {
		mb_set32(&b, mods + 4 + 108 * i, 0x10000u * (i + 1)); /* base */
		mb_set32(&b, mods + 4 + 108 * i + 8, 0x1000);         /* size */
		mb_set32(&b, mods + 4 + 108 * i + 20, longname);
		mb_set32(&b, thr + 4 + 48 * i, i + 1);
		snprintf(tag, sizeof(tag), "worker-%u", (unsigned)i);
		mb_set32(&b, names + 4 + 12 * i, i + 1);
		mb_set64(&b, names + 4 + 12 * i + 4, mb_string(&b, tag));
	}
	f = fopen(argv[1], "wb");
	if (f == NULL || fwrite(b.d, 1, b.len, f) != b.len || fclose(f) != 0) {
		perror(argv[1]);
		return 1;
	}
	free(b.d);
	return 0;
}
