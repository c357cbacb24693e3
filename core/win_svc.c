/* win_svc.c - the service control manager (core/win.h): installing, configuring, starting, stopping and
 * querying a service. The service's own entry point (service/main_win.c) talks to the SCM directly. */
#include "core/plat_win.h"
#include <winsvc.h>

#include "core/win.h"
#include "core/plat.h"
#include "core/ds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int win_svc_scm(DWORD access, SC_HANDLE *out)
{
	*out = OpenSCManagerW(NULL, NULL, access);
	return *out != NULL ? DS_OK : plat_win_error(GetLastError());
}

static int win_svc_error(DWORD e)
{
	switch (e) {
	case ERROR_SERVICE_DOES_NOT_EXIST: return DS_ENOENT;
	case ERROR_SERVICE_EXISTS:
	case ERROR_DUPLICATE_SERVICE_NAME:
	case ERROR_SERVICE_ALREADY_RUNNING:
	case ERROR_SERVICE_NOT_ACTIVE:
	case ERROR_SERVICE_MARKED_FOR_DELETE: return DS_EEXIST;
	default: return plat_win_error(e);
	}
}

static int win_svc_open(const char *name, DWORD access, SC_HANDLE *scm, SC_HANDLE *svc)
{
	wchar_t *wn;
	int rc;

	*svc = NULL;
	rc = win_svc_scm(SC_MANAGER_CONNECT, scm);
	if (rc != DS_OK)
		return rc;
	wn = plat_win_wide(name, &rc);
	if (wn == NULL)
		return rc;
	*svc = OpenServiceW(*scm, wn, access);
	rc = *svc != NULL ? DS_OK : win_svc_error(GetLastError());
	free(wn);
	return rc;
}

static void win_svc_close(SC_HANDLE scm, SC_HANDLE svc)
{
	if (svc != NULL)
		CloseServiceHandle(svc);
	if (scm != NULL)
		CloseServiceHandle(scm);
}

static void win_svc_set_policy(SC_HANDLE svc, wchar_t *wdesc, uint32_t restart_delay_ms)
{
	SERVICE_DESCRIPTIONW desc;
	SERVICE_FAILURE_ACTIONSW fa;
	SERVICE_FAILURE_ACTIONS_FLAG faf;
	SERVICE_PRESHUTDOWN_INFO pre;
	SC_ACTION act[3];
	size_t i;

	desc.lpDescription = wdesc;
	ChangeServiceConfig2W(svc, SERVICE_CONFIG_DESCRIPTION, &desc);
	for (i = 0; i < DS_ARRAY_LEN(act); i++) {
		act[i].Type = SC_ACTION_RESTART;
		act[i].Delay = restart_delay_ms;
	}
	memset(&fa, 0, sizeof(fa));
	fa.dwResetPeriod = 86400; /* the failure count starts again after a day without failures */
	fa.cActions = DS_ARRAY_LEN(act);
	fa.lpsaActions = act;
	ChangeServiceConfig2W(svc, SERVICE_CONFIG_FAILURE_ACTIONS, &fa);
	faf.fFailureActionsOnNonCrashFailures = TRUE; /* also when it stops with an error exit code */
	ChangeServiceConfig2W(svc, SERVICE_CONFIG_FAILURE_ACTIONS_FLAG, &faf);
	pre.dwPreshutdownTimeout = 30000;
	ChangeServiceConfig2W(svc, SERVICE_CONFIG_PRESHUTDOWN_INFO, &pre);
}

int win_svc_install(const struct win_svc_spec *spec)
{
	SC_HANDLE scm = NULL, svc = NULL;
	wchar_t *wn = NULL, *wd = NULL, *wdesc = NULL, *wcmd = NULL;
	int rc;

	rc = win_svc_scm(SC_MANAGER_CREATE_SERVICE, &scm);
	if (rc != DS_OK)
		goto out;
	if ((wn = plat_win_wide(spec->name, &rc)) == NULL || (wd = plat_win_wide(spec->display, &rc)) == NULL ||
	    (wdesc = plat_win_wide(spec->description, &rc)) == NULL || (wcmd = plat_win_wide(spec->cmdline, &rc)) == NULL)
		goto out;
	/* LocalSystem: lpServiceStartName NULL */
	svc = CreateServiceW(scm, wn, wd, SERVICE_ALL_ACCESS, SERVICE_WIN32_OWN_PROCESS, SERVICE_AUTO_START,
			     SERVICE_ERROR_NORMAL, wcmd, NULL, NULL, NULL, NULL, NULL);
	if (svc == NULL) {
		rc = win_svc_error(GetLastError());
		goto out;
	}
	/* The rest is best effort: a service without a description or restart policy still works. */
	win_svc_set_policy(svc, wdesc, spec->restart_delay_ms);
	rc = DS_OK;
out:
	free(wn);
	free(wd);
	free(wdesc);
	free(wcmd);
	win_svc_close(scm, svc);
	return rc;
}

int win_svc_configure(const struct win_svc_spec *spec)
{
	SC_HANDLE scm = NULL, svc = NULL;
	wchar_t *wdesc = NULL;
	int rc;

	rc = win_svc_open(spec->name, SERVICE_CHANGE_CONFIG | SERVICE_START, &scm, &svc);
	if (rc != DS_OK)
		goto out;
	wdesc = plat_win_wide(spec->description, &rc);
	if (wdesc == NULL)
		goto out;
	win_svc_set_policy(svc, wdesc, spec->restart_delay_ms);
	rc = DS_OK;
out:
	free(wdesc);
	win_svc_close(scm, svc);
	return rc;
}

/* One request to an installed service: delete it, start it or stop it. */
enum win_svc_request { WIN_SVC_DO_DELETE, WIN_SVC_DO_START, WIN_SVC_DO_STOP };

static int win_svc_request(const char *name, enum win_svc_request what)
{
	static const DWORD access[] = { DELETE, SERVICE_START, SERVICE_STOP };
	SC_HANDLE scm = NULL, svc = NULL;
	SERVICE_STATUS st;
	BOOL ok;
	int rc;

	rc = win_svc_open(name, access[what], &scm, &svc);
	if (rc == DS_OK) {
		ok = what == WIN_SVC_DO_DELETE ? DeleteService(svc)
		     : what == WIN_SVC_DO_START ? StartServiceW(svc, 0, NULL)
					     : ControlService(svc, SERVICE_CONTROL_STOP, &st);
		if (!ok)
			rc = win_svc_error(GetLastError());
	}
	win_svc_close(scm, svc);
	return rc;
}

int win_svc_uninstall(const char *name)
{
	return win_svc_request(name, WIN_SVC_DO_DELETE);
}

int win_svc_start(const char *name)
{
	return win_svc_request(name, WIN_SVC_DO_START);
}

int win_svc_stop(const char *name)
{
	return win_svc_request(name, WIN_SVC_DO_STOP);
}

int win_svc_state(const char *name, int *state, int *pid)
{
	SC_HANDLE scm = NULL, svc = NULL;
	SERVICE_STATUS_PROCESS sp;
	DWORD need;
	int rc;

	*state = WIN_SVC_ABSENT;
	*pid = 0;
	rc = win_svc_open(name, SERVICE_QUERY_STATUS, &scm, &svc);
	if (rc == DS_ENOENT) {
		rc = DS_OK;
		goto out;
	}
	if (rc != DS_OK)
		goto out;
	if (!QueryServiceStatusEx(svc, SC_STATUS_PROCESS_INFO, (LPBYTE)&sp, sizeof(sp), &need)) {
		rc = win_svc_error(GetLastError());
		goto out;
	}
	*state = (int)sp.dwCurrentState;
	*pid = (int)sp.dwProcessId;
out:
	win_svc_close(scm, svc);
	return rc;
}
