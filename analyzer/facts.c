/* facts.c - the fact model's names, growth helper and release functions (the model is in facts.h).
 * Both readers (engine_json.c, sos_transcript.c) fill it through these; classify.c reads it. */
#include "facts.h"

#include "core/ds.h"

#include <stdlib.h>
#include <string.h>

static const char *const status_names[] = {
	[FST_OK] = "ok", [FST_PARTIAL] = "partial", [FST_NO_RUNTIME] = "no_runtime",
	[FST_NO_DAC] = "no_dac", [FST_NO_HEAP] = "no_heap", [FST_ERROR] = "error",
};

const char *facts_status_name(enum facts_status s)
{
	return (unsigned)s < DS_ARRAY_LEN(status_names) ? status_names[s] : "error";
}

static const char *const kind_names[] = {
	[FRK_UNKNOWN] = "unknown",
	[FRK_STATIC_FIELD] = "static_field",
	[FRK_THREAD_STATIC] = "thread_static",
	[FRK_STRONG_HANDLE] = "strong_handle",
	[FRK_PINNED_HANDLE] = "pinned_handle",
	[FRK_ASYNC_PINNED_HANDLE] = "async_pinned_handle",
	[FRK_SIZED_REF_HANDLE] = "sized_ref_handle",
	[FRK_REFCOUNTED_HANDLE] = "refcounted_handle",
	[FRK_DEPENDENT_HANDLE] = "dependent_handle",
	[FRK_WEAK_INTERIOR_HANDLE] = "weak_interior_handle",
	[FRK_WEAK_HANDLE] = "weak_handle",
	[FRK_STACK] = "stack",
	[FRK_FINALIZER_QUEUE] = "finalizer_queue",
	[FRK_RUNTIME_HANDLE] = "runtime_handle",
	[FRK_OLDER_GENERATION] = "older_generation",
};

const char *facts_root_kind_name(enum facts_root_kind k)
{
	return (unsigned)k < DS_ARRAY_LEN(kind_names) ? kind_names[k] : "unknown";
}

/* The index of name among names[1..n-1] (names[0] names the unknown value), or 0. */
static size_t facts_name_index(const char *const *names, size_t n, const char *name)
{
	size_t i;

	for (i = 1; name != NULL && i < n; i++)
		if (strcmp(name, names[i]) == 0)
			break;
	return name != NULL && i < n ? i : 0;
}

enum facts_root_kind facts_root_kind_parse(const char *name)
{
	return (enum facts_root_kind)facts_name_index(kind_names, DS_ARRAY_LEN(kind_names), name);
}

static const char *const via_names[] = {
	[FV_UNKNOWN] = "unknown", [FV_ROOT] = "root", [FV_FIELD] = "field", [FV_ELEMENT] = "element",
	[FV_DEPENDENT] = "dependent", [FV_LOADER_ALLOCATOR] = "loader_allocator",
	[FV_LOADER_ALLOCATOR_HANDLE] = "loader_allocator_handle",
};

const char *facts_via_name(enum facts_via v)
{
	return (unsigned)v < DS_ARRAY_LEN(via_names) ? via_names[v] : "unknown";
}

enum facts_via facts_via_parse(const char *name)
{
	return (enum facts_via)facts_name_index(via_names, DS_ARRAY_LEN(via_names), name);
}

const char *facts_ctx_state_name(enum facts_ctx_state s)
{
	switch (s) {
	case FCS_ALIVE: return "alive";
	case FCS_UNLOADING: return "unloading";
	default: return "unknown";
	}
}

void facts_init(struct facts *f)
{
	memset(f, 0, sizeof(*f));
	f->searched.handles = f->searched.statics = f->searched.thread_statics = -1;
	f->searched.stack = f->searched.finalizer = -1;
	f->faulting_thread.managed_id = -1;
}

static void strv_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; v != NULL && i < n; i++)
		free(v[i]);
	free(v);
}

static void thread_free(struct facts_thread *t)
{
	free(t->os_id);
	free(t->name);
	t->os_id = t->name = NULL;
}

void facts_root_free(struct facts_root *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; r->path != NULL && i < r->npath; i++) {
		free(r->path[i].type);
		free(r->path[i].field);
		free(r->path[i].method);
		free(r->path[i].dep_table_type);
		free(r->path[i].dep_table_root_kind);
		free(r->path[i].dep_table_root_field);
	}
	free(r->path);
	free(r->kind_name);
	free(r->field);
	free(r->sos_label);
	thread_free(&r->thread);
	free(r->frame);
	free(r->false_root_hint);
	memset(r, 0, sizeof(*r));
}

void facts_context_free(struct facts_context *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; c->roots != NULL && i < c->nroots; i++)
		facts_root_free(&c->roots[i]);
	free(c->roots);
	free(c->alc_type);
	free(c->name);
	strv_free(c->assemblies, c->nassemblies);
	memset(c, 0, sizeof(*c));
}

void facts_exception_free(struct facts_exception *e)
{
	if (e == NULL)
		return;
	free(e->type);
	free(e->message);
	free(e->thread);
	strv_free(e->stack, e->nstack);
	if (e->inner != NULL) {
		facts_exception_free(e->inner);
		free(e->inner);
	}
	memset(e, 0, sizeof(*e));
}

void facts_free(struct facts *f)
{
	size_t i;

	if (f == NULL)
		return;
	free(f->source);
	free(f->error);
	strv_free(f->warnings, f->nwarnings);
	free(f->runtime_version);
	free(f->runtime_flavor);
	free(f->dac);
	facts_exception_free(&f->exception);
	thread_free(&f->faulting_thread);
	strv_free(f->faulting_stack, f->nfaulting_stack);
	for (i = 0; f->contexts != NULL && i < f->ncontexts; i++)
		facts_context_free(&f->contexts[i]);
	free(f->contexts);
	facts_init(f);
}

int facts_push(void **arr, size_t *n, size_t elsz, size_t max, void **out)
{
	size_t cap;
	void *p;

	*out = NULL;
	if (*n >= max)
		return DS_ETOOBIG;
	/* capacity is the next power of two from 4: grow when n reaches it */
	if (*n == 0 || (*n >= 4 && (*n & (*n - 1)) == 0)) {
		cap = *n == 0 ? 4 : *n * 2;
		p = realloc(*arr, cap * elsz);
		if (p == NULL)
			return DS_ENOMEM;
		*arr = p;
	}
	*out = (char *)*arr + *n * elsz;
	memset(*out, 0, elsz);
	(*n)++;
	return DS_OK;
}
