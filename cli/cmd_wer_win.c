/* cmd_wer_win.c - `dumpscout wer` on Windows: loads the service's config, finds the saved values in
 * %ProgramData%\dumpscout and runs one action of lib/wer_win.c. */
#include "cli.h"
#include "core/ds.h"
#include "lib/svcctl.h"
#include "lib/wer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmd_wer_run(const char *action, const char *cfgpath, int json)
{
	struct config cfg;
	struct ds_err e = { 0 };
	char *data = NULL, *saved = NULL;
	int rc, code = DS_EXIT_OK, warnings = 0, reverted = 0;

	rc = svcctl_config_load(cfgpath, &cfg, &e);
	if (rc != DS_OK) {
		cli_error("wer", "%s", e.msg);
		code = ds_exit_code(rc);
		goto out;
	}
	data = svcctl_data_dir();
	saved = data != NULL ? svcctl_join(data, WER_SAVED_FILE) : NULL;
	if (saved == NULL) {
		cli_error("wer", "cannot find the ProgramData folder");
		code = DS_EXIT_FAIL;
		goto out;
	}
	if (strcmp(action, "apply") == 0) {
		rc = wer_apply(&cfg, saved, stdout, &e);
	} else if (strcmp(action, "revert") == 0) {
		rc = wer_revert(saved, stdout, &reverted, &e);
		if (rc == DS_OK && !reverted)
			printf("nothing to revert: dumpscout has not changed LocalDumps (no %s)\n", saved);
	} else {
		rc = wer_status(&cfg, saved, stdout, json, &warnings);
		if (rc != DS_OK)
			ds_err_setn(&e, rc, "%s", ds_strerror(rc));
	}
	if (rc != DS_OK) {
		cli_error("wer", "%s", e.msg);
		code = rc == DS_ECORRUPT ? DS_EXIT_BADINPUT : DS_EXIT_FAIL;
	}
out:
	free(saved);
	free(data);
	config_free(&cfg);
	return code;
}
