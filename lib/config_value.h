/* config_value.h - the typed readers that every part of the configuration shares: config.c's key table
 * and the section parsers (lib/mail.c's "mail", lib/fleet_config.c's "fleet") read their numbers,
 * strings, booleans, paths and passwords through these, so one rule holds for each type. A leaf:
 * it knows no section and calls none of their parsers. Errors name the key as "SECTION.KEY: ...". */
#ifndef DS_LIB_CONFIG_VALUE_H
#define DS_LIB_CONFIG_VALUE_H

#include <stddef.h>
#include <stdint.h>

#include "core/ds.h"

struct cJSON;

/* The one rule for integers in the config, every section: v must be a JSON number holding a whole value
 * from min to max (no fraction, no exponent that leaves one, nothing after the digits: cJSON's number
 * parser stops at the first character that is not part of the number, and the loader rejects what
 * follows). Returns 1 and sets *out, or 0 (v missing, not a number, fractional or out of range). Pure. */
int config_value_uint(const struct cJSON *v, uint64_t min, uint64_t max, uint64_t *out);

/* A section: v must be a JSON object whose keys are all among keys[0..nkeys). DS_OK, or DS_EINVAL with
 * e "NAME: must be an object" or "NAME: unknown key 'KEY'" (the first unknown one, cut to 64 bytes). Pure. */
int config_value_section(const struct cJSON *v, const char *name, const char *const *keys, size_t nkeys,
			 struct ds_err *e);

/* The key `key` of the object `section` (named `name` in messages), when present, into *out; absent
 * leaves *out as it is (the caller's default). DS_OK, or DS_EINVAL with e naming the key. Pure. */
int config_value_key_uint(const struct cJSON *section, const char *name, const char *key, uint64_t min,
			  uint64_t max, uint64_t *out, struct ds_err *e);
/* A string of at most max bytes (at least one unless allow_empty) without control characters (CR/LF in
 * a value could add SMTP commands, mail headers or connection options). *out is malloc'd (caller
 * frees) when the key is present; absent leaves *out as it is. DS_EINVAL, DS_ENOMEM. */
int config_value_key_str(const struct cJSON *section, const char *name, const char *key, size_t max,
			 int allow_empty, char **out, struct ds_err *e);
/* true or false into *out (1 or 0); absent leaves *out as it is. DS_EINVAL. Pure. */
int config_value_key_bool(const struct cJSON *section, const char *name, const char *key, int *out,
			  struct ds_err *e);

/* A path from the config made absolute: *p, when relative, is replaced by base_dir/ *p (a new malloc'd
 * string; the old one is freed). NULL, absolute paths, and a NULL or empty base_dir (the current folder)
 * leave *p alone. DS_ENOMEM. */
int config_value_path(char **p, const char *base_dir);

/* A password file's rule: path must exist and must not be readable by group or others (mode & 044).
 * DS_OK, or the error (DS_ENOENT, DS_EPERM, ...) with e naming "SECTION.KEY", the file, its mode and
 * the fix (chmod 600). Reads only the file's mode. */
int config_value_secret_file(const char *name, const char *key, const char *path, struct ds_err *e);
/* A section's password: from the environment variable env when env is set (not NULL), else from the
 * file `file` (config_value_secret_file's rule first; at most max bytes; trailing line breaks dropped),
 * else none (*pw NULL). *pw is malloc'd: free it with config_value_secret_free, which wipes it first.
 * DS_ENOENT (the variable is not set), the file's errors, DS_ENOMEM; e names "SECTION.password_env" or
 * "SECTION.password_file" and never holds the password. Thread-safe if nothing changes the environment. */
int config_value_secret(const char *name, const char *file, const char *env, size_t max, char **pw,
			struct ds_err *e);
/* Overwrites n bytes at p with zeros, in a way the compiler does not drop as a dead store. */
void config_value_wipe(void *p, size_t n);
/* Wipes and frees a password from config_value_secret. NULL-safe. */
void config_value_secret_free(char *pw);

#endif
