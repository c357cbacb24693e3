/* fuzz_elfcore.c - libFuzzer target for the ELF core reader: any bytes through a memory-backed dsrc
 * into elfcore_read, then triage_free. Checks only what must hold for every input: no crash, no
 * sanitizer report, no leak, an error code the contract allows (corrupt input names an offset inside
 * the file), and a result whose strings and arrays are whole. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/dsrc.h"
#include "analyzer/elfcore.h"
#include "analyzer/triage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dsrc src;
	struct triage t;
	struct ds_err e = { 0 };
	size_t i;
	int rc;

	dsrc_init_mem(&src, data, size);
	triage_init(&t);
	rc = elfcore_read(&src, &t, &e);
	if (rc != DS_OK && rc != DS_EFORMAT && rc != DS_ECORRUPT)
		abort();
	if (rc == DS_ECORRUPT && (!e.has_offset || e.offset > size))
		abort();
	if (rc == DS_OK) {
		if (strcmp(t.format, "elf-core") != 0 || t.nthreads > TRIAGE_MAX_THREADS ||
		    t.nmodules > TRIAGE_MAX_MODULES || t.bytes_read != src.bytes_read)
			abort();
		for (i = 0; i < t.nmodules; i++)
			if (t.modules[i].name == NULL || t.modules[i].path == NULL ||
			    strlen(t.modules[i].path) > TRIAGE_MAX_STRING)
				abort();
		/* what triage_read does next must work on whatever was read */
		if (triage_finish(&t) != DS_OK)
			abort();
	}
	triage_free(&t);
	return 0;
}
