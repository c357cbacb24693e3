/* dsrc.c - bounds-checked reads for the dump readers. See dsrc.h. */
#include "dsrc.h"
#include "core/plat.h"

#include <string.h>

int dsrc_open_file(struct dsrc *s, const char *path)
{
	int rc;

	memset(s, 0, sizeof(*s));
	rc = plat_file_open(path, &s->file);
	if (rc == DS_OK)
		s->size = plat_file_size(s->file);
	return rc;
}

void dsrc_init_file(struct dsrc *s, struct plat_file *f)
{
	memset(s, 0, sizeof(*s));
	s->file = f;
	s->size = plat_file_size(f);
	s->borrowed = 1;
}

void dsrc_init_mem(struct dsrc *s, const void *p, size_t n)
{
	memset(s, 0, sizeof(*s));
	s->mem = p;
	s->size = n;
}

void dsrc_close(struct dsrc *s)
{
	if (s->file != NULL && !s->borrowed)
		plat_file_close(s->file);
	s->file = NULL;
}

int dsrc_has(const struct dsrc *s, uint64_t off, uint64_t n)
{
	return off <= s->size && n <= s->size - off;
}

int dsrc_read(struct dsrc *s, uint64_t off, void *dst, size_t n, const char *what, struct ds_err *e)
{
	int rc;

	if (!dsrc_has(s, off, n))
		return ds_err_set(e, DS_ECORRUPT, off,
				  "%s (%zu bytes at offset 0x%llx) extends past the end of the file (%llu bytes)",
				  what, n, (unsigned long long)off, (unsigned long long)s->size);
	s->bytes_read += n;
	if (s->mem != NULL) {
		memcpy(dst, s->mem + off, n);
		return DS_OK;
	}
	rc = plat_file_read_at(s->file, off, dst, n);
	if (rc != DS_OK)
		ds_err_set(e, rc, off, "cannot read %s at offset 0x%llx", what, (unsigned long long)off);
	return rc;
}
