/* store_fleet.c - the SQLite side of the fleet: the outbox of dump snapshots (schema/003_fleet_outbox.sql),
 * written inside store_records.c's triage and analysis transactions and read in batches by the publisher, the
 * backlog bound with its resync, and the host id (see store_fleet.h). The snapshot is built by SQLite's
 * JSON functions from the rows themselves, so what is published is exactly what was committed. It does
 * not talk to PostgreSQL and decides no retry policy. */
#include "store_fleet.h"
#include "store.h"
#include "store_int.h"
#include "text.h"

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A random (version 4) UUID in lowercase text, made by SQLite. */
#define FLEET_UUID_SQL                                                                                       \
	"lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' " \
	"|| substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || '-' || "            \
	"hex(randomblob(6)))"

/* JSON text columns are copied as JSON when valid (they are ours, but a damaged value must never make
 * the local recording fail) and as null otherwise. Subqueries lose SQLite's JSON subtype: json() again. */
#define FLEET_JSON_COL(c) "CASE WHEN json_valid(" c ") THEN json(" c ") END"

#define FLEET_ROOTS_SQL                                                                                           \
	"json((SELECT json_group_array(json_object('ordinal', r.ordinal, 'kind', r.kind, 'culprit', r.culprit, "     \
	"'signature', r.signature, 'probable_false_root', r.probable_false_root, 'thread', r.thread, "              \
	"'frame', r.frame, 'catalogue_id', r.catalogue_id, 'chain_text', r.chain_text, "                           \
	"'chain', " FLEET_JSON_COL("r.chain_json") ")) "                                                            \
	"FROM (SELECT * FROM roots WHERE context_id = c.id ORDER BY ordinal) r))"

#define FLEET_CONTEXTS_SQL                                                                                    \
	"json((SELECT json_group_array(json_object('ordinal', c.ordinal, 'name', c.name, "                       \
	"'loader_allocator', c.loader_allocator, 'state', c.state, 'roots', " FLEET_ROOTS_SQL ")) "              \
	"FROM (SELECT * FROM contexts WHERE analysis_id = a.id ORDER BY ordinal) c))"

#define FLEET_ANALYSIS_SQL                                                                                      \
	"json((SELECT json_object('engine', a.engine, 'engine_version', a.engine_version, 'status', a.status, "    \
	"'started_at', a.started_at, 'finished_at', a.finished_at, 'duration_ms', a.duration_ms, "               \
	"'error', a.error, 'exception_type', a.exception_type, 'exception_message', a.exception_message, "       \
	"'result', " FLEET_JSON_COL("a.result_json") ", 'contexts', " FLEET_CONTEXTS_SQL ") "                    \
	"FROM analyses a WHERE a.dump_id = d.id))"

/* The snapshot of dump d (docs/fleet.md lists the fields; the central ingest function reads them). */
#define FLEET_SNAPSHOT_SQL                                                                                      \
	"json_object('local_id', d.id, 'path', d.path, 'file_name', d.file_name, 'size', d.size, "               \
	"'sha256', d.sha256, 'discovered_at', d.discovered_at, 'updated_at', d.updated_at, 'state', d.state, "    \
	"'attempts', d.attempts, 'last_error', d.last_error, 'duplicate_of', d.duplicate_of, "                    \
	"'deleted_at', d.deleted_at, 'triaged_at', d.triaged_at, 'app', d.app, 'format', d.format, "               \
	"'writer', d.writer, 'os', d.os, 'os_version', d.os_version, 'arch', d.arch, 'pid', d.pid, "              \
	"'process_name', d.process_name, 'app_version', d.app_version, 'command_line', d.command_line, "          \
	"'dump_time', d.dump_time, 'exception_code', d.exception_code, 'exception_name', d.exception_name, "      \
	"'exception_address', d.exception_address, 'fault_address', d.fault_address, "                           \
	"'crashing_thread', d.crashing_thread, 'thread_count', d.thread_count, 'module_count', d.module_count, "  \
	"'runtime_name', d.runtime_name, 'runtime_version', d.runtime_version, 'has_heap', d.has_heap, "          \
	"'has_leak', d.has_leak, 'share_path', (SELECT sf.path FROM share_files sf WHERE sf.dump_id = d.id AND sf.state = 'copied'), " \
	"'triage', " FLEET_JSON_COL("d.triage_json") ", "                                                        \
	"'crash_bucket', json((SELECT json_object('key', b.key, 'title', b.title) FROM buckets b "               \
	"WHERE b.id = d.crash_bucket_id)), 'analysis', " FLEET_ANALYSIS_SQL ")"

#define FLEET_INSERT_SQL(where)                                                                                \
	"INSERT INTO fleet_outbox (event_id, dump_id, created_at, payload) SELECT " FLEET_UUID_SQL ", d.id, ?2, " \
	FLEET_SNAPSHOT_SQL " FROM dumps d, fleet_state f WHERE " where " AND f.enabled = 1"

static const char fleet_sql_enqueue[] =
	FLEET_INSERT_SQL("d.id = ?1 AND (SELECT count(*) FROM fleet_outbox) < f.max_backlog");
static const char fleet_sql_overflow[] =
	"UPDATE fleet_state SET overflow_from = min(coalesce(overflow_from, ?1), ?1), overflowed = overflowed + 1 "
	"WHERE enabled = 1";
/* A dump is published once it is triaged or has failed its triage (not a dump, corrupt: 'failed' or
 * 'unsupported' without a triage); one still waiting for its triage has nothing to publish yet. */
#define FLEET_PUBLISHED(d) "(" d "triaged_at IS NOT NULL OR " d "state IN ('failed', 'unsupported'))"
/* A resync writes dumps in id order from overflow_from, published ones only (the others get their
 * snapshot when they are recorded). */
static const char fleet_sql_resync[] =
	FLEET_INSERT_SQL("d.id BETWEEN ?1 AND ?3 AND " FLEET_PUBLISHED("d."));

/* Reads the single integer of a query without parameters; *v 0 when no row or NULL. */
static int fleet_int(struct store *s, const char *sql, int64_t *v, struct ds_err *e, const char *what)
{
	sqlite3_stmt *st = NULL;
	int rc = store_row(s, sql, &st, e, what, "");

	*v = rc == 1 ? sqlite3_column_int64(st, 0) : 0;
	if (st != NULL)
		sqlite3_reset(st);
	return rc < 0 ? rc : DS_OK;
}

int store_fleet_enqueue(struct store *s, int64_t dump_id, int64_t now, struct ds_err *e)
{
	int64_t n = 0;
	int rc = store_do(s, fleet_sql_enqueue, &n, e, "writing the fleet outbox", "ii", dump_id, now);

	/* nothing written: publishing is off (the update matches no row then), or the backlog is full */
	if (rc == DS_OK && n == 0)
		rc = store_do(s, fleet_sql_overflow, NULL, e, "writing the fleet outbox", "i", dump_id);
	return rc;
}

int store_fleet_configure(struct store *s, int enabled, int64_t max_backlog, struct ds_err *e)
{
	if (max_backlog <= 0)
		return ds_err_setn(e, DS_EINVAL, "fleet: the backlog bound must be positive");
	return store_write(s, "UPDATE fleet_state SET enabled = ?1, max_backlog = ?2 WHERE id = 1", NULL, e,
			   "configuring the fleet outbox", "ii", (int64_t)(enabled ? 1 : 0), max_backlog);
}

int store_fleet_host_id(struct store *s, char out[STORE_FLEET_UUID_LEN], struct ds_err *e)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *v;
	int rc = DS_OK;

	out[0] = '\0';
	if (store_writable(s))
		rc = store_do(s,
			      "INSERT OR IGNORE INTO service_kv (key, value, updated_at) "
			      "VALUES ('fleet.host_id', " FLEET_UUID_SQL ", CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))",
			      NULL, e, "making the fleet host id", "");
	if (rc == DS_OK)
		rc = store_row(s, "SELECT value FROM service_kv WHERE key = 'fleet.host_id'", &st, e,
			       "reading the fleet host id", "");
	if (rc == 0)
		rc = ds_err_setn(e, DS_ENOENT, "database %s has no fleet host id yet", store_path(s));
	if (rc < 0)
		goto out;
	v = sqlite3_column_text(st, 0);
	if (v == NULL || strlen((const char *)v) != STORE_FLEET_UUID_LEN - 1) {
		rc = ds_err_setn(e, DS_EDB, "database %s: the fleet host id is damaged", store_path(s));
		goto out;
	}
	memcpy(out, v, STORE_FLEET_UUID_LEN);
	rc = DS_OK;
out:
	store_release(s);
	return rc;
}

int store_fleet_batch(struct store *s, size_t max_events, size_t max_bytes, char **json, size_t *n,
		      int64_t *last_id, struct ds_err *e)
{
	sqlite3_stmt *st = NULL;
	char *buf = NULL, *nb, *fixed = NULL;
	size_t len = 0, cap = 0, need, plen;
	const char *ev, *payload;
	int rc;

	*json = NULL;
	*n = 0;
	*last_id = 0;
	rc = store_row(s, "SELECT id, event_id, payload FROM fleet_outbox ORDER BY id LIMIT ?1", &st, e,
		       "reading the fleet outbox", "i", (int64_t)max_events);
	for (; rc == 1; rc = store_step(s, st, e, "reading the fleet outbox")) {
		ev = (const char *)sqlite3_column_text(st, 1);
		payload = (const char *)sqlite3_column_text(st, 2);
		plen = (size_t)sqlite3_column_bytes(st, 2);
		if (ev == NULL || payload == NULL) {
			rc = ds_err_setn(e, DS_EDB, "database %s: a fleet outbox row is empty", store_path(s));
			goto out;
		}
		/* A file name is bytes on POSIX, not always UTF-8, and PostgreSQL refuses a batch holding
		 * invalid UTF-8 (every later batch would wait behind it): bad bytes become U+FFFD. The JSON
		 * structure is ASCII, so only string contents change. */
		free(fixed);
		fixed = NULL;
		if (!text_utf8_valid(payload, plen)) {
			fixed = text_utf8_fix(payload, plen);
			if (fixed == NULL) {
				rc = ds_err_setn(e, DS_ENOMEM, "out of memory reading the fleet outbox");
				goto out;
			}
			payload = fixed;
			plen = strlen(fixed);
		}
		need = len + plen + 64;
		if (*n > 0 && need > max_bytes)
			break;
		if (need + 2 > cap) {
			cap = (need + 2) * 2;
			nb = realloc(buf, cap);
			if (nb == NULL) {
				rc = ds_err_setn(e, DS_ENOMEM, "out of memory reading the fleet outbox");
				goto out;
			}
			buf = nb;
		}
		len += (size_t)snprintf(buf + len, cap - len, "%s{\"id\":\"%s\",\"data\":", *n == 0 ? "[" : ",", ev);
		memcpy(buf + len, payload, plen);
		len += plen;
		buf[len++] = '}';
		buf[len] = '\0';
		*last_id = sqlite3_column_int64(st, 0);
		(*n)++;
	}
	if (rc < 0)
		goto out;
	rc = DS_OK;
	if (*n > 0) {
		buf[len++] = ']';
		buf[len] = '\0';
		*json = buf;
		buf = NULL;
	}
out:
	store_release(s);
	free(buf);
	free(fixed);
	return rc;
}

int store_fleet_sent(struct store *s, int64_t last_id, size_t n, int64_t now, struct ds_err *e)
{
	const char *what = "marking fleet events sent";
	int rc = store_tx_begin(s, e);

	if (rc != DS_OK)
		goto out;
	rc = store_do(s, "DELETE FROM fleet_outbox WHERE id <= ?1", NULL, e, what, "i", last_id);
	if (rc == DS_OK)
		rc = store_do(s, "UPDATE fleet_state SET sent = sent + ?1, last_sent_at = ?2, last_error = NULL "
				 "WHERE id = 1", NULL, e, what, "ii", (int64_t)n, now);
	rc = store_tx_end(s, rc, e);
out:
	store_release(s);
	return rc;
}

int store_fleet_failed(struct store *s, int64_t last_id, const char *error, int64_t now, struct ds_err *e)
{
	const char *what = "recording a fleet error";
	int rc = store_tx_begin(s, e);

	if (rc != DS_OK)
		goto out;
	rc = store_do(s, "UPDATE fleet_outbox SET attempts = attempts + 1 WHERE id <= ?1", NULL, e, what, "i", last_id);
	if (rc == DS_OK)
		rc = store_do(s, "UPDATE fleet_state SET last_error_at = ?1, last_error = substr(?2, 1, 4000) "
				 "WHERE id = 1", NULL, e, what, "it", now, error);
	rc = store_tx_end(s, rc, e);
out:
	store_release(s);
	return rc;
}

int store_fleet_backlog(struct store *s, int64_t *n, struct ds_err *e)
{
	int rc = fleet_int(s, "SELECT count(*) FROM fleet_outbox", n, e, "counting the fleet outbox");

	store_release(s);
	return rc;
}

int store_fleet_resync(struct store *s, int64_t now, int64_t *n, struct ds_err *e)
{
	sqlite3_stmt *st = NULL;
	int64_t from = 0, max = 0, backlog = 0, written = 0, upto = 0, room;
	int rc, tx = 0;

	if (n != NULL)
		*n = 0;
	rc = store_tx_begin(s, e);
	if (rc != DS_OK)
		goto out;
	tx = 1;
	rc = fleet_int(s, "SELECT coalesce(overflow_from, 0) FROM fleet_state WHERE enabled = 1", &from, e,
		       "reading the fleet state");
	if (rc == DS_OK && from > 0)
		rc = fleet_int(s, "SELECT max_backlog FROM fleet_state", &max, e, "reading the fleet state");
	if (rc == DS_OK && from > 0)
		rc = store_fleet_backlog(s, &backlog, e);
	if (rc != DS_OK || from <= 0 || backlog >= max / 2)
		goto out;
	/* this round: the next `room` triaged dumps from overflow_from on (dumps that also have a regular
	 * snapshot in the outbox get a second one: publishing a snapshot twice changes nothing) */
	room = max / 2 - backlog > 0 ? max / 2 - backlog : 1;
	rc = store_row(s, "SELECT coalesce(max(id), 0) FROM (SELECT id FROM dumps WHERE id >= ?1 "
			  "AND " FLEET_PUBLISHED("") " ORDER BY id LIMIT ?2)",
		       &st, e, "reading the dumps to publish", "ii", from, room);
	upto = rc == 1 ? sqlite3_column_int64(st, 0) : 0;
	if (st != NULL)
		sqlite3_reset(st);
	rc = rc < 0 ? rc : DS_OK;
	if (rc == DS_OK && upto > 0)
		rc = store_do(s, fleet_sql_resync, &written, e, "writing the fleet outbox", "iii", from, now, upto);
	if (rc == DS_OK)
		rc = store_do(s, "UPDATE fleet_state SET overflow_from = (SELECT min(id) FROM dumps WHERE id > ?1 "
				 "AND " FLEET_PUBLISHED("") ") WHERE id = 1 AND ?2 > 0",
			      NULL, e, "updating the fleet state", "ii", upto > 0 ? upto : from, upto);
	if (rc == DS_OK && upto == 0)
		rc = store_do(s, "UPDATE fleet_state SET overflow_from = NULL WHERE id = 1", NULL, e,
			      "updating the fleet state", "");
	if (rc != DS_OK)
		goto out;
	rc = store_tx_commit(s, e);
	tx = 0;
	if (rc == DS_OK && n != NULL)
		*n = written;
out:
	if (tx)
		store_tx_rollback(s);
	store_release(s);
	return rc;
}

int store_fleet_status(struct store *s, cJSON **out, struct ds_err *e)
{
	sqlite3_stmt *st = NULL;
	cJSON *r = NULL, *v;
	char host[STORE_FLEET_UUID_LEN];
	int rc, i;

	*out = NULL;
	rc = store_row(s,
			   "SELECT enabled, (SELECT count(*) FROM fleet_outbox) AS backlog, max_backlog, "
			   "(SELECT min(created_at) FROM fleet_outbox) AS oldest_at, overflow_from, overflowed, sent, "
			   "last_sent_at, last_error, last_error_at FROM fleet_state WHERE id = 1",
			   &st, e, "reading the fleet state", "");
	if (rc == 0)
		rc = ds_err_setn(e, DS_EDB, "database %s has no fleet state row", store_path(s));
	if (rc < 0)
		goto out;
	rc = DS_OK;
	r = cJSON_CreateObject();
	if (r == NULL)
		goto oom;
	for (i = 0; i < sqlite3_column_count(st); i++) {
		const char *name = sqlite3_column_name(st, i);

		switch (sqlite3_column_type(st, i)) {
		case SQLITE_NULL: v = cJSON_CreateNull(); break;
		case SQLITE_TEXT: v = cJSON_CreateString((const char *)sqlite3_column_text(st, i)); break;
		default:
			v = i == 0 ? cJSON_CreateBool(sqlite3_column_int(st, i))
				   : cJSON_CreateNumber((double)sqlite3_column_int64(st, i));
		}
		if (v == NULL || !cJSON_AddItemToObject(r, name, v)) {
			cJSON_Delete(v);
			goto oom;
		}
	}
	if (store_fleet_host_id(s, host, NULL) == DS_OK)
		v = cJSON_AddStringToObject(r, "host_id", host);
	else
		v = cJSON_AddNullToObject(r, "host_id");
	if (v == NULL)
		goto oom;
	*out = r;
	r = NULL;
	goto out;
oom:
	rc = ds_err_setn(e, DS_ENOMEM, "out of memory reading the fleet state");
out:
	store_release(s);
	cJSON_Delete(r);
	return rc;
}
