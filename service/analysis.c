/* analysis.c - glue between the queue and the analyzer: the heap engine run with the config's limits and
 * DAC folders (analyzer/heap_analyze.c), the analysis JSON the CLI shows, the .NET crash bucket, and the
 * classifier's held contexts and real roots flattened into the store's structs (probable false roots and
 * live contexts' roots are never recorded, so they never become buckets or alert mails). Everything the
 * store records points into one owner block freed by the queue after recording. */
#include "analysis.h"
#include "analyzer/crashreport.h"
#include "analyzer/dsrc.h"
#include "analyzer/heap_analyze.h"
#include "analyzer/heap_run.h"
#include "analyzer/triage.h"
#include "core/buf.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct analysis_owner {
	struct heap_analysis a;
	char *json;
	char *engine;
	char *bucket_key, *bucket_title;
	struct store_context *contexts;
	struct store_root *roots;
	char **texts;        /* chain_text and chain_json strings */
	size_t ntexts;
};

static void analysis_owner_free(void *p)
{
	struct analysis_owner *o = p;
	size_t i;

	if (o == NULL)
		return;
	heap_analysis_free(&o->a);
	free(o->json);
	free(o->engine);
	free(o->bucket_key);
	free(o->bucket_title);
	free(o->contexts);
	free(o->roots);
	for (i = 0; i < o->ntexts; i++)
		free(o->texts[i]);
	free(o->texts);
	free(o);
}

static int analysis_store_status(enum heap_status st)
{
	switch (st) {
	case HS_OK:
	case HS_PARTIAL: return STORE_AN_OK;
	case HS_TIMEOUT: return STORE_AN_TIMEOUT;
	case HS_ENGINE_MISSING: return STORE_AN_ENGINE_MISSING;
	case HS_NO_DAC:
	case HS_NO_RUNTIME: return STORE_AN_NO_DAC;
	case HS_BAD_OUTPUT: return STORE_AN_PARSE_ERROR;
	default: return STORE_AN_FAILED;
	}
}

/* " -> "-joined chain, and the chain as a JSON array of type names. */
static int analysis_chain_texts(struct analysis_owner *o, const struct classify_root *r, struct store_root *sr)
{
	struct buf b;
	cJSON *arr = cJSON_CreateArray();
	size_t i;
	int rc = DS_OK;

	buf_init(&b, 1u << 20);
	for (i = 0; rc == DS_OK && i < r->nchain; i++) {
		rc = buf_printf(&b, "%s%s", i ? " -> " : "", r->chain[i]);
		if (arr != NULL)
			cJSON_AddItemToArray(arr, cJSON_CreateString(r->chain[i]));
	}
	if (rc == DS_OK) {
		o->texts[o->ntexts] = buf_steal(&b);
		sr->chain_text = o->texts[o->ntexts++];
		o->texts[o->ntexts] = arr ? cJSON_PrintUnformatted(arr) : NULL;
		sr->chain_json = o->texts[o->ntexts++];
	}
	buf_free(&b);
	cJSON_Delete(arr);
	return rc;
}

static int analysis_flatten(struct analysis_owner *o, struct store_analysis *an)
{
	const struct classify_result *r = &o->a.result;
	size_t i, j, k = 0, total = 0;
	int rc = DS_OK;

	for (i = 0; i < r->ncontexts; i++)
		total += r->contexts[i].nroots;
	o->contexts = calloc(r->ncontexts ? r->ncontexts : 1, sizeof(*o->contexts));
	o->roots = calloc(total ? total : 1, sizeof(*o->roots));
	o->texts = calloc(total * 2 + 1, sizeof(*o->texts));
	if (o->contexts == NULL || o->roots == NULL || o->texts == NULL)
		return DS_ENOMEM;
	for (i = 0; i < r->ncontexts && rc == DS_OK; i++) {
		const struct classify_context *c = &r->contexts[i];
		struct store_context *sc = &o->contexts[i];

		sc->name = c->src->name;
		sc->has_loader_allocator = c->src->loader_allocator != 0;
		sc->loader_allocator = c->src->loader_allocator;
		sc->state = classify_state_name(c->state);
		sc->roots = &o->roots[k];
		/* only what holds an unloaded context is a finding */
		if (c->state != CS_UNLOADING_HELD)
			continue;
		for (j = 0; j < c->nroots && rc == DS_OK; j++) {
			const struct classify_root *rt = &c->roots[j];
			struct store_root *sr = &o->roots[k];

			if (rt->probable_false_root)
				continue;
			sr->kind = rt->kind;
			sr->culprit = rt->culprit;
			sr->signature = rt->signature_hex;
			sr->frame = rt->src->frame;
			if (rt->src->thread.os_id != NULL) {
				sr->has_thread = 1;
				sr->thread = strtoull(rt->src->thread.os_id, NULL, 16);
			}
			sr->catalogue_id = rt->catalogue ? rt->catalogue->id : NULL;
			rc = analysis_chain_texts(o, rt, sr);
			sc->nroots++;
			k++;
		}
	}
	an->ncontexts = r->ncontexts;
	an->contexts = o->contexts;
	an->leak = r->leak;
	if (o->a.has_facts && o->a.facts.has_exception) {
		an->exception_type = o->a.facts.exception.type;
		an->exception_message = o->a.facts.exception.message;
	}
	return rc;
}

void analysis_run(const struct worker_analysis_in *in, struct worker_analysis_out *out)
{
	struct analysis_owner *o = calloc(1, sizeof(*o));
	struct heap_opts opts;
	struct crashreport cr;
	struct triage t;
	struct dsrc src;
	struct ds_err e = { 0 };
	char crpath[4096], *rtdir = NULL;
	int have_cr = 0, have_t = 0;

	if (o == NULL) {
		out->transient = 1;
		snprintf(out->error, sizeof(out->error), "out of memory");
		return;
	}
	out->owner = o;
	out->owner_free = analysis_owner_free;
	heap_opts_default(&opts);
	memset(&t, 0, sizeof(t));
	/* the runtime's version and folder (for the DAC) and the app's name (for the crash bucket) */
	if (in->file != NULL) {
		/* from the re-checked open file, like the engine */
		triage_init(&t);
		dsrc_init_file(&src, in->file);
		have_t = triage_read(&src, &t, &e) == DS_OK;
	} else {
		have_t = triage_read_file(in->path, &t, &e) == DS_OK;
	}
	if (have_t) {
		opts.runtime_version = t.runtime_version[0] ? t.runtime_version : NULL;
		opts.runtime_dir = rtdir = triage_runtime_dir(&t);
	}
	o->engine = heap_find_engine(in->engine != NULL && in->engine[0] != '\0' ? in->engine : NULL);
	opts.engine = o->engine;
	opts.dac_dirs = in->dac_dirs;
	opts.ndac_dirs = in->ndac_dirs;
	if (in->dump_timeout_ms)
		opts.timeout_ms = in->dump_timeout_ms;
	if (in->max_roots)
		opts.max_roots = in->max_roots;
	if (in->max_output)
		opts.max_output = in->max_output;
	opts.cancel = (const volatile int *)in->cancel;
	opts.file = in->file; /* the engine reads the file the queue re-checked, not the path */
	if (heap_analyze_dump(in->path, &opts, &o->a) != DS_OK) {
		out->transient = 1;
		snprintf(out->error, sizeof(out->error), "out of memory during the analysis");
		goto out;
	}
	snprintf(crpath, sizeof(crpath), "%s.crashreport.json", in->path);
	memset(&cr, 0, sizeof(cr));
	have_cr = crashreport_read_file(crpath, &cr, &e) == DS_OK;
	if (heap_crash_bucket(have_t && t.process_name ? triage_basename(t.process_name) : NULL,
		    have_t ? t.app_version : NULL, &o->a, have_cr ? &cr : NULL, &o->bucket_key, &o->bucket_title) != DS_OK) {
		out->transient = 1;
		snprintf(out->error, sizeof(out->error), "out of memory during the analysis");
		goto out;
	}
	o->json = heap_analysis_to_json(in->path, in->triage_json, &o->a, have_cr ? &cr : NULL, o->bucket_key, 0, 0);
	out->an.engine = "dumpscout-heap";
	out->an.engine_version = o->a.has_facts ? o->a.facts.source : NULL;
	if (out->an.engine_version != NULL && strncmp(out->an.engine_version, "dumpscout-heap ", 15) == 0)
		out->an.engine_version += 15; /* "1.0.0 (ClrMD ...)": the engine's name is in an.engine */
	out->an.status = analysis_store_status(o->a.status);
	out->an.duration_ms = (int64_t)o->a.duration_ms;
	out->an.error = o->a.error[0] ? o->a.error : NULL;
	out->an.json = o->json;
	out->an.crash_bucket_key = o->bucket_key;
	out->an.crash_bucket_title = o->bucket_title;
	if (o->a.classified && analysis_flatten(o, &out->an) != DS_OK) {
		out->transient = 1;
		snprintf(out->error, sizeof(out->error), "out of memory recording the analysis");
		goto out;
	}
	out->has_analysis = 1;
	if (o->a.error[0])
		snprintf(out->error, sizeof(out->error), "%s", o->a.error);
	switch (o->a.status) {
	case HS_OK:
	case HS_PARTIAL:
		out->state = STORE_DONE;
		break;
	case HS_ENGINE_MISSING:
	case HS_NO_DAC:
	case HS_NO_RUNTIME:
	case HS_NO_HEAP:
		out->state = STORE_UNSUPPORTED;
		break;
	case HS_TIMEOUT:
		out->state = STORE_FAILED;
		out->transient = 1;
		break;
	default:
		/* stopping mid-analysis is not the dump's fault: try again after the restart */
		out->state = STORE_FAILED;
		out->transient = in->cancel != NULL && atomic_load(in->cancel) != 0;
		break;
	}
out:
	if (have_cr)
		crashreport_free(&cr);
	triage_free(&t);
	free(rtdir);
}
