/* cmd_list.c - `dumpscout list`: the dumps the service recorded, newest first, with filters (app,
 * time range, state, bucket, leak), as an aligned table, CSV or the store's JSON summaries. Filtering
 * and sorting happen in SQL (store_dump_list); this file turns options into a filter and rows into
 * output. It never writes to the database. */
#include "cli.h"
#include "dbopen.h"
#include "lib/jget.h"
#include "listing.h"
#include "source.h"
#include "table.h"
#include "lib/when.h"
#include "core/plat.h"
#include "core/store.h"
#include "core/cursor.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

static void list_usage(FILE *f)
{
	fprintf(f,
		"usage: dumpscout list [--app NAME] [--since WHEN] [--until WHEN] [--state STATE] [--bucket ID]\n"
		"                      [--leak] [--limit N] [--sort time|oldest|app|size|state] [--json|--csv]\n\n"
		"Lists the dumps the service recorded, newest first.\n\n"
		"  --app NAME       only this application (as in the APP column)\n"
		"  --since WHEN     discovered at or after WHEN: a span back from now (30m, 24h, 7d, 2w) or a UTC\n"
		"                   date/time (2024-05-01, 2024-05-01T13:00, 2024-05-01 13:00:00Z)\n"
		"  --until WHEN     discovered before WHEN (same forms)\n"
		"  --state STATE    discovered, triaged, analyzing, done, failed or unsupported\n"
		"  --bucket ID      only dumps in this crash or root bucket (see dumpscout buckets)\n"
		"  --leak           only dumps where an AssemblyLoadContext is held by a real root\n"
		"  --limit N        at most N dumps (default 50; 0: all)\n"
		"  --sort KEY       time (newest first, default), oldest, app, size (largest first), state\n"
		"  --json           a JSON array of dump objects (fields in docs/cli.md)\n"
		"  --csv            CSV with a header row\n"
		DBOPEN_HELP SOURCE_HELP "\n"
		"Exit codes: 0 ok (also when nothing matches), 1 the database cannot be read, 2 bad arguments.\n"
		"Example: dumpscout list --app MyService --since 24h --state failed\n");
}

static const struct table_col list_cols[] = {
	{ "ID", 1, 0 },      { "DISCOVERED", 0, 0 }, { "APP", 0, 1 },  { "PID", 1, 0 },  { "STATE", 0, 0 },
	{ "EXCEPTION", 0, 1 }, { "SIZE", 1, 0 },     { "LEAK", 0, 0 }, { "FILE", 0, 1 },
};
/* With --fleet: the same and the host the dump came from. */
static const struct table_col list_fleet_cols[] = {
	{ "ID", 1, 0 },      { "HOST", 0, 1 }, { "DISCOVERED", 0, 0 }, { "APP", 0, 1 },  { "PID", 1, 0 },
	{ "STATE", 0, 0 },   { "EXCEPTION", 0, 1 }, { "SIZE", 1, 0 },   { "LEAK", 0, 0 }, { "FILE", 0, 1 },
};

/* The colour of a state in listings. */
int list_state_color(const char *state)
{
	if (state == NULL)
		return TABLE_PLAIN;
	if (strcmp(state, "failed") == 0)
		return TABLE_RED;
	if (strcmp(state, "unsupported") == 0)
		return TABLE_YELLOW;
	if (strcmp(state, "done") == 0)
		return TABLE_GREEN;
	return TABLE_PLAIN;
}

int list_print(const cJSON *arr, int mode, FILE *out)
{
	struct table t;
	const cJSON *d;
	int rc = DS_OK, color = mode == TABLE_TEXT && cli_use_color(1);

	if (mode == TABLE_JSON)
		return table_print_json(out, arr);
	if (cli_fleet_active())
		table_init(&t, list_fleet_cols, DS_ARRAY_LEN(list_fleet_cols), mode);
	else
		table_init(&t, list_cols, DS_ARRAY_LEN(list_cols), mode);
	cJSON_ArrayForEach(d, arr) {
		const char *exc = jget_str(d, "exception_name"), *state = jget_str(d, "state");

		rc = table_cellf(&t, "%lld", (long long)jget_num(d, "id", 0));
		if (cli_fleet_active())
			rc = rc ? rc : table_cell(&t, jget_str(d, "host"));
		rc = rc ? rc : table_cell_time(&t, jget_num(d, "discovered_at", 0));
		rc = rc ? rc : table_cell(&t, jget_str(d, "app"));
		rc = rc ? rc : (jget_has(d, "pid") ? table_cellf(&t, "%lld", (long long)jget_num(d, "pid", 0)) : table_cell(&t, ""));
		table_color(&t, list_state_color(state));
		rc = rc ? rc : table_cell(&t, state);
		if (exc == NULL && jget_has(d, "exception_code"))
			rc = rc ? rc : table_cellf(&t, "0x%llx", (unsigned long long)jget_num(d, "exception_code", 0));
		else
			rc = rc ? rc : table_cell(&t, exc);
		rc = rc ? rc : table_cell_size(&t, jget_num(d, "size", 0));
		if (jget_bool(d, "has_leak"))
			table_color(&t, TABLE_RED);
		rc = rc ? rc : table_cell(&t, jget_bool(d, "has_leak") ? "yes" : "");
		rc = rc ? rc : table_cell(&t, jget_str(d, "file_name"));
		if (rc != DS_OK)
			break;
	}
	return table_finish(&t, rc, out, plat_term_width(1), color, "no dumps match");
}

/* Reads a --since/--until value; prints the problem. */
static int list_when(const char *opt, const char *v, int64_t now, int64_t *out)
{
	if (when_parse(v, now, out) != DS_OK) {
		cli_error("list", "%s '%s': expected a span such as 30m, 24h, 7d, 2w or a UTC date such as 2024-05-01 "
				  "or 2024-05-01T13:00", opt, v);
		return DS_EINVAL;
	}
	return DS_OK;
}

int cmd_list(int argc, char **argv)
{
	static const char *const sorts[] = { "time", "oldest", "size", "app", "state" };
	static const char *const opts[] = { "--app", "--since", "--until", "--state", "--bucket", "--limit",
					    "--sort", NULL };
	struct dbopen_opts dbo = { NULL, NULL };
	struct store_dump_filter f;
	struct cli_src src = { 0 };
	struct ds_err e = { 0 };
	cJSON *arr = NULL;
	int64_t now = plat_now_ms(), v;
	int i, r, mode = TABLE_TEXT, code = DS_EXIT_BADINPUT, rc;
	size_t k;

	memset(&f, 0, sizeof(f));
	f.state = -1;
	f.limit = 50;
	f.sort = STORE_SORT_NEWEST;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *val;

		if ((r = dbopen_common_arg("list", argc, argv, &i, &dbo, &mode, list_usage, &code)) != 0) {
			if (r < 0)
				goto out;
			continue;
		}
		if (strcmp(a, "--leak") == 0) {
			f.leak = 1;
			continue;
		}
		if ((val = dbopen_value_arg("list", argc, argv, &i, opts)) == NULL)
			goto out;
		if (strcmp(a, "--app") == 0) {
			f.app = val;
		} else if (strcmp(a, "--since") == 0) {
			if (list_when(a, val, now, &f.since) != DS_OK)
				goto out;
		} else if (strcmp(a, "--until") == 0) {
			if (list_when(a, val, now, &f.until) != DS_OK)
				goto out;
		} else if (strcmp(a, "--state") == 0) {
			f.state = store_state_parse(val);
			if (f.state < 0) {
				cli_error("list", "--state '%s': expected discovered, triaged, analyzing, done, failed or "
						  "unsupported", val);
				goto out;
			}
		} else if (strcmp(a, "--bucket") == 0) {
			if (cursor_parse_int(val, 1, INT64_MAX, &f.bucket_id) != DS_OK) {
				cli_error("list", "--bucket '%s': expected a bucket id (a positive number)", val);
				goto out;
			}
		} else if (strcmp(a, "--limit") == 0) {
			if (cursor_parse_int(val, 0, INT64_MAX, &v) != DS_OK) {
				cli_error("list", "--limit '%s': expected a number (0 for all)", val);
				goto out;
			}
			f.limit = v;
		} else {
			for (k = 0; k < DS_ARRAY_LEN(sorts) && strcmp(val, sorts[k]) != 0; k++)
				;
			if (k == DS_ARRAY_LEN(sorts)) {
				cli_error("list", "--sort '%s': expected time, oldest, app, size or state", val);
				goto out;
			}
			f.sort = k == 0 ? STORE_SORT_NEWEST : k == 1 ? STORE_SORT_OLDEST : k == 2 ? STORE_SORT_SIZE
				: k == 3 ? STORE_SORT_APP : STORE_SORT_STATE;
		}
	}
	if (f.since != 0 && f.until != 0 && f.until <= f.since) {
		cli_error("list", "--until must be later than --since");
		goto out;
	}
	code = src_open("list", &dbo, &src);
	if (code != DS_EXIT_OK)
		goto out;
	rc = src_dump_list(&src, &f, &arr, &e);
	if (rc != DS_OK) {
		code = src_fail(&src, rc, &e);
		goto out;
	}
	rc = list_print(arr, mode, stdout);
	if (rc != DS_OK) {
		cli_error("list", "cannot write the output: %s", ds_strerror(rc));
		code = DS_EXIT_FAIL;
	}
out:
	cJSON_Delete(arr);
	src_close(&src);
	return code;
}
