/* cli.c - what every command of the `dumpscout` tool shares for talking to people: error messages with
 * cleaned values, JSON made terminal-safe, the colour decision. It knows no command and no data source;
 * main.c dispatches, cli/cmd_*.c do the work. */
#include "cli.h"
#include "core/buf.h"
#include "core/plat.h"
#include "core/text.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void cli_error(const char *cmd, const char *fmt, ...)
{
	struct buf b;
	va_list ap;

	/* The values (file names, messages quoting a dump) are cleaned; the format is ours. */
	buf_init(&b, 1 << 16);
	va_start(ap, fmt);
	if (text_vbprintf(&b, fmt, ap) == DS_OK)
		fprintf(stderr, "dumpscout %s: %s\n", cmd, b.data != NULL ? b.data : "");
	else
		fprintf(stderr, "dumpscout %s: (message too long)\n", cmd);
	va_end(ap);
	buf_free(&b);
}

int cli_print_json(FILE *out, const char *json)
{
	char *safe = text_json_safe(json != NULL ? json : "null");
	int rc = DS_ENOMEM;

	if (safe != NULL) {
		rc = fputs(safe, out) == EOF || fputc('\n', out) == EOF ? DS_EIO : DS_OK;
		free(safe);
	}
	return rc;
}

int cli_use_color(int fd)
{
	const char *nc = getenv("NO_COLOR");

	return plat_isatty(fd) && (nc == NULL || nc[0] == '\0');
}
