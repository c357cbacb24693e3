/* heap_run.c - the heap engine's lookup, the DAC's lookup, and one engine process per dump: started with
 * libuv's portable spawn (argv only, no shell), stdout and stderr collected under caps, the process
 * tree killed on a timeout, an output cap or a cancel. It never interprets the output. */
#include "heap_run.h"
#include "triage.h"

#include "core/plat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#define HEAP_STDERR_MAX (64u * 1024u)

static char *join(const char *a, const char *b)
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

static char *try_exe(const char *dir, const char *name)
{
	char *p;

	if (dir == NULL || dir[0] == '\0')
		return NULL;
	p = join(dir, name);
	if (p != NULL && !plat_is_executable(p)) {
		free(p);
		p = NULL;
	}
	return p;
}

static char *search_path(const char *name)
{
	const char *path = getenv("PATH"), *p, *q;
	char sep = plat_path_list_sep(), dir[4096], *found = NULL;
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
		found = try_exe(dir, name);
	}
	return found;
}

char *heap_find_engine(const char *configured)
{
	/* build/dumpscout -> build/engine; an installed tree: PREFIX/bin -> ../libexec/dumpscout */
	static const char *const beside_exe[] = { "engine", ".", "../libexec/dumpscout", "../build/engine" };
	const char *env = getenv("DUMPSCOUT_HEAP_ENGINE"), *given = NULL;
	char exe[64], *dir = NULL, *d, *found = NULL;
	size_t i;

	snprintf(exe, sizeof(exe), "%s%s", HEAP_ENGINE_NAME, plat_exe_suffix());
	if (configured != NULL && configured[0] != '\0')
		given = configured;
	else if (env != NULL && env[0] != '\0')
		given = env;
	if (given != NULL) {
		/* an explicit choice is used as given, or not at all */
		found = plat_is_executable(given) ? strdup(given) : NULL;
		goto out;
	}
	dir = plat_exe_dir();
	for (i = 0; dir != NULL && found == NULL && i < DS_ARRAY_LEN(beside_exe); i++) {
		d = join(dir, beside_exe[i]);
		found = d != NULL ? try_exe(d, exe) : NULL;
		free(d);
	}
	if (found == NULL)
		found = try_exe("build/engine", exe);
	if (found == NULL)
		found = search_path(exe);
out:
	free(dir);
	return found;
}

const char *heap_dac_name(void)
{
	return plat_dac_name();
}

static int file_there(const char *p)
{
	struct plat_stat st;

	return p != NULL && plat_lstat(p, &st) == DS_OK && (st.is_regular || st.is_symlink);
}

/* dir/a[/b[/c]]/DAC if it is there (malloc'd), else NULL. */
static char *dac_in(const char *dir, const char *a, const char *b, const char *c)
{
	char path[4096];
	int n;

	if (dir == NULL || dir[0] == '\0')
		return NULL;
	n = snprintf(path, sizeof(path), "%s%s%s%s%s%s%s/%s", dir, a ? "/" : "", a ? a : "", b ? "/" : "", b ? b : "",
		c ? "/" : "", c ? c : "", heap_dac_name());
	if (n <= 0 || (size_t)n >= sizeof(path) || !file_there(path))
		return NULL;
	return strdup(path);
}

/* A version that can be a folder name: digits, letters, '.', '-', '+'; nothing that climbs folders. */
static int version_ok(const char *v)
{
	size_t i;

	if (v == NULL || v[0] == '\0' || v[0] == '.' || strlen(v) > 40)
		return 0;
	for (i = 0; v[i]; i++)
		if (!((v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') ||
		      v[i] == '.' || v[i] == '-' || v[i] == '+'))
			return 0;
	return strstr(v, "..") == NULL;
}

int heap_find_dac(const char *version, const char *runtime_dir, const char *const *dac_dirs, size_t ndac_dirs,
	char **path, char *why, size_t whysz)
{
	static const char *const roots[] = { "/usr/share/dotnet", "/usr/lib/dotnet", "/usr/local/share/dotnet",
		"/usr/lib64/dotnet", "/opt/dotnet", "C:/Program Files/dotnet" };
	const char *v, *env = getenv("DOTNET_ROOT");
	char product[48];
	char *home = NULL, *homedot = NULL, *exe = NULL, *tools = NULL, *found = NULL;
	size_t i;
	int rc = DS_OK;

	*path = NULL;
	/* a Windows dump or createdump's crash report gives coreclr's file version; folders use the product's */
	if (triage_product_version(version, product, sizeof(product)))
		version = product;
	v = version_ok(version) ? version : NULL;
	/* 1. the folder the dump's runtime was loaded from, when this machine has it */
	found = dac_in(runtime_dir, NULL, NULL, NULL);
	/* 2. the installed shared runtime of exactly this version */
	if (found == NULL && v != NULL) {
		found = dac_in(env, "shared/Microsoft.NETCore.App", v, NULL);
		for (i = 0; found == NULL && i < DS_ARRAY_LEN(roots); i++)
			found = dac_in(roots[i], "shared/Microsoft.NETCore.App", v, NULL);
		if (found == NULL && (home = plat_home_dir()) != NULL && (homedot = join(home, ".dotnet")) != NULL)
			found = dac_in(homedot, "shared/Microsoft.NETCore.App", v, NULL);
		if (found == NULL && (exe = plat_exe_dir()) != NULL && (tools = join(exe, "../.tools/dotnet")) != NULL)
			found = dac_in(tools, "shared/Microsoft.NETCore.App", v, NULL);
		if (found == NULL)
			found = dac_in(".tools/dotnet", "shared/Microsoft.NETCore.App", v, NULL);
	}
	/* 3. the configured folders */
	for (i = 0; found == NULL && i < ndac_dirs; i++) {
		found = dac_in(dac_dirs[i], NULL, NULL, NULL);
		if (found == NULL && v != NULL)
			found = dac_in(dac_dirs[i], v, NULL, NULL);
		if (found == NULL && v != NULL)
			found = dac_in(dac_dirs[i], "shared/Microsoft.NETCore.App", v, NULL);
	}
	if (found != NULL) {
		*path = found;
		goto out;
	}
	rc = DS_ENOENT;
	snprintf(why, whysz,
		"no DAC for .NET runtime %s: %s of exactly that version is not on this machine (looked in %s%s%sthe "
		"installed shared runtimes under DOTNET_ROOT, /usr/share/dotnet, /usr/lib/dotnet, ~/.dotnet and "
		".tools/dotnet, and the %zu folder%s of analysis.dac_dirs). Install that runtime version (the "
		"dotnet-runtime package of version %s, or dotnet-install.sh --runtime dotnet --version %s), or copy "
		"%s from the crashed machine's runtime folder into a folder listed in analysis.dac_dirs",
		v ? v : "(version unknown)", heap_dac_name(), runtime_dir ? "the dump's runtime folder " : "",
		runtime_dir ? runtime_dir : "", runtime_dir ? ", " : "", ndac_dirs, ndac_dirs == 1 ? "" : "s",
		v ? v : "X.Y.Z", v ? v : "X.Y.Z", heap_dac_name());
out:
	free(home);
	free(homedot);
	free(exe);
	free(tools);
	return rc;
}

/* ---- the process ---- */

struct proc {
	uv_loop_t loop;
	uv_process_t p;
	uv_pipe_t in, out, err;
	uv_timer_t timer;
	struct heap_proc_result *r;
	const volatile int *cancel;
	uint64_t deadline_ns;
	int pid, started, open_handles, reads_open;
};

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	(void)h;
	if (suggested > 65536)
		suggested = 65536;
	b->base = malloc(suggested);
	b->len = b->base ? suggested : 0;
}

static void proc_kill(struct proc *s)
{
	if (s->started && !s->r->exited)
		plat_kill_tree(s->pid);
}

static void on_out(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
	struct proc *s = st->data;

	if (n > 0 && !s->r->too_big && buf_append(&s->r->out, b->base, (size_t)n) != DS_OK) {
		s->r->too_big = 1;
		proc_kill(s);
	} else if (n < 0) {
		uv_read_stop(st);
		s->reads_open--;
	}
	free(b->base);
}

static void on_err(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
	struct proc *s = st->data;

	if (n > 0)
		(void)buf_append(&s->r->err, b->base, (size_t)n); /* past the cap stderr is dropped */
	else if (n < 0) {
		uv_read_stop(st);
		s->reads_open--;
	}
	free(b->base);
}

static void on_exit_cb(uv_process_t *p, int64_t status, int sig)
{
	struct proc *s = p->data;

	s->r->exited = 1;
	s->r->exit_status = status;
	s->r->term_signal = sig;
}

static void on_timer(uv_timer_t *t)
{
	struct proc *s = t->data;

	int stop = 0;

	if (s->cancel != NULL && *s->cancel) {
		s->r->cancelled = stop = 1;
	} else if (plat_mono_ns() >= s->deadline_ns) {
		s->r->timed_out = stop = 1;
	}
	if (!stop)
		return;
	proc_kill(s);
	if (s->r->exited && s->reads_open > 0) {
		/* the process is gone but something it started keeps the pipes open: stop reading */
		uv_read_stop((uv_stream_t *)&s->out);
		uv_read_stop((uv_stream_t *)&s->err);
		s->reads_open = 0;
	}
}

static void on_close(uv_handle_t *h)
{
	struct proc *s = h->data;

	s->open_handles--;
}

static void close_handle(struct proc *s, uv_handle_t *h)
{
	if (!uv_is_closing(h)) {
		h->data = s;
		uv_close(h, on_close);
	}
}

static char **env_build(void)
{
	static const char *const add[] = { "DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1", "DOTNET_CLI_TELEMETRY_OPTOUT=1",
		"DOTNET_NOLOGO=1" };
	uv_env_item_t *items = NULL;
	int count = 0, i, j, k = 0, skip;
	char **env;

	if (uv_os_environ(&items, &count) != 0)
		count = 0;
	env = calloc((size_t)count + DS_ARRAY_LEN(add) + 1, sizeof(*env));
	for (i = 0; env != NULL && i < count; i++) {
		size_t n = strlen(items[i].name);

		for (skip = 0, j = 0; j < (int)DS_ARRAY_LEN(add); j++)
			if (strncmp(add[j], items[i].name, n) == 0 && add[j][n] == '=')
				skip = 1;
		if (skip || (env[k] = malloc(n + strlen(items[i].value) + 2)) == NULL)
			continue;
		sprintf(env[k], "%s=%s", items[i].name, items[i].value);
		k++;
	}
	for (j = 0; env != NULL && j < (int)DS_ARRAY_LEN(add); j++)
		if ((env[k] = strdup(add[j])) != NULL)
			k++;
	if (items != NULL)
		uv_os_free_environ(items, count);
	return env;
}

static void env_free(char **env)
{
	size_t i;

	for (i = 0; env != NULL && env[i] != NULL; i++)
		free(env[i]);
	free(env);
}

int heap_run_process(char *const *argv, int dump_fd, uint32_t timeout_ms, size_t max_output,
	const volatile int *cancel, struct heap_proc_result *r, struct ds_err *e)
{
	uv_process_options_t opt;
	uv_stdio_container_t io[HEAP_CHILD_DUMP_FD + 1];
	struct proc *s;
	char **env = NULL;
	int rc = DS_OK, uvrc;

	memset(r, 0, sizeof(*r));
	buf_init(&r->out, max_output);
	buf_init(&r->err, HEAP_STDERR_MAX);
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return DS_ENOMEM;
	s->r = r;
	s->cancel = cancel;
	s->deadline_ns = plat_mono_ns() + (uint64_t)timeout_ms * 1000000u;
	uv_loop_init(&s->loop);
	uv_pipe_init(&s->loop, &s->in, 0);
	uv_pipe_init(&s->loop, &s->out, 0);
	uv_pipe_init(&s->loop, &s->err, 0);
	uv_timer_init(&s->loop, &s->timer);
	s->open_handles = 4;
	s->in.data = s->out.data = s->err.data = s->timer.data = s;
	env = env_build();
	memset(&opt, 0, sizeof(opt));
	/* the parent-death pipe: the child reads it, nobody writes; it ends when this process does */
	io[0].flags = UV_CREATE_PIPE | UV_READABLE_PIPE;
	io[0].data.stream = (uv_stream_t *)&s->in;
	io[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	io[1].data.stream = (uv_stream_t *)&s->out;
	io[2].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	io[2].data.stream = (uv_stream_t *)&s->err;
	opt.file = argv[0];
	opt.args = (char **)argv;
	opt.env = env;
	opt.stdio = io;
	opt.stdio_count = 3;
	if (dump_fd >= 0) {
		io[HEAP_CHILD_DUMP_FD].flags = UV_INHERIT_FD;
		io[HEAP_CHILD_DUMP_FD].data.fd = dump_fd;
		opt.stdio_count = HEAP_CHILD_DUMP_FD + 1;
	}
	opt.exit_cb = on_exit_cb;
	/* POSIX: its own session, so plat_kill_tree ends the group; Windows: not detached, so libuv puts it in
	 * its kill-on-close job object and it ends with this process */
	opt.flags = UV_PROCESS_WINDOWS_HIDE | (plat_spawn_detach() ? UV_PROCESS_DETACHED : 0);
	s->p.data = s;
	uvrc = uv_spawn(&s->loop, &s->p, &opt);
	s->open_handles++;
	s->started = 1;
	if (uvrc != 0) {
		r->exited = 1;
		rc = ds_err_setn(e, DS_EENGINE, "cannot start the heap engine %s: %s", argv[0], uv_strerror(uvrc));
		goto out;
	}
	s->pid = s->p.pid;
	s->reads_open = 2;
	uv_read_start((uv_stream_t *)&s->out, on_alloc, on_out);
	uv_read_start((uv_stream_t *)&s->err, on_alloc, on_err);
	uv_timer_start(&s->timer, on_timer, 200, 200);
	/* until the process has exited and both pipes are drained (a killed process closes them too) */
	while (!r->exited || s->reads_open > 0)
		uv_run(&s->loop, UV_RUN_ONCE);
	uv_timer_stop(&s->timer);
out:
	close_handle(s, (uv_handle_t *)&s->in);
	close_handle(s, (uv_handle_t *)&s->out);
	close_handle(s, (uv_handle_t *)&s->err);
	close_handle(s, (uv_handle_t *)&s->timer);
	close_handle(s, (uv_handle_t *)&s->p);
	while (s->open_handles > 0)
		uv_run(&s->loop, UV_RUN_ONCE);
	uv_loop_close(&s->loop);
	env_free(env);
	free(s);
	return rc;
}

void heap_proc_result_free(struct heap_proc_result *r)
{
	if (r == NULL)
		return;
	buf_free(&r->out);
	buf_free(&r->err);
	memset(r, 0, sizeof(*r));
}
