/* carr.c - the capped array's growth step. See carr.h. The array pointer is read and written through
 * memcpy, so a `T **` can be passed without pretending it is a `void **`. */
#include "carr.h"
#include "ds.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int carr_reserve(void *arrp, size_t *cap, size_t n, size_t elsz, size_t max)
{
	size_t ncap;
	void *old, *p;
	int rc = DS_OK;

	if (n < *cap)
		goto out;
	if (n >= max || elsz == 0) {
		rc = DS_ETOOBIG;
		goto out;
	}
	ncap = *cap ? *cap : 8;
	while (ncap <= n)
		ncap = ncap > max / 2 ? max : ncap * 2;
	if (ncap > max)
		ncap = max;
	if (ncap > SIZE_MAX / elsz) {
		rc = DS_ETOOBIG;
		goto out;
	}
	memcpy(&old, arrp, sizeof(old));
	p = realloc(old, ncap * elsz);
	if (p == NULL) {
		rc = DS_ENOMEM;
		goto out;
	}
	memset((char *)p + *cap * elsz, 0, (ncap - *cap) * elsz);
	memcpy(arrp, &p, sizeof(p));
	*cap = ncap;
out:
	return rc;
}
