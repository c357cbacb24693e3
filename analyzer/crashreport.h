/* crashreport.h - reads the DUMP.crashreport.json that .NET's createdump writes beside a dump when
 * DOTNET_EnableCrashReport=1: the process name, runtime version and the crashed thread's managed
 * exception and stack, without starting the engine. Every value in that file is a JSON string
 * (booleans and hex numbers included); this reader converts them. Pure: text in, struct out.
 * Ownership: struct crashreport owns its strings; release with crashreport_free. Reentrant. */
#ifndef DS_CRASHREPORT_H
#define DS_CRASHREPORT_H

#include <stddef.h>
#include <stdint.h>

#include "core/ds.h"

#define CRASHREPORT_MAX_TEXT (16u << 20) /* bytes of JSON accepted */
#define CRASHREPORT_MAX_FRAMES 256       /* managed frames kept */

struct crashreport_frame {
	char *method;   /* owned; "Namespace.Type.Method(args)" */
	char *module;   /* owned; "Plugin.dll", or NULL */
	uint32_t il_offset;
	int has_il_offset;
};

struct crashreport {
	char *process_name;      /* owned, or NULL */
	char *runtime_version;   /* owned; first word of configuration.version ("10.0.1226.42308"), or NULL */
	char *architecture;      /* owned, or NULL */
	int has_crashed_thread;
	uint64_t crashed_thread_id;  /* native_thread_id of the thread with crashed == "true" */
	char *exception_type;    /* owned; managed_exception_type of that thread, or NULL */
	uint32_t exception_hresult;
	int has_hresult;
	struct crashreport_frame *frames; /* owned; managed frames of the crashed thread, innermost first */
	size_t nframes;
};

/* Parses the report text. DS_EPARSE (not JSON, or no "payload" object), DS_ETOOBIG, DS_ENOMEM.
 * Fields the report lacks stay NULL/0. On error *r is freed. */
int crashreport_parse(const char *text, size_t len, struct crashreport *r, struct ds_err *e);
/* Reads and parses a file (at most CRASHREPORT_MAX_TEXT bytes). Adds DS_ENOENT and DS_EIO. */
int crashreport_read_file(const char *path, struct crashreport *r, struct ds_err *e);
void crashreport_free(struct crashreport *r);

#endif
