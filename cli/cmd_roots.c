/* cmd_roots.c - `dumpscout roots`: the leak view. Culprits across all dumps grouped by root
 * signature: how many dumps and contexts each holds, in which applications, and the known-culprit
 * catalogue's title for it. The grouping is the store's (store_roots_list); the catalogue lookup is
 * analyzer/culprits. It never writes to the database. */
#include "cli.h"
#include "source.h"
#include "dbopen.h"
#include "lib/jget.h"
#include "table.h"
#include "lib/when.h"
#include "analyzer/culprits.h"
#include "core/plat.h"
#include "core/store.h"
#include "core/cursor.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

static void roots_usage(FILE *f)
{
	fprintf(f,
		"usage: dumpscout roots [--since WHEN] [--all] [--limit N] [--json|--csv]\n\n"
		"The leak view: what keeps AssemblyLoadContexts alive across all dumps, grouped by root signature\n"
		"(the chain without addresses), most dumps first, with the catalogue's name for known causes.\n"
		"Signatures the classifier thinks are probably not real roots are left out unless --all.\n\n"
		"  --since WHEN     only signatures seen at or after WHEN (24h, 7d, 2024-05-01...)\n"
		"  --all            include probable false roots\n"
		"  --limit N        at most N signatures (default 50; 0: all)\n"
		"  --json           a JSON array (fields in docs/cli.md; known_title/advice added from the catalogue)\n"
		"  --csv            CSV with a header row\n"
		DBOPEN_HELP SOURCE_HELP "\n"
		"Exit codes: 0 ok, 1 the database cannot be read, 2 bad arguments.\n"
		"Example: dumpscout roots --since 30d\n"
		"         dumpscout show bucket ID   (the dumps of one signature)\n");
}

static const struct table_col roots_cols[] = {
	{ "BUCKET", 1, 0 }, { "DUMPS", 1, 0 }, { "CONTEXTS", 1, 0 }, { "KIND", 0, 0 }, { "LAST SEEN", 0, 0 },
	{ "APPS", 0, 1 },   { "CULPRIT", 0, 1 }, { "KNOWN CAUSE", 0, 1 },
};

/* Adds known_title and advice (or null) from the catalogue to every signature. */
static int roots_annotate(cJSON *arr, const struct culprit_catalogue *cat)
{
	cJSON *r;
	size_t i;

	cJSON_ArrayForEach(r, arr) {
		const char *id = jget_str(r, "catalogue_id");
		const struct culprit_entry *ce = NULL;

		for (i = 0; id != NULL && cat != NULL && i < cat->n; i++)
			if (cat->entries[i].id != NULL && strcmp(cat->entries[i].id, id) == 0)
				ce = &cat->entries[i];
		if (!cJSON_AddItemToObject(r, "known_title", ce && ce->title ? cJSON_CreateString(ce->title) : cJSON_CreateNull()) ||
		    !cJSON_AddItemToObject(r, "advice", ce && ce->advice ? cJSON_CreateString(ce->advice) : cJSON_CreateNull()))
			return DS_ENOMEM;
	}
	return DS_OK;
}

static int roots_print(const cJSON *arr, int mode)
{
	struct table t;
	const cJSON *r, *a;
	char apps[1024];
	size_t len;
	int rc = DS_OK, n;

	if (mode == TABLE_JSON)
		return table_print_json(stdout, arr);
	table_init(&t, roots_cols, DS_ARRAY_LEN(roots_cols), mode);
	cJSON_ArrayForEach(r, arr) {
		len = 0;
		n = 0;
		apps[0] = '\0';
		cJSON_ArrayForEach(a, jget_arr(r, "apps")) {
			len += (size_t)snprintf(apps + len, len < sizeof(apps) ? sizeof(apps) - len : 0, "%s%s",
						n++ ? (mode == TABLE_CSV ? "; " : ", ") : "", jget_str(a, "app") ? jget_str(a, "app") : "?");
			if (len >= sizeof(apps))
				break;
		}
		if (jget_num(r, "app_count", 0) > n && len < sizeof(apps))
			snprintf(apps + len, sizeof(apps) - len, " +%lld more", (long long)(jget_num(r, "app_count", 0) - n));
		rc = table_cellf(&t, "%lld", (long long)jget_num(r, "bucket_id", 0));
		rc = rc ? rc : table_cellf(&t, "%lld", (long long)jget_num(r, "count", 0));
		rc = rc ? rc : table_cellf(&t, "%lld", (long long)jget_num(r, "context_count", 0));
		rc = rc ? rc : table_cellf(&t, "%s%s", jget_str(r, "kind") ? jget_str(r, "kind") : "",
					  jget_bool(r, "probable_false_root") ? " (false?)" : "");
		rc = rc ? rc : table_cell_time(&t, jget_num(r, "last_seen", 0));
		rc = rc ? rc : table_cell(&t, apps);
		rc = rc ? rc : table_cell(&t, jget_str(r, "culprit"));
		rc = rc ? rc : table_cell(&t, jget_str(r, "known_title"));
		if (rc != DS_OK)
			break;
	}
	return table_finish(&t, rc, stdout, plat_term_width(1), mode == TABLE_TEXT && cli_use_color(1),
			    "no leaking contexts recorded");
}

int cmd_roots(int argc, char **argv)
{
	struct dbopen_opts dbo = { NULL, NULL };
	struct culprit_catalogue cat;
	struct cli_src src = { 0 };
	struct ds_err e = { 0 };
	cJSON *arr = NULL;
	int64_t since = 0, limit = 50;
	int i, r, mode = TABLE_TEXT, code = DS_EXIT_BADINPUT, rc, all = 0, have_cat = 0;

	memset(&cat, 0, sizeof(cat));
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if ((r = dbopen_common_arg("roots", argc, argv, &i, &dbo, &mode, roots_usage, &code)) != 0) {
			if (r < 0)
				goto out;
		} else if (strcmp(a, "--all") == 0) {
			all = 1;
		} else if (strcmp(a, "--since") == 0 && val != NULL) {
			if (when_parse(val, plat_now_ms(), &since) != DS_OK) {
				cli_error("roots", "--since '%s': expected 30m, 24h, 7d or a UTC date such as 2024-05-01", val);
				goto out;
			}
			i++;
		} else if (strcmp(a, "--limit") == 0 && val != NULL) {
			if (cursor_parse_int(val, 0, INT64_MAX, &limit) != DS_OK) {
				cli_error("roots", "--limit '%s': expected a number (0 for all)", val);
				goto out;
			}
			i++;
		} else {
			cli_error("roots", "unknown or incomplete argument '%s' (see dumpscout roots --help)", a);
			goto out;
		}
	}
	code = src_open("roots", &dbo, &src);
	if (code != DS_EXIT_OK)
		goto out;
	rc = src_roots_list(&src, since, limit, &arr, &e);
	if (rc != DS_OK) {
		code = src_fail(&src, rc, &e);
		goto out;
	}
	if (!all) {
		cJSON *it = arr->child, *next;

		for (; it != NULL; it = next) {
			next = it->next;
			if (jget_bool(it, "probable_false_root"))
				cJSON_Delete(cJSON_DetachItemViaPointer(arr, it));
		}
	}
	have_cat = culprits_load_builtin(&cat, &e) == DS_OK;
	rc = roots_annotate(arr, have_cat ? &cat : NULL);
	if (rc == DS_OK)
		rc = roots_print(arr, mode);
	if (rc != DS_OK) {
		cli_error("roots", "cannot write the output: %s", ds_strerror(rc));
		code = DS_EXIT_FAIL;
	}
out:
	if (have_cat)
		culprits_free(&cat);
	cJSON_Delete(arr);
	src_close(&src);
	return code;
}
