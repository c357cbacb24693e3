/* cmd_collect_win.c - `dumpscout collect` on Windows: collection there is Windows Error Reporting's
 * LocalDumps key, not .NET's createdump variables, so this command points to the right one. */
#include "cli.h"
#include "core/ds.h"

#include <stdio.h>

int cmd_collect(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	cli_error("collect", "on Windows, crash-dump collection is Windows Error Reporting's LocalDumps key: "
			     "use 'dumpscout wer apply|revert|status' (the service applies it at start)");
	return DS_EXIT_BADINPUT;
}
