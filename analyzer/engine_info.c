/* engine_info.c - reads what an installed heap engine is from the dumpscout-heap.deps.json beside it (the
 * dependency manifest `dotnet publish` writes): the engine's own library entry, ClrMD's, and the runtime
 * pack that a self-contained publish lists. It never runs the engine and never trusts the file's text
 * beyond printable ASCII. */
#include "engine_info.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/plat.h"

#define ENGINE_INFO_MAX (4u << 20)
#define ENGINE_INFO_NAME "dumpscout-heap"

/* Copies s into dst (cap bytes) with anything but printable ASCII replaced by '?'. */
static void engine_info_copy(char *dst, size_t cap, const char *s, size_t n)
{
	size_t i;

	if (n >= cap)
		n = cap - 1;
	for (i = 0; i < n; i++)
		dst[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	dst[n] = '\0';
}

/* For a target entry "NAME/VERSION": when NAME is name (or starts with it, prefix != 0), VERSION into dst. */
static void engine_info_match(const char *key, const char *name, int prefix, char *dst, size_t cap)
{
	const char *slash = strrchr(key, '/');
	size_t n = strlen(name);

	if (slash != NULL && dst[0] == '\0' && strncmp(key, name, n) == 0 && (prefix || (size_t)(slash - key) == n))
		engine_info_copy(dst, cap, slash + 1, strlen(slash + 1));
}

int engine_info_read(const char *engine_path, struct engine_info *ei)
{
	char *path = NULL, *data = NULL;
	const char *base;
	size_t len, dirlen;
	cJSON *root = NULL, *rt, *name, *targets, *target, *entry;
	int rc;

	memset(ei, 0, sizeof(*ei));
	base = engine_path;
	for (const char *p = engine_path; *p; p++)
		if (plat_is_path_sep(*p))
			base = p + 1;
	dirlen = (size_t)(base - engine_path);
	path = malloc(dirlen + sizeof(ENGINE_INFO_NAME ".deps.json"));
	if (path == NULL) {
		rc = DS_ENOMEM;
		goto out;
	}
	memcpy(path, engine_path, dirlen);
	memcpy(path + dirlen, ENGINE_INFO_NAME ".deps.json", sizeof(ENGINE_INFO_NAME ".deps.json"));
	rc = plat_read_file(path, ENGINE_INFO_MAX, &data, &len);
	if (rc != DS_OK)
		goto out;
	root = cJSON_ParseWithLength(data, len);
	rt = cJSON_GetObjectItemCaseSensitive(root, "runtimeTarget");
	name = cJSON_GetObjectItemCaseSensitive(rt, "name");
	targets = cJSON_GetObjectItemCaseSensitive(root, "targets");
	if (!cJSON_IsString(name) || !cJSON_IsObject(targets)) {
		rc = DS_ECORRUPT;
		goto out;
	}
	engine_info_copy(ei->target, sizeof(ei->target), name->valuestring, strlen(name->valuestring));
	target = cJSON_GetObjectItemCaseSensitive(targets, name->valuestring);
	cJSON_ArrayForEach(entry, target) {
		if (entry->string == NULL)
			continue;
		engine_info_match(entry->string, ENGINE_INFO_NAME, 0, ei->version, sizeof(ei->version));
		engine_info_match(entry->string, "Microsoft.Diagnostics.Runtime", 0, ei->clrmd, sizeof(ei->clrmd));
		engine_info_match(entry->string, "runtimepack.Microsoft.NETCore.App.Runtime.", 1, ei->runtime,
				  sizeof(ei->runtime));
	}
	ei->self_contained = ei->runtime[0] != '\0';
	rc = DS_OK;
out:
	if (rc != DS_OK)
		memset(ei, 0, sizeof(*ei));
	cJSON_Delete(root);
	free(data);
	free(path);
	return rc;
}
