/* config_value.c - the typed readers every part of the configuration shares (config_value.h): one rule
 * for integers, strings, booleans, relative paths and passwords, whichever section holds them. It
 * reads single values; which keys a section has and what they mean is the section's own file. */
#include "config_value.h"

#include "core/plat.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int config_value_uint(const cJSON *v, uint64_t min, uint64_t max, uint64_t *out)
{
	double d;

	if (!cJSON_IsNumber(v))
		return 0;
	d = v->valuedouble;
	/* range first (NaN fails both), so the cast below is defined */
	if (!(d >= (double)min && d <= (double)max) || d != (double)(uint64_t)d)
		return 0;
	*out = (uint64_t)d;
	return 1;
}

int config_value_section(const cJSON *v, const char *name, const char *const *keys, size_t nkeys, struct ds_err *e)
{
	const cJSON *it;
	size_t i;
	int rc = DS_OK;

	if (!cJSON_IsObject(v)) {
		rc = ds_err_setn(e, DS_EINVAL, "%s: must be an object", name);
		goto out;
	}
	cJSON_ArrayForEach(it, v) {
		for (i = 0; i < nkeys; i++)
			if (it->string != NULL && strcmp(it->string, keys[i]) == 0)
				break;
		if (i == nkeys) {
			rc = ds_err_setn(e, DS_EINVAL, "%s: unknown key '%.64s'", name, it->string ? it->string : "");
			goto out;
		}
	}
out:
	return rc;
}

int config_value_key_uint(const cJSON *section, const char *name, const char *key, uint64_t min, uint64_t max,
			  uint64_t *out, struct ds_err *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(section, key);

	if (v == NULL)
		return DS_OK;
	if (!config_value_uint(v, min, max, out))
		return ds_err_setn(e, DS_EINVAL, "%s.%s: must be a whole number from %llu to %llu", name, key,
				   (unsigned long long)min, (unsigned long long)max);
	return DS_OK;
}

int config_value_key_str(const cJSON *section, const char *name, const char *key, size_t max, int allow_empty,
			 char **out, struct ds_err *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(section, key);
	const unsigned char *p;
	char *s;
	size_t n;

	if (v == NULL)
		return DS_OK;
	if (!cJSON_IsString(v) || v->valuestring == NULL)
		return ds_err_setn(e, DS_EINVAL, "%s.%s: must be a string", name, key);
	n = strlen(v->valuestring);
	if ((n == 0 && !allow_empty) || n > max)
		return ds_err_setn(e, DS_EINVAL, "%s.%s: must be %d..%zu bytes", name, key, allow_empty ? 0 : 1, max);
	for (p = (const unsigned char *)v->valuestring; *p; p++)
		if (*p < 0x20 || *p == 0x7F)
			return ds_err_setn(e, DS_EINVAL, "%s.%s: control characters are not allowed", name, key);
	s = strdup(v->valuestring);
	if (s == NULL)
		return DS_ENOMEM;
	free(*out);
	*out = s;
	return DS_OK;
}

int config_value_key_bool(const cJSON *section, const char *name, const char *key, int *out, struct ds_err *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(section, key);

	if (v == NULL)
		return DS_OK;
	if (!cJSON_IsBool(v))
		return ds_err_setn(e, DS_EINVAL, "%s.%s: must be true or false", name, key);
	*out = cJSON_IsTrue(v) ? 1 : 0;
	return DS_OK;
}

int config_value_path(char **p, const char *base_dir)
{
	char *abs;
	size_t n;

	if (*p == NULL || plat_path_is_absolute(*p) || base_dir == NULL || base_dir[0] == '\0')
		return DS_OK;
	n = strlen(base_dir) + strlen(*p) + 2;
	abs = malloc(n);
	if (abs == NULL)
		return DS_ENOMEM;
	snprintf(abs, n, "%s/%s", base_dir, *p);
	free(*p);
	*p = abs;
	return DS_OK;
}

int config_value_secret_file(const char *name, const char *key, const char *path, struct ds_err *e)
{
	int mode = 0, rc = plat_file_mode(path, &mode);

	if (rc != DS_OK)
		return ds_err_setn(e, rc, "%s.%s: cannot read %s: %s", name, key, path, ds_strerror(rc));
	if (mode & 044)
		return ds_err_setn(e, DS_EPERM,
				   "%s.%s: %s has mode %04o: it must not be readable by group or others (chmod 600 %s)",
				   name, key, path, (unsigned)mode, path);
	return DS_OK;
}

void config_value_wipe(void *p, size_t n)
{
	volatile unsigned char *v = p;

	while (n-- > 0)
		*v++ = 0;
}

void config_value_secret_free(char *pw)
{
	if (pw != NULL) {
		config_value_wipe(pw, strlen(pw));
		free(pw);
	}
}

int config_value_secret(const char *name, const char *file, const char *env, size_t max, char **pw,
			struct ds_err *e)
{
	const char *v;
	char *data = NULL;
	size_t len = 0;
	int rc = DS_OK;

	*pw = NULL;
	if (env != NULL) {
		v = getenv(env);
		if (v == NULL) {
			rc = ds_err_setn(e, DS_ENOENT, "%s.password_env: the environment variable %s is not set", name,
					 env);
			goto out;
		}
		*pw = strdup(v);
		if (*pw == NULL)
			rc = DS_ENOMEM;
		goto out;
	}
	if (file == NULL)
		goto out;
	rc = config_value_secret_file(name, "password_file", file, e);
	if (rc != DS_OK)
		goto out;
	rc = plat_read_file(file, max, &data, &len);
	if (rc != DS_OK) {
		ds_err_setn(e, rc, "%s.password_file: cannot read %s: %s", name, file, ds_strerror(rc));
		goto out;
	}
	while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
		data[--len] = '\0';
	*pw = data;
	data = NULL;
out:
	if (data != NULL) {
		config_value_wipe(data, len);
		free(data);
	}
	return rc;
}
