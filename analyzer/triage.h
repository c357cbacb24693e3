/* triage.h - what native triage learns from a dump without a debugger: the common result that the
 * minidump and ELF-core readers fill, plus .NET runtime detection, the crash bucket and the JSON
 * contract of `dumpscout inspect`. Pure: no processes, no database.
 * Ownership: a struct triage owns every pointer inside it; release with triage_free(). */
#ifndef DS_TRIAGE_H
#define DS_TRIAGE_H

#include <stddef.h>
#include <stdint.h>

#include "core/ds.h"

struct dsrc;

/* The memory budget of one triage (README "Limits"; issue 12 item 3). A dump is written by the process
 * that crashed: whatever it claims, one triage keeps at most this much, and what does not fit is left
 * out, not an error: the triage says so in `truncated` (TRIAGE_TRUNC_* bits) and goes on. */
#define TRIAGE_MAX_THREADS 20000u      /* threads kept (the rest are counted in truncated) */
#define TRIAGE_MAX_MODULES 10000u      /* modules kept, and unloaded modules kept */
#define TRIAGE_MAX_STRING 4096u        /* bytes of one name, path or command line (cut, UTF-8 whole) */
#define TRIAGE_STRING_BUDGET (4u << 20) /* bytes of all names, paths and debug names of one dump */

enum {
	TRIAGE_TRUNC_THREADS = 1,  /* more threads than TRIAGE_MAX_THREADS */
	TRIAGE_TRUNC_MODULES = 2,  /* more (unloaded) modules than TRIAGE_MAX_MODULES */
	TRIAGE_TRUNC_STRINGS = 4,  /* a string cut to TRIAGE_MAX_STRING, or left out past the budget */
	TRIAGE_TRUNC_MAPS = 8,     /* ELF: more NT_FILE mappings than kept */
};

struct triage_module {
	char *name;        /* base name, e.g. "coreclr.dll" (owned, never NULL after a successful read) */
	char *path;        /* full path as recorded (owned, never NULL; may equal name) */
	uint64_t base;
	uint64_t size;
	char version[48];  /* "a.b.c.d" from VS_FIXEDFILEINFO, or "" when absent */
	char *pdb_name;    /* CodeView PDB/debug file name, or NULL */
	char pdb_id[80];   /* GUID+age ("3B4F...A1") or build id (hex), "" when absent */
	uint32_t pdb_age;
};

struct triage_thread {
	uint64_t id;
	char *name;        /* owned, or NULL */
};

struct triage_exception {
	int present;
	int is_signal;          /* ELF cores and Linux minidumps: code is a signal number */
	uint32_t code;          /* exception code, or signal number */
	uint32_t flags;
	uint64_t address;       /* where it happened (exception record address / si_addr for cores) */
	int has_fault_address;  /* access violations: the data address */
	uint64_t fault_address;
	uint64_t thread_id;
	uint32_t nparams;       /* NumberParameters (at most 15 kept) */
	uint64_t params[15];
	char name[64];          /* "EXCEPTION_ACCESS_VIOLATION_WRITE", "SIGSEGV", or "" */
	int has_pc;             /* ELF cores: the crashing thread's instruction pointer is known */
	uint64_t pc;            /* ...from its NT_PRSTATUS registers (for SIGSEGV, address is the data) */
};

struct triage {
	char format[16];        /* "minidump" | "elf-core" */
	char writer[32];        /* best guess of the writer: "windows", "breakpad", "crashpad", "kernel",
				   "gdb", "createdump", or "" */
	char os[32];            /* "windows", "linux", "macos", "ios", "android", "netbsd", ... or "" */
	char os_version[96];    /* e.g. "10.0.19042", or "" */
	char arch[16];          /* "x86", "amd64", "arm64", "arm", "ppc64le", "s390x", "mips64el", ... */
	uint32_t cpu_count;     /* 0 when unknown */
	int has_pid;
	uint64_t pid;
	char *process_name;     /* owned, or NULL */
	char *command_line;     /* owned, or NULL */
	int has_uid;
	uint64_t uid;
	int64_t dump_time;      /* seconds since the epoch (UTC); 0 when unknown */
	int64_t process_create_time; /* seconds since the epoch, 0 when unknown */
	struct triage_exception exc;
	int has_crashing_thread;
	uint64_t crashing_thread_id;
	size_t nthreads;
	struct triage_thread *threads;   /* owned array */
	size_t nmodules;
	struct triage_module *modules;   /* owned array; the main executable first where known */
	size_t nunloaded;
	struct triage_module *unloaded;  /* owned array */
	uint64_t mem_ranges;    /* memory ranges described (MemoryList/Memory64List/PT_LOAD) */
	uint64_t mem_bytes;     /* bytes of memory those ranges hold in the file */
	uint64_t mem_regions;   /* MemoryInfoList entries */
	int has_handles;
	uint64_t handle_count;
	int full_memory;        /* the dump says it is a full-memory dump */
	int has_heap;           /* it holds enough memory for a managed heap analysis */
	char runtime_name[8];   /* "coreclr" | "clr" | "" */
	char runtime_version[48];
	char app_version[48];   /* the main module's file version, or "" */
	char *bucket;           /* owned; computed by triage_finish */
	uint64_t bytes_read;    /* how many bytes the reader fetched (cost accounting) */
	unsigned truncated;     /* TRIAGE_TRUNC_* bits: what the memory budget left out */
	uint64_t string_bytes;  /* bytes of strings kept so far (at most TRIAGE_STRING_BUDGET) */
};

/* Zero-initialises t. */
void triage_init(struct triage *t);
/* Frees everything t owns and zeroes it. */
void triage_free(struct triage *t);

/* Reads a dump of any supported format from src into t (t is initialised here).
 * DS_EFORMAT: not a dump we read; DS_ECORRUPT: damaged (e has the offset). On error t is freed. */
int triage_read(struct dsrc *src, struct triage *t, struct ds_err *e);
/* Same, opening the file at path. */
int triage_read_file(const char *path, struct triage *t, struct ds_err *e);

/* Called by the readers once the raw facts are in: detects the .NET runtime, has_heap defaults,
 * app version and computes the bucket. Idempotent. */
int triage_finish(struct triage *t);

/* Helpers for the readers. triage_take: 1 if n more bytes of strings fit in t's budget (then taken),
 * else 0 with TRIAGE_TRUNC_STRINGS set (the reader leaves the string out). */
int triage_take(struct triage *t, size_t n);
/* Helpers for the readers. */
char *triage_strdup(const char *s);                   /* NULL-safe strdup */
const char *triage_basename(const char *path);        /* after the last / or \ */
/* The folder holding the runtime (libcoreclr.so, coreclr.dll or libcoreclr.dylib) as the dump recorded
 * its path, without the trailing separator: malloc'd, freed by the caller; NULL when the dump names no
 * runtime, its path has no folder, or memory runs out. */
char *triage_runtime_dir(const struct triage *t);
/* Maps coreclr's file version ("10.0.1226.42308": .NET 5 and later put patch*100 + the build year's
 * last two digits in the third part) to the runtime's product version ("10.0.12") in out (outsz bytes).
 * Returns 1 when v was such a file version, else 0 and out untouched. */
int triage_product_version(const char *v, char *out, size_t outsz);
/* Names of Windows exception codes and POSIX signals ("" when unknown). */
const char *triage_exception_name(uint32_t code);
const char *triage_signal_name(uint32_t signo);

/* What to do when t has no heap, for the dump's platform (a static string): on Windows WER LocalDumps
 * DumpType 2 or createdump type 2; elsewhere createdump type 2 or a core with anonymous memory. */
const char *triage_no_heap_advice(const struct triage *t);

/* Renders t as the JSON object of `dumpscout inspect --json` (documented in README.md).
 * `file` is the path to report. Returns a malloc'd NUL-terminated string (caller frees) or NULL. */
char *triage_to_json(const struct triage *t, const char *file, int pretty);

#endif
