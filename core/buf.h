/* buf.h - a growable byte buffer with a hard ceiling. Every buffer fed from outside (engine output,
 * file contents, generated reports) has a cap; going past it is DS_ETOOBIG, never an unbounded realloc.
 * Not thread-safe: one owner at a time. */
#ifndef DS_BUF_H
#define DS_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "ds.h"

struct buf {
	char *data; /* owned; always NUL-terminated when non-NULL */
	size_t len; /* bytes used, excluding the terminating NUL */
	size_t cap; /* bytes allocated */
	size_t max; /* ceiling for len */
};

/* Prepares an empty buffer that may hold at most `max` bytes. Allocates nothing. */
void buf_init(struct buf *b, size_t max);
/* Frees the data; the buffer is empty and reusable with the same ceiling afterwards. */
void buf_free(struct buf *b);
/* Empties the buffer, keeping its memory. */
void buf_reset(struct buf *b);
/* Appends n bytes. DS_ETOOBIG past the ceiling (nothing appended), DS_ENOMEM. */
int buf_append(struct buf *b, const void *p, size_t n);
/* Appends a NUL-terminated string. */
int buf_puts(struct buf *b, const char *s);
/* Appends formatted text. */
int buf_printf(struct buf *b, const char *fmt, ...) DS_PRINTF(2, 3);
int buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/* Hands the data to the caller (who frees it) and empties the buffer. Never NULL on success:
 * an empty buffer yields an allocated "". Returns NULL only on allocation failure. */
char *buf_steal(struct buf *b);
/* The end of building a string: when rc is DS_OK, buf_steal(b); otherwise frees b and returns NULL. */
char *buf_finish(struct buf *b, int rc);

#endif
