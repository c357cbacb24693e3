/* cmd_status.c - `dumpscout status`: is the service alive (heartbeat age), which version, how deep the
 * queue is by state, its last error, the dump folder's usage against the retention quotas, the
 * collection settings in effect, the mail outbox, and whether the heap engine can be found. Everything
 * comes from the status row the service keeps (store_status_get) plus one engine lookup; it never
 * writes to the database. */
#include "cli.h"
#include "dbopen.h"
#include "lib/jget.h"
#include "table.h"
#include "lib/when.h"
#include "analyzer/heap_run.h"
#include "core/plat.h"
#include "core/store.h"
#include "core/cursor.h"
#include "core/store_fleet.h"
#include "core/store_share.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void status_usage(FILE *f)
{
	fprintf(f,
		"usage: dumpscout status [--json]\n\n"
		"Shows whether dumpscoutd is alive (age of its last heartbeat), its version, the queue by state,\n"
		"the last error, the dump folder's usage against the retention quotas, the collection settings in\n"
		"effect, the mail outbox and whether the heap engine (dumpscout-heap) can be found.\n\n"
		"  --json           one JSON object (fields in docs/cli.md)\n"
		DBOPEN_HELP "\n"
		"Exit codes: 0 ok (the service may still be stopped: see the first line, or \"service.state\" in\n"
		"JSON), 1 the database cannot be read, 2 bad arguments.\n"
		"Example: dumpscout status\n");
}

/* Adds "service_state" (running, stale, never) and "heartbeat_age_ms" and "engine" to the status. */
static int status_annotate(cJSON *s, int64_t now)
{
	const cJSON *svc = jget_obj(s, "service"), *cfg = jget_obj(svc, "config");
	int64_t hb = jget_num(svc, "heartbeat_at", 0), every = jget_num(cfg, "heartbeat_s", 30) * 1000;
	const char *state = "never started";
	cJSON *eng;
	char *path;

	if (hb > 0)
		state = now - hb <= 3 * every + 5000 ? "running" : "stale";
	if (!cJSON_AddStringToObject(s, "service_state", state) ||
	    !cJSON_AddItemToObject(s, "heartbeat_age_ms", hb > 0 ? cJSON_CreateNumber((double)(now - hb)) : cJSON_CreateNull()))
		return DS_ENOMEM;
	eng = cJSON_AddObjectToObject(s, "engine");
	if (eng == NULL)
		return DS_ENOMEM;
	path = heap_find_engine(jget_str(jget_obj(cfg, "analysis"), "engine"));
	cJSON_AddBoolToObject(eng, "available", path != NULL);
	cJSON_AddItemToObject(eng, "path", path != NULL ? cJSON_CreateString(path) : cJSON_CreateNull());
	free(path);
	return DS_OK;
}

/* The fleet outbox: on or off, the backlog against its bound, the last publication or error. */
static void status_fleet(const cJSON *f)
{
	char t[40];

	if (f == NULL || !jget_bool(f, "enabled")) {
		if (jget_num(f, "backlog", 0) > 0) /* the fleet section was removed with snapshots unsent */
			printf("fleet        not configured; %lld snapshot(s) left unpublished\n",
			       (long long)jget_num(f, "backlog", 0));
		return;
	}
	printf("fleet        host id %s; backlog %lld of at most %lld", jget_str(f, "host_id") ? jget_str(f, "host_id") : "?",
	       (long long)jget_num(f, "backlog", 0), (long long)jget_num(f, "max_backlog", 0));
	if (jget_num(f, "overflowed", 0) > 0)
		printf(" (%lld deferred by the bound%s)", (long long)jget_num(f, "overflowed", 0),
		       jget_has(f, "overflow_from") ? ", resync pending" : "");
	printf("; %lld published", (long long)jget_num(f, "sent", 0));
	if (jget_num(f, "last_sent_at", 0) > 0) {
		when_format(jget_num(f, "last_sent_at", 0), 0, t, sizeof(t));
		printf(", last %s UTC", t);
	}
	printf("\n");
	if (jget_str(f, "last_error") != NULL) {
		printf("fleet error  ");
		table_puts_clean(stdout, jget_str(f, "last_error"), 0);
		printf("\n");
	}
}

/* The copies on the fleet's dump share: written, to make (under way, or cut short by a stop), failing
 * (retried), the last failure. */
static void status_share(const cJSON *f)
{
	if (f == NULL)
		return;
	printf("share        %lld copied, ", (long long)jget_num(f, "copied", 0));
	if (jget_num(f, "pending", 0) > 0)
		printf("%lld to copy, ", (long long)jget_num(f, "pending", 0));
	printf("%lld failed (retried)\n", (long long)jget_num(f, "failed", 0));
	if (jget_str(f, "last_error") != NULL) {
		printf("share error  ");
		table_puts_clean(stdout, jget_str(f, "last_error"), 0);
		printf("\n");
	}
}

static void status_text(const cJSON *s, const char *dbpath, int color)
{
	static const char *const states[] = { "discovered", "triaged", "analyzing", "done", "failed", "unsupported" };
	const cJSON *svc = jget_obj(s, "service"), *cfg = jget_obj(svc, "config"), *q = jget_obj(s, "queue");
	const cJSON *raw = jget_obj(s, "raw"), *ret = jget_obj(cfg, "retention"), *coll = jget_obj(svc, "collection");
	const cJSON *ob = jget_obj(s, "outbox"), *eng = jget_obj(s, "engine"), *u, *kv = jget_obj(s, "kv");
	const char *state = jget_str(s, "service_state");
	char age[32], t[40], sz[40], quota[40];
	int64_t pending = 0, bytes = jget_num(raw, "bytes", 0), files = jget_num(raw, "count", 0);
	size_t i;
	int first = 1, bad = state != NULL && strcmp(state, "running") != 0;

	when_format_span(jget_num(s, "heartbeat_age_ms", 0), age, sizeof(age));
	printf("service      %s", bad && color ? "\033[31m" : "");
	if (svc == NULL || jget_num(svc, "heartbeat_at", 0) <= 0)
		printf("never started: no heartbeat in this database (start dumpscoutd)");
	else if (!bad)
		printf("running (heartbeat %s ago)", age);
	else
		printf("STALE: last heartbeat %s ago; is dumpscoutd running? (systemctl status dumpscoutd)", age);
	printf("%s\n", bad && color ? "\033[0m" : "");
	if (svc != NULL && jget_str(svc, "version") != NULL) {
		when_format(jget_num(svc, "started_at", 0), 0, t, sizeof(t));
		printf("version      dumpscoutd ");
		table_puts_clean(stdout, jget_str(svc, "version"), 0);
		printf(", pid %lld on ", (long long)jget_num(svc, "pid", 0));
		table_puts_clean(stdout, jget_str(svc, "hostname") ? jget_str(svc, "hostname") : "?", 0);
		printf(", started %s UTC\n", t);
	}
	printf("database     ");
	table_puts_clean(stdout, dbpath, 0);
	printf(" (schema %lld)\n", (long long)jget_num(s, "schema_version", 0));
	printf("queue       ");
	for (i = 0; i < DS_ARRAY_LEN(states); i++) {
		int64_t n = jget_num(q, states[i], 0);

		printf(" %s %lld%s", states[i], (long long)n, i + 1 < DS_ARRAY_LEN(states) ? "," : "\n");
		if (i < 3)
			pending += n;
	}
	printf("pending      %lld dump(s) waiting for triage or analysis\n", (long long)pending);
	if (jget_str(svc, "last_error") != NULL) {
		when_format(jget_num(svc, "last_error_at", 0), 0, t, sizeof(t));
		printf("last error   %s", color ? "\033[31m" : "");
		table_puts_clean(stdout, jget_str(svc, "last_error"), 0);
		printf("%s (%s UTC)\n", color ? "\033[0m" : "", t);
	} else {
		printf("last error   none\n");
	}
	table_format_size(bytes, sz, sizeof(sz));
	printf("dump folder  ");
	table_puts_clean(stdout, jget_str(coll, "dump_dir") ? jget_str(coll, "dump_dir") : "(unknown)", 0);
	printf(": %lld raw file(s), %s", (long long)files, sz);
	if (ret != NULL) {
		int64_t mb = jget_num(ret, "max_bytes", 0), mc = jget_num(ret, "max_count", 0);

		table_format_size(mb, quota, sizeof(quota));
		if (mb > 0)
			printf(" of %s (%.0f%%)", quota, 100.0 * (double)bytes / (double)mb);
		if (mc > 0)
			printf("; %lld of %lld files (%.0f%%)", (long long)files, (long long)mc, 100.0 * (double)files / (double)mc);
		if (jget_num(ret, "max_age_days", 0) > 0)
			printf("; kept at most %lld days", (long long)jget_num(ret, "max_age_days", 0));
	}
	if (jget_num(raw, "oldest_discovered_at", 0) > 0) {
		when_format(jget_num(raw, "oldest_discovered_at", 0), 0, t, sizeof(t));
		printf("; oldest %s UTC", t);
	}
	printf("\n");
	printf("collection   ");
	cJSON_ArrayForEach(u, jget_arr(coll, "units")) {
		if (cJSON_IsString(u)) {
			printf("%s", first ? "units " : ", ");
			table_puts_clean(stdout, u->valuestring, 0);
			first = 0;
		}
	}
	printf("%s\n", first ? (coll != NULL ? "no systemd units configured (dumps only from the folder)"
					     : "unknown (the service has not reported it)") : "");
	if (cfg != NULL)
		printf("analysis     concurrency %lld, timeout %llds per dump, %lld attempts\n",
		       (long long)jget_num(jget_obj(cfg, "analysis"), "concurrency", 0),
		       (long long)jget_num(jget_obj(cfg, "analysis"), "dump_timeout_s", 0),
		       (long long)jget_num(jget_obj(cfg, "retries"), "max_attempts", 0));
	printf("engine       ");
	if (jget_bool(eng, "available")) {
		printf("heap engine at ");
		table_puts_clean(stdout, jget_str(eng, "path"), 0);
		printf("\n");
	} else {
		printf("%sheap engine (dumpscout-heap) not found%s: .NET dumps are triaged but not analysed (make engine builds it)\n",
		       color ? "\033[33m" : "", color ? "\033[0m" : "");
	}
	printf("mail         %s; outbox queued %lld, sending %lld, sent %lld, failed %lld",
	       jget_bool(cfg, "mail_configured") ? "configured" : "not configured",
	       (long long)jget_num(ob, "queued", 0), (long long)jget_num(ob, "sending", 0),
	       (long long)jget_num(ob, "sent", 0), (long long)jget_num(ob, "failed", 0));
	if (jget_str(kv, "mail.last_digest_at") != NULL) {
		int64_t v = 0;

		if (cursor_parse_int(jget_str(kv, "mail.last_digest_at"), 0, INT64_MAX, &v) == DS_OK && v > 0) {
			when_format(v, 0, t, sizeof(t));
			printf("; last digest %s UTC", t);
		}
	}
	printf("\n");
	status_fleet(jget_obj(s, "fleet"));
	status_share(jget_obj(s, "share"));
}

int cmd_status(int argc, char **argv)
{
	struct dbopen_opts dbo = { NULL, NULL };
	struct store *st = NULL;
	struct ds_err e = { 0 };
	cJSON *s = NULL, *fl = NULL;
	int i, r, mode = TABLE_TEXT, code = DS_EXIT_BADINPUT, rc;

	for (i = 1; i < argc; i++) {
		if ((r = dbopen_common_arg("status", argc, argv, &i, &dbo, NULL, status_usage, &code)) != 0) {
			if (r < 0)
				goto out;
		} else if (strcmp(argv[i], "--json") == 0) {
			mode = TABLE_JSON;
		} else {
			cli_error("status", "unknown argument '%s' (see dumpscout status --help)", argv[i]);
			goto out;
		}
	}
	code = dbopen_open("status", &dbo, 0, &st);
	if (code != DS_EXIT_OK)
		goto out;
	rc = store_status_get(st, &s, &e);
	if (rc != DS_OK) {
		code = dbopen_fail("status", rc, &e);
		goto out;
	}
	/* the fleet outbox (schema 2): its counters sit beside the service's */
	if (store_fleet_status(st, &fl, &e) == DS_OK && !cJSON_AddItemToObject(s, "fleet", fl))
		cJSON_Delete(fl);
	/* the dump share's copies (schema 4; 'pending' since 5), when there are any */
	fl = NULL;
	if (store_share_status(st, &fl, &e) == DS_OK &&
	    (jget_num(fl, "copied", 0) == 0 && jget_num(fl, "failed", 0) == 0 && jget_num(fl, "pending", 0) == 0
		     ? 1
		     : !cJSON_AddItemToObject(s, "share", fl)))
		cJSON_Delete(fl);
	rc = status_annotate(s, plat_now_ms());
	if (rc == DS_OK && !cJSON_AddStringToObject(s, "database", store_path(st)))
		rc = DS_ENOMEM;
	if (rc == DS_OK && mode == TABLE_JSON)
		rc = table_print_json(stdout, s);
	else if (rc == DS_OK)
		status_text(s, store_path(st), cli_use_color(1));
	if (rc != DS_OK) {
		cli_error("status", "%s", ds_strerror(rc));
		code = DS_EXIT_FAIL;
	}
out:
	cJSON_Delete(s);
	store_close(st);
	return code;
}
