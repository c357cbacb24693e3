/* store_status.c - the service's own rows in the store: the status row the CLI's `status` shows
 * (start, heartbeat, last error) and small persistent values (service_kv), see store.h. */
#include "store.h"
#include "store_int.h"

#include <stdlib.h>

static const char sql_start[] =
	"INSERT INTO service_status (id, version, pid, hostname, started_at, heartbeat_at, config_json, "
	"collection_json, last_error, last_error_at) VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL, NULL) "
	"ON CONFLICT (id) DO UPDATE SET version = excluded.version, pid = excluded.pid, "
	"hostname = excluded.hostname, started_at = excluded.started_at, "
	"heartbeat_at = excluded.heartbeat_at, config_json = excluded.config_json, "
	"collection_json = excluded.collection_json, last_error = NULL, last_error_at = NULL";
static const char sql_heartbeat[] = "INSERT INTO service_status (id, heartbeat_at) VALUES (1, ?1) "
				    "ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at";
static const char sql_error[] = "INSERT INTO service_status (id, last_error, last_error_at) VALUES (1, ?1, ?2) "
				"ON CONFLICT (id) DO UPDATE SET last_error = excluded.last_error, "
				"last_error_at = excluded.last_error_at";
static const char sql_kv_get[] = "SELECT value FROM service_kv WHERE key = ?1";
static const char sql_kv_set[] = "INSERT INTO service_kv (key, value, updated_at) VALUES (?1, ?2, ?3) "
				 "ON CONFLICT (key) DO UPDATE SET value = excluded.value, "
				 "updated_at = excluded.updated_at";

int store_status_start(struct store *s, const struct store_status *stt, struct ds_err *e)
{
	return store_write(s, sql_start, NULL, e, "writing the service status", "titiitt", stt->version, stt->pid,
			   stt->hostname, stt->started_at, stt->heartbeat_at, stt->config_json, stt->collection_json);
}

int store_status_heartbeat(struct store *s, int64_t now, struct ds_err *e)
{
	return store_write(s, sql_heartbeat, NULL, e, "writing the heartbeat", "i", now);
}

int store_status_error(struct store *s, const char *error, int64_t now, struct ds_err *e)
{
	return store_write(s, sql_error, NULL, e, "writing the service's last error", error != NULL ? "ei" : "e-",
			   error, now);
}

int store_kv_get(struct store *s, const char *key, char **value, struct ds_err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = store_row(s, sql_kv_get, &st, e, "reading a service value", "t", key);

	*value = NULL;
	if (rc == 0)
		rc = ds_err_setn(e, DS_ENOENT, "no value %s in %s", key, s->path);
	if (rc < 0)
		goto out;
	*value = store_col_dup(st, 0);
	rc = *value != NULL ? DS_OK : ds_err_setn(e, DS_ENOMEM, "out of memory");
out:
	store_release(s);
	return rc;
}

int store_kv_set(struct store *s, const char *key, const char *value, int64_t now, struct ds_err *e)
{
	if (key == NULL)
		return ds_err_setn(e, DS_EINVAL, "store_kv_set: no key");
	return store_write(s, sql_kv_set, NULL, e, "writing a service value", "tti", key, value, now);
}
