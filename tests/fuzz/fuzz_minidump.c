/* fuzz_minidump.c - libFuzzer target for the minidump reader: any bytes through a memory-backed
 * dsrc into minidump_read, then triage_free. Checks only what must hold for every input: no crash,
 * no sanitizer report, no leak, and an error result carries a code the contract allows. */
#include <stdint.h>
#include <stdlib.h>

#include "analyzer/dsrc.h"
#include "analyzer/minidump.h"
#include "analyzer/triage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dsrc src;
	struct triage t;
	struct ds_err e = { 0 };
	int rc;

	dsrc_init_mem(&src, data, size);
	triage_init(&t);
	rc = minidump_read(&src, &t, &e);
	if (rc != DS_OK && rc != DS_EFORMAT && rc != DS_ECORRUPT && rc != DS_ETOOBIG)
		abort();
	if (rc == DS_ECORRUPT && (!e.has_offset || e.offset > size))
		abort();
	if (rc == DS_OK && t.nmodules > 0 && (t.modules[0].name == NULL || t.modules[0].path == NULL))
		abort();
	triage_free(&t);
	return 0;
}
