/* fleet_digest.h - digests and new-bucket alerts for a whole fleet (fleet.digest: true): every agent
 * with it tries to hold one PostgreSQL advisory lock (fleetdb_sender_lock); the holder, and only it,
 * builds the digest from the central database when the mail schedule says so and claims each digest
 * period and each new fleet-wide bucket in PostgreSQL (fleet.mail_claim, fleet.alert_claim) before it
 * queues the message in its own mail outbox, which its mailer delivers as usual. Fifty agents: one
 * digest per period, one alert per new bucket. It runs on the fleet publisher's pool thread. */
#ifndef DS_FLEET_DIGEST_H
#define DS_FLEET_DIGEST_H

#include <stdint.h>

#include "core/ds.h"
#include "lib/config.h"

struct fleetdb;
struct store;
struct fleet_digest;

/* Prepares the fleet digest from cfg's "mail" section (required: DS_EINVAL "fleet.digest needs a mail
 * section" without it). host is borrowed for the digest's life. *out owned (fleet_digest_free). */
int fleet_digest_new(const struct config *cfg, const char *host, struct fleet_digest **out, struct ds_err *e);
/* One step: takes or keeps the sender lock; when held, queues the digest if due and an alert for the
 * buckets new to the fleet. *queued (may be NULL) gets how many messages were queued. Pool thread
 * (blocking network I/O), with the publisher's connection and store. */
int fleet_digest_round(struct fleet_digest *d, struct fleetdb *db, struct store *st, const char *host_id, int64_t now,
		       int *queued, struct ds_err *e);
void fleet_digest_free(struct fleet_digest *d);

#endif
