/* cursor.h - a read-only cursor over text that is not NUL-terminated (debugger output, config lines).
 * Every function either advances the cursor and returns 0, or leaves it unchanged and returns -1,
 * so calls chain with ||. Nothing here allocates; outputs point into the original text. */
#ifndef DS_CURSOR_H
#define DS_CURSOR_H

#include <stddef.h>
#include <stdint.h>

struct cursor {
	const char *p; /* current position */
	const char *end; /* one past the last byte */
};

/* A slice of text: not NUL-terminated. */
struct span {
	const char *p;
	size_t n;
};

void cursor_init(struct cursor *c, const char *p, size_t n);
int cursor_eof(const struct cursor *c);
size_t cursor_left(const struct cursor *c);
/* Takes the next line (without its \n or \r\n). -1 at end of text. */
int cursor_line(struct cursor *c, struct span *line);
/* Skips spaces and tabs (not newlines). Always succeeds. */
void cursor_skip_space(struct cursor *c);
/* Requires at least one space or tab and skips them all. */
int cursor_space(struct cursor *c);
/* Takes a run of non-blank bytes, at most max bytes long (-1 if longer or empty). */
int cursor_word(struct cursor *c, struct span *w, size_t max);
/* Matches a literal prefix. */
int cursor_lit(struct cursor *c, const char *lit);
/* Matches a literal prefix, ASCII case-insensitively. */
int cursor_lit_ci(struct cursor *c, const char *lit);
/* Parses hex digits (optional 0x prefix, either case, optional ` or ' group separators as WinDbg
 * prints them) into *v. Fails on overflow beyond 64 bits or no digits. ndigits gets the digit count. */
int cursor_hex(struct cursor *c, uint64_t *v, size_t *ndigits);
/* Parses a decimal number, allowing ',' group separators; fails on overflow. */
int cursor_dec(struct cursor *c, uint64_t *v);
/* The one parser of a whole NUL-terminated string as a decimal integer (command-line values, numbers
 * kept as text in the database): an optional '-', then digits, nothing before or after. DS_OK with *out
 * set; DS_EINVAL (NULL, empty, any other byte, overflow, or outside [min, max]: *out unchanged). */
int cursor_parse_int(const char *s, int64_t min, int64_t max, int64_t *out);
/* Takes everything up to (not including) byte ch; fails if ch does not occur. */
int cursor_until(struct cursor *c, char ch, struct span *s);

/* Span helpers. */
int span_eq(struct span s, const char *lit);
int span_starts(struct span s, const char *lit);
/* Finds lit inside s; returns offset or -1. */
long span_find(struct span s, const char *lit);
/* Removes leading and trailing blanks (space, tab, \r). */
struct span span_trim(struct span s);
/* Copies s into dst (size dstsz), truncating, always NUL-terminating. Returns dst. */
char *span_copy(struct span s, char *dst, size_t dstsz);
/* Allocates a NUL-terminated copy (caller frees); NULL on allocation failure. */
char *span_dup(struct span s);

#endif
