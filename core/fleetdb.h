/* fleetdb.h - the central PostgreSQL store of the fleet (docs/fleet.md), over libpq: connecting with a
 * conninfo string and a password kept apart from it, applying the versioned schema of schema/fleet/
 * (embedded at build time), publishing a batch of outbox snapshots through fleet.ingest(), the read
 * functions behind `dumpscout --fleet ...` (JSON in the SQLite store's shapes plus host fields), and
 * the advisory lock that elects the fleet's one digest sender. The SQL it runs is calls of the
 * functions in schema/fleet/ (*.sql); the tables' SQL lives there and nowhere else. Built without libpq
 * (DS_HAVE_LIBPQ unset), every function returns DS_EUNSUPPORTED.
 *
 * Conventions: DS_OK or a negative DS_E... code with e filled; DS_ENET (cannot connect, connection
 * lost: worth a retry), DS_EPERM (the role may not do this), DS_ESCHEMA (schema missing, older or
 * newer than this binary), DS_EDB (other server errors), DS_EINVAL, DS_ENOMEM. Messages never contain
 * the password. cJSON results are owned by the caller. A struct fleetdb is one connection: one
 * thread at a time.
 */
#ifndef DS_FLEETDB_H
#define DS_FLEETDB_H

#include <stddef.h>
#include <stdint.h>

#include "ds.h"
#include "schema.h"

struct cJSON;
struct fleetdb;

/* The migrations of schema/fleet/, embedded by installer/embed_schema.sh (FLEET=1). */
extern const struct schema_migration fleet_schema_migrations[];
extern const size_t fleet_schema_migration_count;

/* The advisory lock key that elects the digest sender ("dumpscout" in ASCII, as a bigint). */
#define FLEETDB_SENDER_LOCK 28276610569560943LL
#define FLEETDB_SENDER_LOCK_SQL "28276610569560943"

/* 1 when this build has libpq (the fleet works), 0 for the stub. Thread-safe. */
int fleetdb_available(void);

/* Connects. conninfo is a libpq connection string or URI (sslmode=verify-full, sslrootcert... are
 * passed through to libpq); password (may be NULL) overrides any in conninfo; connect_timeout_s > 0
 * bounds the connection. *out owned by the caller (fleetdb_close). DS_ENET, DS_EINVAL, DS_ENOMEM. */
int fleetdb_connect(const char *conninfo, const char *password, int connect_timeout_s, struct fleetdb **out,
		    struct ds_err *e);
/* Closes the connection (an advisory lock it held is released). NULL-safe. */
void fleetdb_close(struct fleetdb *f);
/* 1 when the connection is still usable (not lost). */
int fleetdb_ok(const struct fleetdb *f);

/* Applies the migrations the database lacks, each in its own transaction under an advisory lock (two
 * inits at once are safe); *applied (may be NULL) gets how many. Needs a role that may create schemas
 * and roles (the database owner or a superuser). */
int fleetdb_init(struct fleetdb *f, int *applied, struct ds_err *e);
/* The database's schema version (0: none). DS_ESCHEMA when it is newer than this binary knows, or
 * older (then "run dumpscout fleet init"). */
int fleetdb_check(struct fleetdb *f, int *version, struct ds_err *e);

/* Publishes a batch: host_id (UUID text), host_info_json {"hostname", "os", "version", "backlog",
 * "overflowed"} and events_json (store_fleet_batch's array; NULL: only the host's heartbeat). Returns
 * once PostgreSQL has committed; *applied gets the events not seen before. */
int fleetdb_ingest(struct fleetdb *f, const char *host_id, const char *host_info_json, const char *events_json,
		   int *applied, struct ds_err *e);

/* ---- reads (each one function of schema/fleet/002_read_api.sql) ---- */

/* `list`: filter {host, app, since, until, state, bucket, leak, limit, offset, sort}. */
int fleetdb_list(struct fleetdb *f, const struct cJSON *filter, struct cJSON **out, struct ds_err *e);
/* `show ID` (the dump's seq); DS_ENOENT when there is none. */
int fleetdb_show(struct fleetdb *f, int64_t seq, struct cJSON **out, struct ds_err *e);
/* `buckets`: filter {host, kind, sort, since, before, limit}. */
int fleetdb_buckets(struct fleetdb *f, const struct cJSON *filter, struct cJSON **out, struct ds_err *e);
/* `show bucket ID` with at most dump_limit dumps; host may be NULL. DS_ENOENT. */
int fleetdb_bucket(struct fleetdb *f, int64_t seq, int64_t dump_limit, const char *host, struct cJSON **out,
		   struct ds_err *e);
int fleetdb_roots(struct fleetdb *f, int64_t since, int64_t limit, const char *host, struct cJSON **out,
		  struct ds_err *e);
/* store_report's and store_bucket_counts' shapes for the fleet (until 0: open). */
int fleetdb_report(struct fleetdb *f, int64_t since, int64_t until, const char *host, struct cJSON **out,
		   struct ds_err *e);
int fleetdb_bucket_counts(struct fleetdb *f, int64_t since, int64_t until, const char *host, struct cJSON **out,
			  struct ds_err *e);
/* `fleet status`: every host with last_seen, backlog, dumps. */
int fleetdb_hosts(struct fleetdb *f, struct cJSON **out, struct ds_err *e);
/* Buckets first seen at or after since, oldest first (alerts). */
int fleetdb_new_buckets(struct fleetdb *f, int64_t since, struct cJSON **out, struct ds_err *e);

/* ---- the digest sender ---- */

/* Tries to take (or confirms it holds) the session advisory lock FLEETDB_SENDER_LOCK: *held 1 when this
 * connection holds it. It lasts until the connection closes, so a dead sender's lock passes on. */
int fleetdb_sender_lock(struct fleetdb *f, int *held, struct ds_err *e);
/* Claims a fleet-wide mail key ("digest:...", "alert:..."): *claimed 1 for the first claim ever. */
int fleetdb_mail_claim(struct fleetdb *f, const char *host_id, const char *key, int *claimed, struct ds_err *e);

/* When the last fleet digest was claimed (ms; 0: never). */
int fleetdb_digest_last(struct fleetdb *f, int64_t *at, struct ds_err *e);
/* The buckets no fleet alert covered yet, now marked covered (each bucket goes to exactly one caller);
 * an array in store_bucket_list's shape, empty at the very first call (which marks what exists). */
int fleetdb_alert_claim(struct fleetdb *f, const char *host_id, struct cJSON **out, struct ds_err *e);

#endif
