/* mime.h - builds the RFC 5322 / MIME messages the mailer sends: safe headers (no CR/LF injection,
 * RFC 2047 encoded-words for non-ASCII), quoted-printable UTF-8 bodies, a multipart/alternative
 * text + HTML layout and a size cap that truncates the bodies with a note. It does not send anything
 * and does not know about the outbox or the configuration file (lib/mail.c does). */
#ifndef DS_MIME_H
#define DS_MIME_H

#include <stddef.h>
#include <stdint.h>

#include "core/ds.h"

/* Longest address (RFC 5321 path limit) and display name we accept. */
#define MIME_ADDR_MAX 254
#define MIME_NAME_MAX 200

/* An address as written in the config: "user@example.com" or "Display Name <user@example.com>". */
struct mime_addr {
	char name[MIME_NAME_MAX + 1]; /* UTF-8, CR/LF and controls removed; "" when absent */
	char addr[MIME_ADDR_MAX + 1]; /* the bare addr-spec, ASCII */
};

/* Parses and validates one address. DS_EINVAL with a message (quoting no more than the input) in
 * e->msg when the text is not a plain ASCII addr-spec with an optional display name. Thread-safe. */
int mime_addr_parse(const char *text, struct mime_addr *out, struct ds_err *e);

/* The message to build. Every string is UTF-8; the bodies need not be NUL-terminated. */
struct mime_message {
	const struct mime_addr *from;
	const struct mime_addr *to; /* to_count entries, at least one */
	size_t to_count;
	const char *subject;        /* may hold anything: it is sanitised and encoded */
	const char *text;           /* text/plain body (NULL: empty) */
	size_t text_len;
	const char *html;           /* text/html body (NULL: a text-only message, no multipart) */
	size_t html_len;
	int64_t date_ms;            /* the Date header, shown in local time with its UTC offset */
	const char *message_id;     /* "<...@...>" as made by mime_message_id */
	size_t max_bytes;           /* cap on the whole message; 0 for none */
};

/* Builds the message with CRLF line endings; no line is longer than 998 bytes. When the message
 * would exceed max_bytes the bodies are shortened (at a character boundary, outside HTML tags) and
 * end with a note saying so; *truncated (may be NULL) is then 1. *out is malloc'd, the caller frees it.
 * DS_ETOOBIG when even the headers do not fit, DS_EINVAL for a bad argument, DS_ENOMEM, DS_EIO (no
 * random source for the boundary). Thread-safe. */
int mime_build(const struct mime_message *m, char **out, size_t *out_len, int *truncated,
	       struct ds_err *e);

/* Writes "<ds.ROW.TOKEN@DOMAIN>" into out: stable for one outbox row of one database, so a retry
 * reuses it. token is the database's random token (letters and digits; others are dropped);
 * domain is the From address's domain. DS_EINVAL if out is too small. Thread-safe. */
int mime_message_id(int64_t row_id, const char *token, const char *domain, char *out, size_t n);

/* Writes an RFC 5322 date ("Tue, 04 Mar 2025 14:03:07 +0100") for ms since the epoch in local time.
 * DS_EINVAL if out is too small (32 bytes suffice) or the time is out of range. Thread-safe. */
int mime_date(int64_t ms, char *out, size_t n);

/* Copies a header value into out (n bytes) through the one sanitiser (text_clean: CR, LF, other C0,
 * DEL, C1 and bidi controls become '?', invalid UTF-8 U+FFFD), cut at a character boundary. Returns
 * the length. */
size_t mime_sanitize(const char *in, char *out, size_t n);

#endif
