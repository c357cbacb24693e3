/* triage.c - the format-independent half of native triage: the triage model, what the readers do not
 * derive themselves (the .NET runtime, the application version, the crash bucket), and the `inspect`
 * JSON contract. It reads no dump bytes; picking the reader is triage_read.c's. */
#include "triage.h"
#include "core/sha256.h"
#include "core/buf.h"
#include "core/plat.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void triage_init(struct triage *t)
{
	memset(t, 0, sizeof(*t));
}

int triage_take(struct triage *t, size_t n)
{
	if (n > TRIAGE_STRING_BUDGET || t->string_bytes > TRIAGE_STRING_BUDGET - n) {
		t->truncated |= TRIAGE_TRUNC_STRINGS;
		return 0;
	}
	t->string_bytes += n;
	return 1;
}

static void triage_free_modules(struct triage_module *m, size_t n)
{
	size_t i;

	for (i = 0; m != NULL && i < n; i++) {
		free(m[i].name);
		free(m[i].path);
		free(m[i].pdb_name);
	}
	free(m);
}

void triage_free(struct triage *t)
{
	size_t i;

	free(t->process_name);
	free(t->command_line);
	for (i = 0; t->threads != NULL && i < t->nthreads; i++)
		free(t->threads[i].name);
	free(t->threads);
	triage_free_modules(t->modules, t->nmodules);
	triage_free_modules(t->unloaded, t->nunloaded);
	free(t->bucket);
	memset(t, 0, sizeof(*t));
}

char *triage_strdup(const char *s)
{
	size_t n;
	char *p;

	if (s == NULL)
		return NULL;
	n = strlen(s);
	p = malloc(n + 1);
	if (p != NULL)
		memcpy(p, s, n + 1);
	return p;
}

const char *triage_basename(const char *path)
{
	const char *p, *base = path;

	if (path == NULL)
		return "";
	for (p = path; *p != '\0'; p++)
		if (*p == '/' || *p == '\\')
			base = p + 1;
	return base;
}

char *triage_runtime_dir(const struct triage *t)
{
	const char *path = "", *base = path;
	char *d = NULL;
	size_t i, n;

	for (i = 0; i < t->nmodules; i++) {
		path = t->modules[i].path ? t->modules[i].path : "";
		base = triage_basename(path);
		if (strcmp(base, "libcoreclr.so") == 0 || strcmp(base, "coreclr.dll") == 0 ||
		    strcmp(base, "libcoreclr.dylib") == 0)
			break;
	}
	if (i == t->nmodules)
		goto out;
	n = (size_t)(base - path);
	if (n < 2 || (d = malloc(n)) == NULL)
		goto out;
	memcpy(d, path, n - 1);
	d[n - 1] = '\0';
out:
	return d;
}

const char *triage_exception_name(uint32_t code)
{
	static const struct {
		uint32_t code;
		const char *name;
	} names[] = {
		{ 0x80000003u, "EXCEPTION_BREAKPOINT" },
		{ 0x80000004u, "EXCEPTION_SINGLE_STEP" },
		{ 0x80000002u, "EXCEPTION_DATATYPE_MISALIGNMENT" },
		{ 0xc0000005u, "EXCEPTION_ACCESS_VIOLATION" },
		{ 0xc0000006u, "EXCEPTION_IN_PAGE_ERROR" },
		{ 0xc0000008u, "EXCEPTION_INVALID_HANDLE" },
		{ 0xc000000du, "STATUS_INVALID_PARAMETER" },
		{ 0xc0000017u, "STATUS_NO_MEMORY" },
		{ 0xc000001du, "EXCEPTION_ILLEGAL_INSTRUCTION" },
		{ 0xc0000025u, "EXCEPTION_NONCONTINUABLE_EXCEPTION" },
		{ 0xc0000026u, "EXCEPTION_INVALID_DISPOSITION" },
		{ 0xc000008cu, "EXCEPTION_ARRAY_BOUNDS_EXCEEDED" },
		{ 0xc000008du, "EXCEPTION_FLT_DENORMAL_OPERAND" },
		{ 0xc000008eu, "EXCEPTION_FLT_DIVIDE_BY_ZERO" },
		{ 0xc000008fu, "EXCEPTION_FLT_INEXACT_RESULT" },
		{ 0xc0000090u, "EXCEPTION_FLT_INVALID_OPERATION" },
		{ 0xc0000091u, "EXCEPTION_FLT_OVERFLOW" },
		{ 0xc0000092u, "EXCEPTION_FLT_STACK_CHECK" },
		{ 0xc0000093u, "EXCEPTION_FLT_UNDERFLOW" },
		{ 0xc0000094u, "EXCEPTION_INT_DIVIDE_BY_ZERO" },
		{ 0xc0000095u, "EXCEPTION_INT_OVERFLOW" },
		{ 0xc0000096u, "EXCEPTION_PRIV_INSTRUCTION" },
		{ 0xc00000fdu, "EXCEPTION_STACK_OVERFLOW" },
		{ 0xc0000135u, "STATUS_DLL_NOT_FOUND" },
		{ 0xc0000139u, "STATUS_ENTRYPOINT_NOT_FOUND" },
		{ 0xc0000142u, "STATUS_DLL_INIT_FAILED" },
		{ 0xc0000374u, "STATUS_HEAP_CORRUPTION" },
		{ 0xc0000409u, "STATUS_STACK_BUFFER_OVERRUN" },
		{ 0xc0000417u, "STATUS_INVALID_CRUNTIME_PARAMETER" },
		{ 0xc0000420u, "STATUS_ASSERTION_FAILURE" },
		{ 0xc0000602u, "STATUS_FAIL_FAST_EXCEPTION" },
		{ 0xe0434352u, "CLR_EXCEPTION" },
		{ 0xe0434f4du, "CLR_EXCEPTION_V2" },
		{ 0xe06d7363u, "CPP_EH_EXCEPTION" },
		{ 0x40010005u, "DBG_CONTROL_C" },
		{ 0x406d1388u, "MS_VC_EXCEPTION_SET_THREAD_NAME" },
		{ 0xffffffffu, "DUMP_REQUESTED" },
	};
	size_t i;

	for (i = 0; i < DS_ARRAY_LEN(names); i++)
		if (names[i].code == code)
			return names[i].name;
	return "";
}

const char *triage_signal_name(uint32_t signo)
{
	/* Linux numbering (x86, arm, most others); used for cores and breakpad Linux minidumps. */
	static const char *const names[] = {
		"", "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE",
		"SIGKILL", "SIGUSR1", "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT",
		"SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU",
		"SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR", "SIGSYS",
	};

	return signo < DS_ARRAY_LEN(names) ? names[signo] : "";
}

static int ieq(const char *a, const char *b)
{
	for (; *a != '\0' && *b != '\0'; a++, b++) {
		char x = (*a >= 'A' && *a <= 'Z') ? (char)(*a + 32) : *a;
		char y = (*b >= 'A' && *b <= 'Z') ? (char)(*b + 32) : *b;
		if (x != y)
			return 0;
	}
	return *a == *b;
}

/* Finds "Microsoft.NETCore.App/X.Y.Z" (either slash) in a path and copies X.Y.Z. */
static int triage_version_from_path(const char *path, char *out, size_t outsz)
{
	static const char key[] = "Microsoft.NETCore.App";
	const char *p = path ? strstr(path, key) : NULL;
	size_t n = 0;

	if (p == NULL)
		return 0;
	p += sizeof(key) - 1;
	if (*p != '/' && *p != '\\')
		return 0;
	p++;
	while (p[n] != '\0' && p[n] != '/' && p[n] != '\\' && n + 1 < outsz)
		n++;
	if (n == 0 || p[n] == '\0')
		return 0;
	memcpy(out, p, n);
	out[n] = '\0';
	return 1;
}

/* Reads a decimal part of at most 9 digits ending at '.' or NUL; advances *p past it. */
static int triage_version_part(const char **p, unsigned long *v)
{
	size_t n = 0;

	*v = 0;
	while ((*p)[n] >= '0' && (*p)[n] <= '9' && n < 9)
		*v = *v * 10 + (unsigned long)((*p)[n++] - '0');
	if (n == 0 || ((*p)[n] != '.' && (*p)[n] != '\0'))
		return 0;
	*p += n;
	return 1;
}

int triage_product_version(const char *v, char *out, size_t outsz)
{
	unsigned long part[4];
	const char *p = v;
	size_t n = 0;
	int rc = 0;

	if (v == NULL || outsz == 0)
		goto out;
	while (n < 4 && triage_version_part(&p, &part[n])) {
		n++;
		if (*p == '\0')
			break;
		p++;
	}
	/* .NET 5 and later: major.minor.(patch*100 + build year % 100).(build date and count) */
	if (n == 4 && *p == '\0' && part[0] >= 5 && part[1] < 100 && part[2] >= 100) {
		snprintf(out, outsz, "%lu.%lu.%lu", part[0], part[1], part[2] / 100);
		rc = 1;
	}
out:
	return rc;
}

static void triage_detect_runtime(struct triage *t)
{
	size_t i;

	for (i = 0; i < t->nmodules; i++) {
		const struct triage_module *m = &t->modules[i];
		const char *base = triage_basename(m->path ? m->path : m->name);
		const char *kind = NULL;

		if (ieq(base, "coreclr.dll") || ieq(base, "libcoreclr.so") || ieq(base, "libcoreclr.dylib"))
			kind = "coreclr";
		else if (ieq(base, "clr.dll") || ieq(base, "mscorwks.dll"))
			kind = "clr";
		if (kind == NULL)
			continue;
		snprintf(t->runtime_name, sizeof(t->runtime_name), "%s", kind);
		if (triage_version_from_path(m->path, t->runtime_version, sizeof(t->runtime_version)))
			return;
		/* the module records coreclr's file version; the runtime is known by its product version */
		if (strcmp(kind, "coreclr") != 0 ||
		    !triage_product_version(m->version, t->runtime_version, sizeof(t->runtime_version)))
			snprintf(t->runtime_version, sizeof(t->runtime_version), "%s", m->version);
		return;
	}
}

/* The module whose [base, base+size) holds addr, or NULL. */
static const struct triage_module *triage_module_at(const struct triage *t, uint64_t addr)
{
	size_t i;

	for (i = 0; i < t->nmodules; i++) {
		const struct triage_module *m = &t->modules[i];
		if (addr >= m->base && addr - m->base < m->size)
			return m;
	}
	return NULL;
}

/* Longest bucket part taken as it is; a longer one is cut and given a digest of the whole, so two
 * long names that share a prefix still give two buckets. */
#define TRIAGE_BUCKET_PART 200

/* Appends one part of a bucket key, escaped so that no part can reach into another and no two
 * different names give the same key: '%', '|', and every byte below 0x20 or DEL are written %XX (a
 * name with '|' or CR stays apart from one with a space there). Past TRIAGE_BUCKET_PART bytes the
 * part is cut and "~" plus 16 hex digits of the SHA-256 of the whole part follows. */
static int triage_bucket_part(struct buf *b, const char *s)
{
	size_t i, n = strlen(s), take = n > TRIAGE_BUCKET_PART ? TRIAGE_BUCKET_PART : n;
	char hex[65];
	int rc = DS_OK;

	for (i = 0; i < take && rc == DS_OK; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '%' || c == '|' || c < 0x20 || c == 0x7f)
			rc = buf_printf(b, "%%%02X", c);
		else
			rc = buf_append(b, &s[i], 1);
	}
	if (rc == DS_OK && take < n) {
		sha256_hex(s, n, hex);
		rc = buf_printf(b, "~%.16s", hex);
	}
	return rc;
}

/* The bucket groups the same crash across dumps: application, its version, the faulting module and
 * offset inside it (stable under ASLR), and the exception code or signal. Each name part goes through
 * triage_bucket_part, so the key always fits and parses back into the same parts. */
static int triage_make_bucket(struct triage *t)
{
	const struct triage_module *m = NULL;
	const char *app = t->process_name;
	struct buf b;
	int rc;

	buf_init(&b, 4096);
	if ((app == NULL || app[0] == '\0') && t->nmodules > 0)
		app = triage_basename(t->modules[0].path ? t->modules[0].path : t->modules[0].name);
	rc = triage_bucket_part(&b, app != NULL && app[0] != '\0' ? app : "unknown");
	if (rc == DS_OK && t->app_version[0] != '\0') {
		rc = buf_puts(&b, "@");
		if (rc == DS_OK)
			rc = triage_bucket_part(&b, t->app_version);
	}
	if (rc == DS_OK && t->exc.present) {
		/* The instruction that crashed, when the reader found it (a core's registers); else the
		 * record's exception address. A data address would split one crash site into many buckets. */
		uint64_t where = t->exc.has_pc ? t->exc.pc : t->exc.address;
		m = triage_module_at(t, where);
		if (m != NULL) {
			rc = buf_puts(&b, "|");
			if (rc == DS_OK)
				rc = triage_bucket_part(&b, triage_basename(m->path ? m->path : m->name));
			if (rc == DS_OK)
				rc = buf_printf(&b, "+0x%llx", (unsigned long long)(where - m->base));
		} else {
			rc = buf_printf(&b, "|0x%llx", (unsigned long long)where);
		}
		if (rc == DS_OK)
			rc = t->exc.is_signal && t->exc.name[0] != '\0' ?
				     buf_printf(&b, "|%s", t->exc.name) :
				     buf_printf(&b, "|%s0x%x", t->exc.is_signal ? "signal " : "", t->exc.code);
	} else if (rc == DS_OK) {
		rc = buf_puts(&b, "|no-exception");
	}
	if (rc != DS_OK)
		goto out;
	free(t->bucket);
	t->bucket = buf_steal(&b);
	if (t->bucket == NULL)
		rc = DS_ENOMEM;
out:
	buf_free(&b);
	return rc;
}

int triage_finish(struct triage *t)
{
	if (t->runtime_name[0] == '\0')
		triage_detect_runtime(t);
	if (t->app_version[0] == '\0' && t->nmodules > 0)
		snprintf(t->app_version, sizeof(t->app_version), "%s", t->modules[0].version);
	if (t->exc.present && t->exc.name[0] == '\0')
		snprintf(t->exc.name, sizeof(t->exc.name), "%s",
			 t->exc.is_signal ? triage_signal_name(t->exc.code) : triage_exception_name(t->exc.code));
	if (!t->has_crashing_thread && t->exc.present && t->exc.thread_id != 0) {
		t->has_crashing_thread = 1;
		t->crashing_thread_id = t->exc.thread_id;
	}
	return triage_make_bucket(t);
}

static cJSON *json_hex(uint64_t v)
{
	char s[24];

	snprintf(s, sizeof(s), "0x%llx", (unsigned long long)v);
	return cJSON_CreateString(s);
}

static cJSON *json_str_or_null(const char *s)
{
	return s != NULL && s[0] != '\0' ? cJSON_CreateString(s) : cJSON_CreateNull();
}

static cJSON *json_time(int64_t secs)
{
	char s[32];
	struct tm tm;

	if (secs <= 0 || plat_gmtime(secs, &tm) != DS_OK)
		return cJSON_CreateNull();
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return cJSON_CreateString(s);
}

static cJSON *triage_modules_json(const struct triage_module *m, size_t n)
{
	cJSON *arr = cJSON_CreateArray(), *o;
	size_t i;

	for (i = 0; arr != NULL && i < n; i++) {
		o = cJSON_CreateObject();
		if (o == NULL)
			break;
		cJSON_AddItemToObject(o, "name", json_str_or_null(m[i].name));
		cJSON_AddItemToObject(o, "path", json_str_or_null(m[i].path));
		cJSON_AddItemToObject(o, "base", json_hex(m[i].base));
		cJSON_AddNumberToObject(o, "size", (double)m[i].size);
		cJSON_AddItemToObject(o, "version", json_str_or_null(m[i].version));
		cJSON_AddItemToObject(o, "debug_file", json_str_or_null(m[i].pdb_name));
		cJSON_AddItemToObject(o, "debug_id", json_str_or_null(m[i].pdb_id));
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

char *triage_to_json(const struct triage *t, const char *file, int pretty)
{
	cJSON *root = cJSON_CreateObject(), *o, *arr;
	char *out = NULL;
	size_t i;

	if (root == NULL)
		return NULL;
	cJSON_AddItemToObject(root, "file", json_str_or_null(file));
	cJSON_AddStringToObject(root, "format", t->format);
	cJSON_AddItemToObject(root, "writer", json_str_or_null(t->writer));
	cJSON_AddItemToObject(root, "os", json_str_or_null(t->os));
	cJSON_AddItemToObject(root, "os_version", json_str_or_null(t->os_version));
	cJSON_AddItemToObject(root, "arch", json_str_or_null(t->arch));
	if (t->cpu_count)
		cJSON_AddNumberToObject(root, "cpu_count", t->cpu_count);
	else
		cJSON_AddNullToObject(root, "cpu_count");
	if (t->has_pid)
		cJSON_AddNumberToObject(root, "pid", (double)t->pid);
	else
		cJSON_AddNullToObject(root, "pid");
	cJSON_AddItemToObject(root, "process_name", json_str_or_null(t->process_name));
	cJSON_AddItemToObject(root, "command_line", json_str_or_null(t->command_line));
	cJSON_AddItemToObject(root, "app_version", json_str_or_null(t->app_version));
	cJSON_AddItemToObject(root, "dump_time", json_time(t->dump_time));
	cJSON_AddItemToObject(root, "process_create_time", json_time(t->process_create_time));
	if (t->exc.present) {
		o = cJSON_AddObjectToObject(root, "exception");
		if (o != NULL) {
			char code[16];

			snprintf(code, sizeof(code), "0x%x", t->exc.code);
			cJSON_AddStringToObject(o, "code", code);
			cJSON_AddItemToObject(o, "name", json_str_or_null(t->exc.name));
			cJSON_AddBoolToObject(o, "is_signal", t->exc.is_signal);
			cJSON_AddItemToObject(o, "address", json_hex(t->exc.address));
			cJSON_AddItemToObject(o, "pc", t->exc.has_pc ? json_hex(t->exc.pc) : cJSON_CreateNull());
			cJSON_AddItemToObject(o, "fault_address",
					      t->exc.has_fault_address ? json_hex(t->exc.fault_address) :
									 cJSON_CreateNull());
			if (t->exc.thread_id != 0)
				cJSON_AddNumberToObject(o, "thread_id", (double)t->exc.thread_id);
			else
				cJSON_AddNullToObject(o, "thread_id");
		}
	} else {
		cJSON_AddNullToObject(root, "exception");
	}
	if (t->has_crashing_thread)
		cJSON_AddNumberToObject(root, "crashing_thread_id", (double)t->crashing_thread_id);
	else
		cJSON_AddNullToObject(root, "crashing_thread_id");
	cJSON_AddNumberToObject(root, "thread_count", (double)t->nthreads);
	arr = cJSON_AddArrayToObject(root, "threads");
	for (i = 0; arr != NULL && i < t->nthreads; i++) {
		o = cJSON_CreateObject();
		if (o == NULL)
			break;
		cJSON_AddNumberToObject(o, "id", (double)t->threads[i].id);
		cJSON_AddItemToObject(o, "name", json_str_or_null(t->threads[i].name));
		cJSON_AddItemToArray(arr, o);
	}
	cJSON_AddNumberToObject(root, "module_count", (double)t->nmodules);
	cJSON_AddItemToObject(root, "modules", triage_modules_json(t->modules, t->nmodules));
	cJSON_AddItemToObject(root, "unloaded_modules", triage_modules_json(t->unloaded, t->nunloaded));
	if (t->runtime_name[0] != '\0') {
		o = cJSON_AddObjectToObject(root, "runtime");
		if (o != NULL) {
			cJSON_AddStringToObject(o, "name", t->runtime_name);
			cJSON_AddItemToObject(o, "version", json_str_or_null(t->runtime_version));
		}
	} else {
		cJSON_AddNullToObject(root, "runtime");
	}
	cJSON_AddBoolToObject(root, "has_heap", t->has_heap);
	o = cJSON_AddObjectToObject(root, "memory");
	if (o != NULL) {
		cJSON_AddNumberToObject(o, "ranges", (double)t->mem_ranges);
		cJSON_AddNumberToObject(o, "bytes", (double)t->mem_bytes);
		cJSON_AddNumberToObject(o, "regions", (double)t->mem_regions);
		cJSON_AddBoolToObject(o, "full_memory", t->full_memory);
	}
	if (t->has_handles)
		cJSON_AddNumberToObject(root, "handle_count", (double)t->handle_count);
	else
		cJSON_AddNullToObject(root, "handle_count");
	cJSON_AddItemToObject(root, "bucket", json_str_or_null(t->bucket));
	/* what the memory budget left out (README "Limits"), or null */
	if (t->truncated != 0) {
		static const char *const what[] = { "threads", "modules", "strings", "mappings" };
		cJSON *a = cJSON_AddArrayToObject(root, "truncated");
		size_t k;

		for (k = 0; a != NULL && k < DS_ARRAY_LEN(what); k++)
			if (t->truncated & (1u << k))
				cJSON_AddItemToArray(a, cJSON_CreateString(what[k]));
	} else {
		cJSON_AddNullToObject(root, "truncated");
	}
	out = pretty ? cJSON_Print(root) : cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return out;
}

const char *triage_no_heap_advice(const struct triage *t)
{
	if (strcmp(t->os, "windows") == 0)
		return "the dump holds no heap memory (a mini dump): on Windows let WER write full dumps, LocalDumps "
		       "DumpType 2 (what `dumpscout wer apply` and the service set), or have the runtime's createdump "
		       "write one (DOTNET_DbgEnableMiniDump=1, DOTNET_DbgMiniDumpType=2; under Wine only type 4 "
		       "holds the heap)";
	return "the dump holds no heap memory (a mini or triage dump): collect a heap dump "
	       "(DOTNET_DbgEnableMiniDump=1, DOTNET_DbgMiniDumpType=2, or a core under the default coredump_filter)";
}
