/* share.h - the service's round over the fleet's dump share (fleet.dump_share, docs/fleet.md): copies
 * that failed are tried again, and copies older than fleet.dump_share_days are deleted. Only the files
 * this service wrote (core/store_share.h's list) are ever touched. Loop thread. */
#ifndef DS_SERVICE_SHARE_H
#define DS_SERVICE_SHARE_H

#include <stdint.h>

struct fleet_config;
struct store;

/* At most this many failed copies are tried again per round (each is a whole-file copy on the loop
 * thread), and this many old copies deleted. */
#define SHARE_RETRY_MAX 2
#define SHARE_EXPIRE_MAX 200
/* A failed copy is tried again once this long has passed since its last attempt. */
#define SHARE_RETRY_AFTER_MS 60000

/* One round at now (ms); a no-op without fc->dump_share. host names this host's folder. Problems are
 * logged and recorded; nothing here fails the service. */
void share_round(struct store *st, const struct fleet_config *fc, const char *host, int64_t now);

#endif
