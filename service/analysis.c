/* analysis.c - glue between the queue and the analyzer: engine limits from the config, the analysis JSON
 * the CLI shows, and the classifier's contexts and roots flattened into the store's structs. Everything
 * the store records points into one owner block freed by the queue after recording. */
#include "analysis.h"
#include "analyzer/crashreport.h"
#include "analyzer/sos_analyze.h"
#include "core/buf.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct analysis_owner {
	struct sos_analysis a;
	char *json;
	char *engine;
	struct store_context *contexts;
	struct store_root *roots;
	char **texts;        /* chain_text and chain_json strings */
	size_t ntexts;
	size_t nroots;
};

static void analysis_owner_free(void *p)
{
	struct analysis_owner *o = p;
	size_t i;

	if (o == NULL)
		return;
	sos_analysis_free(&o->a);
	free(o->json);
	free(o->engine);
	free(o->contexts);
	free(o->roots);
	for (i = 0; i < o->ntexts; i++)
		free(o->texts[i]);
	free(o->texts);
	free(o);
}

static unsigned analysis_ptr_size(const char *triage_json)
{
	cJSON *t = triage_json ? cJSON_Parse(triage_json) : NULL;
	const cJSON *arch = cJSON_GetObjectItemCaseSensitive(t, "arch");
	unsigned n = 8;

	if (cJSON_IsString(arch) && (strcmp(arch->valuestring, "x86") == 0 || strcmp(arch->valuestring, "arm") == 0))
		n = 4;
	cJSON_Delete(t);
	return n;
}

static int analysis_store_status(enum sos_status st)
{
	switch (st) {
	case SOS_OK: return STORE_AN_OK;
	case SOS_TIMEOUT: return STORE_AN_TIMEOUT;
	case SOS_ENGINE_MISSING: return STORE_AN_ENGINE_MISSING;
	case SOS_NO_DAC: return STORE_AN_NO_DAC;
	case SOS_UNSUPPORTED_HOST: return STORE_AN_UNSUPPORTED_HOST;
	case SOS_PARSE_ERROR: return STORE_AN_PARSE_ERROR;
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
		sc->name = c->name;
		sc->has_loader_allocator = c->loader_allocator != 0;
		sc->loader_allocator = c->loader_allocator;
		sc->state = classify_state_name(c->state);
		sc->roots = &o->roots[k];
		for (j = 0; j < c->nroots && rc == DS_OK; j++, k++) {
			const struct classify_root *rt = &c->roots[j];
			struct store_root *sr = &o->roots[k];
			sr->kind = classify_kind_name(rt->kind);
			sr->culprit = rt->culprit;
			sr->signature = rt->signature_hex;
			sr->probable_false_root = rt->probable_false_root;
			sr->frame = rt->frame;
			if (rt->thread_id != NULL) {
				sr->has_thread = 1;
				sr->thread = strtoull(rt->thread_id, NULL, 16);
			}
			sr->catalogue_id = rt->catalogue ? rt->catalogue->id : NULL;
			rc = analysis_chain_texts(o, rt, sr);
			sc->nroots++;
		}
	}
	an->ncontexts = r->ncontexts;
	an->contexts = o->contexts;
	if (r->has_exception) {
		an->exception_type = r->exception.type;
		an->exception_message = r->exception.message;
	}
	return rc;
}

void analysis_run(const struct worker_analysis_in *in, struct worker_analysis_out *out)
{
	struct analysis_owner *o = calloc(1, sizeof(*o));
	struct sos_analyze_opts opts;
	struct crashreport cr;
	struct ds_err e = { 0 };
	char crpath[4096];
	int have_cr = 0;

	if (o == NULL) {
		out->transient = 1;
		snprintf(out->error, sizeof(out->error), "out of memory");
		return;
	}
	out->owner = o;
	out->owner_free = analysis_owner_free;
	sos_analyze_opts_default(&opts);
	o->engine = sos_run_find_engine(in->engine != NULL && in->engine[0] != '\0' ? in->engine : NULL);
	opts.engine = o->engine;
	if (in->cmd_timeout_ms)
		opts.lim.cmd_timeout_ms = in->cmd_timeout_ms;
	if (in->dump_timeout_ms)
		opts.lim.dump_timeout_ms = in->dump_timeout_ms;
	if (in->max_roots)
		opts.lim.max_roots = in->max_roots;
	if (in->max_output)
		opts.lim.max_output = in->max_output;
	opts.ptr_size = analysis_ptr_size(in->triage_json);
	opts.cancel = (const volatile int *)in->cancel;
	if (sos_analyze_dump(in->path, &opts, &o->a) != DS_OK) {
		out->transient = 1;
		snprintf(out->error, sizeof(out->error), "out of memory during the analysis");
		return;
	}
	snprintf(crpath, sizeof(crpath), "%s.crashreport.json", in->path);
	memset(&cr, 0, sizeof(cr));
	have_cr = crashreport_read_file(crpath, &cr, &e) == DS_OK;
	o->json = sos_analysis_to_json(in->path, in->triage_json, &o->a, have_cr ? &cr : NULL, 0);
	if (have_cr)
		crashreport_free(&cr);
	out->an.engine = "dotnet-dump";
	out->an.status = analysis_store_status(o->a.status);
	out->an.duration_ms = (int64_t)o->a.duration_ms;
	out->an.error = o->a.error[0] ? o->a.error : NULL;
	out->an.json = o->json;
	if (o->a.classified && analysis_flatten(o, &out->an) != DS_OK) {
		out->transient = 1;
		snprintf(out->error, sizeof(out->error), "out of memory recording the analysis");
		return;
	}
	out->has_analysis = 1;
	if (o->a.error[0])
		snprintf(out->error, sizeof(out->error), "%s", o->a.error);
	switch (o->a.status) {
	case SOS_OK:
		out->state = STORE_DONE;
		break;
	case SOS_ENGINE_MISSING:
	case SOS_NO_DAC:
	case SOS_UNSUPPORTED_HOST:
		out->state = STORE_UNSUPPORTED;
		break;
	case SOS_TIMEOUT:
		out->state = STORE_FAILED;
		out->transient = 1;
		break;
	default:
		/* Stopping mid-analysis is not the dump's fault: try again after the restart. */
		out->state = STORE_FAILED;
		out->transient = in->cancel != NULL && atomic_load(in->cancel) != 0;
		break;
	}
}
