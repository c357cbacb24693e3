/* main_win.c - the dumpscoutd program on Windows: a service under the service control manager
 * (StartServiceCtrlDispatcherW; stop, shutdown and pre-shutdown stop the daemon's loop with
 * STOP_PENDING checkpoints, then STOPPED), or, with --console, the same service in a console for
 * debugging. Sets up what is Windows-specific - %ProgramData%\dumpscout, its folders' ACLs, the rotating
 * log file, the Event Log, WER LocalDumps - and then runs daemon.c's loop, which does the work. */
#include "lib/config.h"
#include "daemon.h"
#include "daemon_args.h"
#include "lib/svcctl.h"
#include "lib/wer.h"

#include "core/ds.h"
#include "core/log.h"
#include "core/plat.h"
#include "core/win.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h> /* before windows.h */
#include <windows.h>

#define MAIN_POOL_EXTRA 3           /* pool threads beside the analyses, as on Linux */
#define MAIN_LOG_FILE "dumpscoutd.log"
#define MAIN_LOG_MAX (4u << 20)     /* rotate past 4 MiB */
#define MAIN_LOG_KEEP 3             /* dumpscoutd.log.1 .. .3 */
#define MAIN_START_HINT_MS 30000
#define MAIN_STOP_HINT_MS (DAEMON_STOP_GRACE_MS + 5000)

/* Where log lines go besides stderr: the rotating file and, in service mode, the Event Log. */
struct main_log {
	uv_mutex_t lock;
	char *path;
	char *rotated[MAIN_LOG_KEEP];
	uint64_t size;
	int eventlog;
	int broken; /* the file could not be written: stop trying until the next rotation */
};

/* The service's state as the SCM sees it; status reports are serialised by `lock`. */
struct main_svc {
	SERVICE_STATUS_HANDLE handle;
	SERVICE_STATUS status;
	uv_mutex_t lock;
	uv_thread_t ticker;
	int ticker_started;
	atomic_int stopping;
	atomic_int done;
};

static struct main_log main_log;
static struct main_svc main_svc;
static const char *main_cfgpath, *main_level;

static void main_usage(FILE *f)
{
	fprintf(f,
		"usage: dumpscoutd [--console] [--config FILE] [--check-config] [--log-level LEVEL]\n"
		"       dumpscoutd --config FILE --mail-test | --send-outbox [--db PATH]\n"
		"       dumpscoutd --help | --version\n\n"
		"The dumpscout service. Started by the service control manager (install it with the MSI or\n"
		"'dumpscout service install'); --console runs it in this console instead (Ctrl+C stops it).\n"
		"It applies the WER LocalDumps settings of its config, watches the dump folders, records every\n"
		"complete dump in the database, triages it and queues .NET heap dumps for SOS analysis.\n\n"
		"  --console          run in the console, not as a service\n"
		"  --config FILE      the JSON configuration (default %%ProgramData%%\\dumpscout\\dumpscout.json)\n"
		"  --check-config     check the configuration, print problems, and exit (0 ok, 2 problems)\n"
		"  --log-level LEVEL  error, warn, info or debug (overrides the config's log_level)\n\n"
		"Logs: %%ProgramData%%\\dumpscout\\logs\\dumpscoutd.log and the Application event log (source\n"
		"'dumpscout'). Every configuration key: docs/service.md; Windows specifics: docs/windows.md.\n");
}

/* ---- logging ---- */

static void main_log_rotate(struct main_log *l)
{
	int i;

	plat_unlink(l->rotated[MAIN_LOG_KEEP - 1]);
	for (i = MAIN_LOG_KEEP - 1; i > 0; i--)
		plat_rename(l->rotated[i - 1], l->rotated[i]);
	plat_rename(l->path, l->rotated[0]);
	l->size = 0;
	l->broken = 0;
}

static void main_log_sink(enum log_level lvl, const char *component, const char *line, size_t len,
			  const char *msg, void *ctx)
{
	struct main_log *l = ctx;
	char text[2048];
	size_t n;

	uv_mutex_lock(&l->lock);
	if (l->size + len > MAIN_LOG_MAX)
		main_log_rotate(l);
	if (!l->broken) {
		/* Windows tools expect CRLF in a text file */
		n = len > 0 && line[len - 1] == '\n' ? len - 1 : len;
		if (plat_append_file(l->path, line, n) != DS_OK || plat_append_file(l->path, "\r\n", 2) != DS_OK)
			l->broken = 1;
		else
			l->size += n + 2;
	}
	uv_mutex_unlock(&l->lock);
	/* The Event Log gets errors, warnings and the service's own start and stop lines. */
	if (l->eventlog && (lvl <= LOG_WARN || strcmp(component, "service") == 0)) {
		snprintf(text, sizeof(text), "%s: %s", component, msg);
		n = strlen(text);
		if (n > 0 && text[n - 1] == '\n')
			text[n - 1] = '\0';
		win_evlog_write(SVCCTL_EVENT_SOURCE, lvl == LOG_ERROR ? 0 : lvl == LOG_WARN ? 1 : 2, text);
	}
}

static int main_log_open(struct main_log *l, const char *data_dir, int eventlog)
{
	struct plat_stat st;
	char *logs, name[64];
	int i;

	logs = svcctl_join(data_dir, "logs");
	l->path = logs != NULL ? svcctl_join(logs, MAIN_LOG_FILE) : NULL;
	for (i = 0; l->path != NULL && i < MAIN_LOG_KEEP; i++) {
		snprintf(name, sizeof(name), "%s.%d", MAIN_LOG_FILE, i + 1);
		l->rotated[i] = svcctl_join(logs, name);
		if (l->rotated[i] == NULL) {
			free(logs);
			return DS_ENOMEM;
		}
	}
	free(logs);
	if (l->path == NULL)
		return DS_ENOMEM;
	l->size = plat_lstat(l->path, &st) == DS_OK ? st.size : 0;
	l->eventlog = eventlog;
	uv_mutex_init(&l->lock);
	log_set_sink(main_log_sink, l);
	return DS_OK;
}

static void main_log_close(struct main_log *l)
{
	int i;

	if (l->path == NULL)
		return;
	log_set_sink(NULL, NULL);
	uv_mutex_destroy(&l->lock);
	free(l->path);
	for (i = 0; i < MAIN_LOG_KEEP; i++)
		free(l->rotated[i]);
	memset(l, 0, sizeof(*l));
}

/* ---- service control manager ---- */

/* Reports a state; checkpoints only count up while a state is pending. */
static void main_svc_report(DWORD state, DWORD exit_code, DWORD wait_hint)
{
	struct main_svc *s = &main_svc;

	if (s->handle == NULL)
		return;
	uv_mutex_lock(&s->lock);
	s->status.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
	s->status.dwCurrentState = state;
	s->status.dwControlsAccepted =
		state == SERVICE_RUNNING ? SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN | SERVICE_ACCEPT_PRESHUTDOWN : 0;
	if (exit_code != 0) {
		s->status.dwWin32ExitCode = ERROR_SERVICE_SPECIFIC_ERROR;
		s->status.dwServiceSpecificExitCode = exit_code;
	} else {
		s->status.dwWin32ExitCode = NO_ERROR;
		s->status.dwServiceSpecificExitCode = 0;
	}
	s->status.dwWaitHint = wait_hint;
	if (state == SERVICE_RUNNING || state == SERVICE_STOPPED)
		s->status.dwCheckPoint = 0;
	else
		s->status.dwCheckPoint++;
	SetServiceStatus(s->handle, &s->status);
	uv_mutex_unlock(&s->lock);
}

/* While the daemon winds down, tell the SCM every second that the stop is progressing. */
static void main_svc_ticker(void *arg)
{
	int ms = 0;

	(void)arg;
	while (!atomic_load(&main_svc.done)) {
		uv_sleep(100);
		ms += 100;
		if (ms % 1000 == 0 && !atomic_load(&main_svc.done))
			main_svc_report(SERVICE_STOP_PENDING, 0, MAIN_STOP_HINT_MS);
	}
}

static void main_svc_stop(const char *why)
{
	if (atomic_exchange(&main_svc.stopping, 1))
		return; /* pre-shutdown, then shutdown: one stop is enough */
	log_info("service", "%s: stopping", why);
	main_svc_report(SERVICE_STOP_PENDING, 0, MAIN_STOP_HINT_MS);
	if (uv_thread_create(&main_svc.ticker, main_svc_ticker, NULL) == 0)
		main_svc.ticker_started = 1;
	daemon_request_stop();
}

static DWORD WINAPI main_svc_handler(DWORD control, DWORD type, LPVOID data, LPVOID ctx)
{
	(void)type;
	(void)data;
	(void)ctx;
	switch (control) {
	case SERVICE_CONTROL_STOP:
		main_svc_stop("stop requested by the service control manager");
		return NO_ERROR;
	case SERVICE_CONTROL_PRESHUTDOWN:
		main_svc_stop("the system is shutting down (pre-shutdown)");
		return NO_ERROR;
	case SERVICE_CONTROL_SHUTDOWN:
		main_svc_stop("the system is shutting down");
		return NO_ERROR;
	case SERVICE_CONTROL_INTERROGATE:
		return NO_ERROR;
	default:
		return ERROR_CALL_NOT_IMPLEMENTED;
	}
}

static void main_on_ready(void *ctx)
{
	int service = ctx != NULL;

	log_info("service", "dumpscoutd %s running%s", DS_VERSION, service ? " as a service" : " in the console");
	if (service)
		main_svc_report(SERVICE_RUNNING, 0, 0);
}

/* ---- the service body, in either mode ---- */

/* Copies the default configuration installed beside the programs into the data folder when there
 * is none yet, so the file to edit is in one known place and survives reinstalling. */
static void main_seed_config(const char *data)
{
	char *dir = plat_exe_dir(), *src = NULL, *dst = NULL, *text = NULL;
	struct plat_stat st;
	size_t len;

	if (dir == NULL)
		return;
	src = svcctl_join(dir, SVCCTL_DEFAULT_CONFIG);
	dst = svcctl_join(data, SVCCTL_CONFIG_FILE);
	if (src != NULL && dst != NULL && plat_lstat(dst, &st) != DS_OK &&
	    plat_read_file(src, CONFIG_MAX_FILE, &text, &len) == DS_OK)
		plat_write_file_atomic(dst, text, len, 0600);
	free(text);
	free(src);
	free(dst);
	free(dir);
}

static int main_body(int service)
{
	struct config cfg, boot;
	struct ds_err e = { 0 };
	enum log_level lvl = LOG_INFO;
	char *data = NULL, *saved = NULL, pool[16];
	int code = DS_EXIT_FAIL, rc;

	memset(&cfg, 0, sizeof(cfg));
	memset(&boot, 0, sizeof(boot));
	if (main_level != NULL)
		log_level_parse(main_level, &lvl);
	data = svcctl_data_dir();
	if (data == NULL) {
		log_error("service", "cannot find the ProgramData folder (SHGetFolderPathW(CSIDL_COMMON_APPDATA))");
		goto out;
	}
	/* The default data folder first: it holds the config file, and the log until the config is read. */
	if (config_set_default_data_dir(data) != DS_OK || config_defaults(&boot) != DS_OK) {
		log_error("service", "out of memory");
		goto out;
	}
	if (svcctl_prepare_folders(&boot, &e) != DS_OK) {
		log_error("service", "%s", e.msg);
		goto out;
	}
	main_log_open(&main_log, data, service);
	if (main_cfgpath == NULL)
		main_seed_config(data);
	main_svc_report(SERVICE_START_PENDING, 0, MAIN_START_HINT_MS);
	if (svcctl_config_load(main_cfgpath, &cfg, &e) != DS_OK) {
		log_error("service", "cannot start: %s", e.msg);
		code = ds_exit_code(e.code);
		goto out;
	}
	log_set_level(main_level != NULL ? lvl : cfg.log_level);
	log_info("service", "dumpscoutd %s starting (%s; config %s; data %s)", DS_VERSION,
		 service ? "service, LocalSystem" : "console", cfg.file != NULL ? cfg.file : "built-in defaults",
		 cfg.data_dir);
	if (svcctl_prepare_folders(&cfg, &e) != DS_OK) { /* its data and dump folders, if elsewhere */
		log_error("service", "cannot start: %s", e.msg);
		goto out;
	}
	if (service) {
		/* The MSI cannot set failure actions: the service sets its own restart policy. */
		struct win_svc_spec spec = { SVCCTL_NAME, SVCCTL_DISPLAY, SVCCTL_DESCRIPTION, "",
					      SVCCTL_RESTART_DELAY_MS };

		win_svc_configure(&spec);
	}
	main_svc_report(SERVICE_START_PENDING, 0, MAIN_START_HINT_MS);
	if (cfg.wer_apply) {
		saved = svcctl_join(data, WER_SAVED_FILE);
		rc = saved != NULL ? wer_apply(&cfg, saved, NULL, &e) : ds_err_setn(&e, DS_ENOMEM, "out of memory");
		if (rc != DS_OK)
			log_error("wer", "LocalDumps not applied: %s (dumps may not be written; 'dumpscout wer status')",
				  e.msg);
		else
			log_info("wer", "LocalDumps applied: DumpType %u, DumpCount %u, %zu application subkey(s)",
				 (unsigned)cfg.wer_dump_type, (unsigned)cfg.wer_dump_count, cfg.nwer_apps);
	}
	main_svc_report(SERVICE_START_PENDING, 0, MAIN_START_HINT_MS);
	/* Size libuv's pool before it starts: analyses block a thread each (see main_posix.c). */
	snprintf(pool, sizeof(pool), "%u", cfg.concurrency + MAIN_POOL_EXTRA + (cfg.mail != NULL));
	uv_os_setenv("UV_THREADPOOL_SIZE", pool);
	daemon_set_ready_hook(main_on_ready, service ? &main_svc : NULL);
	code = daemon_run(&cfg);
	log_info("service", "dumpscoutd stopped (exit code %d)", code);
out:
	free(saved);
	free(data);
	config_free(&boot);
	config_free(&cfg);
	return code;
}

static void WINAPI main_svc_main(DWORD argc, LPWSTR *argv)
{
	int code;

	(void)argc;
	(void)argv;
	uv_mutex_init(&main_svc.lock);
	main_svc.handle = RegisterServiceCtrlHandlerExW(L"" SVCCTL_NAME, main_svc_handler, NULL);
	if (main_svc.handle == NULL)
		return;
	main_svc_report(SERVICE_START_PENDING, 0, MAIN_START_HINT_MS);
	code = main_body(1);
	atomic_store(&main_svc.done, 1);
	if (main_svc.ticker_started)
		uv_thread_join(&main_svc.ticker);
	main_log_close(&main_log);
	main_svc_report(SERVICE_STOPPED, (DWORD)code, 0);
}

int main(int argc, char **argv)
{
	SERVICE_TABLE_ENTRYW table[] = { { (LPWSTR)L"" SVCCTL_NAME, main_svc_main }, { NULL, NULL } };
	struct config cfg;
	struct daemon_args args;
	int console = 0, check = 0, code = DS_EXIT_OK;

	memset(&cfg, 0, sizeof(cfg));
	if (plat_args_utf8(&argc, &argv) != DS_OK) {
		fprintf(stderr, "dumpscoutd: cannot read the command line\n");
		return DS_EXIT_FAIL;
	}
	if (daemon_args_parse(argc, argv, 1, &args) != DS_OK) {
		main_usage(stderr);
		code = DS_EXIT_BADINPUT;
		goto out;
	}
	if (args.help || args.version) {
		if (args.help)
			main_usage(stdout);
		else
			printf("dumpscoutd %s\n", DS_VERSION);
		goto out;
	}
	main_cfgpath = args.config;
	main_level = args.level;
	console = args.console;
	check = args.check;
	if (daemon_args_oneshot(&args, &code))
		goto out;
	if (check) {
		struct ds_err e = { 0 };

		if (svcctl_config_load(main_cfgpath, &cfg, &e) != DS_OK) {
			printf("%s\n", e.msg);
			code = ds_exit_code(e.code) == DS_EXIT_OK ? DS_EXIT_BADINPUT : ds_exit_code(e.code);
		} else {
			printf("%s: ok\n", cfg.file != NULL ? cfg.file : "built-in defaults");
		}
		goto out;
	}
	if (console) {
		code = main_body(0);
		main_log_close(&main_log);
		goto out;
	}
	if (!StartServiceCtrlDispatcherW(table)) {
		if (GetLastError() == ERROR_FAILED_SERVICE_CONTROLLER_CONNECT)
			fprintf(stderr, "dumpscoutd: not started by the service control manager: start the service with "
					"'dumpscout service start' (or 'net start dumpscout'), or run 'dumpscoutd --console'\n");
		else
			fprintf(stderr, "dumpscoutd: StartServiceCtrlDispatcher failed (error %lu)\n",
				(unsigned long)GetLastError());
		code = DS_EXIT_FAIL;
	}
out:
	config_free(&cfg);
	return code;
}
