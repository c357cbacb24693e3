/* store.c - the SQLite store: open and migrate, the dump queue, triage/analysis records with their
 * buckets, retention, the outbox, the service status and the CLI's read queries (see store.h).
 * It is the only file that includes sqlite3.h; it does no file-system work beyond SQLite's own and
 * plat_mkdirs/plat_lstat, and it has no policy about when to retry or what to delete. */
#include "store.h"
#include "plat.h"
#include "schema.h"
#include "store_fleet.h"
#include "store_int.h"

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Cached statements, prepared on first use (SQLITE_PREPARE_PERSISTENT), values always bound. */
enum {
	Q_BEGIN, Q_BEGIN_READ, Q_COMMIT, Q_ROLLBACK, Q_SAVEPOINT, Q_RELEASE, Q_ROLLBACK_TO,
	Q_USER_VERSION,
	Q_DUMP_BY_PATH, Q_DUMP_INSERT, Q_DUMP_REFRESH, Q_DUMP_REPLACE_OLD, Q_DUMP_REPLACED_BY,
	Q_DUMP_FIND_HASH, Q_DUMP_SET_HASH,
	Q_CLAIM_TRIAGE, Q_CLAIM_ANALYZE, Q_CLAIM_MARK_TRIAGE, Q_CLAIM_MARK_ANALYZE, Q_JOB_GET,
	Q_TRANSITION, Q_RECOVER_ANALYZING, Q_RECOVER_LEASES, Q_RECOVER_OUTBOX,
	Q_NEXT_DUE, Q_QUEUE_COUNTS, Q_REQUEUE, Q_REQUEUE_FAILED,
	Q_DUMP_BASE, Q_BUCKET_UPSERT, Q_LINK_INSERT, Q_LINK_DELETE, Q_BUCKET_INC, Q_BUCKET_DEC,
	Q_BAPP_INC, Q_BAPP_DEC, Q_BAPP_PRUNE, Q_LINK_OF_KIND, Q_TRIAGE_UPDATE,
	Q_ANALYSIS_DELETE, Q_ANALYSIS_INSERT, Q_CONTEXT_INSERT, Q_ROOT_INSERT, Q_ANALYSIS_DUMP_UPDATE, Q_DUMP_CRASH_BUCKET,
	Q_RETENTION, Q_MARK_DELETED, Q_IDENTITY_SET,
	Q_OUTBOX_BY_KEY, Q_OUTBOX_INSERT, Q_OUTBOX_DUE, Q_OUTBOX_MARK_SENDING, Q_OUTBOX_GET, Q_OUTBOX_SENT,
	Q_OUTBOX_FAILED, Q_OUTBOX_NEXT_DUE,
	Q_STATUS_START, Q_STATUS_HEARTBEAT, Q_STATUS_ERROR, Q_KV_GET, Q_KV_SET,
	Q_GET_DUMP, Q_GET_DUMP_BUCKETS, Q_GET_ANALYSIS, Q_GET_CONTEXTS, Q_GET_ROOTS, Q_GET_DUPLICATES,
	Q_BUCKETS_BY_COUNT, Q_BUCKETS_BY_LAST, Q_BUCKETS_BY_FIRST, Q_BUCKET_APPS, Q_BUCKET_ONE, Q_ROOTS_LIST,
	Q_REPORT_BUCKETS,
	Q_STATUS_ROW, Q_OUTBOX_COUNTS, Q_RAW_USAGE, Q_KV_ALL,
	Q_BUCKET_RANGE_COUNTS, Q_REPORT_ROWS,
	Q_COUNT
};

#define PENDING_STATES "('discovered', 'triaged', 'analyzing')"
#define BUCKET_COLS "b.id, b.kind, b.key, b.title, b.first_seen, b.last_seen, b.count"
#define APP_COUNT "(SELECT COUNT(*) FROM bucket_apps ba WHERE ba.bucket_id = b.id) AS app_count"
/* The page of buckets is chosen first (the inner query, on the buckets table alone); the range counts
 * are then counted for those rows only, each a range of the dump_buckets_bucket index. */
#define BUCKETS_LIST(order)                                                                               \
	"SELECT " BUCKET_COLS ", " APP_COUNT ", "                                                           \
	"CASE WHEN ?2 <= 0 THEN b.count ELSE (SELECT COUNT(*) FROM dump_buckets x WHERE x.bucket_id = b.id " \
	"AND x.seen_at >= ?2) END AS count_since, "                                                         \
	"CASE WHEN ?2 <= 0 OR ?4 <= 0 THEN NULL ELSE (SELECT COUNT(*) FROM dump_buckets x "                \
	"WHERE x.bucket_id = b.id AND x.seen_at >= ?4 AND x.seen_at < ?2) END AS count_before "            \
	"FROM (SELECT * FROM buckets b WHERE (?1 IS NULL OR b.kind = ?1) ORDER BY " order ", b.id LIMIT ?3) b " \
	"ORDER BY " order ", b.id"
#define RANGE "discovered_at >= ?1 AND discovered_at < ?2"

static const char *const store_sql[Q_COUNT] = {
	[Q_BEGIN] = "BEGIN IMMEDIATE",
	[Q_BEGIN_READ] = "BEGIN",
	[Q_COMMIT] = "COMMIT",
	[Q_ROLLBACK] = "ROLLBACK",
	[Q_SAVEPOINT] = "SAVEPOINT store_sp",
	[Q_RELEASE] = "RELEASE store_sp",
	[Q_ROLLBACK_TO] = "ROLLBACK TO store_sp",
	[Q_USER_VERSION] = "PRAGMA user_version",
	[Q_DUMP_BY_PATH] = "SELECT id, size, mtime_ns, sha256, state, deleted_at, duplicate_of FROM dumps "
			   "WHERE path = ?1 AND replaced_at IS NULL",
	[Q_DUMP_INSERT] = "INSERT INTO dumps (path, file_name, size, mtime_ns, discovered_at, updated_at, sha256) "
			  "VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6)",
	[Q_DUMP_REFRESH] = "UPDATE dumps SET size = ?2, mtime_ns = ?3, sha256 = COALESCE(sha256, ?4), "
			   "deleted_at = NULL, updated_at = ?5 WHERE id = ?1",
	[Q_DUMP_REPLACE_OLD] =
		"UPDATE dumps SET replaced_at = ?2, deleted_at = COALESCE(deleted_at, ?2), lease_until = NULL, "
		"last_error = CASE WHEN state IN " PENDING_STATES " THEN 'the file was replaced before it was "
		"processed' ELSE last_error END, "
		"state = CASE WHEN state IN " PENDING_STATES " THEN 'failed' ELSE state END, updated_at = ?2 "
		"WHERE id = ?1",
	[Q_DUMP_REPLACED_BY] = "UPDATE dumps SET replaced_by = ?2 WHERE id = ?1",
	[Q_DUMP_FIND_HASH] = "SELECT id FROM dumps WHERE sha256 = ?1 AND id != ?2 AND duplicate_of IS NULL "
			     "ORDER BY id LIMIT 1",
	[Q_DUMP_SET_HASH] = "UPDATE dumps SET sha256 = ?2, duplicate_of = ?3, updated_at = ?4 WHERE id = ?1",
	[Q_CLAIM_TRIAGE] = "SELECT id FROM dumps WHERE state = 'discovered' AND next_attempt_at <= ?1 "
			   "AND (lease_until IS NULL OR lease_until <= ?1) ORDER BY next_attempt_at, id LIMIT 1",
	[Q_CLAIM_ANALYZE] = "SELECT id FROM dumps WHERE (state = 'triaged' AND next_attempt_at <= ?1 "
			    "AND (lease_until IS NULL OR lease_until <= ?1)) "
			    "OR (state = 'analyzing' AND lease_until <= ?1) ORDER BY next_attempt_at, id LIMIT 1",
	[Q_CLAIM_MARK_TRIAGE] = "UPDATE dumps SET attempts = attempts + 1, lease_until = ?2, updated_at = ?3 "
				"WHERE id = ?1",
	[Q_CLAIM_MARK_ANALYZE] = "UPDATE dumps SET state = 'analyzing', attempts = attempts + 1, "
				 "lease_until = ?2, updated_at = ?3 WHERE id = ?1",
	[Q_JOB_GET] = "SELECT id, path, size, mtime_ns, sha256, attempts, discovered_at, duplicate_of, "
		      "(SELECT file_id FROM dump_identity WHERE dump_id = dumps.id) FROM dumps WHERE id = ?1",
	[Q_TRANSITION] = "UPDATE dumps SET state = ?2, next_attempt_at = ?3, last_error = ?4, lease_until = NULL, "
			 "updated_at = ?5 WHERE id = ?1",
	[Q_RECOVER_ANALYZING] = "UPDATE dumps SET state = 'triaged', lease_until = NULL WHERE state = 'analyzing'",
	[Q_RECOVER_LEASES] = "UPDATE dumps SET lease_until = NULL WHERE lease_until IS NOT NULL",
	[Q_RECOVER_OUTBOX] = "UPDATE outbox SET state = 'queued' WHERE state = 'sending'",
	[Q_NEXT_DUE] = "SELECT MIN(max(next_attempt_at, COALESCE(lease_until, 0))) FROM dumps "
		       "WHERE state = ?1 OR (?1 = 'triaged' AND state = 'analyzing')",
	[Q_QUEUE_COUNTS] = "SELECT state, COUNT(*) FROM dumps GROUP BY state",
	[Q_REQUEUE] = "UPDATE dumps SET state = CASE WHEN triaged_at IS NULL THEN 'discovered' ELSE 'triaged' END, "
		      "attempts = 0, next_attempt_at = ?2, last_error = NULL, lease_until = NULL, updated_at = ?2 "
		      "WHERE id = ?1 AND deleted_at IS NULL",
	[Q_REQUEUE_FAILED] = "UPDATE dumps SET state = CASE WHEN triaged_at IS NULL THEN 'discovered' "
			     "ELSE 'triaged' END, attempts = 0, next_attempt_at = ?1, last_error = NULL, "
			     "lease_until = NULL, updated_at = ?1 WHERE state = 'failed' AND deleted_at IS NULL",
	[Q_DUMP_BASE] = "SELECT discovered_at, app FROM dumps WHERE id = ?1",
	[Q_BUCKET_UPSERT] = "INSERT INTO buckets (kind, key, title, first_seen, last_seen, count) "
			    "VALUES (?1, ?2, ?3, ?4, ?4, 0) ON CONFLICT (kind, key) DO UPDATE SET kind = kind "
			    "RETURNING id",
	[Q_LINK_INSERT] = "INSERT OR IGNORE INTO dump_buckets (dump_id, bucket_id, app, seen_at) "
			  "VALUES (?1, ?2, ?3, ?4)",
	[Q_LINK_DELETE] = "DELETE FROM dump_buckets WHERE dump_id = ?1 AND bucket_id = ?2 RETURNING app",
	[Q_BUCKET_INC] = "UPDATE buckets SET count = count + 1, first_seen = min(first_seen, ?2), "
			 "last_seen = max(last_seen, ?2) WHERE id = ?1",
	[Q_BUCKET_DEC] = "UPDATE buckets SET count = count - 1 WHERE id = ?1 AND count > 0",
	[Q_BAPP_INC] = "INSERT INTO bucket_apps (bucket_id, app, first_seen, last_seen, count) "
		       "VALUES (?1, ?2, ?3, ?3, 1) ON CONFLICT (bucket_id, app) DO UPDATE SET count = count + 1, "
		       "first_seen = min(first_seen, excluded.first_seen), "
		       "last_seen = max(last_seen, excluded.last_seen)",
	[Q_BAPP_DEC] = "UPDATE bucket_apps SET count = count - 1 WHERE bucket_id = ?1 AND app = ?2 AND count > 0",
	[Q_BAPP_PRUNE] = "DELETE FROM bucket_apps WHERE bucket_id = ?1 AND app = ?2 AND count = 0",
	[Q_LINK_OF_KIND] = "SELECT db.bucket_id, db.app FROM dump_buckets db JOIN buckets b ON b.id = db.bucket_id "
			   "WHERE db.dump_id = ?1 AND b.kind = ?2",
	[Q_TRIAGE_UPDATE] =
		"UPDATE dumps SET triaged_at = ?2, app = ?3, format = ?4, writer = ?5, os = ?6, os_version = ?7, "
		"arch = ?8, pid = ?9, process_name = ?10, app_version = ?11, command_line = ?12, dump_time = ?13, "
		"exception_code = ?14, exception_name = ?15, exception_address = ?16, fault_address = ?17, "
		"crashing_thread = ?18, thread_count = ?19, module_count = ?20, runtime_name = ?21, "
		"runtime_version = ?22, has_heap = ?23, crash_bucket_id = ?24, triage_json = ?25, state = ?26, "
		"attempts = 0, next_attempt_at = 0, lease_until = NULL, last_error = NULL, updated_at = ?2 "
		"WHERE id = ?1",
	[Q_ANALYSIS_DELETE] = "DELETE FROM analyses WHERE dump_id = ?1",
	[Q_ANALYSIS_INSERT] = "INSERT INTO analyses (dump_id, engine, engine_version, status, started_at, "
			      "finished_at, duration_ms, error, exception_type, exception_message, result_json) "
			      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
	[Q_CONTEXT_INSERT] = "INSERT INTO contexts (analysis_id, ordinal, name, loader_allocator, state) "
			     "VALUES (?1, ?2, ?3, ?4, ?5)",
	[Q_ROOT_INSERT] = "INSERT INTO roots (context_id, dump_id, ordinal, kind, culprit, signature, "
			  "probable_false_root, thread, frame, catalogue_id, chain_text, chain_json, bucket_id) "
			  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
	[Q_DUMP_CRASH_BUCKET] = "UPDATE dumps SET crash_bucket_id = ?2 WHERE id = ?1",
	[Q_ANALYSIS_DUMP_UPDATE] = "UPDATE dumps SET has_leak = ?2, state = ?3, next_attempt_at = ?4, "
				   "last_error = ?5, lease_until = NULL, updated_at = ?6 WHERE id = ?1",
	[Q_RETENTION] =
		"WITH ranked AS (SELECT db.dump_id, ROW_NUMBER() OVER (PARTITION BY db.bucket_id "
		"ORDER BY d.discovered_at DESC, d.id DESC) AS rn FROM dump_buckets db "
		"JOIN dumps d ON d.id = db.dump_id WHERE d.deleted_at IS NULL), "
		"newest AS (SELECT DISTINCT dump_id FROM ranked WHERE rn = 1) "
		"SELECT d.id, d.path, d.size, d.mtime_ns, d.discovered_at, d.crash_bucket_id, d.state, "
		"d.id IN (SELECT dump_id FROM newest) AS keep, i.file_id "
		"FROM dumps d LEFT JOIN dump_identity i ON i.dump_id = d.id WHERE d.deleted_at IS NULL "
		"AND (i.file_id IS NOT NULL OR d.state IN " PENDING_STATES ") ORDER BY d.discovered_at, d.id",
	[Q_IDENTITY_SET] = "INSERT INTO dump_identity (dump_id, file_id) VALUES (?1, ?2) "
			   "ON CONFLICT (dump_id) DO UPDATE SET file_id = excluded.file_id",
	[Q_MARK_DELETED] = "UPDATE dumps SET deleted_at = ?2, updated_at = ?2 WHERE id = ?1",
	[Q_OUTBOX_BY_KEY] = "SELECT id FROM outbox WHERE dedupe_key = ?1",
	[Q_OUTBOX_INSERT] = "INSERT INTO outbox (kind, dedupe_key, created_at, message_id, subject, to_addrs, "
			    "body_text, body_html, mime, bucket_id, next_attempt_at) "
			    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?3)",
	[Q_OUTBOX_DUE] = "SELECT id FROM outbox WHERE state = 'queued' AND next_attempt_at <= ?1 "
			 "ORDER BY next_attempt_at, id LIMIT 1",
	[Q_OUTBOX_MARK_SENDING] = "UPDATE outbox SET state = 'sending', attempts = attempts + 1 WHERE id = ?1",
	[Q_OUTBOX_GET] = "SELECT id, kind, state, attempts, dedupe_key, message_id, subject, to_addrs, body_text, "
			 "body_html, mime, last_error, bucket_id, created_at, next_attempt_at, sent_at "
			 "FROM outbox WHERE id = ?1",
	[Q_OUTBOX_SENT] = "UPDATE outbox SET state = 'sent', sent_at = ?2, last_error = NULL WHERE id = ?1",
	[Q_OUTBOX_FAILED] = "UPDATE outbox SET state = ?2, last_error = ?3, next_attempt_at = ?4 "
			    "WHERE id = ?1 AND state != 'sent'",
	[Q_OUTBOX_NEXT_DUE] = "SELECT MIN(next_attempt_at) FROM outbox WHERE state = 'queued'",
	[Q_STATUS_START] =
		"INSERT INTO service_status (id, version, pid, hostname, started_at, heartbeat_at, config_json, "
		"collection_json, last_error, last_error_at) VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL, NULL) "
		"ON CONFLICT (id) DO UPDATE SET version = excluded.version, pid = excluded.pid, "
		"hostname = excluded.hostname, started_at = excluded.started_at, "
		"heartbeat_at = excluded.heartbeat_at, config_json = excluded.config_json, "
		"collection_json = excluded.collection_json, last_error = NULL, last_error_at = NULL",
	[Q_STATUS_HEARTBEAT] = "INSERT INTO service_status (id, heartbeat_at) VALUES (1, ?1) "
			       "ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at",
	[Q_STATUS_ERROR] = "INSERT INTO service_status (id, last_error, last_error_at) VALUES (1, ?1, ?2) "
			   "ON CONFLICT (id) DO UPDATE SET last_error = excluded.last_error, "
			   "last_error_at = excluded.last_error_at",
	[Q_KV_GET] = "SELECT value FROM service_kv WHERE key = ?1",
	[Q_KV_SET] = "INSERT INTO service_kv (key, value, updated_at) VALUES (?1, ?2, ?3) "
		     "ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
	[Q_GET_DUMP] = "SELECT * FROM dumps WHERE id = ?1",
	[Q_GET_DUMP_BUCKETS] = "SELECT " BUCKET_COLS " FROM dump_buckets db JOIN buckets b ON b.id = db.bucket_id "
			       "WHERE db.dump_id = ?1 ORDER BY b.kind, b.id",
	[Q_GET_ANALYSIS] = "SELECT * FROM analyses WHERE dump_id = ?1",
	[Q_GET_CONTEXTS] = "SELECT id, ordinal, name, loader_allocator, state FROM contexts WHERE analysis_id = ?1 "
			   "ORDER BY ordinal",
	[Q_GET_ROOTS] = "SELECT id, ordinal, kind, culprit, signature, probable_false_root, thread, frame, "
			"catalogue_id, chain_text, chain_json, bucket_id FROM roots WHERE context_id = ?1 "
			"ORDER BY ordinal",
	[Q_GET_DUPLICATES] = "SELECT id FROM dumps WHERE duplicate_of = ?1 ORDER BY id",
	[Q_BUCKETS_BY_COUNT] = BUCKETS_LIST("b.count DESC"),
	[Q_BUCKETS_BY_LAST] = BUCKETS_LIST("b.last_seen DESC"),
	[Q_BUCKETS_BY_FIRST] = BUCKETS_LIST("b.first_seen DESC"),
	[Q_BUCKET_APPS] = "SELECT app, count, first_seen, last_seen FROM bucket_apps WHERE bucket_id = ?1 "
			  "ORDER BY count DESC, app LIMIT ?2",
	[Q_BUCKET_ONE] = "SELECT " BUCKET_COLS ", " APP_COUNT ", b.count AS count_since FROM buckets b WHERE b.id = ?1",
	[Q_ROOTS_LIST] = "SELECT b.id AS bucket_id, b.key AS signature, b.title AS culprit, r.kind, r.catalogue_id, "
			 "r.probable_false_root, b.count, b.first_seen, b.last_seen, r.dump_id AS example_dump_id, " APP_COUNT ", "
			 "(SELECT COUNT(DISTINCT context_id) FROM roots rc WHERE rc.bucket_id = b.id) AS context_count "
			 "FROM buckets b JOIN roots r ON r.id = (SELECT max(id) FROM roots WHERE bucket_id = b.id) "
			 "WHERE b.kind = 'root' AND b.count > 0 AND b.last_seen >= ?1 "
			 "ORDER BY b.count DESC, b.id LIMIT ?2",
	[Q_REPORT_BUCKETS] = "SELECT " BUCKET_COLS ", x.n AS count_in_range, (b.first_seen >= ?1) AS is_new "
			     "FROM (SELECT bucket_id, COUNT(*) AS n FROM dump_buckets WHERE seen_at >= ?1 "
			     "AND seen_at < ?2 GROUP BY bucket_id) x JOIN buckets b ON b.id = x.bucket_id "
			     "ORDER BY x.n DESC, b.id LIMIT 200",
	[Q_STATUS_ROW] = "SELECT * FROM service_status WHERE id = 1",
	[Q_OUTBOX_COUNTS] = "SELECT state, COUNT(*) FROM outbox GROUP BY state",
	[Q_RAW_USAGE] = "SELECT COUNT(*) AS count, COALESCE(SUM(size), 0) AS bytes, "
			"MIN(discovered_at) AS oldest_discovered_at FROM dumps WHERE deleted_at IS NULL",
	[Q_KV_ALL] = "SELECT key, value FROM service_kv ORDER BY key",
	[Q_BUCKET_RANGE_COUNTS] = "SELECT bucket_id, COUNT(*) AS count FROM dump_buckets WHERE seen_at >= ?1 "
				  "AND seen_at < ?2 GROUP BY bucket_id ORDER BY bucket_id",
	/* the report's day/state/app counts: one pass over the covering index dumps_report, in time order,
	 * counted in C (a GROUP BY here sorts in a temporary B-tree: several times slower) */
	[Q_REPORT_ROWS] = "SELECT discovered_at, app, state, has_leak FROM dumps WHERE " RANGE " ORDER BY discovered_at",
};

/* Applications listed per bucket in bucket and root listings (app_count has the total). */
#define STORE_LIST_APPS 5

/* Filters of store_dump_list: one cached statement per combination of filters and sort order. */
enum { LF_APP = 1, LF_SINCE = 2, LF_UNTIL = 4, LF_STATE = 8, LF_BUCKET = 16, LF_LEAK = 32, LF_SHAPES = 64 };

struct store {
	sqlite3 *db;
	char *path;
	int rw;
	int busy_ms;
	int version;
	int tx_depth;
	int bind_rc; /* first bind error since the statement was taken; reported by store_step */
	sqlite3_stmt *stmt[Q_COUNT];
	sqlite3_stmt *list_stmt[LF_SHAPES * STORE_SORT_COUNT];
};

static const char *const state_names[STORE_STATE_COUNT] = {
	"discovered", "triaged", "analyzing", "done", "failed", "unsupported",
};
static const char *const status_names[STORE_AN_COUNT] = {
	"ok", "timeout", "engine_missing", "no_dac", "unsupported_host", "failed", "parse_error",
};
static const char *const mail_kind_names[] = { "digest", "alert", "test" };
static const char *const mail_state_names[] = { "queued", "sending", "sent", "failed" };

static int store_name_parse(const char *const *names, int n, const char *name)
{
	int i;

	for (i = 0; name != NULL && i < n; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

const char *store_state_name(int state)
{
	return state >= 0 && state < STORE_STATE_COUNT ? state_names[state] : NULL;
}

int store_state_parse(const char *name)
{
	return store_name_parse(state_names, STORE_STATE_COUNT, name);
}

const char *store_analysis_status_name(int status)
{
	return status >= 0 && status < STORE_AN_COUNT ? status_names[status] : NULL;
}

int store_analysis_status_parse(const char *name)
{
	return store_name_parse(status_names, STORE_AN_COUNT, name);
}

const char *store_path(const struct store *s)
{
	return s->path;
}

struct sqlite3 *store_sqlite(struct store *s)
{
	return s->db;
}

int store_writable(const struct store *s)
{
	return s->rw;
}

int store_schema_version(const struct store *s)
{
	return s->version;
}

/* ---- errors, statements, binding ---- */

/* Turns a SQLite result code into a DS_E code with a message naming the database and the action. */
static int store_fail(struct store *s, struct ds_err *e, int rc, const char *what)
{
	const char *msg = sqlite3_errstr(rc);

	if (s->db != NULL && sqlite3_extended_errcode(s->db) == rc)
		msg = sqlite3_errmsg(s->db);
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return ds_err_setn(e, DS_EBUSY,
				   "database %s is locked by another connection (waited %d ms) while %s: "
				   "try again, or raise the busy timeout",
				   s->path, s->busy_ms, what);
	case SQLITE_NOMEM: return ds_err_setn(e, DS_ENOMEM, "out of memory while %s (database %s)", what, s->path);
	case SQLITE_TOOBIG:
		return ds_err_setn(e, DS_ETOOBIG, "a value is too large for database %s while %s", s->path, what);
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return ds_err_setn(e, DS_ECORRUPT, "database %s is damaged or not a dumpscout database (%s) while %s",
				   s->path, msg, what);
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return ds_err_setn(e, DS_EPERM, "cannot write database %s (%s) while %s", s->path, msg, what);
	case SQLITE_CANTOPEN:
		return ds_err_setn(e, DS_EIO, "cannot open database %s (%s)", s->path, msg);
	case SQLITE_IOERR:
	case SQLITE_FULL:
		return ds_err_setn(e, DS_EIO, "input/output error on database %s (%s) while %s", s->path, msg, what);
	case SQLITE_CONSTRAINT:
		return ds_err_setn(e, DS_EINVAL, "database %s refused a value while %s: %s", s->path, what, msg);
	default: return ds_err_setn(e, DS_EDB, "database %s: %s while %s", s->path, msg, what);
	}
}

/* Hands out cached statement q, reset and unbound. */
static int store_stmt(struct store *s, int q, sqlite3_stmt **out, struct ds_err *e)
{
	int rc = DS_OK;

	*out = NULL;
	if (s->stmt[q] == NULL) {
		int src = sqlite3_prepare_v3(s->db, store_sql[q], -1, SQLITE_PREPARE_PERSISTENT, &s->stmt[q], NULL);
		if (src != SQLITE_OK) {
			s->stmt[q] = NULL;
			rc = store_fail(s, e, src, "preparing a query");
			goto out;
		}
	}
	sqlite3_reset(s->stmt[q]);
	sqlite3_clear_bindings(s->stmt[q]);
	s->bind_rc = SQLITE_OK;
	*out = s->stmt[q];
out:
	return rc;
}

/* Resets every statement that is still running, so no read transaction stays open between calls.
 * Called at the end of every public function. */
static void store_release(struct store *s)
{
	sqlite3_stmt *p;

	for (p = sqlite3_next_stmt(s->db, NULL); p != NULL; p = sqlite3_next_stmt(s->db, p))
		if (sqlite3_stmt_busy(p))
			sqlite3_reset(p);
}

static void bind_rc(struct store *s, int rc)
{
	if (rc != SQLITE_OK && s->bind_rc == SQLITE_OK)
		s->bind_rc = rc;
}

static void bi(struct store *s, sqlite3_stmt *st, int i, int64_t v)
{
	bind_rc(s, sqlite3_bind_int64(st, i, v));
}

static void bnull(struct store *s, sqlite3_stmt *st, int i)
{
	bind_rc(s, sqlite3_bind_null(st, i));
}

/* Binds text (NULL binds NULL); longer than STORE_MAX_TEXT is an error. */
static void bt(struct store *s, sqlite3_stmt *st, int i, const char *v)
{
	size_t n;

	if (v == NULL) {
		bnull(s, st, i);
		return;
	}
	n = strlen(v);
	if (n > STORE_MAX_TEXT)
		bind_rc(s, SQLITE_TOOBIG);
	else
		bind_rc(s, sqlite3_bind_text(st, i, v, (int)n, SQLITE_STATIC));
}

/* Binds an error message cut to STORE_MAX_ERROR bytes at a UTF-8 character boundary. */
static void berr(struct store *s, sqlite3_stmt *st, int i, const char *v)
{
	size_t n;

	if (v == NULL) {
		bnull(s, st, i);
		return;
	}
	n = strlen(v);
	if (n > STORE_MAX_ERROR) {
		n = STORE_MAX_ERROR;
		while (n > 0 && ((unsigned char)v[n] & 0xC0) == 0x80)
			n--;
	}
	bind_rc(s, sqlite3_bind_text(st, i, v, (int)n, SQLITE_TRANSIENT));
}

/* Binds an address as "0x..." text, or NULL when unknown. */
static void baddr(struct store *s, sqlite3_stmt *st, int i, int has, uint64_t v)
{
	char tmp[24];

	if (!has) {
		bnull(s, st, i);
		return;
	}
	snprintf(tmp, sizeof(tmp), "0x%" PRIx64, v);
	bind_rc(s, sqlite3_bind_text(st, i, tmp, -1, SQLITE_TRANSIENT));
}

/* Steps st: 1 with a row, 0 when done, a DS_E code on error (bind errors included). */
static int store_step(struct store *s, sqlite3_stmt *st, struct ds_err *e, const char *what)
{
	int rc;

	if (s->bind_rc != SQLITE_OK)
		return store_fail(s, e, s->bind_rc, what);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return store_fail(s, e, rc, what);
}

/* Steps a statement that returns no rows (or whose rows do not matter) to the end. */
static int store_run(struct store *s, sqlite3_stmt *st, struct ds_err *e, const char *what)
{
	int rc;

	do
		rc = store_step(s, st, e, what);
	while (rc == 1);
	sqlite3_reset(st);
	return rc;
}

/* Runs cached statement q that takes no parameters. */
static int store_exec(struct store *s, int q, struct ds_err *e, const char *what)
{
	sqlite3_stmt *st = NULL;
	int rc = store_stmt(s, q, &st, e);

	if (rc == DS_OK)
		rc = store_run(s, st, e, what);
	return rc;
}

static int64_t col_i64(sqlite3_stmt *st, int i)
{
	return sqlite3_column_int64(st, i);
}

/* malloc'd copy of a text column, "" for NULL; NULL only when out of memory. */
static char *col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	size_t n = (size_t)sqlite3_column_bytes(st, i);
	char *p = malloc(n + 1);

	if (p != NULL) {
		if (t != NULL)
			memcpy(p, t, n);
		p[t != NULL ? n : 0] = '\0';
	}
	return p;
}

/* Like col_dup but NULL stays NULL; *oom is set on allocation failure. */
static char *col_dup_null(sqlite3_stmt *st, int i, int *oom)
{
	char *p;

	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return NULL;
	p = col_dup(st, i);
	if (p == NULL)
		*oom = 1;
	return p;
}

static int store_check_sha256(const char *h)
{
	size_t i;

	if (h == NULL || strlen(h) != 64)
		return 0;
	for (i = 0; i < 64; i++)
		if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')))
			return 0;
	return 1;
}

static const char *store_basename(const char *p)
{
	const char *b = p;

	for (; p != NULL && *p != '\0'; p++)
		if (*p == '/' || *p == '\\')
			b = p + 1;
	return b;
}

/* ---- transactions ---- */

int store_tx_begin(struct store *s, struct ds_err *e)
{
	int rc;

	if (!s->rw) {
		rc = ds_err_setn(e, DS_EINVAL, "database %s was opened read-only", s->path);
		goto out;
	}
	rc = store_exec(s, s->tx_depth == 0 ? Q_BEGIN : Q_SAVEPOINT, e, "starting a transaction");
	if (rc == DS_OK)
		s->tx_depth++;
out:
	return rc;
}

int store_tx_commit(struct store *s, struct ds_err *e)
{
	int rc;

	if (s->tx_depth <= 0) {
		rc = ds_err_setn(e, DS_EINVAL, "database %s: commit without a transaction", s->path);
		goto out;
	}
	store_release(s);
	rc = store_exec(s, s->tx_depth == 1 ? Q_COMMIT : Q_RELEASE, e, "committing");
	if (rc != DS_OK) {
		store_tx_rollback(s);
		goto out;
	}
	s->tx_depth--;
out:
	return rc;
}

void store_tx_rollback(struct store *s)
{
	if (s->tx_depth <= 0)
		return;
	store_release(s);
	if (sqlite3_get_autocommit(s->db)) {
		/* SQLite already rolled the whole transaction back (e.g. after an I/O error). */
		s->tx_depth = 0;
		return;
	}
	if (s->tx_depth == 1) {
		store_exec(s, Q_ROLLBACK, NULL, "rolling back");
	} else {
		store_exec(s, Q_ROLLBACK_TO, NULL, "rolling back");
		store_exec(s, Q_RELEASE, NULL, "rolling back");
	}
	s->tx_depth--;
}

/* A consistent snapshot for multi-query reads; a no-op inside a caller's transaction. */
static int store_read_begin(struct store *s, int *began, struct ds_err *e)
{
	int rc = DS_OK;

	*began = 0;
	if (s->tx_depth == 0 && sqlite3_get_autocommit(s->db)) {
		rc = store_exec(s, Q_BEGIN_READ, e, "starting a read");
		*began = rc == DS_OK;
	}
	return rc;
}

static void store_read_end(struct store *s, int began)
{
	if (began) {
		store_release(s);
		store_exec(s, Q_COMMIT, NULL, "ending a read");
	}
}

/* ---- open, migrate, close ---- */

static int store_user_version(struct store *s, int *v, struct ds_err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = store_stmt(s, Q_USER_VERSION, &st, e);

	if (rc != DS_OK)
		goto out;
	rc = store_step(s, st, e, "reading the schema version");
	if (rc == 1) {
		*v = sqlite3_column_int(st, 0);
		rc = DS_OK;
	} else if (rc == 0) {
		rc = ds_err_setn(e, DS_EDB, "database %s: no schema version", s->path);
	}
	sqlite3_reset(st);
out:
	return rc;
}

/* Runs a fixed SQL text (pragmas and the embedded migrations: no values from outside). */
static int store_exec_text(struct store *s, const char *sql, struct ds_err *e, const char *what)
{
	char *msg = NULL;
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK) {
		int code = store_fail(s, e, rc, what);
		if (e != NULL && msg != NULL && (code == DS_EDB || code == DS_EINVAL))
			ds_err_setn(e, code, "database %s: %s while %s", s->path, msg, what);
		rc = code;
	}
	sqlite3_free(msg);
	return rc;
}

static int store_migrate(struct store *s, struct ds_err *e)
{
	char what[160], pragma[48];
	size_t i;
	int rc = DS_OK, v;

	for (i = (size_t)s->version; i < schema_migration_count; i++) {
		snprintf(what, sizeof(what), "applying migration %s", schema_migrations[i].name);
		rc = store_tx_begin(s, e);
		if (rc != DS_OK)
			goto out;
		/* Another process may have migrated while we waited for the lock. */
		rc = store_user_version(s, &v, e);
		if (rc == DS_OK && v <= (int)i) {
			rc = store_exec_text(s, schema_migrations[i].sql, e, what);
			if (rc == DS_OK) {
				snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", schema_migrations[i].version);
				rc = store_exec_text(s, pragma, e, what);
			}
		}
		if (rc != DS_OK) {
			store_tx_rollback(s);
			goto out;
		}
		rc = store_tx_commit(s, e);
		if (rc != DS_OK)
			goto out;
	}
	rc = store_user_version(s, &s->version, e);
out:
	return rc;
}

/* Parent folder of path ("" when it has none); malloc'd. */
static char *store_dirname(const char *path)
{
	const char *b = store_basename(path);
	size_t n = (size_t)(b - path);
	char *d = malloc(n + 1);

	if (d != NULL) {
		memcpy(d, path, n);
		d[n] = '\0';
		while (n > 1 && (d[n - 1] == '/' || d[n - 1] == '\\'))
			d[--n] = '\0';
	}
	return d;
}

int store_open(const char *path, int flags, struct store **out, struct ds_err *e)
{
	return store_open_ex(path, flags, STORE_DEFAULT_BUSY_MS, out, e);
}

int store_open_ex(const char *path, int flags, int busy_timeout_ms, struct store **out, struct ds_err *e)
{
	struct store *s = NULL;
	struct plat_stat pst;
	char *dir = NULL;
	int rc, src, oflags, newest = (int)schema_migration_count;

	*out = NULL;
	if (path == NULL || path[0] == '\0') {
		rc = ds_err_setn(e, DS_EINVAL, "no database path given");
		goto out;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL || (s->path = strdup(path)) == NULL) {
		rc = ds_err_setn(e, DS_ENOMEM, "out of memory opening database %s", path);
		goto out;
	}
	s->rw = (flags & STORE_READWRITE) != 0;
	s->busy_ms = busy_timeout_ms > 0 ? busy_timeout_ms : STORE_DEFAULT_BUSY_MS;
	if (!s->rw) {
		rc = plat_lstat(path, &pst);
		if (rc == DS_ENOENT) {
			rc = ds_err_setn(e, DS_ENOENT, "no database at %s", path);
			goto out;
		}
		if (rc != DS_OK) {
			rc = ds_err_setn(e, rc, "cannot read database %s: %s", path, ds_strerror(rc));
			goto out;
		}
		oflags = SQLITE_OPEN_READONLY;
	} else {
		dir = store_dirname(path);
		if (dir == NULL) {
			rc = ds_err_setn(e, DS_ENOMEM, "out of memory opening database %s", path);
			goto out;
		}
		if (dir[0] != '\0') {
			rc = plat_mkdirs(dir, 0750);
			if (rc != DS_OK) {
				rc = ds_err_setn(e, rc, "cannot create the folder %s for the database: %s", dir,
						 ds_strerror(rc));
				goto out;
			}
		}
		oflags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	}
	src = sqlite3_open_v2(path, &s->db, oflags | SQLITE_OPEN_NOMUTEX, NULL);
	if (src != SQLITE_OK) {
		rc = store_fail(s, e, src, "opening");
		goto out;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, s->busy_ms);
	rc = store_exec_text(s, "PRAGMA foreign_keys = ON", e, "setting up the connection");
	if (rc == DS_OK && s->rw)
		rc = store_exec_text(s, "PRAGMA journal_mode = WAL", e, "switching to WAL mode");
	if (rc == DS_OK && s->rw)
		rc = store_exec_text(s, "PRAGMA synchronous = NORMAL", e, "setting up the connection");
	if (rc == DS_OK)
		rc = store_user_version(s, &s->version, e);
	if (rc != DS_OK)
		goto out;
	if (s->version > newest) {
		rc = ds_err_setn(e, DS_ESCHEMA,
				 "database at %s is schema version %d, this dumpscout knows up to %d: upgrade dumpscout",
				 path, s->version, newest);
		goto out;
	}
	if (s->version < newest) {
		if (!s->rw) {
			rc = ds_err_setn(e, DS_ESCHEMA,
					 "database at %s is schema version %d, this dumpscout needs %d: start the "
					 "service (dumpscoutd) of this version once to upgrade it",
					 path, s->version, newest);
			goto out;
		}
		rc = store_migrate(s, e);
		if (rc != DS_OK)
			goto out;
	}
	*out = s;
	s = NULL;
out:
	free(dir);
	store_close(s);
	return rc;
}

void store_close(struct store *s)
{
	sqlite3_stmt *p;

	if (s == NULL)
		return;
	if (s->db != NULL) {
		while (s->tx_depth > 0)
			store_tx_rollback(s);
		while ((p = sqlite3_next_stmt(s->db, NULL)) != NULL)
			sqlite3_finalize(p);
		sqlite3_close(s->db);
	}
	free(s->path);
	free(s);
}

/* ---- dumps: discovery ---- */

int store_dump_upsert(struct store *s, const struct store_file *f, int64_t now, int64_t *id, int *outcome,
		      struct ds_err *e)
{
	sqlite3_stmt *st = NULL;
	int64_t rid = 0, rsize = 0, rmtime = 0, new_id = 0;
	char rhash[65] = "";
	int rc, tx = 0, found, deleted = 0, unprocessed = 0, same, oc;

	if (f == NULL || f->path == NULL || f->path[0] == '\0' || (f->sha256 != NULL && !store_check_sha256(f->sha256))) {
		rc = ds_err_setn(e, DS_EINVAL, "store_dump_upsert: a path and an optional 64-hex-digit sha256 are needed");
		goto out;
	}
	rc = store_tx_begin(s, e);
	if (rc != DS_OK)
		goto out;
	tx = 1;
	rc = store_stmt(s, Q_DUMP_BY_PATH, &st, e);
	if (rc != DS_OK)
		goto out;
	bt(s, st, 1, f->path);
	found = store_step(s, st, e, "looking up a dump by path");
	if (found < 0) {
		rc = found;
		goto out;
	}
	if (found) {
		rid = col_i64(st, 0);
		rsize = col_i64(st, 1);
		rmtime = col_i64(st, 2);
		if (sqlite3_column_type(st, 3) == SQLITE_TEXT)
			snprintf(rhash, sizeof(rhash), "%s", (const char *)sqlite3_column_text(st, 3));
		deleted = sqlite3_column_type(st, 5) != SQLITE_NULL;
		unprocessed = sqlite3_column_type(st, 4) == SQLITE_TEXT &&
			      strcmp((const char *)sqlite3_column_text(st, 4), "discovered") == 0 && rhash[0] == '\0';
	}
	sqlite3_reset(st);

	if (!found) {
		oc = STORE_UPSERT_NEW;
	} else {
		if (f->sha256 != NULL && rhash[0] != '\0')
			same = strcmp(f->sha256, rhash) == 0;
		else
			same = (uint64_t)rsize == f->size && rmtime == f->mtime_ns;
		/* A row not yet triaged and never hashed describes a file still being written (a dump writer
		 * grows it in several steps): it is the same dump, not a replacement. */
		oc = same || unprocessed ? STORE_UPSERT_SAME : STORE_UPSERT_REPLACED;
	}

	if (oc == STORE_UPSERT_SAME) {
		new_id = rid;
		if ((uint64_t)rsize != f->size || rmtime != f->mtime_ns || deleted ||
		    (f->sha256 != NULL && rhash[0] == '\0')) {
			rc = store_stmt(s, Q_DUMP_REFRESH, &st, e);
			if (rc != DS_OK)
				goto out;
			bi(s, st, 1, rid);
			bi(s, st, 2, (int64_t)f->size);
			bi(s, st, 3, f->mtime_ns);
			bt(s, st, 4, f->sha256);
			bi(s, st, 5, now);
			rc = store_run(s, st, e, "refreshing a dump");
			if (rc != DS_OK)
				goto out;
		}
	} else {
		if (oc == STORE_UPSERT_REPLACED) {
			/* Retire the old row first: the live-path index allows one row per path. */
			rc = store_stmt(s, Q_DUMP_REPLACE_OLD, &st, e);
			if (rc != DS_OK)
				goto out;
			bi(s, st, 1, rid);
			bi(s, st, 2, now);
			rc = store_run(s, st, e, "retiring a replaced dump");
			if (rc != DS_OK)
				goto out;
		}
		rc = store_stmt(s, Q_DUMP_INSERT, &st, e);
		if (rc != DS_OK)
			goto out;
		bt(s, st, 1, f->path);
		bt(s, st, 2, store_basename(f->path));
		bi(s, st, 3, (int64_t)f->size);
		bi(s, st, 4, f->mtime_ns);
		bi(s, st, 5, now);
		bt(s, st, 6, f->sha256);
		rc = store_run(s, st, e, "recording a new dump");
		if (rc != DS_OK)
			goto out;
		new_id = sqlite3_last_insert_rowid(s->db);
		if (oc == STORE_UPSERT_REPLACED) {
			rc = store_stmt(s, Q_DUMP_REPLACED_BY, &st, e);
			if (rc != DS_OK)
				goto out;
			bi(s, st, 1, rid);
			bi(s, st, 2, new_id);
			rc = store_run(s, st, e, "linking a replaced dump");
			if (rc != DS_OK)
				goto out;
		}
	}
	rc = store_tx_commit(s, e);
	tx = 0;
	if (rc != DS_OK)
		goto out;
	if (id != NULL)
		*id = new_id;
	if (outcome != NULL)
		*outcome = oc;
out:
	if (tx)
		store_tx_rollback(s);
	store_release(s);
	return rc;
}

int store_dump_find_path(struct store *s, const char *path, struct store_dump_ref *out, struct ds_err *e)
{
	sqlite3_stmt *st = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = store_stmt(s, Q_DUMP_BY_PATH, &st, e);
	if (rc != DS_OK)
		goto out;
	bt(s, st, 1, path);
	rc = store_step(s, st, e, "looking up a dump by path");
	if (rc == 0)
		rc = ds_err_setn(e, DS_ENOENT, "no dump with path %s in %s", path, s->path);
	if (rc < 0)
		goto out;
	out->id = col_i64(st, 0);
	out->size = (uint64_t)col_i64(st, 1);
	out->mtime_ns = col_i64(st, 2);
	if (sqlite3_column_type(st, 3) == SQLITE_TEXT)
		snprintf(out->sha256, sizeof(out->sha256), "%s", (const char *)sqlite3_column_text(st, 3));
	out->state = store_state_parse((const char *)sqlite3_column_text(st, 4));
	out->deleted_at = col_i64(st, 5);
	out->duplicate_of = col_i64(st, 6);
	rc = DS_OK;
out:
	store_release(s);
	return rc;
}

/* The original for a hash (no release: used inside other calls). */
static int store_find_hash(struct store *s, const char *sha256, int64_t exclude_id, int64_t *id, struct ds_err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = store_stmt(s, Q_DUMP_FIND_HASH, &st, e);

	if (rc != DS_OK)
		goto out;
	bt(s, st, 1, sha256);
	bi(s, st, 2, exclude_id);
	rc = store_step(s, st, e, "looking up a dump by hash");
	if (rc == 1) {
		*id = col_i64(st, 0);
		rc = DS_OK;
	} else if (rc == 0) {
		rc = ds_err_setn(e, DS_ENOENT, "no dump with sha256 %s in %s", sha256, s->path);
	}
	sqlite3_reset(st);
out:
	return rc;
}

int store_dump_find_hash(struct store *s, const char *sha256, int64_t exclude_id, int64_t *id, struct ds_err *e)
{
	int rc;

	if (!store_check_sha256(sha256))
		rc = ds_err_setn(e, DS_EINVAL, "store_dump_find_hash: not a sha256 hex digest");
	else
		rc = store_find_hash(s, sha256, exclude_id, id, e);
	store_release(s);
	return rc;
}

int store_dump_set_hash(struct store *s, int64_t id, const char *sha256, int64_t *duplicate_of, struct ds_err *e)
{
	sqlite3_stmt *st = NULL;
	int64_t orig = 0;
	int rc, tx = 0;

	if (!store_check_sha256(sha256)) {
		rc = ds_err_setn(e, DS_EINVAL, "store_dump_set_hash: not a sha256 hex digest");
		goto out;
	}
	rc = store_tx_begin(s, e);
	if (rc != DS_OK)
		goto out;
	tx = 1;
	rc = store_find_hash(s, sha256, id, &orig, NULL);
	if (rc == DS_ENOENT)
		orig = 0;
	else if (rc != DS_OK)
		goto out;
	rc = store_stmt(s, Q_DUMP_SET_HASH, &st, e);
	if (rc != DS_OK)
		goto out;
	bi(s, st, 1, id);
	bt(s, st, 2, sha256);
	if (orig != 0)
		bi(s, st, 3, orig);
	else
		bnull(s, st, 3);
	bi(s, st, 4, plat_now_ms());
	rc = store_run(s, st, e, "recording a dump's hash");
	if (rc != DS_OK)
		goto out;
	if (sqlite3_changes(s->db) == 0) {
		rc = ds_err_setn(e, DS_ENOENT, "no dump %" PRId64 " in %s", id, s->path);
		goto out;
	}
	rc = store_tx_commit(s, e);
	tx = 0;
	if (rc == DS_OK && duplicate_of != NULL)
		*duplicate_of = orig;
out:
	if (tx)
		store_tx_rollback(s);
	store_release(s);
	return rc;
}

/* ---- dumps: the queue ---- */

void store_job_clear(struct store_job *j)
{
	if (j != NULL) {
		free(j->path);
		memset(j, 0, sizeof(*j));
	}
}

int store_claim(struct store *s, int stage, int64_t now, int64_t lease_ms, struct store_job *job, struct ds_err *e)
{
	sqlite3_stmt *st = NULL;
	int64_t id;
	int rc, tx = 0;

	memset(job, 0, sizeof(*job));
	if (stage != STORE_STAGE_TRIAGE && stage != STORE_STAGE_ANALYZE) {
		rc = ds_err_setn(e, DS_EINVAL, "store_claim: unknown stage %d", stage);
		goto out;
	}
	rc = store_tx_begin(s, e);
	if (rc != DS_OK)
		goto out;
	tx = 1;
	rc = store_stmt(s, stage == STORE_STAGE_TRIAGE ? Q_CLAIM_TRIAGE : Q_CLAIM_ANALYZE, &st, e);
	if (rc != DS_OK)
		goto out;
	bi(s, st, 1, now);
	rc = store_step(s, st, e, "looking for due work");
	if (rc == 0)
		rc = ds_err_setn(e, DS_ENOENT, "nothing due in %s", s->path);
	if (rc < 0)
		goto out;
	id = col_i64(st, 0);
	sqlite3_reset(st);

	rc = store_stmt(s, stage == STORE_STAGE_TRIAGE ? Q_CLAIM_MARK_TRIAGE : Q_CLAIM_MARK_ANALYZE, &st, e);
	if (rc != DS_OK)
		goto out;
	bi(s, st, 1, id);
	bi(s, st, 2, lease_ms > 0 && now <= INT64_MAX - lease_ms ? now + lease_ms : INT64_MAX);
	bi(s, st, 3, now);
	rc = store_run(s, st, e, "claiming a dump");
	if (rc != DS_OK)
		goto out;

	rc = store_stmt(s, Q_JOB_GET, &st, e);
	if (rc != DS_OK)
		goto out;
	bi(s, st, 1, id);
	rc = store_step(s, st, e, "reading a claimed dump");
	if (rc == 0)
		rc = ds_err_setn(e, DS_EDB, "claimed dump %" PRId64 " vanished from %s", id, s->path);
	if (rc < 0)
		goto out;
	job->id = id;
	job->path = col_dup(st, 1);
	job->size = (uint64_t)col_i64(st, 2);
	job->mtime_ns = col_i64(st, 3);
	if (sqlite3_column_type(st, 4) == SQLITE_TEXT)
		snprintf(job->sha256, sizeof(job->sha256), "%s", (const char *)sqlite3_column_text(st, 4));
	job->attempts = sqlite3_column_int(st, 5);
	job->discovered_at = col_i64(st, 6);
	job->duplicate_of = col_i64(st, 7);
	if (sqlite3_column_type(st, 8) == SQLITE_TEXT)
		snprintf(job->file_id, sizeof(job->file_id), "%s", (const char *)sqlite3_column_text(st, 8));
	sqlite3_reset(st);
	if (job->path == NULL) {
		rc = ds_err_setn(e, DS_ENOMEM, "out of memory claiming a dump");
		goto out;
	}
	rc = store_tx_commit(s, e);
	tx = 0;
out:
	if (tx)
		store_tx_rollback(s);
	if (rc != DS_OK)
		store_job_clear(job);
	store_release(s);
	return rc;
}

int store_dump_transition(struct store *s, int64_t id, int state, int64_t next_attempt_at, const char *error,
			  struct ds_err *e)
{
	sqlite3_stmt *st = NULL;
	int rc, tx = 0;

	if (store_state_name(state) == NULL) {
		rc = ds_err_setn(e, DS_EINVAL, "store_dump_transition: unknown state %d", state);
		goto out;
	}
	rc = store_tx_begin(s, e);
	if (rc != DS_OK)
		goto out;
	tx = 1;
	rc = store_stmt(s, Q_TRANSITION, &st, e);
	if (rc != DS_OK)
		goto out;
	bi(s, st, 1, id);
	bt(s, st, 2, store_state_name(state));
	bi(s, st, 3, next_attempt_at);
	berr(s, st, 4, error);
	bi(s, st, 5, plat_now_ms());
	rc = store_run(s, st, e, "changing a dump's state");
	if (rc != DS_OK)
		goto out;
	if (sqlite3_changes(s->db) == 0) {
		rc = ds_err_setn(e, DS_ENOENT, "no dump %" PRId64 " in %s", id, s->path);
		goto out;
	}
	rc = store_tx_commit(s, e);
	tx = 0;
out:
	if (tx)
		store_tx_rollback(s);
	store_release(s);
	return rc;
}

int store_recover(struct store *s, struct store_recovery *r, struct ds_err *e)
{
	struct store_recovery tmp;
	int rc, tx = 0;

	memset(&tmp, 0, sizeof(tmp));
	rc = store_tx_begin(s, e);
	if (rc != DS_OK)
		goto out;
	tx = 1;
	rc = store_exec(s, Q_RECOVER_ANALYZING, e, "recovering interrupted analyses");
	if (rc != DS_OK)
		goto out;
	tmp.analyzing_reset = sqlite3_changes(s->db);
	rc = store_exec(s, Q_RECOVER_LEASES, e, "clearing leases");
	if (rc != DS_OK)
		goto out;
	tmp.leases_cleared = sqlite3_changes(s->db);
	rc = store_exec(s, Q_RECOVER_OUTBOX, e, "recovering interrupted mail");
	if (rc != DS_OK)
		goto out;
	tmp.outbox_reset = sqlite3_changes(s->db);
	rc = store_tx_commit(s, e);
	tx = 0;
	if (rc == DS_OK && r != NULL)
		*r = tmp;
out:
	if (tx)
		store_tx_rollback(s);
	store_release(s);
	return rc;
}

/* Reads the single integer of a one-row MIN() query; DS_ENOENT when it is NULL. */
static int store_min_value(struct store *s, sqlite3_stmt *st, int64_t *at, struct ds_err *e)
{
	int rc = store_step(s, st, e, "looking for the next due time");

	if (rc == 1 && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		*at = col_i64(st, 0);
		rc = DS_OK;
	} else if (rc >= 0) {
		rc = ds_err_setn(e, DS_ENOENT, "nothing waiting in %s", s->path);
	}
	return rc;
}

int store_next_due(struct store *s, int stage, int64_t *at, struct ds_err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = store_stmt(s, Q_NEXT_DUE, &st, e);

	if (rc == DS_OK) {
		bt(s, st, 1, stage == STORE_STAGE_TRIAGE ? "discovered" : "triaged");
		rc = store_min_value(s, st, at, e);
	}
	store_release(s);
	return rc;
}

int store_queue_counts(struct store *s, int64_t *counts, struct ds_err *e)
{
	sqlite3_stmt *st = NULL;
	int rc, i;

	for (i = 0; i < STORE_STATE_COUNT; i++)
		counts[i] = 0;
	rc = store_stmt(s, Q_QUEUE_COUNTS, &st, e);
	if (rc != DS_OK)
		goto out;
	while ((rc = store_step(s, st, e, "counting the queue")) == 1) {
		i = store_state_parse((const char *)sqlite3_column_text(st, 0));
		if (i >= 0)
			counts[i] = col_i64(st, 1);
	}
out:
	store_release(s);
	return rc;
}

int store_dump_requeue(struct store *s, int64_t id, int64_t now, struct ds_err *e)
{
	sqlite3_stmt *st = NULL;
	int rc, tx = 0;

	rc = store_tx_begin(s, e);
	if (rc != DS_OK)
		goto out;
	tx = 1;
	rc = store_stmt(s, Q_REQUEUE, &st, e);
	if (rc != DS_OK)
		goto out;
	bi(s, st, 1, id);
	bi(s, st, 2, now);
	rc = store_run(s, st, e, "requeueing a dump");
	if (rc == DS_OK && sqlite3_changes(s->db) == 0)
		rc = ds_err_setn(e, DS_ENOENT, "no dump %" PRId64 " with its file present in %s", id, s->path);
	if (rc != DS_OK)
		goto out;
	rc = store_tx_commit(s, e);
	tx = 0;
out:
	if (tx)
		store_tx_rollback(s);
	store_release(s);
	return rc;
}

int store_requeue_failed(struct store *s, int64_t now, int64_t *n, struct ds_err *e)
{
	sqlite3_stmt *st = NULL;
	int64_t changed = 0;
	int rc, tx = 0;

	rc = store_tx_begin(s, e);
	if (rc != DS_OK)
		goto out;
	tx = 1;
	rc = store_stmt(s, Q_REQUEUE_FAILED, &st, e);
	if (rc != DS_OK)
		goto out;
	bi(s, st, 1, now);
	rc = store_run(s, st, e, "requeueing failed dumps");
	if (rc != DS_OK)
		goto out;
	changed = sqlite3_changes(s->db);
	rc = store_tx_commit(s, e);
	tx = 0;
	if (rc == DS_OK && n != NULL)
		*n = changed;
out:
	if (tx)
		store_tx_rollback(s);
	store_release(s);
	return rc;
}

/* ---- buckets ---- */

static int store_bucket_upsert(struct store *s, const char *kind, const char *key, const char *title, int64_t seen,
			       int64_t *bid, struct ds_err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = store_stmt(s, Q_BUCKET_UPSERT, &st, e);

	if (rc != DS_OK)
		goto out;
	bt(s, st, 1, kind);
	bt(s, st, 2, key);
	bt(s, st, 3, title != NULL && title[0] != '\0' ? title : key);
	bi(s, st, 4, seen);
	rc = store_step(s, st, e, "recording a bucket");
	if (rc == 1) {
		*bid = col_i64(st, 0);
		rc = store_run(s, st, e, "recording a bucket");
	} else if (rc == 0) {
		rc = ds_err_setn(e, DS_EDB, "database %s: bucket upsert returned no id", s->path);
	}
	sqlite3_reset(st);
out:
	return rc;
}

/* Links a dump to a bucket once; the first link counts it in the bucket and its application. */
static int store_link(struct store *s, int64_t dump_id, int64_t bid, const char *app, int64_t seen, struct ds_err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = store_stmt(s, Q_LINK_INSERT, &st, e);

	if (rc != DS_OK)
		goto out;
	bi(s, st, 1, dump_id);
	bi(s, st, 2, bid);
	bt(s, st, 3, app);
	bi(s, st, 4, seen);
	rc = store_run(s, st, e, "linking a dump to a bucket");
	if (rc != DS_OK || sqlite3_changes(s->db) == 0)
		goto out;
	rc = store_stmt(s, Q_BUCKET_INC, &st, e);
	if (rc != DS_OK)
		goto out;
	bi(s, st, 1, bid);
	bi(s, st, 2, seen);
	rc = store_run(s, st, e, "counting a bucket");
	if (rc != DS_OK)
		goto out;
	rc = store_stmt(s, Q_BAPP_INC, &st, e);
	if (rc != DS_OK)
		goto out;
	bi(s, st, 1, bid);
	bt(s, st, 2, app);
	bi(s, st, 3, seen);
	rc = store_run(s, st, e, "counting a bucket's application");
out:
	return rc;
}

/* Removes a dump's link to a bucket and takes it out of the counts. */
static int store_unlink(struct store *s, int64_t dump_id, int64_t bid, struct ds_err *e)
{
	static const int uncount[] = { Q_BUCKET_DEC, Q_BAPP_DEC, Q_BAPP_PRUNE };
	sqlite3_stmt *st = NULL;
	char *app = NULL;
	int rc = store_stmt(s, Q_LINK_DELETE, &st, e), q;

	if (rc != DS_OK)
		goto out;
	bi(s, st, 1, dump_id);
	bi(s, st, 2, bid);
	rc = store_step(s, st, e, "unlinking a dump from a bucket");
	if (rc == 1) {
		app = col_dup(st, 0);
		rc = app != NULL ? store_run(s, st, e, "unlinking a dump from a bucket") : DS_ENOMEM;
	}
	sqlite3_reset(st);
	if (rc != DS_OK || app == NULL)
		goto out;
	for (q = 0; q < (int)DS_ARRAY_LEN(uncount) && rc == DS_OK; q++) {
		rc = store_stmt(s, uncount[q], &st, e);
		if (rc != DS_OK)
			break;
		bi(s, st, 1, bid);
		if (uncount[q] != Q_BUCKET_DEC)
			bt(s, st, 2, app);
		rc = store_run(s, st, e, "uncounting a bucket");
	}
out:
	free(app);
	return rc;
}

/* The dump's discovered_at and app (malloc'd, "" when none). DS_ENOENT. */
static int store_dump_base(struct store *s, int64_t id, int64_t *seen, char **app, struct ds_err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = store_stmt(s, Q_DUMP_BASE, &st, e);

	*app = NULL;
	if (rc != DS_OK)
		goto out;
	bi(s, st, 1, id);
	rc = store_step(s, st, e, "reading a dump");
	if (rc == 0)
		rc = ds_err_setn(e, DS_ENOENT, "no dump %" PRId64 " in %s", id, s->path);
	if (rc < 0)
		goto out;
	*seen = col_i64(st, 0);
	*app = col_dup(st, 1);
	rc = *app != NULL ? DS_OK : ds_err_setn(e, DS_ENOMEM, "out of memory");
	sqlite3_reset(st);
out:
	return rc;
}

struct store_links {
	size_t n, cap;
	int64_t *bid;
	char **app;
};

static void store_links_free(struct store_links *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->app[i]);
	free(l->bid);
	free(l->app);
	memset(l, 0, sizeof(*l));
}

/* The dump's links to buckets of one kind (collected first, so they can be removed afterwards). */
static int store_links_of_kind(struct store *s, int64_t dump_id, const char *kind, struct store_links *l,
			       struct ds_err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = store_stmt(s, Q_LINK_OF_KIND, &st, e);

	if (rc != DS_OK)
		goto out;
	bi(s, st, 1, dump_id);
	bt(s, st, 2, kind);
	while ((rc = store_step(s, st, e, "reading a dump's buckets")) == 1) {
		if (l->n == l->cap) {
			size_t cap = l->cap ? l->cap * 2 : 8;
			int64_t *b = realloc(l->bid, cap * sizeof(*b));
			char **a;

			if (b != NULL)
				l->bid = b;
			a = b != NULL ? realloc(l->app, cap * sizeof(*a)) : NULL;
			if (a == NULL) {
				rc = ds_err_setn(e, DS_ENOMEM, "out of memory");
				break;
			}
			l->app = a;
			l->cap = cap;
		}
		l->bid[l->n] = col_i64(st, 0);
		l->app[l->n] = col_dup(st, 1);
		if (l->app[l->n] == NULL) {
			rc = ds_err_setn(e, DS_ENOMEM, "out of memory");
			break;
		}
		l->n++;
	}
	sqlite3_reset(st);
out:
	return rc;
}

/* ---- triage ---- */

int store_record_triage(struct store *s, int64_t id, const struct store_triage *t, int next_state, int64_t now,
			int64_t *bucket_id, struct ds_err *e)
{
	struct store_links old = { 0 };
	sqlite3_stmt *st = NULL;
	const char *app;
	char *prev_app = NULL;
	int64_t seen = 0, bid = 0;
	size_t i;
	int rc, tx = 0;

	if (t == NULL || store_state_name(next_state) == NULL) {
		rc = ds_err_setn(e, DS_EINVAL, "store_record_triage: no triage or unknown state %d", next_state);
		goto out;
	}
	app = t->app != NULL ? t->app : t->process_name != NULL ? store_basename(t->process_name) : NULL;
	rc = store_tx_begin(s, e);
	if (rc != DS_OK)
		goto out;
	tx = 1;
	rc = store_dump_base(s, id, &seen, &prev_app, e);
	if (rc != DS_OK)
		goto out;
	if (t->bucket_key != NULL && t->bucket_key[0] != '\0') {
		rc = store_bucket_upsert(s, "crash", t->bucket_key, t->bucket_title, seen, &bid, e);
		if (rc != DS_OK)
			goto out;
	}
	/* Move the dump out of a crash bucket it no longer belongs to (or that counted another app). */
	rc = store_links_of_kind(s, id, "crash", &old, e);
	for (i = 0; rc == DS_OK && i < old.n; i++)
		if (old.bid[i] != bid || strcmp(old.app[i], app != NULL ? app : "") != 0)
			rc = store_unlink(s, id, old.bid[i], e);
	if (rc == DS_OK && bid != 0)
		rc = store_link(s, id, bid, app != NULL ? app : "", seen, e);
	if (rc != DS_OK)
		goto out;

	rc = store_stmt(s, Q_TRIAGE_UPDATE, &st, e);
	if (rc != DS_OK)
		goto out;
	bi(s, st, 1, id);
	bi(s, st, 2, now);
	bt(s, st, 3, app);
	bt(s, st, 4, t->format);
	bt(s, st, 5, t->writer);
	bt(s, st, 6, t->os);
	bt(s, st, 7, t->os_version);
	bt(s, st, 8, t->arch);
	if (t->has_pid)
		bi(s, st, 9, (int64_t)t->pid);
	bt(s, st, 10, t->process_name);
	bt(s, st, 11, t->app_version);
	bt(s, st, 12, t->command_line);
	if (t->dump_time != 0)
		bi(s, st, 13, t->dump_time);
	if (t->has_exception) {
		bi(s, st, 14, t->exception_code);
		bt(s, st, 15, t->exception_name);
		baddr(s, st, 16, 1, t->exception_address);
	}
	baddr(s, st, 17, t->has_fault_address, t->fault_address);
	if (t->has_crashing_thread)
		bi(s, st, 18, (int64_t)t->crashing_thread);
	if (t->thread_count >= 0)
		bi(s, st, 19, t->thread_count);
	if (t->module_count >= 0)
		bi(s, st, 20, t->module_count);
	bt(s, st, 21, t->runtime_name);
	bt(s, st, 22, t->runtime_version);
	bi(s, st, 23, t->has_heap ? 1 : 0);
	if (bid != 0)
		bi(s, st, 24, bid);
	bt(s, st, 25, t->json);
	bt(s, st, 26, store_state_name(next_state));
	rc = store_run(s, st, e, "recording triage");
	if (rc == DS_OK && t->file_id != NULL && t->file_id[0] != '\0') {
		rc = store_stmt(s, Q_IDENTITY_SET, &st, e);
		if (rc == DS_OK) {
			bi(s, st, 1, id);
			bt(s, st, 2, t->file_id);
			rc = store_run(s, st, e, "recording the file identity");
		}
	}
	if (rc == DS_OK) /* the fleet's snapshot commits with the rows (store_fleet.c) */
		rc = store_fleet_enqueue(s, id, now, e);
	if (rc != DS_OK)
		goto out;
	rc = store_tx_commit(s, e);
	tx = 0;
	if (rc == DS_OK && bucket_id != NULL)
		*bucket_id = bid;
out:
	if (tx)
		store_tx_rollback(s);
	store_links_free(&old);
	free(prev_app);
	store_release(s);
	return rc;
}

/* ---- analysis ---- */

static int store_insert_root(struct store *s, int64_t dump_id, int64_t cid, size_t ordinal, const struct store_root *r,
			     const char *app, int64_t seen, struct ds_err *e)
{
	sqlite3_stmt *st = NULL;
	int64_t bid = 0;
	int rc = DS_OK;

	if (r->signature != NULL && r->signature[0] != '\0') {
		rc = store_bucket_upsert(s, "root", r->signature, r->culprit, seen, &bid, e);
		if (rc == DS_OK)
			rc = store_link(s, dump_id, bid, app, seen, e);
		if (rc != DS_OK)
			goto out;
	}
	rc = store_stmt(s, Q_ROOT_INSERT, &st, e);
	if (rc != DS_OK)
		goto out;
	bi(s, st, 1, cid);
	bi(s, st, 2, dump_id);
	bi(s, st, 3, (int64_t)ordinal);
	bt(s, st, 4, r->kind != NULL ? r->kind : "unknown");
	bt(s, st, 5, r->culprit);
	bt(s, st, 6, r->signature != NULL ? r->signature : "");
	bi(s, st, 7, r->probable_false_root ? 1 : 0);
	if (r->has_thread)
		bi(s, st, 8, (int64_t)r->thread);
	bt(s, st, 9, r->frame);
	bt(s, st, 10, r->catalogue_id);
	bt(s, st, 11, r->chain_text);
	bt(s, st, 12, r->chain_json);
	if (bid != 0)
		bi(s, st, 13, bid);
	rc = store_run(s, st, e, "recording a root chain");
out:
	return rc;
}

int store_record_analysis(struct store *s, int64_t dump_id, const struct store_analysis *a, int next_state,
			  int64_t next_attempt_at, const char *error, int64_t *analysis_id, struct ds_err *e)
{
	struct store_links old = { 0 };
	sqlite3_stmt *st = NULL;
	char *app = NULL;
	int64_t seen = 0, aid = 0, cid;
	size_t i, j;
	int rc, tx = 0, leak = 0;

	if (a == NULL || a->engine == NULL || store_analysis_status_name(a->status) == NULL ||
	    store_state_name(next_state) == NULL || (a->ncontexts > 0 && a->contexts == NULL)) {
		rc = ds_err_setn(e, DS_EINVAL, "store_record_analysis: missing engine, bad status or bad state");
		goto out;
	}
	rc = store_tx_begin(s, e);
	if (rc != DS_OK)
		goto out;
	tx = 1;
	rc = store_dump_base(s, dump_id, &seen, &app, e);
	if (rc != DS_OK)
		goto out;
	/* Replace any earlier analysis: take the dump out of its root buckets, drop the rows (cascade). */
	rc = store_links_of_kind(s, dump_id, "root", &old, e);
	for (i = 0; rc == DS_OK && i < old.n; i++)
		rc = store_unlink(s, dump_id, old.bid[i], e);
	if (rc == DS_OK && (rc = store_stmt(s, Q_ANALYSIS_DELETE, &st, e)) == DS_OK) {
		bi(s, st, 1, dump_id);
		rc = store_run(s, st, e, "replacing an analysis");
	}
	if (rc != DS_OK)
		goto out;

	rc = store_stmt(s, Q_ANALYSIS_INSERT, &st, e);
	if (rc != DS_OK)
		goto out;
	bi(s, st, 1, dump_id);
	bt(s, st, 2, a->engine);
	bt(s, st, 3, a->engine_version);
	bt(s, st, 4, store_analysis_status_name(a->status));
	bi(s, st, 5, a->started_at);
	bi(s, st, 6, a->finished_at);
	bi(s, st, 7, a->duration_ms);
	berr(s, st, 8, a->error);
	bt(s, st, 9, a->exception_type);
	bt(s, st, 10, a->exception_message);
	bt(s, st, 11, a->json);
	rc = store_run(s, st, e, "recording an analysis");
	if (rc != DS_OK)
		goto out;
	aid = sqlite3_last_insert_rowid(s->db);

	for (i = 0; i < a->ncontexts; i++) {
		const struct store_context *c = &a->contexts[i];

		if (c->nroots > 0 && c->roots == NULL) {
			rc = ds_err_setn(e, DS_EINVAL, "store_record_analysis: context %zu has no roots array", i);
			goto out;
		}
		rc = store_stmt(s, Q_CONTEXT_INSERT, &st, e);
		if (rc != DS_OK)
			goto out;
		bi(s, st, 1, aid);
		bi(s, st, 2, (int64_t)i);
		bt(s, st, 3, c->name);
		baddr(s, st, 4, c->has_loader_allocator, c->loader_allocator);
		bt(s, st, 5, c->state);
		rc = store_run(s, st, e, "recording a context");
		if (rc != DS_OK)
			goto out;
		cid = sqlite3_last_insert_rowid(s->db);
		for (j = 0; j < c->nroots; j++) {
			rc = store_insert_root(s, dump_id, cid, j, &c->roots[j], app, seen, e);
			if (rc != DS_OK)
				goto out;
			if (!c->roots[j].probable_false_root)
				leak = 1;
		}
	}

	if (a->crash_bucket_key != NULL && a->crash_bucket_key[0] != '\0') {
		/* the analysis names the crash better than triage did (a .NET crash): move the dump there */
		int64_t bid = 0;

		store_links_free(&old);
		memset(&old, 0, sizeof(old));
		rc = store_bucket_upsert(s, "crash", a->crash_bucket_key, a->crash_bucket_title, seen, &bid, e);
		if (rc == DS_OK)
			rc = store_links_of_kind(s, dump_id, "crash", &old, e);
		for (i = 0; rc == DS_OK && i < old.n; i++)
			if (old.bid[i] != bid || strcmp(old.app[i], app != NULL ? app : "") != 0)
				rc = store_unlink(s, dump_id, old.bid[i], e);
		if (rc == DS_OK)
			rc = store_link(s, dump_id, bid, app != NULL ? app : "", seen, e);
		if (rc == DS_OK && (rc = store_stmt(s, Q_DUMP_CRASH_BUCKET, &st, e)) == DS_OK) {
			bi(s, st, 1, dump_id);
			bi(s, st, 2, bid);
			rc = store_run(s, st, e, "moving a dump to its crash bucket");
		}
		if (rc != DS_OK)
			goto out;
	}
	rc = store_stmt(s, Q_ANALYSIS_DUMP_UPDATE, &st, e);
	if (rc != DS_OK)
		goto out;
	bi(s, st, 1, dump_id);
	bi(s, st, 2, leak || a->leak);
	bt(s, st, 3, store_state_name(next_state));
	bi(s, st, 4, next_attempt_at);
	berr(s, st, 5, error);
	bi(s, st, 6, plat_now_ms());
	rc = store_run(s, st, e, "recording an analysis");
	if (rc == DS_OK) /* the fleet's snapshot commits with the rows (store_fleet.c) */
		rc = store_fleet_enqueue(s, dump_id, plat_now_ms(), e);
	if (rc != DS_OK)
		goto out;
	rc = store_tx_commit(s, e);
	tx = 0;
	if (rc == DS_OK && analysis_id != NULL)
		*analysis_id = aid;
out:
	if (tx)
		store_tx_rollback(s);
	store_links_free(&old);
	free(app);
	store_release(s);
	return rc;
}

/* ---- retention ---- */

void store_raw_free(struct store_raw *a, size_t n)
{
	size_t i;

	for (i = 0; a != NULL && i < n; i++)
		free(a[i].path);
	free(a);
}

int store_retention_list(struct store *s, struct store_raw **out, size_t *n, struct ds_err *e)
{
	struct store_raw *a = NULL, *r;
	sqlite3_stmt *st = NULL;
	size_t cnt = 0, cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	rc = store_stmt(s, Q_RETENTION, &st, e);
	if (rc != DS_OK)
		goto out;
	while ((rc = store_step(s, st, e, "listing raw dumps")) == 1) {
		if (cnt == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct store_raw *na = realloc(a, ncap * sizeof(*na));

			if (na == NULL) {
				rc = ds_err_setn(e, DS_ENOMEM, "out of memory listing raw dumps");
				goto out;
			}
			a = na;
			cap = ncap;
		}
		r = &a[cnt];
		memset(r, 0, sizeof(*r));
		r->id = col_i64(st, 0);
		r->path = col_dup(st, 1);
		if (r->path == NULL) {
			rc = ds_err_setn(e, DS_ENOMEM, "out of memory listing raw dumps");
			goto out;
		}
		cnt++;
		r->size = (uint64_t)col_i64(st, 2);
		r->mtime_ns = col_i64(st, 3);
		r->discovered_at = col_i64(st, 4);
		r->crash_bucket_id = col_i64(st, 5);
		r->state = store_state_parse((const char *)sqlite3_column_text(st, 6));
		r->pending = r->state == STORE_DISCOVERED || r->state == STORE_TRIAGED || r->state == STORE_ANALYZING;
		r->keep = sqlite3_column_int(st, 7) != 0;
		if (sqlite3_column_type(st, 8) == SQLITE_TEXT)
			snprintf(r->file_id, sizeof(r->file_id), "%s", (const char *)sqlite3_column_text(st, 8));
	}
	if (rc < 0)
		goto out;
	*out = a;
	*n = cnt;
	a = NULL;
out:
	store_raw_free(a, cnt);
	store_release(s);
	return rc;
}

int store_dump_mark_deleted(struct store *s, int64_t id, int64_t now, struct ds_err *e)
{
	sqlite3_stmt *st = NULL;
	int rc, tx = 0;

	rc = store_tx_begin(s, e);
	if (rc != DS_OK)
		goto out;
	tx = 1;
	rc = store_stmt(s, Q_MARK_DELETED, &st, e);
	if (rc != DS_OK)
		goto out;
	bi(s, st, 1, id);
	bi(s, st, 2, now);
	rc = store_run(s, st, e, "marking a raw dump deleted");
	if (rc == DS_OK && sqlite3_changes(s->db) == 0)
		rc = ds_err_setn(e, DS_ENOENT, "no dump %" PRId64 " in %s", id, s->path);
	if (rc != DS_OK)
		goto out;
	rc = store_tx_commit(s, e);
	tx = 0;
out:
	if (tx)
		store_tx_rollback(s);
	store_release(s);
	return rc;
}

/* ---- mail outbox ---- */

void store_mail_clear(struct store_mail *m)
{
	if (m == NULL)
		return;
	free(m->dedupe_key);
	free(m->message_id);
	free(m->subject);
	free(m->to);
	free(m->body_text);
	free(m->body_html);
	free(m->mime);
	free(m->last_error);
	memset(m, 0, sizeof(*m));
}

int store_outbox_enqueue(struct store *s, const struct store_mail_new *m, int64_t now, int64_t *id, int *existed,
			 struct ds_err *e)
{
	sqlite3_stmt *st = NULL;
	int64_t rid = 0;
	int rc, tx = 0, found = 0;

	if (m == NULL || m->kind < 0 || m->kind > STORE_MAIL_TEST || m->message_id == NULL || m->subject == NULL ||
	    m->to == NULL) {
		rc = ds_err_setn(e, DS_EINVAL, "store_outbox_enqueue: kind, message_id, subject and to are required");
		goto out;
	}
	rc = store_tx_begin(s, e);
	if (rc != DS_OK)
		goto out;
	tx = 1;
	if (m->dedupe_key != NULL) {
		rc = store_stmt(s, Q_OUTBOX_BY_KEY, &st, e);
		if (rc != DS_OK)
			goto out;
		bt(s, st, 1, m->dedupe_key);
		rc = store_step(s, st, e, "looking up a message");
		if (rc < 0)
			goto out;
		found = rc;
		if (found)
			rid = col_i64(st, 0);
		sqlite3_reset(st);
	}
	if (!found) {
		rc = store_stmt(s, Q_OUTBOX_INSERT, &st, e);
		if (rc != DS_OK)
			goto out;
		bt(s, st, 1, mail_kind_names[m->kind]);
		bt(s, st, 2, m->dedupe_key);
		bi(s, st, 3, now);
		bt(s, st, 4, m->message_id);
		bt(s, st, 5, m->subject);
		bt(s, st, 6, m->to);
		bt(s, st, 7, m->body_text);
		bt(s, st, 8, m->body_html);
		bt(s, st, 9, m->mime);
		if (m->bucket_id != 0)
			bi(s, st, 10, m->bucket_id);
		rc = store_run(s, st, e, "queueing a message");
		if (rc != DS_OK)
			goto out;
		rid = sqlite3_last_insert_rowid(s->db);
	}
	rc = store_tx_commit(s, e);
	tx = 0;
	if (rc != DS_OK)
		goto out;
	if (id != NULL)
		*id = rid;
	if (existed != NULL)
		*existed = found;
out:
	if (tx)
		store_tx_rollback(s);
	store_release(s);
	return rc;
}

/* Reads outbox row id into m (no release). */
static int store_mail_read(struct store *s, int64_t id, struct store_mail *m, struct ds_err *e)
{
	sqlite3_stmt *st = NULL;
	int rc, oom = 0;

	memset(m, 0, sizeof(*m));
	rc = store_stmt(s, Q_OUTBOX_GET, &st, e);
	if (rc != DS_OK)
		goto out;
	bi(s, st, 1, id);
	rc = store_step(s, st, e, "reading a message");
	if (rc == 0)
		rc = ds_err_setn(e, DS_ENOENT, "no message %" PRId64 " in the outbox of %s", id, s->path);
	if (rc < 0)
		goto out;
	m->id = col_i64(st, 0);
	m->kind = store_name_parse(mail_kind_names, 3, (const char *)sqlite3_column_text(st, 1));
	m->state = store_name_parse(mail_state_names, 4, (const char *)sqlite3_column_text(st, 2));
	m->attempts = sqlite3_column_int(st, 3);
	m->dedupe_key = col_dup_null(st, 4, &oom);
	m->message_id = col_dup_null(st, 5, &oom);
	m->subject = col_dup_null(st, 6, &oom);
	m->to = col_dup_null(st, 7, &oom);
	m->body_text = col_dup_null(st, 8, &oom);
	m->body_html = col_dup_null(st, 9, &oom);
	m->mime = col_dup_null(st, 10, &oom);
	m->last_error = col_dup_null(st, 11, &oom);
	m->bucket_id = col_i64(st, 12);
	m->created_at = col_i64(st, 13);
	m->next_attempt_at = col_i64(st, 14);
	m->sent_at = col_i64(st, 15);
	rc = oom ? ds_err_setn(e, DS_ENOMEM, "out of memory reading a message") : DS_OK;
	sqlite3_reset(st);
out:
	if (rc != DS_OK)
		store_mail_clear(m);
	return rc;
}

int store_outbox_get(struct store *s, int64_t id, struct store_mail *m, struct ds_err *e)
{
	int rc = store_mail_read(s, id, m, e);

	store_release(s);
	return rc;
}

int store_outbox_claim(struct store *s, int64_t now, struct store_mail *m, struct ds_err *e)
{
	sqlite3_stmt *st = NULL;
	int64_t id;
	int rc, tx = 0;

	memset(m, 0, sizeof(*m));
	rc = store_tx_begin(s, e);
	if (rc != DS_OK)
		goto out;
	tx = 1;
	rc = store_stmt(s, Q_OUTBOX_DUE, &st, e);
	if (rc != DS_OK)
		goto out;
	bi(s, st, 1, now);
	rc = store_step(s, st, e, "looking for due mail");
	if (rc == 0)
		rc = ds_err_setn(e, DS_ENOENT, "no mail due in %s", s->path);
	if (rc < 0)
		goto out;
	id = col_i64(st, 0);
	sqlite3_reset(st);
	rc = store_stmt(s, Q_OUTBOX_MARK_SENDING, &st, e);
	if (rc != DS_OK)
		goto out;
	bi(s, st, 1, id);
	rc = store_run(s, st, e, "claiming a message");
	if (rc == DS_OK)
		rc = store_mail_read(s, id, m, e);
	if (rc != DS_OK)
		goto out;
	rc = store_tx_commit(s, e);
	tx = 0;
	if (rc != DS_OK)
		store_mail_clear(m);
out:
	if (tx)
		store_tx_rollback(s);
	store_release(s);
	return rc;
}

/* Runs one outbox update for row id inside its own transaction; DS_ENOENT when it changed nothing. */
static int store_outbox_update(struct store *s, sqlite3_stmt *st, int64_t id, struct ds_err *e)
{
	int rc = store_run(s, st, e, "updating a message");

	if (rc == DS_OK && sqlite3_changes(s->db) == 0)
		rc = ds_err_setn(e, DS_ENOENT, "no unsent message %" PRId64 " in the outbox of %s", id, s->path);
	return rc;
}

int store_outbox_sent(struct store *s, int64_t id, int64_t now, struct ds_err *e)
{
	sqlite3_stmt *st = NULL;
	int rc, tx = 0;

	rc = store_tx_begin(s, e);
	if (rc != DS_OK)
		goto out;
	tx = 1;
	rc = store_stmt(s, Q_OUTBOX_SENT, &st, e);
	if (rc != DS_OK)
		goto out;
	bi(s, st, 1, id);
	bi(s, st, 2, now);
	rc = store_outbox_update(s, st, id, e);
	if (rc != DS_OK)
		goto out;
	rc = store_tx_commit(s, e);
	tx = 0;
out:
	if (tx)
		store_tx_rollback(s);
	store_release(s);
	return rc;
}

int store_outbox_failed(struct store *s, int64_t id, const char *error, int permanent, int64_t next_attempt_at,
			struct ds_err *e)
{
	sqlite3_stmt *st = NULL;
	int rc, tx = 0;

	rc = store_tx_begin(s, e);
	if (rc != DS_OK)
		goto out;
	tx = 1;
	rc = store_stmt(s, Q_OUTBOX_FAILED, &st, e);
	if (rc != DS_OK)
		goto out;
	bi(s, st, 1, id);
	bt(s, st, 2, permanent ? "failed" : "queued");
	berr(s, st, 3, error);
	bi(s, st, 4, next_attempt_at);
	rc = store_outbox_update(s, st, id, e);
	if (rc != DS_OK)
		goto out;
	rc = store_tx_commit(s, e);
	tx = 0;
out:
	if (tx)
		store_tx_rollback(s);
	store_release(s);
	return rc;
}

int store_outbox_next_due(struct store *s, int64_t *at, struct ds_err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = store_stmt(s, Q_OUTBOX_NEXT_DUE, &st, e);

	if (rc == DS_OK)
		rc = store_min_value(s, st, at, e);
	store_release(s);
	return rc;
}

/* ---- service status ---- */

/* Runs one prepared write in its own (nested) transaction. */
static int store_write1(struct store *s, sqlite3_stmt *st, struct ds_err *e, const char *what)
{
	int rc = store_run(s, st, e, what);

	if (rc == DS_OK)
		rc = store_tx_commit(s, e);
	else
		store_tx_rollback(s);
	return rc;
}

int store_status_start(struct store *s, const struct store_status *stt, struct ds_err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = store_tx_begin(s, e);

	if (rc != DS_OK)
		goto out;
	rc = store_stmt(s, Q_STATUS_START, &st, e);
	if (rc != DS_OK) {
		store_tx_rollback(s);
		goto out;
	}
	bt(s, st, 1, stt->version);
	bi(s, st, 2, stt->pid);
	bt(s, st, 3, stt->hostname);
	bi(s, st, 4, stt->started_at);
	bi(s, st, 5, stt->heartbeat_at);
	bt(s, st, 6, stt->config_json);
	bt(s, st, 7, stt->collection_json);
	rc = store_write1(s, st, e, "writing the service status");
out:
	store_release(s);
	return rc;
}

int store_status_heartbeat(struct store *s, int64_t now, struct ds_err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = store_tx_begin(s, e);

	if (rc != DS_OK)
		goto out;
	rc = store_stmt(s, Q_STATUS_HEARTBEAT, &st, e);
	if (rc != DS_OK) {
		store_tx_rollback(s);
		goto out;
	}
	bi(s, st, 1, now);
	rc = store_write1(s, st, e, "writing the heartbeat");
out:
	store_release(s);
	return rc;
}

int store_status_error(struct store *s, const char *error, int64_t now, struct ds_err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = store_tx_begin(s, e);

	if (rc != DS_OK)
		goto out;
	rc = store_stmt(s, Q_STATUS_ERROR, &st, e);
	if (rc != DS_OK) {
		store_tx_rollback(s);
		goto out;
	}
	berr(s, st, 1, error);
	if (error != NULL)
		bi(s, st, 2, now);
	rc = store_write1(s, st, e, "writing the service's last error");
out:
	store_release(s);
	return rc;
}

int store_kv_get(struct store *s, const char *key, char **value, struct ds_err *e)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*value = NULL;
	rc = store_stmt(s, Q_KV_GET, &st, e);
	if (rc != DS_OK)
		goto out;
	bt(s, st, 1, key);
	rc = store_step(s, st, e, "reading a service value");
	if (rc == 0)
		rc = ds_err_setn(e, DS_ENOENT, "no value %s in %s", key, s->path);
	if (rc < 0)
		goto out;
	*value = col_dup(st, 0);
	rc = *value != NULL ? DS_OK : ds_err_setn(e, DS_ENOMEM, "out of memory");
out:
	store_release(s);
	return rc;
}

int store_kv_set(struct store *s, const char *key, const char *value, int64_t now, struct ds_err *e)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (key == NULL) {
		rc = ds_err_setn(e, DS_EINVAL, "store_kv_set: no key");
		goto out;
	}
	rc = store_tx_begin(s, e);
	if (rc != DS_OK)
		goto out;
	rc = store_stmt(s, Q_KV_SET, &st, e);
	if (rc != DS_OK) {
		store_tx_rollback(s);
		goto out;
	}
	bt(s, st, 1, key);
	bt(s, st, 2, value);
	bi(s, st, 3, now);
	rc = store_write1(s, st, e, "writing a service value");
out:
	store_release(s);
	return rc;
}

/* ---- read queries (cJSON) ---- */

static int store_is_bool_col(const char *name)
{
	return strncmp(name, "has_", 4) == 0 || strcmp(name, "probable_false_root") == 0 || strcmp(name, "is_new") == 0;
}

/* The current row as an object named by its columns (see store.h for the rules). NULL on OOM. */
static cJSON *store_row_json(sqlite3_stmt *st)
{
	cJSON *o = cJSON_CreateObject(), *v;
	char key[64];
	int i, n = sqlite3_column_count(st);

	for (i = 0; o != NULL && i < n; i++) {
		const char *name = sqlite3_column_name(st, i);
		size_t len = strlen(name);
		int is_json = len > 5 && strcmp(name + len - 5, "_json") == 0;

		snprintf(key, sizeof(key), "%.*s", (int)(is_json ? len - 5 : len), name);
		switch (sqlite3_column_type(st, i)) {
		case SQLITE_INTEGER:
			if (store_is_bool_col(name))
				v = cJSON_CreateBool(sqlite3_column_int64(st, i) != 0);
			else
				v = cJSON_CreateNumber((double)sqlite3_column_int64(st, i));
			break;
		case SQLITE_FLOAT: v = cJSON_CreateNumber(sqlite3_column_double(st, i)); break;
		case SQLITE_NULL: v = cJSON_CreateNull(); break;
		default: {
			const char *t = (const char *)sqlite3_column_text(st, i);
			size_t tn = (size_t)sqlite3_column_bytes(st, i);

			v = NULL;
			if (t != NULL && is_json)
				v = cJSON_ParseWithLength(t, tn);
			if (v == NULL && t != NULL) {
				/* Not valid JSON: keep the text under the column's own name. */
				snprintf(key, sizeof(key), "%s", name);
				v = cJSON_CreateString(t);
			}
			break;
		}
		}
		if (v == NULL || !cJSON_AddItemToObject(o, key, v)) {
			cJSON_Delete(v);
			cJSON_Delete(o);
			o = NULL;
		}
	}
	return o;
}

/* Appends every remaining row of st to array arr. */
static int store_rows_json(struct store *s, sqlite3_stmt *st, cJSON *arr, struct ds_err *e, const char *what)
{
	cJSON *o;
	int rc;

	while ((rc = store_step(s, st, e, what)) == 1) {
		o = store_row_json(st);
		if (o == NULL || !cJSON_AddItemToArray(arr, o)) {
			cJSON_Delete(o);
			rc = ds_err_setn(e, DS_ENOMEM, "out of memory while %s", what);
			break;
		}
	}
	sqlite3_reset(st);
	return rc;
}

/* Runs cached query q with integer parameters ?1 (and ?2 when it has one) and adds its rows as array
 * `name` of obj. */
static int store_add_rows2(struct store *s, cJSON *obj, const char *name, int q, int64_t p1, int64_t p2,
			   struct ds_err *e)
{
	sqlite3_stmt *st = NULL;
	cJSON *arr = cJSON_CreateArray();
	int rc;

	if (arr == NULL || !cJSON_AddItemToObject(obj, name, arr)) {
		cJSON_Delete(arr);
		rc = ds_err_setn(e, DS_ENOMEM, "out of memory");
		goto out;
	}
	rc = store_stmt(s, q, &st, e);
	if (rc != DS_OK)
		goto out;
	bi(s, st, 1, p1);
	if (sqlite3_bind_parameter_count(st) >= 2)
		bi(s, st, 2, p2);
	rc = store_rows_json(s, st, arr, e, "reading");
out:
	return rc;
}

static int store_add_rows(struct store *s, cJSON *obj, const char *name, int q, int64_t p1, struct ds_err *e)
{
	return store_add_rows2(s, obj, name, q, p1, 0, e);
}

/* Adds "apps" (the bucket's applications by count, at most `max`, <= 0: all) to a bucket object. */
static int store_add_apps(struct store *s, cJSON *b, int64_t max, struct ds_err *e)
{
	cJSON *id = cJSON_GetObjectItemCaseSensitive(b, "id");

	if (!cJSON_IsNumber(id))
		id = cJSON_GetObjectItemCaseSensitive(b, "bucket_id");
	return store_add_rows2(s, b, "apps", Q_BUCKET_APPS, cJSON_IsNumber(id) ? (int64_t)id->valuedouble : 0,
			       max > 0 ? max : -1, e);
}

#define LIST_COLS                                                                                              \
	"SELECT d.id, d.path, d.file_name, d.size, d.discovered_at, d.state, d.attempts, d.last_error, "       \
	"d.duplicate_of, d.deleted_at, d.app, d.process_name, d.pid, d.os, d.arch, d.dump_time, "              \
	"d.exception_name, d.exception_code, d.runtime_version, d.has_heap, d.has_leak, d.crash_bucket_id, "   \
	"(SELECT title FROM buckets WHERE id = d.crash_bucket_id) AS bucket_title FROM dumps d WHERE 1"

/* The cached statement for one filter shape and sort order; only fixed SQL fragments are joined, every
 * value is bound (?1 app, ?2 since, ?3 until, ?4 state, ?5 bucket, ?6 limit, ?7 offset). */
static int store_list_stmt(struct store *s, int shape, int sort, sqlite3_stmt **out, struct ds_err *e)
{
	static const char *const order[STORE_SORT_COUNT] = {
		" ORDER BY d.discovered_at DESC, d.id DESC",
		" ORDER BY d.discovered_at ASC, d.id ASC",
		" ORDER BY d.size DESC, d.id DESC",
		" ORDER BY d.app ASC, d.discovered_at DESC, d.id DESC",
		" ORDER BY d.state ASC, d.discovered_at DESC, d.id DESC",
	};
	char sql[1400];
	int slot = shape + LF_SHAPES * sort, rc = DS_OK, src;

	*out = NULL;
	if (s->list_stmt[slot] == NULL) {
		snprintf(sql, sizeof(sql), "%s%s%s%s%s%s%s%s LIMIT ?6 OFFSET ?7", LIST_COLS,
			 shape & LF_APP ? " AND d.app = ?1" : "", shape & LF_SINCE ? " AND d.discovered_at >= ?2" : "",
			 shape & LF_UNTIL ? " AND d.discovered_at < ?3" : "", shape & LF_STATE ? " AND d.state = ?4" : "",
			 shape & LF_BUCKET ? " AND d.id IN (SELECT dump_id FROM dump_buckets WHERE bucket_id = ?5)" : "",
			 shape & LF_LEAK ? " AND d.has_leak = 1" : "", order[sort]);
		src = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->list_stmt[slot], NULL);
		if (src != SQLITE_OK) {
			s->list_stmt[slot] = NULL;
			rc = store_fail(s, e, src, "preparing a dump listing");
			goto out;
		}
	}
	sqlite3_reset(s->list_stmt[slot]);
	sqlite3_clear_bindings(s->list_stmt[slot]);
	s->bind_rc = SQLITE_OK;
	*out = s->list_stmt[slot];
out:
	return rc;
}

/* store_dump_list without the release, into arr. */
static int store_list_into(struct store *s, const struct store_dump_filter *f, cJSON *arr, struct ds_err *e)
{
	sqlite3_stmt *st = NULL;
	int shape = 0, rc;

	if (f->sort < 0 || f->sort >= STORE_SORT_COUNT || (f->state != -1 && store_state_name(f->state) == NULL)) {
		rc = ds_err_setn(e, DS_EINVAL, "store_dump_list: unknown sort %d or state %d", f->sort, f->state);
		goto out;
	}
	shape |= f->app != NULL ? LF_APP : 0;
	shape |= f->since != 0 ? LF_SINCE : 0;
	shape |= f->until != 0 ? LF_UNTIL : 0;
	shape |= f->state != -1 ? LF_STATE : 0;
	shape |= f->bucket_id != 0 ? LF_BUCKET : 0;
	shape |= f->leak ? LF_LEAK : 0;
	rc = store_list_stmt(s, shape, f->sort, &st, e);
	if (rc != DS_OK)
		goto out;
	if (shape & LF_APP)
		bt(s, st, 1, f->app);
	if (shape & LF_SINCE)
		bi(s, st, 2, f->since);
	if (shape & LF_UNTIL)
		bi(s, st, 3, f->until);
	if (shape & LF_STATE)
		bt(s, st, 4, store_state_name(f->state));
	if (shape & LF_BUCKET)
		bi(s, st, 5, f->bucket_id);
	bi(s, st, 6, f->limit > 0 ? f->limit : -1);
	bi(s, st, 7, f->offset > 0 ? f->offset : 0);
	rc = store_rows_json(s, st, arr, e, "listing dumps");
out:
	return rc;
}

int store_dump_list(struct store *s, const struct store_dump_filter *f, cJSON **out, struct ds_err *e)
{
	cJSON *arr = cJSON_CreateArray();
	int rc;

	*out = NULL;
	if (arr == NULL) {
		rc = ds_err_setn(e, DS_ENOMEM, "out of memory");
		goto out;
	}
	rc = store_list_into(s, f, arr, e);
	if (rc == DS_OK) {
		*out = arr;
		arr = NULL;
	}
out:
	cJSON_Delete(arr);
	store_release(s);
	return rc;
}

int store_dump_get(struct store *s, int64_t id, cJSON **out, struct ds_err *e)
{
	sqlite3_stmt *st = NULL, *cst = NULL;
	cJSON *d = NULL, *an = NULL, *ctxs, *c;
	int rc, began = 0;

	*out = NULL;
	rc = store_read_begin(s, &began, e);
	if (rc != DS_OK)
		goto out;
	rc = store_stmt(s, Q_GET_DUMP, &st, e);
	if (rc != DS_OK)
		goto out;
	bi(s, st, 1, id);
	rc = store_step(s, st, e, "reading a dump");
	if (rc == 0)
		rc = ds_err_setn(e, DS_ENOENT, "no dump %" PRId64 " in %s", id, s->path);
	if (rc < 0)
		goto out;
	d = store_row_json(st);
	sqlite3_reset(st);
	if (d == NULL) {
		rc = ds_err_setn(e, DS_ENOMEM, "out of memory");
		goto out;
	}
	rc = store_add_rows(s, d, "buckets", Q_GET_DUMP_BUCKETS, id, e);
	if (rc == DS_OK)
		rc = store_add_rows(s, d, "duplicates", Q_GET_DUPLICATES, id, e);
	if (rc == DS_OK)
		rc = store_stmt(s, Q_GET_ANALYSIS, &st, e);
	if (rc != DS_OK)
		goto out;
	bi(s, st, 1, id);
	rc = store_step(s, st, e, "reading an analysis");
	if (rc < 0)
		goto out;
	an = rc == 1 ? store_row_json(st) : cJSON_CreateNull();
	sqlite3_reset(st);
	if (an == NULL || !cJSON_AddItemToObject(d, "analysis", an)) {
		cJSON_Delete(an);
		rc = ds_err_setn(e, DS_ENOMEM, "out of memory");
		goto out;
	}
	rc = DS_OK;
	if (cJSON_IsNull(an))
		goto done;
	ctxs = cJSON_AddArrayToObject(an, "contexts");
	if (ctxs == NULL) {
		rc = ds_err_setn(e, DS_ENOMEM, "out of memory");
		goto out;
	}
	rc = store_stmt(s, Q_GET_CONTEXTS, &cst, e);
	if (rc != DS_OK)
		goto out;
	bi(s, cst, 1, (int64_t)cJSON_GetObjectItemCaseSensitive(an, "id")->valuedouble);
	while ((rc = store_step(s, cst, e, "reading contexts")) == 1) {
		c = store_row_json(cst);
		if (c == NULL || !cJSON_AddItemToArray(ctxs, c)) {
			cJSON_Delete(c);
			rc = ds_err_setn(e, DS_ENOMEM, "out of memory");
			break;
		}
		rc = store_add_rows(s, c, "roots", Q_GET_ROOTS, sqlite3_column_int64(cst, 0), e);
		if (rc != DS_OK)
			break;
	}
	sqlite3_reset(cst);
	if (rc != DS_OK)
		goto out;
done:
	*out = d;
	d = NULL;
out:
	cJSON_Delete(d);
	store_read_end(s, began);
	store_release(s);
	return rc;
}

/* Adds "apps" to every bucket of arr. */
static int store_add_apps_all(struct store *s, cJSON *arr, struct ds_err *e)
{
	cJSON *b;
	int rc = DS_OK;

	cJSON_ArrayForEach(b, arr) {
		rc = store_add_apps(s, b, STORE_LIST_APPS, e);
		if (rc != DS_OK)
			break;
	}
	return rc;
}

int store_bucket_list(struct store *s, const struct store_bucket_filter *f, cJSON **out, struct ds_err *e)
{
	static const int q[STORE_BSORT_N] = { Q_BUCKETS_BY_COUNT, Q_BUCKETS_BY_LAST, Q_BUCKETS_BY_FIRST };
	sqlite3_stmt *st = NULL;
	cJSON *arr = NULL;
	int rc, began = 0;

	*out = NULL;
	if (f->sort < 0 || f->sort >= STORE_BSORT_N) {
		rc = ds_err_setn(e, DS_EINVAL, "store_bucket_list: unknown sort %d", f->sort);
		goto out;
	}
	arr = cJSON_CreateArray();
	if (arr == NULL) {
		rc = ds_err_setn(e, DS_ENOMEM, "out of memory");
		goto out;
	}
	rc = store_read_begin(s, &began, e);
	if (rc == DS_OK)
		rc = store_stmt(s, q[f->sort], &st, e);
	if (rc != DS_OK)
		goto out;
	bt(s, st, 1, f->kind);
	bi(s, st, 2, f->since);
	bi(s, st, 3, f->limit > 0 ? f->limit : -1);
	bi(s, st, 4, f->before);
	rc = store_rows_json(s, st, arr, e, "listing buckets");
	if (rc == DS_OK)
		rc = store_add_apps_all(s, arr, e);
	if (rc == DS_OK) {
		*out = arr;
		arr = NULL;
	}
out:
	cJSON_Delete(arr);
	store_read_end(s, began);
	store_release(s);
	return rc;
}

int store_bucket_get(struct store *s, int64_t id, int64_t dump_limit, cJSON **out, struct ds_err *e)
{
	struct store_dump_filter f;
	sqlite3_stmt *st = NULL;
	cJSON *b = NULL, *dumps;
	int rc, began = 0;

	*out = NULL;
	rc = store_read_begin(s, &began, e);
	if (rc == DS_OK)
		rc = store_stmt(s, Q_BUCKET_ONE, &st, e);
	if (rc != DS_OK)
		goto out;
	bi(s, st, 1, id);
	rc = store_step(s, st, e, "reading a bucket");
	if (rc == 0)
		rc = ds_err_setn(e, DS_ENOENT, "no bucket %" PRId64 " in %s", id, s->path);
	if (rc < 0)
		goto out;
	b = store_row_json(st);
	sqlite3_reset(st);
	dumps = b != NULL ? cJSON_AddArrayToObject(b, "dumps") : NULL;
	if (dumps == NULL) {
		rc = ds_err_setn(e, DS_ENOMEM, "out of memory");
		goto out;
	}
	rc = store_add_apps(s, b, 0, e);
	if (rc != DS_OK)
		goto out;
	memset(&f, 0, sizeof(f));
	f.state = -1;
	f.bucket_id = id;
	f.limit = dump_limit;
	rc = store_list_into(s, &f, dumps, e);
	if (rc == DS_OK) {
		*out = b;
		b = NULL;
	}
out:
	cJSON_Delete(b);
	store_read_end(s, began);
	store_release(s);
	return rc;
}

int store_roots_list(struct store *s, int64_t since, int64_t limit, cJSON **out, struct ds_err *e)
{
	sqlite3_stmt *st = NULL;
	cJSON *arr = cJSON_CreateArray();
	int rc, began = 0;

	*out = NULL;
	if (arr == NULL) {
		rc = ds_err_setn(e, DS_ENOMEM, "out of memory");
		goto out;
	}
	rc = store_read_begin(s, &began, e);
	if (rc == DS_OK)
		rc = store_stmt(s, Q_ROOTS_LIST, &st, e);
	if (rc != DS_OK)
		goto out;
	bi(s, st, 1, since);
	bi(s, st, 2, limit > 0 ? limit : -1);
	rc = store_rows_json(s, st, arr, e, "listing root signatures");
	if (rc == DS_OK)
		rc = store_add_apps_all(s, arr, e);
	if (rc == DS_OK) {
		*out = arr;
		arr = NULL;
	}
out:
	cJSON_Delete(arr);
	store_read_end(s, began);
	store_release(s);
	return rc;
}

/* Runs a "SELECT name, count" query and adds {name: count} as object `name` of obj; keys lists the
 * names that are always present (count 0 when absent), may be NULL. */
static int store_add_counts(struct store *s, cJSON *obj, const char *name, sqlite3_stmt *st, const char *const *keys,
			    int nkeys, struct ds_err *e)
{
	cJSON *o = cJSON_AddObjectToObject(obj, name), *it;
	int rc = DS_OK, i;

	if (o == NULL)
		return ds_err_setn(e, DS_ENOMEM, "out of memory");
	for (i = 0; i < nkeys; i++)
		if (cJSON_AddNumberToObject(o, keys[i], 0) == NULL)
			return ds_err_setn(e, DS_ENOMEM, "out of memory");
	while ((rc = store_step(s, st, e, "counting")) == 1) {
		const char *k = (const char *)sqlite3_column_text(st, 0);
		double v = (double)sqlite3_column_int64(st, 1);

		if (k == NULL)
			continue;
		it = cJSON_GetObjectItemCaseSensitive(o, k);
		if (it != NULL)
			cJSON_SetNumberValue(it, v);
		else if (cJSON_AddNumberToObject(o, k, v) == NULL)
			rc = ds_err_setn(e, DS_ENOMEM, "out of memory");
		if (rc < 0)
			break;
	}
	sqlite3_reset(st);
	return rc;
}

/* Adds n to the number `key` of object o (created at 0 when missing). */
static int store_json_add(cJSON *o, const char *key, double n)
{
	cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);

	if (it == NULL)
		return cJSON_AddNumberToObject(o, key, n) != NULL;
	cJSON_SetNumberValue(it, it->valuedouble + n);
	return 1;
}

/* Per-application counts of the report, in an open-addressing hash table (power-of-two size). */
struct store_appcount {
	char *app;
	int64_t count, leaks;
};
struct store_apps {
	struct store_appcount *slot;
	size_t cap, n;
};

static uint64_t store_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

/* Adds one dump of app to the table. 0 on allocation failure. */
static int store_apps_add(struct store_apps *t, const char *app, int64_t leak)
{
	struct store_appcount *old = t->slot, *e;
	size_t i, oldcap = t->cap;

	if (2 * (t->n + 1) > t->cap) {
		t->cap = t->cap ? 2 * t->cap : 256;
		t->slot = calloc(t->cap, sizeof(*t->slot));
		if (t->slot == NULL) {
			t->slot = old;
			t->cap = oldcap;
			return 0;
		}
		for (i = 0; i < oldcap; i++)
			if (old[i].app != NULL) {
				size_t j = store_hash(old[i].app) & (t->cap - 1);
				while (t->slot[j].app != NULL)
					j = (j + 1) & (t->cap - 1);
				t->slot[j] = old[i];
			}
		free(old);
	}
	for (i = store_hash(app) & (t->cap - 1); t->slot[i].app != NULL && strcmp(t->slot[i].app, app) != 0;)
		i = (i + 1) & (t->cap - 1);
	e = &t->slot[i];
	if (e->app == NULL) {
		e->app = strdup(app);
		if (e->app == NULL)
			return 0;
		t->n++;
	}
	e->count++;
	e->leaks += leak;
	return 1;
}

static void store_apps_free(struct store_apps *t)
{
	size_t i;

	for (i = 0; i < t->cap; i++)
		free(t->slot[i].app);
	free(t->slot);
	t->slot = NULL;
	t->cap = t->n = 0;
}

/* Most dumps first, then by name (the order the GROUP BY query gave). */
static int store_appcount_cmp(const void *a, const void *b)
{
	const struct store_appcount *x = a, *y = b;

	if (x->app == NULL || y->app == NULL)
		return (x->app == NULL) - (y->app == NULL);
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->app, y->app);
}

/* Counts the rows of Q_REPORT_ROWS (time order) into "days" [{day, count, leaks}] (UTC days with
 * dumps), "apps" [{app, count, leaks}] and the totals. */
static int store_report_days(struct store *s, sqlite3_stmt *st, cJSON *days, cJSON *apps, cJSON *totals,
			     cJSON *by_state, struct ds_err *e)
{
	struct store_apps t = { NULL, 0, 0 };
	int64_t state_n[STORE_STATE_COUNT] = { 0 }, dayno, cur_day = INT64_MIN, day_n = 0, day_leaks = 0, leaks = 0, all = 0;
	cJSON *cur = NULL, *o;
	const char *app, *state;
	struct tm tm;
	char name[48];
	size_t i;
	int rc, ok = 1, k, leak;

	while (ok && (rc = store_step(s, st, e, "counting dumps by day")) == 1) {
		dayno = sqlite3_column_int64(st, 0);
		dayno = dayno >= 0 ? dayno / 86400000 : -((-dayno + 86399999) / 86400000);
		app = (const char *)sqlite3_column_text(st, 1);
		state = (const char *)sqlite3_column_text(st, 2);
		leak = sqlite3_column_int(st, 3) != 0;
		if (dayno != cur_day) {
			if (cur != NULL)
				ok = store_json_add(cur, "count", (double)day_n) && store_json_add(cur, "leaks", (double)day_leaks);
			cur_day = dayno;
			day_n = day_leaks = 0;
			if (plat_gmtime(dayno * 86400, &tm) == DS_OK)
				snprintf(name, sizeof(name), "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
			else
				snprintf(name, sizeof(name), "?");
			cur = cJSON_CreateObject();
			ok = ok && cur != NULL && cJSON_AddItemToArray(days, cur) && cJSON_AddStringToObject(cur, "day", name) &&
			     cJSON_AddNumberToObject(cur, "count", 0) && cJSON_AddNumberToObject(cur, "leaks", 0);
			if (!ok)
				break;
		}
		day_n++;
		day_leaks += leak;
		all++;
		leaks += leak;
		k = store_state_parse(state != NULL ? state : "");
		if (k >= 0)
			state_n[k]++;
		ok = store_apps_add(&t, app != NULL ? app : "", leak);
	}
	if (ok && cur != NULL)
		ok = store_json_add(cur, "count", (double)day_n) && store_json_add(cur, "leaks", (double)day_leaks);
	ok = ok && store_json_add(totals, "dumps", (double)all) && store_json_add(totals, "leaks", (double)leaks);
	for (k = 0; ok && k < STORE_STATE_COUNT; k++)
		ok = store_json_add(by_state, state_names[k], (double)state_n[k]);
	if (ok && rc == 0 && t.cap > 0) {
		qsort(t.slot, t.cap, sizeof(*t.slot), store_appcount_cmp);
		for (i = 0; ok && i < t.n; i++) {
			o = cJSON_CreateObject();
			ok = o != NULL && cJSON_AddItemToArray(apps, o) && cJSON_AddStringToObject(o, "app", t.slot[i].app) &&
			     cJSON_AddNumberToObject(o, "count", (double)t.slot[i].count) &&
			     cJSON_AddNumberToObject(o, "leaks", (double)t.slot[i].leaks);
		}
	}
	if (!ok)
		rc = ds_err_setn(e, DS_ENOMEM, "out of memory building the report");
	sqlite3_reset(st);
	store_apps_free(&t);
	return rc;
}

int store_report(struct store *s, int64_t since, int64_t until, cJSON **out, struct ds_err *e)
{
	sqlite3_stmt *st = NULL;
	cJSON *r = cJSON_CreateObject(), *totals, *by_state = NULL, *days, *buckets, *apps;
	int rc, began = 0, i;

	*out = NULL;
	if (until <= 0)
		until = INT64_MAX;
	totals = cJSON_AddObjectToObject(r, "totals");
	days = cJSON_AddArrayToObject(r, "days");
	buckets = cJSON_AddArrayToObject(r, "buckets");
	apps = cJSON_AddArrayToObject(r, "apps");
	if (totals != NULL && cJSON_AddNumberToObject(totals, "dumps", 0) && cJSON_AddNumberToObject(totals, "leaks", 0) &&
	    cJSON_AddNumberToObject(totals, "apps", 0))
		by_state = cJSON_AddObjectToObject(totals, "by_state");
	for (i = 0; by_state != NULL && i < STORE_STATE_COUNT; i++)
		if (cJSON_AddNumberToObject(by_state, state_names[i], 0) == NULL)
			by_state = NULL;
	if (days == NULL || by_state == NULL || buckets == NULL || apps == NULL) {
		rc = ds_err_setn(e, DS_ENOMEM, "out of memory");
		goto out;
	}
	rc = store_read_begin(s, &began, e);
	if (rc == DS_OK)
		rc = store_stmt(s, Q_REPORT_ROWS, &st, e);
	if (rc != DS_OK)
		goto out;
	bi(s, st, 1, since);
	bi(s, st, 2, until);
	rc = store_report_days(s, st, days, apps, totals, by_state, e);
	if (rc == DS_OK)
		rc = store_stmt(s, Q_REPORT_BUCKETS, &st, e);
	if (rc != DS_OK)
		goto out;
	bi(s, st, 1, since);
	bi(s, st, 2, until);
	rc = store_rows_json(s, st, buckets, e, "building the report");
	if (rc != DS_OK)
		goto out;
	cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(totals, "apps"), cJSON_GetArraySize(apps));
	*out = r;
	r = NULL;
out:
	cJSON_Delete(r);
	store_read_end(s, began);
	store_release(s);
	return rc;
}

int store_bucket_counts(struct store *s, int64_t since, int64_t until, cJSON **out, struct ds_err *e)
{
	cJSON *r = cJSON_CreateObject();
	int rc;

	*out = NULL;
	if (r == NULL) {
		rc = ds_err_setn(e, DS_ENOMEM, "out of memory");
		goto out;
	}
	rc = store_add_rows2(s, r, "counts", Q_BUCKET_RANGE_COUNTS, since, until > 0 ? until : INT64_MAX, e);
	if (rc == DS_OK) {
		*out = cJSON_DetachItemFromObjectCaseSensitive(r, "counts");
		rc = *out != NULL ? DS_OK : ds_err_setn(e, DS_ENOMEM, "out of memory");
	}
out:
	cJSON_Delete(r);
	store_release(s);
	return rc;
}

int store_status_get(struct store *s, cJSON **out, struct ds_err *e)
{
	sqlite3_stmt *st = NULL;
	cJSON *r = cJSON_CreateObject(), *v = NULL;
	int rc, began = 0;

	*out = NULL;
	if (r == NULL || cJSON_AddNumberToObject(r, "schema_version", s->version) == NULL) {
		rc = ds_err_setn(e, DS_ENOMEM, "out of memory");
		goto out;
	}
	rc = store_read_begin(s, &began, e);
	if (rc == DS_OK)
		rc = store_stmt(s, Q_STATUS_ROW, &st, e);
	if (rc != DS_OK)
		goto out;
	rc = store_step(s, st, e, "reading the service status");
	if (rc >= 0)
		v = rc == 1 ? store_row_json(st) : cJSON_CreateNull();
	sqlite3_reset(st);
	if (rc < 0)
		goto out;
	if (v == NULL || !cJSON_AddItemToObject(r, "service", v)) {
		cJSON_Delete(v);
		rc = ds_err_setn(e, DS_ENOMEM, "out of memory");
		goto out;
	}
	rc = store_stmt(s, Q_QUEUE_COUNTS, &st, e);
	if (rc == DS_OK)
		rc = store_add_counts(s, r, "queue", st, state_names, STORE_STATE_COUNT, e);
	if (rc == DS_OK)
		rc = store_stmt(s, Q_OUTBOX_COUNTS, &st, e);
	if (rc == DS_OK)
		rc = store_add_counts(s, r, "outbox", st, mail_state_names, 4, e);
	if (rc == DS_OK)
		rc = store_stmt(s, Q_KV_ALL, &st, e);
	if (rc != DS_OK)
		goto out;
	v = cJSON_AddObjectToObject(r, "kv");
	while (v != NULL && (rc = store_step(s, st, e, "reading service values")) == 1) {
		const char *k = (const char *)sqlite3_column_text(st, 0);
		const char *val = (const char *)sqlite3_column_text(st, 1);

		if (k != NULL && cJSON_AddStringToObject(v, k, val != NULL ? val : "") == NULL)
			v = NULL;
	}
	sqlite3_reset(st);
	if (v == NULL)
		rc = ds_err_setn(e, DS_ENOMEM, "out of memory");
	if (rc < 0)
		goto out;
	rc = store_stmt(s, Q_RAW_USAGE, &st, e);
	if (rc != DS_OK)
		goto out;
	rc = store_step(s, st, e, "measuring raw dumps");
	v = rc == 1 ? store_row_json(st) : NULL;
	sqlite3_reset(st);
	if (rc < 0)
		goto out;
	if (v == NULL || !cJSON_AddItemToObject(r, "raw", v)) {
		cJSON_Delete(v);
		rc = ds_err_setn(e, DS_ENOMEM, "out of memory");
		goto out;
	}
	rc = DS_OK;
	*out = r;
	r = NULL;
out:
	cJSON_Delete(r);
	store_read_end(s, began);
	store_release(s);
	return rc;
}
