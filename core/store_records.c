/* store_records.c - what the service's workers write into the store: triage records, analyses with
 * their load contexts and root chains, and the crash and root buckets both are counted in (per bucket
 * and per application), each recording in one transaction with the fleet's snapshot (see store.h).
 * It reads nothing back for the CLI (store_query.c does) and decides nothing about retries. */
#include "store.h"
#include "plat.h"
#include "store_fleet.h"
#include "store_share.h"
#include "store_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char sql_dump_base[] = "SELECT discovered_at, app FROM dumps WHERE id = ?1";
static const char sql_bucket_upsert[] = "INSERT INTO buckets (kind, key, title, first_seen, last_seen, count) "
					"VALUES (?1, ?2, ?3, ?4, ?4, 0) ON CONFLICT (kind, key) DO UPDATE SET kind = kind "
					"RETURNING id";
static const char sql_link_insert[] = "INSERT OR IGNORE INTO dump_buckets (dump_id, bucket_id, app, seen_at) "
				      "VALUES (?1, ?2, ?3, ?4)";
static const char sql_link_delete[] = "DELETE FROM dump_buckets WHERE dump_id = ?1 AND bucket_id = ?2 RETURNING app";
static const char sql_bucket_inc[] = "UPDATE buckets SET count = count + 1, first_seen = min(first_seen, ?2), "
				     "last_seen = max(last_seen, ?2) WHERE id = ?1";
static const char sql_bucket_dec[] = "UPDATE buckets SET count = count - 1 WHERE id = ?1 AND count > 0";
static const char sql_bapp_inc[] = "INSERT INTO bucket_apps (bucket_id, app, first_seen, last_seen, count) "
				   "VALUES (?1, ?2, ?3, ?3, 1) ON CONFLICT (bucket_id, app) DO UPDATE SET "
				   "count = count + 1, first_seen = min(first_seen, excluded.first_seen), "
				   "last_seen = max(last_seen, excluded.last_seen)";
static const char sql_bapp_dec[] = "UPDATE bucket_apps SET count = count - 1 WHERE bucket_id = ?1 AND app = ?2 "
				   "AND count > 0";
static const char sql_bapp_prune[] = "DELETE FROM bucket_apps WHERE bucket_id = ?1 AND app = ?2 AND count = 0";
static const char sql_links_of_kind[] = "SELECT db.bucket_id, db.app FROM dump_buckets db "
					"JOIN buckets b ON b.id = db.bucket_id WHERE db.dump_id = ?1 AND b.kind = ?2";
static const char sql_triage_update[] =
	"UPDATE dumps SET triaged_at = ?2, app = ?3, format = ?4, writer = ?5, os = ?6, os_version = ?7, "
	"arch = ?8, pid = ?9, process_name = ?10, app_version = ?11, command_line = ?12, dump_time = ?13, "
	"exception_code = ?14, exception_name = ?15, exception_address = ?16, fault_address = ?17, "
	"crashing_thread = ?18, thread_count = ?19, module_count = ?20, runtime_name = ?21, "
	"runtime_version = ?22, has_heap = ?23, crash_bucket_id = ?24, triage_json = ?25, state = ?26, "
	"attempts = 0, next_attempt_at = 0, lease_until = NULL, last_error = NULL, updated_at = ?2 "
	"WHERE id = ?1";
static const char sql_identity_set[] = "INSERT INTO dump_identity (dump_id, file_id) VALUES (?1, ?2) "
				       "ON CONFLICT (dump_id) DO UPDATE SET file_id = excluded.file_id";
static const char sql_analysis_delete[] = "DELETE FROM analyses WHERE dump_id = ?1";
static const char sql_analysis_insert[] = "INSERT INTO analyses (dump_id, engine, engine_version, status, "
					  "started_at, finished_at, duration_ms, error, exception_type, "
					  "exception_message, result_json) "
					  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
static const char sql_context_insert[] = "INSERT INTO contexts (analysis_id, ordinal, name, loader_allocator, state) "
					 "VALUES (?1, ?2, ?3, ?4, ?5)";
static const char sql_root_insert[] = "INSERT INTO roots (context_id, dump_id, ordinal, kind, culprit, signature, "
				      "probable_false_root, thread, frame, catalogue_id, chain_text, chain_json, "
				      "bucket_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";
static const char sql_dump_crash_bucket[] = "UPDATE dumps SET crash_bucket_id = ?2 WHERE id = ?1";
static const char sql_analysis_dump_update[] = "UPDATE dumps SET has_leak = ?2, state = ?3, next_attempt_at = ?4, "
					       "last_error = ?5, lease_until = NULL, updated_at = ?6 WHERE id = ?1";

/* ---- buckets ---- */

static int store_bucket_upsert(struct store *s, const char *kind, const char *key, const char *title, int64_t seen,
			       int64_t *bid, struct ds_err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = store_row(s, sql_bucket_upsert, &st, e, "recording a bucket", "ttti", kind, key,
			   title != NULL && title[0] != '\0' ? title : key, seen);

	if (rc == 1) {
		*bid = store_col_i64(st, 0);
		rc = store_run(s, st, e, "recording a bucket");
	} else if (rc == 0) {
		rc = ds_err_setn(e, DS_EDB, "database %s: bucket upsert returned no id", s->path);
	}
	return rc;
}

/* Links a dump to a bucket once; the first link counts it in the bucket and its application. */
static int store_link(struct store *s, int64_t dump_id, int64_t bid, const char *app, int64_t seen, struct ds_err *e)
{
	int64_t n = 0;
	int rc = store_do(s, sql_link_insert, &n, e, "linking a dump to a bucket", "iiti", dump_id, bid, app, seen);

	if (rc == DS_OK && n > 0)
		rc = store_do(s, sql_bucket_inc, NULL, e, "counting a bucket", "ii", bid, seen);
	if (rc == DS_OK && n > 0)
		rc = store_do(s, sql_bapp_inc, NULL, e, "counting a bucket's application", "iti", bid, app, seen);
	return rc;
}

/* Removes a dump's link to a bucket and takes it out of the counts. */
static int store_unlink(struct store *s, int64_t dump_id, int64_t bid, struct ds_err *e)
{
	sqlite3_stmt *st = NULL;
	char *app = NULL;
	int rc = store_row(s, sql_link_delete, &st, e, "unlinking a dump from a bucket", "ii", dump_id, bid);

	if (rc == 1) {
		app = store_col_dup(st, 0);
		rc = app != NULL ? store_run(s, st, e, "unlinking a dump from a bucket") : DS_ENOMEM;
	}
	if (rc != DS_OK || app == NULL)
		goto out;
	rc = store_do(s, sql_bucket_dec, NULL, e, "uncounting a bucket", "i", bid);
	if (rc == DS_OK)
		rc = store_do(s, sql_bapp_dec, NULL, e, "uncounting a bucket", "it", bid, app);
	if (rc == DS_OK)
		rc = store_do(s, sql_bapp_prune, NULL, e, "uncounting a bucket", "it", bid, app);
out:
	if (st != NULL)
		sqlite3_reset(st);
	free(app);
	return rc;
}

/* The dump's discovered_at and app (malloc'd, "" when none). DS_ENOENT. */
static int store_dump_base(struct store *s, int64_t id, int64_t *seen, char **app, struct ds_err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = store_row(s, sql_dump_base, &st, e, "reading a dump", "i", id);

	*app = NULL;
	if (rc == 0)
		rc = ds_err_setn(e, DS_ENOENT, "no dump %" PRId64 " in %s", id, s->path);
	if (rc < 0)
		goto out;
	*seen = store_col_i64(st, 0);
	*app = store_col_dup(st, 1);
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
	int rc = store_row(s, sql_links_of_kind, &st, e, "reading a dump's buckets", "it", dump_id, kind);

	for (; rc == 1; rc = store_step(s, st, e, "reading a dump's buckets")) {
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
		l->bid[l->n] = store_col_i64(st, 0);
		l->app[l->n] = store_col_dup(st, 1);
		if (l->app[l->n] == NULL) {
			rc = ds_err_setn(e, DS_ENOMEM, "out of memory");
			break;
		}
		l->n++;
	}
	if (st != NULL)
		sqlite3_reset(st);
	return rc;
}

/* Puts the dump in crash bucket bid (0: none) for app, out of any other crash bucket (or one that
 * counted another app). */
static int store_crash_move(struct store *s, int64_t id, int64_t bid, const char *app, int64_t seen,
			    struct ds_err *e)
{
	struct store_links old = { 0 };
	size_t i;
	int rc = store_links_of_kind(s, id, "crash", &old, e);

	for (i = 0; rc == DS_OK && i < old.n; i++)
		if (old.bid[i] != bid || strcmp(old.app[i], app != NULL ? app : "") != 0)
			rc = store_unlink(s, id, old.bid[i], e);
	if (rc == DS_OK && bid != 0)
		rc = store_link(s, id, bid, app != NULL ? app : "", seen, e);
	store_links_free(&old);
	return rc;
}

/* ---- triage ---- */

int store_record_triage(struct store *s, int64_t id, const struct store_triage *t, int next_state, int64_t now,
			int64_t *bucket_id, struct ds_err *e)
{
	sqlite3_stmt *st = NULL;
	const char *app;
	char *prev_app = NULL;
	int64_t seen = 0, bid = 0;
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
	if (rc == DS_OK && t->bucket_key != NULL && t->bucket_key[0] != '\0')
		rc = store_bucket_upsert(s, "crash", t->bucket_key, t->bucket_title, seen, &bid, e);
	if (rc == DS_OK)
		rc = store_crash_move(s, id, bid, app, seen, e);
	if (rc == DS_OK)
		rc = store_stmt(s, sql_triage_update, &st, e);
	if (rc != DS_OK)
		goto out;
	store_bi(s, st, 1, id);
	store_bi(s, st, 2, now);
	store_bt(s, st, 3, app);
	store_bt(s, st, 4, t->format);
	store_bt(s, st, 5, t->writer);
	store_bt(s, st, 6, t->os);
	store_bt(s, st, 7, t->os_version);
	store_bt(s, st, 8, t->arch);
	if (t->has_pid)
		store_bi(s, st, 9, (int64_t)t->pid);
	store_bt(s, st, 10, t->process_name);
	store_bt(s, st, 11, t->app_version);
	store_bt(s, st, 12, t->command_line);
	if (t->dump_time != 0)
		store_bi(s, st, 13, t->dump_time);
	if (t->has_exception) {
		store_bi(s, st, 14, t->exception_code);
		store_bt(s, st, 15, t->exception_name);
		store_baddr(s, st, 16, 1, t->exception_address);
	}
	store_baddr(s, st, 17, t->has_fault_address, t->fault_address);
	if (t->has_crashing_thread)
		store_bi(s, st, 18, (int64_t)t->crashing_thread);
	if (t->thread_count >= 0)
		store_bi(s, st, 19, t->thread_count);
	if (t->module_count >= 0)
		store_bi(s, st, 20, t->module_count);
	store_bt(s, st, 21, t->runtime_name);
	store_bt(s, st, 22, t->runtime_version);
	store_bi(s, st, 23, t->has_heap ? 1 : 0);
	if (bid != 0)
		store_bi(s, st, 24, bid);
	store_bt(s, st, 25, t->json);
	store_bt(s, st, 26, store_state_name(next_state));
	rc = store_run(s, st, e, "recording triage");
	if (rc == DS_OK && t->file_id != NULL && t->file_id[0] != '\0')
		rc = store_do(s, sql_identity_set, NULL, e, "recording the file identity", "it", id, t->file_id);
	if (rc == DS_OK && t->share_wanted) /* the copy is made later, off the loop: wanted from now on */
		rc = store_share_want(s, id, now, e);
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
	rc = store_stmt(s, sql_root_insert, &st, e);
	if (rc != DS_OK)
		goto out;
	store_bi(s, st, 1, cid);
	store_bi(s, st, 2, dump_id);
	store_bi(s, st, 3, (int64_t)ordinal);
	store_bt(s, st, 4, r->kind != NULL ? r->kind : "unknown");
	store_bt(s, st, 5, r->culprit);
	store_bt(s, st, 6, r->signature != NULL ? r->signature : "");
	store_bi(s, st, 7, r->probable_false_root ? 1 : 0);
	if (r->has_thread)
		store_bi(s, st, 8, (int64_t)r->thread);
	store_bt(s, st, 9, r->frame);
	store_bt(s, st, 10, r->catalogue_id);
	store_bt(s, st, 11, r->chain_text);
	store_bt(s, st, 12, r->chain_json);
	if (bid != 0)
		store_bi(s, st, 13, bid);
	rc = store_run(s, st, e, "recording a root chain");
out:
	return rc;
}

/* Records context i of a with its roots; *leak is set when a root is no probable false root. */
static int store_insert_context(struct store *s, int64_t dump_id, int64_t aid, size_t i, const struct store_context *c,
				const char *app, int64_t seen, int *leak, struct ds_err *e)
{
	sqlite3_stmt *st = NULL;
	int64_t cid;
	size_t j;
	int rc;

	if (c->nroots > 0 && c->roots == NULL)
		return ds_err_setn(e, DS_EINVAL, "store_record_analysis: context %zu has no roots array", i);
	rc = store_stmt(s, sql_context_insert, &st, e);
	if (rc != DS_OK)
		goto out;
	store_bi(s, st, 1, aid);
	store_bi(s, st, 2, (int64_t)i);
	store_bt(s, st, 3, c->name);
	store_baddr(s, st, 4, c->has_loader_allocator, c->loader_allocator);
	store_bt(s, st, 5, c->state);
	rc = store_run(s, st, e, "recording a context");
	cid = sqlite3_last_insert_rowid(s->db);
	for (j = 0; rc == DS_OK && j < c->nroots; j++) {
		rc = store_insert_root(s, dump_id, cid, j, &c->roots[j], app, seen, e);
		if (!c->roots[j].probable_false_root)
			*leak = 1;
	}
out:
	return rc;
}

int store_record_analysis(struct store *s, int64_t dump_id, const struct store_analysis *a, int next_state,
			  int64_t next_attempt_at, const char *error, int64_t *analysis_id, struct ds_err *e)
{
	struct store_links old = { 0 };
	char *app = NULL;
	int64_t seen = 0, aid = 0, bid = 0;
	size_t i;
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
	/* Replace any earlier analysis: take the dump out of its root buckets, drop the rows (cascade). */
	if (rc == DS_OK)
		rc = store_links_of_kind(s, dump_id, "root", &old, e);
	for (i = 0; rc == DS_OK && i < old.n; i++)
		rc = store_unlink(s, dump_id, old.bid[i], e);
	if (rc == DS_OK)
		rc = store_do(s, sql_analysis_delete, NULL, e, "replacing an analysis", "i", dump_id);
	if (rc == DS_OK)
		rc = store_do(s, sql_analysis_insert, NULL, e, "recording an analysis", "itttiiiettt", dump_id, a->engine,
			      a->engine_version, store_analysis_status_name(a->status), a->started_at, a->finished_at,
			      a->duration_ms, a->error, a->exception_type, a->exception_message, a->json);
	if (rc != DS_OK)
		goto out;
	aid = sqlite3_last_insert_rowid(s->db);
	for (i = 0; rc == DS_OK && i < a->ncontexts; i++)
		rc = store_insert_context(s, dump_id, aid, i, &a->contexts[i], app, seen, &leak, e);
	if (rc == DS_OK && a->crash_bucket_key != NULL && a->crash_bucket_key[0] != '\0') {
		/* the analysis names the crash better than triage did (a .NET crash): move the dump there */
		rc = store_bucket_upsert(s, "crash", a->crash_bucket_key, a->crash_bucket_title, seen, &bid, e);
		if (rc == DS_OK)
			rc = store_crash_move(s, dump_id, bid, app, seen, e);
		if (rc == DS_OK)
			rc = store_do(s, sql_dump_crash_bucket, NULL, e, "moving a dump to its crash bucket", "ii",
				      dump_id, bid);
	}
	if (rc == DS_OK)
		rc = store_do(s, sql_analysis_dump_update, NULL, e, "recording an analysis", "iitiei", dump_id,
			      (int64_t)(leak || a->leak), store_state_name(next_state), next_attempt_at, error,
			      plat_now_ms());
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
