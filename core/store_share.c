/* store_share.c - the SQL of the fleet's dump share (see store_share.h): the table share_files
 * (schema/004_dump_share.sql, 005_share_pending.sql) of the copies this service wrote or means to,
 * and the snapshot queued when a copy appears or goes after the dump's own triage was published. */
#include "store_share.h"
#include "store.h"
#include "store_fleet.h"
#include "store_int.h"

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include <stdlib.h>
#include <string.h>

static const char share_sql_copied[] =
	"INSERT INTO share_files (dump_id, state, path, written_at, attempts, last_error, updated_at) "
	"VALUES (?1, 'copied', ?3, ?2, 0, NULL, ?2) ON CONFLICT (dump_id) DO UPDATE SET state = 'copied', "
	"path = excluded.path, written_at = excluded.written_at, attempts = 0, last_error = NULL, "
	"updated_at = excluded.updated_at";
/* A failure after an earlier copy keeps that copy. */
static const char share_sql_failed[] =
	"INSERT INTO share_files (dump_id, state, attempts, last_error, updated_at) "
	"VALUES (?1, 'failed', 1, substr(?3, 1, 1000), ?2) ON CONFLICT (dump_id) DO UPDATE SET state = 'failed', "
	"attempts = attempts + 1, last_error = excluded.last_error, updated_at = excluded.updated_at "
	"WHERE state != 'copied'";
static const char share_sql_want[] =
	"INSERT INTO share_files (dump_id, state, attempts, updated_at) VALUES (?1, 'pending', 0, ?2) "
	"ON CONFLICT (dump_id) DO NOTHING";
static const char share_sql_published[] =
	"SELECT 1 FROM dumps WHERE id = ?1 AND triaged_at IS NOT NULL";
static const char share_sql_has_copy[] = "SELECT 1 FROM share_files WHERE dump_id = ?1 AND state = 'copied'";
static const char share_sql_forget[] = "DELETE FROM share_files WHERE dump_id = ?1";
static const char share_sql_expired[] =
	"SELECT dump_id, path, '', 0 FROM share_files WHERE state = 'copied' AND written_at < ?1 "
	"ORDER BY written_at, dump_id LIMIT ?2";
/* ?1 now, ?2 max, ?3 the first retry's wait: pending at once, failed after ?3 * 2^(attempts-1), a day at
 * most (the shift is capped so the product stays far from overflowing). */
static const char share_sql_due[] =
	"SELECT f.dump_id, d.path, i.file_id, d.discovered_at FROM share_files f JOIN dumps d ON d.id = f.dump_id "
	"JOIN dump_identity i ON i.dump_id = f.dump_id WHERE d.deleted_at IS NULL AND (f.state = 'pending' OR "
	"(f.state = 'failed' AND f.updated_at + min(?3 * (1 << min(max(f.attempts - 1, 0), 20)), 86400000) <= ?1)) "
	"ORDER BY f.updated_at, f.dump_id LIMIT ?2";
static const char share_sql_status[] =
	"SELECT (SELECT count(*) FROM share_files WHERE state = 'copied'), "
	"(SELECT count(*) FROM share_files WHERE state = 'failed'), "
	"(SELECT last_error FROM share_files WHERE state = 'failed' ORDER BY updated_at DESC LIMIT 1), "
	"(SELECT count(*) FROM share_files WHERE state = 'pending')";

/* *yes 1 when sql (?1 = dump_id) returns a row. */
static int share_exists(struct store *s, const char *sql, int64_t dump_id, int *yes, struct ds_err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = store_row(s, sql, &st, e, "reading a dump", "i", dump_id);

	*yes = rc == 1;
	return rc < 0 ? rc : DS_OK;
}

int store_share_has_copy(struct store *s, int64_t dump_id, int *yes, struct ds_err *e)
{
	int rc = share_exists(s, share_sql_has_copy, dump_id, yes, e);

	store_release(s);
	return rc;
}

/* Ends the transaction of a change to dump_id's copy (rc: how it went so far): when the copy changed
 * (changed) and the dump's triage was already recorded, a new snapshot is queued so the central row
 * follows; then commit, or roll back on any error. */
static int share_finish(struct store *s, int64_t dump_id, int changed, int64_t now, int rc, struct ds_err *e)
{
	int triaged = 0;

	if (rc == DS_OK && changed)
		rc = share_exists(s, share_sql_published, dump_id, &triaged, e);
	if (rc == DS_OK && triaged)
		rc = store_fleet_enqueue(s, dump_id, now, e);
	rc = store_tx_end(s, rc, e);
	store_release(s);
	return rc;
}

int store_share_want(struct store *s, int64_t dump_id, int64_t now, struct ds_err *e)
{
	return store_do(s, share_sql_want, NULL, e, "recording a copy to make on the share", "ii", dump_id, now);
}

int store_share_record(struct store *s, int64_t dump_id, const char *path, const char *error, int64_t now,
		       struct ds_err *e)
{
	int rc = store_tx_begin(s, e);

	if (rc != DS_OK)
		return rc;
	if (path != NULL)
		rc = store_do(s, share_sql_copied, NULL, e, "recording a copy on the share", "iit", dump_id, now,
			      path);
	else
		rc = store_do(s, share_sql_failed, NULL, e, "recording a failed copy to the share", "iit", dump_id,
			      now, error != NULL ? error : "unknown error");
	return share_finish(s, dump_id, path != NULL, now, rc, e);
}

void store_share_items_free(struct store_share_item *items, size_t n)
{
	size_t i;

	for (i = 0; items != NULL && i < n; i++) {
		free(items[i].path);
		free(items[i].file_id);
	}
	free(items);
}

/* Runs sql (?1 = at, ?2 = max, and ?3 = arg when it has one) whose rows are (dump_id, path, file_id,
 * discovered_at). */
static int share_items(struct store *s, const char *sql, int64_t at, int64_t arg, size_t max,
		       struct store_share_item **items, size_t *n, struct ds_err *e, const char *what)
{
	struct store_share_item *v = NULL, *it;
	sqlite3_stmt *st = NULL;
	size_t cnt = 0;
	int rc;

	*items = NULL;
	*n = 0;
	v = calloc(max > 0 ? max : 1, sizeof(*v));
	if (v == NULL) {
		rc = ds_err_setn(e, DS_ENOMEM, "out of memory while %s", what);
		goto out;
	}
	rc = store_row(s, sql, &st, e, what, strstr(sql, "?3") != NULL ? "iii" : "ii", at, (int64_t)max, arg);
	while (rc == 1 && cnt < max) {
		it = &v[cnt++];
		it->dump_id = sqlite3_column_int64(st, 0);
		it->path = store_col_dup(st, 1);
		it->file_id = store_col_dup(st, 2);
		it->discovered_at = sqlite3_column_int64(st, 3);
		if (it->path == NULL || it->file_id == NULL) {
			rc = ds_err_setn(e, DS_ENOMEM, "out of memory while %s", what);
			goto out;
		}
		rc = store_step(s, st, e, what);
	}
	if (rc < 0)
		goto out;
	rc = DS_OK;
	*items = v;
	*n = cnt;
	v = NULL;
out:
	store_share_items_free(v, cnt);
	store_release(s);
	return rc;
}

int store_share_expired(struct store *s, int64_t before, size_t max, struct store_share_item **items, size_t *n,
			struct ds_err *e)
{
	return share_items(s, share_sql_expired, before, 0, max, items, n, e, "listing expired copies on the share");
}

int store_share_due(struct store *s, int64_t now, int64_t retry_ms, size_t max, struct store_share_item **items,
		    size_t *n, struct ds_err *e)
{
	return share_items(s, share_sql_due, now, retry_ms, max, items, n, e, "listing copies to make on the share");
}

int store_share_drop_gone(struct store *s, int64_t *n, struct ds_err *e)
{
	return store_write(s, "DELETE FROM share_files WHERE state != 'copied' AND dump_id IN "
			      "(SELECT id FROM dumps WHERE deleted_at IS NOT NULL)",
			   n, e, "forgetting copies of deleted dumps", "");
}

int store_share_forget(struct store *s, int64_t dump_id, int64_t now, struct ds_err *e)
{
	int rc = store_tx_begin(s, e);

	if (rc != DS_OK)
		return rc;
	rc = store_do(s, share_sql_forget, NULL, e, "forgetting a copy on the share", "i", dump_id);
	return share_finish(s, dump_id, 1, now, rc, e);
}

int store_share_status(struct store *s, cJSON **out, struct ds_err *e)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *err;
	cJSON *o = NULL;
	int rc;

	*out = NULL;
	rc = store_row(s, share_sql_status, &st, e, "reading the share's state", "");
	if (rc == 0)
		rc = ds_err_setn(e, DS_EDB, "reading the share's state: no row");
	if (rc < 0)
		goto out;
	rc = DS_OK;
	o = cJSON_CreateObject();
	err = sqlite3_column_text(st, 2);
	if (o == NULL || cJSON_AddNumberToObject(o, "copied", (double)sqlite3_column_int64(st, 0)) == NULL ||
	    cJSON_AddNumberToObject(o, "pending", (double)sqlite3_column_int64(st, 3)) == NULL ||
	    cJSON_AddNumberToObject(o, "failed", (double)sqlite3_column_int64(st, 1)) == NULL ||
	    (err != NULL ? cJSON_AddStringToObject(o, "last_error", (const char *)err)
			 : cJSON_AddNullToObject(o, "last_error")) == NULL) {
		rc = ds_err_setn(e, DS_ENOMEM, "out of memory");
		goto out;
	}
	*out = o;
	o = NULL;
out:
	cJSON_Delete(o);
	store_release(s);
	return rc;
}
