/* cmd_service.c - `dumpscout service install|uninstall|start|stop|status`: the Windows service through
 * the service control manager, for machines that do not use the MSI (lib/svcctl_win.c does the
 * work). On other systems it says that this is a Windows command (systemd runs dumpscoutd there). */
#include "cli.h"
#include "core/ds.h"

#include <stdio.h>
#include <string.h>

#ifdef _WIN32
#include "lib/svcctl.h"
#endif

static void cmd_service_usage(FILE *f)
{
	fprintf(f, "usage: dumpscout service install|uninstall|start|stop|status [--json]\n\n"
		   "The Windows service 'dumpscout' (dumpscoutd.exe, LocalSystem, automatic start, restarted on\n"
		   "failure), for machines without the MSI.\n\n"
		   "  install    register dumpscoutd.exe from this program's folder and the Event Log source\n"
		   "  uninstall  stop it, revert the WER LocalDumps values, remove it; the data folder\n"
		   "             %%ProgramData%%\\dumpscout is kept (rmdir /s /q it to remove the data too)\n"
		   "  start      start it and wait until it runs\n"
		   "  stop       stop it and wait until it has stopped\n"
		   "  status     its state and process id (--json: one JSON object)\n\n"
		   "All but status need an administrator. Example: dumpscout service install && dumpscout service start\n");
}

int cmd_service(int argc, char **argv)
{
	const char *action = NULL;
	int i, json = 0, code = DS_EXIT_OK;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			cmd_service_usage(stdout);
			return DS_EXIT_OK;
		} else if (strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else if (action == NULL && argv[i][0] != '-') {
			action = argv[i];
		} else {
			cli_error("service", "unexpected argument '%s' (see 'dumpscout service --help')", argv[i]);
			return DS_EXIT_BADINPUT;
		}
	}
	if (action == NULL || (strcmp(action, "install") != 0 && strcmp(action, "uninstall") != 0 &&
			       strcmp(action, "start") != 0 && strcmp(action, "stop") != 0 &&
			       strcmp(action, "status") != 0)) {
		cmd_service_usage(stderr);
		return DS_EXIT_BADINPUT;
	}
#ifndef _WIN32
	(void)json;
	cli_error("service", "'service %s' is a Windows command; on Linux systemd runs dumpscoutd "
			     "(installer/dumpscoutd.service)", action);
	code = DS_EXIT_BADINPUT;
#else
	{
		struct ds_err e = { 0 };
		int rc;

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
	}
#endif
	return code;
}
