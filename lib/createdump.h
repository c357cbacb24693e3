/* createdump.h - the Linux collection config: which environment makes the .NET runtime write a
 * heap dump and a crash report into the dump folder when a program crashes, installed for systemd
 * services as a drop-in file (ROOT/etc/systemd/system/NAME.service.d/dumpscout.conf). It writes and
 * removes only its own drop-in; reloading systemd and restarting the service is left to the user. */
#ifndef DS_CREATEDUMP_POSIX_H
#define DS_CREATEDUMP_POSIX_H

#include <stddef.h>

#include "core/ds.h"

#define CREATEDUMP_DROPIN_NAME "dumpscout.conf"
#define CREATEDUMP_NVARS 4
#define CREATEDUMP_VALUE_MAX 4200

struct createdump_var {
	const char *name;                  /* static: "DOTNET_DbgEnableMiniDump", ... */
	char value[CREATEDUMP_VALUE_MAX];  /* as the runtime must see it, e.g. "/d/%e.%p.dmp" */
};

/* 1 if unit is a plain systemd service name ("NAME.service": letters, digits, ":-_.@\\"), else 0. */
int createdump_unit_valid(const char *unit);

/* The variables for programs writing into dump_dir (an absolute folder without quotes, backslashes or
 * control characters). DS_EINVAL with e->msg saying why. Thread-safe. */
int createdump_vars(const char *dump_dir, struct createdump_var vars[CREATEDUMP_NVARS], struct ds_err *e);

/* The drop-in file's path for unit under root ("/" normally); malloc'd, caller frees; NULL on a bad
 * unit name or no memory. */
char *createdump_dropin_path(const char *root, const char *unit);

/* The drop-in text for dump_dir: malloc'd, caller frees. DS_EINVAL (bad folder), DS_ENOMEM. */
int createdump_render(const char *dump_dir, char **text, struct ds_err *e);

/* Writes the drop-in (atomically). *changed = 0 when an identical one was already there. DS_EINVAL
 * (bad unit or folder), DS_EPERM/DS_EIO (the file system; e names the path). */
int createdump_enable(const char *root, const char *unit, const char *dump_dir, int *changed, struct ds_err *e);

/* Removes the drop-in (and its folder when that becomes empty). *changed = 0 when there was none.
 * DS_EEXIST if the file there was not written by dumpscout (it is left alone). */
int createdump_disable(const char *root, const char *unit, int *changed, struct ds_err *e);

struct createdump_state {
	int present;          /* our drop-in exists */
	int ours;             /* it carries dumpscout's marker line */
	int complete;         /* all four variables are set to working values */
	char dump_dir[CREATEDUMP_VALUE_MAX]; /* folder of DOTNET_DbgMiniDumpName, "" if not set */
	char dump_type[16];   /* DOTNET_DbgMiniDumpType value, "" if not set */
};

/* Reads what the drop-in of unit says. st->present = 0 when there is none (DS_OK). */
int createdump_status(const char *root, const char *unit, struct createdump_state *st, struct ds_err *e);

/* Units under root that have a dumpscout drop-in: *units is a malloc'd array of *n malloc'd names;
 * free with plat_dir_list_free. */
int createdump_list(const char *root, char ***units, size_t *n);

#endif
