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

#include "core/ds.h"
#include "lib/config.h"
#include "lib/fleet_config.h"

struct cJSON;
struct store;
struct fleet;

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
void fleet_free(struct fleet *f);

#endif
