/* facts.h - the one fact model of a managed-heap analysis: what the heap engine's JSON document
 * (engine_json.c) or a saved SOS session (sos_transcript.c) says about one dump - the runtime, the
 * managed exception, every collectible context with the root paths that reach it. It interprets
 * nothing: classify.c turns facts into verdicts. Every string in it came from the target process
 * (hostile text: print it only through a sanitiser).
 * Ownership: a struct facts owns every pointer inside it; release with facts_free(). Not thread-safe
 * per object; distinct objects may be used on distinct threads. */
#ifndef DS_FACTS_H
#define DS_FACTS_H

#include <stddef.h>
#include <stdint.h>

/* Caps shared by both readers (a document over a cap is malformed, not truncated). */
#define FACTS_MAX_CONTEXTS 4096u
#define FACTS_MAX_ROOTS 1024u     /* per context */
#define FACTS_MAX_PATH 1024u      /* links per root path */
#define FACTS_MAX_STACK 4096u     /* frames per stack */
#define FACTS_MAX_STRING 65536u   /* bytes of one string */
#define FACTS_MAX_LIST 4096u      /* warnings, assemblies */

enum facts_status {
	FST_OK = 0,
	FST_PARTIAL,    /* part of the work failed (warnings say which); the rest is reported */
	FST_NO_RUNTIME, /* no .NET runtime in the dump */
	FST_NO_DAC,     /* the runtime's DAC was not found */
	FST_NO_HEAP,    /* no GC heap in the dump */
	FST_ERROR,
};
const char *facts_status_name(enum facts_status s);

enum facts_root_kind {
	FRK_UNKNOWN = 0,
	FRK_STATIC_FIELD,
	FRK_THREAD_STATIC,
	FRK_STRONG_HANDLE,
	FRK_PINNED_HANDLE,
	FRK_ASYNC_PINNED_HANDLE,
	FRK_SIZED_REF_HANDLE,
	FRK_REFCOUNTED_HANDLE,
	FRK_DEPENDENT_HANDLE,   /* transcripts only: the engine reports a dependent link inside the path */
	FRK_WEAK_INTERIOR_HANDLE,
	FRK_WEAK_HANDLE,        /* transcripts only: a weak or bare-number handle */
	FRK_STACK,
	FRK_FINALIZER_QUEUE,
	FRK_RUNTIME_HANDLE,
	FRK_OLDER_GENERATION,   /* transcripts only */
};
/* The contract's kind names ("static_field", "stack", ...); "unknown" for FRK_UNKNOWN. */
const char *facts_root_kind_name(enum facts_root_kind k);
/* The kind for a contract name; FRK_UNKNOWN for a name this build does not know. */
enum facts_root_kind facts_root_kind_parse(const char *name);

enum facts_via {
	FV_UNKNOWN = 0,
	FV_ROOT,
	FV_FIELD,
	FV_ELEMENT,
	FV_DEPENDENT,
	FV_LOADER_ALLOCATOR,
	FV_LOADER_ALLOCATOR_HANDLE,
};
const char *facts_via_name(enum facts_via v);
enum facts_via facts_via_parse(const char *name);

enum facts_ctx_state { FCS_UNKNOWN = 0, FCS_ALIVE, FCS_UNLOADING };
const char *facts_ctx_state_name(enum facts_ctx_state s);

struct facts_thread {
	char *os_id;      /* "0x174e" as printed, or NULL */
	int64_t managed_id; /* -1 unknown */
	char *name;       /* or NULL */
};

struct facts_link {
	uint64_t address; /* 0 unknown */
	char *type;       /* never NULL ("<unknown type>" when the reader had none) */
	enum facts_via via;
	char *field;      /* instance field or "[index]", or NULL */
	int collectible;  /* the object's type was loaded by a collectible context */
	char *method;     /* delegates: the target method(s), or NULL */
	uint64_t dep_handle, dep_table; /* via == FV_DEPENDENT; 0 unknown */
	char *dep_table_type;
	char *dep_table_root_kind, *dep_table_root_field; /* the nearest root of the table, or NULL */
};

struct facts_root {
	enum facts_root_kind kind;
	char *kind_name;  /* the kind as the reader saw it (an unknown kind keeps its name here) */
	char *field;      /* static_field / thread_static: "Namespace.Type.Field", or NULL */
	char *sos_label;  /* transcripts: SOS's own "(static variable: X)" when another source named the field */
	uint64_t handle;  /* 0 unknown */
	int has_thread;
	struct facts_thread thread;
	char *frame;      /* stack roots: the method, or NULL */
	char *false_root_hint; /* "weak_interior_handle", "runtime_handle", or NULL */
	struct facts_link *path; /* root object first, the context's LoaderAllocator last */
	size_t npath;
	int path_truncated;
};

struct facts_context {
	uint64_t loader_allocator, scout, alc; /* 0 unknown */
	char *alc_type, *name;  /* or NULL */
	enum facts_ctx_state state;
	int dynamic;            /* a collectible AssemblyBuilder with no context */
	char **assemblies;
	size_t nassemblies;
	int roots_searched;     /* a root search ran for this context (else its roots are not known) */
	int roots_truncated;
	struct facts_root *roots;
	size_t nroots;
};

struct facts_exception {
	char *type, *message; /* type never NULL in a stored exception */
	int has_hresult;
	uint32_t hresult;
	char *thread;         /* os id as printed, or NULL */
	char **stack;         /* innermost first */
	size_t nstack;
	struct facts_exception *inner; /* owned, or NULL */
};

struct facts_searched {
	int64_t handles, statics, thread_statics, stack, finalizer; /* -1 unknown */
};

struct facts {
	int format;           /* the engine document's format; 0 for transcripts */
	char *source;         /* "dumpscout-heap 1.0.0 (ClrMD x)" / "sos-transcript" */
	enum facts_status status;
	char *error;          /* or NULL */
	char **warnings;
	size_t nwarnings;
	char *runtime_version, *runtime_flavor, *dac; /* or NULL */
	unsigned pointer_size; /* 0 unknown */
	int has_heap_stats;
	int64_t heap_objects, heap_bytes, heap_duration_ms;
	int has_exception;
	struct facts_exception exception;
	int has_faulting_thread;
	struct facts_thread faulting_thread;
	char **faulting_stack;
	size_t nfaulting_stack;
	struct facts_context *contexts;
	size_t ncontexts;
	int has_searched;
	struct facts_searched searched;
};

void facts_init(struct facts *f);
void facts_free(struct facts *f);
void facts_context_free(struct facts_context *c);
void facts_root_free(struct facts_root *r);
void facts_exception_free(struct facts_exception *e);

/* Appends a zeroed element to a growing array (*arr of *n elements of elsz bytes, at most max):
 * DS_ETOOBIG past max, DS_ENOMEM. *out points at the new element. */
int facts_push(void **arr, size_t *n, size_t elsz, size_t max, void **out);

#endif
