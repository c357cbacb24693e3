/* heap_run.h - finds and runs the heap engine (dumpscout-heap, engine/): where the engine is, which DAC
 * the dump needs and where it is on this machine, and one engine process per dump started with an argv
 * (no shell), bounded in time and output. It does not read the engine's document (engine_json.c does).
 * Reentrant: every call uses only its own state and process. */
#ifndef DS_HEAP_RUN_H
#define DS_HEAP_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/ds.h"

#define HEAP_ENGINE_NAME "dumpscout-heap"

/* The engine to run: `configured` when given (used as is, or not at all), else $DUMPSCOUT_HEAP_ENGINE,
 * else beside the running binary (engine/, ., ../libexec/dumpscout/, ../build/engine/), else
 * build/engine/ of the current folder (a checkout), else PATH. malloc'd path, or NULL when none. */
char *heap_find_engine(const char *configured);

/* The DAC file name for this host ("libmscordaccore.so", "mscordaccore.dll", "libmscordaccore.dylib"). */
const char *heap_dac_name(void);

/* Finds the DAC for runtime `version` ("10.0.12"), in this order: runtime_dir (the folder the dump
 * recorded for libcoreclr, from native triage; may be NULL) when it exists here; the installed shared
 * runtime of that exact version (DOTNET_ROOT, the usual install roots, ~/.dotnet, the project's
 * .tools/dotnet); then each of dac_dirs (the folder itself, FOLDER/VERSION, or a dotnet root under it).
 * On success *path is malloc'd. DS_ENOENT when none: why (whysz bytes) names the exact version and file
 * and where they were looked for, and how to get them. DS_ENOMEM. */
int heap_find_dac(const char *version, const char *runtime_dir, const char *const *dac_dirs, size_t ndac_dirs,
	char **path, char *why, size_t whysz);

struct heap_proc_result {
	int exited;          /* the process ended by itself */
	int64_t exit_status; /* valid when exited */
	int term_signal;
	int timed_out, too_big, cancelled;
	struct buf out;      /* stdout (at most max_output bytes) */
	struct buf err;      /* stderr (at most 64 KiB) */
};

/* The descriptor the child sees the dump as (heap_run_process's dump_fd), and the flag that makes the
 * engine exit when its stdin pipe reaches end of file (docs/engine.md). */
#define HEAP_CHILD_DUMP_FD 3
#define HEAP_PARENT_PIPE_FLAG "--parent-pipe"

/* Runs argv[0] with argv (NULL-terminated; no shell, the engine's environment gets invariant
 * globalization), collects stdout up to max_output bytes and stderr, and kills the process tree when it
 * outlives timeout_ms, writes more than max_output, or *cancel becomes non-zero (checked every 200 ms;
 * cancel may be NULL). dump_fd >= 0 (POSIX): that open descriptor (borrowed; the caller keeps it open
 * until this returns) becomes the child's descriptor HEAP_CHILD_DUMP_FD, so the child reads the file the
 * caller checked (plat_file_child_path). The child's stdin is a pipe nothing is ever written to, closed
 * only when this returns or this process dies: an engine given HEAP_PARENT_PIPE_FLAG exits at its end of
 * file, so it does not outlive a killed service. On Windows the child also belongs to libuv's
 * kill-on-close job object (plat_spawn_detach). Fills *r (release with heap_proc_result_free).
 * DS_EENGINE when the process could not be started (e has why), DS_ENOMEM. A timeout or a cap is a
 * result, not an error. */
int heap_run_process(char *const *argv, int dump_fd, uint32_t timeout_ms, size_t max_output,
	const volatile int *cancel, struct heap_proc_result *r, struct ds_err *e);
void heap_proc_result_free(struct heap_proc_result *r);

#endif
