/* sos_transcript.c - reads a saved SOS session (a dotnet-dump transcript with its markers, a pasted
 * WinDbg/lldb session, or bare gcroot output) into the fact model (facts.h): which LoaderAllocators
 * and contexts the text shows, their names and states, and every gcroot chain as a root path. It
 * checks first that no record was cut or forged by target text (sos_transcript_check), and never
 * judges a chain (classify.c does). */
#include "sos_transcript.h"

#include "core/buf.h"
#include "core/cursor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAIR_WINDOW 0x10000u /* how far apart an ALC, its LoaderAllocator and its scout may lie */

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


/* ---- forged or cut records ---- */

/* The last non-blank line of a record's output. */
static struct span last_line(const char *out, size_t len)
{
	struct cursor c;
	struct span l, last = { out, 0 };

	cursor_init(&c, out, len);
	while (cursor_line(&c, &l) == 0)
		if (span_trim(l).n > 0)
			last = span_trim(l);
	return last;
}

static size_t count_prefixed(const char *out, size_t len, const char *prefix)
{
	struct cursor c;
	struct span l;
	size_t n = 0;

	cursor_init(&c, out, len);
	while (cursor_line(&c, &l) == 0)
		if (span_starts(span_trim(l), prefix))
			n++;
	return n;
}

static size_t count_nonblank(const char *out, size_t len)
{
	struct cursor c;
	struct span l;
	size_t n = 0;

	cursor_init(&c, out, len);
	while (cursor_line(&c, &l) == 0)
		if (span_trim(l).n > 0)
			n++;
	return n;
}

int sos_transcript_check(const struct sos_session *s, struct ds_err *err)
{
	size_t i, k;
	int seen_cmd = 0, rc = DS_OK;

	for (i = 0; i < s->nrecords && rc == DS_OK; i++) {
		const struct sos_record *r = &s->records[i];
		struct span last = last_line(r->out, r->out_len);
		enum sos_kind kind = sos_record_kind(r->cmd, r->out, r->out_len);

		if (r->cmd == NULL) {
			/* text after a command that no command line opened: the rest of a record cut short */
			if (seen_cmd && span_trim((struct span){ r->out, r->out_len }).n > 0)
				rc = ds_err_set(err, DS_EPARSE, r->line,
					"line %zu: output with no command after a command's end: a record was cut short "
					"(text from the target holds a marker or prompt)", r->line);
			continue;
		}
		seen_cmd = 1;
		if (!r->ok)
			continue;
		if (kind == SOS_KIND_PE && count_prefixed(r->out, r->out_len, "Exception type:") > 0 &&
		    !span_starts(last, "HResult:"))
			rc = ds_err_set(err, DS_EPARSE, r->line,
				"line %zu: the exception record does not end with its HResult line: it was cut short "
				"(the message holds a marker or prompt)", r->line);
		else if (kind == SOS_KIND_PE && count_prefixed(r->out, r->out_len, "HResult:") > 1 &&
			 count_prefixed(r->out, r->out_len, "Exception object:") < 2)
			rc = ds_err_set(err, DS_EPARSE, r->line, "line %zu: one exception record with two HResult lines",
				r->line);
		else if (kind == SOS_KIND_GCROOT && count_prefixed(r->out, r->out_len, "Found ") > 0 &&
			 (count_prefixed(r->out, r->out_len, "Found ") != 1 || !span_starts(last, "Found ")))
			rc = ds_err_set(err, DS_EPARSE, r->line,
				"line %zu: a gcroot record does not end with its one 'Found N roots' line: forged or cut",
				r->line);
		else if (kind == SOS_KIND_DU && count_prefixed(r->out, r->out_len, "Text:") > 0 &&
			 count_nonblank(r->out, r->out_len) != 1)
			rc = ds_err_set(err, DS_EPARSE, r->line, "line %zu: a du record spans several lines: forged or cut",
				r->line);
		/* the same command twice with different answers: one of them was written by the target */
		for (k = 0; rc == DS_OK && k < i; k++) {
			const struct sos_record *o = &s->records[k];

			if (o->cmd != NULL && o->ok && strcmp(o->cmd, r->cmd) == 0 &&
			    (kind == SOS_KIND_GCROOT || kind == SOS_KIND_PE || kind == SOS_KIND_DU ||
			     kind == SOS_KIND_DUMPCLASS || kind == SOS_KIND_DUMPOBJ || kind == SOS_KIND_DUMPMT) &&
			    !(o->out_len == r->out_len && memcmp(o->out, r->out, r->out_len) == 0) &&
			    !(kind == SOS_KIND_GCROOT && count_prefixed(o->out, o->out_len, "Caching GC roots") +
				count_prefixed(r->out, r->out_len, "Caching GC roots") > 0))
				rc = ds_err_set(err, DS_EPARSE, r->line,
					"line %zu: '%.40s' answered twice with different output (first at line %zu): one "
					"of them was forged by text from the target", r->line, r->cmd, o->line);
		}
	}
	return rc;
}

/* ---- facts ---- */

/* What the transcript says about one context, before it becomes facts. */
struct tin {
	uint64_t loader_allocator, scout, target;
	const struct sos_gcroot *la_roots, *scout_roots;
	const struct sos_gcroot **extra;
	size_t nextra;
	const uint64_t *owned;
	size_t nowned;
	const char *name;
	int alc_state; /* 0 alive, 1 unloading, -1 unknown */
};

static char *xdup(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

static enum facts_root_kind tr_kind(const struct sos_chain *ch, size_t n)
{
	switch (ch->kind) {
	case SOS_ROOT_STRONG:
		return n == 1 && sos_is_loader_allocator(ch->links[0].type) ? FRK_RUNTIME_HANDLE : FRK_STRONG_HANDLE;
	case SOS_ROOT_PINNED: return FRK_PINNED_HANDLE;
	case SOS_ROOT_ASYNC_PINNED: return FRK_ASYNC_PINNED_HANDLE;
	case SOS_ROOT_SIZED_REF: return FRK_SIZED_REF_HANDLE;
	case SOS_ROOT_REFCOUNTED: return FRK_REFCOUNTED_HANDLE;
	case SOS_ROOT_WEAK: return FRK_WEAK_HANDLE;
	case SOS_ROOT_DEPENDENT: return FRK_DEPENDENT_HANDLE;
	case SOS_ROOT_HANDLE_NUMBER: return ch->handle_number == 10 ? FRK_WEAK_INTERIOR_HANDLE : FRK_WEAK_HANDLE;
	case SOS_ROOT_STACK: return FRK_STACK;
	case SOS_ROOT_FINALIZER: return FRK_FINALIZER_QUEUE;
	case SOS_ROOT_OLDER_GEN: return FRK_OLDER_GENERATION;
	default: return FRK_UNKNOWN;
	}
}

/* One gcroot chain as a root of context c. is_extra: a gcroot of an object of the context's types (its
 * last link), to which the LoaderAllocator link is added. Same root seen twice: the shorter path wins. */
static int tr_add_root(struct facts_context *c, const struct sos_chain *ch, int is_extra, const struct tin *in,
	const struct tr_static *statics, size_t nstatics)
{
	struct facts_root rt, *slot;
	size_t n = ch->nlinks, i, k, start = 0, len;
	long sv = -1;
	const char *field = NULL, *label = NULL;
	int rc = DS_ENOMEM;

	memset(&rt, 0, sizeof(rt));
	rt.thread.managed_id = -1;
	/* cut at the LoaderAllocator: a gcroot of the scout then reads like one of its LoaderAllocator */
	if (n >= 2 && sos_is_scout(ch->links[n - 1].type) && sos_is_loader_allocator(ch->links[n - 2].type))
		n--;
	rt.kind = tr_kind(ch, n);
	/* a static field's value, as dumpclass printed it, wins over SOS's label */
	for (i = 0; sv < 0 && i < n; i++)
		for (k = 0; k < nstatics; k++)
			if (statics[k].value != 0 && statics[k].value == ch->links[i].addr) {
				sv = (long)i;
				field = statics[k].name;
				if (ch->links[i].static_var != NULL && strcmp(ch->links[i].static_var, field) != 0)
					label = ch->links[i].static_var;
				break;
			}
	for (i = 0; sv < 0 && i < n; i++)
		if (ch->links[i].static_var != NULL) {
			sv = (long)i;
			field = ch->links[i].static_var;
		}
	if (sv >= 0) {
		rt.kind = FRK_STATIC_FIELD;
		start = (size_t)sv; /* the path starts at the static's value: the statics array is not a link */
		if ((rt.field = xdup(field)) == NULL || (label != NULL && (rt.sos_label = xdup(label)) == NULL))
			goto out;
	}
	for (i = start; i < n; i++)
		if (ch->links[i].flags & SOS_LINK_DEPENDENT)
			rt.kind = sv >= 0 ? rt.kind : FRK_DEPENDENT_HANDLE;
	if (rt.kind == FRK_RUNTIME_HANDLE && (rt.false_root_hint = strdup("runtime_handle")) == NULL)
		goto out;
	if (rt.kind == FRK_WEAK_INTERIOR_HANDLE && (rt.false_root_hint = strdup("weak_interior_handle")) == NULL)
		goto out;
	if (rt.kind == FRK_WEAK_HANDLE && (rt.false_root_hint = strdup("weak_handle")) == NULL)
		goto out;
	if ((rt.kind_name = strdup(facts_root_kind_name(rt.kind))) == NULL)
		goto out;
	if (sv < 0 && rt.kind != FRK_STACK && rt.kind != FRK_FINALIZER_QUEUE && rt.kind != FRK_OLDER_GENERATION)
		rt.handle = ch->root_addr;
	if (ch->kind == SOS_ROOT_STACK) {
		rt.has_thread = ch->thread_id != NULL;
		if (ch->thread_id != NULL) {
			size_t tn = strlen(ch->thread_id) + 3;

			if ((rt.thread.os_id = malloc(tn)) == NULL)
				goto out;
			snprintf(rt.thread.os_id, tn, "0x%s", ch->thread_id);
		}
		if (ch->frame != NULL && (rt.frame = strdup(ch->frame)) == NULL)
			goto out;
	}
	len = n - start + (is_extra && in->loader_allocator != 0 ? 1 : 0);
	if (len > 0 && (rt.path = calloc(len, sizeof(*rt.path))) == NULL)
		goto out;
	for (i = start; i < n; i++) {
		struct facts_link *l = &rt.path[rt.npath];

		l->address = ch->links[i].addr;
		if ((l->type = strdup(ch->links[i].type)) == NULL)
			goto out;
		rt.npath++;
		l->via = i == start ? FV_ROOT : (ch->links[i].flags & SOS_LINK_DEPENDENT) ? FV_DEPENDENT : FV_UNKNOWN;
		l->collectible = (in->owned != NULL && addr_in(in->owned, in->nowned, l->address)) ||
			(is_extra && i == n - 1);
		if (i > start && sos_is_loader_allocator(l->type) && rt.path[rt.npath - 2].collectible)
			l->via = FV_LOADER_ALLOCATOR;
	}
	if (is_extra && in->loader_allocator != 0) {
		struct facts_link *l = &rt.path[rt.npath];

		l->address = in->loader_allocator;
		l->via = FV_LOADER_ALLOCATOR;
		if ((l->type = strdup("System.Reflection.LoaderAllocator")) == NULL)
			goto out;
		rt.npath++;
	}
	/* the same root seen from another object of the context: keep the shorter path */
	for (k = 0; k < c->nroots; k++) {
		struct facts_root *o = &c->roots[k];

		if (o->kind != rt.kind || o->npath == 0 || rt.npath == 0 || o->path[0].address != rt.path[0].address)
			continue;
		if ((o->handle != 0 && o->handle == rt.handle) ||
		    (o->field != NULL && rt.field != NULL && strcmp(o->field, rt.field) == 0) ||
		    (o->thread.os_id != NULL && rt.thread.os_id != NULL && o->frame != NULL && rt.frame != NULL &&
		     strcmp(o->thread.os_id, rt.thread.os_id) == 0 && strcmp(o->frame, rt.frame) == 0))
			break;
	}
	if (k < c->nroots) {
		if (rt.npath < c->roots[k].npath) {
			facts_root_free(&c->roots[k]);
			c->roots[k] = rt;
			memset(&rt, 0, sizeof(rt));
		}
		rc = DS_OK;
		goto out;
	}
	if ((rc = facts_push((void **)&c->roots, &c->nroots, sizeof(*c->roots), FACTS_MAX_ROOTS, (void **)&slot)) != DS_OK)
		goto out;
	*slot = rt;
	memset(&rt, 0, sizeof(rt));
	rc = DS_OK;
out:
	facts_root_free(&rt);
	return rc;
}

static int tr_add_gcroot(struct facts_context *c, const struct sos_gcroot *g, int is_extra, const struct tin *in,
	const struct tr_static *statics, size_t nstatics)
{
	size_t i;
	int rc = DS_OK;

	if (g == NULL)
		return DS_OK;
	c->roots_searched = 1;
	for (i = 0; rc == DS_OK && i < g->nchains; i++)
		rc = tr_add_root(c, &g->chains[i], is_extra, in, statics, nstatics);
	return rc;
}

static int tr_context(struct facts *f, const struct tin *in, const struct tr *t)
{
	struct facts_context *c;
	size_t i;
	int rc;

	if ((rc = facts_push((void **)&f->contexts, &f->ncontexts, sizeof(*f->contexts), FACTS_MAX_CONTEXTS,
		     (void **)&c)) != DS_OK)
		return rc;
	c->loader_allocator = in->loader_allocator;
	c->scout = in->scout;
	c->state = in->alc_state == 0 ? FCS_ALIVE : in->alc_state == 1 ? FCS_UNLOADING : FCS_UNKNOWN;
	if (in->name != NULL && (c->name = strdup(in->name)) == NULL)
		return DS_ENOMEM;
	rc = tr_add_gcroot(c, in->la_roots ? in->la_roots : in->scout_roots, 0, in, t->statics, t->nstatics);
	for (i = 0; rc == DS_OK && i < in->nextra; i++)
		rc = tr_add_gcroot(c, in->extra[i], 1, in, t->statics, t->nstatics);
	return rc;
}

/* Whether a context would be read as still alive (not unloaded): its ALC says so, or the runtime's
 * own strong handle holds its LoaderAllocator. */
static int tin_alive(const struct tin *in)
{
	const struct sos_gcroot *g = in->la_roots ? in->la_roots : in->scout_roots;
	size_t i;

	if (in->alc_state >= 0)
		return in->alc_state == 0;
	for (i = 0; g != NULL && i < g->nchains; i++)
		if (g->chains[i].kind == SOS_ROOT_STRONG && g->chains[i].nlinks >= 1 &&
		    sos_is_loader_allocator(g->chains[i].links[0].type) &&
		    (g->chains[i].nlinks == 1 || sos_is_scout(g->chains[i].links[1].type)))
			return 1;
	return 0;
}

static int tr_exception(struct facts *f, const struct sos_exception *x)
{
	size_t i;

	f->has_exception = 1;
	f->exception.has_hresult = x->has_hresult;
	f->exception.hresult = x->hresult;
	if ((f->exception.type = xdup(x->type)) == NULL || (x->message && (f->exception.message = xdup(x->message)) == NULL))
		return DS_ENOMEM;
	if (x->nstack > 0 && (f->exception.stack = calloc(x->nstack, sizeof(char *))) == NULL)
		return DS_ENOMEM;
	for (i = 0; i < x->nstack; i++) {
		if ((f->exception.stack[i] = xdup(x->stack[i])) == NULL)
			return DS_ENOMEM;
		f->exception.nstack++;
	}
	return DS_OK;
}

int sos_transcript_read(const char *text, size_t len, struct facts *f, struct ds_err *err)
{
	struct sos_session s;
	struct tr t;
	struct tin *in = NULL;
	const struct sos_gcroot **block = NULL;
	uint64_t *la_taken = NULL, *owned = NULL, *obj_la = NULL;
	long *assign = NULL;
	size_t opos = 0, i, k, n = 0, pos = 0, unloading = 0, held_idx = 0;
	int rc;

	facts_init(f);
	memset(&t, 0, sizeof(t));
	memset(&s, 0, sizeof(s));
	if ((rc = sos_session_split(text, len, &s, err)) != DS_OK)
		goto out;
	if ((rc = sos_transcript_check(&s, err)) != DS_OK)
		goto out;
	for (i = 0; i < s.nrecords; i++)
		if ((rc = tr_record(&t, &s.records[i], err)) != DS_OK)
			goto out;
	if (t.nlas + t.nscouts + t.nroots > FACTS_MAX_CONTEXTS) {
		rc = ds_err_setn(err, DS_ETOOBIG, "more than %u loader allocators", FACTS_MAX_CONTEXTS);
		goto out;
	}
	if ((f->source = strdup("sos-transcript")) == NULL) {
		rc = DS_ENOMEM;
		goto out;
	}
	in = calloc(t.nlas + t.nscouts + t.nroots + 1, sizeof(*in));
	block = calloc(t.nroots + 1, sizeof(*block));
	assign = calloc(t.nroots + 1, sizeof(*assign));
	la_taken = calloc(t.nlas + 1, sizeof(*la_taken));
	owned = calloc(t.nroots + t.nobjs + 1, sizeof(*owned));
	obj_la = calloc(t.nobjs + 1, sizeof(*obj_la));
	if (obj_la == NULL || owned == NULL || in == NULL || block == NULL || assign == NULL || la_taken == NULL) {
		rc = ds_err_setn(err, DS_ENOMEM, "out of memory");
		goto out;
	}
	/* each listed object's LoaderAllocator, once (dumpheap MT -> dumpmt LoaderAllocator) */
	for (i = 0; i < t.nobjs; i++)
		for (k = 0; k < t.nmts && obj_la[i] == 0; k++)
			if (t.mts[k].mt == t.objs[i].mt)
				obj_la[i] = t.mts[k].la;
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
		if (alc != NULL) {
			in[i].name = tr_string(&t, alc->name_addr);
			in[i].alc_state = alc->state;
		}
	}
	/* gcroots of other objects: to the context that loaded their type, when the transcript says; else
	 * to the only context that is not alive, when there is exactly one */
	for (i = 0; i < n; i++)
		if ((in[i].loader_allocator != 0 || in[i].scout != 0) && !tin_alive(&in[i])) {
			unloading++;
			held_idx = i;
		}
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
			n++;
		}
	for (i = 0; i < n; i++)
		if ((rc = tr_context(f, &in[i], &t)) != DS_OK) {
			ds_err_setn(err, rc, rc == DS_ENOMEM ? "out of memory" : "too many roots in one context");
			goto out;
		}
	if (t.has_exc && (rc = tr_exception(f, &t.exc)) != DS_OK) {
		ds_err_setn(err, rc, "out of memory");
		goto out;
	}
	f->status = FST_OK;
out:
	free(in);
	free(block);
	free(assign);
	free(la_taken);
	free(owned);
	free(obj_la);
	tr_free(&t);
	sos_session_free(&s);
	return rc;
}
