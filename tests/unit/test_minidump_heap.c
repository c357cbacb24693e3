/* test_minidump_heap.c - the minidump reader's has_heap decision: synthetic dumps of one made-up
 * process written as each kind of dump (full memory, heap-only custom flags, mini; with and without a
 * MemoryInfoList, with header flags that promise memory the file does not hold), and every minidump
 * of the shared corpus. The real Windows .NET dumps are checked by tests/e2e/test_windows_heap.sh. */
#include "t.h"

#include "analyzer/dsrc.h"
#include "analyzer/minidump.h"
#include "analyzer/triage.h"
#include "mdmp_build.h"

#define MIB (1u << 20)

/* MINIDUMP_TYPE flags, as a writer would set them */
#define F_FULL_MEMORY 0x2u
#define F_PRIVATE_RW 0x200u
#define F_FULL_MEMORY_INFO 0x800u

/* MEMORY_BASIC_INFORMATION values */
#define COMMIT 0x1000u
#define RESERVE 0x2000u
#define PRIVATE 0x20000u
#define MAPPED 0x40000u
#define IMAGE 0x1000000u
#define RO 0x02u
#define RW 0x04u
#define WCOPY 0x08u
#define GUARD 0x100u

struct region {
	uint64_t base, size;
	uint32_t state, protect, type;
};

/* The made-up process: an image, a thread stack with its guard page, a GC heap (committed, with a
 * large reservation after it), a native heap, read-only private memory and a mapped read-write view.
 * Committed private read-write: stack 128 KiB + GC heap 2 MiB + native heap 1 MiB. */
#define IMG 0x140000000ull
#define STACK 0x100e0000ull
#define STACK_SIZE 0x20000u
#define GCHEAP 0x20000000ull
#define NATIVE 0x30000000ull
#define READONLY 0x40000000ull
#define VIEW 0x50000000ull

static const struct region proc[] = {
	{ IMG, MIB, COMMIT, WCOPY, IMAGE },
	{ STACK - 0x1000, 0x1000, COMMIT, RW | GUARD, PRIVATE },
	{ STACK, STACK_SIZE, COMMIT, RW, PRIVATE },
	{ GCHEAP, 2 * MIB, COMMIT, RW, PRIVATE },
	{ GCHEAP + 2 * MIB, 256 * MIB, RESERVE, 0, PRIVATE },
	{ NATIVE, MIB, COMMIT, RW, PRIVATE },
	{ READONLY, MIB, COMMIT, RO, PRIVATE },
	{ VIEW, MIB, COMMIT, RW, MAPPED },
};

struct range {
	uint64_t start, size;
};

static int read_mem(const void *p, size_t n, struct triage *t, struct ds_err *e)
{
	struct dsrc src;

	memset(e, 0, sizeof(*e));
	triage_init(t);
	dsrc_init_mem(&src, p, n);
	return minidump_read(&src, t, e);
}

/* MINIDUMP_MEMORY_INFO_LIST of the whole process. */
static void meminfo(struct mb *b)
{
	uint32_t at = mb_stream(b, 16, NULL, 16 + 48 * DS_ARRAY_LEN(proc)), i;

	mb_set32(b, at, 16);
	mb_set32(b, at + 4, 48);
	mb_set64(b, at + 8, DS_ARRAY_LEN(proc));
	for (i = 0; i < DS_ARRAY_LEN(proc); i++) {
		uint32_t e = at + 16 + 48 * i;

		mb_set64(b, e, proc[i].base);
		mb_set64(b, e + 8, proc[i].base);
		mb_set64(b, e + 24, proc[i].size);
		mb_set32(b, e + 32, proc[i].state);
		mb_set32(b, e + 36, proc[i].protect);
		mb_set32(b, e + 40, proc[i].type);
	}
}

/* One thread whose stack is the process's stack, and the one module. */
static void thread_and_module(struct mb *b)
{
	uint32_t at = mb_stream(b, 3, NULL, 4 + 48), name;

	mb_set32(b, at, 1);
	mb_set32(b, at + 4, 77);
	mb_set64(b, at + 4 + 24, STACK);
	mb_set32(b, at + 4 + 32, STACK_SIZE);
	name = mb_string(b, "C:\\app\\Host.exe");
	at = mb_stream(b, 4, NULL, 4 + 108);
	mb_set32(b, at, 1);
	mb_set64(b, at + 4, IMG);
	mb_set32(b, at + 4 + 8, MIB);
	mb_set32(b, at + 4 + 20, name);
}

/* A MemoryList (32-bit sizes) holding ranges, their bytes zero-filled in the file. */
static void memlist(struct mb *b, const struct range *r, uint32_t n)
{
	uint32_t at = mb_stream(b, 5, NULL, 4 + 16 * (size_t)n), i;

	mb_set32(b, at, n);
	for (i = 0; i < n; i++) {
		uint32_t data = mb_put(b, NULL, (size_t)r[i].size);

		mb_set64(b, at + 4 + 16 * i, r[i].start);
		mb_set32(b, at + 4 + 16 * i + 8, (uint32_t)r[i].size);
		mb_set32(b, at + 4 + 16 * i + 12, data);
	}
}

/* A Memory64List holding ranges, their bytes one block after another. */
static void mem64(struct mb *b, const struct range *r, uint32_t n)
{
	uint64_t total = 0;
	uint32_t at, data, i;

	for (i = 0; i < n; i++)
		total += r[i].size;
	data = mb_put(b, NULL, (size_t)total);
	at = mb_stream(b, 9, NULL, 16 + 16 * (size_t)n);
	mb_set64(b, at, n);
	mb_set64(b, at + 8, data);
	for (i = 0; i < n; i++) {
		mb_set64(b, at + 16 + 16 * i, r[i].start);
		mb_set64(b, at + 16 + 16 * i + 8, r[i].size);
	}
}

enum list_kind { NO_LIST, MEMLIST, MEM64 };

/* Writes the process as a dump with the given header flags, memory info or not, holding ranges r in
 * the given list; returns has_heap (or -1 when the dump did not read). */
static int heap_of(uint64_t flags, int with_meminfo, enum list_kind list, const struct range *r, uint32_t n)
{
	struct mb b;
	struct triage t;
	struct ds_err e;
	int rc, has;

	mb_init(&b, 5, 0, flags);
	mb_sysinfo(&b, 9, 2, 10, 0, 19045, 2);
	thread_and_module(&b);
	if (with_meminfo)
		meminfo(&b);
	if (list == MEMLIST)
		memlist(&b, r, n);
	else if (list == MEM64)
		mem64(&b, r, n);
	rc = read_mem(b.d, b.len, &t, &e);
	if (rc != DS_OK)
		T_FAIL_("synthetic dump: %s (%s)", ds_strerror(rc), e.msg);
	has = rc == DS_OK ? t.has_heap : -1;
	triage_free(&t);
	free(b.d);
	return has;
}

/* Every committed readable region: what a full-memory writer stores. */
static const struct range full[] = {
	{ IMG, MIB }, { STACK, STACK_SIZE }, { GCHEAP, 2 * MIB }, { NATIVE, MIB }, { READONLY, MIB }, { VIEW, MIB },
};
/* The committed private read-write regions: what MiniDumpWithPrivateReadWriteMemory adds. */
static const struct range heaps[] = { { STACK, STACK_SIZE }, { GCHEAP, 2 * MIB }, { NATIVE, MIB } };
/* The used part of the stack and a block the writer saved around a pointer: a mini dump. */
static const struct range mini[] = { { STACK + 0x1c000, 0x4000 }, { GCHEAP + 0x1000, 0x100 } };

TEST(full_memory_dump_has_heap)
{
	CHECK_INT(heap_of(F_FULL_MEMORY | F_FULL_MEMORY_INFO, 1, MEM64, full, DS_ARRAY_LEN(full)), 1);
	/* the same memory without the flag: the memory decides */
	CHECK_INT(heap_of(0, 1, MEM64, full, DS_ARRAY_LEN(full)), 1);
}

TEST(heap_only_custom_flags_dump_has_heap)
{
	CHECK_INT(heap_of(F_PRIVATE_RW | F_FULL_MEMORY_INFO, 1, MEMLIST, heaps, DS_ARRAY_LEN(heaps)), 1);
	CHECK_INT(heap_of(F_PRIVATE_RW | F_FULL_MEMORY_INFO, 1, MEM64, heaps, DS_ARRAY_LEN(heaps)), 1);
}

TEST(mini_dump_has_no_heap)
{
	CHECK_INT(heap_of(0, 1, MEMLIST, mini, DS_ARRAY_LEN(mini)), 0);
	CHECK_INT(heap_of(0, 0, MEMLIST, mini, DS_ARRAY_LEN(mini)), 0);
	CHECK_INT(heap_of(0, 1, NO_LIST, NULL, 0), 0);
}

TEST(flags_that_promise_memory_the_file_lacks_give_no_heap)
{
	/* Wine's dbghelp records the heap flag and writes only stacks and small blocks */
	CHECK_INT(heap_of(F_PRIVATE_RW | F_FULL_MEMORY_INFO, 1, MEMLIST, mini, DS_ARRAY_LEN(mini)), 0);
	CHECK_INT(heap_of(F_FULL_MEMORY | F_PRIVATE_RW, 0, MEMLIST, mini, DS_ARRAY_LEN(mini)), 0);
	CHECK_INT(heap_of(F_FULL_MEMORY | F_FULL_MEMORY_INFO, 1, MEM64, mini, DS_ARRAY_LEN(mini)), 0);
}

TEST(half_of_the_private_read_write_memory_must_be_there)
{
	/* private RW: 128 KiB + 2 MiB + 1 MiB; the GC heap alone is more than half, the native heap and
	 * the stack are less */
	static const struct range gc[] = { { GCHEAP, 2 * MIB } };
	static const struct range native[] = { { STACK, STACK_SIZE }, { NATIVE, MIB } };
	/* memory that is not private read-write does not count */
	static const struct range other[] = { { IMG, MIB }, { READONLY, MIB }, { VIEW, MIB }, { STACK - 0x1000, 0x1000 } };

	CHECK_INT(heap_of(0, 1, MEM64, gc, DS_ARRAY_LEN(gc)), 1);
	CHECK_INT(heap_of(0, 1, MEM64, native, DS_ARRAY_LEN(native)), 0);
	CHECK_INT(heap_of(F_FULL_MEMORY, 1, MEM64, other, DS_ARRAY_LEN(other)), 0);
}

TEST(memory_listed_twice_counts_once)
{
	static const struct range again[] = {
		{ NATIVE, MIB }, { NATIVE, MIB }, { NATIVE, MIB }, { NATIVE + 0x1000, MIB - 0x1000 }, { STACK, STACK_SIZE },
	};

	CHECK_INT(heap_of(0, 1, MEMLIST, again, DS_ARRAY_LEN(again)), 0);
}

TEST(without_memory_info_the_memory_outside_images_and_stacks_decides)
{
	/* what Wine writes for a full dump: a Memory64List and no MemoryInfoList */
	static const struct range known[] = { { IMG, MIB }, { STACK, STACK_SIZE } };
	static const struct range heap[] = { { GCHEAP, 2 * MIB } };

	CHECK_INT(heap_of(F_FULL_MEMORY | F_FULL_MEMORY_INFO, 0, MEM64, full, DS_ARRAY_LEN(full)), 1);
	CHECK_INT(heap_of(0, 0, MEM64, heap, DS_ARRAY_LEN(heap)), 1);
	CHECK_INT(heap_of(F_FULL_MEMORY, 0, MEM64, known, DS_ARRAY_LEN(known)), 0);
	CHECK_INT(heap_of(F_FULL_MEMORY, 0, MEM64, mini, DS_ARRAY_LEN(mini)), 0);
}

/* The corpus: winedump (a peer reader) shows that none of these asks for heap memory - Flags without
 * MiniDumpWithFullMemory (0x2) or MiniDumpWithPrivateReadWriteMemory (0x200) - and that their memory
 * ranges are thread stacks and small blocks, the largest breakpad__stack_exhaustion.dmp's 1 MB of
 * stack (0x102b40-0x200000, its thread's Stack); lldb__regions-memlist64.dmp's Memory64List holds 48
 * bytes (SOURCES.md). So no corpus minidump holds a heap. */
static const char *const corpus[] = {
	"breakpad__exec_av_on_stack.dmp", "breakpad__linux_inline.dmp", "breakpad__linux_raise_sigabrt.dmp",
	"breakpad__minidump2.dmp", "breakpad__minidump_crashpad_annotation.dmp", "breakpad__null_read_av.dmp",
	"breakpad__stack_exhaustion.dmp", "breakpad__thread_name_list.dmp",
	"breakpad__tiny-exe-with-cet-xsave-x86.dmp", "breakpad__tiny-exe-with-cet-xsave.dmp",
	"breakpad__write_av_non_canonical.dmp", "bugsplat__myConsoleCrasher.dmp", "lldb__arm64-macos.dmp",
	"lldb__fizzbuzz_no_heap.dmp", "lldb__linux-i386.dmp", "lldb__linux-x86_64.dmp",
	"lldb__linux-x86_64_not_crashed.dmp", "lldb__regions-memlist64.dmp", "lldb__sigsegv.dmp",
	"rust-minidump__invalid-parameter.dmp", "rust-minidump__linux-mini.dmp",
	"rust-minidump__pipeline-inlines-macos-segv.dmp", "rust-minidump__simple-crashpad.dmp",
};

TEST(no_corpus_minidump_has_a_heap)
{
	size_t i;

	for (i = 0; i < DS_ARRAY_LEN(corpus); i++) {
		char path[512];
		struct triage t;
		struct ds_err e;
		int rc;

		snprintf(path, sizeof(path), T_CORPUS "/dumps/mdmp/%s", corpus[i]);
		memset(&e, 0, sizeof(e));
		rc = triage_read_file(path, &t, &e);
		if (rc != DS_OK)
			T_FAIL_("%s: %s (%s)", corpus[i], ds_strerror(rc), e.msg);
		else if (t.has_heap)
			T_FAIL_("%s: has_heap true", corpus[i]);
		triage_free(&t);
	}
}

TEST(no_heap_advice_follows_the_dump_platform)
{
	struct triage t;

	triage_init(&t);
	snprintf(t.os, sizeof(t.os), "windows");
	CHECK(strstr(triage_no_heap_advice(&t), "LocalDumps DumpType 2") != NULL);
	CHECK(strstr(triage_no_heap_advice(&t), "wer apply") != NULL);
	snprintf(t.os, sizeof(t.os), "linux");
	CHECK(strstr(triage_no_heap_advice(&t), "DOTNET_DbgMiniDumpType=2") != NULL);
	CHECK(strstr(triage_no_heap_advice(&t), "LocalDumps") == NULL);
	triage_free(&t);
}

int main(void)
{
	RUN(full_memory_dump_has_heap);
	RUN(heap_only_custom_flags_dump_has_heap);
	RUN(mini_dump_has_no_heap);
	RUN(flags_that_promise_memory_the_file_lacks_give_no_heap);
	RUN(half_of_the_private_read_write_memory_must_be_there);
	RUN(memory_listed_twice_counts_once);
	RUN(without_memory_info_the_memory_outside_images_and_stacks_decides);
	RUN(no_corpus_minidump_has_a_heap);
	RUN(no_heap_advice_follows_the_dump_platform);
	return t_total_failed != 0;
}
