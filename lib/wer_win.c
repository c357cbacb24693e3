/* wer_win.c - Windows Error Reporting's LocalDumps key: applies the configuration's "wer" section,
 * keeps the values it replaced in a JSON file (type and bytes, or "absent") so revert restores them
 * exactly, and diagnoses what silently defeats collection. Registry access goes through win_reg_*;
 * this file decides only which values to write and what to warn about. It does not watch dumps. */
#include "wer.h"

#include "analyzer/engine_info.h"
#include "analyzer/heap_run.h"
#include "core/buf.h"
#include "core/plat.h"
#include "core/win.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define WER_KEY_MAX 512
#define WER_SAVED_VERSION 1

/* One value dumpscout writes. */
struct wer_target {
	char key[WER_KEY_MAX];
	const char *name;
	uint32_t type;      /* WIN_REG_EXPAND_SZ or WIN_REG_DWORD */
	const char *str;    /* EXPAND_SZ */
	uint32_t dword;     /* DWORD */
};

static const char *const wer_value_names[] = { "DumpFolder", "DumpCount", "DumpType", "CustomDumpFlags" };

char *wer_dump_folder(const struct config *cfg)
{
	const char *src = cfg->wer_dump_folder != NULL && cfg->wer_dump_folder[0] != '\0' ? cfg->wer_dump_folder
											: cfg->dump_dirs[0];
	char *s = strdup(src), *p;
	size_t n;

	if (s == NULL)
		return NULL;
	for (p = s; *p != '\0'; p++)
		if (*p == '/')
			*p = '\\';
	n = strlen(s);
	while (n > 3 && s[n - 1] == '\\')
		s[--n] = '\0';
	return s;
}

static int wer_ieq(const char *a, const char *b)
{
	for (; *a != '\0' && *b != '\0'; a++, b++) {
		char x = *a >= 'A' && *a <= 'Z' ? (char)(*a + 32) : *a, y = *b >= 'A' && *b <= 'Z' ? (char)(*b + 32) : *b;

		if (x == '/')
			x = '\\';
		if (y == '/')
			y = '\\';
		if (x != y)
			return 0;
	}
	return *a == *b;
}

static const char *wer_type_name(uint32_t t)
{
	switch (t) {
	case WIN_REG_SZ: return "REG_SZ";
	case WIN_REG_EXPAND_SZ: return "REG_EXPAND_SZ";
	case WIN_REG_BINARY: return "REG_BINARY";
	case WIN_REG_DWORD: return "REG_DWORD";
	case WIN_REG_MULTI_SZ: return "REG_MULTI_SZ";
	case WIN_REG_QWORD: return "REG_QWORD";
	default: return "REG_OTHER";
	}
}

/* The values the configuration asks for, globally and per application: *out malloc'd, *n entries. */
static int wer_targets(const struct config *cfg, const char *folder, struct wer_target **out, size_t *n)
{
	size_t keys = 1 + cfg->nwer_apps, i, k = 0;
	struct wer_target *t;
	int rc = DS_OK;

	*out = NULL;
	*n = 0;
	t = calloc(keys * 4, sizeof(*t));
	if (t == NULL)
		return DS_ENOMEM;
	for (i = 0; i < keys; i++) {
		char key[WER_KEY_MAX];
		int len = i == 0 ? snprintf(key, sizeof(key), "%s", WER_LOCALDUMPS_KEY)
				 : snprintf(key, sizeof(key), "%s\\%s", WER_LOCALDUMPS_KEY, cfg->wer_apps[i - 1]);

		if (len < 0 || (size_t)len >= sizeof(key)) {
			rc = DS_EINVAL;
			goto out;
		}
		memcpy(t[k].key, key, (size_t)len + 1);
		t[k].name = "DumpFolder";
		t[k].type = WIN_REG_EXPAND_SZ;
		t[k++].str = folder;
		memcpy(t[k].key, key, (size_t)len + 1);
		t[k].name = "DumpCount";
		t[k].type = WIN_REG_DWORD;
		t[k++].dword = cfg->wer_dump_count;
		memcpy(t[k].key, key, (size_t)len + 1);
		t[k].name = "DumpType";
		t[k].type = WIN_REG_DWORD;
		t[k++].dword = cfg->wer_dump_type;
		if (cfg->wer_dump_type == 0) { /* CustomDumpFlags means something only with DumpType 0 */
			memcpy(t[k].key, key, (size_t)len + 1);
			t[k].name = "CustomDumpFlags";
			t[k].type = WIN_REG_DWORD;
			t[k++].dword = cfg->wer_custom_dump_flags;
		}
	}
	*out = t;
	*n = k;
	t = NULL;
out:
	free(t);
	return rc;
}

/* ---- the saved file ---- */

static char *wer_hex(const unsigned char *d, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	char *s = malloc(n * 2 + 1);
	size_t i;

	if (s == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		s[2 * i] = digits[d[i] >> 4];
		s[2 * i + 1] = digits[d[i] & 15];
	}
	s[2 * n] = '\0';
	return s;
}

static int wer_unhex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Hex text to bytes (malloc'd, non-NULL even when empty). DS_ECORRUPT on odd length or a bad digit. */
static int wer_unhex(const char *s, unsigned char **out, size_t *n)
{
	size_t len = strlen(s), i;
	unsigned char *d;
	int hi, lo;

	*out = NULL;
	if (len % 2 != 0 || len / 2 > WIN_REG_MAX_DATA)
		return DS_ECORRUPT;
	d = malloc(len / 2 + 1);
	if (d == NULL)
		return DS_ENOMEM;
	for (i = 0; i < len / 2; i++) {
		hi = wer_unhex_digit(s[2 * i]);
		lo = wer_unhex_digit(s[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			free(d);
			return DS_ECORRUPT;
		}
		d[i] = (unsigned char)(hi << 4 | lo);
	}
	*out = d;
	*n = len / 2;
	return DS_OK;
}

/* Reads the saved file: *root is NULL when there is none. DS_ECORRUPT when it is not what we wrote. */
static int wer_saved_read(const char *path, cJSON **root, struct ds_err *e)
{
	char *text = NULL;
	size_t len = 0;
	cJSON *r = NULL;
	int rc;

	*root = NULL;
	rc = plat_read_file(path, WER_SAVED_MAX, &text, &len);
	if (rc == DS_ENOENT) {
		rc = DS_OK;
		goto out;
	}
	if (rc != DS_OK) {
		ds_err_setn(e, rc, "%s: %s", path, ds_strerror(rc));
		goto out;
	}
	r = cJSON_ParseWithLength(text, len);
	if (r == NULL || !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(r, "values")) ||
	    !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(r, "keys"))) {
		rc = ds_err_setn(e, DS_ECORRUPT, "%s: not a dumpscout saved-values file (remove it only if you "
						 "know LocalDumps' original values)", path);
		goto out;
	}
	*root = r;
	r = NULL;
out:
	cJSON_Delete(r);
	free(text);
	return rc;
}

static cJSON *wer_saved_find(cJSON *arr, const char *key, const char *name)
{
	cJSON *it, *k, *n;

	cJSON_ArrayForEach(it, arr) {
		k = cJSON_GetObjectItemCaseSensitive(it, "key");
		n = cJSON_GetObjectItemCaseSensitive(it, "name");
		if (cJSON_IsString(k) && wer_ieq(k->valuestring, key) &&
		    (name == NULL || (cJSON_IsString(n) && wer_ieq(n->valuestring, name))))
			return it;
	}
	return NULL;
}

/* Adds the current state of key\name to the saved values. */
static int wer_saved_add_value(cJSON *values, const char *key, const char *name)
{
	unsigned char *data = NULL;
	char *hex = NULL;
	size_t len = 0;
	uint32_t type = 0;
	cJSON *o;
	int rc;

	rc = win_reg_get(key, name, &type, &data, &len);
	if (rc != DS_OK && rc != DS_ENOENT)
		goto out;
	o = cJSON_CreateObject();
	if (o == NULL || !cJSON_AddItemToArray(values, o)) {
		cJSON_Delete(o);
		rc = DS_ENOMEM;
		goto out;
	}
	cJSON_AddStringToObject(o, "key", key);
	cJSON_AddStringToObject(o, "name", name);
	cJSON_AddBoolToObject(o, "present", rc == DS_OK);
	if (rc == DS_OK) {
		hex = wer_hex(data, len);
		if (hex == NULL) {
			rc = DS_ENOMEM;
			goto out;
		}
		cJSON_AddNumberToObject(o, "type", type);
		cJSON_AddStringToObject(o, "type_name", wer_type_name(type));
		cJSON_AddStringToObject(o, "data", hex);
	}
	rc = DS_OK;
out:
	free(hex);
	free(data);
	return rc;
}

static int wer_saved_write(const char *path, cJSON *root, struct ds_err *e)
{
	char *text = cJSON_Print(root), *dir = NULL, *slash;
	int rc;

	if (text == NULL)
		return ds_err_setn(e, DS_ENOMEM, "out of memory");
	dir = strdup(path);
	if (dir == NULL) {
		rc = ds_err_setn(e, DS_ENOMEM, "out of memory");
		goto out;
	}
	slash = strrchr(dir, '\\');
	if (slash == NULL || (strrchr(dir, '/') != NULL && strrchr(dir, '/') > slash))
		slash = strrchr(dir, '/');
	if (slash != NULL) {
		*slash = '\0';
		plat_mkdirs(dir, 0700);
	}
	rc = plat_write_file_atomic(path, text, strlen(text), 0600);
	if (rc != DS_OK)
		ds_err_setn(e, rc, "%s: cannot save LocalDumps' previous values: %s", path, ds_strerror(rc));
out:
	free(dir);
	free(text);
	return rc;
}

static int wer_perm(int rc, const char *what, struct ds_err *e)
{
	if (rc == DS_EPERM)
		return ds_err_setn(e, rc, "%s: permission denied (run as an administrator)", what);
	return ds_err_setn(e, rc, "%s: %s", what, ds_strerror(rc));
}

int wer_apply(const struct config *cfg, const char *saved_path, FILE *out, struct ds_err *e)
{
	struct wer_target *t = NULL;
	cJSON *root = NULL, *keys, *values, *o;
	char *folder = NULL, *cur = NULL;
	size_t n = 0, i;
	uint32_t dw;
	int rc, changed = 0, added = 0;

	folder = wer_dump_folder(cfg);
	if (folder == NULL) {
		rc = ds_err_setn(e, DS_ENOMEM, "out of memory");
		goto out;
	}
	rc = wer_targets(cfg, folder, &t, &n);
	if (rc != DS_OK) {
		ds_err_setn(e, rc, "wer.applications: a key name is too long");
		goto out;
	}
	rc = wer_saved_read(saved_path, &root, e);
	if (rc != DS_OK)
		goto out;
	if (root == NULL) {
		root = cJSON_CreateObject();
		if (root == NULL || cJSON_AddNumberToObject(root, "version", WER_SAVED_VERSION) == NULL ||
		    cJSON_AddNumberToObject(root, "saved_at_ms", (double)plat_now_ms()) == NULL ||
		    cJSON_AddArrayToObject(root, "keys") == NULL || cJSON_AddArrayToObject(root, "values") == NULL) {
			rc = ds_err_setn(e, DS_ENOMEM, "out of memory");
			goto out;
		}
	}
	keys = cJSON_GetObjectItemCaseSensitive(root, "keys");
	values = cJSON_GetObjectItemCaseSensitive(root, "values");
	/* First record everything not recorded yet, and write that down, before any change. */
	for (i = 0; i < n; i++) {
		if (wer_saved_find(keys, t[i].key, NULL) == NULL) {
			o = cJSON_CreateObject();
			if (o == NULL || !cJSON_AddItemToArray(keys, o)) {
				cJSON_Delete(o);
				rc = ds_err_setn(e, DS_ENOMEM, "out of memory");
				goto out;
			}
			cJSON_AddStringToObject(o, "key", t[i].key);
			cJSON_AddBoolToObject(o, "existed", win_reg_key_exists(t[i].key));
			added = 1;
		}
		if (wer_saved_find(values, t[i].key, t[i].name) == NULL) {
			rc = wer_saved_add_value(values, t[i].key, t[i].name);
			if (rc != DS_OK) {
				wer_perm(rc, t[i].key, e);
				goto out;
			}
			added = 1;
		}
	}
	if (added) {
		rc = wer_saved_write(saved_path, root, e);
		if (rc != DS_OK)
			goto out;
	}
	for (i = 0; i < n; i++) {
		if (t[i].type == WIN_REG_DWORD) {
			if (win_reg_get_dword(t[i].key, t[i].name, &dw) == DS_OK && dw == t[i].dword)
				continue;
			rc = win_reg_set_dword(t[i].key, t[i].name, t[i].dword);
			if (rc == DS_OK && out != NULL)
				fprintf(out, "%s\\%s = %u (REG_DWORD)\n", t[i].key, t[i].name, (unsigned)t[i].dword);
		} else {
			uint32_t type = 0;

			free(cur);
			cur = NULL;
			if (win_reg_get_str(t[i].key, t[i].name, &type, &cur) == DS_OK && type == t[i].type &&
			    strcmp(cur, t[i].str) == 0)
				continue;
			rc = win_reg_set_str(t[i].key, t[i].name, t[i].type, t[i].str);
			if (rc == DS_OK && out != NULL)
				fprintf(out, "%s\\%s = %s (REG_EXPAND_SZ)\n", t[i].key, t[i].name, t[i].str);
		}
		if (rc != DS_OK) {
			wer_perm(rc, t[i].key, e);
			goto out;
		}
		changed++;
	}
	if (out != NULL && changed == 0)
		fprintf(out, "LocalDumps already matches the configuration\n");
	rc = DS_OK;
out:
	free(cur);
	free(folder);
	free(t);
	cJSON_Delete(root);
	return rc;
}

int wer_revert(const char *saved_path, FILE *out, int *reverted, struct ds_err *e)
{
	cJSON *root = NULL, *keys, *values, *it, *k, *nm, *pr, *ty, *da;
	unsigned char *data = NULL;
	size_t len = 0;
	int rc, i, failed = 0, r;

	*reverted = 0;
	rc = wer_saved_read(saved_path, &root, e);
	if (rc != DS_OK || root == NULL)
		goto out;
	keys = cJSON_GetObjectItemCaseSensitive(root, "keys");
	values = cJSON_GetObjectItemCaseSensitive(root, "values");
	cJSON_ArrayForEach(it, values) {
		k = cJSON_GetObjectItemCaseSensitive(it, "key");
		nm = cJSON_GetObjectItemCaseSensitive(it, "name");
		pr = cJSON_GetObjectItemCaseSensitive(it, "present");
		ty = cJSON_GetObjectItemCaseSensitive(it, "type");
		da = cJSON_GetObjectItemCaseSensitive(it, "data");
		if (!cJSON_IsString(k) || !cJSON_IsString(nm) || !cJSON_IsBool(pr) ||
		    (cJSON_IsTrue(pr) && (!cJSON_IsNumber(ty) || !cJSON_IsString(da) || ty->valuedouble < 0 ||
					  ty->valuedouble > 0xffffffffu))) {
			rc = ds_err_setn(e, DS_ECORRUPT, "%s: a damaged entry; nothing was restored from it", saved_path);
			failed = 1;
			continue;
		}
		if (cJSON_IsTrue(pr)) {
			free(data);
			data = NULL;
			r = wer_unhex(da->valuestring, &data, &len);
			if (r == DS_OK)
				r = win_reg_set(k->valuestring, nm->valuestring, (uint32_t)ty->valuedouble, data, len);
			if (r == DS_OK && out != NULL)
				fprintf(out, "restored %s\\%s (%s, %zu bytes)\n", k->valuestring, nm->valuestring,
					wer_type_name((uint32_t)ty->valuedouble), len);
		} else {
			r = win_reg_delete(k->valuestring, nm->valuestring);
			if (r == DS_ENOENT)
				r = DS_OK;
			if (r == DS_OK && out != NULL)
				fprintf(out, "removed %s\\%s (it was absent)\n", k->valuestring, nm->valuestring);
		}
		if (r != DS_OK) {
			rc = wer_perm(r, k->valuestring, e);
			failed = 1;
		}
	}
	/* Keys that did not exist: deepest (recorded last) first, and only once empty. */
	for (i = cJSON_GetArraySize(keys) - 1; i >= 0; i--) {
		it = cJSON_GetArrayItem(keys, i);
		k = cJSON_GetObjectItemCaseSensitive(it, "key");
		if (!cJSON_IsString(k) || !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(it, "existed")))
			continue;
		r = win_reg_delete_key_if_empty(k->valuestring);
		if (r == DS_OK && out != NULL)
			fprintf(out, "removed key %s (it did not exist)\n", k->valuestring);
		else if (r == DS_EEXIST && out != NULL)
			fprintf(out, "kept key %s: it did not exist before, but now holds values dumpscout did not write\n",
				k->valuestring);
	}
	if (failed)
		goto out;
	r = plat_unlink(saved_path);
	if (r != DS_OK && r != DS_ENOENT) {
		rc = ds_err_setn(e, r, "%s: restored, but cannot remove the file: %s", saved_path, ds_strerror(r));
		goto out;
	}
	*reverted = 1;
	rc = DS_OK;
out:
	free(data);
	cJSON_Delete(root);
	return rc;
}

/* ---- status ---- */

struct wer_report {
	FILE *out;
	int json;
	cJSON *root, *warnings;
	int nwarn;
};

static void wer_warn(struct wer_report *r, const char *fmt, ...) DS_PRINTF(2, 3);

static void wer_warn(struct wer_report *r, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r->nwarn++;
	if (r->json)
		cJSON_AddItemToArray(r->warnings, cJSON_CreateString(msg));
	else
		fprintf(r->out, "warning: %s\n", msg);
}

/* The values of one LocalDumps key, printed and returned in o; *dump_type is -1 when absent. */
static void wer_status_key(struct wer_report *r, const char *key, const char *label, cJSON *o, int64_t *dump_type,
			   char **folder)
{
	unsigned char *data;
	size_t len, i;
	uint32_t type, dw;
	char *s;
	cJSON *v;

	*dump_type = -1;
	if (!r->json)
		fprintf(r->out, "%s (%s)%s\n", label, key, win_reg_key_exists(key) ? "" : ": absent");
	cJSON_AddBoolToObject(o, "exists", win_reg_key_exists(key));
	for (i = 0; i < DS_ARRAY_LEN(wer_value_names); i++) {
		data = NULL;
		if (win_reg_get(key, wer_value_names[i], &type, &data, &len) != DS_OK) {
			free(data);
			continue;
		}
		v = cJSON_AddObjectToObject(o, wer_value_names[i]);
		cJSON_AddStringToObject(v, "type", wer_type_name(type));
		if (type == WIN_REG_DWORD && len == 4) {
			memcpy(&dw, data, 4);
			cJSON_AddNumberToObject(v, "value", dw);
			if (!r->json)
				fprintf(r->out, "  %-16s %-14s %u\n", wer_value_names[i], wer_type_name(type), (unsigned)dw);
			if (strcmp(wer_value_names[i], "DumpType") == 0)
				*dump_type = dw;
		} else if ((type == WIN_REG_SZ || type == WIN_REG_EXPAND_SZ) &&
			   win_reg_get_str(key, wer_value_names[i], NULL, &s) == DS_OK) {
			cJSON_AddStringToObject(v, "value", s);
			if (!r->json)
				fprintf(r->out, "  %-16s %-14s %s\n", wer_value_names[i], wer_type_name(type), s);
			if (folder != NULL && strcmp(wer_value_names[i], "DumpFolder") == 0) {
				free(*folder);
				*folder = s;
				s = NULL;
			}
			free(s);
		} else if (!r->json) {
			fprintf(r->out, "  %-16s %-14s (%zu bytes)\n", wer_value_names[i], wer_type_name(type), len);
		}
		free(data);
	}
}

static int wer_contains_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle), i;
	char a[64];

	for (; *hay != '\0'; hay++) {
		for (i = 0; i < n && i < sizeof(a) && hay[i] != '\0'; i++) {
			char x = hay[i] >= 'A' && hay[i] <= 'Z' ? (char)(hay[i] + 32) : hay[i];
			char y = needle[i] >= 'A' && needle[i] <= 'Z' ? (char)(needle[i] + 32) : needle[i];

			if (x != y)
				break;
		}
		if (i == n)
			return 1;
	}
	return 0;
}

static void wer_status_folder(struct wer_report *r, const struct config *cfg, const char *folder)
{
	cJSON *o = cJSON_AddObjectToObject(r->root, "dump_folder");
	char *exp = NULL, *sddl = NULL;
	struct plat_stat st;
	size_t i;
	int yes = 0, watched = 0;

	if (folder == NULL || wer_contains_ci(folder, "%LOCALAPPDATA%")) {
		cJSON_AddStringToObject(o, "path", folder != NULL ? folder : "%LOCALAPPDATA%\\CrashDumps");
		wer_warn(r, "dumps go to %%LOCALAPPDATA%%\\CrashDumps of each crashing user: a service's dumps land in "
			    "its own profile (LocalSystem's is C:\\Windows\\System32\\config\\systemprofile\\AppData\\Local"
			    "\\CrashDumps), which dumpscout does not watch; run 'dumpscout wer apply'");
		return;
	}
	cJSON_AddStringToObject(o, "path", folder);
	exp = win_reg_expand(folder);
	if (exp == NULL)
		goto out;
	cJSON_AddStringToObject(o, "expanded", exp);
	for (i = 0; i < cfg->ndump_dirs; i++)
		if (wer_ieq(cfg->dump_dirs[i], exp))
			watched = 1;
	cJSON_AddBoolToObject(o, "watched", watched);
	if (plat_lstat(exp, &st) != DS_OK || !st.is_dir) {
		cJSON_AddBoolToObject(o, "exists", 0);
		wer_warn(r, "the dump folder %s does not exist: WER cannot write dumps there (the service creates it "
			    "at start)", exp);
		goto out;
	}
	cJSON_AddBoolToObject(o, "exists", 1);
	if (win_acl_get_sddl(exp, &sddl) == DS_OK)
		cJSON_AddStringToObject(o, "sddl", sddl);
	if (win_acl_users_can_create(exp, &yes) == DS_OK) {
		cJSON_AddBoolToObject(o, "users_can_create", yes);
		if (!yes)
			wer_warn(r, "crashing processes cannot create files in %s (its ACL lets no ordinary user add "
				    "files): dumps of programs not running as an administrator are lost", exp);
	}
	if (!r->json)
		fprintf(r->out, "dump folder %s: %s, every user may create files: %s%s%s\n", exp,
			watched ? "watched by the service" : "NOT watched by the service", yes ? "yes" : "no",
			sddl != NULL ? ", ACL " : "", sddl != NULL ? sddl : "");
	if (!watched)
		wer_warn(r, "the dump folder %s is not one of the service's dump_dirs: dumps written there are not "
			    "triaged", exp);
out:
	free(sddl);
	free(exp);
}

int wer_status(const struct config *cfg, const char *saved_path, FILE *out, int json, int *warnings)
{
	struct wer_report r;
	struct plat_stat st;
	char key[WER_KEY_MAX], *folder = NULL, *dbg = NULL, *aut = NULL, *engine = NULL, *text;
	struct engine_info ei;
	char **subs = NULL;
	size_t nsubs = 0, i;
	cJSON *o, *apps;
	int64_t type;
	uint32_t t;
	int rc = DS_OK;

	memset(&r, 0, sizeof(r));
	r.out = out;
	r.json = json;
	r.root = cJSON_CreateObject();
	r.warnings = cJSON_AddArrayToObject(r.root, "warnings");
	if (r.root == NULL || r.warnings == NULL) {
		cJSON_Delete(r.root);
		return DS_ENOMEM;
	}
	o = cJSON_AddObjectToObject(r.root, "localdumps");
	wer_status_key(&r, WER_LOCALDUMPS_KEY, "LocalDumps", o, &type, &folder);
	if (!win_reg_key_exists(WER_LOCALDUMPS_KEY))
		wer_warn(&r, "LocalDumps is not configured: Windows keeps no local crash dumps (start the service or "
			     "run 'dumpscout wer apply')");
	else if (type == 1 || type == -1)
		wer_warn(&r, "DumpType is %s at %s: mini dumps hold no heap, so .NET leak analysis is impossible "
			     "(set 2, a full dump)", type == 1 ? "1" : "absent (default 1)", WER_LOCALDUMPS_KEY);
	apps = cJSON_AddObjectToObject(r.root, "applications");
	if (win_reg_subkeys(WER_LOCALDUMPS_KEY, 1024, &subs, &nsubs) == DS_OK) {
		for (i = 0; i < nsubs; i++) {
			if ((size_t)snprintf(key, sizeof(key), "%s\\%s", WER_LOCALDUMPS_KEY, subs[i]) >= sizeof(key))
				continue;
			wer_status_key(&r, key, subs[i], cJSON_AddObjectToObject(apps, subs[i]), &type, NULL);
			if (type == 1)
				wer_warn(&r, "DumpType is 1 for %s: its dumps hold no heap (set 2)", subs[i]);
		}
	}
	cJSON_AddBoolToObject(r.root, "saved", plat_lstat(saved_path, &st) == DS_OK);
	cJSON_AddStringToObject(r.root, "saved_file", saved_path);
	if (!json)
		fprintf(out, "previous values saved by dumpscout: %s (%s)\n",
			plat_lstat(saved_path, &st) == DS_OK ? "yes" : "no", saved_path);
	wer_status_folder(&r, cfg, folder);
	/* AeDebug with Auto=1: Windows starts the debugger instead of WER writing the dump. */
	win_reg_get_str(WER_AEDEBUG_KEY, "Debugger", NULL, &dbg);
	if (win_reg_get_str(WER_AEDEBUG_KEY, "Auto", NULL, &aut) != DS_OK && win_reg_get_dword(WER_AEDEBUG_KEY, "Auto", &t) == DS_OK) {
		aut = malloc(12);
		if (aut != NULL)
			snprintf(aut, 12, "%u", (unsigned)t);
	}
	o = cJSON_AddObjectToObject(r.root, "aedebug");
	cJSON_AddStringToObject(o, "debugger", dbg != NULL ? dbg : "");
	cJSON_AddStringToObject(o, "auto", aut != NULL ? aut : "");
	if (!json)
		fprintf(out, "AeDebug debugger: %s (Auto=%s)\n", dbg != NULL && dbg[0] != '\0' ? dbg : "none",
			aut != NULL ? aut : "absent");
	if (dbg != NULL && dbg[0] != '\0' && aut != NULL && strcmp(aut, "1") == 0)
		wer_warn(&r, "an AeDebug debugger runs automatically (%s, Auto=1): crashes go to it and WER writes no "
			     "LocalDumps dump; set Auto to 0 or remove the Debugger value under %s", dbg, WER_AEDEBUG_KEY);
	engine = heap_find_engine(cfg->engine);
	o = cJSON_AddObjectToObject(r.root, "heap_engine");
	if (engine != NULL) {
		if (engine_info_read(engine, &ei) != DS_OK)
			memset(&ei, 0, sizeof(ei));
		cJSON_AddStringToObject(o, "path", engine);
		cJSON_AddStringToObject(o, "version", ei.version);
		cJSON_AddStringToObject(o, "clrmd", ei.clrmd);
		cJSON_AddStringToObject(o, "target", ei.target);
		cJSON_AddBoolToObject(o, "self_contained", ei.self_contained);
		if (!json)
			fprintf(out, "heap engine: %s (%s %s, ClrMD %s, %s%s)\n", engine, HEAP_ENGINE_NAME,
				ei.version[0] ? ei.version : "version unknown", ei.clrmd[0] ? ei.clrmd : "unknown",
				ei.target[0] ? ei.target : "runtime unknown",
				ei.self_contained ? ", self-contained" : ", needs an installed .NET runtime");
	} else {
		cJSON_AddNullToObject(o, "path");
		cJSON_AddStringToObject(o, "enable",
					"reinstall dumpscout.msi (it installs the engine as engine\\dumpscout-heap.exe beside "
					"dumpscout.exe), or set analysis.engine to a dumpscout-heap.exe");
		wer_warn(&r, "no heap engine (%s.exe in engine\\ beside the program, analysis.engine, PATH): .NET dumps are "
			     "triaged natively and marked unsupported for managed analysis; reinstall dumpscout.msi, which "
			     "installs it, or set analysis.engine", HEAP_ENGINE_NAME);
	}
	*warnings = r.nwarn;
	if (json) {
		text = cJSON_Print(r.root);
		if (text == NULL) {
			rc = DS_ENOMEM;
			goto out;
		}
		fprintf(out, "%s\n", text);
		free(text);
	} else if (r.nwarn == 0) {
		fprintf(out, "no problems found\n");
	}
out:
	plat_dir_list_free(subs, nsubs);
	free(engine);
	free(dbg);
	free(aut);
	free(folder);
	cJSON_Delete(r.root);
	return rc;
}
