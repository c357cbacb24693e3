/* minidump.c - reads the triage facts of a minidump (MDMP): system, process, threads, modules,
 * exception and the shape of the dumped memory, from the header, the directory and the small streams
 * only, through the bounds-checked dsrc. It is not responsible for memory contents, stack walking,
 * runtime detection or bucketing (triage.c), nor for choosing the reader (triage_read).
 * Layouts: MINIDUMP_* from Microsoft's minidumpapiset.h and breakpad's minidump_format.h.
 * Over 1,500 lines on purpose: one reader for one format, every stream's bounds checks beside its layout;
 * split by stream, the checks of the directory (overlap, offsets) would have to be shared across files. */
#include "minidump.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dsrc.h"
#include "triage.h"

/* Stream types we read. */
#define MD_THREAD_LIST 3u
#define MD_MODULE_LIST 4u
#define MD_MEMORY_LIST 5u
#define MD_EXCEPTION 6u
#define MD_SYSTEM_INFO 7u
#define MD_MEMORY64_LIST 9u
#define MD_HANDLE_DATA 12u
#define MD_UNLOADED_MODULE_LIST 14u
#define MD_MISC_INFO 15u
#define MD_MEMORY_INFO_LIST 16u
#define MD_THREAD_NAMES 24u
#define MD_BREAKPAD_INFO 0x47670001u
#define MD_LINUX_PROC_STATUS 0x47670004u
#define MD_LINUX_CMD_LINE 0x47670006u /* 0x47670007 is MD_LINUX_ENVIRON: never read (secrets) */
#define MD_CRASHPAD_INFO 0x43500001u

#define MD_SIGNATURE 0x504d444du /* "MDMP" */
#define MD_VERSION_LOW 0xa793u
#define MD_HEADER_SIZE 32u
#define MD_DIRENT_SIZE 12u
#define MD_MAX_STREAMS 65536u
#define MD_THREAD_SIZE 48u
#define MD_MODULE_SIZE 108u
#define MD_MEMDESC_SIZE 16u
#define MD_MEMDESC64_SIZE 16u
#define MD_EXCEPTION_SIZE 168u
#define MD_SYSINFO_SIZE 56u
#define MD_THREAD_NAME_SIZE 12u
#define MD_MEMINFO_MIN_ENTRY 48u
#define MD_HANDLE_MIN_DESC 32u
#define MD_UNLOADED_MIN_ENTRY 24u
#define MD_MISC_V1_SIZE 24u
#define MD_FIXEDFILEINFO_SIG 0xfeef04bdu
#define MD_CV_RSDS 0x53445352u
#define MD_CV_NB10 0x3031424eu
#define MD_CV_ELF 0x4270454cu /* "BpEL": breakpad's ELF build id */
#define MD_FLAG_FULL_MEMORY 0x2u
#define MD_PROC_STATUS_MAX 65536u
#define MD_CV_MAX (24u + TRIAGE_MAX_STRING)
#define MD_CHUNK 64u                 /* list entries fetched per read */

#define EXC_ACCESS_VIOLATION 0xc0000005u
#define EXC_IN_PAGE_ERROR 0xc0000006u
#define LIN_DUMP_REQUESTED 0xffffffffu

enum md_slot {
	SL_THREADS,
	SL_MODULES,
	SL_MEMORY,
	SL_EXCEPTION,
	SL_SYSINFO,
	SL_MEMORY64,
	SL_HANDLES,
	SL_UNLOADED,
	SL_MISC,
	SL_MEMINFO,
	SL_THREADNAMES,
	SL_BREAKPAD_INFO,
	SL_PROC_STATUS,
	SL_CMDLINE,
	SL_CRASHPAD_INFO,
	SL_COUNT
};

static const uint32_t md_slot_type[SL_COUNT] = {
	MD_THREAD_LIST, MD_MODULE_LIST, MD_MEMORY_LIST, MD_EXCEPTION, MD_SYSTEM_INFO,
	MD_MEMORY64_LIST, MD_HANDLE_DATA, MD_UNLOADED_MODULE_LIST, MD_MISC_INFO, MD_MEMORY_INFO_LIST,
	MD_THREAD_NAMES, MD_BREAKPAD_INFO, MD_LINUX_PROC_STATUS, MD_LINUX_CMD_LINE, MD_CRASHPAD_INFO,
};

static const char *const md_slot_name[SL_COUNT] = {
	"thread list", "module list", "memory list", "exception stream", "system info",
	"memory64 list", "handle data", "unloaded module list", "misc info", "memory info list",
	"thread names", "breakpad info", "linux proc status", "linux command line", "crashpad info",
};

/* How the exception code is to be read, from the platform. */
enum md_os_kind { OSK_WINDOWS, OSK_SIGNALS, OSK_MACH, OSK_OTHER };

struct md_loc {
	int present;
	uint32_t size;
	uint32_t rva;
	uint64_t dirent; /* file offset of the directory entry */
};

struct md {
	struct dsrc *src;
	struct triage *t;
	struct ds_err *e;
	struct md_loc s[SL_COUNT];
	int any_breakpad;      /* a 0x4767xxxx stream is present */
	int is32;              /* 32-bit target: addresses are masked to 32 bits */
	uint16_t arch;         /* SystemInfo ProcessorArchitecture (0xffff: unknown) */
	enum md_os_kind osk;
};

static int md_read(struct md *m, uint64_t off, void *dst, size_t n, const char *what)
{
	return dsrc_read(m->src, off, dst, n, what, m->e);
}

static int md_corrupt(struct md *m, uint64_t off, const char *what)
{
	return ds_err_set(m->e, DS_ECORRUPT, off, "minidump: %s at offset 0x%llx", what,
			  (unsigned long long)off);
}

/* Appends the UTF-8 form of code point c to out (room checked by the caller: 4 bytes). */
static size_t md_put_utf8(char *out, uint32_t c)
{
	if (c < 0x80) {
		out[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		out[0] = (char)(0xc0 | c >> 6);
		out[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		out[0] = (char)(0xe0 | c >> 12);
		out[1] = (char)(0x80 | (c >> 6 & 0x3f));
		out[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | c >> 18);
	out[1] = (char)(0x80 | (c >> 12 & 0x3f));
	out[2] = (char)(0x80 | (c >> 6 & 0x3f));
	out[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

/* Converts n UTF-16LE code units to a NUL-terminated UTF-8 string of at most TRIAGE_MAX_STRING-1
 * bytes, stopping at a NUL unit; unpaired surrogates become U+FFFD. Allocates only the bytes the
 * result needs (once 32 KiB per string: 100,000 names made 3 GB). *cut is set when the text did not
 * fit. Caller frees; NULL on ENOMEM. */
static char *md_utf16_to_utf8(const unsigned char *p, size_t n, int *cut)
{
	char tmp[TRIAGE_MAX_STRING], *out;
	size_t i, len = 0;

	for (i = 0; i < n; i++) {
		uint32_t c = ld16le(p + 2 * i);

		if (c == 0)
			break;
		if (c >= 0xd800 && c < 0xdc00 && i + 1 < n) {
			uint32_t lo = ld16le(p + 2 * (i + 1));

			if (lo >= 0xdc00 && lo < 0xe000) {
				c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
				i++;
			}
		}
		if (c >= 0xd800 && c < 0xe000)
			c = 0xfffd;
		if (len + 4 >= TRIAGE_MAX_STRING) {
			*cut = 1;
			break;
		}
		len += md_put_utf8(tmp + len, c);
	}
	out = malloc(len + 1);
	if (out != NULL) {
		memcpy(out, tmp, len);
		out[len] = '\0';
	}
	return out;
}

/* Length of a valid UTF-8 sequence at p (at most n bytes), or 0 if it is not valid. */
static size_t md_utf8_seq(const unsigned char *p, size_t n)
{
	size_t len, k;
	uint32_t c;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] < 0xe0)
		len = 2, c = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] < 0xf0)
		len = 3, c = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] < 0xf5)
		len = 4, c = p[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (k = 1; k < len; k++) {
		if ((p[k] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[k] & 0x3fu);
	}
	if ((len == 3 && (c < 0x800 || (c >= 0xd800 && c < 0xe000))) || (len == 4 && (c < 0x10000 || c > 0x10ffff)))
		return 0;
	return len;
}

/* Copies n bytes of 8-bit text into a new NUL-terminated string, stopping at a NUL, replacing bytes
 * that are not valid UTF-8 with '?'. Caller frees; NULL on ENOMEM. */
static char *md_text_dup(const unsigned char *p, size_t n)
{
	char *out = malloc(n + 1);
	size_t i = 0, len = 0;

	if (out == NULL)
		return NULL;
	while (i < n && p[i] != 0) {
		size_t k = md_utf8_seq(p + i, n - i);

		if (k == 0) {
			out[len++] = '?';
			i++;
			continue;
		}
		memcpy(out + len, p + i, k);
		len += k;
		i += k;
	}
	out[len] = '\0';
	return out;
}

/* Reads the MINIDUMP_STRING at rva (recorded at file offset field) into *out as UTF-8, cut to
 * TRIAGE_MAX_STRING; past the triage's string budget it gives "" (both noted in t->truncated).
 * An RVA of 0 means no string and gives "". */
static int md_string(struct md *m, uint32_t rva, uint64_t field, char **out)
{
	unsigned char lenb[4], buf[2 * TRIAGE_MAX_STRING];
	uint32_t len;
	size_t n;
	int rc, cut = 0;

	*out = NULL;
	if (rva == 0)
		goto empty;
	if (!dsrc_has(m->src, rva, 4)) {
		rc = md_corrupt(m, field, "string RVA outside the file");
		goto out;
	}
	rc = md_read(m, rva, lenb, 4, "string length");
	if (rc != DS_OK)
		goto out;
	len = ld32le(lenb);
	if (!dsrc_has(m->src, (uint64_t)rva + 4, len)) {
		rc = md_corrupt(m, rva, "string extends past the end of the file");
		goto out;
	}
	n = len < sizeof(buf) ? len : sizeof(buf);
	n &= ~(size_t)1;
	rc = md_read(m, (uint64_t)rva + 4, buf, n, "string");
	if (rc != DS_OK)
		goto out;
	*out = md_utf16_to_utf8(buf, n / 2, &cut);
	if (*out == NULL) {
		rc = DS_ENOMEM;
		goto out;
	}
	if (cut)
		m->t->truncated |= TRIAGE_TRUNC_STRINGS;
	if (triage_take(m->t, strlen(*out) + 1))
		goto out;
	free(*out);
empty:
	*out = triage_strdup("");
	rc = *out ? DS_OK : DS_ENOMEM;
out:
	return rc;
}

/* Reads the header and the directory, recording the streams we read and rejecting duplicates. */
/* One stream's extent, for the overlap check. */
struct md_extent {
	uint64_t rva, end, dirent;
};

static int md_extent_cmp(const void *a, const void *b)
{
	const struct md_extent *x = a, *y = b;

	if (x->rva != y->rva)
		return x->rva < y->rva ? -1 : 1;
	return x->dirent < y->dirent ? -1 : x->dirent > y->dirent;
}

/* Streams must not share bytes (issue 12 item 8; lldb refuses such files too): two streams over the
 * same bytes let a writer make one structure read as another. Unused (type 0) and empty entries take
 * no bytes. The error points at the later directory entry of the first overlapping pair. */
static int md_check_overlap(struct md *m, struct md_extent *x, size_t n)
{
	size_t i;
	char msg[160];

	qsort(x, n, sizeof(*x), md_extent_cmp);
	for (i = 1; i < n; i++) {
		if (x[i].rva < x[i - 1].end) {
			snprintf(msg, sizeof(msg), "stream at 0x%llx overlaps the stream at 0x%llx (up to 0x%llx)",
				 (unsigned long long)x[i].rva, (unsigned long long)x[i - 1].rva,
				 (unsigned long long)x[i - 1].end);
			return md_corrupt(m, x[i].dirent > x[i - 1].dirent ? x[i].dirent : x[i - 1].dirent, msg);
		}
	}
	return DS_OK;
}

static int md_directory(struct md *m, uint64_t *flags, uint32_t *timestamp)
{
	unsigned char h[MD_HEADER_SIZE], d[MD_CHUNK * MD_DIRENT_SIZE];
	uint32_t nstreams, dirrva, i, k;
	struct md_extent *ext = NULL;
	size_t next = 0;
	int rc;

	if (m->src->size < 4) {
		rc = ds_err_setn(m->e, DS_EFORMAT, "not a minidump (too short)");
		goto out;
	}
	rc = md_read(m, 0, h, 4, "minidump signature");
	if (rc != DS_OK)
		goto out;
	if (ld32le(h) != MD_SIGNATURE) {
		rc = ds_err_setn(m->e, DS_EFORMAT, "not a minidump (no MDMP signature)");
		goto out;
	}
	rc = md_read(m, 0, h, sizeof(h), "minidump header");
	if (rc != DS_OK)
		goto out;
	if ((ld32le(h + 4) & 0xffffu) != MD_VERSION_LOW) {
		rc = md_corrupt(m, 4, "unknown minidump header version");
		goto out;
	}
	nstreams = ld32le(h + 8);
	dirrva = ld32le(h + 12);
	*timestamp = ld32le(h + 20);
	*flags = ld64le(h + 24);
	if (nstreams > MD_MAX_STREAMS) {
		rc = md_corrupt(m, 8, "too many streams");
		goto out;
	}
	if (!dsrc_has(m->src, dirrva, (uint64_t)nstreams * MD_DIRENT_SIZE)) {
		rc = md_corrupt(m, 12, "stream directory outside the file");
		goto out;
	}
	ext = malloc((nstreams ? nstreams : 1) * sizeof(*ext));
	if (ext == NULL) {
		rc = DS_ENOMEM;
		goto out;
	}
	for (i = 0; i < nstreams; i += k) {
		uint32_t chunk = nstreams - i < MD_CHUNK ? nstreams - i : MD_CHUNK;

		rc = md_read(m, (uint64_t)dirrva + (uint64_t)i * MD_DIRENT_SIZE, d,
			     (size_t)chunk * MD_DIRENT_SIZE, "stream directory");
		if (rc != DS_OK)
			goto out;
		for (k = 0; k < chunk; k++) {
			const unsigned char *p = d + k * MD_DIRENT_SIZE;
			uint64_t at = (uint64_t)dirrva + (uint64_t)(i + k) * MD_DIRENT_SIZE;
			uint32_t type = ld32le(p), size = ld32le(p + 4), rva = ld32le(p + 8);
			int sl;

			if (!dsrc_has(m->src, rva, size)) {
				rc = md_corrupt(m, at, "stream extends past the end of the file");
				goto out;
			}
			if (type != 0 && size != 0) {
				ext[next].rva = rva;
				ext[next].end = (uint64_t)rva + size;
				ext[next++].dirent = at;
			}
			if ((type & 0xffff0000u) == 0x47670000u)
				m->any_breakpad = 1;
			for (sl = 0; sl < SL_COUNT; sl++) {
				if (md_slot_type[sl] != type)
					continue;
				if (m->s[sl].present) {
					rc = ds_err_set(m->e, DS_ECORRUPT, at,
							"minidump: duplicate %s stream (type 0x%x) at offset 0x%llx",
							md_slot_name[sl], (unsigned)type, (unsigned long long)at);
					goto out;
				}
				m->s[sl].present = 1;
				m->s[sl].size = size;
				m->s[sl].rva = rva;
				m->s[sl].dirent = at;
			}
		}
	}
	rc = md_check_overlap(m, ext, next);
out:
	free(ext);
	return rc;
}

/* For a list stream (u32 count, then entries; breakpad may put 4 bytes of padding after the
 * count): the count and the offset of the first entry. */
/* The count and first entry of a list stream; the count is checked against the stream, then clamped to
 * cap (setting the truncated bit trunc when it was over). */
static int md_list(struct md *m, int sl, uint32_t entry, uint32_t cap, unsigned trunc, uint32_t *count,
		   uint64_t *first)
{
	const struct md_loc *l = &m->s[sl];
	unsigned char b[4];
	uint64_t need;
	int rc;

	if (l->size < 4) {
		rc = md_corrupt(m, l->dirent, "list stream too short for its count");
		goto out;
	}
	rc = md_read(m, l->rva, b, 4, md_slot_name[sl]);
	if (rc != DS_OK)
		goto out;
	*count = ld32le(b);
	need = (uint64_t)*count * entry;
	if (l->size == need + 8)
		*first = (uint64_t)l->rva + 8;
	else if (l->size >= need + 4)
		*first = (uint64_t)l->rva + 4;
	else
		rc = md_corrupt(m, l->rva, "list count larger than its stream");
	if (rc == DS_OK && *count > cap) {
		*count = cap;
		m->t->truncated |= trunc;
	}
out:
	return rc;
}

/* Calls fn for each of count entries of entry bytes (at most MD_CHUNK * MD_THREAD_SIZE) that start at
 * file offset first, reading them MD_CHUNK at a time; fn gets an entry's bytes and its file offset.
 * Stops at the first read or fn that does not return DS_OK and returns that. */
static int md_each(struct md *m, uint64_t first, uint64_t count, uint32_t entry, const char *what,
		   int (*fn)(struct md *, const unsigned char *, uint64_t, void *), void *arg)
{
	unsigned char b[MD_CHUNK * MD_THREAD_SIZE];
	uint64_t i, k, chunk, per = sizeof(b) / entry;
	int rc = DS_OK;

	for (i = 0; i < count && rc == DS_OK; i += chunk) {
		chunk = count - i < per ? count - i : per;
		rc = md_read(m, first + i * entry, b, (size_t)(chunk * entry), what);
		for (k = 0; k < chunk && rc == DS_OK; k++)
			rc = fn(m, b + k * entry, first + (i + k) * entry, arg);
	}
	return rc;
}

static const char *md_arch_name(uint16_t a)
{
	switch (a) {
	case 0: case 10: case 14: return "x86";
	case 1: return "mips";
	case 2: return "alpha";
	case 3: return "ppc";
	case 4: return "shx";
	case 5: case 13: return "arm";
	case 6: return "ia64";
	case 7: return "alpha64";
	case 8: return "msil";
	case 9: return "amd64";
	case 12: case 0x8003: return "arm64";
	case 0x8001: return "sparc";
	case 0x8002: return "ppc64";
	case 0x8004: return "mips64";
	case 0x8005: return "riscv";
	case 0x8006: return "riscv64";
	default: return "";
	}
}

static int md_arch_is32(uint16_t a)
{
	return a == 0 || a == 1 || a == 3 || a == 4 || a == 5 || a == 10 || a == 13 || a == 14 ||
	       a == 0x8001 || a == 0x8005;
}

/* The kernel release's leading "a.b.c" from breakpad's Linux CSD text "Linux 4.9.60-x #1 ...". */
static void md_linux_release(const char *csd, char *out, size_t cap)
{
	const char *p = csd;
	size_t n = 0;

	if (strncmp(p, "Linux ", 6) == 0)
		p += 6;
	while ((p[n] >= '0' && p[n] <= '9') || p[n] == '.')
		n++;
	while (n > 0 && p[n - 1] == '.')
		n--;
	if (n > 0 && n < cap) {
		memcpy(out, p, n);
		out[n] = '\0';
	}
}

static int md_sysinfo(struct md *m)
{
	const struct md_loc *l = &m->s[SL_SYSINFO];
	struct triage *t = m->t;
	unsigned char b[MD_SYSINFO_SIZE];
	uint32_t major, minor, build, platform;
	uint16_t arch;
	const char *os = "";
	char *csd = NULL;
	int rc = DS_OK;

	m->osk = OSK_OTHER;
	if (!l->present)
		goto out;
	if (l->size < MD_SYSINFO_SIZE) {
		rc = md_corrupt(m, l->dirent, "system info stream too short");
		goto out;
	}
	rc = md_read(m, l->rva, b, sizeof(b), "system info");
	if (rc != DS_OK)
		goto out;
	arch = ld16le(b);
	t->cpu_count = b[6];
	major = ld32le(b + 8);
	minor = ld32le(b + 12);
	build = ld32le(b + 16);
	platform = ld32le(b + 20);
	snprintf(t->arch, sizeof(t->arch), "%s", md_arch_name(arch));
	m->is32 = md_arch_is32(arch);
	m->arch = arch;
	switch (platform) {
	case 0: case 1: case 2: case 3: os = "windows"; m->osk = OSK_WINDOWS; break;
	case 0x8000: os = "unix"; break;
	case 0x8101: os = "macos"; m->osk = OSK_MACH; break;
	case 0x8102: os = "ios"; m->osk = OSK_MACH; break;
	case 0x8201: os = "linux"; m->osk = OSK_SIGNALS; break;
	case 0x8202: os = "solaris"; break;
	case 0x8203: os = "android"; m->osk = OSK_SIGNALS; break;
	case 0x8204: os = "ps3"; break;
	case 0x8205: os = "nacl"; break;
	case 0x8206: os = "fuchsia"; break;
	default: break;
	}
	snprintf(t->os, sizeof(t->os), "%s", os);
	if (major != 0 || minor != 0 || build != 0) {
		snprintf(t->os_version, sizeof(t->os_version), "%u.%u.%u", (unsigned)major,
			 (unsigned)minor, (unsigned)build);
	} else if (m->osk == OSK_SIGNALS && ld32le(b + 24) != 0) {
		/* breakpad's Linux writer leaves the numbers 0 and puts uname in the CSD string */
		rc = md_string(m, ld32le(b + 24), (uint64_t)l->rva + 24, &csd);
		if (rc != DS_OK)
			goto out;
		md_linux_release(csd, t->os_version, sizeof(t->os_version));
	}
out:
	free(csd);
	return rc;
}

static int md_misc(struct md *m)
{
	const struct md_loc *l = &m->s[SL_MISC];
	unsigned char b[MD_MISC_V1_SIZE];
	uint32_t avail, sizeinfo, flags;
	int rc = DS_OK;

	if (!l->present || l->size < 12)
		goto out; /* too short to say anything; optional */
	avail = l->size < sizeof(b) ? l->size : (uint32_t)sizeof(b);
	rc = md_read(m, l->rva, b, avail, "misc info");
	if (rc != DS_OK)
		goto out;
	/* A field counts if its flag is set and it lies inside both the stream and SizeOfInfo
	 * (when SizeOfInfo is plausible: some writers leave it 0). */
	sizeinfo = ld32le(b);
	if (sizeinfo >= 12 && sizeinfo < avail)
		avail = sizeinfo;
	flags = ld32le(b + 4);
	if ((flags & 0x1u) && avail >= 12) {
		m->t->has_pid = 1;
		m->t->pid = ld32le(b + 8);
	}
	if ((flags & 0x2u) && avail >= 16)
		m->t->process_create_time = ld32le(b + 12);
out:
	return rc;
}

static int md_thread_entry(struct md *m, const unsigned char *p, uint64_t at, void *arg)
{
	(void)at;
	(void)arg;
	m->t->threads[m->t->nthreads++].id = ld32le(p);
	return DS_OK;
}

static int md_threads(struct md *m)
{
	struct triage *t = m->t;
	uint32_t count;
	uint64_t first;
	int rc = DS_OK;

	if (!m->s[SL_THREADS].present)
		goto out;
	rc = md_list(m, SL_THREADS, MD_THREAD_SIZE, TRIAGE_MAX_THREADS, TRIAGE_TRUNC_THREADS, &count, &first);
	if (rc != DS_OK || count == 0)
		goto out;
	t->threads = calloc(count, sizeof(*t->threads));
	if (t->threads == NULL) {
		rc = DS_ENOMEM;
		goto out;
	}
	rc = md_each(m, first, count, MD_THREAD_SIZE, "thread list", md_thread_entry, NULL);
out:
	return rc;
}

struct md_tix {
	uint64_t id;
	size_t idx;
};

static int md_tix_cmp(const void *a, const void *b)
{
	const struct md_tix *x = a, *y = b;

	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int md_tix_cmp_id(const void *a, const void *b)
{
	const struct md_tix *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static int md_thread_names(struct md *m)
{
	const struct md_loc *l = &m->s[SL_THREADNAMES];
	struct triage *t = m->t;
	struct md_tix *ix = NULL, key, *hit;
	unsigned char b[MD_THREAD_NAME_SIZE];
	uint32_t count, i;
	uint64_t first;
	size_t j, nix;
	int rc = DS_OK;

	if (!l->present)
		goto out;
	rc = md_list(m, SL_THREADNAMES, MD_THREAD_NAME_SIZE, TRIAGE_MAX_THREADS, TRIAGE_TRUNC_THREADS, &count, &first);
	if (rc != DS_OK || count == 0 || t->nthreads == 0)
		goto out;
	/* thread ids sorted (first occurrence first), so each name is a binary search away */
	ix = malloc(t->nthreads * sizeof(*ix));
	if (ix == NULL) {
		rc = DS_ENOMEM;
		goto out;
	}
	for (j = 0; j < t->nthreads; j++) {
		ix[j].id = t->threads[j].id;
		ix[j].idx = j;
	}
	qsort(ix, t->nthreads, sizeof(*ix), md_tix_cmp);
	for (j = 1, nix = 1; j < t->nthreads; j++) /* a repeated id: the name goes to the first */
		if (ix[j].id != ix[nix - 1].id)
			ix[nix++] = ix[j];
	for (i = 0; i < count; i++) {
		uint64_t at = first + (uint64_t)i * MD_THREAD_NAME_SIZE, rva;
		char *name = NULL;

		rc = md_read(m, at, b, sizeof(b), "thread name entry");
		if (rc != DS_OK)
			goto out;
		key.id = ld32le(b);
		key.idx = 0;
		rva = ld64le(b + 4);
		hit = bsearch(&key, ix, nix, sizeof(*ix), md_tix_cmp_id);
		if (hit == NULL)
			continue; /* a name for a thread not in the list: nothing to attach it to */
		j = hit->idx;
		if (rva > UINT32_MAX) {
			rc = md_corrupt(m, at + 4, "thread name RVA outside the file");
			goto out;
		}
		rc = md_string(m, (uint32_t)rva, at + 4, &name);
		if (rc != DS_OK) {
			free(name);
			goto out;
		}
		free(t->threads[j].name);
		t->threads[j].name = NULL;
		if (name[0] != '\0')
			t->threads[j].name = name;
		else
			free(name);
	}
out:
	free(ix);
	return rc;
}

/* Fills pdb_name/pdb_id/pdb_age of mod from the CodeView record at cv (size bytes, recorded at
 * file offset field). */
static int md_codeview(struct md *m, struct triage_module *mod, uint32_t size, uint32_t rva, uint64_t field)
{
	unsigned char *b = NULL;
	uint32_t sig, n;
	size_t i, len = 0;
	int rc = DS_OK;

	if (size < 4 || rva == 0)
		goto out;
	if (!dsrc_has(m->src, rva, size)) {
		rc = md_corrupt(m, field, "CodeView record outside the file");
		goto out;
	}
	n = size < MD_CV_MAX ? size : MD_CV_MAX;
	b = malloc(n);
	if (b == NULL) {
		rc = DS_ENOMEM;
		goto out;
	}
	rc = md_read(m, rva, b, n, "CodeView record");
	if (rc != DS_OK)
		goto out;
	sig = ld32le(b);
	if (sig == MD_CV_RSDS && n >= 24) {
		mod->pdb_age = ld32le(b + 20);
		snprintf(mod->pdb_id, sizeof(mod->pdb_id), "%08X%04X%04X", (unsigned)ld32le(b + 4),
			 (unsigned)ld16le(b + 8), (unsigned)ld16le(b + 10));
		for (i = 0; i < 8; i++)
			snprintf(mod->pdb_id + 16 + 2 * i, sizeof(mod->pdb_id) - 16 - 2 * i, "%02X", b[12 + i]);
		snprintf(mod->pdb_id + 32, sizeof(mod->pdb_id) - 32, "%X", (unsigned)mod->pdb_age);
		mod->pdb_name = md_text_dup(b + 24, n - 24);
	} else if (sig == MD_CV_NB10 && n >= 16) {
		mod->pdb_age = ld32le(b + 12);
		snprintf(mod->pdb_id, sizeof(mod->pdb_id), "%08X%X", (unsigned)ld32le(b + 8),
			 (unsigned)mod->pdb_age);
		mod->pdb_name = md_text_dup(b + 16, n - 16);
	} else if (sig == MD_CV_ELF) {
		for (i = 4; i < n && len + 3 <= sizeof(mod->pdb_id); i++, len += 2)
			snprintf(mod->pdb_id + len, sizeof(mod->pdb_id) - len, "%02x", b[i]);
		goto out;
	} else {
		goto out;
	}
	if (mod->pdb_name == NULL) {
		rc = DS_ENOMEM;
		goto out;
	}
	if (mod->pdb_name[0] == '\0' || !triage_take(m->t, strlen(mod->pdb_name) + 1)) {
		free(mod->pdb_name);
		mod->pdb_name = NULL;
	}
out:
	free(b);
	return rc;
}

/* Sets mod->path from the name string at rva and mod->name to its base name. */
static int md_module_name(struct md *m, struct triage_module *mod, uint32_t rva, uint64_t field)
{
	int rc = md_string(m, rva, field, &mod->path);

	if (rc != DS_OK)
		goto out;
	mod->name = triage_strdup(triage_take(m->t, strlen(triage_basename(mod->path)) + 1) ? triage_basename(mod->path) : "");
	if (mod->name == NULL)
		rc = DS_ENOMEM;
out:
	return rc;
}

static int md_modules(struct md *m)
{
	struct triage *t = m->t;
	unsigned char b[MD_MODULE_SIZE];
	uint32_t count, i;
	uint64_t first;
	int rc = DS_OK;

	if (!m->s[SL_MODULES].present)
		goto out;
	rc = md_list(m, SL_MODULES, MD_MODULE_SIZE, TRIAGE_MAX_MODULES, TRIAGE_TRUNC_MODULES, &count, &first);
	if (rc != DS_OK || count == 0)
		goto out;
	t->modules = calloc(count, sizeof(*t->modules));
	if (t->modules == NULL) {
		rc = DS_ENOMEM;
		goto out;
	}
	for (i = 0; i < count; i++) {
		uint64_t at = first + (uint64_t)i * MD_MODULE_SIZE;
		struct triage_module *mod = &t->modules[t->nmodules++];

		rc = md_read(m, at, b, sizeof(b), "module entry");
		if (rc != DS_OK)
			goto out;
		mod->base = ld64le(b);
		mod->size = ld32le(b + 8);
		rc = md_module_name(m, mod, ld32le(b + 20), at + 20);
		if (rc != DS_OK)
			goto out;
		if (ld32le(b + 24) == MD_FIXEDFILEINFO_SIG && (ld32le(b + 32) | ld32le(b + 36)) != 0) {
			uint32_t ms = ld32le(b + 32), ls = ld32le(b + 36);

			snprintf(mod->version, sizeof(mod->version), "%u.%u.%u.%u", (unsigned)(ms >> 16),
				 (unsigned)(ms & 0xffff), (unsigned)(ls >> 16), (unsigned)(ls & 0xffff));
		}
		rc = md_codeview(m, mod, ld32le(b + 76), ld32le(b + 80), at + 76);
		if (rc != DS_OK)
			goto out;
	}
out:
	return rc;
}

/* The header that the unloaded-module, memory-info and handle-data streams share: SizeOfHeader,
 * SizeOfEntry, then the entry count (64 bits wide for memory info), hdr_len bytes in all. Checks the
 * header against the stream and that count entries of esize bytes fit after it; errors name `what`
 * and point at the stream's directory entry, its header, or the count field. */
static int md_sized_list(struct md *m, const struct md_loc *l, size_t hdr_len, int count64, uint32_t min_entry,
			 const char *what, uint32_t *hsize, uint32_t *esize, uint64_t *count)
{
	unsigned char h[16];
	char msg[96];
	int rc;

	if (l->size < hdr_len) {
		snprintf(msg, sizeof(msg), "%s too short", what);
		rc = md_corrupt(m, l->dirent, msg);
		goto out;
	}
	rc = md_read(m, l->rva, h, hdr_len, what);
	if (rc != DS_OK)
		goto out;
	*hsize = ld32le(h);
	*esize = ld32le(h + 4);
	*count = count64 ? ld64le(h + 8) : ld32le(h + 8);
	if (*hsize < hdr_len || *hsize > l->size || *esize < min_entry) {
		snprintf(msg, sizeof(msg), "bad %s header", what);
		rc = md_corrupt(m, l->rva, msg);
		goto out;
	}
	if (*count > (l->size - *hsize) / *esize) {
		snprintf(msg, sizeof(msg), "%s count larger than its stream", what);
		rc = md_corrupt(m, (uint64_t)l->rva + 8, msg);
	}
out:
	return rc;
}

static int md_unloaded(struct md *m)
{
	const struct md_loc *l = &m->s[SL_UNLOADED];
	struct triage *t = m->t;
	unsigned char b[MD_UNLOADED_MIN_ENTRY];
	uint32_t hsize, esize, i;
	uint64_t count;
	int rc = DS_OK;

	if (!l->present)
		goto out;
	rc = md_sized_list(m, l, 12, 0, MD_UNLOADED_MIN_ENTRY, "unloaded module list", &hsize, &esize, &count);
	if (rc != DS_OK)
		goto out;
	if (count > TRIAGE_MAX_MODULES) {
		count = TRIAGE_MAX_MODULES;
		m->t->truncated |= TRIAGE_TRUNC_MODULES;
	}
	if (count == 0)
		goto out;
	t->unloaded = calloc(count, sizeof(*t->unloaded));
	if (t->unloaded == NULL) {
		rc = DS_ENOMEM;
		goto out;
	}
	for (i = 0; i < count; i++) {
		uint64_t at = (uint64_t)l->rva + hsize + (uint64_t)i * esize;
		struct triage_module *mod = &t->unloaded[t->nunloaded++];

		rc = md_read(m, at, b, sizeof(b), "unloaded module entry");
		if (rc != DS_OK)
			goto out;
		mod->base = ld64le(b);
		mod->size = ld32le(b + 8);
		rc = md_module_name(m, mod, ld32le(b + 20), at + 20);
		if (rc != DS_OK)
			goto out;
	}
out:
	return rc;
}

static const char *md_mach_name(uint32_t code)
{
	static const char *const names[] = {
		"", "EXC_BAD_ACCESS", "EXC_BAD_INSTRUCTION", "EXC_ARITHMETIC", "EXC_EMULATION",
		"EXC_SOFTWARE", "EXC_BREAKPOINT", "EXC_SYSCALL", "EXC_MACH_SYSCALL", "EXC_RPC_ALERT",
		"EXC_CRASH", "EXC_RESOURCE", "EXC_GUARD", "EXC_CORPSE_NOTIFY",
	};

	if (code < DS_ARRAY_LEN(names))
		return names[code];
	if (code == 0x43507378u)
		return "EXC_CRASHPAD_SIMULATED"; /* 'CPsx': crashpad's SimulateCrash */
	if (code == 0x43506e78u)
		return "EXC_CRASHPAD_NSEXCEPTION"; /* 'CPnx': an uncaught NSException */
	return "";
}

/* Where the crashing thread's instruction pointer sits in its CPU context, by architecture: the
 * Windows CONTEXT layouts, which breakpad and crashpad also write for these CPUs (x86 Eip, amd64 Rip,
 * arm64 Pc after ContextFlags, Cpsr and 32 integer registers; breakpad's old arm64 context, 0x8003, has a
 * 64-bit flags word and lands on the same offset). 0 when unknown. */
static uint32_t md_pc_offset(uint16_t arch)
{
	switch (arch) {
	case 0: return 0xb8;      /* x86 */
	case 9: return 0xf8;      /* amd64 */
	case 12: return 0x108;    /* arm64 */
	case 0x8003: return 0x108; /* arm64, breakpad's old layout */
	default: return 0;
	}
}

/* Reads the instruction pointer from the exception's thread context, when it is there and in bounds.
 * A context that is missing or too short is not an error: the dump simply has no pc to give. */
static int md_exception_pc(struct md *m, const unsigned char *b)
{
	struct triage_exception *x = &m->t->exc;
	uint32_t size = ld32le(b + 160), rva = ld32le(b + 164), off = md_pc_offset(m->arch);
	unsigned char pc[8];
	int rc = DS_OK;

	if (off == 0 || size < off + 8 || !dsrc_has(m->src, rva, (uint64_t)off + 8))
		goto out;
	rc = md_read(m, (uint64_t)rva + off, pc, m->is32 ? 4 : 8, "exception thread context");
	if (rc != DS_OK)
		goto out;
	x->pc = m->is32 ? ld32le(pc) : ld64le(pc);
	x->has_pc = x->pc != 0;
out:
	return rc;
}

static int md_exception(struct md *m)
{
	const struct md_loc *l = &m->s[SL_EXCEPTION];
	struct triage_exception *x = &m->t->exc;
	unsigned char b[MD_EXCEPTION_SIZE];
	uint64_t mask = m->is32 ? 0xffffffffu : UINT64_MAX;
	uint32_t i;
	const char *suffix = "";
	int rc = DS_OK;

	if (!l->present)
		goto out;
	if (l->size < MD_EXCEPTION_SIZE) {
		rc = md_corrupt(m, l->dirent, "exception stream too short");
		goto out;
	}
	rc = md_read(m, l->rva, b, sizeof(b), "exception stream");
	if (rc != DS_OK)
		goto out;
	x->nparams = ld32le(b + 32);
	if (x->nparams > 15) {
		rc = md_corrupt(m, (uint64_t)l->rva + 32, "exception NumberParameters over 15");
		goto out;
	}
	x->present = 1;
	x->thread_id = ld32le(b);
	x->code = ld32le(b + 8);
	x->flags = ld32le(b + 12);
	x->address = ld64le(b + 24) & mask;
	for (i = 0; i < x->nparams; i++)
		x->params[i] = ld64le(b + 40 + 8 * i) & mask;
	m->t->has_crashing_thread = 1;
	m->t->crashing_thread_id = x->thread_id;
	rc = md_exception_pc(m, b);
	if (rc != DS_OK)
		goto out;
	switch (m->osk) {
	case OSK_SIGNALS:
		if (x->code == LIN_DUMP_REQUESTED) {
			/* breakpad's "dump requested" marker: a snapshot, not a signal */
			snprintf(x->name, sizeof(x->name), "DUMP_REQUESTED");
			break;
		}
		x->is_signal = 1;
		snprintf(x->name, sizeof(x->name), "%s", triage_signal_name(x->code));
		if (x->code == 11 || x->code == 7) { /* SIGSEGV, SIGBUS: the address is si_addr */
			x->has_fault_address = 1;
			x->fault_address = x->address;
		}
		break;
	case OSK_MACH:
		snprintf(x->name, sizeof(x->name), "%s", md_mach_name(x->code));
		if (x->code == 1) { /* EXC_BAD_ACCESS: the writers record the bad address here */
			x->has_fault_address = 1;
			x->fault_address = x->address;
		}
		break;
	case OSK_WINDOWS:
	case OSK_OTHER:
		if ((x->code == EXC_ACCESS_VIOLATION || x->code == EXC_IN_PAGE_ERROR) && x->nparams >= 2) {
			x->has_fault_address = 1;
			x->fault_address = x->params[1];
			suffix = x->params[0] == 0 ? "_READ" : x->params[0] == 1 ? "_WRITE"
				 : x->params[0] == 8 ? "_EXEC" : "";
		}
		if (triage_exception_name(x->code)[0] != '\0')
			snprintf(x->name, sizeof(x->name), "%s%s", triage_exception_name(x->code), suffix);
		break;
	}
out:
	return rc;
}

static int md_memory_entry(struct md *m, const unsigned char *p, uint64_t at, void *arg)
{
	uint32_t size = ld32le(p + 8), rva = ld32le(p + 12);
	int rc = DS_OK;

	(void)arg;
	if (dsrc_has(m->src, rva, size))
		m->t->mem_bytes += size;
	else
		rc = md_corrupt(m, at + 8, "memory range outside the file");
	return rc;
}

static int md_memory(struct md *m)
{
	struct triage *t = m->t;
	uint32_t count;
	uint64_t first;
	int rc = DS_OK;

	if (!m->s[SL_MEMORY].present)
		goto out;
	rc = md_list(m, SL_MEMORY, MD_MEMDESC_SIZE, UINT32_MAX, 0, &count, &first);
	if (rc == DS_OK)
		rc = md_each(m, first, count, MD_MEMDESC_SIZE, "memory list", md_memory_entry, NULL);
	if (rc != DS_OK)
		goto out;
	t->mem_ranges += count;
out:
	return rc;
}

/* Adds a memory64 range's size to the total at arg, which must stay within the file. */
static int md_memory64_entry(struct md *m, const unsigned char *p, uint64_t at, void *arg)
{
	uint64_t *total = arg, size = ld64le(p + 8);
	int rc = DS_OK;

	if (size <= m->src->size - *total)
		*total += size;
	else
		rc = md_corrupt(m, at + 8, "memory64 ranges larger than the file");
	return rc;
}

static int md_memory64(struct md *m)
{
	const struct md_loc *l = &m->s[SL_MEMORY64];
	struct triage *t = m->t;
	unsigned char b[16];
	uint64_t count, base, total = 0;
	int rc = DS_OK;

	if (!l->present)
		goto out;
	if (l->size < 16) {
		rc = md_corrupt(m, l->dirent, "memory64 list too short");
		goto out;
	}
	rc = md_read(m, l->rva, b, 16, "memory64 list");
	if (rc != DS_OK)
		goto out;
	count = ld64le(b);
	base = ld64le(b + 8);
	if (count > (l->size - 16) / MD_MEMDESC64_SIZE) {
		rc = md_corrupt(m, l->rva, "memory64 count larger than its stream");
		goto out;
	}
	rc = md_each(m, (uint64_t)l->rva + 16, count, MD_MEMDESC64_SIZE, "memory64 list", md_memory64_entry, &total);
	if (rc != DS_OK)
		goto out;
	if (!dsrc_has(m->src, base, total)) {
		rc = md_corrupt(m, (uint64_t)l->rva + 8, "memory64 data extends past the end of the file");
		goto out;
	}
	t->mem_ranges += count;
	t->mem_bytes += total;
	t->full_memory = 1;
out:
	return rc;
}

static int md_meminfo(struct md *m)
{
	const struct md_loc *l = &m->s[SL_MEMINFO];
	uint32_t hsize, esize;
	uint64_t count;
	int rc = DS_OK;

	if (!l->present)
		goto out;
	rc = md_sized_list(m, l, 16, 1, MD_MEMINFO_MIN_ENTRY, "memory info list", &hsize, &esize, &count);
	if (rc == DS_OK)
		m->t->mem_regions = count;
out:
	return rc;
}

static int md_handles(struct md *m)
{
	const struct md_loc *l = &m->s[SL_HANDLES];
	uint32_t hsize, dsize;
	uint64_t count;
	int rc = DS_OK;

	if (!l->present)
		goto out;
	rc = md_sized_list(m, l, 16, 0, MD_HANDLE_MIN_DESC, "handle data", &hsize, &dsize, &count);
	if (rc != DS_OK)
		goto out;
	m->t->has_handles = 1;
	m->t->handle_count = count;
out:
	return rc;
}

/* Reads up to cap bytes of stream sl into a new buffer (*len bytes, NUL-terminated). */
static int md_small_stream(struct md *m, int sl, uint32_t cap, unsigned char **out, size_t *len)
{
	const struct md_loc *l = &m->s[sl];
	int rc;

	*len = l->size < cap ? l->size : cap;
	*out = malloc(*len + 1);
	if (*out == NULL)
		return DS_ENOMEM;
	rc = md_read(m, l->rva, *out, *len, md_slot_name[sl]);
	(*out)[*len] = '\0';
	return rc;
}

/* Decimal number at p (up to end), skipping blanks; 0 if none. */
static int md_parse_u64(const char *p, const char *end, uint64_t *v)
{
	int any = 0;

	*v = 0;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	while (p < end && *p >= '0' && *p <= '9' && *v <= (UINT64_MAX - 9) / 10) {
		*v = *v * 10 + (uint64_t)(*p++ - '0');
		any = 1;
	}
	return any;
}

/* breakpad's copy of /proc/PID/status: the pid (when MiscInfo gave none), the real uid, and the
 * process name (a fallback for process_name). */
static int md_proc_status(struct md *m, char **name)
{
	unsigned char *buf = NULL;
	const char *p, *end, *nl;
	size_t len;
	uint64_t v;
	int rc = DS_OK;

	*name = NULL;
	if (!m->s[SL_PROC_STATUS].present)
		goto out;
	rc = md_small_stream(m, SL_PROC_STATUS, MD_PROC_STATUS_MAX, &buf, &len);
	if (rc != DS_OK)
		goto out;
	for (p = (const char *)buf, end = p + len; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		if (nl - p > 5 && memcmp(p, "Name:", 5) == 0 && *name == NULL) {
			const char *s = p + 5;

			while (s < nl && (*s == ' ' || *s == '\t'))
				s++;
			if (s < nl) {
				size_t nlen = (size_t)(nl - s);

				if (nlen >= TRIAGE_MAX_STRING) {
					m->t->truncated |= TRIAGE_TRUNC_STRINGS;
					nlen = TRIAGE_MAX_STRING - 1;
				}
				*name = md_text_dup((const unsigned char *)s, nlen);
				if (*name == NULL) {
					rc = DS_ENOMEM;
					goto out;
				}
			}
		} else if (nl - p > 4 && memcmp(p, "Pid:", 4) == 0 && !m->t->has_pid &&
			   md_parse_u64(p + 4, nl, &v)) {
			m->t->has_pid = 1;
			m->t->pid = v;
		} else if (nl - p > 4 && memcmp(p, "Uid:", 4) == 0 && !m->t->has_uid &&
			   md_parse_u64(p + 4, nl, &v)) {
			m->t->has_uid = 1;
			m->t->uid = v;
		}
	}
out:
	free(buf);
	return rc;
}

/* breakpad's copy of /proc/PID/cmdline: NUL-separated arguments, joined with spaces. */
static int md_cmdline(struct md *m)
{
	unsigned char *buf = NULL;
	size_t len, i;
	int rc = DS_OK;

	if (!m->s[SL_CMDLINE].present)
		goto out;
	rc = md_small_stream(m, SL_CMDLINE, TRIAGE_MAX_STRING - 1, &buf, &len);
	if (rc != DS_OK)
		goto out;
	if (m->s[SL_CMDLINE].size > TRIAGE_MAX_STRING - 1)
		m->t->truncated |= TRIAGE_TRUNC_STRINGS;
	while (len > 0 && buf[len - 1] == '\0')
		len--;
	for (i = 0; i < len; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	if (len == 0)
		goto out;
	if (!triage_take(m->t, len + 1))
		goto out;
	m->t->command_line = md_text_dup(buf, len);
	if (m->t->command_line == NULL)
		rc = DS_ENOMEM;
out:
	free(buf);
	return rc;
}

/* has_heap for minidumps, decided from the memory the file holds and never from the header flags
 * (Wine's dbghelp, for one, records MiniDumpWithPrivateReadWriteMemory and then writes only small blocks;
 * it also records MiniDumpWithFullMemoryInfo and writes no MemoryInfoList).
 * - With a MemoryInfoList: the GC heap, like every heap, lives in committed private read-write
 *   memory (MEM_COMMIT, MEM_PRIVATE, a writable protection without PAGE_GUARD). has_heap when the
 *   MemoryList and Memory64List ranges back at least half of those bytes: a full or heap dump holds
 *   all of them, a mini dump only the stacks (the rule of the ELF reader, with the regions named by the
 *   dump instead of guessed from file mappings).
 * - Without one, which regions are private is unknown: has_heap when the ranges hold at least
 *   MD_HEAP_MIN_BYTES outside every module image and thread stack. A .NET process's own private memory
 *   (the GC heap's first commit, the loader heaps, the runtime's native heap) is several MiB before it
 *   runs any code; what mini dumps hold besides stacks - data segments, a few blocks around pointers -
 *   lies inside images or is far smaller. */
#define MD_HEAP_MIN_BYTES (1u << 20)
#define MD_HEAP_MAX_SPANS (1u << 20) /* ranges or regions kept per set (16 bytes each) */
#define MD_MEM_COMMIT 0x1000u
#define MD_MEM_PRIVATE 0x20000u
#define MD_PAGE_WRITABLE 0xccu /* PAGE_READWRITE, PAGE_WRITECOPY, PAGE_EXECUTE_READWRITE, ..._WRITECOPY */
#define MD_PAGE_GUARD 0x100u

struct md_span {
	uint64_t start;
	uint64_t end; /* exclusive */
};

struct md_spans {
	struct md_span *v;
	size_t n;
	size_t cap;
};

/* Adds [start, start+size) to s (clamped at the top of the address space); off names the entry. */
static int md_spans_add(struct md *m, struct md_spans *s, uint64_t start, uint64_t size, uint64_t off)
{
	struct md_span *v;
	size_t cap;
	int rc = DS_OK;

	if (size == 0)
		goto out;
	if (s->n == s->cap) {
		if (s->n >= MD_HEAP_MAX_SPANS) {
			rc = ds_err_set(m->e, DS_ETOOBIG, off, "minidump: more than %u memory ranges or regions",
					(unsigned)MD_HEAP_MAX_SPANS);
			goto out;
		}
		cap = s->cap ? s->cap * 2 : 64;
		v = realloc(s->v, cap * sizeof(*v));
		if (v == NULL) {
			rc = DS_ENOMEM;
			goto out;
		}
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n].start = start;
	s->v[s->n].end = size > UINT64_MAX - start ? UINT64_MAX : start + size;
	s->n++;
out:
	return rc;
}

static int md_span_cmp(const void *a, const void *b)
{
	const struct md_span *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* Sorts s and merges overlapping or touching spans (a hostile dump may list memory twice); returns
 * the bytes covered. */
static uint64_t md_spans_norm(struct md_spans *s)
{
	uint64_t total = 0;
	size_t i, k = 0;

	if (s->n == 0)
		return 0;
	qsort(s->v, s->n, sizeof(*s->v), md_span_cmp);
	for (i = 1; i < s->n; i++) {
		if (s->v[i].start <= s->v[k].end) {
			if (s->v[i].end > s->v[k].end)
				s->v[k].end = s->v[i].end;
		} else {
			s->v[++k] = s->v[i];
		}
	}
	s->n = k + 1;
	for (i = 0; i < s->n; i++)
		total += s->v[i].end - s->v[i].start;
	return total;
}

/* Bytes in both a and b, both normalised. */
static uint64_t md_spans_overlap(const struct md_spans *a, const struct md_spans *b)
{
	uint64_t total = 0, lo, hi;
	size_t i = 0, k = 0;

	while (i < a->n && k < b->n) {
		lo = a->v[i].start > b->v[k].start ? a->v[i].start : b->v[k].start;
		hi = a->v[i].end < b->v[k].end ? a->v[i].end : b->v[k].end;
		if (lo < hi)
			total += hi - lo;
		if (a->v[i].end < b->v[k].end)
			i++;
		else
			k++;
	}
	return total;
}

/* The ranges of the MemoryList and the Memory64List (both already checked by md_memory*). */
static int md_span_entry(struct md *m, const unsigned char *p, uint64_t at, void *arg)
{
	return md_spans_add(m, arg, ld64le(p), ld32le(p + 8), at);
}

static int md_span64_entry(struct md *m, const unsigned char *p, uint64_t at, void *arg)
{
	return md_spans_add(m, arg, ld64le(p), ld64le(p + 8), at);
}

static int md_heap_ranges(struct md *m, struct md_spans *r)
{
	unsigned char b[8];
	uint64_t first;
	uint32_t count32;
	int rc = DS_OK;

	if (m->s[SL_MEMORY].present) {
		rc = md_list(m, SL_MEMORY, MD_MEMDESC_SIZE, UINT32_MAX, 0, &count32, &first);
		if (rc == DS_OK)
			rc = md_each(m, first, count32, MD_MEMDESC_SIZE, "memory list", md_span_entry, r);
		if (rc != DS_OK)
			goto out;
	}
	if (m->s[SL_MEMORY64].present) {
		first = (uint64_t)m->s[SL_MEMORY64].rva;
		rc = md_read(m, first, b, 8, "memory64 list");
		if (rc == DS_OK)
			rc = md_each(m, first + 16, ld64le(b), MD_MEMDESC64_SIZE, "memory64 list", md_span64_entry, r);
	}
out:
	return rc;
}

/* The committed private read-write regions of the MemoryInfoList. */
static int md_heap_private(struct md *m, struct md_spans *p)
{
	const struct md_loc *l = &m->s[SL_MEMINFO];
	unsigned char b[MD_MEMINFO_MIN_ENTRY];
	uint32_t hsize, esize, state, protect, type;
	uint64_t count, i, at;
	int rc;

	rc = md_sized_list(m, l, 16, 1, MD_MEMINFO_MIN_ENTRY, "memory info list", &hsize, &esize, &count);
	if (rc == DS_OK && count > MD_HEAP_MAX_SPANS)
		rc = ds_err_set(m->e, DS_ETOOBIG, (uint64_t)l->rva + 8, "minidump: more than %u memory regions",
				(unsigned)MD_HEAP_MAX_SPANS);
	for (i = 0; i < count && rc == DS_OK; i++) {
		at = (uint64_t)l->rva + hsize + i * esize;
		rc = md_read(m, at, b, sizeof(b), "memory info entry");
		if (rc != DS_OK)
			break;
		state = ld32le(b + 32);
		protect = ld32le(b + 36);
		type = ld32le(b + 40);
		if (state == MD_MEM_COMMIT && type == MD_MEM_PRIVATE && (protect & MD_PAGE_WRITABLE) &&
		    !(protect & MD_PAGE_GUARD))
			rc = md_spans_add(m, p, ld64le(b), ld64le(b + 24), at);
	}
	return rc;
}

/* Module images and thread stacks: what a dump without a MemoryInfoList holds besides heaps. */
static int md_heap_known(struct md *m, struct md_spans *x)
{
	unsigned char b[MD_THREAD_SIZE];
	uint32_t count = 0, i;
	uint64_t first = 0;
	size_t j;
	int rc = DS_OK;

	for (j = 0; j < m->t->nmodules && rc == DS_OK; j++)
		rc = md_spans_add(m, x, m->t->modules[j].base, m->t->modules[j].size, 0);
	if (rc == DS_OK && m->s[SL_THREADS].present)
		rc = md_list(m, SL_THREADS, MD_THREAD_SIZE, TRIAGE_MAX_THREADS, TRIAGE_TRUNC_THREADS, &count, &first);
	for (i = 0; i < count && rc == DS_OK; i++) {
		rc = md_read(m, first + (uint64_t)i * MD_THREAD_SIZE, b, sizeof(b), "thread list");
		if (rc == DS_OK)
			rc = md_spans_add(m, x, ld64le(b + 24), ld32le(b + 32), first + (uint64_t)i * MD_THREAD_SIZE);
	}
	return rc;
}

static int md_heap(struct md *m)
{
	struct md_spans r = { 0 }, o = { 0 };
	uint64_t rtotal, ototal;
	int rc;

	rc = md_heap_ranges(m, &r);
	if (rc != DS_OK)
		goto out;
	rtotal = md_spans_norm(&r);
	if (m->s[SL_MEMINFO].present) {
		rc = md_heap_private(m, &o);
		if (rc != DS_OK)
			goto out;
		ototal = md_spans_norm(&o);
		m->t->has_heap = ototal > 0 && md_spans_overlap(&r, &o) >= ototal - ototal / 2;
	} else {
		rc = md_heap_known(m, &o);
		if (rc != DS_OK)
			goto out;
		md_spans_norm(&o);
		m->t->has_heap = rtotal - md_spans_overlap(&r, &o) >= MD_HEAP_MIN_BYTES;
	}
out:
	free(r.v);
	free(o.v);
	return rc;
}

/* The writers record the main executable first, except that on macOS/iOS the dynamic linker
 * (dyld, or dyld_sim in the iOS simulator) may come before it; move the first module that is not
 * the dynamic linker to the front, keeping the others in their recorded order. */
static void md_main_module_first(struct triage *t)
{
	struct triage_module main;
	size_t i;

	for (i = 0; i < t->nmodules; i++)
		if (strcmp(t->modules[i].name, "dyld") != 0 && strcmp(t->modules[i].name, "dyld_sim") != 0)
			break;
	if (i == 0 || i == t->nmodules)
		return;
	main = t->modules[i];
	memmove(&t->modules[1], &t->modules[0], i * sizeof(t->modules[0]));
	t->modules[0] = main;
}

int minidump_read(struct dsrc *src, struct triage *t, struct ds_err *e)
{
	struct md m;
	uint64_t flags = 0, start = src->bytes_read;
	uint32_t timestamp = 0;
	char *status_name = NULL;
	int rc;

	memset(&m, 0, sizeof(m));
	m.src = src;
	m.t = t;
	m.e = e;
	rc = md_directory(&m, &flags, &timestamp);
	if (rc != DS_OK)
		goto out;
	snprintf(t->format, sizeof(t->format), "minidump");
	t->dump_time = timestamp;
	if (flags & MD_FLAG_FULL_MEMORY)
		t->full_memory = 1;
	/* System info first: the architecture and OS decide how addresses and codes are read. */
	if ((rc = md_sysinfo(&m)) != DS_OK || (rc = md_misc(&m)) != DS_OK ||
	    (rc = md_threads(&m)) != DS_OK || (rc = md_thread_names(&m)) != DS_OK ||
	    (rc = md_modules(&m)) != DS_OK || (rc = md_unloaded(&m)) != DS_OK ||
	    (rc = md_exception(&m)) != DS_OK || (rc = md_memory(&m)) != DS_OK ||
	    (rc = md_memory64(&m)) != DS_OK || (rc = md_meminfo(&m)) != DS_OK ||
	    (rc = md_handles(&m)) != DS_OK || (rc = md_proc_status(&m, &status_name)) != DS_OK ||
	    (rc = md_cmdline(&m)) != DS_OK)
		goto out;
	rc = md_heap(&m);
	if (rc != DS_OK)
		goto out;
	if (m.osk == OSK_MACH)
		md_main_module_first(t);
	if (m.s[SL_CRASHPAD_INFO].present)
		snprintf(t->writer, sizeof(t->writer), "crashpad");
	else if (m.any_breakpad)
		snprintf(t->writer, sizeof(t->writer), "breakpad");
	else if (m.osk == OSK_WINDOWS)
		snprintf(t->writer, sizeof(t->writer), "windows");
	if (t->nmodules > 0 && t->modules[0].name[0] != '\0') {
		t->process_name = triage_strdup(t->modules[0].name);
		if (t->process_name == NULL)
			rc = DS_ENOMEM;
	} else if (status_name != NULL) {
		t->process_name = status_name;
		status_name = NULL;
	}
out:
	free(status_name);
	t->bytes_read += src->bytes_read - start;
	return rc;
}
