/* config.h - the service's configuration: one JSON file (cJSON), every key optional with a default that
 * works out of the box. Unknown keys and wrong types are errors naming the key and the file. This
 * module parses and validates; it does not create folders or act on the values. Every key and its
 * default is documented in docs/service.md. */
#ifndef DS_CONFIG_H
#define DS_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/ds.h"
#include "core/log.h"

struct mail_config;
struct fleet_config;

/* The file dumpscoutd and `dumpscout` read when no --config is given (if it exists). */
#define CONFIG_DEFAULT_PATH "/etc/dumpscout/dumpscout.json"
#define CONFIG_DEFAULT_DATA_DIR "/var/lib/dumpscout"
#define CONFIG_MAX_DIRS 64
#define CONFIG_MAX_UNITS 256
#define CONFIG_MAX_FILE (1024 * 1024)

struct config {
	char *file;              /* the file it came from, or NULL (defaults only) */
	char *data_dir;          /* "data_dir" */
	char **dump_dirs;        /* "dump_dirs": absolute paths; default DATA_DIR/dumps */
	size_t ndump_dirs;
	char *db;                /* "db": default DATA_DIR/dumpscout.db */
	enum log_level log_level;        /* "log_level": "info" */
	uint32_t heartbeat_s;            /* "heartbeat_s": 30 */
	/* "watch" */
	uint32_t stability_ms;           /* "watch.stability_ms": 2000 */
	uint32_t rescan_s;               /* "watch.rescan_s": 300 (0 = never) */
	/* "analysis" */
	uint32_t concurrency;            /* "analysis.concurrency": 1 */
	char *engine;                    /* "analysis.engine": the heap engine, "" = find it (build/engine,
					    libexec/dumpscout, beside the binaries, PATH) */
	uint32_t command_timeout_s;      /* "analysis.command_timeout_s": 120 */
	uint32_t dump_timeout_s;         /* "analysis.dump_timeout_s": 600 */
	uint64_t output_cap_bytes;       /* "analysis.output_cap_bytes": 64 MiB */
	uint32_t max_roots;              /* "analysis.max_roots": 64 (root paths per context) */
	char **dac_dirs;                 /* "analysis.dac_dirs": folders searched for the runtime's DAC after
					    the dump's own runtime folder and the installed shared runtimes */
	size_t ndac_dirs;
	/* "retries" */
	uint32_t max_attempts;           /* "retries.max_attempts": 3 */
	uint32_t backoff_base_s;         /* "retries.backoff_base_s": 60 (doubles per attempt) */
	/* "retention" (0 = no limit) */
	uint64_t max_count;              /* "retention.max_count": 1000 */
	uint64_t max_bytes;              /* "retention.max_bytes": 20 GiB */
	uint32_t max_age_days;           /* "retention.max_age_days": 90 */
	uint32_t retention_interval_s;   /* "retention.interval_s": 3600 */
	/* "collection" */
	char **units;                    /* "collection.units": systemd units to collect dumps from */
	size_t nunits;
	/* "wer": Windows Error Reporting LocalDumps, applied by the Windows service (lib/wer_win.c) */
	int wer_apply;                   /* "wer.apply": true (the service writes LocalDumps at start) */
	char *wer_dump_folder;           /* "wer.dump_folder": "" = the first of dump_dirs */
	uint32_t wer_dump_count;         /* "wer.dump_count": 10 */
	uint32_t wer_dump_type;          /* "wer.dump_type": 2 (0 custom, 1 mini, 2 full) */
	uint32_t wer_custom_dump_flags;  /* "wer.custom_dump_flags": 0 (MINIDUMP_TYPE bits, type 0 only) */
	char **wer_apps;                 /* "wer.applications": ["app.exe", ...]: per-application subkeys */
	size_t nwer_apps;
	/* "mail": parsed and validated once, at load, by lib/mail.c's rules; NULL when absent (owned).
	 * Its auth_block is the mail pump's state, so the pointee is not const even in a const config. */
	struct mail_config *mail;
	/* "fleet": parsed and validated once, at load, by lib/fleet_config.c's rules (relative paths made
	 * absolute); NULL when absent (owned, read-only after the load) */
	struct fleet_config *fleet;
};

/* Replaces the built-in data_dir default (CONFIG_DEFAULT_DATA_DIR) for every later load: the Windows
 * service and CLI pass %ProgramData%\dumpscout. The string is copied; NULL restores the default.
 * Call at start-up, before threads start. DS_ENOMEM. */
int config_set_default_data_dir(const char *dir);

/* The folder of a config file path, where its relative paths start (malloc'd, caller frees; "/" for a
 * file in the root), or NULL when the path has no folder part (the current folder) or on allocation
 * failure. Both '/' and, on Windows, '\\' separate folders. Reentrant. */
char *config_file_dir(const char *file);

/* The config file used when none is named: CONFIG_DEFAULT_PATH, or DATA_DIR/dumpscout.json once
 * config_set_default_data_dir replaced the data folder (Windows). Static storage; not thread-safe
 * against config_set_default_data_dir. */
const char *config_default_path(void);

/* Fills cfg with the defaults (data_dir /var/lib/dumpscout). Free with config_free. DS_ENOMEM. */
int config_defaults(struct config *cfg);

/* Loads path (NULL: defaults only) into cfg, which the caller frees with config_free (also on error).
 * Relative paths in the file are taken relative to the file's folder. Errors: DS_ENOENT/DS_EPERM/
 * DS_ETOOBIG (the file), DS_EPARSE (not JSON: e->msg has the line), DS_EINVAL (unknown key, wrong type,
 * value out of range: e->msg names the file and the key, e.g. "x.json: unknown key 'watch.foo'").
 * Thread-safe (no shared state). */
int config_load(const char *path, struct config *cfg, struct ds_err *e);

/* Same from text in memory; `file` names it in messages and anchors relative paths (may be NULL). */
int config_load_text(const char *text, size_t len, const char *file, struct config *cfg, struct ds_err *e);

/* For `dumpscout config check`: loads path and prints every problem, one per line ("FILE: ..."), to
 * out; prints "FILE: ok" when there are none. Returns an exit code: 0 ok, 2 problems in the file,
 * 1 the file could not be read. */
int config_check(const char *path, FILE *out);

/* The configuration in effect, every key with its value (defaults filled in) as a JSON text; malloc'd,
 * caller frees; NULL on allocation failure. Stored in the service status row. */
char *config_to_json(const struct config *cfg, int pretty);

/* Frees what cfg owns and zeroes it. NULL-safe and idempotent. */
void config_free(struct config *cfg);

#endif
