/* engine_json.h - reads the heap engine's JSON document (docs/engine.md, format 1) into the fact
 * model (facts.h). Strict about shape: every member's type is checked, counts and string lengths are
 * capped, addresses are parsed as "0x" + 1..16 hex digits; a member this build does not know is
 * ignored and a root kind it does not know is kept as FRK_UNKNOWN with its name. A document that
 * breaks the contract is rejected whole (DS_EFORMAT) with the JSON path of the first fault, e.g.
 * "contexts[1].roots[0].path[2].address: not an address". Target text inside strings is data only:
 * nothing in a string can change how the document is read. Reentrant. */
#ifndef DS_ENGINE_JSON_H
#define DS_ENGINE_JSON_H

#include <stddef.h>

#include "analyzer/facts.h"
#include "core/ds.h"

#define ENGINE_JSON_MAX (64u << 20) /* bytes of one document */

/* Parses len bytes of text (need not be NUL-terminated) into *f (initialised here; release with
 * facts_free, also after an error). Errors: DS_EFORMAT (not JSON, not the contract, a newer format;
 * e->msg says where), DS_ETOOBIG (over ENGINE_JSON_MAX or a count cap), DS_ENOMEM. */
int engine_json_read(const char *text, size_t len, struct facts *f, struct ds_err *e);

#endif
