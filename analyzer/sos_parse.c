/* sos_parse.c - turns SOS text into the structs of sos_parse.h: session splitting, dumpheap, gcroot,
 * dumpobj, pe and clrstack. It knows the printed formats, not what they mean: deciding which root holds
 * a context and why is classify.c's job, and running the engine is sos_run.c's.
 *
 * gcroot formats read: current SOS ("HandleTable:" / "Thread X:" / "Finalizer Queue:" / "Older
 * Generation:" groups, "-> ADDR TYPE (notes)" links, "Found N unique roots."), older native SOS
 * ("->  ADDR TYPE", "rbx:  (interior)", uppercase hex, "Found N roots."), and .NET Framework 2.0
 * ("DOMAIN(..):HANDLE(Strong):h:Root:  ADDR(TYPE)->" continued on following lines, "ESP:x:Root:").
 * Lines a capture tool wrapped are joined back onto the link they continue. */
#include "sos_parse.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/cursor.h"

/* ---- small helpers ---- */

/* Makes room for one more element in a growable array capped at max elements. */
static int grow(void **arr, size_t *cap, size_t n, size_t elsz, size_t max)
{
	size_t ncap;
	void *p;

	if (n >= max)
		return DS_ETOOBIG;
	if (n < *cap)
		return DS_OK;
	ncap = *cap ? *cap * 2 : 8;
	if (ncap > max)
		ncap = max;
	p = realloc(*arr, ncap * elsz);
	if (p == NULL)
		return DS_ENOMEM;
	*arr = p;
	*cap = ncap;
	return DS_OK;
}

/* A NUL-terminated copy of s, refusing names past SOS_MAX_NAME. */
static int dup_name(struct span s, char **out)
{
	if (s.n > SOS_MAX_NAME)
		return DS_ETOOBIG;
	*out = span_dup(s);
	return *out ? DS_OK : DS_ENOMEM;
}

static int is_hexch(char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

/* The whole span is one hexadecimal number. */
static int span_hex(struct span w, uint64_t *v)
{
	struct cursor c;

	cursor_init(&c, w.p, w.n);
	if (cursor_hex(&c, v, NULL) != 0 || !cursor_eof(&c))
		return -1;
	return 0;
}

/* Takes the next blank-separated word (any length up to the line's). */
static int next_word(struct cursor *c, struct span *w)
{
	cursor_skip_space(c);
	return cursor_word(c, w, cursor_left(c));
}

static int next_hex(struct cursor *c, uint64_t *v)
{
	struct cursor save = *c;
	struct span w;

	if (next_word(c, &w) != 0 || span_hex(w, v) != 0) {
		*c = save;
		return -1;
	}
	return 0;
}

static struct span rest_of(const struct cursor *c)
{
	struct span s = { c->p, cursor_left(c) };

	return span_trim(s);
}

static int parse_error(struct ds_err *err, int code, size_t line, const char *what)
{
	if (code == DS_ETOOBIG)
		return ds_err_set(err, code, line, "line %zu: %s: too many entries or too long", line, what);
	if (code == DS_ENOMEM)
		return ds_err_set(err, code, line, "line %zu: out of memory", line);
	return ds_err_set(err, code, line, "line %zu: %s", line, what);
}

/* ---- sessions ---- */

void sos_session_free(struct sos_session *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->nrecords; i++)
		free(s->records[i].cmd);
	free(s->records);
	s->records = NULL;
	s->nrecords = 0;
}

/* Recognises a command line and returns the command (prompt, '!' and an lldb "sos " removed). */
static int session_cmdline(struct span line, struct span *cmd)
{
	struct cursor c;
	uint64_t v;

	cursor_init(&c, line.p, line.n);
	if (cursor_lit(&c, "> ") == 0 || (line.n == 1 && cursor_lit(&c, ">") == 0)) {
		/* dotnet-dump echo */
	} else if (cursor_lit(&c, "(lldb) ") == 0) {
		/* lldb prompt */
	} else if (c.p < c.end && *c.p == '!' && c.end - c.p > 1 &&
		   ((c.p[1] >= 'a' && c.p[1] <= 'z') || (c.p[1] >= 'A' && c.p[1] <= 'Z'))) {
		/* a bare "!cmd" as pasted from WinDbg without its prompt */
	} else {
		/* WinDbg "N:NNN> " or "N:NNN:arch> " */
		if (cursor_dec(&c, &v) != 0 || cursor_lit(&c, ":") != 0 || cursor_dec(&c, &v) != 0)
			return -1;
		if (cursor_lit(&c, ":") == 0) {
			while (c.p < c.end && *c.p != '>' && *c.p != ' ')
				c.p++;
		}
		if (cursor_lit(&c, ">") != 0)
			return -1;
	}
	cursor_skip_space(&c);
	if (c.p < c.end && *c.p == '!')
		c.p++;
	if (cursor_lit_ci(&c, "sos ") == 0)
		cursor_skip_space(&c);
	*cmd = rest_of(&c);
	return 0;
}

static int session_add(struct sos_session *s, size_t *cap, struct span cmd, int has_cmd, const char *out,
	size_t line)
{
	struct sos_record *r;
	int rc = grow((void **)&s->records, cap, s->nrecords, sizeof(*s->records), SOS_MAX_RECORDS);

	if (rc != DS_OK)
		return rc;
	r = &s->records[s->nrecords];
	memset(r, 0, sizeof(*r));
	r->ok = 1;
	r->out = out;
	r->line = line;
	if (has_cmd) {
		rc = dup_name(cmd, &r->cmd);
		if (rc != DS_OK)
			return rc;
	}
	s->nrecords++;
	return DS_OK;
}

int sos_session_split(const char *text, size_t len, struct sos_session *s, struct ds_err *err)
{
	struct cursor c;
	struct span line, t, cmd;
	size_t cap = 0, lineno = 0;
	int open = 0, rc = DS_OK;
	const char *line_start;

	memset(s, 0, sizeof(*s));
	if (len > SOS_MAX_TEXT) {
		rc = ds_err_set(err, DS_ETOOBIG, 0, "line 0: transcript larger than %u bytes", SOS_MAX_TEXT);
		goto out;
	}
	cursor_init(&c, text, len);
	for (;;) {
		line_start = c.p;
		if (cursor_line(&c, &line) != 0)
			break;
		lineno++;
		t = span_trim(line);
		if (span_eq(t, "<END_COMMAND_OUTPUT>") || span_eq(t, "<END_COMMAND_ERROR>")) {
			if (open) {
				s->records[s->nrecords - 1].ok = span_eq(t, "<END_COMMAND_OUTPUT>");
				s->records[s->nrecords - 1].out_len =
					(size_t)(line_start - s->records[s->nrecords - 1].out);
			}
			open = 0;
			continue;
		}
		if (session_cmdline(line, &cmd) == 0) {
			if (open)
				s->records[s->nrecords - 1].out_len =
					(size_t)(line_start - s->records[s->nrecords - 1].out);
			rc = session_add(s, &cap, cmd, 1, c.p, lineno + 1);
			if (rc != DS_OK)
				goto fail;
			open = 1;
			continue;
		}
		if (!open) {
			if (t.n == 0)
				continue;
			rc = session_add(s, &cap, t, 0, line_start, lineno);
			if (rc != DS_OK)
				goto fail;
			open = 1;
		}
		s->records[s->nrecords - 1].out_len = (size_t)(c.p - s->records[s->nrecords - 1].out);
	}
	goto out;
fail:
	parse_error(err, rc, lineno, "session");
	sos_session_free(s);
out:
	return rc;
}

void sos_cmd_word(const char *cmd, char *w, size_t wsz)
{
	size_t i = 0;

	while (*cmd == ' ' || *cmd == '!')
		cmd++;
	while (*cmd && *cmd != ' ' && *cmd != '\t' && i + 1 < wsz) {
		w[i++] = (char)((*cmd >= 'A' && *cmd <= 'Z') ? *cmd - 'A' + 'a' : *cmd);
		cmd++;
	}
	w[i] = '\0';
}

enum sos_kind sos_record_kind(const char *cmd, const char *out, size_t len)
{
	struct span all = { out, len };
	char w[32];

	if (cmd != NULL) {
		sos_cmd_word(cmd, w, sizeof(w));
		if (strcmp(w, "dumpheap") == 0)
			return SOS_KIND_DUMPHEAP;
		if (strcmp(w, "gcroot") == 0)
			return SOS_KIND_GCROOT;
		if (strcmp(w, "do") == 0 || strcmp(w, "dumpobj") == 0 || strcmp(w, "dumpalc") == 0 ||
		    strcmp(w, "dumpvc") == 0)
			return SOS_KIND_DUMPOBJ;
		if (strcmp(w, "dumpmt") == 0)
			return SOS_KIND_DUMPMT;
		if (strcmp(w, "dumpclass") == 0)
			return SOS_KIND_DUMPCLASS;
		if (strcmp(w, "du") == 0)
			return SOS_KIND_DU;
		if (strcmp(w, "pe") == 0 || strcmp(w, "printexception") == 0)
			return SOS_KIND_PE;
		if (strcmp(w, "clrstack") == 0)
			return SOS_KIND_CLRSTACK;
		return SOS_KIND_OTHER;
	}
	if (out == NULL)
		return SOS_KIND_OTHER;
	if (span_find(all, "HandleTable:") >= 0 || span_find(all, " roots") >= 0 ||
	    span_find(all, ":Root:") >= 0 || span_find(all, "Finalizer Queue:") >= 0 ||
	    (span_find(all, "Thread ") >= 0 && span_find(all, "->") >= 0))
		return SOS_KIND_GCROOT;
	if (span_find(all, "Statistics:") >= 0 || span_find(all, "Address") >= 0)
		return SOS_KIND_DUMPHEAP;
	if (span_find(all, "Exception type:") >= 0)
		return SOS_KIND_PE;
	if (span_find(all, "OS Thread Id:") >= 0)
		return SOS_KIND_CLRSTACK;
	if (span_find(all, "MethodTable:") >= 0)
		return SOS_KIND_DUMPOBJ;
	return SOS_KIND_OTHER;
}

int sos_cmd_args(const char *cmd, uint64_t *addr, char *typebuf, size_t typesz, int *is_short)
{
	struct cursor c;
	struct span w;
	uint64_t v;
	int found = 0, first = 1;

	if (typebuf != NULL && typesz > 0)
		typebuf[0] = '\0';
	if (is_short != NULL)
		*is_short = 0;
	if (cmd == NULL)
		return -1;
	cursor_init(&c, cmd, strlen(cmd));
	while (next_word(&c, &w) == 0) {
		if (first) {
			first = 0; /* the command word itself */
			continue;
		}
		if (span_eq(w, "-type") || span_eq(w, "-Type")) {
			if (next_word(&c, &w) == 0 && typebuf != NULL)
				span_copy(w, typebuf, typesz);
			continue;
		}
		if (span_eq(w, "-short") && is_short != NULL)
			*is_short = 1;
		if (!found && w.p[0] != '-' && span_hex(w, &v) == 0) {
			found = 1;
			if (addr != NULL)
				*addr = v;
		}
	}
	return found ? 0 : -1;
}

size_t sos_cmd_hex_args(const char *cmd, uint64_t *v, size_t max)
{
	struct cursor c;
	struct span w;
	uint64_t x;
	size_t n = 0;
	int first = 1;

	if (cmd == NULL)
		return 0;
	cursor_init(&c, cmd, strlen(cmd));
	while (n < max && next_word(&c, &w) == 0) {
		if (first) {
			first = 0;
			continue;
		}
		if (w.p[0] != '-' && span_hex(w, &x) == 0)
			v[n++] = x;
	}
	return n;
}

/* ---- dumpheap ---- */

void sos_dumpheap_free(struct sos_dumpheap *d)
{
	size_t i;

	if (d == NULL)
		return;
	for (i = 0; i < d->nobjects; i++)
		free(d->objects[i].type);
	for (i = 0; i < d->nstats; i++)
		free(d->stats[i].name);
	free(d->objects);
	free(d->stats);
	memset(d, 0, sizeof(*d));
}

int sos_is_loader_allocator(const char *type)
{
	return type != NULL && strcmp(type, "System.Reflection.LoaderAllocator") == 0;
}

int sos_is_scout(const char *type)
{
	return type != NULL && strcmp(type, "System.Reflection.LoaderAllocatorScout") == 0;
}

/* Appends wrapped text to a heap string. */
static int append_wrapped(char **s, struct span more)
{
	size_t n = strlen(*s);
	char *p;

	if (n + more.n > SOS_MAX_NAME)
		return DS_ETOOBIG;
	p = realloc(*s, n + more.n + 1);
	if (p == NULL)
		return DS_ENOMEM;
	memcpy(p + n, more.p, more.n);
	p[n + more.n] = '\0';
	*s = p;
	return DS_OK;
}

int sos_parse_dumpheap(const char *text, size_t len, size_t base_line, struct sos_dumpheap *d,
	struct ds_err *err)
{
	enum { NONE, TABLE, STATS } mode = NONE;
	struct cursor c, lc;
	struct span line, t, w;
	size_t ocap = 0, scap = 0, lineno = base_line - 1, i, j;
	uint64_t a, b, n;
	int rc = DS_OK, last_stat = 0;

	memset(d, 0, sizeof(*d));
	cursor_init(&c, text, len);
	while (cursor_line(&c, &line) == 0) {
		lineno++;
		t = span_trim(line);
		cursor_init(&lc, t.p, t.n);
		if (t.n == 0) {
			last_stat = 0;
			continue;
		}
		if (span_starts(t, "Statistics:")) {
			mode = STATS;
			continue;
		}
		if (cursor_lit_ci(&lc, "Total ") == 0) {
			if (cursor_dec(&lc, &n) == 0) {
				d->has_total = 1;
				d->total_objects = n;
				if (cursor_lit(&lc, " objects, ") == 0 && cursor_dec(&lc, &n) == 0)
					d->total_bytes = n;
			}
			last_stat = 0;
			continue;
		}
		if (span_find(t, "MT") >= 0 && (span_find(t, "Address") >= 0 || span_find(t, "Count") >= 0)) {
			if (span_find(t, "Address") >= 0)
				mode = TABLE;
			continue;
		}
		if (next_hex(&lc, &a) != 0) {
			/* a statistics class name the capture wrapped onto the next line */
			if (mode == STATS && last_stat && d->nstats > 0 && line.n > 0 && line.p[0] != ' ') {
				rc = append_wrapped(&d->stats[d->nstats - 1].name, t);
				if (rc != DS_OK)
					goto fail;
			}
			continue; /* warnings and other chatter */
		}
		last_stat = 0;
		if (cursor_eof(&lc)) {
			/* -short: an address alone */
			rc = grow((void **)&d->objects, &ocap, d->nobjects, sizeof(*d->objects), SOS_MAX_OBJECTS);
			if (rc != DS_OK)
				goto fail;
			memset(&d->objects[d->nobjects], 0, sizeof(*d->objects));
			d->objects[d->nobjects++].addr = a;
			d->is_short = 1;
			continue;
		}
		if (mode == STATS) {
			/* MT Count TotalSize Class Name */
			cursor_skip_space(&lc);
			if (cursor_dec(&lc, &n) != 0 || cursor_space(&lc) != 0 || cursor_dec(&lc, &b) != 0) {
				rc = DS_EPARSE;
				goto fail;
			}
			rc = grow((void **)&d->stats, &scap, d->nstats, sizeof(*d->stats), SOS_MAX_OBJECTS);
			if (rc != DS_OK)
				goto fail;
			memset(&d->stats[d->nstats], 0, sizeof(*d->stats));
			d->stats[d->nstats].mt = a;
			d->stats[d->nstats].count = n;
			d->stats[d->nstats].total = b;
			rc = dup_name(rest_of(&lc), &d->stats[d->nstats].name);
			d->nstats++;
			if (rc != DS_OK)
				goto fail;
			last_stat = 1;
			continue;
		}
		/* Address MT Size [Type]; a line of two hex words and a size outside any table is a row too */
		if (next_hex(&lc, &b) != 0) {
			if (mode == TABLE) {
				rc = DS_EPARSE;
				goto fail;
			}
			continue;
		}
		cursor_skip_space(&lc);
		if (cursor_dec(&lc, &n) != 0) {
			rc = DS_EPARSE;
			goto fail;
		}
		rc = grow((void **)&d->objects, &ocap, d->nobjects, sizeof(*d->objects), SOS_MAX_OBJECTS);
		if (rc != DS_OK)
			goto fail;
		memset(&d->objects[d->nobjects], 0, sizeof(*d->objects));
		d->objects[d->nobjects].addr = a;
		d->objects[d->nobjects].mt = b;
		d->objects[d->nobjects].size = n;
		w = rest_of(&lc);
		d->nobjects++;
		if (w.n > 0) {
			rc = dup_name(w, &d->objects[d->nobjects - 1].type);
			if (rc != DS_OK)
				goto fail;
		}
	}
	/* older SOS prints the type only in Statistics: name rows by MT */
	for (i = 0; i < d->nobjects; i++) {
		if (d->objects[i].type != NULL || d->objects[i].mt == 0)
			continue;
		for (j = 0; j < d->nstats; j++) {
			if (d->stats[j].mt == d->objects[i].mt) {
				d->objects[i].type = strdup(d->stats[j].name);
				if (d->objects[i].type == NULL) {
					rc = DS_ENOMEM;
					goto fail;
				}
				break;
			}
		}
	}
	goto out;
fail:
	parse_error(err, rc, lineno, "dumpheap row");
	sos_dumpheap_free(d);
out:
	return rc;
}

/* ---- gcroot ---- */

const char *sos_root_kind_name(enum sos_root_kind k)
{
	switch (k) {
	case SOS_ROOT_STRONG: return "strong handle";
	case SOS_ROOT_PINNED: return "pinned handle";
	case SOS_ROOT_ASYNC_PINNED: return "async pinned handle";
	case SOS_ROOT_SIZED_REF: return "sized ref handle";
	case SOS_ROOT_REFCOUNTED: return "ref counted handle";
	case SOS_ROOT_WEAK: return "weak handle";
	case SOS_ROOT_DEPENDENT: return "dependent handle";
	case SOS_ROOT_HANDLE_NUMBER: return "numbered handle";
	case SOS_ROOT_STACK: return "thread stack";
	case SOS_ROOT_FINALIZER: return "finalizer queue";
	case SOS_ROOT_OLDER_GEN: return "older generation";
	case SOS_ROOT_OTHER: return "other";
	default: return "unknown";
	}
}

static void chain_free(struct sos_chain *ch)
{
	size_t i;

	for (i = 0; i < ch->nlinks; i++) {
		free(ch->links[i].type);
		free(ch->links[i].static_var);
	}
	free(ch->links);
	free(ch->group);
	free(ch->domain);
	free(ch->thread_id);
	free(ch->frame);
	free(ch->slot);
	memset(ch, 0, sizeof(*ch));
}

void sos_gcroot_free(struct sos_gcroot *g)
{
	size_t i;

	if (g == NULL)
		return;
	for (i = 0; i < g->nchains; i++)
		chain_free(&g->chains[i]);
	free(g->chains);
	memset(g, 0, sizeof(*g));
	g->found = -1;
}

/* Handle kind words, as current and .NET Framework SOS print them. */
static enum sos_root_kind handle_kind(struct span s)
{
	struct cursor c;

	cursor_init(&c, s.p, s.n);
	if (cursor_lit_ci(&c, "strong") == 0)
		return SOS_ROOT_STRONG;
	if (cursor_lit_ci(&c, "pinned") == 0)
		return SOS_ROOT_PINNED;
	if (cursor_lit_ci(&c, "async") == 0)
		return SOS_ROOT_ASYNC_PINNED;
	if (cursor_lit_ci(&c, "sized") == 0)
		return SOS_ROOT_SIZED_REF;
	if (cursor_lit_ci(&c, "ref") == 0)
		return SOS_ROOT_REFCOUNTED;
	if (cursor_lit_ci(&c, "weak") == 0)
		return SOS_ROOT_WEAK;
	if (cursor_lit_ci(&c, "dependent") == 0)
		return SOS_ROOT_DEPENDENT;
	return SOS_ROOT_UNKNOWN;
}

struct gcparse {
	struct sos_gcroot *g;
	size_t cap, lcap; /* chains capacity, current chain's links capacity */
	long cur; /* index of the open chain, -1 if none */
	enum { G_NONE, G_HANDLE, G_THREAD, G_FINAL, G_OLDER, G_OTHER } group;
	char *group_name;
	char *thread_id;
	char *frame;
	int domain_open; /* the last line ended with "->" in the .NET Framework form */
	int last_was_link; /* for joining wrapped lines */
	struct buf lastlink; /* raw text of the last "->" link, for re-parsing when joined */
	size_t lineno;
};

static int gc_new_chain(struct gcparse *p, enum sos_root_kind kind)
{
	struct sos_chain *ch;
	int rc;

	rc = grow((void **)&p->g->chains, &p->cap, p->g->nchains, sizeof(*p->g->chains), SOS_MAX_CHAINS);
	if (rc != DS_OK)
		return rc;
	ch = &p->g->chains[p->g->nchains++];
	memset(ch, 0, sizeof(*ch));
	ch->kind = kind;
	ch->handle_number = -1;
	ch->refcount = -1;
	ch->line = p->lineno;
	p->cur = (long)p->g->nchains - 1;
	p->lcap = 0;
	p->domain_open = 0;
	p->last_was_link = 0;
	if (kind == SOS_ROOT_STACK) {
		if (p->thread_id != NULL && (ch->thread_id = strdup(p->thread_id)) == NULL)
			return DS_ENOMEM;
		if (p->frame != NULL && (ch->frame = strdup(p->frame)) == NULL)
			return DS_ENOMEM;
	}
	if (kind == SOS_ROOT_OTHER && p->group_name != NULL && (ch->group = strdup(p->group_name)) == NULL)
		return DS_ENOMEM;
	return DS_OK;
}

static struct sos_link *gc_new_link(struct gcparse *p, uint64_t addr)
{
	struct sos_chain *ch = &p->g->chains[p->cur];
	struct sos_link *l;

	if (grow((void **)&ch->links, &p->lcap, ch->nlinks, sizeof(*ch->links), SOS_MAX_LINKS) != DS_OK)
		return NULL;
	l = &ch->links[ch->nlinks++];
	memset(l, 0, sizeof(*l));
	l->addr = addr;
	return l;
}

/* Index of the '(' that matches the ')' at s.p[s.n-1], or -1. */
static long match_open(struct span s)
{
	long i, depth = 0;

	for (i = (long)s.n - 1; i >= 0; i--) {
		if (s.p[i] == ')')
			depth++;
		else if (s.p[i] == '(' && --depth == 0)
			return i;
	}
	return -1;
}

/* Splits "TYPE (note) (note)" into the type and the notes it knows. */
static int link_set_text(struct sos_link *l, struct span rest)
{
	struct span t = span_trim(rest), note, sv;
	long open;
	int rc;

	free(l->type);
	free(l->static_var);
	l->type = NULL;
	l->static_var = NULL;
	l->flags = 0;
	while (t.n > 0 && t.p[t.n - 1] == ')') {
		open = match_open(t);
		if (open <= 0 || (t.p[open - 1] != ' ' && t.p[open - 1] != '\t'))
			break;
		note.p = t.p + open + 1;
		note.n = t.n - (size_t)open - 2;
		note = span_trim(note);
		if (span_starts(note, "static variable:")) {
			sv.p = note.p + 16;
			sv.n = note.n - 16;
			free(l->static_var);
			l->static_var = NULL;
			rc = dup_name(span_trim(sv), &l->static_var);
			if (rc != DS_OK)
				return rc;
		} else if (span_eq(note, "dependent handle")) {
			l->flags |= SOS_LINK_DEPENDENT;
		} else if (span_eq(note, "interior")) {
			l->flags |= SOS_LINK_INTERIOR;
		} else {
			break;
		}
		t.n = (size_t)open;
		t = span_trim(t);
	}
	if (t.n == 0) {
		t.p = "<unknown type>";
		t.n = strlen(t.p);
	}
	return dup_name(t, &l->type);
}

/* The root kind a chain gets from its group alone (a link with no root line before it). */
static enum sos_root_kind gc_group_kind(const struct gcparse *p)
{
	switch (p->group) {
	case G_THREAD: return SOS_ROOT_STACK;
	case G_FINAL: return SOS_ROOT_FINALIZER;
	case G_OLDER: return SOS_ROOT_OLDER_GEN;
	case G_OTHER: return SOS_ROOT_OTHER;
	default: return SOS_ROOT_UNKNOWN;
	}
}

/* "-> ADDR TYPE (notes)" (the "->" already taken). */
static int gc_link_line(struct gcparse *p, struct cursor *lc)
{
	struct sos_link *l;
	struct span rest;
	uint64_t a;
	int rc;

	if (next_hex(lc, &a) != 0)
		return DS_EPARSE;
	if (p->cur < 0 && (rc = gc_new_chain(p, gc_group_kind(p))) != DS_OK)
		return rc;
	if ((l = gc_new_link(p, a)) == NULL)
		return DS_ETOOBIG;
	rest.p = lc->p;
	rest.n = cursor_left(lc);
	buf_reset(&p->lastlink);
	if ((rc = buf_append(&p->lastlink, rest.p, rest.n)) != DS_OK)
		return rc;
	rc = link_set_text(l, rest);
	p->last_was_link = 1;
	return rc;
}

/* .NET Framework links: "ADDR(TYPE)->ADDR(TYPE)->" to the end of the line. */
static int gc_domain_links(struct gcparse *p, struct cursor *lc)
{
	struct sos_link *l;
	struct span type;
	uint64_t a;
	long depth;
	const char *q;
	int rc;

	p->domain_open = 0;
	for (;;) {
		cursor_skip_space(lc);
		if (cursor_eof(lc))
			break;
		if (cursor_hex(lc, &a, NULL) != 0 || cursor_lit(lc, "(") != 0)
			return DS_EPARSE;
		depth = 1;
		for (q = lc->p; q < lc->end; q++) {
			if (*q == '(')
				depth++;
			else if (*q == ')' && --depth == 0)
				break;
		}
		if (q >= lc->end)
			return DS_EPARSE;
		type.p = lc->p;
		type.n = (size_t)(q - lc->p);
		lc->p = q + 1;
		if ((l = gc_new_link(p, a)) == NULL)
			return DS_ETOOBIG;
		if ((rc = link_set_text(l, type)) != DS_OK)
			return rc;
		cursor_skip_space(lc);
		if (cursor_lit(lc, "->") == 0) {
			p->domain_open = 1;
			continue;
		}
		p->domain_open = 0;
		break;
	}
	return DS_OK;
}

/* "DOMAIN(x):HANDLE(Kind):h:Root:  ..." or "ESP:x:Root:  ...". */
static int gc_domain_root(struct gcparse *p, struct span t)
{
	struct cursor lc;
	struct span dom = { NULL, 0 }, kind, h;
	long at = span_find(t, ":Root:");
	uint64_t a;
	int rc;

	cursor_init(&lc, t.p, (size_t)at);
	if (cursor_lit(&lc, "DOMAIN(") == 0) {
		if (cursor_until(&lc, ')', &dom) != 0 || cursor_lit(&lc, "):HANDLE(") != 0 ||
		    cursor_until(&lc, ')', &kind) != 0 || cursor_lit(&lc, "):") != 0)
			return DS_EPARSE;
		if ((rc = gc_new_chain(p, handle_kind(kind))) != DS_OK)
			return rc;
		h.p = lc.p;
		h.n = cursor_left(&lc);
		if (span_hex(span_trim(h), &a) == 0)
			p->g->chains[p->cur].root_addr = a;
		if ((rc = dup_name(dom, &p->g->chains[p->cur].domain)) != DS_OK)
			return rc;
	} else {
		/* a stack root: "ESP:12f4c8" */
		if ((rc = gc_new_chain(p, SOS_ROOT_STACK)) != DS_OK)
			return rc;
		h.p = t.p;
		h.n = (size_t)at;
		if ((rc = dup_name(h, &p->g->chains[p->cur].slot)) != DS_OK)
			return rc;
	}
	cursor_init(&lc, t.p + at + 6, t.n - (size_t)at - 6);
	return gc_domain_links(p, &lc);
}

/* Removes a trailing source location "[file @ line]" / "[file@line]" from a frame. */
static struct span strip_source(struct span s)
{
	long i;

	s = span_trim(s);
	if (s.n == 0 || s.p[s.n - 1] != ']')
		return s;
	for (i = (long)s.n - 1; i >= 0; i--) {
		if (s.p[i] == '[') {
			struct span in = { s.p + i, s.n - (size_t)i };

			if (span_find(in, "@") >= 0 && span_find(in, ":") != (long)in.n - 1) {
				s.n = (size_t)i;
				return span_trim(s);
			}
			return s;
		}
	}
	return s;
}

static int set_str(char **dst, struct span s)
{
	free(*dst);
	*dst = NULL;
	return dup_name(s, dst);
}

/* A line inside a "Thread X:" group: a frame ("SP [IP] call site") or a slot ("rbp-20: ADDR", "rbx:",
 * "ADDR"). */
static int gc_thread_line(struct gcparse *p, struct span t)
{
	struct cursor lc;
	struct span w, rest;
	uint64_t a;
	long colon;
	int rc;

	cursor_init(&lc, t.p, t.n);
	if (next_word(&lc, &w) != 0)
		return DS_OK;
	colon = span_find(w, ":");
	if (colon < 0 && span_hex(w, &a) == 0) {
		rest = rest_of(&lc);
		if (rest.n == 0) {
			/* slot with an address and no register name */
			if ((rc = gc_new_chain(p, SOS_ROOT_STACK)) != DS_OK)
				return rc;
			p->g->chains[p->cur].root_addr = a;
			return DS_OK;
		}
		/* frame: drop the IP column when present */
		{
			struct cursor c2 = lc;
			uint64_t ip;

			if (next_hex(&c2, &ip) == 0 && !cursor_eof(&c2))
				lc = c2;
		}
		rc = set_str(&p->frame, strip_source(rest_of(&lc)));
		p->cur = -1;
		return rc;
	}
	if (colon < 0)
		return DS_OK; /* chatter */
	/* register slot: "rbp-20:" word, then an address or "(interior)" or nothing */
	if ((rc = gc_new_chain(p, SOS_ROOT_STACK)) != DS_OK)
		return rc;
	w.n = (size_t)colon;
	if ((rc = dup_name(w, &p->g->chains[p->cur].slot)) != DS_OK)
		return rc;
	if (next_hex(&lc, &a) == 0)
		p->g->chains[p->cur].root_addr = a;
	if (span_find(rest_of(&lc), "(interior)") >= 0)
		p->g->chains[p->cur].interior = 1;
	return DS_OK;
}

/* "ADDR (kind)" inside HandleTable:. */
static int gc_handle_line(struct gcparse *p, struct span t)
{
	struct cursor lc;
	struct span in, rc_s;
	uint64_t a, n;
	long open;
	int rc;

	cursor_init(&lc, t.p, t.n);
	if (next_hex(&lc, &a) != 0)
		return DS_OK;
	in = rest_of(&lc);
	if (in.n < 2 || in.p[0] != '(' || in.p[in.n - 1] != ')')
		return DS_EPARSE;
	in.p++;
	in.n -= 2;
	in = span_trim(in);
	if ((rc = gc_new_chain(p, SOS_ROOT_UNKNOWN)) != DS_OK)
		return rc;
	p->g->chains[p->cur].root_addr = a;
	cursor_init(&lc, in.p, in.n);
	if (cursor_dec(&lc, &n) == 0 && cursor_eof(&lc)) {
		p->g->chains[p->cur].kind = SOS_ROOT_HANDLE_NUMBER;
		p->g->chains[p->cur].handle_number = n > 1000000 ? 1000000 : (int)n;
		return DS_OK;
	}
	p->g->chains[p->cur].kind = handle_kind(in);
	if (p->g->chains[p->cur].kind == SOS_ROOT_UNKNOWN && span_starts(in, "finalizer"))
		p->g->chains[p->cur].kind = SOS_ROOT_FINALIZER;
	open = span_find(in, "RefCount:");
	if (open >= 0) {
		rc_s.p = in.p + open + 9;
		rc_s.n = in.n - (size_t)open - 9;
		cursor_init(&lc, rc_s.p, rc_s.n);
		cursor_skip_space(&lc);
		if (cursor_dec(&lc, &n) == 0)
			p->g->chains[p->cur].refcount = n > 0x7fffffff ? 0x7fffffff : (long)n;
	}
	return DS_OK;
}

/* A group header "Word Word:" (letters and spaces only). */
static int is_group_header(struct span t)
{
	size_t i;

	/* kinds are capitalised ("HandleTable:", "Stack:"); registers ("rbx:") are not */
	if (t.n < 2 || t.p[t.n - 1] != ':' || t.p[0] < 'A' || t.p[0] > 'Z')
		return 0;
	for (i = 0; i + 1 < t.n; i++)
		if (!((t.p[i] >= 'A' && t.p[i] <= 'Z') || (t.p[i] >= 'a' && t.p[i] <= 'z') || t.p[i] == ' '))
			return 0;
	return 1;
}

/* Whether an unindented line is a root line of the current group rather than wrapped text. */
static int gc_looks_like_root(const struct gcparse *p, struct span t)
{
	struct cursor lc;
	struct span w;
	uint64_t a;

	cursor_init(&lc, t.p, t.n);
	if (next_word(&lc, &w) != 0)
		return 0;
	if (w.n > 1 && w.p[w.n - 1] == ':')
		return p->group == G_THREAD;
	if (span_hex(w, &a) != 0 || w.n < 8)
		return 0;
	cursor_skip_space(&lc);
	if (cursor_eof(&lc))
		return 1;
	if (p->group == G_HANDLE || p->group == G_FINAL)
		return lc.p[0] == '(';
	return p->group == G_THREAD;
}

static int gc_line(struct gcparse *p, struct span line)
{
	struct span t = span_trim(line), w;
	struct cursor lc;
	uint64_t a, n;
	int rc, was_link = p->last_was_link;

	p->last_was_link = 0;
	cursor_init(&lc, t.p, t.n);
	if (t.n == 0) {
		p->cur = -1;
		p->last_was_link = 0;
		p->domain_open = 0;
		return DS_OK;
	}
	if (cursor_lit(&lc, "->") == 0)
		return gc_link_line(p, &lc);
	if (p->domain_open && p->cur >= 0 && t.n > 0 && is_hexch(t.p[0]) && span_find(t, "(") > 0)
		return gc_domain_links(p, &lc);
	if (cursor_lit(&lc, "Found ") == 0 && cursor_dec(&lc, &n) == 0) {
		p->g->found = n > 0x7fffffff ? 0x7fffffff : (long)n;
		p->g->found_unique = cursor_lit(&lc, " unique") == 0;
		p->cur = -1;
		return DS_OK;
	}
	if (span_find(t, ":Root:") > 0 &&
	    (span_starts(t, "DOMAIN(") || (t.n > 4 && t.p[3] == ':' && is_hexch(t.p[4]))))
		return gc_domain_root(p, t);
	if (span_eq(t, "HandleTable:")) {
		p->group = G_HANDLE;
		p->cur = -1;
		return DS_OK;
	}
	if (span_eq(t, "Finalizer Queue:")) {
		p->group = G_FINAL;
		p->cur = -1;
		return DS_OK;
	}
	if (span_eq(t, "Older Generation:")) {
		p->group = G_OLDER;
		p->cur = -1;
		return DS_OK;
	}
	if (cursor_lit(&lc, "Thread ") == 0 || cursor_lit(&lc, "Scan Thread ") == 0) {
		/* "Thread 1b3f:" now; "Scan Thread 0 OSTHread 1c4c" in .NET Framework */
		struct span id;

		if (span_find(t, "OSTHread") >= 0 || span_find(t, "OSThread") >= 0) {
			long at = span_find(t, "OSTHread") >= 0 ? span_find(t, "OSTHread") : span_find(t, "OSThread");

			cursor_init(&lc, t.p + at + 8, t.n - (size_t)at - 8);
		}
		if (next_word(&lc, &id) == 0) {
			if (id.n > 0 && id.p[id.n - 1] == ':')
				id.n--;
			if (span_hex(id, &a) == 0) {
				p->group = G_THREAD;
				p->cur = -1;
				free(p->frame);
				p->frame = NULL;
				return set_str(&p->thread_id, id);
			}
		}
		return DS_OK;
	}
	if (is_group_header(t)) {
		w = t;
		w.n--;
		p->group = G_OTHER;
		p->cur = -1;
		return set_str(&p->group_name, w);
	}
	if (span_starts(t, "Caching GC roots") || span_starts(t, "Subsequent runs") ||
	    span_starts(t, "Total time") || span_starts(t, "Warning"))
		return DS_OK;
	/* A line the capture wrapped: glue it back onto the last link and parse that again. SOS indents
	 * every line of a root, so a continuation starts in column 0 and is not a root line itself. */
	if (was_link && p->cur >= 0 && p->g->chains[p->cur].nlinks > 0 && line.p[0] != ' ' &&
	    line.p[0] != '\t' && !gc_looks_like_root(p, t)) {
		struct sos_chain *ch = &p->g->chains[p->cur];
		struct span joined;

		if ((rc = buf_append(&p->lastlink, t.p, t.n)) != DS_OK)
			return rc;
		joined.p = p->lastlink.data;
		joined.n = p->lastlink.len;
		p->last_was_link = 1;
		return link_set_text(&ch->links[ch->nlinks - 1], joined);
	}
	switch (p->group) {
	case G_THREAD:
		return gc_thread_line(p, t);
	case G_HANDLE:
		return gc_handle_line(p, t);
	case G_FINAL:
	case G_OLDER:
	case G_OTHER:
		if (next_hex(&lc, &a) != 0)
			return DS_OK;
		if ((rc = gc_new_chain(p, gc_group_kind(p))) != DS_OK)
			return rc;
		p->g->chains[p->cur].root_addr = a;
		return DS_OK;
	default:
		return DS_OK;
	}
}

int sos_parse_gcroot(const char *text, size_t len, size_t base_line, struct sos_gcroot *g,
	struct ds_err *err)
{
	struct gcparse p;
	struct cursor c;
	struct span line;
	int rc = DS_OK;

	memset(g, 0, sizeof(*g));
	g->found = -1;
	memset(&p, 0, sizeof(p));
	p.g = g;
	p.cur = -1;
	p.lineno = base_line - 1;
	buf_init(&p.lastlink, SOS_MAX_NAME * 2);
	cursor_init(&c, text, len);
	while (cursor_line(&c, &line) == 0) {
		p.lineno++;
		rc = gc_line(&p, line);
		if (rc != DS_OK) {
			parse_error(err, rc, p.lineno, rc == DS_EPARSE ? "gcroot: malformed root or link" : "gcroot");
			sos_gcroot_free(g);
			goto out;
		}
	}
out:
	free(p.group_name);
	free(p.thread_id);
	free(p.frame);
	buf_free(&p.lastlink);
	return rc;
}

/* ---- dumpobj ---- */

void sos_dumpobj_free(struct sos_dumpobj *o)
{
	size_t i;

	if (o == NULL)
		return;
	for (i = 0; i < o->nfields; i++) {
		free(o->fields[i].name);
		free(o->fields[i].type);
		free(o->fields[i].value);
	}
	free(o->fields);
	free(o->name);
	free(o->string);
	memset(o, 0, sizeof(*o));
}

const struct sos_field *sos_dumpobj_field(const struct sos_dumpobj *o, const char *name)
{
	size_t i;

	for (i = 0; i < o->nfields; i++)
		if (strcmp(o->fields[i].name, name) == 0)
			return &o->fields[i];
	return NULL;
}

/* "Label:   value" -> value; -1 if the line is not that label. */
static int label_value(struct span t, const char *label, struct span *v)
{
	struct cursor lc;

	cursor_init(&lc, t.p, t.n);
	if (cursor_lit(&lc, label) != 0)
		return -1;
	*v = rest_of(&lc);
	return 0;
}

int sos_parse_dumpobj(const char *text, size_t len, size_t base_line, struct sos_dumpobj *o,
	struct ds_err *err)
{
	struct cursor c, lc;
	struct span line, t, v, tok[16];
	size_t cap = 0, lineno = base_line - 1, ntok, k;
	struct sos_field *f;
	uint64_t a;
	int rc = DS_OK, in_fields = 0;

	memset(o, 0, sizeof(*o));
	cursor_init(&c, text, len);
	while (cursor_line(&c, &line) == 0) {
		lineno++;
		t = span_trim(line);
		if (t.n == 0)
			continue;
		if (!in_fields) {
			if ((label_value(t, "Name:", &v) == 0 || label_value(t, "Class Name:", &v) == 0) &&
			    o->name == NULL)
				rc = dup_name(v, &o->name);
			else if (label_value(t, "MethodTable:", &v) == 0)
				(void)span_hex(v, &o->mt);
			else if (label_value(t, "String:", &v) == 0 && o->string == NULL)
				rc = dup_name(v, &o->string);
			else if (span_eq(t, "Fields:") ||
				 (span_starts(t, "MT") && span_find(t, "Field") > 0 && span_find(t, "Offset") > 0))
				in_fields = 1;
			if (rc != DS_OK)
				goto fail;
			continue;
		}
		/* MT Field Offset [Type] VT Attr Value Name: read from both ends, Type may be blank */
		cursor_init(&lc, t.p, t.n);
		ntok = 0;
		while (ntok < DS_ARRAY_LEN(tok) && next_word(&lc, &tok[ntok]) == 0)
			ntok++;
		if (ntok < 7 || span_hex(tok[0], &a) != 0 || span_hex(tok[1], &a) != 0)
			continue; /* header, ">> Domain:Value" lines, chatter */
		rc = grow((void **)&o->fields, &cap, o->nfields, sizeof(*o->fields), SOS_MAX_FIELDS);
		if (rc != DS_OK)
			goto fail;
		f = &o->fields[o->nfields++];
		memset(f, 0, sizeof(*f));
		f->is_static = span_eq(tok[ntok - 3], "static") || span_eq(tok[ntok - 3], "shared");
		if ((rc = dup_name(tok[ntok - 1], &f->name)) != DS_OK ||
		    (rc = dup_name(tok[ntok - 2], &f->value)) != DS_OK)
			goto fail;
		v.p = tok[3].p;
		v.n = 0;
		for (k = 3; k + 5 <= ntok; k++)
			v.n = (size_t)(tok[k].p + tok[k].n - v.p);
		if ((rc = dup_name(v, &f->type)) != DS_OK)
			goto fail;
	}
	goto out;
fail:
	parse_error(err, rc, lineno, "dumpobj");
	sos_dumpobj_free(o);
out:
	return rc;
}

/* ---- dumpmt / du ---- */

void sos_dumpmt_free(struct sos_dumpmt *m)
{
	if (m == NULL)
		return;
	free(m->name);
	memset(m, 0, sizeof(*m));
}

int sos_parse_dumpmt(const char *text, size_t len, size_t base_line, struct sos_dumpmt *m,
	struct ds_err *err)
{
	struct cursor c;
	struct span line, t, v;
	size_t lineno = base_line - 1;
	int rc = DS_OK;

	memset(m, 0, sizeof(*m));
	cursor_init(&c, text, len);
	while (cursor_line(&c, &line) == 0) {
		lineno++;
		t = span_trim(line);
		if (label_value(t, "Name:", &v) == 0 && m->name == NULL)
			rc = dup_name(v, &m->name);
		else if (label_value(t, "LoaderAllocator:", &v) == 0)
			(void)span_hex(v, &m->loader_allocator);
		else if (label_value(t, "AssemblyLoadContext:", &v) == 0)
			(void)span_hex(v, &m->alc);
		if (rc != DS_OK) {
			parse_error(err, rc, lineno, "dumpmt");
			sos_dumpmt_free(m);
			break;
		}
	}
	return rc;
}

int sos_parse_du(const char *text, size_t len, size_t base_line, char **out, struct ds_err *err)
{
	struct cursor c;
	struct span line, t, v;
	size_t lineno = base_line - 1;
	int rc = DS_OK;

	*out = NULL;
	cursor_init(&c, text, len);
	while (cursor_line(&c, &line) == 0) {
		lineno++;
		t = span_trim(line);
		if (label_value(t, "Text:", &v) != 0)
			continue;
		if (v.n >= 2 && v.p[0] == '\'' && v.p[v.n - 1] == '\'') {
			v.p++;
			v.n -= 2;
		}
		rc = dup_name(v, out);
		if (rc != DS_OK)
			parse_error(err, rc, lineno, "du");
		break;
	}
	return rc;
}

/* ---- pe ---- */

void sos_exception_free(struct sos_exception *e)
{
	size_t i;

	if (e == NULL)
		return;
	for (i = 0; i < e->nstack; i++)
		free(e->stack[i]);
	free(e->stack);
	free(e->type);
	free(e->message);
	memset(e, 0, sizeof(*e));
}

static int push_str(char ***arr, size_t *n, size_t *cap, struct span s)
{
	int rc = grow((void **)arr, cap, *n, sizeof(**arr), SOS_MAX_FRAMES);

	if (rc != DS_OK)
		return rc;
	rc = dup_name(s, &(*arr)[*n]);
	if (rc == DS_OK)
		(*n)++;
	return rc;
}

int sos_parse_pe(const char *text, size_t len, size_t base_line, struct sos_exception *e,
	struct ds_err *err)
{
	struct cursor c, lc;
	struct span line, t, v;
	size_t cap = 0, lineno = base_line - 1;
	uint64_t a, b;
	int rc = DS_OK, in_stack = 0, done = 0;

	memset(e, 0, sizeof(*e));
	cursor_init(&c, text, len);
	while (!done && cursor_line(&c, &line) == 0) {
		lineno++;
		t = span_trim(line);
		if (label_value(t, "Exception type:", &v) == 0) {
			if (e->type != NULL) {
				done = 1; /* an inner or nested exception follows: keep the outer one */
				break;
			}
			rc = dup_name(v, &e->type);
		} else if (label_value(t, "Message:", &v) == 0) {
			if (e->message == NULL && !span_eq(v, "<none>"))
				rc = dup_name(v, &e->message);
		} else if (label_value(t, "HResult:", &v) == 0) {
			cursor_init(&lc, v.p, v.n);
			if (cursor_hex(&lc, &a, NULL) == 0 && a <= 0xffffffffu) {
				e->hresult = (uint32_t)a;
				e->has_hresult = 1;
			}
			in_stack = 0;
		} else if (span_starts(t, "StackTrace (generated):")) {
			in_stack = 1;
		} else if (span_starts(t, "StackTraceString:") || span_starts(t, "InnerException:") ||
			   span_starts(t, "Nested exception")) {
			in_stack = 0;
		} else if (in_stack) {
			cursor_init(&lc, t.p, t.n);
			if (next_hex(&lc, &a) == 0 && next_hex(&lc, &b) == 0 && !cursor_eof(&lc))
				rc = push_str(&e->stack, &e->nstack, &cap, rest_of(&lc));
		}
		if (rc != DS_OK)
			goto fail;
	}
	goto out;
fail:
	parse_error(err, rc, lineno, "pe");
	sos_exception_free(e);
out:
	return rc;
}

/* ---- clrstack ---- */

void sos_clrstack_free(struct sos_clrstack *cs)
{
	size_t i;

	if (cs == NULL)
		return;
	for (i = 0; i < cs->nframes; i++)
		free(cs->frames[i].call_site);
	free(cs->frames);
	free(cs->os_thread_id);
	memset(cs, 0, sizeof(*cs));
}

int sos_parse_clrstack(const char *text, size_t len, size_t base_line, struct sos_clrstack *cs,
	struct ds_err *err)
{
	struct cursor c, lc;
	struct span line, t, v, w;
	size_t cap = 0, lineno = base_line - 1;
	uint64_t sp, ip;
	int rc = DS_OK;

	memset(cs, 0, sizeof(*cs));
	cursor_init(&c, text, len);
	while (cursor_line(&c, &line) == 0) {
		lineno++;
		t = span_trim(line);
		if (label_value(t, "OS Thread Id:", &v) == 0) {
			if (cs->os_thread_id != NULL)
				break; /* the next thread of "clrstack -all": keep the first */
			cursor_init(&lc, v.p, v.n);
			(void)cursor_lit(&lc, "0x");
			if (next_word(&lc, &w) == 0 && (rc = dup_name(w, &cs->os_thread_id)) != DS_OK)
				goto fail;
			continue;
		}
		cursor_init(&lc, t.p, t.n);
		if (next_hex(&lc, &sp) != 0 || next_hex(&lc, &ip) != 0 || cursor_eof(&lc))
			continue;
		rc = grow((void **)&cs->frames, &cap, cs->nframes, sizeof(*cs->frames), SOS_MAX_FRAMES);
		if (rc != DS_OK)
			goto fail;
		cs->frames[cs->nframes].sp = sp;
		cs->frames[cs->nframes].ip = ip;
		cs->frames[cs->nframes].call_site = NULL;
		rc = dup_name(rest_of(&lc), &cs->frames[cs->nframes].call_site);
		cs->nframes++;
		if (rc != DS_OK)
			goto fail;
	}
	goto out;
fail:
	parse_error(err, rc, lineno, "clrstack");
	sos_clrstack_free(cs);
out:
	return rc;
}
