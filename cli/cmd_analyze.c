/* cmd_analyze.c - `dumpscout analyze`: native triage plus the heap engine's analysis of one .NET dump,
 * printed as a report a person can act on (one verdict line per held context first: what holds it, the
 * known cause and the fix; then the root paths), or as the JSON contract documented in the README. Also
 * classifies a saved SOS session (--transcript) or an engine document (--engine-json). It starts the
 * engine only through analyzer/heap_analyze.c; every string from the dump is printed through the
 * one sanitiser (core/text.h). */
#include "cli.h"
#include "table.h"
#include "core/text.h"
#include "analyzer/crashreport.h"
#include "analyzer/dsrc.h"
#include "analyzer/heap_analyze.h"
#include "analyzer/heap_run.h"
#include "analyzer/triage.h"
#include "core/ds.h"
#include "core/plat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ANALYZE_TRANSCRIPT_MAX (64u << 20)

struct analyze_args {
	const char *dump;
	const char *transcript;
	const char *document;
	const char *engine;
	const char *dac;
	const char *save;
	int json, pretty, quiet, all_roots;
	unsigned timeout_s;
};

static void analyze_usage(FILE *f)
{
	fprintf(f,
		"usage: dumpscout analyze [--json [--pretty]] [--all-roots] [--timeout S] [--engine PATH] [--dac PATH]\n"
		"                         [--save-document FILE] DUMP\n"
		"       dumpscout analyze --transcript FILE [--json [--pretty]] [--all-roots]\n"
		"       dumpscout analyze --engine-json FILE [--json [--pretty]] [--all-roots]\n\n"
		"Finds the collectible AssemblyLoadContexts still alive in a .NET heap dump and what holds each one:\n"
		"it runs the heap engine (dumpscout-heap) once on the dump, which walks the heap from every root the\n"
		"runtime has, then names the static field, handle, thread or runtime registry (timer, event, resolve\n"
		"handler, cache...) that holds each unloaded context and what the plugin registered there, with\n"
		"advice. Native triage (process, exception, runtime) comes first.\n\n"
		"  --json              print the JSON object documented in the README\n"
		"  --all-roots         also show probable false roots (the runtime's own weak and context handles)\n"
		"  --timeout S         give up on the engine after S seconds (default 600)\n"
		"  --engine PATH       the heap engine to run (default: build/engine, libexec/dumpscout, PATH)\n"
		"  --dac PATH          the runtime's DAC to use (default: found from the dump's runtime version)\n"
		"  --save-document F   write the engine's JSON document to F (attach it to a bug report)\n"
		"  --transcript F      classify a saved SOS session instead (dotnet-dump or WinDbg/SOS output pasted\n"
		"                      from another machine); no engine is started\n"
		"  --engine-json F     classify a saved engine document instead; no engine is started\n"
		"  -q, --quiet         no progress on the terminal\n\n"
		"Exit status: 0 analysed (whether or not a leak was found), 1 the engine is missing, failed or timed\n"
		"out, or the DAC is missing, 2 not a dump / corrupt / bad arguments / a transcript that was forged.\n\n"
		"example: dumpscout analyze /var/lib/dumpscout/dumps/MyHost.4242.dmp\n");
}

static int analyze_parse_args(int argc, char **argv, struct analyze_args *a)
{
	static const char *const valued[] = { "--timeout", "--engine", "--transcript", "--save-document",
		"--engine-json", "--dac" };
	size_t k;
	int i, inputs;

	memset(a, 0, sizeof(*a));
	a->timeout_s = 600;
	for (i = 1; i < argc; i++) {
		const char *s = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0)
			return 1;
		for (k = 0; k < DS_ARRAY_LEN(valued) && strcmp(s, valued[k]) != 0; k++)
			;
		if (strcmp(s, "--json") == 0) {
			a->json = 1;
		} else if (strcmp(s, "--pretty") == 0) {
			a->pretty = 1;
		} else if (strcmp(s, "--all-roots") == 0) {
			a->all_roots = 1;
		} else if (strcmp(s, "-q") == 0 || strcmp(s, "--quiet") == 0) {
			a->quiet = 1;
		} else if (k < DS_ARRAY_LEN(valued)) {
			if (v == NULL) {
				cli_error("analyze", "%s needs a value (see dumpscout analyze --help)", s);
				return -1;
			}
			i++;
			if (strcmp(s, "--timeout") == 0) {
				char *end = NULL;
				unsigned long t = strtoul(v, &end, 10);

				if (end == v || *end != '\0' || t == 0 || t > 86400) {
					cli_error("analyze", "--timeout takes seconds between 1 and 86400, not '%s'", v);
					return -1;
				}
				a->timeout_s = (unsigned)t;
			} else if (strcmp(s, "--engine") == 0) {
				a->engine = v;
			} else if (strcmp(s, "--dac") == 0) {
				a->dac = v;
			} else if (strcmp(s, "--transcript") == 0) {
				a->transcript = v;
			} else if (strcmp(s, "--engine-json") == 0) {
				a->document = v;
			} else {
				a->save = v;
			}
		} else if (s[0] == '-' && s[1] != '\0') {
			cli_error("analyze", "unknown option '%s' (see dumpscout analyze --help)", s);
			return -1;
		} else if (a->dump == NULL) {
			a->dump = s;
		} else {
			cli_error("analyze", "one dump at a time ('%s' and '%s')", a->dump, s);
			return -1;
		}
	}
	inputs = (a->dump != NULL) + (a->transcript != NULL) + (a->document != NULL);
	if (inputs != 1) {
		cli_error("analyze", inputs ? "give one of DUMP, --transcript FILE or --engine-json FILE"
					    : "which dump? (see dumpscout analyze --help)");
		return -1;
	}
	return 0;
}

/* Target text (names, messages, frames) through the one sanitiser (core/text.c). */
static void pc(const char *s)
{
	text_printf("%s", s != NULL ? s : "");
}

static const char *state_words(enum classify_state s)
{
	switch (s) {
	case CS_LIVE: return "live (not unloaded)";
	case CS_UNLOADING_HELD: return "UNLOADED BUT STILL HELD";
	case CS_UNLOADING_NO_ROOTS: return "UNLOADED, STILL ALIVE, NO ROOT PATH FOUND";
	default: return "state unknown";
	}
}

static void analyze_print_root(const struct classify_root *rt, int color)
{
	const char *bold = color ? "\033[1m" : "", *dim = color ? "\033[2m" : "", *off = color ? "\033[0m" : "";
	size_t k;

	printf("    %s%s", bold, rt->kind);
	printf("%s  ", off);
	pc(rt->owner);
	if (rt->probable_false_root)
		printf(" %s(probable false root: %s)%s", dim, rt->false_reason, off);
	printf("\n      culprit ");
	pc(rt->culprit);
	if (rt->registered != NULL) {
		printf("; registered by the plugin (%s): ", rt->mechanism ? rt->mechanism : "delegate");
		pc(rt->registered);
	}
	printf("\n      path    ");
	for (k = 0; k < rt->nchain; k++) {
		printf("%s", k ? " -> " : "");
		pc(rt->chain[k]);
	}
	if (rt->src->path_truncated)
		printf(" (cut)");
	printf("\n");
	if (rt->src->sos_label) {
		printf("      %s(SOS labelled it '", dim);
		pc(rt->src->sos_label);
		printf("'; the class's static values say otherwise)%s\n", off);
	}
	printf("      signature %s, catalogue %s\n", rt->signature_hex, rt->catalogue->id);
}

static void analyze_print_human(const struct triage *t, const char *file, const struct heap_analysis *a,
				const struct crashreport *cr, int have_cr, const char *bucket, int all_roots, int color)
{
	const char *bold = color ? "\033[1m" : "", *red = color ? "\033[1;31m" : "", *off = color ? "\033[0m" : "";
	const struct classify_result *r = &a->result;
	const struct facts *f = a->has_facts ? &a->facts : NULL;
	size_t i, j, k, held = 0, hidden;
	char *line;

	printf("%s", bold);
	pc(file);
	printf("%s\n", off);
	if (t != NULL) {
		printf("  process     ");
		pc(t->process_name ? t->process_name : "(unknown)");
		if (t->has_pid)
			printf(" (pid %llu)", (unsigned long long)t->pid);
		printf(", %s %s\n", t->os, t->arch);
		if (t->exc.present)
			printf("  crash       %s 0x%x at 0x%llx\n", t->exc.name[0] ? t->exc.name : (t->exc.is_signal ? "signal" : "exception"),
			       t->exc.code, (unsigned long long)t->exc.address);
		printf("  runtime     %s %s\n", t->runtime_name[0] ? t->runtime_name : "none", t->runtime_version);
	}
	printf("  analysis    %s", heap_status_name(a->status));
	if (a->duration_ms)
		printf(" in %.1f s", (double)a->duration_ms / 1000.0);
	if (f != NULL && f->source != NULL) {
		printf(" (");
		pc(f->source);
		printf(")");
	}
	printf("\n");
	if (a->error[0]) {
		printf("              ");
		pc(a->error);
		printf("\n");
	}
	if (bucket != NULL) {
		printf("  bucket      ");
		pc(bucket);
		printf("\n");
	}
	if (!a->classified)
		goto exception;
	for (i = 0; i < r->ncontexts; i++)
		if (r->contexts[i].state == CS_UNLOADING_HELD || r->contexts[i].state == CS_UNLOADING_NO_ROOTS)
			held++;
	printf("\n");
	if (r->ncontexts == 0)
		printf("  No collectible AssemblyLoadContext is alive in this dump: nothing leaks.\n");
	else if (held == 0)
		printf("  %zu collectible AssemblyLoadContext%s alive; none was unloaded.\n", r->ncontexts,
		       r->ncontexts == 1 ? "" : "s");
	/* one verdict line per unloaded context first: what a person reads */
	for (i = 0; i < r->ncontexts; i++) {
		const struct classify_context *c = &r->contexts[i];

		if (c->state != CS_UNLOADING_HELD && c->state != CS_UNLOADING_NO_ROOTS)
			continue;
		line = classify_verdict_line(c, f && f->has_searched ? &f->searched : NULL);
		printf("  %sLEAK%s ", red, off);
		pc(line);
		printf("\n");
		free(line);
	}
	for (i = 0; i < r->ncontexts; i++) {
		const struct classify_context *c = &r->contexts[i];

		printf("\n  %sContext '", bold);
		pc(c->src->name ? c->src->name : "(unnamed)");
		printf("'%s  %s  (LoaderAllocator 0x%llx)\n", off, state_words(c->state),
		       (unsigned long long)c->src->loader_allocator);
		if (c->state == CS_LIVE && !all_roots) {
			printf("    (not unloaded: its roots are normal; --all-roots lists them)\n");
			continue;
		}
		hidden = 0;
		for (j = 0; j < c->nroots; j++) {
			if (c->roots[j].probable_false_root && !all_roots) {
				hidden++;
				continue;
			}
			analyze_print_root(&c->roots[j], color);
			if (c->state == CS_UNLOADING_HELD && !c->roots[j].probable_false_root) {
				printf("      why: ");
				pc(c->roots[j].catalogue->explanation);
				printf("\n");
			}
		}
		if (hidden > 0)
			printf("    (%zu probable false root%s hidden: --all-roots shows them)\n", hidden, hidden == 1 ? "" : "s");
	}
exception:
	if (f != NULL && f->has_exception) {
		printf("\n  managed exception  ");
		pc(f->exception.type);
		if (f->exception.message) {
			printf(": ");
			pc(f->exception.message);
		}
		printf("\n");
		for (k = 0; k < f->exception.nstack && k < 8; k++) {
			printf("      at ");
			pc(f->exception.stack[k]);
			printf("\n");
		}
	} else if (have_cr && cr->exception_type != NULL) {
		printf("\n  managed exception  ");
		pc(cr->exception_type);
		printf(" (from the crash report)\n");
		for (k = 0; k < cr->nframes && k < 8; k++) {
			printf("      at ");
			pc(cr->frames[k].method);
			printf("\n");
		}
	}
	if (f != NULL && f->has_faulting_thread && f->nfaulting_stack > 0) {
		printf("\n  faulting thread ");
		pc(f->faulting_thread.os_id ? f->faulting_thread.os_id : "?");
		printf(", managed stack:\n");
		for (k = 0; k < f->nfaulting_stack && k < 12; k++) {
			printf("      ");
			pc(f->faulting_stack[k]);
			printf("\n");
		}
	}
}

/* --transcript and --engine-json: classify a saved file. */
static int analyze_saved_file(const struct analyze_args *args)
{
	const char *path = args->transcript ? args->transcript : args->document;
	struct heap_analysis a;
	struct ds_err e;
	char *text = NULL, *js;
	size_t len = 0;
	int rc, code = DS_EXIT_OK;

	memset(&e, 0, sizeof(e));
	memset(&a, 0, sizeof(a));
	rc = plat_read_file(path, ANALYZE_TRANSCRIPT_MAX, &text, &len);
	if (rc != DS_OK) {
		cli_error("analyze", "%s: %s", path, ds_strerror(rc));
		return rc == DS_ETOOBIG ? DS_EXIT_BADINPUT : DS_EXIT_FAIL;
	}
	if (args->transcript != NULL) {
		rc = heap_analyze_transcript(text, len, &a, &e);
		if (rc != DS_OK) {
			if (e.has_offset)
				cli_error("analyze", "%s: line %llu: %s", path, (unsigned long long)e.offset, e.msg);
			else
				cli_error("analyze", "%s: %s", path, e.msg[0] ? e.msg : ds_strerror(rc));
			code = ds_exit_code(rc == DS_ETOOBIG ? DS_EPARSE : rc);
			goto out;
		}
	} else {
		if (heap_analyze_document(text, len, &a) != DS_OK) {
			cli_error("analyze", "%s: out of memory", path);
			code = DS_EXIT_FAIL;
			goto out;
		}
		if (a.status == HS_BAD_OUTPUT) {
			cli_error("analyze", "%s: %s", path, a.error);
			code = DS_EXIT_BADINPUT;
			goto out;
		}
		if (a.status != HS_OK && a.status != HS_PARTIAL)
			code = DS_EXIT_FAIL;
	}
	if (args->json) {
		js = heap_analysis_to_json(path, NULL, &a, NULL, NULL, args->all_roots, args->pretty);
		if (js != NULL)
			cli_print_json(stdout, js);
		free(js);
	} else {
		analyze_print_human(NULL, path, &a, NULL, 0, NULL, args->all_roots, cli_use_color(1));
	}
out:
	heap_analysis_free(&a);
	free(text);
	return code;
}

int cmd_analyze(int argc, char **argv)
{
	struct analyze_args args;
	struct heap_opts o;
	struct heap_analysis a;
	struct crashreport cr;
	struct triage t;
	struct ds_err e;
	struct plat_file *f = NULL;
	struct dsrc src;
	char *engine = NULL, *js, *tj, crpath[4096], *rtdir = NULL, *bkey = NULL, *btitle = NULL;
	int have_cr = 0, rc, code = DS_EXIT_OK;

	rc = analyze_parse_args(argc, argv, &args);
	if (rc != 0) {
		analyze_usage(rc > 0 ? stdout : stderr);
		return rc > 0 ? DS_EXIT_OK : DS_EXIT_BADINPUT;
	}
	if (args.transcript != NULL || args.document != NULL)
		return analyze_saved_file(&args);

	memset(&a, 0, sizeof(a));
	memset(&e, 0, sizeof(e));
	/* opened once: triage and the engine read this open file, whatever the path names later (Windows:
	 * nobody may rewrite, rename or delete it while it is open) */
	triage_init(&t);
	rc = plat_file_open_ex(args.dump, PLAT_OPEN_LOCK, &f);
	if (rc != DS_OK) {
		cli_error("analyze", "%s: cannot open: %s", args.dump, ds_strerror(rc));
		return ds_exit_code(rc);
	}
	dsrc_init_file(&src, f);
	rc = triage_read(&src, &t, &e);
	if (rc != DS_OK) {
		if (e.has_offset)
			cli_error("analyze", "%s: %s at offset %llu (0x%llx): %s", args.dump, ds_strerror(rc),
				  (unsigned long long)e.offset, (unsigned long long)e.offset, e.msg);
		else
			cli_error("analyze", "%s: %s", args.dump, e.msg[0] ? e.msg : ds_strerror(rc));
		code = ds_exit_code(rc);
		goto out;
	}
	snprintf(crpath, sizeof(crpath), "%s.crashreport.json", args.dump);
	memset(&cr, 0, sizeof(cr));
	have_cr = crashreport_read_file(crpath, &cr, &e) == DS_OK;

	if (t.runtime_name[0] == '\0') {
		a.status = HS_NOT_DOTNET;
		snprintf(a.error, sizeof(a.error), "no .NET runtime is loaded in this process: native triage only");
	} else if (!t.has_heap) {
		a.status = HS_NO_HEAP;
		snprintf(a.error, sizeof(a.error), "%s", triage_no_heap_advice(&t));
	} else {
		engine = heap_find_engine(args.engine);
		heap_opts_default(&o);
		o.engine = engine;
		o.dac = args.dac;
		o.runtime_version = t.runtime_version[0] ? t.runtime_version : NULL;
		o.runtime_dir = rtdir = triage_runtime_dir(&t);
		o.timeout_ms = args.timeout_s * 1000u;
		o.file = f;
		if (!args.quiet && plat_isatty(2))
			fprintf(stderr, "analyzing %s with the heap engine...", args.dump);
		rc = heap_analyze_dump(args.dump, &o, &a);
		if (!args.quiet && plat_isatty(2))
			fprintf(stderr, "\r\033[K");
		if (rc != DS_OK) {
			cli_error("analyze", "%s: %s", args.dump, ds_strerror(rc));
			code = DS_EXIT_FAIL;
			goto out;
		}
		if (a.status != HS_OK && a.status != HS_PARTIAL)
			code = DS_EXIT_FAIL;
		if (a.status == HS_ENGINE_MISSING || a.status == HS_NO_DAC)
			cli_error("analyze", "%s", a.error);
	}
	if (heap_crash_bucket(t.process_name ? triage_basename(t.process_name) : NULL, t.app_version, &a,
		    have_cr ? &cr : NULL, &bkey, &btitle) != DS_OK) {
		code = DS_EXIT_FAIL;
		goto out;
	}
	if (args.save != NULL && a.document != NULL &&
	    plat_write_file_atomic(args.save, a.document, a.document_len, 0600) != DS_OK) {
		cli_error("analyze", "cannot write the engine's document to %s", args.save);
		code = DS_EXIT_FAIL;
	}
	if (args.json) {
		tj = triage_to_json(&t, args.dump, 0);
		js = tj != NULL ? heap_analysis_to_json(args.dump, tj, &a, have_cr ? &cr : NULL, bkey, args.all_roots,
			args.pretty) : NULL;
		free(tj);
		if (js != NULL)
			cli_print_json(stdout, js);
		else
			code = DS_EXIT_FAIL;
		free(js);
	} else {
		analyze_print_human(&t, args.dump, &a, &cr, have_cr, bkey, args.all_roots, cli_use_color(1));
	}
out:
	heap_analysis_free(&a);
	if (have_cr)
		crashreport_free(&cr);
	triage_free(&t);
	plat_file_close(f);
	free(engine);
	free(rtdir);
	free(bkey);
	free(btitle);
	return code;
}
