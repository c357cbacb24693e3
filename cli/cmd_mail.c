/* cmd_mail.c - `dumpscout mail test`: sends a test message now with the service's mail settings and
 * prints the SMTP server's answer, so a configuration can be checked before the first digest is due.
 * dumpscoutd sends it (only the service's program links the SMTP transport); this is argument handling. It does
 * not touch the database or the outbox. */
#include "cli.h"
#include "core/ds.h"
#include "core/plat.h"
#include "lib/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void mail_usage(FILE *f)
{
	fprintf(f, "usage: dumpscout mail test [--config FILE]\n\n"
		   "Sends a test message now to the recipients of the config's \"mail\" section, over the\n"
		   "configured SMTP server (STARTTLS/TLS and login as configured), and prints the server's answer.\n"
		   "The message does not go through the outbox.\n\n"
		   "  --config FILE   the service's config (default " CONFIG_DEFAULT_PATH ")\n\n"
		   "Exit codes: 0 the server accepted the message, 1 delivery failed, 2 bad config or arguments.\n"
		   "Example: dumpscout mail test --config /etc/dumpscout/dumpscout.json\n");
}

/* The SMTP transport lives in dumpscoutd (the CLI does not load libcurl): it sends the message. */
static int mail_test(const char *cfgpath)
{
	const char *args[] = { "--config", cfgpath, "--mail-test", NULL };

	return cli_run_service_tool("mail", args);
}

int cmd_mail(int argc, char **argv)
{
	const char *cfgpath = config_default_path();
	int i;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		mail_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? DS_EXIT_BADINPUT : DS_EXIT_OK;
	}
	if (strcmp(argv[1], "test") != 0) {
		cli_error("mail", "unknown subcommand '%s' (only 'test')", argv[1]);
		return DS_EXIT_BADINPUT;
	}
	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			cfgpath = argv[++i];
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			mail_usage(stdout);
			return DS_EXIT_OK;
		} else {
			cli_error("mail", "unknown argument '%s'", argv[i]);
			mail_usage(stderr);
			return DS_EXIT_BADINPUT;
		}
	}
	return mail_test(cfgpath);
}
