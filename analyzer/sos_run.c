/* sos_run.c - drives one dotnet-dump process per dump: starts it with argv only (no shell), feeds it one
 * command at a time on stdin, and cuts its stdout at the engine's end-of-command markers. It enforces the
 * time and size limits and kills the engine when one is hit. It does not interpret what the commands
 * print: that is sos_parse.c's job. */
#include "sos_run.h"
#include "../core/cursor.h"
#include "../core/plat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#define MARK_OUT "<END_COMMAND_OUTPUT>"
#define MARK_ERR "<END_COMMAND_ERROR>"
#define SOS_STDERR_MAX (64u * 1024u)
#define SOS_CMD_MAX 4096u

struct sos_run {
	uv_loop_t loop;
	uv_process_t proc;
	uv_pipe_t in, out, err;
	uv_timer_t timer;
	struct buf transcript; /* everything stdout gave, capped at lim.max_output */
	struct buf errtext;    /* stderr, capped */
	struct sos_limits lim;
	uint64_t deadline_ns;  /* end of the whole-session budget */
	size_t cmd_start;      /* transcript offset where the current command's output begins */
	size_t scan_from;      /* where to look for the next marker */
	size_t marker_at;      /* offset of the marker line found, valid when marker != 0 */
	int marker;            /* 0 none yet, 1 output marker, 2 error marker */
	int pid;
	int started;
	int exited;
	int timed_out;
	int toobig;
	int dead;
	int open_handles;
	enum sos_status status;
};

const char *sos_status_name(enum sos_status st)
{
	switch (st) {
	case SOS_OK: return "ok";
	case SOS_TIMEOUT: return "timeout";
	case SOS_ENGINE_MISSING: return "engine_missing";
	case SOS_NO_DAC: return "no_dac";
	case SOS_UNSUPPORTED_HOST: return "unsupported_host";
	case SOS_TOOBIG: return "output_too_big";
	case SOS_PARSE_ERROR: return "parse_error";
	case SOS_NOT_DOTNET: return "not_dotnet";
	case SOS_NO_HEAP: return "no_heap";
	case SOS_FAILED:
	default: return "failed";
	}
}

void sos_limits_default(struct sos_limits *lim)
{
	lim->cmd_timeout_ms = 120000;
	lim->dump_timeout_ms = 600000;
	lim->max_output = 64u << 20;
	lim->max_roots = 64;
}

static char *sos_join(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);
	char *p = malloc(na + nb + 2);

	if (p != NULL) {
		memcpy(p, a, na);
		p[na] = '/';
		memcpy(p + na + 1, b, nb + 1);
	}
	return p;
}

/* Tries dir/name and returns it if executable, else NULL (frees what it tried). */
static char *sos_try(const char *dir, const char *name)
{
	char *p;

	if (dir == NULL || dir[0] == '\0')
		return NULL;
	p = sos_join(dir, name);
	if (p != NULL && !plat_is_executable(p)) {
		free(p);
		p = NULL;
	}
	return p;
}

static char *sos_search_path(const char *name)
{
	const char *path = getenv("PATH");
	char sep = plat_path_list_sep();
	char dir[4096];
	char *found = NULL;
	const char *p, *q;
	size_t n;

	for (p = path; p != NULL && *p != '\0' && found == NULL; p = *q ? q + 1 : q) {
		q = strchr(p, sep);
		if (q == NULL)
			q = p + strlen(p);
		n = (size_t)(q - p);
		if (n == 0 || n >= sizeof(dir))
			continue;
		memcpy(dir, p, n);
		dir[n] = '\0';
		found = sos_try(dir, name);
	}
	return found;
}

char *sos_run_find_engine(const char *configured)
{
	/* Relative to the running executable: build/dumpscout -> ../.tools; a layout that keeps .tools
	 * beside the binary; make install: PREFIX/bin -> ../libexec/dumpscout. */
	static const char *const beside_exe[] = { "../.tools", ".tools", "../libexec/dumpscout" };
	const char *env = getenv("DUMPSCOUT_ENGINE"), *given = NULL;
	char exe[32], *dir = NULL, *home = NULL, *tools, *found = NULL;
	size_t i;

	snprintf(exe, sizeof(exe), "dotnet-dump%s", plat_exe_suffix());
	if (configured != NULL && configured[0] != '\0')
		given = configured;
	else if (env != NULL && env[0] != '\0')
		given = env;
	if (given != NULL) {
		/* An explicit choice is used as given, or not at all: no silent fallback to another engine. */
		found = plat_is_executable(given) ? strdup(given) : NULL;
		goto out;
	}
	dir = plat_exe_dir();
	for (i = 0; dir != NULL && found == NULL && i < DS_ARRAY_LEN(beside_exe); i++) {
		tools = sos_join(dir, beside_exe[i]);
		found = tools != NULL ? sos_try(tools, exe) : NULL;
		free(tools);
	}
	if (found == NULL)
		found = sos_try(".tools", exe); /* run from a checkout: the project's own .tools/ */
	if (found == NULL)
		found = sos_search_path(exe);
	if (found == NULL && (home = plat_home_dir()) != NULL) {
		tools = sos_join(home, ".dotnet/tools");
		found = tools != NULL ? sos_try(tools, exe) : NULL;
		free(tools);
	}
out:
	free(dir);
	free(home);
	return found;
}

static void sos_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	(void)h;
	if (suggested > 65536)
		suggested = 65536;
	b->base = malloc(suggested);
	b->len = b->base ? suggested : 0;
}

static void sos_kill(struct sos_run *s)
{
	if (s->started && !s->exited)
		plat_kill_tree(s->pid);
	s->dead = 1;
}

/* Looks for a marker line after scan_from. Markers stand alone on their line. */
static void sos_scan(struct sos_run *s)
{
	const char *base = s->transcript.data;
	size_t len = s->transcript.len, i = s->scan_from;
	const char *m;

	while (s->marker == 0 && i < len) {
		m = memchr(base + i, '<', len - i);
		if (m == NULL)
			break;
		i = (size_t)(m - base);
		if (i == 0 || base[i - 1] == '\n') {
			size_t left = len - i;
			if (left >= sizeof(MARK_OUT) - 1 && memcmp(m, MARK_OUT, sizeof(MARK_OUT) - 1) == 0)
				s->marker = 1;
			else if (left >= sizeof(MARK_ERR) - 1 && memcmp(m, MARK_ERR, sizeof(MARK_ERR) - 1) == 0)
				s->marker = 2;
			else if (left < sizeof(MARK_OUT) - 1)
				break; /* maybe a marker still arriving: look again later */
			if (s->marker != 0) {
				s->marker_at = i;
				break;
			}
		}
		i++;
	}
	if (s->marker == 0)
		s->scan_from = i < len ? i : len;
}

static void sos_on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
	struct sos_run *s = st->data;

	if (n > 0) {
		if (buf_append(&s->transcript, b->base, (size_t)n) != DS_OK) {
			s->toobig = 1;
			sos_kill(s);
		} else {
			sos_scan(s);
		}
	} else if (n < 0) {
		uv_read_stop(st);
	}
	free(b->base);
}

static void sos_on_err(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
	struct sos_run *s = st->data;

	if (n > 0)
		(void)buf_append(&s->errtext, b->base, (size_t)n); /* past the cap stderr is dropped */
	else if (n < 0)
		uv_read_stop(st);
	free(b->base);
}

static void sos_on_exit(uv_process_t *p, int64_t status, int sig)
{
	struct sos_run *s = p->data;

	(void)status;
	(void)sig;
	s->exited = 1;
}

static void sos_on_timer(uv_timer_t *t)
{
	struct sos_run *s = t->data;

	s->timed_out = 1;
	sos_kill(s);
}

struct sos_write {
	uv_write_t req;
	char text[];
};

static void sos_on_write(uv_write_t *req, int status)
{
	(void)status;
	free(req);
}

static int sos_send(struct sos_run *s, const char *cmd)
{
	size_t n = strlen(cmd);
	struct sos_write *w;
	uv_buf_t b;

	if (n > SOS_CMD_MAX || strchr(cmd, '\n') != NULL || strchr(cmd, '\r') != NULL)
		return DS_EINVAL;
	w = malloc(sizeof(*w) + n + 2);
	if (w == NULL)
		return DS_ENOMEM;
	memcpy(w->text, cmd, n);
	w->text[n] = '\n';
	w->text[n + 1] = '\0';
	b = uv_buf_init(w->text, (unsigned)(n + 1));
	if (uv_write(&w->req, (uv_stream_t *)&s->in, &b, 1, sos_on_write) != 0) {
		free(w);
		return DS_EENGINE;
	}
	return DS_OK;
}

/* Runs the loop until a marker arrives, the engine exits, or time is up. */
static int sos_wait_marker(struct sos_run *s, uint32_t cmd_timeout_ms)
{
	uint64_t now = plat_mono_ns(), left_ms;

	if (now >= s->deadline_ns) {
		s->timed_out = 1;
		sos_kill(s);
		return DS_ETIMEOUT;
	}
	left_ms = (s->deadline_ns - now) / 1000000u;
	if (cmd_timeout_ms < left_ms)
		left_ms = cmd_timeout_ms;
	uv_timer_start(&s->timer, sos_on_timer, left_ms ? left_ms : 1, 0);
	while (s->marker == 0 && !s->exited && !s->timed_out && !s->toobig)
		uv_run(&s->loop, UV_RUN_ONCE);
	uv_timer_stop(&s->timer);
	/* Drain what an exiting engine already wrote before judging. */
	if (s->marker == 0 && s->exited)
		uv_run(&s->loop, UV_RUN_NOWAIT);
	if (s->marker != 0)
		return DS_OK;
	if (s->toobig)
		return DS_ETOOBIG;
	if (s->timed_out)
		return DS_ETIMEOUT;
	return DS_EENGINE;
}

/* 1 if needle occurs in the n bytes at hay. */
static int sos_contains(const char *hay, size_t n, const char *needle)
{
	struct span sp = { hay, n };

	return span_find(sp, needle) >= 0;
}

/* Builds the engine's environment: ours plus invariant globalization (stable number formats) and no
 * telemetry banner. The array and strings are malloc'd; sos_env_free releases them. */
static char **sos_env_build(void)
{
	static const char *const add[] = {
		"DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1",
		"DOTNET_CLI_TELEMETRY_OPTOUT=1",
		"DOTNET_NOLOGO=1",
	};
	uv_env_item_t *items = NULL;
	int count = 0, i, j, k = 0;
	char **env = NULL;

	if (uv_os_environ(&items, &count) != 0)
		count = 0;
	env = calloc((size_t)count + DS_ARRAY_LEN(add) + 1, sizeof(*env));
	if (env == NULL)
		goto out;
	for (i = 0; i < count; i++) {
		int skip = 0;
		for (j = 0; j < (int)DS_ARRAY_LEN(add); j++) {
			size_t n = strlen(items[i].name);
			if (strncmp(add[j], items[i].name, n) == 0 && add[j][n] == '=')
				skip = 1;
		}
		if (skip)
			continue;
		env[k] = malloc(strlen(items[i].name) + strlen(items[i].value) + 2);
		if (env[k] == NULL)
			continue;
		sprintf(env[k], "%s=%s", items[i].name, items[i].value);
		k++;
	}
	for (j = 0; j < (int)DS_ARRAY_LEN(add); j++)
		env[k++] = strdup(add[j]);
out:
	if (items != NULL)
		uv_os_free_environ(items, count);
	return env;
}

static void sos_env_free(char **env)
{
	size_t i;

	for (i = 0; env != NULL && env[i] != NULL; i++)
		free(env[i]);
	free(env);
}

static void sos_on_close(uv_handle_t *h)
{
	struct sos_run *s = h->data;

	s->open_handles--;
}

static void sos_close_handle(struct sos_run *s, uv_handle_t *h)
{
	if (!uv_is_closing(h)) {
		h->data = s;
		uv_close(h, sos_on_close);
	}
}

static void sos_free(struct sos_run *s)
{
	if (s == NULL)
		return;
	sos_close_handle(s, (uv_handle_t *)&s->in);
	sos_close_handle(s, (uv_handle_t *)&s->out);
	sos_close_handle(s, (uv_handle_t *)&s->err);
	sos_close_handle(s, (uv_handle_t *)&s->timer);
	if (s->started)
		sos_close_handle(s, (uv_handle_t *)&s->proc);
	while (s->open_handles > 0)
		uv_run(&s->loop, UV_RUN_ONCE);
	uv_loop_close(&s->loop);
	buf_free(&s->transcript);
	buf_free(&s->errtext);
	free(s);
}

int sos_run_open(const char *engine, const char *dump, const struct sos_limits *lim,
		 struct sos_run **out, enum sos_status *status, struct ds_err *e)
{
	uv_process_options_t opt;
	uv_stdio_container_t io[3];
	struct sos_run *s = NULL;
	char *args[4];
	char **env = NULL;
	int rc = DS_OK, uvrc;

	*out = NULL;
	*status = SOS_FAILED;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return DS_ENOMEM;
	s->lim = *lim;
	buf_init(&s->transcript, lim->max_output);
	buf_init(&s->errtext, SOS_STDERR_MAX);
	uv_loop_init(&s->loop);
	uv_pipe_init(&s->loop, &s->in, 0);
	uv_pipe_init(&s->loop, &s->out, 0);
	uv_pipe_init(&s->loop, &s->err, 0);
	uv_timer_init(&s->loop, &s->timer);
	s->open_handles = 4;
	s->in.data = s->out.data = s->err.data = s;
	s->timer.data = s;
	s->deadline_ns = plat_mono_ns() + (uint64_t)lim->dump_timeout_ms * 1000000u;
	if (engine == NULL) {
		*status = SOS_ENGINE_MISSING;
		rc = ds_err_setn(e, DS_EENGINE,
				 "the SOS engine dotnet-dump was not found: run `make deps`, or install it with "
				 "`dotnet tool install -g dotnet-dump` and set engine_path in the config");
		goto out;
	}
	env = sos_env_build();
	args[0] = (char *)engine;
	args[1] = "analyze";
	args[2] = (char *)dump;
	args[3] = NULL;
	memset(&opt, 0, sizeof(opt));
	io[0].flags = UV_CREATE_PIPE | UV_READABLE_PIPE;
	io[0].data.stream = (uv_stream_t *)&s->in;
	io[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	io[1].data.stream = (uv_stream_t *)&s->out;
	io[2].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	io[2].data.stream = (uv_stream_t *)&s->err;
	opt.file = engine;
	opt.args = args;
	opt.env = env;
	opt.stdio = io;
	opt.stdio_count = 3;
	opt.exit_cb = sos_on_exit;
	opt.flags = UV_PROCESS_DETACHED | UV_PROCESS_WINDOWS_HIDE;
	s->proc.data = s;
	uvrc = uv_spawn(&s->loop, &s->proc, &opt);
	if (uvrc != 0) {
		*status = SOS_ENGINE_MISSING;
		rc = ds_err_setn(e, DS_EENGINE, "cannot start the SOS engine %s: %s", engine, uv_strerror(uvrc));
		/* uv_spawn initialised the handle even on failure: it must be closed like the others. */
		s->started = 1;
		s->exited = 1;
		s->open_handles++;
		goto out;
	}
	s->started = 1;
	s->open_handles++;
	s->pid = s->proc.pid;
	uv_read_start((uv_stream_t *)&s->out, sos_alloc, sos_on_read);
	uv_read_start((uv_stream_t *)&s->err, sos_alloc, sos_on_err);
	rc = sos_wait_marker(s, lim->dump_timeout_ms);
	if (rc == DS_OK) {
		*status = SOS_OK;
		s->cmd_start = s->scan_from = s->transcript.len;
		s->marker = 0;
		*out = s;
		s = NULL;
		goto out;
	}
	if (sos_contains(s->transcript.data ? s->transcript.data : "", s->transcript.len, "not supported when running on")) {
		*status = SOS_UNSUPPORTED_HOST;
		rc = ds_err_setn(e, DS_EUNSUPPORTED,
				 "the engine cannot analyze this dump on this OS (a Windows dump needs a Windows host): %s", dump);
	} else if (rc == DS_ETIMEOUT) {
		*status = SOS_TIMEOUT;
		ds_err_setn(e, rc, "the SOS engine did not finish loading %s within %u ms", dump, lim->dump_timeout_ms);
	} else {
		*status = rc == DS_ETOOBIG ? SOS_TOOBIG : SOS_FAILED;
		rc = ds_err_setn(e, rc == DS_ETOOBIG ? DS_ETOOBIG : DS_EENGINE, "the SOS engine failed to open %s: %.160s",
				 dump, s->transcript.len ? s->transcript.data : (s->errtext.data ? s->errtext.data : "no output"));
	}
out:
	sos_env_free(env);
	if (s != NULL) {
		sos_kill(s);
		sos_free(s);
	}
	return rc;
}

int sos_run_cmd(struct sos_run *s, const char *cmd, struct buf *out, int *cmd_failed)
{
	const char *p;
	size_t start, end, nl;
	int rc;

	*cmd_failed = 0;
	if (s->dead || s->exited)
		return s->timed_out ? DS_ETIMEOUT : DS_EENGINE;
	rc = sos_send(s, cmd);
	if (rc != DS_OK)
		goto out;
	s->marker = 0;
	s->cmd_start = s->scan_from = s->transcript.len;
	rc = sos_wait_marker(s, s->lim.cmd_timeout_ms);
	end = rc == DS_OK ? s->marker_at : s->transcript.len;
	start = s->cmd_start;
	p = s->transcript.data;
	/* Drop the echoed "> cmd" line. */
	if (p != NULL && end > start && p[start] == '>') {
		const char *q = memchr(p + start, '\n', end - start);
		nl = q ? (size_t)(q - p) + 1 : end;
		start = nl;
	}
	if (p != NULL && end > start && buf_append(out, p + start, end - start) != DS_OK && rc == DS_OK)
		rc = DS_ETOOBIG;
	if (rc == DS_OK) {
		*cmd_failed = s->marker == 2;
		/* Skip past the marker line for the next command. */
		p = memchr(s->transcript.data + s->marker_at, '\n', s->transcript.len - s->marker_at);
		s->scan_from = p ? (size_t)(p - s->transcript.data) + 1 : s->transcript.len;
		if (*cmd_failed && p != NULL &&
		    sos_contains(s->transcript.data + start, s->marker_at - start, "No CLR runtime found"))
			s->status = SOS_NO_DAC;
	} else {
		s->status = rc == DS_ETIMEOUT ? SOS_TIMEOUT : rc == DS_ETOOBIG ? SOS_TOOBIG : SOS_FAILED;
		sos_kill(s);
	}
out:
	return rc;
}

const char *sos_run_transcript(const struct sos_run *s, size_t *len)
{
	if (len != NULL)
		*len = s->transcript.len;
	return s->transcript.data ? s->transcript.data : "";
}

enum sos_status sos_run_status(const struct sos_run *s)
{
	return s->status;
}

void sos_run_close(struct sos_run *s)
{
	uint64_t until;

	if (s == NULL)
		return;
	if (!s->dead && !s->exited && sos_send(s, "exit") == DS_OK) {
		until = plat_mono_ns() + 5000000000ull;
		uv_timer_start(&s->timer, sos_on_timer, 5000, 0);
		while (!s->exited && !s->timed_out && plat_mono_ns() < until)
			uv_run(&s->loop, UV_RUN_ONCE);
		uv_timer_stop(&s->timer);
	}
	sos_kill(s);
	if (s->started && !s->exited) {
		/* Reap the killed engine so no zombie is left. */
		uv_timer_start(&s->timer, sos_on_timer, 2000, 0);
		while (!s->exited && uv_is_active((uv_handle_t *)&s->timer))
			uv_run(&s->loop, UV_RUN_ONCE);
	}
	sos_free(s);
}
