/* createdump.c - the Linux collection config: renders, installs, removes and reads the systemd
 * drop-in that sets the DOTNET_DbgEnableMiniDump family of variables for a service. It never runs
 * systemctl and never passes a name through a shell; it touches only files named dumpscout.conf. */
#include "createdump.h"

#include "core/buf.h"
#include "core/plat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CREATEDUMP_MARKER "# Written by dumpscout"
#define CREATEDUMP_NAME_PATTERN "%e.%p.dmp"

static const char *const createdump_names[CREATEDUMP_NVARS] = {
	"DOTNET_DbgEnableMiniDump", "DOTNET_DbgMiniDumpType", "DOTNET_DbgMiniDumpName", "DOTNET_EnableCrashReport",
};

int createdump_unit_valid(const char *unit)
{
	static const char suffix[] = ".service";
	size_t n, i;

	if (unit == NULL)
		return 0;
	n = strlen(unit);
	if (n <= sizeof(suffix) - 1 || n > 255 || strcmp(unit + n - (sizeof(suffix) - 1), suffix) != 0)
		return 0;
	if (unit[0] == '.' || unit[0] == '-')
		return 0;
	for (i = 0; i < n; i++) {
		char c = unit[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ':' ||
		      c == '-' || c == '_' || c == '.' || c == '@' || c == '\\'))
			return 0;
	}
	return 1;
}

static int createdump_dir_valid(const char *dir, struct ds_err *e)
{
	const char *p;

	if (dir == NULL || dir[0] != '/')
		return ds_err_setn(e, DS_EINVAL, "the dump folder must be an absolute path (got '%s')",
				   dir != NULL ? dir : "");
	if (strlen(dir) > CREATEDUMP_VALUE_MAX - 64)
		return ds_err_setn(e, DS_EINVAL, "the dump folder's path is too long");
	for (p = dir; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '"' || *p == '\\' || *p == '\'')
			return ds_err_setn(e, DS_EINVAL,
					   "the dump folder's path may not contain quotes, backslashes or control "
					   "characters: '%s'", dir);
	return DS_OK;
}

int createdump_vars(const char *dump_dir, struct createdump_var vars[CREATEDUMP_NVARS], struct ds_err *e)
{
	size_t n;
	int rc, i;

	rc = createdump_dir_valid(dump_dir, e);
	if (rc != DS_OK)
		return rc;
	for (i = 0; i < CREATEDUMP_NVARS; i++)
		vars[i].name = createdump_names[i];
	snprintf(vars[0].value, sizeof(vars[0].value), "1");
	snprintf(vars[1].value, sizeof(vars[1].value), "2"); /* heap dump: gcroot needs the heap */
	n = strlen(dump_dir);
	while (n > 1 && dump_dir[n - 1] == '/')
		n--;
	snprintf(vars[2].value, sizeof(vars[2].value), "%.*s/%s", (int)n, dump_dir, CREATEDUMP_NAME_PATTERN);
	snprintf(vars[3].value, sizeof(vars[3].value), "1");
	return DS_OK;
}

char *createdump_dropin_path(const char *root, const char *unit)
{
	struct buf b;

	if (!createdump_unit_valid(unit))
		return NULL;
	if (root == NULL || root[0] == '\0')
		root = "/";
	buf_init(&b, 8192);
	if (buf_printf(&b, "%s%setc/systemd/system/%s.d/%s", root, root[strlen(root) - 1] == '/' ? "" : "/", unit,
		       CREATEDUMP_DROPIN_NAME) != DS_OK) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}

int createdump_render(const char *dump_dir, char **text, struct ds_err *e)
{
	struct createdump_var vars[CREATEDUMP_NVARS];
	struct buf b;
	const char *p;
	int rc, i;

	*text = NULL;
	buf_init(&b, 64 * 1024);
	rc = createdump_vars(dump_dir, vars, e);
	if (rc != DS_OK)
		goto out;
	rc = buf_printf(&b, CREATEDUMP_MARKER " (`dumpscout collect enable`); remove it with `dumpscout collect "
			    "disable`.\n# .NET writes a heap dump and a crash report into the folder dumpscoutd "
			    "watches when this service crashes.\n[Service]\n");
	for (i = 0; rc == DS_OK && i < CREATEDUMP_NVARS; i++) {
		/* Quoted so spaces survive; % doubled because systemd expands %-specifiers in Environment=. */
		rc = buf_printf(&b, "Environment=\"%s=", vars[i].name);
		for (p = vars[i].value; rc == DS_OK && *p != '\0'; p++)
			rc = *p == '%' ? buf_puts(&b, "%%") : buf_append(&b, p, 1);
		if (rc == DS_OK)
			rc = buf_puts(&b, "\"\n");
	}
	if (rc != DS_OK)
		goto out;
	*text = buf_steal(&b);
	if (*text == NULL)
		rc = DS_ENOMEM;
out:
	if (rc == DS_ENOMEM || rc == DS_ETOOBIG)
		ds_err_setn(e, rc, "could not render the drop-in: %s", ds_strerror(rc));
	buf_free(&b);
	return rc;
}

int createdump_enable(const char *root, const char *unit, const char *dump_dir, int *changed, struct ds_err *e)
{
	char *path = NULL, *text = NULL, *old = NULL, *slash;
	size_t oldlen = 0;
	int rc;

	*changed = 0;
	path = createdump_dropin_path(root, unit);
	if (path == NULL) {
		rc = ds_err_setn(e, DS_EINVAL, "'%s' is not a systemd service name (NAME.service)", unit);
		goto out;
	}
	rc = createdump_render(dump_dir, &text, e);
	if (rc != DS_OK)
		goto out;
	if (plat_read_file(path, 64 * 1024, &old, &oldlen) == DS_OK && strcmp(old, text) == 0)
		goto out; /* already in effect: nothing to write */
	if (old != NULL && strstr(old, CREATEDUMP_MARKER) == NULL) {
		rc = ds_err_setn(e, DS_EEXIST, "%s exists and was not written by dumpscout; not replacing it", path);
		goto out;
	}
	slash = strrchr(path, '/');
	*slash = '\0';
	rc = plat_mkdirs(path, 0755);
	*slash = '/';
	if (rc != DS_OK) {
		ds_err_setn(e, rc, "cannot create the folder of %s: %s", path, ds_strerror(rc));
		goto out;
	}
	rc = plat_write_file_atomic(path, text, strlen(text), 0644);
	if (rc != DS_OK) {
		ds_err_setn(e, rc, "cannot write %s: %s", path, ds_strerror(rc));
		goto out;
	}
	*changed = 1;
out:
	free(path);
	free(text);
	free(old);
	return rc;
}

/* The drop-in of unit: *path always set on DS_OK (caller frees), *text NULL when there is no file.
 * DS_EINVAL (not a service name) and read errors with e set. */
static int createdump_read_dropin(const char *root, const char *unit, char **path, char **text, size_t *len,
				  struct ds_err *e)
{
	int rc = DS_OK;

	*text = NULL;
	*path = createdump_dropin_path(root, unit);
	if (*path == NULL) {
		rc = ds_err_setn(e, DS_EINVAL, "'%s' is not a systemd service name (NAME.service)", unit);
		goto out;
	}
	rc = plat_read_file(*path, 64 * 1024, text, len);
	if (rc == DS_ENOENT) {
		*text = NULL;
		rc = DS_OK;
	} else if (rc != DS_OK) {
		ds_err_setn(e, rc, "cannot read %s: %s", *path, ds_strerror(rc));
	}
out:
	return rc;
}

int createdump_disable(const char *root, const char *unit, int *changed, struct ds_err *e)
{
	char *path = NULL, *old = NULL, *slash;
	size_t oldlen = 0;
	int rc;

	*changed = 0;
	rc = createdump_read_dropin(root, unit, &path, &old, &oldlen, e);
	if (rc != DS_OK || old == NULL)
		goto out;
	if (strstr(old, CREATEDUMP_MARKER) == NULL) {
		rc = ds_err_setn(e, DS_EEXIST, "%s was not written by dumpscout; leaving it alone", path);
		goto out;
	}
	rc = plat_unlink(path);
	if (rc != DS_OK && rc != DS_ENOENT) {
		ds_err_setn(e, rc, "cannot remove %s: %s", path, ds_strerror(rc));
		goto out;
	}
	rc = DS_OK;
	*changed = 1;
	slash = strrchr(path, '/');
	*slash = '\0';
	(void)plat_rmdir(path); /* only succeeds when nothing else is in NAME.service.d */
out:
	free(path);
	free(old);
	return rc;
}

/* Reads the value of `Environment="NAME=VALUE"` lines (also unquoted), undoing the %% escape. */
static void createdump_parse_line(const char *line, size_t len, struct createdump_state *st, int *seen)
{
	static const char key[] = "Environment=";
	char val[CREATEDUMP_VALUE_MAX];
	size_t i, o = 0, nlen;
	int q = 0, v;

	if (len < sizeof(key) - 1 || strncmp(line, key, sizeof(key) - 1) != 0)
		return;
	i = sizeof(key) - 1;
	if (i < len && line[i] == '"') {
		q = 1;
		i++;
	}
	for (; i < len && o + 1 < sizeof(val); i++) {
		if (q && line[i] == '"')
			break;
		if (line[i] == '%' && i + 1 < len && line[i + 1] == '%')
			i++;
		val[o++] = line[i];
	}
	val[o] = '\0';
	for (v = 0; v < CREATEDUMP_NVARS; v++) {
		nlen = strlen(createdump_names[v]);
		if (strncmp(val, createdump_names[v], nlen) != 0 || val[nlen] != '=')
			continue;
		seen[v] = 1;
		if (v == 1)
			snprintf(st->dump_type, sizeof(st->dump_type), "%s", val + nlen + 1);
		if (v == 2) {
			char *slash;
			snprintf(st->dump_dir, sizeof(st->dump_dir), "%s", val + nlen + 1);
			slash = strrchr(st->dump_dir, '/');
			if (slash != NULL)
				slash[slash == st->dump_dir] = '\0';
		}
		if ((v == 0 || v == 3) && strcmp(val + nlen + 1, "1") != 0)
			seen[v] = 0;
	}
}

int createdump_status(const char *root, const char *unit, struct createdump_state *st, struct ds_err *e)
{
	char *path = NULL, *text = NULL, *p, *nl;
	size_t len = 0;
	int seen[CREATEDUMP_NVARS] = { 0 };
	int rc;

	memset(st, 0, sizeof(*st));
	rc = createdump_read_dropin(root, unit, &path, &text, &len, e);
	if (rc != DS_OK || text == NULL)
		goto out;
	st->present = 1;
	st->ours = strstr(text, CREATEDUMP_MARKER) != NULL;
	for (p = text; *p != '\0'; p = nl + (*nl != '\0')) {
		nl = strchr(p, '\n');
		if (nl == NULL)
			nl = p + strlen(p);
		createdump_parse_line(p, (size_t)(nl - p), st, seen);
	}
	st->complete = seen[0] && seen[1] && seen[2] && seen[3] &&
		       (strcmp(st->dump_type, "2") == 0 || strcmp(st->dump_type, "4") == 0);
out:
	free(path);
	free(text);
	return rc;
}

int createdump_list(const char *root, char ***units, size_t *n)
{
	char *dir = NULL, **names = NULL, *p;
	struct plat_stat st;
	size_t nn = 0, i, out = 0;
	int rc;

	*units = NULL;
	*n = 0;
	if (root == NULL || root[0] == '\0')
		root = "/";
	dir = malloc(strlen(root) + 32);
	if (dir == NULL)
		return DS_ENOMEM;
	sprintf(dir, "%s%setc/systemd/system", root, root[strlen(root) - 1] == '/' ? "" : "/");
	rc = plat_dir_list(dir, 100000, &names, &nn);
	if (rc == DS_ENOENT) {
		rc = DS_OK;
		goto out;
	}
	if (rc != DS_OK)
		goto out;
	for (i = 0; i < nn; i++) {
		size_t l = strlen(names[i]);
		if (l < 3 || strcmp(names[i] + l - 2, ".d") != 0)
			goto drop;
		names[i][l - 2] = '\0';
		p = createdump_dropin_path(root, names[i]);
		if (p == NULL || plat_lstat(p, &st) != DS_OK || !st.is_regular) {
			free(p);
			goto drop;
		}
		free(p);
		names[out++] = names[i];
		continue;
drop:
		free(names[i]);
	}
	*units = names;
	*n = out;
	names = NULL;
out:
	free(names);
	free(dir);
	return rc;
}
