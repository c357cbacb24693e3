/* config.c - reads the service's JSON configuration into struct config: a table of known keys with
 * their types and ranges, defaults first, then the file on top. Every problem names the file and the
 * dotted key. It does not touch the folders it names nor decide what the values mean. */
#include "config.h"
#include "config_value.h"
#include "createdump.h"
#include "fleet_config.h"
#include "mail.h"

#include "core/buf.h"
#include "core/plat.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

enum config_type { CT_SECTION, CT_PATH, CT_STR, CT_U32, CT_U64, CT_PATHLIST, CT_UNITLIST, CT_LEVEL, CT_PASS,
		   CT_BOOL, CT_APPLIST, CT_FLEET };

struct config_key {
	const char *section; /* "" for the top level */
	const char *name;
	enum config_type type;
	size_t off;          /* offset of the field in struct config */
	size_t off_n;        /* lists: offset of the count */
	uint64_t min, max;   /* integers */
};

#define F(x) offsetof(struct config, x)
static const struct config_key config_keys[] = {
	{ "", "data_dir", CT_PATH, F(data_dir), 0, 0, 0 },
	{ "", "dump_dirs", CT_PATHLIST, F(dump_dirs), F(ndump_dirs), 1, CONFIG_MAX_DIRS },
	{ "", "db", CT_PATH, F(db), 0, 0, 0 },
	{ "", "log_level", CT_LEVEL, F(log_level), 0, 0, 0 },
	{ "", "heartbeat_s", CT_U32, F(heartbeat_s), 0, 1, 86400 },
	{ "", "watch", CT_SECTION, 0, 0, 0, 0 },
	{ "", "analysis", CT_SECTION, 0, 0, 0, 0 },
	{ "", "retries", CT_SECTION, 0, 0, 0, 0 },
	{ "", "retention", CT_SECTION, 0, 0, 0, 0 },
	{ "", "collection", CT_SECTION, 0, 0, 0, 0 },
	{ "", "mail", CT_PASS, F(mail), 0, 0, 0 },
	{ "", "fleet", CT_FLEET, F(fleet), 0, 0, 0 },
	{ "", "wer", CT_SECTION, 0, 0, 0, 0 },
	{ "watch", "stability_ms", CT_U32, F(stability_ms), 0, 0, 3600000 },
	{ "watch", "rescan_s", CT_U32, F(rescan_s), 0, 0, 86400 },
	{ "analysis", "concurrency", CT_U32, F(concurrency), 0, 1, 64 },
	{ "analysis", "engine", CT_PATH, F(engine), 0, 0, 0 },
	{ "analysis", "command_timeout_s", CT_U32, F(command_timeout_s), 0, 1, 86400 },
	{ "analysis", "dump_timeout_s", CT_U32, F(dump_timeout_s), 0, 1, 7 * 86400 },
	{ "analysis", "output_cap_bytes", CT_U64, F(output_cap_bytes), 0, 4096, (uint64_t)1 << 32 },
	{ "analysis", "max_roots", CT_U32, F(max_roots), 0, 1, 100000 },
	{ "analysis", "dac_dirs", CT_PATHLIST, F(dac_dirs), F(ndac_dirs), 0, CONFIG_MAX_DIRS },
	{ "retries", "max_attempts", CT_U32, F(max_attempts), 0, 1, 100 },
	{ "retries", "backoff_base_s", CT_U32, F(backoff_base_s), 0, 0, 86400 },
	{ "retention", "max_count", CT_U64, F(max_count), 0, 0, (uint64_t)1 << 40 },
	{ "retention", "max_bytes", CT_U64, F(max_bytes), 0, 0, (uint64_t)1 << 60 },
	{ "retention", "max_age_days", CT_U32, F(max_age_days), 0, 0, 36500 },
	{ "retention", "interval_s", CT_U32, F(retention_interval_s), 0, 10, 7 * 86400 },
	{ "collection", "units", CT_UNITLIST, F(units), F(nunits), 0, CONFIG_MAX_UNITS },
	{ "wer", "apply", CT_BOOL, F(wer_apply), 0, 0, 0 },
	{ "wer", "dump_folder", CT_PATH, F(wer_dump_folder), 0, 0, 0 },
	{ "wer", "dump_count", CT_U32, F(wer_dump_count), 0, 1, 10000 },
	{ "wer", "dump_type", CT_U32, F(wer_dump_type), 0, 0, 2 },
	{ "wer", "custom_dump_flags", CT_U32, F(wer_custom_dump_flags), 0, 0, 0xffffffffu },
	{ "wer", "applications", CT_APPLIST, F(wer_apps), F(nwer_apps), 0, CONFIG_MAX_UNITS },
};
#undef F

/* Where problems go: config_load keeps the first, config_check prints them all. */
struct config_report {
	const char *file;
	struct ds_err *e;
	FILE *out;
	int count;
};

static void config_problem(struct config_report *r, const char *fmt, ...) DS_PRINTF(2, 3);

static void config_problem(struct config_report *r, const char *fmt, ...)
{
	char msg[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (r->count == 0 && r->e != NULL)
		ds_err_setn(r->e, DS_EINVAL, "%s: %s", r->file, msg);
	if (r->out != NULL)
		fprintf(r->out, "%s: %s\n", r->file, msg);
	r->count++;
}

static char *config_join(const char *a, const char *b)
{
	struct buf o;

	buf_init(&o, 8192);
	if (buf_puts(&o, a) != DS_OK || (o.len > 0 && o.data[o.len - 1] != '/' && buf_puts(&o, "/") != DS_OK) ||
	    buf_puts(&o, b) != DS_OK) {
		buf_free(&o);
		return NULL;
	}
	return buf_steal(&o);
}

static char *config_default_data_dir;

char *config_file_dir(const char *file)
{
	const char *slash = NULL, *p;
	size_t n;
	char *d;

	for (p = file; p != NULL && *p != '\0'; p++)
		if (plat_is_path_sep((unsigned char)*p))
			slash = p;
	if (slash == NULL)
		return NULL;
	n = slash == file ? 1 : (size_t)(slash - file);
	d = malloc(n + 1);
	if (d != NULL) {
		memcpy(d, file, n);
		d[n] = '\0';
	}
	return d;
}

static char config_default_path_buf[4096];

const char *config_default_path(void)
{
	if (config_default_data_dir == NULL)
		return CONFIG_DEFAULT_PATH;
	snprintf(config_default_path_buf, sizeof(config_default_path_buf), "%s/dumpscout.json", config_default_data_dir);
	return config_default_path_buf;
}

int config_set_default_data_dir(const char *dir)
{
	char *c = NULL;

	if (dir != NULL && (c = strdup(dir)) == NULL)
		return DS_ENOMEM;
	free(config_default_data_dir);
	config_default_data_dir = c;
	return DS_OK;
}

/* An executable name for a LocalDumps subkey: "app.exe", no folder, nothing a key name cannot hold. */
static int config_app_valid(const char *s)
{
	size_t n = strlen(s), i;

	if (n < 5 || n > 200 || strcmp(s + n - 4, ".exe") != 0)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] == '\\' || s[i] == '/' || s[i] == ':' || s[i] == '*' || s[i] == '?' || s[i] == '"')
			return 0;
	return 1;
}

/* An absolute path: "/x" everywhere; on Windows also "C:\x", "C:/x" and "\\server\share". */
static int config_is_abs(const char *v)
{
	return plat_path_is_absolute(v);
}

int config_defaults(struct config *cfg)
{
	int rc = DS_ENOMEM;

	memset(cfg, 0, sizeof(*cfg));
	cfg->log_level = LOG_INFO;
	cfg->heartbeat_s = 30;
	cfg->stability_ms = 2000;
	cfg->rescan_s = 300;
	cfg->concurrency = 1;
	cfg->command_timeout_s = 120;
	cfg->dump_timeout_s = 600;
	cfg->output_cap_bytes = 64u << 20;
	cfg->max_roots = 64;
	cfg->max_attempts = 3;
	cfg->backoff_base_s = 60;
	cfg->max_count = 1000;
	cfg->max_bytes = (uint64_t)20 << 30;
	cfg->max_age_days = 90;
	cfg->retention_interval_s = 3600;
	cfg->wer_apply = 1;
	cfg->wer_dump_count = 10;
	cfg->wer_dump_type = 2;
	cfg->data_dir = strdup(config_default_data_dir != NULL ? config_default_data_dir : CONFIG_DEFAULT_DATA_DIR);
	cfg->engine = strdup("");
	cfg->wer_dump_folder = strdup("");
	if (cfg->data_dir == NULL || cfg->engine == NULL || cfg->wer_dump_folder == NULL)
		goto out;
	rc = DS_OK;
out:
	return rc;
}

/* Frees n strings and the array holding them. */
static void config_strv_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; v != NULL && i < n; i++)
		free(v[i]);
	free(v);
}

void config_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->file);
	free(cfg->data_dir);
	config_strv_free(cfg->dump_dirs, cfg->ndump_dirs);
	free(cfg->db);
	free(cfg->engine);
	config_strv_free(cfg->dac_dirs, cfg->ndac_dirs);
	config_strv_free(cfg->units, cfg->nunits);
	free(cfg->wer_dump_folder);
	config_strv_free(cfg->wer_apps, cfg->nwer_apps);
	mail_config_free(cfg->mail);
	fleet_config_free(cfg->fleet);
	memset(cfg, 0, sizeof(*cfg));
}

/* A path from the file: absolute as is, relative to the file's folder otherwise. Empty stays empty
 * (the engine's "find it"). */
static char *config_path(const char *base_dir, const char *v)
{
	if (config_is_abs(v) || v[0] == '\0' || base_dir == NULL)
		return strdup(v);
	if (strncmp(v, "./", 2) == 0)
		v += 2;
	return config_join(base_dir, v);
}

static const char *config_type_name(const cJSON *v)
{
	if (cJSON_IsString(v)) return "a string";
	if (cJSON_IsNumber(v)) return "a number";
	if (cJSON_IsBool(v)) return "a boolean";
	if (cJSON_IsNull(v)) return "null";
	if (cJSON_IsArray(v)) return "a list";
	if (cJSON_IsObject(v)) return "an object";
	return "something else";
}

static int config_has_ctl(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

/* One string list ("dump_dirs", "collection.units"). Returns DS_ENOMEM or DS_OK (problems reported). */
static int config_list(const struct config_key *k, const char *key, const cJSON *v, const char *base_dir,
		       struct config *cfg, struct config_report *r)
{
	char ***field = (char ***)((char *)cfg + k->off);
	size_t *nfield = (size_t *)((char *)cfg + k->off_n), n, i = 0;
	const cJSON *it;
	char **vec = NULL;
	int rc = DS_OK;

	if (!cJSON_IsArray(v)) {
		config_problem(r, "'%s' must be a list of strings, not %s", key, config_type_name(v));
		goto out;
	}
	n = (size_t)cJSON_GetArraySize(v);
	if (n < k->min || n > k->max) {
		config_problem(r, "'%s' must have %llu to %llu entries (has %zu)", key,
			       (unsigned long long)k->min, (unsigned long long)k->max, n);
		goto out;
	}
	vec = calloc(n ? n : 1, sizeof(*vec));
	if (vec == NULL) {
		rc = DS_ENOMEM;
		goto out;
	}
	cJSON_ArrayForEach(it, v) {
		if (!cJSON_IsString(it) || it->valuestring[0] == '\0' || config_has_ctl(it->valuestring)) {
			config_problem(r, "'%s[%zu]' must be a non-empty string, not %s", key, i,
				       cJSON_IsString(it) ? "an empty or control-character string" : config_type_name(it));
			goto out;
		}
		if (k->type == CT_UNITLIST && !createdump_unit_valid(it->valuestring)) {
			config_problem(r, "'%s[%zu]': '%s' is not a systemd service name (NAME.service)", key, i,
				       it->valuestring);
			goto out;
		}
		if (k->type == CT_APPLIST && !config_app_valid(it->valuestring)) {
			config_problem(r, "'%s[%zu]': '%s' is not an executable's file name (NAME.exe, no folder)", key,
				       i, it->valuestring);
			goto out;
		}
		vec[i] = k->type == CT_PATHLIST ? config_path(base_dir, it->valuestring) : strdup(it->valuestring);
		if (vec[i] == NULL) {
			rc = DS_ENOMEM;
			goto out;
		}
		i++;
	}
	n = i;
	for (i = 0; i < *nfield; i++)
		free((*field)[i]);
	free(*field);
	*field = vec;
	*nfield = n;
	vec = NULL;
out:
	if (vec != NULL) {
		for (n = 0; n < i; n++)
			free(vec[n]);
		free(vec);
	}
	return rc;
}

/* The "fleet" section: parsed once, here, with the publisher's rules (lib/fleet_config.c; its messages name
 * the key: "fleet.url: ..."), so `config check` and a start-up report them and every user reads the
 * typed struct. */
static int config_fleet(const cJSON *v, const char *key, const char *base_dir, struct config *cfg,
			struct config_report *r)
{
	struct fleet_config *fc = NULL;
	struct ds_err fe = { 0 };
	int rc;

	if (!cJSON_IsObject(v)) {
		config_problem(r, "'%s' must be an object, not %s", key, config_type_name(v));
		return DS_OK;
	}
	rc = fleet_config_parse(v, base_dir, &fc, &fe);
	if (rc == DS_ENOMEM)
		return DS_ENOMEM;
	if (rc != DS_OK) {
		config_problem(r, "%s", fe.msg);
		return DS_OK;
	}
	fleet_config_free(cfg->fleet);
	cfg->fleet = fc;
	return DS_OK;
}

/* One key of the table: its value checked against its type and range and stored into cfg. */
static int config_key_read(const struct config_key *k, const char *key, const cJSON *v, const char *base_dir,
			   struct config *cfg, struct config_report *r)
{
	char **sp = (char **)((char *)cfg + k->off);
	struct mail_config *mc = NULL;
	struct ds_err me = { 0 };
	uint64_t u;
	char *s;
	enum log_level lvl;
	int rc;

	switch (k->type) {
	case CT_PATH:
	case CT_STR:
		if (!cJSON_IsString(v)) {
			config_problem(r, "'%s' must be a string, not %s", key, config_type_name(v));
			return DS_OK;
		}
		if (config_has_ctl(v->valuestring)) {
			config_problem(r, "'%s' contains control characters", key);
			return DS_OK;
		}
		if (v->valuestring[0] == '\0' && strcmp(k->name, "engine") != 0 && strcmp(k->name, "dump_folder") != 0) {
			config_problem(r, "'%s' must not be empty", key);
			return DS_OK;
		}
		s = k->type == CT_PATH ? config_path(base_dir, v->valuestring) : strdup(v->valuestring);
		if (s == NULL)
			return DS_ENOMEM;
		free(*sp);
		*sp = s;
		return DS_OK;
	case CT_U32:
	case CT_U64:
		if (!cJSON_IsNumber(v)) {
			config_problem(r, "'%s' must be a number, not %s", key, config_type_name(v));
			return DS_OK;
		}
		if (!config_value_uint(v, k->min, k->max, &u)) {
			config_problem(r, "'%s' must be a whole number from %llu to %llu (got %g)", key,
				       (unsigned long long)k->min, (unsigned long long)k->max, v->valuedouble);
			return DS_OK;
		}
		if (k->type == CT_U32)
			*(uint32_t *)((char *)cfg + k->off) = (uint32_t)u;
		else
			*(uint64_t *)((char *)cfg + k->off) = u;
		return DS_OK;
	case CT_LEVEL:
		if (!cJSON_IsString(v) || log_level_parse(v->valuestring, &lvl) != DS_OK) {
			config_problem(r, "'%s' must be one of \"error\", \"warn\", \"info\", \"debug\"", key);
			return DS_OK;
		}
		*(enum log_level *)((char *)cfg + k->off) = lvl;
		return DS_OK;
	case CT_BOOL:
		if (!cJSON_IsBool(v)) {
			config_problem(r, "'%s' must be true or false, not %s", key, config_type_name(v));
			return DS_OK;
		}
		*(int *)((char *)cfg + k->off) = cJSON_IsTrue(v);
		return DS_OK;
	case CT_PATHLIST:
	case CT_UNITLIST:
	case CT_APPLIST:
		return config_list(k, key, v, base_dir, cfg, r);
	case CT_PASS:
		if (!cJSON_IsObject(v)) {
			config_problem(r, "'%s' must be an object, not %s", key, config_type_name(v));
			return DS_OK;
		}
		/* parsed once, here, with the mail rules (their messages name the key: "mail.port: ..."), so
		 * `config check` and a start-up report them and every user reads the typed struct */
		rc = mail_config_parse(v, base_dir, &mc, &me);
		if (rc == DS_ENOMEM)
			return DS_ENOMEM;
		if (rc != DS_OK) {
			config_problem(r, "%s", me.msg);
			return DS_OK;
		}
		mail_config_free(cfg->mail);
		cfg->mail = mc;
		return DS_OK;
	case CT_FLEET:
		return config_fleet(v, key, base_dir, cfg, r);
	case CT_SECTION:
		break;
	}
	return DS_OK;
}

/* Walks one object (the top level or a section): every member must be a known key of that section. */
static int config_object(const char *section, const cJSON *obj, const char *base_dir, struct config *cfg,
			 struct config_report *r)
{
	const struct config_key *k;
	const cJSON *it, *dup;
	char key[160];
	size_t i;
	int rc = DS_OK;

	cJSON_ArrayForEach(it, obj) {
		if (it->string == NULL)
			continue;
		if (section[0] != '\0')
			snprintf(key, sizeof(key), "%s.%s", section, it->string);
		else
			snprintf(key, sizeof(key), "%s", it->string);
		for (dup = obj->child; dup != it; dup = dup->next)
			if (dup->string != NULL && strcmp(dup->string, it->string) == 0)
				break;
		if (dup != it) {
			config_problem(r, "key '%s' appears twice", key);
			continue;
		}
		k = NULL;
		for (i = 0; i < DS_ARRAY_LEN(config_keys); i++)
			if (strcmp(config_keys[i].section, section) == 0 && strcmp(config_keys[i].name, it->string) == 0)
				k = &config_keys[i];
		if (k == NULL) {
			config_problem(r, "unknown key '%s'", key);
			continue;
		}
		if (k->type == CT_SECTION) {
			if (!cJSON_IsObject(it))
				config_problem(r, "'%s' must be an object, not %s", key, config_type_name(it));
			else
				rc = config_object(k->name, it, base_dir, cfg, r);
		} else {
			rc = config_key_read(k, key, it, base_dir, cfg, r);
		}
		if (rc != DS_OK)
			break;
	}
	return rc;
}

/* Derived defaults: what depends on data_dir when the file did not say. */
static int config_finish(struct config *cfg)
{
	if (cfg->ndump_dirs == 0) {
		cfg->dump_dirs = calloc(1, sizeof(*cfg->dump_dirs));
		if (cfg->dump_dirs == NULL)
			return DS_ENOMEM;
		cfg->dump_dirs[0] = config_join(cfg->data_dir, "dumps");
		if (cfg->dump_dirs[0] == NULL)
			return DS_ENOMEM;
		cfg->ndump_dirs = 1;
	}
	if (cfg->db == NULL) {
		cfg->db = config_join(cfg->data_dir, "dumpscout.db");
		if (cfg->db == NULL)
			return DS_ENOMEM;
	}
	return DS_OK;
}

/* ---- where dumps may be collected (issue 12 item 2) ----
 * Retention deletes files in the dump folders, so a dump folder must hold nothing else: not `/`, not a
 * system folder, not the data folder or a folder above it (the database, its -wal/-shm, the logs), not
 * the folder of the database or of this config file, and no folder twice (nor one inside another).
 * The checks are lexical, on absolute paths; `..` and `.` are resolved and separators collapsed first. */

/* Normalises an absolute path into out: one separator ('/', or the path's own on Windows), no "." or
 * "..", no trailing separator except for a root. Returns 0 if it does not fit. */
static int config_norm(const char *path, char *out, size_t n)
{
	size_t o = 0, root, seg;
	const char *p = path;

	if (n < 4)
		return 0;
	/* the root: "/", "C:/" (drive letters), or "//server/share" stays as given up to the first segment */
	if (((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')) && p[1] == ':') {
		out[o++] = (char)(*p >= 'a' ? *p - 32 : *p);
		out[o++] = ':';
		p += 2;
	}
	out[o++] = '/';
	root = o;
	while (*p != '\0') {
		while (plat_is_path_sep((unsigned char)*p))
			p++;
		if (*p == '\0')
			break;
		for (seg = 0; p[seg] != '\0' && !plat_is_path_sep((unsigned char)p[seg]); seg++)
			;
		if (seg == 1 && p[0] == '.') {
			/* nothing */
		} else if (seg == 2 && p[0] == '.' && p[1] == '.') {
			while (o > root && out[o - 1] != '/')
				o--;
			if (o > root)
				o--;
		} else {
			if (o + (o > root) + seg + 1 > n)
				return 0;
			if (o > root)
				out[o++] = '/';
			memcpy(out + o, p, seg);
			o += seg;
		}
		p += seg;
	}
	out[o] = '\0';
	return 1;
}

/* 1 if a and b are the same path (normalised); Windows drive paths compare without case. */
static int config_path_eq(const char *a, const char *b, size_t n)
{
	size_t i;
	int fold = a[0] != '/' && a[1] == ':';

	for (i = 0; i < n; i++) {
		char x = a[i], y = b[i];

		if (fold) {
			x = (char)(x >= 'A' && x <= 'Z' ? x + 32 : x);
			y = (char)(y >= 'A' && y <= 'Z' ? y + 32 : y);
		}
		if (x != y)
			return 0;
		if (x == '\0')
			return 1;
	}
	return 1;
}

/* 1 if `in` is `dir` or a path inside it (both normalised). */
static int config_path_within(const char *in, const char *dir)
{
	size_t n = strlen(dir);

	if (n > 0 && dir[n - 1] == '/')
		return strlen(in) >= n && config_path_eq(in, dir, n); /* a root holds everything on it */
	return strlen(in) >= n && config_path_eq(in, dir, n) && (in[n] == '\0' || in[n] == '/');
}

static int config_check_dump_dirs(const struct config *cfg, struct config_report *r)
{
	/* Exactly these: a dump folder inside them is fine (/var/lib/dumpscout/dumps). */
	static const char *const exact[] = { "/home", "/var", "/var/lib", "/var/log", "/var/tmp", "/var/spool",
		"/var/cache", "/tmp", "/root", "/run", "/opt", "/srv", "/mnt", "/media",
		"C:/Users", "C:/ProgramData", "C:/Program Files", "C:/Program Files (x86)" };
	/* These and everything inside them. */
	static const char *const tree[] = { "/etc", "/proc", "/sys", "/dev", "/boot", "/usr", "/bin", "/sbin",
		"/lib", "/lib32", "/lib64", "/libx32", "C:/Windows" };
	char d[4096], o[4096], data[4096], *slash;
	const char *what;
	size_t i, j, k;
	int bad;

	for (i = 0; i < cfg->ndump_dirs; i++) {
		if (!config_norm(cfg->dump_dirs[i], d, sizeof(d)))
			continue; /* not absolute or too long: reported where it was read */
		bad = strcmp(d, "/") == 0 || (strlen(d) == 3 && d[1] == ':');
		for (k = 0; !bad && k < DS_ARRAY_LEN(exact); k++)
			bad = config_path_eq(d, exact[k], sizeof(d));
		for (k = 0; !bad && k < DS_ARRAY_LEN(tree); k++)
			bad = config_path_within(d, tree[k]);
		if (bad) {
			config_problem(r, "dump_dirs: '%s' is a system folder; retention deletes dumps in the dump "
					  "folders, so give each its own folder (the default is DATA_DIR/dumps)",
				       cfg->dump_dirs[i]);
			continue;
		}
		/* Nothing the service keeps may be inside a dump folder. */
		for (k = 0; k < 3; k++) {
			const char *src = k == 0 ? cfg->data_dir : k == 1 ? cfg->db : cfg->file;

			what = k == 0 ? "the data folder" : k == 1 ? "the database" : "the config file";
			if (src == NULL || !config_norm(src, data, sizeof(data)))
				continue;
			if (k > 0) { /* the folder holding the file */
				slash = strrchr(data, '/');
				if (slash != NULL && slash > data && slash[-1] != ':')
					*slash = '\0';
				else if (slash != NULL)
					slash[1] = '\0';
			}
			if (config_path_within(data, d)) {
				config_problem(r, "dump_dirs: '%s' holds %s (%s); retention deletes dumps in the dump "
						  "folders, so they must hold nothing else (the default is DATA_DIR/dumps)",
					       cfg->dump_dirs[i], what, src);
				break;
			}
		}
		for (j = 0; j < i; j++) {
			if (!config_norm(cfg->dump_dirs[j], o, sizeof(o)))
				continue;
			if (config_path_within(d, o) || config_path_within(o, d)) {
				config_problem(r, "dump_dirs: '%s' and '%s' are %s", cfg->dump_dirs[j], cfg->dump_dirs[i],
					       config_path_eq(d, o, sizeof(d)) ? "the same folder" : "one inside the other");
				break;
			}
		}
	}
	return DS_OK;
}

static int config_parse(const char *text, size_t len, const char *file, struct config *cfg,
			struct config_report *r)
{
	cJSON *root = NULL;
	const char *end = NULL;
	char *base_dir = NULL;
	size_t line = 1;
	const char *p;
	int rc;

	rc = config_defaults(cfg);
	if (rc != DS_OK)
		goto out;
	if (file != NULL) {
		cfg->file = strdup(file);
		/* NULL: no folder part, relative paths stay relative to the current folder, as given */
		base_dir = config_file_dir(file);
		for (p = file; base_dir == NULL && *p != '\0' && !plat_is_path_sep((unsigned char)*p); p++)
			;
		if (cfg->file == NULL || (base_dir == NULL && *p != '\0')) {
			rc = DS_ENOMEM;
			goto out;
		}
	}
	if (text == NULL)
		goto finish;
	root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (root == NULL) {
		for (p = text; end != NULL && p < end && p < text + len; p++)
			if (*p == '\n')
				line++;
		if (r->e != NULL)
			ds_err_setn(r->e, DS_EPARSE, "%s:%zu: not valid JSON", r->file, line);
		if (r->out != NULL)
			fprintf(r->out, "%s:%zu: not valid JSON\n", r->file, line);
		r->count++;
		rc = DS_EPARSE;
		goto out;
	}
	if (!cJSON_IsObject(root)) {
		config_problem(r, "the top level must be an object, not %s", config_type_name(root));
		rc = DS_EINVAL;
		goto out;
	}
	rc = config_object("", root, base_dir, cfg, r);
	if (rc != DS_OK)
		goto out;
finish:
	rc = config_finish(cfg);
	if (rc == DS_OK)
		rc = config_check_dump_dirs(cfg, r);
	if (rc == DS_OK && r->count > 0)
		rc = DS_EINVAL;
out:
	if (rc == DS_ENOMEM && r->e != NULL)
		ds_err_setn(r->e, DS_ENOMEM, "%s: out of memory", r->file);
	cJSON_Delete(root);
	free(base_dir);
	return rc;
}

int config_load_text(const char *text, size_t len, const char *file, struct config *cfg, struct ds_err *e)
{
	struct config_report r = { file != NULL ? file : "(config)", e, NULL, 0 };

	return config_parse(text, len, file, cfg, &r);
}

static int config_read(const char *path, char **text, size_t *len, struct ds_err *e)
{
	int rc = plat_read_file(path, CONFIG_MAX_FILE, text, len);

	if (rc == DS_ETOOBIG)
		ds_err_setn(e, rc, "%s: larger than %d bytes", path, CONFIG_MAX_FILE);
	else if (rc != DS_OK)
		ds_err_setn(e, rc, "%s: %s", path, ds_strerror(rc));
	return rc;
}

int config_load(const char *path, struct config *cfg, struct ds_err *e)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	if (path == NULL)
		return config_load_text(NULL, 0, NULL, cfg, e);
	memset(cfg, 0, sizeof(*cfg));
	rc = config_read(path, &text, &len, e);
	if (rc != DS_OK)
		goto out;
	rc = config_load_text(text, len, path, cfg, e);
out:
	free(text);
	return rc;
}

int config_check(const char *path, FILE *out)
{
	struct config cfg;
	struct config_report r = { path, NULL, out, 0 };
	struct ds_err e = { 0 };
	char *text = NULL;
	size_t len = 0;
	int rc, code;

	memset(&cfg, 0, sizeof(cfg));
	rc = config_read(path, &text, &len, &e);
	if (rc != DS_OK) {
		fprintf(out, "%s\n", e.msg);
		code = DS_EXIT_FAIL;
		goto out;
	}
	rc = config_parse(text, len, path, &cfg, &r);
	if (rc == DS_OK && fleet_config_check_share(cfg.fleet, &e) != DS_OK)
		config_problem(&r, "%s", e.msg);
	if (rc == DS_ENOMEM) {
		fprintf(out, "%s: out of memory\n", path);
		code = DS_EXIT_FAIL;
	} else if (r.count > 0) {
		code = DS_EXIT_BADINPUT;
	} else {
		fprintf(out, "%s: ok\n", path);
		code = DS_EXIT_OK;
	}
out:
	config_free(&cfg);
	free(text);
	return code;
}

static cJSON *config_json_strv(char **v, size_t n)
{
	cJSON *a = cJSON_CreateArray();
	size_t i;

	for (i = 0; a != NULL && i < n; i++) {
		if (!cJSON_AddItemToArray(a, cJSON_CreateString(v[i]))) {
			cJSON_Delete(a);
			return NULL;
		}
	}
	return a;
}

char *config_to_json(const struct config *cfg, int pretty)
{
	cJSON *root = cJSON_CreateObject(), *o;
	char *s = NULL;

	if (root == NULL)
		return NULL;
	if (cfg->file != NULL)
		cJSON_AddStringToObject(root, "file", cfg->file);
	cJSON_AddStringToObject(root, "data_dir", cfg->data_dir);
	cJSON_AddItemToObject(root, "dump_dirs", config_json_strv(cfg->dump_dirs, cfg->ndump_dirs));
	cJSON_AddStringToObject(root, "db", cfg->db);
	cJSON_AddStringToObject(root, "log_level", log_level_name(cfg->log_level));
	cJSON_AddNumberToObject(root, "heartbeat_s", cfg->heartbeat_s);
	o = cJSON_AddObjectToObject(root, "watch");
	cJSON_AddNumberToObject(o, "stability_ms", cfg->stability_ms);
	cJSON_AddNumberToObject(o, "rescan_s", cfg->rescan_s);
	o = cJSON_AddObjectToObject(root, "analysis");
	cJSON_AddNumberToObject(o, "concurrency", cfg->concurrency);
	cJSON_AddStringToObject(o, "engine", cfg->engine);
	cJSON_AddNumberToObject(o, "command_timeout_s", cfg->command_timeout_s);
	cJSON_AddNumberToObject(o, "dump_timeout_s", cfg->dump_timeout_s);
	cJSON_AddNumberToObject(o, "output_cap_bytes", (double)cfg->output_cap_bytes);
	cJSON_AddNumberToObject(o, "max_roots", cfg->max_roots);
	cJSON_AddItemToObject(o, "dac_dirs", config_json_strv(cfg->dac_dirs, cfg->ndac_dirs));
	o = cJSON_AddObjectToObject(root, "retries");
	cJSON_AddNumberToObject(o, "max_attempts", cfg->max_attempts);
	cJSON_AddNumberToObject(o, "backoff_base_s", cfg->backoff_base_s);
	o = cJSON_AddObjectToObject(root, "retention");
	cJSON_AddNumberToObject(o, "max_count", (double)cfg->max_count);
	cJSON_AddNumberToObject(o, "max_bytes", (double)cfg->max_bytes);
	cJSON_AddNumberToObject(o, "max_age_days", cfg->max_age_days);
	cJSON_AddNumberToObject(o, "interval_s", cfg->retention_interval_s);
	o = cJSON_AddObjectToObject(root, "collection");
	cJSON_AddItemToObject(o, "units", config_json_strv(cfg->units, cfg->nunits));
	o = cJSON_AddObjectToObject(root, "wer");
	cJSON_AddBoolToObject(o, "apply", cfg->wer_apply);
	cJSON_AddStringToObject(o, "dump_folder", cfg->wer_dump_folder);
	cJSON_AddNumberToObject(o, "dump_count", cfg->wer_dump_count);
	cJSON_AddNumberToObject(o, "dump_type", cfg->wer_dump_type);
	cJSON_AddNumberToObject(o, "custom_dump_flags", cfg->wer_custom_dump_flags);
	cJSON_AddItemToObject(o, "applications", config_json_strv(cfg->wer_apps, cfg->nwer_apps));
	/* The mail section may hold a password: report only whether it is there. */
	cJSON_AddBoolToObject(root, "mail_configured", cfg->mail != NULL);
	cJSON_AddBoolToObject(root, "fleet_configured", cfg->fleet != NULL);
	s = pretty ? cJSON_Print(root) : cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return s;
}
