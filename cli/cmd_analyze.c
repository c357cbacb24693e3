/* cmd_analyze.c - `dumpscout analyze`: native triage plus the SOS analysis of one .NET dump, printed as a
 * report a person can act on (which context is alive, held by what, through which chain, and what to do),
 * or as the JSON contract documented in the README. Also re-classifies a saved SOS session. It starts the
 * engine only through analyzer/sos_analyze.c. */
#include "cli.h"
#include "core/text.h"
#include "analyzer/crashreport.h"
#include "analyzer/sos_analyze.h"
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
	const char *engine;
	const char *save;
	int json, pretty, quiet;
	unsigned timeout_s;
	unsigned ptr_size; /* --ptr-size for a transcript: 4 or 8 */
};

static void analyze_usage(FILE *f)
{
	fprintf(f,
		"usage: dumpscout analyze [--json [--pretty]] [--timeout S] [--engine PATH] [--save-transcript FILE] DUMP\n"
		"       dumpscout analyze --transcript FILE [--json [--pretty]] [--ptr-size 4|8]\n\n"
		"Finds the collectible AssemblyLoadContexts still alive in a .NET heap dump and what holds each one:\n"
		"it runs the SOS engine (dotnet-dump analyze) once on the dump, lists the LoaderAllocator objects,\n"
		"roots them and their contexts' objects with gcroot, names the static field, handle, thread or cache\n"
		"that holds them, and gives advice. Native triage (process, exception, runtime) comes first.\n\n"
		"  --json              print the JSON object documented in the README\n"
		"  --timeout S         give up on the engine after S seconds (default 600)\n"
		"  --engine PATH       the dotnet-dump to run (default: .tools/dotnet-dump, then PATH)\n"
		"  --save-transcript F write the whole engine session to F (attach it to a bug report)\n"
		"  --transcript F      classify a saved session instead (dotnet-dump or WinDbg/SOS output pasted from\n"
		"                      another machine); no engine is started\n"
		"  -q, --quiet         no progress on the terminal\n\n"
		"Exit status: 0 analysed (whether or not a leak was found), 1 the engine is missing, failed or timed\n"
		"out, 2 not a dump / corrupt / bad arguments.\n\n"
		"example: dumpscout analyze /var/lib/dumpscout/dumps/MyHost.4242.dmp\n");
}

static int analyze_parse_args(int argc, char **argv, struct analyze_args *a)
{
	int i;

	memset(a, 0, sizeof(*a));
	a->timeout_s = 600;
	a->ptr_size = 8;
	for (i = 1; i < argc; i++) {
		const char *s = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0)
			return 1;
		if (strcmp(s, "--json") == 0) {
			a->json = 1;
		} else if (strcmp(s, "--pretty") == 0) {
			a->pretty = 1;
		} else if (strcmp(s, "-q") == 0 || strcmp(s, "--quiet") == 0) {
			a->quiet = 1;
		} else if ((strcmp(s, "--timeout") == 0 || strcmp(s, "--engine") == 0 || strcmp(s, "--transcript") == 0 ||
			    strcmp(s, "--save-transcript") == 0 || strcmp(s, "--ptr-size") == 0)) {
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
			} else if (strcmp(s, "--transcript") == 0) {
				a->transcript = v;
			} else if (strcmp(s, "--save-transcript") == 0) {
				a->save = v;
			} else if (strcmp(v, "4") == 0 || strcmp(v, "8") == 0) {
				a->ptr_size = (unsigned)(v[0] - '0');
			} else {
				cli_error("analyze", "--ptr-size is 4 or 8, not '%s'", v);
				return -1;
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
	if ((a->dump == NULL) == (a->transcript == NULL)) {
		cli_error("analyze", a->dump ? "give either a DUMP or --transcript FILE, not both"
					     : "which dump? (see dumpscout analyze --help)");
		return -1;
	}
	return 0;
}

struct progress {
	int on;
	uint64_t t0;
};

static void analyze_progress(void *ctx, unsigned step, const char *what)
{
	struct progress *p = ctx;

	if (!p->on)
		return;
	fprintf(stderr, "\r\033[K[%5.1fs] step %u: %s", (double)(plat_mono_ns() - p->t0) / 1e9, step, what);
	fflush(stderr);
}

static const char *state_words(enum classify_state s)
{
	switch (s) {
	case CS_LIVE: return "live (not unloaded yet)";
	case CS_UNLOADING_HELD: return "UNLOADED BUT STILL HELD";
	case CS_UNLOADING_NO_ROOTS: return "unloading, nothing holds it";
	default: return "state unknown";
	}
}

/* style (a colour escape of ours, or "") + fmt with its one string argument cleaned + off. */
static void analyze_styled(const char *style, const char *fmt, const char *arg, const char *off)
{
	fputs(style, stdout);
	text_printf(fmt, arg);
	fputs(off, stdout);
}

static void analyze_print_human(const struct triage *t, const char *file, const struct sos_analysis *a,
				const struct crashreport *cr, int have_cr, int color)
{
	const char *bold = color ? "\033[1m" : "", *red = color ? "\033[1;31m" : "", *dim = color ? "\033[2m" : "";
	const char *off = color ? "\033[0m" : "";
	const struct classify_result *r = &a->result;
	size_t i, j, k, held = 0;

	analyze_styled(bold, "%s", file, off);
	text_printf("\n");
	if (t != NULL) {
		text_printf("  process     %s", t->process_name ? t->process_name : "(unknown)");
		if (t->has_pid)
			text_printf(" (pid %llu)", (unsigned long long)t->pid);
		text_printf(", %s %s\n", t->os, t->arch);
		if (t->exc.present)
			text_printf("  crash       %s 0x%x at 0x%llx\n", t->exc.name[0] ? t->exc.name : (t->exc.is_signal ? "signal" : "exception"),
			       t->exc.code, (unsigned long long)t->exc.address);
		text_printf("  runtime     %s %s\n", t->runtime_name[0] ? t->runtime_name : "none", t->runtime_version);
	}
	text_printf("  analysis    %s", sos_status_name(a->status));
	if (a->commands)
		text_printf(" in %.1f s, %u engine commands", (double)a->duration_ms / 1000.0, a->commands);
	text_printf("\n");
	if (a->error[0])
		text_printf("              %s\n", a->error);
	if (!a->classified)
		goto exception;
	for (i = 0; i < r->ncontexts; i++)
		if (r->contexts[i].state == CS_UNLOADING_HELD)
			held++;
	if (r->ncontexts == 0)
		text_printf("\n  No collectible AssemblyLoadContext is alive in this dump: nothing leaks.\n");
	else if (held > 0) {
		fputs("\n  ", stdout);
		fputs(red, stdout);
		text_printf("LEAK: %zu AssemblyLoadContext%s unloaded but still held", held, held == 1 ? "" : "s");
		fputs(off, stdout);
		text_printf(" (%zu alive in all)\n", r->ncontexts);
	} else
		text_printf("\n  %zu collectible AssemblyLoadContext%s alive; none is held after Unload().\n", r->ncontexts,
		       r->ncontexts == 1 ? "" : "s");
	for (i = 0; i < r->ncontexts; i++) {
		const struct classify_context *c = &r->contexts[i];
		text_printf("\n  ");
		analyze_styled(bold, "Context '%s'", c->name ? c->name : "(unnamed)", off);
		text_printf("  %s  (LoaderAllocator 0x%llx)\n", state_words(c->state), (unsigned long long)c->loader_allocator);
		for (j = 0; j < c->nroots; j++) {
			const struct classify_root *rt = &c->roots[j];
			if (rt->probable_false_root && c->nroots > 1)
				continue;
			text_printf("    %s ", classify_kind_name(rt->kind));
			analyze_styled(bold, "%s", rt->culprit ? rt->culprit : "(no culprit named)", off);
			if (rt->probable_false_root) {
				fputs(" ", stdout);
				analyze_styled(dim, "%s", "(probable false root)", off);
			}
			text_printf("\n      ");
			for (k = 0; k < rt->nchain; k++)
				text_printf("%s%s", k ? " -> " : "", rt->chain[k]);
			text_printf("\n");
			if (rt->frame)
				text_printf("      thread %s, frame %s\n", rt->thread_id ? rt->thread_id : "?", rt->frame);
			if (rt->sos_label) {
				fputs("      ", stdout);
				analyze_styled(dim, "(SOS labelled it '%s'; the class's static values say otherwise)", rt->sos_label, off);
				text_printf("\n");
			}
			text_printf("      signature %s\n", rt->signature_hex);
			if (rt->catalogue != NULL) {
				fputs("      ", stdout);
				analyze_styled(bold, "%s", rt->catalogue->title, off);
				text_printf("\n");
				text_printf("      why: %s\n", rt->catalogue->explanation);
				text_printf("      fix: %s\n", rt->catalogue->advice);
			}
		}
	}
exception:
	if (a->classified && r->has_exception) {
		text_printf("\n  managed exception  %s", r->exception.type);
		if (r->exception.message)
			text_printf(": %s", r->exception.message);
		text_printf("\n");
		for (k = 0; k < r->exception.nstack && k < 8; k++)
			text_printf("      at %s\n", r->exception.stack[k]);
	}
	if (a->has_stack) {
		text_printf("\n  faulting thread %s, managed stack:\n", a->stack.os_thread_id ? a->stack.os_thread_id : "?");
		for (k = 0; k < a->stack.nframes && k < 12; k++)
			text_printf("      %s\n", a->stack.frames[k].call_site);
	}
	if (a->classified && r->has_exception) {
		/* printed above */
	} else if (have_cr && cr->exception_type != NULL) {
		text_printf("\n  managed exception  %s (from the crash report)\n", cr->exception_type);
		for (k = 0; k < cr->nframes && k < 8; k++)
			text_printf("      at %s\n", cr->frames[k].method);
	}
}

static int analyze_transcript_file(const struct analyze_args *args, unsigned ptr_size)
{
	struct sos_analysis a;
	struct ds_err e;
	char *text = NULL, *js;
	size_t len = 0;
	int rc, code = DS_EXIT_OK;

	memset(&e, 0, sizeof(e));
	rc = plat_read_file(args->transcript, ANALYZE_TRANSCRIPT_MAX, &text, &len);
	if (rc != DS_OK) {
		cli_error("analyze", "%s: %s", args->transcript, ds_strerror(rc));
		return rc == DS_ETOOBIG ? DS_EXIT_BADINPUT : DS_EXIT_FAIL;
	}
	rc = sos_analyze_transcript(text, len, ptr_size, &a, &e);
	if (rc != DS_OK) {
		if (e.has_offset)
			cli_error("analyze", "%s: line %llu: %s", args->transcript, (unsigned long long)e.offset, e.msg);
		else
			cli_error("analyze", "%s: %s", args->transcript, e.msg[0] ? e.msg : ds_strerror(rc));
		code = ds_exit_code(rc == DS_ETOOBIG ? DS_EPARSE : rc);
		goto out;
	}
	if (args->json) {
		js = sos_analysis_to_json(args->transcript, NULL, &a, NULL, args->pretty);
		if (js != NULL)
			cli_print_json(stdout, js);
		free(js);
	} else {
		analyze_print_human(NULL, args->transcript, &a, NULL, 0, cli_use_color(1));
	}
	sos_analysis_free(&a);
out:
	free(text);
	return code;
}

int cmd_analyze(int argc, char **argv)
{
	struct analyze_args args;
	struct sos_analyze_opts o;
	struct sos_analysis a;
	struct crashreport cr;
	struct triage t;
	struct ds_err e;
	struct progress prog;
	char *engine = NULL, *js, *tj, crpath[4096];
	unsigned ptr_size = 8;
	int have_cr = 0, rc, code = DS_EXIT_OK;

	rc = analyze_parse_args(argc, argv, &args);
	if (rc != 0) {
		analyze_usage(rc > 0 ? stdout : stderr);
		return rc > 0 ? DS_EXIT_OK : DS_EXIT_BADINPUT;
	}
	if (args.transcript != NULL)
		return analyze_transcript_file(&args, args.ptr_size);

	memset(&a, 0, sizeof(a));
	memset(&e, 0, sizeof(e));
	rc = triage_read_file(args.dump, &t, &e);
	if (rc != DS_OK) {
		if (e.has_offset)
			cli_error("analyze", "%s: %s at offset %llu (0x%llx): %s", args.dump, ds_strerror(rc),
				  (unsigned long long)e.offset, (unsigned long long)e.offset, e.msg);
		else
			cli_error("analyze", "%s: %s", args.dump, e.msg[0] ? e.msg : ds_strerror(rc));
		return ds_exit_code(rc);
	}
	snprintf(crpath, sizeof(crpath), "%s.crashreport.json", args.dump);
	memset(&cr, 0, sizeof(cr));
	have_cr = crashreport_read_file(crpath, &cr, &e) == DS_OK;
	if (strcmp(t.arch, "x86") == 0 || strcmp(t.arch, "arm") == 0)
		ptr_size = 4;

	if (t.runtime_name[0] == '\0') {
		a.status = SOS_NOT_DOTNET;
		snprintf(a.error, sizeof(a.error), "no .NET runtime is loaded in this process: native triage only");
	} else if (!t.has_heap) {
		a.status = SOS_NO_HEAP;
		snprintf(a.error, sizeof(a.error),
			 "the dump holds no heap memory (a mini or triage dump): collect a heap dump (DumpType 2 / "
			 "DOTNET_DbgMiniDumpType=2) for the managed analysis");
	} else {
		engine = sos_run_find_engine(args.engine);
		sos_analyze_opts_default(&o);
		o.engine = engine;
		o.ptr_size = ptr_size;
		o.lim.dump_timeout_ms = args.timeout_s * 1000u;
		if (o.lim.cmd_timeout_ms > o.lim.dump_timeout_ms)
			o.lim.cmd_timeout_ms = o.lim.dump_timeout_ms;
		prog.on = !args.quiet && plat_isatty(2);
		prog.t0 = plat_mono_ns();
		o.progress = analyze_progress;
		o.progress_ctx = &prog;
		rc = sos_analyze_dump(args.dump, &o, &a);
		if (prog.on)
			fprintf(stderr, "\r\033[K");
		if (rc != DS_OK) {
			cli_error("analyze", "%s: %s", args.dump, ds_strerror(rc));
			code = DS_EXIT_FAIL;
			goto out;
		}
		if (a.status != SOS_OK)
			code = DS_EXIT_FAIL;
		if (a.status == SOS_ENGINE_MISSING)
			cli_error("analyze", "%s", a.error);
	}
	if (args.save != NULL && a.transcript != NULL &&
	    plat_write_file_atomic(args.save, a.transcript, a.transcript_len, 0644) != DS_OK) {
		cli_error("analyze", "cannot write the transcript to %s", args.save);
		code = DS_EXIT_FAIL;
	}
	if (args.json) {
		tj = triage_to_json(&t, args.dump, 0);
		js = tj != NULL ? sos_analysis_to_json(args.dump, tj, &a, have_cr ? &cr : NULL, args.pretty) : NULL;
		free(tj);
		if (js != NULL)
			cli_print_json(stdout, js);
		else
			code = DS_EXIT_FAIL;
		free(js);
	} else {
		analyze_print_human(&t, args.dump, &a, &cr, have_cr, cli_use_color(1));
	}
out:
	sos_analysis_free(&a);
	if (have_cr)
		crashreport_free(&cr);
	triage_free(&t);
	free(engine);
	return code;
}
