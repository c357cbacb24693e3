/* store_queue.c - the service's dump queue in the store: discovery (insert-or-get by path, content
 * hashes and duplicates), claims with leases, state transitions, start-up recovery, due times and
 * counts, requeueing, the typed look-ups the service reads states with, and retention's list of raw
 * files (see store.h). It decides no policy: backoff and what to delete are the caller's. */
#include "store.h"
#include "plat.h"
#include "store_fleet.h"
#include "store_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REF_COLS "SELECT id, size, mtime_ns, sha256, state, deleted_at, duplicate_of FROM dumps "

static const char sql_by_path[] = REF_COLS "WHERE path = ?1 AND replaced_at IS NULL";
static const char sql_by_id[] = REF_COLS "WHERE id = ?1";
static const char sql_insert[] = "INSERT INTO dumps (path, file_name, size, mtime_ns, discovered_at, updated_at, "
				 "sha256) VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6)";
static const char sql_refresh[] = "UPDATE dumps SET size = ?2, mtime_ns = ?3, sha256 = COALESCE(sha256, ?4), "
				  "deleted_at = NULL, updated_at = ?5 WHERE id = ?1";
static const char sql_replace_old[] =
	"UPDATE dumps SET replaced_at = ?2, deleted_at = COALESCE(deleted_at, ?2), lease_until = NULL, "
	"last_error = CASE WHEN state IN " STORE_PENDING_STATES " THEN 'the file was replaced before it was "
	"processed' ELSE last_error END, "
	"state = CASE WHEN state IN " STORE_PENDING_STATES " THEN 'failed' ELSE state END, updated_at = ?2 "
	"WHERE id = ?1";
static const char sql_replaced_by[] = "UPDATE dumps SET replaced_by = ?2 WHERE id = ?1";
static const char sql_find_hash[] = "SELECT id FROM dumps WHERE sha256 = ?1 AND id != ?2 AND duplicate_of IS NULL "
				    "ORDER BY id LIMIT 1";
static const char sql_set_hash[] = "UPDATE dumps SET sha256 = ?2, duplicate_of = ?3, updated_at = ?4 WHERE id = ?1";
static const char sql_claim_triage[] = "SELECT id FROM dumps WHERE state = 'discovered' AND next_attempt_at <= ?1 "
				       "AND (lease_until IS NULL OR lease_until <= ?1) ORDER BY next_attempt_at, id "
				       "LIMIT 1";
static const char sql_claim_analyze[] = "SELECT id FROM dumps WHERE (state = 'triaged' AND next_attempt_at <= ?1 "
					"AND (lease_until IS NULL OR lease_until <= ?1)) "
					"OR (state = 'analyzing' AND lease_until <= ?1) ORDER BY next_attempt_at, id "
					"LIMIT 1";
static const char sql_mark_triage[] = "UPDATE dumps SET attempts = attempts + 1, lease_until = ?2, updated_at = ?3 "
				      "WHERE id = ?1";
static const char sql_mark_analyze[] = "UPDATE dumps SET state = 'analyzing', attempts = attempts + 1, "
				       "lease_until = ?2, updated_at = ?3 WHERE id = ?1";
static const char sql_job[] = "SELECT id, path, size, mtime_ns, sha256, attempts, discovered_at, duplicate_of, "
			      "(SELECT file_id FROM dump_identity WHERE dump_id = dumps.id) FROM dumps WHERE id = ?1";
static const char sql_transition[] = "UPDATE dumps SET state = ?2, next_attempt_at = ?3, last_error = ?4, "
				     "lease_until = NULL, updated_at = ?5 WHERE id = ?1";
static const char sql_recover_analyzing[] = "UPDATE dumps SET state = 'triaged', lease_until = NULL "
					    "WHERE state = 'analyzing'";
static const char sql_recover_leases[] = "UPDATE dumps SET lease_until = NULL WHERE lease_until IS NOT NULL";
static const char sql_recover_outbox[] = "UPDATE outbox SET state = 'queued' WHERE state = 'sending'";
static const char sql_next_due[] = "SELECT MIN(max(next_attempt_at, COALESCE(lease_until, 0))) FROM dumps "
				   "WHERE state = ?1 OR (?1 = 'triaged' AND state = 'analyzing')";
const char store_queue_sql_counts[] = "SELECT state, COUNT(*) FROM dumps GROUP BY state";
#define REQUEUE_SET                                                                                       \
	"UPDATE dumps SET state = CASE WHEN triaged_at IS NULL THEN 'discovered' ELSE 'triaged' END, "    \
	"attempts = 0, next_attempt_at = ?1, last_error = NULL, lease_until = NULL, updated_at = ?1 "
static const char sql_requeue[] = REQUEUE_SET "WHERE id = ?2 AND deleted_at IS NULL";
static const char sql_requeue_failed[] = REQUEUE_SET "WHERE state = 'failed' AND deleted_at IS NULL";
static const char sql_retention[] =
	"WITH ranked AS (SELECT db.dump_id, ROW_NUMBER() OVER (PARTITION BY db.bucket_id "
	"ORDER BY d.discovered_at DESC, d.id DESC) AS rn FROM dump_buckets db "
	"JOIN dumps d ON d.id = db.dump_id WHERE d.deleted_at IS NULL), "
	"newest AS (SELECT DISTINCT dump_id FROM ranked WHERE rn = 1) "
	"SELECT d.id, d.path, d.size, d.mtime_ns, d.discovered_at, d.crash_bucket_id, d.state, "
	"d.id IN (SELECT dump_id FROM newest) AS keep, i.file_id "
	"FROM dumps d LEFT JOIN dump_identity i ON i.dump_id = d.id WHERE d.deleted_at IS NULL "
	"AND (i.file_id IS NOT NULL OR d.state IN " STORE_PENDING_STATES ") ORDER BY d.discovered_at, d.id";
static const char sql_mark_deleted[] = "UPDATE dumps SET deleted_at = ?2, updated_at = ?2 WHERE id = ?1";

/* ---- discovery ---- */

int store_dump_upsert(struct store *s, const struct store_file *f, int64_t now, int64_t *id, int *outcome,
		      struct ds_err *e)
{
	struct store_dump_ref r;
	struct ds_err le = { 0 };
	int64_t new_id = 0;
	int rc, tx = 0, found, unprocessed = 0, same, oc;

	if (f == NULL || f->path == NULL || f->path[0] == '\0' || (f->sha256 != NULL && !store_check_sha256(f->sha256))) {
		rc = ds_err_setn(e, DS_EINVAL, "store_dump_upsert: a path and an optional 64-hex-digit sha256 are needed");
		goto out;
	}
	rc = store_tx_begin(s, e);
	if (rc != DS_OK)
		goto out;
	tx = 1;
	rc = store_dump_find_path(s, f->path, &r, &le);
	if (rc != DS_OK && rc != DS_ENOENT) {
		if (e != NULL)
			*e = le;
		goto out;
	}
	found = rc == DS_OK;
	rc = DS_OK;
	/* A row not yet triaged and never hashed describes a file still being written (a dump writer grows
	 * it in several steps): it is the same dump, not a replacement. */
	unprocessed = found && r.state == STORE_DISCOVERED && r.sha256[0] == '\0';
	if (!found) {
		oc = STORE_UPSERT_NEW;
	} else {
		if (f->sha256 != NULL && r.sha256[0] != '\0')
			same = strcmp(f->sha256, r.sha256) == 0;
		else
			same = r.size == f->size && r.mtime_ns == f->mtime_ns;
		oc = same || unprocessed ? STORE_UPSERT_SAME : STORE_UPSERT_REPLACED;
	}

	if (oc == STORE_UPSERT_SAME) {
		new_id = r.id;
		if (r.size != f->size || r.mtime_ns != f->mtime_ns || r.deleted_at != 0 ||
		    (f->sha256 != NULL && r.sha256[0] == '\0'))
			rc = store_do(s, sql_refresh, NULL, e, "refreshing a dump", "iiiti", r.id, (int64_t)f->size,
				      f->mtime_ns, f->sha256, now);
	} else {
		/* Retire the old row first: the live-path index allows one row per path. */
		if (oc == STORE_UPSERT_REPLACED)
			rc = store_do(s, sql_replace_old, NULL, e, "retiring a replaced dump", "ii", r.id, now);
		if (rc == DS_OK)
			rc = store_do(s, sql_insert, NULL, e, "recording a new dump", "ttiiit", f->path,
				      store_basename(f->path), (int64_t)f->size, f->mtime_ns, now, f->sha256);
		new_id = sqlite3_last_insert_rowid(s->db);
		if (rc == DS_OK && oc == STORE_UPSERT_REPLACED)
			rc = store_do(s, sql_replaced_by, NULL, e, "linking a replaced dump", "ii", r.id, new_id);
	}
	if (rc != DS_OK)
		goto out;
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

/* Reads one dumps row of REF_COLS; what names the row for DS_ENOENT. */
static int store_dump_ref_read(struct store *s, const char *sql, const char *types, int64_t id, const char *path,
			       struct store_dump_ref *out, struct ds_err *e)
{
	sqlite3_stmt *st = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (path != NULL)
		rc = store_row(s, sql, &st, e, "looking up a dump by path", types, path);
	else
		rc = store_row(s, sql, &st, e, "looking up a dump", types, id);
	if (rc == 0 && path != NULL)
		rc = ds_err_setn(e, DS_ENOENT, "no dump with path %s in %s", path, s->path);
	else if (rc == 0)
		rc = ds_err_setn(e, DS_ENOENT, "no dump %" PRId64 " in %s", id, s->path);
	if (rc < 0)
		goto out;
	out->id = store_col_i64(st, 0);
	out->size = (uint64_t)store_col_i64(st, 1);
	out->mtime_ns = store_col_i64(st, 2);
	store_col_copy(st, 3, out->sha256, sizeof(out->sha256));
	out->state = store_state_parse((const char *)sqlite3_column_text(st, 4));
	out->deleted_at = store_col_i64(st, 5);
	out->duplicate_of = store_col_i64(st, 6);
	sqlite3_reset(st);
	rc = DS_OK;
out:
	return rc;
}

int store_dump_find_path(struct store *s, const char *path, struct store_dump_ref *out, struct ds_err *e)
{
	int rc = store_dump_ref_read(s, sql_by_path, "t", 0, path != NULL ? path : "", out, e);

	store_release(s);
	return rc;
}

int store_dump_find_id(struct store *s, int64_t id, struct store_dump_ref *out, struct ds_err *e)
{
	int rc = store_dump_ref_read(s, sql_by_id, "i", id, NULL, out, e);

	store_release(s);
	return rc;
}

/* The original for a hash (no release: used inside other calls). */
static int store_find_hash(struct store *s, const char *sha256, int64_t exclude_id, int64_t *id, struct ds_err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = store_row(s, sql_find_hash, &st, e, "looking up a dump by hash", "ti", sha256, exclude_id);

	if (rc == 1) {
		*id = store_col_i64(st, 0);
		sqlite3_reset(st);
		rc = DS_OK;
	} else if (rc == 0) {
		rc = ds_err_setn(e, DS_ENOENT, "no dump with sha256 %s in %s", sha256, s->path);
	}
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
	int64_t orig = 0, n = 0;
	int rc;

	if (!store_check_sha256(sha256)) {
		rc = ds_err_setn(e, DS_EINVAL, "store_dump_set_hash: not a sha256 hex digest");
		goto out;
	}
	rc = store_tx_begin(s, e);
	if (rc != DS_OK)
		goto out;
	rc = store_find_hash(s, sha256, id, &orig, NULL);
	if (rc == DS_ENOENT) {
		orig = 0;
		rc = DS_OK;
	}
	if (rc == DS_OK)
		rc = store_do(s, sql_set_hash, &n, e, "recording a dump's hash", "itni", id, sha256, orig,
			      plat_now_ms());
	if (rc == DS_OK && n == 0)
		rc = ds_err_setn(e, DS_ENOENT, "no dump %" PRId64 " in %s", id, s->path);
	rc = store_tx_end(s, rc, e);
	if (rc == DS_OK && duplicate_of != NULL)
		*duplicate_of = orig;
out:
	store_release(s);
	return rc;
}

/* ---- the queue ---- */

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
	int rc, tx = 0, triage = stage == STORE_STAGE_TRIAGE;

	memset(job, 0, sizeof(*job));
	if (stage != STORE_STAGE_TRIAGE && stage != STORE_STAGE_ANALYZE) {
		rc = ds_err_setn(e, DS_EINVAL, "store_claim: unknown stage %d", stage);
		goto out;
	}
	rc = store_tx_begin(s, e);
	if (rc != DS_OK)
		goto out;
	tx = 1;
	rc = store_row(s, triage ? sql_claim_triage : sql_claim_analyze, &st, e, "looking for due work", "i", now);
	if (rc == 0)
		rc = ds_err_setn(e, DS_ENOENT, "nothing due in %s", s->path);
	if (rc < 0)
		goto out;
	id = store_col_i64(st, 0);
	sqlite3_reset(st);
	rc = store_do(s, triage ? sql_mark_triage : sql_mark_analyze, NULL, e, "claiming a dump", "iii", id,
		      lease_ms > 0 && now <= INT64_MAX - lease_ms ? now + lease_ms : INT64_MAX, now);
	if (rc != DS_OK)
		goto out;
	rc = store_row(s, sql_job, &st, e, "reading a claimed dump", "i", id);
	if (rc == 0)
		rc = ds_err_setn(e, DS_EDB, "claimed dump %" PRId64 " vanished from %s", id, s->path);
	if (rc < 0)
		goto out;
	job->id = id;
	job->path = store_col_dup(st, 1);
	job->size = (uint64_t)store_col_i64(st, 2);
	job->mtime_ns = store_col_i64(st, 3);
	store_col_copy(st, 4, job->sha256, sizeof(job->sha256));
	job->attempts = sqlite3_column_int(st, 5);
	job->discovered_at = store_col_i64(st, 6);
	job->duplicate_of = store_col_i64(st, 7);
	store_col_copy(st, 8, job->file_id, sizeof(job->file_id));
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
	int64_t n = 0;
	int rc;

	int64_t now = plat_now_ms();

	if (store_state_name(state) == NULL)
		return ds_err_setn(e, DS_EINVAL, "store_dump_transition: unknown state %d", state);
	rc = store_tx_begin(s, e);
	if (rc != DS_OK)
		goto out;
	rc = store_do(s, sql_transition, &n, e, "changing a dump's state", "itiei", id, store_state_name(state),
		      next_attempt_at, error, now);
	if (rc == DS_OK && n == 0)
		rc = ds_err_setn(e, DS_ENOENT, "no dump %" PRId64 " in %s", id, s->path);
	/* A dump at an end state (a triage that failed: not a dump, corrupt; an analysis that ended without
	 * one; a duplicate linked) is published as it now is, in this transaction (store_fleet.h). */
	if (rc == DS_OK && (state == STORE_DONE || state == STORE_FAILED || state == STORE_UNSUPPORTED))
		rc = store_fleet_enqueue(s, id, now, e);
	rc = store_tx_end(s, rc, e);
out:
	store_release(s);
	return rc;
}

int store_recover(struct store *s, struct store_recovery *r, struct ds_err *e)
{
	struct store_recovery tmp;
	int rc;

	memset(&tmp, 0, sizeof(tmp));
	rc = store_tx_begin(s, e);
	if (rc != DS_OK)
		goto out;
	rc = store_do(s, sql_recover_analyzing, &tmp.analyzing_reset, e, "recovering interrupted analyses", "");
	if (rc == DS_OK)
		rc = store_do(s, sql_recover_leases, &tmp.leases_cleared, e, "clearing leases", "");
	if (rc == DS_OK)
		rc = store_do(s, sql_recover_outbox, &tmp.outbox_reset, e, "recovering interrupted mail", "");
	rc = store_tx_end(s, rc, e);
	if (rc == DS_OK && r != NULL)
		*r = tmp;
out:
	store_release(s);
	return rc;
}

int store_queue_min(struct store *s, const char *sql, const char *arg, int64_t *at, struct ds_err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = store_row(s, sql, &st, e, "looking for the next due time", arg != NULL ? "t" : "", arg);

	if (rc == 1 && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		*at = store_col_i64(st, 0);
		rc = DS_OK;
	} else if (rc >= 0) {
		rc = ds_err_setn(e, DS_ENOENT, "nothing waiting in %s", s->path);
	}
	store_release(s);
	return rc;
}

int store_next_due(struct store *s, int stage, int64_t *at, struct ds_err *e)
{
	return store_queue_min(s, sql_next_due, stage == STORE_STAGE_TRIAGE ? "discovered" : "triaged", at, e);
}

int store_queue_counts(struct store *s, int64_t *counts, struct ds_err *e)
{
	sqlite3_stmt *st = NULL;
	int rc, i;

	for (i = 0; i < STORE_STATE_COUNT; i++)
		counts[i] = 0;
	rc = store_stmt(s, store_queue_sql_counts, &st, e);
	if (rc != DS_OK)
		goto out;
	while ((rc = store_step(s, st, e, "counting the queue")) == 1) {
		i = store_state_parse((const char *)sqlite3_column_text(st, 0));
		if (i >= 0)
			counts[i] = store_col_i64(st, 1);
	}
out:
	store_release(s);
	return rc;
}

int store_dump_requeue(struct store *s, int64_t id, int64_t now, struct ds_err *e)
{
	int64_t n = 0;
	int rc = store_write(s, sql_requeue, &n, e, "requeueing a dump", "ii", now, id);

	if (rc == DS_OK && n == 0)
		rc = ds_err_setn(e, DS_ENOENT, "no dump %" PRId64 " with its file present in %s", id, s->path);
	return rc;
}

int store_requeue_failed(struct store *s, int64_t now, int64_t *n, struct ds_err *e)
{
	return store_write(s, sql_requeue_failed, n, e, "requeueing failed dumps", "i", now);
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
	rc = store_stmt(s, sql_retention, &st, e);
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
		r->id = store_col_i64(st, 0);
		r->path = store_col_dup(st, 1);
		if (r->path == NULL) {
			rc = ds_err_setn(e, DS_ENOMEM, "out of memory listing raw dumps");
			goto out;
		}
		cnt++;
		r->size = (uint64_t)store_col_i64(st, 2);
		r->mtime_ns = store_col_i64(st, 3);
		r->discovered_at = store_col_i64(st, 4);
		r->crash_bucket_id = store_col_i64(st, 5);
		r->state = store_state_parse((const char *)sqlite3_column_text(st, 6));
		r->pending = r->state == STORE_DISCOVERED || r->state == STORE_TRIAGED || r->state == STORE_ANALYZING;
		r->keep = sqlite3_column_int(st, 7) != 0;
		store_col_copy(st, 8, r->file_id, sizeof(r->file_id));
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
	int64_t n = 0;
	int rc = store_write(s, sql_mark_deleted, &n, e, "marking a raw dump deleted", "ii", id, now);

	if (rc == DS_OK && n == 0)
		rc = ds_err_setn(e, DS_ENOENT, "no dump %" PRId64 " in %s", id, s->path);
	return rc;
}
