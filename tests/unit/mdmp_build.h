/* mdmp_build.h - builds small synthetic minidumps in memory for the minidump reader's tests: a
 * header, a directory and streams appended one after another. Test-only; no validation of what it
 * is asked to write (that is the point: tests write damaged dumps too). Aborts on ENOMEM. */
#ifndef DS_MDMP_BUILD_H
#define DS_MDMP_BUILD_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct mb {
	unsigned char *d;
	size_t len, cap;
	uint32_t nstreams, used;
};

static void mb_reserve(struct mb *b, size_t n)
{
	if (b->len + n <= b->cap)
		return;
	while (b->len + n > b->cap)
		b->cap = b->cap ? b->cap * 2 : 256;
	b->d = realloc(b->d, b->cap);
	if (b->d == NULL)
		abort();
}

static void mb_set32(struct mb *b, size_t off, uint32_t v)
{
	b->d[off] = (unsigned char)v;
	b->d[off + 1] = (unsigned char)(v >> 8);
	b->d[off + 2] = (unsigned char)(v >> 16);
	b->d[off + 3] = (unsigned char)(v >> 24);
}

static void mb_set64(struct mb *b, size_t off, uint64_t v)
{
	mb_set32(b, off, (uint32_t)v);
	mb_set32(b, off + 4, (uint32_t)(v >> 32));
}

/* Appends n bytes (zeros when p is NULL), 4-byte aligned; returns their offset. */
static uint32_t mb_put(struct mb *b, const void *p, size_t n)
{
	uint32_t at;

	while (b->len % 4 != 0) {
		mb_reserve(b, 1);
		b->d[b->len++] = 0;
	}
	mb_reserve(b, n);
	at = (uint32_t)b->len;
	if (p != NULL)
		memcpy(b->d + b->len, p, n);
	else
		memset(b->d + b->len, 0, n);
	b->len += n;
	return at;
}

/* Starts a dump with room for nstreams directory entries (unused ones stay type 0). */
static void mb_init(struct mb *b, uint32_t nstreams, uint32_t timestamp, uint64_t flags)
{
	memset(b, 0, sizeof(*b));
	b->nstreams = nstreams;
	mb_put(b, NULL, 32 + 12 * (size_t)nstreams);
	memcpy(b->d, "MDMP", 4);
	mb_set32(b, 4, 0xa793);
	mb_set32(b, 8, nstreams);
	mb_set32(b, 12, 32);
	mb_set32(b, 20, timestamp);
	mb_set64(b, 24, flags);
}

/* Appends a stream body and records it in the next directory entry; returns its offset. */
static uint32_t mb_stream(struct mb *b, uint32_t type, const void *p, size_t n)
{
	uint32_t at = mb_put(b, p, n), e = 32 + 12 * b->used++;

	mb_set32(b, e, type);
	mb_set32(b, e + 4, (uint32_t)n);
	mb_set32(b, e + 8, at);
	return at;
}

/* Appends a MINIDUMP_STRING holding n UTF-16 units; returns its RVA. */
static uint32_t mb_string16(struct mb *b, const uint16_t *u, size_t n)
{
	uint32_t at = mb_put(b, NULL, 4 + 2 * n + 2);
	size_t i;

	mb_set32(b, at, (uint32_t)(2 * n));
	for (i = 0; i < n; i++) {
		b->d[at + 4 + 2 * i] = (unsigned char)u[i];
		b->d[at + 5 + 2 * i] = (unsigned char)(u[i] >> 8);
	}
	return at;
}

/* Same from ASCII. */
static uint32_t mb_string(struct mb *b, const char *s)
{
	size_t i, n = strlen(s);
	uint16_t *u = malloc(2 * n + 2);
	uint32_t at;

	if (u == NULL)
		abort();
	for (i = 0; i < n; i++)
		u[i] = (unsigned char)s[i];
	at = mb_string16(b, u, n);
	free(u);
	return at;
}

/* A 56-byte MINIDUMP_SYSTEM_INFO stream. */
static uint32_t mb_sysinfo(struct mb *b, uint16_t arch, uint8_t ncpu, uint32_t major, uint32_t minor,
			   uint32_t build, uint32_t platform)
{
	unsigned char s[56];
	uint32_t at;

	memset(s, 0, sizeof(s));
	at = mb_stream(b, 7, s, sizeof(s));
	b->d[at] = (unsigned char)arch;
	b->d[at + 1] = (unsigned char)(arch >> 8);
	b->d[at + 6] = ncpu;
	mb_set32(b, at + 8, major);
	mb_set32(b, at + 12, minor);
	mb_set32(b, at + 16, build);
	mb_set32(b, at + 20, platform);
	return at;
}

#endif
