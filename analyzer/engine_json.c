/* engine_json.c - the heap engine's JSON document into the fact model: one cJSON parse, then a
 * checked walk of the contract's members (docs/engine.md). Every read goes through a helper that
 * checks the JSON type, caps the length and names the member's path in the error. */
#include "engine_json.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rd {
	struct ds_err *e;
	int rc;
};

/* Records the first error (with the member's path) and returns it. */
static int rd_fail(struct rd *r, int code, const char *where, const char *fmt, ...) DS_PRINTF(4, 5);
static int rd_fail(struct rd *r, int code, const char *where, const char *fmt, ...)
{
	char what[160];
	va_list ap;

	if (r->rc == DS_OK) {
		va_start(ap, fmt);
		vsnprintf(what, sizeof(what), fmt, ap);
		va_end(ap);
		r->rc = code;
		if (code == DS_ENOMEM)
			ds_err_setn(r->e, code, "out of memory reading the engine's document");
		else
			ds_err_setn(r->e, code, "engine document: %s: %s", where, what);
	}
	return r->rc;
}

static const cJSON *member(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key);
}

/* A copy of at most FACTS_MAX_STRING bytes, cut on a UTF-8 character boundary. */
static char *dup_capped(const char *s)
{
	size_t n = strlen(s);
	char *d;

	if (n > FACTS_MAX_STRING) {
		n = FACTS_MAX_STRING;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	d = malloc(n + 1);
	if (d != NULL) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

/* key: a string, null or absent (then *out stays NULL). */
static int get_str(struct rd *r, const cJSON *o, const char *key, const char *where, char **out)
{
	const cJSON *v = member(o, key);

	*out = NULL;
	if (r->rc != DS_OK)
		return r->rc;
	if (v == NULL || cJSON_IsNull(v))
		return DS_OK;
	if (!cJSON_IsString(v) || v->valuestring == NULL)
		return rd_fail(r, DS_EFORMAT, where, "'%s' is not a string", key);
	if ((*out = dup_capped(v->valuestring)) == NULL)
		return rd_fail(r, DS_ENOMEM, where, "out of memory");
	return DS_OK;
}

/* "0x" followed by 1 to 16 hex digits, nothing else. */
static int parse_addr(const char *s, uint64_t *a)
{
	uint64_t v = 0;
	size_t i;

	if (s == NULL || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		return -1;
	for (i = 2; s[i] != '\0'; i++) {
		char c = s[i];
		unsigned d;

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return -1;
		if (i >= 18)
			return -1;
		v = (v << 4) | d;
	}
	if (i == 2)
		return -1;
	*a = v;
	return 0;
}

static int get_addr(struct rd *r, const cJSON *o, const char *key, const char *where, uint64_t *out)
{
	const cJSON *v = member(o, key);

	*out = 0;
	if (r->rc != DS_OK)
		return r->rc;
	if (v == NULL || cJSON_IsNull(v))
		return DS_OK;
	if (!cJSON_IsString(v) || parse_addr(v->valuestring, out) != 0)
		return rd_fail(r, DS_EFORMAT, where, "'%s' is not an address (\"0x\" and 1-16 hex digits)", key);
	return DS_OK;
}

/* An integer in [lo, hi]; absent or null leaves *out at dflt. */
static int get_int(struct rd *r, const cJSON *o, const char *key, const char *where, int64_t lo, int64_t hi,
	int64_t dflt, int64_t *out)
{
	const cJSON *v = member(o, key);
	double d;

	*out = dflt;
	if (r->rc != DS_OK)
		return r->rc;
	if (v == NULL || cJSON_IsNull(v))
		return DS_OK;
	if (!cJSON_IsNumber(v))
		return rd_fail(r, DS_EFORMAT, where, "'%s' is not a number", key);
	d = v->valuedouble;
	if (!(d >= (double)lo && d <= (double)hi) || d != (double)(int64_t)d)
		return rd_fail(r, DS_EFORMAT, where, "'%s' is not an integer in range", key);
	*out = (int64_t)d;
	return DS_OK;
}

static int get_bool(struct rd *r, const cJSON *o, const char *key, const char *where, int *out)
{
	const cJSON *v = member(o, key);

	*out = 0;
	if (r->rc != DS_OK)
		return r->rc;
	if (v == NULL || cJSON_IsNull(v))
		return DS_OK;
	if (!cJSON_IsBool(v))
		return rd_fail(r, DS_EFORMAT, where, "'%s' is not true or false", key);
	*out = cJSON_IsTrue(v) ? 1 : 0;
	return DS_OK;
}

/* An object member: NULL when absent or null; an error when another type. */
static const cJSON *get_obj(struct rd *r, const cJSON *o, const char *key, const char *where)
{
	const cJSON *v = member(o, key);

	if (r->rc != DS_OK || v == NULL || cJSON_IsNull(v))
		return NULL;
	if (!cJSON_IsObject(v)) {
		rd_fail(r, DS_EFORMAT, where, "'%s' is not an object", key);
		return NULL;
	}
	return v;
}

/* An array member with at most max elements: NULL when absent or null. */
static const cJSON *get_arr(struct rd *r, const cJSON *o, const char *key, const char *where, size_t max)
{
	const cJSON *v = member(o, key);

	if (r->rc != DS_OK || v == NULL || cJSON_IsNull(v))
		return NULL;
	if (!cJSON_IsArray(v)) {
		rd_fail(r, DS_EFORMAT, where, "'%s' is not an array", key);
		return NULL;
	}
	if ((size_t)cJSON_GetArraySize(v) > max) {
		rd_fail(r, DS_ETOOBIG, where, "'%s' has more than %zu elements", key, max);
		return NULL;
	}
	return v;
}

/* An array of strings (nulls skipped). */
static int get_strv(struct rd *r, const cJSON *o, const char *key, const char *where, size_t max, char ***out,
	size_t *n)
{
	const cJSON *a = get_arr(r, o, key, where, max), *it;
	char **slot;
	int rc;

	*out = NULL;
	*n = 0;
	cJSON_ArrayForEach(it, a) {
		if (cJSON_IsNull(it))
			continue;
		if (!cJSON_IsString(it) || it->valuestring == NULL)
			return rd_fail(r, DS_EFORMAT, where, "'%s' holds something other than strings", key);
		if ((rc = facts_push((void **)out, n, sizeof(**out), max, (void **)&slot)) != DS_OK)
			return rd_fail(r, rc, where, "'%s' is too long", key);
		if ((*slot = dup_capped(it->valuestring)) == NULL) {
			(*n)--;
			return rd_fail(r, DS_ENOMEM, where, "out of memory");
		}
	}
	return r->rc;
}

static int read_thread(struct rd *r, const cJSON *o, const char *where, struct facts_thread *t)
{
	get_str(r, o, "os_id", where, &t->os_id);
	get_int(r, o, "managed_id", where, -1, INT32_MAX, -1, &t->managed_id);
	get_str(r, o, "name", where, &t->name);
	return r->rc;
}

static int read_exception(struct rd *r, const cJSON *o, const char *where, int depth, struct facts_exception *x)
{
	const cJSON *inner;
	char *hr = NULL;
	uint64_t v;
	char w[128];

	get_str(r, o, "type", where, &x->type);
	get_str(r, o, "message", where, &x->message);
	get_str(r, o, "hresult", where, &hr);
	if (hr != NULL) {
		if (parse_addr(hr, &v) != 0 || v > UINT32_MAX)
			rd_fail(r, DS_EFORMAT, where, "'hresult' is not \"0x\" and 1-8 hex digits");
		x->hresult = (uint32_t)v;
		x->has_hresult = 1;
		free(hr);
	}
	get_str(r, o, "thread", where, &x->thread);
	get_strv(r, o, "stack", where, FACTS_MAX_STACK, &x->stack, &x->nstack);
	if (r->rc == DS_OK && x->type == NULL)
		return rd_fail(r, DS_EFORMAT, where, "'type' is missing");
	inner = get_obj(r, o, "inner", where);
	if (inner != NULL) {
		if (depth >= 8)
			return DS_OK; /* deeper inner exceptions are not kept */
		snprintf(w, sizeof(w), "%.100s.inner", where);
		if ((x->inner = calloc(1, sizeof(*x->inner))) == NULL)
			return rd_fail(r, DS_ENOMEM, where, "out of memory");
		read_exception(r, inner, w, depth + 1, x->inner);
	}
	return r->rc;
}

static int read_link(struct rd *r, const cJSON *o, const char *where, struct facts_link *l)
{
	const cJSON *dep, *troot;
	char *via = NULL;

	if (!cJSON_IsObject(o))
		return rd_fail(r, DS_EFORMAT, where, "not an object");
	get_addr(r, o, "address", where, &l->address);
	get_str(r, o, "type", where, &l->type);
	get_str(r, o, "via", where, &via);
	l->via = facts_via_parse(via);
	free(via);
	get_str(r, o, "field", where, &l->field);
	get_bool(r, o, "collectible", where, &l->collectible);
	get_str(r, o, "method", where, &l->method);
	dep = get_obj(r, o, "dependent", where);
	if (dep != NULL) {
		get_addr(r, dep, "handle", where, &l->dep_handle);
		get_addr(r, dep, "table", where, &l->dep_table);
		get_str(r, dep, "table_type", where, &l->dep_table_type);
		if ((troot = get_obj(r, dep, "table_root", where)) != NULL) {
			get_str(r, troot, "kind", where, &l->dep_table_root_kind);
			get_str(r, troot, "field", where, &l->dep_table_root_field);
		}
	}
	if (r->rc == DS_OK && l->type == NULL && (l->type = strdup("<unknown type>")) == NULL)
		return rd_fail(r, DS_ENOMEM, where, "out of memory");
	return r->rc;
}

static int read_root(struct rd *r, const cJSON *o, const char *where, struct facts_root *rt)
{
	const cJSON *th, *path, *it;
	struct facts_link *l;
	char w[160];
	size_t i = 0;
	int rc;

	if (!cJSON_IsObject(o))
		return rd_fail(r, DS_EFORMAT, where, "not an object");
	get_str(r, o, "kind", where, &rt->kind_name);
	if (r->rc == DS_OK && rt->kind_name == NULL)
		return rd_fail(r, DS_EFORMAT, where, "'kind' is missing");
	rt->kind = facts_root_kind_parse(rt->kind_name);
	get_str(r, o, "field", where, &rt->field);
	get_addr(r, o, "handle", where, &rt->handle);
	th = get_obj(r, o, "thread", where);
	if (th != NULL) {
		rt->has_thread = 1;
		read_thread(r, th, where, &rt->thread);
	} else {
		rt->thread.managed_id = -1;
	}
	get_str(r, o, "frame", where, &rt->frame);
	get_str(r, o, "false_root_hint", where, &rt->false_root_hint);
	get_bool(r, o, "path_truncated", where, &rt->path_truncated);
	path = get_arr(r, o, "path", where, FACTS_MAX_PATH);
	cJSON_ArrayForEach(it, path) {
		snprintf(w, sizeof(w), "%.120s.path[%zu]", where, i++);
		if ((rc = facts_push((void **)&rt->path, &rt->npath, sizeof(*rt->path), FACTS_MAX_PATH, (void **)&l)) != DS_OK)
			return rd_fail(r, rc, w, "too many links");
		if (read_link(r, it, w, l) != DS_OK)
			return r->rc;
	}
	return r->rc;
}

static int read_context(struct rd *r, const cJSON *o, const char *where, struct facts_context *c)
{
	const cJSON *roots, *it;
	struct facts_root *rt;
	char *state = NULL, w[96];
	size_t i = 0;
	int rc;

	if (!cJSON_IsObject(o))
		return rd_fail(r, DS_EFORMAT, where, "not an object");
	get_addr(r, o, "loader_allocator", where, &c->loader_allocator);
	get_addr(r, o, "scout", where, &c->scout);
	get_addr(r, o, "alc", where, &c->alc);
	get_str(r, o, "alc_type", where, &c->alc_type);
	get_str(r, o, "name", where, &c->name);
	get_str(r, o, "state", where, &state);
	if (state != NULL)
		c->state = strcmp(state, "alive") == 0 ? FCS_ALIVE : strcmp(state, "unloading") == 0 ? FCS_UNLOADING
											    : FCS_UNKNOWN;
	free(state);
	get_bool(r, o, "dynamic", where, &c->dynamic);
	get_strv(r, o, "assemblies", where, FACTS_MAX_LIST, &c->assemblies, &c->nassemblies);
	get_bool(r, o, "roots_truncated", where, &c->roots_truncated);
	roots = get_arr(r, o, "roots", where, FACTS_MAX_ROOTS);
	if (r->rc == DS_OK && roots == NULL)
		return rd_fail(r, DS_EFORMAT, where, "'roots' is missing");
	c->roots_searched = 1;
	cJSON_ArrayForEach(it, roots) {
		snprintf(w, sizeof(w), "%.60s.roots[%zu]", where, i++);
		if ((rc = facts_push((void **)&c->roots, &c->nroots, sizeof(*c->roots), FACTS_MAX_ROOTS, (void **)&rt)) != DS_OK)
			return rd_fail(r, rc, w, "too many roots");
		rt->thread.managed_id = -1;
		if (read_root(r, it, w, rt) != DS_OK)
			return r->rc;
	}
	return r->rc;
}

static int read_status(struct rd *r, const cJSON *doc, struct facts *f)
{
	static const struct {
		const char *name;
		enum facts_status st;
	} map[] = {
		{ "ok", FST_OK }, { "partial", FST_PARTIAL }, { "no_runtime", FST_NO_RUNTIME },
		{ "no_dac", FST_NO_DAC }, { "no_heap", FST_NO_HEAP }, { "error", FST_ERROR },
	};
	char *st = NULL;
	size_t i;

	get_str(r, doc, "status", "status", &st);
	if (r->rc != DS_OK)
		return r->rc;
	if (st == NULL)
		return rd_fail(r, DS_EFORMAT, "status", "missing");
	for (i = 0; i < DS_ARRAY_LEN(map); i++)
		if (strcmp(st, map[i].name) == 0)
			break;
	if (i == DS_ARRAY_LEN(map)) {
		/* a status this build does not know: the document is still read, as an error */
		f->status = FST_ERROR;
	} else {
		f->status = map[i].st;
	}
	free(st);
	return DS_OK;
}

int engine_json_read(const char *text, size_t len, struct facts *f, struct ds_err *e)
{
	struct rd r = { e, DS_OK };
	cJSON *doc = NULL;
	const cJSON *o, *ctxs, *it;
	struct facts_context *c;
	char w[48], *name = NULL, *ver = NULL, *clrmd = NULL;
	int64_t v;
	size_t i = 0, n;
	int rc;

	facts_init(f);
	if (len > ENGINE_JSON_MAX) {
		rd_fail(&r, DS_ETOOBIG, "document", "over %u bytes", ENGINE_JSON_MAX);
		goto out;
	}
	doc = cJSON_ParseWithLength(text, len);
	if (doc == NULL) {
		const char *at = cJSON_GetErrorPtr();

		if (at != NULL && at >= text && at <= text + len)
			rd_fail(&r, DS_EFORMAT, "document", "not JSON (at byte %zu)", (size_t)(at - text));
		else
			rd_fail(&r, DS_EFORMAT, "document", "not JSON");
		goto out;
	}
	if (!cJSON_IsObject(doc)) {
		rd_fail(&r, DS_EFORMAT, "document", "not a JSON object");
		goto out;
	}
	if (get_int(&r, doc, "format", "format", 0, 1000000, -1, &v) != DS_OK)
		goto out;
	if (v != 1) {
		rd_fail(&r, DS_EFORMAT, "format", v < 0 ? "missing" : "format %lld is not format 1", (long long)v);
		goto out;
	}
	f->format = 1;
	if ((o = get_obj(&r, doc, "engine", "engine")) != NULL) {
		get_str(&r, o, "name", "engine", &name);
		get_str(&r, o, "version", "engine", &ver);
		get_str(&r, o, "clrmd", "engine", &clrmd);
		if (r.rc == DS_OK) {
			n = strlen(name ? name : "engine") + strlen(ver ? ver : "") + strlen(clrmd ? clrmd : "") + 16;
			if ((f->source = malloc(n)) == NULL) {
				rd_fail(&r, DS_ENOMEM, "engine", "out of memory");
				goto out;
			}
			snprintf(f->source, n, "%s%s%s%s%s%s", name ? name : "engine", ver ? " " : "", ver ? ver : "",
				clrmd ? " (ClrMD " : "", clrmd ? clrmd : "", clrmd ? ")" : "");
		}
	}
	if (read_status(&r, doc, f) != DS_OK)
		goto out;
	get_str(&r, doc, "error", "error", &f->error);
	get_strv(&r, doc, "warnings", "warnings", FACTS_MAX_LIST, &f->warnings, &f->nwarnings);
	if ((o = get_obj(&r, doc, "runtime", "runtime")) != NULL) {
		get_str(&r, o, "version", "runtime", &f->runtime_version);
		get_str(&r, o, "flavor", "runtime", &f->runtime_flavor);
		get_str(&r, o, "dac", "runtime", &f->dac);
		get_int(&r, o, "pointer_size", "runtime", 0, 8, 0, &v);
		f->pointer_size = (unsigned)v;
	}
	if ((o = get_obj(&r, doc, "heap", "heap")) != NULL) {
		f->has_heap_stats = 1;
		get_int(&r, o, "objects", "heap", 0, INT64_MAX / 2, -1, &f->heap_objects);
		get_int(&r, o, "bytes", "heap", 0, INT64_MAX / 2, -1, &f->heap_bytes);
		get_int(&r, o, "duration_ms", "heap", 0, INT64_MAX / 2, -1, &f->heap_duration_ms);
	}
	if ((o = get_obj(&r, doc, "exception", "exception")) != NULL) {
		f->has_exception = 1;
		read_exception(&r, o, "exception", 0, &f->exception);
	}
	if ((o = get_obj(&r, doc, "faulting_thread", "faulting_thread")) != NULL) {
		f->has_faulting_thread = 1;
		read_thread(&r, o, "faulting_thread", &f->faulting_thread);
		get_strv(&r, o, "stack", "faulting_thread", FACTS_MAX_STACK, &f->faulting_stack, &f->nfaulting_stack);
	}
	if ((o = get_obj(&r, doc, "roots_searched", "roots_searched")) != NULL) {
		f->has_searched = 1;
		get_int(&r, o, "handles", "roots_searched", 0, INT64_MAX / 2, -1, &f->searched.handles);
		get_int(&r, o, "statics", "roots_searched", 0, INT64_MAX / 2, -1, &f->searched.statics);
		get_int(&r, o, "thread_statics", "roots_searched", 0, INT64_MAX / 2, -1, &f->searched.thread_statics);
		get_int(&r, o, "stack", "roots_searched", 0, INT64_MAX / 2, -1, &f->searched.stack);
		get_int(&r, o, "finalizer", "roots_searched", 0, INT64_MAX / 2, -1, &f->searched.finalizer);
	}
	ctxs = get_arr(&r, doc, "contexts", "contexts", FACTS_MAX_CONTEXTS);
	if (r.rc == DS_OK && ctxs == NULL && (f->status == FST_OK || f->status == FST_PARTIAL)) {
		rd_fail(&r, DS_EFORMAT, "contexts", "missing");
		goto out;
	}
	cJSON_ArrayForEach(it, ctxs) {
		snprintf(w, sizeof(w), "contexts[%zu]", i++);
		rc = facts_push((void **)&f->contexts, &f->ncontexts, sizeof(*f->contexts), FACTS_MAX_CONTEXTS, (void **)&c);
		if (rc != DS_OK) {
			rd_fail(&r, rc, w, "too many contexts");
			goto out;
		}
		if (read_context(&r, it, w, c) != DS_OK)
			goto out;
	}
out:
	free(name);
	free(ver);
	free(clrmd);
	cJSON_Delete(doc);
	return r.rc;
}
