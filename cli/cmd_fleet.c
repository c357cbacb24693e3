/* cmd_fleet.c - `dumpscout fleet init|status`: applies the central schema (schema/fleet/, versioned) to
 * the fleet's PostgreSQL database, and lists the hosts that publish to it with their last-seen time and
 * backlog. The connection comes from cli_fleet_open (source.h); the SQL is the central functions'
 * (core/fleetdb.c). The fleet-wide list/show/buckets/roots/report are the usual commands with --fleet. */
#include "cli.h"
#include "dbopen.h"
#include "lib/jget.h"
#include "source.h"
#include "table.h"
#include "core/fleetdb.h"
#include "core/plat.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

static void fleet_usage(FILE *f)
{
	fprintf(f,
		"usage: dumpscout fleet init [--fleet-url URL] [--config FILE]\n"
		"       dumpscout fleet status [--json|--csv] [--fleet-url URL] [--config FILE]\n\n"
		"init     creates or upgrades the fleet schema in the central PostgreSQL database (run it as the\n"
		"         database's owner; it is idempotent), with the roles dumpscout_ingest (agents: may only\n"
		"         publish) and dumpscout_read (people and dashboards: may only read)\n"
		"status   every host that publishes: last seen, backlog (snapshots not yet published), dumps\n\n"
		"The database is --fleet-url URL (a libpq connection string or URI), else $DUMPSCOUT_FLEET_URL,\n"
		"else the config's fleet.url with its password_file/password_env; libpq's PGPASSWORD and\n"
		"~/.pgpass apply too. The other commands read the fleet with --fleet (dumpscout --fleet list).\n"
		DBOPEN_HELP "\n"
		"Exit codes: 0 ok, 1 the database cannot be reached or refused, 2 bad arguments.\n"
		"Example: dumpscout fleet init --fleet-url 'host=db.example.org dbname=dumpscout user=postgres'\n");
}

static const struct table_col fleet_cols[] = {
	{ "HOST", 0, 1 }, { "LAST SEEN", 0, 0 }, { "AGO", 1, 0 }, { "BACKLOG", 1, 0 }, { "DUMPS", 1, 0 },
	{ "OS", 0, 1 },   { "VERSION", 0, 0 },   { "HOST ID", 0, 0 },
};

static int fleet_status_print(const cJSON *hosts, int mode, int64_t now)
{
	struct table t;
	const cJSON *h;
	int rc = DS_OK, color = mode == TABLE_TEXT && cli_use_color(1);
	int64_t ago;

	if (mode == TABLE_JSON)
		return table_print_json(stdout, hosts);
	table_init(&t, fleet_cols, DS_ARRAY_LEN(fleet_cols), mode);
	cJSON_ArrayForEach(h, hosts) {
		ago = (now - jget_num(h, "last_seen", 0)) / 1000;
		rc = table_cell(&t, jget_str(h, "host"));
		rc = rc ? rc : table_cell_time(&t, jget_num(h, "last_seen", 0));
		rc = rc ? rc : table_cellf(&t, "%llds", (long long)(ago < 0 ? 0 : ago));
		if (jget_num(h, "backlog", 0) > 0)
			table_color(&t, TABLE_YELLOW);
		rc = rc ? rc : table_cellf(&t, "%lld", (long long)jget_num(h, "backlog", 0));
		rc = rc ? rc : table_cellf(&t, "%lld", (long long)jget_num(h, "dumps", 0));
		rc = rc ? rc : table_cell(&t, jget_str(h, "os"));
		rc = rc ? rc : table_cell(&t, jget_str(h, "version"));
		rc = rc ? rc : table_cell(&t, jget_str(h, "host_id"));
		if (rc != DS_OK)
			break;
	}
	if (rc == DS_OK && mode == TABLE_TEXT && table_rows(&t) == 0)
		printf("no host has published yet\n");
	else if (rc == DS_OK)
		rc = table_print(&t, stdout, plat_term_width(1), color);
	table_free(&t);
	return rc;
}

int cmd_fleet(int argc, char **argv)
{
	struct dbopen_opts dbo = { NULL, NULL };
	struct fleetdb *db = NULL;
	struct ds_err e = { 0 };
	cJSON *hosts = NULL;
	const char *sub = NULL;
	int i, r, mode = TABLE_TEXT, code = DS_EXIT_BADINPUT, rc, applied = 0, version = 0;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if ((r = dbopen_arg("fleet", argc, argv, &i, &dbo)) != 0) {
			if (r < 0)
				goto out;
		} else if (table_mode_arg(a, &mode)) {
			continue;
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			fleet_usage(stdout);
			code = DS_EXIT_OK;
			goto out;
		} else if (sub == NULL && (strcmp(a, "init") == 0 || strcmp(a, "status") == 0)) {
			sub = a;
		} else {
			cli_error("fleet", "unexpected argument '%s' (see dumpscout fleet --help)", a);
			goto out;
		}
	}
	if (sub == NULL) {
		fleet_usage(stderr);
		goto out;
	}
	code = cli_fleet_open("fleet", &dbo, strcmp(sub, "init") == 0, &db);
	if (code != DS_EXIT_OK)
		goto out;
	if (strcmp(sub, "init") == 0) {
		rc = fleetdb_init(db, &applied, &e);
		if (rc == DS_OK)
			rc = fleetdb_check(db, &version, &e);
		if (rc == DS_OK)
			printf("fleet schema version %d (%d migration(s) applied now)\n", version, applied);
	} else {
		rc = fleetdb_hosts(db, &hosts, &e);
		if (rc == DS_OK && fleet_status_print(hosts, mode, plat_now_ms()) != DS_OK) {
			cli_error("fleet", "cannot write the output");
			code = DS_EXIT_FAIL;
			goto out;
		}
	}
	if (rc != DS_OK) {
		cli_error("fleet", "%s", e.msg);
		code = rc == DS_EINVAL ? DS_EXIT_BADINPUT : DS_EXIT_FAIL;
		goto out;
	}
	code = DS_EXIT_OK;
out:
	cJSON_Delete(hosts);
	fleetdb_close(db);
	return code;
}
