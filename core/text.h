/* text.h - the one sanitiser for text that a person reads (terminal, report, mail) and the one UTF-8
 * repair for text that a program reads (JSON). Every string that came from a dump, the engine or a file
 * name was written by the crashed process: before it reaches a terminal or a mail it goes through
 * text_clean*, and before it is printed as JSON through text_json_safe. Nothing here allocates except
 * the _dup functions; all functions are thread-safe (no shared state).
 *
 * What text_clean removes (each replaced by '?', one column, so tables keep their alignment):
 *   C0 controls U+0000-U+001F (ESC, BEL, CR, LF, TAB... unless a TEXT_KEEP_* flag keeps LF or TAB),
 *   DEL U+007F, C1 controls U+0080-U+009F (U+009B is CSI on many terminals, U+009D OSC),
 *   bidirectional embeddings, overrides and isolates U+202A-U+202E, U+2066-U+2069, the marks
 *   U+200E, U+200F, U+061C, and the line and paragraph separators U+2028, U+2029.
 * Invalid UTF-8 (stray continuation bytes, overlongs, surrogates, > U+10FFFF, truncated sequences) is
 * replaced by U+FFFD, one replacement per bad byte. */
#ifndef DS_TEXT_H
#define DS_TEXT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "buf.h"
#include "ds.h"

enum {
	TEXT_KEEP_NL = 1,  /* keep '\n' (multi-line text: reports, mail bodies); CR is never kept */
	TEXT_KEEP_TAB = 2, /* keep '\t' */
};

/* Length in bytes (1-4) of the well-formed UTF-8 sequence at p (n bytes available), its code point in
 * *cp (may be NULL); 0 if the bytes at p do not start one (n == 0 included). */
size_t text_utf8_seq(const unsigned char *p, size_t n, uint32_t *cp);
/* 1 if the code point must never reach a terminal or a mail unchanged (the list above), given flags. */
int text_cp_unsafe(uint32_t cp, int flags);
/* 1 if s[0..n) is well-formed UTF-8 (NUL bytes count as valid). */
int text_utf8_valid(const char *s, size_t n);
/* 1 if the NUL-terminated s would pass text_clean unchanged. */
int text_is_clean(const char *s, int flags);

/* Appends s[0..n) cleaned to b. DS_ETOOBIG / DS_ENOMEM from the buffer (then part may be appended). */
int text_clean_buf(struct buf *b, const char *s, size_t n, int flags);
/* Writes NUL-terminated s cleaned into out (size outsz > 0), cut at a character boundary when it does
 * not fit; returns the bytes written (excluding the NUL). A NULL s gives "". */
size_t text_clean(char *out, size_t outsz, const char *s, int flags);
/* A malloc'd cleaned copy of s[0..n) (caller frees), or NULL when out of memory. */
char *text_clean_dupn(const char *s, size_t n, int flags);
/* The same for a NUL-terminated string; NULL s gives NULL. */
char *text_clean_dup(const char *s, int flags);
/* Writes NUL-terminated s cleaned to a stdio stream (a NULL s writes nothing). Returns EOF on a write
 * error, else 0. */
int text_fputs(const char *s, FILE *out, int flags);
/* The number of terminal columns text_clean's output of s takes (one per character). */
size_t text_width(const char *s);

/* printf whose format is trusted and whose arguments are not: every %s argument is cleaned (flags 0:
 * no line break, tab or control can come from an argument, so a value can never start a new line of
 * a mail or a log) before width and precision apply; other conversions are printf's own. The format
 * may hold newlines and the program's own escape sequences (colours). Supports the C99 conversions
 * d i u x X o c s p f F e E g G a A % with flags, width, precision (also *) and hh h l ll z j t L
 * (not %n). text_bprintf appends to a capped buffer (its errors); text_fprintf returns EOF on a write
 * error, else the bytes written. */
int text_bprintf(struct buf *b, const char *fmt, ...) DS_PRINTF(2, 3);
int text_vbprintf(struct buf *b, const char *fmt, va_list ap);
int text_fprintf(FILE *out, const char *fmt, ...) DS_PRINTF(2, 3);
int text_printf(const char *fmt, ...) DS_PRINTF(1, 2);

/* A malloc'd copy of s[0..n) that is well-formed UTF-8: each bad byte becomes U+FFFD, everything else
 * (controls too) is kept. For storing or handing text to JSON. NULL when out of memory. */
char *text_utf8_fix(const char *s, size_t n);

/* Makes a printed JSON document safe for a terminal without changing what it means: invalid UTF-8
 * becomes U+FFFD, and DEL, C1 controls, bidi controls and U+2028/U+2029 become \uXXXX escapes (the
 * JSON structure is ASCII, so these bytes can only be inside strings, where an escape is the same
 * string). Returns a malloc'd document (caller frees), or NULL when out of memory. */
char *text_json_safe(const char *json);

#endif
