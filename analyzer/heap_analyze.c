/* heap_analyze.c - one dump's managed-heap analysis from start to JSON: DAC choice, the engine run, the
 * document into facts, the classification, and the analyze JSON; the transcript path shares everything
 * after the facts. Also the .NET crash bucket. */
#include "heap_analyze.h"

#include "analyzer/crashreport.h"
#include "analyzer/engine_json.h"
#include "analyzer/heap_run.h"
#include "analyzer/sos_transcript.h"
#include "core/buf.h"
#include "core/plat.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *heap_status_name(enum heap_status s)
{
	switch (s) {
	case HS_OK: return "ok";
	case HS_PARTIAL: return "partial";
	case HS_TIMEOUT: return "timeout";
	case HS_ENGINE_MISSING: return "engine_missing";
	case HS_NO_DAC: return "no_dac";
	case HS_NO_RUNTIME: return "no_runtime";
	case HS_NO_HEAP: return "no_heap";
	case HS_NOT_DOTNET: return "not_dotnet";
	case HS_TOOBIG: return "output_too_big";
	case HS_BAD_OUTPUT: return "bad_output";
	default: return "failed";
	}
}

void heap_opts_default(struct heap_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->timeout_ms = 600000;
	o->max_output = 64u << 20;
	o->max_roots = 16;
}

void heap_analysis_free(struct heap_analysis *a)
{
	if (a == NULL)
		return;
	if (a->classified)
		classify_result_free(&a->result);
	if (a->has_facts)
		facts_free(&a->facts);
	free(a->engine);
	free(a->dac);
	free(a->document);
	memset(a, 0, sizeof(*a));
}

/* Classifies the facts in a (has_facts set); a classification failure is a failed status. */
static int analysis_classify(struct heap_analysis *a)
{
	struct ds_err e = { 0 };
	int rc = classify_facts(&a->facts, &a->result, &e);

	if (rc == DS_OK) {
		a->classified = 1;
		return DS_OK;
	}
	classify_result_free(&a->result);
	if (rc == DS_ENOMEM)
		return rc;
	a->status = HS_FAILED;
	snprintf(a->error, sizeof(a->error), "classification failed: %s", e.msg);
	return DS_OK;
}

static enum heap_status status_of(enum facts_status s)
{
	switch (s) {
	case FST_OK: return HS_OK;
	case FST_PARTIAL: return HS_PARTIAL;
	case FST_NO_RUNTIME: return HS_NO_RUNTIME;
	case FST_NO_DAC: return HS_NO_DAC;
	case FST_NO_HEAP: return HS_NO_HEAP;
	default: return HS_FAILED;
	}
}

int heap_analyze_document(const char *json, size_t len, struct heap_analysis *a)
{
	struct ds_err e = { 0 };
	int rc;

	rc = engine_json_read(json, len, &a->facts, &e);
	a->has_facts = 1;
	if (rc == DS_ENOMEM)
		return rc;
	if (rc != DS_OK) {
		facts_free(&a->facts);
		a->has_facts = 0;
		a->status = HS_BAD_OUTPUT;
		snprintf(a->error, sizeof(a->error), "%s", e.msg);
		return DS_OK;
	}
	a->status = status_of(a->facts.status);
	if (a->facts.error != NULL)
		snprintf(a->error, sizeof(a->error), "%s", a->facts.error);
	else if (a->status == HS_PARTIAL && a->facts.nwarnings > 0)
		snprintf(a->error, sizeof(a->error), "%s", a->facts.warnings[0]);
	if (a->status != HS_OK && a->status != HS_PARTIAL)
		return DS_OK;
	return analysis_classify(a);
}

int heap_analyze_dump(const char *dump, const struct heap_opts *o, struct heap_analysis *a)
{
	struct heap_proc_result pr;
	struct ds_err e = { 0 };
	char why[768], maxr[16], fdpath[64], *argv[8];
	uint64_t t0 = plat_mono_ns();
	int rc = DS_OK, started = 0, fd = o->file != NULL ? plat_file_fd(o->file) : -1;

	memset(a, 0, sizeof(*a));
	memset(&pr, 0, sizeof(pr));
	if (o->engine == NULL) {
		a->status = HS_ENGINE_MISSING;
		snprintf(a->error, sizeof(a->error),
			"the heap engine %s was not found: build it with `make engine` (needs the .NET SDK: `make "
			"deps`), or install it (`make install` puts it in libexec/dumpscout) and set analysis.engine",
			HEAP_ENGINE_NAME);
		goto out;
	}
	if ((a->engine = strdup(o->engine)) == NULL)
		return DS_ENOMEM;
	if (o->dac != NULL) {
		if ((a->dac = strdup(o->dac)) == NULL)
			return DS_ENOMEM;
	} else if ((rc = heap_find_dac(o->runtime_version, o->runtime_dir, o->dac_dirs, o->ndac_dirs, &a->dac, why,
			    sizeof(why))) != DS_OK) {
		if (rc == DS_ENOMEM)
			return rc;
		rc = DS_OK;
		a->status = HS_NO_DAC;
		snprintf(a->error, sizeof(a->error), "%s", why);
		goto out;
	}
	snprintf(maxr, sizeof(maxr), "%u", o->max_roots ? o->max_roots : 16);
	/* the checked open file rather than the path, which may name another file by now */
	if (fd >= 0 && plat_file_child_path(HEAP_CHILD_DUMP_FD, fdpath, sizeof(fdpath)) != DS_OK)
		fd = -1;
	argv[0] = a->engine;
	argv[1] = fd >= 0 ? fdpath : (char *)dump;
	argv[2] = "--dac";
	argv[3] = a->dac;
	argv[4] = "--max-roots";
	argv[5] = maxr;
	argv[6] = HEAP_PARENT_PIPE_FLAG;
	argv[7] = NULL;
	rc = heap_run_process(argv, fd, o->timeout_ms ? o->timeout_ms : 600000, o->max_output ? o->max_output : (64u << 20),
		o->cancel, &pr, &e);
	started = 1;
	if (rc == DS_ENOMEM)
		goto out;
	if (rc != DS_OK) {
		rc = DS_OK;
		a->status = HS_ENGINE_MISSING;
		snprintf(a->error, sizeof(a->error), "%s", e.msg);
		goto out;
	}
	if (pr.cancelled || pr.timed_out || pr.too_big) {
		a->status = pr.too_big ? HS_TOOBIG : pr.timed_out ? HS_TIMEOUT : HS_FAILED;
		snprintf(a->error, sizeof(a->error), "%s", pr.cancelled ? "cancelled"
			: pr.timed_out ? "the heap engine did not finish in time (analysis.dump_timeout_s)"
				       : "the heap engine wrote more than analysis.output_cap_bytes");
		goto out;
	}
	if (pr.out.len > 0) {
		if ((a->document = malloc(pr.out.len + 1)) == NULL) {
			rc = DS_ENOMEM;
			goto out;
		}
		memcpy(a->document, pr.out.data, pr.out.len);
		a->document[pr.out.len] = '\0';
		a->document_len = pr.out.len;
		if ((rc = heap_analyze_document(a->document, a->document_len, a)) != DS_OK)
			goto out;
		if (a->status == HS_BAD_OUTPUT && pr.exited && pr.exit_status != 0) {
			a->status = HS_FAILED;
			snprintf(a->error, sizeof(a->error), "the heap engine failed (exit %lld%s%d): %.600s",
				(long long)pr.exit_status, pr.term_signal ? ", signal " : "", pr.term_signal,
				pr.err.len ? pr.err.data : "no message");
		}
	} else {
		a->status = pr.exited && pr.exit_status == 2 ? HS_BAD_OUTPUT : HS_FAILED;
		snprintf(a->error, sizeof(a->error), "the heap engine printed nothing (exit %lld%s%d): %.600s",
			(long long)pr.exit_status, pr.term_signal ? ", signal " : "", pr.term_signal,
			pr.err.len ? pr.err.data : "no message");
	}
out:
	if (started)
		heap_proc_result_free(&pr);
	a->duration_ms = (plat_mono_ns() - t0) / 1000000u;
	return rc;
}

int heap_analyze_transcript(const char *text, size_t len, struct heap_analysis *a, struct ds_err *e)
{
	int rc;

	memset(a, 0, sizeof(*a));
	rc = sos_transcript_read(text, len, &a->facts, e);
	a->has_facts = 1;
	if (rc != DS_OK)
		return rc;
	a->status = HS_OK;
	return analysis_classify(a);
}

/* ---- JSON ---- */

static cJSON *jstr(const char *s)
{
	return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

static cJSON *strv_json(char *const *v, size_t n)
{
	cJSON *a = cJSON_CreateArray();
	size_t i;

	for (i = 0; a != NULL && i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
	return a;
}

static cJSON *exception_json(const struct facts_exception *x, int depth)
{
	cJSON *o = cJSON_CreateObject();
	char hr[16];

	if (o == NULL)
		return NULL;
	cJSON_AddItemToObject(o, "type", jstr(x->type));
	cJSON_AddItemToObject(o, "message", jstr(x->message));
	snprintf(hr, sizeof(hr), "0x%08x", (unsigned)x->hresult);
	cJSON_AddItemToObject(o, "hresult", x->has_hresult ? cJSON_CreateString(hr) : cJSON_CreateNull());
	cJSON_AddItemToObject(o, "thread", jstr(x->thread));
	cJSON_AddItemToObject(o, "stack", strv_json(x->stack, x->nstack));
	cJSON_AddItemToObject(o, "inner", x->inner != NULL && depth < 8 ? exception_json(x->inner, depth + 1)
		: cJSON_CreateNull());
	return o;
}

static cJSON *crashreport_json(const struct crashreport *cr)
{
	cJSON *o = cJSON_CreateObject(), *arr;
	char hr[16];
	size_t i;

	if (o == NULL)
		return NULL;
	cJSON_AddItemToObject(o, "process_name", jstr(cr->process_name));
	cJSON_AddItemToObject(o, "runtime_version", jstr(cr->runtime_version));
	cJSON_AddItemToObject(o, "exception_type", jstr(cr->exception_type));
	snprintf(hr, sizeof(hr), "0x%08x", cr->exception_hresult);
	cJSON_AddItemToObject(o, "exception_hresult", cr->has_hresult ? cJSON_CreateString(hr) : cJSON_CreateNull());
	if (cr->has_crashed_thread)
		cJSON_AddNumberToObject(o, "crashed_thread_id", (double)cr->crashed_thread_id);
	else
		cJSON_AddNullToObject(o, "crashed_thread_id");
	arr = cJSON_AddArrayToObject(o, "stack");
	for (i = 0; arr != NULL && i < cr->nframes; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(cr->frames[i].method));
	return o;
}

char *heap_analysis_to_json(const char *file, const char *triage_json, const struct heap_analysis *a,
	const struct crashreport *cr, const char *crash_bucket, int all_roots, int pretty)
{
	cJSON *root = cJSON_CreateObject(), *an, *cls, *item, *next, *tj, *ft;
	const struct facts *f = a->has_facts ? &a->facts : NULL;
	char *out = NULL;

	if (root == NULL)
		return NULL;
	cJSON_AddStringToObject(root, "file", file);
	tj = triage_json != NULL ? cJSON_Parse(triage_json) : NULL;
	cJSON_AddItemToObject(root, "triage", tj != NULL ? tj : cJSON_CreateNull());
	an = cJSON_AddObjectToObject(root, "analysis");
	if (an != NULL) {
		cJSON_AddStringToObject(an, "status", heap_status_name(a->status));
		cJSON_AddItemToObject(an, "error", a->error[0] ? cJSON_CreateString(a->error) : cJSON_CreateNull());
		cJSON_AddItemToObject(an, "source", jstr(f ? f->source : NULL));
		cJSON_AddItemToObject(an, "engine", jstr(a->engine));
		cJSON_AddItemToObject(an, "dac", jstr(a->dac));
		cJSON_AddItemToObject(an, "runtime_version", jstr(f ? f->runtime_version : NULL));
		cJSON_AddNumberToObject(an, "duration_ms", (double)a->duration_ms);
		cJSON_AddItemToObject(an, "warnings", f ? strv_json(f->warnings, f->nwarnings) : cJSON_CreateArray());
		if (a->classified && (cls = classify_to_json(&a->result, f, all_roots)) != NULL) {
			/* lift the classification's members (leak, contexts, roots_searched) into "analysis" */
			for (item = cls->child; item != NULL; item = next) {
				next = item->next;
				cJSON_AddItemToObject(an, item->string, cJSON_DetachItemViaPointer(cls, item));
			}
			cJSON_Delete(cls);
		} else {
			cJSON_AddNullToObject(an, "leak");
			cJSON_AddItemToObject(an, "contexts", cJSON_CreateArray());
			cJSON_AddNullToObject(an, "roots_searched");
		}
		cJSON_AddItemToObject(an, "managed_exception", f && f->has_exception ? exception_json(&f->exception, 0)
			: cJSON_CreateNull());
		if (f && f->has_faulting_thread && (ft = cJSON_AddObjectToObject(an, "faulting_thread")) != NULL) {
			cJSON_AddItemToObject(ft, "os_id", jstr(f->faulting_thread.os_id));
			cJSON_AddItemToObject(ft, "managed_id", f->faulting_thread.managed_id >= 0
				? cJSON_CreateNumber((double)f->faulting_thread.managed_id) : cJSON_CreateNull());
			cJSON_AddItemToObject(ft, "name", jstr(f->faulting_thread.name));
			cJSON_AddItemToObject(ft, "stack", strv_json(f->faulting_stack, f->nfaulting_stack));
		} else {
			cJSON_AddNullToObject(an, "faulting_thread");
		}
	}
	cJSON_AddItemToObject(root, "crash_report", cr != NULL ? crashreport_json(cr) : cJSON_CreateNull());
	cJSON_AddItemToObject(root, "crash_bucket", jstr(crash_bucket));
	out = pretty ? cJSON_Print(root) : cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return out;
}

/* ---- crash bucket ---- */

/* "Ns.Type.Method(args)+0x1c" -> "Ns.Type.Method"; NULL for a runtime frame. */
static char *app_frame(const char *frame)
{
	const char *paren = strchr(frame, '(');
	size_t n = paren ? (size_t)(paren - frame) : strlen(frame);
	char *m, *dot, *bang;

	if ((m = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(m, frame, n);
	m[n] = '\0';
	if ((bang = strchr(m, '!')) != NULL) /* "Module.dll!Ns.Type.Method" */
		memmove(m, bang + 1, strlen(bang + 1) + 1);
	dot = strrchr(m, '.');
	if (dot == NULL || dot == m || m[0] == '[')
		goto runtime;
	*dot = '\0';
	if (classify_is_runtime_type(m))
		goto runtime;
	*dot = '.';
	return m;
runtime:
	m[0] = '\0';
	return m;
}

static int bucket_part(struct buf *b, const char *s)
{
	size_t i;
	int rc = DS_OK;

	for (i = 0; rc == DS_OK && s[i] && i < 512; i++) {
		char c = s[i] == '|' ? '/' : (s[i] == '\n' || s[i] == '\r' || s[i] == '\t') ? ' ' : s[i];

		rc = buf_append(b, &c, 1);
	}
	return rc;
}

int heap_crash_bucket(const char *app, const char *app_version, const struct heap_analysis *a,
	const struct crashreport *cr, char **key, char **title)
{
	const struct facts *f = a != NULL && a->has_facts ? &a->facts : NULL;
	const char *type = NULL;
	char *frame = NULL;
	struct buf b, t;
	size_t i;
	int rc = DS_OK;

	*key = *title = NULL;
	buf_init(&b, 4096);
	buf_init(&t, 4096);
	if (f != NULL && f->has_exception && f->exception.type != NULL) {
		type = f->exception.type;
		for (i = 0; frame == NULL && i < f->exception.nstack; i++)
			if ((frame = app_frame(f->exception.stack[i])) != NULL && frame[0] == '\0') {
				free(frame);
				frame = NULL;
			}
		for (i = 0; frame == NULL && i < f->nfaulting_stack; i++)
			if ((frame = app_frame(f->faulting_stack[i])) != NULL && frame[0] == '\0') {
				free(frame);
				frame = NULL;
			}
	} else if (cr != NULL && cr->exception_type != NULL) {
		type = cr->exception_type;
		for (i = 0; frame == NULL && i < cr->nframes; i++)
			if ((frame = app_frame(cr->frames[i].method)) != NULL && frame[0] == '\0') {
				free(frame);
				frame = NULL;
			}
	}
	if (type == NULL)
		goto out;
	rc = bucket_part(&b, app != NULL && app[0] ? app : "unknown");
	if (rc == DS_OK && app_version != NULL && app_version[0])
		rc = buf_puts(&b, "@") == DS_OK ? bucket_part(&b, app_version) : DS_ENOMEM;
	if (rc == DS_OK && (rc = buf_puts(&b, "|")) == DS_OK && (rc = bucket_part(&b, type)) == DS_OK &&
	    (rc = buf_puts(&b, "|")) == DS_OK)
		rc = bucket_part(&b, frame ? frame : "no-app-frame");
	if (rc == DS_OK && (rc = bucket_part(&t, type)) == DS_OK && frame != NULL &&
	    (rc = buf_puts(&t, " at ")) == DS_OK)
		rc = bucket_part(&t, frame);
	if (rc == DS_OK) {
		*key = buf_steal(&b);
		*title = buf_steal(&t);
		if (*key == NULL || *title == NULL) {
			free(*key);
			free(*title);
			*key = *title = NULL;
			rc = DS_ENOMEM;
		}
	}
out:
	free(frame);
	buf_free(&b);
	buf_free(&t);
	return rc == DS_ETOOBIG ? DS_OK : rc;
}
