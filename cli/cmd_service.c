/* cmd_service.c - `dumpscout service install|uninstall|start|stop|status`: the Windows service through
 * the service control manager, for machines that do not use the MSI. This is the usage and the
 * arguments; cmd_service_win.c does the work (through lib/svcctl_win.c), cmd_service_posix.c says that
 * this is a Windows command (systemd runs dumpscoutd there). */
#include "cli.h"
#include "core/ds.h"

#include <stdio.h>
#include <string.h>

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
	int i, json = 0;

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
	return cmd_service_run(action, json);
}
