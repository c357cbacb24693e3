/* dbopen.c - finding and opening the database for the CLI (see dbopen.h), with error messages that
 * name what was tried and what to do about it. The search order is fixed and documented in docs/cli.md;
 * nothing here writes to the database. */
#include "dbopen.h"
#include "cli.h"
#include "core/cursor.h"
#include "core/plat.h"
#include "core/store.h"
#include "table.h"
#include "lib/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int dbopen_arg(const char *cmd, int argc, char **argv, int *i, struct dbopen_opts *o)
{
	const char *a = argv[*i];
	const char **dst = NULL;
	const char *name = NULL;

	if (strcmp(a, "--db") == 0 || strncmp(a, "--db=", 5) == 0) {
		dst = &o->db;
		name = "--db";
	} else if (strcmp(a, "--config") == 0 || strncmp(a, "--config=", 9) == 0) {
		dst = &o->config;
		name = "--config";
	} else {
		return 0;
	}
	if (strchr(a, '=') != NULL) {
		*dst = strchr(a, '=') + 1;
	} else if (*i + 1 < argc) {
		*dst = argv[++*i];
	} else {
		cli_error(cmd, "%s needs a value (see dumpscout %s --help)", name, cmd);
		return -1;
	}
	if ((*dst)[0] == '\0') {
		cli_error(cmd, "%s needs a non-empty value", name);
		return -1;
	}
	return 1;
}

int dbopen_common_arg(const char *cmd, int argc, char **argv, int *i, struct dbopen_opts *o, int *mode,
		      void (*usage)(FILE *f), int *code)
{
	const char *a = argv[*i];
	int r = dbopen_arg(cmd, argc, argv, i, o);

	if (r != 0)
		goto out;
	if (mode != NULL && table_mode_arg(a, mode)) {
		r = 1;
	} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
		usage(stdout);
		*code = DS_EXIT_OK;
		r = -1;
	}
out:
	return r;
}

const char *dbopen_value_arg(const char *cmd, int argc, char **argv, int *i, const char *const *opts)
{
	const char *a = argv[*i], *val = NULL;
	size_t k;

	for (k = 0; opts[k] != NULL && strcmp(a, opts[k]) != 0; k++)
		;
	if (opts[k] == NULL)
		cli_error(cmd, "unknown argument '%s' (see dumpscout %s --help)", a, cmd);
	else if (*i + 1 >= argc)
		cli_error(cmd, "%s needs a value (see dumpscout %s --help)", a, cmd);
	else
		val = argv[++*i];
	return val;
}

/* 1 if path exists, or if it cannot be told because a folder on the way may not be entered (the
 * service's private data folder): the open then fails with DS_EPERM and says why, instead of
 * "no database". */
static int dbopen_exists(const char *path)
{
	struct plat_stat st;
	int rc = plat_lstat(path, &st);

	return rc == DS_OK || rc == DS_EPERM;
}

/* 1 if opening path for reading is refused for lack of permission. */
static int dbopen_denied(const char *path)
{
	struct plat_file *f = NULL;
	int rc = plat_file_open(path, &f);

	plat_file_close(f);
	return rc == DS_EPERM;
}

/* The permission error explained (issue 12 item 6): which file, why, what to do. */
static void dbopen_perm(const char *cmd, const char *path, int write)
{
	cli_error(cmd, "cannot %s the database %s: permission denied. The service keeps its data private "
		       "(data folder 0700, database 0600, readable by root only: crash dumps hold command lines and "
		       "paths). Run the command as root, e.g. `sudo dumpscout %s ...`, or give --db a copy you may "
		       "read", write ? "write to" : "read", path != NULL ? path : "?", cmd);
}

int dbopen_config(const char *cmd, const struct dbopen_opts *o, struct config *cfg, int *found)
{
	struct ds_err e = { 0 };
	const char *path = o->config;
	int rc;

	*found = 0;
	memset(cfg, 0, sizeof(*cfg));
	if (path == NULL && dbopen_exists(config_default_path()))
		path = config_default_path();
	if (path == NULL && dbopen_exists(DBOPEN_LOCAL_CONFIG))
		path = DBOPEN_LOCAL_CONFIG;
	rc = path != NULL ? config_load(path, cfg, &e) : config_defaults(cfg);
	if (rc != DS_OK) {
		if (path != NULL)
			cli_error(cmd, "cannot use the config %s: %s%s", path, e.msg[0] ? e.msg : ds_strerror(rc),
				  rc == DS_ENOENT ? " (check --config)" : " (dumpscout config check shows every problem)");
		else
			cli_error(cmd, "%s", ds_strerror(rc));
		return rc == DS_ENOMEM || rc == DS_EIO ? DS_EXIT_FAIL : DS_EXIT_BADINPUT;
	}
	*found = path != NULL;
	return DS_EXIT_OK;
}

int dbopen_fail(const char *cmd, int rc, const struct ds_err *e)
{
	const char *msg = e != NULL && e->msg[0] ? e->msg : ds_strerror(rc);

	switch (rc) {
	case DS_EBUSY:
		cli_error(cmd, "%s: another process held the database locked past the busy timeout. Try again; if it "
			       "persists, look for a long transaction (an open sqlite3 shell, a stuck process), or raise "
			       "DUMPSCOUT_BUSY_MS", msg);
		return DS_EXIT_FAIL;
	case DS_ESCHEMA:
		if (strstr(msg, "upgrade dumpscout") != NULL)
			cli_error(cmd, "%s (this is dumpscout %s: install the same version as dumpscoutd)", msg, DS_VERSION);
		else
			cli_error(cmd, "%s (start dumpscoutd of this version once: it upgrades the database)", msg);
		return DS_EXIT_FAIL;
	case DS_EPERM:
		cli_error(cmd, "%s: run as root or as a user allowed to read the service's data folder", msg);
		return DS_EXIT_FAIL;
	case DS_ECORRUPT:
		cli_error(cmd, "%s: this file is not a dumpscout database (check --db)", msg);
		return DS_EXIT_BADINPUT;
	default:
		cli_error(cmd, "%s", msg);
		return rc == DS_EINVAL ? DS_EXIT_BADINPUT : DS_EXIT_FAIL;
	}
}

int dbopen_open(const char *cmd, const struct dbopen_opts *o, int rw, struct store **out)
{
	struct ds_err e = { 0 };
	struct config cfg, defcfg;
	char tried[2048] = "";
	const char *path = NULL, *from = NULL, *env = getenv("DUMPSCOUT_DB"), *busy = getenv("DUMPSCOUT_BUSY_MS");
	const char *defdb = DBOPEN_DEFAULT_DB;
	int rc, code = DS_EXIT_FAIL, busy_ms = 0, found = 0;
	int64_t v;

	*out = NULL;
	memset(&cfg, 0, sizeof(cfg));
	memset(&defcfg, 0, sizeof(defcfg));
	if (busy != NULL && busy[0] != '\0') {
		if (cursor_parse_int(busy, 1, 3600000, &v) != DS_OK) {
			cli_error(cmd, "DUMPSCOUT_BUSY_MS must be a number of milliseconds (1..3600000), not '%s'", busy);
			code = DS_EXIT_BADINPUT;
			goto out;
		}
		busy_ms = (int)v;
	}
	if (o->db != NULL) {
		path = o->db;
		from = "--db";
	} else if (env != NULL && env[0] != '\0') {
		path = env;
		from = "$DUMPSCOUT_DB";
	} else {
		if (o->config != NULL || dbopen_exists(config_default_path())) {
			code = dbopen_config(cmd, o, &cfg, &found);
			if (code != DS_EXIT_OK)
				goto out;
			if (cfg.db != NULL && (o->config != NULL || dbopen_exists(cfg.db))) {
				path = cfg.db;
				from = cfg.file != NULL ? cfg.file : "the config";
			} else {
				snprintf(tried, sizeof(tried), "%s (from %s), ", cfg.db ? cfg.db : "?",
					 cfg.file ? cfg.file : config_default_path());
			}
		}
		/* The service's default database: /var/lib/dumpscout, or %ProgramData%\dumpscout on Windows. */
		if (config_defaults(&defcfg) == DS_OK && defcfg.db != NULL)
			defdb = defcfg.db;
		if (path == NULL && dbopen_exists(defdb)) {
			path = defdb;
			from = "the default location";
		}
		if (path == NULL && dbopen_exists(DBOPEN_LOCAL_DB)) {
			path = DBOPEN_LOCAL_DB;
			from = "the local run folder";
		}
		if (path == NULL) {
			cli_error(cmd,
				  "no database found: tried %s%s and %s ($DUMPSCOUT_DB and --db not set). Start the service "
				  "(dumpscoutd, or make run) so it creates one, or name it with --db PATH",
				  tried, defdb, DBOPEN_LOCAL_DB);
			code = DS_EXIT_FAIL;
			goto out;
		}
	}
	/* Never let the CLI create a database, and never let it migrate one: a read-only open first checks
	 * that the file exists with exactly this schema version. */
	rc = dbopen_exists(path) ? store_open_ex(path, STORE_READONLY, busy_ms, out, &e) : DS_ENOENT;
	if (rc == DS_OK && rw) {
		store_close(*out);
		*out = NULL;
		rc = store_open_ex(path, STORE_READWRITE, busy_ms, out, &e);
	}
	if (rc == DS_ENOENT) {
		cli_error(cmd, "no database at %s (from %s): check the path, or start dumpscoutd so it creates the "
			       "database there", path, from);
		code = DS_EXIT_FAIL;
	} else if (rc == DS_EPERM || (rc != DS_OK && dbopen_denied(path))) {
		dbopen_perm(cmd, path, rw);
		code = DS_EXIT_FAIL;
	} else if (rc != DS_OK) {
		code = dbopen_fail(cmd, rc, &e);
	} else {
		code = DS_EXIT_OK;
	}
	if (code != DS_EXIT_OK) {
		store_close(*out);
		*out = NULL;
	}
out:
	config_free(&cfg);
	config_free(&defcfg);
	return code;
}
