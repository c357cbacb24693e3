/* plat_common.c - the parts of the platform layer that are the same on every OS because they are built
 * only from the other plat_* primitives. No OS calls here. */
#include "plat.h"
#include "ds.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int plat_read_file(const char *path, size_t max, char **data, size_t *len)
{
	struct plat_file *f = NULL;
	char *p = NULL;
	uint64_t size;
	int rc;

	*data = NULL;
	*len = 0;
	rc = plat_file_open(path, &f);
	if (rc != DS_OK)
		goto out;
	size = plat_file_size(f);
	if (size > max || size >= SIZE_MAX) {
		rc = DS_ETOOBIG;
		goto out;
	}
	p = malloc((size_t)size + 1);
	if (p == NULL) {
		rc = DS_ENOMEM;
		goto out;
	}
	rc = plat_file_read_at(f, 0, p, (size_t)size);
	if (rc != DS_OK)
		goto out;
	p[size] = '\0';
	*data = p;
	*len = (size_t)size;
	p = NULL;
out:
	free(p);
	plat_file_close(f);
	return rc;
}

int plat_file_id_same(const struct plat_file_id *a, const struct plat_file_id *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size && a->mtime_ns == b->mtime_ns;
}

void plat_file_id_format(const struct plat_file_id *id, char out[PLAT_FILE_ID_TEXT])
{
	snprintf(out, PLAT_FILE_ID_TEXT, "%" PRIu64 ":%" PRIu64 ":%" PRIu64 ":%" PRId64, id->dev, id->ino, id->size,
		 id->mtime_ns);
}

/* One unsigned decimal field ending at `end` (':' or NUL); advances *s past the separator. */
static int plat_id_field(const char **s, char end, uint64_t *v)
{
	const char *p = *s;
	uint64_t x = 0;

	if (*p < '0' || *p > '9')
		return DS_EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (x > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return DS_EINVAL;
		x = x * 10 + (uint64_t)(*p - '0');
	}
	if (*p != end)
		return DS_EINVAL;
	*s = end ? p + 1 : p;
	*v = x;
	return DS_OK;
}

int plat_file_id_parse(const char *s, struct plat_file_id *id)
{
	uint64_t dev, ino, size, mt;
	int neg = 0;

	if (s == NULL)
		return DS_EINVAL;
	if (plat_id_field(&s, ':', &dev) || plat_id_field(&s, ':', &ino) || plat_id_field(&s, ':', &size))
		return DS_EINVAL;
	if (*s == '-') {
		neg = 1;
		s++;
	}
	if (plat_id_field(&s, '\0', &mt) || mt > (uint64_t)INT64_MAX)
		return DS_EINVAL;
	id->dev = dev;
	id->ino = ino;
	id->size = size;
	id->mtime_ns = neg ? -(int64_t)mt : (int64_t)mt;
	id->nlink = 0;
	return DS_OK;
}

int plat_file_open_verified(const char *path, const struct plat_file_id *want, struct plat_file **out)
{
	struct plat_file *f = NULL;
	struct plat_file_id id;
	int rc;

	*out = NULL;
	rc = plat_file_open_ex(path, PLAT_OPEN_DUMP | PLAT_OPEN_LOCK, &f);
	if (rc != DS_OK)
		goto out;
	rc = plat_file_identity(f, &id);
	if (rc == DS_OK && !plat_file_id_same(&id, want))
		rc = DS_ECHANGED;
	if (rc == DS_OK) {
		*out = f;
		f = NULL;
	}
out:
	plat_file_close(f);
	return rc;
}

int plat_path_component_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > 255 || (len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
		return 0;
	for (i = 0; i < len; i++)
		if (s[i] == '/' || s[i] == '\\' || s[i] == ':' || (unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

int plat_path_next_component(const char **p, char out[256])
{
	const char *slash;
	size_t len;

	if (**p == '\0')
		return 0;
	slash = strchr(*p, '/');
	len = slash != NULL ? (size_t)(slash - *p) : strlen(*p);
	if (!plat_path_component_ok(*p, len))
		return DS_EINVAL;
	memcpy(out, *p, len);
	out[len] = '\0';
	*p += len + (slash != NULL);
	return 1;
}
