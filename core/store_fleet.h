/* store_fleet.h - the SQLite side of the fleet (docs/fleet.md): the outbox of dump snapshots waiting to
 * be published to the central PostgreSQL, its bound, the stable host id, and the publisher's counters.
 * The SQL is in store_fleet.c; store_records.c calls store_fleet_enqueue inside its triage and analysis
 * transactions, so a snapshot is written exactly when the local rows are. It knows nothing of libpq.
 *
 * Conventions are store.h's: DS_OK or a negative DS_E... code with e filled (naming the database);
 * strings handed out are owned by the caller (free); one thread per struct store.
 */
#ifndef DS_STORE_FLEET_H
#define DS_STORE_FLEET_H

#include <stddef.h>
#include <stdint.h>

#include "ds.h"

struct cJSON;
struct store;

/* Default bound on unsent snapshots (fleet.max_backlog). */
#define STORE_FLEET_DEFAULT_BACKLOG 100000
/* A UUID in text: 36 characters and the NUL. */
#define STORE_FLEET_UUID_LEN 37

/* Writes the current snapshot of dump_id (its row, crash bucket, analysis with contexts and roots) to
 * the outbox under a new event UUID, when publishing is enabled; a no-op otherwise. When the backlog
 * is full the snapshot is not written and the dump is remembered (overflow_from) for
 * store_fleet_resync. Called by store_records.c inside its own transaction (it opens none itself). */
int store_fleet_enqueue(struct store *s, int64_t dump_id, int64_t now, struct ds_err *e);

/* Turns publishing on (with the backlog bound, > 0) or off; the service calls it at start from its
 * config. Read-write store. */
int store_fleet_configure(struct store *s, int enabled, int64_t max_backlog, struct ds_err *e);

/* This database's host id, a random UUID made once and kept in service_kv ("fleet.host_id"): the
 * identity of this service in the fleet. Read-write store (made on first call). */
int store_fleet_host_id(struct store *s, char out[STORE_FLEET_UUID_LEN], struct ds_err *e);

/* The oldest unsent snapshots, at most max_events and about max_bytes (the first one always), as the
 * JSON array text the central ingest function takes: [{"id": EVENT_UUID, "data": SNAPSHOT}, ...].
 * *json is malloc'd (caller frees), *n the number of events, *last_id the outbox id of the last one
 * (for store_fleet_sent). *n == 0 and *json NULL when the outbox is empty. */
int store_fleet_batch(struct store *s, size_t max_events, size_t max_bytes, char **json, size_t *n,
		      int64_t *last_id, struct ds_err *e);

/* The batch up to last_id was committed by PostgreSQL: its rows are deleted and counted as sent. */
int store_fleet_sent(struct store *s, int64_t last_id, size_t n, int64_t now, struct ds_err *e);

/* Publishing failed (error is kept, without secrets: the caller's text); the rows stay. */
int store_fleet_failed(struct store *s, int64_t last_id, const char *error, int64_t now, struct ds_err *e);

/* When dumps were left out because the backlog was full and the backlog is now under half its bound:
 * writes fresh snapshots of the dumps from overflow_from on (at most half the bound in one call; the
 * rest in later calls). *n (may be NULL) gets how many were written. */
int store_fleet_resync(struct store *s, int64_t now, int64_t *n, struct ds_err *e);

/* Unsent snapshots (the backlog). */
int store_fleet_backlog(struct store *s, int64_t *n, struct ds_err *e);

/* For `dumpscout status`: {"enabled", "host_id" (or null), "backlog", "max_backlog", "oldest_at",
 * "overflow_from", "overflowed", "sent", "last_sent_at", "last_error", "last_error_at"}. Works on a
 * read-only store. *out owned by the caller (cJSON_Delete). */
int store_fleet_status(struct store *s, struct cJSON **out, struct ds_err *e);

#endif
