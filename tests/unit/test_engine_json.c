/* test_engine_json.c - unit tests of the service's analysis path: analyzer/engine_json.c (the heap
 * engine's document into facts: shape checks, caps, addresses, unknown kinds) and analyzer/classify.c
 * over engine facts (owners, runtime registries and the plugin method registered there, runtime-owned
 * threads, probable false roots, signatures) and heap_crash_bucket. The documents are written by hand
 * from docs/engine.md and from how the runtime stores each registration (which objects a Timer, a
 * RegisteredWaitHandle, a CancellationToken registration... put between the root and the plugin). */
#include "t.h"

#include <cjson/cJSON.h>
#include <stdarg.h>

#include "analyzer/engine_json.h"
#include "analyzer/heap_analyze.h"

#define S(lit) (lit), (sizeof(lit) - 1)

#define LA "{\"address\":\"0x7f0000001000\",\"type\":\"System.Reflection.LoaderAllocator\",\"via\":\"loader_allocator\"}"
#define PLUGIN(addr, type) "{\"address\":\"" addr "\",\"type\":\"" type "\",\"via\":\"field\",\"collectible\":true}"
#define OBJ(addr, type, field) "{\"address\":\"" addr "\",\"type\":\"" type "\",\"via\":\"field\",\"field\":\"" field "\"}"
#define DELEGATE(addr, type, method) \
	"{\"address\":\"" addr "\",\"type\":\"" type "\",\"via\":\"field\",\"method\":\"" method "\"}"

/* One document with one unloading context holding the given roots (a JSON array body). */
static char *doc1(const char *roots)
{
	static const char head[] =
		"{\"format\":1,\"engine\":{\"name\":\"dumpscout-heap\",\"version\":\"1.0.0\"},\"status\":\"ok\","
		"\"error\":null,\"warnings\":[],\"runtime\":{\"version\":\"10.0.12\",\"pointer_size\":8},"
		"\"exception\":{\"type\":\"System.ExecutionEngineException\",\"message\":null,\"hresult\":\"0x80131506\","
		"\"stack\":[\"System.Environment.FailFast(System.String)\",\"Scout.Host.Program.Crash(System.String)\"]},"
		"\"contexts\":[{\"loader_allocator\":\"0x7f0000001000\",\"alc\":\"0x7f0000000f00\",\"name\":\"plugin-x\","
		"\"state\":\"unloading\",\"roots\":[";
	static const char tail[] = "]}],\"roots_searched\":{\"handles\":10,\"statics\":20,\"thread_statics\":1,"
				   "\"stack\":5,\"finalizer\":0}}";
	size_t n = strlen(head) + strlen(roots) + strlen(tail) + 1;
	char *d = malloc(n);

	if (d != NULL)
		snprintf(d, n, "%s%s%s", head, roots, tail);
	return d;
}

struct an {
	struct heap_analysis a;
};

static int an_doc(const char *roots, struct heap_analysis *a)
{
	char *d = doc1(roots);
	int rc;

	memset(a, 0, sizeof(*a));
	if (d == NULL)
		return DS_ENOMEM;
	rc = heap_analyze_document(d, strlen(d), a);
	free(d);
	return rc;
}

static const struct classify_root *best(const struct heap_analysis *a)
{
	if (!a->classified || a->result.ncontexts != 1 || a->result.contexts[0].nroots == 0)
		return NULL;
	return &a->result.contexts[0].roots[0];
}

TEST(reads_contract_document)
{
	static const char doc[] =
		"{\"format\":1,\"engine\":{\"name\":\"dumpscout-heap\",\"version\":\"1.0.0\",\"clrmd\":\"4.2\"},"
		"\"status\":\"partial\",\"error\":null,\"warnings\":[\"stack roots of thread 0x174e skipped: crash\"],"
		"\"runtime\":{\"version\":\"10.0.12\",\"flavor\":\"CoreCLR\",\"dac\":\"/x/libmscordaccore.so\",\"pointer_size\":8},"
		"\"heap\":{\"objects\":123,\"bytes\":4567,\"can_walk\":true,\"duration_ms\":8},"
		"\"exception\":{\"type\":\"System.InvalidOperationException\",\"message\":\"m\",\"hresult\":\"0x80131509\","
		"\"thread\":\"0x174e\",\"stack\":[\"A.B.C()\"],\"inner\":{\"type\":\"System.Exception\",\"stack\":[]}},"
		"\"faulting_thread\":{\"os_id\":\"0x174e\",\"managed_id\":1,\"name\":null,\"stack\":[\"A.B.C()\"]},"
		"\"contexts\":[{\"loader_allocator\":\"0x7f00\",\"scout\":null,\"alc\":null,\"alc_type\":null,\"name\":null,"
		"\"state\":\"unknown\",\"dynamic\":true,\"assemblies\":[\"Dyn\"],\"roots_truncated\":true,\"roots\":["
		"{\"kind\":\"brand_new_kind\",\"field\":null,\"handle\":\"0xABC\",\"thread\":{\"os_id\":\"0x1\",\"managed_id\":2,"
		"\"name\":\"t\"},\"frame\":null,\"false_root_hint\":null,\"path\":[{\"address\":\"0x10\",\"type\":\"X\",\"via\":"
		"\"teleport\",\"field\":null,\"collectible\":false,\"method\":null,\"dependent\":{\"handle\":\"0x5\",\"table\":null,"
		"\"table_type\":null}}],\"path_truncated\":true,\"future_member\":[1,2]}]}],"
		"\"roots_searched\":{\"handles\":1,\"statics\":2,\"thread_statics\":3,\"stack\":4,\"finalizer\":5}}";
	struct facts f;
	struct ds_err e = { 0 };

	CHECK_INT(engine_json_read(S(doc), &f, &e), DS_OK);
	CHECK_INT(f.status, FST_PARTIAL);
	CHECK_INT(f.nwarnings, 1);
	CHECK_STR(f.runtime_version, "10.0.12");
	CHECK_INT(f.pointer_size, 8);
	CHECK_INT(f.exception.has_hresult, 1);
	CHECK_U64(f.exception.hresult, 0x80131509u);
	CHECK(f.exception.inner != NULL && strcmp(f.exception.inner->type, "System.Exception") == 0);
	CHECK_INT(f.nfaulting_stack, 1);
	CHECK_INT(f.ncontexts, 1);
	if (f.ncontexts == 1) {
		CHECK_U64(f.contexts[0].loader_allocator, 0x7f00u);
		CHECK_INT(f.contexts[0].dynamic, 1);
		CHECK_INT(f.contexts[0].roots_truncated, 1);
		CHECK_INT(f.contexts[0].nroots, 1);
		CHECK_INT(f.contexts[0].roots[0].kind, FRK_UNKNOWN); /* tolerated, name kept */
		CHECK_STR(f.contexts[0].roots[0].kind_name, "brand_new_kind");
		CHECK_U64(f.contexts[0].roots[0].handle, 0xabcu);
		CHECK_INT(f.contexts[0].roots[0].path[0].via, FV_UNKNOWN);
		CHECK_U64(f.contexts[0].roots[0].path[0].dep_handle, 5u);
	}
	CHECK_INT(f.searched.finalizer, 5);
	facts_free(&f);
}

/* Each malformed document is refused, and the message names the member. */
TEST(rejects_malformed_naming_the_member)
{
	static const struct {
		const char *doc, *where;
	} bad[] = {
		{ "[]", "document" },
		{ "{\"format\":1,", "document" },
		{ "{\"format\":2,\"status\":\"ok\",\"contexts\":[]}", "format" },
		{ "{\"status\":\"ok\",\"contexts\":[]}", "format" },
		{ "{\"format\":1,\"status\":7,\"contexts\":[]}", "status" },
		{ "{\"format\":1,\"status\":\"ok\"}", "contexts" },
		{ "{\"format\":1,\"status\":\"ok\",\"contexts\":{}}", "contexts" },
		{ "{\"format\":1,\"status\":\"ok\",\"contexts\":[{\"loader_allocator\":\"7f00\",\"roots\":[]}]}",
		  "contexts[0]" },
		{ "{\"format\":1,\"status\":\"ok\",\"contexts\":[{\"loader_allocator\":\"0x1\",\"roots\":[{\"kind\":\"stack\","
		  "\"path\":[{\"address\":\"0x10000000000000000\",\"type\":\"X\"}]}]}]}", "contexts[0].roots[0].path[0]" },
		{ "{\"format\":1,\"status\":\"ok\",\"contexts\":[{\"loader_allocator\":\"0x1\",\"roots\":[{\"kind\":\"stack\","
		  "\"path\":[{\"address\":\"0x1\",\"type\":5}]}]}]}", "contexts[0].roots[0].path[0]" },
		{ "{\"format\":1,\"status\":\"ok\",\"contexts\":[{\"loader_allocator\":\"0x1\",\"roots\":[{\"path\":[]}]}]}",
		  "contexts[0].roots[0]" },
		{ "{\"format\":1,\"status\":\"ok\",\"contexts\":[{\"roots\":[],\"dynamic\":\"yes\"}]}", "contexts[0]" },
		{ "{\"format\":1,\"status\":\"ok\",\"contexts\":[],\"exception\":{\"message\":\"no type\"}}", "exception" },
		{ "{\"format\":1,\"status\":\"ok\",\"contexts\":[],\"exception\":{\"type\":\"T\",\"hresult\":\"0x123456789\"}}",
		  "exception" },
		{ "{\"format\":1,\"status\":\"ok\",\"contexts\":[],\"roots_searched\":{\"handles\":-1}}", "roots_searched" },
		{ "{\"format\":1,\"status\":\"ok\",\"contexts\":[],\"warnings\":[1]}", "warnings" },
		{ "{\"format\":1,\"status\":\"ok\",\"contexts\":[],\"runtime\":{\"pointer_size\":1.5}}", "runtime" },
	};
	struct facts f;
	struct ds_err e;
	size_t i;

	for (i = 0; i < DS_ARRAY_LEN(bad); i++) {
		memset(&e, 0, sizeof(e));
		if (engine_json_read(bad[i].doc, strlen(bad[i].doc), &f, &e) != DS_EFORMAT)
			T_FAIL_("document %zu accepted or wrong error", i);
		else if (strstr(e.msg, bad[i].where) == NULL)
			T_FAIL_("document %zu: message '%s' does not name '%s'", i, e.msg, bad[i].where);
		facts_free(&f);
	}
}

TEST(caps)
{
	struct facts f;
	struct ds_err e = { 0 };
	char *big;
	size_t n = 5000, i, o = 0, sz = n * 40 + 200;

	/* more roots than FACTS_MAX_ROOTS in one context: refused as too big */
	big = malloc(sz);
	o += (size_t)snprintf(big + o, sz - o, "{\"format\":1,\"status\":\"ok\",\"contexts\":[{\"roots\":[");
	for (i = 0; i < n; i++)
		o += (size_t)snprintf(big + o, sz - o, "%s{\"kind\":\"stack\",\"path\":[]}", i ? "," : "");
	o += (size_t)snprintf(big + o, sz - o, "]}]}");
	CHECK_INT(engine_json_read(big, o, &f, &e), DS_ETOOBIG);
	CHECK(strstr(e.msg, "roots") != NULL);
	facts_free(&f);
	free(big);
	CHECK_INT(engine_json_read("{}", (size_t)ENGINE_JSON_MAX + 1, &f, &e), DS_ETOOBIG);
	facts_free(&f);
}

TEST(long_strings_are_cut_on_a_character)
{
	size_t n = FACTS_MAX_STRING + 100, i, o;
	char *d = malloc(n + 200);
	struct facts f;
	struct ds_err e = { 0 };

	o = (size_t)sprintf(d, "{\"format\":1,\"status\":\"ok\",\"contexts\":[],\"exception\":{\"type\":\"T\",\"message\":\"");
	for (i = 0; i < n / 2; i++) {
		d[o++] = (char)0xc3; /* "é" */
		d[o++] = (char)0xa9;
	}
	o += (size_t)sprintf(d + o, "\"}}");
	CHECK_INT(engine_json_read(d, o, &f, &e), DS_OK);
	CHECK(f.exception.message != NULL && strlen(f.exception.message) <= FACTS_MAX_STRING &&
	      strlen(f.exception.message) % 2 == 0);
	facts_free(&f);
	free(d);
}

TEST(static_field_owner_and_false_roots)
{
	struct heap_analysis a;
	const struct classify_root *r;
	char *line;

	CHECK_INT(an_doc("{\"kind\":\"weak_interior_handle\",\"handle\":\"0x77\",\"false_root_hint\":\"weak_interior_handle\","
			 "\"path\":[" OBJ("0x20", "System.RuntimeType", "m_handle") "," LA "]},"
			 "{\"kind\":\"static_field\",\"field\":\"Host.Registry.Plugins\",\"path\":["
			 PLUGIN("0x30", "System.Collections.Generic.List<Plug.Greeter>") ","
			 PLUGIN("0x40", "Plug.Greeter[]") "," PLUGIN("0x50", "Plug.Greeter") "," LA "]}", &a), DS_OK);
	r = best(&a);
	CHECK(r != NULL);
	if (r != NULL) {
		CHECK_STR(r->kind, "static_field");
		CHECK_STR(r->owner, "static field Host.Registry.Plugins");
		CHECK_STR(r->culprit, "Host.Registry.Plugins");
		CHECK_STR(r->mechanism, "generic_instantiation");
		CHECK_STR(r->catalogue->id, "generic-over-plugin-type");
		CHECK_STR(r->via, "List<Greeter>");
	}
	CHECK_INT(a.result.contexts[0].state, CS_UNLOADING_HELD);
	CHECK_INT(a.result.contexts[0].nreal, 1);
	CHECK_INT(a.result.contexts[0].roots[1].probable_false_root, 1);
	line = classify_verdict_line(&a.result.contexts[0], NULL);
	CHECK(line != NULL && strstr(line, "context 'plugin-x' is held by static field Host.Registry.Plugins (via List<Greeter>) — known cause: ") == line);
	CHECK(line != NULL && strstr(line, "known cause: ") != NULL && strstr(line, "fix: ") != NULL);
	free(line);
	heap_analysis_free(&a);
}

/* A Timer: the runtime's TimerQueue static -> TimerQueueTimer -> TimerCallback -> the plugin. */
TEST(timer_names_the_callback)
{
	struct heap_analysis a;
	const struct classify_root *r;

	CHECK_INT(an_doc("{\"kind\":\"static_field\",\"field\":\"System.Threading.TimerQueue.<Instances>k__BackingField\","
			 "\"path\":[" OBJ("0x10", "System.Threading.TimerQueue[]", "") ","
			 OBJ("0x11", "System.Threading.TimerQueue", "[0]") ","
			 OBJ("0x12", "System.Threading.TimerQueueTimer", "_shortTimers") ","
			 DELEGATE("0x13", "System.Threading.TimerCallback", "Plug.Poller.OnTick(System.Object)") ","
			 PLUGIN("0x14", "Plug.Poller") "," LA "]}", &a), DS_OK);
	r = best(&a);
	CHECK(r != NULL);
	if (r != NULL) {
		CHECK_STR(r->mechanism, "timer");
		CHECK_STR(r->registered, "Plug.Poller.OnTick");
		CHECK_STR(r->catalogue->id, "timer-callback");
	}
	heap_analysis_free(&a);
}

/* The same timer seen from the timer thread's stack: the runtime's thread, not plugin code. */
TEST(runtime_thread_is_not_plugin_code)
{
	struct heap_analysis a;
	const struct classify_root *r;

	CHECK_INT(an_doc("{\"kind\":\"stack\",\"thread\":{\"os_id\":\"0x99\",\"managed_id\":4,\"name\":\".NET Timer\"},"
			 "\"frame\":\"System.Threading.TimerQueue.TimerThread()\",\"path\":["
			 OBJ("0x12", "System.Threading.TimerQueueTimer", "") ","
			 DELEGATE("0x13", "System.Threading.TimerCallback", "Plug.Poller.OnTick(System.Object)") ","
			 PLUGIN("0x14", "Plug.Poller") "," LA "]}", &a), DS_OK);
	r = best(&a);
	CHECK(r != NULL);
	if (r != NULL) {
		CHECK_INT(r->runtime_thread, 1);
		CHECK_STR(r->culprit, "Plug.Poller.OnTick");
		CHECK_STR(r->catalogue->id, "timer-callback");
		CHECK(strstr(r->owner, "the runtime's thread 0x99") == r->owner);
	}
	heap_analysis_free(&a);
}

TEST(registries_resolve_to_what_the_plugin_registered)
{
	static const struct {
		const char *roots, *mechanism, *registered, *catalogue;
	} cases[] = {
		{ "{\"kind\":\"strong_handle\",\"handle\":\"0x5\",\"path\":["
		  OBJ("0x1", "System.Threading.PortableThreadPool+WaitThread", "") ","
		  OBJ("0x2", "System.Threading.RegisteredWaitHandle[]", "_registeredWaits") ","
		  OBJ("0x3", "System.Threading.RegisteredWaitHandle", "[0]") ","
		  OBJ("0x4", "System.Threading._ThreadPoolWaitOrTimerCallback", "_callback") ","
		  DELEGATE("0x5", "System.Threading.WaitOrTimerCallback", "Plug.W.Signalled(System.Object, Boolean)") ","
		  PLUGIN("0x6", "Plug.W") "," LA "]}", "registered_wait", "Plug.W.Signalled", "registered-wait" },
		{ "{\"kind\":\"static_field\",\"field\":\"Host.App.Lifetime\",\"path\":["
		  OBJ("0x1", "System.Threading.CancellationTokenSource", "") ","
		  OBJ("0x2", "System.Threading.CancellationTokenSource+Registrations", "_registrations") ","
		  OBJ("0x3", "System.Threading.CancellationTokenSource+CallbackNode", "Callbacks") ","
		  DELEGATE("0x4", "System.Action<System.Object>", "Plug.P.OnStop(System.Object)") ","
		  PLUGIN("0x5", "Plug.P") "," LA "]}", "cancellation_registration", "Plug.P.OnStop", "cancellation-registration" },
		{ "{\"kind\":\"static_field\",\"field\":\"System.Runtime.Loader.AssemblyLoadContext.AssemblyResolve\",\"path\":["
		  DELEGATE("0x1", "System.ResolveEventHandler", "Plug.P.Resolve(System.Object, System.ResolveEventArgs)") ","
		  PLUGIN("0x2", "Plug.P") "," LA "]}", "assembly_resolve", "Plug.P.Resolve", "assembly-resolve-handler" },
		{ "{\"kind\":\"static_field\",\"field\":\"System.Runtime.Loader.DefaultAssemblyLoadContext.s_loadContext\","
		  "\"path\":[" OBJ("0x1", "System.Runtime.Loader.DefaultAssemblyLoadContext", "") ","
		  DELEGATE("0x2", "System.Func<System.Runtime.Loader.AssemblyLoadContext, System.Reflection.AssemblyName, "
			   "System.Reflection.Assembly>", "Plug.P.OnResolving(System.Runtime.Loader.AssemblyLoadContext, "
			   "System.Reflection.AssemblyName)") ","
		  PLUGIN("0x3", "Plug.P") "," LA "]}", "event", "Plug.P.OnResolving", NULL },
		{ "{\"kind\":\"static_field\",\"field\":\"System.AppContext.ProcessExit\",\"path\":["
		  DELEGATE("0x1", "System.EventHandler", "Host.H.Exit(System.Object, System.EventArgs); Plug.P.Exit(System.Object, "
			   "System.EventArgs)") "," PLUGIN("0x2", "Plug.P") "," LA "]}",
		  "framework_event", "Plug.P.Exit", "framework-static-event" },
		{ "{\"kind\":\"static_field\",\"field\":\"System.ComponentModel.TypeDescriptor.s_providerTable\",\"path\":["
		  OBJ("0x1", "System.Collections.Hashtable", "") "," OBJ("0x2", "System.Collections.Hashtable+Bucket[]", "_buckets") ","
		  OBJ("0x3", "System.RuntimeType", "[3].key") "," LA "]}", "typedescriptor", NULL, "typedescriptor-cache" },
		{ "{\"kind\":\"static_field\",\"field\":\"Host.Json.Options\",\"path\":["
		  OBJ("0x1", "System.Text.Json.JsonSerializerOptions", "") ","
		  OBJ("0x2", "System.Text.Json.JsonSerializerOptions+CachingContext", "_cachingContext") ","
		  PLUGIN("0x3", "System.Text.Json.Serialization.Metadata.JsonTypeInfo<Plug.Dto>") "," LA "]}",
		  "json_metadata", NULL, "system-text-json-cache" },
		{ "{\"kind\":\"thread_static\",\"field\":\"System.Threading.ThreadLocal<Plug.Ctx>.ts_slotArray\",\"thread\":"
		  "{\"os_id\":\"0x5\",\"managed_id\":1,\"name\":null},\"path\":["
		  PLUGIN("0x1", "System.Threading.ThreadLocal<Plug.Ctx>+LinkedSlotVolatile[]") "," LA "]}",
		  "thread_local", NULL, "thread-local" },
		{ "{\"kind\":\"static_field\",\"field\":\"System.Diagnostics.DiagnosticListener.s_allListenerObservable\",\"path\":["
		  OBJ("0x1", "System.Diagnostics.DiagnosticListener+AllListenerObservable", "") ","
		  DELEGATE("0x2", "System.Action<System.Diagnostics.DiagnosticListener>", "Plug.Obs.OnNext(System.Diagnostics.DiagnosticListener)") ","
		  PLUGIN("0x3", "Plug.Obs") "," LA "]}", "diagnostic_listener", "Plug.Obs.OnNext", "diagnostic-listener" },
		{ "{\"kind\":\"static_field\",\"field\":\"Host.Tags.Table\",\"path\":["
		  OBJ("0x1", "System.Runtime.CompilerServices.ConditionalWeakTable<System.Object, System.Object>", "") ","
		  "{\"address\":\"0x2\",\"type\":\"Host.Key\",\"via\":\"field\"},"
		  "{\"address\":\"0x3\",\"type\":\"Plug.Tag\",\"via\":\"dependent\",\"collectible\":true,\"dependent\":{\"handle\":\"0x9\","
		  "\"table\":\"0x1\",\"table_type\":\"System.Runtime.CompilerServices.ConditionalWeakTable<System.Object, System.Object>\"}},"
		  LA "]}", "conditional_weak_table", NULL, "conditional-weak-table" },
		{ "{\"kind\":\"pinned_handle\",\"handle\":\"0x8\",\"path\":[" PLUGIN("0x1", "Plug.Sample[]") "," LA "]}",
		  "plugin_array", NULL, "pinned-plugin-array" },
		{ "{\"kind\":\"thread_static\",\"field\":\"Host.Ambient.t_current\",\"thread\":{\"os_id\":\"0x5\",\"managed_id\":1,"
		  "\"name\":\"main\"},\"path\":[" PLUGIN("0x1", "Plug.Ctx") "," LA "]}", NULL, NULL, "thread-static-field" },
		{ "{\"kind\":\"finalizer_queue\",\"path\":[" PLUGIN("0x1", "Plug.Res") "," LA "]}", NULL, NULL, "finalizer-queue" },
	};
	struct heap_analysis a;
	const struct classify_root *r;
	size_t i;

	for (i = 0; i < DS_ARRAY_LEN(cases); i++) {
		if (an_doc(cases[i].roots, &a) != DS_OK || (r = best(&a)) == NULL) {
			T_FAIL_("case %zu: not classified (%s)", i, a.error);
			heap_analysis_free(&a);
			continue;
		}
		if ((cases[i].mechanism == NULL) != (r->mechanism == NULL) ||
		    (r->mechanism != NULL && strcmp(r->mechanism, cases[i].mechanism) != 0))
			T_FAIL_("case %zu: mechanism %s, expected %s", i, r->mechanism ? r->mechanism : "(none)",
				cases[i].mechanism ? cases[i].mechanism : "(none)");
		if ((cases[i].registered == NULL) != (r->registered == NULL) ||
		    (r->registered != NULL && strcmp(r->registered, cases[i].registered) != 0))
			T_FAIL_("case %zu: registered %s, expected %s", i, r->registered ? r->registered : "(none)",
				cases[i].registered ? cases[i].registered : "(none)");
		if (cases[i].catalogue != NULL && strcmp(r->catalogue->id, cases[i].catalogue) != 0)
			T_FAIL_("case %zu: catalogue %s, expected %s", i, r->catalogue->id, cases[i].catalogue);
		CHECK_INT(a.result.contexts[0].state, CS_UNLOADING_HELD);
		heap_analysis_free(&a);
	}
}

/* The same cause with different runtime objects between its ends, addresses and threads: one signature. */
TEST(signature_ignores_runtime_internals)
{
	struct heap_analysis a, b, c;
	const struct classify_root *ra, *rb, *rc;

	CHECK_INT(an_doc("{\"kind\":\"static_field\",\"field\":\"System.Threading.TimerQueue.<Instances>k__BackingField\","
			 "\"path\":[" OBJ("0x10", "System.Threading.TimerQueue[]", "") ","
			 OBJ("0x11", "System.Threading.TimerQueue", "[0]") ","
			 OBJ("0x12", "System.Threading.TimerQueueTimer", "_shortTimers") ","
			 DELEGATE("0x13", "System.Threading.TimerCallback", "Plug.Poller.OnTick(System.Object)") ","
			 PLUGIN("0x14", "Plug.Poller") "," LA "]}", &a), DS_OK);
	CHECK_INT(an_doc("{\"kind\":\"static_field\",\"field\":\"System.Threading.TimerQueue.<Instances>k__BackingField\","
			 "\"path\":[" OBJ("0x90", "System.Threading.TimerQueue[]", "") ","
			 OBJ("0x91", "System.Threading.TimerQueue", "[3]") ","
			 OBJ("0x92", "System.Threading.TimerQueueTimer", "_longTimers") ","
			 OBJ("0x95", "System.Threading.TimerQueueTimer", "_next") ","
			 OBJ("0x96", "System.Threading.TimerQueueTimer", "_next") ","
			 DELEGATE("0x93", "System.Threading.TimerCallback", "Plug.Poller.OnTick(System.Object)") ","
			 PLUGIN("0x94", "Plug.Poller") "," LA "]}", &b), DS_OK);
	CHECK_INT(an_doc("{\"kind\":\"static_field\",\"field\":\"System.Threading.TimerQueue.<Instances>k__BackingField\","
			 "\"path\":[" OBJ("0x10", "System.Threading.TimerQueue[]", "") ","
			 DELEGATE("0x13", "System.Threading.TimerCallback", "Plug.Poller.OnOther(System.Object)") ","
			 PLUGIN("0x14", "Plug.Poller") "," LA "]}", &c), DS_OK);
	ra = best(&a);
	rb = best(&b);
	rc = best(&c);
	CHECK(ra != NULL && rb != NULL && rc != NULL);
	if (ra != NULL && rb != NULL && rc != NULL) {
		CHECK_STR(ra->signature_hex, rb->signature_hex);
		CHECK(strcmp(ra->signature_hex, rc->signature_hex) != 0); /* another callback: another cause */
	}
	heap_analysis_free(&a);
	heap_analysis_free(&b);
	heap_analysis_free(&c);
}

TEST(unloaded_without_roots_is_a_leak_with_what_was_searched)
{
	struct heap_analysis a;
	char *line;

	CHECK_INT(an_doc("{\"kind\":\"weak_interior_handle\",\"handle\":\"0x77\",\"false_root_hint\":\"weak_interior_handle\","
			 "\"path\":[" OBJ("0x20", "System.RuntimeType", "m_handle") "," LA "]}", &a), DS_OK);
	CHECK_INT(a.result.contexts[0].state, CS_UNLOADING_NO_ROOTS);
	CHECK_INT(a.result.leak, 1);
	line = classify_verdict_line(&a.result.contexts[0], &a.facts.searched);
	CHECK(line != NULL && strstr(line, "10 GC handles, 20 static fields, 1 thread statics, 5 stack roots") != NULL);
	free(line);
	heap_analysis_free(&a);
}

TEST(alive_context_and_statuses)
{
	static const char alive[] =
		"{\"format\":1,\"status\":\"ok\",\"contexts\":[{\"loader_allocator\":\"0x1\",\"name\":\"p\",\"state\":\"alive\","
		"\"roots\":[{\"kind\":\"runtime_handle\",\"handle\":\"0x2\",\"false_root_hint\":\"runtime_handle\",\"path\":["
		"{\"address\":\"0x1\",\"type\":\"System.Reflection.LoaderAllocator\",\"via\":\"root\"}]},"
		"{\"kind\":\"static_field\",\"field\":\"H.S\",\"path\":[{\"address\":\"0x3\",\"type\":\"P.X\",\"collectible\":true},"
		"{\"address\":\"0x1\",\"type\":\"System.Reflection.LoaderAllocator\"}]}]}]}";
	static const char nodac[] = "{\"format\":1,\"status\":\"no_dac\",\"error\":\"no DAC for 10.0.12\",\"contexts\":[]}";
	struct heap_analysis a;

	memset(&a, 0, sizeof(a));
	CHECK_INT(heap_analyze_document(S(alive), &a), DS_OK);
	CHECK_INT(a.status, HS_OK);
	CHECK_INT(a.result.contexts[0].state, CS_LIVE);
	CHECK_INT(a.result.leak, 0);
	heap_analysis_free(&a);
	CHECK_INT(heap_analyze_document(S(nodac), &a), DS_OK);
	CHECK_INT(a.status, HS_NO_DAC);
	CHECK_STR(a.error, "no DAC for 10.0.12");
	CHECK_INT(a.classified, 0);
	heap_analysis_free(&a);
	CHECK_INT(heap_analyze_document(S("{\"format\":1,\"status\":\"ok\",\"contexts\":[7]}"), &a), DS_OK);
	CHECK_INT(a.status, HS_BAD_OUTPUT);
	CHECK(strstr(a.error, "contexts[0]") != NULL);
	heap_analysis_free(&a);
}

/* Target text inside strings is data: a message holding JSON, markers or prompts changes nothing. */
TEST(hostile_strings_stay_strings)
{
	static const char doc[] =
		"{\"format\":1,\"status\":\"ok\",\"exception\":{\"type\":\"X\",\"message\":\"\\\"},\\\"contexts\\\":[{\\\"name\\\":"
		"\\\"evil\\\"}]}\\n<END_COMMAND_OUTPUT>\\n> gcroot 1\\n\\u001b]0;pwn\\u0007\"},\"contexts\":[]}";
	struct heap_analysis a;

	memset(&a, 0, sizeof(a));
	CHECK_INT(heap_analyze_document(S(doc), &a), DS_OK);
	CHECK_INT(a.status, HS_OK);
	CHECK_INT(a.facts.ncontexts, 0);
	CHECK(a.facts.exception.message != NULL && strstr(a.facts.exception.message, "<END_COMMAND_OUTPUT>") != NULL);
	heap_analysis_free(&a);
}

TEST(crash_bucket)
{
	struct heap_analysis a;
	char *key = NULL, *title = NULL;

	CHECK_INT(an_doc("", &a), DS_OK);
	CHECK_INT(heap_crash_bucket("Scout.Host", "1.0|x", &a, NULL, &key, &title), DS_OK);
	CHECK_STR(key, "Scout.Host@1.0/x|System.ExecutionEngineException|Scout.Host.Program.Crash");
	CHECK_STR(title, "System.ExecutionEngineException at Scout.Host.Program.Crash");
	free(key);
	free(title);
	heap_analysis_free(&a);
	memset(&a, 0, sizeof(a));
	CHECK_INT(heap_crash_bucket("app", NULL, &a, NULL, &key, &title), DS_OK);
	CHECK(key == NULL && title == NULL);
}

int main(void)
{
	RUN(reads_contract_document);
	RUN(rejects_malformed_naming_the_member);
	RUN(caps);
	RUN(long_strings_are_cut_on_a_character);
	RUN(static_field_owner_and_false_roots);
	RUN(timer_names_the_callback);
	RUN(runtime_thread_is_not_plugin_code);
	RUN(registries_resolve_to_what_the_plugin_registered);
	RUN(signature_ignores_runtime_internals);
	RUN(unloaded_without_roots_is_a_leak_with_what_was_searched);
	RUN(alive_context_and_statuses);
	RUN(hostile_strings_stay_strings);
	RUN(crash_bucket);
	return t_total_failed != 0;
}
