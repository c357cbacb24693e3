/* cmd_reanalyze.c - `dumpscout reanalyze ID...|--failed`: puts dumps back in the service's queue (the
 * store's store_dump_requeue / store_requeue_failed): triaged dumps go back to analysis, the others to
 * triage, with attempts reset. The running service picks them up; this command does no analysis. */
#include "cli.h"
#include "dbopen.h"
#include "table.h"
#include "core/plat.h"
#include "core/store.h"
#include "core/cursor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void reanalyze_usage(FILE *f)
{
	fprintf(f,
		"usage: dumpscout reanalyze ID... | --failed\n\n"
		"Puts dumps back in the service's queue: a triaged dump is analysed again, any other dump is\n"
		"triaged again; attempts and the last error are reset. dumpscoutd picks them up within seconds.\n"
		"A dump whose raw file was deleted by retention cannot be analysed again.\n\n"
		"  --failed         every dump in state 'failed'\n"
		DBOPEN_HELP "\n"
		"Exit codes: 0 queued, 1 no such dump (or already deleted) or the database cannot be written,\n"
		"2 bad arguments.\n"
		"Examples: dumpscout reanalyze 42 43\n"
		"          dumpscout reanalyze --failed\n");
}

int cmd_reanalyze(int argc, char **argv)
{
	struct dbopen_opts dbo = { NULL, NULL };
	struct store *st = NULL;
	struct ds_err e = { 0 };
	int64_t *ids = NULL, n = 0, k;
	int i, r, failed = 0, code = DS_EXIT_BADINPUT, rc;

	ids = calloc((size_t)argc + 1, sizeof(*ids));
	if (ids == NULL) {
		code = DS_EXIT_FAIL;
		goto out;
	}
	for (i = 1; i < argc; i++) {
		if ((r = dbopen_common_arg("reanalyze", argc, argv, &i, &dbo, NULL, reanalyze_usage, &code)) != 0) {
			if (r < 0)
				goto out;
		} else if (strcmp(argv[i], "--failed") == 0) {
			failed = 1;
		} else if (cursor_parse_int(argv[i], 1, INT64_MAX, &ids[n]) == DS_OK) {
			n++;
		} else {
			cli_error("reanalyze", "'%s' is not a dump id (see dumpscout list) or an option", argv[i]);
			goto out;
		}
	}
	if ((n == 0) == (failed == 0)) {
		cli_error("reanalyze", "give dump ids or --failed (not both)");
		reanalyze_usage(stderr);
		goto out;
	}
	code = dbopen_open("reanalyze", &dbo, 1, &st);
	if (code != DS_EXIT_OK)
		goto out;
	if (failed) {
		rc = store_requeue_failed(st, plat_now_ms(), &k, &e);
		if (rc != DS_OK) {
			code = dbopen_fail("reanalyze", rc, &e);
			goto out;
		}
		printf("queued %lld failed dump(s) again\n", (long long)k);
		goto out;
	}
	for (k = 0; k < n; k++) {
		rc = store_dump_requeue(st, ids[k], plat_now_ms(), &e);
		if (rc == DS_ENOENT) {
			cli_error("reanalyze", "dump %lld: no such dump, or its raw file was deleted", (long long)ids[k]);
			code = DS_EXIT_FAIL;
		} else if (rc != DS_OK) {
			code = dbopen_fail("reanalyze", rc, &e);
			goto out;
		} else {
			printf("dump %lld queued again\n", (long long)ids[k]);
		}
	}
out:
	free(ids);
	store_close(st);
	return code;
}
