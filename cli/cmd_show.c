/* cmd_show.c - `dumpscout show ID|PATH` and `dumpscout show bucket ID`: everything the database knows
 * about one dump (triage, analysis status, contexts, root chains with culprit and catalogue advice,
 * the managed exception and its stack) or one bucket (its applications and dumps). Text for people,
 * --json for machines. Every string from the database is printed with control characters neutralised.
 * It never writes to the database. */
#include "cli.h"
#include "source.h"
#include "dbopen.h"
#include "lib/jget.h"
#include "listing.h"
#include "table.h"
#include "lib/when.h"
#include "analyzer/culprits.h"
#include "core/plat.h"
#include "core/store.h"
#include "core/cursor.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHOW_LINE_MAX 8192

static void show_usage(FILE *f)
{
	fprintf(f,
		"usage: dumpscout show ID|PATH [--json]\n"
		"       dumpscout show bucket ID [--limit N] [--json|--csv]\n\n"
		"Shows everything known about one dump: triage (process, exception, modules, runtime, bucket),\n"
		"the analysis status, the AssemblyLoadContexts found, each root chain that holds one, the culprit\n"
		"with the catalogue's advice, and the managed exception with its stack. PATH is the dump's full path\n"
		"as the service saw it. 'show bucket ID' lists a bucket's applications and dumps (newest first).\n\n"
		"  --json           the whole record as one JSON object (fields in docs/cli.md)\n"
		"  --csv            show bucket: the dumps as CSV\n"
		"  --limit N        show bucket: at most N dumps (default 50; 0: all)\n"
		DBOPEN_HELP SOURCE_HELP "\n"
		"Exit codes: 0 ok, 1 no such dump/bucket or the database cannot be read, 2 bad arguments.\n"
		"Examples: dumpscout show 42\n"
		"          dumpscout show /var/lib/dumpscout/dumps/MyService.1234.dmp\n"
		"          dumpscout show bucket 7 --limit 10\n");
}

/* printf into a capped line, printed with control characters neutralised; a final newline (the
 * format's own) is kept, newlines inside values are not. */
static void show_printf(const char *fmt, ...) DS_PRINTF(1, 2);
static void show_printf(const char *fmt, ...)
{
	char line[SHOW_LINE_MAX];
	size_t n;
	int nl;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	n = strlen(line);
	nl = n > 0 && line[n - 1] == '\n';
	if (nl)
		line[n - 1] = '\0';
	table_puts_clean(stdout, line, 0);
	if (nl)
		fputc('\n', stdout);
}

/* "label  value" with the label padded; value printed only when not NULL/empty. */
static void show_kv(const char *label, const char *value)
{
	if (value == NULL || value[0] == '\0')
		return;
	printf("  %-12s ", label);
	table_puts_clean(stdout, value, 0);
	fputc('\n', stdout);
}

static const char *show_or(const char *s, const char *def)
{
	return s != NULL && s[0] ? s : def;
}

/* Prints multi-line text (a chain, a stack) indented, one cleaned line at a time, at most max lines. */
static void show_block(const char *indent, const char *text, size_t max)
{
	const char *p = text, *nl;
	size_t n = 0;
	char line[SHOW_LINE_MAX];

	while (p != NULL && *p && n < max) {
		nl = strchr(p, '\n');
		snprintf(line, sizeof(line), "%.*s", (int)(nl ? (size_t)(nl - p) : strlen(p)), p);
		if (line[0] != '\0' && line[strlen(line) - 1] == '\r')
			line[strlen(line) - 1] = '\0';
		fputs(indent, stdout);
		table_puts_clean(stdout, line, 0);
		fputc('\n', stdout);
		n++;
		p = nl ? nl + 1 : NULL;
	}
	if (p != NULL && *p)
		printf("%s... (more lines: see --json)\n", indent);
}

static const struct culprit_entry *show_catalogue(const struct culprit_catalogue *cat, const char *id)
{
	size_t i;

	for (i = 0; id != NULL && cat != NULL && i < cat->n; i++)
		if (cat->entries[i].id != NULL && strcmp(cat->entries[i].id, id) == 0)
			return &cat->entries[i];
	return NULL;
}

static void show_roots(const cJSON *c, const struct culprit_catalogue *cat)
{
	const cJSON *r, *roots = jget_arr(c, "roots");
	const struct culprit_entry *ce;
	int n = 0;

	cJSON_ArrayForEach(r, roots) {
		const char *cid = jget_str(r, "catalogue_id");

		n++;
		show_printf("      root %d: %s%s", n, show_or(jget_str(r, "kind"), "?"),
			    jget_bool(r, "probable_false_root") ? "  (probable false root)" : "");
		if (jget_has(r, "bucket_id"))
			printf("  [bucket %lld]", (long long)jget_num(r, "bucket_id", 0));
		fputc('\n', stdout);
		if (jget_str(r, "culprit") != NULL)
			show_printf("        culprit    %s\n", jget_str(r, "culprit"));
		if (jget_has(r, "thread"))
			show_printf("        thread     %lld%s%s\n", (long long)jget_num(r, "thread", 0),
				    jget_str(r, "frame") ? "  frame " : "", show_or(jget_str(r, "frame"), ""));
		if (jget_str(r, "signature") != NULL)
			show_printf("        signature  %s\n", jget_str(r, "signature"));
		ce = show_catalogue(cat, cid);
		if (ce != NULL) {
			show_printf("        known      %s (%s)\n", show_or(ce->title, "?"), cid);
			if (ce->advice != NULL)
				show_printf("        advice     %s\n", ce->advice);
		} else if (cid != NULL) {
			show_printf("        known      %s\n", cid);
		}
		if (jget_str(r, "chain_text") != NULL) {
			printf("        chain\n");
			show_block("          ", jget_str(r, "chain_text"), 40);
		}
	}
	if (n == 0)
		printf("      no roots recorded\n");
}

/* Why dump d has no analysis, from its state and what triage found: one line a person can act on. */
static const char *show_no_analysis(const cJSON *d)
{
	const char *state = show_or(jget_str(d, "state"), "");
	int triaged = jget_num(d, "triaged_at", 0) > 0;

	if (strcmp(state, "discovered") == 0)
		return "not yet: waiting for triage";
	if (!triaged && strcmp(state, "failed") == 0)
		return "none: the file could not be triaged (last error above)";
	if (strcmp(state, "analyzing") == 0)
		return "not yet: the heap engine is analysing it";
	if (strcmp(state, "unsupported") == 0)
		return "none: not analysed (last error above says why)";
	if (strcmp(state, "failed") == 0)
		return "none: the analysis failed (last error above)";
	if (jget_str(d, "runtime_name") == NULL)
		return "none: no .NET runtime in the dump (native triage only)";
	if (!jget_bool(d, "has_heap"))
		return "none: the dump holds no heap memory (native triage only)";
	if (strcmp(state, "triaged") == 0)
		return "not yet: waiting for the heap engine";
	return "none recorded";
}

static void show_analysis(const cJSON *d, const struct culprit_catalogue *cat)
{
	const cJSON *an = jget_obj(d, "analysis");
	const cJSON *ctxs = jget_arr(an, "contexts"), *c, *res, *exc, *stack = NULL, *fr;
	char t[40], dur[40];
	int n = 0;

	printf("\nanalysis\n");
	if (an == NULL) {
		printf("  %s\n", show_no_analysis(d));
		return;
	}
	show_printf("  status       %s  (%s%s%s", show_or(jget_str(an, "status"), "?"), show_or(jget_str(an, "engine"), "?"),
		    jget_str(an, "engine_version") ? " " : "", show_or(jget_str(an, "engine_version"), ""));
	if (jget_num(an, "duration_ms", 0) > 0) {
		when_format_span(jget_num(an, "duration_ms", 0), dur, sizeof(dur));
		printf(", %s", dur);
	}
	if (jget_num(an, "finished_at", 0) > 0) {
		when_format(jget_num(an, "finished_at", 0), 0, t, sizeof(t));
		printf(", finished %s UTC", t);
	}
	printf(")\n");
	show_kv("error", jget_str(an, "error"));
	if (jget_str(an, "exception_type") != NULL)
		show_printf("  exception    %s%s%s\n", jget_str(an, "exception_type"),
			    jget_str(an, "exception_message") ? ": " : "", show_or(jget_str(an, "exception_message"), ""));
	/* the stack: the analysis' managed exception, else the crash report's faulting thread */
	res = jget_obj(an, "result");
	exc = jget_obj(jget_obj(res, "analysis"), "managed_exception");
	stack = jget_arr(exc, "stack");
	if (stack == NULL || cJSON_GetArraySize(stack) == 0)
		stack = jget_arr(jget_obj(res, "crash_report"), "stack");
	if (stack != NULL && cJSON_GetArraySize(stack) > 0) {
		printf("  stack\n");
		cJSON_ArrayForEach(fr, stack) {
			if (n++ >= 40) {
				printf("    ... (%d frames: see --json)\n", cJSON_GetArraySize(stack));
				break;
			}
			if (cJSON_IsString(fr))
				show_printf("    %s\n", fr->valuestring);
		}
	}
	printf("  contexts     %d\n", cJSON_GetArraySize(ctxs));
	cJSON_ArrayForEach(c, ctxs) {
		show_printf("    [%lld] %s  %s  %s\n", (long long)jget_num(c, "ordinal", 0), show_or(jget_str(c, "name"), "(unnamed)"),
			    show_or(jget_str(c, "loader_allocator"), "-"), show_or(jget_str(c, "state"), ""));
		show_roots(c, cat);
	}
}

static void show_dump_text(const cJSON *d, const struct culprit_catalogue *cat)
{
	const cJSON *b, *dup;
	char t1[40], t2[40], sz[40], line[512];
	int64_t code;

	show_printf("dump %lld  %s\n", (long long)jget_num(d, "id", 0), show_or(jget_str(d, "path"), "?"));
	if (jget_str(d, "host") != NULL) /* --fleet: the machine it came from and its number there */
		show_printf("  %-12s %s (dump %lld there)\n", "host", jget_str(d, "host"),
			    (long long)jget_num(d, "local_id", 0));
	table_format_size(jget_num(d, "size", 0), sz, sizeof(sz));
	when_format(jget_num(d, "discovered_at", 0), 0, t1, sizeof(t1));
	show_printf("  %-12s %s", "state", show_or(jget_str(d, "state"), "?"));
	if (jget_num(d, "attempts", 0) > 0)
		printf("  (attempts %lld)", (long long)jget_num(d, "attempts", 0));
	printf("\n");
	show_kv("last error", jget_str(d, "last_error"));
	show_printf("  %-12s %s UTC\n", "discovered", t1);
	if (jget_num(d, "triaged_at", 0) > 0) {
		when_format(jget_num(d, "triaged_at", 0), 0, t2, sizeof(t2));
		show_printf("  %-12s %s UTC\n", "triaged", t2);
	}
	show_printf("  %-12s %s (%lld bytes)%s\n", "file", sz, (long long)jget_num(d, "size", 0),
		    jget_has(d, "deleted_at") ? ", raw file deleted" : "");
	show_kv("sha256", jget_str(d, "sha256"));
	show_kv("share copy", jget_str(d, "share_path")); /* --fleet: the raw dump on fleet.dump_share */
	if (jget_has(d, "duplicate_of"))
		printf("  %-12s same content as dump %lld\n", "duplicate", (long long)jget_num(d, "duplicate_of", 0));
	if (cJSON_GetArraySize(jget_arr(d, "duplicates")) > 0) {
		printf("  %-12s", "duplicates");
		cJSON_ArrayForEach(dup, jget_arr(d, "duplicates"))
			printf(" %lld", (long long)jget_num(dup, "id", 0));
		printf("\n");
	}
	printf("\ntriage\n");
	if (jget_num(d, "triaged_at", 0) <= 0) {
		printf("  %s\n", strcmp(show_or(jget_str(d, "state"), ""), "failed") == 0 ?
			"failed: the file could not be read as a dump (last error above)" : "not triaged yet");
	} else {
		show_kv("app", jget_str(d, "app"));
		show_printf("  %-12s %s", "process", show_or(jget_str(d, "process_name"), "(unknown)"));
		if (jget_has(d, "pid"))
			printf("  pid %lld", (long long)jget_num(d, "pid", 0));
		if (jget_str(d, "app_version") != NULL && jget_str(d, "app_version")[0])
			show_printf("  version %s", jget_str(d, "app_version"));
		printf("\n");
		show_kv("command", jget_str(d, "command_line"));
		show_printf("  %-12s %s%s%s %s, %s%s%s\n", "system", show_or(jget_str(d, "os"), "unknown-os"),
			    jget_str(d, "os_version") ? " " : "", show_or(jget_str(d, "os_version"), ""),
			    show_or(jget_str(d, "arch"), "unknown-arch"), show_or(jget_str(d, "format"), "?"),
			    jget_str(d, "writer") ? " by " : "", show_or(jget_str(d, "writer"), ""));
		if (jget_num(d, "dump_time", 0) > 0) {
			when_format(jget_num(d, "dump_time", 0), 0, t2, sizeof(t2));
			show_printf("  %-12s %s UTC\n", "dump time", t2);
		}
		if (jget_has(d, "exception_code")) {
			code = jget_num(d, "exception_code", 0);
			snprintf(line, sizeof(line), "%s (0x%llx)", show_or(jget_str(d, "exception_name"), "?"),
				 (unsigned long long)code);
			show_printf("  %-12s %s", "exception", line);
			if (jget_str(d, "exception_address"))
				show_printf(" at %s", jget_str(d, "exception_address"));
			if (jget_str(d, "fault_address"))
				show_printf(", fault address %s", jget_str(d, "fault_address"));
			if (jget_has(d, "crashing_thread"))
				printf(", thread %lld", (long long)jget_num(d, "crashing_thread", 0));
			printf("\n");
		} else {
			printf("  %-12s none recorded\n", "exception");
		}
		printf("  %-12s %lld threads, %lld modules\n", "contents", (long long)jget_num(d, "thread_count", 0),
		       (long long)jget_num(d, "module_count", 0));
		if (jget_str(d, "runtime_name") != NULL)
			show_printf("  %-12s %s %s; heap %s\n", "runtime", jget_str(d, "runtime_name"),
				    show_or(jget_str(d, "runtime_version"), "(version unknown)"),
				    jget_bool(d, "has_heap") ? "present" : "absent");
		else
			printf("  %-12s no .NET runtime\n", "runtime");
	}
	cJSON_ArrayForEach(b, jget_arr(d, "buckets"))
		show_printf("  %-12s %lld  %s  (%s, %lld dumps)\n", "bucket", (long long)jget_num(b, "id", 0),
			    show_or(jget_str(b, "title"), "?"), show_or(jget_str(b, "kind"), "?"),
			    (long long)jget_num(b, "count", 0));
	if (jget_bool(d, "has_leak"))
		printf("  %-12s yes: a context is held by a real root\n", "leak");
	show_analysis(d, cat);
}

static void show_bucket_text(const cJSON *b)
{
	char t1[40], t2[40];
	const cJSON *a;
	struct table t;
	static const struct table_col cols[] = { { "APP", 0, 1 }, { "DUMPS", 1, 0 }, { "FIRST SEEN", 0, 0 },
						 { "LAST SEEN", 0, 0 } };

	when_format(jget_num(b, "first_seen", 0), 0, t1, sizeof(t1));
	when_format(jget_num(b, "last_seen", 0), 0, t2, sizeof(t2));
	show_printf("bucket %lld  %s\n", (long long)jget_num(b, "id", 0), show_or(jget_str(b, "title"), "?"));
	show_printf("  %-12s %s\n", "kind", show_or(jget_str(b, "kind"), "?"));
	show_printf("  %-12s %s\n", "key", show_or(jget_str(b, "key"), "?"));
	printf("  %-12s %lld in %lld application(s)\n", "dumps", (long long)jget_num(b, "count", 0),
	       (long long)jget_num(b, "app_count", 0));
	printf("  %-12s %s UTC\n  %-12s %s UTC\n\n", "first seen", t1, "last seen", t2);
	table_init(&t, cols, DS_ARRAY_LEN(cols), TABLE_TEXT);
	cJSON_ArrayForEach(a, jget_arr(b, "apps")) {
		if (table_cell(&t, jget_str(a, "app")) || table_cellf(&t, "%lld", (long long)jget_num(a, "count", 0)) ||
		    table_cell_time(&t, jget_num(a, "first_seen", 0)) || table_cell_time(&t, jget_num(a, "last_seen", 0)))
			break;
	}
	table_print(&t, stdout, plat_term_width(1), cli_use_color(1));
	table_free(&t);
	printf("\n");
}

/* True when s is a decimal id. */
static int show_is_id(const char *s)
{
	int64_t v;

	return cursor_parse_int(s, 1, INT64_MAX, &v) == DS_OK;
}

int cmd_show(int argc, char **argv)
{
	struct dbopen_opts dbo = { NULL, NULL };
	struct culprit_catalogue cat;
	struct store_dump_ref ref;
	struct cli_src src = { 0 };
	struct ds_err e = { 0 };
	cJSON *obj = NULL;
	const char *what = NULL, *bucket = NULL;
	int64_t id = 0, limit = 50;
	int i, r, mode = TABLE_TEXT, code = DS_EXIT_BADINPUT, rc, is_bucket = 0, have_cat = 0;

	memset(&cat, 0, sizeof(cat));
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if ((r = dbopen_common_arg("show", argc, argv, &i, &dbo, &mode, show_usage, &code)) != 0) {
			if (r < 0)
				goto out;
		} else if (strcmp(a, "--limit") == 0) {
			if (i + 1 >= argc || cursor_parse_int(argv[i + 1], 0, INT64_MAX, &limit) != DS_OK) {
				cli_error("show", "--limit needs a number (0 for all)");
				goto out;
			}
			i++;
		} else if (a[0] == '-' && a[1] != '\0') {
			cli_error("show", "unknown option '%s' (see dumpscout show --help)", a);
			goto out;
		} else if (what == NULL && !is_bucket && strcmp(a, "bucket") == 0) {
			is_bucket = 1;
		} else if (is_bucket && bucket == NULL) {
			bucket = a;
		} else if (!is_bucket && what == NULL) {
			what = a;
		} else {
			cli_error("show", "unexpected argument '%s': show takes one dump (or 'bucket ID')", a);
			goto out;
		}
	}
	if (is_bucket ? bucket == NULL : what == NULL) {
		show_usage(stderr);
		goto out;
	}
	if (is_bucket && cursor_parse_int(bucket, 1, INT64_MAX, &id) != DS_OK) {
		cli_error("show", "bucket '%s': expected a bucket id (see dumpscout buckets)", bucket);
		goto out;
	}
	if (!is_bucket && mode == TABLE_CSV) {
		cli_error("show", "--csv is for 'show bucket ID'; use --json for one dump");
		goto out;
	}
	code = src_open("show", &dbo, &src);
	if (code != DS_EXIT_OK)
		goto out;
	if (is_bucket) {
		rc = src_bucket_get(&src, id, limit, &obj, &e);
	} else {
		if (show_is_id(what)) {
			cursor_parse_int(what, 1, INT64_MAX, &id);
			rc = DS_OK;
		} else if (src.st == NULL) {
			cli_error("show", "with --fleet, name a dump by its number (dumpscout --fleet list shows them)");
			code = DS_EXIT_BADINPUT;
			goto out;
		} else {
			rc = store_dump_find_path(src.st, what, &ref, &e);
			id = ref.id;
			if (rc == DS_ENOENT) {
				cli_error("show", "no dump recorded at '%s'%s (dumpscout list shows the ids)", what,
					  what[0] == '/' ? "" : ": give the full path as the service saw it, or the id");
				code = DS_EXIT_FAIL;
				goto out;
			}
		}
		if (rc == DS_OK)
			rc = src_dump_get(&src, id, &obj, &e);
	}
	if (rc == DS_ENOENT) {
		cli_error("show", "no %s %lld in %s (see dumpscout %s)", is_bucket ? "bucket" : "dump", (long long)id,
			  src.st != NULL ? store_path(src.st) : "the fleet database", is_bucket ? "buckets" : "list");
		code = DS_EXIT_FAIL;
		goto out;
	}
	if (rc != DS_OK) {
		code = src_fail(&src, rc, &e);
		goto out;
	}
	if (mode == TABLE_JSON) {
		rc = table_print_json(stdout, obj);
	} else if (is_bucket) {
		if (mode == TABLE_TEXT)
			show_bucket_text(obj);
		rc = list_print(jget_arr(obj, "dumps"), mode, stdout);
	} else {
		have_cat = culprits_load_builtin(&cat, &e) == DS_OK;
		show_dump_text(obj, have_cat ? &cat : NULL);
		rc = ferror(stdout) ? DS_EIO : DS_OK;
	}
	code = rc == DS_OK ? DS_EXIT_OK : DS_EXIT_FAIL;
	if (rc != DS_OK)
		cli_error("show", "cannot write the output: %s", ds_strerror(rc));
out:
	if (have_cat)
		culprits_free(&cat);
	cJSON_Delete(obj);
	src_close(&src);
	return code;
}
