/* cmd_config.c - `dumpscout config check [--config FILE]`: validates the service's configuration file
 * with the service's own parser (config_check) and prints every problem with its key, or "FILE: ok".
 * It does not start anything or touch the database. */
#include "cli.h"
#include "core/ds.h"
#include "lib/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void config_usage(FILE *f)
{
	fprintf(f,
		"usage: dumpscout config check [--config FILE]\n\n"
		"Validates the service's configuration file and prints each problem with the key it is about\n"
		"(unknown keys, wrong types, values out of range, a mail section that does not parse), or\n"
		"\"FILE: ok\". Every key is documented in docs/service.md and docs/mail.md.\n\n"
		"  --config FILE    the file to check (default " CONFIG_DEFAULT_PATH ")\n\n"
		"Exit codes: 0 valid, 1 the file cannot be read, 2 the file has problems or bad arguments.\n"
		"Example: dumpscout config check --config /etc/dumpscout/dumpscout.json\n");
}

int cmd_config(int argc, char **argv)
{
	const char *path = config_default_path();
	int i;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		config_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? DS_EXIT_BADINPUT : DS_EXIT_OK;
	}
	if (strcmp(argv[1], "check") != 0) {
		cli_error("config", "unknown subcommand '%s' (only 'check')", argv[1]);
		return DS_EXIT_BADINPUT;
	}
	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			path = argv[++i];
		} else if (strncmp(argv[i], "--config=", 9) == 0 && argv[i][9] != '\0') {
			path = argv[i] + 9;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			config_usage(stdout);
			return DS_EXIT_OK;
		} else {
			cli_error("config", "unknown argument '%s' (see dumpscout config --help)", argv[i]);
			return DS_EXIT_BADINPUT;
		}
	}
	/* every section, "mail" included, is checked by the same parser that loads it */
	return config_check(path, stdout);
}
