/* crashreport.c - the createdump crash report reader. See crashreport.h. It trusts nothing in the file:
 * every field is type-checked and every string is copied with a length cap. */
#include "crashreport.h"
#include "core/plat.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#define CRASHREPORT_MAX_STRING 4096u

void crashreport_free(struct crashreport *r)
{
	size_t i;

	free(r->process_name);
	free(r->runtime_version);
	free(r->architecture);
	free(r->exception_type);
	for (i = 0; r->frames != NULL && i < r->nframes; i++) {
		free(r->frames[i].method);
		free(r->frames[i].module);
	}
	free(r->frames);
	memset(r, 0, sizeof(*r));
}

/* A string member copied (capped), or NULL when absent or not a string. */
static char *cr_str(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	size_t n;
	char *p;

	if (!cJSON_IsString(v) || v->valuestring == NULL)
		return NULL;
	n = strnlen(v->valuestring, CRASHREPORT_MAX_STRING);
	p = malloc(n + 1);
	if (p != NULL) {
		memcpy(p, v->valuestring, n);
		p[n] = '\0';
	}
	return p;
}

/* A hex or decimal number held in a string member ("0x684f", "15"). */
static int cr_num(const cJSON *obj, const char *key, uint64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	char *end = NULL;
	unsigned long long x;

	if (!cJSON_IsString(v) || v->valuestring == NULL || v->valuestring[0] == '\0' || v->valuestring[0] == '-')
		return 0;
	x = strtoull(v->valuestring, &end, 0);
	if (end == NULL || *end != '\0')
		return 0;
	*out = x;
	return 1;
}

static int cr_true(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return (cJSON_IsString(v) && v->valuestring != NULL && strcmp(v->valuestring, "true") == 0) ||
	       cJSON_IsTrue(v);
}

static int cr_frames(const cJSON *thread, struct crashreport *r)
{
	const cJSON *frames = cJSON_GetObjectItemCaseSensitive(thread, "stack_frames"), *f;
	size_t n = 0;
	uint64_t v;

	if (!cJSON_IsArray(frames))
		return DS_OK;
	r->frames = calloc(CRASHREPORT_MAX_FRAMES, sizeof(*r->frames));
	if (r->frames == NULL)
		return DS_ENOMEM;
	cJSON_ArrayForEach(f, frames) {
		if (n >= CRASHREPORT_MAX_FRAMES)
			break;
		if (!cJSON_IsObject(f) || !cr_true(f, "is_managed"))
			continue;
		r->frames[n].method = cr_str(f, "method_name");
		if (r->frames[n].method == NULL)
			continue;
		r->frames[n].module = cr_str(f, "filename");
		if (cr_num(f, "il_offset", &v) && v <= UINT32_MAX) {
			r->frames[n].il_offset = (uint32_t)v;
			r->frames[n].has_il_offset = 1;
		}
		n++;
	}
	r->nframes = n;
	return DS_OK;
}

int crashreport_parse(const char *text, size_t len, struct crashreport *r, struct ds_err *e)
{
	const cJSON *payload, *cfg, *threads, *t;
	cJSON *root = NULL;
	uint64_t v;
	char *ver;
	int rc = DS_OK;

	memset(r, 0, sizeof(*r));
	if (len > CRASHREPORT_MAX_TEXT)
		return ds_err_setn(e, DS_ETOOBIG, "crash report is larger than %u bytes", CRASHREPORT_MAX_TEXT);
	root = cJSON_ParseWithLength(text, len);
	payload = cJSON_GetObjectItemCaseSensitive(root, "payload");
	if (root == NULL || !cJSON_IsObject(payload)) {
		rc = ds_err_setn(e, DS_EPARSE, "not a .NET crash report: %s", root ? "no \"payload\" object" : "not JSON");
		goto out;
	}
	r->process_name = cr_str(payload, "process_name");
	cfg = cJSON_GetObjectItemCaseSensitive(payload, "configuration");
	if (cJSON_IsObject(cfg)) {
		r->architecture = cr_str(cfg, "architecture");
		ver = cr_str(cfg, "version");
		if (ver != NULL)
			ver[strcspn(ver, " @")] = '\0';
		r->runtime_version = ver;
	}
	threads = cJSON_GetObjectItemCaseSensitive(payload, "threads");
	if (!cJSON_IsArray(threads))
		threads = NULL;
	cJSON_ArrayForEach(t, threads) {
		if (!cJSON_IsObject(t) || !cr_true(t, "crashed"))
			continue;
		if (cr_num(t, "native_thread_id", &v)) {
			r->has_crashed_thread = 1;
			r->crashed_thread_id = v;
		}
		r->exception_type = cr_str(t, "managed_exception_type");
		if (cr_num(t, "managed_exception_hresult", &v) && v <= UINT32_MAX) {
			r->exception_hresult = (uint32_t)v;
			r->has_hresult = 1;
		}
		rc = cr_frames(t, r);
		break;
	}
out:
	cJSON_Delete(root);
	if (rc != DS_OK)
		crashreport_free(r);
	return rc;
}

int crashreport_read_file(const char *path, struct crashreport *r, struct ds_err *e)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	memset(r, 0, sizeof(*r));
	rc = plat_read_file(path, CRASHREPORT_MAX_TEXT, &text, &len);
	if (rc != DS_OK)
		ds_err_setn(e, rc, "cannot read crash report %s: %s", path, ds_strerror(rc));
	else
		rc = crashreport_parse(text, len, r, e);
	free(text);
	return rc;
}
