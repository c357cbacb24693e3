/* cmd_service_posix.c - `dumpscout service` outside Windows: there is no service control manager here;
 * systemd runs dumpscoutd (installer/dumpscoutd.service). */
#include "cli.h"
#include "core/ds.h"

int cmd_service_run(const char *action, int json)
{
	(void)json;
	cli_error("service", "'service %s' is a Windows command; on Linux systemd runs dumpscoutd "
			     "(installer/dumpscoutd.service)", action);
	return DS_EXIT_BADINPUT;
}
