/* source.h - where the CLI's read commands (list, show, buckets, roots, report) get their data: the
 * service's SQLite store (dbopen.h), or, with the global --fleet option, the fleet's central PostgreSQL
 * (core/fleetdb.h), whose answers have the store's shapes plus "host" fields, so each command's
 * renderers print both. main.c strips --fleet, --host NAME and --fleet-url URL from the arguments
 * (cli_fleet_args) before the command parses the rest. Not thread-safe (process-wide options). */
#ifndef DS_CLI_SOURCE_H
#define DS_CLI_SOURCE_H

#include <stdint.h>

#include "core/ds.h"
#include "core/store.h"
#include "dbopen.h"

struct cJSON;
struct fleetdb;

/* The --fleet help lines. */
#define SOURCE_HELP                                                                                       \
	"  --fleet          ask the fleet's central database (fleet.url of the config, $DUMPSCOUT_FLEET_URL\n" \
	"                   or --fleet-url URL) instead of this machine's; adds a HOST column\n"              \
	"  --host NAME      with --fleet: only this host (its name or host id)\n"

/* Takes --fleet, --host NAME and --fleet-url URL (also --host=NAME, --fleet-url=URL) out of argv,
 * anywhere after argv[0]; --host without --fleet is left alone (for the commands' own use). Returns 0,
 * or -1 with a message when a value is missing. */
int cli_fleet_args(int *argc, char **argv);
/* 1 when --fleet was given. */
int cli_fleet_active(void);
/* --host's value or NULL. */
const char *cli_fleet_host(void);

/* Opens the central database for cmd: the URL from --fleet-url, $DUMPSCOUT_FLEET_URL or the config's
 * fleet.url (whose password rules then apply; otherwise libpq's PGPASSWORD/.pgpass), and checks its
 * schema version unless init is set. Prints what went wrong. Returns an exit code; *out owned by the
 * caller (fleetdb_close). */
int cli_fleet_open(const char *cmd, const struct dbopen_opts *dbo, int init, struct fleetdb **out);

struct cli_src {
	const char *cmd;
	struct store *st;      /* local */
	struct fleetdb *fdb;   /* --fleet */
};

/* Opens the source (read-only). Returns an exit code (message printed). */
int src_open(const char *cmd, const struct dbopen_opts *dbo, struct cli_src *s);
void src_close(struct cli_src *s);
/* Prints the message for an error of a source call and returns the exit code for it. */
int src_fail(struct cli_src *s, int rc, const struct ds_err *e);

/* As store_dump_list, store_dump_get, store_bucket_list, store_bucket_get, store_roots_list and
 * report_build; with --fleet the --host filter applies. */
int src_dump_list(struct cli_src *s, const struct store_dump_filter *f, struct cJSON **out, struct ds_err *e);
int src_dump_get(struct cli_src *s, int64_t id, struct cJSON **out, struct ds_err *e);
int src_bucket_list(struct cli_src *s, const struct store_bucket_filter *f, struct cJSON **out, struct ds_err *e);
int src_bucket_get(struct cli_src *s, int64_t id, int64_t dump_limit, struct cJSON **out, struct ds_err *e);
int src_roots_list(struct cli_src *s, int64_t since, int64_t limit, struct cJSON **out, struct ds_err *e);
int src_report(struct cli_src *s, int64_t since, int64_t until, int64_t now, struct cJSON **out, struct ds_err *e);

#endif
