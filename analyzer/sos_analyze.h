/* sos_analyze.h - the managed-heap analysis of one dump: which collectible AssemblyLoadContexts are still
 * alive and what holds each. It plans the SOS session (which commands, on which addresses), collects the
 * facts each command's output gives (through sos_parse.c), and hands them to classify.c. The same fact
 * collector reads a saved session, so a transcript recorded by this driver re-analyzes to the same result.
 *
 * The plan, from what the engine shows on real dumps (docs/analysis.md):
 *   1. dumpheap -type System.Reflection.LoaderAllocator   (the live collectible contexts; none: no leak)
 *   2. pe, clrstack                                       (the managed exception and faulting stack)
 *   3. dumpdomain; dumpmodule -mt per application module  (which types each module defines)
 *      dumpmt of one type per module                      (collectible? which LoaderAllocator and ALC)
 *      dumpheap -mt MT -short per collectible type        (live instances of the context's types)
 *      dp -c 1 ALC; dumpvc MT ALC+ptr; du NAME+ptr+4      (the context's _name and _state)
 *   4. gcroot of every LoaderAllocator and of a few instances of each context's types (gcroot of the
 *      LoaderAllocator alone misses roots that reach the context only through its objects' types)
 *   5. dumpclass of the application's types when a root runs through the statics array (SOS 10 prints
 *      the wrong name in "(static variable: ...)"; the class's static values name the true field)
 * Thread-safety: a call uses only its own state and engine session; calls may run on different threads. */
#ifndef DS_SOS_ANALYZE_H
#define DS_SOS_ANALYZE_H

#include <stddef.h>
#include <stdint.h>

#include "classify.h"
#include "sos_run.h"
#include "../core/ds.h"

struct sos_analyze_opts {
	const char *engine;            /* engine path (from sos_run_find_engine), NULL if none */
	struct sos_limits lim;
	unsigned ptr_size;             /* target pointer size: 8 (default when 0) or 4 */
	unsigned max_modules;          /* application modules examined (default 64) */
	unsigned max_instances;        /* objects gcroot'ed per context (default 8) */
	unsigned max_dumpclass;        /* classes whose statics are read (default 400) */
	/* Called before each engine command with a short description; may be NULL. */
	void (*progress)(void *ctx, unsigned step, const char *what);
	void *progress_ctx;
	/* Checked between commands: non-zero ends the session early (status SOS_FAILED, "cancelled"). */
	const volatile int *cancel;
};

struct sos_analysis {
	enum sos_status status;
	char error[512];               /* why the status is not ok, for people */
	uint64_t duration_ms;
	unsigned commands;             /* engine commands run */
	char *transcript;              /* owned; the whole engine session, NUL-terminated (may be NULL) */
	size_t transcript_len;
	int classified;                /* result below is valid */
	struct classify_result result; /* owned */
	int has_stack;                 /* the faulting thread's managed stack (clrstack) below is valid */
	struct sos_clrstack stack;     /* owned */
};

void sos_analyze_opts_default(struct sos_analyze_opts *o);

/* Runs the whole session on dump and classifies it. Fills *a (release with sos_analysis_free) in every
 * case that returns DS_OK — a status other than SOS_OK is a result, not an error (engine missing, no CLR,
 * timeout with partial facts classified where possible). Errors: DS_ENOMEM only. */
int sos_analyze_dump(const char *dump, const struct sos_analyze_opts *o, struct sos_analysis *a);

/* Classifies a saved session (this driver's transcript, or a pasted dotnet-dump/WinDbg session).
 * DS_EPARSE / DS_ETOOBIG with the line number in e; DS_ENOMEM. */
int sos_analyze_transcript(const char *text, size_t len, unsigned ptr_size, struct sos_analysis *a,
			   struct ds_err *e);

void sos_analysis_free(struct sos_analysis *a);

struct crashreport;
/* The JSON object of `dumpscout analyze --json` (documented in the README): {file, triage, analysis{status,
 * error, engine_commands, duration_ms, leak, contexts[], managed_exception}, crash_report}. triage_json is
 * the `inspect --json` text of the dump (NULL: none), cr the crash report (NULL: none). Returns a malloc'd
 * string (caller frees) or NULL on allocation failure. Reentrant. */
char *sos_analysis_to_json(const char *file, const char *triage_json, const struct sos_analysis *a,
			   const struct crashreport *cr, int pretty);

#endif
