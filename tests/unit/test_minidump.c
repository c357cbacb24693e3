/* test_minidump.c - the minidump reader against every dump of the corpus (tests/corpus) (expected values from
 * the gold files beside them and from SOURCES.md), against small synthetic dumps built in memory for
 * the edge cases, and against truncations of good dumps. */
#include "t.h"

#include <cjson/cJSON.h>

#include "analyzer/dsrc.h"
#include "analyzer/heap_run.h"
#include "analyzer/minidump.h"
#include "analyzer/triage.h"
#include "core/plat.h"
#include "mdmp_build.h"

#ifndef _WIN32
#include <sys/stat.h>
#endif

#define MDMP_DIR T_CORPUS "/dumps/mdmp/"

/* Reads a corpus dump through the file-backed source. */
static int read_dump(const char *name, struct triage *t, struct ds_err *e)
{
	char path[512];
	struct dsrc src;
	int rc;

	snprintf(path, sizeof(path), MDMP_DIR "%s", name);
	memset(e, 0, sizeof(*e));
	triage_init(t);
	rc = dsrc_open_file(&src, path);
	if (rc != DS_OK)
		return rc;
	rc = minidump_read(&src, t, e);
	dsrc_close(&src);
	return rc;
}

static int read_mem(const void *p, size_t n, struct triage *t, struct ds_err *e)
{
	struct dsrc src;

	memset(e, 0, sizeof(*e));
	triage_init(t);
	dsrc_init_mem(&src, p, n);
	return minidump_read(&src, t, e);
}

static char *slurp(const char *name, size_t *len)
{
	char path[512], *data = NULL;

	snprintf(path, sizeof(path), MDMP_DIR "%s", name);
	if (plat_read_file(path, 64u << 20, &data, len) != DS_OK)
		return NULL;
	return data;
}

/* The JSON object of a rust-minidump insta snapshot (after its "---" header). */
static cJSON *snap_json(const char *name)
{
	size_t len;
	char *s = slurp(name, &len), *brace;
	cJSON *j = NULL;

	if (s == NULL)
		return NULL;
	brace = strchr(s, '{');
	if (brace != NULL)
		j = cJSON_Parse(brace);
	free(s);
	return j;
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double jnum(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static uint64_t jhex(const cJSON *o, const char *k)
{
	const char *s = jstr(o, k);

	return s ? strtoull(s, NULL, 16) : 0;
}

/* Value after "= " on a gold minidump_dump line, without quotes. */
static void gold_value(const char *line, char *out, size_t cap)
{
	const char *p = strstr(line, "= ");
	size_t n;

	out[0] = '\0';
	if (p == NULL)
		return;
	p += 2;
	if (*p == '"')
		p++;
	n = strcspn(p, "\"\r\n");
	if (n >= cap)
		n = cap - 1;
	memcpy(out, p, n);
	out[n] = '\0';
}

/* breakpad's minidump_dump output for minidump2.dmp, module by module, against our modules. */
TEST(minidump2_modules_match_breakpad_gold)
{
	struct triage t;
	struct ds_err e;
	size_t len, mi = 0;
	char *gold = slurp("breakpad__minidump2.dmp.gold.minidump_dump.out", &len), *line, *save = NULL;
	char v[512];
	int nmod = -1, in_mod = 0;

	CHECK(gold != NULL);
	CHECK_INT(read_dump("breakpad__minidump2.dmp", &t, &e), DS_OK);
	if (gold == NULL || t.nmodules == 0)
		goto out;
	for (line = strtok_r(gold, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		struct triage_module *m = mi > 0 && mi <= t.nmodules ? &t.modules[mi - 1] : NULL;

		if (strncmp(line, "  module_count = ", 17) == 0)
			nmod = atoi(line + 17);
		if (strncmp(line, "module[", 7) == 0) {
			mi++;
			in_mod = 1;
			continue;
		}
		if (strncmp(line, "MinidumpMemoryList", 18) == 0)
			in_mod = 0;
		if (!in_mod || m == NULL)
			continue;
		gold_value(line, v, sizeof(v));
		if (strstr(line, "base_of_image ") != NULL)
			CHECK_U64(m->base, strtoull(v, NULL, 16));
		else if (strstr(line, "size_of_image ") != NULL)
			CHECK_U64(m->size, strtoull(v, NULL, 16));
		else if (strstr(line, "(code_file) ") != NULL)
			CHECK_STR(m->path, v);
		else if (strstr(line, "(debug_file) ") != NULL)
			CHECK_STR(m->pdb_name, v);
		else if (strstr(line, "(debug_identifier) ") != NULL)
			CHECK_STR(m->pdb_id, v);
		else if (strstr(line, "(version) ") != NULL)
			CHECK_STR(m->version, v);
	}
	CHECK_INT(nmod, 13);
	CHECK_INT(mi, 13);
	CHECK_INT(t.nmodules, 13);
	CHECK_STR(t.modules[0].name, "test_app.exe");
	CHECK_INT(t.modules[1].pdb_age, 2);
out:
	free(gold);
	triage_free(&t);
}

/* Scalars of minidump2.dmp from the breakpad gold, SOURCES.md and rust-minidump's JSON. */
TEST(minidump2_process_exception_system)
{
	struct triage t;
	struct ds_err e;
	cJSON *j = snap_json("breakpad__minidump2.dmp.gold.rust-minidump-json.snap");
	const cJSON *ci = cJSON_GetObjectItemCaseSensitive(j, "crash_info");

	CHECK(j != NULL);
	CHECK_INT(read_dump("breakpad__minidump2.dmp", &t, &e), DS_OK);
	CHECK_STR(t.format, "minidump");
	CHECK_STR(t.writer, "breakpad");
	CHECK_STR(t.os, "windows");
	CHECK_STR(t.os_version, "5.1.2600");
	CHECK_STR(t.arch, "x86");
	CHECK_INT(t.cpu_count, 1);
	CHECK_INT(t.has_pid, 1);
	CHECK_U64(t.pid, 3932);
	CHECK_U64(t.pid, jnum(j, "pid"));
	CHECK_INT(t.dump_time, 0x45d35f73);
	CHECK_INT(t.process_create_time, 0x45d35f73);
	CHECK_STR(t.process_name, "test_app.exe");
	CHECK(t.command_line == NULL);
	CHECK_INT(t.exc.present, 1);
	CHECK_INT(t.exc.is_signal, 0);
	CHECK_U64(t.exc.code, 0xc0000005);
	CHECK_U64(t.exc.address, 0x40429e);
	CHECK_INT(t.exc.nparams, 2);
	CHECK_U64(t.exc.params[0], 1);
	CHECK_U64(t.exc.params[1], 0x45);
	CHECK_INT(t.exc.has_fault_address, 1);
	CHECK_U64(t.exc.fault_address, 0x45);
	CHECK_U64(t.exc.fault_address, jhex(ci, "address"));
	CHECK_STR(t.exc.name, "EXCEPTION_ACCESS_VIOLATION_WRITE");
	CHECK_STR(t.exc.name, jstr(ci, "type"));
	CHECK_U64(t.exc.thread_id, 0xbf4);
	CHECK_INT(t.has_crashing_thread, 1);
	CHECK_U64(t.crashing_thread_id, 0xbf4);
	CHECK_INT(t.nthreads, 2);
	CHECK_INT(t.nthreads, jnum(j, "thread_count"));
	if (t.nthreads == 2) {
		CHECK_U64(t.threads[0].id, 0xbf4);
		CHECK_U64(t.threads[1].id, 0x11c0);
		CHECK(t.threads[0].name == NULL);
	}
	CHECK_INT(t.mem_ranges, 3);
	CHECK_U64(t.mem_bytes, 0x100 + 0xce4 + 0x918);
	CHECK_INT(t.mem_regions, 0);
	CHECK_INT(t.full_memory, 0);
	CHECK_INT(t.has_handles, 0);
	CHECK_INT(t.nunloaded, 0);
	CHECK(t.bucket == NULL); /* triage_finish's job, not the reader's */
	/* Only the directory and the small streams: far less than the 11317-byte file. */
	CHECK(t.bytes_read > 0 && t.bytes_read < 5000);
	cJSON_Delete(j);
	triage_free(&t);
}

/* Modules of a macOS and a Linux dump against rust-minidump's JSON snapshots. */
static void check_against_rust_json(const char *dump, const char *snap, const char *os, const char *osver)
{
	struct triage t;
	struct ds_err e;
	cJSON *j = snap_json(snap), *sys, *mods, *thr, *m;
	size_t i = 0;

	CHECK(j != NULL);
	CHECK_INT(read_dump(dump, &t, &e), DS_OK);
	if (j == NULL)
		goto out;
	sys = cJSON_GetObjectItemCaseSensitive(j, "system_info");
	mods = cJSON_GetObjectItemCaseSensitive(j, "modules");
	thr = cJSON_GetObjectItemCaseSensitive(j, "threads");
	CHECK_STR(t.os, os);
	CHECK_STR(t.arch, jstr(sys, "cpu_arch"));
	CHECK_INT(t.cpu_count, jnum(sys, "cpu_count"));
	/* rust-minidump prints the version with extra text after it ("11.6.7 20G630") */
	CHECK_STR(t.os_version, osver);
	CHECK(jstr(sys, "os_ver") != NULL && strncmp(jstr(sys, "os_ver"), osver, strlen(osver)) == 0);
	CHECK_INT(t.has_pid, 1);
	CHECK_U64(t.pid, jnum(j, "pid"));
	CHECK_INT(t.nmodules, cJSON_GetArraySize(mods));
	cJSON_ArrayForEach(m, mods) {
		const char *ver = jstr(m, "version");

		if (i >= t.nmodules)
			break;
		CHECK_STR(t.modules[i].name, jstr(m, "filename"));
		CHECK_U64(t.modules[i].base, jhex(m, "base_addr"));
		CHECK_U64(t.modules[i].base + t.modules[i].size, jhex(m, "end_addr"));
		CHECK_STR(t.modules[i].version, ver ? ver : "");
		i++;
	}
	CHECK_INT(t.nthreads, cJSON_GetArraySize(thr));
	i = 0;
	cJSON_ArrayForEach(m, thr) {
		const char *nm = jstr(m, "thread_name");

		if (i >= t.nthreads)
			break;
		CHECK_U64(t.threads[i].id, jnum(m, "thread_id"));
		CHECK_STR(t.threads[i].name, nm && nm[0] ? nm : NULL);
		i++;
	}
	CHECK_STR(t.process_name, jstr(cJSON_GetArrayItem(mods, 0), "filename"));
	CHECK_U64(t.crashing_thread_id,
		  jnum(cJSON_GetObjectItemCaseSensitive(j, "crashing_thread"), "thread_id"));
	CHECK_U64(t.exc.address, jhex(cJSON_GetObjectItemCaseSensitive(j, "crash_info"), "address"));
out:
	cJSON_Delete(j);
	triage_free(&t);
}

TEST(linux_mini_matches_rust_minidump_json)
{
	struct triage t;
	struct ds_err e;
	cJSON *j = snap_json("rust-minidump__linux-mini.dmp.gold.rust-minidump-json.snap"), *m;
	size_t i = 0;

	check_against_rust_json("rust-minidump__linux-mini.dmp",
				"rust-minidump__linux-mini.dmp.gold.rust-minidump-json.snap", "linux", "4.9.60");
	CHECK_INT(read_dump("rust-minidump__linux-mini.dmp", &t, &e), DS_OK);
	CHECK_STR(t.writer, "breakpad");
	CHECK_INT(t.exc.is_signal, 1);
	CHECK_INT(t.exc.code, 11);
	CHECK_STR(t.exc.name, jstr(cJSON_GetObjectItemCaseSensitive(j, "crash_info"), "type"));
	CHECK_INT(t.exc.has_fault_address, 1);
	CHECK_U64(t.exc.fault_address, 0x45); /* SOURCES.md: SIGSEGV @0x45 */
	/* ELF modules carry breakpad's build id record: rust-minidump's code_id is the same hex */
	cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(j, "modules")) {
		if (i >= t.nmodules)
			break;
		CHECK_STR(t.modules[i].pdb_id, jstr(m, "code_id"));
		i++;
	}
	CHECK_STR(t.process_name, "crash"); /* SOURCES.md */
	CHECK(t.command_line != NULL);
	cJSON_Delete(j);
	triage_free(&t);
}

TEST(macos_segv_matches_rust_minidump_json)
{
	struct triage t;
	struct ds_err e;
	cJSON *j = snap_json("rust-minidump__pipeline-inlines-macos-segv.dmp.gold.rust-minidump-json-symbols.snap"), *m;
	const char *type = jstr(cJSON_GetObjectItemCaseSensitive(j, "crash_info"), "type");
	size_t i = 0;

	check_against_rust_json("rust-minidump__pipeline-inlines-macos-segv.dmp",
				"rust-minidump__pipeline-inlines-macos-segv.dmp.gold.rust-minidump-json-symbols.snap",
				"macos", "11.6.7");
	CHECK_INT(read_dump("rust-minidump__pipeline-inlines-macos-segv.dmp", &t, &e), DS_OK);
	/* "EXC_BAD_ACCESS / KERN_INVALID_ADDRESS": the Mach exception, then its code */
	CHECK(type != NULL && strncmp(type, "EXC_BAD_ACCESS /", 16) == 0);
	CHECK_STR(t.exc.name, "EXC_BAD_ACCESS");
	CHECK_INT(t.exc.is_signal, 0);
	CHECK_INT(t.exc.code, 1);
	CHECK_INT(t.exc.has_fault_address, 1);
	CHECK_U64(t.exc.fault_address, 0xffffffff80000042ull);
	cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(j, "modules")) {
		if (i >= t.nmodules)
			break;
		CHECK_STR(t.modules[i].pdb_id, jstr(m, "debug_id"));
		i++;
	}
	CHECK_STR(t.process_name, "crash-client");
	cJSON_Delete(j);
	triage_free(&t);
}

/* One row of SOURCES.md (and lldb's unit tests quoted there). */
struct expect {
	const char *file;
	const char *os, *os_version, *arch, *writer, *process;
	int has_exc;
	uint32_t code;
	const char *exc_name;
	long long nthreads, nmodules; /* -1: not stated */
};

static const struct expect expects[] = {
	{ "breakpad__exec_av_on_stack.dmp", "windows", "6.1.7600", "x86", "breakpad", "crashme1.exe", 1,
	  0xc0000005, "EXCEPTION_ACCESS_VIOLATION_EXEC", -1, -1 },
	{ "breakpad__linux_inline.dmp", "linux", NULL, "amd64", "crashpad", "linux_inline", 1, 4, "SIGILL", -1, -1 },
	{ "breakpad__linux_raise_sigabrt.dmp", "linux", NULL, "amd64", "breakpad", "driver", 1, 6, "SIGABRT", -1, -1 },
	/* the app, not dyld_sim which the simulator records before it */
	{ "breakpad__minidump_crashpad_annotation.dmp", "ios", "16.2.0", "amd64", "crashpad", "ios_crash_xcuitests", 1,
	  0x43506e78, NULL, 7, 354 },
	{ "breakpad__null_read_av.dmp", "windows", "6.1.7600", "x86", "breakpad", "crashme.exe", 1, 0xc0000005,
	  "EXCEPTION_ACCESS_VIOLATION_READ", 2, 26 },
	{ "breakpad__stack_exhaustion.dmp", "windows", "6.1.7600", "x86", "breakpad", "crashme.exe", 1, 0xc00000fd,
	  "EXCEPTION_STACK_OVERFLOW", -1, -1 },
	{ "breakpad__thread_name_list.dmp", "windows", "10.0.17763", "x86", "windows", "allocer32.exe", 1,
	  0xc0000005, NULL, 6, -1 },
	{ "breakpad__tiny-exe-with-cet-xsave-x86.dmp", "windows", "10.0.22631", "x86", "windows", "tiny.exe", 0, 0,
	  NULL, 3, -1 },
	{ "breakpad__tiny-exe-with-cet-xsave.dmp", "windows", "10.0.22000", "amd64", "windows", "tiny.exe", 0, 0,
	  NULL, 1, -1 },
	{ "breakpad__write_av_non_canonical.dmp", "windows", "10.0.19042", "amd64", "breakpad", "crash.exe", 1,
	  0xc0000005, NULL, -1, -1 },
	{ "bugsplat__myConsoleCrasher.dmp", "windows", "10.0.17763", "x86", "windows", "myConsoleCrasher.exe", 1,
	  0xc0000005, "EXCEPTION_ACCESS_VIOLATION_WRITE", 4, 30 },
	{ "lldb__arm64-macos.dmp", "macos", NULL, "arm64", NULL, NULL, 0, 0, NULL, 1, -1 },
	{ "lldb__fizzbuzz_no_heap.dmp", "windows", "6.1.7601", "x86", "windows", "fizzbuzz.exe", 1, 0xc0000005,
	  "EXCEPTION_ACCESS_VIOLATION_READ", 1, -1 },
	{ "lldb__linux-i386.dmp", "linux", NULL, "x86", "breakpad", "linux-i386", 1, 11, "SIGSEGV", -1, -1 },
	{ "lldb__linux-x86_64.dmp", "linux", NULL, "amd64", "breakpad", "a.out", 1, 11, "SIGSEGV", 1, -1 },
	{ "lldb__linux-x86_64_not_crashed.dmp", "linux", NULL, "amd64", "breakpad", NULL, 1, 0xffffffff,
	  "DUMP_REQUESTED", -1, -1 },
	{ "lldb__sigsegv.dmp", "windows", "10.0.16299", "amd64", "windows", "sigsegv.exe", 1, 0xc0000005, NULL, 1, 4 },
	{ "rust-minidump__invalid-parameter.dmp", "windows", "10.0.17134", "amd64", "breakpad", "CrashTest.exe", 1,
	  0xc000000d, "STATUS_INVALID_PARAMETER", 6, -1 },
	{ "rust-minidump__simple-crashpad.dmp", "macos", "10.15.7", "amd64", "crashpad", "crashy", 1, 0, NULL, -1,
	  -1 },
};

TEST(corpus_dumps_match_sources_md)
{
	size_t i;

	for (i = 0; i < DS_ARRAY_LEN(expects); i++) {
		const struct expect *x = &expects[i];
		struct triage t;
		struct ds_err e;
		int rc = read_dump(x->file, &t, &e);

		if (rc != DS_OK) {
			T_FAIL_("%s: %s (%s)", x->file, ds_strerror(rc), e.msg);
			triage_free(&t);
			continue;
		}
		if (strcmp(t.os, x->os) != 0 || strcmp(t.arch, x->arch) != 0 ||
		    (x->os_version && strcmp(t.os_version, x->os_version) != 0) ||
		    strcmp(t.writer, x->writer ? x->writer : "") != 0 ||
		    (x->process && (t.process_name == NULL || strcmp(t.process_name, x->process) != 0)) ||
		    t.exc.present != x->has_exc || (x->has_exc && t.exc.code != x->code) ||
		    (x->exc_name && strcmp(t.exc.name, x->exc_name) != 0) ||
		    (x->nthreads >= 0 && (long long)t.nthreads != x->nthreads) ||
		    (x->nmodules >= 0 && (long long)t.nmodules != x->nmodules))
			T_FAIL_("%s: got os=%s %s arch=%s writer=%s process=%s exc=%d 0x%x %s threads=%zu modules=%zu",
				x->file, t.os, t.os_version, t.arch, t.writer,
				t.process_name ? t.process_name : "(null)", t.exc.present, t.exc.code, t.exc.name,
				t.nthreads, t.nmodules);
		triage_free(&t);
	}
}

TEST(lldb_linux_x86_64_pid_and_thread)
{
	struct triage t;
	struct ds_err e;

	CHECK_INT(read_dump("lldb__linux-x86_64.dmp", &t, &e), DS_OK);
	CHECK_INT(t.has_pid, 1);
	CHECK_U64(t.pid, 16001);
	CHECK_INT(t.nthreads, 1);
	if (t.nthreads == 1)
		CHECK_U64(t.threads[0].id, 0x3e81);
	CHECK_U64(t.exc.thread_id, 0x3e81);
	CHECK_U64(t.crashing_thread_id, 0x3e81);
	CHECK_INT(t.exc.is_signal, 1);
	/* the command line stream (not the environment one beside it) */
	CHECK_STR(t.command_line, "./a.out");
	triage_free(&t);
}

TEST(lldb_fizzbuzz_pid)
{
	struct triage t;
	struct ds_err e;

	CHECK_INT(read_dump("lldb__fizzbuzz_no_heap.dmp", &t, &e), DS_OK);
	CHECK_INT(t.has_pid, 1);
	CHECK_U64(t.pid, 4440);
	CHECK_INT(t.exc.has_fault_address, 1);
	CHECK_U64(t.exc.fault_address, 0);
	triage_free(&t);
}

TEST(sigsegv_exception_address_matches_lldb_gold)
{
	struct triage t;
	struct ds_err e;

	/* gold: "stop reason = Exception 0xc0000005 encountered at address 0x7ff7a13110d9" */
	CHECK_INT(read_dump("lldb__sigsegv.dmp", &t, &e), DS_OK);
	CHECK_U64(t.exc.code, 0xc0000005);
	CHECK_U64(t.exc.address, 0x7ff7a13110d9ull);
	CHECK_STR(t.modules[0].name, "sigsegv.exe");
	triage_free(&t);
}

TEST(tiny_exe_handles_unloaded_meminfo)
{
	struct triage t;
	struct ds_err e;

	CHECK_INT(read_dump("breakpad__tiny-exe-with-cet-xsave.dmp", &t, &e), DS_OK);
	CHECK_INT(t.has_handles, 1);
	CHECK_U64(t.handle_count, 147);
	CHECK(t.nunloaded > 0);
	if (t.nunloaded > 0) {
		CHECK(t.unloaded[0].name != NULL && t.unloaded[0].name[0] != '\0');
		CHECK(t.unloaded[0].size > 0);
	}
	CHECK(t.mem_regions > 0);
	CHECK_INT(t.exc.present, 0);
	CHECK_INT(t.has_crashing_thread, 0);
	triage_free(&t);
}

TEST(regions_memlist64_two_ranges)
{
	struct triage t;
	struct ds_err e;

	/* SOURCES.md: Memory64List with 2 ranges 0x1000+0x10, 0x2000+0x20 */
	CHECK_INT(read_dump("lldb__regions-memlist64.dmp", &t, &e), DS_OK);
	CHECK_U64(t.mem_ranges, 2);
	CHECK_U64(t.mem_bytes, 0x30);
	CHECK_INT(t.full_memory, 1);
	CHECK_U64(t.mem_regions, 0);
	triage_free(&t);
}

TEST(stack_exhaustion_reads_little_of_a_big_dump)
{
	struct triage t;
	struct ds_err e;

	/* ~1 MiB of stack memory in the file; we read only directory and small streams */
	CHECK_INT(read_dump("breakpad__stack_exhaustion.dmp", &t, &e), DS_OK);
	CHECK(t.mem_bytes > 1000000);
	CHECK(t.bytes_read < 16384);
	triage_free(&t);
}

TEST(thread_names_attached)
{
	struct triage t;
	struct ds_err e;
	size_t i, named = 0;

	CHECK_INT(read_dump("breakpad__thread_name_list.dmp", &t, &e), DS_OK);
	for (i = 0; i < t.nthreads; i++)
		named += t.threads[i].name != NULL;
	CHECK(named > 0);
	triage_free(&t);
	CHECK_INT(read_dump("breakpad__minidump_crashpad_annotation.dmp", &t, &e), DS_OK);
	for (i = 0, named = 0; i < t.nthreads; i++)
		named += t.threads[i].name != NULL;
	CHECK(named > 0);
	triage_free(&t);
}

TEST(negative_and_corrupt_files_rejected)
{
	struct triage t;
	struct ds_err e;

	CHECK_INT(read_dump("breakpad__microdump-arm64.dmp", &t, &e), DS_EFORMAT);
	triage_free(&t);
	/* directory at 0x20; the 11th entry (index 10) repeats the thread list type */
	CHECK_INT(read_dump("lldb__bad_duplicate_streams.dmp", &t, &e), DS_ECORRUPT);
	CHECK_INT(e.has_offset, 1);
	CHECK_U64(e.offset, 0x20 + 10 * 12);
	triage_free(&t);
	CHECK_INT(read_dump("rust-minidump__invalid-range.dmp", &t, &e), DS_ECORRUPT);
	CHECK_INT(e.has_offset, 1);
	CHECK(e.offset < 276);
	triage_free(&t);
	CHECK_INT(read_dump("rust-minidump__invalid-record-count.dmp", &t, &e), DS_ECORRUPT);
	CHECK_INT(e.has_offset, 1);
	CHECK(e.offset < 235);
	triage_free(&t);
}

TEST(file_and_memory_sources_agree)
{
	struct triage a, b;
	struct ds_err e;
	size_t len, i;
	char *d = slurp("bugsplat__myConsoleCrasher.dmp", &len);

	CHECK(d != NULL);
	CHECK_INT(read_dump("bugsplat__myConsoleCrasher.dmp", &a, &e), DS_OK);
	CHECK_INT(read_mem(d, len, &b, &e), DS_OK);
	CHECK_INT(a.nmodules, b.nmodules);
	for (i = 0; i < a.nmodules && i < b.nmodules; i++) {
		CHECK_STR(a.modules[i].path, b.modules[i].path);
		CHECK_STR(a.modules[i].pdb_id, b.modules[i].pdb_id);
	}
	CHECK_U64(a.bytes_read, b.bytes_read);
	triage_free(&a);
	triage_free(&b);
	free(d);
}

/* Every prefix of a good dump either reads or fails cleanly as corrupt/not-a-minidump. */
static void truncations(const char *name, size_t step)
{
	size_t len, n, ok = 0, bad = 0;
	char *d = slurp(name, &len);

	CHECK(d != NULL);
	for (n = 0; d != NULL && n <= len; n = n < len && n + (n < 4096 ? 1 : step) > len ? len : n + (n < 4096 ? 1 : step)) {
		struct triage t;
		struct ds_err e;
		int rc = read_mem(d, n, &t, &e);

		if (rc == DS_OK)
			ok++;
		else if (rc == DS_ECORRUPT && e.has_offset && e.offset <= len)
			bad++;
		else if (!(rc == DS_EFORMAT && n < 4))
			T_FAIL_("%s cut at %zu: %s (%s)", name, n, ds_strerror(rc), e.msg);
		triage_free(&t);
	}
	CHECK(ok >= 1);  /* the whole file */
	CHECK(bad >= 1);
	free(d);
}

TEST(truncated_dumps_fail_cleanly)
{
	truncations("breakpad__minidump2.dmp", 1);
	truncations("rust-minidump__linux-mini.dmp", 7);
	truncations("breakpad__tiny-exe-with-cet-xsave.dmp", 13);
	truncations("rust-minidump__pipeline-inlines-macos-segv.dmp", 29);
}

/* ---- synthetic dumps ---- */

static uint32_t thread_list(struct mb *b, const uint32_t *ids, uint32_t n, int pad)
{
	uint32_t at = mb_stream(b, 3, NULL, (pad ? 8 : 4) + 48 * (size_t)n), i;

	mb_set32(b, at, n);
	for (i = 0; i < n; i++)
		mb_set32(b, at + (pad ? 8 : 4) + 48 * i, ids[i]);
	return at;
}

static uint32_t exception(struct mb *b, uint32_t tid, uint32_t code, uint64_t addr, uint32_t np,
			  const uint64_t *p)
{
	uint32_t at = mb_stream(b, 6, NULL, 168), i;

	mb_set32(b, at, tid);
	mb_set32(b, at + 8, code);
	mb_set64(b, at + 24, addr);
	mb_set32(b, at + 32, np);
	for (i = 0; i < np && i < 15; i++)
		mb_set64(b, at + 40 + 8 * i, p[i]);
	return at;
}

TEST(synthetic_padded_lists_and_names)
{
	struct mb b;
	struct triage t;
	struct ds_err e;
	static const uint32_t ids[] = { 7, 9 };
	/* "a\U0001F600" + lone high surrogate + "z" */
	static const uint16_t uname[] = { 'C', ':', '\\', 'a', 0xd83d, 0xde00, 0xd800, 'z', '.', 'e', 'x', 'e' };
	uint32_t mods, name, tn, cv, tname;
	unsigned char rsds[24 + 8];

	mb_init(&b, 6, 1234, 0);
	mb_sysinfo(&b, 9, 4, 10, 0, 19041, 2);
	thread_list(&b, ids, 2, 1);
	name = mb_string16(&b, uname, DS_ARRAY_LEN(uname));
	memset(rsds, 0, sizeof(rsds));
	memcpy(rsds, "RSDS", 4);
	rsds[4] = 0x78, rsds[5] = 0x56, rsds[6] = 0x34, rsds[7] = 0x12; /* Data1 0x12345678 */
	rsds[8] = 0xcd, rsds[9] = 0xab;                                 /* Data2 0xabcd */
	rsds[20] = 0x2a;                                                /* age 42 */
	memcpy(rsds + 24, "a.pdb", 6);
	cv = mb_put(&b, rsds, sizeof(rsds));
	/* module list with breakpad's 4 bytes of padding after the count */
	mods = mb_stream(&b, 4, NULL, 8 + 108);
	mb_set32(&b, mods, 1);
	mb_set64(&b, mods + 8, 0x140000000ull);
	mb_set32(&b, mods + 8 + 8, 0x5000);
	mb_set32(&b, mods + 8 + 20, name);
	mb_set32(&b, mods + 8 + 24, 0xfeef04bd);
	mb_set32(&b, mods + 8 + 32, 0x00020003);
	mb_set32(&b, mods + 8 + 36, 0x00040005);
	mb_set32(&b, mods + 8 + 76, sizeof(rsds));
	mb_set32(&b, mods + 8 + 80, cv);
	/* thread names: one for thread 9, one for an unknown thread */
	tname = mb_string(&b, "worker");
	tn = mb_stream(&b, 24, NULL, 4 + 2 * 12);
	mb_set32(&b, tn, 2);
	mb_set32(&b, tn + 4, 9);
	mb_set64(&b, tn + 8, tname);
	mb_set32(&b, tn + 16, 1000);
	mb_set64(&b, tn + 20, tname);
	CHECK_INT(read_mem(b.d, b.len, &t, &e), DS_OK);
	CHECK_STR(t.os_version, "10.0.19041");
	CHECK_STR(t.arch, "amd64");
	CHECK_STR(t.writer, "windows");
	CHECK_INT(t.dump_time, 1234);
	CHECK_INT(t.nthreads, 2);
	if (t.nthreads == 2) {
		CHECK_U64(t.threads[1].id, 9);
		CHECK_STR(t.threads[1].name, "worker");
		CHECK(t.threads[0].name == NULL);
	}
	CHECK_INT(t.nmodules, 1);
	if (t.nmodules == 1) {
		CHECK_STR(t.modules[0].path, "C:\\a\xf0\x9f\x98\x80\xef\xbf\xbdz.exe");
		CHECK_STR(t.modules[0].name, "a\xf0\x9f\x98\x80\xef\xbf\xbdz.exe");
		CHECK_U64(t.modules[0].base, 0x140000000ull);
		CHECK_STR(t.modules[0].version, "2.3.4.5");
		CHECK_STR(t.modules[0].pdb_name, "a.pdb");
		CHECK_STR(t.modules[0].pdb_id, "12345678ABCD00000000000000000000" "2A");
		CHECK_INT(t.modules[0].pdb_age, 42);
	}
	CHECK_STR(t.process_name, t.nmodules ? t.modules[0].name : "");
	triage_free(&t);
	free(b.d);
}

TEST(synthetic_exception_rules)
{
	struct mb b;
	struct triage t;
	struct ds_err e;
	uint64_t p[16] = { 8, 0xffffffff80001234ull };
	uint32_t at;

	/* 32-bit target: addresses masked; exec AV */
	mb_init(&b, 2, 0, 0);
	mb_sysinfo(&b, 0, 1, 6, 1, 7601, 2);
	exception(&b, 5, 0xc0000005, 0xffffffff00401000ull, 2, p);
	CHECK_INT(read_mem(b.d, b.len, &t, &e), DS_OK);
	CHECK_STR(t.exc.name, "EXCEPTION_ACCESS_VIOLATION_EXEC");
	CHECK_U64(t.exc.address, 0x401000);
	CHECK_U64(t.exc.fault_address, 0x80001234);
	CHECK_U64(t.crashing_thread_id, 5);
	triage_free(&t);
	free(b.d);

	/* in-page error, 64-bit: no masking, read */
	mb_init(&b, 2, 0, 0);
	mb_sysinfo(&b, 12, 1, 10, 0, 22000, 2);
	p[0] = 0;
	exception(&b, 5, 0xc0000006, 0xffffffff00401000ull, 3, p);
	CHECK_INT(read_mem(b.d, b.len, &t, &e), DS_OK);
	CHECK_STR(t.arch, "arm64");
	CHECK_STR(t.exc.name, "EXCEPTION_IN_PAGE_ERROR_READ");
	CHECK_U64(t.exc.address, 0xffffffff00401000ull);
	CHECK_U64(t.exc.fault_address, 0xffffffff80001234ull);
	CHECK_INT(t.exc.nparams, 3);
	triage_free(&t);
	free(b.d);

	/* NumberParameters 16: corrupt, offset at the field */
	mb_init(&b, 1, 0, 0);
	at = exception(&b, 5, 0xc0000005, 0, 15, p);
	mb_set32(&b, at + 32, 16);
	CHECK_INT(read_mem(b.d, b.len, &t, &e), DS_ECORRUPT);
	CHECK_U64(e.offset, at + 32);
	triage_free(&t);
	free(b.d);

	/* Android: a signal, SIGBUS has a fault address */
	mb_init(&b, 2, 0, 0);
	mb_sysinfo(&b, 5, 1, 0, 0, 0, 0x8203);
	exception(&b, 5, 7, 0xdead0000, 0, p);
	CHECK_INT(read_mem(b.d, b.len, &t, &e), DS_OK);
	CHECK_STR(t.os, "android");
	CHECK_STR(t.arch, "arm");
	CHECK_INT(t.exc.is_signal, 1);
	CHECK_STR(t.exc.name, "SIGBUS");
	CHECK_U64(t.exc.fault_address, 0xdead0000);
	CHECK_STR(t.os_version, "");
	triage_free(&t);
	free(b.d);
}

TEST(synthetic_misc_info_flags_and_sizes)
{
	struct mb b;
	struct triage t;
	struct ds_err e;
	uint32_t at;

	/* flags say pid only: no create time even though the bytes are there */
	mb_init(&b, 1, 0, 0);
	at = mb_stream(&b, 15, NULL, 24);
	mb_set32(&b, at, 24);
	mb_set32(&b, at + 4, 1);
	mb_set32(&b, at + 8, 77);
	mb_set32(&b, at + 12, 1600000000);
	CHECK_INT(read_mem(b.d, b.len, &t, &e), DS_OK);
	CHECK_INT(t.has_pid, 1);
	CHECK_U64(t.pid, 77);
	CHECK_INT(t.process_create_time, 0);
	triage_free(&t);
	/* times flag set, but the stream is cut before the time */
	mb_set32(&b, at + 4, 3);
	mb_set32(&b, 32 + 4, 12);
	CHECK_INT(read_mem(b.d, b.len, &t, &e), DS_OK);
	CHECK_U64(t.pid, 77);
	CHECK_INT(t.process_create_time, 0);
	triage_free(&t);
	/* pid flag clear: no pid */
	mb_set32(&b, 32 + 4, 24);
	mb_set32(&b, at + 4, 2);
	CHECK_INT(read_mem(b.d, b.len, &t, &e), DS_OK);
	CHECK_INT(t.has_pid, 0);
	CHECK_INT(t.process_create_time, 1600000000);
	triage_free(&t);
	free(b.d);
}

TEST(synthetic_memory_lists)
{
	struct mb b;
	struct triage t;
	struct ds_err e;
	uint32_t at, data, mi;

	/* MemoryInfoList with a bigger header and entries than today's structs */
	mb_init(&b, 3, 0, 2 /* MiniDumpWithFullMemory */);
	mi = mb_stream(&b, 16, NULL, 24 + 3 * 64);
	mb_set32(&b, mi, 24);
	mb_set32(&b, mi + 4, 64);
	mb_set64(&b, mi + 8, 3);
	data = mb_put(&b, NULL, 0x30);
	at = mb_stream(&b, 9, NULL, 16 + 2 * 16);
	mb_set64(&b, at, 2);
	mb_set64(&b, at + 8, data);
	mb_set64(&b, at + 16, 0x1000);
	mb_set64(&b, at + 24, 0x10);
	mb_set64(&b, at + 32, 0x2000);
	mb_set64(&b, at + 40, 0x20);
	CHECK_INT(read_mem(b.d, b.len, &t, &e), DS_OK);
	CHECK_U64(t.mem_regions, 3);
	CHECK_U64(t.mem_ranges, 2);
	CHECK_U64(t.mem_bytes, 0x30);
	CHECK_INT(t.full_memory, 1);
	triage_free(&t);
	/* Memory64 data claimed past the end of the file */
	mb_set64(&b, at + 40, b.len - 0x10);
	CHECK_INT(read_mem(b.d, b.len, &t, &e), DS_ECORRUPT);
	CHECK_U64(e.offset, at + 8);
	triage_free(&t);
	mb_set64(&b, at + 40, 0x20);
	/* lying MemoryInfoList count, then an entry size below the struct's */
	mb_set64(&b, mi + 8, 4);
	CHECK_INT(read_mem(b.d, b.len, &t, &e), DS_ECORRUPT);
	CHECK_U64(e.offset, mi + 8);
	triage_free(&t);
	mb_set64(&b, mi + 8, 3);
	mb_set32(&b, mi + 4, 40);
	CHECK_INT(read_mem(b.d, b.len, &t, &e), DS_ECORRUPT);
	CHECK_U64(e.offset, mi);
	triage_free(&t);
	free(b.d);
}

TEST(synthetic_lying_counts_and_locations)
{
	struct mb b;
	struct triage t;
	struct ds_err e;
	static const uint32_t ids[] = { 1 };
	uint32_t at, name;

	/* thread count far beyond its stream */
	mb_init(&b, 1, 0, 0);
	at = thread_list(&b, ids, 1, 0);
	mb_set32(&b, at, 0x7fffffff);
	CHECK_INT(read_mem(b.d, b.len, &t, &e), DS_ECORRUPT);
	CHECK_U64(e.offset, at);
	triage_free(&t);
	mb_set32(&b, at, 2);
	CHECK_INT(read_mem(b.d, b.len, &t, &e), DS_ECORRUPT);
	triage_free(&t);
	/* stream RVA past the end: the directory entry is blamed */
	mb_set32(&b, at, 1);
	mb_set32(&b, 32 + 8, (uint32_t)b.len);
	CHECK_INT(read_mem(b.d, b.len, &t, &e), DS_ECORRUPT);
	CHECK_U64(e.offset, 32);
	triage_free(&t);
	/* directory past the end */
	mb_set32(&b, 32 + 8, at);
	mb_set32(&b, 8, 1000);
	CHECK_INT(read_mem(b.d, b.len, &t, &e), DS_ECORRUPT);
	CHECK_U64(e.offset, 12);
	triage_free(&t);
	/* wrong version */
	mb_set32(&b, 8, 1);
	mb_set32(&b, 4, 0xa794);
	CHECK_INT(read_mem(b.d, b.len, &t, &e), DS_ECORRUPT);
	CHECK_U64(e.offset, 4);
	triage_free(&t);
	/* not a minidump at all */
	memcpy(b.d, "MDMQ", 4);
	CHECK_INT(read_mem(b.d, b.len, &t, &e), DS_EFORMAT);
	triage_free(&t);
	free(b.d);

	/* module name string longer than the file, then its RVA outside the file */
	mb_init(&b, 1, 0, 0);
	at = mb_stream(&b, 4, NULL, 4 + 108);
	mb_set32(&b, at, 1);
	name = mb_string(&b, "x.dll");
	mb_set32(&b, at + 4 + 20, name);
	mb_set32(&b, name, 0x7ffffff0);
	CHECK_INT(read_mem(b.d, b.len, &t, &e), DS_ECORRUPT);
	CHECK_U64(e.offset, name);
	triage_free(&t);
	mb_set32(&b, at + 4 + 20, (uint32_t)b.len - 2);
	CHECK_INT(read_mem(b.d, b.len, &t, &e), DS_ECORRUPT);
	CHECK_U64(e.offset, at + 4 + 20);
	triage_free(&t);
	free(b.d);
}

TEST(synthetic_long_name_is_capped)
{
	struct mb b;
	struct triage t;
	struct ds_err e;
	size_t n = 100000, i;
	uint16_t *u = malloc(n * 2);
	uint32_t at;

	CHECK(u != NULL);
	if (u == NULL)
		return;
	for (i = 0; i < n; i++)
		u[i] = 0x4e2d; /* 3 bytes in UTF-8 */
	mb_init(&b, 1, 0, 0);
	at = mb_stream(&b, 4, NULL, 4 + 108);
	mb_set32(&b, at, 1);
	mb_set32(&b, at + 4 + 20, mb_string16(&b, u, n));
	CHECK_INT(read_mem(b.d, b.len, &t, &e), DS_OK);
	if (t.nmodules == 1) {
		CHECK(strlen(t.modules[0].path) < TRIAGE_MAX_STRING);
		CHECK(strlen(t.modules[0].path) > TRIAGE_MAX_STRING / 2);
		CHECK_INT(strlen(t.modules[0].path) % 3, 0); /* cut between characters */
	}
	triage_free(&t);
	free(b.d);
	free(u);
}

TEST(synthetic_linux_streams)
{
	struct mb b;
	struct triage t;
	struct ds_err e;
	static const char status[] = "Name:\tmyproc\nState:\tR\nPid:\t4242\nUid:\t1000\t1000\t1000\t1000\n";
	static const char cmd[] = "/usr/bin/myproc\0--flag\0value\0";
	static const char env[] = "SECRET=hunter2\0";
	uint32_t csd;

	mb_init(&b, 5, 0, 0);
	csd = mb_sysinfo(&b, 9, 2, 0, 0, 0, 0x8201);
	mb_set32(&b, csd + 24, mb_string(&b, "Linux 5.15.0-91-generic #101-Ubuntu SMP x86_64"));
	mb_stream(&b, 0x47670004, status, sizeof(status) - 1);
	mb_stream(&b, 0x47670006, cmd, sizeof(cmd) - 1);
	mb_stream(&b, 0x47670007, env, sizeof(env) - 1);
	CHECK_INT(read_mem(b.d, b.len, &t, &e), DS_OK);
	CHECK_STR(t.os, "linux");
	CHECK_STR(t.os_version, "5.15.0");
	CHECK_STR(t.writer, "breakpad");
	CHECK_INT(t.has_pid, 1);
	CHECK_U64(t.pid, 4242);
	CHECK_INT(t.has_uid, 1);
	CHECK_U64(t.uid, 1000);
	CHECK_STR(t.process_name, "myproc");
	CHECK_STR(t.command_line, "/usr/bin/myproc --flag value");
	CHECK(t.exc.present == 0);
	triage_free(&t);
	free(b.d);
}

TEST(synthetic_duplicate_stream_rejected)
{
	struct mb b;
	struct triage t;
	struct ds_err e;

	mb_init(&b, 3, 0, 0);
	mb_sysinfo(&b, 9, 2, 10, 0, 1, 2);
	mb_stream(&b, 0x12345678, "x", 1); /* unknown: ignored */
	mb_sysinfo(&b, 9, 2, 10, 0, 1, 2);
	CHECK_INT(read_mem(b.d, b.len, &t, &e), DS_ECORRUPT);
	CHECK_U64(e.offset, 32 + 2 * 12);
	triage_free(&t);
	free(b.d);
}

TEST(synthetic_thread_names_many_and_repeated_ids)
{
	struct mb b;
	struct triage t;
	struct ds_err e;
	uint32_t n = 5000, i, at, names[3];

	mb_init(&b, 2, 0, 0);
	at = mb_stream(&b, 3, NULL, 4 + 48 * (size_t)n);
	mb_set32(&b, at, n);
	for (i = 0; i < n; i++)
		mb_set32(&b, at + 4 + 48 * i, i < n - 1 ? 100000 - i : 100000); /* the last repeats the first */
	names[0] = mb_string(&b, "first");
	names[1] = mb_string(&b, "other");
	names[2] = mb_string(&b, "");
	at = mb_stream(&b, 24, NULL, 4 + 12 * (size_t)n);
	mb_set32(&b, at, n);
	for (i = 0; i < n; i++) {
		mb_set32(&b, at + 4 + 12 * i, 100000 - i);
		mb_set64(&b, at + 8 + 12 * i, i == 0 ? names[0] : i == 1 ? names[2] : names[1]);
	}
	CHECK_INT(read_mem(b.d, b.len, &t, &e), DS_OK);
	CHECK_INT(t.nthreads, n);
	if (t.nthreads == n) {
		CHECK_STR(t.threads[0].name, "first");
		CHECK(t.threads[1].name == NULL); /* an empty name is no name */
		CHECK_STR(t.threads[2].name, "other");
		CHECK_STR(t.threads[n - 2].name, "other");
		CHECK(t.threads[n - 1].name == NULL); /* repeated id: the name went to the first */
	}
	triage_free(&t);
	free(b.d);
}

TEST(synthetic_names_budget_bounds_the_work)
{
	struct mb b;
	struct triage t;
	struct ds_err e;
	uint32_t n = 3000, i, at, name;
	uint16_t *u = calloc(16384, 2);

	CHECK(u != NULL);
	if (u == NULL)
		return;
	u[1] = 'x'; /* starts with a NUL: reads 32 KiB, keeps "" */
	mb_init(&b, 1, 0, 0);
	at = mb_stream(&b, 4, NULL, 4 + 108 * (size_t)n);
	name = mb_string16(&b, u, 16384);
	mb_set32(&b, at, n);
	for (i = 0; i < n; i++)
		mb_set32(&b, at + 4 + 108 * i + 20, name);
	/* each name reads at most 2 x TRIAGE_MAX_STRING bytes, whatever its length field says */
	CHECK_INT(read_mem(b.d, b.len, &t, &e), DS_OK);
	CHECK_INT(t.nmodules, n);
	CHECK(t.bytes_read < (uint64_t)n * 2 * TRIAGE_MAX_STRING + b.len);
	triage_free(&t);
	/* the same with a few modules is fine */
	mb_set32(&b, at, 10);
	CHECK_INT(read_mem(b.d, b.len, &t, &e), DS_OK);
	CHECK_INT(t.nmodules, 10);
	triage_free(&t);
	free(b.d);
	free(u);
}

/* Issue 12 item 3: 100,000 modules and threads sharing one long name made the reader allocate 32 KiB
 * per name (3 GB). Now the counts are capped, every name is allocated at its size, the total is
 * bounded by TRIAGE_STRING_BUDGET, and the dump is still read, saying what was left out. */
TEST(synthetic_hostile_counts_are_capped_not_fatal)
{
	struct mb b;
	struct triage t;
	struct ds_err e;
	uint32_t n = 100000, i, mods, thr, name;
	uint16_t *u = malloc(2 * 3000);
	uint64_t total = 0;
	size_t k;

	CHECK(u != NULL);
	if (u == NULL)
		return;
	for (k = 0; k < 3000; k++)
		u[k] = (uint16_t)('a' + k % 26);
	mb_init(&b, 3, 0, 0);
	mods = mb_stream(&b, 4, NULL, 4 + 108 * (size_t)n);
	thr = mb_stream(&b, 3, NULL, 4 + 48 * (size_t)n);
	name = mb_string16(&b, u, 3000);
	mb_set32(&b, mods, n);
	mb_set32(&b, thr, n);
	for (i = 0; i < n; i++) {
		mb_set32(&b, mods + 4 + 108 * i + 20, name);
		mb_set32(&b, thr + 4 + 48 * i, i + 1);
	}
	CHECK_INT(read_mem(b.d, b.len, &t, &e), DS_OK);
	CHECK_INT(t.nmodules, TRIAGE_MAX_MODULES);
	CHECK_INT(t.nthreads, TRIAGE_MAX_THREADS);
	CHECK((t.truncated & TRIAGE_TRUNC_MODULES) && (t.truncated & TRIAGE_TRUNC_THREADS));
	CHECK(t.truncated & TRIAGE_TRUNC_STRINGS); /* 10,000 x 3,000 bytes is over the budget */
	for (k = 0; k < t.nmodules; k++)
		total += strlen(t.modules[k].path) + strlen(t.modules[k].name) + 2;
	CHECK(total <= TRIAGE_STRING_BUDGET + 2 * (uint64_t)t.nmodules);
	CHECK_INT(strlen(t.modules[0].path), 3000);
	CHECK_STR(t.modules[t.nmodules - 1].path, ""); /* past the budget: no name, still a module */
	triage_free(&t);
	free(b.d);
	free(u);
}

/* A one-module dump whose main module is named `name` (UTF-16 from bytes), triaged and finished. */
static int t_named(const char *name, struct triage *t)
{
	struct mb b;
	struct ds_err e;
	uint32_t at;
	int rc;

	mb_init(&b, 1, 0, 0);
	at = mb_stream(&b, 4, NULL, 4 + 108);
	mb_set32(&b, at, 1);
	mb_set32(&b, at + 4 + 20, mb_string(&b, name));
	rc = read_mem(b.d, b.len, t, &e);
	if (rc == DS_OK)
		rc = triage_finish(t);
	free(b.d);
	return rc;
}

/* Issue 12 item 7: a process name over ~4 KB failed triage with exit 1 (the bucket outgrew its buffer);
 * '|' in a name was not escaped and CR became a space, so "a|b", "a b" and "a\rb" could share buckets. */
TEST(synthetic_long_and_odd_names_bucket_apart)
{
	static const char *const odd[] = { "a|b.exe", "a b.exe", "a\rb.exe", "a\nb.exe", "a%7Cb.exe", "a\x1b[31mb.exe" };
	char *big = malloc(6001), *keys[6] = { 0 };
	struct triage t;
	size_t i, j;

	CHECK(big != NULL);
	if (big == NULL)
		return;
	memset(big, 'n', 6000);
	big[6000] = '\0';
	CHECK_INT(t_named(big, &t), DS_OK);
	CHECK(t.process_name != NULL && strlen(t.process_name) < TRIAGE_MAX_STRING && strlen(t.process_name) >= TRIAGE_MAX_STRING - 4);
	CHECK(t.truncated & TRIAGE_TRUNC_STRINGS);
	CHECK(t.bucket != NULL && strlen(t.bucket) < 300);
	triage_free(&t);
	/* two long names with the same first 200 bytes still bucket apart */
	big[3000] = 'm';
	CHECK_INT(t_named(big, &t), DS_OK);
	keys[0] = t.bucket != NULL ? strdup(t.bucket) : NULL;
	triage_free(&t);
	big[3000] = 'o';
	CHECK_INT(t_named(big, &t), DS_OK);
	CHECK(keys[0] != NULL && t.bucket != NULL && strcmp(keys[0], t.bucket) != 0);
	triage_free(&t);
	free(keys[0]);
	free(big);
	for (i = 0; i < DS_ARRAY_LEN(odd); i++) {
		CHECK_INT(t_named(odd[i], &t), DS_OK);
		keys[i] = t.bucket != NULL ? strdup(t.bucket) : NULL;
		CHECK(keys[i] != NULL && strchr(keys[i], '\r') == NULL && strchr(keys[i], '\x1b') == NULL);
		/* the app part is the first '|'-separated field: it holds no '|' of the name */
		CHECK(keys[i] != NULL && strncmp(keys[i], "a", 1) == 0 && strchr(keys[i], '|') != NULL &&
		      strchr(keys[i], '|') > strstr(keys[i], "b.exe"));
		triage_free(&t);
	}
	for (i = 0; i < DS_ARRAY_LEN(odd); i++)
		for (j = i + 1; j < DS_ARRAY_LEN(odd); j++)
			if (keys[i] != NULL && keys[j] != NULL && strcmp(keys[i], keys[j]) == 0)
				T_FAIL_("'%s' and '%s' share the bucket %s", odd[i], odd[j], keys[i]);
	for (i = 0; i < DS_ARRAY_LEN(odd); i++)
		free(keys[i]);
}

static uint32_t t_ld32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Issue 12 item 8: a minidump whose streams overlap was read silently. Made from a real corpus dump by
 * pointing its second non-empty stream into the first; it is refused as corrupt (exit 2), the message
 * naming the directory entry that was changed. */
TEST(corpus_overlapping_streams_rejected)
{
	size_t len, i, first = 0, nfound = 0;
	unsigned char *d = (unsigned char *)slurp("breakpad__minidump2.dmp", &len);
	uint32_t n, dir, rva0 = 0;
	struct triage t;
	struct ds_err e;
	uint64_t changed = 0;

	CHECK(d != NULL);
	if (d == NULL)
		return;
	CHECK_INT(read_mem(d, len, &t, &e), DS_OK); /* as written: fine */
	triage_free(&t);
	n = t_ld32(d + 8);
	dir = t_ld32(d + 12);
	for (i = 0; i < n && nfound < 2; i++) {
		unsigned char *ent = d + dir + 12 * i;

		if (t_ld32(ent) == 0 || t_ld32(ent + 4) < 8)
			continue;
		if (nfound++ == 0) {
			first = i;
			rva0 = t_ld32(ent + 8);
		} else {
			uint32_t r = rva0 + 4;

			memcpy(ent + 8, &r, 4); /* little-endian host assumed by the corpus tests */
			changed = dir + 12 * (uint64_t)i;
		}
	}
	CHECK_INT(nfound, 2);
	(void)first;
	CHECK_INT(read_mem(d, len, &t, &e), DS_ECORRUPT);
	CHECK(e.has_offset);
	CHECK_U64(e.offset, changed);
	CHECK(strstr(e.msg, "overlaps") != NULL);
	triage_free(&t);
	free(d);
}

/* coreclr's file version to the product version, with the values of the real runtime packs' coreclr.dll
 * (FileVersion resource 10,0,1226,42308 in the 10.0.12 pack, 8,0,3126,42015 in the 8.0.31 pack). */
TEST(coreclr_file_version_maps_to_product_version)
{
	char out[48] = "untouched";
	struct mb b;
	struct triage t;
	struct ds_err e;
	uint32_t at, name;

	CHECK_INT(triage_product_version("10.0.1226.42308", out, sizeof(out)), 1);
	CHECK_STR(out, "10.0.12");
	CHECK_INT(triage_product_version("8.0.3126.42015", out, sizeof(out)), 1);
	CHECK_STR(out, "8.0.31");
	strcpy(out, "untouched");
	CHECK_INT(triage_product_version("10.0.12", out, sizeof(out)), 0);         /* already a product version */
	CHECK_INT(triage_product_version("4.700.20.56602", out, sizeof(out)), 0);  /* .NET Core 3.x scheme */
	CHECK_INT(triage_product_version("10.0.1226.42308x", out, sizeof(out)), 0);
	CHECK_INT(triage_product_version("10.0.1226.42308.1", out, sizeof(out)), 0);
	CHECK_INT(triage_product_version("10..1226.1", out, sizeof(out)), 0);
	CHECK_INT(triage_product_version("10.0.9999999999.1", out, sizeof(out)), 0);
	CHECK_INT(triage_product_version(NULL, out, sizeof(out)), 0);
	CHECK_STR(out, "untouched");

	/* a self-contained app: coreclr.dll beside the app, so only its file version tells the runtime */
	mb_init(&b, 1, 0, 0);
	at = mb_stream(&b, 4, NULL, 4 + 108);
	mb_set32(&b, at, 1);
	name = mb_string(&b, "C:\\app\\coreclr.dll");
	mb_set64(&b, at + 4, 0x7ff800000000ull);
	mb_set32(&b, at + 4 + 8, 0x500000);
	mb_set32(&b, at + 4 + 20, name);
	mb_set32(&b, at + 4 + 24, 0xfeef04bd);
	mb_set32(&b, at + 4 + 32, (10u << 16) | 0u);
	mb_set32(&b, at + 4 + 36, (1226u << 16) | 42308u);
	CHECK_INT(read_mem(b.d, b.len, &t, &e), DS_OK);
	CHECK_INT(triage_finish(&t), DS_OK);
	CHECK_STR(t.runtime_name, "coreclr");
	CHECK_STR(t.runtime_version, "10.0.12");
	triage_free(&t);
	free(b.d);
}

#ifndef _WIN32
/* DAC lookup by a file version finds the shared runtime folder named by the product version. */
TEST(dac_lookup_by_file_version)
{
	char root[] = "/tmp/ds_dacXXXXXX", dir[256], file[300], why[1024];
	char *path = NULL;
	FILE *f;

	CHECK(mkdtemp(root) != NULL);
	snprintf(dir, sizeof(dir), "%s/shared", root);
	CHECK(mkdir(dir, 0700) == 0);
	snprintf(dir, sizeof(dir), "%s/shared/Microsoft.NETCore.App", root);
	CHECK(mkdir(dir, 0700) == 0);
	snprintf(dir, sizeof(dir), "%s/shared/Microsoft.NETCore.App/10.0.12", root);
	CHECK(mkdir(dir, 0700) == 0);
	snprintf(file, sizeof(file), "%s/%s", dir, heap_dac_name());
	f = fopen(file, "w");
	CHECK(f != NULL);
	if (f != NULL)
		fclose(f);
	CHECK(setenv("DOTNET_ROOT", root, 1) == 0);
	CHECK_INT(heap_find_dac("10.0.1226.42308", NULL, NULL, 0, &path, why, sizeof(why)), DS_OK);
	CHECK(path != NULL && strcmp(path, file) == 0);
	free(path);
	path = NULL;
	CHECK_INT(heap_find_dac("10.0.1326.42308", NULL, NULL, 0, &path, why, sizeof(why)), DS_ENOENT);
	CHECK(strstr(why, "10.0.13") != NULL);
	free(path);
	remove(file);
	rmdir(dir);
	snprintf(dir, sizeof(dir), "%s/shared/Microsoft.NETCore.App", root);
	rmdir(dir);
	snprintf(dir, sizeof(dir), "%s/shared", root);
	rmdir(dir);
	rmdir(root);
}
#endif

int main(void)
{
	RUN(minidump2_modules_match_breakpad_gold);
	RUN(minidump2_process_exception_system);
	RUN(linux_mini_matches_rust_minidump_json);
	RUN(macos_segv_matches_rust_minidump_json);
	RUN(corpus_dumps_match_sources_md);
	RUN(lldb_linux_x86_64_pid_and_thread);
	RUN(lldb_fizzbuzz_pid);
	RUN(sigsegv_exception_address_matches_lldb_gold);
	RUN(tiny_exe_handles_unloaded_meminfo);
	RUN(regions_memlist64_two_ranges);
	RUN(stack_exhaustion_reads_little_of_a_big_dump);
	RUN(thread_names_attached);
	RUN(negative_and_corrupt_files_rejected);
	RUN(file_and_memory_sources_agree);
	RUN(truncated_dumps_fail_cleanly);
	RUN(synthetic_padded_lists_and_names);
	RUN(synthetic_exception_rules);
	RUN(synthetic_misc_info_flags_and_sizes);
	RUN(synthetic_memory_lists);
	RUN(synthetic_lying_counts_and_locations);
	RUN(synthetic_long_name_is_capped);
	RUN(synthetic_linux_streams);
	RUN(synthetic_duplicate_stream_rejected);
	RUN(synthetic_thread_names_many_and_repeated_ids);
	RUN(synthetic_names_budget_bounds_the_work);
	RUN(synthetic_hostile_counts_are_capped_not_fatal);
	RUN(synthetic_long_and_odd_names_bucket_apart);
	RUN(corpus_overlapping_streams_rejected);
	RUN(coreclr_file_version_maps_to_product_version);
#ifndef _WIN32
	RUN(dac_lookup_by_file_version);
#endif
	return t_total_failed != 0;
}
