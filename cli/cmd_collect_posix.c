/* cmd_collect.c - `dumpscout collect enable|disable|status`: switches .NET's crash-dump writer
 * (createdump) on or off for systemd services through a drop-in, or prints the variables to set for a
 * program started by hand. The file work is in lib/createdump.c; this is argument handling
 * and wording only. */
#include "cli.h"
#include "core/ds.h"
#include "core/plat.h"
#include "lib/config.h"
#include "lib/createdump.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COLLECT_MAX_UNITS 64

static void collect_usage(FILE *f)
{
	fprintf(f,
		"usage: dumpscout collect enable|disable|status [--unit NAME.service]... [--dir DIR]\n"
		"                         [--config FILE] [--root DIR]\n\n"
		"Makes .NET programs write a heap dump and a crash report into the folder dumpscoutd watches\n"
		"when they crash (DOTNET_DbgEnableMiniDump=1, DOTNET_DbgMiniDumpType=2, DOTNET_DbgMiniDumpName,\n"
		"DOTNET_EnableCrashReport=1), by a systemd drop-in per service:\n"
		"  /etc/systemd/system/NAME.service.d/" CREATEDUMP_DROPIN_NAME "\n\n"
		"  enable   write the drop-in for each --unit (default: the config's collection.units); with no\n"
		"           unit at all, print the variables to set for a program started by hand\n"
		"  disable  remove the drop-in of each --unit (default: every unit that has one)\n"
		"  status   say what is in effect for each --unit (default: every unit that has a drop-in)\n\n"
		"  --unit NAME.service  a systemd service (repeatable)\n"
		"  --dir DIR            the dump folder (default: the first of the config's dump_dirs)\n"
		"  --config FILE        the service's config (default " CONFIG_DEFAULT_PATH " if it exists)\n"
		"  --root DIR           treat DIR as / (for tests and images)\n\n"
		"enable and disable are idempotent. Afterwards run: systemctl daemon-reload; systemctl restart NAME\n"
		"Example: dumpscout collect enable --unit myapp.service\n");
}

static void collect_print_vars(const char *dir)
{
	struct createdump_var vars[CREATEDUMP_NVARS];
	struct ds_err e = { 0 };
	int i;

	if (createdump_vars(dir, vars, &e) != DS_OK) {
		cli_error("collect", "%s", e.msg);
		return;
	}
	printf("# For a program started by hand, set these before starting it:\n");
	for (i = 0; i < CREATEDUMP_NVARS; i++)
		printf("export %s='%s'\n", vars[i].name, vars[i].value);
}

static int collect_status_one(const char *root, const char *unit, const char *dir)
{
	struct createdump_state st;
	struct ds_err e = { 0 };
	int rc;

	rc = createdump_status(root, unit, &st, &e);
	if (rc != DS_OK) {
		cli_error("collect", "%s", e.msg);
		return rc;
	}
	if (!st.present)
		printf("%s: not enabled (no drop-in)\n", unit);
	else if (!st.ours)
		printf("%s: a %s drop-in exists but was not written by dumpscout\n", unit, CREATEDUMP_DROPIN_NAME);
	else if (!st.complete)
		printf("%s: drop-in present but incomplete or changed by hand (dump type '%s'); run enable again\n",
		       unit, st.dump_type);
	else
		printf("%s: enabled: heap dumps (type %s) and crash reports go to %s%s\n", unit, st.dump_type,
		       st.dump_dir, strcmp(st.dump_dir, dir) != 0 ? " (NOT the configured dump folder)" : "");
	return DS_OK;
}

int cmd_collect(int argc, char **argv)
{
	const char *units[COLLECT_MAX_UNITS], *dir = NULL, *root = "/", *cfgpath = NULL, *verb;
	char **found = NULL;
	size_t nunits = 0, nfound = 0, i;
	struct config cfg;
	struct plat_stat st;
	struct ds_err e = { 0 };
	int rc = DS_OK, code = DS_EXIT_OK, changed, a;

	memset(&cfg, 0, sizeof(cfg));
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		collect_usage(stdout);
		goto out;
	}
	if (argc < 2) {
		collect_usage(stderr);
		code = DS_EXIT_BADINPUT;
		goto out;
	}
	verb = argv[1];
	for (a = 2; a < argc; a++) {
		const char *opt = argv[a];
		if (strcmp(opt, "--help") == 0 || strcmp(opt, "-h") == 0) {
			collect_usage(stdout);
			goto out;
		}
		if (a + 1 >= argc || (strcmp(opt, "--unit") != 0 && strcmp(opt, "--dir") != 0 &&
				      strcmp(opt, "--root") != 0 && strcmp(opt, "--config") != 0)) {
			cli_error("collect", "unknown option or missing value: '%s' (see --help)", opt);
			code = DS_EXIT_BADINPUT;
			goto out;
		}
		a++;
		if (strcmp(opt, "--unit") == 0) {
			if (!createdump_unit_valid(argv[a])) {
				cli_error("collect", "'%s' is not a systemd service name (NAME.service)", argv[a]);
				code = DS_EXIT_BADINPUT;
				goto out;
			}
			if (nunits == COLLECT_MAX_UNITS) {
				cli_error("collect", "at most %d --unit options", COLLECT_MAX_UNITS);
				code = DS_EXIT_BADINPUT;
				goto out;
			}
			units[nunits++] = argv[a];
		} else if (strcmp(opt, "--dir") == 0) {
			dir = argv[a];
		} else if (strcmp(opt, "--root") == 0) {
			root = argv[a];
		} else {
			cfgpath = argv[a];
		}
	}
	if (strcmp(verb, "enable") != 0 && strcmp(verb, "disable") != 0 && strcmp(verb, "status") != 0) {
		cli_error("collect", "unknown action '%s': enable, disable or status", verb);
		code = DS_EXIT_BADINPUT;
		goto out;
	}
	if (cfgpath == NULL && plat_lstat(config_default_path(), &st) == DS_OK)
		cfgpath = config_default_path();
	rc = config_load(cfgpath, &cfg, &e);
	if (rc != DS_OK) {
		cli_error("collect", "%s", e.msg);
		goto out;
	}
	if (dir == NULL)
		dir = cfg.dump_dirs[0];
	if (createdump_vars(dir, (struct createdump_var[CREATEDUMP_NVARS]){ 0 }, &e) != DS_OK) {
		cli_error("collect", "%s", e.msg);
		code = DS_EXIT_BADINPUT;
		goto out;
	}
	if (nunits == 0 && strcmp(verb, "enable") == 0) {
		for (i = 0; i < cfg.nunits && nunits < COLLECT_MAX_UNITS; i++)
			units[nunits++] = cfg.units[i];
	} else if (nunits == 0) {
		rc = createdump_list(root, &found, &nfound);
		if (rc != DS_OK) {
			cli_error("collect", "cannot list %s/etc/systemd/system: %s", root, ds_strerror(rc));
			goto out;
		}
		for (i = 0; i < nfound && nunits < COLLECT_MAX_UNITS; i++)
			units[nunits++] = found[i];
	}
	if (nunits == 0) {
		if (strcmp(verb, "enable") == 0) {
			collect_print_vars(dir);
			printf("# Or name a systemd service: dumpscout collect enable --unit NAME.service\n");
		} else if (strcmp(verb, "disable") == 0) {
			printf("no service has a dumpscout drop-in: nothing to disable\n");
		} else {
			printf("no systemd service has a dumpscout drop-in\n");
			collect_print_vars(dir);
		}
		goto out;
	}
	if (plat_lstat(dir, &st) != DS_OK && strcmp(verb, "enable") == 0)
		fprintf(stderr, "dumpscout collect: warning: the dump folder %s does not exist yet; create it "
				"writable by the services (see docs/service.md)\n", dir);
	for (i = 0; i < nunits; i++) {
		if (strcmp(verb, "status") == 0) {
			rc = collect_status_one(root, units[i], dir);
		} else if (strcmp(verb, "enable") == 0) {
			rc = createdump_enable(root, units[i], dir, &changed, &e);
			if (rc == DS_OK)
				printf("%s: %s (dumps go to %s)\n", units[i], changed ? "enabled" : "already enabled", dir);
		} else {
			rc = createdump_disable(root, units[i], &changed, &e);
			if (rc == DS_OK)
				printf("%s: %s\n", units[i], changed ? "disabled" : "was not enabled");
		}
		if (rc != DS_OK) {
			if (strcmp(verb, "status") != 0)
				cli_error("collect", "%s", e.msg);
			code = ds_exit_code(rc);
		}
	}
	if (strcmp(verb, "status") != 0 && code == DS_EXIT_OK)
		printf("to apply: systemctl daemon-reload, then restart the service(s)\n");
	rc = DS_OK;
out:
	if (rc != DS_OK && code == DS_EXIT_OK)
		code = ds_exit_code(rc);
	plat_dir_list_free(found, nfound);
	config_free(&cfg);
	return code;
}
