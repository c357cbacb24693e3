/* fleet_config.c - the "fleet" section of the service's config (see fleet_config.h): its keys, defaults and
 * checks, and the password from a file or the environment with the same rules as mail's SMTP password
 * (a file group or others can read is refused; the text is wiped after use). config.c validates the
 * section with it once, at load; the publisher and the CLI's --fleet read the typed struct. No network, no database. */
#include "fleet_config.h"
#include "config_value.h"

#include "core/plat.h"
#include "core/store_fleet.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const fleet_config_keys[] = {
	"url", "password_file", "password_env", "hostname", "interval_s", "batch_size", "batch_bytes", "max_backlog",
	"connect_timeout_s", "digest", "dump_share", "dump_share_days",
};

void fleet_config_free(struct fleet_config *c)
{
	if (c == NULL)
		return;
	free(c->url);
	free(c->password_file);
	free(c->password_env);
	free(c->hostname);
	free(c->dump_share);
	free(c);
}

int fleet_config_parse(const cJSON *section, const char *base_dir, struct fleet_config **out, struct ds_err *e)
{
	struct fleet_config *c = NULL;
	uint64_t v;
	int rc = DS_OK;

	*out = NULL;
	rc = config_value_section(section, "fleet", fleet_config_keys, DS_ARRAY_LEN(fleet_config_keys), e);
	if (rc != DS_OK)
		goto out;
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		rc = DS_ENOMEM;
		goto out;
	}
	c->interval_s = 10;
	c->batch_size = 200;
	c->batch_bytes = 4u * 1024 * 1024;
	c->max_backlog = STORE_FLEET_DEFAULT_BACKLOG;
	c->connect_timeout_s = 10;
	c->dump_share_days = 30;
	if ((rc = config_value_key_str(section, "fleet", "url", 4096, 0, &c->url, e)) != DS_OK ||
	    (rc = config_value_key_str(section, "fleet", "password_file", 4096, 0, &c->password_file, e)) != DS_OK ||
	    (rc = config_value_key_str(section, "fleet", "password_env", 128, 0, &c->password_env, e)) != DS_OK ||
	    (rc = config_value_key_str(section, "fleet", "hostname", 255, 0, &c->hostname, e)) != DS_OK ||
	    (rc = config_value_key_str(section, "fleet", "dump_share", 1024, 0, &c->dump_share, e)) != DS_OK)
		goto out;
	if (c->dump_share != NULL && !plat_path_is_absolute(c->dump_share)) {
		rc = ds_err_setn(e, DS_EINVAL, "fleet.dump_share: must be an absolute path (a mounted folder, or a "
					       "UNC path \\\\server\\share on Windows)");
		goto out;
	}
	v = c->dump_share_days;
	if ((rc = config_value_key_uint(section, "fleet", "dump_share_days", 0, 36500, &v, e)) != DS_OK)
		goto out;
	c->dump_share_days = (uint32_t)v;
	v = c->interval_s;
	if ((rc = config_value_key_uint(section, "fleet", "interval_s", 1, 3600, &v, e)) != DS_OK)
		goto out;
	c->interval_s = (uint32_t)v;
	v = c->batch_size;
	if ((rc = config_value_key_uint(section, "fleet", "batch_size", 1, 10000, &v, e)) != DS_OK)
		goto out;
	c->batch_size = (uint32_t)v;
	if ((rc = config_value_key_uint(section, "fleet", "batch_bytes", 65536, (uint64_t)256 * 1024 * 1024,
					&c->batch_bytes, e)) != DS_OK ||
	    (rc = config_value_key_uint(section, "fleet", "max_backlog", 10, 100000000, &c->max_backlog, e)) != DS_OK)
		goto out;
	v = c->connect_timeout_s;
	if ((rc = config_value_key_uint(section, "fleet", "connect_timeout_s", 1, 600, &v, e)) != DS_OK)
		goto out;
	c->connect_timeout_s = (uint32_t)v;
	if ((rc = config_value_key_bool(section, "fleet", "digest", &c->digest, e)) != DS_OK)
		goto out;
	if (c->url == NULL) {
		rc = ds_err_setn(e, DS_EINVAL, "fleet.url: required: a PostgreSQL connection string, e.g. "
					       "\"host=db.example.org dbname=dumpscout user=agent sslmode=verify-full\"");
		goto out;
	}
	if (c->password_file != NULL && c->password_env != NULL) {
		rc = ds_err_setn(e, DS_EINVAL, "fleet: give at most one of fleet.password_file or fleet.password_env");
		goto out;
	}
	if ((rc = config_value_path(&c->password_file, base_dir)) != DS_OK)
		goto out;
	if (c->password_file != NULL &&
	    (rc = config_value_secret_file("fleet", "password_file", c->password_file, e)) != DS_OK)
		goto out;
	*out = c;
	c = NULL;
out:
	if (rc == DS_ENOMEM)
		ds_err_setn(e, DS_ENOMEM, "out of memory reading the fleet section");
	fleet_config_free(c);
	return rc;
}

int fleet_config_check_share(const struct fleet_config *c, struct ds_err *e)
{
	struct plat_stat st;
	int rc;

	if (c == NULL || c->dump_share == NULL)
		return DS_OK;
	rc = plat_lstat(c->dump_share, &st);
	if (rc != DS_OK)
		return ds_err_setn(e, rc, "fleet.dump_share: %s: %s", c->dump_share, ds_strerror(rc));
	if (!st.is_dir && !st.is_symlink) /* a link to the share is the administrator's choice */
		return ds_err_setn(e, DS_EINVAL, "fleet.dump_share: %s is not a folder", c->dump_share);
	return DS_OK;
}

void fleet_config_password_free(char *pw)
{
	config_value_secret_free(pw);
}

int fleet_config_password(const struct fleet_config *c, char **pw, struct ds_err *e)
{
	return config_value_secret("fleet", c->password_file, c->password_env, FLEET_PASSWORD_MAX, pw, e);
}

int fleet_config_digest(const struct fleet_config *c)
{
	return c != NULL && c->digest;
}
