/* mailcmd.c - the mail commands that need the SMTP transport, run by dumpscoutd on behalf of the CLI
 * (`dumpscout mail test` and `dumpscout report --send` start `dumpscoutd --mail-test` / `--send-outbox`),
 * so the CLI itself never loads libcurl. Output and exit codes are those of the CLI commands. */
#include "mailcmd.h"
#include "lib/config.h"
#include "smtp.h"
#include "lib/mail.h"
#include "lib/mime.h"
#include "core/ds.h"
#include "core/plat.h"
#include "core/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int mailcmd_test(const char *cfgpath)
{
	struct config cfg;
	struct mail_config *mc = NULL;
	struct mail_result res;
	struct mime_message mm;
	struct ds_err e = { 0 };
	unsigned char rnd[8];
	char msgid[400], tok[17], subject[200], text[1200], html[1600], *msg = NULL;
	const char *dom;
	size_t len, i;
	int rc, exit_code = DS_EXIT_FAIL;

	memset(&cfg, 0, sizeof(cfg));
	rc = config_load(cfgpath, &cfg, &e);
	if (rc != DS_OK) {
		fprintf(stderr, "dumpscout mail: %s\n", e.msg);
		exit_code = ds_exit_code(rc);
		goto out;
	}
	if (cfg.mail == NULL) {
		fprintf(stderr, "dumpscout mail: %s has no \"mail\" section: see docs/mail.md\n", cfgpath);
		exit_code = DS_EXIT_BADINPUT;
		goto out;
	}
	mc = cfg.mail;
	if (plat_random_bytes(rnd, sizeof(rnd)) != DS_OK) {
		fprintf(stderr, "dumpscout mail: no random source\n");
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
		fprintf(stderr, "dumpscout mail: cannot build the test message: %s\n", e.msg);
		goto out;
	}
	if (mail_global_init() != DS_OK) {
		fprintf(stderr, "dumpscout mail: cannot initialise libcurl\n");
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
		fprintf(stderr, "dumpscout mail: %s\n", res.error);
		exit_code = res.outcome == MAIL_CONFIG && rc != DS_ENET ? DS_EXIT_BADINPUT : DS_EXIT_FAIL;
	}
out:
	free(msg);
	config_free(&cfg);
	return exit_code;
}

int mailcmd_send_outbox(const char *cfgpath, const char *dbpath)
{
	struct config cfg;
	struct mail_config *mc = NULL;
	struct mail_pump_stats ps;
	struct store *st = NULL;
	struct ds_err e = { 0 };
	int rc, code = DS_EXIT_BADINPUT, inited = 0;

	memset(&cfg, 0, sizeof(cfg));
	rc = config_load(cfgpath, &cfg, &e);
	if (rc != DS_OK || cfg.mail == NULL) {
		fprintf(stderr, "dumpscout report: %s\n", rc != DS_OK ? e.msg : "the config has no \"mail\" section");
		goto out;
	}
	mc = cfg.mail;
	code = DS_EXIT_FAIL;
	rc = store_open(dbpath != NULL ? dbpath : cfg.db, STORE_READWRITE, &st, &e);
	if (rc != DS_OK) {
		fprintf(stderr, "dumpscout report: %s\n", e.msg);
		goto out;
	}
	if (mail_global_init() != DS_OK) {
		fprintf(stderr, "dumpscout report: cannot start libcurl; dumpscoutd will deliver the digest\n");
		code = DS_EXIT_OK;
		goto out;
	}
	inited = 1;
	memset(&ps, 0, sizeof(ps));
	rc = mail_outbox_pump(st, mc, plat_now_ms(), 10, &ps, &e);
	if (rc != DS_OK) {
		fprintf(stderr, "dumpscout report: %s\n", e.msg);
	} else {
		code = DS_EXIT_OK;
		if (ps.sent > 0)
			fprintf(stderr, "report: delivered %d message(s)\n", ps.sent);
		else
			fprintf(stderr, "report: not delivered yet (%s); it stays queued and dumpscoutd retries it\n",
				ps.last_error[0] ? ps.last_error : "nothing was due");
	}
out:
	if (inited)
		mail_global_cleanup();
	store_close(st);
	config_free(&cfg);
	return code;
}
