/* elfcore.c - reads an ELF core file into a struct triage from its ELF header, program headers and
 * PT_NOTE notes (never sections: createdump cores may have an empty section table). Of the memory the
 * PT_LOAD segments hold it reads only the .NET runtime module's (libcoreclr.so), at most 8 MiB, for the
 * runtime's version, so its cost does not grow with the dump; it does not detect the .NET runtime or
 * compute the bucket (triage_finish does that from the modules filled here).
 *
 * Facts used (Linux uapi/kernel headers, gABI, NetBSD's core_elf32.c, dotnet/runtime createdump):
 * - Notes are 4-byte aligned (Linux writes 4 for ELF32 and ELF64); a note segment whose p_align is 8
 *   uses 8 (gABI ELF64 notes, as libelf does).
 * - struct elf_prstatus: pr_info {si_signo, si_code, si_errno} (12 bytes), short pr_cursig, padding to
 *   the word, unsigned long pr_sigpend and pr_sighold, then int pr_pid, pr_ppid, pr_pgrp, pr_sid, four
 *   timevals (2 words each), then pr_reg. Words are the ELF class's (4 or 8 bytes) on every Linux arch.
 * - struct elf_prpsinfo: 4 chars, padding to the word, unsigned long pr_flag, pr_uid/pr_gid (16-bit on
 *   i386 and arm, the 124-byte ELF32 variant; 32-bit elsewhere), int pr_pid, pr_ppid, pr_pgrp, pr_sid,
 *   char pr_fname[16], char pr_psargs[80].
 * - siginfo_t: si_signo, si_errno, si_code (MIPS swaps si_errno and si_code), then a union aligned to
 *   the word whose first member is si_addr for faults. si_addr is meaningful only for a fault,
 *   0 < si_code < SI_KERNEL; si_code <= 0 is a signal sent by a process (SI_USER, SI_TKILL, ...). */
#include "elfcore.h"
#include "dsrc.h"
#include "triage.h"
#include "core/carr.h"
#include "core/plat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EC_ET_CORE 4
#define EC_PT_LOAD 1
#define EC_PT_NOTE 4
#define EC_PF_W 2
#define EC_PN_XNUM 0xffffu

#define EC_EM_386 3
#define EC_EM_MIPS 8
#define EC_EM_PPC 20
#define EC_EM_PPC64 21
#define EC_EM_S390 22
#define EC_EM_ARM 40
#define EC_EM_SPARCV9 43
#define EC_EM_X86_64 62
#define EC_EM_AARCH64 183
#define EC_EM_RISCV 243
#define EC_EM_LOONGARCH 258

#define EC_NT_PRSTATUS 1
#define EC_NT_PRPSINFO 3
#define EC_NT_AUXV 6
#define EC_NT_SIGINFO 0x53494749u
#define EC_NT_FILE 0x46494c45u
#define EC_NETBSD_PROCINFO 1
#define EC_AT_ENTRY 9

#define EC_SIGILL 4
#define EC_SIGBUS 7
#define EC_SIGFPE 8
#define EC_SIGSEGV 11
#define EC_SIGBUS_ALT 10 /* SIGBUS on MIPS and NetBSD */
#define EC_SI_KERNEL 0x80 /* si_code of a signal the kernel raised without a fault address (e.g. #GP) */

/* Limits beyond which a core is treated as corrupt (real cores stay far below them). */
#define EC_MAX_NOTE_SEGS 16                  /* PT_NOTE segments read; more are ignored */
#define EC_MAX_NOTE_BYTES (64u << 20)        /* all note bytes together */
#define EC_MAX_FILE_ENTRIES (1u << 18)       /* NT_FILE mappings kept (Linux allows 65530 by default) */
#define EC_MAX_AUXV 4096u                    /* auxv entries looked at */
#define EC_MAX_PHNUM (1u << 22)              /* program headers (one per mapping) */
#define EC_PHDR_CHUNK 16384u                 /* bytes of program headers fetched per read */

/* has_heap rule: the file backs at least half (by bytes) of the writable anonymous memory, i.e. of
 * the PT_LOAD segments with PF_W that no NT_FILE mapping overlaps (heaps, stacks, the GC heap; all
 * writable segments when there is no NT_FILE). Kernel cores under the default coredump_filter and
 * createdump heap dumps hold all of it; cores filtered down to registers and stacks hold little. */

enum { EC_WRITER_NONE, EC_WRITER_KERNEL, EC_WRITER_GDB, EC_WRITER_CREATEDUMP };

struct ec_noteseg {
	uint64_t off;
	uint64_t size;
	size_t align;
	unsigned char *buf; /* the whole segment, owned */
};

struct ec_map {
	uint64_t start;
	uint64_t end;
	const char *name; /* points into a note buffer; NUL-terminated there */
	size_t namelen;
};

struct ec_group {
	const char *name;
	size_t namelen;
	uint64_t base;
	uint64_t end;
	int has_entry;
};

struct ec {
	struct dsrc *src;
	struct triage *t;
	struct ds_err *e;
	int is64;
	int be;
	unsigned w; /* word size: 4 or 8 */
	uint16_t machine;
	uint64_t phoff;
	uint32_t phnum;
	uint16_t phentsize;
	uint16_t shnum;
	struct ec_noteseg segs[EC_MAX_NOTE_SEGS];
	size_t nsegs;
	uint64_t note_bytes;
	/* what the notes said */
	int nnotes;
	uint32_t first_type;     /* type of the first CORE note */
	int first_seen;
	int saw_core;
	int saw_netbsd;
	int saw_freebsd;
	int createdump_mark;     /* createdump's "CORE\0PRP"-style name padding */
	int saw_gdb;             /* a "GDB" note (gdb's target description) */
	int saw_siginfo;
	int nprstatus;
	uint32_t first_cursig;
	uint64_t first_tid;
	int has_pc;              /* the first thread's instruction pointer */
	uint64_t pc;
	int sig_mixed;           /* two NT_PRSTATUS notes carry different signals */
	int nsignalled;          /* NT_PRSTATUS notes with pr_cursig set; the first of them: */
	uint32_t sig_cursig;
	uint64_t sig_tid;
	int have_siginfo;        /* the first NT_SIGINFO, which belongs to the first thread */
	uint32_t si_signo;
	int32_t si_code;
	uint64_t si_addr;
	int have_entry;
	uint64_t entry;
	char fname[17];
	int netbsd_sig;
	uint32_t netbsd_signo;
	int32_t netbsd_sigcode;
	uint64_t netbsd_siglwp;
	size_t threads_cap;
	int have_file;
	uint64_t file_off;       /* file offset of the NT_FILE data */
	struct ec_map *maps;     /* NT_FILE entries */
	size_t nmaps;
	uint64_t heap_anon;      /* writable anonymous bytes (p_memsz) */
	uint64_t heap_backed;    /* of those, held in the file */
	struct ec_ver *ver;      /* the runtime module's segments while its version is looked for */
};

static uint64_t ec_sat_add(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

static uint16_t ec_16(const struct ec *c, const unsigned char *p)
{
	return c->be ? ld16be(p) : ld16le(p);
}

static uint32_t ec_32(const struct ec *c, const unsigned char *p)
{
	return c->be ? ld32be(p) : ld32le(p);
}

static uint64_t ec_64(const struct ec *c, const unsigned char *p)
{
	return c->be ? ld64be(p) : ld64le(p);
}

/* A word of the ELF class (an unsigned long of the dumped process). */
static uint64_t ec_word(const struct ec *c, const unsigned char *p)
{
	return c->w == 8 ? ec_64(c, p) : ec_32(c, p);
}

static void ec_arch(struct ec *c)
{
	const char *a = "";

	switch (c->machine) {
	case EC_EM_X86_64: a = c->is64 ? "amd64" : "x32"; break;
	case EC_EM_386: a = "x86"; break;
	case EC_EM_AARCH64: a = "arm64"; break;
	case EC_EM_ARM: a = "arm"; break;
	case EC_EM_PPC64: a = c->be ? "ppc64" : "ppc64le"; break;
	case EC_EM_PPC: a = "ppc"; break;
	case EC_EM_S390: a = c->is64 ? "s390x" : "s390"; break;
	case EC_EM_MIPS:
		if (c->is64)
			a = c->be ? "mips64" : "mips64el";
		else
			a = c->be ? "mips" : "mipsel";
		break;
	case EC_EM_RISCV: a = c->is64 ? "riscv64" : "riscv32"; break;
	case EC_EM_LOONGARCH: a = "loongarch64"; break;
	case EC_EM_SPARCV9: a = "sparc64"; break;
	default: break;
	}
	snprintf(c->t->arch, sizeof(c->t->arch), "%s", a);
}

/* Copies at most n bytes of a fixed-size, maybe unterminated field into a new string, dropping
 * trailing blanks (the kernel turns psargs' NULs into spaces and may leave one at the end). */
static char *ec_field_dup(const unsigned char *p, size_t n)
{
	size_t len = 0;
	char *s;

	while (len < n && p[len] != '\0')
		len++;
	while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t' || p[len - 1] == '\n'))
		len--;
	s = malloc(len + 1);
	if (s == NULL)
		return NULL;
	memcpy(s, p, len);
	s[len] = '\0';
	return s;
}

static char *ec_memdup(const char *p, size_t n)
{
	char *s = malloc(n + 1);

	if (s == NULL)
		return NULL;
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

static int ec_add_thread(struct ec *c, uint64_t id, uint64_t off)
{
	struct triage *t = c->t;
	int rc = carr_reserve(&t->threads, &c->threads_cap, t->nthreads, sizeof(*t->threads), TRIAGE_MAX_THREADS);

	(void)off;
	if (rc == DS_ETOOBIG) { /* counted as left out, not an error */
		t->truncated |= TRIAGE_TRUNC_THREADS;
		return DS_OK;
	}
	if (rc != DS_OK)
		return ds_err_setn(c->e, DS_ENOMEM, "out of memory for the thread list");
	t->threads[t->nthreads].id = id;
	t->threads[t->nthreads].name = NULL;
	t->nthreads++;
	return DS_OK;
}

/* Reads the ELF header: class, byte order, type, machine and where the program headers are, with
 * extended numbering (e_phnum == PN_XNUM: the count is section header 0's sh_info). */
static int ec_header(struct ec *c)
{
	unsigned char h[64], sh[64];
	uint64_t shoff;
	uint16_t type, ehsize_min, phent_min, shentsize;
	int rc, xnum;

	if (c->src->size < 16)
		return ds_err_set(c->e, DS_EFORMAT, 0, "not an ELF core: the file is only %llu bytes",
				  (unsigned long long)c->src->size);
	rc = dsrc_read(c->src, 0, h, 16, "ELF identification", c->e);
	if (rc != DS_OK)
		return rc;
	if (memcmp(h, "\177ELF", 4) != 0)
		return ds_err_set(c->e, DS_EFORMAT, 0, "not an ELF file");
	if (h[4] != 1 && h[4] != 2)
		return ds_err_set(c->e, DS_ECORRUPT, 4, "ELF class byte %u is neither 1 (32-bit) nor 2 (64-bit)",
				  h[4]);
	if (h[5] != 1 && h[5] != 2)
		return ds_err_set(c->e, DS_ECORRUPT, 5, "ELF data byte %u is neither 1 (LSB) nor 2 (MSB)", h[5]);
	c->is64 = h[4] == 2;
	c->be = h[5] == 2;
	c->w = c->is64 ? 8 : 4;
	ehsize_min = c->is64 ? 64 : 52;
	phent_min = c->is64 ? 56 : 32;
	rc = dsrc_read(c->src, 0, h, ehsize_min, "ELF header", c->e);
	if (rc != DS_OK)
		return rc;
	type = ec_16(c, h + 16);
	if (type != EC_ET_CORE)
		return ds_err_set(c->e, DS_EFORMAT, 16, "an ELF file of type %u, not a core file (type 4)", type);
	c->machine = ec_16(c, h + 18);
	if (c->is64) {
		c->phoff = ec_64(c, h + 32);
		shoff = ec_64(c, h + 40);
		c->phentsize = ec_16(c, h + 54);
		c->phnum = ec_16(c, h + 56);
		shentsize = ec_16(c, h + 58);
		c->shnum = ec_16(c, h + 60);
	} else {
		c->phoff = ec_32(c, h + 28);
		shoff = ec_32(c, h + 32);
		c->phentsize = ec_16(c, h + 42);
		c->phnum = ec_16(c, h + 44);
		shentsize = ec_16(c, h + 46);
		c->shnum = ec_16(c, h + 48);
	}
	xnum = c->phnum == EC_PN_XNUM;
	if (xnum) {
		if (shoff == 0 || shentsize < (c->is64 ? 64 : 40))
			return ds_err_set(c->e, DS_ECORRUPT, c->is64 ? 56 : 44,
					  "e_phnum is PN_XNUM but there is no usable section header 0 to hold the count");
		if (!dsrc_has(c->src, shoff, c->is64 ? 64 : 40))
			return ds_err_set(c->e, DS_ECORRUPT, c->is64 ? 40 : 32,
					  "section header 0 (at offset 0x%llx, holding the program header count) is "
					  "past the end of the file",
					  (unsigned long long)shoff);
		rc = dsrc_read(c->src, shoff, sh, c->is64 ? 64 : 40, "section header 0 (extended numbering)",
			       c->e);
		if (rc != DS_OK)
			return rc;
		c->phnum = ec_32(c, sh + (c->is64 ? 44 : 28)); /* sh_info */
	}
	if (c->phnum > EC_MAX_PHNUM)
		return ds_err_set(c->e, DS_ECORRUPT, xnum ? shoff : (c->is64 ? 56u : 44u),
				  "%u program headers (more than %u)", c->phnum, EC_MAX_PHNUM);
	if (c->phnum > 0) {
		if (c->phentsize < phent_min)
			return ds_err_set(c->e, DS_ECORRUPT, c->is64 ? 54 : 42,
					  "program header entry size %u is smaller than %u", c->phentsize, phent_min);
		if (!dsrc_has(c->src, c->phoff, (uint64_t)c->phnum * c->phentsize))
			return ds_err_set(c->e, DS_ECORRUPT, c->is64 ? 32 : 28, /* e_phoff */
					  "program header table (%u entries of %u bytes at offset 0x%llx) extends past "
					  "the end of the file",
					  c->phnum, c->phentsize, (unsigned long long)c->phoff);
	}
	snprintf(c->t->format, sizeof(c->t->format), "elf-core");
	ec_arch(c);
	return DS_OK;
}

struct ec_phdr {
	uint32_t type;
	uint32_t flags;
	uint64_t offset;
	uint64_t vaddr;
	uint64_t filesz;
	uint64_t memsz;
	uint64_t align;
	uint64_t at; /* file offset of the header itself */
};

typedef int (*ec_phdr_fn)(struct ec *c, const struct ec_phdr *ph);

/* Calls fn for every program header, fetching them in chunks of at most EC_PHDR_CHUNK bytes. */
static int ec_each_phdr(struct ec *c, ec_phdr_fn fn)
{
	unsigned char *buf = NULL;
	const unsigned char *p;
	uint32_t i = 0, k, n, per;
	struct ec_phdr ph;
	int rc = DS_OK;

	if (c->phnum == 0)
		goto out;
	per = c->phentsize <= EC_PHDR_CHUNK ? EC_PHDR_CHUNK / c->phentsize : 1;
	buf = malloc(per > 1 ? (size_t)per * c->phentsize : 64);
	if (buf == NULL) {
		rc = ds_err_setn(c->e, DS_ENOMEM, "out of memory for program headers");
		goto out;
	}
	while (i < c->phnum) {
		n = c->phnum - i < per ? c->phnum - i : per;
		if (per > 1)
			rc = dsrc_read(c->src, c->phoff + (uint64_t)i * c->phentsize, buf,
				       (size_t)n * c->phentsize, "program headers", c->e);
		else
			rc = dsrc_read(c->src, c->phoff + (uint64_t)i * c->phentsize, buf, c->is64 ? 56 : 32,
				       "program header", c->e);
		if (rc != DS_OK)
			goto out;
		for (k = 0; k < n; k++) {
			p = buf + (size_t)k * (per > 1 ? c->phentsize : 0);
			ph.at = c->phoff + (uint64_t)(i + k) * c->phentsize;
			ph.type = ec_32(c, p);
			if (c->is64) {
				ph.flags = ec_32(c, p + 4);
				ph.offset = ec_64(c, p + 8);
				ph.vaddr = ec_64(c, p + 16);
				ph.filesz = ec_64(c, p + 32);
				ph.memsz = ec_64(c, p + 40);
				ph.align = ec_64(c, p + 48);
			} else {
				ph.offset = ec_32(c, p + 4);
				ph.vaddr = ec_32(c, p + 8);
				ph.filesz = ec_32(c, p + 16);
				ph.memsz = ec_32(c, p + 20);
				ph.flags = ec_32(c, p + 24);
				ph.align = ec_32(c, p + 28);
			}
			rc = fn(c, &ph);
			if (rc != DS_OK)
				goto out;
		}
		i += n;
	}
out:
	free(buf);
	return rc;
}

/* First pass: remembers the note segments and counts the memory the PT_LOAD segments hold. */
static int ec_phdr_scan(struct ec *c, const struct ec_phdr *ph)
{
	struct ec_noteseg *s;
	uint64_t held;

	if (ph->type == EC_PT_LOAD) {
		c->t->mem_ranges++;
		/* Bytes the file really holds: a truncated core claims more than it has. */
		held = 0;
		if (ph->offset < c->src->size)
			held = ph->filesz < c->src->size - ph->offset ? ph->filesz : c->src->size - ph->offset;
		c->t->mem_bytes = ec_sat_add(c->t->mem_bytes, held);
		return DS_OK;
	}
	if (ph->type != EC_PT_NOTE || ph->filesz == 0 || c->nsegs >= EC_MAX_NOTE_SEGS)
		return DS_OK;
	if (!dsrc_has(c->src, ph->offset, ph->filesz))
		return ds_err_set(c->e, DS_ECORRUPT, ph->at,
				  "note segment (%llu bytes at offset 0x%llx) extends past the end of the file",
				  (unsigned long long)ph->filesz, (unsigned long long)ph->offset);
	if (ph->filesz > EC_MAX_NOTE_BYTES - c->note_bytes)
		return ds_err_set(c->e, DS_ECORRUPT, ph->at, "note segments hold more than %u bytes",
				  EC_MAX_NOTE_BYTES);
	c->note_bytes += ph->filesz;
	s = &c->segs[c->nsegs++];
	s->off = ph->offset;
	s->size = ph->filesz;
	s->align = ph->align == 8 ? 8 : 4;
	return DS_OK;
}

/* Index of the instruction pointer among pr_reg's words, per architecture (user_regs_struct and
 * friends): x86_64 rip, i386 eip, aarch64 pc, arm r15, ppc nip, s390 psw.addr, mips cp0_epc (after 6
 * padding words on 32-bit), riscv pc, loongarch csr_era. -1 when unknown. */
static int ec_pc_index(const struct ec *c)
{
	switch (c->machine) {
	case EC_EM_X86_64: return c->is64 ? 16 : -1;
	case EC_EM_386: return 12;
	case EC_EM_AARCH64: return 32;
	case EC_EM_ARM: return 15;
	case EC_EM_PPC64:
	case EC_EM_PPC: return 32;
	case EC_EM_S390: return 1;
	case EC_EM_MIPS: return c->is64 ? 34 : 40;
	case EC_EM_RISCV: return 0;
	case EC_EM_LOONGARCH: return 33;
	default: return -1;
	}
}

/* NT_PRSTATUS: one per thread; the first is the thread that took the signal (kernel cores). */
static int ec_prstatus(struct ec *c, const unsigned char *d, uint32_t n, uint64_t off)
{
	size_t pid_off = 16 + 2 * (size_t)c->w;
	uint64_t tid;
	uint32_t cursig;
	int rc;

	if (n < pid_off + 4)
		return ds_err_set(c->e, DS_ECORRUPT, off, "NT_PRSTATUS note of %u bytes is too small", n);
	cursig = ec_16(c, d + 12);
	tid = ec_32(c, d + pid_off);
	rc = ec_add_thread(c, tid, off);
	if (rc != DS_OK)
		return rc;
	if (cursig != 0 && c->nsignalled > 0 && cursig != c->sig_cursig)
		c->sig_mixed = 1;
	if (cursig != 0 && c->nsignalled++ == 0) {
		c->sig_cursig = cursig;
		c->sig_tid = tid;
	}
	if (c->nprstatus++ == 0) {
		/* pr_reg follows pr_pid, pr_ppid, pr_pgrp, pr_sid and four timevals of two words */
		size_t reg = pid_off + 16 + 8 * (size_t)c->w;
		int ix = ec_pc_index(c);

		c->first_cursig = cursig;
		c->first_tid = tid;
		if (ix >= 0 && n >= reg + ((size_t)ix + 1) * c->w) {
			c->has_pc = 1;
			c->pc = ec_word(c, d + reg + (size_t)ix * c->w);
		}
	}
	return DS_OK;
}

/* NT_PRPSINFO: the process's pid, uid, command name and arguments. */
static int ec_prpsinfo(struct ec *c, const unsigned char *d, uint32_t n, uint64_t off)
{
	struct triage *t = c->t;
	size_t uid_off, pid_off, fname_off, uid_size;

	if (c->is64) {
		if (n < 136)
			return ds_err_set(c->e, DS_ECORRUPT, off, "NT_PRPSINFO note of %u bytes is too small", n);
		uid_off = 16, uid_size = 4, pid_off = 24, fname_off = 40;
	} else if (n == 124) { /* i386, arm: 16-bit uid/gid */
		uid_off = 8, uid_size = 2, pid_off = 12, fname_off = 28;
	} else if (n >= 128) {
		uid_off = 8, uid_size = 4, pid_off = 16, fname_off = 32;
	} else {
		return ds_err_set(c->e, DS_ECORRUPT, off, "NT_PRPSINFO note of %u bytes is too small", n);
	}
	if (t->process_name != NULL) /* a second PRPSINFO adds nothing */
		return DS_OK;
	t->has_uid = 1;
	t->uid = uid_size == 2 ? ec_16(c, d + uid_off) : ec_32(c, d + uid_off);
	t->has_pid = 1;
	t->pid = ec_32(c, d + pid_off);
	memcpy(c->fname, d + fname_off, 16);
	c->fname[16] = '\0';
	t->process_name = ec_field_dup(d + fname_off, 16);
	t->command_line = ec_field_dup(d + fname_off + 16, 80);
	if (t->process_name == NULL || t->command_line == NULL)
		return ds_err_setn(c->e, DS_ENOMEM, "out of memory");
	return DS_OK;
}

/* NT_SIGINFO: a siginfo_t. Only the first is kept: kernel cores have one (the dumping thread's),
 * gdb writes one after each thread's NT_PRSTATUS, so the first belongs to the first thread. */
static int ec_siginfo(struct ec *c, const unsigned char *d, uint32_t n, uint64_t off)
{
	size_t addr_off = c->is64 ? 16 : 12;

	c->saw_siginfo = 1;
	if (c->have_siginfo)
		return DS_OK;
	if (n < addr_off + c->w)
		return ds_err_set(c->e, DS_ECORRUPT, off, "NT_SIGINFO note of %u bytes is too small", n);
	c->have_siginfo = 1;
	c->si_signo = ec_32(c, d);
	c->si_code = (int32_t)ec_32(c, d + (c->machine == EC_EM_MIPS ? 4 : 8));
	c->si_addr = ec_word(c, d + addr_off);
	return DS_OK;
}

/* NT_AUXV: pairs of words. AT_EXECFN and friends point into memory we do not read; AT_ENTRY tells
 * which mapped file is the main executable. */
static int ec_auxv(struct ec *c, const unsigned char *d, uint32_t n)
{
	uint32_t i, count = n / (2 * c->w);

	if (count > EC_MAX_AUXV)
		count = EC_MAX_AUXV;
	for (i = 0; i < count && !c->have_entry; i++) {
		uint64_t type = ec_word(c, d + (size_t)i * 2 * c->w);

		if (type == 0)
			break;
		if (type == EC_AT_ENTRY) {
			c->have_entry = 1;
			c->entry = ec_word(c, d + (size_t)i * 2 * c->w + c->w);
		}
	}
	return DS_OK;
}

/* NT_FILE: count, page size, count x {start, end, file offset in pages}, then count NUL-terminated
 * names. The entries point into the note buffer, which lives until the read ends. */
static int ec_ntfile(struct ec *c, const unsigned char *d, uint32_t n, uint64_t off)
{
	uint64_t count;
	size_t i, pos, left, len;
	const unsigned char *nul;

	if (c->have_file)
		return DS_OK;
	if (n < 2 * c->w)
		return ds_err_set(c->e, DS_ECORRUPT, off, "NT_FILE note of %u bytes is too small", n);
	count = ec_word(c, d);
	if (count > (n - 2 * c->w) / (3 * c->w))
		return ds_err_set(c->e, DS_ECORRUPT, off, "NT_FILE claims %llu mappings in %u bytes",
				  (unsigned long long)count, n);
	c->have_file = 1;
	c->file_off = off;
	if (count == 0)
		return DS_OK;
	/* the names follow all count entries; only the first `keep` mappings are kept (memory budget) */
	pos = 2 * (size_t)c->w + 3 * (size_t)c->w * (size_t)count;
	if (count > EC_MAX_FILE_ENTRIES) {
		count = EC_MAX_FILE_ENTRIES;
		c->t->truncated |= TRIAGE_TRUNC_MAPS;
	}
	c->maps = calloc((size_t)count, sizeof(*c->maps));
	if (c->maps == NULL)
		return ds_err_setn(c->e, DS_ENOMEM, "out of memory for %llu file mappings",
				   (unsigned long long)count);
	for (i = 0; i < count; i++) {
		const unsigned char *ent = d + 2 * c->w + i * 3 * c->w;
		struct ec_map *m = &c->maps[i];

		m->start = ec_word(c, ent);
		m->end = ec_word(c, ent + c->w);
		if (m->end < m->start)
			return ds_err_set(c->e, DS_ECORRUPT, off + 2 * c->w + i * 3 * c->w,
					  "NT_FILE mapping %zu ends (0x%llx) before it starts (0x%llx)", i,
					  (unsigned long long)m->end, (unsigned long long)m->start);
		left = n - pos;
		nul = left > 0 ? memchr(d + pos, '\0', left) : NULL;
		if (nul == NULL)
			return ds_err_set(c->e, DS_ECORRUPT, off + pos,
					  "NT_FILE name %zu of %llu is missing or unterminated", i,
					  (unsigned long long)count);
		len = (size_t)(nul - (d + pos));
		m->name = (const char *)(d + pos);
		m->namelen = len;
		if (len >= TRIAGE_MAX_STRING) { /* cut, not refused: a long path is no corruption */
			m->namelen = TRIAGE_MAX_STRING - 1;
			c->t->truncated |= TRIAGE_TRUNC_STRINGS;
		}
		pos += len + 1;
		c->nmaps++;
	}
	return DS_OK;
}

/* NetBSD-CORE type 1: struct netbsd_elfcore_procinfo (version, size, signo, sigcode, 4 x 16 bytes of
 * signal sets, pid, ppid, pgrp, sid, ruid, euid, svuid, rgid, egid, svgid, nlwps, name[32], siglwp). */
static int ec_netbsd_procinfo(struct ec *c, const unsigned char *d, uint32_t n)
{
	struct triage *t = c->t;

	if (n < 124 || t->has_pid) /* not a layout we know, or a second one: read nothing */
		return DS_OK;
	c->netbsd_sig = 1;
	c->netbsd_signo = ec_32(c, d + 8);
	c->netbsd_sigcode = (int32_t)ec_32(c, d + 12);
	t->has_pid = 1;
	t->pid = ec_32(c, d + 80);
	t->has_uid = 1;
	t->uid = ec_32(c, d + 96);
	if (n >= 156) {
		t->process_name = ec_field_dup(d + 124, 32);
		if (t->process_name == NULL)
			return ds_err_setn(c->e, DS_ENOMEM, "out of memory");
	}
	if (n >= 160)
		c->netbsd_siglwp = ec_32(c, d + 156);
	return DS_OK;
}

/* "NetBSD-CORE@<lwp>": per-thread register notes; the thread list comes from their names. */
static int ec_netbsd_lwp(struct ec *c, const char *digits, size_t len, uint64_t off)
{
	uint64_t id = 0;
	size_t i;

	if (len == 0 || len > 10)
		return DS_OK;
	for (i = 0; i < len; i++) {
		if (digits[i] < '0' || digits[i] > '9')
			return DS_OK;
		id = id * 10 + (uint64_t)(digits[i] - '0');
	}
	for (i = 0; i < c->t->nthreads; i++)
		if (c->t->threads[i].id == id)
			return DS_OK;
	return ec_add_thread(c, id, off);
}

/* createdump pads the 5-byte "CORE" name to 8 with three letters naming the note ("CORE\0PRP");
 * the kernel and gdb pad with zeros. */
static int ec_is_createdump_pad(const unsigned char *name, uint32_t namesz, size_t padded)
{
	static const char *const tags[] = { "PRP", "AUX", "FIL", "THR", "FLT" };
	size_t i;

	if (namesz != 5 || padded != 8)
		return 0;
	for (i = 0; i < DS_ARRAY_LEN(tags); i++)
		if (memcmp(name + 5, tags[i], 3) == 0)
			return 1;
	return 0;
}

static int ec_align(uint64_t v, size_t a, uint64_t *out)
{
	uint64_t r = (v + (a - 1)) & ~(uint64_t)(a - 1);

	*out = r;
	return r >= v; /* 0 on overflow */
}

/* Walks one note segment (already in memory) with the segment's alignment. */
static int ec_walk_notes(struct ec *c, struct ec_noteseg *s)
{
	const unsigned char *b = s->buf;
	uint64_t pos = 0, size = s->size, name_end, desc_off, desc_end, next, at;
	uint32_t namesz, descsz, type;
	const char *name;
	size_t nlen;
	int rc = DS_OK;

	while (size - pos >= 12) {
		at = s->off + pos;
		namesz = ec_32(c, b + pos);
		descsz = ec_32(c, b + pos + 4);
		type = ec_32(c, b + pos + 8);
		if (!ec_align(pos + 12 + namesz, s->align, &name_end) || name_end > size ||
		    pos + 12 + namesz > size)
			return ds_err_set(c->e, DS_ECORRUPT, at,
					  "note name (%u bytes) extends past its segment (%llu bytes at 0x%llx)",
					  namesz, (unsigned long long)size, (unsigned long long)s->off);
		desc_off = name_end;
		desc_end = desc_off + descsz;
		if (desc_end > size)
			return ds_err_set(c->e, DS_ECORRUPT, at,
					  "note data (%u bytes) extends past its segment (%llu bytes at 0x%llx)",
					  descsz, (unsigned long long)size, (unsigned long long)s->off);
		/* The last note's padding may be missing. */
		if (!ec_align(desc_end, s->align, &next) || next > size)
			next = size;
		name = (const char *)(b + pos + 12);
		nlen = 0;
		while (nlen < namesz && name[nlen] != '\0')
			nlen++;
		c->nnotes++;
		if (nlen == 4 && memcmp(name, "CORE", 4) == 0) {
			c->saw_core = 1;
			if (!c->first_seen) {
				c->first_seen = 1;
				c->first_type = type;
			}
			if (ec_is_createdump_pad(b + pos + 12, namesz, (size_t)(name_end - pos - 12)))
				c->createdump_mark = 1;
			switch (type) {
			case EC_NT_PRSTATUS: rc = ec_prstatus(c, b + desc_off, descsz, at); break;
			case EC_NT_PRPSINFO: rc = ec_prpsinfo(c, b + desc_off, descsz, at); break;
			case EC_NT_SIGINFO: rc = ec_siginfo(c, b + desc_off, descsz, at); break;
			case EC_NT_AUXV: rc = ec_auxv(c, b + desc_off, descsz); break;
			case EC_NT_FILE: rc = ec_ntfile(c, b + desc_off, descsz, s->off + desc_off); break;
			default: break;
			}
		} else if (nlen >= 11 && memcmp(name, "NetBSD-CORE", 11) == 0) {
			c->saw_netbsd = 1;
			if (!c->first_seen) {
				c->first_seen = 1;
				c->first_type = type;
			}
			if (nlen == 11 && type == EC_NETBSD_PROCINFO)
				rc = ec_netbsd_procinfo(c, b + desc_off, descsz);
			else if (nlen > 12 && name[11] == '@')
				rc = ec_netbsd_lwp(c, name + 12, nlen - 12, at);
		} else if (nlen == 3 && memcmp(name, "GDB", 3) == 0) {
			c->saw_gdb = 1;
		} else if (nlen == 7 && memcmp(name, "FreeBSD", 7) == 0) {
			c->saw_freebsd = 1;
		}
		if (rc != DS_OK)
			return rc;
		pos = next;
	}
	return DS_OK;
}

static int ec_read_notes(struct ec *c)
{
	size_t i;
	int rc = DS_OK;

	for (i = 0; i < c->nsegs; i++) {
		struct ec_noteseg *s = &c->segs[i];

		s->buf = malloc((size_t)s->size);
		if (s->buf == NULL)
			return ds_err_setn(c->e, DS_ENOMEM, "out of memory for a %llu-byte note segment",
					   (unsigned long long)s->size);
		rc = dsrc_read(c->src, s->off, s->buf, (size_t)s->size, "note segment", c->e);
		if (rc != DS_OK)
			return rc;
		rc = ec_walk_notes(c, s);
		if (rc != DS_OK)
			return rc;
	}
	return rc;
}

static int ec_cmp_map_name(const void *a, const void *b)
{
	const struct ec_map *x = a, *y = b;
	size_t n = x->namelen < y->namelen ? x->namelen : y->namelen;
	int r = memcmp(x->name, y->name, n);

	if (r != 0)
		return r;
	if (x->namelen != y->namelen)
		return x->namelen < y->namelen ? -1 : 1;
	return x->start < y->start ? -1 : x->start > y->start;
}

static int ec_cmp_map_start(const void *a, const void *b)
{
	const struct ec_map *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static int ec_cmp_group_base(const void *a, const void *b)
{
	const struct ec_group *x = a, *y = b;

	if (x->base != y->base)
		return x->base < y->base ? -1 : 1;
	return x->end < y->end ? -1 : x->end > y->end;
}

/* 1 if the basename of the group's path starts with the (maybe truncated) process name. */
static int ec_group_matches_fname(const struct ec_group *g, const char *fname)
{
	size_t flen = strlen(fname), i, b = 0;

	if (flen == 0)
		return 0;
	for (i = 0; i < g->namelen; i++)
		if (g->name[i] == '/')
			b = i + 1;
	return g->namelen - b >= flen && memcmp(g->name + b, fname, flen) == 0;
}

/* Builds the module list: one module per distinct NT_FILE path, spanning its lowest start to its
 * highest end, ordered by base with the main executable first (the file mapped at AT_ENTRY, else the
 * first whose name starts with the process name). Leaves c->maps sorted by start. */
static int ec_modules(struct ec *c)
{
	struct triage *t = c->t;
	struct ec_group *g = NULL, tmp;
	size_t i, ng = 0, main_ix = (size_t)-1;
	int rc = DS_OK;

	if (c->nmaps == 0)
		goto out;
	qsort(c->maps, c->nmaps, sizeof(*c->maps), ec_cmp_map_name);
	g = calloc(c->nmaps, sizeof(*g));
	if (g == NULL) {
		rc = ds_err_setn(c->e, DS_ENOMEM, "out of memory for modules");
		goto out;
	}
	for (i = 0; i < c->nmaps; i++) {
		const struct ec_map *m = &c->maps[i];
		int hit = c->have_entry && c->entry >= m->start && c->entry < m->end;

		if (ng > 0 && g[ng - 1].namelen == m->namelen && memcmp(g[ng - 1].name, m->name, m->namelen) == 0) {
			/* sorted by start within a name: base is the first start */
			if (m->end > g[ng - 1].end)
				g[ng - 1].end = m->end;
			g[ng - 1].has_entry |= hit;
			continue;
		}
		if (ng >= TRIAGE_MAX_MODULES) {
			t->truncated |= TRIAGE_TRUNC_MODULES;
			break;
		}
		g[ng].name = m->name;
		g[ng].namelen = m->namelen;
		g[ng].base = m->start;
		g[ng].end = m->end;
		g[ng].has_entry = hit;
		ng++;
	}
	qsort(g, ng, sizeof(*g), ec_cmp_group_base);
	for (i = 0; i < ng && main_ix == (size_t)-1; i++)
		if (g[i].has_entry)
			main_ix = i;
	for (i = 0; i < ng && main_ix == (size_t)-1; i++)
		if (ec_group_matches_fname(&g[i], c->fname))
			main_ix = i;
	if (main_ix != (size_t)-1 && main_ix > 0) {
		tmp = g[main_ix];
		memmove(&g[1], &g[0], main_ix * sizeof(*g));
		g[0] = tmp;
	}
	t->modules = calloc(ng, sizeof(*t->modules));
	if (t->modules == NULL) {
		rc = ds_err_setn(c->e, DS_ENOMEM, "out of memory for modules");
		goto out;
	}
	for (i = 0; i < ng; i++) {
		struct triage_module *m = &t->modules[i];

		/* past the string budget a module keeps its address but not its name */
		m->path = triage_take(t, g[i].namelen + 1) ? ec_memdup(g[i].name, g[i].namelen) : triage_strdup("");
		m->name = m->path != NULL ? triage_strdup(triage_basename(m->path)) : NULL;
		t->nmodules++;
		if (m->path == NULL || m->name == NULL) {
			rc = ds_err_setn(c->e, DS_ENOMEM, "out of memory for module names");
			goto out;
		}
		m->base = g[i].base;
		m->size = g[i].end - g[i].base;
	}
	/* The kernel truncates the command name to 15 bytes; the executable's file name is whole. */
	if (main_ix != (size_t)-1 && t->process_name != NULL && strlen(t->process_name) >= 15 &&
	    strncmp(t->modules[0].name, t->process_name, strlen(t->process_name)) == 0) {
		char *full = triage_strdup(t->modules[0].name);

		if (full == NULL) {
			rc = ds_err_setn(c->e, DS_ENOMEM, "out of memory");
			goto out;
		}
		free(t->process_name);
		t->process_name = full;
	}
out:
	if (c->nmaps > 0)
		qsort(c->maps, c->nmaps, sizeof(*c->maps), ec_cmp_map_start);
	free(g);
	return rc;
}

/* 1 if some NT_FILE mapping overlaps [start, end); c->maps is sorted by start. */
static int ec_file_backed(const struct ec *c, uint64_t start, uint64_t end)
{
	size_t lo = 0, hi = c->nmaps, mid;

	/* last mapping with map.start < end */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (c->maps[mid].start < end)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > 0 && c->maps[lo - 1].end > start;
}

/* Second pass over the program headers: writable anonymous memory and how much of it the file holds. */
static int ec_phdr_heap(struct ec *c, const struct ec_phdr *ph)
{
	uint64_t held = 0, end;

	if (ph->type != EC_PT_LOAD || !(ph->flags & EC_PF_W) || ph->memsz == 0)
		return DS_OK;
	end = ph->vaddr + ph->memsz < ph->vaddr ? UINT64_MAX : ph->vaddr + ph->memsz;
	if (c->nmaps > 0 && ec_file_backed(c, ph->vaddr, end))
		return DS_OK;
	if (ph->offset < c->src->size)
		held = ph->filesz < c->src->size - ph->offset ? ph->filesz : c->src->size - ph->offset;
	if (held > ph->memsz)
		held = ph->memsz;
	c->heap_anon = ec_sat_add(c->heap_anon, ph->memsz);
	c->heap_backed = ec_sat_add(c->heap_backed, held);
	return DS_OK;
}

static void ec_signal(struct ec *c, uint32_t sig, uint64_t tid, int has_tid, int with_pc)
{
	struct triage_exception *x = &c->t->exc;
	int alt_bus = c->machine == EC_EM_MIPS || c->saw_netbsd;
	uint32_t bus = alt_bus ? EC_SIGBUS_ALT : EC_SIGBUS;

	x->present = 1;
	x->is_signal = 1;
	x->code = sig;
	snprintf(x->name, sizeof(x->name), "%s", sig == bus ? "SIGBUS" :
		 (alt_bus && sig == EC_SIGBUS) ? "" : triage_signal_name(sig));
	if (has_tid)
		x->thread_id = tid;
	if (with_pc && c->has_pc) {
		x->has_pc = 1;
		x->pc = c->pc;
	}
	if (c->have_siginfo && c->si_signo == sig) {
		/* si_code goes where breakpad's Linux minidumps put it: the exception flags. si_addr is
		 * an address only for a fault the kernel raised (0 < si_code < SI_KERNEL). */
		int fault = c->si_code > 0 && c->si_code < EC_SI_KERNEL;

		x->flags = (uint32_t)c->si_code;
		if (fault && (sig == EC_SIGSEGV || sig == bus || sig == EC_SIGILL || sig == EC_SIGFPE))
			x->address = c->si_addr;
		if (fault && (sig == EC_SIGSEGV || sig == bus)) {
			x->has_fault_address = 1;
			x->fault_address = c->si_addr;
		}
	}
}

/* Decides os, writer, the signal and the crashing thread from what the notes said. */
static void ec_conclude(struct ec *c)
{
	struct triage *t = c->t;
	int writer = EC_WRITER_NONE;
	static const char *const writers[] = { "", "kernel", "gdb", "createdump" };
	uint32_t sig = 0;

	if (c->saw_core) {
		snprintf(t->os, sizeof(t->os), "linux");
		/* createdump pads note names with tags; gdb 8+ adds a "GDB" note and, like older gdb
		 * (through BFD), writes the process info first; the kernel writes the dumping thread's
		 * status first. */
		if (c->createdump_mark)
			writer = EC_WRITER_CREATEDUMP;
		else if (c->saw_gdb)
			writer = EC_WRITER_GDB;
		else if (c->first_type == EC_NT_PRSTATUS)
			writer = EC_WRITER_KERNEL;
		else if (c->first_type == EC_NT_PRPSINFO)
			writer = EC_WRITER_GDB;
	} else if (c->saw_netbsd) {
		snprintf(t->os, sizeof(t->os), "netbsd");
		if (c->first_type == EC_NETBSD_PROCINFO)
			writer = EC_WRITER_KERNEL;
	} else if (c->saw_freebsd) {
		snprintf(t->os, sizeof(t->os), "freebsd");
	}
	snprintf(t->writer, sizeof(t->writer), "%s", writers[writer]);

	if (c->saw_netbsd && !c->saw_core) {
		if (c->netbsd_sig && c->netbsd_signo != 0)
			ec_signal(c, c->netbsd_signo, c->netbsd_siglwp, c->netbsd_siglwp != 0, 0);
		if (c->netbsd_siglwp != 0) {
			t->has_crashing_thread = 1;
			t->crashing_thread_id = c->netbsd_siglwp;
		}
		return;
	}
	if (c->nprstatus == 0)
		return;
	/* No NT_PRPSINFO (some writers leave it out): the first thread's status names the process;
	 * its pr_pid is that thread's id, the process id for the main thread that createdump and gdb
	 * write first (issue 12 item 8). */
	if (!t->has_pid) {
		t->has_pid = 1;
		t->pid = c->first_tid;
	}
	/* createdump up to .NET 6 writes the same signal (SIGABRT: the runtime aborts) into every
	 * thread's status and no NT_SIGINFO: the signal is reported, but no thread is claimed (any of
	 * them could be it; its .crashreport.json says which). Later createdump sets pr_cursig only in
	 * the crashing thread's status, followed by an NT_SIGINFO ("CORE\0SIG"); that thread need not be
	 * the first. Its registers are those of the thread waiting in the runtime's crash handler, not
	 * of the fault, so no pc is claimed. */
	if (writer == EC_WRITER_CREATEDUMP) {
		if (!c->saw_siginfo && c->nsignalled == c->nprstatus && c->nsignalled > 1 && !c->sig_mixed) {
			ec_signal(c, c->sig_cursig, 0, 0, 0);
			return;
		}
		if (!c->saw_siginfo || c->nsignalled != 1)
			return;
		t->has_crashing_thread = 1;
		t->crashing_thread_id = c->sig_tid;
		ec_signal(c, c->sig_cursig, c->sig_tid, 1, 0);
		return;
	}
	sig = c->first_cursig;
	if (sig == 0 && writer == EC_WRITER_KERNEL && c->have_siginfo)
		sig = c->si_signo;
	/* gdb records the signal each thread stopped with; 0 means it was not stopped by one (gcore
	 * of a live process), and the thread is then just the one gdb had selected. */
	if (sig == 0 && writer != EC_WRITER_KERNEL)
		return;
	t->has_crashing_thread = 1;
	t->crashing_thread_id = c->first_tid;
	if (sig != 0)
		ec_signal(c, sig, c->first_tid, 1, 1);
}

/* ---- The .NET runtime's version from its image (libcoreclr.so) ----
 * NT_FILE records no version and a self-contained app's path names none, so the version is read from
 * the "@(#)Version <file version> @Commit: ..." string the runtime embeds in its read-only data: first
 * from the image's pages the core holds (a full dump has them; createdump heap dumps usually do not),
 * then from the file at the recorded path when the dump is read from a file, taken only when that
 * file's GNU build id equals the one in the image header the core holds (so a file replaced since the
 * crash, or any other file the dump names, gives nothing). Every read is bounded. */
#define EC_VER_MARK "@(#)Version "
#define EC_VER_MARKLEN (sizeof(EC_VER_MARK) - 1)
#define EC_VER_CHUNK 65536u
#define EC_VER_KEEP 64u               /* bytes carried into the next chunk: a marker and a version */
#define EC_VER_MAX_MEM (8u << 20)     /* module memory scanned in the core */
#define EC_VER_MAX_FILE (64u << 20)   /* largest runtime file on disk that is scanned */
#define EC_VER_MAX_LOADS 64u          /* PT_LOAD segments of the module looked at */
#define EC_VER_HDR 4096u              /* bytes of the image's start read for its headers and notes */
#define EC_VER_MAX_ID 64u             /* longest build id */
#define EC_PT_NOTE_GNU_BUILD_ID 3

struct ec_ver_seg {
	uint64_t va;
	uint64_t off;
	uint64_t len;
};

struct ec_ver {
	uint64_t lo, hi; /* the module's address range */
	struct ec_ver_seg seg[EC_VER_MAX_LOADS];
	size_t nseg;
};

/* Collects the PT_LOAD bytes the file holds inside the module's range (clipped to both). */
static int ec_ver_load(struct ec *c, const struct ec_phdr *ph)
{
	struct ec_ver *v = c->ver;
	uint64_t held = 0, lo, hi;

	if (ph->type != EC_PT_LOAD || v->nseg >= EC_VER_MAX_LOADS || ph->offset >= c->src->size)
		return DS_OK;
	held = ph->filesz < c->src->size - ph->offset ? ph->filesz : c->src->size - ph->offset;
	if (held > ph->memsz)
		held = ph->memsz;
	lo = ph->vaddr > v->lo ? ph->vaddr : v->lo;
	hi = held > UINT64_MAX - ph->vaddr ? UINT64_MAX : ph->vaddr + held;
	if (hi > v->hi)
		hi = v->hi;
	if (lo >= hi)
		return DS_OK;
	v->seg[v->nseg].va = lo;
	v->seg[v->nseg].off = ph->offset + (lo - ph->vaddr);
	v->seg[v->nseg].len = hi - lo;
	v->nseg++;
	return DS_OK;
}

/* Finds the marker in buf[0, n) followed by a version ("8.0.3126.42015": digits and dots) that ends
 * inside buf; copies it to out. 1 when found. */
static int ec_ver_find(const unsigned char *buf, size_t n, char *out, size_t outsz)
{
	size_t i, k;

	for (i = 0; n >= EC_VER_MARKLEN && i <= n - EC_VER_MARKLEN; i++) {
		if (buf[i] != '@' || memcmp(buf + i, EC_VER_MARK, EC_VER_MARKLEN) != 0)
			continue;
		for (k = i + EC_VER_MARKLEN; k < n && ((buf[k] >= '0' && buf[k] <= '9') || buf[k] == '.'); k++)
			;
		k -= i + EC_VER_MARKLEN;
		if (k > 0 && k < outsz && i + EC_VER_MARKLEN + k < n && buf[i + EC_VER_MARKLEN] != '.') {
			memcpy(out, buf + i + EC_VER_MARKLEN, k);
			out[k] = '\0';
			return 1;
		}
	}
	return 0;
}

/* Where the bytes come from: the core (src, at file offsets) or a file on disk. */
struct ec_ver_src {
	struct dsrc *core;
	struct plat_file *file;
};

static int ec_ver_read(const struct ec_ver_src *s, uint64_t off, unsigned char *dst, size_t n)
{
	struct ds_err scratch;

	if (s->file != NULL)
		return plat_file_read_at(s->file, off, dst, n);
	return dsrc_read(s->core, off, dst, n, "runtime module memory", &scratch);
}

/* Scans [off, off + len) of s in chunks (buf: EC_VER_CHUNK + EC_VER_KEEP bytes) for the version. */
static int ec_ver_scan(const struct ec_ver_src *s, uint64_t off, uint64_t len, unsigned char *buf, char *out,
		       size_t outsz)
{
	uint64_t pos = 0;
	size_t keep = 0, n, total;
	int found = 0;

	while (pos < len && !found) {
		n = len - pos < EC_VER_CHUNK ? (size_t)(len - pos) : EC_VER_CHUNK;
		if (ec_ver_read(s, off + pos, buf + keep, n) != DS_OK)
			break;
		total = keep + n;
		found = ec_ver_find(buf, total, out, outsz);
		keep = total < EC_VER_KEEP ? total : EC_VER_KEEP;
		memmove(buf, buf + total - keep, keep);
		pos += n;
	}
	return found;
}

/* The GNU build id in the first n bytes of an ELF image of the core's class and byte order: the PT_NOTE
 * segments found at p_vaddr (a mapped image, base at address 0 of the buffer) or p_offset (a file).
 * Returns its length (0: none). */
static size_t ec_ver_build_id(const struct ec *c, const unsigned char *h, size_t n, int mapped, unsigned char *id)
{
	uint64_t phoff, where, size, p, namesz, descsz;
	unsigned phent, phnum, i, need = c->is64 ? 56 : 32;
	size_t len = 0;

	if (n < 64 || memcmp(h, "\177ELF", 4) != 0 || h[4] != (c->is64 ? 2 : 1) || h[5] != (c->be ? 2 : 1))
		goto out;
	phoff = c->is64 ? ec_64(c, h + 32) : ec_32(c, h + 28);
	phent = ec_16(c, h + (c->is64 ? 54 : 42));
	phnum = ec_16(c, h + (c->is64 ? 56 : 44));
	if (phent < need || phnum > 64 || phoff > n || (uint64_t)phent * phnum > n - phoff)
		goto out;
	for (i = 0; i < phnum && len == 0; i++) {
		const unsigned char *ph = h + phoff + (uint64_t)i * phent;

		if (ec_32(c, ph) != EC_PT_NOTE)
			continue;
		where = mapped ? (c->is64 ? ec_64(c, ph + 16) : ec_32(c, ph + 8))
			       : (c->is64 ? ec_64(c, ph + 8) : ec_32(c, ph + 4));
		size = c->is64 ? ec_64(c, ph + 32) : ec_32(c, ph + 16);
		if (where > n || size > n - where)
			continue;
		for (p = where; len == 0 && size - (p - where) >= 12;) {
			namesz = ec_32(c, h + p);
			descsz = ec_32(c, h + p + 4);
			if (namesz > 256 || descsz > 4096)
				break;
			if (((namesz + 3) & ~3ull) + ((descsz + 3) & ~3ull) > size - (p - where) - 12)
				break;
			if (ec_32(c, h + p + 8) == EC_PT_NOTE_GNU_BUILD_ID && namesz == 4 &&
			    memcmp(h + p + 12, "GNU", 4) == 0 && descsz > 0 && descsz <= EC_VER_MAX_ID) {
				memcpy(id, h + p + 12 + 4, (size_t)descsz);
				len = (size_t)descsz;
			}
			p += 12 + ((namesz + 3) & ~3ull) + ((descsz + 3) & ~3ull);
		}
	}
out:
	return len;
}

/* The image header the core holds at the module's base, then its build id; 0 when absent. */
static size_t ec_ver_core_id(const struct ec *c, const struct ec_ver *v, unsigned char *buf, unsigned char *id)
{
	struct ec_ver_src s = { c->src, NULL };
	size_t i, n;

	for (i = 0; i < v->nseg; i++) {
		if (v->seg[i].va != v->lo)
			continue;
		n = v->seg[i].len < EC_VER_HDR ? (size_t)v->seg[i].len : EC_VER_HDR;
		if (ec_ver_read(&s, v->seg[i].off, buf, n) == DS_OK)
			return ec_ver_build_id(c, buf, n, 1, id);
	}
	return 0;
}

/* The version from the file at path when its build id is id[0, idlen). */
static int ec_ver_from_file(const struct ec *c, const char *path, const unsigned char *id, size_t idlen,
			    unsigned char *buf, char *out, size_t outsz)
{
	struct ec_ver_src s = { NULL, NULL };
	unsigned char fid[EC_VER_MAX_ID];
	uint64_t size;
	size_t n;
	int found = 0;

	if (path[0] != '/' || plat_file_open(path, &s.file) != DS_OK)
		goto out;
	size = plat_file_size(s.file);
	if (size > EC_VER_MAX_FILE)
		goto out;
	n = size < EC_VER_HDR ? (size_t)size : EC_VER_HDR;
	if (plat_file_read_at(s.file, 0, buf, n) != DS_OK || ec_ver_build_id(c, buf, n, 0, fid) != idlen ||
	    memcmp(fid, id, idlen) != 0)
		goto out;
	found = ec_ver_scan(&s, 0, size, buf, out, outsz);
out:
	if (s.file != NULL)
		plat_file_close(s.file);
	return found;
}

/* Fills the version of the runtime module (libcoreclr.so) when the module has none. Out of memory or
 * an unreadable image only leave it empty: the version is a convenience, not a reason to fail. */
static void ec_runtime_version(struct ec *c)
{
	struct triage_module *m = NULL;
	struct ec_ver *v = NULL;
	struct ec_ver_src core = { c->src, NULL };
	unsigned char *buf = NULL, id[EC_VER_MAX_ID];
	uint64_t budget = EC_VER_MAX_MEM, len;
	size_t i, idlen;
	int found = 0;

	for (i = 0; i < c->t->nmodules && m == NULL; i++)
		if (strcmp(c->t->modules[i].name, "libcoreclr.so") == 0 && c->t->modules[i].version[0] == '\0')
			m = &c->t->modules[i];
	if (m == NULL || m->size == 0)
		goto out;
	v = calloc(1, sizeof(*v));
	buf = malloc(EC_VER_CHUNK + EC_VER_KEEP);
	if (v == NULL || buf == NULL)
		goto out;
	v->lo = m->base;
	v->hi = m->size > UINT64_MAX - m->base ? UINT64_MAX : m->base + m->size;
	c->ver = v;
	if (ec_each_phdr(c, ec_ver_load) != DS_OK)
		goto out;
	for (i = 0; i < v->nseg && !found && budget > 0; i++) {
		len = v->seg[i].len < budget ? v->seg[i].len : budget;
		found = ec_ver_scan(&core, v->seg[i].off, len, buf, m->version, sizeof(m->version));
		budget -= len;
	}
	if (!found && c->src->file != NULL && (idlen = ec_ver_core_id(c, v, buf, id)) > 0)
		found = ec_ver_from_file(c, m->path, id, idlen, buf, m->version, sizeof(m->version));
out:
	c->ver = NULL;
	free(v);
	free(buf);
}

int elfcore_read(struct dsrc *src, struct triage *t, struct ds_err *e)
{
	struct ec c;
	size_t i;
	int rc;

	memset(&c, 0, sizeof(c));
	c.src = src;
	c.t = t;
	c.e = e;
	rc = ec_header(&c);
	if (rc != DS_OK)
		goto out;
	rc = ec_each_phdr(&c, ec_phdr_scan);
	if (rc != DS_OK)
		goto out;
	rc = ec_read_notes(&c);
	if (rc != DS_OK)
		goto out;
	rc = ec_modules(&c);
	if (rc != DS_OK)
		goto out;
	ec_runtime_version(&c);
	ec_conclude(&c);
	rc = ec_each_phdr(&c, ec_phdr_heap);
	if (rc != DS_OK)
		goto out;
	/* at least half: backed >= ceil(anon / 2), without overflow */
	t->has_heap = c.heap_anon > 0 && c.heap_backed >= c.heap_anon - c.heap_anon / 2;
out:
	t->bytes_read = src->bytes_read;
	for (i = 0; i < c.nsegs; i++)
		free(c.segs[i].buf);
	free(c.maps);
	return rc;
}
