/* cmd_inspect.c - `dumpscout inspect FILE...`: native triage of crash dumps, printed for a person or
 * as the JSON contract documented in the README. Reads files only; no engine, no database. */
#include "cli.h"
#include "core/text.h"
#include "analyzer/triage.h"
#include "core/ds.h"
#include "core/plat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void inspect_usage(FILE *f)
{
	fprintf(f,
		"usage: dumpscout inspect [--json] [--pretty] [--all-modules] FILE...\n\n"
		"Reads Windows minidumps and Linux/ELF core files without a debugger and prints the process,\n"
		"exception or signal, threads, modules, .NET runtime and crash bucket of each.\n\n"
		"  --json          one JSON object per file, one per line (fields documented in the README)\n"
		"  --pretty        with --json: indented output\n"
		"  --all-modules   list every module (default: the first 12)\n\n"
		"Exit status: 0 all files read, 2 a file is not a dump or is corrupt (the message names the file\n"
		"and the byte offset), 1 a file could not be read.\n\n"
		"example: dumpscout inspect /var/lib/dumpscout/dumps/MyApp.1234.dmp\n");
}

static void inspect_time(char *dst, size_t n, int64_t secs)
{
	struct tm tm;

	if (secs <= 0 || plat_gmtime(secs, &tm) != DS_OK)
		snprintf(dst, n, "unknown");
	else
		strftime(dst, n, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

static void inspect_human(const struct triage *t, const char *file, int all_modules)
{
	char when[40];
	size_t i, shown;

	text_printf("%s\n", file);
	text_printf("  format      %s%s%s%s\n", t->format, t->writer[0] ? " (" : "", t->writer, t->writer[0] ? ")" : "");
	text_printf("  system      %s%s%s, %s", t->os[0] ? t->os : "unknown-os", t->os_version[0] ? " " : "", t->os_version, t->arch[0] ? t->arch : "unknown-arch");
	if (t->cpu_count)
		text_printf(", %u CPU%s", t->cpu_count, t->cpu_count == 1 ? "" : "s");
	text_printf("\n");
	text_printf("  process     %s", t->process_name ? t->process_name : "(unknown)");
	if (t->has_pid)
		text_printf("  pid %llu", (unsigned long long)t->pid);
	if (t->app_version[0])
		text_printf("  version %s", t->app_version);
	text_printf("\n");
	if (t->command_line)
		text_printf("  command     %s\n", t->command_line);
	inspect_time(when, sizeof(when), t->dump_time);
	text_printf("  dump time   %s\n", when);
	if (t->exc.present) {
		text_printf("  %-11s 0x%x %s at 0x%llx", t->exc.is_signal ? "signal" : "exception", t->exc.code,
		       t->exc.name, (unsigned long long)t->exc.address);
		if (t->exc.has_pc)
			text_printf(", pc 0x%llx", (unsigned long long)t->exc.pc);
		if (t->exc.has_fault_address)
			text_printf(" (fault address 0x%llx)", (unsigned long long)t->exc.fault_address);
		if (t->exc.thread_id)
			text_printf(", thread %llu", (unsigned long long)t->exc.thread_id);
		text_printf("\n");
	} else {
		text_printf("  exception   none recorded\n");
	}
	text_printf("  threads     %zu", t->nthreads);
	if (t->has_crashing_thread)
		text_printf(" (crashing: %llu)", (unsigned long long)t->crashing_thread_id);
	text_printf("\n");
	if (t->runtime_name[0])
		text_printf("  runtime     %s %s\n", t->runtime_name, t->runtime_version[0] ? t->runtime_version : "(version unknown)");
	else
		text_printf("  runtime     no .NET runtime loaded\n");
	text_printf("  memory      %llu ranges, %llu bytes%s; heap %s\n", (unsigned long long)t->mem_ranges,
	       (unsigned long long)t->mem_bytes, t->full_memory ? " (full memory)" : "",
	       t->has_heap ? "present: managed analysis possible" : "absent: native triage only");
	text_printf("  modules     %zu\n", t->nmodules);
	shown = all_modules ? t->nmodules : (t->nmodules < 12 ? t->nmodules : 12);
	for (i = 0; i < shown; i++) {
		const struct triage_module *m = &t->modules[i];
		text_printf("              0x%-16llx %-32s %s\n", (unsigned long long)m->base, m->name ? m->name : "?",
		       m->version);
	}
	if (shown < t->nmodules)
		text_printf("              ... %zu more (--all-modules)\n", t->nmodules - shown);
	text_printf("  bucket      %s\n", t->bucket ? t->bucket : "");
}

/* Triage one file and print it; returns the exit code for this file. */
static int inspect_one(const char *file, int json, int pretty, int all_modules, int many)
{
	struct ds_err err;
	struct triage t;
	char *js;
	int rc;

	memset(&err, 0, sizeof(err));
	rc = triage_read_file(file, &t, &err);
	if (rc != DS_OK) {
		if (err.has_offset)
			cli_error("inspect", "%s: %s at offset %llu (0x%llx): %s", file, ds_strerror(rc),
				  (unsigned long long)err.offset, (unsigned long long)err.offset, err.msg);
		else
			cli_error("inspect", "%s: %s", file, err.msg[0] ? err.msg : ds_strerror(rc));
		return ds_exit_code(rc);
	}
	if (json) {
		js = triage_to_json(&t, file, pretty);
		if (js == NULL) {
			cli_error("inspect", "%s: out of memory", file);
			rc = DS_ENOMEM;
		} else {
			cli_print_json(stdout, js);
			free(js);
		}
	} else {
		if (many)
			text_printf("\n");
		inspect_human(&t, file, all_modules);
	}
	triage_free(&t);
	return ds_exit_code(rc);
}

int cmd_inspect(int argc, char **argv)
{
	int json = 0, pretty = 0, all_modules = 0, worst = DS_EXIT_OK, nfiles = 0, i, code, opts = 1;
	char **files;

	files = calloc((size_t)argc, sizeof(*files));
	if (files == NULL)
		return DS_EXIT_FAIL;
	for (i = 1; i < argc; i++) {
		if (opts && strcmp(argv[i], "--") == 0) {
			opts = 0;
		} else if (opts && (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)) {
			inspect_usage(stdout);
			goto out;
		} else if (opts && strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else if (opts && strcmp(argv[i], "--pretty") == 0) {
			pretty = 1;
		} else if (opts && strcmp(argv[i], "--all-modules") == 0) {
			all_modules = 1;
		} else if (opts && argv[i][0] == '-' && argv[i][1] != '\0') {
			cli_error("inspect", "unknown option '%s' (see dumpscout inspect --help)", argv[i]);
			worst = DS_EXIT_BADINPUT;
			goto out;
		} else {
			files[nfiles++] = argv[i];
		}
	}
	if (nfiles == 0) {
		inspect_usage(stderr);
		worst = DS_EXIT_BADINPUT;
		goto out;
	}
	for (i = 0; i < nfiles; i++) {
		code = inspect_one(files[i], json, pretty, all_modules, nfiles > 1);
		/* Bad input outranks an operational failure: scripts test for 2 to spot corrupt dumps. */
		if (code == DS_EXIT_BADINPUT || worst == DS_EXIT_OK)
			worst = code;
	}
out:
	free(files);
	return worst;
}
