/* cli.h - the commands of the `dumpscout` tool. Each command lives in cli/cmd_NAME.c as
 * `int cmd_NAME(int argc, char **argv)` (argv[0] is the command name) and returns an exit code
 * (0 ok, 1 operational failure, 2 bad input or arguments). main.c only dispatches. */
#ifndef DS_CLI_H
#define DS_CLI_H

#include "core/ds.h"

#include <stdio.h>

struct cli_command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

int cmd_inspect(int argc, char **argv);
int cmd_analyze(int argc, char **argv);
int cmd_mail(int argc, char **argv);
int cmd_collect(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_buckets(int argc, char **argv);
int cmd_roots(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_reanalyze(int argc, char **argv);
int cmd_purge(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_service(int argc, char **argv);
int cmd_wer(int argc, char **argv);
/* The OS-specific halves of `service` and `wer`, after their arguments are checked (cmd_service.c,
 * cmd_wer.c): cmd_service_win.c / cmd_wer_win.c do the work, the _posix.c files say that these are
 * Windows commands. Return a DS_EXIT_* code. */
int cmd_service_run(const char *action, int json);
int cmd_wer_run(const char *action, const char *cfgpath, int json);
int cmd_fleet(int argc, char **argv);

/* What the commands share (cli.c, service_tool.c). */
/* Prints "dumpscout CMD: " + message to stderr; the arguments are cleaned (core/text.h). */
void cli_error(const char *cmd, const char *fmt, ...) DS_PRINTF(2, 3);
/* Prints a JSON document and a newline, made terminal-safe and valid UTF-8 (text_json_safe). DS_EIO,
 * DS_ENOMEM. Every JSON the CLI prints goes through here. */
int cli_print_json(FILE *out, const char *json);
/* Runs dumpscoutd (found beside this program) with args (NULL-terminated, without argv[0]) and the same
 * standard streams; returns its exit code, or 1 when it cannot be started (with a message naming cmd). */
int cli_run_service_tool(const char *cmd, const char *const *args);
/* 1 when colour may be used on fd: a terminal and NO_COLOR unset. */
int cli_use_color(int fd);

#endif
