/* dsrc.h - a bounds-checked byte source for the dump readers: a file read piecewise through the
 * platform layer, or a memory block (fuzzing, tests). Readers never see a raw pointer into the dump,
 * so every access is checked against the size. Not thread-safe: one reader at a time. */
#ifndef DS_DSRC_H
#define DS_DSRC_H

#include <stddef.h>
#include <stdint.h>

#include "core/ds.h"

struct plat_file;

struct dsrc {
	uint64_t size;
	const unsigned char *mem; /* memory-backed when non-NULL (not owned) */
	struct plat_file *file;   /* file-backed otherwise (owned unless borrowed) */
	int borrowed;             /* dsrc_init_file: the caller closes file */
	uint64_t bytes_read;      /* total bytes fetched: the cost of a read, for tests and benchmarks */
};

/* Opens path as a source. DS_ENOENT, DS_EPERM, DS_EINVAL (not a regular file), DS_EIO. */
int dsrc_open_file(struct dsrc *s, const char *path);
/* Reads from a file the caller opened (and closes after dsrc_close): one open serves the triage, the
 * hash and the identity checks. */
void dsrc_init_file(struct dsrc *s, struct plat_file *f);
/* Wraps a memory block; the caller keeps it alive while the source is used. */
void dsrc_init_mem(struct dsrc *s, const void *p, size_t n);
void dsrc_close(struct dsrc *s);
/* Reads n bytes at off into dst. DS_ECORRUPT (with the offset, in e) if [off, off+n) is not
 * inside the source; `what` names the structure for the message (e.g. "stream directory"). */
int dsrc_read(struct dsrc *s, uint64_t off, void *dst, size_t n, const char *what, struct ds_err *e);
/* 1 if [off, off+n) lies inside the source (no overflow). */
int dsrc_has(const struct dsrc *s, uint64_t off, uint64_t n);

/* Little- and big-endian loads from a byte array. */
static inline uint16_t ld16le(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t ld32le(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t ld64le(const unsigned char *p)
{
	return (uint64_t)ld32le(p) | (uint64_t)ld32le(p + 4) << 32;
}
static inline uint16_t ld16be(const unsigned char *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t ld32be(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}
static inline uint64_t ld64be(const unsigned char *p)
{
	return (uint64_t)ld32be(p) << 32 | (uint64_t)ld32be(p + 4);
}

#endif
