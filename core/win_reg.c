/* win_reg.c - the registry (core/win.h): values read and written as raw bytes, strings and DWORDs, in the
 * 64-bit view, under "HKLM\\..." / "HKCU\\..." key names; and the expansion of REG_EXPAND_SZ strings. */
#include "core/plat_win.h"

#include "core/win.h"
#include "core/plat.h"
#include "core/ds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Splits "HKLM\path" into its root and the UTF-16 path below it (malloc'd). */
static wchar_t *win_reg_path(const char *key, HKEY *root, int *rc)
{
	static const struct {
		const char *prefix;
		HKEY root;
	} roots[] = { { "HKLM\\", HKEY_LOCAL_MACHINE }, { "HKEY_LOCAL_MACHINE\\", HKEY_LOCAL_MACHINE },
		      { "HKCU\\", HKEY_CURRENT_USER }, { "HKEY_CURRENT_USER\\", HKEY_CURRENT_USER } };
	size_t i, n;

	for (i = 0; i < DS_ARRAY_LEN(roots); i++) {
		n = strlen(roots[i].prefix);
		if (_strnicmp(key, roots[i].prefix, n) == 0 && key[n] != '\0') {
			*root = roots[i].root;
			return plat_win_wide(key + n, rc);
		}
	}
	*rc = DS_EINVAL;
	return NULL;
}

static int win_reg_open(const char *key, REGSAM access, int create, HKEY *out)
{
	wchar_t *w;
	HKEY root;
	LONG e;
	int rc;

	*out = NULL;
	w = win_reg_path(key, &root, &rc);
	if (w == NULL)
		return rc;
	if (create)
		e = RegCreateKeyExW(root, w, 0, NULL, REG_OPTION_NON_VOLATILE, access | KEY_WOW64_64KEY, NULL, out, NULL);
	else
		e = RegOpenKeyExW(root, w, 0, access | KEY_WOW64_64KEY, out);
	free(w);
	if (e != ERROR_SUCCESS) {
		*out = NULL;
		return plat_win_error((DWORD)e);
	}
	return DS_OK;
}

/* The value name in UTF-16; "" for NULL (the default value). */
static wchar_t *win_reg_name(const char *name, int *rc)
{
	return plat_win_wide(name != NULL ? name : "", rc);
}

/* Opens key (win_reg_open) and converts the value name: on DS_OK both *h and *wn are set; release them
 * with win_reg_value_close whatever it returned. */
static int win_reg_value_open(const char *key, const char *name, REGSAM access, int create, HKEY *h,
			      wchar_t **wn)
{
	int rc;

	*h = NULL;
	*wn = NULL;
	rc = win_reg_open(key, access, create, h);
	if (rc == DS_OK)
		*wn = win_reg_name(name, &rc);
	return rc;
}

static void win_reg_value_close(HKEY h, wchar_t *wn)
{
	free(wn);
	if (h != NULL)
		RegCloseKey(h);
}

int win_reg_get(const char *key, const char *name, uint32_t *type, unsigned char **data, size_t *len)
{
	HKEY h = NULL;
	wchar_t *wn = NULL;
	unsigned char *buf = NULL;
	DWORD t = 0, n = 0;
	LONG e;
	int rc, tries;

	*data = NULL;
	*len = 0;
	rc = win_reg_value_open(key, name, KEY_QUERY_VALUE, 0, &h, &wn);
	if (rc != DS_OK)
		goto out;
	/* The value may grow between the size query and the read: try a few times. */
	for (tries = 0; tries < 4; tries++) {
		e = RegQueryValueExW(h, wn, NULL, &t, NULL, &n);
		if (e != ERROR_SUCCESS) {
			rc = plat_win_error((DWORD)e);
			goto out;
		}
		if (n > WIN_REG_MAX_DATA) {
			rc = DS_ETOOBIG;
			goto out;
		}
		free(buf);
		buf = malloc(n + 2u);
		if (buf == NULL) {
			rc = DS_ENOMEM;
			goto out;
		}
		e = RegQueryValueExW(h, wn, NULL, &t, buf, &n);
		if (e == ERROR_SUCCESS)
			break;
		if (e != ERROR_MORE_DATA) {
			rc = plat_win_error((DWORD)e);
			goto out;
		}
	}
	if (tries == 4) {
		rc = DS_EIO;
		goto out;
	}
	buf[n] = buf[n + 1] = 0; /* callers reading a string never run off the end */
	*type = t;
	*data = buf;
	*len = n;
	buf = NULL;
	rc = DS_OK;
out:
	free(buf);
	win_reg_value_close(h, wn);
	return rc;
}

int win_reg_set(const char *key, const char *name, uint32_t type, const void *data, size_t len)
{
	HKEY h = NULL;
	wchar_t *wn = NULL;
	LONG e;
	int rc;

	if (len > WIN_REG_MAX_DATA)
		return DS_ETOOBIG;
	rc = win_reg_value_open(key, name, KEY_SET_VALUE, 1, &h, &wn);
	if (rc != DS_OK)
		goto out;
	e = RegSetValueExW(h, wn, 0, type, data, (DWORD)len);
	rc = e == ERROR_SUCCESS ? DS_OK : plat_win_error((DWORD)e);
out:
	win_reg_value_close(h, wn);
	return rc;
}

int win_reg_get_str(const char *key, const char *name, uint32_t *type, char **out)
{
	unsigned char *data = NULL;
	size_t len;
	uint32_t t;
	int rc;

	*out = NULL;
	rc = win_reg_get(key, name, &t, &data, &len);
	if (rc != DS_OK)
		goto out;
	if (t != REG_SZ && t != REG_EXPAND_SZ) {
		rc = DS_EINVAL;
		goto out;
	}
	/* win_reg_get terminates the data; a value stored without its terminator is read whole */
	*out = plat_win_utf8((const wchar_t *)data);
	rc = *out != NULL ? DS_OK : DS_EINVAL;
	if (type != NULL)
		*type = t;
out:
	free(data);
	return rc;
}

int win_reg_set_str(const char *key, const char *name, uint32_t type, const char *s)
{
	wchar_t *w;
	int rc;

	if (type != REG_SZ && type != REG_EXPAND_SZ)
		return DS_EINVAL;
	w = plat_win_wide(s, &rc);
	if (w == NULL)
		return rc;
	rc = win_reg_set(key, name, type, w, (wcslen(w) + 1) * sizeof(*w));
	free(w);
	return rc;
}

int win_reg_get_dword(const char *key, const char *name, uint32_t *out)
{
	unsigned char *data = NULL;
	size_t len;
	uint32_t t;
	int rc;

	rc = win_reg_get(key, name, &t, &data, &len);
	if (rc == DS_OK && (t != REG_DWORD || len != 4))
		rc = DS_EINVAL;
	if (rc == DS_OK)
		memcpy(out, data, 4); /* REG_DWORD is little-endian, like every Windows target */
	free(data);
	return rc;
}

int win_reg_set_dword(const char *key, const char *name, uint32_t v)
{
	DWORD d = v;

	return win_reg_set(key, name, REG_DWORD, &d, sizeof(d));
}

int win_reg_delete(const char *key, const char *name)
{
	HKEY h = NULL;
	wchar_t *wn = NULL;
	LONG e;
	int rc;

	rc = win_reg_value_open(key, name, KEY_SET_VALUE, 0, &h, &wn);
	if (rc != DS_OK)
		goto out;
	e = RegDeleteValueW(h, wn);
	rc = e == ERROR_SUCCESS ? DS_OK : plat_win_error((DWORD)e);
out:
	win_reg_value_close(h, wn);
	return rc;
}

int win_reg_key_exists(const char *key)
{
	HKEY h = NULL;

	if (win_reg_open(key, KEY_QUERY_VALUE, 0, &h) != DS_OK)
		return 0;
	RegCloseKey(h);
	return 1;
}

int win_reg_delete_key_if_empty(const char *key)
{
	HKEY h = NULL, root;
	DWORD nsub = 0, nval = 0;
	wchar_t *w = NULL;
	LONG e;
	int rc;

	rc = win_reg_open(key, KEY_QUERY_VALUE, 0, &h);
	if (rc != DS_OK)
		goto out;
	e = RegQueryInfoKeyW(h, NULL, NULL, NULL, &nsub, NULL, NULL, &nval, NULL, NULL, NULL, NULL);
	if (e != ERROR_SUCCESS) {
		rc = plat_win_error((DWORD)e);
		goto out;
	}
	if (nsub != 0 || nval != 0) {
		rc = DS_EEXIST;
		goto out;
	}
	w = win_reg_path(key, &root, &rc);
	if (w == NULL)
		goto out;
	e = RegDeleteKeyExW(root, w, KEY_WOW64_64KEY, 0);
	rc = e == ERROR_SUCCESS ? DS_OK : plat_win_error((DWORD)e);
out:
	free(w);
	if (h != NULL)
		RegCloseKey(h);
	return rc;
}

int win_reg_subkeys(const char *key, size_t max, char ***names, size_t *n)
{
	wchar_t name[256];
	char **v = NULL, **nv;
	size_t cnt = 0, cap = 0;
	DWORD i, len;
	HKEY h = NULL;
	LONG e;
	int rc;

	*names = NULL;
	*n = 0;
	rc = win_reg_open(key, KEY_ENUMERATE_SUB_KEYS, 0, &h);
	if (rc != DS_OK)
		goto out;
	for (i = 0;; i++) {
		len = DS_ARRAY_LEN(name); /* key names are at most 255 characters */
		e = RegEnumKeyExW(h, i, name, &len, NULL, NULL, NULL, NULL);
		if (e == ERROR_NO_MORE_ITEMS)
			break;
		if (e != ERROR_SUCCESS) {
			rc = plat_win_error((DWORD)e);
			goto out;
		}
		if (cnt == max) {
			rc = DS_ETOOBIG;
			goto out;
		}
		if (cnt == cap) {
			cap = cap ? cap * 2 : 16;
			nv = realloc(v, cap * sizeof(*v));
			if (nv == NULL) {
				rc = DS_ENOMEM;
				goto out;
			}
			v = nv;
		}
		v[cnt] = plat_win_utf8(name);
		if (v[cnt] == NULL) {
			rc = DS_ENOMEM;
			goto out;
		}
		cnt++;
	}
	*names = v;
	*n = cnt;
	v = NULL;
	rc = DS_OK;
out:
	if (v != NULL)
		plat_dir_list_free(v, cnt);
	if (h != NULL)
		RegCloseKey(h);
	return rc;
}

char *win_reg_expand(const char *s)
{
	wchar_t *w, *out = NULL;
	char *r = NULL;
	DWORD n;
	int rc;

	w = plat_win_wide(s, &rc);
	if (w == NULL)
		goto out;
	n = ExpandEnvironmentStringsW(w, NULL, 0);
	if (n == 0 || n > PLAT_WIN_PATH_MAX)
		goto out;
	out = malloc(n * sizeof(*out));
	if (out == NULL || ExpandEnvironmentStringsW(w, out, n) == 0 || ExpandEnvironmentStringsW(w, out, n) > n)
		goto out;
	r = plat_win_utf8(out);
out:
	free(out);
	free(w);
	return r;
}
