/* daemon_args.c - dumpscoutd's options (see daemon_args.h). Parsing and the one-shot mail modes only; it
 * starts no loop and no service. */
#include "daemon_args.h"
#include "mailcmd.h"
#include "core/ds.h"

#include <stdio.h>
#include <string.h>

int daemon_args_parse(int argc, char **argv, int allow_console, struct daemon_args *a)
{
	int i;

	memset(a, 0, sizeof(*a));
	for (i = 1; i < argc; i++) {
		const char *s = argv[i];
		int has_value = i + 1 < argc;
		if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) {
			a->help = 1;
		} else if (strcmp(s, "--version") == 0) {
			a->version = 1;
		} else if (strcmp(s, "--check-config") == 0) {
			a->check = 1;
		} else if (strcmp(s, "--mail-test") == 0) {
			a->mail_test = 1;
		} else if (strcmp(s, "--send-outbox") == 0) {
			a->send_outbox = 1;
		} else if (allow_console && strcmp(s, "--console") == 0) {
			a->console = 1;
		} else if (strcmp(s, "--config") == 0 && has_value) {
			a->config = argv[++i];
		} else if (strcmp(s, "--db") == 0 && has_value) {
			a->db = argv[++i];
		} else if (strcmp(s, "--log-level") == 0 && has_value) {
			a->level = argv[++i];
		} else {
			fprintf(stderr, "dumpscoutd: unknown option or missing value: '%s'\n\n", s);
			return DS_EINVAL;
		}
	}
	if (a->level != NULL && log_level_parse(a->level, &a->lvl) != DS_OK) {
		fprintf(stderr, "dumpscoutd: --log-level must be error, warn, info or debug (got '%s')\n", a->level);
		return DS_EINVAL;
	}
	return DS_OK;
}

int daemon_args_oneshot(const struct daemon_args *a, int *code)
{
	if (!a->mail_test && !a->send_outbox)
		return 0;
	/* What `dumpscout mail test` and `dumpscout report --send` run: only this program sends mail. */
	if (a->config == NULL) {
		fprintf(stderr, "dumpscoutd: %s needs --config FILE with a \"mail\" section\n",
			a->mail_test ? "--mail-test" : "--send-outbox");
		*code = DS_EXIT_BADINPUT;
	} else {
		*code = a->mail_test ? mailcmd_test(a->config) : mailcmd_send_outbox(a->config, a->db);
	}
	return 1;
}
