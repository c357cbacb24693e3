/* main_posix.c - the dumpscoutd program on Linux and other POSIX systems: options, configuration,
 * logging set-up, then the daemon's loop in the foreground (systemd supervises it; no forking, no pid
 * file). The service itself is in daemon.c. */
#include "lib/config.h"
#include "daemon.h"
#include "daemon_args.h"

#include "core/ds.h"
#include "core/log.h"
#include "core/plat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#define QUEUE_POOL_EXTRA 3 /* pool threads beside the analyses: two triage jobs and libuv's own fs work */

static void main_usage(FILE *f)
{
	fprintf(f,
		"usage: dumpscoutd [--config FILE] [--check-config] [--log-level LEVEL]\n"
		"       dumpscoutd --config FILE --mail-test | --send-outbox [--db PATH]\n"
		"       dumpscoutd --help | --version\n\n"
		"The dumpscout service: watches the dump folders, records every complete dump in the database,\n"
		"triages it natively and queues .NET heap dumps for SOS analysis. Runs in the foreground and logs\n"
		"to stderr; SIGTERM or SIGINT stop it cleanly.\n\n"
		"  --config FILE      the JSON configuration (default " CONFIG_DEFAULT_PATH " if it exists,\n"
		"                     else built-in defaults: data in " CONFIG_DEFAULT_DATA_DIR ")\n"
		"  --check-config     check the configuration, print problems, and exit (0 ok, 2 problems)\n"
		"  --log-level LEVEL  error, warn, info or debug (overrides the config's log_level)\n"
		"  --mail-test        send a test message now and exit (what `dumpscout mail test` runs)\n"
		"  --send-outbox      deliver the mail that is due now and exit (`dumpscout report --send`)\n\n"
		"Every configuration key and its default: docs/service.md.\n");
}

int main(int argc, char **argv)
{
	struct daemon_args a;
	const char *cfgpath;
	struct config cfg;
	struct plat_stat st;
	struct ds_err e = { 0 };
	char pool[16];
	int code = DS_EXIT_OK;
	const char *js;

	memset(&cfg, 0, sizeof(cfg));
	if (daemon_args_parse(argc, argv, 0, &a) != DS_OK) {
		main_usage(stderr);
		code = DS_EXIT_BADINPUT;
		goto out;
	}
	if (a.help || a.version) {
		if (a.help)
			main_usage(stdout);
		else
			printf("dumpscoutd %s\n", DS_VERSION);
		goto out;
	}
	cfgpath = a.config;
	if (cfgpath == NULL && plat_lstat(CONFIG_DEFAULT_PATH, &st) == DS_OK)
		cfgpath = CONFIG_DEFAULT_PATH;
	a.config = cfgpath;
	if (daemon_args_oneshot(&a, &code))
		goto out;
	if (a.check) {
		if (cfgpath == NULL) {
			printf("no configuration file (" CONFIG_DEFAULT_PATH " does not exist): built-in defaults apply\n");
			goto out;
		}
		code = config_check(cfgpath, stdout);
		goto out;
	}
	/* Under systemd, stderr goes to the journal, which stamps the time and reads "<N>" priorities. */
	js = getenv("JOURNAL_STREAM");
	log_set_journal(js != NULL && js[0] != '\0');
	if (config_load(cfgpath, &cfg, &e) != DS_OK) {
		log_error("dumpscoutd", "%s", e.msg);
		code = ds_exit_code(e.code);
		goto out;
	}
	log_set_level(a.level != NULL ? a.lvl : cfg.log_level);
	/* SOS analyses block a pool thread each for as long as the engine runs: size the pool so triage
	 * never waits behind them (nor behind a mail delivery round, which may block for mail.timeout_s).
	 * Must happen before libuv starts its pool. */
	snprintf(pool, sizeof(pool), "%u", cfg.concurrency + QUEUE_POOL_EXTRA + (cfg.mail != NULL));
	uv_os_setenv("UV_THREADPOOL_SIZE", pool);
	code = daemon_run(&cfg);
out:
	config_free(&cfg);
	return code;
}
