/* dbopen.h - how the CLI finds and opens the service's database and configuration: --db, then
 * $DUMPSCOUT_DB, then the "db" of --config FILE (or of the default config file when it exists), then
 * /var/lib/dumpscout/dumpscout.db and ./var/dumpscout.db when they exist. Every failure is printed as
 * a message that says what was tried and what to do. It does not query the database. */
#ifndef DS_CLI_DBOPEN_H
#define DS_CLI_DBOPEN_H

#include "core/ds.h"

#include <stdio.h>

struct store;
struct config;

#define DBOPEN_DEFAULT_DB "/var/lib/dumpscout/dumpscout.db"
#define DBOPEN_LOCAL_DB "./var/dumpscout.db"
#define DBOPEN_LOCAL_CONFIG "./var/dumpscout.json"

struct dbopen_opts {
	const char *db;      /* --db PATH (borrowed from argv) */
	const char *config;  /* --config FILE */
};

/* The lines of --help that describe --db and --config. */
#define DBOPEN_HELP                                                                                      \
	"  --db PATH        the database (default: $DUMPSCOUT_DB, the config's \"db\", " DBOPEN_DEFAULT_DB ",\n" \
	"                   or " DBOPEN_LOCAL_DB " when it exists)\n"                                        \
	"  --config FILE    the service's config file, to find the database\n"

/* If argv[*i] is --db/--config (also --db=PATH), stores its value, advances *i past it and returns 1;
 * returns 0 when it is not one of these; -1 (message printed for cmd) when the value is missing. */
int dbopen_arg(const char *cmd, int argc, char **argv, int *i, struct dbopen_opts *o);
/* The arguments every command that reads the database takes: the ones of dbopen_arg, --help/-h (usage
 * printed to stdout) and, when mode is not NULL (commands that print a table: list, buckets, roots,
 * show), --json/--csv (table_mode_arg, into *mode). Returns 0 when argv[*i] is none of them; 1 when it
 * was one and was taken (*i past its value); -1 when the command ends here: *code = DS_EXIT_OK after
 * --help, *code untouched after a missing value (dbopen_arg printed the problem). */
int dbopen_common_arg(const char *cmd, int argc, char **argv, int *i, struct dbopen_opts *o, int *mode,
		      void (*usage)(FILE *f), int *code);
/* For a command whose remaining options each take a value: argv[*i] must be one of opts (NULL-terminated)
 * with a value after it; then *i moves to the value, which is returned. Otherwise prints the problem for
 * cmd (an unknown argument, or a missing value) and returns NULL. */
const char *dbopen_value_arg(const char *cmd, int argc, char **argv, int *i, const char *const *opts);

/* Finds and opens the database read-only (rw = 0) or read-write (rw = 1: reanalyze, purge, report
 * --send; never creates a missing database). Busy timeout: $DUMPSCOUT_BUSY_MS or the store's default.
 * On failure prints a message for cmd (missing: what was tried; newer schema: upgrade; older schema:
 * start the service; locked: retry/what holds it; permission) and returns the exit code (1, or 2 for
 * a bad --config); DS_EXIT_OK on success with *out owned by the caller (store_close). */
int dbopen_open(const char *cmd, const struct dbopen_opts *o, int rw, struct store **out);

/* Loads the configuration: --config FILE, else the default config file or ./var/dumpscout.json when
 * one exists, else the defaults (*found = 0). cfg is freed by the caller (config_free) in every case.
 * Prints the problem and returns an exit code (2 for a bad file) on failure, DS_EXIT_OK on success. */
int dbopen_config(const char *cmd, const struct dbopen_opts *o, struct config *cfg, int *found);

/* Prints the message for a store error met while running cmd (DS_EBUSY, DS_ESCHEMA... with advice)
 * and returns the exit code for it. */
int dbopen_fail(const char *cmd, int rc, const struct ds_err *e);

#endif
