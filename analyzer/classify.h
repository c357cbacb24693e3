/* classify.h - decides what the parsed SOS output means: per LoaderAllocator (one per collectible
 * AssemblyLoadContext) its state, and for each root chain its kind, culprit, address-free type chain,
 * stable signature and catalogue entry; renders the result as JSON. It parses no text itself (sos_parse.c
 * does) and runs no engine (sos_run.c does), except classify_transcript, which drives both pure steps over
 * a saved session.
 *
 * State rule (per context):
 *  - "live": a strong handle points straight at the LoaderAllocator (the runtime's own handle, held until
 *    AssemblyLoadContext.Unload()), or the caller says the ALC's _state is Alive;
 *  - "unloading_held": otherwise, at least one root that is not a probable false root;
 *  - "unloading_no_roots": gcroot ran and found nothing but probable false roots (none at all: "Found 0
 *    unique roots", the context is on its way out; only a kind-10 weak interior handle: nothing gcroot can
 *    show holds it - see the catalogue's weak-interior-handle advice);
 *  - "unknown": no gcroot output for it, or the object is not a LoaderAllocator/scout.
 * Roots also come from gcroots of objects whose types the context loaded (an instance of a collectible
 * type keeps its LoaderAllocator alive with no reference path gcroot can show); when two such gcroots
 * show the same root (same handle or slot, same first object), the shorter chain is kept.
 *
 * Culprit (per root): the static field holding a chain link (dumpclass value, else SOS's "(static
 * variable: X)"); else the first link, root side, whose type is not the runtime's own (generic arguments
 * count) and is not an object of the context itself (the rooted object, or one listed in `owned`); else a runtime mechanism type in the chain
 * (ExecutionContext, AsyncLocal, ThreadLocal, ConditionalWeakTable, TypeDescriptor); else the thread's
 * frame method (without arguments); else the handle kind ("strong handle") for a handle that really
 * roots; else none.
 * The result's `leak` is true when any context is "unloading_held".
 *
 * Signature: 64-bit FNV-1a over the root kind, the chain's type names (cut at the LoaderAllocator, so a
 * gcroot of the scout and of its LoaderAllocator agree) with their static-variable names, and the culprit;
 * hex runs of 8+ digits are dropped from every string first, so no address, handle value, thread id or
 * RefCount enters it. */
#ifndef DS_CLASSIFY_H
#define DS_CLASSIFY_H

#include <stddef.h>
#include <stdint.h>

#include "analyzer/culprits.h"
#include "analyzer/sos_parse.h"
#include "core/ds.h"

struct cJSON;

enum classify_kind {
	CK_UNKNOWN = 0,
	CK_STRONG_HANDLE,
	CK_PINNED_HANDLE,
	CK_ASYNC_PINNED_HANDLE,
	CK_SIZED_REF_HANDLE,
	CK_REFCOUNTED_HANDLE,
	CK_WEAK_INTERIOR_HANDLE, /* the bare "(10)" kind: probable false root */
	CK_WEAK_HANDLE, /* weak short/long: does not root, probable false root */
	CK_UNKNOWN_HANDLE, /* another bare number: probable false root */
	CK_THREAD_STACK,
	CK_FINALIZER_QUEUE,
	CK_OLDER_GENERATION,
	CK_STATIC_VARIABLE, /* any link with "(static variable: X)", whatever the handle */
	CK_DEPENDENT_HANDLE, /* a link reached "(dependent handle)" */
};
/* "strong_handle", "thread_stack", ... (static strings). */
const char *classify_kind_name(enum classify_kind k);

enum classify_state {
	CS_UNKNOWN = 0,
	CS_LIVE,
	CS_UNLOADING_HELD,
	CS_UNLOADING_NO_ROOTS,
};
const char *classify_state_name(enum classify_state s);

struct classify_root {
	enum classify_kind kind;
	char *culprit; /* owned; NULL when nothing names one */
	char **chain; /* owned; type names root first, LoaderAllocator last, no addresses */
	size_t nchain;
	uint64_t signature;
	char signature_hex[17];
	int probable_false_root;
	int runtime_handle; /* the runtime's own handle on a context not yet unloaded */
	char *thread_id; /* owned; thread stack roots only */
	char *frame; /* owned; thread stack roots only */
	char *sos_label; /* owned; SOS's own "(static variable: X)" when a dumpclass value corrected it */
	const struct culprit_entry *catalogue; /* owned by the result's catalogue; never NULL */
	/* private: for merging the same root reported by several gcroots */
	uint64_t root_addr_, first_addr_;
	size_t nlinks_;
};

struct classify_context {
	char *name; /* owned; the AssemblyLoadContext's name, NULL if unknown */
	uint64_t loader_allocator, scout, target; /* 0 when unknown; target: a gcroot'd object of another type */
	enum classify_state state;
	long found; /* the "Found N" count stated by the gcroot used, -1 if none */
	struct classify_root *roots; /* owned */
	size_t nroots;
};

struct classify_result {
	struct classify_context *contexts; /* owned */
	size_t ncontexts;
	int leak;
	int has_exception;
	struct sos_exception exception; /* owned; valid when has_exception */
	struct culprit_catalogue catalogue; /* owned; the roots point into it */
};

/* A static field's value, from dumpclass: SOS (10.0) may print the wrong name in "(static variable:
 * X)", so a chain link whose address equals a static's value takes the name from here instead. */
struct classify_static {
	uint64_t value;
	const char *name; /* "Namespace.Class.Field" */
};

/* What the caller knows about one LoaderAllocator. Pointers are borrowed for the call only. */
struct classify_input {
	uint64_t loader_allocator; /* 0 if unknown */
	uint64_t scout; /* 0 if unknown */
	uint64_t target; /* for a gcroot of some other object (then both above are 0) */
	const struct sos_gcroot *la_roots; /* gcroot of the LoaderAllocator, may be NULL */
	const struct sos_gcroot *scout_roots; /* gcroot of the scout, used when la_roots is NULL */
	const struct sos_gcroot *const *extra; /* gcroots of objects of this context's types, may be NULL;
						  * their last link (the object itself) is never the culprit */
	size_t nextra;
	const struct classify_static *statics; /* may be NULL */
	size_t nstatics;
	const uint64_t *owned; /* objects known to be of this context's types: never the culprit */
	size_t nowned;
	const char *name; /* the context's name, may be NULL */
	int alc_state; /* the ALC's _state field: 0 alive, 1 unloading, -1 unknown */
};

/* Classifies n contexts (exception, may be NULL, is copied). Fills *r, which the caller releases with
 * classify_result_free (also after an error). Errors: DS_ENOMEM, DS_ETOOBIG, DS_EFORMAT (the built-in
 * catalogue is broken). Reentrant. */
int classify_run(const struct classify_input *in, size_t n, const struct sos_exception *exception,
	struct classify_result *r, struct ds_err *err);

/* Whole pipeline over a saved session: a dotnet-dump stdin transcript (with "> cmd" echoes and
 * <END_COMMAND_OUTPUT> markers, several sessions may follow each other), a pasted WinDbg/lldb session, or
 * bare gcroot/dumpheap output. It uses:
 *  - dumpheap rows and gcroot chain types to find LoaderAllocator and scout objects; a scout is paired
 *    with its LoaderAllocator through a chain "LoaderAllocator -> scout", else with the nearest one below
 *    it in address order;
 *  - gcroot of each LoaderAllocator (else of its scout); gcroots of other objects join the context whose
 *    LoaderAllocator loaded their type (dumpheap gives the object's MethodTable, "dumpmt MT" its
 *    LoaderAllocator:), else the only context being unloaded, else they are reported as contexts of
 *    their own (state unknown);
 *  - names: dumpobj/dumpvc of a collectible ALC gives its _name String address and _state; the string's
 *    text comes from a dumpobj of it ("String:") or "du" of its characters (address + 12); the ALC is
 *    tied to its LoaderAllocator by dumpmt's AssemblyLoadContext: line, else as the nearest ALC below it;
 *  - dumpclass: static field values, which name the static holding a chain object (SOS 10's own
 *    "(static variable: X)" label can name the wrong field);
 *  - pe: the managed exception.
 * Errors: those of sos_session_split and the sos_parse_* functions (DS_EPARSE / DS_ETOOBIG with
 * "line N"), DS_ENOMEM. Fills *r as classify_run does. Reentrant. */
int classify_transcript(const char *text, size_t len, struct classify_result *r, struct ds_err *err);

void classify_result_free(struct classify_result *r);

/* Renders the result: {leak, contexts[{name, loader_allocator, scout, target, state, found_roots,
 * roots[{kind, culprit, signature, chain[], probable_false_root, thread_id, frame,
 * catalogue{id,title,explanation,advice}}]}], managed_exception{type,message,hresult,stack[]}}
 * (managed_exception only when pe output was present; addresses as "0x..." strings). The caller owns the
 * returned object (cJSON_Delete); NULL on allocation failure. Reentrant. */
struct cJSON *classify_to_json(const struct classify_result *r);

/* 64-bit FNV-1a of a string with hex runs of 8+ digits removed; exposed for tests. */
uint64_t classify_hash_step(uint64_t h, const char *s);
/* Whether a type name (with its generic arguments) belongs entirely to the runtime (System.*,
 * Microsoft.*, Internal.*, Interop.*); exposed for tests. */
int classify_is_runtime_type(const char *type);

#endif
