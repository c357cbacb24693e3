/* sos_analyze.c - plans the SOS session for one dump, gathers the facts each command's output gives,
 * and turns them into classify.c's input. It never interprets root chains itself (classify.c does) and
 * never parses the common SOS formats itself (sos_parse.c does); it reads only the small outputs the plan
 * adds (dumpdomain, dumpmodule -mt, dp). Every list it keeps has a cap. */
#include "sos_analyze.h"
#include "sos_parse.h"
#include "crashreport.h"
#include "../core/buf.h"
#include "../core/cursor.h"
#include "../core/plat.h"

#include <cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FA_MAX_LAS 256u
#define FA_MAX_MODULES 4096u
#define FA_MAX_TYPES 4096u     /* types kept per module */
#define FA_MAX_INSTANCES 4096u
#define FA_MAX_ROOTS 1024u
#define FA_MAX_STATICS 65536u
#define FA_MAX_MTS 8192u
#define FA_TYPES_PER_MODULE 32u /* collectible types whose instances are listed */
#define FA_INSTANCES_PER_TYPE 2u

struct fa_module {
	uint64_t addr;
	char *path;
	int examined;       /* dumpmodule -mt ran */
	int collectible;    /* -1 unknown, 0 no, 1 yes */
	uint64_t la, alc;
	uint64_t *mts;      /* types defined in the module */
	size_t ntypes, captypes;
};

struct fa_mt {
	uint64_t mt, la, alc;
};

struct fa_inst {
	uint64_t mt, addr;
};

struct fa_root {
	uint64_t target;
	struct sos_gcroot g;
};

struct fa_alc {
	uint64_t addr, mt, name_str;
	int state;          /* _state: 0 alive, 1 unloading, -1 unknown */
	char *name;
};

struct fa_static {
	uint64_t value;
	char *name;
};

struct facts {
	unsigned ptr;
	int have_la_list;
	int no_clr;
	int garbled;        /* a command's output did not have the shape that command prints */
	uint64_t las[FA_MAX_LAS];
	size_t nlas;
	uint64_t scouts[FA_MAX_LAS];
	size_t nscouts;
	struct fa_module *mods;
	size_t nmods, capmods;
	struct fa_mt *mts;
	size_t nmts, capmts;
	struct fa_inst *inst;
	size_t ninst, capinst;
	struct fa_root *roots;
	size_t nroots, caproots;
	struct fa_alc *alcs;
	size_t nalcs, capalcs;
	struct fa_static *statics;
	size_t nstatics, capstatics;
	uint64_t *classes_done; /* dumpclass already run for these MTs */
	size_t nclasses, capclasses;
	int has_exc;
	struct sos_exception exc;
	int has_stack;
	struct sos_clrstack stack;
};

/* Grows *arr to hold n+1 elements of elsz bytes, at most max. */
static int fa_grow(void **arr, size_t *cap, size_t n, size_t elsz, size_t max)
{
	size_t ncap;
	void *p;

	if (n < *cap)
		return DS_OK;
	if (n >= max)
		return DS_ETOOBIG;
	ncap = *cap ? *cap * 2 : 16;
	if (ncap > max)
		ncap = max;
	p = realloc(*arr, ncap * elsz);
	if (p == NULL)
		return DS_ENOMEM;
	memset((char *)p + *cap * elsz, 0, (ncap - *cap) * elsz);
	*arr = p;
	*cap = ncap;
	return DS_OK;
}

static void facts_free(struct facts *f)
{
	size_t i;

	for (i = 0; i < f->nmods; i++) {
		free(f->mods[i].path);
		free(f->mods[i].mts);
	}
	free(f->mods);
	free(f->mts);
	free(f->inst);
	for (i = 0; i < f->nroots; i++)
		sos_gcroot_free(&f->roots[i].g);
	free(f->roots);
	for (i = 0; i < f->nalcs; i++)
		free(f->alcs[i].name);
	free(f->alcs);
	for (i = 0; i < f->nstatics; i++)
		free(f->statics[i].name);
	free(f->statics);
	free(f->classes_done);
	if (f->has_exc)
		sos_exception_free(&f->exc);
	if (f->has_stack)
		sos_clrstack_free(&f->stack);
	memset(f, 0, sizeof(*f));
}

static struct fa_module *fa_module_find(struct facts *f, uint64_t addr)
{
	size_t i;

	for (i = 0; i < f->nmods; i++)
		if (f->mods[i].addr == addr)
			return &f->mods[i];
	return NULL;
}

static struct fa_alc *fa_alc_get(struct facts *f, uint64_t addr, int create)
{
	size_t i;

	for (i = 0; i < f->nalcs; i++)
		if (f->alcs[i].addr == addr)
			return &f->alcs[i];
	if (!create || fa_grow((void **)&f->alcs, &f->capalcs, f->nalcs, sizeof(*f->alcs), FA_MAX_LAS) != DS_OK)
		return NULL;
	f->alcs[f->nalcs].addr = addr;
	f->alcs[f->nalcs].state = -1;
	return &f->alcs[f->nalcs++];
}

static const struct fa_mt *fa_mt_find(const struct facts *f, uint64_t mt)
{
	size_t i;

	for (i = 0; i < f->nmts; i++)
		if (f->mts[i].mt == mt)
			return &f->mts[i];
	return NULL;
}

static int fa_is_framework(const char *path)
{
	return path == NULL || strstr(path, "Microsoft.NETCore.App") != NULL ||
	       strstr(path, "Microsoft.AspNetCore.App") != NULL ||
	       strstr(path, "Microsoft.WindowsDesktop.App") != NULL ||
	       strstr(path, "System.Private.CoreLib") != NULL;
}

/* dumpdomain: "  <module address>    <path>" lines under each assembly's "Module" header. */
static int fa_dumpdomain(struct facts *f, const char *out, size_t len)
{
	struct cursor c, lc;
	struct span line, w, rest;
	uint64_t addr;
	size_t nd;
	int rc = DS_OK;

	cursor_init(&c, out, len);
	while (rc == DS_OK && cursor_line(&c, &line) == 0) {
		cursor_init(&lc, line.p, line.n);
		if (cursor_space(&lc) != 0 || cursor_hex(&lc, &addr, &nd) != 0 || nd < 8 || cursor_space(&lc) != 0)
			continue;
		rest.p = lc.p;
		rest.n = cursor_left(&lc);
		rest = span_trim(rest);
		if (rest.n == 0 || rest.p[0] == '[' || fa_module_find(f, addr) != NULL)
			continue;
		rc = fa_grow((void **)&f->mods, &f->capmods, f->nmods, sizeof(*f->mods), FA_MAX_MODULES);
		if (rc != DS_OK)
			break;
		w = rest;
		f->mods[f->nmods].addr = addr;
		f->mods[f->nmods].collectible = -1;
		f->mods[f->nmods].path = span_dup(w);
		if (f->mods[f->nmods].path == NULL)
			rc = DS_ENOMEM;
		else
			f->nmods++;
	}
	return rc == DS_ETOOBIG ? DS_OK : rc;
}

/* dumpmodule -mt: rows "MT TypeDef Name" after "Types defined in this module", until the
 * "Types referenced" section. */
static int fa_dumpmodule(struct facts *f, uint64_t modaddr, const char *out, size_t len)
{
	struct fa_module *m = fa_module_find(f, modaddr);
	struct cursor c, lc;
	struct span line;
	uint64_t mt, tok;
	size_t nd;
	int in_defined = 0;
	int rc = DS_OK;

	if (m == NULL) {
		rc = fa_grow((void **)&f->mods, &f->capmods, f->nmods, sizeof(*f->mods), FA_MAX_MODULES);
		if (rc != DS_OK)
			return rc == DS_ETOOBIG ? DS_OK : rc;
		m = &f->mods[f->nmods++];
		m->addr = modaddr;
		m->collectible = -1;
	}
	m->examined = 1;
	cursor_init(&c, out, len);
	while (rc == DS_OK && cursor_line(&c, &line) == 0) {
		struct span t = span_trim(line);
		if (span_starts(t, "Types defined in this module")) {
			in_defined = 1;
			continue;
		}
		if (span_starts(t, "Types referenced in this module")) {
			in_defined = 0;
			continue;
		}
		if (m->path == NULL && span_starts(t, "Name:")) {
			t.p += 5;
			t.n -= 5;
			m->path = span_dup(span_trim(t));
			continue;
		}
		if (!in_defined)
			continue;
		cursor_init(&lc, t.p, t.n);
		if (cursor_hex(&lc, &mt, &nd) != 0 || nd < 8 || cursor_space(&lc) != 0 ||
		    cursor_hex(&lc, &tok, NULL) != 0 || mt == 0)
			continue;
		if (m->ntypes >= FA_MAX_TYPES)
			break;
		rc = fa_grow((void **)&m->mts, &m->captypes, m->ntypes, sizeof(*m->mts), FA_MAX_TYPES);
		if (rc == DS_OK)
			m->mts[m->ntypes++] = mt;
	}
	return rc == DS_ETOOBIG ? DS_OK : rc;
}

static int fa_dumpmt(struct facts *f, uint64_t mt, const char *out, size_t len, size_t line)
{
	struct sos_dumpmt d;
	struct ds_err e;
	size_t i, j;
	int rc;

	memset(&d, 0, sizeof(d));
	rc = sos_parse_dumpmt(out, len, line, &d, &e);
	if (rc != DS_OK)
		return rc == DS_EPARSE ? DS_OK : rc;
	if (fa_mt_find(f, mt) == NULL &&
	    fa_grow((void **)&f->mts, &f->capmts, f->nmts, sizeof(*f->mts), FA_MAX_MTS) == DS_OK) {
		f->mts[f->nmts].mt = mt;
		f->mts[f->nmts].la = d.loader_allocator;
		f->mts[f->nmts].alc = d.alc;
		f->nmts++;
	}
	/* Collectibility belongs to the module (its assembly's context): mark the module defining mt. */
	for (i = 0; i < f->nmods; i++)
		for (j = 0; j < f->mods[i].ntypes; j++)
			if (f->mods[i].mts[j] == mt) {
				f->mods[i].collectible = d.loader_allocator != 0;
				f->mods[i].la = d.loader_allocator;
				f->mods[i].alc = d.alc;
			}
	if (d.alc != 0 && d.loader_allocator != 0)
		(void)fa_alc_get(f, d.alc, 1);
	sos_dumpmt_free(&d);
	return DS_OK;
}

/* dp -c 1 ADDR: "ADDR: VALUE" - the first pointer of an object is its MethodTable. */
static void fa_dp(struct facts *f, uint64_t addr, const char *out, size_t len)
{
	struct cursor c;
	struct span line;
	uint64_t a, v;
	struct fa_alc *alc;

	cursor_init(&c, out, len);
	while (cursor_line(&c, &line) == 0) {
		struct cursor lc;
		line = span_trim(line);
		cursor_init(&lc, line.p, line.n);
		if (cursor_hex(&lc, &a, NULL) != 0 || cursor_lit(&lc, ":") != 0)
			continue;
		cursor_skip_space(&lc);
		if (cursor_hex(&lc, &v, NULL) != 0)
			continue;
		if (a == addr && (alc = fa_alc_get(f, addr, 0)) != NULL)
			alc->mt = v & ~(uint64_t)3; /* low bits of the MT word are GC marks */
		break;
	}
}

static int fa_field_hex(const struct sos_dumpobj *o, const char *name, uint64_t *v)
{
	const struct sos_field *fl = sos_dumpobj_field(o, name);
	struct cursor c;

	if (fl == NULL || fl->value == NULL)
		return 0;
	cursor_init(&c, fl->value, strlen(fl->value));
	return cursor_hex(&c, v, NULL) == 0;
}

/* dumpvc MT ADDR: the fields of the object at ADDR - pointer size (an ALC: _name, _state). */
static int fa_dumpvc(struct facts *f, uint64_t addr, const char *out, size_t len, size_t line)
{
	struct sos_dumpobj o;
	struct fa_alc *alc = fa_alc_get(f, addr - f->ptr, 0);
	struct ds_err e;
	uint64_t v;
	int rc;

	if (alc == NULL)
		return DS_OK;
	memset(&o, 0, sizeof(o));
	rc = sos_parse_dumpobj(out, len, line, &o, &e);
	if (rc == DS_OK) {
		if (fa_field_hex(&o, "_name", &v))
			alc->name_str = v;
		/* _state prints in decimal; 0 and 1 read the same in hex. */
		if (fa_field_hex(&o, "_state", &v) && v <= 1)
			alc->state = (int)v;
	}
	sos_dumpobj_free(&o);
	return rc == DS_EPARSE ? DS_OK : rc;
}

/* du ADDR: the characters of the string whose object starts pointer + 4 bytes earlier. */
static int fa_du(struct facts *f, uint64_t addr, const char *out, size_t len, size_t line)
{
	uint64_t obj = addr - f->ptr - 4;
	struct ds_err e;
	char *text = NULL;
	size_t i;
	int rc = sos_parse_du(out, len, line, &text, &e);

	for (i = 0; rc == DS_OK && text != NULL && i < f->nalcs; i++)
		if (f->alcs[i].name_str == obj && f->alcs[i].name == NULL) {
			f->alcs[i].name = text;
			text = NULL;
		}
	free(text);
	return rc == DS_EPARSE ? DS_OK : rc;
}

static int fa_dumpclass(struct facts *f, uint64_t mt, const char *out, size_t len, size_t line)
{
	struct sos_dumpobj o;
	struct ds_err e;
	size_t i, n;
	uint64_t v;
	int rc;

	if (fa_grow((void **)&f->classes_done, &f->capclasses, f->nclasses, sizeof(uint64_t), FA_MAX_MTS) == DS_OK)
		f->classes_done[f->nclasses++] = mt;
	memset(&o, 0, sizeof(o));
	rc = sos_parse_dumpobj(out, len, line, &o, &e);
	for (i = 0; rc == DS_OK && o.name != NULL && i < o.nfields; i++) {
		const struct sos_field *fl = &o.fields[i];
		struct cursor c;
		if (!fl->is_static || fl->value == NULL || fl->name == NULL)
			continue;
		cursor_init(&c, fl->value, strlen(fl->value));
		if (cursor_hex(&c, &v, NULL) != 0 || v == 0 || !cursor_eof(&c))
			continue;
		if (fa_grow((void **)&f->statics, &f->capstatics, f->nstatics, sizeof(*f->statics), FA_MAX_STATICS) != DS_OK)
			break;
		n = strlen(o.name) + strlen(fl->name) + 2;
		f->statics[f->nstatics].name = malloc(n);
		if (f->statics[f->nstatics].name == NULL) {
			rc = DS_ENOMEM;
			break;
		}
		snprintf(f->statics[f->nstatics].name, n, "%s.%s", o.name, fl->name);
		f->statics[f->nstatics].value = v;
		f->nstatics++;
	}
	sos_dumpobj_free(&o);
	return rc == DS_EPARSE ? DS_OK : rc;
}

static int fa_dumpheap(struct facts *f, const char *cmd, const char *out, size_t len, size_t line)
{
	struct sos_dumpheap d;
	struct ds_err e;
	char type[256];
	uint64_t mt = 0;
	int is_short = 0, rc;
	size_t i, per = 0;

	memset(&d, 0, sizeof(d));
	(void)sos_cmd_args(cmd, &mt, type, sizeof(type), &is_short);
	rc = sos_parse_dumpheap(out, len, line, &d, &e);
	if (rc != DS_OK)
		return rc == DS_EPARSE ? DS_OK : rc;
	if (strstr(cmd, "-mt") != NULL && mt != 0) {
		for (i = 0; i < d.nobjects && per < FA_INSTANCES_PER_TYPE * 4; i++, per++) {
			if (fa_grow((void **)&f->inst, &f->capinst, f->ninst, sizeof(*f->inst), FA_MAX_INSTANCES) != DS_OK)
				break;
			f->inst[f->ninst].mt = mt;
			f->inst[f->ninst].addr = d.objects[i].addr;
			f->ninst++;
		}
	} else {
		if (strstr(type, "LoaderAllocator") != NULL)
			f->have_la_list = 1;
		/* No match prints nothing at all; text without a single row or total is not dumpheap output. */
		if (d.nobjects == 0 && !d.has_total && d.nstats == 0) {
			struct span all = { out, len };
			if (span_trim(all).n > 0)
				f->garbled = 1;
		}
		for (i = 0; i < d.nobjects; i++) {
			const char *t = d.objects[i].type;
			if (t != NULL && sos_is_loader_allocator(t) && f->nlas < FA_MAX_LAS)
				f->las[f->nlas++] = d.objects[i].addr;
			else if (t != NULL && sos_is_scout(t) && f->nscouts < FA_MAX_LAS)
				f->scouts[f->nscouts++] = d.objects[i].addr;
		}
	}
	sos_dumpheap_free(&d);
	return DS_OK;
}

static int fa_has_root(const struct facts *f, uint64_t target)
{
	size_t i;

	for (i = 0; i < f->nroots; i++)
		if (f->roots[i].target == target)
			return 1;
	return 0;
}

static int fa_gcroot(struct facts *f, uint64_t target, const char *out, size_t len, size_t line)
{
	struct ds_err e;
	int rc;

	if (fa_has_root(f, target))
		return DS_OK;
	rc = fa_grow((void **)&f->roots, &f->caproots, f->nroots, sizeof(*f->roots), FA_MAX_ROOTS);
	if (rc != DS_OK)
		return rc == DS_ETOOBIG ? DS_OK : rc;
	memset(&f->roots[f->nroots], 0, sizeof(f->roots[0]));
	rc = sos_parse_gcroot(out, len, line, &f->roots[f->nroots].g, &e);
	if (rc == DS_OK) {
		f->roots[f->nroots].target = target;
		f->nroots++;
	} else {
		sos_gcroot_free(&f->roots[f->nroots].g);
	}
	return rc == DS_EPARSE ? DS_OK : rc;
}

/* Takes one command's output into the facts. Unknown commands are ignored. */
static int facts_add(struct facts *f, const char *cmd, const char *out, size_t len, int ok, size_t line)
{
	char w[32];
	uint64_t args[4];
	size_t nargs;
	struct span all = { out, len };
	int rc = DS_OK;

	if (!ok && span_find(all, "No CLR runtime found") >= 0)
		f->no_clr = 1;
	if (cmd == NULL || !ok)
		return DS_OK;
	sos_cmd_word(cmd, w, sizeof(w));
	nargs = sos_cmd_hex_args(cmd, args, DS_ARRAY_LEN(args));
	if (strcmp(w, "dumpheap") == 0)
		rc = fa_dumpheap(f, cmd, out, len, line);
	else if (strcmp(w, "dumpdomain") == 0)
		rc = fa_dumpdomain(f, out, len);
	else if (strcmp(w, "dumpmodule") == 0 && nargs > 0)
		rc = fa_dumpmodule(f, args[nargs - 1], out, len);
	else if (strcmp(w, "dumpmt") == 0 && nargs > 0)
		rc = fa_dumpmt(f, args[nargs - 1], out, len, line);
	else if (strcmp(w, "dp") == 0 && nargs > 0)
		fa_dp(f, args[nargs - 1], out, len);
	else if (strcmp(w, "dumpvc") == 0 && nargs >= 2)
		rc = fa_dumpvc(f, args[1], out, len, line);
	else if (strcmp(w, "du") == 0 && nargs > 0)
		rc = fa_du(f, args[nargs - 1], out, len, line);
	else if (strcmp(w, "dumpclass") == 0 && nargs > 0)
		rc = fa_dumpclass(f, args[nargs - 1], out, len, line);
	else if ((strcmp(w, "gcroot") == 0) && nargs > 0)
		rc = fa_gcroot(f, args[nargs - 1], out, len, line);
	else if (strcmp(w, "clrstack") == 0 && !f->has_stack) {
		struct ds_err e;
		memset(&f->stack, 0, sizeof(f->stack));
		rc = sos_parse_clrstack(out, len, line, &f->stack, &e);
		if (rc == DS_OK && f->stack.nframes > 0)
			f->has_stack = 1;
		else
			sos_clrstack_free(&f->stack);
		if (rc == DS_EPARSE)
			rc = DS_OK;
	} else if ((strcmp(w, "pe") == 0 || strcmp(w, "printexception") == 0) && !f->has_exc) {
		struct ds_err e;
		memset(&f->exc, 0, sizeof(f->exc));
		rc = sos_parse_pe(out, len, line, &f->exc, &e);
		if (rc == DS_OK && f->exc.type != NULL)
			f->has_exc = 1;
		else
			sos_exception_free(&f->exc);
		if (rc == DS_EPARSE)
			rc = DS_OK;
	}
	return rc;
}

/* The LoaderAllocator a scout belongs to: a chain "LoaderAllocator -> Scout" in its gcroot, else the
 * nearest LoaderAllocator below it (the runtime allocates the scout right after its allocator). */
static uint64_t fa_scout_of(const struct facts *f, uint64_t la)
{
	uint64_t best = 0;
	size_t i, j, k;

	for (i = 0; i < f->nroots; i++)
		for (j = 0; j < f->roots[i].g.nchains; j++) {
			const struct sos_chain *ch = &f->roots[i].g.chains[j];
			for (k = 0; k + 1 < ch->nlinks; k++)
				if (ch->links[k].addr == la && sos_is_scout(ch->links[k + 1].type))
					return ch->links[k + 1].addr;
		}
	for (i = 0; i < f->nscouts; i++) {
		uint64_t s = f->scouts[i], owner = 0;
		if (s <= la)
			continue;
		for (j = 0; j < f->nlas; j++)
			if (f->las[j] < s && f->las[j] > owner)
				owner = f->las[j];
		if (owner == la && (best == 0 || s < best))
			best = s;
	}
	return best;
}

static const struct sos_gcroot *fa_root_of(const struct facts *f, uint64_t target)
{
	size_t i;

	for (i = 0; target != 0 && i < f->nroots; i++)
		if (f->roots[i].target == target)
			return &f->roots[i].g;
	return NULL;
}

static uint64_t fa_la_of_mt(const struct facts *f, uint64_t mt)
{
	const struct fa_mt *m = fa_mt_find(f, mt);
	size_t i, j;

	if (m != NULL && m->la != 0)
		return m->la;
	for (i = 0; i < f->nmods; i++)
		for (j = 0; f->mods[i].collectible == 1 && j < f->mods[i].ntypes; j++)
			if (f->mods[i].mts[j] == mt)
				return f->mods[i].la;
	return 0;
}

static const struct fa_alc *fa_alc_of_la(const struct facts *f, uint64_t la)
{
	size_t i;

	for (i = 0; i < f->nmods; i++)
		if (f->mods[i].collectible == 1 && f->mods[i].la == la && f->mods[i].alc != 0) {
			size_t j;
			for (j = 0; j < f->nalcs; j++)
				if (f->alcs[j].addr == f->mods[i].alc)
					return &f->alcs[j];
		}
	for (i = 0; i < f->nmts; i++)
		if (f->mts[i].la == la && f->mts[i].alc != 0) {
			size_t j;
			for (j = 0; j < f->nalcs; j++)
				if (f->alcs[j].addr == f->mts[i].alc)
					return &f->alcs[j];
		}
	return NULL;
}

/* Moves the faulting thread's stack from the facts to the analysis. */
static void facts_take_stack(struct facts *f, struct sos_analysis *a)
{
	if (!f->has_stack)
		return;
	a->stack = f->stack;
	a->has_stack = 1;
	memset(&f->stack, 0, sizeof(f->stack));
	f->has_stack = 0;
}

/* Builds classify inputs from the facts and classifies. */
static int facts_classify(struct facts *f, struct classify_result *r, struct ds_err *e)
{
	struct classify_input *in = NULL;
	struct classify_static *st = NULL;
	const struct sos_gcroot **extra = NULL;
	uint64_t *owned = NULL;
	size_t i, j, nextra_total = 0, nowned_total = 0;
	int rc = DS_OK;

	memset(r, 0, sizeof(*r));
	if (f->nlas == 0) {
		/* No LoaderAllocator object: every collectible context is gone (or there never was one). */
		rc = classify_run(NULL, 0, f->has_exc ? &f->exc : NULL, r, e);
		goto out;
	}
	in = calloc(f->nlas, sizeof(*in));
	st = calloc(f->nstatics ? f->nstatics : 1, sizeof(*st));
	extra = calloc(f->ninst ? f->ninst * f->nlas : 1, sizeof(*extra));
	owned = calloc(f->ninst ? f->ninst * f->nlas : 1, sizeof(*owned));
	if (in == NULL || st == NULL || extra == NULL || owned == NULL) {
		rc = DS_ENOMEM;
		goto out;
	}
	for (i = 0; i < f->nstatics; i++) {
		st[i].value = f->statics[i].value;
		st[i].name = f->statics[i].name;
	}
	for (i = 0; i < f->nlas; i++) {
		const struct fa_alc *alc = fa_alc_of_la(f, f->las[i]);
		in[i].loader_allocator = f->las[i];
		in[i].scout = fa_scout_of(f, f->las[i]);
		in[i].la_roots = fa_root_of(f, f->las[i]);
		in[i].scout_roots = fa_root_of(f, in[i].scout);
		in[i].statics = st;
		in[i].nstatics = f->nstatics;
		in[i].name = alc ? alc->name : NULL;
		in[i].alc_state = alc ? alc->state : -1;
		in[i].extra = extra + nextra_total;
		in[i].owned = owned + nowned_total;
		for (j = 0; j < f->ninst; j++) {
			const struct sos_gcroot *g;
			if (fa_la_of_mt(f, f->inst[j].mt) != f->las[i])
				continue;
			owned[nowned_total++] = f->inst[j].addr;
			in[i].nowned++;
			g = fa_root_of(f, f->inst[j].addr);
			if (g != NULL) {
				extra[nextra_total++] = g;
				in[i].nextra++;
			}
		}
	}
	rc = classify_run(in, f->nlas, f->has_exc ? &f->exc : NULL, r, e);
out:
	free(in);
	free(st);
	free(extra);
	free(owned);
	return rc;
}

/* ---- the live session ---- */

struct drive {
	struct sos_run *run;
	struct facts *f;
	const struct sos_analyze_opts *o;
	struct sos_analysis *a;
	struct buf out;
	unsigned step;
	int dead;
};

/* Runs one command and feeds its output to the facts. Returns DS_OK while the session is usable. */
static int drive_cmd(struct drive *d, const char *what, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int drive_cmd(struct drive *d, const char *what, const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int failed = 0, rc;

	if (d->dead)
		return DS_EENGINE;
	if (d->o->cancel != NULL && *d->o->cancel) {
		d->dead = 1;
		snprintf(d->a->error, sizeof(d->a->error), "cancelled");
		d->a->status = SOS_FAILED;
		return DS_EENGINE;
	}
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (d->o->progress != NULL)
		d->o->progress(d->o->progress_ctx, ++d->step, what);
	buf_reset(&d->out);
	rc = sos_run_cmd(d->run, cmd, &d->out, &failed);
	d->a->commands++;
	if (rc != DS_OK) {
		d->dead = 1;
		d->a->status = sos_run_status(d->run);
		snprintf(d->a->error, sizeof(d->a->error), "engine %s during '%.200s'", ds_strerror(rc), cmd);
		return rc;
	}
	return facts_add(d->f, cmd, d->out.data ? d->out.data : "", d->out.len, !failed, 0);
}

static int drive_has_static_chain(const struct facts *f)
{
	size_t i, j, k;

	for (i = 0; i < f->nroots; i++)
		for (j = 0; j < f->roots[i].g.nchains; j++) {
			const struct sos_chain *ch = &f->roots[i].g.chains[j];
			for (k = 0; k < ch->nlinks; k++)
				if (ch->links[k].static_var != NULL)
					return 1;
			if (ch->nlinks >= 2 && ch->links[0].type != NULL && strcmp(ch->links[0].type, "System.Object[]") == 0 &&
			    (ch->kind == SOS_ROOT_STRONG || ch->kind == SOS_ROOT_PINNED))
				return 1;
		}
	return 0;
}

static int drive_class_done(const struct facts *f, uint64_t mt)
{
	size_t i;

	for (i = 0; i < f->nclasses; i++)
		if (f->classes_done[i] == mt)
			return 1;
	return 0;
}

static void drive_plan(struct drive *d)
{
	struct facts *f = d->f;
	const struct sos_analyze_opts *o = d->o;
	size_t i, j, nmods, examined = 0, ninst0;
	unsigned roots = 0, classes = 0;

	if (drive_cmd(d, "listing LoaderAllocator objects", "dumpheap -type System.Reflection.LoaderAllocator") != DS_OK)
		return;
	if (f->garbled) {
		d->a->status = SOS_PARSE_ERROR;
		snprintf(d->a->error, sizeof(d->a->error),
			 "the engine's answer to dumpheap is not a heap listing: is engine_path really dotnet-dump?");
		d->dead = 1;
		return;
	}
	if (f->no_clr) {
		d->a->status = SOS_NO_DAC;
		snprintf(d->a->error, sizeof(d->a->error),
			 "the engine found no .NET runtime it can read in this dump (no CLR, or its DAC is missing)");
		return;
	}
	(void)drive_cmd(d, "reading the managed exception", "pe");
	(void)drive_cmd(d, "reading the faulting thread's stack", "clrstack");
	if (f->nlas == 0 || d->dead)
		return;
	if (drive_cmd(d, "listing modules", "dumpdomain") != DS_OK)
		return;
	nmods = f->nmods;
	for (i = 0; i < nmods && examined < o->max_modules && !d->dead; i++) {
		if (fa_is_framework(f->mods[i].path))
			continue;
		examined++;
		(void)drive_cmd(d, "listing a module's types", "dumpmodule -mt %llx", (unsigned long long)f->mods[i].addr);
		if (f->mods[i].ntypes > 0)
			(void)drive_cmd(d, "checking whether a module is collectible", "dumpmt %llx",
					(unsigned long long)f->mods[i].mts[0]);
	}
	for (i = 0; i < f->nmods && !d->dead; i++) {
		if (f->mods[i].collectible != 1)
			continue;
		for (j = 0; j < f->mods[i].ntypes && j < FA_TYPES_PER_MODULE && !d->dead; j++)
			(void)drive_cmd(d, "finding objects of the context's types", "dumpheap -mt %llx -short",
					(unsigned long long)f->mods[i].mts[j]);
	}
	for (i = 0; i < f->nalcs && !d->dead; i++) {
		struct fa_alc *alc = &f->alcs[i];
		(void)drive_cmd(d, "naming the context", "dp -c 1 %llx", (unsigned long long)alc->addr);
		if (alc->mt != 0)
			(void)drive_cmd(d, "naming the context", "dumpvc %llx %llx", (unsigned long long)alc->mt,
					(unsigned long long)(alc->addr + f->ptr));
		if (alc->name_str != 0)
			(void)drive_cmd(d, "naming the context", "du %llx",
					(unsigned long long)(alc->name_str + f->ptr + 4));
	}
	for (i = 0; i < f->nlas && roots < o->lim.max_roots && !d->dead; i++, roots++)
		(void)drive_cmd(d, "finding what holds each context", "gcroot %llx", (unsigned long long)f->las[i]);
	/* A few objects of each context's types, spread over the types, up to max_instances per context. */
	ninst0 = f->ninst;
	for (i = 0; i < f->nlas && !d->dead; i++) {
		unsigned taken = 0;
		for (j = 0; j < ninst0 && taken < o->max_instances && roots < o->lim.max_roots * 4 && !d->dead; j++) {
			if (fa_la_of_mt(f, f->inst[j].mt) != f->las[i] || fa_has_root(f, f->inst[j].addr))
				continue;
			(void)drive_cmd(d, "finding what holds the context's objects", "gcroot %llx",
					(unsigned long long)f->inst[j].addr);
			taken++;
			roots++;
		}
	}
	if (!drive_has_static_chain(f))
		return;
	for (i = 0; i < f->nmods && classes < o->max_dumpclass && !d->dead; i++) {
		if (!f->mods[i].examined || f->mods[i].collectible == 1 || fa_is_framework(f->mods[i].path))
			continue;
		for (j = 0; j < f->mods[i].ntypes && classes < o->max_dumpclass && !d->dead; j++) {
			if (drive_class_done(f, f->mods[i].mts[j]))
				continue;
			(void)drive_cmd(d, "reading static fields", "dumpclass %llx", (unsigned long long)f->mods[i].mts[j]);
			classes++;
		}
	}
}

void sos_analyze_opts_default(struct sos_analyze_opts *o)
{
	memset(o, 0, sizeof(*o));
	sos_limits_default(&o->lim);
	o->ptr_size = 8;
	o->max_modules = 64;
	o->max_instances = 8;
	o->max_dumpclass = 400;
}

void sos_analysis_free(struct sos_analysis *a)
{
	free(a->transcript);
	if (a->has_stack)
		sos_clrstack_free(&a->stack);
	if (a->classified)
		classify_result_free(&a->result);
	memset(a, 0, sizeof(*a));
}

static int analysis_keep_transcript(struct sos_analysis *a, const char *text, size_t len)
{
	a->transcript = malloc(len + 1);
	if (a->transcript == NULL)
		return DS_ENOMEM;
	memcpy(a->transcript, text, len);
	a->transcript[len] = '\0';
	a->transcript_len = len;
	return DS_OK;
}

int sos_analyze_dump(const char *dump, const struct sos_analyze_opts *o, struct sos_analysis *a)
{
	struct sos_run *run = NULL;
	struct facts f;
	struct drive d;
	struct ds_err e;
	enum sos_status st = SOS_FAILED;
	uint64_t t0 = plat_mono_ns();
	const char *text;
	size_t len;
	int rc = DS_OK;

	memset(a, 0, sizeof(*a));
	memset(&f, 0, sizeof(f));
	memset(&d, 0, sizeof(d));
	memset(&e, 0, sizeof(e));
	f.ptr = o->ptr_size == 4 ? 4 : 8;
	buf_init(&d.out, o->lim.max_output);
	if (o->progress != NULL)
		o->progress(o->progress_ctx, 0, "loading the dump into the engine");
	if (sos_run_open(o->engine, dump, &o->lim, &run, &st, &e) != DS_OK) {
		a->status = st;
		snprintf(a->error, sizeof(a->error), "%s", e.msg);
		goto out;
	}
	d.run = run;
	d.f = &f;
	d.o = o;
	d.a = a;
	a->status = SOS_OK;
	drive_plan(&d);
	text = sos_run_transcript(run, &len);
	rc = analysis_keep_transcript(a, text, len);
	if (rc != DS_OK)
		goto out;
	/* Whatever was gathered is classified, also after a timeout: partial facts are still facts. */
	if (a->status != SOS_NO_DAC && a->status != SOS_ENGINE_MISSING && a->status != SOS_UNSUPPORTED_HOST &&
	    a->status != SOS_PARSE_ERROR) {
		memset(&e, 0, sizeof(e));
		rc = facts_classify(&f, &a->result, &e);
		if (rc == DS_OK) {
			a->classified = 1;
		} else {
			classify_result_free(&a->result);
			if (rc != DS_ENOMEM) {
				if (a->status == SOS_OK)
					a->status = SOS_FAILED;
				snprintf(a->error, sizeof(a->error), "classification failed: %s", e.msg);
				rc = DS_OK;
			}
		}
	}
out:
	sos_run_close(run);
	buf_free(&d.out);
	facts_take_stack(&f, a);
	facts_free(&f);
	a->duration_ms = (plat_mono_ns() - t0) / 1000000u;
	return rc;
}

/* A transcript recorded by this driver has the survey commands; anything else (a pasted WinDbg or
 * dotnet-dump session) goes through classify_transcript's own pairing rules. */
static int transcript_is_ours(const struct sos_session *s)
{
	size_t i;

	for (i = 0; i < s->nrecords; i++)
		if (s->records[i].cmd != NULL && strncmp(s->records[i].cmd, "dumpdomain", 10) == 0)
			return 1;
	return 0;
}

int sos_analyze_transcript(const char *text, size_t len, unsigned ptr_size, struct sos_analysis *a, struct ds_err *e)
{
	struct sos_session s;
	struct facts f;
	size_t i;
	int rc;

	memset(a, 0, sizeof(*a));
	memset(&f, 0, sizeof(f));
	memset(&s, 0, sizeof(s));
	f.ptr = ptr_size == 4 ? 4 : 8;
	rc = analysis_keep_transcript(a, text, len);
	if (rc != DS_OK)
		goto out;
	rc = sos_session_split(text, len, &s, e);
	if (rc != DS_OK)
		goto out;
	if (!transcript_is_ours(&s)) {
		rc = classify_transcript(text, len, &a->result, e);
	} else {
		for (i = 0; rc == DS_OK && i < s.nrecords; i++)
			rc = facts_add(&f, s.records[i].cmd, s.records[i].out, s.records[i].out_len, s.records[i].ok,
				       s.records[i].line);
		if (rc == DS_OK)
			rc = facts_classify(&f, &a->result, e);
		if (rc == DS_OK && f.no_clr && f.nlas == 0)
			a->status = SOS_NO_DAC;
	}
	if (rc == DS_OK)
		a->classified = 1;
	else
		classify_result_free(&a->result);
out:
	sos_session_free(&s);
	facts_take_stack(&f, a);
	facts_free(&f);
	return rc;
}

static cJSON *crashreport_json(const struct crashreport *cr)
{
	cJSON *o = cJSON_CreateObject(), *arr;
	char hr[16];
	size_t i;

	if (o == NULL)
		return NULL;
	cJSON_AddItemToObject(o, "process_name", cr->process_name ? cJSON_CreateString(cr->process_name) : cJSON_CreateNull());
	cJSON_AddItemToObject(o, "runtime_version", cr->runtime_version ? cJSON_CreateString(cr->runtime_version) : cJSON_CreateNull());
	cJSON_AddItemToObject(o, "exception_type", cr->exception_type ? cJSON_CreateString(cr->exception_type) : cJSON_CreateNull());
	snprintf(hr, sizeof(hr), "0x%08x", cr->exception_hresult);
	cJSON_AddItemToObject(o, "exception_hresult", cr->has_hresult ? cJSON_CreateString(hr) : cJSON_CreateNull());
	if (cr->has_crashed_thread)
		cJSON_AddNumberToObject(o, "crashed_thread_id", (double)cr->crashed_thread_id);
	else
		cJSON_AddNullToObject(o, "crashed_thread_id");
	arr = cJSON_AddArrayToObject(o, "stack");
	for (i = 0; arr != NULL && i < cr->nframes; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(cr->frames[i].method));
	return o;
}

/* The analyze JSON object: {file, triage, analysis{status, error, engine_commands, duration_ms, leak,
 * contexts, managed_exception}, crash_report}. */
char *sos_analysis_to_json(const char *file, const char *triage_json, const struct sos_analysis *a,
			   const struct crashreport *cr, int pretty)
{
	cJSON *root = cJSON_CreateObject(), *an, *cls, *item, *next, *tj;
	char *out = NULL;

	if (root == NULL)
		return NULL;
	cJSON_AddStringToObject(root, "file", file);
	tj = triage_json != NULL ? cJSON_Parse(triage_json) : NULL;
	cJSON_AddItemToObject(root, "triage", tj != NULL ? tj : cJSON_CreateNull());
	an = cJSON_AddObjectToObject(root, "analysis");
	if (an != NULL) {
		cJSON_AddStringToObject(an, "status", sos_status_name(a->status));
		cJSON_AddItemToObject(an, "error", a->error[0] ? cJSON_CreateString(a->error) : cJSON_CreateNull());
		cJSON_AddNumberToObject(an, "engine_commands", a->commands);
		cJSON_AddNumberToObject(an, "duration_ms", (double)a->duration_ms);
		if (a->classified && (cls = classify_to_json(&a->result)) != NULL) {
			/* Lift the classification's members (leak, contexts, managed_exception) into "analysis". */
			for (item = cls->child; item != NULL; item = next) {
				next = item->next;
				cJSON_AddItemToObject(an, item->string, cJSON_DetachItemViaPointer(cls, item));
			}
			cJSON_Delete(cls);
		} else {
			cJSON_AddNullToObject(an, "leak");
			cJSON_AddItemToObject(an, "contexts", cJSON_CreateArray());
			cJSON_AddNullToObject(an, "managed_exception");
		}
	}
	if (an != NULL && a->has_stack) {
		cJSON *st = cJSON_AddObjectToObject(an, "faulting_stack"), *fr;
		size_t i;
		if (st != NULL) {
			cJSON_AddItemToObject(st, "os_thread_id", a->stack.os_thread_id ?
					      cJSON_CreateString(a->stack.os_thread_id) : cJSON_CreateNull());
			fr = cJSON_AddArrayToObject(st, "frames");
			for (i = 0; fr != NULL && i < a->stack.nframes; i++)
				cJSON_AddItemToArray(fr, cJSON_CreateString(a->stack.frames[i].call_site));
		}
	} else if (an != NULL) {
		cJSON_AddNullToObject(an, "faulting_stack");
	}
	cJSON_AddItemToObject(root, "crash_report", cr != NULL ? crashreport_json(cr) : cJSON_CreateNull());
	out = pretty ? cJSON_Print(root) : cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return out;
}

