/* sos_transcript.h - a saved SOS session (dotnet-dump transcript, pasted WinDbg/lldb session, bare gcroot
 * output) into the fact model, for `dumpscout analyze --transcript`. The text was partly written by the
 * crashed process (exception messages, type and context names), so before reading any record the session
 * is checked for records that target text cut short or forged (sos_transcript_check): such a session is
 * refused, naming the line. Reentrant. */
#ifndef DS_SOS_TRANSCRIPT_H
#define DS_SOS_TRANSCRIPT_H

#include <stddef.h>

#include "analyzer/facts.h"
#include "analyzer/sos_parse.h"
#include "core/ds.h"

/* Reads a transcript into *f (initialised here; facts_free it also after an error). How it pairs what
 * it sees:
 *  - dumpheap rows and gcroot chain types find LoaderAllocator and scout objects; a scout is paired with
 *    its LoaderAllocator through a chain "LoaderAllocator -> scout", else the nearest one below it;
 *  - gcroot of each LoaderAllocator (else of its scout) gives the context's roots; gcroots of other
 *    objects join the context whose LoaderAllocator loaded their type (dumpheap MT + dumpmt), else the
 *    only context not alive, else they become contexts of their own (state unknown); their path gets
 *    the LoaderAllocator link the type edge implies;
 *  - dumpobj/dumpvc of a collectible ALC gives its _name and _state, du/dumpobj the name's text;
 *  - dumpclass: static field values, which name the static holding a chain object (SOS 10's own label
 *    can name the wrong field; it is kept as the root's sos_label);
 *  - pe: the managed exception.
 * Errors: DS_EPARSE / DS_ETOOBIG with "line N" (also for a forged or cut record), DS_ENOMEM. */
int sos_transcript_read(const char *text, size_t len, struct facts *f, struct ds_err *err);

/* Refuses a session whose structure target text may have changed: a pe record that does not end with
 * its HResult line, a gcroot record that does not end with its single "Found N roots" line, a du record
 * over several lines, output no command opened after the first command, and the same command answered
 * twice with different output. DS_EPARSE with the line. */
int sos_transcript_check(const struct sos_session *s, struct ds_err *err);

#endif
