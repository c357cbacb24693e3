/* plat_common.c - the parts of the platform layer that are the same on every OS because they are built
 * only from the other plat_* primitives. No OS calls here. */
#include "plat.h"
#include "ds.h"

#include <stdint.h>
#include <stdlib.h>

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
