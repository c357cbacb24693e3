/* cmd_mail.c - `dumpscout mail test`: sends a test message now with the service's mail settings and
 * prints the SMTP server's answer, so a configuration can be checked before the first digest is due.
 * Delivery and validation are service/mail.c's; this is argument handling and wording only. It does
 * not touch the database or the outbox. */
#include "cli.h"
#include "../core/ds.h"
#include "../core/plat.h"
#include "../service/config.h"
#include "../service/mail.h"
#include "../service/mime.h"

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

/* The folder of a config file path (malloc'd), or NULL for the current folder. */
static char *mail_cfg_dir(const char *file)
{
	const char *slash = file != NULL ? strrchr(file, '/') : NULL;
	char *d;

	if (slash == NULL)
		return NULL;
	d = malloc((size_t)(slash - file) + 2);
	if (d == NULL)
		return NULL;
	memcpy(d, file, (size_t)(slash - file));
	d[slash - file] = '\0';
	if (slash == file)
		strcpy(d, "/");
	return d;
}

static int mail_test(const char *cfgpath)
{
	struct config cfg;
	struct mail_config *mc = NULL;
	struct mail_result res;
	struct mime_message mm;
	struct ds_err e = { 0 };
	unsigned char rnd[8];
	char msgid[400], tok[17], subject[200], text[1200], html[1600], *dir = NULL, *msg = NULL;
	const char *dom;
	size_t len, i;
	int rc, exit_code = DS_EXIT_FAIL;

	memset(&cfg, 0, sizeof(cfg));
	rc = config_load(cfgpath, &cfg, &e);
	if (rc != DS_OK) {
		cli_error("mail", "%s", e.msg);
		exit_code = ds_exit_code(rc);
		goto out;
	}
	if (cfg.mail == NULL) {
		cli_error("mail", "%s has no \"mail\" section: see docs/mail.md", cfgpath);
		exit_code = DS_EXIT_BADINPUT;
		goto out;
	}
	dir = mail_cfg_dir(cfg.file != NULL ? cfg.file : cfgpath);
	rc = mail_config_parse(cfg.mail, dir, &mc, &e);
	if (rc != DS_OK) {
		cli_error("mail", "%s: %s", cfgpath, e.msg);
		exit_code = DS_EXIT_BADINPUT;
		goto out;
	}
	if (plat_random_bytes(rnd, sizeof(rnd)) != DS_OK) {
		cli_error("mail", "no random source");
		goto out;
	}
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(tok + 2 * i, 3, "%02x", rnd[i]);
	dom = strchr(mc->from.addr, '@');
	mime_message_id(0, tok, dom ? dom + 1 : NULL, msgid, sizeof(msgid));
	snprintf(subject, sizeof(subject), "%s%stest message", mc->subject_prefix, mc->subject_prefix[0] ? " " : "");
	snprintf(text, sizeof(text),
		 "This is a test message from dumpscout %s.\n\n"
		 "It was sent by `dumpscout mail test` through %s:%u to check the mail settings.\n"
		 "Digests and alerts will arrive from the same sender.\n",
		 DS_VERSION, mc->server, mc->port);
	snprintf(html, sizeof(html),
		 "<!DOCTYPE html><html><body><p>This is a test message from <b>dumpscout %s</b>.</p>"
		 "<p>It was sent by <code>dumpscout mail test</code> through %s:%u to check the mail settings. "
		 "Digests and alerts will arrive from the same sender.</p></body></html>\n",
		 DS_VERSION, mc->server, mc->port);
	memset(&mm, 0, sizeof(mm));
	mm.from = &mc->from;
	mm.to = mc->to;
	mm.to_count = mc->to_count;
	mm.subject = subject;
	mm.text = text;
	mm.text_len = strlen(text);
	mm.html = html;
	mm.html_len = strlen(html);
	mm.date_ms = plat_now_ms();
	mm.message_id = msgid;
	mm.max_bytes = mc->max_message_bytes;
	rc = mime_build(&mm, &msg, &len, NULL, &e);
	if (rc != DS_OK) {
		cli_error("mail", "cannot build the test message: %s", e.msg);
		goto out;
	}
	if (mail_global_init() != DS_OK) {
		cli_error("mail", "cannot initialise libcurl");
		goto out;
	}
	rc = mail_send(mc, msg, len, mc->to, mc->to_count, &res);
	mail_global_cleanup();
	if (rc == DS_OK) {
		printf("sent %s to", msgid);
		for (i = 0; i < mc->to_count; i++)
			printf("%s %s", i ? "," : "", mc->to[i].addr);
		printf("\nserver %s:%u answered: %s\n", mc->server, mc->port, res.smtp_text);
		exit_code = DS_EXIT_OK;
	} else {
		cli_error("mail", "%s", res.error);
		exit_code = res.outcome == MAIL_CONFIG && rc != DS_ENET ? DS_EXIT_BADINPUT : DS_EXIT_FAIL;
	}
out:
	free(msg);
	free(dir);
	mail_config_free(mc);
	config_free(&cfg);
	return exit_code;
}

int cmd_mail(int argc, char **argv)
{
	const char *cfgpath = CONFIG_DEFAULT_PATH;
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
