/* classify.c - from facts to verdicts: per context its state, per root path the host-side owner, the
 * runtime registry it runs through and what the plugin registered there, the culprit, an address-free
 * signature and the catalogue entry (the rules are in classify.h); plus the verdict line and the JSON
 * rendering. It reads only the fact model: no SOS text, no engine document, no process. */
#include "classify.h"

#include "core/buf.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *classify_state_name(enum classify_state s)
{
	switch (s) {
	case CS_LIVE: return "live";
	case CS_UNLOADING_HELD: return "unloading_held";
	case CS_UNLOADING_NO_ROOTS: return "unloading_no_roots";
	default: return "unknown";
	}
}

/* ---- type names ---- */

static int ident_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
		c == '.' || c == '+' || c == '`' || c == '$' || c == '@';
}

static int runtime_ident(const char *s, size_t n)
{
	static const char *const prefixes[] = { "System.", "Microsoft.", "Internal.", "Interop." };
	size_t i, k;

	for (i = 0; i < n && s[i] >= '0' && s[i] <= '9'; i++)
		;
	if (i == n)
		return 1; /* a number (array rank, arity) */
	if (n == 6 && memcmp(s, "System", 6) == 0)
		return 1;
	for (k = 0; k < DS_ARRAY_LEN(prefixes); k++) {
		size_t pn = strlen(prefixes[k]);

		if (n >= pn && memcmp(s, prefixes[k], pn) == 0)
			return 1;
	}
	return 0;
}

int classify_is_runtime_type(const char *t)
{
	char stack[64];
	size_t depth = 0;
	const char *p, *s;

	if (t == NULL || strcmp(t, "<unknown type>") == 0 || strcmp(t, "Free") == 0)
		return 1;
	p = t;
	while (*p) {
		if (ident_char(*p) || (*p == '<' && (p == t || p[-1] == '+' || p[-1] == '.'))) {
			s = p;
			for (;;) {
				if (*p == '<' && (p == s || p[-1] == '+' || p[-1] == '.')) {
					/* compiler-generated name part: <>c, <Make>b__0 */
					const char *q = strchr(p, '>');

					if (q == NULL)
						break;
					p = q + 1;
				} else if (ident_char(*p)) {
					p++;
				} else {
					break;
				}
			}
			if (p == s)
				p++;
			else if (!runtime_ident(s, (size_t)(p - s)))
				return 0;
			continue;
		}
		if (*p == '[') {
			if (p[1] == ']' || p[1] == ',') {
				/* array rank */
				while (*p && *p != ']')
					p++;
				if (*p)
					p++;
				continue;
			}
			if (depth >= sizeof(stack))
				return 0;
			/* inner brackets hold "Type, Assembly": remember which kind this is */
			s = p;
			while (s > t && s[-1] == ' ')
				s--;
			stack[depth++] = (s > t && (s[-1] == '[' || s[-1] == ',')) ? 'I' : 'O';
			p++;
			continue;
		}
		if (*p == ']') {
			if (depth > 0)
				depth--;
			p++;
			continue;
		}
		if (*p == ',' && depth > 0 && stack[depth - 1] == 'I') {
			/* assembly qualifier: skip to the bracket that closes it */
			while (*p && *p != ']')
				p++;
			continue;
		}
		p++;
	}
	return 1;
}

/* ---- signatures ---- */

static int hexc(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int alnum_(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

/* Length of a hex run of 8+ digits at s[i] standing as its own word, else 0. */
static size_t addr_run(const char *s, size_t i)
{
	size_t j = i;

	if (i > 0 && alnum_(s[i - 1]))
		return 0;
	if (s[j] == '0' && (s[j + 1] == 'x' || s[j + 1] == 'X'))
		j += 2;
	while (hexc(s[j]))
		j++;
	if (j - i < 8 || alnum_(s[j]))
		return 0;
	return j - i;
}

uint64_t classify_hash_step(uint64_t h, const char *s)
{
	size_t i = 0, r;

	if (s == NULL)
		return h;
	while (s[i]) {
		r = addr_run(s, i);
		if (r > 0) {
			i += r;
			continue;
		}
		h ^= (unsigned char)s[i++];
		h *= 1099511628211ull;
	}
	return h;
}

/* A copy with addresses removed ("[InlinedCallFrame: 00007fff...]" -> "[InlinedCallFrame: ]"). */
static char *dup_no_addr(const char *s)
{
	size_t i = 0, o = 0, r, n = strlen(s);
	char *d = malloc(n + 1);

	if (d == NULL)
		return NULL;
	while (s[i]) {
		r = addr_run(s, i);
		if (r > 0) {
			i += r;
			continue;
		}
		d[o++] = s[i++];
	}
	d[o] = '\0';
	return d;
}


/* ---- registries the runtime owns ---- */

/* Types that mark a path through a runtime-owned registry, most specific first (the first entry that any
 * link matches wins). A prefix ending in '.' matches a namespace; otherwise the type must equal the
 * prefix or continue with '<', '`', '+' or '['. */
static const struct {
	const char *mechanism, *type;
} mech_types[] = {
	{ "timer", "System.Threading.TimerQueueTimer" },
	{ "timer", "System.Threading.TimerHolder" },
	{ "timer", "System.Threading.TimerQueue" },
	{ "timer", "System.Threading.TimerCallback" },
	{ "registered_wait", "System.Threading.RegisteredWaitHandle" },
	{ "registered_wait", "System.Threading._ThreadPoolWaitOrTimerCallback" },
	{ "registered_wait", "System.Threading.WaitOrTimerCallback" },
	{ "registered_wait", "System.Threading.PortableThreadPool+WaitThread" },
	{ "cancellation_registration", "System.Threading.CancellationTokenSource+CallbackNode" },
	{ "cancellation_registration", "System.Threading.CancellationTokenSource+Registrations" },
	{ "cancellation_registration", "System.Threading.CancellationTokenSource+CallbackPartition" },
	{ "assembly_resolve", "System.ResolveEventHandler" },
	{ "typedescriptor", "System.ComponentModel." },
	{ "json_metadata", "System.Text.Json." },
	{ "diagnostic_listener", "System.Diagnostics.DiagnosticListener" },
	{ "diagnostic_listener", "System.Diagnostics.DiagnosticSource" },
	{ "thread_local", "System.Threading.ThreadLocal" },
	{ "task_continuation", "System.Threading.Tasks.TaskCompletionSource" },
	{ "task_continuation", "System.Runtime.CompilerServices.AsyncTaskMethodBuilder" },
	{ "task_continuation", "System.Threading.Tasks.Task" },
	{ "execution_context", "System.Threading.AsyncLocal" },
	{ "execution_context", "System.Threading.ExecutionContext" },
	{ "execution_context", "System.Threading.AsyncLocalValueMap" },
	{ "conditional_weak_table", "System.Runtime.CompilerServices.ConditionalWeakTable" },
	{ "dynamic_assembly", "System.Reflection.Emit." },
};

/* Static fields of the runtime that are registries themselves (a root there is a registration). */
static const struct {
	const char *mechanism, *field;
} mech_fields[] = {
	{ "assembly_resolve", "System.Runtime.Loader.AssemblyLoadContext.AssemblyResolve" },
	{ "assembly_resolve", "System.Runtime.Loader.AssemblyLoadContext.TypeResolve" },
	{ "assembly_resolve", "System.Runtime.Loader.AssemblyLoadContext.ResourceResolve" },
	{ "assembly_resolve", "System.AppDomain.AssemblyResolve" },
	{ "framework_event", "System.AppContext.ProcessExit" },
	{ "framework_event", "System.AppContext.UnhandledException" },
	{ "framework_event", "System.AppContext.FirstChanceException" },
	{ "framework_event", "System.Runtime.Loader.AssemblyLoadContext.AssemblyLoad" },
	{ "framework_event", "System.AppDomain." },
	{ "framework_event", "Microsoft.Win32.SystemEvents." },
	{ "typedescriptor", "System.ComponentModel.TypeDescriptor." },
	{ "diagnostic_listener", "System.Diagnostics.DiagnosticListener." },
};

/* Instance fields whose value is a registration list (the owner object is the runtime's). */
static const struct {
	const char *mechanism, *field;
} mech_link_fields[] = {
	{ "alc_resolving", "_resolving" },
	{ "alc_resolving", "_resolvingUnmanagedDll" },
	{ "alc_resolving", "_unloading" },
};

static int type_matches(const char *type, const char *prefix)
{
	size_t n = strlen(prefix);

	if (strncmp(type, prefix, n) != 0)
		return 0;
	if (prefix[n - 1] == '.')
		return 1;
	return type[n] == '\0' || type[n] == '<' || type[n] == '`' || type[n] == '+' || type[n] == '[';
}

static int field_matches(const char *field, const char *pat)
{
	size_t n = strlen(pat);

	return pat[n - 1] == '.' ? strncmp(field, pat, n) == 0 : strcmp(field, pat) == 0;
}

/* A delegate type by name, for sources that give no delegate methods (transcripts). */
static int delegate_type(const char *t)
{
	size_t n = strlen(t);

	return (n >= 12 && strcmp(t + n - 12, "EventHandler") == 0) || strstr(t, "EventHandler<") != NULL ||
		type_matches(t, "System.Action") || type_matches(t, "System.Func") ||
		type_matches(t, "System.Delegate") || type_matches(t, "System.MulticastDelegate");
}

/* The method part of "Type.Method(args)" without arguments, addresses removed. */
static char *method_name(const char *frame)
{
	char *m = dup_no_addr(frame), *paren;

	if (m != NULL && m[0] != '[' && (paren = strchr(m, '(')) != NULL && paren > m)
		*paren = '\0';
	return m;
}

/* The declaring type of "Ns.Type.Method(args)" (a copy), or NULL. */
static char *method_type(const char *m)
{
	char *t = method_name(m), *dot;

	if (t != NULL && (dot = strrchr(t, '.')) != NULL && dot > t)
		*dot = '\0';
	else if (t != NULL) {
		free(t);
		t = NULL;
	}
	return t;
}

static int runtime_method(const char *m)
{
	char *t = method_type(m);
	int r = t == NULL || classify_is_runtime_type(t);

	free(t);
	return r;
}

static char *plugin_methods_where(const char *list, const struct facts_root *r, int only_plugin);
static int root_registered_delegate(const struct facts_root *r, char **out);

/* Whether method m is declared by one of the path's collectible (plugin) types. */
static int method_of_plugin(const char *m, const struct facts_root *r)
{
	char *t = method_type(m);
	size_t i;
	int yes = 0;

	for (i = 0; t != NULL && !yes && i < r->npath; i++)
		yes = r->path[i].collectible && strcmp(r->path[i].type, t) == 0;
	free(t);
	return yes;
}

/* The plugin's methods of a delegate's "A; B; C" list, malloc'd, or NULL: those declared by a plugin
 * type on the path when there are any, else every method that is not the runtime's. */
static char *plugin_methods(const char *list, const struct facts_root *r)
{
	char *own = plugin_methods_where(list, r, 1);

	if (own != NULL && own[0] == '\0') {
		free(own);
		own = plugin_methods_where(list, r, 0);
	}
	return own;
}

static char *plugin_methods_where(const char *list, const struct facts_root *r, int only_plugin)
{
	struct buf b;
	const char *p = list, *q;
	char one[1024];
	size_t n;

	buf_init(&b, FACTS_MAX_STRING);
	while (p != NULL && *p) {
		q = strstr(p, "; ");
		n = q ? (size_t)(q - p) : strlen(p);
		if (n < sizeof(one)) {
			memcpy(one, p, n);
			one[n] = '\0';
			if (!runtime_method(one) && (!only_plugin || method_of_plugin(one, r))) {
				char *m = method_name(one);

				if (m == NULL || buf_printf(&b, "%s%s", b.len ? "; " : "", m) != DS_OK) {
					free(m);
					buf_free(&b);
					return NULL;
				}
				free(m);
			}
		}
		p = q ? q + 2 : NULL;
	}
	return buf_steal(&b);
}

/* ---- short type names ---- */

/* "System.Collections.Generic.List<Scout.Plugin.GreeterPlugin>" -> "List<GreeterPlugin>". */
static char *short_type(const char *t)
{
	size_t n = strlen(t), i = 0, o = 0, seg;
	char *d = malloc(n + 1);

	if (d == NULL)
		return NULL;
	while (i < n) {
		if (ident_char(t[i]) && t[i] != '+') {
			seg = o;
			while (i < n && ident_char(t[i])) {
				if (t[i] == '.')
					o = seg; /* drop the namespace part written so far */
				else
					d[o++] = t[i];
				i++;
			}
			continue;
		}
		d[o++] = t[i++];
	}
	d[o] = '\0';
	return d;
}

/* ---- one root ---- */

static void root_free(struct classify_root *rt)
{
	size_t i;

	for (i = 0; i < rt->nchain; i++)
		free(rt->chain[i]);
	free(rt->chain);
	free(rt->owner);
	free(rt->culprit);
	free(rt->registered);
	free(rt->via);
	memset(rt, 0, sizeof(*rt));
}

static const struct culprit_entry fallback_entry = {
	"unknown", "Unrecognised root", "No catalogue entry matched.", "Read the path from the root down.",
	NULL, 0
};

static int is_handle_kind(enum facts_root_kind k)
{
	return k == FRK_STRONG_HANDLE || k == FRK_PINNED_HANDLE || k == FRK_ASYNC_PINNED_HANDLE ||
		k == FRK_SIZED_REF_HANDLE || k == FRK_REFCOUNTED_HANDLE || k == FRK_DEPENDENT_HANDLE;
}

static const char *const runtime_thread_names[] = {
	".NET Timer", ".NET TP Wait", ".NET ThreadPool Wait", ".NET TP Gate", ".NET Finalizer",
	".NET Tiered Compilation Worker", ".NET Counter Poller", ".NET EventPipe", ".NET SigHandler",
	".NET Long Running Task", ".NET TP Worker", ".NET BGC", ".NET Server GC",
};

/* A stack root on a thread the runtime owns: a runtime thread name, or - no name - only runtime frames. */
static int root_runtime_thread(const struct facts_root *r)
{
	size_t i;

	if (r->kind != FRK_STACK)
		return 0;
	for (i = 0; r->thread.name != NULL && i < DS_ARRAY_LEN(runtime_thread_names); i++)
		if (strncmp(r->thread.name, runtime_thread_names[i], strlen(runtime_thread_names[i])) == 0)
			return 1;
	return r->frame != NULL && runtime_method(r->frame) &&
		(r->thread.name == NULL || strncmp(r->thread.name, ".NET", 4) == 0);
}

/* A link that belongs to the plugin (its type was loaded by the context) or is the LoaderAllocator. */
static int plugin_link(const struct facts_link *l)
{
	return l->collectible || strcmp(l->type, "System.Reflection.LoaderAllocator") == 0 ||
		strcmp(l->type, "System.Reflection.LoaderAllocatorScout") == 0;
}

static const char *root_mechanism(const struct facts_root *r, const char **mtype)
{
	size_t i, k;

	*mtype = NULL;
	for (k = 0; r->field != NULL && k < DS_ARRAY_LEN(mech_fields); k++)
		if (field_matches(r->field, mech_fields[k].field))
			return mech_fields[k].mechanism;
	for (k = 0; k < DS_ARRAY_LEN(mech_types); k++)
		for (i = 0; i < r->npath; i++)
			/* a runtime generic over a plugin type is collectible and still the runtime's registry */
			if (type_matches(r->path[i].type, mech_types[k].type)) {
				*mtype = mech_types[k].type;
				return mech_types[k].mechanism;
			}
	for (i = 0; i < r->npath; i++) {
		for (k = 0; r->path[i].field != NULL && k < DS_ARRAY_LEN(mech_link_fields); k++)
			if (strcmp(r->path[i].field, mech_link_fields[k].field) == 0 && i > 0 &&
			    type_matches(r->path[i - 1].type, "System.Runtime.Loader."))
				return mech_link_fields[k].mechanism;
		if (r->path[i].via == FV_DEPENDENT)
			return "conditional_weak_table";
	}
	for (i = 0; i < r->npath; i++)
		if (!plugin_link(&r->path[i]) && (r->path[i].method != NULL || delegate_type(r->path[i].type)))
			return "event";
	/* the root object itself is an array or a runtime generic over the plugin's types */
	if (r->npath > 0 && r->path[0].collectible) {
		const char *t = r->path[0].type, *lt = strchr(t, '<');
		size_t n = strlen(t);

		if (n > 2 && strcmp(t + n - 2, "[]") == 0)
			return "plugin_array";
		if (lt != NULL && lt > t) {
			char outer[512];
			size_t k = (size_t)(lt - t) < sizeof(outer) - 1 ? (size_t)(lt - t) : sizeof(outer) - 1;

			memcpy(outer, t, k);
			outer[k] = '\0';
			if (classify_is_runtime_type(outer))
				return "generic_instantiation";
		}
	}
	return NULL;
}

/* "...Box<Ns.Type+<Method>d__16>" -> "Ns.Type.Method" (the async method a compiler state machine runs),
 * malloc'd, or NULL when the type names none. */
static char *state_machine_method(const char *t)
{
	const char *m = strstr(t, "+<"), *e, *b;
	char *out;
	size_t nt, nm;

	if (m == NULL || (e = strstr(m + 2, ">d__")) == NULL || e == m + 2)
		return NULL;
	for (b = m; b > t && b[-1] != '<' && b[-1] != ',' && b[-1] != ' ' && b[-1] != '['; b--)
		;
	nt = (size_t)(m - b);
	nm = (size_t)(e - (m + 2));
	if (nt == 0 || (out = malloc(nt + nm + 2)) == NULL)
		return NULL;
	memcpy(out, b, nt);
	out[nt] = '.';
	memcpy(out + nt + 1, m + 2, nm);
	out[nt + 1 + nm] = '\0';
	return out;
}

/* The plugin method registered: the delegate on the path nearest to the plugin, else the async method of
 * a plugin state machine awaiting on the path. */
static int root_registered(const struct facts_root *r, char **out)
{
	size_t i = r->npath;
	int rc = root_registered_delegate(r, out);

	if (rc != DS_OK || *out != NULL)
		return rc;
	while (i-- > 0)
		if (r->path[i].collectible && (*out = state_machine_method(r->path[i].type)) != NULL) {
			if (!classify_is_runtime_type(*out))
				return DS_OK;
			free(*out);
			*out = NULL;
		}
	return DS_OK;
}

static int root_registered_delegate(const struct facts_root *r, char **out)
{
	size_t i = r->npath;

	*out = NULL;
	while (i-- > 0)
		if (r->path[i].method != NULL) {
			*out = plugin_methods(r->path[i].method, r);
			if (*out == NULL)
				return DS_ENOMEM;
			if ((*out)[0] == '\0') {
				free(*out);
				*out = NULL;
				continue;
			}
			return DS_OK;
		}
	return DS_OK;
}

static int root_owner(const struct facts_root *r, int runtime_thread, struct buf *b)
{
	const struct facts_link *dep = NULL;
	size_t i;
	int rc = DS_OK;

	for (i = 0; i < r->npath; i++)
		if (r->path[i].via == FV_DEPENDENT && dep == NULL)
			dep = &r->path[i];
	switch (r->kind) {
	case FRK_STATIC_FIELD:
		rc = buf_printf(b, "static field %s", r->field ? r->field : "(unnamed)");
		break;
	case FRK_THREAD_STATIC:
		rc = buf_printf(b, "thread static %s on thread %s", r->field ? r->field : "(unnamed)",
			r->thread.os_id ? r->thread.os_id : "?");
		if (rc == DS_OK && r->thread.name)
			rc = buf_printf(b, " '%s'", r->thread.name);
		break;
	case FRK_STACK:
		rc = buf_printf(b, "%sthread %s", runtime_thread ? "the runtime's " : "",
			r->thread.os_id ? r->thread.os_id : "?");
		if (rc == DS_OK && r->thread.name)
			rc = buf_printf(b, " '%s'", r->thread.name);
		if (rc == DS_OK && r->frame) {
			char *m = method_name(r->frame);

			rc = m ? buf_printf(b, " in %s", m) : DS_ENOMEM;
			free(m);
		}
		break;
	case FRK_FINALIZER_QUEUE:
		rc = buf_puts(b, "the finalizer queue");
		break;
	default:
		if (is_handle_kind(r->kind) || r->kind == FRK_WEAK_INTERIOR_HANDLE || r->kind == FRK_WEAK_HANDLE ||
		    r->kind == FRK_RUNTIME_HANDLE) {
			const char *k = r->kind_name ? r->kind_name : "handle";
			size_t n = strlen(k);

			/* "strong_handle" -> "strong handle" */
			for (i = 0; rc == DS_OK && i < n; i++)
				rc = buf_printf(b, "%c", k[i] == '_' ? ' ' : k[i]);
		} else {
			rc = buf_printf(b, "root of kind %s", r->kind_name ? r->kind_name : "unknown");
		}
		break;
	}
	if (rc == DS_OK && dep != NULL)
		rc = buf_printf(b, " (the key of an entry of %s", dep->dep_table_type ? dep->dep_table_type
			: "a ConditionalWeakTable");
	if (rc == DS_OK && dep != NULL && dep->dep_table_root_field != NULL)
		rc = buf_printf(b, " held by %s %s", dep->dep_table_root_kind && strcmp(dep->dep_table_root_kind,
			"thread_static") == 0 ? "thread static" : "static field", dep->dep_table_root_field);
	if (rc == DS_OK && dep != NULL)
		rc = buf_puts(b, ")");
	return rc;
}

/* "first -> first plugin object" in short type names. */
static int root_via(const struct facts_root *r, char **out)
{
	struct buf b;
	size_t i, last = r->npath;
	char *a = NULL, *z = NULL;
	int rc = DS_ENOMEM;

	*out = NULL;
	buf_init(&b, FACTS_MAX_STRING);
	for (i = 0; i < r->npath; i++)
		if (plugin_link(&r->path[i])) {
			last = i;
			break;
		}
	if (r->npath == 0 || last == r->npath || (last == 0 && strcmp(r->path[0].type, "System.Reflection.LoaderAllocator") == 0)) {
		/* no plugin object: up to the link before the LoaderAllocator */
		last = r->npath >= 2 ? r->npath - 2 : 0;
	}
	if (r->npath == 0)
		return DS_OK;
	if ((a = short_type(r->path[0].type)) == NULL || (z = short_type(r->path[last].type)) == NULL)
		goto out;
	if (last == 0)
		rc = buf_puts(&b, a);
	else
		rc = buf_printf(&b, "%s %s %s", a, last > 1 ? "→ … →" : "→", z);
	if (rc == DS_OK && (*out = buf_steal(&b)) == NULL)
		rc = DS_ENOMEM;
out:
	free(a);
	free(z);
	buf_free(&b);
	return rc;
}

static int root_culprit(const struct facts_root *r, struct classify_root *rt, const char *mtype)
{
	size_t i;
	char *k;

	for (i = 0; i < r->npath; i++)
		if (r->path[i].via == FV_DEPENDENT && r->path[i].dep_table_root_field != NULL)
			/* the table's holder, not the key's: removing the entry or the table is the fix */
			return (rt->culprit = strdup(r->path[i].dep_table_root_field)) ? DS_OK : DS_ENOMEM;
	if ((r->kind == FRK_STATIC_FIELD || r->kind == FRK_THREAD_STATIC) && r->field != NULL &&
	    (rt->mechanism == NULL || !runtime_method(r->field)))
		/* a host's field; a runtime's own field (TimerQueue's queues, Thread.t_currentThread) on a path
		 * through a registry says less than what the plugin put there: see below */
		return (rt->culprit = strdup(r->field)) ? DS_OK : DS_ENOMEM;
	if (r->kind == FRK_STACK && !rt->runtime_thread && r->frame != NULL)
		return (rt->culprit = method_name(r->frame)) ? DS_OK : DS_ENOMEM;
	if (rt->registered != NULL)
		return (rt->culprit = strdup(rt->registered)) ? DS_OK : DS_ENOMEM;
	for (i = 0; i < r->npath; i++)
		if (!plugin_link(&r->path[i]) && !classify_is_runtime_type(r->path[i].type))
			return (rt->culprit = strdup(r->path[i].type)) ? DS_OK : DS_ENOMEM;
	if (mtype != NULL)
		return (rt->culprit = strdup(mtype)) ? DS_OK : DS_ENOMEM;
	if (r->field != NULL)
		return (rt->culprit = strdup(r->field)) ? DS_OK : DS_ENOMEM;
	if (r->kind == FRK_STACK && r->frame != NULL)
		return (rt->culprit = method_name(r->frame)) ? DS_OK : DS_ENOMEM;
	if (r->kind == FRK_FINALIZER_QUEUE)
		return (rt->culprit = strdup("finalizer queue")) ? DS_OK : DS_ENOMEM;
	k = strdup(r->kind_name ? r->kind_name : "unknown");
	for (i = 0; k != NULL && k[i]; i++)
		if (k[i] == '_')
			k[i] = ' ';
	rt->culprit = k;
	return k ? DS_OK : DS_ENOMEM;
}

static int root_classify(const struct facts_root *r, const struct culprit_catalogue *cat, struct classify_root *rt)
{
	struct buf owner, joined;
	const char *mtype = NULL, *first = NULL, *last = NULL;
	size_t i, n = r->npath;
	uint64_t h = 14695981039346656037ull;
	int rc = DS_ENOMEM;

	memset(rt, 0, sizeof(*rt));
	buf_init(&owner, FACTS_MAX_STRING);
	buf_init(&joined, (size_t)FACTS_MAX_PATH * 512);
	rt->src = r;
	rt->kind = r->kind_name ? r->kind_name : facts_root_kind_name(r->kind);
	if (r->false_root_hint != NULL)
		rt->false_reason = strcmp(r->false_root_hint, "runtime_handle") == 0 ? "runtime_handle"
			: strcmp(r->false_root_hint, "weak_interior_handle") == 0 ? "weak_interior_handle" : "engine_hint";
	else if (r->kind == FRK_WEAK_INTERIOR_HANDLE)
		rt->false_reason = "weak_interior_handle";
	else if (r->kind == FRK_RUNTIME_HANDLE)
		rt->false_reason = "runtime_handle";
	else if (r->kind == FRK_WEAK_HANDLE)
		rt->false_reason = "weak_handle";
	rt->probable_false_root = rt->false_reason != NULL;
	rt->runtime_thread = root_runtime_thread(r);
	rt->mechanism = root_mechanism(r, &mtype);
	if (root_registered(r, &rt->registered) != DS_OK)
		goto out;
	if (root_owner(r, rt->runtime_thread, &owner) != DS_OK || (rt->owner = buf_steal(&owner)) == NULL)
		goto out;
	if (root_culprit(r, rt, mtype) != DS_OK || root_via(r, &rt->via) != DS_OK)
		goto out;
	if (n > 0 && (rt->chain = calloc(n, sizeof(*rt->chain))) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		if ((rt->chain[i] = dup_no_addr(r->path[i].type)) == NULL)
			goto out;
		rt->nchain++;
		if ((i > 0 && buf_puts(&joined, " -> ") != DS_OK) || buf_puts(&joined, rt->chain[i]) != DS_OK)
			goto out;
		if (!classify_is_runtime_type(r->path[i].type) && strcmp(r->path[i].type, "<unknown type>") != 0) {
			if (first == NULL)
				first = r->path[i].type;
			last = r->path[i].type;
		}
	}
	rt->catalogue = culprits_match(cat, rt->kind, rt->culprit, joined.data ? joined.data : "",
		r->kind == FRK_STATIC_FIELD && n > 0 ? r->path[0].type : NULL, rt->mechanism);
	if (rt->catalogue == NULL)
		rt->catalogue = &fallback_entry;
	/* signature: what the cause is, not the runtime objects between its ends */
	h = classify_hash_step(h, rt->kind);
	h = classify_hash_step(h, "\x1f");
	h = classify_hash_step(h, rt->culprit);
	h = classify_hash_step(h, "\x1f");
	h = classify_hash_step(h, rt->registered);
	h = classify_hash_step(h, "\x1f");
	h = classify_hash_step(h, first);
	h = classify_hash_step(h, "\x1f");
	h = classify_hash_step(h, last);
	rt->signature = h;
	snprintf(rt->signature_hex, sizeof(rt->signature_hex), "%016llx", (unsigned long long)h);
	rc = DS_OK;
out:
	buf_free(&owner);
	buf_free(&joined);
	if (rc != DS_OK)
		root_free(rt);
	return rc;
}

/* ---- contexts ---- */

static int kind_rank(const struct classify_root *r)
{
	if (r->probable_false_root)
		return 9;
	switch (r->src->kind) {
	case FRK_STATIC_FIELD: return 0;
	case FRK_THREAD_STATIC: return 1;
	case FRK_DEPENDENT_HANDLE: return 2;
	case FRK_STACK: return r->runtime_thread ? 4 : 3;
	case FRK_FINALIZER_QUEUE: return 6;
	default: return is_handle_kind(r->src->kind) ? (r->mechanism != NULL ? 3 : 5) : 7;
	}
}

static void context_free(struct classify_context *c)
{
	size_t i;

	for (i = 0; i < c->nroots; i++)
		root_free(&c->roots[i]);
	free(c->roots);
	memset(c, 0, sizeof(*c));
}

void classify_result_free(struct classify_result *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->ncontexts; i++)
		context_free(&r->contexts[i]);
	free(r->contexts);
	culprits_free(&r->catalogue);
	memset(r, 0, sizeof(*r));
}

static int context_classify(const struct facts_context *fc, const struct culprit_catalogue *cat,
	struct classify_context *c)
{
	size_t i, j;
	int live = 0, rc;

	c->src = fc;
	if (fc->nroots > 0 && (c->roots = calloc(fc->nroots, sizeof(*c->roots))) == NULL)
		return DS_ENOMEM;
	for (i = 0; i < fc->nroots; i++) {
		if ((rc = root_classify(&fc->roots[i], cat, &c->roots[i])) != DS_OK)
			return rc;
		c->nroots++;
		if (!c->roots[i].probable_false_root)
			c->nreal++;
		if (c->roots[i].false_reason != NULL && strcmp(c->roots[i].false_reason, "runtime_handle") == 0)
			live = 1;
	}
	/* best first (stable insertion sort: a few roots) */
	for (i = 1; i < c->nroots; i++) {
		struct classify_root t = c->roots[i];

		for (j = i; j > 0 && kind_rank(&c->roots[j - 1]) > kind_rank(&t); j--)
			c->roots[j] = c->roots[j - 1];
		c->roots[j] = t;
	}
	if (fc->state == FCS_ALIVE || (fc->state == FCS_UNKNOWN && live))
		c->state = CS_LIVE;
	else if (c->nreal > 0)
		c->state = CS_UNLOADING_HELD;
	else if (fc->state == FCS_UNLOADING || (fc->roots_searched && (fc->loader_allocator != 0 || fc->scout != 0)))
		c->state = CS_UNLOADING_NO_ROOTS;
	else
		c->state = CS_UNKNOWN;
	return DS_OK;
}

int classify_facts(const struct facts *f, struct classify_result *r, struct ds_err *err)
{
	size_t i;
	int rc;

	memset(r, 0, sizeof(*r));
	if ((rc = culprits_load_builtin(&r->catalogue, err)) != DS_OK)
		goto out;
	if (f->ncontexts > 0 && (r->contexts = calloc(f->ncontexts, sizeof(*r->contexts))) == NULL) {
		rc = DS_ENOMEM;
		goto out;
	}
	for (i = 0; i < f->ncontexts; i++) {
		r->ncontexts++;
		if ((rc = context_classify(&f->contexts[i], &r->catalogue, &r->contexts[i])) != DS_OK)
			goto out;
		if (r->contexts[i].state == CS_UNLOADING_HELD || r->contexts[i].state == CS_UNLOADING_NO_ROOTS)
			r->leak = 1;
	}
out:
	if (rc == DS_ENOMEM)
		ds_err_setn(err, rc, "out of memory classifying roots");
	return rc;
}

/* ---- the verdict line ---- */

static int searched_text(struct buf *b, const struct facts_searched *s)
{
	if (s == NULL || (s->handles < 0 && s->statics < 0 && s->stack < 0))
		return buf_puts(b, "the roots the source showed");
	return buf_printf(b, "%lld GC handles, %lld static fields, %lld thread statics, %lld stack roots, "
		"%lld finalizer entries", (long long)s->handles, (long long)s->statics, (long long)s->thread_statics,
		(long long)s->stack, (long long)s->finalizer);
}

char *classify_verdict_line(const struct classify_context *c, const struct facts_searched *searched)
{
	const char *name = c->src->name ? c->src->name : "(unnamed)";
	struct buf b;
	int rc;

	buf_init(&b, 4 * FACTS_MAX_STRING);
	switch (c->state) {
	case CS_UNLOADING_HELD: {
		const struct classify_root *r = &c->roots[0];

		rc = buf_printf(&b, "context '%s' is held by %s", name, r->owner);
		if (rc == DS_OK && r->registered != NULL && r->mechanism != NULL)
			rc = buf_printf(&b, ", which holds %s registered by the plugin (%s)", r->registered, r->mechanism);
		if (rc == DS_OK && r->via != NULL && r->via[0])
			rc = buf_printf(&b, " (via %s)", r->via);
		if (rc == DS_OK && strcmp(r->catalogue->id, "unknown") != 0)
			rc = buf_printf(&b, " — known cause: %s", r->catalogue->title);
		if (rc == DS_OK)
			rc = buf_printf(&b, " — fix: %s", r->catalogue->advice);
		if (rc == DS_OK && c->nreal > 1)
			rc = buf_printf(&b, " (and %zu more root%s)", c->nreal - 1, c->nreal == 2 ? "" : "s");
		break;
	}
	case CS_UNLOADING_NO_ROOTS:
		rc = buf_printf(&b, "context '%s' was unloaded and is still alive, but no root path reaches it (searched ", name);
		if (rc == DS_OK)
			rc = searched_text(&b, searched);
		if (rc == DS_OK)
			rc = buf_puts(&b, ") — a root the search cannot see holds it (an object of the plugin's types on "
				"a stack the engine could not walk, a native or COM reference) or it is on its way out: "
				"collect again (GC.Collect + WaitForPendingFinalizers) before the dump and analyze again");
		break;
	case CS_LIVE:
		rc = buf_printf(&b, "context '%s' is live (Unload() was not called): not a leak", name);
		break;
	default:
		rc = buf_printf(&b, "context '%s': state unknown (no root search for it)", name);
		break;
	}
	if (rc != DS_OK) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}

/* ---- JSON ---- */

static cJSON *json_addr(uint64_t a)
{
	char b[24];

	if (a == 0)
		return cJSON_CreateNull();
	snprintf(b, sizeof(b), "0x%llx", (unsigned long long)a);
	return cJSON_CreateString(b);
}

static cJSON *json_str(const char *s)
{
	return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

/* Adds an item, and remembers failure (cJSON returns NULL on allocation failure). */
static void put(cJSON *o, const char *k, cJSON *v, int *bad)
{
	if (v == NULL || o == NULL) {
		*bad = 1;
		cJSON_Delete(v);
		return;
	}
	cJSON_AddItemToObject(o, k, v);
}

static cJSON *thread_json(const struct facts_root *r, int *bad)
{
	cJSON *t;

	if (!r->has_thread)
		return cJSON_CreateNull();
	t = cJSON_CreateObject();
	put(t, "os_id", json_str(r->thread.os_id), bad);
	put(t, "managed_id", r->thread.managed_id >= 0 ? cJSON_CreateNumber((double)r->thread.managed_id)
		: cJSON_CreateNull(), bad);
	put(t, "name", json_str(r->thread.name), bad);
	return t;
}

static cJSON *root_json(const struct classify_root *rt, int *bad)
{
	cJSON *o = cJSON_CreateObject(), *ch = cJSON_CreateArray(), *cat = cJSON_CreateObject();
	size_t i;

	for (i = 0; ch != NULL && i < rt->nchain; i++) {
		cJSON *s = cJSON_CreateString(rt->chain[i]);

		if (s == NULL)
			*bad = 1;
		else
			cJSON_AddItemToArray(ch, s);
	}
	put(o, "kind", cJSON_CreateString(rt->kind), bad);
	put(o, "owner", json_str(rt->owner), bad);
	put(o, "culprit", json_str(rt->culprit), bad);
	put(o, "mechanism", json_str(rt->mechanism), bad);
	put(o, "registered", json_str(rt->registered), bad);
	put(o, "via", json_str(rt->via), bad);
	put(o, "field", json_str(rt->src->field), bad);
	put(o, "thread", thread_json(rt->src, bad), bad);
	put(o, "frame", json_str(rt->src->frame), bad);
	put(o, "handle", json_addr(rt->src->handle), bad);
	put(o, "signature", cJSON_CreateString(rt->signature_hex), bad);
	put(o, "chain", ch, bad);
	put(o, "path_truncated", cJSON_CreateBool(rt->src->path_truncated), bad);
	put(o, "probable_false_root", cJSON_CreateBool(rt->probable_false_root), bad);
	put(o, "false_reason", json_str(rt->false_reason), bad);
	if (rt->src->sos_label != NULL)
		put(o, "sos_static_label", cJSON_CreateString(rt->src->sos_label), bad);
	put(cat, "id", json_str(rt->catalogue->id), bad);
	put(cat, "title", json_str(rt->catalogue->title), bad);
	put(cat, "explanation", json_str(rt->catalogue->explanation), bad);
	put(cat, "advice", json_str(rt->catalogue->advice), bad);
	put(o, "catalogue", cat, bad);
	return o;
}

static cJSON *searched_json(const struct facts *f, int *bad)
{
	cJSON *o;

	if (!f->has_searched)
		return cJSON_CreateNull();
	o = cJSON_CreateObject();
	put(o, "handles", cJSON_CreateNumber((double)f->searched.handles), bad);
	put(o, "statics", cJSON_CreateNumber((double)f->searched.statics), bad);
	put(o, "thread_statics", cJSON_CreateNumber((double)f->searched.thread_statics), bad);
	put(o, "stack", cJSON_CreateNumber((double)f->searched.stack), bad);
	put(o, "finalizer", cJSON_CreateNumber((double)f->searched.finalizer), bad);
	return o;
}

cJSON *classify_to_json(const struct classify_result *r, const struct facts *f, int all_roots)
{
	cJSON *o = cJSON_CreateObject(), *ctxs = cJSON_CreateArray(), *c, *roots;
	size_t i, j, hidden;
	int bad = 0;

	put(o, "leak", cJSON_CreateBool(r->leak), &bad);
	for (i = 0; ctxs != NULL && i < r->ncontexts; i++) {
		const struct classify_context *x = &r->contexts[i];
		char *verdict = classify_verdict_line(x, f->has_searched ? &f->searched : NULL);

		c = cJSON_CreateObject();
		roots = cJSON_CreateArray();
		put(c, "name", json_str(x->src->name), &bad);
		put(c, "alc", json_addr(x->src->alc), &bad);
		put(c, "alc_type", json_str(x->src->alc_type), &bad);
		put(c, "loader_allocator", json_addr(x->src->loader_allocator), &bad);
		put(c, "scout", json_addr(x->src->scout), &bad);
		put(c, "dynamic", cJSON_CreateBool(x->src->dynamic), &bad);
		put(c, "state", cJSON_CreateString(classify_state_name(x->state)), &bad);
		put(c, "engine_state", cJSON_CreateString(facts_ctx_state_name(x->src->state)), &bad);
		put(c, "verdict", json_str(verdict), &bad);
		free(verdict);
		put(c, "roots_truncated", cJSON_CreateBool(x->src->roots_truncated), &bad);
		hidden = 0;
		for (j = 0; roots != NULL && j < x->nroots; j++) {
			cJSON *rj;

			if (x->roots[j].probable_false_root && !all_roots) {
				hidden++;
				continue;
			}
			if ((rj = root_json(&x->roots[j], &bad)) == NULL)
				bad = 1;
			else
				cJSON_AddItemToArray(roots, rj);
		}
		put(c, "roots", roots, &bad);
		put(c, "hidden_roots", cJSON_CreateNumber((double)hidden), &bad);
		if (c == NULL)
			bad = 1;
		else
			cJSON_AddItemToArray(ctxs, c);
	}
	put(o, "contexts", ctxs, &bad);
	put(o, "roots_searched", searched_json(f, &bad), &bad);
	if (bad) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}
