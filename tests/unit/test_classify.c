/* test_classify.c - unit tests of the transcript path: analyzer/sos_transcript.c (SOS text into the
 * fact model, forged-record detection), analyzer/classify.c over those facts and analyzer/culprits.c:
 * runtime-type test, signatures free of addresses, culprit and kind rules, context states, catalogue
 * matching and the JSON rendering. Inputs are small SOS-shaped strings. The engine-document path has
 * its own tests (test_engine_json.c). */
#include "t.h"

#include <cjson/cJSON.h>

#include "analyzer/classify.h"
#include "analyzer/sos_transcript.h"

/* A transcript through the reader and the classifier (facts kept for the result's borrowed strings). */
struct tx {
	struct facts f;
	struct classify_result r;
};

static int tx_run(const char *text, size_t len, struct tx *t, struct ds_err *e)
{
	int rc;

	memset(t, 0, sizeof(*t));
	rc = sos_transcript_read(text, len, &t->f, e);
	if (rc == DS_OK)
		rc = classify_facts(&t->f, &t->r, e);
	return rc;
}

static void tx_free(struct tx *t)
{
	classify_result_free(&t->r);
	facts_free(&t->f);
}

#define S(lit) (lit), (sizeof(lit) - 1)

TEST(runtime_types)
{
	CHECK(classify_is_runtime_type("System.Object[]"));
	CHECK(classify_is_runtime_type("System.RuntimeType+RuntimeTypeCache"));
	CHECK(classify_is_runtime_type("Microsoft.Win32.SafeHandles.SafeFileHandle"));
	CHECK(classify_is_runtime_type("System.Collections.Generic.Dictionary<System.Int64, System.WeakReference<System.Runtime.Loader.AssemblyLoadContext>>"));
	CHECK(classify_is_runtime_type("System.Collections.Generic.List`1[[System.String, System.Private.CoreLib]]"));
	CHECK(classify_is_runtime_type("<unknown type>"));
	CHECK(!classify_is_runtime_type("System.Lazy<MessagePack.Internal.DynamicAssembly>"));
	CHECK(!classify_is_runtime_type("System.Collections.Generic.List`1[[testwebapi.Controllers.Customer, DiagnosticScenarios]]"));
	CHECK(!classify_is_runtime_type("SosDemo.Program+<>c__DisplayClass1_0"));
	CHECK(!classify_is_runtime_type("Plugin"));
	CHECK(!classify_is_runtime_type("System.Func<System.Int32, Foo.Bar[]>"));
}

TEST(hash_ignores_addresses)
{
	uint64_t a = classify_hash_step(1, "[InlinedCallFrame: 00007fff28f3e610] X.Y()");
	uint64_t b = classify_hash_step(1, "[InlinedCallFrame: 00007ffc65b7cea0] X.Y()");

	CHECK_U64(a, b);
	CHECK(classify_hash_step(1, "X.Y()") != classify_hash_step(1, "X.Z()"));
	CHECK(classify_hash_step(1, "Foo12345678") != classify_hash_step(1, "Foo87654321")); /* not a word */
}

TEST(glob)
{
	CHECK(culprits_glob("*MessagePack.Internal.DynamicAssembly*", "System.Lazy<MessagePack.Internal.DynamicAssembly> -> X"));
	CHECK(culprits_glob("System.Reflection.LoaderAllocator", "System.Reflection.LoaderAllocator"));
	CHECK(!culprits_glob("System.Reflection.LoaderAllocator", "System.Reflection.LoaderAllocatorScout"));
	CHECK(culprits_glob("a?c*", "abcdef"));
	CHECK(!culprits_glob("a?c", "ac"));
}

TEST(catalogue_builtin_loads)
{
	struct culprit_catalogue cat;
	const struct culprit_entry *e;
	size_t i;

	CHECK_INT(culprits_load_builtin(&cat, NULL), DS_OK);
	CHECK(cat.n >= 12);
	for (i = 0; i < cat.n; i++)
		CHECK(cat.entries[i].advice != NULL && strlen(cat.entries[i].advice) > 40);
	e = culprits_match(&cat, "static_field", "MessagePack.MessagePackSerializerOptions.Options", "A", NULL, NULL);
	CHECK(e != NULL && strcmp(e->id, "messagepack-dynamic-assembly") == 0);
	e = culprits_match(&cat, "static_field", "Host.Events.Tick", "System.EventHandler", "System.EventHandler", NULL);
	CHECK(e != NULL && strcmp(e->id, "static-event-handler") == 0);
	e = culprits_match(&cat, "stack", "P.Run", "A", NULL, NULL);
	CHECK(e != NULL && strcmp(e->id, "running-thread") == 0);
	e = culprits_match(&cat, "strong_handle", "P.OnTick", "A", NULL, "timer");
	CHECK(e != NULL && strcmp(e->id, "timer-callback") == 0);
	e = culprits_match(&cat, "nonsense", NULL, "", NULL, NULL);
	CHECK(e != NULL && strcmp(e->id, "unknown") == 0);
	culprits_free(&cat);
}

TEST(catalogue_rejects_bad_json)
{
	struct culprit_catalogue cat;
	struct ds_err e = { 0 };

	CHECK_INT(culprits_load(S("{\"culprits\": [ {\"id\": \"x\"} ]}"), &cat, &e), DS_EFORMAT);
	CHECK_INT(culprits_load(S("not json"), &cat, &e), DS_EFORMAT);
}

static const struct classify_root *first_real_root(const struct classify_context *c)
{
	size_t i;

	for (i = 0; i < c->nroots; i++)
		if (!c->roots[i].probable_false_root)
			return &c->roots[i];
	return NULL;
}

/* the same cause in two processes: different addresses, handles, thread ids */
static const char sess_a[] =
	"> dumpheap -type System.Reflection.LoaderAllocator\n"
	"         Address               MT           Size\n"
	"    7f0000001000     7f9900000010             48 \n    7f0000001070     7f9900000020             24 \n\n"
	"Statistics:\n          MT Count TotalSize Class Name\n"
	"7f9900000020     1        24 System.Reflection.LoaderAllocatorScout\n"
	"7f9900000010     1        48 System.Reflection.LoaderAllocator\nTotal 2 objects, 72 bytes\n<END_COMMAND_OUTPUT>\n"
	"> gcroot 7f0000001070\nHandleTable:\n    00007fcab9d513e8 (strong handle)\n"
	"          -> 7efe00000028     System.Object[] \n"
	"          -> 7f0000002000     System.Lazy<Plug.Thing> (static variable: Host.Cache.Items)\n"
	"          -> 7f0000001000     System.Reflection.LoaderAllocator \n"
	"          -> 7f0000001070     System.Reflection.LoaderAllocatorScout \n\n"
	"    00007fcab9d51bf8 (10)\n          -> 7f0000003000     System.RuntimeType \n"
	"          -> 7f0000001000     System.Reflection.LoaderAllocator \n"
	"          -> 7f0000001070     System.Reflection.LoaderAllocatorScout \n\nFound 2 unique roots.\n<END_COMMAND_OUTPUT>\n"
	"> pe\nException object: 00007fbe61800178\nException type:   System.ExecutionEngineException\n"
	"Message:          <none>\nHResult: 80131506\n<END_COMMAND_OUTPUT>\n> exit\n";
static const char sess_b[] =
	"0:004> !gcroot 5550000a1000\nHandleTable:\n    000001735acc12c8 (strong handle)\n"
	"          -> 5550000b0028     System.Object[] \n"
	"          -> 5550000a2000     System.Lazy<Plug.Thing> (static variable: Host.Cache.Items)\n"
	"          -> 5550000a1000     System.Reflection.LoaderAllocator \n\nFound 1 unique roots.\n";

TEST(transcript_static_signature_stable)
{
	struct tx a, b;
	const struct classify_root *ra, *rb;

	CHECK_INT(tx_run(S(sess_a), &a, NULL), DS_OK);
	CHECK_INT(tx_run(S(sess_b), &b, NULL), DS_OK);
	CHECK_INT(a.r.ncontexts, 1);
	CHECK_INT(b.r.ncontexts, 1);
	if (a.r.ncontexts == 1 && b.r.ncontexts == 1) {
		CHECK_U64(a.f.contexts[0].loader_allocator, 0x7f0000001000ull);
		CHECK_U64(a.f.contexts[0].scout, 0x7f0000001070ull);
		CHECK_INT(a.r.contexts[0].state, CS_UNLOADING_HELD);
		CHECK_INT(a.r.contexts[0].nroots, 2);
		CHECK_INT(a.r.leak, 1);
		ra = first_real_root(&a.r.contexts[0]);
		rb = first_real_root(&b.r.contexts[0]);
		CHECK(ra != NULL && rb != NULL);
		if (ra != NULL && rb != NULL) {
			CHECK_STR(ra->kind, "static_field");
			CHECK_STR(ra->culprit, "Host.Cache.Items");
			CHECK_STR(ra->owner, "static field Host.Cache.Items");
			CHECK_INT(ra->nchain, 2); /* from the static's value; the scout link cut */
			CHECK_STR(ra->chain[1], "System.Reflection.LoaderAllocator");
			CHECK_STR(ra->signature_hex, rb->signature_hex);
			CHECK_INT(strlen(ra->signature_hex), 16);
			CHECK_STR(ra->catalogue->id, "static-field-in-host");
		}
		/* probable false roots sort last */
		CHECK_STR(a.r.contexts[0].roots[1].kind, "weak_interior_handle");
		CHECK_INT(a.r.contexts[0].roots[1].probable_false_root, 1);
		CHECK_INT(a.f.has_exception, 1);
		CHECK_STR(a.f.exception.type, "System.ExecutionEngineException");
	}
	tx_free(&a);
	tx_free(&b);
}

TEST(states)
{
	static const char live[] = "> gcroot 7f0000001000\nHandleTable:\n    00007f97c5e31398 (strong handle)\n"
				   "          -> 7f0000001000     System.Reflection.LoaderAllocator \n\n"
				   "    00007f97c5e31bd0 (10)\n          -> 7f0000002000     System.RuntimeType \n"
				   "          -> 7f0000001000     System.Reflection.LoaderAllocator \n\nFound 2 unique roots.\n"
				   "<END_COMMAND_OUTPUT>\n";
	static const char weak_only[] = "> gcroot 7f0000001000\nHandleTable:\n    00007f97c5e31bd0 (10)\n"
					"          -> 7f0000002000     System.RuntimeType \n"
					"          -> 7f0000001000     System.Reflection.LoaderAllocator \n\nFound 1 unique roots.\n"
					"<END_COMMAND_OUTPUT>\n";
	static const char gone[] = "> dumpheap -type LoaderAllocatorScout\n         Address               MT           Size\n"
				   "    01735d8dc0f0     7ffc3b9b86f8             24 \n\nStatistics:\n          MT Count TotalSize Class Name\n"
				   "7ffc3b9b86f8     1        24 System.Reflection.LoaderAllocatorScout\nTotal 1 objects, 24 bytes\n"
				   "> gcroot 1735d8dc0f0\nCaching GC roots, this may take a while.\n\nFound 0 unique roots.\n";
	struct tx t;
	char *line;

	CHECK_INT(tx_run(S(live), &t, NULL), DS_OK);
	CHECK_INT(t.r.contexts[0].state, CS_LIVE);
	CHECK_STR(t.r.contexts[0].roots[0].false_reason, "runtime_handle");
	CHECK_STR(t.r.contexts[0].roots[0].catalogue->id, "live-context");
	CHECK_INT(t.r.leak, 0);
	tx_free(&t);
	/* unloaded and alive with only the runtime's weak handle: never "no leak" */
	CHECK_INT(tx_run(S(weak_only), &t, NULL), DS_OK);
	CHECK_INT(t.r.contexts[0].state, CS_UNLOADING_NO_ROOTS);
	CHECK_STR(t.r.contexts[0].roots[0].catalogue->id, "weak-interior-handle");
	CHECK_INT(t.r.leak, 1);
	line = classify_verdict_line(&t.r.contexts[0], NULL);
	CHECK(line != NULL && strstr(line, "no root path reaches it") != NULL);
	free(line);
	tx_free(&t);
	CHECK_INT(tx_run(S(gone), &t, NULL), DS_OK);
	CHECK_INT(t.r.ncontexts, 1);
	CHECK_U64(t.f.contexts[0].scout, 0x1735d8dc0f0ull);
	CHECK_INT(t.r.contexts[0].state, CS_UNLOADING_NO_ROOTS);
	CHECK_INT(t.r.contexts[0].nroots, 0);
	tx_free(&t);
}

/* plugin objects' gcroots, dumpmt/dumpclass/dumpvc/du naming the holder and the context */
static const char fixture_like[] =
	"> dumpheap -type System.Reflection.LoaderAllocator\n         Address               MT           Size\n"
	"    7fbe61809b80     7fca3b72ab58             48 \n\nStatistics:\n          MT Count TotalSize Class Name\n"
	"7fca3b72ab58     1        48 System.Reflection.LoaderAllocator\nTotal 1 objects, 48 bytes\n<END_COMMAND_OUTPUT>\n"
	"> dumpheap -type Scout.Plugin.\n         Address               MT           Size\n"
	"    7fbe6180a5c8     7fca3b7cce48             32 \n    7fbe6180a608     7fca3b7ccfe0             32 \n\n"
	"Statistics:\n          MT Count TotalSize Class Name\n7fca3b7cce48     1        32 Scout.Plugin.GreeterPlugin\n"
	"7fca3b7ccfe0     1        32 Scout.Plugin.GreetingOptions\nTotal 2 objects, 64 bytes\n<END_COMMAND_OUTPUT>\n"
	"> gcroot 7fbe61809b80\nHandleTable:\n    00007fcab9d51bf8 (10)\n          -> 7fbe6180a498     System.RuntimeType \n"
	"          -> 7fbe61809b80     System.Reflection.LoaderAllocator \n\nFound 1 unique roots.\n<END_COMMAND_OUTPUT>\n"
	"> gcroot 7fbe6180a5c8\nHandleTable:\n    00007fcab9d513e8 (strong handle)\n          -> 7fbe5f000028     System.Object[] \n"
	"          -> 7fbe6180a5c8     Scout.Plugin.GreeterPlugin (static variable: System.Runtime.InteropServices.GCHandle.Handle)\n\n"
	"Found 1 unique roots.\n<END_COMMAND_OUTPUT>\n"
	"> gcroot 7fbe6180a608\nHandleTable:\n    00007fcab9d513e8 (strong handle)\n          -> 7fbe5f000028     System.Object[] \n"
	"          -> 7fbe6180a5c8     Scout.Plugin.GreeterPlugin (static variable: System.Runtime.InteropServices.GCHandle.Handle)\n"
	"          -> 7fbe6180a608     Scout.Plugin.GreetingOptions \n\nFound 1 unique roots.\n<END_COMMAND_OUTPUT>\n"
	"> dumpmt 00007fca3b7cce48\nName:                Scout.Plugin.GreeterPlugin\nLoaderAllocator:     00007FBE61809B80\n"
	"AssemblyLoadContext: 00007FBE61809B10\n<END_COMMAND_OUTPUT>\n"
	"> dumpvc 7fca3b728a68 7fbe61809b18\nName:        Scout.Host.PluginLoadContext\nFields:\n"
	"              MT    Field   Offset                 Type   VT     Attr            Value Name\n"
	"00007fca3b65dd58 0400116e       20        System.String   No instance 00007fca2a400a50 _name\n"
	"00007fca3b722c80 04001170       38         System.Int32  Yes instance                1 _state\n"
	"00007fca3b6330e0 04001171       3c       System.Boolean  Yes instance                1 _isCollectible\n<END_COMMAND_OUTPUT>\n"
	"> dumpclass 00007fca3b976d90\nClass Name:      Scout.Host.PluginRegistry\n"
	"              MT    Field   Offset                 Type   VT     Attr            Value Name\n"
	"00007fca3a6347b0 04000002       10        System.Object   No   static 00007fbe6180a5c8 LastPlugin\n<END_COMMAND_OUTPUT>\n"
	"> du 7fca2a400a5c\nText: 'plugin-static-field'\n<END_COMMAND_OUTPUT>\n";

TEST(transcript_instance_roots_dumpclass_and_name)
{
	struct tx t;
	const struct classify_root *rt;

	CHECK_INT(tx_run(S(fixture_like), &t, NULL), DS_OK);
	CHECK_INT(t.r.ncontexts, 1);
	if (t.r.ncontexts == 1) {
		CHECK_STR(t.f.contexts[0].name, "plugin-static-field");
		CHECK_INT(t.r.contexts[0].state, CS_UNLOADING_HELD);
		CHECK_INT(t.r.contexts[0].nroots, 2); /* the (10) root + one merged instance root */
		rt = first_real_root(&t.r.contexts[0]);
		CHECK(rt != NULL);
		if (rt != NULL) {
			CHECK_STR(rt->kind, "static_field");
			CHECK_STR(rt->culprit, "Scout.Host.PluginRegistry.LastPlugin");
			CHECK_STR(rt->src->sos_label, "System.Runtime.InteropServices.GCHandle.Handle");
			/* the shorter of the two identical roots, plus the type's LoaderAllocator edge */
			CHECK_INT(rt->nchain, 2);
			CHECK_STR(rt->chain[1], "System.Reflection.LoaderAllocator");
		}
	}
	tx_free(&t);
}

TEST(culprit_rules_thread_and_handle)
{
	static const char thr[] = "> dumpheap -type X\n         Address               MT           Size\n"
				  "    7f0000001000     7f9900000010             48 \n\nStatistics:\n          MT Count TotalSize Class Name\n"
				  "7f9900000010     1        48 System.Reflection.LoaderAllocator\nTotal 1 objects, 48 bytes\n"
				  "> gcroot 7f0000001000\nThread 6702:\n"
				  "    7fc3151fdc00 7fcf0ffc081d Scout.Plugin.GreeterPlugin.PumpMessages(Int32) [/x/Plugin.cs @ 70]\n"
				  "        rbx:\n          -> 7f0000005000     System.RuntimeType \n"
				  "          -> 7f0000001000     System.Reflection.LoaderAllocator \n\n"
				  "HandleTable:\n    00007f139dd613f8 (strong handle)\n          -> 7f0000006000     System.Threading.Thread \n"
				  "          -> 7f0000007000     System.Threading.ExecutionContext \n"
				  "          -> 7f0000001000     System.Reflection.LoaderAllocator \n\n"
				  "    00007f139dd61400 (pinned handle)\n          -> 7f0000008000     System.Object[] \n"
				  "          -> 7f0000001000     System.Reflection.LoaderAllocator \n\nFound 3 unique roots.\n";
	struct tx t;
	const struct classify_context *c;

	CHECK_INT(tx_run(S(thr), &t, NULL), DS_OK);
	c = &t.r.contexts[0];
	CHECK_INT(c->nroots, 3);
	if (c->nroots == 3) {
		/* best first: stack on a plugin frame, the handle through a runtime registry, the plain handle */
		CHECK_STR(c->roots[0].kind, "stack");
		CHECK_STR(c->roots[0].culprit, "Scout.Plugin.GreeterPlugin.PumpMessages");
		CHECK_STR(c->roots[0].src->thread.os_id, "0x6702");
		CHECK_INT(c->roots[0].runtime_thread, 0);
		CHECK_STR(c->roots[0].catalogue->id, "running-thread");
		CHECK_STR(c->roots[1].kind, "strong_handle");
		CHECK_STR(c->roots[1].culprit, "System.Threading.ExecutionContext");
		CHECK_STR(c->roots[1].mechanism, "execution_context");
		CHECK_STR(c->roots[1].catalogue->id, "async-local-execution-context");
		CHECK_STR(c->roots[2].kind, "pinned_handle");
		CHECK_STR(c->roots[2].culprit, "pinned handle");
		CHECK_STR(c->roots[2].catalogue->id, "strong-gc-handle");
	}
	tx_free(&t);
}

TEST(json_shape)
{
	struct tx t;
	cJSON *j, *c, *root;

	CHECK_INT(tx_run(S(sess_a), &t, NULL), DS_OK);
	j = classify_to_json(&t.r, &t.f, 0);
	CHECK(j != NULL);
	CHECK(cJSON_IsTrue(cJSON_GetObjectItem(j, "leak")));
	c = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "contexts"), 0);
	CHECK_STR(cJSON_GetObjectItem(c, "loader_allocator")->valuestring, "0x7f0000001000");
	CHECK_STR(cJSON_GetObjectItem(c, "state")->valuestring, "unloading_held");
	CHECK(cJSON_IsNull(cJSON_GetObjectItem(c, "name")));
	root = cJSON_GetArrayItem(cJSON_GetObjectItem(c, "roots"), 0);
	CHECK_STR(cJSON_GetObjectItem(root, "kind")->valuestring, "static_field");
	CHECK_STR(cJSON_GetObjectItem(root, "culprit")->valuestring, "Host.Cache.Items");
	CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(root, "chain")), 2);
	CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(root, "catalogue"), "advice") != NULL);
	/* the probable false root is hidden and counted */
	CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(c, "roots")), 1);
	CHECK_INT(cJSON_GetObjectItem(c, "hidden_roots")->valueint, 1);
	cJSON_Delete(j);
	j = classify_to_json(&t.r, &t.f, 1);
	c = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "contexts"), 0);
	CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(c, "roots")), 2);
	cJSON_Delete(j);
	tx_free(&t);
}

TEST(transcript_errors_carry_line)
{
	static const char bad[] = "> exit\n> gcroot 1234\nHandleTable:\n    0000000000001000 (strong handle)\n  -> nothex Foo\n";
	struct tx t;
	struct ds_err e = { 0 };

	CHECK_INT(tx_run(S(bad), &t, &e), DS_EPARSE);
	CHECK(strstr(e.msg, "line 5") != NULL);
	tx_free(&t);
}

int main(void)
{
	RUN(runtime_types);
	RUN(hash_ignores_addresses);
	RUN(glob);
	RUN(catalogue_builtin_loads);
	RUN(catalogue_rejects_bad_json);
	RUN(transcript_static_signature_stable);
	RUN(states);
	RUN(transcript_instance_roots_dumpclass_and_name);
	RUN(culprit_rules_thread_and_handle);
	RUN(json_shape);
	RUN(transcript_errors_carry_line);
	return t_total_failed != 0;
}
