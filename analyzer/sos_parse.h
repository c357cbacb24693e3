/* sos_parse.h - parses the text that SOS prints (dotnet-dump analyze, WinDbg, lldb) into structs:
 * session transcripts split into commands, dumpheap tables, gcroot root chains, dumpobj, pe and clrstack.
 * Pure text in, structs out: no engine, no files, no judgement (classify.c decides what a chain means).
 *
 * Ownership: every parse function fills a caller-provided struct that then owns its heap memory (all
 * strings are NUL-terminated copies); release it with the matching *_free function, which also accepts a
 * zeroed or partially filled struct. Input text is never kept, except by struct sos_session (see there).
 * Errors: DS_OK; DS_ETOOBIG when a cap below is reached; DS_EPARSE for text that claims a format and
 * breaks it; DS_ENOMEM. The ds_err offset is then the 1-based line number and the message says "line N".
 * All functions are reentrant (no globals) and may run on any thread. */
#ifndef DS_SOS_PARSE_H
#define DS_SOS_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "core/ds.h"

/* Caps on hostile input. */
#define SOS_MAX_TEXT (64u << 20) /* bytes in one transcript */
#define SOS_MAX_RECORDS 20000 /* commands in one session */
#define SOS_MAX_OBJECTS 200000 /* dumpheap rows */
#define SOS_MAX_CHAINS 4096 /* root chains in one gcroot output */
#define SOS_MAX_LINKS 1024 /* links in one chain */
#define SOS_MAX_NAME 4096 /* bytes in one type, method or field name */
#define SOS_MAX_FIELDS 4096 /* dumpobj fields */
#define SOS_MAX_FRAMES 4096 /* clrstack / exception stack lines */

/* ---- sessions ---- */

/* One command and its output. */
struct sos_record {
	char *cmd; /* owned; the command without prompt or '!' ("gcroot 7f8b..."), NULL for text with none */
	const char *out; /* NOT owned: points into the text given to sos_session_split */
	size_t out_len;
	int ok; /* 0 when the engine closed the output with <END_COMMAND_ERROR> */
	size_t line; /* 1-based line of the first output line in the whole text */
};

/* A transcript split into records. The records' `out` point into the caller's text, which must outlive
 * the session. Text before the first command (engine banner, or a pasted output with no command line)
 * becomes a record with cmd == NULL. */
struct sos_session {
	struct sos_record *records; /* owned */
	size_t nrecords;
};

/* Splits a transcript. Recognised command lines: the dotnet-dump echo "> cmd", WinDbg prompts
 * "0:004> !cmd", "(lldb) cmd", and a line that is just "!cmd ...". The markers <END_COMMAND_OUTPUT> and
 * <END_COMMAND_ERROR> end a record (the latter sets ok = 0). Errors: DS_ETOOBIG (text or record cap),
 * DS_ENOMEM. On error *s is freed. */
int sos_session_split(const char *text, size_t len, struct sos_session *s, struct ds_err *err);
void sos_session_free(struct sos_session *s);

/* What a record is, from its command word (dumpheap/!DumpHeap, gcroot, do/dumpobj, dumpalc, pe/
 * printexception, clrstack) or, when it has no command, from its content. */
enum sos_kind {
	SOS_KIND_OTHER = 0,
	SOS_KIND_DUMPHEAP,
	SOS_KIND_GCROOT,
	SOS_KIND_DUMPOBJ,
	SOS_KIND_PE,
	SOS_KIND_CLRSTACK,
	SOS_KIND_DUMPMT,
	SOS_KIND_DUMPCLASS, /* parsed with sos_parse_dumpobj: name from "Class Name:", static rows */
	SOS_KIND_DU, /* "du ADDR": a string's characters */
};
enum sos_kind sos_record_kind(const char *cmd, const char *out, size_t len);

/* The first word of a command, lowercased and without WinDbg's leading '!' ("!DumpHeap -type X" ->
 * "dumpheap"), into w (wsz bytes, always NUL-terminated; cut if longer). Reentrant. */
void sos_cmd_word(const char *cmd, char *w, size_t wsz);

/* The first hexadecimal argument of a command ("gcroot -nostacks 0x7f8b..." -> 0x7f8b...); the value
 * of the "-type" option into typebuf (empty if none); whether "-short" was given. Returns 0 if an address
 * was found, -1 otherwise. Any pointer may be NULL. */
int sos_cmd_args(const char *cmd, uint64_t *addr, char *typebuf, size_t typesz, int *is_short);
/* All hexadecimal arguments of a command (not options), at most max of them; returns how many. */
size_t sos_cmd_hex_args(const char *cmd, uint64_t *v, size_t max);

/* ---- dumpheap ---- */

struct sos_object {
	uint64_t addr;
	uint64_t mt; /* 0 for -short output */
	uint64_t size;
	char *type; /* owned; from the row, else from the Statistics table by MT; NULL if unknown */
};

struct sos_heapstat {
	uint64_t mt, count, total;
	char *name; /* owned */
};

struct sos_dumpheap {
	struct sos_object *objects; /* owned, in output order */
	size_t nobjects;
	struct sos_heapstat *stats; /* owned */
	size_t nstats;
	int is_short; /* addresses only */
	int has_total;
	uint64_t total_objects, total_bytes; /* from "Total N objects[, M bytes]" */
};

/* Parses full, -stat and -short output; empty text (no match) gives zero objects. base_line is the line
 * number of the text's first line, for error messages. */
int sos_parse_dumpheap(const char *text, size_t len, size_t base_line, struct sos_dumpheap *d,
	struct ds_err *err);
void sos_dumpheap_free(struct sos_dumpheap *d);
/* Nonzero if the type is exactly System.Reflection.LoaderAllocator / ...LoaderAllocatorScout. */
int sos_is_loader_allocator(const char *type);
int sos_is_scout(const char *type);

/* ---- gcroot ---- */

enum sos_root_kind {
	SOS_ROOT_UNKNOWN = 0,
	SOS_ROOT_STRONG,
	SOS_ROOT_PINNED,
	SOS_ROOT_ASYNC_PINNED,
	SOS_ROOT_SIZED_REF,
	SOS_ROOT_REFCOUNTED,
	SOS_ROOT_WEAK, /* weak short/long/WinRT handle */
	SOS_ROOT_DEPENDENT,
	SOS_ROOT_HANDLE_NUMBER, /* "(10)": a handle kind the engine printed as a number (handle_number) */
	SOS_ROOT_STACK, /* a thread's stack slot or register */
	SOS_ROOT_FINALIZER,
	SOS_ROOT_OLDER_GEN,
	SOS_ROOT_OTHER, /* another "Kind:" group, name in `group` */
};

#define SOS_LINK_DEPENDENT 1u /* "(dependent handle)": reached through a dependent handle */
#define SOS_LINK_INTERIOR 2u /* "(interior)" */

struct sos_link {
	uint64_t addr;
	char *type; /* owned; never NULL ("<unknown type>" if the text had none) */
	char *static_var; /* owned; the X of "(static variable: X)", else NULL */
	unsigned flags;
};

struct sos_chain {
	enum sos_root_kind kind;
	uint64_t root_addr; /* handle address, stack slot address, finalizer/older-gen object; 0 if none */
	int handle_number; /* for SOS_ROOT_HANDLE_NUMBER; else -1 */
	long refcount; /* ref counted handles; -1 if not given */
	char *group; /* owned; the group header's word for SOS_ROOT_OTHER ("Stack"), else NULL */
	char *domain; /* owned; .NET Framework "DOMAIN(...)" value, else NULL */
	char *thread_id; /* owned; hex OS thread id as printed ("1b3f") for stack roots, else NULL */
	char *frame; /* owned; the frame's call site without source info, else NULL */
	char *slot; /* owned; "rbp-40", "rbx", "ESP:12f4c8"..., else NULL */
	int interior; /* the slot line said "(interior)" */
	struct sos_link *links; /* owned; root first, target last */
	size_t nlinks;
	size_t line; /* line of the root's first line */
};

struct sos_gcroot {
	struct sos_chain *chains; /* owned */
	size_t nchains;
	long found; /* N of "Found N [unique] roots", -1 if absent */
	int found_unique; /* the line said "unique" */
};

/* Parses one gcroot output in any of the formats listed in the file comment of sos_parse.c. */
int sos_parse_gcroot(const char *text, size_t len, size_t base_line, struct sos_gcroot *g,
	struct ds_err *err);
void sos_gcroot_free(struct sos_gcroot *g);
/* A short constant name for a root kind ("strong handle", "thread stack", ...). */
const char *sos_root_kind_name(enum sos_root_kind k);

/* ---- dumpobj / dumpalc ---- */

struct sos_field {
	char *name; /* owned */
	char *type; /* owned; may be "" (SOS leaves it blank for unloaded types) */
	char *value; /* owned; the Value column as printed */
	int is_static;
};

struct sos_dumpobj {
	char *name; /* owned; the Name: (dumpobj) or Class Name: (dumpclass) line, NULL if absent */
	uint64_t mt;
	char *string; /* owned; the String: line of a System.String, else NULL */
	struct sos_field *fields; /* owned */
	size_t nfields;
};

int sos_parse_dumpobj(const char *text, size_t len, size_t base_line, struct sos_dumpobj *o,
	struct ds_err *err);
void sos_dumpobj_free(struct sos_dumpobj *o);
/* The field named `name`, or NULL. The returned pointer is owned by o. */
const struct sos_field *sos_dumpobj_field(const struct sos_dumpobj *o, const char *name);

/* ---- dumpmt / du ---- */

struct sos_dumpmt {
	char *name; /* owned; NULL if absent */
	uint64_t loader_allocator; /* "LoaderAllocator:" line, 0 if absent (a non-collectible type) */
	uint64_t alc; /* "AssemblyLoadContext:" line, 0 if absent */
};

int sos_parse_dumpmt(const char *text, size_t len, size_t base_line, struct sos_dumpmt *m,
	struct ds_err *err);
void sos_dumpmt_free(struct sos_dumpmt *m);

/* The text of "du" output ("Text: '...'", outer quotes removed) into *out (caller frees); *out is NULL
 * when the output has no Text: line. Errors: DS_ETOOBIG, DS_ENOMEM. */
int sos_parse_du(const char *text, size_t len, size_t base_line, char **out, struct ds_err *err);

/* ---- pe / clrstack ---- */

struct sos_exception {
	char *type; /* owned; NULL if the text had no "Exception type:" line */
	char *message; /* owned; NULL for "<none>" */
	uint32_t hresult;
	int has_hresult;
	char **stack; /* owned; StackTrace call sites, "SP IP" columns removed */
	size_t nstack;
};

int sos_parse_pe(const char *text, size_t len, size_t base_line, struct sos_exception *e,
	struct ds_err *err);
void sos_exception_free(struct sos_exception *e);

struct sos_frame {
	uint64_t sp, ip;
	char *call_site; /* owned */
};

struct sos_clrstack {
	char *os_thread_id; /* owned; hex as printed after "OS Thread Id: 0x", NULL if absent */
	struct sos_frame *frames; /* owned */
	size_t nframes;
};

int sos_parse_clrstack(const char *text, size_t len, size_t base_line, struct sos_clrstack *c,
	struct ds_err *err);
void sos_clrstack_free(struct sos_clrstack *c);

#endif
