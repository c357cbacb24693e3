/* main.c - the `dumpscout` command: finds the subcommand and hands it the arguments. The commands
 * themselves are in cli/cmd_*.c; this file knows only their names. */
#include "cli.h"
#include "source.h"
#include "core/ds.h"
#include "core/plat.h"
#include "lib/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct cli_command commands[] = {
	{ "inspect", cmd_inspect, "read crash dumps natively: process, exception, modules, runtime, bucket" },
	{ "analyze", cmd_analyze, "find what keeps .NET AssemblyLoadContexts alive in a heap dump (SOS)" },
	{ "collect", cmd_collect, "collect enable|disable|status: make .NET services write dumps for dumpscoutd" },
	{ "mail", cmd_mail, "mail test: send a test message with the service's mail settings" },
	{ "list", cmd_list, "the dumps the service recorded, newest first, with filters" },
	{ "show", cmd_show, "everything known about one dump (or 'show bucket ID')" },
	{ "buckets", cmd_buckets, "crash buckets and root signatures: counts, first/last seen, trend" },
	{ "roots", cmd_roots, "the leak view: what keeps contexts alive, grouped by signature" },
	{ "status", cmd_status, "service heartbeat, queue, last error, dump-folder usage, engine" },
	{ "report", cmd_report, "summary of a period as text, HTML or JSON; --send mails it" },
	{ "reanalyze", cmd_reanalyze, "put dumps back in the queue (ID... or --failed)" },
	{ "purge", cmd_purge, "apply the retention quotas now (--dry-run to preview)" },
	{ "config", cmd_config, "config check: validate the service's configuration file" },
	{ "service", cmd_service, "service install|uninstall|start|stop|status: the Windows service" },
	{ "wer", cmd_wer, "wer apply|revert|status: Windows Error Reporting LocalDumps for the service" },
	{ "fleet", cmd_fleet, "fleet init|status: the fleet's central PostgreSQL (see --fleet)" },
};

static void main_usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: dumpscout COMMAND [ARGS...]\n\n"
		   "Crash-dump collection and triage: reads Windows minidumps and Linux cores, finds what keeps\n"
		   "a .NET AssemblyLoadContext alive, and answers questions about the dumps the service collected.\n\n"
		   "Commands:\n");
	for (i = 0; i < DS_ARRAY_LEN(commands); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nWith --fleet, list, show, buckets, roots and report ask the fleet's central database\n"
		   "(--host NAME: one machine); see docs/fleet.md.\n");
	fprintf(f, "\nRun 'dumpscout COMMAND --help' for a command's options and an example.\n"
		   "Exit codes: 0 success, 1 operational failure, 2 bad input or arguments.\n");
}

/* On Windows the service keeps its data in %ProgramData%\dumpscout: the commands' default database is
 * there too. plat_common_data_dir() is NULL elsewhere. */
static void main_windows_defaults(void)
{
	char *pd = plat_common_data_dir(), *d;
	size_t n;

	if (pd == NULL)
		return;
	n = strlen(pd) + sizeof("\\dumpscout");
	d = malloc(n);
	if (d != NULL) {
		snprintf(d, n, "%s\\dumpscout", pd);
		config_set_default_data_dir(d);
	}
	free(d);
	free(pd);
}

int main(int argc, char **argv)
{
	size_t i;

	/* Windows hands arguments in the local code page: file names are UTF-8 everywhere inside. */
	if (plat_args_utf8(&argc, &argv) != DS_OK) {
		fprintf(stderr, "dumpscout: cannot read the command line\n");
		return DS_EXIT_FAIL;
	}
	main_windows_defaults();
	if (cli_fleet_args(&argc, argv) != 0)
		return DS_EXIT_BADINPUT;
	if (argc < 2) {
		main_usage(stderr);
		return DS_EXIT_BADINPUT;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		main_usage(stdout);
		return DS_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		printf("dumpscout %s\n", DS_VERSION);
		return DS_EXIT_OK;
	}
	for (i = 0; i < DS_ARRAY_LEN(commands); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "dumpscout: unknown command '%s'\n\n", argv[1]);
	main_usage(stderr);
	return DS_EXIT_BADINPUT;
}
