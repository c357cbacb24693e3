/* sha256.h - SHA-256 (FIPS 180-4) of memory and of whole files: the content hash the store keeps for
 * each dump, so identical files are recognised and analysed once. Pure computation plus plat_file
 * reads; it knows nothing of dumps or the database. Thread-safe (no shared state). */
#ifndef DS_SHA256_H
#define DS_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include "ds.h"

struct sha256 {
	uint32_t h[8];
	uint64_t len;       /* bytes hashed so far */
	uint8_t block[64];
	size_t fill;        /* bytes waiting in block */
};

void sha256_init(struct sha256 *c);
void sha256_update(struct sha256 *c, const void *data, size_t n);
/* Writes the 32-byte digest; c must be initialised again before reuse. */
void sha256_final(struct sha256 *c, uint8_t out[32]);
/* Digest of a buffer as 64 lowercase hex digits plus NUL. */
void sha256_hex(const void *data, size_t n, char hex[65]);
/* Digest of a whole file (its size when opened) as hex; hex is "" on error. Reads through plat_file
 * in 1 MiB pieces (allocated here, freed). DS_ENOENT, DS_EPERM, DS_EINVAL (not a regular file), DS_EIO,
 * DS_ENOMEM. Costs one full read of the file: call it from a worker thread, not an event loop. */
int sha256_file(const char *path, char hex[65]);
/* The same for a file already open (its size when opened); f stays open and owned by the caller. */
struct plat_file;
int sha256_plat_file(struct plat_file *f, char hex[65]);

#endif
