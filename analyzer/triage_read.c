/* triage_read.c - the entry to native triage: reads a dump's 4-byte signature and hands it to the reader
 * of that format (minidump.c, elfcore.c), which fills the triage model; then triage_finish. Kept apart
 * from triage.c so the readers, which use the model, and the model do not call each other in a loop.
 * Declared in triage.h. */
#include "triage.h"
#include "dsrc.h"
#include "elfcore.h"
#include "minidump.h"

#include <string.h>

/* Checks the first bytes and hands the source to the reader that owns that format. */
int triage_read(struct dsrc *src, struct triage *t, struct ds_err *e)
{
	unsigned char magic[4];
	int rc;

	triage_init(t);
	if (src->size < 4) {
		rc = ds_err_set(e, DS_EFORMAT, 0, "not a crash dump: the file is only %llu bytes",
				(unsigned long long)src->size);
		goto out;
	}
	rc = dsrc_read(src, 0, magic, 4, "file signature", e);
	if (rc != DS_OK)
		goto out;
	if (memcmp(magic, "MDMP", 4) == 0)
		rc = minidump_read(src, t, e);
	else if (memcmp(magic, "\177ELF", 4) == 0)
		rc = elfcore_read(src, t, e);
	else
		rc = ds_err_set(e, DS_EFORMAT, 0,
				"not a crash dump: expected a Windows minidump (MDMP) or an ELF core file");
	if (rc == DS_OK)
		rc = triage_finish(t);
	t->bytes_read = src->bytes_read;
out:
	if (rc != DS_OK)
		triage_free(t);
	return rc;
}

int triage_read_file(const char *path, struct triage *t, struct ds_err *e)
{
	struct dsrc src;
	int rc;

	triage_init(t);
	rc = dsrc_open_file(&src, path);
	if (rc != DS_OK)
		return ds_err_setn(e, rc, "cannot open: %s", ds_strerror(rc));
	rc = triage_read(&src, t, e);
	dsrc_close(&src);
	return rc;
}
