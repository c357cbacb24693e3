/* cmd_buckets.c - `dumpscout buckets`: crash buckets and root signatures with their counts, first and
 * last seen, top applications and a trend (dumps in the last window against the window before). The
 * counting is the store's (store_bucket_list, store_bucket_counts); this file joins the two and prints.
 * It never writes to the database. */
#include "cli.h"
#include "source.h"
#include "dbopen.h"
#include "lib/jget.h"
#include "table.h"
#include "lib/when.h"
#include "core/plat.h"
#include "core/store.h"
#include "core/cursor.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

static void buckets_usage(FILE *f)
{
	fprintf(f,
		"usage: dumpscout buckets [--kind crash|root] [--sort count|last|first] [--window SPAN] [--limit N]\n"
		"                         [--json|--csv]\n\n"
		"Lists the buckets the service grouped dumps into: crash buckets (application, module, exception,\n"
		"offset) and root signatures (what keeps an AssemblyLoadContext alive), most dumps first. TREND\n"
		"compares the dumps of the last window (default 7d) with the window before it.\n\n"
		"  --kind KIND      only crash buckets or only root signatures\n"
		"  --sort KEY       count (default), last (last seen), first (first seen: newest buckets first)\n"
		"  --window SPAN    the trend window: 24h, 7d, 30d... (default 7d)\n"
		"  --limit N        at most N buckets (default 50; 0: all)\n"
		"  --json           a JSON array of bucket objects (fields in docs/cli.md)\n"
		"  --csv            CSV with a header row\n"
		DBOPEN_HELP SOURCE_HELP "\n"
		"Exit codes: 0 ok, 1 the database cannot be read, 2 bad arguments.\n"
		"Example: dumpscout buckets --kind crash --window 24h --limit 20\n");
}

static const struct table_col buckets_cols[] = {
	{ "ID", 1, 0 },        { "KIND", 0, 0 },      { "DUMPS", 1, 0 }, { "WINDOW", 1, 0 }, { "BEFORE", 1, 0 },
	{ "TREND", 0, 0 },     { "FIRST SEEN", 0, 0 }, { "LAST SEEN", 0, 0 }, { "APPS", 0, 1 }, { "TITLE", 0, 1 },
};

/* Renames the store's count_since to count_window, fills count_before (0 when null) and adds trend. */
static int buckets_trend(cJSON *arr, int64_t window_start)
{
	cJSON *b;
	int64_t now, before;

	cJSON_ArrayForEach(b, arr) {
		now = jget_num(b, "count_since", 0);
		before = jget_num(b, "count_before", 0);
		cJSON_DeleteItemFromObjectCaseSensitive(b, "count_since");
		cJSON_DeleteItemFromObjectCaseSensitive(b, "count_before");
		if (!cJSON_AddNumberToObject(b, "count_window", (double)now) ||
		    !cJSON_AddNumberToObject(b, "count_before", (double)before) ||
		    !cJSON_AddStringToObject(b, "trend", jget_num(b, "first_seen", 0) >= window_start ? "new"
							 : now > before ? "up" : now < before ? "down" : "flat"))
			return DS_ENOMEM;
	}
	return DS_OK;
}

/* "app (n), app (n) +k" from a bucket's top apps. */
static void buckets_apps(const cJSON *b, char *dst, size_t n, int csv)
{
	const cJSON *a;
	size_t len = 0;
	int64_t shown = 0, total = jget_num(b, "app_count", 0);

	dst[0] = '\0';
	cJSON_ArrayForEach(a, jget_arr(b, "apps")) {
		if (shown == 3 && !csv)
			break;
		len += (size_t)snprintf(dst + len, n > len ? n - len : 0, "%s%s (%lld)", shown ? (csv ? "; " : ", ") : "",
					jget_str(a, "app") ? jget_str(a, "app") : "?", (long long)jget_num(a, "count", 0));
		shown++;
		if (len >= n)
			break;
	}
	if (total > shown && len < n)
		snprintf(dst + len, n - len, " +%lld more", (long long)(total - shown));
}

static int buckets_print(const cJSON *arr, int mode)
{
	struct table t;
	const cJSON *b;
	char apps[1024], tr[40];
	int rc = DS_OK, color = mode == TABLE_TEXT && cli_use_color(1);

	if (mode == TABLE_JSON)
		return table_print_json(stdout, arr);
	table_init(&t, buckets_cols, DS_ARRAY_LEN(buckets_cols), mode);
	cJSON_ArrayForEach(b, arr) {
		const char *trend = jget_str(b, "trend");
		int64_t w = jget_num(b, "count_window", 0), p = jget_num(b, "count_before", 0);

		if (trend != NULL && strcmp(trend, "new") == 0)
			snprintf(tr, sizeof(tr), "new");
		else if (w > p)
			snprintf(tr, sizeof(tr), mode == TABLE_CSV ? "+%lld" : "\xe2\x86\x91 +%lld", (long long)(w - p));
		else if (w < p)
			snprintf(tr, sizeof(tr), mode == TABLE_CSV ? "-%lld" : "\xe2\x86\x93 -%lld", (long long)(p - w));
		else
			snprintf(tr, sizeof(tr), mode == TABLE_CSV ? "0" : "=");
		buckets_apps(b, apps, sizeof(apps), mode == TABLE_CSV);
		rc = table_cellf(&t, "%lld", (long long)jget_num(b, "id", 0));
		rc = rc ? rc : table_cell(&t, jget_str(b, "kind"));
		rc = rc ? rc : table_cellf(&t, "%lld", (long long)jget_num(b, "count", 0));
		rc = rc ? rc : table_cellf(&t, "%lld", (long long)w);
		rc = rc ? rc : table_cellf(&t, "%lld", (long long)p);
		if (w > p)
			table_color(&t, TABLE_RED);
		else if (w < p)
			table_color(&t, TABLE_GREEN);
		rc = rc ? rc : table_cell(&t, tr);
		rc = rc ? rc : table_cell_time(&t, jget_num(b, "first_seen", 0));
		rc = rc ? rc : table_cell_time(&t, jget_num(b, "last_seen", 0));
		rc = rc ? rc : table_cell(&t, apps);
		rc = rc ? rc : table_cell(&t, jget_str(b, "title"));
		if (rc != DS_OK)
			break;
	}
	return table_finish(&t, rc, stdout, plat_term_width(1), color, "no buckets yet");
}

int cmd_buckets(int argc, char **argv)
{
	static const char *const opts[] = { "--kind", "--sort", "--window", "--limit", NULL };
	struct dbopen_opts dbo = { NULL, NULL };
	struct store_bucket_filter f;
	struct cli_src src = { 0 };
	struct ds_err e = { 0 };
	cJSON *arr = NULL;
	int64_t now = plat_now_ms(), window = 7LL * 86400 * 1000;
	int i, r, mode = TABLE_TEXT, code = DS_EXIT_BADINPUT, rc;

	memset(&f, 0, sizeof(f));
	f.limit = 50;
	f.sort = STORE_BSORT_COUNT;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *val;

		if ((r = dbopen_common_arg("buckets", argc, argv, &i, &dbo, &mode, buckets_usage, &code)) != 0) {
			if (r < 0)
				goto out;
			continue;
		}
		if ((val = dbopen_value_arg("buckets", argc, argv, &i, opts)) == NULL)
			goto out;
		if (strcmp(a, "--kind") == 0) {
			if (strcmp(val, "crash") != 0 && strcmp(val, "root") != 0) {
				cli_error("buckets", "--kind '%s': expected crash or root", val);
				goto out;
			}
			f.kind = val;
		} else if (strcmp(a, "--sort") == 0) {
			if (strcmp(val, "count") == 0)
				f.sort = STORE_BSORT_COUNT;
			else if (strcmp(val, "last") == 0)
				f.sort = STORE_BSORT_LAST_SEEN;
			else if (strcmp(val, "first") == 0)
				f.sort = STORE_BSORT_FIRST_SEEN;
			else {
				cli_error("buckets", "--sort '%s': expected count, last or first", val);
				goto out;
			}
		} else if (strcmp(a, "--window") == 0) {
			if (when_parse_span(val, &window) != DS_OK || window <= 0) {
				cli_error("buckets", "--window '%s': expected a span such as 24h, 7d or 30d", val);
				goto out;
			}
		} else if (cursor_parse_int(val, 0, INT64_MAX, &f.limit) != DS_OK) {
			cli_error("buckets", "--limit '%s': expected a number (0 for all)", val);
			goto out;
		}
	}
	code = src_open("buckets", &dbo, &src);
	if (code != DS_EXIT_OK)
		goto out;
	f.since = now - window;
	f.before = now - 2 * window;
	rc = src_bucket_list(&src, &f, &arr, &e);
	if (rc != DS_OK) {
		code = src_fail(&src, rc, &e);
		goto out;
	}
	rc = buckets_trend(arr, now - window);
	if (rc == DS_OK)
		rc = buckets_print(arr, mode);
	if (rc != DS_OK) {
		cli_error("buckets", "cannot write the output: %s", ds_strerror(rc));
		code = DS_EXIT_FAIL;
	}
out:
	cJSON_Delete(arr);
	src_close(&src);
	return code;
}
