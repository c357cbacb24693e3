/* classify.c - from parsed gcroot chains to verdicts: root kinds, culprits, signatures, catalogue
 * entries and per-context states (the rules are in classify.h), plus the whole-transcript pipeline and
 * the JSON rendering. It parses no SOS text itself beyond calling sos_parse.c, and starts no engine. */
#include "classify.h"

#include "core/buf.h"
#include "core/cursor.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLASSIFY_MAX_CONTEXTS 4096
#define PAIR_WINDOW 0x10000u /* how far apart an ALC, its LoaderAllocator and its scout may lie */

const char *classify_kind_name(enum classify_kind k)
{
	switch (k) {
	case CK_STRONG_HANDLE: return "strong_handle";
	case CK_PINNED_HANDLE: return "pinned_handle";
	case CK_ASYNC_PINNED_HANDLE: return "async_pinned_handle";
	case CK_SIZED_REF_HANDLE: return "sized_ref_handle";
	case CK_REFCOUNTED_HANDLE: return "refcounted_handle";
	case CK_WEAK_INTERIOR_HANDLE: return "weak_interior_handle";
	case CK_WEAK_HANDLE: return "weak_handle";
	case CK_UNKNOWN_HANDLE: return "unknown_handle";
	case CK_THREAD_STACK: return "thread_stack";
	case CK_FINALIZER_QUEUE: return "finalizer_queue";
	case CK_OLDER_GENERATION: return "older_generation";
	case CK_STATIC_VARIABLE: return "static_variable";
	case CK_DEPENDENT_HANDLE: return "dependent_handle";
	default: return "unknown";
	}
}

const char *classify_state_name(enum classify_state s)
{
	switch (s) {
	case CS_LIVE: return "live";
	case CS_UNLOADING_HELD: return "unloading_held";
	case CS_UNLOADING_NO_ROOTS: return "unloading_no_roots";
	default: return "unknown";
	}
}

/* ---- type names ---- */

static int ident_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
		c == '.' || c == '+' || c == '`' || c == '$' || c == '@';
}

static int runtime_ident(const char *s, size_t n)
{
	static const char *const prefixes[] = { "System.", "Microsoft.", "Internal.", "Interop." };
	size_t i, k;

	for (i = 0; i < n && s[i] >= '0' && s[i] <= '9'; i++)
		;
	if (i == n)
		return 1; /* a number (array rank, arity) */
	if (n == 6 && memcmp(s, "System", 6) == 0)
		return 1;
	for (k = 0; k < DS_ARRAY_LEN(prefixes); k++) {
		size_t pn = strlen(prefixes[k]);

		if (n >= pn && memcmp(s, prefixes[k], pn) == 0)
			return 1;
	}
	return 0;
}

int classify_is_runtime_type(const char *t)
{
	char stack[64];
	size_t depth = 0;
	const char *p, *s;

	if (t == NULL || strcmp(t, "<unknown type>") == 0 || strcmp(t, "Free") == 0)
		return 1;
	p = t;
	while (*p) {
		if (ident_char(*p) || (*p == '<' && (p == t || p[-1] == '+' || p[-1] == '.'))) {
			s = p;
			for (;;) {
				if (*p == '<' && (p == s || p[-1] == '+' || p[-1] == '.')) {
					/* compiler-generated name part: <>c, <Make>b__0 */
					const char *q = strchr(p, '>');

					if (q == NULL)
						break;
					p = q + 1;
				} else if (ident_char(*p)) {
					p++;
				} else {
					break;
				}
			}
			if (p == s)
				p++;
			else if (!runtime_ident(s, (size_t)(p - s)))
				return 0;
			continue;
		}
		if (*p == '[') {
			if (p[1] == ']' || p[1] == ',') {
				/* array rank */
				while (*p && *p != ']')
					p++;
				if (*p)
					p++;
				continue;
			}
			if (depth >= sizeof(stack))
				return 0;
			/* inner brackets hold "Type, Assembly": remember which kind this is */
			s = p;
			while (s > t && s[-1] == ' ')
				s--;
			stack[depth++] = (s > t && (s[-1] == '[' || s[-1] == ',')) ? 'I' : 'O';
			p++;
			continue;
		}
		if (*p == ']') {
			if (depth > 0)
				depth--;
			p++;
			continue;
		}
		if (*p == ',' && depth > 0 && stack[depth - 1] == 'I') {
			/* assembly qualifier: skip to the bracket that closes it */
			while (*p && *p != ']')
				p++;
			continue;
		}
		p++;
	}
	return 1;
}

/* ---- signatures ---- */

static int hexc(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int alnum_(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

/* Length of a hex run of 8+ digits at s[i] standing as its own word, else 0. */
static size_t addr_run(const char *s, size_t i)
{
	size_t j = i;

	if (i > 0 && alnum_(s[i - 1]))
		return 0;
	if (s[j] == '0' && (s[j + 1] == 'x' || s[j + 1] == 'X'))
		j += 2;
	while (hexc(s[j]))
		j++;
	if (j - i < 8 || alnum_(s[j]))
		return 0;
	return j - i;
}

uint64_t classify_hash_step(uint64_t h, const char *s)
{
	size_t i = 0, r;

	if (s == NULL)
		return h;
	while (s[i]) {
		r = addr_run(s, i);
		if (r > 0) {
			i += r;
			continue;
		}
		h ^= (unsigned char)s[i++];
		h *= 1099511628211ull;
	}
	return h;
}

/* A copy with addresses removed ("[InlinedCallFrame: 00007fff...]" -> "[InlinedCallFrame: ]"). */
static char *dup_no_addr(const char *s)
{
	size_t i = 0, o = 0, r, n = strlen(s);
	char *d = malloc(n + 1);

	if (d == NULL)
		return NULL;
	while (s[i]) {
		r = addr_run(s, i);
		if (r > 0) {
			i += r;
			continue;
		}
		d[o++] = s[i++];
	}
	d[o] = '\0';
	return d;
}

/* ---- one root ---- */

static void root_free(struct classify_root *rt)
{
	size_t i;

	for (i = 0; i < rt->nchain; i++)
		free(rt->chain[i]);
	free(rt->chain);
	free(rt->culprit);
	free(rt->thread_id);
	free(rt->frame);
	free(rt->sos_label);
	memset(rt, 0, sizeof(*rt));
}

static enum classify_kind map_kind(const struct sos_chain *ch)
{
	switch (ch->kind) {
	case SOS_ROOT_STRONG: return CK_STRONG_HANDLE;
	case SOS_ROOT_PINNED: return CK_PINNED_HANDLE;
	case SOS_ROOT_ASYNC_PINNED: return CK_ASYNC_PINNED_HANDLE;
	case SOS_ROOT_SIZED_REF: return CK_SIZED_REF_HANDLE;
	case SOS_ROOT_REFCOUNTED: return CK_REFCOUNTED_HANDLE;
	case SOS_ROOT_WEAK: return CK_WEAK_HANDLE;
	case SOS_ROOT_DEPENDENT: return CK_DEPENDENT_HANDLE;
	case SOS_ROOT_HANDLE_NUMBER: return ch->handle_number == 10 ? CK_WEAK_INTERIOR_HANDLE : CK_UNKNOWN_HANDLE;
	case SOS_ROOT_STACK: return CK_THREAD_STACK;
	case SOS_ROOT_FINALIZER: return CK_FINALIZER_QUEUE;
	case SOS_ROOT_OLDER_GEN: return CK_OLDER_GENERATION;
	default: return CK_UNKNOWN;
	}
}

static const struct culprit_entry fallback_entry = {
	"unknown", "Unrecognised root", "No catalogue entry matched.", "Read the chain from the root down.",
	NULL, 0
};

static int addr_in(const uint64_t *a, size_t n, uint64_t v);

static const char *const mechanisms[] = {
	"System.Threading.ExecutionContext", "System.Threading.AsyncLocal", "System.Threading.ThreadLocal",
	"System.Runtime.CompilerServices.ConditionalWeakTable", "System.ComponentModel.TypeDescriptor",
};

/* A frame's method without its argument list or addresses. */
static char *frame_method(const char *frame)
{
	char *m = dup_no_addr(frame), *paren;

	if (m != NULL && m[0] != '[' && (paren = strchr(m, '(')) != NULL && paren > m)
		*paren = '\0';
	return m;
}

static int root_culprit(const struct sos_chain *ch, size_t n, int is_extra, const struct classify_input *in,
	struct classify_root *rt, long *sv_out)
{
	const struct classify_static *statics = in->statics;
	size_t i, k, nstatics = in->statics ? in->nstatics : 0, last = is_extra && n > 0 ? n - 1 : n;

	*sv_out = -1;
	/* a static field's value, as dumpclass printed it, wins over SOS's label */
	for (i = 0; i < n; i++)
		for (k = 0; k < nstatics; k++)
			if (statics[k].value != 0 && statics[k].value == ch->links[i].addr) {
				*sv_out = (long)i;
				if (ch->links[i].static_var != NULL && strcmp(ch->links[i].static_var, statics[k].name) != 0 &&
				    (rt->sos_label = strdup(ch->links[i].static_var)) == NULL)
					return DS_ENOMEM;
				rt->culprit = strdup(statics[k].name);
				return rt->culprit ? DS_OK : DS_ENOMEM;
			}
	for (i = 0; i < n; i++)
		if (ch->links[i].static_var != NULL) {
			*sv_out = (long)i;
			rt->culprit = strdup(ch->links[i].static_var);
			return rt->culprit ? DS_OK : DS_ENOMEM;
		}
	for (i = 0; i < last; i++)
		if (!classify_is_runtime_type(ch->links[i].type) &&
		    !(in->owned != NULL && addr_in(in->owned, in->nowned, ch->links[i].addr))) {
			rt->culprit = strdup(ch->links[i].type);
			return rt->culprit ? DS_OK : DS_ENOMEM;
		}
	for (i = 0; i < last; i++)
		for (k = 0; k < DS_ARRAY_LEN(mechanisms); k++)
			if (strncmp(ch->links[i].type, mechanisms[k], strlen(mechanisms[k])) == 0) {
				rt->culprit = strdup(mechanisms[k]);
				return rt->culprit ? DS_OK : DS_ENOMEM;
			}
	if (ch->kind == SOS_ROOT_STACK && ch->frame != NULL) {
		rt->culprit = frame_method(ch->frame);
		return rt->culprit ? DS_OK : DS_ENOMEM;
	}
	switch (ch->kind) {
	case SOS_ROOT_STRONG:
	case SOS_ROOT_PINNED:
	case SOS_ROOT_ASYNC_PINNED:
	case SOS_ROOT_SIZED_REF:
	case SOS_ROOT_REFCOUNTED:
	case SOS_ROOT_DEPENDENT:
		if (rt->runtime_handle)
			return DS_OK;
		rt->culprit = strdup(sos_root_kind_name(ch->kind));
		return rt->culprit ? DS_OK : DS_ENOMEM;
	default:
		return DS_OK;
	}
}

static int root_classify(const struct sos_chain *ch, int is_extra, const struct classify_input *in,
	const struct culprit_catalogue *cat, struct classify_root *rt)
{
	struct buf joined;
	const char *static_type = NULL;
	size_t n = ch->nlinks, i;
	long sv = -1;
	uint64_t h = 14695981039346656037ull;
	int rc = DS_ENOMEM;

	memset(rt, 0, sizeof(*rt));
	buf_init(&joined, (size_t)SOS_MAX_LINKS * (SOS_MAX_NAME + 4));
	/* cut at the LoaderAllocator: a gcroot of the scout then reads like one of its LoaderAllocator */
	if (n >= 2 && sos_is_scout(ch->links[n - 1].type) && sos_is_loader_allocator(ch->links[n - 2].type))
		n--;
	rt->kind = map_kind(ch);
	rt->probable_false_root = rt->kind == CK_WEAK_INTERIOR_HANDLE || rt->kind == CK_WEAK_HANDLE ||
		rt->kind == CK_UNKNOWN_HANDLE;
	rt->runtime_handle = ch->kind == SOS_ROOT_STRONG && n == 1 && sos_is_loader_allocator(ch->links[0].type);
	if (n > 0 && (rt->chain = calloc(n, sizeof(*rt->chain))) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		if ((rt->chain[i] = strdup(ch->links[i].type)) == NULL)
			goto out;
		rt->nchain++;
		if (ch->links[i].flags & SOS_LINK_DEPENDENT)
			rt->kind = CK_DEPENDENT_HANDLE;
		if ((i > 0 && (rc = buf_puts(&joined, " -> ")) != DS_OK) ||
		    (rc = buf_puts(&joined, ch->links[i].type)) != DS_OK)
			goto out;
		rc = DS_ENOMEM;
	}
	rt->root_addr_ = ch->root_addr;
	rt->first_addr_ = n > 0 ? ch->links[0].addr : 0;
	rt->nlinks_ = n;
	if (root_culprit(ch, n, is_extra, in, rt, &sv) != DS_OK)
		goto out;
	if (sv >= 0) {
		rt->kind = CK_STATIC_VARIABLE;
		static_type = ch->links[sv].type;
	}
	if (ch->kind == SOS_ROOT_STACK) {
		if (ch->thread_id != NULL && (rt->thread_id = strdup(ch->thread_id)) == NULL)
			goto out;
		if (ch->frame != NULL && (rt->frame = strdup(ch->frame)) == NULL)
			goto out;
	}
	rt->catalogue = culprits_match(cat, classify_kind_name(rt->kind), rt->culprit,
		joined.data ? joined.data : "", static_type);
	if (rt->catalogue == NULL)
		rt->catalogue = &fallback_entry;
	/* signature: kind, address-free chain, culprit (SOS's static labels stay out: they may be wrong) */
	h = classify_hash_step(h, classify_kind_name(rt->kind));
	for (i = 0; i < n; i++) {
		h = classify_hash_step(h, "\x1f");
		h = classify_hash_step(h, ch->links[i].type);
	}
	h = classify_hash_step(h, "\x1e");
	h = classify_hash_step(h, rt->culprit);
	rt->signature = h;
	snprintf(rt->signature_hex, sizeof(rt->signature_hex), "%016llx", (unsigned long long)h);
	rc = DS_OK;
out:
	buf_free(&joined);
	if (rc != DS_OK)
		root_free(rt);
	return rc;
}

/* ---- contexts ---- */

static void context_free(struct classify_context *c)
{
	size_t i;

	for (i = 0; i < c->nroots; i++)
		root_free(&c->roots[i]);
	free(c->roots);
	free(c->name);
	memset(c, 0, sizeof(*c));
}

void classify_result_free(struct classify_result *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->ncontexts; i++)
		context_free(&r->contexts[i]);
	free(r->contexts);
	if (r->has_exception)
		sos_exception_free(&r->exception);
	culprits_free(&r->catalogue);
	memset(r, 0, sizeof(*r));
}

static int add_roots(struct classify_context *c, const struct sos_gcroot *g, int is_extra,
	const struct classify_input *in, const struct culprit_catalogue *cat)
{
	struct classify_root *p, *nr;
	size_t i, k;
	int rc;

	if (g == NULL || g->nchains == 0)
		return DS_OK;
	if (c->nroots + g->nchains > SOS_MAX_CHAINS * 4)
		return DS_ETOOBIG;
	p = realloc(c->roots, (c->nroots + g->nchains) * sizeof(*p));
	if (p == NULL)
		return DS_ENOMEM;
	c->roots = p;
	for (i = 0; i < g->nchains; i++) {
		nr = &c->roots[c->nroots];
		rc = root_classify(&g->chains[i], is_extra, in, cat, nr);
		if (rc != DS_OK)
			return rc;
		/* the same root seen from another object of the context: keep the shorter chain */
		for (k = 0; is_extra && k < c->nroots; k++) {
			struct classify_root *o = &c->roots[k];

			if (o->first_addr_ != nr->first_addr_ || o->kind != nr->kind)
				continue;
			if (o->root_addr_ != 0 && o->root_addr_ == nr->root_addr_)
				break;
			if (o->root_addr_ == 0 && nr->root_addr_ == 0 && o->thread_id && nr->thread_id && o->frame &&
			    nr->frame && strcmp(o->thread_id, nr->thread_id) == 0 && strcmp(o->frame, nr->frame) == 0)
				break;
		}
		if (is_extra && k < c->nroots) {
			if (nr->nlinks_ < c->roots[k].nlinks_) {
				root_free(&c->roots[k]);
				c->roots[k] = *nr;
			} else {
				root_free(nr);
			}
			continue;
		}
		c->nroots++;
	}
	return DS_OK;
}

static int context_classify(const struct classify_input *in, const struct culprit_catalogue *cat,
	struct classify_context *c)
{
	const struct sos_gcroot *g = in->la_roots ? in->la_roots : in->scout_roots;
	size_t i;
	int rc, live = 0, held = 0;

	c->loader_allocator = in->loader_allocator;
	c->scout = in->scout;
	c->target = in->target;
	c->found = g ? g->found : -1;
	if (in->name != NULL && (c->name = strdup(in->name)) == NULL)
		return DS_ENOMEM;
	if ((rc = add_roots(c, g, 0, in, cat)) != DS_OK)
		return rc;
	for (i = 0; i < in->nextra; i++)
		if ((rc = add_roots(c, in->extra[i], 1, in, cat)) != DS_OK)
			return rc;
	for (i = 0; i < c->nroots; i++) {
		if (c->roots[i].runtime_handle)
			live = 1;
		else if (!c->roots[i].probable_false_root)
			held = 1;
	}
	if (in->loader_allocator == 0 && in->scout == 0)
		c->state = CS_UNKNOWN;
	else if (in->alc_state == 0 || (live && in->alc_state != 1))
		c->state = CS_LIVE;
	else if (held)
		c->state = CS_UNLOADING_HELD;
	else if (g != NULL || in->nextra > 0)
		c->state = CS_UNLOADING_NO_ROOTS;
	else
		c->state = in->alc_state == 1 ? CS_UNLOADING_NO_ROOTS : CS_UNKNOWN;
	return DS_OK;
}

static int exception_copy(const struct sos_exception *src, struct sos_exception *dst)
{
	size_t i;

	memset(dst, 0, sizeof(*dst));
	dst->hresult = src->hresult;
	dst->has_hresult = src->has_hresult;
	if ((src->type && (dst->type = strdup(src->type)) == NULL) ||
	    (src->message && (dst->message = strdup(src->message)) == NULL))
		return DS_ENOMEM;
	if (src->nstack > 0 && (dst->stack = calloc(src->nstack, sizeof(char *))) == NULL)
		return DS_ENOMEM;
	for (i = 0; i < src->nstack; i++) {
		if ((dst->stack[i] = strdup(src->stack[i])) == NULL)
			return DS_ENOMEM;
		dst->nstack++;
	}
	return DS_OK;
}

int classify_run(const struct classify_input *in, size_t n, const struct sos_exception *exception,
	struct classify_result *r, struct ds_err *err)
{
	size_t i;
	int rc;

	memset(r, 0, sizeof(*r));
	if ((rc = culprits_load_builtin(&r->catalogue, err)) != DS_OK)
		goto out;
	if (n > CLASSIFY_MAX_CONTEXTS) {
		rc = ds_err_setn(err, DS_ETOOBIG, "more than %d loader allocators", CLASSIFY_MAX_CONTEXTS);
		goto out;
	}
	if (n > 0 && (r->contexts = calloc(n, sizeof(*r->contexts))) == NULL) {
		rc = DS_ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		r->ncontexts++;
		if ((rc = context_classify(&in[i], &r->catalogue, &r->contexts[i])) != DS_OK)
			goto out;
		if (r->contexts[i].state == CS_UNLOADING_HELD)
			r->leak = 1;
	}
	if (exception != NULL && exception->type != NULL) {
		r->has_exception = 1;
		if ((rc = exception_copy(exception, &r->exception)) != DS_OK)
			goto out;
	}
out:
	if (rc == DS_ENOMEM)
		ds_err_setn(err, rc, "out of memory classifying roots");
	else if (rc == DS_ETOOBIG && err != NULL && err->code != DS_ETOOBIG)
		ds_err_setn(err, rc, "too many roots to classify");
	return rc;
}

/* Lowercased first word of a command. */
static void cmd_first_word(const char *cmd, char *w, size_t wsz)
{
	size_t i = 0;

	while (cmd != NULL && (*cmd == ' ' || *cmd == '!'))
		cmd++;
	while (cmd != NULL && *cmd && *cmd != ' ' && i + 1 < wsz) {
		w[i++] = (char)((*cmd >= 'A' && *cmd <= 'Z') ? *cmd - 'A' + 'a' : *cmd);
		cmd++;
	}
	w[i] = '\0';
}

/* ---- whole transcripts ---- */

struct tr_gcroot {
	uint64_t target;
	struct sos_gcroot g;
};

struct tr_alc {
	uint64_t addr, name_addr;
	int state, used;
};

struct tr_str {
	uint64_t addr;
	char *value;
};

struct tr_obj {
	uint64_t addr, mt;
};

struct tr_mt {
	uint64_t mt, la, alc;
};

struct tr_static {
	uint64_t value;
	char *name;
};

/* Everything a transcript said that matters here. */
struct tr {
	struct tr_gcroot *roots;
	size_t nroots, croots;
	uint64_t *las, *scouts;
	size_t nlas, nscouts, clas, cscouts;
	struct tr_alc *alcs;
	size_t nalcs, calcs;
	struct tr_str *strs;
	size_t nstrs, cstrs;
	struct tr_obj *objs;
	size_t nobjs, cobjs;
	struct tr_mt *mts;
	size_t nmts, cmts;
	struct tr_static *statics;
	size_t nstatics, cstatics;
	struct sos_exception exc;
	int has_exc;
};

static int tr_grow(void **arr, size_t *cap, size_t n, size_t elsz)
{
	size_t ncap;
	void *p;

	if (n >= SOS_MAX_OBJECTS)
		return DS_ETOOBIG;
	if (n < *cap)
		return DS_OK;
	ncap = *cap ? *cap * 2 : 8;
	p = realloc(*arr, ncap * elsz);
	if (p == NULL)
		return DS_ENOMEM;
	*arr = p;
	*cap = ncap;
	return DS_OK;
}

static int addr_in(const uint64_t *a, size_t n, uint64_t v)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (a[i] == v)
			return 1;
	return 0;
}

static int tr_note_object(struct tr *t, uint64_t addr, const char *type)
{
	int rc = DS_OK;

	if (addr == 0)
		return DS_OK;
	if (sos_is_loader_allocator(type) && !addr_in(t->las, t->nlas, addr)) {
		if ((rc = tr_grow((void **)&t->las, &t->clas, t->nlas, sizeof(*t->las))) == DS_OK)
			t->las[t->nlas++] = addr;
	} else if (sos_is_scout(type) && !addr_in(t->scouts, t->nscouts, addr)) {
		if ((rc = tr_grow((void **)&t->scouts, &t->cscouts, t->nscouts, sizeof(*t->scouts))) == DS_OK)
			t->scouts[t->nscouts++] = addr;
	}
	return rc;
}

static void tr_free(struct tr *t)
{
	size_t i;

	for (i = 0; i < t->nroots; i++)
		sos_gcroot_free(&t->roots[i].g);
	for (i = 0; i < t->nstrs; i++)
		free(t->strs[i].value);
	for (i = 0; i < t->nstatics; i++)
		free(t->statics[i].name);
	free(t->roots);
	free(t->las);
	free(t->scouts);
	free(t->alcs);
	free(t->strs);
	free(t->objs);
	free(t->mts);
	free(t->statics);
	if (t->has_exc)
		sos_exception_free(&t->exc);
}

static int tr_add_str(struct tr *t, uint64_t addr, char *value)
{
	int rc = tr_grow((void **)&t->strs, &t->cstrs, t->nstrs, sizeof(*t->strs));

	if (rc != DS_OK) {
		free(value);
		return rc;
	}
	t->strs[t->nstrs].addr = addr;
	t->strs[t->nstrs].value = value;
	t->nstrs++;
	return DS_OK;
}

static int tr_gcroot(struct tr *t, const char *cmd, const char *out, size_t len, size_t line,
	struct ds_err *err)
{
	struct tr_gcroot *gr;
	uint64_t target = 0;
	size_t i, j;
	int rc;

	if ((rc = tr_grow((void **)&t->roots, &t->croots, t->nroots, sizeof(*t->roots))) != DS_OK)
		return ds_err_set(err, rc, line, "line %zu: too many gcroot outputs", line);
	gr = &t->roots[t->nroots];
	memset(gr, 0, sizeof(*gr));
	if ((rc = sos_parse_gcroot(out, len, line, &gr->g, err)) != DS_OK)
		return rc;
	t->nroots++;
	if (sos_cmd_args(cmd, &target, NULL, 0, NULL) != 0 && gr->g.nchains > 0 &&
	    gr->g.chains[0].nlinks > 0)
		target = gr->g.chains[0].links[gr->g.chains[0].nlinks - 1].addr;
	gr->target = target;
	for (i = 0; i < gr->g.nchains; i++)
		for (j = 0; j < gr->g.chains[i].nlinks; j++)
			if ((rc = tr_note_object(t, gr->g.chains[i].links[j].addr, gr->g.chains[i].links[j].type)) != DS_OK)
				return ds_err_set(err, rc, line, "line %zu: too many objects", line);
	return DS_OK;
}

/* gcroot output pasted without command lines may hold several runs: split after each "Found" line. */
static int tr_gcroot_bare(struct tr *t, const char *out, size_t len, size_t line, struct ds_err *err)
{
	struct cursor c;
	struct span l, tail;
	const char *seg = out;
	size_t seg_line = line, ln = line - 1;
	int rc;

	cursor_init(&c, out, len);
	while (cursor_line(&c, &l) == 0) {
		ln++;
		if (span_starts(span_trim(l), "Found ") && span_find(l, "root") >= 0) {
			if ((rc = tr_gcroot(t, NULL, seg, (size_t)(c.p - seg), seg_line, err)) != DS_OK)
				return rc;
			seg = c.p;
			seg_line = ln + 1;
		}
	}
	tail.p = seg;
	tail.n = (size_t)(out + len - seg);
	if (span_trim(tail).n > 0)
		return tr_gcroot(t, NULL, tail.p, tail.n, seg_line, err);
	return DS_OK;
}

/* dumpobj/dumpvc of a collectible AssemblyLoadContext (its _name, _state, _isCollectible fields), or
 * of a String. dumpvc MT ADDR shows the fields at ADDR, which is the object's address plus its
 * MethodTable pointer (8 bytes). */
static int tr_dumpobj(struct tr *t, const char *cmd, const char *out, size_t len, size_t line,
	struct ds_err *err)
{
	struct sos_dumpobj o;
	const struct sos_field *fn, *fs, *fc;
	uint64_t args[2] = { 0, 0 }, addr, v;
	struct cursor c;
	char w[16];
	size_t na;
	int rc;

	if ((rc = sos_parse_dumpobj(out, len, line, &o, err)) != DS_OK)
		return rc;
	na = sos_cmd_hex_args(cmd, args, 2);
	cmd_first_word(cmd, w, sizeof(w));
	addr = strcmp(w, "dumpvc") == 0 ? (na == 2 && args[1] >= 8 ? args[1] - 8 : 0) : (na >= 1 ? args[0] : 0);
	if (addr == 0)
		goto out;
	if (o.string != NULL) {
		rc = tr_add_str(t, addr, o.string);
		o.string = NULL;
		goto out;
	}
	fn = sos_dumpobj_field(&o, "_name");
	fs = sos_dumpobj_field(&o, "_state");
	fc = sos_dumpobj_field(&o, "_isCollectible");
	if (fn == NULL || fc == NULL || strcmp(fc->value, "0") == 0 || strcmp(fc->value, "False") == 0 ||
	    strcmp(fc->value, "false") == 0)
		goto out; /* not a collectible AssemblyLoadContext */
	if ((rc = tr_grow((void **)&t->alcs, &t->calcs, t->nalcs, sizeof(*t->alcs))) != DS_OK)
		goto out;
	memset(&t->alcs[t->nalcs], 0, sizeof(*t->alcs));
	t->alcs[t->nalcs].addr = addr;
	t->alcs[t->nalcs].state = -1;
	cursor_init(&c, fn->value, strlen(fn->value));
	if (cursor_hex(&c, &v, NULL) == 0)
		t->alcs[t->nalcs].name_addr = v;
	if (fs != NULL) {
		cursor_init(&c, fs->value, strlen(fs->value));
		if (cursor_dec(&c, &v) == 0 && v <= 1)
			t->alcs[t->nalcs].state = (int)v;
	}
	t->nalcs++;
out:
	if (rc != DS_OK)
		ds_err_set(err, rc, line, "line %zu: too many objects", line);
	sos_dumpobj_free(&o);
	return rc;
}

/* dumpclass: remember each static reference field's value with its full name. */
static int tr_dumpclass(struct tr *t, const char *out, size_t len, size_t line, struct ds_err *err)
{
	struct sos_dumpobj o;
	struct cursor c;
	uint64_t v;
	size_t i, n;
	int rc;

	if ((rc = sos_parse_dumpobj(out, len, line, &o, err)) != DS_OK)
		return rc;
	for (i = 0; o.name != NULL && i < o.nfields; i++) {
		const struct sos_field *f = &o.fields[i];

		cursor_init(&c, f->value, strlen(f->value));
		if (!f->is_static || strlen(f->value) < 8 || cursor_hex(&c, &v, NULL) != 0 || !cursor_eof(&c) || v == 0)
			continue;
		if ((rc = tr_grow((void **)&t->statics, &t->cstatics, t->nstatics, sizeof(*t->statics))) != DS_OK)
			break;
		n = strlen(o.name) + strlen(f->name) + 2;
		if ((t->statics[t->nstatics].name = malloc(n)) == NULL) {
			rc = DS_ENOMEM;
			break;
		}
		snprintf(t->statics[t->nstatics].name, n, "%s.%s", o.name, f->name);
		t->statics[t->nstatics++].value = v;
	}
	if (rc != DS_OK)
		ds_err_set(err, rc, line, "line %zu: too many static fields", line);
	sos_dumpobj_free(&o);
	return rc;
}

static int tr_record(struct tr *t, const struct sos_record *rec, struct ds_err *err)
{
	struct sos_dumpheap d;
	struct sos_dumpmt m;
	char typebuf[256], *text;
	uint64_t args[1];
	size_t i;
	int rc = DS_OK, is_short;

	if (!rec->ok)
		return DS_OK;
	switch (sos_record_kind(rec->cmd, rec->out, rec->out_len)) {
	case SOS_KIND_DUMPHEAP:
		if ((rc = sos_parse_dumpheap(rec->out, rec->out_len, rec->line, &d, err)) != DS_OK)
			return rc;
		(void)sos_cmd_args(rec->cmd, NULL, typebuf, sizeof(typebuf), &is_short);
		for (i = 0; i < d.nobjects && rc == DS_OK; i++) {
			const char *type = d.objects[i].type;

			/* -short prints no types: trust a -type naming only scouts */
			if (type == NULL && strlen(typebuf) >= 20 &&
			    strcmp(typebuf + strlen(typebuf) - 20, "LoaderAllocatorScout") == 0)
				type = "System.Reflection.LoaderAllocatorScout";
			rc = tr_note_object(t, d.objects[i].addr, type);
			if (rc == DS_OK && d.objects[i].mt != 0 &&
			    (rc = tr_grow((void **)&t->objs, &t->cobjs, t->nobjs, sizeof(*t->objs))) == DS_OK) {
				t->objs[t->nobjs].addr = d.objects[i].addr;
				t->objs[t->nobjs++].mt = d.objects[i].mt;
			}
		}
		sos_dumpheap_free(&d);
		if (rc != DS_OK)
			ds_err_set(err, rc, rec->line, "line %zu: too many objects", rec->line);
		return rc;
	case SOS_KIND_GCROOT:
		if (rec->cmd == NULL)
			return tr_gcroot_bare(t, rec->out, rec->out_len, rec->line, err);
		return tr_gcroot(t, rec->cmd, rec->out, rec->out_len, rec->line, err);
	case SOS_KIND_DUMPOBJ:
		return tr_dumpobj(t, rec->cmd, rec->out, rec->out_len, rec->line, err);
	case SOS_KIND_DUMPCLASS:
		return tr_dumpclass(t, rec->out, rec->out_len, rec->line, err);
	case SOS_KIND_DUMPMT:
		if (sos_cmd_hex_args(rec->cmd, args, 1) != 1)
			return DS_OK;
		if ((rc = sos_parse_dumpmt(rec->out, rec->out_len, rec->line, &m, err)) != DS_OK)
			return rc;
		if (m.loader_allocator != 0 && (rc = tr_grow((void **)&t->mts, &t->cmts, t->nmts, sizeof(*t->mts))) == DS_OK) {
			t->mts[t->nmts].mt = args[0];
			t->mts[t->nmts].la = m.loader_allocator;
			t->mts[t->nmts++].alc = m.alc;
		}
		sos_dumpmt_free(&m);
		if (rc != DS_OK)
			ds_err_set(err, rc, rec->line, "line %zu: too many method tables", rec->line);
		return rc;
	case SOS_KIND_DU:
		/* du prints a String's characters, which start 12 bytes into the object on 64-bit */
		if (sos_cmd_hex_args(rec->cmd, args, 1) != 1 || args[0] < 12)
			return DS_OK;
		if ((rc = sos_parse_du(rec->out, rec->out_len, rec->line, &text, err)) != DS_OK || text == NULL)
			return rc;
		return tr_add_str(t, args[0] - 12, text);
	case SOS_KIND_PE:
		if (t->has_exc)
			return DS_OK;
		if ((rc = sos_parse_pe(rec->out, rec->out_len, rec->line, &t->exc, err)) != DS_OK)
			return rc;
		t->has_exc = 1;
		if (t->exc.type == NULL) {
			sos_exception_free(&t->exc);
			t->has_exc = 0;
		}
		return DS_OK;
	default:
		return DS_OK;
	}
}

static const struct sos_gcroot *tr_find_gcroot(const struct tr *t, uint64_t target)
{
	size_t i;

	for (i = 0; target != 0 && i < t->nroots; i++)
		if (t->roots[i].target == target)
			return &t->roots[i].g;
	return NULL;
}

/* A gcroot whose target is neither a LoaderAllocator nor a scout. */
static int tr_is_other(const struct tr *t, const struct tr_gcroot *g)
{
	return g->target == 0 || (!addr_in(t->las, t->nlas, g->target) && !addr_in(t->scouts, t->nscouts, g->target));
}

/* The LoaderAllocator that loaded an object's type: dumpheap gives its MethodTable, dumpmt the
 * MethodTable's LoaderAllocator. 0 if the transcript does not say. */
static uint64_t tr_object_la(const struct tr *t, uint64_t addr)
{
	size_t i, k;

	for (i = 0; addr != 0 && i < t->nobjs; i++)
		if (t->objs[i].addr == addr)
			for (k = 0; k < t->nmts; k++)
				if (t->mts[k].mt == t->objs[i].mt)
					return t->mts[k].la;
	return 0;
}

/* The LoaderAllocator a scout belongs to: a chain "LoaderAllocator -> scout", else the nearest
 * LoaderAllocator below it not taken yet. */
static uint64_t tr_scout_owner(const struct tr *t, uint64_t scout, const uint64_t *la_taken)
{
	size_t i, j, k;
	uint64_t best = 0;

	for (i = 0; i < t->nroots; i++)
		for (j = 0; j < t->roots[i].g.nchains; j++) {
			const struct sos_chain *ch = &t->roots[i].g.chains[j];

			for (k = 1; k < ch->nlinks; k++)
				if (ch->links[k].addr == scout && sos_is_loader_allocator(ch->links[k - 1].type))
					return ch->links[k - 1].addr;
		}
	for (i = 0; i < t->nlas; i++)
		if (!la_taken[i] && t->las[i] < scout && scout - t->las[i] <= PAIR_WINDOW &&
		    (best == 0 || t->las[i] > best))
			best = t->las[i];
	return best;
}

static const char *tr_string(const struct tr *t, uint64_t addr)
{
	size_t i;

	for (i = 0; addr != 0 && i < t->nstrs; i++)
		if (t->strs[i].addr == addr)
			return t->strs[i].value;
	return NULL;
}

/* The collectible ALC of a LoaderAllocator: named by a dumpmt of one of its types, else the nearest
 * ALC below it (the runtime allocates the LoaderAllocator right after its ALC). */
static struct tr_alc *tr_alc_for(struct tr *t, uint64_t la)
{
	struct tr_alc *best = NULL;
	size_t i, k;

	for (k = 0; la != 0 && k < t->nmts; k++)
		if (t->mts[k].la == la && t->mts[k].alc != 0)
			for (i = 0; i < t->nalcs; i++)
				if (t->alcs[i].addr == t->mts[k].alc) {
					t->alcs[i].used = 1;
					return &t->alcs[i];
				}
	for (i = 0; la != 0 && i < t->nalcs; i++)
		if (!t->alcs[i].used && t->alcs[i].addr < la && la - t->alcs[i].addr <= PAIR_WINDOW &&
		    (best == NULL || t->alcs[i].addr > best->addr))
			best = &t->alcs[i];
	if (best != NULL)
		best->used = 1;
	return best;
}

int classify_transcript(const char *text, size_t len, struct classify_result *r, struct ds_err *err)
{
	struct sos_session s;
	struct tr t;
	struct classify_input *in = NULL;
	struct classify_static *statics = NULL;
	const struct sos_gcroot **block = NULL;
	uint64_t *la_taken = NULL, *owned = NULL, *obj_la = NULL;
	long *assign = NULL;
	size_t opos = 0, i, k, n = 0, pos = 0, unloading = 0, held_idx = 0, nunassigned = 0;
	int rc;

	memset(r, 0, sizeof(*r));
	memset(&t, 0, sizeof(t));
	if ((rc = sos_session_split(text, len, &s, err)) != DS_OK)
		return rc;
	for (i = 0; i < s.nrecords; i++)
		if ((rc = tr_record(&t, &s.records[i], err)) != DS_OK)
			goto out;
	if (t.nlas + t.nscouts + t.nroots > CLASSIFY_MAX_CONTEXTS) {
		rc = ds_err_setn(err, DS_ETOOBIG, "more than %d loader allocators", CLASSIFY_MAX_CONTEXTS);
		goto out;
	}
	in = calloc(t.nlas + t.nscouts + t.nroots + 1, sizeof(*in));
	block = calloc(t.nroots + 1, sizeof(*block));
	assign = calloc(t.nroots + 1, sizeof(*assign));
	la_taken = calloc(t.nlas + 1, sizeof(*la_taken));
	statics = calloc(t.nstatics + 1, sizeof(*statics));
	owned = calloc(t.nroots + t.nobjs + 1, sizeof(*owned));
	obj_la = calloc(t.nobjs + 1, sizeof(*obj_la));
	if (obj_la == NULL || owned == NULL || in == NULL || block == NULL || assign == NULL || la_taken == NULL || statics == NULL) {
		rc = ds_err_setn(err, DS_ENOMEM, "out of memory");
		goto out;
	}
	/* each listed object's LoaderAllocator, once (dumpheap MT -> dumpmt LoaderAllocator) */
	for (i = 0; i < t.nobjs; i++)
		for (k = 0; k < t.nmts && obj_la[i] == 0; k++)
			if (t.mts[k].mt == t.objs[i].mt)
				obj_la[i] = t.mts[k].la;
	for (i = 0; i < t.nstatics; i++) {
		statics[i].value = t.statics[i].value;
		statics[i].name = t.statics[i].name;
	}
	/* one context per LoaderAllocator, then the scouts left without one */
	for (i = 0; i < t.nlas; i++) {
		in[n].loader_allocator = t.las[i];
		in[n].alc_state = -1;
		n++;
	}
	for (i = 0; i < t.nscouts; i++) {
		uint64_t la = tr_scout_owner(&t, t.scouts[i], la_taken);

		for (k = 0; la != 0 && k < t.nlas; k++)
			if (t.las[k] == la && !la_taken[k]) {
				la_taken[k] = 1;
				in[k].scout = t.scouts[i];
				break;
			}
		if (la == 0 || k == t.nlas) {
			in[n].scout = t.scouts[i];
			in[n].alc_state = -1;
			n++;
		}
	}
	for (i = 0; i < n; i++) {
		struct tr_alc *alc = tr_alc_for(&t, in[i].loader_allocator);

		in[i].la_roots = tr_find_gcroot(&t, in[i].loader_allocator);
		in[i].scout_roots = tr_find_gcroot(&t, in[i].scout);
		in[i].statics = statics;
		in[i].nstatics = t.nstatics;
		if (alc != NULL) {
			in[i].name = tr_string(&t, alc->name_addr);
			in[i].alc_state = alc->state;
		}
	}
	/* gcroots of other objects: to the context that loaded their type, when the transcript says */
	for (i = 0; i < t.nroots; i++) {
		uint64_t la;

		assign[i] = -2;
		if (!tr_is_other(&t, &t.roots[i]) || t.roots[i].g.nchains == 0)
			continue;
		assign[i] = -1;
		la = tr_object_la(&t, t.roots[i].target);
		for (k = 0; la != 0 && k < t.nlas; k++)
			if (in[k].loader_allocator == la)
				assign[i] = (long)k;
		if (assign[i] < 0)
			nunassigned++;
	}
	if (nunassigned > 0) {
		/* else to the only context being unloaded, if there is exactly one */
		if ((rc = classify_run(in, n, NULL, r, err)) != DS_OK)
			goto out;
		for (i = 0; i < r->ncontexts; i++)
			if (r->contexts[i].state == CS_UNLOADING_HELD || r->contexts[i].state == CS_UNLOADING_NO_ROOTS) {
				unloading++;
				held_idx = i;
			}
		classify_result_free(r);
		for (i = 0; i < t.nroots; i++)
			if (assign[i] == -1 && unloading == 1)
				assign[i] = (long)held_idx;
	}
	for (k = 0; k < n; k++) {
		in[k].extra = block + pos;
		in[k].owned = owned + opos;
		for (i = 0; i < t.nroots; i++)
			if (assign[i] == (long)k) {
				block[pos++] = &t.roots[i].g;
				owned[opos++] = t.roots[i].target;
			}
		for (i = 0; in[k].loader_allocator != 0 && i < t.nobjs; i++)
			if (obj_la[i] == in[k].loader_allocator && opos < t.nroots + t.nobjs)
				owned[opos++] = t.objs[i].addr;
		in[k].nextra = (size_t)(block + pos - in[k].extra);
		in[k].nowned = (size_t)(owned + opos - in[k].owned);
	}
	/* the rest (and gcroots of unknown objects that found nothing) are reported as their own */
	for (i = 0; i < t.nroots; i++)
		if (assign[i] == -1 || (assign[i] == -2 && tr_is_other(&t, &t.roots[i]) && t.roots[i].target != 0)) {
			in[n].target = t.roots[i].target;
			in[n].la_roots = &t.roots[i].g;
			in[n].alc_state = -1;
			in[n].statics = statics;
			in[n].nstatics = t.nstatics;
			n++;
		}
	rc = classify_run(in, n, t.has_exc ? &t.exc : NULL, r, err);
out:
	free(in);
	free(block);
	free(assign);
	free(la_taken);
	free(statics);
	free(owned);
	free(obj_la);
	tr_free(&t);
	sos_session_free(&s);
	return rc;
}

/* ---- JSON ---- */

static cJSON *json_addr(uint64_t a)
{
	char b[24];

	if (a == 0)
		return cJSON_CreateNull();
	snprintf(b, sizeof(b), "0x%llx", (unsigned long long)a);
	return cJSON_CreateString(b);
}

static cJSON *json_str(const char *s)
{
	return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

/* Adds an item, and remembers failure (cJSON returns NULL on allocation failure). */
static void put(cJSON *o, const char *k, cJSON *v, int *bad)
{
	if (v == NULL || o == NULL) {
		*bad = 1;
		cJSON_Delete(v);
		return;
	}
	cJSON_AddItemToObject(o, k, v);
}

static cJSON *root_json(const struct classify_root *rt, int *bad)
{
	cJSON *o = cJSON_CreateObject(), *ch = cJSON_CreateArray(), *cat = cJSON_CreateObject();
	size_t i;

	for (i = 0; ch != NULL && i < rt->nchain; i++) {
		cJSON *s = cJSON_CreateString(rt->chain[i]);

		if (s == NULL)
			*bad = 1;
		else
			cJSON_AddItemToArray(ch, s);
	}
	put(o, "kind", cJSON_CreateString(classify_kind_name(rt->kind)), bad);
	put(o, "culprit", json_str(rt->culprit), bad);
	put(o, "signature", cJSON_CreateString(rt->signature_hex), bad);
	put(o, "chain", ch, bad);
	put(o, "probable_false_root", cJSON_CreateBool(rt->probable_false_root), bad);
	put(o, "thread_id", json_str(rt->thread_id), bad);
	put(o, "frame", json_str(rt->frame), bad);
	if (rt->sos_label != NULL)
		put(o, "sos_static_label", cJSON_CreateString(rt->sos_label), bad);
	put(cat, "id", json_str(rt->catalogue->id), bad);
	put(cat, "title", json_str(rt->catalogue->title), bad);
	put(cat, "explanation", json_str(rt->catalogue->explanation), bad);
	put(cat, "advice", json_str(rt->catalogue->advice), bad);
	put(o, "catalogue", cat, bad);
	return o;
}

cJSON *classify_to_json(const struct classify_result *r)
{
	cJSON *o = cJSON_CreateObject(), *ctxs = cJSON_CreateArray(), *c, *roots, *e, *st;
	size_t i, j;
	int bad = 0;

	put(o, "leak", cJSON_CreateBool(r->leak), &bad);
	for (i = 0; ctxs != NULL && i < r->ncontexts; i++) {
		const struct classify_context *x = &r->contexts[i];

		c = cJSON_CreateObject();
		roots = cJSON_CreateArray();
		put(c, "name", json_str(x->name), &bad);
		put(c, "loader_allocator", json_addr(x->loader_allocator), &bad);
		put(c, "scout", json_addr(x->scout), &bad);
		if (x->target != 0)
			put(c, "target", json_addr(x->target), &bad);
		put(c, "state", cJSON_CreateString(classify_state_name(x->state)), &bad);
		put(c, "found_roots", x->found >= 0 ? cJSON_CreateNumber((double)x->found) : cJSON_CreateNull(),
			&bad);
		for (j = 0; roots != NULL && j < x->nroots; j++) {
			cJSON *rj = root_json(&x->roots[j], &bad);

			if (rj == NULL)
				bad = 1;
			else
				cJSON_AddItemToArray(roots, rj);
		}
		put(c, "roots", roots, &bad);
		if (c == NULL)
			bad = 1;
		else
			cJSON_AddItemToArray(ctxs, c);
	}
	put(o, "contexts", ctxs, &bad);
	if (r->has_exception) {
		char hr[16];

		e = cJSON_CreateObject();
		st = cJSON_CreateArray();
		put(e, "type", json_str(r->exception.type), &bad);
		put(e, "message", json_str(r->exception.message), &bad);
		snprintf(hr, sizeof(hr), "0x%08x", (unsigned)r->exception.hresult);
		put(e, "hresult", r->exception.has_hresult ? cJSON_CreateString(hr) : cJSON_CreateNull(), &bad);
		for (j = 0; st != NULL && j < r->exception.nstack; j++) {
			cJSON *s = cJSON_CreateString(r->exception.stack[j]);

			if (s == NULL)
				bad = 1;
			else
				cJSON_AddItemToArray(st, s);
		}
		put(e, "stack", st, &bad);
		put(o, "managed_exception", e, &bad);
	}
	if (bad) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}
