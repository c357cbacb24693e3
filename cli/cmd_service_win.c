/* cmd_service_win.c - `dumpscout service` on Windows: one action through lib/svcctl_win.c, which talks
 * to the service control manager and waits for the state it asked for. */
#include "cli.h"
#include "core/ds.h"
#include "lib/svcctl.h"

#include <stdio.h>
#include <string.h>

int cmd_service_run(const char *action, int json)
{
	struct ds_err e = { 0 };
	int rc, code = DS_EXIT_OK;

	if (strcmp(action, "install") == 0)
		rc = svcctl_install(stdout, &e);
	else if (strcmp(action, "uninstall") == 0)
		rc = svcctl_uninstall(stdout, &e);
	else if (strcmp(action, "start") == 0)
		rc = svcctl_start(SVCCTL_STOP_WAIT_MS, stdout, &e);
	else if (strcmp(action, "stop") == 0)
		rc = svcctl_stop(SVCCTL_STOP_WAIT_MS, stdout, &e);
	else
		rc = svcctl_status(stdout, json, &e);
	if (rc != DS_OK) {
		cli_error("service", "%s", e.msg);
		code = DS_EXIT_FAIL;
	}
	return code;
}
