/* fleet.h - the service's fleet publisher (docs/fleet.md): with a "fleet" section in the config, it
 * uploads the SQLite fleet outbox (core/store_fleet.c) to the central PostgreSQL in batches on a libuv
 * pool thread, with a store and a PostgreSQL connection of its own, marking a batch sent only after
 * PostgreSQL committed it; it reports this host's last-seen time and backlog, and, with
 * "fleet.digest", takes part in electing the fleet's single digest sender. Everything is started from
 * timers on the daemon's loop. It never logs the password. */
#ifndef DS_FLEET_H
#define DS_FLEET_H

#include <stdint.h>
#include <uv.h>

#include "../core/ds.h"
#include "config.h"

struct cJSON;
struct store;
struct fleet;

/* The parsed "fleet" section. */
struct fleet_config {
	char *url;                 /* "url": libpq connection string or URI (required) */
	char *password_file;       /* "password_file": absolute path, owner-only file; or */
	char *password_env;        /* "password_env": environment variable name; or neither (url/.pgpass) */
	char *hostname;            /* "hostname": the name shown for this host; default the machine's */
	uint32_t interval_s;       /* "interval_s": 10, longest wait between two rounds (heartbeat) */
	uint32_t batch_size;       /* "batch_size": 200 snapshots per batch */
	uint64_t batch_bytes;      /* "batch_bytes": 4 MiB per batch (a bigger single snapshot goes alone) */
	uint64_t max_backlog;      /* "max_backlog": 100000 unsent snapshots */
	uint32_t connect_timeout_s;/* "connect_timeout_s": 10 */
	int digest;                /* "digest": false; true: digests and alerts cover the fleet, one sender */
};

#define FLEET_PASSWORD_MAX 1024
/* Longest wait between rounds after failures (the backoff doubles from interval_s up to this). */
#define FLEET_MAX_BACKOFF_MS 30000

/* Validates a "fleet" section (relative paths from base_dir, NULL: the current folder) into *out
 * (owned: fleet_config_free). Unknown keys, wrong types, a readable password file (mode & 044) are
 * errors naming the key: DS_EINVAL, DS_EPERM, DS_ENOMEM. Thread-safe. */
int fleet_config_parse(const struct cJSON *section, const char *base_dir, struct fleet_config **out,
		       struct ds_err *e);
void fleet_config_free(struct fleet_config *c);
/* The password (malloc'd, free with fleet_password_free which wipes it), or NULL without one. */
int fleet_password(const struct fleet_config *c, char **pw, struct ds_err *e);
void fleet_password_free(char *pw);

/* Starts the publisher when cfg->fleet is set; without it, turns the outbox off (*out NULL, DS_OK).
 * host is the machine name (borrowed). st is the loop's store (borrowed). A first round runs at once.
 * *out owned by the caller (fleet_free after the loop stopped). Loop thread. */
int fleet_start(uv_loop_t *loop, struct store *st, const struct config *cfg, const char *host, struct fleet **out,
		struct ds_err *e);
/* fn(ctx) runs on the loop thread after a round in which the fleet digest queued mail (the daemon
 * pokes its mailer). Call after fleet_start; NULL-safe. */
void fleet_set_mail_hook(struct fleet *f, void (*fn)(void *ctx), void *ctx);
/* Something was recorded: publish soon. NULL-safe. Loop thread. */
void fleet_on_recorded(struct fleet *f);
/* Stops the timers; on_stopped(ctx) runs once the round in flight (if any) ended. NULL-safe. */
void fleet_stop(struct fleet *f, void (*on_stopped)(void *ctx), void *ctx);
/* 1 while a round runs on the pool thread. */
int fleet_busy(const struct fleet *f);
/* 1 when cfg's fleet section asks for fleet-wide digests (the local mailer then leaves digests and
 * alerts to the fleet's elected sender). */
int fleet_digest_enabled(const struct config *cfg);
void fleet_free(struct fleet *f);

#endif
