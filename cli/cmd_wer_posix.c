/* cmd_wer_posix.c - `dumpscout wer` outside Windows: there is no Windows Error Reporting here; createdump
 * collects .NET dumps (`dumpscout collect`). */
#include "cli.h"
#include "core/ds.h"

int cmd_wer_run(const char *action, const char *cfgpath, int json)
{
	(void)cfgpath;
	(void)json;
	cli_error("wer", "'wer %s' is a Windows command (WER LocalDumps); on Linux, use 'dumpscout collect'", action);
	return DS_EXIT_BADINPUT;
}
