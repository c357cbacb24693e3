/* service_tool.c - runs dumpscoutd for the CLI commands whose work belongs to the service's binary
 * (sending mail: only dumpscoutd links the SMTP transport). It finds dumpscoutd beside the running
 * dumpscout, starts it with an argument vector (no shell) and the same standard streams, and returns
 * its exit code. */
#include "cli.h"
#include "core/plat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

struct service_tool_wait {
	int64_t status;
	int signal;
	int done;
};

static void service_tool_exit(uv_process_t *p, int64_t status, int sig)
{
	struct service_tool_wait *w = p->data;

	w->status = status;
	w->signal = sig;
	w->done = 1;
	uv_close((uv_handle_t *)p, NULL);
}

int cli_run_service_tool(const char *cmd, const char *const *args)
{
	uv_process_options_t opt;
	uv_stdio_container_t io[3];
	struct service_tool_wait w = { 0, 0, 0 };
	uv_process_t proc;
	uv_loop_t loop;
	char *dir = plat_exe_dir(), *path = NULL, **argv = NULL;
	size_t n = 0, i, len;
	int rc, code = DS_EXIT_FAIL;

	while (args[n] != NULL)
		n++;
	len = (dir ? strlen(dir) : 1) + strlen("/dumpscoutd") + strlen(plat_exe_suffix()) + 1;
	path = malloc(len);
	argv = calloc(n + 2, sizeof(*argv));
	if (path == NULL || argv == NULL)
		goto out;
	snprintf(path, len, "%s/dumpscoutd%s", dir ? dir : ".", plat_exe_suffix());
	if (!plat_is_executable(path)) {
		cli_error(cmd, "%s is missing: this command runs the service's program, which sends the mail "
			       "(install both binaries side by side)", path);
		goto out;
	}
	argv[0] = path;
	for (i = 0; i < n; i++)
		argv[i + 1] = (char *)args[i];
	memset(&opt, 0, sizeof(opt));
	for (i = 0; i < 3; i++) {
		io[i].flags = UV_INHERIT_FD;
		io[i].data.fd = (int)i;
	}
	opt.file = path;
	opt.args = argv;
	opt.stdio = io;
	opt.stdio_count = 3;
	opt.exit_cb = service_tool_exit;
	uv_loop_init(&loop);
	proc.data = &w;
	rc = uv_spawn(&loop, &proc, &opt);
	if (rc != 0) {
		cli_error(cmd, "cannot start %s: %s", path, uv_strerror(rc));
		uv_close((uv_handle_t *)&proc, NULL);
	}
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	if (rc == 0 && w.done)
		code = w.signal != 0 ? DS_EXIT_FAIL : (int)w.status;
out:
	free(argv);
	free(path);
	free(dir);
	return code;
}
