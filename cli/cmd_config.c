/* cmd_config.c - `dumpscout config check [--config FILE]`: validates the service's configuration file
 * with the service's own parser (config_check) and prints every problem with its key, or "FILE: ok".
 * It does not start anything or touch the database. */
#include "cli.h"
#include "core/ds.h"
#include "lib/config.h"
#include "lib/mail.h"

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

/* config_check validates the service's keys; the "mail" section belongs to the mailer, so check it with
 * the mailer's parser too (relative paths are taken from the config file's folder). */
static int config_check_mail(const char *path)
{
	struct config cfg;
	struct mail_config *mc = NULL;
	struct ds_err e = { 0 };
	char *dir = NULL;
	int code = DS_EXIT_OK, rc;

	memset(&cfg, 0, sizeof(cfg));
	if (config_load(path, &cfg, &e) != DS_OK || cfg.mail == NULL)
		goto out;
	dir = config_file_dir(path);
	rc = mail_config_parse(cfg.mail, dir, &mc, &e);
	if (rc != DS_OK) {
		printf("%s: %s\n", path, e.msg[0] ? e.msg : ds_strerror(rc));
		code = rc == DS_ENOMEM ? DS_EXIT_FAIL : DS_EXIT_BADINPUT;
	}
out:
	mail_config_free(mc);
	config_free(&cfg);
	free(dir);
	return code;
}

int cmd_config(int argc, char **argv)
{
	const char *path = config_default_path();
	int i, code, mail_code = DS_EXIT_OK;
	FILE *tmp;
	char buf[4096];
	size_t n;

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
	/* config_check prints "FILE: ok" at once: hold its output back until the mail section is checked
	 * (config_check_mail prints its own problem). */
	tmp = tmpfile();
	code = config_check(path, tmp != NULL ? tmp : stdout);
	if (code == DS_EXIT_OK)
		mail_code = config_check_mail(path);
	if (tmp != NULL) {
		rewind(tmp);
		while (mail_code == DS_EXIT_OK && (n = fread(buf, 1, sizeof(buf), tmp)) > 0)
			fwrite(buf, 1, n, stdout);
		fclose(tmp);
	}
	if (code == DS_EXIT_OK)
		code = mail_code;
	return code;
}
