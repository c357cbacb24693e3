/* test_store.c - the SQLite store on temporary databases under /tmp: migrations and versions, opening
 * errors, the dump queue with claims, leases and crash recovery, triage and analysis buckets counted
 * once, duplicates, retention, the outbox, WAL readers during a write, and the busy timeout. */
#include "t.h"
#include "core/plat.h"
#include "core/schema.h"
#include "core/store.h"
#include "core/store_share.h"
#include "triage_fixture.h"

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include <stdio.h>
#include <stdlib.h>

#define H_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define H_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static char t_dir[64];
static char t_db[128];
static int t_seq;

/* A fresh database path in a fresh temporary folder (the folder of the database is created by
 * store_open: "sub/" does not exist yet). */
static const char *t_newdb(void)
{
	snprintf(t_dir, sizeof(t_dir), "/tmp/ds_store_XXXXXX");
	if (mkdtemp(t_dir) == NULL)
		return NULL;
	snprintf(t_db, sizeof(t_db), "%s/sub/ds%d.db", t_dir, ++t_seq);
	return t_db;
}

static void t_cleanup(void)
{
	char p[160];

	remove(t_db);
	snprintf(p, sizeof(p), "%s-wal", t_db);
	remove(p);
	snprintf(p, sizeof(p), "%s-shm", t_db);
	remove(p);
	snprintf(p, sizeof(p), "%s/sub", t_dir);
	remove(p);
	remove(t_dir);
}

static struct store *t_open(int flags)
{
	struct store *s = NULL;
	struct ds_err e = { 0 };
	int rc = store_open(t_db, flags, &s, &e);

	if (rc != DS_OK)
		printf("     store_open: %s\n", e.msg);
	return s;
}

/* A new empty database opened read-write; NULL (a failed check) when that fails. */
static struct store *t_fresh(void)
{
	CHECK(t_newdb() != NULL);
	return t_open(STORE_READWRITE);
}

/* Closes the test's store and removes its database. */
static void t_done(struct store *s)
{
	store_close(s);
	t_cleanup();
}

static int64_t t_add(struct store *s, const char *path, uint64_t size, const char *hash, int64_t now)
{
	struct store_file f = { path, size, 1000, hash };
	int64_t id = 0;
	int oc = -1;

	if (store_dump_upsert(s, &f, now, &id, &oc, NULL) != DS_OK)
		return -1;
	return id;
}

static int t_triage(struct store *s, int64_t id, const char *app, const char *bucket, int next_state)
{
	struct store_triage t;

	triage_fixture(&t, app, bucket, 4242, "C:\\apps\\x.exe", 0xfffff80012345678ull);
	t.json = "{\"format\":\"minidump\",\"pid\":4242}";
	t.file_id = "2049:1:2:3";
	return store_record_triage(s, id, &t, next_state, 5000, NULL, NULL);
}

static int64_t t_json_int(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : -999;
}

static const char *t_json_str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Count of bucket (kind, key) from store_bucket_list, -1 when absent. */
static int64_t t_bucket_count(struct store *s, const char *kind, const char *key, int64_t *app_count)
{
	struct store_bucket_filter f = { kind, STORE_BSORT_COUNT, 0, 0, 0 };
	cJSON *arr = NULL, *b;
	int64_t n = -1;

	if (store_bucket_list(s, &f, &arr, NULL) != DS_OK)
		return -2;
	cJSON_ArrayForEach(b, arr) {
		if (t_json_str(b, "key") != NULL && strcmp(t_json_str(b, "key"), key) == 0) {
			n = t_json_int(b, "count");
			if (app_count != NULL)
				*app_count = t_json_int(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(b, "apps"), 0),
							"count");
		}
	}
	cJSON_Delete(arr);
	return n;
}

static int t_list_count(struct store *s, const struct store_dump_filter *f)
{
	cJSON *arr = NULL;
	int n;

	if (store_dump_list(s, f, &arr, NULL) != DS_OK)
		return -1;
	n = cJSON_GetArraySize(arr);
	cJSON_Delete(arr);
	return n;
}

static const struct store_dump_filter t_all = { NULL, 0, 0, -1, 0, 0, 0, 0, STORE_SORT_NEWEST };

TEST(migrations_apply_and_reopen_is_noop)
{
	struct store *s;
	struct ds_err e = { 0 };
	int rc;

	s = t_fresh();
	CHECK(s != NULL);
	if (s == NULL)
		return;
	CHECK(schema_migration_count >= 1);
	CHECK_INT(store_schema_version(s), schema_migration_count);
	CHECK(t_add(s, "/d/one.dmp", 10, NULL, 1) > 0);
	store_close(s);
	/* Reopening applies nothing (a second CREATE TABLE would fail) and keeps the data. */
	s = NULL;
	rc = store_open(t_db, STORE_READWRITE, &s, &e);
	CHECK_INT(rc, DS_OK);
	if (s != NULL) {
		CHECK_INT(store_schema_version(s), schema_migration_count);
		CHECK_INT(t_list_count(s, &t_all), 1);
		store_close(s);
	}
	s = t_open(STORE_READONLY);
	CHECK(s != NULL);
	if (s != NULL) {
		CHECK_INT(t_list_count(s, &t_all), 1);
		rc = store_kv_set(s, "k", "v", 1, &e);
		CHECK_INT(rc, DS_EINVAL); /* writes on a read-only store are refused */
		store_close(s);
	}
	t_cleanup();
}

TEST(newer_schema_is_refused)
{
	struct store *s = NULL;
	struct ds_err e = { 0 };
	unsigned char v[4];
	char want[64];
	uint32_t newer = (uint32_t)schema_migration_count + 1;
	FILE *f;
	int rc;

	s = t_fresh();
	CHECK(s != NULL);
	store_close(s);
	/* user_version is the big-endian 32-bit integer at offset 60 of the database header (SQLite file
	 * format); the last connection closed, so the WAL has been checkpointed into the file. */
	f = fopen(t_db, "r+b");
	CHECK(f != NULL);
	if (f == NULL)
		return;
	v[0] = (unsigned char)(newer >> 24), v[1] = (unsigned char)(newer >> 16);
	v[2] = (unsigned char)(newer >> 8), v[3] = (unsigned char)newer;
	CHECK(fseek(f, 60, SEEK_SET) == 0);
	CHECK(fwrite(v, 1, 4, f) == 4);
	fclose(f);

	s = NULL;
	rc = store_open(t_db, STORE_READWRITE, &s, &e);
	CHECK_INT(rc, DS_ESCHEMA);
	CHECK(s == NULL);
	snprintf(want, sizeof(want), "is schema version %u, this dumpscout knows up to %u", newer, newer - 1);
	CHECK(strstr(e.msg, want) != NULL);
	CHECK(strstr(e.msg, t_db) != NULL);
	CHECK(strstr(e.msg, "upgrade dumpscout") != NULL);
	rc = store_open(t_db, STORE_READONLY, &s, &e);
	CHECK_INT(rc, DS_ESCHEMA);
	CHECK(strstr(e.msg, want) != NULL);
	t_cleanup();
}

TEST(readonly_missing_is_enoent)
{
	struct store *s = NULL;
	struct ds_err e = { 0 };
	struct plat_stat st;
	int rc;

	CHECK(t_newdb() != NULL);
	rc = store_open(t_db, STORE_READONLY, &s, &e);
	CHECK_INT(rc, DS_ENOENT);
	CHECK(s == NULL);
	CHECK(strstr(e.msg, "no database at") != NULL);
	CHECK(strstr(e.msg, t_db) != NULL);
	CHECK_INT(plat_lstat(t_db, &st), DS_ENOENT); /* nothing was created */
	t_cleanup();
}

TEST(same_path_is_one_row_and_replacement_is_new)
{
	struct store *s;
	struct store_file f = { "/d/a b'$(x).dmp", 100, 7, NULL };
	struct store_dump_ref ref;
	int64_t id1 = 0, id2 = 0, id3 = 0;
	int oc = -1;
	cJSON *d = NULL;

	s = t_fresh();
	if (s == NULL)
		return;
	CHECK_INT(store_dump_upsert(s, &f, 10, &id1, &oc, NULL), DS_OK);
	CHECK_INT(oc, STORE_UPSERT_NEW);
	CHECK_INT(store_dump_upsert(s, &f, 20, &id2, &oc, NULL), DS_OK);
	CHECK_INT(oc, STORE_UPSERT_SAME);
	CHECK_INT(id2, id1);
	/* the hash arrives later; a touch with the same hash is still the same file */
	f.sha256 = H_A;
	CHECK_INT(store_dump_upsert(s, &f, 30, &id2, &oc, NULL), DS_OK);
	CHECK_INT(oc, STORE_UPSERT_SAME);
	f.mtime_ns = 8;
	CHECK_INT(store_dump_upsert(s, &f, 40, &id2, &oc, NULL), DS_OK);
	CHECK_INT(oc, STORE_UPSERT_SAME);
	CHECK_INT(id2, id1);
	CHECK_INT(t_list_count(s, &t_all), 1);
	CHECK_INT(store_dump_find_path(s, f.path, &ref, NULL), DS_OK);
	CHECK_INT(ref.id, id1);
	CHECK_STR(ref.sha256, H_A);
	CHECK_INT(ref.mtime_ns, 8);
	CHECK_INT(ref.state, STORE_DISCOVERED);
	/* new content at the same path: a new row; the old one stays as history, failed since pending */
	f.size = 200;
	f.sha256 = H_B;
	CHECK_INT(store_dump_upsert(s, &f, 50, &id3, &oc, NULL), DS_OK);
	CHECK_INT(oc, STORE_UPSERT_REPLACED);
	CHECK(id3 != id1);
	CHECK_INT(t_list_count(s, &t_all), 2);
	CHECK_INT(store_dump_find_path(s, f.path, &ref, NULL), DS_OK);
	CHECK_INT(ref.id, id3);
	CHECK_INT(store_dump_get(s, id1, &d, NULL), DS_OK);
	CHECK_INT(t_json_int(d, "replaced_by"), id3);
	CHECK_INT(t_json_int(d, "deleted_at"), 50);
	CHECK_STR(t_json_str(d, "state"), "failed");
	CHECK_STR(t_json_str(d, "file_name"), "a b'$(x).dmp");
	cJSON_Delete(d);
	t_done(s);
}

TEST(claim_transitions_and_attempts)
{
	struct store *s;
	struct store_job j = { 0 };
	int64_t a, b, c, counts[STORE_STATE_COUNT], due = 0;
	struct ds_err e = { 0 };

	s = t_fresh();
	if (s == NULL)
		return;
	a = t_add(s, "/d/a.dmp", 1, NULL, 100);
	b = t_add(s, "/d/b.dmp", 1, NULL, 101);
	c = t_add(s, "/d/c.dmp", 1, NULL, 102);
	CHECK_INT(store_claim(s, STORE_STAGE_TRIAGE, 1000, 60000, &j, NULL), DS_OK);
	CHECK_INT(j.id, a);
	CHECK_STR(j.path, "/d/a.dmp");
	CHECK_INT(j.attempts, 1);
	store_job_clear(&j);
	CHECK_INT(store_claim(s, STORE_STAGE_TRIAGE, 1000, 60000, &j, NULL), DS_OK);
	CHECK_INT(j.id, b); /* a is leased */
	store_job_clear(&j);
	/* a failed transiently: retry in 1 s */
	CHECK_INT(store_dump_transition(s, a, STORE_DISCOVERED, 2000, "engine timeout", NULL), DS_OK);
	CHECK_INT(store_claim(s, STORE_STAGE_TRIAGE, 1000, 60000, &j, NULL), DS_OK);
	CHECK_INT(j.id, c);
	store_job_clear(&j);
	CHECK_INT(store_claim(s, STORE_STAGE_TRIAGE, 1000, 60000, &j, &e), DS_ENOENT);
	CHECK_INT(store_next_due(s, STORE_STAGE_TRIAGE, &due, NULL), DS_OK);
	CHECK_INT(due, 2000); /* b and c are leased until 61000 */
	CHECK_INT(store_claim(s, STORE_STAGE_TRIAGE, 2000, 60000, &j, NULL), DS_OK);
	CHECK_INT(j.id, a);
	CHECK_INT(j.attempts, 2);
	store_job_clear(&j);
	/* triage resets attempts and moves to the next stage */
	CHECK_INT(t_triage(s, a, "x.exe", "x.exe!mod+0x10 c0000005", STORE_TRIAGED), DS_OK);
	CHECK_INT(store_claim(s, STORE_STAGE_ANALYZE, 3000, 60000, &j, NULL), DS_OK);
	CHECK_INT(j.id, a);
	CHECK_INT(j.attempts, 1);
	store_job_clear(&j);
	CHECK_INT(store_queue_counts(s, counts, NULL), DS_OK);
	CHECK_INT(counts[STORE_ANALYZING], 1);
	CHECK_INT(counts[STORE_DISCOVERED], 2);
	CHECK_INT(store_dump_transition(s, a, STORE_DONE, 0, NULL, NULL), DS_OK);
	CHECK_INT(store_dump_transition(s, b, STORE_FAILED, 0, "corrupt at offset 0x20", NULL), DS_OK);
	CHECK_INT(store_queue_counts(s, counts, NULL), DS_OK);
	CHECK_INT(counts[STORE_DONE], 1);
	CHECK_INT(counts[STORE_FAILED], 1);
	CHECK_INT(store_dump_transition(s, 9999, STORE_DONE, 0, NULL, &e), DS_ENOENT);
	/* reanalyze --failed puts b back at the start */
	CHECK_INT(store_requeue_failed(s, 4000, &due, NULL), DS_OK);
	CHECK_INT(due, 1);
	CHECK_INT(store_claim(s, STORE_STAGE_TRIAGE, 4000, 60000, &j, NULL), DS_OK);
	CHECK_INT(j.id, b);
	CHECK_INT(j.attempts, 1);
	store_job_clear(&j);
	t_done(s);
}

TEST(crashed_claim_is_claimable_after_recovery)
{
	struct store *s;
	struct store_job j = { 0 };
	struct store_recovery r;
	int64_t a, b;

	s = t_fresh();
	if (s == NULL)
		return;
	a = t_add(s, "/d/a.dmp", 1, NULL, 100);
	b = t_add(s, "/d/b.dmp", 1, NULL, 100);
	CHECK_INT(t_triage(s, a, "x.exe", "k1", STORE_TRIAGED), DS_OK);
	CHECK_INT(store_claim(s, STORE_STAGE_ANALYZE, 1000, 0, &j, NULL), DS_OK);
	CHECK_INT(j.id, a);
	store_job_clear(&j);
	CHECK_INT(store_claim(s, STORE_STAGE_TRIAGE, 1000, 0, &j, NULL), DS_OK);
	CHECK_INT(j.id, b);
	store_job_clear(&j);
	store_close(s); /* the service "crashed" with both claims open */

	s = t_open(STORE_READWRITE);
	if (s == NULL)
		return;
	CHECK_INT(store_claim(s, STORE_STAGE_ANALYZE, 2000, 0, &j, NULL), DS_ENOENT);
	CHECK_INT(store_claim(s, STORE_STAGE_TRIAGE, 2000, 0, &j, NULL), DS_ENOENT);
	CHECK_INT(store_recover(s, &r, NULL), DS_OK);
	CHECK_INT(r.analyzing_reset, 1);
	CHECK_INT(r.leases_cleared, 1); /* b's (a's went with the reset) */
	CHECK_INT(store_claim(s, STORE_STAGE_ANALYZE, 2000, 0, &j, NULL), DS_OK);
	CHECK_INT(j.id, a);
	CHECK_INT(j.attempts, 2);
	store_job_clear(&j);
	CHECK_INT(store_claim(s, STORE_STAGE_TRIAGE, 2000, 0, &j, NULL), DS_OK);
	CHECK_INT(j.id, b);
	store_job_clear(&j);
	/* a lease that runs out also frees the row, without recovery */
	CHECK_INT(store_dump_transition(s, a, STORE_TRIAGED, 0, NULL, NULL), DS_OK);
	CHECK_INT(store_claim(s, STORE_STAGE_ANALYZE, 3000, 500, &j, NULL), DS_OK);
	store_job_clear(&j);
	CHECK_INT(store_claim(s, STORE_STAGE_ANALYZE, 3499, 500, &j, NULL), DS_ENOENT);
	CHECK_INT(store_claim(s, STORE_STAGE_ANALYZE, 3500, 500, &j, NULL), DS_OK);
	CHECK_INT(j.id, a);
	store_job_clear(&j);
	t_done(s);
}

TEST(triage_recorded_twice_counts_once)
{
	struct store *s;
	int64_t a, b, apps = 0, bid = 0;
	struct store_dump_filter f = t_all;
	cJSON *d = NULL;

	s = t_fresh();
	if (s == NULL)
		return;
	a = t_add(s, "/d/a.dmp", 1, NULL, 100);
	b = t_add(s, "/d/b.dmp", 1, NULL, 200);
	CHECK_INT(t_triage(s, a, "x.exe", "x.exe!m+0x1 c0000005", STORE_DONE), DS_OK);
	CHECK_INT(t_triage(s, a, "x.exe", "x.exe!m+0x1 c0000005", STORE_DONE), DS_OK);
	CHECK_INT(t_bucket_count(s, "crash", "x.exe!m+0x1 c0000005", &apps), 1);
	CHECK_INT(apps, 1);
	CHECK_INT(t_triage(s, b, "x.exe", "x.exe!m+0x1 c0000005", STORE_DONE), DS_OK);
	CHECK_INT(t_bucket_count(s, "crash", "x.exe!m+0x1 c0000005", &apps), 2);
	CHECK_INT(apps, 2);
	/* a re-triage that lands elsewhere moves the dump */
	CHECK_INT(t_triage(s, a, "x.exe", "other", STORE_DONE), DS_OK);
	CHECK_INT(t_bucket_count(s, "crash", "x.exe!m+0x1 c0000005", NULL), 1);
	CHECK_INT(t_bucket_count(s, "crash", "other", NULL), 1);
	/* the stored fields read back */
	CHECK_INT(store_dump_get(s, b, &d, NULL), DS_OK);
	CHECK_STR(t_json_str(d, "exception_address"), "0xfffff80012345678");
	CHECK_INT(t_json_int(d, "exception_code"), 0xc0000005u);
	CHECK_INT(t_json_int(d, "pid"), 4242);
	CHECK_STR(t_json_str(d, "app"), "x.exe");
	CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, "has_heap")));
	CHECK_INT(t_json_int(cJSON_GetObjectItemCaseSensitive(d, "triage"), "pid"), 4242);
	bid = t_json_int(d, "crash_bucket_id");
	cJSON_Delete(d);
	f.bucket_id = bid;
	CHECK_INT(t_list_count(s, &f), 1);
	/* the app defaults to the process name's base name */
	CHECK_INT(t_triage(s, b, NULL, "x.exe!m+0x1 c0000005", STORE_DONE), DS_OK);
	f = t_all;
	f.app = "x.exe";
	CHECK_INT(t_list_count(s, &f), 2);
	t_done(s);
}

static const struct store_root t_roots1[] = {
	{ "static", "Plugin.Cache.Items", "static:Plugin.Cache.Items", 0, 0, 0, NULL, "cat-1", "-> 0x1 X", "[]" },
	{ "handle", "pinned handle", "handle:pinned", 1, 1, 7, "Main()", NULL, NULL, NULL },
};
static const struct store_root t_roots2[] = {
	{ "static", "Plugin.Cache.Items", "static:Plugin.Cache.Items", 0, 0, 0, NULL, "cat-1", "-> 0x2 X", "[]" },
};

static void t_analysis(struct store_analysis *a, struct store_context *c)
{
	memset(a, 0, sizeof(*a));
	memset(c, 0, 2 * sizeof(*c));
	c[0].name = "PluginContext";
	c[0].has_loader_allocator = 1;
	c[0].loader_allocator = 0x7f0012345678ull;
	c[0].state = "held";
	c[0].nroots = 2;
	c[0].roots = t_roots1;
	c[1].name = "Other";
	c[1].state = "held";
	c[1].nroots = 1;
	c[1].roots = t_roots2;
	a->engine = "dotnet-dump";
	a->status = STORE_AN_OK;
	a->started_at = 10;
	a->finished_at = 30;
	a->duration_ms = 20;
	a->exception_type = "System.InvalidOperationException";
	a->json = "{\"contexts\":2}";
	a->ncontexts = 2;
	a->contexts = c;
}

TEST(analysis_record_is_idempotent)
{
	struct store *s;
	struct store_analysis an;
	struct store_context ctx[2];
	struct store_dump_filter f = t_all;
	int64_t a, b, aid1 = 0, aid2 = 0;
	cJSON *d = NULL, *arr = NULL, *first;

	s = t_fresh();
	if (s == NULL)
		return;
	a = t_add(s, "/d/a.dmp", 1, NULL, 100);
	b = t_add(s, "/d/b.dmp", 1, NULL, 200);
	CHECK_INT(t_triage(s, a, "x.exe", "k", STORE_TRIAGED), DS_OK);
	t_analysis(&an, ctx);
	CHECK_INT(store_record_analysis(s, a, &an, STORE_DONE, 0, NULL, &aid1, NULL), DS_OK);
	CHECK_INT(store_record_analysis(s, a, &an, STORE_DONE, 0, NULL, &aid2, NULL), DS_OK);
	CHECK_INT(t_bucket_count(s, "root", "static:Plugin.Cache.Items", NULL), 1);
	CHECK_INT(t_bucket_count(s, "root", "handle:pinned", NULL), 1);
	CHECK_INT(t_bucket_count(s, "crash", "k", NULL), 1); /* analysis leaves the crash bucket alone */
	CHECK_INT(store_dump_get(s, a, &d, NULL), DS_OK);
	CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, "has_leak")));
	CHECK_STR(t_json_str(d, "state"), "done");
	first = cJSON_GetObjectItemCaseSensitive(d, "analysis");
	CHECK_INT(t_json_int(first, "id"), aid2);
	CHECK_STR(t_json_str(first, "status"), "ok");
	CHECK_INT(t_json_int(cJSON_GetObjectItemCaseSensitive(first, "result"), "contexts"), 2);
	CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(first, "contexts")), 2);
	first = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(first, "contexts"), 0);
	CHECK_STR(t_json_str(first, "loader_allocator"), "0x7f0012345678");
	CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(first, "roots")), 2);
	CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(d, "buckets")), 3);
	cJSON_Delete(d);
	/* a second dump with the same culprit grows the root bucket */
	CHECK_INT(t_triage(s, b, "y.exe", "k2", STORE_TRIAGED), DS_OK);
	an.ncontexts = 1;
	an.contexts = &ctx[1];
	CHECK_INT(store_record_analysis(s, b, &an, STORE_DONE, 0, NULL, NULL, NULL), DS_OK);
	CHECK_INT(store_roots_list(s, 0, 0, &arr, NULL), DS_OK);
	CHECK_INT(cJSON_GetArraySize(arr), 2);
	first = cJSON_GetArrayItem(arr, 0);
	CHECK_STR(t_json_str(first, "signature"), "static:Plugin.Cache.Items");
	CHECK_STR(t_json_str(first, "culprit"), "Plugin.Cache.Items");
	CHECK_STR(t_json_str(first, "catalogue_id"), "cat-1");
	CHECK_INT(t_json_int(first, "count"), 2);
	CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(first, "apps")), 2);
	cJSON_Delete(arr);
	f.leak = 1;
	CHECK_INT(t_list_count(s, &f), 2);
	/* a failed re-analysis replaces the earlier one and clears the leak */
	an.ncontexts = 0;
	an.status = STORE_AN_TIMEOUT;
	an.error = "timed out after 300 s";
	CHECK_INT(store_record_analysis(s, b, &an, STORE_TRIAGED, 9999, "engine timeout", NULL, NULL), DS_OK);
	CHECK_INT(t_list_count(s, &f), 1);
	CHECK_INT(t_bucket_count(s, "root", "static:Plugin.Cache.Items", NULL), 1);
	t_done(s);
}

TEST(analysis_moves_dotnet_crash_bucket_and_leak_without_roots)
{
	struct store *s;
	struct store_analysis an;
	struct store_context ctx[2];
	struct store_dump_filter f = t_all;
	int64_t a;

	s = t_fresh();
	if (s == NULL)
		return;
	a = t_add(s, "/d/a.dmp", 1, NULL, 100);
	CHECK_INT(t_triage(s, a, "x.exe", "x.exe|0x0|SIGABRT", STORE_TRIAGED), DS_OK);
	t_analysis(&an, ctx);
	an.ncontexts = 0; /* an unloaded context with no root path: nothing recorded, still a leak */
	an.leak = 1;
	an.crash_bucket_key = "x.exe|System.InvalidOperationException|Host.Program.Main";
	an.crash_bucket_title = "System.InvalidOperationException at Host.Program.Main";
	CHECK_INT(store_record_analysis(s, a, &an, STORE_DONE, 0, NULL, NULL, NULL), DS_OK);
	CHECK_INT(store_record_analysis(s, a, &an, STORE_DONE, 0, NULL, NULL, NULL), DS_OK);
	CHECK_INT(t_bucket_count(s, "crash", "x.exe|System.InvalidOperationException|Host.Program.Main", NULL), 1);
	CHECK_INT(t_bucket_count(s, "crash", "x.exe|0x0|SIGABRT", NULL), 0);
	f.leak = 1;
	CHECK_INT(t_list_count(s, &f), 1);
	t_done(s);
}

TEST(duplicates_by_hash)
{
	struct store *s;
	struct store_dump_ref ref;
	int64_t a, b, c, dup = -1, id = 0;
	cJSON *d = NULL;

	s = t_fresh();
	if (s == NULL)
		return;
	a = t_add(s, "/d/a.dmp", 5, NULL, 100);
	b = t_add(s, "/d/copy of a.dmp", 5, NULL, 200);
	c = t_add(s, "/d/c.dmp", 5, NULL, 300);
	CHECK_INT(store_dump_set_hash(s, a, H_A, &dup, NULL), DS_OK);
	CHECK_INT(dup, 0);
	CHECK_INT(store_dump_set_hash(s, b, H_A, &dup, NULL), DS_OK);
	CHECK_INT(dup, a);
	CHECK_INT(store_dump_set_hash(s, c, H_B, &dup, NULL), DS_OK);
	CHECK_INT(dup, 0);
	CHECK_INT(store_dump_find_hash(s, H_A, 0, &id, NULL), DS_OK);
	CHECK_INT(id, a);
	CHECK_INT(store_dump_find_hash(s, H_A, a, &id, NULL), DS_ENOENT); /* b is a duplicate itself */
	CHECK_INT(store_dump_set_hash(s, c, "not-a-hash", &dup, NULL), DS_EINVAL);
	/* the typed look-up the queue reads a duplicate's original with */
	CHECK_INT(store_dump_transition(s, a, STORE_DONE, 0, NULL, NULL), DS_OK);
	CHECK_INT(store_dump_find_id(s, b, &ref, NULL), DS_OK);
	CHECK_INT(ref.id, b);
	CHECK_INT(ref.duplicate_of, a);
	CHECK_INT(ref.state, STORE_DISCOVERED);
	CHECK_INT((int64_t)ref.size, 5);
	CHECK_STR(ref.sha256, H_A);
	CHECK_INT(store_dump_find_id(s, a, &ref, NULL), DS_OK);
	CHECK_INT(ref.state, STORE_DONE);
	CHECK_INT(ref.duplicate_of, 0);
	CHECK_INT(store_dump_find_id(s, c + 100, &ref, NULL), DS_ENOENT);
	CHECK_INT(store_dump_get(s, a, &d, NULL), DS_OK);
	CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(d, "duplicates")), 1);
	CHECK_INT(t_json_int(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(d, "duplicates"), 0), "id"), b);
	cJSON_Delete(d);
	t_done(s);
}

TEST(retention_keeps_newest_of_each_bucket)
{
	struct store *s;
	struct store_raw *r = NULL;
	size_t n = 0;
	int64_t a, b, c, p;

	s = t_fresh();
	if (s == NULL)
		return;
	a = t_add(s, "/d/a.dmp", 10, NULL, 100);
	b = t_add(s, "/d/b.dmp", 20, NULL, 200);
	c = t_add(s, "/d/c.dmp", 30, NULL, 300);
	p = t_add(s, "/d/p.dmp", 40, NULL, 400);
	CHECK_INT(t_triage(s, a, "x.exe", "one", STORE_DONE), DS_OK);
	CHECK_INT(t_triage(s, b, "x.exe", "one", STORE_DONE), DS_OK);
	CHECK_INT(t_triage(s, c, "x.exe", "two", STORE_FAILED), DS_OK);
	CHECK_INT(store_retention_list(s, &r, &n, NULL), DS_OK);
	CHECK_INT(n, 4);
	if (n == 4) {
		CHECK_INT(r[0].id, a);
		CHECK_INT(r[0].keep, 0);
		CHECK_INT(r[0].pending, 0);
		CHECK_INT(r[0].size, 10);
		CHECK_STR(r[0].path, "/d/a.dmp");
		CHECK_INT(r[1].id, b);
		CHECK_INT(r[1].keep, 1);
		CHECK_INT(r[2].id, c);
		CHECK_INT(r[2].keep, 1);
		CHECK_INT(r[3].id, p);
		CHECK_INT(r[3].pending, 1);
	}
	store_raw_free(r, n);
	CHECK_INT(store_dump_mark_deleted(s, a, 500, NULL), DS_OK);
	/* with b's file gone, nothing of bucket "one" is present; a is still deleted */
	CHECK_INT(store_dump_mark_deleted(s, b, 600, NULL), DS_OK);
	CHECK_INT(store_retention_list(s, &r, &n, NULL), DS_OK);
	CHECK_INT(n, 2);
	if (n == 2)
		CHECK_INT(r[0].id, c);
	store_raw_free(r, n);
	t_done(s);
}

/* How many copies store_share_due lists at now (retry_ms 1000), or -1. */
static int64_t t_share_due(struct store *s, int64_t now)
{
	struct store_share_item *it = NULL;
	size_t n = 0;
	int rc = store_share_due(s, now, 1000, 10, &it, &n, NULL);

	store_share_items_free(it, n);
	return rc == DS_OK ? (int64_t)n : -1;
}

/* The share's list (core/store_share.h): a copy wanted with the triage is due at once (a copy cut short
 * by a crash is made by the next start); a failure waits retry_ms, then twice that after a second one; a
 * copy made is due no more and a new wish leaves it; a wish for a dump whose file retention deleted is
 * dropped. */
TEST(share_wanted_failed_backoff_copied)
{
	struct store_share_item *it = NULL;
	struct store_triage t;
	struct store *s;
	cJSON *st = NULL;
	int64_t a, b, gone = -1;
	size_t n = 0;

	s = t_fresh();
	if (s == NULL)
		return;
	a = t_add(s, "/d/a.dmp", 10, NULL, 100);
	b = t_add(s, "/d/b.dmp", 20, NULL, 200);
	triage_fixture(&t, "x.exe", "one", 1, "x.exe", 0);
	t.file_id = "2049:1:2:3";
	t.share_wanted = 1;
	CHECK_INT(store_record_triage(s, a, &t, STORE_DONE, 5000, NULL, NULL), DS_OK);
	CHECK_INT(store_record_triage(s, b, &t, STORE_DONE, 5000, NULL, NULL), DS_OK);
	CHECK_INT(store_share_due(s, 5000, 1000, 10, &it, &n, NULL), DS_OK);
	CHECK_INT(n, 2);
	if (n == 2) {
		CHECK_INT(it[0].dump_id, a);
		CHECK_STR(it[0].path, "/d/a.dmp");
		CHECK_STR(it[0].file_id, "2049:1:2:3");
		CHECK_INT(it[0].discovered_at, 100);
	}
	store_share_items_free(it, n);
	CHECK_INT(store_share_status(s, &st, NULL), DS_OK);
	CHECK_INT(t_json_int(st, "pending"), 2);
	cJSON_Delete(st);
	/* a fails at 6000: due at 7000 (1 s), then a second failure at 7000: due at 9000 (2 s) */
	CHECK_INT(store_share_record(s, a, NULL, "cannot copy to /share: permission denied", 6000, NULL), DS_OK);
	CHECK_INT(store_share_record(s, b, "/share/h/1970-01-01/2-b.dmp", NULL, 6000, NULL), DS_OK);
	CHECK_INT(t_share_due(s, 6999), 0);
	CHECK_INT(t_share_due(s, 7000), 1);
	CHECK_INT(store_share_record(s, a, NULL, "cannot copy to /share: permission denied", 7000, NULL), DS_OK);
	CHECK_INT(t_share_due(s, 8999), 0);
	CHECK_INT(t_share_due(s, 9000), 1);
	CHECK_INT(store_share_status(s, &st, NULL), DS_OK);
	CHECK_INT(t_json_int(st, "copied"), 1);
	CHECK_INT(t_json_int(st, "failed"), 1);
	CHECK_INT(t_json_int(st, "pending"), 0);
	cJSON_Delete(st);
	/* a new triage of b (copied) wants nothing new */
	CHECK_INT(store_record_triage(s, b, &t, STORE_DONE, 9000, NULL, NULL), DS_OK);
	CHECK_INT(t_share_due(s, 1000000), 1);
	/* a's local file deleted by retention: its wish is dropped, b's copy stays listed */
	CHECK_INT(store_dump_mark_deleted(s, a, 10000, NULL), DS_OK);
	CHECK_INT(store_dump_mark_deleted(s, b, 10000, NULL), DS_OK);
	CHECK_INT(store_share_drop_gone(s, &gone, NULL), DS_OK);
	CHECK_INT(gone, 1);
	CHECK_INT(store_share_status(s, &st, NULL), DS_OK);
	CHECK_INT(t_json_int(st, "copied"), 1);
	CHECK_INT(t_json_int(st, "failed"), 0);
	cJSON_Delete(st);
	t_done(s);
}

/* 005_share_pending.sql makes share_files again (a new CHECK constraint): a database of schema 4 with
 * copies, copied and failed, keeps them. The old database is made with SQLite itself from the first four
 * embedded migrations. */
TEST(share_files_survive_migration_5)
{
	struct store_triage t;
	struct store *s = NULL;
	sqlite3 *db = NULL;
	cJSON *st = NULL;
	size_t i;

	CHECK(t_newdb() != NULL);
	s = t_open(STORE_READWRITE); /* makes the folder; the database is then made again at version 4 */
	store_close(s);
	s = NULL;
	remove(t_db);
	CHECK_INT(sqlite3_open(t_db, &db), SQLITE_OK);
	for (i = 0; i < schema_migration_count && schema_migrations[i].version <= 4; i++)
		CHECK_INT(sqlite3_exec(db, schema_migrations[i].sql, NULL, NULL, NULL), SQLITE_OK);
	CHECK_INT(sqlite3_exec(db, "PRAGMA user_version = 4; INSERT INTO dumps (path, file_name, size, mtime_ns, "
				   "discovered_at, updated_at) VALUES ('/d/a.dmp', 'a.dmp', 1, 1, 1, 1), ('/d/b.dmp', "
				   "'b.dmp', 1, 1, 1, 1); INSERT INTO share_files VALUES (1, 'copied', '/s/h/1-a.dmp', 5, "
				   "0, NULL, 5), (2, 'failed', NULL, NULL, 3, 'boom', 6)",
			       NULL, NULL, NULL),
		  SQLITE_OK);
	sqlite3_close(db);
	s = t_open(STORE_READWRITE);
	CHECK(s != NULL);
	if (s == NULL)
		goto out;
	CHECK_INT(store_schema_version(s), schema_migration_count);
	CHECK_INT(store_share_status(s, &st, NULL), DS_OK);
	CHECK_INT(t_json_int(st, "copied"), 1);
	CHECK_INT(t_json_int(st, "failed"), 1);
	CHECK_STR(t_json_str(st, "last_error"), "boom");
	cJSON_Delete(st);
	/* and the new state is accepted */
	triage_fixture(&t, "x.exe", "one", 1, "x.exe", 0);
	t.share_wanted = 1;
	CHECK_INT(store_record_triage(s, t_add(s, "/d/c.dmp", 1, NULL, 8), &t, STORE_DONE, 9, NULL, NULL), DS_OK);
	CHECK_INT(store_share_status(s, &st, NULL), DS_OK);
	CHECK_INT(t_json_int(st, "pending"), 1);
	cJSON_Delete(st);
out:
	t_done(s);
}

/* Issue 12 item 2: retention once deleted dumpscout.db because its row had failed as "not a crash
 * dump". Only rows triage recognised (with a recorded identity) or still pending are listed. */
TEST(retention_lists_only_recognised_dumps)
{
	struct store *s;
	struct store_raw *r = NULL;
	struct store_job job = { 0 };
	struct store_triage t;
	size_t n = 0;
	int64_t db, old, ok;

	s = t_fresh();
	if (s == NULL)
		return;
	db = t_add(s, "/var/lib/dumpscout/dumpscout.db", 10, NULL, 100);
	old = t_add(s, "/d/old.dmp", 20, NULL, 200);
	ok = t_add(s, "/d/ok.dmp", 30, NULL, 300);
	CHECK_INT(store_dump_transition(s, db, STORE_FAILED, 0, "not a crash dump we read", NULL), DS_OK);
	/* a triage recorded without an identity (a row from before identities existed) */
	memset(&t, 0, sizeof(t));
	t.format = "minidump";
	t.json = "{}";
	CHECK_INT(store_record_triage(s, old, &t, STORE_DONE, 5000, NULL, NULL), DS_OK);
	CHECK_INT(t_triage(s, ok, "x.exe", "one", STORE_DONE), DS_OK);
	CHECK_INT(store_retention_list(s, &r, &n, NULL), DS_OK);
	CHECK_INT(n, 1);
	if (n == 1) {
		CHECK_INT(r[0].id, ok);
		CHECK_STR(r[0].file_id, "2049:1:2:3");
	}
	store_raw_free(r, n);
	/* the claimed job carries the identity for the re-check before analysis */
	CHECK_INT(store_dump_transition(s, ok, STORE_TRIAGED, 0, NULL, NULL), DS_OK);
	CHECK_INT(store_claim(s, STORE_STAGE_ANALYZE, 10000, 0, &job, NULL), DS_OK);
	CHECK_INT(job.id, ok);
	CHECK_STR(job.file_id, "2049:1:2:3");
	store_job_clear(&job);
	t_done(s);
}

TEST(outbox_never_returns_sent_mail)
{
	struct store *s;
	struct store_mail m = { 0 };
	struct store_mail_new nm;
	struct store_recovery r;
	int64_t id1 = 0, id2 = 0, id3 = 0, due = 0;
	int existed = -1;

	s = t_fresh();
	if (s == NULL)
		return;
	memset(&nm, 0, sizeof(nm));
	nm.kind = STORE_MAIL_DIGEST;
	nm.dedupe_key = "digest:2024-05-01";
	nm.message_id = "<digest.1@dumpscout.example>";
	nm.subject = "[dumpscout] digest";
	nm.to = "a@example.org, b@example.org";
	nm.body_text = "nothing new";
	CHECK_INT(store_outbox_enqueue(s, &nm, 1000, &id1, &existed, NULL), DS_OK);
	CHECK_INT(existed, 0);
	CHECK_INT(store_outbox_enqueue(s, &nm, 1001, &id2, &existed, NULL), DS_OK);
	CHECK_INT(existed, 1);
	CHECK_INT(id2, id1);
	CHECK_INT(store_outbox_claim(s, 1000, &m, NULL), DS_OK);
	CHECK_INT(m.id, id1);
	CHECK_INT(m.state, STORE_MAIL_SENDING);
	CHECK_INT(m.attempts, 1);
	CHECK_STR(m.message_id, "<digest.1@dumpscout.example>");
	CHECK_STR(m.body_html, NULL);
	store_mail_clear(&m);
	CHECK_INT(store_outbox_claim(s, 1000, &m, NULL), DS_ENOENT);
	CHECK_INT(store_outbox_failed(s, id1, "connection refused", 0, 5000, NULL), DS_OK);
	CHECK_INT(store_outbox_next_due(s, &due, NULL), DS_OK);
	CHECK_INT(due, 5000);
	CHECK_INT(store_outbox_claim(s, 4999, &m, NULL), DS_ENOENT);
	CHECK_INT(store_outbox_claim(s, 5000, &m, NULL), DS_OK);
	CHECK_INT(m.attempts, 2);
	CHECK_STR(m.last_error, "connection refused");
	store_mail_clear(&m);
	CHECK_INT(store_outbox_sent(s, id1, 5001, NULL), DS_OK);
	CHECK_INT(store_outbox_claim(s, INT64_MAX, &m, NULL), DS_ENOENT);
	CHECK_INT(store_outbox_failed(s, id1, "late", 0, 0, NULL), DS_ENOENT); /* a sent row stays sent */
	CHECK_INT(store_outbox_get(s, id1, &m, NULL), DS_OK);
	CHECK_INT(m.state, STORE_MAIL_SENT);
	CHECK_INT(m.sent_at, 5001);
	store_mail_clear(&m);
	/* interrupted while sending: after recovery it is due again, with the same Message-ID */
	nm.kind = STORE_MAIL_ALERT;
	nm.dedupe_key = NULL;
	nm.message_id = "<alert.2@dumpscout.example>";
	CHECK_INT(store_outbox_enqueue(s, &nm, 6000, &id3, NULL, NULL), DS_OK);
	CHECK_INT(store_outbox_claim(s, 6000, &m, NULL), DS_OK);
	store_mail_clear(&m);
	store_close(s);
	s = t_open(STORE_READWRITE);
	if (s == NULL)
		return;
	CHECK_INT(store_outbox_claim(s, 7000, &m, NULL), DS_ENOENT);
	CHECK_INT(store_recover(s, &r, NULL), DS_OK);
	CHECK_INT(r.outbox_reset, 1);
	CHECK_INT(store_outbox_claim(s, 7000, &m, NULL), DS_OK);
	CHECK_INT(m.id, id3);
	CHECK_INT(m.kind, STORE_MAIL_ALERT);
	CHECK_STR(m.message_id, "<alert.2@dumpscout.example>");
	store_mail_clear(&m);
	/* a permanent failure is never due again */
	CHECK_INT(store_outbox_failed(s, id3, "552 message too big", 1, 0, NULL), DS_OK);
	CHECK_INT(store_outbox_claim(s, INT64_MAX, &m, NULL), DS_ENOENT);
	t_done(s);
}

TEST(wal_reader_sees_committed_data_during_write)
{
	struct store *w, *r;
	struct plat_stat pst;
	char wal[160];
	uint64_t t0;

	CHECK(t_newdb() != NULL);
	w = t_open(STORE_READWRITE);
	if (w == NULL)
		return;
	CHECK(t_add(w, "/d/committed.dmp", 1, NULL, 100) > 0);
	r = t_open(STORE_READONLY);
	CHECK(r != NULL);
	CHECK_INT(store_tx_begin(w, NULL), DS_OK);
	CHECK(t_add(w, "/d/uncommitted.dmp", 1, NULL, 200) > 0);
	/* WAL mode: the log file exists beside the database while connections are open (a rollback
	 * journal would let readers through here too, but it has no -wal file) */
	snprintf(wal, sizeof(wal), "%s-wal", t_db);
	CHECK_INT(plat_lstat(wal, &pst), DS_OK);
	CHECK_INT(t_list_count(w, &t_all), 2);
	if (r != NULL) {
		t0 = plat_mono_ns();
		CHECK_INT(t_list_count(r, &t_all), 1);
		CHECK(plat_mono_ns() - t0 < 1000000000ull); /* no waiting on the writer */
	}
	CHECK_INT(store_tx_commit(w, NULL), DS_OK);
	if (r != NULL)
		CHECK_INT(t_list_count(r, &t_all), 2);
	store_close(r);
	store_close(w);
	t_cleanup();
}

TEST(busy_past_timeout_is_ebusy)
{
	struct store *a, *b = NULL;
	struct ds_err e = { 0 };
	uint64_t t0, ms;
	int rc;

	CHECK(t_newdb() != NULL);
	a = t_open(STORE_READWRITE);
	if (a == NULL)
		return;
	CHECK_INT(store_open_ex(t_db, STORE_READWRITE, 100, &b, &e), DS_OK);
	CHECK_INT(store_tx_begin(a, NULL), DS_OK);
	CHECK_INT(store_kv_set(a, "held", "1", 1, NULL), DS_OK);
	if (b != NULL) {
		t0 = plat_mono_ns();
		rc = store_kv_set(b, "other", "2", 1, &e);
		ms = (plat_mono_ns() - t0) / 1000000u;
		CHECK_INT(rc, DS_EBUSY);
		CHECK_INT(e.code, DS_EBUSY);
		CHECK(strstr(e.msg, "locked") != NULL);
		CHECK(strstr(e.msg, t_db) != NULL);
		CHECK(strstr(e.msg, "100 ms") != NULL);
		CHECK(ms >= 90 && ms < 3000);
	}
	store_tx_rollback(a);
	if (b != NULL)
		CHECK_INT(store_kv_set(b, "other", "2", 1, NULL), DS_OK);
	store_close(b);
	store_close(a);
	t_cleanup();
}

TEST(list_filters_report_and_status)
{
	struct store *s;
	struct store_dump_filter f;
	struct store_status st = { "0.1.0", 321, "host", 10, 10, "{\"retention\":{\"max_count\":5}}", NULL };
	int64_t ids[6];
	char path[32], *v = NULL;
	cJSON *arr = NULL, *o;
	int i;

	s = t_fresh();
	if (s == NULL)
		return;
	for (i = 0; i < 6; i++) {
		snprintf(path, sizeof(path), "/d/%d.dmp", i);
		ids[i] = t_add(s, path, (uint64_t)(100 - i), NULL, 86400000LL * i + 1000);
		CHECK_INT(t_triage(s, ids[i], i % 2 ? "odd.exe" : "even.exe", i < 4 ? "early" : "late",
				   i == 5 ? STORE_FAILED : STORE_DONE),
			  DS_OK);
	}
	f = t_all;
	f.limit = 2;
	CHECK_INT(store_dump_list(s, &f, &arr, NULL), DS_OK);
	CHECK_INT(cJSON_GetArraySize(arr), 2);
	CHECK_INT(t_json_int(cJSON_GetArrayItem(arr, 0), "id"), ids[5]); /* newest first */
	CHECK_STR(t_json_str(cJSON_GetArrayItem(arr, 0), "bucket_title"), "late");
	cJSON_Delete(arr);
	f = t_all;
	f.sort = STORE_SORT_OLDEST;
	f.app = "odd.exe";
	f.since = 86400000LL * 2;
	CHECK_INT(store_dump_list(s, &f, &arr, NULL), DS_OK);
	CHECK_INT(cJSON_GetArraySize(arr), 2);
	CHECK_INT(t_json_int(cJSON_GetArrayItem(arr, 0), "id"), ids[3]);
	cJSON_Delete(arr);
	f = t_all;
	f.until = 86400000LL * 2;
	CHECK_INT(t_list_count(s, &f), 2);
	f = t_all;
	f.state = STORE_FAILED;
	CHECK_INT(t_list_count(s, &f), 1);
	f.state = 99;
	CHECK_INT(store_dump_list(s, &f, &arr, NULL), DS_EINVAL);

	CHECK_INT(store_report(s, 86400000LL * 3, 0, &o, NULL), DS_OK);
	CHECK_INT(t_json_int(cJSON_GetObjectItemCaseSensitive(o, "totals"), "dumps"), 3);
	CHECK_INT(t_json_int(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "totals"), "by_state"),
			     "failed"),
		  1);
	CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o, "days")), 3);
	CHECK_STR(t_json_str(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(o, "days"), 0), "day"), "1970-01-04");
	arr = cJSON_GetObjectItemCaseSensitive(o, "buckets");
	CHECK_INT(cJSON_GetArraySize(arr), 2);
	CHECK_STR(t_json_str(cJSON_GetArrayItem(arr, 0), "key"), "late");
	CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(arr, 0), "is_new")));
	CHECK(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(arr, 1), "is_new")));
	CHECK_INT(t_json_int(cJSON_GetArrayItem(arr, 1), "count_in_range"), 1);
	cJSON_Delete(o);
	arr = NULL;

	CHECK_INT(store_status_start(s, &st, NULL), DS_OK);
	CHECK_INT(store_status_heartbeat(s, 99, NULL), DS_OK);
	CHECK_INT(store_status_error(s, "smtp: 535 authentication failed", 98, NULL), DS_OK);
	CHECK_INT(store_kv_set(s, "mail.last_digest_at", "1234", 5, NULL), DS_OK);
	CHECK_INT(store_kv_get(s, "mail.last_digest_at", &v, NULL), DS_OK);
	CHECK_STR(v, "1234");
	free(v);
	CHECK_INT(store_kv_get(s, "nope", &v, NULL), DS_ENOENT);
	CHECK_INT(store_status_get(s, &o, NULL), DS_OK);
	CHECK_INT(t_json_int(o, "schema_version"), schema_migration_count);
	CHECK_INT(t_json_int(cJSON_GetObjectItemCaseSensitive(o, "service"), "pid"), 321);
	CHECK_INT(t_json_int(cJSON_GetObjectItemCaseSensitive(o, "service"), "heartbeat_at"), 99);
	CHECK_STR(t_json_str(cJSON_GetObjectItemCaseSensitive(o, "service"), "last_error"),
		  "smtp: 535 authentication failed");
	CHECK(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "service"), "config")));
	CHECK_INT(t_json_int(cJSON_GetObjectItemCaseSensitive(o, "queue"), "done"), 5);
	CHECK_INT(t_json_int(cJSON_GetObjectItemCaseSensitive(o, "queue"), "analyzing"), 0);
	CHECK_INT(t_json_int(cJSON_GetObjectItemCaseSensitive(o, "raw"), "bytes"), 100 + 99 + 98 + 97 + 96 + 95);
	CHECK_STR(t_json_str(cJSON_GetObjectItemCaseSensitive(o, "kv"), "mail.last_digest_at"), "1234");
	cJSON_Delete(o);
	CHECK_INT(store_bucket_get(s, 1, 2, &o, NULL), DS_OK);
	CHECK_STR(t_json_str(o, "key"), "early");
	CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o, "dumps")), 2);
	CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o, "apps")), 2);
	cJSON_Delete(o);
	t_done(s);
}

int main(void)
{
	RUN(migrations_apply_and_reopen_is_noop);
	RUN(newer_schema_is_refused);
	RUN(readonly_missing_is_enoent);
	RUN(same_path_is_one_row_and_replacement_is_new);
	RUN(claim_transitions_and_attempts);
	RUN(crashed_claim_is_claimable_after_recovery);
	RUN(triage_recorded_twice_counts_once);
	RUN(analysis_record_is_idempotent);
	RUN(analysis_moves_dotnet_crash_bucket_and_leak_without_roots);
	RUN(duplicates_by_hash);
	RUN(retention_keeps_newest_of_each_bucket);
	RUN(retention_lists_only_recognised_dumps);
	RUN(share_wanted_failed_backoff_copied);
	RUN(share_files_survive_migration_5);
	RUN(outbox_never_returns_sent_mail);
	RUN(wal_reader_sees_committed_data_during_write);
	RUN(busy_past_timeout_is_ebusy);
	RUN(list_filters_report_and_status);
	return t_total_failed != 0;
}
