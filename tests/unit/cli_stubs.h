/* cli_stubs.h - what cli/main.c provides to the commands (cli_error, cli_use_color), for the CLI's unit
 * tests, which link the commands without main.c. Include it once per test program. */
#ifndef DS_CLI_STUBS_H
#define DS_CLI_STUBS_H

#include <stdarg.h>
#include <stdio.h>

void cli_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "dumpscout %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_use_color(int fd)
{
	(void)fd;
	return 0;
}

#endif
