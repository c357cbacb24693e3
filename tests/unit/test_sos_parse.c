/* test_sos_parse.c - unit tests of analyzer/sos_parse.c: one test per format feature. Inputs are small
 * hand-written strings shaped like real SOS output (the real transcripts are covered by
 * tests/golden/test_sos_golden.sh); formats the corpus lacks (uppercase hex, CRLF, wrapped lines,
 * lldb prompts) are only here. */
#include "t.h"

#include "analyzer/sos_parse.h"

#define S(lit) (lit), (sizeof(lit) - 1)

TEST(session_dotnet_dump_stdin)
{
	static const char txt[] = "Loading core dump: x.dmp ...\nReady to process analysis commands.\n"
				  "<END_COMMAND_OUTPUT>\n> dumpheap -type X\n         Address MT Size\n"
				  "<END_COMMAND_OUTPUT>\n> bogus\nERROR: Unrecognized SOS command 'bogus'\n"
				  "<END_COMMAND_ERROR>\n> exit\n";
	struct sos_session s;

	CHECK_INT(sos_session_split(S(txt), &s, NULL), DS_OK);
	CHECK_INT(s.nrecords, 4);
	CHECK(s.records[0].cmd == NULL);
	CHECK_STR(s.records[1].cmd, "dumpheap -type X");
	CHECK_INT(s.records[1].ok, 1);
	CHECK_INT(s.records[1].line, 5);
	CHECK_INT(s.records[1].out_len, strlen("         Address MT Size\n"));
	CHECK_STR(s.records[2].cmd, "bogus");
	CHECK_INT(s.records[2].ok, 0);
	CHECK_STR(s.records[3].cmd, "exit");
	sos_session_free(&s);
}

TEST(session_windbg_lldb_bare_crlf)
{
	static const char txt[] = "0:004> !gcroot 01735d1e9b18 \r\nFound 0 unique roots.\r\n"
				  "0:000:x86> !DumpHeap -short\r\n01735d1e9b18\r\n(lldb) sos clrstack\r\n"
				  "OS Thread Id: 0x1 (0)\r\n!pe\r\n";
	struct sos_session s;

	CHECK_INT(sos_session_split(S(txt), &s, NULL), DS_OK);
	CHECK_INT(s.nrecords, 4);
	CHECK_STR(s.records[0].cmd, "gcroot 01735d1e9b18");
	CHECK_STR(s.records[1].cmd, "DumpHeap -short");
	CHECK_INT(sos_record_kind(s.records[1].cmd, NULL, 0), SOS_KIND_DUMPHEAP);
	CHECK_STR(s.records[2].cmd, "clrstack");
	CHECK_STR(s.records[3].cmd, "pe");
	sos_session_free(&s);
}

TEST(record_kind_by_content)
{
	CHECK_INT(sos_record_kind(NULL, S("HandleTable:\n    0000 (strong handle)\n")), SOS_KIND_GCROOT);
	CHECK_INT(sos_record_kind(NULL, S("Statistics:\n")), SOS_KIND_DUMPHEAP);
	CHECK_INT(sos_record_kind(NULL, S("Exception type:   X\n")), SOS_KIND_PE);
	CHECK_INT(sos_record_kind("do 1234", S("")), SOS_KIND_DUMPOBJ);
	CHECK_INT(sos_record_kind("dumpvc 12 34", S("")), SOS_KIND_DUMPOBJ);
	CHECK_INT(sos_record_kind("du 12", S("")), SOS_KIND_DU);
}

TEST(cmd_args)
{
	uint64_t a = 0, v[2];
	char ty[64];
	int sh = 0;

	CHECK_INT(sos_cmd_args("dumpheap -short -type System.Reflection.LoaderAllocatorScout", &a, ty, sizeof(ty), &sh), -1);
	CHECK_STR(ty, "System.Reflection.LoaderAllocatorScout");
	CHECK_INT(sh, 1);
	CHECK_INT(sos_cmd_args("gcroot -nostacks 0x00007F6AD09421F8", &a, NULL, 0, NULL), 0);
	CHECK_U64(a, 0x7f6ad09421f8ull);
	CHECK_INT(sos_cmd_hex_args("dumpvc 7fca3b728a68 7fbe61809b18", v, 2), 2);
	CHECK_U64(v[1], 0x7fbe61809b18ull);
}

TEST(dumpheap_new_rows_and_stats)
{
	static const char txt[] = "         Address               MT           Size\n"
				  "    01735d1e9b18     7ffc3b9b86f8             24 \n"
				  "    01735d8dc0f0     7ffc3b9b86f8             24 \n\nStatistics:\n"
				  "          MT Count TotalSize Class Name\n"
				  "7ffc3b9b86f8     2        48 System.Reflection.LoaderAllocatorScout\n"
				  "Total 2 objects, 1,048 bytes\n";
	struct sos_dumpheap d;

	CHECK_INT(sos_parse_dumpheap(S(txt), 1, &d, NULL), DS_OK);
	CHECK_INT(d.nobjects, 2);
	CHECK_U64(d.objects[1].addr, 0x1735d8dc0f0ull);
	CHECK_U64(d.objects[1].mt, 0x7ffc3b9b86f8ull);
	CHECK_INT(d.objects[1].size, 24);
	CHECK_STR(d.objects[0].type, "System.Reflection.LoaderAllocatorScout"); /* from Statistics by MT */
	CHECK(sos_is_scout(d.objects[0].type));
	CHECK_INT(d.nstats, 1);
	CHECK_INT(d.total_objects, 2);
	CHECK_INT(d.total_bytes, 1048);
	sos_dumpheap_free(&d);
}

TEST(dumpheap_type_in_row_short_and_empty)
{
	static const char rows[] = "Address MT Size\n00000000021f1a70 00007ff8a1b2c3d4 48 System.Reflection.LoaderAllocator\n";
	static const char shrt[] = "7f8b6d809928\n7f8b6d80a248\n";
	struct sos_dumpheap d;

	CHECK_INT(sos_parse_dumpheap(S(rows), 1, &d, NULL), DS_OK);
	CHECK_INT(d.nobjects, 1);
	CHECK(sos_is_loader_allocator(d.objects[0].type));
	sos_dumpheap_free(&d);
	CHECK_INT(sos_parse_dumpheap(S(shrt), 1, &d, NULL), DS_OK);
	CHECK_INT(d.nobjects, 2);
	CHECK_INT(d.is_short, 1);
	CHECK(d.objects[0].type == NULL);
	sos_dumpheap_free(&d);
	CHECK_INT(sos_parse_dumpheap("", 0, 1, &d, NULL), DS_OK);
	CHECK_INT(d.nobjects, 0);
	sos_dumpheap_free(&d);
}

TEST(dumpheap_bad_row_names_line)
{
	static const char txt[] = "Address MT Size\n000001 zz 48\n";
	struct sos_dumpheap d;
	struct ds_err e = { 0 };

	CHECK_INT(sos_parse_dumpheap(S(txt), 10, &d, &e), DS_EPARSE);
	CHECK_INT(e.offset, 11);
	CHECK(strstr(e.msg, "line 11") != NULL);
}

TEST(gcroot_current_static_and_spaces_in_type)
{
	static const char txt[] = "Caching GC roots, this may take a while.\nHandleTable:\n"
				  "    000001735acc12c8 (strong handle)\n"
				  "          -> 01735b00ff88     System.Object[] \n"
				  "          -> 01735d1d9880     System.Collections.Generic.Dictionary<System.Int64, System.String> (static variable: A.B.C)\n"
				  "          -> 01735d1e9b18     System.Reflection.LoaderAllocatorScout (dependent handle)\n"
				  "\nFound 1 unique roots.\n";
	struct sos_gcroot g;

	CHECK_INT(sos_parse_gcroot(S(txt), 1, &g, NULL), DS_OK);
	CHECK_INT(g.nchains, 1);
	CHECK_INT(g.found, 1);
	CHECK_INT(g.found_unique, 1);
	CHECK_INT(g.chains[0].kind, SOS_ROOT_STRONG);
	CHECK_U64(g.chains[0].root_addr, 0x1735acc12c8ull);
	CHECK_INT(g.chains[0].nlinks, 3);
	CHECK_STR(g.chains[0].links[0].type, "System.Object[]");
	CHECK_STR(g.chains[0].links[1].type, "System.Collections.Generic.Dictionary<System.Int64, System.String>");
	CHECK_STR(g.chains[0].links[1].static_var, "A.B.C");
	CHECK(g.chains[0].links[2].flags & SOS_LINK_DEPENDENT);
	CHECK_STR(g.chains[0].links[2].type, "System.Reflection.LoaderAllocatorScout");
	CHECK_INT(g.chains[0].line, 3);
	sos_gcroot_free(&g);
}

TEST(gcroot_handle_kinds)
{
	static const char txt[] = "HandleTable:\n    0000000000001000 (10)\n          -> 7f0000001000     A.X\n\n"
				  "    0000000000002000 (ref counted handle RefCount: 1,234)\n          -> 7f0000002000     A.X\n\n"
				  "    0000000000003000 (async pinned handle)\n          -> 7f0000003000     A.X\n\n"
				  "    0000000000004000 (sized ref handle)\n          -> 7f0000004000     A.X\n\n"
				  "    0000000000005000 (weak short handle)\n          -> 7f0000005000     A.X\n\n"
				  "Finalizer Queue:\n    0000000000006000 (finalizer root)\n          -> 7f0000006000     A.X\n\n"
				  "Older Generation:\n    7f0000007000\n          -> 7f0000007000     A.X\n\n"
				  "Found 7 unique roots (run '!GCRoot -all' to see all roots).\n";
	struct sos_gcroot g;

	CHECK_INT(sos_parse_gcroot(S(txt), 1, &g, NULL), DS_OK);
	CHECK_INT(g.nchains, 7);
	CHECK_INT(g.found, 7);
	CHECK_INT(g.chains[0].kind, SOS_ROOT_HANDLE_NUMBER);
	CHECK_INT(g.chains[0].handle_number, 10);
	CHECK_INT(g.chains[1].kind, SOS_ROOT_REFCOUNTED);
	CHECK_INT(g.chains[1].refcount, 1234);
	CHECK_INT(g.chains[2].kind, SOS_ROOT_ASYNC_PINNED);
	CHECK_INT(g.chains[3].kind, SOS_ROOT_SIZED_REF);
	CHECK_INT(g.chains[4].kind, SOS_ROOT_WEAK);
	CHECK_INT(g.chains[5].kind, SOS_ROOT_FINALIZER);
	CHECK_INT(g.chains[6].kind, SOS_ROOT_OLDER_GEN);
	CHECK_U64(g.chains[6].root_addr, 0x7f0000007000ull);
	sos_gcroot_free(&g);
}

TEST(gcroot_thread_frames_and_slots)
{
	static const char txt[] = "Thread 1b3f:\n"
				  "    7f9734ffea90 7f974652ed6b System.Reflection.MethodBaseInvoker.InterpretedInvoke_Method(System.Object, IntPtr*)\n"
				  "        rbp-40: 00007f9734ffeb10\n          -> 7f8b6d80c348     System.Signature \n\n"
				  "    7f9734ffec00 7f97472933e2 P.Q.<Make>b__0() [/tmp/x/Program.cs @ 27]\n"
				  "        rbp-8: 00007f9734ffec08\n          -> 7f8b6d80abe0     P.Q+<>c__DisplayClass1_0 \n"
				  "        r14:\n          -> 7f8b6d80abe0     P.Q+<>c__DisplayClass1_0 \n\n"
				  "Found 3 unique roots.\n";
	struct sos_gcroot g;

	CHECK_INT(sos_parse_gcroot(S(txt), 1, &g, NULL), DS_OK);
	CHECK_INT(g.nchains, 3);
	CHECK_INT(g.chains[0].kind, SOS_ROOT_STACK);
	CHECK_STR(g.chains[0].thread_id, "1b3f");
	CHECK_STR(g.chains[0].frame, "System.Reflection.MethodBaseInvoker.InterpretedInvoke_Method(System.Object, IntPtr*)");
	CHECK_STR(g.chains[0].slot, "rbp-40");
	CHECK_U64(g.chains[0].root_addr, 0x7f9734ffeb10ull);
	CHECK_STR(g.chains[1].frame, "P.Q.<Make>b__0()"); /* source location removed */
	CHECK_STR(g.chains[2].slot, "r14");
	CHECK_STR(g.chains[2].frame, "P.Q.<Make>b__0()");
	CHECK_STR(g.chains[2].links[0].type, "P.Q+<>c__DisplayClass1_0");
	sos_gcroot_free(&g);
}

TEST(gcroot_old_uppercase_interior_found_roots)
{
	static const char txt[] = "\nThread 3f68:\n"
				  "    00007F6795BB58A0 00007F6C1D7D0745 System.Diagnostics.Tracing.CounterGroup.PollForValues() [/_/src/CounterGroup.cs @ 260]\n"
				  "        rbx:  (interior)\n            ->  00007F6BDFFFF038 System.Object[]\n"
				  "            ->  00007F69D00335A0 System.Collections.Generic.List`1[[A.Customer, Asm]]\n\n"
				  "Found 2 roots.\n";
	struct sos_gcroot g;

	CHECK_INT(sos_parse_gcroot(S(txt), 1, &g, NULL), DS_OK);
	CHECK_INT(g.nchains, 1);
	CHECK_INT(g.found, 2);
	CHECK_INT(g.found_unique, 0);
	CHECK_INT(g.chains[0].interior, 1);
	CHECK_STR(g.chains[0].slot, "rbx");
	CHECK_U64(g.chains[0].links[0].addr, 0x7f6bdffff038ull);
	CHECK_STR(g.chains[0].links[1].type, "System.Collections.Generic.List`1[[A.Customer, Asm]]");
	sos_gcroot_free(&g);
}

TEST(gcroot_32bit_and_crlf)
{
	static const char txt[] = "HandleTable:\r\n    002c11f8 (pinned handle)\r\n    -> 02a43020 System.Object[]   \r\n"
				  "    -> 01a4e6c8 Foo.Bar\r\n\r\nFound 1 unique roots.\r\n";
	struct sos_gcroot g;

	CHECK_INT(sos_parse_gcroot(S(txt), 1, &g, NULL), DS_OK);
	CHECK_INT(g.nchains, 1);
	CHECK_INT(g.chains[0].kind, SOS_ROOT_PINNED);
	CHECK_U64(g.chains[0].root_addr, 0x2c11f8ull);
	CHECK_U64(g.chains[0].links[1].addr, 0x1a4e6c8ull);
	CHECK_STR(g.chains[0].links[1].type, "Foo.Bar");
	sos_gcroot_free(&g);
}

TEST(gcroot_wrapped_lines)
{
	/* a capture cut at 80 columns: the type and its note continue in column 0 */
	static const char txt[] = "HandleTable:\n    000001735acc12c8 (strong handle)\n"
				  "          -> 01735d1d9880     System.Lazy<MessagePack.Internal.DynamicAs\n"
				  "sembly> (static variable: MessagePack.MessagePackSerializerOptions.Opt\n"
				  "ions)\n          -> 01735d1e9aa0     MessagePack.Internal.DynamicAssembly \n"
				  "Found 1 unique roots.\n";
	struct sos_gcroot g;

	CHECK_INT(sos_parse_gcroot(S(txt), 1, &g, NULL), DS_OK);
	CHECK_INT(g.nchains, 1);
	CHECK_INT(g.chains[0].nlinks, 2);
	CHECK_STR(g.chains[0].links[0].type, "System.Lazy<MessagePack.Internal.DynamicAssembly>");
	CHECK_STR(g.chains[0].links[0].static_var, "MessagePack.MessagePackSerializerOptions.Options");
	sos_gcroot_free(&g);
}

TEST(gcroot_clr2_domain_form)
{
	/* The .NET Framework 2.0 SOS form (DOMAIN(...):HANDLE(kind):slot:Root: addr(type)->), written for this
	 * test from that format. */
	static const char txt[] = "DOMAIN(0000000002A41F20):HANDLE(Strong):a3e8c0:Root:  0000000100044d10(Plugins.Host.Registry)->\n"
				  " 0000000100031e58(Plugins.Host.Catalog)->\n"
				  " 0000000100029a70(System.Collections.Generic.List`1[[A.B, C]])->\n"
				  " 0000000100029b08(Foo.Endpoint)\n"
				  "ESP:12f4c8:Root:  01a4e2a0(System.Object[])->\n 01a4e6c8(Foo.Bar)\n";
	struct sos_gcroot g;

	CHECK_INT(sos_parse_gcroot(S(txt), 1, &g, NULL), DS_OK);
	CHECK_INT(g.nchains, 2);
	CHECK_INT(g.chains[0].kind, SOS_ROOT_STRONG);
	CHECK_STR(g.chains[0].domain, "0000000002A41F20");
	CHECK_U64(g.chains[0].root_addr, 0xa3e8c0ull);
	CHECK_INT(g.chains[0].nlinks, 4);
	CHECK_STR(g.chains[0].links[0].type, "Plugins.Host.Registry");
	CHECK_STR(g.chains[0].links[2].type, "System.Collections.Generic.List`1[[A.B, C]]");
	CHECK_INT(g.chains[1].kind, SOS_ROOT_STACK);
	CHECK_STR(g.chains[1].slot, "ESP:12f4c8");
	CHECK_INT(g.chains[1].nlinks, 2);
	CHECK_INT(g.found, -1);
	sos_gcroot_free(&g);
}

TEST(gcroot_bad_link_is_parse_error)
{
	static const char txt[] = "HandleTable:\n    0000000000001000 (strong handle)\n          -> zzzz Foo\n";
	struct sos_gcroot g;
	struct ds_err e = { 0 };

	CHECK_INT(sos_parse_gcroot(S(txt), 5, &g, &e), DS_EPARSE);
	CHECK_INT(e.offset, 7);
	CHECK(strstr(e.msg, "line 7") != NULL);
}

TEST(gcroot_caps)
{
	/* more links than SOS_MAX_LINKS in one chain */
	size_t i, n = SOS_MAX_LINKS + 2, cap = 64 + n * 40;
	char *txt = malloc(cap), *p = txt;
	struct sos_gcroot g;
	struct ds_err e = { 0 };

	p += sprintf(p, "HandleTable:\n    0000000000001000 (strong handle)\n");
	for (i = 0; i < n; i++)
		p += sprintf(p, "  -> %012zx A.B\n", i + 0x10000);
	CHECK_INT(sos_parse_gcroot(txt, (size_t)(p - txt), 1, &g, &e), DS_ETOOBIG);
	CHECK(strstr(e.msg, "line ") != NULL);
	free(txt);
}

TEST(dumpobj_alc_and_string)
{
	static const char alc[] = "Name:        Scout.Host.PluginLoadContext\nMethodTable: 00007fca3b728a68\nFields:\n"
				  "              MT    Field   Offset                 Type   VT     Attr            Value Name\n"
				  "0000000000000000 0400116b        8                        No instance 0000000000000000 _resolving\n"
				  "00007fca3b65dd58 0400116e       20        System.String   No instance 00007fca2a400a50 _name\n"
				  "00007fca3b722c80 04001170       38         System.Int32  Yes instance                1 _state\n"
				  "00007fca3b72bba0 04001167        0 ...Private.CoreLib]]   No   static 00007fbe61809c08 s_allContexts\n";
	static const char str[] = "Name:        System.String\nMethodTable: 00007ff94248dd58\nString:      leaky-static\n";
	struct sos_dumpobj o;
	const struct sos_field *f;

	CHECK_INT(sos_parse_dumpobj(S(alc), 1, &o, NULL), DS_OK);
	CHECK_STR(o.name, "Scout.Host.PluginLoadContext");
	CHECK_U64(o.mt, 0x7fca3b728a68ull);
	CHECK_INT(o.nfields, 4);
	f = sos_dumpobj_field(&o, "_name");
	CHECK(f != NULL);
	if (f != NULL) {
		CHECK_STR(f->value, "00007fca2a400a50");
		CHECK_STR(f->type, "System.String");
	}
	CHECK_STR(sos_dumpobj_field(&o, "_resolving")->type, "");
	CHECK_INT(sos_dumpobj_field(&o, "s_allContexts")->is_static, 1);
	sos_dumpobj_free(&o);
	CHECK_INT(sos_parse_dumpobj(S(str), 1, &o, NULL), DS_OK);
	CHECK_STR(o.string, "leaky-static");
	sos_dumpobj_free(&o);
}

TEST(dumpclass_statics)
{
	static const char txt[] = "Class Name:      Scout.Host.PluginRegistry\nNumStaticFields:     2\n"
				  "              MT    Field   Offset                 Type   VT     Attr            Value Name\n"
				  "00007fca3a6347b0 04000002       10        System.Object   No   static 00007fbe6180a5c8 LastPlugin\n"
				  "00007fca3b717dc0 04000004        8 ...Services.GCHandle  Yes   static 00007fbe5f000398 Handle\n";
	struct sos_dumpobj o;

	CHECK_INT(sos_parse_dumpobj(S(txt), 1, &o, NULL), DS_OK);
	CHECK_STR(o.name, "Scout.Host.PluginRegistry");
	CHECK_INT(o.nfields, 2);
	CHECK_STR(o.fields[0].name, "LastPlugin");
	CHECK_STR(o.fields[0].value, "00007fbe6180a5c8");
	CHECK_INT(o.fields[0].is_static, 1);
	sos_dumpobj_free(&o);
}

TEST(dumpmt_and_du)
{
	static const char mt[] = "Name:                Scout.Plugin.GreeterPlugin\nLoaderAllocator:     00007FBE61809B80\n"
				 "AssemblyLoadContext: 00007FBE61809B10\nBaseSize:            0x20\n";
	struct sos_dumpmt m;
	char *s = NULL;

	CHECK_INT(sos_parse_dumpmt(S(mt), 1, &m, NULL), DS_OK);
	CHECK_STR(m.name, "Scout.Plugin.GreeterPlugin");
	CHECK_U64(m.loader_allocator, 0x7fbe61809b80ull);
	CHECK_U64(m.alc, 0x7fbe61809b10ull);
	sos_dumpmt_free(&m);
	CHECK_INT(sos_parse_du(S("Text: 'plugin-static-field'\n"), 1, &s, NULL), DS_OK);
	CHECK_STR(s, "plugin-static-field");
	free(s);
}

TEST(pe_and_clrstack)
{
	static const char pe[] = "Exception object: 00007fbe61800178\nException type:   System.InvalidOperationException\n"
				 "Message:          plugin failed\nInnerException:   <none>\nStackTrace (generated):\n"
				 "    SP               IP               Function\n"
				 "    00007FFC65B7CF60 00007FCA3B674080 Host.dll!Scout.Host.Program.Crash(System.String)+0x2a\n"
				 "StackTraceString: <none>\nHResult: 80131509\n";
	static const char cs[] = "OS Thread Id: 0x665e (0)\n        Child SP               IP Call Site\n"
				 "00007FFC65B7CEA0 00007fcab9ef1c17 [InlinedCallFrame: 00007ffc65b7cea0] \n"
				 "00007FFC65B7CF60 00007FCA3B674080 Scout.Host.Program.Crash(System.String) [/x/Program.cs @ 184]\n"
				 "    PARAMETERS:\n        message (0x00007FFC65B7CF68) = 0x00007fbe63c02048\n";
	struct sos_exception e;
	struct sos_clrstack c;

	CHECK_INT(sos_parse_pe(S(pe), 1, &e, NULL), DS_OK);
	CHECK_STR(e.type, "System.InvalidOperationException");
	CHECK_STR(e.message, "plugin failed");
	CHECK_INT(e.has_hresult, 1);
	CHECK_U64(e.hresult, 0x80131509u);
	CHECK_INT(e.nstack, 1);
	CHECK_STR(e.stack[0], "Host.dll!Scout.Host.Program.Crash(System.String)+0x2a");
	sos_exception_free(&e);
	CHECK_INT(sos_parse_clrstack(S(cs), 1, &c, NULL), DS_OK);
	CHECK_STR(c.os_thread_id, "665e");
	CHECK_INT(c.nframes, 2);
	CHECK_STR(c.frames[1].call_site, "Scout.Host.Program.Crash(System.String) [/x/Program.cs @ 184]");
	CHECK_U64(c.frames[1].sp, 0x7ffc65b7cf60ull);
	sos_clrstack_free(&c);
}

int main(void)
{
	RUN(session_dotnet_dump_stdin);
	RUN(session_windbg_lldb_bare_crlf);
	RUN(record_kind_by_content);
	RUN(cmd_args);
	RUN(dumpheap_new_rows_and_stats);
	RUN(dumpheap_type_in_row_short_and_empty);
	RUN(dumpheap_bad_row_names_line);
	RUN(gcroot_current_static_and_spaces_in_type);
	RUN(gcroot_handle_kinds);
	RUN(gcroot_thread_frames_and_slots);
	RUN(gcroot_old_uppercase_interior_found_roots);
	RUN(gcroot_32bit_and_crlf);
	RUN(gcroot_wrapped_lines);
	RUN(gcroot_clr2_domain_form);
	RUN(gcroot_bad_link_is_parse_error);
	RUN(gcroot_caps);
	RUN(dumpobj_alc_and_string);
	RUN(dumpclass_statics);
	RUN(dumpmt_and_du);
	RUN(pe_and_clrstack);
	return t_total_failed != 0;
}
