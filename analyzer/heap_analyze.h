/* heap_analyze.h - the managed-heap analysis of one dump, end to end: the DAC it needs, one heap engine
 * run (heap_run.c), its JSON document read into the fact model (engine_json.c), the classification
 * (classify.c) and the JSON object `dumpscout analyze --json` prints. The same result type holds a
 * saved SOS transcript's analysis (sos_transcript.c), so both paths are classified and rendered alike.
 * Also the crash bucket of a .NET crash (managed exception type and first application frame).
 * Thread-safety: calls use only their own state; several may run at once on different threads. */
#ifndef DS_HEAP_ANALYZE_H
#define DS_HEAP_ANALYZE_H

#include <stddef.h>
#include <stdint.h>

#include "analyzer/classify.h"
#include "analyzer/facts.h"
#include "core/ds.h"

struct plat_file;

enum heap_status {
	HS_OK = 0,
	HS_PARTIAL,          /* the engine skipped a part (warnings say which); the rest is classified */
	HS_TIMEOUT,
	HS_ENGINE_MISSING,
	HS_NO_DAC,
	HS_NO_RUNTIME,
	HS_NO_HEAP,
	HS_NOT_DOTNET,
	HS_TOOBIG,           /* the engine wrote more than the output cap */
	HS_BAD_OUTPUT,       /* the engine's document broke the contract */
	HS_FAILED,
};
/* "ok", "partial", "timeout", "engine_missing", "no_dac", "no_runtime", "no_heap", "not_dotnet",
 * "output_too_big", "bad_output", "failed". */
const char *heap_status_name(enum heap_status s);

struct heap_opts {
	const char *engine;            /* the engine (heap_find_engine), NULL: missing */
	const char *dac;               /* a DAC chosen by the caller, or NULL: heap_find_dac decides */
	const char *runtime_version;   /* from native triage ("10.0.12"), or NULL */
	const char *runtime_dir;       /* folder the dump recorded for the runtime, or NULL */
	const char *const *dac_dirs;   /* analysis.dac_dirs */
	size_t ndac_dirs;
	uint32_t timeout_ms;           /* whole engine run (default 600 s) */
	size_t max_output;             /* engine stdout cap (default 64 MiB) */
	unsigned max_roots;            /* --max-roots for the engine (default 16) */
	const volatile int *cancel;    /* non-zero: stop the engine (status failed, "cancelled") */
	struct plat_file *file;        /* the dump, opened (and identity-checked) by the caller, borrowed and
				          kept open until heap_analyze_dump returns; NULL: the engine opens the
				          path itself. POSIX: the engine reads this descriptor (its fd 3, by
				          /proc/self/fd/3), never the path; Windows: the path, which the caller's
				          open handle (PLAT_OPEN_LOCK) keeps from being rewritten, renamed or
				          deleted meanwhile. */
};
void heap_opts_default(struct heap_opts *o);

struct heap_analysis {
	enum heap_status status;
	char error[1024];              /* why the status is not ok, for people ("" when ok) */
	uint64_t duration_ms;
	char *engine;                  /* owned; the engine run, or NULL */
	char *dac;                     /* owned; the DAC passed, or NULL */
	char *document;                /* owned; the engine's JSON document as printed (NUL-terminated), or NULL */
	size_t document_len;
	int has_facts;
	struct facts facts;            /* owned */
	int classified;
	struct classify_result result; /* owned; borrows from facts */
};

/* Runs the engine on dump and classifies. Fills *a (release with heap_analysis_free) whenever it returns
 * DS_OK; a status other than HS_OK is a result, not an error. DS_ENOMEM only. */
int heap_analyze_dump(const char *dump, const struct heap_opts *o, struct heap_analysis *a);
/* The same from an engine document already in memory (tests, `analyze --engine-json`). DS_ENOMEM only:
 * a bad document is status HS_BAD_OUTPUT with the reader's message. */
int heap_analyze_document(const char *json, size_t len, struct heap_analysis *a);
/* Classifies a saved SOS session. DS_EPARSE / DS_ETOOBIG with "line N" in e (also for a transcript whose
 * records target text cut or forged), DS_ENOMEM. */
int heap_analyze_transcript(const char *text, size_t len, struct heap_analysis *a, struct ds_err *e);
void heap_analysis_free(struct heap_analysis *a);

struct crashreport;
/* The `dumpscout analyze --json` object (documented in the README): {file, triage, analysis{status, error,
 * source, engine, dac, runtime_version, duration_ms, warnings, leak, contexts, roots_searched,
 * managed_exception, faulting_thread}, crash_report, crash_bucket}. triage_json: the `inspect --json`
 * text (NULL: none); cr: the crash report (NULL: none); crash_bucket: NULL for none; all_roots: include
 * probable false roots. malloc'd string (caller frees), NULL on allocation failure. */
char *heap_analysis_to_json(const char *file, const char *triage_json, const struct heap_analysis *a,
	const struct crashreport *cr, const char *crash_bucket, int all_roots, int pretty);

/* The crash bucket of a .NET crash: "APP[@VERSION]|EXCEPTION_TYPE|FIRST_APP_FRAME" from the engine's
 * managed exception (its stack, else the faulting thread's), else the crash report; NULL (and DS_OK)
 * when neither names an exception. Frames are methods without arguments; the first application frame is
 * the innermost whose type is not the runtime's. '|' and line breaks in target text become '/' and ' '.
 * *title gets "EXCEPTION_TYPE at FRAME". Both malloc'd. DS_ENOMEM. */
int heap_crash_bucket(const char *app, const char *app_version, const struct heap_analysis *a,
	const struct crashreport *cr, char **key, char **title);

#endif
