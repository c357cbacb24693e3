/* svcctl_win.c - the Windows service's place in the system: %ProgramData%\dumpscout and its ACLs, the
 * configuration's default location, and install/uninstall/start/stop/status through the service
 * control manager (win_svc_*) for `dumpscout service`. It does not run the service: main_win.c does. */
#include "svcctl.h"
#include "wer.h"

#include "core/plat.h"
#include "core/win.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

char *svcctl_join(const char *dir, const char *name)
{
	size_t a = strlen(dir), b = strlen(name);
	char *s = malloc(a + b + 2);

	if (s == NULL)
		return NULL;
	memcpy(s, dir, a);
	s[a] = '\\';
	memcpy(s + a + 1, name, b + 1);
	return s;
}

char *svcctl_data_dir(void)
{
	char *pd = plat_common_data_dir(), *d;

	if (pd == NULL)
		return NULL;
	d = svcctl_join(pd, "dumpscout");
	free(pd);
	return d;
}

int svcctl_config_load(const char *path, struct config *cfg, struct ds_err *e)
{
	char *data = NULL, *def = NULL;
	struct plat_stat st;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	data = svcctl_data_dir();
	if (data == NULL) {
		rc = ds_err_setn(e, DS_EIO, "cannot find the ProgramData folder (SHGetFolderPathW)");
		goto out;
	}
	rc = config_set_default_data_dir(data);
	if (rc != DS_OK) {
		ds_err_setn(e, rc, "out of memory");
		goto out;
	}
	if (path == NULL) {
		def = svcctl_join(data, SVCCTL_CONFIG_FILE);
		if (def == NULL) {
			rc = ds_err_setn(e, DS_ENOMEM, "out of memory");
			goto out;
		}
		if (plat_lstat(def, &st) == DS_OK)
			path = def;
	}
	rc = config_load(path, cfg, e);
out:
	free(def);
	free(data);
	return rc;
}

/* Creates a missing folder with its ACL; an existing one is left as it is. */
static int svcctl_folder(const char *path, const char *sddl, const char *what, struct ds_err *e)
{
	struct plat_stat st;
	int rc;

	if (plat_lstat(path, &st) == DS_OK) {
		if (!st.is_dir)
			return ds_err_setn(e, DS_EINVAL, "%s %s exists but is not a folder", what, path);
		return DS_OK;
	}
	rc = win_acl_set_sddl(path, sddl);
	if (rc != DS_OK)
		ds_err_setn(e, rc, "cannot create the %s %s with its ACL: %s", what, path, ds_strerror(rc));
	return rc;
}

int svcctl_prepare_folders(const struct config *cfg, struct ds_err *e)
{
	char *logs = NULL;
	size_t i;
	int rc;

	rc = svcctl_folder(cfg->data_dir, SVCCTL_DATA_SDDL, "data folder", e);
	if (rc != DS_OK)
		goto out;
	logs = svcctl_join(cfg->data_dir, "logs");
	if (logs == NULL) {
		rc = ds_err_setn(e, DS_ENOMEM, "out of memory");
		goto out;
	}
	rc = svcctl_folder(logs, SVCCTL_DATA_SDDL, "log folder", e);
	for (i = 0; rc == DS_OK && i < cfg->ndump_dirs; i++)
		rc = svcctl_folder(cfg->dump_dirs[i], SVCCTL_DUMPS_SDDL, "dump folder", e);
out:
	free(logs);
	return rc;
}

const char *svcctl_state_name(int state)
{
	static const char *const names[] = { "absent", "stopped", "start_pending", "stop_pending", "running",
					     "continue_pending", "pause_pending", "paused" };

	return state >= 0 && (size_t)state < DS_ARRAY_LEN(names) ? names[state] : "unknown";
}

static int svcctl_err(int rc, const char *what, struct ds_err *e)
{
	if (rc == DS_EPERM)
		return ds_err_setn(e, rc, "%s: permission denied (run as an administrator)", what);
	return ds_err_setn(e, rc, "%s: %s", what, ds_strerror(rc));
}

/* Polls the state until it is `want` or wait_ms pass: DS_OK, DS_ETIMEOUT. */
static int svcctl_wait(int want, uint32_t wait_ms, int *state)
{
	uint32_t waited = 0;
	int pid, rc;

	for (;;) {
		rc = win_svc_state(SVCCTL_NAME, state, &pid);
		if (rc != DS_OK)
			return rc;
		if (*state == want)
			return DS_OK;
		if (waited >= wait_ms)
			return DS_ETIMEOUT;
		uv_sleep(250);
		waited += 250;
	}
}

int svcctl_install(FILE *out, struct ds_err *e)
{
	struct win_svc_spec spec;
	struct plat_stat st;
	char *dir = NULL, *exe = NULL, *cmd = NULL;
	size_t n;
	int rc;

	dir = plat_exe_dir();
	exe = dir != NULL ? svcctl_join(dir, SVCCTL_SERVICE_EXE) : NULL;
	if (exe == NULL) {
		rc = ds_err_setn(e, DS_ENOMEM, "cannot find the program's folder");
		goto out;
	}
	if (plat_lstat(exe, &st) != DS_OK || !st.is_regular) {
		rc = ds_err_setn(e, DS_ENOENT, "%s: not found (it must be beside dumpscout.exe)", exe);
		goto out;
	}
	n = strlen(exe) + 3;
	cmd = malloc(n);
	if (cmd == NULL) {
		rc = ds_err_setn(e, DS_ENOMEM, "out of memory");
		goto out;
	}
	snprintf(cmd, n, "\"%s\"", exe); /* quoted: "C:\Program Files\..." has a space */
	spec.name = SVCCTL_NAME;
	spec.display = SVCCTL_DISPLAY;
	spec.description = SVCCTL_DESCRIPTION;
	spec.cmdline = cmd;
	spec.restart_delay_ms = SVCCTL_RESTART_DELAY_MS;
	rc = win_svc_install(&spec);
	if (rc == DS_EEXIST) {
		rc = ds_err_setn(e, rc, "the service '%s' is already installed", SVCCTL_NAME);
		goto out;
	}
	if (rc != DS_OK) {
		svcctl_err(rc, "cannot install the service", e);
		goto out;
	}
	rc = win_evlog_register(SVCCTL_EVENT_SOURCE, exe);
	if (rc != DS_OK && out != NULL)
		fprintf(out, "warning: the Event Log source was not registered (%s): events show without their text\n",
			ds_strerror(rc));
	if (out != NULL)
		fprintf(out, "installed the service '%s' (%s, automatic start, LocalSystem, restart on failure)\n",
			SVCCTL_NAME, cmd);
	rc = DS_OK;
out:
	free(cmd);
	free(exe);
	free(dir);
	return rc;
}

int svcctl_uninstall(FILE *out, struct ds_err *e)
{
	struct ds_err we = { 0 };
	char *data = NULL, *saved = NULL;
	int rc, state, pid, reverted = 0;

	rc = win_svc_state(SVCCTL_NAME, &state, &pid);
	if (rc != DS_OK) {
		svcctl_err(rc, "cannot query the service", e);
		goto out;
	}
	if (state == WIN_SVC_ABSENT) {
		rc = ds_err_setn(e, DS_ENOENT, "the service '%s' is not installed", SVCCTL_NAME);
		goto out;
	}
	if (state != WIN_SVC_STOPPED) {
		rc = svcctl_stop(SVCCTL_STOP_WAIT_MS, out, e);
		if (rc != DS_OK)
			goto out;
	}
	/* The LocalDumps values go back to what they were before the service first changed them. */
	data = svcctl_data_dir();
	saved = data != NULL ? svcctl_join(data, WER_SAVED_FILE) : NULL;
	if (saved != NULL && wer_revert(saved, out, &reverted, &we) != DS_OK && out != NULL)
		fprintf(out, "warning: the WER values were not reverted: %s (run 'dumpscout wer revert')\n", we.msg);
	rc = win_svc_uninstall(SVCCTL_NAME);
	if (rc != DS_OK) {
		svcctl_err(rc, "cannot remove the service", e);
		goto out;
	}
	win_evlog_unregister(SVCCTL_EVENT_SOURCE);
	if (out != NULL)
		fprintf(out, "removed the service '%s'; the data folder %s is kept (remove it with: rmdir /s /q \"%s\")\n",
			SVCCTL_NAME, data != NULL ? data : "%ProgramData%\\dumpscout",
			data != NULL ? data : "%ProgramData%\\dumpscout");
	rc = DS_OK;
out:
	free(saved);
	free(data);
	return rc;
}

/* Asks the SCM to start (start 1) or stop the service and waits up to wait_ms for the state. */
static int svcctl_request(int start, uint32_t wait_ms, FILE *out, struct ds_err *e)
{
	static const struct {
		const char *already, *cannot, *done;
		int want;
	} how[] = {
		{ "the service is not running", "cannot stop the service", "the service is stopped", WIN_SVC_STOPPED },
		{ "the service is already running", "cannot start the service", "the service is running", WIN_SVC_RUNNING },
	};
	int rc, state;

	rc = start ? win_svc_start(SVCCTL_NAME) : win_svc_stop(SVCCTL_NAME);
	if (rc == DS_EEXIST) {
		if (out != NULL)
			fprintf(out, "%s\n", how[start].already);
		return DS_OK;
	}
	if (rc != DS_OK)
		return svcctl_err(rc, how[start].cannot, e);
	rc = svcctl_wait(how[start].want, wait_ms, &state);
	if (rc != DS_OK && start)
		return ds_err_setn(e, rc, "the service did not reach RUNNING (state %s); see the log in "
					  "%%ProgramData%%\\dumpscout\\logs and the Application event log",
				   svcctl_state_name(state));
	if (rc != DS_OK)
		return ds_err_setn(e, rc, "the service did not reach STOPPED in %u ms (state %s)", (unsigned)wait_ms,
				   svcctl_state_name(state));
	if (out != NULL)
		fprintf(out, "%s\n", how[start].done);
	return DS_OK;
}

int svcctl_start(uint32_t wait_ms, FILE *out, struct ds_err *e)
{
	return svcctl_request(1, wait_ms, out, e);
}

int svcctl_stop(uint32_t wait_ms, FILE *out, struct ds_err *e)
{
	return svcctl_request(0, wait_ms, out, e);
}

int svcctl_status(FILE *out, int json, struct ds_err *e)
{
	char *data = NULL;
	cJSON *o = NULL;
	char *text;
	int rc, state, pid;

	rc = win_svc_state(SVCCTL_NAME, &state, &pid);
	if (rc != DS_OK)
		return svcctl_err(rc, "cannot query the service", e);
	data = svcctl_data_dir();
	if (json) {
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", SVCCTL_NAME);
		cJSON_AddStringToObject(o, "state", svcctl_state_name(state));
		cJSON_AddNumberToObject(o, "pid", pid);
		if (data != NULL)
			cJSON_AddStringToObject(o, "data_dir", data);
		text = cJSON_PrintUnformatted(o);
		if (text == NULL) {
			rc = ds_err_setn(e, DS_ENOMEM, "out of memory");
			goto out;
		}
		fprintf(out, "%s\n", text);
		free(text);
	} else {
		fprintf(out, "service %s: %s", SVCCTL_NAME, svcctl_state_name(state));
		if (pid > 0)
			fprintf(out, " (pid %d)", pid);
		fprintf(out, "\ndata folder: %s\n", data != NULL ? data : "?");
	}
	rc = DS_OK;
out:
	cJSON_Delete(o);
	free(data);
	return rc;
}
