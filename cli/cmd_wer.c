/* cmd_wer.c - `dumpscout wer apply|revert|status`: Windows Error Reporting's LocalDumps key as the
 * service configures it. This is the usage and the arguments; cmd_wer_win.c does the work (through
 * lib/wer_win.c), cmd_wer_posix.c says that this is a Windows command. It does not start or stop the
 * service. */
#include "cli.h"
#include "core/ds.h"

#include <stdio.h>
#include <string.h>

static void cmd_wer_usage(FILE *f)
{
	fprintf(f, "usage: dumpscout wer apply|revert|status [--config FILE] [--json]\n\n"
		   "Windows Error Reporting's LocalDumps key (HKLM\\SOFTWARE\\Microsoft\\Windows\\Windows Error\n"
		   "Reporting\\LocalDumps), as the service sets it at start from the \"wer\" section of its config.\n\n"
		   "  apply    write DumpFolder, DumpCount, DumpType (and CustomDumpFlags for type 0), globally and\n"
		   "           for each application in wer.applications; the values there before the first change\n"
		   "           are saved in %%ProgramData%%\\dumpscout\\" "wer-saved.json\n"
		   "  revert   put back exactly what was there before (absent values are removed again)\n"
		   "  status   the values and their types, the dump folder's ACL, the AeDebug debugger, the SOS\n"
		   "           engine, and a warning for everything that would stop dumps being collected\n\n"
		   "  --config FILE   the service's config (default %%ProgramData%%\\dumpscout\\dumpscout.json)\n"
		   "  --json          status as one JSON object\n\n"
		   "apply and revert need an administrator. Example: dumpscout wer status\n");
}

int cmd_wer(int argc, char **argv)
{
	const char *action = NULL, *cfgpath = NULL;
	int i, json = 0;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			cmd_wer_usage(stdout);
			return DS_EXIT_OK;
		} else if (strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			cfgpath = argv[++i];
		} else if (action == NULL && argv[i][0] != '-') {
			action = argv[i];
		} else {
			cli_error("wer", "unexpected argument '%s' (see 'dumpscout wer --help')", argv[i]);
			return DS_EXIT_BADINPUT;
		}
	}
	if (action == NULL || (strcmp(action, "apply") != 0 && strcmp(action, "revert") != 0 &&
			       strcmp(action, "status") != 0)) {
		cmd_wer_usage(stderr);
		return DS_EXIT_BADINPUT;
	}
	return cmd_wer_run(action, cfgpath, json);
}
