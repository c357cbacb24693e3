/* minidump.h - the reader of Windows minidump (MDMP) files, including the Linux/macOS/iOS flavours
 * written by breakpad and crashpad: it fills a struct triage from the header, the stream directory
 * and the small streams. It never reads dumped memory contents and does not compute the bucket or
 * detect the .NET runtime (triage_finish does that). */
#ifndef DS_MINIDUMP_H
#define DS_MINIDUMP_H

#include "core/ds.h"

struct dsrc;
struct triage;

/* Reads the minidump in src into t, which the caller has triage_init()'ed; does not call
 * triage_finish. Everything stored in t is owned by t (release with triage_free), also after a
 * failure, when t may hold a partial result that the caller frees.
 * Errors: DS_EFORMAT if src is not a minidump (no "MDMP" signature); DS_ECORRUPT for damaged input,
 * with e->offset the file offset of the value found wrong (a directory entry, a count, an RVA
 * field); DS_ETOOBIG when the names kept would exceed an overall cap; DS_ENOMEM; DS_EIO from a
 * file-backed source. Not thread-safe for one src/t; distinct sources may be read in parallel. */
int minidump_read(struct dsrc *src, struct triage *t, struct ds_err *e);

#endif
