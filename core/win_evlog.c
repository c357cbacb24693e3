/* win_evlog.c - the Application event log (core/win.h): registering a source with its message file, and
 * writing events. */
#include "core/plat_win.h"

#include "core/win.h"
#include "core/plat.h"
#include "core/ds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WIN_EVLOG_KEY "HKLM\\SYSTEM\\CurrentControlSet\\Services\\EventLog\\Application\\"

int win_evlog_register(const char *source, const char *message_file)
{
	char key[512];
	int rc;

	if ((size_t)snprintf(key, sizeof(key), "%s%s", WIN_EVLOG_KEY, source) >= sizeof(key))
		return DS_EINVAL;
	rc = win_reg_set_str(key, "EventMessageFile", REG_EXPAND_SZ, message_file);
	if (rc == DS_OK)
		rc = win_reg_set_dword(key, "TypesSupported",
					EVENTLOG_ERROR_TYPE | EVENTLOG_WARNING_TYPE | EVENTLOG_INFORMATION_TYPE);
	return rc;
}

int win_evlog_unregister(const char *source)
{
	char key[512];
	int rc;

	if ((size_t)snprintf(key, sizeof(key), "%s%s", WIN_EVLOG_KEY, source) >= sizeof(key))
		return DS_EINVAL;
	win_reg_delete(key, "EventMessageFile");
	win_reg_delete(key, "TypesSupported");
	rc = win_reg_delete_key_if_empty(key);
	return rc == DS_ENOENT ? DS_OK : rc;
}

static INIT_ONCE win_evlog_once = INIT_ONCE_STATIC_INIT;
static HANDLE win_evlog_handle;

static BOOL CALLBACK win_evlog_open(PINIT_ONCE once, PVOID param, PVOID *ctx)
{
	wchar_t *w;
	int rc;

	(void)once;
	(void)ctx;
	w = plat_win_wide(param, &rc);
	if (w != NULL)
		win_evlog_handle = RegisterEventSourceW(NULL, w);
	free(w);
	return TRUE;
}

int win_evlog_write(const char *source, int level, const char *msg)
{
	const wchar_t *strs[1];
	wchar_t *w;
	WORD type;
	int rc;

	/* one source per process: the first caller's name is the one registered */
	InitOnceExecuteOnce(&win_evlog_once, win_evlog_open, (PVOID)source, NULL);
	if (win_evlog_handle == NULL)
		return DS_EIO;
	w = plat_win_wide(msg, &rc);
	if (w == NULL)
		return rc;
	type = level == 0 ? EVENTLOG_ERROR_TYPE : level == 1 ? EVENTLOG_WARNING_TYPE : EVENTLOG_INFORMATION_TYPE;
	strs[0] = w;
	rc = ReportEventW(win_evlog_handle, type, 0, 1, NULL, 1, 0, strs, NULL) ? DS_OK : DS_EIO;
	free(w);
	return rc;
}
