/* fleet_config.h - the "fleet" section of the configuration (docs/fleet.md): its typed form, its checks and
 * the password's rules, shared by the service's publisher (service/fleet.c) and the CLI's --fleet
 * (cli/source.c). It opens no connection and touches no database. */
#ifndef DS_LIB_FLEET_CONFIG_H
#define DS_LIB_FLEET_CONFIG_H

#include <stdint.h>

#include "core/ds.h"

struct cJSON;

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
	char *dump_share;          /* "dump_share": absolute folder (mounted path, UNC path) for raw dumps; or NULL */
	uint32_t dump_share_days;  /* "dump_share_days": 30, days a copy stays on the share (0: kept) */
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
/* For `config check`: the dump share, when configured, exists and is a folder (a missing share at start-up
 * is not an error for the service: copies wait until it is back). DS_ENOENT, DS_EINVAL with a message. */
int fleet_config_check_share(const struct fleet_config *c, struct ds_err *e);
/* The password (malloc'd, free with fleet_config_password_free which wipes it), or NULL without one. */
int fleet_config_password(const struct fleet_config *c, char **pw, struct ds_err *e);
void fleet_config_password_free(char *pw);

/* 1 when the fleet section c (NULL: none configured) asks for fleet-wide digests (the local mailer then
 * leaves digests and alerts to the fleet's elected sender). */
int fleet_config_digest(const struct fleet_config *c);
#endif
