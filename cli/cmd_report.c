/* cmd_report.c - `dumpscout report`: the summary of a period (default the last 24 hours) as text,
 * one self-contained HTML page, or JSON, to stdout or a file; with --send, the same report is queued
 * as the mail digest (lib/mail.c's outbox) and delivery is attempted at once. The model and the
 * renderers are lib/report.c; this file is options, output and the hand-over to the mailer. */
#include "cli.h"
#include "source.h"
#include "dbopen.h"
#include "lib/report.h"
#include "table.h"
#include "lib/when.h"
#include "core/plat.h"
#include "core/store.h"
#include "lib/config.h"
#include "lib/mail.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void report_usage(FILE *f)
{
	fprintf(f,
		"usage: dumpscout report [--since WHEN] [--until WHEN] [--format text|html|json] [-o FILE] [--send]\n\n"
		"Summarises a period: totals, new buckets, buckets that grew against the period before, the top\n"
		"crash buckets, the top culprits keeping AssemblyLoadContexts alive with the catalogue's advice,\n"
		"dumps per application and per day. The HTML page is self-contained (no scripts, no external\n"
		"resources) and reads the same in a browser and a mail client.\n\n"
		"  --since WHEN     start of the period: 24h (default), 7d, 2024-05-01, 2024-05-01T08:00\n"
		"  --until WHEN     end of the period (default now)\n"
		"  --format FMT     text (default), html or json (the model; fields in docs/cli.md)\n"
		"  --json           same as --format json\n"
		"  -o FILE          write to FILE (atomically) instead of stdout\n"
		"  --send           also queue the report as the mail digest now (text and HTML parts) and try to\n"
		"                   deliver it; needs the config's \"mail\" section (--config FILE)\n"
		DBOPEN_HELP SOURCE_HELP "\n"
		"Exit codes: 0 ok, 1 the database cannot be read or the mail could not be queued, 2 bad arguments\n"
		"or a bad mail configuration.\n"
		"Examples: dumpscout report --since 7d --format html -o /tmp/week.html\n"
		"          dumpscout report --send --config /etc/dumpscout/dumpscout.json\n");
}

/* Queues the digest and tries to deliver what is due. Returns an exit code. */
static int report_send(struct store *st, const struct dbopen_opts *dbo, const cJSON *r)
{
	struct config cfg;
	struct ds_err e = { 0 };
	char *text = NULL, *html = NULL, *subject = NULL;
	size_t tlen = 0, hlen = 0;
	int64_t id = 0;
	int code, rc, found = 0;

	memset(&cfg, 0, sizeof(cfg));
	code = dbopen_config("report", dbo, &cfg, &found);
	if (code != DS_EXIT_OK)
		goto out;
	code = DS_EXIT_BADINPUT;
	if (!found || cfg.mail == NULL) {
		cli_error("report", "--send needs a config with a \"mail\" section (%s; see docs/mail.md)",
			  found ? "the config has none" : "give it with --config FILE");
		goto out;
	}
	code = DS_EXIT_FAIL;
	rc = report_render_text(r, &text, &tlen);
	if (rc == DS_OK)
		rc = report_render_html(r, &html, &hlen);
	subject = rc == DS_OK ? report_subject(r) : NULL;
	if (rc != DS_OK || subject == NULL) {
		cli_error("report", "cannot render the report: %s", ds_strerror(rc != DS_OK ? rc : DS_ENOMEM));
		goto out;
	}
	rc = mail_digest_enqueue(st, cfg.mail, subject, text, tlen, html, hlen, report_is_empty(r), plat_now_ms(), &id, &e);
	if (rc != DS_OK) {
		code = dbopen_fail("report", rc, &e);
		goto out;
	}
	if (id == 0) {
		fprintf(stderr, "report: nothing new and skip_empty_digest is on: no mail queued\n");
		code = DS_EXIT_OK;
		goto out;
	}
	fprintf(stderr, "report: digest queued in the outbox (message %lld)\n", (long long)id);
	{
		const char *args[] = { "--config", cfg.file, "--db", store_path(st), "--send-outbox", NULL };
		code = cli_run_service_tool("report", args);
	}
out:
	config_free(&cfg);
	free(text);
	free(html);
	free(subject);
	return code;
}

int cmd_report(int argc, char **argv)
{
	struct dbopen_opts dbo = { NULL, NULL };
	struct cli_src src = { 0 };
	struct ds_err e = { 0 };
	cJSON *r = NULL;
	const char *outfile = NULL, *fmt = "text";
	char *doc = NULL;
	size_t len = 0;
	int64_t now = plat_now_ms(), since = now - 86400LL * 1000, until = 0;
	int i, k, code = DS_EXIT_BADINPUT, rc, send = 0;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if ((k = dbopen_common_arg("report", argc, argv, &i, &dbo, NULL, report_usage, &code)) != 0) {
			if (k < 0)
				goto out;
		} else if (strcmp(a, "--send") == 0) {
			send = 1;
		} else if (strcmp(a, "--json") == 0) {
			fmt = "json";
		} else if ((strcmp(a, "--since") == 0 || strcmp(a, "--until") == 0) && val != NULL) {
			if (when_parse(val, now, a[2] == 's' ? &since : &until) != DS_OK) {
				cli_error("report", "%s '%s': expected 24h, 7d, 30d or a UTC date such as 2024-05-01", a, val);
				goto out;
			}
			i++;
		} else if (strcmp(a, "--format") == 0 && val != NULL) {
			if (strcmp(val, "text") != 0 && strcmp(val, "html") != 0 && strcmp(val, "json") != 0) {
				cli_error("report", "--format '%s': expected text, html or json", val);
				goto out;
			}
			fmt = val;
			i++;
		} else if ((strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) && val != NULL) {
			outfile = val;
			i++;
		} else {
			cli_error("report", "unknown or incomplete argument '%s' (see dumpscout report --help)", a);
			goto out;
		}
	}
	if (until == 0)
		until = now;
	if (until <= since) {
		cli_error("report", "the period is empty: --until must be later than --since");
		goto out;
	}
	if (send && cli_fleet_active()) {
		cli_error("report", "--send mails this machine's report; the fleet's digest is sent by the agent elected "
				    "with fleet.digest (docs/fleet.md)");
		goto out;
	}
	code = send ? dbopen_open("report", &dbo, send, &src.st) : src_open("report", &dbo, &src);
	src.cmd = "report";
	if (code != DS_EXIT_OK)
		goto out;
	rc = src_report(&src, since, until, now, &r, &e);
	if (rc != DS_OK) {
		code = src_fail(&src, rc, &e);
		goto out;
	}
	if (strcmp(fmt, "json") == 0) {
		doc = cJSON_Print(r);
		rc = doc != NULL ? DS_OK : DS_ENOMEM;
		len = doc != NULL ? strlen(doc) : 0;
	} else if (strcmp(fmt, "html") == 0) {
		rc = report_render_html(r, &doc, &len);
	} else {
		rc = report_render_text(r, &doc, &len);
	}
	if (rc != DS_OK) {
		cli_error("report", "cannot render the report: %s", ds_strerror(rc));
		code = DS_EXIT_FAIL;
		goto out;
	}
	if (outfile != NULL) {
		rc = plat_write_file_atomic(outfile, doc, len, 0644);
		if (rc != DS_OK) {
			cli_error("report", "cannot write %s: %s", outfile, ds_strerror(rc));
			code = DS_EXIT_FAIL;
			goto out;
		}
	} else {
		fwrite(doc, 1, len, stdout);
		if (strcmp(fmt, "json") == 0)
			fputc('\n', stdout);
	}
	code = send ? report_send(src.st, &dbo, r) : DS_EXIT_OK;
out:
	if (doc != NULL && strcmp(fmt, "json") == 0)
		cJSON_free(doc);
	else
		free(doc);
	cJSON_Delete(r);
	src_close(&src);
	return code;
}
