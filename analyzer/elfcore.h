/* elfcore.h - the ELF core-file reader of native triage: Linux kernel cores, gdb `gcore` cores and
 * .NET createdump cores (ELF32/ELF64, either byte order), NetBSD cores in part. It reads only the ELF
 * header, the program headers and the PT_NOTE notes; of the memory the PT_LOAD segments hold only at
 * most 8 MiB of the .NET runtime module's, and it does not compute the bucket or detect the runtime
 * (triage_finish does, from what this fills). */
#ifndef DS_ELFCORE_H
#define DS_ELFCORE_H

#include "core/ds.h"

struct dsrc;
struct triage;

/* Reads the ELF core in src into t, which the caller has triage_init()'ed; it does not call
 * triage_finish. What it fills (all owned by t, released with triage_free):
 *   format "elf-core", arch (e_machine), os ("linux" for CORE notes, "netbsd", "freebsd"), writer
 *   ("kernel", "gdb", "createdump" or ""), pid/uid/process name/command line (NT_PRPSINFO), threads
 *   and the crashing thread (NT_PRSTATUS: the first one; for createdump the one with pr_cursig set,
 *   none for old createdump), the signal (pr_cursig + NT_SIGINFO; exc.address is si_addr for
 *   faults, exc.flags si_code, exc.pc the crashing thread's instruction pointer from its registers),
 *   modules (one per distinct NT_FILE path, main executable first; libcoreclr.so with the version its
 *   image embeds, "@(#)Version X", from the core's copy of the image or, when src is a file, from the
 *   file at the recorded path if its GNU build id is the one in the core's image header), memory counts (PT_LOAD) and
 *   has_heap (rule in elfcore.c), bytes_read.
 * Errors: DS_EFORMAT when src is not ELF or is an ELF file that is not ET_CORE; DS_ECORRUPT with the
 * byte offset in e for damaged or over-cap input; DS_ENOMEM; DS_EIO. On error t may hold part of the
 * facts, always in a state triage_free() accepts.
 * Thread-safety: none needed beyond one reader per src and per t (no global state). */
int elfcore_read(struct dsrc *src, struct triage *t, struct ds_err *e);

#endif
