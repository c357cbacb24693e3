/* culprits.c - loads and matches the catalogue of known culprits (see culprits.h). The catalogue's
 * content lives in analyzer/culprits.json; this file only reads it, it decides nothing about chains. */
#include "culprits.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#define CULPRITS_MAX_JSON (1u << 20)
#define CULPRITS_MAX_ENTRIES 1000
#define CULPRITS_MAX_ALTS 64

void culprits_free(struct culprit_catalogue *cat)
{
	size_t i, j;

	if (cat == NULL)
		return;
	for (i = 0; i < cat->n; i++) {
		struct culprit_entry *e = &cat->entries[i];

		for (j = 0; j < e->nalts; j++) {
			free(e->alts[j].kind);
			free(e->alts[j].culprit);
			free(e->alts[j].chain);
			free(e->alts[j].static_type);
			free(e->alts[j].mechanism);
		}
		free(e->alts);
		free(e->id);
		free(e->title);
		free(e->explanation);
		free(e->advice);
	}
	free(cat->entries);
	cat->entries = NULL;
	cat->n = 0;
}

/* Copies an optional string member; -1 if present but not a string. */
static int opt_str(const cJSON *o, const char *key, char **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	*out = NULL;
	if (v == NULL)
		return 0;
	if (!cJSON_IsString(v) || v->valuestring == NULL)
		return -1;
	*out = strdup(v->valuestring);
	return *out ? 0 : -2;
}

static int load_entry(const cJSON *je, struct culprit_entry *e)
{
	const cJSON *m, *alt;
	size_t k = 0;
	int r;

	if (!cJSON_IsObject(je))
		return -1;
	if ((r = opt_str(je, "id", &e->id)) != 0 || (r = opt_str(je, "title", &e->title)) != 0 ||
	    (r = opt_str(je, "explanation", &e->explanation)) != 0 ||
	    (r = opt_str(je, "advice", &e->advice)) != 0)
		return r;
	if (e->id == NULL || e->title == NULL || e->advice == NULL || e->explanation == NULL)
		return -1;
	m = cJSON_GetObjectItemCaseSensitive(je, "match");
	if (!cJSON_IsArray(m) || cJSON_GetArraySize(m) < 1 || cJSON_GetArraySize(m) > CULPRITS_MAX_ALTS)
		return -1;
	e->alts = calloc((size_t)cJSON_GetArraySize(m), sizeof(*e->alts));
	if (e->alts == NULL)
		return -2;
	cJSON_ArrayForEach(alt, m) {
		if (!cJSON_IsObject(alt))
			return -1;
		e->nalts = k + 1;
		if ((r = opt_str(alt, "kind", &e->alts[k].kind)) != 0 ||
		    (r = opt_str(alt, "culprit", &e->alts[k].culprit)) != 0 ||
		    (r = opt_str(alt, "chain", &e->alts[k].chain)) != 0 ||
		    (r = opt_str(alt, "static_type", &e->alts[k].static_type)) != 0 ||
		    (r = opt_str(alt, "mechanism", &e->alts[k].mechanism)) != 0)
			return r;
		k++;
	}
	return 0;
}

int culprits_load(const char *json, size_t len, struct culprit_catalogue *cat, struct ds_err *err)
{
	cJSON *root = NULL;
	const cJSON *arr, *je;
	size_t i = 0;
	int rc = DS_OK, r;

	memset(cat, 0, sizeof(*cat));
	if (len > CULPRITS_MAX_JSON) {
		rc = ds_err_setn(err, DS_ETOOBIG, "culprit catalogue larger than %u bytes", CULPRITS_MAX_JSON);
		goto out;
	}
	root = cJSON_ParseWithLength(json, len);
	arr = root ? cJSON_GetObjectItemCaseSensitive(root, "culprits") : NULL;
	if (!cJSON_IsArray(arr)) {
		rc = ds_err_setn(err, DS_EFORMAT, "culprit catalogue: not JSON with a \"culprits\" array");
		goto out;
	}
	if (cJSON_GetArraySize(arr) > CULPRITS_MAX_ENTRIES) {
		rc = ds_err_setn(err, DS_ETOOBIG, "culprit catalogue: more than %d entries", CULPRITS_MAX_ENTRIES);
		goto out;
	}
	cat->entries = calloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof(*cat->entries));
	if (cat->entries == NULL) {
		rc = DS_ENOMEM;
		goto out;
	}
	cJSON_ArrayForEach(je, arr) {
		cat->n = i + 1;
		r = load_entry(je, &cat->entries[i]);
		if (r == -2) {
			rc = DS_ENOMEM;
			goto out;
		}
		if (r != 0) {
			rc = ds_err_setn(err, DS_EFORMAT, "culprit catalogue: entry %zu lacks id/title/"
				"explanation/advice strings or a match list of objects", i);
			goto out;
		}
		i++;
	}
out:
	if (rc != DS_OK)
		culprits_free(cat);
	cJSON_Delete(root);
	return rc;
}

int culprits_load_builtin(struct culprit_catalogue *cat, struct ds_err *err)
{
	return culprits_load(culprits_json, culprits_json_len, cat, err);
}

int culprits_glob(const char *pat, const char *s)
{
	const char *star = NULL, *resume = NULL;

	while (*s) {
		if (*pat == '*') {
			star = pat++;
			resume = s;
		} else if (*pat == '?' || *pat == *s) {
			pat++;
			s++;
		} else if (star != NULL) {
			pat = star + 1;
			s = ++resume;
		} else {
			return 0;
		}
	}
	while (*pat == '*')
		pat++;
	return *pat == '\0';
}

static int field_ok(const char *pat, const char *v, int exact)
{
	if (pat == NULL)
		return 1;
	if (v == NULL)
		return 0;
	return exact ? strcmp(pat, v) == 0 : culprits_glob(pat, v);
}

const struct culprit_entry *culprits_match(const struct culprit_catalogue *cat, const char *kind,
	const char *culprit, const char *chain, const char *static_type, const char *mechanism)
{
	size_t i, j;

	for (i = 0; i < cat->n; i++) {
		const struct culprit_entry *e = &cat->entries[i];

		for (j = 0; j < e->nalts; j++) {
			const struct culprit_alt *a = &e->alts[j];

			if (field_ok(a->kind, kind, 1) && field_ok(a->culprit, culprit, 0) &&
			    field_ok(a->chain, chain, 0) && field_ok(a->static_type, static_type, 0) &&
			    field_ok(a->mechanism, mechanism, 1))
				return e;
		}
	}
	return NULL;
}
