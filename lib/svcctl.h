/* svcctl.h - the Windows service's place in the system: its name, its folders under
 * %ProgramData%\dumpscout (with their ACLs), and installing, removing, starting, stopping and querying
 * it through the service control manager, for `dumpscout service` (the MSI does the same with its own
 * tables). Windows only (svcctl_win.c); OS calls go through win_svc_* / win_reg_* (core/win.h). It does
 * not run the service (main_win.c does). */
#ifndef DS_SVCCTL_H
#define DS_SVCCTL_H

#include "config.h"

#include <stdio.h>

#define SVCCTL_NAME "dumpscout"
#define SVCCTL_DISPLAY "dumpscout crash-dump triage"
#define SVCCTL_DESCRIPTION \
	"Collects crash dumps through Windows Error Reporting (LocalDumps), triages them and finds what keeps " \
	".NET AssemblyLoadContexts alive."
#define SVCCTL_EVENT_SOURCE "dumpscout"
#define SVCCTL_SERVICE_EXE "dumpscoutd.exe"
#define SVCCTL_CONFIG_FILE "dumpscout.json"
/* Installed beside the programs; copied to the data folder as SVCCTL_CONFIG_FILE when that is missing. */
#define SVCCTL_DEFAULT_CONFIG "dumpscout.default.json"
#define SVCCTL_RESTART_DELAY_MS 5000
/* How long `service stop|uninstall` wait for STOPPED: the daemon's grace period and some. */
#define SVCCTL_STOP_WAIT_MS 30000

/* The data folder (config, database, logs, saved WER values): full control for SYSTEM and
 * Administrators only, nothing inherited - the config may hold an SMTP password. */
#define SVCCTL_DATA_SDDL "D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)"
/* The dump folder: SYSTEM and Administrators full control (inherited by every dump); Everyone may
 * add files and traverse, on the folder itself only (0x1000a2 = FILE_ADD_FILE | FILE_TRAVERSE |
 * FILE_READ_ATTRIBUTES | SYNCHRONIZE: no listing, no reading); OWNER RIGHTS (S-1-3-4) get generic write
 * on the files they create, which also takes away an owner's implicit right to read the ACL back and
 * re-grant itself read access. So a crashing process of any user can write its dump, and only
 * Administrators and SYSTEM can read any dump. */
#define SVCCTL_DUMPS_SDDL "D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;;0x1000a2;;;WD)(A;OIIO;FW;;;S-1-3-4)"

/* %ProgramData%\dumpscout (from SHGetFolderPathW(CSIDL_COMMON_APPDATA)), malloc'd (caller frees), or
 * NULL. */
char *svcctl_data_dir(void);
/* dir + "\" + name, malloc'd, or NULL. Portable. */
char *svcctl_join(const char *dir, const char *name);

/* Loads the service's configuration with %ProgramData%\dumpscout as the default data folder: path,
 * else %ProgramData%\dumpscout\dumpscout.json when it exists, else the defaults. Like config_load
 * (the caller frees cfg with config_free, also on error). */
int svcctl_config_load(const char *path, struct config *cfg, struct ds_err *e);

/* Creates the data folder, its logs folder and the dump folders when missing, each new one with its
 * ACL (SVCCTL_DATA_SDDL, SVCCTL_DUMPS_SDDL). Existing folders keep their ACL (a folder someone
 * configured may be shared with other tools); `dumpscout wer status` reports a dump folder crashing
 * processes cannot write. Errors name the folder in e. */
int svcctl_prepare_folders(const struct config *cfg, struct ds_err *e);

/* `dumpscout service install|uninstall|start|stop|status`. Messages go to out; errors to e (DS_EPERM
 * says to run as an administrator). install registers dumpscoutd.exe from the running program's
 * folder (auto start, LocalSystem, restart on failure) and the Event Log source; uninstall stops the
 * service (waiting up to SVCCTL_STOP_WAIT_MS), reverts the WER values, removes the service and the
 * Event Log source, and keeps the data folder. start/stop wait up to wait_ms for the new state. */
int svcctl_install(FILE *out, struct ds_err *e);
int svcctl_uninstall(FILE *out, struct ds_err *e);
int svcctl_start(uint32_t wait_ms, FILE *out, struct ds_err *e);
int svcctl_stop(uint32_t wait_ms, FILE *out, struct ds_err *e);
/* Prints the state (text or one JSON object) and returns DS_OK, or DS_EPERM/DS_EIO. */
int svcctl_status(FILE *out, int json, struct ds_err *e);

/* A state's name: "absent", "stopped", "start_pending", "stop_pending", "running", ... */
const char *svcctl_state_name(int state);

#endif
