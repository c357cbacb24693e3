/* cmd_purge.c - `dumpscout purge [--dry-run]`: applies the retention quotas now, with the service's
 * own retention_run (oldest raw files first, never a dump still queued nor the newest of a bucket; rows
 * and analyses stay). The quotas come from --config, else from the configuration the running service
 * reported in its status row, else the defaults. It only deletes raw files the store lists. */
#include "cli.h"
#include "dbopen.h"
#include "lib/jget.h"
#include "table.h"
#include "core/plat.h"
#include "core/store.h"
#include "lib/config.h"
#include "lib/retention.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

static void purge_usage(FILE *f)
{
	fprintf(f,
		"usage: dumpscout purge [--dry-run]\n\n"
		"Applies the retention quotas (retention.max_count, max_bytes, max_age_days) now: deletes raw dump\n"
		"files oldest first, never one still waiting for triage or analysis and never the newest dump of a\n"
		"bucket. The database rows and analyses are kept. The quotas are those of --config FILE, else the\n"
		"ones the running service reported, else the defaults.\n\n"
		"  --dry-run        only say what would be deleted\n"
		DBOPEN_HELP "\n"
		"Exit codes: 0 ok, 1 a file could not be deleted or the database cannot be written, 2 bad arguments.\n"
		"Example: dumpscout purge --dry-run\n");
}

int cmd_purge(int argc, char **argv)
{
	struct dbopen_opts dbo = { NULL, NULL };
	struct retention_quota q;
	struct retention_report rep;
	struct config cfg;
	struct store *st = NULL;
	struct ds_err e = { 0 };
	cJSON *status = NULL;
	const cJSON *ret = NULL;
	const char *from = "the defaults";
	char b1[40], b2[40], qb[40];
	int i, r, dry = 0, code = DS_EXIT_BADINPUT, rc, found = 0;

	memset(&cfg, 0, sizeof(cfg));
	for (i = 1; i < argc; i++) {
		if ((r = dbopen_common_arg("purge", argc, argv, &i, &dbo, NULL, purge_usage, &code)) != 0) {
			if (r < 0)
				goto out;
		} else if (strcmp(argv[i], "--dry-run") == 0 || strcmp(argv[i], "-n") == 0) {
			dry = 1;
		} else {
			cli_error("purge", "unknown argument '%s' (see dumpscout purge --help)", argv[i]);
			goto out;
		}
	}
	if (dbo.config != NULL) {
		code = dbopen_config("purge", &dbo, &cfg, &found);
		if (code != DS_EXIT_OK)
			goto out;
	} else if (config_defaults(&cfg) != DS_OK) {
		code = DS_EXIT_FAIL;
		goto out;
	}
	code = dbopen_open("purge", &dbo, !dry, &st);
	if (code != DS_EXIT_OK)
		goto out;
	q.max_count = cfg.max_count;
	q.max_bytes = cfg.max_bytes;
	q.max_age_days = cfg.max_age_days;
	if (found) {
		from = cfg.file;
	} else if (store_status_get(st, &status, &e) == DS_OK &&
		   (ret = jget_obj(jget_obj(jget_obj(status, "service"), "config"), "retention")) != NULL) {
		q.max_count = (uint64_t)jget_num(ret, "max_count", (int64_t)q.max_count);
		q.max_bytes = (uint64_t)jget_num(ret, "max_bytes", (int64_t)q.max_bytes);
		q.max_age_days = (uint32_t)jget_num(ret, "max_age_days", (int64_t)q.max_age_days);
		from = "the running service's configuration";
	}
	table_format_size((int64_t)q.max_bytes, qb, sizeof(qb));
	printf("quotas (from %s): ", from);
	printf(q.max_count ? "at most %llu files, " : "no file count limit%.0llu, ", (unsigned long long)q.max_count);
	printf(q.max_bytes ? "%s, " : "no size limit%s, ", q.max_bytes ? qb : "");
	printf(q.max_age_days ? "%u days\n" : "no age limit%.0u\n", (unsigned)q.max_age_days);
	memset(&rep, 0, sizeof(rep));
	rc = retention_run(st, &q, plat_now_ms(), dry, &rep, &e);
	if (rc != DS_OK) {
		code = dbopen_fail("purge", rc, &e);
		goto out;
	}
	table_format_size((int64_t)rep.bytes_before, b1, sizeof(b1));
	table_format_size((int64_t)rep.bytes_deleted, b2, sizeof(b2));
	printf("%s %zu of %zu raw file(s), %s of %s%s\n", dry ? "would delete" : "deleted", rep.deleted,
	       rep.files_before, b2, b1, dry ? " (dry run: nothing deleted)" : "");
	if (rep.errors > 0) {
		cli_error("purge", "%zu file(s) could not be deleted (see the log lines above)", rep.errors);
		code = DS_EXIT_FAIL;
	}
out:
	cJSON_Delete(status);
	config_free(&cfg);
	store_close(st);
	return code;
}
