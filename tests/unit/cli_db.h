/* cli_db.h - builds small dumpscout databases for the CLI's unit tests through the store's own API
 * (upsert, triage, analysis), so the rows, buckets and counters are exactly what the service writes. */
#ifndef DS_CLI_DB_H
#define DS_CLI_DB_H

#include "core/plat.h"
#include "core/store.h"
#include "triage_fixture.h"

#include <stdio.h>
#include <string.h>

/* A fresh read-write database at path (old files removed). NULL on failure. */
static struct store *cli_db_create(const char *path)
{
	char p[512];
	struct store *s = NULL;

	plat_unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	plat_unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	plat_unlink(p);
	if (store_open(path, STORE_READWRITE, &s, NULL) != DS_OK)
		return NULL;
	return s;
}

static int64_t cli_db_dump(struct store *s, const char *path, uint64_t size, int64_t discovered_at)
{
	struct store_file f = { path, size, discovered_at * 1000000, NULL };
	int64_t id = 0;
	int oc = 0;

	if (store_dump_upsert(s, &f, discovered_at, &id, &oc, NULL) != DS_OK)
		return -1;
	return id;
}

static int cli_db_triage(struct store *s, int64_t id, const char *app, const char *process, const char *bucket,
			 int next_state, int64_t now)
{
	struct store_triage t;

	triage_fixture(&t, app, bucket, 4000 + (uint64_t)id, process, 0x7ff612345678ull);
	t.runtime_name = "coreclr";
	t.runtime_version = "8.0.5";
	t.json = "{\"format\":\"minidump\"}";
	return store_record_triage(s, id, &t, next_state, now, NULL, NULL);
}

/* Records an analysis with one held context and one root (culprit, signature, catalogue id). */
static int cli_db_leak(struct store *s, int64_t id, const char *culprit, const char *signature, const char *catalogue,
		       int false_root, int64_t now)
{
	struct store_root r;
	struct store_context c;
	struct store_analysis a;

	memset(&r, 0, sizeof(r));
	r.kind = "static";
	r.culprit = culprit;
	r.signature = signature;
	r.probable_false_root = false_root;
	r.catalogue_id = catalogue;
	r.chain_text = "-> 00007f01 System.Object[]\n  -> 00007f02 Plugin.Cache\n  -> 00007f03 System.Reflection.LoaderAllocator";
	r.chain_json = "[]";
	memset(&c, 0, sizeof(c));
	c.name = "PluginContext";
	c.has_loader_allocator = 1;
	c.loader_allocator = 0x7f0000001000ull;
	c.state = "held";
	c.nroots = 1;
	c.roots = &r;
	memset(&a, 0, sizeof(a));
	a.engine = "dotnet-dump";
	a.engine_version = "9.0.0";
	a.status = STORE_AN_OK;
	a.started_at = now;
	a.finished_at = now + 5000;
	a.duration_ms = 5000;
	a.exception_type = "System.InvalidOperationException";
	a.exception_message = "plugin failed";
	a.json = "{\"analysis\":{\"managed_exception\":{\"type\":\"System.InvalidOperationException\","
		 "\"stack\":[\"Plugin.Run()\",\"Host.Main(System.String[])\"]}}}";
	a.ncontexts = 1;
	a.contexts = &c;
	return store_record_analysis(s, id, &a, STORE_DONE, 0, NULL, NULL, NULL);
}

#endif
