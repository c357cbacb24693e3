/* jget.h - typed, NULL-safe reads of the cJSON objects the store hands the CLI. A missing member or a
 * member of the wrong type gives the default, so a command never trusts the shape of stored JSON
 * (result_json and triage_json come from analysing hostile dumps). Header-only; thread-safe. */
#ifndef DS_CLI_JGET_H
#define DS_CLI_JGET_H

#include <cjson/cJSON.h>
#include <stdint.h>

/* The string member key of o, or NULL. Owned by o. */
static inline const char *jget_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The number member key of o as an integer, or def when missing, not a number or out of range. */
static inline int64_t jget_num(const cJSON *o, const char *key, int64_t def)
{
	const cJSON *v = cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;

	if (!cJSON_IsNumber(v) || v->valuedouble != v->valuedouble || v->valuedouble > 9.0e15 ||
	    v->valuedouble < -9.0e15)
		return def;
	return (int64_t)v->valuedouble;
}

/* 1 when member key is true (or a non-zero number), else 0. */
static inline int jget_bool(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;

	return cJSON_IsTrue(v) || (cJSON_IsNumber(v) && v->valuedouble != 0);
}

/* 1 when member key exists and is not null. */
static inline int jget_has(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;

	return v != NULL && !cJSON_IsNull(v);
}

/* The member key of o when it is an object / an array, else NULL. */
static inline const cJSON *jget_obj(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;

	return cJSON_IsObject(v) ? v : NULL;
}

static inline const cJSON *jget_arr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;

	return cJSON_IsArray(v) ? v : NULL;
}

#endif
