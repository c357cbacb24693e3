/* sos_run.h - the one place that starts the SOS engine (dotnet-dump analyze). A session is one engine
 * process for one dump, fed commands on stdin one at a time; each command's output is split off at the
 * engine's <END_COMMAND_OUTPUT>/<END_COMMAND_ERROR> markers. Limits on time (per command and per dump)
 * and output size are enforced here; on a limit the process is killed and what was gathered is kept.
 * A session runs its own private libuv loop, so it may be used from any one thread at a time (the
 * service calls it from a worker thread); sessions on different threads are independent. */
#ifndef DS_SOS_RUN_H
#define DS_SOS_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "../core/buf.h"
#include "../core/ds.h"

struct sos_limits {
	uint32_t cmd_timeout_ms;  /* one command (default 120 s) */
	uint32_t dump_timeout_ms; /* the whole session, start-up included (default 600 s) */
	size_t max_output;        /* bytes of engine output kept for the whole session (default 64 MiB) */
	uint32_t max_roots;       /* LoaderAllocator objects given to gcroot (default 64) */
};

/* What became of a session, for the analysis row and the CLI. */
enum sos_status {
	SOS_OK = 0,
	SOS_TIMEOUT,          /* a limit on time was reached; partial output kept */
	SOS_ENGINE_MISSING,   /* no engine found or it could not be started */
	SOS_NO_DAC,           /* "No CLR runtime found": no runtime or DAC for this dump */
	SOS_UNSUPPORTED_HOST, /* e.g. a Windows dump on a Linux host */
	SOS_FAILED,           /* the engine exited or failed otherwise */
	SOS_TOOBIG,           /* output cap reached */
	SOS_PARSE_ERROR,      /* the engine answered with text that is not what the command prints */
	SOS_NOT_DOTNET,       /* not run: no .NET runtime in the process (native triage only) */
	SOS_NO_HEAP,          /* not run: the dump holds no heap (a mini or triage dump) */
};

/* Stable lower-case names ("ok", "timeout", "engine_missing", "no_dac", "unsupported_host", "failed",
 * "output_too_big", "parse_error", "not_dotnet", "no_heap"): stored in the database and printed in JSON. */
const char *sos_status_name(enum sos_status st);

struct sos_run; /* opaque */

void sos_limits_default(struct sos_limits *lim);

/* Finds the engine: `configured` if not NULL/empty (used as given), else $DUMPSCOUT_ENGINE, else
 * .tools/dotnet-dump beside or above the running executable's folder, else ../libexec/dumpscout/dotnet-dump
 * from it (make install), else .tools/dotnet-dump in the
 * current folder, else dotnet-dump on PATH, else
 * ~/.dotnet/tools/dotnet-dump. Returns a malloc'd path (caller frees) or NULL if none exists. */
char *sos_run_find_engine(const char *configured);

/* Starts the engine on dump and waits for its start-up to finish. On success *out is a live session
 * (close it with sos_run_close). On failure *status says why (SOS_ENGINE_MISSING, SOS_UNSUPPORTED_HOST,
 * SOS_TIMEOUT, SOS_FAILED), e has the detail, and *out is NULL. Errors: DS_EENGINE, DS_ETIMEOUT,
 * DS_EUNSUPPORTED, DS_ENOMEM. */
int sos_run_open(const char *engine, const char *dump, const struct sos_limits *lim,
		 struct sos_run **out, enum sos_status *status, struct ds_err *e);

/* Runs one command and appends its output (without the echo and marker lines) to out, which the
 * caller owns. *cmd_failed is set when the engine ended it with <END_COMMAND_ERROR>.
 * DS_OK, DS_ETIMEOUT (the engine was killed), DS_EENGINE (the engine exited), DS_ETOOBIG. After any
 * error the session is dead and further commands fail at once. */
int sos_run_cmd(struct sos_run *s, const char *cmd, struct buf *out, int *cmd_failed);

/* The whole session as the engine printed it (echoes and markers included), NUL-terminated; owned by
 * the session. Valid until sos_run_close. */
const char *sos_run_transcript(const struct sos_run *s, size_t *len);

/* The session's status so far (SOS_OK while healthy). */
enum sos_status sos_run_status(const struct sos_run *s);

/* Sends `exit`, waits briefly, kills the engine if it lingers, and frees the session. NULL is allowed. */
void sos_run_close(struct sos_run *s);

#endif
