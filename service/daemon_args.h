/* daemon_args.h - dumpscoutd's command line, shared by the POSIX and Windows entry points: options are
 * parsed once here, and the one-shot modes (--mail-test, --send-outbox) run from here. What each entry
 * point does with the rest (systemd foreground, service control manager) stays in main_posix.c and
 * main_win.c. */
#ifndef DS_DAEMON_ARGS_H
#define DS_DAEMON_ARGS_H

#include "core/log.h"

struct daemon_args {
	const char *config;   /* --config FILE, or NULL */
	const char *db;       /* --db PATH (with --send-outbox), or NULL */
	const char *level;    /* --log-level as given, or NULL */
	enum log_level lvl;   /* parsed --log-level (valid when level != NULL) */
	int help, version, check, console, mail_test, send_outbox;
};

/* Parses argv. allow_console accepts --console (Windows). On a bad option or value it prints the
 * reason to stderr and returns DS_EINVAL (the caller prints its usage and exits 2). Not thread-safe. */
int daemon_args_parse(int argc, char **argv, int allow_console, struct daemon_args *a);

/* Runs --mail-test or --send-outbox when one was asked for and returns its exit code through *code;
 * returns 1 if a one-shot mode ran, 0 if none was asked for. */
int daemon_args_oneshot(const struct daemon_args *a, int *code);

#endif
