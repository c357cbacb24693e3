/* mkhostile.c - writes the hostile minidump of issue 12 item 3 for tests/e2e/test_harden_memory.sh: about
 * 19 MB holding 100,000 modules, 100,000 threads and 100,000 thread names. Every module points at one
 * 16,000-character name and every thread at its own short name, so a reader that allocates a fixed
 * buffer per name, or keeps whatever the counts claim, needs gigabytes; a bounded one does not.
 * With a NAME (UTF-8), it writes instead a one-module dump whose main module is called NAME, for the
 * sanitiser tests (tests/e2e/test_harden_text.sh).
 * usage: mkhostile OUT.dmp [NAME] */
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

	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: mkhostile OUT.dmp [NAME]\n");
		return 2;
	}
	if (argc == 3) {
		/* UTF-8 to UTF-16 code units (BMP only: enough for controls, C1 and bidi characters) */
		const unsigned char *p = (const unsigned char *)argv[2];
		size_t m = 0;

		while (*p != '\0' && m < 16000) {
			uint32_t c = *p++;

			if (c >= 0xe0 && p[0] && p[1]) {
				c = (c & 0x0f) << 12 | (uint32_t)(p[0] & 0x3f) << 6 | (p[1] & 0x3f);
				p += 2;
			} else if (c >= 0xc0 && p[0]) {
				c = (c & 0x1f) << 6 | (p[0] & 0x3f);
				p++;
			}
			u[m++] = (uint16_t)c;
		}
		mb_init(&b, 2, 0x60000000u, 0);
		mb_sysinfo(&b, 9, 4, 10, 0, 19041, 2);
		mods = mb_stream(&b, 4, NULL, 4 + 108);
		mb_set32(&b, mods, 1);
		mb_set32(&b, mods + 4, 0x400000);
		mb_set32(&b, mods + 4 + 8, 0x1000);
		mb_set32(&b, mods + 4 + 20, mb_string16(&b, u, m));
		goto write;
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
write:
	f = fopen(argv[1], "wb");
	if (f == NULL || fwrite(b.d, 1, b.len, f) != b.len || fclose(f) != 0) {
		perror(argv[1]);
		return 1;
	}
	free(b.d);
	return 0;
}
