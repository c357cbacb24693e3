/* test_fleetdb.c - the fleet's outbox (core/store_fleet.c) and the central store (core/fleetdb.c with
 * schema/fleet/) together: triage and analysis recorded in a real SQLite store reach a real PostgreSQL
 * exactly once, with contexts, roots and root buckets; a replayed batch changes nothing; a replaced
 * analysis moves its root buckets; the backlog bound defers snapshots and the resync publishes them; a
 * dump whose triage failed is published with its error cleaned, and a file name that is not UTF-8 too.
 * PostgreSQL comes from $DUMPSCOUT_TEST_PG_URL (tests/e2e/test_fleet.sh starts one and runs this);
 * without it every test is skipped. The outbox tests that need no server run always. */
#include "t.h"

#include "core/fleetdb.h"
#include "core/plat.h"
#include "core/store.h"
#include "core/store_fleet.h"
#include "core/text.h"

#include <cjson/cJSON.h>
#include <unistd.h>

static char t_dir[128], t_db[160];

static void t_setup(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(t_dir, sizeof(t_dir), "%s/dsfleet.%ld", tmp != NULL ? tmp : "/tmp", (long)getpid());
	plat_mkdirs(t_dir, 0700);
	snprintf(t_db, sizeof(t_db), "%s/t.db", t_dir);
}

static void t_cleanup(void)
{
	char p[200];

	remove(t_db);
	snprintf(p, sizeof(p), "%s-wal", t_db);
	remove(p);
	snprintf(p, sizeof(p), "%s-shm", t_db);
	remove(p);
	remove(t_dir);
}

static struct store *t_fresh(int enabled, int64_t max_backlog)
{
	struct store *s = NULL;
	struct ds_err e = { 0 };

	t_cleanup();
	t_setup();
	if (store_open(t_db, STORE_READWRITE, &s, &e) != DS_OK) {
		printf("     store_open: %s\n", e.msg);
		return NULL;
	}
	if (store_fleet_configure(s, enabled, max_backlog, &e) != DS_OK)
		printf("     configure: %s\n", e.msg);
	return s;
}

static int64_t t_dump(struct store *s, const char *path, const char *bucket)
{
	struct store_file f = { path, 1234, 1000, NULL };
	struct store_triage t;
	int64_t id = 0;
	int oc;

	if (store_dump_upsert(s, &f, 1764680000000LL, &id, &oc, NULL) != DS_OK)
		return -1;
	memset(&t, 0, sizeof(t));
	t.app = "Host.exe";
	t.format = "minidump";
	t.os = "windows";
	t.has_pid = 1;
	t.pid = 77;
	t.has_heap = 1;
	t.thread_count = t.module_count = -1;
	t.bucket_key = bucket;
	t.json = "{\"format\":\"minidump\",\"pid\":77}";
	if (store_record_triage(s, id, &t, STORE_TRIAGED, 1764680001000LL, NULL, NULL) != DS_OK)
		return -1;
	return id;
}

/* An analysis with one context held by two roots (signatures sig_a, sig_b) and a false root. */
static int t_analyse(struct store *s, int64_t id, const char *sig_a, const char *sig_b)
{
	struct store_root roots[3];
	struct store_context ctx;
	struct store_analysis an;

	memset(roots, 0, sizeof(roots));
	roots[0].kind = "static";
	roots[0].culprit = "Scout.Registry.Last";
	roots[0].signature = sig_a;
	roots[0].chain_json = "[\"A\",\"B\"]";
	roots[1].kind = "handle";
	roots[1].culprit = "strong handle";
	roots[1].signature = sig_b;
	roots[2].kind = "handle";
	roots[2].culprit = "weak interior";
	roots[2].signature = "false:kind10";
	roots[2].probable_false_root = 1;
	memset(&ctx, 0, sizeof(ctx));
	ctx.name = "PluginContext";
	ctx.has_loader_allocator = 1;
	ctx.loader_allocator = 0x7f0012345678ull;
	ctx.state = "unloading_held";
	ctx.nroots = 3;
	ctx.roots = roots;
	memset(&an, 0, sizeof(an));
	an.engine = "clrmd";
	an.status = STORE_AN_OK;
	an.started_at = 1;
	an.finished_at = 2;
	an.duration_ms = 1;
	an.json = "{\"analysis\":{\"leak\":true}}";
	an.ncontexts = 1;
	an.contexts = &ctx;
	return store_record_analysis(s, id, &an, STORE_DONE, 0, NULL, NULL, NULL);
}

static struct fleetdb *t_pg(void)
{
	const char *url = getenv("DUMPSCOUT_TEST_PG_URL");
	struct fleetdb *db = NULL;
	struct ds_err e = { 0 };
	int applied;

	if (url == NULL || url[0] == '\0')
		return NULL;
	if (fleetdb_connect(url, NULL, 10, &db, &e) != DS_OK || fleetdb_init(db, &applied, &e) != DS_OK) {
		printf("     postgres: %s\n", e.msg);
		fleetdb_close(db);
		return NULL;
	}
	return db;
}

/* Publishes everything in the outbox in batches of n; returns the events the server applied. */
static int t_publish(struct store *s, struct fleetdb *db, const char *host, size_t n, int replay_first)
{
	char *events = NULL, info[128];
	size_t k = 0;
	int64_t last = 0;
	int applied = 0, total = 0;

	snprintf(info, sizeof(info), "{\"hostname\":\"%s\",\"backlog\":0}", "unit-host");
	for (;;) {
		if (store_fleet_batch(s, n, 1 << 20, &events, &k, &last, NULL) != DS_OK || k == 0)
			break;
		if (fleetdb_ingest(db, host, info, events, &applied, NULL) != DS_OK)
			break;
		total += applied;
		if (replay_first) { /* the reply was "lost": the same batch again */
			replay_first = 0;
			if (fleetdb_ingest(db, host, info, events, &applied, NULL) != DS_OK || applied != 0)
				total = -1000;
		}
		free(events);
		events = NULL;
		if (store_fleet_sent(s, last, k, 1, NULL) != DS_OK)
			break;
	}
	free(events);
	return total;
}

static int64_t t_backlog(struct store *s)
{
	int64_t n = -1;

	store_fleet_backlog(s, &n, NULL);
	return n;
}

TEST(outbox_off_writes_nothing)
{
	struct store *s = t_fresh(0, 100);

	CHECK(s != NULL);
	CHECK(t_dump(s, "/d/a.dmp", "app|mod+0x1|0xc0000005") > 0);
	CHECK_INT(t_backlog(s), 0);
	store_close(s);
}

TEST(outbox_one_snapshot_per_recording)
{
	struct store *s = t_fresh(1, 100);
	char host1[STORE_FLEET_UUID_LEN], host2[STORE_FLEET_UUID_LEN], *events = NULL;
	cJSON *arr = NULL, *an;
	int64_t id, last = 0;
	size_t n = 0;

	CHECK(s != NULL);
	id = t_dump(s, "/d/a.dmp", "app|mod+0x1|0xc0000005");
	CHECK(id > 0);
	CHECK_INT(t_analyse(s, id, "sig:a", "sig:b"), DS_OK);
	CHECK_INT(t_backlog(s), 2);
	CHECK_INT(store_fleet_batch(s, 10, 1 << 20, &events, &n, &last, NULL), DS_OK);
	CHECK_INT(n, 2);
	arr = events != NULL ? cJSON_Parse(events) : NULL;
	CHECK(cJSON_GetArraySize(arr) == 2);
	an = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(arr, 1), "data"), "analysis");
	CHECK(cJSON_IsObject(an));
	CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(an, "contexts"), 0), "roots")), 3);
	/* the host id is made once and kept */
	CHECK_INT(store_fleet_host_id(s, host1, NULL), DS_OK);
	CHECK_INT(store_fleet_host_id(s, host2, NULL), DS_OK);
	CHECK_STR(host1, host2);
	CHECK_INT(strlen(host1), 36);
	cJSON_Delete(arr);
	free(events);
	store_close(s);
}

TEST(outbox_bound_defers_and_resyncs)
{
	struct store *s = t_fresh(1, 4);
	int64_t n = -1, i;
	char p[32];
	cJSON *st = NULL;

	CHECK(s != NULL);
	for (i = 0; i < 6; i++) {
		snprintf(p, sizeof(p), "/d/%d.dmp", (int)i);
		CHECK(t_dump(s, p, "b|m+0x1|0x1") > 0);
	}
	CHECK_INT(t_backlog(s), 4); /* bounded */
	CHECK_INT(store_fleet_status(s, &st, NULL), DS_OK);
	CHECK_INT((int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(st, "overflow_from")), 5);
	CHECK_INT((int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(st, "overflowed")), 2);
	cJSON_Delete(st);
	/* no room yet: nothing is resynced */
	CHECK_INT(store_fleet_resync(s, 1, &n, NULL), DS_OK);
	CHECK_INT(n, 0);
	CHECK_INT(store_fleet_sent(s, INT64_MAX, 4, 1, NULL), DS_OK);
	CHECK_INT(store_fleet_resync(s, 1, &n, NULL), DS_OK);
	CHECK_INT(n, 2); /* dumps 5 and 6 (half the bound is room for 2) */
	CHECK_INT(store_fleet_resync(s, 1, &n, NULL), DS_OK);
	CHECK_INT(n, 0);
	CHECK_INT(store_fleet_status(s, &st, NULL), DS_OK);
	CHECK(cJSON_IsNull(cJSON_GetObjectItem(st, "overflow_from")));
	cJSON_Delete(st);
	store_close(s);
}

/* A dump whose triage failed (not a dump, corrupt) is published when it fails, with its error cleaned of
 * terminal controls and invalid UTF-8; a retry on the way (back to 'discovered') is not; a file name that
 * is not UTF-8 reaches the batch as valid UTF-8 (PostgreSQL would refuse the batch); the resync after
 * an overflow covers failed dumps too. */
TEST(outbox_failed_triage_published)
{
	struct store *s = t_fresh(1, 2);
	struct store_file f = { "/d/bad\xff.dmp", 10, 1000, NULL };
	char *events = NULL, p[32];
	cJSON *arr = NULL, *d;
	int64_t id = 0, last = 0, n = -1, i;
	size_t k = 0;
	int oc;

	CHECK(s != NULL);
	CHECK_INT(store_dump_upsert(s, &f, 1764680000000LL, &id, &oc, NULL), DS_OK);
	CHECK_INT(store_dump_transition(s, id, STORE_DISCOVERED, 5, "cannot read the dump: busy", NULL), DS_OK);
	CHECK_INT(t_backlog(s), 0);
	CHECK_INT(store_dump_transition(s, id, STORE_FAILED, 0, "corrupt dump at offset 2 (0x2): \x1b[31mred\xfe", NULL),
		  DS_OK);
	CHECK_INT(t_backlog(s), 1);
	CHECK_INT(store_fleet_batch(s, 10, 1 << 20, &events, &k, &last, NULL), DS_OK);
	CHECK_INT(k, 1);
	CHECK(events != NULL && text_utf8_valid(events, strlen(events)));
	arr = events != NULL ? cJSON_Parse(events) : NULL;
	d = cJSON_GetObjectItem(cJSON_GetArrayItem(arr, 0), "data");
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(d, "state")), "failed");
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(d, "file_name")), "bad\xef\xbf\xbd.dmp");
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(d, "last_error")),
		  "corrupt dump at offset 2 (0x2): ?[31mred\xef\xbf\xbd");
	CHECK(cJSON_IsNull(cJSON_GetObjectItem(d, "triaged_at")));
	cJSON_Delete(arr);
	free(events);
	CHECK_INT(store_fleet_sent(s, last, k, 1, NULL), DS_OK);
	/* the bound (2): the fourth failure is deferred, and the resync publishes it */
	for (i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "/d/%d.dmp", (int)i);
		f.path = p;
		CHECK_INT(store_dump_upsert(s, &f, 1764680000000LL, &id, &oc, NULL), DS_OK);
		CHECK_INT(store_dump_transition(s, id, i == 2 ? STORE_UNSUPPORTED : STORE_FAILED, 0, "not a crash dump we read",
						NULL), DS_OK);
	}
	CHECK_INT(t_backlog(s), 2);
	CHECK_INT(store_fleet_sent(s, INT64_MAX, 2, 1, NULL), DS_OK);
	CHECK_INT(store_fleet_resync(s, 1, &n, NULL), DS_OK);
	CHECK_INT(n, 1);
	CHECK_INT(t_backlog(s), 1);
	store_close(s);
}

TEST(pg_exactly_once_with_roots)
{
	struct fleetdb *db = t_pg();
	struct store *s;
	char host[STORE_FLEET_UUID_LEN];
	cJSON *d = NULL, *list = NULL, *roots = NULL, *f;
	const cJSON *c, *it;
	int64_t id1, id2, seq = 0;
	int applied, sig_a = -1, sig_c = -1;

	if (db == NULL && getenv("DUMPSCOUT_TEST_PG_URL") == NULL)
		SKIP("no PostgreSQL ($DUMPSCOUT_TEST_PG_URL unset; tests/e2e/test_fleet.sh runs this with one)");
	if (db == NULL) {
		T_FAIL_("cannot use the PostgreSQL of $DUMPSCOUT_TEST_PG_URL");
		return;
	}
	s = t_fresh(1, 1000);
	CHECK(s != NULL);
	CHECK_INT(store_fleet_host_id(s, host, NULL), DS_OK);
	id1 = t_dump(s, "/d/one.dmp", "Host.exe|coreclr+0x10|0x6");
	id2 = t_dump(s, "/d/two.dmp", "Host.exe|coreclr+0x10|0x6");
	CHECK_INT(t_analyse(s, id1, "sig:registry", "sig:handle"), DS_OK);
	CHECK_INT(t_analyse(s, id2, "sig:registry", "sig:handle"), DS_OK);
	/* 4 events, in batches of 3; the first batch is sent twice */
	applied = t_publish(s, db, host, 3, 1);
	CHECK_INT(applied, 4);
	CHECK_INT(t_backlog(s), 0);
	f = cJSON_CreateObject();
	cJSON_AddStringToObject(f, "host", host);
	CHECK_INT(fleetdb_list(db, f, &list, NULL), DS_OK);
	CHECK_INT(cJSON_GetArraySize(list), 2);
	cJSON_ArrayForEach(it, list)
		if ((int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(it, "local_id")) == id1)
			seq = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(it, "id"));
	CHECK(seq > 0);
	CHECK_INT(fleetdb_show(db, seq, &d, NULL), DS_OK);
	c = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(d, "analysis"), "contexts"), 0);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(c, "name")), "PluginContext");
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(c, "loader_allocator")), "0x7f0012345678");
	CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(c, "roots")), 3);
	CHECK(cJSON_IsTrue(cJSON_GetObjectItem(d, "has_leak")));
	cJSON_Delete(d);
	d = NULL;
	/* the root buckets count each dump once */
	CHECK_INT(fleetdb_roots(db, 0, 0, host, &roots, NULL), DS_OK);
	cJSON_ArrayForEach(it, roots) {
		const char *sig = cJSON_GetStringValue(cJSON_GetObjectItem(it, "signature"));
		if (sig != NULL && strcmp(sig, "sig:registry") == 0)
			sig_a = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(it, "count"));
	}
	CHECK_INT(sig_a, 2);
	cJSON_Delete(roots);
	roots = NULL;
	/* a new analysis of dump 1 replaces the old one: its root buckets move */
	CHECK_INT(t_analyse(s, id1, "sig:cache", "sig:handle"), DS_OK);
	CHECK_INT(t_publish(s, db, host, 3, 0), 1);
	CHECK_INT(fleetdb_roots(db, 0, 0, host, &roots, NULL), DS_OK);
	sig_a = sig_c = 0;
	cJSON_ArrayForEach(it, roots) {
		const char *sig = cJSON_GetStringValue(cJSON_GetObjectItem(it, "signature"));
		int cnt = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(it, "count"));
		if (sig != NULL && strcmp(sig, "sig:registry") == 0)
			sig_a = cnt;
		if (sig != NULL && strcmp(sig, "sig:cache") == 0)
			sig_c = cnt;
	}
	CHECK_INT(sig_a, 1);
	CHECK_INT(sig_c, 1);
	cJSON_Delete(roots);
	cJSON_Delete(list);
	cJSON_Delete(f);
	store_close(s);
	fleetdb_close(db);
}

TEST(pg_sender_lock_is_exclusive)
{
	struct fleetdb *a = t_pg(), *b = NULL;
	int ha = 0, hb = 1, i;

	if (a == NULL && getenv("DUMPSCOUT_TEST_PG_URL") == NULL)
		SKIP("no PostgreSQL ($DUMPSCOUT_TEST_PG_URL unset)");
	if (a == NULL) {
		T_FAIL_("cannot use the PostgreSQL of $DUMPSCOUT_TEST_PG_URL");
		return;
	}
	b = t_pg();
	CHECK(b != NULL);
	CHECK_INT(fleetdb_sender_lock(a, &ha, NULL), DS_OK);
	CHECK_INT(fleetdb_sender_lock(b, &hb, NULL), DS_OK);
	CHECK_INT(ha + hb, 1);
	/* the holder goes away: the other one takes over */
	fleetdb_close(ha ? a : b);
	/* (the server ends the closed session's backend a moment later: the lock passes then) */
	for (i = 0, hb = 0; i < 100 && !hb; i++) {
		CHECK_INT(fleetdb_sender_lock(ha ? b : a, &hb, NULL), DS_OK);
		if (!hb)
			usleep(50000);
	}
	CHECK_INT(hb, 1);
	fleetdb_close(ha ? b : a);
}

int main(void)
{
	RUN(outbox_off_writes_nothing);
	RUN(outbox_one_snapshot_per_recording);
	RUN(outbox_bound_defers_and_resyncs);
	RUN(outbox_failed_triage_published);
	RUN(pg_exactly_once_with_roots);
	RUN(pg_sender_lock_is_exclusive);
	t_cleanup();
	return t_total_failed ? 1 : 0;
}
