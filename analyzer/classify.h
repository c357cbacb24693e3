/* classify.h - decides what the facts (facts.h) mean: per collectible context its state, and for each
 * root path what holds the context (the host-side owner), what the plugin registered when the path runs
 * through a runtime-owned registry, an address-free signature and the catalogue entry with advice.
 * It reads facts from either source (engine document or SOS transcript) the same way; it parses no text
 * and starts no process.
 *
 * State (per context):
 *  - "live": not unloaded (the context says alive, or - state unknown - the runtime's own handle holds
 *    its LoaderAllocator);
 *  - "unloading_held": unloaded and at least one root that is not a probable false root;
 *  - "unloading_no_roots": unloaded and no real root path was found: still a leak (the context is
 *    alive after Unload()); the verdict says what was searched (facts roots_searched);
 *  - "unknown": no root search ran for it and its state is unknown.
 * Probable false roots: weak_interior_handle, runtime_handle, weak handles (the engine's
 * false_root_hint, or the kind). They never make a context held, never get a bucket and are hidden from
 * people unless asked.
 *
 * Owner (per root): static field -> "static field F"; thread static -> "thread static F on thread T";
 * handle -> "<kind> handle" (a dependent handle: "ConditionalWeakTable <type>"); stack -> "thread T
 * (name) in M", or "the runtime's timer thread" etc. for runtime-owned threads; finalizer queue.
 * Mechanism: a runtime-owned registry on the path (timer, registered wait, cancellation callback,
 * AppDomain/ALC resolve events, TypeDescriptor, System.Text.Json metadata, ThreadLocal, AsyncLocal /
 * ExecutionContext, DiagnosticListener, ConditionalWeakTable, event/delegate) and `registered`, the
 * plugin method found in a delegate on the path (the link nearest to the plugin).
 * Culprit (the short name people and buckets use): the static/thread-static field; else for a stack
 * root on a plugin frame the method; else the registered method with its mechanism; else the first
 * host type (not runtime, not the plugin's own); else the mechanism type; else the handle kind.
 * Signature: 64-bit FNV-1a of the kind, the culprit, the registered method and the first and last
 * types of the path that are not the runtime's own, with hex runs of 8+ digits removed: the same cause
 * in two dumps is one signature whatever runtime objects lie between.
 * Ownership: a classify_result borrows strings from the facts it was made from: free it before them. */
#ifndef DS_CLASSIFY_H
#define DS_CLASSIFY_H

#include <stddef.h>
#include <stdint.h>

#include "analyzer/culprits.h"
#include "analyzer/facts.h"
#include "core/ds.h"

struct cJSON;

enum classify_state {
	CS_UNKNOWN = 0,
	CS_LIVE,
	CS_UNLOADING_HELD,
	CS_UNLOADING_NO_ROOTS,
};
const char *classify_state_name(enum classify_state s);

struct classify_root {
	const struct facts_root *src; /* borrowed */
	const char *kind;             /* the contract's kind name (src->kind_name) */
	int probable_false_root;
	const char *false_reason;     /* "weak_interior_handle", "runtime_handle", "weak_handle" or NULL */
	char *owner;                  /* owned; "static field X", "strong handle", "thread 0x1 'pump' in M" */
	char *culprit;                /* owned; never NULL */
	const char *mechanism;        /* static string ("timer", "event", ...) or NULL */
	char *registered;             /* owned; the plugin method registered through the mechanism, or NULL */
	char *via;                    /* owned; "List<GreeterPlugin> -> GreeterPlugin" (short type names) */
	char **chain;                 /* owned; type names root first, LoaderAllocator last, no addresses */
	size_t nchain;
	int runtime_thread;           /* a stack root on a thread the runtime owns (timer, wait thread) */
	uint64_t signature;
	char signature_hex[17];
	const struct culprit_entry *catalogue; /* owned by the result's catalogue; never NULL */
};

struct classify_context {
	const struct facts_context *src; /* borrowed */
	enum classify_state state;
	struct classify_root *roots;     /* owned; real roots first (best first), probable false roots last */
	size_t nroots;
	size_t nreal;                    /* roots that are not probable false roots */
};

struct classify_result {
	struct classify_context *contexts; /* owned */
	size_t ncontexts;
	int leak;                          /* a context is unloaded and still alive */
	struct culprit_catalogue catalogue; /* owned; the roots point into it */
};

/* Classifies every context of f into *r (release with classify_result_free, also after an error).
 * Errors: DS_ENOMEM, DS_EFORMAT (the built-in catalogue is broken). Reentrant. */
int classify_facts(const struct facts *f, struct classify_result *r, struct ds_err *err);
void classify_result_free(struct classify_result *r);

/* The one line a person reads first for a context (malloc'd, caller frees; NULL on allocation failure):
 *   context 'X' is held by static field Y (via List<T> -> Plugin) - known cause: T - fix: A
 *   context 'X' was unloaded and is still alive, but no root path reaches it (searched ...) - ...
 *   context 'X' is not unloaded (live) / state unknown
 * Target text in it is raw: sanitise before printing. searched may be NULL. */
char *classify_verdict_line(const struct classify_context *c, const struct facts_searched *searched);

/* Renders {leak, contexts[{name, alc_type, loader_allocator, state, engine_state, verdict, roots_searched,
 * roots[{kind, owner, culprit, mechanism, registered, via, field, thread, frame, handle, signature, chain[],
 * probable_false_root, false_reason, catalogue{id,title,explanation,advice}}], hidden_roots}]}.
 * all_roots: include probable false roots (else they are counted in hidden_roots only). The caller owns
 * the result (cJSON_Delete); NULL on allocation failure. Reentrant. */
struct cJSON *classify_to_json(const struct classify_result *r, const struct facts *f, int all_roots);

/* 64-bit FNV-1a of a string with hex runs of 8+ digits removed; exposed for tests. */
uint64_t classify_hash_step(uint64_t h, const char *s);
/* Whether a type name (with its generic arguments) belongs entirely to the runtime (System.*,
 * Microsoft.*, Internal.*, Interop.*); exposed for tests. */
int classify_is_runtime_type(const char *type);

#endif
